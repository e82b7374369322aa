"""CPython 3.14 (Pyodide 314's Python) with exactly the packages the page installs, for running the site's code.

Pyodide 314.0.7 is CPython 3.14 compiled to WebAssembly; its compiled packages (numpy, pandas, polars, ...) exist
only on its CDN. The closest reproducible stand-in on this machine: Debian sid's ``python3.14`` (its ``.deb`` files
fetched with ``apt-get download`` into a private apt state, unpacked, run through the sid ``libc``'s own loader,
nothing installed system-wide) and, on its path, the CPython 3.14 wheels of exactly the versions the page installs:
Pyodide's lock versions for lock packages, the site's own pinned wheels for the rest. Both are cached under
``.cache/site-test/``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.static_site.pyodide_env import CACHE, Resolution, pinned_requirements

DEBIAN_SUITE = "sid"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# The interpreter and the shared libraries it and the compiled wheels link against, all from one suite (its
# libc is newer than the host's, hence its own loader).
DEBIAN_PACKAGES = (
    "python3.14-minimal",
    "libpython3.14-minimal",
    "libpython3.14-stdlib",
    "libc6",
    "libssl3t64",
    "libexpat1",
    "zlib1g",
    "libffi8",
    "libzstd1",
    "libsqlite3-0",
    "liblzma5",
    "libbz2-1.0",
)
# Linux x86-64 wheel tags a CPython 3.14 on a recent glibc accepts, newest first.
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "any",
)
ROOT = CACHE / "python3.14"


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise OSError(f"{' '.join(cmd[:3])} ... failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def debian_python314() -> list[str]:
    """The command that runs Debian's CPython 3.14 (fetched once into ``.cache/site-test/python3.14``)."""
    launcher = ROOT / "python3.14"
    if launcher.is_file():
        return [str(launcher)]
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb") and Path(DEBIAN_KEYRING).is_file()):
        raise OSError("apt-get, dpkg-deb and the Debian archive keyring are needed to fetch Python 3.14")
    shutil.rmtree(ROOT, ignore_errors=True)
    apt = ROOT / "apt"
    for sub in ("sources", "lists/partial", "cache/archives/partial", "debs"):
        (apt / sub).mkdir(parents=True)
    (apt / "sources" / "sid.sources").write_text(
        f"Types: deb\nURIs: {DEBIAN_MIRROR}\nSuites: {DEBIAN_SUITE}\nComponents: main\nSigned-By: {DEBIAN_KEYRING}\n"
    )
    options = [
        "-o", "Dir::Etc::SourceList=/dev/null",
        "-o", f"Dir::Etc::SourceParts={apt / 'sources'}",
        "-o", f"Dir::State::Lists={apt / 'lists'}",
        "-o", f"Dir::Cache={apt / 'cache'}",
        "-o", "APT::Sandbox::User=root",
    ]  # fmt: skip
    _run(["apt-get", *options, "-qq", "update"])
    proc = subprocess.run(
        ["apt-get", *options, "-qq", "download", *DEBIAN_PACKAGES], cwd=apt / "debs", capture_output=True, text=True
    )
    debs = sorted((apt / "debs").glob("*.deb"))
    if proc.returncode != 0 or len(debs) != len(DEBIAN_PACKAGES):
        raise OSError(f"apt-get download failed ({len(debs)} of {len(DEBIAN_PACKAGES)}):\n{proc.stderr[-2000:]}")
    root = ROOT / "root"
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(root)])
    libs = f"{root}/usr/lib/x86_64-linux-gnu:{root}/lib/x86_64-linux-gnu"
    loader = f"{root}/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    launcher.write_text(f'#!/bin/sh\nexec {loader} --library-path {libs} {root}/usr/bin/python3.14 "$@"\n')
    launcher.chmod(0o755)
    (ROOT / "debs.json").write_text(json.dumps([d.name for d in debs], indent=1))
    return [str(launcher)]


def page_site_packages(resolution: Resolution, project_wheel: Path) -> Path:
    """A folder holding, for CPython 3.14 on Linux, exactly the packages the page installs (``--no-deps``).

    Lock packages at the lock's versions from PyPI (the CPython builds of the releases Pyodide compiled), the
    site's pinned wheels themselves, the CPython-only requirements (bokeh's tornado) and the project wheel.
    """
    pins, extra = pinned_requirements(resolution, project_wheel)
    digest = hashlib.sha256(json.dumps([pins, extra]).encode() + project_wheel.read_bytes()).hexdigest()[:16]
    target = CACHE / f"py314-site-{digest}"
    if (target / ".complete").is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:"]
    cmd += ["--python-version", "3.14", "--implementation", "cp", "--abi", "cp314", "--abi", "abi3", "--abi", "none"]
    for platform in PLATFORMS:
        cmd += ["--platform", platform]
    _run([*cmd, "--target", str(target), *pins, *extra, str(project_wheel)])
    (target / ".complete").write_text("\n".join(pins + extra) + "\n")
    return target


def run_with_page_packages(python: list[str], site_packages: Path, script: Path, *args: str, cwd: Path):
    """``script`` run by ``python -I`` with only ``site_packages`` added to its path (no PYTHONPATH, no user site,
    no repository)."""
    bootstrap = (
        "import runpy, sys; "
        f"sys.path.insert(0, {str(site_packages)!r}); "
        f"sys.argv = [{str(script)!r}, *{list(args)!r}]; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [*python, "-I", "-c", bootstrap],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )
