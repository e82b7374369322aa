"""Benchmarks: what users feel, measured on this machine. Prints a table and writes JSON.

    python scripts/bench.py                 # everything (model layer, served app, static site)
    python scripts/bench.py --only model    # model layer only (no browser needed)
    python scripts/bench.py --only speed    # hardware.estimate_speed per (model, quant, device) only
    python scripts/bench.py --json bench-results.json
    python scripts/bench.py --only site --reference .cache/reference/quantisation-dashboard.html

* model: one constraint change -> every derived frame recomputed (p50/p95 over 200 changes); the full
  sweet-spots grid (every catalog model x 8 VRAM sizes x 6 contexts x every quant), and the same with a
  catalog 10x larger (growth should be linear).
* app: ``panel serve`` in headless Chromium: navigation -> every chart drawn; a widget change -> the
  recommendation and every chart updated (p50/p95 over 50 changes).
* load (only with ``--only load``; several minutes, bounded by LOAD_BOUND_S per phase, loopback only):
  ``panel serve --num-procs 2`` (``--num-procs``), 20 browser sessions each changing the GPU memory every 2-4 s
  for 60 s (p50/p95 from change to every view updated); then, on a one-process server (both sessions on one
  event loop, the worst case), one session's widget changes while another session pastes the worst allowed
  inputs (a distinct largest architecture dashboard.limits allows each time, 5 MB of the slowest
  llama-perplexity shape) for 60 s.
* memory (only with ``--only memory``; several minutes): one ``panel serve`` process's resident memory through
  the real page: idle, while one session pastes 500 distinct architectures, with a session holding 100,000 user
  rows, and after each session is closed (target: back within 10% of idle).
* worst (only with ``--only worst``): CPU time of the worst allowed inputs in one session as it first opens:
  a config.json of the largest architecture (worker thread / event loop) and 5 MB of the slowest log shape.
* site: first paint in one browser run, Pyodide's CDN routed to local files: the static site's first chart (the
  first screen's SVG), whole first screen (the live Bokeh charts drawn) and first interaction (a hover shows the
  tooltip), the served app's first chart (warm), and the same for ``--reference PATH`` (a local copy of another
  dashboard page, e.g. the public sammcj/quant ``quantisation-dashboard.html``; never committed) with the
  ratios; the bytes a first visit downloads by host and the packages the page installs.

Targets (from the project's issues): p50 < 10 ms per change in the model layer; load: p95 <= 1 s with 20 sessions,
and < 1 s p95 for one session while another pastes the worst allowed inputs; the speed estimate < 1 ms per
(model, quant, device); p50 <= 100 ms from a widget change to every visible view updated in the served app;
static first chart <= 1.0x the reference page's, its whole first screen <= 2.5x, the served app's first chart
<= 2.5x (warm); first-visit bytes outside Pyodide's CDN at most half of the ~33 MB of the unpinned build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def bench_model() -> dict[str, object]:
    from dashboard import memory, recommend
    from dashboard.models import catalog
    from dashboard.state import Explorer

    explorer = Explorer()
    c = explorer.constraints
    rng = random.Random(7)
    models = list(catalog())
    changes = []
    for _ in range(200):
        key = rng.choice(["vram_gb", "vram_gb", "model", "context", "kv_cache", "backend", "priority"])
        value = {
            "vram_gb": rng.choice([6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 80.0]),
            "model": rng.choice(models),
            "context": rng.choice([2048, 4096, 8192, 16384, 32768]),
            "kv_cache": rng.choice(["f16", "q8_0", "q4_0"]),
            "backend": rng.choice(["CUDA", "Metal", "CPU"]),
            "priority": rng.choice(["quality", "size", "speed"]),
        }[key]
        changes.append((key, value))
    samples = []
    for key, value in changes:
        before = explorer.n_recomputes
        t0 = time.perf_counter()
        setattr(c, key, value)
        samples.append((time.perf_counter() - t0) * 1000)
        assert explorer.n_recomputes in (before, before + 1)
    change = percentiles(samples)

    def full_grid(names: list[str]) -> float:
        # cold caches for both catalogs, so the two runs do the same kind of work
        for cached in (recommend._sweet_spots, memory.tensors, memory.tensor_bytes, memory.n_weights):
            cached.cache_clear()
        t0 = time.perf_counter()
        for context in recommend.CONTEXT_SIZES_TOKENS:
            recommend.sweet_spots(models=names, context=context)
        return time.perf_counter() - t0

    specs = catalog()
    grid_s = full_grid(list(specs))
    # 10x catalog: variants of every model (one more layer each) so no cache is shared with the originals
    big = {}
    for i in range(10):
        for name, spec in specs.items():
            variant = replace(spec, name=f"{name}~{i}", n_layers=spec.n_layers + i + 1)
            big[variant.name] = variant
    original = memory.resolve_model

    def resolve(model: object) -> object:
        return big[model] if isinstance(model, str) and model in big else original(model)

    memory.resolve_model = resolve
    recommend.resolve_model = resolve
    try:
        big_s = full_grid(list(big))
    finally:
        memory.resolve_model = original
        recommend.resolve_model = original
    speed = bench_speed_estimate()
    compare = bench_compare_models()
    n_quants = len(recommend._candidates())
    cells = len(specs) * len(recommend.VRAM_SIZES_GB) * len(recommend.CONTEXT_SIZES_TOKENS)
    return {
        "constraint_change": change,
        "full_grid": {
            "models": len(specs),
            "vram_sizes": len(recommend.VRAM_SIZES_GB),
            "contexts": len(recommend.CONTEXT_SIZES_TOKENS),
            "quants": n_quants,
            "cells": cells,
            "seconds": round(grid_s, 3),
        },
        "full_grid_10x_catalog": {
            "models": len(big),
            "seconds": round(big_s, 3),
            "growth_ratio": round(big_s / grid_s, 2),
        },
        **speed,
        **compare,
    }


def bench_compare_models() -> dict[str, object]:
    """``recommend.compare_models`` (every catalog model x quant at one budget): cold per context, then per budget.

    Cold: the first call for a (context, KV type, backend) builds every pair's memory and quality estimate; each
    further budget only filters and ranks that frame (bounded LRU caches).
    """
    from dashboard import recommend

    cold, warm = [], []
    for context in recommend.CONTEXT_SIZES_TOKENS:
        t0 = time.perf_counter()
        recommend.compare_models(24.0, context, "f16", "CUDA", "quality")
        cold.append((time.perf_counter() - t0) * 1000)
        for vram in recommend.VRAM_SIZES_GB:
            t0 = time.perf_counter()
            recommend.compare_models(float(vram) + 0.5, context, "f16", "CUDA", "size")
            warm.append((time.perf_counter() - t0) * 1000)
    return {"compare_models_cold": percentiles(cold), "compare_models_new_budget": percentiles(warm)}


def bench_speed_estimate() -> dict[str, object]:
    """``hardware.estimate_speed`` per (model, quant, device): every catalog model x quant x 6 devices.

    Cold: the per-layer byte split of each (model, quant) computed on first use (the calibration itself is fitted
    once per process, timed apart). Warm: the same calls again (the split is cached, bounded LRU).
    """
    from dashboard import hardware
    from dashboard.memory import catalog, quant_types

    t0 = time.perf_counter()
    hardware.calibration()
    hardware.validation_summary()
    calibration_ms = (time.perf_counter() - t0) * 1000
    devices = [
        "GeForce RTX 4090",
        "GeForce RTX 3060 12 GB",
        "H100 SXM5 80 GB",
        "Apple M3 Max",
        "Radeon RX 7900 XTX",
        "Apple M1",
    ]
    calls = [(m, q, d) for m in catalog() for q in quant_types() for d in devices]
    out: dict[str, object] = {"speed_estimate_calibration_ms": round(calibration_ms, 1)}
    for label in ("cold", "warm"):
        if label == "cold":
            hardware.layer_bytes.cache_clear()
        samples = []
        for m, q, d in calls:
            t0 = time.perf_counter()
            hardware.estimate_speed(m, q, device=d, context=8192)
            samples.append((time.perf_counter() - t0) * 1000)
        out[f"speed_estimate_{label}"] = percentiles(samples)
    return out


# From the widget's model changing in the page to the new recommendation on screen and Bokeh's document idle
# (every view re-rendered); measured inside the page so the test driver's own latency is not counted.
JS_CHANGE = """async (v) => {
  const doc = window.Bokeh.documents[0];
  const spin = [...doc.all_models].find(m => m.title === 'GPU memory (GB)');
  // the summary's text models, found once: walking every model of the document on each frame cost the 20 pages
  // more CPU than drawing the change did
  const summaries = [...doc.all_models].filter(m => typeof m.text === 'string' && / on [\\d.]+ GB at /.test(m.text));
  const t0 = performance.now();
  spin.value = v;
  return await new Promise(resolve => {
    const check = () => {
      const done = summaries.some(m => m.text.includes(' on ' + v + ' GB at '));
      if (done && doc.is_idle) resolve(performance.now() - t0); else requestAnimationFrame(check);
    };
    check();
  });
}"""
JS_SET_TEXT = "(el, text) => { el.value = text; el.dispatchEvent(new Event('change', {bubbles: true})); }"
JS_IDLE = "() => window.Bokeh && window.Bokeh.documents.length > 0 && window.Bokeh.documents.every(d => d.is_idle)"


def bench_app() -> dict[str, object]:
    import re

    from playwright.sync_api import sync_playwright

    from tests.ui.conftest import CHROMIUM, LAUNCH_ARGS, VIEWS, offline_stub, serve_app

    with serve_app() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
        ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), offline_stub)
        page = ctx.new_page()
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            page.goto(url, wait_until="commit")
            for view in VIEWS:  # locators pierce Panel's shadow DOM
                page.locator(f".view-{view} canvas").first.wait_for(state="attached", timeout=120_000)
            page.wait_for_function(JS_IDLE, timeout=120_000, polling=50)
            loads.append((time.perf_counter() - t0) * 1000)
        samples = []
        values = [8, 12, 16, 24, 32, 48, 80, 10, 20, 40]
        for i in range(50):
            samples.append(page.evaluate(JS_CHANGE, values[i % len(values)] + (i // len(values))))
        browser.close()
    return {
        "navigation_to_charts_drawn": percentiles(loads),
        "widget_change_to_views_updated": percentiles(samples),
    }


LOAD_SESSIONS = 20
LOAD_SECONDS = 60
LOAD_BOUND_S = 900  # the whole load benchmark stops after this, whatever state it is in
THINK_SECONDS = (2.0, 4.0)  # a person reads the answer before the next change
LOAD_PHASES = ("many", "protocol", "mixed", "paste")
MIXED_PAGES = 2  # "mixed" phase: this many of the 20 sessions are Chromium pages, the others protocol clients


def _cpu_seconds(pgid: int | None = None) -> float:
    """CPU time (user + system, s) of the processes in process group ``pgid``, or of the whole machine."""
    tick = os.sysconf("SC_CLK_TCK")
    if pgid is None:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        return (int(fields[0]) + int(fields[1]) + int(fields[2])) / tick  # user, nice, system
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[2]) == pgid:  # field 5: process group
            total += int(parts[11]) + int(parts[12])  # fields 14, 15: utime, stime
    return total / tick


def _group_cpu_seconds_by_process(pgid: int) -> dict[int, float]:
    """CPU time (user + system, s) of each process in process group ``pgid``, by process id."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[2]) == pgid:
            out[int(stat.parent.name)] = (int(parts[11]) + int(parts[12])) / tick
    return out


def _connections_by_process(pgid: int, port: int) -> dict[int, int]:
    """Established TCP connections accepted on ``port`` (loopback) held by each process of group ``pgid``: with
    the protocol clients, one per session, so this is how the kernel split the sessions between the processes."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # local port, ESTABLISHED
                inodes.add(fields[9])
    out: dict[int, int] = {}
    for pid in _group_cpu_seconds_by_process(pgid):
        held = 0
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held += 1
        except OSError:
            continue
        out[pid] = held
    return out


def _serve(num_procs: int):
    """``panel serve`` on loopback with ``num_procs`` processes (the README's deployment command)."""
    import contextlib
    import subprocess

    from tests.ui.conftest import free_port, wait_for

    @contextlib.contextmanager
    def run():
        port = free_port()
        cmd = [sys.executable, "-m", "panel", "serve", "dashboard/app.py", "--port", str(port)]
        cmd += ["--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"]
        cmd += ["--num-procs", str(num_procs)]
        from dashboard.views.common import SERVER_MEMORY_ENV

        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **SERVER_MEMORY_ENV},  # as the README's deployment runs it
        )
        try:
            url = f"http://127.0.0.1:{port}/app"
            wait_for(url, timeout_s=180)
            yield url, proc.pid  # the server's process group (start_new_session): for its CPU time
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the forked worker processes too
            proc.wait(timeout=30)
            time.sleep(2)
            try:  # forked workers that outlived their parent's SIGTERM (seen with --num-procs 2)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    return run()


async def _open(ctx, url: str, errors: list[str]):
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url, timeout=300_000)
    await page.wait_for_function(JS_IDLE, timeout=300_000, polling=200)
    return page


CHANGE_TIMEOUT_S = 60  # a change not shown by then counts as this long (and is counted apart)


async def _session_loop(page, seconds: float, seed: int, out: list[float], timed_out: list[int]) -> None:
    import asyncio

    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    value = 24.0
    while time.monotonic() < deadline:
        # a new value each time, with at most one decimal: the summary prints the budget rounded to 0.1 GB
        previous, value = value, rng.choice([8, 12, 16, 24, 32, 48, 80]) + rng.randint(0, 19) / 2
        if value == previous:
            value += 1
        try:
            out.append(await asyncio.wait_for(page.evaluate(JS_CHANGE, value), CHANGE_TIMEOUT_S))
        except TimeoutError:
            out.append(CHANGE_TIMEOUT_S * 1000.0)
            timed_out.append(1)
        await asyncio.sleep(rng.uniform(*THINK_SECONDS))
    await page.close()


def worst_config(depth_offset: int = 0) -> dict[str, object]:
    """The most expensive architecture dashboard.limits allows (deepest, most experts, largest vocabulary);
    ``depth_offset`` makes each one distinct, so no cache answers a repeated paste."""
    from dashboard import limits

    return {
        "_name_or_path": f"largest-allowed-{depth_offset}",
        "model_type": "mixtral",
        "hidden_size": 4096,
        "intermediate_size": 128,
        "num_attention_heads": 32,
        "num_hidden_layers": limits.MAX_LAYERS - depth_offset,
        "num_key_value_heads": 32,
        "vocab_size": limits.MAX_VOCAB_SIZE,
        "max_position_embeddings": limits.MAX_CONTEXT_TOKENS,
        "num_local_experts": limits.MAX_EXPERTS,
        "num_experts_per_tok": 8,
    }


# 5 MB of the slowest llama-perplexity shape the issue found (a 'Final estimate' line followed by digits)
WORST_LOG = ("Final estimate: PPL = " + "1" * 200 + "\n") * (4_900_000 // 223)


async def _paster_loop(page, seconds: float) -> int:
    """One session pasting the worst allowed inputs over and over: a distinct deepest, widest allowed
    architecture each time and 5 MB of the slowest llama-perplexity shape."""
    await page.get_by_text("Your measurements and models").first.click()
    log_box = page.get_by_role("textbox", name="Paste measurements")
    await log_box.wait_for(state="visible", timeout=120_000)
    # what a paste does (the value, then a change event, which Bokeh syncs); Playwright's fill of megabytes waits
    # on actionability checks for minutes on a busy machine
    await log_box.evaluate(JS_SET_TEXT, WORST_LOG)
    pastes = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        name = f"largest-allowed-{pastes % 100}"
        config_box = page.get_by_role("textbox", name="Paste a config.json")
        await config_box.fill(json.dumps(worst_config(pastes % 100)), timeout=120_000)
        for button, done in (("Use this model", f"Using {name} "), ("Add to charts", "Not added")):
            await page.get_by_role("button", name=button).click()
            await page.get_by_text(done).first.wait_for(timeout=120_000)
            pastes += 1
    return pastes


def bench_load(num_procs: int = 2, phases: tuple[str, ...] = LOAD_PHASES) -> dict[str, object]:
    """20 sessions changing the GPU memory every 2-4 s for 60 s, in Chromium pages ("many") and through Bokeh's
    client protocol without rendering ("protocol"); then one session's widget changes while another pastes the
    worst allowed inputs ("paste"). Loopback only, bounded in sessions and time."""
    import asyncio
    import re

    from playwright.async_api import async_playwright

    from tests.ui.conftest import CHROMIUM, LAUNCH_ARGS

    async def offline(route) -> None:
        await route.fulfill(status=200, body="", headers={"Access-Control-Allow-Origin": "*"})

    async def window(browser):
        """A browser context of its own (a window, as each person has: a page behind another one in its window is
        drawn about once a second), offline but for the served app."""
        ctx = await browser.new_context(viewport={"width": 1200, "height": 900})
        await ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), offline)
        return ctx

    async def browser_context(p):
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        return browser, await window(browser)

    async def many_sessions(url: str) -> dict[str, object]:
        async with async_playwright() as p:
            browser, ctx = await browser_context(p)
            errors: list[str] = []
            many: list[float] = []
            late: list[int] = []
            pages = []
            opens: list[float] = []
            for i in range(LOAD_SESSIONS):  # opened one after another
                t0 = time.perf_counter()
                pages.append(await _open(ctx if i == 0 else await window(browser), url, errors))
                opens.append((time.perf_counter() - t0) * 1000)
                print(f"  session {i + 1} open ({opens[-1]:.0f} ms)", file=sys.stderr, flush=True)
            server0, machine0, t0 = _cpu_seconds(server_pgid[0]), _cpu_seconds(), time.monotonic()
            await asyncio.gather(*(_session_loop(p, LOAD_SECONDS, i, many, late) for i, p in enumerate(pages)))
            wall_s = time.monotonic() - t0
            server_s, machine_s = _cpu_seconds(server_pgid[0]) - server0, _cpu_seconds() - machine0
            print(f"  {len(many)} widget changes timed", file=sys.stderr, flush=True)
            await browser.close()
        return {
            "processes": num_procs,
            "page_open_to_idle_ms": percentiles(opens),
            f"{LOAD_SESSIONS}_sessions_widget_change_ms": percentiles(many),
            f"{LOAD_SESSIONS}_sessions_changes_not_shown_within_{CHANGE_TIMEOUT_S}_s": len(late),
            # where the cores went while the sessions changed widgets: the server's processes, and everything
            # (the browser's 20 pages, other work on the machine)
            "server_cpu_cores_used": round(server_s / wall_s, 2),
            "machine_cpu_cores_used": round(machine_s / wall_s, 2),
            "page_errors": errors[:5],
        }

    async def beside_a_paster(url: str) -> dict[str, object]:
        async with async_playwright() as p:
            browser, ctx = await browser_context(p)
            errors: list[str] = []
            paster_page, calm_page = await _open(ctx, url, errors), await _open(ctx, url, errors)
            calm: list[float] = []
            late: list[int] = []
            paster = asyncio.create_task(_paster_loop(paster_page, LOAD_SECONDS))
            await _session_loop(calm_page, LOAD_SECONDS, 99, calm, late)
            pastes = await paster
            print(f"  {len(calm)} widget changes beside {pastes} worst pastes", file=sys.stderr, flush=True)
            await browser.close()
        return {
            "widget_change_while_another_session_pastes_worst_inputs_ms": percentiles(calm),
            f"changes_beside_the_paster_not_shown_within_{CHANGE_TIMEOUT_S}_s": len(late),
            "worst_pastes_done": pastes,
            "paste_phase_page_errors": errors[:5],
        }

    async def protocol_clients(url: str, pages: int = 0) -> dict[str, object]:
        """The same 20 sessions speaking Bokeh's websocket protocol directly (the messages a browser exchanges:
        ACK, PULL-DOC, PATCH-DOC; nothing deserialised, nothing rendered), all on one event loop, so that on this
        2-core machine the measure is the server's answer, not 20 renderers competing with it for the cores. A
        change is timed from sending the new GPU memory to receiving the patch whose summary names it. With
        ``pages``, that many of the 20 sessions are Chromium pages instead, timed in the page until the change is
        drawn: what one person sees while the others load the server (each person renders in their own browser)."""
        from bokeh.util.token import generate_jwt_token, generate_session_id
        from tornado.websocket import websocket_connect

        def spinner_id(doc: object) -> str:
            stack = [doc]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    attributes = node.get("attributes")
                    if node.get("name") == "Spinner" and isinstance(attributes, dict):
                        if attributes.get("title") == "GPU memory (GB)":
                            return node["id"]
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
            raise LookupError("no GPU memory spinner in the document")

        counter = [0]

        async def send(ws, msgtype: str, content: dict) -> None:
            counter[0] += 1
            await ws.write_message(json.dumps({"msgid": f"bench{counter[0]}", "msgtype": msgtype}))
            await ws.write_message("{}")
            await ws.write_message(json.dumps(content))

        async def receive(ws) -> tuple[dict, str]:  # header, metadata, content, then the buffers' frame pairs
            header = json.loads(await ws.read_message())
            await ws.read_message()
            content = await ws.read_message()
            for _ in range(2 * header.get("num_buffers", 0)):
                await ws.read_message()
            return header, content

        async def open_session():
            session_id = generate_session_id()
            ws = await websocket_connect(
                url.replace("http", "ws", 1) + "/ws",
                subprotocols=["bokeh", generate_jwt_token(session_id)],
                max_message_size=100 * 2**20,
            )
            header, _ = await receive(ws)
            if header["msgtype"] != "ACK":
                raise RuntimeError(f"expected ACK, got {header['msgtype']}")
            await send(ws, "PULL-DOC-REQ", {})
            while True:
                header, content = await receive(ws)
                if header["msgtype"] == "PULL-DOC-REPLY":
                    return ws, spinner_id(json.loads(content))

        async def shown(ws, needle: str) -> None:
            while True:
                header, content = await receive(ws)
                if header["msgtype"] == "PATCH-DOC" and needle in content:
                    return

        async def loop(i: int, ws, spinner: str, changes: list[float], late: list[int]) -> None:
            rng, value = random.Random(i), 24.0
            deadline = time.monotonic() + LOAD_SECONDS
            while time.monotonic() < deadline:
                previous, value = value, rng.choice([8, 12, 16, 24, 32, 48, 80]) + rng.randint(0, 19) / 2
                if value == previous:
                    value += 1
                t0 = time.perf_counter()
                event = {"kind": "ModelChanged", "model": {"id": spinner}, "attr": "value", "new": value}
                await send(ws, "PATCH-DOC", {"events": [event]})
                try:
                    await asyncio.wait_for(shown(ws, f" on {value:g} GB at "), CHANGE_TIMEOUT_S)
                    changes.append((time.perf_counter() - t0) * 1000)
                except TimeoutError:
                    changes.append(CHANGE_TIMEOUT_S * 1000.0)
                    late.append(1)
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))
            ws.close()

        opens: list[float] = []
        sessions = []
        for _ in range(LOAD_SESSIONS - pages):  # opened one after another, as the browser phase does
            t0 = time.perf_counter()
            sessions.append(await open_session())
            opens.append((time.perf_counter() - t0) * 1000)
        changes: list[float] = []
        late: list[int] = []
        in_page: list[float] = []
        in_page_late: list[int] = []
        page_errors: list[str] = []
        playwright = await async_playwright().start() if pages else None
        if playwright is not None:
            browser, ctx = await browser_context(playwright)
            pages_open = [await _open(ctx if i == 0 else await window(browser), url, page_errors) for i in range(pages)]
        pgid, port = server_pgid[0], int(url.rsplit(":", 1)[1].split("/", 1)[0])
        # how the kernel split the sessions between the server's processes (the parent of a forked server
        # accepts none: it only waits on its workers)
        split = _connections_by_process(pgid, port)
        if len(split) > 1:
            split.pop(pgid, None)
        load_before = [round(x, 2) for x in os.getloadavg()]
        server0, machine0, client0 = _cpu_seconds(pgid), _cpu_seconds(), time.process_time()
        by_process0 = _group_cpu_seconds_by_process(pgid)
        t0 = time.monotonic()
        await asyncio.gather(
            *(loop(i, ws, spinner, changes, late) for i, (ws, spinner) in enumerate(sessions)),
            *(_session_loop(page, LOAD_SECONDS, 100 + i, in_page, in_page_late) for i, page in enumerate(pages_open))
            if playwright is not None
            else (),
        )
        wall_s = time.monotonic() - t0
        server_s, machine_s = _cpu_seconds(pgid) - server0, _cpu_seconds() - machine0
        by_process = _group_cpu_seconds_by_process(pgid)
        client_s = time.process_time() - client0
        print(f"  {len(changes)} widget changes timed (protocol clients)", file=sys.stderr, flush=True)
        if playwright is not None:
            await browser.close()
            await playwright.stop()
        per_process = [
            {
                "sessions": split.get(pid, 0),
                "cpu_cores_used": round((by_process.get(pid, 0.0) - by_process0.get(pid, 0.0)) / wall_s, 2),
            }
            for pid in sorted(split, key=lambda pid: -split[pid])
        ]
        return {
            "processes": num_procs,
            "client": "Bokeh's websocket protocol spoken directly (no rendering, no document kept)",
            "session_open_ms": percentiles(opens),
            f"{LOAD_SESSIONS}_sessions_widget_change_ms": percentiles(changes),
            f"{LOAD_SESSIONS}_sessions_changes_not_shown_within_{CHANGE_TIMEOUT_S}_s": len(late),
            # the main figure, independent of other work on the machine: server CPU per widget change
            "server_cpu_ms_per_change": round(server_s * 1000 / max(len(changes), 1), 1),
            "server_cpu_cores_used": round(server_s / wall_s, 2),
            "sessions_and_cpu_per_server_process": per_process,
            "client_cpu_cores_used": round(client_s / wall_s, 2),
            "machine_cpu_cores_used": round(machine_s / wall_s, 2),
            # other work on the machine shares its 2 cores: read every latency with these
            "load_average_1_5_15_min_before": load_before,
            "load_average_1_5_15_min_after": [round(x, 2) for x in os.getloadavg()],
        } | (
            {
                f"in_{pages}_chromium_pages_widget_change_ms": percentiles(in_page),
                "in_page_changes_not_shown_within_60_s": len(in_page_late),
                "page_errors": page_errors[:5],
            }
            if pages
            else {}
        )

    out: dict[str, object] = {}
    server_pgid = [0]
    if "many" in phases:
        with _serve(num_procs) as (url, pgid):
            server_pgid[0] = pgid
            out.update(asyncio.run(asyncio.wait_for(many_sessions(url), timeout=LOAD_BOUND_S)))
        print(f"  {json.dumps(out)}", file=sys.stderr, flush=True)  # kept should the next phase fail
    if "protocol" in phases:
        with _serve(num_procs) as (url, pgid):
            server_pgid[0] = pgid
            out["protocol_clients"] = asyncio.run(asyncio.wait_for(protocol_clients(url), timeout=LOAD_BOUND_S))
        print(f"  {json.dumps(out['protocol_clients'])}", file=sys.stderr, flush=True)
    if "mixed" in phases:
        with _serve(num_procs) as (url, pgid):
            server_pgid[0] = pgid
            out["one_of_20_in_the_page"] = asyncio.run(
                asyncio.wait_for(protocol_clients(url, pages=MIXED_PAGES), timeout=LOAD_BOUND_S)
            )
        print(f"  {json.dumps(out['one_of_20_in_the_page'])}", file=sys.stderr, flush=True)
    if "paste" in phases:
        # one process: the paster and the other session share one event loop, the worst case
        with _serve(1) as (url, _pgid):
            out.update(asyncio.run(asyncio.wait_for(beside_a_paster(url), timeout=LOAD_BOUND_S)))
    return out


def bench_worst_inputs() -> dict[str, object]:
    """CPU time of the worst allowed inputs in one session as it first opens (a Bokeh document, no server):
    for a config.json, what runs in the worker thread (reading it, ``state.precompute_for``) and what then runs
    on the event loop (``use_config_spec``: the recompute and the redraw); 5 MB of the slowest llama-perplexity
    shape (parsed in the worker, refused); and a plain GPU-memory change, for comparison (also after every tab was
    opened once and the first one shown again)."""
    import panel as pn
    from bokeh.document import Document

    from dashboard.app import build_app, sync_url
    from dashboard.hf_config import spec_from_hf_config
    from dashboard.ingest import InputError, parse_measurements
    from dashboard.state import DEFAULT_MODEL, Explorer, precompute_for

    doc = Document()
    pn.state.curdoc = doc
    explorer = Explorer()
    template = build_app(explorer)
    sync_url(explorer.constraints, pn.pane.Alert(visible=False))  # as in a served session: the URL kept in step
    template.server_doc(doc)
    constraints = explorer.constraints

    def gpu_memory_changes() -> dict[str, float]:
        samples = []
        for v in (12.0, 16.0, 24.0, 32.0, 48.0, 10.0, 20.0, 40.0):
            t0 = time.process_time()
            constraints.vram_gb = v
            samples.append((time.process_time() - t0) * 1000)
        return percentiles(samples)

    plain_changes = gpu_memory_changes()
    worker, loop = [], []
    for i in range(3):  # distinct architectures: no cache answers
        t0 = time.process_time()
        spec = spec_from_hf_config(json.dumps(worst_config(10 + i)))
        precompute_for(constraints, spec)
        t1 = time.process_time()
        constraints.use_config_spec(spec)
        worker.append((t1 - t0) * 1000)
        loop.append((time.process_time() - t1) * 1000)
    with_the_largest = gpu_memory_changes()
    # the catalog model again, every tab opened once, then the first one shown again (a person who looked around)
    constraints.model = DEFAULT_MODEL
    (tabs,) = [t for column in template.main for t in column.select(pn.Tabs)]
    for index in range(len(tabs.objects)):
        tabs.active = index
    tabs.active = 0
    every_tab_opened = gpu_memory_changes()
    t0 = time.process_time()
    try:
        parse_measurements(WORST_LOG, model="m", quant="Q4_K_M")
    except InputError:
        pass
    log_ms = (time.process_time() - t0) * 1000
    return {
        "gpu_memory_change_cpu_ms": plain_changes,
        "gpu_memory_change_with_the_largest_model_cpu_ms": with_the_largest,
        "gpu_memory_change_every_tab_opened_first_shown_again_cpu_ms": every_tab_opened,
        "largest_config_worker_thread_cpu_ms": percentiles(worker),
        "largest_config_event_loop_cpu_ms": percentiles(loop),
        "slowest_5mb_log_parse_cpu_ms": round(log_ms, 1),
    }


MEMORY_ARCHITECTURES = 500
MEMORY_USER_ROWS = 100_000
SESSION_CLEANUP_WAIT_S = 45  # Bokeh drops a closed session after --unused-session-lifetime (15 s), checked every 17 s


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def bench_memory(architectures: int = MEMORY_ARCHITECTURES) -> dict[str, object]:
    """Server memory through the real page (one ``panel serve`` process, loopback, its resident set size read
    from /proc): idle (after one plain session opened and closed), while one session pastes 500 distinct
    architectures ("Use this model", each confirmed), with a session holding 100,000 of the user's rows, and after
    each of those sessions is closed."""
    import re
    import subprocess

    from playwright.sync_api import sync_playwright

    from tests.ui.conftest import CHROMIUM, LAUNCH_ARGS, free_port, offline_stub, wait_for

    port = free_port()
    cmd = [sys.executable, "-m", "panel", "serve", "dashboard/app.py", "--port", str(port), "--address", "127.0.0.1"]
    cmd += ["--allow-websocket-origin", f"127.0.0.1:{port}"]
    from dashboard.views.common import SERVER_MEMORY_ENV

    env = {**os.environ, **SERVER_MEMORY_ENV}  # the README's deployment setting
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    out: dict[str, object] = {"server_environment": SERVER_MEMORY_ENV}
    try:
        url = f"http://127.0.0.1:{port}/app"
        wait_for(url, timeout_s=180)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)

            def open_page():
                ctx = browser.new_context(viewport={"width": 1200, "height": 900})
                ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), offline_stub)
                page = ctx.new_page()
                page.goto(url, timeout=300_000)
                page.wait_for_function(JS_IDLE, timeout=300_000, polling=200)
                page.get_by_text("Your measurements and models").first.click()
                return ctx, page

            def closed(ctx) -> float:
                ctx.close()
                time.sleep(SESSION_CLEANUP_WAIT_S)
                return _rss_mib(proc.pid)

            out["server_started_mib"] = _rss_mib(proc.pid)
            ctx, _ = open_page()
            out["idle_after_one_plain_session_mib"] = idle = closed(ctx)

            ctx, page = open_page()
            box = page.get_by_role("textbox", name="Paste a config.json")
            button = page.get_by_role("button", name="Use this model")
            curve = {}
            t0 = time.perf_counter()
            for i in range(architectures):
                config = {
                    "_name_or_path": f"pasted-{i}",
                    "model_type": "llama",
                    "hidden_size": 2048 + 64 * (i % 50),
                    "intermediate_size": 8192 + 256 * i,
                    "num_attention_heads": 32,
                    "num_hidden_layers": 32 - (i % 7),
                    "num_key_value_heads": 8,
                    "vocab_size": 32000 + i,
                }
                box.fill(json.dumps(config))
                button.click()
                page.get_by_text(f"Using pasted-{i} (").first.wait_for(timeout=120_000)
                if (i + 1) in (1, 100, 200, 300, 400, 500) or i + 1 == architectures:
                    curve[i + 1] = _rss_mib(proc.pid)
                    print(f"  {i + 1} architectures pasted: {curve[i + 1]} MiB", file=sys.stderr, flush=True)
            out["pastes_per_s"] = round(architectures / (time.perf_counter() - t0), 2)
            out["while_pasting_architectures_mib"] = curve
            out["after_that_session_closed_mib"] = closed(ctx)

            ctx, page = open_page()
            rows = [f"user-{i % 97},Q4_K_M,{6 + i * 1e-6:.6f}" for i in range(MEMORY_USER_ROWS)]
            text = "model,quant,perplexity\n" + "\n".join(rows) + "\n"
            page.get_by_role("textbox", name="Paste measurements").evaluate(JS_SET_TEXT, text)
            page.get_by_role("button", name="Add to charts").click()
            page.get_by_text(f"Added {MEMORY_USER_ROWS} row(s)").first.wait_for(timeout=300_000)
            out["with_100000_user_rows_mib"] = _rss_mib(proc.pid)
            page.get_by_role("button", name="Remove my data").click()
            page.get_by_text(f"Removed {MEMORY_USER_ROWS} row(s)").first.wait_for(timeout=120_000)
            out["after_remove_my_data_mib"] = _rss_mib(proc.pid)
            out["after_the_100000_row_session_closed_mib"] = after = closed(ctx)
            out["after_close_vs_idle"] = round(after / idle, 3)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def _timed_loads(browser, url: str, route, steps: dict[str, object], runs: int, hover=None) -> dict[str, list]:
    """Load ``url`` ``runs`` times in fresh contexts (cold cache); ``steps`` maps a name to a callable(page) that
    returns when that milestone is reached; times are from navigation start (ms). ``hover`` (a callable(page)
    returning the points to hover and a callable(page) telling whether a tooltip shows) adds
    ``first_interaction``: the first time a hover over one of those points shows a tooltip (None after 60 s)."""
    out: dict[str, list] = {name: [] for name in steps}
    if hover is not None:
        out["first_interaction"] = []
    for _ in range(runs):
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, service_workers="block")
        ctx.route("**/*", route)
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        for name, wait in steps.items():
            wait(page)
            out[name].append((time.perf_counter() - t0) * 1000)
        if hover is not None:
            points, shown = hover(page)
            deadline, hit = time.perf_counter() + 60, None
            while hit is None and time.perf_counter() < deadline:
                for x, y in points:
                    page.mouse.move(x, y)
                    page.mouse.move(x + 2, y + 1)
                    if shown(page):
                        hit = (time.perf_counter() - t0) * 1000
                        break
            if hit is not None:
                out["first_interaction"].append(hit)
        ctx.close()
    return out


def bench_site(reference: Path | None = None, runs: int = 5) -> dict[str, object]:
    """First paint, measured in one browser run: the static site, the served app (warm) and a reference page.

    Static site: ``first_chart`` (the first screen's SVG memory chart painted), ``first_screen`` (the live Bokeh
    charts of the first tab drawn, the document idle), ``first_interaction`` (a hover over the memory chart shows
    its tooltip). Served app: its first chart drawn (one warm-up load first). Reference (``--reference PATH``, a
    local copy of another dashboard page): its first chart, all of its charts, its first tooltip. Also the bytes a
    first visit downloads, by host, and the packages the page installs.
    """
    import functools
    import http.server
    import re
    import shutil
    import tempfile
    import threading
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    from tests.static_site.offline import Router
    from tests.static_site.pyodide_env import ensure_pyodide, lock_substitutes, resolve
    from tests.ui.conftest import CHROMIUM, LAUNCH_ARGS, offline_stub, serve_app

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    import build_site

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        site = Path(tmp) / "site"
        info = build_site.build(site, verbose=False)
        ensure_pyodide()
        resolution = resolve(site)
        lock_wheels = lock_substitutes(resolution)
        if reference is not None:
            shutil.copy2(reference, site / "reference.html")
        quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
        handler = functools.partial(quiet, directory=str(site))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{httpd.server_address[1]}"

        def route(r) -> None:
            Router(origin, resolution, lock_wheels).handle(r)

        def memory_chart(page) -> tuple[list[tuple[float, float]], object]:
            # Over the bars (the canvas also holds the axis and the legend below), as the browser test hovers; the
            # tooltip's rows are in its own shadow root, which locators pierce.
            chart = page.locator(".view-memory-breakdown canvas").first
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            points = [
                (box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                for fy in (0.4, 0.3, 0.5)
                for fx in (0.3, 0.5, 0.7, 0.85)
            ]
            return points, lambda pg: pg.locator(".bk-Tooltip").get_by_text("Quant").first.is_visible()

        def first_screen(page) -> None:
            for view in ("memory-breakdown", "decision-tree"):  # the first tab's charts (dashboard.app.SECTIONS)
                page.locator(f".view-{view} canvas").first.wait_for(timeout=120_000)
            page.locator("#first-screen").wait_for(state="detached", timeout=120_000)
            page.wait_for_function(JS_IDLE, timeout=120_000, polling=50)

        try:
            with sync_playwright() as p, serve_app() as (app_url, _):
                browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                # Bytes of a first visit, by host, until the worker has done all it can offline.
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, service_workers="block")
                ctx.route("**/*", route)
                by_host: dict[str, int] = {}
                sizes: list[tuple[str, object]] = []
                ctx.on("requestfinished", lambda req: sizes.append((req.url, req)))
                page = ctx.new_page()
                page.goto(f"{origin}/index.html")
                page.wait_for_function("() => document.getElementById('loader-error')?.textContent", timeout=180_000)
                for url, req in sizes:
                    host = "this site" if url.startswith(origin) else urlparse(url).netloc
                    by_host[host] = by_host.get(host, 0) + req.sizes()["responseBodySize"]
                ctx.close()
                results["first_visit_bytes_by_host"] = dict(sorted(by_host.items()))

                site_times = _timed_loads(
                    browser,
                    f"{origin}/index.html",
                    route,
                    {
                        "first_chart": lambda pg: pg.locator("#first-screen-memory rect").first.wait_for(),
                        "first_screen": first_screen,
                    },
                    runs,
                    hover=memory_chart,
                )
                served = {"first_chart": []}
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
                ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), offline_stub)
                page = ctx.new_page()
                for i in range(runs + 1):  # the first load warms the server's caches
                    t0 = time.perf_counter()
                    page.goto(app_url, wait_until="commit")
                    page.locator(".view-memory-breakdown canvas").first.wait_for(timeout=120_000)
                    if i:
                        served["first_chart"].append((time.perf_counter() - t0) * 1000)
                ctx.close()
                ref_times = None
                if reference is not None:

                    def chart_box(page) -> tuple[list[tuple[float, float]], object]:
                        box = page.locator(".recharts-surface").first.bounding_box()
                        shown = (
                            "() => [...document.querySelectorAll('.recharts-tooltip-wrapper')].some(e => "
                            "getComputedStyle(e).visibility === 'visible' && e.textContent.trim())"
                        )
                        points = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5) for fx in (0.5, 0.3)]
                        return points, lambda pg: pg.evaluate(shown)

                    def all_charts(page) -> None:
                        page.wait_for_load_state("load")
                        page.wait_for_function(
                            "() => { const s = [...document.querySelectorAll('.recharts-surface')];"
                            " return s.length > 0 && s.every(e => e.querySelector('path, rect')); }",
                            timeout=60_000,
                        )

                    ref_times = _timed_loads(
                        browser,
                        f"{origin}/reference.html",
                        route,
                        {
                            "first_chart": lambda pg: pg.locator(".recharts-surface").first.wait_for(),
                            "first_screen": all_charts,
                        },
                        runs,
                        hover=chart_box,
                    )
                browser.close()
        finally:
            httpd.shutdown()
    static = {k: percentiles(v) for k, v in site_times.items()}
    results["static_site"] = static
    results["served_app_warm"] = {k: percentiles(v) for k, v in served.items()}
    if ref_times is not None:
        ref = {k: percentiles(v) for k, v in ref_times.items()}
        results["reference"] = ref

        def ratio(ours: dict, theirs: dict) -> float | None:
            return round(ours["p50_ms"] / theirs["p50_ms"], 2) if ours["n"] and theirs["n"] else None

        results["ratios_to_reference"] = {
            "static_first_chart": ratio(static["first_chart"], ref["first_chart"]),
            "static_first_screen": ratio(static["first_screen"], ref["first_chart"]),
            "static_first_interaction": ratio(static["first_interaction"], ref["first_interaction"]),
            "served_first_chart": ratio(results["served_app_warm"]["first_chart"], ref["first_chart"]),
        }
    shipped = [p for p in info["packages"] if p["source"] == "site"]
    results["site_wheels_bytes"] = sum(p["bytes"] for p in shipped)
    results["same_wheels_from_pypi_bytes"] = sum(p.get("pypi_bytes", p["bytes"]) for p in shipped)
    results["site_bytes"] = info["total_bytes"]
    results["packages_installed"] = sorted(f"{p['name']}=={p['version']} ({p['source']})" for p in info["packages"])
    return results


def machine() -> dict[str, object]:
    mem = (
        next(
            (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
            "?",
        )
        if Path("/proc/meminfo").exists()
        else "?"
    )
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else "?"
    )
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 2**20, 1) if mem != "?" else "?",
        "python": platform.python_version(),
        # other work on the machine shares its cores: every figure is read with this
        "load_average_1_5_15_min": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["model", "speed", "app", "site", "load", "memory", "worst"], action="append")
    parser.add_argument("--num-procs", type=int, default=2, help="server processes for the load benchmark")
    parser.add_argument("--architectures", type=int, default=MEMORY_ARCHITECTURES, help="distinct pastes (memory part)")
    parser.add_argument("--runs", type=int, default=5, help="page loads per measured page (site part)")
    parser.add_argument(
        "--load-phase",
        choices=LOAD_PHASES,
        action="append",
        help="only this part of the load benchmark",
    )
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "bench-results.json")
    parser.add_argument(
        "--reference", type=Path, help="a local copy of another dashboard page to compare first paint with (site part)"
    )
    args = parser.parse_args(argv)
    parts = args.only or ["model", "app", "site"]
    results: dict[str, object] = {"machine": machine()}
    for part in parts:
        print(f"running {part} benchmarks…", flush=True)
        benches = {"model": bench_model, "speed": bench_speed_estimate, "app": bench_app}
        benches["site"] = lambda: bench_site(args.reference, args.runs)
        benches["load"] = lambda: bench_load(args.num_procs, tuple(args.load_phase or LOAD_PHASES))
        benches["memory"] = lambda: bench_memory(args.architectures)
        benches["worst"] = bench_worst_inputs
        results[part] = benches[part]()
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\n{'benchmark':58s} value")
    for part in parts:
        for name, value in results[part].items():
            print(f"{part + ': ' + name:58s} {json.dumps(value)}")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
