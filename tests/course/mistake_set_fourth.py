"""A fourth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-06 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. The people who improve the feedback had not seen it before the final measurement.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the exercise docstrings and the reference solutions between BEGIN SOLUTION and END
SOLUTION), the solutions/ package, the shared lectures, the shared student trial reports, and
tests/course/mistake_set.py, tests/course/mistake_set_fresh.py and
tests/course/mistake_set_third.py, the last three ONLY for their format and to avoid
repeating their ids and mistakes (no bug of theirs is repeated in the same function). Of
these, the notebooks, the trial reports (a few mistakes here are ones real students reported
making) and the three earlier sets were read. NOT READ (nor searched, nor run):
course/checks/, autograder/, docs/diagnosis.md, tests/course/diagnosis.py, or any other test
file; course.checks was never imported, and nothing was done to find out which mistakes the
checks recognise.

Every entry was run against the notebook's reference solution (the function definitions of
the notebook's given and solution cells executed in order, then the buggy function executed
over them; the 06 and 07 functions with course.torch_layers.LAYERS as `layers`) on a few
ordinary inputs (non-square images and kernels, batches and several channels, strides and
paddings, as the docstrings allow), and gives a different result there, or raises where the
reference does not (or does not raise where the reference does), or changes an input that the
reference leaves alone. The stability entries are told apart on the large logits or the
curved functions on which they go wrong. The same script, given the reference functions
themselves, found no difference.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of mistake_set.py,
                 mistake_set_fresh.py or mistake_set_third.py)
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
    "corr2d_window_sides_from_other_axis",
    A,
    "corr2d",
    "shape_assumption",
    "The window is cut as X[i:i+KW, j:j+KH], with the kernel's width along the rows and its "
    "height along the columns, which only fits a square kernel: for a KH x KW kernel with "
    "KH != KW the window and K have different shapes and the product fails.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i : i + KW, j : j + KH] * K)
    return Y
""",
)

_m(
    "corr2d_bias_arguments_swapped",
    A,
    "corr2d_bias",
    "other",
    "corr2d is called as corr2d(K, X), the kernel in the place of the image, so the output "
    "size KH - H + 1 is negative (np.zeros raises) unless the kernel is as large as the image.",
    """
def corr2d_bias(X, K, b):
    return corr2d(K, X) + b
""",
)

_m(
    "edge_kernel_centre_nine",
    A,
    "edge_kernel",
    "off_by_one",
    "The centre is 9 instead of 8 (counting the centre pixel among the nine of the window), "
    "so the kernel sums to 1 instead of 0 and a flat region is not mapped to 0.",
    """
def edge_kernel():
    K = -np.ones((3, 3))
    K[1, 1] = 9
    return K
""",
)

_m(
    "sobel_x_is_horizontal_edge_kernel",
    A,
    "sobel_x",
    "convention",
    "Sobel x is written as top row minus bottom row with the 2 in the middle column, which is "
    "the horizontal-edge detector (Sobel y): 'x' was taken as the direction the edge runs "
    "along instead of the direction the brightness changes in.",
    """
def sobel_x():
    return np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float)
""",
)

_m(
    "box_blur_one_dimensional",
    A,
    "box_blur",
    "shape_assumption",
    "np.ones(k) / k makes a 1-D averaging vector of shape (k,) instead of the k x k kernel of "
    "shape (k, k) with entries 1 / k**2.",
    """
def box_blur(k):
    return np.ones(k) / k
""",
)

_m(
    "gaussian_square_of_sum",
    A,
    "gaussian_kernel",
    "other",
    "The exponent squares the sum of the offsets, (u + v)**2, instead of summing their squares "
    "u**2 + v**2, so the kernel is stretched along the anti-diagonal instead of being round.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-((u[:, None] + u[None, :]) ** 2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "gaussian_exponent_positive",
    A,
    "gaussian_kernel",
    "sign",
    "The minus sign in the exponent is missing, exp(+d**2 / (2 sigma**2)), so the weights grow "
    "away from the centre: the corners get the most weight and the centre the least.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    G = np.zeros((size, size))
    for u in range(size):
        for v in range(size):
            G[u, v] = np.exp(((u - c) ** 2 + (v - c) ** 2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "conv_true_full_np_pad_pair",
    A,
    "conv2d_true",
    "convention",
    "'full' mode pads with np.pad(X, (KH - 1, KW - 1)), which np.pad reads as (before, after) "
    "for both axes: KH - 1 zeros on the top and left and KW - 1 on the bottom and right, "
    "which is only right for a square kernel.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, (KH - 1, KW - 1))
    elif mode != "valid":
        raise ValueError(f"unknown mode {mode!r}")
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "as_matrix_no_plus_one_row_length_h",
    A,
    "corr2d_as_matrix",
    "two_at_once",
    "The output size is H - KH by W - KW (the +1 is missing), so M has too few rows, and the "
    "input pixel (i + a, j + b) is put in column (i + a) * H + (j + b), with the height as the "
    "row length instead of the width W, which lands on the wrong pixels of non-square inputs.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH, W - KW
    M = np.zeros((H_out * W_out, H * W))
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    M[i * W_out + j, (i + a) * H + (j + b)] = K[a, b]
    return M
""",
)

del A

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_stride_precedence",
    A,
    "output_size",
    "other",
    "The parentheses are missing: n + 2 * padding - k // stride + 1 divides only k by the "
    "stride (operator precedence) instead of the whole n + 2 * padding - k.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return n + 2 * padding - k // stride + 1
""",
)

_m(
    "output_size_total_ceil_shortcut",
    A,
    "output_size_total",
    "other",
    "The function returns ceil(n / stride), the size that 'same' padding gives, ignoring k and "
    "total_padding; that is only right when total_padding == k - 1.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return -(-n // stride)
""",
)

_m(
    "output_size_total_true_division",
    A,
    "output_size_total",
    "rounding",
    "The division by the stride uses / instead of //, so a stride that does not fit gives a "
    "float such as 3.5 instead of the floored whole number of windows.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + total_padding + stride) / stride
""",
)

_m(
    "pad2d_placed_by_after_padding",
    A,
    "pad2d",
    "convention",
    "The padded array has the right size, but X is written at Y[bottom:bottom+H, "
    "right:right+W], offset by the after-paddings instead of top and left, so any asymmetric "
    "padding puts the zeros on the wrong sides.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[bottom : bottom + H, right : right + W] = X
    return Y
""",
)

_m(
    "same_padding_floor_both_sides",
    A,
    "same_padding",
    "rounding",
    "Both sides get (k - 1) // 2, the floor, so for an even kernel the total is k - 2 instead "
    "of k - 1 and the output shrinks by one (the extra zero before is lost).",
    """
def same_padding(k):
    return (k - 1) // 2, (k - 1) // 2
""",
)

_m(
    "padded_loop_steps_by_stride",
    A,
    "corr2d_padded",
    "other",
    "The loops step through the OUTPUT indices with the stride (range(0, H_out, sh)) while the "
    "slice also multiplies by the stride, so with a stride above 1 only every sh-th row and "
    "sw-th column of Y is computed and the others stay 0.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(0, H_out, sh):
        for j in range(0, W_out, sw):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_flipped_kernel_np_pad",
    A,
    "corr2d_padded",
    "two_at_once",
    "The kernel is flipped (K[::-1, ::-1]), a true convolution instead of the "
    "cross-correlation, and the input is padded with np.pad(X, padding) instead of pad2d, "
    "which reads a (ph, pw) pair as (before, after) for both axes instead of (rows, columns).",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = np.pad(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    K = K[::-1, ::-1]
    H_out = (Xp.shape[0] - KH) // sh + 1
    W_out = (Xp.shape[1] - KW) // sw + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "dilated_footprint_no_plus_one",
    A,
    "corr2d_dilated",
    "off_by_one",
    "The dilated kernel is made d*(KH-1) by d*(KW-1), without the +1 for the first tap, so it "
    "has room for one tap too few along each axis and writing K into it with step d fails.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * (KH - 1), dw * (KW - 1)))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(X, K_dilated, padding=padding, stride=stride)
""",
)

del A

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_first_kernel_slice_only",
    A,
    "corr2d_multi_in",
    "other",
    "Every channel is correlated with K[0], the first channel's slice of the kernel, instead "
    "of its own slice K[c], so only a one-channel input comes out right.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0]):
        Y += corr2d(X[c], K[0])
    return Y
""",
)

_m(
    "multi_in_sums_channels_first",
    A,
    "corr2d_multi_in",
    "other",
    "The channels of X and of K are summed first and the two sums correlated once, "
    "corr2d(X.sum(0), K.sum(0)), but the sum of the per-channel correlations is not the "
    "correlation of the sums (cross terms X[c] with K[c'] creep in).",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    return corr2d(X.sum(axis=0), K.sum(axis=0))
""",
)

_m(
    "multi_in_out_sums_output_maps",
    A,
    "corr2d_multi_in_out",
    "other",
    "The output maps are added up with sum(...) instead of stacked, so the function returns "
    "one (H_out, W_out) map, the total over the output channels, instead of (C_out, H_out, "
    "W_out).",
    """
def corr2d_multi_in_out(X, K):
    return sum(corr2d_multi_in(X, K_o) for K_o in np.asarray(K, dtype=float))
""",
)

_m(
    "multi_in_out_flipped_stacked_last",
    A,
    "corr2d_multi_in_out",
    "two_at_once",
    "Each 3-D kernel is flipped in both spatial axes before use (a true convolution instead of "
    "the cross-correlation), and the maps are stacked along the last axis, giving (H_out, "
    "W_out, C_out) instead of channels first.",
    """
def corr2d_multi_in_out(X, K):
    K = np.asarray(K, dtype=float)
    maps = [corr2d_multi_in(X, K[o, :, ::-1, ::-1]) for o in range(K.shape[0])]
    return np.stack(maps, axis=-1)
""",
)

_m(
    "conv1x1_weight_matrix_not_transposed",
    A,
    "conv1x1",
    "wrong_axis",
    "The pixels are laid out as rows (H*W, C_in) and multiplied by the (C_out, C_in) weight "
    "matrix itself instead of its transpose, so the product only runs when C_in == C_out, "
    "and then it applies the transposed weights (K[c, o] instead of K[o, c]).",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    W_mat = K.reshape(C_out, C_in)
    pixels = X.reshape(C_in, H * W).T
    Y2 = pixels @ W_mat
    return Y2.T.reshape(C_out, H, W)
""",
)

_m(
    "conv_mults_no_cout",
    A,
    "conv_mults",
    "missing_term",
    "The count is H_out * W_out * C_in * KH * KW, the work of ONE output channel: the factor "
    "C_out for the number of filters is missing.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return H_out * W_out * C_in * KH * KW
""",
)

_m(
    "vectorized_window_shape_kw_kh",
    A,
    "conv2d_vectorized",
    "shape_assumption",
    "sliding_window_view is given the window (KW, KH) instead of (KH, KW), which is only the "
    "same for square kernels; for a KH x KW kernel with KH != KW the windows do not match the "
    "kernel and the einsum fails.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KW, KH), axis=(1, 2))
    return np.einsum("cijab,ocab->oij", windows, K, optimize=True)
""",
)

_m(
    "vectorized_output_rows_columns_swapped",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "The einsum writes its output as 'oji' instead of 'oij', so every output map comes back "
    "transposed, with shape (C_out, W_out, H_out) instead of (C_out, H_out, W_out).",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->oji", windows, K, optimize=True)
""",
)

del A

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_pairs_read_x_first",
    A,
    "pool2d",
    "convention",
    "size, stride and padding pairs are unpacked as (width, height), x before y (KW, KH = "
    "as_pair(size) and so on), so a (KH, KW) window, a (SH, SW) stride or a (PH, PW) padding "
    "is applied with its two entries swapped.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"unknown mode {mode!r}")
    KW, KH = as_pair(size)
    SW, SH = (KW, KH) if stride is None else as_pair(stride)
    PW, PH = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
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
    "pool2d_padding_once_in_size",
    A,
    "pool2d",
    "missing_term",
    "X is padded on both sides, but the output size is computed as (H + PH - KH) // SH + 1, "
    "the padding counted once, so with padding the last row and column of windows are missing.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"unknown mode {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X.shape[0] + PH - KH) // SH + 1
    W_out = (X.shape[1] + PW - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool_channels_concatenated",
    A,
    "pool2d_channels",
    "other",
    "The pooled channels are joined with np.concatenate instead of np.stack, which puts them "
    "one below the other in a (C * H_out, W_out) array instead of (C, H_out, W_out).",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    return np.concatenate(
        [pool2d(X[c], size, stride=stride, padding=padding, mode=mode) for c in range(X.shape[0])]
    )
""",
)

_m(
    "grad_mask_last_tied_maximum",
    A,
    "maxpool_grad_mask",
    "convention",
    "The winner is found with a loop that keeps a position when its value is >= the best so "
    "far, so on a tie the LAST maximum of the window (in row-major order) wins instead of the "
    "first one that np.argmax and torch choose.",
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
            best = (0, 0)
            for a in range(KH):
                for b in range(KW):
                    if window[a, b] >= window[best]:
                        best = (a, b)
            mask[i * SH + best[0], j * SW + best[1]] += 1
    return mask
""",
)

_m(
    "grad_mask_unstrided_windows_count_by_division",
    A,
    "maxpool_grad_mask",
    "two_at_once",
    "The number of windows is taken as H // SH and W // SW instead of (H - KH) // SH + 1, and "
    "the windows are cut at X[i:i+KH, j:j+KW], not moved by the stride, while the winner is "
    "still placed at (i*SH + p, j*SW + q).",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = X.shape[0] // SH
    W_out = X.shape[1] // SW
    mask = np.zeros_like(X)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i : i + KH, j : j + KW]
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
    "numgrad_flat_gradient",
    A,
    "numerical_gradient",
    "shape_assumption",
    "The entries are perturbed through a flat view of x, which works, but the gradient is "
    "allocated as np.zeros(x.size) and returned flat, shape (x.size,), instead of the shape "
    "of x, so every gradient of a matrix or a 4-D array has the wrong shape.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.size)
    flat = x.reshape(-1)
    for k in range(x.size):
        old = flat[k]
        flat[k] = old + h
        f_plus = f(x)
        flat[k] = old - h
        f_minus = f(x)
        flat[k] = old
        grad[k] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_tiny_fixed_step",
    A,
    "numerical_gradient",
    "stability",
    "The step argument h is ignored and a 'more accurate' step of 1e-12 is used instead, so "
    "the difference f(x + h) - f(x - h) is mostly floating-point round-off and the gradient "
    "is off in the 4th or 5th digit (and the caller cannot choose h).",
    """
def numerical_gradient(f, x, *, h=1e-5):
    step = 1e-12
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + step
        f_plus = f(x)
        x[i] = old - step
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * step)
    return grad
""",
)

_m(
    "rel_error_abs_of_sum",
    A,
    "rel_error",
    "sign",
    "The denominators are |a + b| and ||a + b|| instead of |a| + |b| and ||a|| + ||b||, so "
    "entries of opposite sign nearly cancel in the denominator and the error can be far above "
    "1 (and a = -b gives |a - b| / eps).",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a + b), eps)))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a + b), eps))
""",
)

_m(
    "conv_fwd_contracts_filter_output_axis",
    A,
    "conv2d_forward",
    "wrong_axis",
    "The tensordot contracts the window's channel axis with the filters' axis 0 (C_out) "
    "instead of axis 1 (C_in), so it only runs when C_in == C_out, and then mixes the "
    "filters up (w[c, o] used as w[o, c]).",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [0, 2, 3])) + b
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_fwd_pads_channels_last_axes",
    A,
    "conv2d_forward",
    "convention",
    "The padding tuple is written for channels-last images, ((0, 0), (p, p), (p, p), (0, 0)), "
    "so on the NCHW input it pads the channel axis and the height but not the width: with "
    "padding the channels no longer match the filters and the windows run off the right edge.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
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
    "conv_bwd_dw_operands_swapped",
    A,
    "conv2d_backward",
    "wrong_axis",
    "dw is accumulated with tensordot(window, d) instead of tensordot(d, window), which gives "
    "an array of shape (C_in, KH, KW, C_out) that does not fit dw's (C_out, C_in, KH, KW), so "
    "the += fails (or, when the sizes happen to line up, mixes the axes).",
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
            dw += np.tensordot(xp[:, :, rows, cols], d, axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_first_image_only",
    A,
    "maxpool2d_forward",
    "shape_assumption",
    "The windows are cut from x[0], the first image only (the code was written for a batch of "
    "one), and broadcast into every image of out, so with N > 1 every image gets the first "
    "image's maxima and argmax.",
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
            window = x[0, :, i * s : i * s + k, j * s : j * s + k].reshape(C, k * k)
            argmax[:, :, i, j] = np.argmax(window, axis=1)
            out[:, :, i, j] = np.max(window, axis=1)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_index_arrays_with_slices",
    A,
    "maxpool2d_backward",
    "shape_assumption",
    "The winners are written with dx[:, :, i*s + p, j*s + q], slices for the batch and "
    "channel axes and (N, C) index arrays for the rows and columns, which numpy expands to an "
    "(N, C, N, C) selection: right for one image with one channel, wrong as soon as N * C > 1.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], k)
            dx[:, :, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_stride_none_unhandled",
    A,
    "avgpool2d_forward",
    "missing_term",
    "stride=None is never replaced by the kernel size (s = stride), so the default call "
    "avgpool2d_forward(x, kernel_size=k) fails with a TypeError on None.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = stride
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - k) // s + 1
    W_out = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].mean(axis=(2, 3))
    cache = (x.shape, k, s, p)
    return out, cache
""",
)

_m(
    "avgpool_bwd_divides_by_k_unpadded_grid",
    A,
    "avgpool2d_backward",
    "two_at_once",
    "dout is divided by k instead of k*k, and the gradient is spread over an unpadded "
    "(N, C, H, W) array as if the padded grid were the input's own, so the result is k times "
    "too large and, with padding, shifted by p rows and columns, with the windows at the "
    "bottom and right edges cut short.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    share = dout / k
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * s : i * s + k, j * s : j * s + k] += share[:, :, i, j][:, :, None, None]
    return dx
""",
)

del A

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_all_weights_then_all_biases",
    A,
    "init_lenet",
    "other",
    "All five weights are drawn first and the five biases after them, in a second loop, "
    "instead of weight then bias layer by layer, so from conv2 on the random numbers go to "
    "different tensors than the required order gives.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_fan_in_whole_shape",
    A,
    "init_lenet",
    "wrong_axis",
    "fan_in is the product of the whole weight shape, np.prod(w_shape), output axis included, "
    "instead of np.prod(w_shape[1:]), so every bound is sqrt(C_out) times too small.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_float32_parameters",
    A,
    "init_lenet",
    "rounding",
    "Every array is converted to float32 ('torch uses float32'), but the docstring asks for "
    "float64, and the values are rounded to about 7 digits.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape).astype(np.float32)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0]).astype(np.float32)
    return params
""",
)

_m(
    "forward_flatten_channels_last",
    A,
    "lenet_forward",
    "convention",
    "The pooled maps are transposed to channels-last (N, 5, 5, 16) before flattening (the "
    "Keras habit), so the 400 features reach fc1 in a different order than torch.flatten's "
    "channel-by-channel order that fc1's weights expect.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, caches["relu2"] = layers.relu_forward(h)
    h, caches["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["flatten"] = layers.flatten_forward(h.transpose(0, 2, 3, 1))
    h, caches["fc1"] = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    h, caches["relu3"] = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    h, caches["relu4"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "backward_skips_flatten",
    A,
    "lenet_backward",
    "missing_term",
    "flatten_backward is left out ('flatten has no parameters'), so fc1's (N, 400) input "
    "gradient goes straight into the second pooling's backward, which needs (N, 16, 5, 5).",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(d, c["relu4"])
    d, g["fc2.weight"], g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
    d = layers.relu_backward(d, c["relu3"])
    d, g["fc1.weight"], g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
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
    "backward_averages_dlogits_again",
    A,
    "lenet_backward",
    "other",
    "dlogits is divided by the batch size once more before fc3's backward ('average over the "
    "batch'), but softmax_cross_entropy already divided it by N, so every gradient is N times "
    "too small (right only for a batch of one).",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    N = dlogits.shape[0]
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits / N, c["fc3"])
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
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    return g
""",
)

_m(
    "ce_grad_adds_one_at_label",
    A,
    "softmax_cross_entropy",
    "sign",
    "The one-hot term is added at the labels (+= 1) instead of subtracted, so the gradient is "
    "(softmax + onehot) / N: every entry is positive and the label's logit is pushed down "
    "instead of up.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] += 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_steps_before_velocity_update",
    A,
    "sgd_step",
    "other",
    "The parameter is moved with the OLD velocity before the velocity is updated, so the "
    "first step does not move at all and every later step lags one gradient behind (and the "
    "weight decay is read from the already moved parameter).",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        p -= lr * velocity[name]
        velocity[name] = momentum * velocity[name] + grads[name] + weight_decay * p
""",
)

_m(
    "train_no_shuffle_no_weight_decay",
    A,
    "train_epoch",
    "two_at_once",
    "The batches are taken in the stored order (rng is never used, no shuffle), and "
    "weight_decay is not passed on to step, so the epoch runs without weight decay.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, caches = forward(params, xb, layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, yb)
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "train_accuracy_argmax_over_batch",
    A,
    "train_epoch",
    "wrong_axis",
    "The predictions are logits.argmax(axis=0), the most confident example of each class, "
    "instead of argmax(axis=1), the class of each example, so the comparison with the labels "
    "fails (or, for a batch of 10 or of 1, counts the wrong thing).",
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
    for start in range(0, N, batch_size):
        idx = order[start:start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(idx)
        correct += int((logits.argmax(axis=0) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_drops_partial_batch",
    A,
    "evaluate",
    "off_by_one",
    "The loop runs over range(N // batch_size) full batches, so the last, smaller batch is "
    "never evaluated (and N < batch_size evaluates nothing), while the totals are still "
    "divided by N.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for b in range(N // batch_size):
        xb = X[b * batch_size:(b + 1) * batch_size]
        yb = y[b * batch_size:(b + 1) * batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_casts_params_in_place",
    A,
    "evaluate",
    "in_place",
    "To match the images' dtype the parameters are converted with params[name] = "
    "params[name].astype(X.dtype), which replaces the arrays in the caller's dict: with "
    "float32 images the caller's float64 parameters come back as float32 (rounded).",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    for name in params:
        params[name] = params[name].astype(X.dtype)
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

del A

# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_unnamed_layers",
    A,
    "make_lenet_torch",
    "convention",
    "The layers are passed to nn.Sequential one by one instead of in an OrderedDict, so they "
    "are named 0, 1, 2, ... and the state_dict keys are 0.weight, 3.weight, ... instead of "
    "conv1.weight, conv2.weight, ...",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"unknown variant {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2),
        Act(),
        Pool(2),
        nn.Conv2d(6, 16, kernel_size=5),
        Act(),
        Pool(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        Act(),
        nn.Linear(120, 84),
        Act(),
        nn.Linear(84, 10),
    )
""",
)

_m(
    "make_lenet_sigmoid_keeps_max_pool",
    A,
    "make_lenet_torch",
    "missing_term",
    "The variant switches the activation but not the pooling: 'sigmoid-avg' gets sigmoids "
    "with max pooling instead of average pooling.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"unknown variant {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", Act()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", Act()),
        ("pool2", nn.MaxPool2d(2)),
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
    "load_params_loops_over_arrays",
    A,
    "load_numpy_params",
    "other",
    "The loop runs over the arrays in params instead of over the model's parameters, so a "
    "parameter that has no array is silently left at its old value (no KeyError naming it), "
    "and an extra array that the model does not have raises a bare KeyError instead.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    own = dict(model.named_parameters())
    with torch.no_grad():
        for name, array in params.items():
            array = np.asarray(array)
            if array.shape != tuple(own[name].shape):
                raise ValueError(f"{name}: shape {array.shape}, expected {tuple(own[name].shape)}")
            own[name].copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "load_params_converts_caller_arrays",
    A,
    "load_numpy_params",
    "in_place",
    "Each array is converted with params[name] = np.asarray(params[name], dtype=np.float64), "
    "which writes the float64 copies back into the caller's dict: the model is right, but "
    "the caller's float32 arrays have been replaced.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"params has no array for {name}")
            params[name] = np.asarray(params[name], dtype=np.float64)
            if params[name].shape != tuple(param.shape):
                raise ValueError(f"{name}: the array has shape {params[name].shape}, "
                                 f"the parameter {tuple(param.shape)}")
            param.copy_(torch.from_numpy(params[name]))
    return model
""",
)

_m(
    "train_torch_summed_loss",
    A,
    "train_epoch_torch",
    "other",
    "The loss is computed with reduction='sum' (copied from evaluate_torch) and that sum is "
    "backpropagated, so every gradient, and with it every SGD step, is batch-size times "
    "larger than with the mean loss (the epoch's loss is still averaged correctly, but over "
    "a different, too fast descent).",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y, reduction="sum")
        loss.backward()
        opt.step()
        total_loss += loss.item()
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "train_torch_nll_on_raw_logits",
    A,
    "train_epoch_torch",
    "missing_term",
    "The loss is F.nll_loss(logits, y) on the raw logits, without the log_softmax that "
    "F.cross_entropy includes, so the 'loss' is minus the mean label logit, unbounded below, "
    "and its gradient ignores the other classes.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        loss = F.nll_loss(logits, y)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_log_of_softmax",
    A,
    "evaluate_torch",
    "stability",
    "The loss is nll_loss(torch.log(F.softmax(logits))) instead of F.cross_entropy, so a "
    "label whose probability underflows to 0 (a logit hundreds below its row's max) gives "
    "log(0) = -inf and the mean loss becomes inf.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            logits = model(x)
            log_p = torch.log(F.softmax(logits, dim=1))
            total_loss += F.nll_loss(log_p, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_softmax_then_ce_batch_means",
    A,
    "evaluate_torch",
    "two_at_once",
    "A softmax is applied before F.cross_entropy, which applies its own (so the loss is that "
    "of the probabilities, squeezed near log(C)), and each batch's MEAN loss is added up and "
    "then divided by the number of examples, a loss about batch-size times too small.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            probs = F.softmax(model(x), dim=1)
            total_loss += F.cross_entropy(probs, y).item()
            correct += (probs.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
