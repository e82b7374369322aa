"""Bounds on a model architecture that anyone can type in: generous real-world limits with their reasons.

Pure domain logic (no Panel, no other dashboard import). Every way an architecture enters the dashboard (the
catalog, a pasted ``config.json``, the custom-model card, a GGUF header, a URL) ends in a
:class:`~dashboard.memory.ModelSpec`, whose validation calls :func:`check_architecture`; so one set of bounds
applies everywhere and a hostile value is refused with a message before any work is done on it.

Each bound is about 10x the largest value of a published model in the catalog (``data/models.csv``, every row
sourced there): far above any real model, far below what would stall a server (a million layers cost 18 s of
CPU and 2 GB of memory per estimate before these bounds existed). ``tests/test_limits.py`` checks that every
bound stays at least 10x the catalog's largest value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


class InputError(ValueError):
    """User input that cannot be read; the message says where and what was expected.

    Re-exported as :class:`dashboard.ingest.InputError` (the same class).
    """


# name: (largest allowed, why). "catalog" = data/models.csv.
MAX_LAYERS = 1_260  # 10 x Llama-3.1-405B's 126 blocks, the deepest model in the catalog
MAX_HIDDEN_SIZE = 163_840  # 10 x Llama-3.1-405B's 16,384, the widest model in the catalog
MAX_HEADS = 1_280  # 10 x the 128 attention heads of Llama-3.1-405B and DeepSeek-V3
MAX_HEAD_DIM = 2_560  # 10 x Gemma-2-9B's 256
MAX_FFN_HIDDEN_SIZE = 532_480  # 10 x Llama-3.1-405B's 53,248 (dense FFN; also bounds an expert's FFN)
MAX_VOCAB_SIZE = 2_560_000  # 10 x Gemma-2's 256,000 entries
MAX_EXPERTS = 2_560  # 10 x DeepSeek-V3's 256 routed experts
MAX_CONTEXT_TOKENS = 1_310_720  # 10 x the catalog's longest trained context, 131,072 (Llama 3.1, Qwen2.5)
MAX_PARAMS = 6.71e12  # 10 x DeepSeek-V3's 671 B parameters, the largest model in the catalog
MIN_PARAMS = 1.0  # a provisional spec carries 1 parameter until the architecture is counted

ARCHITECTURE_BOUNDS: dict[str, tuple[int | float, str]] = {
    "n_layers": (MAX_LAYERS, "10x the 126 blocks of Llama-3.1-405B"),
    "hidden_size": (MAX_HIDDEN_SIZE, "10x the 16,384 width of Llama-3.1-405B"),
    "n_heads": (MAX_HEADS, "10x the 128 heads of Llama-3.1-405B"),
    "n_kv_heads": (MAX_HEADS, "10x the 128 heads of Llama-3.1-405B"),
    "head_dim": (MAX_HEAD_DIM, "10x the 256 head dimension of Gemma-2"),
    "ffn_hidden_size": (MAX_FFN_HIDDEN_SIZE, "10x the 53,248 FFN width of Llama-3.1-405B"),
    "expert_ffn_hidden_size": (MAX_FFN_HIDDEN_SIZE, "10x the 53,248 FFN width of Llama-3.1-405B"),
    "vocab_size": (MAX_VOCAB_SIZE, "10x the 256,000-entry vocabulary of Gemma-2"),
    "n_experts": (MAX_EXPERTS, "10x the 256 experts of DeepSeek-V3"),
    "n_experts_used": (MAX_EXPERTS, "10x the 256 experts of DeepSeek-V3"),
    "n_shared_experts": (MAX_EXPERTS, "10x the 256 experts of DeepSeek-V3"),
    "n_dense_layers": (MAX_LAYERS, "10x the 126 blocks of Llama-3.1-405B"),
    "n_swa_layers": (MAX_LAYERS, "10x the 126 blocks of Llama-3.1-405B"),
    "max_context": (MAX_CONTEXT_TOKENS, "10x the 131,072-token context of Llama 3.1"),
    "sliding_window": (MAX_CONTEXT_TOKENS, "10x the 131,072-token context of Llama 3.1"),
    "q_lora_rank": (MAX_HIDDEN_SIZE, "the largest allowed hidden size"),
    "kv_lora_rank": (MAX_HIDDEN_SIZE, "the largest allowed hidden size"),
    "rope_head_dim": (MAX_HEAD_DIM, "10x the 256 head dimension of Gemma-2"),
    "v_head_dim": (MAX_HEAD_DIM, "10x the 256 head dimension of Gemma-2"),
    "params": (MAX_PARAMS, "10x the 671 B parameters of DeepSeek-V3"),
    "params_active": (MAX_PARAMS, "10x the 671 B parameters of DeepSeek-V3"),
}


def _number(value: int | float) -> str:
    if isinstance(value, float) and (value >= 1e9 or value != int(value)):
        return f"{value:.3g}"
    return f"{int(value):,}" if value < 10**15 else f"{value:.3g}"


def _shown(value: object) -> str:
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def check_value(field: str, value: object, *, what: str = "", label: str | None = None) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite number within ``field``'s bound.

    ``None`` passes (an optional field left out). ``what`` names the model (or the input) in the message,
    ``label`` the field as the user wrote it (``'num_hidden_layers'`` in a config.json); default ``field``.
    """
    if value is None or field not in ARCHITECTURE_BOUNDS:
        return
    where = f"{what}: " if what else ""
    name = label or ("the parameter count" if field == "params" else field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}{name} must be a number, got {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where}{name} must be a finite number, got {_shown(value)}")
    limit, why = ARCHITECTURE_BOUNDS[field]
    if value > limit:
        raise InputError(
            f"{where}{name} = {_number(value)} is more than the largest supported value {_number(limit)} ({why}); "
            "check the number"
        )


def check_architecture(values: Mapping[str, object], *, what: str = "") -> None:
    """Check every bounded field present in ``values`` (a ModelSpec's fields); raise :class:`InputError`.

    Fields are checked in the order of :data:`ARCHITECTURE_BOUNDS`, so the message names the first bad one.
    """
    for field in ARCHITECTURE_BOUNDS:
        if field in values:
            check_value(field, values[field], what=what)
