"""Build `release/` (the student notebooks) from `source/` with nbgrader.

`make release` calls `python -m autograder.release`. The output is deterministic (same
source → byte-identical release), which lets CI regenerate it and fail on any diff.
Releasing writes no gradebook into the repo: nbgrader records the source cells in a
throw-away database; the grading pipeline registers assignments in its own gradebook.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from autograder import ensure_tools_on_path, nbtools
from autograder.layout import Course

ROOT = Path(__file__).resolve().parents[1]


class ReleaseError(RuntimeError):
    """nbgrader failed, or what it produced would leak something to students."""


def assignments(root: Path = ROOT) -> list[str]:
    """Assignment names: the folders of `source/` that hold at least one notebook."""
    source = root / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def nbgrader_api(root: Path, db_url: str):
    """An NbGraderAPI for the course at `root`, configured from its nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = db_url
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def release(
    names: list[str] | None = None, *, root: Path = ROOT, db_url: str | None = None
) -> list[Path]:
    """Regenerate `release/<name>/` for each assignment; return the notebooks written.

    Args:
        names: assignments to release; default: every folder of `source/`.
        root: the course root (holds nbgrader_config.py, source/, release/).
        db_url: gradebook to record the source cells in; default: a temporary one.
    Raises:
        ReleaseError: a source notebook is malformed, nbgrader failed, or the result
            contains a solution, a hidden test or an import of `solutions`.
    """
    names = names or assignments(root)
    problems = []
    for name in names:
        for nb in sorted((root / "source" / name).glob("*.ipynb")):
            problems += [f"{nb.relative_to(root)}: {p}" for p in nbtools.source_problems(nb)]
    if problems:
        raise ReleaseError("source notebooks need fixing first:\n  " + "\n  ".join(problems))

    ensure_tools_on_path()
    with tempfile.TemporaryDirectory() as tmp:
        api = nbgrader_api(root, db_url or f"sqlite:///{tmp}/gradebook.db")
        for name in names:
            # Remove stale files (a notebook renamed or deleted in source/).
            shutil.rmtree(root / "release" / name, ignore_errors=True)
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"nbgrader could not release {name}:\n{result.get('error')}")

    written = sorted(p for name in names for p in (root / "release" / name).glob("*.ipynb"))
    leaks = [f"{p.relative_to(root)}: {m}" for p in written for m in nbtools.release_problems(p)]
    if leaks:
        raise ReleaseError("release/ would leak to students:\n  " + "\n  ".join(leaks))
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", help="default: every folder of source/")


def run(args: argparse.Namespace) -> int:
    """`python -m autograder release`: rebuild release/ and record each assignment's source
    cells (with the hidden tests) in the course gradebook, which grading needs."""
    course = Course.at(args.course)
    try:
        written = release(args.assignments or None, root=course.root, db_url=course.db_url)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"released {path.relative_to(course.root)}")
    print(f"registered {len({p.parent.name for p in written})} assignments in {course.gradebook}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.release", description=__doc__)
    parser.add_argument("assignments", nargs="*", help="default: all of source/")
    args = parser.parse_args(argv)
    try:
        for path in release(args.assignments or None):
            print(f"released {path.relative_to(ROOT)}")
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
