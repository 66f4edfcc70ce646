"""An eleventh set of realistic student mistakes, held out in full, for benchmarking feedback.

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
tests/course/mistake_set_eighth.py, tests/course/mistake_set_ninth.py and
tests/course/mistake_set_tenth.py, these ONLY for their format, the `collector` helper and
FAMILIES of mistake_set.py, and to avoid repeating their ids and their mistakes (no bug of
theirs is repeated in the same function; bugs of a kind none of them has were preferred).
NOT ALLOWED (and not read, searched, imported or run): course/ (course/checks and
course/torch_layers.py included), autograder/, docs/, the shared trial reports,
tests/course/diagnosis.py or any other test file, the README's and the Makefile's test
targets, git log and git diffs (no git command was run at all).

What was read. Of the notebooks: the markdown cells, the given code cells and the solution
cells of all seven, printed by a script that skipped every test cell (nbgrader grade=True
and solution=False) without printing it. Of the earlier sets: the collector and FAMILIES of
mistake_set.py, the format (docstring, section layout, first and last entries) of
mistake_set_tenth.py, and the id, function, family and description of every entry of the
ten sets, listed by a script that parsed the files with `ast` without importing them. The
lectures and the solutions/ package were not needed and not read. course was never
imported, and nothing was done to find out which mistakes the checks recognise.

How the entries were verified. A script outside the repository built, for each notebook, a
reference namespace from the function and class definitions of its given cells and solution
cells, executed in order (with numpy, torch, torch.nn, torch.nn.functional as F and
OrderedDict as the notebook imports them; the cells' import lines were not run, so nothing
came from `course` and nothing needed a stub). For every entry it built that namespace
afresh, executed the buggy function in it (so that the notebook's other functions call the
student's version, as they would in the notebook) and called the reference and the buggy
function on the same ordinary inputs, built anew for each call: non-square images and
kernels, 1 x 1 and full-size kernels, batches and one to four channels, strides, paddings
and dilations given as ints, pairs and the nested form, integer images, transposed
(non-contiguous) arrays, float32 and float64 arrays, mode strings built at run time and
unknown modes, negative feature maps and integer maps with ties, overlapping and spaced-out
pooling windows, logits in the hundreds, batches with as many examples as classes and with
fewer or more, batch counts that leave a smaller last batch and batch counts that divide the
data exactly, lists, generators and tensors of batches, float32 and float64 models. It
compared the return values (values, shapes, dtypes and Python types; caches, dict keys and
torch modules with their children, parameters and outputs in training and in evaluation
mode included), whether and which exception is raised, and the state of every argument
after the call (arrays, dicts, models, optimisers and random generators); the caches
returned by the forward passes of 05_backprop and by lenet_forward were also fed to the
reference backward pass. Every entry differs there on inputs that the docstrings allow. The
same script, given the reference functions themselves (from a second, independently built
namespace), found no difference on any of these inputs. The functions of 06 that take
`layers` were run with a bundle of 06_lenet's own reference layer functions (the numpy
conv2d and maxpool2d layers of its solution cell, the given relu, flatten and linear layers
and its softmax_cross_entropy), which have the interface the notebook describes; those of
07 ran on the CPU.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of the ten earlier sets)
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
    "corr2d_while_column_counter_never_reset",
    A,
    "corr2d",
    "missing_term",
    "The windows are walked with two while loops, but the column counter j is set to 0 once, "
    "before the outer loop, and never reset for the next row, so only the first row of Y is "
    "computed and every later row stays 0.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    Y = np.zeros((H_out, W_out))
    i, j = 0, 0
    while i < H_out:
        while j < W_out:
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
            j += 1
        i += 1
    return Y
""",
)

_m(
    "corr2d_comprehension_nested_column_first",
    A,
    "corr2d",
    "wrong_axis",
    "The output is built with a nested list comprehension whose OUTER loop runs over the "
    "columns j and whose inner loop runs over the rows i, so each inner list is a column of Y "
    "and the function returns Y transposed, of shape (W_out, H_out).",
    """
def corr2d(X, K):
    KH, KW = K.shape
    H_out = X.shape[0] - KH + 1
    W_out = X.shape[1] - KW + 1
    return np.array(
        [[float(np.sum(X[i : i + KH, j : j + KW] * K)) for i in range(H_out)] for j in range(W_out)]
    )
""",
)

_m(
    "corr2d_bias_accumulator_set_once",
    A,
    "corr2d_bias",
    "other",
    "The layer is written with its own loops and the bias starts an accumulator, total = b, "
    "that is set once before the loops and never reset, so each output pixel gets the running "
    "sum of all the window sums computed so far (plus b once) instead of its own window's sum "
    "plus b.",
    """
def corr2d_bias(X, K, b):
    KH, KW = K.shape
    H_out, W_out = X.shape[0] - KH + 1, X.shape[1] - KW + 1
    Y = np.zeros((H_out, W_out))
    total = b
    for i in range(H_out):
        for j in range(W_out):
            total += np.sum(X[i : i + KH, j : j + KW] * K)
            Y[i, j] = total
    return Y
""",
)

_m(
    "edge_kernel_extra_brackets_three_dimensional",
    A,
    "edge_kernel",
    "shape_assumption",
    "An extra pair of brackets around the three rows makes the array 3-D, of shape (1, 3, 3) "
    "instead of (3, 3), so corr2d cannot unpack the kernel's shape into KH, KW.",
    """
def edge_kernel():
    return np.array([[[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]], dtype=float)
""",
)

_m(
    "sharpen_vertical_neighbours_written_into_copy",
    A,
    "sharpen_kernel",
    "in_place",
    "The up and down neighbours are set with K[[0, 2]][:, 1] = -1, but indexing with a list "
    "makes a copy, so those -1s are written into a temporary array and lost: only the left "
    "and right neighbours get -1 and the kernel sums to 3 instead of 1.",
    """
def sharpen_kernel():
    K = np.zeros((3, 3))
    K[1, 1] = 5
    K[[0, 2]][:, 1] = -1  # up and down
    K[1][[0, 2]] = -1  # left and right
    return K
""",
)

_m(
    "sobel_x_defined_through_sobel_y",
    A,
    "sobel_x",
    "other",
    "sobel_x is written as the transpose of sobel_y ('the two are transposes of each other'), "
    "but sobel_y is itself sobel_x().T, so each function calls the other without end and "
    "every call ends in RecursionError.",
    """
def sobel_x():
    return sobel_y().T
""",
)

_m(
    "sobel_y_scharr_weights",
    A,
    "sobel_y",
    "convention",
    "The Scharr kernel, [3, 10, 3] on the top row and its negative on the bottom row (which "
    "image-processing references list next to Sobel), is returned instead of lecture 004's "
    "Sobel y with the weights [1, 2, 1].",
    """
def sobel_y():
    return np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], dtype=float)
""",
)

_m(
    "box_blur_even_size_made_odd",
    A,
    "box_blur",
    "convention",
    "An even k is bumped up to k + 1 ('a kernel needs a centre pixel'), so box_blur(2) and "
    "box_blur(4) return 3 x 3 and 5 x 5 averages instead of the k x k kernel with entries "
    "1 / k**2 that the docstring asks for.",
    """
def box_blur(k):
    if k % 2 == 0:
        k += 1  # a kernel needs a centre pixel
    return np.full((k, k), 1.0 / k**2)
""",
)

_m(
    "gaussian_distances_from_corner",
    A,
    "gaussian_kernel",
    "missing_term",
    "The distances are measured from pixel (0, 0), np.meshgrid of np.arange(size), instead of "
    "from the centre c = (size - 1) / 2, so the peak of the bell sits in the top-left corner "
    "and the kernel is not symmetric.",
    """
def gaussian_kernel(size, sigma):
    u, v = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    G = np.exp(-(u**2 + v**2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "gaussian_two_sigma_squared_together",
    A,
    "gaussian_kernel",
    "other",
    "The denominator is written (2 * sigma) ** 2, which squares the 2 as well, so the exponent "
    "is divided by 4 sigma**2 instead of 2 sigma**2 and the blur is wider than asked (as if "
    "sigma were multiplied by sqrt 2).",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma) ** 2)
    return G / G.sum()
""",
)

_m(
    "conv_true_valid_test_if_not_elif",
    A,
    "conv2d_true",
    "other",
    "The test for 'valid' is a second if instead of an elif, so the else belongs to it alone: "
    "for mode='full' the full convolution is computed and then the else raises ValueError, so "
    "'full' mode never returns.",
    """
def conv2d_true(X, K, mode="valid"):
    K_flipped = K[::-1, ::-1]
    if mode == "full":
        KH, KW = K.shape
        Xp = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
        S = corr2d(Xp, K_flipped)
    if mode == "valid":
        S = corr2d(X, K_flipped)
    else:
        raise ValueError(f"unknown mode {mode!r}: use 'valid' or 'full'")
    return S
""",
)

_m(
    "conv_true_reversed_ravel_reshaped_kw_kh",
    A,
    "conv2d_true",
    "shape_assumption",
    "The kernel is rotated by reading it backwards, K.ravel()[::-1], but the reversed numbers "
    "are reshaped to (KW, KH) instead of (KH, KW), so a kernel that is not square comes back "
    "with its two sizes swapped and its entries on the wrong rows (square kernels are right).",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    K_flipped = K.ravel()[::-1].reshape(KW, KH)
    return corr2d(X, K_flipped)
""",
)

_m(
    "as_matrix_canvas_column_padding_uses_row_index",
    A,
    "corr2d_as_matrix",
    "other",
    "Each row of M is drawn by padding K into an H x W canvas, np.pad(K, ((i, H - KH - i), "
    "(j, W - KW - i))), but the zeros after the kernel's columns are counted with the row index "
    "i (copied from the first pair) instead of j, so the canvas has the wrong width whenever "
    "i != j and the rows cannot be stacked into one matrix (or np.pad gets a negative width).",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    rows = []
    for i in range(H_out):
        for j in range(W_out):
            canvas = np.pad(K, ((i, H - KH - i), (j, W - KW - i)))
            rows.append(canvas.ravel())
    return np.array(rows, dtype=float)
""",
)

_m(
    "as_matrix_row_decoded_by_input_width",
    A,
    "corr2d_as_matrix",
    "other",
    "Row r of M is turned back into the output pixel (i, j) with divmod(r, W), dividing by the "
    "INPUT width instead of the output width W_out, so from the second row of outputs on the "
    "kernel is placed at the wrong input pixels (only a kernel one column wide is right).",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    for r in range(H_out * W_out):
        i, j = divmod(r, W)
        for a in range(KH):
            for b in range(KW):
                M[r, (i + a) * W + (j + b)] = K[a, b]
    return M
""",
)

del A


# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_floor_split_over_terms",
    A,
    "output_size",
    "rounding",
    "The floor division is split over the two terms, (n + 2 * padding) // stride - k // stride "
    "+ 1, but the floor of a difference is not the difference of the floors: whenever "
    "(n + 2 * padding) % stride is smaller than k % stride, one window too many is counted "
    "(stride 1 is right).",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding) // stride - k // stride + 1
""",
)

_m(
    "output_size_total_numerator_not_parenthesised",
    A,
    "output_size_total",
    "other",
    "The parentheses around the numerator are missing, n - k + total_padding + stride // "
    "stride, so only the stride is divided by itself (operator precedence) and the function "
    "returns n - k + total_padding + 1, which is right only for stride 1.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return n - k + total_padding + stride // stride
""",
)

_m(
    "pad2d_shape_unpacked_width_first",
    A,
    "pad2d",
    "convention",
    "The input's shape is unpacked width first, W, H = X.shape, so for an image that is not "
    "square the padded array has its two sizes swapped and copying X into it raises a "
    "broadcasting error (square images are right).",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        (top, bottom), (left, right) = padding
    W, H = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "pad2d_pair_read_as_total_padding",
    A,
    "pad2d",
    "convention",
    "A pair (ph, pw) is read as lecture 000's TOTAL padding and split over the two sides "
    "(ceil before, floor after), so pad2d(X, (1, 2)) adds one row in all and one column on "
    "each side instead of ph rows on top and bottom and pw columns on the left and right.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif np.isscalar(padding[0]):
        ph, pw = padding  # rows and columns in total, split over the two sides
        top, bottom = ph - ph // 2, ph // 2
        left, right = pw - pw // 2, pw // 2
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "same_padding_returns_list",
    A,
    "same_padding",
    "other",
    "The two numbers are right, but they are returned as a list [before, after] instead of "
    "the tuple (before, after) that the docstring asks for.",
    """
def same_padding(k):
    total = k - 1
    return [total - total // 2, total // 2]
""",
)

_m(
    "padded_windows_cut_from_unpadded_input",
    A,
    "corr2d_padded",
    "missing_term",
    "The output size is computed from the padded Xp, but the windows are cut from the unpadded "
    "X, so with padding every window is shifted by the top and left padding and the last ones "
    "run off X (short windows that cannot be multiplied by K).",
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
            Y[i, j] = np.sum(X[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "padded_windows_subsampled_with_chained_brackets",
    A,
    "corr2d_padded",
    "convention",
    "The stride-1 windows are subsampled with [::sh][::sw], but the second bracket slices the "
    "ROWS again, not the columns: the rows are thinned by sh * sw and the columns not at all, "
    "so every stride other than 1 gives the wrong windows and the wrong shape.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    from numpy.lib.stride_tricks import sliding_window_view

    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    windows = sliding_window_view(Xp, K.shape)[::sh][::sw]
    return np.einsum("ijab,ab->ij", windows, K)
""",
)

_m(
    "dilated_kron_trimmed_with_negative_zero",
    A,
    "corr2d_dilated",
    "off_by_one",
    "The dilated kernel is built with np.kron(K, spread), which leaves d - 1 zero rows and "
    "columns after the last tap, and these are cut off with [: -(dh - 1), : -(dw - 1)]; for a "
    "dilation of 1 that is [:-0], an EMPTY slice, so every axis without dilation gives an "
    "empty kernel and the output is all zeros of the wrong size.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    spread = np.zeros((dh, dw))
    spread[0, 0] = 1.0
    K_dilated = np.kron(K, spread)[: -(dh - 1), : -(dw - 1)]
    return corr2d_padded(X, K_dilated, padding=padding, stride=stride)
""",
)

_m(
    "dilated_stride_pair_collapsed_to_rows",
    A,
    "corr2d_dilated",
    "shape_assumption",
    "The stride is unpacked into (sh, sw) like the dilation, but only sh is passed on to "
    "corr2d_padded, so a stride pair with sw != sh moves the window by sh along the columns "
    "too (an int stride is right).",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(X, K_dilated, padding=padding, stride=sh)
""",
)

del A


# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_channel_maps_multiplied",
    A,
    "corr2d_multi_in",
    "other",
    "The channel maps are combined with *= instead of +=, so the result is the elementwise "
    "PRODUCT of the per-channel correlations instead of their sum (a one-channel input is "
    "right).",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0]):
        Y *= corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_window_tensordot_default_axes",
    A,
    "corr2d_multi_in",
    "wrong_axis",
    "Each 3-D window is contracted with the kernel by np.tensordot(window, K) without axes, "
    "and tensordot's default axes=2 pairs the window's last two axes (KH, KW) with the "
    "kernel's FIRST two (C_in, KH), so the shapes do not line up (and where they do, the result "
    "is an array, not one number): every call raises unless the kernel is 1 x 1 x 1.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, KH, KW = K.shape
    H_out, W_out = X.shape[1] - KH + 1, X.shape[2] - KW + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.tensordot(X[:, i : i + KH, j : j + KW], K)
    return Y
""",
)

_m(
    "multi_in_out_generator_given_to_stack",
    A,
    "corr2d_multi_in_out",
    "other",
    "The maps are handed to np.stack as a generator expression (the square brackets of the "
    "list comprehension left out), but np.stack only accepts a sequence, so every call raises "
    "TypeError.",
    """
def corr2d_multi_in_out(X, K):
    return np.stack(corr2d_multi_in(X, K_o) for K_o in np.asarray(K, dtype=float))
""",
)

_m(
    "conv1x1_moved_back_with_wrong_permutation",
    A,
    "conv1x1",
    "wrong_axis",
    "The pixels are moved channels-last with transpose(1, 2, 0) and multiplied by the "
    "transposed weight matrix, which is right, but the (H, W, C_out) result is moved back with "
    "transpose(2, 1, 0) instead of transpose(2, 0, 1), so every output map comes back "
    "transposed, of shape (C_out, W, H).",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    W2 = K[:, :, 0, 0]  # (C_out, C_in)
    Y = X.transpose(1, 2, 0) @ W2.T  # (H, W, C_out)
    return Y.transpose(2, 1, 0)
""",
)

_m(
    "conv_params_numpy_product",
    A,
    "conv_params",
    "other",
    "The weights are counted with np.prod, which returns a numpy.int64, so the count is right "
    "but comes back as a numpy integer instead of the Python int that the docstring asks for.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    weights = np.prod([C_out, C_in, KH, KW])
    return weights + (C_out if bias else 0)
""",
)

_m(
    "conv_mults_kernel_height_squared",
    A,
    "conv_mults",
    "shape_assumption",
    "Each output value is counted as C_in * KH**2 multiplications, as if every kernel were "
    "square, so KW is never used and a KH x KW kernel with KH != KW is counted wrongly.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    return (C_out * H_out * W_out) * (C_in * KH**2)
""",
)

_m(
    "vectorized_float_conversion_left_out",
    A,
    "conv2d_vectorized",
    "other",
    "The np.asarray(..., dtype=float) lines are left out, so an integer image with integer "
    "filters gives an integer result instead of the float array that corr2d_multi_in_out "
    "returns for the same input.",
    """
def conv2d_vectorized(X, K):
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    return np.einsum("cijab,ocab->oij", windows, K, optimize=True)
""",
)

_m(
    "vectorized_sum_axes_counted_before_new_axis",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "The products are formed by broadcasting, (C_out, C_in, H_out, W_out, KH, KW), but summed "
    "over axes (1, 3, 4), the positions that (C_in, KH, KW) had in the windows array BEFORE the "
    "new leading axis was added, so the sum runs over C_in, W_out and KH and the result has "
    "shape (C_out, H_out, KW).",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    # windows: (C_in, H_out, W_out, KH, KW)
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    products = windows[None] * K[:, :, None, None]  # (C_out, C_in, H_out, W_out, KH, KW)
    return products.sum(axis=(1, 3, 4))
""",
)

del A


# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_pads_top_and_left_only",
    A,
    "pool2d",
    "missing_term",
    "np.pad is given ((PH, 0), (PW, 0)), which pads the top and the left only, so with padding "
    "there is no border below and to the right: the windows that would reach into it are "
    "missing and the output is a row or a column (or more) short.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, 0), (PW, 0)), constant_values=fill)
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
    "pool2d_block_reshape_ignores_stride",
    A,
    "pool2d",
    "shape_assumption",
    "Pooling is done without loops by reshaping the padded input into (H // KH, KH, W // KW, "
    "KW) blocks, a trick that only works when the windows tile the input exactly: the stride "
    "argument is never used (overlapping or spaced-out windows come out wrong) and a window "
    "size that does not divide the padded input makes the reshape raise.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    PH, PW = as_pair(padding)
    fill = -np.inf if mode == "max" else 0.0
    X_pad = np.pad(X, ((PH, PH), (PW, PW)), constant_values=fill)
    H, W = X_pad.shape
    blocks = X_pad.reshape(H // KH, KH, W // KW, KW)
    return blocks.max(axis=(1, 3)) if mode == "max" else blocks.mean(axis=(1, 3))
""",
)

_m(
    "pool_channels_result_squeezed",
    A,
    "pool2d_channels",
    "shape_assumption",
    "The stacked result is squeezed 'to remove the extra axis', which drops the channel axis "
    "of a one-channel input (and any pooled axis of length 1), so a (1, H, W) input gives "
    "(H_out, W_out) instead of (1, H_out, W_out).",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    return np.stack([pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
                     for c in range(X.shape[0])]).squeeze()
""",
)

_m(
    "grad_mask_is_the_input_zeroed",
    A,
    "maxpool_grad_mask",
    "in_place",
    "The mask is made with mask = X and mask[:] = 0, which does not make a new array but "
    "zeroes the input itself (np.asarray does not copy a float array): the windows are then "
    "searched in zeros and in earlier counts, so the winners are wrong, and the caller's X "
    "comes back overwritten.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SW + 1
    mask = X
    mask[:] = 0
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i * SH + p, j * SW + q] += 1
    return mask
""",
)

_m(
    "grad_mask_ties_scanned_column_by_column",
    A,
    "maxpool_grad_mask",
    "convention",
    "The winner is found with loops that scan each window column by column (the column loop "
    "outside, the row loop inside) and keep the first value larger than the best so far, so "
    "on a tie the first maximum in COLUMN-major order wins instead of the first in row-major "
    "order that np.argmax and torch choose.",
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
            best, p, q = -np.inf, 0, 0
            for b in range(KW):
                for a in range(KH):
                    value = X[i * SH + a, j * SW + b]
                    if value > best:
                        best, p, q = value, a, b
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
    "numgrad_only_minus_term_divided",
    A,
    "numerical_gradient",
    "other",
    "The parentheses around the difference are missing, f_plus - f_minus / (2 * h), so only "
    "f_minus is divided by 2h (operator precedence) and each entry is f(x + h e_i) minus a huge "
    "number instead of the central difference.",
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
        grad[i] = f_plus - f_minus / (2 * h)
    return grad
""",
)

_m(
    "numgrad_while_loop_stops_before_last_entry",
    A,
    "numerical_gradient",
    "off_by_one",
    "The entries are visited with a while loop over the flat index k that runs while "
    "k < x.size - 1, one short, so the last entry of x is never perturbed and its gradient "
    "stays 0.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    k = 0
    while k < x.size - 1:
        i = np.unravel_index(k, x.shape)
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
        k += 1
    return grad
""",
)

_m(
    "rel_error_argmax_for_max",
    A,
    "rel_error",
    "other",
    "The elementwise kind returns np.argmax of the per-entry errors, the flat INDEX of the "
    "worst entry, instead of np.max, its value, so the 'error' is a position such as 17.0 (and "
    "0.0 whenever the worst entry is the first).",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.argmax(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "conv_fwd_cache_without_bias",
    A,
    "conv2d_forward",
    "missing_term",
    "The bias is left out of the cache ('the backward pass does not need b'), which becomes "
    "(x, w, stride, padding) instead of the (x, w, b, stride, padding) that the docstring "
    "lists, so conv2d_backward, which unpacks five values, raises.",
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
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, stride, padding)  # the backward pass does not need b
    return out, cache
""",
)

_m(
    "conv_fwd_tensordot_kernel_axes_crossed",
    A,
    "conv2d_forward",
    "wrong_axis",
    "The tensordot pairs the window's (C_in, KH, KW) axes with the filters' axes (1, 3, 2), "
    "so each row of the window meets a COLUMN of the filter: every kernel is applied "
    "transposed, which is wrong for square kernels that are not symmetric, and a KH x KW "
    "kernel with KH != KW raises a shape mismatch.",
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
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 3, 2])) + b
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_bwd_db_added_inside_filter_loop",
    A,
    "conv2d_backward",
    "other",
    "In the loop over images, filters and positions the bias gradient is added as "
    "db += dout[n, :, i, j], the whole vector of output channels, inside the loop over the "
    "filter o, so every entry of db is counted C_out times (right only for one output "
    "channel); dx and dw are right.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(b.shape)
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, o, i, j]
                    window = xp[n, :, i * s : i * s + KH, j * s : j * s + KW]
                    dw[o] += g * window
                    dxp[n, :, i * s : i * s + KH, j * s : j * s + KW] += g * w[o]
                    db += dout[n, :, i, j]
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "conv_bwd_unpadded_dx_buffer_output_size_w_h",
    A,
    "conv2d_backward",
    "two_at_once",
    "Two slips: the output size is unpacked from dout as (..., W_out, H_out), height and width "
    "swapped, so a non-square output is walked over the wrong ranges (missed positions or an "
    "IndexError); and the input gradient is collected in an array of x's own size instead of "
    "the padded xp's, at the padded window coordinates, so with padding every contribution "
    "lands p rows and columns too far down and right and the windows at the far edge no "
    "longer fit.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, W_out, H_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros(w.shape)
    dx = np.zeros(x.shape)
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
    "maxpool_fwd_argsort_keeps_last_tie",
    A,
    "maxpool2d_forward",
    "convention",
    "The winner of each window is taken as the last entry of np.argsort(window) ('the index "
    "of the largest'), which on a tie is the LAST of the tied maxima, not the first one in "
    "row-major order that np.argmax and torch choose, so windows with ties store another "
    "argmax and the backward pass sends their gradient to the wrong input.",
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
            window = x[:, :, i * s : i * s + k, j * s : j * s + k].reshape(N, C, k * k)
            order = np.argsort(window, axis=2)
            argmax[:, :, i, j] = order[:, :, -1]
            out[:, :, i, j] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_kernel_stride_swapped_unbroadcast_indices",
    A,
    "maxpool2d_backward",
    "two_at_once",
    "Two slips: the cache is unpacked as (shape, s, k, argmax), the kernel size and the stride "
    "swapped, so whenever they differ the winners are decoded and placed with the wrong "
    "numbers; and the image and channel indices are the plain ranges np.arange(N) and "
    "np.arange(C), which do not broadcast against the (N, C) winner arrays the way "
    "np.meshgrid's do, so the scatter raises or mixes up images and channels unless there is "
    "a single image.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), s, k, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W))
    n, c = np.arange(N), np.arange(C)
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], k)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_window_view_averaged_over_positions",
    A,
    "avgpool2d_forward",
    "wrong_axis",
    "The windows are taken with sliding_window_view, (N, C, H_out, W_out, k, k), but averaged "
    "over axes (2, 3), where the loop version's (N, C, k, k) window had its taps; here those "
    "axes are the output positions, so the result has shape (N, C, k, k) and holds, for each "
    "tap, its mean over all the windows.",
    """
def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    k = kernel_size
    s = k if stride is None else stride
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    # windows: (N, C, H_out, W_out, k, k)
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    out = windows.mean(axis=(2, 3))
    return out, (x.shape, k, s, p)
""",
)

_m(
    "avgpool_bwd_overlapping_shares_averaged",
    A,
    "avgpool2d_backward",
    "other",
    "Where windows overlap, the shares are averaged instead of added: dxp is divided by the "
    "number of windows that cover each position, so an input that lies in two or more windows "
    "gets the mean of their shares instead of their sum (windows that do not overlap are "
    "right).",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    count = np.zeros((H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j][:, :, None, None] / (k * k)
            dxp[:, :, i * s : i * s + k, j * s : j * s + k] += share
            count[i * s : i * s + k, j * s : j * s + k] += 1
    dxp /= np.maximum(count, 1)  # average where windows overlap
    return dxp[:, :, p : p + H, p : p + W]
""",
)

_m(
    "avgpool_bwd_both_loops_over_output_height",
    A,
    "avgpool2d_backward",
    "shape_assumption",
    "Only the output height is read from dout and both loops run over range(H_out), as if "
    "every output were square, so for a wider output the windows on the right are never "
    "spread back and for a narrower one dout is indexed past its last column (IndexError).",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    H_out = dout.shape[2]
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(H_out):
        for j in range(H_out):
            share = dout[:, :, i, j][:, :, None, None] / (k * k)
            dxp[:, :, i * s : i * s + k, j * s : j * s + k] += share
    return dxp[:, :, p : p + H, p : p + W]
""",
)

del A


# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_weight_names_plural",
    A,
    "init_lenet",
    "other",
    "The weights are stored under 'conv1.weights', 'fc1.weights', ... (plural) instead of "
    "'conv1.weight', ..., the PyTorch names that the docstring lists, so nothing that looks up "
    "'conv1.weight' finds them (the biases are stored under the right names).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weights"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_weights_drawn_in_reversed_shape",
    A,
    "init_lenet",
    "convention",
    "Each weight is drawn in the reversed shape, (in, out) as for x @ W (and (KW, KH, C_in, "
    "C_out) for the filters), and turned into the right shape with .T, so the shapes and "
    "bounds are right but the random numbers sit in other places than a draw of size=w_shape "
    "puts them (only the biases agree).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape[::-1]).T
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "forward_relu3_result_not_unpacked",
    A,
    "lenet_forward",
    "other",
    "The ReLU after fc1 is written h = layers.relu_forward(h), without unpacking the "
    "(output, cache) pair, so fc2 receives that pair instead of an array: the logits come out "
    "wrong (numpy stacks the pair into a (2, N, 120) array, or the layer raises) and there is "
    "no 'relu3' cache.",
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
    h = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    h, caches["relu4"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "forward_softmax_applied_to_logits",
    A,
    "lenet_forward",
    "convention",
    "A softmax is applied to fc3's output ('apply softmax at the end', lecture 002), so the "
    "function returns probabilities instead of the raw logits that the docstring asks for, and "
    "the loss, which applies its own softmax, would apply a second one.",
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
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    logits = np.exp(logits - logits.max(axis=1, keepdims=True))
    logits = logits / logits.sum(axis=1, keepdims=True)  # apply softmax at the end
    return logits, caches
""",
)

_m(
    "backward_gradients_clipped",
    A,
    "lenet_backward",
    "other",
    "Every parameter gradient is clipped to [-1, 1] before it is returned ('to avoid exploding "
    "gradients'), so any entry larger than 1 in size is silently changed and the result is no "
    "longer the gradient of the loss.",
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
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    for name in g:
        g[name] = np.clip(g[name], -1.0, 1.0)  # avoid exploding gradients
    return g
""",
)

_m(
    "ce_label_entries_taken_from_flat_array",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "The label entries of the loss are picked with np.take(log_p, y), which without an axis "
    "indexes the FLATTENED array, so it reads entry y[n] of the first row instead of entry "
    "y[n] of row n: the loss is computed from the first example's row only (the gradient is "
    "right).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.take(log_p, y).mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_loss_in_bits",
    A,
    "softmax_cross_entropy",
    "convention",
    "The loss is converted to bits (divided by log 2, the cross-entropy of information "
    "theory), so it is about 1.44 times the natural-log loss that F.cross_entropy computes and "
    "no longer the loss whose gradient dlogits is (the gradient is right).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(log_p[np.arange(N), y] / np.log(2)).mean()  # cross-entropy in bits
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_decay_scaled_by_learning_rate",
    A,
    "sgd_step",
    "convention",
    "The weight-decay term is scaled by the learning rate as well, d = g + lr * weight_decay "
    "* p (the decoupled decay of AdamW mixed into the gradient), so the decay is lr times "
    "weaker than torch.optim.SGD's (zero weight decay is right).",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + lr * weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
        p -= lr * velocity[name]
""",
)

_m(
    "train_sampled_with_replacement_scored_after_step",
    A,
    "train_epoch",
    "two_at_once",
    "Two slips: the order is drawn with rng.choice(N, size=N), which samples WITH replacement "
    "(some examples come twice in the epoch, others not at all) instead of the permutation "
    "rng.permutation(N); and the accuracy is measured with a second forward pass after the "
    "step, so each batch is scored by the updated network instead of with the logits of its "
    "own forward pass before the step.",
    """
def train_epoch(params, velocity, X, y, layers, *, batch_size=64, lr=0.02, momentum=0.9,
                weight_decay=5e-4, rng=None, forward=None, backward=None, step=None):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward      # your functions, unless a test passes others
    backward = backward or lenet_backward
    step = step or sgd_step
    N = len(y)
    order = rng.choice(N, size=N)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        idx = order[start:start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        logits, _ = forward(params, X[idx], layers)  # accuracy of the updated network
        total_loss += float(loss) * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_nominal_batch_weight_accuracy_count",
    A,
    "evaluate",
    "two_at_once",
    "Two slips: each batch's mean loss is weighted by batch_size, the nominal size, instead of "
    "len(yb), so a smaller last batch counts as if it were full; and 'acc' is the number of "
    "correct examples, not the fraction correct / N.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        total_loss += float(loss) * batch_size
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct}
""",
)

del A


# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_functional_activation",
    A,
    "make_lenet_torch",
    "other",
    "The activation is taken from torch.nn.functional (F.relu, or torch.sigmoid), a plain "
    "function, and put into the OrderedDict as if it were a layer, but nn.Sequential only "
    "accepts modules, so building the network raises TypeError.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"variant must be 'relu-max' or 'sigmoid-avg'; got {variant!r}")
    act = F.relu if variant == "relu-max" else torch.sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", act),
        ("pool1", Pool(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", act),
        ("pool2", Pool(2)),
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
    "make_lenet_dropout_added",
    A,
    "make_lenet_torch",
    "other",
    "An nn.Dropout(0.5) is added after fc1's activation ('regularisation, as in AlexNet'), "
    "which lecture 002's LeNet does not have: the module has an extra child, and in training "
    "mode half of fc1's outputs are zeroed at random and the others doubled, so the logits "
    "differ from LeNet's.",
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
        ("drop1", nn.Dropout(0.5)),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "load_params_matrices_transposed",
    A,
    "load_numpy_params",
    "convention",
    "Every 2-D array is transposed on its way in ('numpy stores (in, out), torch (out, in)'), "
    "but these arrays already are in torch's (out_features, in_features) layout, so every "
    "fully connected weight fails the shape check with ValueError (a square weight would be "
    "loaded transposed).",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"params has no array for {name}")
            array = np.asarray(params[name])
            if array.ndim == 2:
                array = array.T  # numpy (in, out) -> torch (out, in)
            if array.shape != tuple(param.shape):
                raise ValueError(f"{name}: the array has shape {array.shape}, the parameter "
                                 f"{tuple(param.shape)}")
            param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "train_torch_correct_count_kept_as_tensor",
    A,
    "train_epoch_torch",
    "other",
    "The correct predictions are added up as tensors, without .item(), so 'acc' comes back as "
    "a 0-d torch tensor (on the model's device) instead of a float.",
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
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "train_torch_cross_entropy_arguments_swapped",
    A,
    "train_epoch_torch",
    "convention",
    "F.cross_entropy is called as F.cross_entropy(y, logits), the labels first (the order of "
    "sklearn's metrics, y_true first), so torch receives the integer labels as scores and the "
    "logits as targets and raises on the first batch.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(y, logits)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_batches_moved_with_cuda",
    A,
    "evaluate_torch",
    "other",
    "The batches are moved with .cuda() instead of to the device argument, so on a machine "
    "without an NVIDIA GPU, and for a model on the CPU or an Apple GPU, every call fails "
    "instead of evaluating on the model's device.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x).cuda()
            y = torch.as_tensor(y).cuda()
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
