"""Every assignment, executed three ways.

1. The source notebook (solutions and hidden tests in place) runs top to bottom without
   a single error: the hidden tests pass on the reference bodies.
2. The release notebook, as students get it, runs to the end; the only errors are the
   ones an unfinished exercise causes (NotImplementedError from a stub, a check saying
   "not implemented yet", a NameError for an answer variable a stub never set).
3. The release notebook with the reference bodies pasted back into its solution cells
   runs without error: every visible check passes on a correct answer.

Run times are printed, not asserted (budgets live in docs/performance.md).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").glob("*") if any(p.glob("*.ipynb")))

# Errors that only say "this exercise is not done yet".
UNFINISHED = re.compile(r"NotImplementedError|is not implemented yet|no answer yet")


def _notebook(kind: str, name: str) -> Path:
    (path,) = sorted((ROOT / kind / name).glob("*.ipynb"))
    return path


def execute(nb: nbformat.NotebookNode, cwd: Path, *, allow_errors: bool) -> float:
    """Run `nb` in place with a fresh kernel in `cwd`; return the wall time in seconds."""
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def errors(nb: nbformat.NotebookNode) -> list[tuple[nbformat.NotebookNode, dict]]:
    return [
        (cell, out)
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def _solution_names(nb: nbformat.NotebookNode) -> set[str]:
    """Names that the student's cells define (functions and top-level answers)."""
    names = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            names |= {
                m[0] or m[1] for m in re.findall(r"^def\s+(\w+)|^(\w+)\s*=", cell.source, re.M)
            }
    return names


# A cell whose last line returns a matplotlib object prints its repr under the figure
# (`Text(0.5, 0.98, '...')`, `[<matplotlib.lines.Line2D ...>]`): noise for the student.
STRAY = re.compile(r"^\[?<?(Text|matplotlib|Figure|_CourseFigure|Axes)\b|^\[?<matplotlib")


def stray_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Cells that display a matplotlib object's repr, and graded cells that write to
    stderr (nbgrader counts stderr in a graded cell as a failure)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        graded = cell.metadata.get("nbgrader", {}).get("grade", False)
        for out in cell.get("outputs", []):
            text = "".join(out.get("data", {}).get("text/plain", ""))
            if out.get("output_type") == "execute_result" and STRAY.match(text):
                found.append(f"[{cell.get('id')}] displays {text[:60]!r}")
            if graded and out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"[{cell.get('id')}] (graded) writes to stderr: {out['text'][:60]!r}")
    return found


def describe(cell, out) -> str:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
    return f"[{gid}] {out.get('ename')}: {out.get('evalue')}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_runs_clean(name, tmp_path):
    """The instructor's notebook, with solutions and hidden tests, passes everything."""
    nb = nbformat.read(_notebook("source", name), as_version=4)
    seconds = execute(nb, tmp_path, allow_errors=True)
    failures = [describe(c, o) for c, o in errors(nb)]
    assert not failures, f"{name}: source notebook cells failed:\n" + "\n".join(failures)
    assert not stray_outputs(nb), f"{name}: stray outputs:\n" + "\n".join(stray_outputs(nb))
    print(f"{name}: source ran in {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_fails_only_at_unfinished_exercises(name, tmp_path, monkeypatch):
    """The student's notebook runs; its only errors come from exercises not yet done."""
    monkeypatch.setenv("CNN_COURSE_QUICK", "1")  # the grading mode: short training runs
    nb = nbformat.read(_notebook("release", name), as_version=4)
    execute(nb, tmp_path, allow_errors=True)
    answers = _solution_names(nb)
    unexpected = []
    for cell, out in errors(nb):
        text = f"{out.get('ename')}: {out.get('evalue')}"
        undefined = re.match(r"NameError: name '(\w+)' is not defined", text)
        if UNFINISHED.search(text) or (undefined and undefined.group(1) in answers):
            continue
        unexpected.append(describe(cell, out))
    assert not unexpected, f"{name}: errors not caused by unfinished exercises:\n" + "\n".join(
        unexpected
    )
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    failed_graded = {id(c) for c, _ in errors(nb)} & {id(c) for c in graded}
    assert failed_graded, f"{name}: no graded cell fails on the blank notebook"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_with_reference_bodies_passes(name, tmp_path, monkeypatch):
    """Pasting the reference solution into each exercise cell makes every check pass
    (in the grading mode, with short training runs: the source run trains in full)."""
    monkeypatch.setenv("CNN_COURSE_QUICK", "1")
    source = nbformat.read(_notebook("source", name), as_version=4)
    reference = {
        c.id: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(_notebook("release", name), as_version=4)
    pasted = 0
    for cell in nb.cells:
        if cell.get("id") in reference:
            cell.source = re.sub(
                r"^\s*### (BEGIN|END) SOLUTION\n", "", reference[cell.id], flags=re.M
            )
            pasted += 1
    assert pasted == len(reference), "every solution cell of the source is in the release"
    seconds = execute(nb, tmp_path, allow_errors=True)
    failures = [describe(c, o) for c, o in errors(nb)]
    assert not failures, f"{name}: checks fail on the reference bodies:\n" + "\n".join(failures)
    assert not stray_outputs(nb), f"{name}: stray outputs:\n" + "\n".join(stray_outputs(nb))
    print(f"{name}: release with reference bodies ran in {seconds:.1f} s")
