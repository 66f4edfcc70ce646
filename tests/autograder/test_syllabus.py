"""Where each graded cell sits: exercise, section and slide, read from the source notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.judging import syllabus
from autograder.layout import Course

REPO = Path(__file__).resolve().parents[2]


def _graded_cells() -> set[str]:
    return {
        c.metadata["nbgrader"]["grade_id"]
        for path in (REPO / "source").glob("*/*.ipynb")
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code" and (c.metadata.get("nbgrader") or {}).get("grade")
    }


def test_every_graded_cell_of_the_course_has_one_slide():
    assert set(syllabus.SLIDES) == _graded_cells()
    assert all(s.startswith("lecture 00") for s in syllabus.SLIDES.values())


def test_exercise_and_section_come_from_the_headings():
    course = Course.at(REPO)
    conv = syllabus.course_exercises(course, "01_convolution")
    corr2d = conv["conv_corr2d_tests"]
    assert (corr2d.number, corr2d.title, corr2d.points) == (
        "1.2",
        "Exercise 1.2 — corr2d (4 points)",
        4,
    )
    assert corr2d.section.startswith("2. Two-dimensional cross-correlation (lectures 000")
    assert corr2d.anchor == "Exercise-1.2-—-corr2d-(4-points)"
    assert corr2d.slide == "lecture 000, '2-D Convolution'"
    channels = syllabus.course_exercises(course, "03_channels")
    assert channels["channels_conv_mults_tests"].number == "3.4b"  # a part's own heading
    assert list(conv)[:2] == ["conv_params_tests", "conv_corr2d_tests"]  # notebook order


def test_an_unlisted_cell_gets_the_lectures_its_section_names():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("## 3. Strides (lectures 001 and 003)"),
            nbformat.v4.new_markdown_cell("## Exercise 3.1 — `stride` (2 points)"),
            nbformat.v4.new_code_cell(
                "check()",
                metadata={"nbgrader": {"grade": True, "grade_id": "my_cell", "points": 2}},
            ),
        ]
    )
    (ex,) = syllabus.exercises(nb, "mine").values()
    assert (ex.number, ex.section, ex.slide) == (
        "3.1",
        "3. Strides (lectures 001 and 003)",
        "lecture 001, 003",
    )


def test_a_blank_hand_in_attempted_no_exercise():
    """Every graded cell of the released notebooks has exercise cells of its own or shares
    the previous test cell's (4.1's one answer cell for Q5 and Q6), so a hand-in of the
    release as it is counts as not attempted everywhere."""
    for path in sorted((REPO / "release").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        graded = {
            c.metadata["nbgrader"]["grade_id"]
            for c in nb.cells
            if (c.metadata.get("nbgrader") or {}).get("grade")
        }
        assert syllabus.untouched(nb, nb) == graded, path.name
