"""Loop versions of convolution and pooling, straight from the definitions: test oracles.

SLOW ON PURPOSE. Every function here is a plain for-loop over every index of the
formula it implements, with no padding tricks, strided views or matrix products, so that
it can be checked by reading it against the lecture. The tests compare the vectorised
reference (`solutions.conv`, `solutions.pooling`) with these on small random cases; do
not use them on real data (a LeNet batch would take minutes).

Conventions are the vectorised ones (torch's): NCHW, weights (C_out, C_in, KH, KW),
per-side padding, `stride` of pooling defaulting to the kernel size, max pooling that
pads with -inf and sends the gradient to the FIRST maximum of a window in row-major scan
order (the one torch picks), average pooling that counts the padding zeros
(`count_include_pad=True`). Results are computed in float64 and returned in the input's
float dtype (float32 stays float32; ints become float64).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._utils import as_float_array, as_padding, as_pair, result_dtype

__all__ = [
    "avgpool2d_backward_naive",
    "avgpool2d_forward_naive",
    "conv2d_backward_naive",
    "conv2d_forward_naive",
    "conv2d_true_naive",
    "corr2d_naive",
    "maxpool2d_backward_naive",
    "maxpool2d_forward_naive",
    "pool2d_naive",
]


def corr2d_naive(X: Any, K: Any) -> np.ndarray:
    """Valid cross-correlation, Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b].

    Args:
        X: shape (H, W).
        K: shape (KH, KW).
    Returns:
        Y: shape (H - KH + 1, W - KW + 1).
    """
    X = as_float_array(X, "X", 2, "(H, W)")
    K = as_float_array(K, "K", 2, "(KH, KW)")
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            total = 0.0
            for a in range(KH):
                for b in range(KW):
                    total += X[i + a, j + b] * K[a, b]
            Y[i, j] = total
    return Y.astype(result_dtype(X, K))


def conv2d_true_naive(X: Any, K: Any, mode: str = "valid") -> np.ndarray:
    """True convolution from its definition, Y[i, j] = sum_{a, b} X[a, b] * K[i - a, j - b].

    The "full" result has one entry for every (i, j) where kernel and input overlap,
    (H + KH - 1) x (W + KW - 1); "valid" keeps rows KH-1 .. H-1 and columns KW-1 .. W-1
    (kernel entirely inside X); "same" keeps H x W entries starting at row (KH - 1) // 2
    and column (KW - 1) // 2 (the centre of "full", as scipy.signal.convolve2d does).

    Args:
        X: shape (H, W).
        K: shape (KH, KW).
        mode: "valid", "full" or "same".
    Returns:
        Y: the part of the full convolution that `mode` names.
    """
    X = as_float_array(X, "X", 2, "(H, W)")
    K = as_float_array(K, "K", 2, "(KH, KW)")
    H, W = X.shape
    KH, KW = K.shape
    full = np.zeros((H + KH - 1, W + KW - 1))
    for i in range(H + KH - 1):
        for j in range(W + KW - 1):
            total = 0.0
            for a in range(H):
                for b in range(W):
                    if 0 <= i - a < KH and 0 <= j - b < KW:
                        total += X[a, b] * K[i - a, j - b]
            full[i, j] = total
    if mode == "full":
        Y = full
    elif mode == "valid":
        Y = full[KH - 1 : H, KW - 1 : W]
    elif mode == "same":
        top, left = (KH - 1) // 2, (KW - 1) // 2
        Y = full[top : top + H, left : left + W]
    else:
        raise ValueError(f"mode must be 'valid', 'full' or 'same'; got {mode!r}")
    return Y.astype(result_dtype(X, K))


def _conv_geometry(x_shape, w_shape, stride, padding, dilation):
    """Normalised stride, padding, dilation and the output size (the torch formula)."""
    _, _, H, W = x_shape
    _, _, KH, KW = w_shape
    sh, sw = as_pair(stride, "stride", minimum=1)
    dh, dw = as_pair(dilation, "dilation", minimum=1)
    (top, bottom), (left, right) = as_padding(padding)
    H_out = (H + top + bottom - dh * (KH - 1) - 1) // sh + 1
    W_out = (W + left + right - dw * (KW - 1) - 1) // sw + 1
    return (sh, sw), (top, left), (dh, dw), (H_out, W_out)


def conv2d_forward_naive(
    x: Any, w: Any, b: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> np.ndarray:
    """Batched cross-correlation, one multiply-add at a time.

    out[n, o, h, v] = b[o] + sum_{c, i, j} w[o, c, i, j] * x[n, c, h*sh + i*dh - top,
    v*sw + j*dw - left], where terms that fall outside x (in the padding) count as 0.

    Args:
        x: shape (N, C_in, H, W).
        w: shape (C_out, C_in, KH, KW).
        b: shape (C_out,), or None.
        stride, padding, dilation: as `solutions.conv.conv2d_forward`.
    Returns:
        out: shape (N, C_out, H_out, W_out), H_out = (H + top + bottom - dh*(KH-1) - 1) // sh + 1.
    """
    x = as_float_array(x, "x", 4, "(N, C_in, H, W)")
    w = as_float_array(w, "w", 4, "(C_out, C_in, KH, KW)")
    arrays = [x, w] if b is None else [x, w, as_float_array(b, "b", 1, "(C_out,)")]
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    (sh, sw), (top, left), (dh, dw), (H_out, W_out) = _conv_geometry(
        x.shape, w.shape, stride, padding, dilation
    )
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(N):
        for o in range(C_out):
            for h in range(H_out):
                for v in range(W_out):
                    total = 0.0 if b is None else float(b[o])
                    for c in range(C_in):
                        for i in range(KH):
                            for j in range(KW):
                                row = h * sh + i * dh - top
                                col = v * sw + j * dw - left
                                if 0 <= row < H and 0 <= col < W:
                                    total += w[o, c, i, j] * x[n, c, row, col]
                    out[n, o, h, v] = total
    return out.astype(result_dtype(*arrays))


def conv2d_backward_naive(
    dout: Any, x: Any, w: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of `conv2d_forward_naive`, accumulated term by term.

    Every term w[o, c, i, j] * x[n, c, row, col] of out[n, o, h, v] passes dout[n, o, h, v]
    on: dx[n, c, row, col] += w[o, c, i, j] * dout[...] and dw[o, c, i, j] +=
    x[n, c, row, col] * dout[...]; the bias gets db[o] += dout[...].

    Args:
        dout: shape (N, C_out, H_out, W_out).
        x: shape (N, C_in, H, W), the forward input.
        w: shape (C_out, C_in, KH, KW).
        stride, padding, dilation: as in the forward pass.
    Returns:
        dx: shape (N, C_in, H, W); dw: shape (C_out, C_in, KH, KW); db: shape (C_out,).
    """
    dout = as_float_array(dout, "dout", 4, "(N, C_out, H_out, W_out)")
    x = as_float_array(x, "x", 4, "(N, C_in, H, W)")
    w = as_float_array(w, "w", 4, "(C_out, C_in, KH, KW)")
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    (sh, sw), (top, left), (dh, dw_), (H_out, W_out) = _conv_geometry(
        x.shape, w.shape, stride, padding, dilation
    )
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(C_out)
    for n in range(N):
        for o in range(C_out):
            for h in range(H_out):
                for v in range(W_out):
                    g = dout[n, o, h, v]
                    db[o] += g
                    for c in range(C_in):
                        for i in range(KH):
                            for j in range(KW):
                                row = h * sh + i * dh - top
                                col = v * sw + j * dw_ - left
                                if 0 <= row < H and 0 <= col < W:
                                    dx[n, c, row, col] += w[o, c, i, j] * g
                                    dw[o, c, i, j] += x[n, c, row, col] * g
    dtype = result_dtype(x, w)
    return dx.astype(dtype), dw.astype(dtype), db.astype(dtype)


def _pool_geometry(H, W, kernel_size, stride, padding):
    KH, KW = as_pair(kernel_size, "kernel_size", minimum=1)
    sh, sw = as_pair((KH, KW) if stride is None else stride, "stride", minimum=1)
    (top, bottom), (left, right) = as_padding(padding)
    H_out = (H + top + bottom - KH) // sh + 1
    W_out = (W + left + right - KW) // sw + 1
    return (KH, KW), (sh, sw), (top, left), (H_out, W_out)


def pool2d_naive(
    X: Any, size: Any, *, stride: Any = None, padding: Any = 0, mode: str = "max"
) -> np.ndarray:
    """Max or average pooling of one channel, window by window.

    Args:
        X: shape (H, W).
        size: window, an int or (KH, KW).
        stride: an int or pair; None means the window size.
        padding: per side; max pooling pads with -inf, average pooling with 0 and still
            divides by KH*KW.
        mode: "max" or "avg".
    Returns:
        Y: shape (H_out, W_out), H_out = (H + top + bottom - KH) // sh + 1.
    """
    X = as_float_array(X, "X", 2, "(H, W)")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg'; got {mode!r}")
    Y = _pool_plane(X, size, stride, padding, mode)
    return Y.astype(X.dtype)


def _pool_plane(X, kernel_size, stride, padding, mode):
    """Pool one (H, W) plane in float64."""
    H, W = X.shape
    (KH, KW), (sh, sw), (top, left), (H_out, W_out) = _pool_geometry(
        H, W, kernel_size, stride, padding
    )
    Y = np.zeros((H_out, W_out))
    for h in range(H_out):
        for v in range(W_out):
            best = -math.inf
            total = 0.0
            for i in range(KH):
                for j in range(KW):
                    row, col = h * sh + i - top, v * sw + j - left
                    if 0 <= row < H and 0 <= col < W:
                        value = float(X[row, col])
                    else:  # a padding pixel: never the max, adds 0 to the sum
                        value = -math.inf if mode == "max" else 0.0
                    best = max(best, value)
                    total += value
            Y[h, v] = best if mode == "max" else total / (KH * KW)
    return Y


def maxpool2d_forward_naive(
    x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0
) -> np.ndarray:
    """Max pooling of every (n, c) plane; see `pool2d_naive`.

    Args:
        x: shape (N, C, H, W).
        kernel_size: window, an int or (KH, KW).
        stride: an int or pair; None means the window size.
        padding: per side (an int, (ph, pw) or ((top, bottom), (left, right))), -inf pixels.
    Returns:
        out: shape (N, C, H_out, W_out), H_out = (H + top + bottom - KH) // sh + 1,
            W_out = (W + left + right - KW) // sw + 1.
    """
    x = as_float_array(x, "x", 4, "(N, C, H, W)")
    return _pool_nchw(x, kernel_size, stride, padding, "max")


def avgpool2d_forward_naive(
    x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0
) -> np.ndarray:
    """Average pooling of every (n, c) plane (count_include_pad=True); see `pool2d_naive`.

    Args:
        x: shape (N, C, H, W).
        kernel_size, stride, padding: as `maxpool2d_forward_naive`; padding pixels are 0
            and still count in the KH*KW divisor.
    Returns:
        out: shape (N, C, H_out, W_out), H_out = (H + top + bottom - KH) // sh + 1.
    """
    x = as_float_array(x, "x", 4, "(N, C, H, W)")
    return _pool_nchw(x, kernel_size, stride, padding, "avg")


def _pool_nchw(x, kernel_size, stride, padding, mode):
    N, C, H, W = x.shape
    _, _, _, (H_out, W_out) = _pool_geometry(H, W, kernel_size, stride, padding)
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            out[n, c] = _pool_plane(x[n, c], kernel_size, stride, padding, mode)
    return out.astype(x.dtype)


def maxpool2d_backward_naive(
    dout: Any, x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0
) -> np.ndarray:
    """Gradient of max pooling: each window's dout goes to its FIRST maximum.

    The window is scanned row by row, left to right; the running maximum only changes on
    a strictly larger value, so among equal maxima the first one wins (torch's choice).
    Where windows overlap, a pixel that wins several windows collects all their dout.

    Args:
        dout: shape (N, C, H_out, W_out).
        x: shape (N, C, H, W), the forward input.
        kernel_size, stride, padding: as in the forward pass.
    Returns:
        dx: shape (N, C, H, W).
    """
    dout = as_float_array(dout, "dout", 4, "(N, C, H_out, W_out)")
    x = as_float_array(x, "x", 4, "(N, C, H, W)")
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (top, left), (H_out, W_out) = _pool_geometry(
        H, W, kernel_size, stride, padding
    )
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for h in range(H_out):
                for v in range(W_out):
                    best = -math.inf
                    where = None
                    for i in range(KH):
                        for j in range(KW):
                            row, col = h * sh + i - top, v * sw + j - left
                            if 0 <= row < H and 0 <= col < W and x[n, c, row, col] > best:
                                best = x[n, c, row, col]
                                where = (row, col)
                    if where is not None:
                        dx[n, c, where[0], where[1]] += dout[n, c, h, v]
    return dx.astype(x.dtype)


def avgpool2d_backward_naive(
    dout: Any, x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0
) -> np.ndarray:
    """Gradient of average pooling: every pixel of a window gets dout / (KH*KW).

    Padding pixels take their share too (count_include_pad=True), which is simply
    dropped since they are not part of x.

    Args:
        dout: shape (N, C, H_out, W_out).
        x: shape (N, C, H, W), the forward input (only its shape is used).
        kernel_size, stride, padding: as in the forward pass.
    Returns:
        dx: shape (N, C, H, W).
    """
    dout = as_float_array(dout, "dout", 4, "(N, C, H_out, W_out)")
    x = as_float_array(x, "x", 4, "(N, C, H, W)")
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (top, left), (H_out, W_out) = _pool_geometry(
        H, W, kernel_size, stride, padding
    )
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for h in range(H_out):
                for v in range(W_out):
                    share = dout[n, c, h, v] / (KH * KW)
                    for i in range(KH):
                        for j in range(KW):
                            row, col = h * sh + i - top, v * sw + j - left
                            if 0 <= row < H and 0 <= col < W:
                                dx[n, c, row, col] += share
    return dx.astype(x.dtype)
