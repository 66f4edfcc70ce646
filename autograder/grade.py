"""Autograde collected submissions: sandboxed, in parallel, safe to kill and rerun.

    python -m autograder grade                              everything not graded yet
    python -m autograder grade --assignment 01_convolution --student alice
    python -m autograder grade --force --workers 4 --cell-timeout 30

A job is one student's submission of one assignment (submitted/<student>/<assignment>/).
Worker processes execute jobs in the sandbox (autograder.worker); this process scores
each finished job into the gradebook, one at a time (autograder.score), then records it
in the ledger (autograder.ledger). A job whose submission has not changed since it was
graded is skipped (--force regrades it). Killing the command at any moment loses at most
the jobs in progress: run it again and it finishes them, counting nothing twice.

A submission that raises, loops, runs out of memory, kills its kernel or tampers with the
tests gets the points its own work earns (or 0 and a flag); the batch goes on. The exit
code is 0 when the batch ran, even if some jobs failed (they are listed); 1 when the
pipeline itself failed.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import secrets
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder import judge, ledger
from autograder.execute import Limits
from autograder.layout import Course
from autograder.worker import Job, JobResult, init_worker, run_job, submission_notebooks

#: Sandbox limits for grading: the executor's defaults, with room for the figures of an
#: honest notebook (01_convolution's plots alone are about 1 MB).
GRADING_LIMITS = replace(Limits(), output_bytes=max(Limits().output_bytes, 4 * 2**20))
#: Seconds a job may take beyond its notebooks' wall limits before its worker is killed.
JOB_GRACE_S = 180
ON_TAMPER = ("zero", "flag")


@dataclass
class JobOutcome:
    """One row of the report: how a job ended (or that it was already graded)."""

    student: str
    assignment: str
    status: str  # "graded", "failed", or "unchanged" (skipped: graded before)
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

    @property
    def graded(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "graded"]

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def skipped(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "unchanged"]

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
    import solutions

    return Path(solutions.__file__).resolve().parent


def needs_solutions(course: Course, assignment: str) -> bool:
    """Whether some graded cell of the assignment still runs a hidden test in the kernel
    (which imports `solutions`); an assignment judged by probes alone never sees it."""
    return any(
        judge.in_kernel_tests(nb)
        for name in course.notebooks(assignment)
        if (nb := judge.source_notebook(course.root, assignment, name)) is not None
    )


def execution_context(course: Course) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Read-only paths and environment for the kernels: the solutions package (first;
    left out for assignments judged by probes alone), and the MNIST data folder when
    CNN_COURSE_DATA names one."""
    paths = [str(solutions_dir(course))]
    env = {"CNN_COURSE_QUICK": "1"}
    data = os.environ.get("CNN_COURSE_DATA")
    if data and Path(data).is_dir():
        data_path = str(Path(data).resolve())
        paths.append(data_path)
        env["CNN_COURSE_DATA"] = data_path
    return tuple(paths), tuple(sorted(env.items()))


def registered_assignments(course: Course) -> set[str]:
    """Assignments the gradebook knows (what `release` registered)."""
    if not course.gradebook.exists():
        return set()
    from autograder.score import gradebook

    with gradebook(course) as gb:
        return {a.name for a in gb.assignments}


def plan_jobs(
    course: Course,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    *,
    force: bool = False,
    limits: Limits | None = None,
    db_url: str | None = None,
) -> tuple[list[Job], list[JobOutcome]]:
    """Jobs to run, in a deterministic order (student, then assignment), and the
    outcomes of the jobs skipped because the ledger already has them graded.

    Raises:
        ValueError: an unknown assignment or student, or an assignment the gradebook
            does not know (run `release` first).
    """
    known = course.assignments()
    registered = registered_assignments(course)
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
    ro_paths, env = execution_context(course)
    # One secret per grading run: the inputs the probes get are drawn from it.
    seed = secrets.token_hex(16)
    in_kernel = {a: needs_solutions(course, a) for a in assignments}
    last = ledger.latest(course)
    jobs: list[Job] = []
    skipped: list[JobOutcome] = []
    for student in students:
        for assignment in assignments:
            folder = course.submitted / student / assignment
            if not folder.is_dir():
                continue
            rec = last.get((student, assignment))
            if (
                not force
                and rec
                and rec.get("status") == "graded"
                and rec.get("sha256") == ledger.submission_hash(submission_notebooks(folder))
            ):
                skipped.append(
                    JobOutcome(
                        student,
                        assignment,
                        "unchanged",
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
                    submission=str(folder),
                    workdir=str(course.state / "work" / student / assignment),
                    release_dir=str(course.release / assignment),
                    course_root=str(course.root),
                    db_url=db_url or course.db_url,
                    limits=limits,
                    extra_ro_paths=ro_paths if in_kernel[assignment] else ro_paths[1:],
                    env=env,
                    probe_seed=seed,
                )
            )
    return jobs, skipped


def snapshot_gradebook(course: Course) -> str:
    """A consistent copy of the gradebook for the workers to read: they never contend
    with the scoring process for the live file. Returns its database URL."""
    from nbgrader.api import Gradebook

    course.state.mkdir(parents=True, exist_ok=True)
    dest = course.state / "gradebook-snapshot.db"
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"{course.gradebook.as_uri()}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(tmp)
        with out:
            src.backup(out)
        out.close()
    finally:
        src.close()
    os.replace(tmp, dest)
    url = f"sqlite:///{dest}"
    with Gradebook(url):  # creates nbgrader's default course row once, not in every worker
        pass
    return url


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------


def _failed_result(job: Job, why: str) -> JobResult:
    return JobResult(job, "", [], error=why)


def _new_pool(workers: int) -> cf.ProcessPoolExecutor:
    # fork: workers start in milliseconds and share the imported modules. The grading
    # process has no threads of its own when it forks (tqdm's monitor is switched off).
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=init_worker,
    )


def _kill_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool now, its running jobs included (their sandboxes die with them)."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(Exception):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _deadline(job: Job) -> float:
    return time.monotonic() + job.limits.wall_timeout * max(1, len(job.notebooks)) + JOB_GRACE_S


def run_jobs(jobs: list[Job], workers: int, on_result: Callable[[JobResult], None]) -> None:
    """Run `jobs` on `workers` processes, calling `on_result` here as each one ends.

    At most `workers` jobs are in flight, so that when a worker dies (BrokenProcessPool:
    killed for memory, a crash in a C extension...) the suspects are few. Each suspect is
    then run alone in a fresh pool: a job that breaks that one too is reported as failed,
    the others complete normally, and the batch goes on in a new pool. A job that outlives
    its deadline has its pool killed the same way.
    """
    queue = deque(jobs)
    pool = _new_pool(workers)
    inflight: dict[cf.Future, tuple[Job, float]] = {}

    def top_up() -> None:
        while queue and len(inflight) < workers:
            job = queue.popleft()
            inflight[pool.submit(run_job, job)] = (job, _deadline(job))

    try:
        while queue or inflight:
            top_up()
            done, _ = cf.wait(list(inflight), timeout=5, return_when=cf.FIRST_COMPLETED)
            finished: list[JobResult] = []
            suspects: list[Job] = []
            for fut in done:
                job, _ = inflight.pop(fut)
                exc = fut.exception()
                if exc is None:
                    finished.append(fut.result())
                elif isinstance(exc, BrokenProcessPool):
                    suspects.append(job)
                else:
                    finished.append(_failed_result(job, f"{type(exc).__name__}: {exc}"))
            now = time.monotonic()
            overdue = any(now > deadline for _, deadline in inflight.values())
            if not (suspects or overdue):
                top_up()  # the workers go on while this process scores what finished
            for result in finished:
                on_result(result)
            if suspects or overdue:
                suspects += [job for job, _ in inflight.values()]
                inflight.clear()
                _kill_pool(pool)
                for job in suspects:
                    _run_alone(job, on_result)
                pool = _new_pool(workers)
    finally:
        _kill_pool(pool)


def _run_alone(job: Job, on_result: Callable[[JobResult], None]) -> None:
    """Run one job in a pool of its own; a crash or overrun there is the job's."""
    pool = _new_pool(1)
    try:
        fut = pool.submit(run_job, job)
        try:
            result = fut.result(timeout=max(1.0, _deadline(job) - time.monotonic()))
        except BrokenProcessPool:
            result = _failed_result(job, "the grading worker crashed on this submission")
        except cf.TimeoutError:
            result = _failed_result(job, "the grading worker did not finish in time")
        except Exception as exc:
            result = _failed_result(job, f"{type(exc).__name__}: {exc}")
    finally:
        _kill_pool(pool)
    on_result(result)


def _record(course: Course, result: JobResult, on_tamper: str) -> JobOutcome:
    """Score a finished job and append it to the ledger (in this order: a kill between
    the two only means the job is scored again, with the same result, next time)."""
    from autograder import score

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


def grade(
    course: Course,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    *,
    workers: int | None = None,
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
        workers: worker processes; default: os.cpu_count().
        force: regrade submissions the ledger has as graded and unchanged.
        limits: sandbox limits of each notebook execution (autograder.execute.Limits).
        progress: show a progress bar on stderr.
        on_tamper: "zero" (a manual 0 override the instructor can lift) or "flag".
        verbose: one line per finished job.
        log: where warnings go (default: stderr).
    Returns:
        GradeReport with one outcome per job, the skipped ones included.
    Raises:
        ValueError: unknown assignment or student, or nothing released into the gradebook.
    """
    if on_tamper not in ON_TAMPER:
        raise ValueError(f"on_tamper must be one of {ON_TAMPER}, got {on_tamper!r}")
    say = log or (lambda text: print(text, file=sys.stderr))
    started = time.monotonic()
    workers = max(1, workers or os.cpu_count() or 1)
    jobs, skipped = plan_jobs(course, assignments, students, force=force, limits=limits)
    report = GradeReport(outcomes=list(skipped))
    if jobs:
        from autograder.sandbox import sandbox_available

        available, how = sandbox_available()
        if not available:
            say(
                "WARNING: the grading sandbox is NOT available "
                f"({how}). Student code will run with resource limits only: it can read "
                "and write the course folder, the gradebook and other submissions. "
                "Grade untrusted submissions only where bubblewrap works."
            )
        url = snapshot_gradebook(course)
        jobs = [replace(j, db_url=url) for j in jobs]
        bar = _progress(len(jobs), enabled=progress)
        sandboxed: list[bool] = []

        def on_result(result: JobResult) -> None:
            outcome = _record(course, result, on_tamper)
            report.outcomes.append(outcome)
            if result.sandboxed is not None:
                sandboxed.append(result.sandboxed)
            if verbose:
                bar.write(outcome.line())
            bar.update(1)

        try:
            run_jobs(jobs, min(workers, len(jobs)), on_result)
        finally:
            bar.close()
        report.sandboxed = all(sandboxed) if sandboxed else None
        if report.sandboxed is False:
            say("WARNING: some notebooks ran WITHOUT the sandbox (see the messages).")
    report.outcomes.sort(key=lambda o: (o.student, o.assignment))
    report.seconds = time.monotonic() - started
    return report


def _progress(total: int, *, enabled: bool):
    import tqdm

    tqdm.tqdm.monitor_interval = 0  # no monitor thread: worker pools fork from here
    return tqdm.tqdm(total=total, disable=not enabled, unit="job", desc="grading", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        action="append",
        metavar="NAME",
        help="grade only this assignment (repeatable); default: all",
    )
    parser.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="grade only this student (repeatable); default: all",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count(),
        metavar="N",
        help=f"worker processes (default: {os.cpu_count()}, the number of cores)",
    )
    parser.add_argument(
        "--force", action="store_true", help="regrade submissions already graded and unchanged"
    )
    parser.add_argument(
        "--on-tamper",
        choices=ON_TAMPER,
        default="zero",
        help="tampering detected: zero the notebook (an override you can lift after "
        "review; default) or only flag it",
    )
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=GRADING_LIMITS.cell_timeout,
        metavar="S",
        help=f"seconds one cell may run (default: {GRADING_LIMITS.cell_timeout})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per job")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    limits = replace(GRADING_LIMITS, cell_timeout=args.cell_timeout)
    try:
        report = grade(
            course,
            args.assignment,
            args.student,
            workers=args.workers,
            force=args.force,
            limits=limits,
            progress=not args.quiet,
            on_tamper=args.on_tamper,
            verbose=args.verbose,
        )
    except (ValueError, FileNotFoundError):
        raise  # the CLI prints these as "error: ..." (exit 2)
    except Exception as exc:  # the pipeline itself failed
        print(f"grading failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if not report.outcomes:
        print("nothing to grade: no submissions in", course.submitted)
        return 0
    print(report.table())
    if report.failed:
        print(
            f"{len(report.failed)} job(s) failed: run the same command again to retry them "
            "(see `python -m autograder status` for the messages)."
        )
    return 0
