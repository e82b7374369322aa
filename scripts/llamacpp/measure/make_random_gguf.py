#!/usr/bin/env python3
"""Write a random-weight GGUF (F16 matrices, F32 norms/biases) with the tensor
layout and metadata that the vendored llama.cpp (commit 0c1e57098, shipped in
llama-cpp-python 0.3.36) expects for Llama-family models.

The tokenizer (tokenizer.* keys) is copied verbatim from a vocab-only GGUF in
vendor/llama.cpp/models, so llama.cpp can load and run the file.

Usage:
    python make_random_gguf.py SHAPE OUT.gguf [--dtype f16|bf16|f32]
SHAPE is one of the keys of SHAPES below.

Weights: a pool of 2^24 N(0, 0.02) values is generated once (seeded), and each
chunk of each tensor is a contiguous slice of that pool starting at a random
offset.  Values are therefore random (not constant), but generation is disk
bound rather than RNG bound, which matters for the 8B shape.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LLAMA_CPP = os.path.join(os.path.dirname(HERE), "llama_cpp_python-0.3.36", "vendor", "llama.cpp")
sys.path.insert(0, os.path.join(LLAMA_CPP, "gguf-py"))
import gguf  # noqa: E402  (vendored gguf-py, keys match this llama.cpp)

VOCAB_DIR = os.path.join(LLAMA_CPP, "models")

SHAPES = {
    # meta-llama/Llama-3.2-1B geometry
    "llama-3.2-1b-shape": dict(arch="llama", vocab_file="ggml-vocab-llama-bpe.gguf", n_vocab=128256,
                               n_embd=2048, n_layer=16, n_head=32, n_head_kv=8, head_dim=64, n_ff=8192,
                               tied=True, rope_theta=500000.0, n_ctx_train=131072, rms_eps=1e-5,
                               qkv_bias=False, rope_freqs=True),
    # meta-llama/Llama-3.1-8B geometry
    "llama-3.1-8b-shape": dict(arch="llama", vocab_file="ggml-vocab-llama-bpe.gguf", n_vocab=128256,
                               n_embd=4096, n_layer=32, n_head=32, n_head_kv=8, head_dim=128, n_ff=14336,
                               tied=False, rope_theta=500000.0, n_ctx_train=131072, rms_eps=1e-5,
                               qkv_bias=False, rope_freqs=True),
    # Qwen/Qwen2.5-7B geometry (embedding padded to 152064 rows like the HF checkpoint)
    "qwen2.5-7b-shape": dict(arch="qwen2", vocab_file="ggml-vocab-qwen2.gguf", n_vocab=152064,
                             n_embd=3584, n_layer=28, n_head=28, n_head_kv=4, head_dim=128, n_ff=18944,
                             tied=False, rope_theta=1000000.0, n_ctx_train=32768, rms_eps=1e-6,
                             qkv_bias=True, rope_freqs=False),
    # tiny shape used only for smoke tests
    "tiny-test": dict(arch="llama", vocab_file="ggml-vocab-llama-bpe.gguf", n_vocab=128256,
                      n_embd=256, n_layer=2, n_head=4, n_head_kv=2, head_dim=64, n_ff=512,
                      tied=True, rope_theta=500000.0, n_ctx_train=4096, rms_eps=1e-5,
                      qkv_bias=False, rope_freqs=True),
}

POOL_SIZE = 1 << 24
CHUNK = 1 << 24


def tensor_list(s):
    """(name, shape-as-numpy-(rows, cols), kind) in the order convert_hf_to_gguf writes them."""
    E, V, F, L = s["n_embd"], s["n_vocab"], s["n_ff"], s["n_layer"]
    q_dim = s["n_head"] * s["head_dim"]
    kv_dim = s["n_head_kv"] * s["head_dim"]
    out = []
    if s["rope_freqs"]:
        out.append(("rope_freqs.weight", (s["head_dim"] // 2,), "ropefreq"))
    out.append(("token_embd.weight", (V, E), "mat"))
    for i in range(L):
        p = f"blk.{i}."
        out.append((p + "attn_norm.weight", (E,), "norm"))
        out.append((p + "ffn_down.weight", (E, F), "mat"))
        out.append((p + "ffn_gate.weight", (F, E), "mat"))
        out.append((p + "ffn_up.weight", (F, E), "mat"))
        out.append((p + "ffn_norm.weight", (E,), "norm"))
        if s["qkv_bias"]:
            out.append((p + "attn_k.bias", (kv_dim,), "bias"))
        out.append((p + "attn_k.weight", (kv_dim, E), "mat"))
        out.append((p + "attn_output.weight", (E, q_dim), "mat"))
        if s["qkv_bias"]:
            out.append((p + "attn_q.bias", (q_dim,), "bias"))
        out.append((p + "attn_q.weight", (q_dim, E), "mat"))
        if s["qkv_bias"]:
            out.append((p + "attn_v.bias", (kv_dim,), "bias"))
        out.append((p + "attn_v.weight", (kv_dim, E), "mat"))
    out.append(("output_norm.weight", (E,), "norm"))
    if not s["tied"]:
        out.append(("output.weight", (V, E), "mat"))
    return out


def copy_tokenizer(writer, vocab_path, n_vocab):
    r = gguf.GGUFReader(vocab_path)
    for key, field in r.fields.items():
        if not key.startswith("tokenizer."):
            continue
        val = field.contents()
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        if key == "tokenizer.ggml.tokens" and len(val) < n_vocab:
            # pad like convert_hf_to_gguf does when the embedding has more rows than the tokenizer
            val = list(val) + [f"[PAD{i}]" for i in range(len(val), n_vocab)]
        if key == "tokenizer.ggml.token_type" and len(val) < n_vocab:
            val = list(val) + [int(gguf.TokenType.UNUSED)] * (n_vocab - len(val))
        writer.add_key_value(key, val, vtype, sub)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("out")
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    s = SHAPES[args.shape]
    arch = s["arch"]

    if args.dtype == "f16":
        mat_np, mat_gt, ftype = np.float16, gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16
    elif args.dtype == "bf16":
        mat_np, mat_gt, ftype = np.uint16, gguf.GGMLQuantizationType.BF16, gguf.LlamaFileType.MOSTLY_BF16
    else:
        mat_np, mat_gt, ftype = np.float32, gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32

    rng = np.random.default_rng(args.seed)
    pool32 = (rng.standard_normal(POOL_SIZE, dtype=np.float32) * 0.02)
    if args.dtype == "f16":
        pool = pool32.astype(np.float16)
    elif args.dtype == "bf16":
        pool = (pool32.view(np.uint32) >> 16).astype(np.uint16)
    else:
        pool = pool32
    pool2 = np.concatenate([pool, pool])

    w = gguf.GGUFWriter(args.out, arch)
    w.add_name(args.shape + "-random")
    w.add_type("model")
    w.add_context_length(s["n_ctx_train"])
    w.add_embedding_length(s["n_embd"])
    w.add_block_count(s["n_layer"])
    w.add_feed_forward_length(s["n_ff"])
    w.add_head_count(s["n_head"])
    w.add_head_count_kv(s["n_head_kv"])
    w.add_rope_freq_base(s["rope_theta"])
    w.add_layer_norm_rms_eps(s["rms_eps"])
    if s["head_dim"] != s["n_embd"] // s["n_head"]:
        w.add_key_length(s["head_dim"])
        w.add_value_length(s["head_dim"])
    w.add_rope_dimension_count(s["head_dim"])
    if arch == "llama":
        w.add_vocab_size(s["n_vocab"])
    w.add_file_type(int(ftype))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    copy_tokenizer(w, os.path.join(VOCAB_DIR, s["vocab_file"]), s["n_vocab"])

    tl = tensor_list(s)
    for name, shp, kind in tl:
        n = int(np.prod(shp))
        if kind == "mat":
            w.add_tensor_info(name, shp, np.dtype(mat_np), n * np.dtype(mat_np).itemsize, raw_dtype=mat_gt)
        else:
            w.add_tensor_info(name, shp, np.dtype(np.float32), n * 4)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    fout = w.fout[0]

    t0 = time.time()
    n_params = 0
    for name, shp, kind in tl:
        n = int(np.prod(shp))
        n_params += n
        w.write_padding(fout, fout.tell())
        if kind == "mat":
            done = 0
            while done < n:
                c = min(CHUNK, n - done)
                st = int(rng.integers(0, POOL_SIZE))
                pool2[st:st + c].tofile(fout)
                done += c
            nbytes = n * np.dtype(mat_np).itemsize
        else:
            if kind == "norm":
                a = np.ones(n, dtype=np.float32)
            elif kind == "bias":
                a = (rng.standard_normal(n, dtype=np.float32) * 0.02)
            else:  # rope_freqs: llama3 long-context factors are ~1 for high freqs
                a = np.ones(n, dtype=np.float32)
            a.tofile(fout)
            nbytes = n * 4
        w.write_padding(fout, nbytes)
    w.close()
    print(f"wrote {args.out}: {len(tl)} tensors, {n_params} params, {os.path.getsize(args.out)} bytes, "
          f"{time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
