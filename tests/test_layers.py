"""The layers of ``../shared/STYLE.md`` are enforced, not hoped for: data -> domain -> state -> views -> app.

The imports are read from the source (every ``import``, at module level or inside a function), so an import
hidden in a function body to dodge a cycle is still an edge of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dashboard"
# Layer of a module: its rank from the bottom. Every module not named here is domain logic.
LAYERS = {"data": 0, "domain": 1, "state": 2, "views": 3, "app": 4}
# Libraries that draw or hold UI state: domain code imports none of them, state imports no drawing library.
UI_LIBRARIES = {"panel", "holoviews", "hvplot", "bokeh"}
STATE_LIBRARIES = {"param"}


def layer_of(module: str) -> str:
    """``dashboard.views.fit`` -> ``views``; ``dashboard.memory`` -> ``domain``."""
    parts = module.split(".")
    if parts[1] == "views":
        return "views"
    return {"data": "data", "state": "state", "app": "app"}.get(parts[1], "domain")


def module_name(path: Path, package: Path) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in ``source``, relative ones resolved."""
    tree = ast.parse(source)
    top_level = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "dashboard":  # from dashboard import data -> dashboard.data
                out += [(f"dashboard.{alias.name}", node.lineno, id(node) in top_level) for alias in node.names]
            else:
                out.append((base, node.lineno, id(node) in top_level))
    return out


def import_graph(package: Path = PACKAGE) -> dict[str, list[tuple[str, int, bool]]]:
    """Module -> the project modules it imports (line, top level)."""
    sources = {module_name(p, package): p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py"))}
    graph = {}
    for module, source in sources.items():
        edges = []
        for name, line, top in imports(source, module):
            # "dashboard.views" (the package) counts as its modules' layer; a name imported from a module is
            # trimmed back to the module ("dashboard.memory.estimate" does not occur with plain imports)
            while name not in sources and name.count(".") > 1:
                name = name.rsplit(".", 1)[0]
            if name in sources and name != module:
                edges.append((name, line, top))
        graph[module] = edges
    return graph


def layer_violations(graph: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    return [
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)}) on line {line}"
        for module, edges in graph.items()
        for target, line, _ in edges
        if LAYERS[layer_of(target)] > LAYERS[layer_of(module)]
    ]


def find_cycle(graph: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    """One import cycle (a, b, ..., a), or [] when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target, _, _ in graph.get(node, []):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert {"dashboard.memory", "dashboard.architecture", "dashboard.models", "dashboard.app"} <= set(graph)
    assert ("dashboard.architecture", True) in {(t, top) for t, _, top in graph["dashboard.memory"]}
    assert "dashboard.state" in {t for t, _, _ in graph["dashboard.app"]}


def test_no_module_imports_a_layer_above_it() -> None:
    assert layer_violations(import_graph()) == []


def test_no_import_cycle() -> None:
    assert find_cycle(import_graph()) == []


def test_project_imports_are_at_module_level() -> None:
    """A project import inside a function is how a cycle hides; none is needed once the layers are clean."""
    hidden = [
        f"{module} imports {target} inside a function (line {line})"
        for module, edges in import_graph().items()
        for target, line, top in edges
        if not top
    ]
    assert hidden == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_domain_and_state_import_no_ui_library(path: Path) -> None:
    module = module_name(path, PACKAGE)
    layer = layer_of(module)
    if layer not in ("data", "domain", "state"):
        return
    banned = UI_LIBRARIES | (STATE_LIBRARIES if layer != "state" else set())
    used = {name.split(".")[0] for name, _, _ in imports(path.read_text(encoding="utf-8"), module)}
    assert used & banned == set(), f"{module} is {layer} code but imports {sorted(used & banned)}"


def test_the_checks_catch_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks themselves fail on a broken package: a domain module importing state, two modules importing
    each other (one of them from inside a function)."""
    package = tmp_path / "dashboard"
    (package / "views").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "views" / "__init__.py").write_text("")
    (package / "memory.py").write_text("from dashboard import models\nfrom dashboard.state import Explorer\n")
    (package / "models.py").write_text("def catalog():\n    from dashboard.memory import estimate\n")
    (package / "state.py").write_text("from dashboard.views.common import x\n")
    (package / "views" / "common.py").write_text("import dashboard.memory\n")
    graph = import_graph(package)
    assert layer_violations(graph) == [
        "dashboard.memory (domain) imports dashboard.state (state) on line 2",
        "dashboard.state (state) imports dashboard.views.common (views) on line 1",
    ]
    assert find_cycle(graph) == ["dashboard.memory", "dashboard.models", "dashboard.memory"]
    assert ("dashboard.memory", 2, False) in graph["dashboard.models"]


def test_views_convert_no_units_by_hand() -> None:
    """GiB -> GB goes through dashboard.memory.gib_to_gb in the domain; a view that multiplies by 2**30 / 1e9
    (or uses the GIB/GB constants) repeats domain logic."""
    import re

    arithmetic = re.compile(r"2\s*\*\*\s*30|1024\s*\*\*\s*3|\*\s*1\.07|_gib\s*\*\s*[\d(]")
    offending = {}
    for path in sorted((PACKAGE / "views").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        names = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name | ast.Attribute)
        } | {
            alias.name
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        found = arithmetic.findall(source) + sorted(names & {"GIB", "GB"})
        if found:
            offending[path.name] = found
    assert offending == {}
