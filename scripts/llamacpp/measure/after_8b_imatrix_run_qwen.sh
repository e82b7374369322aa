#!/usr/bin/env bash
until grep -q "llama-3.1-8b-shape Q8_0 imatrix" /work/llamacpp/results/logs/run_all_8b.out; do sleep 10; done
/work/llamacpp/scripts/run_qwen.sh
