#!/usr/bin/env bash
# time box: stop the 1B imatrix real runs after IQ2_XXS (remaining types are covered by dry runs)
cd /work/llamacpp
until grep -q "IQ2_XXS imatrix rc=" results/logs/run_all_quant_1b_part2.out; do sleep 3; done
RQ=$(pgrep -f "run_quant.sh llama-3.2-1b-shape" | head -1)
kill 25326 $RQ 2>/dev/null
sleep 1
for p in $(pgrep -f "llama-quantize.*llama-3.2-1b-shape-F16"); do kill $p; done
sleep 1
rm -f models/q/llama-3.2-1b-shape-IQ3_XXS-imatrix.gguf
echo stopped
