"""Show what is collected, graded, pending and failed, per assignment and per student.

    python -m autograder status                   one line per assignment
    python -m autograder status --all             ... then one line per student and assignment
    python -m autograder status --student alice   ... then alice's lines only

States of a collected submission (submitted/<student>/<assignment>/):

    graded    the grading ledger's last record for it is "graded" and carries the hash of
              the files now in submitted/ (the grade belongs to what is there now)
    stale     it was graded or failed, but its files changed since (collected again):
              run `grade` again
    failed    grading gave up on it (timeout, crash, invalid notebook): see the flags
    needs_person  the grading worker died three times on it (autograder.backend): never
              scored; a person looks at it, then regrades it with `grade --force`
    pending   collected, never graded
    missing   (per-student lines only) a known student handed nothing in

Scores come from nbgrader's gradebook (gradebook.db), falling back to the ledger's.
Reading the status changes nothing; the exit code is 0.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autograder import ensure_tools_on_path, ledger
from autograder.layout import Course
from autograder.worker import submission_notebooks

#: Order of the states in tables and reports.
STATES = ("graded", "stale", "failed", "pending")
#: A state the table shows only where some submission is in it (rare, and alarming).
NEEDS_PERSON = ledger.NEEDS_PERSON


def course_id(course: Course) -> str:
    """The nbgrader course id of nbgrader_config.py (nbgrader's default when unset)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    section = config.get("CourseDirectory", {})
    return str(section["course_id"]) if "course_id" in section else "default_course"


@contextmanager
def open_gradebook(course: Course, *, create: bool = False) -> Iterator:
    """nbgrader's Gradebook of the course, or None when gradebook.db does not exist.

    Opening a Gradebook creates the database file; readers (status, export, feedback)
    must not leave an empty gradebook behind, so they get None instead unless `create`.
    """
    if not course.gradebook.exists() and not create:
        yield None
        return
    from nbgrader.api import Gradebook

    ensure_tools_on_path()  # a new gradebook runs `alembic`, found through PATH
    gb = Gradebook(course.db_url, course_id=course_id(course))
    try:
        yield gb
    finally:
        gb.close()


def submission_files(course: Course, student: str, assignment: str) -> list[Path]:
    """The files whose hash identifies a submission: its notebooks, sorted by name.

    timestamp.txt is left out: collecting the same notebook again must not turn a graded
    submission into a stale one.
    """
    # Links are never followed, so a notebook linked to another student's is no submission.
    return submission_notebooks(course.submitted / student / assignment)


def read_timestamp(folder: Path) -> str | None:
    """The text of `folder/timestamp.txt` (nbgrader's submission time), or None."""
    try:
        return (folder / "timestamp.txt").read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class SubmissionState:
    """Where one student's submission of one assignment stands."""

    student: str
    assignment: str
    state: str  # one of STATES, or "missing"
    score: float | None = None
    max_score: float | None = None
    flags: tuple[str, ...] = ()
    submitted_at: str | None = None
    graded_at: str | None = None
    reason: str = ""  # needs_person: why (the ledger's message)

    def line(self) -> str:
        """One line for the per-student listing."""
        score = (
            f"{self.score:g}/{self.max_score:g}"
            if self.score is not None and self.max_score is not None
            else "-"
        )
        parts = [f"{self.student:<20} {self.assignment:<20} {self.state:<8} {score:>9}"]
        if self.submitted_at:
            parts.append(f"submitted {self.submitted_at}")
        if self.flags:
            parts.append("flags: " + "; ".join(self.flags))
        if self.state == NEEDS_PERSON:
            parts.append(f"needs a regrade: {self.reason}")
        return "  ".join(parts)


@dataclass
class AssignmentStatus:
    """Counts for one assignment; `students` counts everyone known to the course."""

    assignment: str
    students: int = 0
    counts: Counter = field(default_factory=Counter)

    @property
    def collected(self) -> int:
        return sum(self.counts[s] for s in (*STATES, NEEDS_PERSON))


def _gradebook_scores(course: Course) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max_score) for every submission in the gradebook."""
    scores: dict[tuple[str, str], tuple[float, float]] = {}
    with open_gradebook(course) as gb:
        if gb is None:
            return scores
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                scores[(sub.student_id, assignment.name)] = (
                    float(sub.score or 0.0),
                    float(sub.max_score or 0.0),
                )
    return scores


def gradebook_students(course: Course) -> list[str]:
    """Student ids registered in the gradebook (empty when there is none)."""
    with open_gradebook(course) as gb:
        return sorted(s.id for s in gb.students) if gb is not None else []


def known_students(course: Course) -> list[str]:
    """Everyone the course knows: students with a submission, and the gradebook's."""
    return sorted(set(course.students()) | set(gradebook_students(course)))


def submission_states(
    course: Course, *, students: list[str] | None = None, include_missing: bool = False
) -> list[SubmissionState]:
    """The state of every collected submission, sorted by (student, assignment).

    Args:
        course: the course.
        students: only these students; default: all.
        include_missing: also list known students who handed an assignment in not at all.
    """
    records = ledger.latest(course)
    scores = _gradebook_scores(course)
    assignments = sorted(set(course.assignments()) | {a for _, a in scores})
    everyone = known_students(course) if include_missing else course.students()
    if students is not None:
        everyone = [s for s in everyone if s in set(students)]
    states = []
    for student in everyone:
        for assignment in assignments:
            folder = course.submitted / student / assignment
            files = submission_files(course, student, assignment)
            if not folder.is_dir() or not files:
                if include_missing:
                    states.append(SubmissionState(student, assignment, "missing"))
                continue
            rec = records.get((student, assignment))
            if rec is None:
                state = "pending"
            elif rec["sha256"] != ledger.submission_hash(files):
                state = "stale"
            elif rec["status"] in ("failed", NEEDS_PERSON):
                state = rec["status"]
            else:
                state = "graded"
            score, max_score = scores.get((student, assignment), (None, None))
            if score is None and rec is not None:
                score, max_score = rec.get("score"), rec.get("max_score")
            states.append(
                SubmissionState(
                    student,
                    assignment,
                    state,
                    score=score,
                    max_score=max_score,
                    flags=tuple(rec.get("flags") or ()) if rec else (),
                    submitted_at=read_timestamp(folder),
                    graded_at=rec.get("graded_at") if rec else None,
                    reason=str(rec.get("message") or "") if state == NEEDS_PERSON else "",
                )
            )
    return states


def status_table(course: Course) -> list[AssignmentStatus]:
    """One row of counts per assignment (every assignment of source/ and the gradebook)."""
    states = submission_states(course)
    n_students = len(known_students(course))
    rows = {
        a: AssignmentStatus(a, students=n_students)
        for a in sorted(set(course.assignments()) | {s.assignment for s in states})
    }
    for s in states:
        rows[s.assignment].counts[s.state] += 1
    return list(rows.values())


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
