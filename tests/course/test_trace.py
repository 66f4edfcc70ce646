"""What the values were on the student's line that raised (course/checks/_trace.py)."""

from __future__ import annotations

import numpy as np
import pytest

from course.checks import Case, CheckFailed, check
from course.checks._trace import explain
from tests.course.test_repair import student


def _message(check_fn, fn) -> str:
    with pytest.raises(CheckFailed) as info:
        check_fn(fn)
    assert info.value.mistake == "raised"
    return " ".join(str(info.value).split())


def test_a_broadcasting_error_says_each_arrays_shape_and_where_it_was_made():
    """The sum is started with the input's size: the message says which array had which
    shape, and quotes the line that made the wrong one."""
    corr2d_multi_in = student(
        """
        def corr2d_multi_in(X, K):
            Y = np.zeros_like(X[0])
            for c in range(X.shape[0]):
                Y += corr2d(X[c], K[c])
            return Y
        """,
        corr2d=lambda X, K: conv_reference(X, K),
    )
    text = _message(conv_check_multi_in(), corr2d_multi_in)
    assert "On that line (line 5 of your corr2d_multi_in, `Y += corr2d(X[c], K[c])`)" in text
    assert "`K[c]` has shape (2, 2)" in text
    assert "`Y` (3, 3) was made in line 3, `Y = np.zeros_like(X[0])`" in text


def test_an_index_out_of_range_says_the_index_and_the_sizes():
    def first_three(X):
        total = X[0] + X[1]
        return total + X[2]

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3))
    with pytest.raises(CheckFailed) as info:
        check(first_three, name="first_three", cases=[Case("two rows", (X,), X.sum(axis=0))])
    text = " ".join(str(info.value).split())
    assert "`X` has shape (2, 3)" in text
    assert "`total` (3,) was made in line" in text


def test_nothing_is_called_to_explain_and_a_line_of_calls_says_nothing():
    """Only names, indexing, `.T`/`.shape` and arithmetic are read: a line made of calls
    alone gets no sentence, and no function of the student's runs again."""
    calls = []

    def counted(x):
        calls.append(x)
        return np.ones((2, 2))

    def stacked(a):
        return np.hstack([counted(1), np.zeros((3, 1))])

    try:
        stacked(0)
    except ValueError as exc:
        assert explain(exc) == ""
    assert calls == [1]


def test_an_exception_without_a_frame_of_the_students_says_nothing():
    try:
        np.zeros((2, 2)) + np.zeros((3, 3))
    except ValueError as exc:
        assert explain(exc) == ""


def conv_reference(X, K):
    import solutions

    return solutions.corr2d(X, K)


def conv_check_multi_in():
    from course.checks import channels

    return channels.check_corr2d_multi_in
