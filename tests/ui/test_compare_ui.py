"""Models compared at the user's budget in the browser: the cross-model answer with its evidence, and the frontier
chart's selection highlighted in the other charts. Screenshots at desktop and phone width, light and dark."""

from __future__ import annotations

import re

import pytest

from tests.ui.conftest import (
    open_app,
    screenshot,
    select_in_chart,
    show_view,
    sources,
    wait_for_emphasis,
    wait_for_values,
)

pytestmark = pytest.mark.ui
# a session of the whole dashboard takes seconds to build; on a machine shared by many test runs, much longer
LOAD_TIMEOUT_MS = 180_000


def test_24_gb_gives_a_cross_model_answer_with_evidence(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app + "?vram_gb=8")
    page.get_by_text(re.compile(r"Within Llama 3 at 8 GB")).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    vram = page.get_by_role("textbox", name="GPU memory (GB)")
    vram.fill("24")
    vram.press("Enter")
    answer = page.get_by_text(
        re.compile(
            r"Within Llama 3 at 24 GB and 8K context, "
            r"Llama-3\.1-70B at IQ2_XXS is expected to beat Llama-3\.1-8B at F16"
        )
    ).first
    answer.wait_for(timeout=LOAD_TIMEOUT_MS)
    text = answer.inner_text()
    assert "measured: MMLU 72.3 vs 65.2" in text
    assert "matt-c1/llama-3-quant-comparison" in text
    page.get_by_text(re.compile(r"Below IQ1_M the 70B falls behind")).first.wait_for()
    # the frontier chart shows the same group, with the 70B's point and the chosen model's point
    show_view(page, "model-frontier")
    wait_for_values(page, "model-frontier", "frontier_model", "Llama-3.1-70B")
    screenshot(page, "compare-24gb-1440")


def test_selecting_a_frontier_point_highlights_it_in_the_other_charts(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app + "?model=Llama-3.1-70B&vram_gb=24")
    show_view(page, "model-frontier")
    wait_for_values(page, "model-frontier", "frontier_model", "Llama-3.1-70B")
    select_in_chart(page, "model-frontier", "frontier_model", "IQ2_XS")
    page.get_by_text("Selected: IQ2_XS").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    # the spectrum heatmap and the quality scatter (their tabs opened now) highlight the selected type, the rest
    # is dimmed
    for view in ("spectrum-heatmap", "quality-scatter"):
        show_view(page, view)
        wait_for_emphasis(page, view, ["IQ2_XS"])
    show_view(page, "model-frontier")
    big = [
        size
        for frontier in sources(page, "model-frontier", "size")
        for q, size in zip(frontier["quant"], frontier["size"], strict=True)
        if q == "IQ2_XS"
    ]
    assert big and all(s > 9 for s in big)  # the frontier marks its own selected points too
    screenshot(page, "compare-selected-1440")


@pytest.mark.parametrize(("width", "theme"), [(390, "default"), (390, "dark"), (1440, "dark")])
def test_compare_views_at_phone_and_desktop_width(page_factory, served_app: str, width: int, theme: str) -> None:
    page = open_app(page_factory, served_app + f"?vram_gb=24&theme={theme}", width=width)
    page.get_by_text(re.compile(r"Within Llama 3 at 24 GB")).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    show_view(page, "model-frontier")
    frontier = page.locator(".view-model-frontier").first
    frontier.scroll_into_view_if_needed()
    assert frontier.bounding_box()["width"] <= width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 10
    screenshot(page, f"compare-{width}-{theme}")
