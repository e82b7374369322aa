"""The architecture in a URL value: exact round trips, and only that grammar is accepted."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.hf_config import spec_from_hf_config
from dashboard.memory import ModelSpec, catalog, tensors
from dashboard.spec_code import MAX_CODE_CHARS, decode, encode

CONFIGS = sorted((Path(__file__).parent / "fixtures" / "configs").glob("*.json"))
IGNORED = {"source", "notes", "params_active"}  # provenance, not architecture


def same_architecture(a: ModelSpec, b: ModelSpec) -> None:
    for f in fields(ModelSpec):
        if f.name not in IGNORED:
            assert getattr(a, f.name) == getattr(b, f.name), f.name
    assert [(t.name, t.n_elements) for t in tensors(a)] == [(t.name, t.n_elements) for t in tensors(b)]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_real_config_round_trips(path: Path) -> None:
    spec = spec_from_hf_config(path.read_text(encoding="utf-8"))
    code = encode(spec)
    assert len(code) < 200
    same_architecture(decode(code), spec)


@pytest.mark.parametrize("name", list(catalog()))
def test_every_catalog_model_round_trips(name: str) -> None:
    spec = catalog()[name]
    decoded = decode(encode(spec))
    for f in fields(ModelSpec):
        if f.name not in IGNORED:
            assert getattr(decoded, f.name) == getattr(spec, f.name), f.name


def test_a_gguf_models_exact_bytes_and_mmproj_travel_too() -> None:
    spec = replace(
        catalog()["Qwen3-8B"],
        name="My <b>model</b> ✓",
        gguf_quant="UD-Q4_K_XL",
        gguf_file_bytes=5_027_781_216,
        gguf_tensor_bytes=5_020_000_000,
        mmproj_bytes=851_000_000,
        mlp_only_layers=(0, 3),
    )
    same_architecture(decode(encode(spec)), spec)


def test_the_parameter_count_is_recounted_never_read() -> None:
    spec = spec_from_hf_config((CONFIGS[0]).read_text(encoding="utf-8"))
    assert decode(encode(replace(spec, params=1.0))).params == spec.params


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "at most"),
        ("x" * (MAX_CODE_CHARS + 1), "at most"),
        ("L.32~h.4096", "no version"),
        ("V.2~L.32", "version '2'"),
        ("V.1~L.32~L.40~h.1~a.1~k.1~d.1~v.1~c.1~N.eA", "appears twice"),
        ("V.1~zz.3", "not a model code key"),
        ("V.1~L.-3", "whole number"),
        ("V.1~L.3 4", "not part of a model code"),
        ("V.1~L.3e5", "whole number"),
        ("V.1~qk.1", "takes no value"),
        ("V.1~L", "needs a value"),
        ("V.1~L.32~h.4096", "lacks"),
        ("V.1~L.2~h.64~a.1~k.1~d.64~v.10~c.10~N.%%%", "not part of a model code"),
        ("V.1~L.2~h.64~a.1~k.1~d.64~v.10~c.10~N.AA", "control characters"),
        ("V.1~L.2~h.64~a.1~k.1~d.64~v.10~c.10~mo.5~N.eA", "does not have"),
        ("V.1~L.2~h.64~a.3~k.2~d.64~v.10~c.10~N.eA", "multiple of n_kv_heads"),
        ("V.1~L.2~h.64~a.1~k.1~d.64~v.10~c.10~e.2~u.3~N.eA", "n_experts_used"),
    ],
)
def test_anything_else_is_refused_with_a_reason(code: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode(code)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.tuples(
                st.sampled_from(["V", "L", "h", "a", "k", "d", "v", "c", "e", "u", "x", "N", "qk", "mo", "gq", "zz"]),
                st.one_of(st.none(), st.text(alphabet="0123456789-_abAB", min_size=1, max_size=8)),
            ),
            max_size=14,
        ).map(lambda pairs: "~".join(k if v is None else f"{k}.{v}" for k, v in pairs)),
    )
)
def test_fuzz_decode_raises_only_value_errors(code: str) -> None:
    try:
        spec = decode(code)
    except ValueError:
        return
    assert spec.params > 0 and json.dumps(spec.name)
