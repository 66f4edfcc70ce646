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
import sys

from autograder.layout import Course
from autograder.records.intake import read_roster_ids
from autograder.records.states import submission_states
from autograder.reporting.export import LONG_NAME, WIDE_NAME, export_csv


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
