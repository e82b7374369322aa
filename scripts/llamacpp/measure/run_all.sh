#!/usr/bin/env bash
# Full re-run, in the order used (see results/README.md). Takes > 1.5 h on 2 cores.
set -e
ROOT=/work/llamacpp; PY=/work/main/.venv/bin/python
cd $ROOT
cmake -S llama_cpp_python-0.3.36/vendor/llama.cpp -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF
ninja -C build -j2 llama-quantize llama-imatrix llama-completion llama-simple
mkdir -p models/q results/logs data/imatrix
for S in llama-3.2-1b-shape llama-3.1-8b-shape qwen2.5-7b-shape; do
  [ -f models/$S-F16.gguf ] || $PY scripts/make_random_gguf.py $S models/$S-F16.gguf
done
head -c 6000 llama_cpp_python-0.3.36/vendor/llama.cpp/README.md > data/imatrix_text.txt
build/bin/llama-imatrix -m models/llama-3.2-1b-shape-F16.gguf -f data/imatrix_text.txt -c 128 --chunks 4 -t 2 \
      -o data/imatrix/llama-3.2-1b-shape.imatrix.gguf > results/logs/imatrix_llama-3.2-1b-shape.log 2>&1
# metadata sizes of the big F16 inputs (== metadata size of their no-imatrix quantised outputs)
$PY - <<'PYEOF'
import sys; sys.path.insert(0,'llama_cpp_python-0.3.36/vendor/llama.cpp/gguf-py')
import gguf, os
os.makedirs('results/meta_bytes', exist_ok=True)
for s in ['llama-3.1-8b-shape','qwen2.5-7b-shape']:
    open(f'results/meta_bytes/{s}__noimatrix.txt','w').write(str(gguf.GGUFReader(f'models/{s}-F16.gguf').data_offset))
PYEOF
ALL="Q4_K_M Q8_0 Q6_K Q5_K_M Q4_K_S Q3_K_M Q2_K IQ4_XS Q4_0"
KEEP=Q4_K_M scripts/run_quant.sh llama-3.2-1b-shape models/llama-3.2-1b-shape-F16.gguf none real $ALL
scripts/run_dry_big.sh llama-3.1-8b-shape qwen2.5-7b-shape
scripts/run_all_runtime_1b.sh
scripts/run_all_quant_1b.sh
scripts/run_all_8b.sh        # (its trailing list of extra real types was stopped after Q8_0 for time)
scripts/run_qwen.sh
scripts/finalize.sh
