"""The grading run: plan the jobs, run them on the sandbox side, score each result once.

This is the trusted grading process's loop (docs/design.md, "Data flow of one grading
run" and "Grading on Dask"); `python -m autograder grade` is a thin command over it.

1. Plan (here): which submissions need grading, from the ledger, the hash of the files
   in submitted/ and the digest of the assignment's bundle (autograder.sandbox.bundle:
   what grading needs from the course side, built once per run); one `Job` per
   submission, with the run's secret probe seed. A job carries the hand-in's bytes
   (read when it is submitted, bounded) and the bundle's digest, no path of the course.
2. Run (autograder.sandbox.backend): the bundles go to the workers once; Dask worker
   processes stage them, prepare and execute each job in the sandbox and hand back
   bounded JSON bytes, decoded here into a `JobResult`: data, judged here, never trusted.
3. Record (here, one result at a time): a result for a submission this run or the ledger
   already has as graded is ignored (exactly once); else autograder.records.score judges
   and scores it into the gradebook, then the ledger gets its line. A job whose worker
   died three times is recorded for a person, never scored.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import tqdm

import solutions
from autograder.handin import read_handin, submission_hash, submission_notebooks
from autograder.judging import judge
from autograder.layout import Course
from autograder.records import gradebook, ledger, score
from autograder.records.ledger import NEEDS_PERSON
from autograder.sandbox import backend, bundle, bwrap
from autograder.sandbox.backend import Cluster
from autograder.sandbox.driver import Limits
from autograder.sandbox.worker import Job, JobResult

#: Sandbox limits for grading: the executor's defaults, with room for the figures of an
#: honest notebook (01_convolution's plots alone are about 1 MB).
GRADING_LIMITS = replace(Limits(), output_bytes=max(Limits().output_bytes, 4 * 2**20))
ON_TAMPER = ("zero", "flag")


@dataclass
class JobOutcome:
    """One row of the report: how a job ended (or that it was already graded)."""

    student: str
    assignment: str
    status: str  # "graded", "failed", "needs_person", "unchanged" (skipped: graded before)
    score: float | None = None
    max_score: float | None = None
    flags: tuple[str, ...] = ()
    exec_status: str = ""
    message: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        score = (
            f"{self.score:g}/{self.max_score:g}"
            if self.score is not None and self.max_score is not None
            else "-"
        )
        text = f"{self.student} {self.assignment}: {score} {self.status}"
        if self.exec_status and self.exec_status != "ok":
            text += f" ({self.exec_status})"
        if self.flags:
            text += " [" + "; ".join(self.flags) + "]"
        return text


@dataclass
class GradeReport:
    """What a grading run did: one outcome per job, sorted by student and assignment."""

    outcomes: list[JobOutcome] = field(default_factory=list)
    sandboxed: bool | None = None  # None: nothing was executed
    seconds: float = 0.0
    duplicates: int = 0  # results ignored: their submission was already scored

    @property
    def graded(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "graded"]

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def skipped(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "unchanged"]

    @property
    def needs_person(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == NEEDS_PERSON]

    def scores(self) -> dict[tuple[str, str], float | None]:
        return {(o.student, o.assignment): o.score for o in self.outcomes}

    def table(self) -> str:
        """The summary table: student, assignment, score/max, status, flags."""
        rows = [("student", "assignment", "score", "status", "flags")]
        for o in self.outcomes:
            score = (
                f"{o.score:g}/{o.max_score:g}"
                if o.score is not None and o.max_score is not None
                else "-"
            )
            status = o.status if o.exec_status in ("", "ok") else f"{o.status} ({o.exec_status})"
            rows.append((o.student, o.assignment, score, status, "; ".join(o.flags)))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = []
        for r in rows:
            student, assignment, score, status = (r[i].ljust(widths[i]) for i in range(4))
            score = r[2].rjust(widths[2])
            lines.append("  ".join([student, assignment, score, status, r[4]]).rstrip())
        lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
        summary = (
            f"{len(self.graded)} graded, {len(self.failed)} failed, "
            f"{len(self.skipped)} unchanged, in {self.seconds:.1f} s"
        )
        if self.needs_person:
            summary += f"; {len(self.needs_person)} need a person (see `status`)"
        if self.duplicates:
            summary += f"; {self.duplicates} result(s) for submissions already scored ignored"
        return "\n".join([*lines, "", summary])


# ---------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------


def solutions_dir(course: Course) -> Path:
    """The `solutions` package the hidden tests import: the course's own if it has one,
    else the installed package."""
    own = course.root / "solutions"
    if (own / "__init__.py").is_file():
        return own
    return Path(solutions.__file__).resolve().parent


def needs_solutions(course: Course, assignment: str) -> bool:
    """Whether some graded cell of the assignment still runs a hidden test in the kernel
    (which imports `solutions`); an assignment judged by probes alone never sees it."""
    return any(
        judge.in_kernel_tests(nb)
        for name in course.notebooks(assignment)
        if (nb := judge.source_notebook(course.root, assignment, name)) is not None
    )


def bundle_files(course: Course, assignment: str) -> dict[str, bytes]:
    """What grading `assignment` needs from the course side, as bundle paths and bytes
    (autograder.sandbox.bundle): the nbgrader configuration, the source notebooks, the
    release folder, the gradebook's record of the assignment's cells, the `course`
    package, and `solutions` where a hidden test still runs in the kernel. Not the MNIST
    data: each worker mounts its own CNN_COURSE_DATA."""
    in_kernel = needs_solutions(course, assignment)
    files: dict[str, bytes] = {}
    config = course.root / "nbgrader_config.py"
    if config.is_file():
        files["nbgrader_config.py"] = config.read_bytes()
    source = bundle.tree_files(course.source / assignment, f"source/{assignment}")
    files |= {p: data for p, data in source.items() if p.endswith(".ipynb")}
    files |= bundle.tree_files(course.release / assignment, f"release/{assignment}")
    record = gradebook.assignment_record(course, assignment)
    files[bundle.GRADEBOOK] = (json.dumps(record, sort_keys=True, indent=1) + "\n").encode()
    files[bundle.MANIFEST] = bundle.manifest(assignment, course.notebooks(assignment), in_kernel)
    files |= bundle.tree_files(bwrap.course_package_dir(), f"{bundle.PACKAGES}/course")
    if in_kernel:
        files |= bundle.tree_files(solutions_dir(course), f"{bundle.PACKAGES}/solutions")
    return files


def bundle_digest(course: Course, assignment: str) -> str | None:
    """The digest `assignment`'s bundle has now (bundle_files), or None where it cannot
    be built (the gradebook does not know the assignment: not released). A ledger record
    carrying another digest was graded against an earlier assignment: `grade` regrades it
    and `status` calls it stale."""
    try:
        return bundle.digest_of(bundle_files(course, assignment))
    except ValueError:
        return None


def load_submission(course: Course, job: Job) -> Job:
    """`job` with its hand-in read (bounded: handin.read_handin) from submitted/: what
    crosses the wire of the submission. Called just before the job is submitted."""
    folder = course.submitted / job.student / job.assignment
    h = read_handin(folder, job.notebooks)
    return replace(job, files=h.files, unread=h.unread, extra_files=h.extra, sha256=h.sha256)


def plan_jobs(
    course: Course,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    *,
    force: bool = False,
    limits: Limits | None = None,
    bundles: dict[str, bundle.Bundle] | None = None,
) -> tuple[list[Job], list[JobOutcome]]:
    """Jobs to run, in a deterministic order (student, then assignment), and the
    outcomes of the jobs skipped because the ledger already has them graded, or left
    for a person (unless `force`), with the same submission hash and the same bundle.

    The jobs name their assignment's bundle and the grader version; their hand-ins are
    read when they are submitted (load_submission). `bundles` (by assignment) is filled
    with the bundle of each assignment that has a submission, built here unless there.

    Raises:
        ValueError: an unknown assignment or student, or an assignment the gradebook
            does not know (run `release` first).
    """
    known = course.assignments()
    registered = gradebook.registered_assignments(course)
    if assignments:
        assignments = sorted(set(assignments))
        unknown = sorted(set(assignments) - set(known))
        if unknown:
            raise ValueError(f"unknown assignment(s) {unknown}; source/ has {known}")
        unregistered = sorted(set(assignments) - registered)
        if unregistered:
            raise ValueError(
                f"assignment(s) {unregistered} are not in {course.gradebook}: "
                "run `python -m autograder release` first"
            )
    else:
        assignments = [a for a in known if a in registered]
        if not assignments:
            raise ValueError(
                f"no assignment is released into {course.gradebook}: "
                "run `python -m autograder release` first"
            )
    all_students = course.students()
    students = sorted(set(students)) if students else all_students
    missing = sorted(set(students) - set(all_students))
    if missing:
        raise ValueError(f"no submissions from {missing} in {course.submitted}")

    limits = limits or GRADING_LIMITS
    bundles = {} if bundles is None else bundles
    version = backend.grader_version()
    # One secret per grading run: the inputs the probes get are drawn from it.
    seed = secrets.token_hex(16)
    last = ledger.latest(course)
    jobs: list[Job] = []
    skipped: list[JobOutcome] = []
    for student in students:
        for assignment in assignments:
            folder = course.submitted / student / assignment
            if not folder.is_dir():
                continue
            if assignment not in bundles:
                bundles[assignment] = bundle.pack(bundle_files(course, assignment))
            rec = last.get((student, assignment))
            sha = submission_hash(submission_notebooks(folder))
            if (
                not force
                and rec
                and rec.get("status") in ("graded", NEEDS_PERSON)
                and rec.get("sha256") == sha
                and rec.get("bundle") == bundles[assignment].digest
            ):
                skipped.append(
                    JobOutcome(
                        student,
                        assignment,
                        "unchanged" if rec["status"] == "graded" else NEEDS_PERSON,
                        rec.get("score"),
                        rec.get("max_score"),
                        tuple(rec.get("flags") or ()),
                        rec.get("exec_status", ""),
                        rec.get("message", ""),
                    )
                )
                continue
            jobs.append(
                Job(
                    student=student,
                    assignment=assignment,
                    notebooks=tuple(course.notebooks(assignment)),
                    bundle=bundles[assignment].digest,
                    grader=version,
                    limits=limits,
                    probe_seed=seed,
                    sha256=sha,
                )
            )
    return jobs, skipped


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------


def _record(course: Course, result: JobResult, on_tamper: str) -> JobOutcome:
    """Score a finished job and append it to the ledger (in this order: a kill between
    the two only means the job is scored again, with the same result, next time)."""
    job = result.job
    try:
        scored = score.score_job(course, result, on_tamper=on_tamper)
    except Exception as exc:
        scored = score.Scored(
            "failed", None, None, [f"scoring failed: {type(exc).__name__}: {exc}"], "error"
        )
    ledger.append(
        course,
        {
            "student": job.student,
            "assignment": job.assignment,
            "sha256": result.sha256,
            "bundle": job.bundle,
            "grader": job.grader,
            "status": scored.status,
            "score": scored.score,
            "max_score": scored.max_score,
            "flags": scored.flags,
            "exec_status": scored.exec_status,
            "message": scored.message[:2000],
            "seconds": result.seconds,
            "cells": scored.cells,
        },
    )
    return JobOutcome(
        job.student,
        job.assignment,
        scored.status,
        scored.score,
        scored.max_score,
        tuple(scored.flags),
        scored.exec_status,
        scored.message,
        result.seconds,
    )


def _record_stuck(course: Course, job: Job, reason: str) -> JobOutcome:
    """Record a job whose worker kept dying: for a person, never a score."""
    flag = f"needs a person: the grading worker died {backend.WORKER_DEATHS} times"
    ledger.append(
        course,
        {
            "student": job.student,
            "assignment": job.assignment,
            "sha256": job.sha256,
            "bundle": job.bundle,
            "grader": job.grader,
            "status": NEEDS_PERSON,
            "score": None,
            "max_score": None,
            "flags": [flag],
            "exec_status": "worker_died",
            "message": reason,
        },
    )
    return JobOutcome(
        job.student, job.assignment, NEEDS_PERSON, None, None, (flag,), "worker_died", reason
    )


def grade(
    course: Course,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    *,
    workers: int | None = None,
    cluster: Cluster | None = None,
    force: bool = False,
    limits: Limits | None = None,
    progress: bool = True,
    on_tamper: str = "zero",
    verbose: bool = False,
    log: Callable[[str], None] | None = None,
) -> GradeReport:
    """Grade every collected submission that is not graded yet.

    Args:
        course: the course (gradebook.db with the assignments released into it).
        assignments, students: restrict to these; default: all.
        workers: worker processes of the embedded LocalCluster; default: os.cpu_count().
        cluster: where the jobs run (autograder.sandbox.backend.Cluster); default: a
            LocalCluster of `workers` processes.
        force: regrade submissions the ledger has as graded (or for a person) and
            unchanged.
        limits: sandbox limits of each notebook execution (autograder.sandbox.driver.Limits).
        progress: show a progress bar on stderr.
        on_tamper: "zero" (a manual 0 override the instructor can lift) or "flag".
        verbose: one line per finished job.
        log: where warnings go (default: stderr).
    Returns:
        GradeReport with one outcome per job, the skipped ones included.
    Raises:
        ValueError: unknown assignment or student, or nothing released into the gradebook.
        ClusterLostError: the Dask scheduler was lost or unreachable; what was scored before
            is in the ledger, nothing was recorded for the jobs in flight.
    """
    if on_tamper not in ON_TAMPER:
        raise ValueError(f"on_tamper must be one of {ON_TAMPER}, got {on_tamper!r}")
    say = log or (lambda text: print(text, file=sys.stderr))
    started = time.monotonic()
    cluster = cluster or Cluster(workers=max(1, workers or os.cpu_count() or 1))
    bundles: dict[str, bundle.Bundle] = {}
    jobs, skipped = plan_jobs(
        course, assignments, students, force=force, limits=limits, bundles=bundles
    )
    report = GradeReport(outcomes=list(skipped))
    if jobs:
        # A cluster's workers check their own host (`python -m autograder worker`).
        available, how = bwrap.sandbox_available() if cluster.local else (True, "")
        if not available:
            say(
                "WARNING: the grading sandbox is NOT available "
                f"({how}). Student code will run with resource limits only: it can read "
                "and write the course folder, the gradebook and other submissions. "
                "Grade untrusted submissions only where bubblewrap works."
            )
        bar = _progress(len(jobs), enabled=progress)
        sandboxed: list[bool] = []
        recorded = ledger.Tail(course)
        scored: set[tuple[str, str, str, str]] = set()

        def already_scored(job: Job, sha: str) -> bool:
            """Exactly once: this run scored it, or the ledger has it graded since (the
            same submission with the same bundle)."""
            if (job.student, job.assignment, sha, job.bundle) in scored:
                return True
            if force:
                return False
            rec = recorded.latest().get((job.student, job.assignment))
            return (
                rec is not None
                and rec["status"] == "graded"
                and rec["sha256"] == sha
                and rec.get("bundle") == job.bundle
            )

        def done(outcome: JobOutcome) -> None:
            report.outcomes.append(outcome)
            if verbose:
                bar.write(outcome.line())
            bar.update(1)

        def on_result(result: JobResult) -> None:
            job = result.job
            if result.sha256 and already_scored(job, result.sha256):
                report.duplicates += 1
                bar.update(1)
                return
            outcome = _record(course, result, on_tamper)
            if outcome.status == "graded":
                scored.add((job.student, job.assignment, result.sha256, job.bundle))
            if result.sandboxed is not None:
                sandboxed.append(result.sandboxed)
            done(outcome)

        def on_stuck(job: Job, reason: str) -> None:
            if already_scored(job, job.sha256):
                report.duplicates += 1
                bar.update(1)
                return
            done(_record_stuck(course, job, reason))

        try:
            with backend.connect(cluster, jobs=len(jobs)) as client:
                needed = {j.assignment for j in jobs}
                backend.share_bundles(
                    client, {b.digest: b.data for a, b in bundles.items() if a in needed}
                )
                backend.run_jobs(
                    client,
                    jobs,
                    on_result,
                    on_stuck,
                    prepare=lambda job: load_submission(course, job),
                )
        finally:
            bar.close()
        report.sandboxed = all(sandboxed) if sandboxed else None
        if report.sandboxed is False:
            say("WARNING: some notebooks ran WITHOUT the sandbox (see the messages).")
    report.outcomes.sort(key=lambda o: (o.student, o.assignment))
    report.seconds = time.monotonic() - started
    return report


def _progress(total: int, *, enabled: bool):
    tqdm.tqdm.monitor_interval = 0  # no monitor thread of its own in the grading process
    return tqdm.tqdm(total=total, disable=not enabled, unit="job", desc="grading", file=sys.stderr)
