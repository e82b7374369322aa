"""Shared look and the linked-selection plumbing every chart uses."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import html
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
import param

from dashboard.state import Explorer

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. No black and no yellow for a line or a
# point: each series colour reads at least 2:1 on both themes' chart background (white, and #181818 in the dark
# theme), which tests/test_look.py checks; float is a blue-violet instead of Okabe-Ito's black.
FAMILY_COLOURS = {
    "float": "#7570B3",
    "legacy": "#999999",
    "k-quant": "#0072B2",
    "i-quant": "#E69F00",
    "ternary": "#CC79A7",
    "microscaling": "#009E73",
    "low-bit block": "#56B4E9",
    "user": "#D55E00",
}
# what each family means, for the legends (the words of data/quant_types.csv's family column)
FAMILY_LABELS = {
    "float": "float (F16, BF16, F32: no compression)",
    "legacy": "legacy (Q4_0, Q8_0, ...)",
    "k-quant": "k-quant (Q4_K_M, ...)",
    "i-quant": "i-quant (IQ4_XS, ...)",
    "ternary": "ternary (TQ1_0, TQ2_0)",
    "microscaling": "microscaling (MXFP4_MOE)",
    "low-bit block": "low-bit block (Q1_0, Q2_0)",
    "user": "yours (your measurements: diamonds)",
}
FIT_COLOURS = {"fits": "#009E73", "tight": "#F0E442", "partial offload": "#E69F00", "no": "#D55E00"}
DIMMED_ALPHA = 0.15
TOOLS = ["hover", "tap", "box_select", "lasso_select"]
# Toolbars on the right of their chart. Above it, a horizontal toolbar of ten tools is wider than a phone and
# widened the page (tests/ui/test_user_journeys.py::test_phone_page_does_not_scroll_sideways).
TOOLBAR_LOCATION = "right"
# Where selecting is the point, a drag selects (pan stays in the toolbar): the charts drawn by linked_dmap.
SELECTION_DRAG = "box_select"
# The selected button of a choice group: the accent fill with white text (5.2:1), on both themes; Panel's own
# "selected" grey is hard to tell from the others in the light theme.
SELECTED_BUTTON_CSS = """
.bk-btn-group > .bk-btn.bk-active {
  background-color: #0072B2 !important; border-color: #0072B2 !important; color: #FFFFFF !important;
  font-weight: 600;
}
"""


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a ``#RRGGBB`` colour (0 black .. 1 white)."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 .. 21; text needs at least 4.5)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (the better one is >= 4.58:1 on any colour)."""
    dark, light = "#000000", "#FFFFFF"
    return dark if contrast_ratio(dark, background) >= contrast_ratio(light, background) else light


def palette_colour(palette: list[str] | tuple[str, ...], value: float, low: float = 0.0, high: float = 1.0) -> str:
    """The colour a linear colour mapper over ``palette`` gives ``value`` (Bokeh's binning)."""
    n = len(palette)
    return palette[min(n - 1, max(0, int((value - low) / (high - low) * n)))]


def emphasis(quants: pd.Series, selected: list[str]) -> pd.Series:
    """1.0 for selected quant types (or for all when nothing is selected), a faint alpha for the rest."""
    if not selected:
        return pd.Series(1.0, index=quants.index)
    return quants.isin(selected).map({True: 1.0, False: DIMMED_ALPHA})


def selectable(element: hv.Element) -> hv.Element:
    """``element`` (with an ``emphasis`` column) set up for the shared selection: a drag draws a selection box
    (pan and the other tools stay in the toolbar), and the points Bokeh itself marks as selected or not selected
    keep the selection's emphasis. Without that, the chart a selection starts in draws every glyph at full
    strength (Bokeh's selected/non-selected styles replace the alpha) while the other charts dim."""
    tools = list(hv.Store.lookup_options("bokeh", element, "plot").kwargs.get("tools") or [])
    return element.opts(
        tools=[*tools, *([SELECTION_DRAG] if SELECTION_DRAG not in tools else [])],
        active_tools=[SELECTION_DRAG],
        selection_alpha="emphasis",
        nonselection_alpha="emphasis",
        backend="bokeh",
    )


def linked_dmap(
    explorer: Explorer, make: Callable[..., hv.Element], watch: list[str], extra: list[hv.streams.Stream] | None = None
) -> hv.DynamicMap:
    """A chart redrawn when ``watch`` parameters of ``explorer`` change, whose taps and box/lasso selections
    set ``explorer.selected_quants`` (see :func:`selectable`: a drag selects).

    ``make(**{name: value})`` returns an element whose data has a ``quant`` column. The selection is state
    (``Explorer.selected_quants``): every chart reads it to set its ``emphasis`` column, so selecting in
    one chart highlights the same quant types in all of them. An empty selection event (a click on empty
    space) is ignored; the Clear button resets.
    """
    params = hv.streams.Params(explorer, [*watch, "selected_quants"])
    dmap = hv.DynamicMap(lambda **values: selectable(make(**values)), streams=[params, *(extra or [])])
    selection = hv.streams.Selection1D(source=dmap)

    def on_select(index: list[int]) -> None:
        if not index:
            return
        element = dmap.last
        if element is None:
            return
        # a HeatMap is drawn from its gridded (aggregated) form: indices refer to that order
        frame = element.gridded.dframe() if isinstance(element, hv.HeatMap) else element.dframe()
        picked = [frame["quant"].iloc[i] for i in index if 0 <= i < len(frame)]
        if picked and sorted(set(picked)) != sorted(explorer.selected_quants):
            # the stream calls back outside the document lock; charts drawn with Bokeh directly (memory
            # breakdown, frontier) update their models on the selection, which needs the lock
            pn.state.execute(partial(explorer.select, picked), schedule=True)

    selection.add_subscriber(on_select)
    dmap._quant_selection = selection  # keep the stream alive as long as the chart
    return dmap


def legend(entries: Iterable[tuple[str, str]], name: str, marker: str = "square") -> pn.pane.HTML:
    """A legend under a chart: one coloured ``marker`` ("square", "circle", "line") and label per
    ``(label, colour)`` entry. HTML rather than a legend in the plot: it wraps on a phone and covers no data;
    tagged with the CSS class ``legend-<name>``."""
    shape = {
        "square": "width:0.9em;height:0.9em",
        "circle": "width:0.9em;height:0.9em;border-radius:50%",
        "line": "width:1.6em;height:0.25em",
    }[marker]
    items = "".join(
        "<span style='display:inline-flex;align-items:center;gap:0.35em;margin-right:1em;white-space:nowrap'>"
        f"<span style='display:inline-block;{shape};background:{colour}'></span>{html.escape(label)}</span>"
        for label, colour in entries
    )
    return pn.pane.HTML(
        f"<div style='display:flex;flex-wrap:wrap;row-gap:0.2em;font-size:0.85em'>{items}</div>",
        name=f"legend-{name}",
        css_classes=[f"legend-{name}"],
        sizing_mode="stretch_width",
        margin=(0, 10),
    )


def family_legend(families: Iterable[str], name: str, marker: str = "square") -> pn.pane.HTML:
    """The colour legend of a chart coloured by quant family: the ``families`` it draws, in a fixed order."""
    present = set(families)
    return legend([(FAMILY_LABELS[f], FAMILY_COLOURS[f]) for f in FAMILY_COLOURS if f in present], name, marker)


def choice_buttons(parameter: param.Parameter, **kwargs: Any) -> pn.widgets.RadioButtonGroup:
    """A radio button group for ``parameter`` whose selected button stands out on both themes."""
    stylesheets = [SELECTED_BUTTON_CSS, *kwargs.pop("stylesheets", [])]
    return pn.widgets.RadioButtonGroup.from_param(parameter, stylesheets=stylesheets, **kwargs)


def hv_pane(obj: object, name: str, toolbar: str | None = TOOLBAR_LOCATION, **kwargs: Any) -> pn.pane.HoloViews:
    """A HoloViews pane that keeps its own axes (Panel links same-named axes across panes by default),
    tagged with the CSS class ``view-<name>`` so tests and embedders can find it, its toolbar at ``toolbar``
    (``None``: no toolbar; the tools keep working)."""
    if isinstance(obj, hv.core.Dimensioned):
        obj = obj.opts(toolbar=toolbar, backend="bokeh")
    return pn.pane.HoloViews(obj, linked_axes=False, name=name, css_classes=[f"view-{name}"], **kwargs)


def scroll_box(*objects: Any) -> pn.Column:
    """Keep a wide chart (one with a ``min_width``) readable on phones: it scrolls sideways in its own box."""
    # min-width as a style: Panel derives a layout's min_width from its children's and ignores min_width=0
    return pn.Column(*objects, sizing_mode="stretch_width", styles={"overflow-x": "auto", "min-width": "0"})


def off_event_loop(work: Callable[[], Any], done: Callable[[Any], None]) -> None:
    """Run ``work`` away from the server's event loop, then ``done(result)`` with the document locked.

    On a Panel server ``work`` runs in a worker thread (one session's slow paste does not hold up another
    session's widget change) and ``done`` is queued with ``add_next_tick_callback``, Bokeh's thread-safe way
    back into a session, where chart models can be edited. Without a server session (tests, the Pyodide
    build, which has no threads) both run at once. ``result`` is ``work``'s return value or the exception it
    raised.
    """

    def run() -> Any:
        try:
            return work()
        except Exception as exc:  # handed to done(), which reports it in the page
            return exc

    doc = pn.state.curdoc
    if doc is None or doc.session_context is None or sys.platform == "emscripten":
        done(run())
        return
    threading.Thread(target=lambda: doc.add_next_tick_callback(partial(done, run())), daemon=True).start()


def writes_bokeh_models(method: Callable[..., None]) -> Callable[..., None]:
    """For a view method that writes the Bokeh models it draws itself (not through Panel or HoloViews).

    Panel may run a state change outside Bokeh's document lock: a click that arrives while a widget change is still
    queued is handled, together with that change, in an unlocked callback. A plain model write there raised (a
    served session checks the lock) and stopped the views after it, the selection text included. In Panel's
    ``unlocked`` context the document holds the changes and Panel sends them itself, in the lock or not; without a
    served session it does nothing.
    """

    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> None:
        with pn.io.unlocked():
            method(*args, **kwargs)

    return write


@contextlib.contextmanager
def one_document_walk(doc: Any) -> Iterator[None]:
    """Redraw several charts of ``doc`` with at most one walk of its model graph, and none when no model was
    attached or detached.

    HoloViews wraps every chart update in Bokeh's ``doc.models.freeze()``, whose end walks every model of the
    document to find the models added or removed; nested in one outer freeze the walk happens once, at its end.
    Most changes only set values (a chart's data, a text): Bokeh then learns of no new model, yet its freeze walks
    the whole document anyway (with the sidebar and the first tab that walk was most of a widget change's server
    CPU). Bokeh asks for the walk (``models.invalidate()``) whenever a property is set to a value holding models
    (a new renderer, legend item or style sheet), and the document's roots change only through ``add_root`` /
    ``remove_root``; so here the walk is done only when one of those happened inside. Bokeh's own ``freeze``
    stays frozen when its body raises (then the document would never learn of new models), so this one unfreezes
    in ``finally``. ``doc`` None: nothing to hold.
    """
    models = getattr(doc, "models", None)
    if models is None:
        yield
        return
    if "invalidate" in vars(models):  # inside another one_document_walk: that one walks if needed
        yield
        return
    asked: list[bool] = []
    roots = list(doc.roots)
    models.invalidate = lambda: asked.append(True)  # frozen, Bokeh's own would do nothing now: note the request
    models._push_freeze()
    try:
        yield
    finally:
        del models.invalidate
        if asked or list(doc.roots) != roots or models._freeze_count > 1:
            models._pop_freeze()  # walks the document when it is the outermost freeze
        else:
            models._freeze_count -= 1  # nothing attached or detached: the walk would find what is known


# What the served app's process is started with so that memory a closed session freed goes back to the system
# (README, Deployment; scripts/serve.py sets it): CPython's small objects from the C allocator, which
# ``malloc_trim`` can return, and polars' jemalloc returning freed pages at once instead of keeping them.
SERVER_MEMORY_ENV = {"PYTHONMALLOC": "malloc", "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}


def release_freed_memory(*_args: object) -> None:
    """Collect the closed session's reference cycles and hand the freed memory back to the system.

    Called when a session is destroyed. Without it a server that held a session with 100,000 user rows stayed
    ~100 MiB above its idle size after the session closed (nothing referenced the rows any more: the allocators
    kept the freed pages). ``malloc_trim`` exists in glibc only; elsewhere (and in the browser build) this only
    collects.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
