"""The lectures' worked examples, exactly, on the lecture-level functions of solutions.conv.

Every number here is a slide's number (checked: see docs/design.md's table). Where a slide is
wrong (lecture 003 prints 10 where the full convolution has 12) the test holds the right
value and says so.
"""

from __future__ import annotations

import numpy as np
import pytest

from solutions.conv import (
    conv1x1,
    conv2d_forward,
    conv2d_true,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_padded,
)
from solutions.padding import output_size, output_size_total

X9 = np.arange(9).reshape(3, 3)  # lectures 000 and 002
K4 = np.arange(4).reshape(2, 2)


def test_corr2d_lecture_000_002():
    """arange(9) (*) arange(4) = [[19, 25], [37, 43]]; bias 1 adds 1 everywhere."""
    Y = corr2d(X9, K4)
    np.testing.assert_array_equal(Y, [[19, 25], [37, 43]])
    np.testing.assert_array_equal(Y + 1, [[20, 26], [38, 44]])
    assert Y.dtype == np.float64


def test_corr2d_padded_lecture_000():
    """Zero padding 1 on the same X and K gives the 4x4 of lecture 000."""
    Y = corr2d_padded(X9, K4, padding=1)
    expected = [[0, 3, 8, 4], [9, 19, 25, 10], [21, 37, 43, 16], [6, 7, 8, 0]]
    np.testing.assert_array_equal(Y, expected)


def test_corr2d_lecture_000_q1():
    """Q1: K = [[0, 1], [1, -1]] with bias 1 gives [[1, 2], [4, 5]]."""
    Y = corr2d(X9, [[0, 1], [1, -1]]) + 1
    np.testing.assert_array_equal(Y, [[1, 2], [4, 5]])


def test_corr2d_multi_in_lecture_000():
    """Two channels, arange(9) / arange(1, 10) with arange(4) / arange(1, 5): 56 at top left."""
    X = np.stack([X9, X9 + 1])
    K = np.stack([K4, K4 + 1])
    Y = corr2d_multi_in(X, K)
    assert Y[0, 0] == 56
    np.testing.assert_array_equal(Y, [[56, 72], [104, 120]])
    np.testing.assert_array_equal(Y, corr2d(X9, K4) + corr2d(X9 + 1, K4 + 1))


def test_corr2d_multi_in_out_stacks_output_channels():
    """Output channel o is corr2d_multi_in with K[o]; three kernels K, K+1, K+2 as in d2l."""
    X = np.stack([X9, X9 + 1])
    K = np.stack([K4, K4 + 1])
    K3 = np.stack([K, K + 1, K + 2])  # (3, 2, 2, 2)
    Y = corr2d_multi_in_out(X, K3)
    assert Y.shape == (3, 2, 2)
    np.testing.assert_array_equal(Y[0], [[56, 72], [104, 120]])
    for o in range(3):
        np.testing.assert_array_equal(Y[o], corr2d_multi_in(X, K3[o]))


def test_conv1x1_is_one_matrix_product():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 4, 5))
    K = rng.standard_normal((2, 3, 1, 1))
    expected = corr2d_multi_in_out(X, K)
    np.testing.assert_allclose(conv1x1(X, K), expected, atol=1e-12)
    np.testing.assert_allclose(conv1x1(X, K[:, :, 0, 0]), expected, atol=1e-12)
    assert conv1x1(X, K).shape == (2, 4, 5)


LECTURE_003_X = [
    [3, 3, 2, 1, 0],
    [0, 0, 1, 3, 1],
    [3, 1, 2, 2, 3],
    [2, 0, 0, 2, 2],
    [2, 0, 0, 0, 1],
]
LECTURE_003_K = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def test_corr2d_lecture_003_004_5x5():
    Y = corr2d(LECTURE_003_X, LECTURE_003_K)
    np.testing.assert_array_equal(Y, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])


def test_true_convolution_lecture_003():
    """Full true convolution of I and K: top-left 3x3 is [[0,0,1],[0,3,12],[2,6,9]].

    The slide prints 10 at (1, 2); the definition gives 1*2 + 3*2 + 1*2 + 2*1 = 12.
    """
    I = np.array([[0, 1, 3], [1, 2, 2], [0, 0, 0]])
    K = np.array(LECTURE_003_K)
    full = conv2d_true(I, K, mode="full")
    assert full.shape == (5, 5)
    np.testing.assert_array_equal(full[:3, :3], [[0, 0, 1], [0, 3, 12], [2, 6, 9]])
    # By hand at (1, 2): sum of I[a, b] * K[1 - a, 2 - b] where both indices are valid
    # (a <= 1; every b in 0..2 is fine).
    by_hand = sum(I[a, b] * K[1 - a, 2 - b] for a in range(2) for b in range(3))
    assert full[1, 2] == by_hand == 12
    # True convolution = correlation with the kernel flipped on both axes.
    np.testing.assert_array_equal(conv2d_true(I, K, mode="valid"), corr2d(I, K[::-1, ::-1]))
    np.testing.assert_array_equal(conv2d_true(I, K, mode="same"), full[1:4, 1:4])


def test_vertical_edge_lecture_004():
    I = [
        [7, 2, 3, 3, 8],
        [4, 5, 3, 8, 4],
        [3, 3, 2, 8, 4],
        [2, 8, 7, 2, 7],
        [5, 4, 4, 5, 4],
    ]
    K = [[1, 0, -1]] * 3
    np.testing.assert_array_equal(corr2d(I, K), [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]])


# Lecture 004, "Convolution on RGB input": x[:, :, c] of the slides is channel c here.
RGB_X = np.array(
    [
        [[0, 1, 2, 2, 1], [1, 0, 0, 1, 1], [1, 0, 0, 2, 1], [1, 1, 0, 1, 0], [2, 1, 2, 2, 1]],
        [[0, 0, 0, 2, 1], [1, 1, 0, 1, 0], [1, 1, 0, 2, 1], [0, 1, 1, 0, 1], [2, 0, 2, 2, 1]],
        [[2, 2, 2, 0, 2], [0, 0, 1, 0, 0], [2, 2, 1, 2, 2], [0, 1, 0, 0, 2], [1, 0, 0, 2, 0]],
    ]
)
# The second listing of w0 (the first one has w0[:, :, 2][2] = [-1, 1, 1], an extraction slip
# that changes o0 at two places).
RGB_W0 = np.array(
    [
        [[-1, 1, -1], [0, -1, 1], [-1, -1, -1]],
        [[-1, 0, 0], [1, 1, 0], [0, 1, 1]],
        [[-1, 1, 0], [-1, -1, 1], [-1, -1, 1]],
    ]
)
RGB_W1 = np.array(
    [
        [[0, -1, 1], [0, -1, -1], [-1, 0, 0]],
        [[-1, 1, 0], [-1, 0, 0], [-1, 0, -1]],
        [[-1, 1, 0], [1, 0, 0], [1, 1, 0]],
    ]
)
RGB_B = np.array([1, 0])  # b0 = 1, b1 = 0 on the slides


def test_rgb_example_lecture_004():
    """5x5x3 input, two 3x3x3 filters, stride 2, pad 1, biases 1 and 0."""
    w = np.stack([RGB_W0, RGB_W1])
    out, _ = conv2d_forward(RGB_X[None], w, RGB_B, stride=2, padding=1)
    assert out.shape == (1, 2, 3, 3)
    np.testing.assert_array_equal(out[0, 0], [[3, -4, -1], [2, 0, -4], [1, 1, 2]])
    np.testing.assert_array_equal(out[0, 1], [[-2, -3, -5], [-2, -1, -2], [-3, -4, 2]])
    # The same with the lecture-level pieces: pad, stride, sum over channels, add bias.
    for o, (kernel, bias) in enumerate(zip(w, RGB_B, strict=True)):
        per_channel = sum(corr2d_padded(RGB_X[c], kernel[c], padding=1, stride=2) for c in range(3))
        np.testing.assert_array_equal(per_channel + bias, out[0, o])


def test_rgb_example_lecture_004_second_slide():
    """The "Filter W1" slide's own input and filters give its o0 and o1."""
    x = np.array(
        [
            [[0, 0, 1, 0, 2], [1, 0, 2, 0, 1], [1, 0, 2, 2, 0], [2, 0, 0, 2, 0], [2, 1, 2, 2, 0]],
            [[2, 1, 2, 1, 1], [2, 1, 2, 0, 1], [0, 2, 1, 0, 1], [1, 2, 2, 2, 2], [0, 1, 2, 0, 1]],
            [[2, 1, 1, 2, 0], [1, 0, 0, 1, 0], [0, 1, 0, 0, 0], [1, 0, 2, 1, 0], [2, 2, 1, 1, 1]],
        ]
    )
    w0 = [
        [[-1, 0, 1], [0, 0, 1], [1, -1, 1]],
        [[-1, 0, 1], [1, -1, 1], [0, 1, 0]],
        [[-1, 1, 1], [1, 1, 0], [0, -1, 0]],
    ]
    w1 = [
        [[0, 1, -1], [0, -1, 0], [0, -1, 1]],
        [[-1, 0, 0], [1, -1, 0], [1, -1, 0]],
        [[-1, 1, -1], [0, -1, -1], [1, 0, 0]],
    ]
    out, _ = conv2d_forward(x[None], np.array([w0, w1]), RGB_B, stride=2, padding=1)
    np.testing.assert_array_equal(out[0, 0], [[2, 3, 3], [3, 7, 3], [8, 10, -3]])
    np.testing.assert_array_equal(out[0, 1], [[-8, -8, -3], [-3, 1, 0], [-3, -8, -5]])


def test_output_sizes_lecture_000_q2_and_q3():
    """Q2: 7x7, k3, s2 -> 3x3. Q3/Q4: 224x224x3 with 64 3x3 kernels -> 222x222x64."""
    assert output_size(7, 3, stride=2) == 3
    Y = corr2d_padded(np.zeros((7, 7)), np.zeros((3, 3)), stride=2)
    assert Y.shape == (3, 3)
    side = output_size(224, 3)
    assert side == 222
    assert 64 * 3 * 3 * 3 * side * side == 85_162_752  # multiplications
    assert (3 * 3 * 3 + 1) * 64 == 1792  # parameters


def test_kernel_that_does_not_fit_the_stride_lecture_000():
    """7x7, k3, stride 3: (7 - 3) // 3 + 1 = 2; the last row and column are never read."""
    assert output_size(7, 3, stride=3) == 2
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 7))
    K = rng.standard_normal((3, 3))
    Y = corr2d_padded(X, K, stride=3)
    assert Y.shape == (2, 2)
    X_changed = X.copy()
    X_changed[6, :] = 100.0
    X_changed[:, 6] = -100.0
    np.testing.assert_array_equal(corr2d_padded(X_changed, K, stride=3), Y)
    np.testing.assert_allclose(Y, corr2d(X[:6, :6], K)[::3, ::3], atol=1e-12)


def test_output_sizes_lecture_001():
    """32x32x3 with six 5x5 filters -> 28x28x6, 456 parameters, 352,800 multiplications."""
    x = np.zeros((1, 3, 32, 32), dtype=np.float32)
    w = np.zeros((6, 3, 5, 5), dtype=np.float32)
    out, _ = conv2d_forward(x, w, np.zeros(6, dtype=np.float32))
    assert out.shape == (1, 6, 28, 28)
    assert w.size + 6 == 456
    assert out[0].size * 5 * 5 * 3 == 352_800


def test_output_sizes_lecture_003():
    """32x32x3, ten 5x5, stride 1, pad 2 -> 32x32x10 (760 parameters); AlexNet -> 55x55x96."""
    assert output_size(32, 5, padding=2) == 32
    out, _ = conv2d_forward(
        np.zeros((1, 3, 32, 32)), np.zeros((10, 3, 5, 5)), np.zeros(10), padding=2
    )
    assert out.shape == (1, 10, 32, 32)
    assert 10 * 3 * 5 * 5 + 10 == 760
    assert output_size(227, 11, stride=4) == 55
    x = np.zeros((1, 3, 227, 227), dtype=np.float32)
    w = np.zeros((96, 3, 11, 11), dtype=np.float32)
    out, _ = conv2d_forward(x, w, None, stride=4)
    assert out.shape == (1, 96, 55, 55)
    assert w.size + 96 == 34_944


def test_seven_by_seven_vs_three_three_by_three_lecture_003():
    """One 7x7 conv has 49 C^2 weights, three 3x3 have 27 C^2; both see 7x7 pixels."""
    C = 4
    assert 7 * 7 * C * C == 49 * C**2
    assert 3 * (3 * 3 * C * C) == 27 * C**2
    size = 7
    for _ in range(3):
        size = output_size(size, 3)
    assert size == 1  # a 7x7 patch shrinks to one pixel after three 3x3 convs


@pytest.mark.parametrize("p_side", [0, 1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_total_padding_convention_lectures_000_002(p_side, stride):
    """floor((n - k + p + s)/s) with p = total padding equals the per-side formula."""
    for n in range(5, 12):
        for k in range(1, 6):
            assert output_size_total(n, k, total_padding=2 * p_side, stride=stride) == (
                output_size(n, k, padding=p_side, stride=stride)
            )


def test_corr2d_padded_stride_pair_and_asymmetric_padding():
    Y = corr2d_padded(X9, K4, padding=((1, 0), (0, 1)), stride=(1, 2))
    # Rows: a zero row on top; columns: a zero column on the right.
    padded = np.zeros((4, 4))
    padded[1:, :3] = X9
    np.testing.assert_array_equal(Y, corr2d(padded, K4)[:, ::2])
    assert Y.shape == (3, 2)
