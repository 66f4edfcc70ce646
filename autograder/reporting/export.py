"""The grades as a CSV for the LMS gradebook: wide (one row per student) or long.

The library behind `python -m autograder export`, whose help describes both formats and
the roster. Scores come from the gradebook (autograder.records.gradebook), the ledger's
where the gradebook has none; states from autograder.records.states.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from autograder.layout import Course
from autograder.records import ledger
from autograder.records.gradebook import open_gradebook
from autograder.records.intake import fold_student_id
from autograder.records.states import known_students, submission_states

WIDE_NAME, LONG_NAME = "grades.csv", "grades_long.csv"


def _num(value: float | None) -> str:
    return "" if value is None else f"{round(float(value), 2):.2f}"


def _cell(text: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _source_points(course: Course, assignment: str) -> dict[str, float]:
    """notebook -> points of its graded cells, read from source/ (no gradebook needed)."""
    points = {}
    for nb_name in course.notebooks(assignment):
        path = course.source / assignment / f"{nb_name}.ipynb"
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        points[nb_name] = sum(
            float((c.get("metadata", {}).get("nbgrader") or {}).get("points") or 0)
            for c in cells
            if (c.get("metadata", {}).get("nbgrader") or {}).get("grade")
        )
    return points


class Grades:
    """Every score the export needs, read once from the gradebook and the ledger."""

    def __init__(self, course: Course):
        self.course = course
        #: (student, assignment) -> score; (student, assignment, notebook) -> score
        self.scores: dict[tuple, float] = {}
        #: assignment -> notebook -> max score
        self.max_scores: dict[str, dict[str, float]] = {}
        with open_gradebook(course) as gb:
            if gb is not None:
                for assignment in gb.assignments:
                    self.max_scores[assignment.name] = {
                        nb.name: float(nb.max_score or 0.0) for nb in assignment.notebooks
                    }
                    for sub in assignment.submissions:
                        key = (sub.student_id, assignment.name)
                        self.scores[key] = float(sub.score or 0.0)
                        for nb in sub.notebooks:
                            self.scores[(*key, nb.name)] = float(nb.score or 0.0)
        for assignment in course.assignments():
            if not self.max_scores.get(assignment):
                self.max_scores[assignment] = _source_points(course, assignment)
        self.states = {
            (s.student, s.assignment): s for s in submission_states(course, include_missing=True)
        }
        for (student, assignment), rec in ledger.latest(course).items():
            if (student, assignment) not in self.scores and rec.get("score") is not None:
                state = self.states.get((student, assignment))
                if state is not None and state.state != "missing":
                    self.scores[(student, assignment)] = float(rec["score"])
        self.assignments = sorted(self.max_scores)
        self.students = known_students(course)
        #: (the id written in the CSV, the course's id for it or None), one per row
        self.rows: list[tuple[str, str | None]] = [(s, s) for s in self.students]
        self.left_out: list[str] = []  # course students the roster does not list

    def use_roster(self, roster: list[str]) -> None:
        """One row per roster id, matched to the course's id exactly or, failing that,
        to the one course id equal to it once normalised."""
        by_fold: dict[str, list[str]] = {}
        for sid in self.students:
            by_fold.setdefault(fold_student_id(sid), []).append(sid)
        self.rows = []
        for rid in roster:
            same = by_fold.get(fold_student_id(rid), [])
            course_id = rid if rid in self.students else same[0] if len(same) == 1 else None
            self.rows.append((rid, course_id))
        used = {c for _, c in self.rows}
        self.left_out = [s for s in self.students if s not in used]

    def max_total(self) -> float:
        return sum(sum(nbs.values()) for nbs in self.max_scores.values())

    def score(self, student: str, assignment: str) -> float | None:
        return self.scores.get((student, assignment))


def wide_rows(grades: Grades) -> list[list[str]]:
    """The wide table, header first."""
    rows = [["student_id", *grades.assignments, "total", "max_total"]]
    max_total = _num(grades.max_total())
    for written, student in grades.rows:
        scores = [grades.score(student, a) if student else None for a in grades.assignments]
        total = sum(s for s in scores if s is not None)
        rows.append([_cell(written), *map(_num, scores), _num(total), max_total])
    return rows


def long_rows(grades: Grades) -> list[list[str]]:
    """The long table, header first."""
    rows = [["student_id", "assignment", "notebook", "score", "max_score", "status", "flags"]]
    for written, student in grades.rows:
        for assignment in grades.assignments:
            state = grades.states.get((student, assignment))
            status = state.state if state is not None else "missing"
            flags = "; ".join(state.flags) if state is not None else ""
            for notebook, max_score in sorted(grades.max_scores[assignment].items()):
                score = grades.scores.get((student, assignment, notebook))
                if score is None and len(grades.max_scores[assignment]) == 1:
                    score = grades.score(student, assignment)  # ledger-only score
                rows.append(
                    [
                        _cell(written),
                        assignment,
                        notebook,
                        _num(score),
                        _num(max_score),
                        status,
                        _cell(flags),
                    ]
                )
    return rows


def export_csv(
    course: Course,
    path: str | Path | None = None,
    *,
    long: bool = False,
    roster: list[str] | None = None,
    left_out: list[str] | None = None,
) -> Path:
    """Write the grades CSV; return its path.

    Args:
        course: the course.
        path: where to write; default exports/grades.csv (exports/grades_long.csv if long).
        long: one row per student, assignment and notebook instead of one per student.
        roster: student ids (collect.read_roster_ids): one row per id, written exactly so.
        left_out: filled with the course's students that the roster does not list.
    """
    grades = Grades(course)
    if roster is not None:
        grades.use_roster(roster)
        if left_out is not None:
            left_out += grades.left_out
    rows = long_rows(grades) if long else wide_rows(grades)
    path = Path(path) if path else course.exports / (LONG_NAME if long else WIDE_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path
