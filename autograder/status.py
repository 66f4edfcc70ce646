"""Show what is collected, graded, pending and failed, per assignment and per student.

    python -m autograder status                   one line per assignment
    python -m autograder status --all             ... then one line per student and assignment
    python -m autograder status --student alice   ... then alice's lines only

A thin command over autograder.records.states, which defines the states of a collected
submission (submitted/<student>/<assignment>/):

    graded    the grading ledger's last record for it is "graded" and carries the hash of
              the files now in submitted/ (the grade belongs to what is there now)
    stale     it was graded or failed, but its files changed since (collected again), or
              the assignment's bundle did (an edited check or notebook): run `grade` again
    failed    grading gave up on it (timeout, crash, invalid notebook): see the flags
    needs_person  the grading worker died three times on it (autograder.sandbox.backend): never
              scored; a person looks at it, then regrades it with `grade --force`
    pending   collected, never graded
    missing   (per-student lines only) a known student handed nothing in

Scores come from nbgrader's gradebook (gradebook.db), falling back to the ledger's.
Reading the status changes nothing; the exit code is 0.
"""

from __future__ import annotations

import argparse

from autograder.layout import Course
from autograder.records.states import (
    NEEDS_PERSON,
    STATES,
    AssignmentStatus,
    status_table,
    submission_states,
)


def format_table(rows: list[AssignmentStatus]) -> str:
    """The per-assignment table as text (a needs_person column only where one is)."""
    states = (*STATES, NEEDS_PERSON) if any(r.counts[NEEDS_PERSON] for r in rows) else STATES
    header = ["assignment", "collected", *states, "missing"]
    lines = [header]
    for row in rows:
        missing = max(row.students - row.collected, 0)
        counts = [str(row.counts[s]) for s in states]
        lines.append([row.assignment, str(row.collected), *counts, str(missing)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="also list this student's submissions, one line each (repeatable)",
    )
    who.add_argument(
        "--all", action="store_true", help="also list every student's submissions, one line each"
    )


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    rows = status_table(course)
    if not rows:
        print(f"no assignments in {course.source} and none in the gradebook")
        return 0
    print(format_table(rows))
    if args.all or args.student:
        states = submission_states(course, students=args.student, include_missing=True)
        print()
        for s in states:
            print(s.line())
        unknown = sorted(set(args.student or ()) - {s.student for s in states})
        for student in unknown:
            print(f"{student:<20} unknown student: no submission and not in the gradebook")
    stale = sum(r.counts["stale"] + r.counts["pending"] for r in rows)
    if stale:
        print(f"\n{stale} submission(s) need grading: python -m autograder grade")
    stuck = [s for s in submission_states(course) if s.state == NEEDS_PERSON]
    if stuck:
        print(f"\n{len(stuck)} submission(s) need a person and a regrade:")
        for s in stuck:
            print(f"  {s.student} {s.assignment}: {s.reason}")
            print(
                f"    after a look: python -m autograder grade --student {s.student} "
                f"--assignment {s.assignment} --force"
            )
    return 0
