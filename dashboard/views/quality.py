"""Quality views: perplexity/KLD vs size (view 1) and quality bars with the compression line (view 2)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import polars as pl

from dashboard.memory import gib_to_gb
from dashboard.quality import cost_band_limits
from dashboard.quants import QUALITY_BANDS
from dashboard.state import Explorer, to_pandas
from dashboard.views.common import FAMILY_COLOURS, TOOLS, emphasis, hv_pane, linked_dmap

METRICS = {
    "Cost, your model (%)": "ppl_increase_pct",
    "KLD, Llama-3-8B": "mean_kld",
    "ΔPPL, Llama-3-8B": "delta_perplexity",
}
# measured costs are circles, estimated ones triangles; your own rows diamonds
MARKERS = {"measured": "circle", "estimated": "triangle"}


def quality_points(explorer: Explorer) -> pl.DataFrame:
    """Quant types with a quality measurement, joined with their size and expected cost for the current model."""
    q = explorer.quants.filter(pl.col("mean_kld").is_not_null())
    sizes = explorer.model_sizes
    cost = explorer.model_quality.select(
        "quant", "ppl_increase_pct", "low_pct", "high_pct", pl.col("basis").alias("cost_basis"), "basis_kind"
    )
    out = q.join(sizes, on="quant", how="left").join(cost, on="quant", how="left")
    f16 = q.filter(pl.col("quant") == "F16")["perplexity_plain"]
    f16_ppl = float(f16[0]) if f16.len() else float("nan")
    return out.with_columns(
        pl.format("{} (Llama-3-8B scoreboard, llama.cpp tools/perplexity/README.md)", pl.col("quality_basis")).alias(
            "quality_source"
        ),
        pl.lit(f16_ppl).alias("f16_perplexity"),
        pl.when(pl.col("legacy")).then(pl.lit("legacy")).otherwise(pl.lit("")).alias("legacy_note"),
    )


class QualityScatter(pn.viewable.Viewer):
    """Perplexity change or mean KLD against file size, one point per quant type, with quality bands."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")
    metric = param.Selector(default="Cost, your model (%)", objects=list(METRICS), doc="Quality measure on the y axis.")

    def _make(
        self,
        model_sizes: pl.DataFrame,
        selected_quants: list[str],
        metric: str,
        user_measurements: pl.DataFrame,
        model_quality: pl.DataFrame | None = None,
    ) -> hv.Scatter:
        df = to_pandas(quality_points(self.explorer))
        df["origin"] = "built-in"
        user = user_measurements.filter(pl.col("file_size_gib").is_not_null())
        if user.height:
            mine = to_pandas(user)
            mine = mine.assign(
                weights_gib=mine["file_size_gib"],
                family="user",
                quality_band="yours",
                origin="yours",
                file_bits_per_weight=float("nan"),
                legacy_note="yours: " + mine["model"],
                quality_source=mine["source"],
                cost_basis=mine["source"],
                basis_kind="yours",
                # your perplexity cost over your own F16 row: perplexity minus ΔPPL is that F16 perplexity
                ppl_increase_pct=100 * mine["delta_perplexity"] / (mine["perplexity"] - mine["delta_perplexity"]),
            )
            df = pd.concat([df, mine[[c for c in mine.columns if c in df.columns]]], ignore_index=True)
        y = METRICS[metric]
        df = df[df[y] > 0].copy()
        df["emphasis"] = emphasis(df["quant"], selected_quants).to_numpy()
        df["colour"] = df["family"].map(FAMILY_COLOURS).fillna("#555555")
        mine = df["origin"] == "yours"
        # the user's diamonds are bigger than the built-in points and drawn last, on top of them
        df["size"] = np.where(df["quant"].isin(selected_quants), 14, 9) + np.where(mine, 6, 0)
        df["marker"] = df["basis_kind"].map(MARKERS).fillna("circle") if y == "ppl_increase_pct" else "circle"
        df.loc[mine, "marker"] = "diamond"
        df["kind"] = [f"{f}, {n}" if n else f for f, n in zip(df["family"], df["legacy_note"], strict=True)]
        df["weights_gb"] = gib_to_gb(df["weights_gib"])  # decimal GB, like every size on the page
        df = df.sort_values("origin", key=lambda o: o == "yours", kind="stable")
        model = self.explorer.recommendation.constraints.model
        name = model if isinstance(model, str) else model.name
        return hv.Scatter(
            df,
            kdims=[hv.Dimension("weights_gb", label=f"File size for {name} (GB)")],
            vdims=[
                hv.Dimension(y, label=metric),
                "quant",
                "family",
                "mean_kld",
                "delta_perplexity",
                "ppl_increase_pct",
                "low_pct",
                "high_pct",
                "cost_basis",
                "quality_band",
                "file_bits_per_weight",
                "quality_source",
                "legacy_note",
                "kind",
                "weights_gib",
                "emphasis",
                "colour",
                "size",
                "marker",
                "origin",
            ],
        ).opts(
            color="colour",
            alpha="emphasis",
            size="size",
            marker="marker",
            line_color="black",
            logy=True,
            nonselection_alpha=1.0,
            selection_alpha=1.0,
            tools=TOOLS,
            hover_tooltips=[
                ("Quant", "@quant (@kind)"),
                ("File size", "@weights_gb{0.00} GB"),
                ("Bits per weight", "@file_bits_per_weight{0.00} (Llama-3.1-8B file)"),
                (
                    "Cost, your model",
                    "+@ppl_increase_pct{0.00}% perplexity (band +@low_pct{0.00}% to +@high_pct{0.00}%)",
                ),
                ("Cost basis", "@cost_basis"),
                ("Mean KLD (Llama-3-8B)", "@mean_kld{0.0000} nats"),
                ("ΔPPL (Llama-3-8B)", "@delta_perplexity{+0.0000}"),
                ("KLD source", "@quality_source"),
            ],
        )

    def _bands(self, metric: str) -> hv.Overlay:
        if METRICS[metric] == "ppl_increase_pct":
            limits = dict(cost_band_limits())
            ideal, acceptable, floor = limits["good"], limits["acceptable"], 1e-2
        elif METRICS[metric] == "mean_kld":
            ideal, acceptable, floor = dict(QUALITY_BANDS)["good"], dict(QUALITY_BANDS)["acceptable"], 1e-4
        else:
            f16 = quality_points(self.explorer)["f16_perplexity"][0]
            ideal, acceptable, floor = 0.01 * f16, 0.05 * f16, 1e-3
        labels = {"x": "File size for your model (GB)", "y": f"{metric}, log scale"}
        return hv.HSpan(floor, ideal).redim.label(**labels).opts(color="#009E73", alpha=0.12) * hv.HSpan(
            ideal, acceptable
        ).redim.label(**labels).opts(color="#F0E442", alpha=0.18)

    def __panel__(self) -> pn.viewable.Viewable:
        metric_stream = hv.streams.Params(self, ["metric"])
        points = linked_dmap(
            self.explorer, self._make, ["model_sizes", "user_measurements", "model_quality"], extra=[metric_stream]
        )
        bands = hv.DynamicMap(self._bands, streams=[metric_stream])
        chart = (bands * points).opts(
            hv.opts.Overlay(responsive=True, height=420, title="Quality vs file size", show_legend=False),
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Quality vs size\nEach point is a quant type: its expected perplexity cost for your model "
                "(circles measured, triangles estimated; hover for the band and the source) against its file size "
                "for your model. Mean KLD and ΔPPL are Llama-3-8B's measurements (the only model measured in KLD). "
                "Green band: good; yellow: acceptable (the dashboard's KLD bands, in perplexity for the cost). "
                "Click points or drag a box to select quant types; the selection is highlighted in every chart.",
                margin=(0, 10),
            ),
            pn.widgets.RadioButtonGroup.from_param(
                self.param.metric,
                color="light",
                margin=(0, 10),
                sizing_mode="stretch_width",
                # three long labels: on a phone they wrap instead of widening the page
                stylesheets=[".bk-btn-group { flex-wrap: wrap; } .bk-btn-group > .bk-btn { flex: 1 1 auto; }"],
            ),
            hv_pane(chart, sizing_mode="stretch_width", height=420, name="quality-scatter"),
            sizing_mode="stretch_width",
        )


class QualityBars(pn.viewable.Viewer):
    """Quality kept (% of F16 perplexity) as bars, compression ratio as a line, 95% and 99% reference lines."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(self, selected_quants: list[str], model_quality: pl.DataFrame | None = None) -> hv.Bars:
        cost = self.explorer.model_quality.select(
            "quant", "ppl_increase_pct", "low_pct", "high_pct", "basis_kind", pl.col("basis").alias("cost_basis")
        )
        q = self.explorer.quants.filter(pl.col("mean_kld").is_not_null()).join(cost, on="quant", how="left")
        # the chosen model's F16 perplexity over its expected perplexity at the type
        q = q.with_columns(
            (100 / (1 + pl.col("ppl_increase_pct") / 100)).alias("quality_pct"),
            (16 / pl.col("file_bits_per_weight")).alias("compression_ratio"),
        ).sort("file_bits_per_weight", descending=True)
        df = to_pandas(q)
        df["emphasis"] = emphasis(df["quant"], selected_quants).to_numpy()
        df["colour"] = df["family"].map(FAMILY_COLOURS).fillna("#555555")
        bars = hv.Bars(
            df,
            kdims=[hv.Dimension("quant", label="Quant type")],
            vdims=[
                hv.Dimension("quality_pct", label="Quality kept (% of F16 perplexity)", range=(0, 105)),
                "compression_ratio",
                "family",
                "ppl_increase_pct",
                "low_pct",
                "high_pct",
                "basis_kind",
                "cost_basis",
                "emphasis",
                "colour",
            ],
        ).opts(
            color="colour",
            alpha="emphasis",
            xrotation=60,
            nonselection_alpha=1.0,
            selection_alpha=1.0,
            tools=["hover", "tap", "box_select"],
            hover_tooltips=[
                ("Quant", "@quant"),
                ("Quality kept", "@quality_pct{0.0}% (@basis_kind)"),
                ("Cost", "+@ppl_increase_pct{0.00}% perplexity (band +@low_pct{0.00}% to +@high_pct{0.00}%)"),
                ("Compression", "@compression_ratio{0.0}× vs F16"),
                ("Basis", "@cost_basis"),
            ],
        )
        return bars

    def _line(self) -> hv.Overlay:
        """The compression line, with hvPlot on the (pandas) frame."""
        import hvplot.pandas  # noqa: F401  (registers the .hvplot accessor)

        q = self.explorer.quants.filter(pl.col("mean_kld").is_not_null()).sort("file_bits_per_weight", descending=True)
        df = pd.DataFrame(
            {"quant": q["quant"].to_numpy(), "compression_ratio": (16 / q["file_bits_per_weight"]).to_numpy()}
        )
        style = {"x": "quant", "y": "compression_ratio", "color": "#D55E00", "ylabel": "Compression vs F16 (×)"}
        return df.hvplot.line(line_width=2, hover_cols=["quant"], **style) * df.hvplot.scatter(size=30, **style)

    def __panel__(self) -> pn.viewable.Viewable:
        bars = linked_dmap(self.explorer, self._make, ["model_quality"])
        refs = hv.HLine(99).opts(color="#009E73", line_dash="dashed") * hv.HLine(95).opts(
            color="#E69F00", line_dash="dashed"
        )
        quality = (bars * refs).opts(
            responsive=True, height=320, title="Quality kept (bars; dashed: 99% and 95%)", show_legend=False
        )
        compression = self._line().opts(responsive=True, height=220, xrotation=60, title="Compression vs F16 (line)")
        return pn.Column(
            pn.pane.Markdown(
                "### Quality vs compression\nBars: your model's perplexity at F16 ÷ its expected perplexity at the "
                "quant (measured or estimated, see the hover), so 100% is lossless. Line: how many times smaller "
                "than F16 the file is.",
                margin=(0, 10),
            ),
            hv_pane(quality, sizing_mode="stretch_width", height=320, name="quality-bars"),
            hv_pane(compression, sizing_mode="stretch_width", height=220, name="compression-line"),
            sizing_mode="stretch_width",
        )
