"""The app assembles views around one state object; tests reach that state through ``build_app(explorer)``."""

from __future__ import annotations

import panel as pn
import pytest

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
