"""The decision tree (view 6): the recommender's rules drawn as a tree, the current path highlighted."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from dashboard.recommend import Recommendation, decision_tree
from dashboard.state import Explorer
from dashboard.views.common import hv_pane, scroll_box

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
    leaf_label = recommendation.best.quant if recommendation.best else "nothing fits"
    leaf_parent = recommendation.path[-1]
    children.setdefault(leaf_parent, []).append("leaf")
    labels["leaf"] = f"→ {leaf_label}"
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
    """The recommender's decision tree with the path for the current constraints in orange."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(self, decision_path: tuple[str, ...] = ()) -> hv.Overlay:
        nodes, edges = tree_layout(self.explorer.recommendation)
        segs = hv.Segments(edges, ["x0", "y0", "x1", "y1"], ["colour", "width", "active"]).opts(
            color="colour", line_width="width"
        )
        points = hv.Points(nodes, ["x", "y"], ["label", "colour", "active", "node"]).opts(
            color="colour", size=12, tools=["hover"], hover_tooltips=[("Step", "@label")]
        )
        inner = nodes[nodes["inner"]]
        ends = nodes[~nodes["inner"]]
        inner_labels = hv.Labels(inner, ["label_x", "label_y"], ["label", "colour"]).opts(
            text_font_size="9pt", text_align="center", text_baseline="bottom", text_color="colour"
        )
        end_labels = hv.Labels(ends, ["label_x", "label_y"], ["label", "colour"]).opts(
            text_font_size="9pt", text_align="left", text_baseline="middle", text_color="colour"
        )
        return (segs * points * inner_labels * end_labels).opts(
            xaxis=None,
            yaxis=None,
            responsive=True,
            height=420,
            toolbar=None,
            show_frame=False,
            xlim=(-1.1, 4.9),
            padding=(0.02, 0.1),
            title="Decision path for your constraints (orange)",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        dmap = hv.DynamicMap(self._make, streams=[hv.streams.Params(self.explorer, ["decision_path"])])
        return pn.Column(
            pn.pane.Markdown(
                "### Decision tree\nThe recommender's rules: which quant types fit your memory, then the rule of "
                "your priority. The orange path is the one your constraints take; its leaf is the recommendation.",
                margin=(0, 10),
            ),
            scroll_box(
                hv_pane(dmap, sizing_mode="stretch_width", height=420, min_width=540, name="decision-tree"),
            ),
            sizing_mode="stretch_width",
        )
