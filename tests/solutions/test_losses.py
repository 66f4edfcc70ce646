"""Tests for solutions.losses against torch float64 (F.cross_entropy, autograd)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from solutions.losses import log_softmax, softmax, softmax_cross_entropy


@st.composite
def batches(draw):
    N, C = draw(st.integers(1, 6)), draw(st.integers(1, 7))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0, 1e4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((N, C)) * scale, rng.integers(0, C, N)


@given(batch=batches())
def test_cross_entropy_matches_torch(batch):
    """Loss = F.cross_entropy (mean over the batch); dlogits = torch's autograd gradient."""
    logits, y = batch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dlogits = softmax_cross_entropy(logits, y)
    t_logits = torch.tensor(logits, requires_grad=True)
    t_loss = F.cross_entropy(t_logits, torch.tensor(y))
    (t_grad,) = torch.autograd.grad(t_loss, t_logits)
    np.testing.assert_allclose(loss, t_loss.item(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dlogits, t_grad.numpy(), rtol=1e-10, atol=1e-15)
    # each row of (softmax - onehot) / N sums to 0
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-15)


@given(batch=batches())
def test_softmax_and_log_softmax_match_torch(batch):
    """Both helpers agree with torch along the last axis, also for huge logits."""
    logits, _ = batch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, logp = softmax(logits), log_softmax(logits)
    t = torch.tensor(logits)
    np.testing.assert_allclose(p, torch.softmax(t, -1).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(logp, torch.log_softmax(t, -1).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


def test_huge_logits_are_stable():
    """Logits of 1e4 (exp would overflow): finite loss, exact values, no warning."""
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    y = np.array([0, 2])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss, dlogits = softmax_cross_entropy(logits, y)
        p = softmax(logits)
    # example 0 is certain and right (loss 0); example 1 splits between classes 1 and 2
    np.testing.assert_allclose(loss, np.log(2) / 2, rtol=1e-15)
    np.testing.assert_allclose(p, [[1, 0, 0], [0, 0.5, 0.5]], atol=1e-300)
    np.testing.assert_allclose(dlogits, [[0, 0, 0], [0, 0.25, -0.25]], atol=1e-300)
    t = F.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    np.testing.assert_allclose(loss, t, rtol=1e-15)


def test_uniform_logits_give_log_c():
    """All-equal logits: loss log(C) whatever the labels (a good sanity check at init)."""
    loss, _ = softmax_cross_entropy(np.zeros((4, 10)), [0, 3, 9, 1])
    np.testing.assert_allclose(loss, np.log(10), rtol=1e-15)


def test_perfect_fit_reports_plus_zero():
    """A loss of exactly zero prints as 0.0, not -0.0."""
    loss, _ = softmax_cross_entropy([[1e4, 0.0]], [0])
    assert loss == 0.0 and np.copysign(1.0, loss) == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype, rng):
    """float32 logits give a float32 loss and gradient."""
    logits = rng.standard_normal((3, 4)).astype(dtype)
    loss, dlogits = softmax_cross_entropy(logits, np.array([0, 1, 3]))
    assert np.asarray(loss).dtype == dtype and dlogits.dtype == dtype
    assert softmax(logits).dtype == dtype and log_softmax(logits).dtype == dtype


def test_labels_as_list_and_int32():
    """Labels can be a list or any integer dtype."""
    logits = np.eye(3)
    a, _ = softmax_cross_entropy(logits, [0, 1, 2])
    b, _ = softmax_cross_entropy(logits, np.array([0, 1, 2], dtype=np.int32))
    assert a == b


@pytest.mark.parametrize(
    ("logits", "y", "match"),
    [
        (
            np.zeros((2, 3)),
            [0, 3],
            r"labels must be in \[0, C\) = \[0, 3\) for logits with C=3 classes; got \[3\]",
        ),
        (np.zeros((2, 3)), [-1, 0], r"labels must be in \[0, C\) = \[0, 3\).*got \[-1\]"),
        (
            np.zeros((2, 3)),
            [0.0, 1.0],
            r"y must hold integer class labels in \[0, 3\).*got dtype float64",
        ),
        (np.zeros((2, 3)), [True, False], r"y must hold integer class labels.*got dtype bool"),
        (
            np.zeros((2, 3)),
            [0, 1, 2],
            r"y must have shape \(N,\) = \(2,\), one label per row of logits; got \(3,\)",
        ),
        (np.zeros((2, 3)), [[0], [1]], r"y must have shape \(N,\) = \(2,\)"),
        (np.zeros(3), [0], r"logits must be \(N, C\); got an array of shape \(3,\)"),
        (
            np.zeros((0, 3)),
            np.zeros(0, dtype=int),
            r"logits must be \(N, C\) with N >= 1 and C >= 1",
        ),
    ],
)
def test_bad_labels_and_shapes(logits, y, match):
    """Label and shape errors are ValueErrors naming what was expected and what came."""
    with pytest.raises(ValueError, match=match):
        softmax_cross_entropy(logits, y)


def test_softmax_rejects_empty_class_axis():
    """softmax over zero classes is meaningless."""
    with pytest.raises(ValueError, match="at least one class"):
        softmax(np.zeros((2, 0)))
