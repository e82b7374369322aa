"""Models compared at the user's budget: the quality-vs-memory frontier and the measured cross-size curves."""

from __future__ import annotations

import html

import panel as pn
import param
import polars as pl
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Range1d
from bokeh.plotting import figure

from dashboard import recommend as rec
from dashboard.quality import cross_size_curves
from dashboard.state import Explorer
from dashboard.views.common import DIMMED_ALPHA, TOOLBAR_LOCATION, scroll_box, writes_bokeh_models

# The frontier's y axis spans at most this factor above the best expected perplexity: a 1B at IQ1_S (about 11x
# an 8B's F16) would squash the choices that matter into the bottom of the chart. Points above are in the note.
FRONTIER_Y_SPAN = 4.0
# Okabe-Ito colours, one per model of a group (a group has at most five catalog models)
MODEL_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7570B3")
MARKERS = {"measured": "circle", "estimated": "triangle"}
POINT_COLUMNS = (
    "frontier_model",
    "quant",
    "total_gb",
    "ratio",
    "ratio_low",
    "ratio_high",
    "cost_pct",
    "low_pct",
    "high_pct",
    "basis",
    "basis_kind",
    "mmlu",
    "colour",
    "marker",
    "emphasis",
    "size",
)


def frontier_points(frontier: pl.DataFrame, selected_quants: list[str]) -> dict[str, list]:
    """The frontier view's point columns (Bokeh ``ColumnDataSource`` data) from the domain frame."""
    models = list(dict.fromkeys(frontier["model"])) if frontier.height else []
    colour = {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(models)}
    rows = frontier.iter_rows(named=True)
    data: dict[str, list] = {c: [] for c in POINT_COLUMNS}
    for r in rows:
        selected = not selected_quants or r["quant"] in selected_quants
        data["frontier_model"].append(r["model"])
        data["quant"].append(r["quant"])
        data["total_gb"].append(r["total_gb"])
        data["ratio"].append(r["expected_ppl_ratio"])
        data["ratio_low"].append(r["ratio_low"])
        data["ratio_high"].append(r["ratio_high"])
        data["cost_pct"].append(r["ppl_increase_pct"])
        data["low_pct"].append(r["low_pct"])
        data["high_pct"].append(r["high_pct"])
        data["basis"].append(r["basis"])
        data["basis_kind"].append(r["basis"].split(":", 1)[0])
        data["mmlu"].append("—" if r["mmlu_accuracy_pct"] is None else f"{r['mmlu_accuracy_pct']:.2f}")
        data["colour"].append(colour[r["model"]])
        data["marker"].append(MARKERS[r["basis"].split(":", 1)[0]])
        data["emphasis"].append(1.0 if selected else DIMMED_ALPHA)
        data["size"].append(13 if (selected_quants and r["quant"] in selected_quants) else 9)
    return data


class ModelFrontier(pn.viewable.Viewer):
    """Expected quality against memory for every (model, quant) of a comparison group that fits the budget.

    Pareto frontier drawn, the recommendation for your model ringed, the band as whiskers; clicking a point
    selects its quant type in every chart. Drawn with Bokeh and updated in place.
    """

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._points = ColumnDataSource(data={c: [] for c in POINT_COLUMNS})
        self._line = ColumnDataSource(data={"total_gb": [], "ratio": []})
        self._current = ColumnDataSource(data={"total_gb": [], "ratio": [], "label": []})
        fig = figure(
            height=420,
            sizing_mode="stretch_width",
            y_axis_type="log",
            y_range=Range1d(0.5, FRONTIER_Y_SPAN),
            tools="tap,box_select,pan,wheel_zoom,reset,save",
            active_tap="tap",
            active_drag="box_select",  # selecting is the point here; pan stays in the toolbar
            toolbar_location=TOOLBAR_LOCATION,
            x_axis_label="Memory needed at your context (GB)",
            y_axis_label="Expected perplexity (× reference at F16)",
        )
        fig.css_classes = ["view-model-frontier"]
        fig.segment("total_gb", "ratio_low", "total_gb", "ratio_high", source=self._points, color="colour", alpha=0.35)
        fig.line("total_gb", "ratio", source=self._line, color="#444444", line_width=2, line_dash="dashed")
        points = fig.scatter(
            "total_gb",
            "ratio",
            source=self._points,
            marker="marker",
            size="size",
            fill_color="colour",
            line_color="black",
            fill_alpha="emphasis",
            line_alpha="emphasis",
            nonselection_fill_alpha=DIMMED_ALPHA,
            selection_fill_alpha=1.0,
        )
        fig.scatter(
            "total_gb",
            "ratio",
            source=self._current,
            marker="circle",
            size=24,
            fill_alpha=0.0,
            line_color="#D55E00",
            line_width=3,
        )
        fig.text(
            "total_gb",
            "ratio",
            text="label",
            source=self._current,
            x_offset=-16,
            y_offset=-6,
            text_align="right",
            text_font_size="9pt",
            text_color="#D55E00",
        )
        fig.add_tools(
            HoverTool(
                renderers=[points],
                tooltips=[
                    ("Model", "@frontier_model @quant"),
                    ("Memory", "@total_gb{0.0} GB"),
                    ("Expected perplexity", "@ratio{0.000}× the reference at F16"),
                    ("Quality cost", "+@cost_pct{0.0}% (range +@low_pct{0.0}% to +@high_pct{0.0}%)"),
                    ("MMLU (measured)", "@mmlu"),
                    ("Basis", "@basis"),
                ],
            )
        )
        self._legend = Legend(items=[], orientation="horizontal", ncols=2, label_text_font_size="8pt")
        fig.add_layout(self._legend, "below")
        self._points_renderer = points
        self._figure = fig
        self._note = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width", name="frontier-note")
        self._points.selected.on_change("indices", self._on_select)
        self._refresh()

    def _on_select(self, attr: str, old: list[int], new: list[int]) -> None:
        quants = self._points.data["quant"]
        picked = [quants[i] for i in new if 0 <= i < len(quants)]
        if picked and sorted(set(picked)) != sorted(self.explorer.selected_quants):
            self.explorer.select(picked)

    @param.depends("explorer.frontier", "explorer.selected_quants", watch=True)
    @writes_bokeh_models
    def _refresh(self) -> None:
        frontier = self.explorer.frontier
        if frontier is None:
            return
        data = frontier_points(frontier, self.explorer.selected_quants)
        if data != self._points.data:
            self._points.data = data
        line = frontier.filter("on_frontier") if frontier.height else frontier
        self._line.data = {
            "total_gb": line["total_gb"].to_list() if line.height else [],
            "ratio": line["expected_ppl_ratio"].to_list() if line.height else [],
        }
        current = frontier.filter("is_current") if frontier.height else frontier
        self._current.data = {
            "total_gb": current["total_gb"].to_list() if current.height else [],
            "ratio": current["expected_ppl_ratio"].to_list() if current.height else [],
            "label": [f"your choice: {r['model']} {r['quant']}" for r in current.iter_rows(named=True)]
            if current.height
            else [],
        }
        models = list(dict.fromkeys(data["frontier_model"]))
        self._legend.items = [
            LegendItem(label=m, renderers=[self._points_renderer], index=data["frontier_model"].index(m))
            for m in models
        ]
        c = self.explorer.constraints
        group = self.explorer.frontier_group
        reference = frontier["reference"][0] if frontier.height else ""
        r = self.explorer.recommendation
        budget_gb = round(r.constraints.budget_gb, 1) if r else c.vram_gb  # the device's budget (Metal limit, GPUs)
        # short: a Bokeh title does not wrap, and a longer one was cut at 390 px (the y axis says what is drawn)
        self._figure.title.text = f"{group} at {budget_gb:g} GB vs {reference} at F16"
        ceiling = float(frontier["expected_ppl_ratio"].min()) * FRONTIER_Y_SPAN if frontier.height else 0.0
        if frontier.height:
            low = float(frontier["ratio_low"].min())
            high = min(float(frontier["ratio_high"].max()), ceiling)
            self._figure.y_range.start, self._figure.y_range.end = low * 0.95, max(high, low * 1.2) * 1.05
        above = frontier.filter(pl.col("expected_ppl_ratio") > ceiling) if frontier.height else frontier
        basis = frontier["comparison_basis"][0] if frontier.height else f"Nothing in {group} fits."
        self._note.object = (
            f"**How this group is compared:** {html.escape(basis)}. Circles: quality cost measured; triangles: "
            "estimated (whiskers: the band). Dashed: the Pareto frontier (nothing needs less memory and is expected "
            "better). Ringed: the recommendation for your model."
            + (
                f" Off the chart ({FRONTIER_Y_SPAN:g}× the best expected perplexity or more): {above.height} choices, "
                "e.g. "
                + html.escape(", ".join(f"{r['model']} {r['quant']}" for r in above.head(3).iter_rows(named=True)))
                + "."
                if above.height
                else ""
            )
        )

    def __panel__(self) -> pn.viewable.Viewable:
        groups = rec.comparison_groups()
        select = pn.widgets.Select(label="Models compared", options=groups, value=self.explorer.frontier_group)

        def from_widget(event: param.parameterized.Event) -> None:
            if event.new != self.explorer.frontier_group:
                self.explorer.frontier_group = event.new

        def from_state(event: param.parameterized.Event) -> None:
            # a pasted config.json or an opened .gguf is a group of its own, not among the catalog's
            if event.new not in select.options:
                select.options = [*groups, event.new]
            if select.value != event.new:
                select.value = event.new

        select.param.watch(from_widget, "value")
        self.explorer.param.watch(from_state, "frontier_group")
        return pn.Column(
            pn.pane.Markdown(
                "### Bigger model at a lower quant, or smaller at a higher?\nEvery model of one family and quant "
                "type that fits your memory: expected quality (perplexity relative to the reference model at F16, "
                "on the family's size scale) against the memory it needs. Sizes are compared only where the data "
                "compares them; other models stand alone. Click a point to select its quant type everywhere.",
                margin=(0, 10),
            ),
            select,
            scroll_box(
                pn.pane.Bokeh(self._figure, sizing_mode="stretch_width", height=420, min_width=360, name="frontier")
            ),
            self._note,
            sizing_mode="stretch_width",
        )


class CrossSizeChart(pn.viewable.Viewer):
    """The measured cross-size points as in the k-quants PR's chart: one line per model size, perplexity vs size.

    Drawn with Bokeh and updated in place when the table changes (one line and point renderer per model slot).
    """

    table = param.Selector(default=None, objects=[], doc="Which published table to draw (one method each).")

    def __init__(self, **params: object) -> None:
        curves = cross_size_curves()
        tables = list(dict.fromkeys(curves["table"]))
        self.param.table.objects = tables
        params.setdefault("table", next((t for t in tables if t.startswith("Qwen2")), tables[0]))
        super().__init__(**params)
        slots = int(curves.group_by("table").agg(pl.col("model").n_unique())["model"].max())
        fig = figure(
            height=380,
            sizing_mode="stretch_width",
            x_axis_type="log",
            y_axis_type="log",
            tools="pan,wheel_zoom,reset,save",
            toolbar_location=TOOLBAR_LOCATION,
            x_axis_label="File size (GiB)",
            y_axis_label="Perplexity (this table only)",  # short: a longer label was clipped at 380 px
        )
        fig.css_classes = ["view-cross-size"]
        self._sources = [ColumnDataSource(data=self._empty()) for _ in range(slots)]
        self._renderers = []
        for i, source in enumerate(self._sources):
            colour = MODEL_COLOURS[i % len(MODEL_COLOURS)]
            line = fig.line("file_size_gib", "perplexity", source=source, color=colour, line_width=2)
            dots = fig.scatter("file_size_gib", "perplexity", source=source, color=colour, size=7)
            self._renderers.append((line, dots))
        fig.add_tools(
            HoverTool(
                renderers=[dots for _, dots in self._renderers],
                tooltips=[
                    ("Model", "@model @quant"),
                    ("Perplexity", "@perplexity{0.000}"),
                    ("Size", "@file_size_gib{0.00} GiB (@size_basis)"),
                    ("Source", "@source"),
                ],
            )
        )
        # below the chart, so that it covers no line at phone width
        self._legend = Legend(items=[], orientation="horizontal", ncols=2, label_text_font_size="8pt")
        fig.add_layout(self._legend, "below")
        self._figure = fig
        self._draw()

    @staticmethod
    def _empty() -> dict[str, list]:
        return {c: [] for c in ("file_size_gib", "perplexity", "model", "quant", "size_basis", "source")}

    @param.depends("table", watch=True)
    @writes_bokeh_models
    def _draw(self) -> None:
        df = cross_size_curves().filter(pl.col("table") == self.table)
        models = list(dict.fromkeys(df["model"]))
        items = []
        for i, source in enumerate(self._sources):
            if i < len(models):
                sub = df.filter(pl.col("model") == models[i]).sort("file_size_gib")
                source.data = {c: sub[c].to_list() for c in self._empty()}
                label = models[i].removesuffix("-Instruct")
                items.append(LegendItem(label=label, renderers=list(self._renderers[i])))
            else:
                source.data = self._empty()
        self._legend.items = items
        estimated = df.height and not df["size_basis"].str.starts_with("measured").all()
        # the table's short name: the method in brackets is in the selector above the chart
        self._figure.title.text = self.table.split(" (")[0]
        # on the axis, not in the title: a Bokeh title does not wrap, and "...; sizes estimated" was cut at 390 px
        self._figure.xaxis.axis_label = "File size (GiB, estimated)" if estimated else "File size (GiB)"

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown(
                "### Measured: perplexity against file size, one line per model size\nAs in the k-quants PR's "
                "chart. A bigger model's line below a smaller one's at the same size means the bigger model at a "
                "lower quant wins. Perplexities compare only within one table (one method, one tokenizer).",
                margin=(0, 10),
            ),
            pn.widgets.Select.from_param(self.param.table, label="Table", sizing_mode="stretch_width"),
            scroll_box(
                pn.pane.Bokeh(self._figure, sizing_mode="stretch_width", height=380, min_width=360, name="cross-size")
            ),
            sizing_mode="stretch_width",
        )
