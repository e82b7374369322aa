"""The decision tree (view 6): the recommender's rules drawn as a tree, the current path highlighted."""

from __future__ import annotations

import panel as pn
import param
import polars as pl
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from dashboard.frames import tree_layout
from dashboard.recommend import Recommendation
from dashboard.state import Explorer
from dashboard.views.common import scroll_box

ACTIVE = "#D55E00"
INACTIVE = "#8C8C8C"


def _drawn(recommendation: Recommendation) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The domain's tree layout with colours, line widths and label positions (presentation only)."""
    nodes, edges = tree_layout(recommendation)
    colour = pl.when(pl.col("active")).then(pl.lit(ACTIVE)).otherwise(pl.lit(INACTIVE)).alias("colour")
    nodes = nodes.with_columns(
        colour,
        # inner nodes are labelled above themselves, end nodes to their right
        pl.when(pl.col("inner")).then(pl.col("x")).otherwise(pl.col("x") + 0.07).alias("label_x"),
        pl.when(pl.col("inner")).then(pl.col("y") + 0.38).otherwise(pl.col("y")).alias("label_y"),
    )
    edges = edges.with_columns(colour, pl.when(pl.col("active")).then(4).otherwise(1).alias("width"))
    return nodes, edges


class DecisionTree(pn.viewable.Viewer):
    """The recommender's decision tree with the path for the current constraints in orange.

    Drawn with Bokeh directly and updated in place when the path changes (it changes with the constraints,
    and an in-place update keeps the interaction fast).
    """

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._edges, self._nodes = ColumnDataSource(), ColumnDataSource()
        self._inner, self._ends = ColumnDataSource(), ColumnDataSource()
        self._refresh()
        fig = figure(
            x_range=Range1d(-1.1, 4.9),
            height=420,
            sizing_mode="stretch_width",
            toolbar_location=None,
            title="Decision path for your constraints (orange)",
            tools="",
        )
        fig.css_classes = ["view-decision-tree"]  # tests and embedders find the chart by this class
        fig.axis.visible = False
        fig.grid.visible = False
        fig.outline_line_color = None
        fig.segment("x0", "y0", "x1", "y1", color="colour", line_width="width", source=self._edges)
        points = fig.scatter("x", "y", color="colour", size=12, source=self._nodes)
        fig.add_tools(HoverTool(renderers=[points], tooltips=[("Step", "@label")]))
        fig.text(
            "label_x",
            "label_y",
            text="label",
            text_color="colour",
            text_align="center",
            text_baseline="bottom",
            text_font_size="9pt",
            source=self._inner,
        )
        fig.text(
            "label_x",
            "label_y",
            text="label",
            text_color="colour",
            text_align="left",
            text_baseline="middle",
            text_font_size="9pt",
            source=self._ends,
        )
        self._figure = fig

    @param.depends("explorer.decision_path", watch=True)
    def _refresh(self) -> None:
        nodes, edges = _drawn(self.explorer.recommendation)
        columns = ["node", "x", "y", "label_x", "label_y", "label", "colour", "active"]
        labels = ("label_x", "label_y", "label", "colour")
        self._edges.data = {c: edges[c].to_list() for c in ("x0", "y0", "x1", "y1", "active", "colour", "width")}
        self._nodes.data = {c: nodes[c].to_list() for c in columns}
        self._inner.data = {c: nodes.filter(pl.col("inner"))[c].to_list() for c in labels}
        self._ends.data = {c: nodes.filter(~pl.col("inner"))[c].to_list() for c in labels}

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown(
                "### Decision tree\nThe recommender's rules: which quant types fit your memory, then the rule of "
                "your priority. The orange path is the one your constraints take; its leaf is the recommendation.",
                margin=(0, 10),
            ),
            scroll_box(
                pn.pane.Bokeh(
                    self._figure,
                    sizing_mode="stretch_width",
                    height=420,
                    min_width=540,
                    name="decision-tree",
                ),
            ),
            sizing_mode="stretch_width",
        )
