"""Bring your own data: paste or upload measurements, paste a config.json or open a .gguf, download the dataset.

Everything runs in the session (or in the browser for the static site); nothing is sent anywhere. A
failed parse shows a message and leaves the charts exactly as they were.
"""

from __future__ import annotations

import html
import io
from dataclasses import replace

import panel as pn
import param

from dashboard.architecture import ModelSpec
from dashboard.gguf_file import GGUFInfo
from dashboard.hf_config import describe, spec_from_hf_config
from dashboard.ingest import CSV_COLUMNS, MAX_BYTES, InputError, parse_measurements
from dashboard.memory import bytes_to_gib, quant_types
from dashboard.state import Explorer, precompute_for
from dashboard.views.common import off_event_loop
from dashboard.views.gguf_input import GGUFFileInput

# The browser stops a paste at the text box's maximum length without a word, so the box takes one character more
# than the parser's limit: a longer paste then reaches the parser and is refused with a message, never cut.
PASTE_MAX_CHARS = MAX_BYTES + 1

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
    input_source = param.Selector(
        default="paste", objects=["paste", "upload"], doc="Where the next 'Add to charts' reads: the last one used."
    )
    busy = param.Boolean(default=False, doc="True while a paste or config.json is being read.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._paste = pn.widgets.TextAreaInput(
            label="Paste measurements",
            placeholder="model,quant,file_size_gib,perplexity,mean_kld\n…",
            max_length=PASTE_MAX_CHARS,
            height=120,
            sizing_mode="stretch_width",
        )
        self._upload = pn.widgets.FileInput(accept=".csv,.txt,.log", label="…or upload a file", multiple=False)
        # the text box and the file both stay filled in: 'Add to charts' reads whichever the user changed last
        self._paste.param.watch(lambda _e: setattr(self, "input_source", "paste"), "value")
        self._upload.param.watch(lambda _e: setattr(self, "input_source", "upload"), "value")
        self._model = pn.widgets.TextInput(label="Model name (if the text has none)", sizing_mode="stretch_width")
        # any label (UD-Q4_K_XL, Q4_0_4_4...): the list only suggests llama-quantize's types
        self._quant = pn.widgets.AutocompleteInput(
            label="Quant label (if the text has none)",
            options=quant_types(),
            restrict=False,
            case_sensitive=False,
            min_characters=1,
            placeholder="e.g. Q4_K_M or UD-Q4_K_XL",
            sizing_mode="stretch_width",
        )
        self._add = pn.widgets.Button(label="Add to charts", color="primary")
        self._remove = pn.widgets.Button(label="Remove my data", color="default")
        self._add.on_click(self._on_add)
        self._remove.on_click(self._on_remove)
        self._config = pn.widgets.TextAreaInput(
            label="Paste a config.json",
            height=100,
            max_length=PASTE_MAX_CHARS,
            sizing_mode="stretch_width",
            placeholder='{"model_type": "qwen3_moe", "hidden_size": 2048, …}',
        )
        self._use_config = pn.widgets.Button(label="Use this model", color="default")
        self._use_config.on_click(self._on_config)
        self._open_gguf = GGUFFileInput(on_header=self._opened, sizing_mode="stretch_width", margin=(5, 10))
        self._download = pn.widgets.FileDownload(
            callback=self._csv,
            filename="quantisation-dataset.csv",
            label="Download dataset (CSV)",
            color="light",
            sizing_mode="stretch_width",
        )

    def _report(self, kind: str, message: str) -> None:
        self.status_kind, self.status = kind, html.escape(message)

    @param.depends("busy", watch=True)
    def _show_busy(self) -> None:
        for button in (self._add, self._use_config):
            button.disabled = self.busy
            button.loading = self.busy

    def _on_add(self, _event: object = None) -> None:
        data: str | bytes = self._paste.value or ""
        if self.input_source == "upload" and self._upload.value:
            data = self._upload.value
        model, quant = self._model.value or None, self._quant.value or None
        self.busy = True
        off_event_loop(lambda: parse_measurements(data, model=model, quant=quant), self._added)

    def _added(self, rows: object) -> None:
        self.busy = False
        if isinstance(rows, Exception):
            self._report("danger", f"Not added: {self._reason(rows)}")
            return
        try:
            self.explorer.add_measurements(rows)
        except Exception as exc:
            self._report("danger", f"Not added: {self._reason(exc)}")
            return
        quants = ", ".join(sorted(set(rows["quant"])))
        models = ", ".join(sorted(set(rows["model"])))
        self._report(
            "success",
            f"Added {rows.height} row(s) for {models} ({quants}): diamonds in the quality chart, "
            "'(yours)' rows in the spectrum.",
        )

    @staticmethod
    def _reason(exc: Exception) -> str:
        # InputError messages are written for the user; anything else is a bug, still named in the page
        return str(exc) if isinstance(exc, InputError) else f"unexpected {type(exc).__name__}: {str(exc)[:200]}"

    def _on_remove(self, _event: object = None) -> None:
        n = self.explorer.user_measurements.height
        self.explorer.remove_user_data()
        self._report("info", f"Removed {n} row(s) of your data." if n else "There was no data of yours to remove.")

    def _on_config(self, _event: object = None) -> None:
        text = self._config.value or ""
        self.busy = True
        constraints = self.explorer.constraints

        def read() -> ModelSpec:
            spec = spec_from_hf_config(text)
            precompute_for(constraints, spec)  # the heavy part of the recompute, in the worker too
            return spec

        off_event_loop(read, self._configured)

    def _configured(self, spec: object) -> None:
        self.busy = False
        if isinstance(spec, Exception):
            self._report("danger", f"Model not read: {self._reason(spec)}")
            return
        try:
            self.explorer.constraints.use_config_spec(spec)
        except Exception as exc:
            self._report("danger", f"Model not used: {self._reason(exc)}")
            return
        if self.explorer.error:
            self._report("danger", f"Model read, but not evaluated: {self.explorer.error}")
            return
        self._report("success", f"Using {spec.name} (from its config.json): {describe(spec)}.")

    def _opened(self, file_name: str, size_bytes: int, result: GGUFInfo | Exception) -> None:
        """A .gguf header was read in the browser: the model, or a vision projector for the current model."""
        if isinstance(result, Exception):
            self._report("danger", f"{file_name} not read: {self._reason(result)}")
            return
        if result.is_split:
            parts = result.metadata.get("split.count")
            self._report(
                "danger",
                f"{file_name} is one part of a model split into {parts} files; its header lists only this part's "
                "tensors. Paste the model's config.json instead, or merge the parts (llama-gguf-split --merge).",
            )
            return
        constraints = self.explorer.constraints
        if result.architecture == "clip" or file_name.lower().startswith("mmproj"):
            base = constraints.model_spec()
            model_name = base.name.rsplit(" + ", 1)[0] if base.mmproj_bytes else base.name  # one projector
            spec = replace(base, mmproj_bytes=size_bytes, name=f"{model_name} + {file_name}"[:120])
            constraints.use_config_spec(spec)
            self._report(
                "success",
                f"Vision projector {file_name}: {size_bytes:,} bytes ({bytes_to_gib(size_bytes):.2f} GiB) added to "
                f"{model_name}'s weights for every quant type.",
            )
            return
        spec = result.spec
        if size_bytes != result.file_bytes:
            spec = replace(spec, gguf_file_bytes=size_bytes)  # the file on disk is the truth
        try:
            constraints.use_config_spec(spec)
        except Exception as exc:
            self._report("danger", f"Model not used: {self._reason(exc)}")
            return
        quant = result.file_type or "its own"
        self._report(
            "success",
            f"Using {spec.name} from {file_name}: {result.architecture}, {quant} file of "
            f"{spec.gguf_file_bytes:,} bytes ({bytes_to_gib(spec.gguf_file_bytes or 0):.2f} GiB, exact, read from its "
            f"header), {describe(spec)}.",
        )

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
            pn.pane.Markdown(
                "…or open the model's **.gguf** file (only its header is read, a few MB of even a 40 GB file; "
                "choose a `mmproj-*.gguf` as well to add the vision projector).",
                styles={"font-size": "0.8em"},
                sizing_mode="stretch_width",
            ),
            self._open_gguf,
            pn.layout.Divider(),
            self._download,
            title="Your measurements and models",
            collapsed=True,
            sizing_mode="stretch_width",
        )
