"""One submission in, one result out: the grading worker.

`run_job(Job) -> JobResult` runs in a Dask worker process (autograder.sandbox.backend ships the
picklable `Job`s there, on this machine or another). For each notebook the assignment
expects, it

1. reads the student's file defensively (size, JSON, nbformat 4.5, cell structure):
   anything else gives the status "invalid_notebook", never an exception;
2. sanitizes it as nbgrader's autograde does — ClearOutput, DeduplicateIds,
   OverwriteKernelspec, OverwriteCells (locked cells and the hidden tests come back from
   the gradebook; deleted or metadata-stripped test cells are re-added) and
   CheckCellMetadata — after a repair pass of its own that makes damaged nbgrader
   metadata harmless instead of fatal;
3. executes it in the sandbox (autograder.sandbox.executor), in a private copy of the folder.

It runs on the untrusted side of docs/design.md's trust boundary ("What runs where"): it
imports nothing of autograder.records, and writes nothing to the gradebook: scoring happens
in the grading process (autograder.records.score), which is the gradebook's single writer.
The gradebook the worker reads is a snapshot taken when the grading run starts.

    workdir layout: <workdir>/run/   the kernel's folder
                    <workdir>/out/   executed notebooks
    where <workdir> is .grading/work/<student>/<assignment>/attempt-<random>/, one per
    execution (autograder.sandbox.backend.grade_job); grading removes it once the job is scored.
"""

from __future__ import annotations

import difflib
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

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)

from autograder.handin import (
    NotRegularFileError,
    open_regular,
    submission_hash,
    submission_notebooks,
)
from autograder.judging import judge
from autograder.layout import Course, load_config
from autograder.sandbox.driver import Limits, json_depth
from autograder.sandbox.executor import execute_notebook

#: A notebook over this size without its outputs is refused (code and text only).
MAX_NOTEBOOK_BYTES = 20 * 2**20
#: A notebook file over this size is not read at all (outputs included).
MAX_NOTEBOOK_FILE_BYTES = 64 * 2**20
#: At most this many JSON lists and objects in a notebook file (bounds the parser's memory).
MAX_JSON_CONTAINERS = 2_000_000
#: Cells and metadata nested deeper than this are refused (outputs are dropped first).
MAX_JSON_DEPTH = 100
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
    workdir: str  # .grading/work/<student>/<assignment> (each attempt in a subfolder)
    release_dir: str  # release/<assignment>: structure, and files to put next to notebooks
    course_root: str  # holds nbgrader_config.py
    db_url: str  # the gradebook to read (a snapshot; never written)
    limits: Limits = field(default_factory=Limits)
    extra_ro_paths: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    # The secret the probe's inputs are drawn from (autograder.judging.judge); one per grading run.
    probe_seed: str = ""
    # handin.submission_hash of the submission when the job was planned (the Dask key, and
    # the ledger's record when no result ever comes back); the result carries its own.
    sha256: str = ""


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
    sha256: str  # handin.submission_hash of the notebooks that were read
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


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of `path`, read only if it is a regular file of its own (never through a
    symbolic link, never a FIFO or device, never a hard link to another file) and at
    most `limit` bytes long. The type is checked on the opened descriptor
    (handin.open_regular), so nothing can be swapped in between the check and the read.

    Raises:
        InvalidNotebookError: with the reason in a few words.
    """
    try:
        f, st = open_regular(path)
    except NotRegularFileError as exc:
        raise InvalidNotebookError(f"is {exc}, not a file: refused") from exc
    except OSError as exc:
        raise InvalidNotebookError(f"cannot be read ({exc.strerror})") from exc
    with f:
        if st.st_nlink > 1:
            raise InvalidNotebookError(
                f"is a hard link shared with {st.st_nlink - 1} other path(s): refused"
            )
        if st.st_size > limit:
            raise InvalidNotebookError(
                f"is {st.st_size / 2**20:.0f} MB, over the {limit >> 20} MB limit for a file"
            )
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InvalidNotebookError(f"is over the {limit >> 20} MB limit for a file")
    return data


def read_submitted(path: Path, notes: list[str] | None = None):
    """The notebook at `path` as an nbformat 4.5 NotebookNode with outputs cleared.

    nbformat 4.0-4.4 (older Jupyter versions save these) is upgraded: 4.5 only added
    cell ids, which are filled in here anyway. A UTF-8 byte-order mark is ignored.
    Outputs are dropped before the size limit applies: a notebook that kept its plots
    is graded on its code. What was repaired is appended to `notes`.

    The file is opened without following links and must be a regular file of its own
    (see _read_regular).

    Raises:
        InvalidNotebookError: not JSON, not a notebook, nbformat 3 or older, too large,
            nested too deeply, a link or a device...
    """
    data = _read_regular(Path(path), MAX_NOTEBOOK_FILE_BYTES)
    # Every list or object costs Python ~100 bytes: bound them before parsing (a plot's
    # base64 text holds no brackets; 2 million is far beyond any honest notebook).
    containers = data.count(b"[") + data.count(b"{")
    if containers > MAX_JSON_CONTAINERS:
        raise InvalidNotebookError(
            f"holds {containers} JSON lists or objects (at most {MAX_JSON_CONTAINERS})"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        if notes is not None:
            notes.append("ignored a UTF-8 byte-order mark")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidNotebookError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise InvalidNotebookError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise InvalidNotebookError(
            f"nests JSON too deeply (more than {MAX_JSON_DEPTH} levels)"
        ) from exc
    del data
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
        if cell["cell_type"] == "code":
            cell["outputs"] = []  # first: outputs are not graded, whatever they hold
            cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidNotebookError(f"cell {i} has a source that is not text")
        cell["source"] = source
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
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
            if key not in CELL_KEYS:
                del cell[key]
    if json_depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise InvalidNotebookError(
            f"nests JSON more than {MAX_JSON_DEPTH} levels deep (in its metadata or cells)"
        )
    size = len(json.dumps(raw, ensure_ascii=False).encode("utf-8", errors="replace"))
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebookError(
            f"is {size / 2**20:.0f} MB without its outputs, over the "
            f"{MAX_NOTEBOOK_BYTES >> 20} MB limit"
        )
    try:
        nb = nbformat.from_dict(raw)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise InvalidNotebookError(f"is not a valid notebook ({str(exc).splitlines()[0]})") from exc
    except RecursionError as exc:
        raise InvalidNotebookError("is not a valid notebook (nested too deeply)") from exc
    return nb


# ---------------------------------------------------------------------------------------
# Sanitizing (nbgrader's preprocessors, after a repair pass)
# ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ReleaseCell:
    """One cell of the released notebook, as a student received it."""

    grade_id: str | None  # None: an ordinary cell
    cell_type: str
    source: str


def _release_cells(release_dir: Path, notebook: str) -> tuple[ReleaseCell, ...]:
    """Every cell of the released notebook, in order (empty if it cannot be read)."""
    path = Path(release_dir) / f"{notebook}.ipynb"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    cells = []
    for c in raw.get("cells", []) if isinstance(raw, dict) else []:
        if not isinstance(c, dict):
            continue
        meta = (c.get("metadata") or {}).get("nbgrader")
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        source = c.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append(ReleaseCell(str(gid) if gid else None, str(c.get("cell_type")), source))
    return tuple(cells)


def _same_text(a: str, b: str) -> bool:
    """Equal but for trailing spaces and blank lines (what editors change on save)."""
    return [line.rstrip() for line in a.strip().splitlines()] == [
        line.rstrip() for line in b.strip().splitlines()
    ]


def _dedupe(nb, known: dict[str, SourceCell]) -> list[str]:
    """A cell copy-pasted (the same grade_id twice): the last copy is the graded one, as
    the kernel ran it last; the earlier copies become ordinary cells (still executed)."""
    where: dict[str, list[int]] = {}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in known:
            where.setdefault(meta["grade_id"], []).append(i)
    notes = []
    for gid, places in where.items():
        for i in places[:-1]:
            del nb.cells[i].metadata["nbgrader"]
        if len(places) > 1:
            kind = "exercise" if known[gid].solution else "test" if known[gid].grade else "locked"
            notes.append(
                f"{kind} cell {gid} appeared {len(places)} times; the last one is graded "
                "(the others ran as ordinary cells)"
            )
    return notes


def _match_release(nb, known: dict[str, SourceCell], release: tuple[ReleaseCell, ...]) -> int:
    """Give nbgrader cells whose metadata was stripped (some editors and copy-paste do
    that) their metadata back, by matching the submission to the release notebook in order.

    A locked cell (tests, set-up) matches an unmarked cell of the same type and the same
    text that comes after the previous matched cell; an exercise cell matches the unmarked
    cell of its type between its matched neighbours (the one closest to the released
    text when there are several, the later one on a tie). Returns how many were matched.
    """
    order = [r for r in release if r.grade_id in known]
    at: dict[str, int] = {}  # grade_id -> index in nb.cells
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in known:
            at.setdefault(meta["grade_id"], i)
    if len(at) == len(order):
        return 0
    free = {i for i, c in enumerate(nb.cells) if "nbgrader" not in c.metadata}
    matched = 0

    def claim(rel: ReleaseCell, i: int) -> None:
        nonlocal matched
        nb.cells[i].metadata["nbgrader"] = _canonical_metadata(known[rel.grade_id])
        at[rel.grade_id] = i
        free.discard(i)
        matched += 1

    def bounds(k: int) -> tuple[int, int]:
        before = [at[r.grade_id] for r in order[:k] if r.grade_id in at]
        after = [at[r.grade_id] for r in order[k + 1 :] if r.grade_id in at]
        return (max(before) if before else -1), (min(after) if after else len(nb.cells))

    for k, rel in enumerate(order):  # locked cells first: they are the anchors
        if rel.grade_id in at or known[rel.grade_id].solution:
            continue
        low, high = bounds(k)
        for i in range(low + 1, high):
            cell = nb.cells[i]
            same = cell.cell_type == rel.cell_type and _same_text(cell.source, rel.source)
            if i in free and same:
                claim(rel, i)
                break
    for k, rel in enumerate(order):
        if rel.grade_id in at:
            continue
        low, high = bounds(k)
        options = [
            i for i in range(low + 1, high) if i in free and nb.cells[i].cell_type == rel.cell_type
        ]
        if options:
            ratio = [
                difflib.SequenceMatcher(None, rel.source, nb.cells[i].source).ratio()
                for i in options
            ]
            best = max(range(len(options)), key=lambda j: (ratio[j], j))
            claim(rel, options[best])
    return matched


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


def repair(
    nb, cells: tuple[SourceCell, ...], order: list[str], release: tuple[ReleaseCell, ...] = ()
) -> list[str]:
    """Make the nbgrader metadata of a submitted notebook safe for nbgrader's sanitizer.

    * metadata that names no cell of the gradebook is dropped (the cell becomes an
      ordinary student cell: executed, scanned, never graded);
    * metadata of a known cell is replaced by the gradebook's (a student cannot turn a
      test cell into a solution cell, change points, or unlock it);
    * a cell copy-pasted (its grade_id twice) is graded once: the last copy;
    * cells whose nbgrader metadata was stripped are matched to the `release` notebook
      in order and get it back (see _match_release);
    * a deleted exercise cell gets an empty placeholder, and a deleted test cell comes
      back from the gradebook (nbgrader's own re-adding crashes when the cell before a
      missing test cell is missing too).

    Returns notes for the instructor (what was repaired), empty for an honest notebook.
    """
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
    notes += _dedupe(nb, known)
    if release:
        matched = _match_release(nb, known, release)
        if matched:
            notes.append(
                f"nbgrader metadata of {matched} cell(s) was missing; matched to the "
                "release notebook in order"
            )

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
    config = load_config(course_root)
    release = _release_cells(Course(Path(course_root)).release / assignment, notebook)
    notes = repair(nb, _source_cells(db_url, assignment, notebook), list(order), release)
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
    if name not in files:
        folder = Path(job.submission)
        path = folder / f"{name}.ipynb"
        why = "was not submitted"
        if folder.is_symlink() or folder.parent.is_symlink():
            why = "is in a folder that is a symbolic link, which the grader never follows"
        elif path.is_symlink():
            why = "is a symbolic link, which the grader never follows: not graded"
        elif path.exists():
            why = "is a hard link or not a regular file, which the grader never reads: not graded"
        return NotebookResult(name, "missing", f"{name}.ipynb {why}")
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
    started = time.monotonic()
    submission = Path(job.submission)
    notebooks = submission_notebooks(submission)
    try:
        sha = submission_hash(notebooks)
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
        # The executed notebooks are in out/; nothing reads run/ afterwards (the judge
        # re-plans from the seed), so the job's copy of its files goes now.
        shutil.rmtree(run_dir, ignore_errors=True)
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


def begin_run() -> None:
    """Forget what this process cached for an earlier grading run: a worker process that
    serves several runs (a Dask worker lives on between them) must read each run's
    gradebook snapshot and configuration afresh. BLAS in a worker stays single-threaded:
    it only prepares notebooks, one job at a time."""
    load_config.cache_clear()
    _source_cells.cache_clear()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
