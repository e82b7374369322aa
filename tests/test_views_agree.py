"""Every view that shows a quality cost shows the chosen model's own estimate, and they all agree."""

from __future__ import annotations

import holoviews as hv
import polars as pl
import pytest

from dashboard.frames import quality_kept, quality_points, spectrum_cells
from dashboard.quality import estimate_quality
from dashboard.state import Explorer
from dashboard.views.compare import frontier_points
from dashboard.views.quality import QualityBars

hv.extension("bokeh", logo=False)


@pytest.mark.parametrize(("model", "vram_gb"), [("Llama-3.1-70B", 24.0), ("Qwen2.5-14B", 16.0), ("Llama-3.1-8B", 8.0)])
def test_the_recommended_types_cost_is_the_same_in_every_view(model: str, vram_gb: float) -> None:
    ex = Explorer()
    ex.constraints.param.update(model=model, vram_gb=vram_gb)
    best = ex.recommendation.best
    expected = estimate_quality(model, best.quant)
    # recommender and summary
    assert best.ppl_increase_pct == expected.ppl_increase_pct
    assert any(f"+{expected.ppl_increase_pct:.1f}%" in reason for reason in ex.recommendation.reasons)
    # scatter
    scatter = (
        quality_points(ex.quants, ex.model_sizes, ex.user_measurements, ex.model_quality)
        .filter(pl.col("quant") == best.quant)
        .row(0, named=True)
    )
    assert scatter["ppl_increase_pct"] == expected.ppl_increase_pct
    assert scatter["basis_kind"] == expected.basis.split(":")[0]
    # bars: quality kept is F16 / expected perplexity
    bars = QualityBars(explorer=ex)._make([], ex.model_quality).dframe()
    kept = float(bars.loc[bars["quant"] == best.quant, "quality_kept_pct"].iloc[0])
    assert kept == pytest.approx(100 / (1 + expected.ppl_increase_pct / 100))
    assert quality_kept(ex.quants, ex.model_quality).filter(pl.col("quant") == best.quant)["quality_kept_pct"][
        0
    ] == pytest.approx(kept)
    # spectrum: the quality cell's label and detail
    spectrum = spectrum_cells(ex.quants, ex.user_measurements, ex.model_quality)
    cell = spectrum.filter((pl.col("quant") == best.quant) & (pl.col("column") == "Quality")).row(0, named=True)
    assert f"+{expected.ppl_increase_pct:.1f}%" in cell["label"]
    assert expected.basis in cell["detail"]
    # frontier (the chosen model's point) and its drawn data
    row = ex.frontier.filter((pl.col("model") == model) & (pl.col("quant") == best.quant)).row(0, named=True)
    assert row["ppl_increase_pct"] == expected.ppl_increase_pct and row["is_current"]
    drawn = frontier_points(ex.frontier, [])
    i = next(
        i
        for i, (m, q) in enumerate(zip(drawn["frontier_model"], drawn["quant"], strict=True))
        if (m, q) == (model, best.quant)
    )
    assert drawn["cost_pct"][i] == expected.ppl_increase_pct
    # memory breakdown tooltips
    breakdown = ex.memory_breakdown.filter(pl.col("quant") == best.quant)
    assert set(breakdown["ppl_increase_pct"]) == {expected.ppl_increase_pct}
    # sweet-spots cell of this model at a grid budget equal to the chosen one
    cell = ex.sweet_spots.filter((pl.col("model") == model) & (pl.col("vram_gb") == vram_gb)).row(0, named=True)
    assert (cell["quant"], cell["ppl_increase_pct"]) == (best.quant, expected.ppl_increase_pct)


def test_a_70b_is_not_shown_with_llama_3_8b_numbers() -> None:
    ex = Explorer()
    ex.constraints.param.update(model="Llama-3.1-70B", vram_gb=24.0)
    points = quality_points(ex.quants, ex.model_sizes, ex.user_measurements, ex.model_quality)
    seventy = dict(points.select("quant", "ppl_increase_pct").iter_rows())
    eight = dict(Explorer().model_quality.select("quant", "ppl_increase_pct").iter_rows())
    assert seventy["IQ2_XXS"] != eight["IQ2_XXS"]
    assert seventy["IQ2_XXS"] == estimate_quality("Llama-3.1-70B", "IQ2_XXS").ppl_increase_pct
