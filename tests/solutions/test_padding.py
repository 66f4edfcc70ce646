"""Tests for solutions.padding: output sizes (both conventions), same padding, pad2d."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from solutions.padding import output_size, output_size_total, pad2d, same_padding


def torch_out_len(n: int, k: int, p: int, s: int, d: int) -> int:
    x = torch.zeros(1, 1, n, 1)
    w = torch.zeros(1, 1, k, 1)
    return F.conv2d(x, w, padding=(p, 0), stride=(s, 1), dilation=(d, 1)).shape[2]


def test_output_size_agrees_with_torch_on_a_grid():
    """output_size == the length torch's conv2d produces, for every fitting combination."""
    checked = 0
    for n, k, p, s, d in itertools.product(range(1, 9), range(1, 5), range(3), range(1, 4), (1, 2)):
        if d * (k - 1) + 1 > n + 2 * p:
            with pytest.raises(ValueError, match="does not fit"):
                output_size(n, k, padding=p, stride=s, dilation=d)
            continue
        assert output_size(n, k, padding=p, stride=s, dilation=d) == torch_out_len(n, k, p, s, d)
        checked += 1
    assert checked == 495  # every fitting combination of the grid


def test_output_size_lecture_examples():
    """Lecture numbers: Q2, LeNet/CIFAR 32 -> 28, 'same' 32 -> 32, AlexNet 227 -> 55."""
    assert output_size(7, 3, stride=2) == 3  # lecture 000 Q2
    assert output_size(32, 5) == 28  # lecture 001: 32x32x3, 5x5 filters
    assert output_size(32, 5, padding=2) == 32  # lecture 003
    assert output_size(227, 11, stride=4) == 55  # lecture 003, AlexNet CONV1
    # 7x7, k3, stride 3: (7 - 3) // 3 + 1 = 2; the last column is never read.
    assert output_size(7, 3, stride=3) == 2


def test_output_size_asymmetric_padding_pair():
    """A (before, after) pair counts before + after rows."""
    assert output_size(4, 2, padding=same_padding(2)) == 4
    assert output_size(5, 4, padding=(2, 1)) == 5
    assert output_size(5, 3, padding=(0, 2), stride=2) == output_size_total(
        5, 3, total_padding=2, stride=2
    )


def test_output_size_total_matches_per_side():
    """floor((n - k + p + s)/s) with p = 2*p_side equals the per-side formula."""
    for n, k, p_side, s in itertools.product(range(1, 10), range(1, 6), range(3), range(1, 4)):
        if k > n + 2 * p_side:
            continue
        total = output_size_total(n, k, total_padding=2 * p_side, stride=s)
        assert total == output_size(n, k, padding=p_side, stride=s)
        assert total == (n - k + 2 * p_side + s) // s


def test_output_size_total_odd_padding_equals_any_split():
    for n, k, p, s in itertools.product(range(1, 8), range(1, 5), (1, 3), range(1, 4)):
        if k > n + p:
            continue
        expected = output_size_total(n, k, total_padding=p, stride=s)
        assert expected == output_size(n, k, padding=(p - p // 2, p // 2), stride=s)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 3, "k": 4}, "does not fit"),
        ({"n": 3, "k": 2, "dilation": 3}, "spanning 4 pixels"),
        ({"n": 5, "k": 3, "stride": 0}, "stride must be >= 1"),
        ({"n": 5, "k": 3, "dilation": 0}, "dilation must be >= 1"),
        ({"n": 5, "k": 0}, r"k \(kernel size\) must be >= 1"),
        ({"n": 0, "k": 1}, r"n \(input size\) must be >= 1"),
        ({"n": 5, "k": 3, "padding": -1}, "padding must be >= 0"),
        ({"n": 5, "k": 3, "padding": (1, -1)}, "padding after must be >= 0"),
        ({"n": 5, "k": 3, "padding": (1, 2, 3)}, r"\(before, after\) pair"),
        ({"n": 5.0, "k": 3}, "must be an int"),
        ({"n": 5, "k": 3, "stride": 1.5}, "stride must be an int"),
    ],
)
def test_output_size_errors(kwargs, match):
    n, k = kwargs.pop("n"), kwargs.pop("k")
    with pytest.raises(ValueError, match=match):
        output_size(n, k, **kwargs)


def test_output_size_total_errors():
    with pytest.raises(ValueError, match="total padding 1"):
        output_size_total(3, 5, total_padding=1)
    with pytest.raises(ValueError, match="total_padding must be >= 0"):
        output_size_total(3, 2, total_padding=-2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        output_size_total(3, 2, stride=0)


def test_same_padding_odd_and_even():
    """Odd kernels pad symmetrically; even ones put the extra row on top (lecture 000)."""
    assert same_padding(1) == (0, 0)
    assert same_padding(2) == (1, 0)
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (2, 1)
    assert same_padding(5) == (2, 2)
    assert same_padding(3, dilation=2) == (2, 2)
    assert same_padding(2, dilation=3) == (2, 1)
    for k in range(1, 9):
        assert output_size(10, k, padding=same_padding(k)) == 10


def test_same_padding_errors():
    with pytest.raises(ValueError, match=r"k \(kernel size\) must be >= 1"):
        same_padding(0)
    with pytest.raises(ValueError, match="dilation must be >= 1"):
        same_padding(3, dilation=0)


def test_pad2d_int_pads_every_side():
    X = np.arange(6).reshape(2, 3)
    Y = pad2d(X, 1)
    assert Y.shape == (4, 5)
    assert Y.dtype == np.float64  # ints become float64
    np.testing.assert_array_equal(Y[1:3, 1:4], X)
    assert Y.sum() == X.sum()


def test_pad2d_pair_is_per_side_along_h_and_w():
    X = np.ones((2, 3, 4), dtype=np.float32)
    Y = pad2d(X, (1, 2))
    assert Y.shape == (2, 5, 8)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y[:, 1:4, 2:6], X)
    assert Y.sum() == X.sum()


def test_pad2d_per_side_matches_torch_pad():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3, 4, 5))
    Y = pad2d(X, ((1, 0), (2, 3)))
    expected = F.pad(torch.from_numpy(X), (2, 3, 1, 0)).numpy()  # torch: (left, right, top, bottom)
    np.testing.assert_array_equal(Y, expected)


def test_pad2d_value_and_leading_axes_untouched():
    X = np.zeros((1, 2, 2, 2))
    Y = pad2d(X, ((0, 1), (1, 0)), value=-np.inf)
    assert Y.shape == (1, 2, 3, 3)
    assert np.isneginf(Y[..., 2, :]).all()
    assert np.isneginf(Y[..., :, 0]).all()
    np.testing.assert_array_equal(Y[..., :2, 1:], X)


def test_pad2d_zero_padding_is_a_copy():
    X = np.arange(4.0).reshape(2, 2)
    Y = pad2d(X, 0)
    np.testing.assert_array_equal(Y, X)
    assert not np.shares_memory(X, Y)


@pytest.mark.parametrize(
    ("X", "padding", "match"),
    [
        (np.zeros(3), 1, r"X must be \(H, W\) or \(\.\.\., H, W\)"),
        (np.zeros((2, 2)), -1, "padding must be >= 0"),
        (np.zeros((2, 2)), (1, 2, 3), "padding must be an int, a pair"),
        (np.zeros((2, 2)), "same", "padding must be an int, a pair"),
    ],
)
def test_pad2d_errors(X, padding, match):
    with pytest.raises(ValueError, match=match):
        pad2d(X, padding)
