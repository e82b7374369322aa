"""Run the static site's worker code path under CPython: fake ``pyodide``/``js`` modules, no tornado, no threads.

Executed by ``test_worker_emulation.py`` in a subprocess (the fakes must be in place before Panel is imported).
Panel sees ``_pyodide`` and a ``js`` module without ``document``, so it takes its Pyodide-worker branches, exactly
as in ``site/index.js``: ``init_doc()``, the page's location applied by the site's entry script, the app built,
``write_doc()``, then ``_link_docs_worker`` and JSON patches from "the page" applied the way the worker applies
them (``_convert_json_patch`` + ``apply_json_patch(setter='js')``). Prints one JSON line of what happened.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import sys
import threading
import types


class _JsValue(dict):
    """A JS object as the worker receives it from postMessage: ``to_py`` gives the Python value."""

    def to_py(self, default_converter=None) -> dict:
        return json.loads(json.dumps(self))


def install_fakes() -> None:
    js = types.ModuleType("js")
    js.JSON = types.SimpleNamespace(parse=json.loads, stringify=json.dumps)
    js.XMLHttpRequest = object
    js.Object = types.SimpleNamespace(entries=lambda x: list(x.items()) if isinstance(x, dict) else x)
    js.Map = types.SimpleNamespace(new=lambda entries: dict(entries))
    js.console = types.SimpleNamespace(log=print)
    pyodide = types.ModuleType("pyodide")
    ffi = types.ModuleType("pyodide.ffi")
    ffi.to_js = lambda x, **kw: types.SimpleNamespace(buffer=x) if isinstance(x, bytes | bytearray) else x
    ffi.create_proxy = lambda f: f
    ffi.jsnull = None
    ffi.JsProxy = type("JsProxy", (), {})
    code = types.ModuleType("pyodide.code")
    code.run_js = lambda source: lambda *a, **k: None
    http = types.ModuleType("pyodide.http")
    http.open_url = lambda url: None
    pyodide.ffi, pyodide.code, pyodide.http = ffi, code, http
    sys.modules.update({"js": js, "pyodide": pyodide, "pyodide.ffi": ffi, "pyodide.code": code})
    sys.modules.update({"pyodide.http": http, "_pyodide": types.ModuleType("_pyodide")})
    sys.modules["tornado"] = None  # Pyodide has no tornado: importing it fails, as in the browser


def main(entry_script: str, query: str) -> None:
    install_fakes()
    from panel.io import pyodide as pnp
    from panel.io.state import state

    outgoing: list[str] = []

    def send_patch(patch: dict, buffers: object, msg_id: object) -> None:  # the worker's sendPatch
        outgoing.append(json.dumps(patch, default=str))

    def from_page(events: list[dict]) -> None:  # the worker's 'patch' message handler
        state.curdoc.apply_json_patch(pnp._convert_json_patch(_JsValue({"events": events})), setter="js")

    threads_before = threading.active_count()
    pnp.init_doc()
    location = {
        "href": f"https://example.org/quant/index.html{query}",
        "search": query,
        "hash": "",
        "pathname": "/quant/index.html",
        "protocol": "https:",
        "hostname": "example.org",
        "port": "",
    }
    scope = {"__name__": "__main__", "page_location": json.dumps(location)}
    exec(compile(entry_script, "index.py", "exec"), scope)
    docs_json, _render_items, root_ids = asyncio.run(pnp.write_doc())
    template = next(iter(state._templates.values()))
    # The page was built by the site's own script (build_app() from the URL), so there is no test hook to pass a
    # state in: the preset is read from the page's widgets, and the session's one Explorer (a worker runs one
    # session) is found among the live objects for what the page does not show directly.
    from dashboard.state import Explorer

    (explorer,) = [o for o in gc.get_objects() if isinstance(o, Explorer)]
    doc = state.curdoc
    pnp._link_docs_worker(doc, send_patch, setter="js")
    report: dict[str, object] = {
        "in_worker": pnp._IN_WORKER,
        "tornado_imported": sys.modules.get("tornado") is not None,
        "roots": len(json.loads(root_ids)),
        "docs_json_bytes": len(docs_json),
    }
    notice = next(o for o in template.main[0] if getattr(o, "name", "") == "url-notice")
    report["notice"] = {"name": notice.name, "visible": notice.visible, "text": notice.object}

    def model(kind: str, **attrs: object):
        return next(
            m
            for m in doc.models
            if type(m).__name__ == kind and all(getattr(m, k, None) == v for k, v in attrs.items())
        )

    report["preset"] = {
        "context": model("Spinner", title="Context (tokens)").value,
        "vram_gb": model("Spinner", title="GPU memory (GB)").value,
    }

    def changed(m, attr: str, new: object) -> dict:
        return {"kind": "ModelChanged", "model": {"id": m.id}, "attr": attr, "new": new}

    def click(m) -> dict:
        return {
            "kind": "MessageSent",
            "msg_type": "bokeh_event",
            "msg_data": {
                "type": "event",
                "name": "button_click",
                "values": {"type": "map", "entries": [["model", {"id": m.id}]]},
            },
        }

    # A widget change from the page: the GPU memory box.
    outgoing.clear()
    from_page([changed(model("Spinner", title="GPU memory (GB)"), "value", 12.0)])
    report["widget_change"] = {
        "vram_gb": model("Spinner", title="GPU memory (GB)").value,
        "patched_summary": any(" on 12 GB at " in p for p in outgoing),
    }
    # An upload: a CSV file in the file input, then "Add to charts".
    outgoing.clear()
    csv = b"model,quant,file_size_gib,perplexity,mean_kld\nMine,Q4_K_M,4.1,6.3,0.04\nMine,Q8_0,7.9,6.1,0.002\n"
    file_input = model("FileInput")
    from_page(
        [changed(file_input, "filename", "mine.csv"), changed(file_input, "value", base64.b64encode(csv).decode())]
    )
    from_page([click(model("Button", label="Add to charts"))])
    report["upload"] = {
        "rows": explorer.user_measurements.height,
        "status_sent": any("Added 2 row(s) for Mine" in p for p in outgoing),
    }
    # A download: the dataset CSV, computed in Python and sent back as a data URL.
    outgoing.clear()
    download = model("FileDownload")
    from_page([changed(download, "clicks", 1)])
    sent = [
        event["new"]
        for p in outgoing
        for event in json.loads(p)["events"]
        if event.get("model", {}).get("id") == download.id and event.get("attr") == "data"
    ]
    csv_sent = base64.b64decode(sent[-1].split("base64,", 1)[1]).decode() if sent else ""
    report["download"] = {
        "data_urls_sent": len(sent),
        "filename": download.filename,
        "user_rows_in_file": [line for line in csv_sent.splitlines() if ",Mine," in line],
        "header": csv_sent.splitlines()[0] if csv_sent else "",
    }
    report["threads_started"] = threading.active_count() - threads_before
    import numpy
    import pandas
    import polars

    report["versions"] = {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "polars": polars.__version__,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(open(sys.argv[1]).read(), sys.argv[2])
