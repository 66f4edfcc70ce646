"""export: the LMS CSV (wide) and the long CSV, deterministic and rounded."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from autograder import cli, handin
from autograder.layout import Course
from autograder.records import ledger
from autograder.records.gradebook import open_gradebook
from autograder.reporting.export import export_csv


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


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_wide_csv(course):
    path = export_csv(course)
    assert path == course.exports / "grades.csv"
    assert _read(path) == [
        ["student_id", "a1", "b2", "total", "max_total"],
        ["alice", "5.00", "1.00", "6.00", "6.00"],
        ["bob", "0.00", "", "0.00", "6.00"],
        ["carol", "0.00", "", "0.00", "6.00"],
        ["dave", "0.00", "", "0.00", "6.00"],
        ["erin", "2.00", "", "2.00", "6.00"],
    ]


@pytest.mark.slow
def test_long_csv(course):
    rows = _read(export_csv(course, long=True))
    assert rows[0] == [
        "student_id",
        "assignment",
        "notebook",
        "score",
        "max_score",
        "status",
        "flags",
    ]
    assert rows[1] == ["alice", "a1", "a1", "5.00", "5.00", "graded", ""]
    assert ["bob", "b2", "b2", "", "1.00", "missing", ""] in rows
    assert ["carol", "a1", "a1", "0.00", "5.00", "graded", "late: 1 day"] in rows
    assert len(rows) == 1 + 5 * 2
    assert rows[1:] == sorted(rows[1:], key=lambda r: (r[0], r[1], r[2]))


@pytest.mark.slow
def test_same_grades_same_bytes(course, tmp_path):
    first = export_csv(course, tmp_path / "one.csv").read_bytes()
    second = export_csv(course, tmp_path / "two.csv").read_bytes()
    assert first == second


@pytest.mark.slow
def test_scores_are_rounded_to_two_decimals(course):
    with open_gradebook(course) as gb:
        grade = gb.find_grade("tiny_mul_tests", "a1", "a1", "bob")
        grade.manual_score = 1.23456
        gb.db.commit()
    rows = _read(export_csv(course))
    assert rows[2] == ["bob", "1.23", "", "1.23", "6.00"]


@pytest.mark.slow
def test_pending_submission_is_blank_and_warned(course, capsys):
    rf.submit(course.root, "frank", "b2", {})
    out = course.root / "out" / "g.csv"
    assert cli.main(["export", "--course", str(course.root), "--output", str(out)]) == 0
    assert ["frank", "", "", "0.00", "6.00"] in _read(out)
    captured = capsys.readouterr()
    assert f"wrote {out} (6 rows)" in captured.out
    assert "1 pending" in captured.err


@pytest.mark.slow
def test_flags_cannot_become_spreadsheet_formulas(course):
    rec = ledger.latest(course)[("alice", "a1")]
    ledger.append(course, {**rec, "flags": ['=HYPERLINK("http://x")']})
    rows = _read(export_csv(course, long=True))
    assert rows[1][-1] == '\'=HYPERLINK("http://x")'


def test_ledger_score_when_the_gradebook_has_none(tmp_path):
    """A failed job that never reached the gradebook still exports its ledger score."""
    course = Course.at(rf.make_course(tmp_path / "c", with_c3=False))
    folder = rf.submit_raw(course.root, "amy", "a1", b"not json")
    ledger.append(
        course,
        {
            "student": "amy",
            "assignment": "a1",
            "sha256": handin.submission_hash([folder / "a1.ipynb"]),
            "status": "failed",
            "score": 0.0,
            "max_score": 5.0,
            "flags": ["invalid notebook"],
        },
    )
    wide = _read(export_csv(course))
    assert wide == [
        ["student_id", "a1", "b2", "total", "max_total"],
        ["amy", "0.00", "", "0.00", "6.00"],
    ]
    long = _read(export_csv(course, long=True))
    assert long[1] == ["amy", "a1", "a1", "0.00", "5.00", "failed", "invalid notebook"]
    assert not course.gradebook.exists()


@pytest.mark.slow
def test_cli_long_default_path(course, capsys):
    assert cli.main(["export", "--course", str(course.root), "--long"]) == 0
    assert (course.exports / "grades_long.csv").is_file()
    assert "grades_long.csv (10 rows)" in capsys.readouterr().out
