"""One submission in, one result out: the grading worker.

`run_job(Job) -> JobResult` runs in a worker process (grade.py's process pool; a later
engine can ship the same picklable `Job`s elsewhere). For each notebook the assignment
expects, it

1. reads the student's file defensively (size, JSON, nbformat 4.5, cell structure):
   anything else gives the status "invalid_notebook", never an exception;
2. sanitizes it as nbgrader's autograde does — ClearOutput, DeduplicateIds,
   OverwriteKernelspec, OverwriteCells (locked cells and the hidden tests come back from
   the gradebook; deleted or metadata-stripped test cells are re-added) and
   CheckCellMetadata — after a repair pass of its own that makes damaged nbgrader
   metadata harmless instead of fatal;
3. executes it in the sandbox (autograder.execute), in a private copy of the folder.

It writes nothing to the gradebook: scoring happens in the grading process
(autograder.score), which is the gradebook's single writer. The gradebook the worker
reads is a snapshot taken when the grading run starts.

    workdir layout: .grading/work/<student>/<assignment>/run/   the kernel's folder
                    .grading/work/<student>/<assignment>/out/   executed notebooks
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autograder import judge
from autograder.execute import Limits

#: A notebook file over this size is not read (it would only be a way to exhaust memory).
MAX_NOTEBOOK_BYTES = 20 * 2**20
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
CELL_TYPES = ("code", "markdown", "raw")
CELL_KEYS = ("cell_type", "id", "metadata", "source", "outputs", "execution_count", "attachments")
#: Source of the placeholder put where a student deleted an exercise cell.
MISSING_SOLUTION = "# (this exercise cell was missing from the submission)\n"


@dataclass(frozen=True)
class Job:
    """One student's submission of one assignment, and everything needed to grade it.

    Plain strings and tuples only, so that a job pickles and can travel to another
    process or machine.
    """

    student: str
    assignment: str
    notebooks: tuple[str, ...]  # notebook names the assignment expects (no .ipynb)
    submission: str  # submitted/<student>/<assignment>
    workdir: str  # .grading/work/<student>/<assignment>
    release_dir: str  # release/<assignment>: structure, and files to put next to notebooks
    course_root: str  # holds nbgrader_config.py
    db_url: str  # the gradebook to read (a snapshot; never written)
    limits: Limits = field(default_factory=Limits)
    extra_ro_paths: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    # The secret the probe's inputs are drawn from (autograder.judge); one per grading run.
    probe_seed: str = ""


@dataclass
class NotebookResult:
    """What happened to one notebook of a job."""

    name: str
    status: str  # an execute status, or "missing" / "invalid_notebook"
    message: str = ""
    sanitized: str | None = None  # the notebook that was executed (JSON text; trusted)
    executed_path: str | None = None  # its outputs, written by the trusted executor
    cells_run: int = 0
    seconds: float = 0.0
    sandboxed: bool | None = None  # None: nothing was executed
    problem: str = ""  # invalid_notebook: the reason in a few stable words (for flags)


@dataclass
class JobResult:
    """What the worker hands back: one result per expected notebook."""

    job: Job
    sha256: str  # ledger.submission_hash of the notebooks that were read
    notebooks: list[NotebookResult]
    extra_files: list[str] = field(default_factory=list)  # notebooks nobody asked for
    seconds: float = 0.0
    error: str | None = None  # the worker itself failed: the job is "failed"

    @property
    def sandboxed(self) -> bool | None:
        runs = [n.sandboxed for n in self.notebooks if n.sandboxed is not None]
        return all(runs) if runs else None


class InvalidNotebookError(ValueError):
    """A submitted file that cannot be graded as a notebook, with a one-line reason."""


# ---------------------------------------------------------------------------------------
# Reading a student's file
# ---------------------------------------------------------------------------------------


def read_submitted(path: Path, notes: list[str] | None = None):
    """The notebook at `path` as an nbformat 4.5 NotebookNode with outputs cleared.

    nbformat 4.0-4.4 (older Jupyter versions save these) is upgraded: 4.5 only added
    cell ids, which are filled in here anyway. What was upgraded is appended to `notes`.

    Raises:
        InvalidNotebookError: not JSON, not a notebook, nbformat 3 or older, too large...
    """
    import nbformat

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidNotebookError(f"cannot be read ({exc.strerror})") from exc
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebookError(
            f"is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES >> 20} MB limit"
        )
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidNotebookError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise InvalidNotebookError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise InvalidNotebookError("is not valid JSON (nested too deeply)") from exc
    if not isinstance(raw, dict):
        raise InvalidNotebookError(f"holds a JSON {type(raw).__name__}, not a notebook object")
    major, minor = raw.get("nbformat"), raw.get("nbformat_minor")
    if major != 4 or not isinstance(minor, int) or minor < 0:
        version = f"{major}.{minor}" if isinstance(major, int) else repr(major)
        raise InvalidNotebookError(
            f"is nbformat {version}; grading needs nbformat 4 "
            "(open it in Jupyter Notebook 5 / JupyterLab 1 or later, save, and submit again)"
        )
    if minor < 5:
        raw["nbformat_minor"] = 5
        if notes is not None:
            notes.append(f"upgraded from nbformat 4.{minor} to 4.5")
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebookError("has no list of cells")
    if not isinstance(raw.get("metadata"), dict):
        raw["metadata"] = {}
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            raise InvalidNotebookError(f"cell {i} is not a code, markdown or raw cell")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidNotebookError(f"cell {i} has a source that is not text")
        cell["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        cid = cell.get("id")
        if not isinstance(cid, str) or not CELL_ID.match(cid) or cid in seen:
            base = f"cell-{i}"
            cid, n = base, 1
            while cid in seen:
                n += 1
                cid = f"{base}-{n}"
            cell["id"] = cid
        seen.add(cid)
        for key in list(cell):
            if key not in (
                "cell_type",
                "id",
                "metadata",
                "source",
                "outputs",
                "execution_count",
                "attachments",
            ):
                del cell[key]
    nb = nbformat.from_dict(raw)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise InvalidNotebookError(f"is not a valid notebook ({str(exc).splitlines()[0]})") from exc
    return nb


# ---------------------------------------------------------------------------------------
# Sanitizing (nbgrader's preprocessors, after a repair pass)
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def load_config(course_root: str):
    """The course's nbgrader configuration (nbgrader_config.py), read once per process."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=course_root).load_config()


@dataclass
class SourceCell:
    name: str
    cell_type: str
    locked: bool
    source: str
    checksum: str | None
    grade: bool
    solution: bool
    points: float | None


@functools.lru_cache(maxsize=64)
def _source_cells(db_url: str, assignment: str, notebook: str) -> tuple[SourceCell, ...]:
    """The gradebook's record of a notebook's nbgrader cells (read once per process)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        grades = {c.name: float(c.max_score) for c in nb.grade_cells}
        solutions = {c.name for c in nb.solution_cells}
        return tuple(
            SourceCell(
                name=c.name,
                cell_type=c.cell_type,
                locked=bool(c.locked),
                source=c.source,
                checksum=c.checksum,
                grade=c.name in grades,
                solution=c.name in solutions,
                points=grades.get(c.name),
            )
            for c in nb.source_cells
        )


def _release_order(release_dir: Path, notebook: str) -> list[str]:
    """grade_ids in the order the released notebook has them (the gradebook keeps none)."""
    path = release_dir / f"{notebook}.ipynb"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        str(c["metadata"]["nbgrader"]["grade_id"])
        for c in raw.get("cells", [])
        if isinstance(c, dict)
        and isinstance((c.get("metadata") or {}).get("nbgrader"), dict)
        and c["metadata"]["nbgrader"].get("grade_id")
    ]


def _canonical_metadata(sc: SourceCell) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": sc.grade,
        "grade_id": sc.name,
        "locked": sc.locked,
        "schema_version": 3,
        "solution": sc.solution,
    }
    if sc.grade:
        meta["points"] = sc.points
    if sc.checksum:
        meta["checksum"] = sc.checksum
    return meta


def repair(nb, cells: tuple[SourceCell, ...], order: list[str]) -> list[str]:
    """Make the nbgrader metadata of a submitted notebook safe for nbgrader's sanitizer.

    * metadata that names no cell of the gradebook is dropped (the cell becomes an
      ordinary student cell: executed, scanned, never graded);
    * metadata of a known cell is replaced by the gradebook's (a student cannot turn a
      test cell into a solution cell, change points, or unlock it);
    * a deleted exercise cell gets an empty placeholder, and a deleted test cell comes
      back from the gradebook (nbgrader's own re-adding crashes when the cell before a
      missing test cell is missing too).

    Returns notes for the instructor (what was repaired), empty for an honest notebook.
    """
    import nbformat
    from nbgrader.preprocessors import OverwriteCells

    known = {c.name: c for c in cells}
    notes: list[str] = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(gid, str) or gid not in known:
            del cell.metadata["nbgrader"]
            continue
        cell.metadata["nbgrader"] = _canonical_metadata(known[gid])

    position = {name: i for i, name in enumerate(order or [c.name for c in cells])}
    ordered = sorted(cells, key=lambda c: position.get(c.name, len(position)))
    present = {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in nb.cells
        if "nbgrader" in cell.metadata
    }
    overwrite = OverwriteCells()
    for i, sc in enumerate(ordered):
        if sc.name in present or not (sc.grade or sc.solution):
            continue
        if sc.grade:
            new = overwrite.missing_cell_transform(sc, sc.points, is_solution=sc.solution)
            new = nbformat.from_dict(
                {**new, "metadata": {**new["metadata"], "nbgrader": _canonical_metadata(sc)}}
            )
            notes.append(f"test cell {sc.name} was missing; restored")
        else:
            new = nbformat.v4.new_code_cell(MISSING_SOLUTION)
            new.metadata["nbgrader"] = _canonical_metadata(sc)
            notes.append(f"exercise cell {sc.name} was missing")
        new["id"] = _free_id(nb, sc.name)
        before = [c.name for c in ordered[:i] if c.name in present]
        anchor = present[before[-1]] if before else None
        at = next((k + 1 for k, c in enumerate(nb.cells) if c is anchor), 0)
        nb.cells.insert(at, new)
        present[sc.name] = new
    return notes


def _short(reason: str) -> str:
    """ "is not valid JSON (Expecting ',' at line 3)" -> "is not valid JSON": the part of a
    reason that does not change when the notebook's text does."""
    return re.sub(r"\s*\([^()]*\)$", "", reason).strip()


def _free_id(nb, base: str) -> str:
    used = {c.get("id") for c in nb.cells}
    base = re.sub(r"[^a-zA-Z0-9-_]", "-", base)[:60] or "cell"
    cid, n = base, 1
    while cid in used:
        n += 1
        cid = f"{base}-{n}"
    return cid


def sanitize(nb, *, course_root: str, db_url: str, assignment: str, notebook: str, order=()):
    """nbgrader's sanitizing preprocessors, as `nbgrader autograde` runs them.

    Returns (notebook, notes). Raises whatever nbgrader raises on a notebook it cannot
    handle even after `repair` (the caller reports it as invalid).
    """
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    config = load_config(course_root)
    notes = repair(nb, _source_cells(db_url, assignment, notebook), list(order))
    resources = {
        "nbgrader": {
            "notebook": notebook,
            "assignment": assignment,
            "student": None,
            "db_url": db_url,
        }
    }
    for pp_class in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
        nb, resources = pp_class(config=config)(nb, resources)
    nb, resources = CheckCellMetadata(config=config)(nb, resources)
    return nb, notes


# ---------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------


def submission_notebooks(folder: Path) -> list[Path]:
    """The notebooks of a submission folder, as autograder.status hashes them."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file())


def _fresh(path: Path) -> Path:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _copy_release_files(release_dir: Path, run_dir: Path) -> None:
    """Files the assignment ships next to its notebooks (data, images), as released."""
    if not release_dir.is_dir():
        return
    for src in release_dir.rglob("*"):
        rel = src.relative_to(release_dir)
        if src.suffix == ".ipynb" or any(p.startswith(".") for p in rel.parts):
            continue
        dest = run_dir / rel
        if src.is_dir() and not src.is_symlink():
            dest.mkdir(parents=True, exist_ok=True)
        elif src.is_file() and not src.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


def _grade_notebook(job: Job, name: str, files: dict[str, Path], run_dir: Path, out_dir: Path):
    from autograder.execute import execute_notebook

    if name not in files:
        return NotebookResult(name, "missing", f"{name}.ipynb was not submitted")
    upgraded: list[str] = []
    try:
        nb = read_submitted(files[name], upgraded)
    except InvalidNotebookError as exc:
        return NotebookResult(
            name, "invalid_notebook", f"{name}.ipynb {exc}", problem=_short(str(exc))
        )
    try:
        nb, notes = sanitize(
            nb,
            course_root=job.course_root,
            db_url=job.db_url,
            assignment=job.assignment,
            notebook=name,
            order=tuple(_release_order(Path(job.release_dir), name)),
        )
        import nbformat

        sanitized = nbformat.writes(nb)
    except Exception as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return NotebookResult(
            name,
            "invalid_notebook",
            f"{name}.ipynb could not be sanitized ({why[:200]})",
            problem="could not be sanitized",
        )
    nb_path = run_dir / f"{name}.ipynb"
    nb_path.write_text(sanitized + "\n", encoding="utf-8")
    env = dict(job.env)
    result = execute_notebook(
        nb_path,
        run_dir,
        limits=job.limits,
        extra_ro_paths=[Path(p) for p in job.extra_ro_paths],
        env=env,
    )
    executed = None
    if result.status != "invalid_notebook" and Path(result.notebook_path).is_file():
        executed = out_dir / f"{name}.ipynb"
        shutil.move(str(result.notebook_path), executed)
    message = result.message
    notes = upgraded + notes
    if notes:
        message = f"{message}; repaired: {'; '.join(notes)}"
    return NotebookResult(
        name=name,
        status=result.status,
        message=message,
        sanitized=sanitized,
        executed_path=str(executed) if executed else None,
        cells_run=result.cells_run,
        seconds=result.seconds,
        sandboxed=result.sandboxed,
    )


def run_job(job: Job) -> JobResult:
    """Grade-prepare and execute one submission. Never raises: a failure of the worker
    itself comes back as `JobResult.error`."""
    from autograder import ledger

    started = time.monotonic()
    submission = Path(job.submission)
    notebooks = submission_notebooks(submission)
    try:
        sha = ledger.submission_hash(notebooks)
    except OSError as exc:
        return JobResult(job, "", [], error=f"cannot read the submission: {exc}")
    files = {p.stem: p for p in notebooks}
    extra = [p.name for p in notebooks if p.stem not in job.notebooks]
    results: list[NotebookResult] = []
    try:
        work = Path(job.workdir)
        run_dir, out_dir = _fresh(work / "run"), _fresh(work / "out")
        _copy_release_files(Path(job.release_dir), run_dir)
        plan = judge.write_plan(
            job.course_root, job.assignment, job.notebooks, job.probe_seed, run_dir
        )
        if plan is not None:
            job = replace(job, env=(*job.env, (judge.PLAN_ENV, plan.name)))
        for name in job.notebooks:
            results.append(_grade_notebook(job, name, files, run_dir, out_dir))
    except Exception:
        return JobResult(
            job,
            sha,
            results,
            extra,
            seconds=round(time.monotonic() - started, 3),
            error=traceback.format_exc(limit=6).strip().splitlines()[-1],
        )
    return JobResult(job, sha, results, extra, seconds=round(time.monotonic() - started, 3))


def init_worker() -> None:
    """Process-pool initializer: die with the grading process, leave Ctrl-C to it."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker must read this run's gradebook snapshot and configuration afresh.
    load_config.cache_clear()
    _source_cells.cache_clear()
    if sys.platform.startswith("linux"):
        import ctypes

        with_libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        with_libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
