#!/usr/bin/env bash
# Load a model with the CPU backend via llama-completion and record the buffer sizes llama.cpp logs.
# usage: run_runtime.sh SHAPE MODEL.gguf "CTX..." "FA..." "CACHE..." [extra args for llama-completion]
#   CACHE items are K:V pairs, e.g. f16:f16 q8_0:q8_0 q4_0:q4_0 ; FA items are on|off|auto|default
#   ("default" = do not pass -fa at all; also use "-" for n_batch to leave default)
set -u
ROOT=/work/llamacpp
SHAPE=$1; MODEL=$2; CTXS=$3; FAS=$4; CACHES=$5; shift 5
EXTRA="$*"
BIN=$ROOT/build/bin/llama-completion
PY=/work/main/.venv/bin/python
mkdir -p $ROOT/results/logs/runtime
for C in $CTXS; do for FA in $FAS; do for KV in $CACHES; do
  K=${KV%%:*}; V=${KV##*:}
  TAG=$(echo "$EXTRA" | tr -c 'A-Za-z0-9_\n' '_' | tr -d '\n')
  LOG=$ROOT/results/logs/runtime/${SHAPE}__$(basename $MODEL .gguf)__c${C}__fa-${FA}__k-${K}__v-${V}${TAG:+__$TAG}.log
  FAARG=""; [ "$FA" != default ] && FAARG="-fa $FA"
  CMD="$BIN -m $MODEL -c $C $FAARG -ctk $K -ctv $V -t 2 -fit off --no-warmup -no-cnv -p Hello -n 1 --temp 0 --seed 1 -v $EXTRA"
  echo "+ $CMD" > $LOG
  S=$(date +%s.%N)
  timeout 900 $CMD >> $LOG 2>&1 < /dev/null; RC=$?
  E=$(echo "$(date +%s.%N) - $S" | bc)
  $PY $ROOT/scripts/parse_runtime.py "$SHAPE" "$MODEL" "$C" "$FA" "$K" "$V" "$RC" "$LOG" "$EXTRA"
  echo "$SHAPE c=$C fa=$FA $K/$V rc=$RC ${E}s"
done; done; done
