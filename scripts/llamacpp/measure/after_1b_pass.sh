#!/usr/bin/env bash
# waits for the first (no-imatrix) real pass of shape (a) and then runs the rest of run_all_quant_1b.sh
while kill -0 11392 2>/dev/null; do sleep 10; done
SKIP1=1 /work/llamacpp/scripts/run_all_quant_1b.sh
