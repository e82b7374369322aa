"""What the charts and the sidebar look like, checked on their models (no pixels): colours that read on both
themes, a drag that selects, the selection's emphasis kept where Bokeh marks a selection, legends, the
custom-model inputs."""

from __future__ import annotations

import html

import holoviews as hv
import panel as pn
import param
import polars as pl
import pytest
from bokeh.models import BoxSelectTool, HoverTool, PanTool
from panel.theme.fast import DARK_STYLE, DEFAULT_STYLE

from dashboard.ingest import parse_measurements
from dashboard.state import CustomModel, Explorer
from dashboard.views import compare, efficiency, tree
from dashboard.views.common import FAMILY_COLOURS, FAMILY_LABELS, SELECTED_BUTTON_CSS, contrast_ratio, family_legend
from dashboard.views.compare import CrossSizeChart, ModelFrontier
from dashboard.views.custom_model import CUSTOM_FIELDS, CustomModelCard
from dashboard.views.efficiency import EfficiencyCharts
from dashboard.views.fit import MemoryBreakdown, SweetSpots
from dashboard.views.quality import QualityBars, QualityScatter
from dashboard.views.spectrum import ColourAnalogy, SpectrumHeatmap
from dashboard.views.tree import DecisionTree

# The chart background of the template's two themes (Panel's Fast styles: white and #181818).
BACKGROUNDS = {"light": DEFAULT_STYLE.background_color, "dark": DARK_STYLE.background_color}
# A line or a point must at least stand out from the background (WCAG asks 3:1 of graphics; Okabe-Ito's orange
# and sky blue reach 2.25:1 and 2.31:1 on white, so the bar is 2:1 for both themes at once).
MIN_SERIES_CONTRAST = 2.0


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    hv.extension("bokeh", logo=False)
    explorer = Explorer()
    explorer.selected_quants = ["Q4_K_M"]
    return explorer


def series_palettes() -> dict[str, list[str]]:
    palettes = {
        "quant families": list(FAMILY_COLOURS.values()),
        "efficiency lines": list(efficiency.QUANT_COLOURS.values()),
        "compared models": list(compare.MODEL_COLOURS),
    }
    if hasattr(efficiency, "MODEL_COLOURS"):
        palettes["efficiency bars"] = list(efficiency.MODEL_COLOURS.values())
    return palettes


@pytest.mark.parametrize("theme", list(BACKGROUNDS))
def test_every_series_colour_reads_on_both_themes(theme: str) -> None:
    """The black F16 points, F16 bar and Q8_0 line vanished on the dark background (1.18:1)."""
    background = BACKGROUNDS[theme]
    faint = {
        f"{name}: {colour}": round(contrast_ratio(colour, background), 2)
        for name, colours in series_palettes().items()
        for colour in colours
        if contrast_ratio(colour, background) < MIN_SERIES_CONTRAST
    }
    assert not faint, f"too faint on the {theme} background {background}: {faint}"


def rendered_charts(view: pn.viewable.Viewer) -> dict[str, object]:
    """The Bokeh figure of every named HoloViews chart of ``view``, by name."""
    panel = view.__panel__()
    return {pane.name: hv.renderer("bokeh").get_plot(pane.object).state for pane in panel.select(pn.pane.HoloViews)}


def selection_charts(explorer: Explorer) -> dict[str, object]:
    charts: dict[str, object] = {}
    for view in (QualityScatter, QualityBars, SpectrumHeatmap, EfficiencyCharts):
        charts.update(rendered_charts(view(explorer=explorer)))
    return charts


SELECTING_CHARTS = (
    "quality-scatter",
    "quality-bars",
    "compression-line",
    "spectrum-heatmap",
    "efficiency-lines",
    "efficiency-bars",
)


def test_a_drag_selects_where_selecting_is_the_point(explorer: Explorer) -> None:
    """Dragging panned the axes away (to -2 GiB); box select had to be picked first. Pan stays available."""
    charts = selection_charts(explorer)
    for name in SELECTING_CHARTS:
        toolbar = charts[name].toolbar
        assert isinstance(toolbar.active_drag, BoxSelectTool), (name, toolbar.active_drag)
        assert any(isinstance(t, PanTool) for t in toolbar.tools), name


def test_the_chart_a_selection_starts_in_dims_too(explorer: Explorer) -> None:
    """Bokeh draws the glyphs of a source with a selection with its selected / non-selected styles: they must
    carry the selection's emphasis, or the chart the selection started in shows every type at full strength."""
    charts = selection_charts(explorer)
    for name in SELECTING_CHARTS:
        checked = 0
        for renderer in charts[name].renderers:
            data = getattr(getattr(renderer, "data_source", None), "data", {})
            if "emphasis" not in data or getattr(renderer, "nonselection_glyph", None) is None:
                continue
            for style in (renderer.nonselection_glyph, renderer.selection_glyph):
                alpha = style.fill_alpha
                field = alpha.get("field") if isinstance(alpha, dict) else getattr(alpha, "field", None)
                assert field is not None, (name, alpha)
                assert [float(a) for a in data[field]] == [float(e) for e in data["emphasis"]], name
            assert min(float(e) for e in data["emphasis"]) < 0.5, name  # something is dimmed (Q4_K_M alone is selected)
            checked += 1
        assert checked, f"{name}: no source with an emphasis column"


def test_scatter_and_bars_have_a_family_legend(explorer: Explorer) -> None:
    """The colours (k-quant, i-quant, legacy, ...) were explained nowhere."""
    for view, name in ((QualityScatter, "quality-scatter"), (QualityBars, "quality-bars")):
        panel = view(explorer=explorer).__panel__()
        legends = [p for p in panel.select(pn.pane.HTML) if p.name == f"legend-{name}"]
        assert len(legends) == 1, name
        text = legends[0].object
        families = set(explorer.quants.filter(explorer.quants["mean_kld"].is_not_null())["family"])
        assert {"k-quant", "i-quant", "legacy"} <= families
        for family in families:
            assert FAMILY_LABELS[family] in text and FAMILY_COLOURS[family] in text, (name, family)


def test_family_legend_lists_what_is_drawn_in_a_fixed_order() -> None:
    text = family_legend(["k-quant", "legacy", "k-quant"], "x").object
    assert text.count(FAMILY_LABELS["k-quant"]) == 1
    assert text.index(FAMILY_LABELS["legacy"]) < text.index(FAMILY_LABELS["k-quant"])  # FAMILY_COLOURS' order
    assert FAMILY_LABELS["i-quant"] not in text


def test_custom_model_card_has_number_inputs_in_words() -> None:
    """Sliders up to 1,000,000 could not hit exact values; labels were raw names ("Params b", "N kv heads")."""
    custom = CustomModel()
    widgets = CustomModelCard(custom=custom).widgets()
    assert [w.name for w in widgets] == [label for label, _ in CUSTOM_FIELDS.values()]
    assert set(CUSTOM_FIELDS) == {n for n in custom.param if n != "name"}
    for widget, field in zip(widgets, CUSTOM_FIELDS, strict=True):
        assert not isinstance(widget, pn.widgets.slider._SliderBase), field
        assert widget.description, field  # help text
        assert field == "model_name" or widget.name.lower() != field.replace("_", " ").lower(), field
        assert widget.sizing_mode == "stretch_width" and widget.width is None, field  # as wide as the sidebar
        if isinstance(custom.param[field], param.Number):
            assert isinstance(widget, pn.widgets.IntInput | pn.widgets.FloatInput), field
            low, high = custom.param[field].bounds
            assert (widget.start, widget.end) == (low, high), field
    assert "Parameters (billions)" in [w.name for w in widgets] and "KV heads" in [w.name for w in widgets]


def test_custom_model_inputs_edit_the_model() -> None:
    custom = CustomModel()
    widgets = {w.name: w for w in CustomModelCard(custom=custom).widgets()}
    widgets["KV heads"].value = 4
    widgets["Parameters (billions)"].value = 13.5
    assert (custom.n_kv_heads, custom.params_b) == (4, 13.5)


def test_selected_choice_button_stands_out() -> None:
    """In the light theme the selected button of a radio group was Panel's light grey beside white ones."""
    fill = SELECTED_BUTTON_CSS.split("background-color:")[1].split()[0]
    text = SELECTED_BUTTON_CSS.split("; color:")[1].split()[0]
    assert contrast_ratio(fill, "#FFFFFF") >= 3.0 and contrast_ratio(fill, BACKGROUNDS["dark"]) >= 2.0
    assert contrast_ratio(text, fill) >= 4.5


def test_the_compression_line_speaks_words(explorer: Explorer) -> None:
    """Its y label was clipped and its tooltip showed the column name ``compression_ratio``."""
    fig = rendered_charts(QualityBars(explorer=explorer))["compression-line"]
    shown = [fig.yaxis[0].axis_label, fig.xaxis[0].axis_label]
    for tool in fig.select(HoverTool):
        tips = tool.tooltips if isinstance(tool.tooltips, list) else []
        shown += [f"{label} {value}" for label, value in tips]
        assert tips, "a hover with nothing to say"
    assert all(label and "_" not in label.split("@")[0] for label in shown), shown
    assert "×" in fig.yaxis[0].axis_label and "F16" in fig.yaxis[0].axis_label
    assert len(fig.yaxis[0].axis_label) <= 20  # fits the 240 px chart's height


def test_efficiency_bars_say_which_model_each_colour_is() -> None:
    """The grouped bars were coloured by model with no legend."""
    hv.extension("bokeh", logo=False)
    explorer = Explorer()
    explorer.user_measurements = parse_measurements(
        "model,quant,file_size_gib,perplexity\nMine,F16,13.5,5.9\nMine,Q4_K_M,4.1,6.02\n"
    )
    view = EfficiencyCharts(explorer=explorer)
    drawn = view._bars([], explorer.user_measurements).dframe()
    text = view.bar_legend(explorer.user_measurements).object
    pairs = set(zip(drawn["model_label"], drawn["colour"], strict=True))
    assert len(pairs) == len({label for label, _ in pairs}) == len({colour for _, colour in pairs}) == 5
    for label, colour in pairs:
        assert html.escape(label) in text and colour in text, label
    assert "Llama-2-70B" in text  # the full name beside the short label
    fig = rendered_charts(view)["efficiency-bars"]
    bars = [r for r in fig.renderers if "colour" in r.data_source.data]
    data = bars[0].data_source.data
    assert list(data[bars[0].glyph.fill_color.field]) == list(data["colour"])  # the bars use the legend's colours


def test_efficiency_lines_title_and_room(explorer: Explorer) -> None:
    """Its title said cost "falls as models grow" over a rising 7B -> 8B segment; the last points sat on the edge."""
    fig = rendered_charts(EfficiencyCharts(explorer=explorer))["efficiency-lines"]
    assert "falls" not in fig.title.text
    xs = [x for r in fig.renderers for x in r.data_source.data.get("f16_size_gb", [])]
    assert fig.x_range.end > max(xs) * 1.05 and fig.x_range.start < min(xs) / 1.05


# the widest cell text a sweet-spots cell holds on one line (a quant type such as "IQ3_XXS", or "partial")
MAX_CELL_LINE_CHARS = 9


def test_sweet_spot_labels_fit_their_cells(explorer: Explorer) -> None:
    """The "Best <family> model" row said "70B IQ2_XXS" on one line and ran into the neighbouring cells."""
    labels = explorer.sweet_spots["label"].to_list()
    too_long = [label for label in labels if max(len(line) for line in label.split("\n")) > MAX_CELL_LINE_CHARS]
    assert not too_long
    assert any("\n" in label and label.split("\n")[0].endswith("B") for label in labels)  # size over type


def test_sweet_spots_highlight_the_selection() -> None:
    """The sweet-spots grid never highlighted the selected quant types."""
    hv.extension("bokeh", logo=False)
    explorer = Explorer()
    explorer.selected_quants = ["Q8_0"]
    fig = rendered_charts(SweetSpots(explorer=explorer))["sweet-spots"]
    cells = [r for r in fig.renderers if "emphasis" in getattr(r.data_source, "data", {})]
    assert len(cells) == 1
    data, glyph = cells[0].data_source.data, cells[0].glyph
    strong = {q.split(" ")[-1] for q, e in zip(data["quant"], data["emphasis"], strict=True) if float(e) == 1.0}
    assert strong == {"Q8_0"}
    assert min(float(e) for e in data["emphasis"]) < 0.5
    assert list(data[glyph.fill_alpha.field]) == [float(e) for e in data["emphasis"]]


def every_chart(explorer: Explorer) -> dict[str, object]:
    """The Bokeh figure of every chart of the dashboard, by name."""
    charts: dict[str, object] = {}
    views = (
        QualityScatter,
        QualityBars,
        SpectrumHeatmap,
        ColourAnalogy,
        SweetSpots,
        EfficiencyCharts,
        MemoryBreakdown,
        DecisionTree,
        ModelFrontier,
        CrossSizeChart,
    )
    for view in views:
        panel = (view() if view is CrossSizeChart else view(explorer=explorer)).__panel__()
        for pane in panel.select(pn.pane.HoloViews):
            charts[pane.name] = hv.renderer("bokeh").get_plot(pane.object).state
        charts.update({pane.name: pane.object for pane in panel.select(pn.pane.Bokeh)})
    return charts


def test_frontier_drag_selects(explorer: Explorer) -> None:
    fig = every_chart(explorer)["frontier"]
    assert isinstance(fig.toolbar.active_drag, BoxSelectTool)
    assert any(isinstance(t, PanTool) for t in fig.toolbar.tools)


def test_sweet_spots_have_no_toolbar_to_cut_their_last_column(explorer: Explorer) -> None:
    assert every_chart(explorer)["sweet-spots"].toolbar_location is None


# 9 pt text averages about 6.6 px a character (0.55 em); 7 px leaves a margin
CHAR_PX = 7.0


@pytest.mark.parametrize(
    "constraints",
    [
        {},
        {"priority": "size"},
        {"priority": "speed", "vram_gb": 8.0},
        {"model": "Llama-3.1-70B", "vram_gb": 16.0},
        {"model": "Llama-3.1-405B", "vram_gb": 4.0},
    ],
)
def test_tree_labels_end_inside_the_chart(constraints: dict) -> None:
    """At 1440 px the end labels ran past the right edge ("…fits is acceptable", the leaf's cost)."""
    explorer = Explorer()
    explorer.constraints.param.update(**constraints)
    nodes, _ = tree._drawn(explorer.recommendation)
    low, high = tree.X_RANGE
    px_per_unit = (tree.MIN_WIDTH_PX - 10) / (high - low)  # Bokeh's 5 px borders either side
    if "text" not in nodes.columns:  # labels drawn as they are
        nodes = nodes.with_columns(pl.col("label").alias("text"))
    for row in nodes.iter_rows(named=True):
        width = max(len(line) for line in row["text"].split("\n")) * CHAR_PX / px_per_unit
        left, right = (
            (row["label_x"] - width / 2, row["label_x"] + width / 2)
            if row["inner"]
            else (
                row["label_x"],
                row["label_x"] + width,
            )
        )
        assert low <= left and right <= high, (row["node"], row["text"], round(right, 2))
        assert row["text"].replace("\n", " ") == row["label"]  # wrapped, not cut


def test_tree_has_room_above_for_the_top_label() -> None:
    """The top inner label, wrapped on two lines, ran above the chart's top."""
    hv.extension("bokeh", logo=False)
    view = tree.DecisionTree(explorer=Explorer())
    fig = view._figure
    px_per_unit = (tree.HEIGHT_PX - 60) / (fig.y_range.end - fig.y_range.start)  # less the title and borders
    inner = view._inner.data
    for y, text in zip(inner["label_y"], inner["text"], strict=True):
        assert y + text.count("\n") * tree.LINE_PX / px_per_unit + tree.LINE_PX / px_per_unit <= fig.y_range.end, text
    assert fig.min_width == tree.MIN_WIDTH_PX


def test_efficiency_lines_legend_is_under_the_chart(explorer: Explorer) -> None:
    """Beside the chart, the line legend took half a phone's width and covered the last points."""
    view = EfficiencyCharts(explorer=explorer)
    panel = view.__panel__()
    (text,) = [p.object for p in panel.select(pn.pane.HTML) if p.name == "legend-efficiency-lines"]
    for quant, colour in efficiency.QUANT_COLOURS.items():
        assert quant in text and colour in text
    fig = rendered_charts(view)["efficiency-lines"]
    assert not any(legend.visible and legend.items for legend in fig.legend)


# a bold Bokeh title of about this many characters fits a 390 px phone's chart (it does not wrap)
MAX_PHONE_TITLE_CHARS = 40


def test_cross_size_titles_fit_a_phone() -> None:
    """The title "Qwen2-Instruct GGUF cards; sizes estimated" was cut at 390 px; the estimate is said on the axis."""
    view = CrossSizeChart()
    estimated_seen = False
    for table in view.param.table.objects:
        view.table = table
        fig = view._figure
        assert len(fig.title.text) <= MAX_PHONE_TITLE_CHARS, fig.title.text
        estimated_seen |= "estimated" in fig.xaxis[0].axis_label
    assert estimated_seen  # the Qwen2 cards' sizes are estimated
