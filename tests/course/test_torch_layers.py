"""course.torch_layers: the torch-backed "known good" layers of assignment 6.

They must agree with the reference numpy layers (`solutions`) in float64, forward and
backward; keep numpy in and numpy out with the course's dtype rule; and fail with a
sentence, not a torch traceback. The Layers bundle and `layers_from` are tested too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import solutions
from course import torch_layers as tl
from course.checks import lenet as lenet_checks
from course.torch_layers import LAYER_NAMES, LAYERS, Layers, layers_from

REFERENCE = layers_from(vars(solutions), origin="reference")


def _close(a, b, tol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------
# Agreement with the reference layers, float64
# ---------------------------------------------------------------------------------------

CONV_SETTINGS = [
    ((2, 1, 28, 28), (6, 1, 5, 5), {"padding": 2}),  # LeNet's conv1
    ((3, 6, 14, 14), (16, 6, 5, 5), {}),  # LeNet's conv2
    ((1, 3, 7, 9), (4, 3, 3, 2), {"stride": 2, "padding": 1}),  # non-square, stride 2, N = 1
    ((2, 2, 8, 6), (3, 2, 3, 3), {"stride": (2, 1), "padding": (0, 2)}),
    ((2, 1, 5, 5), (2, 1, 2, 2), {"padding": ((1, 0), (1, 0))}),  # lecture 000's "same"
    ((1, 1, 7, 7), (1, 1, 3, 3), {"stride": 3}),  # a stride that does not fit
]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CONV_SETTINGS)
def test_conv2d_agrees_with_reference(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out, cache = LAYERS.conv2d_forward(x, w, b, **kwargs)
    ref_out, ref_cache = REFERENCE.conv2d_forward(x, w, b, **kwargs)
    _close(out, ref_out)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        LAYERS.conv2d_backward(dout, cache),
        REFERENCE.conv2d_backward(dout, ref_cache),
        strict=True,
    ):
        _close(got, want)


def test_conv2d_without_bias_returns_db_none():
    rng = np.random.default_rng(2)
    out, cache = LAYERS.conv2d_forward(
        rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), None
    )
    dx, dw, db = LAYERS.conv2d_backward(np.ones_like(out), cache)
    assert db is None and dx.shape == (1, 2, 5, 5) and dw.shape == (3, 2, 3, 3)


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 3),
    C_in=st.integers(1, 3),
    C_out=st.integers(1, 3),
    H=st.integers(3, 9),
    W=st.integers(3, 9),
    K=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    seed=st.integers(0, 1000),
)
def test_conv2d_agrees_on_random_shapes(N, C_in, C_out, H, W, K, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_out, C_in, K, K))
    b = rng.standard_normal(C_out)
    out, cache = LAYERS.conv2d_forward(x, w, b, stride=stride, padding=padding)
    ref_out, ref_cache = REFERENCE.conv2d_forward(x, w, b, stride=stride, padding=padding)
    _close(out, ref_out)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        LAYERS.conv2d_backward(dout, cache),
        REFERENCE.conv2d_backward(dout, ref_cache),
        strict=True,
    ):
        _close(got, want)


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((2, 6, 28, 28), {"kernel_size": 2, "stride": 2}),
        ((1, 3, 7, 5), {"kernel_size": 3, "stride": 1}),  # overlapping windows
        ((2, 2, 9, 8), {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1}),
        ((1, 1, 6, 6), {"kernel_size": 2}),  # stride defaults to the kernel size
    ],
)
def test_maxpool2d_agrees_with_reference(shape, kwargs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    out, cache = LAYERS.maxpool2d_forward(x, **kwargs)
    ref_out, ref_cache = REFERENCE.maxpool2d_forward(x, **kwargs)
    _close(out, ref_out)
    dout = rng.standard_normal(out.shape)
    _close(LAYERS.maxpool2d_backward(dout, cache), REFERENCE.maxpool2d_backward(dout, ref_cache))


def test_maxpool2d_ties_go_to_the_first_maximum_like_the_reference():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, :2, :2] = 5.0  # a four-way tie in the first window
    x[0, 0, 2, 3] = x[0, 0, 3, 2] = 1.0  # a two-way tie in the last one
    _, cache = LAYERS.maxpool2d_forward(x, kernel_size=2, stride=2)
    _, ref_cache = REFERENCE.maxpool2d_forward(x, kernel_size=2, stride=2)
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    _close(LAYERS.maxpool2d_backward(dout, cache), REFERENCE.maxpool2d_backward(dout, ref_cache))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (7, 13), (1, 1)])
def test_relu_agrees_with_reference_including_zeros(shape):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # the derivative at 0 is 0, in both
    out, cache = LAYERS.relu_forward(x)
    ref_out, ref_cache = REFERENCE.relu_forward(x)
    _close(out, ref_out)
    dout = rng.standard_normal(shape)
    _close(LAYERS.relu_backward(dout, cache), REFERENCE.relu_backward(dout, ref_cache))


def test_flatten_is_nchw_order_and_reverses_on_the_way_back():
    x = np.arange(2 * 16 * 5 * 5, dtype=float).reshape(2, 16, 5, 5)
    out, cache = LAYERS.flatten_forward(x)
    ref_out, ref_cache = REFERENCE.flatten_forward(x)
    _close(out, ref_out)
    assert out.shape == (2, 400) and out[0, 25] == x[0, 1, 0, 0]
    dout = np.random.default_rng(5).standard_normal(out.shape)
    _close(LAYERS.flatten_backward(dout, cache), REFERENCE.flatten_backward(dout, ref_cache))


@pytest.mark.parametrize(("N", "n_in", "n_out"), [(4, 400, 120), (1, 3, 2), (5, 84, 10)])
def test_linear_agrees_with_reference(N, n_in, n_out):
    rng = np.random.default_rng(6)
    x, w, b = (
        rng.standard_normal((N, n_in)),
        rng.standard_normal((n_out, n_in)),
        rng.standard_normal(n_out),
    )
    out, cache = LAYERS.linear_forward(x, w, b)
    ref_out, ref_cache = REFERENCE.linear_forward(x, w, b)
    _close(out, ref_out)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(
        LAYERS.linear_backward(dout, cache), REFERENCE.linear_backward(dout, ref_cache), strict=True
    ):
        _close(got, want)


@pytest.mark.parametrize(("N", "C", "scale"), [(1, 3, 1.0), (6, 10, 3.0), (4, 10, 500.0)])
def test_softmax_cross_entropy_agrees_with_reference(N, C, scale):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((N, C)) * scale
    y = rng.integers(0, C, size=N)
    loss, dlogits = LAYERS.softmax_cross_entropy(logits, y)
    ref_loss, ref_dlogits = REFERENCE.softmax_cross_entropy(logits, y)
    _close(loss, ref_loss)
    _close(dlogits, ref_dlogits)
    assert np.isfinite(loss)


# ---------------------------------------------------------------------------------------
# numpy in, numpy out, and the dtype rule
# ---------------------------------------------------------------------------------------


def _all_calls(dtype):
    rng = np.random.default_rng(8)

    def a(*shape):
        return rng.standard_normal(shape).astype(dtype)

    return [
        ("conv2d", (a(2, 1, 6, 6), a(3, 1, 3, 3), a(3)), {"padding": 1}),
        ("relu", (a(2, 3),), {}),
        ("maxpool2d", (a(1, 2, 4, 4),), {"kernel_size": 2, "stride": 2}),
        ("flatten", (a(2, 3, 2, 2),), {}),
        ("linear", (a(2, 4), a(3, 4), a(3)), {}),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_in_numpy_out_same_dtype(dtype):
    for family, args, kwargs in _all_calls(dtype):
        out, cache = getattr(LAYERS, f"{family}_forward")(*args, **kwargs)
        assert isinstance(out, np.ndarray) and out.dtype == dtype, family
        grads = getattr(LAYERS, f"{family}_backward")(np.ones_like(out), cache)
        for g in grads if isinstance(grads, tuple) else (grads,):
            assert isinstance(g, np.ndarray) and g.dtype == dtype, family
    loss, dlogits = LAYERS.softmax_cross_entropy(np.zeros((2, 3), dtype), np.array([0, 2]))
    assert np.asarray(loss).dtype == dtype and dlogits.dtype == dtype


def test_mixed_and_integer_inputs_become_float64():
    out, _ = LAYERS.linear_forward(
        np.ones((2, 3), np.float32), np.ones((4, 3), np.float64), np.zeros(4, np.float32)
    )
    assert out.dtype == np.float64
    out, _ = LAYERS.relu_forward(np.arange(-2, 3))
    assert out.dtype == np.float64 and out.tolist() == [0, 0, 0, 1, 2]


def test_editing_arrays_after_the_forward_pass_does_not_change_the_gradients():
    """The layers copy what they save: a student who edits x or out in place afterwards
    (out[out < 0] = 0, x += 1) still gets the right gradients."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 5))
    out, cache = LAYERS.relu_forward(x)
    expected = LAYERS.relu_backward(np.ones_like(out), cache)
    x -= 10.0
    out += 10.0
    _close(LAYERS.relu_backward(np.ones_like(out), cache), expected)


def test_a_cache_can_be_used_twice():
    rng = np.random.default_rng(10)
    out, cache = LAYERS.conv2d_forward(
        rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((2, 1, 3, 3)), np.zeros(2)
    )
    dout = rng.standard_normal(out.shape)
    first, second = LAYERS.conv2d_backward(dout, cache), LAYERS.conv2d_backward(dout, cache)
    for a, b in zip(first, second, strict=True):
        _close(a, b, tol=0)


def test_thread_counts_are_restored():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before, blas_before = torch.get_num_threads(), blas_threads()
    LAYERS.relu_forward(np.ones(3))
    assert torch.get_num_threads() == before
    with tl.one_thread():
        assert torch.get_num_threads() == 1
        assert all(n == 1 for n in blas_threads())
    assert torch.get_num_threads() == before and blas_threads() == blas_before


def test_set_threads_sets_both_and_refuses_zero():
    before = torch.get_num_threads()
    try:
        tl.set_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        tl.set_threads(before)
    with pytest.raises(ValueError, match="n must be"):
        tl.set_threads(0)


# ---------------------------------------------------------------------------------------
# Errors say what was expected
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (
            lambda: LAYERS.conv2d_forward(np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3)), None),
            "C_in=3",
        ),
        (lambda: LAYERS.conv2d_forward(np.ones((3, 5, 5)), np.ones((2, 3, 3, 3)), None), "4-D"),
        (
            lambda: LAYERS.conv2d_forward(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)),
            "(C_out,)",
        ),
        (
            lambda: LAYERS.conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), None),
            "larger",
        ),
        (lambda: LAYERS.linear_forward(np.ones((2, 400)), np.ones((400, 120)), None), "transposed"),
        (
            lambda: LAYERS.linear_forward(np.ones((2, 16, 5, 5)), np.ones((120, 400)), None),
            "flatten",
        ),
        (lambda: LAYERS.softmax_cross_entropy(np.ones((2, 3)), np.array([0.0, 1.0])), "integer"),
        (lambda: LAYERS.softmax_cross_entropy(np.ones((2, 3)), np.array([0, 3])), "[0, 3)"),
        (lambda: LAYERS.softmax_cross_entropy(np.ones((2, 3)), np.array([0])), "(N,)"),
    ],
)
def test_bad_calls_raise_a_sentence(call, words):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert words in str(info.value)


def test_backward_checks_dout_and_cache():
    _, cache = LAYERS.relu_forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape of the forward output \(2, 3\)"):
        LAYERS.relu_backward(np.ones((3, 2)), cache)
    with pytest.raises(ValueError, match="same layers"):
        LAYERS.relu_backward(np.ones((2, 3)), ("not", "a torch cache"))


# ---------------------------------------------------------------------------------------
# Layers and layers_from
# ---------------------------------------------------------------------------------------


def test_layers_has_all_names_and_origins():
    assert set(LAYERS.functions()) == set(LAYER_NAMES)
    assert set(LAYERS.origin.values()) == {"torch"}
    assert "conv2d" in LAYERS.describe() and repr(LAYERS) == "Layers(torch)"


def test_layers_from_a_namespace_with_fallback():
    def conv2d_forward(x, w, b, *, stride=1, padding=0):
        return solutions.conv2d_forward(x, w, b, stride=stride, padding=padding)

    namespace = {"conv2d_forward": conv2d_forward, "relu_forward": 3, "unrelated": print}
    mixed = layers_from(namespace, fallback=LAYERS)
    assert mixed.conv2d_forward is conv2d_forward
    assert mixed.relu_forward is LAYERS.relu_forward  # not callable in the namespace: skipped
    assert mixed.origin["conv2d_forward"] == "yours" and mixed.origin["relu_forward"] == "torch"


def test_keyword_functions_override_the_namespace():
    def mine(x):
        return x, None

    bundle = layers_from(vars(solutions), relu_forward=mine, origin="reference")
    assert bundle.relu_forward is mine and bundle.conv2d_forward is solutions.conv2d_forward


def test_missing_and_unknown_names_are_errors():
    with pytest.raises(ValueError, match="no function for"):
        layers_from({"relu_forward": lambda x: (x, x)})
    with pytest.raises(ValueError, match="unknown layer names"):
        layers_from(vars(solutions), conv_forward=print)
    with pytest.raises(TypeError, match="must be a function"):
        Layers(**{**LAYERS.functions(), "relu_forward": 3})


# ---------------------------------------------------------------------------------------
# Lecture 002's module
# ---------------------------------------------------------------------------------------


def test_torch_lenet5_names_shapes_and_logits_match_the_reference():
    model = tl.TorchLeNet5(torch.float64)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == lenet_checks.PARAM_SHAPES
    assert sum(p.numel() for p in model.parameters()) == 61_706
    ref = solutions.LeNet(seed=3, dtype=np.float64)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in ref.params.items()})
    x = np.random.default_rng(11).standard_normal((3, 1, 28, 28))
    with torch.no_grad():
        _close(model(torch.from_numpy(x)).numpy(), ref.forward(x))
