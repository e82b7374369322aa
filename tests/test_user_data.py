"""User data in the state and the panel, without a browser."""

from __future__ import annotations

import polars as pl

from dashboard.frames import efficiency_points, quality_points, spectrum_cells
from dashboard.ingest import parse_measurements
from dashboard.state import CONFIG_MODEL, Explorer
from dashboard.views.user_data import UserDataPanel

CSV = "model,quant,file_size_gib,perplexity,mean_kld\nMine,F16,13.5,5.9,\nMine,Q4_K_M,4.1,6.02,0.03\n"


def test_user_rows_join_the_views_and_leave_the_builtin_data_alone() -> None:
    ex = Explorer()
    builtin = ex.quants
    ex.add_measurements(parse_measurements(CSV))
    assert ex.quants is builtin and ex.quants.equals(builtin)
    heat = spectrum_cells(ex.quants, ex.user_measurements, ex.model_quality)
    assert "Q4_K_M · Mine (yours)" in set(heat["row"])
    eff = efficiency_points(ex.user_measurements)
    assert "Mine (yours)" in set(eff["model"])
    points = quality_points(ex.quants, ex.model_sizes, ex.user_measurements, ex.model_quality).filter(
        pl.col("origin") == "yours"
    )
    assert points.select("quant", "weights_gib").rows() == [("F16", 13.5), ("Q4_K_M", 4.1)]
    csv = ex.dataset_csv()
    assert "yours,Mine,Q4_K_M" in csv and "built-in" in csv
    ex.remove_user_data()
    assert ex.user_measurements.height == 0
    assert not any("(yours)" in r for r in spectrum_cells(ex.quants, ex.user_measurements, ex.model_quality)["row"])


def test_failed_parse_leaves_everything_as_it_was() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._paste.value = CSV
    panel._on_add()
    before = ex.user_measurements
    panel._paste.value = "model,quant,perplexity\nMine,Q4_K_M,not-a-number\n"
    panel._on_add()
    assert panel.status_kind == "danger" and "line 2" in panel.status
    assert ex.user_measurements is before


def test_status_messages_escape_user_text() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._paste.value = "model,quant,perplexity\n<img src=x onerror=alert(1)>,Q4_K_M,6.2\n"
    panel._on_add()
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel.status
    assert "<img" not in panel.status


def test_config_json_becomes_the_model() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._config.value = (
        '{"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_attention_heads": 32,'
        ' "num_hidden_layers": 16, "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": true,'
        ' "_name_or_path": "tiny"}'
    )
    panel._on_config()
    assert ex.constraints.model == CONFIG_MODEL
    assert ex.recommendation.constraints.model.name == "tiny"
    panel._config.value = '{"model_type": "llama", "hidden_size": 2048}'
    panel._on_config()
    assert panel.status_kind == "danger" and "missing field" in panel.status
    assert ex.recommendation.constraints.model.name == "tiny"


def test_user_points_need_a_size() -> None:
    ex = Explorer()
    ex.add_measurements(parse_measurements("model,quant,perplexity\nMine,Q4_K_M,6.1\n"))
    assert ex.user_measurements.filter(pl.col("file_size_gib").is_not_null()).height == 0
