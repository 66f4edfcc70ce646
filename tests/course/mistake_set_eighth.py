"""An eighth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-07 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. It was written without knowing what the feedback recognises.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the given code cells, the exercise docstrings and the reference solutions between
BEGIN SOLUTION and END SOLUTION; their test cells skipped, neither read nor run), the
solutions/ package, the shared lectures, and tests/course/mistake_set.py,
tests/course/mistake_set_fresh.py, tests/course/mistake_set_third.py,
tests/course/mistake_set_fourth.py, tests/course/mistake_set_fifth.py,
tests/course/mistake_set_sixth.py and tests/course/mistake_set_seventh.py, these ONLY for
their format, the `collector` helper and FAMILIES of mistake_set.py, and to avoid repeating
their ids and their mistakes (no bug of theirs is repeated in the same function; bugs of a
kind none of them has were preferred). NOT ALLOWED (and not read, searched, imported or
run): course/ (course/checks and course/torch_layers.py included), autograder/, docs/, the
shared trial reports, tests/course/diagnosis.py or any other test file, git log and git
diffs.

What was read. Of the notebooks: the markdown cells, the given code cells and the solution
cells of all seven, printed by a script that skipped every test cell (nbgrader grade=True
and solution=False) without printing it. Of the earlier sets: the module docstring, the
collector and FAMILIES of mistake_set.py, the format (docstring, section layout, first and
last entries) of mistake_set_seventh.py, and the id, function, family and description of
every entry of the seven sets, listed by a script. Of the lectures only their README (the
list of lectures); the lecture texts and the solutions/ package were not needed and not
read. course was never imported, and nothing was done to find out which mistakes the
checks recognise.

How the entries were verified. A script outside the repository executed, for each notebook,
the function definitions of its given cells and solution cells in order (with numpy,
torch, torch.nn, torch.nn.functional as F and OrderedDict as the notebook imports them, and
without any import from `course`) to get the reference namespace; it then executed each
buggy function over a fresh copy of that namespace and called the reference and the buggy
function on the same ordinary inputs: non-square images and kernels, batches and several
channels, strides, paddings and dilations given as ints, pairs and the nested form, integer
images, transposed (non-contiguous) arrays, logits in the hundreds, batch counts that leave
a smaller last batch, lists and generators of batches. It compared the return values
(values, shapes, dtypes and Python types), the exceptions raised, the state of every
argument after the call (so that an input changed where the reference leaves it alone, or
left alone where the reference updates it, shows), and whether a returned array shares
memory with an input. Every entry differs there, or breaks a requirement of the docstring
or the exercise that the script tests explicitly (an error message that names the mode or
gives both shapes, a forward or backward function that is passed in and must be called,
batches no larger than batch_size, evaluation under torch.no_grad(), no Python loops in
Exercises 3.3 and 3.5). The same script, given the reference functions themselves (from a
second, independently built namespace), found no difference. The functions of 06 and 07
that take `layers` were run with a bundle of the notebooks' own reference layer functions
(conv2d_forward, conv2d_backward, maxpool2d_forward, maxpool2d_backward, relu, flatten and
linear forward and backward, softmax_cross_entropy), which have the interface the notebooks
describe.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of the seven earlier sets)
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
    "corr2d_window_cut_with_chained_brackets",
    A,
    "corr2d",
    "convention",
    "Each window is cut as X[i : i + KH][j : j + KW], the list-of-lists habit, but on a numpy "
    "array the second bracket slices ROWS again, not columns, so the 'window' is a block of "
    "whole rows and multiplying it by K raises a broadcasting error (a 1 x 1 kernel silently "
    "sums whole rows).",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i : i + KH][j : j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_missing_return",
    A,
    "corr2d",
    "missing_term",
    "The loops fill Y correctly, but the function has no return statement, so corr2d returns "
    "None and everything that uses its result fails.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
""",
)

_m(
    "corr2d_output_is_slice_of_input",
    A,
    "corr2d",
    "in_place",
    "Y is made by slicing X to the output's size, X[:H - KH + 1, :W - KW + 1], which is a view "
    "of the caller's image, not a new array: the outputs are written over the top-left corner "
    "of X, and an integer image gives an integer output with its fractions cut off.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = X[: H - KH + 1, : W - KW + 1]
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] = np.sum(X[i : i + KH, j : j + KW] * K)
    return Y
""",
)

_m(
    "corr2d_bias_started_with_np_full",
    A,
    "corr2d_bias",
    "rounding",
    "Y is started as np.full(shape, b) and each window's sum is added to it, but np.full takes "
    "its dtype from b, so an integer bias such as lecture 000's b = 1 makes Y an integer array "
    "and every output loses its fractional part.",
    """
def corr2d_bias(X, K, b):
    H, W = X.shape
    KH, KW = K.shape
    Y = np.full((H - KH + 1, W - KW + 1), b)
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i, j] += np.sum(X[i : i + KH, j : j + KW] * K)
    return Y
""",
)

_m(
    "edge_kernel_matlab_centre_int_array",
    A,
    "edge_kernel",
    "two_at_once",
    "The centre is set with K[2, 2], the MATLAB index of the middle of a 3 x 3 array, which in "
    "numpy is the bottom-right corner, and np.full((3, 3), -1) makes an integer array instead "
    "of the float kernel the exercise asks for.",
    """
def edge_kernel():
    K = np.full((3, 3), -1)
    K[2, 2] = 8
    return K
""",
)

_m(
    "sharpen_cross_written_after_centre",
    A,
    "sharpen_kernel",
    "other",
    "The centre is set to 5 first and the middle row and column to -1 afterwards, which "
    "overwrites the centre again: the kernel has -1 in the middle and sums to -5 instead of 1.",
    """
def sharpen_kernel():
    K = np.zeros((3, 3))
    K[1, 1] = 5
    K[1, :] = -1
    K[:, 1] = -1
    return K
""",
)

_m(
    "sobel_x_separable_factors_multiplied_elementwise",
    A,
    "sobel_x",
    "other",
    "Sobel x is built as smoothing [1, 2, 1] times derivative [1, 0, -1], but smooth * diff "
    "multiplies the two vectors elementwise instead of taking their outer product (np.outer, "
    "or smooth[:, None] * diff), so the result is the 1-D vector [1, 0, -1], not a 3 x 3 "
    "kernel.",
    """
def sobel_x():
    smooth = np.array([1.0, 2.0, 1.0])
    diff = np.array([1.0, 0.0, -1.0])
    return smooth * diff
""",
)

_m(
    "sobel_y_transposes_uncalled_function",
    A,
    "sobel_y",
    "other",
    "sobel_x is transposed without being called, sobel_x.T instead of sobel_x().T, so Python "
    "looks for .T on the function object and the call raises AttributeError.",
    """
def sobel_y():
    return sobel_x.T
""",
)

_m(
    "box_blur_caret_for_power",
    A,
    "box_blur",
    "convention",
    "The square is written k ^ 2, as in LaTeX or MATLAB, but in Python ^ is bitwise XOR: "
    "3 ^ 2 is 1, so the 3 x 3 blur has entries 1 instead of 1/9, and k = 2 divides by 2 ^ 2 = 0.",
    """
def box_blur(k):
    return np.ones((k, k)) / (k ^ 2)
""",
)

_m(
    "gaussian_offsets_added_without_broadcast",
    A,
    "gaussian_kernel",
    "shape_assumption",
    "The squared offsets of the two axes are written u**2 + u**2 with the same 1-D vector "
    "instead of u[:, None] ** 2 + u[None, :] ** 2, so nothing is broadcast and the result is "
    "a 1-D vector of size entries (the kernel's diagonal, renormalised), not a size x size "
    "kernel.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-(u**2 + u**2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "gaussian_positions_counted_from_one",
    A,
    "gaussian_kernel",
    "off_by_one",
    "The pixel positions are counted from 1, np.arange(1, size + 1) like MATLAB's 1:size, "
    "while the centre c = (size - 1) / 2 is 0-based, so every offset is one too large and the "
    "peak of the bell sits one pixel up and to the left of the middle.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(1, size + 1) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma**2))
    return G / G.sum()
""",
)

_m(
    "conv_true_mode_tuple_missing_comma",
    A,
    "conv2d_true",
    "other",
    "The comma is missing in ('valid' 'full'), so Python joins the two literals into the "
    "string 'validfull' and `mode not in` becomes a substring test: unknown modes such as "
    "'vali', 'lid' or '' pass it and are silently treated as 'valid' instead of raising "
    "ValueError.",
    """
def conv2d_true(X, K, mode="valid"):
    if mode not in ("valid" "full"):
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "conv_true_error_does_not_name_mode",
    A,
    "conv2d_true",
    "missing_term",
    "An unknown mode does raise ValueError, but its message only lists the allowed modes and "
    "never says which mode was passed, which the docstring asks for ('say which mode you "
    "got').",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError("mode must be 'valid' or 'full'")
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "as_matrix_row_decoded_by_output_height",
    A,
    "corr2d_as_matrix",
    "shape_assumption",
    "Row r of M is turned back into the output pixel (i, j) with divmod(r, H_out), dividing by "
    "the output HEIGHT instead of the output width W_out, so for a non-square output the "
    "kernel is placed at the wrong input pixels (or past the end of the row: IndexError).",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    for r in range(H_out * W_out):
        i, j = divmod(r, H_out)
        for a in range(KH):
            for b in range(KW):
                M[r, (i + a) * W + (j + b)] = K[a, b]
    return M
""",
)

# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_stride_divides_padded_input_only",
    A,
    "output_size",
    "other",
    "The stride divides only the padded input size, (n + 2 * padding) // stride - k + 1, as if "
    "the input were shrunk first and the kernel slid over it afterwards, instead of dividing "
    "the room left after the first window, (n + 2 * padding - k) // stride + 1; only stride 1 "
    "is right.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding) // stride - k + 1
""",
)

_m(
    "output_size_total_plus_stride_and_plus_one",
    A,
    "output_size_total",
    "off_by_one",
    "The formula has both the + stride inside the floor and the + 1 of the per-side formula, "
    "(n - k + total_padding + stride) // stride + 1, so it counts one window more than there "
    "are.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return (n - k + total_padding + stride) // stride + 1
""",
)

_m(
    "pad2d_nested_form_caught_by_length_test",
    A,
    "pad2d",
    "other",
    "A pair is told from the nested form by len(padding) == 2, but ((top, bottom), (left, "
    "right)) has length 2 as well, so the nested form goes into the (ph, pw) branch, top "
    "becomes a tuple and computing the padded size raises TypeError.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        top = bottom = left = right = padding
    elif len(padding) == 2:
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "pad2d_zero_padding_returns_input_itself",
    A,
    "pad2d",
    "in_place",
    "With padding 0 the function returns X itself ('nothing to pad') instead of a new float "
    "array, so an integer image comes back as integers and any later write into the result "
    "changes the caller's X.",
    """
def pad2d(X, padding):
    if np.isscalar(padding):
        if padding == 0:
            return X
        (top, bottom), (left, right) = (padding, padding), (padding, padding)
    elif np.isscalar(padding[0]):
        (top, bottom), (left, right) = (padding[0], padding[0]), (padding[1], padding[1])
    else:
        (top, bottom), (left, right) = padding
    H, W = X.shape
    Y = np.zeros((H + top + bottom, W + left + right))
    Y[top : top + H, left : left + W] = X
    return Y
""",
)

_m(
    "same_padding_ceil_idiom_without_outer_minus",
    A,
    "same_padding",
    "sign",
    "ceil((k - 1) / 2) is written with the ceiling idiom but without its outer minus, "
    "-total // 2 instead of -(-total // 2), so before comes out negative (k = 3 gives (-1, 1)) "
    "and before + after is not k - 1.",
    """
def same_padding(k):
    total = k - 1
    before = -total // 2
    after = total // 2
    return before, after
""",
)

_m(
    "padded_stride_unpacked_without_as_pair",
    A,
    "corr2d_padded",
    "shape_assumption",
    "The stride is unpacked directly, sh, sw = stride, instead of with the given as_pair, so "
    "the default stride=1 and every other int stride raise TypeError (an int cannot be "
    "unpacked); only a (sh, sw) pair works.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = stride
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
    "dilated_footprint_sides_from_other_axis",
    A,
    "corr2d_dilated",
    "shape_assumption",
    "The dilated kernel's height is computed from the kernel's WIDTH and its width from its "
    "height (dh * (KW - 1) + 1 rows), which only fits square kernels: for a KH x KW kernel "
    "with KH != KW, writing K into it with steps (dh, dw) fails.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * (KW - 1) + 1, dw * (KH - 1) + 1))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(X, K_dilated, padding=padding, stride=stride)
""",
)

# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_channel_count_from_first_channel_length",
    A,
    "corr2d_multi_in",
    "wrong_axis",
    "The channel loop runs up to len(X[0]), which is the height H of the first channel, not "
    "the number of channels len(X): channels are left out when H < C_in, and X[c] runs past "
    "the last channel (IndexError) when H > C_in.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = corr2d(X[0], K[0])
    for c in range(1, len(X[0])):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_out_whole_filter_bank_each_pass",
    A,
    "corr2d_multi_in_out",
    "other",
    "Inside the loop over output channels corr2d_multi_in is called with the whole filter bank "
    "K instead of K[o] (the loop variable is never used), so every slice K[c] it correlates is "
    "a 3-D block of filters and corr2d raises (too many values to unpack).",
    """
def corr2d_multi_in_out(X, K):
    maps = []
    for o in range(K.shape[0]):
        maps.append(corr2d_multi_in(X, K))
    return np.stack(maps)
""",
)

_m(
    "multi_in_out_return_inside_loop",
    A,
    "corr2d_multi_in_out",
    "other",
    "The return statement is indented into the loop over the filters, so the function returns "
    "after the first output channel: the result is (1, H_out, W_out) whatever C_out is.",
    """
def corr2d_multi_in_out(X, K):
    maps = []
    for o in range(len(K)):
        maps.append(corr2d_multi_in(X, K[o]))
        return np.stack(maps)
""",
)

_m(
    "conv1x1_input_flattened_column_major",
    A,
    "conv1x1",
    "convention",
    "The input is flattened with X.reshape(C_in, H * W, order='F'), column by column (the "
    "MATLAB habit), but the product is reshaped back in numpy's row-major order, so pixel "
    "(i, j) is read from pixel number i + H * j and written to i * W + j: the output maps come "
    "back transposed (square images) or scrambled.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[0]
    K2 = K.reshape(C_out, C_in)
    Y2 = K2 @ X.reshape(C_in, H * W, order="F")
    return Y2.reshape(C_out, H, W)
""",
)

_m(
    "conv1x1_output_channels_from_axis_one",
    A,
    "conv1x1",
    "wrong_axis",
    "C_out is read from K.shape[1], which is C_in, so K.reshape(C_out, C_in) asks for a "
    "C_in x C_in matrix and raises whenever the numbers of input and output channels differ.",
    """
def conv1x1(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_in, H, W = X.shape
    C_out = K.shape[1]
    K2 = K.reshape(C_out, C_in)
    Y2 = K2 @ X.reshape(C_in, H * W)
    return Y2.reshape(C_out, H, W)
""",
)

_m(
    "conv_params_conditional_expression_swallows_weights",
    A,
    "conv_params",
    "other",
    "The conditional expression binds loosest, so C_out * C_in * KH * KW + C_out if bias else "
    "0 means (weights + biases) if bias else 0: a layer without biases is counted as having "
    "0 parameters instead of its weights.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    return C_out * C_in * KH * KW + C_out if bias else 0
""",
)

_m(
    "conv_mults_counted_per_input_pixel",
    A,
    "conv_mults",
    "other",
    "Every weight is counted once per INPUT pixel, rebuilt as (H_out + KH - 1) x "
    "(W_out + KW - 1) ('the kernel visits every pixel'), instead of once per output position, "
    "so the count is too large for any kernel larger than 1 x 1.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    H = H_out + KH - 1
    W = W_out + KW - 1
    return C_out * H * W * C_in * KH * KW
""",
)

_m(
    "vectorized_reshaped_to_size_without_plus_one",
    A,
    "conv2d_vectorized",
    "off_by_one",
    "The im2col product is right, but it is reshaped to (C_out, H - KH, W - KW), the output "
    "size without the +1, which holds fewer numbers than the product, so the final reshape "
    "raises.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    _, H, W = X.shape
    H_out, W_out = H - KH, W - KW
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    cols = windows.transpose(0, 3, 4, 1, 2).reshape(C_in * KH * KW, -1)
    Y = K.reshape(C_out, -1) @ cols
    return Y.reshape(C_out, H_out, W_out)
""",
)

# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_unknown_mode_leaves_fill_unbound",
    A,
    "pool2d",
    "missing_term",
    "The mode only chooses the fill value in an if / elif with no else, so an unknown mode "
    "such as 'Max' falls through both branches and np.pad fails with UnboundLocalError for "
    "fill, instead of the ValueError the exercise asks for.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    if mode == "max":
        fill = -np.inf
    elif mode == "avg":
        fill = 0.0
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
    "pool2d_max_pads_with_plus_infinity",
    A,
    "pool2d",
    "sign",
    "Max pooling pads with np.inf instead of -np.inf (the minus sign is missing), so with "
    "padding every window that touches the border has the maximum inf.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    PH, PW = as_pair(padding)
    fill = np.inf if mode == "max" else 0.0
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
    "pool_channels_returns_python_list",
    A,
    "pool2d_channels",
    "missing_term",
    "The pooled channels are returned as a Python list of C arrays, without np.stack, so the "
    "result is not a (C, H_out, W_out) array: it has no .shape, and Y[:, i, j] or arithmetic "
    "on it fails.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    return [pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
            for c in range(X.shape[0])]
""",
)

_m(
    "grad_mask_window_columns_use_row_stride",
    A,
    "maxpool_grad_mask",
    "wrong_axis",
    "The number of window columns is divided by the row stride SH instead of the column "
    "stride SW, so a stride pair with SH != SW visits too few columns of windows, or too many, "
    "whose windows run off the input (np.argmax of an empty window raises).",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = (KH, KW) if stride is None else as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SH + 1
    mask = np.zeros_like(X)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
            p, q = np.unravel_index(np.argmax(window), window.shape)
            mask[i * SH + p, j * SW + q] += 1
    return mask
""",
)

_m(
    "grad_mask_default_stride_passed_to_as_pair",
    A,
    "maxpool_grad_mask",
    "missing_term",
    "stride=None is handed straight to as_pair, which cannot unpack None, so the default call "
    "maxpool_grad_mask(X, size) raises TypeError instead of using the window size as the "
    "stride.",
    """
def maxpool_grad_mask(X, size, *, stride=None):
    X = np.asarray(X, dtype=float)
    KH, KW = as_pair(size)
    SH, SW = as_pair(stride)
    H_out = (X.shape[0] - KH) // SH + 1
    W_out = (X.shape[1] - KW) // SW + 1
    mask = np.zeros_like(X)
    for i in range(H_out):
        for j in range(W_out):
            window = X[i * SH : i * SH + KH, j * SW : j * SW + KW]
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
    "numgrad_gradient_stored_as_float32",
    A,
    "numerical_gradient",
    "rounding",
    "The gradient array is allocated as float32 ('to save memory'), so every central "
    "difference, computed in float64, is rounded to about 7 digits when it is stored, and the "
    "function returns float32 instead of the float64 the docstring asks for.",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape, dtype=np.float32)
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
    "rel_error_np_max_used_for_maximum",
    A,
    "rel_error",
    "other",
    "The elementwise floor is written np.max(np.abs(a) + np.abs(b), eps), the reduction np.max "
    "instead of the elementwise np.maximum; np.max takes eps as its axis argument and raises "
    "TypeError.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return float(np.max(np.abs(a - b) / np.max(np.abs(a) + np.abs(b), eps)))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "conv_fwd_cache_holds_padded_input",
    A,
    "conv2d_forward",
    "other",
    "The cache stores the padded input xp instead of x ('the backward pass needs it padded "
    "anyway'), but the docstring's cache is (x, w, b, stride, padding): conv2d_backward pads it "
    "a second time, so with padding dw is computed on the wrong windows and dx has the wrong "
    "shape.",
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
    cache = (xp, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_fwd_output_size_true_division",
    A,
    "conv2d_forward",
    "rounding",
    "H_out and W_out are computed with / instead of //, so they are floats (4.0 even when the "
    "stride fits) and np.zeros refuses them as a shape with TypeError; a stride that does not "
    "fit would also give a fractional size.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) / s + 1
    W_out = (W + 2 * p - KW) / s + 1
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
    "conv_bwd_dw_reset_per_row_columns_kh_wide",
    A,
    "conv2d_backward",
    "two_at_once",
    "dw = np.zeros(w.shape) sits inside the loop over output rows, so it is reset for every "
    "row and only the last row of outputs contributes to dw; and the window's columns are cut "
    "KH wide (j * s : j * s + KH) instead of KW, which breaks every non-square kernel.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dxp = np.zeros(xp.shape)
    for i in range(H_out):
        dw = np.zeros(w.shape)
        for j in range(W_out):
            rows = slice(i * s, i * s + KH)
            cols = slice(j * s, j * s + KH)
            d = dout[:, :, i, j]
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db
""",
)

_m(
    "maxpool_fwd_square_width_column_major_argmax",
    A,
    "maxpool2d_forward",
    "two_at_once",
    "W_out is computed from the input height H, so a non-square input gets the wrong number "
    "of window columns; and each window is flattened with order='F', column by column, so "
    "argmax holds column-major indices (and the first maximum by column on ties) instead of "
    "np.argmax's row-major index that the backward pass decodes with divmod.",
    """
def maxpool2d_forward(x, *, kernel_size, stride=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    H_out = (H - k) // s + 1
    W_out = (H - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * s : i * s + k, j * s : j * s + k].reshape(N, C, k * k, order="F")
            argmax[:, :, i, j] = np.argmax(window, axis=2)
            out[:, :, i, j] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_dx_allocated_like_dout",
    A,
    "maxpool2d_backward",
    "shape_assumption",
    "dx is allocated with np.zeros_like(dout), the shape of the pooled OUTPUT, instead of the "
    "input's (N, C, H, W), so the winners' rows and columns, which are input coordinates, run "
    "past its end (IndexError), and dx could never have x's shape.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(dout)
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], k)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "maxpool_bwd_dx_integer_dtype",
    A,
    "maxpool2d_backward",
    "rounding",
    "dx is allocated with dtype=int, the line copied from the forward pass's argmax array, so "
    "adding the float gradients into it with += fails with a casting error (UFuncTypeError) "
    "instead of returning a float gradient.",
    """
def maxpool2d_backward(dout, cache):
    (N, C, H, W), k, s, argmax = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H, W), dtype=int)
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], k)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_mean_stored_after_inner_loop",
    A,
    "avgpool2d_forward",
    "other",
    "The line that stores the mean is dedented out of the loop over columns, so for each row "
    "of outputs only the last window (j = W_out - 1) is stored and every other column of out "
    "stays 0.",
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
        out[:, :, i, j] = window.mean(axis=(2, 3))
    cache = (x.shape, k, s, p)
    return out, cache
""",
)

_m(
    "avgpool_bwd_windows_counted_unpadded_indices_swapped",
    A,
    "avgpool2d_backward",
    "two_at_once",
    "The number of windows is recomputed from the unpadded size, (H - k) // s + 1, instead of "
    "read from dout, so with padding the last windows' gradients are never spread back; and "
    "window (i, j) is laid down at rows j * s and columns i * s, the two indices swapped, so "
    "each share lands on the mirrored window (and a non-square grid fails).",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    share = dout / (k * k)
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, j * s : j * s + k, i * s : i * s + k] += share[:, :, i, j][:, :, None, None]
    return dxp[:, :, p : p + H, p : p + W]
""",
)

# ---------------------------------------------------------------------------------------
# 06_lenet
# ---------------------------------------------------------------------------------------
A = "06_lenet"

_m(
    "init_generator_made_without_seed",
    A,
    "init_lenet",
    "missing_term",
    "The generator is made with np.random.default_rng() and the seed argument is never used, "
    "so every call draws different parameters and the same seed no longer gives the same "
    "network (nor PyTorch's numbers).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng()
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_fan_in_from_conv_axes_for_every_layer",
    A,
    "init_lenet",
    "shape_assumption",
    "fan_in is written w_shape[1] * w_shape[2] * w_shape[3], C_in * KH * KW, which only fits "
    "the 4-D convolution weights: at fc1, whose weight is 2-D, index 2 is out of range and the "
    "function raises IndexError.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        fan_in = w_shape[1] * w_shape[2] * w_shape[3]
        bound = 1 / np.sqrt(fan_in)
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "forward_first_relu_output_discarded",
    A,
    "lenet_forward",
    "missing_term",
    "The first ReLU's output is thrown away (_, caches['relu1'] = layers.relu_forward(h)), so "
    "the first pooling gets conv1's raw output, negatives included, while relu1's cache is "
    "stored as if the ReLU had been applied.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    _, caches["relu1"] = layers.relu_forward(h)
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
    "forward_linear_weights_passed_transposed",
    A,
    "lenet_forward",
    "convention",
    "Every fully connected weight is passed transposed (p['fc1.weight'].T), the x @ W habit, "
    "but linear_forward already computes x @ w.T with PyTorch's (out, in) layout, so fc1 "
    "multiplies (N, 400) by (120, 400) and raises.",
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
    h, caches["fc1"] = layers.linear_forward(h, p["fc1.weight"].T, p["fc1.bias"])
    h, caches["relu3"] = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"].T, p["fc2.bias"])
    h, caches["relu4"] = layers.relu_forward(h)
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"].T, p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "backward_stops_after_conv2",
    A,
    "lenet_backward",
    "missing_term",
    "The backward pass stops after conv2 ('nothing needs conv1's dx'), so grads has no "
    "'conv1.weight' and 'conv1.bias' entries at all and conv1 could never be trained; only "
    "conv1's input gradient is unneeded, not its weight and bias gradients.",
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
    return g
""",
)

_m(
    "backward_negates_dlogits",
    A,
    "lenet_backward",
    "sign",
    "dlogits is negated before fc3's backward ('descent goes against the gradient'), so every "
    "entry of grads has the wrong sign and the SGD step, which subtracts the gradient itself, "
    "would climb the loss.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(-dlogits, c["fc3"])
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
    "ce_integer_labels_used_as_one_hot",
    A,
    "softmax_cross_entropy",
    "convention",
    "y is used as if it were one-hot, -np.sum(y * log_p) / N and softmax - y (the Keras "
    "habit), but y holds integer labels of shape (N,), which broadcast along the class axis: "
    "it raises when N != C and gives a meaningless loss and gradient when N == C.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.sum(y * log_p) / N
    dlogits = (np.exp(log_p) - y) / N
    return float(loss), dlogits
""",
)

_m(
    "ce_gradient_divided_by_class_count",
    A,
    "softmax_cross_entropy",
    "wrong_axis",
    "The gradient is divided by logits.shape[1], the number of classes C, instead of "
    "logits.shape[0], the batch size N, so it is right only when N == C.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / logits.shape[1]
""",
)

_m(
    "ce_shift_by_row_minimum",
    A,
    "softmax_cross_entropy",
    "stability",
    "Each row's minimum is subtracted instead of its maximum (np.min for np.max), so every "
    "exponent is >= 0 and a row whose logits span a few hundred still overflows np.exp to "
    "inf: the loss becomes inf or nan and the gradient nan.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.min(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_parameter_step_after_loop",
    A,
    "sgd_step",
    "other",
    "p -= lr * velocity[name] is dedented out of the loop, so every velocity is updated but "
    "only the last parameter of the dict (fc3.bias for LeNet) takes a step.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
    p -= lr * velocity[name]
""",
)

_m(
    "train_gradients_from_lenet_backward_by_name",
    A,
    "train_epoch",
    "other",
    "The gradients come from lenet_backward called by name instead of the backward function "
    "that is passed in, so a caller (or test) that hands in another backward pass is ignored.",
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
        grads = lenet_backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "train_new_permutation_for_every_batch",
    A,
    "train_epoch",
    "other",
    "order = rng.permutation(N) is drawn inside the batch loop, a new shuffle for every batch, "
    "so the batches are slices of different permutations: some examples are visited twice in "
    "the epoch and others not at all.",
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
        order = rng.permutation(N)
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
    "evaluate_one_forward_pass_flat_argmax",
    A,
    "evaluate",
    "two_at_once",
    "All N images go through forward in a single call, ignoring batch_size (the memory the "
    "batches are there to save), and the predictions are logits.argmax() without axis=1, one "
    "index into the flattened (N, 10) array, so the accuracy compares that one number with "
    "every label.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    logits, _ = forward(params, X, layers)
    loss, _ = layers.softmax_cross_entropy(logits, y)
    correct = int((logits.argmax() == y).sum())
    return {"loss": float(loss), "acc": correct / N}
""",
)

_m(
    "evaluate_loss_from_unshifted_softmax",
    A,
    "evaluate",
    "stability",
    "The loss is computed by hand, np.exp(logits) normalised without subtracting each row's "
    "max and then np.log of the label's probability, instead of with "
    "layers.softmax_cross_entropy, so logits in the hundreds overflow np.exp to inf, the "
    "label's probability comes out 0 or nan and the mean loss inf or nan.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for start in range(0, N, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        logits, _ = forward(params, xb, layers)
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        total_loss += float(-np.log(p[np.arange(len(yb)), yb]).sum())
        correct += int((logits.argmax(axis=1) == yb).sum())
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

# ---------------------------------------------------------------------------------------
# 07_gpu
# ---------------------------------------------------------------------------------------
A = "07_gpu"

_m(
    "make_lenet_fc1_sized_for_unpadded_digits",
    A,
    "make_lenet_torch",
    "shape_assumption",
    "fc1 is built as nn.Linear(16 * 4 * 4, 120), the size a 28 x 28 digit gives WITHOUT "
    "conv1's padding, but conv1 pads by 2, so the flattened maps have 16 * 5 * 5 = 400 "
    "features and every forward pass raises a shape error.",
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
        ("fc1", nn.Linear(16 * 4 * 4, 120)),
        ("act3", Act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "make_lenet_activation_class_not_instantiated",
    A,
    "make_lenet_torch",
    "other",
    "The activations are put into the OrderedDict as the class itself (Act instead of Act()), "
    "so nn.Sequential receives nn.ReLU or nn.Sigmoid, which is not a module, and raises "
    "TypeError.",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"variant must be 'relu-max' or 'sigmoid-avg'; got {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act1", Act),
        ("pool1", Pool(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", Act),
        ("pool2", Pool(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act3", Act),
        ("fc2", nn.Linear(120, 84)),
        ("act4", Act),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "load_params_via_float_tensor_no_return",
    A,
    "load_numpy_params",
    "two_at_once",
    "Each array goes through .float() on its way in (torch.from_numpy(array).float()), which "
    "rounds float64 values to float32's 7 digits before they reach the float64 parameter; and "
    "the function has no return statement, so it returns None instead of the model.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"params has no array for {name}")
            array = np.asarray(params[name])
            if array.shape != tuple(param.shape):
                raise ValueError(f"{name}: the array has shape {array.shape}, the parameter "
                                 f"{tuple(param.shape)}")
            param.copy_(torch.from_numpy(array).float())
""",
)

_m(
    "load_params_shape_error_without_shapes",
    A,
    "load_numpy_params",
    "missing_term",
    "A wrong shape raises ValueError, but the message only names the parameter and does not "
    "give the two shapes, which the docstring asks for.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name not in params:
                raise KeyError(f"params has no array for {name}")
            array = np.asarray(params[name])
            if array.shape != tuple(param.shape):
                raise ValueError(f"wrong shape for {name}")
            param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "train_torch_labels_given_image_dtype",
    A,
    "train_epoch_torch",
    "convention",
    "The labels are converted with the images' dtype (torch.as_tensor(y, dtype=x.dtype), 'all "
    "tensors float'), so F.cross_entropy receives float targets of shape (B,) instead of "
    "integer class indices and raises RuntimeError.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in batches:
        x = torch.as_tensor(x, device=device)
        y = torch.as_tensor(y, device=device, dtype=x.dtype)
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
    "train_torch_batches_indexed_by_position",
    A,
    "train_epoch_torch",
    "shape_assumption",
    "The batches are visited by position, for k in range(len(batches)): x, y = batches[k], "
    "which only works for a list: a generator such as course.data.batches (or a progress-bar "
    "wrapper around it) has no len() and the call raises TypeError.",
    """
def train_epoch_torch(model, batches, opt, device):
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for k in range(len(batches)):
        x, y = batches[k]
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
    "eval_torch_no_grad_class_not_called",
    A,
    "evaluate_torch",
    "other",
    "torch.no_grad is used without parentheses, with torch.no_grad:, so the with statement "
    "gets the class instead of a context-manager object and raises TypeError before a single "
    "batch is evaluated.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad:
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
