"""What one change costs the server: evaluated once, one walk of the Bokeh document, heavy work in the worker.

Timings are not asserted here (they live in scripts/bench.py); these tests count the work itself.
"""

from __future__ import annotations

import panel as pn
import pytest
from bokeh.document import Document
from panel.io.location import Location

from dashboard import hardware
from dashboard.app import build_app, sync_url
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


def test_a_widget_change_walks_the_document_once(session_doc: Document, monkeypatch: pytest.MonkeyPatch) -> None:
    explorer = Explorer()
    template = build_app(explorer)
    template.server_doc(session_doc)
    constraints = explorer.constraints
    constraints.vram_gb = 12.0  # first change: every chart has drawn once
    walks = []
    original = type(session_doc.models).recompute
    monkeypatch.setattr(type(session_doc.models), "recompute", lambda self: (walks.append(1), original(self))[1])
    constraints.vram_gb = 16.0
    # HoloViews freezes the document around each chart's update; one freeze around them all: one walk, not one
    # per chart redrawn
    assert len(walks) == 1
    assert session_doc.models._freeze_count == 0
    # and the summary shows the new answer
    assert any(" on 16 GB at " in str(getattr(m, "text", "")) for m in session_doc.models if type(m).__name__ == "HTML")


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
