"""The static site's first screen as plain HTML and SVG, painted before BokehJS has loaded.

``scripts/build_site.py`` writes it into ``index.html`` at build time: the recommendation in words and the
memory-breakdown chart for the default constraints, computed by the same state and domain code the live views
read (:class:`dashboard.state.Explorer`), drawn as an inline SVG with native tooltips. The page removes it once
the pre-rendered Bokeh charts are drawn underneath.
"""

from __future__ import annotations

import html

import polars as pl

from dashboard.frames import BREAKDOWN_PARTS, breakdown_bars_gb
from dashboard.memory import gib_to_gb
from dashboard.recommend import Recommendation
from dashboard.state import Explorer
from dashboard.views.fit import PART_COLOURS, Y_HEADROOM

# SVG geometry (px, in the viewBox): wide enough for a 1440 px page, scaled down on phones.
WIDTH_PX, HEIGHT_PX = 640, 300
LEFT_PX, RIGHT_PX, TOP_PX, BOTTOM_PX = 56, 12, 28, 64
CSS = """
#main { position: relative; }
#first-screen { position: absolute; inset: 0; z-index: 4; overflow: auto; padding: 10px 16px;
  background: var(--background-color, #fff); color: #2b2b2b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
#first-screen h2 { font-size: 1.3em; margin: 0.3em 0; overflow-wrap: anywhere; }
#first-screen h3 { font-size: 1.1em; margin: 0.8em 0 0.2em; }
#first-screen .fs-tabs { display: flex; gap: 4px; flex-wrap: wrap; border-bottom: 1px solid #ddd; margin-bottom: 8px; }
#first-screen .fs-tabs span { padding: 6px 12px; color: #555; }
#first-screen .fs-tabs span:first-child { border-bottom: 2px solid #0072B2; color: #0072B2; }
#first-screen svg { width: 100%; max-width: 760px; height: auto; display: block; }
#first-screen .fs-legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
#first-screen .fs-legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
"""


def _recommendation_html(r: Recommendation) -> str:
    esc = html.escape
    parts = [f'<h2 id="first-screen-summary">{esc(r.summary())}</h2>']
    if r.best:
        parts.append(f"<p><b>Fit:</b> {esc(r.best.fit)} · <b>quality band:</b> {esc(r.best.quality_band)}</p>")
    if r.reasons:
        parts.append("<ul>" + "".join(f"<li>{esc(reason)}</li>" for reason in r.reasons) + "</ul>")
    if r.runner_ups:
        alts = ", ".join(
            f"{esc(o.quant)} ({gib_to_gb(o.total_gib):.1f} GB, KLD {o.mean_kld:.3f})" for o in r.runner_ups
        )
        parts.append(f"<p><b>Runner-ups:</b> {alts}</p>")
    return "\n".join(parts)


def memory_svg(breakdown: pl.DataFrame, budget_gb: float) -> str:
    """Stacked bars (GB) of each quant type's weights, KV cache and buffers, with the budget as a dashed line."""
    bars = breakdown_bars_gb(breakdown)  # the live chart's numbers and order (smallest total first)
    quants, totals = bars["quant"], bars["total"]
    top_gb = max([budget_gb, *totals]) * Y_HEADROOM
    plot_w, plot_h = WIDTH_PX - LEFT_PX - RIGHT_PX, HEIGHT_PX - TOP_PX - BOTTOM_PX

    def y(value_gb: float) -> float:
        return TOP_PX + plot_h * (1 - value_gb / top_gb)

    out = [
        f'<svg id="first-screen-memory" viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" role="img" '
        f'aria-label="Memory needed per quant type (GB), against your {budget_gb:g} GB">',
        f'<text x="{LEFT_PX}" y="16" font-size="13" font-weight="600">'
        f"Memory needed; dashed line: your {budget_gb:g} GB</text>",
    ]
    step = 10 ** max(0, len(str(int(top_gb))) - 1)
    if top_gb / step < 4:
        step /= 2
    tick = 0.0
    while tick <= top_gb:
        out.append(
            f'<line x1="{LEFT_PX}" x2="{WIDTH_PX - RIGHT_PX}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{LEFT_PX - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick:g}</text>'
        )
        tick += step
    out.append(
        f'<text transform="translate(14 {TOP_PX + plot_h / 2:.0f}) rotate(-90)" font-size="12" '
        'text-anchor="middle">Memory (GB)</text>'
    )
    slot = plot_w / max(1, len(quants))
    for i, (q, total) in enumerate(zip(quants, totals, strict=True)):
        x = LEFT_PX + slot * (i + 0.125)
        base = 0.0
        for part, colour in zip(BREAKDOWN_PARTS, PART_COLOURS, strict=True):
            value = bars[part][i]
            out.append(
                f'<rect x="{x:.1f}" y="{y(base + value):.1f}" width="{slot * 0.75:.1f}" '
                f'height="{y(base) - y(base + value):.1f}" fill="{colour}"><title>{html.escape(q)} · {part}: '
                f"{value:.2f} GB (total {total:.2f} GB)</title></rect>"
            )
            base += value
        out.append(
            f'<text x="{x + slot * 0.375:.1f}" y="{TOP_PX + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{html.escape(q)}</text>'
        )
    out.append(
        f'<line x1="{LEFT_PX}" x2="{WIDTH_PX - RIGHT_PX}" y1="{y(budget_gb):.1f}" y2="{y(budget_gb):.1f}" '
        'stroke="#D55E00" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(f'<text x="{LEFT_PX + plot_w / 2:.0f}" y="{HEIGHT_PX - 8}" font-size="12" text-anchor="middle">')
    out.append("Quant type</text></svg>")
    legend = "".join(
        f'<span><i style="background:{c}"></i>{p}</span>' for p, c in zip(BREAKDOWN_PARTS, PART_COLOURS, strict=True)
    )
    return "".join(out) + f'<div class="fs-legend">{legend}</div>'


def first_screen_html(explorer: Explorer | None = None, tab_titles: tuple[str, ...] = ()) -> str:
    """The first screen (style + markup) for the default constraints, or for ``explorer``'s."""
    explorer = explorer or Explorer()
    tabs = "".join(f"<span>{html.escape(t)}</span>" for t in tab_titles)
    body = [
        f"<style>{CSS}</style>",
        '<div id="first-screen" aria-busy="true">',
        f'<div class="fs-tabs">{tabs}</div>' if tabs else "",
        _recommendation_html(explorer.recommendation),
        "<h3>Memory breakdown</h3>",
        "<p>What llama.cpp allocates: the GGUF weights (its real quant mix), the KV cache at your context, and the "
        "compute and output buffers. Dashed line: your memory budget.</p>",
        memory_svg(explorer.memory_breakdown, explorer.constraints.vram_gb),
        "</div>",
    ]
    return "\n".join(part for part in body if part)
