"""Tests for solutions.pooling: torch float64 is the oracle for values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from solutions.pooling import (
    AvgPoolCache,
    MaxPoolCache,
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    pool2d,
)

LAYERS = {
    "max": (maxpool2d_forward, maxpool2d_backward, F.max_pool2d),
    "avg": (avgpool2d_forward, avgpool2d_backward, F.avg_pool2d),
}

# --------------------------------------------------------------------------- oracle


def torch_pool(mode, x, dout, kernel, stride, padding):
    """torch's output and autograd gradient for the same call, in float64."""
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = LAYERS[mode][2](tx, kernel, stride, padding)
    (dx,) = torch.autograd.grad(out, tx, torch.tensor(dout, dtype=torch.float64))
    return out.detach().numpy(), dx.numpy()


def ours(mode, x, dout, kernel, stride, padding):
    forward, backward, _ = LAYERS[mode]
    out, cache = forward(x, kernel_size=kernel, stride=stride, padding=padding)
    return out, backward(dout, cache), cache


def out_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


# --------------------------------------------------------------------------- strategies


@st.composite
def pool_cases(draw, *, non_overlapping=False):
    """(x shape, kernel, stride, padding) inside the ranges torch accepts."""
    N, C = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    KH, KW = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if non_overlapping:  # the common stride == kernel, no padding case (e.g. LeNet 2x2/2)
        (sH, sW), (pH, pW) = (KH, KW), (0, 0)
    else:
        sH, sW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        pH, pW = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
    H = draw(st.integers(max(1, KH - 2 * pH), 12))
    W = draw(st.integers(max(1, KW - 2 * pW), 12))
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C, H, W), (KH, KW), (sH, sW), (pH, pW), seed


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("mode", ["max", "avg"])
@given(case=pool_cases())
def test_forward_and_backward_match_torch(mode, case):
    """Random shapes, non-square kernels, strides below/at/above the kernel, padding."""
    shape, kernel, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    out_shape = (*shape[:2], *map(out_size, shape[2:], kernel, stride, padding))
    dout = rng.standard_normal(out_shape)
    out, dx, _ = ours(mode, x, dout, kernel, stride, padding)
    t_out, t_dx = torch_pool(mode, x, dout, kernel, stride, padding)
    assert out.shape == t_out.shape
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    # Overlapping windows add several terms in a different order than torch: round-off.
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "avg"])
@given(case=pool_cases(non_overlapping=True))
def test_non_overlapping_path_matches_torch_exactly(mode, case):
    """stride == kernel, no padding (each input in at most one window), H % K != 0 too."""
    shape, kernel, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    dout = rng.standard_normal((*shape[:2], shape[2] // kernel[0], shape[3] // kernel[1]))
    out, dx, cache = ours(mode, x, dout, kernel, stride, padding)
    assert cache.geometry.overlapping == (False, False)
    t_out, t_dx = torch_pool(mode, x, dout, kernel, stride, padding)
    if mode == "max":  # one term per input, nothing is summed: bit-exact
        np.testing.assert_array_equal(out, t_out)
        np.testing.assert_array_equal(dx, t_dx)
    else:
        np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dx, t_dx, rtol=1e-12, atol=1e-15)


@given(case=pool_cases())
def test_max_ties_match_torch_exactly(case):
    """Values in {0, 1, 2} tie everywhere; exactly one position per window gets dout.

    Integer dout makes every sum exact, so equality with torch's gradient proves that each
    window sent its dout to one position, and to the one torch picks (the first maximum
    in row-major order), also where windows overlap.
    """
    shape, kernel, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, shape).astype(np.float64)
    out_shape = (*shape[:2], *map(out_size, shape[2:], kernel, stride, padding))
    dout = rng.integers(1, 10, out_shape).astype(np.float64)
    out, dx, _ = ours("max", x, dout, kernel, stride, padding)
    t_out, t_dx = torch_pool("max", x, dout, kernel, stride, padding)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_array_equal(dx, t_dx)
    # One winner per window: the gradient's total is exactly the total of dout.
    assert dx.sum() == dout.sum()


def test_max_tie_goes_to_first_maximum_in_row_major_order():
    """A window of equal values sends everything to its top-left element, as torch does."""
    x = np.ones((1, 1, 2, 2))
    _, cache = maxpool2d_forward(x, kernel_size=2)
    dx = maxpool2d_backward(np.array([[[[5.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0], [0.0, 0.0]]]])
    # Max in the second row, tied at both columns: the first column of that row wins.
    x = np.array([[[[0.0, 1.0], [2.0, 2.0]]]])
    _, cache = maxpool2d_forward(x, kernel_size=2)
    np.testing.assert_array_equal(
        maxpool2d_backward(np.ones((1, 1, 1, 1)), cache), [[[[0, 0], [1, 0]]]]
    )


def test_max_tie_overlapping_windows_accumulate():
    """Lecture 002 example with ties: overlapping windows that share a winner add up."""
    x = np.array([[[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]]])
    out, cache = maxpool2d_forward(x, kernel_size=2, stride=1)
    dx = maxpool2d_backward(np.ones_like(out), cache)
    _, t_dx = torch_pool("max", x, np.ones_like(out), 2, 1, 0)
    np.testing.assert_array_equal(dx, t_dx)
    np.testing.assert_array_equal(dx, [[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]])


@pytest.mark.parametrize("padding", [1, (1, 0), (0, 1)])
def test_max_all_minus_inf_windows_match_torch(padding):
    """-inf inputs never lose to the -inf padding: torch's argmax is the first real input."""
    x = np.full((1, 2, 3, 4), -np.inf)
    x[0, 1, 1, 2] = 3.0
    out, cache = maxpool2d_forward(x, kernel_size=3, stride=1, padding=padding)
    dout = np.arange(1.0, 1 + out.size).reshape(out.shape)
    t_out, t_dx = torch_pool("max", x, dout, 3, 1, padding)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_array_equal(maxpool2d_backward(dout, cache), t_dx)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, 2, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1)]
)
def test_max_nan_propagates_like_torch(kernel, stride, padding):
    """NaN wins its windows (the last NaN in scan order gets the gradient, as in torch)."""
    x = np.array([[[[1.0, np.nan, 2.0, 0.5], [np.nan, 0.0, 1.0, 3.0], [3.0, 4.0, np.nan, 1.0]]]])
    out, cache = maxpool2d_forward(x, kernel_size=kernel, stride=stride, padding=padding)
    dout = np.arange(1.0, 1 + out.size).reshape(out.shape)
    t_out, t_dx = torch_pool("max", x, dout, kernel, stride, padding)
    np.testing.assert_array_equal(out, t_out)  # assert_array_equal treats NaN == NaN
    np.testing.assert_array_equal(maxpool2d_backward(dout, cache), t_dx)


def test_avg_counts_padded_zeros():
    """count_include_pad=True: a corner window with one real 4 over a 2x2 kernel gives 1."""
    x = np.full((1, 1, 2, 2), 4.0)
    out, _ = avgpool2d_forward(x, kernel_size=2, stride=2, padding=1)
    np.testing.assert_array_equal(out, np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_lenet_shapes(mode, rng):
    """LeNet's 2x2/2 pooling: (N, 6, 28, 28) -> (N, 6, 14, 14), gradient like torch."""
    x = rng.standard_normal((3, 6, 28, 28))
    dout = rng.standard_normal((3, 6, 14, 14))
    out, dx, _ = ours(mode, x, dout, 2, 2, 0)
    t_out, t_dx = torch_pool(mode, x, dout, 2, 2, 0)
    np.testing.assert_allclose(out, t_out, rtol=1e-13)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-13)


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
@pytest.mark.parametrize(("kernel", "stride", "padding"), [(2, 2, 0), (3, 1, 1)])
def test_dtype_preserved(mode, dtype, expected, kernel, stride, padding, rng):
    """float32 in -> float32 out and gradient; float64 stays; ints become float64."""
    x = (rng.standard_normal((2, 3, 6, 7)) * 10).astype(dtype)
    forward, backward, _ = LAYERS[mode]
    out, cache = forward(x, kernel_size=kernel, stride=stride, padding=padding)
    dx = backward(np.ones(out.shape, dtype=np.float64), cache)
    assert out.dtype == expected
    assert dx.dtype == expected
    assert dx.shape == x.shape
    t_out, t_dx = torch_pool(
        mode, x.astype(np.float64), np.ones(out.shape), kernel, stride, padding
    )
    np.testing.assert_allclose(out, t_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- lecture examples

Q5 = [[12, 20, 30, 0], [20, 12, 2, 0], [0, 70, 5, 2], [8, 2, 90, 3]]


def test_lecture_000_q5_q6_exact():
    """Lecture 000 Q5/Q6: 2x2 pooling with stride 2 of the 4x4 example."""
    np.testing.assert_array_equal(pool2d(Q5, 2, stride=2, mode="avg"), [[16, 8], [20, 25]])
    np.testing.assert_array_equal(pool2d(Q5, 2, stride=2, mode="max"), [[20, 30], [70, 90]])
    # stride defaults to the window size, as in torch
    np.testing.assert_array_equal(pool2d(Q5, 2), [[20, 30], [70, 90]])
    np.testing.assert_array_equal(pool2d(Q5, (2, 2), mode="avg"), [[16, 8], [20, 25]])


def test_lecture_002_overlapping_max_exact():
    """Lecture 002: 2x2 max pooling with stride 1 of arange(9).reshape(3, 3)."""
    Y = pool2d(np.arange(9).reshape(3, 3), 2, stride=1)
    np.testing.assert_array_equal(Y, [[4, 5], [7, 8]])
    assert Y.dtype == np.float64


def test_lecture_layer_api_agrees_with_pool2d():
    """The NCHW layers give the same numbers as pool2d on the lecture example."""
    x = np.array(Q5, dtype=np.float64)[None, None]
    out, _ = maxpool2d_forward(x, kernel_size=2)
    np.testing.assert_array_equal(out[0, 0], [[20, 30], [70, 90]])
    out, _ = avgpool2d_forward(x, kernel_size=2)
    np.testing.assert_array_equal(out[0, 0], [[16, 8], [20, 25]])


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_works_per_channel(mode, rng):
    """(C, H, W) input: each channel is pooled on its own, like the 2-D version."""
    X = rng.standard_normal((3, 7, 6))
    Y = pool2d(X, (3, 2), stride=(2, 1), padding=(1, 0), mode=mode)
    assert Y.shape == (3, out_size(7, 3, 2, 1), out_size(6, 2, 1, 0))
    for c in range(3):
        np.testing.assert_array_equal(
            Y[c], pool2d(X[c], (3, 2), stride=(2, 1), padding=(1, 0), mode=mode)
        )
    t_out = LAYERS[mode][2](torch.tensor(X)[None], (3, 2), (2, 1), (1, 0))[0].numpy()
    np.testing.assert_allclose(Y, t_out, rtol=1e-13)


def test_pool2d_pads_max_with_minus_inf():
    """Max pooling never returns a padded 0 when every real value is negative."""
    X = -np.arange(1.0, 10.0).reshape(3, 3)
    Y = pool2d(X, 3, stride=1, padding=1)
    assert (Y < 0).all()
    assert Y[0, 0] == -1.0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: maxpool2d_forward(np.zeros((3, 4, 4)), kernel_size=2),
            r"x must be \(N, C, H, W\); got an array of shape \(3, 4, 4\)",
        ),
        (
            lambda: avgpool2d_forward(np.zeros((1, 1, 3, 4, 4)), kernel_size=2),
            r"x must be \(N, C, H, W\)",
        ),
        (
            lambda: maxpool2d_forward(np.zeros((1, 1, 3, 3)), kernel_size=4),
            r"kernel_size \(4, 4\) is larger than the padded input \(3, 3\)",
        ),
        (
            lambda: avgpool2d_forward(np.zeros((1, 1, 3, 8)), kernel_size=(5, 2), padding=(0, 1)),
            r"larger than the padded input \(3, 10\)",
        ),
        (
            lambda: maxpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=2, stride=0),
            r"stride must be >= 1",
        ),
        (
            lambda: avgpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=2, stride=(1, -1)),
            r"stride must be >= 1",
        ),
        (
            lambda: maxpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=0),
            r"kernel_size must be >= 1",
        ),
        (
            lambda: maxpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=3, padding=2),
            r"padding must be at most half the kernel",
        ),
        (
            lambda: avgpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=1, padding=1),
            r"padding must be at most half the kernel",
        ),
        (
            lambda: maxpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=(2, 4), padding=(1, 3)),
            r"<= 1 rows, <= 2 columns",
        ),
        (
            lambda: maxpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=2, padding=-1),
            r"padding must be >= 0",
        ),
        (
            lambda: pool2d(np.zeros((4, 4)), 2, mode="mean"),
            r"mode must be 'max' or 'avg'; got 'mean'",
        ),
        (lambda: pool2d(np.zeros((1, 1, 4, 4)), 2), r"X must be \(H, W\) or \(C, H, W\)"),
        (lambda: pool2d(np.zeros((2, 2)), 3), r"larger than the padded input"),
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    """Bad shapes and arguments raise ValueError saying what was expected and what came."""
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_backward_rejects_mismatched_dout(mode):
    """dout must be shaped like the forward output (N, C, H_out, W_out)."""
    forward, backward, _ = LAYERS[mode]
    _, cache = forward(np.zeros((2, 3, 6, 6)), kernel_size=2)
    with pytest.raises(
        ValueError,
        match=r"forward output .* = \(2, 3, 3, 3\); got \(2, 3, 6, 6\)",
    ):
        backward(np.zeros((2, 3, 6, 6)), cache)
    with pytest.raises(ValueError, match=r"dout must be \(N, C, H_out, W_out\)"):
        backward(np.zeros((3, 3, 3)), cache)


def test_backward_rejects_foreign_cache():
    """Passing the other layer's cache is caught, not silently misread."""
    _, max_cache = maxpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=2)
    _, avg_cache = avgpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=2)
    assert isinstance(max_cache, MaxPoolCache) and isinstance(avg_cache, AvgPoolCache)
    with pytest.raises(ValueError, match="MaxPoolCache returned by maxpool2d_forward"):
        maxpool2d_backward(np.zeros((1, 1, 2, 2)), avg_cache)
    with pytest.raises(ValueError, match="AvgPoolCache returned by avgpool2d_forward"):
        avgpool2d_backward(np.zeros((1, 1, 2, 2)), max_cache)


# --------------------------------------------------------------------------- loop oracles


def _naive(name):
    """A loop oracle from solutions.naive (written separately); skip while it is missing."""
    naive = pytest.importorskip("solutions.naive")
    if not hasattr(naive, name):
        pytest.skip(f"solutions.naive has no {name} yet")
    return getattr(naive, name)


@pytest.mark.parametrize("mode", ["max", "avg"])
@given(case=pool_cases())
def test_layers_match_loop_oracles(mode, case):
    """Vectorised layers agree with the loop versions in solutions.naive (ties included)."""
    forward_naive = _naive(f"{mode}pool2d_forward_naive")
    backward_naive = _naive(f"{mode}pool2d_backward_naive")
    shape, kernel, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, shape).astype(np.float64)  # ties: the oracles must agree on them too
    out, cache = LAYERS[mode][0](x, kernel_size=kernel, stride=stride, padding=padding)
    dout = rng.integers(1, 10, out.shape).astype(np.float64)
    dx = LAYERS[mode][1](dout, cache)
    kw = {"kernel_size": kernel, "stride": stride, "padding": padding}
    naive_out = forward_naive(x, **kw)
    naive_out = naive_out[0] if isinstance(naive_out, tuple) else naive_out
    np.testing.assert_allclose(out, naive_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, backward_naive(dout, x, **kw), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "avg"])
@given(
    C=st.integers(1, 3),
    H=st.integers(2, 9),
    W=st.integers(2, 9),
    size=st.integers(1, 2),
    stride=st.sampled_from([None, 1, 2, (1, 2)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_pool2d_matches_loop_oracle(mode, C, H, W, size, stride, seed):
    """pool2d on (H, W), and on (C, H, W) channel by channel, agrees with pool2d_naive."""
    pool2d_naive = _naive("pool2d_naive")  # the loop oracle pools one (H, W) plane
    X = np.random.default_rng(seed).integers(-5, 5, (C, H, W)).astype(np.float64)
    padding = size // 2
    Y = pool2d(X, size, stride=stride, padding=padding, mode=mode)
    for c in range(C):
        expected = pool2d_naive(X[c], size, stride=stride, padding=padding, mode=mode)
        np.testing.assert_allclose(Y[c], expected, rtol=1e-12)
        np.testing.assert_allclose(
            pool2d(X[c], size, stride=stride, padding=padding, mode=mode), expected, rtol=1e-12
        )
