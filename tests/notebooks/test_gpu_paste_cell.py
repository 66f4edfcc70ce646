"""Assignment 7 asks students to paste their bodies from assignments 5 and 6 into one cell
(`my-code`) whose signatures it gives. That cell was written from 05's and 06's exercise
cells; this test keeps the copies in step, so a change of a signature in 05 or 06 fails
here instead of confusing a student in 07."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "source"


def _functions(source: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def _code_cells(assignment: str) -> list[dict]:
    nb = json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = cell["source"]
            cells.append({**cell, "source": "".join(src) if isinstance(src, list) else src})
    return cells


def _signature(fn: ast.FunctionDef) -> str:
    return ast.unparse(fn.args)


def _pasted() -> dict[str, ast.FunctionDef]:
    (cell,) = [c for c in _code_cells("07_gpu") if c.get("id") == "my-code"]
    return _functions(cell["source"])


def _originals() -> dict[str, list[tuple[str, ast.FunctionDef]]]:
    """Every exercise-cell definition of each name in 05 and 06 (06 has its own paste cell
    for 05's layers, so a name may have two)."""
    found: dict[str, list[tuple[str, ast.FunctionDef]]] = {}
    for assignment in ("05_backprop", "06_lenet"):
        for cell in _code_cells(assignment):
            if not (cell["metadata"].get("nbgrader") or {}).get("solution"):
                continue  # only the exercise cells: what the student wrote there
            for name, fn in _functions(cell["source"]).items():
                found.setdefault(name, []).append((assignment, fn))
    return found


def test_the_paste_cell_asks_for_functions_of_assignments_5_and_6():
    pasted = _pasted()
    assert pasted, "07's my-code cell defines no functions"
    missing = sorted(set(pasted) - set(_originals()))
    assert not missing, f"07's paste cell defines {missing}, which no exercise of 05 or 06 has"


@pytest.mark.parametrize("name", sorted(_pasted()))
def test_each_pasted_signature_and_docstring_matches_its_exercise(name):
    copy = _pasted()[name]
    for assignment, original in _originals()[name]:
        assert _signature(copy) == _signature(original), (
            f"{name}: 07 asks for ({_signature(copy)}) but {assignment} defines "
            f"({_signature(original)}); update 07's my-code cell"
        )
    # 05's exercises carry long docstrings; the paste cells of 06 and 07 share a short one.
    assignment, latest = _originals()[name][-1]
    assert ast.get_docstring(copy) == ast.get_docstring(latest), (
        f"{name}: 07's docstring differs from {assignment}'s"
    )
