"""Misconception suite for course.checks.pooling (assignment 04_pooling).

Each catalogued mistake is written here the way a student would write it (loops, numpy),
run through its visible check, and must be named by that check. The reference from
`solutions` passes every check; a wrong answer that matches no known mistake still gets
the generic sentence with the lecture pointer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import solutions
from course.checks import CheckFailed, answer_digest
from course.checks import pooling as checks

LECTURE_X = [[12, 20, 30, 0], [20, 12, 2, 0], [0, 70, 5, 2], [8, 2, 90, 3]]


def as_pair(v):
    return (v, v) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


def _noise(a):
    """A wrong answer that no transformation of the right one explains: seeded noise."""
    a = np.asarray(a, dtype=float)
    return a + np.random.default_rng(99).standard_normal(a.shape)


# --------------------------------------------------------------------------- pool2d


def student_pool2d(bug=None):
    """A loop pool2d as a student writes it; `bug` names the one thing done wrong."""

    def pool2d(X, size, *, stride=None, padding=0, mode="max"):
        if mode not in ("max", "avg") and bug != "mode_not_validated":
            raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
        X = np.asarray(X, dtype=float)
        KH, KW = as_pair(size)
        if bug == "kernel_hw_swapped":
            KW, KH = as_pair(size)
        if stride is None:
            stride = 1 if bug == "stride_defaults_to_one" else (KH, KW)
        SH, SW = as_pair(stride)
        if bug == "stride_ignored_size":
            SH, SW = KH, KW
        PH, PW = (0, 0) if bug == "padding_ignored" else as_pair(padding)
        fill = -np.inf if mode == "max" else 0.0
        if bug in ("max_pads_with_zeros", "avg_excludes_padding"):
            fill = 0.0
        Xp = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
        real = np.pad(np.ones_like(X), ((PH, PH), (PW, PW)))  # 1 on real inputs
        H_out = (Xp.shape[0] - KH) // SH + 1
        W_out = (Xp.shape[1] - KW) // SW + 1
        if bug == "output_off_by_one":
            H_out, W_out = H_out - 1, W_out - 1
        if bug == "ceil":
            H_out = math.ceil((Xp.shape[0] - KH) / SH) + 1
            W_out = math.ceil((Xp.shape[1] - KW) / SW) + 1
        if bug == "stride_ignored_one":
            SH = SW = 1
            H_out, W_out = Xp.shape[0] - KH + 1, Xp.shape[1] - KW + 1
        dh = {"window_minus_one": -1, "window_plus_one": 1}.get(bug, 0)
        Y = np.zeros((H_out, W_out))
        for i in range(H_out):
            for j in range(W_out):
                r, c = i * SH, j * SW
                if bug == "stride_in_index_missing":
                    r, c = i, j
                window = Xp[r : r + KH + dh, c : c + KW + dh]
                use_max = (mode == "max") != (bug == "avg_max_swapped")
                if bug == "min_instead_of_max" and mode == "max":
                    Y[i, j] = window.min()
                elif use_max:
                    Y[i, j] = window.max()
                elif bug == "sum_instead_of_avg":
                    Y[i, j] = window.sum()
                elif bug == "avg_excludes_padding":
                    Y[i, j] = window.sum() / real[r : r + KH, c : c + KW].sum()
                else:
                    Y[i, j] = window.mean()
        return Y

    return pool2d


POOL_BUGS = [
    ("avg_max_swapped", "max", "avg_max_swapped"),
    ("avg_max_swapped", "avg", "avg_max_swapped"),
    ("min_instead_of_max", "max", "min_instead_of_max"),
    ("sum_instead_of_avg", "avg", "sum_instead_of_avg"),
    ("stride_defaults_to_one", "max", "stride_defaults_to_one"),
    ("stride_defaults_to_one", "avg", "stride_defaults_to_one"),
    ("stride_ignored_size", "max", "stride_ignored"),
    ("stride_ignored_size", "avg", "stride_ignored"),
    ("stride_in_index_missing", "max", "stride_ignored"),
    ("kernel_hw_swapped", "max", "kernel_hw_swapped"),
    ("kernel_hw_swapped", "avg", "kernel_hw_swapped"),
    ("window_minus_one", "max", "window_size_wrong"),
    ("window_minus_one", "avg", "window_size_wrong"),
    ("window_plus_one", "max", "window_size_wrong"),
    ("max_pads_with_zeros", "max", "max_pads_with_zeros"),
    ("avg_excludes_padding", "avg", "avg_excludes_padding"),
    ("padding_ignored", "max", "padding_ignored"),
    ("padding_ignored", "avg", "padding_ignored"),
    ("output_off_by_one", "max", "output_off_by_one"),
    ("output_off_by_one", "avg", "output_off_by_one"),
    ("ceil", "max", "output_off_by_one"),
]


@pytest.mark.parametrize(("bug", "mode", "key"), POOL_BUGS, ids=lambda v: str(v))
def test_pool2d_mistakes_are_named(bug, mode, key):
    """Each catalogued pool2d mistake is recognised and its sentence is shown."""
    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(student_pool2d(bug), mode=mode)
    assert info.value.mistake == key, str(info.value)
    says = {m.says for m in checks.POOL2D_MISTAKES if m.key == key}
    assert any(f"It looks like {s}" in str(info.value) for s in says)
    assert "expected" in str(info.value) and "got" in str(info.value)


def test_pool2d_stride_ignored_everywhere_is_caught_at_the_default_first():
    """A loop that always steps by 1 fails first where the stride is left to its default."""
    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(student_pool2d("stride_ignored_one"), mode="max")
    assert info.value.mistake == "stride_defaults_to_one"


def test_pool2d_unknown_mode_must_raise():
    """After both modes pass, a mode such as 'median' must raise ValueError."""
    checks.check_pool2d(student_pool2d("mode_not_validated"), mode="max", quiet=True)
    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(student_pool2d("mode_not_validated"), mode="avg")
    assert info.value.mistake == "mode_not_validated"
    assert "ValueError" in str(info.value)


def test_pool2d_mode_tested_as_a_substring_must_raise():
    """`mode not in 'max avg'` accepts 'av' (a part of the string): that is no check."""

    def pool2d(X, size, *, stride=None, padding=0, mode="max"):
        if mode not in "max avg":
            raise ValueError(f"unknown mode {mode!r}")
        return solutions.pool2d(X, size, stride=stride, padding=padding,
                                mode="max" if mode == "max" else "avg")  # fmt: skip

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(pool2d, mode="avg")
    assert info.value.mistake == "mode_not_validated"
    assert "mode='av'" in str(info.value) and "whole names" in str(info.value)


def test_every_pool2d_mistake_is_exercised():
    """The suite above covers every key of the catalogue."""
    tested = {key for _, _, key in POOL_BUGS}
    assert {m.key for m in checks.POOL2D_MISTAKES} <= tested


def test_pool2d_reference_and_loop_pass(capsys):
    checks.check_pool2d(solutions.pool2d)
    checks.check_pool2d(student_pool2d())
    out = capsys.readouterr().out
    assert out.count("✓ pool2d, mode='max': 7 of 7 checks passed") == 2
    assert out.count("✓ pool2d, mode='avg': 7 of 7 checks passed") == 2


@pytest.mark.usefixtures("without_repair")
def test_pool2d_unknown_mistake_gets_the_pointer():
    def off(X, size, **kw):
        return _noise(student_pool2d()(X, size, **kw))

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(off, mode="max")
    assert info.value.mistake is None
    assert "lecture 000" in str(info.value)


def test_pool2d_unfinished_and_zeros():
    def stub(*a, **k):
        raise NotImplementedError("Exercise 4.2 is not done yet")

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(stub)
    assert info.value.mistake == "not_implemented"

    def zeros(X, size, **kw):
        return np.zeros_like(student_pool2d()(X, size, **kw))

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d(zeros, mode="avg")
    assert info.value.mistake == "returns_zeros"


# --------------------------------------------------------------------------- per channel


def student_channels(bug=None):
    pool = student_pool2d()

    def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
        X = np.asarray(X, dtype=float)
        if bug == "mixed":
            return pool(X.max(axis=0), size, stride=stride, padding=padding, mode=mode)
        if bug == "mixed_broadcast":
            one = pool(X.max(axis=0), size, stride=stride, padding=padding, mode=mode)
            return np.stack([one] * X.shape[0])
        maps = []
        for c in range(X.shape[0]):
            if bug == "mode_not_passed":
                maps.append(pool(X[c], size, stride=stride, padding=padding))
            elif bug == "options_not_passed":
                maps.append(pool(X[c], size, mode=mode))
            else:
                maps.append(pool(X[c], size, stride=stride, padding=padding, mode=mode))
            if bug == "only_first_channel":
                return maps[0]
        return np.stack(maps, axis=-1 if bug == "channels_last" else 0)

    return pool2d_channels


CHANNEL_BUGS = [
    ("mixed", "channels_mixed"),
    ("mixed_broadcast", "channels_mixed"),
    ("only_first_channel", "only_first_channel"),
    ("channels_last", "channels_last"),
    ("mode_not_passed", "mode_not_passed"),
    ("options_not_passed", "options_not_passed"),
]


@pytest.mark.parametrize(("bug", "key"), CHANNEL_BUGS)
def test_channel_mistakes_are_named(bug, key):
    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d_channels(student_channels(bug))
    assert info.value.mistake == key, str(info.value)
    says = {m.says for m in checks.CHANNEL_MISTAKES if m.key == key}
    assert any(f"It looks like {s}" in str(info.value) for s in says)


def test_every_channel_mistake_is_exercised():
    assert {m.key for m in checks.CHANNEL_MISTAKES} <= {key for _, key in CHANNEL_BUGS}


def test_channels_reference_passes(capsys):
    checks.check_pool2d_channels(solutions.pool2d, quiet=True)
    checks.check_pool2d_channels(student_channels())
    assert capsys.readouterr().out.count("✓ pool2d_channels: 5 of 5 checks passed") == 1


def test_a_squeezed_one_channel_result_fails():
    """A squeeze "to remove the extra axis" drops the channel axis of a one-channel input."""

    def squeezed(X, size, **kw):
        return np.squeeze(student_channels()(X, size, **kw))

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d_channels(squeezed)
    assert info.value.case == "1 channel, 2×2 max"
    assert info.value.mistake == "auto:squeezed", str(info.value)


@pytest.mark.usefixtures("without_repair")
def test_channels_unknown_mistake_gets_the_pointer():
    def doubled(X, size, **kw):
        return _noise(solutions.pool2d(X, size, **kw))

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d_channels(doubled)
    assert info.value.mistake is None
    assert "each input channel on its own" in str(info.value)


# --------------------------------------------------------------------------- gradient mask


def student_mask(bug=None):
    def maxpool_grad_mask(X, size, *, stride=None):
        X = np.asarray(X, dtype=float)
        KH, KW = as_pair(size)
        if stride is None:
            stride = 1 if bug == "stride_defaults_to_one" else (KH, KW)
        SH, SW = as_pair(stride)
        H_out = (X.shape[0] - KH) // SH + 1
        W_out = (X.shape[1] - KW) // SW + 1
        mask = np.zeros_like(X)
        for i in range(H_out):
            for j in range(W_out):
                r, c = i * SH, j * SW
                window = X[r : r + KH, c : c + KW]
                if bug == "all_ties_marked":
                    mask[r : r + KH, c : c + KW] += window == window.max()
                    continue
                if bug == "avg_gradient_instead":
                    mask[r : r + KH, c : c + KW] += 1 / (KH * KW)
                    continue
                if bug == "global":
                    mask[X.max() == X] = 1
                    continue
                if bug == "every_copy":
                    mask[window.max() == X] = 1
                    continue
                if bug == "every_copy_count":
                    mask[window.max() == X] += 1
                    continue
                if bug == "last_tie":
                    best, p, q = -np.inf, 0, 0
                    for a in range(KH):
                        for b in range(KW):
                            if window[a, b] >= best:
                                best, p, q = window[a, b], a, b
                else:
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                if bug == "offset_missing":
                    mask[p, q] += 1
                elif bug == "overlaps_not_added":
                    mask[r + p, c + q] = 1
                elif bug == "stores_value_not_one":
                    mask[r + p, c + q] += window[p, q]
                else:
                    mask[r + p, c + q] += 1
        return mask

    return maxpool_grad_mask


GRAD_BUGS = [
    ("all_ties_marked", "all_ties_marked"),
    ("last_tie", "last_tie"),
    ("overlaps_not_added", "overlaps_not_added"),
    ("offset_missing", "window_offset_missing"),
    ("global", "mask_of_max_value_globally"),
    # `mask[X == window.max()] = 1`: on the lecture matrix this marks exactly the two tied
    # 20s, like all_ties_marked; the later cases (ties across windows) tell them apart.
    ("every_copy", "marks_every_copy"),
    ("every_copy_count", "marks_every_copy"),
    ("stores_value_not_one", "stores_value_not_one"),
    ("avg_gradient_instead", "avg_gradient_instead"),
    ("stride_defaults_to_one", "stride_defaults_to_one"),
]


@pytest.mark.parametrize(("bug", "key"), GRAD_BUGS)
def test_grad_mask_mistakes_are_named(bug, key):
    with pytest.raises(CheckFailed) as info:
        checks.check_maxpool_grad_mask(student_mask(bug))
    assert info.value.mistake == key, str(info.value)
    says = {m.says for m in checks.GRAD_MISTAKES if m.key == key}
    assert any(f"It looks like {s}" in str(info.value) for s in says)


def test_every_grad_mistake_is_exercised():
    assert {m.key for m in checks.GRAD_MISTAKES} <= {key for _, key in GRAD_BUGS}


def reference_mask(X, size, *, stride=None):
    """The mask from the reference layer: the gradient of sum(maxpool(X)) (dout = ones)."""
    X = np.asarray(X, dtype=float)
    out, cache = solutions.maxpool2d_forward(X[None, None], kernel_size=size, stride=stride)
    return solutions.maxpool2d_backward(np.ones_like(out), cache)[0, 0]


def test_grad_mask_reference_passes(capsys):
    checks.check_maxpool_grad_mask(reference_mask)
    checks.check_maxpool_grad_mask(student_mask())
    assert capsys.readouterr().out.count("✓ maxpool_grad_mask: 6 of 6 checks passed") == 2


@pytest.mark.usefixtures("without_repair")
def test_grad_mask_unknown_mistake_gets_the_pointer():
    def shifted(X, size, *, stride=None):
        return np.roll(reference_mask(X, size, stride=stride), 1, axis=1)

    with pytest.raises(CheckFailed) as info:
        checks.check_maxpool_grad_mask(shifted)
    assert info.value.mistake is None
    assert "row-major" in str(info.value)


# --------------------------------------------------------------------------- quizzes

X = np.array(LECTURE_X, float)
DOUT = np.array([[4.0, 8.0], [12.0, 16.0]])
SHIFTED = np.pad(X, ((0, 0), (1, 0)))[:, :4]


def _dx_max(dout):
    _out, cache = solutions.maxpool2d_forward(X[None, None], kernel_size=2)
    return solutions.maxpool2d_backward(dout[None, None], cache)[0, 0]


def _dx_avg(dout):
    _out, cache = solutions.avgpool2d_forward(X[None, None], kernel_size=2)
    return solutions.avgpool2d_backward(dout[None, None], cache)[0, 0]


def _unchanged(mode):
    return int((solutions.pool2d(X, 2, mode=mode) == solutions.pool2d(SHIFTED, 2, mode=mode)).sum())


QUIZZES = [
    (checks.check_q5, lambda: solutions.pool2d(X, 2, mode="avg")),
    (checks.check_q6, lambda: solutions.pool2d(X, 2, mode="max")),
    (checks.check_shift_quiz, lambda: (_unchanged("max"), _unchanged("avg"))),
    (checks.check_grad_quiz_avg, lambda: _dx_avg(DOUT)),
    (checks.check_grad_quiz_max, lambda: _dx_max(DOUT)),
]


@pytest.mark.parametrize(("check", "answer"), QUIZZES, ids=lambda v: getattr(v, "__name__", ""))
def test_quiz_digests_match_the_reference(check, answer, capsys):
    """The stored digests are those of the answers the reference computes."""
    check(answer())
    check(np.asarray(answer()).tolist())
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("check", [q for q, _ in QUIZZES])
def test_quiz_without_answer_says_so(check):
    with pytest.raises(CheckFailed, match="no answer yet") as info:
        check(...)
    assert info.value.mistake == "not_answered"


@pytest.mark.parametrize(
    ("check", "wrong", "key"),
    [
        (checks.check_q5, lambda: solutions.pool2d(X, 2, mode="max"), "avg_max_swapped"),
        (checks.check_q5, lambda: 4 * solutions.pool2d(X, 2, mode="avg"), "sum_instead_of_avg"),
        (checks.check_q6, lambda: solutions.pool2d(X, 2, mode="avg"), "avg_max_swapped"),
        (checks.check_q6, lambda: "A", "wrong_type"),
        (checks.check_q6, lambda: [20, 30, 70, 90], "wrong_shape"),
        (checks.check_q6, lambda: [[20, 30], [70, 91]], "wrong_answer"),
        (checks.check_shift_quiz, lambda: (_unchanged("avg"), _unchanged("max")), "swapped"),
        (checks.check_grad_quiz_avg, lambda: np.kron(DOUT, np.ones((2, 2))), "not_divided"),
        (checks.check_grad_quiz_avg, lambda: _dx_avg(np.ones((2, 2))), "dout_ignored"),
        (checks.check_grad_quiz_max, lambda: np.kron(DOUT, np.ones((2, 2))), "spread"),
        (checks.check_grad_quiz_max, lambda: _dx_max(DOUT) + _tie_other(), "all_ties_marked"),
        (checks.check_grad_quiz_max, lambda: _dx_max(DOUT) + _tie_moved(), "last_tie"),
        (checks.check_grad_quiz_max, lambda: _dx_max(np.ones((2, 2))), "dout_ignored"),
    ],
)
def test_quiz_wrong_answers_are_named(check, wrong, key):
    with pytest.raises(CheckFailed) as info:
        check(wrong())
    assert info.value.mistake == key


def _tie_other():
    extra = np.zeros((4, 4))
    extra[1, 0] = 4.0  # the second 20 of the top-left window also gets dout = 4
    return extra


def _tie_moved():
    return _tie_other() - np.eye(4, k=1) * np.array([4.0, 0, 0, 0])[:, None]


def test_quiz_answers_are_not_stored_in_the_check_module():
    """Only digests are stored: the module's text holds none of the answers."""
    from pathlib import Path

    text = Path(checks.__file__).read_text()
    assert "[[16, 8], [20, 25]]" not in text.replace(".0", "")
    assert "[[20, 30], [70, 90]]" not in text.replace(".0", "")
    assert answer_digest((3, 0)) == checks.SHIFT_DIGEST


def test_channels_returned_as_a_list_fail_with_right_values():
    def pool2d_channels(X, size, **kw):
        return [solutions.pool2d(x, size, **kw) for x in X]

    with pytest.raises(CheckFailed) as info:
        checks.check_pool2d_channels(pool2d_channels)
    assert info.value.mistake == "returned_list", str(info.value)
    assert "np.stack" in str(info.value)
