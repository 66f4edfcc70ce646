"""A third set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-05 by a helper session started from a session of this project, to measure,
without any tuning afterwards, how often the course's checks name a mistake correctly. The
people who improve the feedback had not seen it before the final measurement.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the exercise docstrings and the reference solutions between BEGIN SOLUTION and END
SOLUTION), the solutions/ package, the shared lectures, the shared student trial reports, and
tests/course/mistake_set.py and tests/course/mistake_set_fresh.py, the latter two ONLY for
their format and to avoid repeating their ids and mistakes (no bug of theirs is repeated in
the same function). Of these, the notebooks, the trial reports (several mistakes here are
ones real students reported making) and the two earlier sets were read. NOT READ (nor
searched, nor run): course/checks/, autograder/, docs/diagnosis.md, tests/course/diagnosis.py,
or any test file; nothing was done to find out which mistakes the checks recognise.

Every entry was run against the notebook's reference solution (the function definitions of
the notebook's given and solution cells executed in order, then the buggy function executed
over them; the 06 and 07 functions with course.torch_layers.LAYERS as `layers`) on a few
ordinary inputs, and gives a different result there, or raises where the reference does not
(or does not raise where the reference does), or changes an input that the reference leaves
alone. The stability entries are told apart on the large or widely spread logits, or the
zero entries, that the docstrings promise to handle. The same script, given the reference
functions themselves, found no difference.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of mistake_set.py or
                 mistake_set_fresh.py)
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
    "corr2d_zeros_like_input",
    A,
    "corr2d",
    "two_at_once",
    "Y is allocated with np.zeros_like(X): it keeps the input's full (H, W) shape, so the "
    "last KH - 1 rows and KW - 1 columns come back as extra zeros, and for an integer image "
    "it has an integer dtype, which cuts off the fractional part of every output.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros_like(X)
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = (X[i:i + KH, j:j + KW] * K).sum()
    return Y
""",
)

_m(
    "corr2d_window_end_inclusive",
    A,
    "corr2d",
    "off_by_one",
    "The window is cut as X[r:r+kh-1, c:c+kw-1], as if slice ends were inclusive, so every "
    "window is one row and one column short of the kernel (it then broadcasts against K, or "
    "the product fails).",
    """
def corr2d(X, K):
    kh, kw = K.shape
    out_h = X.shape[0] - kh + 1
    out_w = X.shape[1] - kw + 1
    out = np.zeros((out_h, out_w))
    for r in range(out_h):
        for c in range(out_w):
            patch = X[r:r + kh - 1, c:c + kw - 1]
            out[r, c] = np.sum(patch * K)
    return out
""",
)

_m(
    "sharpen_missing_identity",
    A,
    "sharpen_kernel",
    "missing_term",
    "The kernel is only the 4-neighbour edge detector (4 in the centre, -1 on the four "
    "neighbours): the identity is never added, so the centre is 4 instead of 5 and the kernel "
    "sums to 0 instead of 1.",
    """
def sharpen_kernel():
    return np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float)
""",
)

_m(
    "sobel_y_bottom_minus_top",
    A,
    "sobel_y",
    "sign",
    "Sobel y is written bottom row minus top row (-1, -2, -1 on top), the negative of the "
    "lecture's top-minus-bottom kernel (the transpose of sobel_x).",
    """
def sobel_y():
    return np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float)
""",
)

_m(
    "gaussian_continuous_normaliser",
    A,
    "gaussian_kernel",
    "convention",
    "The kernel is divided by the continuous Gaussian's constant 2 * pi * sigma**2 instead of "
    "by its own sum, so the sampled kernel does not sum to 1 (far from it for small sizes or "
    "large sigma).",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    ax = np.arange(size) - c
    xx, yy = np.meshgrid(ax, ax)
    return np.exp(-(xx**2 + yy**2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)
""",
)

_m(
    "conv_true_negated_kernel",
    A,
    "conv2d_true",
    "sign",
    "'Flipping' the kernel is done by negating it (-K) instead of rotating it by 180 degrees "
    "(K[::-1, ::-1]), so the result is minus the cross-correlation, not the convolution.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"unknown mode {mode!r}")
    return corr2d(X, -K)
""",
)

_m(
    "conv_true_full_pads_k",
    A,
    "conv2d_true",
    "off_by_one",
    "'full' mode pads X with KH and KW zeros on every side instead of KH - 1 and KW - 1, so "
    "the output is (H + KH + 1, W + KW + 1) with an extra ring of zeros.",
    """
def conv2d_true(X, K, mode="valid"):
    kh, kw = K.shape
    if mode not in ("valid", "full"):
        raise ValueError("mode must be 'valid' or 'full', got " + str(mode))
    if mode == "full":
        X = np.pad(X, ((kh, kh), (kw, kw)))
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "as_matrix_row_index_input_width",
    A,
    "corr2d_as_matrix",
    "other",
    "The row of output pixel (i, j) is computed as i * W + j, with the input's width, instead "
    "of i * W_out + j, so the rows land in the wrong places and run past the last row of M "
    "(IndexError).",
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
                    M[i * W + j, (i + a) * W + (j + b)] = K[a, b]
    return M
""",
)

del A

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_round_nearest",
    A,
    "output_size",
    "rounding",
    "The division by the stride is rounded to the nearest integer (round) instead of down, so "
    "a last window that sticks out by half a stride or more is counted.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return round((n + 2 * padding - k) / stride) + 1
""",
)

_m(
    "output_size_total_padding_subtracted",
    A,
    "output_size_total",
    "sign",
    "The total padding is subtracted from the input size (n - k - total_padding + stride) "
    "instead of added, as if padding cropped the border.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k - total_padding + stride) // stride
""",
)

_m(
    "pad2d_symmetric_from_before",
    A,
    "pad2d",
    "shape_assumption",
    "The padded size is H + 2 * top and W + 2 * left, assuming both sides of an axis get the "
    "same padding; with the ((top, bottom), (left, right)) form and top != bottom (or "
    "left != right) the array has the wrong size or X does not fit.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        padding = ((padding, padding), (padding, padding))
    elif np.isscalar(padding[0]):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + 2 * top, W + 2 * left))
    Y[top:top + H, left:left + W] = X
    return Y
""",
)

_m(
    "same_padding_halves_k",
    A,
    "same_padding",
    "off_by_one",
    "The kernel size k is split in two (ceil(k / 2), k // 2) instead of k - 1, so every "
    "kernel gets one zero too many in total (a 3-wide kernel gets (2, 1) instead of (1, 1)).",
    """
def same_padding(k):
    before = int(np.ceil(k / 2))
    after = k // 2
    return before, after
""",
)

_m(
    "padded_size_with_raw_padding",
    A,
    "corr2d_padded",
    "shape_assumption",
    "The output size calls output_size with the raw padding argument, which only works for an "
    "int: a (ph, pw) pair or the nested form makes 2 * padding a repeated tuple and the call "
    "raises a TypeError.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(X.shape[0], KH, padding=padding, stride=sh)
    W_out = output_size(X.shape[1], KW, padding=padding, stride=sw)
    Xp = pad2d(X, padding)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh:i * sh + KH, j * sw:j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_output_input_dtype",
    A,
    "corr2d_padded",
    "rounding",
    "The output is allocated with the input's dtype (dtype=X.dtype), so for an integer image "
    "every output value is truncated to an integer (a blur or a fractional kernel loses its "
    "fractions).",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    kh, kw = K.shape
    out_h = output_size(Xp.shape[0], kh, stride=sh)
    out_w = output_size(Xp.shape[1], kw, stride=sw)
    out = np.zeros((out_h, out_w), dtype=X.dtype)
    for r in range(out_h):
        for c in range(out_w):
            out[r, c] = (Xp[r * sh:r * sh + kh, c * sw:c * sw + kw] * K).sum()
    return out
""",
)

_m(
    "dilated_pair_swapped_no_stride",
    A,
    "corr2d_dilated",
    "two_at_once",
    "A dilation pair is unpacked as (dw, dh), so the vertical dilation spreads the columns and "
    "vice versa, and the stride is never passed on to corr2d_padded, so every call runs at "
    "stride 1.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dw, dh = as_pair(dilation)
    kh, kw = K.shape
    big = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1))
    big[::dh, ::dw] = K
    return corr2d_padded(X, big, padding=padding)
""",
)

_m(
    "dilated_size_from_undilated_kernel",
    A,
    "corr2d_dilated",
    "missing_term",
    "The taps are read with a step of d, but the output size is computed from the undilated "
    "kernel size KH instead of the footprint d*(KH-1)+1, so with dilation > 1 there are too "
    "many window positions and the last windows run off the padded input (the product fails).",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    sh, sw = as_pair(stride)
    Xp = pad2d(X, padding)
    KH, KW = K.shape
    H_out = (Xp.shape[0] - KH) // sh + 1
    W_out = (Xp.shape[1] - KW) // sw + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            taps = Xp[i * sh:i * sh + dh * (KH - 1) + 1:dh, j * sw:j * sw + dw * (KW - 1) + 1:dw]
            Y[i, j] = np.sum(taps * K)
    return Y
""",
)

del A

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_misses_last_channel",
    A,
    "corr2d_multi_in",
    "off_by_one",
    "The channel loop runs over range(C_in - 1) on an array of zeros, so the last input "
    "channel never contributes (and a one-channel input gives all zeros).",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in = len(X)
    out = np.zeros((X.shape[1] - K.shape[1] + 1, X.shape[2] - K.shape[2] + 1))
    for c in range(C_in - 1):
        out += corr2d(X[c], K[c])
    return out
""",
)

_m(
    "multi_in_out_loops_over_cin",
    A,
    "corr2d_multi_in_out",
    "shape_assumption",
    "The loop over output channels runs over range(X.shape[0]), the number of INPUT channels, "
    "so it is only right when C_in == C_out: otherwise output channels are missing or K[o] "
    "runs past the last filter.",
    """
def corr2d_multi_in_out(X, K):
    maps = []
    for o in range(X.shape[0]):
        maps.append(corr2d_multi_in(X, K[o]))
    return np.stack(maps)
""",
)

_m(
    "conv1x1_squeeze_kernel",
    A,
    "conv1x1",
    "shape_assumption",
    "The weight matrix is taken as K.squeeze(), which also drops the C_in axis when C_in == 1 "
    "(and the C_out axis when C_out == 1), so a one-channel input gives a vector and the "
    "matrix product fails.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    C_in, H, W = X.shape
    Wm = np.asarray(K, dtype=float).squeeze()
    Y = Wm @ X.reshape(C_in, H * W)
    return Y.reshape(-1, H, W)
""",
)

_m(
    "conv1x1_reshapes_caller_arrays",
    A,
    "conv1x1",
    "in_place",
    "X and K are reshaped by assigning to their .shape attribute, which reshapes the caller's "
    "own arrays: the result is right, but afterwards the caller's X is (C_in, H*W) and K is "
    "(C_out, C_in).",
    """
def conv1x1(X, K):
    C_in, H, W = X.shape
    C_out = K.shape[0]
    X.shape = (C_in, H * W)
    K.shape = (C_out, C_in)
    return (K @ X).reshape(C_out, H, W)
""",
)

_m(
    "conv_params_bias_flag_ignored",
    A,
    "conv_params",
    "other",
    "The C_out biases are always counted: the bias argument is never read, so bias=False "
    "still adds C_out.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    weights = C_out * C_in * KH * KW
    biases = C_out
    return weights + biases
""",
)

_m(
    "conv_mults_counts_flops",
    A,
    "conv_mults",
    "convention",
    "Each term is counted as two operations, a multiply and an add (FLOPs), so the result is "
    "twice the number of multiplications asked for.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    per_output = C_in * KH * KW
    return 2 * per_output * C_out * H_out * W_out
""",
)

_m(
    "vectorized_im2col_no_transpose",
    A,
    "conv2d_vectorized",
    "other",
    "The im2col matrix is made by reshaping the (C_in, H_out, W_out, KH, KW) windows straight "
    "to (C_in*KH*KW, H_out*W_out) without transposing them first, so the columns mix entries "
    "of different windows and no longer match the order of K.reshape(C_out, -1).",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    H_out, W_out = X.shape[1] - KH + 1, X.shape[2] - KW + 1
    win = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    cols = win.reshape(C_in * KH * KW, H_out * W_out)
    out = K.reshape(C_out, -1) @ cols
    return out.reshape(C_out, H_out, W_out)
""",
)

_m(
    "vectorized_window_view_no_axis",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "sliding_window_view is called without axis=(1, 2), so the (KH, KW) window is applied to "
    "all three axes of the (C_in, H, W) input, which numpy refuses (the window has fewer "
    "dimensions than X) and the call raises.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    KH, KW = K.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW))
    return np.einsum("cijab,ocab->oij", windows, K, optimize=True)
""",
)

del A

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_no_mode_check",
    A,
    "pool2d",
    "missing_term",
    "No ValueError for an unknown mode: anything that is not 'max' (a typo such as 'Max', or "
    "'median') silently gives average pooling.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    if mode == "max":
        X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=-np.inf)
    else:
        X_pad = np.pad(X, ((PH, PH), (PW, PW)))
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH:i * SH + KH, j * SW:j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_np_pad_pair",
    A,
    "pool2d",
    "convention",
    "The padding goes straight to np.pad, which reads a (PH, PW) pair as (before, after) for "
    "both axes, so a pair pads PH on the top and left and PW on the bottom and right instead "
    "of PH rows and PW columns on each side.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    kh, kw = as_pair(size)
    sh, sw = as_pair(stride) if stride is not None else (kh, kw)
    fill = -np.inf if mode == "max" else 0.0
    Xp = np.pad(X, padding, constant_values=fill)
    out_h = (Xp.shape[0] - kh) // sh + 1
    out_w = (Xp.shape[1] - kw) // sw + 1
    out = np.zeros((out_h, out_w))
    for r in range(out_h):
        for c in range(out_w):
            win = Xp[r * sh:r * sh + kh, c * sw:c * sw + kw]
            out[r, c] = win.max() if mode == "max" else win.mean()
    return out
""",
)

_m(
    "pool2d_window_spans_stride",
    A,
    "pool2d",
    "other",
    "Each window is cut as X_pad[i*SH:(i+1)*SH, j*SW:(j+1)*SW], one stride wide instead of "
    "one kernel wide, which is only right when the stride equals the window size: overlapping "
    "windows shrink to the stride and larger strides read more than the window.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError("mode must be max or avg")
    KH, KW = as_pair(size)
    if stride is None:
        stride = (KH, KW)
    SH, SW = as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH:(i + 1) * SH, j * SW:(j + 1) * SW]
            if mode == "max":
                Y[i, j] = window.max()
            else:
                Y[i, j] = window.mean()
    return Y
""",
)

_m(
    "pool_channels_count_from_width",
    A,
    "pool2d_channels",
    "wrong_axis",
    "The number of channels is read from the last axis (X.shape[-1], the width) instead of "
    "the first, so the loop pools W channels: channels are dropped when W < C and X[c] runs "
    "past the last channel when W > C.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    n_channels = X.shape[-1]
    return np.stack([pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
                     for c in range(n_channels)])
""",
)

_m(
    "pool_channels_mode_not_passed",
    A,
    "pool2d_channels",
    "missing_term",
    "stride and padding are passed on to pool2d but mode is not, so mode='avg' still gives "
    "max pooling on every channel.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    pooled = []
    for channel in X:
        pooled.append(pool2d(channel, size, stride=stride, padding=padding))
    return np.array(pooled)
""",
)

_m(
    "grad_mask_all_ties_counted",
    A,
    "maxpool_grad_mask",
    "other",
    "Every position of the window that equals the window's max gets +1 (mask[window] += "
    "window == window.max()), so a window with a tie is counted twice instead of only its "
    "first maximum in row-major order.",
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
            win = X[i * SH:i * SH + KH, j * SW:j * SW + KW]
            mask[i * SH:i * SH + KH, j * SW:j * SW + KW] += win == win.max()
    return mask
""",
)

_m(
    "grad_mask_ties_set_no_plus_one",
    A,
    "maxpool_grad_mask",
    "two_at_once",
    "Every tied maximum inside a window is set to 1 (=) instead of adding 1 at the first "
    "maximum only, so ties are all marked and an input that wins several overlapping windows "
    "counts once; and the number of windows is missing its +1, so the last row and column of "
    "windows are never visited.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    kh, kw = as_pair(size)
    sh, sw = (kh, kw) if stride is None else as_pair(stride)
    n_rows = (X.shape[0] - kh) // sh
    n_cols = (X.shape[1] - kw) // sw
    mask = np.zeros(X.shape)
    for r in range(n_rows):
        for c in range(n_cols):
            window = X[r * sh:r * sh + kh, c * sw:c * sw + kw]
            region = mask[r * sh:r * sh + kh, c * sw:c * sw + kw]
            region[window == window.max()] = 1
    return mask
""",
)

del A

# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_minus_step_missing",
    A,
    "numerical_gradient",
    "missing_term",
    "The second evaluation is made at x itself (x[i] is put back before f is called again) "
    "instead of at x - h, but the difference is still divided by 2h, so every entry is about "
    "half the gradient.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        fp = f(x)
        x[idx] = old
        fm = f(x)
        grad[idx] = (fp - fm) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_relative_step",
    A,
    "numerical_gradient",
    "stability",
    "The step is made relative to the entry (h * |x[i]|) instead of the fixed h, so for an "
    "entry that is 0 the step is 0 and the gradient is 0 / 0 = nan, and for tiny entries the "
    "difference is lost to rounding.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        saved = x[idx]
        step = h * abs(saved)
        x[idx] = saved + step
        fp = f(x)
        x[idx] = saved - step
        fm = f(x)
        x[idx] = saved
        grad[idx] = (fp - fm) / (2 * step)
    return grad
""",
)

_m(
    "rel_error_max_denominator",
    A,
    "rel_error",
    "convention",
    "The denominators are max(|a|, |b|) (and max(||a||, ||b||)) instead of the sums "
    "|a| + |b| and ||a|| + ||b||, another common definition but not the one asked for: every "
    "error comes out up to twice as large and can exceed 1.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        den = np.maximum(np.maximum(np.abs(a), np.abs(b)), eps)
        return float(np.max(np.abs(a - b) / den))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), eps))
""",
)

_m(
    "conv_fwd_bias_last_axis",
    A,
    "conv2d_forward",
    "wrong_axis",
    "The bias is added at the end with out += b, which broadcasts b along the last axis (the "
    "output width) instead of the channel axis: it raises unless W_out == C_out, and then "
    "adds b[j] to column j instead of b[o] to channel o.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = 1 + (H + 2 * padding - HH) // stride
    W_out = 1 + (W + 2 * padding - WW) // stride
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", patch, w)
    out += b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_fwd_padding_once_in_size",
    A,
    "conv2d_forward",
    "missing_term",
    "The input is padded on both sides, but the output size uses H + p - KH (the padding "
    "counted once), so with padding the last rows and columns of windows are never computed.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + p - KH) // s + 1
    W_out = (W + p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s:i * s + KH, j * s:j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_bwd_dx_assigned",
    A,
    "conv2d_backward",
    "other",
    "dx is written window by window with = instead of +=, so where windows overlap "
    "(stride < kernel size) each input keeps only the gradient of the last window that "
    "covers it.",
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
            dxp[:, :, rows, cols] = np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p:p + H, p:p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_dw_flipped",
    A,
    "conv2d_backward",
    "convention",
    "dw is flipped by 180 degrees at the end ('backprop through a convolution flips the "
    "kernel'), but the forward pass is a cross-correlation, so dw must not be flipped: the "
    "flip belongs to the dx rule, not to dw.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp, dtype=float)
    dw = np.zeros_like(w, dtype=float)
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * s:i * s + KH, j * s:j * s + KW]
            dw += np.einsum("no,nchw->ochw", dout[:, :, i, j], win)
            dxp[:, :, i * s:i * s + KH, j * s:j * s + KW] += np.einsum(
                "no,ochw->nchw", dout[:, :, i, j], w)
    dw = dw[:, :, ::-1, ::-1]
    db = np.sum(dout, axis=(0, 2, 3))
    return dxp[:, :, p:p + H, p:p + W], dw, db
""",
)

_m(
    "conv_bwd_db_per_image_dw_mean",
    A,
    "conv2d_backward",
    "two_at_once",
    "db is summed over the spatial axes only (dout.sum(axis=(2, 3))), giving one row per "
    "image of shape (N, C_out) instead of (C_out,), and dw is divided by the batch size N, "
    "as if the layer averaged over the batch (the loss already did).",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(2, 3))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dw /= N
    dx = dxp[:, :, p:p + H, p:p + W]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_argmax_unflattened_axis",
    A,
    "maxpool2d_forward",
    "wrong_axis",
    "The window is kept 4-D (N, C, k, k): the max is taken over axes (2, 3), but the argmax "
    "over axis=2 alone, which gives one index per column of the window, shape (N, C, k), and "
    "storing it in argmax[:, :, i, j] fails.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = stride or k
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k]
            out[:, :, i, j] = window.max(axis=(2, 3))
            argmax[:, :, i, j] = window.argmax(axis=2)
    return out, (x.shape, k, s, argmax)
""",
)

_m(
    "maxpool_bwd_divmod_by_stride",
    A,
    "maxpool2d_backward",
    "other",
    "The flat argmax is turned into (row, column) with np.divmod(argmax, s), the stride, "
    "instead of the window width k, which is only right when the stride equals the kernel "
    "size: with overlapping windows the gradient lands on the wrong input.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], s)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_floor_division",
    A,
    "avgpool2d_forward",
    "rounding",
    "Each window's sum is divided by k * k with // (floor division), which rounds every mean "
    "down to a whole number.",
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
            out[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].sum(axis=(2, 3)) // (k * k)
    return out, (x.shape, k, s, p)
""",
)

_m(
    "avgpool_bwd_crop_bottom_right",
    A,
    "avgpool2d_backward",
    "other",
    "The padded gradient is cut with dxp[:, :, :H, :W], dropping the padding from the bottom "
    "and right only, so with padding the gradient is shifted by p rows and columns (the top "
    "and left padding is kept, the last real rows and columns are cut).",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j] / (k * k)
            dxp[:, :, i * s:i * s + k, j * s:j * s + k] += share[:, :, None, None]
    return dxp[:, :, :H, :W]
""",
)

del A

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_no_sqrt_global_rng",
    A,
    "init_lenet",
    "two_at_once",
    "The bound is 1 / fan_in instead of 1 / sqrt(fan_in), so every layer starts with far too "
    "small weights, and the numbers come from the global generator (np.random.seed and "
    "np.random.uniform) instead of rng = np.random.default_rng(seed), so they differ from the "
    "required stream even for the right bound.",
    """
def init_lenet(seed=0):
    np.random.seed(seed)
    shapes = [("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5)), ("fc1", (120, 400)),
              ("fc2", (84, 120)), ("fc3", (10, 84))]
    params = {}
    for name, shape in shapes:
        fan_in = int(np.prod(shape[1:]))
        bound = 1.0 / fan_in
        params[name + ".weight"] = np.random.uniform(-bound, bound, size=shape)
        params[name + ".bias"] = np.random.uniform(-bound, bound, size=shape[0])
    return params
""",
)

_m(
    "forward_no_relu_after_conv2",
    A,
    "lenet_forward",
    "missing_term",
    "The ReLU between conv2 and the second pooling is left out, so negative conv2 outputs go "
    "through the pooling and into fc1, and the caches have no 'relu2' entry.",
    """
def lenet_forward(params, x, layers):
    caches = {}
    out, caches["conv1"] = layers.conv2d_forward(x, params["conv1.weight"], params["conv1.bias"],
                                                 padding=2)
    out, caches["relu1"] = layers.relu_forward(out)
    out, caches["pool1"] = layers.maxpool2d_forward(out, kernel_size=2, stride=2)
    out, caches["conv2"] = layers.conv2d_forward(out, params["conv2.weight"], params["conv2.bias"])
    out, caches["pool2"] = layers.maxpool2d_forward(out, kernel_size=2, stride=2)
    out, caches["flatten"] = layers.flatten_forward(out)
    out, caches["fc1"] = layers.linear_forward(out, params["fc1.weight"], params["fc1.bias"])
    out, caches["relu3"] = layers.relu_forward(out)
    out, caches["fc2"] = layers.linear_forward(out, params["fc2.weight"], params["fc2.bias"])
    out, caches["relu4"] = layers.relu_forward(out)
    logits, caches["fc3"] = layers.linear_forward(out, params["fc3.weight"], params["fc3.bias"])
    return logits, caches
""",
)

_m(
    "backward_relu_caches_swapped",
    A,
    "lenet_backward",
    "other",
    "The two fully connected ReLUs are undone with each other's caches (relu3's cache after "
    "fc3, relu4's after fc2), so the (N, 84) gradient is masked with the (N, 120) input and "
    "the call fails.",
    """
def lenet_backward(dlogits, caches, layers):
    grads = {}
    d, grads["fc3.weight"], grads["fc3.bias"] = layers.linear_backward(dlogits, caches["fc3"])
    d = layers.relu_backward(d, caches["relu3"])
    d, grads["fc2.weight"], grads["fc2.bias"] = layers.linear_backward(d, caches["fc2"])
    d = layers.relu_backward(d, caches["relu4"])
    d, grads["fc1.weight"], grads["fc1.bias"] = layers.linear_backward(d, caches["fc1"])
    d = layers.flatten_backward(d, caches["flatten"])
    d = layers.maxpool2d_backward(d, caches["pool2"])
    d = layers.relu_backward(d, caches["relu2"])
    d, grads["conv2.weight"], grads["conv2.bias"] = layers.conv2d_backward(d, caches["conv2"])
    d = layers.maxpool2d_backward(d, caches["pool1"])
    d = layers.relu_backward(d, caches["relu1"])
    _, grads["conv1.weight"], grads["conv1.bias"] = layers.conv2d_backward(d, caches["conv1"])
    return grads
""",
)

_m(
    "ce_log_of_softmax",
    A,
    "softmax_cross_entropy",
    "stability",
    "The max is subtracted, but the loss takes np.log of the softmax probabilities instead of "
    "using the log-softmax (shifted - log-sum-exp), so a label whose probability underflows "
    "to 0 (a logit hundreds below the row's max) gives log(0) = -inf and an infinite loss.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dlogits = p.copy()
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_global_max_shift",
    A,
    "softmax_cross_entropy",
    "stability",
    "The max subtracted is the largest logit of the whole batch (logits.max()), not each "
    "row's, so a row whose logits are all far below another row's max underflows to exp = 0 "
    "everywhere and its loss and gradient become infinite or nan.",
    """
def softmax_cross_entropy(logits, y):
    n = len(y)
    shifted = logits - np.max(logits)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(n), y])
    grad = np.exp(log_probs)
    grad[np.arange(n), y] -= 1
    return float(loss), grad / n
""",
)

_m(
    "ce_loss_after_in_place_grad",
    A,
    "softmax_cross_entropy",
    "in_place",
    "dlogits is the probability array itself (dlogits = probs, no copy), so subtracting 1 at "
    "the labels and dividing by N in place also changes probs, and the loss, computed "
    "afterwards from probs, takes the log of negative numbers (nan).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(axis=1, keepdims=True)
    dlogits = probs
    dlogits[np.arange(N), y] -= 1
    dlogits /= N
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    return float(loss), dlogits
""",
)

_m(
    "ce_loss_not_negated",
    A,
    "softmax_cross_entropy",
    "sign",
    "The loss is the mean log-probability of the labels without the minus sign, so it is "
    "negative and decreases as the network gets worse; the gradient is right.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_decay_outside_velocity",
    A,
    "sgd_step",
    "convention",
    "The weight decay is added to the step after the momentum (p -= lr * (v + wd * p)) "
    "instead of to the gradient before it goes into the velocity, so the decay never builds "
    "up momentum and the steps differ from torch.optim.SGD.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name in params:
        v = velocity[name]
        v *= momentum
        v += grads[name]
        params[name] -= lr * (v + weight_decay * params[name])
""",
)

_m(
    "train_two_permutations",
    A,
    "train_epoch",
    "other",
    "The images and the labels are shuffled with two different calls to rng.permutation, so "
    "after the shuffle the labels no longer belong to their images and the network trains on "
    "random labels.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    X_shuf = X[rng.permutation(N)]
    y_shuf = y[rng.permutation(N)]
    total, n_correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb = X_shuf[start:start + batch_size]
        yb = y_shuf[start:start + batch_size]
        logits, caches = forward(params, xb, layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, yb)
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total += float(loss) * len(yb)
        n_correct += int(np.sum(np.argmax(logits, axis=1) == yb))
    return {"loss": total / N, "acc": n_correct / N}
""",
)

_m(
    "evaluate_sum_of_means_last_acc",
    A,
    "evaluate",
    "two_at_once",
    "The batch mean losses are added up without their batch sizes and then divided by N "
    "(a loss about batch_size times too small), and the accuracy is overwritten in every "
    "batch, so only the last batch's accuracy is returned.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss = 0.0
    acc = 0.0
    for i in range(0, N, batch_size):
        logits, _ = forward(params, X[i:i + batch_size], layers)
        loss, _ = layers.softmax_cross_entropy(logits, y[i:i + batch_size])
        total_loss += loss
        acc = np.mean(logits.argmax(axis=1) == y[i:i + batch_size])
    return {"loss": total_loss / N, "acc": float(acc)}
""",
)

del A

# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_shared_modules_max_pool",
    A,
    "make_lenet_torch",
    "two_at_once",
    "One activation object and one pooling object are created and put in every place they "
    "appear, so the Sequential holds each of them once and named_children() skips their "
    "later places; and the pooling is always nn.MaxPool2d, so the 'sigmoid-avg' variant "
    "gets max pooling instead of average pooling.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"unknown variant {variant!r}")
    act = nn.ReLU() if variant == "relu-max" else nn.Sigmoid()
    pool = nn.MaxPool2d(2)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", act),
        ("pool1", pool),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", act),
        ("pool2", pool),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act3", act),
        ("fc2", nn.Linear(120, 84)),
        ("act4", act),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "make_lenet_softmax_at_end",
    A,
    "make_lenet_torch",
    "other",
    "An nn.Softmax(dim=1) is appended after fc3 ('apply softmax at the end'), so the model "
    "returns probabilities instead of raw logits, and F.cross_entropy would apply a second "
    "softmax on top of them.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant == "relu-max":
        Act, Pool = nn.ReLU, nn.MaxPool2d
    elif variant == "sigmoid-avg":
        Act, Pool = nn.Sigmoid, nn.AvgPool2d
    else:
        raise ValueError("variant must be 'relu-max' or 'sigmoid-avg'")
    layers = OrderedDict()
    layers["conv1"] = nn.Conv2d(1, 6, kernel_size=5, padding=2)
    layers["act1"] = Act()
    layers["pool1"] = Pool(2)
    layers["conv2"] = nn.Conv2d(6, 16, kernel_size=5)
    layers["act2"] = Act()
    layers["pool2"] = Pool(2)
    layers["flatten"] = nn.Flatten()
    layers["fc1"] = nn.Linear(400, 120)
    layers["act3"] = Act()
    layers["fc2"] = nn.Linear(120, 84)
    layers["act4"] = Act()
    layers["fc3"] = nn.Linear(84, 10)
    layers["softmax"] = nn.Softmax(dim=1)
    return nn.Sequential(layers)
""",
)

_m(
    "load_params_shares_memory",
    A,
    "load_numpy_params",
    "in_place",
    "Each parameter's data is replaced by torch.from_numpy(array) (param.data = ...), which "
    "shares memory with the numpy array instead of copying it, so a later change to the "
    "array (or an optimiser step) changes both; a float32 array also makes that parameter "
    "float32 again.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    for name, param in model.named_parameters():
        if name not in params:
            raise KeyError(f"no array for {name}")
        array = np.asarray(params[name])
        if array.shape != tuple(param.shape):
            raise ValueError(f"{name}: array {array.shape}, parameter {tuple(param.shape)}")
        param.data = torch.from_numpy(array)
    return model
""",
)

_m(
    "load_params_float64_after_copy",
    A,
    "load_numpy_params",
    "rounding",
    "The arrays are copied into the float32 parameters first and the model is converted to "
    "float64 only afterwards, so float64 arrays are rounded to float32's 7 digits on the "
    "way in.",
    """
def load_numpy_params(model, params):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in params:
                raise KeyError(name)
            a = np.asarray(params[name])
            if a.shape != tuple(p.shape):
                raise ValueError(f"{name}: got {a.shape}, expected {tuple(p.shape)}")
            p.copy_(torch.from_numpy(a))
    return model.to(torch.float64)
""",
)

_m(
    "load_params_no_shape_check",
    A,
    "load_numpy_params",
    "missing_term",
    "The shapes are never compared, so copy_ broadcasts a (1,) array into a (6,) bias "
    "without complaint, and a transposed weight fails inside torch with a RuntimeError "
    "instead of the ValueError that names the parameter and both shapes.",
    """
def load_numpy_params(model, params):
    model = model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"params has no array for {name}")
            param.copy_(torch.as_tensor(params[name]))
    return model
""",
)

_m(
    "train_torch_no_zero_grad",
    A,
    "train_epoch_torch",
    "missing_term",
    "opt.zero_grad() is never called, so loss.backward() adds each batch's gradient to all "
    "the previous ones and every step after the first uses the sum of all gradients so far.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
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
    "eval_torch_batch_means_batch_count",
    A,
    "evaluate_torch",
    "two_at_once",
    "The count goes up by 1 per batch instead of by the batch size, so the accuracy is the "
    "number of correct examples divided by the number of batches (well above 1), and the loss "
    "is the plain mean of the batch mean losses, which overweights a smaller last batch.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x, y = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y).item()
            correct += (logits.argmax(1) == y).sum().item()
            count += 1
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
