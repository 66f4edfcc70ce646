"""Tests for solutions.gradcheck, and gradient checks of every layer in this package."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solutions.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from solutions.gradcheck import (
    grad_check,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)
from solutions.linear import linear_backward, linear_forward
from solutions.losses import softmax_cross_entropy
from solutions.pooling import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

# --------------------------------------------------------------------------- known gradients


@pytest.mark.parametrize(
    ("f", "grad"),
    [
        (lambda x: np.sum(x**2), lambda x: 2 * x),
        (lambda x: np.sum(x**3), lambda x: 3 * x**2),
        (lambda x: np.sum(np.sin(x)), np.cos),
        # a quadratic form with a non-symmetric matrix: gradient (A + A.T) x
        (
            lambda x: x.ravel() @ _A @ x.ravel(),
            lambda x: ((_A + _A.T) @ x.ravel()).reshape(x.shape),
        ),
    ],
    ids=["sum_sq", "sum_cube", "sum_sin", "quadratic_form"],
)
def test_known_gradients(f, grad, rng):
    """Central differences reproduce closed-form gradients to ~1e-9 in float64."""
    x = rng.standard_normal((2, 3))
    numeric = numerical_gradient(f, x)
    assert numeric.shape == x.shape and numeric.dtype == np.float64
    assert rel_error(numeric, grad(x), kind="norm") < 1e-9
    np.testing.assert_allclose(numeric, grad(x), rtol=1e-6, atol=1e-8)


_A = np.random.default_rng(42).standard_normal((6, 6))


def test_scalar_input_and_closure_over_x():
    """A 0-d x works, and f may read x through a closure instead of its argument."""
    x = np.array(3.0)
    np.testing.assert_allclose(numerical_gradient(lambda v: v**2, x), 6.0, rtol=1e-9)
    w = np.array([1.0, -2.0])
    np.testing.assert_allclose(numerical_gradient(lambda _: np.sum(w**2), w), 2 * w, rtol=1e-9)


def test_x_is_restored_exactly(rng):
    """After the check, x holds exactly its old bits (not old + h - h)."""
    x = rng.standard_normal((3, 4)) * 1e3
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    numerical_gradient_array(lambda v: v * 2, x, np.ones_like(x))
    np.testing.assert_array_equal(x, before)


def test_x_is_restored_when_f_raises():
    """An exception inside f does not leave x perturbed."""
    x = np.array([1.0, 2.0])

    def f(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_array_valued_f(rng):
    """For out = A @ x the gradient of sum(out * dout) is A.T @ dout."""
    A = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    dout = rng.standard_normal(4)
    numeric = numerical_gradient_array(lambda v: A @ v, x, dout)
    np.testing.assert_allclose(numeric, A.T @ dout, rtol=1e-8)


def test_f_returning_a_reused_buffer():
    """f may return the same buffer each call: the values are copied before differencing."""
    buffer = np.zeros(2)

    def f(v):
        np.multiply(v, 3.0, out=buffer)
        return buffer

    numeric = numerical_gradient_array(f, np.array([1.0, 2.0]), np.ones(2))
    np.testing.assert_allclose(numeric, [3.0, 3.0], rtol=1e-9)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: numerical_gradient(np.sum, np.ones(3, dtype=np.float32)),
            r"x must be float64 .*got dtype float32",
        ),
        (lambda: numerical_gradient(np.sum, np.ones(3, dtype=np.int64)), r"x must be float64"),
        (lambda: numerical_gradient(np.sum, [1.0, 2.0]), r"x must be a numpy ndarray"),
        (lambda: numerical_gradient(np.sum, np.ones(3), h=0), r"h must be > 0"),
        (
            lambda: numerical_gradient(lambda v: v * 2, np.ones(3)),
            r"f must return a scalar; got an array of shape \(3,\).*numerical_gradient_array",
        ),
        (
            lambda: numerical_gradient_array(lambda v: v * 2, np.ones(3), np.ones(4)),
            r"dout must have the shape of f\(x\) \(3,\); got \(4,\)",
        ),
    ],
)
def test_errors(call, match):
    """Misuse is reported with what is expected (float64, scalar f, matching dout)."""
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- rel_error


def test_rel_error_elementwise_blows_up_on_near_zero_entries():
    """Round-off noise where both gradients are ~0: elementwise says 0.5, norm says 1e-12.

    Here the elementwise form cries wolf: nothing is wrong, both entries are noise.
    """
    a = np.array([1000.0, 1e-9])
    b = np.array([1000.0, 3e-9])
    assert rel_error(a, b) == pytest.approx(0.5)
    assert rel_error(a, b, kind="elementwise") == pytest.approx(0.5)
    assert rel_error(a, b, kind="norm") < 1e-11


def test_rel_error_norm_hides_a_few_wrong_entries_among_big_ones():
    """One entry with the wrong sign among 10,000 large ones: norm 1e-9, elementwise 1.

    Here the norm form misses a real bug that the elementwise form catches.
    """
    a = np.full(10_000, 1000.0)
    a[0] = 1e-4
    b = a.copy()
    b[0] = -1e-4
    assert rel_error(a, b, kind="norm") < 1e-8
    assert rel_error(a, b, kind="elementwise") == pytest.approx(1.0)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 50),
    noise=st.sampled_from([1e-12, 1e-6, 1e-2, 1.0]),
)
def test_rel_error_norm_never_exceeds_elementwise(seed, n, noise):
    """Away from the eps floor, norm <= elementwise: the norm form is the lenient one.

    So no case exists with norm large and elementwise small; the two forms differ only in
    how much they forgive (the two tests above show one false alarm and one missed bug).
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n) + np.sign(rng.standard_normal(n))  # |a| bounded away from 0
    b = a + noise * rng.standard_normal(n)
    assert rel_error(a, b, kind="norm") <= rel_error(a, b, kind="elementwise") * (1 + 1e-12)


def test_rel_error_edge_cases():
    """Equal arrays give 0, zeros give 0 (eps floor), and misuse raises."""
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3), kind="norm") == 0.0
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0
    assert rel_error(1.0, -1.0) == 1.0  # opposite signs: the largest possible value
    assert isinstance(rel_error([1.0], [1.1]), float)
    with pytest.raises(ValueError, match=r"same shape; got \(3,\) and \(1, 3\)"):
        rel_error(np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match="kind must be 'elementwise' or 'norm'; got 'max'"):
        rel_error(np.ones(3), np.ones(3), kind="max")


def test_grad_check_reports_the_wrong_entry(rng):
    """grad_check passes a correct gradient and points at the single wrong entry."""
    x = rng.standard_normal((3, 4))
    good = grad_check(lambda v: np.sum(v**3), x, 3 * x**2)
    assert good.passed and good.rel_error < 1e-6
    bad_grad = 3 * x**2
    bad_grad[2, 1] *= 1.5
    bad = grad_check(lambda v: np.sum(v**3), x, bad_grad)
    assert not bad.passed and bad.worst_index == (2, 1)
    assert bad.numeric.shape == x.shape and bad.max_abs_error > 0
    with pytest.raises(
        ValueError, match=r"analytic must have the shape of x \(3, 4\); got \(4, 3\)"
    ):
        grad_check(np.sum, x, np.zeros((4, 3)))


# --------------------------------------------------------------------------- layers


def _check_layer(forward, backward, x, *, tol=1e-7):
    """Analytic backward vs numerical gradient of sum(forward(x) * dout)."""
    rng = np.random.default_rng(1)
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    analytic = backward(dout, cache)
    report = grad_check(lambda v: forward(v)[0], x, analytic, dout=dout)
    assert report.rel_error < tol, report[:3]


def test_relu_away_from_kinks(rng):
    """ReLU is smooth when no input is within h of 0."""
    x = rng.standard_normal((3, 5))
    x += np.sign(x) * 0.1  # |x| >= 0.1 >> h
    _check_layer(relu_forward, relu_backward, x)


@pytest.mark.parametrize(
    ("forward", "backward"), [(sigmoid_forward, sigmoid_backward), (tanh_forward, tanh_backward)]
)
def test_smooth_activations(forward, backward, rng):
    """sigmoid and tanh: analytic gradient = central differences."""
    # moderate inputs: deep in saturation f' ~ 1e-5 and the elementwise error is noise
    _check_layer(forward, backward, rng.standard_normal((2, 3, 4)) * 1.5)


def test_linear_all_three_gradients(rng):
    """linear: dx, dw and db each agree with central differences."""
    x = rng.standard_normal((4, 5))
    w = rng.standard_normal((3, 5))
    b = rng.standard_normal(3)
    out, cache = linear_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = linear_backward(dout, cache)
    for param, analytic in ((x, dx), (w, dw), (b, db)):
        report = grad_check(lambda _: linear_forward(x, w, b)[0], param, analytic, dout=dout)
        assert report.rel_error < 1e-7


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, 2, 0), (3, 1, 1), ((3, 2), (2, 1), (1, 0))]
)
def test_maxpool_without_ties(kernel, stride, padding, rng):
    """Max pooling on distinct values spaced far more than h apart (no argmax flips)."""
    x = (rng.permutation(2 * 2 * 5 * 6) * 0.1).reshape(2, 2, 5, 6)

    def forward(v):
        return maxpool2d_forward(v, kernel_size=kernel, stride=stride, padding=padding)

    _check_layer(forward, maxpool2d_backward, x)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, 2, 0), (3, 1, 1), ((3, 2), (2, 1), (1, 0))]
)
def test_avgpool(kernel, stride, padding, rng):
    """Average pooling (linear, so the check is exact up to round-off)."""

    def forward(v):
        return avgpool2d_forward(v, kernel_size=kernel, stride=stride, padding=padding)

    _check_layer(forward, avgpool2d_backward, rng.standard_normal((2, 2, 5, 6)))


def test_softmax_cross_entropy(rng):
    """The loss's dlogits = (softmax - onehot) / N agrees with central differences."""
    logits = rng.standard_normal((4, 6)) * 3
    y = np.array([0, 5, 2, 2])
    _, dlogits = softmax_cross_entropy(logits, y)
    report = grad_check(lambda z: softmax_cross_entropy(z, y)[0], logits, dlogits)
    assert report.passed and report.rel_error < 1e-7
