"""Fit views: the sweet-spots grid (view 4), the memory breakdown (view 5's neighbour, view 7)."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param
import polars as pl
from bokeh.models import ColumnDataSource, FactorRange, HoverTool, Range1d, Span
from bokeh.plotting import figure

from dashboard.frames import BREAKDOWN_PARTS, breakdown_bars_gb, sweet_spot_cells, vram_label
from dashboard.recommend import FIT_ORDER, VRAM_SIZES_GB
from dashboard.state import Explorer, to_pandas
from dashboard.views.common import (
    DIMMED_ALPHA,
    FIT_COLOURS,
    TOOLBAR_LOCATION,
    emphasis,
    hv_pane,
    scroll_box,
    writes_bokeh_models,
)


class SweetSpots(pn.viewable.Viewer):
    """Catalog model x VRAM: the recommended quant type in each cell, coloured by how well it fits."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _grid(self, selected_quants: list[str] | None = None) -> pd.DataFrame:
        grid = to_pandas(sweet_spot_cells(self.explorer.sweet_spots))
        # linked highlighting: a cell keeps full strength when its type (the last word of the "best model"
        # row's "<model> <type>") is selected
        grid["emphasis"] = emphasis(grid["quant"].str.split(" ").str[-1], selected_quants or []).to_numpy()
        return grid

    def _make(self, sweet_spots: pl.DataFrame | None = None, selected_quants: list[str] | None = None) -> hv.HeatMap:
        grid = self._grid(selected_quants)
        models = list(dict.fromkeys(grid["model"]))
        c = self.explorer.constraints
        heat = hv.HeatMap(
            grid,
            kdims=[
                hv.Dimension("vram", label="Memory budget", values=[vram_label(v) for v in VRAM_SIZES_GB]),
                hv.Dimension("model", label="Model", values=models),
            ],
            vdims=[
                hv.Dimension("fit_code", range=(0, 3)),
                "fit",
                "quant",
                "label",
                "total_gb",
                "ppl_increase_pct",
                "quality_band",
                "basis_kind",
                "emphasis",
            ],
        ).opts(
            alpha="emphasis",
            selection_alpha="emphasis",
            nonselection_alpha="emphasis",
            cmap=[FIT_COLOURS[f] for f in FIT_ORDER],
            clim=(-0.5, 3.5),
            color_levels=4,
            colorbar=False,
            tools=["hover", "tap"],
            invert_yaxis=True,
            responsive=True,
            min_height=620,
            line_color="white",
            hover_tooltips=[
                ("Model", "@model"),
                ("Budget", "@vram"),
                ("Recommended", "@label"),
                ("Fit", "@fit"),
                ("Needs", "@total_gb{0.0} GB"),
                ("Quality cost", "+@ppl_increase_pct{0.0}% perplexity (@basis_kind; @quality_band)"),
            ],
            title=f"At {c.context:,} tokens, {c.kv_cache} KV cache, priority {c.priority}",
            xaxis="top",
        )
        return heat

    def _labels(self, sweet_spots: pl.DataFrame | None = None) -> hv.Labels:
        return hv.Labels(self._grid(), kdims=["vram", "model"], vdims=["label"]).opts(
            # 7 pt: "IQ3_XXS" and "Q4_K_M" in neighbouring 40 px cells ran together at 8 pt
            text_font_size="7pt",
            text_color="#1A1A1A",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        dmap = hv.DynamicMap(self._make, streams=[hv.streams.Params(self.explorer, ["sweet_spots", "selected_quants"])])
        labels = hv.DynamicMap(self._labels, streams=[hv.streams.Params(self.explorer, ["sweet_spots"])])
        # the tap tool selects a cell; its index (into the gridded heatmap) names the model and the budget. The
        # stream's source is the heatmap alone: on the overlay it would follow the labels' data instead.
        selection = hv.streams.Selection1D(source=dmap)

        def on_select(index: list[int]) -> None:
            if not index or dmap.last is None:
                return
            frame = dmap.last.gridded.dframe()
            if not 0 <= index[0] < len(frame):
                return
            cell = frame.iloc[index[0]]
            model, vram_gb = str(cell["model"]), float(str(cell["vram"]).removesuffix(" GB"))
            if model not in self.explorer.constraints.param.model.objects:
                # the "best model" row: use the model its cell names
                if not cell["quant"]:
                    return
                model = str(cell["quant"]).split(" ")[0]

            def apply() -> None:
                self.explorer.constraints.param.update(model=model, vram_gb=vram_gb)

            # the stream calls back outside the document lock; Bokeh-backed views must update inside it
            pn.state.execute(apply, schedule=True)

        selection.add_subscriber(on_select)
        legend = pn.pane.HTML(
            " ".join(
                f'<span style="display:inline-block;width:12px;height:12px;background:{FIT_COLOURS[f]};'
                f'border:1px solid #888;margin:0 4px 0 10px"></span>{f}'
                for f in FIT_ORDER
            ),
            margin=(0, 10),
        )
        self._selection = selection  # keep the stream alive as long as the view
        return pn.Column(
            pn.pane.Markdown(
                "### Sweet spots\nEvery catalog model against common memory sizes, computed by the memory model "
                "at your context and KV-cache type with the recommender's own rules. The last row is the best model "
                "of your model's family for that memory (sizes compared as in the frontier chart). Click a cell to "
                "use it.",
                margin=(0, 10),
            ),
            legend,
            scroll_box(
                hv_pane(
                    dmap * labels,
                    sizing_mode="stretch_width",
                    min_height=620,
                    min_width=520,
                    name="sweet-spots",
                    toolbar=None,  # a tap picks a cell, no other tool: no toolbar taking the last column's room
                ),
            ),
            sizing_mode="stretch_width",
            styles={"min-width": "0"},  # the chart's own min_width must not widen the text above it
        )


PART_COLOURS = ("#0072B2", "#E69F00", "#999999")
# the y axis ends 12% above the taller of the bars and the budget line, so the line never sits on the frame
Y_HEADROOM = 1.12
# ...but at most at this many times the budget: one 80 GB bar must not squash the rest (a cut bar says its total)
MAX_AXIS_BUDGETS = 2


class MemoryBreakdown(pn.viewable.Viewer):
    """Weights, KV cache and buffers of the recommendation and its neighbours, against the budget line.

    Drawn with Bokeh directly and updated in place (data, factors, budget line): it changes with every
    constraint, and an in-place update keeps the interaction fast.
    """

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._source = ColumnDataSource(data=self._data())
        self._figure = figure(
            x_range=FactorRange(*self._source.data["label"]),
            y_range=Range1d(0, 1),
            height=360,
            sizing_mode="stretch_width",
            tools="save",
            toolbar_location=TOOLBAR_LOCATION,
            title="",
            y_axis_label="Memory (GB)",
            x_axis_label="Quant type",
        )
        renderers = self._figure.vbar_stack(
            list(BREAKDOWN_PARTS),
            x="label",
            width=0.75,
            color=list(PART_COLOURS),
            source=self._source,
            legend_label=list(BREAKDOWN_PARTS),
            fill_alpha="emphasis",  # linked highlighting: the selected quant types stay strong
            line_alpha="emphasis",
        )
        # a bar far above the budget is cut at the top of the axis and says its total there
        self._figure.text(
            x="label",
            y="overflow_y",
            text="overflow_text",
            source=self._source,
            text_align="center",
            text_baseline="top",
            text_font_size="8pt",
            text_color="#FFFFFF",
        )
        self._figure.add_tools(
            HoverTool(
                renderers=renderers,
                tooltips=[
                    ("Quant", "@quant"),
                    ("Part", "$name"),
                    ("Size", "@$name{0.00} GB"),
                    ("Total", "@total{0.00} GB"),
                    ("Quality cost", "@cost"),
                ],
            )
        )
        self._figure.css_classes = ["view-memory-breakdown"]  # tests and embedders find the chart by this class
        self._figure.legend.orientation = "horizontal"
        self._figure.legend.ncols = 2  # three in a row were wider than a phone's chart ("compute + outp")
        self._figure.legend.label_text_font_size = "8pt"
        self._figure.add_layout(self._figure.legend[0], "below")  # outside the bars, also on phones
        self._figure.xaxis.major_label_orientation = 0.5
        self._budget = Span(location=0, dimension="width", line_color="#D55E00", line_dash="dashed", line_width=2)
        self._figure.add_layout(self._budget)
        # layers on the GPU and the estimated speed of the recommendation (or of the offload answer)
        self._speed = pn.pane.Markdown("", name="memory-speed", margin=(0, 10), sizing_mode="stretch_width")
        self._refresh()

    def _y_end(self, totals: list[float]) -> float:
        """Top of the axis: the budget and the bars, but at most twice the budget (one 80 GB bar must not
        squash the rest; a cut bar says its total)."""
        budget = self.explorer.recommendation.constraints.budget_gb
        return max(budget, min(max(totals, default=0.0), MAX_AXIS_BUDGETS * budget)) * Y_HEADROOM

    def _data(self) -> dict[str, list]:
        best = self.explorer.recommendation.best if self.explorer.recommendation else None
        data = breakdown_bars_gb(self.explorer.memory_breakdown, pick=best.quant if best else None)
        selected = self.explorer.selected_quants
        data["emphasis"] = [1.0 if not selected or q in selected else DIMMED_ALPHA for q in data["quant"]]
        end = self._y_end(data["total"])
        data["overflow_y"] = [end * 0.98 for _ in data["quant"]]
        data["overflow_text"] = [f"{t:.0f} GB ↑" if t > end else "" for t in data["total"]]
        return data

    @param.depends("explorer.memory_breakdown", "explorer.recommendation", "explorer.selected_quants", watch=True)
    @writes_bokeh_models
    def _refresh(self) -> None:
        data = self._data()
        r = self.explorer.recommendation
        budget = round(r.constraints.budget_gb, 1)
        on_device = r.best or r.offload
        self._speed.object = (
            f"**{on_device.quant} on your device:** {on_device.speed_summary}"
            if on_device and on_device.speed_summary
            else ""
        )
        if list(self._figure.x_range.factors) != data["label"]:
            self._figure.x_range.factors = data["label"]
        if data != self._source.data:
            self._source.data = data
        self._figure.y_range.end = self._y_end(data["total"])
        self._budget.location = budget
        # short: a Bokeh title does not wrap, and a longer one was cut at 390 px
        self._figure.title.text = f"Memory needed; dashed: your {budget:g} GB"

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown(
                "### Memory breakdown\nWhat llama.cpp allocates: the GGUF weights (its real quant mix), the KV "
                "cache at your context, and the compute and output buffers. Dashed line: your memory budget.",
                margin=(0, 10),
            ),
            pn.pane.Bokeh(
                self._figure,
                sizing_mode="stretch_width",
                height=360,
                name="memory-breakdown",
            ),
            self._speed,
            sizing_mode="stretch_width",
        )
