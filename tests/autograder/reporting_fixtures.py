"""A tiny course, graded by stock nbgrader, for the collect/feedback/export/status tests.

Not a conftest (other test files of tests/autograder have their own set-up): each test
module loads it by path (pytest runs with --import-mode=importlib, so test folders are not
packages). The graded course is built once per test session,
shared across pytest-xdist workers through a lock file, and copied by each test that
changes it.

Assignment `a1` (one notebook, 5 points):
    Exercise 1.1 add (2 points): visible check, then a hidden *bare assert* on SECRET.
    Exercise 1.2 mul (3 points): visible check, then a hidden assert_close (course.checks)
        on HIDDEN_X.
Assignment `b2` (one notebook, 1 point): a hidden block that is not inside a function.
Assignment `c3` (two notebooks, source only): for collect's name matching.

Students of the graded course:
    alice  everything right (a1 5/5, b2 1/1)
    bob    add fails only the hidden bare assert; mul fails only the hidden assert_close
    carol  nothing done (the release stubs)
    dave   add fails the visible check; mul raises, on the hidden input only, an error
           whose message is that input
    erin   add right; her mul cell prints the hidden test source (In[], inspect), and mul
           raises, in the visible check, an error that carries the hidden constants
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
SECRET = "918273645"  # appears only in a1's hidden block of add
HIDDEN_X = "73914"  # appears only in a1's hidden block of mul
SUBMITTED_AT = "2025-01-01T10:00:00+00:00"


def _meta(grade_id, **kw):
    base = {"grade_id": grade_id, "schema_version": 3, "locked": False, "solution": False}
    return {"nbgrader": {**base, "grade": False, **kw}}


def _solution(cell_id, grade_id, signature, body):
    src = f"{signature}\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION"
    return new_code_cell(src, id=cell_id, metadata=_meta(grade_id, solution=True))


def _tests(cell_id, grade_id, points, source):
    meta = _meta(grade_id, grade=True, locked=True, points=points)
    return new_code_cell(source, id=cell_id, metadata=meta)


def _notebook(cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


SETUP = """from course.checks import CheckFailed, assert_close


def check_add(fn):
    got = fn(2, 3)
    if got != 5:
        raise CheckFailed(f"add(2, 3) returned {got!r}, expected 5. Revisit the sum rule.")


def check_mul(fn):
    got = fn(2, 3)
    if got != 6:
        raise CheckFailed(f"mul(2, 3) returned {got!r}, expected 6.")"""

ADD_TESTS = f'''"""add: small integers, and a large hidden case."""
check_add(add)
### BEGIN HIDDEN TESTS
def _hidden_tests():
    SECRET = {SECRET}
    assert add(SECRET, 1) == SECRET + 1


_hidden_tests()
### END HIDDEN TESTS'''

MUL_TESTS = f'''"""mul: small integers, and a large hidden input."""
check_mul(mul)
### BEGIN HIDDEN TESTS
def _hidden_tests():
    HIDDEN_X = {HIDDEN_X}
    assert_close(mul(HIDDEN_X, 3), HIDDEN_X * 3, "mul on a large hidden input")


_hidden_tests()
### END HIDDEN TESTS'''

NEG_TESTS = '''"""neg: one visible case, one hidden."""
assert neg(2) == -2, "neg(2) should be -2"
### BEGIN HIDDEN TESTS
assert neg(-7) == 7
### END HIDDEN TESTS'''


def a1_notebook():
    return _notebook(
        [
            new_markdown_cell("# Tiny assignment\n\nTwo exercises.", id="title"),
            new_code_cell(SETUP, id="setup"),
            new_markdown_cell("## Exercise 1.1 — `add` (2 points)", id="ex-1-1"),
            _solution("add-impl", "tiny_add_impl", "def add(a, b):", "return a + b"),
            _tests("add-tests", "tiny_add_tests", 2, ADD_TESTS),
            new_markdown_cell("## Exercise 1.2 — `mul` (3 points)", id="ex-1-2"),
            _solution("mul-impl", "tiny_mul_impl", "def mul(a, b):", "return a * b"),
            _tests("mul-tests", "tiny_mul_tests", 3, MUL_TESTS),
        ]
    )


def b2_notebook():
    return _notebook(
        [
            new_markdown_cell("## Exercise 2.1 — neg (1 point)", id="ex-2-1"),
            _solution("neg-impl", "tiny_neg_impl", "def neg(a):", "return -a"),
            _tests("neg-tests", "tiny_neg_tests", 1, NEG_TESTS),
        ]
    )


def make_course(root: Path, *, with_c3: bool = True) -> Path:
    """A course root with source/ only (what collect needs)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    notebooks = {"a1/a1": a1_notebook(), "b2/b2": b2_notebook()}
    if with_c3:
        notebooks["c3/c3_part1"] = b2_notebook()
        notebooks["c3/c3_part2"] = b2_notebook()
    for rel, nb in notebooks.items():
        path = root / "source" / f"{rel}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    return root


def release(root: Path) -> None:
    """Build release/ and register the assignments in root/gradebook.db."""
    from autograder.release import release as release_

    release_(root=root, db_url=f"sqlite:///{root}/gradebook.db")


def submit(root: Path, student: str, assignment: str, bodies: dict[str, str]) -> Path:
    """A student's notebook: the release notebook with some solution cells replaced."""
    nb = nbformat.read(root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if gid in bodies:
            cell.source = bodies[gid]
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")
    (folder / "timestamp.txt").write_text(SUBMITTED_AT + "\n")
    return folder


def submit_raw(root: Path, student: str, assignment: str, data: bytes) -> Path:
    """A submission whose notebook file holds `data` as is (say, invalid JSON)."""
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.ipynb").write_bytes(data)
    (folder / "timestamp.txt").write_text(SUBMITTED_AT + "\n")
    return folder


ADD_OK = "def add(a, b):\n    return a + b"
MUL_OK = "def mul(a, b):\n    return a * b"
ERIN_MUL = """import inspect
print("\\n".join(In))
try:
    print(inspect.getsource(_hidden_tests))
except Exception as exc:
    print(exc)


def mul(a, b):
    raise RuntimeError(repr(_hidden_tests.__code__.co_consts))"""

SUBMISSIONS = {
    ("alice", "a1"): {"tiny_add_impl": ADD_OK, "tiny_mul_impl": MUL_OK},
    ("alice", "b2"): {"tiny_neg_impl": "def neg(a):\n    return -a"},
    ("bob", "a1"): {
        "tiny_add_impl": "def add(a, b):\n    return a + b if a < 1000 else 0",
        "tiny_mul_impl": "def mul(a, b):\n    return a * b if a < 1000 else 0",
    },
    ("carol", "a1"): {},
    ("dave", "a1"): {
        "tiny_add_impl": "def add(a, b):\n    return a - b",
        "tiny_mul_impl": (
            "def mul(a, b):\n    if a > 1000:\n"
            "        raise ValueError(f'cannot multiply {a}')\n    return a * b"
        ),
    },
    ("erin", "a1"): {"tiny_add_impl": ADD_OK, "tiny_mul_impl": ERIN_MUL},
}


def autograde(root: Path, pairs) -> None:
    """Grade with stock nbgrader, in process; the kernel imports `course` from the repo."""
    from autograder import ensure_tools_on_path
    from autograder.release import nbgrader_api

    ensure_tools_on_path()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(REPO) + (os.pathsep + old if old else "")
    try:
        api = nbgrader_api(root, f"sqlite:///{root}/gradebook.db")
        for student, assignment in pairs:
            result = api.autograde(assignment, student, force=True, create=True)
            assert result["success"], result.get("error")
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def add_ledger_lines(root: Path) -> None:
    """A "graded" ledger line per graded submission, with the hash of its files."""
    from autograder import handin
    from autograder.layout import Course
    from autograder.records import grading, ledger
    from autograder.records.gradebook import open_gradebook
    from autograder.records.states import submission_files

    course = Course.at(root)
    with open_gradebook(course) as gb:
        subs = [
            (s.student_id, a.name, float(s.score), float(s.max_score))
            for a in gb.assignments
            for s in a.submissions
        ]
    for student, assignment, score, max_score in sorted(subs):
        files = submission_files(course, student, assignment)
        ledger.append(
            course,
            {
                "student": student,
                "assignment": assignment,
                "sha256": handin.submission_hash(files),
                "status": "graded",
                "score": score,
                "max_score": max_score,
                "flags": ["late: 1 day"] if student == "carol" else [],
                "exec_status": "ok",
                "bundle": grading.bundle_digest(course, assignment),
            },
        )


def build_graded_course(root: Path) -> Path:
    make_course(root, with_c3=False)
    release(root)
    for (student, assignment), bodies in SUBMISSIONS.items():
        submit(root, student, assignment, bodies)
    autograde(root, sorted(SUBMISSIONS))
    add_ledger_lines(root)
    return root


def graded_course(tmp_path_factory) -> Path:
    """The graded course, built once for all xdist workers (do not change it: copy it)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    root = shared / "reporting-graded-course"
    with open(shared / "reporting-graded-course.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (root / ".built").exists():
                shutil.rmtree(root, ignore_errors=True)
                build_graded_course(root)
                (root / ".built").write_text("ok\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root


def copy_course(src: Path, dest: Path) -> Path:
    """A private copy of a course (the gradebook and ledger included)."""
    shutil.copytree(src, dest, symlinks=True)
    return dest
