#!/usr/bin/env bash
ROOT=/work/llamacpp
M=$ROOT/models/q/llama-3.2-1b-shape-Q4_K_M-noimatrix.gguf
R=$ROOT/scripts/run_runtime.sh
S=llama-3.2-1b-shape
$R $S $M "512 2048 8192 32768 131072" "default" "f16:f16"
$R $S $M "512 2048 8192 32768 131072" "on off" "f16:f16 q8_0:q8_0 q4_0:q4_0 q8_0:f16"
# llama-cpp-python 0.3.36 Llama() defaults: n_batch=512, n_ubatch=512, flash_attn=False
$R $S $M "512 2048 8192 32768" "off" "f16:f16" -b 512 -ub 512
# larger micro-batch
$R $S $M "2048 8192" "on off" "f16:f16" -b 2048 -ub 2048
# weight type does not matter for these buffers? check with the F16 file
$R $S $ROOT/models/llama-3.2-1b-shape-F16.gguf "2048 8192" "on off" "f16:f16"
# FA auto + quantised V cache (auto-enables FA)
$R $S $M "8192" "default" "q8_0:q8_0 q4_0:q4_0"
