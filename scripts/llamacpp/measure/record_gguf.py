#!/usr/bin/env python3
"""Append one quantisation result to results/file_sizes.csv and results/tensor_types.csv.

Real file:   record_gguf.py file  SHAPE QUANT IMATRIX GGUF_PATH LOG_PATH SECONDS
Dry run:     record_gguf.py dry   SHAPE QUANT IMATRIX REF_GGUF  LOG_PATH SECONDS
Failure:     record_gguf.py fail  SHAPE QUANT IMATRIX -         LOG_PATH SECONDS

For a real file every number comes from the GGUF written by llama-quantize, read with
the vendored gguf-py GGUFReader (file size from os.path.getsize).
For a dry run (llama-quantize --dry-run) the per-tensor target types are parsed from the
llama-quantize log; per-tensor bytes are computed exactly from (type, shape) with gguf-py's
GGML_QUANT_SIZES, each tensor padded to the GGUF alignment (32), and the metadata size is
taken from REF_GGUF (a real file of the same shape: the header/KV/tensor-info block does not
depend on the tensor types because they are fixed-size fields).
"""
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "llama_cpp_python-0.3.36", "vendor", "llama.cpp", "gguf-py"))
import gguf  # noqa: E402

RES = os.path.join(ROOT, "results")
FS_CSV = os.path.join(RES, "file_sizes.csv")
TT_CSV = os.path.join(RES, "tensor_types.csv")
FS_HDR = ["shape", "quant", "imatrix", "method", "status", "file_size_bytes", "n_elements", "n_tensors",
          "gguf_metadata_bytes", "tensor_data_bytes", "bits_per_weight", "n_fallback", "quantize_seconds",
          "type_histogram", "note"]
TT_HDR = ["shape", "quant", "imatrix", "method", "tensor_name", "ggml_type", "dims", "n_elements", "n_bytes"]
ALIGN = 32


def append(path, hdr, rows):
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(hdr)
        for r in rows:
            w.writerow(r)


def pad(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def tensor_bytes(tname, ne):
    qt = gguf.GGMLQuantizationType[tname.upper()]
    bs, ts = gguf.GGML_QUANT_SIZES[qt]
    n = 1
    for d in ne:
        n *= d
    assert ne[0] % bs == 0, (tname, ne)
    return n // bs * ts


def log_info(log):
    txt = open(log, errors="replace").read() if os.path.exists(log) else ""
    m = re.search(r"WARNING: (\d+) of (\d+) tensor\(s\) required fallback", txt)
    nfb = int(m.group(1)) if m else 0
    return txt, nfb


def hist(types_elems):
    h = {}
    for t, n in types_elems:
        h[t] = h.get(t, 0) + n
    return ";".join(f"{k}:{v}" for k, v in sorted(h.items(), key=lambda kv: -kv[1]))


def main():
    mode, shape, quant, imx, path, log, secs = sys.argv[1:8]
    txt, nfb = log_info(log)
    if mode == "fail":
        err = [l.strip() for l in txt.splitlines() if "error" in l.lower() or "ERROR" in l or "failed" in l]
        note = " | ".join(err[-3:])[:500]
        append(FS_CSV, FS_HDR, [[shape, quant, imx, "quantize", "failed", "", "", "", "", "", "", nfb, secs, "", note]])
        return
    if mode == "file":
        r = gguf.GGUFReader(path)
        rows = []
        tot_n = 0
        data_bytes = 0
        he = []
        for t in r.tensors:
            ne = [int(x) for x in t.shape]
            n = int(t.n_elements)
            tot_n += n
            nb = int(t.n_bytes)
            data_bytes += pad(nb)
            he.append((t.tensor_type.name, n))
            rows.append([shape, quant, imx, "quantize", t.name, t.tensor_type.name, "x".join(map(str, ne)), n, nb])
        fsize = os.path.getsize(path)
        meta = int(r.data_offset)
        append(TT_CSV, TT_HDR, rows)
        os.makedirs(os.path.join(RES, "meta_bytes"), exist_ok=True)
        open(os.path.join(RES, "meta_bytes", f"{shape}__{imx}.txt"), "w").write(str(meta))
        note = "" if meta + data_bytes == fsize else f"meta+padded data={meta + data_bytes} != file size"
        append(FS_CSV, FS_HDR, [[shape, quant, imx, "quantize", "ok", fsize, tot_n, len(r.tensors), meta,
                                 fsize - meta, f"{fsize * 8 / tot_n:.4f}", nfb, secs, hist(he), note]])
        return
    if mode == "dry":
        if path == "-":
            meta = int(open(os.path.join(RES, "meta_bytes", f"{shape}__{imx}.txt")).read())
        else:
            meta = int(gguf.GGUFReader(path).data_offset)
        # [   1/ 147]                   rope_freqs.weight - [   32,     1,     1,     1], type =    f32, size =    0.000 MiB
        # [   2/ 147]                   token_embd.weight - [ 2048, 128256,     1,     1], type =    f16, size =  501.000 MiB ->  ... MiB (q6_K)
        pat = re.compile(r"\[\s*\d+/\s*\d+\]\s+(\S+)\s+-\s+\[([\d,\s]+)\],\s+type =\s+(\w+),\s+size =\s+[\d.]+ MiB(?:\s+->\s+[\d.]+ MiB \((\w+)\))?")
        rows = []
        tot_n = 0
        data_bytes = 0
        he = []
        for m in pat.finditer(txt):
            name = m.group(1)
            ne = [int(x) for x in m.group(2).split(",")]
            while len(ne) > 1 and ne[-1] == 1:
                ne.pop()
            tname = m.group(4) or m.group(3)
            n = 1
            for d in ne:
                n *= d
            nb = tensor_bytes(tname, ne)
            tot_n += n
            data_bytes += pad(nb)
            tn = gguf.GGMLQuantizationType[tname.upper()].name
            he.append((tn, n))
            rows.append([shape, quant, imx, "dry-run", name, tn, "x".join(map(str, ne)), n, nb])
        if not rows:
            append(FS_CSV, FS_HDR, [[shape, quant, imx, "dry-run", "failed", "", "", "", "", "", "", nfb, secs, "", "no tensor lines parsed"]])
            return
        fsize = meta + data_bytes
        append(TT_CSV, TT_HDR, rows)
        note = "file size = metadata bytes of a real file of this shape + sum of 32-byte-padded tensor sizes"
        if "will require an imatrix" in txt:
            note += "; llama-quantize says a real run will require an imatrix"
        append(FS_CSV, FS_HDR, [[shape, quant, imx, "dry-run", "ok", fsize, tot_n, len(rows), meta, data_bytes,
                                 f"{fsize * 8 / tot_n:.4f}", nfb, secs, hist(he), note]])


if __name__ == "__main__":
    main()
