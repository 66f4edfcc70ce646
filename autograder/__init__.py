"""The grading pipeline around nbgrader: release, collect, grade, feedback, export."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# nbformat imports jsonschema, which imports rfc3987_syntax where it is installed and
# builds its grammar: ~3 s of CPU in every process that reads a notebook, for an IRI
# format no notebook uses. Grading starts a process per Dask worker, so skip it (the
# sandbox's driver does the same: autograder/sandbox/driver.py).
sys.modules.setdefault("rfc3987_syntax", None)


def ensure_tools_on_path() -> None:
    """Put this interpreter's bin folder first on PATH.

    nbgrader runs `alembic` (and jupyter kernels) as subprocesses found through PATH; when
    the pipeline runs as `.venv/bin/python -m autograder...` without an activated venv,
    those would be missing or, worse, come from another installation.
    """
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [bindir]:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p != bindir]])
