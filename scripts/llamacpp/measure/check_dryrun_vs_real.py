#!/usr/bin/env python3
"""Compare every llama-quantize --dry-run prediction with the real output file of the same
(shape, quant, imatrix) when both exist. Writes results/dryrun_vs_real.csv."""
import csv, os
from collections import defaultdict
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
R = os.path.join(ROOT, "results")
fs = list(csv.DictReader(open(os.path.join(R, "file_sizes.csv"))))
tt = defaultdict(dict)
for r in csv.DictReader(open(os.path.join(R, "tensor_types.csv"))):
    tt[(r["shape"], r["quant"], r["imatrix"], r["method"])][r["tensor_name"]] = (r["ggml_type"], r["n_bytes"])
real = {(r["shape"], r["quant"], r["imatrix"]): r for r in fs if r["method"] == "quantize" and r["status"] == "ok"}
dry = {(r["shape"], r["quant"], r["imatrix"]): r for r in fs if r["method"] == "dry-run" and r["status"] == "ok"}
out = []
for k in sorted(set(real) & set(dry)):
    a, b = tt[k + ("quantize",)], tt[k + ("dry-run",)]
    diff = [n for n in set(a) | set(b) if a.get(n) != b.get(n)]
    out.append(list(k) + [real[k]["file_size_bytes"], dry[k]["file_size_bytes"],
                          int(real[k]["file_size_bytes"]) - int(dry[k]["file_size_bytes"]), len(a), len(diff),
                          ";".join(sorted(diff))[:300]])
with open(os.path.join(R, "dryrun_vs_real.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["shape", "quant", "imatrix", "real_file_size", "dryrun_file_size", "difference",
                "n_tensors", "n_tensors_type_or_bytes_differ", "differing_tensors"])
    w.writerows(out)
print(f"{len(out)} pairs compared; mismatching: {sum(1 for o in out if o[5] != 0 or o[7] != 0)}")
