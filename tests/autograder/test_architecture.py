"""The import graph of the grading pipeline keeps the layering docs/design.md describes.

Every module of `autograder/` is parsed with `ast` (nothing is imported), its imports of
the project's packages (`autograder`, `course`, `solutions`) become the edges of a graph,
and the graph is checked for:

* cycles between modules;
* imports of the project inside a function, a method or any other nested block (they hide
  edges of the graph); a lazy import of a heavy third-party package is allowed;
* the layering: the sandbox driver imports nothing of the project (it is the one file
  mounted in the sandbox); the untrusted side (`autograder.sandbox`) never imports the
  trusted records, the reporting or a command; the judging code imports neither side's
  records nor the sandbox; no library package imports a command module.

`test_checks_can_fail` runs the same checks on small made-up trees, each with one fault.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "autograder"
PROJECT = ("autograder", "course", "solutions")

#: Top-level modules every layer may import: the package's own __init__, the course
#: layout and the rule for reading a hand-in's files. They import nothing of the project.
BASE = {"autograder", "autograder.layout", "autograder.handin"}
#: Library packages, and the packages of the project each may import (besides BASE and
#: itself). A top-level module that is not in BASE is a command (or a tool with its own
#: `python -m`), which no library imports.
LAYERS = {
    "autograder.judging": {"course", "solutions"},
    "autograder.sandbox": {"autograder.judging", "course", "solutions"},
    "autograder.records": {"autograder.judging", "autograder.sandbox", "course", "solutions"},
    "autograder.reporting": {"autograder.judging", "autograder.records", "course", "solutions"},
}
#: Modules that import nothing of the project at all.
LEAVES = {"autograder.sandbox.driver", "autograder.layout", "autograder.handin"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path, module: str, modules: set[str]) -> tuple[set[str], list[str]]:
    """(the project modules `module` imports at its top level, the in-function imports of
    the project as 'line N: name')."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    top: set[str] = set()
    nested: list[str] = []

    def targets(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        assert isinstance(node, ast.ImportFrom)
        base = _resolve(node, module, is_package)
        # `from autograder import ledger` names a module; `from x import name` a name.
        named = [f"{base}.{alias.name}" for alias in node.names]
        return [name for name in named if name in modules] or [base]

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in targets(child):
                    if name.split(".")[0] not in PROJECT:
                        continue
                    if depth:
                        nested.append(f"line {child.lineno}: {name}")
                    else:
                        top.add(owner(name, modules))
            nested_scope = isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
            # `if TYPE_CHECKING:` and try/except at the top level still count as top level.
            visit(child, depth + 1 if nested_scope else depth)

    visit(tree, 0)
    top.discard(module)
    return top, nested


def owner(name: str, modules: set[str]) -> str:
    """The module a dotted import names: itself, or the longest module it starts with."""
    while name and name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def graph(root: Path) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """module -> the project modules it imports; module -> its in-function imports."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(files)
    edges, nested = {}, {}
    for module, path in files.items():
        edges[module], found = imports_of(path, module, modules)
        if found:
            nested[module] = found
    return edges, nested


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing
    itself), as a sorted list; Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in edges:
                continue  # course, solutions: outside this tree
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def layer_of(module: str) -> str | None:
    return next((pkg for pkg in LAYERS if module == pkg or module.startswith(pkg + ".")), None)


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Imports that break the layering, as 'importer -> imported: why'."""
    bad = []
    for module, targets in sorted(edges.items()):
        layer = layer_of(module)
        for target in sorted(targets):
            top = target.split(".")[0]
            if module in LEAVES:
                bad.append(f"{module} -> {target}: imports nothing of the project")
                continue
            if layer is None or target in BASE:
                continue  # commands and tools may import anything; everyone the base
            if layer_of(target) == layer:
                continue
            allowed = LAYERS[layer]
            if top in allowed or layer_of(target) in allowed:
                continue
            command = top == "autograder" and layer_of(target) is None
            why = "a command or tool" if command else "this layer"
            bad.append(f"{module} -> {target}: {layer} may not import {why}")
    return bad


def test_no_import_cycles():
    edges, _ = graph(PACKAGE)
    assert cycles(edges) == []


def test_no_imports_of_the_project_inside_functions():
    _, nested = graph(PACKAGE)
    assert nested == {}


def test_layers():
    edges, _ = graph(PACKAGE)
    assert violations(edges) == []


def test_layers_cover_the_tree():
    """Every module is a command or tool (top level), the base, or in a known layer: a
    new subpackage must be given its place in LAYERS (and in docs/design.md)."""
    edges, _ = graph(PACKAGE)
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    unplaced = [
        m for m in edges if m.count(".") >= 1 and m.split(".")[1] in packages and not layer_of(m)
    ]
    assert unplaced == []
    design = (REPO / "docs" / "design.md").read_text(encoding="utf-8")
    for package in LAYERS:
        assert f"autograder/{package.split('.')[1]}/" in design, package


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "autograder"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


GOOD = {
    "__init__.py": "",
    "layout.py": "import os\n",
    "grade.py": "from autograder.records import score\n",
    "records/__init__.py": "",
    "records/score.py": "from autograder.sandbox import worker\nfrom autograder import layout\n",
    "sandbox/__init__.py": "",
    "sandbox/worker.py": "from autograder.sandbox.driver import Limits\n",
    "sandbox/driver.py": "import json\n\ndef main():\n    import nbformat\n",
}


@pytest.mark.parametrize(
    ("edit", "check"),
    [
        ({"sandbox/driver.py": "from autograder.layout import Course\n"}, "layers"),
        ({"sandbox/worker.py": "from autograder.records import score\n"}, "layers"),
        ({"records/score.py": "from autograder import grade\n"}, "layers"),
        (
            {"sandbox/worker.py": "def run():\n    from autograder.sandbox import driver\n"},
            "nested",
        ),
        ({"sandbox/driver.py": "from autograder.sandbox import worker\n"}, "cycles"),
    ],
)
def test_checks_can_fail(tmp_path, edit, check):
    """Each check, on a small tree that passes it, fails after one bad edit."""
    edges, nested = graph(_tree(tmp_path / "good", GOOD))
    assert cycles(edges) == [] and nested == {} and violations(edges) == []
    edges, nested = graph(_tree(tmp_path / "bad", {**GOOD, **edit}))
    found = {"layers": violations(edges), "nested": nested, "cycles": cycles(edges)}[check]
    assert found, f"{check} found nothing after {edit}"
