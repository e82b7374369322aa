"""The model catalog: ``data/models.csv`` rows as :class:`~dashboard.memory.ModelSpec` objects."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from dashboard import data
from dashboard.memory import ModelSpec, tensors


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
    }
    # The catalog gives every dimension, so the parameter count is counted from the architecture
    # (exact); the rounded official figure stays in the data as params_stated.
    provisional = ModelSpec(params=1.0, **fields)
    return replace(provisional, params=float(sum(t.n_elements for t in tensors(provisional))))


@cache
def catalog_specs() -> dict[str, ModelSpec]:
    """Every catalog model by name, in file order."""
    df = data.load_table("models")
    return {r["model"]: spec_from_row(r) for r in df.iter_rows(named=True)}
