"""Any real model in, in the browser: paste a Qwen3-MoE config.json, open a .gguf file (only its header is read),
share the link, paste a KLD log of an Unsloth UD-Q2_K_XL file."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from dashboard.memory import ModelSpec
from tests.gguf_writer import write_gguf
from tests.perplexity_logs import kld_log_labelled
from tests.ui.conftest import open_app, screenshot, show_view, source, sources

pytestmark = pytest.mark.ui

CONFIGS = Path(__file__).parents[1] / "fixtures" / "configs"
JS_SELECTED = """() => {
  const out = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'SELECT' && el.selectedIndex >= 0) out.push(el.options[el.selectedIndex].text);
    if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  return out;
}"""


JS_HAS_ROW = """(prefix) => {
  for (const doc of window.Bokeh.documents) {
    for (const m of doc.all_models) {
      if (m.type !== "ColumnDataSource") continue;
      const data = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
      if ("row" in data && Array.from(data.row).some((r) => String(r).startsWith(prefix))) return true;
    }
  }
  return false;
}"""


def open_models_card(page) -> None:
    page.get_by_text("Your measurements and models").first.click()
    page.get_by_role("textbox", name="Paste a config.json").wait_for(timeout=30_000)


def paste_config(page, name: str) -> None:
    page.get_by_role("textbox", name="Paste a config.json").fill((CONFIGS / f"{name}.json").read_text())
    page.get_by_role("button", name="Use this model").click()


def summary(page) -> str:
    return page.locator(".markdown").filter(has_text=re.compile(r" on [\d.]+ GB at ")).first.inner_text()


def test_a_pasted_qwen3_moe_config_is_the_30b_model_with_an_honest_fit(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    # the model-size charts built before the paste follow it (their model-group selector once hung the session)
    show_view(page, "model-frontier")
    open_models_card(page)
    paste_config(page, "qwen3_30b_a3b")
    page.get_by_text("30.53B parameters").first.wait_for(timeout=60_000)
    confirmation = page.get_by_text("30.53B parameters").first.inner_text()
    for text in ("48 layers", "128 experts, 8 active per token", "40,960 tokens"):
        assert text in confirmation
    page.wait_for_function(
        "() => document.location.search.includes('arch=')", timeout=30_000
    )  # the link carries the model
    assert "Qwen3MoeForCausalLM (yours)" in page.evaluate(JS_SELECTED)
    page.get_by_text(re.compile("Qwen3MoeForCausalLM on [\\d.]+ GB")).first.wait_for(timeout=30_000)
    # the memory chart's weights are the 30B model's (Q4_K_M 18.56 GB), not a dense 3B model's
    breakdown = source(page, "memory-breakdown", "total")
    weights = dict(zip(breakdown["quant"], breakdown["weights"], strict=True))
    assert weights["Q4_K_M"] == pytest.approx(18.56, abs=0.01)
    screenshot(page, "model-input-qwen3-moe-1440")
    link = page.url
    # a second paste replaces it at once
    paste_config(page, "qwen3_8b")
    page.get_by_text("8.19B parameters").first.wait_for(timeout=60_000)
    page.get_by_text(re.compile("Qwen3ForCausalLM on [\\d.]+ GB")).first.wait_for(timeout=30_000)
    assert "Qwen3ForCausalLM (yours)" in page.evaluate(JS_SELECTED)
    # the first link, opened anew, brings the MoE model back
    again = open_app(page_factory, link, width=390)
    again.get_by_text(re.compile("Qwen3MoeForCausalLM on [\\d.]+ GB")).first.wait_for(timeout=60_000)
    assert "Qwen3MoeForCausalLM (yours)" in again.evaluate(JS_SELECTED)
    screenshot(again, "model-input-link-390")


def test_an_opened_gguf_gives_its_exact_size(page_factory, served_app: str, tmp_path: Path) -> None:
    spec = ModelSpec(
        name="Tiny GGUF test model",
        params=1.0,
        n_layers=4,
        n_heads=4,
        n_kv_heads=2,
        head_dim=64,
        hidden_size=256,
        vocab_size=1000,
        max_context=4096,
        ffn_hidden_size=512,
    )
    path = tmp_path / "tiny-Q4_K_M.gguf"
    write_gguf(path, spec, "Q4_K_M")
    size = path.stat().st_size
    page = open_app(page_factory, served_app + "?theme=dark")
    show_view(page, "model-frontier")  # built before the file is opened
    open_models_card(page)
    page.locator("input.gguf-file-input").set_input_files(str(path))
    message = page.get_by_text(f"{size:,} bytes").first
    message.wait_for(timeout=60_000)
    assert "exact, read from its header" in message.inner_text() and "Q4_K_M" in message.inner_text()
    page.get_by_text(re.compile("Tiny GGUF test model on [\\d.]+ GB")).first.wait_for(timeout=30_000)
    assert "Tiny GGUF test model (yours)" in page.evaluate(JS_SELECTED)
    breakdown = source(page, "memory-breakdown", "total")
    weights_gb = dict(zip(breakdown["quant"], breakdown["weights"], strict=True))
    assert weights_gb["Q4_K_M"] * 1e9 == pytest.approx(size, rel=1e-9)  # the chart's GB: the file's exact bytes
    screenshot(page, "model-input-gguf-dark-1440")


def test_a_kld_log_labelled_ud_q2_k_xl_shows_as_written(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app, width=390)
    page.get_by_text("Your measurements and models").first.click()
    page.get_by_role("textbox", name="Paste measurements").fill(kld_log_labelled("UD-Q2_K_XL", "Q2_K - Medium"))
    page.get_by_role("button", name="Add to charts").click()
    page.get_by_text("Added 1 row(s) for Meta Llama 3 8B (UD-Q2_K_XL)").first.wait_for(timeout=60_000)
    show_view(page, "spectrum-heatmap")  # built after the paste
    page.wait_for_function(JS_HAS_ROW, arg="UD-Q2_K_XL", timeout=30_000)
    rows = [r for s in sources(page, "spectrum-heatmap", "detail") for r in s["row"]]
    assert any(r.startswith("UD-Q2_K_XL · ") for r in rows)
    show_view(page, "quality-scatter")
    assert "UD-Q2_K_XL" in source(page, "quality-scatter", "quality_source")["quant"]
    screenshot(page, "model-input-ud-label-390")


def test_a_bad_arch_in_the_link_is_named_and_ignored(page_factory, served_app: str) -> None:
    url = served_app + "?" + urllib.parse.urlencode({"arch": "V.1~L.5000000~h.1"})
    page = open_app(page_factory, url)
    page.get_by_text("Ignored arch=").first.wait_for(timeout=30_000)
    assert not any("(yours)" in s for s in page.evaluate(JS_SELECTED))
