"""The notebooks in nbgrader's own tools, as students and instructors run them.

- `nbgrader validate` (the Validate button runs the same Validator) on every release
  notebook: blank, it lists the unfinished exercises; with the reference answers pasted
  in, it says "Success!"; with one wrong answer, it names the failing cell and our
  diagnosis. It runs with no course config, as on a student's laptop.
- Stock `nbgrader autograde` in a throwaway course root gives a solved notebook full
  marks, and its scores of honest notebooks agree with the pipeline's goldens.

Both used to crash: every check returned the number of cases it ran, and nbgrader reads a
graded cell's last value as partial credit ("partial credit cannot be greater than
maximum points for cell").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import demo
from autograder.layout import Course

ROOT = Path(__file__).resolve().parents[2]
COURSE = Course(ROOT)
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "release").glob("*/*.ipynb"))
NBGRADER = str(Path(sys.executable).parent / "nbgrader")

#: One wrong answer per assignment the demo's sample class does not cover: (cell id of the
#: solution cell, the edit, words that the message of the next test cell must contain).
EXTRA_MISTAKES = {
    "05_backprop": ("q2-answer", demo._sub("output_padding = 1", "output_padding = 0"), "Q2"),
    "06_lenet": ("rf-answer", demo._sub("rf_conv1 = 1 + (5 - 1) * 1", "rf_conv1 = 6"), "conv1"),
    "07_gpu": ("quiz-answer", demo._sub('most_mults = "conv2"', 'most_mults = "fc1"'), "fc1"),
}
#: The demo's misconceptions that are honest work (no tampering, no endless loop).
HONEST_DEMO_MISTAKES = [m for m in demo.MISTAKES if m.student not in ("tamper", "never_finishes")]


def _notebook_name(assignment: str) -> str:
    (name,) = COURSE.notebooks(assignment)
    return name


def _one_wrong(assignment: str) -> tuple[nbformat.NotebookNode, str, str]:
    """The solved notebook with one wrong answer; the grade_id that must fail and words
    its message must contain."""
    name = _notebook_name(assignment)
    nb = demo.perfect_notebook(COURSE, assignment, name)
    if assignment in EXTRA_MISTAKES:
        cell_id, edit, words = EXTRA_MISTAKES[assignment]
    else:
        mistake = next(m for m in HONEST_DEMO_MISTAKES if m.assignment == assignment)
        cell_id, edit, words = mistake.cell_id, mistake.edit, "It looks like"
    return demo.edit_cell(nb, cell_id, edit), _test_cell_after(nb, cell_id), words


def _test_cell_after(nb: nbformat.NotebookNode, cell_id: str) -> str:
    ids = [c.get("id") for c in nb.cells]
    for cell in nb.cells[ids.index(cell_id) + 1 :]:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            return meta["grade_id"]
    raise AssertionError(f"no graded test cell after {cell_id}")


def _env() -> dict[str, str]:
    """The grading mode (short training runs), as the autograder uses; the venv's bin on
    PATH, as `make instructor` puts it (nbgrader runs `alembic` from PATH)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "CNN_COURSE_QUICK": "1", "PATH": path}


def validate(nb: nbformat.NotebookNode, folder: Path, name: str) -> str:
    """Run the real `nbgrader validate` on `nb`, saved as a student would save it, in a
    folder without any nbgrader config; return what it printed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    run = subprocess.run(
        [NBGRADER, "validate", path.name],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = run.stdout + run.stderr
    assert "Traceback (most recent call last)" not in run.stderr, out
    assert "partial credit" not in out, out
    return out


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_lists_the_unfinished_exercises_of_a_blank_notebook(assignment, tmp_path):
    name = _notebook_name(assignment)
    out = validate(demo.blank_notebook(COURSE, assignment, name), tmp_path, name)
    assert "VALIDATION FAILED ON" in out, out
    failed = out.split("The following cell failed:")[1:]
    assert failed, out
    for block in failed:
        error = block.split("The error was:")[1]
        # A check of an unfinished exercise says so; a quiz whose answer cell stopped at its
        # stub leaves the answer variable undefined.
        unfinished = ("not implemented yet", "no answer yet", "NotImplementedError")
        assert any(s in error for s in unfinished) or "NameError: name 'answer" in error, block


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_passes_a_solved_notebook(assignment, tmp_path):
    name = _notebook_name(assignment)
    out = validate(demo.perfect_notebook(COURSE, assignment, name), tmp_path, name)
    assert "Success! Your notebook passes all the tests." in out, out


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_names_the_cell_of_one_wrong_answer(assignment, tmp_path):
    name = _notebook_name(assignment)
    nb, grade_id, words = _one_wrong(assignment)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    out = validate(nb, tmp_path, name)
    assert "VALIDATION FAILED ON" in out, out
    # Validate shows the first line of each failed cell (its docstring) and the error.
    first_line = cell.source.splitlines()[0][:60]
    blocks = [b for b in out.split("The following cell failed:")[1:] if first_line in b]
    assert blocks, f"{grade_id} is not among the failed cells:\n{out}"
    error = blocks[0].split("The error was:")[1]
    assert "Check failed:" in error and words in error, error
    assert "_core.py" not in error


# ---------------------------------------------------------------------------------------
# Stock nbgrader autograde, as a second opinion on the pipeline's scores
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stock_autograde(tmp_path_factory) -> dict[tuple[str, str], tuple[float, float]]:
    """A throwaway nbgrader course root with our config and source/, every assignment
    generated by `nbgrader generate_assignment`, a perfect student and the demo's honest
    misconceptions submitted, and `nbgrader autograde` run on each assignment.
    Returns (student, assignment) -> (score, max_score) from nbgrader's gradebook."""
    root = tmp_path_factory.mktemp("stock")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "source", root / "source")
    files = {
        ("perfect", a): demo.perfect_notebook(COURSE, a, _notebook_name(a)) for a in ASSIGNMENTS
    }
    for m in HONEST_DEMO_MISTAKES:
        nb = demo.perfect_notebook(COURSE, m.assignment, _notebook_name(m.assignment))
        for cell_id, edit in m.edits():  # every cell the sample student changed, as the demo
            nb = demo.edit_cell(nb, cell_id, edit)
        files[(m.student, m.assignment)] = nb
    for (student, assignment), nb in files.items():
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{_notebook_name(assignment)}.ipynb")
    for assignment in ASSIGNMENTS:
        for verb in ("generate_assignment", "autograde"):
            run = subprocess.run(
                [NBGRADER, verb, assignment, "--force"],
                cwd=root,
                env=_env(),
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert run.returncode == 0, f"nbgrader {verb} {assignment}:\n{run.stderr[-3000:]}"
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student, assignment in files:
            sub = gb.find_submission(assignment, student)
            scores[(student, assignment)] = (sub.score, sub.max_score)
    return scores


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stock_autograde_gives_a_solved_notebook_full_marks(stock_autograde, assignment):
    score, max_score = stock_autograde[("perfect", assignment)]
    assert max_score > 0 and score == max_score


@pytest.mark.slow
def test_stock_autograde_agrees_with_the_pipelines_goldens(stock_autograde):
    goldens = demo.load_goldens()
    compared = 0
    for (student, assignment), (score, max_score) in stock_autograde.items():
        golden = goldens.get(f"{student}/{assignment}")
        if golden is None:
            continue
        assert (score, max_score) == (golden["score"], golden["max_score"]), (student, assignment)
        compared += 1
    assert compared >= len(ASSIGNMENTS) + 3
