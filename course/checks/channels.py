"""Visible checks for assignment 03_channels: multiple input and output channels.

    from course.checks import channels as checks
    checks.check_corr2d_multi_in(corr2d_multi_in)

One `check_<function>(fn)` per exercise of the notebook, and one check per quiz question.
Expected values are the lectures' worked examples (written down as constants) or come from
torch in float64 (`course.checks._oracle`). The counting exercises use torch too: the
parameter count of an `nn.Conv2d`, and a convolution of all-ones arrays, whose outputs add
up to the number of multiplications. Every catalogued mistake gives an output different
from the right one on at least one case, so a wrong answer that matches it is named.

Quiz answers are compared by digest (`answer_digest`), so this file never holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from course.checks import _oracle
from course.checks._core import Case, CheckFailed, Mistake, Part, answer_digest, check, check_quiz
from course.checks._loops import function_loops, loop_message

__all__ = [
    "LECTURE_000_K",
    "LECTURE_000_X",
    "LECTURE_000_Y",
    "check_alexnet_conv1",
    "check_conv1x1",
    "check_conv2d_vectorized",
    "check_conv_mults",
    "check_conv_params",
    "check_corr2d_multi_in",
    "check_corr2d_multi_in_out",
    "check_q3",
    "check_q4",
    "check_small_filters",
]

# ---------------------------------------------------------------------------------------
# Worked examples from the lectures (checked against torch; see docs/design.md).
# ---------------------------------------------------------------------------------------

#: Lecture 000, "Multiple Input Channels": X0 = arange(9), X1 = arange(1, 10) as 3×3.
LECTURE_000_X = np.stack([np.arange(9.0).reshape(3, 3), np.arange(1.0, 10.0).reshape(3, 3)])
#: K0 = arange(4), K1 = arange(1, 5) as 2×2.
LECTURE_000_K = np.stack([np.arange(4.0).reshape(2, 2), np.arange(1.0, 5.0).reshape(2, 2)])
#: (1·1 + 2·2 + 4·3 + 5·4) + (0·0 + 1·1 + 3·2 + 4·3) = 56 at the top left.
LECTURE_000_Y = np.array([[56.0, 72.0], [104.0, 120.0]])

#: Lecture 004, "Convolution on RGB input": the 5×5×3 input before its padding of 1,
#: stored channels first (C, H, W); the slide's x[:, :, c] is LECTURE_004_X[c].
LECTURE_004_X = np.array(
    [
        [[0, 1, 2, 2, 1], [1, 0, 0, 1, 1], [1, 0, 0, 2, 1], [1, 1, 0, 1, 0], [2, 1, 2, 2, 1]],
        [[0, 0, 0, 2, 1], [1, 1, 0, 1, 0], [1, 1, 0, 2, 1], [0, 1, 1, 0, 1], [2, 0, 2, 2, 1]],
        [[2, 2, 2, 0, 2], [0, 0, 1, 0, 0], [2, 2, 1, 2, 2], [0, 1, 0, 0, 2], [1, 0, 0, 2, 0]],
    ],
    dtype=float,
)
#: The two 3×3×3 filters w0 (second listing of its blue slice) and w1, as (C_out, C_in, 3, 3).
LECTURE_004_W = np.array(
    [
        [
            [[-1, 1, -1], [0, -1, 1], [-1, -1, -1]],
            [[-1, 0, 0], [1, 1, 0], [0, 1, 1]],
            [[-1, 1, 0], [-1, -1, 1], [-1, -1, 1]],
        ],
        [
            [[0, -1, 1], [0, -1, -1], [-1, 0, 0]],
            [[-1, 1, 0], [-1, 0, 0], [-1, 0, -1]],
            [[-1, 1, 0], [1, 0, 0], [1, 1, 0]],
        ],
    ],
    dtype=float,
)

POINTER_MULTI_IN = (
    "Lecture 000, 'Multiple Input Channels': correlate each input channel with its own "
    "kernel slice, then add the C_in results into ONE output map."
)
POINTER_MULTI_IN_OUT = (
    "Lecture 000, 'Multiple Output Channels': output channel o is corr2d_multi_in(X, K[o]); "
    "stack the C_out maps along a new first axis, giving (C_out, H_out, W_out)."
)
POINTER_1X1 = (
    "Lecture 003, 'The Power of 1×1 Convolution': every pixel's C_in values are multiplied by the "
    "(C_out, C_in) weight matrix, i.e. Y.reshape(C_out, H*W) = W @ X.reshape(C_in, H*W)."
)
POINTER_PARAMS = (
    "Lecture 001 and 003: each of the C_out filters has C_in*KH*KW weights plus ONE bias."
)
POINTER_MULTS = (
    "Lecture 000 Q3 and lecture 001: at each of the H_out*W_out positions, each of the C_out "
    "filters does C_in*KH*KW multiplications."
)


# ---------------------------------------------------------------------------------------
# Oracles (torch, float64) and small helpers.
# ---------------------------------------------------------------------------------------


#: corr((C_in, H, W), (C_in, KH, KW)) → (H_out, W_out), by torch.
_multi_in = _oracle.good_corr2d_multi_in


def _multi_in_out(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """corr((C_in, H, W), (C_out, C_in, KH, KW)) → (C_out, H_out, W_out), by torch."""
    return _oracle.conv2d(np.asarray(X)[None], np.asarray(K))[0]


def _per_channel(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Each channel correlated with its own kernel slice, NOT summed: (C_in, H_out, W_out)."""
    return np.stack([_oracle.corr2d(x, k) for x, k in zip(X, K, strict=True)])


def _ints(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Small signed integers as floats: readable in messages, exact in float64."""
    return rng.integers(-3, 4, size=shape).astype(float)


def _param_count(C_in: int, C_out: int, KH: int, KW: int, bias: bool) -> int:
    """Parameters of torch.nn.Conv2d (built on the meta device: nothing is allocated)."""
    torch = _oracle._torch()
    layer = torch.nn.Conv2d(C_in, C_out, (KH, KW), bias=bias, device="meta")
    return int(sum(p.numel() for p in layer.parameters()))


def _mult_count(C_in: int, C_out: int, KH: int, KW: int, H_out: int, W_out: int) -> int:
    """Multiplications of a convolution, counted by torch: with all-ones inputs and weights
    every product is 1, so the sum of all outputs is the number of products."""
    x = np.ones((1, C_in, H_out + KH - 1, W_out + KW - 1))
    w = np.ones((C_out, C_in, KH, KW))
    return int(np.rint(_oracle.conv2d(x, w).sum()))


# ---------------------------------------------------------------------------------------
# Exercise 3.1 — corr2d_multi_in
# ---------------------------------------------------------------------------------------


@cache
def _cases_multi_in() -> tuple[Case, ...]:
    rng = np.random.default_rng(301)
    cases = [
        Case("lecture 000's two-channel example", (LECTURE_000_X, LECTURE_000_K), LECTURE_000_Y)
    ]
    for label, x_shape, k_shape in [
        ("a 3-channel 5×6 input with a 2×3 kernel", (3, 5, 6), (3, 2, 3)),
        ("a single-channel input (C_in = 1)", (1, 4, 5), (1, 3, 2)),
        ("a 4-channel input with a 1×1 kernel", (4, 3, 4), (4, 1, 1)),
    ]:
        X, K = _ints(rng, *x_shape), _ints(rng, *k_shape)
        cases.append(Case(label, (X, K), _multi_in(X, K)))
    return tuple(cases)


MISTAKES_MULTI_IN: tuple[Mistake, ...] = (
    Mistake(
        "channels_not_summed",
        "you returned one map per input channel, stacked, instead of their sum",
        "Add the per-channel maps together (shape (H_out, W_out)). " + POINTER_MULTI_IN,
        lambda c: _per_channel(*c.args),
    ),
    Mistake(
        "only_first_channel",
        "only the first input channel was used",
        "Loop over all C_in channels and add each one's map. " + POINTER_MULTI_IN,
        lambda c: _oracle.corr2d(c.args[0][0], c.args[1][0]),
    ),
    Mistake(
        "only_last_channel",
        "only the last input channel survived: the loop assigns `Y = ...` instead of adding "
        "to it (`Y = Y + ...`)",
        "Start from zeros and accumulate with `+=`. " + POINTER_MULTI_IN,
        lambda c: _oracle.corr2d(c.args[0][-1], c.args[1][-1]),
    ),
    Mistake(
        "summed_inputs_first",
        "you added up the input channels (and the kernel slices) first and correlated the two sums",
        "That mixes every channel with every kernel slice: corr(X0 + X1, K0 + K1) has the "
        "cross terms corr(X0, K1) and corr(X1, K0). Correlate channel c with slice c only, "
        "then add. " + POINTER_MULTI_IN,
        lambda c: _oracle.corr2d(c.args[0].sum(axis=0), c.args[1].sum(axis=0)),
    ),
    Mistake(
        "mean_instead_of_sum",
        "you averaged the per-channel maps instead of adding them",
        "A convolution layer sums over channels (lecture 001: a 3-D sum over channel, row "
        "and column); drop the division by C_in. " + POINTER_MULTI_IN,
        lambda c: _multi_in(*c.args) / c.args[0].shape[0],
    ),
    Mistake(
        "kernel_flipped",
        "each kernel slice was flipped (true convolution, lecture 003) before sliding",
        "Deep-learning 'convolution' is cross-correlation: use K[c] as it is.",
        lambda c: _multi_in(c.args[0], c.args[1][:, ::-1, ::-1].copy()),
    ),
    Mistake(
        "channels_mismatched",
        "input channel c was paired with the wrong kernel slice (K[C_in - 1 - c], e.g. "
        "from iterating one of them in reverse)",
        "Pair X[c] with K[c] for the same c. " + POINTER_MULTI_IN,
        lambda c: _multi_in(c.args[0], c.args[1][::-1].copy()),
    ),
)


def check_corr2d_multi_in(fn: Callable) -> None:
    """Exercise 3.1: `fn(X, K)` with X (C_in, H, W), K (C_in, KH, KW) → (H_out, W_out)."""
    __tracebackhide__ = True
    check(
        fn,
        name="corr2d_multi_in",
        cases=_cases_multi_in(),
        mistakes=MISTAKES_MULTI_IN,
        oracle=_multi_in,
        pointer=POINTER_MULTI_IN,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.2 — corr2d_multi_in_out (and 3.5, its vectorised twin)
# ---------------------------------------------------------------------------------------


@cache
def _cases_multi_in_out() -> tuple[Case, ...]:
    rng = np.random.default_rng(302)
    # C_in = C_out = 2 first: reading K as (C_in, C_out, ...) then gives a wrong value
    # rather than an IndexError, so that mistake can be named. (K and K + 1 would not do:
    # lecture 000's K1 = K0 + 1, so the swapped reading gives the right first channel.)
    K2 = np.stack([LECTURE_000_K, -LECTURE_000_K])  # (C_out, C_in, KH, KW) = (2, 2, 2, 2)
    cases = [
        Case(
            "lecture 000's two-channel input with two kernels, K and −K",
            (LECTURE_000_X, K2),
            _multi_in_out(LECTURE_000_X, K2),
        ),
    ]
    Xp = np.pad(LECTURE_004_X, ((0, 0), (1, 1), (1, 1)))
    cases.append(
        Case(
            "lecture 004's RGB example (its padded 3×7×7 input, two filters)",
            (Xp, LECTURE_004_W),
            _multi_in_out(Xp, LECTURE_004_W),
        )
    )
    for label, x_shape, k_shape in [
        ("3 input and 3 output channels, 4×5 input, 2×2 kernels", (3, 4, 5), (3, 3, 2, 2)),
        ("C_in = 1, C_out = 2, non-square 3×2 kernels", (1, 5, 4), (2, 1, 3, 2)),
        ("C_in = 2, C_out = 4, 1×1 kernels", (2, 3, 4), (4, 2, 1, 1)),
        (
            "C_out = 1: the output keeps its channel axis, (1, H_out, W_out)",
            (2, 4, 4),
            (1, 2, 2, 2),
        ),
    ]:
        X, K = _ints(rng, *x_shape), _ints(rng, *k_shape)
        cases.append(Case(label, (X, K), _multi_in_out(X, K)))
    return tuple(cases)


def _axes_swapped(c: Case) -> np.ndarray | None:
    X, K = c.args
    if K.shape[0] != K.shape[1]:
        return None  # the swapped reading has the wrong shape: it would raise instead
    return _multi_in_out(X, K.swapaxes(0, 1).copy())


MISTAKES_MULTI_IN_OUT: tuple[Mistake, ...] = (
    Mistake(
        "channels_not_summed",
        "the input channels were not summed: you returned (C_out, C_in, H_out, W_out)",
        "Each output channel is ONE map, the sum over input channels (your "
        "corr2d_multi_in does that). " + POINTER_MULTI_IN_OUT,
        lambda c: np.stack([_per_channel(c.args[0], k) for k in c.args[1]]),
    ),
    Mistake(
        "only_first_output",
        "you returned only the first output channel, corr2d_multi_in(X, K[0])",
        "Loop over all C_out kernels. " + POINTER_MULTI_IN_OUT,
        lambda c: _multi_in(c.args[0], c.args[1][0]),
    ),
    Mistake(
        "output_channels_reversed",
        "the output channels come out in reverse order",
        "Output channel o must come from kernel K[o]. " + POINTER_MULTI_IN_OUT,
        lambda c: _multi_in_out(*c.args)[::-1],
    ),
    Mistake(
        "kernel_axes_swapped",
        "K was read as (C_in, C_out, KH, KW), i.e. K[c, o] where K[o, c] was meant",
        "The weight layout is (C_out, C_in, KH, KW), as in torch: the FIRST index picks "
        "the output channel. " + POINTER_MULTI_IN_OUT,
        _axes_swapped,
    ),
    Mistake(
        "channels_last",
        "the output is channels-last, (H_out, W_out, C_out), e.g. from np.stack(..., axis=-1) "
        "or np.dstack",
        "This course stores channels first (NCHW): stack along axis 0. " + POINTER_MULTI_IN_OUT,
        lambda c: np.moveaxis(_multi_in_out(*c.args), 0, -1),
    ),
    Mistake(
        "kernel_flipped",
        "the kernels were flipped (true convolution, lecture 003) before sliding",
        "Deep-learning 'convolution' is cross-correlation: use the kernels as they are.",
        lambda c: _multi_in_out(c.args[0], c.args[1][..., ::-1, ::-1].copy()),
    ),
)


def check_corr2d_multi_in_out(fn: Callable) -> None:
    """Exercise 3.2: `fn(X, K)`, X (C_in, H, W), K (C_out, C_in, KH, KW) → (C_out, H_out, W_out)."""
    __tracebackhide__ = True
    check(
        fn,
        name="corr2d_multi_in_out",
        cases=_cases_multi_in_out(),
        mistakes=MISTAKES_MULTI_IN_OUT,
        oracle=_multi_in_out,
        pointer=POINTER_MULTI_IN_OUT,
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.3 — conv1x1
# ---------------------------------------------------------------------------------------


@cache
def _cases_1x1() -> tuple[Case, ...]:
    rng = np.random.default_rng(303)
    cases = []
    for label, (C_in, C_out, H, W) in [
        # C_in = C_out first: a transposed weight matrix then gives wrong values instead
        # of a shape error, so that mistake can be named.
        ("3 input and 3 output channels on a 3×4 input", (3, 3, 3, 4)),
        ("a 2-channel 2×3 input with three 1×1 filters", (2, 3, 2, 3)),
        ("4 input channels mixed down to 2 on a 2×5 input", (4, 2, 2, 5)),
        ("a single output channel (C_out = 1)", (3, 1, 4, 2)),
        ("a single input channel (C_in = 1)", (1, 3, 3, 3)),
    ]:
        X, K = _ints(rng, C_in, H, W), _ints(rng, C_out, C_in, 1, 1)
        cases.append(Case(label, (X, K), _multi_in_out(X, K)))
    return tuple(cases)


def _1x1_weight_transposed(c: Case) -> np.ndarray | None:
    X, K = c.args
    if K.shape[0] != K.shape[1]:
        return None  # a transposed (C_in, C_out) matrix does not fit X: that version raises
    return _multi_in_out(X, K.swapaxes(0, 1).copy())


def _1x1_input_reshaped(c: Case) -> np.ndarray:
    X, K = c.args
    C_in, H, W = X.shape
    X_wrong = X.reshape(H * W, C_in).T.reshape(C_in, H, W)  # pixels read as rows
    return _multi_in_out(X_wrong, K)


def _1x1_output_reshaped(c: Case) -> np.ndarray:
    X, K = c.args
    Y = _multi_in_out(X, K)  # (C_out, H, W)
    C_out, H, W = Y.shape
    return Y.reshape(C_out, H * W).T.reshape(C_out, H, W)  # (H*W, C_out) read as (C_out, H, W)


MISTAKES_1X1: tuple[Mistake, ...] = (
    Mistake(
        "weight_transposed",
        "the weight matrix was transposed: W[c, o] was used where W[o, c] was meant (this "
        "also happens with K.reshape(C_in, C_out), since a reshape is not a transpose)",
        "K.reshape(C_out, C_in), or K[:, :, 0, 0], is already the (C_out, C_in) matrix: use "
        "it as it is, on the left of X.reshape(C_in, H*W). " + POINTER_1X1,
        _1x1_weight_transposed,
    ),
    Mistake(
        "input_reshaped_wrong",
        "X was reshaped to (H*W, C_in) as if it were channels-last, which scrambles pixels "
        "and channels",
        "X is (C_in, H, W): X.reshape(C_in, H*W) keeps each channel's pixels together. "
        + POINTER_1X1,
        _1x1_input_reshaped,
    ),
    Mistake(
        "output_reshaped_wrong",
        "a (H*W, C_out) product was reshaped straight to (C_out, H, W), which scrambles the pixels",
        "Transpose to (C_out, H*W) before the reshape, or compute W @ X2 so that the "
        "product is (C_out, H*W) to begin with. " + POINTER_1X1,
        _1x1_output_reshaped,
    ),
    Mistake(
        "channels_not_summed",
        "the input channels were multiplied by their weights but not summed: you returned "
        "(C_out, C_in, H, W)",
        "The matrix product does the sum over C_in for you. " + POINTER_1X1,
        lambda c: c.args[1] * c.args[0][None],
    ),
)


def check_conv1x1(fn: Callable) -> None:
    """Exercise 3.3: `fn(X, K)`, X (C_in, H, W), K (C_out, C_in, 1, 1) → (C_out, H, W)."""
    __tracebackhide__ = True
    check(
        fn, name="conv1x1", cases=_cases_1x1(), mistakes=MISTAKES_1X1, pointer=POINTER_1X1,
        quiet=True, oracle=_multi_in_out,
    )  # fmt: skip
    _no_loops(fn, "conv1x1", "Exercise 3.3")
    print(f"✓ conv1x1: {len(_cases_1x1())} of {len(_cases_1x1())} checks passed, no loops.")


def _no_loops(fn: Callable, name: str, exercise: str) -> None:
    """Exercises that ask for vectorised code fail a loop, read from the code."""
    __tracebackhide__ = True
    where = function_loops(fn)
    if where:
        raise CheckFailed(loop_message(name, exercise, where), mistake="python_loop")


# ---------------------------------------------------------------------------------------
# Exercise 3.4 — counting parameters and multiplications
# ---------------------------------------------------------------------------------------


@cache
def _cases_params() -> tuple[Case, ...]:
    cases = [
        Case("lecture 001 (six 5×5 filters on a 3-channel input)", (3, 6, 5, 5), 456),
        Case("lecture 003 (ten 5×5 filters on a 3-channel input)", (3, 10, 5, 5), 760),
    ]
    for label, args, bias in [
        ("C_in = 4, C_out = 2, a 3×1 kernel, bias=False", (4, 2, 3, 1), False),
        ("C_in = 5, C_out = 7, a 2×3 kernel", (5, 7, 2, 3), True),
        ("C_in = 1, C_out = 8, a 3×3 kernel", (1, 8, 3, 3), True),
    ]:
        cases.append(Case(label, args, _param_count(*args, bias=bias), {"bias": bias}))
    return tuple(cases)


def _bias_on(c: Case) -> bool:
    return c.kwargs.get("bias", True)


def _weights(c: Case) -> int:
    C_in, C_out, KH, KW = c.args
    return C_out * C_in * KH * KW


MISTAKES_PARAMS: tuple[Mistake, ...] = (
    Mistake(
        "bias_forgotten",
        "the biases were not counted",
        "With bias=True each filter adds one bias. " + POINTER_PARAMS,
        lambda c: _weights(c) if _bias_on(c) else None,
    ),
    Mistake(
        "bias_flag_ignored",
        "the biases were counted although bias=False",
        "Add the C_out biases only when `bias` is True. " + POINTER_PARAMS,
        lambda c: None if _bias_on(c) else _weights(c) + c.args[1],
    ),
    Mistake(
        "bias_per_input_channel",
        "you counted C_in biases instead of C_out",
        "There is one bias per filter, i.e. per OUTPUT channel. " + POINTER_PARAMS,
        lambda c: _weights(c) + c.args[0] if _bias_on(c) else None,
    ),
    Mistake(
        "bias_per_kernel_slice",
        "you counted a bias for every 2-D kernel slice, C_out*C_in*(KH*KW + 1)",
        "A filter spans all C_in channels and has ONE bias: (C_in*KH*KW + 1)*C_out. "
        + POINTER_PARAMS,
        lambda c: c.args[1] * c.args[0] * (c.args[2] * c.args[3] + 1) if _bias_on(c) else None,
    ),
    Mistake(
        "one_bias_per_layer",
        "you counted one bias for the whole layer instead of one per filter",
        "Each of the C_out filters has its own bias: add C_out, not 1. " + POINTER_PARAMS,
        lambda c: _weights(c) + 1 if _bias_on(c) and c.args[1] > 1 else None,
    ),
    Mistake(
        "C_in_forgotten",
        "each filter was counted as a single KH×KW slice: the input channels are missing",
        "Filters always extend through the full depth of the input (lecture 001): each has "
        "C_in*KH*KW weights. " + POINTER_PARAMS,
        lambda c: c.args[1] * (c.args[2] * c.args[3] + _bias_on(c)),
    ),
    Mistake(
        "C_out_forgotten",
        "only one filter was counted",
        "A layer with C_out output channels has C_out filters. " + POINTER_PARAMS,
        lambda c: c.args[0] * c.args[2] * c.args[3] + _bias_on(c),
    ),
)


def check_conv_params(fn: Callable) -> None:
    """Exercise 3.4: `fn(C_in, C_out, KH, KW, *, bias=True)` → number of learnable parameters."""
    __tracebackhide__ = True
    check(
        fn,
        name="conv_params",
        cases=_cases_params(),
        mistakes=MISTAKES_PARAMS,
        pointer=POINTER_PARAMS,
        oracle=lambda C_in, C_out, KH, KW, *, bias=True: _param_count(C_in, C_out, KH, KW, bias),
    )
    _require_python_int(
        fn(3, 6, 5, 5, bias=True),
        "conv_params(3, 6, 5, 5, bias=True)",
        "lecture 001's six 5×5 filters over 3 channels, with biases",
    )


@cache
def _cases_mults() -> tuple[Case, ...]:
    cases = [
        Case(
            "lecture 001 (six 5×5 filters, 3 channels, 28×28 output)", (3, 6, 5, 5, 28, 28), 352_800
        ),
    ]
    for label, args in [
        ("C_in = 2, C_out = 4, a 3×2 kernel, 5×7 output", (2, 4, 3, 2, 5, 7)),
        ("C_in = 1, C_out = 3, a 1×1 kernel, 6×4 output", (1, 3, 1, 1, 6, 4)),
        ("C_in = 6, C_out = 1, a 2×2 kernel, 3×3 output", (6, 1, 2, 2, 3, 3)),
    ]:
        cases.append(Case(label, args, _mult_count(*args)))
    return tuple(cases)


def _mults(c: Case) -> int:
    C_in, C_out, KH, KW, H_out, W_out = c.args
    return C_out * H_out * W_out * C_in * KH * KW


MISTAKES_MULTS: tuple[Mistake, ...] = (
    Mistake(
        "C_in_forgotten",
        "the input channels are missing: each window was counted as KH*KW multiplications",
        "A filter reaches through all C_in channels, so one output value costs "
        "C_in*KH*KW multiplications (lecture 000 Q3: 3×3×3 per location). " + POINTER_MULTS,
        lambda c: _mults(c) // c.args[0],
    ),
    Mistake(
        "C_out_forgotten",
        "only one filter was counted",
        "Each of the C_out filters slides over the whole input. " + POINTER_MULTS,
        lambda c: _mults(c) // c.args[1],
    ),
    Mistake(
        "positions_forgotten",
        "you counted one window position only: the H_out*W_out positions are missing",
        "Multiply by the number of output pixels. " + POINTER_MULTS,
        lambda c: _mults(c) // (c.args[4] * c.args[5]),
    ),
    Mistake(
        "bias_counted",
        "you counted the bias as one more multiplication per output value",
        "The bias is ADDED, not multiplied; multiplications are C_in*KH*KW per output "
        "value. " + POINTER_MULTS,
        lambda c: _mults(c) + c.args[1] * c.args[4] * c.args[5],
    ),
)


def check_conv_mults(fn: Callable) -> None:
    """Exercise 3.4: `fn(C_in, C_out, KH, KW, H_out, W_out)` → scalar multiplications."""
    __tracebackhide__ = True
    check(
        fn, name="conv_mults", cases=_cases_mults(), mistakes=MISTAKES_MULTS, pointer=POINTER_MULTS
    )
    _require_python_int(
        fn(3, 6, 5, 5, 28, 28),
        "conv_mults(3, 6, 5, 5, 28, 28)",
        "lecture 001 (six 5×5 filters, 3 channels, 28×28 output)",
    )


def _require_python_int(got: Any, call: str, label: str) -> None:
    """A count is the docstring's `int`: not a float, and not a numpy integer."""
    __tracebackhide__ = True
    if isinstance(got, np.integer):
        raise CheckFailed(
            f"{call} returned {got!r}, a numpy integer; the docstring asks for a Python "
            "int.\nIt looks like the count came from numpy (np.prod, or arithmetic on a "
            "numpy value), which gives numpy integers: they overflow silently past 2**63 "
            "and are not `int` to code that tests isinstance(n, int). Return int(...) of it.",
            mistake="numpy_int",
            case=label,
        )
    if not isinstance(got, int) or isinstance(got, bool):
        raise CheckFailed(
            f"{call} returned {got!r}, a {type(got).__name__}; the docstring asks for an "
            "int (a count).\nIt looks like a division with `/` is in the formula: `/` "
            "always gives a float, even when it divides exactly. Count with products "
            "only, or divide with `//`.",
            mistake="count_not_int",
            case=label,
        )


# ---------------------------------------------------------------------------------------
# Exercise 3.4 — quiz answers (by digest; the answers themselves are not in this file)
# ---------------------------------------------------------------------------------------


def _answer(
    answer: Any,
    *,
    question: str,
    digest: str,
    hint: str,
    known_wrong: Sequence[tuple[Any, str, str]] = (),
) -> None:
    """Compare `answer` with `digest`; name a tempting wrong answer when it is one.

    known_wrong: (tempting wrong answer, mistake key, what it forgot, completing
        "It looks like ..."). The wrong answers are compared by digest too.
    """
    __tracebackhide__ = True
    wrong = {
        answer_digest(value): (key, f"{{}} is not right. It looks like {says}. {hint}")
        for value, key, says in known_wrong
    }
    check_quiz(answer, question, [Part(digest, hint, wrong=wrong, show=repr)])


# Digests of the right answers (course.checks.answer_digest); the answers are not stored.
_Q3 = "1f6c29f3e5c3d158"
_Q4 = "88831144c552348a"
_ALEXNET_SHAPE = "97fe4b23eebb6f22"
_ALEXNET_PARAMS = "54acfb6af56885e4"
_WEIGHTS_7X7 = "37a6159d54694196"
_WEIGHTS_3X3_STACK = "c9a7b20c53c194be"
_RECEPTIVE_FIELD = "7902699be42c8a8e"


def check_q3(answer_q3: Any) -> None:
    """Lecture 000 Q3: multiplications of 64 3×3 kernels on a 224×224 RGB image."""
    __tracebackhide__ = True
    _answer(
        answer_q3,
        question="Q3 (multiplications)",
        digest=_Q3,
        hint="Count the multiplications of one output value (C_in*KH*KW), then multiply by "
        "the number of output values, C_out*H_out*W_out, with H_out = 224 - 3 + 1.",
        known_wrong=[
            (
                64 * 3 * 3 * 222 * 222,
                "C_in_forgotten",
                "the 3 input channels are missing (answer A of the slide)",
            ),
            (
                64 * 3 * 3 * 3 * 224 * 224,
                "input_size_used",
                "you used the input size 224 where the output size belongs",
            ),
            (3 * 3 * 3 * 222 * 222, "C_out_forgotten", "only one of the 64 kernels was counted"),
        ],
    )


def check_q4(answer_q4: Any) -> None:
    """Lecture 000 Q4: learnable parameters of that layer (with biases)."""
    __tracebackhide__ = True
    _answer(
        answer_q4,
        question="Q4 (parameters)",
        digest=_Q4,
        hint="Each kernel has C_in*KH*KW weights and one bias; the image size does not "
        "matter (weight sharing).",
        known_wrong=[
            (3 * 3 * 3 * 64, "bias_forgotten", "the biases are missing (answer C of the slide)"),
            (
                64 * 222 * 222,
                "per_position",
                "you counted one parameter per output value, but weights are shared across "
                "positions",
            ),
            ((3 * 3 + 1) * 64, "C_in_forgotten", "the 3 input channels are missing"),
        ],
    )


def check_alexnet_conv1(alexnet_conv1_shape: Any, alexnet_conv1_params: Any) -> None:
    """Lecture 003: AlexNet CONV1, 96 11×11 filters at stride 4 on a 227×227×3 image."""
    __tracebackhide__ = True
    shape = alexnet_conv1_shape
    hint = "Use H_out = (H + 2*padding - KH) // stride + 1 and give (C_out, H_out, W_out)."
    known_wrong = []
    # The right numbers in the slide's channels-last order (H, W, C)?
    three = isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 3
    if three and answer_digest((shape[2], shape[0], shape[1])) == _ALEXNET_SHAPE:
        known_wrong = [
            (
                shape,
                "channels_last",
                "you wrote the shape channels-last, (H, W, C), as the slide does",
            )
        ]
        hint = "This course writes shapes channels first: (C_out, H_out, W_out)."
    _answer(
        shape,
        question="AlexNet CONV1 output shape",
        digest=_ALEXNET_SHAPE,
        hint=hint,
        known_wrong=known_wrong,
    )
    _answer(
        alexnet_conv1_params,
        question="AlexNet CONV1 parameters",
        digest=_ALEXNET_PARAMS,
        hint="(C_in*KH*KW + 1) * C_out; neither the stride nor the image size changes it.",
        known_wrong=[
            (11 * 11 * 3 * 96, "bias_forgotten", "the 96 biases are missing"),
            ((11 * 11 + 1) * 96, "C_in_forgotten", "the 3 input channels are missing"),
        ],
    )


def check_small_filters(
    weights_one_7x7: Any, weights_three_3x3: Any, receptive_field_three_3x3: Any
) -> None:
    """Lecture 003: one 7×7 layer vs a stack of three 3×3 layers, C = 64 channels."""
    __tracebackhide__ = True
    _answer(
        weights_one_7x7,
        question="weights of one 7×7 layer",
        digest=_WEIGHTS_7X7,
        hint="C filters of size 7×7×C, no biases: conv_params(C, C, 7, 7, bias=False).",
        known_wrong=[
            (49 * 64, "C_in_forgotten", "the input channels are missing (49C, not 49C²)"),
        ],
    )
    _answer(
        weights_three_3x3,
        question="weights of three 3×3 layers",
        digest=_WEIGHTS_3X3_STACK,
        hint="Each of the three layers has C filters of size 3×3×C, no biases.",
        known_wrong=[
            (9 * 64 * 64, "one_layer_only", "only one of the three layers was counted"),
            (27 * 64, "C_in_forgotten", "the input channels are missing (27C, not 27C²)"),
        ],
    )
    _answer(
        receptive_field_three_3x3,
        question="receptive field of three stacked 3×3 layers",
        digest=_RECEPTIVE_FIELD,
        hint="Each extra 3×3 layer (stride 1) widens the region by 2 pixels: 3, then 5, "
        "then ...; give the side length as one number.",
        known_wrong=[(9, "area_not_side", "you gave 3×3 = 9, the area of one kernel")],
    )


# ---------------------------------------------------------------------------------------
# Exercise 3.5 — conv2d_vectorized
# ---------------------------------------------------------------------------------------


@cache
def _cases_vectorized() -> tuple[Case, ...]:
    rng = np.random.default_rng(305)
    extra = []
    for label, x_shape, k_shape in [
        ("a square, asymmetric 3×3 kernel on a 2-channel 5×6 input", (2, 5, 6), (3, 2, 3, 3)),
        ("3 channels in, 4 out, 8×9 input, 2×3 kernels", (3, 8, 9), (4, 3, 2, 3)),
    ]:
        X, K = _ints(rng, *x_shape), _ints(rng, *k_shape)
        extra.append(Case(label, (X, K), _multi_in_out(X, K)))
    lecture_000, lecture_004, *others = _cases_multi_in_out()
    # Lecture 004's irregular numbers first: on lecture 000's ramps (X1 = X0 + 1, both
    # linear in i and j) a transposed kernel and a mis-ordered im2col give the same output,
    # so the first failing case could not tell those two mistakes apart.
    return (lecture_004, extra[0], lecture_000, *others, extra[1])


def _kernel_hw_transposed(c: Case) -> np.ndarray | None:
    X, K = c.args
    if K.shape[2] != K.shape[3]:
        return None  # the einsum with swapped kernel indices would not even run
    return _multi_in_out(X, K.swapaxes(2, 3).copy())


def _im2col_cols_hwc(c: Case) -> np.ndarray:
    """Columns flattened in (KH, KW, C_in) order, weights in (C_in, KH, KW) order."""
    X, K = c.args
    C_out, C_in, KH, KW = K.shape
    return _multi_in_out(X, K.reshape(C_out, KH, KW, C_in).transpose(0, 3, 1, 2).copy())


def _im2col_weights_hwc(c: Case) -> np.ndarray:
    """Columns flattened in (C_in, KH, KW) order, weights in (KH, KW, C_in) order."""
    X, K = c.args
    C_out, C_in, KH, KW = K.shape
    return _multi_in_out(X, K.transpose(0, 2, 3, 1).reshape(C_out, C_in, KH, KW).copy())


MISTAKES_VECTORIZED: tuple[Mistake, ...] = (
    *MISTAKES_MULTI_IN_OUT,
    Mistake(
        "kernel_hw_transposed",
        "the kernel's row and column indices were swapped (e.g. 'chwij,ocji' in the einsum)",
        "The window axes of sliding_window_view come as (..., KH, KW), in the same order as "
        "K[o, c]: pair i with i and j with j.",
        _kernel_hw_transposed,
    ),
    *(
        Mistake(
            "im2col_order_mismatch",
            "the columns and the weight rows were flattened in different orders (one as "
            "(C_in, KH, KW), the other as (KH, KW, C_in))",
            "Flatten each window exactly as K.reshape(C_out, C_in*KH*KW) flattens a filter: "
            "channel first, then row, then column.",
            wrong,
        )
        for wrong in (_im2col_cols_hwc, _im2col_weights_hwc)
    ),
)


def check_conv2d_vectorized(fn: Callable, loop: Callable | None = None) -> None:
    """Exercise 3.5: same contract as corr2d_multi_in_out, checked against torch.

    When `loop` (the student's corr2d_multi_in_out) is given, the two are also compared on
    a larger random input. A disagreement there only prints a warning: the torch cases
    have passed, so the loop version is the wrong one, and Exercise 3.2 already says so;
    this cell should not take points a second time for the same mistake.
    """
    __tracebackhide__ = True
    check(
        fn,
        name="conv2d_vectorized",
        cases=_cases_vectorized(),
        mistakes=MISTAKES_VECTORIZED,
        oracle=_multi_in_out,
        pointer=POINTER_MULTI_IN_OUT,
    )
    _no_loops(fn, "conv2d_vectorized", "Exercise 3.5")
    if loop is None:
        return
    rng = np.random.default_rng(355)
    X, K = rng.standard_normal((3, 12, 10)), rng.standard_normal((4, 3, 3, 2))
    where = "a random 3×12×10 input with four 3×2 kernels"
    fast = np.asarray(fn(X.copy(), K.copy()))
    try:
        slow = np.asarray(loop(X.copy(), K.copy()), dtype=float)
    except Exception as exc:  # e.g. Exercise 3.2 not done yet
        print(
            f"(Not compared with your loop corr2d_multi_in_out: it raised "
            f"{type(exc).__name__}: {exc})"
        )
        return
    if slow.shape != fast.shape or not np.allclose(fast, slow, rtol=1e-6, atol=1e-8):
        what = (
            f"shape {slow.shape} instead of {fast.shape}"
            if slow.shape != fast.shape
            else f"values differ by up to {np.max(np.abs(fast - slow)):.3g}"
        )
        print(
            f"⚠ conv2d_vectorized agrees with torch, but your loop corr2d_multi_in_out "
            f"does not on {where} ({what}). Go back to the check of Exercise 3.2."
        )
        return
    print(f"✓ conv2d_vectorized agrees with your loop corr2d_multi_in_out on {where}.")
