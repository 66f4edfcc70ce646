"""Misconception suite for course.checks.conv (assignment 01_convolution).

For every catalogued mistake, a wrong implementation written the way a student would
write it is run through the visible check: the check must name that mistake. The
reference passes; a wrong answer that matches no known mistake gets the generic pointer.
"""

from __future__ import annotations

import numpy as np
import pytest

import solutions
from course.checks import CheckFailed, _oracle, answer_digest
from course.checks import conv as checks

# ---------------------------------------------------------------------------------------
# Student-style implementations (loops, as the notebook asks for)
# ---------------------------------------------------------------------------------------


def corr2d_loops(X, K, *, kernel=None, out_shape=None, dtype=float, window=None, put=None):
    """The loop a student writes, with hooks for the ways it goes wrong."""
    X, K = np.asarray(X), np.asarray(K)
    H, W = X.shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    Y = np.zeros(out_shape(H, W, KH, KW) if out_shape else (H_out, W_out), dtype=dtype)
    rows, cols = Y.shape if out_shape is None else (H_out, W_out)
    for i in range(min(rows, H_out)):
        for j in range(min(cols, W_out)):
            win = window(X, i, j, KH, KW) if window else X[i : i + KH, j : j + KW]
            value = np.sum(win * (kernel(K) if kernel else K))
            if put:
                put(Y, i, j, value)
            else:
                Y[i, j] = value
    return Y


def corr2d_ref(X, K):
    return corr2d_loops(X, K)


def _swapped(X, K):
    X, K = np.asarray(X), np.asarray(K)
    H_out, W_out = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    Y = np.zeros((W_out, H_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[j, i] = np.sum(X[i : i + K.shape[0], j : j + K.shape[1]] * K)
    return Y


def _matmul(X, K):
    X, K = np.asarray(X), np.asarray(K)
    KH, KW = K.shape
    Y = np.zeros((X.shape[0] - KH + 1, X.shape[1] - KW + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] @ K)
    return Y


def _too_small(X, K):
    X, K = np.asarray(X), np.asarray(K)
    KH, KW = K.shape
    Y = np.zeros((X.shape[0] - KH, X.shape[1] - KW))
    for i in range(X.shape[0] - KH):
        for j in range(X.shape[1] - KW):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
    return Y


CORR2D_WRONG = {
    "kernel_flipped": lambda X, K: corr2d_loops(X, K, kernel=lambda K: K[::-1, ::-1]),
    "kernel_transposed": lambda X, K: corr2d_loops(X, K, kernel=lambda K: K.T),
    "output_too_small": _too_small,
    "output_too_large": lambda X, K: corr2d_loops(X, K, out_shape=lambda H, W, KH, KW: (H, W)),
    "rows_cols_swapped": _swapped,
    "matmul_not_elementwise": _matmul,
    "same_index_twice": lambda X, K: corr2d_loops(
        X, K, window=lambda X, i, j, KH, KW: X[i : i + KH, i : i + KW]
    ),
    "integer_output": lambda X, K: corr2d_loops(X, K, dtype=np.asarray(X).dtype),
    # generic mistakes, recognised by the engine
    "returns_zeros": lambda X, K: np.zeros(
        (X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    ),
    "returned_none": lambda X, K: None,
    "raised": lambda X, K: X[0 : K.shape[0] + 1, :] * K,
}


def _says(mistakes, key):
    return next(m.says for m in mistakes if m.key == key)


@pytest.mark.parametrize("key", sorted(CORR2D_WRONG))
def test_corr2d_mistakes_are_named(key):
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d(CORR2D_WRONG[key])
    assert info.value.mistake == key
    if key in {m.key for m in checks.CORR2D_MISTAKES}:
        assert f"It looks like {_says(checks.CORR2D_MISTAKES, key)}" in str(info.value)


@pytest.mark.parametrize("fn", [corr2d_ref, solutions.corr2d], ids=["loops", "solutions"])
def test_corr2d_reference_passes(fn, capsys):
    assert checks.check_corr2d(fn) is None
    assert "✓ corr2d: 9 of 9" in capsys.readouterr().out


def _noise(a):
    """A wrong answer that no transformation of the right one explains: seeded noise."""
    a = np.asarray(a, dtype=float)
    return a + np.random.default_rng(99).standard_normal(a.shape)


def test_corr2d_unknown_mistake_gets_the_pointer():
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d(lambda X, K: _noise(corr2d_ref(X, K)))
    assert info.value.mistake is None
    assert checks.CORR2D_POINTER in str(info.value)
    assert "expected" in str(info.value) and "got" in str(info.value)


def _differs(mistake, case) -> bool:
    """The mistake applies to the case and gives another answer than the right one."""
    try:
        wrong = mistake.wrong(case)
    except Exception:
        return False
    return wrong is not None and (
        np.shape(wrong) != np.shape(case.expected)
        or not np.allclose(wrong, case.expected, rtol=1e-6, atol=1e-8)
    )


def test_corr2d_every_mistake_is_distinguishable_somewhere():
    """Each catalogued mistake differs from the right answer on at least one case."""
    cases = checks._corr2d_cases()
    for m in checks.CORR2D_MISTAKES:
        assert any(_differs(m, c) for c in cases), m.key


def test_in_place_edit_is_caught():
    def corr2d_in_place(X, K):
        X -= X.min()  # "normalise" the input in place
        return corr2d_ref(X, K)

    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d(corr2d_in_place)
    assert info.value.mistake == "mutates_input"


# ---------------------------------------------------------------------------------------
# corr2d_bias
# ---------------------------------------------------------------------------------------


def _bias_in_every_product(X, K, b):
    X, K = np.asarray(X), np.asarray(K)
    KH, KW = K.shape
    Y = np.zeros((X.shape[0] - KH + 1, X.shape[1] - KW + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K + b)
    return Y


BIAS_WRONG = {
    "bias_missing": lambda X, K, b: corr2d_ref(X, K),
    "bias_added_to_kernel": lambda X, K, b: corr2d_ref(X, K + b),
    "bias_added_to_input": lambda X, K, b: corr2d_ref(X + b, K),
    "bias_per_product": _bias_in_every_product,
}


@pytest.mark.parametrize("key", sorted(BIAS_WRONG))
def test_corr2d_bias_mistakes_are_named(key):
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d_bias(BIAS_WRONG[key])
    assert info.value.mistake == key
    assert _says(checks.CORR2D_BIAS_MISTAKES, key) in str(info.value)


def test_corr2d_bias_reference_passes(capsys):
    checks.check_corr2d_bias(lambda X, K, b: solutions.corr2d(X, K) + b)
    assert "✓ corr2d_bias: 4 of 4 checks passed" in capsys.readouterr().out


def test_corr2d_bias_unknown_mistake():
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d_bias(lambda X, K, b: _noise(corr2d_ref(X, K)))
    assert info.value.mistake is None
    assert "If check_corr2d failed above" in str(info.value)


# ---------------------------------------------------------------------------------------
# Quizzes: answers from solutions, digests only in course/
# ---------------------------------------------------------------------------------------

Q1_X = np.arange(9).reshape(3, 3)
Q1_K = np.array([[0, 1], [1, -1]])
Q1_RIGHT = solutions.corr2d(Q1_X, Q1_K) + 1


def test_q1_right_answer_passes(capsys):
    checks.check_q1(Q1_RIGHT.astype(int).tolist())
    checks.check_q1(Q1_RIGHT)
    assert "✓ Exercise 1.4 (Q1): correct." in capsys.readouterr().out


def test_q1_matches_design_table():
    np.testing.assert_array_equal(Q1_RIGHT, [[1, 2], [4, 5]])


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (solutions.corr2d(Q1_X, Q1_K), "bias_missing"),
        (solutions.conv2d_true(Q1_X, Q1_K, "valid") + 1, "kernel_flipped"),
        ([[1, 2], [3, 4]], "wrong_answer"),  # option B
        ([[1, 2, 3], [4, 5, 6]], "wrong_shape"),
    ],
)
def test_q1_wrong_answers(answer, key):
    with pytest.raises(CheckFailed) as info:
        checks.check_q1(answer)
    assert info.value.mistake == key


def test_q1_unanswered_is_not_implemented():
    """The released stub `answer_q1 = ...` counts as an unfinished exercise."""
    with pytest.raises(CheckFailed, match="no answer yet") as info:
        checks.check_q1(...)
    assert info.value.mistake == "not_answered"


PARAMS_RIGHT = (1000 * 1000 * 1000 * 1000, 1000 * 1000 * 3 * 3, 3 * 3)


def test_params_right_answer_passes():
    checks.check_params(PARAMS_RIGHT)
    checks.check_params(list(PARAMS_RIGHT))


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ((10**6, 9 * 10**6, 9), "fc_inputs_only"),
        ((2 * 10**6, 9 * 10**6, 9), "fc_added"),
        ((10**12 + 10**6, 9 * 10**6, 9), "fc_with_bias"),
        ((10**12, 9, 9), "local_shared"),
        ((10**12, 10 * 10**6, 9), "local_with_bias"),
        ((10**12, 9 * 10**6, 9 * 10**6), "conv_not_shared"),
        ((10**12, 9 * 10**6, 10), "conv_with_bias"),
        ((10**12, 9 * 10**6, 3), "wrong_answer"),
        ((10**12, 9), "wrong_format"),
    ],
)
def test_params_wrong_answers(answer, key):
    with pytest.raises(CheckFailed) as info:
        checks.check_params(answer)
    assert info.value.mistake == key


def test_params_unanswered():
    with pytest.raises(CheckFailed, match="no answer yet"):
        checks.check_params(...)


def _border_columns(KW: int, dx: int = 8) -> int:
    """Count the output columns where corr(shift(X)) and shift(corr(X)) differ."""
    rng = np.random.default_rng(0)
    X = rng.random((20, 40)) + 0.5
    K = np.ones((KW, KW))

    def shift(A):
        out = np.zeros_like(A)
        out[:, dx:] = A[:, :-dx]
        return out

    diff = solutions.corr2d(shift(X), K) - shift(solutions.corr2d(X, K))
    return int(np.sum(np.any(np.abs(diff) > 1e-9, axis=0)))


def test_border_right_answer_is_kw_minus_one():
    assert _border_columns(3) == 2
    checks.check_border(_border_columns(7))


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (7, "counted_kernel_width"),
        (8, "counted_shift"),
        (12, "counted_both_sides"),
        (3, "wrong_answer"),
    ],
)
def test_border_wrong_answers(answer, key):
    with pytest.raises(CheckFailed) as info:
        checks.check_border(answer)
    assert info.value.mistake == key


def test_no_quiz_answer_is_written_in_the_check_module():
    with open(checks.__file__, encoding="utf-8") as f:
        source = f.read()
    assert "[[1, 2], [4, 5]]" not in source and "1000000000000" not in source
    assert "import solutions" not in source and "from solutions" not in source


# ---------------------------------------------------------------------------------------
# The lecture constants
# ---------------------------------------------------------------------------------------


def test_lecture_constants_agree_with_torch():
    np.testing.assert_allclose(_oracle.corr2d(checks.L000_X, checks.L000_K), checks.L000_Y)
    np.testing.assert_allclose(_oracle.corr2d(checks.L003_X, checks.L003_K), checks.L003_Y)
    np.testing.assert_allclose(_oracle.corr2d(checks.L004_I, checks.L004_K), checks.L004_Y)
    np.testing.assert_allclose(
        solutions.conv2d_true(checks.L003_I, checks.L003_K, "full"), checks.L003_FULL
    )
    # docs/design.md: the slide's 3×3 is the top-left corner, with 12 where the slide says 10.
    np.testing.assert_array_equal(checks.L003_FULL[:3, :3], [[0, 0, 1], [0, 3, 12], [2, 6, 9]])


def test_binomial_sigma_gives_the_lecture_gaussian():
    np.testing.assert_allclose(checks._gauss_oracle(3, checks.SIGMA_BINOMIAL), checks.GAUSS_3X3)


# ---------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------


def _const(a):
    return lambda: np.array(a, dtype=float)  # the notebook asks for float kernels


FIXED = {
    "edge_kernel": (
        checks.check_edge_kernel,
        checks.EDGE,
        {
            "sign_flipped": -checks.EDGE,
            "four_neighbours": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
            "centre_nine": [[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]],
        },
    ),
    "sharpen_kernel": (
        checks.check_sharpen_kernel,
        checks.SHARPEN,
        {
            "identity_missing": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
            "sign_flipped": -checks.SHARPEN,
            "eight_neighbours": [[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]],
        },
    ),
    "sobel_x": (
        checks.check_sobel_x,
        checks.SOBEL_X,
        {
            "sign_flipped": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
            "transposed": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
            "prewitt": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        },
    ),
    "sobel_y": (
        checks.check_sobel_y,
        checks.SOBEL_Y,
        {
            "sign_flipped": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
            "transposed": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
            "prewitt": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        },
    ),
}


@pytest.mark.parametrize(
    ("name", "key"), [(n, k) for n, (_, _, wrong) in FIXED.items() for k in wrong]
)
def test_fixed_kernel_mistakes_are_named(name, key):
    check_fn, _, wrong = FIXED[name]
    with pytest.raises(CheckFailed) as info:
        check_fn(_const(wrong[key]))
    assert info.value.mistake == key
    assert "It looks like" in str(info.value)


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_kernels_pass_and_generic_failure_mentions_the_sum(name, capsys):
    check_fn, right, _ = FIXED[name]
    assert check_fn(_const(right)) is None
    assert "1 of 1 checks passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed) as info:
        check_fn(_const(np.ones((3, 3)) * 7))
    assert info.value.mistake is None
    assert "it sums to 63" in str(info.value)


BOX_WRONG = {
    "not_normalised": lambda k: np.ones((k, k)),
    "divided_by_k": lambda k: np.ones((k, k)) / k,
    "one_dimensional": lambda k: np.ones(k) / k,
}


@pytest.mark.parametrize("key", sorted(BOX_WRONG))
def test_box_blur_mistakes_are_named(key):
    with pytest.raises(CheckFailed) as info:
        checks.check_box_blur(BOX_WRONG[key])
    assert info.value.mistake == key


def test_box_blur_reference_passes(capsys):
    checks.check_box_blur(lambda k: np.full((k, k), 1 / k**2))
    assert "✓ box_blur: 4 of 4 checks passed" in capsys.readouterr().out


def gaussian_ref(size, sigma, *, centre=None, two=2.0, square=True, normalise=True, ndim=2):
    c = (size - 1) / 2 if centre is None else centre(size)
    u = np.arange(size) - c
    d2 = u[:, None] ** 2 + u[None, :] ** 2 if ndim == 2 else u**2
    G = np.exp(-d2 / (two * (sigma**2 if square else sigma)))
    return G / G.sum() if normalise else G


GAUSS_WRONG = {
    "not_normalised": lambda s, g: gaussian_ref(s, g, normalise=False),
    "missing_factor_two": lambda s, g: gaussian_ref(s, g, two=1.0),
    "sigma_not_squared": lambda s, g: gaussian_ref(s, g, square=False),
    "off_centre": lambda s, g: gaussian_ref(s, g, centre=lambda n: n // 2),
    "size_as_radius": lambda s, g: gaussian_ref(2 * s + 1, g),
    "one_dimensional": lambda s, g: gaussian_ref(s, g, ndim=1),
}


@pytest.mark.parametrize("key", sorted(GAUSS_WRONG))
def test_gaussian_mistakes_are_named(key):
    with pytest.raises(CheckFailed) as info:
        checks.check_gaussian_kernel(GAUSS_WRONG[key])
    assert info.value.mistake == key
    assert _says(checks.GAUSSIAN_MISTAKES, key) in str(info.value)


def test_gaussian_reference_passes_and_unknown_mistake_notes_the_sum(capsys):
    checks.check_gaussian_kernel(gaussian_ref)
    assert "✓ gaussian_kernel: 5 of 5 checks passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed) as info:
        checks.check_gaussian_kernel(lambda s, g: gaussian_ref(s, g) * 2)
    assert info.value.mistake == "auto:scaled"  # not catalogued, derived: "2 times"
    assert "2 times the right one" in str(info.value)


# ---------------------------------------------------------------------------------------
# conv2d_true
# ---------------------------------------------------------------------------------------


def conv_loops(X, K, mode="valid", *, flip=lambda K: K[::-1, ::-1], pad=None):
    if mode not in ("valid", "full"):
        raise ValueError(f"unknown mode {mode!r}")
    X, K = np.asarray(X), np.asarray(K)
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, pad(KH, KW) if pad else ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    return corr2d_ref(X, flip(K))


CONV_WRONG = {
    "not_flipped": lambda X, K, mode="valid": conv_loops(X, K, mode, flip=lambda K: K),
    "flipped_rows_only": lambda X, K, mode="valid": conv_loops(X, K, mode, flip=lambda K: K[::-1]),
    "flipped_cols_only": lambda X, K, mode="valid": conv_loops(
        X, K, mode, flip=lambda K: K[:, ::-1]
    ),
    "transposed_not_flipped": lambda X, K, mode="valid": conv_loops(X, K, mode, flip=np.transpose),
    "valid_instead_of_full": lambda X, K, mode="valid": conv_loops(X, K, "valid"),
    "full_instead_of_valid": lambda X, K, mode="valid": conv_loops(X, K, "full"),
    "same_instead_of_full": lambda X, K, mode="valid": conv_loops(
        X, K, mode, pad=lambda KH, KW: ((KH // 2, KH // 2), (KW // 2, KW // 2))
    ),
    "padded_one_side": lambda X, K, mode="valid": conv_loops(
        X, K, mode, pad=lambda KH, KW: ((KH - 1, 0), (KW - 1, 0))
    ),
}


@pytest.mark.parametrize("key", sorted(CONV_WRONG))
def test_conv2d_true_mistakes_are_named(key):
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_true(CONV_WRONG[key])
    assert info.value.mistake == key
    assert _says(checks.CONV2D_TRUE_MISTAKES, key) in str(info.value)


@pytest.mark.parametrize("fn", [conv_loops, solutions.conv2d_true], ids=["loops", "solutions"])
def test_conv2d_true_reference_passes(fn, capsys):
    checks.check_conv2d_true(fn)
    assert "✓ conv2d_true: 8 of 8 checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("refuse", "key"),
    [
        (lambda mode: None, "unknown_mode_accepted"),
        (lambda mode: _assert_mode(mode), "unknown_mode_error_type"),
        (lambda mode: _in_one_string(mode), "unknown_mode_accepted"),
        (lambda mode: _unnamed_mode(mode), "unknown_mode_unnamed"),
    ],
    ids=["accepted", "assert", "substring", "unnamed"],
)
def test_an_unknown_mode_must_raise_value_error(refuse, key):
    """The docstring's Raises: a mode that is neither 'valid' nor 'full' is a ValueError,
    not silently 'full' and not an AssertionError (gone under python -O)."""

    def conv(X, K, mode="valid"):
        refuse(mode)
        return conv_loops(X, K, "valid" if mode == "valid" else "full")

    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_true(conv)
    assert info.value.mistake == key, str(info.value)
    assert "ValueError" in str(info.value)


def _assert_mode(mode):
    assert mode in ("valid", "full"), f"unknown mode {mode}"


def _in_one_string(mode):
    if mode not in "validfull":  # ("valid" "full") without its comma is one string
        raise ValueError(f"unknown mode {mode!r}")


def _unnamed_mode(mode):
    if mode not in ("valid", "full"):
        raise ValueError("mode must be 'valid' or 'full'")


def test_an_integer_bias_must_not_make_the_output_integer():
    """np.full(shape, b) takes b's type: an integer bias truncates every output."""

    def corr2d_bias(X, K, b):
        H, W = X.shape
        KH, KW = K.shape
        Y = np.full((H - KH + 1, W - KW + 1), b)
        for i in range(H - KH + 1):
            for j in range(W - KW + 1):
                Y[i, j] += np.sum(X[i : i + KH, j : j + KW] * K)
        return Y

    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d_bias(corr2d_bias)
    assert info.value.mistake == "auto:fractions_dropped_by_int", str(info.value)
    assert "b = 2 (an int)" in str(info.value)


def test_a_kernel_returned_as_integers_fails_once_its_values_are_right():
    with pytest.raises(CheckFailed) as info:
        checks.check_sobel_y(lambda: np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]))
    assert info.value.mistake == "integer_output"
    assert "dtype=float" in str(info.value)


def test_hand_written_strides_fail_on_a_crop_of_a_larger_image():
    """as_strided with byte strides computed from the width assumes a contiguous array: a
    crop (a view) reaches the function as a view, and its windows read the wrong pixels."""

    def corr2d(X, K):
        H, W = X.shape
        kh, kw = K.shape
        windows = np.lib.stride_tricks.as_strided(
            X, (H - kh + 1, W - kw + 1, kh, kw), (W * 8, 8, W * 8, 8)
        )
        return np.einsum("ijab,ab->ij", windows, K)

    assert corr2d(np.arange(12.0).reshape(3, 4), np.ones((2, 2))).tolist() == [
        [10.0, 14.0, 18.0],
        [26.0, 30.0, 34.0],
    ]  # right on a contiguous array
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d(lambda X, K: corr2d(np.asarray(X, dtype=float), K))
    assert info.value.case == "a crop of a larger image (a view, not a copy)", str(info.value)


def test_rows_only_flip_is_not_blamed_as_no_flip():
    """On lecture 003's kernel a row flip changes nothing, so "not flipped" and "rows only"
    both explain the first failure; the later cases decide which one it is."""
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_true(CONV_WRONG["flipped_rows_only"])
    assert info.value.mistake == "flipped_rows_only"
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_true(CONV_WRONG["not_flipped"])
    assert info.value.mistake == "not_flipped"


def test_conv2d_true_unknown_mistake():
    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_true(lambda X, K, mode="valid": _noise(conv_loops(X, K, mode)))
    assert info.value.mistake is None
    assert "Flip K on both axes" in str(info.value)


# ---------------------------------------------------------------------------------------
# corr2d_as_matrix
# ---------------------------------------------------------------------------------------


def matrix_loops(input_shape, K, *, row_w=None, order="C", kernel=lambda K: K):
    H, W = input_shape
    K = kernel(np.asarray(K, dtype=float))
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    stride = W if row_w is None else row_w(W, W_out)
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    if order == "C":
                        M[i * W_out + j, (i + a) * stride + j + b] = K[a, b]
                    else:
                        M[j * H_out + i, (j + b) * H + i + a] = K[a, b]
    return M


MATRIX_WRONG = {
    "transposed": lambda s, K: matrix_loops(s, K).T,
    "column_major": lambda s, K: matrix_loops(s, K, order="F"),
    "kernel_flipped": lambda s, K: matrix_loops(s, K, kernel=lambda K: K[::-1, ::-1]),
    "row_stride_wrong": lambda s, K: matrix_loops(s, K, row_w=lambda W, W_out: W_out),
}


@pytest.mark.parametrize("key", sorted(MATRIX_WRONG))
def test_corr2d_as_matrix_mistakes_are_named(key):
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d_as_matrix(MATRIX_WRONG[key])
    assert info.value.mistake == key
    assert _says(checks.CORR2D_AS_MATRIX_MISTAKES, key) in str(info.value)


def test_corr2d_as_matrix_reference_passes(capsys):
    checks.check_corr2d_as_matrix(matrix_loops)
    assert "✓ corr2d_as_matrix: 5 of 5 checks passed" in capsys.readouterr().out


def test_corr2d_as_matrix_unknown_mistake():
    with pytest.raises(CheckFailed) as info:
        checks.check_corr2d_as_matrix(lambda s, K: _noise(matrix_loops(s, K)))
    assert info.value.mistake is None
    assert "Structured Linear Operator" in str(info.value)


def test_matrix_oracle_multiplies_like_corr2d():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 6))
    K = rng.standard_normal((2, 3))
    M = checks._matrix_oracle(X.shape, K)
    np.testing.assert_allclose(M @ X.ravel(), solutions.corr2d(X, K).ravel())


def test_answer_digests_are_normalised():
    """A numpy answer and the same nested list give one digest (what students type)."""
    assert answer_digest(np.array([[1.0, 2.0]])) == answer_digest([[1, 2]])


_FULL = "full"


def test_a_mode_compared_by_identity_fails_on_a_mode_built_at_run_time():
    """`mode is "full"` holds for a literal in the call, not for an equal string made at
    run time: the check passes one."""

    def conv(X, K, mode="valid"):
        if mode is _FULL:
            return conv_loops(X, K, "full")
        if mode != "valid":
            raise ValueError(f"unknown mode {mode!r}")
        return conv_loops(X, K, "valid")

    with pytest.raises(CheckFailed) as info:
        checks.check_conv2d_true(conv)
    assert info.value.case == "mode 'full' built at run time ('FULL'.lower())", str(info.value)
