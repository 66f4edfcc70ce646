"""Exercises 3.3 and 3.5 ask for code without Python loops: read from the code, in the
visible check (kernel) and in the grader (the handed-in notebook's cells)."""

from __future__ import annotations

import numpy as np
import pytest

from course.checks import CheckFailed, channels
from course.checks._loops import definitions, function_loops, loops


def conv1x1_matmul(X, K):
    C_out, C_in = K.shape[:2]
    return (K.reshape(C_out, C_in) @ X.reshape(C_in, -1)).reshape(C_out, *X.shape[1:])


def conv1x1_pixel_loop(X, K):
    C_out, C_in = K.shape[:2]
    Y = np.zeros((C_out, *X.shape[1:]))
    for i in range(X.shape[1]):
        for j in range(X.shape[2]):
            Y[:, i, j] = K.reshape(C_out, C_in) @ X[:, i, j]
    return Y


def conv1x1_channel_comprehension(X, K):
    return np.stack([np.tensordot(K[o, :, 0, 0], X, axes=(0, 0)) for o in range(K.shape[0])])


def conv1x1_vectorize(X, K):
    K2 = K.reshape(K.shape[0], K.shape[1])
    f = np.vectorize(lambda i: 0.0)
    f(np.arange(2))
    return (K2 @ X.reshape(X.shape[0], -1)).reshape(K.shape[0], *X.shape[1:])


def vectorized_einsum(X, K):
    KH, KW = K.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->oij", windows, K, optimize=True)


def loop_version(X, K):
    C_out, _, KH, KW = K.shape
    H, W = X.shape[1] - KH + 1, X.shape[2] - KW + 1
    Y = np.zeros((C_out, H, W))
    for o in range(C_out):
        for i in range(H):
            for j in range(W):
                Y[o, i, j] = (X[:, i : i + KH, j : j + KW] * K[o]).sum()
    return Y


def vectorized_by_calling_the_loop(X, K):
    return loop_version(X, K)


def test_vectorised_code_passes_both_checks():
    channels.check_conv1x1(conv1x1_matmul)
    channels.check_conv2d_vectorized(vectorized_einsum, loop=loop_version)
    assert function_loops(conv1x1_matmul) == []


@pytest.mark.parametrize(
    ("fn", "where"),
    [
        (conv1x1_pixel_loop, "a for loop"),
        (conv1x1_channel_comprehension, "a list comprehension"),
        (conv1x1_vectorize, "vectorize(), a loop in disguise"),
    ],
)
def test_a_loop_fails_3_3_with_a_message_that_says_where(fn, where):
    with pytest.raises(CheckFailed) as info:
        channels.check_conv1x1(fn)
    assert info.value.mistake == "python_loop"
    assert where in str(info.value) and "Exercise 3.3 asks for no loops" in str(info.value)


def test_a_loop_hidden_in_a_called_notebook_function_fails_3_5():
    with pytest.raises(CheckFailed) as info:
        channels.check_conv2d_vectorized(vectorized_by_calling_the_loop, loop=loop_version)
    assert info.value.mistake == "python_loop"
    assert "of loop_version: a for loop" in str(info.value)


def test_the_grader_reads_the_same_from_notebook_cells():
    cells = [
        "import numpy as np",
        "def conv1x1(X, K):\n    return [x for x in X]",
        "def conv1x1(X, K):\n    return (K.reshape(2, 3) @ X.reshape(3, -1))",  # redefined
        "def helper(X):\n    while True:\n        break\n",
        "def conv2d_vectorized(X, K):\n    return helper(X)",
        "this cell does not parse (",
    ]
    defs = definitions(cells)
    assert loops("conv1x1", defs) == []  # the later definition wins, as in the kernel
    assert loops("conv2d_vectorized", defs) == ["line 2 of helper: a while loop"]
    assert loops("not_defined", defs) == []
