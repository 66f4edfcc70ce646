"""nbgrader's gradebook of a course: the one place that opens it, names its course and reads
a submission's time.

Before, the course id, the opening of the gradebook and the submission timestamps were
read in two modules with different behaviour (one read nbgrader_config.py afresh and
yielded nothing where no gradebook existed, the other used the cached configuration and
created the file; one checked timestamp.txt for a date, the other passed any text on).
Now every module of the trusted side goes through these functions (docs/design.md,
"The trust boundary"):

* `course_id`: the `CourseDirectory.course_id` of nbgrader_config.py, nbgrader's default
  when unset, from the course configuration read once per process (`layout.load_config`);
* `open_gradebook`: the course gradebook, or None where it does not exist and the caller
  only reads (status, export, feedback and the class report must not leave an empty
  gradebook behind); scoring, collecting and registering pass `create=True`;
* `submission_time`: nbgrader's timestamp.txt of a submission, checked to be a date that
  nbgrader parses; anything else counts as no time, with the reason;
* `assignment_record`: the assignment's notebooks and cells as plain data, for the bundle
  a grading worker stages (autograder.sandbox.bundle); nothing of any student.

Who writes: scoring (autograder.records.score), one job at a time in the grading process;
collecting adds students; `release` registers assignments through nbgrader's own API.
The grading workers never open it: they read, through nbgrader, a gradebook they build
from the bundle's copy of `assignment_record` (autograder.sandbox.worker), and write
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nbgrader import utils as nbgrader_utils
from nbgrader.api import Gradebook

from autograder import ensure_tools_on_path
from autograder.layout import Course, load_config

#: nbgrader's course id where nbgrader_config.py sets none.
DEFAULT_COURSE_ID = "default_course"


def course_id(course: Course) -> str:
    """The nbgrader course id of nbgrader_config.py (nbgrader's default when unset)."""
    section = load_config(str(course.root)).get("CourseDirectory", {})
    return str(section["course_id"]) if "course_id" in section else DEFAULT_COURSE_ID


@contextmanager
def open_gradebook(course: Course, *, create: bool = False) -> Iterator[Gradebook | None]:
    """nbgrader's Gradebook of the course, closed on exit; None when gradebook.db does
    not exist, unless `create` (opening a Gradebook creates the database file)."""
    if not course.gradebook.exists() and not create:
        yield None
        return
    ensure_tools_on_path()  # a new gradebook runs `alembic`, found through PATH
    gb = Gradebook(course.db_url, course_id=course_id(course))
    try:
        yield gb
    finally:
        gb.close()


def submission_time(folder: Path) -> tuple[str | None, str | None]:
    """(the text of `folder/timestamp.txt`, None) when it holds a date nbgrader can parse;
    (None, the problem in a few words) when it is unreadable or not a date; (None, None)
    when there is none."""
    try:
        text = (Path(folder) / "timestamp.txt").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError):
        return None, "timestamp.txt is unreadable"
    if not text:
        return None, None
    try:
        nbgrader_utils.parse_utc(text)
    except Exception:
        return None, f"timestamp.txt does not hold a date ({text[:40]!r})"
    return text, None


def registered_assignments(course: Course) -> set[str]:
    """Assignments the gradebook knows (what `release` registered)."""
    with open_gradebook(course) as gb:
        return {a.name for a in gb.assignments} if gb is not None else set()


def students(course: Course) -> list[str]:
    """Student ids registered in the gradebook (empty when there is none)."""
    with open_gradebook(course) as gb:
        return sorted(s.id for s in gb.students) if gb is not None else []


def add_students(course: Course, ids: list[str]) -> None:
    """Register students, if the course has a gradebook yet (collecting never makes one)."""
    if not ids:
        return
    with open_gradebook(course) as gb:
        if gb is not None:
            for sid in ids:
                gb.update_or_create_student(sid)


def submission_scores(course: Course) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max_score) for every submission in the gradebook."""
    scores: dict[tuple[str, str], tuple[float, float]] = {}
    with open_gradebook(course) as gb:
        if gb is None:
            return scores
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                scores[(sub.student_id, assignment.name)] = (
                    float(sub.score or 0.0),
                    float(sub.max_score or 0.0),
                )
    return scores


def assignment_record(course: Course, assignment: str) -> dict:
    """The gradebook's record of an assignment's notebooks and cells, as plain data in
    the gradebook's own order: what a grading worker needs of the gradebook (the bundle's
    gradebook.json, autograder.sandbox.bundle). Nothing of any student.

    Raises:
        ValueError: the gradebook does not know the assignment.
    """
    with open_gradebook(course) as gb:
        if gb is None:
            raise ValueError(f"{course.gradebook} does not exist: run `release` first")
        notebooks = []
        for nb in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name):
            notebooks.append(
                {
                    "name": nb.name,
                    "kernelspec": nb.kernelspec,
                    "source_cells": [
                        {
                            "name": c.name,
                            "cell_type": c.cell_type,
                            "locked": bool(c.locked),
                            "source": c.source,
                            "checksum": c.checksum,
                        }
                        for c in nb.source_cells
                    ],
                    "grade_cells": [
                        {"name": c.name, "max_score": float(c.max_score), "cell_type": c.cell_type}
                        for c in nb.grade_cells
                    ],
                    "solution_cells": [c.name for c in nb.solution_cells],
                    "task_cells": [
                        {"name": c.name, "max_score": float(c.max_score), "cell_type": c.cell_type}
                        for c in nb.task_cells
                    ],
                }
            )
    return {"assignment": assignment, "notebooks": notebooks}
