"""Misconception suite for course.checks.backprop (assignment 05, backpropagation).

For every catalogued mistake, a deliberately wrong implementation, written the way a
student would get it wrong (loops, a switch for each bug), is run through its check: the
check must name that mistake. The references from `solutions` pass, the student-style
loops without bugs pass, and wrong answers that match no catalogued mistake get the
generic message with the lecture pointer.
"""

from __future__ import annotations

import numpy as np
import pytest

import solutions
from course.checks import CheckFailed, answer_digest
from course.checks import backprop as checks

# ---------------------------------------------------------------------------------------
# Loop versions a student could write, with a switch for each catalogued mistake
# ---------------------------------------------------------------------------------------


def numerical_gradient_student(f, x, *, h=1e-5, bug=None):
    if bug == "step_ignored":
        h = 1e-5
    if bug == "perturbs_a_copy":
        x = x.copy()
    grad = x if bug == "gradient_aliases_x" else np.zeros_like(x)
    indices = [(i,) for i in range(x.shape[0])] if bug == "perturbs_whole_rows" else None
    f0 = f(x) if bug in ("one_sided_difference", "backward_one_sided_difference") else None
    for i in indices or np.ndindex(x.shape):
        old = x[i].copy() if bug == "perturbs_whole_rows" else x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        if bug == "restored_by_arithmetic":
            x[i] += h
        elif bug != "not_restored":
            x[i] = old
        if bug == "one_sided_difference":
            grad[i] = (f_plus - f0) / h
        elif bug == "backward_one_sided_difference":
            grad[i] = (f0 - f_minus) / h
        elif bug == "divided_by_h":
            grad[i] = (f_plus - f_minus) / h
        elif bug == "sign_flipped":
            grad[i] = (f_minus - f_plus) / (2 * h)
        else:
            grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error_student(a, b, *, kind="elementwise", eps=1e-12, bug=None):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if bug == "kinds_swapped":
        kind = "norm" if kind == "elementwise" else "elementwise"
    if kind == "elementwise":
        den = np.abs(a) + np.abs(b)
        if bug == "denominator_without_abs":
            den = np.abs(a + b)
        if bug == "one_sided_denominator":
            den = np.abs(b)
        if bug == "max_denominator":
            den = np.maximum(np.abs(a), np.abs(b))
        if bug == "no_eps_floor":
            with np.errstate(invalid="ignore"):
                ratios = np.abs(a - b) / den
        elif bug == "eps_added":
            ratios = np.abs(a - b) / (den + eps)
        else:
            ratios = np.abs(a - b) / np.maximum(den, eps)
        return float(np.mean(ratios) if bug == "mean_instead_of_max" else np.max(ratios))
    den = np.linalg.norm(a) + np.linalg.norm(b)
    if bug == "norm_of_sum":
        den = np.linalg.norm(a + b)
    if bug == "max_denominator":
        den = max(np.linalg.norm(a), np.linalg.norm(b))
    if bug == "no_eps_floor":
        with np.errstate(invalid="ignore"):
            return float(np.linalg.norm(a - b) / den)
    if bug == "eps_added":
        return float(np.linalg.norm(a - b) / (den + eps))
    return float(np.linalg.norm(a - b) / max(den, eps))


def conv2d_forward_student(x, w, b, *, stride=1, padding=0, bug=None):
    N, _, H, W = x.shape
    C_out, _, KH, KW = w.shape
    s = 1 if bug == "stride_ignored" else stride
    p = 0 if bug == "padding_ignored" else padding
    if bug == "kernel_flipped":
        w = w[:, :, ::-1, ::-1]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out = (H + 2 * p - KH) // s + 1
    W_out = (W + 2 * p - KW) // s + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(1 if bug == "first_image_only" else N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * s : i * s + KH, j * s : j * s + KW]
                    if bug == "w_in_out_swapped":
                        value = np.sum(window * w[:, o])
                    elif bug == "channels_not_summed":
                        value = np.sum(window[0] * w[o, 0])
                    else:
                        value = np.sum(window * w[o])
                    out[n, o, i, j] = value + (0.0 if bug == "bias_missing" else b[o])
    if bug == "out_axes_swapped":
        out = out.transpose(1, 0, 2, 3)
    return out, (x, w, b, stride, padding)


def conv2d_backward_student(dout, cache, *, bug=None):
    x, w, _, stride, padding = cache
    N, _, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))

    # db
    if bug == "db_sum_over_batch_only":
        db = dout.sum(axis=0)
    elif bug == "db_sum_over_everything":
        db = dout.sum()
    elif bug == "db_sum_over_space_only":
        db = dout.sum(axis=(2, 3))
    elif bug == "db_wrong_axes":
        db = dout.sum(axis=(0, 1))
    elif bug == "db_mean_not_sum":
        db = dout.mean(axis=(0, 2, 3))
    else:
        db = np.zeros(C_out)
        for n in range(N):
            for o in range(C_out):
                for i in range(H_out):
                    for j in range(W_out):
                        if bug == "db_overwrite":
                            db[o] = dout[n, o, i, j]
                        else:
                            db[o] += dout[n, o, i, j]

    # dw and dx by the scatter loop (float buffers: zeros_like of an integer batch is not)
    dw = np.zeros(w.shape)
    dxp = np.zeros(xp.shape)
    sb = 1 if bug == "stride_ignored" else s
    kernel = w
    if bug == "kernel_not_flipped":  # the "full correlation" route without the flip
        kernel = w[:, :, ::-1, ::-1]
    if bug == "kernel_flipped_rows_only":
        kernel = w[:, :, ::-1, :]
    if bug == "kernel_transposed":
        kernel = np.flip(np.swapaxes(w, 2, 3), (2, 3))
    images = range(1) if bug == "dw_first_image_only" else range(N)
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * sb, i * sb + KH)
                    cols = slice(j * sb, j * sb + KW)
                    if n in images:
                        if bug == "dw_overwrite":
                            dw[o] = dout[n, o, i, j] * xp[n, :, rows, cols]
                        else:
                            dw[o] += dout[n, o, i, j] * xp[n, :, rows, cols]
                    if bug == "dx_missing_channel_sum" and o != C_out - 1:
                        continue
                    if bug == "dx_overwrite":
                        dxp[n, :, rows, cols] = dout[n, o, i, j] * kernel[o]
                    elif bug == "dx_overwrite_per_window":
                        dxp[n, :, rows, cols] = np.tensordot(
                            dout[n, :, i, j], kernel, axes=([0], [0])
                        )
                    else:
                        dxp[n, :, rows, cols] += dout[n, o, i, j] * kernel[o]
    if bug == "dw_x_dout_swapped":
        dw = dw[:, :, ::-1, ::-1]
    if bug == "dw_in_out_swapped":
        dw = dw.transpose(1, 0, 2, 3)
    if bug == "dw_mean_over_batch":
        dw = dw / N
    if bug == "padding_not_removed":
        dx = dxp
    elif bug == "padding_cut_at_corner":
        dx = dxp[:, :, :H, :W]
    else:
        dx = dxp[:, :, p : p + H, p : p + W]
    return dx, dw, db


def maxpool2d_forward_student(x, *, kernel_size, stride=None, bug=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    if bug == "stride_defaults_to_one" and stride is None:
        s = 1
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    argmax = np.zeros((N, C, H_out, W_out), dtype=int)
    for n in range(1 if bug == "first_image_only" else N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + k, j * s : j * s + k]
                    if bug == "channels_mixed":
                        out[n, c, i, j] = x[n, :, i * s : i * s + k, j * s : j * s + k].max()
                    elif bug == "average_not_max":
                        out[n, c, i, j] = window.mean()
                    elif bug == "max_started_at_zero":
                        out[n, c, i, j] = max(0.0, window.max())
                    else:
                        out[n, c, i, j] = window.max()
                    argmax[n, c, i, j] = np.argmax(window)
    return out, (x, k, s, argmax)


def maxpool2d_backward_student(dout, cache, *, bug=None):
    x, k, s, argmax = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    r0, c0 = i * s, j * s
                    if bug == "stride_ignored":
                        r0, c0 = i, j
                    if bug == "window_offset_missing":
                        r0, c0 = 0, 0
                    window = x[n, c, i * s : i * s + k, j * s : j * s + k]
                    g = 1.0 if bug == "mask_without_dout" else dout[n, c, i, j]
                    if bug == "all_ties":
                        dx[n, c, r0 : r0 + k, c0 : c0 + k] += (window == window.max()) * g
                        continue
                    if bug == "average_gradient":
                        dx[n, c, r0 : r0 + k, c0 : c0 + k] += g / (k * k)
                        continue
                    if bug == "last_tie":
                        flat = window.size - 1 - np.argmax(window.ravel()[::-1])
                    else:
                        flat = argmax[n, c, i, j]
                    p, q = divmod(int(flat), k)
                    if bug == "overwrite_winner":
                        dx[n, c, r0 + p, c0 + q] = g
                    elif bug == "overwrite_window":
                        mask = np.zeros((k, k))
                        mask[p, q] = 1.0
                        dx[n, c, r0 : r0 + k, c0 : c0 + k] = mask * g
                    else:
                        dx[n, c, r0 + p, c0 + q] += g
    return dx


def avgpool2d_forward_student(x, *, kernel_size, stride=None, padding=0, bug=None):
    N, C, H, W = x.shape
    k = kernel_size
    s = k if stride is None else stride
    if bug == "stride_defaults_to_one" and stride is None:
        s = 1
    p = 0 if bug == "padding_ignored" else padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    real = np.pad(np.ones((H, W)), p)
    H_out = (H + 2 * p - k) // s + 1
    W_out = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s : i * s + k, j * s : j * s + k]
            if bug == "max_not_average":
                out[:, :, i, j] = window.max(axis=(2, 3))
            elif bug == "padding_not_counted":
                count = real[i * s : i * s + k, j * s : j * s + k].sum()
                out[:, :, i, j] = window.sum(axis=(2, 3)) / count
            else:
                out[:, :, i, j] = window.mean(axis=(2, 3))
    return out, (x.shape, k, s, padding)


def avgpool2d_backward_student(dout, cache, *, bug=None):
    (N, C, H, W), k, s, p = cache
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    real = np.pad(np.ones((H, W)), p)
    for i in range(H_out):
        for j in range(W_out):
            r0, c0 = (i, j) if bug == "stride_ignored" else (i * s, j * s)
            rows, cols = slice(r0, r0 + k), slice(c0, c0 + k)
            share = dout[:, :, i, j][:, :, None, None] / (k * k)
            if bug == "not_divided":
                share = dout[:, :, i, j][:, :, None, None] + np.zeros((k, k))
            if bug == "padding_not_counted":
                share = dout[:, :, i, j][:, :, None, None] / real[rows, cols].sum()
            if bug == "overwrite_not_accumulate":
                dxp[:, :, rows, cols] = share
            else:
                dxp[:, :, rows, cols] += share
    if bug == "padding_not_removed":
        return dxp
    if bug == "padding_cut_at_corner":
        return dxp[:, :, :H, :W]
    return dxp[:, :, p : p + H, p : p + W]


def _bugged(fn, bug):
    def wrapped(*args, **kwargs):
        return fn(*args, bug=bug, **kwargs)

    return wrapped


def _named(check, *fns, **kwargs):
    with pytest.raises(CheckFailed) as info:
        check(*fns, **kwargs)
    return info.value


def _says(mistakes, key):
    return [m.says for m in mistakes if m.key == key]


def _assert_named(err, key, mistakes):
    assert err.mistake == key, str(err)
    text = str(err)
    assert any(f"It looks like {says}" in text for says in _says(mistakes, key)), text
    assert "expected" in text and "got" in text


# ---------------------------------------------------------------------------------------
# Exercise 5.1 and 5.2: numerical_gradient and rel_error
# ---------------------------------------------------------------------------------------

NUMGRAD_ENGINE_BUGS = [m.key for m in checks.NUMGRAD_MISTAKES]


def test_numerical_gradient_through_a_flat_copy_fails_on_a_view():
    """Steps made through x.ravel() reach x only when ravel returns a view: for a
    transposed x it is a copy, f never sees the steps, and the gradient is 0."""

    def through_ravel(f, x, *, h=1e-5):
        flat, grad = x.ravel(), np.zeros(x.size)
        for i in range(x.size):
            old = flat[i]
            flat[i] = old + h
            up = f(x)
            flat[i] = old - h
            down = f(x)
            flat[i] = old
            grad[i] = (up - down) / (2 * h)
        return grad.reshape(x.shape)

    with pytest.raises(CheckFailed) as info:
        checks.check_numerical_gradient(through_ravel)
    assert info.value.case.startswith("f(x) = sum(D * sin(x)) on a transposed"), str(info.value)


@pytest.mark.parametrize("key", NUMGRAD_ENGINE_BUGS)
def test_numerical_gradient_mistakes_are_named(key):
    err = _named(checks.check_numerical_gradient, _bugged(numerical_gradient_student, key))
    _assert_named(err, key, checks.NUMGRAD_MISTAKES)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("not_restored", "put each entry back"),
        ("restored_by_arithmetic", "round-off"),
        ("perturbs_a_copy", "perturbed a copy"),
        ("gradient_aliases_x", "`grad = x` gives x a second name"),
    ],
)
def test_numerical_gradient_in_place_mistakes_are_named(key, words):
    err = _named(checks.check_numerical_gradient, _bugged(numerical_gradient_student, key))
    assert err.mistake == key, str(err)
    assert words in str(err)


REL_BUGS = sorted({m.key for m in checks.REL_ERROR_MISTAKES})


@pytest.mark.parametrize("key", REL_BUGS)
def test_rel_error_mistakes_are_named(key):
    err = _named(checks.check_rel_error, _bugged(rel_error_student, key))
    _assert_named(err, key, checks.REL_ERROR_MISTAKES)


def test_rel_error_without_eps_is_named():
    err = _named(checks.check_rel_error, _bugged(rel_error_student, "no_eps_floor"))
    assert err.mistake == "no_eps_floor"
    assert "0 / 0" in str(err)


# ---------------------------------------------------------------------------------------
# Exercise 5.3 and 5.4: conv2d_forward and conv2d_backward
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [m.key for m in checks.CONV_FORWARD_MISTAKES])
def test_conv2d_forward_mistakes_are_named(key):
    err = _named(checks.check_conv2d_forward, _bugged(conv2d_forward_student, key))
    _assert_named(err, key, checks.CONV_FORWARD_MISTAKES)


# student bug switch → (part, catalogued key)
BACKWARD_BUGS = {
    "db_sum_over_batch_only": ("db", "db_sum_over_batch_only"),
    "db_sum_over_everything": ("db", "db_sum_over_everything"),
    "db_sum_over_space_only": ("db", "db_sum_over_space_only"),
    "db_wrong_axes": ("db", "db_wrong_axes"),
    "db_mean_not_sum": ("db", "db_mean_not_sum"),
    "db_overwrite": ("db", "overwrite_not_accumulate"),
    "dw_overwrite": ("dw", "overwrite_not_accumulate"),
    "dw_x_dout_swapped": ("dw", "dw_x_dout_swapped"),
    "dw_in_out_swapped": ("dw", "dw_in_out_swapped"),
    "dw_first_image_only": ("dw", "dw_missing_batch_sum"),
    "dw_mean_over_batch": ("dw", "dw_mean_over_batch"),
    "stride_ignored": ("dw", "stride_ignored"),
    "dx_overwrite": ("dx", "overwrite_not_accumulate"),
    "dx_overwrite_per_window": ("dx", "overwrite_not_accumulate"),
    "dx_missing_channel_sum": ("dx", "dx_missing_channel_sum"),
    "kernel_not_flipped": ("dx", "kernel_not_flipped"),
    "kernel_flipped_rows_only": ("dx", "kernel_flipped_wrongly"),
    "kernel_transposed": ("dx", "kernel_flipped_wrongly"),
    "padding_not_removed": ("dx", "padding_not_removed"),
    "padding_cut_at_corner": ("dx", "padding_cut_at_corner"),
}


@pytest.mark.parametrize("bug", sorted(BACKWARD_BUGS))
def test_conv2d_backward_mistakes_are_named(bug):
    part, key = BACKWARD_BUGS[bug]
    err = _named(
        checks.check_conv2d_backward,
        conv2d_forward_student,
        _bugged(conv2d_backward_student, bug),
        part=part,
    )
    _assert_named(err, key, checks._PART_MISTAKES[part])
    assert f"{part} of conv2d_backward(dout" in str(err)


def test_stride_ignored_is_also_named_for_dx():
    err = _named(
        checks.check_conv2d_backward,
        conv2d_forward_student,
        _bugged(conv2d_backward_student, "stride_ignored"),
        part="dx",
    )
    _assert_named(err, "stride_ignored", checks.DX_MISTAKES)


@pytest.mark.parametrize("part", checks.PARTS)
def test_unfinished_gradient_returns_zeros(part):
    """A student who returns zeros for a gradient not written yet hears so."""

    def backward(dout, cache):
        dx, dw, db = conv2d_backward_student(dout, cache)
        grads = {"dx": dx, "dw": dw, "db": db}
        grads[part] = np.zeros_like(grads[part])
        return grads["dx"], grads["dw"], grads["db"]

    err = _named(checks.check_conv2d_backward, conv2d_forward_student, backward, part=part)
    assert err.mistake == "returns_zeros"


def test_every_catalogued_backward_mistake_has_a_wrong_implementation():
    for part, mistakes in checks._PART_MISTAKES.items():
        covered = {key for p, key in BACKWARD_BUGS.values() if p == part}
        if part == "dx":
            covered.add("stride_ignored")
        assert {m.key for m in mistakes} <= covered, part


def test_backward_must_return_three_arrays():
    err = _named(
        checks.check_conv2d_backward,
        conv2d_forward_student,
        lambda dout, cache: conv2d_backward_student(dout, cache)[:2],
        part="db",
    )
    assert err.mistake == "not_a_triple"
    assert "(dx, dw, db)" in str(err)


def test_forward_must_return_a_pair():
    err = _named(
        checks.check_conv2d_forward, lambda x, w, b, **kw: solutions.corr2d(x[0, 0], w[0, 0])
    )
    assert err.mistake == "not_a_pair"


# ---------------------------------------------------------------------------------------
# Exercises 5.6 and 5.8: pooling
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [m.key for m in checks.MAXPOOL_FORWARD_MISTAKES])
def test_maxpool2d_forward_mistakes_are_named(key):
    err = _named(checks.check_maxpool2d_forward, _bugged(maxpool2d_forward_student, key))
    _assert_named(err, key, checks.MAXPOOL_FORWARD_MISTAKES)


MAXPOOL_BACKWARD_BUGS = {
    "all_ties": "all_ties",
    "last_tie": "last_tie",
    "overwrite_winner": "overwrite_not_accumulate",
    "overwrite_window": "overwrite_not_accumulate",
    "average_gradient": "average_gradient",
    "mask_without_dout": "mask_without_dout",
    "window_offset_missing": "window_offset_missing",
    "stride_ignored": "stride_ignored",
}


@pytest.mark.parametrize("bug", sorted(MAXPOOL_BACKWARD_BUGS))
def test_maxpool2d_backward_mistakes_are_named(bug):
    err = _named(
        checks.check_maxpool2d_backward,
        maxpool2d_forward_student,
        _bugged(maxpool2d_backward_student, bug),
    )
    _assert_named(err, MAXPOOL_BACKWARD_BUGS[bug], checks.MAXPOOL_BACKWARD_MISTAKES)


@pytest.mark.parametrize("key", [m.key for m in checks.AVGPOOL_FORWARD_MISTAKES])
def test_avgpool2d_forward_mistakes_are_named(key):
    err = _named(checks.check_avgpool2d_forward, _bugged(avgpool2d_forward_student, key))
    _assert_named(err, key, checks.AVGPOOL_FORWARD_MISTAKES)


@pytest.mark.parametrize("key", [m.key for m in checks.AVGPOOL_BACKWARD_MISTAKES])
def test_avgpool2d_backward_mistakes_are_named(key):
    err = _named(
        checks.check_avgpool2d_backward,
        avgpool2d_forward_student,
        _bugged(avgpool2d_backward_student, key),
    )
    _assert_named(err, key, checks.AVGPOOL_BACKWARD_MISTAKES)


def test_pool_catalogues_are_covered():
    assert {m.key for m in checks.MAXPOOL_BACKWARD_MISTAKES} <= set(MAXPOOL_BACKWARD_BUGS.values())


# ---------------------------------------------------------------------------------------
# The references pass; the student-style loops without bugs pass too
# ---------------------------------------------------------------------------------------


def _solutions_backward(dout, cache):
    return solutions.conv2d_backward(dout, cache)


REFERENCES = [
    (checks.check_numerical_gradient, (solutions.numerical_gradient,), {}),
    (checks.check_numerical_gradient, (numerical_gradient_student,), {}),
    (checks.check_rel_error, (solutions.rel_error,), {}),
    (checks.check_rel_error, (rel_error_student,), {}),
    (checks.check_conv2d_forward, (solutions.conv2d_forward,), {}),
    (checks.check_conv2d_forward, (conv2d_forward_student,), {}),
    (checks.check_maxpool2d_forward, (solutions.maxpool2d_forward,), {}),
    (checks.check_maxpool2d_forward, (maxpool2d_forward_student,), {}),
    (
        checks.check_maxpool2d_backward,
        (solutions.maxpool2d_forward, solutions.maxpool2d_backward),
        {},
    ),
    (
        checks.check_maxpool2d_backward,
        (maxpool2d_forward_student, maxpool2d_backward_student),
        {},
    ),
    (checks.check_avgpool2d_forward, (solutions.avgpool2d_forward,), {}),
    (checks.check_avgpool2d_forward, (avgpool2d_forward_student,), {}),
    (
        checks.check_avgpool2d_backward,
        (solutions.avgpool2d_forward, solutions.avgpool2d_backward),
        {},
    ),
    (
        checks.check_avgpool2d_backward,
        (avgpool2d_forward_student, avgpool2d_backward_student),
        {},
    ),
] + [
    (checks.check_conv2d_backward, fns, {"part": part})
    for part in checks.PARTS
    for fns in [
        (solutions.conv2d_forward, _solutions_backward),
        (conv2d_forward_student, conv2d_backward_student),
    ]
]


@pytest.mark.parametrize(("check", "fns", "kwargs"), REFERENCES)
def test_references_pass(check, fns, kwargs, capsys):
    assert check(*fns, **kwargs) is None
    assert "✓" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# Quizzes
# ---------------------------------------------------------------------------------------


def _quiz_values():
    out, cache = solutions.conv2d_forward(
        np.zeros((8, 3, 32, 32)), np.zeros((16, 3, 5, 5)), np.zeros(16), stride=2, padding=2
    )
    _, dw, db = solutions.conv2d_backward(np.ones(out.shape), cache)
    H_out = solutions.output_size(8, 3, padding=1, stride=2)
    output_padding = 8 - ((H_out - 1) * 2 - 2 * 1 + 3)
    x = np.random.default_rng(0).standard_normal((1, 1, 32, 32))
    pooled, pcache = solutions.maxpool2d_forward(x, kernel_size=2)
    fraction = float(np.mean(solutions.maxpool2d_backward(np.ones(pooled.shape), pcache) != 0))
    return out.shape, dw.shape, db.shape, output_padding, fraction


def test_quiz_answers_are_accepted_by_digest(capsys):
    dout_shape, dw_shape, db_shape, output_padding, fraction = _quiz_values()
    checks.check_shapes_quiz((dout_shape, dw_shape, db_shape))
    checks.check_shapes_quiz([list(dout_shape), np.array(dw_shape), tuple(db_shape)])
    checks.check_output_padding_quiz(output_padding)
    checks.check_fraction_quiz(fraction)
    checks.check_fraction_quiz(1 / 4)
    assert capsys.readouterr().out.count("correct") == 5
    assert answer_digest(output_padding) == checks.OUTPUT_PADDING_DIGEST


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (((8, 16, 14, 14), (16, 3, 5, 5), (16,)), "dout_shape"),
        (((8, 16, 16, 16), (8, 16, 3, 5, 5), (16,)), "dw_shape"),
        (((8, 16, 16, 16), (16, 3, 5, 5), (8, 16)), "db_shape"),
        (((8, 16, 16, 16), (16, 3, 5, 5)), "three shapes"),
    ],
)
def test_shapes_quiz_names_the_wrong_part(answer, words):
    err = _named(checks.check_shapes_quiz, answer)
    assert err.mistake == "wrong_answer" and words in str(err)


@pytest.mark.parametrize(
    ("check", "answer", "mistake"),
    [
        (checks.check_output_padding_quiz, 0, "wrong_answer"),
        (checks.check_output_padding_quiz, ..., "not_answered"),
        (checks.check_fraction_quiz, 0.5, "wrong_answer"),
        (checks.check_fraction_quiz, "a quarter", "wrong_answer"),
        (checks.check_fraction_quiz, ..., "not_answered"),
        (checks.check_shapes_quiz, ..., "not_answered"),
    ],
)
def test_quiz_wrong_answers(check, answer, mistake):
    assert _named(check, answer).mistake == mistake


# ---------------------------------------------------------------------------------------
# Unrecognised wrong answers still get expected vs got and the pointer
# ---------------------------------------------------------------------------------------


def _noise(a):
    """A wrong answer that no transformation of the right one explains: seeded noise."""
    a = np.asarray(a, dtype=float)
    return a + np.random.default_rng(99).standard_normal(a.shape)


def _noisy_backward(dout, cache):
    """Noise in every gradient, added where no single edit of this function removes it
    (the repair search would unwrap `_noise(dx)` written here)."""
    return tuple(map(_noise, conv2d_backward_student(dout, cache)))


@pytest.mark.parametrize(
    ("check", "fns", "kwargs", "pointer"),
    [
        (
            checks.check_numerical_gradient,
            (lambda f, x, h=1e-5: _noise(solutions.numerical_gradient(f, x, h=h)),),
            {},
            "Central differences",
        ),
        (
            checks.check_rel_error,
            (lambda a, b, kind="elementwise": 0.123,),
            {},
            "elementwise: max over i",
        ),
        (
            checks.check_conv2d_forward,
            (lambda x, w, b, **kw: (_noise(conv2d_forward_student(x, w, b, **kw)[0]), None),),
            {},
            "Lectures 001, 003 and 004",
        ),
        (
            checks.check_conv2d_backward,
            (conv2d_forward_student, _noisy_backward),
            {"part": "dx"},
            "Basic Gradients",
        ),
        (
            checks.check_conv2d_backward,
            (conv2d_forward_student, _noisy_backward),
            {"part": "dw"},
            "Basic Gradients",
        ),
        (
            checks.check_conv2d_backward,
            (conv2d_forward_student, _noisy_backward),
            {"part": "db"},
            "chain rule",
        ),
        (
            checks.check_maxpool2d_backward,
            (maxpool2d_forward_student, lambda d, c: _noise(maxpool2d_backward_student(d, c))),
            {},
            "Lecture 001",
        ),
        (
            checks.check_avgpool2d_backward,
            (avgpool2d_forward_student, lambda d, c: _noise(avgpool2d_backward_student(d, c))),
            {},
            "k*k",
        ),
    ],
)
def test_random_wrong_answer_gets_the_generic_message(check, fns, kwargs, pointer):
    err = _named(check, *fns, **kwargs)
    assert err.mistake is None, str(err)
    text = str(err)
    assert "expected" in text and "got" in text and pointer in text


def test_unfinished_exercise_says_not_implemented():
    def stub(f, x, *, h=1e-5):
        raise NotImplementedError("Exercise 5.1 is not done yet")

    err = _named(checks.check_numerical_gradient, stub)
    assert err.mistake == "not_implemented"
    assert "Exercise 5.1" in str(err)


def test_unfinished_backward_says_not_implemented():
    def stub(dout, cache):
        raise NotImplementedError("Exercise 5.4 is not done yet")

    err = _named(checks.check_conv2d_backward, conv2d_forward_student, stub, part="dw")
    assert err.mistake == "not_implemented"


def test_backward_must_not_modify_dout():
    def in_place(dout, cache):
        grads = conv2d_backward_student(dout, cache)
        dout *= 2.0
        return grads

    err = _named(checks.check_conv2d_backward, conv2d_forward_student, in_place, part="dx")
    assert err.mistake == "mutates_input"


def test_backward_check_names_an_unfinished_forward():
    """The backward check runs through the forward pass: say which one is missing."""

    def stub(x, w, b, *, stride=1, padding=0):
        raise NotImplementedError("Exercise 5.3 is not done yet")

    err = _named(checks.check_conv2d_backward, stub, conv2d_backward_student, part="dx")
    assert err.mistake == "not_implemented"
    assert "through your conv2d_forward" in str(err) and "Exercise 5.3" in str(err)


def test_backward_check_needs_a_forward_that_returns_a_pair():
    err = _named(
        checks.check_conv2d_backward,
        lambda x, w, b, **kw: conv2d_forward_student(x, w, b, **kw)[0],
        conv2d_backward_student,
        part="db",
    )
    assert err.mistake == "not_a_pair"


def test_pool_backward_check_names_an_unfinished_forward():
    def stub(x, *, kernel_size, stride=None):
        raise NotImplementedError("Exercise 5.6 is not done yet")

    err = _named(checks.check_maxpool2d_backward, stub, maxpool2d_backward_student)
    assert err.mistake == "not_implemented"
    assert "through your maxpool2d_forward" in str(err)


def test_numerical_gradient_must_return_float64():
    def numerical_gradient(f, x, *, h=1e-5):
        return solutions.numerical_gradient(f, x, h=h).astype(np.float32)

    err = _named(checks.check_numerical_gradient, numerical_gradient)
    assert err.mistake == "not_float64", str(err)


def test_gradient_buffers_made_like_an_integer_batch_fail():
    """zeros_like(xp) copies an integer batch's dtype: the fractional gradients added into
    it are refused."""

    def backward(dout, cache):
        x = cache[0]
        dx, dw, db = conv2d_backward_student(dout, cache)
        return dx.astype(np.asarray(x).dtype), dw, db

    err = _named(checks.check_conv2d_backward, conv2d_forward_student, backward, part="dx")
    assert "an integer batch" in err.case, str(err)
