"""Where everything of a course lives: nbgrader's standard folders under one root.

    <root>/nbgrader_config.py
    <root>/source/<assignment>/<notebook>.ipynb        instructor notebooks (hidden tests)
    <root>/release/<assignment>/<notebook>.ipynb       student notebooks
    <root>/submitted/<student>/<assignment>/...        collected submissions
    <root>/autograded/<student>/<assignment>/...       executed, scored notebooks
    <root>/feedback/<student>/<assignment>/...         HTML feedback
    <root>/exports/                                    CSV for the LMS
    <root>/reports/                                    class reports (instructor only)
    <root>/gradebook.db                                nbgrader's gradebook (SQLite)
    <root>/.grading/                                   the pipeline's own state (ledger, logs)

The repository itself is a course root; `make demo` builds a throw-away one. Both sides of
the trust boundary use this module (docs/design.md, "Layout and what may import what"):
it imports nothing else of the project.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

#: Student ids as nbgrader stores them and as folder names: safe on every filesystem.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Course:
    """A course root and the folders nbgrader and the pipeline use under it."""

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> Course:
        root = Path(root).resolve()
        if not (root / "nbgrader_config.py").is_file():
            raise FileNotFoundError(
                f"{root} is not a course root: expected nbgrader_config.py there "
                "(run from the repository, or pass --course PATH)"
            )
        return cls(root)

    source = property(lambda self: self.root / "source")
    release = property(lambda self: self.root / "release")
    submitted = property(lambda self: self.root / "submitted")
    autograded = property(lambda self: self.root / "autograded")
    feedback = property(lambda self: self.root / "feedback")
    exports = property(lambda self: self.root / "exports")
    reports = property(lambda self: self.root / "reports")
    gradebook = property(lambda self: self.root / "gradebook.db")
    state = property(lambda self: self.root / ".grading")

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook}"

    def assignments(self) -> list[str]:
        """Assignment names: the folders of source/ that hold a notebook."""
        if not self.source.is_dir():
            return []
        return sorted(
            p.name for p in self.source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))
        )

    def notebooks(self, assignment: str) -> list[str]:
        """Notebook names (without .ipynb) that an assignment expects."""
        return sorted(p.stem for p in (self.source / assignment).glob("*.ipynb"))

    def students(self) -> list[str]:
        """Students with at least one collected submission."""
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir() if p.is_dir())


@functools.lru_cache(maxsize=8)
def load_config(course_root: str):
    """The course's nbgrader configuration (`nbgrader_config.py`), read once per process.

    Shared, so never modify it: `autograder.sandbox.worker.begin_run` forgets it at the
    start of each grading run (a Dask worker process serves several).
    """
    return PyFileConfigLoader("nbgrader_config.py", path=course_root).load_config()
