"""Shared fixtures: the repository root and data folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def data_folder() -> Path:
    return REPO_ROOT / "data"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole run (Playwright's sync API allows one instance per thread).

    Skipped without Chromium locally; in CI (``QUANT_DASHBOARD_REQUIRE_BROWSER=1``) a missing browser fails.
    """
    from tests.ui.conftest import CHROMIUM, LAUNCH_ARGS

    if not Path(CHROMIUM).exists():
        if os.environ.get("QUANT_DASHBOARD_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The static-site tests share one site build (and one cached clean environment): with several test workers
    they run on the same one."""
    site = REPO_ROOT / "tests" / "static_site"
    for item in items:
        if site in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("site"))
