"""Numerical gradient checking: central differences and relative errors.

A backward pass is easy to get subtly wrong (a missing transpose, a sum over the wrong
axis, a gradient sent to every tied maximum). The check compares it with the definition
of the derivative, evaluated numerically with central differences:

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)        error O(h**2)

The one-sided (f(x + h e_i) - f(x)) / h has error O(h): central differences are far more
accurate for the same h.

Why float64 and h ~ 1e-5. Two errors compete. Truncation error shrinks like h**2 * f'''.
Round-off grows like eps * |f| / h: f(x +- h e_i) are each rounded to a relative eps, and
the difference of two nearly equal numbers keeps that absolute error while dividing by 2h
blows it up. Their sum is smallest near h ~ eps**(1/3):

* float64: eps = 2.2e-16, h ~ 6e-6 (hence the customary 1e-5), best error ~ eps**(2/3)
  ~ 4e-11 relative: a correct gradient agrees to ~1e-9 or better, a wrong one stands out.
* float32: eps = 1.2e-7, h would have to be ~5e-3 and the best error is ~2e-5, which
  cannot tell a correct gradient from a slightly wrong one; and with h = 1e-5, x + h is
  not even representable (near 1.0 float32 numbers are 1.2e-7 apart), so the step taken
  is not the step divided by. Hence the functions here insist on float64 inputs (and f
  should compute in float64 too).

This module loops over the entries of x in Python: gradient checking is a test tool for
small inputs (each entry costs two evaluations of f), not part of training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "GradCheckReport",
    "grad_check",
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
]


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, *, h: float = 1e-5):
    """Central-difference gradient of a scalar function f at x.

        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)    for every multi-index i

    x is perturbed IN PLACE, one entry at a time, and restored exactly afterwards (even
    if f raises). In-place matters: f may ignore its argument and read the same array
    through a closure, e.g. a layer's weights: `numerical_gradient(lambda _: loss(), w)`.

    Args:
        f: function of x returning a scalar (a Python float or an array with one element).
        x: float64 ndarray, any shape; perturbed in place during the call.
        h: step, > 0; 1e-5 balances truncation and round-off in float64 (module docstring).
    Returns:
        grad: float64 array of the shape of x.
    Raises:
        ValueError: x not a float64 ndarray, h <= 0, or f(x) not a scalar.
    """
    x = _check_x(x, h)
    grad = np.zeros_like(x)
    first = True
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        f_plus, f_minus = _evaluate_around(f, x, i, h)
        if first:
            for value in (f_plus, f_minus):
                if value.size != 1:
                    raise ValueError(
                        f"f must return a scalar; got an array of shape {value.shape}. "
                        "For array-valued f use numerical_gradient_array(f, x, dout)."
                    )
            first = False
        grad[i] = (f_plus.item() - f_minus.item()) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], Any], x: np.ndarray, dout: Any, *, h: float = 1e-5
):
    """Central-difference gradient of sum(f(x) * dout) for an array-valued f (a layer).

        grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2h)

    This is what a layer's backward pass computes: the gradient with respect to x of the
    scalar L = sum(out * dout), where dout plays the role of dL/dout (CS231n style).

    Args:
        f: function of x returning an array of the shape of dout (e.g. a forward pass).
        x: float64 ndarray, any shape; perturbed in place during the call and restored.
        dout: upstream gradient, the shape of f(x).
        h: step, > 0.
    Returns:
        grad: float64 array of the shape of x.
    Raises:
        ValueError: x not a float64 ndarray, h <= 0, or f(x) not shaped like dout.
    """
    x = _check_x(x, h)
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(x)
    first = True
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        f_plus, f_minus = _evaluate_around(f, x, i, h)
        if first:
            if f_plus.shape != dout.shape:
                raise ValueError(
                    f"dout must have the shape of f(x) {f_plus.shape}; got {dout.shape}"
                )
            first = False
        grad[i] = np.sum((f_plus - f_minus) * dout) / (2 * h)
    return grad


def rel_error(a: Any, b: Any, *, kind: str = "elementwise", eps: float = 1e-12) -> float:
    """Relative error between two arrays (e.g. analytic vs numerical gradient).

    kind="elementwise" (default, CS231n's `rel_error`):
        max_i |a_i - b_i| / max(|a_i| + |b_i|, eps)
    The strict one: every entry must agree relative to its own size, so a single wrong
    entry shows, however many correct large entries surround it. What it gets wrong:
    where both entries are ~0 (a ReLU that is off, a pooling input that never wins, a
    gradient that should be exactly 0 but comes out as 1e-11 round-off) the ratio of two
    tiny numbers can be O(1) although nothing is wrong: it blows up on noise.

    kind="norm":
        ||a - b|| / max(||a|| + ||b||, eps)        (Frobenius norms over all entries)
    Robust to those near-zero entries, since they weigh nothing in the norms. What it
    hides: a few wrong entries among many large ones (a wrong sign at one pixel of a
    10,000-entry gradient) change ||a - b|| by little relative to ||a|| + ||b||.

    Whenever no denominator is clamped by eps, norm <= elementwise (each |a_i - b_i| is
    at most elementwise * (|a_i| + |b_i|), and the triangle inequality does the rest): the
    norm form is the lenient one. Rough scale for float64 gradients checked with h = 1e-5:
    < 1e-7 correct; 1e-7..1e-4 suspicious unless the function has kinks (ReLU, max);
    > 1e-2 almost surely a bug.

    Args:
        a, b: arrays of the same shape (no broadcasting: a shape mismatch is a bug).
        kind: "elementwise" or "norm".
        eps: floor for the denominators, so that a == b == 0 gives 0, not 0/0.
    Returns:
        The relative error as a Python float (0.0 for empty arrays).
    Raises:
        ValueError: different shapes, or an unknown kind.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    if kind not in ("elementwise", "norm"):
        raise ValueError(f"kind must be 'elementwise' or 'norm'; got {kind!r}")
    if a.size == 0:
        return 0.0
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))


class GradCheckReport(NamedTuple):
    """Outcome of `grad_check`.

    Attributes:
        rel_error: relative error between analytic and numerical gradient (of `kind`).
        max_abs_error: max_i |analytic_i - numeric_i|.
        worst_index: multi-index of the entry with the largest elementwise relative error.
        numeric: the numerical gradient, shape of x.
        passed: rel_error <= tol.
    """

    rel_error: float
    max_abs_error: float
    worst_index: tuple[int, ...]
    numeric: np.ndarray
    passed: bool


def grad_check(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    analytic: Any,
    *,
    dout: Any = None,
    h: float = 1e-5,
    kind: str = "elementwise",
    tol: float = 1e-6,
) -> GradCheckReport:
    """Compare an analytic gradient with central differences and say where they differ.

    Args:
        f: scalar function of x, or (with `dout`) an array-valued one such as a forward pass.
        x: float64 ndarray at which to check; perturbed in place and restored.
        analytic: the gradient to check, shape of x.
        dout: None for scalar f; otherwise the upstream gradient, shape of f(x).
        h: finite-difference step.
        kind: relative-error form, see `rel_error`.
        tol: pass threshold on the relative error.
    Returns:
        A `GradCheckReport`.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != np.shape(x):
        raise ValueError(f"analytic must have the shape of x {np.shape(x)}; got {analytic.shape}")
    if dout is None:
        numeric = numerical_gradient(f, x, h=h)
    else:
        numeric = numerical_gradient_array(f, x, dout, h=h)
    err = rel_error(analytic, numeric, kind=kind)
    diff = np.abs(analytic - numeric)
    per_entry = diff / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)
    worst = np.unravel_index(np.argmax(per_entry), per_entry.shape) if per_entry.size else ()
    return GradCheckReport(
        rel_error=err,
        max_abs_error=float(diff.max()) if diff.size else 0.0,
        worst_index=tuple(int(i) for i in worst),
        numeric=numeric,
        passed=err <= tol,
    )


def _check_x(x: Any, h: float) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise ValueError(
            f"x must be a numpy ndarray (it is perturbed in place); got {type(x).__name__}"
        )
    if x.dtype != np.float64:
        raise ValueError(
            f"x must be float64 for finite differences (float32 round-off, ~1e-7, swamps "
            f"a step of h = {h}); got dtype {x.dtype}. Use x.astype(np.float64)."
        )
    if not h > 0:
        raise ValueError(f"h must be > 0; got {h!r}")
    return x


def _evaluate_around(f: Callable, x: np.ndarray, i: tuple[int, ...], h: float):
    """f at x with x[i] moved by +h and by -h; x[i] is restored exactly afterwards."""
    old = x[i]
    try:
        x[i] = old + h
        # Copy: f may return a view of a buffer it overwrites on the next call.
        f_plus = np.array(f(x), dtype=np.float64)
        x[i] = old - h
        f_minus = np.array(f(x), dtype=np.float64)
    finally:
        x[i] = old  # restore the saved value itself, not old + h - h (round-off)
    return f_plus, f_minus
