"""Visible checks for assignment 01_convolution (lectures 000, 001, 003, 004).

    from course.checks import conv as checks
    checks.check_corr2d(corr2d)

Each `check_<function>` runs the student's function on the lecture's worked examples
first (the numbers from the slides, written here as constants), then on small non-square
cases whose answers come from torch (`course.checks._oracle`). When an answer is wrong,
the message names the known mistake it matches: every `Mistake` below computes the output
that one particular wrong implementation gives, with torch or numpy operations that are
not the exercise's solution (a flipped kernel fed to torch, a transposed output, ...).

Quiz answers are checked against digests (`answer_digest`), so that this file, which
students can read, does not contain them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course.checks import _oracle
from course.checks._core import (
    Case,
    CheckFailed,
    Mistake,
    Part,
    check,
    check_quiz,
    fmt,
    passed,
    require_answer,
    require_float,
    require_raise,
)
from course.checks._mutate import Knob, recipe_variants

__all__ = [
    "check_border",
    "check_box_blur",
    "check_conv2d_true",
    "check_corr2d",
    "check_corr2d_as_matrix",
    "check_corr2d_bias",
    "check_edge_kernel",
    "check_gaussian_kernel",
    "check_params",
    "check_q1",
    "check_sharpen_kernel",
    "check_sobel_x",
    "check_sobel_y",
]

# ---------------------------------------------------------------------------------------
# The lectures' worked examples (docs/design.md, "Worked examples"; verified against torch in
# tests/course/test_checks_conv.py).
# ---------------------------------------------------------------------------------------

#: Lectures 000 and 002: X = arange(9) as 3×3, K = arange(4) as 2×2.
L000_X = np.arange(9).reshape(3, 3)
L000_K = np.arange(4).reshape(2, 2)
L000_Y = np.array([[19, 25], [37, 43]])
L000_Y_BIAS1 = np.array([[20, 26], [38, 44]])

#: Lectures 003 and 004: the animated 5×5 example with a 3×3 kernel.
L003_X = np.array(
    [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
)
L003_K = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
L003_Y = np.array([[12, 12, 17], [10, 17, 19], [9, 6, 14]])

#: Lecture 003, true convolution with zeros outside: the full 5×5 result. The slide shows
#: its top-left 3×3 corner and prints 10 where 12 is right (row 1, column 2).
L003_I = np.array([[0, 1, 3], [1, 2, 2], [0, 0, 0]])
L003_FULL = np.array(
    [
        [0, 0, 1, 5, 6],
        [0, 3, 12, 12, 4],
        [2, 6, 9, 9, 6],
        [0, 1, 4, 6, 4],
        [0, 0, 0, 0, 0],
    ]
)

#: Lecture 004: the vertical-edge example.
L004_I = np.array(
    [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]]
)
L004_K = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
L004_Y = np.array([[6, -9, -8], [-3, -2, -3], [-3, 0, -2]])

#: The kernels of lectures 000/002 (edge, sharpen, Gaussian blur) and 004 (box blur, Sobel).
EDGE = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
GAUSS_3X3 = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
#: The σ for which a 3×3 Gaussian is exactly lecture 000's 1/16 [[1,2,1],[2,4,2],[1,2,1]]:
#: exp(-1 / (2σ²)) = 1/2.
SIGMA_BINOMIAL = float(1 / np.sqrt(2 * np.log(2)))


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------


def _f(a: Any) -> np.ndarray:
    """A float64 copy (torch cannot read numpy views with negative strides)."""
    return np.array(a, dtype=np.float64)


#: The torch oracle for one-channel cross-correlation; `padding` per side.
_corr = _oracle.corr2d


def _flip(K: Any) -> np.ndarray:
    return _f(K)[::-1, ::-1].copy()


def _show(answer: Any) -> str:
    """A quiz answer on one line: [[1, 2], [3, 4]] rather than a multi-line array."""
    try:
        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return repr(answer)
    if a.ndim == 0:
        return fmt(a)
    whole = bool(np.all(np.isfinite(a)) and np.all(a == np.round(a)))
    return str(a.astype(int).tolist() if whole else a.tolist())


def _quiz(
    answer: Any, *, question: str, digest: str, hint: str, wrong: dict[str, tuple[str, str]]
) -> None:
    """A quiz whose known wrong answers (by digest) have their own hint."""
    __tracebackhide__ = True
    wrong = {d: (key, f"{_show(answer)} is not right. {says}") for d, (key, says) in wrong.items()}
    check_quiz(answer, question, [Part(digest, hint, wrong=wrong)])


# ---------------------------------------------------------------------------------------
# Exercise 1.1 — parameter counts (lectures 000 and 001)
# ---------------------------------------------------------------------------------------

_PARAMS_QUESTION = (
    "fully connected",
    "locally connected (3×3 receptive field)",
    "convolutional (one 3×3 kernel)",
)
_PARAMS_DIGESTS = ("0eb509a4ea38d876", "ebc33cab77dbbcf1", "19581e27de7ced00")
_PARAMS_HINTS = (
    "Every one of the 1000×1000 hidden units is connected to every one of the 1000×1000 "
    "input pixels, with its own weight on each connection (lecture 001, 'fully-connected "
    "unit': y = Σ_{i ∈ image} w_i x_i + b).",
    "Each hidden unit sees only a 3×3 patch, but in a locally connected layer every unit "
    "has its own 3×3 weights (lecture 001, 'locally-connected units').",
    "A convolutional layer uses the same kernel at every position (weight sharing, "
    "lecture 001): count the weights of that one kernel.",
)
_PARAMS_WRONG: tuple[dict[str, tuple[str, str]], ...] = (
    {
        "6cce36d9f8a9e151": (
            "fc_inputs_only",
            "That is the number of inputs; each of the 10^6 hidden units has one weight per "
            "input pixel, so multiply.",
        ),
        "dd80d7a873341d49": (
            "fc_added",
            "That adds the two layer sizes; a fully connected layer has one weight per "
            "(input, hidden unit) pair, so multiply them.",
        ),
        "9436fd5c14df20ea": (
            "fc_with_bias",
            "That includes the 10^6 biases; the question counts weights only.",
        ),
    },
    {
        "19581e27de7ced00": (
            "local_shared",
            "That is the count with weight sharing (the convolutional layer); in a locally "
            "connected layer each hidden unit has its own 3×3 weights.",
        ),
        "fa95b43be4cf8bb0": (
            "local_with_bias",
            "That includes one bias per hidden unit; the question counts weights only.",
        ),
    },
    {
        "ebc33cab77dbbcf1": (
            "conv_not_shared",
            "That counts a separate 3×3 kernel for every output position (a locally "
            "connected layer); a convolutional layer reuses one kernel everywhere.",
        ),
        "4a44dc15364204a8": (
            "conv_with_bias",
            "That includes the bias; the question counts weights only.",
        ),
    },
)


def check_params(answer: Any) -> None:
    """Exercise 1.1: (fully connected, locally connected, convolutional) weight counts for a
    1000×1000 image mapped to a 1000×1000 hidden layer (weights only, no biases)."""
    __tracebackhide__ = True
    require_answer(answer, "Exercise 1.1")
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        raise CheckFailed(
            f"Exercise 1.1: answer_params should be a tuple of three numbers (fully connected, "
            f"locally connected, convolutional); got {fmt(answer)}.",
            mistake="wrong_format",
        )
    for what, value, digest, hint, wrong in zip(
        _PARAMS_QUESTION, answer, _PARAMS_DIGESTS, _PARAMS_HINTS, _PARAMS_WRONG, strict=True
    ):
        _quiz(value, question=f"Exercise 1.1, {what}", digest=digest, hint=hint, wrong=wrong)


# ---------------------------------------------------------------------------------------
# Exercise 1.2 — corr2d (lectures 000, 003, 004)
# ---------------------------------------------------------------------------------------


def _x(case: Case) -> np.ndarray:
    return np.asarray(case.args[0])


def _k(case: Case) -> np.ndarray:
    return np.asarray(case.args[1])


def _corr_flipped(c: Case) -> np.ndarray:
    return _corr(_x(c), _flip(_k(c)))


def _corr_transposed(c: Case) -> np.ndarray:
    return _corr(_x(c), _f(_k(c)).T.copy())


def _too_small(c: Case) -> np.ndarray:
    return np.asarray(c.expected, dtype=float)[:-1, :-1]


def _too_large(c: Case) -> np.ndarray:
    """Output allocated with the input's shape (np.zeros_like(X)), valid part filled."""
    Y = np.zeros(_x(c).shape)
    e = np.asarray(c.expected, dtype=float)
    Y[: e.shape[0], : e.shape[1]] = e
    return Y


def _transposed_output(c: Case) -> np.ndarray:
    return np.asarray(c.expected, dtype=float).T


def _matmul_window(c: Case) -> np.ndarray | None:
    """sum(window @ K): a matrix product instead of an element-wise one (square K only).
    sum_{a,b,d} X[i+a, j+b] K[b, d] is a cross-correlation with K'[a, b] = sum_d K[b, d]."""
    K = _f(_k(c))
    if K.shape[0] != K.shape[1]:
        return None
    return _corr(_x(c), np.tile(K.sum(axis=1), (K.shape[0], 1)))


def _same_index_twice(c: Case) -> np.ndarray | None:
    """X[i:i+KH, i:i+KW]: the row index used for the columns too (lecture 003's typo)."""
    e = np.asarray(c.expected, dtype=float)
    H_out, W_out = e.shape
    X, K = _f(_x(c)), _f(_k(c))
    KH, KW = K.shape
    if H_out - 1 + KW > X.shape[1]:
        return None  # the student's code would raise on this case
    diag = np.array([np.sum(X[i : i + KH, i : i + KW] * K) for i in range(H_out)])
    return np.repeat(diag[:, None], W_out, axis=1)


def _integer_output(c: Case) -> np.ndarray | None:
    """Output allocated with the input's integer dtype: fractions cut towards zero."""
    if not np.issubdtype(_x(c).dtype, np.integer):
        return None
    return np.trunc(np.asarray(c.expected, dtype=float))


CORR2D_POINTER = (
    "Revisit lecture 000, '2-D Convolution': Y[i, j] = Σ_a Σ_b X[i+a, j+b] · K[a, b] for "
    "0 ≤ i < H − KH + 1 and 0 ≤ j < W − KW + 1."
)

CORR2D_MISTAKES = (
    Mistake(
        "kernel_flipped",
        "you flipped the kernel (that is true convolution, lecture 003)",
        "A convolutional layer slides K as it is: multiply X[i+a, j+b] by K[a, b], not by "
        "K[KH-1-a, KW-1-b] (lecture 003, 'Cross-Correlation').",
        _corr_flipped,
    ),
    Mistake(
        "kernel_transposed",
        "you used the kernel transposed (K[b, a] instead of K[a, b])",
        "The first kernel index goes with the row offset a, the second with the column "
        "offset b: X[i+a, j+b] · K[a, b].",
        _corr_transposed,
    ),
    Mistake(
        "output_too_small",
        "your output is one row and one column short (range(H - KH) instead of range(H - KH + 1))",
        "The kernel fits H − KH + 1 times down and W − KW + 1 times across: count the first "
        "position too (lecture 000, 'Y: (n_h − k_h + 1) × (n_w − k_w + 1)').",
        _too_small,
    ),
    Mistake(
        "output_too_large",
        "your output has extra rows/columns of zeros at the bottom and right (it was "
        "allocated larger than the number of positions where the kernel fits, e.g. with "
        "np.zeros_like(X))",
        "Allocate Y with shape (H − KH + 1, W − KW + 1) (lecture 000, '2-D Convolution Layer').",
        _too_large,
    ),
    Mistake(
        "rows_cols_swapped",
        "your output is transposed (rows and columns swapped, e.g. Y[j, i] = ...)",
        "Y[i, j] is the window whose top-left corner is at row i, column j of X.",
        _transposed_output,
    ),
    Mistake(
        "matmul_not_elementwise",
        "you multiplied the window and the kernel as matrices (window @ K) before summing",
        "Use the element-wise product window * K, then sum all its entries (lecture 000: "
        "0×0 + 1×1 + 3×2 + 4×3 = 19).",
        _matmul_window,
    ),
    Mistake(
        "same_index_twice",
        "your window uses the row index for the columns too (X[i:i+KH, i:i+KW]; lecture "
        "003's formula has the same typo, I(i+m, i+n))",
        "The window of Y[i, j] is X[i:i+KH, j:j+KW].",
        _same_index_twice,
    ),
    Mistake(
        "integer_output",
        "your output array has the input's integer dtype, so the fractional parts were cut "
        "off (e.g. np.zeros_like(X) or dtype=X.dtype with an integer image)",
        "Allocate Y as floats: np.zeros((H_out, W_out)).",
        _integer_output,
    ),
)


def _corr2d_cases() -> list[Case]:
    rng = np.random.default_rng(1)
    X46 = rng.integers(-4, 6, size=(4, 6))
    K23 = np.array([[1, -2, 0], [3, 1, -1]])
    X64 = rng.integers(0, 9, size=(6, 4))
    K31 = np.array([[2], [-1], [1]])
    X15 = np.array([[3, 8, 1, 4, 4]])
    K12 = np.array([[1, -1]])  # lecture 003's edge kernel
    X34 = rng.integers(-3, 4, size=(3, 4))
    K34 = rng.integers(-2, 3, size=(3, 4))
    Xi = rng.integers(0, 10, size=(4, 5))
    Kf = np.array([[0.5, -0.25], [0.75, 0.1]])
    Xv = rng.standard_normal((7, 9))[1:6, 2:8]
    return [
        Case("the lecture 000 example", (L000_X, L000_K), L000_Y),
        Case("the lecture 003/004 example (5×5 input, 3×3 kernel)", (L003_X, L003_K), L003_Y),
        Case("the lecture 004 vertical-edge example", (L004_I, L004_K), L004_Y),
        Case("a 4×6 input with an asymmetric 2×3 kernel", (X46, K23), _corr(X46, K23)),
        Case("a 6×4 input with a 3×1 kernel", (X64, K31), _corr(X64, K31)),
        Case("a 1×5 row with lecture 003's edge kernel [[1, -1]]", (X15, K12), _corr(X15, K12)),
        Case("a kernel as large as the input (1×1 output)", (X34, K34), _corr(X34, K34)),
        Case("an integer image with a fractional kernel", (Xi, Kf), _corr(Xi, Kf)),
        # A view into a larger array, as a crop of a photo is: its rows are further apart
        # in memory than its width, which hand-written strides (as_strided) get wrong.
        Case("a crop of a larger image (a view, not a copy)", (Xv, K23), _corr(Xv, K23)),
    ]


def check_corr2d(corr2d: Callable) -> None:
    """Exercise 1.2: corr2d(X, K) on the lecture examples, then non-square cases."""
    __tracebackhide__ = True
    check(
        corr2d,
        name="corr2d",
        cases=_corr2d_cases(),
        mistakes=CORR2D_MISTAKES,
        pointer=CORR2D_POINTER,
        oracle=lambda X, K: _oracle.corr2d(X, K),
    )


# ---------------------------------------------------------------------------------------
# Exercise 1.3 — a convolutional layer with a bias (lecture 000)
# ---------------------------------------------------------------------------------------


def _b(c: Case) -> float:
    return float(c.args[2])


CORR2D_BIAS_MISTAKES = (
    Mistake(
        "bias_missing",
        "the bias is missing (you returned corr(X, K))",
        "Add b to every entry of the output: Y = corr(X, K) + b (lecture 000, '2-D Convolution "
        "Layer': [[19, 25], [37, 43]] + 1 = [[20, 26], [38, 44]]).",
        lambda c: _corr(_x(c), _k(c)),
    ),
    Mistake(
        "bias_added_to_kernel",
        "you added the bias to the kernel (corr(X, K + b)), so every pixel of the window was "
        "multiplied by b as well",
        "The bias is added once per output value, after the weighted sum: Y = corr(X, K) + b.",
        lambda c: _corr(_x(c), _f(_k(c)) + _b(c)),
    ),
    Mistake(
        "bias_added_to_input",
        "you added the bias to the input (corr(X + b, K)), which adds b · sum(K) instead of b",
        "Add b to the output of the cross-correlation, not to X: Y = corr(X, K) + b.",
        lambda c: _corr(_f(_x(c)) + _b(c), _k(c)),
    ),
    Mistake(
        "bias_per_product",
        "you added the bias to every product inside the sum (sum(window * K + b)), so it "
        "was counted KH·KW times",
        "Add b once, after summing the products: Y[i, j] = sum(window * K) + b.",
        lambda c: _corr(_x(c), _k(c)) + _b(c) * _k(c).size,
    ),
)


def check_corr2d_bias(corr2d_bias: Callable) -> None:
    """Exercise 1.3: corr2d_bias(X, K, b) = corr2d(X, K) + b."""
    __tracebackhide__ = True
    rng = np.random.default_rng(3)
    X35 = rng.integers(-3, 5, size=(3, 5))
    K22 = np.array([[2, -1], [0, 3]])
    X26 = rng.integers(0, 6, size=(2, 6))
    K13 = np.array([[1, 0, -2]])
    X34q = rng.integers(-8, 9, size=(3, 4)) / 4 + 0.125  # no output is a whole number
    cases = [
        Case("the lecture 000 example with bias b = 1", (L000_X, L000_K, 1), L000_Y_BIAS1),
        Case(
            "a 3×5 input, a 2×2 kernel and b = -0.5",
            (X35, K22, -0.5),
            _oracle.conv2d(_f(X35)[None, None], _f(K22)[None, None], [-0.5])[0, 0],
        ),
        Case("a 2×6 input, a 1×3 kernel and b = 2.5", (X26, K13, 2.5), _corr(X26, K13) + 2.5),
        # An integer bias with fractional outputs: an output started from b (np.full) or
        # allocated with b's type is an integer array and drops the fractions.
        Case(
            "a 3×4 input in quarters, a 2×2 kernel and b = 2 (an int)",
            (X34q, K22, 2),
            _corr(X34q, K22) + 2,
        ),
    ]
    check(
        corr2d_bias,
        name="corr2d_bias",
        cases=cases,
        mistakes=CORR2D_BIAS_MISTAKES,
        oracle=lambda X, K, b: _oracle.corr2d(X, K) + b,
        pointer="Y = corr2d(X, K) + b: one scalar bias added to every output value (lecture "
        "000, '2-D Convolution Layer'). If check_corr2d failed above, fix corr2d first.",
    )


# ---------------------------------------------------------------------------------------
# Exercise 1.4 — lecture 000, Q1
# ---------------------------------------------------------------------------------------

_Q1_DIGEST = "92e8e3b99ffe1b18"
_Q1_WRONG = {
    "355bdbfe0b1362ee": (
        "bias_missing",
        "That is corr(X, K) without the bias: the layer adds b = 1 to every output value.",
    ),
    "e6b9e2181b002d64": (
        "kernel_flipped",
        "That flips the kernel (true convolution); the layer slides K as it is.",
    ),
}


def check_q1(answer: Any) -> None:
    """Exercise 1.4: the 2×2 output of lecture 000's Q1, worked out by hand."""
    __tracebackhide__ = True
    require_answer(answer, "Exercise 1.4 (Q1)")
    try:
        shape = np.asarray(answer, dtype=float).shape
    except (TypeError, ValueError):
        shape = None
    if shape != (2, 2):
        raise CheckFailed(
            f"Exercise 1.4 (Q1): answer_q1 should be a 2×2 nested list like [[a, b], [c, d]]; "
            f"got {fmt(answer)}. A 2×2 kernel fits (3 − 2 + 1) × (3 − 2 + 1) = 2 × 2 times "
            "in a 3×3 input.",
            mistake="wrong_shape",
        )
    _quiz(
        answer,
        question="Exercise 1.4 (Q1)",
        digest=_Q1_DIGEST,
        hint="Work it out as lecture 000 does for [[19, 25], [37, 43]]: multiply each 2×2 "
        "window of X element-wise by K, add the four products, then add the bias b = 1.",
        wrong=_Q1_WRONG,
    )


# ---------------------------------------------------------------------------------------
# Exercise 1.5 — the lectures' kernels
# ---------------------------------------------------------------------------------------


def _const(a: Any) -> Callable[[Case], np.ndarray]:
    return lambda _c: _f(a)


def _kernel_notes(fn: Callable, args: tuple, *, total: float | None, what: str) -> str:
    """A sentence about the properties of the student's kernel (sum, shape), for failures
    that match no catalogued mistake."""
    try:
        K = np.asarray(fn(*args), dtype=float)
    except Exception:
        return ""
    notes = []
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        notes.append(f"it has shape {K.shape}; a kernel is a square 2-D array")
    elif total is not None and not np.isclose(K.sum(), total):
        notes.append(f"it sums to {K.sum():.6g}; {what} must sum to {total:g}")
    return (" Also: " + "; ".join(notes) + ".") if notes else ""


def _check_fixed(
    fn: Callable, name: str, expected: np.ndarray, label: str, mistakes, pointer, *, total: float
) -> None:
    __tracebackhide__ = True
    pointer = pointer + _kernel_notes(fn, (), total=total, what=f"{name}()")
    check(
        fn,
        name=name,
        cases=[Case(label, (), expected)],
        mistakes=mistakes,
        pointer=pointer,
        quiet=True,
    )
    require_float(
        fn(),
        f"{name}()",
        label,
        "the kernel was written in whole numbers without dtype=float, so np.array made an "
        "integer array; the notebook asks for each kernel as a float array: "
        "np.array([...], dtype=float).",
    )
    passed(name, [label])


def check_edge_kernel(edge_kernel: Callable) -> None:
    """Exercise 1.5: the edge-detection kernel of lecture 000."""
    __tracebackhide__ = True
    mistakes = (
        Mistake(
            "sign_flipped",
            "your kernel has the opposite sign (centre −8, neighbours +1)",
            "Lecture 000's kernel has +8 in the centre and −1 on the eight neighbours.",
            _const(-EDGE),
        ),
        Mistake(
            "four_neighbours",
            "you used only the four direct neighbours (the Laplacian "
            "[[0, −1, 0], [−1, 4, −1], [0, −1, 0]])",
            "Lecture 000's edge kernel subtracts all eight neighbours: centre 8.",
            _const([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
        ),
        Mistake(
            "centre_nine",
            "your centre is 9, so the kernel sums to 1: that is an "
            "8-neighbour sharpening kernel, not an edge detector",
            "An edge detector gives 0 on a flat region, so its entries sum to 0: centre 8.",
            _const([[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]]),
        ),
    )
    _check_fixed(
        edge_kernel,
        "edge_kernel",
        EDGE,
        "lecture 000's edge-detection kernel",
        mistakes,
        "Copy the kernel from lecture 000, 'Examples'.",
        total=0,
    )


def check_sharpen_kernel(sharpen_kernel: Callable) -> None:
    """Exercise 1.5: the sharpening kernel of lecture 000."""
    __tracebackhide__ = True
    mistakes = (
        Mistake(
            "identity_missing",
            "you wrote the Laplacian (centre 4), which sums to 0 and detects edges",
            "Sharpening adds the edges back onto the image: identity + Laplacian, centre "
            "1 + 4 = 5 (lecture 000).",
            _const([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
        ),
        Mistake(
            "sign_flipped",
            "your kernel has the opposite sign (centre −5)",
            "Lecture 000's sharpen kernel has +5 in the centre and −1 on the four direct "
            "neighbours.",
            _const(-SHARPEN),
        ),
        Mistake(
            "eight_neighbours",
            "you wrote the 8-neighbour sharpen kernel (centre 9)",
            "Lecture 000's sharpen kernel uses only the four direct neighbours "
            "(zeros in the corners), centre 5.",
            _const([[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]]),
        ),
    )
    _check_fixed(
        sharpen_kernel,
        "sharpen_kernel",
        SHARPEN,
        "lecture 000's sharpen kernel",
        mistakes,
        "Copy the kernel from lecture 000, 'Examples'.",
        total=1,
    )


def _sobel_mistakes(right: np.ndarray, other: np.ndarray, which: str) -> tuple[Mistake, ...]:
    axis_word = "left minus right" if which == "x" else "top minus bottom"
    prewitt = np.where(right != 0, np.sign(right), 0)
    return (
        Mistake(
            "sign_flipped",
            f"your kernel has the opposite sign (lecture 004's sobel_{which} computes {axis_word})",
            f"Both signs detect the same edges, but this course follows lecture 004: "
            f"sobel_{which} = {right.tolist()}.",
            _const(-right),
        ),
        Mistake(
            "transposed",
            f"you wrote the other Sobel kernel (sobel_{'y' if which == 'x' else 'x'}"
            "), the transpose of this one",
            f"sobel_{which} responds to {'vertical' if which == 'x' else 'horizontal'} "
            f"edges: its non-zero entries are in the "
            f"{'left and right columns' if which == 'x' else 'top and bottom rows'} "
            "(lecture 004).",
            _const(other),
        ),
        Mistake(
            "prewitt",
            "you wrote the Prewitt kernel (all weights ±1)",
            "The Sobel kernel weighs the middle row/column twice: ±2 in the centre of "
            "the non-zero rows/columns (lecture 004).",
            _const(prewitt),
        ),
    )


def check_sobel_x(sobel_x: Callable) -> None:
    """Exercise 1.5: lecture 004's vertical-edge (Sobel x) kernel."""
    __tracebackhide__ = True
    _check_fixed(
        sobel_x,
        "sobel_x",
        SOBEL_X,
        "lecture 004's vertical edge detector",
        _sobel_mistakes(SOBEL_X, SOBEL_Y, "x"),
        "Copy the kernel from lecture 004 ('Vertical edge detector').",
        total=0,
    )


def check_sobel_y(sobel_y: Callable) -> None:
    """Exercise 1.5: lecture 004's horizontal-edge (Sobel y) kernel."""
    __tracebackhide__ = True
    _check_fixed(
        sobel_y,
        "sobel_y",
        SOBEL_Y,
        "lecture 004's horizontal edge detector",
        _sobel_mistakes(SOBEL_Y, SOBEL_X, "y"),
        "Copy the kernel from lecture 004 ('Horizontal edge detector').",
        total=0,
    )


def check_box_blur(box_blur: Callable) -> None:
    """Exercise 1.5: box_blur(k), the k×k averaging kernel (lecture 004 shows k = 3)."""
    __tracebackhide__ = True

    def k_of(c: Case) -> int:
        return int(c.args[0])

    mistakes = (
        Mistake(
            "not_normalised",
            "your kernel is all ones, so it sums to k² and brightens the image k² times",
            "Divide by the number of entries, k·k, so that the kernel "
            "averages (lecture 004: (1/9) × ones for k = 3).",
            lambda c: np.ones((k_of(c), k_of(c))),
        ),
        Mistake(
            "divided_by_k",
            "you divided by k instead of k², so the kernel sums to k",
            "A k×k box has k² entries; each one is 1/k².",
            lambda c: np.ones((k_of(c), k_of(c))) / k_of(c),
        ),
        Mistake(
            "one_dimensional",
            "you returned a 1-D array of length k",
            "Return a k×k array: np.full((k, k), 1 / k**2).",
            lambda c: np.ones(k_of(c)) / k_of(c),
        ),
    )
    cases = [
        Case("lecture 004's 3×3 box blur", (3,), np.ones((3, 3)) / 9),
        Case("k = 5", (5,), np.full((5, 5), 1 / 25)),
        Case("k = 1 (the identity)", (1,), np.ones((1, 1))),
        Case("k = 4", (4,), np.full((4, 4), 1 / 16)),
    ]
    pointer = "box_blur(k) is the k×k array with every entry 1/k² (lecture 004)."
    pointer += _kernel_notes(box_blur, (5,), total=1, what="a blur kernel")
    check(box_blur, name="box_blur", cases=cases, mistakes=mistakes, pointer=pointer)


# ---------------------------------------------------------------------------------------
# Exercise 1.6 — gaussian_kernel
# ---------------------------------------------------------------------------------------


def _gauss_oracle(size: int, sigma: float) -> np.ndarray:
    """torch's Gaussian window exp(-n² / (2σ²)), n centred, as an outer product, sum 1."""
    torch = _oracle._torch()
    g = torch.signal.windows.gaussian(size, std=sigma, sym=True, dtype=torch.float64).numpy()
    G = np.outer(g, g)
    return G / G.sum()


def _gauss_wrong(c: Case, *, centre=None, denom=None, normalise=True, ndim=2, size=None):
    n, sigma = int(c.args[0]), float(c.args[1])
    n = size(n) if size else n
    ctr = centre(n) if centre else (n - 1) / 2
    d = np.arange(n) - ctr
    dd = d[:, None] ** 2 + d[None, :] ** 2 if ndim == 2 else d**2
    G = np.exp(-dd / (denom(sigma) if denom else 2 * sigma**2))
    if normalise == "max":
        return G / G.max()
    return G / G.sum() if normalise else G


def _gauss_recipe(c: Case, *, centre="middle", norm="sum", denom="2s2") -> np.ndarray:
    """The kernel under a recipe with settings changed (`GAUSSIAN_KNOBS`)."""
    return _gauss_wrong(
        c,
        centre={"middle": None, "half": lambda n: n / 2, "floor": lambda n: n // 2}[centre],
        denom={"2s2": None, "s2": lambda s: s**2, "2s": lambda s: 2 * s}[denom],
        normalise={"sum": True, "none": False, "max": "max"}[norm],
    )


#: The Gaussian's settings, each with the neighbours students pick; every kernel with one
#: or two of them changed is tried when no catalogue entry explains the output
#: (course.checks._mutate.recipe_variants).
GAUSSIAN_KNOBS = (
    Knob("centre", "middle", {
        "half": ("the centre is size / 2, half a pixel past the middle (size − 1) / 2",
                 "Measure distances from c = (size − 1) / 2."),
        "floor": ("the centre is size // 2, off by half a pixel for even sizes",
                  "Measure distances from c = (size − 1) / 2."),
    }),
    Knob("norm", "sum", {
        "max": ("the kernel was divided by its maximum instead of its sum, so it does not "
                "sum to 1", "Divide by G.sum(), so that the blur keeps the brightness."),
        "none": ("the kernel is not normalised", "Divide by G.sum()."),
    }),
    Knob("denom", "2s2", {
        "s2": ("the exponent divides by σ², without the 2", "The exponent is −d² / (2σ²)."),
        "2s": ("the exponent divides by 2σ instead of 2σ²", "The exponent is −d² / (2σ²)."),
    }),
)  # fmt: skip
GAUSSIAN_RECIPES = recipe_variants(GAUSSIAN_KNOBS, _gauss_recipe, prefix="gauss")


GAUSSIAN_MISTAKES = (
    Mistake(
        "not_normalised",
        "your kernel is not normalised (its peak is 1, its sum is not)",
        "Divide by the sum of all entries, so that the blur keeps the average brightness.",
        lambda c: _gauss_wrong(c, normalise=False),
    ),
    Mistake(
        "missing_factor_two",
        "you used exp(−d²/σ²): the factor 2 is missing",
        "The Gaussian is exp(−(u² + v²) / (2σ²)).",
        lambda c: _gauss_wrong(c, denom=lambda s: s**2),
    ),
    Mistake(
        "sigma_not_squared",
        "you divided by 2σ instead of 2σ²",
        "σ is a standard deviation: the exponent is −(u² + v²) / (2σ²).",
        lambda c: _gauss_wrong(c, denom=lambda s: 2 * s),
    ),
    Mistake(
        "off_centre",
        "your kernel is centred at size // 2, which is off by half a pixel "
        "for even sizes (the kernel is not symmetric)",
        "Measure distances from the centre c = (size − 1) / 2, which lies between two "
        "pixels when size is even.",
        lambda c: None if int(c.args[0]) % 2 else _gauss_wrong(c, centre=lambda n: n // 2),
    ),
    Mistake(
        "size_as_radius",
        "you used size as the radius (the kernel is (2·size + 1) wide)",
        "gaussian_kernel(size, sigma) has shape (size, size).",
        lambda c: _gauss_wrong(c, size=lambda n: 2 * n + 1),
    ),
    Mistake(
        "one_dimensional",
        "you returned the 1-D Gaussian",
        "Return the 2-D kernel G[u, v] ∝ exp(−(u² + v²) / (2σ²)), shape (size, size).",
        lambda c: _gauss_wrong(c, ndim=1),
    ),
)


def check_gaussian_kernel(gaussian_kernel: Callable) -> None:
    """Exercise 1.6: gaussian_kernel(size, sigma), normalised to sum 1."""
    __tracebackhide__ = True
    cases = [
        Case(
            "size 3 and σ = 1/√(2 ln 2) ≈ 0.849, which gives lecture 000's (1/16)·"
            "[[1, 2, 1], [2, 4, 2], [1, 2, 1]]",
            (3, SIGMA_BINOMIAL),
            GAUSS_3X3,
        ),
        Case("size 5, σ = 1", (5, 1.0), _gauss_oracle(5, 1.0)),
        Case("an even size: 4, σ = 0.8", (4, 0.8), _gauss_oracle(4, 0.8)),
        Case("size 1 (the identity)", (1, 0.5), np.ones((1, 1))),
        Case("size 7, σ = 2.5", (7, 2.5), _gauss_oracle(7, 2.5)),
    ]
    pointer = (
        "G[u, v] = exp(−((u − c)² + (v − c)²) / (2σ²)) with c = (size − 1) / 2, then divide "
        "by G.sum()."
    )
    pointer += _kernel_notes(gaussian_kernel, (5, 1.0), total=1, what="a blur kernel")
    check(
        gaussian_kernel,
        name="gaussian_kernel",
        cases=cases,
        mistakes=GAUSSIAN_MISTAKES,
        pointer=pointer,
        recipes=GAUSSIAN_RECIPES,
    )


# ---------------------------------------------------------------------------------------
# Exercise 1.7 — true convolution (lecture 003)
# ---------------------------------------------------------------------------------------


def _mode(c: Case) -> str:
    return c.kwargs.get("mode", c.args[2] if len(c.args) > 2 else "valid")


def _conv_with(kernel_of: Callable[[np.ndarray], np.ndarray | None]):
    """The output for `mode` with the kernel transformed by `kernel_of` (instead of flipped)."""

    def wrong(c: Case) -> np.ndarray | None:
        K = _f(_k(c))
        K2 = kernel_of(K)
        if K2 is None:
            return None
        KH, KW = K.shape
        pad = (KH - 1, KW - 1) if _mode(c) == "full" else 0
        return _corr(_x(c), K2.copy(), padding=pad)

    return wrong


def _conv_mode(mode: str, *, only_for: str):
    """The right convolution, but computed with the other `mode`."""

    def wrong(c: Case) -> np.ndarray | None:
        if _mode(c) != only_for:
            return None
        K = _k(c)
        KH, KW = K.shape
        pad = (KH - 1, KW - 1) if mode == "full" else 0
        return _corr(_x(c), _flip(K), padding=pad)

    return wrong


def _conv_same(c: Case) -> np.ndarray | None:
    if _mode(c) != "full":
        return None
    KH, KW = _k(c).shape
    return _corr(_x(c), _flip(_k(c)), padding=(KH // 2, KW // 2))


def _conv_one_side(c: Case) -> np.ndarray | None:
    if _mode(c) != "full":
        return None
    KH, KW = _k(c).shape
    return _corr(_x(c), _flip(_k(c)), padding=((KH - 1, 0), (KW - 1, 0)))


CONV2D_TRUE_MISTAKES = (
    Mistake(
        "not_flipped",
        "you did not flip the kernel: that is cross-correlation",
        "True convolution multiplies X[m, n] by K[i − m, j − n]: flip K on both axes "
        "(K[::-1, ::-1]) and then cross-correlate (lecture 003, 'Two-dimensional "
        "Convolution').",
        _conv_with(lambda K: K),
    ),
    Mistake(
        "flipped_rows_only",
        "you flipped the kernel upside down only (K[::-1, :])",
        "Flip both axes: K[::-1, ::-1], a rotation by 180° (lecture 003).",
        _conv_with(lambda K: K[::-1, :]),
    ),
    Mistake(
        "flipped_cols_only",
        "you flipped the kernel left to right only (K[:, ::-1])",
        "Flip both axes: K[::-1, ::-1], a rotation by 180° (lecture 003).",
        _conv_with(lambda K: K[:, ::-1]),
    ),
    Mistake(
        "transposed_not_flipped",
        "you transposed the kernel (K.T) instead of flipping it",
        "Flipping reverses the order of the rows and of the columns: K[::-1, ::-1], which is "
        "not K.T.",
        _conv_with(lambda K: K.T if K.shape[0] == K.shape[1] else None),
    ),
    Mistake(
        "valid_instead_of_full",
        "you returned the 'valid' result for mode='full' (no zero padding)",
        "'full' pads KH − 1 rows of zeros above and below and KW − 1 columns left and right, "
        "so the output is (H + KH − 1) × (W + KW − 1) (lecture 003: 'take the out-of-bound "
        "elements to be zero').",
        _conv_mode("valid", only_for="full"),
    ),
    Mistake(
        "full_instead_of_valid",
        "you returned the 'full' result for mode='valid'",
        "'valid' keeps only the positions where the flipped kernel lies inside X: "
        "(H − KH + 1) × (W − KW + 1), no padding.",
        _conv_mode("full", only_for="valid"),
    ),
    Mistake(
        "same_instead_of_full",
        "you padded KH // 2 and KW // 2 zeros (the 'same' size) instead of KH − 1 and KW − 1",
        "'full' pads KH − 1 rows on the top and on the bottom and KW − 1 columns on each "
        "side, so every overlap of K and X is counted.",
        _conv_same,
    ),
    Mistake(
        "padded_one_side",
        "you padded only the top and the left (your output is the top-left corner of the "
        "full result, as on the lecture 003 slide)",
        "Pad KH − 1 rows on both the top and the bottom and KW − 1 columns on both sides: "
        "the full output is (H + KH − 1) × (W + KW − 1).",
        _conv_one_side,
    ),
)


def _conv_expected(X: Any, K: Any, mode: str) -> np.ndarray:
    KH, KW = np.shape(K)
    pad = (KH - 1, KW - 1) if mode == "full" else 0
    return _corr(X, _flip(K), padding=pad)


def check_conv2d_true(conv2d_true: Callable) -> None:
    """Exercise 1.7: conv2d_true(X, K, mode) for mode 'full' and 'valid'."""
    __tracebackhide__ = True
    rng = np.random.default_rng(7)
    X45 = rng.integers(-3, 6, size=(4, 5))
    K23 = np.array([[1, 2, 0], [-1, 3, 4]])
    X23 = rng.integers(1, 5, size=(2, 3))
    K34 = rng.integers(-2, 4, size=(3, 4))
    X36 = rng.integers(0, 7, size=(3, 6))
    K13 = np.array([[2, 0, -1]])
    cases = [
        Case("the lecture 003 example", (L003_I, L003_K), L003_FULL, {"mode": "full"}),
        Case(
            "the lecture 003/004 5×5 example",
            (L003_X, L003_K),
            _conv_expected(L003_X, L003_K, "valid"),
            {"mode": "valid"},
        ),
        Case(
            "a 4×5 input with an asymmetric 2×3 kernel, full",
            (X45, K23),
            _conv_expected(X45, K23, "full"),
            {"mode": "full"},
        ),
        Case(
            "the same input and kernel, valid",
            (X45, K23),
            _conv_expected(X45, K23, "valid"),
            {"mode": "valid"},
        ),
        Case(
            "a kernel larger than the input (full convolution is commutative)",
            (X23, K34),
            _conv_expected(X23, K34, "full"),
            {"mode": "full"},
        ),
        Case(
            "a 3×6 input with a 1×3 kernel",
            (X36, K13),
            _conv_expected(X36, K13, "valid"),
            {"mode": "valid"},
        ),
        # A mode string made at run time is equal to "full" but not the same object:
        # `mode is "full"` tells them apart, `mode == "full"` does not.
        Case(
            "mode 'full' built at run time ('FULL'.lower())",
            (X36, K13),
            _conv_expected(X36, K13, "full"),
            {"mode": "FULL".lower()},
        ),
        # No mode given: the signature's default, mode="valid".
        Case(
            "no mode given (the default is 'valid')",
            (X45, K23),
            _conv_expected(X45, K23, "valid"),
        ),
    ]
    check(
        conv2d_true,
        name="conv2d_true",
        cases=cases,
        mistakes=CONV2D_TRUE_MISTAKES,
        oracle=lambda X, K, mode="valid": _conv_expected(X, K, mode),
        pointer="Flip K on both axes, pad X with KH − 1 / KW − 1 zeros on every side for "
        "'full' (none for 'valid'), then cross-correlate (lecture 003). conv2d_true uses "
        "your corr2d: if check_corr2d failed above, fix corr2d first.",
        quiet=True,
    )
    for mode in ("circular", "vali"):  # a typo, and a piece of one: `in 'valid full'`
        require_raise(
            lambda mode=mode: conv2d_true(L003_I, L003_K, mode=mode),
            f"conv2d_true(X, K, mode={mode!r})",
            ValueError,
            case="an unknown mode",
            key="unknown_mode",
            accepted="every mode that is not 'valid' is taken to be 'full' (or the other way "
            "round), so a typo silently gives the other size; or the mode is looked up in "
            "one string (`('valid' 'full')` without its comma is 'validfull'), where pieces "
            "of a name are found too",
            how="Check the mode first, and say which one you got: `if mode not in ('valid', "
            "'full'): raise ValueError(f'unknown mode {mode!r}')` (an assert raises "
            "AssertionError, and nothing at all under python -O).",
            names=mode,
        )
    passed("conv2d_true", [c.label for c in cases])


# ---------------------------------------------------------------------------------------
# Exercise 1.8 — translation equivariance at the border
# ---------------------------------------------------------------------------------------

_BORDER_DIGEST = "e7f6c011776e8db7"
_BORDER_WRONG = {
    "7902699be42c8a8e": (
        "counted_kernel_width",
        "A window that lies entirely in the band of zeros gives 0 both ways; count only "
        "the windows that straddle the edge of that band.",
    ),
    "2c624232cdd22177": (
        "counted_shift",
        "Both outputs are 0 in the columns the shift fills with zeros, except where a "
        "window straddles the edge of the band: count those windows.",
    ),
    "6b51d431df5d7f14": (
        "counted_both_sides",
        "On the right both outputs lose the same columns (the image slides out of the "
        "frame before or after filtering): only the left side differs.",
    ),
}


def check_border(answer: Any) -> None:
    """Exercise 1.8: how many output columns differ between corr(shift(X)) and
    shift(corr(X)) for a 7×7 kernel and a shift of 8 pixels to the right."""
    __tracebackhide__ = True
    _quiz(
        answer,
        question="Exercise 1.8",
        digest=_BORDER_DIGEST,
        hint="Look at the difference image above and count its non-zero columns for a 3×3 "
        "kernel; then think about how that number depends on the kernel width KW.",
        wrong=_BORDER_WRONG,
    )


# ---------------------------------------------------------------------------------------
# Exercise 1.9 — convolution as a matrix product (lecture 003)
# ---------------------------------------------------------------------------------------


def _matrix_oracle(shape: tuple[int, int], K: Any) -> np.ndarray:
    """Column p of M is the cross-correlation of the p-th basis image with K (linearity)."""
    H, W = shape
    cols = []
    for p in range(H * W):
        E = np.zeros(H * W)
        E[p] = 1.0
        cols.append(_corr(E.reshape(H, W), K).ravel())
    return np.stack(cols, axis=1)


def _shape(c: Case) -> tuple[int, int]:
    return tuple(int(v) for v in c.args[0])  # type: ignore[return-value]


def _matrix_column_major(c: Case) -> np.ndarray:
    H, W = _shape(c)
    KH, KW = np.shape(c.args[1])
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.asarray(c.expected, dtype=float)
    rows = np.arange(H_out * W_out).reshape(H_out, W_out).ravel(order="F")
    cols = np.arange(H * W).reshape(H, W).ravel(order="F")
    return M[np.ix_(rows, cols)]


def _matrix_row_stride(c: Case) -> np.ndarray | None:
    """The next input row found with W_out instead of W: M[r, (i+a)*W_out + j+b] = K[a, b]."""
    H, W = _shape(c)
    K = _f(c.args[1])
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    M[i * W_out + j, (i + a) * W_out + j + b] = K[a, b]
    return M


CORR2D_AS_MATRIX_MISTAKES = (
    Mistake(
        "transposed",
        "you built the transpose of M (shape (H·W, H_out·W_out)); that matrix maps back "
        "from the output to the input, the transposed convolution of lecture 003",
        "M has one row per output pixel and one column per input pixel: shape (H_out·W_out, H·W).",
        lambda c: np.asarray(c.expected, dtype=float).T,
    ),
    Mistake(
        "column_major",
        "you numbered the pixels column by column (Fortran order)",
        "Lecture 003's vec() and numpy's ravel() go row by row: pixel (i, j) of an "
        "H×W image is entry i·W + j.",
        _matrix_column_major,
    ),
    Mistake(
        "kernel_flipped",
        "your matrix computes true convolution (the kernel is flipped)",
        "M @ X.ravel() must equal corr2d(X, K).ravel(): row (i, j) holds K[a, b] at column "
        "(i + a)·W + (j + b).",
        lambda c: _matrix_oracle(_shape(c), _flip(c.args[1])),
    ),
    Mistake(
        "row_stride_wrong",
        "you used W_out instead of W to step to the next input row (column (i + a)·W_out + j + b)",
        "The columns of M index the input, which is W pixels wide: column (i + a)·W + (j + b).",
        _matrix_row_stride,
    ),
)


def check_corr2d_as_matrix(corr2d_as_matrix: Callable) -> None:
    """Exercise 1.9: corr2d_as_matrix(input_shape, K) -> M, M @ X.ravel() = corr2d(X, K).ravel()."""
    __tracebackhide__ = True
    W = np.array([[1, 2], [3, 4]])  # W11, W12, W21, W22 of the slide
    slide = np.array(
        [
            [1, 2, 0, 3, 4, 0, 0, 0, 0],
            [0, 1, 2, 0, 3, 4, 0, 0, 0],
            [0, 0, 0, 1, 2, 0, 3, 4, 0],
            [0, 0, 0, 0, 1, 2, 0, 3, 4],
        ]
    )
    K23 = np.array([[1, -2, 3], [4, 0, -1]])
    K32 = np.array([[2, -1], [0, 3], [1, 5]])
    K25 = np.array([[1, 2, 3, 4, 5], [-1, 0, 2, 0, 1]])
    K21 = np.array([[3], [-2]])
    cases = [
        Case("lecture 003's 3×3 input and 2×2 kernel (W11..W22 = 1..4)", ((3, 3), W), slide),
        Case("a 3×4 input with a 2×3 kernel", ((3, 4), K23), _matrix_oracle((3, 4), K23)),
        Case("a 4×6 input with a 3×2 kernel", ((4, 6), K32), _matrix_oracle((4, 6), K32)),
        Case("a kernel as large as the input", ((2, 5), K25), _matrix_oracle((2, 5), K25)),
        Case("a 5×1 input with a 2×1 kernel", ((5, 1), K21), _matrix_oracle((5, 1), K21)),
    ]
    check(
        corr2d_as_matrix,
        name="corr2d_as_matrix",
        cases=cases,
        mistakes=CORR2D_AS_MATRIX_MISTAKES,
        pointer="Row i·W_out + j of M holds K[a, b] in column (i + a)·W + (j + b), zeros "
        "elsewhere (lecture 003, 'Convolution as a Structured Linear Operator').",
    )
