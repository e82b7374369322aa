"""Your hardware in the served dashboard: the device picker sets memory and speed, Apple's Metal limit with its
note, a 70B on a 24 GB card with layers on the GPU and the speed, and devices in the URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import open_app, screenshot, show_view

pytestmark = pytest.mark.ui

PICKER_PLACEHOLDER = "e.g. 4090, M3 Max, DDR5"


def pick_device(page, search: str, name: str) -> None:
    """Type into the searchable picker and choose ``name`` from its suggestions."""
    picker = page.get_by_placeholder(PICKER_PLACEHOLDER)
    picker.click()
    picker.press("Control+a")
    picker.press("Backspace")
    picker.press_sequentially(search, delay=50)  # the suggestions open on key presses, not on a pasted value
    page.locator(".bk-menu div", has_text=re.compile(f"^{re.escape(name)}$")).first.click()


def summary(page) -> str:
    return page.get_by_text(re.compile(r" on [\d.]+ GB at ")).first.inner_text()


def test_picking_a_gpu_sets_its_memory_and_shows_tokens_per_s(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app + "?vram_gb=8")
    page.get_by_text(re.compile(r"Llama-3\.1-8B on 8 GB at 8K context")).first.wait_for()
    assert "tokens/s" not in summary(page)  # custom device, no bandwidth: no speed claimed
    pick_device(page, "4090", "GeForce RTX 4090")
    page.get_by_text(re.compile(r"Llama-3\.1-8B on 24 GB at 8K context: \w+, [\d.]+ GB of 24 GB, ~\d+")).first.wait_for(
        timeout=30_000
    )
    expect(page.get_by_role("textbox", name="GPU memory (GB)")).to_have_value("24")
    assert re.search(r"~[\d.]+ tokens/s", summary(page))
    page.get_by_text(re.compile(r"on your device: \d+ of 32 layers on the GPU, ~[\d.]+")).first.wait_for()
    page.get_by_text(re.compile(r"GeForce RTX 4090: 24 GB of GPU memory, 1010 GB/s")).first.wait_for()
    screenshot(page, "device-4090-1440")
    # the spectrum's speed column now shows the estimate for this model on this card
    show_view(page, "spectrum-heatmap")
    labels = page.evaluate(
        """() => {
          for (const doc of window.Bokeh.documents) for (const m of doc.all_models) {
            if (m.type !== "ColumnDataSource") continue;
            const d = m.data instanceof Map ? Object.fromEntries(m.data) : m.data;
            if ("detail" in d && "label" in d) return Array.from(d.detail).filter(x => x.startsWith("estimated for"));
          }
          return [];
        }"""
    )
    assert any("Llama-3.1-8B on GeForce RTX 4090" in x for x in labels)


def test_apple_chip_budget_is_the_metal_limit_with_its_note(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app)
    pick_device(page, "m3 max", "Apple M3 Max")
    # 75% of 64 GB unified memory (GiB) = 51.5 GB: the budget in the summary and in the memory chart's title
    page.get_by_text(re.compile(r"Llama-3\.1-8B on 51\.5 GB at 8K context")).first.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"Metal limit: 51\.5 GB")).first.wait_for()
    page.get_by_text(re.compile(r"iogpu\.wired_limit_mb=\d+")).first.wait_for()
    expect(page.get_by_role("textbox", name="GPU memory (GB)")).to_have_value("64")
    page.get_by_role("button", name="Metal").first.wait_for()
    # the switch: use the raised limit (the suggested value, 57344 MiB = 60.1 GB)
    page.locator(".raise-metal-limit input[type=checkbox]").check()
    page.get_by_text(re.compile(r"Llama-3\.1-8B on 60\.1 GB at 8K context")).first.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"Metal limit raised")).first.wait_for()
    screenshot(page, "device-apple-1440")


def test_70b_on_a_24_gb_card_shows_layers_on_the_gpu_and_speed(page_factory, served_app: str) -> None:
    page = open_app(
        page_factory, served_app + "?model=Llama-3.1-70B&device=GeForce+RTX+4090&context=32768&priority=quality"
    )
    text = page.get_by_text(re.compile(r"Llama-3\.1-70B on 24 GB at 32K context")).first.inner_text()
    assert re.search(r"nothing fits on the GPU; with offload \w+: \d+ of 80 layers on the GPU, ~[\d.]+ tokens/s", text)
    # the memory view says it too
    page.get_by_text(re.compile(r"on your device: \d+ of 80 layers on the GPU, ~[\d.]+ tokens/s")).first.wait_for()
    page.get_by_text(re.compile(r"Partial offload: \w+ with \d+ of 80 layers")).first.wait_for()
    screenshot(page, "device-70b-offload-1440")


def test_device_url_is_validated_and_restored(page_factory, served_app: str) -> None:
    page = open_app(page_factory, served_app + "?device=Apple+M2+Max&vram_gb=32&min_tokens_per_s=30")
    # a 32 GB M2 Max: 2/3 of 32 GiB = 22.9 GB
    page.get_by_text(re.compile(r"Llama-3\.1-8B on 22\.9 GB at 8K context")).first.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"Below 30 tokens/s, left out")).first.wait_for()
    expect(page.get_by_placeholder(PICKER_PLACEHOLDER)).to_have_value("Apple M2 Max")
    bad = page_factory()
    bad.goto(served_app + "?device=%3Cimg%20src=x%3E&n_gpus=2.5")
    bad.get_by_text(re.compile(r"Ignored device=")).first.wait_for(timeout=90_000)
    bad.get_by_text(re.compile(r"Ignored n_gpus=")).first.wait_for()


@pytest.mark.parametrize(("width", "theme"), [(1440, "dark"), (390, "default"), (390, "dark")])
def test_device_views_at_phone_width_and_in_dark_theme(page_factory, served_app: str, width: int, theme: str) -> None:
    page = open_app(
        page_factory, served_app + f"?model=Llama-3.1-70B&device=GeForce+RTX+4090&theme={theme}", width=width
    )
    page.get_by_text(re.compile(r"\d+ of 80 layers on the GPU")).first.wait_for(timeout=30_000)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 10
    screenshot(page, f"device-{width}-{theme}")
