"""A sixth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-07 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. The people who improve the feedback had not seen it before the final measurement.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the exercise docstrings and the reference solutions between BEGIN SOLUTION and END
SOLUTION), the solutions/ package, course/torch_layers.py (only to use LAYERS as `layers`),
the shared lectures, the shared student trial reports, and tests/course/mistake_set.py,
tests/course/mistake_set_fresh.py, tests/course/mistake_set_third.py,
tests/course/mistake_set_fourth.py and tests/course/mistake_set_fifth.py, these ONLY for
their format, the `collector` helper and FAMILIES of mistake_set.py, and to avoid repeating
their ids and their mistakes (no bug of theirs is repeated in the same function). Of these,
the notebooks (their markdown, exercise docstrings and reference solutions), the format of
mistake_set_fifth.py, the collector and FAMILIES of mistake_set.py, the ids, functions and
descriptions of the five earlier sets, the import lines of course/torch_layers.py and the
first part of the trial report on notebooks 01 to 04 were read; the lectures and the
solutions/ package were not needed and not read. NOT READ (nor searched, nor run):
course/checks/, autograder/, docs/, tests/course/diagnosis.py, or any other test file; git
log and git diffs were not looked at; course.checks was never imported, and nothing was done
to find out which mistakes the checks recognise.

Every entry was run, by a script outside the repository, against the notebook's reference
solution: the function definitions of the notebook's given cells and solution cells were
executed in order to give the reference namespace, the buggy function was executed over a
copy of it, and both were called on a few ordinary inputs (non-square images and kernels,
batches and several channels, strides, paddings and dilations, pairs as well as ints, as the
docstrings allow; crops of larger images; integer images; logits in the hundreds for the
loss). Every entry gives a different result there, or raises where the reference does not
(or does not raise where the reference does), or changes an input that the reference leaves
alone, or breaks a requirement of the docstring that the script tests explicitly (dtype,
Python int or float results, the exception type, requires_grad, train or eval mode, grad
mode during evaluation, no loops in Exercise 3.5). The same script, given the reference
functions themselves, found no difference. The 06 and 07 functions that take `layers` were
run with a bundle of the notebook's own reference layer functions (the same interface as
course.torch_layers.LAYERS), because importing course.torch_layers imports course.checks.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of mistake_set.py,
                 mistake_set_fresh.py, mistake_set_third.py, mistake_set_fourth.py or
                 mistake_set_fifth.py)
    assignment   the assignment folder, e.g. "01_convolution"
    function     the graded function's name
    family       the kind of mistake (see mistake_set.FAMILIES)
    description  one sentence, as a TA would say it
    code         the complete source of the buggy function, as in the notebook cell
                 (relies on `np` being a global, and for 07_gpu on `torch`, `nn`, `F` and
                 `OrderedDict`, as the notebook imports them; may call earlier exercises'
                 functions by their notebook names, as the reference solutions do)

SPLIT maps every id to "held_out": this whole set is held out.

Docstrings are left out of the code to keep the file short; the bodies are what a student
would have typed in the cell (including the lines the notebook gives before the solution).
"""

from __future__ import annotations

from tests.course.mistake_set import collector

MISTAKES: list[dict] = []
_m = collector(MISTAKES)


# ---------------------------------------------------------------------------------------
# 01_convolution
# ---------------------------------------------------------------------------------------
A = "01_convolution"

_m(
    "corr2d_loop_ranges_swapped",
    A,
    "corr2d",
    "shape_assumption",
    "The row loop runs over range(W_out) and the column loop over range(H_out), the two "
    "output sizes swapped, so for a non-square output the extra rows or columns of Y stay 0 "
    "or the loop writes past the end of Y (IndexError).",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(W_out):
        for j in range(H_out):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_as_strided_fixed_byte_strides",
    A,
    "corr2d",
    "shape_assumption",
    "The windows are built with as_strided and hand-written byte strides (W * 8, 8, W * 8, "
    "8), which assume a C-contiguous float64 array exactly W wide, so for a crop of a larger "
    "image or a transposed view the windows read the wrong pixels.",
    """
def corr2d(X, K):
    X = np.asarray(X, dtype=float)
    H, W = X.shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    windows = np.lib.stride_tricks.as_strided(
        X, shape=(H_out, W_out, KH, KW), strides=(W * 8, 8, W * 8, 8)
    )
    return np.einsum("ijab,ab->ij", windows, K)
""",
)

_m(
    "corr2d_bias_inside_window_sum",
    A,
    "corr2d_bias",
    "other",
    "The bias is added inside the window sum, np.sum(window * K + b), so every output gets "
    "KH * KW times b instead of b once.",
    """
def corr2d_bias(X, K, b):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K + b)
    return Y
""",
)

_m(
    "edge_kernel_four_neighbour_laplacian",
    A,
    "edge_kernel",
    "convention",
    "The 4-neighbour Laplacian (4 in the centre, -1 on the four direct neighbours, 0 in the "
    "corners) is returned instead of lecture 000's edge detector with 8 in the centre and -1 "
    "on all eight neighbours.",
    """
def edge_kernel():
    return np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float)
""",
)

_m(
    "sharpen_minus_ones_in_corners",
    A,
    "sharpen_kernel",
    "other",
    "The -1 entries are written with K[::2, ::2], which selects the four CORNERS, so the "
    "diagonal neighbours get -1 and the four direct neighbours (up, down, left, right) stay 0.",
    """
def sharpen_kernel():
    K = np.zeros((3, 3))
    K[1, 1] = 5
    K[::2, ::2] = -1
    return K
""",
)

_m(
    "sobel_x_prewitt_weights",
    A,
    "sobel_x",
    "convention",
    "The middle row has weight 1 like the other two ([[1, 0, -1]] * 3, the Prewitt kernel) "
    "instead of Sobel's weight 2, [2, 0, -2].",
    """
def sobel_x():
    return np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
""",
)

_m(
    "sobel_y_integer_array",
    A,
    "sobel_y",
    "other",
    "The entries are right, but the array is built from Python ints without dtype=float, so "
    "sobel_y() returns an integer array instead of the float array the exercise asks for.",
    """
def sobel_y():
    return np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
""",
)

_m(
    "box_blur_fixed_ninth",
    A,
    "box_blur",
    "shape_assumption",
    "Every entry is 1 / 9, copied from the slide's 3 x 3 example, instead of 1 / k**2, so only "
    "k = 3 sums to 1.",
    """
def box_blur(k):
    return np.ones((k, k)) / 9
""",
)

_m(
    "gaussian_arange_stops_before_centre_offset",
    A,
    "gaussian_kernel",
    "off_by_one",
    "The offsets come from np.arange(-c, c), which stops before +c, so there are only "
    "size - 1 of them: the kernel is (size - 1) x (size - 1) and its last row and column are "
    "missing.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(-c, c)
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "conv_true_assert_for_mode",
    A,
    "conv2d_true",
    "other",
    "An unknown mode is rejected with an assert, which raises AssertionError (and nothing at "
    "all under python -O) instead of the ValueError the docstring asks for.",
    """
def conv2d_true(X, K, mode="valid"):
    assert mode in ("valid", "full"), f"unknown mode {mode}"
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "conv_true_rotates_input",
    A,
    "conv2d_true",
    "convention",
    "The input X is rotated by 180 degrees instead of the kernel (corr2d(X[::-1, ::-1], K)), "
    "which gives the true convolution rotated by 180 degrees, upside down and mirrored.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X[::-1, ::-1], K)
""",
)

_m(
    "as_matrix_outputs_numbered_by_column",
    A,
    "corr2d_as_matrix",
    "convention",
    "Output pixel (i, j) is put in row j * H_out + i, numbering the outputs column by column "
    "(Fortran/MATLAB order) instead of row by row, so M @ X.ravel() lists Y column-wise and "
    "does not equal corr2d(X, K).ravel().",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            row = j * H_out + i
            for a in range(KH):
                for b in range(KW):
                    M[row, (i + a) * W + (j + b)] = K[a, b]
    return M
""",
)

_m(
    "as_matrix_int_matrix_width_from_kh",
    A,
    "corr2d_as_matrix",
    "two_at_once",
    "M is allocated with dtype=int, which truncates fractional kernel weights (a blur becomes "
    "zeros), and the output width is W - KH + 1, with the kernel's height, so a non-square "
    "kernel gets the wrong number of output columns.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out = H - KH + 1
    W_out = W - KH + 1
    M = np.zeros((H_out * W_out, H * W), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    M[i * W_out + j, (i + a) * W + (j + b)] = K[a, b]
    return M
""",
)

del A

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_torch_docs_minus_one",
    A,
    "output_size",
    "off_by_one",
    "The formula is copied from PyTorch's documentation, (n + 2p - dilation * (k - 1) - 1) "
    "// s + 1, with k put in for dilation * (k - 1), so the numerator is one short and a "
    "window is lost whenever n + 2p - k is a multiple of the stride.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding - k - 1) // stride + 1
""",
)

_m(
    "output_size_total_ceil_idiom",
    A,
    "output_size_total",
    "rounding",
    "The numerator has + stride - 1 (the (a + s - 1) // s ceiling idiom) instead of + stride, "
    "so it computes ceil((n - k + p) / s) instead of floor((n - k + p) / s) + 1 and is one "
    "window short whenever n - k + p is a multiple of the stride (always at stride 1).",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + total_padding + stride - 1) // stride
""",
)

_m(
    "pad2d_pair_columns_from_first_entry",
    A,
    "pad2d",
    "other",
    "In the (ph, pw) branch the columns are padded with padding[0] too (a copy-paste slip for "
    "padding[1]), so a pair pads ph zeros on all four sides and pw is ignored.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        top = bottom = padding[0]
        left = right = padding[0]
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "same_padding_numpy_float_halves",
    A,
    "same_padding",
    "rounding",
    "before and after come from np.ceil and np.floor of a true division, which gives the right "
    "values but as numpy floats (1.0, 0.0) instead of the Python ints asked for, so they "
    "cannot be used as slice bounds or shapes.",
    """
def same_padding(k):
    total = k - 1
    return np.ceil(total / 2), np.floor(total / 2)
""",
)

_m(
    "padded_stride_subsamples_input",
    A,
    "corr2d_padded",
    "other",
    "The stride is applied by keeping every sh-th row and sw-th column of the padded input and "
    "then sliding the kernel one pixel at a time, so each window reads pixels a stride apart "
    "instead of neighbouring ones and the output size is wrong as well.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    sh, sw = as_pair(stride)
    Xs = pad2d(X, padding)[::sh, ::sw]
    KH, KW = K.shape
    H_out = Xs.shape[0] - KH + 1
    W_out = Xs.shape[1] - KW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xs[i : i + KH, j : j + KW] * K)
    return Y
""",
)

_m(
    "dilated_stride_and_dilation_trade_places",
    A,
    "corr2d_dilated",
    "other",
    "In the window slice the stride and the dilation trade places, Xp[i*dh : i*dh + span_h : "
    "sh, j*dw : j*dw + span_w : sw], so the windows move by the dilation and the taps are a "
    "stride apart; only dilation == stride gives the right result.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    Xp = pad2d(X, padding)
    dh, dw = as_pair(dilation)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    span_h, span_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    H_out = (Xp.shape[0] - span_h) // sh + 1
    W_out = (Xp.shape[1] - span_w) // sw + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = Xp[i * dh : i * dh + span_h : sh, j * dw : j * dw + span_w : sw]
            Y[i, j] = np.sum(window * K)
    return Y
""",
)

del A

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_channel_zero_counted_twice",
    A,
    "corr2d_multi_in",
    "off_by_one",
    "Y starts from channel 0's map and the loop then runs over every channel from 0 again, so "
    "channel 0 is added twice.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = corr2d(X[0], K[0])
    for c in range(X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_out_width_from_kernel_height",
    A,
    "corr2d_multi_in_out",
    "shape_assumption",
    "The preallocated output's width is W - KH + 1, with the kernel's height, so for a "
    "non-square kernel every map has a different width than Y and storing it raises a "
    "broadcasting error.",
    """
def corr2d_multi_in_out(X, K):
    C_out, C_in, KH, KW = K.shape
    H_out = X.shape[1] - KH + 1
    W_out = X.shape[2] - KH + 1
    Y = np.zeros((C_out, H_out, W_out))
    for o in range(C_out):
        Y[o] = corr2d_multi_in(X, K[o])
    return Y
""",
)

_m(
    "conv1x1_np_dot_contracts_height",
    A,
    "conv1x1",
    "wrong_axis",
    "np.dot of the (C_out, C_in) matrix with the 3-D input contracts C_in with the input's "
    "second-to-last axis, the image height, not its channel axis, so it raises unless C_in == "
    "H and then mixes rows instead of channels, with a (C_out, C_in, W) result.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    W2 = K[:, :, 0, 0]
    return np.dot(W2, X)
""",
)

_m(
    "conv_params_bias_as_extra_input_channel",
    A,
    "conv_params",
    "other",
    "With bias=True the bias is counted as one more input channel, C_out * (C_in + 1) * KH * "
    "KW, a whole KH x KW slice per filter, instead of one number per filter, "
    "C_out * (C_in * KH * KW + 1).",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    if bias:
        return C_out * (C_in + 1) * KH * KW
    return C_out * C_in * KH * KW
""",
)

_m(
    "conv_mults_shrinks_given_output_size",
    A,
    "conv_mults",
    "other",
    "H_out and W_out are treated as the input size and shrunk again by KH - 1 and KW - 1, "
    "although the arguments already are the output size, so every count with a kernel larger "
    "than 1 x 1 is too small.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    H_out = H_out - KH + 1
    W_out = W_out - KW + 1
    return C_out * H_out * W_out * C_in * KH * KW
""",
)

_m(
    "vectorized_im2col_columns_tap_major",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "The im2col columns list a window's numbers as (row, column, channel) via transpose(3, 4, "
    "0, 1, 2), but K.reshape(C_out, -1) lists a filter's weights as (channel, row, column), so "
    "weights meet the wrong pixels whenever C_in > 1 and the kernel is larger than 1 x 1.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    _, H_out, W_out, _, _ = windows.shape
    cols = windows.transpose(3, 4, 0, 1, 2).reshape(KH * KW * C_in, H_out * W_out)
    return (K.reshape(C_out, -1) @ cols).reshape(C_out, H_out, W_out)
""",
)

_m(
    "vectorized_still_loops_over_positions",
    A,
    "conv2d_vectorized",
    "other",
    "The numbers are right, but the function still loops over every output position (i, j) in "
    "Python and only vectorises the sum over channels and taps, while the exercise forbids "
    "any for loop.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    H_out, W_out = X.shape[1] - KH + 1, X.shape[2] - KW + 1
    Y = np.zeros((C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[:, i, j] = np.tensordot(K, X[:, i : i + KH, j : j + KW], axes=3)
    return Y
""",
)

del A

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_windows_from_unpadded_input",
    A,
    "pool2d",
    "missing_term",
    "The output size comes from the padded X_pad, but the windows are cut from the unpadded "
    "X, so with padding every window is shifted by the padding and the last ones are short or "
    "empty (the max of an empty window raises).",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_avg_divides_input_in_place",
    A,
    "pool2d",
    "in_place",
    "For average pooling the input is divided by KH * KW in place (X /= KH * KW) before the "
    "windows are summed; the output is right, but np.asarray does not copy a float array, so "
    "the caller's X comes back divided.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    if mode == "avg":
        X /= KH * KW
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.sum()
    return Y
""",
)

_m(
    "pool2d_lowercased_mode_strides_crossed",
    A,
    "pool2d",
    "two_at_once",
    "The mode is lower-cased before it is checked, so a typo such as mode='Max' is silently "
    "accepted instead of raising ValueError, and the output height is divided by the column "
    "stride SW and the width by the row stride SH, which gives the wrong number of windows "
    "for a stride pair with SH != SW.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    mode = mode.lower()
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SW + 1
    W_out = (X_pad.shape[1] - KW) // SH + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool_channels_one_tall_image",
    A,
    "pool2d_channels",
    "shape_assumption",
    "All channels are stacked into one tall (C * H, W) image and pooled in a single call, "
    "which only works when the windows tile each channel's height exactly: otherwise windows "
    "straddle two channels, padding is only added above the first and below the last channel, "
    "and the final reshape fails or mixes channels.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    C, H, W = X.shape
    tall = pool2d(X.reshape(C * H, W), size, stride=stride, padding=padding, mode=mode)
    return tall.reshape(C, -1, tall.shape[1])
""",
)

_m(
    "grad_mask_winner_searched_in_whole_input",
    A,
    "maxpool_grad_mask",
    "other",
    "The winner is taken as the first position of the WHOLE input that holds the window's "
    "maximum (np.argwhere(X == window.max())[0]), so when that value also occurs earlier in X, "
    "outside the window, the count goes to that other pixel.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SW + 1
    mask = np.zeros(X.shape)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            h, w = np.argwhere(X == window.max())[0]
            mask[h, w] += 1
    return mask
""",
)

_m(
    "grad_mask_window_columns_from_height",
    A,
    "maxpool_grad_mask",
    "shape_assumption",
    "The number of window columns is computed from the input's height (X.shape[0]) instead of "
    "its width, so a non-square input gets too few columns of windows, or too many, whose "
    "windows are cut short or empty (np.argmax of an empty window raises).",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[0] - KW) // SW + 1
    mask = np.zeros(X.shape)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i * SH + p, j * SW + q] += 1
    return mask
""",
)

del A

# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_two_nested_loops_for_2d",
    A,
    "numerical_gradient",
    "shape_assumption",
    "Two nested loops over x.shape[0] and x.shape[1] assume a 2-D x: a 1-D x raises "
    "IndexError, and for a 3-D x each x[r, c] is a whole row that is moved up at once (and, "
    "since old is a view of it, never moved down), so the result is wrong.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            old = x[r, c]
            x[r, c] = old + h
            f_plus = f(x)
            x[r, c] = old - h
            f_minus = f(x)
            x[r, c] = old
            grad[r, c] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "rel_error_ratio_of_maxima",
    A,
    "rel_error",
    "other",
    "The elementwise kind divides the largest |a_i - b_i| by the largest |a_i| + |b_i| instead "
    "of taking the largest per-entry ratio, so a wrong small entry next to large correct ones "
    "gets a tiny error.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), eps))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "rel_error_norm_ord_two",
    A,
    "rel_error",
    "convention",
    "The norm kind calls np.linalg.norm(..., 2), which is the Euclidean norm only for "
    "vectors: for a matrix ord=2 is the spectral norm (the largest singular value) instead of "
    "the Frobenius norm of all entries, and for arrays with three or more axes it raises.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a - b, 2) / max(np.linalg.norm(a, 2) + np.linalg.norm(b, 2), eps))
""",
)

_m(
    "conv_fwd_output_takes_input_dtype",
    A,
    "conv2d_forward",
    "rounding",
    "The output is allocated with dtype=x.dtype, so for an integer batch every output value "
    "(with fractional weights and biases) is truncated to an integer, and a float32 batch "
    "gives float32 instead of the float64 the docstring asks for.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_fwd_bias_added_per_input_channel",
    A,
    "conv2d_forward",
    "other",
    "In the loop over input channels the bias b[o] is added together with each channel's "
    "partial sum, so every output gets C_in times the bias instead of once.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(N):
        for o in range(C_out):
            for c in range(C_in):
                for i in range(H_out):
                    for j in range(W_out):
                        window = xp[n, c, i * stride : i * stride + KH,
                                    j * stride : j * stride + KW]
                        out[n, o, i, j] += np.sum(window * w[o, c]) + b[o]
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_bwd_cache_stride_padding_swapped",
    A,
    "conv2d_backward",
    "other",
    "The cache is unpacked as (x, w, b, padding, stride), the wrong order for the (x, w, b, "
    "stride, padding) that conv2d_forward stores, so stride and padding trade places "
    "whenever they differ.",
    """
def conv2d_backward(dout, cache):
    x, w, b, padding, stride = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_dw_batch_summed_before_product",
    A,
    "conv2d_backward",
    "other",
    "For dw, dout and the window are each summed over the batch first and then multiplied (an "
    "outer product of the two sums), which adds cross terms dout[n] * x[m] between different "
    "images and is only right for a batch of one.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d.sum(axis=0), xp[:, :, rows, cols].sum(axis=0), axes=0)
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_db_keeps_width_dx_crop_height",
    A,
    "conv2d_backward",
    "two_at_once",
    "db is summed over axes (0, 2) only, which leaves the output-width axis (shape (C_out, "
    "W_out) instead of (C_out,)), and dx is cut out with dxp[:, :, p:p+H, p:p+H], the height "
    "used for the width too, so a non-square input gets a dx of the wrong width.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + H]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_windows_moved_by_kernel",
    A,
    "maxpool2d_forward",
    "other",
    "The windows start at (i * k, j * k), moved by the kernel size instead of the stride, so "
    "only stride == kernel_size works: with overlapping windows they run off the input (the "
    "reshape fails) and a larger stride reads the wrong windows.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * k : i * k + k, j * k : j * k + k].reshape(N, C, k * k)
            argmax[:, :, i, j] = np.argmax(window, axis=2)
            out[:, :, i, j] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_one_fancy_add_for_all_windows",
    A,
    "maxpool2d_backward",
    "other",
    "All windows are scattered in one fancy-indexed dx[n, c, rows, cols] += dout, but numpy "
    "applies += only once for repeated indices, so an input that wins several overlapping "
    "windows receives the gradient of just one of them instead of their sum.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    n, c, i, j = np.meshgrid(np.arange(N), np.arange(C), np.arange(H_out), np.arange(W_out),
                             indexing="ij")
    p, q = np.divmod(argmax, k)
    dx = np.zeros((N, C, H, W))
    dx[n, c, i * s + p, j * s + q] += dout
    return dx
""",
)

_m(
    "avgpool_fwd_divides_by_k_times_k_precedence",
    A,
    "avgpool2d_forward",
    "other",
    "The window sum is divided with / k*k, which Python reads as (sum / k) * k, so nothing is "
    "divided and every output is the window's sum instead of its mean.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - k) // s + 1
    W_out = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].sum(axis=(2, 3)) / k*k
    cache = (x.shape, k, s, p)
    return out, cache
""",
)

_m(
    "avgpool_bwd_share_not_expanded",
    A,
    "avgpool2d_backward",
    "shape_assumption",
    "The (N, C) share of window (i, j) is added to the (N, C, k, k) window without [:, :, "
    "None, None], so numpy lines it up with the window's last two axes (k, k): it raises "
    "unless N and C are 1 or equal to k, and then spreads the values along the wrong axes.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    share = dout / (k * k)
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i * s : i * s + k, j * s : j * s + k] += share[:, :, i, j]
    return dxp[:, :, p : p + H, p : p + W]
""",
)

del A

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_linear_weights_in_by_out",
    A,
    "init_lenet",
    "convention",
    "The fully connected weights are made (in_features, out_features), e.g. fc1.weight (400, "
    "120) for x @ W as in many numpy courses, instead of PyTorch's (out_features, "
    "in_features) layout that the docstring lists.",
    """
def init_lenet(seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in [("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5)),
                        ("fc1", (400, 120)), ("fc2", (120, 84)), ("fc3", (84, 10))]:
        if len(shape) == 4:
            fan_in, n_out = shape[1] * shape[2] * shape[3], shape[0]
        else:
            fan_in, n_out = shape
        bound = 1 / np.sqrt(fan_in)
        params[name + ".weight"] = rng.uniform(-bound, bound, size=shape)
        params[name + ".bias"] = rng.uniform(-bound, bound, size=n_out)
    return params
""",
)

_m(
    "init_conv_fan_in_taps_scalar_bias",
    A,
    "init_lenet",
    "two_at_once",
    "For the convolutions fan_in is KH * KW only, without the C_in input channels (conv2's "
    "bound is 1/5 instead of 1/sqrt(150)), and every bias is drawn with size=1, one number "
    "of shape (1,) instead of one per output unit.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        fan_in = w_shape[-2] * w_shape[-1] if len(w_shape) == 4 else w_shape[1]
        bound = 1 / np.sqrt(fan_in)
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=1)
    return params
""",
)

_m(
    "forward_conv2_padding_copied",
    A,
    "lenet_forward",
    "other",
    "conv2 is called with padding=2, copied from the conv1 line, so its maps stay 14 x 14, "
    "the second pooling gives 7 x 7 and the 784 flattened features do not fit fc1's 400 "
    "inputs (the linear layer raises).",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"], padding=2)
    h, caches["relu2"] = layers.relu_forward(h)
    h, caches["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["flatten"] = layers.flatten_forward(h)
    h, caches["fc1"] = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    h, caches["relu3"] = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    h, caches["relu4"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "forward_reshape_instead_of_flatten_layer",
    A,
    "lenet_forward",
    "missing_term",
    "The pooled maps are flattened with h.reshape(N, -1) instead of layers.flatten_forward, so "
    "the logits are right but no 'flatten' cache is stored (11 caches instead of 12) and the "
    "backward pass cannot undo the flatten.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, caches["relu2"] = layers.relu_forward(h)
    h, caches["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h = h.reshape(h.shape[0], -1)
    h, caches["fc1"] = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    h, caches["relu3"] = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    h, caches["relu4"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "backward_fc2_unpacked_db_before_dw",
    A,
    "lenet_backward",
    "other",
    "fc2's linear_backward result is unpacked as (dx, db, dw) instead of (dx, dw, db), so "
    "grads['fc2.weight'] holds the (84,) bias gradient and grads['fc2.bias'] the (84, 120) "
    "weight gradient.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(d, c["relu4"])
    d, g["fc2.bias"], g["fc2.weight"] = layers.linear_backward(d, c["fc2"])
    d = layers.relu_backward(d, c["relu3"])
    d, g["fc1.weight"], g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
    d = layers.flatten_backward(d, c["flatten"])
    d = layers.maxpool2d_backward(d, c["pool2"])
    d = layers.relu_backward(d, c["relu2"])
    d, g["conv2.weight"], g["conv2.bias"] = layers.conv2d_backward(d, c["conv2"])
    d = layers.maxpool2d_backward(d, c["pool1"])
    d = layers.relu_backward(d, c["relu1"])
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    return g
""",
)

_m(
    "backward_conv1_given_conv2_cache",
    A,
    "lenet_backward",
    "other",
    "conv1's backward is given caches['conv2'] (the line above copied) instead of "
    "caches['conv1'], so the (N, 6, 28, 28) gradient meets conv2's input and weights and the "
    "call fails.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(d, c["relu4"])
    d, g["fc2.weight"], g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
    d = layers.relu_backward(d, c["relu3"])
    d, g["fc1.weight"], g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
    d = layers.flatten_backward(d, c["flatten"])
    d = layers.maxpool2d_backward(d, c["pool2"])
    d = layers.relu_backward(d, c["relu2"])
    d, g["conv2.weight"], g["conv2.bias"] = layers.conv2d_backward(d, c["conv2"])
    d = layers.maxpool2d_backward(d, c["pool1"])
    d = layers.relu_backward(d, c["relu1"])
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv2"])
    return g
""",
)

_m(
    "ce_loss_mean_over_all_entries",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "The loss is -np.mean(onehot * log_p), a mean over all N * C entries, so it is divided by "
    "N * C instead of N and comes out C times too small (the gradient is right).",
    """
def softmax_cross_entropy(logits, y):
    N, C = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.eye(C)[y]
    loss = -np.mean(onehot * log_p)
    dlogits = (np.exp(log_p) - onehot) / N
    return float(loss), dlogits
""",
)

_m(
    "ce_shift_by_row_mean",
    A,
    "softmax_cross_entropy",
    "stability",
    "Each row is shifted by its mean instead of its max before np.exp, so a logit several "
    "hundred above its row's mean still overflows to inf: the loss comes out infinite and "
    "every probability in the gradient becomes 0.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.mean(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_velocity_reset_every_step",
    A,
    "sgd_step",
    "other",
    "The velocity is set back to zeros at the start of every step (reading 'v = 0 before the "
    "first step' as part of each step), so momentum never carries over and every step is "
    "plain SGD with weight decay.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        velocity[name] = np.zeros_like(p)
        d = grads[name] + weight_decay * p
        velocity[name] = momentum * velocity[name] + d
        p -= lr * velocity[name]
""",
)

_m(
    "train_params_recast_to_image_dtype",
    A,
    "train_epoch",
    "in_place",
    "params is rebuilt as {name: p.astype(X.dtype)} to match the images, which makes new "
    "arrays in a new local dict, so every step updates those copies and the caller's params "
    "are never trained.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    params = {name: p.astype(X.dtype) for name, p in params.items()}
    N = len(y)
    order = rng.permutation(N)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        idx = order[start:start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_accuracy_floor_division",
    A,
    "evaluate",
    "rounding",
    "The accuracy is computed with correct // N, integer division, so it is 0 unless every "
    "example is classified right.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct // N}
""",
)

del A

# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_conv2_padding_copied",
    A,
    "make_lenet_torch",
    "other",
    "conv2 is built with padding=2, copied from conv1, so its maps stay 14 x 14, the flattened "
    "features number 16 * 7 * 7 = 784 and fc1 (400 inputs) raises on every forward pass.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"variant must be 'relu-max' or 'sigmoid-avg'; got {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", Act()),
        ("pool1", Pool(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5, padding=2)),
        ("act2", Act()),
        ("pool2", Pool(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act3", Act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "make_lenet_variant_name_with_underscore",
    A,
    "make_lenet_torch",
    "other",
    "The allowed variants are spelled ('relu-max', 'sigmoid_avg') with an underscore, so the "
    "documented 'sigmoid-avg' raises ValueError (and the misspelled 'sigmoid_avg' builds the "
    "1998 network).",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid_avg"):
        raise ValueError(f"unknown variant {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", Act()),
        ("pool1", Pool(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", Act()),
        ("pool2", Pool(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act3", Act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "load_params_compares_element_counts",
    A,
    "load_numpy_params",
    "other",
    "The shape check compares numbers of elements (array.size != param.numel()), so a "
    "transposed weight such as a (400, 120) array for fc1.weight passes it and copy_ then "
    "fails with torch's RuntimeError instead of the ValueError that names the parameter.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"params has no array for {name}")
            array = np.asarray(params[name])
            if array.size != param.numel():
                raise ValueError(f"{name}: the array has shape {array.shape}, the parameter "
                                 f"{tuple(param.shape)}")
            param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "load_params_requires_grad_switched_off",
    A,
    "load_numpy_params",
    "other",
    "To get past autograd's error about an in-place write into a leaf tensor, each parameter "
    "is switched to requires_grad_(False) instead of copying under torch.no_grad(), and never "
    "switched back, so the returned model can no longer be trained.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    for name, param in model.named_parameters():
        if name not in params:
            raise KeyError(f"params has no array for {name}")
        array = np.asarray(params[name])
        if array.shape != tuple(param.shape):
            raise ValueError(f"{name}: the array has shape {array.shape}, the parameter "
                             f"{tuple(param.shape)}")
        param.requires_grad_(False)
        param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "train_torch_accuracy_adds_batch_means",
    A,
    "train_epoch_torch",
    "other",
    "Each batch adds its accuracy as a mean, (logits.argmax(dim=1) == y).float().mean(), and "
    "the total is divided by the number of examples, so 'acc' is the sum of the batch "
    "accuracies over N, about batch-size times too small.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0.0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).float().mean().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "train_torch_no_train_mode_unweighted_loss",
    A,
    "train_epoch_torch",
    "two_at_once",
    "model.train() is never called, so a model left in eval mode stays in it, and the batch "
    "MEAN losses are added without weighting by len(y) and then divided by the number of "
    "examples, a loss about batch-size times too small.",
    """
def train_epoch_torch(model, batches, opt, device):
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        total_loss += loss.item()
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_inputs_forced_float32",
    A,
    "evaluate_torch",
    "convention",
    "The images are converted with dtype=torch.float32 ('torch models are float32'), so a "
    "float64 model, as load_numpy_params makes, raises a dtype-mismatch RuntimeError instead "
    "of being evaluated in its own dtype.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, dtype=torch.float32, device=device)
            y = torch.as_tensor(y, device=device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_no_eval_mode_no_no_grad",
    A,
    "evaluate_torch",
    "two_at_once",
    "model.eval() is never called, so the model is evaluated in training mode (dropout and "
    "batch norm would stay on), and the loop does not run under torch.no_grad(), so autograd "
    "records the graph of every batch.",
    """
def evaluate_torch(model, batches, device):
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
