"""The grade verb on the tiny course (autograder.demo.tiny_course: add 2 points, mul 3).

One batch holds every kind of broken hand-in the threat model lists that is about the
notebook file or its cells (hostile *code* is in test_isolation.py); further tests cover
what nbgrader gets wrong by default (cells that never ran, deleted test cells), the
ledger (skip, force, kill -9 and restart), tamper overrides and worker crashes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from nbgrader import utils

from autograder import demo, handin
from autograder.layout import Course
from autograder.records import gradebook, grading, ledger, score
from autograder.records.grading import GRADING_LIMITS
from autograder.sandbox import backend, worker

REPO = Path(__file__).resolve().parents[2]
LIMITS = replace(GRADING_LIMITS, cell_timeout=15)
WRONG_ADD = "def add(a, b):\n    return a - b\n"
WRONG_MUL = "def mul(a, b):\n    return a + b\n"


def release_nb(course: Course) -> nbformat.NotebookNode:
    return nbformat.read(course.release / "tiny" / "tiny.ipynb", as_version=4)


def perfect_nb(course: Course, **bodies) -> nbformat.NotebookNode:
    return nbformat.reads(demo.tiny_submission(course, **bodies).decode(), as_version=4)


def dump(nb) -> bytes:
    return (nbformat.writes(nb) + "\n").encode()


def without(nb, *cell_ids):
    nb.cells = [c for c in nb.cells if c.get("id") not in cell_ids]
    return nb


def edit(nb, cell_id, fn):
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            fn(cell)
    return nb


def submit(course: Course, student: str, data: bytes, name: str = "tiny.ipynb") -> Path:
    return demo.submit(course, student, "tiny", {name: data})


def gradebook_grades(course: Course, student: str) -> dict[str, tuple]:
    with gradebook.open_gradebook(course) as gb:
        nb = gb.find_submission_notebook("tiny", "tiny", student)
        return {g.name: (g.auto_score, g.manual_score, g.score) for g in nb.grades}


@pytest.fixture
def course(tmp_path) -> Course:
    return demo.tiny_course(tmp_path / "course")


# ---------------------------------------------------------------------------------------
# Never-ran cells: the trap
# ---------------------------------------------------------------------------------------


def test_a_graded_cell_that_never_ran_scores_zero_not_full(course):
    """nbgrader gives full points to a test cell without outputs; mark_unrun fixes it."""
    nb = nbformat.read(course.source / "tiny" / "tiny.ipynb", as_version=4)
    graded = [c for c in nb.cells if utils.is_grade(c)]
    # As the executor leaves it: stopped in the first exercise cell, nothing after ran.
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    assert [utils.determine_grade(c)[0] for c in graded] == [2.0, 3.0]  # the trap
    marked = score.mark_unrun(nb, "cell_timeout")
    assert marked == ["tiny_add_tests", "tiny_mul_tests"]
    assert [utils.determine_grade(c)[0] for c in graded] == [0, 0]
    assert "not run: the notebook stopped at cell tiny_setup (cell_timeout)" in str(
        graded[0].outputs[0]["evalue"]
    )


def test_cells_that_ran_keep_their_grade(course):
    nb = nbformat.read(course.source / "tiny" / "tiny.ipynb", as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], i
    assert score.mark_unrun(nb, "ok") == []


# ---------------------------------------------------------------------------------------
# A batch of broken hand-ins
# ---------------------------------------------------------------------------------------


def _broken_class(course: Course) -> dict[str, tuple[float, list[str]]]:
    """Submit the class; return student -> (expected score, expected flag prefixes)."""
    rel = release_nb(course)
    nb44 = perfect_nb(course)
    nb44.nbformat_minor = 4
    for cell in nb44.cells:
        cell.pop("id", None)

    def strip(cell):
        del cell.metadata["nbgrader"]

    def replace_source(cell):
        cell.source = "pass"

    def promote(cell):
        cell.metadata["nbgrader"].update(solution=True, points=99)
        cell.source = "pass"

    cases = {
        "perfect": (dump(perfect_nb(course)), 5, []),
        "blank": (dump(rel), 0, []),
        "wrong_mul": (dump(perfect_nb(course, mul=WRONG_MUL)), 2, []),
        "loops_in_add": (
            dump(perfect_nb(course, add="while True:\n    pass\n")),
            0,
            ["cell_timeout in cell tiny_add_impl"],
        ),
        # test cells deleted, stripped, edited or turned into solution cells come back
        "deleted_test": (dump(without(perfect_nb(course, mul=WRONG_MUL), "mul-tests")), 2, []),
        "deleted_test_right": (dump(without(perfect_nb(course), "mul-tests")), 5, []),
        "stripped_test": (
            dump(edit(perfect_nb(course, add=WRONG_ADD), "add-tests", strip)),
            3,
            [],
        ),
        "edited_test": (
            dump(edit(perfect_nb(course, add=WRONG_ADD), "add-tests", replace_source)),
            3,
            [],
        ),
        "promoted_test": (
            dump(edit(perfect_nb(course, add=WRONG_ADD), "add-tests", promote)),
            3,
            [],
        ),
        "deleted_both": (dump(without(perfect_nb(course), "add-impl", "add-tests")), 3, []),
        # files that are not notebooks of the right version
        "invalid_json": (b'{"cells": [', 0, ["invalid notebook tiny.ipynb: is not valid JSON"]),
        "json_list": (b"[]", 0, ["invalid notebook tiny.ipynb: holds a JSON list"]),
        "nbformat3": (
            json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}).encode(),
            0,
            ["invalid notebook tiny.ipynb: is nbformat 3.0"],
        ),
        # older Jupyter versions save nbformat 4.4 (no cell ids): upgraded and graded
        "nbformat44": (dump(nb44), 5, []),
        "no_cells": (
            json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(),
            0,
            ["invalid notebook tiny.ipynb: has no list of cells"],
        ),
        "binary": (b"\xff\xfe\x00garbage", 0, ["invalid notebook tiny.ipynb: is not UTF-8"]),
    }  # fmt: skip
    expected = {}
    for student, (data, points, flags) in cases.items():
        submit(course, student, data)
        expected[student] = (points, flags)
    submit(course, "wrong_name", dump(perfect_nb(course)), name="tiny (1).ipynb")
    expected["wrong_name"] = (0, ["missing notebook tiny", "unexpected notebook tiny (1).ipynb"])
    return expected


@pytest.mark.sandbox  # its assertions are about what the sandbox prevents
@pytest.mark.slow
def test_batch_of_broken_submissions(course):
    expected = _broken_class(course)
    report = grading.grade(course, workers=2, limits=LIMITS, progress=False)
    got = {o.student: o for o in report.outcomes}
    problems = []
    for student, (points, flags) in sorted(expected.items()):
        o = got[student]
        if o.status != "graded" or o.score != points or o.max_score != 5:
            problems.append(f"{student}: {o.line()} (expected {points}/5)")
        for prefix in flags:
            if not any(f.startswith(prefix) for f in o.flags):
                problems.append(f"{student}: no flag starting {prefix!r} in {o.flags}")
        if not flags and o.flags and student != "loops_in_add":
            problems.append(f"{student}: unexpected flags {o.flags}")
    assert not problems, "\n".join(problems)
    assert "upgraded from nbformat 4.4 to 4.5" in got["nbformat44"].message

    # Every grade is a number, never None (deleted / stripped test cells included).
    for student in expected:
        grades = gradebook_grades(course, student)
        assert set(grades) == {"tiny_add_tests", "tiny_mul_tests"}, student
        assert all(auto is not None for auto, _, _ in grades.values()), (student, grades)

    # One ledger record per job, with the fields status and export read.
    records = ledger.latest(course)
    assert len(records) == len(expected)
    rec = records[("loops_in_add", "tiny")]
    assert rec["exec_status"] == "cell_timeout" and rec["score"] == 0.0
    assert rec["sha256"] == handin.submission_hash(
        handin.submission_notebooks(course.submitted / "loops_in_add" / "tiny")
    )
    # Each graded cell's outcome (tiny's tests run in the kernel: no verdict, so by its
    # points; the stubs as released are not attempted; an unreadable file, not submitted).
    outcomes = {
        s: {g: c["outcome"] for g, c in records[(s, "tiny")]["cells"].items()}
        for s in ("perfect", "blank", "wrong_mul", "invalid_json")
    }
    assert outcomes == {
        "perfect": {"tiny_add_tests": "passed", "tiny_mul_tests": "passed"},
        "blank": {"tiny_add_tests": "not_attempted", "tiny_mul_tests": "not_attempted"},
        "wrong_mul": {"tiny_add_tests": "passed", "tiny_mul_tests": "generic"},
        "invalid_json": {"tiny_add_tests": "not_submitted", "tiny_mul_tests": "not_submitted"},
    }
    assert records[("wrong_mul", "tiny")]["cells"]["tiny_add_tests"] == {
        "notebook": "tiny",
        "exercise": "1",
        "outcome": "passed",
        "mistake": None,
        "score": 2.0,
        "max_score": 2.0,
    }

    # The autograded notebook explains why a test that never ran got 0.
    nb = nbformat.read(course.autograded / "loops_in_add" / "tiny" / "tiny.ipynb", as_version=4)
    mul_tests = next(c for c in nb.cells if c.get("id") == "mul-tests")
    assert mul_tests.outputs[-1]["ename"] == "NotRun"
    # ... and an invalid one is scored from the release structure with every test failed.
    nb = nbformat.read(course.autograded / "invalid_json" / "tiny" / "tiny.ipynb", as_version=4)
    assert [c.outputs[0]["ename"] for c in nb.cells if utils.is_grade(c)] == ["NotGraded"] * 2
    # The hidden tests ran (restored from the gradebook) and are in the autograded copy.
    nb = nbformat.read(course.autograded / "perfect" / "tiny" / "tiny.ipynb", as_version=4)
    assert "BEGIN HIDDEN TESTS" in next(c for c in nb.cells if c.get("id") == "add-tests").source
    assert report.sandboxed is True


# ---------------------------------------------------------------------------------------
# Ledger: skip, force, restart
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_unchanged_submissions_are_skipped_and_force_regrades(course, capsys):
    from autograder.cli import main

    submit(course, "alice", dump(perfect_nb(course, mul=WRONG_MUL)))
    args = ["grade", "--course", str(course.root), "--quiet", "--cell-timeout", "15"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "2/5" in out and "1 graded" in out

    assert main(args) == 0
    assert "0 graded, 0 failed, 1 unchanged" in capsys.readouterr().out
    lines = ledger.path(course).read_text().splitlines()
    assert len(lines) == 1

    # Re-collecting the same file (new timestamp) is no change; a new notebook is.
    (course.submitted / "alice" / "tiny" / "timestamp.txt").write_text("2026-01-16 09:00:00 UTC")
    assert main(args) == 0
    assert "1 unchanged" in capsys.readouterr().out
    submit(course, "alice", dump(perfect_nb(course)))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "5/5" in out and "1 graded" in out
    assert main([*args, "--force"]) == 0
    assert "1 graded" in capsys.readouterr().out
    assert len(ledger.path(course).read_text().splitlines()) == 3

    # status (another verb) agrees that the submission is graded.
    from autograder.records import states

    (state,) = states.submission_states(course)
    assert state.state == "graded" and state.score == 5.0


def _scores(course: Course) -> dict[str, tuple[float, float]]:
    with gradebook.open_gradebook(course) as gb:
        return {
            s.student.id: (float(s.score), float(s.max_score))
            for s in gb.find_assignment("tiny").submissions
        }


@pytest.mark.slow
def test_kill_9_then_restart_loses_nothing_and_counts_nothing_twice(tmp_path):
    """SIGKILL the grading process once the first job is recorded; the rerun finishes."""
    base = demo.tiny_course(tmp_path / "base")
    bodies = {
        "s1": {},
        "s2": {"mul": WRONG_MUL},
        "s3": {"add": WRONG_ADD},
        "s4": {"add": WRONG_ADD, "mul": WRONG_MUL},
        "s5": {},
        "s6": {"mul": WRONG_MUL},
    }
    for student, b in bodies.items():
        submit(base, student, dump(perfect_nb(base, **b)))
    calm = Course(shutil.copytree(base.root, tmp_path / "calm"))
    killed = Course(shutil.copytree(base.root, tmp_path / "killed"))

    cmd = [sys.executable, "-m", "autograder", "grade", "--course", str(killed.root)]
    cmd += ["--workers", "1", "--quiet", "--cell-timeout", "15"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if ledger.path(killed).exists() and ledger.path(killed).read_text().strip():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the first run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(ledger.path(killed).read_text().splitlines())
    assert 1 <= done_before < len(bodies)

    report = grading.grade(killed, workers=2, limits=LIMITS, progress=False)
    assert len(report.skipped) == done_before
    assert len(report.graded) == len(bodies) - done_before
    grading.grade(calm, workers=2, limits=LIMITS, progress=False)
    want = {s: (points, 5.0) for s, points in _expected_points().items()}
    assert _scores(killed) == _scores(calm) == want
    # Every job is graded exactly once in the ledger: nothing lost, nothing twice.
    lines = [json.loads(x) for x in ledger.path(killed).read_text().splitlines()]
    assert sorted((r["student"], r["status"]) for r in lines) == [
        (s, "graded") for s in sorted(bodies)
    ]
    assert not [p for p in (killed.state / "work").rglob("*") if p.name.endswith(".tmp")]


def _expected_points() -> dict[str, float]:
    return {"s1": 5.0, "s2": 2.0, "s3": 3.0, "s4": 0.0, "s5": 5.0, "s6": 2.0}


# ---------------------------------------------------------------------------------------
# Tampering: a manual override the instructor can lift
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_tamper_is_zeroed_as_a_manual_override_and_lifted_when_clean(course):
    patched = "np.allclose = lambda *a, **k: True\n\n" + WRONG_MUL
    submit(course, "mallory", dump(perfect_nb(course, mul=patched)))
    report = grading.grade(course, limits=LIMITS, progress=False)
    (o,) = report.outcomes
    assert o.score == 0
    assert any(f.startswith("tamper:patches-module: assigns numpy.allclose") for f in o.flags)
    grades = gradebook_grades(course, "mallory")
    assert {manual for _, manual, _ in grades.values()} == {0.0}
    with gradebook.open_gradebook(course) as gb:
        nb = gb.find_submission_notebook("tiny", "tiny", "mallory")
        comments = [c.manual_comment for c in nb.comments]
        assert all(c.startswith(score.INTEGRITY_MARK) for c in comments), comments
        assert all(g.needs_manual_grade for g in nb.grades)

    # --on-tamper flag: the autograder's scores stand (the patch fooled mul's tests).
    report = grading.grade(course, force=True, on_tamper="flag", limits=LIMITS, progress=False)
    (o,) = report.outcomes
    assert o.score == 5 and any(f.startswith("tamper:") for f in o.flags)
    assert {manual for _, manual, _ in gradebook_grades(course, "mallory").values()} == {None}

    # Zeroed again, then a clean resubmission lifts the override.
    grading.grade(course, force=True, limits=LIMITS, progress=False)
    submit(course, "mallory", dump(perfect_nb(course, mul=WRONG_MUL)))
    (o,) = grading.grade(course, limits=LIMITS, progress=False).outcomes
    assert o.score == 2 and o.flags == ()
    assert {manual for _, manual, _ in gradebook_grades(course, "mallory").values()} == {None}


@pytest.mark.slow
def test_an_instructor_override_survives_regrading(course):
    """A manual score the instructor set (after review) is never replaced by ours."""
    patched = "np.allclose = lambda *a, **k: True\n\n" + WRONG_MUL
    submit(course, "mallory", dump(perfect_nb(course, mul=patched)))
    grading.grade(course, limits=LIMITS, progress=False)
    with gradebook.open_gradebook(course) as gb:
        nb = gb.find_submission_notebook("tiny", "tiny", "mallory")
        for g in nb.grades:
            g.manual_score = 1.0
        for c in nb.comments:
            c.manual_comment = "reviewed: a harmless experiment"
        gb.db.commit()
    (o,) = grading.grade(course, force=True, limits=LIMITS, progress=False).outcomes
    assert o.score == 2.0  # 1 + 1, the instructor's
    assert {manual for _, manual, _ in gradebook_grades(course, "mallory").values()} == {1.0}


# ---------------------------------------------------------------------------------------
# Pipeline robustness
# ---------------------------------------------------------------------------------------


def _fake_run_job(job):
    if job.student == "crash":
        os._exit(3)  # the worker process dies, as if killed for memory
    return worker.encode_result(worker.JobResult(job, f"sha-{job.student}", []))


@pytest.mark.slow  # five worker processes start, two of them after a death
def test_a_worker_crash_costs_that_job_only(workers_import_tests):
    """The job that kills its worker process every time is handed back as stuck after
    backend.WORKER_DEATHS deaths (the grading process records it for a person, never as a
    score); the other jobs, some in workers that took over, complete normally."""
    jobs = [worker.Job(s, "a", ("a",)) for s in ("s1", "crash", "s2", "s3", "s4")]
    results, stuck = [], []
    with backend.connect(backend.Cluster(workers=2), jobs=len(jobs)) as client:
        backend.run_jobs(
            client,
            jobs,
            results.append,
            lambda j, why: stuck.append((j, why)),
            task=_fake_run_job,
        )
    assert sorted(r.job.student for r in results) == ["s1", "s2", "s3", "s4"]
    assert all(r.error is None for r in results)
    ((job, why),) = stuck
    assert job.student == "crash" and f"died {backend.WORKER_DEATHS} times" in why


def test_jobs_are_planned_in_a_deterministic_order(course):
    for student in ("zoe", "adam", "mia"):
        submit(course, student, dump(perfect_nb(course)))
    jobs, skipped = grading.plan_jobs(course)
    assert [j.student for j in jobs] == ["adam", "mia", "zoe"] and not skipped
    # The jobs name the assignment's bundle and carry no path of the course.
    assert len({j.bundle for j in jobs}) == 1 and len(jobs[0].bundle) == 64
    assert jobs[0].grader and not jobs[0].files
    assert str(course.root) not in repr(jobs[0])
    with pytest.raises(ValueError, match="unknown assignment"):
        grading.plan_jobs(course, ["nope"])
    with pytest.raises(ValueError, match="no submissions from"):
        grading.plan_jobs(course, students=["nobody"])


def test_job_pickles():
    import pickle

    job = worker.Job("s", "a", ("a",), bundle="0" * 64, files=(("a.ipynb", b"{}"),))
    assert pickle.loads(pickle.dumps(job)) == job
    result = worker.JobResult(job, "sha", [worker.NotebookResult("a", "ok", executed="{}")])
    back = worker.decode_result(worker.encode_result(result), job)
    assert back.notebooks == result.notebooks and back.sha256 == "sha"


@pytest.mark.slow
def test_warns_loudly_without_the_sandbox(course, monkeypatch, tmp_path):
    # No bwrap on PATH, here and in the worker processes (spawned: they get the
    # environment, not this process's objects).
    from autograder.sandbox import bwrap

    monkeypatch.setenv("PATH", str(tmp_path))
    submit(course, "alice", dump(perfect_nb(course)))
    said = []
    bwrap.sandbox_available.cache_clear()
    try:
        report = grading.grade(course, limits=LIMITS, progress=False, log=said.append)
    finally:
        bwrap.sandbox_available.cache_clear()  # the next test looks again, PATH restored
    assert report.sandboxed is False
    assert any("NOT available" in s and "bwrap" in s for s in said)
    assert report.outcomes[0].score == 5


def test_unreleased_assignment_is_a_clear_error(tmp_path):
    root = tmp_path / "c"
    (root / "source" / "tiny").mkdir(parents=True)
    nbformat.write(demo.tiny_notebook(), root / "source" / "tiny" / "tiny.ipynb")
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    with pytest.raises(ValueError, match="release"):
        grading.plan_jobs(Course.at(root))
