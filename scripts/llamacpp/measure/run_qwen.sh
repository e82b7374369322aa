#!/usr/bin/env bash
# Optional shape (c) qwen2.5-7b-shape: imatrix + dry runs with imatrix (+ real Q4_K_M and runtime if time allows)
ROOT=/work/llamacpp
S=qwen2.5-7b-shape
IN=$ROOT/models/$S-F16.gguf
$ROOT/build/bin/llama-imatrix -m $IN -f $ROOT/data/imatrix_text.txt -c 128 --chunks 1 -t 2 -o $ROOT/data/imatrix/$S.imatrix.gguf > $ROOT/results/logs/imatrix_$S.log 2>&1
$ROOT/scripts/run_quant.sh $S $IN $ROOT/data/imatrix/$S.imatrix.gguf real Q8_0
IMX=1 $ROOT/scripts/run_dry_big.sh $S
KEEP=Q4_K_M $ROOT/scripts/run_quant.sh $S $IN none real Q4_K_M
$ROOT/scripts/run_runtime.sh $S $ROOT/models/q/$S-Q4_K_M-noimatrix.gguf "512 2048 8192 32768" "on off" "f16:f16 q8_0:q8_0 q4_0:q4_0"
