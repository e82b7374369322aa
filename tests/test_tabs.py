"""The main area's tabs are built on demand: the first render holds only the first tab's views, a tab's views are
built when it is first opened (drawing the state as it is then, the selection included) and kept afterwards."""

from __future__ import annotations

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import ColumnDataSource

from dashboard.app import SECTIONS, build_app, needs_python_html
from dashboard.state import Explorer, UserConstraints


def serve_session() -> tuple[Document, pn.Tabs, Explorer]:
    """One session's page as the server builds it: the template in its own document."""
    doc = Document()
    explorer = Explorer(constraints=UserConstraints())
    with pn.io.server.set_curdoc(doc):
        template = build_app(explorer)
        template.server_doc(doc)
    (tabs,) = [t for column in template.main for t in column.select(pn.Tabs)]
    return doc, tabs, explorer


@pytest.fixture
def served() -> tuple[Document, pn.Tabs, Explorer]:
    return serve_session()


def view_classes(doc: Document) -> set[str]:
    """The chart names (``view-<name>`` CSS classes) of the Bokeh models in the document."""
    return {c for m in doc.models for c in (getattr(m, "css_classes", None) or []) if c.startswith("view-")}


def named(tab: pn.viewable.Viewable, view: str) -> list[pn.viewable.Viewable]:
    """The panes of ``tab`` drawing the chart named ``view``."""
    return tab.select(lambda obj: getattr(obj, "name", None) == view)


def placeholder(tab: pn.viewable.Viewable) -> bool:
    return [getattr(o, "object", None) for o in tab.objects] == [needs_python_html(tab.name)]


def test_first_render_holds_only_the_first_tab(served) -> None:
    doc, tabs, _ = served
    assert [tab.name for tab in tabs.objects] == list(SECTIONS)
    assert tabs.active == 0
    assert not placeholder(tabs.objects[0]) and all(placeholder(tab) for tab in tabs.objects[1:])
    assert view_classes(doc) == {"view-memory-breakdown", "view-decision-tree"}
    assert named(tabs.objects[0], "decision-tree") and named(tabs.objects[0], "memory-breakdown")


def test_opening_a_tab_builds_its_views_once(served) -> None:
    doc, tabs, _ = served
    first_models = len(doc.models)
    spectrum = SECTIONS.index("Spectrum")
    with pn.io.server.set_curdoc(doc):
        tabs.active = spectrum
    built = tabs.objects[spectrum].objects
    assert not placeholder(tabs.objects[spectrum]) and named(tabs.objects[spectrum], "spectrum-heatmap")
    assert "view-spectrum-heatmap" in view_classes(doc) and len(doc.models) > first_models
    assert all(placeholder(tabs.objects[i]) for i in range(1, len(SECTIONS)) if i != spectrum)
    with pn.io.server.set_curdoc(doc):
        tabs.active = 0
        tabs.active = spectrum
    assert tabs.objects[spectrum].objects == built  # kept, not built again
    with pn.io.server.set_curdoc(doc):
        tabs.active = SECTIONS.index("Sources")
    assert not placeholder(tabs.objects[-1])


def emphasis_of(doc: Document, column: str) -> dict[str, float]:
    (source,) = [m for m in doc.models if isinstance(m, ColumnDataSource) and column in m.data]
    out: dict[str, float] = {}
    for quant, value in zip(source.data["quant"], source.data["emphasis"], strict=True):
        out[quant] = max(out.get(quant, 0.0), float(value))
    return out


def test_a_view_built_later_draws_the_current_selection_and_follows_it(served) -> None:
    doc, tabs, explorer = served
    with pn.io.server.set_curdoc(doc):
        explorer.select(["Q4_K_M"])
        tabs.active = SECTIONS.index("Spectrum")  # built after the selection
    heat = emphasis_of(doc, "detail")
    assert heat["Q4_K_M"] == 1.0 and heat["Q8_0"] < 0.5
    with pn.io.server.set_curdoc(doc):
        tabs.active = 0  # the heatmap's tab hidden: its view still follows the state
        explorer.select(["Q8_0"])
    heat = emphasis_of(doc, "detail")
    assert heat["Q8_0"] == 1.0 and heat["Q4_K_M"] < 0.5


def heatmap_details(doc: Document) -> list[str]:
    """The text of every spectrum cell drawn in ``doc`` (its hover detail: the speed column names the speed)."""
    (source,) = [m for m in doc.models if isinstance(m, ColumnDataSource) and "detail" in m.data]
    return list(source.data["detail"])


def test_a_hidden_tabs_chart_is_not_recomputed_on_a_change_but_is_up_to_date_when_shown(served) -> None:
    doc, tabs, explorer = served
    spectrum = SECTIONS.index("Spectrum")
    device = "GeForce RTX 3090"  # a bandwidth: the spectrum's speed column has numbers
    with pn.io.server.set_curdoc(doc):
        explorer.constraints.device = device
        tabs.active = spectrum  # built
        tabs.active = 0  # and hidden again
    speeds, drawn = explorer.speeds, heatmap_details(doc)
    with pn.io.server.set_curdoc(doc):
        explorer.constraints.vram_gb = 4.0  # most types now run partly from system RAM: slower
    assert explorer.recommendation.constraints.vram_gb == 4.0
    assert explorer.speeds is speeds and heatmap_details(doc) == drawn  # neither recomputed nor redrawn
    with pn.io.server.set_curdoc(doc):
        tabs.active = spectrum
    # shown: what a session opened at these constraints draws
    other, other_tabs, fresh = serve_session()
    with pn.io.server.set_curdoc(other):
        fresh.constraints.device = device
        fresh.constraints.vram_gb = 4.0
        other_tabs.active = spectrum
    assert not explorer.speeds.equals(speeds) and explorer.speeds.equals(fresh.speeds)
    assert heatmap_details(doc) != drawn and heatmap_details(doc) == heatmap_details(other)
