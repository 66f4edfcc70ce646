"""im2col a block of images at a time: the fast path for big batches of strided layers.

The algorithm is `solutions.conv`'s im2col (batch last, one matrix product per pass,
col2im over the KH*KW kernel offsets), run on blocks of `nb` images whose column
matrix fits in the cache (about `_BLOCK_BYTES`). On LeNet's layers at batch 256 the
whole-batch column matrix is 15-20 MB, written once and read twice from main memory; a
block's columns (about 1 MB) stay in the cache and the buffers are reused from block to
block, while the products per block are still big enough (C_out x C_in*KH*KW times
C_in*KH*KW x nb*H_out*W_out) to run near BLAS speed. Measured on LeNet's conv1 and
conv2 at batch 256, one thread: 1.5-2x faster than the whole batch at once. The backward
pass recomputes each block's columns from x rather than keeping them (measured: no
slower, and no 15 MB kept between the passes). At stride 1 and dilation 1,
`solutions.im2col_w` is faster still (it copies KW times less), and `choose_algorithm`
picks it there; this path serves the strided and dilated layers.

Two threads: the products are small, so OpenBLAS's second thread gains little here, and
the copies and col2im are single-threaded numpy (docs/performance.md, "Two threads").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["BlockedCache", "blocked_backward", "blocked_forward", "images_per_block"]

# Bytes of one block's column matrix (C_in*KH*KW, nb*H_out*W_out); about half the L2 and
# well inside the L3 of the benchmark machine. Measured on LeNet's conv1 and conv2 at
# batch 256: blocks of 8-32 images, all within 10 % of each other, 1.5-2x faster than
# the whole batch at once.
_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class BlockedCache:
    """What `blocked_backward` needs: the input itself (not a copy: the columns are
    recomputed from it block by block; do not modify x in place in between)."""

    x: np.ndarray


@dataclass(frozen=True)
class Geometry:
    """Sizes of one convolution, as `solutions.conv.conv2d_forward` checked them."""

    padding: tuple[tuple[int, int], tuple[int, int]]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]


def images_per_block(C_in: int, KH: int, KW: int, H_out: int, W_out: int, itemsize: int) -> int:
    """How many images' columns fit in `_BLOCK_BYTES` (at least 1)."""
    return max(1, _BLOCK_BYTES // (C_in * KH * KW * H_out * W_out * itemsize))


class _Columns:
    """A reusable padded batch-last buffer (C_in, Hp, Wp, nb) and the window view on it."""

    def __init__(self, x_shape, kernel_hw, geo: Geometry, nb: int, dtype) -> None:
        _, C_in, H, W = x_shape
        (top, bottom), (left, right) = geo.padding
        self.H, self.W, self.top, self.left = H, W, top, left
        self.KH, self.KW = kernel_hw
        self.H_out, self.W_out = geo.out_hw
        self.geo = geo
        self.xt = np.zeros((C_in, H + top + bottom, W + left + right, nb), dtype=dtype)
        self.cols = np.empty((C_in * self.KH * self.KW, self.H_out * self.W_out * nb), dtype=dtype)

    def of(self, x: np.ndarray) -> np.ndarray:
        """Columns (C_in*KH*KW, H_out*W_out*k) of a block x (k, C_in, H, W)."""
        k = x.shape[0]
        xt = self.xt[..., :k]
        xt[:, self.top : self.top + self.H, self.left : self.left + self.W, :] = x.transpose(
            1, 2, 3, 0
        )
        s_c, s_h, s_w, s_n = xt.strides
        (sh, sw), (dh, dw) = self.geo.stride, self.geo.dilation
        windows = as_strided(
            xt,
            shape=(xt.shape[0], self.KH, self.KW, self.H_out, self.W_out, k),
            strides=(s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n),
            writeable=False,
        )
        cols = self.cols[:, : self.H_out * self.W_out * k]
        cols.reshape(windows.shape)[...] = windows  # the im2col copy, into the cache
        return cols


def blocked_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, geo: Geometry
) -> tuple[np.ndarray, BlockedCache]:
    """`conv2d_forward`'s im2col, a block of images at a time.

    Args:
        x: input, shape (N, C_in, H, W); w: filters (C_out, C_in, KH, KW); b: (C_out,)
            or None; all in one float dtype, checked by the caller.
        geo: padding, stride, dilation and (H_out, W_out).
    Returns:
        out: shape (N, C_out, H_out, W_out).
        cache: a `BlockedCache`.
    """
    N, C_in = x.shape[:2]
    C_out, _, KH, KW = w.shape
    H_out, W_out = geo.out_hw
    nb = max(1, min(N, images_per_block(C_in, KH, KW, H_out, W_out, x.itemsize)))
    columns = _Columns(x.shape, (KH, KW), geo, nb, x.dtype)
    w_mat = w.reshape(C_out, -1)  # (C_out, C_in*KH*KW)
    out_mat = np.empty((C_out, H_out * W_out * nb), dtype=x.dtype)
    out = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        cols = columns.of(x[n0:n1])
        block = out_mat[:, : cols.shape[1]]
        np.matmul(w_mat, cols, out=block)  # (C_out, H_out*W_out*k)
        block_nchw = block.reshape(C_out, H_out, W_out, n1 - n0).transpose(3, 0, 1, 2)
        if b is None:
            out[n0:n1] = block_nchw
        else:
            np.add(block_nchw, b[:, None, None], out=out[n0:n1])
    return out, BlockedCache(x=x)


def blocked_backward(
    dout: np.ndarray, w: np.ndarray, cache: BlockedCache, geo: Geometry, *, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray]:
    """dx (None unless `need_dx`) and dw of `blocked_forward`, a block at a time.

    Args:
        dout: upstream gradient (N, C_out, H_out, W_out), in the forward's dtype.
        w: the filters (C_out, C_in, KH, KW).
        cache: the forward's `BlockedCache`.
        geo: as for `blocked_forward`.
    Returns:
        dx: (N, C_in, H, W) or None; dw: (C_out, C_in, KH, KW).
    """
    x = cache.x
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out, W_out = geo.out_hw
    (top, _), (left, _) = geo.padding
    (sh, sw), (dil_h, dil_w) = geo.stride, geo.dilation
    nb = max(1, min(N, images_per_block(C_in, KH, KW, H_out, W_out, x.itemsize)))
    columns = _Columns(x.shape, (KH, KW), geo, nb, x.dtype)
    w_t = w.reshape(C_out, -1).T  # (C_in*KH*KW, C_out)
    dw_t = np.zeros((C_in * KH * KW, C_out), dtype=x.dtype)  # dw transposed, see below
    dx = np.empty(x.shape, dtype=x.dtype) if need_dx else None
    dout_t = np.empty((C_out, H_out, W_out, nb), dtype=x.dtype)  # batch last
    dxt = np.empty_like(columns.xt)  # padded dx block, batch last
    Hp = dxt.shape[1]
    reach_h, reach_w = sh * (H_out - 1) + 1, sw * (W_out - 1) + 1
    # col2im in two steps, see below: per-kernel-row products, then shifts along W.
    shifted_buf = np.empty(KW * C_in * Hp * W_out * nb, dtype=x.dtype)
    if sh == 1:
        w_rows = w.transpose(2, 3, 1, 0).reshape(KH, KW * C_in, C_out)  # (i; (j, c); o)
        per_row_buf = np.empty(KH * KW * C_in * Hp * W_out * nb, dtype=x.dtype)
        zeros_for = 0  # the block size per_row's zero margins are laid out for
    else:
        dcols = np.empty_like(columns.cols)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        k = n1 - n0
        block = dout_t[..., :k]
        block[...] = dout[n0:n1].transpose(1, 2, 3, 0)
        dout_mat = block.reshape(C_out, -1)  # (C_out, H_out*W_out*k)
        cols = columns.of(x[n0:n1])
        # cols @ dout_mat.T rather than dout_mat @ cols.T: the same product, but OpenBLAS
        # runs it 1.7x faster with the long side (C_in*KH*KW) as the rows (LeNet's conv2).
        dw_t += cols @ dout_mat.T
        if dx is None:
            continue
        # col2im. numpy adds contiguous arrays about 3x faster per number than windows
        # of a bigger array, so first the shifts along H, where a kernel row's share is a
        # contiguous run of (Hp, W_out, k) planes, then the KW shifts along W into the
        # padded block. shifted[j, c, y, v, n] = sum_i dcols[c, i, j, y - i*dil_h, v, n].
        plane = Hp * W_out * k
        shifted = shifted_buf[: KW * C_in * plane].reshape(KW * C_in, plane)
        if sh == 1:
            # Each kernel row's product is written straight into its rows of a zeroed
            # (Hp, W_out, k) plane (the product's leading dimension does the shift), so
            # the sum over rows is KH - 1 additions of whole arrays.
            per_row = per_row_buf[: KH * KW * C_in * plane].reshape(KH, KW * C_in, plane)
            if zeros_for != k:  # first block, or a shorter last one: lay out the margins
                per_row[...] = 0
                zeros_for = k
            span = H_out * W_out * k
            for i in range(KH):
                start = i * dil_h * W_out * k
                np.matmul(w_rows[i], dout_mat, out=per_row[i, :, start : start + span])
            np.sum(per_row, axis=0, out=shifted)
        else:
            d = dcols[:, : dout_mat.shape[1]]
            np.matmul(w_t, dout_mat, out=d)  # (C_in*KH*KW, H_out*W_out*k)
            d = d.reshape(C_in, KH, KW, H_out, W_out, k)
            by_row = shifted.reshape(KW, C_in, Hp, W_out, k)
            by_row[...] = 0
            for i in range(KH):
                r = i * dil_h
                by_row[:, :, r : r + reach_h : sh] += d[:, i].transpose(1, 0, 2, 3, 4)
        shifted = shifted.reshape(KW, C_in, Hp, W_out, k)
        target = dxt[..., :k]
        target[...] = 0
        for j in range(KW):
            c = j * dil_w
            target[:, :, c : c + reach_w : sw] += shifted[j]
        dx[n0:n1] = target[:, top : top + H, left : left + W, :].transpose(3, 0, 1, 2)
    return dx, np.ascontiguousarray(dw_t.T).reshape(w.shape)
