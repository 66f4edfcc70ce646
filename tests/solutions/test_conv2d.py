"""conv2d_forward / conv2d_backward against torch (float64 values, autograd gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from solutions.conv import ConvCache, conv2d_backward, conv2d_forward


def torch_conv(x, w, b, dout, *, stride=1, padding=0, dilation=1):
    """out, dx, dw, db from torch in float64 (db is None without bias)."""
    tx = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    tw = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    tb = None if b is None else torch.tensor(np.asarray(b, dtype=np.float64), requires_grad=True)
    out = F.conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation)
    out.backward(torch.tensor(np.asarray(dout, dtype=np.float64)))
    db = None if tb is None else tb.grad.numpy()
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), db


@st.composite
def conv_cases(draw):
    """A random layer whose (dilated) kernel fits the padded input; each axis independent."""
    N = draw(st.integers(1, 4))
    C_in, C_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    # Smallest input the dilated kernel fits once padded: span - 2 * padding.
    H = draw(st.integers(max(1, dilation[0] * (KH - 1) + 1 - 2 * padding[0]), 12))
    W = draw(st.integers(max(1, dilation[1] * (KW - 1) + 1 - 2 * padding[1]), 12))
    with_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C_in, H, W), (C_out, C_in, KH, KW), stride, padding, dilation, with_bias, seed


@given(conv_cases())
def test_forward_and_backward_match_torch(case):
    x_shape, w_shape, stride, padding, dilation, with_bias, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if with_bias else None
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}

    out, cache = conv2d_forward(x, w, b, **kwargs)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    t_out, t_dx, t_dw, t_db = torch_conv(x, w, b, dout, **kwargs)

    assert out.shape == t_out.shape
    np.testing.assert_allclose(out, t_out, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, t_dx, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dw, t_dw, rtol=0, atol=1e-10)
    if with_bias:
        np.testing.assert_allclose(db, t_db, rtol=0, atol=1e-10)
    else:
        assert db is None
    assert out.flags.c_contiguous and dx.flags.c_contiguous


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 7)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    out, cache = conv2d_forward(x, w, b, stride=(2, 1), padding=1)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    grads = conv2d_backward(dout, cache)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
    expected = torch_conv(x, w, b, dout, stride=(2, 1), padding=1)
    for got, want in zip((out, *grads), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_float64_stays_float64_and_ints_become_float64():
    x = np.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), dtype=np.int64)
    out, cache = conv2d_forward(x, w, np.array([1]))
    assert out.dtype == np.float64
    dx, dw, db = conv2d_backward(np.ones(out.shape, dtype=np.int32), cache)
    assert dx.dtype == dw.dtype == db.dtype == np.float64
    np.testing.assert_array_equal(out[0, 0, 0, 0], 0 + 1 + 4 + 5 + 1)
    out64, cache64 = conv2d_forward(x.astype(np.float64), w.astype(np.float64), None)
    assert out64.dtype == np.float64
    assert conv2d_backward(np.ones(out64.shape), cache64)[0].dtype == np.float64


def test_mixed_float32_and_float64_computes_in_float64():
    x = np.ones((1, 1, 3, 3), dtype=np.float32)
    out, _ = conv2d_forward(x, np.ones((1, 1, 2, 2)), None)
    assert out.dtype == np.float64


def test_no_bias():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 6, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    out, cache = conv2d_forward(x, w, None, padding=1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    t_out, t_dx, t_dw, _ = torch_conv(x, w, None, dout, padding=1)
    assert db is None
    for got, want in ((out, t_out), (dx, t_dx), (dw, t_dw)):
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_windows_that_skip_the_last_rows_give_them_zero_gradient():
    """(H + 2p - K) % s != 0: 7x8 input, 3x3 kernel, stride 3 -> rows 6 and cols 6, 7 unread."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2, 7, 8))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    out, cache = conv2d_forward(x, w, b, stride=3)
    assert out.shape == (2, 3, 2, 2)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    assert not dx[:, :, 6, :].any()
    assert not dx[:, :, :, 6:].any()
    assert dx[:, :, :6, :6].all()
    for got, want in zip((out, dx, dw, db), torch_conv(x, w, b, dout, stride=3), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_single_image_batch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3, 9, 6))
    w = rng.standard_normal((2, 3, 4, 2))
    b = rng.standard_normal(2)
    kwargs = {"stride": (2, 3), "padding": (2, 1), "dilation": (2, 1)}
    out, cache = conv2d_forward(x, w, b, **kwargs)
    dout = rng.standard_normal(out.shape)
    got = (out, *conv2d_backward(dout, cache))
    for g, t in zip(got, torch_conv(x, w, b, dout, **kwargs), strict=True):
        np.testing.assert_allclose(g, t, atol=1e-10)


@pytest.mark.parametrize(
    ("pad", "stride", "dilation"),
    [
        (((1, 0), (0, 1)), 1, 1),
        (((2, 1), (1, 2)), (2, 1), 1),
        (((0, 3), (2, 0)), 2, (1, 2)),
        (((1, 0), (1, 0)), 1, 1),  # "same" for a 2x2 kernel: extra row on top (lecture 000)
    ],
)
def test_asymmetric_padding_matches_torch_pad_then_conv(pad, stride, dilation):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((2, 3, 2, 2))
    b = rng.standard_normal(2)
    out, cache = conv2d_forward(x, w, b, stride=stride, padding=pad, dilation=dilation)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)

    (top, bottom), (left, right) = pad
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    padded = F.pad(tx, (left, right, top, bottom))
    t_out = F.conv2d(padded, tw, tb, stride=stride, dilation=dilation)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(db, tb.grad.numpy(), atol=1e-10)


def test_inputs_are_not_modified_and_backward_can_run_twice():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv2d_forward(x, w, b, padding=1)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dout_copy = dout.copy()
    first = conv2d_backward(dout, cache)
    second = conv2d_backward(dout, cache)
    for a, c in zip((x, w, b, dout), (*copies, dout_copy), strict=True):
        np.testing.assert_array_equal(a, c)
    for g1, g2 in zip(first, second, strict=True):
        np.testing.assert_array_equal(g1, g2)


def test_accepts_lists_and_one_by_one_kernels():
    x = [[[[1.0, 2.0], [3.0, 4.0]]]]
    out, cache = conv2d_forward(x, [[[[2.0]]]], [0.5])
    np.testing.assert_array_equal(out, [[[[2.5, 4.5], [6.5, 8.5]]]])
    dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 2, 2), 2.0))
    np.testing.assert_array_equal(dw, [[[[10.0]]]])
    np.testing.assert_array_equal(db, [4.0])


X = np.zeros((2, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))
B = np.zeros(4)


@pytest.mark.parametrize(
    ("x", "w", "b", "kwargs", "match"),
    [
        (np.zeros((3, 5, 5)), W, B, {}, r"x must be \(N, C_in, H, W\); got an array of shape"),
        (X, np.zeros((3, 3, 3)), B, {}, r"w must be \(C_out, C_in, KH, KW\); got"),
        (
            X,
            np.zeros((4, 1, 3, 3)),
            B,
            {},
            r"x has C_in=3 channels but w expects 1; w must be \(C_out, C_in, KH, KW\)",
        ),
        (X, W, np.zeros(3), {}, r"b must be \(C_out,\) = \(4,\) to match w; got shape \(3,\)"),
        (X, W, np.zeros((4, 1)), {}, r"b must be \(C_out,\); got an array of shape \(4, 1\)"),
        (X, W, B, {"stride": 0}, "stride must be >= 1"),
        (X, W, B, {"stride": (1, -2)}, "stride must be >= 1"),
        (X, W, B, {"stride": 1.5}, "stride must be an int or a pair"),
        (X, W, B, {"dilation": 0}, "dilation must be >= 1"),
        (X, W, B, {"padding": -1}, "padding must be >= 0"),
        (X, W, B, {"padding": (1, 2, 3)}, "padding must be an int, a pair"),
        (X, np.zeros((4, 3, 6, 3)), B, {}, r"6x3 kernel .* larger than the input: x is 5x5"),
        (X, W, B, {"dilation": 3}, r"spanning 7x7 with dilation \(3, 3\)\) is larger"),
        (np.zeros((2, 0, 5, 5)), np.zeros((4, 0, 3, 3)), B, {}, "C_in, H, W >= 1"),
        (X, np.zeros((4, 3, 0, 3)), B, {}, "C_out, KH, KW >= 1"),
    ],
)
def test_forward_errors(x, w, b, kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv2d_forward(x, w, b, **kwargs)


def test_kernel_fits_only_thanks_to_padding():
    out, _ = conv2d_forward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 4, 4)), None, padding=1)
    assert out.shape == (1, 1, 1, 1)


def test_backward_errors():
    out, cache = conv2d_forward(X, W, B)
    with pytest.raises(ValueError, match=r"dout must have the shape .* \(2, 4, 3, 3\); got"):
        conv2d_backward(np.zeros((2, 4, 3, 2)), cache)
    with pytest.raises(ValueError, match=r"dout must be \(N, C_out, H_out, W_out\)"):
        conv2d_backward(np.zeros((4, 3, 3)), cache)
    with pytest.raises(ValueError, match="cache must be the ConvCache returned by conv2d_forward"):
        conv2d_backward(np.zeros(out.shape), (X, W, B))
    assert isinstance(cache, ConvCache)


@pytest.mark.parametrize("block_bytes", [1, 2 * 9 * (6 * 4 * 3) * 8])  # 1 and 2 channels
def test_backward_in_channel_blocks(monkeypatch, block_bytes):
    """dx is built a few input channels at a time; 1 channel per block and blocks of 2
    channels with a partial last block (C_in = 5) give torch's gradients too."""
    import solutions.conv as conv

    monkeypatch.setattr(conv, "_DCOLS_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 6, 7))
    w = rng.standard_normal((2, 5, 3, 3))
    b = rng.standard_normal(2)
    out, cache = conv2d_forward(x, w, b, padding=1, stride=(1, 2))  # H_out*W_out*N = 6*4*3
    dout = rng.standard_normal(out.shape)
    got = conv2d_backward(dout, cache)
    for g, t in zip(got, torch_conv(x, w, b, dout, padding=1, stride=(1, 2))[1:], strict=True):
        np.testing.assert_allclose(g, t, atol=1e-10)


def test_empty_batch():
    out, cache = conv2d_forward(np.zeros((0, 2, 5, 5)), np.zeros((3, 2, 3, 3)), np.zeros(3))
    assert out.shape == (0, 3, 3, 3)
    dx, dw, db = conv2d_backward(np.zeros(out.shape), cache)
    assert dx.shape == (0, 2, 5, 5)
    assert not dw.any() and not db.any()
