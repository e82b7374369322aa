"""Bring your own data: paste or upload measurements, paste a config.json, download the dataset.

Everything runs in the session (or in the browser for the static site); nothing is sent anywhere. A
failed parse shows a message and leaves the charts exactly as they were.
"""

from __future__ import annotations

import html
import io

import panel as pn
import param

from dashboard.ingest import CSV_COLUMNS, InputError, parse_measurements, spec_from_hf_config
from dashboard.memory import quant_types
from dashboard.state import CONFIG_MODEL, Explorer

CSV_HELP = (
    "CSV columns: "
    + ", ".join(f"`{c}` ({unit})" for c, (_req, _lo, _hi, unit) in CSV_COLUMNS.items())
    + ". `model` and `quant` are required, plus at least one measurement. Or paste the output of "
    "`llama-perplexity` (a plain run's `Final estimate` line or a `--kl-divergence` run's statistics)."
)


class UserDataPanel(pn.viewable.Viewer):
    """Add, remove and download user measurements; read a model from its config.json."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")
    status = param.String(default="", doc="Last message shown to the user (already HTML-escaped).")
    status_kind = param.Selector(default="info", objects=["info", "success", "danger"], doc="Alert colour.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._paste = pn.widgets.TextAreaInput(
            label="Paste measurements",
            placeholder="model,quant,file_size_gib,perplexity,mean_kld\n…",
            height=120,
            sizing_mode="stretch_width",
        )
        self._upload = pn.widgets.FileInput(accept=".csv,.txt,.log", label="…or upload a file", multiple=False)
        self._model = pn.widgets.TextInput(label="Model name (if the text has none)", sizing_mode="stretch_width")
        self._quant = pn.widgets.Select(
            label="Quant type (if the text has none)", options=["", *quant_types()], sizing_mode="stretch_width"
        )
        self._add = pn.widgets.Button(label="Add to charts", color="primary")
        self._remove = pn.widgets.Button(label="Remove my data", color="default")
        self._add.on_click(self._on_add)
        self._remove.on_click(self._on_remove)
        self._config = pn.widgets.TextAreaInput(
            label="Paste a config.json",
            height=100,
            sizing_mode="stretch_width",
            placeholder='{"hidden_size": 4096, "num_hidden_layers": 32, …}',
        )
        self._use_config = pn.widgets.Button(label="Use this model", color="default")
        self._use_config.on_click(self._on_config)
        self._download = pn.widgets.FileDownload(
            callback=self._csv,
            filename="quantisation-dataset.csv",
            label="Download dataset (CSV)",
            color="light",
            sizing_mode="stretch_width",
        )

    def _report(self, kind: str, message: str) -> None:
        self.status_kind, self.status = kind, html.escape(message)

    def _on_add(self, _event: object = None) -> None:
        data: str | bytes = self._paste.value or ""
        if self._upload.value:
            data = self._upload.value
        try:
            rows = parse_measurements(data, model=self._model.value or None, quant=self._quant.value or None)
        except InputError as exc:
            self._report("danger", f"Not added: {exc}")
            return
        self.explorer.add_measurements(rows)
        quants = ", ".join(sorted(set(rows["quant"])))
        models = ", ".join(sorted(set(rows["model"])))
        self._report(
            "success",
            f"Added {rows.height} row(s) for {models} ({quants}): diamonds in the quality chart, "
            "'(yours)' rows in the spectrum.",
        )

    def _on_remove(self, _event: object = None) -> None:
        n = self.explorer.user_measurements.height
        self.explorer.remove_user_data()
        self._report("info", f"Removed {n} row(s) of your data." if n else "There was no data of yours to remove.")

    def _on_config(self, _event: object = None) -> None:
        try:
            spec = spec_from_hf_config(self._config.value or "")
        except InputError as exc:
            self._report("danger", f"Model not read: {exc}")
            return
        c = self.explorer.constraints
        with param.parameterized.batch_call_watchers(c):
            c.config_spec = spec
            c.model = CONFIG_MODEL
        self._report("success", f"Using {spec.name}: {spec.params / 1e9:.2f}B parameters counted from the config.")

    def _csv(self) -> io.StringIO:
        return io.StringIO(self.explorer.dataset_csv())

    @param.depends("status", "status_kind")
    def _status(self) -> pn.viewable.Viewable:
        if not self.status:
            return pn.pane.Markdown(CSV_HELP, styles={"font-size": "0.8em"}, sizing_mode="stretch_width")
        # status is already escaped: user text shows literally
        return pn.pane.Alert(
            self.status, alert_type=self.status_kind, sizing_mode="stretch_width", name="user-data-status"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(
            self._paste,
            self._upload,
            self._model,
            self._quant,
            pn.Row(self._add, self._remove),
            pn.panel(self._status),
            pn.layout.Divider(),
            self._config,
            self._use_config,
            pn.layout.Divider(),
            self._download,
            title="Your measurements and models",
            collapsed=True,
            sizing_mode="stretch_width",
        )
