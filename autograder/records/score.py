"""Score one executed submission into the gradebook: the trusted, serial half of grading.

Runs in the grading process, one job at a time, so it is the gradebook's only writer
(docs/design.md, "The trust boundary" and "What runs where"). For each notebook of a
`worker.JobResult` it

1. takes the sanitized notebook the worker executed (trusted: built before execution)
   and copies onto it the outputs the sandboxed executor reported (both came back as
   JSON text in the job's bounded result: autograder.sandbox.worker.decode_result);
2. gives every graded cell that never ran an error output. nbgrader scores a test cell
   by the presence of an error: a cell that never ran (the notebook stopped at a
   timeout, a dead kernel, the wall clock) has no outputs and would get full points;
3. runs nbgrader's autograde preprocessors that come after execution — IgnorePattern,
   ClearMetadata (if configured), LimitOutput, SaveAutoGrades, AssignLatePenalties,
   CheckCellMetadata — with the course's configuration, against the course gradebook;
4. judges the probed cells (autograder.judging.judge: their outputs become the judge's
   verdicts) and scans the student's cells (autograder.judging.integrity). Where a hidden test
   still runs in the kernel, tampering zeroes the notebook as a manual override
   (grade.manual_score = 0, with a comment), which the instructor can lift in formgrader
   after review; where the judge decides every graded cell, or with `on_tamper="flag"`,
   tampering is only flagged for a person;
5. writes autograded/<student>/<assignment>/<notebook>.ipynb, where nbgrader's and our
   feedback look for it.

A missing or invalid notebook is scored from the released notebook's structure with
every graded cell failed: 0 on every test, and a flag.
"""

from __future__ import annotations

import copy
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from autograder.judging import integrity, judge, safe_html, syllabus
from autograder.judging.course_files import course_notebook
from autograder.layout import Course, load_config
from autograder.records.gradebook import Gradebook, open_gradebook, submission_time
from autograder.sandbox.worker import JobResult, NotebookResult, check_cell_metadata

#: Comments the pipeline writes start with this, so that it can tell them (and the zero
#: overrides that go with them) from an instructor's.
INTEGRITY_MARK = "[autograder integrity]"
#: Errors the executor adds to the cell that was running when the notebook stopped.
STOP_ERRORS = ("CellTimeoutError", "DeadKernelError", "WallTimeoutError")
#: What a graded cell's record says besides a mistake key: the judge's verdict passed; it
#: failed without naming a mistake (or the cell is tested in the kernel, where no mistake
#: is named on the trusted side); its exercise cells are the released stubs, unchanged; the
#: notebook was missing or could not be read.
PASSED, GENERIC = "passed", "generic"
NOT_ATTEMPTED, NOT_SUBMITTED = "not_attempted", "not_submitted"
#: Execution statuses in the order of how bad they are (the job reports its worst).
SEVERITY = (
    "ok",
    "output_limit",
    "cell_timeout",
    "kernel_died",
    "wall_timeout",
    "missing",
    "invalid_notebook",
    "sandbox_error",
)


@dataclass
class Scored:
    """The outcome of scoring one job (what goes into the ledger)."""

    status: str  # "graded" or "failed"
    score: float | None
    max_score: float | None
    flags: list[str] = field(default_factory=list)
    exec_status: str = "ok"
    message: str = ""
    findings: list[integrity.Finding] = field(default_factory=list)
    #: grade_id -> what the ledger keeps of each graded cell (cell_records)
    cells: dict[str, dict] = field(default_factory=dict)


def outcome(
    verdict: judge.Verdict | None, score: float, max_score: float, *, attempted: bool = True
) -> str:
    """What a graded cell's record says: "passed", the mistake key the judge's verdict
    names, "generic", or "not_attempted" (failed, and its exercise cells are the released
    stubs). A cell without a verdict (its test runs in the kernel) passed when it has all
    its points; the kernel's own words are never read."""
    passed = verdict.passed if verdict is not None else bool(max_score) and score >= max_score
    if passed:
        return PASSED
    if not attempted:
        return NOT_ATTEMPTED
    return (verdict.mistake if verdict is not None else None) or GENERIC


def cell_records(
    notebook: str,
    verdicts: dict[str, judge.Verdict] | None,
    grades: dict[str, tuple[float, float]],
    exercises: dict[str, syllabus.Exercise],
    untouched: set[str] = frozenset(),
) -> dict[str, dict]:
    """grade_id -> the ledger's record of one graded cell of `notebook`.

    Args:
        notebook: the notebook's name.
        verdicts: the judge's verdicts by grade_id; None when the notebook was missing or
            unreadable (every cell is then "not_submitted").
        grades: grade_id -> (score, max_score) from the gradebook, after scoring.
        exercises: grade_id -> where the cell sits (autograder.judging.syllabus).
        untouched: grade_ids whose exercise cells are as released (syllabus.untouched).
    Returns:
        grade_id -> {"notebook", "exercise" (its number, "" if none), "outcome" (see
        `outcome`), "mistake" (the verdict's key, or None), "score", "max_score"}.
    """
    records = {}
    for gid, (got, top) in grades.items():
        ex = exercises.get(gid)
        verdict = (verdicts or {}).get(gid)
        if verdicts is None:
            what = NOT_SUBMITTED
        else:
            what = outcome(verdict, got, top, attempted=gid not in untouched)
        records[gid] = {
            "notebook": notebook,
            "exercise": ex.number if ex else "",
            "outcome": what,
            "mistake": verdict.mistake if verdict is not None else None,
            "score": got,
            "max_score": top,
        }
    return records


# ---------------------------------------------------------------------------------------
# Notebook surgery
# ---------------------------------------------------------------------------------------


def _error(ename: str, evalue: str):
    import nbformat

    return nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def _is_graded_code(cell) -> bool:
    from nbgrader import utils

    return cell.cell_type == "code" and utils.is_grade(cell)


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _label(nb, index: int) -> str:
    """A cell's name as the instructor finds it: its grade_id, else its cell id."""
    cell = nb.cells[index]
    meta = cell.metadata.get("nbgrader") or {}
    return str(meta.get("grade_id") or cell.get("id") or index)


def stop_index(nb) -> int | None:
    """Index of the cell where execution stopped: the one that carries the executor's
    stop error, else the first non-empty code cell that never ran; None if all ran."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if any(o.get("ename") in STOP_ERRORS for o in cell.get("outputs", [])):
            return i
        if cell.source.strip() and cell.get("execution_count") is None and not cell.outputs:
            return i
    return None


def mark_unrun(nb, status: str) -> list[str]:
    """Give every graded code cell that never ran an error output (so it scores 0).

    A cell never ran when it has no execution count and no error: execution stopped
    before it. Returns the grade_ids marked.
    """
    stop = stop_index(nb)
    where = f"cell {_label(nb, stop)}" if stop is not None else "an earlier cell"
    marked = []
    for cell in nb.cells:
        if not _is_graded_code(cell) or _has_error(cell):
            continue
        if cell.get("execution_count") is None:
            cell.outputs.append(
                _error("NotRun", f"not run: the notebook stopped at {where} ({status})")
            )
            marked.append(cell.metadata["nbgrader"]["grade_id"])
    return marked


def merge_outputs(trusted, executed) -> bool:
    """Copy outputs and execution counts of `executed` onto `trusted`, cell by cell.

    The executor rebuilds its notebook from the same trusted input, so both have the
    same cells; if they do not, nothing is copied (every graded cell then counts as not
    run) and False is returned.
    """
    same = len(trusted.cells) == len(executed.cells) and all(
        a.cell_type == b.cell_type and a.source == b.source
        for a, b in zip(trusted.cells, executed.cells, strict=True)
    )
    for cell in trusted.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    if not same:
        return False
    for a, b in zip(trusted.cells, executed.cells, strict=True):
        if a.cell_type == "code":
            a.outputs = b.get("outputs", [])
            a.execution_count = b.get("execution_count")
    return True


def placeholder(course: Course, assignment: str, notebook: str, reason: str):
    """The released notebook with every graded cell failed: what a missing or invalid
    submission is scored (and fed back) as."""
    nb = course_notebook(course.release / assignment / f"{notebook}.ipynb")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if _is_graded_code(cell):
                cell.outputs.append(_error("NotGraded", reason))
    return nb


# ---------------------------------------------------------------------------------------
# Gradebook
# ---------------------------------------------------------------------------------------


def register_submission(gb: Gradebook, course: Course, student: str, assignment: str) -> list[str]:
    """Create or update the student and the submission (with its timestamp)."""
    text, problem = submission_time(course.submitted / student / assignment)
    gb.update_or_create_student(student)
    if text:
        gb.update_or_create_submission(assignment, student, timestamp=text)
    else:
        gb.update_or_create_submission(assignment, student)
    return [problem] if problem else []


def _fresh(gb: Gradebook) -> Gradebook:
    """`gb` with what its session holds expired: nbgrader's SaveAutoGrades writes the
    scores through a gradebook of its own, and the next read must see them."""
    gb.db.expire_all()
    return gb


def _zero_unscored(gb: Gradebook, student: str, assignment: str, notebook: str, nb) -> None:
    """Grade rows of cells absent from the scored notebook get 0 (never a stale score)."""
    graded = {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if "nbgrader" in c.metadata and c.metadata["nbgrader"].get("grade")
    }
    sub = _fresh(gb).find_submission_notebook(notebook, assignment, student)
    changed = False
    for grade in sub.grades:
        if grade.cell.name not in graded:
            grade.auto_score = 0
            grade.needs_manual_grade = grade.manual_score is not None
            changed = True
    if changed:
        gb.db.commit()


def apply_integrity(
    gb: Gradebook,
    student: str,
    assignment: str,
    notebook: str,
    tamper: list[integrity.Finding],
    *,
    zero: bool,
) -> None:
    """Zero a tampered notebook as a manual override, or lift an override of ours that
    no longer applies (the student resubmitted clean code). Overrides an instructor set
    (a manual score that is not our 0, or a comment that is not ours) are left alone."""
    sub = _fresh(gb).find_submission_notebook(notebook, assignment, student)
    ours = any((c.manual_comment or "").startswith(INTEGRITY_MARK) for c in sub.comments)
    if zero and tamper:
        text = (
            f"{INTEGRITY_MARK} Scored 0 pending review: "
            + "; ".join(f.flag() for f in tamper)
            + ". To lift this, set the manual scores in formgrader."
        )
        for grade in sub.grades:
            if grade.manual_score is None or (ours and grade.manual_score == 0):
                grade.manual_score = 0
                grade.needs_manual_grade = True
        for comment in sub.comments:
            if not comment.manual_comment or comment.manual_comment.startswith(INTEGRITY_MARK):
                comment.manual_comment = text
    elif ours:
        for grade in sub.grades:
            if grade.manual_score == 0:
                grade.manual_score = None
                grade.needs_manual_grade = grade.auto_score is None
        for comment in sub.comments:
            if (comment.manual_comment or "").startswith(INTEGRITY_MARK):
                comment.manual_comment = None
    else:
        return
    gb.db.commit()


def _run_autograde_preprocessors(course: Course, nb, resources) -> list[str]:
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    config = load_config(str(course.root))
    for pp_class in (
        IgnorePattern,
        ClearMetadataPreprocessor,  # disabled unless the course config enables it
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
    ):
        nb, resources = pp_class(config=config)(nb, resources)
    return check_metadata(nb, config)


def check_metadata(nb, config=None) -> list[str]:
    """nbgrader's CheckCellMetadata on the scored notebook (`worker.check_cell_metadata`,
    which remembers what validated): [] when it validates, else the flag."""
    from nbgrader.nbgraderformat import ValidationError

    try:
        check_cell_metadata(nb, config)
    except ValidationError as exc:
        return [f"nbgrader metadata did not validate after grading ({exc})"]
    return []


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------
# One notebook, one job
# ---------------------------------------------------------------------------------------


def _notebook_flags(res: NotebookResult, nb, multi: bool) -> list[str]:
    prefix = f"{res.name}: " if multi else ""
    if res.status == "missing":
        return [f"missing notebook {res.name}"]
    if res.status == "invalid_notebook":
        return [f"invalid notebook {res.name}.ipynb: {res.problem or 'unreadable'}"]
    if res.status in ("cell_timeout", "kernel_died", "wall_timeout"):
        stop = stop_index(nb)
        where = f" in cell {_label(nb, stop)}" if stop is not None else ""
        return [f"{prefix}{res.status}{where}"]
    if res.status == "output_limit":
        return [f"{prefix}output_limit: outputs were cut"]
    return []


def score_notebook(
    gb: Gradebook,
    course: Course,
    student: str,
    assignment: str,
    res: NotebookResult,
    *,
    on_tamper: str = "zero",
    multi: bool = False,
    seed: str = "",
) -> tuple[list[str], list[integrity.Finding], dict[str, dict]]:
    """Score one notebook into the gradebook; write its autograded copy. Returns (flags,
    integrity findings, the ledger's records of its graded cells: cell_records)."""
    import nbformat

    trusted = None
    verdicts: dict[str, judge.Verdict] | None = None
    if res.status in ("missing", "invalid_notebook") or not res.sanitized:
        reason = (
            f"{res.name}.ipynb was not submitted"
            if res.status == "missing"
            else f"not graded: {res.message or 'the notebook could not be executed'}"
        )
        nb = placeholder(course, assignment, res.name, reason)
    else:
        trusted = nbformat.reads(res.sanitized, as_version=4)
        nb = copy.deepcopy(trusted)
        executed = None
        if res.executed:  # the worker's JSON text, its size bounded (worker.decode_result)
            try:
                executed = nbformat.reads(res.executed, as_version=4)
            except Exception:
                executed = None
        if executed is None or not merge_outputs(nb, executed):
            merge_outputs(nb, nbformat.v4.new_notebook())  # clears all outputs
        mark_unrun(nb, res.status)
        # The judge decides the probed cells: their outputs become its verdicts.
        verdicts = judge.grade_notebook(str(course.root), assignment, res.name, nb, seed)
    flags = _notebook_flags(res, nb, multi)
    findings = integrity.scan_notebook(trusted) if trusted is not None else []
    flags += [("" if not multi else f"{res.name}: ") + f.flag() for f in findings]

    resources = {
        "nbgrader": {
            "notebook": res.name,
            "assignment": assignment,
            "student": student,
            "db_url": course.db_url,
        }
    }
    flags += _run_autograde_preprocessors(course, nb, resources)
    _zero_unscored(gb, student, assignment, res.name, nb)
    tamper = integrity.tampering(findings)
    # The scan is the defence only where a hidden test still runs in the kernel; where the
    # judge decides every graded cell, tampering cannot buy points and is only flagged.
    source = judge.source_notebook(str(course.root), assignment, res.name)
    in_kernel = source is None or bool(judge.in_kernel_tests(source))
    zero = on_tamper == "zero" and in_kernel
    apply_integrity(gb, student, assignment, res.name, tamper, zero=zero)
    records = _records(gb, course, student, assignment, res.name, verdicts, trusted)
    # Formgrader renders this copy in the instructor's browser: no student script runs.
    safe_html.neutralise(nb, safe_html.trusted_sources(course, assignment, res.name))
    _write_atomic(
        course.autograded / student / assignment / f"{res.name}.ipynb", nbformat.writes(nb) + "\n"
    )
    return flags, findings, records


def _records(
    gb: Gradebook, course: Course, student: str, assignment: str, notebook: str, verdicts, trusted
):
    """The ledger's records of a scored notebook's graded cells (cell_records), with the
    gradebook's scores after scoring and integrity."""
    released = course.release / assignment / f"{notebook}.ipynb"
    untouched: set[str] = set()
    if trusted is not None and released.is_file():
        untouched = syllabus.untouched(trusted, course_notebook(released))
    sub = _fresh(gb).find_submission_notebook(notebook, assignment, student)
    grades = {g.name: (float(g.score or 0.0), float(g.max_score or 0.0)) for g in sub.grades}
    exercises = syllabus.course_exercises(course, assignment)
    return cell_records(notebook, verdicts, grades, exercises, untouched)


def worst_status(results: list[NotebookResult]) -> str:
    statuses = [r.status for r in results] or ["ok"]
    return max(statuses, key=lambda s: SEVERITY.index(s) if s in SEVERITY else len(SEVERITY))


def score_job(course: Course, result: JobResult, *, on_tamper: str = "zero") -> Scored:
    """Score every notebook of a job (see _score_job); nbgrader's SQLAlchemy warnings
    about its own session handling are noise to the instructor and are silenced."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        return _score_job(course, result, on_tamper=on_tamper)


def _score_job(course: Course, result: JobResult, *, on_tamper: str) -> Scored:
    """Score every notebook of a job; the gradebook's submission total is the score.

    A worker failure, or an execution that failed for reasons of the grading machine
    (sandbox_error), is "failed": the gradebook is left as it was and the job is
    retried by the next run.
    """
    job = result.job
    exec_status = worst_status(result.notebooks)
    message = "; ".join(f"{r.name}: {r.message}" for r in result.notebooks if r.message)
    if result.error:
        return Scored("failed", None, None, [f"worker failed: {result.error}"], "error", message)
    if exec_status == "sandbox_error":
        return Scored("failed", None, None, ["sandbox_error"], exec_status, message)

    # One gradebook for the job: opening one costs nbgrader a schema check (docs/
    # performance.md, "Scoring's own CPU"). SaveAutoGrades still opens its own.
    with open_gradebook(course, create=True) as gb:
        flags = register_submission(gb, course, job.student, job.assignment)
        findings: list[integrity.Finding] = []
        cells: dict[str, dict] = {}
        multi = len(result.notebooks) > 1
        for res in result.notebooks:
            nb_flags, nb_findings, nb_cells = score_notebook(
                gb,
                course,
                job.student,
                job.assignment,
                res,
                on_tamper=on_tamper,
                multi=multi,
                seed=job.probe_seed,
            )
            flags += nb_flags
            findings += nb_findings
            cells.update(nb_cells)
        flags += [f"unexpected notebook {name} (not graded)" for name in result.extra_files]
        timestamp = course.submitted / job.student / job.assignment / "timestamp.txt"
        if timestamp.is_file():
            dest = course.autograded / job.student / job.assignment / "timestamp.txt"
            shutil.copyfile(timestamp, dest)
        sub = _fresh(gb).find_submission(job.assignment, job.student)
        score, max_score = float(sub.score), float(sub.max_score)
    return Scored("graded", score, max_score, flags, exec_status, message, findings, cells)
