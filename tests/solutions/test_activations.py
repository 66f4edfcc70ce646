"""Tests for solutions.activations against torch float64 autograd."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from solutions.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)

LAYERS = {
    "relu": (relu_forward, relu_backward, torch.relu),
    "sigmoid": (sigmoid_forward, sigmoid_backward, torch.sigmoid),
    "tanh": (tanh_forward, tanh_backward, torch.tanh),
}

# Any shape from a scalar to a small NCHW batch; values include exact 0 (ReLU's kink) and
# large magnitudes where sigmoid/tanh saturate.
arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5),
    elements=st.one_of(
        st.floats(-50, 50, allow_nan=False), st.sampled_from([0.0, -0.0, 800.0, -800.0])
    ),
)


def torch_layer(name, x, dout):
    tx = torch.tensor(x, requires_grad=True)
    out = LAYERS[name][2](tx)
    (dx,) = torch.autograd.grad(out, tx, torch.tensor(dout))
    return out.detach().numpy(), dx.numpy()


@pytest.mark.parametrize("name", list(LAYERS))
@given(x=arrays, seed=st.integers(0, 2**32 - 1))
def test_matches_torch(name, x, seed):
    """Values and gradients agree with torch in float64 on any shape, kinks included."""
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    forward, backward, _ = LAYERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # saturated inputs must not warn either
        out, cache = forward(x)
        dx = backward(dout, cache)
    t_out, t_dx = torch_layer(name, x, dout)
    assert out.shape == x.shape and dx.shape == x.shape
    np.testing.assert_allclose(out, t_out, rtol=1e-14, atol=1e-300)
    # f'(x) = 1 - t**2 or s * (1 - s) cancels where the curve saturates: both libraries
    # lose the same absolute ~1e-16 there, so compare with an absolute floor.
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12, atol=1e-14 * np.abs(dout).max(initial=0))


def test_relu_gradient_is_zero_at_zero():
    """At the kink x == 0 the gradient is 0, as torch defines it."""
    x = np.array([-1.0, 0.0, -0.0, 2.0])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [0, 0, 0, 2])
    np.testing.assert_array_equal(relu_backward(np.ones(4), cache), [0, 0, 0, 1])
    np.testing.assert_array_equal(torch_layer("relu", x, np.ones(4))[1], [0, 0, 0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_for_huge_inputs(dtype):
    """sigmoid(+-1000) is exactly 1 and 0, with no overflow warning and a 0 gradient."""
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, cache = sigmoid_forward(x)
        dx = sigmoid_backward(np.ones_like(x), cache)
    assert out.dtype == dtype and dx.dtype == dtype
    assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == 0.5
    assert np.all(np.isfinite(dx)) and dx[0] == 0.0 and dx[-1] == 0.0
    np.testing.assert_allclose(out, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_saturates_without_warnings(dtype):
    """tanh(+-1000) = +-1 with a zero gradient and no warning."""
    x = np.array([-1000.0, 0.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("error")
        out, cache = tanh_forward(x)
        dx = tanh_backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(out, [-1, 0, 1])
    np.testing.assert_array_equal(dx, [0, 1, 0])


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_dtype_preserved(name, dtype, expected):
    """float32 in -> float32 out and gradient; ints become float64."""
    x = np.array([[-2, -1, 0, 1, 2]], dtype=dtype)
    forward, backward, _ = LAYERS[name]
    out, cache = forward(x)
    dx = backward(np.ones(x.shape), cache)
    assert out.dtype == expected and dx.dtype == expected


def test_lists_are_accepted():
    """Plain nested lists work (as in a notebook cell)."""
    out, _ = relu_forward([[-1, 2], [3, -4]])
    np.testing.assert_array_equal(out, [[0, 2], [3, 0]])


@pytest.mark.parametrize("name", list(LAYERS))
def test_backward_rejects_mismatched_dout(name):
    """dout must have the shape of x."""
    forward, backward, _ = LAYERS[name]
    _, cache = forward(np.zeros((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"dout must have the shape of the forward input/output \(2, 3\); got \(3, 2\)",
    ):
        backward(np.zeros((3, 2)), cache)
    with pytest.raises(ValueError, match="cache must be the array returned by the forward pass"):
        backward(np.zeros((2, 3)), None)
