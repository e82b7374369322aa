"""Any quant label in your measurements: shown as written, mapped to its llama-quantize base where evident,
placed by its measured size; text that is not a label is refused."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.frames import spectrum_cells
from dashboard.ingest import InputError, parse_measurements
from dashboard.quant_labels import base_type, label_in_log, normalise
from dashboard.state import Explorer
from tests.perplexity_logs import kld_log_labelled


@pytest.mark.parametrize(
    ("written", "stored", "base"),
    [
        ("UD-Q4_K_XL", "UD-Q4_K_XL", "Q4_K_M"),
        ("UD-Q2_K_XL", "UD-Q2_K_XL", "Q2_K"),
        ("Q4_K_L", "Q4_K_L", "Q4_K_M"),
        ("Q6_K_XL", "Q6_K_XL", "Q6_K"),
        ("Q4_0_4_4", "Q4_0_4_4", "Q4_0"),
        ("IQ4_NL_4_4", "IQ4_NL_4_4", "IQ4_NL"),
        ("IQ2_KL", "IQ2_KL", None),  # ik_llama.cpp's own type: no llama-quantize base
        ("Q8_K_XL", "Q8_K_XL", None),
        ("q5_k_m", "Q5_K_M", "Q5_K_M"),
        ("Q4_K", "Q4_K_M", "Q4_K_M"),  # llama-quantize's alias
        ("fp16", "F16", "F16"),
        ("Q3_K_L", "Q3_K_L", "Q3_K_L"),  # a real type, not Q3_K + _L
    ],
)
def test_labels_are_kept_and_mapped(written: str, stored: str, base: str | None) -> None:
    assert normalise(written) == stored
    assert base_type(stored) == base


@pytest.mark.parametrize("text", ["best", "Q4 K M", "<script>alert(1)</script>", "Q4_K_M\u202e", "-Q4", "x" * 41 + "1"])
def test_text_that_is_not_a_label_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a quant label"):
        normalise(text)
    with pytest.raises(InputError, match="not a quant label"):
        parse_measurements(f"model,quant,perplexity\nMine,{text},6.1\n")


def test_csv_rows_keep_their_labels_and_bases() -> None:
    df = parse_measurements(
        "model,quant,file_size_gib,mean_kld\nQwen3-30B-A3B,UD-Q4_K_XL,16.5,0.02\nQwen3-30B-A3B,IQ2_KL,9.1,0.2\n"
    )
    assert df["quant"].to_list() == ["UD-Q4_K_XL", "IQ2_KL"]
    assert df["quant_base"].to_list() == ["Q4_K_M", None]


def test_a_kld_log_takes_its_label_from_the_file_name() -> None:
    df = parse_measurements(kld_log_labelled("UD-Q2_K_XL", "Q2_K - Medium"))
    row = df.row(0, named=True)
    assert (row["quant"], row["quant_base"]) == ("UD-Q2_K_XL", "Q2_K")
    assert row["file_size_gib"] == pytest.approx(4.58) and row["mean_kld"] == pytest.approx(0.031273)
    # a type llama.cpp does not name in its file-type line is fine when the file name carries the label
    assert parse_measurements(kld_log_labelled("IQ2_KL", "unknown, may not work"))["quant"][0] == "IQ2_KL"


def test_label_in_log_reads_split_files_and_ignores_other_lines() -> None:
    line = "llama_model_loader: loaded meta data with 3 key-value pairs and 9 tensors from {} (version GGUF V3)"
    assert label_in_log(line.format("/m/Qwen3-235B-A22B-UD-Q4_K_XL-00001-of-00003.gguf")) == "UD-Q4_K_XL"
    assert label_in_log(line.format("ggml-model-f16.gguf")) == "F16"
    assert label_in_log(line.format("my-finetune.gguf")) is None
    assert label_in_log("print_info: file type = Q4_K - Medium") is None


def test_user_labels_show_as_written_in_the_spectrum_and_by_size_in_the_scatter() -> None:
    ex = Explorer()
    ex.add_measurements(parse_measurements(kld_log_labelled("UD-Q2_K_XL", "Q2_K - Medium")))
    rows = set(spectrum_cells(ex.quants, ex.user_measurements, ex.model_quality)["row"])
    assert any(r.startswith("UD-Q2_K_XL · ") and r.endswith("(yours)") for r in rows)
    mine = ex.user_measurements.filter(pl.col("quant") == "UD-Q2_K_XL")
    assert mine["file_size_gib"][0] == pytest.approx(4.58)  # the scatter's x: its own measured size
