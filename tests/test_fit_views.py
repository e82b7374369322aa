"""The memory breakdown's data: sorted, the pick marked, tall bars cut with their total, linked highlighting."""

from __future__ import annotations

import pytest

from dashboard.state import Explorer, UserConstraints
from dashboard.views.common import DIMMED_ALPHA
from dashboard.views.fit import MemoryBreakdown


@pytest.fixture
def view() -> MemoryBreakdown:
    constraints = UserConstraints()
    constraints.param.update(model="Llama-3.1-70B", vram_gb=24.0)
    return MemoryBreakdown(explorer=Explorer(constraints=constraints))


def test_bars_are_sorted_and_the_pick_is_marked(view: MemoryBreakdown) -> None:
    data = view._source.data
    assert data["total"] == sorted(data["total"])
    pick = view.explorer.recommendation.best.quant
    assert f"{pick} (pick)" in data["label"] and sum(label.endswith("(pick)") for label in data["label"]) == 1
    assert list(view._figure.x_range.factors) == data["label"]


def test_one_huge_bar_does_not_squash_the_rest(view: MemoryBreakdown) -> None:
    data = view._source.data
    assert max(data["total"]) > 70  # Q8_0 of a 70B model
    assert view._figure.y_range.end <= 2 * 24 * 1.12 + 1e-9
    cut = [t for t, text in zip(data["total"], data["overflow_text"], strict=True) if text]
    assert cut and all(t > view._figure.y_range.end for t in cut)
    biggest = data["overflow_text"][data["total"].index(max(data["total"]))]
    assert biggest == f"{max(data['total']):.0f} GB ↑"


def test_selection_highlights_memory_bars(view: MemoryBreakdown) -> None:
    assert set(view._source.data["emphasis"]) == {1.0}
    view.explorer.select(["Q4_K_M"])
    emphasis = dict(zip(view._source.data["quant"], view._source.data["emphasis"], strict=True))
    assert emphasis["Q4_K_M"] == 1.0 and emphasis["Q8_0"] == DIMMED_ALPHA
