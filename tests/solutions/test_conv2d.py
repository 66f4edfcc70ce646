"""conv2d_forward / conv2d_backward against torch (float64 values, autograd gradients),
on each of its paths (im2col, batch-blocked im2col, im2col along W, Winograd)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from solutions import conv, im2col_blocked, im2col_w, winograd
from solutions.conv import ALGORITHMS, ConvCache, choose_algorithm, conv2d_backward, conv2d_forward
from solutions.winograd import TILES


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


def check_against_torch(torch_conv, x_shape, w_shape, with_bias, seed, algorithm, **kwargs):
    """Forward and backward of one path against torch in float64 (atol 1e-10)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if with_bias else None

    out, cache = conv2d_forward(x, w, b, algorithm=algorithm, **kwargs)
    assert cache.algorithm == algorithm
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
    assert out.flags.c_contiguous and dx.flags.c_contiguous and dw.flags.c_contiguous


@given(conv_cases())
def test_forward_and_backward_match_torch(torch_conv, case):
    """The readable im2col path, every stride / padding / dilation."""
    x_shape, w_shape, stride, padding, dilation, with_bias, seed = case
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
    check_against_torch(torch_conv, x_shape, w_shape, with_bias, seed, "im2col", **kwargs)


@given(conv_cases())
def test_blocked_im2col_matches_torch(torch_conv, case):
    """The batch-blocked im2col path, one image per block (so N > 1 means several)."""
    x_shape, w_shape, stride, padding, dilation, with_bias, seed = case
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
    with mock.patch.object(im2col_blocked, "_BLOCK_BYTES", 1):
        check_against_torch(
            torch_conv, x_shape, w_shape, with_bias, seed, "im2col-blocked", **kwargs
        )


@st.composite
def stride_one_cases(draw):
    """Stride 1, no dilation (im2col-w's layers); any kernel, padding per side 0-3."""
    N = draw(st.integers(1, 4))
    C_in, C_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    (top, bottom), (left, right) = ((draw(st.integers(0, 3)) for _ in range(2)) for _ in range(2))
    H = draw(st.integers(max(1, KH - top - bottom), 12))
    W = draw(st.integers(max(1, KW - left - right), 12))
    with_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    padding = ((top, bottom), (left, right))
    return (N, C_in, H, W), (C_out, C_in, KH, KW), padding, with_bias, seed


@given(case=stride_one_cases())
def test_im2col_w_matches_torch(torch_conv, case):
    """im2col along W, one image per block; kernels taller than the output (every input
    row an edge row of dx) included."""
    x_shape, w_shape, padding, with_bias, seed = case
    with mock.patch.object(im2col_w, "_BLOCK_BYTES", 1):
        check_against_torch(
            torch_conv, x_shape, w_shape, with_bias, seed, "im2col-w", padding=padding
        )


@st.composite
def winograd_cases(draw):
    """3x3, stride 1, no dilation; padding per side 0-3, any input the kernel fits."""
    N = draw(st.integers(1, 4))
    C_in, C_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    (top, bottom), (left, right) = ((draw(st.integers(0, 3)) for _ in range(2)) for _ in range(2))
    H = draw(st.integers(max(1, 3 - top - bottom), 13))
    W = draw(st.integers(max(1, 3 - left - right), 13))
    with_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    padding = ((top, bottom), (left, right))
    return (N, C_in, H, W), (C_out, C_in, 3, 3), padding, with_bias, seed


@pytest.mark.parametrize("tile", sorted(TILES))
@given(case=winograd_cases())
def test_winograd_matches_torch(torch_conv, tile, case):
    """Winograd F(2x2, 3x3) and F(4x4, 3x3), one image per block, ragged last tiles."""
    x_shape, w_shape, padding, with_bias, seed = case
    with (
        mock.patch.object(conv, "_WINOGRAD_TILE", tile),
        mock.patch.object(winograd, "_BLOCK_BYTES", 1),
    ):
        check_against_torch(
            torch_conv, x_shape, w_shape, with_bias, seed, "winograd", padding=padding
        )


def test_float32_stays_float32(torch_conv):
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


def test_no_bias(torch_conv):
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


def test_windows_that_skip_the_last_rows_give_them_zero_gradient(torch_conv):
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


def test_single_image_batch(torch_conv):
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
def test_backward_in_channel_blocks(torch_conv, monkeypatch, block_bytes):
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


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_batch(algorithm):
    w = np.zeros((16, 16, 3, 3))
    out, cache = conv2d_forward(np.zeros((0, 16, 5, 5)), w, np.zeros(16), algorithm=algorithm)
    assert out.shape == (0, 16, 3, 3)
    dx, dw, db = conv2d_backward(np.zeros(out.shape), cache)
    assert dx.shape == (0, 16, 5, 5)
    assert not dw.any() and not db.any()


# ------------------------------------------------------------------- dispatch and paths
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "expected"),
    [
        ((256, 1, 28, 28), (6, 1, 5, 5), 1, "im2col-w"),  # LeNet conv1, padding 2
        ((256, 6, 14, 14), (16, 6, 5, 5), 1, "im2col-w"),  # LeNet conv2
        ((64, 6, 14, 14), (16, 6, 5, 5), 1, "im2col-w"),  # LeNet conv2 at batch 64
        ((64, 64, 32, 32), (64, 64, 3, 3), 1, "winograd"),
        ((64, 64, 32, 32), (64, 64, 3, 3), 2, "im2col-blocked"),  # stride 2: neither
        ((64, 4, 32, 32), (4, 4, 3, 3), 1, "im2col-w"),  # too few channels for Winograd
        ((2, 3, 8, 8), (4, 3, 3, 3), 1, "im2col"),  # small: the readable path
        ((1, 1, 3, 3), (1, 1, 2, 2), 1, "im2col"),
    ],
)
def test_choose_algorithm(x_shape, w_shape, stride, expected):
    """auto picks Winograd for wide 3x3 stride-1 layers, blocks for big batches (along W
    at stride 1), the readable path for small problems."""
    x = np.zeros(x_shape, dtype=np.float32)
    w = np.zeros(w_shape, dtype=np.float32)
    pad = 2 if w_shape[-1] == 5 and x_shape[1] == 1 else int(w_shape[-1] == 3)
    out, cache = conv2d_forward(x, w, None, stride=stride, padding=pad)
    assert cache.algorithm == expected
    assert choose_algorithm(x.shape, w.shape, (stride,) * 2, (1, 1), out.shape[2:], 4) == expected


@pytest.mark.parametrize("algorithm", ALGORITHMS[1:])
def test_need_dx_false_skips_dx_only(algorithm):
    """need_dx=False returns dx=None and the same dw, db as a full backward."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    with (
        mock.patch.object(im2col_blocked, "_BLOCK_BYTES", 1),
        mock.patch.object(im2col_w, "_BLOCK_BYTES", 1),
    ):
        out, cache = conv2d_forward(x, w, b, padding=1, algorithm=algorithm)
        dout = rng.standard_normal(out.shape)
        dx, dw, db = conv2d_backward(dout, cache)
        none, dw2, db2 = conv2d_backward(dout, cache, need_dx=False)
    assert none is None and dx is not None
    np.testing.assert_array_equal(dw, dw2)
    np.testing.assert_array_equal(db, db2)


@pytest.mark.parametrize("stride", [1, 2])  # stride 1 shifts rows inside the products
def test_blocked_im2col_with_a_short_last_block(torch_conv, stride):
    """N = 5 in blocks of 2 (2 + 2 + 1), dilation and padding on one layer."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 3, 11, 10))
    w = rng.standard_normal((2, 3, 3, 2))
    b = rng.standard_normal(2)
    kwargs = {"stride": stride, "padding": (1, 2), "dilation": (2, 1)}
    out_hw = conv2d_forward(x[:1], w, b, **kwargs)[0].shape[2:]
    columns_per_image = 3 * 3 * 2 * out_hw[0] * out_hw[1] * 8  # C_in*KH*KW*H_out*W_out*8 B
    with mock.patch.object(im2col_blocked, "_BLOCK_BYTES", 2 * columns_per_image):
        assert im2col_blocked.images_per_block(3, 3, 2, *out_hw, 8) == 2
        out, cache = conv2d_forward(x, w, b, algorithm="im2col-blocked", **kwargs)
        dout = rng.standard_normal(out.shape)
        got = (out, *conv2d_backward(dout, cache))
        again = conv2d_backward(dout, cache)  # buffers laid out anew on each call
    for g, t in zip(got, torch_conv(x, w, b, dout, **kwargs), strict=True):
        np.testing.assert_allclose(g, t, atol=1e-10)
    for g1, g2 in zip(got[1:], again, strict=True):
        np.testing.assert_array_equal(g1, g2)


def test_im2col_w_with_a_short_last_block(torch_conv):
    """N = 5 in blocks of 2 (2 + 2 + 1), uneven padding; buffers laid out anew per call."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((5, 3, 11, 10))
    w = rng.standard_normal((2, 3, 4, 3))
    b = rng.standard_normal(2)
    padding = ((2, 0), (1, 3))
    Hp, W_out = 11 + 2, 10 + 4 - 3 + 1
    with mock.patch.object(im2col_w, "_BLOCK_BYTES", 2 * Hp * 3 * 3 * W_out * 8):
        assert im2col_w._images_per_block(3, Hp, 3, W_out, 8) == 2
        out, cache = conv2d_forward(x, w, b, padding=padding, algorithm="im2col-w")
        dout = rng.standard_normal(out.shape)
        got = (out, *conv2d_backward(dout, cache))
        again = conv2d_backward(dout, cache)
    for g, t in zip(got, torch_conv(x, w, b, dout, padding=padding), strict=True):
        np.testing.assert_allclose(g, t, atol=1e-10)
    for g1, g2 in zip(got[1:], again, strict=True):
        np.testing.assert_array_equal(g1, g2)


# max |error| / max |torch float64| on a float32 layer, per path: the bounds the
# docstrings state (measured: im2col and F(2x2, 3x3) <= 1.1e-6, F(4x4, 3x3) <= 1.1e-5).
FLOAT32_BOUNDS = [("im2col", 2, 2e-6), ("im2col-blocked", 2, 2e-6), ("im2col-w", 2, 2e-6)]
FLOAT32_BOUNDS += [("winograd", 2, 2e-6)]
FLOAT32_BOUNDS += [("winograd", 4, 3e-5)]


@pytest.mark.parametrize(("algorithm", "tile", "bound"), FLOAT32_BOUNDS)
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "padding"),
    [
        ((4, 64, 16, 16), (64, 64, 3, 3), 1),  # a wide 3x3 layer, Winograd's kind
        ((8, 6, 14, 14), (16, 6, 5, 5), 0),  # LeNet conv2 (not Winograd's)
    ],
)
def test_float32_accuracy(torch_conv, algorithm, tile, bound, x_shape, w_shape, padding):
    """float32 results against torch in float64: inputs ~ N(0, 1), weights ~ N(0, 0.1^2)."""
    if algorithm == "winograd" and w_shape[-1] != 3:
        pytest.skip("Winograd covers 3x3 kernels only")
    rng = np.random.default_rng(9)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (0.1 * rng.standard_normal(w_shape)).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    with mock.patch.object(conv, "_WINOGRAD_TILE", tile):
        out, cache = conv2d_forward(x, w, b, padding=padding, algorithm=algorithm)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        got = (out, *conv2d_backward(dout, cache))
    assert all(g.dtype == np.float32 for g in got)
    for g, t in zip(got, torch_conv(x, w, b, dout, padding=padding), strict=True):
        assert np.abs(g - t).max() <= bound * np.abs(t).max()


def test_algorithm_errors():
    x, w = np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match="algorithm must be one of"):
        conv2d_forward(x, w, None, algorithm="fft")
    with pytest.raises(ValueError, match="'winograd' needs a 3x3 kernel, stride 1"):
        conv2d_forward(x, w, None, algorithm="winograd")
    with pytest.raises(ValueError, match="'winograd' needs a 3x3 kernel, stride 1"):
        conv2d_forward(x, np.zeros((1, 1, 3, 3)), None, stride=2, algorithm="winograd")
    with pytest.raises(ValueError, match="'im2col-w' needs stride 1 and dilation 1"):
        conv2d_forward(x, w, None, padding=1, stride=(1, 2), algorithm="im2col-w")
    with pytest.raises(ValueError, match="'im2col-w' needs stride 1 and dilation 1"):
        conv2d_forward(x, np.zeros((1, 1, 3, 3)), None, dilation=2, algorithm="im2col-w")
