"""Misconception suite for course.checks.padding (assignment 02, padding and stride).

For every catalogued mistake, a deliberately wrong implementation, written the way a
student would get it wrong, is run through its check: the check must name that mistake.
The reference implementations (from `solutions`) pass, and wrong answers that match no
catalogued mistake get the generic message with the lecture pointer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import solutions
from course.checks import CheckFailed, answer_digest
from course.checks import padding as checks


def _noise(a):
    """A wrong answer that no transformation of the right one explains: seeded noise."""
    a = np.asarray(a, dtype=float)
    return a + np.random.default_rng(99).standard_normal(a.shape)


# ---------------------------------------------------------------------------------------
# Loop versions a student could write, with a switch for each catalogued mistake.
# ---------------------------------------------------------------------------------------


def _sides(padding):
    if np.isscalar(padding):  # an int of Python's or of numpy's
        return (padding, padding), (padding, padding)
    if np.isscalar(padding[0]):
        return (padding[0], padding[0]), (padding[1], padding[1])
    return tuple(padding[0]), tuple(padding[1])


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def pad2d_student(X, padding, *, bug=None):
    nested = not np.isscalar(padding) and isinstance(padding[0], tuple)
    (top, bottom), (left, right) = _sides(padding)
    if bug == "rows_cols_swapped":
        (top, bottom), (left, right) = (left, right), (top, bottom)
    if bug == "total_as_per_side" and not nested:
        top, bottom = math.ceil(top / 2), top // 2
        left, right = math.ceil(left / 2), left // 2
    if bug == "nested_order_misread" and nested:
        (top, left), (bottom, right) = padding
    if bug == "numpy_pair_semantics":
        return np.pad(X, padding)
    H, W = X.shape
    if bug == "one_sided":
        Y = np.zeros((H + top, W + left))
        Y[top:, left:] = X
        return Y
    Y = np.zeros((H + top + bottom, W + left + right))
    if bug == "offset_forgotten":
        Y[:H, :W] = X
        return Y
    if bug == "returns_input":
        return X
    Y[top : top + H, left : left + W] = X
    return Y


def corr2d_padded_student(X, K, *, padding=0, stride=1, bug=None):
    sh, sw = _pair(stride)
    if bug == "stride_rows_cols_swapped":
        sh, sw = sw, sh
    if bug == "stride_ignored":
        sh, sw = 1, 1
    (top, bottom), (left, right) = _sides(padding)
    if bug == "padding_rows_cols_swapped":
        (top, bottom), (left, right) = (left, right), (top, bottom)
    if bug == "padding_ignored":
        top = bottom = left = right = 0
    H, W = X.shape
    KH, KW = K.shape
    if bug == "padding_one_sided":
        Xp = np.zeros((H + top + bottom, W + left + right))
        Xp[:H, :W] = X
    else:
        Xp = pad2d_student(X, ((top, bottom), (left, right)))
    if bug == "kernel_flipped":
        K = K[::-1, ::-1]
    if bug == "stride_applied_to_input_not_output":
        Xp = Xp[::sh, ::sw]
        sh = sw = 1
    if bug == "output_size_without_padding":
        H_out = (H - KH) // sh + 1
        W_out = (W - KW) // sw + 1
    else:
        H_out = (Xp.shape[0] - KH) // sh + 1
        W_out = (Xp.shape[1] - KW) // sw + 1
    if bug == "output_off_by_one":
        H_out, W_out = H_out - 1, W_out - 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y


def corr2d_dilated_student(X, K, *, dilation=1, padding=0, stride=1, bug=None):
    dh, dw = _pair(dilation)
    if bug == "dilation_ignored":
        dh = dw = 1
    if bug == "dilation_rows_cols_swapped":
        dh, dw = dw, dh
    sh, sw = _pair(stride)
    Xp = pad2d_student(X, padding)
    KH, KW = K.shape
    if bug == "dilation_applied_to_input":
        return corr2d_padded_student(Xp[::dh, ::dw], K, stride=(sh, sw))
    span_h, span_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    if bug == "footprint_too_large":
        span_h, span_w = dh * KH, dw * KW
    H_out = (Xp.shape[0] - span_h) // sh + 1
    W_out = (Xp.shape[1] - span_w) // sw + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = Xp[i * sh : i * sh + span_h : dh, j * sw : j * sw + span_w : dw]
            Y[i, j] = np.sum(window[:KH, :KW] * K)
    return Y


# ---------------------------------------------------------------------------------------
# Wrong formulas, written as a student would
# ---------------------------------------------------------------------------------------

OUTPUT_SIZE_WRONG = {
    "padding_counted_once": lambda n, k, *, padding=0, stride=1: (n + padding - k) // stride + 1,
    "plus_one_forgotten": lambda n, k, *, padding=0, stride=1: (n + 2 * padding - k) // stride,
    "stride_ignored": lambda n, k, *, padding=0, stride=1: n + 2 * padding - k + 1,
    "true_division": lambda n, k, *, padding=0, stride=1: (n + 2 * padding - k) / stride + 1,
    "ceil_instead_of_floor": lambda n, k, *, padding=0, stride=1: (
        math.ceil((n + 2 * padding - k) / stride) + 1
    ),
    "returns_float": lambda n, k, *, padding=0, stride=1: (
        np.floor((n + 2 * padding - k) / stride) + 1
    ),
}

OUTPUT_SIZE_TOTAL_WRONG = {
    "padding_doubled": lambda n, k, *, total_padding=0, stride=1: (
        (n - k + 2 * total_padding + stride) // stride
    ),
    "plus_s_forgotten": lambda n, k, *, total_padding=0, stride=1: (
        (n - k + total_padding) // stride
    ),
    "stride_ignored": lambda n, k, *, total_padding=0, stride=1: n - k + total_padding + 1,
    "true_division": lambda n, k, *, total_padding=0, stride=1: (
        (n - k + total_padding + stride) / stride
    ),
    "ceil_instead_of_floor": lambda n, k, *, total_padding=0, stride=1: math.ceil(
        (n - k + total_padding + stride) / stride
    ),
    "returns_float": lambda n, k, *, total_padding=0, stride=1: float(
        (n - k + total_padding + stride) // stride
    ),
}

SAME_PADDING_WRONG = {
    "total_not_halved": lambda k: (k - 1, k - 1),
    "all_on_one_side": lambda k: (k - 1, 0),
    "sides_swapped": lambda k: ((k - 1) // 2, math.ceil((k - 1) / 2)),
    "floor_both_sides": lambda k: ((k - 1) // 2, (k - 1) // 2),
    "half_kernel_both_sides": lambda k: (k // 2, k // 2),
    "returns_float": lambda k: (math.ceil((k - 1) / 2), (k - 1) / 2 // 1),
    "not_a_tuple": lambda k: [k - 1 - (k - 1) // 2, (k - 1) // 2],  # the docstring's tuple
}


def _named(check, fn):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return info.value


# ---------------------------------------------------------------------------------------
# Each catalogued mistake is named by its check
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(OUTPUT_SIZE_WRONG))
def test_output_size_mistakes_are_named(key):
    err = _named(checks.check_output_size, OUTPUT_SIZE_WRONG[key])
    assert err.mistake == key
    if key not in ("returns_float", "not_a_tuple"):
        says = next(m.says for m in checks.OUTPUT_SIZE_MISTAKES if m.key == key)
        assert f"It looks like {says}" in str(err)
    else:
        assert "must be an int" in str(err)


@pytest.mark.parametrize("key", sorted(OUTPUT_SIZE_TOTAL_WRONG))
def test_output_size_total_mistakes_are_named(key):
    err = _named(checks.check_output_size_total, OUTPUT_SIZE_TOTAL_WRONG[key])
    assert err.mistake == key
    if key not in ("returns_float", "not_a_tuple"):
        says = next(m.says for m in checks.OUTPUT_SIZE_TOTAL_MISTAKES if m.key == key)
        assert f"It looks like {says}" in str(err)


@pytest.mark.parametrize("key", [m.key for m in checks.PAD2D_MISTAKES])
def test_pad2d_mistakes_are_named(key):
    err = _named(checks.check_pad2d, lambda X, p: pad2d_student(X, p, bug=key))
    assert err.mistake == key
    says = next(m.says for m in checks.PAD2D_MISTAKES if m.key == key)
    assert f"It looks like {says}" in str(err)
    assert "expected" in str(err) and "got" in str(err)


@pytest.mark.parametrize("key", sorted(SAME_PADDING_WRONG))
def test_same_padding_mistakes_are_named(key):
    err = _named(checks.check_same_padding, SAME_PADDING_WRONG[key])
    assert err.mistake == key
    if key not in ("returns_float", "not_a_tuple"):
        says = next(m.says for m in checks.SAME_PADDING_MISTAKES if m.key == key)
        assert f"It looks like {says}" in str(err)


@pytest.mark.parametrize("key", [m.key for m in checks.CORR2D_PADDED_MISTAKES])
def test_corr2d_padded_mistakes_are_named(key):
    def wrong(X, K, *, padding=0, stride=1):
        return corr2d_padded_student(X, K, padding=padding, stride=stride, bug=key)

    err = _named(checks.check_corr2d_padded, wrong)
    assert err.mistake == key
    says = next(m.says for m in checks.CORR2D_PADDED_MISTAKES if m.key == key)
    assert f"It looks like {says}" in str(err)


@pytest.mark.parametrize("key", [m.key for m in checks.CORR2D_DILATED_MISTAKES])
def test_corr2d_dilated_mistakes_are_named(key):
    def wrong(X, K, *, dilation=1, padding=0, stride=1):
        return corr2d_dilated_student(
            X, K, dilation=dilation, padding=padding, stride=stride, bug=key
        )

    err = _named(checks.check_corr2d_dilated, wrong)
    assert err.mistake == key
    says = next(m.says for m in checks.CORR2D_DILATED_MISTAKES if m.key == key)
    assert f"It looks like {says}" in str(err)


def test_every_catalogued_mistake_has_a_wrong_implementation():
    """The suite above covers the whole catalogue (a new Mistake needs a test)."""
    assert {m.key for m in checks.OUTPUT_SIZE_MISTAKES} <= set(OUTPUT_SIZE_WRONG)
    assert {m.key for m in checks.OUTPUT_SIZE_TOTAL_MISTAKES} <= set(OUTPUT_SIZE_TOTAL_WRONG)
    assert {m.key for m in checks.SAME_PADDING_MISTAKES} <= set(SAME_PADDING_WRONG)


# ---------------------------------------------------------------------------------------
# The references pass; the student-style loops without bugs pass too
# ---------------------------------------------------------------------------------------


def _reference_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = _pair(dilation)
    KH, KW = K.shape
    Kd = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    Kd[::dh, ::dw] = K
    return solutions.corr2d_padded(X, Kd, padding=padding, stride=stride)


@pytest.mark.parametrize(
    ("check", "fn"),
    [
        (checks.check_output_size, solutions.output_size),
        (checks.check_output_size_total, solutions.output_size_total),
        (checks.check_pad2d, solutions.pad2d),
        (checks.check_same_padding, solutions.same_padding),
        (checks.check_corr2d_padded, solutions.corr2d_padded),
        (checks.check_corr2d_dilated, _reference_dilated),
        (checks.check_pad2d, pad2d_student),
        (checks.check_corr2d_padded, corr2d_padded_student),
        (checks.check_corr2d_dilated, corr2d_dilated_student),
    ],
)
def test_references_pass(check, fn, capsys):
    assert check(fn) is None
    assert "✓" in capsys.readouterr().out


def test_quiz_answers_are_accepted_by_digest(capsys):
    """The digests in the check module are those of the values solutions computes."""
    rows = solutions.output_size(7, 3, stride=2)
    checks.check_q2((rows, rows))
    fit = solutions.output_size(7, 3, stride=3)
    unused = 7 - ((fit - 1) * 3 + 3)
    checks.check_fit_quiz((fit, fit, unused))
    checks.check_fit_quiz([float(fit), fit, np.int64(unused)])
    out = capsys.readouterr().out
    assert out.count("correct") == 3, out
    assert answer_digest((rows, rows)) == checks.Q2_DIGEST


@pytest.mark.parametrize(
    ("answer", "mistake", "words"),
    [
        ((2, 2), "wrong_answer", "not right"),
        ((4, 4), "wrong_answer", "not right"),
        (None, "not_answered", "no answer yet"),
        (Ellipsis, "not_answered", "no answer yet"),
    ],
)
def test_q2_wrong_answers(answer, mistake, words):
    err = _named(checks.check_q2, answer)
    assert err.mistake == mistake and words in str(err)


@pytest.mark.parametrize(
    ("answer", "part"),
    [
        ((3, 3, 1), "output shape"),
        ((2, 2, 0), "no window touches"),
        ((2, 2), "three numbers"),
        ("two", "three numbers"),
    ],
)
def test_fit_quiz_wrong_answers_name_the_wrong_part(answer, part):
    err = _named(checks.check_fit_quiz, answer)
    assert err.mistake == "wrong_answer"
    assert part in str(err)


# ---------------------------------------------------------------------------------------
# Unrecognised wrong answers still get expected vs got and the pointer
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "fn", "pointer"),
    [
        (checks.check_output_size, lambda n, k, *, padding=0, stride=1: n + 7, "lectures 001"),
        (
            checks.check_output_size_total,
            lambda n, k, *, total_padding=0, stride=1: n + 7,
            "lecture 000",
        ),
        (checks.check_pad2d, lambda X, p: np.ones((X.shape[0] + 2, X.shape[1] + 2)), "frame"),
        (checks.check_same_padding, lambda k: (k, k + 1), "ceil(p/2)"),
        (
            checks.check_corr2d_padded,
            lambda X, K, *, padding=0, stride=1: _noise(
                corr2d_padded_student(X, K, padding=padding, stride=stride)
            ),
            "stride slide",
        ),
        (
            checks.check_corr2d_dilated,
            lambda X, K, *, dilation=1, padding=0, stride=1: _noise(
                corr2d_dilated_student(X, K, dilation=dilation, padding=padding, stride=stride)
            ),
            "dilation slide",
        ),
    ],
)
def test_random_wrong_answer_gets_the_generic_message(check, fn, pointer):
    err = _named(check, fn)
    assert err.mistake is None
    text = str(err)
    assert "expected" in text and "got" in text and pointer in text


def test_returning_the_input_is_named_for_corr2d_padded():
    """The engine's generic mistakes still apply (here: a function that returns X)."""
    err = _named(checks.check_corr2d_padded, lambda X, K, *, padding=0, stride=1: X)
    assert err.mistake in {"returns_input", "padding_ignored"}


def test_unfinished_exercise_says_not_implemented():
    def stub(n, k, *, padding=0, stride=1):
        raise NotImplementedError("Exercise 2.1 is not done yet")

    err = _named(checks.check_output_size, stub)
    assert err.mistake == "not_implemented"
    assert "Exercise 2.1" in str(err)


def test_pad2d_must_return_floats_for_an_integer_image():
    def keeps_dtype(X, padding):
        X = np.asarray(X)
        return solutions.pad2d(X, padding).astype(X.dtype)

    err = _named(checks.check_pad2d, keeps_dtype)
    assert err.mistake == "integer_output"
    assert "float array" in str(err)


def test_pad2d_must_not_modify_its_input():
    def in_place(X, padding):
        X += 0.0
        X[0, 0] = 99.0
        return solutions.pad2d(X, padding)

    err = _named(checks.check_pad2d, in_place)
    assert err.mistake == "mutates_input"


def test_pad2d_with_padding_zero_must_return_a_new_float_array():
    def pad2d(X, padding):
        if padding == 0:
            return X  # "nothing to pad"
        return solutions.pad2d(X, padding)

    err = _named(checks.check_pad2d, pad2d)
    assert err.mistake == "returns_input", str(err)
    assert "padding 0" in str(err)
