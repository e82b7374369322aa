"""The data tables: pinned schemas, provenance, and loader errors that name file, line and column."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from dashboard import data


def test_every_table_loads_with_its_pinned_schema() -> None:
    tables = data.load_all()
    assert set(tables) == set(data.TABLES)
    assert tables["quant_types"].schema == {
        "quant": pl.String(),
        "ftype_id": pl.Int64(),
        "family": pl.String(),
        "base_ggml_type": pl.String(),
        "nominal_bits_per_weight": pl.Float64(),
        "description": pl.String(),
        "source": pl.String(),
    }
    assert tables["ggml_types"].schema == {
        "ggml_type": pl.String(),
        "ggml_type_id": pl.Int64(),
        "block_size_weights": pl.Int64(),
        "bytes_per_block": pl.Int64(),
        "bits_per_weight": pl.Float64(),
        "kv_cache_type": pl.Boolean(),
        "source": pl.String(),
    }
    assert tables["llama31_8b_files"].schema == {
        "model": pl.String(),
        "quant": pl.String(),
        "file_bits_per_weight": pl.Float64(),
        "file_size_gib": pl.Float64(),
        "prompt_tokens_per_s": pl.Float64(),
        "prompt_tokens_per_s_err": pl.Float64(),
        "generation_tokens_per_s": pl.Float64(),
        "generation_tokens_per_s_err": pl.Float64(),
        "hardware_backend": pl.String(),
        "source": pl.String(),
    }
    assert tables["llama3_8b_quality"].schema == {
        "quant": pl.String(),
        "imatrix": pl.String(),
        "file_size_gib": pl.Float64(),
        "perplexity": pl.Float64(),
        "perplexity_err": pl.Float64(),
        "delta_perplexity": pl.Float64(),
        "delta_perplexity_err": pl.Float64(),
        "mean_kld": pl.Float64(),
        "mean_kld_err": pl.Float64(),
        "mean_delta_p_pct": pl.Float64(),
        "rms_delta_p_pct": pl.Float64(),
        "source": pl.String(),
    }
    # the remaining tables: their schema is exactly the declared one
    for name in data.TABLES:
        assert tables[name].schema == data.schema_of(name), name


def test_every_row_of_every_table_names_its_source() -> None:
    for name, df in data.load_all().items():
        assert df.height > 0, name
        assert df["source"].null_count() == 0, name
        assert (df["source"].str.len_chars() > 10).all(), f"{name}: a source is too short to be a citation"


def test_sources_md_describes_every_file_and_column(data_folder: Path) -> None:
    text = (data_folder / "SOURCES.md").read_text(encoding="utf-8")
    for name, schema in data.SCHEMAS.items():
        assert f"`{name}`" in text, f"SOURCES.md does not describe {name}"
        for column in schema:
            assert f"`{column}`" in text, f"SOURCES.md does not describe column {column} of {name}"


def test_quant_types_cover_floats_down_to_one_bit() -> None:
    quants = set(data.load_table("quant_types")["quant"])
    for q in ["F32", "F16", "BF16", "Q8_0", "Q6_K", "Q4_K_M", "IQ4_XS", "IQ2_XXS", "IQ1_S", "TQ1_0", "MXFP4_MOE"]:
        assert q in quants


def test_each_quant_types_base_ggml_type_is_the_one_the_mix_rules_use() -> None:
    """quant_types.csv and gguf_mix.DEFAULT_TYPE (llama_ftype_get_default_type) name the same base type."""
    from dashboard.gguf_mix import DEFAULT_TYPE

    table = dict(data.load_table("quant_types").select("quant", "base_ggml_type").iter_rows())
    assert table == DEFAULT_TYPE


def _corrupt_copy(tmp_path: Path, data_folder: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(data_folder, folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_a_non_numeric_cell_is_reported_with_file_line_and_column(tmp_path: Path, data_folder: Path) -> None:
    folder = _corrupt_copy(tmp_path, data_folder, "ggml_types.csv", "Q4_0,2,32,18,", "Q4_0,2,32,eighteen,")
    line = next(i for i, t in enumerate((folder / "ggml_types.csv").read_text().splitlines(), 1) if "eighteen" in t)
    with pytest.raises(data.DataError, match=rf"ggml_types\.csv, line {line}, column 'bytes_per_block'"):
        data.parse_table("ggml_types.csv", (folder / "ggml_types.csv").read_text())


def test_a_missing_required_value_is_an_error(data_folder: Path) -> None:
    text = (data_folder / "quant_types.csv").read_text().replace("Q4_K_M,15,k-quant,Q4_K", "Q4_K_M,,k-quant,Q4_K")
    with pytest.raises(data.DataError, match=r"quant_types\.csv, line \d+, column 'ftype_id': value is required"):
        data.parse_table("quant_types.csv", text)


def test_a_negative_size_is_rejected(data_folder: Path) -> None:
    text = (data_folder / "llama31_8b_files.csv").read_text().replace(",4.8944,4.58,", ",4.8944,-4.58,")
    with pytest.raises(data.DataError, match=r"column 'file_size_gib': expected a value >= 0"):
        data.parse_table("llama31_8b_files.csv", text)


def test_a_renamed_column_is_an_error(data_folder: Path) -> None:
    text = (data_folder / "models.csv").read_text().replace("n_kv_heads", "kv_heads", 1)
    with pytest.raises(data.DataError, match=r"models\.csv, line 1: header mismatch"):
        data.parse_table("models.csv", text)


def test_a_short_row_is_an_error(data_folder: Path) -> None:
    lines = (data_folder / "speed.csv").read_text().splitlines()
    lines[3] = ",".join(lines[3].split(",")[:4])
    with pytest.raises(data.DataError, match=r"speed\.csv, line 4: expected 12 fields, found 4"):
        data.parse_table("speed.csv", "\n".join(lines))


def test_non_utf8_file_is_rejected(tmp_path: Path, data_folder: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(data_folder, folder)
    (folder / "models.csv").write_bytes(b"model\xff\xfe,broken\n")
    with pytest.raises(data.DataError, match=r"models\.csv: not UTF-8"):
        data.load_table("models", str(folder))


def test_nan_is_not_a_number_we_accept(data_folder: Path) -> None:
    text = (data_folder / "llama3_8b_quality.csv").read_text().replace(",6.407115,", ",nan,", 1)
    with pytest.raises(data.DataError, match=r"column 'perplexity': expected a finite number"):
        data.parse_table("llama3_8b_quality.csv", text)


def test_data_files_match_a_fresh_curation_of_the_research(repo_root: Path) -> None:
    """The shipped tables are exactly what scripts/curate_data.py makes from the sourced research tables."""
    import subprocess
    import sys

    research = repo_root.parent / "shared" / "research"
    if not research.is_dir():
        # in CI the research folder is checked out beside the repository: missing there is a failure
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the research folder {research} is missing: the curation cannot be checked")
        pytest.skip("the research folder (../shared/research) is not beside this checkout")
    result = subprocess.run(
        [sys.executable, "scripts/curate_data.py", "--check"], cwd=repo_root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
