"""Winograd minimal filtering for 3x3, stride-1 convolutions (Lavin and Gray, 2016).

A direct 3x3 convolution spends 9 multiplications per output pixel and channel pair.
Winograd's F(m x m, 3 x 3) computes an m x m tile of outputs from an (m+2) x (m+2) tile
of inputs with only (m+2)^2 multiplications:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise; g the 3x3 kernel)

- F(2x2, 3x3): 16 multiplications for 4 outputs instead of 36 (2.25x fewer);
- F(4x4, 3x3): 36 for 16 outputs instead of 144 (4x fewer).

Summed over input channels, the elementwise product becomes one matrix product per tile
position xi = (k, l): M[xi] = V[xi] @ U[xi] with V = B^T d B of shape (tiles, C_in) and
U = G w G^T of shape (C_in, C_out). The layer is therefore

1. input transform: V (alpha^2, T, C_in), T = tiles of the images, alpha = m + 2;
2. alpha^2 channel GEMMs as one batched `np.matmul`: M = V @ U, (alpha^2, T, C_out);
3. output transform: Y = A^T M A, scattered into the (N, C_out, H_out, W_out) output.

The transforms are separable and their matrices small and sparse, so each is applied one
axis at a time as a handful of whole-array additions (no Python loop over tiles or
pixels); entries +-1 cost one addition, the others a multiplication too.

Backward is backpropagation through these three steps, exact because each is linear:

    dM = A dY A^T                       (alpha^2, T, C_out)
    dU = V^T @ dM  -> dw = G^T dU G     (C_in, C_out) per xi, summed over the tiles
    dV = dM @ U^T  -> dx = B dV B^T, overlap-added back onto the tiles (a transposed
                      Winograd convolution; skipped when the input needs no gradient)

Accuracy, against torch in float64 (`tests/solutions/test_conv2d.py::
test_float32_accuracy`; float32, inputs ~ N(0, 1), weights ~ N(0, 0.1^2), 64 channels):
the largest absolute error is at most 2e-6 times the largest |value| for F(2x2, 3x3), the
bound im2col meets (both measured <= 1.1e-6), and 3e-5 for F(4x4, 3x3) (measured
<= 1.1e-5: its transforms have entries up to 8 and 1/24). In float64 both are within
1e-13 of torch. The tile is chosen by that accuracy: `solutions.conv` uses F(2x2, 3x3);
F(4x4, 3x3) is here for comparison (and was not faster in numpy: its transforms cost
more passes over memory than its products save; docs/performance.md).

The batch is processed a few images at a time (`_BLOCK_BYTES`), channels last, in a
tile layout where each transform is a sum of contiguous slices (see `_Blocks`); the
backward pass recomputes the input tiles instead of keeping them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TILES", "WinogradCache", "winograd_backward", "winograd_forward"]


@dataclass(frozen=True)
class Transforms:
    """The matrices of F(m x m, 3 x 3): B^T (alpha, alpha), G (alpha, 3), A^T (m, alpha)."""

    m: int
    BT: np.ndarray
    G: np.ndarray
    AT: np.ndarray


# Interpolation points 0, 1, -1 (and infinity) for F(2, 3); 0, +-1, +-2 (and infinity)
# for F(4, 3): the matrices of Lavin and Gray (2016), section 4.
TILES: dict[int, Transforms] = {
    2: Transforms(
        m=2,
        BT=np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=float),
        G=np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]),
        AT=np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=float),
    ),
    4: Transforms(
        m=4,
        BT=np.array(
            [
                [4, 0, -5, 0, 1, 0],
                [0, -4, -4, 1, 1, 0],
                [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0],
                [0, 4, 0, -5, 0, 1],
            ],
            dtype=float,
        ),
        G=np.array(
            [
                [1 / 4, 0, 0],
                [-1 / 6, -1 / 6, -1 / 6],
                [-1 / 6, 1 / 6, -1 / 6],
                [1 / 24, 1 / 12, 1 / 6],
                [1 / 24, -1 / 12, 1 / 6],
                [0, 0, 1],
            ]
        ),
        AT=np.array(
            [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
            dtype=float,
        ),
    ),
}


@dataclass(frozen=True)
class WinogradCache:
    """What `winograd_backward` needs from `winograd_forward`.

    Attributes:
        x: the input (N, C_in, H, W) itself, not a copy (as torch saves tensors): the
            backward pass recomputes its tiles block by block rather than keeping
            (alpha^2/m^2)x its size in memory. Do not modify x in place between the two.
        U: transformed filters, stored transposed: (alpha^2, C_in, C_out).
        m: output tile size (2 or 4).
        padding: ((top, bottom), (left, right)).
    """

    x: np.ndarray
    U: np.ndarray
    m: int
    padding: tuple[tuple[int, int], tuple[int, int]]


def _combine(mat: np.ndarray, parts, outs, *, accumulate: bool = False) -> None:
    """outs[r] (+)= sum_j mat[r, j] * parts[j] for each row r; zero entries cost nothing.

    Each numpy call is a pass over memory, so the terms are ordered to need the fewest:
    two +-1 terms start the sum in one call (a + b, a - b), a coefficient c != +-1
    starts it as c * a, and after that a +-1 term is one add or subtract and any other
    coefficient two calls (c * a into a temporary, then the add). With `accumulate` the
    sum is added to what `outs` hold (overlapping tiles in the backward pass).
    """
    for r, out in enumerate(outs):
        unit = [(c, parts[j]) for j, c in enumerate(mat[r]) if c in (1, -1)]
        other = [(c, parts[j]) for j, c in enumerate(mat[r]) if c not in (0, 1, -1)]
        if accumulate:
            rest = unit + other
        elif len(unit) >= 2:
            (c0, p0), (c1, p1) = unit[:2]
            if c0 == c1:
                np.add(p0, p1, out=out)
                if c0 == -1:
                    np.negative(out, out=out)
            elif c0 == 1:
                np.subtract(p0, p1, out=out)
            else:
                np.subtract(p1, p0, out=out)
            rest = unit[2:] + other
        elif other:
            c0, p0 = other[0]
            np.multiply(p0, out.dtype.type(c0), out=out)
            rest = unit + other[1:]
        elif unit:
            c0, p0 = unit[0]
            if c0 == 1:
                np.copyto(out, p0)
            else:
                np.negative(p0, out=out)
            rest = []
        else:
            out[...] = 0
            rest = []
        for c, part in rest:
            if c == 1:
                np.add(out, part, out=out)
            elif c == -1:
                np.subtract(out, part, out=out)
            else:
                out += out.dtype.type(c) * part


def _channel_planes(k: int, C: int, hw: tuple[int, int], dtype) -> np.ndarray:
    """Zeros of shape (k, C, *hw) whose channel planes do not start a multiple of 4 KiB
    apart: copying such planes into a channels-last array reads addresses 4 KiB apart,
    which the CPU's store-to-load forwarding mistakes for conflicts (measured 4x slower
    on 32x32 planes of float32)."""
    n = hw[0] * hw[1]
    slack = 16 if (n * np.dtype(dtype).itemsize) % 4096 == 0 else 0
    return np.zeros((k, C, n + slack), dtype=dtype)[..., :n].reshape(k, C, *hw)


class _Blocks:
    """Geometry and scratch buffers for running a layer a few images at a time.

    Layout. numpy adds two arrays about 2.5x faster when every operand is contiguous
    than through strided views (measured on this layer's block sizes), so the tiles are
    kept in a "polyphase" layout where each term of a transform is a contiguous slice:
    pixel (m*s + p) of the padded input, for p < m, lives at [p, s] (phase, then tile
    index), so the tiles' i-th row for i = p (+ m) is the slice [p, 0:tH] ([p, 1:tH+1]).
    The block's images and channels are the two innermost axes. One transposing copy
    between the two axes' passes puts the other spatial axis outermost. The tiles are
    ordered (tW, tH, image) in the products, and the output is permuted back to NCHW once.

    Blocks of `nb` images keep the working set in the cache; with whole-batch tile
    arrays (67 MB on the 64-channel layer) writing the input tiles was the most
    expensive step of all.
    """

    def __init__(
        self, m: int, x_shape: tuple[int, ...], C_out: int, padding, dtype, nb: int = 0
    ) -> None:
        self.t = TILES[m]
        self.args = (m, x_shape, C_out, padding, dtype)
        self.m, self.alpha = m, m + 2
        N, C_in, H, W = x_shape
        (self.top, bottom), (self.left, right) = padding
        self.H, self.W, self.C_in, self.C_out = H, W, C_in, C_out
        self.H_out, self.W_out = H + self.top + bottom - 2, W + self.left + right - 2
        # Ragged last tiles read zeros past the padded input and write past the output.
        self.tH, self.tW = tH, tW = -(-self.H_out // m), -(-self.W_out // m)
        self.tiles = tH * tW
        alpha, a2, C = self.alpha, self.alpha**2, max(C_in, C_out)
        per_image = (
            dtype.itemsize
            * C
            * (2 * m * m * (tH + 1) * (tW + 1) + 2 * alpha * m * tH * (tW + 1) + 2 * a2 * tH * tW)
        )
        self.nb = nb = nb or max(1, min(N, _BLOCK_BYTES // per_image))
        self.N = N
        Hq, Wq = m * (tH + 1), m * (tW + 1)  # padded input, whole tiles (>= H_out + 2)
        self.xpad = _channel_planes(nb, C_in, (Hq, Wq), dtype)  # the border stays 0
        self.P = np.empty((m, tH + 1, m, tW + 1, nb, C_in), dtype=dtype)  # polyphase
        self.rows = np.empty((alpha, tH, m, tW + 1, nb, C_in), dtype=dtype)
        self.rows_t = np.empty((alpha, m, tW + 1, tH, nb, C_in), dtype=dtype)
        self.V = np.empty((alpha, alpha, tW, tH, nb, C_in), dtype=dtype)
        self.M = np.empty((alpha, alpha, tW, tH, nb, C_out), dtype=dtype)
        self.half = np.empty((m, alpha, tW, tH, nb, C_out), dtype=dtype)
        self.Y = np.empty((m, m, tW, tH, nb, C_out), dtype=dtype)
        self.Z = np.empty((tH, m, tW, m, nb, C_out), dtype=dtype)  # Y in pixel order
        self.ypad = _channel_planes(nb, C_out, (m * tH, m * tW), dtype)  # dout, zero-padded

    def ranges(self):
        """(n0, n1, blocks) for each block of the batch; the last, shorter block gets
        buffers of its own size."""
        for n0 in range(0, self.N, self.nb):
            n1 = min(self.N, n0 + self.nb)
            yield n0, n1, self if n1 - n0 == self.nb else _Blocks(*self.args, nb=n1 - n0)

    def tiles_in(self, x: np.ndarray) -> np.ndarray:
        """V = B^T d B for the tiles of a block x (k, C_in, H, W): (alpha^2, T, C_in),
        T = tW*tH*k."""
        t, m, alpha, tH, tW, k = self.t, self.m, self.alpha, self.tH, self.tW, self.nb
        xpad, P = self.xpad, self.P
        xpad[:, :, self.top : self.top + self.H, self.left : self.left + self.W] = x
        P[...] = xpad.reshape(k, self.C_in, tH + 1, m, tW + 1, m).transpose(3, 2, 5, 4, 0, 1)
        rows, rows_t, V = self.rows, self.rows_t, self.V
        _combine(t.BT, [P[i % m, i // m : i // m + tH] for i in range(alpha)], rows)  # i -> r
        rows_t[...] = rows.transpose(0, 2, 3, 1, 4, 5)  # W axes outermost
        for r in range(alpha):  # j -> l
            parts = [rows_t[r, j % m, j // m : j // m + tW] for j in range(alpha)]
            _combine(t.BT, parts, V[r])
        return V.reshape(alpha * alpha, -1, self.C_in)

    def tiles_out(self, M: np.ndarray, out: np.ndarray, b: np.ndarray | None) -> None:
        """out (k, C_out, H_out, W_out) = A^T M A [+ b] for product tiles M (alpha^2, T,
        C_out)."""
        t, m, alpha, tH, tW, k = self.t, self.m, self.alpha, self.tH, self.tW, self.nb
        M = M.reshape(alpha, alpha, tW, tH, k, self.C_out)
        half, Y, Z = self.half, self.Y, self.Z
        _combine(t.AT, M, half)  # k -> a
        for a in range(m):  # l -> b
            _combine(t.AT, half[a], Y[a])
        # Back to NCHW in two copies, each with a cache-friendly order: first the pixels
        # into place (runs of k*C_out numbers), then channels before pixels.
        Z[...] = Y.transpose(3, 0, 2, 1, 4, 5)  # (tH, a, tW, b, k, C_out)
        y = Z.reshape(m * tH, m * tW, k, self.C_out)[: self.H_out, : self.W_out]
        y = y.transpose(2, 3, 0, 1)  # (k, C_out, H_out, W_out)
        if b is None:
            out[...] = y
        else:
            np.add(y, b[:, None, None], out=out)

    def grad_tiles_out(self, dout: np.ndarray) -> np.ndarray:
        """The adjoint of `tiles_out`: dM = A dY A^T for a block dout (k, C_out, H_out,
        W_out), as (alpha^2, T, C_out)."""
        t, m, alpha, tH, tW, k = self.t, self.m, self.alpha, self.tH, self.tW, self.nb
        # Via a buffer whose channel planes are not 4 KiB apart (zeros past the edge).
        self.ypad[:, :, : self.H_out, : self.W_out] = dout
        dY, half, dM = self.Y, self.half, self.M
        dY[...] = self.ypad.reshape(k, self.C_out, tH, m, tW, m).transpose(3, 5, 4, 2, 0, 1)
        for a in range(m):  # b -> l
            _combine(t.AT.T, dY[a], half[a])
        _combine(t.AT.T, half, dM)  # a -> k
        return dM.reshape(alpha * alpha, -1, self.C_out)

    def grad_tiles_in(self, dV: np.ndarray) -> np.ndarray:
        """The adjoint of `tiles_in`: dd = B dV B^T overlap-added onto the padded block
        (tiles start every m pixels and are m + 2 wide); a (k, C_in, H, W) view of dx."""
        t, m, alpha, tH, tW = self.t, self.m, self.alpha, self.tH, self.tW
        k = self.nb
        dV = dV.reshape(alpha, alpha, tW, tH, k, self.C_in)
        rows, rows_t, P = self.rows, self.rows_t, self.P
        # Offsets j < m cover tile slots 0 .. tW - 1 of phase j once each, so they are
        # written; the last two overlap the next tile (slots 1 .. tW) and are added.
        rows_t[:, :, tW] = 0
        for r in range(alpha):  # l -> j
            targets = [rows_t[r, j % m, j // m : j // m + tW] for j in range(alpha)]
            _combine(t.BT.T[:m], dV[r], targets[:m])
            _combine(t.BT.T[m:], dV[r], targets[m:], accumulate=True)
        rows[...] = rows_t.transpose(0, 3, 1, 2, 4, 5)  # H axes outermost again
        P[:, tH] = 0
        targets = [P[i % m, i // m : i // m + tH] for i in range(alpha)]
        _combine(t.BT.T[:m], rows, targets[:m])  # r -> i
        _combine(t.BT.T[m:], rows, targets[m:], accumulate=True)
        # Back to NCHW as in tiles_out: pixels into place, then channels before pixels.
        Z = P.transpose(1, 0, 3, 2, 4, 5).copy()  # (tH+1, i, tW+1, j, k, C_in)
        Z = Z.reshape(m * (tH + 1), m * (tW + 1), k, self.C_in)
        Z = Z[self.top : self.top + self.H, self.left : self.left + self.W]
        return Z.transpose(2, 3, 0, 1)


# Working set of one batch block (its tiles, their transforms and products). Blocks of a
# few MB keep the transforms' many passes in the cache (L3 here).
_BLOCK_BYTES = 8 << 20


def winograd_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    padding: tuple[tuple[int, int], tuple[int, int]],
    m: int = 2,
) -> tuple[np.ndarray, WinogradCache]:
    """3x3, stride-1 cross-correlation of a batch by Winograd's F(m x m, 3 x 3).

    The caller (`solutions.conv.conv2d_forward`) has checked the shapes and dtypes.

    Args:
        x: input, shape (N, C_in, H, W), float32 or float64.
        w: filters, shape (C_out, C_in, 3, 3), same dtype as x.
        b: bias, shape (C_out,), or None.
        padding: ((top, bottom), (left, right)) zeros per side.
        m: output tile size, 2 or 4 (a key of `TILES`).
    Returns:
        out: shape (N, C_out, H_out, W_out), H_out = H + top + bottom - 2,
            W_out = W + left + right - 2.
        cache: a `WinogradCache` for `winograd_backward`.
    """
    t = TILES[m]
    alpha = m + 2
    N, C_in = x.shape[:2]
    C_out = w.shape[0]
    blocks = _Blocks(m, x.shape, C_out, padding, x.dtype)
    # U = G w G^T, stored transposed for V @ U: (alpha^2, C_in, C_out).
    U = np.einsum("ki,lj,ocij->klco", t.G, t.G, w).astype(x.dtype, copy=False)
    U = np.ascontiguousarray(U.reshape(alpha * alpha, C_in, C_out))
    out = np.empty((N, C_out, blocks.H_out, blocks.W_out), dtype=x.dtype)
    for n0, n1, block in blocks.ranges():
        V = block.tiles_in(x[n0:n1])  # (alpha^2, T, C_in)
        M = block.M.reshape(alpha * alpha, -1, C_out)
        np.matmul(V, U, out=M)  # the channel GEMMs: (alpha^2, k*tiles, C_out)
        block.tiles_out(M, out[n0:n1], b)
    return out, WinogradCache(x=x, U=U, m=m, padding=padding)


def winograd_backward(
    dout: np.ndarray, cache: WinogradCache, *, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray]:
    """Gradients of `winograd_forward` w.r.t. x and w (backprop through the transforms).

    Args:
        dout: upstream gradient, shape (N, C_out, H_out, W_out), the dtype of the forward.
        cache: the `WinogradCache` of the forward pass.
        need_dx: False skips dx (returned as None) and its GEMMs and transforms.
    Returns:
        dx: shape (N, C_in, H, W), or None when need_dx is False.
        dw: shape (C_out, C_in, 3, 3).
    """
    t = TILES[cache.m]
    alpha = cache.m + 2
    x, U = cache.x, cache.U
    N, C_in, H, W = x.shape
    C_out = dout.shape[1]
    blocks = _Blocks(cache.m, x.shape, C_out, cache.padding, x.dtype)
    dU = np.zeros((alpha * alpha, C_in, C_out), dtype=x.dtype)
    dx = np.empty((N, C_in, H, W), dtype=x.dtype) if need_dx else None
    for n0, n1, block in blocks.ranges():
        dM = block.grad_tiles_out(dout[n0:n1])  # (alpha^2, k*tiles, C_out)
        V = block.tiles_in(x[n0:n1])  # recomputed: cheaper than keeping it
        dU += np.matmul(V.transpose(0, 2, 1), dM)  # (alpha^2, C_in, C_out)
        if dx is not None:
            dV = np.matmul(dM, U.transpose(0, 2, 1))  # (alpha^2, k*tiles, C_in)
            dx[n0:n1] = block.grad_tiles_in(dV)
    dw = np.einsum("ki,lj,klco->ocij", t.G, t.G, dU.reshape(alpha, alpha, C_in, C_out))
    return dx, np.ascontiguousarray(dw, dtype=x.dtype)
