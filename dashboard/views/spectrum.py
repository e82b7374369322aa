"""The quantisation spectrum heatmap (view 3) and the colour-depth analogy (view 8)."""

from __future__ import annotations

import math

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import polars as pl
from bokeh.models import FixedTicker
from bokeh.palettes import Viridis256

from dashboard.memory import gib_to_gb
from dashboard.quality import COST_FLOOR_PCT, cost_band
from dashboard.quants import BACKENDS, quality_band
from dashboard.state import Explorer
from dashboard.views.common import (
    DIMMED_ALPHA,
    hv_pane,
    linked_dmap,
    palette_colour,
    scroll_box,
    text_colour_on,
)

SPEED_COLUMN = "t/s"
COLUMNS = ["Size", "Quality", SPEED_COLUMN, *BACKENDS, "Notes"]
SCORE_PALETTE = Viridis256  # dark purple (worst) .. yellow (best)
NO_DATA = "#F2F2F2"
# Rows of the user's data drawn in the spectrum (8 cells each); more are named in a note under the chart and stay
# in the quality chart and the download. 100,000 rows would be 800,000 cells in one session's browser and server.
MAX_SPECTRUM_USER_ROWS = 2_000


def _scale(values: list[float | None], log: bool = False, invert: bool = False) -> list[float]:
    """Min-max scale to 0..1 (NaN stays NaN); ``invert`` so that smaller is better."""
    arr = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if log:
        arr = np.log10(arr)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return list(arr)
    lo, hi = finite.min(), finite.max()
    out = (arr - lo) / (hi - lo) if hi > lo else np.ones_like(arr)
    return list(1 - out if invert else out)


def spectrum_frame(explorer: Explorer, selected: list[str]) -> pd.DataFrame:
    """Long frame: one cell per (quant type, column) with a 0..1 score (1 = best), label and note."""
    q = explorer.quants.sort("file_bits_per_weight", descending=True)
    # the quality column is the chosen model's own expected cost (dashboard.quality), not Llama-3-8B's KLD
    cost = {r["quant"]: r for r in explorer.model_quality.iter_rows(named=True)}
    q = q.with_columns(
        pl.col("quant")
        .replace_strict({k: v["ppl_increase_pct"] for k, v in cost.items()}, default=None)
        .cast(pl.Float64)
        .alias("ppl_increase_pct")
    )
    rows = q.to_dicts()
    size_score = _scale([r["file_bits_per_weight"] for r in rows], invert=True)
    # costs of 0 (F16) take the floor of the fit's log scale, so the reference is the best quality score
    quality_score = _scale(
        [None if r["ppl_increase_pct"] is None else r["ppl_increase_pct"] + COST_FLOOR_PCT for r in rows],
        log=True,
        invert=True,
    )
    # the speed column: the estimate for the user's model and device; without one (custom device, no
    # bandwidth) the measured Llama-3.1-8B speed of PR #14905
    speeds = explorer.speeds
    estimated = {} if speeds is None else dict(zip(speeds["quant"], speeds.iter_rows(named=True), strict=True))
    have_estimate = any(v["generation_tokens_per_s"] is not None for v in estimated.values())
    tg_score = _scale(
        [
            estimated.get(r["quant"], {}).get("generation_tokens_per_s")
            if have_estimate
            else r["generation_tokens_per_s"]
            for r in rows
        ]
    )
    user = explorer.constraints
    where = f"{user.model} on {user.device}" + (f" x {user.n_gpus}" if user.n_gpus > 1 else "")
    backend_col = user.backend.lower()
    cells = []
    for i, r in enumerate(rows):
        label_row = f"{r['quant']} †" if r["legacy"] else r["quant"]
        notes = []
        if r["legacy"]:
            notes.append("legacy")
        if r["family"] == "i-quant":
            notes.append("imatrix advised")
        slow = [b for b in BACKENDS if r[f"verdict_{b.lower()}"] == "slow"]
        if slow:
            notes.append("slow on " + "/".join(slow))
        if r["quant"] in cost and cost[r["quant"]]["basis_kind"] == "estimated":
            notes.append("quality estimated")
        base = {"quant": r["quant"], "row": label_row, "family": r["family"]}
        cells.append(
            {
                **base,
                "column": "Size",
                "score": size_score[i],
                "label": f"{r['file_bits_per_weight']:.2f} bpw",
                "detail": f"{r['file_bits_per_weight']:.3f} bits per weight on Llama-3.1-8B (computed by the "
                "memory model; matches llama.cpp's tools/quantize/README.md)",
            }
        )
        c = cost.get(r["quant"])
        kld = r["mean_kld"]
        cells.append(
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
                + ("" if kld is None else f"; mean KLD on Llama-3-8B {kld:.4f} nats"),
            }
        )
        tg = r["generation_tokens_per_s"]
        measured = (
            "no Llama-3.1-8B measurement"
            if tg is None
            else f"tg128 {tg:.2f} t/s on Llama-3.1-8B, hardware not stated (llama.cpp tools/quantize/README.md, "
            "PR #14905)"
        )
        if r[f"evidence_{backend_col}"]:
            measured += f"; on {user.backend}: {r[f'evidence_{backend_col}']}"
        est = estimated.get(r["quant"])
        if have_estimate and est and est["generation_tokens_per_s"] is not None:
            label = f"~{est['generation_tokens_per_s']:.0f}"
            detail = f"estimated for {where}: {est['speed_summary']}. Basis: {est['speed_basis']}. Measured: {measured}"
        else:
            label = "—" if tg is None else f"{tg:.0f} (8B)"
            detail = f"pick a device (or enter a bandwidth) for an estimate on yours. Measured: {measured}"
        cells.append({**base, "column": SPEED_COLUMN, "score": tg_score[i], "label": label, "detail": detail})
        for b in BACKENDS:
            eff, verdict, evidence = (
                r[f"efficiency_{b.lower()}"],
                r[f"verdict_{b.lower()}"],
                r[f"evidence_{b.lower()}"],
            )
            cells.append(
                {
                    **base,
                    "column": b,
                    "score": eff,
                    "label": "—" if eff is None else f"{verdict}",
                    "detail": "no measurement on this backend"
                    if eff is None
                    else f"bandwidth efficiency {eff:.2f} of the best type in the same run: {evidence}",
                }
            )
        cells.append(
            {**base, "column": "Notes", "score": math.nan, "label": ", ".join(notes) or "", "detail": r["description"]}
        )
    klds = np.log10([r["mean_kld"] for r in rows if r["mean_kld"] is not None])
    for u in explorer.user_measurements.head(MAX_SPECTRUM_USER_ROWS).to_dicts():
        name = u["model"] if len(u["model"]) <= 24 else u["model"][:23] + "…"
        base = {"quant": u["quant"], "row": f"{u['quant']} · {name} (yours)", "family": "user"}
        size, kld, tg = u["file_size_gib"], u["mean_kld"], u["generation_tokens_per_s"]
        kld_score = (
            math.nan
            if kld is None or kld <= 0
            else float(np.clip(1 - (np.log10(kld) - klds.min()) / np.ptp(klds), 0, 1))
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
                "column": SPEED_COLUMN,
                "score": math.nan,
                "label": "—" if tg is None else f"{tg:.0f} t/s",
                "detail": "your generation speed",
            },
            *({**base, "column": b, "score": math.nan, "label": "—", "detail": "your data"} for b in BACKENDS),
            {**base, "column": "Notes", "score": math.nan, "label": "your data", "detail": u["source"]},
        ]
    df = pd.DataFrame(cells)
    df["emphasis"] = 1.0 if not selected else np.where(df["quant"].isin(selected), 1.0, DIMMED_ALPHA)
    df["score"] = df["score"].astype(float)
    # each label takes the colour that reads best on its own cell (the cell colour as the heatmap maps it)
    df["cell_colour"] = [NO_DATA if not np.isfinite(v) else palette_colour(SCORE_PALETTE, v) for v in df["score"]]
    df["text_colour"] = df["cell_colour"].map(text_colour_on)
    return df


class SpectrumHeatmap(pn.viewable.Viewer):
    """Quant types x (size, quality, speed on each backend) coloured from worst (dark purple) to best (yellow)."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(
        self,
        selected_quants: list[str],
        user_measurements: pl.DataFrame,
        model_quality: pl.DataFrame | None = None,
        speeds: pl.DataFrame | None = None,
    ) -> hv.HeatMap:
        df = spectrum_frame(self.explorer, selected_quants)
        rows = list(dict.fromkeys(df["row"]))
        heat = hv.HeatMap(
            # the display order is `rows`; rows sorted by label spare HoloViews' recursive ordering of the
            # categories, which exceeds Python's recursion limit past ~1,000 rows
            df.sort_values("row", kind="stable"),
            kdims=[
                hv.Dimension("column", label=" ", values=COLUMNS),
                hv.Dimension("row", label="Quant type", values=rows),
            ],
            vdims=[hv.Dimension("score", range=(0, 1)), "quant", "label", "detail", "emphasis", "family"],
        )
        return heat.opts(
            cmap=list(SCORE_PALETTE),
            clim=(0, 1),
            clipping_colors={"NaN": NO_DATA},
            alpha="emphasis",
            colorbar=True,
            colorbar_opts={
                "ticker": FixedTicker(ticks=[0.05, 0.5, 0.95]),
                "major_label_overrides": {0.05: "worst", 0.5: "middle", 0.95: "best"},
            },
            xaxis="top",
            invert_yaxis=True,
            tools=["hover", "tap", "box_select"],
            nonselection_alpha=1.0,
            selection_alpha=1.0,
            hover_tooltips=[
                ("Quant", "@quant (@family)"),
                ("Column", "@column"),
                ("Value", "@label"),
                ("Where from", "@detail"),
            ],
            responsive=True,
            min_height=900,
            line_color="white",
            line_width=1,
        )

    def _labels(
        self,
        user_measurements: pl.DataFrame,
        model_quality: pl.DataFrame | None = None,
        speeds: pl.DataFrame | None = None,
    ) -> hv.Labels:
        df = spectrum_frame(self.explorer, [])
        return hv.Labels(df, kdims=["column", "row"], vdims=["label", "text_colour"]).opts(
            text_font_size="8pt", text_color="text_colour"
        )

    @param.depends("explorer.user_measurements")
    def _note(self) -> pn.viewable.Viewable:
        n = self.explorer.user_measurements.height
        text = (
            f"Your first {MAX_SPECTRUM_USER_ROWS:,} of {n:,} rows are drawn here; all of them are in the quality "
            "chart and the downloaded dataset."
            if n > MAX_SPECTRUM_USER_ROWS
            else ""
        )
        return pn.pane.Markdown(text, visible=bool(text), margin=(0, 10), name="spectrum-note")

    def __panel__(self) -> pn.viewable.Viewable:
        heat = linked_dmap(self.explorer, self._make, ["user_measurements", "model_quality", "speeds"])
        labels = hv.DynamicMap(
            self._labels, streams=[hv.streams.Params(self.explorer, ["user_measurements", "model_quality", "speeds"])]
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Quantisation spectrum\nEvery quant type (rows, most bits first) scored per column from "
                "dark purple (worst of all types) to yellow (best). Size: bits per weight of the whole file; "
                "quality: the band and the expected perplexity cost for your model (~: estimated, else measured; "
                "hover for the band's range and the source); t/s: estimated generation "
                "speed of your model on your device (with a device picked; else measured on Llama-3.1-8B, hardware "
                "not stated, marked (8B)). CUDA, Metal, CPU: how close "
                "generation gets to the memory-bandwidth limit relative to the best type measured in the same "
                "run; 'slow' means a bigger type generated faster in that "
                "run (grey: no measurement). † marks legacy types. Hover a cell for the number and its source.",
                margin=(0, 10),
            ),
            self._note,
            # on phones the 7-column grid keeps a readable width and scrolls sideways inside its own box
            scroll_box(
                hv_pane(
                    (heat * labels).opts(responsive=True, min_height=900, min_width=620),
                    sizing_mode="stretch_width",
                    min_height=900,
                    min_width=620,
                    name="spectrum-heatmap",
                ),
            ),
            sizing_mode="stretch_width",
            styles={"min-width": "0"},  # the chart's own min_width must not widen the text above it
        )


class ColourAnalogy(pn.viewable.Viewer):
    """The same colour gradient stored with 16, 8, 4 and 2 bits: what fewer bits per value does."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state (unused: this view is static).")

    def __panel__(self) -> pn.viewable.Viewable:
        width = 512
        x = np.linspace(0, 1, width)
        rows = []
        for bits in (16, 8, 4, 2):
            levels = 2**bits
            q = np.floor(x * (levels - 1) + 0.5) / (levels - 1)
            rows.append(q)
        img = np.array(rows)
        image = hv.Image(img, bounds=(0, 0, 1, 4)).opts(
            cmap="viridis",
            xaxis=None,
            yticks=[(3.5, "16-bit"), (2.5, "8-bit"), (1.5, "4-bit"), (0.5, "2-bit")],
            responsive=True,
            height=180,
            toolbar=None,
            ylabel="",
            colorbar=False,
            tools=[],
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Why fewer bits cost quality\nThe same smooth gradient stored with fewer bits per value: "
                "16 and 8 bits look continuous, 4 bits shows 16 bands, 2 bits only 4. Quantising a model's "
                "weights does the same to its numbers; llama.cpp's k- and i-quants spend their bits where the "
                "banding hurts least.",
                margin=(0, 10),
            ),
            hv_pane(image, sizing_mode="stretch_width", height=180, name="colour-analogy"),
            sizing_mode="stretch_width",
        )
