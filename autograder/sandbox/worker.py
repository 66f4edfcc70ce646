"""One submission in, one result out: the grading worker.

`run_job(Job, Context, workdir) -> JobResult` runs in a Dask worker process
(autograder.sandbox.backend ships the picklable `Job`s there, on this machine or another:
the hand-in's bytes and the digest of the assignment's bundle, never a path of the
course; the `Context` is the bundle staged on this worker, autograder.sandbox.bundle).
For each notebook the assignment expects, it

1. parses the student's file defensively (size, JSON, nbformat 4.5, cell structure):
   anything else gives the status "invalid_notebook", never an exception;
2. sanitizes it as nbgrader's autograde does — ClearOutput, DeduplicateIds,
   OverwriteKernelspec, OverwriteCells (locked cells and the hidden tests come back from
   the bundle's gradebook; deleted or metadata-stripped test cells are re-added) and
   CheckCellMetadata — after a repair pass of its own that makes damaged nbgrader
   metadata harmless instead of fatal;
3. executes it in the sandbox (autograder.sandbox.executor), in a private copy of the folder.

The result goes back as bounded JSON bytes (`encode_result`), which the grading process
decodes with its sizes checked (`decode_result`): nothing of the sandbox is unpickled.

It runs on the untrusted side of docs/design.md's trust boundary ("What runs where"): it
imports nothing of autograder.records, and writes nothing to the gradebook: scoring happens
in the grading process (autograder.records.score), which is the gradebook's single writer.
The gradebook the worker reads is the one it built from the bundle (the assignment's
cells, nothing of any student).

    workdir layout: <workdir>/run/   the kernel's folder
                    <workdir>/out/   executed notebooks
    where <workdir> is <cache>/work/<assignment>-<student>-<random>/, one per execution
    (autograder.sandbox.backend.grade_job), removed once the result is built.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)

from autograder.handin import MAX_FILE_BYTES, NotRegularFileError, open_regular
from autograder.judging import judge
from autograder.layout import Course, load_config
from autograder.sandbox.driver import Limits, json_depth
from autograder.sandbox.executor import execute_notebook

#: A notebook over this size without its outputs is refused (code and text only).
MAX_NOTEBOOK_BYTES = 20 * 2**20
#: A notebook file over this size is not read at all (outputs included).
MAX_NOTEBOOK_FILE_BYTES = MAX_FILE_BYTES
#: An executed notebook (the sanitized one with the outputs the sandbox reported, bounded
#: by Limits.output_bytes) over this size comes back without its outputs.
MAX_EXECUTED_BYTES = 32 * 2**20
#: A job's result (JSON) over this size is refused by the grading process.
MAX_RESULT_BYTES = 128 * 2**20
RESULT_FORMAT = 1
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
    """One student's submission of one assignment: what crosses the wire to a worker.

    Plain strings, bytes and tuples only, and no path of the course: the hand-in's
    notebooks travel as bytes (bounded: autograder.handin.read_handin), the course side
    as the digest of the assignment's bundle, staged on the worker
    (autograder.sandbox.bundle). docs/design.md, "Grading on Dask".
    """

    student: str
    assignment: str
    notebooks: tuple[str, ...]  # notebook names the assignment expects (no .ipynb)
    bundle: str = ""  # digest of the assignment's bundle
    grader: str = ""  # grader version of the grading process (backend.grader_version)
    # (file name, bytes) of the expected notebooks read; filled just before the job is
    # submitted (autograder.records.grading.load_submission), empty in the results.
    files: tuple[tuple[str, bytes], ...] = ()
    unread: tuple[tuple[str, str, str], ...] = ()  # (notebook, status, why) not read
    extra_files: tuple[str, ...] = ()  # notebooks nobody asked for
    limits: Limits = field(default_factory=Limits)
    # The secret the probe's inputs are drawn from (autograder.judging.judge); one per grading run.
    probe_seed: str = ""
    # handin.submission_hash of the hand-in's notebook files (the Dask key, and the
    # ledger's record).
    sha256: str = ""


@dataclass
class NotebookResult:
    """What happened to one notebook of a job."""

    name: str
    status: str  # an execute status, or "missing" / "invalid_notebook"
    message: str = ""
    sanitized: str | None = None  # the notebook that was executed (JSON text; trusted)
    executed: str | None = None  # it with its outputs (JSON text the trusted executor wrote)
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


def read_submitted(path: Path | bytes, notes: list[str] | None = None):
    """The notebook at `path` (or the bytes of a notebook file) as an nbformat 4.5
    NotebookNode with outputs cleared.

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
    if isinstance(path, bytes):
        data = path
        if len(data) > MAX_NOTEBOOK_FILE_BYTES:
            raise InvalidNotebookError(
                f"is over the {MAX_NOTEBOOK_FILE_BYTES >> 20} MB limit for a file"
            )
    else:
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
    task_points: float | None = None  # a task cell's points (None: not a task cell)


@functools.lru_cache(maxsize=64)
def _source_cells(db_url: str, assignment: str, notebook: str) -> tuple[SourceCell, ...]:
    """The gradebook's record of a notebook's nbgrader cells (read once per process)."""
    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        grades = {c.name: float(c.max_score) for c in nb.grade_cells}
        solutions = {c.name for c in nb.solution_cells}
        tasks = {c.name: float(c.max_score) for c in nb.task_cells}
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
                task_points=tasks.get(c.name),
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
    for pp_class in (ClearOutput, DeduplicateIds, OverwriteKernelspec, RecordedOverwriteCells):
        nb, resources = pp_class(config=config)(nb, resources)
    check_cell_metadata(nb, config)
    return nb, notes


class _RecordedCells:
    """The gradebook lookups OverwriteCells makes (two per cell, and the notebook's cells
    when it adds back missing ones), answered from `_source_cells`: the gradebook's
    record, read once per process and run, instead of queries for every hand-in."""

    def __init__(self, db_url: str, assignment: str, notebook: str):
        self.assignment, self.notebook = assignment, notebook
        self.source_cells = list(_source_cells(db_url, assignment, notebook))
        self.cells = {c.name: c for c in self.source_cells}
        self.grade_cells = [_Graded(c.name, c.points) for c in self.source_cells if c.grade]
        self.solution_cells = [c for c in self.source_cells if c.solution]
        self.task_cells = [
            _Graded(c.name, c.task_points) for c in self.source_cells if c.task_points is not None
        ]

    def find_notebook(self, notebook: str, assignment: str):
        if (notebook, assignment) != (self.notebook, self.assignment):
            raise MissingEntry()
        return self

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SourceCell:
        if name not in self.find_notebook(notebook, assignment).cells:
            raise MissingEntry()
        return self.cells[name]

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> _Graded:
        """A grade cell, else a task cell, of that name (nbgrader's order)."""
        cell = self.find_source_cell(name, notebook, assignment)
        if cell.grade:
            return _Graded(name, cell.points)
        if cell.task_points is not None:
            return _Graded(name, cell.task_points)
        raise MissingEntry()


@dataclass(frozen=True)
class _Graded:
    name: str
    max_score: float


class RecordedOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, its logic unchanged, with its gradebook lookups answered
    from the gradebook's record (`_RecordedCells`) instead of two queries per cell of
    every hand-in (about 80 ms a notebook; docs/performance.md, "The worker's own
    CPU")."""

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = _RecordedCells(self.db_url, self.assignment_id, self.notebook_id)
        nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


def check_cell_metadata(nb, config=None) -> None:
    """nbgrader's CheckCellMetadata: raises its ValidationError where the notebook's
    nbgrader metadata does not validate. The check reads each cell's type and nbgrader
    metadata, nothing else, and after sanitizing these are the source notebook's for
    almost every hand-in: a digest of them that validated once is not validated again in
    this process."""
    key = hashlib.sha256(
        json.dumps(
            [(c.cell_type, "nbgrader" in c.metadata, c.metadata.get("nbgrader")) for c in nb.cells],
            sort_keys=True,
            default=repr,
        ).encode()
    ).hexdigest()
    if key in _VALID_METADATA:
        return
    CheckCellMetadata(config=config)(nb, {})
    if len(_VALID_METADATA) >= 1024:
        _VALID_METADATA.clear()
    _VALID_METADATA.add(key)


#: Digests of the cells' nbgrader metadata that CheckCellMetadata accepted in this process.
_VALID_METADATA: set[str] = set()


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


@dataclass(frozen=True)
class Context:
    """Where a job runs on this worker: the staged bundle's course side (read only), and
    what the kernel gets besides `course`: `solutions` where a hidden test needs it, and
    the MNIST folder that CNN_COURSE_DATA names on this host (never in the bundle)."""

    course_root: str  # the staged bundle: nbgrader_config.py, source/, release/
    db_url: str  # the gradebook built from the bundle (read only)
    course_package: Path | None = None  # the `course` package the kernel imports
    extra_ro_paths: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


def kernel_context(solutions: Path | None) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Read-only paths and environment for the kernels: `solutions` (first; None for an
    assignment judged by probes alone), and this host's MNIST folder when CNN_COURSE_DATA
    names one."""
    paths = [str(solutions)] if solutions is not None else []
    env = {"CNN_COURSE_QUICK": "1"}
    data = os.environ.get("CNN_COURSE_DATA")
    if data and Path(data).is_dir():
        data_path = str(Path(data).resolve())
        paths.append(data_path)
        env["CNN_COURSE_DATA"] = data_path
    return tuple(paths), tuple(sorted(env.items()))


def _grade_notebook(
    job: Job,
    ctx: Context,
    name: str,
    files: dict[str, bytes],
    unread: dict[str, tuple[str, str]],
    run_dir: Path,
    out_dir: Path,
):
    if name not in files:
        status, why = unread.get(name, ("missing", f"{name}.ipynb was not submitted"))
        if status == "missing":
            return NotebookResult(name, "missing", why)
        return NotebookResult(name, status, why, problem=_short(why.split(" ", 1)[-1]))
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
            course_root=ctx.course_root,
            db_url=ctx.db_url,
            assignment=job.assignment,
            notebook=name,
            order=tuple(_release_order(Path(ctx.course_root) / "release" / job.assignment, name)),
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
    result = execute_notebook(
        nb_path,
        run_dir,
        limits=job.limits,
        extra_ro_paths=[Path(p) for p in ctx.extra_ro_paths],
        env=dict(ctx.env),
        course_package=ctx.course_package,
    )
    message = result.message
    executed = None
    path = Path(result.notebook_path)
    if result.status != "invalid_notebook" and path.is_file():
        if path.stat().st_size <= MAX_EXECUTED_BYTES:
            executed = path.read_text(encoding="utf-8")
            shutil.move(str(path), out_dir / f"{name}.ipynb")
        else:
            message += (
                f"; the executed notebook was over {MAX_EXECUTED_BYTES >> 20} MB: "
                "its outputs were dropped"
            )
    notes = upgraded + notes
    if notes:
        message = f"{message}; repaired: {'; '.join(notes)}"
    return NotebookResult(
        name=name,
        status=result.status,
        message=message,
        sanitized=sanitized,
        executed=executed,
        cells_run=result.cells_run,
        seconds=result.seconds,
        sandboxed=result.sandboxed,
    )


def run_job(job: Job, ctx: Context, workdir: Path) -> JobResult:
    """Grade-prepare and execute one submission in `workdir` (this worker's own folder),
    with the course side from `ctx`. Never raises: a failure of the worker itself comes
    back as `JobResult.error`."""
    started = time.monotonic()
    files = {PurePath(n).stem: data for n, data in job.files}
    unread = {name: (status, why) for name, status, why in job.unread}
    extra = list(job.extra_files)
    results: list[NotebookResult] = []
    try:
        work = Path(workdir)
        run_dir, out_dir = _fresh(work / "run"), _fresh(work / "out")
        _copy_release_files(Path(ctx.course_root) / "release" / job.assignment, run_dir)
        plan = judge.write_plan(
            ctx.course_root, job.assignment, job.notebooks, job.probe_seed, run_dir
        )
        if plan is not None:
            ctx = replace(ctx, env=(*ctx.env, (judge.PLAN_ENV, plan.name)))
        for name in job.notebooks:
            results.append(_grade_notebook(job, ctx, name, files, unread, run_dir, out_dir))
        # Nothing reads run/ afterwards (the judge re-plans from the seed).
        shutil.rmtree(run_dir, ignore_errors=True)
    except Exception:
        return JobResult(
            job,
            job.sha256,
            results,
            extra,
            seconds=round(time.monotonic() - started, 3),
            error=traceback.format_exc(limit=6).strip().splitlines()[-1],
        )
    return JobResult(job, job.sha256, results, extra, seconds=round(time.monotonic() - started, 3))


# ---------------------------------------------------------------------------------------
# The result on the wire: JSON, bounded
# ---------------------------------------------------------------------------------------

_NB_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "status": (str,),
    "message": (str,),
    "sanitized": (str, type(None)),
    "executed": (str, type(None)),
    "cells_run": (int,),
    "seconds": (int, float),
    "sandboxed": (bool, type(None)),
    "problem": (str,),
}


def encode_result(result: JobResult) -> bytes:
    """The bytes a job hands back: JSON of the result without the job (the grading process
    has its own), at most MAX_RESULT_BYTES (else the notebooks' texts are left out and the
    result says why). Built here, by the trusted worker, from the executor's bounded
    output: nothing of the sandbox is pickled."""

    def dump(r: JobResult) -> bytes:
        body = {
            "format": RESULT_FORMAT,
            "student": r.job.student,
            "assignment": r.job.assignment,
            "sha256": r.sha256,
            "notebooks": [asdict(n) for n in r.notebooks],
            "extra_files": list(r.extra_files),
            "seconds": r.seconds,
            "error": r.error,
        }
        return json.dumps(body, ensure_ascii=False).encode("utf-8", errors="replace")

    data = dump(result)
    if len(data) > MAX_RESULT_BYTES:
        slim = [replace(n, sanitized=None, executed=None) for n in result.notebooks]
        why = f"the job's result was over {MAX_RESULT_BYTES >> 20} MB"
        data = dump(replace(result, notebooks=slim, error=why))
    return data


class ResultError(ValueError):
    """A job's result that the grading process refuses (too large, malformed, another
    job's): the job is "failed", never scored."""


def decode_result(data: object, job: Job) -> JobResult:
    """The JobResult of `job` from the bytes its worker handed back, checked: at most
    MAX_RESULT_BYTES, JSON of the expected shape, this job's student and assignment,
    only the job's notebooks, each text within its bound.

    Raises:
        ResultError: with the reason.
    """
    if not isinstance(data, bytes):
        raise ResultError(f"the worker handed back {type(data).__name__}, not bytes")
    if len(data) > MAX_RESULT_BYTES:
        raise ResultError(f"the result is over {MAX_RESULT_BYTES >> 20} MB")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ResultError(f"the result is not JSON ({exc})") from exc
    if not isinstance(body, dict) or body.get("format") != RESULT_FORMAT:
        raise ResultError("the result is not a job result of this grader")
    if (body.get("student"), body.get("assignment")) != (job.student, job.assignment):
        raise ResultError("the result is another job's")
    notebooks = []
    for item in body.get("notebooks") or []:
        if not isinstance(item, dict) or set(item) != set(_NB_FIELDS):
            raise ResultError("a notebook's result has unexpected fields")
        for key, types in _NB_FIELDS.items():
            if not isinstance(item[key], types):
                raise ResultError(f"a notebook's {key} is a {type(item[key]).__name__}")
        if item["name"] not in job.notebooks:
            raise ResultError(f"a result for {item['name']!r}, which the job did not ask for")
        for key, bound in (("sanitized", MAX_EXECUTED_BYTES), ("executed", MAX_EXECUTED_BYTES)):
            if item[key] is not None and len(item[key]) > bound:
                raise ResultError(f"{item['name']}'s {key} notebook is over {bound >> 20} MB")
        notebooks.append(NotebookResult(**item))
    sha, error, extra = body.get("sha256"), body.get("error"), body.get("extra_files")
    seconds = body.get("seconds")
    if not isinstance(sha, str) or not (error is None or isinstance(error, str)):
        raise ResultError("the result's hash or error is not text")
    if not isinstance(extra, list) or not all(isinstance(e, str) for e in extra):
        raise ResultError("the result's extra files are not a list of names")
    if not isinstance(seconds, int | float):
        raise ResultError("the result's time is not a number")
    return JobResult(job, sha, notebooks, extra, float(seconds), error)


def begin_run() -> None:
    """Forget what this process cached for an earlier grading run: a worker process that
    serves several runs (a Dask worker lives on between them) reads each run's bundled
    gradebook and configuration afresh. BLAS in a worker stays single-threaded:
    it only prepares notebooks, one job at a time."""
    load_config.cache_clear()
    _source_cells.cache_clear()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
