#!/usr/bin/env bash
# the 8B extra-real loop was stopped for time after its first type; record that Q8_0 file by hand
ROOT=/work/llamacpp
while kill -0 7813 2>/dev/null; do sleep 5; done
OUT=$ROOT/models/q/llama-3.1-8b-shape-Q8_0-noimatrix.gguf
LOG=$ROOT/results/logs/quant/llama-3.1-8b-shape__Q8_0__noimatrix.log
if grep -q "quant size" $LOG; then
  /work/main/.venv/bin/python $ROOT/scripts/record_gguf.py file llama-3.1-8b-shape Q8_0 noimatrix $OUT $LOG NA
fi
rm -f $OUT
