"""A sample class graded end to end: release, collect, grade, feedback, export.

    python -m autograder demo                        all assignments, into .demo-course/
    python -m autograder demo --assignments 01_convolution 02_padding_stride
    python -m autograder demo --update-goldens       accept today's scores as the goldens

It builds a throw-away course root (wiped and rebuilt on every run), copies source/ and
nbgrader_config.py there, releases the assignments into a fresh gradebook, and hands in
a class made from the reference solutions:

    perfect              the reference solution in every exercise cell
    blank                the release notebooks, unchanged
    flipped_kernel       01: corr2d flips the kernel (true convolution)
    forgot_plus_one      02: output_size without the + 1
    channels_not_summed  03: corr2d_multi_in stacks the channels instead of adding them
    loop_not_vectorised  03: conv1x1 right, but a loop over pixels (3.3 asks for none)
    avg_max_swapped      04: pool2d computes the mean for "max" and the max for "avg"
    raises               01: the corr2d_bias cell raises a NameError when it runs
    never_finishes       01: the gaussian_kernel cell loops forever (cell timeout)
    invalid_json         01: a truncated notebook file
    tamper               01: perfect, plus `np.allclose = lambda *a, **k: True` (flagged;
                         the judge decides outside the kernel, so it keeps its 22)

and classmates who write the exercise in their own words, so that the class report
(`autograder.report`) has counts to show: mistakes several students share, mistakes that
come together, a generic failure, and a pair of near-copies:

    flipped_kernel_np    01: corr2d flips the kernel with np.flip
    flipped_kernel_loops 01: corr2d flips it in four loops (K[KH-1-a, KW-1-b])
    near_copy_a          01: corr2d one row and column short, corr2d_bias multiplies by b
    near_copy_b          01: near_copy_a's code with the names changed and comments added
    max_not_sum          01: corr2d takes the max of each window's products (no name)
    plus_one_and_q2      02: output_size without the + 1, and Q2 answered 2×2 to match
    plus_one_and_q2_b    02: the same two mistakes, written differently
    padding_once         02: output_size adds the padding once, not on both sides
    same_sides_swapped   02: same_padding puts the larger half after, not before

`perfect` and `blank` hand in every assignment; the others hand in the one assignment
their mistake is about. Submissions go through the real `collect` code path (a folder
tree <student>/<assignment>/<notebook>.ipynb), are graded in parallel (a short cell
timeout keeps `never_finishes` quick), and get feedback, a CSV and the class report
(reports/index.html: each mistake's count, similar hand-ins). The scores are compared with
the goldens in tests/autograder/goldens/demo_scores.json, and the report's counts with
demo_report.json next to it: any drift is reported and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from autograder.layout import Course
from autograder.records.grading import GRADING_LIMITS, grade
from autograder.records.intake import collect_folder
from autograder.release import ReleaseError, release
from autograder.reporting import classreport as class_report
from autograder.reporting import export, feedback

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / ".demo-course"
GOLDENS = REPO / "tests" / "autograder" / "goldens" / "demo_scores.json"
#: The class report's counts per assignment (report.counts): outcomes per cell, pairs.
REPORT_GOLDENS = GOLDENS.with_name("demo_report.json")
#: A file that marks a folder as a demo course: only such a folder is ever wiped.
MARKER = ".autograder-demo"
#: The demo's cell timeout: long enough for every honest cell, short for never_finishes.
DEMO_CELL_TIMEOUT = 20
SOLUTION_REGION = re.compile(r"^\s*### (BEGIN|END) SOLUTION\n?", re.M)


# ---------------------------------------------------------------------------------------
# Notebooks of the sample class
# ---------------------------------------------------------------------------------------


def reference_bodies(source_nb) -> dict[str, str]:
    """cell id -> the source solution cell without its `### BEGIN/END SOLUTION` lines
    (what tests/notebooks/test_notebooks.py pastes into the release notebook)."""
    return {
        c.id: SOLUTION_REGION.sub("", c.source)
        for c in source_nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def perfect_notebook(course: Course, assignment: str, notebook: str):
    """The release notebook with the reference bodies pasted into its solution cells."""
    source = nbformat.read(course.source / assignment / f"{notebook}.ipynb", as_version=4)
    nb = nbformat.read(course.release / assignment / f"{notebook}.ipynb", as_version=4)
    bodies = reference_bodies(source)
    for cell in nb.cells:
        if cell.get("id") in bodies:
            cell.source = bodies[cell.id]
    return nb


def blank_notebook(course: Course, assignment: str, notebook: str):
    return nbformat.read(course.release / assignment / f"{notebook}.ipynb", as_version=4)


def edit_cell(nb, cell_id: str, edit: Callable[[str], str]):
    """Apply `edit` to the source of cell `cell_id`; the edit must change something."""
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            new = edit(cell.source)
            if new == cell.source:
                raise ValueError(f"the edit of cell {cell_id} changed nothing")
            cell.source = new
            return nb
    raise KeyError(f"no cell {cell_id!r} in the notebook")


def _sub(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        if old not in text:
            raise ValueError(f"{old!r} is not in the reference solution any more")
        return text.replace(old, new)

    return edit


def _own(body: str) -> Callable[[str], str]:
    """Keep the signature and docstring of an exercise cell and put `body` after them:
    a student who writes the function in their own words."""

    def edit(text: str) -> str:
        end = text.rfind('"""\n')
        if end < 0:
            raise ValueError("the exercise cell has no docstring any more")
        return text[: end + 4] + body

    return edit


@dataclass(frozen=True)
class Mistake:
    """A sample student: changes to the perfect notebook of one assignment (the cell
    `cell_id`, and the cells of `also`, each with its edit)."""

    student: str
    assignment: str
    cell_id: str
    edit: Callable[[str], str]
    about: str
    also: tuple[tuple[str, Callable[[str], str]], ...] = ()

    def edits(self) -> tuple[tuple[str, Callable[[str], str]], ...]:
        return ((self.cell_id, self.edit), *self.also)


NEAR_COPY_A = """    rows = X.shape[0] - K.shape[0]
    cols = X.shape[1] - K.shape[1]
    output = np.zeros((rows, cols))
    for row in range(rows):
        for col in range(cols):
            window = X[row:row + K.shape[0], col:col + K.shape[1]]
            output[row, col] = np.sum(window * K)
    return output
"""
#: near_copy_a's corr2d with every name changed and comments added: what a copy that
#: tries to hide looks like.
NEAR_COPY_B = """    # number of window positions down and across
    n_down = X.shape[0] - K.shape[0]
    n_across = X.shape[1] - K.shape[1]
    res = np.zeros((n_down, n_across))
    for r in range(n_down):
        for c in range(n_across):
            patch = X[r:r + K.shape[0], c:c + K.shape[1]]  # the window under K
            res[r, c] = np.sum(patch * K)
    return res
"""


#: Each wrong version follows the student-style implementations of
#: tests/course/test_checks_*.py.
MISTAKES = (
    Mistake(
        "flipped_kernel",
        "01_convolution",
        "corr2d-impl",
        _sub("    Y = np.zeros(", "    K = K[::-1, ::-1]  # flips the kernel\n    Y = np.zeros("),
        "corr2d flips the kernel (true convolution instead of cross-correlation)",
    ),
    Mistake(
        "forgot_plus_one",
        "02_padding_stride",
        "output-size-impl",
        _sub("// stride + 1", "// stride"),
        "output_size forgets the + 1",
    ),
    Mistake(
        "channels_not_summed",
        "03_channels",
        "ex31-impl",
        _sub(
            "    Y = corr2d(X[0], K[0])\n    for c in range(1, X.shape[0]):\n"
            "        Y += corr2d(X[c], K[c])\n    return Y\n",
            "    return np.stack([corr2d(X[c], K[c]) for c in range(X.shape[0])])\n",
        ),
        "corr2d_multi_in stacks the channels instead of summing them",
    ),
    Mistake(
        "loop_not_vectorised",
        "03_channels",
        "ex33-impl",
        _sub(
            "    Y2 = K2 @ X.reshape(C_in, H * W)",
            "    Y2 = np.stack([K2 @ X[:, i, j] for i in range(H) for j in range(W)], axis=1)",
        ),
        "conv1x1 computes the right numbers with a Python loop over pixels",
    ),
    Mistake(
        "avg_max_swapped",
        "04_pooling",
        "pool2d-impl",
        _sub(
            'window.max() if mode == "max" else window.mean()',
            'window.mean() if mode == "max" else window.max()',
        ),
        "pool2d swaps average and max pooling",
    ),
    Mistake(
        "raises",
        "01_convolution",
        "corr2d-bias-impl",
        lambda src: "bias_scale = default_bias_scale  # NameError: defined nowhere\n" + src,
        "the corr2d_bias cell raises a NameError when it runs",
    ),
    Mistake(
        "never_finishes",
        "01_convolution",
        "gaussian-impl",
        lambda src: src + "\n\nsize = 0\nwhile size >= 0:  # never ends\n    size += 1\n",
        "the gaussian_kernel cell loops forever",
    ),
    Mistake(
        "tamper",
        "01_convolution",
        "corr2d-impl",
        lambda src: src + "\n\nnp.allclose = lambda *a, **k: True\n",
        "monkeypatches np.allclose",
    ),
    Mistake(
        "flipped_kernel_np",
        "01_convolution",
        "corr2d-impl",
        _own(
            "    kh, kw = K.shape\n"
            "    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1\n"
            "    Kf = np.flip(K)\n"
            "    result = np.zeros((out_h, out_w))\n"
            "    for r in range(out_h):\n"
            "        for c in range(out_w):\n"
            "            result[r, c] = (X[r:r + kh, c:c + kw] * Kf).sum()\n"
            "    return result\n"
        ),
        "corr2d flips the kernel with np.flip",
    ),
    Mistake(
        "flipped_kernel_loops",
        "01_convolution",
        "corr2d-impl",
        _own(
            "    H, W = X.shape\n"
            "    KH, KW = K.shape\n"
            "    Y = np.zeros((H - KH + 1, W - KW + 1))\n"
            "    for i in range(H - KH + 1):\n"
            "        for j in range(W - KW + 1):\n"
            "            total = 0.0\n"
            "            for a in range(KH):\n"
            "                for b in range(KW):\n"
            "                    total += X[i + a, j + b] * K[KH - 1 - a, KW - 1 - b]\n"
            "            Y[i, j] = total\n"
            "    return Y\n"
        ),
        "corr2d flips the kernel in four loops",
    ),
    Mistake(
        "near_copy_a",
        "01_convolution",
        "corr2d-impl",
        _own(NEAR_COPY_A),
        "corr2d one row and column short; corr2d_bias multiplies by b",
        also=(("corr2d-bias-impl", _own("    return corr2d(X, K) * b\n")),),
    ),
    Mistake(
        "near_copy_b",
        "01_convolution",
        "corr2d-impl",
        _own(NEAR_COPY_B),
        "near_copy_a's code, renamed and commented",
        also=(("corr2d-bias-impl", _own("    return b * corr2d(X, K)  # apply the bias\n")),),
    ),
    Mistake(
        "max_not_sum",
        "01_convolution",
        "corr2d-impl",
        _own(
            "    KH, KW = K.shape\n"
            "    Y = np.zeros((X.shape[0] - KH + 1, X.shape[1] - KW + 1))\n"
            "    for i in range(Y.shape[0]):\n"
            "        for j in range(Y.shape[1]):\n"
            "            Y[i, j] = np.max(X[i:i + KH, j:j + KW] * K)\n"
            "    return Y\n"
        ),
        "corr2d takes the largest product of each window instead of their sum",
    ),
    Mistake(
        "plus_one_and_q2",
        "02_padding_stride",
        "output-size-impl",
        _own("    padded = n + 2 * padding\n    return (padded - k) // stride\n"),
        "output_size without the + 1, and Q2 answered 2×2",
        also=(("q2-answer", _sub("rows, cols = 3, 3", "rows, cols = 2, 2")),),
    ),
    Mistake(
        "plus_one_and_q2_b",
        "02_padding_stride",
        "output-size-impl",
        _own("    n_out = (n - k + 2 * padding) // stride\n    return n_out\n"),
        "output_size without the + 1, and Q2 answered 2×2 (written differently)",
        also=(("q2-answer", _sub("rows, cols = 3, 3", "rows, cols = 2, 2")),),
    ),
    Mistake(
        "padding_once",
        "02_padding_stride",
        "output-size-impl",
        _own("    return (n + padding - k) // stride + 1\n"),
        "output_size adds the padding on one side only",
    ),
    Mistake(
        "same_sides_swapped",
        "02_padding_stride",
        "same-padding-impl",
        _own("    total = k - 1\n    return total // 2, total - total // 2\n"),
        "same_padding puts the larger half after instead of before",
    ),
)
#: Students who hand in a truncated (invalid JSON) file of this assignment.
INVALID_JSON = ("invalid_json", "01_convolution")
ALL_ASSIGNMENTS_STUDENTS = ("perfect", "blank")


def sample_class(course: Course, assignments: list[str]) -> dict[tuple[str, str, str], bytes]:
    """(student, assignment, notebook) -> the bytes that student hands in."""
    files: dict[tuple[str, str, str], bytes] = {}

    def put(student: str, assignment: str, notebook: str, nb) -> None:
        files[(student, assignment, notebook)] = (nbformat.writes(nb) + "\n").encode()

    for assignment in assignments:
        for notebook in course.notebooks(assignment):
            put("perfect", assignment, notebook, perfect_notebook(course, assignment, notebook))
            put("blank", assignment, notebook, blank_notebook(course, assignment, notebook))
    for m in MISTAKES:
        if m.assignment not in assignments:
            continue
        for notebook in course.notebooks(m.assignment):
            nb = perfect_notebook(course, m.assignment, notebook)
            for cell_id, edit in m.edits():
                if any(c.get("id") == cell_id for c in nb.cells):
                    edit_cell(nb, cell_id, edit)
            put(m.student, m.assignment, notebook, nb)
    student, assignment = INVALID_JSON
    if assignment in assignments:
        for notebook in course.notebooks(assignment):
            whole = files[("perfect", assignment, notebook)]
            files[(student, assignment, notebook)] = whole[: len(whole) // 2]
    return files


# ---------------------------------------------------------------------------------------
# The course
# ---------------------------------------------------------------------------------------


def build_course(out: Path, assignments: list[str] | None = None) -> tuple[Course, list[str]]:
    """Wipe `out` (only if it is a demo course or empty), copy source/ and the nbgrader
    configuration there, release and register the assignments. Returns (course, names)."""
    out = out.resolve()
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise ValueError(
                f"{out} exists and is not a demo course (no {MARKER} in it): "
                "refusing to wipe it; pick another --out"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by `python -m autograder demo`; wiped on every run\n")
    available = sorted(
        p.name for p in (REPO / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb"))
    )
    names = sorted(assignments) if assignments else available
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; source/ has {available}")
    for name in names:
        shutil.copytree(REPO / "source" / name, out / "source" / name)
    shutil.copyfile(REPO / "nbgrader_config.py", out / "nbgrader_config.py")
    course = Course.at(out)
    release(names, root=course.root, db_url=course.db_url)
    return course, names


def hand_in(course: Course, files: dict[tuple[str, str, str], bytes]) -> str:
    """Put the sample class's files where the instructor's collect step finds them, and
    collect them. Returns a one-line summary."""
    handins = course.root / "hand-ins"
    for (student, assignment, notebook), data in sorted(files.items()):
        path = handins / student / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    report = collect_folder(course, handins)
    return f"collected {len(report.taken)} notebooks from {handins}"


# ---------------------------------------------------------------------------------------
# The smallest course (tests, quick trials)
# ---------------------------------------------------------------------------------------

TINY = "tiny"
TINY_CELLS = (
    ("markdown", "title", None, "# Tiny assignment\n\nTwo exercises, 5 points."),
    ("code", "setup", ("tiny_setup", "locked", None),
     "import numpy as np\n\nfrom course.checks import assert_close"),
    ("markdown", "ex1", None, "## Exercise 1 — add (2 points)"),
    ("code", "add-impl", ("tiny_add_impl", "solution", None),
     'def add(a, b):\n    """a + b, elementwise."""\n    ### BEGIN SOLUTION\n'
     "    return a + b\n    ### END SOLUTION"),
    ("code", "add-tests", ("tiny_add_tests", "grade", 2),
     '"""add: two numbers, then arrays."""\nassert add(2, 3) == 5, "add(2, 3) should be 5"\n'
     "### BEGIN HIDDEN TESTS\nimport solutions  # hidden tests can import the reference\n\n"
     'assert_close(add(np.arange(3.0), np.ones(3)), np.arange(3.0) + 1, "add on arrays")\n'
     "### END HIDDEN TESTS"),
    ("markdown", "ex2", None, "## Exercise 2 — mul (3 points)"),
    ("code", "mul-impl", ("tiny_mul_impl", "solution", None),
     'def mul(a, b):\n    """a * b, elementwise."""\n    ### BEGIN SOLUTION\n'
     "    return a * b\n    ### END SOLUTION"),
    ("code", "mul-tests", ("tiny_mul_tests", "grade", 3),
     '"""mul: an array by a scalar, then two numbers."""\n'
     'assert_close(mul(np.arange(4.0), 2.0), np.arange(4.0) * 2.0, "mul by a scalar")\n'
     "### BEGIN HIDDEN TESTS\nimport solutions\n\n"
     'assert_close(mul(3, 4), 12.0, "mul of two integers")\n### END HIDDEN TESTS'),
)  # fmt: skip


def tiny_notebook(rows=TINY_CELLS):
    """The source notebook of the tiny assignment (nbformat 4.5, nbgrader metadata), or
    of other `rows` like TINY_CELLS: (kind, cell id, (grade_id, role, points) or None,
    source), role one of "locked", "solution", "grade"."""
    cells = []
    for kind, cell_id, grading, text in rows:
        cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(
            text, id=cell_id
        )
        if grading:
            grade_id, role, points = grading
            meta = {
                "grade": role == "grade",
                "grade_id": grade_id,
                "locked": role != "solution",
                "schema_version": 3,
                "solution": role == "solution",
            }
            if points:
                meta["points"] = points
            cell.metadata["nbgrader"] = meta
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def tiny_course(root: Path) -> Course:
    """A released course with one assignment, `tiny` (add: 2 points, mul: 3 points): a
    submission of it grades in a few seconds. Tests and quick trials use it."""
    root = Path(root)
    (root / "source" / TINY).mkdir(parents=True)
    nbformat.write(tiny_notebook(), root / "source" / TINY / f"{TINY}.ipynb")
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    course = Course.at(root)
    release([TINY], root=course.root, db_url=course.db_url)
    return course


def tiny_submission(course: Course, *, add: str | None = None, mul: str | None = None) -> bytes:
    """A student's tiny.ipynb: the reference solution, with the add or mul exercise cell
    replaced by the given source."""
    nb = perfect_notebook(course, TINY, TINY)
    for cell in nb.cells:
        if cell.get("id") == "add-impl" and add is not None:
            cell.source = add
        if cell.get("id") == "mul-impl" and mul is not None:
            cell.source = mul
    return (nbformat.writes(nb) + "\n").encode()


def submit(
    course: Course, student: str, assignment: str, files: dict[str, bytes], *, when: str = ""
) -> Path:
    """Write a submission folder directly (what `collect` produces): files by name, and
    nbgrader's timestamp.txt."""
    folder = course.submitted / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "timestamp.txt").write_text(when or "2026-01-15 09:00:00.000000 UTC\n")
    return folder


# ---------------------------------------------------------------------------------------
# Goldens
# ---------------------------------------------------------------------------------------


def results_of(report) -> dict[str, dict]:
    """ "student/assignment" -> score, max_score and flags of a grading report."""
    return {
        f"{o.student}/{o.assignment}": {
            "score": o.score,
            "max_score": o.max_score,
            "status": o.status,
            "flags": list(o.flags),
        }
        for o in report.outcomes
    }


def load_goldens(path: Path = GOLDENS) -> dict[str, dict]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def save_goldens(results: dict[str, dict], path: Path = GOLDENS) -> None:
    """Merge `results` into the goldens file (a subset run updates only its entries)."""
    goldens = {**load_goldens(path), **results}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(goldens, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def drift(results: dict[str, dict], goldens: dict[str, dict]) -> list[str]:
    """Differences between `results` and the goldens, one line each."""
    lines = []
    for key in sorted(results):
        got, want = results[key], goldens.get(key)
        if want is None:
            lines.append(f"{key}: not in the goldens (got {got['score']}/{got['max_score']})")
            continue
        for what in ("score", "max_score", "status", "flags"):
            if got.get(what) != want.get(what):
                lines.append(f"{key}: {what} is {got.get(what)!r}, golden {want.get(what)!r}")
    return lines


def report_drift(counts: dict[str, dict], goldens: dict[str, dict]) -> list[str]:
    """Differences between the class report's counts and their goldens, one line each."""

    def flat(c: dict) -> dict:  # one entry per number that can drift
        return {**{k: v for k, v in c.items() if k != "outcomes"}, **c.get("outcomes", {})}

    lines = []
    for assignment in sorted(counts):
        got, want = flat(counts[assignment]), flat(goldens.get(assignment, {}))
        lines += [
            f"report {assignment} {key}: {got.get(key)}, golden {want.get(key)}"
            for key in sorted(set(got) | set(want))
            if got.get(key) != want.get(key)
        ]
    return lines


# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------


def score_table(report, assignments: list[str]) -> str:
    """Students × assignments, with totals (— where nothing was handed in)."""
    cells = {(o.student, o.assignment): o for o in report.outcomes}
    students = sorted({o.student for o in report.outcomes})
    short = [a.split("_")[0] for a in assignments]
    header = ["student", *short, "total"]
    rows = [header]
    for s in students:
        row, total, top = [s], 0.0, 0.0
        for a in assignments:
            o = cells.get((s, a))
            if o is None or o.score is None:
                row.append("—" if o is None else "failed")
                continue
            row.append(f"{o.score:g}/{o.max_score:g}")
            total += o.score
            top += o.max_score or 0
        row.append(f"{total:g}/{top:g}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The whole demo
# ---------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    course: Course
    assignments: list[str]
    report: object  # grade.GradeReport
    results: dict[str, dict]
    drift: list[str]
    feedback_dir: Path | None
    csv_path: Path | None
    seconds: float
    report_path: Path | None = None  # the class report's overview page
    class_reports: list = field(default_factory=list)  # report.AssignmentReport each
    counts: dict[str, dict] = field(default_factory=dict)  # report.counts per assignment


def run_demo(
    out: Path = DEFAULT_OUT,
    assignments: list[str] | None = None,
    *,
    workers: int | None = None,
    cell_timeout: int = DEMO_CELL_TIMEOUT,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Build the demo course, hand in the sample class, grade it, write feedback and the
    CSV. Returns the grading report and its drift from the goldens."""
    started = time.monotonic()
    course, names = build_course(Path(out), assignments)
    log(f"course root: {course.root} ({', '.join(names)} released)")
    log(hand_in(course, sample_class(course, names)))
    limits = replace(GRADING_LIMITS, cell_timeout=cell_timeout)
    report = grade(course, workers=workers or os.cpu_count(), limits=limits, progress=progress)
    feedback.write_all(course)
    feedback_dir = course.feedback
    csv_path = export.export_csv(course)
    overview, reports = class_report.write_reports(course)
    counts = {rep.assignment: class_report.counts(rep) for rep in reports}
    results = results_of(report)
    return DemoResult(
        course,
        names,
        report,
        results,
        drift(results, load_goldens()) + report_drift(counts, load_goldens(REPORT_GOLDENS)),
        feedback_dir,
        csv_path,
        time.monotonic() - started,
        overview,
        reports,
        counts,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="PATH",
        help=f"where to build the demo course (wiped first; default: {DEFAULT_OUT.name}/)",
    )
    parser.add_argument(
        "--assignments", nargs="+", metavar="NAME", help="default: every folder of source/"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count(), metavar="N")
    parser.add_argument(
        "--cell-timeout", type=int, default=DEMO_CELL_TIMEOUT, metavar="S", help="per cell"
    )
    parser.add_argument(
        "--update-goldens",
        action="store_true",
        help=f"write today's scores to {GOLDENS.relative_to(REPO)} (on purpose only)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        result = run_demo(
            args.out, args.assignments, workers=args.workers, cell_timeout=args.cell_timeout
        )
    except ReleaseError as exc:
        print(f"error: the demo course could not be released: {exc}", file=sys.stderr)
        return 1
    print()
    print(result.report.table())
    print()
    print(score_table(result.report, result.assignments))
    print()
    if result.feedback_dir:
        print(f"feedback: {result.feedback_dir}/<student>/<assignment>/<assignment>.html")
    if result.csv_path:
        print(f"grades CSV: {result.csv_path}")
    print(f"ledger: {result.course.state / 'ledger.jsonl'}")
    if result.report_path:
        print(f"class report: {result.report_path}")
        print("top mistakes of the class:")
        for line in class_report.course_top_mistakes(result.class_reports):
            print(f"  {line}")
    print(f"demo took {result.seconds:.0f} s")
    if args.update_goldens:
        save_goldens(result.results)
        save_goldens(result.counts, REPORT_GOLDENS)
        print(f"goldens updated: {GOLDENS}, {REPORT_GOLDENS.name}")
        return 0
    if result.drift:
        print("SCORES DRIFTED FROM THE GOLDENS:", file=sys.stderr)
        for line in result.drift:
            print(f"  {line}", file=sys.stderr)
        print(
            "if the change is intended: python -m autograder demo --update-goldens",
            file=sys.stderr,
        )
        return 1
    print(f"all {len(result.results)} scores and the report's counts match the goldens")
    return 0
