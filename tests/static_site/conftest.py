"""Static-site fixtures: the site built once per session, its resolved package set, headless Chromium.

Downloads (npm ``pyodide@314.0.7``, PyPI wheels, the clean venv) are cached under ``.cache/site-test/``.
Without npm or Chromium the tests skip locally; in CI (``QUANT_DASHBOARD_REQUIRE_BROWSER=1``) they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.static_site.pyodide_env import Resolution, ensure_pyodide, load_build_script, resolve

REQUIRED = bool(os.environ.get("QUANT_DASHBOARD_REQUIRE_BROWSER"))


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason + " (CI must run the static-site tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``scripts/build_site.py`` run into a temporary folder (the repository's site/ is left alone)."""
    out = tmp_path_factory.mktemp("site")
    info = load_build_script().build(out, verbose=False)
    return out, info


@pytest.fixture(scope="session")
def pyodide_dir() -> Path:
    try:
        return ensure_pyodide()
    except (FileNotFoundError, OSError) as exc:
        _missing(f"npm pyodide package unavailable: {exc}")


@pytest.fixture(scope="session")
def resolution(built_site: tuple[Path, dict], pyodide_dir: Path) -> Resolution:
    return resolve(built_site[0])


@pytest.fixture(scope="session")
def chromium(browser: object) -> object:
    """The shared headless Chromium (tests/conftest.py)."""
    return browser
