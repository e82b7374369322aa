"""The decision tree (view 6): the recommender's rules drawn as a tree, the current path highlighted."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from dashboard.recommend import Recommendation, decision_tree, leaf_label
from dashboard.state import Explorer
from dashboard.views.common import scroll_box

ACTIVE = "#D55E00"
INACTIVE = "#8C8C8C"


def tree_layout(recommendation: Recommendation) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node positions (x, y, label, active) and edges for the tree plus the leaf the recommender reached."""
    nodes = decision_tree()
    children: dict[str | None, list[str]] = {}
    labels = {}
    for node, parent, label in nodes:
        children.setdefault(parent, []).append(node)
        labels[node] = label
    leaf_parent = recommendation.path[-1]
    children.setdefault(leaf_parent, []).append("leaf")
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
    node_rows = [
        {
            "node": n,
            "x": x,
            "y": y,
            # inner nodes are labelled above themselves, end nodes to their right
            "label_x": x if children.get(n) else x + 0.07,
            "label_y": y + 0.38 if children.get(n) else y,
            "inner": bool(children.get(n)),
            "label": labels[n],
            "active": n in active,
            "colour": ACTIVE if n in active else INACTIVE,
        }
        for n, (x, y) in positions.items()
    ]
    edge_rows = []
    for parent, kids in children.items():
        if parent is None:
            continue
        for k in kids:
            (x0, y0), (x1, y1) = positions[parent], positions[k]
            on = parent in active and k in active
            edge_rows.append(
                {
                    "x0": x0,
                    "y0": y0,
                    "x1": x1,
                    "y1": y1,
                    "active": on,
                    "colour": ACTIVE if on else INACTIVE,
                    "width": 4 if on else 1,
                }
            )
    return pd.DataFrame(node_rows), pd.DataFrame(edge_rows)


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
        nodes, edges = tree_layout(self.explorer.recommendation)
        columns = ["node", "x", "y", "label_x", "label_y", "label", "colour", "active"]
        self._edges.data = {c: edges[c].tolist() for c in edges.columns}
        self._nodes.data = {c: nodes[c].tolist() for c in columns}
        self._inner.data = {c: nodes[nodes["inner"]][c].tolist() for c in ("label_x", "label_y", "label", "colour")}
        self._ends.data = {c: nodes[~nodes["inner"]][c].tolist() for c in ("label_x", "label_y", "label", "colour")}

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
