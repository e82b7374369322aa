"""Many sessions on one server: 30 concurrent browser sessions each change their own constraints; every
session keeps its own state, the server logs no error, and the memory per session is reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.conftest import NAVIGATION_TIMEOUT_MS, offline_stub, serve_app

pytestmark = pytest.mark.ui
SESSIONS = 30


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_thirty_sessions_keep_their_own_state(browser, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with open(log, "w") as out, serve_app(out) as (url, server):
        ctx = browser.new_context(viewport={"width": 1000, "height": 700})
        ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), offline_stub)
        ctx.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        errors: list[str] = []
        pages = []
        first = ctx.new_page()
        first.goto(url)  # warm the server's caches before measuring
        first.get_by_text(re.compile(" on 24 GB at ")).first.wait_for(timeout=120_000)
        first.close()
        baseline = rss_mib(server.pid)
        for _ in range(SESSIONS):
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.get_by_text(re.compile(" on 24 GB at ")).first.wait_for(timeout=120_000)
            pages.append(page)
        loaded = rss_mib(server.pid)
        # every session changes its own memory budget, all before any is checked
        budgets = [6 + 2 * i for i in range(SESSIONS)]
        for page, gb in zip(pages, budgets, strict=True):
            box = page.get_by_role("textbox", name="GPU memory (GB)")
            box.fill(str(gb))
            box.press("Enter")
        for page, gb in zip(pages, budgets, strict=True):
            page.get_by_text(re.compile(rf"Llama-3\.1-8B on {gb} GB at 8K context")).first.wait_for(timeout=120_000)
        # and nothing leaked: each page still shows only its own budget
        for page, gb in zip(pages, budgets, strict=True):
            text = page.get_by_text(re.compile(r"Llama-3\.1-8B on \d+ GB at 8K context")).first.inner_text()
            assert f" on {gb} GB " in text
        per_session = (loaded - baseline) / SESSIONS
        print(
            f"\nserver RSS: {baseline:.0f} MiB warm, {loaded:.0f} MiB with {SESSIONS} sessions "
            f"({per_session:.1f} MiB per session)"
        )
        assert not errors, errors[:5]
        out.flush()
        # the server's log while the sessions ran (Bokeh logs harmless assertion noise when it is killed with
        # sessions still open, so the shutdown is not part of the check)
        text = log.read_text()
        ctx.close()
    assert "Traceback" not in text and "ERROR" not in text, text[-3000:]
