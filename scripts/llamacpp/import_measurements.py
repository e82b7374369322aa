"""Turn the raw llama.cpp measurements (``results/`` of the measuring run) into ``data/llamacpp_*.csv``.

Usage (from the repository root)::

    python scripts/llamacpp/import_measurements.py /path/to/results

``results/file_sizes.csv`` holds one row per GGUF written by ``llama-quantize``; ``results/runtime_buffers.csv``
one row per start-up of ``llama-completion`` with the buffer sizes llama.cpp logged. See README.md beside this
script for how they were produced. Only successful real runs are kept.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import polars as pl

REPO_ROOT = Path(__file__).resolve().parents[2]
LLAMA_CPP = "llama.cpp @ 0c1e57098 (vendored by llama-cpp-python 0.3.36, PyPI), CPU build"

# The random-weight models' architectures (scripts/llamacpp/make_random_gguf.py writes them).
SHAPES = {
    "llama-3.2-1b-shape": dict(
        hidden_size=2048,
        n_layers=16,
        n_heads=32,
        n_kv_heads=8,
        head_dim=64,
        ffn_hidden_size=8192,
        vocab_size=128256,
        tied_embeddings=True,
        attention_bias=False,
    ),
    "llama-3.1-8b-shape": dict(
        hidden_size=4096,
        n_layers=32,
        n_heads=32,
        n_kv_heads=8,
        head_dim=128,
        ffn_hidden_size=14336,
        vocab_size=128256,
        tied_embeddings=False,
        attention_bias=False,
    ),
    "qwen2.5-7b-shape": dict(
        hidden_size=3584,
        n_layers=28,
        n_heads=28,
        n_kv_heads=4,
        head_dim=128,
        ffn_hidden_size=18944,
        vocab_size=152064,
        tied_embeddings=False,
        attention_bias=True,
    ),
}
DIM_COLUMNS = ["hidden_size", "n_layers", "n_heads", "n_kv_heads", "head_dim", "ffn_hidden_size", "vocab_size"]


def with_dims(df: pl.DataFrame, extra: list[str]) -> pl.DataFrame:
    df = df.filter(pl.col("shape").is_in(list(SHAPES)))
    for col in [*DIM_COLUMNS, *extra]:
        df = df.with_columns(pl.col("shape").replace_strict({k: v[col] for k, v in SHAPES.items()}).alias(col))
    return df


def file_sizes(results: Path) -> pl.DataFrame:
    """Real ``llama-quantize`` files and ``--dry-run`` reports (the dry run prints the same sizes, checked
    file by file in results/dryrun_vs_real.csv)."""
    df = pl.read_csv(results / "file_sizes.csv", infer_schema_length=None)
    df = df.filter((pl.col("status") == "ok") & pl.col("method").is_in(["quantize", "dry-run"]))
    df = with_dims(df, ["tied_embeddings", "attention_bias"])
    return (
        df.select(
            "shape",
            *DIM_COLUMNS,
            "tied_embeddings",
            "attention_bias",
            "quant",
            (pl.col("imatrix") != "noimatrix").alias("imatrix"),
            "method",
            pl.col("file_size_bytes").cast(pl.Int64),
            pl.col("tensor_data_bytes").cast(pl.Int64).alias("tensor_bytes"),
            pl.col("n_elements").cast(pl.Int64).alias("n_weights"),
            pl.format(
                "llama-quantize {} of a random-weight F16 GGUF of this shape; {}; scripts/llamacpp/README.md",
                pl.col("method"),
                pl.lit(LLAMA_CPP),
            ).alias("source"),
        )
        .unique(subset=["shape", "quant", "imatrix", "method"], keep="last", maintain_order=True)
        .sort("shape", "quant", "imatrix", "method")
    )


def buffers(results: Path) -> pl.DataFrame:
    df = pl.read_csv(results / "runtime_buffers.csv", infer_schema_length=None)
    df = df.filter((pl.col("status") == "ok") & pl.col("compute_buffer_mib").is_not_null())
    df = with_dims(df, [])
    fa = pl.coalesce(pl.col("flash_attn_effective"), pl.col("flash_attn_param")).cast(pl.String).str.to_lowercase()
    return (
        df.select(
            "shape",
            *DIM_COLUMNS,
            pl.coalesce(pl.col("n_ctx").cast(pl.Int64), pl.col("n_ctx_requested").cast(pl.Int64)).alias(
                "context_tokens"
            ),
            fa.is_in(["on", "true", "enabled", "1"]).alias("flash_attention"),
            pl.when(pl.col("cache_type_k") == pl.col("cache_type_v"))
            .then(pl.col("cache_type_k"))
            .otherwise(pl.format("{}/{}", pl.col("cache_type_k"), pl.col("cache_type_v")))
            .alias("kv_cache_type"),
            pl.coalesce(pl.col("n_ubatch").cast(pl.Int64), pl.lit(512)).alias("n_ubatch"),
            pl.col("kv_buffer_mib").cast(pl.Float64),
            pl.col("compute_buffer_mib").cast(pl.Float64),
            pl.col("output_buffer_mib").cast(pl.Float64),
            pl.format(
                "llama_context/llama_kv_cache start-up log of llama-completion (CPU backend); {}; "
                "scripts/llamacpp/README.md",
                pl.lit(LLAMA_CPP),
            ).alias("source"),
        )
        .unique(maintain_order=True)
        .sort("shape", "context_tokens", "flash_attention", "kv_cache_type", "n_ubatch")
    )


def tensor_types(results: Path) -> pl.DataFrame:
    """Per-tensor types of every file (test fixture: the mix rules must reproduce them)."""
    df = pl.read_csv(results / "tensor_types.csv", infer_schema_length=None)
    return df


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    for name, frame in (
        ("llamacpp_file_sizes.csv", file_sizes(args.results)),
        ("llamacpp_buffers.csv", buffers(args.results)),
    ):
        path = REPO_ROOT / "data" / name
        frame.write_csv(path)
        print(f"wrote {path.relative_to(REPO_ROOT)} ({frame.height} rows)")
    fixture = REPO_ROOT / "tests" / "fixtures" / "llamacpp_tensor_types.csv.gz"
    types = tensor_types(args.results)
    with gzip.GzipFile(fixture, "wb", mtime=0) as fh:
        types.write_csv(fh)
    print(f"wrote {fixture.relative_to(REPO_ROOT)} ({types.height} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
