"""The decision tree (view 6): the recommender's rules drawn as a tree, the current path highlighted."""

from __future__ import annotations

import textwrap

import panel as pn
import param
import polars as pl
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from dashboard.frames import tree_layout
from dashboard.recommend import Recommendation
from dashboard.state import Explorer
from dashboard.views.common import scroll_box, writes_bokeh_models

ACTIVE = "#D55E00"
INACTIVE = "#8C8C8C"
# The labels must end inside the chart at its narrowest (MIN_WIDTH_PX; wider, it scrolls in its box): the levels
# sit DEPTH_SPACING apart so the last level's labels get most of the width, and labels are wrapped to lines of at
# most LINE_CHARS characters (end labels run right of their node, inner ones are centred above theirs). At 1440 px
# the labels ran past the right edge ("Lowest expected cost that fits is acceptable", the leaf's cost).
MIN_WIDTH_PX = 540
HEIGHT_PX = 460
X_RANGE = (-0.9, 5.0)
DEPTH_SPACING = 0.8
LINE_CHARS = {"inner": 30, "end": 30}
END_LABEL_OFFSET = 0.07
INNER_LABEL_OFFSET = 0.38  # an inner node's label sits this far above it
Y_ROOM_ABOVE = 1.5  # y units above the top node: its label, two lines of 9 pt text
LINE_PX = 15  # a line of 9 pt text


def _wrapped(label: str, inner: bool) -> str:
    width = LINE_CHARS["inner" if inner else "end"]
    return "\n".join(textwrap.wrap(label, width, break_on_hyphens=False, break_long_words=False)) or label


def _drawn(recommendation: Recommendation) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The domain's tree layout with colours, line widths, label positions and wrapped label text (presentation
    only); ``label`` keeps the whole text for the hover."""
    nodes, edges = tree_layout(recommendation)
    colour = pl.when(pl.col("active")).then(pl.lit(ACTIVE)).otherwise(pl.lit(INACTIVE)).alias("colour")
    x = pl.col("x") * DEPTH_SPACING
    nodes = nodes.with_columns(
        colour,
        x.alias("x"),
        # inner nodes are labelled above themselves, end nodes to their right
        pl.when(pl.col("inner")).then(x).otherwise(x + END_LABEL_OFFSET).alias("label_x"),
        pl.when(pl.col("inner")).then(pl.col("y") + INNER_LABEL_OFFSET).otherwise(pl.col("y")).alias("label_y"),
        pl.struct("label", "inner")
        .map_elements(lambda r: _wrapped(r["label"], r["inner"]), return_dtype=pl.String)
        .alias("text"),
    )
    edges = edges.with_columns(
        colour,
        pl.when(pl.col("active")).then(4).otherwise(1).alias("width"),
        pl.col("x0") * DEPTH_SPACING,
        pl.col("x1") * DEPTH_SPACING,
    )
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
        ys = self._nodes.data["y"]  # the tree's shape is fixed: only the path and the leaf's text change
        fig = figure(
            x_range=Range1d(*X_RANGE),
            # room above the top node for its (wrapped) label, below the bottom one for nothing
            y_range=Range1d(min(ys) - 0.6, max(ys) + Y_ROOM_ABOVE),
            height=HEIGHT_PX,
            # on a phone the tree keeps this width and scrolls sideways in its box, its labels readable
            min_width=MIN_WIDTH_PX,
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
            text="text",
            text_color="colour",
            text_align="center",
            text_baseline="bottom",
            text_font_size="9pt",
            source=self._inner,
        )
        fig.text(
            "label_x",
            "label_y",
            text="text",
            text_color="colour",
            text_align="left",
            text_baseline="middle",
            text_font_size="9pt",
            source=self._ends,
        )
        self._figure = fig

    @param.depends("explorer.decision_path", watch=True)
    @writes_bokeh_models
    def _refresh(self) -> None:
        nodes, edges = _drawn(self.explorer.recommendation)
        columns = ["node", "x", "y", "label_x", "label_y", "label", "colour", "active"]
        labels = ("label_x", "label_y", "text", "colour")
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
                    height=HEIGHT_PX,
                    min_width=MIN_WIDTH_PX,
                    name="decision-tree",
                ),
            ),
            sizing_mode="stretch_width",
            styles={"min-width": "0"},  # the chart's own min_width must not widen the text above it (or the page)
        )
