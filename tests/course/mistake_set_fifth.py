"""A fifth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-06 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. The people who improve the feedback had not seen it before the final measurement.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the exercise docstrings and the reference solutions between BEGIN SOLUTION and END
SOLUTION), the solutions/ package, the shared lectures, the shared student trial reports, and
tests/course/mistake_set.py, tests/course/mistake_set_fresh.py,
tests/course/mistake_set_third.py and tests/course/mistake_set_fourth.py, the last four ONLY
for their format and to avoid repeating their ids and mistakes (no bug of theirs is repeated
in the same function). Of these, the notebooks (their exercise docstrings and reference
solutions), the format of mistake_set_fourth.py and the ids of the four earlier sets were
read. NOT READ (nor searched, nor run): course/checks/, autograder/, docs/,
tests/course/diagnosis.py, or any other test file; git log and git diffs were not looked at;
course.checks was never imported, and nothing was done to find out which mistakes the checks
recognise.

Every entry was run against the notebook's reference solution (the function definitions of
the notebook's given and solution cells executed in order, then the buggy function executed
over them; the 06 and 07 functions with course.torch_layers.LAYERS as `layers`) on a few
ordinary inputs (non-square images and kernels, batches and several channels, strides and
paddings, as the docstrings allow), and gives a different result there, or raises where the
reference does not (or does not raise where the reference does), or changes an input that the
reference leaves alone. The stability entries are told apart on small values or logits in
the hundreds. The same script, given the reference functions themselves, found no difference.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of mistake_set.py,
                 mistake_set_fresh.py, mistake_set_third.py or mistake_set_fourth.py)
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
    "corr2d_einsum_kernel_transposed",
    A,
    "corr2d",
    "wrong_axis",
    "The vectorised version reads the kernel's axes the other way round in the einsum "
    "(ba instead of ab), so it correlates with K transposed; only symmetric kernels come out "
    "right.",
    """
def corr2d(X, K):
    kh, kw = K.shape
    patches = np.lib.stride_tricks.sliding_window_view(X, (kh, kw))
    return np.einsum("ijab,ba->ij", patches, K).astype(float)
""",
)

_m(
    "corr2d_bias_ones_like_input",
    A,
    "corr2d_bias",
    "shape_assumption",
    "The bias is turned into a map the size of the INPUT, which cannot be added to the "
    "smaller output of corr2d, so it raises a broadcasting error.",
    """
def corr2d_bias(X, K, b):
    bias_map = b * np.ones_like(X, dtype=float)
    return corr2d(X, K) + bias_map
""",
)

_m(
    "edge_kernel_centre_added",
    A,
    "edge_kernel",
    "off_by_one",
    "The 8 is added to the centre of an all -1 kernel instead of put there, so the centre is "
    "7 and the kernel sums to -1, not 0.",
    """
def edge_kernel():
    K = -np.ones((3, 3))
    K[1, 1] += 8
    return K
""",
)

_m(
    "sharpen_identity_as_eye",
    A,
    "sharpen_kernel",
    "convention",
    "The identity kernel is written as np.eye(3), the identity MATRIX, instead of a single 1 "
    "in the centre, so the corners of the diagonal get a 1 too.",
    """
def sharpen_kernel():
    edges = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float)
    return np.eye(3) + edges
""",
)

_m(
    "sharpen_neighbours_positive",
    A,
    "sharpen_kernel",
    "sign",
    "The four direct neighbours are +1 instead of -1, which blurs instead of sharpening (the "
    "kernel sums to 9).",
    """
def sharpen_kernel():
    K = np.zeros((3, 3))
    K[1, 1] = 5
    K[0, 1] = K[2, 1] = K[1, 0] = K[1, 2] = 1
    return K
""",
)

_m(
    "sobel_y_rows_reversed",
    A,
    "sobel_y",
    "convention",
    "sobel_x is flipped upside down instead of transposed, which gives sobel_x back (its rows "
    "are symmetric), a vertical-edge detector again.",
    """
def sobel_y():
    return sobel_x()[::-1, :].copy()
""",
)

_m(
    "box_blur_k_times_two",
    A,
    "box_blur",
    "other",
    "Every entry is 1 / (2k) instead of 1 / k**2 (k*2 typed for k**2); right only for k = 2.",
    """
def box_blur(k):
    return np.ones((k, k)) / (k * 2)
""",
)

_m(
    "gaussian_no_factor_two",
    A,
    "gaussian_kernel",
    "missing_term",
    "The exponent is divided by sigma**2 instead of 2 * sigma**2, so the blur is narrower "
    "than asked (as if sigma were divided by sqrt 2).",
    """
def gaussian_kernel(size, sigma):
    G = np.zeros((size, size))
    c = (size - 1) / 2
    for u in range(size):
        for v in range(size):
            G[u, v] = np.exp(-((u - c) ** 2 + (v - c) ** 2) / sigma**2)
    return G / np.sum(G)
""",
)

_m(
    "gaussian_half_range_column_normalised",
    A,
    "gaussian_kernel",
    "two_at_once",
    "The offsets come from np.arange(-size // 2, size // 2), which for an odd size runs from "
    "-(size+1)/2 and misses the right end (the peak is off centre), and each column is "
    "normalised on its own (sum over axis 0) instead of the whole kernel.",
    """
def gaussian_kernel(size, sigma):
    r = np.arange(-size // 2, size // 2)
    xx, yy = np.meshgrid(r, r)
    G = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    return G / G.sum(axis=0)
""",
)

_m(
    "conv_true_rot90_once",
    A,
    "conv2d_true",
    "convention",
    "The kernel is turned with np.rot90 once (90 degrees) instead of flipped along both axes "
    "(180 degrees), and a non-square kernel then has the wrong shape.",
    """
def conv2d_true(X, K, mode="valid"):
    if mode not in ("valid", "full"):
        raise ValueError(f"unknown mode {mode}")
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    return corr2d(X, np.rot90(K))
""",
)

_m(
    "conv_true_full_one_sided_no_mode_check",
    A,
    "conv2d_true",
    "two_at_once",
    "'full' pads KH - 1 rows and KW - 1 columns only at the top and left (the output is too "
    "small), and any mode other than 'valid' is taken to be 'full' instead of raising "
    "ValueError.",
    """
def conv2d_true(X, K, mode="valid"):
    flipped = np.flip(K)
    if mode == "valid":
        return corr2d(X, flipped)
    kh, kw = K.shape
    Xp = np.pad(X, ((kh - 1, 0), (kw - 1, 0)))
    return corr2d(Xp, flipped)
""",
)

_m(
    "as_matrix_tap_row_stride_kw",
    A,
    "corr2d_as_matrix",
    "wrong_axis",
    "The column of tap (a, b) steps a whole row with the KERNEL width KW instead of the "
    "image width W, so taps below the first kernel row land on the wrong input pixels.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    Ho, Wo = H - KH + 1, W - KW + 1
    M = np.zeros((Ho * Wo, H * W))
    for r in range(Ho * Wo):
        i, j = divmod(r, Wo)
        start = i * W + j
        for a in range(KH):
            for b in range(KW):
                M[r, start + a * KW + b] = K[a, b]
    return M
""",
)

del A

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_np_floor_float",
    A,
    "output_size",
    "rounding",
    "np.floor of a true division gives the right number but as a numpy float (8.0), not the "
    "int the docstring asks for, and it cannot be used as a shape or in range().",
    """
def output_size(n, k, *, padding=0, stride=1):
    return np.floor((n + 2 * padding - k) / stride) + 1
""",
)

_m(
    "pad2d_keeps_int_dtype",
    A,
    "pad2d",
    "other",
    "The result is made with X's dtype, so an integer image stays an integer array instead of "
    "the float array asked for.",
    """
def pad2d(X, padding):
    if isinstance(padding, (int, np.integer)):
        t = b = l = r = padding
    elif isinstance(padding[0], (int, np.integer)):
        t = b = padding[0]
        l = r = padding[1]
    else:
        (t, b), (l, r) = padding
    H, W = X.shape
    out = np.zeros((H + t + b, W + l + r), dtype=X.dtype)
    out[t : t + H, l : l + W] = X
    return out
""",
)

_m(
    "same_padding_floor_plus_one",
    A,
    "same_padding",
    "rounding",
    "ceil is written as floor + 1, which is right for even k but adds one row too many "
    "before for odd k (3 gives (2, 1) instead of (1, 1)).",
    """
def same_padding(k):
    before = (k - 1) // 2 + 1
    after = (k - 1) // 2
    return before, after
""",
)

_m(
    "padded_width_uses_row_stride",
    A,
    "corr2d_padded",
    "wrong_axis",
    "The number of output columns is computed with the row stride sh instead of sw, so a "
    "stride pair (sh, sw) with sh != sw gives the wrong width (or an index error).",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sh)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = (Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K).sum()
    return Y
""",
)

_m(
    "dilated_positional_arguments",
    A,
    "corr2d_dilated",
    "other",
    "corr2d_padded is called with padding and stride as positional arguments, but they are "
    "keyword-only, so every call raises TypeError.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    Kd = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    Kd[::dh, ::dw] = K
    return corr2d_padded(X, Kd, padding, stride)
""",
)

_m(
    "dilated_int_dilation_only",
    A,
    "corr2d_dilated",
    "shape_assumption",
    "The dilation is used as one number for both axes, so a pair (dh, dw) raises a TypeError "
    "when the dilated kernel's size is computed.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    d = dilation
    KH, KW = K.shape
    big = np.zeros((d * (KH - 1) + 1, d * (KW - 1) + 1))
    for a in range(KH):
        for b in range(KW):
            big[a * d, b * d] = K[a, b]
    return corr2d_padded(X, big, padding=padding, stride=stride)
""",
)

del A

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_sum_axis_one",
    A,
    "corr2d_multi_in",
    "wrong_axis",
    "The per-channel maps are stacked and summed over axis 1 (the rows) instead of axis 0 "
    "(the channels), so the result is (C_in, W_out), not (H_out, W_out).",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    maps = np.array([corr2d(x, k) for x, k in zip(X, K)])
    return maps.sum(axis=1)
""",
)

_m(
    "multi_in_out_output_sized_like_input",
    A,
    "corr2d_multi_in_out",
    "shape_assumption",
    "The output array is allocated with the input's height and width, so storing the smaller "
    "(H_out, W_out) maps into it raises a broadcasting error.",
    """
def corr2d_multi_in_out(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = np.zeros((K.shape[0], X.shape[1], X.shape[2]))
    for o in range(K.shape[0]):
        Y[o] = corr2d_multi_in(X, K[o])
    return Y
""",
)

_m(
    "conv1x1_tensordot_output_axis",
    A,
    "conv1x1",
    "wrong_axis",
    "tensordot contracts the kernel's OUTPUT axis with the input channels, so it only runs "
    "when C_out == C_in, and then mixes with the transposed weight matrix.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    W = K[:, :, 0, 0]
    return np.tensordot(W, X, axes=([0], [0]))
""",
)

_m(
    "vectorized_tap_slices_square_output",
    A,
    "conv2d_vectorized",
    "shape_assumption",
    "The loop over kernel taps slices the columns with H_out instead of W_out, so a "
    "non-square output raises a shape error.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    H_out = X.shape[1] - KH + 1
    W_out = X.shape[2] - KW + 1
    Y = np.zeros((C_out, H_out, W_out))
    for a in range(KH):
        for b in range(KW):
            Y += np.tensordot(K[:, :, a, b], X[:, a : a + H_out, b : b + H_out], axes=1)
    return Y
""",
)

del A

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_row_padding_on_every_side",
    A,
    "pool2d",
    "shape_assumption",
    "np.pad is given PH alone, which pads PH on every side, so a padding pair (PH, PW) with "
    "PH != PW gets the wrong number of columns.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = as_pair(size if stride is None else stride)
    PH, PW = as_pair(padding)
    Xp = np.pad(X, PH, constant_values=-np.inf if mode == "max" else 0.0)
    H_out = (Xp.shape[0] - KH) // SH + 1
    W_out = (Xp.shape[1] - KW) // SW + 1
    Y = np.empty((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            win = Xp[i * SH : i * SH + KH, j * SW : j * SW + KW]
            Y[i, j] = np.max(win) if mode == "max" else np.mean(win)
    return Y
""",
)

_m(
    "pool2d_avg_floor_divide",
    A,
    "pool2d",
    "rounding",
    "The average is computed with // (window.sum() // window.size), which floors every mean "
    "down to a whole number.",
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
            if mode == "max":
                Y[i, j] = window.max()
            else:
                Y[i, j] = window.sum() // window.size
    return Y
""",
)

_m(
    "pool_channels_writes_into_input",
    A,
    "pool2d_channels",
    "in_place",
    "To save memory each pooled map is written into the top-left corner of the input's own "
    "channel and a slice of X is returned, so the caller's (float) array is overwritten.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    for c in range(X.shape[0]):
        pooled = pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
        h, w = pooled.shape
        X[c, :h, :w] = pooled
    return X[:, :h, :w]
""",
)

_m(
    "grad_mask_divmod_by_window_height",
    A,
    "maxpool_grad_mask",
    "wrong_axis",
    "The flat argmax of the window is split into (row, column) with divmod by the window "
    "HEIGHT KH instead of its width KW, which is wrong for non-square windows.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    mask = np.zeros(X.shape)
    for i in range((X.shape[0] - KH) // SH + 1):
        for j in range((X.shape[1] - KW) // SW + 1):
            r0, c0 = i * SH, j * SW
            flat = np.argmax(X[r0 : r0 + KH, c0 : c0 + KW])
            p, q = divmod(flat, KH)
            mask[r0 + p, c0 + q] += 1
    return mask
""",
)

del A

# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_shifts_whole_array",
    A,
    "numerical_gradient",
    "other",
    "f is evaluated at x + h and x - h with EVERY entry shifted at once, so each entry of the "
    "result is the directional derivative along all ones, not the partial derivative.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(*x.shape):
        grad[idx] = (f(x + h) - f(x - h)) / (2 * h)
    return grad
""",
)

_m(
    "rel_error_eps_added",
    A,
    "rel_error",
    "stability",
    "eps is added to the denominator instead of being its lower bound (np.maximum), which "
    "changes the answer wherever the values are of the order of eps.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + eps)))
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + eps))
""",
)

_m(
    "rel_error_mean_not_max",
    A,
    "rel_error",
    "other",
    "The elementwise kind averages the per-entry relative errors instead of taking the "
    "largest, so one bad entry among many correct ones is hidden.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "norm":
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
    rel = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)
    return float(rel.mean())
""",
)

_m(
    "rel_error_subtracts_in_place",
    A,
    "rel_error",
    "in_place",
    "a -= b is used to form the difference, which overwrites the caller's float array a and "
    "then uses the difference where |a| is meant in the denominator.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a -= b
    if kind == "elementwise":
        return float(np.max(np.abs(a) / np.maximum(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "conv_fwd_loops_whole_bias_vector",
    A,
    "conv2d_forward",
    "shape_assumption",
    "In the loop version the whole bias vector b is added to one output number instead of "
    "b[o], which raises as soon as there is more than one output channel.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho = (H + 2 * padding - HH) // stride + 1
    Wo = (W + 2 * padding - WW) // stride + 1
    out = np.zeros((N, F_, Ho, Wo))
    for n in range(N):
        for f in range(F_):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_fwd_assumes_square_everywhere",
    A,
    "conv2d_forward",
    "two_at_once",
    "The output width is computed from the input HEIGHT and the windows are KH wide, so both "
    "non-square inputs and non-square kernels go wrong.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = H_out
    out = np.zeros((N, C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KH]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_bwd_crop_negative_slice_zero_padding",
    A,
    "conv2d_backward",
    "other",
    "The padding is cut off dx with dxp[:, :, p:-p, p:-p], which for padding 0 is an EMPTY "
    "slice (-0 is 0), so unpadded layers get an empty dx.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros_like(w, dtype=float)
    dxp = np.zeros_like(xp, dtype=float)
    for i in range(H_out):
        for j in range(W_out):
            r, c = i * s, j * s
            g = dout[:, :, i, j]
            dw += np.einsum("no,nchw->ochw", g, xp[:, :, r : r + KH, c : c + KW])
            dxp[:, :, r : r + KH, c : c + KW] += np.einsum("no,ochw->nchw", g, w)
    dx = dxp[:, :, p:-p, p:-p]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_ceil_mode",
    A,
    "maxpool2d_forward",
    "rounding",
    "The number of windows is rounded up (ceil) instead of down, so when the stride does not "
    "fit, the last window hangs over the edge and the reshape of the short window raises.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = stride or k
    H_out = -(-(H - k) // s) + 1
    W_out = -(-(W - k) // s) + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            win = x[:, :, i * s : i * s + k, j * s : j * s + k].reshape(N, C, k * k)
            argmax[:, :, i, j] = win.argmax(axis=2)
            out[:, :, i, j] = win.max(axis=2)
    return out, (x.shape, k, s, argmax)
""",
)

_m(
    "maxpool_bwd_offset_by_kernel",
    A,
    "maxpool2d_backward",
    "convention",
    "The window of output (i, j) is placed at (i*k, j*k), with the kernel size instead of "
    "the stride, which only works when stride == kernel_size.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    p, q = divmod(argmax[n, c, i, j], k)
                    dx[n, c, i * k + p, j * k + q] += dout[n, c, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_edge_padding",
    A,
    "avgpool2d_forward",
    "convention",
    "The input is padded with mode='edge' (copies of the border pixels) instead of zeros, so "
    "the border windows average the wrong values.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
    H_out = (H + 2 * p - k) // s + 1
    W_out = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].mean(axis=(2, 3))
    return out, (x.shape, k, s, p)
""",
)

_m(
    "avgpool_bwd_repeat_upsample",
    A,
    "avgpool2d_backward",
    "shape_assumption",
    "The gradient is spread with np.repeat by k along both axes, which assumes windows that "
    "tile the input exactly (stride == k, no padding, sizes that fit); overlapping or padded "
    "windows give the wrong values or shape.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    up = np.repeat(np.repeat(dout, k, axis=2), k, axis=3) / (k * k)
    return up
""",
)

_m(
    "avgpool_bwd_crop_swapped_divides_by_k",
    A,
    "avgpool2d_backward",
    "two_at_once",
    "Each output's gradient is shared by k instead of k*k, and the padding is cut with the "
    "width and height swapped (p:p+W rows, p:p+H columns), which breaks non-square inputs.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    H_out, W_out = dout.shape[2:]
    grad = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            share = (dout[:, :, i, j] / k)[:, :, None, None]
            grad[:, :, i * s : i * s + k, j * s : j * s + k] += share
    return grad[:, :, p : p + W, p : p + H]
""",
)

del A

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_kaiming_sqrt_six",
    A,
    "init_lenet",
    "convention",
    "The bound is sqrt(6 / fan_in) (Kaiming/He uniform for ReLU, with its gain) instead of "
    "PyTorch's default 1 / sqrt(fan_in), so the weights are about 2.4 times too large.",
    """
def init_lenet(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [
        ("conv1", (6, 1, 5, 5)),
        ("conv2", (16, 6, 5, 5)),
        ("fc1", (120, 400)),
        ("fc2", (84, 120)),
        ("fc3", (10, 84)),
    ]
    params = {}
    for name, shape in shapes:
        fan_in = int(np.prod(shape[1:]))
        bound = np.sqrt(6.0 / fan_in)
        params[name + ".weight"] = rng.uniform(-bound, bound, size=shape)
        params[name + ".bias"] = rng.uniform(-bound, bound, size=shape[0])
    return params
""",
)

_m(
    "init_underscore_names",
    A,
    "init_lenet",
    "convention",
    "The parameters are named conv1_weight, conv1_bias, ... instead of conv1.weight, "
    "conv1.bias, ... (PyTorch's state_dict names), so nothing that looks them up finds them.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[layer + "_weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[layer + "_bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_uniform_bounds_reversed",
    A,
    "init_lenet",
    "sign",
    "rng.uniform is called as uniform(bound, -bound): numpy accepts it, but every draw comes "
    "out negated, so the parameters are not PyTorch's for the same seed.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        fan_in = np.prod(w_shape[1:])
        bound = 1 / np.sqrt(fan_in)
        params[f"{layer}.weight"] = rng.uniform(bound, -bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(bound, -bound, size=w_shape[0])
    return params
""",
)

_m(
    "forward_pool_stride_one",
    A,
    "lenet_forward",
    "other",
    "The pooling layers are called with stride=1 instead of 2, so they barely shrink the maps "
    "and the flattened vector no longer has 400 entries (fc1 raises).",
    """
def lenet_forward(params, x, layers):
    caches = {}
    w1, b1 = params["conv1.weight"], params["conv1.bias"]
    out, caches["conv1"] = layers.conv2d_forward(x, w1, b1, padding=2)
    out, caches["relu1"] = layers.relu_forward(out)
    out, caches["pool1"] = layers.maxpool2d_forward(out, kernel_size=2, stride=1)
    out, caches["conv2"] = layers.conv2d_forward(out, params["conv2.weight"], params["conv2.bias"])
    out, caches["relu2"] = layers.relu_forward(out)
    out, caches["pool2"] = layers.maxpool2d_forward(out, kernel_size=2, stride=1)
    out, caches["flatten"] = layers.flatten_forward(out)
    out, caches["fc1"] = layers.linear_forward(out, params["fc1.weight"], params["fc1.bias"])
    out, caches["relu3"] = layers.relu_forward(out)
    out, caches["fc2"] = layers.linear_forward(out, params["fc2.weight"], params["fc2.bias"])
    out, caches["relu4"] = layers.relu_forward(out)
    out, caches["fc3"] = layers.linear_forward(out, params["fc3.weight"], params["fc3.bias"])
    return out, caches
""",
)

_m(
    "forward_reuses_relu_cache_key",
    A,
    "lenet_forward",
    "other",
    "Every ReLU stores its cache under the same key 'relu', so each overwrites the last: the "
    "logits are right but there are only 9 caches and relu1..relu4 are missing for backward.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, caches["relu"] = layers.relu_forward(h)
    h, caches["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["flatten"] = layers.flatten_forward(h)
    h, caches["fc1"] = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    h, caches["relu"] = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    h, caches["relu"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "backward_relu_before_unpool",
    A,
    "lenet_backward",
    "other",
    "After flatten_backward, the ReLU's backward is applied before the pooling's backward "
    "(the forward order, not reversed), so the pooled-size gradient meets the full-size ReLU "
    "cache and it raises.",
    """
def lenet_backward(dlogits, caches, layers):
    grads = {}
    d, grads["fc3.weight"], grads["fc3.bias"] = layers.linear_backward(dlogits, caches["fc3"])
    d = layers.relu_backward(d, caches["relu4"])
    d, grads["fc2.weight"], grads["fc2.bias"] = layers.linear_backward(d, caches["fc2"])
    d = layers.relu_backward(d, caches["relu3"])
    d, grads["fc1.weight"], grads["fc1.bias"] = layers.linear_backward(d, caches["fc1"])
    d = layers.flatten_backward(d, caches["flatten"])
    d = layers.relu_backward(d, caches["relu2"])
    d = layers.maxpool2d_backward(d, caches["pool2"])
    d, grads["conv2.weight"], grads["conv2.bias"] = layers.conv2d_backward(d, caches["conv2"])
    d = layers.relu_backward(d, caches["relu1"])
    d = layers.maxpool2d_backward(d, caches["pool1"])
    _, grads["conv1.weight"], grads["conv1.bias"] = layers.conv2d_backward(d, caches["conv1"])
    return grads
""",
)

_m(
    "backward_fc_weights_transposed",
    A,
    "lenet_backward",
    "convention",
    "The gradients of the fully connected weights are stored transposed, (in, out) like x @ W, "
    "instead of the (out_features, in_features) shape of the weights themselves.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, dw, g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    g["fc3.weight"] = dw.T
    d = layers.relu_backward(d, c["relu4"])
    d, dw, g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
    g["fc2.weight"] = dw.T
    d = layers.relu_backward(d, c["relu3"])
    d, dw, g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
    g["fc1.weight"] = dw.T
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
    "ce_probability_epsilon_clip",
    A,
    "softmax_cross_entropy",
    "stability",
    "The loss is -log(p + 1e-12) of the softmax probability instead of the log-softmax, so a "
    "label whose probability underflows (logits in the hundreds) costs at most about 27.6 "
    "instead of its true loss.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y] + 1e-12))
    grad = probs.copy()
    grad[np.arange(N), y] -= 1
    return float(loss), grad / N
""",
)

_m(
    "ce_max_without_keepdims",
    A,
    "softmax_cross_entropy",
    "shape_assumption",
    "The row maximum is taken without keepdims, so subtracting it from the (N, C) logits "
    "broadcasts along the wrong axis: it raises when N != C and subtracts column-wise when "
    "N == C.",
    """
def softmax_cross_entropy(logits, y):
    N = len(y)
    shifted = logits - np.max(logits, axis=1)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    log_p = shifted - np.log(sums)
    loss = -np.sum(log_p[np.arange(N), y]) / N
    d = exp / sums
    d[np.arange(N), y] -= 1
    return float(loss), d / N
""",
)

_m(
    "sgd_lr_inside_velocity",
    A,
    "sgd_step",
    "convention",
    "The learning rate is folded into the velocity (v = momentum*v + lr*d; p -= v), the "
    "cs231n form, so the stored velocity is lr times PyTorch's and a velocity carried over "
    "from earlier steps is used at the wrong scale.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name in params:
        g = grads[name] + weight_decay * params[name]
        velocity[name] *= momentum
        velocity[name] += lr * g
        params[name] -= velocity[name]
""",
)

_m(
    "sgd_zip_dict_values_order",
    A,
    "sgd_step",
    "other",
    "params, grads and velocity are zipped by their .values(), which pairs them by insertion "
    "order, not by name; grads coming from backward in the reverse order go to the wrong "
    "parameters.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for p, g, v in zip(params.values(), grads.values(), velocity.values()):
        v *= momentum
        v += g + weight_decay * p
        p -= lr * v
""",
)

_m(
    "train_labels_not_shuffled",
    A,
    "train_epoch",
    "other",
    "The images of each batch are taken in the shuffled order but the labels in the original "
    "order (y[start:start + batch_size]), so images and labels no longer match.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = X.shape[0]
    perm = rng.permutation(N)
    loss_sum, hits = 0.0, 0
    for start in range(0, N, batch_size):
        xb = X[perm[start : start + batch_size]]
        yb = y[start : start + batch_size]
        logits, caches = forward(params, xb, layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, yb)
        step(params, backward(dlogits, caches, layers), velocity, lr=lr, momentum=momentum,
             weight_decay=weight_decay)
        loss_sum += float(loss) * len(yb)
        hits += int(np.sum(np.argmax(logits, axis=1) == yb))
    return {"loss": loss_sum / N, "acc": hits / N}
""",
)

_m(
    "evaluate_slice_end_absolute",
    A,
    "evaluate",
    "off_by_one",
    "Each batch is sliced X[start:batch_size], with batch_size as the END index, so only the "
    "first batch has images and the later ones are empty (their loss is nan).",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:batch_size], y[start:batch_size]
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
    "make_lenet_conv1_no_padding",
    A,
    "make_lenet_torch",
    "shape_assumption",
    "conv1 is built without padding=2 (the 32x32 inputs of the 1998 paper), so on 28x28 "
    "digits the maps end at 4x4 and fc1's 400 inputs do not match (it raises).",
    """
def make_lenet_torch(variant="relu-max"):
    if variant == "relu-max":
        act, pool = nn.ReLU, nn.MaxPool2d
    elif variant == "sigmoid-avg":
        act, pool = nn.Sigmoid, nn.AvgPool2d
    else:
        raise ValueError(f"unknown variant {variant!r}")
    layers = OrderedDict()
    layers["conv1"] = nn.Conv2d(1, 6, 5)
    layers["act1"] = act()
    layers["pool1"] = pool(2, 2)
    layers["conv2"] = nn.Conv2d(6, 16, 5)
    layers["act2"] = act()
    layers["pool2"] = pool(2, 2)
    layers["flatten"] = nn.Flatten()
    layers["fc1"] = nn.Linear(16 * 5 * 5, 120)
    layers["act3"] = act()
    layers["fc2"] = nn.Linear(120, 84)
    layers["act4"] = act()
    layers["fc3"] = nn.Linear(84, 10)
    return nn.Sequential(layers)
""",
)

_m(
    "make_lenet_no_variant_check",
    A,
    "make_lenet_torch",
    "other",
    "Anything that is not 'relu-max' silently builds the sigmoid-avg network, so an unknown "
    "variant (a typo) raises no ValueError.",
    """
def make_lenet_torch(variant="relu-max"):
    relu = variant == "relu-max"
    Act = nn.ReLU if relu else nn.Sigmoid
    Pool = nn.MaxPool2d if relu else nn.AvgPool2d
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
    "make_lenet_tanh_for_sigmoid",
    A,
    "make_lenet_torch",
    "convention",
    "The 'sigmoid-avg' variant uses nn.Tanh (the squashing function of the 1998 paper) "
    "instead of nn.Sigmoid, so its logits differ.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant == "relu-max":
        Act, Pool = nn.ReLU, nn.MaxPool2d
    elif variant == "sigmoid-avg":
        Act, Pool = nn.Tanh, nn.AvgPool2d
    else:
        raise ValueError(f"variant must be 'relu-max' or 'sigmoid-avg'; got {variant!r}")
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", Act()),
        ("pool1", Pool(kernel_size=2, stride=2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", Act()),
        ("pool2", Pool(kernel_size=2, stride=2)),
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
    "load_params_never_float64",
    A,
    "load_numpy_params",
    "missing_term",
    "The model is never converted to float64: copy_ casts the float64 arrays down to the "
    "parameters' float32, so the model stays float32 and loses precision.",
    """
def load_numpy_params(model, params):
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"no array for {name}")
            arr = np.asarray(params[name])
            if arr.shape != tuple(param.shape):
                raise ValueError(f"{name}: expected {tuple(param.shape)}, got {arr.shape}")
            param.copy_(torch.from_numpy(arr))
    return model
""",
)

_m(
    "load_params_missing_raises_value_error",
    A,
    "load_numpy_params",
    "convention",
    "A parameter with no array in params raises ValueError instead of the KeyError the "
    "docstring asks for.",
    """
def load_numpy_params(model, params):
    model = model.double()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise ValueError(f"missing parameter {name}")
            value = np.asarray(params[name])
            if value.shape != tuple(param.shape):
                raise ValueError(f"{name}: {value.shape} vs {tuple(param.shape)}")
            param.copy_(torch.tensor(value, dtype=torch.float64))
    return model
""",
)

_m(
    "load_params_via_load_state_dict",
    A,
    "load_numpy_params",
    "two_at_once",
    "The arrays are loaded with model.load_state_dict, which copies them into the existing "
    "float32 parameters (the model is never float64) and reports a wrong shape or a missing "
    "name as a RuntimeError, not the ValueError / KeyError asked for.",
    """
def load_numpy_params(model, params):
    state = {name: torch.tensor(np.asarray(arr)) for name, arr in params.items()}
    model.load_state_dict(state)
    return model
""",
)

_m(
    "train_torch_zero_grad_before_step",
    A,
    "train_epoch_torch",
    "other",
    "opt.zero_grad() is called between loss.backward() and opt.step(), so every step sees "
    "zero gradients and the parameters never change.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    loss_sum, n_right, n_seen = 0.0, 0, 0
    for xb, yb in batches:
        xb = torch.as_tensor(xb, device=device)
        yb = torch.as_tensor(yb, device=device)
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        loss.backward()
        opt.zero_grad()
        opt.step()
        loss_sum += loss.item() * yb.shape[0]
        n_right += (out.argmax(1) == yb).sum().item()
        n_seen += yb.shape[0]
    return {"loss": loss_sum / n_seen, "acc": n_right / n_seen}
""",
)

_m(
    "train_torch_loss_tensor_accumulated",
    A,
    "train_epoch_torch",
    "other",
    "The loss tensor itself (not loss.item()) is added up, so the returned 'loss' is a torch "
    "tensor that still holds the whole epoch's graph, not a float.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        total_loss += loss * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_argmax_dim0",
    A,
    "evaluate_torch",
    "wrong_axis",
    "The prediction is logits.argmax(dim=0), the best EXAMPLE per class, instead of "
    "argmax(dim=1), the best class per example; it raises or compares nonsense unless the "
    "batch size equals the number of classes.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=0) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_sum_per_batch_acc_tensor",
    A,
    "evaluate_torch",
    "two_at_once",
    "The summed loss is divided by the number of BATCHES instead of examples (a loss about "
    "batch-size times too large), and the correct predictions are added up as tensors, so "
    "'acc' is a tensor, not a float.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    loss_total, hits, n, n_batches = 0.0, 0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x, y = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)
            out = model(x)
            loss_total += F.cross_entropy(out, y, reduction="sum").item()
            hits += (out.argmax(1) == y).sum()
            n += len(y)
            n_batches += 1
    return {"loss": loss_total / n_batches, "acc": hits / n}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
