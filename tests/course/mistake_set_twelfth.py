"""A twelfth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-07 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. It was written without knowing what the feedback recognises.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the given code cells, the exercise docstrings and the reference solutions between
BEGIN SOLUTION and END SOLUTION; their test cells skipped, neither read nor run), the
solutions/ package, the shared lectures, and tests/course/mistake_set.py,
tests/course/mistake_set_fresh.py, tests/course/mistake_set_third.py ...
tests/course/mistake_set_eleventh.py, these ONLY for their format, the `collector` helper and
FAMILIES of mistake_set.py, and to avoid repeating their ids and their mistakes (no bug of
theirs is repeated in the same function; bugs of a kind none of them has were preferred).
NOT ALLOWED (and not read, searched, imported or run): course/ (course/checks and
course/torch_layers.py included), autograder/, docs/, the shared trial reports,
tests/course/diagnosis.py or any other test file, the README's and the Makefile's test
targets, git log and git diffs (no git command was run at all).

What was read. Of the notebooks: the markdown cells, the given code cells and the solution
cells of all seven, printed by a script that skipped every test cell (nbgrader grade=True
and solution=False) without printing it. Of the earlier sets: the collector and FAMILIES of
mistake_set.py (with the few lines printed around them), the format (docstring, section
layout, first and last entries) of mistake_set_eleventh.py, and the id, function, family and
description of every entry of the eleven sets (739 entries), listed by a script that parsed
the files with `ast` without importing them. Besides these, only directory listings (file
names) of the repository root, source/, tests/course/, solutions/ and the shared lectures
were looked at; the lectures and the solutions/ package were not needed and not read.
course was never imported, and nothing was done to find out which mistakes the checks
recognise. The GPU machine was not used.

How the entries were verified. A script outside the repository built, for each notebook, a
reference namespace from the function and class definitions of its given cells and solution
cells (taken out of each cell with `ast`), executed in order with numpy as np, torch,
torch.nn as nn, torch.nn.functional as F and OrderedDict; the cells' import lines and magics
were not run, so nothing came from `course` and nothing needed a stub. For every entry it
built that namespace afresh, executed the buggy function in it (so that the notebook's other
functions call the student's version, as they would in the notebook) and called the buggy
function and the reference function, the latter from a second fresh namespace, on the same
ordinary inputs, built anew for each call: square and non-square images and kernels, 1 x 1,
one-row, one-column and full-size kernels, integer, float32 and transposed (non-contiguous)
images, nested lists, batches of one to four images with one to four channels (N == C_out
included), strides, paddings and dilations given as ints, pairs, the nested form and numpy
integers, strides that do and do not fit, pooling windows that overlap, tile and leave gaps,
negative feature maps and integer maps with ties, valid, unknown and run-time-built mode
strings, 0-d to 4-d arrays and functions that read x through a closure for the gradient
check, logits in the hundreds, labels far below their row's maximum, float32 and integer
logits, N == C, momentum and weight decay zero and non-zero with zero and non-zero
velocities, batch counts that leave a smaller last batch (of one and of several examples) or
divide the data exactly, LeNet and a small linear model handed in as forward and backward,
list, tensor and generator batches, float32 and float64 models, models in training and in
evaluation mode, and a model with dropout. It compared the return values (values to a
relative tolerance of 1e-9, shapes, dtypes and Python types; dict keys and their order; torch
modules with their children, parameters, state and training flags, and their outputs in
their current and in evaluation mode), whether and which exception is raised, and the state
of every argument after the call (arrays, dicts, models, optimisers and random generators);
the caches returned by the forward passes of 05_backprop and by lenet_forward were also fed
to the reference backward pass. The functions of 06 that take `layers` were given a bundle of
06_lenet's own reference layer functions (the numpy conv2d and maxpool2d layers of its
solution cell, the given relu, flatten and linear layers and its softmax_cross_entropy); the
functions of 07 ran on the CPU. Every entry differs from the reference on some of these
inputs, all of which the docstrings allow. Given the reference functions themselves (from
two independently built namespaces), the same script found no difference on any of the
10,688 inputs.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of the eleven earlier sets)
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
    "corr2d_centred_windows_odd_kernels_only",
    A,
    "corr2d",
    "shape_assumption",
    "Each output is computed around a centre pixel, with a window that reaches KH // 2 rows "
    "and KW // 2 columns to each side, which has the kernel's size only for odd kernels: an "
    "even-sized kernel gets a window one row or column larger than itself, and the product "
    "with K raises a broadcasting error.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    rh, rw = KH // 2, KW // 2
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(rh, H - rh):
        for j in range(rw, W - rw):
            Y[i - rh, j - rw] = np.sum(X[i - rh : i + rh + 1, j - rw : j + rw + 1] * K)
    return Y
""",
)

_m(
    "corr2d_output_float32",
    A,
    "corr2d",
    "rounding",
    "Y is allocated with dtype=np.float32 ('an image does not need double precision'), so every "
    "output is rounded to about 7 significant digits when it is stored and the function returns "
    "a float32 array instead of the float64 array that np.zeros gives.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1), dtype=np.float32)
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_bias_cast_to_int_like_slide",
    A,
    "corr2d_bias",
    "rounding",
    "The correlation is cast with .astype(int) before the bias is added, to look like the "
    "integer matrices on the slides, which truncates every fractional output towards zero, so "
    "a blur kernel or fractional inputs give wrong values (and an integer bias gives an integer "
    "array).",
    """
def corr2d_bias(X, K, b):
    return corr2d(X, K).astype(int) + b
""",
)

_m(
    "edge_kernel_middle_row_set",
    A,
    "edge_kernel",
    "other",
    "The centre is set with K[1] = 8 on a kernel of -1s, but K[1] is the whole middle ROW, so "
    "all three cells of the middle row become 8 and the kernel sums to 18 instead of 0.",
    """
def edge_kernel():
    K = -np.ones((3, 3))
    K[1] = 8
    return K
""",
)

_m(
    "sharpen_bottom_corners_left_at_minus_one",
    A,
    "sharpen_kernel",
    "missing_term",
    "Starting from a kernel of -1s with 5 in the centre, only the two top corners are set to 0 "
    "(K[0, 0] = K[0, 2] = 0), so the two bottom corners keep their -1 and the kernel sums to -1 "
    "instead of 1.",
    """
def sharpen_kernel():
    K = -np.ones((3, 3))
    K[1, 1] = 5
    K[0, 0] = K[0, 2] = 0
    return K
""",
)

_m(
    "sobel_x_outer_product_of_int_lists",
    A,
    "sobel_x",
    "other",
    "Sobel x is built as the outer product of the smoothing [1, 2, 1] and the difference "
    "[1, 0, -1], which gives the right entries, but np.outer of two lists of Python ints is an "
    "integer array, not the float kernel the exercise asks for.",
    """
def sobel_x():
    return np.outer([1, 2, 1], [1, 0, -1])
""",
)

_m(
    "sobel_y_bottom_row_signs_dropped",
    A,
    "sobel_y",
    "sign",
    "The bottom row is typed [1, 2, 1] without its minus signs, so the kernel sums to 8 instead "
    "of 0: it adds the rows above and below the pixel (a blur) instead of subtracting the bottom "
    "row from the top row.",
    """
def sobel_y():
    return np.array([[1, 2, 1], [0, 0, 0], [1, 2, 1]], dtype=float)
""",
)

_m(
    "box_blur_float32",
    A,
    "box_blur",
    "rounding",
    "The kernel is made with dtype=np.float32, so 1 / k**2 is stored rounded to about 7 digits "
    "(1/9 becomes 0.11111111) and the function returns float32 instead of the float64 kernel of "
    "the other kernel functions.",
    """
def box_blur(k):
    return np.full((k, k), 1 / k**2, dtype=np.float32)
""",
)

_m(
    "gaussian_distance_not_squared",
    A,
    "gaussian_kernel",
    "other",
    "The distance from the centre is computed with np.sqrt and put into the exponent without "
    "squaring it back, exp(-d / (2 sigma**2)) instead of exp(-d**2 / (2 sigma**2)), so the "
    "weights fall off exponentially with the distance (a pointed cone) instead of as a Gaussian "
    "bell.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    d = np.sqrt(u[:, None] ** 2 + u[None, :] ** 2)
    G = np.exp(-d / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "gaussian_precedence_and_integer_centre",
    A,
    "gaussian_kernel",
    "two_at_once",
    "Two slips: the centre is computed with floor division, (size - 1) // 2, which puts it half "
    "a pixel off for even sizes, and the exponent is divided with / 2 * sigma**2, which divides "
    "by 2 and then MULTIPLIES by sigma**2 (operator precedence), so a larger sigma gives a "
    "narrower blur instead of a wider one (only sigma = 1 is right).",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) // 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / 2 * sigma**2)
    return G / G.sum()
""",
)

_m(
    "conv_true_default_full_and_same_mode",
    A,
    "conv2d_true",
    "two_at_once",
    "Two slips: the default mode is 'full' (the definition of lecture 003) instead of 'valid', "
    "so conv2d_true(X, K) returns the larger full convolution, and a third mode 'same' (as in "
    "scipy) is accepted and computed instead of raising the ValueError the docstring asks for.",
    """
def conv2d_true(X, K, mode="full"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode == "same":
        X = np.pad(X, (((KH - 1) // 2, KH // 2), ((KW - 1) // 2, KW // 2)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid', 'same' or 'full', got {mode!r}")
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "conv_true_full_padded_by_image_size",
    A,
    "conv2d_true",
    "other",
    "In 'full' mode X is padded with H - 1 rows and W - 1 columns, taken from the image's own "
    "shape, instead of KH - 1 and KW - 1 from the kernel's, so unless the kernel is as large as "
    "the image the full convolution comes out too large, (3H - KH - 1) x (3W - KW - 1) instead "
    "of (H + KH - 1) x (W + KW - 1), with extra rings of zeros.",
    """
def conv2d_true(X, K, mode="valid"):
    H, W = X.shape
    if mode == "full":
        X = np.pad(X, ((H - 1, H - 1), (W - 1, W - 1)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "as_matrix_column_index_missing_parentheses",
    A,
    "corr2d_as_matrix",
    "other",
    "The column of input pixel (i + a, j + b) is written i + a * W + j + b, without the "
    "parentheses around i + a, so only the kernel row a is multiplied by the row length W: "
    "output row i shifts the kernel i columns to the right instead of i image rows down, and "
    "every row of M after the first output row reads the wrong pixels.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    M[i * W_out + j, i + a * W + j + b] = K[a, b]
    return M
""",
)

_m(
    "as_matrix_two_kernel_rows_hard_coded",
    A,
    "corr2d_as_matrix",
    "shape_assumption",
    "Each row of M is filled with two slices written from the slide's 2 x 2 example, K[0] on "
    "the window's first input row and K[1] on the row below, so only kernels of exactly two "
    "rows are right: a one-row kernel raises IndexError and a taller kernel loses every kernel "
    "row after the second.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            r = i * W_out + j
            M[r, i * W + j : i * W + j + KW] = K[0]
            M[r, (i + 1) * W + j : (i + 1) * W + j + KW] = K[1]
    return M
""",
)

del A


# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_padding_subtracted",
    A,
    "output_size",
    "sign",
    "The padding is subtracted from the input size, (n - 2 * padding - k) // stride + 1, as if "
    "padding cropped the border, instead of added, so every padded layer gets too few output "
    "positions (and a kernel that only fits thanks to the padding gives 0 or a negative size).",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n - 2 * padding - k) // stride + 1
""",
)

_m(
    "output_size_total_odd_total_patched",
    A,
    "output_size_total",
    "other",
    "The total padding is halved with // 2 and handed to output_size as per-side padding, and an "
    "odd total is patched by adding 1 to the result, which is only right at stride 1: with a "
    "larger stride the lost row of padding is worth a whole window only when n - k + "
    "total_padding is a multiple of the stride, so otherwise an odd total gets one window too "
    "many.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return output_size(n, k, padding=total_padding // 2, stride=stride) + total_padding % 2
""",
)

_m(
    "same_padding_rejects_even_kernels",
    A,
    "same_padding",
    "shape_assumption",
    "An even kernel size raises ValueError ('same padding needs a centre pixel') instead of "
    "returning lecture 000's lopsided padding with the extra zero before, so only odd kernels "
    "work.",
    """
def same_padding(k):
    if k % 2 == 0:
        raise ValueError(f"'same' padding needs an odd kernel size, got {k}")
    return (k - 1) // 2, (k - 1) // 2
""",
)

_m(
    "pad2d_nested_read_in_torch_order",
    A,
    "pad2d",
    "convention",
    "The nested form is flattened and read in the order of PyTorch's F.pad, (left, right, top, "
    "bottom), so ((top, bottom), (left, right)) puts the row paddings on the left and right and "
    "the column paddings on the top and bottom (the int and (ph, pw) forms are right).",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        left, right, top, bottom = np.ravel(padding)
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "pad2d_numpy_integer_read_as_pair",
    A,
    "pad2d",
    "shape_assumption",
    "The int and (ph, pw) forms are recognised with isinstance(..., int), which is False for "
    "numpy integers such as np.int64(2) (what shape arithmetic and np.arange give), so such a "
    "padding, or a pair of them, falls through to the nested form and unpacking it raises.",
    """
def pad2d(X, padding):
    if isinstance(padding, int):
        padding = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "padded_column_slice_uses_row_stride",
    A,
    "corr2d_padded",
    "wrong_axis",
    "The output size is right, but each window's columns start at j * sh, with the ROW stride, "
    "instead of j * sw, so a stride pair (sh, sw) with sh != sw reads the wrong columns, and "
    "when sh > sw the last windows run off the right edge (short windows that cannot be "
    "multiplied by K).",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sh : j * sh + KW] * K)
    return Y
""",
)

_m(
    "padded_zero_padding_test_on_tuple",
    A,
    "corr2d_padded",
    "shape_assumption",
    "Padding is skipped with if padding > 0, which only works for an int: comparing a pair "
    "(ph, pw) or the nested ((top, bottom), (left, right)) form with 0 raises TypeError, so every "
    "call with a padding pair fails.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    if padding > 0:
        Xp = pad2d(X, padding)
    else:
        Xp = np.asarray(X, dtype=float)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "dilated_kernel_built_but_unused",
    A,
    "corr2d_dilated",
    "missing_term",
    "The dilated kernel is built correctly, but the original K is passed on to corr2d_padded "
    "instead of K_dilated, so the dilation is ignored and every call computes the undilated "
    "correlation.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(X, K, padding=padding, stride=stride)
""",
)

_m(
    "dilated_single_zero_inserted",
    A,
    "corr2d_dilated",
    "shape_assumption",
    "The taps are spread with np.insert, which puts ONE zero between neighbouring taps whatever "
    "the dilation, so dilations 1 and 2 are right but a dilation of 3 or more is computed as a "
    "dilation of 2.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    K_dilated = np.asarray(K, dtype=float)
    if dh > 1:
        K_dilated = np.insert(K_dilated, np.arange(1, K_dilated.shape[0]), 0.0, axis=0)
    if dw > 1:
        K_dilated = np.insert(K_dilated, np.arange(1, K_dilated.shape[1]), 0.0, axis=1)
    return corr2d_padded(X, K_dilated, padding=padding, stride=stride)
""",
)

del A


# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_inputs_squeezed",
    A,
    "corr2d_multi_in",
    "shape_assumption",
    "X and K are squeezed 'to drop the extra axes', which also drops the channel axis of a "
    "one-channel input and an axis of length 1 of a kernel one row high or one column wide, so "
    "X[c] or K[c] is then a row instead of a channel slice and corr2d raises.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float).squeeze()
    K = np.asarray(K, dtype=float).squeeze()
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_channels_last_guessed_from_width",
    A,
    "corr2d_multi_in",
    "shape_assumption",
    "To accept photos stored channels last, X is transposed to channels first whenever its last "
    "axis has length 3, so a channels-first input that happens to be 3 pixels wide is "
    "transposed as well and correlated along the wrong axes (wrong values, or a shape error).",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    if X.shape[-1] == 3:
        X = X.transpose(2, 0, 1)
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_out_maps_stored_one_channel_early",
    A,
    "corr2d_multi_in_out",
    "off_by_one",
    "The map of filter o is stored in Y[o - 1] (a 1-based index carried over), so the map of "
    "filter 0 lands in the last channel and every other map one channel too early: the output "
    "channels come back rotated by one (only C_out = 1 is right).",
    """
def corr2d_multi_in_out(X, K):
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    _, H, W = np.shape(X)
    Y = np.zeros((C_out, H - KH + 1, W - KW + 1))
    for o in range(C_out):
        Y[o - 1] = corr2d_multi_in(X, K[o])
    return Y
""",
)

_m(
    "conv1x1_channels_last_result_reshaped_back",
    A,
    "conv1x1",
    "wrong_axis",
    "The pixels are correctly laid out as rows, X.transpose(1, 2, 0).reshape(H * W, C_in), and "
    "multiplied by the transposed weight matrix, but the (H * W, C_out) result is brought back "
    "with reshape(C_out, H, W) instead of a transpose, so the values of different output "
    "channels and pixels are mixed up whenever C_out > 1 (and the image has more than one "
    "pixel).",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    pixels = X.transpose(1, 2, 0).reshape(H * W, C_in)
    Y = pixels @ K.reshape(C_out, C_in).T
    return Y.reshape(C_out, H, W)
""",
)

_m(
    "conv_params_no_return_without_bias",
    A,
    "conv_params",
    "missing_term",
    "The count is only returned inside if bias:, with no return after it, so a layer without "
    "biases (bias=False) falls off the end of the function and gets None instead of its number "
    "of weights.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    weights = C_out * C_in * KH * KW
    if bias:
        return weights + C_out
""",
)

_m(
    "conv_mults_counted_with_np_prod",
    A,
    "conv_mults",
    "other",
    "The six factors are multiplied with np.prod, which returns a numpy.int64, so the count is "
    "right but it is a numpy integer instead of the Python int that the docstring asks for.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return np.prod([C_out, H_out, W_out, C_in, KH, KW])
""",
)

_m(
    "vectorized_result_squeezed",
    A,
    "conv2d_vectorized",
    "shape_assumption",
    "The einsum result is squeezed 'to tidy it up', which drops the channel axis when there is "
    "one output channel (and the row or column axis of an output one pixel high or wide), so "
    "such layers return a 2-D or 1-D array instead of (C_out, H_out, W_out).",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->oij", windows, K, optimize=True).squeeze()
""",
)

_m(
    "vectorized_einsum_output_drops_column_index",
    A,
    "conv2d_vectorized",
    "missing_term",
    "The output subscripts of the einsum are written '->oi', leaving out j, so einsum also sums "
    "over the output columns: the function returns an array of shape (C_out, H_out) whose values "
    "are the totals of whole output rows.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->oi", windows, K, optimize=True)
""",
)

del A


# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_mode_dict_lookup_key_error",
    A,
    "pool2d",
    "other",
    "The mode is looked up in dicts, {'max': np.max, 'avg': np.mean}[mode], so an unknown mode "
    "such as 'Max' raises KeyError instead of the ValueError the exercise asks for.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    reduce = {"max": np.max, "avg": np.mean}[mode]
    fill = {"max": -np.inf, "avg": 0.0}[mode]
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = reduce(X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW])
    return Y
""",
)

_m(
    "pool2d_max_stores_argmax_index",
    A,
    "pool2d",
    "other",
    "Max pooling stores window.argmax(), the flat POSITION of the maximum inside its window "
    "(0 to KH * KW - 1), instead of window.max(), its value (average pooling is right).",
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
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.argmax() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool_channels_output_shape_from_default_call",
    A,
    "pool2d_channels",
    "shape_assumption",
    "The output is preallocated from a trial call pool2d(X[0], size) that leaves out stride and "
    "padding, so whenever these change the output size the pooled maps do not fit into Y[c] and "
    "the assignment raises a broadcasting error.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    Y = np.zeros((X.shape[0],) + pool2d(X[0], size).shape)
    for c in range(X.shape[0]):
        Y[c] = pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
    return Y
""",
)

_m(
    "grad_mask_partial_windows_at_border",
    A,
    "maxpool_grad_mask",
    "off_by_one",
    "The windows start at every multiple of the stride up to H and W (range(0, H, SH)), not only "
    "where a whole window fits, so the cut-off windows at the bottom and right border are "
    "counted too and their winners get extra counts (mask.sum() is larger than H_out * W_out).",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H, W = X.shape
    mask = np.zeros_like(X)
    for r in range(0, H, SH):
        for c in range(0, W, SW):
            window = X[r : r + KH, c : c + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[r + p, c + q] += 1
    return mask
""",
)

_m(
    "grad_mask_stride_multiplies_winner_offset",
    A,
    "maxpool_grad_mask",
    "other",
    "The winner is placed at row (i + p) * SH and column (j + q) * SW instead of i * SH + p and "
    "j * SW + q, so its position inside the window is multiplied by the stride as well: stride 1 "
    "is right, but with a larger stride the counts land on the wrong pixels (or past the end: "
    "IndexError).",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SW + 1
    mask = np.zeros_like(X)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[(i + p) * SH, (j + q) * SW] += 1
    return mask
""",
)

del A


# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_gradient_written_into_x",
    A,
    "numerical_gradient",
    "in_place",
    "grad = x does not make a new array but gives x a second name, so each derivative is "
    "written into x itself: every later evaluation of f sees the earlier entries replaced by "
    "their derivatives, the result is wrong, and the caller's x comes back overwritten.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = x
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_absolute_difference",
    A,
    "numerical_gradient",
    "sign",
    "The difference is taken in absolute value, abs(f_plus - f_minus) / (2 * h) ('how much f "
    "changes'), so every negative partial derivative comes back positive.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = abs(f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "rel_error_norm_ord_fro",
    A,
    "rel_error",
    "convention",
    "The norm kind calls np.linalg.norm(..., 'fro'), but numpy accepts ord='fro' only for 2-D "
    "arrays: for vectors and for 3-D or 4-D arrays (a conv layer's dw or dx) it raises "
    "ValueError instead of returning the Frobenius norm over all entries.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
    num = np.linalg.norm(a - b, "fro")
    den = np.linalg.norm(a, "fro") + np.linalg.norm(b, "fro")
    return float(num / max(den, eps))
""",
)

_m(
    "conv_fwd_stride_slices_batch_and_channels",
    A,
    "conv2d_forward",
    "wrong_axis",
    "The layer is vectorised with sliding_window_view, but the stride is applied as [::stride, "
    "::stride] on the first two axes of the windows array, the images and the channels, instead "
    "of on the output rows and columns, so with a stride above 1 images and input channels are "
    "dropped and the output is not strided (a shape error or the wrong output).",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    p = padding
    xp = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (p, p), (p, p)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))
    windows = windows[::stride, ::stride]
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H_out, W_out, C_out)
    out = out.transpose(0, 3, 1, 2) + b[None, :, None, None]
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_fwd_bias_as_column",
    A,
    "conv2d_forward",
    "shape_assumption",
    "The bias is made a column, b.reshape(-1, 1), as in y = W x + b, but the (N, C_out) block of "
    "outputs at one position has the images along its rows, so the column broadcasts along the "
    "wrong axis: it raises unless C_out is 1 or equals N, and when N == C_out each image gets "
    "the bias of the output channel with its own index.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    bias = b.reshape(-1, 1)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + bias
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_bwd_dw_aliases_weights",
    A,
    "conv2d_backward",
    "in_place",
    "dw is started as dw = w ('an array of w's shape'), which is not a new array but the layer's "
    "own filters: the contributions are added onto the weights themselves, so dw comes back as "
    "w plus the gradient, the caller's w (and the cache) is changed, and dx, computed from w in "
    "the same loop, uses weights that change as the loop runs.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = w
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
    "conv_bwd_dx_scatter_without_stride",
    A,
    "conv2d_backward",
    "off_by_one",
    "dw reads the right windows, but the input gradient is scattered into dxp[:, :, i : i + KH, "
    "j : j + KW], at the output's index instead of its window's corner (i * s, j * s), so with a "
    "stride above 1 dx is crowded into the top-left part of the input and the rest stays 0 (db "
    "and dw are right).",
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
            d = dout[:, :, i, j]
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            dw += np.tensordot(d, window, axes=([0], [0]))
            dxp[:, :, i : i + KH, j : j + KW] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_output_indexed_by_pixel_offset",
    A,
    "maxpool2d_forward",
    "other",
    "The loops run over the windows' pixel offsets, range(0, H - k + 1, s), and the results are "
    "stored at out[:, :, r, c] with those offsets instead of the window indices r // s and "
    "c // s, so stride 1 is right but any larger stride writes past the end of out "
    "(IndexError).",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for r in range(0, H - k + 1, s):
        for c in range(0, W - k + 1, s):
            window = x[:, :, r : r + k, c : c + k].reshape(N, C, k * k)
            argmax[:, :, r, c] = np.argmax(window, axis=2)
            out[:, :, r, c] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_window_flat_index_added_to_corner",
    A,
    "maxpool2d_backward",
    "other",
    "Each winner is located by adding its flat index inside the window (p * k + q) to the flat "
    "index of the window's corner in the image, but one row down is W entries in the image and "
    "only k in the window, so winners below the window's first row send their gradient to the "
    "wrong pixel (further right on the corner's row, or wrapped onto a later row).",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    for n in range(N):
        for c in range(C):
            plane = dx[n, c].reshape(-1)
            for i in range(H_out):
                for j in range(W_out):
                    plane[(i * s) * W + j * s + argmax[n, c, i, j]] += dout[n, c, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_divides_by_twice_k",
    A,
    "avgpool2d_forward",
    "other",
    "Each window's sum is divided by k * 2 (a * typed where the square was meant) instead of "
    "k * k, which is only right for 2 x 2 windows: 3 x 3 windows come out 1.5 times too large "
    "and 4 x 4 windows twice too large.",
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
            window = xp[:, :, i * s : i * s + k, j * s : j * s + k]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / (k * 2)
    cache = (x.shape, k, s, p)
    return out, cache
""",
)

_m(
    "avgpool_bwd_stride_wide_windows_caret_square",
    A,
    "avgpool2d_backward",
    "two_at_once",
    "Two slips: the share is dout / (k ^ 2), but ^ is XOR in Python (3 ^ 2 is 1, 2 ^ 2 is 0), so "
    "3 x 3 windows are not divided at all and 2 x 2 windows divide by zero; and each share is "
    "spread over dxp[:, :, i * s : (i + 1) * s, j * s : (j + 1) * s], one stride wide, instead of "
    "the k x k window, which is only the same when the stride equals the window size.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    share = dout / (k ^ 2)
    for i in range(H_out):
        for j in range(W_out):
            g = share[:, :, i, j][:, :, None, None]
            dxp[:, :, i * s : (i + 1) * s, j * s : (j + 1) * s] += g
    return dxp[:, :, p : p + H, p : p + W]
""",
)

_m(
    "avgpool_bwd_input_size_from_transposed_formula",
    A,
    "avgpool2d_backward",
    "shape_assumption",
    "The input size is rebuilt from dout with the transposed-convolution formula, "
    "(H_out - 1) * s + k - 2p, instead of taken from the cache, which gives H only when the "
    "windows end exactly at the border: when the stride does not fit, dx lacks the input's last "
    "rows or columns and does not have x's shape.",
    """
def avgpool2d_backward(dout, cache):
    _, k, s, p = cache
    N, C, H_out, W_out = dout.shape
    H = (H_out - 1) * s + k - 2 * p
    W = (W_out - 1) * s + k - 2 * p
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    share = dout / (k * k)
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i * s : i * s + k, j * s : j * s + k] += share[:, :, i, j][:, :, None, None]
    return dxp[:, :, p : p + H, p : p + W]
""",
)

del A


# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_fan_in_from_last_axis",
    A,
    "init_lenet",
    "wrong_axis",
    "fan_in is read from the weight's LAST axis, w_shape[-1], which is in_features for a linear "
    "layer but only the kernel width KW for a convolution, so both conv layers get the bound "
    "1 / sqrt(5) instead of 1 / sqrt(C_in * KH * KW) (conv1's weights about 2.2 times and "
    "conv2's about 5.5 times too spread; the linear layers are right).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(w_shape[-1])
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_glorot_uniform",
    A,
    "init_lenet",
    "convention",
    "The weights are drawn with the Xavier/Glorot bound sqrt(6 / (fan_in + fan_out)) (Keras's "
    "default glorot_uniform) instead of PyTorch's 1 / sqrt(fan_in), so every weight range is "
    "wrong (fc1's is about 0.107 instead of 0.05); the biases keep PyTorch's bound.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        fan_in = np.prod(w_shape[1:])
        fan_out = w_shape[0] * np.prod(w_shape[2:])
        bound = np.sqrt(6 / (fan_in + fan_out))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        bias_bound = 1 / np.sqrt(fan_in)
        params[f"{layer}.bias"] = rng.uniform(-bias_bound, bias_bound, size=w_shape[0])
    return params
""",
)

_m(
    "forward_second_pool_left_out",
    A,
    "lenet_forward",
    "missing_term",
    "The second max pooling is left out, so conv2's (N, 16, 10, 10) maps are flattened into "
    "1,600 features, which fc1 (400 inputs) cannot take: the forward pass raises, and there is "
    "no 'pool2' cache.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, caches["relu2"] = layers.relu_forward(h)
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
    "forward_normalises_images_in_place",
    A,
    "lenet_forward",
    "in_place",
    "The batch is standardised at the start with x -= x.mean() and x /= x.std(), in place, so "
    "the caller's images are overwritten and the logits are those of re-normalised images "
    "instead of the images that were passed in (the data are already normalised).",
    """
def lenet_forward(params, x, layers):
    x -= x.mean()
    x /= x.std()
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
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
    "ce_shifted_logits_clipped",
    A,
    "softmax_cross_entropy",
    "stability",
    "The shifted logits are clipped to [-100, 0] 'so that np.exp never underflows' (the clamp "
    "that torch's BCELoss applies to its logs), so a label whose logit is more than 100 below "
    "its row's maximum gets a loss of about 100 instead of its true, larger loss.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    shifted = np.clip(shifted, -100, 0)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_label_smoothing",
    A,
    "softmax_cross_entropy",
    "convention",
    "Label smoothing of 0.1 is built in (targets of 0.9 + 0.1 / C on the label and 0.1 / C "
    "elsewhere, what F.cross_entropy(..., label_smoothing=0.1) computes), so the loss and the "
    "gradient are those of the smoothed targets instead of the plain cross-entropy the docstring "
    "asks for.",
    """
def softmax_cross_entropy(logits, y):
    N, C = logits.shape
    smoothing = 0.1
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.full((N, C), smoothing / C)
    target[np.arange(N), y] += 1 - smoothing
    loss = -(target * log_p).sum(axis=1).mean()
    return float(loss), (np.exp(log_p) - target) / N
""",
)

_m(
    "backward_fc2_gradients_stored_under_fc3",
    A,
    "lenet_backward",
    "other",
    "fc2's gradients are stored under 'fc3.weight' and 'fc3.bias' (the fc3 line copied and only "
    "its cache changed), so they overwrite fc3's gradients and the dict has no 'fc2.weight' or "
    "'fc2.bias' at all.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(d, c["relu4"])
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(d, c["fc2"])
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
    "sgd_plain_sgd_branch_missing",
    A,
    "sgd_step",
    "missing_term",
    "The velocity update and the step both sit inside if momentum:, with no else branch, so "
    "plain SGD (momentum=0, the default) never moves a parameter nor updates the velocity: only "
    "steps with momentum do anything.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        if momentum:
            velocity[name] *= momentum
            velocity[name] += d
            p -= lr * velocity[name]
""",
)

_m(
    "train_returns_last_batch_stats",
    A,
    "train_epoch",
    "other",
    "The training is right, but the function returns the loss and the accuracy of the LAST batch "
    "(the variables left over from the loop) instead of the means over all N examples of the "
    "epoch.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    order = rng.permutation(N)
    for start in range(0, N, batch_size):
        idx = order[start:start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return {"loss": float(loss), "acc": float(np.mean(logits.argmax(axis=1) == y[idx]))}
""",
)

_m(
    "evaluate_correct_without_sum",
    A,
    "evaluate",
    "missing_term",
    "The .sum() is missing from the count of correct predictions, so correct becomes an array "
    "that adds the batches' 0/1 vectors position by position: 'acc' is an array instead of a "
    "fraction, and a last batch that is smaller than the others (but more than one example) "
    "raises a broadcasting error.",
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
        correct = correct + (logits.argmax(axis=1) == yb)
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

del A


# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_log_softmax_output",
    A,
    "make_lenet_torch",
    "other",
    "An nn.LogSoftmax(dim=1) is appended after fc3 (the ending of PyTorch's MNIST example), so "
    "the model returns log-probabilities instead of the raw logits the docstring asks for and "
    "has an extra child (F.cross_entropy happens to give the same loss on them).",
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
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", Act()),
        ("pool2", Pool(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act3", Act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act()),
        ("fc3", nn.Linear(84, 10)),
        ("log_softmax", nn.LogSoftmax(dim=1)),
    ]))
""",
)

_m(
    "make_lenet_pool_first_variant_lowercased",
    A,
    "make_lenet_torch",
    "two_at_once",
    "Two slips: every pooling is put before its activation (conv, pool, activation), which gives "
    "other logits for 'sigmoid-avg' (a sigmoid and an average do not commute) and another order "
    "of children for both variants, and the variant is lower-cased before it is checked, so a "
    "misspelt 'ReLU-Max' is accepted instead of raising ValueError.",
    """
def make_lenet_torch(variant="relu-max"):
    variant = variant.lower()
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"variant must be 'relu-max' or 'sigmoid-avg'; got {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("pool1", Pool(2)),
        ("act1", Act()),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("pool2", Pool(2)),
        ("act2", Act()),
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
    "load_params_get_turns_missing_into_shape_error",
    A,
    "load_numpy_params",
    "other",
    "The arrays are fetched with params.get(name), so a parameter missing from params gives "
    "None, which np.asarray turns into a 0-d array: the function raises ValueError about a "
    "shape () instead of the KeyError that names the missing parameter.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            array = np.asarray(params.get(name))
            if array.shape != tuple(param.shape):
                raise ValueError(f"{name}: the array has shape {array.shape}, the parameter "
                                 f"{tuple(param.shape)}")
            param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "train_torch_numpy_batch_moved_with_to",
    A,
    "train_epoch_torch",
    "convention",
    "Each batch is moved with x.to(device) and y.to(device), the tensor method, but batches may "
    "be numpy arrays, which have no .to: an epoch over numpy batches raises AttributeError on "
    "the first batch (only tensor batches work).",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "train_torch_logits_detached",
    A,
    "train_epoch_torch",
    "other",
    "The logits are detached, logits = model(x).detach() ('to save memory'), so the loss is cut "
    "off from the model's parameters and loss.backward() raises RuntimeError on the first batch "
    "(the loss does not require grad).",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x).detach()
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_eval_not_called",
    A,
    "evaluate_torch",
    "other",
    "model.eval is written without parentheses, which only looks the method up and never calls "
    "it, so the model is evaluated in whatever mode it is in: a model in training mode keeps "
    "its dropout (and batch norm) active, giving other and random numbers, and is not left in "
    "eval mode.",
    """
def evaluate_torch(model, batches, device):
    model.eval
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
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
