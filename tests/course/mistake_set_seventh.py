"""A seventh set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-07 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. It was written without knowing what the feedback recognises.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the exercise docstrings and the reference solutions between BEGIN SOLUTION and END
SOLUTION), the solutions/ package, the shared lectures, and tests/course/mistake_set.py,
tests/course/mistake_set_fresh.py, tests/course/mistake_set_third.py,
tests/course/mistake_set_fourth.py, tests/course/mistake_set_fifth.py and
tests/course/mistake_set_sixth.py, these ONLY for their format, the `collector` helper and
FAMILIES of mistake_set.py, and to avoid repeating their ids and their mistakes (no bug of
theirs is repeated in the same function; bugs of a kind none of them has were preferred). NOT
ALLOWED (and not read, searched, imported or run): course/ (course/checks and
course/torch_layers.py included), autograder/, docs/, the shared trial reports,
tests/course/diagnosis.py or any other test file, git log and git diffs.

What was read. Of the notebooks: the markdown cells, the given (locked and plain) code cells
and the solution cells of all seven; their test cells were skipped, neither read nor run. Of
the earlier sets: the module docstring, the collector and FAMILIES and the first entries of
mistake_set.py, the format (docstring, first entries and end) of mistake_set_sixth.py, and the
id, function, family and description of every entry of the six sets, listed by a script. Of
the lectures only their README (the list of lectures); the lecture texts and the solutions/
package were not needed and not read. course.checks was never imported, and nothing was done
to find out which mistakes the checks recognise.

How the entries were verified. A script outside the repository executed, for each notebook,
the function definitions of its given cells and solution cells in order (with numpy, torch,
torch.nn, torch.nn.functional as F and OrderedDict as the notebook imports them, and without
any import from `course`) to get the reference namespace; it then executed each buggy
function over a fresh copy of that namespace and called the reference and the buggy function
on the same ordinary inputs: non-square images and kernels, batches and several channels,
strides, paddings and dilations given as ints, pairs and the nested form, integer images,
transposed (non-contiguous) arrays, logits in the hundreds, batch counts that leave a smaller
last batch. Every entry gives a different result there, or raises where the reference does
not, or changes an input that the reference leaves alone, or breaks a requirement of the
docstring or the exercise that the script tests explicitly (an integer argmax that the
backward pass can index with, no Python loops in Exercise 3.3, calling only the functions of
`layers` and the `forward` that is passed in, the exception asked for). The same script,
given the reference functions themselves, found no difference. The functions of 06 and 07
that take `layers` were run with a bundle of the notebooks' own reference layer functions
(conv2d_forward, conv2d_backward, maxpool2d_forward, maxpool2d_backward, relu, flatten and
linear forward and backward, softmax_cross_entropy), which have the interface the notebooks
describe.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of the six earlier sets)
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
    "corr2d_window_mean_not_sum",
    A,
    "corr2d",
    "other",
    "Each window's products are averaged with np.mean instead of added up with np.sum, so "
    "every output is KH * KW times too small.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.mean(X[i : i + KH, j : j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_tap_loop_slices_one_short",
    A,
    "corr2d",
    "off_by_one",
    "The loop over kernel taps adds K[a, b] * X[a : a + H - KH, b : b + W - KW], a shifted "
    "slice one row and one column smaller than the (H - KH + 1, W - KW + 1) output (the +1 "
    "is missing from the slice ends), so the addition raises a broadcasting error.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for a in range(KH):
        for b in range(KW):
            Y += K[a, b] * X[a : a + H - KH, b : b + W - KW]
    return Y
""",
)

_m(
    "corr2d_bias_multiplies",
    A,
    "corr2d_bias",
    "other",
    "The bias multiplies the correlation (corr2d(X, K) * b) instead of being added to it, so "
    "b scales every output (and b = 0 wipes the output out).",
    """
def corr2d_bias(X, K, b):
    return corr2d(X, K) * b
""",
)

_m(
    "edge_kernel_divided_by_eight",
    A,
    "edge_kernel",
    "other",
    "The kernel is divided by 8, 'normalised' like the blur kernels, so the centre is 1 and "
    "the neighbours -1/8 instead of 8 and -1.",
    """
def edge_kernel():
    K = -np.ones((3, 3))
    K[1, 1] = 8
    return K / 8
""",
)

_m(
    "sharpen_adds_laplacian",
    A,
    "sharpen_kernel",
    "sign",
    "The Laplacian with -4 in the centre and +1 on the four neighbours is ADDED to the "
    "identity instead of subtracted, so the centre is -3 and the neighbours +1 instead of 5 "
    "and -1.",
    """
def sharpen_kernel():
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)
    return identity + laplacian
""",
)

_m(
    "sobel_x_scaled_by_one_eighth",
    A,
    "sobel_x",
    "convention",
    "The kernel is scaled by 1/8, the normalisation some image libraries apply so that it "
    "measures a derivative per pixel, so every weight is 8 times smaller than in lecture "
    "004's [[1, 0, -1], [2, 0, -2], [1, 0, -1]].",
    """
def sobel_x():
    return np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float) / 8
""",
)

_m(
    "box_blur_k_read_as_radius",
    A,
    "box_blur",
    "convention",
    "k is taken as the radius of the neighbourhood, so the kernel is (2k + 1) x (2k + 1) with "
    "entries 1 / (2k + 1)**2 instead of k x k with entries 1 / k**2.",
    """
def box_blur(k):
    size = 2 * k + 1
    return np.full((size, size), 1.0 / size**2)
""",
)

_m(
    "gaussian_divided_by_l2_norm",
    A,
    "gaussian_kernel",
    "other",
    "The kernel is divided by its Euclidean norm (np.linalg.norm) instead of by its sum, so "
    "its squares sum to 1 but the kernel itself sums to more than 1 and brightens the image.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma**2))
    return G / np.linalg.norm(G)
""",
)

_m(
    "gaussian_linspace_half_size_ends",
    A,
    "gaussian_kernel",
    "off_by_one",
    "The offsets come from np.linspace(-size / 2, size / 2, size), which puts the end points "
    "at +-size/2 and the samples size / (size - 1) apart instead of one pixel apart from -c "
    "to +c, so the samples sit too far out and the kernel is too narrow.",
    """
def gaussian_kernel(size, sigma):
    u = np.linspace(-size / 2, size / 2, size)
    xx, yy = np.meshgrid(u, u)
    G = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "conv_true_full_branch_unflipped",
    A,
    "conv2d_true",
    "missing_term",
    "Only the 'valid' branch flips the kernel: the 'full' branch pads X correctly but "
    "correlates it with K itself, so 'full' mode returns a padded cross-correlation, not the "
    "convolution.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "valid":
        return corr2d(X, K[::-1, ::-1])
    if mode == "full":
        Xp = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
        return corr2d(Xp, K)
    raise ValueError(f"unknown mode {mode!r}")
""",
)

_m(
    "conv_true_full_pads_swapped_type_error",
    A,
    "conv2d_true",
    "two_at_once",
    "'full' mode pads KW - 1 rows and KH - 1 columns (the kernel's two sizes swapped between "
    "the axes), which is wrong for a non-square kernel, and an unknown mode raises TypeError "
    "instead of the ValueError the docstring asks for.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode not in ("valid", "full"):
        raise TypeError(f"mode must be 'valid' or 'full', not {mode}")
    K_flipped = K[::-1, ::-1]
    if mode == "full":
        X = np.pad(X, ((KW - 1, KW - 1), (KH - 1, KH - 1)))
    return corr2d(X, K_flipped)
""",
)

_m(
    "as_matrix_canvas_never_cleared",
    A,
    "corr2d_as_matrix",
    "other",
    "Each row is drawn by placing K on an (H, W) canvas that is allocated once, before the "
    "loops, and never cleared, so every row of M also keeps the kernel entries left there "
    "for all earlier output pixels.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    canvas = np.zeros((H, W))
    for i in range(H_out):
        for j in range(W_out):
            canvas[i : i + KH, j : j + KW] = K
            M[i * W_out + j] = canvas.ravel()
    return M
""",
)


# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_transposed_conv_formula",
    A,
    "output_size",
    "convention",
    "The function returns (n - 1) * stride - 2 * padding + k, the output size of a "
    "TRANSPOSED convolution (lecture 003), instead of (n + 2 * padding - k) // stride + 1.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n - 1) * stride - 2 * padding + k
""",
)

_m(
    "output_size_total_stride_added_after_floor",
    A,
    "output_size_total",
    "other",
    "The + stride is added after the floor division, (n - k + p) // s + s, instead of inside "
    "the numerator, (n - k + p + s) // s, which is only the same for stride 1.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + total_padding) // stride + stride
""",
)

_m(
    "pad2d_column_blocks_unpadded_height",
    A,
    "pad2d",
    "shape_assumption",
    "The zero columns stacked on the left and right are made H rows tall, the height of X, "
    "instead of H + top + bottom, the height after the zero rows were stacked on, so "
    "np.hstack raises whenever rows are padded.",
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
    Y = np.vstack([np.zeros((top, W)), X, np.zeros((bottom, W))])
    Y = np.hstack([np.zeros((H, left)), Y, np.zeros((H, right))])
    return Y
""",
)

_m(
    "same_padding_even_kernel_rule",
    A,
    "same_padding",
    "off_by_one",
    "The padding is (k // 2, k // 2 - 1), worked out from an even kernel, so every odd "
    "kernel gets one zero too few after it (3 gives (1, 0) instead of (1, 1), and 1 gives "
    "(0, -1)).",
    """
def same_padding(k):
    return k // 2, k // 2 - 1
""",
)

_m(
    "padded_size_counts_padding_twice",
    A,
    "corr2d_padded",
    "other",
    "output_size is given the already padded size AND the padding again "
    "(output_size(Xp.shape[0], KH, padding=top, ...)), so with padding there are extra "
    "window positions that run off the padded input and the product with K fails.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    if np.isscalar(padding):
        top = left = padding
    elif np.isscalar(padding[0]):
        top, left = padding
    else:
        (top, _), (left, _) = padding
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, padding=top, stride=sh)
    W_out = output_size(Xp.shape[1], KW, padding=left, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_padding_read_with_as_pair",
    A,
    "corr2d_padded",
    "shape_assumption",
    "The padding is read with as_pair, which only knows an int or a (ph, pw) pair, so the "
    "nested ((top, bottom), (left, right)) form makes int() of a pair raise TypeError.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    ph, pw = as_pair(padding)
    Xp = pad2d(X, (ph, pw))
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(X.shape[0], KH, padding=ph, stride=sh)
    W_out = output_size(X.shape[1], KW, padding=pw, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_columns_kh_wide_square_column_loop",
    A,
    "corr2d_padded",
    "two_at_once",
    "The window's columns are cut KH wide (j * sw : j * sw + KH) instead of KW, which breaks "
    "non-square kernels, and the column loop runs over range(H_out) instead of "
    "range(W_out), so a non-square output has columns left at 0 or an IndexError.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(H_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KH] * K)
    return Y
""",
)

_m(
    "dilated_input_padded_twice",
    A,
    "corr2d_dilated",
    "other",
    "The input is padded with pad2d and the padding is then passed on to corr2d_padded as "
    "well, so it is padded twice and the output has extra rows and columns around it.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    Xp = pad2d(X, padding)
    K_dilated = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(Xp, K_dilated, padding=padding, stride=stride)
""",
)


# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_three_channels_hard_coded",
    A,
    "corr2d_multi_in",
    "shape_assumption",
    "The channel loop is written for an RGB input, channels 0, 1 and 2, so an input with "
    "more than 3 channels loses the others and one with fewer raises IndexError.",
    """
def corr2d_multi_in(X, K):
    Y = corr2d(X[0], K[0])
    for c in range(1, 3):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_out_preallocated_without_plus_one",
    A,
    "corr2d_multi_in_out",
    "off_by_one",
    "The output array is allocated as (C_out, H - KH, W - KW), without the +1, so storing "
    "each (H - KH + 1, W - KW + 1) map into it raises a broadcasting error.",
    """
def corr2d_multi_in_out(X, K):
    C_out, C_in, KH, KW = K.shape
    _, H, W = X.shape
    Y = np.zeros((C_out, H - KH, W - KW))
    for o in range(C_out):
        Y[o] = corr2d_multi_in(X, K[o])
    return Y
""",
)

_m(
    "conv1x1_product_per_pixel",
    A,
    "conv1x1",
    "other",
    "The numbers are right, but the function loops over every pixel in Python and does one "
    "small matrix-vector product per pixel instead of the single matrix product without "
    "loops that the exercise asks for.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    C_in, H, W = X.shape
    weights = K[:, :, 0, 0]
    Y = np.zeros((K.shape[0], H, W))
    for i in range(H):
        for j in range(W):
            Y[:, i, j] = weights @ X[:, i, j]
    return Y
""",
)

_m(
    "conv_params_adds_bias_flag",
    A,
    "conv_params",
    "other",
    "The flag itself is added (+ bias), which counts True as 1, so a layer with biases gets "
    "one bias in total instead of one per output channel.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    return C_out * C_in * KH * KW + bias
""",
)

_m(
    "conv_mults_square_output",
    A,
    "conv_mults",
    "shape_assumption",
    "The number of output positions is H_out * H_out, as if every output were square, so "
    "W_out is never used.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return C_out * H_out * H_out * C_in * KH * KW
""",
)

_m(
    "vectorized_kernel_read_in_out",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "The einsum labels the kernel 'coab', reading K as (C_in, C_out, KH, KW), so it only runs "
    "when C_in == C_out, and then output channel o is computed with K[c, o] instead of "
    "K[o, c] (the filter bank transposed).",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,coab->oij", windows, K, optimize=True)
""",
)

_m(
    "vectorized_filters_reshaped_as_columns",
    A,
    "conv2d_vectorized",
    "other",
    "The filters are flattened with K.reshape(C_in * KH * KW, C_out).T, 'one column per "
    "filter', but a reshape never transposes: the rows of that matrix are not the flattened "
    "filters, so the weights are scrambled whenever C_out > 1.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    H_out, W_out = X.shape[1] - KH + 1, X.shape[2] - KW + 1
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    cols = windows.transpose(0, 3, 4, 1, 2).reshape(C_in * KH * KW, H_out * W_out)
    weights = K.reshape(C_in * KH * KW, C_out).T
    return (weights @ cols).reshape(C_out, H_out, W_out)
""",
)


# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_size_unpacked_as_pair",
    A,
    "pool2d",
    "shape_assumption",
    "The window size is unpacked directly (KH, KW = size) instead of with as_pair, so the "
    "ordinary call with one int, such as pool2d(X, 2), raises TypeError; only a (KH, KW) "
    "pair works.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = size
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
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool2d_mode_checked_as_substring",
    A,
    "pool2d",
    "other",
    "The mode is checked with mode not in 'max avg', a substring test on one string, so "
    "fragments such as 'a', 'ax' or 'av' (and the empty string) pass the check and silently "
    "give average pooling instead of raising ValueError.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in "max avg":
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
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
""",
)

_m(
    "pool_channels_output_preallocated_like_input",
    A,
    "pool2d_channels",
    "shape_assumption",
    "The output is preallocated with np.zeros_like(X), the input's (C, H, W) shape, so "
    "storing each smaller pooled map into Y[c] raises a broadcasting error (it only fits "
    "when the pooling keeps the size).",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    Y = np.zeros_like(X)
    for c in range(X.shape[0]):
        Y[c] = pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
    return Y
""",
)

_m(
    "grad_mask_stride_applied_twice",
    A,
    "maxpool_grad_mask",
    "other",
    "The loops already run over pixel offsets (range(0, H - KH + 1, SH)) and cut the right "
    "windows, but the winner is placed at i * SH + p, multiplying by the stride a second "
    "time, so for any stride above 1 the counts land too far down and right (or past the "
    "end: IndexError).",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H, W = X.shape
    mask = np.zeros_like(X)
    for i in range(0, H - KH + 1, SH):
        for j in range(0, W - KW + 1, SW):
            window = X[i : i + KH, j : j + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i * SH + p, j * SW + q] += 1
    return mask
""",
)


# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_steps_through_ravel",
    A,
    "numerical_gradient",
    "other",
    "The entries are moved through flat = x.ravel(), which is a view only of a contiguous "
    "array: for a transposed or sliced x it is a copy, so f never sees the steps and the "
    "gradient comes back all zeros.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    flat = x.ravel()
    grad = np.zeros(x.size)
    for k in range(x.size):
        old = flat[k]
        flat[k] = old + h
        f_plus = f(x)
        flat[k] = old - h
        f_minus = f(x)
        flat[k] = old
        grad[k] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(x.shape)
""",
)

_m(
    "numgrad_plus_minus_alias_x",
    A,
    "numerical_gradient",
    "in_place",
    "x_plus = x and x_minus = x are not copies but two more names for x, so both steps are "
    "made on the same array before f is called: both evaluations see x back at (about) its "
    "old value and the gradient comes out 0.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x_plus = x
        x_plus[i] = x[i] + h
        x_minus = x
        x_minus[i] = x[i] - h
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad
""",
)

_m(
    "rel_error_python_max_floor",
    A,
    "rel_error",
    "other",
    "The elementwise floor uses Python's max(np.abs(a) + np.abs(b), eps) instead of "
    "np.maximum, which compares a whole array with a number and raises ValueError (the "
    "truth value of an array is ambiguous) for any array of more than one entry.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / max(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "rel_error_relative_to_b_squared_norms",
    A,
    "rel_error",
    "two_at_once",
    "The elementwise kind divides by |b_i| alone (b taken as the exact value) instead of "
    "|a_i| + |b_i|, so it is not symmetric and can exceed 1, and the norm kind divides sums "
    "of squares (squared norms) instead of the Frobenius norms themselves.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), eps)))
    return float(np.sum((a - b) ** 2) / max(np.sum(a**2) + np.sum(b**2), eps))
""",
)

_m(
    "conv_fwd_window_times_whole_filter_bank",
    A,
    "conv2d_forward",
    "other",
    "Inside the loop over output channels the window is multiplied by the whole filter bank "
    "w instead of w[o]; broadcasting lets that run, so every output channel gets the sum "
    "over all C_out filters (only C_out == 1 is right).",
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
                    window = xp[n, :, i * s : i * s + KH, j * s : j * s + KW]
                    out[n, o, i, j] = np.sum(window * w) + b[o]
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_bwd_dx_stride_one_full_correlation",
    A,
    "conv2d_backward",
    "convention",
    "dx is computed as the full correlation of dout with the flipped kernel, the rule "
    "lecture 003 derives for stride 1; with a stride above 1, dout is not spread out by the "
    "stride first, so dx is wrong (dw and db are right).",
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
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
    # dx: full correlation of dout with the flipped kernel (lecture 003)
    dout_p = np.pad(dout, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    w_flip = w[:, :, ::-1, ::-1]
    dxp = np.zeros(xp.shape)
    for r in range(H_out + KH - 1):
        for t in range(W_out + KW - 1):
            patch = dout_p[:, :, r : r + KH, t : t + KW]
            dxp[:, :, r, t] = np.tensordot(patch, w_flip, axes=([1, 2, 3], [0, 2, 3]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_argmax_stored_as_floats",
    A,
    "maxpool2d_forward",
    "other",
    "The argmax array is allocated with np.zeros and no dtype=int, so the winners' indices "
    "are stored as floats (the docstring asks for an integer array) and the backward pass, "
    "which indexes dx with them, raises IndexError.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s : i * s + k, j * s : j * s + k].reshape(N, C, k * k)
            argmax[:, :, i, j] = np.argmax(window, axis=2)
            out[:, :, i, j] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_fwd_output_is_view_of_input",
    A,
    "maxpool2d_forward",
    "in_place",
    "out starts as a strided view of x (the top-left entry of every window) instead of a "
    "copy, so writing each window's larger entries into it overwrites the caller's x, and "
    "with overlapping windows later windows read the overwritten values.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = x[:, :, : s * H_out : s, : s * W_out : s]  # the top-left entry of every window
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for a in range(k):
        for b in range(k):
            tap = x[:, :, a : a + s * H_out : s, b : b + s * W_out : s]
            better = tap > out
            argmax[better] = a * k + b
            out[better] = tap[better]
    return out, (x.shape, k, s, argmax)
""",
)

_m(
    "maxpool_bwd_meshgrid_xy_indexing",
    A,
    "maxpool2d_backward",
    "convention",
    "np.meshgrid is called without indexing='ij', so with its default 'xy' indexing n and c "
    "have shape (C, N) instead of (N, C): they no longer line up with argmax and dout, which "
    "raises unless N or C is 1 and otherwise sends gradients to the wrong images and "
    "channels.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    n, c = np.meshgrid(np.arange(N), np.arange(C))
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], k)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_as_conv_mixes_channels",
    A,
    "avgpool2d_forward",
    "other",
    "Average pooling is computed as a convolution with a (C, C, k, k) kernel of 1 / k**2, "
    "but a convolution sums over its input channels, so every output channel is the sum of "
    "the averages of all C channels instead of the average of its own channel.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    w = np.full((C, C, k, k), 1.0 / (k * k))
    out, _ = conv2d_forward(x, w, np.zeros(C), stride=s, padding=padding)
    return out, (x.shape, k, s, padding)
""",
)

_m(
    "avgpool_bwd_stride_share_top_left_crop",
    A,
    "avgpool2d_backward",
    "two_at_once",
    "Each window's gradient is divided by s * s, the stride squared, instead of k * k (the "
    "same only for the default stride), and the padding is cut off with dxp[:, :, p:, p:], "
    "which removes it at the top and left only, so with padding dx is p rows and columns "
    "too large.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j] / (s * s)
            dxp[:, :, i * s : i * s + k, j * s : j * s + k] += share[:, :, None, None]
    return dxp[:, :, p:, p:]
""",
)


# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_bias_bound_from_own_shape",
    A,
    "init_lenet",
    "other",
    "The bound is computed from each array's own shape, so for a bias of shape (C_out,) "
    "fan_in is np.prod(()) = 1 and every bias is drawn from U(-1, 1) instead of with its "
    "layer's bound 1 / sqrt(fan_in).",
    """
def init_lenet(seed=0):
    shapes = {
        "conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,),
        "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
        "fc1.weight": (120, 400), "fc1.bias": (120,),
        "fc2.weight": (84, 120), "fc2.bias": (84,),
        "fc3.weight": (10, 84), "fc3.bias": (10,),
    }
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[1:]))
        bound = 1 / np.sqrt(fan_in)
        params[name] = rng.uniform(-bound, bound, size=shape)
    return params
""",
)

_m(
    "init_scaled_unit_uniform",
    A,
    "init_lenet",
    "other",
    "The draws are bound * rng.uniform(size=...), which scales numpy's default U(0, 1) to "
    "U(0, bound), so every weight and bias is positive instead of drawn from "
    "U(-bound, bound).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400),
              "fc2": (84, 120), "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = bound * rng.uniform(size=w_shape)
        params[f"{layer}.bias"] = bound * rng.uniform(size=w_shape[0])
    return params
""",
)

_m(
    "forward_pools_before_relu",
    A,
    "lenet_forward",
    "convention",
    "Each convolution is pooled before its ReLU (conv, pool, ReLU, as in PyTorch's MNIST "
    "example) instead of conv, ReLU, pool: the logits are the same, since ReLU and max "
    "pooling commute, but the 'relu1' and 'relu2' caches hold the pooled maps, so the "
    "backward pass, which undoes the pooling after the ReLU, gets caches of the wrong size.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, caches["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
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
    "forward_conv2_with_global_layer",
    A,
    "lenet_forward",
    "other",
    "conv2 is computed with the global conv2d_forward (the one pasted in Exercise 6.0) "
    "instead of layers.conv2d_forward, so that layer ignores the layers it is given: with "
    "PyTorch's or the reference layers its cache has another origin and its result depends "
    "on the pasted code.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
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
    "backward_relu4_given_dlogits",
    A,
    "lenet_backward",
    "other",
    "relu4's backward is given dlogits again instead of d, the gradient that fc3's backward "
    "has just returned, so the (N, 10) gradient meets the (N, 84) ReLU input and the call "
    "fails.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(dlogits, c["relu4"])
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
    "backward_first_pool_not_undone",
    A,
    "lenet_backward",
    "missing_term",
    "The first pooling is never undone: conv2's input gradient, (N, 6, 14, 14), goes "
    "straight into relu1's backward without maxpool2d_backward(d, caches['pool1']), so it "
    "meets the (N, 6, 28, 28) ReLU input and the call fails.",
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
    d = layers.relu_backward(d, c["relu1"])
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    return g
""",
)

_m(
    "ce_logsumexp_over_whole_batch",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "np.sum(np.exp(shifted)) has no axis, so the log-sum-exp is taken over the whole batch "
    "instead of each row: every log-probability is too small by the other rows' share of "
    "the sum (right only for a batch of one).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted)))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_shift_by_label_logit",
    A,
    "softmax_cross_entropy",
    "stability",
    "Each row is shifted by the label's logit (the correct-class score that SVM-loss code "
    "subtracts) instead of by the row's maximum, so a logit a few hundred above the label's "
    "still overflows np.exp to inf and the loss becomes infinite.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits[np.arange(N), y][:, None]
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_weight_decay_halved",
    A,
    "sgd_step",
    "other",
    "The decay term is weight_decay / 2 * p, the 1/2 of the penalty (lambda / 2) * ||p||**2 "
    "copied into the gradient, whose derivative is lambda * p, so the decay is half as "
    "strong as torch.optim.SGD's.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay / 2 * p
        velocity[name] *= momentum
        velocity[name] += d
        p -= lr * velocity[name]
""",
)

_m(
    "sgd_decay_of_gradient_damped_velocity",
    A,
    "sgd_step",
    "two_at_once",
    "Weight decay is added as weight_decay * g, a multiple of the gradient, instead of "
    "weight_decay * p, and the velocity is updated as momentum * (v + d), which damps the "
    "new gradient by the momentum too (with momentum 0 nothing moves), instead of "
    "momentum * v + d.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name in params:
        d = grads[name] + weight_decay * grads[name]
        velocity[name] = momentum * (velocity[name] + d)
        params[name] -= lr * velocity[name]
""",
)

_m(
    "train_loss_given_all_labels",
    A,
    "train_epoch",
    "other",
    "The loss is called with all the labels y instead of the batch's labels y[idx], so the "
    "batch's logits meet N labels and the call fails.",
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
        idx = order[start : start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y)
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "train_velocity_rebuilt_each_epoch",
    A,
    "train_epoch",
    "in_place",
    "velocity is rebuilt as a new dict of zeros at the start of the epoch ('v = 0 before "
    "the first step'), so momentum starts again from 0 every epoch and the caller's velocity "
    "dict is never updated.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    order = rng.permutation(N)
    velocity = {name: np.zeros_like(p) for name, p in params.items()}
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        idx = order[start : start + batch_size]
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
    "train_no_momentum_full_batch_weight",
    A,
    "train_epoch",
    "two_at_once",
    "momentum is not passed on to step, so the epoch runs without momentum (step's default "
    "0), and each batch's mean loss is weighted by batch_size instead of the batch's real "
    "size, so a smaller last batch counts as if it were full.",
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
        idx = order[start : start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, weight_decay=weight_decay)
        total_loss += float(loss) * batch_size
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_calls_lenet_forward_by_name",
    A,
    "evaluate",
    "other",
    "Each batch goes through lenet_forward by name instead of the forward function that is "
    "passed in, so a caller (or a test) that hands in another forward pass is ignored.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        logits, _ = lenet_forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_rounds_results",
    A,
    "evaluate",
    "rounding",
    "The loss and the accuracy are rounded to 2 decimals before they are returned (to print "
    "nicely), so the function no longer returns the mean loss and the fraction correct but "
    "approximations of them.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        total_loss += float(loss) * len(yb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": round(total_loss / N, 2), "acc": round(correct / N, 2)}
""",
)


# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_plain_dict",
    A,
    "make_lenet_torch",
    "convention",
    "The layers are handed to nn.Sequential in a plain dict; nn.Sequential only takes names "
    "from an OrderedDict, so it treats the dict as one module and raises TypeError.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"unknown variant {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential({
        "conv1": nn.Conv2d(1, 6, kernel_size=5, padding=2),
        "act1": Act(),
        "pool1": Pool(2),
        "conv2": nn.Conv2d(6, 16, kernel_size=5),
        "act2": Act(),
        "pool2": Pool(2),
        "flatten": nn.Flatten(),
        "fc1": nn.Linear(400, 120),
        "act3": Act(),
        "fc2": nn.Linear(120, 84),
        "act4": Act(),
        "fc3": nn.Linear(84, 10),
    })
""",
)

_m(
    "make_lenet_no_flatten_layer",
    A,
    "make_lenet_torch",
    "missing_term",
    "There is no nn.Flatten between the second pooling and fc1 (lecture 002 flattens with "
    "x.view in its forward method, which a Sequential does not have), so fc1 receives the "
    "(N, 16, 5, 5) maps and raises a shape error.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
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
        ("fc1", nn.Linear(400, 120)),
        ("act3", Act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "load_params_copy_outside_no_grad",
    A,
    "load_numpy_params",
    "missing_term",
    "The copy into each parameter is not wrapped in torch.no_grad(), so autograd refuses the "
    "in-place write into a leaf tensor that requires grad and copy_ raises RuntimeError.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    for name, param in model.named_parameters():
        if name not in params:
            raise KeyError(f"no array for {name}")
        array = np.asarray(params[name])
        if array.shape != tuple(param.shape):
            raise ValueError(f"{name}: array {array.shape}, parameter {tuple(param.shape)}")
        param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "train_torch_loop_under_no_grad",
    A,
    "train_epoch_torch",
    "other",
    "The whole loop runs under torch.no_grad() (copied from the evaluation), so autograd "
    "records nothing and loss.backward() raises RuntimeError because the loss does not "
    "require grad.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
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
    "train_torch_log_of_softmax_by_hand",
    A,
    "train_epoch_torch",
    "stability",
    "The loss is written out as minus the log of the label's softmax probability instead of "
    "F.cross_entropy (which uses the log-softmax), so when a label's probability underflows "
    "to 0 (logits a few hundred apart) that batch's loss is inf and its gradients nan, and "
    "the step writes nan into the parameters.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        probs = F.softmax(logits, dim=1)
        loss = -torch.log(probs[torch.arange(len(y)), y]).mean()
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "train_torch_step_after_loop",
    A,
    "train_epoch_torch",
    "other",
    "opt.step() sits after the loop instead of inside it, so the epoch takes a single "
    "optimiser step, with the gradient of the last batch only (each batch's zero_grad wipes "
    "the ones before).",
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
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    opt.step()
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_max_values_as_predictions",
    A,
    "evaluate_torch",
    "other",
    "The predictions are logits.max(dim=1)[0], the largest logit VALUES, instead of the "
    "indices (logits.max(dim=1)[1] or argmax), so numbers like 3.7 are compared with the "
    "labels and the accuracy is about 0.",
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
            correct += (logits.max(dim=1)[0] == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
