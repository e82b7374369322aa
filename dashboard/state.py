"""Parameterized state of the dashboard: the user's constraints and the explorer of derived data.

``Constraints`` holds what the user chose (synced to the URL query). ``Explorer`` holds the polars
dataset, recomputes every derived frame once per constraint change, and owns the selected quant types
that every chart reads and writes. No Panel import: views build on these classes.
"""

from __future__ import annotations

import contextlib
import math
import re

import pandas as pd
import param
import polars as pl

from dashboard import frames, hardware, limits, spec_code
from dashboard import recommend as rec
from dashboard.architecture import ModelSpec
from dashboard.ingest import MEASUREMENT_SCHEMA
from dashboard.memory import KV_CACHE_TYPES
from dashboard.models import REFERENCE_MODEL, catalog
from dashboard.quality import model_quality_frame as quality_frame
from dashboard.quants import BACKENDS, quant_summary
from dashboard.recommend import PRIORITIES
from dashboard.recommend import Constraints as ConstraintValues

DEFAULT_MODEL = REFERENCE_MODEL
CUSTOM_MODEL = "Custom"
CONFIG_MODEL = "From config.json"  # the value of a model read from a config.json or a .gguf; shown by its name
# A link carries such a model as its architecture (dashboard.spec_code), in this URL parameter.
ARCH_URL_PARAMETER = "arch"
URL_PARAMETERS: tuple[str, ...] = (
    "model",
    "vram_gb",
    "context",
    "kv_cache",
    "backend",
    "priority",
    "device",
    "n_gpus",
    "bandwidth_gb_per_s",
    "min_tokens_per_s",
    "raise_metal_limit",
    "metal_wired_limit_mb",
)
# Parameters the page template itself reads (FastListTemplate: ?theme=dark); not constraints, never a notice.
TEMPLATE_URL_PARAMETERS: tuple[str, ...] = ("theme",)
VRAM_BOUNDS_GB = (1.0, 1024.0)
CONTEXT_BOUNDS_TOKENS = (256, 1_048_576)
GPU_COUNT_BOUNDS = (1, 16)
BANDWIDTH_BOUNDS_GB_PER_S = (1.0, 20_000.0)
MIN_SPEED_BOUNDS_TOKENS_PER_S = (0.0, 10_000.0)
WIRED_LIMIT_BOUNDS_MB = (1024, 1_048_576)
# URL numbers: bounds and type of each
NUMERIC_URL_PARAMETERS: dict[str, tuple[tuple[float, float], type]] = {
    "vram_gb": (VRAM_BOUNDS_GB, float),
    "context": (CONTEXT_BOUNDS_TOKENS, int),
    "n_gpus": (GPU_COUNT_BOUNDS, int),
    "bandwidth_gb_per_s": (BANDWIDTH_BOUNDS_GB_PER_S, float),
    "min_tokens_per_s": (MIN_SPEED_BOUNDS_TOKENS_PER_S, float),
    "metal_wired_limit_mb": (WIRED_LIMIT_BOUNDS_MB, int),
}
# A URL number is plain decimal digits (a fraction only where the value is not whole): no exponent, sign,
# underscore ("1_0_2_4" is 1024 to Python's int, not to a person), no "nan"/"inf", no other script's digits.
URL_INTEGER = re.compile(r"[0-9]{1,9}")
URL_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")
URL_VALUE_MAX_CHARS = 200
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def to_pandas(df: pl.DataFrame) -> pd.DataFrame:
    """polars -> pandas at the plotting boundary, column by column (no pyarrow needed in the browser)."""
    return pd.DataFrame({c: df[c].to_numpy() for c in df.columns})


class CustomModel(param.Parameterized):
    """A model outside the catalog, described by its architecture."""

    model_name = param.String(default="My model", doc="Name shown in titles and tables.")
    params_b = param.Number(default=7.0, bounds=(0.01, limits.MAX_PARAMS / 1e9), doc="Total parameters, in billions.")
    # upper bounds: dashboard.limits (about 10x the largest published model), the same for every way in
    n_layers = param.Integer(default=32, bounds=(1, limits.MAX_LAYERS), doc="Transformer blocks.")
    hidden_size = param.Integer(default=4096, bounds=(64, limits.MAX_HIDDEN_SIZE), doc="Model (embedding) width.")
    n_heads = param.Integer(default=32, bounds=(1, limits.MAX_HEADS), doc="Attention (query) heads.")
    n_kv_heads = param.Integer(
        default=8, bounds=(1, limits.MAX_HEADS), doc="KV heads (GQA); equal to n_heads without GQA."
    )
    head_dim = param.Integer(default=128, bounds=(8, limits.MAX_HEAD_DIM), doc="Dimension of one attention head.")
    vocab_size = param.Integer(default=32000, bounds=(256, limits.MAX_VOCAB_SIZE), doc="Vocabulary entries.")
    max_context = param.Integer(
        default=32768, bounds=(256, limits.MAX_CONTEXT_TOKENS), doc="Trained context length, tokens."
    )

    def spec(self) -> ModelSpec:
        """The architecture as a :class:`ModelSpec` (FFN size solved from the parameter count)."""
        return ModelSpec(
            name=self.model_name or "Custom model",
            params=self.params_b * 1e9,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            n_kv_heads=self.n_kv_heads,
            head_dim=self.head_dim,
            hidden_size=self.hidden_size,
            vocab_size=self.vocab_size,
            max_context=self.max_context,
        ).resolved()


class UserConstraints(param.Parameterized):
    """What the user has (model, memory, context) and wants (priority). Synced to the URL query."""

    model = param.Selector(default=DEFAULT_MODEL, objects=[DEFAULT_MODEL], doc="Catalog model, or Custom.")
    custom = param.ClassSelector(class_=CustomModel, doc="Architecture used when model is Custom.")
    config_spec = param.ClassSelector(
        class_=ModelSpec, allow_None=True, doc="Architecture read from a pasted config.json (model 'From config.json')."
    )
    vram_gb = param.Number(
        default=24.0,
        bounds=VRAM_BOUNDS_GB,
        step=1.0,
        doc="Memory, decimal GB: per GPU; Apple: the installed unified memory; CPU only: the system RAM.",
    )
    context = param.Integer(default=8192, bounds=CONTEXT_BOUNDS_TOKENS, step=256, doc="Context length, tokens.")
    kv_cache = param.Selector(default="f16", objects=list(KV_CACHE_TYPES), doc="KV-cache type (-ctk/-ctv).")
    backend = param.Selector(default="CUDA", objects=list(BACKENDS), doc="llama.cpp backend the model runs on.")
    priority = param.Selector(default="quality", objects=list(PRIORITIES), doc="What to optimise for.")
    device = param.Selector(
        default=hardware.CUSTOM_DEVICE,
        objects=[hardware.CUSTOM_DEVICE],
        doc="Your GPU, Apple chip or RAM kind (data/devices.csv): sets memory, bandwidth and backend; "
        "'custom' keeps free entry.",
    )
    n_gpus = param.Integer(
        default=1, bounds=GPU_COUNT_BOUNDS, doc="Identical GPUs (memory adds up; llama.cpp splits the layers)."
    )
    bandwidth_gb_per_s = param.Number(
        default=None,
        allow_None=True,
        bounds=BANDWIDTH_BOUNDS_GB_PER_S,
        doc="Custom device: memory bandwidth, GB/s (optional; gives the speed in tokens/s).",
    )
    min_tokens_per_s = param.Number(
        default=None,
        allow_None=True,
        bounds=MIN_SPEED_BOUNDS_TOKENS_PER_S,
        doc="Optional minimum generation speed, tokens/s: slower types are left out.",
    )
    raise_metal_limit = param.Boolean(
        default=False, doc="Apple: use the raised iogpu.wired_limit_mb instead of Metal's default working set."
    )
    metal_wired_limit_mb = param.Integer(
        default=None,
        allow_None=True,
        bounds=WIRED_LIMIT_BOUNDS_MB,
        doc="Apple: the raised iogpu.wired_limit_mb value, MiB (used when raise_metal_limit is on).",
    )

    def __init__(self, **params: object) -> None:
        params.setdefault("custom", CustomModel())
        super().__init__(**params)
        self.param.device.objects = [hardware.CUSTOM_DEVICE, *hardware.device_names()]
        self._update_model_choices()

    @param.depends("config_spec", watch=True)
    def _update_model_choices(self) -> None:
        # A read model is a choice only once one has been read: the Selector itself then refuses it from the
        # widget, a URL or code alike, so no way in can select a model that is not there. The choice is shown
        # by the model's own name (the value stays CONFIG_MODEL, so it never collides with a catalog name).
        self.param.model.objects = objects = self._model_choices(self.config_spec)
        if self.model not in objects.values():
            self.model = DEFAULT_MODEL

    def _model_choices(self, config_spec: ModelSpec | None) -> dict[str, str]:
        objects = {name: name for name in catalog()} | {CUSTOM_MODEL: CUSTOM_MODEL}
        if config_spec is not None:
            objects[f"{config_spec.name} (yours)"] = CONFIG_MODEL
        return objects

    def config_label(self) -> str:
        """How the Model selector names the model read from a config.json or a .gguf file."""
        if self.config_spec is None:
            return CONFIG_MODEL
        return f"{self.config_spec.name} (yours)"

    def use_config_spec(self, spec: ModelSpec) -> None:
        """Select the architecture read from a config.json (replacing an earlier one), as one change (one
        recompute, not one for the new spec and one for the model)."""
        self.param.model.objects = self._model_choices(spec)  # makes CONFIG_MODEL a valid choice first
        self.param.update(config_spec=spec, model=CONFIG_MODEL)

    def apply_query(self, query: dict[str, list[str] | str]) -> list[str]:
        """Apply a URL query (at load or when the URL changes): valid values are set, the rest named in notices.

        The one validation for text that enters from a URL (:func:`constraints_from_query`), then the
        parameters' own bounds and choices, which also guard the widgets.
        """
        valid, notices = constraints_from_query(query)
        try:
            self.apply(valid)
        except ValueError as exc:
            notices.append(f"Ignored the URL's values: {str(exc)[:200]}; using the current ones.")
        return notices

    def query(self) -> dict[str, str]:
        """The constraints as URL query values (what a shared link carries).

        A model read from a config.json or a .gguf file travels as its architecture (``arch``, see
        :mod:`dashboard.spec_code`).
        """
        out: dict[str, str] = {}
        for key in URL_PARAMETERS:
            value = getattr(self, key)
            if value is None or (key == "model" and value == CONFIG_MODEL):
                if value == CONFIG_MODEL and self.config_spec is not None:
                    out[ARCH_URL_PARAMETER] = spec_code.encode(self.config_spec)
                continue
            if isinstance(value, bool):
                out[key] = "true" if value else "false"
            elif isinstance(value, float):
                out[key] = f"{value:g}" if value == int(value) else f"{value:.6f}".rstrip("0")
            else:
                out[key] = str(value)
        return out

    @param.depends("device", watch=True)
    def _apply_device(self) -> None:
        """Picking a device sets its memory, backend and (for Apple) the raised limit to suggest."""
        if self.device == hardware.CUSTOM_DEVICE:
            return
        dev = hardware.get_device(self.device)
        updates: dict[str, object] = {"backend": dev.backend}
        if dev.memory_gb is not None:
            updates["vram_gb"] = dev.memory_gb
        if dev.is_apple or dev.is_cpu:
            updates["n_gpus"] = 1
        if dev.is_apple:
            updates["metal_wired_limit_mb"] = hardware.raised_wired_limit_mb(updates.get("vram_gb", self.vram_gb))
        else:
            updates["raise_metal_limit"] = False
        self.param.update(**updates)

    @param.depends("backend", watch=True)
    def _backend_changed(self) -> None:
        """Another backend than the device's: the device becomes custom, keeping its memory and bandwidth."""
        if self.device == hardware.CUSTOM_DEVICE:
            return
        dev = hardware.get_device(self.device)
        if dev.backend != self.backend:
            self.param.update(device=hardware.CUSTOM_DEVICE, bandwidth_gb_per_s=dev.memory_bandwidth_gb_per_s)

    def apply(self, values: dict[str, object]) -> None:
        """Set validated values (from :func:`constraints_from_query`): the device first, so that a memory size given
        with it is not replaced by the device's catalog memory."""
        if "device" in values:
            self.device = values["device"]
        values = dict(values)
        if "config_spec" in values:  # first, so that its model is a valid choice
            self.use_config_spec(values.pop("config_spec"))  # type: ignore[arg-type]
            if values.get("model") == CONFIG_MODEL:
                del values["model"]
        self.param.update(**{k: v for k, v in values.items() if k != "device"})

    def device_note(self) -> str:
        """What the device gives llama.cpp, in a sentence (Markdown; empty for custom)."""
        return self.values().device_note() if self.device != hardware.CUSTOM_DEVICE else ""

    def _wired_limit(self) -> float | None:
        if not self.raise_metal_limit or self.device == hardware.CUSTOM_DEVICE:
            return None
        if not hardware.get_device(self.device).is_apple:
            return None
        return self.metal_wired_limit_mb or hardware.raised_wired_limit_mb(self.vram_gb)

    def model_spec(self) -> ModelSpec:
        """The chosen model's architecture."""
        if self.model == CONFIG_MODEL:
            if self.config_spec is None:
                raise ValueError("Paste a config.json first (Custom model architecture card).")
            return self.config_spec
        return self.custom.spec() if self.model == CUSTOM_MODEL else catalog()[self.model]

    def values(self) -> ConstraintValues:
        """The constraints as the recommender's immutable value object."""
        return ConstraintValues(
            self.model_spec(),
            self.vram_gb,
            self.context,
            self.kv_cache,
            self.backend,
            self.priority,
            device=self.device,
            n_gpus=self.n_gpus,
            bandwidth_gb_per_s=self.bandwidth_gb_per_s,
            metal_wired_limit_mb=self._wired_limit(),
            min_tokens_per_s=self.min_tokens_per_s or None,
        )


def _plain(number: float) -> str:
    return f"{number:,.0f}" if number == int(number) else f"{number:,g}"


def constraints_from_query(query: dict[str, list[str] | str]) -> tuple[dict[str, object], list[str]]:
    """Valid constraint values from a URL query, and a notice for each value that was ignored.

    Unknown keys and invalid values fall back to the defaults; a repeated key uses its last value.
    """
    valid: dict[str, object] = {}
    notices: list[str] = []
    models = [*catalog(), CUSTOM_MODEL]
    choices: dict[str, list[str]] = {
        "model": models,
        "kv_cache": list(KV_CACHE_TYPES),
        "backend": list(BACKENDS),
        "priority": list(PRIORITIES),
        "device": [hardware.CUSTOM_DEVICE, *hardware.device_names()],
        "raise_metal_limit": ["true", "false"],
    }
    for key, raw in query.items():
        value = raw[-1] if isinstance(raw, list) else raw
        value = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        shown = value if len(value) <= 40 else value[:40] + "…"
        if key == ARCH_URL_PARAMETER:
            try:
                valid["config_spec"] = spec_code.decode(value)
            except ValueError as exc:
                notices.append(f"Ignored {key}={shown!r}: not a model this page can read ({str(exc)[:120]}).")
            continue
        if key in TEMPLATE_URL_PARAMETERS:
            continue
        if key not in URL_PARAMETERS:
            notices.append(f"Ignored unknown URL parameter {key!r}.")
            continue
        if key in choices:
            if key == "raise_metal_limit":
                value = value.lower()
            # typed by hand: backend=metal means Metal
            by_lower = {c.lower(): c for c in choices[key]}
            if value not in choices[key] and value.lower() in by_lower:
                value = by_lower[value.lower()]
            if value in choices[key]:
                valid[key] = value == "true" if key == "raise_metal_limit" else value
            elif key == "model" and value == CONFIG_MODEL:
                if not any(k == ARCH_URL_PARAMETER for k in query):
                    notices.append(
                        f"Ignored model={shown!r}: the link does not carry the model's architecture (arch=…); "
                        "paste its config.json again (Your measurements and models); using the default."
                    )
            else:
                notices.append(f"Ignored {key}={shown!r}: not one of the known values; using the default.")
            continue
        (lo, hi), kind = NUMERIC_URL_PARAMETERS[key]
        pattern = URL_INTEGER if kind is int else URL_DECIMAL
        number = float(value) if len(value) <= URL_VALUE_MAX_CHARS and pattern.fullmatch(value) else math.nan
        if not math.isfinite(number) or not lo <= number <= hi:
            what = "a whole number (digits only)" if kind is int else "a number"
            notices.append(
                f"Ignored {key}={shown!r}: expected {what} from {_plain(lo)} to {_plain(hi)}; using the default."
            )
            continue
        valid[key] = kind(number)
    return valid, notices


# what precompute_for copies from the session's constraints (the model is the new spec)
_COPIED_CONSTRAINTS = (
    "device",
    "vram_gb",
    "context",
    "kv_cache",
    "backend",
    "priority",
    "n_gpus",
    "bandwidth_gb_per_s",
    "min_tokens_per_s",
    "raise_metal_limit",
    "metal_wired_limit_mb",
)


def precompute_for(constraints: UserConstraints, spec: ModelSpec) -> None:
    """Compute what choosing ``spec`` will compute, on a private copy of ``constraints``; nothing is announced.

    The domain's caches are shared by the process (bounded LRU, keyed by the architecture), so the recompute
    that follows ``constraints.use_config_spec(spec)`` finds the expensive parts done. The server calls this
    in a worker thread (``views.common.off_event_loop``), away from the event loop every session shares; it
    only reads ``constraints``. A failure here is left to that recompute, which reports it in the page.
    """
    try:
        trial = UserConstraints()
        trial.apply({key: getattr(constraints, key) for key in _COPIED_CONSTRAINTS})
        trial.use_config_spec(spec)
        Explorer(constraints=trial)
    except Exception:
        return


# Derived frames that only some views draw (the charts of the tabs after the first): the page defers them while no
# view on screen shows them (Explorer.deferred), so a change does not compute them nor redraw hidden charts.
DEFERRABLE_FRAMES: tuple[str, ...] = ("model_sizes", "model_quality", "sweet_spots", "speeds", "frontier")


class Explorer(param.Parameterized):
    """The dataset, the derived frames for the current constraints, and the shared quant selection."""

    constraints = param.ClassSelector(class_=UserConstraints, doc="The user's constraints.")
    quants = param.ClassSelector(class_=pl.DataFrame, doc="One row per quant type (polars), from quant_summary().")
    model_sizes = param.ClassSelector(
        class_=pl.DataFrame,
        doc="File size (GiB) of every quant type for the chosen model; changes only with the model.",
    )
    recommendation = param.ClassSelector(class_=rec.Recommendation, doc="The recommender's answer.")
    decision_path = param.Parameter(
        default=(), doc="The recommender's path through the decision tree plus its leaf; changes only when it does."
    )
    sweet_spots = param.ClassSelector(class_=pl.DataFrame, doc="Catalog model x VRAM grid at the current context.")
    speeds = param.ClassSelector(
        class_=pl.DataFrame,
        doc="Every quant type's estimated generation speed on the device (recommend.speed_table); for the spectrum.",
    )
    memory_breakdown = param.ClassSelector(
        class_=pl.DataFrame, doc="Weights / KV / overhead (GiB) of the recommendation and its neighbours."
    )
    user_measurements = param.ClassSelector(
        class_=pl.DataFrame, doc="Measurements the user added (dashboard.ingest schema); never mixed into quants."
    )
    model_quality = param.ClassSelector(
        class_=pl.DataFrame,
        doc="Quality cost of every quant type for the chosen model (dashboard.quality.model_quality_frame); "
        "changes only with the model.",
    )
    cross_model = param.Parameter(
        default=(), doc="The cross-model answer in sentences with evidence (recommend.cross_model_summary)."
    )
    frontier_group = param.String(
        default="", doc="Comparison group drawn in the frontier view (the chosen model's group after a model change)."
    )
    frontier = param.ClassSelector(
        class_=pl.DataFrame,
        doc="Fitting (model, quant) pairs of frontier_group with expected quality (recommend.frontier_frame).",
    )
    deferred = param.ListSelector(
        default=[],
        objects=list(DEFERRABLE_FRAMES),
        doc="Derived frames no view on screen shows now (from DEFERRABLE_FRAMES): a change leaves them as they "
        "are, and each is brought up to date (and announced, if it changed) as soon as it leaves this list. The "
        "served page defers the frames of the tabs not shown; empty (the default), every frame follows every change.",
    )
    selected_quants = param.List(default=[], item_type=str, doc="Quant types selected in any chart.")
    error = param.String(default="", doc="Message shown when the constraints cannot be evaluated.")
    n_recomputes = param.Integer(default=0, doc="How many times the derived frames were recomputed (for tests).")
    announcing = param.Callable(
        default=contextlib.nullcontext,
        doc="Context-manager factory wrapped around announcing one recompute's new frames, so the views redraw "
        "as one batch (the served app passes one that has Bokeh walk its document once per change, not once per "
        "chart: views.common.one_document_walk).",
    )

    def __init__(self, **params: object) -> None:
        params.setdefault("constraints", UserConstraints())
        params.setdefault("quants", quant_summary())
        params.setdefault("user_measurements", pl.DataFrame(schema=MEASUREMENT_SCHEMA))
        self._sizes_for: ModelSpec | None = None
        self._group_for: ModelSpec | None = None
        self._stale: set[str] = set()  # deferred frames that a change has made out of date
        self._recomputing = False
        super().__init__(**params)

    @param.depends(
        "constraints.model",
        "constraints.vram_gb",
        "constraints.context",
        "constraints.kv_cache",
        "constraints.backend",
        "constraints.priority",
        "constraints.device",
        "constraints.n_gpus",
        "constraints.bandwidth_gb_per_s",
        "constraints.min_tokens_per_s",
        "constraints.raise_metal_limit",
        "constraints.metal_wired_limit_mb",
        "constraints.custom.param",
        "constraints.config_spec",
        watch=True,
        on_init=True,
    )
    def _recompute(self) -> None:
        self._recomputing = True
        try:
            with self.announcing():  # what the views redraw for this change, as one batch
                self._recompute_frames()
        finally:
            self._recomputing = False

    def _recompute_frames(self) -> None:
        try:
            values = self.constraints.values()
            recommendation = rec.recommend(values)
        except (ValueError, KeyError) as exc:  # InputError included: the message is written for the user
            self.error = str(exc)
            return
        except Exception as exc:  # a bug must still show in the page, not only in the server log
            self.error = f"Could not evaluate these constraints (unexpected {type(exc).__name__}: {str(exc)[:200]})"
            return
        spec = values.model if isinstance(values.model, ModelSpec) else None
        if spec != self._group_for:
            self._group_for = spec
            self.frontier_group = rec.comparison_group_of(values.model)  # marks the frontier out of date
        # the models are compared on the memory llama.cpp can use (values.budget_gb), as the recommender does
        cross_model = rec.cross_model_summary(
            values.budget_gb, values.context, values.kv_cache, values.backend, values.priority, values.model
        )
        with param.parameterized.batch_call_watchers(self):
            self.error = ""
            self.recommendation = recommendation
            # only announce what really changed, so charts that do not depend on it are not redrawn
            if spec != self._sizes_for:
                self._sizes_for = spec
                self._stale |= {"model_sizes", "model_quality"}  # they change only with the model
            self._stale |= {"sweet_spots", "speeds", "frontier"}
            self._update_frames(values, recommendation)
            if cross_model != self.cross_model:
                self.cross_model = cross_model
            path = (*recommendation.path, rec.leaf_label(recommendation))
            if path != self.decision_path:
                self.decision_path = path
            breakdown = frames.memory_breakdown(values, recommendation)
            if self.memory_breakdown is None or not breakdown.equals(self.memory_breakdown):
                self.memory_breakdown = breakdown
            self.n_recomputes += 1

    def _update_frames(self, values: ConstraintValues, recommendation: rec.Recommendation) -> None:
        """Compute the out-of-date deferrable frames that are not deferred, announcing those that changed."""
        for name in DEFERRABLE_FRAMES:
            if name not in self._stale or name in self.deferred:
                continue
            self._stale.discard(name)
            if name == "model_sizes":
                self.model_sizes = pl.DataFrame(
                    {
                        "quant": [o.quant for o in recommendation.options],
                        "weights_gib": [o.weights_gib for o in recommendation.options],
                    },
                    schema={"quant": pl.String, "weights_gib": pl.Float64},
                )
                continue
            if name == "model_quality":
                self.model_quality = quality_frame(values.model)
                continue
            if name == "sweet_spots":
                grid_args = {"context": values.context, "kv_cache": values.kv_cache, "backend": values.backend}
                grid_args["priority"] = values.priority
                frame = pl.concat([rec.sweet_spots(**grid_args), rec.best_model_row(values.model, **grid_args)])
            elif name == "speeds":
                frame = rec.speed_table(values)
            else:
                frame = self._frontier_frame(values, recommendation)
            current = getattr(self, name)
            if current is None or not frame.equals(current):
                setattr(self, name, frame)

    def _frontier_frame(self, values: ConstraintValues, recommendation: rec.Recommendation | None) -> pl.DataFrame:
        group = self.frontier_group or rec.comparison_group_of(values.model)
        best = recommendation.best if recommendation is not None else None
        return rec.frontier_frame(
            values.budget_gb,
            values.context,
            values.kv_cache,
            values.backend,
            values.priority,
            values.model,
            group,
            current_quant=best.quant if best else "",
        )

    @param.depends("frontier_group", watch=True)
    def _update_frontier(self) -> None:
        self._stale.add("frontier")
        if not self._recomputing:  # a recompute (a new model: a new group) brings it up to date itself
            self._bring_up_to_date()

    @param.depends("deferred", watch=True)
    def _bring_up_to_date(self) -> None:
        """Compute the frames that are out of date and no longer deferred (a tab with their charts was opened)."""
        if not self._stale - set(self.deferred) or self.recommendation is None:
            return
        try:
            values = self.constraints.values()
        except (ValueError, KeyError):  # the recompute has said so in ``error``
            return
        with self.announcing(), param.parameterized.batch_call_watchers(self):
            self._update_frames(values, self.recommendation)

    def add_measurements(self, rows: pl.DataFrame) -> None:
        """Append parsed user rows (already validated by dashboard.ingest); the built-in data is untouched."""
        if rows.schema != MEASUREMENT_SCHEMA:
            raise ValueError("user rows must come from dashboard.ingest.parse_measurements")
        self.user_measurements = pl.concat([self.user_measurements, rows]).unique(maintain_order=True)

    def remove_user_data(self) -> None:
        """Take every user row out again."""
        self.user_measurements = self.user_measurements.clear()

    def dataset_csv(self) -> str:
        """The built-in per-quant table plus the user's rows, as CSV text (for download)."""
        builtin = self.quants.select(
            pl.lit("built-in").alias("origin"),
            pl.lit("Llama-3-8B / Llama-3.1-8B").alias("model"),
            "quant",
            pl.col("file_size_gib_llama31_8b").alias("file_size_gib"),
            "perplexity",
            "delta_perplexity",
            "mean_kld",
            "generation_tokens_per_s",
            "prompt_tokens_per_s",
            pl.col("quality_basis").alias("source"),
        )
        user = self.user_measurements.select(
            pl.lit("yours").alias("origin"),
            "model",
            "quant",
            "file_size_gib",
            "perplexity",
            "delta_perplexity",
            "mean_kld",
            "generation_tokens_per_s",
            "prompt_tokens_per_s",
            "source",
        )
        # user text cannot run as a formula in a spreadsheet; the number columns stay numbers
        starts_formula = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"
        user = user.with_columns(
            pl.when(pl.col(c).str.contains(starts_formula)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
            for c in ("model", "quant", "source")
        )
        return pl.concat([builtin, user], how="vertical_relaxed").write_csv()

    def select(self, quants: list[str]) -> None:
        """Replace the selection (unknown names are dropped)."""
        known = set(self.quants["quant"])
        self.selected_quants = [q for q in dict.fromkeys(quants) if q in known]

    def clear_selection(self) -> None:
        """Select nothing (every chart shows every type at full strength)."""
        self.selected_quants = []
