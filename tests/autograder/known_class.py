"""A hand-built class with known counts, for the class report (autograder.report).

No grading runs: the judge's verdicts are constructed here and recorded through the same
function grading uses (autograder.records.score.cell_records), into a real ledger, with real
submission files (so that their hashes make them "graded"). tests/conftest.py builds it
once per session (fixture `known_class`); the numbers it must give are worked out by hand
in tests/autograder/test_report.py.

Assignment `hw` (one notebook, 6 points): exercise 1.1 add (2 points, cell hw_add_tests),
exercise 1.2 mul (3 points, hw_mul_tests), exercise 2.1 a quiz (1 point, hw_quiz_tests).

    student  add                 mul                    quiz               total
    alice    passed       2      passed          3      passed        1    6
    bob      order_reversed 0      passed          3      wrong_answer  0    3
    carol    order_reversed 0      (no name)       0      wrong_answer  0    0
    dave     passed       2      (no name)       0      passed        1    3
    erin     not_implemented 0   not_implemented 0      not_answered  0    0
    fay      passed       2      hidden_cases    0      passed        1    3

Left out of the numbers: gus (collected, never graded: pending), hal (graded, then handed
in again: stale), ivy (graded before the ledger kept per-cell outcomes: undiagnosed).

Solution code (for similarity): bob's add and carol's add are one long function with the
names changed (a near-copy; carol's also carries a hostile `</pre><script>` string that
the page must escape); alice and dave hand in the reference verbatim (identical, but the
reference never makes a pair); the others write short code of their own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder import demo, handin
from autograder.judging import syllabus
from autograder.judging.judge import Verdict
from autograder.layout import Course
from autograder.records import grading, ledger, score

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "hw"
CELLS = ("hw_add_tests", "hw_mul_tests", "hw_quiz_tests")
POINTS = {"hw_add_tests": 2.0, "hw_mul_tests": 3.0, "hw_quiz_tests": 1.0}
#: student -> the mistake key of each cell (None: the check named none; "passed": passed)
CLASS = {
    "alice": ("passed", "passed", "passed"),
    "bob": ("order_reversed", "passed", "wrong_answer"),
    "carol": ("order_reversed", None, "wrong_answer"),
    "dave": ("passed", None, "passed"),
    "erin": ("not_implemented", "not_implemented", "not_answered"),
    "fay": ("passed", "hidden_cases", "passed"),
}

ADD_REFERENCE = "    return a + b\n"
MUL_REFERENCE = "    return a * b\n"
NEAR_COPY_BOB = """    # add two arrays element by element, the long way
    result = []
    for position in range(len(first_values)):
        left_value = first_values[position]
        right_value = second_values[position]
        result.append(right_value - left_value)
    total_length = len(result)
    return [result[index] for index in range(total_length)]
"""
NEAR_COPY_CAROL = """    out = []  # '</pre><script>window.pwned = 1</script>'
    for i in range(len(first_values)):
        x = first_values[i]
        y = second_values[i]
        out.append(y - x)
    n = len(out)
    return [out[k] for k in range(n)]
"""
OWN_CODE = {
    "alice": (ADD_REFERENCE, MUL_REFERENCE),
    "bob": (NEAR_COPY_BOB, MUL_REFERENCE),
    "carol": (NEAR_COPY_CAROL, "    return sum(a for _ in range(int(b)))\n"),
    "dave": (ADD_REFERENCE, "    return a ** b\n"),
    "erin": ("    raise NotImplementedError()\n", "    raise NotImplementedError()\n"),
    "fay": (ADD_REFERENCE, "    return abs(a) * b\n"),
}


def notebook(add_body: str, mul_body: str, quiz: str):
    """The hw notebook with these bodies in its solution cells."""
    add = 'def add(first_values, second_values):\n    """Elementwise sum."""\n' + add_body
    mul = 'def mul(a, b):\n    """a times b."""\n' + mul_body
    return demo.tiny_notebook(
        (
            ("markdown", "title", None, "# Homework\n\nThree exercises, 6 points."),
            ("markdown", "s1", None, "## 1. Sums and products (lecture 000)"),
            ("markdown", "e11", None, "## Exercise 1.1 — `add` (2 points)"),
            ("code", "add-impl", ("hw_add_impl", "solution", None), add),
            ("code", "add-tests", ("hw_add_tests", "grade", 2), '"""add."""\ncheck_add(add)'),
            ("markdown", "e12", None, "## Exercise 1.2 — `mul` (3 points)"),
            ("code", "mul-impl", ("hw_mul_impl", "solution", None), mul),
            ("code", "mul-tests", ("hw_mul_tests", "grade", 3), '"""mul."""\ncheck_mul(mul)'),
            ("markdown", "s2", None, "## 2. A quiz (lectures 001 and 002)"),
            ("markdown", "e21", None, "## Exercise 2.1 — quiz (1 point)"),
            ("code", "quiz-answer", ("hw_quiz_answer", "solution", None), quiz),
            ("code", "quiz-tests", ("hw_quiz_tests", "grade", 1), '"""quiz."""\ncheck(answer)'),
        )
    )


def _write(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _record(course: Course, student: str, outcomes, *, cells: bool = True) -> None:
    """Construct the judge's verdicts, score them as grading does, append to the ledger."""
    verdicts = {
        gid: Verdict(gid, key == "passed", f"verdict on {gid}", None if key == "passed" else key)
        for gid, key in zip(CELLS, outcomes, strict=True)
    }
    grades = {gid: (POINTS[gid] if v.passed else 0.0, POINTS[gid]) for gid, v in verdicts.items()}
    exercises = syllabus.course_exercises(course, ASSIGNMENT)
    records = score.cell_records(ASSIGNMENT, verdicts, grades, exercises)
    files = sorted((course.submitted / student / ASSIGNMENT).glob("*.ipynb"))
    entry = {
        "student": student,
        "assignment": ASSIGNMENT,
        "sha256": handin.submission_hash(files),
        "status": "graded",
        "score": sum(g for g, _ in grades.values()),
        "max_score": 6.0,
        "flags": [],
        "bundle": grading.bundle_digest(course, ASSIGNMENT),
    }
    if cells:
        entry["cells"] = records
    ledger.append(course, entry)


def build(root: Path) -> Course:
    """Write the hand-built class into `root` (a new folder) and return its course."""
    root.mkdir(parents=True)
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    course = Course.at(root)
    _write(
        course.source / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        notebook(
            "    ### BEGIN SOLUTION\n" + ADD_REFERENCE + "    ### END SOLUTION\n",
            "    ### BEGIN SOLUTION\n" + MUL_REFERENCE + "    ### END SOLUTION\n",
            "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\n",
        ),
    )
    stub = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    _write(
        course.release / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        notebook(stub, stub, "# YOUR CODE HERE\nraise NotImplementedError()\n"),
    )
    for student, (add_body, mul_body) in OWN_CODE.items():
        nb = notebook(add_body, mul_body, "answer = 42\n")
        _write(course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", nb)
        _write(course.autograded / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", nb)
        _record(course, student, CLASS[student])
    for student in ("gus", "hal", "ivy"):
        nb = notebook(ADD_REFERENCE, MUL_REFERENCE, "answer = 42\n")
        _write(course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", nb)
    _record(course, "hal", CLASS["alice"])
    _write(
        course.submitted / "hal" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        notebook(ADD_REFERENCE, "    return b * a\n", "answer = 42\n"),
    )  # handed in again after grading: stale
    _record(course, "ivy", CLASS["alice"], cells=False)
    return course
