"""Nothing the user gives is lost or silently changed, and one input cannot break a session (no browser)."""

from __future__ import annotations

import html
import io

import holoviews as hv
import panel as pn
import polars as pl
import pytest
from bokeh.models import FactorRange
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.frames import MAX_SPECTRUM_USER_ROWS, spectrum_cells
from dashboard.hf_config import spec_from_hf_config
from dashboard.ingest import MAX_BYTES, parse_measurements
from dashboard.state import (
    CONFIG_MODEL,
    CONTEXT_BOUNDS_TOKENS,
    DEFAULT_MODEL,
    URL_PARAMETERS,
    VRAM_BOUNDS_GB,
    Explorer,
    UserConstraints,
    constraints_from_query,
)
from dashboard.views.spectrum import SpectrumHeatmap
from dashboard.views.user_data import PASTE_MAX_CHARS, UserDataPanel
from tests.hf_configs import config


def test_csv_download_neutralises_formulas_and_keeps_numbers_numbers() -> None:
    ex = Explorer()
    ex.add_measurements(
        parse_measurements(
            "model,quant,perplexity,mean_kld,source\n"
            '"=HYPERLINK(""http://x"")",Q4_K_M,6.1,0.03,a\n'
            "+cmd,Q5_K_M,6.0,0.02,b\n-2+3,Q6_K,5.95,0.01,c\n@SUM(A1),Q8_0,5.9,0.001,d\nplain,F16,5.9,,e\n"
        )
    )
    out = pl.read_csv(io.StringIO(ex.dataset_csv()))
    yours = out.filter(pl.col("origin") == "yours")
    assert yours["model"].to_list() == ['\'=HYPERLINK("http://x")', "'+cmd", "'-2+3", "'@SUM(A1)", "plain"]
    assert not any(str(v)[0] in "=+-@\t\r" for col in ("model", "quant", "source") for v in out[col].drop_nulls())
    assert out.schema["perplexity"] == pl.Float64 and out.schema["mean_kld"] == pl.Float64
    assert yours["perplexity"].to_list() == [6.1, 6.0, 5.95, 5.9, 5.9]


def test_formula_in_a_tab_or_carriage_return_cell_is_neutralised() -> None:
    ex = Explorer()
    rows = parse_measurements("model,quant,perplexity\nok,Q4_K_M,6.1\n").with_columns(
        pl.lit("\t=1+1").alias("model"), pl.lit("\r=1+1").alias("source")
    )
    ex.add_measurements(rows)
    text = ex.dataset_csv()
    assert "'\t=1+1" in text and "'\r=1+1" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"context": ["1_0_2_4"]}, "Ignored context='1_0_2_4': expected a whole number (digits only)"),
        ({"vram_gb": ["2_4"]}, "Ignored vram_gb='2_4'"),
        ({"context": ["+8192"]}, "Ignored context='+8192'"),
        ({"context": [" 8192"]}, "Ignored context=' 8192'"),
        ({"vram_gb": ["1e2"]}, "Ignored vram_gb='1e2'"),
        ({"context": ["٨١٩٢"]}, "Ignored context='٨١٩٢'"),  # Arabic-Indic digits: int() accepts them
        ({"model": [CONFIG_MODEL]}, "the link does not carry the model's architecture"),
        ({"context": ["9" * 100_000]}, "Ignored context='9999999999999999999999999999999999999999…'"),
    ],
)
def test_url_values_are_read_strictly(query: dict, message: str) -> None:
    valid, notices = constraints_from_query(query)
    assert valid == {}
    assert len(notices) == 1 and message in notices[0]


def test_config_model_in_the_url_is_refused_at_load_and_later() -> None:
    c = UserConstraints()
    notices = c.apply_query({"model": [CONFIG_MODEL], "vram_gb": ["48"]})
    assert c.model == DEFAULT_MODEL and c.vram_gb == 48.0 and "does not carry the model's architecture" in notices[0]
    with pytest.raises(ValueError):  # the widget and code go through the same Selector: not a choice yet
        c.model = CONFIG_MODEL
    c.use_config_spec(spec_from_hf_config(config("a", 16)))
    assert c.model == CONFIG_MODEL and "model" not in c.query() and "arch" in c.query()  # the link carries it
    c.apply_query({"model": ["Custom"]})
    assert c.model == "Custom"


def test_a_later_url_change_cannot_break_the_page() -> None:
    ex = Explorer()
    before = ex.n_recomputes
    notices = ex.constraints.apply_query({"model": [CONFIG_MODEL]})
    assert notices and not ex.error and ex.n_recomputes == before
    ex.constraints.apply_query({"vram_gb": ["8"]})
    assert ex.n_recomputes == before + 1 and ex.recommendation.constraints.vram_gb == 8.0


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*URL_PARAMETERS, "x"]),
        st.lists(
            st.one_of(st.text(max_size=30), st.sampled_from([CONFIG_MODEL, "Custom", "1_024", "8192"])),
            min_size=1,
            max_size=3,
        ),
    )
)
def test_fuzz_url_never_raises_and_keeps_values_in_bounds(query: dict) -> None:
    c = UserConstraints()
    c.apply_query(query)
    assert VRAM_BOUNDS_GB[0] <= c.vram_gb <= VRAM_BOUNDS_GB[1]
    assert CONTEXT_BOUNDS_TOKENS[0] <= c.context <= CONTEXT_BOUNDS_TOKENS[1]
    assert c.model != CONFIG_MODEL


def test_second_config_paste_updates_every_view() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    for name, layers in (("cfgA", 16), ("cfgB", 40)):
        panel._config.value = config(name, layers)
        panel._on_config()
        assert panel.status_kind == "success" and f"Using {name}" in panel.status
        assert ex.recommendation.constraints.model.name == name  # the summary, not only the status
        assert ex.recommendation.constraints.model.n_layers == layers


def test_use_this_model_ten_times_keeps_confirming() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._config.value = config("tiny", 16)
    for _ in range(10):
        panel._on_config()
        assert panel.status_kind == "success" and "Using tiny" in panel.status
    assert not panel.busy and not panel._use_config.disabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (config("x", 1_000_000), "'num_hidden_layers' = 1,000,000 is more than the largest supported value"),
        ('{"num_hidden_layers": Infinity}', "Infinity is not a number JSON allows"),
        ('{"num_hidden_layers": 1e400}', "the number 1e400 is too large"),
        ("[" * 2400 + "]" * 2400, "nested too deeply"),
    ],
)
def test_config_failures_are_shown_in_the_page(text: str, message: str) -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._config.value = text
    panel._on_config()
    assert panel.status_kind == "danger" and message in html.unescape(panel.status)
    assert ex.constraints.model == DEFAULT_MODEL


def test_an_unexpected_failure_is_still_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("deep")

    monkeypatch.setattr("dashboard.views.user_data.parse_measurements", broken)
    panel._paste.value = "model,quant,perplexity\nA,Q4_K_M,6\n"
    panel._on_add()
    assert panel.status_kind == "danger" and "RecursionError" in panel.status and not panel.busy


def test_paste_box_takes_more_than_the_limit_so_nothing_is_cut_silently() -> None:
    panel = UserDataPanel(explorer=Explorer())
    assert panel._paste.max_length == panel._config.max_length == PASTE_MAX_CHARS > MAX_BYTES
    # 6,000 characters (the box used to stop at 5,000 and turn 0.0312 into 0.0): every row, every digit
    rows = [f"Model{i:03d},Q4_K_M,{6 + i / 1000:.4f},0.0312" for i in range(300)]
    text = "model,quant,perplexity,mean_kld\n" + "\n".join(rows) + "\n"
    assert len(text) > 6_000
    panel._paste.value = text
    panel._on_add()
    assert panel.status_kind == "success" and "Added 300 row(s)" in panel.status
    assert panel.explorer.user_measurements["mean_kld"].to_list() == [0.0312] * 300
    # over the limit: refused with the reason, never cut
    panel._paste.value = text + "A,Q4_K_M,6.1,0.03\n" * (MAX_BYTES // 18)
    panel._on_add()
    assert panel.status_kind == "danger" and "5 MB" in panel.status
    assert panel.explorer.user_measurements.height == 300


def test_upload_then_paste_uses_the_paste() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._upload.value = b"model,quant,perplexity\nFromFile,Q4_K_M,6.1\n"
    panel._on_add()
    assert "FromFile" in panel.status
    panel._paste.value = "model,quant,perplexity\nFromPaste,Q5_K_M,6.0\n"
    panel._on_add()
    assert "FromPaste" in panel.status
    assert ex.user_measurements["model"].to_list() == ["FromFile", "FromPaste"]
    panel._upload.value = b"model,quant,perplexity\nFile2,Q6_K,5.9\n"
    panel._on_add()
    assert "File2" in panel.status


def test_two_thousand_user_rows_are_drawn_in_the_spectrum() -> None:
    hv.extension("bokeh", logo=False)
    ex = Explorer()
    csv = "model,quant,mean_kld\n" + "".join(f"m{i},Q4_K_M,0.03\n" for i in range(2_000))
    ex.add_measurements(parse_measurements(csv))
    root = pn.panel(SpectrumHeatmap(explorer=ex)).get_root()  # RecursionError in HoloViews before
    factors = [len(r.factors) for r in root.select({"type": FactorRange})]
    assert max(factors) == 2_000 + ex.quants.height


def test_more_user_rows_than_the_spectrum_draws_are_named() -> None:
    ex = Explorer()
    n = MAX_SPECTRUM_USER_ROWS + 5
    ex.add_measurements(parse_measurements("model,quant,mean_kld\n" + "".join(f"m{i},Q4_K_M,0.03\n" for i in range(n))))
    rows = set(spectrum_cells(ex.quants, ex.user_measurements, ex.model_quality)["row"])
    assert sum("(yours)" in r for r in rows) == MAX_SPECTRUM_USER_ROWS
    note = SpectrumHeatmap(explorer=ex)._note()
    assert note.visible and f"{MAX_SPECTRUM_USER_ROWS:,} of {n:,} rows" in note.object
