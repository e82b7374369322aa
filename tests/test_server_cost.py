"""What one change costs the server: evaluated once, one walk of the Bokeh document, heavy work in the worker.

Timings are not asserted here (they live in scripts/bench.py); these tests count the work itself.
"""

from __future__ import annotations

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import Legend
from panel.io.location import Location

from dashboard import hardware
from dashboard.app import SECTIONS, build_app, sync_url
from dashboard.hf_config import spec_from_hf_config
from dashboard.state import CONFIG_MODEL, Explorer, UserConstraints, precompute_for
from dashboard.views.common import one_document_walk
from tests.hf_configs import config


@pytest.fixture
def session_doc():
    """A Bokeh document as the current one, with a browser location, as in a served session."""
    doc = Document()
    previous = pn.state.curdoc
    pn.state.curdoc = doc
    pn.state._locations[doc] = Location()
    try:
        yield doc
    finally:
        pn.state._locations.pop(doc, None)
        pn.state.curdoc = previous


def test_a_pasted_config_is_evaluated_once() -> None:
    ex = Explorer()
    before = ex.n_recomputes
    ex.constraints.use_config_spec(spec_from_hf_config(config("once", 20)))
    assert ex.n_recomputes == before + 1 and ex.recommendation.constraints.model.name == "once"


def test_the_apps_own_url_write_is_not_read_back(session_doc: Document) -> None:
    constraints = UserConstraints()
    ex = Explorer(constraints=constraints)
    notice = pn.pane.Alert("", visible=False)
    sync_url(constraints, notice)
    spec = spec_from_hf_config(config("linked", 20))
    before = ex.n_recomputes
    constraints.use_config_spec(spec)
    location = pn.state.location
    assert "arch=" in location.search  # the link carries the model
    # not replaced by the architecture decoded back from that link, nor evaluated again for it
    assert constraints.config_spec is spec and constraints.model == CONFIG_MODEL
    assert ex.n_recomputes == before + 1
    location.search = "?vram_gb=48"  # a URL the browser changes is still applied
    assert constraints.vram_gb == 48.0 and not notice.visible


def count_walks(doc: Document, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets an entry each time Bokeh walks ``doc``'s model graph."""
    walks: list[int] = []
    original = type(doc.models).recompute
    monkeypatch.setattr(type(doc.models), "recompute", lambda self: (walks.append(1), original(self))[1])
    return walks


def served_app(doc: Document) -> tuple[Explorer, pn.Tabs]:
    explorer = Explorer()
    template = build_app(explorer)
    template.server_doc(doc)
    (tabs,) = [t for column in template.main for t in column.select(pn.Tabs)]
    return explorer, tabs


def summary_says(doc: Document, text: str) -> bool:
    return any(text in str(getattr(m, "text", "")) for m in doc.models if type(m).__name__ == "HTML")


def test_a_widget_change_that_attaches_no_model_does_not_walk_the_document(
    session_doc: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    explorer, _ = served_app(session_doc)
    explorer.constraints.vram_gb = 12.0  # first change: every chart has drawn once
    walks = count_walks(session_doc, monkeypatch)
    explorer.constraints.vram_gb = 16.0
    # the first tab's charts get new values, no new model: Bokeh's walk of every model would find nothing new
    assert walks == []
    assert session_doc.models._freeze_count == 0
    assert summary_says(session_doc, " on 16 GB at ")  # and the summary shows the new answer


def test_charts_redrawn_together_walk_the_document_at_most_once(
    session_doc: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    explorer, tabs = served_app(session_doc)
    for index in range(len(tabs.objects)):  # every chart built
        tabs.active = index
    tabs.active = 0
    explorer.deferred = []  # and none left out of a change
    explorer.constraints.vram_gb = 12.0
    walks = count_walks(session_doc, monkeypatch)
    explorer.constraints.vram_gb = 16.0
    # HoloViews freezes the document around each chart's update; one freeze around them all: at most one walk,
    # not one per chart redrawn
    assert len(walks) <= 1
    assert session_doc.models._freeze_count == 0
    assert summary_says(session_doc, " on 16 GB at ")


def test_a_model_a_change_attaches_is_known_to_the_document(
    session_doc: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    explorer, tabs = served_app(session_doc)
    tabs.active = SECTIONS.index("Model size")  # the frontier's legend gets new items on every change
    (frontier,) = [m for m in session_doc.models if "view-model-frontier" in (getattr(m, "css_classes", None) or [])]
    (legend,) = [m for m in frontier.below if isinstance(m, Legend)]
    old_items = list(legend.items)
    walks = count_walks(session_doc, monkeypatch)
    explorer.constraints.vram_gb = 80.0
    assert len(walks) == 1
    assert legend.items and not set(legend.items) & set(old_items)
    # the document knows the new items (the server sends them to the browser), and no longer the old ones
    assert all(session_doc.get_model_by_id(item.id) is item for item in legend.items)
    assert all(session_doc.get_model_by_id(item.id) is None for item in old_items)


def test_one_document_walk_unfreezes_when_a_chart_fails() -> None:
    doc = Document()
    with pytest.raises(RuntimeError), one_document_walk(doc):
        assert doc.models._freeze_count == 1
        raise RuntimeError("a chart failed")
    assert doc.models._freeze_count == 0  # the document still learns of new models
    with one_document_walk(None):  # no document (tests, scripts): nothing to hold
        pass


def test_precompute_for_leaves_the_session_alone_and_warms_the_recompute() -> None:
    ex = Explorer()
    constraints = ex.constraints
    constraints.vram_gb = 48.0
    spec = spec_from_hf_config(config("deep-warm", 300))  # deeper than DEEP_ARCHITECTURE_LAYERS: its own caches
    before = ex.n_recomputes
    precompute_for(constraints, spec)
    assert ex.n_recomputes == before and constraints.model != CONFIG_MODEL and constraints.config_spec is None
    misses = hardware._deep_layer_bytes.cache_info().misses
    constraints.use_config_spec(spec)
    assert ex.recommendation.constraints.model is spec and not ex.error
    assert hardware._deep_layer_bytes.cache_info().misses == misses  # the per-layer split was done in the worker


def test_a_change_in_one_session_sends_nothing_to_another() -> None:
    """Panel's busy state is one per process: a busy spinner in the header turned on in every session for each
    session's change, one message to every open session per change."""
    docs, explorers = [Document(), Document()], [Explorer(), Explorer()]
    for doc, explorer in zip(docs, explorers, strict=True):
        with pn.io.server.set_curdoc(doc):
            build_app(explorer).server_doc(doc)
    elsewhere: list[object] = []
    docs[1].on_change(elsewhere.append)
    (spinner,) = [m for m in docs[0].models if type(m).__name__ == "Spinner" and m.title == "GPU memory (GB)"]
    with pn.io.server.set_curdoc(docs[0]):
        spinner.value = 16.0  # as the browser sets it: through Panel's handling of a widget change
    assert explorers[0].constraints.vram_gb == 16.0 and explorers[1].constraints.vram_gb == 24.0
    assert elsewhere == []
