"""The quantisation spectrum heatmap (view 3) and the colour-depth analogy (view 8)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import polars as pl
from bokeh.models import FixedTicker
from bokeh.palettes import Viridis256

from dashboard.frames import MAX_SPECTRUM_USER_ROWS, SPECTRUM_COLUMNS, spectrum_cells
from dashboard.state import Explorer, to_pandas
from dashboard.views.common import (
    DIMMED_ALPHA,
    hv_pane,
    linked_dmap,
    palette_colour,
    scroll_box,
    text_colour_on,
)

SCORE_PALETTE = Viridis256  # dark purple (worst) .. yellow (best)
NO_DATA = "#F2F2F2"


def spectrum_frame(explorer: Explorer, selected: list[str]) -> pd.DataFrame:
    """The domain's spectrum cells (:func:`dashboard.frames.spectrum_cells`) for the explorer's model, device and
    data, with the selection's emphasis and each cell's colour and the text colour that reads best on it
    (presentation only)."""
    user = explorer.constraints
    where = f"{user.model} on {user.device}" + (f" x {user.n_gpus}" if user.n_gpus > 1 else "")
    cells = spectrum_cells(
        explorer.quants, explorer.user_measurements, explorer.model_quality, explorer.speeds, where, user.backend
    )
    df = to_pandas(cells)
    df["emphasis"] = 1.0 if not selected else np.where(df["quant"].isin(selected), 1.0, DIMMED_ALPHA)
    df["score"] = df["score"].astype(float)
    # each label takes the colour that reads best on its own cell (the cell colour as the heatmap maps it)
    df["cell_colour"] = [NO_DATA if not np.isfinite(v) else palette_colour(SCORE_PALETTE, v) for v in df["score"]]
    df["text_colour"] = df["cell_colour"].map(text_colour_on)
    return df


SPECTRUM_MIN_WIDTH_PX = 780


class SpectrumHeatmap(pn.viewable.Viewer):
    """Quant types x (size, quality, speed on each backend) coloured from worst (dark purple) to best (yellow)."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def _make(
        self,
        selected_quants: list[str],
        user_measurements: pl.DataFrame,
        model_quality: pl.DataFrame | None = None,
        speeds: pl.DataFrame | None = None,
    ) -> hv.HeatMap:
        df = spectrum_frame(self.explorer, selected_quants)
        rows = list(dict.fromkeys(df["row"]))
        heat = hv.HeatMap(
            # the display order is `rows`; rows sorted by label spare HoloViews' recursive ordering of the
            # categories, which exceeds Python's recursion limit past ~1,000 rows
            df.sort_values("row", kind="stable"),
            kdims=[
                hv.Dimension("column", label=" ", values=list(SPECTRUM_COLUMNS)),
                hv.Dimension("row", label="Quant type", values=rows),
            ],
            vdims=[hv.Dimension("score", range=(0, 1)), "quant", "label", "detail", "emphasis", "family"],
        )
        return heat.opts(
            cmap=list(SCORE_PALETTE),
            clim=(0, 1),
            clipping_colors={"NaN": NO_DATA},
            alpha="emphasis",
            colorbar=True,
            colorbar_opts={
                "ticker": FixedTicker(ticks=[0.05, 0.5, 0.95]),
                "major_label_overrides": {0.05: "worst", 0.5: "middle", 0.95: "best"},
            },
            xaxis="top",
            invert_yaxis=True,
            tools=["hover", "tap", "box_select"],
            nonselection_alpha=1.0,
            selection_alpha=1.0,
            hover_tooltips=[
                ("Quant", "@quant (@family)"),
                ("Column", "@column"),
                ("Value", "@label"),
                ("Where from", "@detail"),
            ],
            responsive=True,
            min_height=1150,
            line_color="white",
            line_width=1,
        )

    def _labels(
        self,
        user_measurements: pl.DataFrame,
        model_quality: pl.DataFrame | None = None,
        speeds: pl.DataFrame | None = None,
    ) -> hv.Labels:
        df = spectrum_frame(self.explorer, [])
        return hv.Labels(df, kdims=["column", "row"], vdims=["label", "text_colour"]).opts(
            text_font_size="8pt", text_color="text_colour"
        )

    @param.depends("explorer.user_measurements")
    def _note(self) -> pn.viewable.Viewable:
        n = self.explorer.user_measurements.height
        text = (
            f"Your first {MAX_SPECTRUM_USER_ROWS:,} of {n:,} rows are drawn here; all of them are in the quality "
            "chart and the downloaded dataset."
            if n > MAX_SPECTRUM_USER_ROWS
            else ""
        )
        return pn.pane.Markdown(text, visible=bool(text), margin=(0, 10), name="spectrum-note")

    def __panel__(self) -> pn.viewable.Viewable:
        heat = linked_dmap(self.explorer, self._make, ["user_measurements", "model_quality", "speeds"])
        labels = hv.DynamicMap(
            self._labels, streams=[hv.streams.Params(self.explorer, ["user_measurements", "model_quality", "speeds"])]
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Quantisation spectrum\nEvery quant type (rows, most bits first) scored per column from "
                "dark purple (worst of all types) to yellow (best). Size: bits per weight of the whole file; "
                "quality: the band and the expected perplexity cost for your model (~: estimated, else measured; "
                "hover for the band's range and the source); t/s: estimated generation "
                "speed of your model on your device (with a device picked; else measured on Llama-3.1-8B, hardware "
                "not stated, marked (8B)). CUDA, Metal, CPU: how close "
                "generation gets to the memory-bandwidth limit relative to the best type measured in the same "
                "run; 'slow' means a bigger type generated faster in that "
                "run (grey: no measurement). † marks legacy types. Hover a cell for the number and its source.",
                margin=(0, 10),
            ),
            self._note,
            # on phones the 7-column grid keeps a readable width and scrolls sideways inside its own box: 780 px
            # leave each column about 75 px beside the type names and the colour bar ("near-lossless" at 8 pt;
            # at 620 px the cells were 50 px and their text ran over)
            scroll_box(
                hv_pane(
                    (heat * labels).opts(responsive=True, min_height=1150, min_width=SPECTRUM_MIN_WIDTH_PX),
                    sizing_mode="stretch_width",
                    min_height=1150,
                    min_width=SPECTRUM_MIN_WIDTH_PX,
                    name="spectrum-heatmap",
                ),
            ),
            sizing_mode="stretch_width",
            styles={"min-width": "0"},  # the chart's own min_width must not widen the text above it
        )


class ColourAnalogy(pn.viewable.Viewer):
    """The same colour gradient stored with 16, 8, 4 and 2 bits: what fewer bits per value does."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state (unused: this view is static).")

    def __panel__(self) -> pn.viewable.Viewable:
        width = 512
        x = np.linspace(0, 1, width)
        rows = []
        for bits in (16, 8, 4, 2):
            levels = 2**bits
            q = np.floor(x * (levels - 1) + 0.5) / (levels - 1)
            rows.append(q)
        img = np.array(rows)
        image = hv.Image(img, bounds=(0, 0, 1, 4)).opts(
            cmap="viridis",
            xaxis=None,
            yticks=[(3.5, "16-bit"), (2.5, "8-bit"), (1.5, "4-bit"), (0.5, "2-bit")],
            responsive=True,
            height=180,
            toolbar=None,
            ylabel="",
            colorbar=False,
            tools=[],
        )
        return pn.Column(
            pn.pane.Markdown(
                "### Why fewer bits cost quality\nThe same smooth gradient stored with fewer bits per value: "
                "16 and 8 bits look continuous, 4 bits shows 16 bands, 2 bits only 4. Quantising a model's "
                "weights does the same to its numbers; llama.cpp's k- and i-quants spend their bits where the "
                "banding hurts least.",
                margin=(0, 10),
            ),
            hv_pane(image, sizing_mode="stretch_width", height=180, name="colour-analogy", toolbar=None),
            sizing_mode="stretch_width",
        )
