"""Which quant type to run: the recommender, its decision path, and the sweet-spots grid.

Pure domain logic (no Panel). One set of rules serves all three outputs, so the grid, the decision tree
and the recommendation can never disagree:

1. Every quant type the Llama-3-8B scoreboard measured is a candidate.
2. Its memory is :func:`dashboard.memory.estimate` at the chosen context and KV-cache type, and its
   fit against the memory budget is one of ``fits``, ``tight``, ``partial offload``, ``no``.
3. Its quality cost is :func:`dashboard.quality.estimate_quality` **for the chosen model** (perplexity
   increase over that model at F16: measured where a table measured it, else the validated fit), read in the
   dashboard's bands (:func:`dashboard.quality.cost_band_limits`, the KLD bands translated to perplexity).
   The types that fit (``fits`` or ``tight``; a tight fit is not ranked below a roomier one, so that more
   memory can never give a worse pick) are ranked by the priority:

   * ``quality``: lowest expected cost;
   * ``size``: smallest file among the types in the "good" band or better;
   * ``speed``: highest estimated generation speed on the device (:func:`dashboard.hardware.estimate_speed`:
     bytes per token over the calibrated bandwidth, with the per-type slowness measured on the backend, e.g.
     i-quants on Metal) among the types in the "acceptable" band or better.

   An optional minimum speed (tokens/s) drops the types estimated below it.

   If the priority's band has no type that fits, the quality rule picks among whatever fits.
4. If nothing fits, the answer is "nothing fits" with suggestions (smaller context, quantised KV cache,
   a smaller catalog model, partial offload).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Literal, get_args

import polars as pl

from dashboard import hardware
from dashboard import quality as quality_mod
from dashboard.architecture import ModelSpec
from dashboard.hardware import CUSTOM_DEVICE, SpeedEstimate, estimate_speed, headroom_gib
from dashboard.memory import estimate, gb_to_gib, gib_to_gb, resolve_model
from dashboard.models import REFERENCE_MODEL, catalog
from dashboard.quants import BACKENDS, QUALITY_BANDS, quant_summary

Priority = Literal["quality", "size", "speed"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
# How well a quant type fits the budget, best first.
Fit = Literal["fits", "tight", "partial offload", "no"]
FIT_ORDER: tuple[Fit, ...] = get_args(Fit)
IN_BUDGET: tuple[Fit, ...] = ("fits", "tight")  # the fits that run entirely in the budget
# The same gates as quality bands: "good" (KLD <= 0.05) and "acceptable" (KLD <= 0.15), read in perplexity
# through dashboard.quality.cost_band_limits so that every model is gated on its own estimate.
PRIORITY_COST_BAND: dict[Priority, str | None] = {"quality": None, "size": "good", "speed": "acceptable"}
# The summary names this many alternatives after the choice: enough to compare, few enough to read.
RUNNER_UPS = 3
# Headroom kept free for the driver/runtime context and other programs (dashboard.hardware.headroom_gib): a
# choice inside the headroom is "tight".
# Partial offload is offered when at least half of the weights and cache would sit in VRAM.
PARTIAL_OFFLOAD_MIN_FRACTION = 0.5
# Bandwidth used to rank types for a custom device whose bandwidth is not given (per backend).
REFERENCE_DEVICE = {"CUDA": hardware.DEFAULT_DEVICE, "Metal": "Apple M2 Max", "CPU": hardware.DEFAULT_HOST_MEMORY}
VRAM_SIZES_GB: tuple[int, ...] = (8, 12, 16, 24, 32, 48, 80, 128)
CONTEXT_SIZES_TOKENS: tuple[int, ...] = (2048, 4096, 8192, 16384, 32768, 131072)


@dataclass(frozen=True)
class Constraints:
    """What the user has and wants.

    ``vram_gb`` is the memory as the user enters it: per card for GPUs, the installed unified memory for Apple,
    the RAM for a CPU-only machine. :attr:`budget_gib` is what llama.cpp can use of it (``n_gpus`` cards; Metal's
    working set on Apple, or ``metal_wired_limit_mb`` when raised). ``device`` is a name from
    :func:`dashboard.hardware.device_names` or ``"custom"`` (then ``bandwidth_gb_per_s``, when given, gives speeds).
    """

    model: ModelSpec | str = REFERENCE_MODEL
    vram_gb: float = 24.0
    context: int = 8192
    kv_cache: str = "f16"
    backend: str = "CUDA"
    priority: Priority = "quality"
    device: str = CUSTOM_DEVICE
    n_gpus: int = 1
    bandwidth_gb_per_s: float | None = None
    metal_wired_limit_mb: float | None = None
    min_tokens_per_s: float | None = None

    def __post_init__(self) -> None:
        if not self.vram_gb > 0:
            raise ValueError(f"vram_gb must be positive, got {self.vram_gb}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {self.priority!r}")
        if self.device != CUSTOM_DEVICE and self.device not in hardware.devices():
            raise ValueError(f"unknown device {self.device!r}")
        if self.n_gpus < 1:
            raise ValueError(f"n_gpus must be at least 1, got {self.n_gpus}")

    @property
    def budget_gib(self) -> float:
        """The memory budget in GiB (memory is entered in decimal GB)."""
        return gb_to_gib(self.budget_gb)

    @property
    def budget_gb(self) -> float:
        """The memory llama.cpp can use, decimal GB (see :func:`dashboard.hardware.memory_budget`)."""
        if self.device == CUSTOM_DEVICE:
            return self.vram_gb * self.n_gpus
        return hardware.memory_budget(
            self.device, n_gpus=self.n_gpus, memory_gb=self.vram_gb, metal_wired_limit_mb=self.metal_wired_limit_mb
        ).budget_gb

    def device_note(self) -> str:
        """What the device gives llama.cpp, in a sentence (Markdown; empty for a custom device)."""
        return hardware.device_note(
            self.device, self.vram_gb, n_gpus=self.n_gpus, metal_wired_limit_mb=self.metal_wired_limit_mb
        )

    def speed(self, quant: str) -> tuple[SpeedEstimate, float]:
        """The speed estimate of ``quant`` on this device at this context, and the tokens/s used to rank types.

        A custom device with no bandwidth has no tokens/s (``None`` in the estimate); its types are ranked at the
        bandwidth of the backend's reference device (the ranking depends little on the bandwidth).
        """
        bandwidth = self.bandwidth_gb_per_s if self.device == CUSTOM_DEVICE else None
        unknown = self.device == CUSTOM_DEVICE and not bandwidth
        if unknown:
            bandwidth = hardware.get_device(REFERENCE_DEVICE[self.backend]).memory_bandwidth_gb_per_s
        est = estimate_speed(
            self.model,
            quant,
            device=self.device,
            context=self.context,
            kv_cache=self.kv_cache,
            n_gpus=self.n_gpus,
            memory_gb=self.vram_gb,
            bandwidth_gb_per_s=bandwidth,
            backend=self.backend,
            metal_wired_limit_mb=self.metal_wired_limit_mb,
        )
        ranking = est.generation_tokens_per_s or 0.0
        if unknown:
            est = replace(est, generation_tokens_per_s=None)
        return est, ranking


@dataclass(frozen=True)
class Option:
    """One quant type evaluated against the constraints."""

    quant: str
    family: str
    fit: Fit
    total_gib: float
    weights_gib: float
    kv_cache_gib: float
    overhead_gib: float
    free_gib: float
    ppl_increase_pct: float
    cost_low_pct: float
    cost_high_pct: float
    cost_interval: str
    mean_kld: float | None
    delta_perplexity: float | None
    quality_band: str
    quality_basis: str
    relative_speed: float
    speed_verdict: str | None
    speed_evidence: str | None
    gpu_fraction: float
    generation_tokens_per_s: float | None = None  # estimated on the device (None: bandwidth unknown)
    gpu_layers: int = 0
    n_layers: int = 0
    placement: str = ""
    speed_summary: str = ""  # e.g. "41 of 80 layers on the GPU, ~2.3 tokens/s"
    speed_basis: str = ""


@dataclass(frozen=True)
class Recommendation:
    """The recommender's answer: the choice (or None), runner-ups, reasons and the decision path."""

    constraints: Constraints
    best: Option | None
    runner_ups: tuple[Option, ...]
    reasons: tuple[str, ...]
    path: tuple[str, ...]
    suggestions: tuple[str, ...] = ()
    options: tuple[Option, ...] = field(default=(), repr=False)
    # partly in system RAM: when nothing fits, the type the same priority picks; else a better-quality alternative
    offload: Option | None = None
    warnings: tuple[str, ...] = ()  # e.g. a context beyond the model's trained maximum

    @property
    def fit(self) -> Fit:
        """Fit status of the recommended type, or "no" when nothing fits."""
        return self.best.fit if self.best else "no"

    def summary(self) -> str:
        """One sentence, e.g. "Llama-3.1-8B on 24 GB at 8K context: Q8_0, 9.1 GB of 24 GB, ~90 tokens/s"."""
        c = self.constraints
        name = resolve_model(c.model).name
        budget = _gb_label(c.budget_gb)
        head = f"{name} on {budget} GB at {_context_label(c.context)} context"
        if not self.best:
            if self.offload:
                o = self.offload
                return f"{head}: nothing fits on the GPU; with offload {o.quant}: {o.speed_summary}."
            return f"{head}: nothing fits."
        speed = self.best.generation_tokens_per_s
        tail = "" if speed is None else f", ~{speed:.3g} tokens/s"
        return f"{head}: {self.best.quant}, {_gb(self.best.total_gib)} of {budget} GB{tail}"


def _gb_label(gb: float) -> str:
    """A memory size for text: "24", "51.5"."""
    return f"{round(gb, 1):g}"


def _context_label(tokens: int) -> str:
    return f"{tokens // 1024}K" if tokens % 1024 == 0 else f"{tokens:,} tokens"


def _gb(gib: float) -> str:
    return f"{gib_to_gb(gib):.1f} GB"


def cost_limit_pct(priority: Priority) -> float | None:
    """A priority's gate as a perplexity increase in % (None for ``quality``, which has no gate)."""
    band = PRIORITY_COST_BAND[priority]
    return None if band is None else dict(quality_mod.cost_band_limits())[band]


def fit_status(total_gib: float, budget_gib: float) -> Fit:
    """``fits``, ``tight`` (inside the headroom), ``partial offload`` or ``no``."""
    headroom = headroom_gib(budget_gib)
    if total_gib <= budget_gib - headroom:
        return "fits"
    if total_gib <= budget_gib:
        return "tight"
    if budget_gib / total_gib >= PARTIAL_OFFLOAD_MIN_FRACTION:
        return "partial offload"
    return "no"


@cache
def _candidates() -> pl.DataFrame:
    return quant_summary().filter(pl.col("mean_kld").is_not_null())


def evaluate(constraints: Constraints, with_speed: bool = True) -> list[Option]:
    """Every candidate quant type with its memory, fit, quality and estimated speed on the device.

    ``with_speed=False`` skips the speed estimate (the sweet-spots grid needs it only to rank by speed).
    """
    backend_col = constraints.backend.lower()
    budget_gib = constraints.budget_gib
    options = []
    quality = quality_mod.model_quality_frame(constraints.model)
    cost = {r["quant"]: r for r in quality.iter_rows(named=True)}
    for row in _candidates().iter_rows(named=True):
        q = cost[row["quant"]]
        e = estimate(constraints.model, row["quant"], constraints.context, constraints.kv_cache)
        speed, ranking_speed = constraints.speed(row["quant"]) if with_speed else (None, 0.0)
        options.append(
            Option(
                quant=row["quant"],
                family=row["family"],
                fit=fit_status(e.total_gib, budget_gib),
                total_gib=e.total_gib,
                weights_gib=e.weights_gib,
                kv_cache_gib=e.kv_cache_gib,
                overhead_gib=e.overhead_gib,
                free_gib=budget_gib - e.total_gib,
                ppl_increase_pct=q["ppl_increase_pct"],
                cost_low_pct=q["low_pct"],
                cost_high_pct=q["high_pct"],
                cost_interval=q["interval"],
                mean_kld=q["mean_kld"],
                delta_perplexity=row["delta_perplexity"] if q["mean_kld"] is not None else None,
                quality_band=q["cost_band"],
                quality_basis=q["basis"],
                relative_speed=ranking_speed,
                speed_verdict=row[f"verdict_{backend_col}"],
                speed_evidence=row[f"evidence_{backend_col}"],
                gpu_fraction=min(1.0, budget_gib / e.total_gib),
                generation_tokens_per_s=speed.generation_tokens_per_s if speed else None,
                gpu_layers=speed.gpu_layers if speed else 0,
                n_layers=speed.n_layers if speed else 0,
                placement=speed.placement if speed else "",
                speed_summary=speed.summary() if speed else "",
                speed_basis=speed.basis if speed else "",
            )
        )
    return options


def meets_min_speed(option: Option, min_tokens_per_s: float | None) -> bool:
    """Whether the option's estimated speed reaches the minimum (always, when no minimum or no estimate)."""
    if not min_tokens_per_s or option.generation_tokens_per_s is None:
        return True
    return option.generation_tokens_per_s >= min_tokens_per_s


def _rank(options: list[Option], priority: Priority, min_tokens_per_s: float | None = None) -> tuple[list[Option], str]:
    """Fitting options (at least the minimum speed) ranked by the priority's rule, and the rule that was applied."""
    fitting = [o for o in options if o.fit in IN_BUDGET and meets_min_speed(o, min_tokens_per_s)]
    # fit status is not part of the key: ranking "fits" before "tight" made more memory pick a worse type
    # (a worse type leaving the headroom overtook a better one still inside it)
    by_quality = sorted(fitting, key=lambda o: (o.ppl_increase_pct, o.total_gib))
    limit = cost_limit_pct(priority)
    if limit is None:
        return by_quality, "lowest expected quality cost that fits"
    gate = _gate_label(priority)
    gated = [o for o in fitting if o.ppl_increase_pct <= limit]
    if not gated:
        return by_quality, f"no type {gate} fits: lowest expected cost that fits"
    if priority == "size":
        ranked = sorted(gated, key=lambda o: (o.total_gib, o.ppl_increase_pct))
        return ranked + [o for o in by_quality if o not in gated], f"smallest {gate}"
    ranked = sorted(gated, key=lambda o: (-o.relative_speed, o.ppl_increase_pct))
    return ranked + [o for o in by_quality if o not in gated], f"fastest {gate}"


def _gate_label(priority: str) -> str:
    """``with perplexity +<= 3.6% ("good")``: the gate of a priority in words."""
    band = PRIORITY_COST_BAND[priority]
    return f'with perplexity +<= {cost_limit_pct(priority):.1f}% ("{band}" or better)'


def context_warnings(spec: ModelSpec, context: int) -> tuple[str, ...]:
    """A warning when ``context`` exceeds the context the model was trained on (its ``max_context``)."""
    if context <= spec.max_context:
        return ()
    return (
        f"{_context_label(context)} context is beyond {spec.name}'s trained maximum of "
        f"{_context_label(spec.max_context)} ({spec.max_context:,} tokens): the memory is computed, but the model's "
        "answers degrade past what it was trained on unless it is extended (RoPE scaling).",
    )


def recommend(constraints: Constraints) -> Recommendation:
    """Recommend a quant type for ``constraints``; see the module docstring for the rules."""
    spec = resolve_model(constraints.model)
    warnings = context_warnings(spec, constraints.context)
    options = evaluate(constraints)
    minimum = constraints.min_tokens_per_s
    ranked, rule = _rank(options, constraints.priority, minimum)
    path = ["root", f"priority:{constraints.priority}"]
    if not ranked:
        path.append(f"{constraints.priority}/none")
        reasons = [
            f"No quant type of {spec.name} fits in {_gb_label(constraints.budget_gb)} GB at "
            f"{_context_label(constraints.context)} context with a {constraints.kv_cache} KV cache"
            + (f" at {minimum:g} tokens/s or more." if minimum else ".")
        ]
        offload = _offload_choice(options, constraints.priority, minimum)
        if offload:
            reasons.append(
                f"With offload: {offload.quant}, {offload.speed_summary} ({offload.placement}; {offload.speed_basis})."
            )
        return Recommendation(
            constraints=constraints,
            best=None,
            runner_ups=(),
            reasons=tuple(reasons),
            path=tuple(path),
            suggestions=tuple(suggestions(constraints, options)),
            options=tuple(options),
            offload=offload,
            warnings=warnings,
        )
    best = ranked[0]
    band = best.quality_band
    path.append(rule_node(constraints.priority, best.ppl_increase_pct))
    reasons = [
        # decimal GB throughout, as memory is sold and as the budget was given
        f"{best.fit.capitalize()}: needs {_gb(best.total_gib)} ({gib_to_gb(best.weights_gib):.1f} weights + "
        f"{gib_to_gb(best.kv_cache_gib):.2f} KV cache + {gib_to_gb(best.overhead_gib):.2f} buffers), "
        f"{gib_to_gb(best.free_gib):.1f} GB free of {_gb_label(constraints.budget_gb)} GB.",
        f"Rule for priority '{constraints.priority}': {rule}.",
        f"Quality cost for {spec.name}: perplexity +{best.ppl_increase_pct:.1f}% over F16 ({band}; "
        f"{best.cost_interval}: +{best.cost_low_pct:.1f}% to +{best.cost_high_pct:.1f}%; {best.quality_basis})"
        + (f"; mean KLD {best.mean_kld:.4f} nats, measured on Llama-3-8B" if best.mean_kld is not None else "")
        + ".",
    ]
    if best.generation_tokens_per_s is not None:
        where = constraints.device if constraints.device != CUSTOM_DEVICE else "your device"
        reasons.append(
            f"Estimated speed on {where}: ~{best.generation_tokens_per_s:.3g} tokens/s ({best.speed_basis})."
        )
    if minimum:
        slow_ones = [o.quant for o in options if o.fit in IN_BUDGET and not meets_min_speed(o, minimum)]
        if slow_ones:
            reasons.append(f"Below {minimum:g} tokens/s, left out: {', '.join(slow_ones)}.")
    if best.speed_verdict == "slow":
        reasons.append(f"Slow on {constraints.backend}: {best.speed_evidence}.")
    elif best.speed_verdict:
        reasons.append(f"Speed on {constraints.backend}: {best.speed_verdict} ({best.speed_evidence}).")
    runner_ups = ranked[1 : 1 + RUNNER_UPS]
    slower = [o for o in runner_ups if o.speed_verdict == "slow"]
    for o in slower:
        reasons.append(f"{o.quant} is slow on {constraints.backend}: {o.speed_evidence}.")
    offload = _offload_choice(options, "quality", minimum)
    if offload and offload.ppl_increase_pct < best.ppl_increase_pct and offload.quality_band != band:
        reasons.append(
            f"Better quality with offload: {offload.quant} ({offload.quality_band}), "
            f"{offload.speed_summary} ({offload.placement})."
        )
    else:
        offload = None
    bigger = [o for o in options if o.fit not in IN_BUDGET and o.ppl_increase_pct < best.ppl_increase_pct]
    if bigger:
        nxt = min(bigger, key=lambda o: o.total_gib)
        reasons.append(f"{nxt.quant} would need {_gb(nxt.total_gib)}.")
    return Recommendation(
        constraints=constraints,
        best=best,
        runner_ups=tuple(runner_ups),
        reasons=tuple(reasons),
        path=tuple(path),
        options=tuple(options),
        offload=offload,
        warnings=warnings,
    )


def speed_table(constraints: Constraints) -> pl.DataFrame:
    """Every quant type's estimated speed on the device: tokens/s (null without a bandwidth), the placement in
    words, and the basis (for the spectrum's speed column)."""
    rows = []
    for quant in quant_summary()["quant"]:
        est, _ = constraints.speed(quant)
        rows.append(
            {
                "quant": quant,
                "generation_tokens_per_s": est.generation_tokens_per_s,
                "speed_summary": est.summary(),
                "speed_basis": est.basis,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"generation_tokens_per_s": pl.Float64})


def _offload_choice(options: list[Option], priority: Priority, min_tokens_per_s: float | None) -> Option | None:
    """Among the types that fit only with offload, the one the priority's rule picks (None if there are none)."""
    partial = [o for o in options if o.fit == "partial offload" and meets_min_speed(o, min_tokens_per_s)]
    if not partial:
        return None
    as_fitting = [replace(o, fit="fits") for o in partial]
    ranked, _ = _rank(as_fitting, priority)
    return next(o for o in partial if o.quant == ranked[0].quant)


def suggestions(constraints: Constraints, options: list[Option]) -> list[str]:
    """What would make something fit: less context, a quantised KV cache, a smaller model, partial offload."""
    out = []
    smallest = min(options, key=lambda o: o.total_gib)
    minimum = constraints.min_tokens_per_s
    for context in sorted({c for c in CONTEXT_SIZES_TOKENS if c < constraints.context}, reverse=True):
        # the type the priority's own rule would pick at that context, not merely the smallest one
        ranked, _ = _rank(evaluate(replace(constraints, context=context)), constraints.priority, minimum)
        if ranked:
            out.append(
                f"Reduce the context to {_context_label(context)}: {ranked[0].quant} then fits "
                f"({_gb(ranked[0].total_gib)})."
            )
            break
    for kv in ("q8_0", "q4_0"):
        if kv == constraints.kv_cache or (constraints.kv_cache == "q4_0"):
            continue
        ranked, _ = _rank(evaluate(replace(constraints, kv_cache=kv)), constraints.priority, minimum)
        if ranked:
            out.append(
                f"Quantise the KV cache to {kv} (needs flash attention): {ranked[0].quant} then fits "
                f"({_gb(ranked[0].total_gib)})."
            )
            break
    o = _offload_choice(options, constraints.priority, constraints.min_tokens_per_s)
    if o:
        out.append(f"Partial offload: {o.quant} with {o.speed_summary} ({o.placement}; the rest in system RAM).")
    spec = resolve_model(constraints.model)
    smaller = [s for s in catalog().values() if s.params < spec.params and s.family == spec.family]
    for s in sorted(smaller, key=lambda s: -s.params):
        r = recommend(replace(constraints, model=s.name))
        if r.best:
            out.append(f"A smaller model: {s.name} fits as {r.best.quant} ({_gb(r.best.total_gib)}).")
            break
    if not out:
        out.append(f"More memory: even the smallest quant type needs {_gb(smallest.total_gib)} at this context.")
    return out


def sweet_spots(
    models: list[str] | None = None,
    vram_sizes_gb: tuple[float, ...] = VRAM_SIZES_GB,
    context: int = 8192,
    kv_cache: str = "f16",
    backend: str = "CUDA",
    priority: Priority = "quality",
) -> pl.DataFrame:
    """The model x VRAM grid: the recommended type and its fit in every cell (same rules as :func:`recommend`).

    Cached for the most recent argument sets: the grid does not depend on the chosen model or VRAM, so
    changing those costs nothing here.
    """
    return _sweet_spots(tuple(models or catalog()), tuple(vram_sizes_gb), context, kv_cache, backend, priority)


# Keyed by user input (context, KV type, backend, priority): bounded, one grid is ~130 small rows.
@lru_cache(maxsize=64)
def _sweet_spots(
    names: tuple[str, ...],
    vram_sizes_gb: tuple[float, ...],
    context: int,
    kv_cache: str,
    backend: str,
    priority: Priority,
) -> pl.DataFrame:
    rows = []
    for name in names:
        speeds: dict[str, float] = {}
        if priority == "speed":
            # a type that fits runs all on the GPU at the same speed whatever the budget: estimate once per model
            top = Constraints(name, max(vram_sizes_gb), context, kv_cache, backend, priority)
            speeds = {o.quant: o.relative_speed for o in evaluate(top)}
        for vram in vram_sizes_gb:
            c = Constraints(name, vram, context, kv_cache, backend, priority)
            options = evaluate(c, with_speed=False)
            if speeds:
                options = [replace(o, relative_speed=speeds[o.quant]) for o in options]
            ranked, _ = _rank(options, priority)
            best = ranked[0] if ranked else None
            partial = [o for o in options if o.fit == "partial offload"]
            pick = best or (min(partial, key=lambda o: o.ppl_increase_pct) if partial else None)
            fit = pick.fit if pick else "no"
            quant = pick.quant if pick else ""
            rows.append(
                {
                    "model": name,
                    "vram_gb": float(vram),
                    "quant": quant,
                    "fit": fit,
                    "label": cell_label(quant, fit),
                    "total_gib": pick.total_gib if pick else float("nan"),
                    "ppl_increase_pct": pick.ppl_increase_pct if pick else float("nan"),
                    "quality_band": pick.quality_band if pick else "",
                    "basis_kind": quality_mod.basis_kind(pick.quality_basis) if pick else "",
                }
            )
    return pl.DataFrame(rows)


def cell_label(quant: str, fit: str) -> str:
    """The text of a sweet-spots cell: the type, and on a second line whether it only runs with partial offload.

    Partial offload is the one case where more memory may give a lower-quality pick (one that fits entirely,
    and so runs much faster), so the cell says it rather than leaving it to the colour.
    """
    if not quant:
        return "—"
    return f"{quant}\npartial" if fit == "partial offload" else quant


def rule_node(priority: Priority, ppl_increase_pct: float) -> str:
    """The tree node under ``priority`` that a choice costing ``ppl_increase_pct`` is reached through."""
    limit = cost_limit_pct(priority)
    if limit is None:
        return f"quality/{quality_mod.cost_band(ppl_increase_pct)}"
    return f"{priority}/gated" if ppl_increase_pct <= limit else f"{priority}/fallback"


def decision_tree() -> list[tuple[str, str | None, str]]:
    """The decision tree as (node id, parent id, label); :func:`recommend` reports its path in these ids.

    Root -> priority -> the rule that picked the answer. The leaf (the recommended type) hangs under the
    rule node the recommender reached.
    """
    nodes: list[tuple[str, str | None, str]] = [("root", None, "What fits your memory?")]
    nodes += [(f"priority:{p}", "root", f"Priority: {p}") for p in PRIORITIES]
    for band, _ in QUALITY_BANDS:
        nodes.append((f"quality/{band}", "priority:quality", f"Lowest expected cost that fits is {band}"))
    for p in ("size", "speed"):
        what = "Smallest" if p == "size" else "Fastest"
        gate = f"+<= {cost_limit_pct(p):.1f}% perplexity"
        nodes.append((f"{p}/gated", f"priority:{p}", f"{what} with {gate}"))
        nodes.append((f"{p}/fallback", f"priority:{p}", f"None with {gate} fits: lowest cost"))
    nodes += [(f"{p}/none", f"priority:{p}", "Nothing fits: suggestions") for p in PRIORITIES]
    return nodes


# ------------------------------------------------------------------------------ comparing models at a budget

# Expected log-perplexities closer than this are a tie (1% in perplexity), broken toward the smaller quality
# cost: the Llama 3 exponent is calibrated on an MMLU tie (70B IQ1_M 65.21 vs 8B F16 65.20), so a 70B at that
# type is not "expected to beat" the 8B. The dashboard's rule, not a measurement.
SCORE_TIE_LOG = 0.01


def compare_models(vram_gb: float, context: int, kv_cache: str, backend: str, priority: str) -> pl.DataFrame:
    """Every (catalog model, quant type) that fits ``vram_gb`` at ``context`` tokens, with its quality estimate.

    One row per fitting pair: memory (GiB), fit (``fits`` or ``tight``), the quality estimate of
    :func:`dashboard.quality.estimate_quality` (``ppl_increase_pct``, ``low_pct``, ``high_pct``, ``interval``,
    ``basis``), the measured mean KLD and MMLU where a table has them, and ``rank`` within its
    ``comparison_group``. Sizes are compared only inside a group whose sizes the data compares
    (:func:`dashboard.quality.size_scalings`: Llama 3, Qwen2.5); every other model is its own group, and
    ``comparison_basis`` says so. Rank 1 is the group's best choice under ``priority``:

    * ``quality``: lowest ``size_score`` (expected log-perplexity on the group's F16 scale; a model alone in its
      group: lowest cost);
    * ``size``: smallest memory among the pairs within :func:`cost_limit_pct` ("good"), then by quality;
    * ``speed``: fastest expected generation (bandwidth-bound: bandwidth use on the backend / weights) among the pairs
      within the "acceptable" gate, then by quality.
    """
    Constraints(vram_gb=vram_gb, context=context, kv_cache=kv_cache, backend=backend, priority=priority)
    return _compare_models(float(vram_gb), int(context), kv_cache, backend, priority)


# Keyed by user input (context, KV type, backend): bounded; one frame is ~450 rows.
@lru_cache(maxsize=16)
def _all_pairs(context: int, kv_cache: str, backend: str) -> pl.DataFrame:
    """Every (catalog model, candidate quant) with its memory at ``context`` and its quality estimate."""
    backend_col = f"bandwidth_use_{backend.lower()}"
    bandwidth_use = dict(zip(_candidates()["quant"], _candidates()[backend_col], strict=True))
    candidates = set(_candidates()["quant"])
    rows = []
    for name, spec in catalog().items():
        scaling = quality_mod.size_scaling_for(name)
        quality = quality_mod.model_quality_frame(spec).filter(pl.col("quant").is_in(candidates))
        for q in quality.iter_rows(named=True):
            e = estimate(spec, q["quant"], context, kv_cache)
            rows.append(
                {
                    "model": name,
                    "family": spec.family,
                    "comparison_group": scaling.group if scaling else name,
                    "comparison_basis": scaling.basis
                    if scaling
                    else f"no table compares {spec.family} sizes: {name} is compared only with its own quant types",
                    "quant": q["quant"],
                    "params_b": spec.params / 1e9,
                    "bits_per_weight": e.bits_per_weight,
                    "weights_gib": e.weights_gib,
                    "total_gib": e.total_gib,
                    "ppl_increase_pct": q["ppl_increase_pct"],
                    "low_pct": q["low_pct"],
                    "high_pct": q["high_pct"],
                    "interval": q["interval"],
                    "basis": q["basis"],
                    "measured": q["basis_kind"] == "measured",
                    "mean_kld": q["mean_kld"],
                    "mmlu_accuracy_pct": q["mmlu_accuracy_pct"],
                    "mmlu_basis": q["mmlu_basis"],
                    "size_score": (
                        math.log1p(q["ppl_increase_pct"] / 100) - scaling.exponent * math.log(spec.params / 1e9)
                        if scaling
                        else None
                    ),
                    "relative_speed": (bandwidth_use.get(q["quant"]) or 1.0) / e.weights_gib,
                }
            )
    schema_overrides = {"mean_kld": pl.Float64, "mmlu_accuracy_pct": pl.Float64, "mmlu_basis": pl.String}
    schema_overrides |= {"size_score": pl.Float64}
    return pl.DataFrame(rows, schema_overrides=schema_overrides)


@lru_cache(maxsize=32)
def _compare_models(vram_gb: float, context: int, kv_cache: str, backend: str, priority: str) -> pl.DataFrame:
    budget_gib = gb_to_gib(vram_gb)
    headroom = headroom_gib(budget_gib)
    df = _all_pairs(context, kv_cache, backend).filter(pl.col("total_gib") <= budget_gib)
    fit = pl.when(pl.col("total_gib") <= budget_gib - headroom).then(pl.lit("fits")).otherwise(pl.lit("tight"))
    df = df.with_columns(fit.alias("fit")).select(*_empty_comparison().columns)
    if df.is_empty():
        df = _empty_comparison()
    quality_key = pl.coalesce(
        (pl.col("size_score") / SCORE_TIE_LOG).round() + pl.col("ppl_increase_pct").log1p() * 1e-6,
        pl.col("ppl_increase_pct").log1p(),
    )
    limit = cost_limit_pct(priority)
    gated = pl.lit(True) if limit is None else pl.col("ppl_increase_pct") <= limit
    primary = {"quality": quality_key, "size": pl.col("total_gib"), "speed": -pl.col("relative_speed")}[priority]
    df = df.with_columns(
        (~gated).alias("_outside_gate"),
        pl.when(gated).then(primary).otherwise(quality_key).alias("_primary"),
        quality_key.alias("_quality"),
    )
    df = df.sort("comparison_group", "_outside_gate", "_primary", "_quality", "total_gib")
    df = df.with_columns(pl.int_range(1, pl.len() + 1).over("comparison_group").alias("rank"))
    return df.drop("_outside_gate", "_primary", "_quality").sort("comparison_group", "rank")


def _empty_comparison() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "model": pl.String,
            "family": pl.String,
            "comparison_group": pl.String,
            "comparison_basis": pl.String,
            "quant": pl.String,
            "params_b": pl.Float64,
            "bits_per_weight": pl.Float64,
            "weights_gib": pl.Float64,
            "total_gib": pl.Float64,
            "fit": pl.String,
            "ppl_increase_pct": pl.Float64,
            "low_pct": pl.Float64,
            "high_pct": pl.Float64,
            "interval": pl.String,
            "basis": pl.String,
            "measured": pl.Boolean,
            "mean_kld": pl.Float64,
            "mmlu_accuracy_pct": pl.Float64,
            "mmlu_basis": pl.String,
            "size_score": pl.Float64,
            "relative_speed": pl.Float64,
        }
    )


def leaf_label(recommendation: Recommendation) -> str:
    """The decision tree's leaf: the chosen type with its quality cost for the model, e.g. "IQ2_XXS · +136%
    perplexity (measured)"; "nothing fits" when nothing does."""
    best = recommendation.best
    if best is None:
        return "nothing fits"
    kind = quality_mod.basis_kind(best.quality_basis)
    return f"{best.quant} · +{best.ppl_increase_pct:.3g}% perplexity ({kind})"


def comparison_group_of(model: ModelSpec | str) -> str:
    """The comparison group a model's sizes are compared in (its own name where no data compares its sizes)."""
    name = resolve_model(model).name
    scaling = quality_mod.size_scaling_for(name)
    return scaling.group if scaling else name


def frontier_frame(
    vram_gb: float,
    context: int,
    kv_cache: str,
    backend: str,
    priority: str,
    model: ModelSpec | str,
    group: str,
    current_quant: str | None = None,
) -> pl.DataFrame:
    """The frontier view's data: every fitting (model, quant) of ``group`` with expected quality and memory.

    ``expected_ppl_ratio`` is the expected perplexity relative to the group's reference at F16 (the chosen
    model when it is in the group, else the group's largest fitting model): lower is better, 1.0 = the
    reference at F16. Inside a size-compared group it is ``exp(size_score - reference's F16 score)``; a model
    alone in its group has ``1 + cost``. ``ratio_low``/``ratio_high`` carry the cost band. ``on_frontier`` marks
    the Pareto-optimal rows (no other row needs less memory and is expected better); ``is_current`` the
    recommendation for the chosen model (``current_quant``, or the recommender's answer at ``vram_gb``).
    """
    df = compare_models(vram_gb, context, kv_cache, backend, priority).filter(pl.col("comparison_group") == group)
    chosen = resolve_model(model)
    if df.is_empty():
        return df.with_columns(
            pl.lit(None, dtype=pl.Float64).alias(c)
            for c in ("expected_ppl_ratio", "ratio_low", "ratio_high", "total_gb")
        ).with_columns(
            pl.lit(False).alias("on_frontier"), pl.lit(False).alias("is_current"), pl.lit("").alias("reference")
        )
    scaling = quality_mod.size_scaling_for(df["model"][0])
    names = set(df["model"])
    reference = chosen.name if chosen.name in names else max(names, key=lambda n: catalog()[n].params)
    if scaling is not None:
        ref_score = -scaling.exponent * math.log(catalog()[reference].params / 1e9)
        size_term = pl.col("size_score") - (pl.col("ppl_increase_pct") / 100).log1p()
        base = (size_term - ref_score).exp()
    else:
        base = pl.lit(1.0)
    df = df.with_columns(
        (base * (1 + pl.col("ppl_increase_pct") / 100)).alias("expected_ppl_ratio"),
        (base * (1 + pl.col("low_pct") / 100)).alias("ratio_low"),
        (base * (1 + pl.col("high_pct") / 100)).alias("ratio_high"),
        (pl.col("total_gib") * 2**30 / 1e9).alias("total_gb"),
        pl.lit(reference).alias("reference"),
    ).sort("total_gib", "expected_ppl_ratio")
    best_so_far = df["expected_ppl_ratio"].cum_min().shift(1, fill_value=math.inf)
    df = df.with_columns((pl.col("expected_ppl_ratio") < best_so_far - 1e-12).alias("on_frontier"))
    if current_quant is None:
        answer = recommend(Constraints(chosen, vram_gb, context, kv_cache, backend, priority))
        current_quant = answer.best.quant if answer.best else ""
    current = current_quant
    return df.with_columns(((pl.col("model") == chosen.name) & (pl.col("quant") == current)).alias("is_current"))


def _evidence(a: dict, b: dict) -> str:
    """The measured evidence that compares two (model, quant) rows, or the estimate's basis."""
    if a["mmlu_accuracy_pct"] is not None and b["mmlu_accuracy_pct"] is not None:
        how_a, source = a["mmlu_basis"].removeprefix("measured on ").split(": ", 1)
        how_b = b["mmlu_basis"].removeprefix("measured on ").split(": ", 1)[0]
        return (
            f"measured: MMLU {a['mmlu_accuracy_pct']:.1f} vs {b['mmlu_accuracy_pct']:.1f}, {how_a} vs {how_b}, {source}"
        )
    qa = quality_mod.estimate_quality(a["model"], a["quant"])
    qb = quality_mod.estimate_quality(b["model"], b["quant"])
    if qa.perplexity_table and qa.perplexity_table == qb.perplexity_table:
        return f"measured: perplexity {qa.perplexity:.2f} vs {qb.perplexity:.2f}, {qa.perplexity_table}"
    ratio = math.exp(a["size_score"] - b["size_score"])
    return (
        f"estimated: expected perplexity {ratio:.2f}× the other's on the family's size scale, see how sizes are "
        "compared below"
    )


def cross_model_summary(
    vram_gb: float, context: int, kv_cache: str, backend: str, priority: str, model: ModelSpec | str
) -> tuple[str, ...]:
    """The cross-model answer in words, with its evidence, for the chosen model's comparison group.

    E.g. "Within Llama 3 at 24 GB, Llama-3.1-70B at IQ2_XXS is expected to beat Llama-3.1-8B at F16 (measured:
    MMLU 72.3 vs 65.2, ...). Below IQ1_M the 70B falls behind ...". Where no table compares the family's sizes,
    it says so.
    """
    chosen = resolve_model(model)
    group = comparison_group_of(chosen)
    scaling = quality_mod.size_scaling_for(chosen.name)
    at = f"at {vram_gb:g} GB and {_context_label(context)} context"
    if scaling is None:
        return (
            f"No table compares {chosen.family} models of different sizes, so {chosen.name} is compared only with "
            "its own quant types (cross-family comparisons are not made: perplexities differ by tokenizer).",
        )
    df = compare_models(vram_gb, context, kv_cache, backend, priority).filter(pl.col("comparison_group") == group)
    if df.is_empty():
        return (f"Nothing in {group} fits {at}.",)
    rows = list(df.iter_rows(named=True))
    best = rows[0]
    own = [r for r in rows if r["model"] == chosen.name]
    lines = []
    if not own:
        lines.append(
            f"{chosen.name} does not fit {at}; within {group} the best expected choice is {best['model']} at "
            f"{best['quant']} ({_gb(best['total_gib'])}, {best['basis'].split(':', 1)[0]})."
        )
    elif best["model"] == chosen.name:
        rivals = [r for r in rows if r["model"] != chosen.name]
        if rivals:
            rival = rivals[0]
            tie = abs(best["size_score"] - rival["size_score"]) <= SCORE_TIE_LOG
            verb = "ties with" if tie else "is expected to beat"
            note = "within 1% in expected perplexity, the smaller quality cost wins the tie; " if tie else ""
            lines.append(
                f"Within {group} {at}, {chosen.name} at {best['quant']} {verb} {rival['model']} at "
                f"{rival['quant']} ({note}{_evidence(best, rival)})."
            )
        else:
            lines.append(f"Within {group} {at}, only {chosen.name} fits.")
    else:
        mine = own[0]
        lines.append(
            f"Within {group} {at}, {best['model']} at {best['quant']} is expected to beat {chosen.name} at "
            f"{mine['quant']} ({_evidence(best, mine)})."
        )
    lines.extend(_crossing_sentences(group, rows, scaling))
    lines.extend(f"Measured on the previous generation: {fact}." for fact in scaling.measured_facts)
    lines.append(f"How sizes are compared: {scaling.basis}.")
    return tuple(lines)


def _crossing_sentences(group: str, rows: list[dict], scaling: quality_mod.SizeScaling) -> list[str]:
    """Where the biggest fitting model stops beating the next smaller one's best type (all types, fitting or not)."""
    models = sorted({r["model"] for r in rows}, key=lambda n: -catalog()[n].params)
    if len(models) < 2:
        return []
    big, small = models[0], models[1]
    small_best = min((r for r in rows if r["model"] == small), key=lambda r: r["size_score"])
    types = sorted(_candidates()["quant"], key=lambda q: quality_mod.type_bits_per_weight()[q])
    losing = []
    for quant in types:
        q = quality_mod.estimate_quality(big, quant)
        if quality_mod.size_score(q, scaling) > small_best["size_score"] + SCORE_TIE_LOG:
            losing.append(quant)
        else:
            break
    if not losing:
        return []
    holds = types[len(losing)] if len(losing) < len(types) else None
    text = f"Below {holds} the {big.split('-')[-1]} falls behind {small} at {small_best['quant']}" if holds else ""
    first = losing[-1]
    qa = quality_mod.estimate_quality(big, first)
    qb = quality_mod.estimate_quality(small, small_best["quant"])
    evidence = (
        f" (measured: {first} MMLU {qa.mmlu_accuracy_pct:.1f} vs {qb.mmlu_accuracy_pct:.1f})"
        if qa.mmlu_accuracy_pct is not None and qb.mmlu_accuracy_pct is not None
        else f" ({first}: {qa.basis.split(':', 1)[0]} +{qa.ppl_increase_pct:.0f}% perplexity)"
    )
    return [text + evidence + "."] if text else []


def best_model_row(
    model: ModelSpec | str,
    vram_sizes_gb: tuple[float, ...] = VRAM_SIZES_GB,
    context: int = 8192,
    kv_cache: str = "f16",
    backend: str = "CUDA",
    priority: str = "quality",
) -> pl.DataFrame:
    """The sweet-spots grid's "best model for this memory" row: per budget, rank 1 of the model's group.

    Same columns as :func:`sweet_spots` (``model`` is the row label, ``quant`` "<model> <quant>").
    """
    group = comparison_group_of(model)
    label = f"Best {group} model"
    rows = []
    for vram in vram_sizes_gb:
        df = compare_models(vram, context, kv_cache, backend, priority).filter(pl.col("comparison_group") == group)
        best = df.row(0, named=True) if df.height else None
        rows.append(
            {
                "model": label,
                "vram_gb": float(vram),
                "quant": f"{best['model']} {best['quant']}" if best else "",
                "fit": best["fit"] if best else "no",
                # the cell names the size and the type on two lines ("70B" over "IQ2_XXS"): on one line they ran
                # into the neighbouring cells at 1440 px
                "label": f"{best['model'].split('-')[-1]}\n{best['quant']}" if best else "—",
                "total_gib": best["total_gib"] if best else float("nan"),
                "ppl_increase_pct": best["ppl_increase_pct"] if best else float("nan"),
                "quality_band": quality_mod.cost_band(best["ppl_increase_pct"]) if best else "",
                "basis_kind": quality_mod.basis_kind(best["basis"]) if best else "",
            }
        )
    return pl.DataFrame(rows)


def comparison_groups() -> list[str]:
    """Every comparison group of the catalog, in catalog order (size-compared groups once)."""
    return list(dict.fromkeys(comparison_group_of(name) for name in catalog()))
