"""release/ is exactly what `make release` makes from source/, and leaks nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import nbtools
from autograder.preprocessors import ExerciseStub
from autograder.release import ReleaseError, assignments, release

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "source").rglob("*.ipynb"))
RELEASED = sorted((ROOT / "release").rglob("*.ipynb"))


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    }


def _course_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "source", tmp_path / "source")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    (tmp_path / "release").mkdir()
    return tmp_path


@pytest.mark.slow
def test_release_is_regenerated_without_drift(tmp_path):
    """Regenerating release/ from source/ gives byte-identical files (run `make release`
    and commit the result if this fails)."""
    course = _course_copy(tmp_path)
    release(root=course)
    assert _files(course / "release") == _files(ROOT / "release")


def test_every_assignment_is_released():
    assert assignments(ROOT) == sorted(p.parent.name for p in RELEASED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_source_notebooks_are_clean(path):
    """nbformat 4.5, stable unique ids, no outputs, every graded cell locked with points."""
    assert nbtools.source_problems(path) == []


@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.parent.name)
def test_release_leaks_nothing(path):
    """No solution, no hidden test, no import of solutions reaches students."""
    assert nbtools.release_problems(path) == []
    text = path.read_text()
    assert "solutions." not in text


@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.parent.name)
def test_stubs_name_their_exercise(path):
    nb = nbformat.read(path, as_version=4)
    stubs = [c.source for c in nb.cells if "NotImplementedError" in c.source]
    assert stubs, "a released assignment has at least one exercise stub"
    assert all("Exercise " in s for s in stubs)


def test_release_refuses_a_source_with_outputs(tmp_path):
    """A malformed source is refused with the reason, and release/ is left alone."""
    course = tmp_path
    (course / "source" / "bad").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)", id="c1")
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells = [cell]
    nbformat.write(nb, course / "source" / "bad" / "bad.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with pytest.raises(ReleaseError, match="has outputs"):
        release(root=course)
    assert not (course / "release" / "bad").exists()


def test_release_refuses_a_leak(tmp_path):
    """A solution written outside the BEGIN/END markers in an unmarked cell that imports
    solutions is caught before students see it."""
    course = tmp_path
    (course / "source" / "leaky").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from solutions import corr2d", id="c1")]
    nbformat.write(nb, course / "source" / "leaky" / "leaky.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with pytest.raises(ReleaseError, match="imports solutions"):
        release(root=course)


def test_exercise_stub_uses_the_latest_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Exercise 2.3 — pad2d (2 points)"),
        nbformat.v4.new_code_cell(
            "def pad2d(X, p):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
            metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "x"}},
        ),
    ]
    out, _ = ExerciseStub().preprocess(nb, {})
    assert "NotImplementedError('Exercise 2.3 is not done yet" in out.cells[1].source
