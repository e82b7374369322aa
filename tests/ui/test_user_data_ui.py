"""Bring-your-own-data in the browser: paste, see it in the charts, remove it; hostile names stay text."""

from __future__ import annotations

import pytest

from tests.ui.conftest import INTERACTION_TIMEOUT_MS, open_app, show_view, source, wait_for_values
from tests.ui.conftest import paste_measurements as add

pytestmark = pytest.mark.ui

CSV = "model,quant,file_size_gib,perplexity,mean_kld\nMine,F16,13.5,5.9,\nMine,Q4_K_M,4.1,6.02,0.03\n"
XSS = "<img src=x onerror=alert(1)>"
JS_IMG_X = """() => {
  let found = 0;
  const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found += 1;
    if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  return found;
}"""


def test_paste_shows_user_series_and_remove_takes_it_out(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    show_view(page, "quality-scatter")  # built before the paste; the other tabs' charts after it
    page.get_by_text("Your measurements and models").first.click()
    add(page, CSV)
    page.get_by_text("Added 2 row(s) for Mine").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    wait_for_values(page, "quality-scatter", "origin", "yours")
    show_view(page, "spectrum-heatmap")
    wait_for_values(page, "spectrum-heatmap", "row", "Q4_K_M · Mine (yours)")
    show_view(page, "efficiency-lines")
    wait_for_values(page, "efficiency-lines", "model", "Mine (yours)")
    wait_for_values(page, "efficiency-bars", "model_label", "Mine (yours)")
    page.get_by_role("button", name="Remove my data").click()
    page.get_by_text("Removed 2 row(s)").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    wait_for_values(page, "quality-scatter", "origin", "yours", present=False)
    wait_for_values(page, "spectrum-heatmap", "row", "(yours)", present=False)
    # a bad paste reports the line and changes nothing
    add(page, "model,quant,perplexity\nMine,Q4_K_M,oops\n")
    page.get_by_text("line 2, column 'perplexity'").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    assert "yours" not in source(page, "quality-scatter", "origin")["origin"]


def test_script_in_a_model_name_is_shown_as_text(page_factory, served_app: str) -> None:
    dialogs: list[str] = []
    page = open_app(page_factory, served_app)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_text("Your measurements and models").first.click()
    add(page, f"model,quant,file_size_gib,perplexity,mean_kld\n{XSS},Q4_K_M,4.2,6.3,0.04\n")
    page.get_by_text(f"Added 1 row(s) for {XSS}").first.wait_for(timeout=INTERACTION_TIMEOUT_MS)
    # the name reaches the spectrum as text (its row label), and nothing ran
    show_view(page, "spectrum-heatmap")
    wait_for_values(page, "spectrum-heatmap", "row", XSS[:20])
    assert not dialogs
    assert page.evaluate(JS_IMG_X) == 0
