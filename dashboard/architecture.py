"""A transformer's architecture as far as memory is concerned, and the tensors of its GGUF file.

Pure domain logic (no Panel). :class:`ModelSpec` describes a model (from the catalog, a ``config.json`` or
the user's own numbers); :func:`tensors` lists every tensor llama.cpp's converter writes for it, in file
order, with the role (:data:`dashboard.gguf_mix.Category`) the quant-mix rules look at. The catalog
(:mod:`dashboard.models`) and the memory model (:mod:`dashboard.memory`) both build on this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from dashboard.gguf_mix import Tensor
from dashboard.limits import check_architecture

# Real models' FFN widths are multiples of 256 (every catalog model; Llama-2-7B 11008 = 43 x 256); a width
# solved from a rounded parameter count is snapped to the nearest one.
FFN_MULTIPLE = 256
# Specs are built from user input (custom architectures, config.json): the tensor lists of at most this many
# architectures are kept (the 16-model catalog plus a user's recent ones); older ones are recomputed.
ARCHITECTURE_CACHE_SIZE = 64


@dataclass(frozen=True)
class ModelSpec:
    """A transformer's architecture, as far as memory is concerned.

    ``ffn_hidden_size`` may be left out: it is then solved from ``params`` (the total parameter
    count) and rounded to a multiple of :data:`FFN_MULTIPLE` (256), as real models are. MoE fields
    describe routed experts; MLA fields (``kv_lora_rank``...) describe DeepSeek-style latent attention.
    """

    name: str
    params: float
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    hidden_size: int
    vocab_size: int
    max_context: int
    ffn_hidden_size: int | None = None
    tied_embeddings: bool = False
    attention_bias: bool = False
    sliding_window: int | None = None
    n_swa_layers: int = 0
    n_experts: int = 1
    n_experts_used: int = 1
    n_shared_experts: int = 0
    expert_ffn_hidden_size: int | None = None
    n_dense_layers: int = 0
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    rope_head_dim: int | None = None
    v_head_dim: int | None = None
    params_active: float | None = None
    family: str = "custom"
    notes: str = ""
    source: str = "user-supplied"

    def __post_init__(self) -> None:
        # bounds first (dashboard.limits): a hostile size is refused before any arithmetic or tensor list
        check_architecture({f.name: getattr(self, f.name) for f in fields(self)}, what=self.name)
        positive = {
            "params": self.params,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "hidden_size": self.hidden_size,
            "vocab_size": self.vocab_size,
            "max_context": self.max_context,
        }
        for key, value in positive.items():
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{self.name}: {key} must be a positive number, got {value!r}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"{self.name}: n_heads ({self.n_heads}) must be a multiple of n_kv_heads ({self.n_kv_heads})"
            )
        if self.n_swa_layers > self.n_layers:
            raise ValueError(f"{self.name}: n_swa_layers exceeds n_layers")
        if self.n_swa_layers and not self.sliding_window:
            raise ValueError(f"{self.name}: n_swa_layers given without sliding_window")

    @property
    def is_mla(self) -> bool:
        """DeepSeek-style multi-head latent attention: the cache holds the compressed latent only."""
        return self.kv_lora_rank is not None

    @property
    def n_gqa(self) -> int:
        """Query heads per KV head (1 = plain multi-head attention)."""
        return self.n_heads // self.n_kv_heads

    def resolved(self) -> ModelSpec:
        """This spec with ``ffn_hidden_size`` filled in (solved from ``params`` when missing)."""
        if self.ffn_hidden_size is not None:
            return self
        fixed = sum(t.n_elements for t in _tensors(replace(self, ffn_hidden_size=0)))
        per_unit = sum(t.n_elements for t in _tensors(replace(self, ffn_hidden_size=1))) - fixed
        if per_unit <= 0:
            raise ValueError(f"{self.name}: cannot solve the FFN size from the parameter count")
        ffn = (self.params - fixed) / per_unit
        if ffn < 1:
            raise ValueError(
                f"{self.name}: {self.params:.3g} parameters is fewer than the attention and embedding "
                "weights alone; check params, hidden_size, n_layers and vocab_size"
            )
        return replace(self, ffn_hidden_size=max(FFN_MULTIPLE, round(ffn / FFN_MULTIPLE) * FFN_MULTIPLE))


def _tensors(spec: ModelSpec) -> list[Tensor]:
    """Every tensor of the GGUF file, in file order, with the ffn size taken as given."""
    h, hd, ffn = spec.hidden_size, spec.head_dim, spec.ffn_hidden_size or 0
    out = [Tensor("token_embd.weight", "token_embd", -1, h, spec.vocab_size * h)]
    for i in range(spec.n_layers):
        p = f"blk.{i}."
        out.append(Tensor(p + "attn_norm.weight", "kept_f32", i, h, h))
        if spec.is_mla:
            q_lora, kv_lora = spec.q_lora_rank or 0, spec.kv_lora_rank or 0
            rope, v_dim = spec.rope_head_dim or 0, spec.v_head_dim or hd
            nope = hd  # head_dim is the no-rope part of the query/key head for MLA models
            if q_lora:
                out += [
                    Tensor(p + "attn_q_a.weight", "other", i, h, h * q_lora),
                    Tensor(p + "attn_q_a_norm.weight", "kept_f32", i, q_lora, q_lora),
                    Tensor(p + "attn_q_b.weight", "other", i, q_lora, q_lora * spec.n_heads * (nope + rope)),
                ]
            else:
                out.append(Tensor(p + "attn_q.weight", "attn_q", i, h, h * spec.n_heads * (nope + rope)))
            out += [
                Tensor(p + "attn_kv_a_mqa.weight", "other", i, h, h * (kv_lora + rope)),
                Tensor(p + "attn_kv_a_norm.weight", "kept_f32", i, kv_lora, kv_lora),
                Tensor(p + "attn_k_b.weight", "other", i, nope, nope * kv_lora * spec.n_heads),
                Tensor(p + "attn_v_b.weight", "other", i, kv_lora, kv_lora * v_dim * spec.n_heads),
                Tensor(p + "attn_output.weight", "attn_output", i, spec.n_heads * v_dim, spec.n_heads * v_dim * h),
            ]
        else:
            q, kv = spec.n_heads * hd, spec.n_kv_heads * hd
            out += [
                Tensor(p + "attn_q.weight", "attn_q", i, h, h * q),
                Tensor(p + "attn_k.weight", "attn_k", i, h, h * kv),
                Tensor(p + "attn_v.weight", "attn_v", i, h, h * kv),
                Tensor(p + "attn_output.weight", "attn_output", i, q, q * h),
            ]
            if spec.attention_bias:
                out += [Tensor(p + f"attn_{n}.bias", "kept_f32", i, d, d) for n, d in (("q", q), ("k", kv), ("v", kv))]
        out.append(Tensor(p + "ffn_norm.weight", "kept_f32", i, h, h))
        moe_layer = spec.n_experts > 1 and i >= spec.n_dense_layers
        if moe_layer:
            e, eff = spec.n_experts, spec.expert_ffn_hidden_size or ffn
            out += [
                Tensor(p + "ffn_gate_inp.weight", "kept_f32", i, h, h * e),
                Tensor(p + "ffn_gate_exps.weight", "ffn_gate", i, h, e * h * eff, True),
                Tensor(p + "ffn_up_exps.weight", "ffn_up", i, h, e * h * eff, True),
                Tensor(p + "ffn_down_exps.weight", "ffn_down", i, eff, e * eff * h, True),
            ]
            if spec.n_shared_experts:
                sh = spec.n_shared_experts * eff
                out += [
                    Tensor(p + "ffn_gate_shexp.weight", "ffn_gate", i, h, h * sh),
                    Tensor(p + "ffn_up_shexp.weight", "ffn_up", i, h, h * sh),
                    Tensor(p + "ffn_down_shexp.weight", "ffn_down", i, sh, sh * h),
                ]
        else:
            out += [
                Tensor(p + "ffn_gate.weight", "ffn_gate", i, h, h * ffn),
                Tensor(p + "ffn_up.weight", "ffn_up", i, h, h * ffn),
                Tensor(p + "ffn_down.weight", "ffn_down", i, ffn, ffn * h),
            ]
    out.append(Tensor("output_norm.weight", "kept_f32", -1, h, h))
    if not spec.tied_embeddings:
        out.append(Tensor("output.weight", "output", -1, h, spec.vocab_size * h))
    return out


@lru_cache(maxsize=ARCHITECTURE_CACHE_SIZE)
def tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    """Every tensor of ``spec``'s GGUF file (FFN size resolved); cached for the most recent architectures."""
    return tuple(_tensors(spec.resolved()))


@lru_cache(maxsize=ARCHITECTURE_CACHE_SIZE)
def n_weights(spec: ModelSpec) -> int:
    """Number of weights in the GGUF file of ``spec`` (cached for the most recent architectures)."""
    return sum(t.n_elements for t in tensors(spec))
