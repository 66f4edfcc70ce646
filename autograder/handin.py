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
