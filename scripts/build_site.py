"""Build the static Pyodide site: the whole dashboard runs client-side, no server.

    python scripts/build_site.py            # -> site/index.html, site/index.js, site/index.resources.zip
    python scripts/build_site.py --pwa      # + site.webmanifest, serviceWorker.js, images/ (offline cache)

Steps:

1. ``pip wheel --no-deps`` builds the project wheel (the ``dashboard`` package with the data files bundled as
   ``dashboard/_data``, see pyproject's force-include).
2. ``panel convert --to pyodide-worker`` runs from a temporary staging folder holding that wheel and a two-line
   ``index.py`` (import ``dashboard.app``, ``build_app().servable()``). Panel executes the app once at build time
   and embeds the rendered Bokeh document in ``index.html`` (the pre-rendered first view, drawn before Python has
   loaded); the worker (``index.js``) then boots Pyodide, installs the packages and swaps in the live app.
   The wheel is packed into ``index.resources.zip`` and installed from there (``emfs:packed_wheels/...``); its
   ``Requires-Dist`` pulls in the rest (Pyodide's own builds where its lock file has them, else pure wheels).
3. The outputs are checked: ``panel convert`` exits 0 even when the app failed to run.

Everything the page needs from elsewhere is on public CDNs (Bokeh JS, Panel's dist, Pyodide and its packages),
so ``site/`` can be copied as is to any static host. ``site/README.md`` and ``site/embed.html`` are kept.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "site"
# Hand-written files that live in site/ and are deployed with it; a build never deletes them.
KEEP = ("README.md", "embed.html")
PAGE = "index"  # the staging script's name: panel convert names its outputs after it -> index.html
TITLE = "GGUF quantisation: quality, memory, fit"
ENTRY_SCRIPT = '''"""Static-site entry point: the dashboard, built and made servable (see scripts/build_site.py)."""

from dashboard.app import TITLE, build_app

build_app().servable(title=TITLE)
'''


# Panel's FastListTemplate sizes #sidebar as calc(100vh - 76px) plus 20 px of padding inside #content's
# calc(100vh - 64px): the sidebar is 8 px too tall and the whole page scrolls by 8 px, which inside a blog's iframe
# is a second scrollbar next to the dashboard's own. Phones (<= 700 px, the app's PHONE_CSS) stack it instead.
SITE_CSS = """<style id="static-site-css">
  @media (min-width: 701px) { #sidebar { box-sizing: border-box; height: 100%; } }
</style>
"""


class BuildError(RuntimeError):
    """The wheel or the conversion did not produce what the site needs."""


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")
    return output


def build_wheel(dest: Path) -> Path:
    """The project wheel (``dashboard`` + ``dashboard/_data``), built with pip (no extra build tool needed)."""
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(REPO_ROOT)], dest)
    wheels = sorted(dest.glob("llm_quant_dashboard-*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one project wheel in {dest}, found {[w.name for w in wheels]}")
    with zipfile.ZipFile(wheels[0]) as zf:
        if "dashboard/_data/quant_types.csv" not in zf.namelist():
            raise BuildError(f"{wheels[0].name} does not bundle the data files (dashboard/_data/)")
    return wheels[0]


def clean(out: Path) -> None:
    """Remove a previous build's files, keeping the hand-written ones."""
    out.mkdir(parents=True, exist_ok=True)
    for child in out.iterdir():
        if child.name in KEEP:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def convert(stage: Path, wheel: Path, out: Path, pwa: bool) -> str:
    """``panel convert`` from the staging folder (the app executes at build time with this working directory)."""
    (stage / f"{PAGE}.py").write_text(ENTRY_SCRIPT)
    cmd = [
        sys.executable,
        "-m",
        "panel",
        "convert",
        f"{PAGE}.py",
        "--to",
        "pyodide-worker",
        "--out",
        str(out),
        "--title",
        TITLE,
        # "./" makes it a path (a bare wheel file name parses as a package name): panel packs the wheel into
        # index.resources.zip and installs it with micropip from emfs:packed_wheels/. Its Requires-Dist brings
        # in polars, pandas, holoviews, param, ...; panel and bokeh are always added by panel convert itself.
        "--requirements",
        f"./{wheel.name}",
    ]
    if pwa:
        cmd.append("--pwa")
    env = {k: v for k, v in os.environ.items() if k != "QUANT_DASHBOARD_DATA"}
    return run(cmd, stage, env)


def check(out: Path, wheel: Path, log: str) -> dict[str, object]:
    """What panel convert wrote, verified (it reports success and exits 0 even when the app raised)."""
    page, worker, archive = out / f"{PAGE}.html", out / f"{PAGE}.js", out / f"{PAGE}.resources.zip"
    for path in (page, worker, archive):
        if not path.is_file() or path.stat().st_size == 0:
            raise BuildError(f"panel convert did not write {path.name}; its output:\n{log}")
    html = page.read_text(encoding="utf-8")
    if '<script type="application/json"' not in html or "data-root-id" not in html:
        raise BuildError(f"{page.name} has no pre-rendered Bokeh document; panel convert said:\n{log}")
    if SITE_CSS not in html:
        html = html.replace("</head>", SITE_CSS + "</head>", 1)
        page.write_text(html, encoding="utf-8")
    js = worker.read_text(encoding="utf-8")
    match = re.search(r"micropip\.install\((\[.*?\])\)", js, re.S)
    if not match:
        raise BuildError(f"{worker.name} has no micropip.install([...]) call")
    requirements = ast.literal_eval(match.group(1))
    packed = f"emfs:packed_wheels/{wheel.name}"
    if packed not in requirements:
        raise BuildError(f"{worker.name} does not install the project wheel ({packed}): {requirements}")
    with zipfile.ZipFile(archive) as zf:
        if f"packed_wheels/{wheel.name}" not in zf.namelist():
            raise BuildError(f"{archive.name} lacks packed_wheels/{wheel.name}")
    return {"requirements": requirements}


def build(out: Path = DEFAULT_OUT, pwa: bool = False, verbose: bool = True) -> dict[str, object]:
    """Build the site into ``out``; returns the requirements the page installs and the timings."""
    out = out.resolve()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="quant-site-") as tmp:
        stage = Path(tmp)
        t0 = time.perf_counter()
        wheel = build_wheel(stage)
        timings["wheel_s"] = round(time.perf_counter() - t0, 1)
        clean(out)
        t0 = time.perf_counter()
        log = convert(stage, wheel, out, pwa)
        timings["convert_s"] = round(time.perf_counter() - t0, 1)
        info = check(out, wheel, log)
    # Hand-written companions, when building somewhere other than the repo's site/.
    if out != DEFAULT_OUT.resolve():
        for name in KEEP:
            if (DEFAULT_OUT / name).is_file():
                shutil.copy2(DEFAULT_OUT / name, out / name)
    manifest = out / "site.webmanifest"
    if pwa and manifest.is_file():
        # panel writes scope "/", which is outside the site when it is served from a sub-path (GitHub Pages
        # project sites, a blog's static/quant-dashboard/): scope the app to its own folder instead.
        manifest.write_text(manifest.read_text().replace('"scope": "/"', '"scope": "./"'))
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    info.update(out=str(out), wheel=wheel.name, timings=timings, total_bytes=total)
    if verbose:
        print(f"built {out / (PAGE + '.html')} ({total / 1e6:.2f} MB in {out.name}/)")
        print(f"  wheel {wheel.name}: {timings['wheel_s']} s, panel convert: {timings['convert_s']} s")
        print("  micropip installs: " + ", ".join(info["requirements"]))
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            print(f"  {path.relative_to(out)}  {path.stat().st_size:,} B")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: site/)")
    parser.add_argument("--pwa", action="store_true", help="also write a web manifest and an offline service worker")
    args = parser.parse_args(argv)
    try:
        build(args.out, pwa=args.pwa)
    except BuildError as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
