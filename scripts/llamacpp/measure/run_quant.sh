#!/usr/bin/env bash
# Quantise one input GGUF to a list of llama-quantize types and record each output.
# usage: run_quant.sh SHAPE INPUT_F16.gguf IMATRIX(none|path) MODE(real|dry) TYPE [TYPE...]
# env KEEP="Q4_K_M ..." keeps those output files (others are deleted after recording).
set -u
ROOT=/work/llamacpp
SHAPE=$1; IN=$2; IMX=$3; MODE=$4; shift 4
BIN=$ROOT/build/bin/llama-quantize
PY=/work/main/.venv/bin/python
mkdir -p $ROOT/models/q $ROOT/results/logs/quant
if [ "$IMX" = none ]; then TAG=noimatrix; IMXARG=""; else TAG=imatrix; IMXARG="--imatrix $IMX"; fi
for T in "$@"; do
  OUT=$ROOT/models/q/$SHAPE-$T-$TAG.gguf
  if [ "$MODE" = dry ]; then
    LOG=$ROOT/results/logs/quant/${SHAPE}__${T}__${TAG}__dryrun.log
    S=$(date +%s.%N)
    echo "+ $BIN --dry-run $IMXARG $IN $T" > $LOG
    $BIN --dry-run $IMXARG $IN $T >> $LOG 2>&1; RC=$?
    E=$(echo "$(date +%s.%N) - $S" | bc)
    REF=-
    if [ $RC -eq 0 ]; then $PY $ROOT/scripts/record_gguf.py dry $SHAPE $T $TAG "$REF" $LOG $E
    else $PY $ROOT/scripts/record_gguf.py fail $SHAPE $T $TAG - $LOG $E; fi
    echo "$SHAPE $T $TAG dry rc=$RC ${E}s"
    continue
  fi
  LOG=$ROOT/results/logs/quant/${SHAPE}__${T}__${TAG}.log
  S=$(date +%s.%N)
  echo "+ $BIN $IMXARG $IN $OUT $T" > $LOG
  $BIN $IMXARG $IN $OUT $T >> $LOG 2>&1; RC=$?
  E=$(echo "$(date +%s.%N) - $S" | bc)
  if [ $RC -eq 0 ]; then
    $PY $ROOT/scripts/record_gguf.py file $SHAPE $T $TAG $OUT $LOG $E
  else
    $PY $ROOT/scripts/record_gguf.py fail $SHAPE $T $TAG - $LOG $E
  fi
  echo "$SHAPE $T $TAG rc=$RC ${E}s $(stat -c %s $OUT 2>/dev/null)"
  case " ${KEEP:-} " in *" $T "*) ;; *) rm -f $OUT ;; esac
done
