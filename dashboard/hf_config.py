"""Read a Hugging Face ``config.json`` into a :class:`~dashboard.memory.ModelSpec`, as transformers and llama.cpp do.

Pure domain logic (no Panel). Real ``config.json`` files leave out every key whose value is the config class's
default (Gemma-3's ``text_config`` gives no ``num_attention_heads`` or ``vocab_size``; Gemma configs rarely say
``tie_word_embeddings``), so each supported ``model_type`` carries its transformers class defaults
(:data:`ARCHITECTURES`, each citing the file and commit it was read from). The tensor layout is the one
llama.cpp's converter writes for that architecture: fused ``attn_qkv`` for Phi-3/Phi-4, ungated MLPs for
Nemotron, q/k norms for Qwen3 and Gemma-3, MoE experts of every common config style, DeepSeek's MLA.

A ``model_type`` this module does not know, or keys that describe a layer it does not model (linear attention,
MoE keys on a dense architecture), raise :class:`~dashboard.ingest.InputError` naming what was not understood:
never a silently different model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from dashboard import limits
from dashboard.architecture import UNSTATED_CONTEXT_TOKENS, ModelSpec, n_weights
from dashboard.ingest import InputError
from dashboard.ingest import _clean_name as clean_name  # the same name rules as measurements
from dashboard.ingest import _load_json as load_json  # refuses NaN, Infinity, 1e400, deep nesting
from dashboard.ingest import _text_of as text_of  # the same size and encoding checks

# Keys every real config.json gives (transformers would silently build its default model without them).
REQUIRED_KEYS = ("hidden_size", "num_hidden_layers")
# config.json key -> the ModelSpec field whose bound (dashboard.limits: about 10x the largest published model)
# applies to it; the keys with no ModelSpec field have their own bound below.
LIMITED_FIELD: dict[str, str] = {
    "num_hidden_layers": "n_layers",
    "hidden_size": "hidden_size",
    "num_attention_heads": "n_heads",
    "num_key_value_heads": "n_kv_heads",
    "head_dim": "head_dim",
    "intermediate_size": "ffn_hidden_size",
    "moe_intermediate_size": "expert_ffn_hidden_size",
    "shared_expert_intermediate_size": "expert_ffn_hidden_size",
    "vocab_size": "vocab_size",
    "max_position_embeddings": "max_context",
    "num_local_experts": "n_experts",
    "num_experts": "n_experts",
    "n_routed_experts": "n_experts",
    "num_experts_per_tok": "n_experts_used",
    "sliding_window": "sliding_window",
    "kv_lora_rank": "kv_lora_rank",
    "q_lora_rank": "q_lora_rank",
    "qk_rope_head_dim": "rope_head_dim",
    "qk_nope_head_dim": "head_dim",
    "v_head_dim": "v_head_dim",
}
OTHER_LIMITS: dict[str, int] = {"decoder_sparse_step": limits.MAX_LAYERS, "sliding_window_pattern": limits.MAX_LAYERS}

MoEStyle = Literal["none", "mixtral", "qwen", "deepseek"]
SWARule = Literal["none", "every_other", "pattern", "ignored"]

_C008E = "008e574391258935f3ecc3035c882e73bbcac419"


def _source(model: str, commit: str = _C008E, note: str = "") -> str:
    """Where a model type's defaults were read: transformers' config class at a commit."""
    path = f"src/transformers/models/{model}/configuration_{model}.py"
    return f"huggingface/transformers @ {commit} : {path}" + (f" ({note})" if note else "")


@dataclass(frozen=True)
class Architecture:
    """How one ``model_type`` reads: transformers' defaults and the tensors llama.cpp stores for it."""

    model_type: str
    defaults: dict[str, object]
    source: str
    gated_ffn: bool = True
    qkv_bias: bool | None = None  # None: the config's attention_bias says
    output_bias: bool = False
    fused_qkv: bool = False
    qk_norm: bool = False
    post_norms: bool = False
    norm_bias: bool = False
    moe: MoEStyle = "none"
    mla: bool = False
    swa: SWARule = "none"
    attention_sinks: bool = False
    expert_bias: bool = False
    router_bias: bool = False
    shared_expert_gate: bool = False
    notes: str = ""


_LLAMA_DEFAULTS = {
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": None,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
    "attention_bias": False,
    "head_dim": None,
}

ARCHITECTURES: dict[str, Architecture] = {
    a.model_type: a
    for a in (
        Architecture("llama", _LLAMA_DEFAULTS, _source("llama")),
        Architecture(
            "mistral",
            {
                "vocab_size": 32000,
                "intermediate_size": 14336,
                "num_attention_heads": 32,
                "num_key_value_heads": 8,
                "head_dim": None,
                "max_position_embeddings": 4096 * 32,
                "tie_word_embeddings": False,
                "sliding_window": 4096,
            },
            _source("mistral"),
            qkv_bias=False,
            swa="ignored",
            notes="llama.cpp runs Mistral as its llama architecture, which has no sliding window: full KV cache",
        ),
        Architecture(
            "mixtral",
            {
                "vocab_size": 32000,
                "intermediate_size": 14336,
                "num_attention_heads": 32,
                "num_key_value_heads": 8,
                "head_dim": None,
                "max_position_embeddings": 4096 * 32,
                "tie_word_embeddings": False,
                "num_experts_per_tok": 2,
                "num_local_experts": 8,
            },
            _source("mixtral"),
            qkv_bias=False,
            moe="mixtral",
            swa="ignored",
        ),
        Architecture(
            "qwen2",
            {
                "vocab_size": 151936,
                "intermediate_size": 22016,
                "num_attention_heads": 32,
                "num_key_value_heads": 32,
                "max_position_embeddings": 32768,
                "tie_word_embeddings": False,
            },
            _source("qwen2", note="q/k/v projections with bias"),
            qkv_bias=True,
            swa="ignored",
        ),
        Architecture(
            "qwen2_moe",
            {
                "vocab_size": 151936,
                "intermediate_size": 5632,
                "num_attention_heads": 16,
                "num_key_value_heads": 16,
                "max_position_embeddings": 32768,
                "tie_word_embeddings": False,
                "decoder_sparse_step": 1,
                "moe_intermediate_size": 1408,
                "shared_expert_intermediate_size": 5632,
                "num_experts_per_tok": 4,
                "num_experts": 60,
                "mlp_only_layers": [],
                "qkv_bias": True,
            },
            _source("qwen2_moe"),
            moe="qwen",
            shared_expert_gate=True,
            swa="ignored",
        ),
        Architecture(
            "qwen3",
            {
                "vocab_size": 151936,
                "intermediate_size": 22016,
                "num_attention_heads": 32,
                "num_key_value_heads": 32,
                "head_dim": 128,
                "max_position_embeddings": 32768,
                "tie_word_embeddings": False,
                "attention_bias": False,
            },
            _source("qwen3"),
            qk_norm=True,
            swa="ignored",
        ),
        Architecture(
            "qwen3_moe",
            {
                "vocab_size": 151936,
                "intermediate_size": 6144,
                "num_attention_heads": 32,
                "num_key_value_heads": 4,
                "head_dim": None,
                "max_position_embeddings": 32768,
                "tie_word_embeddings": False,
                "attention_bias": False,
                "decoder_sparse_step": 1,
                "moe_intermediate_size": 768,
                "num_experts_per_tok": 8,
                "num_experts": 128,
                "mlp_only_layers": [],
            },
            _source("qwen3_moe"),
            qk_norm=True,
            moe="qwen",
            swa="ignored",
        ),
        Architecture(
            "gemma",
            {
                "vocab_size": 256000,
                "intermediate_size": 24576,
                "num_attention_heads": 16,
                "num_key_value_heads": 16,
                "head_dim": 256,
                "max_position_embeddings": 8192,
                "tie_word_embeddings": True,
                "attention_bias": False,
            },
            _source("gemma"),
        ),
        Architecture(
            "gemma2",
            {
                "vocab_size": 256000,
                "intermediate_size": 9216,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
                "max_position_embeddings": 8192,
                "tie_word_embeddings": True,
                "attention_bias": False,
                "sliding_window": 4096,
            },
            _source("gemma2"),
            post_norms=True,
            swa="every_other",
        ),
        Architecture(
            "gemma3_text",
            {
                "vocab_size": 262208,
                "intermediate_size": 9216,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
                "max_position_embeddings": 131072,
                "tie_word_embeddings": True,
                "attention_bias": False,
                "sliding_window": 4096,
                "sliding_window_pattern": 6,
            },
            _source("gemma3", "008f5c8c29be84d4721dc6d1e0fcd72300580be4"),
            qk_norm=True,
            post_norms=True,
            swa="pattern",
            notes="the vision tower of gemma3 checkpoints goes to a separate mmproj file in llama.cpp",
        ),
        Architecture(
            "phi3",
            {
                "vocab_size": 32064,
                "intermediate_size": 8192,
                "num_attention_heads": 32,
                "num_key_value_heads": None,
                "max_position_embeddings": 4096,
                "tie_word_embeddings": False,
            },
            _source("phi3"),
            qkv_bias=False,
            fused_qkv=True,
            swa="ignored",
            notes="llama.cpp stores q/k/v as one attn_qkv tensor and disables Phi-3's sliding window",
        ),
        Architecture(
            "nemotron",
            {
                "vocab_size": 256000,
                "intermediate_size": 24576,
                "num_attention_heads": 48,
                "head_dim": None,
                "num_key_value_heads": None,
                "max_position_embeddings": 4096,
                "tie_word_embeddings": False,
                "attention_bias": False,
            },
            _source("nemotron", "05cd1ec14dbe16127778060fb68c34105873015c"),
            gated_ffn=False,
            norm_bias=True,
            notes="relu2 MLP: up and down projections only (no gate)",
        ),
        Architecture(
            "deepseek_v2",
            {
                "vocab_size": 32000,
                "intermediate_size": 11008,
                "num_attention_heads": 32,
                "num_key_value_heads": None,
                "max_position_embeddings": 2048,
                "tie_word_embeddings": False,
                "first_k_dense_replace": 0,
                "kv_lora_rank": 512,
                "q_lora_rank": 1536,
                "n_routed_experts": 64,
                "n_shared_experts": 2,
                "qk_nope_head_dim": 128,
                "qk_rope_head_dim": 64,
                "v_head_dim": 128,
                "num_experts_per_tok": None,
                "moe_intermediate_size": 1407,
            },
            _source("deepseek_v2"),
            moe="deepseek",
            mla=True,
        ),
        Architecture(
            "deepseek_v3",
            {
                "vocab_size": 129280,
                "intermediate_size": 18432,
                "moe_intermediate_size": 2048,
                "num_attention_heads": 128,
                "num_key_value_heads": 128,
                "n_shared_experts": 1,
                "n_routed_experts": 256,
                "kv_lora_rank": 512,
                "q_lora_rank": 1536,
                "qk_rope_head_dim": 64,
                "v_head_dim": 128,
                "qk_nope_head_dim": 128,
                "num_experts_per_tok": 8,
                "first_k_dense_replace": 3,
                "max_position_embeddings": 4096,
                "tie_word_embeddings": False,
            },
            _source("deepseek_v3"),
            moe="deepseek",
            mla=True,
            router_bias=True,
            notes="the multi-token-prediction layer is not part of llama.cpp's file",
        ),
        Architecture(
            "gpt_oss",
            {
                "num_local_experts": 128,
                "vocab_size": 201088,
                "intermediate_size": 2880,
                "head_dim": 64,
                "num_attention_heads": 64,
                "num_key_value_heads": 8,
                "sliding_window": 128,
                "tie_word_embeddings": False,
                "max_position_embeddings": 131072,
                "num_experts_per_tok": 4,
                "attention_bias": True,
            },
            _source("gpt_oss", "02b8f42b4240dddea1b27c45d2dc95fb2682f841"),
            output_bias=True,
            moe="mixtral",
            swa="every_other",
            attention_sinks=True,
            expert_bias=True,
            router_bias=True,
        ),
        Architecture(
            "granitemoe",
            {
                "vocab_size": 32000,
                "intermediate_size": 11008,
                "num_attention_heads": 32,
                "num_key_value_heads": None,
                "max_position_embeddings": 2048,
                "tie_word_embeddings": False,
                "attention_bias": False,
                "num_local_experts": 8,
                "num_experts_per_tok": 2,
            },
            _source("granitemoe", "040e1a7e4bb4f48ff62dfbbb1f6f8eff23e894ac"),
            moe="mixtral",
        ),
    )
}
# Multimodal wrappers whose text_config names no model_type: the text model type transformers uses.
TEXT_MODEL_OF: dict[str, str] = {"gemma3": "gemma3_text"}
# Keys that mean "experts" in some model's config: on an architecture without MoE they are not understood.
EXPERT_COUNT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts")
# Attention layer kinds this reader models (transformers' layer_types values).
KNOWN_LAYER_TYPES = {"full_attention", "sliding_attention"}


def _number(config: dict, key: str, arch: Architecture, used_defaults: list[str], *, allow_none: bool = False):
    if key in config and config[key] is not None:
        value = config[key]
    else:
        if key in REQUIRED_KEYS:
            raise InputError(f"config.json: missing field {key!r}")
        value = arch.defaults.get(key)
        if value is None:
            if allow_none:
                return None
            raise InputError(f"config.json: missing field {key!r} (and {arch.model_type} has no default for it)")
        used_defaults.append(f"{key}={value}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"config.json: {key!r} must be a positive whole number, got {str(value)[:40]!r}")
    if value != int(value) or value <= 0:
        raise InputError(f"config.json: {key!r} must be a positive whole number, got {str(value)[:40]!r}")
    limits.check_value(LIMITED_FIELD.get(key, key), value, what="config.json", label=repr(key))
    limit = OTHER_LIMITS.get(key)
    if limit and value > limit:
        raise InputError(f"config.json: {key!r} = {value:,} is more than the largest supported value {limit:,}")
    return int(value)


def _flag(config: dict, key: str, arch: Architecture, used_defaults: list[str]) -> bool:
    if key in config and config[key] is not None:
        value = config[key]
    else:
        value = arch.defaults.get(key, False)
        if key in arch.defaults:
            used_defaults.append(f"{key}={str(value).lower()}")
    if not isinstance(value, bool):
        raise InputError(f"config.json: {key} must be true or false, got {str(value)[:40]!r}")
    return value


def _text_part(config: dict) -> tuple[dict, str]:
    outer_type = config.get("model_type")
    text = config.get("text_config")
    if isinstance(text, dict):
        inner_type = text.get("model_type") or TEXT_MODEL_OF.get(str(outer_type))
        if not inner_type:
            raise InputError(
                f"config.json: the text_config of model_type {str(outer_type)[:40]!r} names no model_type; "
                "paste the language model's own config"
            )
        return text, str(inner_type)
    if text is not None:
        raise InputError("config.json: text_config must be an object")
    if not outer_type:
        raise InputError(
            "config.json: no model_type, so the architecture cannot be read; supported model types: "
            + ", ".join(ARCHITECTURES)
        )
    return config, str(outer_type)


def _swa_layers(config: dict, arch: Architecture, n_layers: int, used: list[str]) -> tuple[int | None, int]:
    """(window, number of sliding-window layers) as llama.cpp allocates them."""
    layer_types = config.get("layer_types")
    if layer_types is not None:
        if not isinstance(layer_types, list) or not all(isinstance(t, str) for t in layer_types):
            raise InputError("config.json: layer_types must be a list of strings")
        unknown = sorted(set(layer_types) - KNOWN_LAYER_TYPES)
        if unknown:
            raise InputError(
                f"config.json: layer_types {', '.join(u[:30] for u in unknown[:3])} are layers this reader does not "
                "model (only full_attention and sliding_attention)"
            )
    if arch.swa in ("none", "ignored"):
        return None, 0
    window = _number(config, "sliding_window", arch, used, allow_none=True)
    if not window:
        return None, 0
    if layer_types is not None:
        if len(layer_types) != n_layers:
            raise InputError(f"config.json: layer_types has {len(layer_types)} entries for {n_layers} layers")
        return window, sum(1 for t in layer_types if t == "sliding_attention")
    if arch.swa == "every_other":  # transformers: sliding when (i + 1) % 2; llama.cpp set_swa_pattern(2)
        return window, sum(1 for i in range(n_layers) if (i + 1) % 2)
    pattern = _number(config, "sliding_window_pattern", arch, used)
    return window, sum(1 for i in range(n_layers) if (i + 1) % pattern)


def _experts(config: dict, arch: Architecture, used: list[str]) -> dict[str, object]:
    present = {k: config[k] for k in EXPERT_COUNT_KEYS if isinstance(config.get(k), int) and config[k] > 1}
    if arch.moe == "none":
        if present:
            key = next(iter(present))
            raise InputError(
                f"config.json: {key} = {present[key]} describes experts, but model_type {arch.model_type!r} "
                "has no mixture-of-experts layers; check the model_type"
            )
        return {}
    key = {"mixtral": "num_local_experts", "qwen": "num_experts", "deepseek": "n_routed_experts"}[arch.moe]
    if key not in config and present:  # an alias the config class maps (attribute_map)
        key = next(iter(present))
    experts = _number(config, key, arch, used)
    per_token = _number(config, "num_experts_per_tok", arch, used)
    if per_token > experts:
        raise InputError(f"config.json: num_experts_per_tok {per_token} is more than the {experts} experts")
    fields: dict[str, object] = {"n_experts": experts, "n_experts_used": per_token}
    if arch.moe == "mixtral":
        fields["expert_ffn_hidden_size"] = _number(config, "intermediate_size", arch, used)
        return fields
    fields["expert_ffn_hidden_size"] = _number(config, "moe_intermediate_size", arch, used)
    if arch.moe == "qwen":
        step = _number(config, "decoder_sparse_step", arch, used)
        only = config.get("mlp_only_layers", arch.defaults.get("mlp_only_layers")) or []
        if not isinstance(only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in only):
            raise InputError("config.json: mlp_only_layers must be a list of layer numbers")
        fields["moe_layer_step"] = step
        fields["mlp_only_layers"] = tuple(sorted(set(only)))
        shared = _number(config, "shared_expert_intermediate_size", arch, used, allow_none=True)
        if shared:
            fields["n_shared_experts"] = 1
            fields["shared_expert_ffn_hidden_size"] = shared
        return fields
    # deepseek
    dense = config.get("first_k_dense_replace", arch.defaults.get("first_k_dense_replace")) or 0
    if not isinstance(dense, int) or isinstance(dense, bool) or dense < 0:
        raise InputError("config.json: first_k_dense_replace must be a whole number")
    freq = config.get("moe_layer_freq", 1)
    if freq != 1:
        raise InputError(f"config.json: moe_layer_freq {str(freq)[:20]} (MoE every n-th layer) is not modelled; only 1")
    fields["n_dense_layers"] = dense
    n_shared = config.get("n_shared_experts", arch.defaults.get("n_shared_experts")) or 0
    if not isinstance(n_shared, int) or isinstance(n_shared, bool) or n_shared < 0:
        raise InputError("config.json: n_shared_experts must be a whole number")
    fields["n_shared_experts"] = n_shared
    return fields


def spec_from_hf_config(data: str | bytes, name: str | None = None) -> ModelSpec:
    """A :class:`~dashboard.memory.ModelSpec` from a Hugging Face ``config.json``.

    Parameters
    ----------
    data
        The text of a ``config.json`` (a multimodal config's ``text_config`` is read).
    name
        The model's name; by default ``_name_or_path``, else the architecture class, else the model type.

    Raises
    ------
    InputError
        Naming the key, value or model type that was not understood.
    """
    try:
        text = text_of(data)
        config = load_json(text)
        if not isinstance(config, dict):
            raise InputError("config.json: expected a JSON object at the top level")
        part, model_type = _text_part(config)
        if model_type not in ARCHITECTURES:
            raise InputError(
                f"config.json: model_type {model_type[:40]!r} is not one this reader understands, so its tensors "
                f"cannot be counted; supported: {', '.join(ARCHITECTURES)}"
            )
        arch = ARCHITECTURES[model_type]
        return _spec(config, part, arch, name)
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise InputError(f"config.json: {str(exc)[:200]}") from None


def _spec(config: dict, part: dict, arch: Architecture, name: str | None) -> ModelSpec:
    used: list[str] = []
    layers = _number(part, "num_hidden_layers", arch, used)
    hidden = _number(part, "hidden_size", arch, used)
    heads = _number(part, "num_attention_heads", arch, used)
    kv_heads = _number(part, "num_key_value_heads", arch, used, allow_none=True) or heads
    if heads % kv_heads:
        raise InputError(
            f"config.json: num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}"
        )
    vocab = _number(part, "vocab_size", arch, used)
    context = _number(part, "max_position_embeddings", arch, used, allow_none=True) or UNSTATED_CONTEXT_TOKENS
    tied = _flag(part, "tie_word_embeddings", arch, used)
    fields: dict[str, object] = {}
    if arch.mla:
        rope = _number(part, "qk_rope_head_dim", arch, used)
        head_dim = _number(part, "qk_nope_head_dim", arch, used)
        q_lora = part.get("q_lora_rank", arch.defaults.get("q_lora_rank"))
        if q_lora is not None:
            q_lora = _number({"q_lora_rank": q_lora}, "q_lora_rank", arch, [])
        fields.update(
            kv_lora_rank=_number(part, "kv_lora_rank", arch, used),
            q_lora_rank=q_lora,
            rope_head_dim=rope,
            v_head_dim=_number(part, "v_head_dim", arch, used),
        )
    else:
        head_dim = _number(part, "head_dim", arch, used, allow_none=True)
        if head_dim is None:
            if hidden % heads:
                raise InputError(
                    f"config.json: hidden_size {hidden} is not divisible by num_attention_heads {heads}; give head_dim"
                )
            head_dim = hidden // heads
    qkv_bias = arch.qkv_bias
    if qkv_bias is None:
        key = "qkv_bias" if "qkv_bias" in arch.defaults else "attention_bias"
        qkv_bias = _flag(part, key, arch, used) if key in part or key in arch.defaults else False
    window, n_swa = _swa_layers(part, arch, layers, used)
    fields.update(_experts(part, arch, used))
    ffn = _number(part, "intermediate_size", arch, used)
    if fields.get("n_experts", 1) > 1 and arch.moe == "mixtral":
        ffn = 0  # every layer is MoE: no dense FFN
    label = name or part.get("_name_or_path") or config.get("_name_or_path")
    if not label:
        archs = config.get("architectures")
        label = archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], str) else arch.model_type
    notes = [arch.notes] if arch.notes else []
    if arch.swa == "ignored" and part.get("sliding_window") and part.get("use_sliding_window", True):
        notes.append(f"sliding_window {part['sliding_window']} in config.json is not used by llama.cpp for this model")
    if used:
        notes.append(f"transformers defaults used ({arch.model_type}): {', '.join(used)}")
    spec_fields = dict(
        name=clean_name(str(label), "model name", None),
        n_layers=layers,
        n_heads=heads,
        n_kv_heads=kv_heads,
        head_dim=head_dim,
        hidden_size=hidden,
        vocab_size=vocab,
        max_context=context,
        ffn_hidden_size=ffn,
        tied_embeddings=tied,
        attention_bias=qkv_bias,
        attention_output_bias=arch.output_bias,
        sliding_window=window if n_swa else None,
        n_swa_layers=n_swa,
        gated_ffn=arch.gated_ffn,
        fused_qkv=arch.fused_qkv,
        qk_norm=arch.qk_norm,
        post_norms=arch.post_norms,
        norm_bias=arch.norm_bias,
        attention_sinks=arch.attention_sinks,
        expert_bias=arch.expert_bias,
        router_bias=arch.router_bias,
        shared_expert_gate=arch.shared_expert_gate and bool(fields.get("shared_expert_ffn_hidden_size")),
        family=arch.model_type,
        notes="; ".join(notes),
        source=f"user config.json ({arch.model_type}; defaults from {arch.source})",
        **fields,
    )
    provisional = ModelSpec(params=1.0, **spec_fields)  # type: ignore[arg-type]
    return ModelSpec(params=float(n_weights(provisional)), **spec_fields)  # type: ignore[arg-type]


def describe(spec: ModelSpec) -> str:
    """One line saying what was read: parameters, layers, experts, context (for the confirmation)."""
    parts = [f"{spec.params / 1e9:.2f}B parameters", f"{spec.n_layers} layers"]
    if spec.n_experts > 1:
        parts.append(
            f"MoE: {spec.n_experts} experts, {spec.n_experts_used} active per token "
            f"({spec.active_params / 1e9:.2f}B active parameters)"
        )
    parts.append(f"{spec.n_heads} heads / {spec.n_kv_heads} KV heads × {spec.head_dim}")
    if spec.n_swa_layers:
        parts.append(f"{spec.n_swa_layers} sliding-window layers ({spec.sliding_window} tokens)")
    parts.append(f"trained context {spec.max_context:,} tokens")
    return ", ".join(parts)
