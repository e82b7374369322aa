"""The app assembles views around one state object; tests reach that state through ``build_app(explorer)``."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable

import panel as pn
import pytest
from bokeh.core.types import ID
from bokeh.document import Document
from bokeh.events import ButtonClick
from bokeh.models import Button as BokehButton
from bokeh.models import ColumnDataSource, Spinner
from bokeh.models import Tabs as BokehTabs
from bokeh.server.contexts import BokehSessionContext
from bokeh.server.session import ServerSession, _needs_document_lock_on_loop
from tornado.ioloop import IOLoop

from dashboard.app import build_app
from dashboard.state import CUSTOM_MODEL, Explorer
from dashboard.views.sidebar import Sidebar, selection_text


def find(template: pn.template.BaseTemplate, cls: type, name: str | None = None) -> list:
    """Every ``cls`` component (named ``name``) in the template's main area or sidebar, at any depth."""
    found, todo = [], [*template.main, *template.sidebar]
    while todo:
        item = todo.pop()
        found.append(item)
        todo += getattr(item, "objects", [])
    return [o for o in found if isinstance(o, cls) and (name is None or o.name == name)]


def summary_text(template: pn.template.BaseTemplate) -> str:
    (pane,) = find(template, pn.pane.Markdown, "recommendation")
    return pane.object


def test_the_page_is_built_on_the_explorer_it_is_given() -> None:
    explorer = Explorer()
    template = build_app(explorer)
    assert not hasattr(template, "explorer")  # no attribute stuck on the template: the argument is the hook
    assert summary_text(template).startswith("## Llama-3.1-8B on 24 GB at 8K context")
    explorer.constraints.vram_gb = 8.0
    assert summary_text(template).startswith("## Llama-3.1-8B on 8 GB at 8K context")
    # and the sidebar's widget drives the same state
    (vram,) = find(template, pn.widgets.FloatInput, "GPU memory (GB)")
    vram.value = 48.0
    assert explorer.constraints.vram_gb == 48.0


def test_the_sidebar_holds_the_device_picker_on_the_same_state() -> None:
    explorer = Explorer()
    template = build_app(explorer)
    (picker,) = find(template, pn.widgets.AutocompleteInput, "Device (type to search)")
    (speed,) = [w for w in find(template, pn.widgets.FloatInput) if "speed" in w.name.lower()]
    device = explorer.constraints.param.device.objects[1]  # a real device (the first is "custom")
    picker.value = device
    assert explorer.constraints.device == device
    speed.value = 12.0
    assert explorer.constraints.min_tokens_per_s == 12.0


def test_each_session_gets_its_own_state() -> None:
    first, second = build_app(), build_app()
    find(first, pn.widgets.FloatInput, "GPU memory (GB)")[0].value = 12.0
    assert summary_text(first).startswith("## Llama-3.1-8B on 12 GB")
    assert summary_text(second).startswith("## Llama-3.1-8B on 24 GB")


def test_sidebar_shows_the_custom_card_only_for_a_custom_model() -> None:
    explorer = Explorer()
    sidebar = Sidebar(explorer=explorer)
    assert not sidebar._custom_card.visible
    explorer.constraints.model = CUSTOM_MODEL
    assert sidebar._custom_card.visible
    explorer.constraints.model = "Llama-3.1-70B"
    assert not sidebar._custom_card.visible


@pytest.mark.parametrize(
    ("selected", "text"),
    [
        ([], "**Selected:** none (click or drag in a chart)"),
        (["Q4_K_M", "IQ2_XS"], "**Selected:** Q4_K_M, IQ2_XS"),
        (["<b>x</b>"], "**Selected:** &lt;b&gt;x&lt;/b&gt;"),
    ],
)
def test_selection_text(selected: list[str], text: str) -> None:
    assert selection_text(selected) == text


def served(
    explorer: Explorer, from_the_browser: Callable[[Document], None], until: Callable[[Document], bool]
) -> Document:
    """The page of ``explorer`` on a Bokeh document attached to a server session, as ``panel serve`` leaves it once
    the browser has loaded it (from then on a write to its Bokeh models outside the document lock raises, as in the
    served app); ``from_the_browser(doc)`` applied the way Bokeh applies a browser's messages (on the event loop, in
    the document lock); then the loop runs until ``until(doc)`` (at most 5 s). At the end the page leaves the
    session."""
    previous = pn.state.curdoc

    async def run() -> Document:
        doc = Document()
        build_app(explorer).server_doc(doc)
        session = ServerSession(ID("test-session"), doc, io_loop=IOLoop.current())
        context = BokehSessionContext(ID("test-session"), None, doc)  # no server context: nothing here reads it
        context._set_session(session)
        doc._session_context = weakref.ref(context)
        pn.state.curdoc = doc
        pn.state._loaded[doc] = True
        try:
            await _needs_document_lock_on_loop(lambda _session: from_the_browser(doc))(session)
            for _ in range(250):  # what Panel queued, then what that scheduled in the lock
                await asyncio.sleep(0.02)
                if until(doc):
                    break
        finally:  # the page is no longer served; its models stay readable
            pn.state._loaded.pop(doc, None)
            doc.remove_on_change(session)
            doc._session_context = None
        return doc

    # on a thread of its own: in a test worker that ran a browser test before, Playwright's loop is running on this
    # thread and asyncio.run refuses to start another
    outcome: dict[str, object] = {}

    def on_its_own_thread() -> None:
        try:
            outcome["doc"] = asyncio.run(run())
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    try:
        thread = threading.Thread(target=on_its_own_thread)
        thread.start()
        thread.join()
    finally:
        pn.state.curdoc = previous
    if "error" in outcome:
        raise outcome["error"]
    return outcome["doc"]


def model(doc: Document, kind: type, **properties: object) -> object:
    """The one Bokeh model of ``kind`` in ``doc`` with these property values."""
    (found,) = [
        m for m in doc.models if isinstance(m, kind) and all(getattr(m, k, None) == v for k, v in properties.items())
    ]
    return found


def click_clear(doc: Document) -> None:
    button = model(doc, BokehButton, label="Clear selection")
    assert doc in pn.state._change_callbacks  # a change still queued: Panel handles the click unlocked
    button._trigger_event(ButtonClick(button))


def selection_shown(doc: Document) -> str:
    """The selection line of the page's sidebar, as the browser gets it."""
    (text,) = [str(m.text) for m in doc.models if "Selected:" in str(getattr(m, "text", ""))]
    return text


def emphasis_of_the_memory_bars(doc: Document) -> set[float]:
    (bars,) = [m for m in doc.models if isinstance(m, ColumnDataSource) and {"total", "emphasis"} <= set(m.data)]
    return set(bars.data["emphasis"])


def test_clear_selection_clears_every_view_when_the_click_comes_outside_the_document_lock() -> None:
    """A click that arrives while a widget change is still queued (switching a tab, then Clear) is run by Panel
    outside Bokeh's document lock. Clear used to change the state right there: the memory bars (drawn with Bokeh
    directly) raised on their model write, and the views after them, the selection text included, kept the old
    selection (the browser test waiting for "Selected: none" timed out 1 run in 3)."""
    explorer = Explorer()
    explorer.select(["IQ2_XS"])

    def switch_tab_then_clear(doc: Document) -> None:
        model(doc, BokehTabs).active = 1
        click_clear(doc)

    doc = served(explorer, switch_tab_then_clear, lambda doc: "none" in selection_shown(doc))
    assert explorer.selected_quants == []
    assert "none" in selection_shown(doc)
    assert emphasis_of_the_memory_bars(doc) == {1.0}  # no type dimmed


def test_a_typed_memory_still_queued_when_clear_is_clicked_changes_every_view() -> None:
    """Panel runs the widget changes still queued when a click comes, then the click, all outside the document
    lock. The recompute for the new memory used to raise at the memory bars' model write: the page kept the old
    selection, and the views after the bars the old memory."""
    explorer = Explorer()
    explorer.select(["IQ2_XS"])

    def type_memory_then_clear(doc: Document) -> None:
        model(doc, Spinner, title="GPU memory (GB)").value = 8.0
        click_clear(doc)

    doc = served(explorer, type_memory_then_clear, lambda doc: "none" in selection_shown(doc))
    assert explorer.recommendation.constraints.vram_gb == 8.0 and explorer.selected_quants == []
    assert "none" in selection_shown(doc)
    assert emphasis_of_the_memory_bars(doc) == {1.0}
    # the decision tree (drawn with Bokeh directly) follows the new memory
    (tree,) = [m for m in doc.models if isinstance(m, ColumnDataSource) and {"node", "active"} <= set(m.data)]
    assert any(label.startswith(f"→ {explorer.recommendation.best.quant} ") for label in tree.data["label"])
