"""The loop oracles of solutions.naive: vectorised == naive, and naive == torch.

The naive functions are the oracles other tests lean on (the vectorised pooling is tested
against them), so they are themselves checked against torch here, ties in max pooling and
overlapping windows included.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from solutions.conv import (
    conv1x1,
    conv2d_backward,
    conv2d_forward,
    conv2d_true,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_padded,
)
from solutions.naive import (
    avgpool2d_backward_naive,
    avgpool2d_forward_naive,
    conv2d_backward_naive,
    conv2d_forward_naive,
    conv2d_true_naive,
    corr2d_naive,
    maxpool2d_backward_naive,
    maxpool2d_forward_naive,
    pool2d_naive,
)

SHAPES_2D = [
    ((5, 5), (3, 3)),
    ((6, 4), (2, 3)),
    ((3, 7), (3, 1)),
    ((4, 4), (4, 4)),
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize(("x_shape", "k_shape"), SHAPES_2D)
def test_corr2d_matches_naive(x_shape, k_shape):
    rng = np.random.default_rng(sum(x_shape) * 10 + sum(k_shape))
    X = rng.standard_normal(x_shape)
    K = rng.standard_normal(k_shape)
    np.testing.assert_allclose(corr2d(X, K), corr2d_naive(X, K), atol=1e-12)


@pytest.mark.parametrize("mode", ["valid", "full", "same"])
@pytest.mark.parametrize(("x_shape", "k_shape"), [*SHAPES_2D, ((5, 6), (2, 4)), ((3, 3), (2, 2))])
def test_conv2d_true_matches_naive(mode, x_shape, k_shape):
    rng = np.random.default_rng(sum(x_shape) * 7 + sum(k_shape))
    X = rng.standard_normal(x_shape)
    K = rng.standard_normal(k_shape)
    np.testing.assert_allclose(conv2d_true(X, K, mode), conv2d_true_naive(X, K, mode), atol=1e-12)


@pytest.mark.parametrize("mode", ["valid", "full", "same"])
@pytest.mark.parametrize("k_shape", [(3, 3), (5, 3), (2, 2), (4, 3), (1, 2)])
def test_conv2d_true_matches_scipy(mode, k_shape):
    """scipy.signal.convolve2d is the textbook true convolution, even kernels included."""
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(11)
    X = rng.standard_normal((6, 7))
    K = rng.standard_normal(k_shape)
    expected = signal.convolve2d(X, K, mode=mode)
    np.testing.assert_allclose(conv2d_true(X, K, mode), expected, atol=1e-12)
    np.testing.assert_allclose(conv2d_true_naive(X, K, mode), expected, atol=1e-12)


def test_conv2d_true_same_by_hand_without_scipy():
    """An odd kernel "same" = centre of "full"; flip done by hand."""
    X = np.arange(12.0).reshape(3, 4)
    K = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 3.0]])
    full = conv2d_true_naive(X, K, "full")
    np.testing.assert_allclose(conv2d_true(X, K, "same"), full[1:4, 1:5])
    flipped = K[::-1, ::-1]
    padded = np.pad(X, 1)
    by_hand = np.array(
        [[(padded[i : i + 3, j : j + 3] * flipped).sum() for j in range(4)] for i in range(3)]
    )
    np.testing.assert_allclose(conv2d_true(X, K, "same"), by_hand)


def test_errors_in_lecture_functions():
    with pytest.raises(ValueError, match="mode must be 'valid', 'full' or 'same'"):
        conv2d_true(np.zeros((3, 3)), np.zeros((2, 2)), "circular")
    with pytest.raises(ValueError, match=r"X must be \(H, W\)"):
        corr2d(np.zeros((1, 3, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"the 4x2 kernel K is larger than the input X \(3x3"):
        corr2d(np.zeros((3, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"K must be \(KH, KW\) with KH, KW >= 1"):
        conv2d_true(np.zeros((3, 3)), np.zeros((0, 2)), "full")
    with pytest.raises(ValueError, match=r"X has C_in=2 channels but K has 3"):
        corr2d_multi_in(np.zeros((2, 3, 3)), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match=r"X has C_in=2 channels but K expects 3"):
        corr2d_multi_in_out(np.zeros((2, 3, 3)), np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"conv1x1 needs a 1x1 kernel"):
        conv1x1(np.zeros((2, 3, 3)), np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"X has C_in=2 channels but K expects 3"):
        conv1x1(np.zeros((2, 3, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        corr2d_padded(np.zeros((3, 3)), np.zeros((2, 2)), stride=0)


CONV_CASES = [
    # x_shape, w_shape, stride, padding, dilation
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 0, 1),
    ((2, 2, 8, 9), (3, 2, 3, 3), 2, 1, 1),
    ((1, 2, 9, 7), (2, 2, 2, 3), (3, 2), (2, 0), (2, 1)),
    ((3, 1, 5, 5), (2, 1, 5, 5), 1, 2, 1),
    ((2, 2, 6, 6), (1, 2, 3, 3), 1, ((1, 0), (0, 2)), 2),
    ((1, 1, 7, 7), (1, 1, 3, 3), 3, 0, 1),  # (7 - 3) % 3 != 0
]


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding", "dilation"), CONV_CASES)
def test_conv2d_matches_naive(x_shape, w_shape, stride, padding, dilation):
    rng = np.random.default_rng(len(x_shape) + sum(x_shape) + 3 * sum(w_shape))
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
    out, cache = conv2d_forward(x, w, b, **kwargs)
    np.testing.assert_allclose(out, conv2d_forward_naive(x, w, b, **kwargs), atol=1e-10)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        conv2d_backward(dout, cache), conv2d_backward_naive(dout, x, w, **kwargs), strict=True
    ):
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_conv2d_naive_matches_torch():
    """The oracle itself against torch, with every option at once."""
    rng = np.random.default_rng(21)
    x = rng.standard_normal((2, 2, 7, 8))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    kwargs = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2)}
    out = conv2d_forward_naive(x, w, b, **kwargs)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    t_out = F.conv2d(tx, tw, tb, **kwargs)
    dout = rng.standard_normal(out.shape)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-10)
    dx, dw, db = conv2d_backward_naive(dout, x, w, **kwargs)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(db, tb.grad.numpy(), atol=1e-10)
    assert conv2d_forward_naive(x.astype(np.float32), w.astype(np.float32), None).dtype == (
        np.float32
    )


# --- pooling ------------------------------------------------------------------------------

LECTURE_000_POOL = [[12, 20, 30, 0], [20, 12, 2, 0], [0, 70, 5, 2], [8, 2, 90, 3]]


def test_pool2d_naive_lecture_examples():
    """Lecture 000 Q5/Q6 (2x2, stride 2) and lecture 002 (2x2 max, stride 1)."""
    np.testing.assert_array_equal(
        pool2d_naive(LECTURE_000_POOL, 2, mode="avg"), [[16, 8], [20, 25]]
    )
    np.testing.assert_array_equal(pool2d_naive(LECTURE_000_POOL, 2), [[20, 30], [70, 90]])
    np.testing.assert_array_equal(
        pool2d_naive(np.arange(9).reshape(3, 3), 2, stride=1, mode="max"), [[4, 5], [7, 8]]
    )


POOL_CASES = [
    # kernel_size, stride, padding
    (2, None, 0),
    (3, 1, 1),  # overlapping windows, padding
    (3, 2, 1),  # overlapping windows
    ((2, 3), (1, 2), (1, 1)),  # non-square everything
    ((3, 2), 2, (1, 0)),
    (2, 3, 0),  # gaps between windows
]


def tie_heavy_input(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Small integers: most windows hold their maximum more than once."""
    return np.random.default_rng(seed).integers(0, 3, size=shape).astype(np.float64)


@pytest.mark.parametrize(("kernel_size", "stride", "padding"), POOL_CASES)
def test_maxpool_naive_matches_torch_with_ties(kernel_size, stride, padding):
    x = tie_heavy_input(31, (2, 3, 7, 8))
    kwargs = {"kernel_size": kernel_size, "stride": stride, "padding": padding}
    out = maxpool2d_forward_naive(x, **kwargs)
    tx = torch.tensor(x, requires_grad=True)
    t_out, t_idx = F.max_pool2d(tx, return_indices=True, **kwargs)
    np.testing.assert_array_equal(out, t_out.detach().numpy())

    dout = np.random.default_rng(32).standard_normal(out.shape)
    t_out.backward(torch.tensor(dout))
    dx = maxpool2d_backward_naive(dout, x, **kwargs)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-12)

    # Window by window, a one-hot dout shows the winner; it must be torch's index (the
    # first maximum in row-major order), not just any position holding the maximum.
    for n, c, h, v in np.ndindex(out.shape):
        one_hot = np.zeros(out.shape)
        one_hot[n, c, h, v] = 1.0
        flat = np.flatnonzero(maxpool2d_backward_naive(one_hot, x, **kwargs)[n, c])
        assert flat.tolist() == [int(t_idx[n, c, h, v])], (n, c, h, v)


def test_maxpool_naive_tie_goes_to_first_in_row_major_order():
    x = np.array([[[[1.0, 5.0], [5.0, 5.0]]]])
    dx = maxpool2d_backward_naive(np.ones((1, 1, 1, 1)), x, kernel_size=2)
    np.testing.assert_array_equal(dx, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_maxpool_naive_overlapping_windows_accumulate():
    """One pixel that wins 4 overlapping 2x2 windows collects all 4 gradients."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 9.0
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = maxpool2d_backward_naive(dout, x, kernel_size=2, stride=1)
    assert dx[0, 0, 1, 1] == 10.0
    assert dx.sum() == 10.0


@pytest.mark.parametrize(("kernel_size", "stride", "padding"), POOL_CASES)
def test_avgpool_naive_matches_torch(kernel_size, stride, padding):
    rng = np.random.default_rng(41)
    x = rng.standard_normal((2, 2, 7, 6))
    kwargs = {"kernel_size": kernel_size, "stride": stride, "padding": padding}
    out = avgpool2d_forward_naive(x, **kwargs)
    tx = torch.tensor(x, requires_grad=True)
    t_out = F.avg_pool2d(tx, count_include_pad=True, **kwargs)
    np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(
        avgpool2d_backward_naive(dout, x, **kwargs), tx.grad.numpy(), atol=1e-12
    )


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(("kernel_size", "stride", "padding"), POOL_CASES)
def test_pool2d_naive_is_the_nchw_version_on_one_plane(mode, kernel_size, stride, padding):
    X = tie_heavy_input(51, (7, 8))
    kwargs = {"kernel_size": kernel_size, "stride": stride, "padding": padding}
    forward = maxpool2d_forward_naive if mode == "max" else avgpool2d_forward_naive
    Y = pool2d_naive(X, kernel_size, stride=stride, padding=padding, mode=mode)
    np.testing.assert_array_equal(Y, forward(X[None, None], **kwargs)[0, 0])


def test_naive_pooling_keeps_float32_and_rejects_bad_mode():
    x = np.ones((1, 1, 4, 4), dtype=np.float32)
    assert maxpool2d_forward_naive(x, kernel_size=2).dtype == np.float32
    assert avgpool2d_forward_naive(x, kernel_size=2).dtype == np.float32
    dout = np.ones((1, 1, 2, 2), dtype=np.float32)
    assert maxpool2d_backward_naive(dout, x, kernel_size=2).dtype == np.float32
    assert avgpool2d_backward_naive(dout, x, kernel_size=2).dtype == np.float32
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        pool2d_naive(np.ones((4, 4)), 2, mode="median")
