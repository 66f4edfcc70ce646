"""Misconception suite of assignment 03_channels: every catalogued mistake, written the way
a student would write it, is named by its visible check; the reference passes; an
unrecognised wrong answer gets the generic message with the lecture pointer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import solutions
from course.checks import CheckFailed, Mistake
from course.checks import channels as checks

# ---------------------------------------------------------------------------------------
# What students have in the notebook: the given loop corr2d, and (for the later
# exercises) correct versions of the earlier ones.
# ---------------------------------------------------------------------------------------


def corr2d(X, K):
    KH, KW = K.shape
    H_out, W_out = X.shape[0] - KH + 1, X.shape[1] - KW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
    return Y


def multi_in(X, K):
    return sum(corr2d(X[c], K[c]) for c in range(len(X)))


def says(catalogue: tuple[Mistake, ...], key: str) -> str:
    return next(m.says for m in catalogue if m.key == key)


def assert_named(check, wrong, key, catalogue):
    with pytest.raises(CheckFailed) as info:
        check(wrong)
    assert info.value.mistake == key, str(info.value)
    assert f"It looks like {says(catalogue, key)}" in str(info.value)
    assert "expected" in str(info.value) and "got" in str(info.value)


def _noise(a):
    """A wrong answer that no transformation of the right one explains: seeded noise."""
    a = np.asarray(a, dtype=float)
    return a + np.random.default_rng(99).standard_normal(a.shape)


def assert_generic(check, wrong, pointer):
    with pytest.raises(CheckFailed) as info:
        check(wrong)
    assert info.value.mistake is None, str(info.value)
    assert pointer in str(info.value)


# ---------------------------------------------------------------------------------------
# Exercise 3.1 — corr2d_multi_in
# ---------------------------------------------------------------------------------------


def multi_in_stacked(X, K):
    return np.stack([corr2d(X[c], K[c]) for c in range(len(X))])


def multi_in_first(X, K):
    return corr2d(X[0], K[0])


def multi_in_overwrites(X, K):
    for c in range(len(X)):
        Y = corr2d(X[c], K[c])  # `=` where `+=` was meant
    return Y


def multi_in_sum_first(X, K):
    return corr2d(X.sum(axis=0), K.sum(axis=0))


def multi_in_mean(X, K):
    return multi_in(X, K) / len(X)


def multi_in_flipped(X, K):
    return sum(corr2d(X[c], np.flip(K[c])) for c in range(len(X)))


def multi_in_reversed_kernels(X, K):
    C = len(X)
    return sum(corr2d(X[c], K[C - 1 - c]) for c in range(C))


@pytest.mark.parametrize(
    ("wrong", "key"),
    [
        (multi_in_stacked, "channels_not_summed"),
        (multi_in_first, "only_first_channel"),
        (multi_in_overwrites, "only_last_channel"),
        (multi_in_sum_first, "summed_inputs_first"),
        (multi_in_mean, "mean_instead_of_sum"),
        (multi_in_flipped, "kernel_flipped"),
        (multi_in_reversed_kernels, "channels_mismatched"),
    ],
)
def test_multi_in_mistakes_are_named(wrong, key):
    assert_named(checks.check_corr2d_multi_in, wrong, key, checks.MISTAKES_MULTI_IN)


def test_multi_in_reference_and_loop_pass(capsys):
    checks.check_corr2d_multi_in(solutions.corr2d_multi_in)
    checks.check_corr2d_multi_in(multi_in)
    assert capsys.readouterr().out.count("✓ corr2d_multi_in: 4 of 4 checks passed") == 2


def test_multi_in_unknown_mistake_is_generic():
    assert_generic(
        checks.check_corr2d_multi_in,
        lambda X, K: _noise(multi_in(X, K)),
        checks.POINTER_MULTI_IN,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.2 — corr2d_multi_in_out
# ---------------------------------------------------------------------------------------


def multi_in_out_not_summed(X, K):
    return np.stack([multi_in_stacked(X, K[o]) for o in range(len(K))])


def multi_in_out_first(X, K):
    return multi_in(X, K[0])


def multi_in_out_reversed(X, K):
    return np.stack([multi_in(X, K[o]) for o in reversed(range(len(K)))])


def multi_in_out_axes_swapped(X, K):
    return np.stack([multi_in(X, K[:, o]) for o in range(K.shape[1])])


def multi_in_out_channels_last(X, K):
    return np.stack([multi_in(X, k) for k in K], axis=-1)


def multi_in_out_flipped(X, K):
    return np.stack([multi_in(X, k[:, ::-1, ::-1]) for k in K])


MULTI_IN_OUT_WRONG = [
    (multi_in_out_not_summed, "channels_not_summed"),
    (multi_in_out_first, "only_first_output"),
    (multi_in_out_reversed, "output_channels_reversed"),
    (multi_in_out_axes_swapped, "kernel_axes_swapped"),
    (multi_in_out_channels_last, "channels_last"),
    (multi_in_out_flipped, "kernel_flipped"),
]


@pytest.mark.parametrize(("wrong", "key"), MULTI_IN_OUT_WRONG)
def test_multi_in_out_mistakes_are_named(wrong, key):
    assert_named(checks.check_corr2d_multi_in_out, wrong, key, checks.MISTAKES_MULTI_IN_OUT)


def test_multi_in_out_reference_and_loop_pass(capsys):
    checks.check_corr2d_multi_in_out(solutions.corr2d_multi_in_out)
    checks.check_corr2d_multi_in_out(lambda X, K: np.stack([multi_in(X, k) for k in K]))
    assert capsys.readouterr().out.count("✓ corr2d_multi_in_out: 6 of 6 checks passed") == 2


def test_multi_in_out_unknown_mistake_is_generic():
    assert_generic(
        checks.check_corr2d_multi_in_out,
        lambda X, K: _noise(solutions.corr2d_multi_in_out(X, K)),
        checks.POINTER_MULTI_IN_OUT,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.3 — conv1x1
# ---------------------------------------------------------------------------------------


def conv1x1_transposed(X, K):
    C_in, H, W = X.shape
    return (K[:, :, 0, 0].T @ X.reshape(C_in, H * W)).reshape(-1, H, W)


def conv1x1_reshape_not_transpose(X, K):
    C_out, C_in = K.shape[:2]
    H, W = X.shape[1:]
    weights = K.reshape(C_in, C_out).T  # right shape, scrambled entries
    return (weights @ X.reshape(C_in, H * W)).reshape(C_out, H, W)


def conv1x1_input_as_hwc(X, K):
    C_in, H, W = X.shape
    C_out = K.shape[0]
    pixels = X.reshape(H * W, C_in)  # as if X were (H, W, C_in)
    return (pixels @ K.reshape(C_out, C_in).T).T.reshape(C_out, H, W)


def conv1x1_output_not_transposed(X, K):
    C_in, H, W = X.shape
    C_out = K.shape[0]
    Y2 = X.reshape(C_in, H * W).T @ K.reshape(C_out, C_in).T  # (H*W, C_out)
    return Y2.reshape(C_out, H, W)


def conv1x1_not_summed(X, K):
    return K[:, :, 0, 0][:, :, None, None] * X[None]


@pytest.mark.parametrize(
    ("wrong", "key"),
    [
        (conv1x1_transposed, "weight_transposed"),
        (conv1x1_reshape_not_transpose, "weight_transposed"),
        (conv1x1_input_as_hwc, "input_reshaped_wrong"),
        (conv1x1_output_not_transposed, "output_reshaped_wrong"),
        (conv1x1_not_summed, "channels_not_summed"),
    ],
)
def test_conv1x1_mistakes_are_named(wrong, key):
    assert_named(checks.check_conv1x1, wrong, key, checks.MISTAKES_1X1)


def test_conv1x1_reference_passes(capsys):
    checks.check_conv1x1(solutions.conv1x1)
    assert "✓ conv1x1: 5 of 5 checks passed" in capsys.readouterr().out


def test_conv1x1_unknown_mistake_is_generic():
    assert_generic(
        checks.check_conv1x1,
        lambda X, K: solutions.conv1x1(X, K)[:, ::-1],
        checks.POINTER_1X1,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.4 — counting
# ---------------------------------------------------------------------------------------


def params_right(C_in, C_out, KH, KW, *, bias=True):
    return C_out * (C_in * KH * KW + bias)


@pytest.mark.parametrize(
    ("wrong", "key"),
    [
        (lambda C_in, C_out, KH, KW, *, bias=True: C_out * C_in * KH * KW, "bias_forgotten"),
        (
            lambda C_in, C_out, KH, KW, *, bias=True: C_out * (C_in * KH * KW + 1),
            "bias_flag_ignored",
        ),
        (
            lambda C_in, C_out, KH, KW, *, bias=True: C_out * C_in * KH * KW + bias * C_in,
            "bias_per_input_channel",
        ),
        (
            lambda C_in, C_out, KH, KW, *, bias=True: C_out * C_in * (KH * KW + bias),
            "bias_per_kernel_slice",
        ),
        (lambda C_in, C_out, KH, KW, *, bias=True: C_out * (KH * KW + bias), "C_in_forgotten"),
        (lambda C_in, C_out, KH, KW, *, bias=True: C_in * KH * KW + bias, "C_out_forgotten"),
    ],
)
def test_conv_params_mistakes_are_named(wrong, key):
    assert_named(checks.check_conv_params, wrong, key, checks.MISTAKES_PARAMS)


def test_conv_params_right_passes_and_torch_agrees(capsys):
    checks.check_conv_params(params_right)
    assert "✓ conv_params: 5 of 5 checks passed" in capsys.readouterr().out
    layer = torch.nn.Conv2d(5, 7, (2, 3))
    assert sum(p.numel() for p in layer.parameters()) == params_right(5, 7, 2, 3)


def test_conv_params_generic():
    assert_generic(
        checks.check_conv_params,
        lambda C_in, C_out, KH, KW, *, bias=True: params_right(C_in, C_out, KH, KW) + 100,
        checks.POINTER_PARAMS,
    )


def mults_right(C_in, C_out, KH, KW, H_out, W_out):
    return C_out * H_out * W_out * C_in * KH * KW


@pytest.mark.parametrize(
    ("wrong", "key"),
    [
        (
            lambda C_in, C_out, KH, KW, H_out, W_out: C_out * H_out * W_out * KH * KW,
            "C_in_forgotten",
        ),
        (
            lambda C_in, C_out, KH, KW, H_out, W_out: H_out * W_out * C_in * KH * KW,
            "C_out_forgotten",
        ),
        (lambda C_in, C_out, KH, KW, H_out, W_out: C_out * C_in * KH * KW, "positions_forgotten"),
        (
            lambda C_in, C_out, KH, KW, H_out, W_out: C_out * H_out * W_out * (C_in * KH * KW + 1),
            "bias_counted",
        ),
    ],
)
def test_conv_mults_mistakes_are_named(wrong, key):
    assert_named(checks.check_conv_mults, wrong, key, checks.MISTAKES_MULTS)


def test_conv_mults_right_passes(capsys):
    checks.check_conv_mults(mults_right)
    assert "✓ conv_mults: 4 of 4 checks passed" in capsys.readouterr().out


def test_conv_mults_generic():
    assert_generic(
        checks.check_conv_mults,
        lambda *args: mults_right(*args) + args[0] % 3 + 1,
        checks.POINTER_MULTS,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.4 — quiz answers: right answers computed from solutions, never stored in course/
# ---------------------------------------------------------------------------------------

H_Q3 = solutions.output_size(224, 3)
Q3 = 64 * 3 * 3 * 3 * H_Q3 * H_Q3
Q4 = (3 * 3 * 3 + 1) * 64
H_ALEX = solutions.output_size(227, 11, stride=4)
ALEX_SHAPE = (96, H_ALEX, H_ALEX)
ALEX_PARAMS = (11 * 11 * 3 + 1) * 96
W7, W3, FIELD = 49 * 64 * 64, 27 * 64 * 64, 7


def test_quiz_right_answers_pass(capsys):
    checks.check_q3(Q3)
    checks.check_q4(float(Q4))  # 1792.0 is as good as 1792
    checks.check_alexnet_conv1(list(ALEX_SHAPE), np.int64(ALEX_PARAMS))
    checks.check_alexnet_conv1(np.array(ALEX_SHAPE), ALEX_PARAMS)
    checks.check_small_filters(W7, W3, FIELD)
    assert capsys.readouterr().out.count("correct.") == 9


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda: checks.check_q3(...), "not_answered"),
        (lambda: checks.check_q3(64 * 3 * 3 * H_Q3 * H_Q3), "C_in_forgotten"),
        (lambda: checks.check_q3(64 * 27 * 224 * 224), "input_size_used"),
        (lambda: checks.check_q3(27 * H_Q3 * H_Q3), "C_out_forgotten"),
        (lambda: checks.check_q3(Q3 + 1), "wrong_answer"),
        (lambda: checks.check_q4(...), "not_answered"),
        (lambda: checks.check_q4(27 * 64), "bias_forgotten"),
        (lambda: checks.check_q4(64 * H_Q3 * H_Q3), "per_position"),
        (lambda: checks.check_q4(10 * 64), "C_in_forgotten"),
        (lambda: checks.check_alexnet_conv1(..., ALEX_PARAMS), "not_answered"),
        (lambda: checks.check_alexnet_conv1((H_ALEX, H_ALEX, 96), ALEX_PARAMS), "channels_last"),
        (lambda: checks.check_alexnet_conv1((96, 56, 56), ALEX_PARAMS), "wrong_answer"),
        (lambda: checks.check_alexnet_conv1(ALEX_SHAPE, ...), "not_answered"),
        (lambda: checks.check_alexnet_conv1(ALEX_SHAPE, 11 * 11 * 3 * 96), "bias_forgotten"),
        (lambda: checks.check_alexnet_conv1(ALEX_SHAPE, 122 * 96), "C_in_forgotten"),
        (lambda: checks.check_small_filters(..., W3, FIELD), "not_answered"),
        (lambda: checks.check_small_filters(49 * 64, W3, FIELD), "C_in_forgotten"),
        (lambda: checks.check_small_filters(W7, 9 * 64 * 64, FIELD), "one_layer_only"),
        (lambda: checks.check_small_filters(W7, 27 * 64, FIELD), "C_in_forgotten"),
        (lambda: checks.check_small_filters(W7, W3, 9), "area_not_side"),
        (lambda: checks.check_small_filters(W7, W3, 5), "wrong_answer"),
    ],
)
def test_quiz_wrong_answers_are_named(call, key):
    with pytest.raises(CheckFailed) as info:
        call()
    assert info.value.mistake == key, str(info.value)
    text = str(info.value)
    for secret in (Q3, Q4, ALEX_PARAMS, W7, W3):
        assert f"{secret}" not in text and f"{secret:,}" not in text


def test_unanswered_quiz_reads_as_unfinished():
    """The notebook harness treats "no answer yet" as an unfinished exercise."""
    with pytest.raises(CheckFailed, match="no answer yet") as info:
        checks.check_q3(...)
    assert info.value.mistake == "not_answered"


def test_course_holds_no_quiz_answer():
    """Only digests: the answers themselves appear nowhere in course/checks/channels.py."""
    text = Path(checks.__file__).read_text(encoding="utf-8")
    for secret in (Q3, Q4, ALEX_PARAMS, W7, W3):
        assert str(secret) not in text and f"{secret:_}" not in text and f"{secret:,}" not in text
    assert "55, 55" not in text


# ---------------------------------------------------------------------------------------
# Exercise 3.5 — conv2d_vectorized
# ---------------------------------------------------------------------------------------

swv = np.lib.stride_tricks.sliding_window_view


def vec_hw_transposed(X, K):
    KH, KW = K.shape[2:]
    windows = swv(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocba->oij", windows, K)


def vec_cols_hwc(X, K):
    C_out, C_in, KH, KW = K.shape
    windows = swv(X, (KH, KW), axis=(1, 2))  # (C_in, H_out, W_out, KH, KW)
    H_out, W_out = windows.shape[1:3]
    cols = windows.transpose(3, 4, 0, 1, 2).reshape(KH * KW * C_in, H_out * W_out)
    return (K.reshape(C_out, -1) @ cols).reshape(C_out, H_out, W_out)


def vec_weights_hwc(X, K):
    C_out, C_in, KH, KW = K.shape
    windows = swv(X, (KH, KW), axis=(1, 2))
    H_out, W_out = windows.shape[1:3]
    cols = windows.transpose(0, 3, 4, 1, 2).reshape(C_in * KH * KW, H_out * W_out)
    return (K.transpose(0, 2, 3, 1).reshape(C_out, -1) @ cols).reshape(C_out, H_out, W_out)


def vec_channels_last(X, K):
    windows = swv(X, K.shape[2:], axis=(1, 2))
    return np.einsum("cijab,ocab->ijo", windows, K)


def vec_not_summed(X, K):
    windows = swv(X, K.shape[2:], axis=(1, 2))
    return np.einsum("cijab,ocab->ocij", windows, K)


@pytest.mark.parametrize(
    ("wrong", "key"),
    [
        (vec_hw_transposed, "kernel_hw_transposed"),
        (vec_cols_hwc, "im2col_order_mismatch"),
        (vec_weights_hwc, "im2col_order_mismatch"),
        (vec_channels_last, "channels_last"),
        (vec_not_summed, "channels_not_summed"),
        *[(fn, key) for fn, key in MULTI_IN_OUT_WRONG if key != "kernel_axes_swapped"],
    ],
)
def test_vectorized_mistakes_are_named(wrong, key):
    assert_named(checks.check_conv2d_vectorized, wrong, key, checks.MISTAKES_VECTORIZED)


def test_vectorized_axes_swapped_fails_with_its_own_error():
    """The first case has C_in = 3 and C_out = 2, so a swapped einsum cannot even run; the
    student sees numpy's shape error on their own line."""
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_vectorized(
            lambda X, K: np.einsum("cijab,coab->oij", swv(X, K.shape[2:], axis=(1, 2)), K)
        )
    assert info.value.mistake == "raised"
    assert "lecture 004" in str(info.value)


def test_vectorized_reference_passes_and_agrees_with_loop(capsys):
    ref = solutions.corr2d_multi_in_out
    checks.check_conv2d_vectorized(ref, loop=multi_in_out_loop)
    out = capsys.readouterr().out
    assert "✓ conv2d_vectorized: 8 of 8 checks passed" in out and "agrees with your loop" in out


def multi_in_out_loop(X, K):
    return np.stack([multi_in(X, k) for k in K])


def test_vectorized_wrong_loop_only_warns(capsys):
    """A wrong loop version is Exercise 3.2's problem: 3.5 warns, it does not fail."""
    ref = solutions.corr2d_multi_in_out
    checks.check_conv2d_vectorized(ref, loop=multi_in_out_reversed)
    out = capsys.readouterr().out
    assert "✓ conv2d_vectorized: 8 of 8 checks passed" in out and "⚠" in out


def test_vectorized_unfinished_loop_is_skipped(capsys):
    def stub(X, K):
        raise NotImplementedError("Exercise 3.2 is not done yet")

    checks.check_conv2d_vectorized(solutions.corr2d_multi_in_out, loop=stub)
    out = capsys.readouterr().out
    assert "✓ conv2d_vectorized: 8 of 8 checks passed" in out and "Not compared" in out


def test_vectorized_generic():
    assert_generic(
        checks.check_conv2d_vectorized,
        lambda X, K: _noise(solutions.corr2d_multi_in_out(X, K)),
        checks.POINTER_MULTI_IN_OUT,
    )


# ---------------------------------------------------------------------------------------
# The catalogues and the lecture data themselves
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cases", "catalogue"),
    [
        (checks._cases_multi_in, checks.MISTAKES_MULTI_IN),
        (checks._cases_multi_in_out, checks.MISTAKES_MULTI_IN_OUT),
        (checks._cases_1x1, checks.MISTAKES_1X1),
        (checks._cases_params, checks.MISTAKES_PARAMS),
        (checks._cases_mults, checks.MISTAKES_MULTS),
        (checks._cases_vectorized, checks.MISTAKES_VECTORIZED),
    ],
    ids=["multi_in", "multi_in_out", "1x1", "params", "mults", "vectorized"],
)
def test_every_mistake_differs_from_the_right_answer_somewhere(cases, catalogue):
    for mistake in catalogue:
        differs = False
        for case in cases():
            wrong = mistake.wrong(case)
            if wrong is None:
                continue
            wrong, right = np.asarray(wrong, float), np.asarray(case.expected, float)
            differs |= wrong.shape != right.shape or not np.allclose(wrong, right)
        assert differs, f"{mistake.key} equals the right answer on every case"


def test_lecture_examples_match_torch():
    """Lecture 000's 56 and lecture 004's o0/o1 (docs/design.md's table), from the stored data."""
    Y = torch.nn.functional.conv2d(
        torch.tensor(checks.LECTURE_000_X)[None], torch.tensor(checks.LECTURE_000_K)[None]
    )
    np.testing.assert_array_equal(Y[0, 0].numpy(), checks.LECTURE_000_Y)
    Y = torch.nn.functional.conv2d(
        torch.tensor(checks.LECTURE_004_X)[None],
        torch.tensor(checks.LECTURE_004_W),
        torch.tensor([1.0, 0.0], dtype=torch.float64),
        stride=2,
        padding=1,
    )[0].numpy()
    np.testing.assert_array_equal(Y[0], [[3, -4, -1], [2, 0, -4], [1, 1, 2]])
    np.testing.assert_array_equal(Y[1], [[-2, -3, -5], [-2, -1, -2], [-3, -4, 2]])


def test_a_multiplication_count_made_by_true_division_is_not_an_int():
    def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
        per_filter = (C_out * C_in * KH * KW) / C_out  # one filter's weights
        return C_out * H_out * W_out * per_filter

    with pytest.raises(CheckFailed) as info:
        checks.check_conv_mults(conv_mults)
    assert info.value.mistake == "count_not_int", str(info.value)
    assert "`//`" in str(info.value)
