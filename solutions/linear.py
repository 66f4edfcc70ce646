"""Fully connected (affine) layer and the flatten that feeds it from a conv stack.

The weight layout is torch's `nn.Linear`: w has shape (out_features, in_features), so

    out = x @ w.T + b

and a numpy result can be checked against `F.linear(x, w, b)` without transposing.
In LeNet (lecture 002) `flatten` turns the (N, 16, 5, 5) feature maps into (N, 400)
vectors before the 400 -> 120 -> 84 -> 10 linear layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import as_float_array, result_dtype

__all__ = ["flatten_backward", "flatten_forward", "linear_backward", "linear_forward"]


def linear_forward(x: Any, w: Any, b: Any = None):
    """Affine layer, torch's `F.linear`: out = x @ w.T + b.

    Args:
        x: input, shape (N, in_features). Flatten feature maps first (`flatten_forward`).
        w: weights, shape (out_features, in_features) (torch's nn.Linear layout).
        b: bias, shape (out_features,), or None for no bias.
    Returns:
        out: shape (N, out_features); float32 only when every input is float32.
        cache: (x, w, has_bias), for `linear_backward`.
    Raises:
        ValueError: wrong number of dimensions, or in/out features that do not match.
    """
    x = as_float_array(x, "x", 2, "(N, in_features); flatten (N, C, H, W) maps first")
    w = as_float_array(w, "w", 2, "(out_features, in_features)")
    _, in_features = x.shape
    out_features, w_in = w.shape
    if w_in != in_features:
        raise ValueError(
            f"x has in_features={in_features} but w expects {w_in}; "
            f"w must be (out_features, in_features) = ({out_features}, {in_features})"
        )
    arrays = [x, w]
    if b is not None:
        b = as_float_array(b, "b", 1, "(out_features,)")
        if b.shape != (out_features,):
            raise ValueError(
                f"b must have shape (out_features,) = ({out_features},); got {b.shape}"
            )
        arrays.append(b)
    dtype = result_dtype(*arrays)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    out = x @ w.T  # (N, out_features)
    if b is not None:
        out += b.astype(dtype, copy=False)  # broadcast over the batch
    return out, (x, w, b is not None)


def linear_backward(dout: Any, cache: tuple):
    """Gradients of out = x @ w.T + b.

        dx = dout @ w        (N, in_features)
        dw = dout.T @ x      (out_features, in_features): summed over the batch
        db = dout.sum(0)     (out_features,): each output gets b once per example

    Args:
        dout: upstream gradient, shape (N, out_features).
        cache: what `linear_forward` returned as its cache.
    Returns:
        dx: shape (N, in_features).
        dw: shape (out_features, in_features).
        db: shape (out_features,), or None when the forward pass had no bias.
    Raises:
        ValueError: dout not shaped like the forward output.
    """
    try:
        x, w, has_bias = cache
    except (TypeError, ValueError):
        raise ValueError("cache must be the (x, w, has_bias) returned by linear_forward") from None
    N, _ = x.shape
    out_features, _ = w.shape
    dout = as_float_array(dout, "dout", 2, "(N, out_features)")
    if dout.shape != (N, out_features):
        raise ValueError(
            f"dout must have the shape of the forward output (N, out_features) = "
            f"{(N, out_features)}; got {dout.shape}"
        )
    dout = dout.astype(x.dtype, copy=False)
    dx = dout @ w  # (N, in_features)
    dw = dout.T @ x  # (out_features, in_features)
    db = dout.sum(axis=0) if has_bias else None  # (out_features,)
    return dx, dw, db


def flatten_forward(x: Any):
    """Flatten every example: (N, d1, d2, ...) -> (N, d1*d2*...), like torch.flatten(x, 1).

    The order is C-order (row-major), the same as torch's, so weights trained in one
    library line up with features computed in the other.

    Args:
        x: input, shape (N, ...) with at least 2 dimensions, e.g. (N, C, H, W).
    Returns:
        out: shape (N, prod(x.shape[1:])); a view of x when x is contiguous.
        cache: x.shape, for `flatten_backward`.
    """
    x = as_float_array(x, "x", tuple(range(2, 33)), "(N, ...) with at least 2 dimensions")
    N = x.shape[0]
    return x.reshape(N, -1), x.shape


def flatten_backward(dout: Any, cache: tuple[int, ...]) -> np.ndarray:
    """Undo the flatten on the gradient: (N, D) -> the input shape (flatten moves no values).

    Args:
        dout: upstream gradient, shape (N, D) with D = prod(input shape[1:]).
        cache: the input shape, as returned by `flatten_forward`.
    Returns:
        dx: the input shape.
    """
    shape = tuple(cache)
    N, D = shape[0], int(np.prod(shape[1:]))
    dout = as_float_array(dout, "dout", 2, "(N, D)")
    if dout.shape != (N, D):
        raise ValueError(
            f"dout must have the shape of the flattened output (N, D) = {(N, D)}; got {dout.shape}"
        )
    return dout.reshape(shape)
