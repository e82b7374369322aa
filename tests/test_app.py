"""The app assembles views around one state object; tests reach that state through ``build_app(explorer)``."""

from __future__ import annotations

import asyncio
import weakref

import panel as pn
import pytest
from bokeh.core.types import ID
from bokeh.document import Document
from bokeh.events import ButtonClick
from bokeh.models import Button as BokehButton
from bokeh.models import ColumnDataSource
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


def served_document(template: pn.template.BaseTemplate) -> tuple[Document, BokehSessionContext]:
    """``template`` on a Bokeh document attached to a server session, as ``panel serve`` leaves a built page: from
    then on a change to the page's Bokeh models must happen in the document lock, or Bokeh raises."""
    doc = Document()
    template.server_doc(doc)
    session = ServerSession(ID("test-session"), doc, io_loop=IOLoop.current())
    context = BokehSessionContext(ID("test-session"), None, doc)  # no server context: nothing here reads it
    context._set_session(session)
    doc._session_context = weakref.ref(context)  # the caller keeps the context (and with it the session) alive
    return doc, context


def test_clear_selection_clears_every_view_when_the_click_comes_outside_the_document_lock() -> None:
    """A click that arrives while a widget change is still pending (switching a tab, then Clear) is run by Panel
    outside Bokeh's document lock. Clear used to change the state right there: the memory bars (drawn with Bokeh
    directly) raised on their model write, and the views after them, the selection text included, kept the old
    selection (the browser test waiting for "Selected: none" timed out 1 run in 3)."""
    explorer = Explorer()
    explorer.select(["IQ2_XS"])
    previous = pn.state.curdoc

    async def switch_tab_then_clear() -> Document:
        doc, context = served_document(build_app(explorer))
        pn.state.curdoc = doc
        (tabs,) = [m for m in doc.models if isinstance(m, BokehTabs)]
        (button,) = [m for m in doc.models if isinstance(m, BokehButton) and m.label == "Clear selection"]

        def from_the_browser() -> None:
            # as Bokeh applies a browser's messages (on the event loop, in the document lock): a tab opened, its
            # change queued by Panel for a few milliseconds, and the click on Clear before that change ran
            tabs.active = 1
            assert doc in pn.state._change_callbacks
            button._trigger_event(ButtonClick(button))

        await _needs_document_lock_on_loop(lambda _session: from_the_browser())(context._session)
        for _ in range(250):  # the queued change and click, then what they schedule in the lock
            await asyncio.sleep(0.02)
            if "none" in selection_shown(doc):
                break
        return doc

    try:
        doc = asyncio.run(switch_tab_then_clear())
    finally:
        pn.state.curdoc = previous
    assert explorer.selected_quants == []
    assert "none" in selection_shown(doc)
    # no type dimmed in the charts drawn with Bokeh directly: the memory bars, and the frontier of the tab opened
    (bars,) = [m for m in doc.models if isinstance(m, ColumnDataSource) and {"total", "emphasis"} <= set(m.data)]
    assert set(bars.data["emphasis"]) == {1.0}  # the memory bars (drawn with Bokeh directly): no type dimmed


def selection_shown(doc: Document) -> str:
    """The selection line of the page's sidebar, as the browser gets it."""
    (text,) = [str(m.text) for m in doc.models if "Selected:" in str(getattr(m, "text", ""))]
    return text
