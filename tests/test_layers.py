"""The layers of ``src/twosided``: no import circles between its modules, the engine
(``twosided.sim``) imports only itself and the scenario, and only the entry point imports the
command line (``twosided.cli``).

The imports are read from the source with ``ast`` (nothing is imported): every ``import``
and ``from ... import`` anywhere in a module, in functions too (an import moved into a
function to dodge a circle is still a circle), except under ``if TYPE_CHECKING:``, which
never runs. Importing ``a.b.c`` from outside the package ``a.b`` also runs ``a/b/__init__``,
so it counts as an import of ``a.b`` too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "twosided"


def module_name(path: Path) -> str:
    """``src/twosided/cli/run.py`` -> ``twosided.cli.run``; a package's ``__init__`` is the
    package."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by name."""
    return {module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that can run: all of them but those under TYPE_CHECKING."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the package that module ``name`` imports (see the module docstring)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            targets.add(full if full in known else base)
    found: set[str] = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            outside = not (name == prefix or name.startswith(prefix + "."))
            if prefix in known and (i == len(parts) or outside):
                found.add(prefix)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    known = modules()
    names = set(known)
    return {name: imported(name, path, names) for name, path in known.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (``[a, b, ..., a]``), or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_the_imports_it_must():
    graph = import_graph()
    assert "twosided.scenario.schema" in graph["twosided.scenario.reader"]
    assert "twosided.cli.common" in graph["twosided.cli.run"]
    assert "twosided.cli" in graph["twosided.console"]  # inside main(): still an import
    # from twosided import report: the package, and an import of report's __init__
    assert "twosided.report" in graph["twosided.cli.run"]
    # twosided.roles.render from outside twosided.roles runs roles/__init__ too
    assert {"twosided.roles", "twosided.roles.render"} <= graph["twosided.report"]
    assert "twosided.experiments" not in graph["twosided.experiments.sweep"]  # own package
    assert graph[ROOT] == set()  # its imports are lazy (PEP 562) or for type checkers only


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y2"}, "y2": {"y"}}) == ["y", "y2", "y"]


def test_no_import_circles_in_src():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_engine_imports_only_itself_and_the_scenario():
    allowed = ("twosided.sim", "twosided.scenario")
    wrong = {
        name: sorted(t for t in targets if not t.startswith(allowed) and t != ROOT)
        for name, targets in import_graph().items()
        if name == "twosided.sim" or name.startswith("twosided.sim.")
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_only_the_entry_point_imports_the_command_line():
    layer = "twosided.cli"
    entry = {"twosided.console"}  # the console script loads the command line in main()
    importers = sorted(
        name
        for name, targets in import_graph().items()
        if not (name == layer or name.startswith(layer + "."))
        and name not in entry
        and any(t == layer or t.startswith(layer + ".") for t in targets)
    )
    assert importers == []
