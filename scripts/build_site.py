"""Build the static Pyodide site: the whole dashboard runs client-side, no server.

    python scripts/build_site.py                # -> site/ (index.html, index.js, wheels/, static/)
    python scripts/build_site.py --self-host    # + pyodide/: Pyodide's core from the npm package, not its CDN
    python scripts/build_site.py --pwa          # + site.webmanifest, serviceWorker.js, images/ (offline cache)

Steps:

1. ``pip wheel --no-deps`` builds the project wheel (the ``dashboard`` package with the data files bundled as
   ``dashboard/_data``, see pyproject's force-include).
2. ``panel convert --to pyodide-worker`` runs from a temporary staging folder holding that wheel and a short
   ``index.py`` (import ``dashboard.app``, ``build_app().servable()``). Panel executes the app once at build time
   and embeds the rendered Bokeh document in ``index.html`` (the pre-rendered first view, drawn before Python has
   loaded); the worker (``index.js``) then boots Pyodide, installs the packages and swaps in the live app.
3. Pinned and self-contained: the packages the page needs are resolved here, from the project's
   ``Requires-Dist`` with Pyodide's markers: what Pyodide's lock file has at a matching version comes from
   Pyodide (its CDN, loaded with ``loadPackage``); everything else (Bokeh, Panel, HoloViews, param, ...) is the
   exact version installed in this environment, the one the tests run, downloaded as its PyPI wheel, stripped of
   what the browser never reads (BokehJS and Panel's bundled JS, tests, examples) and shipped in ``wheels/``.
   Nothing is resolved at visit time. BokehJS, Panel's JS/CSS and the FAST template files are copied into
   ``static/``; the web fonts are dropped (system fonts), so the only other host is Pyodide's CDN
   (none with ``--self-host``). ``packages.json`` lists what ships.
4. The page is reworked for a fast first paint and a page usable while Python loads: a static first screen
   (HTML + SVG computed here by the project's own code) paints before BokehJS, the scripts are deferred, the
   worker starts once the pre-render is drawn and the page idle, and a small badge (stages, progress, a clear
   message and "Try again" when an install fails) replaces Panel's full-page overlay.
5. The outputs are checked: ``panel convert`` exits 0 even when the app failed to run.

``site/`` can be copied as is to any static host. ``site/README.md`` and ``site/embed.html`` are kept.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path
from urllib.parse import unquote

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "site"
ASSETS = Path(__file__).resolve().parent / "site_assets"
# Hand-written files that live in site/ and are deployed with it; a build never deletes them.
KEEP = ("README.md", "embed.html")
PAGE = "index"  # the staging script's name: panel convert names its outputs after it -> index.html
TITLE = "GGUF quantisation: quality, memory, fit"
ENTRY_SCRIPT = '''"""Static-site entry point: the dashboard, built and made servable (see scripts/build_site.py)."""

from panel.io.state import state

from dashboard.app import TITLE, build_app

# In the browser the worker's own location is index.js: the page sends its location (``page_location``, set by
# the worker before this runs) so a URL preset goes through the same validation and notices as on the server.
page_location = globals().get("page_location")
if page_location and state.location is not None:
    import json

    from panel.util import edit_readonly

    with edit_readonly(state.location):
        state.location.param.update(
            {k: v for k, v in json.loads(page_location).items() if k in state.location.param}
        )

build_app().servable(title=TITLE)
'''

PYODIDE_VERSION = "314.0.7"  # the runtime panel convert 1.10 targets
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
PYODIDE_NPM = REPO_ROOT / ".cache" / "site-test" / "npm" / "node_modules" / "pyodide"
WHEEL_CACHE = REPO_ROOT / ".cache" / "site-wheels"
# Pyodide 314.0.7's marker environment (CPython 3.14.2 on wasm32-emscripten).
PYODIDE_MARKERS = {
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "os_name": "posix",
    "platform_machine": "wasm32",
    "platform_release": "5.0.3",
    "platform_version": "",
    "implementation_name": "cpython",
    "implementation_version": "3.14.2",
    "platform_python_implementation": "CPython",
    "python_version": "3.14",
    "python_full_version": "3.14.2",
}
# What the browser never reads from the shipped wheels: BokehJS and Panel's bundled JS (the page loads them from
# static/), TypeScript sources, source maps, test suites and example notebooks.
STRIP_PREFIXES = (
    "bokeh/server/static/",
    "bokeh/sampledata/",
    "panel/dist/bundled/",
    "panel/dist/lib/",
    "panel/dist/dts/",
    "panel/dist/panel.js",
    "panel/dist/panel.min.js",
    "panel/dist/panel.json",
    "panel/tests/",
    "holoviews/tests/",
    "holoviews/examples/",
    "hvplot/tests/",
    "param/tests/",
)
STRIP_SUFFIXES = (".ts", ".tsx", ".js.map", ".pyc")
# Panel's bundled files that stay: the template, design and theme files Panel checks for on disk when it
# builds the page's document (in the worker too), although the browser loads them from static/.
KEEP_BUNDLED = (
    "fast/",
    "fastbasetemplate/",
    "fastlisttemplate/",
    "theme/",
    "@microsoft/",
    "reactiveesm/",
    "notificationarea/",
)
BOKEH_CDN = "https://cdn.bokeh.org/bokeh/release/"
PANEL_STATIC = "static/panel/"
BOKEH_STATIC = "static/bokeh/"
# Hosts a first visit may load from: Pyodide's CDN for its runtime and compiled packages, nothing else.
ALLOWED_HOSTS = ("cdn.jsdelivr.net",)
# The worker's stages, in order (the badge shows which one runs and how many there are).
STAGES = ("Loading pyodide", "Installing environment", "Executing code")

# Panel's FAST template sizes #sidebar as calc(100vh - 76px) plus its 15 + 5 px vertical padding inside #content's
# calc(100vh - 64px): the sidebar is 8 px too tall and the whole page scrolls by 8 px, which inside a blog's iframe
# is a second scrollbar next to the dashboard's own. Its height is therefore its row's less that padding (not
# `box-sizing: border-box`, which also took the 15 px of side padding from its width and cut its inputs at the
# right edge). Phones (<= 700 px, the app's PHONE_CSS) stack it instead.
# The FAST design's web font (Open Sans from Google) is dropped: system fonts.
SITE_CSS = """<style id="static-site-css">
  @media (min-width: 701px) { #sidebar { height: calc(100% - 20px); } }
  :root { --body-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
</style>
"""
BADGE = """<div id="loader" role="status" aria-live="polite" hidden>
      <div class="spinner"></div><progress max="1" value="0"></progress>
      <span id="loader-msg"></span><span id="loader-step"></span>
      <span id="loader-error"></span><button id="loader-retry" type="button" hidden>Try again</button>
    </div>"""


class BuildError(RuntimeError):
    """The wheel, the package set or the conversion did not produce what the site needs."""


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
        # "./" makes it a path (a bare wheel file name parses as a package name); the worker's install list is
        # replaced afterwards by the pinned set (patch_worker).
        "--requirements",
        f"./{wheel.name}",
    ]
    if pwa:
        cmd.append("--pwa")
    env = {k: v for k, v in os.environ.items() if k != "QUANT_DASHBOARD_DATA"}
    return run(cmd, stage, env)


# ----------------------------------------------------------------------------------------------------- packages


def pyodide_lock(lock_path: Path | None = None) -> dict[str, dict]:
    """Pyodide's ``pyodide-lock.json`` packages keyed by canonical name (from the npm ``pyodide`` package)."""
    path = lock_path or PYODIDE_NPM / "pyodide-lock.json"
    if not path.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError(f"{path} is missing: `npm install pyodide@{PYODIDE_VERSION}` into {PYODIDE_NPM.parent}")
        prefix = PYODIDE_NPM.parent.parent
        prefix.mkdir(parents=True, exist_ok=True)
        cmd = [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(prefix)]
        run([*cmd, f"pyodide@{PYODIDE_VERSION}"], prefix)
    lock = json.loads(path.read_text())
    if lock["info"]["python"] != PYODIDE_MARKERS["python_full_version"]:
        raise BuildError(f"{path} is for Python {lock['info']['python']}, not Pyodide {PYODIDE_VERSION}'s")
    return {canonicalize_name(e["name"]): e for e in lock["packages"].values()}


def _requires(lines: list[str], extras: set[str]) -> list[Requirement]:
    """The requirements that apply in Pyodide (markers evaluated for wasm32-emscripten, with these extras)."""
    out = []
    for line in lines:
        req = Requirement(line)
        if req.marker is None or any(
            req.marker.evaluate({**PYODIDE_MARKERS, "extra": extra}) for extra in ({""} | extras)
        ):
            out.append(req)
    return out


def resolve_packages(project_wheel: Path, lock: dict[str, dict]) -> tuple[dict[str, dict], dict[str, str]]:
    """The browser's package set, the way micropip would pick it, but pinned to what this environment runs.

    Returns ``(from_lock, shipped)``: Pyodide lock entries keyed by canonical name, and
    ``{distribution name: version}`` of the pure-Python packages the site ships (the project excluded). A lock
    package is used when the lock's version satisfies every requirement on it; anything else must be installed
    here (the version the tests run) as a pure-Python distribution, else the build stops.
    """
    with zipfile.ZipFile(project_wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        project_requires = Parser().parsestr(zf.read(meta).decode()).get_all("Requires-Dist") or []
    # panel convert always adds bokeh and panel to the page, at the versions installed here (Pyodide's lock has
    # an older bokeh, which this panel does not support).
    pinned = [f"{name}=={importlib.metadata.version(name)}" for name in ("bokeh", "panel")]
    queue = [(Requirement(r), "panel convert") for r in pinned]
    queue += [(r, "project") for r in _requires(project_requires, set())]
    from_lock: dict[str, dict] = {}
    shipped: dict[str, str] = {}
    names: dict[str, str] = {}
    while queue:
        req, via = queue.pop(0)
        key = canonicalize_name(req.name)
        if key in from_lock or key in shipped:
            version = from_lock[key]["version"] if key in from_lock else shipped[key]
            if not req.specifier.contains(version, prereleases=True):
                raise BuildError(f"{via} needs {req} but {key} {version} is already chosen")
            continue
        entry = lock.get(key)
        if entry is not None and req.specifier.contains(entry["version"], prereleases=True):
            from_lock[key] = entry
            queue += [(Requirement(dep), entry["name"]) for dep in entry.get("depends", [])]
            continue
        try:
            dist = importlib.metadata.distribution(req.name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise BuildError(f"{req} (for {via}) is neither in Pyodide's lock nor installed here") from exc
        if not req.specifier.contains(dist.version, prereleases=True):
            raise BuildError(f"{via} needs {req}; installed here: {dist.version}")
        if "Root-Is-Purelib: true" not in (dist.read_text("WHEEL") or ""):
            raise BuildError(f"{dist.metadata['Name']} {dist.version} (for {via}) is compiled and not in the lock")
        shipped[key] = dist.version
        names[key] = dist.metadata["Name"]
        queue += [(r, names[key]) for r in _requires(dist.requires or [], set(req.extras))]
    return from_lock, {names[k]: shipped[k] for k in sorted(shipped)}


def fetch_wheel(name: str, version: str) -> Path:
    """The PyPI wheel of ``name==version`` (pure Python), cached under .cache/site-wheels/."""

    def cached() -> Path | None:
        for path in WHEEL_CACHE.glob("*.whl"):
            wname, wversion, _, tags = parse_wheel_filename(path.name)
            if wname == canonicalize_name(name) and str(wversion) == version and any(t.platform == "any" for t in tags):
                return path
        return None

    if (hit := cached()) is None:
        WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        cmd += ["--python-version", "3.14", "--platform", "any", "--dest", str(WHEEL_CACHE), f"{name}=={version}"]
        run(cmd, WHEEL_CACHE)
        hit = cached()
    if hit is None:
        raise BuildError(f"no pure-Python wheel of {name}=={version} could be downloaded")
    return hit


def stripped(name: str) -> bool:
    """Whether a wheel member is left out of the site (see STRIP_PREFIXES)."""
    if name.startswith("panel/dist/bundled/") and name.removeprefix("panel/dist/bundled/").startswith(KEEP_BUNDLED):
        return False
    return name.startswith(STRIP_PREFIXES) or name.endswith(STRIP_SUFFIXES) or "/__pycache__/" in name


def strip_wheel(src: Path, dest_dir: Path) -> Path:
    """A copy of the wheel without what the browser never reads; its RECORD lists exactly what remains."""
    dest = dest_dir / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        names = [n for n in zin.namelist() if not stripped(n)]
        kept = set(names)
        for n in names:
            if n.endswith(".dist-info/RECORD") and n.count("/") == 1:
                lines = [ln for ln in zin.read(n).decode().splitlines() if ln and ln.split(",")[0] in kept]
                zout.writestr(n, "\n".join(lines) + "\n")
            else:
                zout.writestr(zin.getinfo(n), zin.read(n), zipfile.ZIP_DEFLATED)
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ship_packages(out: Path, project_wheel: Path, lock: dict[str, dict]) -> dict[str, object]:
    """Write wheels/ (pinned, stripped) and packages.json; returns the worker's install lists and the manifest."""
    from_lock, shipped = resolve_packages(project_wheel, lock)
    wheels_dir = out / "wheels"
    wheels_dir.mkdir()
    manifest: list[dict[str, object]] = []
    files = []
    for name, version in shipped.items():
        original = fetch_wheel(name, version)
        small = strip_wheel(original, wheels_dir)
        files.append(small.name)
        manifest.append(
            {
                "name": name,
                "version": version,
                "source": "site",
                "file": f"wheels/{small.name}",
                "bytes": small.stat().st_size,
                "pypi_bytes": original.stat().st_size,
                "sha256": sha256(small),
            }
        )
    project = Path(shutil.copy2(project_wheel, wheels_dir / project_wheel.name))
    files.append(project.name)
    _, project_version, _, _ = parse_wheel_filename(project.name)
    manifest.append(
        {
            "name": "llm-quant-dashboard",
            "version": str(project_version),
            "source": "site",
            "file": f"wheels/{project.name}",
            "bytes": project.stat().st_size,
            "sha256": sha256(project),
        }
    )
    for entry in sorted(from_lock.values(), key=lambda e: e["name"]):
        manifest.append(
            {
                "name": entry["name"],
                "version": entry["version"],
                "source": f"pyodide {PYODIDE_VERSION}",
                "file": entry["file_name"],
                "sha256": entry["sha256"],
            }
        )
    (out / "packages.json").write_text(json.dumps({"pyodide": PYODIDE_VERSION, "packages": manifest}, indent=1))
    return {
        "lock_packages": sorted(e["name"] for e in from_lock.values()),
        "wheels": [f"wheels/{f}" for f in files],
        "manifest": manifest,
    }


# --------------------------------------------------------------------------------------------------------- page


def _sub_once(pattern: str, repl: object, text: str, what: str, flags: int = 0) -> str:
    new, n = re.subn(pattern, repl, text, count=1, flags=flags)
    if n != 1:
        raise BuildError(f"could not {what}: panel convert's output changed shape (pattern {pattern!r})")
    return new


def patch_worker(js: str, install: dict[str, object], self_host: bool) -> str:
    """Panel's worker, changed to install the pinned set (no micropip, nothing resolved from PyPI), to report a
    failed install as a clear message, and to wait for the page's location before running the app."""
    prelude = (ASSETS / "worker_install.js").read_text()
    prelude = prelude.replace("__LOCK_PACKAGES__", json.dumps(install["lock_packages"]))
    prelude = prelude.replace("__WHEELS__", json.dumps(install["wheels"]))
    js = _sub_once(r'(import \{ loadPyodide \} from "[^"]+";\n)', lambda m: m.group(1) + prelude, js, "add installer")
    if self_host:
        js = self_host_worker(js)
    js = _sub_once(r"const data_archives = \[[^\]]*\];", "const data_archives = [];", js, "drop the archive")
    js = _sub_once(
        r'  await self\.pyodide\.loadPackage\("micropip"\);.*?Error while installing packages`\n    \}\);\n  \}\n',
        lambda _: (
            "  self.postMessage({type: 'status', msg: `Installing environment`})\n"
            "  try {\n    await installPackages(self.pyodide)\n  } catch (e) {\n    console.log(e)\n"
            "    self.postMessage({type: 'error', msg: e.message})\n    return\n  }\n"
            "  await pageReady\n  self.pyodide.globals.set('page_location', self.pageLocation)\n"
        ),
        js,
        "replace the micropip install",
        re.S,
    )
    return js


PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")


def self_host_worker(js: str) -> str:
    """The worker, changed to load Pyodide's core from the site's ``pyodide/`` folder; its packages (the lock's
    compiled wheels) still come from Pyodide's CDN."""
    js = _sub_once(
        re.escape(f'from "{PYODIDE_CDN}pyodide.mjs"'), 'from "./pyodide/pyodide.mjs"', js, "self-host Pyodide"
    )
    options = json.dumps({"packageBaseUrl": PYODIDE_CDN})
    return _sub_once(r"await loadPyodide\(\)", f"await loadPyodide({options})", js, "self-host Pyodide")


def copy_pyodide_core(out: Path) -> None:
    """Pyodide's core files from the npm package into ``out/pyodide/`` (``--self-host``)."""
    (out / "pyodide").mkdir(exist_ok=True)
    for name in PYODIDE_CORE:
        shutil.copy2(PYODIDE_NPM / name, out / "pyodide" / name)


def static_assets(html: str, out: Path) -> tuple[str, list[list[str]]]:
    """Copy BokehJS and Panel's JS/CSS into static/ and point the page there; drop the web font and the BokehJS
    extensions nothing uses. Returns the page and the URL rewrites the live document needs too."""
    import bokeh
    import panel

    panel_cdn = f"https://cdn.holoviz.org/panel/{panel.__version__}/dist/"
    panel_dist = Path(panel.__file__).parent / "dist"
    bokeh_js = Path(bokeh.__file__).parent / "server" / "static" / "js"
    html = re.sub(r'[ \t]*<link rel="stylesheet" href="https://fonts\.googleapis\.com/[^"]*"[^>]*>\n?', "", html)
    # TeX rendering (1.8 MB): no label, axis or text of the dashboard uses LaTeX.
    cdn = re.escape(BOKEH_CDN)
    html = re.sub(rf'<script type="text/javascript" src="{cdn}bokeh-mathjax-[^"]+"></script>\n?', "", html)
    if '"output_backend":"webgl"' not in html:
        html = re.sub(rf'<script type="text/javascript" src="{cdn}bokeh-gl-[^"]+"></script>\n?', "", html)
    bokeh_url = rf"{cdn}(bokeh(?:-[a-z]+)?)-{re.escape(bokeh.__version__)}\.min\.js"
    for name in set(re.findall(bokeh_url, html)):
        dest = out / BOKEH_STATIC / f"{name}.min.js"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(bokeh_js / f"{name}.min.js", dest)
    html = re.sub(bokeh_url, rf"{BOKEH_STATIC}\1.min.js", html)
    # Panel's files: what the page references, plus every component stylesheet and theme (views the live document
    # renders later ask for theirs) and the loading-spinner images.
    wanted = {unquote(p.split("?")[0]) for p in re.findall(rf"{re.escape(panel_cdn)}([^\"'\s)\\]+)", html)}
    wanted |= {f"css/{p.name}" for p in (panel_dist / "css").glob("*.css")}
    wanted |= {f"bundled/theme/{p.name}" for p in (panel_dist / "bundled" / "theme").glob("*.css")}
    wanted |= {f"assets/{p.name}" for p in (panel_dist / "assets").glob("*") if p.is_file()}
    wanted |= {"images/favicon.ico", "images/apple-touch-icon.png"}
    for rel in sorted(wanted):
        src = panel_dist / rel
        if not src.is_file():
            raise BuildError(f"the page uses {panel_cdn}{rel}, which Panel's dist does not have")
        dest = out / PANEL_STATIC / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    html = html.replace(panel_cdn, PANEL_STATIC)
    html = html.replace('href="https://panel.holoviz.org/_static/icons/site.webmanifest"', 'href="site.webmanifest"')
    shutil.copy2(panel_dist / "images" / "favicon.ico", out / "favicon.ico")
    return html, [[panel_cdn, PANEL_STATIC]]


def defer_scripts(html: str) -> str:
    """Let the page paint before BokehJS is fetched and run: classic script tags in <head> are deferred (they keep
    their order and run before DOMContentLoaded, which is when the embedding script starts)."""
    head, rest = html.split("</head>", 1)
    head = head.replace('<script type="text/javascript" src="', '<script defer type="text/javascript" src="')
    head = re.sub(r'<script src="([^"]+)"></script>', r'<script defer src="\1"></script>', head)
    head = _sub_once(
        r'<script type="text/javascript">\s*Bokeh\.set_log_level\("info"\);\s*</script>',
        lambda _: (
            '<script type="text/javascript">\n  document.addEventListener("DOMContentLoaded", '
            '() => window.Bokeh?.set_log_level("info"));\n</script>'
        ),
        head,
        "defer the log-level script",
    )
    return head + "</head>" + rest


def patch_page(html: str, rewrites: list[list[str]], first_screen: str) -> str:
    """The badge instead of the overlay, the first screen, the worker started on demand, local assets."""
    badge_css = (ASSETS / "badge.css").read_text()
    css = SITE_CSS + f'<style id="loading-badge-css">\n{badge_css}</style>\n'
    html = _sub_once(r"</head>", lambda _: css + "</head>", html, "add the site CSS")
    html = _sub_once(
        r'<div id="loader" style="display: flex;">\s*<div class="spinner"></div>\s*<div id="loader-msg"></div>'
        r'\s*<div id="loader-error"></div>\s*</div>',
        lambda _: BADGE,
        html,
        "replace the loading overlay",
    )
    if first_screen:
        html = _sub_once(
            r'(<div class="main" id="main">)', lambda m: m.group(1) + "\n" + first_screen, html, "add the first screen"
        )
    html = _sub_once(
        r"<script>\s*const pyodideWorker = new Worker\(\"\./index\.js\", \{type: 'module'\}\);",
        lambda _: (
            "<script>\n    function connectDashboardWorker() {\n"
            "      const pyodideWorker = new Worker(\"./index.js\", {type: 'module'});"
        ),
        html,
        "make the worker start on demand",
    )
    html = _sub_once(
        r"(pyodideWorker\.jsdoc\.apply_json_patch\(msg\.patch, msg\.buffers\)\n\s*\} finally \{\n"
        r"\s*patching -= 1\n\s*\}\n\s*\}\n\s*\};\n)",
        lambda m: m.group(1) + "      return pyodideWorker\n    }\n",
        html,
        "close the worker function",
    )
    html = _sub_once(
        r"const docs_json = JSON\.parse\(msg\.docs_json\)",
        lambda _: "const docs_json = JSON.parse(window.dashboardLocalise(msg.docs_json))",
        html,
        "localise the live document",
    )
    html = _sub_once(
        r"apply_json_patch\(msg\.patch, msg\.buffers\)",
        lambda _: "apply_json_patch(window.dashboardLocalisePatch(msg.patch), msg.buffers)",
        html,
        "localise patches",
    )
    html = _sub_once(
        r"(\n\s*// Clear pre-rendered contents\n)",
        lambda m: "\n          window.dashboardBeforeLive()" + m.group(1),
        html,
        "remember the open tab",
    )
    html = _sub_once(
        r"(jsdoc\.on_change\(send_change\.bind\(null, jsdoc\), false\)\n)",
        lambda m: m.group(1) + "          window.dashboardAfterLive(jsdoc)\n",
        html,
        "reopen the tab in the live document",
    )
    config = json.dumps({"stages": list(STAGES), "rewrites": rewrites})
    page_js = (ASSETS / "page.js").read_text().replace("__CONFIG__", config)
    return _sub_once(r"</body>", lambda _: f"<script>\n{page_js}</script>\n</body>", html, "add the page script")


def loaded_urls(html: str, js: str) -> list[str]:
    """Absolute URLs the page or the worker load (scripts, stylesheets, icons, imports; not links in text)."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    urls = [u for tag in tags for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', tag)]
    urls += re.findall(r'"(https?://[^"]+\.(?:css|js|mjs|woff2?|ttf)(?:\?[^"]*)?)"', html)
    urls += re.findall(r'from "(https?://[^"]+)"', js)
    return sorted(set(urls))


def check(out: Path, wheel: Path, log: str, install: dict[str, object]) -> dict[str, object]:
    """What the build wrote, verified (panel convert reports success and exits 0 even when the app raised)."""
    page, worker = out / f"{PAGE}.html", out / f"{PAGE}.js"
    for path in (page, worker):
        if not path.is_file() or path.stat().st_size == 0:
            raise BuildError(f"panel convert did not write {path.name}; its output:\n{log}")
    html = page.read_text(encoding="utf-8")
    if '<script type="application/json"' not in html or "data-root-id" not in html:
        raise BuildError(f"{page.name} has no pre-rendered Bokeh document; panel convert said:\n{log}")
    js = worker.read_text(encoding="utf-8")
    if "micropip" in js:
        raise BuildError(f"{worker.name} still resolves packages with micropip")
    if f"wheels/{wheel.name}" not in install["wheels"]:
        raise BuildError(f"the site does not ship the project wheel: {install['wheels']}")
    for rel in install["wheels"]:
        if not (out / rel).is_file():
            raise BuildError(f"{rel} is missing")
    foreign = [u for u in loaded_urls(html, js) if u.split("/")[2] not in ALLOWED_HOSTS]
    if foreign:
        raise BuildError(f"the page still loads from other hosts: {foreign}")
    return {"requirements": install["lock_packages"] + install["wheels"]}


def build(
    out: Path = DEFAULT_OUT, pwa: bool = False, self_host: bool = False, verbose: bool = True
) -> dict[str, object]:
    """Build the site into ``out``; returns what the page installs, the timings and the sizes."""
    sys.path.insert(0, str(REPO_ROOT))
    from dashboard.app import SECTIONS
    from dashboard.views.first_screen import first_screen_html

    out = out.resolve()
    timings: dict[str, float] = {}
    lock = pyodide_lock()
    with tempfile.TemporaryDirectory(prefix="quant-site-") as tmp:
        stage = Path(tmp)
        t0 = time.perf_counter()
        wheel = build_wheel(stage)
        timings["wheel_s"] = round(time.perf_counter() - t0, 1)
        clean(out)
        t0 = time.perf_counter()
        log = convert(stage, wheel, out, pwa)
        timings["convert_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        install = ship_packages(out, wheel, lock)
        timings["packages_s"] = round(time.perf_counter() - t0, 1)
        (out / f"{PAGE}.resources.zip").unlink(missing_ok=True)  # the project wheel ships in wheels/
        worker = out / f"{PAGE}.js"
        worker.write_text(patch_worker(worker.read_text(encoding="utf-8"), install, self_host), encoding="utf-8")
        page = out / f"{PAGE}.html"
        html, rewrites = static_assets(page.read_text(encoding="utf-8"), out)
        first_screen = first_screen_html(tab_titles=SECTIONS)  # the live page's tab row, first tab open
        page.write_text(patch_page(defer_scripts(html), rewrites, first_screen), encoding="utf-8")
        if self_host:
            copy_pyodide_core(out)
        info = check(out, wheel, log, install)
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
    info.update(out=str(out), wheel=wheel.name, timings=timings, total_bytes=total, packages=install["manifest"])
    if verbose:
        shipped = [p for p in install["manifest"] if p["source"] == "site"]
        print(f"built {out / (PAGE + '.html')} ({total / 1e6:.2f} MB in {out.name}/)")
        print(f"  wheel {wheel.name}: {timings['wheel_s']} s, panel convert: {timings['convert_s']} s")
        print("  shipped: " + ", ".join(f"{p['name']}=={p['version']} ({p['bytes'] / 1e6:.2f} MB)" for p in shipped))
        print(f"  from Pyodide {PYODIDE_VERSION}: " + ", ".join(install["lock_packages"]))
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: site/)")
    parser.add_argument("--pwa", action="store_true", help="also write a web manifest and an offline service worker")
    parser.add_argument("--self-host", action="store_true", help="ship Pyodide's core (npm package) in pyodide/")
    args = parser.parse_args(argv)
    try:
        build(args.out, pwa=args.pwa, self_host=args.self_host)
    except BuildError as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
