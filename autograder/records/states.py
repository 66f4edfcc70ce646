"""Where each collected submission stands: graded, stale, failed, needs a person, pending.

The library behind `python -m autograder status` (the command formats it), and what
export, feedback and the class report ask about a submission. It reads the trusted
records only: the ledger (autograder.records.ledger), the gradebook through
autograder.records.gradebook, the hash of the files now in submitted/, and the digest of
each assignment's bundle as it is now (autograder.records.grading.bundle_digest; see
docs/design.md, "Data flow of one grading run"). It writes nothing.

States of a collected submission (submitted/<student>/<assignment>/):

    graded    the grading ledger's last record for it is "graded" and carries the hash of
              the files now in submitted/ and the digest of the assignment's bundle as
              it is now (the grade belongs to what is there now)
    stale     it was graded or failed, but its files changed since (collected again), or
              the assignment did (its bundle: a check of `course/`, a source or release
              notebook, the gradebook's cells): run `grade` again, which regrades it
    failed    grading gave up on it (timeout, crash, invalid notebook): see the flags
    needs_person  the grading worker died three times on it (autograder.sandbox.backend):
              never scored; a person looks at it, then regrades it with `grade --force`
    pending   collected, never graded
    missing   (per-student lines only) a known student handed nothing in

Scores come from nbgrader's gradebook (gradebook.db), falling back to the ledger's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.handin import submission_hash, submission_notebooks
from autograder.layout import Course
from autograder.records import gradebook, grading, ledger

#: Order of the states in tables and reports.
STATES = ("graded", "stale", "failed", "pending")
#: A state the table shows only where some submission is in it (rare, and alarming).
NEEDS_PERSON = ledger.NEEDS_PERSON
#: Why a submission is stale.
STALE_FILES = "its files changed since it was graded"
STALE_BUNDLE = (
    "the assignment changed since it was graded (a check in course/, a source or release "
    "notebook, or the gradebook's cells)"
)


def submission_files(course: Course, student: str, assignment: str) -> list[Path]:
    """The files whose hash identifies a submission: its notebooks, sorted by name.

    timestamp.txt is left out: collecting the same notebook again must not turn a graded
    submission into a stale one.
    """
    # Links are never followed, so a notebook linked to another student's is no submission.
    return submission_notebooks(course.submitted / student / assignment)


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
    reason: str = ""  # needs_person: why (the ledger's message); stale: what changed

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
        elif self.state == "stale" and self.reason:
            parts.append(f"to regrade: {self.reason}")
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


def known_students(course: Course) -> list[str]:
    """Everyone the course knows: students with a submission, and the gradebook's."""
    return sorted(set(course.students()) | set(gradebook.students(course)))


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
    scores = gradebook.submission_scores(course)
    assignments = sorted(set(course.assignments()) | {a for _, a in scores})
    everyone = known_students(course) if include_missing else course.students()
    if students is not None:
        everyone = [s for s in everyone if s in set(students)]
    digests: dict[str, str | None] = {}  # computed for assignments with a record only
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
            reason = ""
            if rec is not None and assignment not in digests:
                digests[assignment] = grading.bundle_digest(course, assignment)
            if rec is None:
                state = "pending"
            elif rec["sha256"] != submission_hash(files):
                state, reason = "stale", STALE_FILES
            elif digests[assignment] is not None and rec.get("bundle") != digests[assignment]:
                state, reason = "stale", STALE_BUNDLE
            elif rec["status"] in ("failed", NEEDS_PERSON):
                state = rec["status"]
                reason = str(rec.get("message") or "") if state == NEEDS_PERSON else ""
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
                    submitted_at=gradebook.submission_time(folder)[0],
                    graded_at=rec.get("graded_at") if rec else None,
                    reason=reason,
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
