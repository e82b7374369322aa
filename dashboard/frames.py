"""What each view draws: one pure function per view, returning the frame the view only has to style and draw.

Pure domain logic (polars, no Panel): every number a chart shows is computed here (or in the modules this
one reads) and tested without rendering (``tests/test_frames.py``), the way lumen separates a view's
``get_data()`` from its ``get_panel()``. Views add only presentation: colours, marker sizes, the selection's
emphasis.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from dashboard.efficiency import efficiency
from dashboard.memory import estimate, gib_to_gb
from dashboard.models import REFERENCE_MODEL
from dashboard.quality import COST_FLOOR_PCT, cost_band, cost_band_limits, model_quality_frame
from dashboard.quants import BACKENDS, QUALITY_BANDS, QUALITY_REFERENCE_MODEL, f16_perplexity, quality_band
from dashboard.recommend import FIT_ORDER, Constraints, Recommendation, decision_tree, leaf_label

QUALITY_SOURCE = "llama.cpp tools/perplexity/README.md"
SPEED_SOURCE = "llama.cpp tools/quantize/README.md, PR #14905"
# The memory breakdown always shows these beside the recommendation, so the budget line has landmarks across
# the range: 8-bit (near-lossless), the common 4-bit k-quant (good) and a 2-bit i-quant (degraded) on the
# Llama-3-8B scoreboard; a test checks they fall in three different bands.
BREAKDOWN_REFERENCE_QUANTS: tuple[str, ...] = ("Q8_0", "Q4_K_M", "IQ2_XS")
BREAKDOWN_PARTS: tuple[str, ...] = ("weights", "KV cache", "compute + output buffers")
# the estimate for the user's model and device, or (no device picked) the measured reference-model speed
SPECTRUM_SPEED_COLUMN = "t/s"
SPECTRUM_COLUMNS: tuple[str, ...] = ("Size", "Quality", SPECTRUM_SPEED_COLUMN, *BACKENDS, "Notes")
# Rows of the user's data in the spectrum (8 cells each); more are named in a note under the chart and stay in the
# quality chart and the download. 100,000 rows would be 800,000 cells in one session's browser and server.
MAX_SPECTRUM_USER_ROWS = 2_000
USER_NAME_CHARS = 24  # a user's model name is cut to this in a spectrum row label (the full name is in the note)


# --- quality: scatter (view 1) and quality kept (view 2) -------------------------------------------------------


def _costs(model_quality: pl.DataFrame) -> pl.DataFrame:
    """The chosen model's expected cost of each type (:func:`dashboard.quality.model_quality_frame`)."""
    return model_quality.select(
        "quant", "ppl_increase_pct", "low_pct", "high_pct", pl.col("basis").alias("cost_basis"), "basis_kind"
    )


def quality_points(
    quants: pl.DataFrame, model_sizes: pl.DataFrame, user: pl.DataFrame, model_quality: pl.DataFrame
) -> pl.DataFrame:
    """One point per measured quant type at its file size and expected perplexity cost for the chosen model, plus
    the user's rows that have a file size (``origin`` "yours"; their cost is over their own F16 row). The size is
    also given in decimal GB (``weights_gb``), like every size on the page."""
    builtin = (
        quants.filter(pl.col("mean_kld").is_not_null())
        .join(model_sizes, on="quant", how="left")
        .join(_costs(model_quality), on="quant", how="left")
        .select(
            "quant",
            "family",
            "weights_gib",
            "mean_kld",
            "delta_perplexity",
            "ppl_increase_pct",
            "low_pct",
            "high_pct",
            "cost_basis",
            "basis_kind",
            "quality_band",
            "file_bits_per_weight",
            pl.format("{} (scoreboard, {})", pl.col("quality_basis"), pl.lit(QUALITY_SOURCE)).alias("quality_source"),
            pl.when(pl.col("legacy")).then(pl.lit("legacy")).otherwise(pl.lit("")).alias("legacy_note"),
            pl.lit("built-in").alias("origin"),
        )
    )
    mine = user.filter(pl.col("file_size_gib").is_not_null()).select(
        "quant",
        pl.lit("user").alias("family"),
        pl.col("file_size_gib").alias("weights_gib"),
        "mean_kld",
        "delta_perplexity",
        # perplexity minus ΔPPL is the user's own F16 perplexity
        (100 * pl.col("delta_perplexity") / (pl.col("perplexity") - pl.col("delta_perplexity"))).alias(
            "ppl_increase_pct"
        ),
        pl.lit(None, dtype=pl.Float64).alias("low_pct"),
        pl.lit(None, dtype=pl.Float64).alias("high_pct"),
        pl.col("source").alias("cost_basis"),
        pl.lit("yours").alias("basis_kind"),
        pl.lit("yours").alias("quality_band"),
        pl.lit(None, dtype=pl.Float64).alias("file_bits_per_weight"),
        pl.col("source").alias("quality_source"),
        pl.format("yours: {}", pl.col("model")).alias("legacy_note"),
        pl.lit("yours").alias("origin"),
    )
    points = pl.concat([builtin, mine], how="vertical_relaxed")
    return points.with_columns(gib_to_gb(pl.col("weights_gib")).alias("weights_gb"))


def quality_kept(quants: pl.DataFrame, model_quality: pl.DataFrame) -> pl.DataFrame:
    """Quality kept (the chosen model's F16 perplexity over its expected perplexity at the type, %) with the cost
    behind it, and compression vs F16, for every measured type, most bits first."""
    return (
        quants.filter(pl.col("mean_kld").is_not_null())
        .join(_costs(model_quality), on="quant", how="left")
        .sort("file_bits_per_weight", descending=True)
        .select(
            "quant",
            "family",
            (100 / (1 + pl.col("ppl_increase_pct") / 100)).alias("quality_kept_pct"),
            "compression_vs_f16",
            "ppl_increase_pct",
            "low_pct",
            "high_pct",
            "basis_kind",
            "cost_basis",
        )
    )


def band_limits(metric: str) -> dict[str, float]:
    """Upper edges of the "good" and "acceptable" bands in ``metric``'s unit, for the quality charts.

    ``mean_kld`` (nats): :data:`~dashboard.quants.QUALITY_BANDS`; ``ppl_increase_pct``: the same bands as a
    perplexity increase in %; ``delta_perplexity``: the same bands as a
    perplexity increase (:func:`dashboard.quality.cost_band_limits`, read off the scoreboard) times the F16
    perplexity; ``quality_kept_pct``: that increase as a share of F16 quality, 100 / (1 + increase / 100).
    """
    bands = ("good", "acceptable")
    increase_pct = dict(cost_band_limits())
    if metric == "mean_kld":
        return {b: dict(QUALITY_BANDS)[b] for b in bands}
    if metric == "ppl_increase_pct":
        return {b: increase_pct[b] for b in bands}
    if metric == "delta_perplexity":
        return {b: increase_pct[b] / 100 * f16_perplexity() for b in bands}
    if metric == "quality_kept_pct":
        return {b: 100 / (1 + increase_pct[b] / 100) for b in bands}
    raise ValueError(f"no quality bands for {metric!r}")


# --- spectrum heatmap (view 3) ---------------------------------------------------------------------------------


def _scale(values: pl.Series, log: bool = False, invert: bool = False) -> pl.Series:
    """Min-max scale to 0..1 (missing stays NaN); ``invert`` so that smaller is better."""
    arr = values.cast(pl.Float64).fill_null(math.nan).to_numpy().copy()
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            arr = np.log10(arr)
    finite = arr[np.isfinite(arr)]
    if finite.size:
        lo, hi = finite.min(), finite.max()
        arr = (arr - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(arr), 1.0, np.nan)
    return pl.Series(1 - arr if invert else arr, dtype=pl.Float64)


def spectrum_cells(
    quants: pl.DataFrame,
    user: pl.DataFrame,
    model_quality: pl.DataFrame,
    speeds: pl.DataFrame | None = None,
    where: str = "",
    backend: str = BACKENDS[0],
) -> pl.DataFrame:
    """One cell per (quant type, column) with a 0..1 score (1 = best, NaN = no data), its label and where the
    number comes from. The quality column is the chosen model's expected cost (``model_quality``), its band's word
    first. The speed column is the estimate for the user's model and device (``speeds``:
    :func:`dashboard.recommend.speed_table`, ``where`` names model and device); without an estimate (no device or
    bandwidth) it is the measured speed on the reference model, marked "(8B)". ``backend``'s measured evidence
    joins the speed cell's detail. The user's first :data:`MAX_SPECTRUM_USER_ROWS` rows follow, their KLD scored against
    the built-in KLD range and told as its band."""
    q = quants.sort("file_bits_per_weight", descending=True)
    cost = {r["quant"]: r for r in model_quality.iter_rows(named=True)}
    increase = pl.Series([cost[x]["ppl_increase_pct"] if x in cost else None for x in q["quant"]], dtype=pl.Float64)
    size_score = _scale(q["file_bits_per_weight"], invert=True)
    # a cost of 0 (F16) takes the floor of the quality fit's log scale, so the reference scores best
    quality_score = _scale(increase + COST_FLOOR_PCT, log=True, invert=True)
    estimated = {} if speeds is None else {r["quant"]: r for r in speeds.iter_rows(named=True)}
    have_estimate = any(r["generation_tokens_per_s"] is not None for r in estimated.values())
    speed = (
        pl.Series([estimated.get(x, {}).get("generation_tokens_per_s") for x in q["quant"]], dtype=pl.Float64)
        if have_estimate
        else q["generation_tokens_per_s"]
    )
    speed_score = _scale(speed)
    cells = []
    for i, r in enumerate(q.iter_rows(named=True)):
        notes = [
            *(["legacy"] if r["legacy"] else []),
            *(["imatrix advised"] if r["family"] == "i-quant" else []),
        ]
        slow = [b for b in BACKENDS if r[f"verdict_{b.lower()}"] == "slow"]
        if slow:
            notes.append("slow on " + "/".join(slow))
        if r["quant"] in cost and cost[r["quant"]]["basis_kind"] == "estimated":
            notes.append("quality estimated")
        base = {"quant": r["quant"], "row": f"{r['quant']} †" if r["legacy"] else r["quant"], "family": r["family"]}
        bpw, kld, tg = r["file_bits_per_weight"], r["mean_kld"], r["generation_tokens_per_s"]
        c = cost.get(r["quant"])
        measured = (
            f"no {REFERENCE_MODEL} measurement"
            if tg is None
            else f"tg128 {tg:.2f} t/s on {REFERENCE_MODEL}, hardware not stated ({SPEED_SOURCE})"
        )
        if r[f"evidence_{backend.lower()}"]:
            measured += f"; on {backend}: {r[f'evidence_{backend.lower()}']}"
        est = estimated.get(r["quant"])
        if have_estimate and est and est["generation_tokens_per_s"] is not None:
            speed_label = f"~{est['generation_tokens_per_s']:.0f}"
            speed_detail = (
                f"estimated for {where}: {est['speed_summary']}. Basis: {est['speed_basis']}. Measured: {measured}"
            )
        else:
            speed_label = "—" if tg is None else f"{tg:.0f} (8B)"
            speed_detail = f"pick a device (or enter a bandwidth) for an estimate on yours. Measured: {measured}"
        cells += [
            {
                **base,
                "column": "Size",
                "score": size_score[i],
                "label": f"{bpw:.2f} bpw",
                "detail": f"{bpw:.3f} bits per weight on {REFERENCE_MODEL} (computed by the memory model; "
                "matches llama.cpp's tools/quantize/README.md)",
            },
            {
                **base,
                "column": "Quality",
                "score": quality_score[i],
                # the band's word first (it reads faster than a number), then the cost (~: estimated)
                "label": "—"
                if c is None
                else f"{cost_band(c['ppl_increase_pct'])}\n"
                f"{'' if c['basis_kind'] == 'measured' else '~'}+{c['ppl_increase_pct']:.1f}%",
                "detail": "no estimate"
                if c is None
                else f"perplexity +{c['ppl_increase_pct']:.2f}% over F16 ({c['interval']}: +{c['low_pct']:.2f}% to "
                f"+{c['high_pct']:.2f}%); {c['basis']}"
                + ("" if kld is None else f"; mean KLD on {QUALITY_REFERENCE_MODEL} {kld:.4f} nats"),
            },
            {
                **base,
                "column": SPECTRUM_SPEED_COLUMN,
                "score": speed_score[i],
                "label": speed_label,
                "detail": speed_detail,
            },
        ]
        for b in BACKENDS:
            use, verdict, evidence = (r[f"{c}_{b.lower()}"] for c in ("bandwidth_use", "verdict", "evidence"))
            cells.append(
                {
                    **base,
                    "column": b,
                    "score": math.nan if use is None else use,
                    "label": "—" if use is None else verdict,
                    "detail": "no measurement on this backend"
                    if use is None
                    else f"bandwidth use {use:.2f} of the best type in the same run: {evidence}",
                }
            )
        cells.append(
            {**base, "column": "Notes", "score": math.nan, "label": "\n".join(notes), "detail": r["description"]}
        )
    log_klds = np.log10(q["mean_kld"].drop_nulls().to_numpy())
    for u in user.head(MAX_SPECTRUM_USER_ROWS).iter_rows(named=True):
        name = u["model"] if len(u["model"]) <= USER_NAME_CHARS else u["model"][: USER_NAME_CHARS - 1] + "…"
        base = {"quant": u["quant"], "row": f"{u['quant']} · {name} (yours)", "family": "user"}
        size, kld, tg = u["file_size_gib"], u["mean_kld"], u["generation_tokens_per_s"]
        kld_score = (
            math.nan
            if kld is None or kld <= 0
            else float(np.clip(1 - (np.log10(kld) - log_klds.min()) / np.ptp(log_klds), 0, 1))
        )
        cells += [
            {
                **base,
                "column": "Size",
                "score": math.nan,
                "label": "—" if size is None else f"{gib_to_gb(size):.2f} GB",
                "detail": "your file size" + ("" if size is None else f" ({size:.2f} GiB as you gave it)"),
            },
            {
                **base,
                "column": "Quality",
                "score": kld_score,
                "label": "—" if kld is None else quality_band(kld),
                "detail": "your mean KLD" + ("" if kld is None else f" {kld:.4f}") + f" ({u['source']})",
            },
            {
                **base,
                "column": SPECTRUM_SPEED_COLUMN,
                "score": math.nan,
                "label": "—" if tg is None else f"{tg:.0f} t/s",
                "detail": "your generation speed",
            },
            *({**base, "column": b, "score": math.nan, "label": "—", "detail": "your data"} for b in BACKENDS),
            {**base, "column": "Notes", "score": math.nan, "label": "your data", "detail": u["source"]},
        ]
    return pl.DataFrame(
        cells,
        schema={
            "quant": pl.String,
            "row": pl.String,
            "family": pl.String,
            "column": pl.String,
            "score": pl.Float64,
            "label": pl.String,
            "detail": pl.String,
        },
    )


# --- efficiency across model sizes (view 5) --------------------------------------------------------------------


def efficiency_points(user: pl.DataFrame | None = None) -> pl.DataFrame:
    """The published efficiency rows plus the user's (models with an F16 or BF16 row of their own)."""
    columns = ["table", "model", "quant", "f16_size_gb", "perplexity_added_pct", "gb_saved", "pct_per_gb_saved"]
    return efficiency(user).select(columns)


# --- fit: sweet spots (view 4) and memory breakdown (view 7) ---------------------------------------------------


def vram_label(vram_gb: float) -> str:
    """A memory size as the grid's column label ("24 GB")."""
    return f"{vram_gb:g} GB"


def sweet_spot_cells(grid: pl.DataFrame) -> pl.DataFrame:
    """The sweet-spots grid with its column label, fit rank (0 = fits) and the need in GB; the cell's text is the
    recommender's own ``label`` (:func:`dashboard.recommend.cell_label`: the type, "partial" on a second line)."""
    return grid.with_columns(
        pl.col("vram_gb").map_elements(vram_label, return_dtype=pl.String).alias("vram"),
        pl.col("fit").replace_strict(FIT_ORDER, list(range(len(FIT_ORDER))), return_dtype=pl.Float64).alias("fit_code"),
        gib_to_gb(pl.col("total_gib")).alias("total_gb"),
    )


def memory_breakdown(constraints: Constraints, recommendation: Recommendation) -> pl.DataFrame:
    """Weights, KV cache and buffers (GiB) of the recommendation, its runner-ups and the reference types, each
    with its quality cost for the model (:func:`dashboard.quality.model_quality_frame`)."""
    picks = [o.quant for o in ([recommendation.best] if recommendation.best else [])]
    picks += [o.quant for o in recommendation.runner_ups]
    picks += [q for q in BREAKDOWN_REFERENCE_QUANTS if q not in picks]
    quality = {r["quant"]: r for r in model_quality_frame(constraints.model).iter_rows(named=True)}
    rows = []
    for q in picks:
        e = estimate(constraints.model, q, constraints.context, constraints.kv_cache)
        cost = {
            "ppl_increase_pct": quality[q]["ppl_increase_pct"],
            "cost_low_pct": quality[q]["low_pct"],
            "cost_high_pct": quality[q]["high_pct"],
            "basis_kind": quality[q]["basis_kind"],
        }
        for part, gib in zip(BREAKDOWN_PARTS, (e.weights_gib, e.kv_cache_gib, e.overhead_gib), strict=True):
            rows.append({"quant": q, "part": part, "gib": gib, **cost})
    return pl.DataFrame(rows)


def breakdown_bars_gb(breakdown: pl.DataFrame, pick: str | None = None) -> dict[str, list]:
    """The breakdown as stacked-bar columns in decimal GB (as VRAM is sold), smallest total first: quant, its axis
    label (``pick``, the recommendation, marked "(pick)"), one column per part, total and the quality cost."""
    by_part = {
        part: {q: gib_to_gb(v) for q, v in breakdown.filter(pl.col("part") == part).select("quant", "gib").iter_rows()}
        for part in BREAKDOWN_PARTS
    }
    quants = list(dict.fromkeys(breakdown["quant"]))
    total = {q: sum(by_part[p].get(q, 0.0) for p in BREAKDOWN_PARTS) for q in quants}
    quants.sort(key=lambda q: total[q])
    bars: dict[str, list] = {"quant": quants, "label": [f"{q} (pick)" if q == pick else q for q in quants]}
    for part in BREAKDOWN_PARTS:
        bars[part] = [by_part[part].get(q, 0.0) for q in quants]
    bars["total"] = [total[q] for q in quants]
    # the chosen model's own expected cost of each type, with its band and basis
    cost = {r["quant"]: r for r in breakdown.filter(pl.col("part") == BREAKDOWN_PARTS[0]).iter_rows(named=True)}
    bars["cost"] = [
        f"+{cost[q]['ppl_increase_pct']:.1f}% perplexity ({cost[q]['basis_kind']}; range "
        f"+{cost[q]['cost_low_pct']:.1f}% to +{cost[q]['cost_high_pct']:.1f}%)"
        if q in cost and cost[q].get("ppl_increase_pct") is not None
        else "—"
        for q in quants
    ]
    return bars


# --- decision tree (view 6) ------------------------------------------------------------------------------------


def tree_layout(recommendation: Recommendation) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Node positions (x = depth, y = row, label, active) and edges of the recommender's decision tree plus the
    leaf it reached; the active path is the recommendation's."""
    children: dict[str | None, list[str]] = {}
    labels = {}
    for node, parent, label in decision_tree():
        children.setdefault(parent, []).append(node)
        labels[node] = label
    children.setdefault(recommendation.path[-1], []).append("leaf")
    labels["leaf"] = f"→ {leaf_label(recommendation)}"
    positions: dict[str, tuple[float, float]] = {}
    next_row = [0.0]

    def place(node: str, depth: int) -> float:
        """Depth runs left to right, leaves top to bottom: long labels get the whole width."""
        kids = children.get(node, [])
        if not kids:
            y = next_row[0]
            next_row[0] -= 1
        else:
            ys = [place(k, depth + 1) for k in kids]
            y = sum(ys) / len(ys)
        positions[node] = (float(depth), y)
        return y

    place("root", 0)
    active = {*recommendation.path, "leaf"}
    nodes = pl.DataFrame(
        [
            {"node": n, "x": x, "y": y, "inner": bool(children.get(n)), "label": labels[n], "active": n in active}
            for n, (x, y) in positions.items()
        ]
    )
    edges = pl.DataFrame(
        [
            {
                "x0": positions[parent][0],
                "y0": positions[parent][1],
                "x1": positions[k][0],
                "y1": positions[k][1],
                "active": parent in active and k in active,
            }
            for parent, kids in children.items()
            if parent is not None
            for k in kids
        ]
    )
    return nodes, edges
