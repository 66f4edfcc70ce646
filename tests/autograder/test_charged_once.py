"""A mistake costs points once, in its own exercise (issue: cascades were a third of the
points lost). A later function is checked, and graded, with correct versions of the
earlier exercises' functions it calls (`course.checks._core.correct_helpers`); its cell
says so when the student's own version fails."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.judging import judge
from course.checks import channels, conv, padding, pooling
from course.checks._oracle import HELPERS
from course.probe import MIME, run_calls

REPO = Path(__file__).resolve().parents[2]
SEED = "charged-once"


def _source(assignment: str):
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def _wrong(name: str, good):
    """A version of `name` with a mistake of its own (off by one everywhere)."""

    def wrong(*args, **kwargs):
        return good(*args, **kwargs) + 1

    wrong.__name__ = name
    return wrong


#: helper -> (assignment, a function of that notebook that calls it)
USERS = {
    "corr2d": ("01_convolution", "conv2d_true"),
    "output_size": ("02_padding_stride", "corr2d_padded"),
    "pad2d": ("02_padding_stride", "corr2d_padded"),
    "corr2d_padded": ("02_padding_stride", "corr2d_dilated"),
    "corr2d_multi_in": ("03_channels", "corr2d_multi_in_out"),
    "pool2d": ("04_pooling", "pool2d_channels"),
}


def _graded(assignment: str, student: dict) -> dict[str, judge.Verdict]:
    source = _source(assignment)
    plans = judge.plan_notebook(source, SEED)
    verdicts = {}
    for gid, plan in plans.items():
        report = json.loads(json.dumps(run_calls(json.loads(json.dumps(plan.calls)), student)))
        payload = {"grade_id": gid, "nonce": judge.nonce(SEED), "results": report}
        cell = {"outputs": [{"output_type": "display_data", "data": {MIME: payload}}]}
        results = judge.probe_report(cell, plan, SEED)
        verdicts[gid] = judge.judge_report(plan, results, judge.checks_module(source))
    return judge.charged_once(verdicts, plans, judge.helper_calls(source))


@pytest.mark.parametrize("helper", list(USERS))
def test_a_wrong_helper_costs_points_only_in_its_own_exercise(helper):
    assignment, user = USERS[helper]
    source = _source(assignment)
    # The notebook's own answers, in one namespace (the functions' globals), as a kernel.
    student = judge.reference_namespace(source, prefer_solutions=False)
    student[helper] = _wrong(helper, student[helper])
    verdicts = _graded(assignment, student)
    plans = judge.plan_notebook(source, SEED)
    failed = {gid for gid, v in verdicts.items() if not v.passed}
    own = {gid for gid, p in plans.items() if helper in p.spec.names}
    assert failed and failed <= own, {g: verdicts[g].message for g in failed - own}
    users = [g for g, p in plans.items() if user in p.spec.names]
    assert users and all(verdicts[g].passed for g in users)
    assert all(f"Graded with a correct {helper}" in verdicts[g].message for g in users)
    assert student[helper].__name__ == helper  # the student's own version is back


CHECKS = {
    "conv2d_true": conv.check_conv2d_true,
    "corr2d_padded": padding.check_corr2d_padded,
    "corr2d_dilated": padding.check_corr2d_dilated,
    "corr2d_multi_in_out": channels.check_corr2d_multi_in_out,
    "pool2d_channels": pooling.check_pool2d_channels,
}


@pytest.mark.parametrize("helper", list(USERS))
def test_the_visible_check_says_so_and_grades_only_its_own_logic(helper):
    assignment, user = USERS[helper]
    student = judge.reference_namespace(_source(assignment), prefer_solutions=False)
    student[helper] = _wrong(helper, student[helper])
    out = io.StringIO()
    with redirect_stdout(out):
        CHECKS[user](student[user])
    text = " ".join(out.getvalue().split())
    assert f"{user} calls your {helper}, which does not pass {HELPERS[helper].exercise}" in text
    assert f"✓ {user}" in text
    assert student[helper].__name__ == helper


def test_a_correct_helper_gets_no_note_and_a_missing_one_is_supplied():
    student = judge.reference_namespace(_source("01_convolution"), prefer_solutions=False)
    out = io.StringIO()
    with redirect_stdout(out):
        conv.check_conv2d_true(student["conv2d_true"])
    assert "calls your" not in out.getvalue()
    del student["corr2d"]  # not written yet: the later exercise can still be checked
    with redirect_stdout(io.StringIO()):
        conv.check_conv2d_true(student["conv2d_true"])
    assert "corr2d" not in student


def test_helpers_stand_ins_agree_with_the_reference():
    import solutions

    for name, helper in HELPERS.items():
        ref = getattr(solutions, name, None)
        for args, kwargs in helper.probes:
            if ref is not None:
                np.testing.assert_allclose(helper.good(*args, **kwargs), ref(*args, **kwargs))
