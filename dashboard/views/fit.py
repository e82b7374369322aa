"""Fit views: the sweet-spots grid (view 4), the memory breakdown (view 5's neighbour, view 7)."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param
import polars as pl

from dashboard.recommend import FIT_ORDER, VRAM_SIZES_GB
from dashboard.state import CUSTOM_MODEL, Explorer, to_pandas
from dashboard.views.common import FIT_COLOURS, hv_pane, scroll_box


class SweetSpots(pn.viewable.Viewer):
    """Catalog model x VRAM: the recommended quant type in each cell, coloured by how well it fits."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(self, sweet_spots: pl.DataFrame | None = None) -> hv.HeatMap:
        grid = to_pandas(self.explorer.sweet_spots)
        grid["vram"] = grid["vram_gb"].map(lambda v: f"{v:g} GB")
        grid["fit_code"] = grid["fit"].map(FIT_ORDER.index).astype(float)
        grid["label"] = grid["quant"].where(grid["quant"] != "", "—")
        grid["total_gb"] = grid["total_gib"] * 2**30 / 1e9
        models = list(dict.fromkeys(grid["model"]))
        c = self.explorer.constraints
        heat = hv.HeatMap(
            grid,
            kdims=[
                hv.Dimension("vram", label="Memory budget", values=[f"{v:g} GB" for v in VRAM_SIZES_GB]),
                hv.Dimension("model", label="Model", values=models),
            ],
            vdims=[hv.Dimension("fit_code", range=(0, 3)), "fit", "quant", "label", "total_gb", "mean_kld"],
        ).opts(
            cmap=[FIT_COLOURS[f] for f in FIT_ORDER],
            clim=(-0.5, 3.5),
            color_levels=4,
            colorbar=False,
            tools=["hover", "tap"],
            invert_yaxis=True,
            responsive=True,
            min_height=520,
            line_color="white",
            hover_tooltips=[
                ("Model", "@model"),
                ("Budget", "@vram"),
                ("Recommended", "@label"),
                ("Fit", "@fit"),
                ("Needs", "@total_gb{0.0} GB"),
                ("Mean KLD", "@mean_kld{0.000}"),
            ],
            title=f"Best type per cell at {c.context:,} tokens, {c.kv_cache} KV cache, priority {c.priority}",
            xaxis="top",
        )
        labels = hv.Labels(grid, kdims=["vram", "model"], vdims=["label"]).opts(
            text_font_size="8pt", text_color="#1A1A1A"
        )
        return heat * labels

    def __panel__(self) -> pn.viewable.Viewable:
        dmap = hv.DynamicMap(self._make, streams=[hv.streams.Params(self.explorer, ["sweet_spots"])])
        tap = hv.streams.Tap(source=dmap, x=None, y=None)

        def on_tap(x: str | None, y: str | None) -> None:
            if x is None or y is None:
                return
            with param.parameterized.batch_call_watchers(self.explorer.constraints):
                self.explorer.constraints.model = y
                self.explorer.constraints.vram_gb = float(str(x).removesuffix(" GB"))

        tap.add_subscriber(on_tap)
        legend = pn.pane.HTML(
            " ".join(
                f'<span style="display:inline-block;width:12px;height:12px;background:{FIT_COLOURS[f]};'
                f'border:1px solid #888;margin:0 4px 0 10px"></span>{f}'
                for f in FIT_ORDER
            ),
            margin=(0, 10),
        )
        self._tap = tap
        return pn.Column(
            pn.pane.Markdown(
                "### Sweet spots\nEvery catalog model against common memory sizes, computed by the memory model "
                "at your context and KV-cache type with the recommender's own rules. Click a cell to use it.",
                margin=(0, 10),
            ),
            legend,
            scroll_box(
                hv_pane(dmap, sizing_mode="stretch_width", min_height=520, min_width=560, name="sweet-spots"),
            ),
            sizing_mode="stretch_width",
        )


class MemoryBreakdown(pn.viewable.Viewer):
    """Weights, KV cache and buffers of the recommendation and its neighbours, against the budget line."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(self, memory_breakdown: pl.DataFrame | None = None, vram_gb: float | None = None) -> hv.Overlay:
        df = to_pandas(self.explorer.memory_breakdown)
        df["gb"] = df["gib"] * 2**30 / 1e9
        order = list(dict.fromkeys(df["quant"]))
        bars = hv.Bars(
            df,
            kdims=[hv.Dimension("quant", label="Quant type", values=order), "part"],
            vdims=[hv.Dimension("gb", label="Memory (GB)")],
        ).opts(
            stacked=True,
            xrotation=30,
            cmap=["#0072B2", "#E69F00", "#999999"],
            tools=["hover"],
            responsive=True,
            height=320,
            hover_tooltips=[("Quant", "@quant"), ("Part", "@part"), ("Size", "@gb{0.00} GB")],
            legend_position="top",
            legend_cols=3,
        )
        budget = self.explorer.constraints.vram_gb
        top = max(budget, float(df.groupby("quant")["gb"].sum().max())) * 1.1
        line = hv.HLine(budget).opts(color="#D55E00", line_width=2, line_dash="dashed")
        return (bars * line).opts(
            title=f"Memory needed (recommended first); dashed: your {budget:g} GB", show_legend=True, ylim=(0, top)
        )

    def __panel__(self) -> pn.viewable.Viewable:
        dmap = hv.DynamicMap(
            self._make,
            streams=[
                hv.streams.Params(self.explorer, ["memory_breakdown"]),
                hv.streams.Params(self.explorer.constraints, ["vram_gb"]),
            ],
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Memory breakdown\nWhat llama.cpp allocates: the GGUF weights (its real quant mix), the KV "
                "cache at your context, and the compute and output buffers. Dashed line: your memory budget.",
                margin=(0, 10),
            ),
            hv_pane(dmap, sizing_mode="stretch_width", height=320, name="memory-breakdown"),
            sizing_mode="stretch_width",
        )


def options_table(explorer: Explorer) -> pd.DataFrame:
    """Every candidate for the current constraints, for the table view (decimal GB for display)."""
    df = to_pandas(explorer.options)
    for col in ("total_gib", "weights_gib", "kv_cache_gib", "overhead_gib", "free_gib"):
        df[col.replace("_gib", "_gb")] = (df[col] * 2**30 / 1e9).round(2)
    return df[
        [
            "quant",
            "family",
            "fit",
            "total_gb",
            "weights_gb",
            "kv_cache_gb",
            "overhead_gb",
            "free_gb",
            "mean_kld",
            "quality_band",
            "speed_verdict",
        ]
    ]


__all__ = ["CUSTOM_MODEL", "MemoryBreakdown", "SweetSpots", "options_table"]
