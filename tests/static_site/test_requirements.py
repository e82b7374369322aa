"""What the static site asks Pyodide for: every package resolves in Pyodide 314.0.7's lock file or as a pure wheel,
nothing heavy sneaks in, and the page's code runs in a clean CPython environment holding only that set."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.static_site.pyodide_env import INSTALLER_ONLY, PYODIDE_VERSION, Resolution, clean_env
from tests.ui.conftest import FIRST_TAB_VIEWS, VIEWS

pytestmark = pytest.mark.site

HERE = Path(__file__).resolve().parent
# Large packages the dashboard does not need; the page must not pull them in.
FORBIDDEN = {"pyarrow", "scipy", "matplotlib", "scikit-learn", "dask", "xarray", "datashader", "ipython"}
# Needed on CPython only: bokeh's server (`tornado; sys_platform != "emscripten"`). Pyodide runs without it.
CPYTHON_ONLY = {"tornado"}


def test_worker_loads_pinned_pyodide_and_the_sites_own_wheels(
    built_site: tuple[Path, dict], resolution: Resolution
) -> None:
    site, info = built_site
    js = (site / "index.js").read_text()
    assert f'from "https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/pyodide.mjs"' in js
    # Nothing is resolved at visit time: no micropip, no PyPI, no Panel CDN wheel.
    assert "micropip" not in js and "pypi" not in js.lower() and "cdn.holoviz.org" not in js
    assert f"wheels/{info['wheel']}" in info["requirements"]
    assert resolution.packages["llm-quant-dashboard"].source == "site"


def test_shipped_wheels_are_the_versions_the_tests_run(built_site: tuple[Path, dict], resolution: Resolution) -> None:
    """Every wheel the site ships is the version installed in this environment (the one the test suite runs)."""
    shipped = [p for p in resolution.packages.values() if p.source == "site" and p.name != "llm-quant-dashboard"]
    assert {canonicalize_name(p.name) for p in shipped} >= {"bokeh", "panel", "holoviews", "param", "hvplot"}
    for pkg in shipped:
        assert pkg.version == importlib.metadata.version(pkg.name), pkg
    manifest = json.loads((built_site[0] / "packages.json").read_text())
    listed = {(p["name"], p["version"]) for p in manifest["packages"]}
    assert {(p.name, p.version) for p in resolution.packages.values()} <= listed


def test_shipped_wheels_are_stripped(built_site: tuple[Path, dict]) -> None:
    """BokehJS, Panel's bundled JS, test suites and examples stay out of the wheels (the page has static/)."""
    site, info = built_site
    by_name = {Path(p["file"]).name.split("-")[0]: p for p in info["packages"] if p["source"] == "site"}
    for name, prefix in (
        ("bokeh", "bokeh/server/static/"),
        ("panel", "panel/dist/bundled/perspective/"),
        ("holoviews", "holoviews/tests/"),
    ):
        with zipfile.ZipFile(site / by_name[name]["file"]) as zf:
            assert not [n for n in zf.namelist() if n.startswith(prefix)], name
            record = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))).decode()
            assert prefix not in record
    shipped_bytes = sum(p["bytes"] for p in by_name.values())
    pypi_bytes = sum(p.get("pypi_bytes", p["bytes"]) for p in by_name.values())
    print(f"\nshipped wheels: {shipped_bytes / 1e6:.1f} MB (PyPI wheels: {pypi_bytes / 1e6:.1f} MB)")
    assert shipped_bytes < pypi_bytes / 3


def test_every_package_resolves_in_the_lock_or_as_a_pure_wheel(resolution: Resolution) -> None:
    print("\n" + resolution.table())
    assert not resolution.problems, "\n".join(resolution.problems)
    for pkg in resolution.packages.values():
        assert pkg.source in ("pyodide-lock", "site"), pkg
        assert pkg.source == "pyodide-lock" or pkg.pure, f"{pkg.name} {pkg.version} is neither in the lock nor pure"
    # The compiled ones all come from Pyodide's own builds.
    for name in ("numpy", "pandas", "polars"):
        assert resolution.packages[name].source == "pyodide-lock", resolution.packages[name]


def test_browser_payload_stays_small(resolution: Resolution) -> None:
    assert not FORBIDDEN & set(resolution.packages), FORBIDDEN & set(resolution.packages)
    assert set(resolution.cpython_only) <= CPYTHON_ONLY, resolution.cpython_only


def test_dev_and_browser_polars_match(resolution: Resolution) -> None:
    """pyproject pins polars to the release Pyodide ships, so the dev venv and the browser run the same code."""
    import polars

    assert resolution.packages["polars"].version == polars.__version__


def test_site_code_runs_in_a_clean_environment(built_site: tuple[Path, dict], resolution: Resolution) -> None:
    """Only the resolved packages installed (``--no-deps``), the project wheel from the site's own archive."""
    project_wheel = resolution.wheels[canonicalize_name("llm-quant-dashboard")]
    python, _installed = clean_env(resolution, project_wheel)

    listed = json.loads(
        subprocess.run(
            [str(python), "-m", "pip", "list", "--format", "json"], check=True, capture_output=True, text=True
        ).stdout
    )
    have = {canonicalize_name(p["name"]) for p in listed} - {"pip", "setuptools"}
    expected = (set(resolution.packages) - INSTALLER_ONLY) | CPYTHON_ONLY
    assert have == expected, have ^ expected

    # -I: no PYTHONPATH, no user site, no current folder on sys.path; cwd outside the repository so the data
    # can only come from the wheel.
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(
            [str(python), "-I", str(HERE / "render_check.py")],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": "/usr/bin:/bin", "HOME": cwd},
        )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print("\n" + json.dumps(report, indent=2))
    assert "site-packages/dashboard/_data" in report["data_dir"]
    # the first render holds the first tab's charts; every chart of the served dashboard is there once its tab opened
    assert report["first_views"] == sorted(f"view-{v}" for v in FIRST_TAB_VIEWS)
    assert report["views"] == sorted(f"view-{v}" for v in VIEWS)
    assert report["document_models"] > 100
    assert not report["error"]
    assert not {"pyarrow", "scipy", "matplotlib"} & set(report["imported"])
