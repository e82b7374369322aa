"""Browser-test fixtures and the helpers every browser test shares: a served dashboard, headless Chromium
driven by Playwright, and ways to read a chart's data by the chart's name.

The tests need Debian's chromium at /usr/bin/chromium. Without it they are skipped locally, but in CI
(``QUANT_DASHBOARD_REQUIRE_BROWSER=1``, set by ``.ci/run``) a missing browser is a failure.

Every wait is on a condition (``wait_for``, ``wait_for_function``, ``expect``), never a fixed sleep. Charts are
found by their name: each view tags its Bokeh figure with the CSS class ``view-<name>`` (``VIEWS``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from dashboard.app import SECTIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "tests" / "ui" / "screenshots"
# A first page costs the server a few seconds of Python per session; on a loaded machine (several test runs at
# once) far more than Playwright's 30 s default.
NAVIGATION_TIMEOUT_MS = 120_000
# How long a browser test waits for the effect of an interaction (a redraw after a widget change or a selection):
# tens of milliseconds on an idle machine, but minutes when several test suites share two cores.
INTERACTION_TIMEOUT_MS = 90_000
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=60):  # a loaded machine builds the first page slowly
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


@pytest.fixture(scope="session")
def browser_available() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("QUANT_DASHBOARD_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
        pytest.skip("Chromium not installed (apt-get install -y chromium)")


@contextlib.contextmanager
def serve_app(log: IO[str] | int = subprocess.DEVNULL) -> Iterator[tuple[str, subprocess.Popen]]:
    """``panel serve dashboard/app.py`` on a free loopback port; yields the app URL and the server process."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panel",
            "serve",
            "dashboard/app.py",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
            "--allow-websocket-origin",
            f"127.0.0.1:{port}",
            "--num-procs",
            "1",
        ],
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/app"
        wait_for(url)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def served_app(browser_available: None) -> Iterator[str]:
    """The dashboard served for the browser tests; its log goes to tests/ui/artifacts/panel-serve.log
    (``panel-serve-gw1.log`` and so on for the other test workers: each worker serves its own)."""
    folder = REPO_ROOT / "tests" / "ui" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    name = "panel-serve.log" if worker == "gw0" else f"panel-serve-{worker}.log"
    with open(folder / name, "w") as log, serve_app(log) as (url, _):
        yield url


def offline_stub(route: object) -> None:
    """This machine has no internet: answer the template's web fonts and icon CSS with empty files
    (a visitor online gets the real ones); everything the app itself needs is served by panel."""
    url = route.request.url
    ctype = "text/css" if ("css" in url or "fonts.googleapis" in url) else "application/octet-stream"
    route.fulfill(status=200, body="", headers={"Content-Type": ctype, "Access-Control-Allow-Origin": "*"})


@pytest.fixture
def page_factory(browser: object) -> Iterator[object]:
    """New pages that record console errors and page errors; asserts none happened at teardown."""
    contexts = []
    errors: list[str] = []

    def make(width: int = 1440, height: int = 1000):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), offline_stub)
        ctx.add_init_script(JS_HELPERS)
        ctx.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.errors = errors
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not errors, "browser errors:\n" + "\n".join(errors)


def screenshot(page: object, name: str) -> Path:
    """Save the whole dashboard: the template scrolls inside #main, so grow the viewport to its height first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    width = page.viewport_size["width"]
    height = page.evaluate(
        "() => Math.max(document.body.scrollHeight, ...['main', 'content'].map("
        "id => (document.getElementById(id) || {scrollHeight: 0}).scrollHeight)) + 80"
    )
    page.set_viewport_size({"width": width, "height": min(int(height), 16000)})
    # charts re-layout to the new size: two frames later, once every Bokeh document (if BokehJS runs on this
    # page at all: the static site's first screen has none) has processed its updates
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_function("() => !window.Bokeh || window.Bokeh.documents.every(d => d.is_idle)", timeout=60_000)
    page.screenshot(path=str(path), full_page=True)
    return path


# --- reading the page ------------------------------------------------------------------------------------------

# Every chart of the dashboard, by the name its view gives it (CSS class view-<name> on the Bokeh figure), and the
# tab of the main area it is in (dashboard.app.SECTIONS): a tab's charts are built the first time it is opened, so
# the first render holds only the first tab's.
VIEW_TABS = {
    "decision-tree": "Recommendation",
    "memory-breakdown": "Recommendation",
    "model-frontier": "Model size",
    "cross-size": "Model size",
    "colour-analogy": "Quality",
    "quality-scatter": "Quality",
    "quality-bars": "Quality",
    "compression-line": "Quality",
    "spectrum-heatmap": "Spectrum",
    "sweet-spots": "Sweet spots & speed",
    "efficiency-lines": "Sweet spots & speed",
    "efficiency-bars": "Sweet spots & speed",
}
assert set(VIEW_TABS.values()) <= set(SECTIONS), VIEW_TABS
VIEWS = tuple(VIEW_TABS)
FIRST_TAB_VIEWS = tuple(view for view, tab in VIEW_TABS.items() if tab == SECTIONS[0])
SUMMARY = re.compile(r" on [\d.]+ GB at ")

# JavaScript helpers on Bokeh's document, defined once in the page (an init script) and used by the conditions.
JS_HELPERS = """
window.__charts = {
  // the ColumnDataSources drawn by the chart named `view` that have `column`, as plain objects of arrays
  sources(view, column) {
    const out = [];
    const seen = new Set();  // renderers may share a source (the memory chart's stacked bars and their labels)
    for (const doc of (window.Bokeh ? window.Bokeh.documents : [])) {
      for (const m of doc.all_models) {
        if (!(m.css_classes || []).includes("view-" + view) || !m.renderers) continue;
        for (const r of m.renderers) {
          const ds = r.data_source;
          if (!ds || ds.type !== "ColumnDataSource" || seen.has(ds.id)) continue;
          seen.add(ds.id);
          const data = ds.data instanceof Map ? Object.fromEntries(ds.data) : ds.data;
          if (column in data) out.push(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Array.from(v)])));
        }
      }
    }
    return out;
  },
  // the strongest emphasis of each quant type in the chart's source that has an emphasis column
  emphasis(view) {
    const out = {};
    for (const s of this.sources(view, "emphasis")) {
      s.quant.forEach((q, i) => { out[q] = Math.max(out[q] ?? 0, s.emphasis[i]); });
    }
    return out;
  },
  // select `quant` in the chart as a tap would: the index of its first row in the source holding `column`
  select(view, column, quant) {
    for (const doc of window.Bokeh.documents) {
      for (const m of doc.all_models) {
        if (!(m.css_classes || []).includes("view-" + view) || !m.renderers) continue;
        for (const r of m.renderers) {
          const ds = r.data_source;
          if (!ds || ds.type !== "ColumnDataSource") continue;
          const data = ds.data instanceof Map ? Object.fromEntries(ds.data) : ds.data;
          if (!(column in data)) continue;
          const i = Array.from(data.quant).indexOf(quant);
          if (i >= 0) { ds.selected.indices = [i]; return i; }
        }
      }
    }
    return -1;
  },
  // the selected rows of the chart named `view` (its source that has `column`), as objects
  selected(view, column) {
    for (const doc of (window.Bokeh ? window.Bokeh.documents : [])) {
      for (const m of doc.all_models) {
        if (!(m.css_classes || []).includes("view-" + view) || !m.renderers) continue;
        for (const r of m.renderers) {
          const ds = r.data_source;
          if (!ds || ds.type !== "ColumnDataSource") continue;
          const data = ds.data instanceof Map ? Object.fromEntries(ds.data) : ds.data;
          if (!(column in data)) continue;
          return ds.selected.indices.map(i => Object.fromEntries(Object.keys(data).map(k => [k, data[k][i]])));
        }
      }
    }
    return [];
  },
  // every named chart is in a document and every document has finished processing its updates
  ready(views) {
    if (!window.Bokeh || window.Bokeh.documents.length === 0) return false;
    const docs = window.Bokeh.documents;
    const named = new Set();
    for (const doc of docs) for (const m of doc.all_models) for (const c of (m.css_classes || [])) named.add(c);
    return views.every(v => named.has("view-" + v)) && docs.every(d => d.is_idle);
  },
};
"""


def sources(page: object, view: str, column: str) -> list[dict]:
    """The data of the chart named ``view``: each of its sources that has ``column``."""
    return page.evaluate("([view, column]) => window.__charts.sources(view, column)", [view, column])


def source(page: object, view: str, column: str) -> dict:
    """The one source of the chart named ``view`` that has ``column``."""
    found = sources(page, view, column)
    assert len(found) == 1, f"{view}: {len(found)} sources with {column!r}"
    return found[0]


def select_in_chart(page: object, view: str, column: str, quant: str) -> None:
    """Select ``quant`` in the chart named ``view`` as a tap does (the source's selection indices)."""
    assert page.evaluate("([v, c, q]) => window.__charts.select(v, c, q)", [view, column, quant]) >= 0, (view, quant)


def selected_rows(page: object, view: str, column: str) -> list[dict]:
    """The rows selected (tapped) in the chart named ``view``, from its source that has ``column``."""
    return page.evaluate("([v, c]) => window.__charts.selected(v, c)", [view, column])


def paste_measurements(page: object, text: str) -> None:
    """Paste ``text`` into the sidebar's measurements box (its card open) and add it to the charts."""
    page.get_by_role("textbox", name="Paste measurements").fill(text)
    page.get_by_role("button", name="Add to charts").click()


def wait_for_render(page: object, views: tuple[str, ...] = FIRST_TAB_VIEWS, timeout_ms: int = 60_000) -> None:
    """Wait until every named chart exists and Bokeh has processed every pending change (two frames later)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_function("(views) => window.__charts.ready(views)", arg=list(views), timeout=timeout_ms)


def show_tab(page: object, title: str) -> None:
    """Open the main area's tab ``title`` (its charts are built the first time) and wait until they are drawn."""
    page.locator(".bk-tab", has_text=title).first.click()
    wait_for_render(page, views=tuple(view for view, tab in VIEW_TABS.items() if tab == title))


def show_view(page: object, view: str) -> None:
    """Open the tab holding the chart named ``view`` and wait until its charts are drawn."""
    show_tab(page, VIEW_TABS[view])


def wait_for_values(page: object, view: str, column: str, value: str, present: bool = True) -> None:
    """Wait until some value of ``column`` in the chart named ``view`` contains ``value`` (or, with
    ``present=False``, until none does)."""
    page.wait_for_function(
        """([view, column, value, present]) => {
          const found = window.__charts.sources(view, column).some(s => s[column].some(v => String(v).includes(value)));
          return found === present;
        }""",
        arg=[view, column, value, present],
        timeout=INTERACTION_TIMEOUT_MS,
    )


def wait_for_emphasis(page: object, view: str, selected: list[str]) -> None:
    """Wait until the chart named ``view`` shows exactly ``selected`` at full strength and dims every other type
    (with nothing selected: every type at full strength)."""
    page.wait_for_function(
        """([view, selected]) => {
          const e = window.__charts.emphasis(view);
          const quants = Object.keys(e);
          if (quants.length === 0) return false;
          if (selected.length === 0) return quants.every(q => e[q] === 1);
          return quants.every(q => selected.includes(q) ? e[q] === 1 : e[q] < 0.5);
        }""",
        arg=[view, selected],
        timeout=INTERACTION_TIMEOUT_MS,
    )


def open_app(page_factory: object, url: str, width: int = 1440) -> object:
    """A new page on ``url`` with the recommendation shown and the first tab's charts rendered (open another
    tab's with :func:`show_view`)."""
    page = page_factory(width=width)
    page.goto(url)
    page.get_by_text(SUMMARY).first.wait_for(timeout=90_000)
    wait_for_render(page)
    return page


def view_canvas_drawn(page: object, view: str, folder: Path, timeout_s: float = 30) -> bool:
    """The chart named ``view`` has drawn something on its canvas (more than 20 colours), within ``timeout_s``."""
    from PIL import Image

    locator = page.locator(f".view-{view} canvas").first
    locator.scroll_into_view_if_needed()
    path = folder / f"{view}.png"
    deadline = time.monotonic() + timeout_s
    while True:
        locator.screenshot(path=str(path))
        colours = Image.open(path).convert("RGB").getcolors(maxcolors=1_000_000)
        if colours is not None and len(colours) > 20:
            return True
        if time.monotonic() > deadline:
            return False
        wait_for_render(page, views=(view,))
