"""im2col along W only, the kernel rows read through overlapping views: stride-1 layers.

The column matrix of `solutions.conv` copies every input pixel KH*KW times. This path
copies it KW times (the shifts along W) and gets the KH shifts along H for free:

1. a block of images is stored rows-first and batch-last, with the KW shifted copies side
   by side: xw[y, c, j, v, n] = x_padded[n, c, y, v + j], shape (Hp, C_in, KW, W_out, nb);
2. the window of output row h is then rows h .. h+KH-1 of xw, one contiguous run of
   memory: a matrix of KH*C_in*KW rows (order (i, c, j), all the same stride apart) and
   W_out*nb columns. Output row h's windows start one row of xw further than row h-1's, so
   `as_strided` gives all H_out matrices as one (H_out, KH*C_in*KW, W_out*nb) view of the
   same memory (overlapping, never copied);
3. the forward pass is one batched `np.matmul`, w (C_out, KH*C_in*KW) @ view, which
   calls BLAS once per output row: out_rows (H_out, C_out, W_out*nb), copied into NCHW.

Backward, with dout stored the same way, twice: d_t[h, (v, n), o] and d[h, o, (v, n)]:

- dw: view[h] @ d_t[h] for every output row (one batched `np.matmul`), summed over h
  (d_t is a copy rather than a transposed view of d: OpenBLAS runs the product with the
  transposed operand 1.6x slower on LeNet's conv2);
- dx: the transposed convolution with the same trick turned round. Input row y gets
  sum_{i, o} w[o, c, i, j] * d[y - i, o, v, n]; rows y-KH+1 .. y of d are one contiguous
  run, so t[y] = w2 ((j, c), (i', o)) @ d_rows(y) for every y as one batched product
  (rows near the top and bottom edge, where fewer than KH rows of d exist, as one product
  each with only the rows that exist), and then the KW shifts along W add the
  t[y, j, c, v, n] into dx[y, c, v + j, n] (KW slices of whole arrays).

On LeNet's conv2 (N = 256, 6 -> 16 channels, 5x5, 14x14) xw holds 3.6x fewer numbers
than the column matrix, the products run at 85-100 GFLOP/s (np.matmul's 1024x1024
product: ~100; those of `solutions.im2col_blocked`, 65-80) and col2im's KH*KW strided
additions become KW additions of long contiguous runs: forward + backward in 6.5-7 ms
against im2col-blocked's 8.6-9 (one thread; docs/performance.md). Blocks of images
(`_BLOCK_BYTES` of xw, about 32 images on LeNet's conv2) keep the working set in the
cache; the backward pass recomputes xw from x (keeping xw, or the batch-last copy of x,
from the forward pass was measured no faster).

Covers stride 1 and dilation 1 with any padding (the overlapping rows need neighbouring
output rows to be one input row apart). Accuracy: the same products as im2col, summed in
another order; in float32 against torch in float64 (LeNet's layers and a 64-channel 3x3
one, 4 seeds) the largest error is <= 5.4e-7 of the largest |value| (im2col: <= 6.7e-7),
held to 2e-6 by `tests/solutions/test_conv2d.py::test_float32_accuracy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["RowsCache", "rows_backward", "rows_forward"]

# Bytes of one block's xw (Hp, C_in, KW, W_out, nb). Measured on LeNet's conv2 at batch
# 256, one thread (a first version): blocks of 16, 32 and 64 images took 7.6, 7.0 and
# 7.5 ms per forward + backward, the whole batch at once 11.1 ms; 32 images are ~540 KB.
_BLOCK_BYTES = 1 << 19


@dataclass(frozen=True)
class RowsCache:
    """What `rows_backward` needs: the input itself (xw is recomputed from it block by
    block; do not modify x in place in between)."""

    x: np.ndarray


class _Rows:
    """Reusable buffers of one block: the padded input (C_in, Hp, Wp, k) and xw."""

    def __init__(self, x_shape, kernel_hw, padding, dtype) -> None:
        _, self.C, self.H, self.W = x_shape
        self.KH, self.KW = kernel_hw
        (self.top, bottom), (self.left, right) = padding
        self.Hp, self.Wp = self.H + self.top + bottom, self.W + self.left + right
        self.H_out, self.W_out = self.Hp - self.KH + 1, self.Wp - self.KW + 1
        self.dtype = dtype
        self.k = 0  # the block size the buffers are laid out for

    def _layout(self, k: int) -> None:
        self.k = k
        # np.zeros: the padding's border stays zero, only the inside is rewritten.
        self.xt = np.zeros((self.C, self.Hp, self.Wp, k), dtype=self.dtype)
        self.xw = np.empty((self.Hp, self.C, self.KW, self.W_out, k), dtype=self.dtype)

    def of(self, x: np.ndarray) -> np.ndarray:
        """The (H_out, KH*C_in*KW, W_out*k) window matrices of a block x (k, C_in, H, W)."""
        k = x.shape[0]
        if k != self.k:  # first block, or a shorter last one
            self._layout(k)
        xt, xw = self.xt, self.xw
        xt[:, self.top : self.top + self.H, self.left : self.left + self.W] = x.transpose(
            1, 2, 3, 0
        )
        for j in range(self.KW):  # xw[y, c, j] = the padded rows shifted j pixels left
            xw[:, :, j] = xt[:, :, j : j + self.W_out].transpose(1, 0, 2, 3)
        s_y, _, s_j = xw.strides[:3]
        # (i, c, j) are one stride s_j apart: s_y = C*KW*s_j and the c stride is KW*s_j.
        return as_strided(
            xw,
            shape=(self.H_out, self.KH * self.C * self.KW, self.W_out * k),
            strides=(s_y, s_j, xw.itemsize),
            writeable=False,
        )


def _images_per_block(C_in: int, Hp: int, KW: int, W_out: int, itemsize: int) -> int:
    return max(1, _BLOCK_BYTES // (Hp * C_in * KW * W_out * itemsize))


def rows_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    padding: tuple[tuple[int, int], tuple[int, int]],
) -> tuple[np.ndarray, RowsCache]:
    """`conv2d_forward` at stride 1, dilation 1: one product per output row, a block of
    images at a time.

    Args:
        x: input (N, C_in, H, W); w: filters (C_out, C_in, KH, KW); b: (C_out,) or None;
            all in one float dtype, checked by the caller.
        padding: ((top, bottom), (left, right)).
    Returns:
        out: (N, C_out, H_out, W_out); cache: a `RowsCache`.
    """
    N = x.shape[0]
    C_out, C_in, KH, KW = w.shape
    rows = _Rows(x.shape, (KH, KW), padding, x.dtype)
    H_out, W_out = rows.H_out, rows.W_out
    nb = max(1, min(N, _images_per_block(C_in, rows.Hp, KW, W_out, x.itemsize)))
    w_mat = w.transpose(0, 2, 1, 3).reshape(C_out, KH * C_in * KW)  # (o; i, c, j)
    out_rows = np.empty((H_out, C_out, W_out * nb), dtype=x.dtype)
    out = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        windows = rows.of(x[n0:n1])
        block = out_rows[..., : windows.shape[2]]
        np.matmul(w_mat, windows, out=block)  # (H_out, C_out, W_out*k)
        if b is not None:  # here rather than in the copy below: 2x faster on LeNet's conv2
            block += b[:, None]
        out[n0:n1] = block.reshape(H_out, C_out, W_out, n1 - n0).transpose(3, 1, 0, 2)
    return out, RowsCache(x=x)


def rows_backward(
    dout: np.ndarray,
    w: np.ndarray,
    cache: RowsCache,
    padding: tuple[tuple[int, int], tuple[int, int]],
    *,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray]:
    """dx (None unless `need_dx`) and dw of `rows_forward`, a block at a time.

    Args:
        dout: upstream gradient (N, C_out, H_out, W_out), in the forward's dtype.
        w: the filters (C_out, C_in, KH, KW).
        cache: the forward's `RowsCache`.
        padding: as for `rows_forward`.
    Returns:
        dx: (N, C_in, H, W) or None; dw: (C_out, C_in, KH, KW).
    """
    x = cache.x
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    rows = _Rows(x.shape, (KH, KW), padding, x.dtype)
    H_out, W_out, Hp, Wp = rows.H_out, rows.W_out, rows.Hp, rows.Wp
    top, left = rows.top, rows.left
    nb = max(1, min(N, _images_per_block(C_in, Hp, KW, W_out, x.itemsize)))
    dw_t = np.zeros((KH * C_in * KW, C_out), dtype=x.dtype)  # rows (i, c, j)
    dw_rows = np.empty((H_out, KH * C_in * KW, C_out), dtype=x.dtype)
    d_t_buf = np.empty(H_out * W_out * nb * C_out, dtype=x.dtype)
    dx = np.empty(x.shape, dtype=x.dtype) if need_dx else None
    if need_dx:
        d_buf = np.empty(H_out * C_out * W_out * nb, dtype=x.dtype)
        # w2[(j, c), (i', o)] = w[o, c, KH-1-i', j]: d_rows(y) lists rows y-KH+1 .. y of d,
        # so the kernel row that meets d's row y - KH + 1 + i' is i = KH - 1 - i'.
        w2 = w[:, :, ::-1, :].transpose(3, 1, 2, 0).reshape(KW * C_in, KH * C_out)
        # Only the input rows inside the padding are needed: y in [top, top + H).
        full = range(max(KH - 1, top), min(H_out, top + H))  # rows that meet KH rows of d
        edges = [y for y in range(top, top + H) if y not in full]
        t_buf = np.empty(H * KW * C_in * W_out * nb, dtype=x.dtype)
        dxp_buf = np.empty(H * C_in * Wp * nb, dtype=x.dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        k = n1 - n0
        cols = W_out * k
        # dout rows first, batch next to last: d_t[h, v, n, o], for dw.
        d_t = d_t_buf[: H_out * cols * C_out].reshape(H_out, W_out, k, C_out)
        d_t[...] = dout[n0:n1].transpose(2, 3, 0, 1)
        d_t = d_t.reshape(H_out, cols, C_out)
        windows = rows.of(x[n0:n1])
        # windows[h] @ d_t[h]: the long side as the rows, and d_t contiguous rather than a
        # transposed view of d below (OpenBLAS on LeNet's conv2: 1.7 and 1.6x faster).
        np.matmul(windows, d_t, out=dw_rows)
        dw_t += dw_rows.sum(axis=0)
        if dx is None:
            continue
        d = d_buf[: H_out * C_out * cols].reshape(H_out, C_out, cols)  # d[h, o, (v, n)]
        d[...] = d_t.transpose(0, 2, 1)
        # t[y - top] = w2 @ d_rows(y): (KW*C_in, W_out*k) for the input rows y kept.
        t = t_buf[: H * KW * C_in * cols].reshape(H, KW * C_in, cols)
        if len(full):
            s_h, s_o = d.strides[:2]
            d_rows = as_strided(  # d_rows[y'] = rows y'..y'+KH-1 of d, (i', o) in order
                d[full.start - (KH - 1) :],
                shape=(len(full), KH * C_out, cols),
                strides=(s_h, s_o, d.itemsize),
                writeable=False,
            )
            np.matmul(w2, d_rows, out=t[full.start - top : full.stop - top])
        for y in edges:  # only the rows of d that exist: i' in [lo, hi)
            lo, hi = max(0, KH - 1 - y), min(KH, H_out + KH - 1 - y)
            first = y - (KH - 1) + lo
            np.matmul(
                w2[:, lo * C_out : hi * C_out],
                d[first : first + hi - lo].reshape((hi - lo) * C_out, cols),
                out=t[y - top],
            )
        # The KW shifts along W: dxp[y, c, v + j, n] += t[y, j, c, v, n].
        t5 = t.reshape(H, KW, C_in, W_out, k)
        dxp = dxp_buf[: H * C_in * Wp * k].reshape(H, C_in, Wp, k)
        dxp[:, :, :W_out] = t5[:, 0]
        dxp[:, :, W_out:] = 0
        for j in range(1, KW):
            dxp[:, :, j : j + W_out] += t5[:, j]
        dx[n0:n1] = dxp[:, :, left : left + W].transpose(3, 1, 0, 2)
    dw = dw_t.reshape(KH, C_in, KW, C_out).transpose(3, 1, 0, 2)  # (o, c, i, j)
    return dx, np.ascontiguousarray(dw)
