"""Run the static site's code in a clean environment: build the dashboard and render every view to Bokeh models.

Executed by ``test_requirements.py::test_site_code_runs_in_a_clean_environment`` with ``python -I`` in a venv
holding only the packages the page installs (no pytest, no repository on the path). Every tab of the main area is
opened once (its views are built on demand). Prints one JSON line: the views rendered (in the first render and
after every tab was opened) and the heavy modules imported.
"""

from __future__ import annotations

import json
import sys

import panel as pn
from bokeh.document import Document

from dashboard import data
from dashboard.app import TITLE, build_app
from dashboard.state import Explorer

# Modules that would need packages the page does not install (or that would bloat it if it did).
WATCH = ("pyarrow", "scipy", "matplotlib", "hvplot", "tornado", "PIL", "nh3", "panel_material_ui", "requests")


def main() -> None:
    explorer = Explorer()
    template = build_app(explorer)
    rendered = []
    for area, items in (("main", template.main), ("sidebar", template.sidebar)):
        for i, item in enumerate(items):
            root = pn.panel(item).get_root(Document())
            rendered.append(f"{area}[{i}]:{type(item).__name__}->{type(root).__name__}")
    # The whole page, as panel's Pyodide runtime builds it (init_doc + servable + write_doc).
    doc = template.server_doc(Document(), title=TITLE)
    n_models = len(doc.models)

    def views() -> list[str]:
        """The charts in the page, by the name each view gives its figure (CSS class view-<name>)."""
        return sorted({c for m in doc.models for c in (getattr(m, "css_classes", None) or []) if c.startswith("view-")})

    first_views = views()  # the first tab's: the others are built when their tab is opened
    with pn.io.server.set_curdoc(doc):
        for tabs in (t for item in template.main for t in pn.panel(item).select(pn.Tabs)):
            for index in range(len(tabs.objects)):
                tabs.active = index
    # Some interaction: other constraints and a selection recompute and re-render every view.
    explorer.constraints.param.update(vram_gb=8.0, context=32768, kv_cache="q8_0", priority="speed")
    explorer.selected_quants = ["Q4_K_M"]
    explorer.clear_selection()
    for item in template.main:
        pn.panel(item).get_root(Document())
    print(
        json.dumps(
            {
                "data_dir": str(data.data_dir()),
                "rendered": rendered,
                "first_views": first_views,
                "views": views(),
                "document_models": n_models,
                "error": explorer.error,
                "imported": sorted(m for m in WATCH if m in sys.modules),
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
