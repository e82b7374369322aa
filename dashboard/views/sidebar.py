"""The sidebar (view 0): the constraint widgets, the custom-model card, the selection and the user-data card."""

from __future__ import annotations

import html

import panel as pn
import param

from dashboard.state import CUSTOM_MODEL, Explorer
from dashboard.views.common import choice_buttons
from dashboard.views.custom_model import CustomModelCard
from dashboard.views.device import DevicePanel
from dashboard.views.user_data import UserDataPanel

# An inline SVG, not a Tabler icon name: a named icon makes BokehJS load the Tabler web font from a CDN.
CLEAR_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round"><path d="M18 6 6 18M6 6l12 12"/></svg>'
)


def selection_text(selected: list[str]) -> str:
    """The selection as Markdown; quant names are HTML-escaped."""
    return "**Selected:** " + (html.escape(", ".join(selected)) if selected else "none (click or drag in a chart)")


def _labelled(title: str, widget: pn.widgets.Widget) -> pn.Column:
    return pn.Column(
        pn.pane.HTML(f"<label style='font-size:0.9em'>{title}</label>", margin=(5, 10, 0, 10)),
        widget,
        sizing_mode="stretch_width",
        margin=0,
    )


class Sidebar(pn.viewable.Viewer):
    """What the user has and wants (model, device, memory, context, KV cache, backend, priority, minimum speed), a
    custom model's architecture, the shared quant selection and the user's own data."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        constraints = self.explorer.constraints
        self._custom_card = pn.Card(
            CustomModelCard(custom=constraints.custom),
            title="Custom model architecture",
            collapsed=False,
            sizing_mode="stretch_width",
            visible=constraints.model == CUSTOM_MODEL,
        )
        self._device = DevicePanel(constraints=constraints)

    @param.depends("explorer.constraints.model", watch=True)
    def _show_custom_card(self) -> None:
        self._custom_card.visible = self.explorer.constraints.model == CUSTOM_MODEL

    def __panel__(self) -> pn.viewable.Viewable:
        p = self.explorer.constraints.param
        widgets = pn.Column(
            pn.widgets.Select.from_param(p.model, label="Model", description=p.model.doc),
            self._device.picker(),
            pn.widgets.FloatInput.from_param(p.vram_gb, label="GPU memory (GB)", step=1.0, description=p.vram_gb.doc),
            self._device.details(),
            pn.widgets.IntInput.from_param(p.context, label="Context (tokens)", step=1024, description=p.context.doc),
            _labelled("KV-cache type", choice_buttons(p.kv_cache, label="")),
            _labelled("Backend", choice_buttons(p.backend, label="")),
            _labelled("Priority", choice_buttons(p.priority, label="")),
            self._device.speed_widget(),
            sizing_mode="stretch_width",
        )
        clear = pn.widgets.Button(label="Clear selection", color="default", icon=CLEAR_ICON)
        # Panel may run the click outside the document lock (a widget change still queued when it came): the views
        # that write Bokeh models themselves do it safely there (views.common.writes_bokeh_models)
        clear.on_click(lambda _: self.explorer.clear_selection())
        selected = pn.pane.Markdown(
            pn.bind(selection_text, self.explorer.param.selected_quants), name="selected-quants"
        )
        return pn.Column(
            widgets,
            self._custom_card,
            pn.layout.Divider(),
            selected,
            clear,
            pn.layout.Divider(),
            UserDataPanel(explorer=self.explorer),
            sizing_mode="stretch_width",
        )
