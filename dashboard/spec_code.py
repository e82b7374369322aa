"""A model architecture as a short URL value, so a shared link carries a pasted config.json or an opened GGUF.

Pure domain logic (no Panel). :func:`encode` writes the fields of a :class:`~dashboard.memory.ModelSpec` that
differ from their defaults as ``key.value`` tokens joined by ``~`` (URL-safe without escaping), the name last
in base64url, after the version:
``V.1~L.48~h.2048~a.32~k.4~d.128~f.6144~v.151936~c.40960~e.128~u.8~x.768~qk~N.UXdlbjMtMzBCLUEzQg``.
:func:`decode` accepts only that grammar: known keys once each, whole numbers (flags without a value), a name
of at most :data:`MAX_NAME_CHARS` characters; the parameter count is always recounted from the architecture,
never read from the link, and the result goes through :class:`ModelSpec`'s own validation.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import fields

from dashboard.memory import ModelSpec, n_weights

MAX_CODE_CHARS = 600
MAX_NAME_CHARS = 120
VERSION = "1"

# key -> ModelSpec field; integers (None when absent) unless listed in FLAGS / LISTS / TEXT
KEYS: dict[str, str] = {
    "L": "n_layers",
    "h": "hidden_size",
    "a": "n_heads",
    "k": "n_kv_heads",
    "d": "head_dim",
    "f": "ffn_hidden_size",
    "v": "vocab_size",
    "c": "max_context",
    "w": "sliding_window",
    "s": "n_swa_layers",
    "e": "n_experts",
    "u": "n_experts_used",
    "sh": "n_shared_experts",
    "x": "expert_ffn_hidden_size",
    "xs": "shared_expert_ffn_hidden_size",
    "dl": "n_dense_layers",
    "ms": "moe_layer_step",
    "mo": "mlp_only_layers",
    "ql": "q_lora_rank",
    "kl": "kv_lora_rank",
    "r": "rope_head_dim",
    "vh": "v_head_dim",
    "t": "tied_embeddings",
    "ab": "attention_bias",
    "ob": "attention_output_bias",
    "ng": "gated_ffn",  # present = NOT gated (the default is gated)
    "fq": "fused_qkv",
    "qk": "qk_norm",
    "pn": "post_norms",
    "nb": "norm_bias",
    "as": "attention_sinks",
    "sg": "shared_expert_gate",
    "eb": "expert_bias",
    "rb": "router_bias",
    "gq": "gguf_quant",
    "gb": "gguf_file_bytes",
    "gt": "gguf_tensor_bytes",
    "mm": "mmproj_bytes",
    "fa": "family",
    "N": "name",
}
FLAGS = {"t", "ab", "ob", "ng", "fq", "qk", "pn", "nb", "as", "sg", "eb", "rb"}
LISTS = {"mo"}
TEXT = {"gq", "fa", "N"}
_FIELD_KEY = {v: k for k, v in KEYS.items()}
_TOKEN = re.compile(r"^([A-Za-z]{1,2})(?:\.([A-Za-z0-9_\-]{1,200}))?$")
_QUANT = re.compile(r"^[A-Za-z0-9_.+\-]{1,40}$")
_DEFAULTS = {f.name: f.default for f in fields(ModelSpec) if f.name not in ("name", "params")}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _unb64(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")


def encode(spec: ModelSpec) -> str:
    """The URL value of ``spec``'s architecture (every field that differs from its default, and the name)."""
    tokens = [f"V.{VERSION}"]
    for key, name in KEYS.items():
        if name in ("name", "family"):
            continue
        value = getattr(spec, name)
        if key == "ng":
            if not spec.gated_ffn:
                tokens.append(key)
            continue
        if name not in ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size", "max_context"):
            if value == _DEFAULTS.get(name):
                continue
        if key in FLAGS:
            if value:
                tokens.append(key)
        elif key in LISTS:
            tokens.append(f"{key}.{'-'.join(str(int(i)) for i in value)}")
        elif key in TEXT:
            tokens.append(f"{key}.{_b64(str(value))}")
        else:
            tokens.append(f"{key}.{int(value)}")
    if spec.family != _DEFAULTS["family"]:
        tokens.append(f"fa.{_b64(spec.family)}")
    tokens.append(f"N.{_b64(spec.name[:MAX_NAME_CHARS])}")
    return "~".join(tokens)


def decode(code: str) -> ModelSpec:
    """The architecture a URL value describes; ``ValueError`` naming what is wrong otherwise."""
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_CHARS:
        raise ValueError(f"expected a model code of at most {MAX_CODE_CHARS} characters")
    values: dict[str, object] = {}
    version_seen = False
    for token in code.split("~"):
        match = _TOKEN.match(token)
        if not match:
            raise ValueError(f"{token[:20]!r} is not part of a model code")
        key, raw = match.group(1), match.group(2)
        if key == "V":
            if raw != VERSION:
                raise ValueError(f"model code version {str(raw)[:5]!r} is not one this page reads")
            version_seen = True
            continue
        if key not in KEYS:
            raise ValueError(f"{key!r} is not a model code key")
        name = KEYS[key]
        if name in values:
            raise ValueError(f"{key!r} appears twice")
        if key in FLAGS:
            if raw is not None:
                raise ValueError(f"{key!r} takes no value")
            values[name] = key != "ng"
            continue
        if raw is None:
            raise ValueError(f"{key!r} needs a value")
        if key in TEXT:
            try:
                text = _unb64(raw)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise ValueError(f"{key!r} is not valid base64url text") from None
            if len(text) > MAX_NAME_CHARS or any(ord(ch) < 32 for ch in text):
                raise ValueError(f"{key!r} text is too long or has control characters")
            if key == "gq" and not _QUANT.match(text):
                raise ValueError("the GGUF quant label is not a label")
            values[name] = text
        elif key in LISTS:
            if not re.fullmatch(r"\d{1,4}(?:-\d{1,4}){0,255}", raw):
                raise ValueError(f"{key!r} must be layer numbers joined by '-'")
            values[name] = tuple(sorted({int(i) for i in raw.split("-")}))
        else:
            if not re.fullmatch(r"\d{1,15}", raw):
                raise ValueError(f"{key!r} must be a whole number")
            values[name] = int(raw)
    if not version_seen:
        raise ValueError("the model code has no version")
    missing = [k for k in ("L", "h", "a", "k", "d", "v", "c", "N") if KEYS[k] not in values]
    if missing:
        raise ValueError(f"the model code lacks {', '.join(missing)}")
    if any(i >= values["n_layers"] for i in values.get("mlp_only_layers", ())):  # type: ignore[operator]
        raise ValueError("mlp_only_layers names a layer the model does not have")
    values.setdefault("ffn_hidden_size", 0)
    values.setdefault("source", "shared link")
    provisional = ModelSpec(params=1.0, **values)  # type: ignore[arg-type]
    return ModelSpec(params=float(n_weights(provisional)), **values)  # type: ignore[arg-type]
