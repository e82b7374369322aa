"""Which ggml type llama.cpp gives each tensor of a model for a given quant type (the quant *mix*).

``llama-quantize Q4_K_M`` does not store every tensor as Q4_K: the output tensor goes to Q6_K, half of
the attn_v and ffn_down layers go to Q6_K, and so on. This module lists a model's tensors from its
architecture and applies llama.cpp's rules, so a file size can be computed for any model.

The rules follow ``llama_tensor_get_type_impl``, ``tensor_type_fallback`` and
``llama_ftype_get_default_type`` in ``src/llama-quant.cpp`` of ggml-org/llama.cpp @ 0c1e57098 (the
revision vendored by llama-cpp-python 0.3.36), for the llama-style architectures in the catalog
(dense and mixture-of-experts, GQA, tied or untied embeddings). Falcon-only branches and
architecture-specific overrides for other families are left out. ``scripts/llamacpp/README.md``
describes the files quantised with the real tool that the tests compare this against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal[
    "token_embd",
    "output",
    "attn_q",
    "attn_k",
    "attn_v",
    "attn_qkv",
    "attn_output",
    "ffn_gate",
    "ffn_up",
    "ffn_down",
    "attn_kv_b",
    "other",
    "kept_f32",
]

# ftype -> base ggml type (llama_ftype_get_default_type)
DEFAULT_TYPE: dict[str, str] = {
    "F32": "F32",
    "F16": "F16",
    "BF16": "BF16",
    "Q4_0": "Q4_0",
    "Q4_1": "Q4_1",
    "Q5_0": "Q5_0",
    "Q5_1": "Q5_1",
    "Q8_0": "Q8_0",
    "Q1_0": "Q1_0",
    "Q2_0": "Q2_0",
    "MXFP4_MOE": "MXFP4",
    "Q2_K": "Q2_K",
    "Q2_K_S": "Q2_K",
    "Q3_K_S": "Q3_K",
    "Q3_K_M": "Q3_K",
    "Q3_K_L": "Q3_K",
    "Q4_K_S": "Q4_K",
    "Q4_K_M": "Q4_K",
    "Q5_K_S": "Q5_K",
    "Q5_K_M": "Q5_K",
    "Q6_K": "Q6_K",
    "TQ1_0": "TQ1_0",
    "TQ2_0": "TQ2_0",
    "IQ2_XXS": "IQ2_XXS",
    "IQ2_XS": "IQ2_XS",
    "IQ2_S": "IQ2_XS",
    "IQ2_M": "IQ2_S",
    "IQ3_XXS": "IQ3_XXS",
    "IQ3_XS": "IQ3_S",
    "IQ3_S": "IQ3_S",
    "IQ3_M": "IQ3_S",
    "IQ1_S": "IQ1_S",
    "IQ1_M": "IQ1_M",
    "IQ4_NL": "IQ4_NL",
    "IQ4_XS": "IQ4_XS",
}

UNQUANTISED = {"F32", "F16", "BF16"}

# tensor_type_fallback: a 256-wide type on a row whose length is not a multiple of 256.
FALLBACK: dict[str, str] = {
    "IQ1_S": "IQ4_NL",
    "IQ1_M": "IQ4_NL",
    "IQ2_XXS": "IQ4_NL",
    "IQ2_XS": "IQ4_NL",
    "IQ2_S": "IQ4_NL",
    "IQ3_XXS": "IQ4_NL",
    "IQ3_S": "IQ4_NL",
    "IQ4_XS": "IQ4_NL",
    "Q2_0": "Q4_0",
    "Q2_K": "Q4_0",
    "Q3_K": "Q4_0",
    "TQ1_0": "Q4_0",
    "TQ2_0": "Q4_0",
    "Q4_K": "Q5_0",
    "Q5_K": "Q5_1",
    "Q6_K": "Q8_0",
}

ATTN_V_LIKE = ("attn_v", "attn_kv_b")
# A fused attn_qkv (Phi-3, Phi-4) has its own rule (scripts/llamacpp/mix_rules.md §2.10). Every published Phi GGUF
# checked follows it: bartowski/phi-4-GGUF (llama.cpp b4456) Q5_K_M 10.60 GB, Q4_K_M 9.05 GB (tests/test_hf_config.py).
# llama.cpp @ 0c1e57098 files attn_qkv under the attn_v rules instead (§2.5), which gives a 0.9% smaller Q5_K_M.
FUSED_QKV_TYPE: dict[str, str] = {
    "Q3_K_M": "Q4_K",
    "Q3_K_L": "Q4_K",
    "IQ3_M": "Q4_K",
    "Q4_K_M": "Q5_K",
    "Q5_K_M": "Q6_K",
}

_IQ2_LIKE = {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}


@dataclass(frozen=True)
class Tensor:
    """One weight tensor of a GGUF file: its name, role, layer, row length and element count."""

    name: str
    category: Category
    layer: int  # -1 for tensors outside the repeating blocks
    row_length: int  # ne[0]: quantisation blocks run along it
    n_elements: int
    is_expert_stack: bool = False  # 3-D tensor holding all experts of a layer


@dataclass(frozen=True)
class MixContext:
    """Model facts the mix rules look at (the fields of ``quantize_state_impl`` they read)."""

    n_layers: int
    n_gqa: int  # attention heads per KV head
    n_experts: int
    tied_embeddings: bool
    is_70b_class: bool  # llama.cpp's LLM_TYPE_70B: gives attn_v more bits
    has_imatrix: bool


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama.cpp's choice of the layers that get more bits in the *_M mixes: first and last eighth, every third."""
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def _output_type(ftype: str, base: str, row_length: int, block_of: dict[str, int]) -> str:
    if ftype == "MXFP4_MOE":
        return "Q8_0"
    if row_length % block_of[base] != 0:
        return "Q8_0"
    if ftype in {"IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}:
        return "Q5_K"
    if base != "Q8_0":
        return "Q6_K"
    return base


def _impl(ftype: str, base: str, t: Tensor, ctx: MixContext, block_of: dict[str, int]) -> str:
    """``llama_tensor_get_type_impl`` for one tensor (counters replaced by the tensor's layer index)."""
    cat, i, n = t.category, t.layer, ctx.n_layers
    new = base
    if cat == "output" or (ctx.tied_embeddings and cat == "token_embd"):
        return _output_type(ftype, base, t.row_length, block_of)
    if ftype == "MXFP4_MOE":
        return "MXFP4" if t.is_expert_stack else "Q8_0"
    if cat == "token_embd":
        if ftype in {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"}:
            return "Q2_K"
        if ftype in {"IQ2_S", "IQ2_M", "IQ3_XXS"}:
            return "IQ3_S"
        if ftype in {"TQ1_0", "TQ2_0", "Q2_0"}:
            return "Q4_K"
        return new
    if cat == "attn_qkv":
        return new if ftype in _IQ2_LIKE else FUSED_QKV_TYPE.get(ftype, new)
    if ftype in _IQ2_LIKE:
        if cat in ATTN_V_LIKE:
            if ctx.n_gqa >= 4 or ctx.n_experts >= 4:
                return "Q4_K"
            return "IQ3_S" if ftype in {"IQ2_S", "IQ2_M"} else "Q2_K"
        if ctx.n_experts == 8 and cat == "attn_k":
            return "Q4_K"
        if cat == "ffn_down":
            if i < n // 8:
                return "IQ3_S" if ftype in {"IQ2_S", "IQ2_M"} else "Q2_K"
            return new
        if cat == "attn_output":
            if ctx.n_experts == 8:
                return "Q5_K"
            if ftype in {"IQ1_S", "IQ1_M"}:
                return "IQ2_XXS"
            if ftype in {"IQ2_S", "IQ2_M"}:
                return "IQ3_S"
        return new
    if cat in ATTN_V_LIKE:
        if ftype == "Q2_K":
            new = "Q4_K" if ctx.n_gqa >= 4 else "Q3_K"
        elif ftype == "Q2_K_S" and ctx.n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_XXS":
            new = "Q4_K" if ctx.n_gqa >= 4 else ("IQ3_XXS" if ctx.has_imatrix else "IQ3_S")
        elif ftype in {"IQ3_XS", "IQ3_S"} and ctx.n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_M":
            new = "Q4_K"
        elif ftype == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q5_K"
        elif ftype in {"IQ4_NL", "IQ4_XS"} and ctx.n_gqa >= 4:
            new = "Q5_K"
        elif ftype in {"Q4_K_M", "Q5_K_M"} and use_more_bits(i, n):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if ctx.is_70b_class and new in {"Q3_K", "Q4_K"}:
            new = "Q5_K"
        if ctx.n_experts == 8:
            new = "Q8_0"
        return new
    if cat == "attn_k":
        if ctx.n_experts == 8:
            return "Q8_0"
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return new
    if cat == "attn_q":
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return new
    if cat == "ffn_down":
        if ftype == "Q2_K":
            return "Q3_K"
        if ftype == "Q2_K_S":
            return "Q4_K" if i < n // 8 else new
        if ftype == "IQ3_XXS" and not ctx.has_imatrix:
            return "Q4_K" if i < n // 8 else "Q3_K"
        if ftype == "Q3_K_M":
            return "Q5_K" if i < n // 16 else "Q4_K"
        if ftype == "IQ3_M" and (i < n // 8 or (ctx.n_experts == 8 and use_more_bits(i, n))):
            return "Q4_K"
        if ftype == "Q3_K_L":
            return "Q5_K"
        if ftype == "Q4_K_M":
            return "Q6_K" if use_more_bits(i, n) else new
        if i < n // 8 and ftype in {"IQ4_NL", "IQ4_XS"} and not ctx.has_imatrix:
            return "Q5_K"
        if ftype == "Q5_K_M" and use_more_bits(i, n):
            return "Q6_K"
        if ftype == "Q4_K_S" and i < n // 8:
            return "Q5_K"
        if ftype in {"Q4_0", "Q5_0"} and ctx.has_imatrix and i < n // 8:
            return "Q4_1" if ftype == "Q4_0" else "Q5_1"
        return new
    if cat == "attn_output":
        if ctx.n_experts == 8:
            if ftype in {
                "Q2_K",
                "IQ3_XS",
                "IQ3_XXS",
                "Q3_K_S",
                "Q3_K_M",
                "IQ4_NL",
                "Q4_K_S",
                "Q4_K_M",
                "IQ3_S",
                "IQ3_M",
                "IQ4_XS",
            }:
                return "Q5_K"
            return new
        return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(ftype, new)
    if cat in ("ffn_gate", "ffn_up"):
        if ftype == "IQ3_XS" and n // 8 <= i < 7 * n // 8:
            return "IQ3_XXS"
        return new
    return new


def tensor_type(ftype: str, tensor: Tensor, ctx: MixContext, block_of: dict[str, int]) -> str:
    """The ggml type llama.cpp stores ``tensor`` in when quantising to ``ftype``.

    ``block_of`` maps ggml type names to their block size in weights (from ``data/ggml_types.csv``).
    """
    if ftype not in DEFAULT_TYPE:
        raise KeyError(f"unknown quant type {ftype!r}")
    base = DEFAULT_TYPE[ftype]
    if tensor.category == "kept_f32":
        return "F32"  # norms, biases and the MoE router: never quantised, stored as F32 by the converter
    if ftype == "F32":
        return "F32"
    if base in UNQUANTISED:
        return base
    chosen = _impl(ftype, base, tensor, ctx, block_of)
    if tensor.row_length % block_of[chosen] != 0:
        fallback = FALLBACK.get(chosen, chosen)
        if tensor.row_length % block_of[fallback] != 0:
            fallback = "F16"
        chosen = fallback
    return chosen
