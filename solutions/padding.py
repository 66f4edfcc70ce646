"""Output sizes and zero padding (lectures 000-004).

A K-wide window that slides in steps of `stride` over an input of n pixels, padded with p
pixels on each side, fits at

    n_out = (n + 2*p - K) // stride + 1                      (lectures 001, 003, 004; torch)

positions. With dilation d the window spans d*(K - 1) + 1 pixels, so K becomes that
"effective" size: n_out = (n + 2*p - d*(K - 1) - 1) // stride + 1.

Lectures 000 and 002 write p for the TOTAL padding (both sides together):

    n_out = floor((n - K + p_total + stride) / stride)

which is the same number when p_total = 2*p (see `output_size_total`). The code of the
course uses per-side padding, as torch does, and `output_size_total` shows the other form.

"Same" padding keeps n_out = n at stride 1: p_total = K - 1 rows. For an even kernel that
is odd, so the two sides differ; lecture 000 puts ceil(p_total/2) on top / left and
floor(p_total/2) at the bottom / right, which `same_padding` returns as (before, after).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import as_float_array, as_padding

__all__ = ["output_size", "output_size_total", "pad2d", "same_padding"]


def _check_int(value: Any, name: str, *, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return int(value)


def output_size(n: int, k: int, *, padding: Any = 0, stride: int = 1, dilation: int = 1) -> int:
    """Number of window positions along one axis (per-side padding, floor; torch's rule).

    n_out = (n + before + after - dilation*(k - 1) - 1) // stride + 1, which for symmetric
    padding p is the familiar (n + 2*p - k) // stride + 1 at dilation 1. A window that
    does not fit exactly at the end is dropped (floor), e.g. n=7, k=3, stride=3 gives 2:
    the last input column is never read.

    Args:
        n: input size along the axis (H or W), >= 1.
        k: kernel size along the axis (KH or KW), >= 1.
        padding: pixels added on EACH side (int), or a (before, after) pair for asymmetric
            padding such as `same_padding(k)` of an even kernel.
        stride: step between window positions, >= 1.
        dilation: spacing between kernel taps, >= 1 (the window spans dilation*(k-1)+1).
    Returns:
        n_out >= 1.
    Raises:
        ValueError: a non-int or out-of-range argument, or a (dilated) kernel larger than
            the padded input.
    """
    n = _check_int(n, "n (input size)", minimum=1)
    k = _check_int(k, "k (kernel size)", minimum=1)
    stride = _check_int(stride, "stride", minimum=1)
    dilation = _check_int(dilation, "dilation", minimum=1)
    before, after = _as_before_after(padding)
    padded = n + before + after
    span = dilation * (k - 1) + 1  # pixels one window covers
    if span > padded:
        raise ValueError(
            f"kernel of size {k} (spanning {span} pixels with dilation {dilation}) does not "
            f"fit the input of size {n} padded to {padded}; n + padding must be >= "
            "dilation*(k - 1) + 1"
        )
    return (padded - span) // stride + 1


def output_size_total(n: int, k: int, *, total_padding: int = 0, stride: int = 1) -> int:
    """Output size with the TOTAL padding convention of lectures 000 and 002.

    n_out = floor((n - k + p + s) / s), where p counts the rows added on both sides
    together. It is the per-side formula in disguise: with p = 2*p_side,

        (n - k + 2*p_side + s) // s = (n + 2*p_side - k) // s + 1 = output_size(n, k,
        padding=p_side, stride=s),

    and for an odd p the (before, after) split does not matter:
    `output_size_total(n, k, total_padding=p) == output_size(n, k, padding=(p - p//2, p//2))`.

    Args:
        n: input size along the axis, >= 1.
        k: kernel size, >= 1.
        total_padding: rows (or columns) added on both sides together, >= 0.
        stride: step between window positions, >= 1.
    Returns:
        n_out >= 1.
    Raises:
        ValueError: a non-int or out-of-range argument, or k > n + total_padding.
    """
    n = _check_int(n, "n (input size)", minimum=1)
    k = _check_int(k, "k (kernel size)", minimum=1)
    p = _check_int(total_padding, "total_padding", minimum=0)
    s = _check_int(stride, "stride", minimum=1)
    if k > n + p:
        raise ValueError(
            f"kernel of size {k} does not fit the input of size {n} with total padding {p}; "
            "n + total_padding must be >= k"
        )
    return (n - k + p + s) // s


def same_padding(k: int, *, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding that keeps the size at stride 1 ("same" padding).

    The total is dilation*(k - 1); lecture 000 puts the larger half on top / left:
    before = ceil(total / 2), after = floor(total / 2). Odd kernels pad symmetrically
    (k=3 -> (1, 1), k=5 -> (2, 2)); even ones do not (k=2 -> (1, 0), k=4 -> (2, 1)).
    Note that torch's `padding="same"` splits the other way (the extra pixel at the end).

    Args:
        k: kernel size, >= 1.
        dilation: spacing between kernel taps, >= 1.
    Returns:
        (before, after), to use along H as (top, bottom) or along W as (left, right).
    """
    k = _check_int(k, "k (kernel size)", minimum=1)
    dilation = _check_int(dilation, "dilation", minimum=1)
    total = dilation * (k - 1)
    return (total + 1) // 2, total // 2


def pad2d(X: Any, padding: Any, *, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes (H, W) with a constant, leaving the leading axes alone.

    Args:
        X: shape (H, W) or (..., H, W), e.g. (C, H, W) or (N, C, H, W); ints become float64.
        padding: an int (every side), (ph, pw) (per side along H and along W), or
            ((top, bottom), (left, right)).
        value: what the new pixels hold (0 for zero padding, -inf for max pooling).
    Returns:
        shape (..., H + top + bottom, W + left + right), same float dtype as X.
    """
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"X must be (H, W) or (..., H, W); got an array of shape {X.shape}")
    X = as_float_array(X, "X", X.ndim, "(H, W) or (..., H, W)")
    (top, bottom), (left, right) = as_padding(padding)
    H, W = X.shape[-2:]
    out = np.full((*X.shape[:-2], H + top + bottom, W + left + right), value, dtype=X.dtype)
    out[..., top : top + H, left : left + W] = X
    return out


def _as_before_after(padding: Any) -> tuple[int, int]:
    """An int p -> (p, p); a pair (before, after) is kept; both must be ints >= 0."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        before = after = int(padding)
    else:
        try:
            before, after = padding
        except (TypeError, ValueError):
            raise ValueError(
                f"padding must be an int (per side) or a (before, after) pair; got {padding!r}"
            ) from None
        before = _check_int(before, "padding before", minimum=0)
        after = _check_int(after, "padding after", minimum=0)
    if min(before, after) < 0:
        raise ValueError(f"padding must be >= 0; got {padding!r}")
    return before, after
