"""The LLM quantisation dashboard.

Run with::

    panel serve dashboard/app.py --show

This module only assembles: state from :mod:`dashboard.state`, views from :mod:`dashboard.views`.
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Callable
from functools import partial

import holoviews as hv
import panel as pn
import param
from panel.io.location import Location

from dashboard.state import DEFERRABLE_FRAMES, TEMPLATE_URL_PARAMETERS, URL_PARAMETERS, Explorer, UserConstraints
from dashboard.views.common import one_document_walk, release_freed_memory
from dashboard.views.compare import CrossSizeChart, ModelFrontier
from dashboard.views.efficiency import EfficiencyCharts
from dashboard.views.fit import MemoryBreakdown, SweetSpots
from dashboard.views.quality import QualityBars, QualityScatter
from dashboard.views.sidebar import Sidebar
from dashboard.views.spectrum import ColourAnalogy, SpectrumHeatmap
from dashboard.views.summary import RecommendationSummary, SourcesPanel
from dashboard.views.tree import DecisionTree

TITLE = "GGUF quantisation: quality, memory, fit"
# Phones: stack the sidebar above the charts and let the title shrink instead of pushing the header wide.
PHONE_CSS = """
/* the template's sidebar is 8 px taller than its row, which scrolled the whole page by 8 px (a second scrollbar
   in an iframe); the main area scrolls on its own, so the page itself need not */
@media (min-width: 701px) { body { overflow: hidden; } }
@media (max-width: 700px) {
  #content { flex-direction: column; overflow-y: auto; }
  #sidebar { min-width: 100% !important; max-width: 100% !important; height: auto !important; flex-shrink: 0;
             box-sizing: border-box; }
  #main { flex-shrink: 0; }
  #main { overflow: visible !important; }
  #header .title { font-size: 1.05rem !important; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
                   max-width: 58vw; }
}
"""


def _query() -> dict[str, list[str]]:
    """The page's URL query, from the server session or (in the browser build) the location."""
    args = pn.state.session_args or {}
    if args:
        return {
            k: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in vs] for k, vs in args.items()
        }
    location = pn.state.location
    return {k: [str(v)] for k, v in (location.query_params.items() if location else [])}


class _Location(Location):
    """Panel's Location, except that its query parameters keep a digit string too long for Python's ``int``
    (more than 4,300 digits) as text: Panel's parsing raised ValueError while the session was created, and a
    link with such a value got a server error (HTTP 500) instead of the page and its notice."""

    @property
    def query_params(self) -> dict[str, object]:
        try:
            return super().query_params
        except ValueError:
            return dict(urllib.parse.parse_qsl(self.search.lstrip("?")))


def _session_location() -> Location | None:
    """The session's Location (Panel's ``pn.state.location``), created from the request as a :class:`_Location`."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None and doc not in pn.state._locations:
        pn.state._locations[doc] = _Location.from_request(doc.session_context.request)
    return pn.state.location


def sync_url(constraints: UserConstraints, notice: pn.pane.Alert) -> None:
    """Keep the URL query and the constraints in step, both ways, through one validation.

    Panel's ``location.sync`` would set URL values on the parameters with Python's own parsing
    (``int("1_0_2_4")`` is 1024) and apply values that the load refused; here every URL value, at load or
    later, goes through :meth:`UserConstraints.apply_query`, and refused ones are named in ``notice``.
    """
    location = _session_location()
    if location is None:
        return

    # the query this function wrote last: its own write is not read back (a model read from a config.json
    # would come back decoded from ``arch=`` as a new object and be evaluated a second and third time)
    written = {"query": ""}

    def to_url(*_events: object) -> None:
        # Panel's own parameters (?theme=dark from the theme toggle) stay in the address bar
        current = urllib.parse.parse_qs(location.search.lstrip("?"))
        panel_owned = {k: v[-1] for k, v in current.items() if k in TEMPLATE_URL_PARAMETERS}
        query = urllib.parse.urlencode({**panel_owned, **constraints.query()})
        if location.search.lstrip("?") != query:
            written["query"] = query
            location.search = "?" + query

    def from_url(event: param.parameterized.Event) -> None:
        if str(event.new).lstrip("?") == written["query"]:
            return
        notices = constraints.apply_query(urllib.parse.parse_qs(str(event.new).lstrip("?")))
        notice.object = "<br>".join(html.escape(n) for n in notices)
        notice.visible = bool(notices)

    constraints.param.watch(to_url, [*URL_PARAMETERS, "config_spec"])  # a new paste changes the link too
    location.param.watch(from_url, "search")
    if notice.visible:

        def clean_address_bar() -> None:
            """What the load ignored leaves the address bar, so a shared or reloaded link shows this page; the
            notice keeps saying what was ignored."""
            said = notice.object, notice.visible
            to_url()
            notice.object, notice.visible = said

        # once the page has loaded: the browser's own address replaces a value set while the page is built
        pn.state.onload(clean_address_bar)


def pair(*views: pn.viewable.Viewable) -> pn.FlexBox:
    """Views side by side on wide screens, stacked on phones."""
    return pn.FlexBox(
        *(pn.Column(v, styles={"flex": "1 1 480px", "min-width": "0"}, sizing_mode="stretch_width") for v in views),
        flex_wrap="wrap",
        sizing_mode="stretch_width",
    )


# The tabs of the main area, in order; the first is the first screen (the static site paints it before BokehJS).
SECTIONS = ("Recommendation", "Model size", "Quality", "Spectrum", "Sweet spots & speed", "Sources")

# The derived frames (state.DEFERRABLE_FRAMES) each tab's charts draw: the others are deferred while it is shown, so
# a change neither computes them nor redraws the hidden charts; they are brought up to date when their tab is shown.
SECTION_FRAMES: dict[str, tuple[str, ...]] = {
    "Recommendation": (),
    "Model size": ("frontier",),
    "Quality": ("model_sizes", "model_quality"),
    "Spectrum": ("model_quality", "speeds"),
    "Sweet spots & speed": ("sweet_spots",),
    "Sources": (),
}


def deferred_while_shown(section: str) -> list[str]:
    """The deferrable frames that no chart of the tab ``section`` draws."""
    return [name for name in DEFERRABLE_FRAMES if name not in SECTION_FRAMES[section]]


# The tab row wraps on a phone: Bokeh scrolls it sideways, which hid the last tabs off the edge at 390 px.
TABS_CSS = ":host(.bk-above) .bk-headers-wrapper { flex-wrap: wrap; }"


def needs_python_html(title: str) -> str:
    """What the tab ``title`` shows until its views are built: for a moment on the server; in the static site until
    Python has loaded in the browser (the pre-render holds the first tab's charts only, which keeps the first paint
    fast)."""
    return (
        f'<div class="dashboard-needs-python" role="status">Drawing the {html.escape(title)} view… In the '
        "standalone page it is drawn by Python running in your browser, once that has loaded (the badge at the "
        "bottom right shows how far it is).</div>"
    )


def on_demand_tabs(
    sections: list[tuple[str, Callable[[], pn.viewable.Viewable]]], on_show: Callable[[int], None] | None = None
) -> pn.Tabs:
    """One tab per ``(title, make_view)``; a tab's view is built the first time the tab is opened (the first tab's
    at once) and kept afterwards, so the first render holds only the first tab's charts. ``on_show(index)`` is
    called whenever a tab is shown (the first one at once), before its view is built."""
    holders = [
        pn.Column(
            pn.pane.HTML(needs_python_html(title), sizing_mode="stretch_width"),
            name=title,
            sizing_mode="stretch_width",
            # a style: Panel derives a layout's min-width from its children's, and the spectrum's 620 px chart
            # (which scrolls in its own box) widened the whole page on a phone once its tab was opened
            styles={"min-width": "0"},
        )
        for title, _ in sections
    ]
    built: set[int] = set()

    def open_tab(index: int) -> None:
        if not 0 <= index < len(sections):
            return
        if on_show is not None:
            on_show(index)
        if index in built:
            return
        built.add(index)
        holders[index].objects = [sections[index][1]()]

    open_tab(0)
    tabs = pn.Tabs(
        *holders, sizing_mode="stretch_width", name="views", stylesheets=[TABS_CSS], styles={"min-width": "0"}
    )
    tabs.param.watch(lambda event: open_tab(event.new), "active")
    return tabs


def build_app(explorer: Explorer | None = None) -> pn.template.BaseTemplate:
    """Build one session's dashboard (state is per session: nothing module-level is mutated).

    Parameters
    ----------
    explorer
        The session's state. Left out (``panel serve``, the static site), it is made from the page's URL
        query and kept in sync with the URL. Given, the page is built on it as it is: this is how tests and
        embedding code drive and inspect the state (``explorer.constraints.vram_gb = 8``...).
    """
    hv.extension("bokeh", logo=False)
    # Canvas, not WebGL: faster to first draw for these small charts, and no BokehJS GL bundle to load.
    hv.renderer("bokeh").webgl = False
    notices: list[str] = []
    from_url = explorer is None
    if explorer is None:
        explorer = Explorer(constraints=UserConstraints(), deferred=deferred_while_shown(SECTIONS[0]))
        notices = explorer.constraints.apply_query(_query())
    # every chart a change redraws, redrawn in one batch (one walk of the document's models)
    explorer.announcing = partial(one_document_walk, pn.state.curdoc)
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.on_session_destroyed(release_freed_memory)  # what the session held goes back to the system
    notice = pn.pane.Alert(
        "<br>".join(html.escape(n) for n in notices), alert_type="warning", visible=bool(notices), name="url-notice"
    )
    if from_url:
        sync_url(explorer.constraints, notice)
    makers = [
        lambda: pn.Column(
            RecommendationSummary(explorer=explorer),
            pair(MemoryBreakdown(explorer=explorer), DecisionTree(explorer=explorer)),
            sizing_mode="stretch_width",
        ),
        lambda: pair(ModelFrontier(explorer=explorer), CrossSizeChart()),
        lambda: pn.Column(
            ColourAnalogy(explorer=explorer),
            pair(QualityScatter(explorer=explorer), QualityBars(explorer=explorer)),
            sizing_mode="stretch_width",
        ),
        lambda: SpectrumHeatmap(explorer=explorer),
        lambda: pair(SweetSpots(explorer=explorer), EfficiencyCharts(explorer=explorer)),
        SourcesPanel,
    ]

    def show(index: int) -> None:
        explorer.deferred = deferred_while_shown(SECTIONS[index])  # the shown tab's frames brought up to date

    tabs = on_demand_tabs(list(zip(SECTIONS, makers, strict=True)), on_show=show)
    main = [pn.Column(notice, tabs, sizing_mode="stretch_width")]
    template = pn.template.FastListTemplate(
        title=TITLE,
        sidebar=[Sidebar(explorer=explorer)],
        main=main,
        theme_toggle=True,
        # No busy spinner in the header: Panel's busy state is one per server process, so the spinner turned on in
        # every open session whenever any session changed a widget, and each change sent every session a message
        # (with 20 sessions most of a change's server CPU). A long task says so where it runs (the paste card).
        busy_indicator=None,
        accent="#0072B2",
        sidebar_width=300,
        main_layout=None,
        raw_css=[PHONE_CSS],
    )
    return template


if __name__.startswith("bokeh"):
    build_app().servable(title=TITLE)
