"""``build_site.py --self-host``: Pyodide's core comes from the site itself, only its packages from Pyodide's CDN.

The built site is copied and self-hosted with the build's own two steps (worker rewrite, core copy), served on a
loopback port and opened in headless Chromium with Pyodide's CDN routed to local files. Offline the worker gets as
far as the compiled packages (numpy, pandas, polars exist only on Pyodide's CDN): that proves Pyodide booted from
the site's copy and then asked the CDN for its packages, and nothing else.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.static_site.conftest import load_build_script
from tests.static_site.offline import Router
from tests.static_site.pyodide_env import Resolution, lock_substitutes

pytestmark = pytest.mark.site


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_self_hosted_pyodide_core_loads_from_the_site(
    chromium, built_site: tuple[Path, dict], resolution: Resolution, tmp_path: Path
) -> None:
    build = load_build_script()
    site = tmp_path / "site"
    shutil.copytree(built_site[0], site)
    worker = site / "index.js"
    worker.write_text(build.self_host_worker(worker.read_text()))
    build.copy_pyodide_core(site)
    assert build.loaded_urls((site / "index.html").read_text(), worker.read_text()) == [], "absolute URL left"

    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    router = Router(origin, resolution, lock_substitutes(resolution))
    # The site's lock copy names the PyPI stand-ins' hashes, as the routed CDN lock does in the other tests.
    (site / "pyodide" / "pyodide-lock.json").write_bytes(router.patched_lock())
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    ctx.route("**/*", router.handle)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    try:
        page.goto(f"{origin}/index.html", wait_until="domcontentloaded")
        page.wait_for_function(
            "() => (document.getElementById('loader-error') || {}).textContent", timeout=180_000, polling=500
        )
        error = page.locator("#loader-error").text_content()
    finally:
        ctx.close()
        httpd.shutdown()
        httpd.server_close()

    core = set(build.PYODIDE_CORE)
    from_site = {urlparse(u).path.rsplit("/", 1)[-1] for u in requests if u.startswith(f"{origin}/pyodide/")}
    from_cdn = [u for u in requests if urlparse(u).netloc == "cdn.jsdelivr.net"]
    print(f"\ncore from the site: {sorted(from_site)}; {len(from_cdn)} CDN requests; error: {error}")
    # The runtime came from the site (the lock too), none of it from the CDN.
    assert {"pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"} <= (
        from_site
    ), from_site
    assert not [u for u in from_cdn if u.rsplit("/", 1)[-1] in core], from_cdn
    # Pyodide ran: it asked its CDN for the packages (nothing but .whl files), and stopped at the compiled ones.
    assert from_cdn and all(urlparse(u).path.endswith(".whl") for u in from_cdn), from_cdn
    outside = [u for u in requests if not u.startswith((origin, "data:", "blob:", "https://cdn.jsdelivr.net/"))]
    assert not outside, outside
    assert "Could not install" in error and "numpy" in error, error
