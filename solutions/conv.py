"""2-D convolution: the lecture versions (one image) and the batched layer (lectures 000-004).

"Convolution" in deep learning is cross-correlation: the kernel slides over the input
without being flipped,

    Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b]                 (`corr2d`)

and the output has (H - KH + 1) x (W - KW + 1) pixels. True convolution (lecture 003)
flips the kernel on both axes first (`conv2d_true`). Padding and stride change the size
to H_out = (H + 2*padding - KH) // stride + 1 (see `solutions.padding`); with several
input channels the per-channel results are summed (`corr2d_multi_in`), and each output
channel has its own stack of kernels (`corr2d_multi_in_out`).

The batched layer `conv2d_forward` / `conv2d_backward` has torch's semantics (NCHW,
weights (C_out, C_in, KH, KW), bias (C_out,), stride / padding / dilation) and is
vectorised with im2col:

1. the zero-padded input is stored batch-last, as (C_in, Hp, Wp, N);
2. a strided view of it lists every window: (C_in, KH, KW, H_out, W_out, N), copied once
   into the column matrix `cols` of shape (C_in*KH*KW, H_out*W_out*N);
3. the whole layer is one matrix product, w (C_out, C_in*KH*KW) @ cols.

Keeping the batch axis last is a speed choice: a window position then reads N neighbouring
numbers, so the copy in step 2 and the scatter back in the backward pass work on long
contiguous runs (N*W_out numbers at stride 1) instead of rows of KW or W_out numbers.
The backward pass is two more matrix products, dw = dout @ cols.T (so `cols` is kept in
the cache) and dcols = w.T @ dout, and "col2im": every kernel offset (i, j) adds its
slice of dcols back onto the input pixels it read, a strided slice of a padded buffer.
Python loops only over the KH*KW kernel offsets there (and over a few blocks of input
channels, to keep dcols small), never over pixels or images.

This is the readable path, the one the lectures and notebooks build step by step. Two
faster paths compute the same function, and `conv2d_forward` picks one by shape
(`algorithm="auto"`, see `choose_algorithm`); its cache tells `conv2d_backward` which:

- "im2col": the algorithm above on the whole batch at once. Small batches.
- "im2col-blocked" (`solutions.im2col_blocked`): the same, a cache-sized block of images
  at a time. Batches whose column matrix is bigger than a block, at stride or dilation
  > 1 (any stride, padding and dilation).
- "im2col-w" (`solutions.im2col_w`): a block of images at a time too, but the columns are
  copied along W only (KW copies of the input instead of KH*KW); the kernel rows are read
  through overlapping views of those copies, one product per output row. The same
  batches at stride 1 and dilation 1 (LeNet at batch 64-256), any padding.
- "winograd" (`solutions.winograd`): minimal filtering F(2x2, 3x3) for 3x3 kernels at
  stride 1 without dilation, when the layer has enough channels for its 2.25x fewer
  multiplications to pay for the tile transforms.

`conv2d_backward(..., need_dx=False)` skips the gradient w.r.t. the input (a network's
first layer: the images need none). Speed against torch: `python -m solutions.bench` and
docs/performance.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ._utils import as_float_array, as_padding, as_pair, result_dtype
from .im2col_blocked import (
    BlockedCache,
    Geometry,
    blocked_backward,
    blocked_forward,
    images_per_block,
)
from .im2col_w import RowsCache, rows_backward, rows_forward
from .padding import pad2d, same_padding
from .winograd import WinogradCache, winograd_backward, winograd_forward

__all__ = [
    "ALGORITHMS",
    "ConvCache",
    "choose_algorithm",
    "conv1x1",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_true",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_padded",
]


# ---------------------------------------------------------------------------------------
# Lecture level: one image, one or a few channels.
# ---------------------------------------------------------------------------------------


def corr2d(X: Any, K: Any) -> np.ndarray:
    """Valid 2-D cross-correlation of one channel (no padding, stride 1, no kernel flip).

    Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b]; lectures 000/002's example
    `corr2d(arange(9).reshape(3, 3), arange(4).reshape(2, 2))` is [[19, 25], [37, 43]].

    Args:
        X: input, shape (H, W).
        K: kernel, shape (KH, KW), KH <= H and KW <= W.
    Returns:
        Y: shape (H_out, W_out) = (H - KH + 1, W - KW + 1).
    """
    X = as_float_array(X, "X", 2, "(H, W)")
    K = as_float_array(K, "K", 2, "(KH, KW)")
    return corr2d_padded(X, K)


def conv2d_true(X: Any, K: Any, mode: str = "valid") -> np.ndarray:
    """True 2-D convolution (lecture 003): cross-correlation with the kernel flipped.

    Y[i, j] = sum_{a, b} X[a, b] * K[i - a, j - b], i.e. `corr2d` with K[::-1, ::-1] on
    a suitably padded X. The three sizes (scipy.signal.convolve2d's modes):

    - "valid": only where the kernel lies inside X: (H - KH + 1, W - KW + 1);
    - "full": wherever kernel and X overlap, zeros outside (padding KH-1 / KW-1 on every
      side): (H + KH - 1, W + KW - 1);
    - "same": the size of X, padding `same_padding(KH)` (top, bottom) and
      `same_padding(KW)` (left, right); this is the centre of "full", as in scipy.

    Args:
        X: input, shape (H, W).
        K: kernel, shape (KH, KW); for "valid", KH <= H and KW <= W.
        mode: "valid", "full" or "same".
    Returns:
        Y: shape as listed above for `mode`.
    """
    X = as_float_array(X, "X", 2, "(H, W)")
    K = as_float_array(K, "K", 2, "(KH, KW)")
    KH, KW = K.shape
    if min(KH, KW) < 1:
        raise ValueError(f"K must be (KH, KW) with KH, KW >= 1; got shape {K.shape}")
    if mode == "valid":
        padding: Any = 0
    elif mode == "full":
        padding = ((KH - 1, KH - 1), (KW - 1, KW - 1))
    elif mode == "same":
        padding = (same_padding(KH), same_padding(KW))
    else:
        raise ValueError(f"mode must be 'valid', 'full' or 'same'; got {mode!r}")
    return corr2d_padded(X, K[::-1, ::-1], padding=padding)


def corr2d_padded(X: Any, K: Any, *, padding: Any = 0, stride: Any = 1) -> np.ndarray:
    """Cross-correlation of one channel with zero padding and stride.

    Args:
        X: input, shape (H, W).
        K: kernel, shape (KH, KW).
        padding: an int (every side), (ph, pw) per side, or ((top, bottom), (left, right)).
        stride: an int or (sh, sw).
    Returns:
        Y: shape (H_out, W_out), H_out = (H + top + bottom - KH) // sh + 1,
            W_out = (W + left + right - KW) // sw + 1.
    """
    X = as_float_array(X, "X", 2, "(H, W)")
    K = as_float_array(K, "K", 2, "(KH, KW)")
    windows = _windows(X, K.shape, padding, stride, "X", "K")  # (H_out, W_out, KH, KW)
    dtype = result_dtype(X, K)
    return np.tensordot(windows, K, axes=([2, 3], [0, 1])).astype(dtype, copy=False)


def corr2d_multi_in(X: Any, K: Any) -> np.ndarray:
    """Cross-correlation of a multi-channel input with one multi-channel kernel.

    Each input channel is correlated with its own kernel slice and the results are
    summed: Y = sum_c corr2d(X[c], K[c]) (lecture 000's two-channel example gives 56 at
    the top left).

    Args:
        X: input, shape (C_in, H, W).
        K: kernel, shape (C_in, KH, KW).
    Returns:
        Y: shape (H_out, W_out) = (H - KH + 1, W - KW + 1).
    """
    X = as_float_array(X, "X", 3, "(C_in, H, W)")
    K = as_float_array(K, "K", 3, "(C_in, KH, KW)")
    if K.shape[0] != X.shape[0]:
        raise ValueError(
            f"X has C_in={X.shape[0]} channels but K has {K.shape[0]}; K must be (C_in, KH, KW)"
        )
    windows = _windows(X, K.shape[1:], 0, 1, "X", "K")  # (C_in, H_out, W_out, KH, KW)
    Y = np.tensordot(windows, K, axes=([0, 3, 4], [0, 1, 2]))  # (H_out, W_out)
    return Y.astype(result_dtype(X, K), copy=False)


def corr2d_multi_in_out(X: Any, K: Any) -> np.ndarray:
    """Cross-correlation with C_in input and C_out output channels.

    Output channel o is `corr2d_multi_in(X, K[o])`.

    Args:
        X: input, shape (C_in, H, W).
        K: kernels, shape (C_out, C_in, KH, KW).
    Returns:
        Y: shape (C_out, H_out, W_out), H_out = H - KH + 1, W_out = W - KW + 1.
    """
    X = as_float_array(X, "X", 3, "(C_in, H, W)")
    K = as_float_array(K, "K", 4, "(C_out, C_in, KH, KW)")
    if K.shape[1] != X.shape[0]:
        raise ValueError(
            f"X has C_in={X.shape[0]} channels but K expects {K.shape[1]}; "
            "K must be (C_out, C_in, KH, KW)"
        )
    windows = _windows(X, K.shape[2:], 0, 1, "X", "K")  # (C_in, H_out, W_out, KH, KW)
    Y = np.tensordot(K, windows, axes=([1, 2, 3], [0, 3, 4]))  # (C_out, H_out, W_out)
    return Y.astype(result_dtype(X, K), copy=False)


def conv1x1(X: Any, K: Any) -> np.ndarray:
    """1x1 convolution: a per-pixel linear map of the channels, as ONE matrix product.

    Y[o, h, w] = sum_c K[o, c] * X[c, h, w], i.e. Y = K2 @ X.reshape(C_in, H*W).

    Args:
        X: input, shape (C_in, H, W).
        K: kernels, shape (C_out, C_in, 1, 1) or (C_out, C_in).
    Returns:
        Y: shape (C_out, H, W).
    """
    X = as_float_array(X, "X", 3, "(C_in, H, W)")
    K = as_float_array(K, "K", (2, 4), "(C_out, C_in, 1, 1) or (C_out, C_in)")
    if K.ndim == 4:
        if K.shape[2:] != (1, 1):
            raise ValueError(
                f"conv1x1 needs a 1x1 kernel; K must be (C_out, C_in, 1, 1), got {K.shape}"
            )
        K = K.reshape(K.shape[:2])
    C_in, H, W = X.shape
    if K.shape[1] != C_in:
        raise ValueError(
            f"X has C_in={C_in} channels but K expects {K.shape[1]}; "
            "K must be (C_out, C_in, 1, 1) or (C_out, C_in)"
        )
    dtype = result_dtype(X, K)
    Y = K.astype(dtype, copy=False) @ X.astype(dtype, copy=False).reshape(C_in, H * W)
    return Y.reshape(K.shape[0], H, W)  # (C_out, H, W)


def _windows(
    X: np.ndarray, kernel_hw: tuple[int, ...], padding: Any, stride: Any, x_name: str, k_name: str
) -> np.ndarray:
    """Read-only view (..., H_out, W_out, KH, KW) of every window of the padded X."""
    KH, KW = kernel_hw
    if min(KH, KW) < 1:
        raise ValueError(f"{k_name} must have KH, KW >= 1; got a {KH}x{KW} kernel")
    sh, sw = as_pair(stride, "stride", minimum=1)
    (top, bottom), (left, right) = as_padding(padding)
    H, W = X.shape[-2:]
    if H + top + bottom < KH or W + left + right < KW:
        raise ValueError(
            f"the {KH}x{KW} kernel {k_name} is larger than the input {x_name} "
            f"({H}x{W}, padded to {H + top + bottom}x{W + left + right}); "
            "need KH <= H + top + bottom and KW <= W + left + right"
        )
    if top or bottom or left or right:
        X = pad2d(X, ((top, bottom), (left, right)))
    windows = sliding_window_view(X, (KH, KW), axis=(-2, -1))  # (..., Hp-KH+1, Wp-KW+1, KH, KW)
    return windows[..., ::sh, ::sw, :, :]


# ---------------------------------------------------------------------------------------
# The batched layer (NCHW, torch semantics), forward and backward.
# ---------------------------------------------------------------------------------------


# Upper bound on one block of dcols in conv2d_backward. The whole matrix can take hundreds
# of MB; blocks of about this size keep the matrix products efficient (about 100 rows or
# more on real layers; much thinner products run at a fraction of the speed) while the
# memory of one block is reused by the next.
_DCOLS_BLOCK_BYTES = 32 << 20


ALGORITHMS = ("auto", "im2col", "im2col-blocked", "im2col-w", "winograd")

# Winograd's output tile: F(2x2, 3x3). Measured against torch in float64 on 64-channel
# layers (float32): max error / max |value| <= 1.0e-6 for F(2x2, 3x3), like im2col's
# 6.9e-7, and 1.1e-5 for F(4x4, 3x3), whose transforms also cost more numpy passes than
# its smaller products save (see solutions.winograd and docs/performance.md).
_WINOGRAD_TILE = 2
# ((KH, KW), stride, dilation) of the layers Winograd covers.
WINOGRAD_LAYER = ((3, 3), (1, 1), (1, 1))
# Winograd only where its products dominate its transforms: both channel counts at
# least this (measured crossover, docs/performance.md).
_WINOGRAD_MIN_CHANNELS = 16


def choose_algorithm(
    x_shape: tuple[int, int, int, int],
    w_shape: tuple[int, int, int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
    itemsize: int,
) -> str:
    """The path `conv2d_forward(..., algorithm="auto")` takes for a layer.

    Args:
        x_shape: (N, C_in, H, W); w_shape: (C_out, C_in, KH, KW).
        stride, dilation: (along H, along W), as normalised by conv2d_forward.
        out_hw: (H_out, W_out).
        itemsize: bytes per number of the computation dtype (4 or 8).
    Returns:
        "winograd", "im2col-w", "im2col-blocked" or "im2col", by these rules:

    - "winograd" for 3x3 kernels, stride 1, no dilation, >= `_WINOGRAD_MIN_CHANNELS`
      input and output channels;
    - else, when the batch's column matrix spans more than one cache-sized block,
      "im2col-w" at stride 1 and dilation 1 (measured faster than "im2col-blocked" on
      every such layer tried: LeNet's conv1 and conv2, 3x3 layers of 4-64 channels), and
      "im2col-blocked" otherwise;
    - else "im2col" (small problems: the readable path).
    """
    N, C_in = x_shape[:2]
    C_out, _, KH, KW = w_shape
    if ((KH, KW), stride, dilation) == WINOGRAD_LAYER and min(C_in, C_out) >= (
        _WINOGRAD_MIN_CHANNELS
    ):
        return "winograd"
    per_block = images_per_block(C_in, KH, KW, *out_hw, itemsize)
    if per_block < N:
        return "im2col-w" if (stride, dilation) == ((1, 1), (1, 1)) else "im2col-blocked"
    return "im2col"


@dataclass(frozen=True)
class ConvCache:
    """What `conv2d_backward` needs from `conv2d_forward`.

    Attributes:
        x_shape: (N, C_in, H, W) of the input.
        w: the filters (C_out, C_in, KH, KW), in the computation dtype.
        has_bias: whether a bias was given (db is None otherwise).
        cols: for "im2col", the column matrix (C_in*KH*KW, H_out*W_out*N), kept for
            dw = dout @ cols.T; None on the other paths.
        padding: ((top, bottom), (left, right)).
        stride: (sh, sw).
        dilation: (dil_h, dil_w).
        out_shape: (N, C_out, H_out, W_out).
        algorithm: the path the forward took, one of `ALGORITHMS` but "auto".
        state: that path's own cache (`BlockedCache`, `WinogradCache`), or None.
    """

    x_shape: tuple[int, int, int, int]
    w: np.ndarray
    has_bias: bool
    cols: np.ndarray | None
    padding: tuple[tuple[int, int], tuple[int, int]]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    out_shape: tuple[int, int, int, int]
    algorithm: str = "im2col"
    state: BlockedCache | RowsCache | WinogradCache | None = None


def conv2d_forward(
    x: Any,
    w: Any,
    b: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    algorithm: str = "auto",
) -> tuple[np.ndarray, ConvCache]:
    """Batched 2-D cross-correlation (torch's `F.conv2d`), vectorised with im2col.

    out[n, o, h, v] = b[o] + sum_{c, i, j} w[o, c, i, j]
                      * x_padded[n, c, h*sh + i*dil_h, v*sw + j*dil_w]

    Args:
        x: input, shape (N, C_in, H, W). float32 stays float32; ints become float64.
        w: filters, shape (C_out, C_in, KH, KW).
        b: bias, shape (C_out,), or None for no bias.
        stride: an int or (sh, sw), >= 1.
        padding: zeros per side: an int, (ph, pw), or ((top, bottom), (left, right)).
        dilation: an int or (dil_h, dil_w), >= 1: spacing between kernel taps.
        algorithm: "auto" (by shape, `choose_algorithm`), or one of "im2col",
            "im2col-blocked", "im2col-w" (stride 1, dilation 1 only), "winograd" (3x3,
            stride 1, dilation 1 only) to force a path.
            All give the same result up to float rounding.
    Returns:
        out: shape (N, C_out, H_out, W_out), with
            H_out = (H + top + bottom - dil_h*(KH - 1) - 1) // sh + 1
            W_out = (W + left + right - dil_w*(KW - 1) - 1) // sw + 1
            (= (H + 2*padding - KH) // stride + 1 without dilation).
        cache: a `ConvCache` for `conv2d_backward`.
    Raises:
        ValueError: wrong ndim, channel mismatch, bad bias shape, stride or dilation < 1,
            negative padding, a (dilated) kernel larger than the padded input, or an
            unknown algorithm / "winograd" or "im2col-w" for a layer it does not cover.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}; got {algorithm!r}")
    x = as_float_array(x, "x", 4, "(N, C_in, H, W)")
    w = as_float_array(w, "w", 4, "(C_out, C_in, KH, KW)")
    N, C_in, H, W = x.shape
    C_out, C_w, KH, KW = w.shape
    if min(C_in, H, W) < 1:
        raise ValueError(f"x must be (N, C_in, H, W) with C_in, H, W >= 1; got shape {x.shape}")
    if min(C_out, KH, KW) < 1:
        raise ValueError(
            f"w must be (C_out, C_in, KH, KW) with C_out, KH, KW >= 1; got shape {w.shape}"
        )
    if C_w != C_in:
        raise ValueError(
            f"x has C_in={C_in} channels but w expects {C_w}; w must be (C_out, C_in, KH, KW)"
        )
    arrays = [x, w]
    if b is not None:
        b = as_float_array(b, "b", 1, "(C_out,)")
        if b.shape != (C_out,):
            raise ValueError(f"b must be (C_out,) = ({C_out},) to match w; got shape {b.shape}")
        arrays.append(b)
    sh, sw = as_pair(stride, "stride", minimum=1)
    dil_h, dil_w = as_pair(dilation, "dilation", minimum=1)
    (top, bottom), (left, right) = as_padding(padding)
    Hp, Wp = H + top + bottom, W + left + right
    span_h, span_w = dil_h * (KH - 1) + 1, dil_w * (KW - 1) + 1  # pixels one window covers
    if span_h > Hp or span_w > Wp:
        raise ValueError(
            f"the {KH}x{KW} kernel (spanning {span_h}x{span_w} with dilation {(dil_h, dil_w)}) is "
            f"larger than the input: x is {H}x{W}, {Hp}x{Wp} after padding; need "
            "H + top + bottom >= dil_h*(KH-1) + 1 and W + left + right >= dil_w*(KW-1) + 1"
        )
    H_out = (Hp - span_h) // sh + 1
    W_out = (Wp - span_w) // sw + 1

    dtype = result_dtype(*arrays)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    per_side = ((top, bottom), (left, right))
    geo = Geometry(per_side, (sh, sw), (dil_h, dil_w), (H_out, W_out))
    if algorithm == "auto":
        algorithm = choose_algorithm(
            x.shape, w.shape, (sh, sw), (dil_h, dil_w), (H_out, W_out), dtype.itemsize
        )
    elif algorithm == "winograd" and ((KH, KW), (sh, sw), (dil_h, dil_w)) != WINOGRAD_LAYER:
        raise ValueError(
            "algorithm='winograd' needs a 3x3 kernel, stride 1 and dilation 1; got a "
            f"{KH}x{KW} kernel, stride {(sh, sw)}, dilation {(dil_h, dil_w)}"
        )
    elif algorithm == "im2col-w" and ((sh, sw), (dil_h, dil_w)) != ((1, 1), (1, 1)):
        raise ValueError(
            "algorithm='im2col-w' needs stride 1 and dilation 1; got stride "
            f"{(sh, sw)}, dilation {(dil_h, dil_w)}"
        )
    cols, state = None, None
    if algorithm == "winograd":
        out, state = winograd_forward(x, w, b, per_side, m=_WINOGRAD_TILE)
    elif algorithm == "im2col-blocked":
        out, state = blocked_forward(x, w, b, geo)
    elif algorithm == "im2col-w":
        out, state = rows_forward(x, w, b, per_side)
    else:
        out, cols = _im2col_forward(x, w, b, geo)
    cache = ConvCache(
        x_shape=(N, C_in, H, W),
        w=w,
        has_bias=b is not None,
        cols=cols,
        padding=per_side,
        stride=(sh, sw),
        dilation=(dil_h, dil_w),
        out_shape=(N, C_out, H_out, W_out),
        algorithm=algorithm,
        state=state,
    )
    return out, cache


def _im2col_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, geo: Geometry
) -> tuple[np.ndarray, np.ndarray]:
    """The readable path: out and the column matrix cols (C_in*KH*KW, H_out*W_out*N)."""
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    (top, bottom), (left, right) = geo.padding
    (sh, sw), (dil_h, dil_w) = geo.stride, geo.dilation
    H_out, W_out = geo.out_hw
    dtype = x.dtype

    # Padded input, batch last. np.zeros is lazily zeroed memory; only the border stays 0.
    xt = np.zeros((C_in, H + top + bottom, W + left + right, N), dtype=dtype)  # (C_in, Hp, Wp, N)
    xt[:, top : top + H, left : left + W, :] = x.transpose(1, 2, 3, 0)
    s_c, s_h, s_w, s_n = xt.strides
    windows = as_strided(
        xt,
        shape=(C_in, KH, KW, H_out, W_out, N),
        strides=(s_c, s_h * dil_h, s_w * dil_w, s_h * sh, s_w * sw, s_n),
        writeable=False,
    )
    K = C_in * KH * KW
    cols = windows.reshape(K, H_out * W_out * N)  # the one copy: (C_in*KH*KW, H_out*W_out*N)

    out_mat = w.reshape(C_out, K) @ cols  # (C_out, H_out*W_out*N)
    out_t = out_mat.reshape(C_out, H_out, W_out, N).transpose(3, 0, 1, 2)  # view, NCHW order
    out = np.empty((N, C_out, H_out, W_out), dtype=dtype)
    if b is None:
        out[...] = out_t
    else:  # the bias rides along with the copy back to NCHW
        np.add(out_t, b[:, None, None], out=out)
    return out, cols


def conv2d_backward(
    dout: Any, cache: ConvCache, *, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of `conv2d_forward` (torch's autograd for `F.conv2d`).

    db[o] = sum_{n, h, v} dout[n, o, h, v]
    dw = dout_mat @ cols.T, with dout_mat = dout as (C_out, H_out*W_out*N)
    dx = col2im(w_mat.T @ dout_mat): each kernel offset (i, j) adds its share back to the
         input pixels x_padded[:, :, i*dil_h + sh*h, j*dil_w + sw*v] it was multiplied with;
         the padding is then cut off. Pixels that no window read (the last rows/columns
         when (H + 2p - dil_h*(KH-1) - 1) % sh != 0) get a zero gradient.

    The path is the one the forward took (`cache.algorithm`); the formulas above are
    the "im2col" path's, the others compute the same gradients.

    Args:
        dout: upstream gradient, shape (N, C_out, H_out, W_out) (the shape of `out`).
        cache: the `ConvCache` returned by `conv2d_forward`.
        need_dx: False skips dx (returned as None): the input of a network's first layer
            needs no gradient, and dx is about a third of the backward's work.
    Returns:
        dx: shape (N, C_in, H, W), or None when need_dx is False.
        dw: shape (C_out, C_in, KH, KW).
        db: shape (C_out,), or None when the forward had no bias.
        All in the dtype of the forward pass.
    """
    if not isinstance(cache, ConvCache):
        raise ValueError(
            f"cache must be the ConvCache returned by conv2d_forward; got {type(cache).__name__}"
        )
    dout = as_float_array(dout, "dout", 4, "(N, C_out, H_out, W_out)")
    if dout.shape != cache.out_shape:
        raise ValueError(
            f"dout must have the shape of conv2d_forward's output (N, C_out, H_out, W_out) = "
            f"{cache.out_shape}; got {dout.shape}"
        )
    dout = dout.astype(cache.w.dtype, copy=False)
    db = dout.sum(axis=(0, 2, 3)) if cache.has_bias else None  # (C_out,)
    if cache.algorithm == "winograd":
        assert isinstance(cache.state, WinogradCache)
        dx, dw = winograd_backward(dout, cache.state, need_dx=need_dx)
    elif cache.algorithm == "im2col-w":
        assert isinstance(cache.state, RowsCache)
        dx, dw = rows_backward(dout, cache.w, cache.state, cache.padding, need_dx=need_dx)
    elif cache.algorithm == "im2col-blocked":
        assert isinstance(cache.state, BlockedCache)
        geo = Geometry(cache.padding, cache.stride, cache.dilation, cache.out_shape[2:])
        dx, dw = blocked_backward(dout, cache.w, cache.state, geo, need_dx=need_dx)
    else:
        dx, dw = _im2col_backward(dout, cache, need_dx=need_dx)
    return dx, dw, db


def _im2col_backward(
    dout: np.ndarray, cache: ConvCache, *, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray]:
    """The readable path's dx (None unless `need_dx`) and dw."""
    N, C_in, H, W = cache.x_shape
    _, C_out, H_out, W_out = cache.out_shape
    w = cache.w
    dtype = w.dtype
    _, _, KH, KW = w.shape
    (top, _), (left, _) = cache.padding
    sh, sw = cache.stride
    dil_h, dil_w = cache.dilation
    K = C_in * KH * KW

    M = H_out * W_out * N
    dout_mat = dout.transpose(1, 2, 3, 0).reshape(C_out, M)  # batch last
    # (cols @ dout_mat.T).T: the same product as dout_mat @ cols.T, which OpenBLAS runs
    # 1.7x slower on LeNet's shapes (few rows C_out, many columns C_in*KH*KW).
    dw = np.ascontiguousarray((cache.cols @ dout_mat.T).T).reshape(w.shape)  # (C_out, C_in, KH, KW)
    if not need_dx:
        return None, dw

    # dx: dcols = w_mat.T @ dout_mat, then col2im. Done a block of input channels at a time
    # so that the full (C_in*KH*KW, H_out*W_out*N) matrix never exists (151 MB for a
    # 64-channel 32x32 layer at batch 64); small layers are a single block.
    Hp, Wp = H + sum(cache.padding[0]), W + sum(cache.padding[1])
    dxt = np.zeros((C_in, Hp, Wp, N), dtype=dtype)  # padded dx, batch last
    w_t = w.reshape(C_out, K).T  # (C_in*KH*KW, C_out)
    reach_h = sh * (H_out - 1) + 1  # rows of the padded input one kernel offset touches
    reach_w = sw * (W_out - 1) + 1
    per_channel = KH * KW * M * dout_mat.itemsize  # bytes of dcols per channel
    block = max(1, min(C_in, _DCOLS_BLOCK_BYTES // max(per_channel, 1)))
    for c0 in range(0, C_in, block):  # a handful of channel blocks, never pixels
        c1 = min(C_in, c0 + block)
        dcols = w_t[c0 * KH * KW : c1 * KH * KW] @ dout_mat  # (block*KH*KW, H_out*W_out*N)
        dcols = dcols.reshape(c1 - c0, KH, KW, H_out, W_out, N)
        for i in range(KH):  # col2im: windows overlap, so contributions add up
            for j in range(KW):
                r, c = i * dil_h, j * dil_w
                dxt[c0:c1, r : r + reach_h : sh, c : c + reach_w : sw, :] += dcols[:, i, j]
    dx = np.ascontiguousarray(dxt[:, top : top + H, left : left + W, :].transpose(3, 0, 1, 2))
    return dx, dw
