"""Mistakes that no catalogue entry describes, named by deriving wrong answers from the
right one (`course.checks._mutate`), one test per family; and never a guess."""

from __future__ import annotations

import numpy as np
import pytest

import solutions
from course.checks import (
    Case,
    CheckFailed,
    backprop,
    channels,
    check,
    conv,
    lenet,
    padding,
    pooling,
)


def _named(check, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    return info.value


def corr2d_square_input(X, K):  # shape assumption: W taken to be H
    H = X.shape[0]
    return solutions.corr2d(X[:, :H], K)


def corr2d_bias_minus(X, K, b):  # sign: the bias subtracted
    return solutions.corr2d(X, K) - b


def padded_stride_for_size_only(X, K, *, padding=0, stride=1):  # off by one: windows
    full = solutions.corr2d_padded(X, K, padding=padding, stride=1)
    right = solutions.corr2d_padded(X, K, padding=padding, stride=stride)
    return full[: right.shape[0], : right.shape[1]]


def multi_in_out_squeezed(X, K):  # shape assumption: C_out = 1 dropped
    return np.squeeze(solutions.corr2d_multi_in_out(X, K))


def pool2d_square(X, size, *, stride=None, padding=0, mode="max"):  # size (2, 3) -> (2, 2)
    k = size[0] if isinstance(size, tuple) else size
    s = stride if stride is not None else (k if isinstance(size, tuple) else size)
    return solutions.pool2d(
        X, (k, k) if isinstance(size, tuple) else k, stride=s, padding=padding, mode=mode
    )


def padded_kernel_read_columns_first(X, K, *, padding=0, stride=1):  # convention: K[b, a]
    K = np.ascontiguousarray(np.asarray(K).T)
    return solutions.corr2d_padded(X, K, padding=padding, stride=stride)


def sgd_ascent(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):  # sign: lr
    _sgd(params, grads, velocity, -lr, momentum, weight_decay)


def _sgd(params, grads, velocity, lr, mu, wd):
    for k in params:
        d = grads[k] + wd * params[k]
        if mu:
            velocity[k][...] = mu * velocity[k] + d
            d = velocity[k]
        params[k][...] = params[k] - lr * d


def corr2d_flipped_and_transposed(X, K):  # two at once: a flipped kernel, a transposed result
    return solutions.corr2d(X, K[::-1, ::-1]).T


def corr2d_loops_one_short(X, K):  # off by one: the last row and column stay zero
    H, W = X.shape
    kh, kw = K.shape
    Y = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(H - kh):
        for j in range(W - kw):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y


def multi_in_last_channel_skipped(X, K):  # off by one: range(C - 1)
    X, K = np.asarray(X, float), np.asarray(K, float)
    out = np.zeros((X.shape[1] - K.shape[1] + 1, X.shape[2] - K.shape[2] + 1))
    for c in range(X.shape[0] - 1):
        out += solutions.corr2d(X[c], K[c])
    return out


def pool_channels_forgets_options(X, size, *, stride=None, padding=0, mode="max"):
    return np.stack([solutions.pool2d(x, size) for x in np.asarray(X, float)])


def conv1x1_reshape_not_transpose(X, K):  # convention: reshape where a transpose is needed
    X, K = np.asarray(X, float), np.asarray(K, float)
    C, H, W = X.shape
    rows = X.reshape(H * W, C)  # as if the memory were (H, W, C)
    return (rows @ K[:, :, 0, 0].T).reshape(K.shape[0], H, W)


def conv_backward_dx_one_sided(dout, cache):  # off by padding: dx lacks its last p rows
    dx, dw, db = solutions.conv2d_backward(dout, cache)
    p = cache.padding[0][0]
    return (dx[..., :-p, :-p] if p else dx), dw, db


FAMILIES = [
    ("shape_assumption", conv.check_corr2d, corr2d_square_input, "auto:X_square", "assumed square"),
    (
        "sign",
        conv.check_corr2d_bias,
        corr2d_bias_minus,
        "auto:b_negated",
        "b entered with the wrong sign",
    ),
    (
        "off_by_one",
        padding.check_corr2d_padded,
        padded_stride_for_size_only,
        "auto:stride_size_only",
        "still move one position",
    ),
    (
        "shape_assumption",
        channels.check_corr2d_multi_in_out,
        multi_in_out_squeezed,
        "auto:squeezed",
        "axis of length 1 was dropped",
    ),
    (
        "convention",
        padding.check_corr2d_padded,
        padded_kernel_read_columns_first,
        "auto:K_transposed",
        "K was used transposed",
    ),
    ("sign", lenet.check_sgd_step, sgd_ascent, "auto:lr:negated", "lr entered with the wrong sign"),
    (
        "off_by_one",
        conv.check_corr2d,
        corr2d_loops_one_short,
        "auto:last_row_col_zero",
        "the last row and column of the result stayed at zero",
    ),
    (
        "off_by_one",
        channels.check_corr2d_multi_in,
        multi_in_last_channel_skipped,
        "auto:X_slice_-1_skipped",
        "the last slice along axis 0",
    ),
    (
        "missing_term",
        pooling.check_pool2d_channels,
        pool_channels_forgets_options,
        "auto:options_ignored",
        "were all ignored",
    ),
    (
        "convention",
        channels.check_conv1x1,
        conv1x1_reshape_not_transpose,
        # the catalogue's entry for the output half, made on a derived input change
        "output_reshaped_wrong+auto:X_reshaped_channels_last",
        "reshape is not a transpose",
    ),
]


def test_a_crop_off_by_the_padding_is_named():
    err = _named(
        backprop.check_conv2d_backward,
        solutions.conv2d_forward,
        conv_backward_dx_one_sided,
        part="dx",
    )
    assert err.mistake == "auto:cropped_by:padding", str(err)
    assert "lacks its last padding rows and columns" in " ".join(str(err).split())


@pytest.mark.parametrize(
    ("family", "check", "student", "key", "says"), FAMILIES, ids=[f[2].__name__ for f in FAMILIES]
)
def test_a_mistake_outside_the_catalogue_is_named(family, check, student, key, says):
    err = _named(check, student)
    assert err.mistake == key, str(err)
    assert "It looks like" in str(err) and says in " ".join(str(err).split())


def test_a_square_window_assumption_is_named():
    err = _named(pooling.check_pool2d, pool2d_square, mode="max")
    assert err.mistake == "auto:size_square", str(err)


def test_two_mistakes_at_once_are_named_together():
    err = _named(conv.check_corr2d, corr2d_flipped_and_transposed)
    # The catalogue's own entry for the transpose wins the tie with the derived one.
    assert err.mistake == "rows_cols_swapped+auto:K_flipped", str(err)
    assert "two things at once" in " ".join(str(err).split())


def test_a_size_factor_is_named_only_when_it_tracks_the_size():
    """A result N times too large on cases whose N differs: a sum where a mean was meant.
    A constant factor that happens to equal N on every case gets no such story."""
    rng = np.random.default_rng(1)
    cases = [Case(f"N = {n}", (rng.standard_normal((n, 3)),), None) for n in (2, 3, 5)]
    cases = [Case(c.label, c.args, c.args[0].mean(axis=0)) for c in cases]

    def summed(x):
        return x.sum(axis=0)

    err = _named(check, summed, name="column_means", cases=cases)
    assert err.mistake == "auto:scaled_by:the length of axis 0 of x", str(err)
    assert "summed where a mean was meant" in " ".join(str(err).split())

    same_n = [Case(c.label, (c.args[0][:2],), c.args[0][:2].mean(axis=0)) for c in cases]
    err = _named(check, summed, name="column_means", cases=same_n)
    assert err.mistake == "auto:scaled"  # 2 times, and nothing more is claimed


@pytest.mark.usefixtures("without_repair")
def test_never_a_guess_noise_and_a_partial_match_stay_unnamed():
    """What the outputs alone say: nothing. (The repair search, which edits the code,
    rightly names `sign_on_one_case_only`'s two slips: the minus and the + 0.25.)"""
    rng = np.random.default_rng(5)

    def noisy(X, K):
        out = solutions.corr2d(X, K)
        return out + rng.standard_normal(out.shape)

    assert _named(conv.check_corr2d, noisy).mistake is None

    def sign_on_one_case_only(X, K):  # negated only for the first (lecture) case
        out = solutions.corr2d(X, K)
        return -out if X.shape == (3, 3) else out + 0.25

    assert _named(conv.check_corr2d, sign_on_one_case_only).mistake is None


def test_two_changes_at_once_must_explain_three_cases():
    """A floor split over two terms, (n + 2p) // s - k // s + 1, equals "padding and stride
    each one less than given" on the only two cases where both changes apply (stride 1
    has no stride one less): two changes at once are many candidates, so two cases are a
    coincidence, not a name. Nor is a catalogue entry (rounding up) that the later cases
    explain as often as they contradict it."""

    def floor_split(n, k, *, padding=0, stride=1):
        return (n + 2 * padding) // stride - k // stride + 1

    err = _named(padding.check_output_size, floor_split)
    assert "+" not in (err.mistake or ""), str(err)
    assert err.mistake != "ceil_instead_of_floor", str(err)


# Recipes: settings of an initialisation, an optimiser step and a loss, one or two changed
# (course.checks._mutate.recipe_variants).


def _glorot_init(seed):  # convention: Glorot's bound where torch's default is asked
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in lenet.PARAM_SHAPES.items():
        if name.endswith("weight"):
            fan_in = int(np.prod(shape[1:]))
            fan_out = shape[0] * int(np.prod(shape[2:]))
            bound = np.sqrt(6 / (fan_in + fan_out))
        params[name] = rng.uniform(-bound, bound, size=shape)
    return params


def _glorot_weights_init(seed):  # Glorot for the weights, torch's bound kept for biases
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in lenet.PARAM_SHAPES.items():
        if name.endswith("weight"):
            w = shape
            fan_in, fan_out = int(np.prod(w[1:])), w[0] * int(np.prod(w[2:]))
            bound = np.sqrt(6 / (fan_in + fan_out))
        else:
            bound = 1 / np.sqrt(fan_in)
        params[name] = rng.uniform(-bound, bound, size=shape)
    return params


def _smoothed_ce(logits, y):  # a neighbouring convention: label smoothing of 0.1
    n, c = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    target = np.full((n, c), 0.1 / c)
    target[np.arange(n), y] += 0.9
    return float(-(target * log_p).sum(axis=1).mean()), (np.exp(log_p) - target) / n


def _per_layer_normal_init(seed):  # two at once: a generator per layer, normal draws
    params = {}
    for name, shape in lenet.PARAM_SHAPES.items():
        if name.endswith("weight"):
            rng = np.random.default_rng(seed)
            std = 1 / np.sqrt(np.prod(shape[1:]))
        params[name] = rng.normal(0, std, size=shape)
    return params


def _nesterov_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    for k in params:
        d = grads[k] + weight_decay * params[k]
        if momentum:
            velocity[k][...] = momentum * velocity[k] + d
            d = d + momentum * velocity[k]
        params[k][...] -= lr * d


def _ce_column_max_summed(logits, y):  # two at once: max per column, loss and grad summed
    z = logits - logits.max(axis=0)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = -np.log(p[rows, y]).sum()
    p[rows, y] -= 1
    return float(loss), p


@pytest.mark.parametrize(
    ("check", "student", "key"),
    [
        (lenet.check_init_lenet, _glorot_init, "init:bound=glorot"),
        (lenet.check_init_lenet, _per_layer_normal_init, "init:draw=normal+rng=per_layer"),
        (lenet.check_sgd_step, _nesterov_step, "sgd:velocity=nesterov"),
        (lenet.check_softmax_cross_entropy, _ce_column_max_summed, "loss:shift=column+reduce=sum"),
        (lenet.check_init_lenet, _glorot_weights_init, "init:bound=glorot+bias=torch"),
        (lenet.check_softmax_cross_entropy, _smoothed_ce, "loss:smooth=0.1"),
    ],
    ids=[
        "init_glorot",
        "init_two_at_once",
        "sgd_nesterov",
        "loss_two_at_once",
        "init_glorot_weights_only",
        "loss_label_smoothing",
    ],
)
def test_a_recipe_with_settings_changed_is_named(check, student, key):
    err = _named(check, student)
    assert err.mistake == key, str(err)
    assert "It looks like" in str(err)


def test_a_recipe_is_no_guess_either():
    """Right numbers with one layer's weights disturbed match no recipe. What names it is
    the repair of the student's line, the factor that does not belong."""

    def disturbed(seed):
        params = lenet._init_variant(seed)  # the right recipe
        params["fc2.weight"] = params["fc2.weight"] * 1.01
        return params

    err = _named(lenet.check_init_lenet, disturbed)
    assert err.mistake == "repair:extra_factor", str(err)
    assert "writing `params['fc2.weight']` for `params['fc2.weight'] * 1.01`" in str(err)


def test_a_stride_that_only_sizes_the_output_is_named_in_conv2d_forward():
    """5.3 passes torch as its oracle: input mutations reach the batched forward too, and
    the sentence uses the student's own parameter names."""

    def windows_move_by_one(x, w, b, *, stride=1, padding=0):
        out, cache = solutions.conv2d_forward(x, w, b, stride=1, padding=padding)
        right, _ = solutions.conv2d_forward(x, w, b, stride=stride, padding=padding)
        return out[:, :, : right.shape[2], : right.shape[3]], cache

    err = _named(backprop.check_conv2d_forward, windows_move_by_one)
    assert err.mistake == "auto:stride_size_only", str(err)


def test_a_rearranged_size_formula_is_named():
    def plus_one_inside_and_padding_once(n, k, *, padding=0, stride=1):
        return (n + padding - k + 1) // stride

    err = _named(padding.check_output_size, plus_one_inside_and_padding_once)
    assert err.mistake == "size:pad=once+plus_one=inside", str(err)


# ---------------------------------------------------------------------------------------
# Families added after the fresh set was measured (written for these tests, each a
# variant of a mistake that set showed, not its code)
# ---------------------------------------------------------------------------------------


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _dilated(X, K, dilation, stride):
    """Plain loops: cross-correlation of X with K spread by `dilation`, no padding."""
    (dh, dw), (sh, sw) = _pair(dilation), _pair(stride)
    KH, KW = K.shape
    H = (X.shape[0] - dh * (KH - 1) - 1) // sh + 1
    W = (X.shape[1] - dw * (KW - 1) - 1) // sw + 1
    Y = np.zeros((H, W))
    for i in range(H):
        for j in range(W):
            rows = X[i * sh : i * sh + dh * (KH - 1) + 1 : dh]
            Y[i, j] = (rows[:, j * sw : j * sw + dw * (KW - 1) + 1 : dw] * K).sum()
    return Y


def dilated_gaps_and_no_stride(X, K, *, dilation=1, padding=0, stride=1):
    """d zeros between the taps (spacing d + 1), and the stride never used."""
    (ph, pw), spaced = _pair(padding), tuple(d + 1 for d in _pair(dilation))
    return _dilated(np.pad(X, ((ph, ph), (pw, pw))), K, spaced, 1)


def conv_params_one_bias_square(C_in, C_out, KH, KW, *, bias=True):
    return C_out * C_in * KH * KH + (1 if bias else 0)


def multi_in_total(X, K):
    return np.add.reduce(
        np.stack([solutions.corr2d(x, k) for x, k in zip(X, K, strict=True)]), axis=None
    )


def multi_in_out_vstacked(X, K):
    return np.vstack([solutions.corr2d_multi_in(X, k) for k in K])


def conv1x1_width_first(X, K):
    C, H, W = X.shape
    return (K[:, :, 0, 0] @ X.reshape(C, H * W)).reshape(K.shape[0], W, H)


def pool2d_minus_inf_border(X, size, *, stride=None, padding=0, mode="max"):
    ph, pw = _pair(padding)
    Xp = np.pad(np.asarray(X, float), ((ph, ph), (pw, pw)), constant_values=-np.inf)
    return solutions.pool2d(Xp, size, stride=stride, padding=0, mode=mode)


def pool2d_size_of_unpadded(X, size, *, stride=None, padding=0, mode="max"):
    right = solutions.pool2d(X, size, stride=stride, padding=padding, mode=mode)
    unpadded = solutions.pool2d(X, size, stride=stride, padding=0, mode=mode)
    return right[: unpadded.shape[0], : unpadded.shape[1]]


def gaussian_half_centre_sigma_not_squared(size, sigma):
    d = np.arange(size) - size / 2
    G = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma))
    return G / G.sum()


def pool2d_channels_added_up(X, size, *, stride=None, padding=0, mode="max"):
    return np.sum(
        [solutions.pool2d(x, size, stride=stride, padding=padding, mode=mode) for x in X], axis=0
    )


def conv1x1_returned_flat(X, K):
    return solutions.conv1x1(X, K).ravel()


def output_size_total_padding_halved(n, k, *, total_padding=0, stride=1):
    return solutions.output_size(n, k, padding=total_padding // 2, stride=stride)


NEW_FAMILIES = [
    (padding.check_corr2d_dilated, dilated_gaps_and_no_stride,
     "auto:dilation:plus_one+auto:stride:ignored", "two things at once: dilation is off by one"),
    (channels.check_conv_params, conv_params_one_bias_square,
     "one_bias_per_layer+auto:KW_read_as_KH", "KH was used where KW belongs"),
    (channels.check_corr2d_multi_in, multi_in_total, "auto:total_sum", "np.sum without an axis"),
    (channels.check_corr2d_multi_in_out, multi_in_out_vstacked, "auto:concatenated",
     "np.concatenate"),
    (channels.check_conv1x1, conv1x1_width_first, "auto:reshaped_width_first",
     "width before height"),
    (pooling.check_pool2d, pool2d_minus_inf_border, "auto:padded_with:-inf",
     "filled with -inf"),
    (pooling.check_pool2d, pool2d_size_of_unpadded, "auto:padding_windows_only",
     "computed from the unpadded input"),
    (conv.check_gaussian_kernel, gaussian_half_centre_sigma_not_squared,
     "gauss:centre=half+denom=2s", "two things at once: the centre is size / 2"),
    (padding.check_output_size_total, output_size_total_padding_halved, "total:pad=halved",
     "halved"),
    (channels.check_conv1x1, conv1x1_returned_flat, "auto:flattened", "the result is flat"),
    (pooling.check_pool2d_channels, pool2d_channels_added_up, "auto:first_axis_summed",
     "added up over its first axis"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "student", "key", "says"), NEW_FAMILIES, ids=[f[1].__name__ for f in NEW_FAMILIES]
)
def test_the_families_added_after_the_fresh_set_are_named(check, student, key, says):
    err = _named(check, student)
    assert err.mistake == key, str(err)
    assert says in " ".join(str(err).split())


def test_a_factor_that_tracks_an_option_is_named():
    """(f(x + h) - f(x - h)) / 2 * h: h² times the right gradient, on cases whose h differs;
    a factor of one fixed size names nothing about h."""
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(4) for _ in range(3)]
    cases = [
        Case(f"h = {h}", (x,), 2 * x, {"h": h}) for x, h in zip(xs, (0.1, 0.5, 2.0), strict=True)
    ]

    def precedence(x, *, h):
        return ((x + h) ** 2 - (x - h) ** 2) / 2 * h

    err = _named(check, precedence, name="parabola_gradient", cases=cases)
    assert err.mistake == "auto:times_h^2", str(err)
    same_h = [Case(c.label, c.args, c.expected, {"h": 0.5}) for c in cases]
    err = _named(check, precedence, name="parabola_gradient", cases=same_h)
    assert err.mistake == "auto:scaled", str(err)


def test_extra_axes_of_length_one_are_named_on_every_case():
    """db summed with keepdims=True: the values are right, the shape has extra 1s."""

    def db(x):
        return np.asarray(x, float).sum(axis=(0, 2, 3), keepdims=True)

    rng = np.random.default_rng(3)
    cases = [
        Case(f"{shape}", (x,), x.sum(axis=(0, 2, 3)))
        for shape in ((2, 3, 4, 4), (1, 5, 2, 3))
        for x in [rng.standard_normal(shape)]
    ]
    with pytest.raises(CheckFailed) as info:
        check(db, name="db", cases=cases)
    assert info.value.mistake == "auto:extra_unit_axes", str(info.value)
    assert "shape (1, 3, 1, 1) where (3,) is documented" in str(info.value)
