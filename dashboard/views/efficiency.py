"""Efficiency across model sizes (view 5): perplexity added per GB saved, as lines and as log-scale bars."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import polars as pl

from dashboard.frames import efficiency_points
from dashboard.state import Explorer, to_pandas
from dashboard.views.common import DIMMED_ALPHA, hv_pane, legend, linked_dmap

LINE_QUANTS = ("Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0")
QUANT_COLOURS = dict(
    zip(LINE_QUANTS, ["#D55E00", "#E69F00", "#999999", "#0072B2", "#56B4E9", "#009E73", "#7570B3"], strict=True)
)

# the bars' colour per model (the published tables' models by their short label; the user's in turn)
MODEL_COLOURS = {"L1 7B": "#0072B2", "L3 8B": "#E69F00", "L1 13B": "#009E73", "L2 70B": "#CC79A7"}
USER_MODEL_COLOURS = ("#D55E00", "#56B4E9", "#7570B3", "#999999")


# short axis labels for the published tables' models
MODEL_LABELS = {"LLaMA-v1-7B": "L1 7B", "Llama-3-8B": "L3 8B", "LLaMA-v1-13B": "L1 13B", "Llama-2-70B": "L2 70B"}
# a long model name of the user's must not take the axis over: the label keeps this many characters, the tooltip
# the whole name
USER_LABEL_CHARS = 12


def _model_label() -> pl.Expr:
    """The axis label: a published model's short name; a user's model cut to ``USER_LABEL_CHARS``, "(yours)" kept."""
    name = pl.col("model").str.strip_suffix(" (yours)")
    cut = pl.when(name.str.len_chars() > USER_LABEL_CHARS).then(name.str.slice(0, USER_LABEL_CHARS - 1) + "…")
    return (
        pl.when(pl.col("table") == "yours")
        .then(cut.otherwise(name) + " (yours)")
        .otherwise(pl.col("model").replace(MODEL_LABELS))
    )


def _drawn(user: pl.DataFrame | None, selected: list[str]) -> pl.DataFrame:
    """The domain's efficiency frame with a short model label and the selection's emphasis (presentation only)."""
    emphasis = (
        pl.lit(1.0) if not selected else pl.when(pl.col("quant").is_in(selected)).then(1.0).otherwise(DIMMED_ALPHA)
    )
    return efficiency_points(user).with_columns(_model_label().alias("model_label"), emphasis.alias("emphasis"))


def _hide_inner_factor_labels(plot: object, element: object) -> None:
    axis = plot.state.xaxis[0]
    axis.major_label_text_font_size = "0pt"
    axis.group_label_orientation = 0.6  # radians: "Q4_K_M" and "Q5_K_M" ran together side by side


class EfficiencyCharts(pn.viewable.Viewer):
    """How much perplexity each GB of savings costs, for models from 7B to 70B."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _points(self, selected_quants: list[str], user_measurements: pl.DataFrame) -> hv.Scatter:
        frame = _drawn(user_measurements, selected_quants)
        df = to_pandas(frame.filter(pl.col("quant").is_in(LINE_QUANTS) | (pl.col("table") == "yours")))
        df["colour"] = df["quant"].map(QUANT_COLOURS).fillna("#D55E00")
        return hv.Scatter(
            df,
            kdims=[hv.Dimension("f16_size_gb", label="Model size (F16 file, GB)")],
            vdims=[
                hv.Dimension("pct_per_gb_saved", label="% perplexity added per GB saved"),
                "quant",
                "model",
                "perplexity_added_pct",
                "gb_saved",
                "table",
                "emphasis",
                "colour",
            ],
        ).opts(
            color="colour",
            alpha="emphasis",
            size=9,
            line_color="black",
            logx=True,
            logy=True,
            tools=["hover", "tap", "box_select"],
            nonselection_alpha=1.0,
            selection_alpha=1.0,
            hover_tooltips=[
                ("Quant", "@quant"),
                ("Model", "@model"),
                ("Perplexity added", "@perplexity_added_pct{0.00}%"),
                ("Saved", "@gb_saved{0.0} GB"),
                ("Per GB", "@pct_per_gb_saved{0.000}%/GB"),
                ("Table", "@table"),
            ],
        )

    def _lines(self, selected_quants: list[str]) -> hv.Overlay:
        df = _drawn(None, selected_quants)
        curves = []
        for q in LINE_QUANTS:
            sub = df.filter(pl.col("quant") == q).sort("f16_size_gb")
            if sub.height < 2:
                continue
            alpha = float(sub["emphasis"][0])
            curves.append(
                hv.Curve(
                    to_pandas(sub),
                    hv.Dimension("f16_size_gb", label="Model size (F16 file, GB)"),
                    hv.Dimension("pct_per_gb_saved", label="% perplexity added per GB saved"),
                    label=q,
                ).opts(color=QUANT_COLOURS[q], alpha=alpha, line_width=2, show_legend=False)
            )
        return hv.Overlay(curves)

    def _bar_frame(self, selected_quants: list[str], user_measurements: pl.DataFrame | None) -> pd.DataFrame:
        """The bars' rows, in drawing order, with their model's colour."""
        frame = _drawn(user_measurements, selected_quants).filter(
            pl.col("quant").is_in(LINE_QUANTS) | (pl.col("table") == "yours")
        )
        # grouped bars are drawn group by group (model); keep the data in that order so that a selected
        # bar's index maps back to its row
        df = to_pandas(frame.sort("f16_size_gb", "quant"))
        # log bars grow up from the axis floor (HoloViews takes it from the dimension's range). A type that
        # measured no worse than F16 (a user's Q8_0 often does) has no cost to draw: its bar stays at the floor,
        # and the tooltip gives its value. Without this, one such row made the floor NaN and emptied the chart.
        positive = df["pct_per_gb_saved"] > 0
        floor = 10 ** np.floor(np.log10(df.loc[positive, "pct_per_gb_saved"].min())) if positive.any() else 1e-3
        df["per_gb_label"] = [
            f"{v:.3f}%/GB" if ok else "no cost (no worse than F16)"
            for v, ok in zip(df["pct_per_gb_saved"], positive, strict=True)
        ]
        df["pct_per_gb_saved"] = df["pct_per_gb_saved"].where(positive, floor)
        users = [m for m in dict.fromkeys(df["model_label"]) if m not in MODEL_COLOURS]
        colours = {**MODEL_COLOURS, **{m: USER_MODEL_COLOURS[i % len(USER_MODEL_COLOURS)] for i, m in enumerate(users)}}
        df["colour"] = df["model_label"].map(colours)
        return df

    @staticmethod
    def _model_order(df: pd.DataFrame) -> list[str]:
        return list(dict.fromkeys(df.sort_values("f16_size_gb", kind="stable")["model_label"]))

    def bar_legend(self, user_measurements: pl.DataFrame | None = None) -> pn.pane.HTML:
        """Which model each bar colour is (the short axis label and the model's full name)."""
        df = self._bar_frame([], user_measurements).sort_values("f16_size_gb", kind="stable")
        df = df.drop_duplicates("model_label")
        entries = [
            (label if model.endswith("(yours)") else f"{label}: {model}", colour)
            for label, model, colour in zip(df["model_label"], df["model"], df["colour"], strict=True)
        ]
        return legend(entries, "efficiency-bars")

    def _bars(self, selected_quants: list[str], user_measurements: pl.DataFrame) -> hv.Bars:
        df = self._bar_frame(selected_quants, user_measurements)
        floor = 10 ** np.floor(np.log10(df["pct_per_gb_saved"].min()))  # the floor _bar_frame put at zero costs
        return hv.Bars(
            df,
            kdims=[
                hv.Dimension("quant", label="Quant type"),
                # within a group, the bars in the legend's order: smallest model first
                hv.Dimension("model_label", label="Model", values=self._model_order(df)),
            ],
            vdims=[
                hv.Dimension("pct_per_gb_saved", label="% perplexity per GB saved (log)", range=(floor, None)),
                "emphasis",
                "perplexity_added_pct",
                "gb_saved",
                "model",
                "per_gb_label",
                "colour",
            ],
        ).opts(
            logy=True,
            color="colour",
            alpha="emphasis",
            xlabel="Quant type (bars: models, see the legend)",
            tools=["hover", "tap"],
            nonselection_alpha=1.0,
            selection_alpha=1.0,
            show_legend=False,
            # the legend names the models: the axis keeps the quant types only
            hooks=[_hide_inner_factor_labels],
            hover_tooltips=[
                ("Quant", "@quant"),
                ("Model", "@model"),
                ("Perplexity added", "@perplexity_added_pct{0.00}%"),
                ("Per GB saved", "@per_gb_label"),
            ],
        )

    def __panel__(self) -> pn.viewable.Viewable:
        points = linked_dmap(self.explorer, self._points, ["user_measurements"])
        lines = hv.DynamicMap(self._lines, streams=[hv.streams.Params(self.explorer, ["selected_quants"])])
        line_chart = (lines * points).opts(
            hv.opts.Overlay(
                responsive=True,
                height=360,
                # the legend is under the chart (HTML, it wraps): beside it, it took half a phone's width
                show_legend=False,
                # room at both ends: the last points sat on the frame's edge
                padding=(0.12, 0.1),
                title="Cost per GB saved, by model size",  # short: a title does not wrap on a phone
            )
        )
        bars = linked_dmap(self.explorer, self._bars, ["user_measurements"])
        return pn.Column(
            pn.pane.Markdown(
                "### Efficiency across model sizes\nPerplexity added (% of the model's own F16 perplexity) for "
                "each GB a quant type saves, from published tables with their own F16 baseline (LLaMA v1 7B/13B, "
                "Llama 3 8B, Llama 2 70B). Lower is better; big models pay far less per GB. The "
                "rise from LLaMA v1 7B to Llama 3 8B compares two model families, not only two sizes.",
                margin=(0, 10),
            ),
            hv_pane(line_chart, sizing_mode="stretch_width", height=360, name="efficiency-lines"),
            legend([(q, QUANT_COLOURS[q]) for q in LINE_QUANTS], "efficiency-lines", marker="line"),
            hv_pane(
                bars.opts(responsive=True, height=380), sizing_mode="stretch_width", height=380, name="efficiency-bars"
            ),
            pn.bind(self.bar_legend, self.explorer.param.user_measurements),
            sizing_mode="stretch_width",
        )
