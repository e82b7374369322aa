"""The model catalog: ``data/models.csv`` rows as :class:`~dashboard.architecture.ModelSpec` objects.

Above :mod:`dashboard.architecture` (which describes any model) and below :mod:`dashboard.memory` (which looks
catalog names up here).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from dashboard import data
from dashboard.architecture import ModelSpec, n_weights

# The model the per-type reference figures are for: llama.cpp's published file sizes, bits per weight and
# speeds (data/llama31_8b_files.csv, tools/quantize/README.md) are Llama-3.1-8B's; it is also the default choice.
REFERENCE_MODEL = "Llama-3.1-8B"
# Tensors llama.cpp's converter writes beyond the llama layout, by architecture (the catalog's columns describe
# dimensions only): Phi-3 keeps q/k/v as one attn_qkv tensor, which llama-quantize gives its own type
# (dashboard.gguf_mix.FUSED_QKV_TYPE; split, the Q4_K_M and Q5_K_M files come out 1.7% small); Gemma-2 has norms
# after attention and after the FFN; Qwen3 per-head q/k norms (dashboard.hf_config.ARCHITECTURES: the same rules
# as a pasted config.json of these model types).
CATALOG_LAYOUT: dict[str, dict[str, bool]] = {
    "Phi-3-mini-4k-instruct": {"fused_qkv": True},
    "Gemma-2-9B": {"post_norms": True},
    "Gemma-2-27B": {"post_norms": True},
    "Qwen3-8B": {"qk_norm": True},
}


def spec_from_row(row: dict[str, object]) -> ModelSpec:
    """Build a spec from one catalog row."""
    fields = {
        "name": row["model"],
        "n_layers": row["n_layers"],
        "n_heads": row["n_heads"],
        "n_kv_heads": row["n_kv_heads"],
        "head_dim": row["head_dim"],
        "hidden_size": row["hidden_size"],
        "vocab_size": row["vocab_size"],
        "max_context": row["max_context"],
        "ffn_hidden_size": row["ffn_hidden_size"],
        "tied_embeddings": row["tied_embeddings"],
        "attention_bias": row["attention_bias"],
        "sliding_window": row["sliding_window"],
        "n_swa_layers": row["n_swa_layers"],
        "n_experts": row["n_experts"],
        "n_experts_used": row["n_experts_used"],
        "n_shared_experts": row["n_shared_experts"],
        "expert_ffn_hidden_size": row["expert_ffn_hidden_size"],
        "n_dense_layers": row["n_dense_layers"],
        "q_lora_rank": row["q_lora_rank"],
        "kv_lora_rank": row["kv_lora_rank"],
        "rope_head_dim": row["rope_head_dim"],
        "v_head_dim": row["v_head_dim"],
        "params_active": row["params_active_stated"],
        "family": row["family"],
        "notes": row["attention_notes"] or "",
        "source": row["source"],
        **CATALOG_LAYOUT.get(str(row["model"]), {}),
    }
    # The catalog gives every dimension, so the parameter count is counted from the architecture
    # (exact); the rounded official figure stays in the data as params_stated.
    provisional = ModelSpec(params=1.0, **fields)
    return replace(provisional, params=float(n_weights(provisional)))


@cache
def catalog() -> dict[str, ModelSpec]:
    """The model catalog (``data/models.csv``): every model's spec by name, in file order."""
    df = data.load_table("models")
    return {r["model"]: spec_from_row(r) for r in df.iter_rows(named=True)}
