"""The spectrum heatmap's cells and labels: readable text on every cell, the colour scale as the caption says."""

from __future__ import annotations

import holoviews as hv
import pytest

from dashboard.ingest import parse_measurements
from dashboard.state import Explorer
from dashboard.views.common import contrast_ratio, palette_colour, relative_luminance, text_colour_on
from dashboard.views.spectrum import SCORE_PALETTE, SpectrumHeatmap, spectrum_frame


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    hv.extension("bokeh", logo=False)
    e = Explorer()
    e.user_measurements = parse_measurements("model,quant,file_size_gib,perplexity,mean_kld\nMine,IQ1_S,2.0,9.1,0.9\n")
    return e


def test_contrast_helpers_match_wcag() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert relative_luminance("#FFFFFF") == pytest.approx(1.0)
    assert text_colour_on("#440154") == "#FFFFFF"  # viridis' darkest purple
    assert text_colour_on("#FDE724") == "#000000"  # viridis' yellow


def test_every_spectrum_label_reads_at_least_4_5_to_1_on_its_cell(explorer: Explorer) -> None:
    df = spectrum_frame(explorer, [])
    assert len(df) > 200
    for row in df.itertuples():
        ratio = contrast_ratio(row.text_colour, row.cell_colour)
        assert ratio >= 4.5, f"{row.row} / {row.column}: {row.label!r} at {ratio:.2f}:1"
    # the dark cells of the old fixed-dark-text version: F32 size, F16 speed, IQ1 quality
    dark = df[df["cell_colour"].map(relative_luminance) < 0.1]
    assert len(dark) > 10 and set(dark["text_colour"]) == {"#FFFFFF"}


def test_cell_colours_are_the_heatmaps_own(explorer: Explorer) -> None:
    view = SpectrumHeatmap(explorer=explorer)
    heat = view._make([], explorer.user_measurements)
    opts = heat.opts.get().kwargs
    assert list(opts["cmap"]) == list(SCORE_PALETTE) and tuple(opts["clim"]) == (0, 1)
    df = spectrum_frame(explorer, [])
    best = df[(df["column"] == "Quality") & (df["score"] == 1.0)].iloc[0]
    assert best["cell_colour"] == palette_colour(SCORE_PALETTE, 1.0) == "#FDE724"  # yellow is best
    labels = view._labels(explorer.user_measurements)
    assert labels.opts.get().kwargs["text_color"] == "text_colour"
    assert "text_colour" in labels.dimensions("value", label=True)


def test_quality_is_told_in_words(explorer: Explorer) -> None:
    df = spectrum_frame(explorer, [])
    words = {label.split("\n")[0] for label in df[df["column"] == "Quality"]["label"]}
    assert words <= {"near-lossless", "good", "acceptable", "degraded", "—"}
    assert {"near-lossless", "degraded"} <= words
