"""Hostile submissions, end to end through `grade`, in one batch with an honest student.

Every hostile student of the tiny course (autograder.demo.tiny_course) does exercise 1
(add, 2 points) right and puts the hostile code in exercise 2's cell (mul, 3 points),
followed by a correct `mul`. So the score says how far the student's own work got: 2
when the hostile code stopped the cell (or the notebook), 5 when it ran to the end and
was harmless to the grade, 0 with a tamper flag when it tried to change the grading.
Where the code tries to read something it must not see, it defines a correct `mul`
only if the read succeeded: 2 proves the read failed. Nothing blocks the batch, and the
honest student's score equals its score when graded alone.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from autograder import demo
from autograder.layout import Course
from autograder.records import grading
from autograder.records.grading import GRADING_LIMITS

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 12
LIMITS = replace(GRADING_LIMITS, cell_timeout=CELL_TIMEOUT)
RIGHT_MUL = "\ndef mul(a, b):\n    return a * b\n"
WRONG_MUL = "\ndef mul(a, b):\n    return a + b\n"
# mul is right only if the hostile code got what it wanted (`got` is True).
MUL_IF_GOT = "\ndef mul(a, b):\n    return a * b if got else a + b\n"


def _read_attempt(path_expr: str) -> str:
    """Code that tries to read a file; `got` says whether it could. The path is built at
    run time so that no string literal names the grader's files (the static scan would
    zero the student before the sandbox is even tested)."""
    return (
        f"path = {path_expr}\n"
        "try:\n"
        "    with open(path, 'rb') as f:\n"
        "        got = len(f.read()) > 0\n"
        "except OSError:\n"
        "    got = False\n"
    )


def hostile_cases(root: Path, port: int, marker: str) -> dict[str, tuple[str, int, list[str]]]:
    """student -> (mul cell source, expected score, expected flag prefixes)."""
    r = str(root)
    outside = f"/tmp/{marker}-outside.txt"
    return {
        "raises": ("raise RuntimeError('boom')\n" + RIGHT_MUL, 2, []),
        "loops": ("while True:\n    pass\n" + RIGHT_MUL, 2, ["cell_timeout in cell tiny_mul_impl"]),
        "ignores_sigint": (
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "while True:\n    pass\n" + RIGHT_MUL,
            2,
            ["cell_timeout in cell tiny_mul_impl", "suspicious:imports-system: handles signals"],
        ),
        "allocates_10gb": ("big = bytearray(10 * 1024**3)\nbig[::4096] = b'x' * len(big[::4096])\n"
                           + RIGHT_MUL, 2, []),
        "fork_bomb": ("import os\nwhile True:\n    os.fork()\n" + RIGHT_MUL, 2,
                      ["suspicious:process-control: forks processes"]),
        "kills_kernel": ("import os\nos._exit(1)\n" + RIGHT_MUL, 2,
                         ["kernel_died in cell tiny_mul_impl",
                          "suspicious:process-control: kills its own kernel"]),
        "prints_300mb": ("print('x' * 300_000_000)\n" + RIGHT_MUL, 5, ["output_limit"]),
        "writes_outside": (
            f"targets = [{r!r} + '/planted.txt', {r!r} + '/sour' + 'ce/tiny/planted.txt',\n"
            f"           {r!r} + '/release/tiny/tiny.ipynb', {outside!r}]\n"
            "for target in targets:\n"
            "    try:\n"
            "        with open(target, 'w') as f:\n"
            "            f.write('planted')\n"
            "    except OSError:\n"
            "        pass\n" + RIGHT_MUL,
            5,
            [],
        ),
        "network": (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
            "    got = True\nexcept OSError:\n    got = False\n" + MUL_IF_GOT,
            2,
            ["suspicious:imports-system: opens network connections"],
        ),
        "reads_hidden_tests": (
            _read_attempt(f"{r!r} + '/sour' + 'ce/tiny/tiny.ipynb'") + MUL_IF_GOT, 2, []
        ),
        "reads_own_sanitized_copy": (
            # the notebook being executed (hidden tests restored) is masked in the sandbox
            "with open('tiny.ipynb') as f:\n    got = 'HIDDEN' in f.read()\n" + MUL_IF_GOT, 2, []
        ),
        "reads_other_student": (
            _read_attempt(f"{r!r} + '/submit' + 'ted/honest/tiny/tiny.ipynb'") + MUL_IF_GOT, 2, []
        ),
        "reads_gradebook": (_read_attempt(f"{r!r} + '/gradebook' + '.db'") + MUL_IF_GOT, 2, []),
        "imports_solutions": ("import solutions\n" + RIGHT_MUL, 0,
                              ["tamper:imports-grader: imports solutions"]),
        "patches_numpy": ("np.allclose = lambda *a, **k: True\n" + WRONG_MUL, 0,
                          ["tamper:patches-module: assigns numpy.allclose"]),
        "patches_np_testing": (
            "np.testing.assert_allclose = lambda *a, **k: None\n" + WRONG_MUL, 0,
            ["tamper:patches-module: assigns numpy.testing.assert_allclose"],
        ),
        "patches_helpers": (
            "import course.checks\ncourse.checks.assert_close = lambda *a, **k: None\n"
            + WRONG_MUL, 0, ["tamper:patches-module: assigns course.checks.assert_close"],
        ),
    }  # fmt: skip


@pytest.mark.sandbox  # its assertions are about what the sandbox prevents
def test_hostile_batch(tmp_path, capsys):
    course: Course = demo.tiny_course(tmp_path / "course")
    marker = f"{tmp_path.name}-{uuid.uuid4().hex[:8]}"  # never a leftover of an earlier run
    demo.submit(course, "honest", "tiny", {"tiny.ipynb": demo.tiny_submission(course)})
    solo = grading.grade(course, limits=LIMITS, progress=False)
    (honest_alone,) = solo.outcomes
    assert honest_alone.score == 5

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    cases = hostile_cases(course.root, port, marker)
    for student, (mul, _, _) in cases.items():
        data = demo.tiny_submission(course, mul=mul)
        demo.submit(course, student, "tiny", {"tiny.ipynb": data})
    (course.release / "tiny" / "before.txt").write_text(
        (course.release / "tiny" / "tiny.ipynb").read_text()
    )

    started = time.monotonic()
    report = grading.grade(course, workers=2, force=True, limits=LIMITS, progress=False)
    seconds = time.monotonic() - started
    got = {o.student: o for o in report.outcomes}

    with capsys.disabled():
        print(f"\nhostile batch: {len(report.outcomes)} jobs in {seconds:.0f} s (2 workers)")
        for o in report.outcomes:
            print(f"  {o.line()}  [{o.seconds:.1f} s]")

    problems = []
    for student, (_, points, flags) in sorted(cases.items()):
        o = got[student]
        if o.status != "graded" or o.score != points:
            problems.append(f"{student}: {o.line()} (expected {points}/5)")
        for prefix in flags:
            if not any(f.startswith(prefix) for f in o.flags):
                problems.append(f"{student}: no flag starting {prefix!r} in {list(o.flags)}")
        if o.seconds > 4 * CELL_TIMEOUT + 60:
            problems.append(f"{student}: took {o.seconds:.0f} s")
    assert not problems, "\n".join(problems)

    # The honest student of the same batch gets exactly its solo score.
    assert got["honest"].score == honest_alone.score and got["honest"].flags == ()

    # Nothing was written outside the submission's own folder, nor reached the host.
    assert not (course.root / "planted.txt").exists()
    assert not (course.source / "tiny" / "planted.txt").exists()
    assert (course.release / "tiny" / "tiny.ipynb").read_text() == (
        course.release / "tiny" / "before.txt"
    ).read_text()
    assert not Path(f"/tmp/{marker}-outside.txt").exists()
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    assert report.sandboxed is True
