"""Checks and normalisation for source notebooks: nbformat 4.5, stable ids, no outputs.

`python -m autograder.nbtools check source/` lists what is wrong;
`python -m autograder.nbtools normalize source/` fixes what can be fixed mechanically
(outputs, execution counts, missing ids, nbformat minor version) and never touches a
cell's source.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat

SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
IMPORTS_SOLUTIONS = re.compile(r"^\s*(from\s+solutions[\s.]|import\s+solutions\b)", re.M)
ID_PATTERN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")  # nbformat 4.5 cell-id schema


class NotebookError(ValueError):
    """A notebook that cannot be read as nbformat 4, with the file and the reason."""


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4 without upgrading or fixing anything silently."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(f"{path}: not a readable notebook JSON file ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        got = raw.get("nbformat") if isinstance(raw, dict) else type(raw).__name__
        raise NotebookError(f"{path}: expected nbformat 4, got {got!r}")
    for cell in raw.get("cells", []):
        # On disk, sources may be stored as lists of lines (how nbformat writes them).
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nbformat.from_dict(raw)


def source_problems(path: Path) -> list[str]:
    """Everything that makes `path` unfit as an nbgrader source notebook of this course."""
    nb = read(path)
    problems = []
    if nb.get("nbformat_minor", 0) < 5:
        problems.append(f"nbformat 4.{nb.get('nbformat_minor')} (need 4.5 with cell ids)")
    seen_ids: set[str] = set()
    grade_ids: set[str] = set()
    for i, cell in enumerate(nb.cells):
        where = f"cell {i}"
        cid = cell.get("id")
        if not cid:
            problems.append(f"{where} has no id")
        elif not ID_PATTERN.match(cid):
            problems.append(f"{where} id {cid!r} is not a valid nbformat cell id")
        elif cid in seen_ids:
            problems.append(f"{where} repeats id {cid!r}")
        seen_ids.add(cid or "")
        if cell.cell_type == "code":
            if cell.get("outputs"):
                problems.append(f"{where} ({cid}) has outputs")
            if cell.get("execution_count") is not None:
                problems.append(f"{where} ({cid}) has an execution count")
        meta = cell.metadata.get("nbgrader")
        if meta:
            gid = meta.get("grade_id")
            if not gid:
                problems.append(f"{where} ({cid}) is an nbgrader cell without grade_id")
            elif gid in grade_ids:
                problems.append(f"{where} repeats grade_id {gid!r}")
            grade_ids.add(gid or "")
            if meta.get("grade") and not meta.get("points"):
                problems.append(f"{where} ({gid}) is graded but has no points")
            if meta.get("grade") and not meta.get("solution") and not meta.get("locked"):
                problems.append(f"{where} ({gid}) is a test cell but not locked")
    return problems


def release_problems(path: Path) -> list[str]:
    """What must never reach a student: solutions, hidden tests, imports of `solutions`."""
    nb = read(path)
    problems = []
    for i, cell in enumerate(nb.cells):
        src = cell.source
        for marker in SOLUTION_MARKERS + HIDDEN_MARKERS:
            if marker in src:
                problems.append(f"cell {i} ({cell.get('id')}) contains {marker!r}")
        if IMPORTS_SOLUTIONS.search(src):
            problems.append(f"cell {i} ({cell.get('id')}) imports solutions")
        if cell.cell_type == "code" and cell.get("outputs"):
            problems.append(f"cell {i} ({cell.get('id')}) has outputs")
    return problems


def normalize(path: Path) -> bool:
    """Strip outputs and counts, add missing ids, set nbformat 4.5. Returns True if changed."""
    before = path.read_text(encoding="utf-8")
    nb = read(path)
    nb.nbformat_minor = max(nb.get("nbformat_minor", 0), 5)
    used = {c.get("id") for c in nb.cells if c.get("id")}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        if not cell.get("id"):
            # Prefer the nbgrader grade_id: it is already a stable, descriptive name.
            base = (cell.metadata.get("nbgrader") or {}).get("grade_id") or f"cell-{i}"
            base = re.sub(r"[^a-zA-Z0-9-_]", "-", base)[:60]
            cid, n = base, 1
            while cid in used:
                n += 1
                cid = f"{base}-{n}"
            cell.id = cid
            used.add(cid)
    after = nbformat.writes(nb) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
        return True
    return False


def _notebooks(paths: Iterable[Path]) -> list[Path]:
    found = []
    for p in paths:
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            found.append(p)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.nbtools", description=__doc__)
    parser.add_argument("action", choices=["check", "normalize"])
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for nb_path in _notebooks(args.paths):
        if args.action == "normalize" and normalize(nb_path):
            print(f"normalized {nb_path}")
        for problem in source_problems(nb_path):
            print(f"{nb_path}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
