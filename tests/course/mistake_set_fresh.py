"""A second, fresh set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-05 by a helper session started from a session of this project, to measure,
without any tuning afterwards, how often the course's checks name a mistake correctly.

Rules it was written under. READ: the source notebooks source/*/*.ipynb (their markdown, the
exercise docstrings and the reference solutions between BEGIN SOLUTION and END SOLUTION), the
solutions/ package, and tests/course/mistake_set.py, the latter ONLY for its format and to
avoid repeating its ids and mistakes. NOT READ (nor searched): course/checks/, autograder/,
docs/diagnosis.md, any test file, or anything else under tests/course/.

Every entry was run against the notebook's reference solution on a few ordinary inputs and
gives a different result there (or raises where the reference does not, or changes an input
that the reference leaves alone).

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of mistake_set.py)
    assignment   the assignment folder, e.g. "01_convolution"
    function     the graded function's name
    family       the kind of mistake (see mistake_set.FAMILIES)
    description  one sentence, as a TA would say it
    code         the complete source of the buggy function, as in the notebook cell
                 (relies on `np` being a global; may call earlier exercises' functions
                 by their notebook names, as the reference solutions do)

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
    "corr2d_shape_read_as_wh",
    A,
    "corr2d",
    "convention",
    "The shapes are unpacked width first (W, H = X.shape, KW, KH = K.shape), as image sizes "
    "are often written, so the output is transposed and the windows are cut with the wrong "
    "extents unless both X and K are square.",
    """
def corr2d(X, K):
    W, H = X.shape
    KW, KH = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i:i + KH, j:j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_bias_added_to_kernel",
    A,
    "corr2d_bias",
    "other",
    "The bias is added to every kernel weight (corr2d(X, K + b)), so each output gets b times "
    "the sum of its window instead of b once.",
    """
def corr2d_bias(X, K, b):
    return corr2d(X, K + b)
""",
)

_m(
    "edge_kernel_negated",
    A,
    "edge_kernel",
    "sign",
    "The edge detector has -8 in the centre and +1 around it (the other Laplacian sign), the "
    "negative of the kernel asked for.",
    """
def edge_kernel():
    return np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=float)
""",
)

_m(
    "sharpen_eight_neighbours",
    A,
    "sharpen_kernel",
    "convention",
    "The 8-neighbour sharpening kernel (9 in the centre, -1 everywhere else) is used instead "
    "of the lecture's 4-neighbour one (5 in the centre, 0 in the corners).",
    """
def sharpen_kernel():
    return np.array([[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]], dtype=float)
""",
)

_m(
    "sobel_x_right_minus_left",
    A,
    "sobel_x",
    "sign",
    "Sobel x is written right column minus left column ([-1, 0, 1] rows, the OpenCV sign) "
    "instead of left minus right.",
    """
def sobel_x():
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
""",
)

_m(
    "gaussian_half_centre_max_norm",
    A,
    "gaussian_kernel",
    "two_at_once",
    "The centre is size / 2 instead of (size - 1) / 2 (half a pixel off for every size) and "
    "the kernel is divided by its maximum instead of its sum, so it does not sum to 1.",
    """
def gaussian_kernel(size, sigma):
    c = size / 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma**2))
    return G / G.max()
""",
)

_m(
    "conv_true_transpose_not_rotate",
    A,
    "conv2d_true",
    "other",
    "The kernel is transposed (K.T) instead of rotated by 180 degrees (K[::-1, ::-1]), which "
    "is not a flip at all for most kernels and has the wrong shape for non-square ones.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, K.T)
""",
)

_m(
    "as_matrix_square_kernel",
    A,
    "corr2d_as_matrix",
    "shape_assumption",
    "The kernel size is read as k = K.shape[0] for both axes, so for a KH x KW kernel with "
    "KH != KW the output width and the column taps are wrong.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    k = K.shape[0]
    H_out, W_out = H - k + 1, W - k + 1
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            for a in range(k):
                for b in range(k):
                    M[i * W_out + j, (i + a) * W + (j + b)] = K[a, b]
    return M
""",
)

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_padding_after_division",
    A,
    "output_size",
    "other",
    "The padding is added after the division by the stride ((n - k) // stride + 1 + 2 * "
    "padding), which is only right for stride 1.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n - k) // stride + 1 + 2 * padding
""",
)

_m(
    "output_size_total_halves_padding",
    A,
    "output_size_total",
    "rounding",
    "The total padding is halved with // and handed to output_size as per-side padding, so an "
    "odd total padding loses one row.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return output_size(n, k, padding=total_padding // 2, stride=stride)
""",
)

_m(
    "output_size_total_plus_one",
    A,
    "output_size_total",
    "off_by_one",
    "The numerator adds 1 instead of the stride ((n - k + total_padding + 1) // stride), "
    "which is only right for stride 1.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + total_padding + 1) // stride
""",
)

_m(
    "pad2d_negative_end_slice",
    A,
    "pad2d",
    "other",
    "X is written into Y[top:-bottom, left:-right]; when some side has zero padding the end "
    "-0 makes the slice empty and the assignment fails.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        (top, bottom), (left, right) = (padding, padding), (padding, padding)
    elif np.isscalar(padding[0]):
        (top, bottom), (left, right) = (padding[0], padding[0]), (padding[1], padding[1])
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top:-bottom, left:-right] = X
    return Y
""",
)

_m(
    "pad2d_nested_read_as_corners",
    A,
    "pad2d",
    "convention",
    "The nested form is unpacked as ((top, left), (bottom, right)), the before-pair first, "
    "instead of ((top, bottom), (left, right)).",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        (top, left), (bottom, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top:top + H, left:left + W] = X
    return Y
""",
)

_m(
    "same_padding_banker_round",
    A,
    "same_padding",
    "rounding",
    "before is round((k - 1) / 2), and Python rounds halves to even, so for k = 2, 6, 10, ... "
    "the extra zero goes after instead of before.",
    """
def same_padding(k):
    before = round((k - 1) / 2)
    return before, k - 1 - before
""",
)

_m(
    "padded_int_stride_only",
    A,
    "corr2d_padded",
    "shape_assumption",
    "The stride is used as a single int for both axes, so a (sh, sw) pair makes the size and "
    "slice arithmetic fail.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    s = stride
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=s)
    W_out = output_size(Xp.shape[1], KW, stride=s)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * s : i * s + KH, j * s : j * s + KW] * K)
    return Y
""",
)

_m(
    "dilated_holes_no_padding",
    A,
    "corr2d_dilated",
    "two_at_once",
    "Dilation d is read as d zeros between the taps (spacing d + 1, so dilation 1 already "
    "spreads the kernel), and the padding is never passed on to corr2d_padded.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros(((dh + 1) * (KH - 1) + 1, (dw + 1) * (KW - 1) + 1))
    K_dilated[:: dh + 1, :: dw + 1] = K
    return corr2d_padded(X, K_dilated, stride=stride)
""",
)

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_overwrites",
    A,
    "corr2d_multi_in",
    "other",
    "Inside the channel loop Y is reassigned (=) instead of accumulated (+=), so only the last "
    "channel's correlation is returned.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0]):
        Y = corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_channels_last_input",
    A,
    "corr2d_multi_in",
    "convention",
    "X and K are read channels-last, (H, W, C_in) and (KH, KW, C_in), so the loop slices "
    "X[:, :, c] and K[:, :, c] of the (C_in, H, W) arrays and correlates the wrong planes.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = corr2d(X[:, :, 0], K[:, :, 0])
    for c in range(1, X.shape[-1]):
        Y += corr2d(X[:, :, c], K[:, :, c])
    return Y
""",
)

_m(
    "multi_in_np_sum_no_axis",
    A,
    "corr2d_multi_in",
    "wrong_axis",
    "The per-channel maps are summed with np.sum and no axis, which adds up every pixel of "
    "every map and returns one number instead of summing over the channel axis (axis=0).",
    """
def corr2d_multi_in(X, K):
    return np.sum([corr2d(x, k) for x, k in zip(X, K)])
""",
)

_m(
    "multi_in_out_concatenate",
    A,
    "corr2d_multi_in_out",
    "other",
    "The output maps are joined with np.concatenate instead of np.stack, which puts them one "
    "below the other in a (C_out * H_out, W_out) array instead of adding a channel axis.",
    """
def corr2d_multi_in_out(X, K):
    return np.concatenate([corr2d_multi_in(X, K_o) for K_o in np.asarray(K, dtype=float)])
""",
)

_m(
    "conv1x1_reshape_w_h",
    A,
    "conv1x1",
    "shape_assumption",
    "The product is reshaped to (C_out, W, H) instead of (C_out, H, W), which is only right "
    "for square images.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    Y2 = K.reshape(C_out, C_in) @ X.reshape(C_in, H * W)
    return Y2.reshape(C_out, W, H)
""",
)

_m(
    "conv_params_one_bias_square",
    A,
    "conv_params",
    "two_at_once",
    "Only one bias is counted for the whole layer instead of one per output channel, and the "
    "kernel area is KH * KH, as if every kernel were square.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    return C_out * C_in * KH * KH + (1 if bias else 0)
""",
)

_m(
    "conv_mults_per_position_only",
    A,
    "conv_mults",
    "missing_term",
    "Only one output position is counted (C_out * C_in * KH * KW): the factor H_out * W_out "
    "for all the positions of the output is missing.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return C_out * C_in * KH * KW
""",
)

_m(
    "vectorized_kernel_transposed_einsum",
    A,
    "conv2d_vectorized",
    "other",
    "The einsum pairs the window's (a, b) with the kernel's (b, a) ('ocba'), so every kernel "
    "is transposed, and non-square kernels do not fit at all.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocba->oij", windows, K, optimize=True)
""",
)

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_avg_sum",
    A,
    "pool2d",
    "missing_term",
    "Average pooling returns the window's sum: the division by KH * KW is missing.",
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
            Y[i, j] = window.max() if mode == "max" else window.sum()
    return Y
""",
)

_m(
    "pool2d_avg_pads_neg_inf",
    A,
    "pool2d",
    "other",
    "The input is padded with -inf in both modes, so with padding every average over a border "
    "window is -inf instead of counting the padded zeros.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=-np.inf)
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_size_from_unpadded",
    A,
    "pool2d",
    "missing_term",
    "The input is padded, but the output size is computed from the unpadded X (the 2 * P "
    "term is missing), so with padding the last windows are never pooled.",
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
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool_channels_stack_last_axis",
    A,
    "pool2d_channels",
    "wrong_axis",
    "The pooled channels are stacked along the last axis (axis=-1), giving (H_out, W_out, C) "
    "instead of (C, H_out, W_out).",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    return np.stack([pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
                     for c in range(X.shape[0])], axis=-1)
""",
)

_m(
    "pool_channels_positional_options",
    A,
    "pool2d_channels",
    "other",
    "stride, padding and mode are passed to pool2d positionally, but they are keyword-only "
    "there, so every call raises a TypeError.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    return np.stack([pool2d(X[c], size, stride, padding, mode) for c in range(X.shape[0])])
""",
)

_m(
    "grad_mask_unravel_input_width",
    A,
    "maxpool_grad_mask",
    "other",
    "The flat argmax of the window is turned into (row, column) with the input's width W "
    "instead of the window's width KW, so the winner lands on the wrong pixel.",
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
            p, q = divmod(int(np.argmax(window)), X.shape[1])
            mask[i * SH + p, j * SW + q] += 1
    return mask
""",
)

_m(
    "grad_mask_row_col_swapped",
    A,
    "maxpool_grad_mask",
    "convention",
    "The unravelled winner is unpacked as (column, row), x before y, so the count goes to the "
    "window position mirrored across its diagonal.",
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
            q, p = np.unravel_index(np.argmax(window), window.shape)
            mask[i * SH + p, j * SW + q] += 1
    return mask
""",
)

_m(
    "grad_mask_offset_by_size_no_plus_one",
    A,
    "maxpool_grad_mask",
    "two_at_once",
    "The number of windows is missing its +1, and the winner is placed at offset (i * KH, "
    "j * KW), the window size, instead of (i * SH, j * SW), the stride.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = (X.shape[0] - KH) // SH
    W_out = (X.shape[1] - KW) // SW
    mask = np.zeros_like(X)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i * KH + p, j * KW + q] += 1
    return mask
""",
)

# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_precedence",
    A,
    "numerical_gradient",
    "other",
    "The difference is written (f_plus - f_minus) / 2 * h, which divides by 2 and then "
    "multiplies by h (operator precedence) instead of dividing by 2h.",
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
        grad[i] = (f_plus - f_minus) / 2 * h
    return grad
""",
)

_m(
    "rel_error_no_abs",
    A,
    "rel_error",
    "sign",
    "The elementwise error takes the max of the signed differences (a - b) / (|a| + |b|), "
    "without np.abs, so entries where a < b are never counted.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max((a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "rel_error_no_eps",
    A,
    "rel_error",
    "stability",
    "The denominators have no eps floor, so an entry that is 0 in both arrays (common in "
    "gradients, e.g. behind a ReLU) gives 0 / 0 = nan.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
""",
)

_m(
    "conv_fwd_pads_all_axes",
    A,
    "conv2d_forward",
    "wrong_axis",
    "np.pad(x, p) pads every axis, so with padding the batch and channel axes get p extra "
    "zero entries on each side too and the channels no longer match the filters.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, p)
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_bwd_dx_contracts_cin",
    A,
    "conv2d_backward",
    "wrong_axis",
    "For dx the gradient's C_out axis is contracted with the filters' C_in axis "
    "(tensordot axes ([1], [1])) instead of their C_out axis (axes ([1], [0])).",
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
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [1]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_dw_from_unpadded",
    A,
    "conv2d_backward",
    "other",
    "dw reads its windows from the unpadded x instead of the padded xp, so with padding every "
    "window is shifted by p and the last ones are cut short.",
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
            dw += np.tensordot(d, x[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_no_stride_dw_assigned",
    A,
    "conv2d_backward",
    "two_at_once",
    "The windows start at (i, j) instead of (i * s, j * s), and dw is assigned (=) instead of "
    "accumulated (+=) in the loop, so it keeps only the last output position's contribution.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            d = dout[:, :, i, j]
            dw = np.tensordot(d, xp[:, :, i:i + KH, j:j + KW], axes=([0], [0]))
            dxp[:, :, i:i + KH, j:j + KW] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_no_axis",
    A,
    "maxpool2d_forward",
    "wrong_axis",
    "np.max and np.argmax are called on the (N, C, k, k) window without an axis, so every "
    "image and channel gets the single maximum of the whole batch.",
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
            window = x[:, :, i * s : i * s + k, j * s : j * s + k]
            argmax[:, :, i, j] = np.argmax(window)
            out[:, :, i, j] = np.max(window)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_pq_swapped",
    A,
    "maxpool2d_backward",
    "convention",
    "np.divmod(argmax, k) gives (row, column) but is unpacked as (column, row), so each "
    "gradient goes to the winner's mirror image inside its window.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            q, p = np.divmod(argmax[:, :, i, j], k)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_in_place_divide",
    A,
    "avgpool2d_forward",
    "in_place",
    "x is divided by k * k in place (x /= k * k) before summing the windows, so the output is "
    "right but the caller's input comes back divided (and integer inputs raise).",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    p = padding
    x /= k * k
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - k) // s + 1
    W_out = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].sum(axis=(2, 3))
    cache = (x.shape, k, s, p)
    return out, cache
""",
)

_m(
    "avgpool_bwd_no_stride",
    A,
    "avgpool2d_backward",
    "off_by_one",
    "Each window's share is spread over dxp[:, :, i:i + k, j:j + k], at the window's index "
    "instead of at (i * s, j * s), so for any stride other than 1 the gradient piles up in "
    "the top-left corner.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    share = dout / (k * k)
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i : i + k, j : j + k] += share[:, :, i, j][:, :, None, None]
    return dxp[:, :, p : p + H, p : p + W]
""",
)

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "ce_no_max_shift",
    A,
    "softmax_cross_entropy",
    "stability",
    "The softmax exponentiates the raw logits without subtracting each row's max, so large "
    "logits overflow to inf and the loss and gradient become nan.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dlogits = p.copy()
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_column_indexing",
    A,
    "softmax_cross_entropy",
    "other",
    "The label entries are picked with p[:, y] instead of p[np.arange(N), y], which takes "
    "every row's probability of every label in the batch (an N x N block), both in the loss "
    "and where 1 is subtracted for the gradient.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[:, y]).mean()
    dlogits = p.copy()
    dlogits[:, y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_onehot_eye_n",
    A,
    "softmax_cross_entropy",
    "shape_assumption",
    "The one-hot labels are built with np.eye(N)[y], the batch size, instead of np.eye(C), "
    "the number of classes, which only fits when N == C.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    onehot = np.eye(N)[y]
    return float(loss), (np.exp(log_p) - onehot) / N
""",
)

_m(
    "sgd_nesterov",
    A,
    "sgd_step",
    "convention",
    "The parameters move by lr * (d + momentum * v), Nesterov momentum, instead of lr * v as "
    "torch.optim.SGD does by default.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
        p -= lr * (d + momentum * velocity[name])
""",
)

_m(
    "sgd_decay_into_grads_in_place",
    A,
    "sgd_step",
    "in_place",
    "Weight decay is added to the gradient in place (g = grads[name]; g += weight_decay * p), "
    "so the step is right but the caller's grads are changed.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        g = grads[name]
        g += weight_decay * p
        velocity[name] *= momentum
        velocity[name] += g
        p -= lr * velocity[name]
""",
)

_m(
    "init_normal_not_uniform",
    A,
    "init_lenet",
    "convention",
    "The parameters are drawn from a normal distribution with standard deviation "
    "1 / sqrt(fan_in) instead of uniformly from (-bound, bound).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        std = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.normal(0.0, std, size=w_shape)
        params[f"{layer}.bias"] = rng.normal(0.0, std, size=w_shape[0])
    return params
""",
)

_m(
    "forward_relu_on_logits",
    A,
    "lenet_forward",
    "other",
    "A ReLU is applied after fc3 as after the other layers, so every negative logit becomes "
    "0 (and an extra cache is stored).",
    """
def lenet_forward(params, x, layers):
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
    h, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    logits, caches["relu5"] = layers.relu_forward(h)
    return logits, caches
""",
)

_m(
    "forward_conv1_no_padding",
    A,
    "lenet_forward",
    "missing_term",
    "conv1 is called without padding=2, so the maps shrink to 24, 12, 8 and 4 pixels and the "
    "flattened 256 features do not fit fc1's 400 inputs.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"])
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
    "backward_skips_relu4",
    A,
    "lenet_backward",
    "missing_term",
    "The ReLU between fc2 and fc3 is skipped on the way back: fc3's input gradient goes "
    "straight into fc2's backward without relu_backward(d, caches['relu4']).",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d, g["fc2.weight"], g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
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
    "train_shuffles_in_place",
    A,
    "train_epoch",
    "in_place",
    "The data are shuffled in place (X[:] = X[order], y[:] = y[order]) and then cut into "
    "consecutive batches: the training is the same, but the caller's X and y come back "
    "reordered.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    order = rng.permutation(N)
    X[:] = X[order]
    y[:] = y[order]
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, caches = forward(params, xb, layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, yb)
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "train_drops_last_batch",
    A,
    "train_epoch",
    "off_by_one",
    "The batch loop runs over range(0, N - batch_size, batch_size), so the last batch (the "
    "smaller one, or a full one when batch_size divides N) is never trained on or counted.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    order = rng.permutation(N)
    total_loss, correct = 0.0, 0
    for start in range(0, N - batch_size, batch_size):
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
    "train_global_shuffle_batch_mean",
    A,
    "train_epoch",
    "two_at_once",
    "The order comes from np.random.permutation (the global generator) instead of the rng "
    "argument, and the epoch loss is the plain mean of the batch losses, so a smaller last "
    "batch counts as much as a full one.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    order = np.random.permutation(N)
    losses, correct = [], 0
    for start in range(0, N, batch_size):
        idx = order[start:start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        losses.append(float(loss))
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": sum(losses) / len(losses), "acc": correct / N}
""",
)

_m(
    "evaluate_unweighted_batch_means",
    A,
    "evaluate",
    "other",
    "The result averages the per-batch mean losses and accuracies, so when the last batch is "
    "smaller its examples weigh more than the others instead of all N counting equally.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    losses, accs = [], []
    for start in range(0, len(y), batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        losses.append(float(loss))
        accs.append(float((logits.argmax(axis=1) == yb).mean()))
    return {"loss": float(np.mean(losses)), "acc": float(np.mean(accs))}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
