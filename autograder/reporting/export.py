"""Export the grades as a CSV for the LMS gradebook.

    python -m autograder export                 exports/grades.csv: one row per student
    python -m autograder export --long          exports/grades_long.csv: one row per
                                                student, assignment and notebook
    python -m autograder export --output PATH   write somewhere else
    python -m autograder export --roster CSV    one row per roster student, ids exactly
                                                as the roster (its student_id column)
                                                writes them

Wide format (the LMS import): student_id, one column per assignment (its score; blank
when the student handed nothing in or it is not graded yet), total, max_total.
Long format: student_id, assignment, notebook, score, max_score, status (graded, stale,
failed, pending, missing), flags.

With --roster, the rows are the roster's students in the roster's order, each id exactly as
the roster spells it (blank scores for a student who handed nothing in). A course id that
equals a roster id once normalised (collect.fold_student_id: case, look-alike characters)
is that roster student's; students the course graded who are not in the roster are left
out and listed on stderr, and the command exits with status 1.

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
from autograder.collect import fold_student_id, read_roster_ids
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--long", action="store_true", help="one row per student, assignment and notebook"
    )
    parser.add_argument(
        "--output",
        metavar="PATH",
        help=f"default: exports/{WIDE_NAME} (exports/{LONG_NAME} with --long)",
    )
    parser.add_argument(
        "--roster",
        metavar="CSV",
        help="one row per student of this CSV (column student_id), ids exactly as written",
    )


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    roster = read_roster_ids(args.roster) if args.roster else None
    left_out: list[str] = []
    path = export_csv(course, args.output, long=args.long, roster=roster, left_out=left_out)
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
    if left_out:
        print(
            f"error: {len(left_out)} student(s) of the course are not in the roster and are "
            f"not in the CSV: {', '.join(left_out)} (add them to the roster, or collect them "
            "again under a roster id with collect --map NAME=ID)",
            file=sys.stderr,
        )
        return 1
    return 0
