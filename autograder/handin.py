"""A hand-in's files, read without following anything: the one rule both sides use.

Collecting (autograder.records.intake), the grading worker (autograder.sandbox.worker)
and the records (autograder.records.states) name a submission by the same files and the
same hash, and open a student's file only if it is a regular file of its own: never
through a symbolic link, never a FIFO or a device, checked on the opened descriptor
(docs/grading-sandbox.md, "What counts as a notebook"). This module imports nothing of
the project but the standard library, so either side of the trust boundary may use it
(docs/design.md, "Layout and what may import what").
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class NotRegularFileError(ValueError):
    """A path that is not a regular file: a link, a FIFO, a device, a folder."""


def file_kind(mode: int) -> str:
    """ "a symbolic link", "a named pipe (FIFO)"...: what a file mode says a path is."""
    for test, what in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return what
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def open_regular(path: str | Path):
    """(binary file, its fstat) for `path`, opened without following a symbolic link
    (O_NOFOLLOW) and without blocking on a FIFO, and checked to be a regular file *after*
    opening, so that nothing can be swapped in between a check and the read.

    Raises:
        NotRegularFileError: a link, FIFO, device...; OSError: cannot be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError("a symbolic link") from exc
        raise
    f = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        f.close()
        raise NotRegularFileError(file_kind(st.st_mode))
    return f, st


def submission_notebooks(folder: Path) -> list[Path]:
    """The notebooks of a submission folder: regular files of their own only.

    Nothing is followed: a notebook that is a symbolic link (to source/, the gradebook,
    another student's file) or a hard link, and a student or assignment folder that is a
    symbolic link (to another student's folder), count as not handed in.
    """
    folder = Path(folder)
    if folder.is_symlink() or folder.parent.is_symlink() or not folder.is_dir():
        return []
    found = []
    for p in folder.glob("*.ipynb"):
        try:
            st = p.lstat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
            found.append(p)
    return sorted(found)


def submission_hash(files: Iterable[Path]) -> str:
    """SHA-256 over the names and bytes of a submission's files (sorted by name)."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.name):
        digest.update(f.name.encode() + b"\0")
        digest.update(f.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


#: A notebook file over this size is not read at all (outputs included).
MAX_FILE_BYTES = 64 * 2**20
#: The notebooks of one hand-in that travel to a grading worker, together, at most this
#: many bytes (what a job carries: docs/design.md, "Grading on Dask").
MAX_HANDIN_BYTES = 64 * 2**20
_CHUNK = 1 << 20


@dataclass(frozen=True)
class HandIn:
    """What a grading job carries of a hand-in: the bytes of each expected notebook that
    could be read, and for each one that could not, its status and the reason.

    `sha256` is submission_hash over every notebook file of the folder (the unexpected
    ones and those over a limit included), computed from the bytes read here.
    """

    files: tuple[tuple[str, bytes], ...]  # (file name, bytes) of expected notebooks
    unread: tuple[tuple[str, str, str], ...]  # (notebook, "missing"/"invalid_notebook", why)
    extra: tuple[str, ...]  # file names of notebooks nobody asked for
    sha256: str

    @property
    def size(self) -> int:
        return sum(len(data) for _, data in self.files)


def _why_missing(folder: Path, name: str) -> str:
    path = folder / f"{name}.ipynb"
    if folder.is_symlink() or folder.parent.is_symlink():
        return "is in a folder that is a symbolic link, which the grader never follows"
    if path.is_symlink():
        return "is a symbolic link, which the grader never follows: not graded"
    if path.exists():
        return "is a hard link or not a regular file, which the grader never reads: not graded"
    return "was not submitted"


def read_handin(
    folder: Path,
    expected: Iterable[str],
    *,
    file_limit: int | None = None,
    total_limit: int | None = None,
) -> HandIn:
    """Read a submission folder for a grading job, bounded: each expected notebook (a
    regular file of its own: submission_notebooks) of at most `file_limit` bytes
    (MAX_FILE_BYTES), all of them together at most `total_limit` (MAX_HANDIN_BYTES).
    A notebook over a limit is not kept (its bytes are hashed, as submission_hash does),
    and comes back in `unread` as "invalid_notebook" with the limit in its reason.
    """
    folder = Path(folder)
    file_limit = MAX_FILE_BYTES if file_limit is None else file_limit
    total_limit = MAX_HANDIN_BYTES if total_limit is None else total_limit
    expected = list(expected)
    digest = hashlib.sha256()
    files: list[tuple[str, bytes]] = []
    unread: list[tuple[str, str, str]] = []
    found: set[str] = set()
    total = 0
    for path in submission_notebooks(folder):  # sorted by name, as submission_hash
        name = path.name
        digest.update(name.encode() + b"\0")
        keep = path.stem in expected
        kept: list[bytes] = []
        size = 0
        why = ""
        try:
            f, st = open_regular(path)
        except (NotRegularFileError, OSError) as exc:
            why = f"cannot be read ({exc})"
        else:
            with f:
                if st.st_nlink > 1:
                    why = f"is a hard link shared with {st.st_nlink - 1} other path(s): refused"
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    if keep and not why and size <= file_limit:
                        kept.append(chunk)
        digest.update(b"\0")
        if not keep:
            continue
        found.add(path.stem)
        if not why and size > file_limit:
            why = f"is {size / 2**20:.1f} MB, over the {file_limit / 2**20:g} MB limit for a file"
        elif not why and total + size > total_limit:
            why = (
                f"was not read: the hand-in's notebooks together are over the "
                f"{total_limit / 2**20:g} MB limit for a hand-in"
            )
        if why:
            unread.append((path.stem, "invalid_notebook", f"{name} {why}"))
            continue
        total += size
        files.append((name, b"".join(kept)))
    for stem in expected:
        if stem not in found:
            unread.append((stem, "missing", f"{stem}.ipynb {_why_missing(folder, stem)}"))
    extra = tuple(p.name for p in submission_notebooks(folder) if p.stem not in expected)
    return HandIn(tuple(files), tuple(unread), extra, digest.hexdigest())
