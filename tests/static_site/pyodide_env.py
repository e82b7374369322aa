"""What the static site asks Pyodide to install, resolved offline the way micropip does it.

The worker (``site/index.js``) installs a fixed list with ``loadPackage``: Pyodide lock packages by name and the
site's own pinned, stripped wheels (``wheels/``). :func:`resolve` reads that list and checks it the way micropip
would: every ``Requires-Dist`` of every shipped wheel (markers evaluated for Emscripten / CPython 3.14) and every
lock ``depends`` must be met by the list itself, so nothing is missing at visit time. The tests then build a
clean CPython environment holding exactly that set, and serve the same files to the browser.

Downloads (npm ``pyodide@314.0.7``, PyPI wheels) are cached under ``.cache/site-test/`` (gitignored).
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path
from types import ModuleType

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_build_script() -> ModuleType:
    """``scripts/build_site.py`` as a module (``scripts/`` is not a package): the site's build is the one source of
    the Pyodide version and its marker environment, which these tests check the shipped wheels against."""
    spec = importlib.util.spec_from_file_location("build_site", REPO_ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_BUILD = load_build_script()
PYODIDE_VERSION: str = _BUILD.PYODIDE_VERSION
# Marker environment of that Pyodide (CPython compiled to wasm32-emscripten)
PYODIDE_MARKERS: dict[str, str] = _BUILD.PYODIDE_MARKERS
CACHE = REPO_ROOT / ".cache" / "site-test"
NPM_PREFIX = CACHE / "npm"
PYODIDE_DIR: Path = _BUILD.PYODIDE_NPM
WHEELHOUSE = CACHE / "wheelhouse"

# Pyodide's installer (loaded by the worker before anything else): the page's code never imports it, and its
# PyPI releases need Python >= 3.13, so the clean CPython environment goes without it.
INSTALLER_ONLY = {"micropip"}
PURE_TAG = re.compile(r"-py[23](?:\.py3)?-none-any\.whl$")


def ensure_pyodide() -> Path:
    """The npm ``pyodide`` package (core runtime + ``pyodide-lock.json``, no package wheels); installs it once."""
    lock = PYODIDE_DIR / "pyodide-lock.json"
    if not lock.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise FileNotFoundError(
                f"{lock} is missing and npm is not installed (`npm install pyodide@{PYODIDE_VERSION}`)"
            )
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
                str(NPM_PREFIX),
                f"pyodide@{PYODIDE_VERSION}",
            ],
            check=True,
            capture_output=True,
        )
    version = json.loads((PYODIDE_DIR / "package.json").read_text())["version"]
    if version != PYODIDE_VERSION:
        raise RuntimeError(f"{PYODIDE_DIR} holds pyodide {version}, not {PYODIDE_VERSION}")
    return PYODIDE_DIR


def load_lock() -> dict[str, dict]:
    """``pyodide-lock.json`` packages keyed by canonical name."""
    packages = json.loads((ensure_pyodide() / "pyodide-lock.json").read_text())["packages"]
    return {canonicalize_name(entry["name"]): entry for entry in packages.values()}


def wheel_metadata(whl: Path | bytes) -> tuple[str, str, list[str]]:
    """Name, version and Requires-Dist of a wheel (a file or its bytes)."""
    with zipfile.ZipFile(io.BytesIO(whl) if isinstance(whl, bytes) else whl) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        msg = Parser().parsestr(zf.read(meta).decode("utf-8"))
    return msg["Name"], msg["Version"], msg.get_all("Requires-Dist") or []


@dataclass
class Wheelhouse:
    """Pure-Python wheels from PyPI, as micropip would pick them (``pip download`` for Python 3.14, any platform)."""

    folder: Path = WHEELHOUSE

    def wheels(self, name: str) -> list[tuple[Version, Path]]:
        found = []
        for path in self.folder.glob("*.whl"):
            wname, version, _, _ = parse_wheel_filename(path.name)
            if wname == canonicalize_name(name) and PURE_TAG.search(path.name):
                found.append((version, path))
        return sorted(found)

    def find(self, name: str, specifier: str = "") -> Path | None:
        spec = SpecifierSet(specifier)
        matching = [p for v, p in self.wheels(name) if spec.contains(v, prereleases=True)]
        return matching[-1] if matching else None

    def fetch(self, name: str, specifier: str = "") -> Path | None:
        """The newest cached wheel satisfying ``specifier``, else the newest pure wheel PyPI has."""
        if (hit := self.find(name, specifier)) is not None:
            return hit
        self.folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        cmd += ["--python-version", "3.14", "--platform", "any", "--dest", str(self.folder), f"{name}{specifier}"]
        subprocess.run(cmd, capture_output=True, text=True)
        return self.find(name, specifier)


@dataclass
class Package:
    name: str
    version: str
    source: str  # "pyodide-lock", "PyPI", "URL" (a wheel URL in the worker) or "resources zip"
    file: str  # lock file name, wheel path or URL
    via: str  # who asked for it first
    requires: list[str] = field(default_factory=list)  # specifiers others asked for

    @property
    def pure(self) -> bool:
        return bool(PURE_TAG.search(self.file))


@dataclass
class Resolution:
    packages: dict[str, Package] = field(default_factory=dict)
    # Requirements that apply to CPython on Linux but not to Pyodide (e.g. bokeh's tornado): a CPython
    # environment needs them although the browser does not.
    cpython_only: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    wheels: dict[str, Path] = field(default_factory=dict)  # canonical name -> local wheel (PyPI, URL, resources zip)

    def table(self) -> str:
        rows = [f"{'package':24} {'version':14} {'source':14} via"]
        for key in sorted(self.packages):
            p = self.packages[key]
            rows.append(f"{p.name:24} {p.version:14} {p.source:14} {p.via}")
        return "\n".join(rows)


def worker_requests(worker_js: str) -> dict[str, list[str]]:
    """The packages the site's worker loads: Pyodide lock packages by name, the site's own wheels by path."""
    out: dict[str, list[str]] = {"lock": [], "wheels": [], "pyodide": []}
    m = re.search(r"const LOCK_PACKAGES = (\[.*?\]);", worker_js, re.S)
    out["lock"] = json.loads(m.group(1)) if m else []
    m = re.search(r"const SITE_WHEELS = (\[.*?\]);", worker_js, re.S)
    out["wheels"] = json.loads(m.group(1)) if m else []
    out["pyodide"] = re.findall(r"""from\s*["']([^"']*/pyodide\.mjs)["']""", worker_js)
    return out


class Resolver:
    def __init__(self, site: Path, worker: str = "index.js", wheelhouse: Wheelhouse | None = None):
        self.site = site
        self.requests = worker_requests((site / worker).read_text(encoding="utf-8"))
        self.lock = load_lock()
        self.wheelhouse = wheelhouse or Wheelhouse()
        self.result = Resolution()
        self.cpython_markers = dict(default_environment())

    def run(self) -> Resolution:
        for name in self.requests["lock"]:
            self.require(Requirement(name), via="loadPackage")
        # The site's wheels first, then what they require: every requirement must be met by the shipped set or
        # the lock (nothing else is installed at visit time).
        added = []
        for rel in self.requests["wheels"]:
            path = self.site / rel
            if not path.is_file():
                self.result.problems.append(f"{rel}: not in the site")
                continue
            added.append(self.add_wheel(path, source="site", label=rel, via="loadPackage", follow=False))
        for name, requires in added:
            for req in requires:
                self.require(req, via=name, fetch=False)
        return self.result

    def add_wheel(
        self, path: Path, source: str, label: str, via: str, extras: frozenset[str] = frozenset(), follow: bool = True
    ) -> tuple[str, list[Requirement]]:
        name, version, requires = wheel_metadata(path)
        key = canonicalize_name(name)
        if key in self.result.packages:
            return name, []
        self.result.packages[key] = Package(name, version, source, str(path), via)
        self.result.wheels[key] = path
        wanted_reqs = []
        for line in requires:
            req = Requirement(line)
            if any(self._marker(req, extra, pyodide=True) for extra in ({""} | set(extras))):
                wanted_reqs.append(req)
            elif any(self._marker(req, extra, pyodide=False) for extra in ({""} | set(extras))):
                self.result.cpython_only.setdefault(canonicalize_name(req.name), []).append(f"{line}  ({name})")
        if follow:
            for req in wanted_reqs:
                self.require(req, via=name)
        return name, wanted_reqs

    def _marker(self, req: Requirement, extra: str, pyodide: bool) -> bool:
        if req.marker is None:
            return True
        env = dict(PYODIDE_MARKERS if pyodide else self.cpython_markers)
        env["extra"] = extra
        return req.marker.evaluate(env)

    def require(self, req: Requirement, via: str, fetch: bool = True) -> None:
        key = canonicalize_name(req.name)
        spec = str(req.specifier)
        if key in self.result.packages:
            pkg = self.result.packages[key]
            pkg.requires.append(f"{spec or 'any'} ({via})")
            if not req.specifier.contains(pkg.version, prereleases=True):
                self.result.problems.append(f"{via} needs {req.name}{spec} but {pkg.name} {pkg.version} is resolved")
            return
        entry = self.lock.get(key)
        if entry is not None and req.specifier.contains(entry["version"], prereleases=True):
            self.result.packages[key] = Package(
                entry["name"], entry["version"], "pyodide-lock", entry["file_name"], via
            )
            for dep in entry.get("depends", []):
                self.require(Requirement(dep), via=entry["name"])
            return
        if not fetch:
            self.result.problems.append(f"{req.name}{spec} (for {via}): neither shipped by the site nor loaded")
            return
        local = self.wheelhouse.fetch(req.name, spec)
        if local is None:
            self.result.problems.append(
                f"{req.name}{spec} (for {via}): not in pyodide-lock.json, no pure wheel on PyPI"
            )
            return
        self.add_wheel(local, source="PyPI", label=str(local), via=via, extras=frozenset(req.extras))


def resolve(site: Path) -> Resolution:
    return Resolver(site).run()


def lock_substitutes(resolution: Resolution, wheelhouse: Wheelhouse | None = None) -> dict[str, Path]:
    """PyPI wheels standing in for the pure-Python lock packages (Pyodide's CDN is unreachable offline).

    Keyed by the lock's file name. Compiled lock packages (numpy, pandas, polars, ...) have no stand-in.
    """
    wheelhouse = wheelhouse or Wheelhouse()
    out = {}
    for pkg in resolution.packages.values():
        if pkg.source == "pyodide-lock" and pkg.pure:
            local = wheelhouse.fetch(pkg.name, f"=={pkg.version}")
            if local is not None:
                out[pkg.file] = local
    return out


def pinned_requirements(resolution: Resolution, project_wheel: Path) -> tuple[list[str], list[str]]:
    """What a CPython environment needs to hold exactly the page's packages: lock packages at the lock's versions
    (CPython builds of the same release), the others as the very wheels the resolution picked; and apart, the
    CPython-only requirements (bokeh's tornado). The project wheel and Pyodide's installer are left out."""
    project = canonicalize_name(wheel_metadata(project_wheel)[0])
    pins = []
    for key, pkg in sorted(resolution.packages.items()):
        if key == project or key in INSTALLER_ONLY:
            continue
        pins.append(f"{pkg.name}=={pkg.version}" if pkg.source == "pyodide-lock" else str(resolution.wheels[key]))
    extra = sorted({line.split(";")[0].strip() for lines in resolution.cpython_only.values() for line in lines})
    return pins, extra


def clean_env(resolution: Resolution, project_wheel: Path) -> tuple[Path, list[str]]:
    """A fresh CPython venv holding exactly the resolved packages (plus the CPython-only ones), nothing else.

    Lock packages are installed from PyPI at the lock's versions (CPython builds of the same release), the
    others from the very wheels the resolution picked, all with ``--no-deps`` so nothing undeclared sneaks in.
    The venv is cached under ``.cache/site-test/`` keyed by that set; the project wheel is reinstalled each time.
    Returns the venv's python and the list of what was installed.
    """
    import hashlib

    pins, extra = pinned_requirements(resolution, project_wheel)
    key = hashlib.sha256(json.dumps([sys.version, pins, extra]).encode()).hexdigest()[:16]
    venv = CACHE / f"clean-env-{key}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        cmd = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:", *pins, *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"installing the clean environment failed:\n{proc.stdout}{proc.stderr}")
        (venv / ".complete").write_text("\n".join(pins + extra) + "\n")
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(project_wheel)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"installing {project_wheel.name} failed:\n{proc.stdout}{proc.stderr}")
    return python, [*pins, *extra, project_wheel.name]
