"""Browser-test fixtures: a served dashboard and headless Chromium driven by Playwright.

The tests need Debian's chromium at /usr/bin/chromium. Without it they are skipped locally, but in CI
(``QUANT_DASHBOARD_REQUIRE_BROWSER=1``, set by ``.ci/run``) a missing browser is a failure.
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

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "tests" / "ui" / "screenshots"
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
    """The dashboard served for the browser tests; its log goes to tests/ui/artifacts/panel-serve.log."""
    folder = REPO_ROOT / "tests" / "ui" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "panel-serve.log", "w") as log, serve_app(log) as (url, _):
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
    page.wait_for_timeout(2500)  # charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)
    return path
