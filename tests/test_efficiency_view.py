"""The efficiency charts' data with the user's own rows: nothing the user adds may empty or take over a chart."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from dashboard.ingest import parse_measurements
from dashboard.state import Explorer
from dashboard.views.efficiency import EfficiencyCharts

LONG = "My very long fine-tuned model name v2"
# a Q8_0 that measured slightly below its F16 (common): no cost per GB saved, nothing to draw on a log axis
CSV = f"model,quant,file_size_gib,perplexity\n{LONG},F16,13.5,5.9\n{LONG},Q4_K_M,4.1,6.02\n{LONG},Q8_0,7.1,5.89\n"


@pytest.fixture(scope="module")
def bars() -> hv.Bars:
    hv.extension("bokeh", logo=False)
    explorer = Explorer()
    explorer.user_measurements = parse_measurements(CSV)
    return EfficiencyCharts(explorer=explorer)._bars([], explorer.user_measurements)


def test_a_user_f16_row_keeps_every_bar(bars: hv.Bars) -> None:
    df = bars.dframe()
    floor, _ = bars.get_dimension("pct_per_gb_saved").range
    assert np.isfinite(floor) and floor > 0
    assert (df["pct_per_gb_saved"] >= floor).all()
    assert set(df["quant"]) >= {"Q4_K_M", "Q8_0", "Q2_K"}
    yours = df[df["model_label"].str.endswith("(yours)")]
    assert set(yours["quant"]) == {"Q4_K_M", "Q8_0"}
    assert yours.set_index("quant").loc["Q8_0", "per_gb_label"].startswith("no cost")


def test_a_long_user_model_name_is_shortened_on_the_axis(bars: hv.Bars) -> None:
    labels = set(bars.dframe()["model_label"])
    assert max(len(label) for label in labels) <= len("123456789012 (yours)")
    assert any(LONG in m for m in bars.dframe()["model"])  # the whole name stays in the tooltip
