"""Visible checks for assignment 05, backpropagation through convolution and pooling.

    from course.checks import backprop as checks
    checks.check_numerical_gradient(numerical_gradient)
    checks.check_conv2d_backward(conv2d_forward, conv2d_backward, part="dw")

One check per exercise (three for conv2d_backward: db, dw and dx, so that the message says
which gradient is wrong). A backward pass is always checked through the student's own
forward pass: the check calls `forward(x, ...)` and hands the cache it returns, whatever
it is, to `backward(dout, cache)`.

Expected values are the lectures' worked examples (written as constants) and torch's
autograd in float64 (`course.checks._oracle`). Each catalogued mistake computes the
gradient that a particular wrong implementation gives, with torch or numpy operations
that are not the exercise's solution (autograd on a flipped kernel, a last-write-wins
scatter for `=` instead of `+=`, an equality mask for "every tied maximum", ...).

Conventions (docs/design.md): NCHW, weights (C_out, C_in, KH, KW), bias (C_out,); `padding`
counts the zeros on *each* side; "convolution" means cross-correlation (no kernel flip).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course.checks import _oracle, channels, conv, pooling
from course.checks._core import (
    Case,
    CheckFailed,
    Mistake,
    Part,
    check,
    check_answer,
    check_quiz,
    fmt,
    mistake_family,
    passed,
)
from course.checks._oracle import _torch
from course.checks._oracle import conv2d as _conv
from course.probe import ExprFn, changed, snapshot

__all__ = [
    "check_avgpool2d_backward",
    "check_avgpool2d_forward",
    "check_conv2d_backward",
    "check_conv2d_forward",
    "check_fraction_quiz",
    "check_maxpool2d_backward",
    "check_maxpool2d_forward",
    "check_numerical_gradient",
    "check_output_padding_quiz",
    "check_rel_error",
    "check_shapes_quiz",
]

# Digests of the quiz answers (course.checks.answer_digest); the answers are not stored.
DOUT_SHAPE_DIGEST = "0db48d8cba542df6"
DW_SHAPE_DIGEST = "b0e00b47f3b2f750"
DB_SHAPE_DIGEST = "a186b156d012cee1"
OUTPUT_PADDING_DIGEST = "6b86b273ff34fce1"
FRACTION_DIGEST = "a30a043314fa8929"

# ---------------------------------------------------------------------------------------
# Worked examples from the lectures (checked against torch; see docs/design.md)
# ---------------------------------------------------------------------------------------

#: Lectures 003 and 004: the 5×5 input and 3×3 kernel of the cross-correlation slides
#: (assignment 1's constants, as floats).
LECTURE_X, LECTURE_K, LECTURE_Y = (a.astype(float) for a in (conv.L003_X, conv.L003_K, conv.L003_Y))

#: Lecture 004, "Convolution on RGB input": assignment 3's 5×5×3 input (channels first) and
#: two 3×3×3 filters w0 and w1, biases b0 = 1, b1 = 0, stride 2, padding 1, and the two
#: output maps o0, o1.
RGB_X, RGB_W = channels.LECTURE_004_X, channels.LECTURE_004_W
RGB_B = np.array([1.0, 0.0])
RGB_OUT = np.array(
    [
        [[3, -4, -1], [2, 0, -4], [1, 1, 2]],
        [[-2, -3, -5], [-2, -1, -2], [-3, -4, 2]],
    ],
    float,
)

#: Lecture 000, quiz Q5/Q6 (assignment 4's matrix): 2×2 pooling with stride 2 gives avg
#: [[16, 8], [20, 25]] and max [[20, 30], [70, 90]]. The top-left window holds two 20s (a tie).
POOL_X = pooling.LECTURE_X
POOL_MAX = np.array([[20, 30], [70, 90]], float)
POOL_AVG = np.array([[16, 8], [20, 25]], float)

# ---------------------------------------------------------------------------------------
# Pointers to the lecture ideas
# ---------------------------------------------------------------------------------------

POINTER_NUMGRAD = (
    "Central differences, one entry at a time: save old = x[i], set x[i] = old + h and "
    "evaluate f, set x[i] = old - h and evaluate f, put x[i] = old back, and store "
    "grad[i] = (f_plus - f_minus) / (2*h)."
)
POINTER_REL = (
    "elementwise: max over i of |a_i - b_i| / max(|a_i| + |b_i|, eps); norm: "
    "||a - b|| / max(||a|| + ||b||, eps) with Frobenius norms over all entries."
)
POINTER_CONV = (
    "Lectures 001, 003 and 004: out[n, o, i, j] = b[o] + sum over c, a, q of "
    "w[o, c, a, q] * xp[n, c, i*s + a, j*s + q], where xp is x with `padding` zeros on each "
    "side and H_out = (H + 2*padding - KH) // stride + 1."
)
POINTER_DB = (
    "Lecture 003's chain rule: b[o] is added to every output of channel o, in every image, "
    "so db[o] = sum over n, i, j of dout[n, o, i, j] (shape (C_out,))."
)
POINTER_DW = (
    "Lecture 003, 'Basic Gradients': dw[o, c, a, q] = sum over n, i, j of "
    "dout[n, o, i, j] * xp[n, c, i*s + a, j*s + q]: each output position adds "
    "dout times the window it read."
)
POINTER_DX = (
    "Lecture 003, 'Basic Gradients': every output (n, o, i, j) sends dout[n, o, i, j] * w[o] "
    "back to the window xp[n, :, i*s : i*s + KH, j*s : j*s + KW] it read; windows overlap, "
    "so add (+=); finally cut the padding off."
)
POINTER_POOL = (
    "Lecture 000: out[n, c, i, j] = max (or mean) of x[n, c, i*s : i*s + k, j*s : j*s + k]; "
    "the stride defaults to the window size."
)
POINTER_MAXPOOL_BACK = (
    "Lecture 001: in the forward pass store which input won each window; in the backward "
    "pass add dout[n, c, i, j] to that one input (first maximum in row-major order on ties)."
)
POINTER_AVGPOOL_BACK = (
    "Every input of window (i, j) receives dout[n, c, i, j] / (k*k), padded zeros included; "
    "overlapping windows add up (+=); the padding is cut off at the end."
)


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _nnf():
    return _torch().nn.functional


def _shape_text(a: Any) -> str:
    return "×".join(map(str, np.shape(a)))


# Test functions are numpy expressions (course.probe.ExprFn), not lambdas: the grader
# sends the same cases to the student's kernel, and a lambda cannot travel.
_Fn = ExprFn


def _silently(fn: Callable, *args, **kwargs) -> Any:
    """fn(*args, **kwargs), or None if it raises (the engine reports errors itself)."""
    try:
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except Exception:
        return None


# ---------------------------------------------------------------------------------------
# Exercise 5.1: numerical_gradient
# ---------------------------------------------------------------------------------------


def _numgrad_cases() -> list[Case]:
    rng = np.random.default_rng(501)
    v = np.array([0.5, -1.2, 2.0, 0.9, -0.7])
    A = np.round(rng.uniform(-2, 2, size=(3, 4)), 2)
    C = np.round(rng.uniform(0.5, 1.5, size=(3, 4)), 2)
    cube = np.array([[1.3, -0.8, 2.1], [0.6, -1.7, 1.1]])
    T = np.round(rng.uniform(-1, 1, size=(2, 3, 2)), 2)
    h = 1e-5
    # Expected values are the central differences themselves, in closed form:
    #   x**3: ((x+h)**3 - (x-h)**3) / (2h) = 3x**2 + h**2
    #   sin:  (sin(x+h) - sin(x-h)) / (2h) = cos(x) * sin(h) / h
    return [
        Case(
            "f(x) = sum(x**2) on a vector with h = 0.1 (exact for a parabola: 2x)",
            (_Fn("f(x) = sum(x**2)", "np.sum(x**2)"), v),
            2 * v,
            {"h": 0.1},
        ),
        Case(
            "f(x) = sum(C * sin(x)) on a 3×4 array",
            (_Fn("f(x) = sum(C * sin(x))", "np.sum(C * np.sin(x))", {"C": C}), A),
            C * np.cos(A) * np.sin(h) / h,
        ),
        Case(
            "f(x) = sum(x**3) on a 2×3 array (curvature: one-sided differences are off)",
            (_Fn("f(x) = sum(x**3)", "np.sum(x**3)"), cube),
            3 * cube**2 + h**2,
        ),
        Case(
            "f(x) = sum(x**3) with a large step h = 0.01",
            (_Fn("f(x) = sum(x**3)", "np.sum(x**3)"), cube),
            3 * cube**2 + 1e-4,
            {"h": 1e-2},
        ),
        Case(
            "f(x) = sum(x[0] * x[1]) on a 2×3×2 array",
            (_Fn("f(x) = sum(x[0] * x[1])", "np.sum(x[0] * x[1])"), T),
            np.stack([T[1], T[0]]),
        ),
        # A view, as a transposed or sliced array is: x.ravel() or x.reshape(-1) of it is a
        # copy, so steps made through one never reach x (the docstring: x of any shape).
        Case(
            "f(x) = sum(D * sin(x)) on a transposed 4×3 array (a view, not a copy)",
            (_Fn("f(x) = sum(D * sin(x))", "np.sum(D * np.sin(x))", {"D": C.T}), A.T),
            C.T * np.cos(A.T) * np.sin(h) / h,
        ),
    ]


#: formula(f, x, h) computes the wrong gradient by evaluating f like the wrong code.
_numgrad_mistake = mistake_family(
    lambda c: (c.args[0], np.array(c.args[1], dtype=float), c.kwargs.get("h", 1e-5))
)


def _each_entry(f, x, h, combine):
    """combine(f(x + h e_i), f(x - h e_i), f(x), h) for every entry i of x."""
    grad = np.zeros_like(x)
    f0 = float(f(x))
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = combine(float(f(xp)), float(f(xm)), f0, h)
    return grad


def _whole_rows(f, x, h):
    """x[r] += h moves a whole row (the first axis) at once: each row gets one number."""
    if x.ndim < 2:
        return None
    grad = np.zeros_like(x)
    for r in range(x.shape[0]):
        xp, xm = x.copy(), x.copy()
        xp[r] += h
        xm[r] -= h
        grad[r] = (float(f(xp)) - float(f(xm))) / (2 * h)
    return grad


NUMGRAD_MISTAKES = (
    _numgrad_mistake(
        "one_sided_difference",
        "you used the one-sided difference (f(x + h) - f(x)) / h",
        "Its error shrinks only like h; the central difference (f(x + h) - f(x - h)) / (2h) "
        "cancels the curvature term and its error shrinks like h**2.",
        lambda f, x, h: _each_entry(f, x, h, lambda fp, fm, f0, h: (fp - f0) / h),
    ),
    _numgrad_mistake(
        "backward_one_sided_difference",
        "you used the one-sided difference (f(x) - f(x - h)) / h",
        "Use both neighbours: (f(x + h) - f(x - h)) / (2h).",
        lambda f, x, h: _each_entry(f, x, h, lambda fp, fm, f0, h: (f0 - fm) / h),
    ),
    _numgrad_mistake(
        "divided_by_h",
        "the difference f(x + h) - f(x - h) was divided by h instead of 2h (the gradient "
        "comes out twice too large)",
        "The two points x + h and x - h are 2h apart: divide by 2*h.",
        lambda f, x, h: _each_entry(f, x, h, lambda fp, fm, f0, h: (fp - fm) / h),
    ),
    _numgrad_mistake(
        "sign_flipped",
        "the difference is the wrong way round, (f(x - h) - f(x + h)) / (2h)",
        "The derivative is the rise from x - h to x + h: f(x + h) - f(x - h).",
        lambda f, x, h: _each_entry(f, x, h, lambda fp, fm, f0, h: (fm - fp) / (2 * h)),
    ),
    _numgrad_mistake(
        "step_ignored",
        "the step h you were given was ignored (a fixed 1e-5 was used)",
        "Use the argument h for both the step and the division.",
        lambda f, x, h: (
            None
            if h == 1e-5
            else _each_entry(f, x, 1e-5, lambda fp, fm, f0, s: (fp - fm) / (2 * s))
        ),
    ),
    _numgrad_mistake(
        "perturbs_whole_rows",
        "x[i] moved a whole row at a time: the loop runs over the first axis only",
        "Loop over every entry of x, whatever its shape: `for i in np.ndindex(x.shape):` "
        "gives index tuples like (0, 2).",
        _whole_rows,
    ),
)


def _check_restores(fn: Callable) -> None:
    """numerical_gradient must leave x exactly as it found it."""
    __tracebackhide__ = True
    # Entries near 0 (of the size of h) show the round-off of restoring by arithmetic.
    x = np.array([0.1, 0.7, 1.234e-6, 2.9, -2.7e-6, 5.1, 7e-7, -2.2])
    before = x.copy()
    f = _Fn("f(x) = sum(x**3)", "np.sum(x**3)")
    try:
        got = fn(f, x)
    except Exception:
        return  # check() reports exceptions with its usual message
    if np.array_equal(x, before):
        return
    if isinstance(got, np.ndarray) and np.shares_memory(got, x):
        raise CheckFailed(
            "numerical_gradient returned x itself (or a view of it), and x was changed: "
            "`grad = x` gives x a second name, not a new array, so every derivative is "
            "written into x, and each later f(x) sees the derivatives of the entries before. "
            "Make a new array for the gradient: grad = np.zeros_like(x, dtype=float).",
            mistake="gradient_aliases_x",
            case="a vector of 8 entries",
        )
    if np.allclose(x, before, rtol=0, atol=1e-9):
        raise CheckFailed(
            "numerical_gradient left x almost, but not exactly, as it was: after the call "
            f"x differs from before by up to {np.max(np.abs(x - before)):.1e}. Putting the "
            "entry back by arithmetic (x[i] += h after x[i] -= h) leaves round-off behind, "
            "and so do steps made through other names for x (x_plus = x is not a copy: both "
            "steps land on x itself before f is called, and the gradient comes out 0). "
            "Save old = x[i] first and restore it with x[i] = old.",
            mistake="restored_by_arithmetic",
            case="a vector of 8 entries",
        )
    i = int(np.argmax(x != before))
    raise CheckFailed(
        f"numerical_gradient changed x: x[{i}] was {float(before[i])!r} before the call and "
        f"is {float(x[i])!r} after it. "
        "Perturbing x in place is right (a function may read x through a closure), but put "
        "each entry back (x[i] = old) before moving on to the next one.",
        mistake="not_restored",
        case="a vector of 8 entries",
    )


def _check_closure(fn: Callable) -> None:
    """f may read x through a closure instead of its argument (a layer's weights)."""
    __tracebackhide__ = True
    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    C = np.array([[1.0, 2.0, -1.0], [0.5, 3.0, 1.0]])
    f = _Fn(
        "f = lambda _: np.sum(C * W**2)  (reads W, ignores its argument)",
        "np.sum(C * W**2)",
        {"C": C, "W": W},
    )
    expected = 2 * C * W
    got = fn(f, W)
    if np.shape(got) == W.shape and np.allclose(got, expected, rtol=1e-5, atol=1e-7):
        return
    if np.shape(got) == W.shape and np.allclose(got, 0.0):
        raise CheckFailed(
            "numerical_gradient(f, W) returned zeros for a function that reads W itself "
            "(f = lambda _: np.sum(C * W**2) ignores its argument), so it looks like you "
            "perturbed a copy of x. Change x itself, in place (x[i] = old + h), and restore "
            "it afterwards: then any f that reads the same array sees the change, which is "
            "how you will check a layer's weights.",
            mistake="perturbs_a_copy",
            case="a function that reads W through a closure",
        )
    raise CheckFailed(
        "numerical_gradient(f, W) is wrong for a function that reads W through a closure "
        f"(f = lambda _: np.sum(C * W**2)):\n  expected: {fmt(expected)}\n  got:      "
        f"{fmt(got)}\nPerturb x in place, one entry at a time, and restore it.",
        mistake=None,
        case="a function that reads W through a closure",
    )


def check_numerical_gradient(fn: Callable) -> None:
    """Exercise 5.1: numerical_gradient(f, x, *, h=1e-5), central differences in place."""
    __tracebackhide__ = True
    cases = _numgrad_cases()
    _check_restores(fn)
    try:
        check(
            fn,
            name="numerical_gradient",
            cases=cases,
            mistakes=NUMGRAD_MISTAKES,
            pointer=POINTER_NUMGRAD,
            quiet=True,
        )
    except CheckFailed as err:
        if err.mistake == "float32_output":
            _check_float64(fn)  # this exercise's own words for it (gradient checks' 1e-7)
        raise
    _check_closure(fn)
    _check_float64(fn)
    labels = [*(c.label for c in cases), "a function that reads x by closure", "float64"]
    passed("numerical_gradient", labels)


def _check_float64(fn: Callable) -> None:
    """The docstring returns float64: a gradient stored in float32 keeps about 7 digits,
    too few for the relative errors of 1e-7 that gradient checks read."""
    __tracebackhide__ = True
    x = np.array([[0.5, -1.25, 2.0]])
    got = fn(_Fn("f = lambda x: np.sum(x**2)", "np.sum(x**2)", {}), x)
    dtype = getattr(got, "dtype", None)
    if dtype is not None and dtype != np.float64:
        raise CheckFailed(
            f"numerical_gradient(f, x) returned a {dtype} array for a float64 x; the "
            "docstring asks for float64.\nIt looks like the gradient array was allocated "
            "with another dtype (np.zeros(x.shape, dtype=np.float32), or zeros_like of an "
            "integer array): each difference is rounded when it is stored. Allocate with "
            "np.zeros(x.shape) (float64) or np.zeros_like(x) for a float64 x.",
            mistake="not_float64",
            case="float64",
        )


# ---------------------------------------------------------------------------------------
# Exercise 5.2: rel_error
# ---------------------------------------------------------------------------------------


def _rel_torch(a, b, kind: str, eps: float = 1e-12) -> float:
    torch = _torch()
    a, b = _oracle.t64(a), _oracle.t64(b)
    if kind == "elementwise":
        den = torch.clamp(a.abs() + b.abs(), min=eps)
        return float(((a - b).abs() / den).max())
    den = max(float(torch.linalg.norm(a) + torch.linalg.norm(b)), eps)
    return float(torch.linalg.norm(a - b)) / den


def _rel_cases() -> list[Case]:
    a = np.array([1.0, 2.0, 3.0, -4.0])
    b = np.array([1.0, 2.1, 3.0, -4.0])
    c = np.array([[-1.0, 2.0], [0.5, 0.0]])
    d = np.array([[1.0, 2.0], [0.5, 0.0]])
    e = np.array([[3.0, -2.0, 0.0], [1.0, 5.0, -1.0]])
    f = np.array([[3.3, -2.0, 0.0], [1.0, 4.0, -1.5]])

    def case(label, x, y, kind):
        kw = {} if kind is None else {"kind": kind}
        return Case(label, (x, y), _rel_torch(x, y, kind or "elementwise"), kw)

    return [
        case("two vectors that differ in one entry (default kind)", a, b, None),
        case("the same vectors, kind='norm'", a, b, "norm"),
        case("a sign difference, kind='elementwise'", c, d, "elementwise"),
        case("2×3 arrays, kind='elementwise'", e, f, "elementwise"),
        case("2×3 arrays, kind='norm'", e, f, "norm"),
        # |a| > |b| at one entry and |b| > |a| at another: a denominator of |b| only, of
        # |a| only, of max(|a|, |b|) and of |a| + |b| give four different answers.
        case(
            "entries where |a| is the larger and where |b| is",
            np.array([2.0, 1.0, -0.5]),
            np.array([1.0, 3.0, -0.5]),
            "elementwise",
        ),
        case("two zero arrays (the eps floor)", np.zeros(3), np.zeros(3), "elementwise"),
        # Entries of the order of eps: max(|a| + |b|, eps) and |a| + |b| + eps differ.
        case(
            "entries of the order of eps",
            np.array([3e-13, 1.0]),
            np.array([0.0, 1.0]),
            "elementwise",
        ),
        case("two zero arrays, kind='norm'", np.zeros((2, 2)), np.zeros((2, 2)), "norm"),
    ]


#: formula(a, b, kind)
_rel_mistake = mistake_family(
    lambda c: (*(np.asarray(v, float) for v in c.args), c.kwargs.get("kind", "elementwise"))
)


def _ratio(num, den, eps=1e-12):
    return num / np.maximum(den, eps)


REL_ERROR_MISTAKES = (
    _rel_mistake(
        "eps_added",
        "eps is added to the denominator instead of being its floor, which changes the "
        "answer wherever |a| + |b| is of the order of eps",
        "eps is a floor: divide by np.maximum(np.abs(a) + np.abs(b), eps) (norm form: "
        "max(norm(a) + norm(b), eps)).",
        lambda a, b, k: (
            float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + 1e-12)))
            if k == "elementwise"
            else float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-12))
        ),
    ),
    _rel_mistake(
        "kinds_swapped",
        "the two kinds are swapped: kind='elementwise' computed the norm form, or the "
        "other way round",
        "elementwise takes the max over entries of per-entry ratios; norm divides the norm of "
        "the difference by the sum of the norms.",
        lambda a, b, k: _rel_torch(a, b, "norm" if k == "elementwise" else "elementwise"),
    ),
    _rel_mistake(
        "mean_instead_of_max",
        "the elementwise form averages the per-entry ratios instead of taking the largest",
        "Take np.max: one bad entry must show, however many good entries surround it.",
        lambda a, b, k: (
            None
            if k != "elementwise"
            else float(np.mean(_ratio(np.abs(a - b), np.abs(a) + np.abs(b))))
        ),
    ),
    _rel_mistake(
        "denominator_without_abs",
        "the denominator is a + b (or |a + b|) instead of |a| + |b|",
        "Entries of opposite signs cancel in a + b: divide by np.abs(a) + np.abs(b).",
        lambda a, b, k: (
            None if k != "elementwise" else float(np.max(_ratio(np.abs(a - b), np.abs(a + b))))
        ),
    ),
    *(
        _rel_mistake(
            "one_sided_denominator",
            "the difference was divided by |b| only (or |a| only)",
            "Divide by |a| + |b|: the error is then symmetric in a and b and at most 1.",
            lambda a, b, k, side=side: (
                None if k != "elementwise" else float(np.max(_ratio(np.abs(a - b), side(a, b))))
            ),
        )
        for side in (lambda a, b: np.abs(b), lambda a, b: np.abs(a))
    ),
    _rel_mistake(
        "max_denominator",
        "the denominator is the larger of the two, max(|a|, |b|) (or max(||a||, ||b||)), "
        "instead of their sum: a common definition elsewhere, but not this course's",
        "Divide by |a| + |b| (and ||a|| + ||b||), as the docstring says: the error is then "
        "at most 1.",
        lambda a, b, k: (
            float(np.max(_ratio(np.abs(a - b), np.maximum(np.abs(a), np.abs(b)))))
            if k == "elementwise"
            else float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12))
        ),
    ),
    _rel_mistake(
        "norm_of_sum",
        "the norm form divides by ||a + b|| instead of ||a|| + ||b||",
        "Use np.linalg.norm(a) + np.linalg.norm(b) as the denominator.",
        lambda a, b, k: (
            None
            if k != "norm"
            else float(np.linalg.norm(a - b) / max(np.linalg.norm(a + b), 1e-12))
        ),
    ),
)


def _check_rel_nan(fn: Callable) -> None:
    __tracebackhide__ = True
    for kind in ("elementwise", "norm"):
        got = _silently(fn, np.zeros(3), np.zeros(3), kind=kind)
        if got is not None and np.any(np.isnan(np.asarray(got, dtype=float))):
            raise CheckFailed(
                f"rel_error(zeros, zeros, kind={kind!r}) returned nan: 0 / 0. Two equal "
                "arrays must give 0; floor the denominator with np.maximum(..., eps) "
                "(elementwise) or max(..., eps) (norm).",
                mistake="no_eps_floor",
                case="two zero arrays",
            )


def check_rel_error(fn: Callable) -> None:
    """Exercise 5.2: rel_error(a, b, *, kind="elementwise", eps=1e-12)."""
    __tracebackhide__ = True
    _check_rel_nan(fn)
    check(
        fn,
        name="rel_error",
        cases=_rel_cases(),
        mistakes=REL_ERROR_MISTAKES,
        pointer=POINTER_REL,
        rtol=1e-9,
        atol=1e-15,
    )


# ---------------------------------------------------------------------------------------
# Exercise 5.3: conv2d_forward
# ---------------------------------------------------------------------------------------


def _need_pair(
    fn: Callable, name: str, case: Case, what: str, *, backward: str | None = None
) -> None:
    """A forward pass must return (out, cache).

    backward: the name of the backward pass being checked through this forward pass, if
    any; an unfinished forward pass is then named as the reason the check cannot run.
    """
    __tracebackhide__ = True
    try:
        got = fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    except NotImplementedError as exc:
        if backward is None:
            return  # check() says "not implemented yet" itself
        detail = f" ({exc})" if str(exc) else ""
        raise CheckFailed(
            f"{backward} is checked through your {name}, which is not implemented yet"
            f"{detail}. Finish {name} first, then run this check again.",
            mistake="not_implemented",
            case=case.label,
        ) from None
    except Exception:
        return  # check() reports other exceptions with its usual message
    if got is None:
        return
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(
            f"{name} must return a pair (out, cache), like lecture 001's forward pass that "
            f"keeps what the backward pass needs; it returned {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
            + f". End with `return out, cache`, where cache holds {what}.",
            mistake="not_a_pair",
            case=case.label,
        )


def _out_only(fn: Callable) -> Callable:
    @functools.wraps(fn)  # the student's parameter names, for derived diagnoses
    def run(*args, **kwargs):
        got = fn(*args, **kwargs)
        return got[0] if isinstance(got, (tuple, list)) and len(got) == 2 else got

    return run


def _conv_forward_cases() -> list[Case]:
    rng = np.random.default_rng(503)

    def ints(*shape):
        return rng.integers(-3, 4, size=shape).astype(float)

    def case(label, x, w, b, stride, padding, expected=None):
        if expected is None:
            expected = _conv(x, w, b, stride=stride, padding=padding)
        return Case(label, (x, w, b), expected, {"stride": stride, "padding": padding})

    other = np.random.default_rng(504)  # the earlier cases' draws stay as they were
    return [
        case(
            "lecture 003's 5×5 example (one image, one channel)",
            LECTURE_X[None, None],
            LECTURE_K[None, None],
            np.zeros(1),
            1,
            0,
            LECTURE_Y[None, None],
        ),
        case(
            "N=2, C_in=2, C_out=2, a 5×6 input, 2×3 kernel",
            ints(2, 2, 5, 6),
            ints(2, 2, 2, 3),
            np.array([0.5, -1.0]),
            1,
            0,
        ),
        case(
            "lecture 004's RGB example (two filters, biases 1 and 0, stride 2, padding 1)",
            RGB_X[None],
            RGB_W,
            RGB_B,
            2,
            1,
            RGB_OUT[None],
        ),
        case(
            "N=3, C_in=1, C_out=2, a 6×7 input, 3×2 kernel, stride 2, padding 1",
            ints(3, 1, 6, 7),
            ints(2, 1, 3, 2),
            np.array([1.0, 2.0]),
            2,
            1,
        ),
        case(
            "N=2, C_in=3, C_out=4, an 8×7 input, 3×3 kernel, stride 3, padding 2",
            rng.standard_normal((2, 3, 8, 7)),
            rng.standard_normal((4, 3, 3, 3)),
            rng.standard_normal(4),
            3,
            2,
        ),
        # The docstring's out is float (np.zeros gives float64) whatever x holds: an output
        # allocated like x would cut the fractions of an integer batch.
        case(
            "an integer batch with fractional weights and biases",
            other.integers(0, 9, size=(2, 2, 4, 5)),
            other.standard_normal((3, 2, 2, 2)).round(2),
            np.array([0.25, -0.5, 0.125]),
            1,
            0,
        ),
    ]


#: formula(x, w, b, stride, padding)
_fwd_mistake = mistake_family(lambda c: (*c.args, c.kwargs["stride"], c.kwargs["padding"]))


CONV_FORWARD_MISTAKES = (
    _fwd_mistake(
        "bias_missing",
        "the bias was not added",
        "Add b[o] to every output of channel o: out[n, o, i, j] = sum(...) + b[o].",
        lambda x, w, b, s, p: _conv(x, w, None, stride=s, padding=p),
    ),
    _fwd_mistake(
        "padding_ignored",
        "the padding was ignored",
        "Pad H and W (not N or C) with `padding` zeros on each side before sliding: "
        "np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).",
        lambda x, w, b, s, p: None if p == 0 else _conv(x, w, b, stride=s, padding=0),
    ),
    _fwd_mistake(
        "stride_ignored",
        "the stride was ignored: the window moved one pixel at a time",
        "Window (i, j) starts at row i*stride and column j*stride of the padded input, and "
        "H_out = (H + 2*padding - KH) // stride + 1.",
        lambda x, w, b, s, p: None if s == 1 else _conv(x, w, b, stride=1, padding=p),
    ),
    _fwd_mistake(
        "kernel_flipped",
        "the kernel was flipped (that is true convolution, not cross-correlation)",
        "Deep-learning 'convolution' is cross-correlation: multiply the window by w[o] as is.",
        lambda x, w, b, s, p: _conv(x, np.flip(w, (2, 3)), b, stride=s, padding=p),
    ),
    _fwd_mistake(
        "w_in_out_swapped",
        "w was read as (C_in, C_out, KH, KW): output channel o used w[:, o] instead of w[o]",
        "The weights are (C_out, C_in, KH, KW), torch's layout: filter o is w[o], of shape "
        "(C_in, KH, KW), and it meets all C_in channels of the window.",
        lambda x, w, b, s, p: (
            None
            if w.shape[0] != w.shape[1]
            else _conv(x, np.swapaxes(w, 0, 1), b, stride=s, padding=p)
        ),
    ),
    _fwd_mistake(
        "out_axes_swapped",
        "the output axes N and C_out are swapped: out has shape (C_out, N, H_out, W_out)",
        "Allocate out as (N, C_out, H_out, W_out): NCHW, batch first.",
        lambda x, w, b, s, p: np.swapaxes(_conv(x, w, b, stride=s, padding=p), 0, 1),
    ),
    _fwd_mistake(
        "channels_not_summed",
        "only the first input channel was used (the sum over c is missing)",
        "Each output sums over all C_in channels of the window: np.sum(window * w[o]) with "
        "window = xp[n, :, rows, cols] of shape (C_in, KH, KW).",
        lambda x, w, b, s, p: (
            None if x.shape[1] == 1 else _conv(x[:, :1], w[:, :1], b, stride=s, padding=p)
        ),
    ),
    _fwd_mistake(
        "first_image_only",
        "only the first image of the batch was computed; the others stayed zero",
        "Loop over n as well (or slice all images at once: xp[:, :, rows, cols]).",
        lambda x, w, b, s, p: (
            None
            if x.shape[0] == 1
            else np.concatenate(
                [
                    _conv(x[:1], w, b, stride=s, padding=p),
                    np.zeros_like(_conv(x[1:], w, b, stride=s, padding=p)),
                ]
            )
        ),
    ),
)


def check_conv2d_forward(fn: Callable) -> None:
    """Exercise 5.3: conv2d_forward(x, w, b, *, stride=1, padding=0) -> (out, cache)."""
    __tracebackhide__ = True
    cases = _conv_forward_cases()
    _need_pair(fn, "conv2d_forward", cases[0], "x, w, b, stride and padding")
    check(
        _out_only(fn),
        name="conv2d_forward",
        cases=cases,
        mistakes=CONV_FORWARD_MISTAKES,
        pointer=POINTER_CONV,
        oracle=_conv,
    )


# ---------------------------------------------------------------------------------------
# Exercise 5.4: conv2d_backward (checked one gradient at a time)
# ---------------------------------------------------------------------------------------

PARTS = ("dx", "dw", "db")


class _BackwardCase(Case):
    """A case for a backward pass: args are the forward's inputs and dout (last)."""

    def call_text(self, name: str) -> str:
        *inputs, dout = self.args
        shapes = ", ".join(f"<array {_shape_text(a)}>" for a in inputs)
        options = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        forward = name.split(" of ")[-1].replace("backward", "forward")
        return (
            f"{name}(dout <array {_shape_text(dout)}>, cache), with cache from "
            f"{forward}({shapes}{', ' if options else ''}{options})"
        )


def _grads(x, w, b, dout, stride, padding):
    """torch autograd in float64: (dx, dw, db) of conv2d."""
    torch = _torch()
    xt, wt, bt = (_oracle.t64(a).requires_grad_(True) for a in (x, w, b))
    out = _nnf().conv2d(xt, wt, bt, stride=stride, padding=padding)
    out.backward(_oracle.t64(dout))
    with torch.no_grad():
        return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _conv_backward_cases(part: str) -> list[Case]:
    rng = np.random.default_rng(504)

    def ints(*shape, low=-3, high=4):
        return rng.integers(low, high, size=shape).astype(float)

    def case(label, x, w, b, dout_shape, stride, padding, dout=None):
        if dout is None:
            dout = ints(*dout_shape)
        expected = _grads(x, w, b, dout, stride, padding)[PARTS.index(part)]
        return _BackwardCase(
            label, (x, w, b, dout), expected, {"stride": stride, "padding": padding}
        )

    return [
        case(
            "lecture 003's 5×5 example with dout = ones",
            LECTURE_X[None, None],
            LECTURE_K[None, None],
            np.zeros(1),
            None,
            1,
            0,
            dout=np.ones((1, 1, 3, 3)),
        ),
        case(
            "N=2, C_in=2, C_out=3, a 5×6 input, 2×3 kernel",
            ints(2, 2, 5, 6),
            ints(3, 2, 2, 3),
            np.array([1.0, -1.0, 0.5]),
            (2, 3, 4, 4),
            1,
            0,
        ),
        case(
            "N=2, C_in=3, C_out=2, a 7×7 input, 3×3 kernel, stride 2, padding 1",
            ints(2, 3, 7, 7),
            ints(2, 3, 3, 3),
            np.array([0.0, 2.0]),
            (2, 2, 4, 4),
            2,
            1,
        ),
        case(
            "N=1, C_in=2, C_out=2, a 6×7 input, 3×2 kernel, stride 2, padding 1 "
            "((H + 2p - KH) % s = 1)",
            ints(1, 2, 6, 7),
            ints(2, 2, 3, 2),
            np.array([1.0, 1.0]),
            (1, 2, 3, 4),
            2,
            1,
        ),
        case(
            "N=2, C_in=1, C_out=2, an 8×8 input, 2×2 kernel, stride 3 (gaps between windows)",
            ints(2, 1, 8, 8),
            ints(2, 1, 2, 2),
            np.array([0.0, 0.0]),
            (2, 2, 3, 3),
            3,
            0,
        ),
        # An integer batch: buffers made with zeros_like(x) or zeros_like(xp) are integer
        # arrays, which refuse (or truncate) the fractional gradients added into them.
        case(
            "an integer batch, N=1, C_in=2, C_out=2, a 5×5 input, 2×2 kernel, padding 1",
            np.random.default_rng(505).integers(-3, 4, size=(1, 2, 5, 5)),
            np.random.default_rng(506).standard_normal((2, 2, 2, 2)),
            np.array([0.5, -0.25]),
            None,
            1,
            1,
            dout=np.random.default_rng(507).standard_normal((1, 2, 6, 6)),
        ),
    ]


def _bw(case: Case):
    x, w, b, dout = (np.asarray(a, float) for a in case.args)
    return x, w, b, dout, case.kwargs["stride"], case.kwargs["padding"]


def _pad_hw(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _dx_padded(dout, w, stride, Hp, Wp) -> np.ndarray:
    """Gradient w.r.t. the padded input, by torch's transposed convolution."""
    y = _nnf().conv_transpose2d(_oracle.t64(dout), _oracle.t64(w), stride=stride).numpy()
    full = np.zeros((y.shape[0], y.shape[1], Hp, Wp))
    full[:, :, : y.shape[2], : y.shape[3]] = y
    return full


def _dx_with_kernel(kernel_fn) -> Callable[[Case], Any]:
    """dx computed with a wrong kernel (flipped, transposed, one output channel...)."""

    def wrong(case: Case):
        x, w, _, dout, s, p = _bw(case)
        w2, d2 = kernel_fn(w, dout)
        if w2 is None:
            return None
        H, W = x.shape[2:]
        full = _dx_padded(d2, w2, s, H + 2 * p, W + 2 * p)
        return full[:, :, p : p + H, p : p + W]

    return wrong


def _last_window(n_pad: int, k: int, s: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """For each padded row: the last window (in loop order) that covers it, and whether any does."""
    rows = np.arange(n_pad)
    last = np.minimum(rows // s, n_out - 1)
    return last, (rows - last * s) < k


def _dx_last_write(case: Case, *, last_channel_only: bool):
    """dx when the scatter uses `=`: each padded pixel keeps the last window's contribution."""
    x, w, _, dout, s, p = _bw(case)
    torch = _torch()
    H, W = x.shape[2:]
    KH, KW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    if last_channel_only:
        contrib = torch.einsum(
            "nij,cab->nijcab", _oracle.t64(dout[:, -1]), _oracle.t64(w[-1])
        ).numpy()  # (N, H_out, W_out, C_in, KH, KW)
    else:
        contrib = torch.einsum("noij,ocab->nijcab", _oracle.t64(dout), _oracle.t64(w)).numpy()
    Hp, Wp = H + 2 * p, W + 2 * p
    I, ok_i = _last_window(Hp, KH, s, H_out)
    J, ok_j = _last_window(Wp, KW, s, W_out)
    A = np.arange(Hp) - I * s
    B = np.arange(Wp) - J * s
    full = contrib[
        :, I[:, None], J[None, :], :, np.clip(A, 0, KH - 1)[:, None], np.clip(B, 0, KW - 1)[None, :]
    ]
    # fancy indexing puts the (Hp, Wp) axes first: (Hp, Wp, N, C_in) → (N, C_in, Hp, Wp)
    full = np.moveaxis(full, (0, 1), (2, 3)) * (ok_i[:, None] & ok_j[None, :])
    return full[:, :, p : p + H, p : p + W]


def _dw_stride_one(case: Case):
    x, w, _, dout, s, p = _bw(case)
    if s == 1:
        return None
    KH, KW = w.shape[2:]
    xp = _oracle.t64(_pad_hw(x, p)).transpose(0, 1)  # (C_in, N, Hp, Wp)
    d = _oracle.t64(dout).transpose(0, 1)  # (C_out, N, H_out, W_out)
    corr = _nnf().conv2d(xp, d).transpose(0, 1).numpy()  # (C_out, C_in, ., .)
    return corr[:, :, :KH, :KW]


def _dx_stride_one(case: Case):
    x, w, _, dout, s, p = _bw(case)
    if s == 1:
        return None
    H, W = x.shape[2:]
    full = _dx_padded(dout, w, 1, H + 2 * p, W + 2 * p)
    return full[:, :, p : p + H, p : p + W]


def _dx_full_padded(case: Case):
    x, w, _, dout, s, p = _bw(case)
    if p == 0:
        return None
    H, W = x.shape[2:]
    return _dx_padded(dout, w, s, H + 2 * p, W + 2 * p)


def _dx_corner_crop(case: Case):
    x, w, _, dout, s, p = _bw(case)
    if p == 0:
        return None
    H, W = x.shape[2:]
    return _dx_padded(dout, w, s, H + 2 * p, W + 2 * p)[:, :, :H, :W]


def _dw_last_write(case: Case):
    x, w, _, dout, s, p = _bw(case)
    KH, KW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    xp = _pad_hw(x, p)
    r, c = (H_out - 1) * s, (W_out - 1) * s
    window = xp[-1, :, r : r + KH, c : c + KW]  # (C_in, KH, KW) of the last image
    return dout[-1, :, -1, -1][:, None, None, None] * window[None]


def _dw_of(x, w, b, dout, s, p):
    return _grads(x, w, b, dout, s, p)[1]


DB_MISTAKES = (
    Mistake(
        "db_sum_over_batch_only",
        "db was summed over the batch axis only, dout.sum(axis=0), of shape (C_out, H_out, W_out)",
        "b[o] is added at every position (i, j) as well: sum over axes (0, 2, 3), which "
        "leaves shape (C_out,).",
        lambda c: _bw(c)[3].sum(axis=0),
    ),
    Mistake(
        "db_sum_over_everything",
        "db was summed over every axis, giving one number instead of one per output channel",
        "Each output channel has its own bias: keep axis 1, dout.sum(axis=(0, 2, 3)).",
        lambda c: _bw(c)[3].sum(),
    ),
    Mistake(
        "db_sum_over_space_only",
        "db was summed over H_out and W_out only, leaving shape (N, C_out)",
        "The bias is shared by all the images of the batch: sum over n too, axes (0, 2, 3).",
        lambda c: _bw(c)[3].sum(axis=(2, 3)),
    ),
    *(
        Mistake(
            "db_wrong_axes",
            "db was summed over the wrong axes (over N and C_out, or over C_out, H_out and W_out)",
            "Keep the channel axis 1 and sum the others: dout.sum(axis=(0, 2, 3)).",
            lambda c, axes=axes: _bw(c)[3].sum(axis=axes),
        )
        for axes in ((0, 1), (1, 2, 3))
    ),
    Mistake(
        "db_mean_not_sum",
        "db is the mean of dout instead of its sum",
        "The chain rule adds one dout per output the bias touched: a sum, not a mean.",
        lambda c: _bw(c)[3].mean(axis=(0, 2, 3)),
    ),
    Mistake(
        "overwrite_not_accumulate",
        "db[o] was assigned (=) in the loop instead of accumulated (+=): only the last "
        "output position counts",
        "Every output of channel o adds its dout: db[o] += dout[n, o, i, j] (or one "
        "dout.sum(axis=(0, 2, 3))).",
        lambda c: _bw(c)[3][-1, :, -1, -1],
    ),
)

DW_MISTAKES = (
    Mistake(
        "overwrite_not_accumulate",
        "dw[o] was assigned (=) in the loop instead of accumulated (+=): only the last "
        "output position of the last image counts",
        "The kernel is shared by every output position and every image, so each one adds "
        "its share: dw[o] += dout[n, o, i, j] * window.",
        _dw_last_write,
    ),
    Mistake(
        "dw_x_dout_swapped",
        "dw came out rotated by 180°: the input and dout swapped roles in the "
        "cross-correlation (dout slid over x the wrong way round, a true convolution)",
        "dw[o, c, a, q] = sum over n, i, j of dout[n, o, i, j] * xp[n, c, i*s + a, j*s + q]: "
        "the kernel offset (a, q) indexes the input, counted from each window's corner.",
        lambda c: np.flip(_dw_of(*_bw(c)), (2, 3)),
    ),
    Mistake(
        "dw_in_out_swapped",
        "dw has the layout (C_in, C_out, KH, KW): its first two axes are transposed",
        "dw must have the shape of w, (C_out, C_in, KH, KW): dw[o] collects the windows "
        "times dout of output channel o.",
        lambda c: np.swapaxes(_dw_of(*_bw(c)), 0, 1),
    ),
    *(
        Mistake(
            "dw_missing_batch_sum",
            "dw comes from one image of the batch only (the sum over n is missing)",
            "Every image uses the same kernel, so the gradients of all N images add up.",
            lambda c, one=one: None if c.args[0].shape[0] == 1 else _dw_of(*_slice_batch(c, one)),
        )
        for one in (slice(0, 1), slice(-1, None))  # the first image, or the last
    ),
    Mistake(
        "dw_mean_over_batch",
        "dw was divided by the batch size N",
        "The backward pass of one layer only applies the chain rule: if the loss is a mean "
        "over the batch, that 1/N is already inside dout.",
        lambda c: None if c.args[0].shape[0] == 1 else _dw_of(*_bw(c)) / c.args[0].shape[0],
    ),
    Mistake(
        "stride_ignored",
        "the stride was ignored in the backward pass: the windows were read at i, j instead "
        "of i*stride, j*stride",
        "Use the same windows as the forward pass: xp[n, :, i*s : i*s + KH, j*s : j*s + KW].",
        _dw_stride_one,
    ),
)


def _slice_batch(case: Case, sl: slice):
    x, w, b, dout, s, p = _bw(case)
    return x[sl], w, b, dout[sl], s, p


DX_MISTAKES = (
    *(
        Mistake(
            "overwrite_not_accumulate",
            "dx was assigned (=) window by window instead of accumulated (+=): where windows "
            "overlap, only the last window's share survives",
            "An input pixel read by several windows receives the sum of their shares: "
            "dxp[n, :, rows, cols] += dout[n, o, i, j] * w[o].",
            lambda c, last=last: _dx_last_write(c, last_channel_only=last),
        )
        for last in (False, True)
    ),
    *(
        Mistake(
            "dx_missing_channel_sum",
            "dx comes from one output channel only (the sum over o is missing)",
            "Every output channel read the input, so dx adds the shares of all C_out filters: "
            "sum over o of dout[n, o, i, j] * w[o].",
            _dx_with_kernel(lambda w, d, o=o: (None, None) if w.shape[0] == 1 else (w[o], d[:, o])),
        )
        for o in (slice(0, 1), slice(-1, None))  # the first output channel, or the last
    ),
    Mistake(
        "kernel_not_flipped",
        "dx was computed as a full cross-correlation of dout with the kernel as is; the "
        "kernel must be flipped (rotated by 180°) there",
        "Lecture 003: dL/dH1 = sum of dL/dH2 * W[c - k]: the index runs backwards, so as a "
        "correlation over the padded dout it uses w[o, c, ::-1, ::-1]. Or scatter: "
        "dxp[n, :, rows, cols] += dout[n, o, i, j] * w[o], which needs no flip at all.",
        _dx_with_kernel(lambda w, d: (np.flip(w, (2, 3)), d)),
    ),
    *(
        Mistake(
            "kernel_flipped_wrongly",
            "the kernel was flipped along one axis only (rows or columns) for dx",
            "Rotate by 180°: flip both the rows and the columns, w[o, c, ::-1, ::-1].",
            _dx_with_kernel(lambda w, d, axis=axis: (np.flip(w, axis), d)),
        )
        for axis in (2, 3)
    ),
    Mistake(
        "kernel_flipped_wrongly",
        "the kernel was transposed (w.T) for dx instead of rotated by 180°",
        "A transpose swaps rows and columns; the flip reverses both: w[o, c, ::-1, ::-1].",
        _dx_with_kernel(
            lambda w, d: (
                (None, None)
                if w.shape[2] != w.shape[3]
                else (np.flip(np.swapaxes(w, 2, 3), (2, 3)), d)
            )
        ),
    ),
    Mistake(
        "stride_ignored",
        "the stride was ignored in the backward pass: dout[n, o, i, j] went back to the "
        "window at i, j instead of i*stride, j*stride",
        "Send each share to the window the forward pass read: rows i*s : i*s + KH, columns "
        "j*s : j*s + KW of the padded input.",
        _dx_stride_one,
    ),
    Mistake(
        "padding_not_removed",
        "dx has the shape of the padded input: the padding was not cut off",
        "The zeros added by padding are not inputs; return dxp[:, :, p : p + H, p : p + W].",
        _dx_full_padded,
    ),
    Mistake(
        "padding_cut_at_corner",
        "the padding was cut off from the bottom and the right only (dxp[:, :, :H, :W])",
        "The padding sits on every side: keep the middle, dxp[:, :, p : p + H, p : p + W].",
        _dx_corner_crop,
    ),
)

_PART_MISTAKES = {"db": DB_MISTAKES, "dw": DW_MISTAKES, "dx": DX_MISTAKES}
_PART_POINTER = {"db": POINTER_DB, "dw": POINTER_DW, "dx": POINTER_DX}


def _need_forward(forward: Callable, name: str, case: Case, what: str, part: str = "") -> None:
    """A backward check runs through `forward` (`name`), which must return (out, cache);
    `case` is the backward's (its last argument dout), `part` the gradient checked."""
    __tracebackhide__ = True
    backward = name.replace("forward", "backward")
    inputs = Case(case.label, case.args[:-1], None, case.kwargs)  # the forward's, without dout
    _need_pair(forward, name, inputs, what, backward=f"{part} of {backward}" if part else backward)


def _need_triple(run: Callable, name: str, case: Case, parts: Sequence[str]) -> None:
    __tracebackhide__ = True
    got = _silently(run, *case.args, **case.kwargs)
    if got is None:
        return
    if not isinstance(got, (tuple, list)) or len(got) != len(parts):
        what = f"{type(got).__name__}" + (
            f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        )
        raise CheckFailed(
            f"{name} must return {len(parts)} arrays, ({', '.join(parts)}); it returned "
            f"{what}. While you work on one gradient, return zeros for the others, e.g. "
            "np.zeros_like(w).",
            mistake="not_a_triple",
            case=case.label,
        )


def _through_forward(forward: Callable, backward: Callable, pick: int | None) -> Callable:
    """run(x, w, b, dout, **options) = backward(dout, forward(x, w, b, **options)[1])."""

    def run(*args, **kwargs):
        *inputs, dout = args
        got = forward(*inputs, **kwargs)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise TypeError(
                f"the forward pass must return (out, cache); it returned {type(got).__name__}"
            )
        kept = snapshot(got[1])
        grads = backward(dout, got[1])
        if kept is not None and changed(kept, got[1]):
            name = getattr(backward, "__name__", "the backward pass")
            raise CheckFailed(
                f"{name} changed the cache in place: an array the forward pass stored was "
                "written to (an index array adjusted with -= or +=, or a slice of it "
                "modified), so a second backward call with that cache goes wrong. Work on "
                "copies of what you take out of the cache.",
                mistake="cache_changed",
            )
        if pick is None:
            return grads
        if isinstance(grads, (tuple, list)) and len(grads) == 3:
            return grads[pick]
        return grads

    # The forward's inputs and dout by name, for derived diagnoses ("x: ..." not "argument 1").
    run.__signature__ = _signature_with_dout(forward)  # type: ignore[attr-defined]
    return run


def _signature_with_dout(forward: Callable) -> inspect.Signature:
    try:
        inputs = [
            p
            for p in inspect.signature(forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        inputs = []
    dout = inspect.Parameter("dout", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Signature([p.replace(default=inspect.Parameter.empty) for p in inputs] + [dout])


def check_conv2d_backward(forward: Callable, backward: Callable, *, part: str) -> None:
    """Exercise 5.4: one gradient (part = "db", "dw" or "dx") of conv2d_backward.

    The check runs `out, cache = forward(x, w, b, stride=..., padding=...)` and then
    `backward(dout, cache)`, which must return (dx, dw, db), and compares `part` with
    torch's autograd.
    """
    __tracebackhide__ = True
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}; got {part!r}")
    cases = _conv_backward_cases(part)
    _need_forward(forward, "conv2d_forward", cases[0], "x, w, b, stride and padding", part)
    _need_triple(_through_forward(forward, backward, None), "conv2d_backward", cases[0], PARTS)
    check(
        _through_forward(forward, backward, PARTS.index(part)),
        name=f"{part} of conv2d_backward",
        cases=cases,
        mistakes=_PART_MISTAKES[part],
        pointer=_PART_POINTER[part],
    )


# ---------------------------------------------------------------------------------------
# Exercise 5.6: max pooling, forward and backward
# ---------------------------------------------------------------------------------------


def _pool_stride(case: Case) -> int:
    s = case.kwargs.get("stride")
    return case.kwargs["kernel_size"] if s is None else s


def _maxpool(x, k, s) -> np.ndarray:
    return _nnf().max_pool2d(_oracle.t64(x), k, stride=s).numpy()


def _avgpool(x, k, s, p=0, *, count_pad=True) -> np.ndarray:
    out = _nnf().avg_pool2d(_oracle.t64(x), k, stride=s, padding=p, count_include_pad=count_pad)
    return out.numpy()


def _maxpool_forward_cases() -> list[Case]:
    rng = np.random.default_rng(506)

    def case(label, x, k, s=None, expected=None):
        kw = {"kernel_size": k} if s is None else {"kernel_size": k, "stride": s}
        if expected is None:
            expected = _maxpool(x, k, k if s is None else s)
        return Case(label, (x,), expected, kw)

    arange9 = np.arange(9.0).reshape(1, 1, 3, 3)
    return [
        case(
            "lecture 000's Q6 matrix, 2×2 windows",
            POOL_X[None, None],
            2,
            None,
            POOL_MAX[None, None],
        ),
        case(
            "lecture 002's 3×3 example, 2×2 windows, stride 1",
            arange9,
            2,
            1,
            np.array([[[[4.0, 5.0], [7.0, 8.0]]]]),
        ),
        case(
            "N=2, C=3, a 6×7 input, 3×3 windows, stride 2", rng.standard_normal((2, 3, 6, 7)), 3, 2
        ),
        case(
            "N=1, C=2, a 5×8 input, 2×2 windows, stride 3", rng.standard_normal((1, 2, 5, 8)), 2, 3
        ),
        case(
            "N=3, C=2, a 4×6 input, 2×2 windows (default stride)",
            rng.standard_normal((3, 2, 4, 6)),
            2,
        ),
        # A running maximum started at 0 reports 0 for these windows, a value not in them.
        case(
            "N=1, C=2, a 4×4 input of negative values only, 2×2 windows",
            -1 - rng.random((1, 2, 4, 4)),
            2,
        ),
    ]


#: formula(x, kernel_size, stride, case)
_fwd_pool_mistake = mistake_family(
    lambda c: (np.asarray(c.args[0], float), c.kwargs["kernel_size"], _pool_stride(c), c)
)


MAXPOOL_FORWARD_MISTAKES = (
    _fwd_pool_mistake(
        "max_started_at_zero",
        "a window of negative values only gave 0, a value that is not in it: the running "
        "maximum started at 0",
        "Start each window's maximum at -inf (or at its first entry), or use window.max(): "
        "a maximum started at 0 is max(0, the real maximum).",
        lambda x, k, s, c: np.maximum(_maxpool(x, k, s), 0.0),
    ),
    _fwd_pool_mistake(
        "stride_defaults_to_one",
        "when `stride` is not given, your windows move by one position",
        "As in torch, the stride defaults to the window size: s = kernel_size if stride is "
        "None else stride.",
        lambda x, k, s, c: None if "stride" in c.kwargs else _maxpool(x, k, 1),
    ),
    _fwd_pool_mistake(
        "average_not_max",
        "you took the mean of each window, not its maximum",
        "Max pooling keeps the largest value of each window: window.max().",
        lambda x, k, s, c: _avgpool(x, k, s),
    ),
    _fwd_pool_mistake(
        "channels_mixed",
        "each window's maximum was taken over all channels at once",
        "Pooling works on each channel separately: the window is x[n, c, rows, cols].",
        lambda x, k, s, c: (
            None
            if x.shape[1] == 1
            else np.repeat(_maxpool(x.max(axis=1, keepdims=True), k, s), x.shape[1], axis=1)
        ),
    ),
    _fwd_pool_mistake(
        "first_image_only",
        "only the first image of the batch was pooled; the others stayed zero",
        "Loop over n too (or slice all images at once).",
        lambda x, k, s, c: (
            None
            if x.shape[0] == 1
            else np.concatenate([_maxpool(x[:1], k, s), np.zeros_like(_maxpool(x[1:], k, s))])
        ),
    ),
)


def check_maxpool2d_forward(fn: Callable) -> None:
    """Exercise 5.6: maxpool2d_forward(x, *, kernel_size, stride=None) -> (out, cache)."""
    __tracebackhide__ = True
    cases = _maxpool_forward_cases()
    _need_pair(fn, "maxpool2d_forward", cases[0], "what the backward pass needs (the argmax)")
    check(
        _out_only(fn),
        name="maxpool2d_forward",
        cases=cases,
        mistakes=MAXPOOL_FORWARD_MISTAKES,
        pointer=POINTER_POOL,
        oracle=lambda x, *, kernel_size, stride=None: _maxpool(
            x, kernel_size, kernel_size if stride is None else stride
        ),
    )


def _maxpool_grad(x, dout, k, s) -> np.ndarray:
    xt = _oracle.t64(x).requires_grad_(True)
    _nnf().max_pool2d(xt, k, stride=s).backward(_oracle.t64(dout))
    return xt.grad.numpy()


def _avgpool_grad(x, dout, k, s, p=0, *, count_pad=True) -> np.ndarray:
    xt = _oracle.t64(x).requires_grad_(True)
    out = _nnf().avg_pool2d(xt, k, stride=s, padding=p, count_include_pad=count_pad)
    out.backward(_oracle.t64(dout))
    return xt.grad.numpy()


def _pool_back_case(label, x, dout, k, s=None, p=None, *, mode="max") -> Case:
    kw: dict[str, Any] = {"kernel_size": k}
    if s is not None:
        kw["stride"] = s
    if p is not None:
        kw["padding"] = p
    stride = k if s is None else s
    if mode == "max":
        expected = _maxpool_grad(x, dout, k, stride)
    else:
        expected = _avgpool_grad(x, dout, k, stride, p or 0)
    return _BackwardCase(label, (x, dout), expected, kw)


def _maxpool_backward_cases() -> list[Case]:
    rng = np.random.default_rng(5060)
    peak = np.round(rng.uniform(0, 5, size=(1, 1, 5, 5)), 1)
    peak[0, 0, 2, 2] = 9.0  # the maximum of all nine overlapping 3×3 windows
    ties = rng.integers(0, 3, size=(2, 2, 5, 6)).astype(float)
    dints = rng.integers(-3, 4, size=(2, 2, 4, 5)).astype(float)

    def d(*shape):
        return rng.integers(1, 6, size=shape).astype(float)

    return [
        _pool_back_case(
            "lecture 000's Q6 matrix (a 20/20 tie in the top-left window)",
            POOL_X[None, None],
            np.array([[[[1.0, -2.0], [3.0, 0.5]]]]),
            2,
        ),
        _pool_back_case(
            "a peak that wins nine overlapping 3×3 windows (stride 1)", peak, d(1, 1, 3, 3), 3, 1
        ),
        _pool_back_case("N=2, C=2, integers with ties, 2×2 windows, stride 1", ties, dints, 2, 1),
        _pool_back_case(
            "N=1, C=3, a 7×6 input, 3×3 windows, stride 2",
            rng.standard_normal((1, 3, 7, 6)),
            d(1, 3, 3, 2),
            3,
            2,
        ),
        _pool_back_case(
            "N=2, C=1, an 8×7 input, 2×2 windows, stride 3",
            rng.standard_normal((2, 1, 8, 7)),
            d(2, 1, 3, 2),
            2,
            3,
        ),
        _pool_back_case(
            "a constant input (every window is a tie)",
            np.full((1, 2, 4, 4), -1.0),
            d(1, 2, 2, 2),
            2,
        ),
    ]


def _pool_args(case: Case):
    x, dout = (np.asarray(a, float) for a in case.args)
    return x, dout, case.kwargs["kernel_size"], _pool_stride(case), case.kwargs.get("padding", 0)


def _winners(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """torch's argmax of every window, as flat indices into H*W: (N, C, H_out, W_out)."""
    _, idx = _nnf().max_pool2d(_oracle.t64(x), k, stride=s, return_indices=True)
    return idx.numpy()


def _scatter_add(shape, rows, cols, values) -> np.ndarray:
    """out[n, c, rows, cols] += values, repeated indices summed (rows, cols: N, C, ...)."""
    N, C = shape[:2]
    out = np.zeros(shape)
    nn, cc = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    extra = (None,) * (rows.ndim - 2)
    np.add.at(out, (nn[(..., *extra)], cc[(..., *extra)], rows, cols), values)
    return out


def _window_grid(H_out: int, W_out: int):
    return np.meshgrid(np.arange(H_out), np.arange(W_out), indexing="ij")


def _max_mask_routing(pick: str) -> Callable[[Case], Any]:
    """Gradient of max pooling when a wrong set of window positions receives dout."""

    def wrong(case: Case):
        x, dout, k, s, _ = _pool_args(case)
        return _oracle.pool_routing(x, k, s, pick, dout)

    return wrong


def _max_last_write(whole_window: bool) -> Callable[[Case], Any]:
    """dx[winner] = dout (assignment): the last window in loop order wins each position.

    whole_window: the student assigned the whole window, dx[window] = mask * dout, so a
    later window overwrites an earlier winner with 0.
    """

    def wrong(case: Case):
        torch = _torch()
        x, dout, k, s, _ = _pool_args(case)
        N, C, H, W = x.shape
        idx = _winners(x, k, s)  # (N, C, H_out, W_out)
        H_out, W_out = idx.shape[2:]
        if whole_window:
            I, ok_i = _last_window(H, k, s, H_out)
            J, ok_j = _last_window(W, k, s, W_out)
            owner_idx = idx[:, :, I[:, None], J[None, :]]  # (N, C, H, W): winner of the last window
            here = (np.arange(H)[:, None] * W + np.arange(W)[None, :])[None, None]
            value = dout[:, :, I[:, None], J[None, :]]
            keep = (owner_idx == here) & (ok_i[:, None] & ok_j[None, :])
            return np.where(keep, value, 0.0)
        order = torch.arange(H_out * W_out, dtype=torch.int64).expand(N, C, -1)
        last = torch.full((N, C, H * W), -1, dtype=torch.int64)
        last = last.scatter_reduce(
            2, torch.from_numpy(idx.reshape(N, C, -1)), order, reduce="amax", include_self=True
        )
        flat = dout.reshape(N, C, -1)
        got = np.take_along_axis(flat, np.clip(last.numpy(), 0, None), axis=2)
        return np.where(last.numpy() >= 0, got, 0.0).reshape(N, C, H, W)

    return wrong


def _max_moved(rule: str) -> Callable[[Case], Any]:
    """The winner's dout lands at a wrong place: no window offset, or stride taken as 1."""

    def wrong(case: Case):
        x, dout, k, s, _ = _pool_args(case)
        W = x.shape[3]
        idx = _winners(x, k, s)
        H_out, W_out = idx.shape[2:]
        I, J = _window_grid(H_out, W_out)
        p, q = idx // W - I * s, idx % W - J * s  # offsets inside each window
        if rule == "no_offset":
            rows, cols = p, q
        else:  # "stride_ignored": window (i, j) taken to start at (i, j)
            if s == 1:
                return None
            rows, cols = p + I, q + J
        return _scatter_add(x.shape, rows, cols, dout)

    return wrong


def _max_ones(case: Case):
    x, dout, k, s, _ = _pool_args(case)
    if np.all(dout == 1):
        return None
    return _maxpool_grad(x, np.ones_like(dout), k, s)


MAXPOOL_BACKWARD_MISTAKES = (
    Mistake(
        "all_ties",
        "every tied maximum of a window received the gradient, so a window with a tie "
        "sends its dout twice",
        "Exactly one input per window gets dout: the first maximum in row-major order "
        "(np.argmax of the window), the one torch picks. Store that index in the forward pass.",
        _max_mask_routing("all_ties"),
    ),
    Mistake(
        "last_tie",
        "ties went to the last maximum of the window (or the first one scanning column by "
        "column), not the first in row-major order",
        "np.argmax(window) returns the first maximum in row-major order, the one torch picks; "
        "a `>=` comparison in a loop moves on to later ties, use `>`.",
        _max_mask_routing("last"),
    ),
    Mistake(
        "overwrite_not_accumulate",
        "an input that wins several overlapping windows kept only the last window's dout: "
        "it was assigned (=) to the winner, or added with one fancy-indexed += over all "
        "windows, which numpy applies only once per repeated index",
        "Add once per window: dx[n, c, r, q] += dout[n, c, i, j] in the loop, or "
        "np.add.at(dx, index, dout), which adds at every occurrence. With stride < kernel "
        "one input can win several windows and the chain rule sums what each one sends.",
        _max_last_write(whole_window=False),
    ),
    Mistake(
        "overwrite_not_accumulate",
        "a whole window of dx was assigned (dx[window] = mask * dout): where windows "
        "overlap, a later window overwrites an earlier winner's gradient with 0",
        "Only touch the winner, and add: dx[n, c, i*s + p, j*s + q] += dout[n, c, i, j].",
        _max_last_write(whole_window=True),
    ),
    Mistake(
        "average_gradient",
        "every input of a window received dout / (k*k): that is the gradient of average pooling",
        "For max pooling only the winner of each window gets dout (lecture 001).",
        _max_mask_routing("avg"),
    ),
    Mistake(
        "mask_without_dout",
        "the winners received 1 instead of dout (the mask, not the gradient)",
        "Multiply by the upstream gradient: the winner of window (i, j) gets dout[n, c, i, j].",
        _max_ones,
    ),
    Mistake(
        "window_offset_missing",
        "the winner's position (p, q) inside its window was used as is, without adding where "
        "the window starts",
        "The winner of window (i, j) sits at row i*s + p and column j*s + q of x.",
        _max_moved("no_offset"),
    ),
    Mistake(
        "stride_ignored",
        "the stride was ignored in the backward pass: the winner of window (i, j) was "
        "placed at row i + p instead of i*s + p",
        "Window (i, j) starts at row i*stride and column j*stride, as in the forward pass.",
        _max_moved("stride_ignored"),
    ),
)


def check_maxpool2d_backward(forward: Callable, backward: Callable) -> None:
    """Exercise 5.6: maxpool2d_backward(dout, cache) -> dx, with the cache of your forward."""
    __tracebackhide__ = True
    cases = _maxpool_backward_cases()
    _need_forward(forward, "maxpool2d_forward", cases[0], "what the backward pass needs")
    check(
        _through_forward(forward, backward, None),
        name="maxpool2d_backward",
        cases=cases,
        mistakes=MAXPOOL_BACKWARD_MISTAKES,
        pointer=POINTER_MAXPOOL_BACK,
    )


# ---------------------------------------------------------------------------------------
# Exercise 5.8: average pooling, forward and backward
# ---------------------------------------------------------------------------------------


def _avgpool_forward_cases() -> list[Case]:
    rng = np.random.default_rng(508)

    def case(label, x, k, s=None, p=0, expected=None):
        kw: dict[str, Any] = {"kernel_size": k, "padding": p}
        if s is not None:
            kw["stride"] = s
        if expected is None:
            expected = _avgpool(x, k, k if s is None else s, p)
        return Case(label, (x,), expected, kw)

    return [
        case(
            "lecture 000's Q5 matrix, 2×2 windows",
            POOL_X[None, None],
            2,
            None,
            0,
            POOL_AVG[None, None],
        ),
        case(
            "N=2, C=2, a 5×6 input, 3×3 windows, stride 1, padding 1",
            rng.standard_normal((2, 2, 5, 6)),
            3,
            1,
            1,
        ),
        case(
            "N=1, C=3, a 7×6 input, 3×3 windows, stride 2, padding 1",
            rng.standard_normal((1, 3, 7, 6)),
            3,
            2,
            1,
        ),
        case(
            "N=2, C=1, a 6×4 input, 2×2 windows (default stride)",
            rng.standard_normal((2, 1, 6, 4)),
            2,
        ),
    ]


#: formula(x, kernel_size, stride, padding, case)
_avg_fwd_mistake = mistake_family(
    lambda c: (np.asarray(c.args[0], float), c.kwargs["kernel_size"], _pool_stride(c),
               c.kwargs.get("padding", 0), c)
)  # fmt: skip


AVGPOOL_FORWARD_MISTAKES = (
    _avg_fwd_mistake(
        "padding_not_counted",
        "the mean divides by the number of real inputs in the window, leaving the padded "
        "zeros out (count_include_pad=False)",
        "This course follows torch's default count_include_pad=True: always divide by k*k, "
        "padded zeros included.",
        lambda x, k, s, p, c: None if p == 0 else _avgpool(x, k, s, p, count_pad=False),
    ),
    _avg_fwd_mistake(
        "padding_ignored",
        "the padding was ignored",
        "Pad H and W with `padding` zeros on each side first.",
        lambda x, k, s, p, c: None if p == 0 else _avgpool(x, k, s, 0),
    ),
    _avg_fwd_mistake(
        "stride_defaults_to_one",
        "when `stride` is not given, your windows move by one position",
        "The stride defaults to the window size.",
        lambda x, k, s, p, c: None if "stride" in c.kwargs else _avgpool(x, k, 1, p),
    ),
    _avg_fwd_mistake(
        "max_not_average",
        "you took the maximum of each window, not its mean",
        "Average pooling keeps window.mean() (a sum divided by k*k).",
        lambda x, k, s, p, c: None if p else _maxpool(x, k, s),
    ),
)


def check_avgpool2d_forward(fn: Callable) -> None:
    """Exercise 5.8: avgpool2d_forward(x, *, kernel_size, stride=None, padding=0)."""
    __tracebackhide__ = True
    cases = _avgpool_forward_cases()
    _need_pair(fn, "avgpool2d_forward", cases[0], "what the backward pass needs")
    check(
        _out_only(fn),
        name="avgpool2d_forward",
        cases=cases,
        mistakes=AVGPOOL_FORWARD_MISTAKES,
        pointer=POINTER_POOL,
        oracle=lambda x, *, kernel_size, stride=None, padding=0: _avgpool(
            x, kernel_size, kernel_size if stride is None else stride, padding
        ),
    )


def _avgpool_backward_cases() -> list[Case]:
    rng = np.random.default_rng(5080)

    def d(*shape):
        return rng.integers(-4, 5, size=shape).astype(float)

    return [
        _pool_back_case(
            "lecture 000's Q5 matrix, 2×2 windows",
            POOL_X[None, None],
            np.array([[[[4.0, -8.0], [12.0, 2.0]]]]),
            2,
            None,
            0,
            mode="avg",
        ),
        _pool_back_case(
            "N=2, C=2, a 5×6 input, 3×3 windows, stride 1, padding 1",
            rng.standard_normal((2, 2, 5, 6)),
            d(2, 2, 5, 6),
            3,
            1,
            1,
            mode="avg",
        ),
        _pool_back_case(
            "N=1, C=3, a 7×6 input, 3×3 windows, stride 2, padding 1",
            rng.standard_normal((1, 3, 7, 6)),
            d(1, 3, 4, 3),
            3,
            2,
            1,
            mode="avg",
        ),
        _pool_back_case(
            "N=2, C=1, an 8×7 input, 2×2 windows, stride 3, padding 1",
            rng.standard_normal((2, 1, 8, 7)),
            d(2, 1, 3, 3),
            2,
            3,
            1,
            mode="avg",
        ),
    ]


def _avg_padded_grad(x, dout, k, s, p) -> np.ndarray:
    """Gradient w.r.t. the zero-padded input (the padding kept)."""
    return _avgpool_grad(_pad_hw(x, p), dout, k, s, 0)


def _avg_last_write(case: Case):
    x, dout, k, s, p = _pool_args(case)
    H, W = x.shape[2:]
    H_out, W_out = dout.shape[2:]
    Hp, Wp = H + 2 * p, W + 2 * p
    I, ok_i = _last_window(Hp, k, s, H_out)
    J, ok_j = _last_window(Wp, k, s, W_out)
    full = dout[:, :, I[:, None], J[None, :]] / (k * k) * (ok_i[:, None] & ok_j[None, :])
    return full[:, :, p : p + H, p : p + W]


def _avg_case_fn(formula) -> Callable[[Case], Any]:
    def wrong(case: Case):
        return formula(*_pool_args(case))

    return wrong


AVGPOOL_BACKWARD_MISTAKES = (
    Mistake(
        "overwrite_not_accumulate",
        "dx was assigned (=) window by window instead of accumulated (+=): where windows "
        "overlap, only the last window's share survives",
        "An input in several windows receives a share from each: "
        "dxp[n, c, rows, cols] += dout[n, c, i, j] / (k*k).",
        _avg_last_write,
    ),
    Mistake(
        "not_divided",
        "dout was spread over the window without dividing by k*k",
        "The output is the mean of k*k inputs, so each input's share is dout / (k*k).",
        _avg_case_fn(lambda x, d, k, s, p: _avgpool_grad(x, d, k, s, p) * k * k),
    ),
    Mistake(
        "padding_not_counted",
        "the share was dout divided by the number of real inputs in the window "
        "(count_include_pad=False)",
        "With count_include_pad=True the forward pass always divides by k*k, so the backward "
        "pass does too, at the border as well.",
        _avg_case_fn(
            lambda x, d, k, s, p: None if p == 0 else _avgpool_grad(x, d, k, s, p, count_pad=False)
        ),
    ),
    Mistake(
        "padding_not_removed",
        "dx has the shape of the padded input: the padding was not cut off",
        "The padded zeros are not inputs; return dxp[:, :, p : p + H, p : p + W].",
        _avg_case_fn(lambda x, d, k, s, p: None if p == 0 else _avg_padded_grad(x, d, k, s, p)),
    ),
    Mistake(
        "padding_cut_at_corner",
        "the padding was cut off from the bottom and the right only (dxp[:, :, :H, :W])",
        "The padding sits on every side: keep the middle, dxp[:, :, p : p + H, p : p + W].",
        _avg_case_fn(
            lambda x, d, k, s, p: (
                None
                if p == 0
                else _avg_padded_grad(x, d, k, s, p)[:, :, : x.shape[2], : x.shape[3]]
            )
        ),
    ),
    Mistake(
        "stride_ignored",
        "the stride was ignored in the backward pass: the share of window (i, j) went to the "
        "window at (i, j) instead of (i*s, j*s)",
        "Use the windows of the forward pass: rows i*s : i*s + k, columns j*s : j*s + k.",
        _avg_case_fn(lambda x, d, k, s, p: None if s == 1 else _avg_stride_one(x, d, k, p)),
    ),
)


def _avg_stride_one(x, dout, k, p) -> np.ndarray:
    N, C, H, W = x.shape
    H_out, W_out = dout.shape[2:]
    ones = _oracle.t64(np.ones((1, 1, k, k)) / (k * k))
    d = _oracle.t64(dout).reshape(N * C, 1, H_out, W_out)
    y = _nnf().conv_transpose2d(d, ones).numpy().reshape(N, C, H_out + k - 1, W_out + k - 1)
    full = np.zeros((N, C, H + 2 * p, W + 2 * p))
    full[:, :, : y.shape[2], : y.shape[3]] = y
    return full[:, :, p : p + H, p : p + W]


def check_avgpool2d_backward(forward: Callable, backward: Callable) -> None:
    """Exercise 5.8: avgpool2d_backward(dout, cache) -> dx, with the cache of your forward."""
    __tracebackhide__ = True
    cases = _avgpool_backward_cases()
    _need_forward(forward, "avgpool2d_forward", cases[0], "what the backward pass needs")
    check(
        _through_forward(forward, backward, None),
        name="avgpool2d_backward",
        cases=cases,
        mistakes=AVGPOOL_BACKWARD_MISTAKES,
        pointer=POINTER_AVGPOOL_BACK,
    )


# ---------------------------------------------------------------------------------------
# Quizzes (answers checked by digest)
# ---------------------------------------------------------------------------------------


def _as_shape(answer: Any) -> tuple | None:
    try:
        return tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        return None


def _shape_part(digest: str, name: str, hint: str) -> Part:
    return Part(digest, hint, says=f"{name} = {{}} is not right.", show=repr, norm=_as_shape)


SHAPE_PARTS = (
    _shape_part(
        DOUT_SHAPE_DIGEST,
        "dout_shape",
        "dout has the shape of the layer's output (N, C_out, H_out, W_out), with "
        "H_out = (H + 2p - KH) // s + 1.",
    ),
    _shape_part(
        DW_SHAPE_DIGEST,
        "dw_shape",
        "A gradient has the shape of what it is the gradient of: dw is shaped like w, "
        "whatever N, H or W.",
    ),
    _shape_part(DB_SHAPE_DIGEST, "db_shape", "db is shaped like b: one number per output channel."),
)


def check_shapes_quiz(answer: Any) -> None:
    """Exercise 5.5a: shapes of dout, dw and db for x (8, 3, 32, 32), w (16, 3, 5, 5),
    stride 2, padding 2. `answer` is (dout_shape, dw_shape, db_shape)."""
    __tracebackhide__ = True
    question = "Q1 (the shapes of dout, dw and db)"

    def split(answer: Any) -> list:
        parts = list(answer) if isinstance(answer, (tuple, list)) else []
        if len(parts) != 3 or any(p is None or p is Ellipsis for p in parts):
            raise CheckFailed(
                f"{question}: expected three shapes (dout_shape, dw_shape, db_shape), got "
                f"{answer!r}.",
                mistake="wrong_answer",
            )
        return parts

    check_quiz(answer, question, SHAPE_PARTS, split)


def check_output_padding_quiz(answer: Any) -> None:
    """Exercise 5.5b: output_padding for an 8×8 input, 3×3 kernel, stride 2, padding 1."""
    __tracebackhide__ = True
    check_answer(
        answer,
        question="Q2 (the output_padding that gives dx its 8×8 shape)",
        digest=OUTPUT_PADDING_DIGEST,
        hint="Compute H_out first, then the size conv_transpose2d returns without "
        "output_padding, (H_out - 1)*s - 2p + KH; the missing rows are the answer. They are "
        "the input rows that no window of the forward pass reached.",
    )


def check_fraction_quiz(answer: Any) -> None:
    """Exercise 5.7: fraction of inputs that receive gradient in 2×2/2 max pooling."""
    __tracebackhide__ = True
    question = (
        "Q3 (the fraction of a 32×32 input that receives gradient, 2×2 max pooling, stride 2)"
    )

    def split(answer: Any) -> list:
        try:
            return [float(answer)]
        except (TypeError, ValueError):
            raise CheckFailed(
                f"{question}: write a number between 0 and 1, got {answer!r}.",
                mistake="wrong_answer",
            ) from None

    hint = (
        "Each window sends its gradient to exactly one of its inputs; count the windows and "
        "the inputs, and give the ratio as a number between 0 and 1."
    )
    check_quiz(answer, question, [Part(FRACTION_DIGEST, hint)], split)
