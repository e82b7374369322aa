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
# A model whose config.json or GGUF header does not state its trained context: a placeholder that changes no size
# (ModelSpec.max_context is shown, never used by an estimate); 4096 is Llama-2's context.
UNSTATED_CONTEXT_TOKENS = 4096
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
    # Tensor layout beyond the llama-style default (read from config.json or a GGUF header):
    gated_ffn: bool = True  # False: up and down projections only (Nemotron's relu2 MLP)
    fused_qkv: bool = False  # one attn_qkv tensor, as llama.cpp stores Phi-3/Phi-4
    attention_output_bias: bool = False
    qk_norm: bool = False  # per-head q/k RMS norms (Qwen3, Gemma-3)
    post_norms: bool = False  # norms after attention and after the FFN (Gemma-2/3)
    norm_bias: bool = False  # LayerNorm with bias (Nemotron)
    attention_sinks: bool = False  # one learned sink per head (gpt-oss)
    shared_expert_ffn_hidden_size: int | None = None  # default: n_shared_experts x expert_ffn_hidden_size
    shared_expert_gate: bool = False  # Qwen2-MoE's sigmoid gate on the shared expert
    moe_layer_step: int = 1  # MoE in layers where (i + 1) % step == 0 (Qwen's decoder_sparse_step)
    mlp_only_layers: tuple[int, ...] = ()  # layers with a dense FFN although the model is MoE
    expert_bias: bool = False  # biases on the expert projections (gpt-oss)
    router_bias: bool = False  # bias on the expert router (gpt-oss; DeepSeek-V3's correction bias)
    # A real GGUF file: its quant label and exact sizes (used instead of the computed ones for that label).
    gguf_quant: str | None = None
    gguf_file_bytes: int | None = None
    gguf_tensor_bytes: int | None = None
    mmproj_bytes: int = 0  # a vision projector file (mmproj-*.gguf) loaded beside the model

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
        if self.n_experts_used > self.n_experts or self.n_experts_used < 1:
            raise ValueError(f"{self.name}: n_experts_used must be from 1 to n_experts ({self.n_experts})")
        if self.moe_layer_step < 1:
            raise ValueError(f"{self.name}: moe_layer_step must be at least 1")
        if self.mmproj_bytes < 0:
            raise ValueError(f"{self.name}: mmproj_bytes must not be negative")

    @property
    def is_moe(self) -> bool:
        """Mixture of experts: more than one routed expert per MoE layer."""
        return self.n_experts > 1

    def is_moe_layer(self, layer: int) -> bool:
        """Whether ``layer`` holds routed experts (else a dense FFN)."""
        return (
            self.is_moe
            and layer >= self.n_dense_layers
            and (layer + 1) % self.moe_layer_step == 0
            and layer not in self.mlp_only_layers
        )

    @property
    def active_params(self) -> float:
        """Parameters used per token: every tensor except the routed experts a token does not reach.

        Dense models: ``params``. MoE: all tensors (token embedding and output included) except the routed
        expert stacks, plus ``n_experts_used / n_experts`` of those, counted from :func:`tensors`. Some
        publishers leave the token embedding out of their "active" figure (OpenAI's gpt-oss), others count it
        (DeepSeek-V3's 37B).
        """
        if not self.is_moe:
            return self.params
        everything = tensors(self)
        routed = sum(t.n_elements for t in everything if t.is_expert_stack)
        return sum(t.n_elements for t in everything) - routed + routed * self.n_experts_used / self.n_experts

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


def _ffn(p: str, i: int, h: int, ffn: int, gated: bool, suffix: str = "") -> list[Tensor]:
    """A dense (or shared-expert) FFN: gate (when gated), up and down projections."""
    out = [Tensor(p + f"ffn_gate{suffix}.weight", "ffn_gate", i, h, h * ffn)] if gated else []
    return [
        *out,
        Tensor(p + f"ffn_up{suffix}.weight", "ffn_up", i, h, h * ffn),
        Tensor(p + f"ffn_down{suffix}.weight", "ffn_down", i, ffn, ffn * h),
    ]


def _tensors(spec: ModelSpec) -> list[Tensor]:
    """Every tensor of the GGUF file, in file order, with the ffn size taken as given."""
    h, hd, ffn = spec.hidden_size, spec.head_dim, spec.ffn_hidden_size or 0
    out = [Tensor("token_embd.weight", "token_embd", -1, h, spec.vocab_size * h)]
    for i in range(spec.n_layers):
        p = f"blk.{i}."
        out.append(Tensor(p + "attn_norm.weight", "kept_f32", i, h, h))
        if spec.norm_bias:
            out.append(Tensor(p + "attn_norm.bias", "kept_f32", i, h, h))
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
            if spec.fused_qkv:
                out.append(Tensor(p + "attn_qkv.weight", "attn_qkv", i, h, h * (q + 2 * kv)))
            else:
                out += [
                    Tensor(p + "attn_q.weight", "attn_q", i, h, h * q),
                    Tensor(p + "attn_k.weight", "attn_k", i, h, h * kv),
                    Tensor(p + "attn_v.weight", "attn_v", i, h, h * kv),
                ]
            out.append(Tensor(p + "attn_output.weight", "attn_output", i, q, q * h))
            if spec.attention_bias:
                if spec.fused_qkv:
                    out.append(Tensor(p + "attn_qkv.bias", "kept_f32", i, q + 2 * kv, q + 2 * kv))
                else:
                    out += [
                        Tensor(p + f"attn_{n}.bias", "kept_f32", i, d, d) for n, d in (("q", q), ("k", kv), ("v", kv))
                    ]
            if spec.attention_output_bias:
                out.append(Tensor(p + "attn_output.bias", "kept_f32", i, h, h))
            if spec.qk_norm:
                out += [
                    Tensor(p + "attn_q_norm.weight", "kept_f32", i, hd, hd),
                    Tensor(p + "attn_k_norm.weight", "kept_f32", i, hd, hd),
                ]
            if spec.attention_sinks:
                out.append(Tensor(p + "attn_sinks.weight", "kept_f32", i, spec.n_heads, spec.n_heads))
        if spec.post_norms:
            out.append(Tensor(p + "post_attention_norm.weight", "kept_f32", i, h, h))
        out.append(Tensor(p + "ffn_norm.weight", "kept_f32", i, h, h))
        if spec.norm_bias:
            out.append(Tensor(p + "ffn_norm.bias", "kept_f32", i, h, h))
        if spec.is_moe_layer(i):
            e, eff = spec.n_experts, spec.expert_ffn_hidden_size or ffn
            out.append(Tensor(p + "ffn_gate_inp.weight", "kept_f32", i, h, h * e))
            if spec.router_bias:
                out.append(Tensor(p + "ffn_gate_inp.bias", "kept_f32", i, e, e))
            if spec.gated_ffn:
                out.append(Tensor(p + "ffn_gate_exps.weight", "ffn_gate", i, h, e * h * eff, True))
            out += [
                Tensor(p + "ffn_up_exps.weight", "ffn_up", i, h, e * h * eff, True),
                Tensor(p + "ffn_down_exps.weight", "ffn_down", i, eff, e * eff * h, True),
            ]
            if spec.expert_bias:
                gate_bias = [Tensor(p + "ffn_gate_exps.bias", "kept_f32", i, eff, e * eff)] if spec.gated_ffn else []
                out += [
                    *gate_bias,
                    Tensor(p + "ffn_up_exps.bias", "kept_f32", i, eff, e * eff),
                    Tensor(p + "ffn_down_exps.bias", "kept_f32", i, h, e * h),
                ]
            shared = spec.shared_expert_ffn_hidden_size or spec.n_shared_experts * eff
            if shared:
                if spec.shared_expert_gate:
                    out.append(Tensor(p + "ffn_gate_inp_shexp.weight", "kept_f32", i, h, h))
                out += _ffn(p, i, h, shared, spec.gated_ffn, "_shexp")
        else:
            out += _ffn(p, i, h, ffn, spec.gated_ffn)
        if spec.post_norms:
            out.append(Tensor(p + "post_ffw_norm.weight", "kept_f32", i, h, h))
    out.append(Tensor("output_norm.weight", "kept_f32", -1, h, h))
    if spec.norm_bias:
        out.append(Tensor("output_norm.bias", "kept_f32", -1, h, h))
    if not spec.tied_embeddings:
        out.append(Tensor("output.weight", "output", -1, h, spec.vocab_size * h))
    return out


# A tensor list costs ~0.2 KiB per tensor (0.06 MiB for a 32-layer model, 2.4 MiB at dashboard.limits' 1,260
# layers). Architectures deeper than any published model (126 layers) go to a small cache of their own, so that a
# visitor pasting deep configs in a loop cannot fill the server: at most 64 x 0.5 MiB + 4 x 2.4 MiB of tensor lists.
DEEP_ARCHITECTURE_LAYERS = 256
DEEP_ARCHITECTURE_CACHE_SIZE = 4


def tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    """Every tensor of ``spec``'s GGUF file (FFN size resolved); cached for the most recent architectures."""
    return (_deep_tensors if spec.n_layers > DEEP_ARCHITECTURE_LAYERS else _tensors_cached)(spec)


@lru_cache(maxsize=ARCHITECTURE_CACHE_SIZE)
def _tensors_cached(spec: ModelSpec) -> tuple[Tensor, ...]:
    return tuple(_tensors(spec.resolved()))


@lru_cache(maxsize=DEEP_ARCHITECTURE_CACHE_SIZE)
def _deep_tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    return tuple(_tensors(spec.resolved()))


@lru_cache(maxsize=ARCHITECTURE_CACHE_SIZE)
def n_weights(spec: ModelSpec) -> int:
    """Number of weights in the GGUF file of ``spec`` (cached for the most recent architectures)."""
    return sum(t.n_elements for t in tensors(spec))
