"""The course's own notebooks (source/ and release/), as the grading process reads them.

Scoring reads the same few instructor notebooks for every hand-in: the source notebook
(the judge, the integrity rule, the exercises) and the released one (untouched cells, the
markdown that formgrader may render). `course_notebook` validates each file once per
version (its path, size and modification time) and hands every caller a fresh copy, so
that a caller that edits its copy changes nobody else's (docs/performance.md, "Scoring's
own CPU"). These files are the instructor's, never a student's.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import nbformat


def course_notebook(path: str | Path) -> nbformat.NotebookNode:
    """The notebook at `path` as nbformat 4 (a new copy on each call).

    Raises:
        OSError: the file cannot be read; nbformat's errors for a file that is not JSON.
    """
    path = Path(path)
    stat = path.stat()
    return nbformat.from_dict(json.loads(_validated(str(path), stat.st_mtime_ns, stat.st_size)))


@functools.lru_cache(maxsize=64)
def _validated(path: str, mtime_ns: int, size: int) -> str:
    """The notebook read (and validated) by nbformat, as JSON text; keyed by the file's
    version, so an edited notebook is read afresh."""
    return json.dumps(nbformat.read(path, as_version=4))
