"""A tenth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-07 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. It was written without knowing what the feedback recognises.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the given code cells, the exercise docstrings and the reference solutions between
BEGIN SOLUTION and END SOLUTION; their test cells skipped, neither read nor run), the
solutions/ package, the shared lectures, and tests/course/mistake_set.py,
tests/course/mistake_set_fresh.py, tests/course/mistake_set_third.py,
tests/course/mistake_set_fourth.py, tests/course/mistake_set_fifth.py,
tests/course/mistake_set_sixth.py, tests/course/mistake_set_seventh.py,
tests/course/mistake_set_eighth.py and tests/course/mistake_set_ninth.py, these ONLY for
their format, the `collector` helper and FAMILIES of mistake_set.py, and to avoid repeating
their ids and their mistakes (no bug of theirs is repeated in the same function; bugs of a
kind none of them has were preferred). NOT ALLOWED (and not read, searched, imported or
run): course/ (course/checks and course/torch_layers.py included), autograder/, docs/, the
shared trial reports, tests/course/diagnosis.py or any other test file, the README's and
the Makefile's test targets, git log and git diffs (no git command was run at all).

What was read. Of the notebooks: the markdown cells, the given code cells and the solution
cells of all seven, printed by a script that skipped every test cell (nbgrader grade=True
and solution=False) without printing it. Of the earlier sets: the collector and FAMILIES of
mistake_set.py, the format (docstring, section layout, first and last entries) of
mistake_set_ninth.py, and the id, function, family and description of every entry of the
nine sets, listed by a script that parsed the files with `ast` without importing them. The
lectures and the solutions/ package were not needed and not read. course was never
imported, and nothing was done to find out which mistakes the checks recognise.

How the entries were verified. A script outside the repository executed, for each notebook,
the function definitions of its given cells and solution cells in order (with numpy,
torch, torch.nn, torch.nn.functional as F and OrderedDict as the notebook imports them, and
without any import from `course`) to get the reference namespace; it then executed each
buggy function over a fresh copy of that namespace and called the reference and the buggy
function on the same ordinary inputs: non-square images and kernels, batches and several
channels, strides, paddings and dilations given as ints, pairs and the nested form, integer
images, transposed (non-contiguous) arrays, mode strings built at run time, negative
feature maps and integer maps with ties, logits in the hundreds, batch counts that leave a
smaller last batch and batch counts that divide the data exactly, lists and generators of
batches, batches given as tensors, float32 and float64 models. It compared the return values
(values, shapes, dtypes and Python types; caches, dict keys and torch modules included),
whether and which exception is raised, and the state of every argument after the call
(arrays, dicts, caches, models, optimisers and random generators). Every entry differs
there. The same script, given the reference functions themselves (from a second,
independently built namespace), found no difference. The functions of 06 and 07 that take
`layers` were run with a bundle of the notebooks' own reference layer functions
(conv2d_forward, conv2d_backward, maxpool2d_forward, maxpool2d_backward, relu, flatten and
linear forward and backward, softmax_cross_entropy), which have the interface the notebooks
describe.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of the nine earlier sets)
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
    "corr2d_window_scaled_in_place",
    A,
    "corr2d",
    "in_place",
    "Each window is multiplied by the kernel in place (window *= K), but a slice of X is a "
    "view, so the products are written into the caller's image: every later window that "
    "overlaps reads pixels that were already multiplied, X comes back changed, and an integer "
    "image with a float kernel raises a casting error.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            window = X[i : i + KH, j : j + KW]
            window *= K
            Y[i, j] = window.sum()
    return Y
""",
)

_m(
    "corr2d_builtin_sum_adds_rows",
    A,
    "corr2d",
    "other",
    "The products of a window are added with Python's built-in sum instead of np.sum, and on "
    "a 2-D array sum() only adds up the ROWS, giving a vector of KW numbers, so storing it "
    "into one output pixel raises a ValueError for every kernel wider than one column.",
    """
def corr2d(X, K):
    KH, KW = K.shape
    H_out = X.shape[0] - KH + 1
    W_out = X.shape[1] - KW + 1
    Y = np.zeros((H_out, W_out))
    for r in range(H_out):
        for c in range(W_out):
            Y[r, c] = sum(X[r : r + KH, c : c + KW] * K)
    return Y
""",
)

_m(
    "corr2d_bias_map_width_from_kernel_height",
    A,
    "corr2d_bias",
    "shape_assumption",
    "The bias is spread into a map of shape (H - k + 1, W - k + 1) with k = K.shape[0], the "
    "kernel's height used for both axes, so for a kernel that is not square the map does not "
    "match the output of corr2d and the addition raises a broadcasting error.",
    """
def corr2d_bias(X, K, b):
    H, W = X.shape
    k = K.shape[0]
    bias_map = b * np.ones((H - k + 1, W - k + 1))
    return corr2d(X, K) + bias_map
""",
)

_m(
    "edge_kernel_returns_nested_list",
    A,
    "edge_kernel",
    "other",
    "The numbers are right, but the kernel is returned as a nested Python list, not as the "
    "float numpy array the exercise asks for, so it has no .shape or .sum() and K * window "
    "does not multiply elementwise.",
    """
def edge_kernel():
    return [[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]
""",
)

_m(
    "sharpen_neighbour_slices_stop_short",
    A,
    "sharpen_kernel",
    "off_by_one",
    "The -1s are written with K[0:2, 1] and K[1, 0:2], as if slice ends were inclusive, so "
    "only the upper and the left neighbour get -1; the lower and the right neighbour stay 0 "
    "and the kernel sums to 3 instead of 1.",
    """
def sharpen_kernel():
    K = np.zeros((3, 3))
    K[0:2, 1] = -1
    K[1, 0:2] = -1
    K[1, 1] = 5
    return K
""",
)

_m(
    "sobel_x_middle_row_sign_flipped",
    A,
    "sobel_x",
    "sign",
    "The middle row is typed [-2, 0, 2] while the other rows are [1, 0, -1], so the weighted "
    "middle row computes right minus left and works against the other two instead of "
    "doubling them.",
    """
def sobel_x():
    return np.array([[1, 0, -1], [-2, 0, 2], [1, 0, -1]], dtype=float)
""",
)

_m(
    "sobel_y_transposed_in_place_by_loop",
    A,
    "sobel_y",
    "in_place",
    "sobel_x() is transposed in place with a double loop, K[i, j] = K[j, i], without a copy: "
    "the upper triangle is overwritten before the lower triangle reads it, so the result is "
    "[[1, 2, 1], [2, 0, 0], [1, 0, -1]], neither Sobel y nor symmetric about anything useful.",
    """
def sobel_y():
    K = sobel_x()
    for i in range(3):
        for j in range(3):
            K[i, j] = K[j, i]
    return K
""",
)

_m(
    "box_blur_weights_rounded",
    A,
    "box_blur",
    "rounding",
    "The weight 1 / k**2 is rounded to two decimals to look like the slide's 0.11, so the "
    "3 x 3 blur has entries 0.11 and sums to 0.99 (and a 4 x 4 one 0.06, summing to 0.96) "
    "instead of exactly 1.",
    """
def box_blur(k):
    return np.full((k, k), round(1 / k**2, 2))
""",
)

_m(
    "gaussian_sigma_outside_exp",
    A,
    "gaussian_kernel",
    "other",
    "The parenthesis of exp closes too early, exp(-d**2) / (2 * sigma**2), so sigma only "
    "scales the whole kernel, which the normalisation then undoes: every kernel is the "
    "Gaussian with sigma = 1 / sqrt(2), whatever sigma is asked for.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    G = np.zeros((size, size))
    for u in range(size):
        for v in range(size):
            G[u, v] = np.exp(-((u - c) ** 2 + (v - c) ** 2)) / (2 * sigma**2)
    return G / G.sum()
""",
)

_m(
    "conv_true_error_not_raised_flip_columns_only",
    A,
    "conv2d_true",
    "two_at_once",
    "Two slips: the ValueError for an unknown mode is created but never raised (the raise "
    "keyword is missing), so 'same' or 'Full' silently give the 'valid' result, and the "
    "kernel is only mirrored left to right (K[:, ::-1]) instead of rotated by 180 degrees.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        ValueError(f"unknown mode {mode!r}")
    return corr2d(X, K[:, ::-1])
""",
)

_m(
    "as_matrix_input_read_column_major",
    A,
    "corr2d_as_matrix",
    "convention",
    "Each row is drawn on an (H, W) canvas and flattened with ravel(order='F'), column by "
    "column as in MATLAB, so the columns of M number the input pixels column-wise while "
    "M @ X.ravel() feeds them row by row: the kernel lands on the wrong pixels.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    row = 0
    for i in range(H_out):
        for j in range(W_out):
            canvas = np.zeros((H, W))
            canvas[i : i + KH, j : j + KW] = K
            M[row] = canvas.ravel(order="F")
            row += 1
    return M
""",
)

del A


# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_counts_range_starts",
    A,
    "output_size",
    "off_by_one",
    "The window positions are counted as len(range(0, n + 2 * padding - k, stride)), but "
    "range stops BEFORE its end, so the last start position n + 2p - k is lost whenever the "
    "stride reaches it exactly (every stride-1 layer is one short, and a kernel that fits "
    "exactly gives 0).",
    """
def output_size(n, k, *, padding=0, stride=1):
    return len(range(0, n + 2 * padding - k, stride))
""",
)

_m(
    "output_size_total_floor_split_over_sum",
    A,
    "output_size_total",
    "rounding",
    "The floor is split over the sum, (n - k) // s + total_padding // s + 1, but the floor "
    "of a sum is not the sum of the floors: when the two remainders add up to a whole stride "
    "one window position is lost.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k) // stride + total_padding // stride + 1
""",
)

_m(
    "pad2d_pair_test_before_int_test",
    A,
    "pad2d",
    "other",
    "The test for a (ph, pw) pair, np.isscalar(padding[0]), comes before the test for an "
    "int, so an int padding is indexed first and the ordinary call pad2d(X, 1) raises "
    "TypeError ('int' object is not subscriptable).",
    """
def pad2d(X, padding):
    if np.isscalar(padding[0]):
        ph, pw = padding
        top = bottom = ph
        left = right = pw
    elif np.isscalar(padding):
        top = bottom = left = right = padding
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "pad2d_float32_buffer",
    A,
    "pad2d",
    "rounding",
    "The padded array is allocated as float32 ('images fit in float32'), so a float64 image "
    "is rounded to about 7 digits on its way in and the function returns float32 instead of "
    "the float64 array every other function of the notebook works with.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        padding = ((padding, padding), (padding, padding))
    elif np.isscalar(padding[0]):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right), dtype=np.float32)
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "same_padding_divmod_as_halves",
    A,
    "same_padding",
    "other",
    "divmod(k - 1, 2) is taken for the two halves of the padding, but it returns the "
    "quotient and the REMAINDER, so a 3-wide kernel gets (1, 0) instead of (1, 1) and a "
    "2-wide one (0, 1) instead of (1, 0).",
    """
def same_padding(k):
    before, after = divmod(k - 1, 2)
    return before, after
""",
)

_m(
    "padded_while_loop_strict_bound",
    A,
    "corr2d_padded",
    "off_by_one",
    "The windows are walked with while loops that continue while i * sh + KH < Xp.shape[0] "
    "(and likewise for the columns), a strict < where <= is needed, so a window that ends "
    "exactly at the bottom or right edge is never computed and its row or column of Y stays 0.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW, stride=sw)
    Y = np.zeros((H_out, W_out))
    i = 0
    while i * sh + KH < Xp.shape[0]:
        j = 0
        while j * sw + KW < Xp.shape[1]:
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
            j += 1
        i += 1
    return Y
""",
)

_m(
    "dilated_padding_scaled_by_dilation",
    A,
    "corr2d_dilated",
    "convention",
    "The padding is multiplied by the dilation before it is passed on ('a dilated kernel "
    "needs dilated padding'), but padding counts zeros on each side whatever the dilation, so "
    "every dilated layer with padding gets too many zeros and too large an output (and the "
    "nested padding form no longer works).",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    K_dilated[::dh, ::dw] = K
    ph, pw = as_pair(padding)
    return corr2d_padded(X, K_dilated, padding=(ph * dh, pw * dw), stride=stride)
""",
)

_m(
    "dilated_column_start_and_step_from_row_settings",
    A,
    "corr2d_dilated",
    "two_at_once",
    "Two slips in the column part of the window slice, each copied from the row part: the "
    "window's first column is j * sh, with the ROW stride, and its taps are dh apart, the "
    "ROW dilation, so any stride or dilation pair whose two entries differ reads the wrong "
    "pixels (or a window of the wrong width).",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    sh, sw = as_pair(stride)
    Xp = pad2d(X, padding)
    KH, KW = K.shape
    span_h = dh * (KH - 1) + 1
    span_w = dw * (KW - 1) + 1
    H_out = output_size(Xp.shape[0], span_h, stride=sh)
    W_out = output_size(Xp.shape[1], span_w, stride=sw)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            r, c = i * sh, j * sh
            window = Xp[r : r + span_h : dh, c : c + span_w : dh]
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
    "multi_in_kernel_size_from_leading_axes",
    A,
    "corr2d_multi_in",
    "wrong_axis",
    "The kernel size is read as KH, KW = K.shape[:2], the first two axes, which are (C_in, "
    "KH) for a (C_in, KH, KW) kernel, so the sum is allocated with the wrong output size and "
    "adding the channel maps to it raises a broadcasting error.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    KH, KW = K.shape[:2]
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for c in range(C_in):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_out_skips_first_filter_stacked_axis_one",
    A,
    "corr2d_multi_in_out",
    "two_at_once",
    "Two slips: the loop over filters starts at 1 (the pattern of corr2d_multi_in, where "
    "channel 0 starts the sum, copied without its first map), so output channel 0 is missing, "
    "and the maps are stacked with axis=1, giving (H_out, C_out - 1, W_out).",
    """
def corr2d_multi_in_out(X, K):
    K = np.asarray(K, dtype=float)
    maps = []
    for o in range(1, K.shape[0]):
        maps.append(corr2d_multi_in(X, K[o]))
    return np.stack(maps, axis=1)
""",
)

_m(
    "conv1x1_star_for_matrix_product",
    A,
    "conv1x1",
    "convention",
    "The matrix product is written with *, as in MATLAB, but numpy's * multiplies "
    "elementwise: the (C_out, C_in) weights times the (C_in, H*W) pixels only broadcast when "
    "C_in is 1, and otherwise raise.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    Wm = K.reshape(C_out, C_in)
    Y = Wm * X.reshape(C_in, H * W)
    return Y.reshape(C_out, H, W)
""",
)

_m(
    "conv1x1_tensordot_channels_last",
    A,
    "conv1x1",
    "wrong_axis",
    "np.tensordot(X, W, axes=([0], [1])) contracts the right axes, but tensordot puts the "
    "remaining axes of its first argument first, so the result is (H, W, C_out), channels "
    "last, and it is returned without moving the channel axis to the front.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Wm = K[:, :, 0, 0]
    return np.tensordot(X, Wm, axes=([0], [1]))
""",
)

_m(
    "conv_params_weights_of_one_filter",
    A,
    "conv_params",
    "missing_term",
    "Only one filter's weights are counted, C_in * KH * KW, plus the C_out biases: the "
    "factor C_out for the number of filters is missing from the weights.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    weights = C_in * KH * KW
    biases = C_out if bias else 0
    return weights + biases
""",
)

_m(
    "conv_mults_counts_additions",
    A,
    "conv_mults",
    "off_by_one",
    "Each output value is counted as C_in * KH * KW - 1 operations, the number of ADDITIONS "
    "that sum its products, instead of the C_in * KH * KW multiplications asked for, so every "
    "count is one per output value too small.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    per_output = C_in * KH * KW - 1
    return C_out * H_out * W_out * per_output
""",
)

_m(
    "vectorized_window_spans_channels_extra_axis",
    A,
    "conv2d_vectorized",
    "shape_assumption",
    "sliding_window_view is given the window K.shape[1:] = (C_in, KH, KW) over all three "
    "axes, which slides along the channels too and leaves a leading axis of length 1, so the "
    "function returns (1, C_out, H_out, W_out) instead of (C_out, H_out, W_out).",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    windows = np.lib.stride_tricks.sliding_window_view(X, K.shape[1:])
    out = np.tensordot(windows, K, axes=([3, 4, 5], [1, 2, 3]))
    return out.transpose(0, 3, 1, 2)
""",
)

_m(
    "vectorized_sums_output_channels",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "The einsum output is written 'cij' instead of 'oij', so it sums over the OUTPUT "
    "channels and keeps the input channels: the result is (C_in, H_out, W_out) and each map "
    "mixes all the filters.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->cij", windows, K, optimize=True)
""",
)

del A


# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_max_of_absolute_values",
    A,
    "pool2d",
    "convention",
    "Max pooling keeps the largest ABSOLUTE value of each window ('the strongest signal'), "
    "np.abs(window).max(), so a window of negative responses reports a positive number that "
    "is not in it, and with padding the -inf fill turns into +inf.",
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
    H_out = (X_pad.shape[0] - KH) // SH + 1
    W_out = (X_pad.shape[1] - KW) // SW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = X_pad[i * SH : i * SH + KH, j * SW : j * SW + KW]
            if mode == "max":
                Y[i, j] = np.abs(window).max()
            else:
                Y[i, j] = window.mean()
    return Y
""",
)

_m(
    "pool2d_avg_divided_by_stride_area",
    A,
    "pool2d",
    "other",
    "Average pooling divides each window's sum by sh * sw, the area of one stride step, "
    "instead of by KH * KW, the window's size; the two agree only for the default stride, so "
    "overlapping or gapped windows get the wrong means.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode != "max" and mode != "avg":
        raise ValueError("mode must be 'max' or 'avg', not " + repr(mode))
    kh, kw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    ph, pw = as_pair(padding)
    if mode == "max":
        Xp = np.pad(X, ((ph, ph), (pw, pw)), constant_values=-np.inf)
    else:
        Xp = np.pad(X, ((ph, ph), (pw, pw)))
    out_h = (Xp.shape[0] - kh) // sh + 1
    out_w = (Xp.shape[1] - kw) // sw + 1
    Y = np.zeros((out_h, out_w))
    for r in range(out_h):
        for c in range(out_w):
            win = Xp[r * sh : r * sh + kh, c * sw : c * sw + kw]
            if mode == "max":
                Y[r, c] = win.max()
            else:
                Y[r, c] = win.sum() / (sh * sw)
    return Y
""",
)

_m(
    "pool2d_default_stride_from_raw_size",
    A,
    "pool2d",
    "shape_assumption",
    "When stride is None, SH = SW = size copies the size argument as it was given, which is "
    "only right for an int: a (KH, KW) window makes SH and SW tuples, and the output-size "
    "arithmetic raises TypeError.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    if stride is None:
        SH = SW = size
    else:
        SH, SW = as_pair(stride)
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
    "pool_channels_stride_fixed_to_window",
    A,
    "pool2d_channels",
    "convention",
    "Every channel is pooled with stride=size ('the stride of pooling is the window size'), "
    "so the stride argument is ignored: it is right for the default stride=None only, and "
    "overlapping windows such as size 3, stride 2 come out with the wrong positions and size.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    pooled = []
    for channel in X:
        pooled.append(pool2d(channel, size, stride=size, padding=padding, mode=mode))
    return np.stack(pooled)
""",
)

_m(
    "grad_mask_ties_share_equally",
    A,
    "maxpool_grad_mask",
    "convention",
    "Tied maxima SHARE their window's 1 (each of t tied inputs gets 1 / t), the answer of the "
    "central difference, instead of the whole 1 going to the first maximum in row-major "
    "order as np.argmax and torch do, so inputs with ties get fractions.",
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
            winners = window == window.max()
            mask[i * SH : i * SH + KH, j * SW : j * SW + KW] += winners / winners.sum()
    return mask
""",
)

_m(
    "grad_mask_integer_counts_window_index_offset",
    A,
    "maxpool_grad_mask",
    "two_at_once",
    "Two slips: the mask is allocated with dtype=int ('counts are whole numbers'), so the "
    "gradient comes back as integers instead of floats, and each winner is placed at row "
    "i + p and column j + q, offset by the window's index instead of its corner "
    "(i * SH, j * SW), which is only right for stride 1.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H, W = X.shape
    mask = np.zeros((H, W), dtype=int)
    for i in range((H - KH) // SH + 1):
        for j in range((W - KW) // SW + 1):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i + p, j + q] += 1
    return mask
""",
)

del A


# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_half_steps_divided_by_2h",
    A,
    "numerical_gradient",
    "other",
    "The step h is split between the two sides (x[i] = old + h / 2 and old - h / 2, a total "
    "distance of h), but the difference is still divided by 2h, so every entry of the "
    "gradient is half the true value.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h / 2
        f_plus = f(x)
        x[i] = old - h / 2
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "numgrad_flat_index_into_nd_gradient",
    A,
    "numerical_gradient",
    "shape_assumption",
    "The entries are perturbed through x.flat[k], but the result is stored as grad[k] in a "
    "gradient of x's shape, which for a 2-D or 3-D x indexes a whole ROW: rows are "
    "overwritten with one number and k soon runs past the first axis (IndexError); only a "
    "1-D x works.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for k in range(x.size):
        old = x.flat[k]
        x.flat[k] = old + h
        f_plus = f(x)
        x.flat[k] = old - h
        f_minus = f(x)
        x.flat[k] = old
        grad[k] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "rel_error_floor_with_minimum",
    A,
    "rel_error",
    "other",
    "The elementwise floor is written np.minimum(|a| + |b|, eps) instead of np.maximum, so "
    "every denominator is at most 1e-12 and any difference at all gives an error of millions "
    "(two zeros give nan), far outside the range 0 to 1.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        denom = np.minimum(np.abs(a) + np.abs(b), eps)
        return float(np.max(np.abs(a - b) / denom))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "rel_error_norm_denominator_precedence",
    A,
    "rel_error",
    "other",
    "The norm form is written norm(a - b) / norm(a) + norm(b) without parentheses around the "
    "denominator (and so without its eps floor): Python divides by ||a|| alone and then adds "
    "||b||, so the 'relative error' of a nearly right gradient is about ||b|| and can be far "
    "above 1.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "norm":
        return float(np.linalg.norm(a - b) / np.linalg.norm(a) + np.linalg.norm(b))
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
""",
)

_m(
    "conv_fwd_column_window_end_without_stride",
    A,
    "conv2d_forward",
    "missing_term",
    "The window's column slice ends at j + KW instead of j * stride + KW (the * stride is "
    "missing from the end only), so with a stride above 1 every window after the first "
    "column is too narrow or empty and multiplying it by the filter raises.",
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
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * stride : i * stride + KH, j * stride : j + KW]
                    out[n, o, i, j] = np.sum(window * w[o]) + b[o]
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_fwd_pads_height_only",
    A,
    "conv2d_forward",
    "missing_term",
    "The padding tuple pads the height but not the width, ((0, 0), (0, 0), (p, p), (0, 0)), "
    "while W_out still counts 2p padded columns, so with padding the windows on the right run "
    "off the input and the layer raises (and the left columns are never padded).",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (0, 0)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, padding)
""",
)

_m(
    "conv_bwd_dw_accumulated_with_minus",
    A,
    "conv2d_backward",
    "sign",
    "dw is accumulated with -= instead of +=, as if the backward pass already took the "
    "descent step, so every weight gradient has the wrong sign while dx and db are right.",
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
            dw -= np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_db_keepdims_positions_from_unpadded_size",
    A,
    "conv2d_backward",
    "two_at_once",
    "Two slips: db is summed with keepdims=True, so it has shape (1, C_out, 1, 1) instead of "
    "b's (C_out,), and the number of output positions is recomputed from the unpadded input, "
    "(H - KH) // s + 1, instead of read from dout, so with padding the last rows and columns "
    "of dout never reach dw and dx.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    H_out = (H - KH) // s + 1
    W_out = (W - KW) // s + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    dw = np.zeros_like(w, dtype=float)
    dxp = np.zeros(xp.shape)
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, o, i, j]
                    r, c = i * s, j * s
                    dw[o] += g * xp[n, :, r : r + KH, c : c + KW]
                    dxp[n, :, r : r + KH, c : c + KW] += g * w[o]
    return dxp[:, :, p : p + H, p : p + W], dw, db
""",
)

_m(
    "maxpool_fwd_running_max_starts_at_zero",
    A,
    "maxpool2d_forward",
    "other",
    "The running maximum over the window's taps starts from np.zeros instead of -inf (or the "
    "first tap), so a window whose entries are all negative reports 0, a value that is not in "
    "it, and its argmax stays 0 whatever the real winner.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for a in range(k):
        for q in range(k):
            tap = x[:, :, a : a + s * H_out : s, q : q + s * W_out : s]
            better = tap > out
            out[better] = tap[better]
            argmax[better] = a * k + q
    return out, (x.shape, k, s, argmax)
""",
)

_m(
    "maxpool_bwd_cache_argmax_overwritten",
    A,
    "maxpool2d_backward",
    "in_place",
    "The column inside the window is obtained with q -= p * k on q = argmax[:, :, i, j], "
    "which is a view into the cache, so the backward pass overwrites the stored winners with "
    "their columns: dx is right the first time, but the cache is changed and a second "
    "backward call with it sends the gradient to the wrong inputs.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            q = argmax[:, :, i, j]
            p = q // k
            q -= p * k
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_window_one_too_large",
    A,
    "avgpool2d_forward",
    "off_by_one",
    "The window slices end at i * s + k + 1 ('+ 1 to include the last row'), but slice ends "
    "are already exclusive, so each window holds (k + 1) x (k + 1) values (fewer at the "
    "edge) and their sum is still divided by k * k.",
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
            window = xp[:, :, i * s : i * s + k + 1, j * s : j * s + k + 1]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / (k * k)
    return out, (x.shape, k, s, p)
""",
)

_m(
    "avgpool_bwd_stride_taken_as_kernel",
    A,
    "avgpool2d_backward",
    "convention",
    "The stride stored in the cache is thrown away and s = k is used ('pooling windows do not "
    "overlap'), so for any other stride the gradient of window (i, j) is spread at "
    "(i * k, j * k) instead of (i * s, j * s), and overlapping windows run off the grid.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, _, p = cache
    s = k
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j] / (k * k)
            dxp[:, :, i * s : i * s + k, j * s : j * s + k] += share[:, :, None, None]
    return dxp[:, :, p : p + H, p : p + W]
""",
)

del A


# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_bound_sqrt_not_inverse",
    A,
    "init_lenet",
    "other",
    "The bound is np.sqrt(fan_in), the square root of fan_in instead of its inverse "
    "1 / sqrt(fan_in), so conv1's weights are drawn from U(-5, 5) and fc1's from U(-20, 20) "
    "instead of U(-0.2, 0.2) and U(-0.05, 0.05).",
    """
def init_lenet(seed=0):
    rng = np.random.default_rng(seed)
    layers = [("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5)), ("fc1", (120, 400)),
              ("fc2", (84, 120)), ("fc3", (10, 84))]
    params = {}
    for name, shape in layers:
        fan_in = int(np.prod(shape[1:]))
        bound = np.sqrt(fan_in)
        params[name + ".weight"] = rng.uniform(-bound, bound, size=shape)
        params[name + ".bias"] = rng.uniform(-bound, bound, size=shape[0])
    return params
""",
)

_m(
    "init_fc1_sized_for_unpadded_digits",
    A,
    "init_lenet",
    "shape_assumption",
    "fc1.weight is made (120, 16 * 4 * 4) = (120, 256), the flattened size a 28 x 28 digit "
    "would give without conv1's padding, instead of (120, 400), so fc1's bound and every "
    "draw after it differ and the weights do not fit the 400 flattened features.",
    """
def init_lenet(seed=0):
    rng = np.random.default_rng(seed)
    shapes = {
        "conv1": (6, 1, 5, 5),
        "conv2": (16, 6, 5, 5),
        "fc1": (120, 16 * 4 * 4),
        "fc2": (84, 120),
        "fc3": (10, 84),
    }
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[layer + ".weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[layer + ".bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "forward_fc2_given_fc1_bias",
    A,
    "lenet_forward",
    "other",
    "fc2 is called with p['fc1.bias'] (the line above copied and only the weight's name "
    "changed), so its (N, 84) output meets fc1's 120 biases and the forward pass raises a "
    "broadcasting error.",
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
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc1.bias"])
    h, caches["relu4"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "forward_relu4_cache_as_relu3_returns_activations",
    A,
    "lenet_forward",
    "two_at_once",
    "Two slips: the ReLU after fc2 stores its cache under 'relu3' again, overwriting fc1's "
    "ReLU cache and leaving no 'relu4', and the function returns h, fc2's (N, 84) "
    "activations, instead of the logits that fc3 has just computed.",
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
    h, caches["relu3"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return h, caches
""",
)

_m(
    "backward_conv2_input_gradient_discarded",
    A,
    "lenet_backward",
    "missing_term",
    "conv2's backward is written like conv1's, _, dw, db = ..., so its input gradient is "
    "thrown away and the first pooling's backward receives relu2's (N, 16, 10, 10) gradient "
    "instead of conv2's (N, 6, 14, 14) one, which fails.",
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
    _, g["conv2.weight"], g["conv2.bias"] = layers.conv2d_backward(d, c["conv2"])
    d = layers.maxpool2d_backward(d, c["pool1"])
    d = layers.relu_backward(d, c["relu1"])
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    return g
""",
)

_m(
    "ce_one_subtracted_before_exp",
    A,
    "softmax_cross_entropy",
    "other",
    "The 1 is subtracted at the labels from the LOG-probabilities and only then "
    "exponentiated, exp(log p - 1) = p / e, instead of exponentiating first and subtracting "
    "from p, so the gradient at the labels is p / (eN) (positive) instead of (p - 1) / N.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = log_p.copy()
    dlogits[np.arange(N), y] -= 1
    dlogits = np.exp(dlogits)
    return float(loss), dlogits / N
""",
)

_m(
    "ce_loss_indices_swapped",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "The label entries of the loss are picked with log_probs[y, np.arange(N)], rows and "
    "columns swapped, which reads row y[n] and column n: it raises IndexError when a label "
    "is not below N or N exceeds the number of classes, and otherwise averages the wrong "
    "entries.",
    """
def softmax_cross_entropy(logits, y):
    N, C = logits.shape
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    loss = -np.mean(log_probs[y, np.arange(N)])
    grad = np.exp(log_probs)
    grad[np.arange(N), y] -= 1
    grad /= N
    return float(loss), grad
""",
)

_m(
    "ce_shift_divided_out_after_exp",
    A,
    "softmax_cross_entropy",
    "stability",
    "The max shift is applied after exponentiating, np.exp(logits) / np.exp(row max), which "
    "is the same number on paper but overflows exactly as the unshifted softmax does: a "
    "logit above about 709 gives inf / inf = nan in the loss and the gradient.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits) / np.exp(m)
    p = e / e.sum(axis=1, keepdims=True)
    log_p = np.log(e) - np.log(e.sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = p.copy()
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_momentum_hard_coded",
    A,
    "sgd_step",
    "other",
    "The velocity is updated with 0.9 * v + d, AlexNet's momentum typed in, instead of the "
    "momentum argument, so plain SGD (momentum=0, the default) still carries 90 % of the old "
    "velocity and any other momentum is ignored.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name in params:
        d = grads[name] + weight_decay * params[name]
        velocity[name] = 0.9 * velocity[name] + d
        params[name] -= lr * velocity[name]
""",
)

_m(
    "sgd_decay_term_squared",
    A,
    "sgd_step",
    "other",
    "The weight-decay term added to the gradient is weight_decay * p**2, the penalty itself "
    "instead of its derivative weight_decay * p, so negative weights are pushed further down "
    "instead of towards 0 and large weights are decayed far too hard.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        g = grads[name]
        v = velocity[name]
        d = g + weight_decay * p**2
        v *= momentum
        v += d
        p -= lr * v
""",
)

_m(
    "train_epoch_batch_count_plus_one",
    A,
    "train_epoch",
    "off_by_one",
    "The loop runs over N // batch_size + 1 batches ('one more for the smaller last batch'), "
    "which is right when batch_size does not divide N, but when it does the extra batch, "
    "order[N : N + batch_size], is EMPTY and the epoch ends by running forward, loss and a "
    "step on zero images, which fails (flatten cannot reshape an empty batch with -1) or at "
    "best adds a nan loss and one more step.",
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
    for k in range(N // batch_size + 1):
        idx = order[k * batch_size : (k + 1) * batch_size]
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
    "train_epoch_generator_reseeded_accuracy_percent",
    A,
    "train_epoch",
    "two_at_once",
    "Two slips: a new np.random.default_rng(0) replaces the rng argument, so every epoch "
    "shuffles in the same order and the caller's generator is never used, and the accuracy "
    "is returned as a percentage, 100 * correct / N, instead of the fraction asked for.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward
    backward = backward or lenet_backward
    step = step or sgd_step
    rng = np.random.default_rng(0)
    N = len(y)
    order = rng.permutation(N)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        idx = order[start : start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": 100 * correct / N}
""",
)

_m(
    "evaluate_default_forward_line_deleted",
    A,
    "evaluate",
    "missing_term",
    "The given line forward = forward or lenet_forward is deleted with the placeholder, so "
    "when no forward function is passed (the ordinary call) forward is None and calling it "
    "raises TypeError.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
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
    "make_lenet_conv1_padding_given_positionally",
    A,
    "make_lenet_torch",
    "convention",
    "conv1 is built as nn.Conv2d(1, 6, 5, 2), but the fourth positional argument of "
    "nn.Conv2d is the STRIDE, not the padding, so conv1 has stride 2 and no padding, its "
    "maps are 12 x 12 and the flattened features no longer fit fc1.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant == "relu-max":
        act, pool = nn.ReLU, nn.MaxPool2d
    elif variant == "sigmoid-avg":
        act, pool = nn.Sigmoid, nn.AvgPool2d
    else:
        raise ValueError(f"unknown variant {variant!r}")
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, 5, 2)),
        ("act1", act()),
        ("pool1", pool(2)),
        ("conv2", nn.Conv2d(6, 16, 5)),
        ("act2", act()),
        ("pool2", pool(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act3", act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "load_params_rebinds_loop_variable",
    A,
    "load_numpy_params",
    "in_place",
    "Each array is 'copied' with param = torch.tensor(array), which only rebinds the loop "
    "variable to a new tensor: the model's parameters are never written, so the model keeps "
    "its own random values (converted to float64) instead of the arrays.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"no array for {name}")
            array = np.asarray(params[name])
            if array.shape != tuple(param.shape):
                raise ValueError(f"{name}: array {array.shape}, parameter {tuple(param.shape)}")
            param = torch.tensor(array, dtype=torch.float64)
    return model
""",
)

_m(
    "load_params_shape_checked_after_copy",
    A,
    "load_numpy_params",
    "other",
    "The shape is checked after param.copy_ instead of before it, so a (1,) array is first "
    "broadcast into a (6,) bias (the model is changed) before the ValueError, and a "
    "transposed weight makes copy_ raise torch's RuntimeError instead of the ValueError that "
    "names the parameter.",
    """
def load_numpy_params(model, params):
    model.double()
    for name, param in model.named_parameters():
        if name not in params:
            raise KeyError(name)
        with torch.no_grad():
            param.copy_(torch.as_tensor(params[name]))
        if tuple(param.shape) != np.shape(params[name]):
            raise ValueError(f"{name}: expected {tuple(param.shape)}, got {np.shape(params[name])}")
    return model
""",
)

_m(
    "train_torch_eval_mode_images_float32",
    A,
    "train_epoch_torch",
    "two_at_once",
    "Two slips: the loop starts with model.eval() (copied from the evaluation) instead of "
    "model.train(), so the model is left in evaluation mode, and every batch is converted "
    "with dtype=torch.float32, so a float64 model (as load_numpy_params makes) raises a dtype "
    "mismatch.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, dtype=torch.float32, device=device)
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
    "train_torch_enumerate_unpacked_as_pair",
    A,
    "train_epoch_torch",
    "other",
    "The loop is written for x, y in enumerate(batches), so x is the batch's number and y "
    "the whole (images, labels) pair, and the model is called on a 0-d tensor, which fails "
    "on the first batch.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in enumerate(batches):
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
    "eval_torch_summed_loss_times_batch_size",
    A,
    "evaluate_torch",
    "other",
    "The batch loss is taken with reduction='sum' AND multiplied by len(y) (the mean's "
    "weighting from the training loop), so each batch is counted batch-size times and the "
    "'mean' loss is about batch_size times too large.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
