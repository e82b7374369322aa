"""Curate the dashboard's data files in ``data/`` from the sourced research tables.

Run from the repository root::

    python scripts/curate_data.py [--research ../shared/research] [--check]

Every output row keeps the ``source`` text of the research row it came from. Nothing here types a
measurement: values are copied (names normalised, units stated in column names) or derived by a
formula that is written next to it. ``--check`` rebuilds in memory and fails if ``data/`` differs,
so CI can prove the shipped files still match their sources.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import polars as pl

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESEARCH = REPO_ROOT.parent / "shared" / "research"

FLOAT_TYPES = {"F32", "F16", "BF16"}
LEGACY_TYPES = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"}
ALIASES = {"Q3_K", "Q4_K", "Q5_K", "COPY"}


def normalise_quant(name: str) -> str:
    """Spell a quant type the way ``llama-quantize`` prints it (``q4_K_M`` -> ``Q4_K_M``, ``fp16`` -> ``F16``)."""
    name = name.strip().upper()
    return "F16" if name == "FP16" else name


def family_of(quant: str) -> str:
    """The quant family used for colouring and grouping in the dashboard."""
    if quant in FLOAT_TYPES:
        return "float"
    if quant in LEGACY_TYPES:
        return "legacy"
    if quant.startswith("TQ"):
        return "ternary"
    if quant.startswith("MXFP4"):
        return "microscaling"
    if quant.startswith("IQ"):
        return "i-quant"
    if "_K" in quant:
        return "k-quant"
    # Q1_0 / Q2_0: plain block types added in 2026 (PR #21273, #24448).
    return "low-bit block"


def read(research: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(research / name, infer_schema_length=0)  # all strings: we cast explicitly


def ggml_types(research: Path) -> pl.DataFrame:
    df = read(research, "ggml_type_traits.csv")
    return df.select(
        pl.col("ggml_type").str.to_uppercase().alias("ggml_type"),
        pl.col("ggml_type_enum_id").cast(pl.Int64).alias("ggml_type_id"),
        pl.col("block_size_elements").cast(pl.Int64).alias("block_size_weights"),
        pl.col("bytes_per_block").cast(pl.Int64),
        pl.col("bits_per_weight_derived").cast(pl.Float64).alias("bits_per_weight"),
        (pl.col("allowed_as_kv_cache_type(common/arg.cpp)") == "yes").alias("kv_cache_type"),
        pl.col("source"),
    )


def quant_types(research: Path, ggml: pl.DataFrame) -> pl.DataFrame:
    df = read(research, "llamacpp_quant_options_current.csv").filter(~pl.col("name").is_in(ALIASES))
    df = df.with_columns(
        pl.col("default_ggml_type(llama_ftype_get_default_type)")
        .str.replace("GGML_TYPE_", "")
        .str.to_uppercase()
        .alias("base_ggml_type")
    )
    df = df.join(
        ggml.select("ggml_type", pl.col("bits_per_weight").alias("nominal_bits_per_weight")),
        left_on="base_ggml_type",
        right_on="ggml_type",
        how="left",
    )
    return df.select(
        pl.col("name").alias("quant"),
        pl.col("llama_ftype_id").cast(pl.Int64).alias("ftype_id"),
        pl.col("name").map_elements(family_of, return_dtype=pl.String).alias("family"),
        "base_ggml_type",
        "nominal_bits_per_weight",
        pl.col("description_verbatim").alias("description"),
        pl.col("source"),
    ).sort("nominal_bits_per_weight", "quant", descending=[True, False])


def llama31_8b_files(research: Path) -> pl.DataFrame:
    df = read(research, "llama31_8b_quant_bpw_size_speed.csv")
    return df.select(
        pl.col("model"),
        pl.col("quant").str.strip_chars().str.to_uppercase(),
        pl.col("bits_per_weight").cast(pl.Float64).alias("file_bits_per_weight"),
        pl.col("size_GiB").cast(pl.Float64).alias("file_size_gib"),
        pl.col("pp512_tps").cast(pl.Float64).alias("prompt_tokens_per_s"),
        pl.col("pp512_err").cast(pl.Float64).alias("prompt_tokens_per_s_err"),
        pl.col("tg128_tps").cast(pl.Float64).alias("generation_tokens_per_s"),
        pl.col("tg128_err").cast(pl.Float64).alias("generation_tokens_per_s_err"),
        pl.col("hardware_backend"),
        pl.col("source"),
    )


def llama3_8b_quality(research: Path) -> pl.DataFrame:
    df = read(research, "llama3_8b_kld_scoreboard.csv")
    return df.select(
        pl.col("quant").str.strip_chars().str.to_uppercase(),
        pl.when(pl.col("imatrix") == "None").then(pl.lit("none")).otherwise(pl.col("imatrix")).alias("imatrix"),
        pl.col("model_size_GiB").cast(pl.Float64).alias("file_size_gib"),
        pl.col("ppl").cast(pl.Float64).alias("perplexity"),
        pl.col("ppl_err").cast(pl.Float64).alias("perplexity_err"),
        pl.col("delta_ppl_vs_fp16").cast(pl.Float64).alias("delta_perplexity"),
        pl.col("delta_ppl_err").cast(pl.Float64).alias("delta_perplexity_err"),
        pl.col("mean_kld").cast(pl.Float64),
        pl.col("mean_kld_err").cast(pl.Float64),
        pl.col("mean_delta_p_pct").cast(pl.Float64),
        pl.col("rms_delta_p_pct").cast(pl.Float64),
        pl.col("source"),
    )


# PR #1684 gives threads but no backend. Its RTX-4080 column can only be the CUDA build and its Ryzen
# column the CPU build; the M2 Max column could be CPU or Metal, so it stays "not stated".
BACKEND_INFERRED_FROM_HARDWARE = {"RTX-4080": "CUDA", "Ryzen7950X": "CPU"}


def backend_of(backend_as_stated: str, hardware: str) -> tuple[str, str]:
    """Backend family (CUDA, Metal, CPU or "not stated") and how it was decided."""
    for family in ("CUDA", "Metal", "CPU"):
        if backend_as_stated.startswith(family):
            return family, "stated"
    if hardware in BACKEND_INFERRED_FROM_HARDWARE:
        return BACKEND_INFERRED_FROM_HARDWARE[hardware], "inferred from hardware"
    return "not stated", "not stated"


def speed(research: Path) -> pl.DataFrame:
    """Token-generation and prompt speeds in tokens/s, one row per measurement.

    ms/token rows (PR #1684) become tokens/s by ``1000 / ms`` (said in ``derivation``). Each
    (model, hardware, backend, source) is one run: speeds are only compared within a run.
    """
    df = read(research, "speed_by_quant.csv")
    rows = []
    run_ids: dict[tuple[str, str, str, str], int] = {}
    tests = {"tg": "generation", "tg128": "generation", "token generation": "generation", "pp512": "prompt"}
    for r in df.iter_rows(named=True):
        value = float(r["value"])
        derivation = ""
        if r["unit"] == "ms/token":
            value = round(1000.0 / value, 3)
            derivation = f"1000 / {r['value']} ms per token"
        backend, backend_basis = backend_of(r["backend"], r["hardware"])
        run_key = (r["model"], r["hardware"], r["backend"], r["source"])
        rows.append(
            {
                "run_id": run_ids.setdefault(run_key, len(run_ids) + 1),
                "model": r["model"],
                "hardware": r["hardware"],
                "backend": backend,
                "backend_basis": backend_basis,
                "backend_as_stated": r["backend"],
                "quant": normalise_quant(r["quant"]),
                "test": tests[r["test"]],
                "tokens_per_s": value,
                "derivation": derivation,
                "note": r["note"] or "",
                "source": r["source"],
            }
        )
    return pl.DataFrame(rows)


def quality_by_model(research: Path) -> pl.DataFrame:
    """Perplexity and file size per (model, quant) from tables that include their own F16 baseline.

    Only tables measured in one run against their own F16 row are kept, so that "perplexity added per
    GB saved" compares like with like. Sizes in these sources are GiB (the quantize tool's ``G`` is
    2^30 bytes, PR #1787).
    """
    out: list[dict[str, object]] = []

    k = read(research, "kquants_pr1684.csv")
    for model in ["LLaMA-v1-7B", "LLaMA-v1-13B", "LLaMA-v1-30B", "LLaMA-v1-65B"]:
        sub = k.filter(pl.col("model") == model)
        for quant in sub["quant"].unique(maintain_order=True):
            q = sub.filter(pl.col("quant") == quant)
            ppl = q.filter(pl.col("measure") == "perplexity")
            size = q.filter(pl.col("measure").str.starts_with("file size"))
            if ppl.is_empty() and size.is_empty():
                continue
            src = (ppl if not ppl.is_empty() else size)["source"][0]
            prov = ",".join(
                sorted(
                    set(
                        q.filter(
                            pl.col("measure").is_in(["perplexity"]) | pl.col("measure").str.starts_with("file size")
                        )["provenance"]
                    )
                )
            )
            out.append(
                {
                    "table": "k-quants PR #1684 (LLaMA v1, wikitext-2, ctx 512)",
                    "model": model,
                    "quant": normalise_quant(quant),
                    "file_size_gib": float(size["value"][0].rstrip("G")) if not size.is_empty() else None,
                    "perplexity": float(ppl["value"][0]) if not ppl.is_empty() else None,
                    "provenance": prov,
                    "source": src,
                }
            )

    legacy = read(research, "legacy_quants_llama1_2023.csv")
    for model in legacy["model"].unique(maintain_order=True):
        sub = legacy.filter(pl.col("model") == model)
        for quant in sub["quant"].unique(maintain_order=True):
            if normalise_quant(quant) == "F16":
                continue  # the same F16 run as PR #1684 (5.9066 / 5.2543): keep one baseline row
            q = sub.filter(pl.col("quant") == quant)
            ppl = q.filter(pl.col("measure") == "perplexity")
            size = q.filter(pl.col("measure").str.contains("size"))
            out.append(
                {
                    "table": "k-quants PR #1684 (LLaMA v1, wikitext-2, ctx 512)",
                    "model": model,
                    "quant": normalise_quant(quant),
                    "file_size_gib": float(size["value"][0].rstrip("G")) if not size.is_empty() else None,
                    "perplexity": float(ppl["value"][0]) if not ppl.is_empty() else None,
                    "provenance": "primary",
                    "source": q["source"][0],
                }
            )

    l2 = read(research, "llama2_70b_scoreboard_old.csv")
    for r in l2.iter_rows(named=True):
        out.append(
            {
                "table": "Llama 2 70B scoreboard (old numbers, PR #3340)",
                "model": r["model"],
                "quant": normalise_quant(r["quant"]),
                "file_size_gib": float(r["model_size_GiB"]),
                "perplexity": float(r["perplexity"]),
                "provenance": "primary",
                "source": r["source"],
            }
        )

    l3 = read(research, "llama3_8b_kld_scoreboard.csv").filter(pl.col("imatrix") == "None")
    for r in l3.iter_rows(named=True):
        out.append(
            {
                "table": "Llama 3 8B scoreboard (no imatrix, PR #6936)",
                "model": "Llama-3-8B",
                "quant": normalise_quant(r["quant"]),
                "file_size_gib": float(r["model_size_GiB"]),
                "perplexity": float(r["ppl"]),
                "provenance": "primary",
                "source": r["source"],
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "table": pl.String,
            "model": pl.String,
            "quant": pl.String,
            "file_size_gib": pl.Float64,
            "perplexity": pl.Float64,
            "provenance": pl.String,
            "source": pl.String,
        },
    )


# Architecture fields the research table (model_architectures_kv.csv) lacks: FFN size, vocabulary, tied
# embeddings, MoE and MLA dimensions. Every value is quoted with its source in
# data/notes/model_configs.md (section and citation number given in "source" below).
ARCH_SUPPLEMENT: dict[str, dict[str, object]] = {
    "Llama-3.1-8B": {
        "family": "Llama 3",
        "ffn_hidden_size": 14336,
        "vocab_size": 128256,
        "tied_embeddings": False,
        "source_extra": "model_configs.md §1 (llama-models sku_list.py @ 5309637c; FFN by models/llama3/model.py)",
    },
    "Llama-3.1-70B": {
        "family": "Llama 3",
        "ffn_hidden_size": 28672,
        "vocab_size": 128256,
        "tied_embeddings": False,
        "source_extra": "model_configs.md §1 (llama-models sku_list.py @ 5309637c; FFN by models/llama3/model.py)",
    },
    "Llama-3.1-405B": {
        "family": "Llama 3",
        "ffn_hidden_size": 53248,
        "vocab_size": 128256,
        "tied_embeddings": False,
        "source_extra": "model_configs.md §1 (llama-models sku_list.py @ 5309637c; FFN by models/llama3/model.py)",
    },
    "Llama-3.2-1B": {
        "family": "Llama 3",
        "ffn_hidden_size": 8192,
        "vocab_size": 128256,
        "tied_embeddings": True,
        "source_extra": "model_configs.md §1 (sku_list.py @ 5309637c; torchtune llama3_2 builders @ 2cb2470f)",
    },
    "Llama-3.2-3B": {
        "family": "Llama 3",
        "ffn_hidden_size": 8192,
        "vocab_size": 128256,
        "tied_embeddings": True,
        "source_extra": "model_configs.md §1 (sku_list.py @ 5309637c; torchtune llama3_2 builders @ 2cb2470f)",
    },
    "Qwen2.5-7B": {
        "family": "Qwen",
        "ffn_hidden_size": 18944,
        "vocab_size": 152064,
        "tied_embeddings": False,
        "attention_bias": True,
        "source_extra": "model_configs.md §2 (torchtune qwen2_5 builders @ 47a9e198; Qwen blog @ 6be98468)",
    },
    "Qwen2.5-14B": {
        "family": "Qwen",
        "ffn_hidden_size": 13824,
        "vocab_size": 152064,
        "tied_embeddings": False,
        "attention_bias": True,
        "source_extra": "model_configs.md §2 (torchtune qwen2_5 builders @ 47a9e198; Qwen blog @ 6be98468)",
    },
    "Qwen2.5-32B": {
        "family": "Qwen",
        "ffn_hidden_size": 27648,
        "vocab_size": 152064,
        "tied_embeddings": False,
        "attention_bias": True,
        "source_extra": "model_configs.md §2 (torchtune qwen2_5 builders @ 47a9e198; Qwen blog @ 6be98468)",
    },
    "Qwen2.5-72B": {
        "family": "Qwen",
        "ffn_hidden_size": 29568,
        "vocab_size": 152064,
        "tied_embeddings": False,
        "attention_bias": True,
        "source_extra": "model_configs.md §2 (torchtune qwen2_5 builders @ 47a9e198; Qwen blog @ 6be98468)",
    },
    "Qwen3-8B": {
        "family": "Qwen",
        "ffn_hidden_size": 12288,
        "vocab_size": 151936,
        "tied_embeddings": False,
        "source_extra": "model_configs.md §2 (torchtune qwen3 builders @ 010412e0; Qwen blog @ 99599200)",
    },
    "Mistral-7B-v0.1": {
        "family": "Mistral",
        "ffn_hidden_size": 14336,
        "vocab_size": 32000,
        "tied_embeddings": False,
        "llamacpp_swa": None,
        "source_extra": "model_configs.md §3 (HF config dumps; mistral-inference one_file_ref.py @ 215fc80d). "
        "llama.cpp's llama architecture has no sliding window: full cache",
    },
    "Mixtral-8x7B": {
        "family": "Mistral",
        "ffn_hidden_size": 14336,
        "vocab_size": 32000,
        "tied_embeddings": False,
        "n_experts": 8,
        "n_experts_used": 2,
        "expert_ffn_hidden_size": 14336,
        "source_extra": "model_configs.md §3 (transformers configuration_mixtral.py @ 008e5743; Mixtral paper)",
    },
    "Gemma-2-9B": {
        "family": "Gemma",
        "ffn_hidden_size": 14336,
        "vocab_size": 256000,
        "tied_embeddings": True,
        "llamacpp_swa": (4096, 21),
        "source_extra": "model_configs.md §4 (google/gemma_pytorch gemma/config.py @ 03e65758); llama.cpp "
        "models/gemma2.cpp: SWA 4096 on every other layer",
    },
    "Gemma-2-27B": {
        "family": "Gemma",
        "ffn_hidden_size": 36864,
        "vocab_size": 256000,
        "tied_embeddings": True,
        "llamacpp_swa": (4096, 23),
        "source_extra": "model_configs.md §4 (google/gemma_pytorch gemma/config.py @ 03e65758); llama.cpp "
        "models/gemma2.cpp: SWA 4096 on every other layer",
    },
    "Phi-3-mini-4k-instruct": {
        "family": "Phi",
        "ffn_hidden_size": 8192,
        "vocab_size": 32064,
        "tied_embeddings": False,
        "source_extra": "model_configs.md §5 (transformers configuration_phi3.py @ 008e5743; "
        "torchtune phi3 @ 0e4a9ae9). llama.cpp models/phi3.cpp disables Phi SWA: full cache",
    },
    "DeepSeek-V3": {
        "family": "DeepSeek",
        "ffn_hidden_size": 18432,
        "vocab_size": 129280,
        "tied_embeddings": False,
        "n_kv_heads": 128,
        "head_dim": 128,
        "n_experts": 256,
        "n_experts_used": 8,
        "n_shared_experts": 1,
        "expert_ffn_hidden_size": 2048,
        "n_dense_layers": 3,
        "q_lora_rank": 1536,
        "kv_lora_rank": 512,
        "rope_head_dim": 64,
        "v_head_dim": 128,
        "source_extra": "model_configs.md §6 (inference/configs/config_671B.json in two agreeing forks; "
        "transformers configuration_deepseek_v3.py @ 001f85b3). llama.cpp caches the MLA "
        "latent only (K 576 per token per layer, no V; PR #19067)",
    },
}


def parse_params(text: str | None) -> float | None:
    """``"8B"`` -> 8e9, ``"1.23B"`` -> 1.23e9, empty -> None."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.endswith("B"):
        raise ValueError(f"unexpected parameter count {text!r}")
    return float(text[:-1]) * 1e9


def models(research: Path) -> pl.DataFrame:
    df = read(research, "model_architectures_kv.csv")
    rows = []
    for r in df.iter_rows(named=True):
        sup = ARCH_SUPPLEMENT[r["model"]]
        swa = sup.get("llamacpp_swa")
        head_dim = sup.get("head_dim") or int(r["head_dim"])
        n_kv = sup.get("n_kv_heads") or int(r["n_kv_heads"])
        rows.append(
            {
                "model": r["model"],
                "family": sup["family"],
                "params_stated": parse_params(r["params_total"]),
                "params_active_stated": parse_params(r["params_active"]),
                "n_layers": int(r["n_layers"]),
                "hidden_size": int(r["hidden_size"]),
                "n_heads": int(r["n_heads"]),
                "n_kv_heads": n_kv,
                "head_dim": head_dim,
                "ffn_hidden_size": sup["ffn_hidden_size"],
                "vocab_size": sup["vocab_size"],
                "tied_embeddings": sup["tied_embeddings"],
                "attention_bias": sup.get("attention_bias", False),
                "max_context": int(r["max_context"]),
                "sliding_window": swa[0] if swa else None,
                "n_swa_layers": swa[1] if swa else 0,
                "n_experts": sup.get("n_experts", 1),
                "n_experts_used": sup.get("n_experts_used", 1),
                "n_shared_experts": sup.get("n_shared_experts", 0),
                "expert_ffn_hidden_size": sup.get("expert_ffn_hidden_size"),
                "n_dense_layers": sup.get("n_dense_layers", 0),
                "q_lora_rank": sup.get("q_lora_rank"),
                "kv_lora_rank": sup.get("kv_lora_rank"),
                "rope_head_dim": sup.get("rope_head_dim"),
                "v_head_dim": sup.get("v_head_dim"),
                "attention_notes": r["attention_notes"],
                "source": r["source"] + " | " + sup["source_extra"],
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


# --- devices and measured llama-bench speeds (research notes' cross_size/ folder) ---

CROSS_SIZE = "cross_size"
# How llama.cpp's speed model groups devices: by the memory the weights stream from. Derived from the catalog's
# vendor, class and memory type (the rule is written here; no value is typed).
SPEED_CLASS_RULES = (
    ("apple_metal", lambda r: r["vendor"] == "Apple"),
    ("cpu_ram", lambda r: r["class"] == "CPU system RAM"),
    ("gpu_hbm", lambda r: (r["memory_type"] or "").startswith("HBM")),
    ("gpu_gddr", lambda r: True),
)
# M3 Max: the catalog leaves its maximum memory blank (not read from a source); the 64 GB machine
# whose Metal working set llama.cpp logged (apple_gpu_working_set.csv) is the configuration we offer.
M3_MAX_MEASURED_MEMORY_GB = "64"


def speed_class_of(row: dict[str, str]) -> str:
    """``gpu_gddr``, ``gpu_hbm``, ``apple_metal`` or ``cpu_ram`` for a catalog row."""
    return next(name for name, rule in SPEED_CLASS_RULES if rule(row))


def devices(research: Path) -> pl.DataFrame:
    """The device catalog: memory size and bandwidth per GPU, Apple chip and desktop RAM kind."""
    df = read(research / CROSS_SIZE, "device_catalog.csv")
    rows = []
    for r in df.iter_rows(named=True):
        memory, source = r["memory_gb"], r["source"]
        if r["device"] == "Apple M3 Max" and not memory:
            memory = M3_MAX_MEASURED_MEMORY_GB
            source += (
                " | memory: the 64 GB M3 Max of XiongjieDai/GPU-Benchmarks-on-LLM-Inference @ aa72e0ec "
                "LLaMA 3/Mac/M3max_64GB.ipynb (max configuration not sourced)"
            )
        rows.append(
            {
                "device": r["device"],
                "vendor": r["vendor"],
                "device_class": r["class"],
                "speed_class": speed_class_of(r),
                "memory_type": r["memory_type"],
                "memory_gb": float(memory) if memory else None,
                "memory_bandwidth_gb_per_s": float(r["memory_bandwidth_gbps"]),
                "bandwidth_kind": r["bandwidth_kind"],
                "notes": r["notes"] or "",
                "source": source,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def apple_working_set(research: Path) -> pl.DataFrame:
    """Metal's default working-set limit (recommendedMaxWorkingSetSize) as llama.cpp logged it.

    Only the llama.cpp log lines are used (the other rows of the research table are statements, kept there).
    The share is the logged value over the installed memory (GiB: Apple's "GB" of RAM are binary), in the unit
    the research notes found consistent for each build (``DERIVED_fraction_if_unit_is_...``).
    """
    df = read(research / CROSS_SIZE, "apple_gpu_working_set.csv").filter(
        pl.col("how_obtained").str.starts_with("ggml_metal_init")
    )
    rows = []
    for r in df.iter_rows(named=True):
        in_mib = "1024*1024" in r["reported_unit"]
        share = r["DERIVED_fraction_if_unit_is_MiB"] if in_mib else r["DERIVED_fraction_if_unit_is_1e6_bytes"]
        rows.append(
            {
                "machine": r["device"],
                "installed_memory_gib": float(r["installed_memory_GB"]),
                "reported_working_set": float(r["reported_value"]),
                "reported_unit": "MiB" if in_mib else "MB (10^6 bytes)",
                "working_set_share": float(share),
                "build": r["macos_or_build"],
                "source": r["source"],
            }
        )
    return pl.DataFrame(rows).sort("installed_memory_gib", "machine")


# The benchmark's model files and the catalog architectures they share (Llama 3 and 3.1 differ only in rope
# scaling and context, not in any tensor shape).
BENCH_MODELS = {"Meta-Llama-3-8B": "Llama-3.1-8B", "Meta-Llama-3-70B": "Llama-3.1-70B"}


def llama_bench_devices(research: Path) -> pl.DataFrame:
    """Measured llama-bench token generation (tgN) per device configuration, Llama-3 8B/70B at Q4_K_M and F16.

    OOM rows are dropped (no speed). The catalog device comes from the research notes' own mapping of each
    single-device label (``DERIVED_effective_bandwidth``), multi-GPU labels add `` * N``.
    """
    folder = research / CROSS_SIZE
    mapping = dict(
        read(folder, "DERIVED_effective_bandwidth_llama3_xiongjiedai.csv")
        .select("device_label", "catalog_device")
        .unique()
        .iter_rows()
    )
    df = read(folder, "speed_llama3_8b_70b_xiongjiedai.csv").filter(
        pl.col("test").str.starts_with("tg") & (pl.col("tokens_per_s") != "OOM")
    )
    rows = []
    for r in df.iter_rows(named=True):
        single = r["device_label"].split(" * ")[0]
        rows.append(
            {
                "device_label": r["device_label"],
                "device": mapping[single],
                "n_gpus": int(r["n_gpus"]),
                "model": BENCH_MODELS[r["model"]],
                "model_as_stated": r["model"],
                "quant": r["quant"],
                "file_size_gib": float(r["file_size"]),
                "test": r["test"],
                "generated_tokens": int(r["test"].removeprefix("tg")),
                "tokens_per_s": float(r["tokens_per_s"]),
                "tokens_per_s_err": float(r["err"]) if r["err"] else None,
                "build": r["build"],
                "note": r["note"] or "",
                "source": r["source"],
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


CROSS_SIZE = "cross_size"
# Tokenizer family of each cross-size table: perplexities compare only within one table and one family.
CROSS_SIZE_PPL_TABLES = {
    "quality_qwen2_instruct_hf_gguf_cards.csv": (
        "Qwen2-Instruct GGUF cards (wikitext, llama-perplexity)",
        "Qwen2",
    ),
    "quality_llama3_70b_ppl_dranger003_pr6745.csv": (
        "Llama-3-70B, dranger003 in PR #6745 (wiki.test, imatrix below Q6_K)",
        "Llama 3",
    ),
}


def _quant_expr() -> pl.Expr:
    """:func:`normalise_quant` as a polars expression."""
    upper = pl.col("quant").str.strip_chars().str.to_uppercase()
    return pl.when(upper == "FP16").then(pl.lit("F16")).otherwise(upper).alias("quant")


def quality_sizes_ppl(research: Path) -> pl.DataFrame:
    """Perplexity per (model size, quant) from the cross-size tables, one table's method per ``table`` value.

    Each table carries its own F16 baseline; perplexities compare only within one ``table`` (same method,
    same tokenizer family). Sizes are GiB where the source gives them (dranger003: GiB); Qwen's cards give
    none. Only the ``perplexity`` rows are kept: dranger003's published "Delta (FP16)" equals
    PPL/PPL(F16) - 1 (REPORT.md A3), which the dashboard recomputes.
    """
    # model names lose the maker prefix ("Meta-Llama-3-70B" -> "Llama-3-70B")
    frames = []
    for file, (table, tokenizer_family) in CROSS_SIZE_PPL_TABLES.items():
        df = read(research / CROSS_SIZE, file).filter(pl.col("metric") == "perplexity")
        frames.append(
            df.select(
                pl.lit(table).alias("table"),
                pl.lit(tokenizer_family).alias("tokenizer_family"),
                pl.col("model").str.strip_prefix("Meta-"),
                pl.col("params_b").cast(pl.Float64),
                _quant_expr(),
                pl.col("imatrix"),
                pl.when(pl.col("file_size_unit") == "GiB")
                .then(pl.col("file_size").cast(pl.Float64, strict=False))
                .otherwise(None)
                .alias("file_size_gib"),
                pl.col("value").cast(pl.Float64).alias("perplexity"),
                pl.col("err").cast(pl.Float64, strict=False).alias("perplexity_err"),
                pl.col("dataset"),
                pl.col("source"),
            )
        )
    return pl.concat(frames)


def quality_sizes_mmlu(research: Path) -> pl.DataFrame:
    """MMLU accuracy of Llama-3-Instruct 8B and 70B per GGUF quant (matt-c1), plus the non-GGUF 8B rows.

    ``format`` is GGUF, Exl2 or transformers (from the source's notes); ``quant`` keeps the source's
    name for the non-GGUF rows. The author's "model size" excludes the token embeddings and is GiB.
    The 70B was scored on 50 questions per category, the 8B on full MMLU (``questions``).
    """
    df = read(research / CROSS_SIZE, "quality_llama3_instruct_8b_70b_mmlu_matt-c1.csv")
    fmt = pl.col("notes").str.extract(r"format=([A-Za-z0-9]+)")
    return df.select(
        pl.lit("Llama-3-Instruct MMLU, matt-c1 (5-shot, n_ctx 2048)").alias("table"),
        pl.col("model").str.strip_prefix("Meta-"),
        pl.col("params_b").cast(pl.Float64),
        pl.when(fmt == "GGUF").then(_quant_expr()).otherwise(pl.col("quant")).alias("quant"),
        fmt.alias("format"),
        pl.col("file_size").cast(pl.Float64).alias("size_without_embeddings_gib"),
        pl.col("value").cast(pl.Float64).alias("mmlu_accuracy_pct"),
        pl.when(pl.col("notes").str.contains("50 questions per category"))
        .then(pl.lit("50 per category"))
        .otherwise(pl.lit("full MMLU (14,042)"))
        .alias("questions"),
        pl.col("source"),
    )


OUTPUTS = {
    "ggml_types.csv": lambda r, g: g,
    "quant_types.csv": quant_types,
    "llama31_8b_files.csv": lambda r, g: llama31_8b_files(r),
    "llama3_8b_quality.csv": lambda r, g: llama3_8b_quality(r),
    "speed.csv": lambda r, g: speed(r),
    "quality_by_model.csv": lambda r, g: quality_by_model(r),
    "models.csv": lambda r, g: models(r),
    "devices.csv": lambda r, g: devices(r),
    "apple_working_set.csv": lambda r, g: apple_working_set(r),
    "llama_bench_devices.csv": lambda r, g: llama_bench_devices(r),
    "quality_sizes_ppl.csv": lambda r, g: quality_sizes_ppl(r),
    "quality_sizes_mmlu.csv": lambda r, g: quality_sizes_mmlu(r),
}


def to_csv_text(df: pl.DataFrame) -> str:
    buf = io.StringIO()
    df.write_csv(buf, quote_style="necessary")
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--research", type=Path, default=DEFAULT_RESEARCH)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data")
    parser.add_argument("--check", action="store_true", help="fail if data/ differs from a fresh build")
    args = parser.parse_args(argv)
    ggml = ggml_types(args.research)
    stale = []
    for name, build in OUTPUTS.items():
        text = to_csv_text(build(args.research, ggml))
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO_ROOT)} ({text.count(chr(10)) - 1} rows)")
    if stale:
        print("data/ differs from a fresh curation of the research tables: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
