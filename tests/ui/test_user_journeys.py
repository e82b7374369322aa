"""What a new user does first, in the browser (issue 13): each test failed before its fix.

Click a sweet-spot cell, add a CSV with an F16 row, open the page on a 390 px phone, toggle the theme,
open a link with a bad value in it.
"""

from __future__ import annotations

import re

import pytest

from tests.ui.conftest import (
    INTERACTION_TIMEOUT_MS,
    SUMMARY,
    open_app,
    paste_measurements,
    selected_rows,
    show_view,
    source,
    wait_for_render,
    wait_for_values,
)

pytestmark = pytest.mark.ui

# Elements that reach past the viewport and are not clipped by a box of their own that lies inside it (a
# chart that needs more width scrolls inside such a box; the page itself must not scroll sideways).
JS_OVERFLOWING = """
(vw) => {
  const out = [];
  const clipsX = (el) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(el).overflowX);
  const parentOf = (el) => el.parentElement || (el.parentNode && el.parentNode.host) || null;
  const clipped = (el) => {
    for (let a = parentOf(el); a && a !== document.body; a = parentOf(a)) {
      if (a.id === "content" || a.id === "main") continue;  // the page's own scrolling areas do not count
      if (clipsX(a)) { const r = a.getBoundingClientRect(); if (r.left >= -1 && r.right <= vw + 1) return true; }
    }
    return false;
  };
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && (r.right > vw + 1 || r.left < -1) && !clipped(el)) {
        out.push(`${el.tagName}.${String(el.className).split(" ")[0]} "${(el.textContent || "").trim().slice(0, 30)}"`
                 + ` ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return out;
}
"""
JS_SCROLL_WIDTHS = """
() => Object.fromEntries([["page", document.scrollingElement], ...["content", "main", "sidebar"].map(
  id => [id, document.getElementById(id)])].filter(([, e]) => e).map(([k, e]) => [k, e.scrollWidth]))
"""


def test_clicking_a_sweet_spot_cell_uses_its_model_and_memory(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    page.get_by_text("Llama-3.1-8B on 24 GB at 8K context").first.wait_for()
    show_view(page, "sweet-spots")
    frame = page.locator(".view-sweet-spots .bk-CartesianFrame").first
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    # the centre of the cell in the 7th of 8 columns (80 GB), a third of the way down the models
    page.mouse.click(box["x"] + box["width"] * 13 / 16, box["y"] + box["height"] / 3)
    page.wait_for_function(
        "() => window.__charts.selected('sweet-spots', 'fit_code').length > 0", timeout=INTERACTION_TIMEOUT_MS
    )
    (cell,) = selected_rows(page, "sweet-spots", "fit_code")
    model, vram = cell["model"], cell["vram"]
    assert vram == "80 GB" and model != "Llama-3.1-8B"
    show_view(page, "memory-breakdown")  # the recommendation's tab
    page.get_by_text(f"{model} on 80 GB at 8K context").first.wait_for(timeout=30_000)
    assert page.locator("select").first.input_value() == model
    assert page.get_by_role("textbox", name="GPU memory (GB)").input_value() == "80"


def test_a_user_f16_row_keeps_the_efficiency_bars(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    page.get_by_text("Your measurements and models").first.click()
    name = "A rather long fine-tuned model name"
    # Q8_0 measured below its F16: no cost per GB saved, which a log axis cannot draw
    paste_measurements(
        page,
        f"model,quant,file_size_gib,perplexity\n{name},F16,13.5,5.9\n{name},Q4_K_M,4.1,6.02\n{name},Q8_0,7.1,5.89\n",
    )
    page.get_by_text(f"Added 3 row(s) for {name}").first.wait_for(timeout=30_000)
    show_view(page, "efficiency-bars")
    wait_for_values(page, "efficiency-bars", "model_label", "(yours)")
    bars = source(page, "efficiency-bars", "per_gb_label")
    assert {"Q2_K", "Q4_K_M", "Q8_0"} <= set(bars["quant"])
    yours = [label for label in bars["model_label"] if label.endswith("(yours)")]
    assert len(yours) == 2 and all(len(label) <= 20 for label in yours)
    assert all(v > 0 for v in bars["pct_per_gb_saved"])


@pytest.mark.parametrize("query", ["", "?model=Custom"])
def test_phone_page_does_not_scroll_sideways(page_factory, served_app: str, query: str) -> None:
    page = open_app(page_factory, served_app + query, width=390)
    page.get_by_text("Your measurements and models").first.click()  # the sidebar card, opened
    page.get_by_role("button", name="Add to charts").wait_for()
    widths = page.evaluate(JS_SCROLL_WIDTHS)
    assert all(w <= 390 for w in widths.values()), widths
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    overflowing = page.evaluate(JS_OVERFLOWING, 390)
    assert not overflowing, "\n".join(overflowing[:20])


def test_theme_toggle_gives_no_url_notice(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    page.locator("#theme-switch").click()
    page.wait_for_url(re.compile(r"theme=dark"), timeout=60_000)
    page.get_by_text(SUMMARY).first.wait_for(timeout=90_000)
    wait_for_render(page)
    assert page.get_by_text("Ignored unknown URL parameter").count() == 0
    assert page.get_by_text("Ignored").count() == 0


def test_ignored_url_values_leave_the_address_bar(page_factory, served_app: str) -> None:
    page = page_factory()
    page.goto(served_app + "?model=Llama-3.1-70B&vram_gb=-5&backend=metal&context=5", timeout=120_000)
    page.get_by_text("Llama-3.1-70B on 24 GB at 8K context").first.wait_for(timeout=90_000)
    page.get_by_text(re.compile(r"Ignored context='5': expected .* from 256 to 1,048,576")).first.wait_for()
    page.wait_for_url(re.compile(r"model=Llama-3\.1-70B"), timeout=30_000)
    page.wait_for_function("() => !location.search.includes('vram_gb=-5')", timeout=30_000)
    assert "context=5" not in page.url.split("&") and "backend=Metal" in page.url
    assert page.get_by_role("button", name="Metal").first.get_attribute("aria-pressed") in ("true", None)
