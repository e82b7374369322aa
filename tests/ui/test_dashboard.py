"""The served dashboard in headless Chromium: every view draws, widgets drive the recommendation and the tree,
selections propagate between charts, the URL restores constraints, and nothing errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.app import SECTIONS
from tests.ui.conftest import (
    FIRST_TAB_VIEWS,
    INTERACTION_TIMEOUT_MS,
    VIEWS,
    open_app,
    screenshot,
    select_in_chart,
    show_view,
    source,
    view_canvas_drawn,
    wait_for_emphasis,
    wait_for_values,
)

pytestmark = pytest.mark.ui


def test_every_view_draws_without_errors(page_factory, served_app: str, tmp_path: Path) -> None:
    page = open_app(page_factory, served_app)
    # the first render holds the first tab's charts only; the others are built when their tab is opened
    drawn = page.evaluate("(views) => views.filter(v => window.__charts.ready([v]))", list(VIEWS))
    assert drawn == list(FIRST_TAB_VIEWS), drawn
    screenshot(page, "dashboard-1440")
    for view in VIEWS:
        show_view(page, view)
        assert view_canvas_drawn(page, view, tmp_path), f"{view} did not draw"
    assert "Traceback" not in page.content()
    screenshot(page, "dashboard-sweet-spots-1440")


def test_phone_width_is_usable(page_factory, served_app: str, tmp_path: Path) -> None:
    page = open_app(page_factory, served_app, width=390)
    # every tab within reach: the tab row wraps instead of being cut at the phone's width
    for title in SECTIONS:
        box = page.locator(".bk-tab", has_text=title).first.bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= 390, (title, box)
    screenshot(page, "dashboard-390")
    for view in ("quality-scatter", "spectrum-heatmap", "decision-tree"):
        show_view(page, view)
        assert view_canvas_drawn(page, view, tmp_path), f"{view} did not draw at 390 px"
        # nothing wider than the phone: no horizontal scrolling of the page
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 400, view


def active_steps(page) -> list[str]:
    tree = source(page, "decision-tree", "node")
    return [label for label, on in zip(tree["label"], tree["active"], strict=True) if on]


def test_widget_changes_recommendation_and_tree_path(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    page.get_by_text("Llama-3.1-8B on 24 GB at 8K context: F16").first.wait_for()
    assert any(label.startswith("→ F16 ") for label in source(page, "decision-tree", "node")["label"])
    vram = page.get_by_role("textbox", name="GPU memory (GB)")
    vram.fill("8")
    vram.press("Enter")
    summary = page.get_by_text(re.compile(r"Llama-3\.1-8B on 8 GB at 8K context: Q\d")).first
    summary.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    quant = summary.inner_text().split(": ")[1].split(",")[0]
    wait_for_values(page, "decision-tree", "label", f"→ {quant} ")
    active = active_steps(page)
    assert "Priority: quality" in active and any(a.startswith(f"→ {quant} ") for a in active)
    # switching priority moves the highlighted path to the size branch
    page.get_by_role("button", name="size").first.click()
    page.wait_for_function(
        "() => { const t = window.__charts.sources('decision-tree', 'node')[0];"
        " return t.label.some((l, i) => t.active[i] && l === 'Priority: size'); }",
        timeout=INTERACTION_TIMEOUT_MS,
    )
    assert "Priority: quality" not in active_steps(page)


def test_selection_in_scatter_highlights_heatmap_and_efficiency(page_factory, served_app: str, tmp_path: Path) -> None:
    page = open_app(page_factory, served_app)
    show_view(page, "quality-scatter")
    select_in_chart(page, "quality-scatter", "quality_source", "Q4_K_M")
    page.get_by_text("Selected: Q4_K_M").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    wait_for_emphasis(page, "quality-bars", ["Q4_K_M"])  # built with the scatter, before the selection
    # charts of tabs opened after the selection are built with it
    for view in ("spectrum-heatmap", "efficiency-lines", "efficiency-bars"):
        show_view(page, view)
        wait_for_emphasis(page, view, ["Q4_K_M"])
    # and back: selecting in the heatmap highlights the scatter, whose tab is hidden, and it shows so when opened
    show_view(page, "spectrum-heatmap")
    select_in_chart(page, "spectrum-heatmap", "detail", "IQ2_XS")
    page.get_by_text("Selected: IQ2_XS").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    wait_for_emphasis(page, "quality-scatter", ["IQ2_XS"])
    show_view(page, "quality-scatter")
    wait_for_emphasis(page, "quality-scatter", ["IQ2_XS"])
    assert view_canvas_drawn(page, "quality-scatter", tmp_path)
    page.get_by_role("button", name="Clear selection").click()
    page.get_by_text("Selected: none").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    for view in ("spectrum-heatmap", "quality-scatter"):
        wait_for_emphasis(page, view, [])


def test_url_query_restores_constraints(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app + "?model=Llama-3.1-70B&vram_gb=24&context=8192&priority=quality")
    text = page.get_by_text(re.compile(r"Llama-3\.1-70B on 24 GB at 8K context: ")).first.inner_text()
    assert re.search(r": (IQ2|Q2)", text), text
    assert page.locator("select").first.input_value() == "Llama-3.1-70B"


def test_hostile_url_falls_back_with_a_notice(page_factory, served_app: str) -> None:
    dialogs = []
    page = page_factory()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(served_app + "?vram_gb=-5&context=1e99&model=%3Cscript%3Ealert(1)%3C/script%3E&foo=1")
    page.get_by_text("Llama-3.1-8B on 24 GB at 8K context").first.wait_for(timeout=90_000)
    notice = page.get_by_text(re.compile("Ignored vram_gb")).first
    notice.wait_for()
    page.get_by_text("Ignored unknown URL parameter 'foo'").first.wait_for()
    page.get_by_text(re.compile("Ignored model=")).first.wait_for()
    assert not dialogs
