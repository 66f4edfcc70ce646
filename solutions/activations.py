"""Elementwise activations: ReLU, sigmoid, tanh, forward and backward.

Each layer works on an array of any shape (a batch of feature maps (N, C, H, W) or of
feature vectors (N, D)) and follows the `forward -> (out, cache)`,
`backward(dout, cache) -> dx` convention of the other layers. The backward pass is the
chain rule for an elementwise function: dx = dout * f'(x), with f' written in terms of
what the forward pass already computed, so nothing is evaluated twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import as_float_array

__all__ = [
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "tanh_backward",
    "tanh_forward",
]


def relu_forward(x: Any):
    """ReLU(x) = max(x, 0), elementwise.

    Args:
        x: input, any shape; float32 stays float32, ints become float64.
    Returns:
        out: same shape and dtype as x.
        cache: x (backward needs to know where x > 0).
    """
    x = _as_float(x, "x")
    return np.asarray(np.maximum(x, 0)), x


def relu_backward(dout: Any, cache: np.ndarray) -> np.ndarray:
    """dReLU: dx = dout where x > 0, else 0.

    ReLU has no derivative at x = 0; like torch we use 0 there (the subgradient that
    keeps a dead unit dead), so a check against torch agrees even on exact zeros.

    Args:
        dout: upstream gradient, the shape of x.
        cache: x, as returned by `relu_forward`.
    Returns:
        dx: the shape and dtype of x.
    """
    x = cache
    dout = _check_dout(dout, x)
    return np.asarray(dout * (x > 0))


def sigmoid_forward(x: Any):
    """sigma(x) = 1 / (1 + exp(-x)), elementwise, without overflow for any x.

    The textbook formula overflows in exp(-x) for x << 0 (exp(1000) = inf, with a
    RuntimeWarning). Both branches below only ever exponentiate -|x| <= 0, which lies in
    (0, 1]:  x >= 0: 1 / (1 + e),  x < 0: e / (1 + e),  with e = exp(-|x|).

    Args:
        x: input, any shape; float32 stays float32, ints become float64.
    Returns:
        out: same shape and dtype as x, values in [0, 1].
        cache: out (the derivative is sigma * (1 - sigma)).
    """
    x = _as_float(x, "x")
    e = np.exp(-np.abs(x))  # in (0, 1]: cannot overflow
    out = np.asarray(np.where(x >= 0, 1 / (1 + e), e / (1 + e)))
    return out, out


def sigmoid_backward(dout: Any, cache: np.ndarray) -> np.ndarray:
    """dsigma: dx = dout * sigma(x) * (1 - sigma(x)).

    Args:
        dout: upstream gradient, the shape of x.
        cache: sigma(x), as returned by `sigmoid_forward`.
    Returns:
        dx: the shape and dtype of x.
    """
    s = cache
    dout = _check_dout(dout, s)
    return np.asarray(dout * s * (1 - s))


def tanh_forward(x: Any):
    """tanh(x), elementwise (np.tanh saturates to +-1 without overflow).

    Args:
        x: input, any shape; float32 stays float32, ints become float64.
    Returns:
        out: same shape and dtype as x, values in [-1, 1].
        cache: out (the derivative is 1 - tanh(x)**2).
    """
    x = _as_float(x, "x")
    out = np.asarray(np.tanh(x))
    return out, out


def tanh_backward(dout: Any, cache: np.ndarray) -> np.ndarray:
    """dtanh: dx = dout * (1 - tanh(x)**2).

    Args:
        dout: upstream gradient, the shape of x.
        cache: tanh(x), as returned by `tanh_forward`.
    Returns:
        dx: the shape and dtype of x.
    """
    t = cache
    dout = _check_dout(dout, t)
    return np.asarray(dout * (1 - t * t))


def _as_float(x: Any, name: str) -> np.ndarray:
    # Activations accept any number of dimensions: the layout check is only the dtype rule.
    # (numpy ufuncs turn 0-d arrays into scalars; the np.asarray calls above undo that so
    # every output, even of a 0-d input, is an ndarray.)
    return as_float_array(x, name, np.ndim(x), "an array of any shape")


def _check_dout(dout: Any, cached: np.ndarray) -> np.ndarray:
    if not isinstance(cached, np.ndarray):
        raise ValueError(
            f"cache must be the array returned by the forward pass; got {type(cached)}"
        )
    dout = _as_float(dout, "dout")
    if dout.shape != cached.shape:
        raise ValueError(
            f"dout must have the shape of the forward input/output {cached.shape}; got {dout.shape}"
        )
    return dout.astype(cached.dtype, copy=False)
