"""What the sidebar looks like in the browser: a selected choice button that stands out in the light theme, and a
custom-model card of labelled number inputs no wider than the sidebar."""

from __future__ import annotations

import pytest

from dashboard.app import SECTIONS
from dashboard.views.common import contrast_ratio
from tests.ui.conftest import (
    INTERACTION_TIMEOUT_MS,
    open_app,
    screenshot,
    select_in_chart,
    show_tab,
    show_view,
    wait_for_emphasis,
)

pytestmark = pytest.mark.ui

# The colour an element is drawn on: its own background or, where that is transparent, the nearest ancestor's
# (crossing Panel's shadow roots), as #RRGGBB.
DRAWN_ON = """el => {
  const hex = c => '#' + c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(v => (+v).toString(16).padStart(2, '0')).join('');
  for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
    const c = getComputedStyle(e).backgroundColor;
    const alpha = c.startsWith('rgba') ? +c.match(/[\\d.]+/g)[3] : 1;
    if (alpha > 0.5) return hex(c);
  }
  return '#ffffff';
}"""
TEXT_COLOUR = """el => '#' + getComputedStyle(el).color.match(/\\d+/g).slice(0, 3)
  .map(v => (+v).toString(16).padStart(2, '0')).join('')"""


def test_selected_choice_button_stands_out_in_the_light_theme(page_factory: object, served_app: str) -> None:
    """The selected KV-cache / backend / priority button was Panel's light grey beside white ones."""
    page = open_app(page_factory, served_app)
    groups = page.locator("#sidebar .bk-btn-group")
    assert groups.count() >= 3
    for i in range(3):
        group = groups.nth(i)
        selected, other = group.locator(".bk-btn.bk-active").first, group.locator(".bk-btn:not(.bk-active)").first
        fill, beside = selected.evaluate(DRAWN_ON), other.evaluate(DRAWN_ON)
        assert contrast_ratio(fill, beside) >= 3.0, (i, fill, beside)
        assert contrast_ratio(selected.evaluate(TEXT_COLOUR), fill) >= 4.5, i


def test_custom_model_card_fits_the_sidebar(page_factory: object, served_app: str) -> None:
    """Its sliders (up to 1,000,000) were wider than the sidebar; now number inputs labelled in words."""
    page = open_app(page_factory, served_app + "?model=Custom")
    card = page.locator(".card").filter(has_text="Custom model architecture").first
    card.wait_for()
    for label in ("Parameters (billions)", "KV heads", "Layers (transformer blocks)", "Trained context (tokens)"):
        assert card.get_by_text(label, exact=True).count() == 1, label
    assert card.locator(".bk-slider-title, .noUi-target").count() == 0  # no sliders left
    sidebar = page.locator("#sidebar").first.bounding_box()
    inputs = card.locator("input")
    assert inputs.count() == 9
    for i in range(inputs.count()):
        box = inputs.nth(i).bounding_box()
        assert box["x"] >= sidebar["x"] and box["x"] + box["width"] <= sidebar["x"] + sidebar["width"], i
    fits = "() => { const s = document.getElementById('sidebar'); return s.scrollWidth <= s.clientWidth }"
    assert page.evaluate(fits)


# What a chart's glyphs draw for the rows Bokeh marks as not selected (a selection made in that chart): per
# quant type, the alpha (a column of the source, or one value for all).
NOT_SELECTED_ALPHA = """(view) => {
  const out = {};
  for (const doc of window.Bokeh.documents) for (const m of doc.all_models) {
    if (!(m.css_classes || []).includes('view-' + view) || !m.renderers) continue;
    for (const r of m.renderers) {
      const ds = r.data_source, g = r.nonselection_glyph;
      if (!ds || !g || !ds.data) continue;
      const data = ds.data instanceof Map ? Object.fromEntries(ds.data) : ds.data;
      if (!('emphasis' in data)) continue;
      const spec = g.fill_alpha;
      data.quant.forEach((q, i) => {
        const one = spec && spec.value !== undefined ? spec.value : spec;
        const a = spec && spec.field !== undefined ? +data[spec.field][i] : +one;
        out[q] = Math.max(out[q] ?? 0, a);
      });
    }
  }
  return out;
}"""


def test_a_selection_started_in_the_spectrum_dims_it_and_highlights_compression_and_sweet_spots(
    page_factory: object, served_app: str
) -> None:
    """The spectrum stayed at full strength when the selection started there; the compression line and the
    sweet-spots grid never highlighted."""
    page = open_app(page_factory, served_app)
    show_view(page, "spectrum-heatmap")
    select_in_chart(page, "spectrum-heatmap", "detail", "Q8_0")
    wait_for_emphasis(page, "spectrum-heatmap", ["Q8_0"])
    # the spectrum's own cells, drawn as "not selected" by Bokeh, keep the dimming
    page.wait_for_function(
        "([js, view]) => { const a = eval(js)(view); const qs = Object.keys(a);"
        " return qs.length > 0 && qs.every(q => q === 'Q8_0' ? a[q] === 1 : a[q] < 0.5); }",
        arg=[NOT_SELECTED_ALPHA, "spectrum-heatmap"],
        timeout=INTERACTION_TIMEOUT_MS,
    )
    # the Quality tab's charts, opened after the selection
    show_view(page, "quality-bars")
    for view in ("compression-line", "quality-bars"):
        wait_for_emphasis(page, view, ["Q8_0"])
    # sweet spots: a cell is strong when its type (the best-model row says "<model> <type>") is the selection
    show_view(page, "sweet-spots")
    page.wait_for_function(
        """() => { const s = window.__charts.sources('sweet-spots', 'emphasis')[0]; if (!s) return false;
          return s.quant.every((q, i) => (q.split(' ').pop() === 'Q8_0') === (+s.emphasis[i] === 1))
            && s.quant.some(q => q.endsWith('Q8_0')); }""",
        timeout=INTERACTION_TIMEOUT_MS,
    )


def test_a_drag_in_the_scatter_selects(page_factory: object, served_app: str) -> None:
    """Dragging panned the axes away (to -2 GiB): box select had to be chosen first."""
    page = open_app(page_factory, served_app)
    page.get_by_text("none (click or drag in a chart)").first.wait_for()
    show_view(page, "quality-scatter")
    frame = page.locator(".view-quality-scatter .bk-CartesianFrame").first
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=8)
    page.mouse.up()
    page.get_by_text("none (click or drag in a chart)").first.wait_for(state="hidden", timeout=INTERACTION_TIMEOUT_MS)
    show_view(page, "spectrum-heatmap")
    wait_for_emphasis(page, "spectrum-heatmap", sorted(source_quants(page)))


def source_quants(page: object) -> list[str]:
    """The quant types the sidebar lists as selected."""
    text = page.get_by_text("Selected:", exact=True).first.locator("xpath=..").inner_text()
    return [q.strip() for q in text.split("Selected:", 1)[1].split(",") if q.strip()]


def test_no_tab_widens_the_phone_page(page_factory: object, served_app: str) -> None:
    """Opening the Spectrum tab (its 620 px chart scrolls in its own box) widened the page to 635 px at 390 px."""
    page = open_app(page_factory, served_app, width=390)
    widths = "() => ['main', 'content'].map(id => document.getElementById(id).scrollWidth)"
    for title in SECTIONS:
        show_tab(page, title)
        assert max(page.evaluate(widths)) <= 390, title
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390


@pytest.mark.parametrize("theme", ["default", "dark"])
def test_source_links_read_as_text_in_both_themes(page_factory: object, served_app: str, theme: str) -> None:
    """The Sources links had the accent's fill colour: 3.4:1 on the dark theme's background (text needs 4.5:1)."""
    page = open_app(page_factory, served_app + f"?theme={theme}")
    show_tab(page, "Sources")
    links = page.locator("table a[href^='http']")
    links.first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    assert links.count() >= 5
    for i in range(links.count()):
        link = links.nth(i)
        colour, ground = link.evaluate(TEXT_COLOUR), link.evaluate(DRAWN_ON)
        assert contrast_ratio(colour, ground) >= 4.5, (i, colour, ground)
    screenshot(page, f"sources-links-{theme}")


@pytest.mark.parametrize("theme", ["default", "dark"])
def test_summary_links_read_as_text_in_both_themes(page_factory: object, served_app: str, theme: str) -> None:
    """The recommendation's source links had the accent's fill colour too (2.9:1 on the dark background)."""
    page = open_app(page_factory, served_app + f"?theme={theme}")
    links = page.locator("li a[href^='http']:visible")
    links.first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    assert links.count() >= 2
    for i in range(links.count()):
        link = links.nth(i)
        colour, ground = link.evaluate(TEXT_COLOUR), link.evaluate(DRAWN_ON)
        assert contrast_ratio(colour, ground) >= 4.5, (i, colour, ground)
