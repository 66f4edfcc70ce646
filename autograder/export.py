"""Export the grades as a CSV for the LMS gradebook.

    python -m autograder export                 exports/grades.csv: one row per student
    python -m autograder export --long          exports/grades_long.csv: one row per
                                                student, assignment and notebook
    python -m autograder export --output PATH   write somewhere else

Wide format (the LMS import): student_id, one column per assignment (its score; blank
when the student handed nothing in or it is not graded yet), total, max_total.
Long format: student_id, assignment, notebook, score, max_score, status (graded, stale,
failed, pending, missing), flags.

Scores come from nbgrader's gradebook (the grading ledger's when the gradebook has none),
rounded to 2 decimals; rows are sorted by student, then assignment and notebook, so the
same grades always give the same file.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

from autograder import ledger
from autograder.layout import Course
from autograder.status import known_students, open_gradebook, submission_states

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

    def max_total(self) -> float:
        return sum(sum(nbs.values()) for nbs in self.max_scores.values())

    def score(self, student: str, assignment: str) -> float | None:
        return self.scores.get((student, assignment))


def wide_rows(grades: Grades) -> list[list[str]]:
    """The wide table, header first."""
    rows = [["student_id", *grades.assignments, "total", "max_total"]]
    max_total = _num(grades.max_total())
    for student in grades.students:
        scores = [grades.score(student, a) for a in grades.assignments]
        total = sum(s for s in scores if s is not None)
        rows.append([_cell(student), *map(_num, scores), _num(total), max_total])
    return rows


def long_rows(grades: Grades) -> list[list[str]]:
    """The long table, header first."""
    rows = [["student_id", "assignment", "notebook", "score", "max_score", "status", "flags"]]
    for student in grades.students:
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
                        _cell(student),
                        assignment,
                        notebook,
                        _num(score),
                        _num(max_score),
                        status,
                        _cell(flags),
                    ]
                )
    return rows


def export_csv(course: Course, path: str | Path | None = None, *, long: bool = False) -> Path:
    """Write the grades CSV; return its path.

    Args:
        course: the course.
        path: where to write; default exports/grades.csv (exports/grades_long.csv if long).
        long: one row per student, assignment and notebook instead of one per student.
    """
    grades = Grades(course)
    rows = long_rows(grades) if long else wide_rows(grades)
    path = Path(path) if path else course.exports / (LONG_NAME if long else WIDE_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--long", action="store_true", help="one row per student, assignment and notebook"
    )
    parser.add_argument(
        "--output",
        metavar="PATH",
        help=f"default: exports/{WIDE_NAME} (exports/{LONG_NAME} with --long)",
    )


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    path = export_csv(course, args.output, long=args.long)
    states = [s for s in submission_states(course) if s.state != "graded"]
    with path.open(encoding="utf-8") as f:
        n_rows = sum(1 for _ in f) - 1
    print(f"wrote {path} ({n_rows} rows)")
    by_state: dict[str, int] = {}
    for s in states:
        by_state[s.state] = by_state.get(s.state, 0) + 1
    if by_state:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(by_state.items()))
        print(
            f"warning: not every collected submission is graded ({counts}); "
            "see `python -m autograder status --all`",
            file=sys.stderr,
        )
    return 0
