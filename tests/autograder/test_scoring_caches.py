"""What the grading process remembers between hand-ins, so that scoring costs less CPU
(docs/performance.md, "Scoring's own CPU"): each cache gives the answer the uncached code
gives, and forgets what it must.
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace

import nbformat
from nbgrader.preprocessors import OverwriteCells

from autograder import demo
from autograder.judging import integrity
from autograder.judging.course_files import course_notebook
from autograder.layout import load_config
from autograder.records.score import check_metadata
from autograder.sandbox import worker

PATCH = "np.allclose = lambda *a, **k: True\n"


def test_scan_of_a_cell_seen_before_equals_a_fresh_scan_and_depends_on_every_input():
    numpy = {"np": "numpy"}
    first = integrity.scan_source(PATCH, aliases=numpy, cell="c")
    assert [(f.rule, f.message, f.cell) for f in first] == [
        ("patches-module", "assigns numpy.allclose", "c")
    ]
    assert integrity.scan_source(PATCH, aliases=numpy, cell="c") == first
    # The aliases and the cell's name are part of the key, not only the source.
    assert integrity.scan_source(PATCH, aliases={}, cell="c") == []
    assert [f.cell for f in integrity.scan_source(PATCH, aliases=numpy, cell="d")] == ["d"]
    # A caller that edits the list it got does not change the next caller's.
    got = integrity.scan_source(PATCH, aliases=numpy, cell="c")
    got.clear()
    assert integrity.scan_source(PATCH, aliases=numpy, cell="c") == first


def test_a_cell_too_big_to_remember_is_still_scanned():
    big = PATCH + "#" * integrity.CACHED_SOURCE_CHARS + "\n"
    found = integrity.scan_source(big, aliases={"np": "numpy"}, cell="c")
    assert [f.rule for f in found] == ["patches-module"]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import numpy as np"), nbformat.v4.new_code_cell(big)]
    )
    assert [f.rule for f in integrity.scan_notebook(nb)] == ["patches-module"]


def test_course_notebook_is_read_again_when_the_file_changes_and_copies_are_separate(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("one")]), path)
    a, b = course_notebook(path), course_notebook(path)
    a.cells[0].source = "edited by a caller"
    assert b.cells[0].source == "one" and course_notebook(path).cells[0].source == "one"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("two!")]), path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert course_notebook(path).cells[0].source == "two!"


def _graded_notebook():
    cell = nbformat.v4.new_code_cell("assert True")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "t1",
        "points": 2,
        "schema_version": 3,
    }
    return nbformat.v4.new_notebook(cells=[cell])


def test_metadata_that_validated_once_is_not_trusted_for_a_different_notebook():
    good = _graded_notebook()
    assert check_metadata(good) == []
    assert check_metadata(copy.deepcopy(good)) == []  # remembered: the same answer
    twice = _graded_notebook()
    twice.cells.append(copy.deepcopy(twice.cells[0]))
    assert check_metadata(twice) == [
        "nbgrader metadata did not validate after grading "
        "(Notebook failed to validate; the nbgrader metadata may be corrupted.)"
    ]
    no_points = _graded_notebook()
    del no_points.cells[0].metadata["nbgrader"]["points"]
    assert len(check_metadata(no_points)) == 1
    assert check_metadata(good) == []


def _edits():
    """Hand-ins that make OverwriteCells act: each (label, edit of the released notebook)."""

    def cell(nb, grade_id):
        return next(
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
        )

    def set_(grade_id, key, value):
        return lambda nb: cell(nb, grade_id).metadata.nbgrader.__setitem__(key, value)

    def source(grade_id, text):
        return lambda nb: setattr(cell(nb, grade_id), "source", text)

    def retype(nb):
        cell(nb, "tiny_setup").cell_type = "markdown"

    def drop(grade_id):
        return lambda nb: nb.cells.remove(cell(nb, grade_id))

    def graded_stub(nb):  # a solution cell the hand-in claims is graded
        cell(nb, "tiny_add_impl").metadata.nbgrader.update(grade=True, points=5)

    return [
        ("as released", lambda nb: None),
        ("a locked test cell edited", source("tiny_add_tests", "pass")),
        ("points raised", set_("tiny_mul_tests", "points", 30)),
        ("a locked cell unlocked", set_("tiny_setup", "locked", False)),
        ("a grade_id the gradebook lacks", set_("tiny_add_impl", "grade_id", "mine")),
        ("a cell's type changed", retype),
        ("a solution cell marked as graded", graded_stub),
        ("a test cell deleted", drop("tiny_add_tests")),
        ("the first graded cell deleted", drop("tiny_setup")),
        (
            "both test cells deleted",
            lambda nb: [drop(g)(nb) for g in ("tiny_add_tests", "tiny_mul_tests")],
        ),
    ]


def test_overwrite_cells_from_the_record_equals_nbgraders_own(tmp_path, monkeypatch):
    """`worker.RecordedOverwriteCells` answers OverwriteCells' lookups from the gradebook's
    record instead of querying it per cell: on every kind of edit it acts on, the notebook
    it leaves (or the error it raises) is the one nbgrader's own leaves."""
    course = demo.tiny_course(tmp_path / "course")
    config = load_config(str(course.root))
    released = nbformat.read(course.release / "tiny" / "tiny.ipynb", as_version=4)
    resources = {
        "nbgrader": {
            "notebook": "tiny",
            "assignment": "tiny",
            "student": None,
            "db_url": course.db_url,
        }
    }

    def run(cls, nb):
        try:
            out, _ = cls(config=config)(nb, copy.deepcopy(resources))
        except Exception as exc:  # compared with nbgrader's, not swallowed
            return type(exc).__name__
        for i, added in enumerate(c for c in out.cells if "id" not in c):
            added["id"] = f"added-{i}"  # else nbformat would draw a random one
        return nbformat.writes(out)

    worker.begin_run()
    outcomes = {}
    for label, edit in _edits():
        nb = copy.deepcopy(released)
        edit(nb)
        ours, nbgraders = (
            run(worker.RecordedOverwriteCells, copy.deepcopy(nb)),
            run(OverwriteCells, nb),
        )
        assert ours == nbgraders, label
        outcomes[label] = ours
    # The edits did reach OverwriteCells: it restored, corrected or refused each of them.
    restored = outcomes["as released"]  # the hidden tests put back, as in the source
    assert "import solutions" in restored and "import solutions" not in nbformat.writes(released)
    assert outcomes["a locked test cell edited"] == restored
    assert '"points": 30' not in outcomes["points raised"]
    assert outcomes["a solution cell marked as graded"] == "MissingEntry"
    assert "mine" not in outcomes["a grade_id the gradebook lacks"]
    assert config.OverwriteCells.add_missing_cells  # the course's setting: cells come back
    assert "was missing from the submission" in outcomes["both test cells deleted"]
    # And the comparison can fail: a record with every checksum wrong shows.
    recorded = worker._source_cells
    monkeypatch.setattr(
        worker,
        "_source_cells",
        lambda *a: tuple(replace(c, checksum="0" * 32) for c in recorded(*a)),
    )
    nb = copy.deepcopy(released)
    assert run(worker.RecordedOverwriteCells, copy.deepcopy(nb)) != run(OverwriteCells, nb)
