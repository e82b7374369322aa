"""User measurements and model configs: real llama-perplexity layouts, CSV, and a corpus of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.hf_config import spec_from_hf_config
from dashboard.ingest import MEASUREMENT_SCHEMA, InputError, parse_measurements
from dashboard.memory import estimate

FIXTURES = Path(__file__).parent / "fixtures"


def test_kl_divergence_run_is_parsed() -> None:
    df = parse_measurements((FIXTURES / "llama_perplexity_kld_q4_k_m.txt").read_text(encoding="utf-8"))
    assert df.schema == MEASUREMENT_SCHEMA
    row = df.row(0, named=True)
    assert row["model"] == "Meta Llama 3 8B"
    assert row["quant"] == "Q4_K_M"  # from "file type = Q4_K - Medium"
    assert row["file_size_gib"] == pytest.approx(4.58)
    assert row["perplexity"] == pytest.approx(6.407115)
    assert row["perplexity_err"] == pytest.approx(0.039119)
    assert row["delta_perplexity"] == pytest.approx(0.175482)
    assert row["mean_kld"] == pytest.approx(0.031273)
    assert row["rms_delta_p_pct"] == pytest.approx(5.519)
    assert row["same_top_p_pct"] == pytest.approx(91.901)


def test_plain_run_gives_the_final_estimate_and_converts_mib() -> None:
    df = parse_measurements((FIXTURES / "llama_perplexity_plain.txt").read_bytes())
    row = df.row(0, named=True)
    assert (row["model"], row["quant"]) == ("My Fine Tune 8B", "IQ4_XS")
    assert row["perplexity"] == pytest.approx(6.4597)
    assert row["perplexity_err"] == pytest.approx(0.03951)
    assert row["file_size_gib"] == pytest.approx(4270.35 / 1024)
    assert row["mean_kld"] is None


def test_user_names_model_and_quant_when_the_text_does_not() -> None:
    text = "Final estimate: PPL = 7.1234 +/- 0.04000\n"
    with pytest.raises(InputError, match="does not name the model"):
        parse_measurements(text)
    with pytest.raises(InputError, match="does not say the quant type"):
        parse_measurements(text, model="Mine")
    df = parse_measurements(text, model="Mine", quant="q5_k_m")
    assert df.row(0, named=True)["quant"] == "Q5_K_M"


CSV = """model,quant,file_size_gib,perplexity,mean_kld,generation_tokens_per_s
Mine-7B,F16,13.5,5.90,,40
Mine-7B,Q4_K_M,4.1,6.02,0.03,95.5
Mine-7B,IQ2_XS,2.2,7.5,0.4,
"""


def test_csv_is_parsed_and_delta_ppl_is_derived_from_the_f16_row() -> None:
    df = parse_measurements(CSV)
    assert df.height == 3
    q4 = df.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["delta_perplexity"] == pytest.approx(0.12)
    assert q4["generation_tokens_per_s"] == 95.5
    assert df.filter(pl.col("quant") == "IQ2_XS")["generation_tokens_per_s"][0] is None


BAD_INPUTS = [
    ("", "empty"),
    ("   \n\n", "empty"),
    ("model,quant\n", "no data rows"),
    ("model,quant,perplexity\nA,Q4_K_M,6.1\nB,Q5_K_M", "line 3: expected 3 fields, found 2"),
    ("model,perplexity\nA,6.1\n", "needs the columns quant"),
    ("model,quant,colour\nA,Q4_K_M,red\n", "unknown column"),
    ("model,quant,perplexity\nA,Q4_K_M,nan\n", "line 2, column 'perplexity': expected a finite number"),
    ("model,quant,perplexity\nA,Q4_K_M,-3\n", "line 2, column 'perplexity': -3 is out of range"),
    ("model,quant,perplexity\nA,Q4_K_M,1e300\n", "out of range"),
    ("model,quant,perplexity\nA,Q4_K_M,abc\n", "expected a number"),
    ("model,quant,perplexity\nA,Q4 K<M,6\n", "line 2: 'Q4 K<M' is not a quant label"),
    ("model,quant,perplexity\nA,best,6\n", "line 2: 'best' is not a quant label"),
    ("model,quant,perplexity\n,Q4_K_M,6\n", "line 2: model is empty"),
    ("model,quant,perplexity\nA,Q4_K_M,\n", "line 2: no measurement"),
    ("model,quant,file_size_gib\nA,Q4_K_M,inf\n", "finite"),
    ("Final estimate: PPL = 6.4 +/- 0.03\n" + "====== Perplexity statistics ======\n", "truncated"),
    ("====== KL divergence statistics ======\n", "truncated"),
    ("====== KL divergence statistics ======\nMean    KLD:   0.031273 ±   0.000184\n", "does not name the model"),
    ("hello world\n", "no 'Final estimate"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"model,quant\n\xff\xfe\xfa", "not UTF-8"),
    (b"x" * 5_000_001, "5 MB"),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_is_a_clear_input_error(data: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_measurements(data)
    assert isinstance(info.value, ValueError)


def test_too_many_rows_is_rejected() -> None:
    text = "model,quant,perplexity\n" + "A,Q4_K_M,6\n" * 100_001
    with pytest.raises(InputError, match="more than 100,000 rows"):
        parse_measurements(text)


def test_html_and_script_names_stay_text() -> None:
    payload = "<img src=x onerror=alert(1)>"
    df = parse_measurements(f"model,quant,perplexity\n{payload},Q4_K_M,6.2\n")
    assert df["model"][0] == payload  # kept verbatim; every view escapes it


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=400),
        st.binary(max_size=400),
        st.lists(st.text(alphabet=",\n0123456789.-eEnaifQK_M modelquantperplexity", max_size=30), max_size=12).map(
            "\n".join
        ),
    )
)
def test_fuzz_parse_measurements_raises_only_input_error(data: str | bytes) -> None:
    try:
        df = parse_measurements(data)
    except InputError:
        return
    assert df.schema == MEASUREMENT_SCHEMA
    assert df.height >= 1


LLAMA_3_8B_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "max_position_embeddings": 131072,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "tie_word_embeddings": False,
    "vocab_size": 128256,
    "model_type": "llama",
}


def test_hf_config_gives_the_same_memory_as_the_catalog_model() -> None:
    spec = spec_from_hf_config(json.dumps(LLAMA_3_8B_CONFIG), name="pasted")
    assert spec.head_dim == 128 and spec.n_gqa == 4
    pasted = estimate(spec, "Q4_K_M", 8192)
    catalog = estimate("Llama-3.1-8B", "Q4_K_M", 8192)
    assert pasted.total_gib == pytest.approx(catalog.total_gib)
    assert spec.params == pytest.approx(8.03e9, rel=0.001)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_hidden_layers": None}, "missing field 'num_hidden_layers'"),
        ({"num_attention_heads": 32, "num_key_value_heads": 6}, "not a multiple"),
        ({"hidden_size": 4000, "num_attention_heads": 48, "num_key_value_heads": 8}, "not divisible"),
        ({"vocab_size": -1}, "'vocab_size' must be a positive whole number"),
        ({"intermediate_size": "big"}, "'intermediate_size' must be a positive whole number"),
        ({"tie_word_embeddings": "yes"}, "tie_word_embeddings must be true or false"),
        ({"model_type": "mamba"}, "model_type 'mamba' is not one this reader understands"),
    ],
)
def test_hf_config_problems_are_named(change: dict, message: str) -> None:
    config = {**LLAMA_3_8B_CONFIG, **change}
    config = {k: v for k, v in config.items() if v is not None}
    with pytest.raises(InputError, match=message):
        spec_from_hf_config(json.dumps(config))


def test_hf_config_that_is_not_json() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        spec_from_hf_config("{hidden_size: 4096")
