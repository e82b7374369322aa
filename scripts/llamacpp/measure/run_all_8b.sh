#!/usr/bin/env bash
# Shape (b) llama-3.1-8b-shape: real Q4_K_M, runtime buffers, imatrix, imatrix dry-runs, more real types.
ROOT=/work/llamacpp
S=llama-3.1-8b-shape
IN=$ROOT/models/$S-F16.gguf
M=$ROOT/models/q/$S-Q4_K_M-noimatrix.gguf
R=$ROOT/scripts/run_runtime.sh
# (in the original session the first Q4_K_M run was started separately and waited for here)
[ -f $M ] || KEEP="Q4_K_M" $ROOT/scripts/run_quant.sh $S $IN none real Q4_K_M
$R $S $M "512 2048 8192 32768" "default" "f16:f16"
$R $S $M "512 2048 8192 32768" "on off" "f16:f16 q8_0:q8_0 q4_0:q4_0 q8_0:f16"
$R $S $M "512 2048 8192 32768" "off" "f16:f16" -b 512 -ub 512
# f16 KV at 131072 = 16 GiB: skipped (24 GiB machine, KV buffer is memset at creation)
$R $S $M "131072" "on" "q8_0:q8_0 q4_0:q4_0"
$ROOT/build/bin/llama-imatrix -m $IN -f $ROOT/data/imatrix_text.txt -c 128 --chunks 1 -t 2 -o $ROOT/data/imatrix/$S.imatrix.gguf > $ROOT/results/logs/imatrix_$S.log 2>&1
$ROOT/scripts/run_quant.sh $S $IN $ROOT/data/imatrix/$S.imatrix.gguf real Q8_0
IMX=1 $ROOT/scripts/run_dry_big.sh $S
$ROOT/scripts/run_quant.sh $S $IN none real Q8_0 Q6_K Q5_K_M Q4_K_S Q3_K_M Q2_K IQ4_XS Q4_0
