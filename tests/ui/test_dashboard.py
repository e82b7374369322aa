"""The served dashboard in headless Chromium: every view draws, widgets drive the recommendation and the tree,
selections propagate between charts, the URL restores constraints, and nothing errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from tests.ui.conftest import screenshot

pytestmark = pytest.mark.ui

VIEWS = [
    "quality-scatter",
    "quality-bars",
    "compression-line",
    "spectrum-heatmap",
    "sweet-spots",
    "efficiency-lines",
    "efficiency-bars",
    "decision-tree",
    "memory-breakdown",
    "colour-analogy",
]

# JavaScript helpers reading Bokeh's document: sources are found by a column only they have.
JS_SOURCES = """
(column) => {
  const out = [];
  for (const doc of window.Bokeh.documents) {
    for (const m of doc.all_models) {
      if (m.type !== "ColumnDataSource") continue;
      const data = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if (column in data) out.push(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Array.from(v)])));
    }
  }
  return out;
}
"""
JS_SELECT = """
([column, quant]) => {
  for (const doc of window.Bokeh.documents) {
    for (const m of doc.all_models) {
      if (m.type !== "ColumnDataSource") continue;
      const data = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if (!(column in data)) continue;
      const i = Array.from(data.quant).indexOf(quant);
      if (i >= 0) { m.selected.indices = [i]; return i; }
    }
  }
  return -1;
}
"""


def sources(page, column: str) -> list[dict]:
    return page.evaluate(JS_SOURCES, column)


def open_app(page_factory, url: str, width: int = 1440):
    page = page_factory(width=width)
    page.goto(url)
    page.get_by_text(re.compile(r" on [\d.]+ GB at ")).first.wait_for(timeout=90_000)
    page.wait_for_function("() => window.Bokeh && window.Bokeh.documents.length > 0", timeout=60_000)
    page.wait_for_timeout(2500)  # let every plot finish its first render
    return page


def view_canvas_drawn(page, view: str, tmp_path: Path) -> bool:
    """The view's canvas has more than one colour (something was drawn on it)."""
    locator = page.locator(f".view-{view} canvas").first
    locator.scroll_into_view_if_needed()
    path = tmp_path / f"{view}.png"
    locator.screenshot(path=str(path))
    colours = Image.open(path).convert("RGB").getcolors(maxcolors=1_000_000)
    return colours is not None and len(colours) > 20


def emphasis_by_quant(source: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for quant, value in zip(source["quant"], source["emphasis"], strict=True):
        out[quant] = max(out.get(quant, 0.0), float(value))
    return out


def test_every_view_draws_without_errors(page_factory, served_app: str, tmp_path: Path) -> None:
    page = open_app(page_factory, served_app)
    for view in VIEWS:
        assert view_canvas_drawn(page, view, tmp_path), f"{view} did not draw"
    assert "Traceback" not in page.content()
    screenshot(page, "dashboard-1440")


def test_phone_width_is_usable(page_factory, served_app: str, tmp_path: Path) -> None:
    page = open_app(page_factory, served_app, width=390)
    for view in ("quality-scatter", "spectrum-heatmap", "decision-tree"):
        assert view_canvas_drawn(page, view, tmp_path), f"{view} did not draw at 390 px"
    # nothing wider than the phone: no horizontal scrolling of the page
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400
    screenshot(page, "dashboard-390")


def test_widget_changes_recommendation_and_tree_path(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    page.get_by_text("Llama-3.1-8B on 24 GB at 8K context: F16").first.wait_for()
    leaf = sources(page, "node")[0]
    assert any(label.startswith("→ F16 ") for label in leaf["label"])
    vram = page.get_by_role("textbox", name="GPU memory (GB)")
    vram.fill("8")
    vram.press("Enter")
    page.get_by_text(re.compile(r"Llama-3\.1-8B on 8 GB at 8K context: Q\d")).first.wait_for(timeout=30_000)
    text = page.get_by_text(re.compile(r"Llama-3\.1-8B on 8 GB at 8K context")).first.inner_text()
    quant = text.split(": ")[1].split(",")[0]
    page.wait_for_timeout(1500)
    tree = sources(page, "node")[0]
    assert any(label.startswith(f"→ {quant} ") for label in tree["label"])
    active = [label for label, on in zip(tree["label"], tree["active"], strict=True) if on]
    assert "Priority: quality" in active and any(a.startswith(f"→ {quant} ") for a in active)
    # switching priority moves the highlighted path to the size branch
    page.get_by_role("button", name="size").first.click()
    page.wait_for_function(
        """() => [...window.Bokeh.documents].some(d => [...d.all_models].some(m => {
          if (m.type !== 'ColumnDataSource') return false;
          const data = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
          if (!('node' in data)) return false;
          const labels = Array.from(data.label), active = Array.from(data.active);
          return labels.some((l, i) => l === 'Priority: size' && active[i]);
        }))""",
        timeout=120_000,
    )
    tree = sources(page, "node")[0]
    active = [label for label, on in zip(tree["label"], tree["active"], strict=True) if on]
    assert "Priority: size" in active


def test_selection_in_scatter_highlights_heatmap_and_efficiency(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    assert page.evaluate(JS_SELECT, ["quality_source", "Q4_K_M"]) >= 0
    page.get_by_text("Selected: Q4_K_M").first.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    heat = emphasis_by_quant(sources(page, "detail")[0])
    assert heat["Q4_K_M"] == 1.0 and heat["Q8_0"] < 0.5 and heat["IQ2_XS"] < 0.5
    eff = [s for s in sources(page, "gb_saved") if "emphasis" in s]
    assert eff, "efficiency charts not found"
    for source in eff:
        e = emphasis_by_quant(source)
        assert e["Q4_K_M"] == 1.0 and e["Q8_0"] < 0.5
    # and back: selecting in the heatmap highlights the scatter
    assert page.evaluate(JS_SELECT, ["detail", "IQ2_XS"]) >= 0
    page.get_by_text("Selected: IQ2_XS").first.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    scatter = emphasis_by_quant(sources(page, "quality_source")[0])
    assert scatter["IQ2_XS"] == 1.0 and scatter["Q4_K_M"] < 0.5
    page.get_by_role("button", name="Clear selection").click()
    page.get_by_text("Selected: none").first.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    assert set(emphasis_by_quant(sources(page, "detail")[0]).values()) == {1.0}


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
