"""What the grading process remembers between hand-ins, so that scoring costs less CPU
(docs/performance.md, "Scoring's own CPU"): each cache gives the answer the uncached code
gives, and forgets what it must.
"""

from __future__ import annotations

import copy
import os

import nbformat

from autograder.judging import integrity
from autograder.judging.course_files import course_notebook
from autograder.records.score import check_metadata

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
