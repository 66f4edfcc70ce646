"""The demo (`make demo`): the sample class, and its scores against the goldens.

The full demo grades every assignment; CI runs it on two assignments (01 and 02) and
fails on any drift from tests/autograder/goldens/demo_scores.json. When a change of the
notebooks or of the pipeline moves a score on purpose, refresh the goldens with
`python -m autograder demo --update-goldens` and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder import demo
from autograder.layout import Course
from autograder.records import ledger

REPO = Path(__file__).resolve().parents[2]
SUBSET = ["01_convolution", "02_padding_stride"]
RELEASED = sorted(p.parent.name for p in (REPO / "release").glob("*/*.ipynb"))


def test_sample_class_builds_from_the_current_notebooks():
    """Every misconception still applies to today's reference solution (an edit that no
    longer matches fails here, in seconds, rather than in the slow demo)."""
    course = Course(REPO)
    files = demo.sample_class(course, RELEASED)
    for m in demo.MISTAKES:
        if m.assignment not in RELEASED:
            continue
        (nb_name,) = course.notebooks(m.assignment)
        mine = nbformat.reads(files[(m.student, m.assignment, nb_name)].decode(), as_version=4)
        perfect = nbformat.reads(files[("perfect", m.assignment, nb_name)].decode(), as_version=4)
        changed = {a.id for a, b in zip(mine.cells, perfect.cells, strict=True) if a != b}
        assert changed == {cell_id for cell_id, _ in m.edits()}, m.student
    student, assignment = demo.INVALID_JSON
    (nb_name,) = course.notebooks(assignment)
    with pytest.raises(json.JSONDecodeError):
        json.loads(files[(student, assignment, nb_name)])
    assert {s for s, _, _ in files} >= {"perfect", "blank", *(m.student for m in demo.MISTAKES)}


def test_goldens_cover_the_ci_subset():
    goldens = demo.load_goldens()
    keys = {k for k in goldens if k.split("/")[1] in SUBSET}
    assert "perfect/01_convolution" in keys and "blank/02_padding_stride" in keys
    assert (
        goldens["perfect/01_convolution"]["score"] == goldens["perfect/01_convolution"]["max_score"]
    )
    assert goldens["blank/01_convolution"]["score"] == 0


def test_update_goldens_merges_a_subset(tmp_path):
    path = tmp_path / "goldens.json"
    demo.save_goldens({"a/01": {"score": 1.0}, "b/01": {"score": 2.0}}, path)
    demo.save_goldens({"a/01": {"score": 3.0}}, path)
    assert demo.load_goldens(path) == {"a/01": {"score": 3.0}, "b/01": {"score": 2.0}}


def test_drift_names_what_changed():
    got = {"a/01": {"score": 1.0, "max_score": 2.0, "status": "graded", "flags": []}}
    want = {"a/01": {"score": 2.0, "max_score": 2.0, "status": "graded", "flags": []}}
    assert demo.drift(got, want) == ["a/01: score is 1.0, golden 2.0"]
    assert demo.drift(got, {}) == ["a/01: not in the goldens (got 1.0/2.0)"]


def test_the_report_goldens_hold_what_the_sample_class_was_built_to_show():
    """Several students share a mistake, a pair of near-copies is flagged, and no other."""
    counts = demo.load_goldens(demo.REPORT_GOLDENS)
    conv, padding = counts["01_convolution"], counts["02_padding_stride"]
    assert conv["students"] == 12 and padding["students"] == 7
    assert conv["outcomes"]["conv_corr2d_tests"]["kernel_flipped"] == 3
    assert conv["outcomes"]["conv_corr2d_tests"]["output_too_small"] == 2
    assert padding["outcomes"]["padding_output_size_tests"]["plus_one_forgotten"] == 3
    assert conv["similar_pairs"] == [["near_copy_a", "near_copy_b"]]
    assert all(not c["similar_pairs"] for a, c in counts.items() if a != "01_convolution")


def test_report_drift_names_what_changed():
    got = {"a": {"students": 2, "outcomes": {"g": {"passed": 2}}, "similar_pairs": []}}
    want = {"a": {"students": 2, "outcomes": {"g": {"passed": 1}}, "similar_pairs": []}}
    assert demo.report_drift(got, want) == ["report a g: {'passed': 2}, golden {'passed': 1}"]
    assert demo.report_drift(got, got) == []
    assert "report a students: 2, golden None" in demo.report_drift(got, {})


def test_the_demo_never_wipes_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a demo course"):
        demo.build_course(tmp_path)
    assert (tmp_path / "precious.txt").exists()


@pytest.mark.slow
def test_demo_on_two_assignments_matches_the_goldens(tmp_path):
    result = demo.run_demo(tmp_path / "demo", SUBSET, workers=2, progress=False, log=print)
    print(result.report.table())
    print(demo.score_table(result.report, result.assignments))
    assert not result.report.failed
    assert result.drift == [], "\n".join(result.drift)
    # Feedback for everyone, and the CSV.
    for o in result.report.outcomes:
        html = result.course.feedback / o.student / o.assignment / f"{o.assignment}.html"
        assert html.is_file(), html
    assert result.csv_path is not None and result.csv_path.is_file()
    rows = result.csv_path.read_text().splitlines()
    assert rows[0].startswith("student_id") and len(rows) == 1 + len(
        {o.student for o in result.report.outcomes}
    )
    # The judge's diagnosis reaches the student, computed outside the sandbox (the
    # feedback of a judged cell is the judge's verdict, never a withheld generic line).
    fb = result.course.feedback / "flipped_kernel" / "01_convolution" / "01_convolution.html"
    text = fb.read_text()
    assert "It looks like you flipped the kernel" in text
    assert "on a hidden test case" not in text
    # The ledger keeps the judge's mistake key per cell; the class report counts it.
    cells = ledger.latest(result.course)[("flipped_kernel", "01_convolution")]["cells"]
    assert cells["conv_corr2d_tests"]["outcome"] == "kernel_flipped"
    assert cells["conv_corr2d_tests"]["exercise"] == "1.2"
    blank = ledger.latest(result.course)[("blank", "02_padding_stride")]["cells"]
    assert {c["outcome"] for c in blank.values()} == {"not_attempted"}
    assert result.report_path == result.course.reports / "index.html"
    page = (result.course.reports / "01_convolution" / "index.html").read_text()
    assert "near_copy_a" in page and "kernel_flipped" in page
