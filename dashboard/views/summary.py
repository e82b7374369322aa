"""The recommendation in words (view 9) and the sources panel."""

from __future__ import annotations

import html

import panel as pn
import param

from dashboard import data
from dashboard.memory import gib_to_gb
from dashboard.recommend import Recommendation
from dashboard.state import Explorer

SOURCE_LINKS = {
    "ggml_types": ("ggml block layouts", "https://github.com/ggml-org/llama.cpp/blob/master/ggml/src/ggml-common.h"),
    "quant_types": (
        "llama-quantize types",
        "https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/quantize.cpp",
    ),
    "llama31_8b_files": (
        "Llama-3.1-8B sizes and speeds (PR #14905)",
        "https://github.com/ggml-org/llama.cpp/pull/14905",
    ),
    "llama3_8b_quality": ("Llama-3-8B KLD scoreboard (PR #6936)", "https://github.com/ggml-org/llama.cpp/pull/6936"),
    "speed": ("Speed by backend (PRs #5747, #4773, #1684)", "https://github.com/ggml-org/llama.cpp/pull/5747"),
    "quality_by_model": (
        "Quality across model sizes (PRs #1684, #3340)",
        "https://github.com/ggml-org/llama.cpp/pull/1684",
    ),
    "models": ("Architecture catalog (data/notes/model_configs.md)", "https://github.com/meta-llama/llama-models"),
    "devices": ("Device memory and bandwidth (TechPowerUp GPU Database)", "https://www.techpowerup.com/gpu-specs/"),
    "apple_working_set": (
        "Metal working set logged by llama.cpp (XiongjieDai notebooks)",
        "https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference",
    ),
    "llama_bench_devices": (
        "llama-bench per device (XiongjieDai)",
        "https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference",
    ),
    "llamacpp_file_sizes": (
        "GGUF sizes measured with llama.cpp 0c1e57098",
        "https://pypi.org/project/llama-cpp-python/0.3.36/",
    ),
    "quality_sizes_ppl": (
        "Perplexity across sizes: Qwen2 cards, Llama-3-70B (PR #6745)",
        "https://github.com/ggml-org/llama.cpp/pull/6745#issuecomment-2093892514",
    ),
    "quality_sizes_mmlu": (
        "Llama-3 8B vs 70B MMLU per quant (matt-c1)",
        "https://github.com/matt-c1/llama-3-quant-comparison",
    ),
    "llamacpp_buffers": (
        "Run-time buffers measured with llama.cpp 0c1e57098",
        "https://pypi.org/project/llama-cpp-python/0.3.36/",
    ),
}


# Links in the text panes: the design's link colour is the accent's fill (2.9:1 on the dark background); its
# foreground shade is the one the design adjusts to read as text on either theme.
LINK_CSS = "a { color: var(--accent-foreground-rest); } a:hover { color: var(--accent-foreground-hover); }"


def recommendation_markdown(r: Recommendation, cross_model: tuple[str, ...] = ()) -> str:
    """The recommendation as Markdown, with the cross-model answer; every user-supplied string is HTML-escaped."""
    esc = html.escape
    lines = [f"## {esc(r.summary())}"]
    lines += [f"**Warning:** {esc(w)}\n" for w in r.warnings]
    if r.best:
        kind = r.best.quality_basis.split(":", 1)[0]
        lines.append(
            f"**Fit:** {esc(r.best.fit)} · **quality band:** {esc(r.best.quality_band)} ({esc(kind)}: perplexity "
            f"+{r.best.ppl_increase_pct:.1f}%"
            # the cost's range ("band" is the quality band's word); none to show for the reference precision
            + (
                f", range +{r.best.cost_low_pct:.1f}% to +{r.best.cost_high_pct:.1f}%)"
                if r.best.cost_high_pct > r.best.cost_low_pct
                else ")"
            )
        )
    on_device = r.best or r.offload
    if on_device and on_device.speed_summary:
        lines.append(f"\n**On your device ({esc(on_device.quant)}):** {esc(on_device.speed_summary)}")
    note = r.constraints.device_note()
    if note:
        # the first sentence (the budget); the sidebar shows the whole note beside the memory input
        lines.append("\n" + note.split(". ")[0].rstrip(".") + ".")
    if cross_model:
        lines.append("\n**Bigger model or higher precision?**")
        lines += [f"- {esc(s)}" for s in cross_model]
        lines.append("\n**Why this type:**")
    lines += [f"- {esc(reason)}" for reason in r.reasons]
    if r.runner_ups:
        alts = ", ".join(
            f"{esc(o.quant)} ({gib_to_gb(o.total_gib):.1f} GB, +{o.ppl_increase_pct:.1f}% perplexity)"
            for o in r.runner_ups
        )
        lines.append(f"\n**Runner-ups:** {alts}")
    if r.suggestions:
        lines.append("\n**What would help:**")
        lines += [f"- {esc(s)}" for s in r.suggestions]
    return "\n".join(lines)


class RecommendationSummary(pn.viewable.Viewer):
    """The recommended quant type and why, in words."""

    explorer = param.ClassSelector(class_=Explorer, doc="Shared state.")

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        # one pane each, updated in place: a new pane per change would rebuild the component in the browser
        self._text = pn.pane.Markdown(
            "",
            name="recommendation",
            sizing_mode="stretch_width",
            stylesheets=[":host { overflow-wrap: anywhere; }", LINK_CSS],
        )
        self._error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._update()

    @param.depends("explorer.recommendation", "explorer.cross_model", "explorer.error", watch=True)
    def _update(self) -> None:
        self._error.object = html.escape(self.explorer.error)
        self._error.visible = bool(self.explorer.error)
        if self.explorer.recommendation is not None:
            self._text.object = recommendation_markdown(self.explorer.recommendation, self.explorer.cross_model)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._error, self._text, sizing_mode="stretch_width", name="recommendation-summary")


class SourcesPanel(pn.viewable.Viewer):
    """Every dataset the dashboard uses, with row counts and links."""

    def __panel__(self) -> pn.viewable.Viewable:
        rows = ["| dataset | rows | source |", "|---|---|---|"]
        for name in data.TABLES:
            title, url = SOURCE_LINKS[name]
            rows.append(f"| `{name}.csv` | {data.load_table(name).height} | [{title}]({url}) |")
        return pn.pane.Markdown(
            "### Sources\nEvery number has a `source` column in its CSV; `data/SOURCES.md` describes every file "
            "and column. Quality and speed numbers are only compared within one published table.\n\n" + "\n".join(rows),
            sizing_mode="stretch_width",
            name="sources",
            stylesheets=[
                # long link titles wrap inside the column instead of widening the page on phones
                "table { width: 100%; table-layout: fixed; } td, th { overflow-wrap: anywhere; }",
                LINK_CSS,
            ],
        )
