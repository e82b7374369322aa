"""The built static site in headless Chromium, offline: CDN URLs routed to local Bokeh/Panel/Pyodide files.

The pre-rendered dashboard (charts drawn) must show before Python has started, with no missing asset; the loading
indicator walks through its stages. Compiled Pyodide wheels (numpy, pandas, polars, ...) exist only on Pyodide's
CDN, so the live app cannot start here: those are the only requests allowed to go unserved.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.static_site.offline import CDN_HOSTS, Router
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
STAGES = ["Loading pyodide", "Unpacking index.resources.zip", "Installing environment", "Executing code"]


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
    deadline = time.monotonic() + timeout_s
    while True:
        ink = frame.evaluate(COUNT_INK)
        if ink["inked"] >= min_charts or time.monotonic() > deadline:
            return ink
        time.sleep(0.2)


def test_prerendered_dashboard_before_python(chromium, site_server, resolution, lock_wheels) -> None:
    origin, server_log = site_server
    ctx, page, router = new_page(chromium, site_server, resolution, lock_wheels, 1440, 1000)
    try:
        t0 = time.monotonic()
        page.goto(f"{origin}/index.html", wait_until="domcontentloaded")
        ink = wait_for_ink(page, min_charts=4)
        t_ink = time.monotonic() - t0
        stage_at_ink = page.evaluate("() => window.__stages.map(s => s.text)")
        assert ink["inked"] >= 4, f"pre-rendered charts not drawn: {ink}"
        # Python has not started the app: the loading overlay is up and the worker has not reached its code.
        assert page.evaluate(LOADER_UP)
        assert "Executing code" not in stage_at_ink, stage_at_ink
        print(f"\npre-rendered: {ink} after {t_ink:.1f} s; loader stages so far {stage_at_ink}")
        errors_before_python = [(k, t) for when, k, t in page.console if k in ("error", "pageerror")]
        missing = [(s, u) for s, u in page.responses if s >= 400]
        assert not errors_before_python, (errors_before_python, missing, router.unserved)
        screenshot(page, "site-1440")

        # Let the worker get as far as it can offline: boot Pyodide, unpack the archive, install, run.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            stages = page.evaluate("() => window.__stages.map(s => s.text)")
            if "Executing code" in stages and (
                page.evaluate("() => window.__loaderError") or not page.evaluate(LOADER_UP)
            ):
                break
            page.wait_for_timeout(500)
        stages = page.evaluate("() => window.__stages")
        print("loader stages:", stages, "| error:", page.evaluate("() => window.__loaderError"))
        texts = [s["text"] for s in stages]
        assert [s for s in STAGES if s in texts] == STAGES, texts
        assert [texts.index(s) for s in STAGES] == sorted(texts.index(s) for s in STAGES), texts
    finally:
        ctx.close()

    # No missing asset of the site's own, by the browser's account and by the server's.
    site_failures = [(s, u) for s, u in page.responses if u.startswith(origin) and s >= 400]
    site_failures += [(s, p) for s, p in server_log if s >= 400]
    assert not site_failures, site_failures
    fetched = {u.removeprefix(origin) for u in router.site_requests}
    assert {"/index.html", "/index.js", "/index.resources.zip"} <= fetched, fetched

    # Unserved: only the compiled wheels of Pyodide's lock file, and every one of them was asked for.
    compiled = {p.file for p in resolution.packages.values() if p.source == "pyodide-lock" and not p.pure}
    unserved = {u.rsplit("/", 1)[-1] for u in router.unserved}
    print("unserved (compiled Pyodide wheels):", sorted(unserved))
    assert all(u.split("/")[2] in CDN_HOSTS for u in router.unserved), router.unserved
    assert unserved == compiled, unserved ^ compiled
    # Everything else the worker needed was served: Pyodide itself, the lock file, Bokeh/Panel, the PyPI wheels.
    served = " ".join(router.served)
    for needle in ("pyodide.asm.wasm", "pyodide-lock.json", "bokeh-", "panel-", "holoviews-", "param-"):
        assert needle in served, needle


def test_phone_width(chromium, site_server, resolution, lock_wheels) -> None:
    ctx, page, _ = new_page(chromium, site_server, resolution, lock_wheels, 390, 844)
    try:
        page.goto(f"{site_server[0]}/index.html", wait_until="domcontentloaded")
        ink = wait_for_ink(page, min_charts=3)
        assert ink["inked"] >= 3, ink
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
        ink = wait_for_ink(frame, min_charts=3)
        assert ink["inked"] >= 3, ink
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
