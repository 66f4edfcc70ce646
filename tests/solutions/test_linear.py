"""Tests for solutions.linear against torch float64 (F.linear, torch.flatten, autograd)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from solutions.linear import flatten_backward, flatten_forward, linear_backward, linear_forward


@given(
    N=st.integers(1, 5),
    in_features=st.integers(1, 6),
    out_features=st.integers(1, 6),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_linear_matches_torch(N, in_features, out_features, bias, seed):
    """out = x @ w.T + b and its three gradients agree with torch's autograd."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, in_features))
    w = rng.standard_normal((out_features, in_features))
    b = rng.standard_normal(out_features) if bias else None
    dout = rng.standard_normal((N, out_features))
    out, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(dout, cache)

    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    tb = torch.tensor(b, requires_grad=True) if bias else None
    t_out = F.linear(tx, tw, tb)
    inputs = (tx, tw, tb) if bias else (tx, tw)
    grads = torch.autograd.grad(t_out, inputs, torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, grads[0].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, grads[1].numpy(), rtol=1e-12, atol=1e-12)
    if bias:
        np.testing.assert_allclose(db, grads[2].numpy(), rtol=1e-12, atol=1e-12)
    else:
        assert db is None
    assert dx.shape == x.shape and dw.shape == w.shape


def test_linear_small_example_by_hand():
    """A 1x2 input through a 3x2 weight: every number checkable by hand."""
    out, cache = linear_forward(
        [[1.0, 2.0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.5, 0.0, -3.0]
    )
    np.testing.assert_array_equal(out, [[1.5, 2.0, 0.0]])
    dx, dw, db = linear_backward([[1.0, 1.0, 1.0]], cache)
    np.testing.assert_array_equal(dx, [[2.0, 2.0]])
    np.testing.assert_array_equal(dw, [[1.0, 2.0]] * 3)
    np.testing.assert_array_equal(db, [1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ((np.float32,) * 3, np.float32),
        ((np.float32, np.float64, np.float32), np.float64),
        ((np.int64,) * 3, np.float64),
    ],
)
def test_linear_dtypes(dtypes, expected, rng):
    """float32 only when every input is float32; ints become float64."""
    x = (rng.standard_normal((2, 3)) * 5).astype(dtypes[0])
    w = (rng.standard_normal((4, 3)) * 5).astype(dtypes[1])
    b = (rng.standard_normal(4) * 5).astype(dtypes[2])
    out, cache = linear_forward(x, w, b)
    grads = linear_backward(np.ones((2, 4)), cache)
    assert out.dtype == expected
    assert all(g.dtype == expected for g in grads)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: linear_forward(np.zeros((2, 3, 4)), np.zeros((5, 12))),
            r"x must be \(N, in_features\); flatten .* got an array of shape \(2, 3, 4\)",
        ),
        (
            lambda: linear_forward(np.zeros((2, 3)), np.zeros(3)),
            r"w must be \(out_features, in_features\)",
        ),
        (
            lambda: linear_forward(np.zeros((2, 3)), np.zeros((5, 4))),
            r"x has in_features=3 but w expects 4; "
            r"w must be \(out_features, in_features\) = \(5, 3\)",
        ),
        (
            lambda: linear_forward(np.zeros((2, 3)), np.zeros((5, 3)), np.zeros(4)),
            r"b must have shape \(out_features,\) = \(5,\); got \(4,\)",
        ),
        (
            lambda: linear_forward(np.zeros((2, 3)), np.zeros((5, 3)), np.zeros((1, 5))),
            r"b must be \(out_features,\)",
        ),
    ],
)
def test_linear_bad_shapes(call, match):
    """Shape errors name the expected layout and what came."""
    with pytest.raises(ValueError, match=match):
        call()


def test_linear_backward_rejects_mismatched_dout():
    """dout must be (N, out_features)."""
    _, cache = linear_forward(np.zeros((2, 3)), np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(
        ValueError,
        match=r"dout must have the shape of the forward output "
        r"\(N, out_features\) = \(2, 5\); got \(5, 2\)",
    ):
        linear_backward(np.zeros((5, 2)), cache)
    with pytest.raises(ValueError, match="cache must be the"):
        linear_backward(np.zeros((2, 5)), None)


@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_flatten_matches_torch(shape, seed):
    """flatten(x, 1) and its gradient: same order as torch (C-order)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    out, cache = flatten_forward(x)
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch.flatten(tx, 1)
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    dout = rng.standard_normal(out.shape)
    (t_dx,) = torch.autograd.grad(t_out, tx, torch.tensor(dout))
    np.testing.assert_array_equal(flatten_backward(dout, cache), t_dx.numpy())


def test_flatten_lenet_shape_and_dtype():
    """LeNet's (N, 16, 5, 5) maps become (N, 400) vectors; float32 stays float32."""
    x = np.zeros((3, 16, 5, 5), dtype=np.float32)
    out, cache = flatten_forward(x)
    assert out.shape == (3, 400) and out.dtype == np.float32
    assert flatten_backward(out, cache).shape == (3, 16, 5, 5)


def test_flatten_errors():
    """flatten needs a batch axis plus features; backward checks dout's shape."""
    with pytest.raises(
        ValueError,
        match=r"x must be \(N, \.\.\.\) with at least 2 dimensions; got an array of shape \(4,\)",
    ):
        flatten_forward(np.zeros(4))
    _, cache = flatten_forward(np.zeros((2, 3, 4)))
    with pytest.raises(
        ValueError,
        match=r"dout must have the shape of the flattened output "
        r"\(N, D\) = \(2, 12\); got \(2, 11\)",
    ):
        flatten_backward(np.zeros((2, 11)), cache)
