"""Quality cost of a quant type for a model of any size: measured where a table measured it, else a validated fit.

Pure domain logic (numpy and polars, no Panel). The metric is the **perplexity increase over the same model at
F16, in percent** (wikitext perplexity with llama.cpp's ``llama-perplexity``). It is a relative cost, so it can be
pooled across tables; absolute perplexities compare only within one table and one tokenizer family, and this
module never compares them across tables. Mean KL divergence (the better metric) stays where it was measured
(the Llama-3-8B scoreboard) and is reported beside the estimate, never fitted.

Where the cost comes from
-------------------------
* **measured**: a table measured that model (or, for the catalog's Llama 3.1 models, the Llama 3 model of the same
  architecture and tokenizer, said so in ``basis``) at that type. The band is the measurement's uncertainty: the
  published ± of both perplexities, or the rounding of the published values (Qwen's cards give 2 decimals).
* **estimated**: a fit across every measured family (:func:`fit_points`)::

      ln(cost_pct + COST_FLOOR_PCT) = a - b·ln(params / 1e9) - c·bpw + Σ_k d_k·max(0, k - bpw)

  with ``bpw`` the quant type's whole-file bits per weight on Llama-3.1-8B (a property of the type's tensor mix,
  from the memory model) and b, c, d_k >= 0, so the cost never falls when bits fall and never rises with size.
  Each family measured gets its own intercept (Llama 3 costs about 2.5x what the other three families cost at
  the same bits); a family no table measured gets their mean. The band claims 80% and is built from held-out
  residuals (:data:`BAND_QUANTILES`, :data:`NEW_FAMILY_BAND_QUANTILES`); :func:`validate` checks that it
  covers held-out points at that rate, leaving out one model size or one family at a time (nested: each
  held-out group's band comes from the other groups only).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import polars as pl

from dashboard import data
from dashboard.architecture import ModelSpec
from dashboard.ingest import InputError
from dashboard.models import catalog
from dashboard.quants import PREFERRED_IMATRIX, QUALITY_BANDS, file_bits_per_weight, quant_summary

# Added to the cost before taking logs so that types with no measurable cost (Q8_0: +0.00 on Qwen's 2-decimal
# table) stay finite: 0.05 % is below the rounding resolution of Qwen's cards (0.005 / 5.58 = 0.09 % at 72B).
COST_FLOOR_PCT = 0.05
# Hinge points (bits per weight) where the cost may steepen: the data's "rises steeply below ~3 bits".
HINGES_BPW: tuple[float, ...] = (3.0, 4.5)
# Quant-type families with their own offset against the k-quants (legacy types cost more per bit: Q4_1 at
# 5.0 bits costs more than Q4_K_M at 4.9 on every table that has both).
TYPE_FAMILY_TERMS: tuple[str, ...] = ("legacy",)
# The band claims 80%. For a measured family (another size of it was measured) it spans the 5th..95th percentile
# of the leave-one-size-out residuals; for a family no table measured, the full range of the leave-one-family-out
# residuals (four families are too few for percentiles: 5..95% covered only 70% of held-out points). validate()
# checks both claims out of sample.
CLAIMED_COVERAGE = 0.80
BAND_QUANTILES = (0.05, 0.95)
NEW_FAMILY_BAND_QUANTILES = (0.0, 1.0)
INTERVAL_LABEL = "80% interval (validated on held-out model sizes)"
NEW_FAMILY_INTERVAL_LABEL = "80% interval (validated on held-out families)"
MEASURED_INTERVAL_LABEL = "measurement uncertainty (the published ±, or the rounding of the table)"
METRIC_LABEL = "perplexity increase over the same model at F16, % (wikitext, llama-perplexity)"
FLOAT_TYPES = ("F32", "F16", "BF16")
LLAMA3_8B_SCOREBOARD = "Llama-3-8B scoreboard (llama.cpp tools/perplexity/README.md, PR #6936)"

# Catalog models whose own weights no table measured, but whose architecture and tokenizer are those of a
# measured model (models.csv: same dimensions and vocabulary). Their measured values are used, and basis says so.
MEASURED_TWINS: dict[str, str] = {
    "Llama-3.1-8B": "Llama-3-8B",
    "Llama-3.1-70B": "Llama-3-70B",
}


@dataclass(frozen=True)
class QualityEstimate:
    """The expected quality cost of one (model, quant type).

    ``ppl_increase_pct`` is the expected perplexity increase over the same model at F16, in percent;
    ``low_pct``..``high_pct`` the band described by ``interval``; ``basis`` starts with "measured:" or
    "estimated:". ``mean_kld`` (nats), ``mmlu_accuracy_pct`` and ``perplexity`` are measured values where a
    table has them; a perplexity compares only with another of the same ``perplexity_table``.
    """

    model: str
    quant: str
    params: float
    bits_per_weight: float
    ppl_increase_pct: float
    low_pct: float
    high_pct: float
    interval: str
    basis: str
    metric: str = METRIC_LABEL
    mean_kld: float | None = None
    mmlu_accuracy_pct: float | None = None
    mmlu_basis: str | None = None
    perplexity: float | None = None
    perplexity_table: str | None = None

    @property
    def measured(self) -> bool:
        """Whether the cost was measured on this model (or its architecture twin) at this type."""
        return self.basis.startswith("measured")


# ---------------------------------------------------------------------------------------------- data points


@cache
def type_bits_per_weight() -> dict[str, float]:
    """Whole-file bits per weight of every quant type on Llama-3.1-8B (the fit's ``bpw``, one number per type)."""
    return dict(file_bits_per_weight())


@cache
def type_families() -> dict[str, str]:
    """Quant type -> family (k-quant, i-quant, legacy, float...) from ``quant_types.csv``."""
    qt = data.load_table("quant_types")
    return dict(zip(qt["quant"], qt["family"], strict=True))


def _points_from(
    df: pl.DataFrame, table: str, family: str, params_b: float, model: str, source: str | None = None
) -> list[dict]:
    base = df.filter(pl.col("quant") == "F16")
    if base.is_empty():
        return []
    ppl_f16 = float(base["perplexity"][0])
    err_f16 = float(base["perplexity_err"][0]) if "perplexity_err" in df.columns and base["perplexity_err"][0] else 0.0
    rows = []
    bpw = type_bits_per_weight()
    for r in df.iter_rows(named=True):
        if r["quant"] in FLOAT_TYPES or r["quant"] not in bpw or r["perplexity"] is None:
            continue
        err = r.get("perplexity_err") or 0.0
        delta_err = r.get("delta_perplexity_err")
        rows.append(
            {
                "table": table,
                "family": family,
                "model": model,
                "params": params_b * 1e9,
                "quant": r["quant"],
                "quant_family": type_families().get(r["quant"], "other"),
                "bits_per_weight": bpw[r["quant"]],
                "perplexity": r["perplexity"],
                "perplexity_err": err,
                "perplexity_f16": ppl_f16,
                "perplexity_f16_err": err_f16,
                "ppl_increase_pct": 100.0 * (r["perplexity"] / ppl_f16 - 1.0),
                # the scoreboard publishes the ± of the difference itself (paired runs): tighter than both ±
                "ppl_increase_err_pct": 100.0 * delta_err / ppl_f16 if delta_err is not None else None,
                "source": source or r["source"],
            }
        )
    return rows


@cache
def fit_points() -> pl.DataFrame:
    """Every measured (model, quant) cost against its own table's F16 row: the fit's data.

    Tables: the Llama-3-8B scoreboard (imatrix row where measured, as the rest of the dashboard), Llama-3-70B
    (dranger003, PR #6745), Qwen2-Instruct 0.5B-72B (Qwen's GGUF cards), LLaMA v1 7B/13B (PR #1684 and the
    legacy table of the same date) and Llama-2-70B (old scoreboard). Each cost is relative to the same table's
    F16 perplexity, so no perplexity is compared across tables.
    """
    rows: list[dict] = []
    scoreboard = data.load_table("llama3_8b_quality")
    preferred = (
        scoreboard.with_columns(
            (pl.col("imatrix") == PREFERRED_IMATRIX).alias("_p"), (pl.col("imatrix") != "none").alias("_i")
        )
        .sort("_i", "_p", "perplexity", descending=[True, True, False])
        .group_by("quant", maintain_order=True)
        .first()
    )
    rows += _points_from(preferred, LLAMA3_8B_SCOREBOARD, "Llama 3", 8.0, "Llama-3-8B")
    sizes = data.load_table("quality_sizes_ppl")
    for (table, family, model), df in sizes.group_by("table", "tokenizer_family", "model", maintain_order=True):
        rows += _points_from(df, str(table), str(family), float(df["params_b"][0]), str(model))
    by_model = data.load_table("quality_by_model").filter(
        pl.col("perplexity").is_not_null() & ~pl.col("table").str.starts_with("Llama 3 8B")
    )
    params_b = {"LLaMA-v1-7B": 7.0, "LLaMA-v1-13B": 13.0, "Llama-2-70B": 70.0}
    lineage = {"LLaMA-v1-7B": "LLaMA v1", "LLaMA-v1-13B": "LLaMA v1", "Llama-2-70B": "Llama 2"}
    for (table, model), df in by_model.group_by("table", "model", maintain_order=True):
        rows += _points_from(
            df.with_columns(pl.lit(None, dtype=pl.Float64).alias("perplexity_err")),
            str(table),
            lineage[str(model)],
            params_b[str(model)],
            str(model),
        )
    return pl.DataFrame(rows, infer_schema_length=None)


# ---------------------------------------------------------------------------------------------------- the fit


@dataclass(frozen=True)
class CostFit:
    """``ln(cost_pct + COST_FLOOR_PCT) = offset[family] - size_slope·ln(params/1e9) - bpw_slope·bpw + Σ hinges``.

    ``family_offsets`` hold one intercept per measured family; a family the data does not cover gets
    ``mean_offset`` (the mean of the measured families' intercepts).
    """

    family_offsets: dict[str, float]
    type_family_offsets: dict[str, float]
    size_slope: float
    bpw_slope: float
    hinge_slopes: tuple[float, ...]

    @property
    def mean_offset(self) -> float:
        """Intercept for a family no table measured."""
        return float(np.mean(list(self.family_offsets.values())))

    def log_cost(self, params: float, bits_per_weight: float, family: str | None = None, quant: str = "") -> float:
        """The fitted ``ln(cost_pct + COST_FLOOR_PCT)``."""
        offset = self.family_offsets.get(family, self.mean_offset) if family else self.mean_offset
        offset += self.type_family_offsets.get(type_families().get(quant, ""), 0.0)
        hinge = sum(d * max(0.0, k - bits_per_weight) for d, k in zip(self.hinge_slopes, HINGES_BPW, strict=True))
        return offset - self.size_slope * math.log(params / 1e9) - self.bpw_slope * bits_per_weight + hinge


def _design(points: pl.DataFrame, families: list[str]) -> np.ndarray:
    bpw = points["bits_per_weight"].to_numpy()
    fam = points["family"].to_numpy()
    columns = [(fam == f).astype(float) for f in families]
    columns += [(points["quant_family"].to_numpy() == t).astype(float) for t in TYPE_FAMILY_TERMS]
    columns += [-np.log(points["params"].to_numpy() / 1e9), -bpw]
    columns += [np.maximum(0.0, k - bpw) for k in HINGES_BPW]
    return np.column_stack(columns)


def log_cost_target(points: pl.DataFrame) -> np.ndarray:
    """``ln(max(cost_pct, 0) + COST_FLOOR_PCT)``: what the fit models (a measured cost below 0 is noise)."""
    return np.log(np.maximum(points["ppl_increase_pct"].to_numpy(), 0.0) + COST_FLOOR_PCT)


def fit_cost(points: pl.DataFrame) -> CostFit:
    """Least squares with the slopes constrained to be >= 0 (a negative slope is dropped and the rest refitted).

    The constraint makes the cost non-increasing in parameter count and in bits per weight by construction.
    """
    families = sorted(set(points["family"]))
    x = _design(points, families)
    z = log_cost_target(points)
    n_fam = len(families) + len(TYPE_FAMILY_TERMS)
    active = list(range(x.shape[1]))
    while True:
        coef = np.zeros(x.shape[1])
        solved, *_ = np.linalg.lstsq(x[:, active], z, rcond=None)
        coef[active] = solved
        negative = [i for i in active if i >= n_fam and coef[i] < 0]
        if not negative:
            break
        active.remove(min(negative, key=lambda i: coef[i]))
    return CostFit(
        family_offsets={f: float(coef[i]) for i, f in enumerate(families)},
        type_family_offsets={t: float(coef[len(families) + i]) for i, t in enumerate(TYPE_FAMILY_TERMS)},
        size_slope=float(coef[n_fam]),
        bpw_slope=float(coef[n_fam + 1]),
        hinge_slopes=tuple(float(c) for c in coef[n_fam + 2 :]),
    )


def _predict(fit: CostFit, points: pl.DataFrame, use_family: bool) -> np.ndarray:
    return np.array(
        [
            fit.log_cost(p, b, f if use_family else None, q)
            for p, b, f, q in zip(
                points["params"], points["bits_per_weight"], points["family"], points["quant"], strict=True
            )
        ]
    )


def held_out_residuals(points: pl.DataFrame, by: str) -> np.ndarray:
    """Residuals (log scale) of each point predicted by a fit that never saw its group.

    ``by="family"``: leave one family out (the held-out family gets the mean intercept); ``by="model"``: leave
    one model size out (its family's intercept is kept when the family has other sizes).
    """
    z = log_cost_target(points)
    residuals = np.empty_like(z)
    groups = points[by].to_numpy()
    for g in np.unique(groups):
        held = groups == g
        train = points.filter(pl.Series(~held))
        fit = fit_cost(train)
        test = points.filter(pl.Series(held))
        known = by == "model" and test["family"][0] in fit.family_offsets
        residuals[held] = z[held] - _predict(fit, test, use_family=known)
    return residuals


def _quantiles(residuals: np.ndarray, levels: tuple[float, float]) -> tuple[float, float]:
    lo, hi = np.quantile(residuals, levels)
    return min(float(lo), 0.0), max(float(hi), 0.0)


@dataclass(frozen=True)
class CostModel:
    """The fit on every measured point plus its two bands (log-scale residual quantiles)."""

    fit: CostFit
    band_known_family: tuple[float, float]
    band_new_family: tuple[float, float]
    n_points: int

    def estimate_pct(
        self, params: float, bits_per_weight: float, family: str | None, quant: str = ""
    ) -> tuple[float, float, float]:
        """(cost, low, high) in percent; ``family`` None or unmeasured -> the wider new-family band."""
        known = family in self.fit.family_offsets
        z = self.fit.log_cost(params, bits_per_weight, family if known else None, quant)
        lo, hi = self.band_known_family if known else self.band_new_family
        point = max(math.exp(z) - COST_FLOOR_PCT, 0.0)
        return point, max(math.exp(z + lo) - COST_FLOOR_PCT, 0.0), max(math.exp(z + hi) - COST_FLOOR_PCT, 0.0)


def build_cost_model(points: pl.DataFrame) -> CostModel:
    """Fit ``points`` and take each band from the held-out residuals of the same points."""
    return CostModel(
        fit=fit_cost(points),
        band_known_family=_quantiles(held_out_residuals(points, "model"), BAND_QUANTILES),
        band_new_family=_quantiles(held_out_residuals(points, "family"), NEW_FAMILY_BAND_QUANTILES),
        n_points=points.height,
    )


@cache
def cost_model() -> CostModel:
    """The cost model fitted on every measured point (cached: the data is read-only)."""
    return build_cost_model(fit_points())


@dataclass(frozen=True)
class Validation:
    """Nested held-out check of the fit and its band, for one way of holding out."""

    held_out: str
    n_points: int
    coverage: float
    claimed_coverage: float
    median_abs_error_factor: float
    rmse_log: float
    per_group: dict[str, float]

    def line(self) -> str:
        """One sentence for test output and the docs."""
        return (
            f"leave-one-{self.held_out}-out: {self.coverage:.0%} of {self.n_points} held-out points inside the "
            f"band (claimed {self.claimed_coverage:.0%}); median error ×{self.median_abs_error_factor:.2f} on "
            f"cost+{COST_FLOOR_PCT}%; RMSE {self.rmse_log:.2f} in ln"
        )


def validate(by: str) -> Validation:
    """Hold out each ``by`` group ("family" or "model"), fit and band on the rest only, and score the held-out points.

    Nested: the band for the held-out group comes from held-out residuals computed inside the training data, so
    the coverage is an honest out-of-sample rate.
    """
    points = fit_points()
    z = log_cost_target(points)
    groups = points[by].to_numpy()
    inside = np.zeros(len(z), dtype=bool)
    errors = np.empty_like(z)
    per_group: dict[str, float] = {}
    for g in np.unique(groups):
        held = groups == g
        train = points.filter(pl.Series(~held))
        model = build_cost_model(train)
        test = points.filter(pl.Series(held))
        known = by == "model" and test["family"][0] in model.fit.family_offsets
        pred = _predict(model.fit, test, use_family=known)
        lo, hi = model.band_known_family if known else model.band_new_family
        errors[held] = z[held] - pred
        inside[held] = (z[held] >= pred + lo - 1e-12) & (z[held] <= pred + hi + 1e-12)
        per_group[str(g)] = float(inside[held].mean())
    return Validation(
        held_out=by,
        n_points=len(z),
        coverage=float(inside.mean()),
        claimed_coverage=CLAIMED_COVERAGE,
        median_abs_error_factor=float(math.exp(np.median(np.abs(errors)))),
        rmse_log=float(np.sqrt(np.mean(errors**2))),
        per_group=per_group,
    )


# ------------------------------------------------------------------------------------------- the public API

# Decimals the tables without a ± publish; half a unit of the last decimal is their rounding uncertainty.
PUBLISHED_DECIMALS: dict[str, int] = {"Qwen2-Instruct GGUF cards (wikitext, llama-perplexity)": 2}
DEFAULT_PUBLISHED_DECIMALS = 4
MMLU_TABLE_MODELS: dict[str, str] = {"Llama-3-8B": "Llama-3-8B-Instruct", "Llama-3-70B": "Llama-3-70B-Instruct"}


def _key(name: str) -> str:
    """Model names compared loosely: case, a "Meta-" prefix and an "-Instruct" suffix do not matter."""
    return name.lower().removeprefix("meta-").removesuffix("-instruct")


@cache
def measured_models() -> dict[str, tuple[str, float, str]]:
    """Measured model (loose key) -> (name as in the table, parameters, fit family)."""
    pts = fit_points()
    out = {}
    for (model, params, family), _ in pts.group_by("model", "params", "family", maintain_order=True):
        out[_key(str(model))] = (str(model), float(params), str(family))
    return out


def _measured_band(row: dict) -> tuple[float, float]:
    ppl, f16 = row["perplexity"], row["perplexity_f16"]
    if row["ppl_increase_err_pct"] is not None:
        point, err = row["ppl_increase_pct"], row["ppl_increase_err_pct"]
        return point - err, point + err
    if row["perplexity_err"] and row["perplexity_f16_err"]:
        # ± of both perplexities combined as if independent (conservative: both runs share the text)
        err = math.hypot(row["perplexity_err"], row["perplexity_f16_err"])
        return 100 * (ppl - err) / f16 - 100, 100 * (ppl + err) / f16 - 100
    half = 0.5 * 10 ** -PUBLISHED_DECIMALS.get(row["table"], DEFAULT_PUBLISHED_DECIMALS)
    return 100 * (ppl - half) / (f16 + half) - 100, 100 * (ppl + half) / (f16 - half) - 100


@cache
def _measured_lookup() -> dict[tuple[str, str], dict]:
    return {(_key(r["model"]), r["quant"]): r for r in fit_points().iter_rows(named=True)}


@cache
def _f16_lookup() -> dict[str, tuple[float, str]]:
    """Measured model (loose key) -> (its F16 perplexity, the table)."""
    return {_key(r["model"]): (r["perplexity_f16"], r["table"]) for r in fit_points().iter_rows(named=True)}


@cache
def _kld_lookup() -> dict[str, float]:
    """Mean KLD (nats) per quant on Llama-3-8B, the same row the rest of the dashboard uses."""
    qs = quant_summary().filter(pl.col("mean_kld").is_not_null())
    return dict(zip(qs["quant"], qs["mean_kld"], strict=True))


@cache
def _mmlu_lookup() -> dict[tuple[str, str], dict]:
    df = data.load_table("quality_sizes_mmlu").filter(pl.col("format") == "GGUF")
    return {(r["model"], r["quant"]): r for r in df.iter_rows(named=True)}


def _resolve(model: str | ModelSpec | float) -> tuple[str, float, str | None, str | None, str]:
    """(display name, parameters, fit family or None, measured model name or None, twin note)."""
    if isinstance(model, bool):
        raise InputError(f"model must be a catalog name, a ModelSpec or a parameter count, got {model!r}")
    if isinstance(model, (int, float)):
        if not (math.isfinite(model) and model > 0):
            raise InputError(f"parameter count must be a positive number, got {model!r}")
        return f"{model / 1e9:g}B parameters", float(model), None, None, ""
    if isinstance(model, str):
        specs = catalog()
        if model in specs:
            model = specs[model]
        elif _key(model) in measured_models():
            name, params, family = measured_models()[_key(model)]
            return name, params, family, name, ""
        else:
            raise InputError(
                f"unknown model {model!r}; catalog models: {', '.join(specs)}; measured models: "
                + ", ".join(v[0] for v in measured_models().values())
            )
    if not isinstance(model, ModelSpec):
        raise InputError(f"model must be a catalog name, a ModelSpec or a parameter count, got {type(model).__name__}")
    fit_families = set(cost_model().fit.family_offsets)
    family = model.family if model.family in fit_families else None
    twin = MEASURED_TWINS.get(model.name)
    if twin is None and _key(model.name) in measured_models():
        twin = measured_models()[_key(model.name)][0]
    note = (
        f"{twin}, the same architecture and tokenizer as {model.name} ({model.name} itself was not measured)"
        if twin and _key(twin) != _key(model.name)
        else ""
    )
    return model.name, float(model.params), family, twin, note


def estimate_quality(model: str | ModelSpec | float, quant: str) -> QualityEstimate:
    """The expected quality cost of ``model`` quantised to ``quant``.

    Parameters
    ----------
    model
        A catalog name (``"Llama-3.1-70B"``), a model a quality table measured (``"Qwen2-72B"``), a
        :class:`~dashboard.memory.ModelSpec`, or a parameter count (``7e9``).
    quant
        A llama-quantize type (``"IQ2_XXS"``).

    Returns
    -------
    QualityEstimate
        ``ppl_increase_pct`` (perplexity increase over the same model at F16, %), the band ``low_pct`` ..
        ``high_pct`` (``interval`` says which), ``basis`` ("measured: ..." or "estimated: ..."), and the
        measured mean KLD / MMLU where a table has them.

    Raises
    ------
    dashboard.ingest.InputError
        For an unknown model or quant type, or a parameter count that is not a positive number.
    """
    quant = str(quant).strip().upper()
    bpw_by_type = type_bits_per_weight()
    if quant not in bpw_by_type:
        raise InputError(f"unknown quant type {quant!r}; known: {', '.join(bpw_by_type)}")
    name, params, family, measured_as, twin_note = _resolve(model)
    bpw = bpw_by_type[quant]
    kld = _kld_lookup().get(quant) if measured_as and _key(measured_as) == "llama-3-8b" else None
    mmlu_row = _mmlu_lookup().get((MMLU_TABLE_MODELS.get(measured_as or "", ""), quant))
    mmlu = mmlu_row["mmlu_accuracy_pct"] if mmlu_row else None
    mmlu_basis = (
        f"measured on {mmlu_row['model']} ({mmlu_row['questions']}): {mmlu_row['source']}" if mmlu_row else None
    )
    on = f" on {twin_note};" if twin_note else ""
    common = {"model": name, "quant": quant, "params": params, "bits_per_weight": bpw, "mean_kld": kld}
    common |= {"mmlu_accuracy_pct": mmlu, "mmlu_basis": mmlu_basis}
    if quant == "F16" and measured_as and _key(measured_as) in _f16_lookup():
        common["perplexity"], common["perplexity_table"] = _f16_lookup()[_key(measured_as)]
    if quant in FLOAT_TYPES:
        return QualityEstimate(
            ppl_increase_pct=0.0,
            low_pct=0.0,
            high_pct=0.0,
            interval="reference precision: cost 0 by definition",
            basis=f"measured: {quant} is the reference every cost is measured against",
            **common,
        )
    row = _measured_lookup().get((_key(measured_as), quant)) if measured_as else None
    if row is not None:
        lo, hi = _measured_band(row)
        point = row["ppl_increase_pct"]
        common["perplexity"], common["perplexity_table"] = row["perplexity"], row["table"]
        return QualityEstimate(
            ppl_increase_pct=point,
            low_pct=min(lo, point),
            high_pct=max(hi, point),
            interval=MEASURED_INTERVAL_LABEL,
            basis=f"measured:{on} {row['table']}; {row['source']}",
            **common,
        )
    cm = cost_model()
    tables = _tables()
    point, lo, hi = cm.estimate_pct(params, bpw, family, quant)
    how = (
        f"fit of cost against parameter count and bits per weight with the {family} family's own intercept"
        if family
        else "fit of cost against parameter count and bits per weight, mean intercept of the measured families "
        f"({', '.join(cm.fit.family_offsets)}): this family was not measured"
    )
    return QualityEstimate(
        ppl_increase_pct=point,
        low_pct=lo,
        high_pct=hi,
        interval=INTERVAL_LABEL if family else NEW_FAMILY_INTERVAL_LABEL,
        basis=f"estimated: {how}, from {cm.n_points} measured points in {len(tables)} tables ({'; '.join(tables)})",
        **common,
    )


@cache
def _tables() -> tuple[str, ...]:
    return tuple(fit_points()["table"].unique(maintain_order=True))


# ------------------------------------------------------------------------------------ comparing model sizes


@dataclass(frozen=True)
class SizeScaling:
    """How much a bigger model of one group is worth against a quality cost, with its evidence.

    ``score = ln(1 + cost_pct/100) - exponent·ln(params/1e9)``: the expected log-perplexity relative to the
    group's own F16 scale; lower is better, and it compares only models of the same ``group``.
    """

    group: str
    prefixes: tuple[str, ...]
    exponent: float
    basis: str
    measured_facts: tuple[str, ...] = ()

    def covers(self, model_name: str) -> bool:
        """Whether a catalog model belongs to this group."""
        return model_name.startswith(self.prefixes)


@cache
def size_scalings() -> tuple[SizeScaling, ...]:
    """The groups whose sizes the data lets us compare, each with its exponent and evidence.

    * Qwen2.5: F16 perplexity against parameter count in Qwen's Qwen2 cards (one table, dense sizes
      0.5B-72B; least squares in log-log): the previous generation of the family; Qwen2.5's own sizes were not
      measured, so its exponent is Qwen2's.
    * Llama 3: the exponent at which the 70B's measured cost at its MMLU crossing type (the lowest-bit type
      whose 70B MMLU still matches the 8B at F16, matt-c1) equals the 8B-to-70B size gain. The crossing cost is
      the 70B's perplexity increase at that type (dranger003); the MMLU scores are the evidence.
    """
    sizes = data.load_table("quality_sizes_ppl")
    qwen = sizes.filter(
        (pl.col("tokenizer_family") == "Qwen2") & (pl.col("quant") == "F16") & ~pl.col("model").str.contains("-A")
    )
    slope = np.polyfit(np.log(qwen["params_b"].to_numpy()), np.log(qwen["perplexity"].to_numpy()), 1)[0]
    qwen_models = ", ".join(f"{m} {p:g}" for m, p in zip(qwen["model"], qwen["perplexity"], strict=True))
    mmlu = data.load_table("quality_sizes_mmlu").filter(pl.col("format") == "GGUF")
    small_f16 = mmlu.filter((pl.col("model") == "Llama-3-8B-Instruct") & (pl.col("quant") == "F16"))
    big = mmlu.filter(pl.col("model") == "Llama-3-70B-Instruct")
    bpw = type_bits_per_weight()
    f16_score = float(small_f16["mmlu_accuracy_pct"][0])
    holding = big.filter(pl.col("mmlu_accuracy_pct") >= f16_score)
    crossing = min(holding["quant"], key=lambda q: bpw[q])
    cost = estimate_quality("Llama-3-70B", crossing).ppl_increase_pct
    size_ratio = float(big["params_b"][0]) / float(small_f16["params_b"][0])
    exponent = math.log(1 + cost / 100) / math.log(size_ratio)
    cross_mmlu = float(holding.filter(pl.col("quant") == crossing)["mmlu_accuracy_pct"][0])
    return (
        SizeScaling(
            group="Llama 3",
            prefixes=("Llama-3.1-", "Llama-3.2-"),
            exponent=exponent,
            basis=(
                f"Llama 3 sizes compared with exponent {exponent:.2f}: the 70B at {crossing} (+{cost:.0f}% "
                f"perplexity) still matches the 8B at F16 on MMLU ({cross_mmlu:.2f} vs {f16_score:.2f}, "
                f"{small_f16['source'][0]})"
            ),
        ),
        SizeScaling(
            group="Qwen2.5",
            prefixes=("Qwen2.5-",),
            exponent=float(-slope),
            measured_facts=tuple(
                f"{fact} (Qwen2 perplexity, {qwen['source'][0].split(' (')[0]})"
                for fact in measured_size_facts("Qwen2")
            ),
            basis=(
                f"Qwen2.5 sizes compared with exponent {-slope:.2f}: F16 perplexity against size in Qwen's Qwen2 "
                f"cards ({qwen_models}; {qwen['source'][0]}); Qwen2 is the previous generation, Qwen2.5's own sizes "
                "were not measured"
            ),
        ),
    )


def size_scaling_for(model_name: str) -> SizeScaling | None:
    """The comparison group of a catalog model, or None where no data compares its sizes."""
    return next((s for s in size_scalings() if s.covers(model_name)), None)


def size_score(estimate: QualityEstimate, scaling: SizeScaling) -> float:
    """Expected log-perplexity relative to the group's F16 scale (lower is better; same group only)."""
    return math.log1p(estimate.ppl_increase_pct / 100) - scaling.exponent * math.log(estimate.params / 1e9)


# ------------------------------------------------------------------------------------ reading the cost


@cache
def cost_band_limits() -> tuple[tuple[str, float], ...]:
    """The dashboard's KLD bands (:data:`dashboard.quants.QUALITY_BANDS`) as perplexity-increase limits, in %.

    Each band's limit is the largest perplexity increase among the Llama-3-8B scoreboard types whose mean KLD
    is inside that band's KLD limit (the scoreboard measured both metrics on the same runs), so a model measured
    only in perplexity is read on the same scale: near-lossless <= Q6_K's cost, good <= IQ4_XS's, acceptable
    <= IQ3_XS's (the values are computed, see the test output).
    """
    scoreboard = fit_points().filter(pl.col("table") == LLAMA3_8B_SCOREBOARD)
    kld = _kld_lookup()
    limits = []
    for name, kld_limit in QUALITY_BANDS:
        if math.isinf(kld_limit):
            limits.append((name, math.inf))
            continue
        inside = scoreboard.filter(pl.col("quant").is_in([q for q, v in kld.items() if v <= kld_limit]))
        limits.append((name, float(inside["ppl_increase_pct"].max())))
    return tuple(limits)


def cost_band(ppl_increase_pct: float) -> str:
    """The band (near-lossless, good, acceptable, degraded) a perplexity increase in % falls in."""
    for name, limit in cost_band_limits():
        if ppl_increase_pct <= limit:
            return name
    return "degraded"


def basis_kind(basis: str) -> str:
    """``measured`` or ``estimated``: the first word of a basis."""
    return basis.split(":", 1)[0]


@lru_cache(maxsize=64)
def model_quality_frame(model: str | ModelSpec) -> pl.DataFrame:
    """One row per quant type with the quality estimate for ``model``: what the per-model views draw.

    Columns: quant, bits_per_weight (the type's, on Llama-3.1-8B), ppl_increase_pct, low_pct, high_pct,
    interval, basis, basis_kind (measured/estimated), cost_band, mean_kld (measured on Llama-3-8B, only for the
    Llama 3 8B models), mmlu_accuracy_pct and mmlu_basis (measured, Llama 3 8B/70B only), perplexity and
    perplexity_table
    (measured only; compare within one table).
    """
    rows = []
    for quant in type_bits_per_weight():
        q = estimate_quality(model, quant)
        rows.append(
            {
                "quant": quant,
                "bits_per_weight": q.bits_per_weight,
                "ppl_increase_pct": q.ppl_increase_pct,
                "low_pct": q.low_pct,
                "high_pct": q.high_pct,
                "interval": q.interval,
                "basis": q.basis,
                "basis_kind": basis_kind(q.basis),
                "cost_band": cost_band(q.ppl_increase_pct),
                "mean_kld": q.mean_kld,
                "mmlu_accuracy_pct": q.mmlu_accuracy_pct,
                "mmlu_basis": q.mmlu_basis,
                "perplexity": q.perplexity,
                "perplexity_table": q.perplexity_table,
            }
        )
    return pl.DataFrame(
        rows,
        schema_overrides={
            "mean_kld": pl.Float64,
            "mmlu_accuracy_pct": pl.Float64,
            "mmlu_basis": pl.String,
            "perplexity": pl.Float64,
            "perplexity_table": pl.String,
        },
    )


@cache
def cross_size_curves() -> pl.DataFrame:
    """The measured cross-size points, one line per model size, perplexity against file size (per table).

    Columns: table, model, params_b, quant, perplexity, file_size_gib, size_basis. The file size is the
    table's own where it gives one (Llama-3-70B, LLaMA v1); Qwen's cards give none, so it is estimated as
    nominal parameters x the type's bits per weight on Llama-3.1-8B (``size_basis`` says which). Perplexities
    compare only within one ``table``.
    """
    bpw = type_bits_per_weight()
    sizes = data.load_table("quality_sizes_ppl").select(
        "table", "model", "params_b", "quant", "perplexity", "file_size_gib", "source"
    )
    by_model = (
        data.load_table("quality_by_model")
        .filter(pl.col("perplexity").is_not_null())
        .with_columns(
            pl.col("model")
            .replace_strict({"LLaMA-v1-7B": 7.0, "LLaMA-v1-13B": 13.0, "Llama-2-70B": 70.0, "Llama-3-8B": 8.0})
            .alias("params_b")
        )
        .select("table", "model", "params_b", "quant", "perplexity", "file_size_gib", "source")
    )
    df = pl.concat([sizes, by_model]).filter(pl.col("quant").is_in(list(bpw)))
    estimated = pl.col("params_b") * 1e9 * pl.col("quant").replace_strict(bpw, return_dtype=pl.Float64) / 8 / 2**30
    return df.with_columns(
        pl.when(pl.col("file_size_gib").is_null())
        .then(pl.lit("estimated: nominal parameters x the type's bits per weight on Llama-3.1-8B"))
        .otherwise(pl.lit("measured: the table's file size"))
        .alias("size_basis"),
        pl.coalesce("file_size_gib", estimated).alias("file_size_gib"),
    ).sort("table", "params_b", "file_size_gib")


@cache
def measured_size_facts(tokenizer_family: str) -> tuple[str, ...]:
    """Where a bigger model at a lower quant beats a smaller one at F16, as measured in one table of the family.

    For each pair of consecutive dense sizes of the family's perplexity table: the lowest-bit type of the bigger
    model whose perplexity is still below the smaller model's F16, and the first type below it that is not (when
    measured). E.g. "Qwen2-72B-Instruct at Q2_K (5.91) beats Qwen2-7B-Instruct at F16 (7.93)".
    """
    sizes = data.load_table("quality_sizes_ppl").filter(
        (pl.col("tokenizer_family") == tokenizer_family) & ~pl.col("model").str.contains("-A")
    )
    bpw = type_bits_per_weight()
    models = sizes.group_by("model").agg(pl.col("params_b").first()).sort("params_b")["model"].to_list()
    facts = []
    for small, big in itertools.pairwise(models):
        f16 = sizes.filter((pl.col("model") == small) & (pl.col("quant") == "F16"))
        if f16.is_empty():
            continue
        ref = float(f16["perplexity"][0])
        rows = sizes.filter(pl.col("model") == big).filter(pl.col("quant").is_in(list(bpw)))
        ordered = sorted(rows.iter_rows(named=True), key=lambda r: bpw[r["quant"]])
        beating = [r for r in ordered if r["perplexity"] < ref]
        if not beating:
            continue
        low = beating[0]
        above = [r for r in ordered if bpw[r["quant"]] >= bpw[low["quant"]]]
        every = all(r["perplexity"] < ref for r in above)
        text = (
            f"{big} beats {small} at F16 ({ref:.2f}) at every measured type down to {low['quant']} "
            f"({low['perplexity']:.2f})"
            if every
            else f"{big} at {low['quant']} ({low['perplexity']:.2f}) beats {small} at F16 ({ref:.2f})"
        )
        losing = [r for r in ordered if bpw[r["quant"]] < bpw[low["quant"]]]
        if losing:
            worse = losing[-1]
            text += f", but not at {worse['quant']} ({worse['perplexity']:.2f})"
        facts.append(text)
    return tuple(facts)
