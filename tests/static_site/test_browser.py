"""The built static site in headless Chromium, offline: Pyodide's CDN routed to the npm package and PyPI wheels.

The first screen paints without BokehJS, the pre-rendered dashboard (charts drawn, hover working) shows before
Python has started, the page asks no host but its own and Pyodide's CDN, and the loading badge walks through its
stages. Compiled Pyodide wheels (numpy, pandas, polars, ...) exist only on Pyodide's CDN, so the live app cannot
start here: those are the only requests allowed to go unserved, and the badge then says which packages failed.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from dashboard.app import SECTIONS
from tests.static_site.offline import Router
from tests.static_site.pyodide_env import Resolution, lock_substitutes
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.site

# Bokeh draws into canvases inside open shadow roots: walk them and count "ink" (opaque, non-white pixels; the
# white plot background alone does not count).
COUNT_INK = """
() => {
  const canvases = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'CANVAS') canvases.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  let inked = 0, total = 0;
  for (const c of canvases) {
    if (!c.width || !c.height) continue;
    const ctx = c.getContext('2d');
    if (!ctx) continue;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.min(d[i], d[i + 1], d[i + 2]) < 200) n++;
    total += n;
    if (n > 200) inked++;
  }
  return {canvases: canvases.length, inked, total};
}
"""
# Records every loader status message and when it appeared, from the first moment of the page.
WATCH_LOADER = """
window.__stages = [];
document.addEventListener('DOMContentLoaded', () => {
  const msg = document.getElementById('loader-msg');
  const err = document.getElementById('loader-error');
  if (!msg || !err) return;
  const record = () => {
    const text = msg.textContent;
    if (text && (!window.__stages.length || window.__stages.at(-1).text !== text))
      window.__stages.push({text, t: Math.round(performance.now())});
  };
  new MutationObserver(record).observe(msg, {childList: true, characterData: true, subtree: true});
  new MutationObserver(() => { window.__loaderError = err.textContent; })
    .observe(err, {childList: true, characterData: true, subtree: true});
});
"""
LOADER_UP = "() => getComputedStyle(document.getElementById('loader')).display !== 'none'"
# Form controls of the sidebar (inside Panel's shadow roots) whose right edge passes the sidebar's own.
SIDEBAR_OVERFLOW = """
() => {
  const sidebar = document.getElementById('sidebar').getBoundingClientRect();
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(el.tagName)) {
        const r = el.getBoundingClientRect();
        if (r.width && r.right > sidebar.right + 1)
          out.push(`${el.tagName} ${el.placeholder || ''}: ${Math.round(r.right)} > ${Math.round(sidebar.right)}`);
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document.getElementById('sidebar'));
  return out;
}
"""
STAGES = ["Loading pyodide", "Installing environment"]
# The charts of the first tab (memory breakdown, decision tree): the pre-render holds no other tab's charts.
FIRST_TAB_CHARTS = 2
# The tab models of a Bokeh document, found as scripts/site_assets/page.js finds them to reopen the reader's tab
# in the live document.
JS_TABS = r"""
() => [...window.Bokeh.documents[0].all_models]
  .filter((m) => /(^|\.)Tabs$/.test(m.type))
  .map((m) => ({active: m.active, titles: m.tabs.map((t) => t.title)}))
"""
# Whether an element matching the CSS selector (and containing the text) is what the reader sees at its place:
# the topmost element there, found by hit-testing down through the shadow roots Panel draws in. (Bokeh hides an
# inactive tab with `visibility: hidden`, which Panel's HTML pane overrides for its own content, so neither
# Playwright's visibility check nor the computed style tells the open tab from the others.)
JS_SHOWN = """
([selector, text]) => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.matches(selector) && el.textContent.includes(text)) found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found.some((el) => {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) return false;
    const x = box.x + Math.min(box.width / 2, 40), y = box.y + box.height / 2;
    let hit = document.elementFromPoint(x, y);
    while (hit && hit.shadowRoot) {
      const inner = hit.shadowRoot.elementFromPoint(x, y);
      if (!inner || inner === hit) break;
      hit = inner;
    }
    for (let node = hit; node; node = node.parentNode || node.host) if (node === el) return true;
    return false;
  });
}
"""
# The only hosts a first visit may ask: the site's own and Pyodide's CDN (its runtime and compiled packages).
ALLOWED_HOSTS = {"cdn.jsdelivr.net"}


class LoggingHandler(http.server.SimpleHTTPRequestHandler):
    log: list[tuple[int, str]]

    def log_request(self, code="-", size="-") -> None:
        self.log.append((int(getattr(code, "value", code)), self.path))

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site_server(built_site: tuple[Path, dict]) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """``site/`` on a loopback port via http.server; yields the origin and the request log."""
    log: list[tuple[int, str]] = []
    handler = functools.partial(type("Handler", (LoggingHandler,), {"log": log}), directory=str(built_site[0]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def lock_wheels(resolution: Resolution) -> dict[str, Path]:
    return lock_substitutes(resolution)


def new_page(chromium, site_server, resolution, lock_wheels, width: int, height: int):
    router = Router(site_server[0], resolution, lock_wheels)
    ctx = chromium.new_context(viewport={"width": width, "height": height}, service_workers="block")
    ctx.route("**/*", router.handle)
    page = ctx.new_page()
    page.add_init_script(WATCH_LOADER)
    page.responses, page.console = [], []
    ctx.on("response", lambda r: page.responses.append((r.status, r.url)))
    page.on("console", lambda m: page.console.append((time.monotonic(), m.type, m.text)))
    page.on("pageerror", lambda e: page.console.append((time.monotonic(), "pageerror", str(e))))
    return ctx, page, router


def wait_for_ink(frame, min_charts: int, timeout_s: float = 45) -> dict:
    """The ink count once ``min_charts`` canvases are drawn (or as it is after ``timeout_s``, for the message)."""
    with contextlib.suppress(PlaywrightTimeoutError):
        frame.wait_for_function(
            f"(n) => ({COUNT_INK})().inked >= n", arg=min_charts, timeout=timeout_s * 1000, polling=200
        )
    return frame.evaluate(COUNT_INK)


def test_prerendered_dashboard_before_python(chromium, site_server, resolution, lock_wheels) -> None:
    origin, server_log = site_server
    ctx, page, router = new_page(chromium, site_server, resolution, lock_wheels, 1440, 1000)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    try:
        t0 = time.monotonic()
        page.goto(f"{origin}/index.html", wait_until="domcontentloaded")
        ink = wait_for_ink(page, min_charts=2)
        t_ink = time.monotonic() - t0
        stage_at_ink = page.evaluate("() => window.__stages.map(s => s.text)")
        assert ink["inked"] >= 2, f"pre-rendered charts not drawn: {ink}"
        # Python has not run the app: the worker has not reached its code.
        assert "Executing code" not in stage_at_ink, stage_at_ink
        print(f"\npre-rendered: {ink} after {t_ink:.1f} s; loader stages so far {stage_at_ink}")
        errors_before_python = [(k, t) for when, k, t in page.console if k in ("error", "pageerror")]
        missing = [(s, u) for s, u in page.responses if s >= 400]
        assert not errors_before_python, (errors_before_python, missing, router.unserved)
        # The pre-rendered sidebar holds its inputs whole (a static-only sidebar rule once cut them at its edge).
        assert page.evaluate(SIDEBAR_OVERFLOW) == []
        screenshot(page, "site-1440")

        # Let the worker get as far as it can offline: boot Pyodide, install; the compiled packages are missing.
        page.wait_for_function("() => window.__loaderError", timeout=150_000)
        stages = page.evaluate("() => window.__stages")
        error = page.evaluate("() => window.__loaderError")
        print("loader stages:", stages, "| error:", error)
        texts = [s["text"] for s in stages]
        assert texts[: len(STAGES)] == STAGES, texts
        assert "Could not install" in error and "numpy" in error and "try again" in error, error
        expect(page.locator("#loader-retry")).to_be_visible()
        screenshot(page, "site-install-failed-1440")
    finally:
        ctx.close()

    # No missing asset of the site's own, by the browser's account and by the server's.
    site_failures = [(s, u) for s, u in page.responses if u.startswith(origin) and s >= 400]
    site_failures += [(s, p) for s, p in server_log if s >= 400]
    assert not site_failures, site_failures
    fetched = {u.removeprefix(origin) for u in router.site_requests}
    assert {"/index.html", "/index.js"} <= fetched, fetched
    assert any(f.startswith("/wheels/panel-") for f in fetched), fetched
    # No host outside the allowed list, not even a stubbed font.
    assert not router.stubbed, router.stubbed
    outside = [
        u for u in requests if not u.startswith((origin, "data:", "blob:")) and urlparse(u).netloc not in ALLOWED_HOSTS
    ]
    assert not outside, outside

    # Unserved: only the compiled wheels of Pyodide's lock file, and every one of them was asked for.
    compiled = {p.file for p in resolution.packages.values() if p.source == "pyodide-lock" and not p.pure}
    unserved = {u.rsplit("/", 1)[-1] for u in router.unserved}
    print("unserved (compiled Pyodide wheels):", sorted(unserved))
    assert all(urlparse(u).netloc in ALLOWED_HOSTS for u in router.unserved), router.unserved
    assert unserved == compiled, unserved ^ compiled
    served = " ".join(router.served)
    for needle in ("pyodide.asm.wasm", "pyodide-lock.json"):
        assert needle in served, needle


def test_first_screen_paints_without_bokehjs(chromium, site_server, resolution, lock_wheels) -> None:
    """With BokehJS blocked, the static first screen (recommendation + memory chart as SVG) is still there."""
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, 1440, 1000)
    try:
        page.route("**/static/bokeh/*.js", lambda route: route.abort())
        page.goto(f"{site_server[0]}/index.html", wait_until="domcontentloaded")
        screen = page.locator("#first-screen")
        expect(screen).to_be_visible()
        expect(page.locator("#first-screen-summary")).to_contain_text(" GB at ")
        bars = page.locator("#first-screen-memory rect")
        assert bars.count() >= 9
        assert bars.first.bounding_box()["height"] > 0
        page.wait_for_load_state("load")
        assert page.evaluate("() => typeof window.Bokeh") == "undefined"
        expect(screen).to_be_visible()
        screenshot(page, "site-first-screen-no-bokeh-1440")
    finally:
        ctx.close()


def test_prerender_accepts_hover_while_python_loads(chromium, site_server, resolution, lock_wheels) -> None:
    """The badge does not block the page: the pre-rendered memory chart shows its tooltip while the worker loads."""
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, 1440, 1000)
    try:
        page.goto(f"{site_server[0]}/index.html", wait_until="domcontentloaded")
        expect(page.locator("#first-screen")).to_have_count(0, timeout=60_000)  # Bokeh drew, the SVG is gone
        page.wait_for_function(LOADER_UP, timeout=30_000)  # the worker is loading
        chart = page.locator(".view-memory-breakdown canvas").first
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        tooltip = page.locator(".bk-Tooltip")
        shown = tooltip.get_by_text("Quant").first  # the tooltip's rows are in its own shadow root
        # Over the bars: the canvas also holds the axis and the legend below it, and the bars' heights follow the
        # recommendation, so try a few points low in the plot area.
        points = [(fx, fy) for fy in (0.4, 0.3, 0.5) for fx in (0.3, 0.5, 0.7, 0.85)]
        for fx, fy in points:
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            try:
                shown.wait_for(state="visible", timeout=1500)
                break
            except PlaywrightTimeoutError:
                continue
        expect(shown).to_be_visible()
        stages = page.evaluate("() => window.__stages.map(s => s.text)")
        assert "Executing code" not in stages, stages
        assert page.evaluate(LOADER_UP)
        screenshot(page, "site-hover-while-loading-1440")
    finally:
        ctx.close()


def test_forced_install_failure_shows_message(chromium, site_server, resolution, lock_wheels) -> None:
    """A wheel that fails to download: the badge names it and offers to try again (no traceback)."""
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, 1440, 1000)
    try:
        page.route("**/wheels/panel-*.whl", lambda route: route.fulfill(status=503, body=b"unavailable"))
        page.goto(f"{site_server[0]}/index.html", wait_until="domcontentloaded")
        error = page.locator("#loader-error")
        expect(error).to_contain_text("Could not install", timeout=150_000)
        expect(error).to_contain_text("panel")
        expect(error).to_contain_text("try again")
        assert "Traceback" not in error.text_content()
        retry = page.locator("#loader-retry")
        expect(retry).to_be_visible()
        screenshot(page, "site-forced-install-failure-1440")
        retry.click()
        expect(page.locator("#loader-msg")).to_have_text("Loading pyodide")
        expect(error).to_be_hidden()
    finally:
        ctx.close()


def test_phone_width(chromium, site_server, resolution, lock_wheels) -> None:
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, 390, 844)
    try:
        page.goto(f"{site_server[0]}/index.html", wait_until="domcontentloaded")
        ink = wait_for_ink(page, min_charts=FIRST_TAB_CHARTS)
        assert ink["inked"] >= FIRST_TAB_CHARTS, ink
        # Nothing wider than the phone.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1
        screenshot(page, "site-390")
    finally:
        ctx.close()


@pytest.mark.parametrize(("width", "height"), [(1440, 1000), (390, 844)])
def test_embed_page(chromium, site_server, resolution, lock_wheels, width: int, height: int) -> None:
    """The blog-post embed: the iframe fills the post's width, the dashboard draws inside it, one scroller."""
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, width, height)
    try:
        page.goto(f"{site_server[0]}/embed.html", wait_until="domcontentloaded")
        frame_el = page.wait_for_selector(".quant-dashboard iframe")
        frame = frame_el.content_frame()
        frame.wait_for_load_state("domcontentloaded")
        ink = wait_for_ink(frame, min_charts=FIRST_TAB_CHARTS)
        assert ink["inked"] >= FIRST_TAB_CHARTS, ink
        box = frame_el.bounding_box()
        content_width = page.evaluate("() => document.body.clientWidth") - 2 * 16  # body padding 1rem
        assert box["width"] >= content_width - 4, (box, content_width)
        assert box["height"] >= min(560, height), box
        # The outer page does not scroll sideways; the framed page's own root does not scroll at all (the
        # dashboard scrolls inside its template), so there is never a second scrollbar for the same content.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1
        root = frame.evaluate(
            "() => ({sh: document.documentElement.scrollHeight, ch: document.documentElement.clientHeight,"
            " sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth})"
        )
        assert root["sh"] <= root["ch"] + 1 and root["sw"] <= root["cw"] + 1, root
        if width == 390:
            screenshot(page, "site-embed-390")
    finally:
        ctx.close()


def test_every_tab_reachable_in_the_prerender(chromium, site_server, resolution, lock_wheels) -> None:
    """The first screen shows the tab row; the pre-render holds only the first tab's charts; every other tab opens
    before Python has loaded and says that its view needs Python; the first tab's charts are there again after."""
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, 1440, 1000)
    try:
        # the first screen's tab row as parsed (page.js removes the first screen once Bokeh has drawn, which on a
        # quiet machine can be before a locator here first looks)
        page.add_init_script(
            "document.addEventListener('DOMContentLoaded', () => { window.firstScreenTabs = [...document"
            ".querySelectorAll('#first-screen .fs-tabs span')].map(s => s.textContent); }, {capture: true});"
        )
        page.goto(f"{site_server[0]}/index.html", wait_until="domcontentloaded")
        assert page.evaluate("() => window.firstScreenTabs") == list(SECTIONS)
        expect(page.locator("#first-screen")).to_have_count(0, timeout=60_000)  # the pre-rendered Bokeh page drew
        assert page.evaluate(JS_TABS) == [{"active": 0, "titles": list(SECTIONS)}]
        expect(page.locator(".view-memory-breakdown canvas").first).to_be_visible()
        expect(page.locator(".view-decision-tree canvas").first).to_be_visible()
        for view in ("quality-scatter", "spectrum-heatmap", "sweet-spots", "model-frontier"):
            expect(page.locator(f".view-{view}")).to_have_count(0)
        for title in SECTIONS[1:]:
            page.locator(".bk-tab", has_text=title).first.click()
            page.wait_for_function(JS_SHOWN, arg=[".dashboard-needs-python", f"Drawing the {title} view"])
            # only the open tab is shown
            shown = [t for t in SECTIONS[1:] if page.evaluate(JS_SHOWN, [".dashboard-needs-python", f"the {t} view"])]
            assert shown == [title], shown
            assert not page.evaluate(JS_SHOWN, [".view-memory-breakdown", ""])
            if title == "Spectrum":
                screenshot(page, "site-tab-needs-python-1440")
        # page.js keeps the reader's tab across the swap to the live document: it reads the open tab before the
        # swap and opens it in the live document after (here the pre-render's own document stands for it).
        page.evaluate("() => window.dashboardBeforeLive()")
        page.locator(".bk-tab", has_text=SECTIONS[0]).first.click()
        page.wait_for_function(JS_SHOWN, arg=[".view-memory-breakdown", ""])
        page.evaluate("() => window.dashboardAfterLive(window.Bokeh.documents[0])")
        assert page.evaluate(JS_TABS)[0]["active"] == len(SECTIONS) - 1
        page.wait_for_function(JS_SHOWN, arg=[".dashboard-needs-python", f"Drawing the {SECTIONS[-1]} view"])
        errors = [(k, t) for _, k, t in page.console if k == "pageerror"]
        assert not errors, errors
    finally:
        ctx.close()
