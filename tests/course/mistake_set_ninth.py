"""A ninth set of realistic student mistakes, held out in full, for benchmarking feedback.

Written on 2026-12-07 by a helper session started from a session of this project, to measure,
once and without any tuning afterwards, how often the course's checks name a mistake
correctly. It was written without knowing what the feedback recognises.

Rules it was written under. ALLOWED TO READ: the source notebooks source/*/*.ipynb (their
markdown, the given code cells, the exercise docstrings and the reference solutions between
BEGIN SOLUTION and END SOLUTION; their test cells skipped, neither read nor run), the
solutions/ package, the shared lectures, and tests/course/mistake_set.py,
tests/course/mistake_set_fresh.py, tests/course/mistake_set_third.py,
tests/course/mistake_set_fourth.py, tests/course/mistake_set_fifth.py,
tests/course/mistake_set_sixth.py, tests/course/mistake_set_seventh.py and
tests/course/mistake_set_eighth.py, these ONLY for their format, the `collector` helper and
FAMILIES of mistake_set.py, and to avoid repeating their ids and their mistakes (no bug of
theirs is repeated in the same function; bugs of a kind none of them has were preferred).
NOT ALLOWED (and not read, searched, imported or run): course/ (course/checks and
course/torch_layers.py included), autograder/, docs/, the shared trial reports,
tests/course/diagnosis.py or any other test file, git log and git diffs.

What was read. Of the notebooks: the markdown cells, the given code cells and the solution
cells of all seven, printed by a script that skipped every test cell (nbgrader grade=True
and solution=False) without printing it. Of the earlier sets: the collector and FAMILIES of
mistake_set.py, the format (docstring, section layout, first and last entries) of
mistake_set_eighth.py, the first lines of mistake_set_seventh.py's docstring, and the id,
function, family and description of every entry of the eight sets, listed by a script that
parsed the files without importing them. The lectures and the solutions/ package were not
needed and not read. course was never imported, and nothing was done to find out which
mistakes the checks recognise.

How the entries were verified. A script outside the repository executed, for each notebook,
the function definitions of its given cells and solution cells in order (with numpy, torch,
torch.nn, torch.nn.functional as F and OrderedDict as the notebook imports them, and without
any import from `course`) to get the reference namespace; it then executed each buggy
function over a fresh copy of that namespace and called the reference and the buggy function
on the same ordinary inputs: non-square images and kernels, batches and several channels,
strides, paddings and dilations given as ints, pairs and the nested form, integer images,
transposed (non-contiguous) arrays, a mode string built at run time, logits in the hundreds,
batch counts that leave a smaller last batch, lists and generators of batches, and batches
given as tensors. It compared the return values (values, shapes, dtypes and Python types;
caches included, so that the maximum pooling forward pass is held to the exercise text's
argmax, each winner's index within its window), whether and which exception is raised, and
the state of every argument after the call (so that an input changed where the reference
leaves it alone, or left alone where the reference updates it, shows). Every entry differs
there. The same script, given the reference functions themselves (from a second,
independently built namespace), found no difference. The functions of 06 and 07 that take
`layers` were run with a bundle of the notebooks' own reference layer functions
(conv2d_forward, conv2d_backward, maxpool2d_forward, maxpool2d_backward, relu, flatten and
linear forward and backward, softmax_cross_entropy), which have the interface the notebooks
describe.

The format is that of tests/course/mistake_set.py. Each entry of MISTAKES is one student's
buggy version of one graded function:

    id           short unique snake_case name (none is an id of the eight earlier sets)
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
    "corr2d_output_rows_one_shared_list",
    A,
    "corr2d",
    "in_place",
    "The output is built as a list of lists with [[0.0] * W_out] * H_out, which repeats ONE "
    "row object H_out times, so every write goes into that same row and the returned array "
    "holds the last row of outputs in every row.",
    """
def corr2d(X, K):
    H, W = X.shape
    KH, KW = K.shape
    Y = [[0.0] * (W - KW + 1)] * (H - KH + 1)
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            Y[i][j] = np.sum(X[i : i + KH, j : j + KW] * K)
    return np.array(Y)
""",
)

_m(
    "corr2d_bias_trailing_comma_tuple",
    A,
    "corr2d_bias",
    "other",
    "A stray comma at the end of Y = corr2d(X, K) + b, makes Y a one-element tuple, so the "
    "function returns (array,) instead of the array itself.",
    """
def corr2d_bias(X, K, b):
    Y = corr2d(X, K) + b,
    return Y
""",
)

_m(
    "edge_kernel_from_identity_matrix",
    A,
    "edge_kernel",
    "other",
    "The kernel is built as 9 * np.eye(3) - np.ones((3, 3)), expecting np.eye to put a single "
    "1 in the centre, but the identity matrix has 1s along its whole diagonal, so all three "
    "diagonal cells get 8 and the kernel sums to 18 instead of 0.",
    """
def edge_kernel():
    return 9 * np.eye(3) - np.ones((3, 3))
""",
)

_m(
    "sharpen_kernel_unsharp_mask",
    A,
    "sharpen_kernel",
    "convention",
    "The kernel is the unsharp mask of image-editing tutorials, 2 * identity minus the 3 x 3 "
    "box blur (17/9 in the centre, -1/9 everywhere else), instead of lecture 000's 5 in the "
    "centre and -1 on the four direct neighbours; it sums to 1 too, but its entries differ.",
    """
def sharpen_kernel():
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    blur = np.full((3, 3), 1 / 9)
    return 2 * identity - blur
""",
)

_m(
    "sobel_x_image_dtype_uint8",
    A,
    "sobel_x",
    "other",
    "The kernel is made with dtype=np.uint8, the dtype of image pixels, which cannot hold the "
    "negative weights: numpy refuses -1 with an OverflowError (older versions silently "
    "wrapped it to 255) instead of returning a float kernel.",
    """
def sobel_x():
    return np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.uint8)
""",
)

_m(
    "sobel_y_transpose_result_discarded",
    A,
    "sobel_y",
    "in_place",
    "K.transpose() is called as if it turned K in place (like list.sort()), but it returns a "
    "new transposed view and leaves K as it was, so sobel_y() returns sobel_x()'s "
    "vertical-edge kernel unchanged.",
    """
def sobel_y():
    K = sobel_x()
    K.transpose()
    return K
""",
)

_m(
    "box_blur_matlab_ones_arguments",
    A,
    "box_blur",
    "convention",
    "The array is made with np.ones(k, k), MATLAB's ones(k, k), but numpy takes the shape as "
    "ONE tuple and reads the second k as the dtype, so every call raises TypeError (the "
    "number is not a data type).",
    """
def box_blur(k):
    return np.ones(k, k) / k**2
""",
)

_m(
    "gaussian_separable_factors_added",
    A,
    "gaussian_kernel",
    "other",
    "The 1-D Gaussian g is turned into a 2-D kernel with g[:, None] + g[None, :], a sum, "
    "instead of the product g[:, None] * g[None, :] (exp(a + b) = exp(a) * exp(b)), so the "
    "kernel is a flat-topped cross rather than a round bell (it sums to 1, but its values are "
    "wrong).",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    g = np.exp(-(u**2) / (2 * sigma**2))
    G = g[:, None] + g[None, :]
    return G / G.sum()
""",
)

_m(
    "gaussian_sigma_times_two_rounded",
    A,
    "gaussian_kernel",
    "two_at_once",
    "Two slips: the exponent divides by 2 * sigma * 2 (a * typed for **), which is 4 sigma "
    "instead of 2 sigma**2 and only right for sigma = 2, and the normalised kernel is rounded "
    "to 3 decimals to look like the slide's fractions, so it no longer sums to exactly 1 and "
    "small weights become 0.",
    """
def gaussian_kernel(size, sigma):
    c = (size - 1) / 2
    u = np.arange(size) - c
    G = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma * 2))
    return np.round(G / G.sum(), 3)
""",
)

_m(
    "conv_true_rotates_result",
    A,
    "conv2d_true",
    "convention",
    "The 180 degree rotation is applied to the RESULT, corr2d(X, K)[::-1, ::-1], instead of to "
    "the kernel before correlating, which gives the cross-correlation upside down and "
    "mirrored, not the true convolution.",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode == "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, K)[::-1, ::-1]
""",
)

_m(
    "conv_true_mode_compared_with_is",
    A,
    "conv2d_true",
    "other",
    "The mode is compared with is instead of ==, which tests object identity: it happens to "
    "work for string literals typed in the call, but a mode built at run time (read from a "
    "setting, 'FULL'.lower(), a joined string) is another object, so a valid 'full' or "
    "'valid' raises ValueError (Python even warns with a SyntaxWarning).",
    """
def conv2d_true(X, K, mode="valid"):
    KH, KW = K.shape
    if mode is "full":
        X = np.pad(X, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    elif mode is not "valid":
        raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")
    return corr2d(X, K[::-1, ::-1])
""",
)

_m(
    "as_matrix_row_counter_in_kernel_row_loop",
    A,
    "corr2d_as_matrix",
    "other",
    "The row counter r += 1 is indented into the loop over kernel rows, so it advances KH times "
    "per output pixel instead of once: each kernel row lands in a different row of M and the "
    "counter runs past the last row (IndexError) for any kernel taller than one row.",
    """
def corr2d_as_matrix(input_shape, K):
    H, W = input_shape
    KH, KW = K.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    M = np.zeros((H_out * W_out, H * W))
    r = 0
    for i in range(H_out):
        for j in range(W_out):
            for a in range(KH):
                for b in range(KW):
                    M[r, (i + a) * W + (j + b)] = K[a, b]
                r += 1
    return M
""",
)

del A


# ---------------------------------------------------------------------------------------
# 02_padding_stride
# ---------------------------------------------------------------------------------------
A = "02_padding_stride"

_m(
    "output_size_remainder_for_floor_division",
    A,
    "output_size",
    "other",
    "The floor division is typed as % (the remainder) instead of //, so the function returns "
    "the leftover pixels plus one, which is 1 for every stride-1 layer.",
    """
def output_size(n, k, *, padding=0, stride=1):
    return (n + 2 * padding - k) % stride + 1
""",
)

_m(
    "output_size_total_halved_with_true_division",
    A,
    "output_size_total",
    "rounding",
    "The total padding is halved with / and handed to output_size as per-side padding: the "
    "count is right, even for an odd total, but the float padding makes the result a float "
    "(such as 5.0) instead of the int the docstring asks for, which np.zeros and range() "
    "refuse.",
    """
def output_size_total(n, k, *, total_padding=0, stride=1):
    return output_size(n, k, padding=total_padding / 2, stride=stride)
""",
)

_m(
    "pad2d_copy_slice_open_at_the_end",
    A,
    "pad2d",
    "other",
    "X is copied in with Y[top:, left:] = X, slices left open at the end, which reach to the "
    "bottom and right edges of Y, so whenever there is padding below or to the right the "
    "target is larger than X and the assignment raises a broadcasting error.",
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
    Y[top:, left:] = X
    return Y
""",
)

_m(
    "same_padding_parity_of_kernel_not_total",
    A,
    "same_padding",
    "off_by_one",
    "The extra zero before is added when k is odd (total // 2 + k % 2) instead of when the "
    "total k - 1 is odd, a parity test one off: odd kernels get one zero too many before, "
    "even kernels none, and before + after is never k - 1.",
    """
def same_padding(k):
    total = k - 1
    before = total // 2 + k % 2
    after = total // 2
    return before, after
""",
)

_m(
    "padded_subsampled_from_one_based_start",
    A,
    "corr2d_padded",
    "convention",
    "The stride-1 output is computed and then subsampled with Y_full[sh - 1::sh, sw - 1::sw], "
    "MATLAB's s:s:end counted from 1, so the kept windows start at corner (sh - 1, sw - 1) "
    "instead of (0, 0): with a stride above 1 every value comes from the wrong window and "
    "the output can be a row or a column short.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_full = Xp.shape[0] - KH + 1
    W_full = Xp.shape[1] - KW + 1
    Y_full = np.zeros((H_full, W_full))
    for i in range(H_full):
        for j in range(W_full):
            Y_full[i, j] = np.sum(Xp[i : i + KH, j : j + KW] * K)
    return Y_full[sh - 1 :: sh, sw - 1 :: sw]
""",
)

_m(
    "padded_width_without_column_stride",
    A,
    "corr2d_padded",
    "missing_term",
    "The number of output columns is computed with output_size(Xp.shape[1], KW), the "
    "stride=sw argument dropped when the line above was copied, so with a column stride "
    "above 1 there are extra columns whose windows run off the padded input and the product "
    "with K raises a broadcasting error.",
    """
def corr2d_padded(X, K, *, padding=0, stride=1):
    Xp = pad2d(X, padding)
    sh, sw = as_pair(stride)
    KH, KW = K.shape
    H_out = output_size(Xp.shape[0], KH, stride=sh)
    W_out = output_size(Xp.shape[1], KW)
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K)
    return Y
""",
)

_m(
    "dilated_stride_given_the_dilation",
    A,
    "corr2d_dilated",
    "other",
    "corr2d_padded is called with stride=dilation (the name copied from the line that builds "
    "the dilated kernel) instead of stride=stride, so the window moves by the dilation and "
    "the stride argument is ignored: right only when the two are equal.",
    """
def corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1):
    dh, dw = as_pair(dilation)
    KH, KW = K.shape
    K_dilated = np.zeros((dh * (KH - 1) + 1, dw * (KW - 1) + 1))
    K_dilated[::dh, ::dw] = K
    return corr2d_padded(X, K_dilated, padding=padding, stride=dilation)
""",
)

del A


# ---------------------------------------------------------------------------------------
# 03_channels
# ---------------------------------------------------------------------------------------
A = "03_channels"

_m(
    "multi_in_sum_started_like_one_input_channel",
    A,
    "corr2d_multi_in",
    "shape_assumption",
    "The sum is started as np.zeros_like(X[0]), the size of one INPUT channel (H, W), so "
    "adding the smaller (H - KH + 1, W - KW + 1) maps to it raises a broadcasting error for "
    "any kernel larger than 1 x 1.",
    """
def corr2d_multi_in(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    Y = np.zeros_like(X[0])
    for c in range(X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y
""",
)

_m(
    "multi_in_out_maps_list_of_one_array",
    A,
    "corr2d_multi_in_out",
    "in_place",
    "The output maps start as [np.zeros((H_out, W_out))] * C_out, a list that holds the SAME "
    "array C_out times, so Y[o] += ... adds every output channel into that one array and all "
    "C_out maps come back equal to the sum of all the filters' maps.",
    """
def corr2d_multi_in_out(X, K):
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    H_out, W_out = X.shape[1] - KH + 1, X.shape[2] - KW + 1
    Y = [np.zeros((H_out, W_out))] * C_out
    for o in range(C_out):
        Y[o] += corr2d_multi_in(X, K[o])
    return np.stack(Y)
""",
)

_m(
    "conv1x1_float_conversion_left_out",
    A,
    "conv1x1",
    "other",
    "The np.asarray(..., dtype=float) lines are left out, so an integer image with integer "
    "weights gives an integer array instead of floats, and an input given as nested lists has "
    "no .shape (AttributeError).",
    """
def conv1x1(X, K):
    C_in, H, W = X.shape
    C_out = K.shape[0]
    K2 = K.reshape(C_out, C_in)
    Y2 = K2 @ X.reshape(C_in, H * W)
    return Y2.reshape(C_out, H, W)
""",
)

_m(
    "conv_params_bias_per_kernel_slice",
    A,
    "conv_params",
    "other",
    "One bias is counted per 2-D kernel slice, C_out * C_in * (KH * KW + 1), as if every pair "
    "of output and input channels were a corr2d_bias of Exercise 1.3 with its own bias, "
    "instead of one bias per output channel.",
    """
def conv_params(C_in, C_out, KH, KW, *, bias=True):
    per_slice = KH * KW + (1 if bias else 0)
    return C_out * C_in * per_slice
""",
)

_m(
    "conv_mults_per_filter_by_true_division",
    A,
    "conv_mults",
    "rounding",
    "The multiplications per output value are taken as conv_params(..., bias=False) / C_out, "
    "the weights of one filter, with true division, so the count is right but comes back as a "
    "float (352800.0) instead of the int the docstring asks for.",
    """
def conv_mults(C_in, C_out, KH, KW, H_out, W_out):
    per_output = conv_params(C_in, C_out, KH, KW, bias=False) / C_out
    return C_out * H_out * W_out * per_output
""",
)

_m(
    "vectorized_channels_moved_by_reshape",
    A,
    "conv2d_vectorized",
    "wrong_axis",
    "The tensordot result has shape (H_out, W_out, C_out) and is brought to channels first "
    "with reshape(C_out, H_out, W_out) instead of a transpose, but a reshape never moves "
    "axes: the numbers are read in the old order, so every map is scrambled whenever "
    "C_out > 1.",
    """
def conv2d_vectorized(X, K):
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    C_out, C_in, KH, KW = K.shape
    windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(1, 2))
    Y = np.tensordot(windows, K, axes=([0, 3, 4], [1, 2, 3]))
    return Y.reshape(C_out, Y.shape[0], Y.shape[1])
""",
)

del A


# ---------------------------------------------------------------------------------------
# 04_pooling
# ---------------------------------------------------------------------------------------
A = "04_pooling"

_m(
    "pool2d_mode_check_joined_with_or",
    A,
    "pool2d",
    "other",
    "The mode check is written mode != 'max' or mode != 'avg', which is true for every mode "
    "(no string equals both), so the function raises ValueError for 'max' and 'avg' too.",
    """
def pool2d(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    if mode != "max" or mode != "avg":
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
    "pool_channels_result_overwritten_in_loop",
    A,
    "pool2d_channels",
    "other",
    "Y = pool2d(...) inside the loop replaces the previous channel's map on every pass, and "
    "np.stack(Y) then stacks the ROWS of the last map, so the function returns only the last "
    "channel pooled, shape (H_out, W_out), instead of all C channels.",
    """
def pool2d_channels(X, size, *, stride=None, padding=0, mode="max"):
    X = np.asarray(X, dtype=float)
    for c in range(X.shape[0]):
        Y = pool2d(X[c], size, stride=stride, padding=padding, mode=mode)
    return np.stack(Y)
""",
)

_m(
    "grad_mask_returned_as_booleans",
    A,
    "maxpool_grad_mask",
    "other",
    "The counts are computed correctly but returned as mask > 0, a boolean 'mask' of the "
    "inputs that win at least once, so an input that wins several overlapping windows shows "
    "True instead of its count, and the result is not the float gradient of the sum.",
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
            mask[i * SH + p, j * SW + q] += 1
    return mask > 0
""",
)

del A


# ---------------------------------------------------------------------------------------
# 05_backprop
# ---------------------------------------------------------------------------------------
A = "05_backprop"

_m(
    "numgrad_return_inside_loop",
    A,
    "numerical_gradient",
    "other",
    "return grad is indented into the loop, so the function returns after the first entry: "
    "only the first entry of grad is filled and every other one stays 0.",
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
        grad[i] = (f_plus - f_minus) / (2 * h)
        return grad
""",
)

_m(
    "numgrad_flat_index_counted_from_one",
    A,
    "numerical_gradient",
    "off_by_one",
    "The entries are visited through x.flat with indices 1 to x.size, counted from 1 as in "
    "MATLAB, so the first entry is never perturbed (its gradient stays 0) and the last index, "
    "x.size, is past the end of the array (IndexError).",
    """
def numerical_gradient(f, x, *, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(1, x.size + 1):
        old = x.flat[i]
        x.flat[i] = old + h
        f_plus = f(x)
        x.flat[i] = old - h
        f_minus = f(x)
        x.flat[i] = old
        grad.flat[i] = (f_plus - f_minus) / (2 * h)
    return grad
""",
)

_m(
    "rel_error_numpy_scalar_norm_of_summed_difference",
    A,
    "rel_error",
    "two_at_once",
    "Two slips: the elementwise branch returns np.max(...) without float(), a numpy.float64 "
    "instead of the Python float the exercise asks for, and the norm branch's numerator is "
    "np.sqrt(np.sum(a - b) ** 2), the size of the SUMMED difference (the square applied after "
    "the sum) instead of the norm of the differences, so errors of opposite sign cancel.",
    """
def rel_error(a, b, *, kind="elementwise", eps=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if kind == "elementwise":
        return np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps))
    return float(np.sqrt(np.sum(a - b) ** 2) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))
""",
)

_m(
    "conv_fwd_tensordot_axes_three",
    A,
    "conv2d_forward",
    "wrong_axis",
    "The window and the filters are contracted with np.tensordot(window, w, axes=3), which "
    "pairs the window's last three axes (C_in, KH, KW) with the FIRST three axes of w "
    "(C_out, C_in, KH) instead of its last three, so it raises a shape mismatch (and where the "
    "sizes happen to agree it mixes up filters and rows).",
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
            out[:, :, i, j] = np.tensordot(window, w, axes=3) + b
    cache = (x, w, b, stride, padding)
    return out, cache
""",
)

_m(
    "conv_fwd_float32_output_cache_settings_swapped",
    A,
    "conv2d_forward",
    "two_at_once",
    "Two slips: the output is allocated as float32 ('what torch uses'), so the layer returns "
    "values rounded to about 7 digits instead of the float64 the docstring asks for, and the "
    "cache is stored as (x, w, b, padding, stride), stride and padding in the wrong order for "
    "the (x, w, b, stride, padding) that conv2d_backward unpacks.",
    """
def conv2d_forward(x, w, b, *, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out), dtype=np.float32)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + KH, j * s : j * s + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, padding, stride)
    return out, cache
""",
)

_m(
    "conv_bwd_returns_db_before_dw",
    A,
    "conv2d_backward",
    "other",
    "The gradients are returned as (dx, db, dw) instead of (dx, dw, db), the order of the "
    "docstring that every caller unpacks, so the caller's dw is the (C_out,) bias gradient "
    "and its db the filter gradient.",
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
    dx = dxp[:, :, p : p + H, p : p + W]
    return dx, db, dw
""",
)

_m(
    "conv_bwd_buffers_take_input_dtype",
    A,
    "conv2d_backward",
    "rounding",
    "The gradient buffers are made with np.zeros_like(xp) and np.zeros_like(w), which copy "
    "the dtype: for an integer input batch dxp is an integer array, and adding the float "
    "contributions into it with += raises a casting error (UFuncTypeError).",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.zeros_like(w)
    dxp = np.zeros_like(xp)
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
    "conv_bwd_bias_placeholder_left_in",
    A,
    "conv2d_backward",
    "missing_term",
    "The placeholder db = np.zeros_like(b), which the exercise suggests while a gradient is "
    "not written yet, is left in, so db is all zeros (the bias would never learn) while dx "
    "and dw are right.",
    """
def conv2d_backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    db = np.zeros_like(b)
    dw = np.zeros(w.shape)
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
    "maxpool_fwd_argmax_as_input_flat_index",
    A,
    "maxpool2d_forward",
    "convention",
    "argmax stores each winner as a flat index into the whole H x W input, as torch's "
    "max_pool2d(..., return_indices=True) does, instead of the index within the window "
    "(0 to k*k - 1) that the exercise asks for, so maxpool2d_backward, which decodes it with "
    "divmod(..., k), sends the gradient to the wrong place.",
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
            p, q = np.divmod(np.argmax(window, axis=2), k)
            argmax[:, :, i, j] = (i * s + p) * W + (j * s + q)
            out[:, :, i, j] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_fwd_argmax_over_channels",
    A,
    "maxpool2d_forward",
    "wrong_axis",
    "argmax is taken over axis=1, the channel axis of the (N, C, k*k) windows, instead of "
    "axis=2, the window's entries, so it has shape (N, k*k) and storing it raises unless C "
    "happens to equal k*k (and then it holds channel numbers, not window positions).",
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
            argmax[:, :, i, j] = np.argmax(window, axis=1)
            out[:, :, i, j] = np.max(window, axis=2)
    cache = (x.shape, k, s, argmax)
    return out, cache
""",
)

_m(
    "maxpool_bwd_input_size_rebuilt_from_dout",
    A,
    "maxpool2d_backward",
    "shape_assumption",
    "dx is allocated as (N, C, H_out * s, W_out * s), the input size rebuilt from dout, "
    "instead of the input's own (N, C, H, W) from the cache, which only agrees when the "
    "windows tile the input exactly: when the stride does not fit dx is too small, and with "
    "overlapping windows the last winners fall outside it (IndexError).",
    """
def maxpool2d_backward(dout, cache):
    _, k, s, argmax = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros((N, C, H_out * s, W_out * s))
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], k)
            dx[n, c, i * s + p, j * s + q] += dout[:, :, i, j]
    return dx
""",
)

_m(
    "avgpool_fwd_cache_keeps_stride_none",
    A,
    "avgpool2d_forward",
    "other",
    "The cache stores the stride argument as it was given, None for the default, instead of "
    "the stride actually used (s = k), so avgpool2d_backward computes i * None and raises "
    "TypeError for every layer built with the default stride.",
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
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].mean(axis=(2, 3))
    cache = (x.shape, k, stride, p)
    return out, cache
""",
)

_m(
    "avgpool_fwd_mean_over_channels_and_rows",
    A,
    "avgpool2d_forward",
    "wrong_axis",
    "Each window's mean is taken over axes (1, 2), the channels and the window's rows, "
    "instead of (2, 3), its rows and columns, so it has shape (N, k) and storing it into "
    "out[:, :, i, j] raises unless k equals C (and then channels are averaged together).",
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
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].mean(axis=(1, 2))
    cache = (x.shape, k, s, p)
    return out, cache
""",
)

_m(
    "avgpool_bwd_buffer_padded_on_every_axis",
    A,
    "avgpool2d_backward",
    "wrong_axis",
    "The padded gradient buffer is made with np.pad(np.zeros((N, C, H, W)), p), and np.pad "
    "with a single number pads EVERY axis, so with padding the buffer has N + 2p images and "
    "C + 2p channels and adding each window's (N, C) share to it raises a broadcasting error.",
    """
def avgpool2d_backward(dout, cache):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.pad(np.zeros((N, C, H, W)), p)
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
    "init_bound_floor_division",
    A,
    "init_lenet",
    "rounding",
    "The bound is written 1 // np.sqrt(fan_in), floor division, which is 0 for every fan_in "
    "above 1, so every weight and bias is drawn from U(0, 0) and the network starts with all "
    "its parameters exactly 0.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 // np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "init_bias_column_vector",
    A,
    "init_lenet",
    "shape_assumption",
    "Each bias is drawn with size=(C_out, 1), a column vector as in the y = W x + b of "
    "linear-algebra notes, instead of shape (C_out,): the numbers are the right ones, but the "
    "shapes are not the docstring's and such a bias broadcasts wrongly against an (N, C_out) "
    "output.",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[1:]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=(w_shape[0], 1))
    return params
""",
)

_m(
    "init_fan_in_keras_layout",
    A,
    "init_lenet",
    "convention",
    "fan_in is the product of every axis but the last, np.prod(w_shape[:-1]), the rule for "
    "Keras/TensorFlow layouts (kernels (KH, KW, C_in, C_out), dense weights (in, out)), but "
    "these arrays are in PyTorch's layout with the output axis FIRST, so every bound is wrong "
    "(fc1 uses 120 inputs instead of 400).",
    """
def init_lenet(seed=0):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}
    rng = np.random.default_rng(seed)
    params = {}
    for layer, w_shape in shapes.items():
        bound = 1 / np.sqrt(np.prod(w_shape[:-1]))
        params[f"{layer}.weight"] = rng.uniform(-bound, bound, size=w_shape)
        params[f"{layer}.bias"] = rng.uniform(-bound, bound, size=w_shape[0])
    return params
""",
)

_m(
    "forward_caches_appended_to_list",
    A,
    "lenet_forward",
    "other",
    "The twelve caches are appended to a list, in the right order, instead of stored in a "
    "dict under the names the docstring lists ('conv1', 'relu1', ...), so the logits are "
    "right but lenet_backward cannot look any cache up by name.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, []
    h, cache = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    caches.append(cache)
    h, cache = layers.relu_forward(h)
    caches.append(cache)
    h, cache = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    caches.append(cache)
    h, cache = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    caches.append(cache)
    h, cache = layers.relu_forward(h)
    caches.append(cache)
    h, cache = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    caches.append(cache)
    h, cache = layers.flatten_forward(h)
    caches.append(cache)
    h, cache = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    caches.append(cache)
    h, cache = layers.relu_forward(h)
    caches.append(cache)
    h, cache = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    caches.append(cache)
    h, cache = layers.relu_forward(h)
    caches.append(cache)
    logits, cache = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    caches.append(cache)
    return logits, caches
""",
)

_m(
    "forward_conv1_padding_as_pair",
    A,
    "lenet_forward",
    "convention",
    "conv1 is called with padding=(2, 2), the pair form of nn.Conv2d, but the layers of "
    "assignment 5 take padding as one int, so the layer's padding arithmetic receives a tuple "
    "and the call raises.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"],
                                               padding=(2, 2))
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
    "forward_flatten_key_short_no_relu_after_fc2",
    A,
    "lenet_forward",
    "two_at_once",
    "Two slips: the flatten's cache is stored under 'flat' instead of 'flatten', so the "
    "backward pass finds no 'flatten' entry, and the ReLU after fc2 is left out (no 'relu4' "
    "cache), so negative fc2 outputs reach fc3 and the logits are wrong.",
    """
def lenet_forward(params, x, layers):
    p, caches = params, {}
    h, caches["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, caches["relu1"] = layers.relu_forward(h)
    h, caches["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, caches["relu2"] = layers.relu_forward(h)
    h, caches["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, caches["flat"] = layers.flatten_forward(h)
    h, caches["fc1"] = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    h, caches["relu3"] = layers.relu_forward(h)
    h, caches["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    logits, caches["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, caches
""",
)

_m(
    "backward_relu_applied_to_gradient",
    A,
    "lenet_backward",
    "other",
    "Every ReLU is undone with layers.relu_forward(d), the ReLU applied to the GRADIENT (keep "
    "the positive gradients), instead of layers.relu_backward(d, cache), which keeps the "
    "gradient where the forward INPUT was positive, so negative gradients of active units are "
    "dropped and positive ones of inactive units get through.",
    """
def lenet_backward(dlogits, caches, layers):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d, _ = layers.relu_forward(d)
    d, g["fc2.weight"], g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
    d, _ = layers.relu_forward(d)
    d, g["fc1.weight"], g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
    d = layers.flatten_backward(d, c["flatten"])
    d = layers.maxpool2d_backward(d, c["pool2"])
    d, _ = layers.relu_forward(d)
    d, g["conv2.weight"], g["conv2.bias"] = layers.conv2d_backward(d, c["conv2"])
    d = layers.maxpool2d_backward(d, c["pool1"])
    d, _ = layers.relu_forward(d)
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    return g
""",
)

_m(
    "ce_grad_rows_picked_by_label",
    A,
    "softmax_cross_entropy",
    "other",
    "The 1 is subtracted with dlogits[y] -= 1, which picks whole ROWS by the label values "
    "(row y[n] loses 1 in every entry) instead of the entry (n, y[n]) of each row, so the "
    "gradient is wrong, and a label larger than N - 1 raises IndexError.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "ce_grad_divided_before_subtracting",
    A,
    "softmax_cross_entropy",
    "other",
    "The probabilities are divided by N first and the 1 is subtracted afterwards, so the "
    "gradient is softmax / N - onehot instead of (softmax - onehot) / N: the label entries "
    "are about N times too large (right only for a batch of one).",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p) / N
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits
""",
)

_m(
    "ce_row_max_added_not_subtracted",
    A,
    "softmax_cross_entropy",
    "sign",
    "The row maximum is ADDED instead of subtracted (logits + max), a sign slip that cancels "
    "in the algebra but makes every exponent larger instead of at most 0, so logits in the "
    "hundreds overflow np.exp to inf and the loss and gradient become nan.",
    """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = logits + logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
""",
)

_m(
    "sgd_steps_with_gradient_not_velocity",
    A,
    "sgd_step",
    "missing_term",
    "The velocity is updated correctly, but the parameter steps with lr * d, the current "
    "gradient, instead of lr * v, so the momentum is computed and never used: every step is "
    "plain SGD with weight decay.",
    """
def sgd_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for name, p in params.items():
        d = grads[name] + weight_decay * p
        velocity[name] *= momentum
        velocity[name] += d
        p -= lr * d
""",
)

_m(
    "train_batches_from_array_split",
    A,
    "train_epoch",
    "other",
    "The shuffled order is cut with np.array_split(order, N // batch_size), which makes "
    "N // batch_size batches of nearly equal size, not batches of batch_size: with a "
    "remainder they are larger than batch_size (10 examples at batch_size 4 give two batches "
    "of 5), and N < batch_size asks for 0 sections and raises.",
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
    for idx in np.array_split(order, N // batch_size):
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
    "train_batch_end_inclusive_accuracy_batch_means",
    A,
    "train_epoch",
    "two_at_once",
    "Two slips: each batch is cut as order[start:start + batch_size - 1], as if slice ends "
    "were inclusive, so one example per batch is never trained on or counted, and each batch "
    "adds its accuracy as a mean, (argmax == label).mean(), which is then divided by N, so "
    "'acc' is the sum of the batch accuracies over N instead of the fraction of correct "
    "examples.",
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
        idx = order[start:start + batch_size - 1]
        logits, caches = forward(params, X[idx], layers)
        loss, dlogits = layers.softmax_cross_entropy(logits, y[idx])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total_loss += float(loss) * len(idx)
        correct += (logits.argmax(axis=1) == y[idx]).mean()
    return {"loss": total_loss / N, "acc": correct / N}
""",
)

_m(
    "evaluate_np_split_into_batch_size_pieces",
    A,
    "evaluate",
    "other",
    "The images are cut with np.split(X, batch_size), which splits into batch_size PIECES, "
    "not into pieces of batch_size images, and requires N to divide evenly: with a smaller "
    "last batch it raises ValueError, and otherwise it runs the forward pass on batch_size "
    "small batches instead.",
    """
def evaluate(params, X, y, layers, *, batch_size=500, forward=None):
    forward = forward or lenet_forward
    N = len(y)
    total_loss, correct = 0.0, 0
    for xb, yb in zip(np.split(X, batch_size), np.split(y, batch_size)):
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
    "make_lenet_repeated_layer_names",
    A,
    "make_lenet_torch",
    "other",
    "Every activation is named 'act' and every pooling 'pool', but an OrderedDict keeps one "
    "entry per key: each later layer replaces the earlier one in its first position, so the "
    "network is conv1, act, pool, conv2, flatten, fc1, fc2, fc3 and fc1 receives "
    "16 * 10 * 10 = 1600 features instead of 400 (it raises).",
    """
def make_lenet_torch(variant="relu-max"):
    if variant not in ("relu-max", "sigmoid-avg"):
        raise ValueError(f"variant must be 'relu-max' or 'sigmoid-avg'; got {variant!r}")
    Act = nn.ReLU if variant == "relu-max" else nn.Sigmoid
    Pool = nn.MaxPool2d if variant == "relu-max" else nn.AvgPool2d
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)),
        ("act", Act()),
        ("pool", Pool(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act", Act()),
        ("pool", Pool(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(400, 120)),
        ("act", Act()),
        ("fc2", nn.Linear(120, 84)),
        ("act", Act()),
        ("fc3", nn.Linear(84, 10)),
    ]))
""",
)

_m(
    "make_lenet_variant_dict_lookup_activation_after_fc3",
    A,
    "make_lenet_torch",
    "two_at_once",
    "Two slips: the variant is looked up in a dict, so an unknown variant raises KeyError "
    "instead of the ValueError the docstring asks for, and an activation is also put after "
    "fc3 ('an activation after every layer'), so the model returns ReLU'd or squashed scores "
    "instead of raw logits.",
    """
def make_lenet_torch(variant="relu-max"):
    kinds = {"relu-max": (nn.ReLU, nn.MaxPool2d), "sigmoid-avg": (nn.Sigmoid, nn.AvgPool2d)}
    Act, Pool = kinds[variant]
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
        ("act5", Act()),
    ]))
""",
)

_m(
    "load_params_paired_by_position",
    A,
    "load_numpy_params",
    "other",
    "The arrays are paired with the parameters by position, zip(model.named_parameters(), "
    "params.values()), instead of being looked up by name, so a dict in another order (sorted "
    "names, or a backward pass's reverse order) puts arrays on the wrong parameters (a "
    "ValueError about shapes, or silently wrong values where the shapes agree), and a missing "
    "name is never reported with KeyError.",
    """
def load_numpy_params(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for (name, param), array in zip(model.named_parameters(), params.values()):
            array = np.asarray(array)
            if array.shape != tuple(param.shape):
                raise ValueError(f"{name}: the array has shape {array.shape}, the parameter "
                                 f"{tuple(param.shape)}")
            param.copy_(torch.from_numpy(array))
    return model
""",
)

_m(
    "train_torch_accuracy_from_updated_model",
    A,
    "train_epoch_torch",
    "other",
    "The accuracy is measured with a second forward pass, model(x), after opt.step(), so each "
    "batch is scored by the already updated model instead of with the logits of its own "
    "forward pass before the update, as the docstring asks (and every batch costs an extra "
    "forward pass).",
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
        with torch.no_grad():
            correct += (model(x).argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "train_torch_optimizer_never_steps",
    A,
    "train_epoch_torch",
    "missing_term",
    "opt.step() is never called: the gradients are computed and zeroed batch after batch, "
    "but the parameters never change, so the epoch trains nothing and reports the loss and "
    "accuracy of the untrained model.",
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
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_batches_through_from_numpy",
    A,
    "evaluate_torch",
    "other",
    "The batches are converted with torch.from_numpy(x), which only accepts numpy arrays, so "
    "batches that already are tensors (which the docstring allows) raise TypeError instead of "
    "being used as they are.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.from_numpy(x).to(device)
            y = torch.from_numpy(y).to(device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_examples_counted_in_first_pass",
    A,
    "evaluate_torch",
    "shape_assumption",
    "The examples are counted in a first pass over batches before the evaluation loop, which "
    "works for a list but exhausts a generator such as course.data.batches: the evaluation "
    "loop then sees no batch at all and the function returns loss 0.0 and accuracy 0.0.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    count = sum(len(y) for _, y in batches)
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

_m(
    "eval_torch_softmax_by_hand_unshifted",
    A,
    "evaluate_torch",
    "stability",
    "The loss is written out by hand as -log(exp(z_y) / sum(exp(z))) without subtracting each "
    "row's maximum, so a logit above about 88 overflows torch.exp to inf in float32 and the "
    "loss becomes nan, where F.cross_entropy stays exact.",
    """
def evaluate_torch(model, batches, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            x = torch.as_tensor(x, device=device)
            y = torch.as_tensor(y, device=device)
            logits = model(x)
            p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
            total_loss += -torch.log(p[torch.arange(len(y)), y]).sum().item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    return {"loss": total_loss / count, "acc": correct / count}
""",
)

del A

SPLIT: dict[str, str] = {m["id"]: "held_out" for m in MISTAKES}

assert len({m["id"] for m in MISTAKES}) == len(MISTAKES), "duplicate ids"
