"""The static site's worker code path in CI: Panel's Pyodide-worker branches under CPython (fake ``pyodide``/``js``
modules, no tornado, no threads) driving init, a URL preset, a widget change, an upload and a download click; once
in the development environment and once under CPython 3.14 with exactly the packages the page installs (Pyodide's
numpy, pandas and polars versions, the site's pinned wheels)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.static_site.conftest import _missing, load_build_script
from tests.static_site.pyodide_env import Resolution
from tests.static_site.python314 import debian_python314, page_site_packages, run_with_page_packages

pytestmark = pytest.mark.site

HERE = Path(__file__).resolve().parent
QUERY = "?vram_gb=banana&context=16384"


def check_report(report: dict) -> None:
    assert report["in_worker"] and not report["tornado_imported"] and report["threads_started"] == 0
    assert report["roots"] > 5
    # The URL preset went through the same validation as on the server: the good value applied, the bad one
    # named in the notice and replaced by the default.
    assert report["preset"] == {"context": 16384, "vram_gb": 24.0}
    assert report["notice"]["visible"] and "vram_gb" in report["notice"]["text"]
    assert "banana" in report["notice"]["text"]
    # A widget change from the page recomputes and sends the new recommendation back.
    assert report["widget_change"] == {"vram_gb": 12.0, "patched_summary": True}
    # An uploaded CSV is parsed and added, and the page is told.
    assert report["upload"] == {"rows": 2, "status_sent": True}
    # A click on the download button: the CSV is computed in Python and sent back to the page as a data URL
    # carrying the user's two rows.
    download = report["download"]
    assert download["data_urls_sent"] == 1 and download["filename"].endswith(".csv")
    assert download["header"].startswith("origin,model,quant,")
    assert len(download["user_rows_in_file"]) == 2, download


def test_worker_path_preset_widget_upload_download(tmp_path: Path) -> None:
    entry = tmp_path / "index.py"
    entry.write_text(load_build_script().ENTRY_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(HERE / "worker_emulation.py"), str(entry), QUERY],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print("\n" + json.dumps(report, indent=1))
    check_report(report)


def test_worker_path_under_python_314_with_the_pages_exact_packages(
    tmp_path: Path, built_site: tuple[Path, dict], resolution: Resolution
) -> None:
    try:
        python = debian_python314()
    except OSError as exc:
        _missing(f"CPython 3.14 unavailable: {exc}")
    site_packages = page_site_packages(resolution, resolution.wheels[canonicalize_name("llm-quant-dashboard")])
    entry = tmp_path / "index.py"
    entry.write_text(load_build_script().ENTRY_SCRIPT)
    proc = run_with_page_packages(python, site_packages, HERE / "worker_emulation.py", str(entry), QUERY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print("\n" + json.dumps(report, indent=1))
    versions = report["versions"]
    assert versions["python"].startswith("3.14."), versions
    for name in ("numpy", "pandas", "polars"):
        assert versions[name] == resolution.packages[name].version, (name, versions)
    check_report(report)
