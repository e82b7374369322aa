"""Your hardware: the searchable device picker, GPU count, bandwidth, the Apple Metal limit and a minimum speed."""

from __future__ import annotations

import panel as pn
import param

from dashboard import hardware
from dashboard.state import UserConstraints


class DevicePanel(pn.viewable.Viewer):
    """The device widgets of the sidebar: picking a device sets the memory, bandwidth and backend (state rules)."""

    constraints = param.ClassSelector(class_=UserConstraints, doc="The user's constraints.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        c = self.constraints
        p = c.param
        self._picker = pn.widgets.AutocompleteInput.from_param(
            p.device,
            name="Device (type to search)",
            placeholder="e.g. 4090, M3 Max, DDR5",
            search_strategy="includes",
            case_sensitive=False,
            min_characters=1,
            restrict=True,
            description=p.device.doc,
        )
        self._gpus = pn.widgets.IntInput.from_param(p.n_gpus, name="GPUs", description=p.n_gpus.doc, width=125)
        self._bandwidth = pn.widgets.FloatInput.from_param(
            p.bandwidth_gb_per_s,
            name="Bandwidth (GB/s)",
            placeholder="optional",
            description=p.bandwidth_gb_per_s.doc,
            width=125,
        )
        self._raise = pn.widgets.Checkbox.from_param(
            p.raise_metal_limit,
            name="Use the raised limit (iogpu.wired_limit_mb)",
            margin=(4, 10),
            css_classes=["raise-metal-limit"],
        )
        self._limit = pn.widgets.IntInput.from_param(
            p.metal_wired_limit_mb,
            name="iogpu.wired_limit_mb (MiB)",
            description=p.metal_wired_limit_mb.doc,
        )
        self._note = pn.pane.Markdown(
            "", name="device-note", sizing_mode="stretch_width", margin=(0, 10), styles={"font-size": "0.85em"}
        )
        self._min_speed = pn.widgets.FloatInput.from_param(
            p.min_tokens_per_s,
            name="Minimum speed (tokens/s)",
            placeholder="optional",
            description=p.min_tokens_per_s.doc,
        )
        self._refresh()

    @param.depends(
        "constraints.device",
        "constraints.vram_gb",
        "constraints.n_gpus",
        "constraints.raise_metal_limit",
        "constraints.metal_wired_limit_mb",
        watch=True,
    )
    def _refresh(self) -> None:
        c = self.constraints
        custom = c.device == hardware.CUSTOM_DEVICE
        dev = None if custom else hardware.get_device(c.device)
        apple = dev is not None and dev.is_apple
        self._gpus.visible = dev is None or not (dev.is_apple or dev.is_cpu)
        self._bandwidth.visible = custom
        self._raise.visible = apple
        self._limit.visible = apple and c.raise_metal_limit
        self._note.object = c.device_note()
        self._note.visible = not custom

    def picker(self) -> pn.widgets.AutocompleteInput:
        """The searchable device picker (placed above the memory input)."""
        return self._picker

    def details(self) -> pn.Column:
        """GPU count and bandwidth side by side, the device's note and the Apple switch (below the memory input)."""
        return pn.Column(
            pn.Row(self._gpus, self._bandwidth, margin=0),
            self._note,
            self._raise,
            self._limit,
            sizing_mode="stretch_width",
            margin=0,
        )

    def speed_widget(self) -> pn.widgets.FloatInput:
        """The optional minimum speed (placed beside the priority)."""
        return self._min_speed

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._picker, self.details(), self._min_speed, sizing_mode="stretch_width", margin=0)
