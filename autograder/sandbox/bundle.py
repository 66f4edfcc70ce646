"""The assignment bundle: what a grading worker needs from the course side, by content.

A grading job names its assignment's bundle by digest; it carries no path of the course
(docs/design.md, "Grading on Dask", "What crosses the wire"). The grading process builds
one bundle per assignment and run (autograder.records.grading): a gzip'd tar of

    bundle.json            the assignment, its notebooks, whether a hidden test runs in
                           the kernel (then pkgs/solutions is in the bundle)
    nbgrader_config.py     the course's nbgrader configuration
    source/<assignment>/   the source notebooks (the judge plans from them)
    release/<assignment>/  the released notebooks and the files shipped next to them
    gradebook.json         the gradebook's record of the assignment's cells (the worker
                           builds a gradebook of its own from it, for nbgrader's sanitizer)
    pkgs/course/           the `course` package the sandboxed kernel imports
    pkgs/solutions/        the `solutions` package, only where a hidden test needs it

Its digest is the sha256 of a canonical listing, one line per file, sorted by path:
`<sha256 of the bytes>  <path>`: the same files give the same digest on any machine,
whatever the archive's bytes. The bytes reach the workers in a Dask worker plugin
(`BundlePlugin`, registered once per run and digest; the scheduler hands it to workers
that join later or are restarted). A worker stages a bundle once, under
`cache_dir()/bundles/<digest>/`: it unpacks it (regular files only, no path outside the
folder, bounded in size), recomputes the digest from the files on disk and refuses a
mismatch (`BundleError`), then renames the folder into place; later jobs reuse it.

The MNIST data is not in the bundle: the sandbox mounts the folder that CNN_COURSE_DATA
names on the worker's host, and `course.data` checks its checksums as it loads it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin
from nbgrader.api import Gradebook

from autograder import ensure_tools_on_path

FORMAT = 1
MANIFEST = "bundle.json"
GRADEBOOK = "gradebook.json"
PACKAGES = "pkgs"
#: A bundle's files together, unpacked, at most this many bytes.
MAX_BUNDLE_BYTES = 256 * 2**20
#: Where a worker stages bundles (and its jobs' folders) when this names no folder:
#: $XDG_CACHE_HOME/cnn-course/grader, or ~/.cache/cnn-course/grader.
CACHE_ENV = "CNN_COURSE_GRADER_CACHE"
DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BundleError(RuntimeError):
    """A bundle that cannot be staged: its files do not match its digest, it is not a
    well-formed archive, or it was never sent to this worker. The job fails (an
    infrastructure failure, never a score)."""


def cache_dir() -> Path:
    """The worker's cache: CACHE_ENV, else the user's cache folder."""
    named = os.environ.get(CACHE_ENV)
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnn-course" / "grader"


def plugin_name(digest: str) -> str:
    return f"cnn-course-bundle-{digest}"


# ---------------------------------------------------------------------------------------
# Building (the grading process)
# ---------------------------------------------------------------------------------------


def _checked(path: str) -> str:
    """A bundle path: relative, POSIX, no empty, '.' or '..' part."""
    parts = PurePosixPath(path).parts
    if (
        not parts
        or path.startswith("/")
        or "\\" in path
        or any(p in ("", ".", "..") for p in parts)
        or "/".join(parts) != path
    ):
        raise BundleError(f"bundle path {path!r} is not a plain relative path")
    return path


def listing(files: Mapping[str, bytes]) -> str:
    """The canonical listing the digest is taken of: `<sha256>  <path>` per file, sorted."""
    return "".join(
        f"{hashlib.sha256(files[p]).hexdigest()}  {_checked(p)}\n" for p in sorted(files)
    )


def digest_of(files: Mapping[str, bytes]) -> str:
    return hashlib.sha256(listing(files).encode()).hexdigest()


@dataclass(frozen=True)
class Bundle:
    """A packed bundle: its digest and its bytes (a gzip'd tar)."""

    digest: str
    data: bytes
    files: int


def pack(files: Mapping[str, bytes]) -> Bundle:
    """The bundle of `files` (bundle path -> bytes). The archive's bytes are the same for
    the same files (sorted, no times or owners), though only the listing is the digest.

    Raises:
        BundleError: a path that is not plain and relative, or files over MAX_BUNDLE_BYTES.
    """
    if sum(len(d) for d in files.values()) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle's files are over {MAX_BUNDLE_BYTES >> 20} MB")
    digest = digest_of(files)
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(files[path]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[path]))
    return Bundle(digest, buf.getvalue(), len(files))


def tree_files(root: Path, prefix: str) -> dict[str, bytes]:
    """The regular files under `root` as bundle paths under `prefix`, without hidden
    files and folders, Python caches and links."""
    out: dict[str, bytes] = {}
    root = Path(root)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        if path.suffix == ".pyc" or path.is_symlink() or not path.is_file():
            continue
        out[f"{prefix}/{rel.as_posix()}"] = path.read_bytes()
    return out


def manifest(assignment: str, notebooks: list[str], in_kernel: bool) -> bytes:
    meta = {"format": FORMAT, "assignment": assignment, "notebooks": notebooks}
    meta["in_kernel"] = in_kernel
    return (json.dumps(meta, sort_keys=True, indent=1) + "\n").encode()


# ---------------------------------------------------------------------------------------
# Staging (a grading worker)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staged:
    """A bundle staged on this worker, its digest verified."""

    digest: str
    root: Path  # the bundle's files: nbgrader_config.py, source/, release/, pkgs/
    db_url: str  # the gradebook built from gradebook.json (read only)
    assignment: str
    notebooks: tuple[str, ...]
    in_kernel: bool

    @property
    def course_package(self) -> Path:
        return self.root / PACKAGES / "course"

    @property
    def solutions(self) -> Path | None:
        path = self.root / PACKAGES / "solutions"
        return path if self.in_kernel and path.is_dir() else None


def _disk_digest(root: Path) -> str:
    """digest_of the regular files under `root`, read back from disk."""
    digest, lines = hashlib.sha256(), []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise BundleError(f"{path.relative_to(root)} is not a regular file")
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            lines.append((rel, hashlib.sha256(path.read_bytes()).hexdigest()))
    for rel, sha in sorted(lines):
        digest.update(f"{sha}  {rel}\n".encode())
    return digest.hexdigest()


def _unpack(data: bytes, dest: Path) -> None:
    """Write the archive's files under `dest`: regular files only, plain relative paths,
    at most MAX_BUNDLE_BYTES in all (the members are read, never extracted by tarfile)."""
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                if not member.isfile():
                    raise BundleError(f"bundle member {member.name!r} is not a regular file")
                rel = _checked(member.name)
                total += member.size
                if total > MAX_BUNDLE_BYTES:
                    raise BundleError(f"the bundle unpacks to over {MAX_BUNDLE_BYTES >> 20} MB")
                target = dest / rel
                if target.exists():
                    raise BundleError(f"bundle member {rel!r} appears twice")
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                target.write_bytes(source.read(member.size))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BundleError(f"the bundle is not a readable archive ({exc})") from exc


def _build_gradebook(record: dict[str, Any], path: Path) -> str:
    """A gradebook holding the assignment's cells as `record` lists them, in that order
    (nbgrader lists them in the order they were added)."""
    url = f"sqlite:///{path}"
    ensure_tools_on_path()  # a new gradebook runs `alembic`, found through PATH
    with Gradebook(url) as gb:
        assignment = record["assignment"]
        gb.add_assignment(assignment)
        for nb in record["notebooks"]:
            gb.add_notebook(nb["name"], assignment, kernelspec=nb["kernelspec"])
            for c in nb["source_cells"]:
                gb.add_source_cell(c.pop("name"), nb["name"], assignment, **c)
            for c in nb["grade_cells"]:
                gb.add_grade_cell(c.pop("name"), nb["name"], assignment, **c)
            for name in nb["solution_cells"]:
                gb.add_solution_cell(name, nb["name"], assignment)
            for c in nb["task_cells"]:
                gb.add_task_cell(c.pop("name"), nb["name"], assignment, **c)
    return url


def _load(digest: str, folder: Path) -> Staged:
    meta = json.loads((folder / "files" / MANIFEST).read_text(encoding="utf-8"))
    return Staged(
        digest,
        folder / "files",
        f"sqlite:///{folder / 'gradebook.db'}",
        meta["assignment"],
        tuple(meta["notebooks"]),
        bool(meta["in_kernel"]),
    )


def staged(digest: str, cache: Path | None = None) -> Staged | None:
    """The bundle `digest` if this host staged it already, else None."""
    if not DIGEST.match(digest):
        return None
    folder = (cache or cache_dir()) / "bundles" / digest
    return _load(digest, folder) if folder.is_dir() else None


def stage(digest: str, data: bytes, cache: Path | None = None) -> Staged:
    """Stage the bundle `data` under the cache as `digest`, or reuse it if staged already.

    Raises:
        BundleError: the files do not hash to `digest` (the message says both), or the
            archive is malformed. Nothing is left in the cache then.
    """
    if not DIGEST.match(digest):
        raise BundleError(f"{digest!r} is not a bundle digest (64 hex digits)")
    found = staged(digest, cache)
    if found is not None:
        return found
    bundles = (cache or cache_dir()) / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    tmp = bundles / f".tmp-{digest[:16]}-{secrets.token_hex(6)}"
    try:
        _unpack(data, tmp / "files")
        got = _disk_digest(tmp / "files")
        if got != digest:
            raise BundleError(
                f"bundle refused: its files hash to {got[:16]}…, not to {digest[:16]}…, the "
                "digest the grading run named (corrupted or altered on the way); nothing was "
                "graded with it"
            )
        record = json.loads((tmp / "files" / GRADEBOOK).read_text(encoding="utf-8"))
        _build_gradebook(record, tmp / "gradebook.db")
        try:
            os.rename(tmp, bundles / digest)
        except OSError:
            if not (bundles / digest).is_dir():  # else another process staged it first
                raise
    except (OSError, ValueError, KeyError) as exc:
        raise BundleError(f"bundle {digest[:16]}… could not be staged: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _load(digest, bundles / digest)


class BundlePlugin(WorkerPlugin):
    """Carries one bundle's bytes to every grading worker, the ones that join later and
    the ones a nanny restarts included (the scheduler keeps registered plugins). It does
    nothing at set-up: the first job that needs the bundle stages it (in the task's
    thread, not the worker's event loop), and a mismatch fails that job."""

    def __init__(self, digest: str, data: bytes):
        self.digest = digest
        self.data = data
