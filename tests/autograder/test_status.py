"""status: collected / graded / stale / failed / pending, from submitted/, the ledger and
the gradebook."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from autograder import cli, handin
from autograder.layout import Course
from autograder.records import grading, ledger
from autograder.records.states import (
    STALE_BUNDLE,
    STALE_FILES,
    status_table,
    submission_files,
    submission_states,
)
from autograder.status import format_table


def _fixtures():
    name = "reporting_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


rf = _fixtures()


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> Path:
    return rf.graded_course(tmp_path_factory)


@pytest.fixture
def course(graded, tmp_path) -> Course:
    return Course.at(rf.copy_course(graded, tmp_path / "course"))


def _states(course):
    return {(s.student, s.assignment): s for s in submission_states(course, include_missing=True)}


def _counts(course):
    return {row.assignment: (row.collected, dict(row.counts)) for row in status_table(course)}


@pytest.mark.slow
def test_everything_graded(course):
    assert _counts(course) == {"a1": (5, {"graded": 5}), "b2": (1, {"graded": 1})}
    states = _states(course)
    assert states[("alice", "a1")].score == 5.0 and states[("alice", "a1")].max_score == 5.0
    assert states[("bob", "b2")].state == "missing"
    assert states[("carol", "a1")].flags == ("late: 1 day",)
    assert states[("alice", "a1")].submitted_at == rf.SUBMITTED_AT


@pytest.mark.slow
def test_changed_submission_is_stale(course):
    nb = course.submitted / "bob" / "a1" / "a1.ipynb"
    nb.write_text(nb.read_text() + "\n")
    assert _states(course)[("bob", "a1")].state == "stale"
    assert _states(course)[("bob", "a1")].reason == STALE_FILES
    assert _counts(course)["a1"] == (5, {"graded": 4, "stale": 1})


@pytest.mark.slow
def test_a_changed_assignment_makes_its_graded_submissions_stale(course, capsys):
    """`grade` regrades a submission graded against an earlier bundle (an edited source
    notebook here); `status` says so, and why, rather than "graded"."""
    source = course.source / "a1" / "a1.ipynb"
    source.write_text(source.read_text() + "\n")
    states = _states(course)
    assert {states[(s, "a1")].state for s in ("alice", "bob", "carol")} == {"stale"}
    assert states[("bob", "a1")].reason == STALE_BUNDLE
    assert states[("alice", "b2")].state == "graded"  # another assignment: not affected
    assert _counts(course)["a1"] == (5, {"stale": 5})
    assert cli.main(["status", "--course", str(course.root), "--student", "bob"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^bob\s+a1\s+stale\s+0/5\s+.*to regrade: the assignment changed", out, re.M)
    assert "5 submission(s) need grading: python -m autograder grade" in out
    # The digest status compares with is the one `grade` plans its jobs with.
    jobs, _ = grading.plan_jobs(course, ["a1", "b2"], ["bob"])
    assert [(j.student, j.assignment) for j in jobs] == [("bob", "a1")]
    assert jobs[0].bundle == grading.bundle_digest(course, "a1")


@pytest.mark.slow
def test_recollecting_with_a_new_timestamp_is_not_stale(course):
    (course.submitted / "bob" / "a1" / "timestamp.txt").write_text("2025-02-02T00:00:00+00:00")
    assert _states(course)[("bob", "a1")].state == "graded"


@pytest.mark.slow
def test_failed_and_pending(course):
    files = submission_files(course, "dave", "a1")
    ledger.append(
        course,
        {
            "student": "dave",
            "assignment": "a1",
            "sha256": handin.submission_hash(files),
            "bundle": grading.bundle_digest(course, "a1"),
            "status": "failed",
            "score": 0.0,
            "max_score": 5.0,
            "flags": ["kernel died"],
        },
    )
    rf.submit(course.root, "frank", "b2", {})
    states = _states(course)
    assert states[("dave", "a1")].state == "failed"
    assert states[("dave", "a1")].flags == ("kernel died",)
    assert states[("frank", "b2")].state == "pending"
    assert states[("frank", "a1")].state == "missing"
    assert _counts(course)["b2"] == (2, {"graded": 1, "pending": 1})


@pytest.mark.slow
def test_table_text(course):
    text = format_table(status_table(course))
    assert text.splitlines()[0].split() == [
        "assignment",
        "collected",
        "graded",
        "stale",
        "failed",
        "pending",
        "missing",
    ]
    assert text.splitlines()[2].split() == ["b2", "1", "1", "0", "0", "0", "4"]


@pytest.mark.slow
def test_cli_student_lines_and_exit_code(course, capsys):
    assert cli.main(["status", "--course", str(course.root), "--student", "bob"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^bob\s+a1\s+graded\s+0/5\s+submitted 2025-01-01", out, re.M)
    assert re.search(r"^bob\s+b2\s+missing\s+-$", out, re.M)
    assert "alice" not in out


@pytest.mark.slow
def test_cli_all_and_unknown_student(course, capsys):
    assert cli.main(["status", "--course", str(course.root), "--all"]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"^\w+\s+(a1|b2)\s+(graded|missing)", out, re.M)) == 10
    assert cli.main(["status", "--course", str(course.root), "--student", "zed"]) == 0
    assert "zed" in capsys.readouterr().out


def test_status_of_a_fresh_course_reads_without_creating_a_gradebook(tmp_path, capsys):
    root = rf.make_course(tmp_path / "fresh")
    course = Course.at(root)
    rf_folder = course.submitted / "amy" / "a1"
    rf_folder.mkdir(parents=True)
    (rf_folder / "a1.ipynb").write_text("{}")
    assert _counts(course)["a1"] == (1, {"pending": 1})
    assert cli.main(["status", "--course", str(root)]) == 0
    assert "need grading" in capsys.readouterr().out
    assert not course.gradebook.exists()


def test_status_without_assignments(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert cli.main(["status", "--course", str(tmp_path)]) == 0
    assert "no assignments" in capsys.readouterr().out
