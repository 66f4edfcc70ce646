"""A hand-written set of realistic student mistakes, for benchmarking the course's feedback.

Written from the source notebooks' docstrings and reference solutions only, WITHOUT reading
the mistake catalogue (course/checks) or the autograder. Each entry of MISTAKES is one
student's buggy version of one graded function:

    id           short unique snake_case name
    assignment   the assignment folder, e.g. "01_convolution"
    function     the graded function's name
    family       the kind of mistake (see FAMILIES)
    description  one sentence, as a TA would say it
    code         the complete source of the buggy function, as in the notebook cell
                 (relies on `np` being a global; may call earlier exercises' functions
                 by their notebook names, as the reference solutions do)

SPLIT maps every id to "build" or "held_out": within each family, entries sorted by id
alternate build, held_out, build, ...

Docstrings are left out of the code to keep the file short; the bodies are what a student
would have typed between the docstring and the end of the cell.
"""

from __future__ import annotations

FAMILIES = (
    "wrong_axis",
    "rounding",
    "sign",
    "convention",
    "shape_assumption",
    "off_by_one",
    "two_at_once",
    "stability",
    "missing_term",
    "in_place",
    "other",
)


def collector(mistakes: list[dict]):
    """The `_m(id, assignment, function, family, description, code)` of a set's file: each
    call appends one entry to `mistakes` (every set of mistakes has this format)."""

    def add(id, assignment, function, family, description, code):
        assert family in FAMILIES, family
        mistakes.append(
            {
                "id": id,
                "assignment": assignment,
                "function": function,
                "family": family,
                "description": description,
                "code": code.strip("\n") + "\n",
            }
        )

    return add


MISTAKES: list[dict] = []
_m = collector(MISTAKES)


# ---------------------------------------------------------------------------------------
# 01_convolution
# ---------------------------------------------------------------------------------------
A = "01_convolution"

_m(
    "corr2d_no_plus_one",
    A,
    "corr2d",
    "off_by_one",
    "The output size is H - KH by W - KW (the +1 is missing), so the last row and column "
    "of window positions are never computed.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH, W - KW))
    for i in range(H - KH):
        for j in range(W - KW):
            Y[i, j] = np.sum(X[i:i + KH, j:j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_flipped_kernel",
    A,
    "corr2d",
    "convention",
    "The kernel is flipped before sliding it, which is true convolution, not the "
    "cross-correlation the exercise asks for.",
    """
def corr2d(X, K):
    K = np.flip(K)
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i:i + KH, j:j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_square_input",
    A,
    "corr2d",
    "shape_assumption",
    "The width is taken to be the height (H = W = X.shape[0]), so non-square inputs get "
    "the wrong number of output columns.",
    """
def corr2d(X, K):
    H = W = X.shape[0]
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i:i + KH, j:j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_matmul_window",
    A,
    "corr2d",
    "other",
    "Each window is multiplied with the kernel by a matrix product (@) instead of "
    "elementwise before summing.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i:i + KH, j:j + KW] @ K)
    return Y
""",
)

_m(
    "corr2d_flip_and_short_loop",
    A,
    "corr2d",
    "two_at_once",
    "The kernel is flipped (convolution instead of cross-correlation) and the loops stop "
    "one position early, leaving the last row and column of Y at zero.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    K = K[::-1, ::-1]
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH):
        for j in range(W - KW):
            Y[i, j] = np.sum(X[i:i + KH, j:j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_bias_forgotten",
    A,
    "corr2d_bias",
    "missing_term",
    "The bias b is never added: the function just returns corr2d(X, K).",
    """
def corr2d_bias(X, K, b):
    Y = corr2d(X, K)
    return Y
""",
)

_m(
    "corr2d_bias_added_to_input",
    A,
    "corr2d_bias",
    "other",
    "The bias is added to the input before the correlation, so it gets multiplied by the "
    "kernel's sum instead of being added once per output pixel.",
    """
def corr2d_bias(X, K, b):
    return corr2d(X + b, K)
""",
)

_m(
    "corr2d_bias_subtracted",
    A,
    "corr2d_bias",
    "sign",
    "The bias is subtracted from the correlation instead of added.",
    """
def corr2d_bias(X, K, b):
    return corr2d(X, K) - b
""",
)

_m(
    "gaussian_centre_floor",
    A,
    "gaussian_kernel",
    "rounding",
    "The centre is size // 2 instead of (size - 1) / 2, so even-sized kernels are "
    "shifted off centre.",
    """
def gaussian_kernel(size, sigma):
    c = size // 2
    G = np.zeros((size, size))
    for u in range(size):
        for v in range(size):
            G[u, v] = np.exp(-((u - c) ** 2 + (v - c) ** 2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "gaussian_not_normalised",
    A,
    "gaussian_kernel",
    "missing_term",
    "The kernel is never divided by its sum, so it does not sum to 1.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma**2))
    return G
""",
)

_m(
    "gaussian_sigma_not_squared",
    A,
    "gaussian_kernel",
    "other",
    "The exponent divides by 2 * sigma instead of 2 * sigma**2.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma))
    return G / G.sum()
""",
)

_m(
    "gaussian_floor_centre_no_norm",
    A,
    "gaussian_kernel",
    "two_at_once",
    "The centre is size // 2 (wrong for even sizes) and the kernel is not normalised to sum 1.",
    """
def gaussian_kernel(size, sigma):
    c = size // 2
    x = np.arange(size)
    xx, yy = np.meshgrid(x, x)
    return np.exp(-((xx - c) ** 2 + (yy - c) ** 2) / (2 * sigma**2))
""",
)

_m(
    "box_blur_one_over_k",
    A,
    "box_blur",
    "other",
    "Every entry is 1 / k instead of 1 / k**2, so the kernel sums to k.",
    """
def box_blur(k):
    return np.ones((k, k)) / k
""",
)

_m(
    "box_blur_precedence",
    A,
    "box_blur",
    "other",
    "np.ones((k, k)) / k*k divides by k and then multiplies by k again (operator "
    "precedence), giving a kernel of ones.",
    """
def box_blur(k):
    return np.ones((k, k)) / k*k
""",
)

_m(
    "box_blur_integer_division",
    A,
    "box_blur",
    "rounding",
    "1 // k**2 is integer division, which is 0 for every k > 1.",
    """
def box_blur(k):
    return np.full((k, k), 1 // k**2)
""",
)

_m(
    "conv_true_no_flip",
    A,
    "conv2d_true",
    "convention",
    "The kernel is never flipped, so this is cross-correlation again, not convolution.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"unknown mode {mode!r}")
    return corr2d(X, K)
""",
)

_m(
    "conv_true_flip_rows_only",
    A,
    "conv2d_true",
    "convention",
    "The kernel is flipped upside down only (K[::-1, :]); a true convolution flips both "
    "axes (a 180 degree rotation).",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"mode should be valid or full, not {mode}")
    return corr2d(X, K[::-1, :])
""",
)

_m(
    "conv_true_full_pads_half",
    A,
    "conv2d_true",
    "convention",
    "'full' mode pads with KH // 2 and KW // 2 zeros ('same' padding) instead of KH - 1 "
    "and KW - 1, so the output is too small.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH // 2, KH // 2), (KW // 2, KW // 2)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "conv_true_flips_caller_kernel",
    A,
    "conv2d_true",
    "in_place",
    "The kernel is flipped in place (K[:] = ...), so the caller's K comes back flipped.",
    """
def conv2d_true(X, K, mode="valid"):
    K[:] = K[::-1, ::-1]
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, K)
""",
)

_m(
    "conv_true_square_kernel_pad",
    A,
    "conv2d_true",
    "shape_assumption",
    "'full' mode pads both axes by KH - 1, assuming a square kernel; a KH x KW kernel "
    "with KH != KW gets the wrong number of columns.",
    """
def conv2d_true(X, K, mode="valid"):
    k = K.shape[0]
    if mode == "full":
        X = np.pad(X, k - 1)
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, np.flip(K))
""",
)

_m(
    "as_matrix_column_stride_wout",
    A,
    "corr2d_as_matrix",
    "other",
    "The column index of input pixel (i + a, j + b) uses W_out as the row length "
    "instead of W, so the kernel lands on the wrong input pixels.",
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
                    M[i * W_out + j, (i + a) * W_out + (j + b)] = K[a, b]
    return M
""",
)

_m(
    "as_matrix_flipped_kernel",
    A,
    "corr2d_as_matrix",
    "convention",
    "The kernel is flipped when filling M (K[KH-1-a, KW-1-b]), so M computes a "
    "convolution, not corr2d.",
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
                    M[i * W_out + j, (i + a) * W + (j + b)] = K[KH - 1 - a, KW - 1 - b]
    return M
""",
)

_m(
    "as_matrix_transposed",
    A,
    "corr2d_as_matrix",
    "convention",
    "M is built transposed, with shape (H*W, H_out*W_out): one row per input pixel "
    "instead of one row per output pixel.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H * W, H_out * W_out))
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    M[(i + a) * W + (j + b), i * W_out + j] = K[a, b]
    return M
""",
)

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_no_plus_one",
    A,
    "output_size",
    "off_by_one",
    "The +1 for the first window position is missing.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding - k) // stride
""",
)

_m(
    "output_size_padding_once",
    A,
    "output_size",
    "missing_term",
    "The padding is added once instead of on both sides (n + padding instead of n + 2 * padding).",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + padding - k) // stride + 1
""",
)

_m(
    "output_size_ceil",
    A,
    "output_size",
    "rounding",
    "The division by the stride is rounded up (ceil) instead of down, counting a window "
    "that does not fit.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return int(np.ceil((n + 2 * padding - k) / stride)) + 1
""",
)

_m(
    "output_size_float_division",
    A,
    "output_size",
    "rounding",
    "/ is used instead of //, so the result is a float like 3.5 instead of a floored int.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding - k) / stride + 1
""",
)

_m(
    "output_size_plus_one_inside",
    A,
    "output_size",
    "off_by_one",
    "The +1 is put inside the division by the stride ((n + 2p - k + 1) // s), which is "
    "only right for stride 1.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding - k + 1) // stride
""",
)

_m(
    "output_size_pad_once_no_plus_one",
    A,
    "output_size",
    "two_at_once",
    "The padding is counted on one side only and the +1 is missing.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n - k + padding) // stride
""",
)

_m(
    "output_size_total_doubled",
    A,
    "output_size_total",
    "convention",
    "The total padding is doubled as if it were per-side padding (2 * total_padding).",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + 2 * total_padding + stride) // stride
""",
)

_m(
    "output_size_total_no_stride_term",
    A,
    "output_size_total",
    "off_by_one",
    "The + stride in the numerator is dropped, so one window position is lost.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + total_padding) // stride
""",
)

_m(
    "pad2d_pair_swapped",
    A,
    "pad2d",
    "convention",
    "A pair is read as (pw, ph), x before y, so the row and column paddings are swapped.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        pw, ph = padding
        top = bottom = ph
        left = right = pw
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top:top + H, left:left + W] = X
    return Y
""",
)

_m(
    "pad2d_np_pad_pair",
    A,
    "pad2d",
    "convention",
    "The padding is handed straight to np.pad, which reads a pair (ph, pw) as "
    "(before, after) for both axes instead of (rows, columns).",
    """
def pad2d(X, padding):
    return np.pad(np.asarray(X, dtype=float), padding)
""",
)

_m(
    "pad2d_top_left",
    A,
    "pad2d",
    "other",
    "X is copied into the top-left corner of the padded array, so all the zeros end up "
    "below and to the right.",
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
    Y[:H, :W] = X
    return Y
""",
)

_m(
    "same_padding_swapped",
    A,
    "same_padding",
    "convention",
    "before and after are swapped: the extra zero for an even kernel goes after instead of before.",
    """
def same_padding(k):
    total = k - 1
    return total // 2, total - total // 2
""",
)

_m(
    "same_padding_half_k",
    A,
    "same_padding",
    "off_by_one",
    "k // 2 on each side pads one zero too many in total for even kernels.",
    """
def same_padding(k):
    return k // 2, k // 2
""",
)

_m(
    "padded_ignores_padding",
    A,
    "corr2d_padded",
    "missing_term",
    "The padding argument is never used: the input is not padded at all.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(X.shape[0], KH, stride=sh)
    W_out = output_size(X.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(X[i * sh:i * sh + KH, j * sw:j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_stride_not_in_slice",
    A,
    "corr2d_padded",
    "off_by_one",
    "The stride shrinks the output size but the windows still start at i and j instead "
    "of i * sh and j * sw.",
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
            Y[i, j] = np.sum(Xp[i:i + KH, j:j + KW] * K)
    return Y
""",
)

_m(
    "padded_stride_pair_swapped",
    A,
    "corr2d_padded",
    "convention",
    "A stride pair is unpacked as (sw, sh), so the horizontal stride is used along the "
    "rows and vice versa.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sw, sh = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh:i * sh + KH, j * sw:j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_size_from_unpadded",
    A,
    "corr2d_padded",
    "missing_term",
    "The input is padded, but the output size is computed from the unpadded X, so the "
    "windows over the last padded rows and columns are missing.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    H, W = X.shape
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(H, KH, stride=sh)
    W_out = output_size(W, KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh:i * sh + KH, j * sw:j * sw + KW] * K)
    return Y
""",
)

_m(
    "dilated_kernel_too_big",
    A,
    "corr2d_dilated",
    "off_by_one",
    "The dilated kernel is made d*KH by d*KW instead of d*(KH-1)+1 by d*(KW-1)+1, which "
    "adds trailing zero rows and columns and shrinks the output.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * KH, dw * KW))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(X, K_dilated, padding=padding, stride=stride)
""",
)

_m(
    "dilated_subsamples_input",
    A,
    "corr2d_dilated",
    "other",
    "Instead of spreading out the kernel taps, the input is subsampled with step d and "
    "correlated with the undilated kernel.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    Xp = pad2d(X, padding)
    return corr2d_padded(Xp[::dh, ::dw], K, padding=0, stride=stride)
""",
)

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_skips_channel_0",
    A,
    "corr2d_multi_in",
    "off_by_one",
    "The channel loop starts at 1 on an array of zeros, so channel 0 never contributes.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = np.zeros((X.shape[1] - K.shape[1] + 1, X.shape[2] - K.shape[2] + 1))
    for c in range(1, X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_no_channel_sum",
    A,
    "corr2d_multi_in",
    "missing_term",
    "The per-channel results are stacked instead of summed, returning (C_in, H_out, "
    "W_out) instead of one map.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    return np.stack([corr2d(X[c], K[c]) for c in range(X.shape[0])])
""",
)

_m(
    "multi_in_channel_mean",
    A,
    "corr2d_multi_in",
    "other",
    "The channel results are averaged (divided by C_in) instead of summed.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    total = 0
    for c in range(X.shape[0]):
        total = total + corr2d(X[c], K[c])
    return total / X.shape[0]
""",
)

_m(
    "multi_in_out_swapped_kernel_axes",
    A,
    "corr2d_multi_in_out",
    "convention",
    "K is read as (C_in, C_out, KH, KW): the output loop runs over K.shape[1] and takes "
    "K[:, o] as the filter.",
    """
def corr2d_multi_in_out(X, K):
    K = np.asarray(K, dtype=float)
    outputs = []
    for o in range(K.shape[1]):
        outputs.append(corr2d_multi_in(X, K[:, o]))
    return np.stack(outputs)
""",
)

_m(
    "multi_in_out_channels_last",
    A,
    "corr2d_multi_in_out",
    "convention",
    "The output maps are stacked along the last axis, giving (H_out, W_out, C_out) "
    "instead of (C_out, H_out, W_out).",
    """
def corr2d_multi_in_out(X, K):
    return np.stack([corr2d_multi_in(X, k) for k in K], axis=-1)
""",
)

_m(
    "multi_in_out_squeeze",
    A,
    "corr2d_multi_in_out",
    "shape_assumption",
    "The result is squeezed, which drops the channel axis when C_out == 1.",
    """
def corr2d_multi_in_out(X, K):
    return np.stack([corr2d_multi_in(X, K[o]) for o in range(K.shape[0])]).squeeze()
""",
)

_m(
    "conv1x1_reshape_transposed",
    A,
    "conv1x1",
    "convention",
    "The kernel is reshaped to (C_in, C_out) and transposed, which scrambles the weights "
    "instead of giving the (C_out, C_in) matrix.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    W_mat = K.reshape(C_in, C_out).T
    return (W_mat @ X.reshape(C_in, H * W)).reshape(C_out, H, W)
""",
)

_m(
    "conv1x1_pixels_as_rows",
    A,
    "conv1x1",
    "convention",
    "X is reshaped to (H*W, C_in) as if it were channels-last, which mixes pixels and "
    "channels, and the (H*W, C_out) result is reshaped straight to (C_out, H, W).",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    pixels = X.reshape(H * W, C_in)
    out = pixels @ K.reshape(C_out, C_in).T
    return out.reshape(C_out, H, W)
""",
)

_m(
    "conv1x1_sum_over_outputs",
    A,
    "conv1x1",
    "wrong_axis",
    "The broadcast product is summed over axis 0 (the output channels) instead of axis 1 "
    "(the input channels).",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    weights = K[:, :, 0, 0]
    return (weights[:, :, None, None] * X[None, :, :, :]).sum(axis=0)
""",
)

_m(
    "conv_params_bias_per_input",
    A,
    "conv_params",
    "other",
    "One bias per input channel is counted (C_in) instead of one per output channel.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    n = C_out * C_in * KH * KW
    if bias:
        n += C_in
    return n
""",
)

_m(
    "conv_params_no_bias",
    A,
    "conv_params",
    "missing_term",
    "The biases are never counted, even when bias=True.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    return C_in * C_out * KH * KW
""",
)

_m(
    "conv_mults_no_cin",
    A,
    "conv_mults",
    "missing_term",
    "Each output value is counted as KH*KW multiplications, forgetting the sum over the "
    "C_in input channels.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return C_out * H_out * W_out * KH * KW
""",
)

_m(
    "conv_mults_counts_bias",
    A,
    "conv_mults",
    "other",
    "An extra multiplication per output value is counted for the bias, which is an addition.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return C_out * H_out * W_out * (C_in * KH * KW + 1)
""",
)

_m(
    "vectorized_flipped",
    A,
    "conv2d_vectorized",
    "convention",
    "The kernels are flipped (K[:, :, ::-1, ::-1]) before the einsum, computing a "
    "convolution instead of the cross-correlation of corr2d_multi_in_out.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->oij", windows, K[:, :, ::-1, ::-1])
""",
)

_m(
    "vectorized_no_channel_sum",
    A,
    "conv2d_vectorized",
    "missing_term",
    "The einsum keeps the input-channel index in its output ('->ocij'), so the sum over "
    "input channels is never done.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->ocij", windows, K)
""",
)

_m(
    "vectorized_channels_last",
    A,
    "conv2d_vectorized",
    "convention",
    "The einsum writes the output as (H_out, W_out, C_out) ('->ijo'), channels last.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->ijo", windows, K)
""",
)

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_stride_default_one",
    A,
    "pool2d",
    "convention",
    "stride=None is treated as stride 1 instead of the window size, so the windows "
    "overlap by default.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = as_pair(1 if stride is None else stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
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
    "pool2d_avg_excludes_padding",
    A,
    "pool2d",
    "convention",
    "Average pooling leaves the padded zeros out of the mean (count_include_pad=False) "
    "instead of dividing by KH*KW.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else np.nan
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH:i * SH + KH, j * SW:j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else np.nanmean(window)
    return Y
""",
)

_m(
    "pool2d_max_pads_zero",
    A,
    "pool2d",
    "other",
    "Max pooling pads with zeros instead of -inf, so a padded zero wins over negative "
    "inputs at the border.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    X_pad = np.pad(X, ((PH, PH), (PW, PW)))
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH:i * SH + KH, j * SW:j * SW + KW]
            if mode == "max":
                Y[i, j] = np.max(window)
            else:
                Y[i, j] = np.mean(window)
    return Y
""",
)

_m(
    "pool2d_no_plus_one",
    A,
    "pool2d",
    "off_by_one",
    "The output size is missing its +1, so the last row and column of windows are dropped.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = (X_pad.shape[0] - KH) // SH
    W_out = (X_pad.shape[1] - KW) // SW
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH:i * SH + KH, j * SW:j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_ceil_mode",
    A,
    "pool2d",
    "rounding",
    "The output size is rounded up (ceil), adding a last window that hangs over the "
    "edge, and that window is pooled over the part that fits.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    import math
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H_out = math.ceil((X_pad.shape[0] - KH) / SH) + 1
    W_out = math.ceil((X_pad.shape[1] - KW) / SW) + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH:i * SH + KH, j * SW:j * SW + KW]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_square_window",
    A,
    "pool2d",
    "shape_assumption",
    "Only the first entry of a (KH, KW) size is used, so every window is square.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    k = size if isinstance(size, int) else size[0]
    s = k if stride is None else (stride if isinstance(stride, int) else stride[0])
    p = padding if isinstance(padding, int) else padding[0]
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, p, constant_values=fill)
    H_out = (X_pad.shape[0] - k) // s + 1
    W_out = (X_pad.shape[1] - k) // s + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * s:i * s + k, j * s:j * s + k]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_stride_one_no_padding",
    A,
    "pool2d",
    "two_at_once",
    "stride=None defaults to 1 instead of the window size, and the padding argument is "
    "never applied.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    if stride is None:
        stride = 1
    SH, SW = as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH:i * SH + KH, j * SW:j * SW + KW]
            if mode == "max":
                Y[i, j] = window.max()
            else:
                Y[i, j] = window.mean()
    return Y
""",
)

_m(
    "pool_channels_drops_options",
    A,
    "pool2d_channels",
    "missing_term",
    "stride, padding and mode are not passed on to pool2d, so every channel gets "
    "default max pooling.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    return np.stack([pool2d(X[c], size) for c in range(X.shape[0])])
""",
)

_m(
    "pool_channels_channels_last",
    A,
    "pool2d_channels",
    "convention",
    "The input is treated as (H, W, C): the loop pools X[:, :, c] and stacks along the last axis.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    outs = [pool2d(X[:, :, c], size, stride=stride, padding=padding, mode=mode)
            for c in range(X.shape[2])]
    return np.stack(outs, axis=-1)
""",
)

_m(
    "grad_mask_assigns_one",
    A,
    "maxpool_grad_mask",
    "other",
    "The mask is set to 1 (= 1) instead of incremented (+= 1), so an input that wins "
    "several overlapping windows is counted once.",
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
            window = X[i * SH:i * SH + KH, j * SW:j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i * SH + p, j * SW + q] = 1
    return mask
""",
)

_m(
    "grad_mask_no_window_offset",
    A,
    "maxpool_grad_mask",
    "missing_term",
    "The argmax position inside the window is used without adding the window's offset "
    "(i*SH, j*SW), so every count lands in the top-left corner.",
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
            window = X[i * SH:i * SH + KH, j * SW:j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[p, q] += 1
    return mask
""",
)

_m(
    "grad_mask_stride_default_one",
    A,
    "maxpool_grad_mask",
    "convention",
    "stride=None is taken as stride 1 instead of the window size.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = as_pair(stride or 1)
    mask = np.zeros(X.shape)
    for i in range((X.shape[0] - KH) // SH + 1):
        for j in range((X.shape[1] - KW) // SW + 1):
            window = X[i * SH:i * SH + KH, j * SW:j * SW + KW]
            idx = np.argmax(window)
            mask[i * SH + idx // KW, j * SW + idx % KW] += 1
    return mask
""",
)

# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_forward_difference",
    A,
    "numerical_gradient",
    "other",
    "A forward difference (f(x + h) - f(x)) / h is used instead of the central difference.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad
""",
)

_m(
    "numgrad_not_restored",
    A,
    "numerical_gradient",
    "in_place",
    "x[i] is never put back after the two evaluations, so x is left changed (by -h per "
    "entry) and later entries are measured at a shifted point.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_restore_by_arithmetic",
    A,
    "numerical_gradient",
    "in_place",
    "x[i] is moved by += h, -= 2*h, += h instead of being reset to its saved value, so "
    "rounding leaves some entries of x slightly changed.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        x[i] += h
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_divides_by_h",
    A,
    "numerical_gradient",
    "other",
    "The central difference is divided by h instead of 2h, doubling the gradient.",
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
        grad[i] = (f_plus - f_minus) / h
    return grad
""",
)

_m(
    "numgrad_perturbs_copy",
    A,
    "numerical_gradient",
    "other",
    "A copy of x is perturbed instead of x itself, so a function that reads x through a "
    "closure never sees the change and gets a zero gradient.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x_plus = x.copy()
        x_plus[i] += h
        x_minus = x.copy()
        x_minus[i] -= h
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_minus_first",
    A,
    "numerical_gradient",
    "sign",
    "The difference is taken as f(x - h) - f(x + h), which flips the sign of the gradient.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old - h
        f_minus = f(x)
        x[i] = old + h
        f_plus = f(x)
        x[i] = old
        grad[i] = (f_minus - f_plus) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_first_axis_only",
    A,
    "numerical_gradient",
    "shape_assumption",
    "The loop runs over range(len(x)), assuming x is 1-D; for a matrix whole rows are "
    "perturbed at once and only partly restored.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
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
    "conv_fwd_no_bias",
    A,
    "conv2d_forward",
    "missing_term",
    "The bias b is never added to the output.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * s:i * s + KH, j * s:j * s + KW]
                    out[n, o, i, j] = np.sum(window * w[o])
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_fwd_stride_not_in_slice",
    A,
    "conv2d_forward",
    "off_by_one",
    "The stride is used for the output size but the windows start at (i, j) instead of (i*s, j*s).",
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
            window = xp[:, :, i:i + KH, j:j + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_fwd_flipped_kernel",
    A,
    "conv2d_forward",
    "convention",
    "The filters are flipped (w[:, :, ::-1, ::-1]), a true convolution instead of the "
    "cross-correlation that conv layers compute.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    wf = w[:, :, ::-1, ::-1]
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s:i * s + KH, j * s:j * s + KW]
            out[:, :, i, j] = np.tensordot(window, wf, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_bwd_db_wrong_axes",
    A,
    "conv2d_backward",
    "wrong_axis",
    "db sums dout over axes (1, 2, 3), giving one value per image, instead of over "
    "(0, 2, 3), one value per output channel.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(1, 2, 3))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p:p + H, p:p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_dx_not_cropped",
    A,
    "conv2d_backward",
    "missing_term",
    "dx is returned for the padded input (dxp) without cutting the padding off, so it "
    "has shape (N, C_in, H + 2p, W + 2p).",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape)
    dx = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dx[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    return dx, dw, db
""",
)

_m(
    "conv_bwd_crop_to_h",
    A,
    "conv2d_backward",
    "off_by_one",
    "The padding is cropped with dxp[:, :, p:H, p:W] instead of p:p+H, p:p+W, cutting "
    "p rows and columns too many.",
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
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p:H, p:W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_dx_flipped_kernel",
    A,
    "conv2d_backward",
    "convention",
    "The 'full convolution with the flipped kernel' rule is applied on top of the "
    "scatter loop, so dx is built from w[:, :, ::-1, ::-1], flipped twice over.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    w_flipped = w[:, :, ::-1, ::-1]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KW)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w_flipped, axes=([1], [0]))
    return dxp[:, :, p:p + H, p:p + W], dw, db
""",
)

_m(
    "conv_bwd_db_mean_dx_flipped",
    A,
    "conv2d_backward",
    "two_at_once",
    "db is averaged over the batch instead of summed, and dx uses the flipped kernel.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(2, 3)).mean(axis=0)
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, o, i, j]
                    dw[o] += g * xp[n, :, i * s:i * s + KH, j * s:j * s + KW]
                    dxp[n, :, i * s:i * s + KH, j * s:j * s + KW] += g * w[o, :, ::-1, ::-1]
    return dxp[:, :, p:p + H, p:p + W], dw, db
""",
)

_m(
    "maxpool_fwd_stride_default_one",
    A,
    "maxpool2d_forward",
    "convention",
    "stride=None is taken as stride 1 instead of the kernel size.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = 1 if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, k * k)
            argmax[:, :, i, j] = np.argmax(window, axis=2)
            out[:, :, i, j] = np.max(window, axis=2)
    return out, (x.shape, k, s, argmax)
""",
)

_m(
    "maxpool_fwd_no_plus_one",
    A,
    "maxpool2d_forward",
    "off_by_one",
    "The output size is (H - k) // s without the +1, dropping the last row and column of windows.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s
    W_out = (W - k) // s
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, k * k)
            argmax[:, :, i, j] = np.argmax(window, axis=2)
            out[:, :, i, j] = np.max(window, axis=2)
    return out, (x.shape, k, s, argmax)
""",
)

_m(
    "maxpool_bwd_assign_not_add",
    A,
    "maxpool2d_backward",
    "other",
    "The gradient is written with = instead of +=, so when overlapping windows share a "
    "winner only the last window's gradient survives.",
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
                    dx[n, c, i * s + p, j * s + q] = dout[n, c, i, j]
    return dx
""",
)

_m(
    "maxpool_bwd_no_offset",
    A,
    "maxpool2d_backward",
    "missing_term",
    "The winner's position inside the window is used without the window's offset "
    "(i*s, j*s), so all gradient lands in the top-left k x k corner.",
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
                    dx[n, c, p, q] += dout[n, c, i, j]
    return dx
""",
)

_m(
    "maxpool_bwd_whole_window",
    A,
    "maxpool2d_backward",
    "other",
    "The argmax is ignored: each window's dout is added to every input of the window, "
    "not just to the one that won.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * s:i * s + k, j * s:j * s + k] += dout[:, :, i, j][:, :, None, None]
    return dx
""",
)

_m(
    "avgpool_fwd_excludes_padding",
    A,
    "avgpool2d_forward",
    "convention",
    "The padded zeros are left out of the mean (divides by the number of real pixels, "
    "count_include_pad=False) instead of dividing by k*k.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    ones = np.pad(np.ones((H, W)), p)
    H_out = (H + 2 * p - k) // s + 1
    W_out = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            count = ones[i * s:i * s + k, j * s:j * s + k].sum()
            out[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].sum(axis=(2, 3)) / count
    return out, (x.shape, k, s, p)
""",
)

_m(
    "avgpool_fwd_ignores_padding",
    A,
    "avgpool2d_forward",
    "missing_term",
    "The padding argument is never applied: no zeros are added and the output size ignores p.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].mean(axis=(2, 3))
    return out, (x.shape, k, s, padding)
""",
)

_m(
    "avgpool_fwd_mean_all_axes",
    A,
    "avgpool2d_forward",
    "wrong_axis",
    "The window mean is taken with .mean() over all axes, averaging over every image "
    "and channel too instead of over the window's (2, 3) axes only.",
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
            out[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].mean()
    return out, (x.shape, k, s, p)
""",
)

_m(
    "avgpool_bwd_no_division",
    A,
    "avgpool2d_backward",
    "missing_term",
    "dout is spread over the window without dividing by k*k.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i * s:i * s + k, j * s:j * s + k] += dout[:, :, i, j][:, :, None, None]
    return dxp[:, :, p:p + H, p:p + W]
""",
)

_m(
    "avgpool_bwd_assign_not_add",
    A,
    "avgpool2d_backward",
    "other",
    "Each window's share is written with = instead of +=, so overlapping windows "
    "overwrite each other's gradient.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j][:, :, None, None] / (k * k)
            dxp[:, :, i * s:i * s + k, j * s:j * s + k] = share
    return dxp[:, :, p:p + H, p:p + W]
""",
)

_m(
    "avgpool_bwd_excludes_padding",
    A,
    "avgpool2d_backward",
    "convention",
    "Each window's gradient is divided by its number of real (unpadded) pixels instead "
    "of k*k, as if padding did not count in the mean.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    real = np.pad(np.ones((H, W)), p)
    for i in range(H_out):
        for j in range(W_out):
            count = real[i * s:i * s + k, j * s:j * s + k].sum()
            g = dout[:, :, i, j][:, :, None, None]
            dxp[:, :, i * s:i * s + k, j * s:j * s + k] += g / count
    return dxp[:, :, p:p + H, p:p + W]
""",
)

_m(
    "avgpool_bwd_divides_dout_in_place",
    A,
    "avgpool2d_backward",
    "in_place",
    "dout is divided in place (dout /= k*k), so the caller's upstream gradient is changed.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dout /= k * k
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i * s:i * s + k, j * s:j * s + k] += dout[:, :, i, j][:, :, None, None]
    return dxp[:, :, p:p + H, p:p + W]
""",
)

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "ce_max_over_batch_axis",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "The max is subtracted per column (axis 0) instead of per row, which changes each "
    "row's softmax.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=0, keepdims=True)
    exp = np.exp(shifted)
    probs = exp / exp.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    dlogits = probs.copy()
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_normalise_over_batch",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "The softmax divides by sums over axis 0 (over the batch) instead of over the classes.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probs = exp / exp.sum(axis=0, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    dlogits = probs
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_shift_numerator_only",
    A,
    "softmax_cross_entropy",
    "stability",
    "The max is subtracted in the numerator's exponent but not in the normaliser, so the "
    "probabilities are off by a factor exp(-max).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    m = logits.max(axis=1, keepdims=True)
    probs = np.exp(logits - m) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    dlogits = probs.copy()
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_logsumexp_mixed_shift",
    A,
    "softmax_cross_entropy",
    "stability",
    "The loss takes the raw logit of the label minus the log-sum-exp of the SHIFTED "
    "logits, so the row max is never added back and the loss is off by it.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(shifted), axis=1))
    loss = np.mean(lse - logits[np.arange(N), y])
    probs = np.exp(shifted - lse[:, None])
    probs[np.arange(N), y] -= 1
    return float(loss), probs / N
""",
)

_m(
    "ce_grad_unshifted_exp",
    A,
    "softmax_cross_entropy",
    "stability",
    "The gradient's softmax uses np.exp(logits) over the sum of np.exp(shifted), mixing "
    "shifted and unshifted exponentials, so dlogits is scaled by exp(max).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    denom = np.exp(shifted).sum(axis=1, keepdims=True)
    log_p = shifted - np.log(denom)
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(logits) / denom
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_grad_not_divided_by_n",
    A,
    "softmax_cross_entropy",
    "missing_term",
    "The loss is averaged over the batch but the gradient is not divided by N.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits
""",
)

_m(
    "ce_grad_onehot_minus_p",
    A,
    "softmax_cross_entropy",
    "sign",
    "The gradient is computed as (onehot - softmax) / N, the negative of the right one.",
    """
def softmax_cross_entropy(logits, y):
    N, C = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    onehot = np.zeros((N, C))
    onehot[np.arange(N), y] = 1
    loss = -np.mean(np.log(p[np.arange(N), y]))
    return float(loss), (onehot - p) / N
""",
)

_m(
    "ce_shifts_logits_in_place",
    A,
    "softmax_cross_entropy",
    "in_place",
    "The max is subtracted with logits -= ..., which overwrites the caller's logits.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_sum_loss_axis0_max",
    A,
    "softmax_cross_entropy",
    "two_at_once",
    "The loss is summed over the batch instead of averaged, and the max is subtracted "
    "per column (axis 0) instead of per row.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    z = logits - np.max(logits, axis=0)
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y]))
    p[np.arange(N), y] -= 1
    return float(loss), p / N
""",
)

_m(
    "sgd_gradient_ascent",
    A,
    "sgd_step",
    "sign",
    "The parameters move along +velocity (p += lr * v), which is gradient ascent.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name in params:
        d = grads[name] + weight_decay * params[name]
        velocity[name] *= momentum
        velocity[name] += d
        params[name] += lr * velocity[name]
""",
)

_m(
    "sgd_decay_subtracted",
    A,
    "sgd_step",
    "sign",
    "Weight decay is subtracted from the gradient (g - wd * p), which pushes weights "
    "away from zero instead of shrinking them.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] - weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
        p -= lr * velocity[name]
""",
)

_m(
    "sgd_dampened_momentum",
    A,
    "sgd_step",
    "convention",
    "The velocity is an exponential average, v = momentum * v + (1 - momentum) * d, "
    "instead of torch's v = momentum * v + d.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        velocity[name][...] = momentum * velocity[name] + (1 - momentum) * d
        p -= lr * velocity[name]
""",
)

_m(
    "sgd_no_decay_on_biases",
    A,
    "sgd_step",
    "convention",
    "Weight decay is skipped for the biases, but torch.optim.SGD (and the docstring) "
    "decays every parameter.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name]
        if name.endswith("weight"):
            d = d + weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
        p -= lr * velocity[name]
""",
)

_m(
    "sgd_rebinds_param",
    A,
    "sgd_step",
    "in_place",
    "p = p - lr * v makes a new array bound to a local name, so params is never updated.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
        p = p - lr * velocity[name]
""",
)

_m(
    "sgd_velocity_not_stored",
    A,
    "sgd_step",
    "in_place",
    "The new velocity is kept in a local variable and never written back into "
    "`velocity`, so momentum never builds up between steps.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        v = momentum * velocity[name] + d
        p -= lr * v
""",
)

_m(
    "sgd_no_decay_no_momentum_factor",
    A,
    "sgd_step",
    "two_at_once",
    "Weight decay is left out and the old velocity is not multiplied by the momentum "
    "(v += g), so the velocity just sums all past gradients.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name in params:
        velocity[name] += grads[name]
        params[name] -= lr * velocity[name]
""",
)

_m(
    "init_fan_in_channels_only",
    A,
    "init_lenet",
    "convention",
    "For the conv layers fan_in is taken as C_in (w_shape[1]) instead of C_in * KH * KW.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, shape in shapes.items():
        fan_in = shape[1]
        bound = 1 / np.sqrt(fan_in)
        params[layer + ".weight"] = rng.uniform(-bound, bound, size=shape)
        params[layer + ".bias"] = rng.uniform(-bound, bound, size=shape[0])
    return params
""",
)

_m(
    "init_new_rng_per_layer",
    A,
    "init_lenet",
    "other",
    "A new generator with the same seed is made for every layer, so the layers' draws "
    "all start from the same random stream.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    params = {}
    for layer, w_shape in shapes.items():
        rng = np.random.default_rng(seed)
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_bias_drawn_first",
    A,
    "init_lenet",
    "other",
    "Each layer's bias is drawn before its weight, so the random numbers go to the wrong "
    "tensors compared with the required order.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
    return params
""",
)

_m(
    "init_zero_biases",
    A,
    "init_lenet",
    "convention",
    "The biases are set to zero instead of being drawn from U(-bound, bound) like PyTorch does.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = np.zeros(w_shape[0])
    return params
""",
)

_m(
    "init_fan_out_bound",
    A,
    "init_lenet",
    "convention",
    "The bound uses fan_out (the number of output channels or features, w_shape[0]) "
    "instead of fan_in.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(w_shape[0])
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

del A


def _make_split(mistakes):
    split = {}
    by_family: dict[str, list[str]] = {}
    for m in mistakes:
        by_family.setdefault(m["family"], []).append(m["id"])
    for family in sorted(by_family):
        for k, id_ in enumerate(sorted(by_family[family])):
            split[id_] = "build" if k % 2 == 0 else "held_out"
    return split


SPLIT: dict[str, str] = _make_split(MISTAKES)

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
