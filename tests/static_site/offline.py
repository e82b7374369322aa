"""Route the CDN URLs a ``panel convert`` (pyodide-worker) page requests to local files, for offline browser tests.

Sources, all local:

* Bokeh JS (``cdn.bokeh.org``)          -> ``<site-packages>/bokeh/server/static/js/``
* Panel's dist (``cdn.holoviz.org``)     -> ``<site-packages>/panel/dist/``
* Bokeh/Panel wheels on Panel's CDN      -> the same versions' PyPI wheels (resolved in ``pyodide_env``)
* Pyodide core (``cdn.jsdelivr.net``)    -> the npm ``pyodide`` package (runtime + lock file, no package wheels)
* pure-Python lock packages              -> PyPI wheels of the lock's versions; the served ``pyodide-lock.json``
  carries their sha256 (Pyodide rebuilds even pure wheels, so PyPI's bytes differ from the lock's hashes)
* PyPI's simple API (``pypi.org/simple``) -> PEP 691 JSON pages listing the resolved wheels
* web fonts (Google Fonts, the Tabler icon font Panel's buttons use) -> empty CSS, as in the served-app browser
  tests (Panel does not bundle them; online visitors get the real ones, and the page works without them)

Compiled Pyodide wheels (numpy, pandas, polars, ...) exist only on Pyodide's CDN: those requests get a 404 and
are recorded in ``unserved``, like anything else no rule covers.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import bokeh
import panel
from packaging.utils import canonicalize_name

from tests.static_site.pyodide_env import PYODIDE_DIR, PYODIDE_VERSION, Resolution

BOKEH_JS = Path(bokeh.__file__).parent / "server" / "static" / "js"
PANEL_DIST = Path(panel.__file__).parent / "dist"
FILES_HOST = "https://files.pythonhosted.org/offline-wheelhouse/"
CDN_HOSTS = {"cdn.bokeh.org", "cdn.holoviz.org", "cdn.jsdelivr.net", "pypi.org", "files.pythonhosted.org"}
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".css": "text/css",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".map": "application/json",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Router:
    """A Playwright route handler: ``context.route("**/*", Router(...).handle)``."""

    site_origin: str  # http://127.0.0.1:<port>
    resolution: Resolution
    lock_wheels: dict[str, Path]  # lock file name -> PyPI stand-in (pure lock packages)
    served: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)
    unserved: list[str] = field(default_factory=list)
    site_requests: list[str] = field(default_factory=list)
    _lock: bytes | None = None

    def __post_init__(self) -> None:
        # Wheels micropip gets from PyPI or a URL, by file name.
        self.wheels = {p.name: p for p in self.resolution.wheels.values()}
        self.index = {key: p for key, p in self.resolution.wheels.items()}

    def patched_lock(self) -> bytes:
        if self._lock is None:
            lock = json.loads((PYODIDE_DIR / "pyodide-lock.json").read_text())
            for pkg in lock["packages"].values():
                if (local := self.lock_wheels.get(pkg["file_name"])) is not None:
                    pkg["sha256"] = sha256(local)
            self._lock = json.dumps(lock).encode()
        return self._lock

    def resolve(self, url: str) -> Path | bytes | None:
        u = urlparse(url)
        host, path = u.netloc, u.path
        name = path.rsplit("/", 1)[-1]
        if host == "cdn.bokeh.org" and path.startswith("/bokeh/release/"):
            # bokeh-widgets-3.10.2.min.js -> bokeh-widgets.min.js
            return BOKEH_JS / re.sub(rf"-{re.escape(bokeh.__version__)}(\.min)?\.js$", r"\1.js", name)
        if host == "cdn.holoviz.org":
            if name.endswith(".whl"):
                return self.wheels.get(name)
            prefix = f"/panel/{panel.__version__}/dist/"
            if path.startswith(prefix):
                return PANEL_DIST / unquote(path[len(prefix) :])
        if host == "cdn.jsdelivr.net" and path.startswith(f"/pyodide/v{PYODIDE_VERSION}/full/"):
            rel = path.split("/full/", 1)[1]
            if rel == "pyodide-lock.json":
                return self.patched_lock()
            if (PYODIDE_DIR / rel).is_file():
                return PYODIDE_DIR / rel
            return self.lock_wheels.get(rel)
        if host == "pypi.org" and path.startswith("/simple/"):
            project = canonicalize_name(path.strip("/").split("/")[1])
            wheel = self.index.get(project)
            if wheel is None:
                return None
            files = [{"filename": wheel.name, "url": FILES_HOST + wheel.name, "hashes": {"sha256": sha256(wheel)}}]
            return json.dumps({"meta": {"api-version": "1.1"}, "name": project, "files": files}).encode()
        if url.startswith(FILES_HOST):
            return self.wheels.get(name)
        return None

    def handle(self, route) -> None:
        url = route.request.url
        if url.startswith(self.site_origin):
            self.site_requests.append(url)
            return route.continue_()
        if url.startswith(("data:", "blob:")):
            return route.continue_()
        if urlparse(url).netloc in ("fonts.googleapis.com", "fonts.gstatic.com") or "/@tabler/icons-webfont@" in url:
            self.stubbed.append(url)
            return route.fulfill(status=200, body="", headers={**CORS, "Content-Type": "text/css"})
        target = self.resolve(url)
        if isinstance(target, bytes):
            ctype = "application/vnd.pypi.simple.v1+json" if "pypi.org/simple" in url else "application/json"
            self.served.append(url)
            return route.fulfill(status=200, body=target, headers={**CORS, "Content-Type": ctype})
        if isinstance(target, Path) and target.is_file():
            self.served.append(url)
            return route.fulfill(
                status=200, body=target.read_bytes(), headers={**CORS, "Content-Type": content_type(target)}
            )
        self.unserved.append(url)
        # A 404 (not an abort) so the worker's fetch fails fast with a readable error.
        return route.fulfill(status=404, body=b"not available offline", headers=CORS)
