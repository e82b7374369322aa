"""Quality views: perplexity/KLD vs size (view 1) and quality bars with the compression line (view 2)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import polars as pl

from dashboard.frames import band_limits, quality_kept, quality_points
from dashboard.quality import cost_band_limits
from dashboard.quants import QUALITY_REFERENCE_MODEL
from dashboard.state import Explorer, to_pandas
from dashboard.views.common import (
    FAMILY_COLOURS,
    TOOLS,
    choice_buttons,
    emphasis,
    family_legend,
    hv_pane,
    linked_dmap,
)

METRICS = {
    "Cost, your model (%)": "ppl_increase_pct",
    "KLD, Llama-3-8B": "mean_kld",
    "ΔPPL, Llama-3-8B": "delta_perplexity",
}
QUANT_AXIS = hv.Dimension("quant", label="Quant type")
COMPRESSION_AXIS = hv.Dimension("compression_vs_f16", label="× smaller than F16")
COMPRESSION_COLOUR = "#D55E00"
# measured costs are circles, estimated ones triangles; your own rows diamonds
MARKERS = {"measured": "circle", "estimated": "triangle"}
# the shaded bands start here: below every measured value of the metric, so the band reaches the axis bottom
LOG_AXIS_FLOOR = {"ppl_increase_pct": 1e-2, "mean_kld": 1e-4, "delta_perplexity": 1e-3}
BAND_COLOURS = {"good": "#009E73", "acceptable": "#F0E442"}
LINE_COLOURS = {"good": "#009E73", "acceptable": "#E69F00"}  # the yellow of a band is too faint as a line


def drawn_families(explorer: Explorer) -> list[str]:
    """The quant families of the types with a quality measurement (the ones the quality charts draw)."""
    return list(explorer.quants.filter(pl.col("mean_kld").is_not_null())["family"].unique())


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
        model_quality: pl.DataFrame,
    ) -> hv.Scatter:
        df = to_pandas(quality_points(self.explorer.quants, model_sizes, user_measurements, model_quality))
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
                    "+@ppl_increase_pct{0.00}% perplexity (range +@low_pct{0.00}% to +@high_pct{0.00}%)",
                ),
                ("Cost basis", "@cost_basis"),
                ("Mean KLD (Llama-3-8B)", "@mean_kld{0.0000} nats"),
                ("ΔPPL (Llama-3-8B)", "@delta_perplexity{+0.0000}"),
                ("KLD source", "@quality_source"),
            ],
        )

    def _bands(self, metric: str) -> hv.Overlay:
        limits = band_limits(METRICS[metric])
        floor = LOG_AXIS_FLOOR[METRICS[metric]]
        labels = {"x": "File size for your model (GB)", "y": f"{metric}, log scale"}
        return hv.HSpan(floor, limits["good"]).redim.label(**labels).opts(color=BAND_COLOURS["good"], alpha=0.12) * (
            hv.HSpan(limits["good"], limits["acceptable"])
            .redim.label(**labels)
            .opts(color=BAND_COLOURS["acceptable"], alpha=0.18)
        )

    def __panel__(self) -> pn.viewable.Viewable:
        metric_stream = hv.streams.Params(self, ["metric"])
        points = linked_dmap(
            self.explorer, self._make, ["model_sizes", "user_measurements", "model_quality"], extra=[metric_stream]
        )
        bands = hv.DynamicMap(self._bands, streams=[metric_stream])
        chart = (bands * points).opts(
            hv.opts.Overlay(responsive=True, height=420, title="Quality vs file size", show_legend=False),
        )
        kld, increase = band_limits("mean_kld"), dict(cost_band_limits())
        return pn.Column(
            pn.pane.Markdown(
                "### Quality vs size\nEach point is a quant type: its expected perplexity cost for your model "
                "(circles measured, triangles estimated; hover for the band and the source) against its file size "
                f"for your model. Mean KLD and ΔPPL are {QUALITY_REFERENCE_MODEL}'s measurements (the only model "
                f"measured in KLD). Green band: good (KLD <= {kld['good']:g}, perplexity +{increase['good']:.1f}%); "
                f"yellow: acceptable (KLD <= {kld['acceptable']:g}, +{increase['acceptable']:.1f}%; in perplexity a "
                "band ends at the largest increase of a type inside it on the scoreboard). Click points or drag a "
                "box to select quant types; the selection is highlighted in every chart.",
                margin=(0, 10),
            ),
            choice_buttons(
                self.param.metric,
                color="light",
                margin=(0, 10),
                sizing_mode="stretch_width",
                # three long labels: on a phone they wrap instead of widening the page
                stylesheets=[".bk-btn-group { flex-wrap: wrap; } .bk-btn-group > .bk-btn { flex: 1 1 auto; }"],
            ),
            hv_pane(chart, sizing_mode="stretch_width", height=420, name="quality-scatter"),
            family_legend([*drawn_families(self.explorer), "user"], "quality-scatter", marker="circle"),
            sizing_mode="stretch_width",
        )


class QualityBars(pn.viewable.Viewer):
    """Quality kept (% of F16 perplexity) as bars with the good/acceptable band edges, compression as a line."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(self, selected_quants: list[str], model_quality: pl.DataFrame) -> hv.Bars:
        df = to_pandas(quality_kept(self.explorer.quants, model_quality))
        df["emphasis"] = emphasis(df["quant"], selected_quants).to_numpy()
        df["colour"] = df["family"].map(FAMILY_COLOURS).fillna("#555555")
        bars = hv.Bars(
            df,
            kdims=[hv.Dimension("quant", label="Quant type")],
            vdims=[
                hv.Dimension("quality_kept_pct", label="Quality kept (% of F16 perplexity)", range=(0, 105)),
                "compression_vs_f16",
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
                ("Quality kept", "@quality_kept_pct{0.0}% (@basis_kind)"),
                ("Cost", "+@ppl_increase_pct{0.00}% perplexity (range +@low_pct{0.00}% to +@high_pct{0.00}%)"),
                ("Compression", "@compression_vs_f16{0.0}× vs F16"),
                ("Basis", "@cost_basis"),
            ],
        )
        return bars

    def _line_frame(self, selected_quants: list[str]) -> pd.DataFrame:
        kept = quality_kept(self.explorer.quants, self.explorer.model_quality)
        df = to_pandas(kept.select("quant", "compression_vs_f16"))
        df["emphasis"] = emphasis(df["quant"], selected_quants).to_numpy()
        return df

    def _points(self, selected_quants: list[str]) -> hv.Scatter:
        """The compression line's points: they take part in the shared selection like the bars above."""
        return hv.Scatter(self._line_frame(selected_quants), QUANT_AXIS, [COMPRESSION_AXIS, "emphasis"]).opts(
            color=COMPRESSION_COLOUR,
            size=7,
            alpha="emphasis",
            tools=["hover", "tap", "box_select"],
            hover_tooltips=[("Quant", "@quant"), ("File", "@compression_vs_f16{0.0}× smaller than F16")],
        )

    def _line(self) -> hv.Curve:
        """The compression line, with hvPlot on the (pandas) frame; the points and their hover are ``_points``."""
        import hvplot.pandas  # noqa: F401  (registers the .hvplot accessor)

        curve = self._line_frame([]).hvplot.line(
            x="quant", y="compression_vs_f16", color=COMPRESSION_COLOUR, line_width=2, hover=False
        )
        return curve.redim(quant=QUANT_AXIS, compression_vs_f16=COMPRESSION_AXIS)

    def __panel__(self) -> pn.viewable.Viewable:
        bars = linked_dmap(self.explorer, self._make, ["model_quality"])
        limits = band_limits("quality_kept_pct")
        refs = hv.Overlay(
            [hv.HLine(limits[b]).opts(color=LINE_COLOURS[b], line_dash="dashed") for b in ("good", "acceptable")]
        )
        title = "Quality kept (dashed: band edges)"  # short: a Bokeh title does not wrap on a phone
        quality = (bars * refs).opts(responsive=True, height=320, title=title, show_legend=False)
        points = linked_dmap(self.explorer, self._points, [])
        compression = (self._line() * points).opts(
            responsive=True, height=240, xrotation=60, title="File size: times smaller than F16"
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Quality vs compression\nBars: your model's perplexity at F16 ÷ its expected perplexity at the "
                "quant (measured or estimated, see the hover), so 100% is lossless; dashed: the good "
                f"({limits['good']:.0f}%) and acceptable ({limits['acceptable']:.0f}%) band edges. Line: how many "
                "times smaller than F16 the file is.",
                margin=(0, 10),
            ),
            hv_pane(quality, sizing_mode="stretch_width", height=320, name="quality-bars"),
            family_legend(drawn_families(self.explorer), "quality-bars"),
            hv_pane(compression, sizing_mode="stretch_width", height=240, name="compression-line"),
            sizing_mode="stretch_width",
        )
