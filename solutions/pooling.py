"""Max and average pooling, forward and backward (lectures 000 Q5/Q6 and 002).

A pooling layer slides a KH x KW window over every channel separately and keeps one number
per window: the largest (max pooling) or the mean (average pooling). It has no weights.

    H_out = (H + 2*padding - KH) // stride + 1        (padding per side, as torch)
    W_out = (W + 2*padding - KW) // stride + 1

The semantics are torch's `F.max_pool2d` / `F.avg_pool2d` with their defaults:
`stride` defaults to the kernel size, `ceil_mode=False` (a partial window at the
bottom/right edge is dropped), max pooling pads with -inf (padding never wins),
average pooling pads with zeros and divides by KH*KW (`count_include_pad=True`), and
padding may be at most half the kernel on each axis (torch rejects more).

How it is vectorised. Max over a 2-D window = max over its rows of (max along each row),
so both layers make two separable passes:

1. along W: for each kernel column offset j, the strided view `x[..., j::stride_w]` holds
   the j-th element of every window row at once; reducing KW such views gives, for every
   input row and output column, the row's max (or sum) and which column held it;
2. along H: the same with KH strided views of that result.

Python only loops over the KH + KW kernel offsets, never over pixels or batch items, and
every step is a contiguous-ish elementwise numpy operation (no im2col copy of the windows).
The backward pass runs the two passes in reverse: each strided view of the gradient
receives `dout` (max: only at the winning offset; avg: everywhere, divided by KH*KW).
Where windows overlap (stride < kernel) the views overlap too and the contributions are
added with `+=` one offset at a time, which is exactly the sum over windows that the
chain rule asks for. Where they do not (the usual stride == kernel case, e.g. LeNet's
2x2/2) each input position belongs to at most one window and the views are written once.

Ties in max pooling. Only one position per window receives the gradient, the one torch
picks: scanning the window row by row, the FIRST maximum (torch CPU updates its running
max only on a strict `>`). The separable passes keep that rule: the first row that holds
the window max, and inside it the first column that holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._utils import as_float_array, as_padding, as_pair

__all__ = [
    "AvgPoolCache",
    "MaxPoolCache",
    "PoolGeometry",
    "avgpool2d_backward",
    "avgpool2d_forward",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "pool2d",
]


@dataclass(frozen=True)
class PoolGeometry:
    """Validated sizes of one pooling call (all Python ints).

    Attributes:
        x_shape: input shape (N, C, H, W).
        kernel: (KH, KW).
        stride: (stride along H, stride along W).
        padding: ((top, bottom), (left, right)) rows/columns added per side.
        out_hw: (H_out, W_out).
    """

    x_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    out_hw: tuple[int, int]

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        """(N, C, H_out, W_out)."""
        N, C, _, _ = self.x_shape
        return (N, C, *self.out_hw)

    @property
    def padded_hw(self) -> tuple[int, int]:
        """(H + top + bottom, W + left + right)."""
        _, _, H, W = self.x_shape
        (top, bottom), (left, right) = self.padding
        return H + top + bottom, W + left + right

    @property
    def overlapping(self) -> tuple[bool, bool]:
        """Per axis: do neighbouring windows share input positions (stride < kernel)?"""
        return self.stride[0] < self.kernel[0], self.stride[1] < self.kernel[1]


@dataclass(frozen=True)
class MaxPoolCache:
    """What `maxpool2d_backward` needs from `maxpool2d_forward`.

    Attributes:
        geometry: sizes of the forward call.
        dtype: dtype of x (and of dx).
        rows: shape (N, C, H_out, W_out): kernel row offset (0..KH-1) of each window's max.
        cols: shape (N, C, H + top + bottom, W_out): for every padded input row and output
            column, the kernel column offset (0..KW-1) of that row's max inside the window.
            The window's argmax is (rows, cols at that row).
    """

    geometry: PoolGeometry
    dtype: np.dtype
    rows: np.ndarray
    cols: np.ndarray


@dataclass(frozen=True)
class AvgPoolCache:
    """What `avgpool2d_backward` needs: only the sizes and the dtype (the layer is linear)."""

    geometry: PoolGeometry
    dtype: np.dtype


def pool2d(X: Any, size: Any, *, stride: Any = None, padding: Any = 0, mode: str = "max"):
    """Max or average pooling of one image, channel by channel (the lecture's version).

    Args:
        X: input, shape (H, W) or (C, H, W); ints are converted to float64.
        size: window size, an int or (KH, KW).
        stride: an int or (stride along H, stride along W); defaults to `size` (as torch).
        padding: per side, an int or (ph, pw); at most half the window on each axis.
            Max pooling pads with -inf, average pooling with zeros that count in the mean.
        mode: "max" or "avg".
    Returns:
        Y: shape (H_out, W_out) or (C, H_out, W_out), H_out = (H + 2*padding - KH) // stride + 1.

    Example (lecture 000 Q5/Q6):
        >>> X = [[12, 20, 30, 0], [20, 12, 2, 0], [0, 70, 5, 2], [8, 2, 90, 3]]
        >>> pool2d(X, 2, mode="max").tolist()
        [[20.0, 30.0], [70.0, 90.0]]
        >>> pool2d(X, 2, mode="avg").tolist()
        [[16.0, 8.0], [20.0, 25.0]]
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg'; got {mode!r}")
    X = as_float_array(X, "X", (2, 3), "(H, W) or (C, H, W)")
    # One image with C channels is a batch of N=1 with C channels: reuse the layer.
    x = X.reshape((1, 1, *X.shape) if X.ndim == 2 else (1, *X.shape))  # (1, C, H, W)
    forward = maxpool2d_forward if mode == "max" else avgpool2d_forward
    out, _ = forward(x, kernel_size=size, stride=stride, padding=padding)
    return out.reshape(out.shape[4 - X.ndim :])  # (H_out, W_out) or (C, H_out, W_out)


def maxpool2d_forward(x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0):
    """Batched 2-D max pooling, torch's `F.max_pool2d` (ceil_mode=False, dilation=1).

    out[n, c, i, j] = max over (p, q) in [0, KH) x [0, KW) of
                      x_pad[n, c, i*stride_h + p, j*stride_w + q],   x_pad padded with -inf.

    Args:
        x: input, shape (N, C, H, W); float32 stays float32, ints become float64.
        kernel_size: an int or (KH, KW).
        stride: an int or (stride_h, stride_w); defaults to kernel_size.
        padding: an int, (ph, pw) per side, or ((top, bottom), (left, right)); at most
            KH // 2 rows and KW // 2 columns per side (so no window is padding only).
    Returns:
        out: shape (N, C, H_out, W_out), H_out = (H + 2*padding - KH) // stride + 1,
            W_out = (W + 2*padding - KW) // stride + 1.
        cache: a `MaxPoolCache` with the argmax of each window, for `maxpool2d_backward`.
    Raises:
        ValueError: x not 4-D, kernel/stride < 1, padding > kernel // 2, or the kernel
            larger than the padded input.
    """
    x = as_float_array(x, "x", 4, "(N, C, H, W)")
    geo = _geometry(x.shape, kernel_size, stride, padding)
    x_pad = _pad(x, geo, -np.inf)  # (N, C, H + top + bottom, W + left + right)
    out, rows, cols = _max_and_argmax(x_pad, geo, nan_aware=False)
    if np.isnan(out).any():
        # torch treats NaN as larger than everything and lets a later NaN replace an
        # earlier one. Redo the (rare) NaN case with that rule so even its gradient agrees.
        out, rows, cols = _max_and_argmax(x_pad, geo, nan_aware=True)
    return out, MaxPoolCache(geometry=geo, dtype=x.dtype, rows=rows, cols=cols)


def maxpool2d_backward(dout: Any, cache: MaxPoolCache) -> np.ndarray:
    """Gradient of max pooling: each window's `dout` goes to the one input that won it.

    dx[n, c, h, w] = sum over the windows (i, j) whose argmax is (h, w) of dout[n, c, i, j].
    Overlapping windows can share a winner, which then collects several terms. With ties
    the winner is the first maximum in row-major order of the window, as in torch.

    Args:
        dout: upstream gradient, shape (N, C, H_out, W_out) (the shape of `out`).
        cache: the `MaxPoolCache` returned by `maxpool2d_forward`.
    Returns:
        dx: shape (N, C, H, W), dtype of the forward input.
    Raises:
        ValueError: cache not from maxpool2d_forward, or dout not shaped like out.

    Note: positions are selected by multiplying with a 0/1 mask (10x faster than
    `np.where`), so an inf or NaN in `dout` turns the other entries of its window into NaN
    where torch would leave them 0.
    """
    if not isinstance(cache, MaxPoolCache):
        raise ValueError(
            f"cache must be the MaxPoolCache returned by maxpool2d_forward; got {type(cache)}"
        )
    geo = cache.geometry
    dout = _check_dout(dout, geo, cache.dtype)
    N, C, _, _ = geo.x_shape
    KH, KW = geo.kernel
    (H_out, W_out), (Hp, Wp) = geo.out_hw, geo.padded_hw
    overlap_h, overlap_w = geo.overlapping

    # Pass 1 (rows): send each window's dout to the input row holding its max.
    d_rows = np.zeros((N, C, Hp, W_out), dtype=cache.dtype)
    for i in range(KH):
        target = _tap(d_rows, 2, i, geo.stride[0], H_out)  # (N, C, H_out, W_out) view
        _deposit(target, dout, cache.rows == i, accumulate=overlap_h)
    # Pass 2 (columns): inside that row, send it on to the column holding the max.
    dx_pad = np.zeros((N, C, Hp, Wp), dtype=cache.dtype)
    for j in range(KW):
        target = _tap(dx_pad, 3, j, geo.stride[1], W_out)  # (N, C, Hp, W_out) view
        _deposit(target, d_rows, cache.cols == j, accumulate=overlap_w)
    return _crop(dx_pad, geo)


def avgpool2d_forward(x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0):
    """Batched 2-D average pooling, torch's `F.avg_pool2d` with its defaults.

    out[n, c, i, j] = 1/(KH*KW) * sum over (p, q) in [0, KH) x [0, KW) of
                      x_pad[n, c, i*stride_h + p, j*stride_w + q],   x_pad padded with 0.

    Padded zeros count in the mean (`count_include_pad=True`), so the divisor is always
    KH*KW; partial windows at the bottom/right edge are dropped (`ceil_mode=False`).

    Args:
        x: input, shape (N, C, H, W); float32 stays float32, ints become float64.
        kernel_size: an int or (KH, KW).
        stride: an int or (stride_h, stride_w); defaults to kernel_size.
        padding: an int, (ph, pw) per side, or ((top, bottom), (left, right)); at most
            KH // 2 rows and KW // 2 columns per side.
    Returns:
        out: shape (N, C, H_out, W_out), H_out = (H + 2*padding - KH) // stride + 1,
            W_out = (W + 2*padding - KW) // stride + 1.
        cache: an `AvgPoolCache` for `avgpool2d_backward`.
    Raises:
        ValueError: x not 4-D, kernel/stride < 1, padding > kernel // 2, or the kernel
            larger than the padded input.
    """
    x = as_float_array(x, "x", 4, "(N, C, H, W)")
    geo = _geometry(x.shape, kernel_size, stride, padding)
    x_pad = _pad(x, geo, 0.0)  # (N, C, Hp, Wp)
    KH, KW = geo.kernel
    H_out, W_out = geo.out_hw
    # Pass 1: sum of each window row, for every padded input row.
    row_sums = _tap(x_pad, 3, 0, geo.stride[1], W_out).copy()  # (N, C, Hp, W_out)
    for j in range(1, KW):
        row_sums += _tap(x_pad, 3, j, geo.stride[1], W_out)
    # Pass 2: add KH of those rows per window.
    out = _tap(row_sums, 2, 0, geo.stride[0], H_out).copy()  # (N, C, H_out, W_out)
    for i in range(1, KH):
        out += _tap(row_sums, 2, i, geo.stride[0], H_out)
    out /= KH * KW
    return out, AvgPoolCache(geometry=geo, dtype=x.dtype)


def avgpool2d_backward(dout: Any, cache: AvgPoolCache) -> np.ndarray:
    """Gradient of average pooling: each window spreads dout / (KH*KW) over its inputs.

    dx[n, c, h, w] = 1/(KH*KW) * sum over the windows (i, j) containing (h, w) of
                     dout[n, c, i, j]   (padded positions are cut off at the end).

    Args:
        dout: upstream gradient, shape (N, C, H_out, W_out).
        cache: the `AvgPoolCache` returned by `avgpool2d_forward`.
    Returns:
        dx: shape (N, C, H, W), dtype of the forward input.
    Raises:
        ValueError: cache not from avgpool2d_forward, or dout not shaped like out.
    """
    if not isinstance(cache, AvgPoolCache):
        raise ValueError(
            f"cache must be the AvgPoolCache returned by avgpool2d_forward; got {type(cache)}"
        )
    geo = cache.geometry
    dout = _check_dout(dout, geo, cache.dtype)
    N, C, _, _ = geo.x_shape
    KH, KW = geo.kernel
    (H_out, W_out), (Hp, Wp) = geo.out_hw, geo.padded_hw
    share = dout / (KH * KW)  # (N, C, H_out, W_out): what each input of a window receives

    d_rows = np.zeros((N, C, Hp, W_out), dtype=cache.dtype)
    for i in range(KH):
        _tap(d_rows, 2, i, geo.stride[0], H_out)[...] += share
    dx_pad = np.zeros((N, C, Hp, Wp), dtype=cache.dtype)
    for j in range(KW):
        _tap(dx_pad, 3, j, geo.stride[1], W_out)[...] += d_rows
    return _crop(dx_pad, geo)


# --------------------------------------------------------------------------- helpers


def _geometry(x_shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any):
    """Validate the pooling arguments against x's shape (N, C, H, W)."""
    N, C, H, W = x_shape
    KH, KW = as_pair(kernel_size, "kernel_size", minimum=1)
    s_h, s_w = (KH, KW) if stride is None else as_pair(stride, "stride", minimum=1)
    (top, bottom), (left, right) = pad = as_padding(padding)
    if max(top, bottom) > KH // 2 or max(left, right) > KW // 2:
        # torch's rule: with more padding a window could hold padding only, whose max is
        # -inf; the limit also keeps every window's first real position well defined.
        raise ValueError(
            f"padding must be at most half the kernel per side (<= {KH // 2} rows, "
            f"<= {KW // 2} columns for kernel_size=({KH}, {KW})), as torch requires; "
            f"got padding={padding!r}"
        )
    Hp, Wp = H + top + bottom, W + left + right
    if Hp < KH or Wp < KW:
        raise ValueError(
            f"kernel_size ({KH}, {KW}) is larger than the padded input ({Hp}, {Wp}); "
            f"x has shape {tuple(x_shape)} (N, C, H, W) and padding {padding!r}"
        )
    out_hw = ((Hp - KH) // s_h + 1, (Wp - KW) // s_w + 1)
    return PoolGeometry(
        x_shape=(N, C, H, W), kernel=(KH, KW), stride=(s_h, s_w), padding=pad, out_hw=out_hw
    )


def _pad(x: np.ndarray, geo: PoolGeometry, value: float) -> np.ndarray:
    """x with `value` around H and W (x itself when there is no padding: no copy)."""
    (top, bottom), (left, right) = geo.padding
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _crop(dx_pad: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Drop the padded border of a gradient: padding is not an input, it gets no gradient."""
    (top, _), (left, _) = geo.padding
    _, _, H, W = geo.x_shape
    if dx_pad.shape[2:] == (H, W):
        return dx_pad
    return np.ascontiguousarray(dx_pad[:, :, top : top + H, left : left + W])


def _tap(a: np.ndarray, axis: int, offset: int, stride: int, count: int) -> np.ndarray:
    """View of `a` at positions offset, offset + stride, ... (`count` of them) along `axis`.

    For kernel offset `offset`, this is the element at that offset of every window along
    the axis at once: a strided view, no copy, and writing into it writes into `a`.
    """
    index = [slice(None)] * a.ndim
    index[axis] = slice(offset, offset + stride * (count - 1) + 1, stride)
    return a[tuple(index)]


def _first_real(top_or_left: int, stride: int, count: int) -> np.ndarray:
    """Per output position, the kernel offset of the first non-padding input of the window.

    torch starts each window's running max at that position, so a window whose real
    inputs are all -inf reports it (not a padded position) as its argmax.
    """
    return np.maximum(top_or_left - stride * np.arange(count), 0)  # (count,)


def _index_dtype(kernel: int) -> np.dtype:
    # Offsets are < kernel: store them in the smallest unsigned type (1 byte for any sane
    # kernel) so that caching them costs little memory and bandwidth.
    return np.min_scalar_type(max(kernel - 1, 0))


def _max_and_argmax(x_pad: np.ndarray, geo: PoolGeometry, *, nan_aware: bool):
    """Separable max over the windows of x_pad, with torch's argmax (see module docstring).

    Returns:
        out: shape (N, C, H_out, W_out).
        rows: shape (N, C, H_out, W_out), kernel row offset of each window's max.
        cols: shape (N, C, Hp, W_out), kernel column offset of each row segment's max.
    """
    KH, KW = geo.kernel
    s_h, s_w = geo.stride
    H_out, W_out = geo.out_hw
    (top, _), (left, _) = geo.padding
    padded = (top, left) != (0, 0)
    col_taps = (_tap(x_pad, 3, j, s_w, W_out) for j in range(KW))  # KW x (N, C, Hp, W_out)
    row_max, cols = _running_argmax(
        col_taps, _first_real(left, s_w, W_out) if padded else None, KW, nan_aware
    )
    row_taps = (_tap(row_max, 2, i, s_h, H_out) for i in range(KH))  # KH x (N,C,H_out,W_out)
    out, rows = _running_argmax(
        row_taps, _first_real(top, s_h, H_out)[:, None] if padded else None, KH, nan_aware
    )
    return out, rows, cols


def _running_argmax(
    taps: Iterator[np.ndarray], first_real: np.ndarray | None, kernel: int, nan_aware: bool
):
    """Running max over equally shaped views, and the index of the view that holds it.

    Mirrors torch's CPU loop: the index moves only when a later value is strictly larger
    (so ties keep the first), or, when `nan_aware`, when the later value is NaN.

    Args:
        taps: `kernel` views of the same shape S, in kernel-offset order.
        first_real: None when nothing is padded: start from taps[0], index 0. Otherwise an
            array broadcastable to S with each window's first non-padding offset: start
            from -inf at that index, as torch does.
        kernel: number of taps.
        nan_aware: apply torch's NaN rule (slower; only needed when the input has NaN).
    Returns:
        best: shape S, the max; index: shape S, its offset (smallest unsigned int dtype).
    """
    taps = iter(taps)
    if first_real is None:
        best = next(taps).copy()
        index = np.zeros(best.shape, dtype=_index_dtype(kernel))
        start = 1
    else:
        best = None
        start = 0
    for k, tap in enumerate(taps, start=start):
        if best is None:
            best = np.full(tap.shape, -np.inf, dtype=tap.dtype)
            index = np.empty(tap.shape, dtype=_index_dtype(kernel))
            index[...] = first_real
        take = tap > best
        if nan_aware:
            take |= np.isnan(tap)
        np.maximum(best, tap, out=best)  # propagates NaN, as torch's output does
        # A tap that takes over always has a larger offset than the current index (taps
        # come in offset order, and padded taps, -inf, never take over), so a running
        # maximum of `take * k` is a cheap stand-in for np.where(take, k, index).
        np.maximum(index, np.multiply(take, k, dtype=index.dtype), out=index)
    return best, index


def _deposit(target: np.ndarray, grad: np.ndarray, mask: np.ndarray, *, accumulate: bool):
    """target (+)= grad * mask; add when windows overlap (several windows share a target)."""
    if accumulate:
        target += grad * mask
    else:
        np.multiply(grad, mask, out=target)


def _check_dout(dout: Any, geo: PoolGeometry, dtype: np.dtype) -> np.ndarray:
    dout = as_float_array(dout, "dout", 4, "(N, C, H_out, W_out)")
    if dout.shape != geo.out_shape:
        raise ValueError(
            f"dout must have the shape of the forward output (N, C, H_out, W_out) = "
            f"{geo.out_shape}; got {dout.shape}"
        )
    return dout.astype(dtype, copy=False)
