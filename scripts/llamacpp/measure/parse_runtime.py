#!/usr/bin/env python3
"""Parse one llama-completion -v log and append a row to results/runtime_buffers.csv.
All numbers are copied from the lines llama.cpp prints (MiB as printed, 2 decimals)."""
import csv, os, re, sys
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV = os.path.join(ROOT, "results", "runtime_buffers.csv")
HDR = ["shape", "model_file", "n_ctx_requested", "n_ctx", "flash_attn_requested", "flash_attn_param",
       "flash_attn_effective", "cache_type_k", "cache_type_v", "n_batch", "n_ubatch", "n_seq_max", "n_outputs_max",
       "kv_buffer_mib", "kv_k_mib", "kv_v_mib", "compute_buffer_mib", "output_buffer_mib",
       "model_mapped_buffer_mib", "model_repack_buffer_mib", "model_cpu_buffer_mib", "status", "extra_args",
       "log_file", "raw_log_lines"]
shape, model, c, fa, k, v, rc, log, extra = sys.argv[1:10]
txt = open(log, errors="replace").read()
def f(p, default=""):
    m = re.search(p, txt, re.M)
    return m.group(1) if m else default
keep = re.compile(r"buffer size|llama_context: (n_ctx|n_batch|n_ubatch|n_seq_max|flash_attn|n_outputs_max)\b|Flash Attention|"
                  r"llama_kv_cache: size|print_info: file (type|size)|error|failed|requires|not supported")
raw = [re.sub(r"^\d+\.\d+\.\d+\.\d+ [A-Z] ", "", l.strip()) for l in txt.splitlines()
       if keep.search(l) and " D " not in l[:16]]
kv = f(r"CPU KV buffer size =\s*([\d.]+) MiB")
m = re.search(r"llama_kv_cache: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,\s*(\d+)/(\d+) seqs\), K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB", txt)
kk, vv = (m.group(7), m.group(9)) if m else ("", "")
comp = re.findall(r"sched_reserve:\s+CPU compute buffer size =\s*([\d.]+) MiB", txt)
fa_eff = f(r"Flash Attention (enabled|disabled)") or f(r"llama_context: flash_attn\s+=\s*(enabled|disabled)")
status = "ok" if rc == "0" and kv and comp else f"failed(rc={rc})"
row = [shape, os.path.basename(model), c, f(r"llama_context: n_ctx\s+=\s*(\d+)"),
       fa, f(r"llama_context: flash_attn\s+=\s*(\S+)"), fa_eff, k, v,
       f(r"llama_context: n_batch\s+=\s*(\d+)"), f(r"llama_context: n_ubatch\s+=\s*(\d+)"),
       f(r"llama_context: n_seq_max\s+=\s*(\d+)"), f(r"llama_context: n_outputs_max\s+=\s*(\d+)"),
       kv, kk, vv, comp[-1] if comp else "", f(r"CPU\s+output buffer size =\s*([\d.]+) MiB"),
       f(r"CPU_Mapped model buffer size =\s*([\d.]+) MiB"), f(r"CPU_REPACK model buffer size =\s*([\d.]+) MiB"),
       f(r"load_tensors:\s+CPU model buffer size =\s*([\d.]+) MiB"),
       status, extra, os.path.relpath(log, os.path.join(ROOT, "results")), " | ".join(raw)[:4000]]
new = not os.path.exists(CSV)
with open(CSV, "a", newline="") as fh:
    w = csv.writer(fh)
    if new: w.writerow(HDR)
    w.writerow(row)
