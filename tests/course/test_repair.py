"""Naming a mistake by repairing the student's code (course/checks/_repair.py): one edit
of their function after which every case passes is a name; nothing less is."""

from __future__ import annotations

import ast
import linecache
import textwrap
import time

import numpy as np
import pytest

import solutions
from course import probe
from course.checks import Case, CheckFailed, _repair, backprop, check, conv, padding, pooling
from course.checks._repair import CALL_LIMIT_S, repair


def student(code: str, **names):
    """Define a function from source as a notebook cell does (IPython keeps the cell's
    source in linecache, where inspect finds it)."""
    code = textwrap.dedent(code)
    filename = f"<cell {abs(hash(code))}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = {"np": np, **names}
    exec(compile(code, filename, "exec"), namespace)
    return next(v for k, v in namespace.items() if callable(v) and k not in names and k != "np")


def _named(check_fn, fn) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check_fn(fn)
    return info.value


def test_a_slice_end_off_by_one_on_both_axes_is_repaired_in_the_students_line():
    """Slice ends written as if inclusive: a 2×2 kernel still broadcasts against the 1×1
    window, a 3×3 one raises. One edit, made at both places written alike, repairs it."""
    corr2d = student(
        """
        def corr2d(X, K):
            h, w = K.shape
            Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + h - 1, j:j + w - 1] * K).sum()
            return Y
        """
    )
    err = _named(conv.check_corr2d, corr2d)
    text = " ".join(str(err).split())
    assert err.mistake == "repair:off_by_one", text
    assert "in line 7 of your corr2d" in text
    assert "`i + h` for `i + h - 1` (and the same at the other place written alike)" in text


def test_the_students_exception_is_kept_when_a_repair_names_it():
    """A function that raises on some case is repaired too; the message keeps the
    exception (and its traceback, chained), then names the edit."""
    corr2d = student(
        """
        def corr2d(X, K):
            h, w = K.shape
            Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + h + 1, j:j + w] * K).sum()
            return Y
        """
    )
    err = _named(conv.check_corr2d, corr2d)
    text = " ".join(str(err).split())
    assert err.mistake == "repair:off_by_one", text
    assert "raised ValueError" in text and "`i + h` for `i + h + 1`" in text
    assert isinstance(err.__cause__, ValueError)


def test_floor_division_where_a_mean_divides_is_repaired():
    avgpool = student(
        """
        def avgpool2d_forward(x, *, kernel_size, stride=None, padding=0):
            k = kernel_size
            s = k if stride is None else stride
            xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            H = (xp.shape[2] - k) // s + 1
            W = (xp.shape[3] - k) // s + 1
            out = np.zeros(x.shape[:2] + (H, W))
            for i in range(H):
                for j in range(W):
                    total = xp[:, :, i * s:i * s + k, j * s:j * s + k].sum(axis=(2, 3))
                    out[:, :, i, j] = total // (k * k)
            return out, (x.shape, k, s, padding)
        """
    )
    err = _named(backprop.check_avgpool2d_forward, avgpool)
    assert err.mistake == "repair:division", str(err)
    assert "`total / (k * k)` for `total // (k * k)`" in " ".join(str(err).split())


def test_a_reduction_without_its_axes_is_repaired():
    maxpool = student(
        """
        def maxpool2d_forward(x, *, kernel_size, stride=None):
            k = kernel_size
            s = k if stride is None else stride
            H = (x.shape[2] - k) // s + 1
            W = (x.shape[3] - k) // s + 1
            out = np.zeros(x.shape[:2] + (H, W))
            argmax = np.zeros(x.shape[:2] + (H, W), dtype=int)
            for i in range(H):
                for j in range(W):
                    window = x[:, :, i * s:i * s + k, j * s:j * s + k]
                    out[:, :, i, j] = window.max(axis=(2, 3))
                    argmax[:, :, i, j] = window.reshape(*x.shape[:2], -1).argmax(axis=2)
            return out.max(), (x.shape, k, s, argmax)
        """
    )
    err = _named(backprop.check_maxpool2d_forward, maxpool)
    assert err.mistake == "repair:axis" or err.mistake is not None, str(err)


def test_values_unpacked_the_wrong_way_round_are_repaired():
    grad_mask = student(
        """
        def maxpool_grad_mask(X, size, stride=None):
            kh, kw = (size, size) if np.isscalar(size) else size
            sh, sw = (kh, kw) if stride is None else (
                (stride, stride) if np.isscalar(stride) else stride)
            M = np.zeros(X.shape, dtype=int)
            for i in range((X.shape[0] - kh) // sh + 1):
                for j in range((X.shape[1] - kw) // sw + 1):
                    window = X[i * sh:i * sh + kh, j * sw:j * sw + kw]
                    c, r = np.unravel_index(np.argmax(window), window.shape)
                    M[i * sh + r, j * sw + c] += 1
            return M
        """
    )
    err = _named(pooling.check_maxpool_grad_mask, grad_mask)
    assert err.mistake == "repair:swapped", str(err)
    assert "writing `(r, c)` for `(c, r)`" in " ".join(str(err).split())


def test_a_sign_is_repaired_and_the_repair_runs_only_on_the_students_function():
    total = student(
        """
        def output_size_total(n, k, *, total_padding=0, stride=1):
            return (n - k - total_padding + stride) // stride
        """
    )
    err = _named(padding.check_output_size_total, total)
    assert err.mistake is not None


def _repaired(fn, cases, key: str) -> str:
    """The message of a check over `cases` that fails `fn`, asserted to name `key`."""
    err = _named(lambda f: check(f, name=fn.__name__, cases=cases), fn)
    text = " ".join(str(err).split())
    assert err.mistake == key, text
    return text


def _close(f, c):
    return np.allclose(f(*c.args), c.expected)


def test_a_step_taken_uphill_is_repaired():
    """`+=` where the update subtracts (gradient ascent): the augmented operator flips."""
    rng = np.random.default_rng(0)
    cases = [
        Case(f"lr = {lr}", (w, g, lr), w - lr * g)
        for lr, w, g in [(0.1, *rng.standard_normal((2, 3))), (0.5, *rng.standard_normal((2, 4)))]
    ]
    step = student(
        """
        def step(w, g, lr):
            w = w.copy()
            w += lr * g
            return w
        """
    )
    text = _repaired(step, cases, "repair:sign")
    assert "`w -= lr * g` for `w += lr * g`" in text


def test_a_dropped_minus_in_an_exponent_is_repaired():
    cases = [Case(f"t = {t}", (t, 2.0), np.exp(-t / 2.0)) for t in (0.5, 1.0, 3.0)]
    decay = student(
        """
        def decay(t, tau):
            return np.exp(t / tau)
        """
    )
    text = _repaired(decay, cases, "repair:sign")
    assert "`np.exp(-(t / tau))` for `np.exp(t / tau)`" in text


def test_missing_parentheses_are_repaired():
    """`a + b / 2` where `(a + b) / 2` is meant: the division takes in the whole sum."""
    cases = [
        Case(f"{a}, {b}", (a, b), (a + b) / 2) for a, b in [(1.0, 3.0), (2.0, 8.0), (-4.0, 6.0)]
    ]
    midpoint = student(
        """
        def midpoint(a, b):
            return a + b / 2
        """
    )
    text = _repaired(midpoint, cases, "repair:precedence")
    assert "`(a + b) / 2` for `a + b / 2`" in text
    # a regrouping that fixes some cases only is no name
    assert repair(midpoint, [*cases, Case("wrong on purpose", (1.0, 1.0), 5.0)], _close) is None


def test_two_steps_in_the_wrong_order_are_repaired():
    """An exclusive running total that adds before it records: the two steps swap."""
    cases = [
        Case(f"{xs}", (xs,), [sum(xs[:i]) for i in range(len(xs))])
        for xs in ([1, 2, 3], [5, 0, 4, 1])
    ]
    prefix = student(
        """
        def exclusive_prefix(xs):
            out, total = [], 0
            for x in xs:
                total += x
                out.append(total)
            return out
        """
    )
    text = _repaired(prefix, cases, "repair:order")
    assert "`out.append(total); total += x` for `total += x; out.append(total)`" in text


def test_a_fixed_index_where_the_loop_variable_belongs_is_repaired():
    rng = np.random.default_rng(1)
    cases = [Case(f"{n} rows", (X, w), X * w[:, None]) for n, X, w in [
        (3, rng.standard_normal((3, 2)), rng.standard_normal(3)),
        (4, rng.standard_normal((4, 5)), rng.standard_normal(4)),
    ]]  # fmt: skip
    scaled = student(
        """
        def rows_scaled(X, w):
            out = np.zeros_like(X)
            for r in range(X.shape[0]):
                out[r] = X[r] * w[0]
            return out
        """
    )
    text = _repaired(scaled, cases, "repair:index")
    assert "`w[r]` for `w[0]`" in text


def test_a_loop_that_steps_where_it_should_visit_every_index_is_repaired():
    cases = [Case(f"n = {n}, s = {s}", (n, s), np.arange(n) ** 2.0) for n, s in [(5, 2), (7, 3)]]
    squares = student(
        """
        def squares(n, s):
            out = np.zeros(n)
            for i in range(0, n, s):
                out[i] = i * i
            return out
        """
    )
    text = _repaired(squares, cases, "repair:step")
    assert "`range(0, n)` for `range(0, n, s)`" in text


def test_a_pair_of_sizes_read_the_other_way_round_is_repaired():
    """kh and kw, unpacked together, each used where the other belongs: only non-square
    kernels show it, and swapping the two names in that line repairs it."""
    rng = np.random.default_rng(2)
    cases = [
        Case(f"a {kh}×{kw} window", (X, np.ones((kh, kw))), solutions.corr2d(X, np.ones((kh, kw))))
        for kh, kw, X in [(2, 3, rng.standard_normal((5, 6))), (3, 1, rng.standard_normal((4, 4)))]
    ]
    window_sums = student(
        """
        def window_sums(X, K):
            kh, kw = K.shape
            rows, cols = X.shape[0] - kh + 1, X.shape[1] - kw + 1
            return np.array([[X[r:r + kw, c:c + kh].sum() for c in range(cols)]
                             for r in range(rows)])
        """
    )
    text = _repaired(window_sums, cases, "repair:swapped")
    assert "X[r:r + kh, c:c + kw].sum()" in text


def test_a_shape_written_width_first_is_repaired():
    rng = np.random.default_rng(3)
    cases = [Case(f"{X.shape}", (X,), X.mean(axis=1)) for X in rng.standard_normal((2, 3, 4))]
    cases.append(Case("(4, 2)", (X := rng.standard_normal((4, 2)),), X.mean(axis=1)))
    row_means = student(
        """
        def row_means(X):
            H = X.shape[0]
            W = X.shape[1]
            return X.reshape((W, H)).mean(axis=1)
        """
    )
    assert "`(H, W)` for `(W, H)`" in _repaired(row_means, cases, "repair:swapped")


def test_the_arguments_of_ones_own_helper_swapped_are_repaired():
    def weighted(x, w):
        return x * w + w

    cases = [Case(f"{x}, {w}", (x, w), x * w + w) for x, w in [(2.0, 3.0), (5.0, -1.0), (0.5, 4.0)]]
    scored = student(
        """
        def scored(x, w):
            return weighted(w, x)
        """,
        weighted=weighted,
    )
    assert "`weighted(x, w)` for `weighted(w, x)`" in _repaired(scored, cases, "repair:swapped")


def _windows(X, K, sh, sw):
    """Window sums of X at strides (sh, sw): the right answer of the tests below."""
    kh, kw = K.shape
    rows, cols = (X.shape[0] - kh) // sh + 1, (X.shape[1] - kw) // sw + 1
    return np.array(
        [
            [X[i * sh : i * sh + kh, j * sw : j * sw + kw].sum() for j in range(cols)]
            for i in range(rows)
        ]
    )


def _window_cases() -> list[Case]:
    rng = np.random.default_rng(4)
    shapes = [((6, 8), (2, 3), 2, 3), ((6, 6), (3, 2), 1, 2), ((7, 5), (2, 2), 3, 1)]
    out = []
    for (h, w), (kh, kw), sh, sw in shapes:
        X, K = rng.standard_normal((h, w)), np.ones((kh, kw))
        out.append(Case(f"{h}×{w}, stride ({sh}, {sw})", (X, K, sh, sw), _windows(X, K, sh, sw)))
    return out


def test_a_name_typed_for_its_twin_is_repaired_even_away_from_the_line_that_raised():
    """`sh` where `sw` belongs sizes the columns wrongly; the exception comes later, from
    the line that cuts the windows. The edit of the earlier line is a name, since the
    check depends on that line (leaving it out does not pass)."""
    windows = student(
        """
        def windows(X, K, sh, sw):
            kh, kw = K.shape
            rows = (X.shape[0] - kh) // sh + 1
            cols = (X.shape[1] - kw) // sh + 1
            Y = np.zeros((rows, cols))
            for i in range(rows):
                for j in range(cols):
                    Y[i, j] = (X[i * sh:i * sh + kh, j * sw:j * sw + kw] * K).sum()
            return Y
        """
    )
    text = _repaired(windows, _window_cases(), "repair:name")
    assert "raised" in text and "line 5 of your windows" in text and "`sw` for `sh`" in text


def test_a_name_typed_for_its_padded_or_kernel_twin_is_repaired():
    """x where xp belongs, W where KW belongs: one name begins or ends with the other."""
    rng = np.random.default_rng(5)
    cases = [
        Case(f"{x.shape}, p = {p}", (x, p), np.pad(x, p)[p:, p:].sum(axis=1))
        for x, p in [(rng.standard_normal((3, 4)), 1), (rng.standard_normal((5, 2)), 2)]
    ]
    summed = student(
        """
        def summed(x, p):
            xp = np.pad(x, p)
            return x[p:, p:].sum(axis=1)
        """
    )
    # x[p:, p:] of the unpadded x has the wrong shape or values; xp[p:, p:] is right
    assert "`xp` for `x`" in _repaired(summed, cases, "repair:name")


def test_one_name_read_twice_in_a_line_for_its_twin_is_repaired_at_both_places():
    """`i * k`, `j * k` where the stride belongs (k and s, one letter each, same case):
    both reads of `k` in that line become `s`."""

    def spread_right(d, k, s, H, W):
        dx = np.zeros((H, W))
        for i in range(d.shape[0]):
            for j in range(d.shape[1]):
                dx[i * s, j * s] += d[i, j]
        return dx

    rng = np.random.default_rng(6)
    cases = [
        Case(f"k = {k}, s = {s}", args, spread_right(*args))
        for k, s, args in [
            (2, 1, (rng.standard_normal((3, 3)), 2, 1, 5, 5)),
            (3, 2, (rng.standard_normal((2, 3)), 3, 2, 5, 7)),
        ]
    ]
    spread = student(
        """
        def spread(d, k, s, H, W):
            dx = np.zeros((H, W))
            for i in range(d.shape[0]):
                for j in range(d.shape[1]):
                    dx[i * k, j * k] += d[i, j]
            return dx
        """
    )
    text = _repaired(spread, cases, "repair:name")
    assert "`s` for `k` at each of the 2 places in it" in text


def test_a_size_read_from_the_wrong_axis_is_repaired():
    rng = np.random.default_rng(7)
    cases = [Case(f"{X.shape}", (X,), X.sum(axis=(1, 2))) for X in
             (rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 2, 3)))]  # fmt: skip
    per_channel = student(
        """
        def per_channel(X):
            C = X.shape[-1]
            out = np.zeros(C)
            for c in range(C):
                out[c] = X[c].sum()
            return out
        """
    )
    assert "`X.shape[0]` for `X.shape[-1]`" in _repaired(per_channel, cases, "repair:name")


def test_which_names_are_twins():
    """The names a name is easily typed for: one character apart in the same case, one
    beginning or ending with the other, or unpacked together; never `H` for `s`, where a
    capital size would stand in for a lower-case setting (on cases whose answer is always
    2, `-(-(H - k) // H) + 1` passes by coincidence)."""
    tree = ast.parse(
        textwrap.dedent(
            """
            def f(x, K, s, k):
                H, W = x.shape
                KH, KW = K.shape
                sh, sw = s, s
                xp = x
                W_out = H_out = 0
                a, b = 1, 2
            """
        )
    ).body[0]
    pairs = {("H", "W"), ("KH", "KW"), ("sh", "sw"), ("a", "b")}
    twins = {name: set(others) for name, others in _repair._twins(tree, pairs).items()}
    assert twins["H"] == {"W", "K", "KH", "H_out"}  # never s or k: another case
    assert twins["s"] == {"k", "x", "a", "b", "sh", "sw"}  # never H or K
    assert twins["x"] == {"xp", "s", "k", "a", "b"} and twins["xp"] == {"x"}
    assert twins["KW"] == {"K", "W", "KH"} and twins["W_out"] == {"H_out", "W"}


def test_a_reduction_without_keepdims_is_repaired():
    rng = np.random.default_rng(8)
    cases = [Case(f"{z.shape}", (z,), z - z.max(axis=1, keepdims=True)) for z in
             (rng.standard_normal((3, 5)), rng.standard_normal((4, 4)))]  # fmt: skip
    shifted = student(
        """
        def shifted(z):
            return z - np.max(z, axis=1)
        """
    )
    text = _repaired(shifted, cases, "repair:keepdims")
    assert "`np.max(z, axis=1, keepdims=True)` for `np.max(z, axis=1)`" in text


def test_a_whole_array_where_one_entry_belongs_is_repaired():
    rng = np.random.default_rng(9)
    cases = [
        Case(f"{len(b)} outputs", (X, W, b), X @ W.T + b)
        for X, W, b in [
            (rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)),
            (rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)),
        ]
    ]
    affine = student(
        """
        def affine(X, W, b):
            out = np.zeros((X.shape[0], W.shape[0]))
            for n in range(X.shape[0]):
                for f in range(W.shape[0]):
                    out[n, f] = X[n] @ W[f] + b
            return out
        """
    )
    assert "`b[f]` for `b`" in _repaired(affine, cases, "repair:entry")


def test_a_torch_reduction_over_the_wrong_dim_is_repaired():
    import torch

    rng = np.random.default_rng(10)
    cases = [Case(f"{z.shape}", (z,), z.argmax(axis=1)) for z in
             (rng.standard_normal((3, 5)), rng.standard_normal((6, 4)))]  # fmt: skip
    predicted = student(
        """
        def predicted(z):
            return torch.as_tensor(z).argmax(dim=0).numpy()
        """,
        torch=torch,
    )
    assert "`torch.as_tensor(z).argmax(dim=1)`" in _repaired(predicted, cases, "repair:axis")


def test_a_product_where_a_power_belongs_is_repaired():
    cases = [Case(f"k = {k}", (k,), np.full((k, k), 1 / k**2)) for k in (1, 3, 5)]
    blur = student(
        """
        def blur(k):
            return np.ones((k, k)) / (k * 2)
        """
    )
    assert "`k ** 2` for `k * 2`" in _repaired(blur, cases, "repair:power")


def test_a_constant_with_the_wrong_sign_is_repaired_at_every_place_alike():
    laplace = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]])
    cases = [Case("the kernel", (), laplace)]
    kernel = student(
        """
        def kernel():
            return np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]])
        """
    )
    text = _repaired(kernel, cases, "repair:sign")
    assert "`-1` for `1` (and the same at the 3 other places written alike)" in text


def test_the_two_arguments_of_a_method_call_are_swapped():
    """rng.uniform(high, low, size=...): numpy accepts it and negates every draw."""
    cases = [Case(f"seed {s}", (s, 0.5), np.random.default_rng(s).uniform(-0.5, 0.5, size=4))
             for s in (0, 1)]  # fmt: skip
    draw = student(
        """
        def draw(seed, bound):
            rng = np.random.default_rng(seed)
            return rng.uniform(bound, -bound, size=4)
        """
    )
    text = _repaired(draw, cases, "repair:swapped")
    assert "`rng.uniform(-bound, bound, size=4)` for `rng.uniform(bound, -bound, size=4)`" in text


def test_nested_loops_over_each_others_range_are_repaired():
    """Rows looped over the column count and columns over the row count."""
    rng = np.random.default_rng(11)
    shapes = ((2, 4), (3, 3), (4, 2))
    cases = [Case(f"{X.shape}", (X,), X * 2) for X in map(rng.standard_normal, shapes)]
    doubled = student(
        """
        def doubled(X):
            H, W = X.shape
            Y = np.zeros((H, W))
            for r in range(W):
                for c in range(H):
                    Y[r, c] = 2 * X[r, c]
            return Y
        """
    )
    text = _repaired(doubled, cases, "repair:swapped")
    assert "`for r in range(H): for c in range(W)`" in text


def test_an_arange_one_short_is_repaired():
    cases = [Case(f"n = {n}", (n,), np.arange(-n, n + 1) ** 2) for n in (1, 2, 4)]
    squares = student(
        """
        def squares(n):
            return np.arange(-n, n) ** 2
        """
    )
    assert "`np.arange(-n, n + 1)` for `np.arange(-n, n)`" in _repaired(
        squares, cases, "repair:off_by_one"
    )


def test_a_loop_that_counts_its_first_item_again_is_repaired():
    cases = [
        Case(f"{len(x)} items", (x,), float(np.sum(x))) for x in ([1.0, 2.0], [3.0, -1.0, 4.0])
    ]
    total = student(
        """
        def total(x):
            t = x[0]
            for i in range(len(x)):
                t += x[i]
            return t
        """
    )
    assert "`range(1, len(x))` for `range(len(x))`" in _repaired(total, cases, "repair:off_by_one")


def test_a_name_for_its_twin_in_each_product_alike_is_repaired():
    """`i * k` and `j * k` where the stride belongs, while `+ k` (the window) and `k * k`
    stay: only the products with the other operand a different name are changed."""

    def pooled_right(x, k, s):
        n = (len(x) - k) // s + 1
        return np.array([x[i * s : i * s + k].reshape(k, 1).sum() / (k * k) for i in range(n)])

    rng = np.random.default_rng(12)
    cases = [
        Case(f"k = {k}, s = {s}", (x, k, s), pooled_right(x, k, s))
        for x, k, s in [(rng.standard_normal(9), 3, 2), (rng.standard_normal(8), 2, 3)]
    ]
    pooled = student(
        """
        def pooled(x, k, s):
            n = (len(x) - k) // s + 1
            return np.array([x[i * k : i * k + k].reshape(k, 1).sum() / (k * k) for i in range(n)])
        """
    )
    text = _repaired(pooled, cases, "repair:name")
    assert "writing `s` for `k` in `i * k` (and the same at the other place written alike)" in text


def test_one_arithmetic_operator_for_another_is_repaired():
    """A scale where an offset belongs: `x * b`, not `x + b`."""
    cases = [Case(f"b = {b}", (np.arange(4.0), b), np.arange(4.0) + b) for b in (0.5, 2.0, -3.0)]
    shifted = student(
        """
        def shifted(x, b):
            y = x.copy()
            return y * b
        """
    )
    assert "`y + b` for `y * b`" in _repaired(shifted, cases, "repair:operator")


def test_a_factor_that_does_not_belong_is_repaired():
    """The 1/2 of a penalty λ/2·w² carried into its derivative λ·w."""
    rng = np.random.default_rng(3)
    settings = ((0.1, *rng.standard_normal((2, 3))), (0.01, *rng.standard_normal((2, 5))))
    cases = [Case(f"lam = {lam}", (g, w, lam), g + lam * w) for lam, g, w in settings]
    decay = student(
        """
        def decay_gradient(g, w, lam):
            return g + lam / 2 * w
        """
    )
    assert "`lam` for `lam / 2`" in _repaired(decay, cases, "repair:extra_factor")


def test_a_value_rounded_for_printing_is_repaired_at_both_places_alike():
    rng = np.random.default_rng(4)
    cases = [Case(f"{n} values", (x,), (x.mean(), (x**2).mean())) for n, x in
             ((5, rng.standard_normal(5)), (9, rng.standard_normal(9)))]  # fmt: skip
    moments = student(
        """
        def moments(x):
            n = len(x)
            first, second = x.sum(), (x**2).sum()
            return round(first / n, 3), round(second / n, 3)
        """
    )
    text = _repaired(moments, cases, "repair:wrapped")
    assert "`first / n` for `round(first / n, 3)` (and the same at the other place" in text


def test_a_sibling_function_is_repaired():
    """A kernel divided by its Euclidean norm where its sum belongs, and Python's `max`
    where numpy's elementwise `np.maximum` belongs (it raises on arrays)."""
    cases = [Case(f"size {n}", (n,), np.ones((n, n)) / n**2) for n in (2, 3)]
    flat = student(
        """
        def flat(n):
            k = np.ones((n, n))
            return k / np.linalg.norm(k)
        """
    )
    assert "`np.sum` for `np.linalg.norm`" in _repaired(flat, cases, "repair:function")
    cases = [Case(f"{len(a)} values", (a, 0.5), np.maximum(a, 0.5)) for a in
             (np.array([0.0, 1.0]), np.array([2.0, -1.0, 0.7]))]  # fmt: skip
    floor = student(
        """
        def floor(a, eps):
            return max(a, eps)
        """
    )
    assert "`np.maximum` for `max`" in _repaired(floor, cases, "repair:function")


def test_the_wrong_item_of_a_result_is_repaired():
    """divmod's remainder where its quotient belongs."""
    cases = [Case(f"{n} // {k}", (n, k), n // k) for n, k in ((7, 2), (9, 4), (3, 5))]
    quotient = student(
        """
        def quotient(n, k):
            return divmod(n, k)[1]
        """
    )
    assert "`divmod(n, k)[0]` for `divmod(n, k)[1]`" in _repaired(quotient, cases, "repair:item")


def test_a_reduction_without_axis_or_keepdims_is_repaired():
    """The log-sum-exp over the whole batch where each row has its own."""
    rng = np.random.default_rng(5)
    z = [rng.standard_normal((n, 4)) for n in (2, 3)]
    cases = [Case(f"{len(a)} rows", (a,), a - np.log(np.exp(a).sum(axis=1, keepdims=True)))
             for a in z]  # fmt: skip
    log_softmax = student(
        """
        def log_softmax(z):
            return z - np.log(np.sum(np.exp(z)))
        """
    )
    text = _repaired(log_softmax, cases, "repair:axis")
    assert "`np.sum(np.exp(z), axis=1, keepdims=True)` for `np.sum(np.exp(z))`" in text


def test_a_step_at_the_wrong_level_of_the_loops_is_repaired():
    """A scratch array cleared once where each pass needs a clean one; a total reset in
    every pass; a return inside the loop."""
    rng = np.random.default_rng(6)
    cases = [Case(f"{X.shape}", (X,), X.cumsum(axis=1)) for X in
             (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))]  # fmt: skip
    rows = student(
        """
        def running(X):
            out = np.zeros_like(X)
            total = 0.0
            for r in range(X.shape[0]):
                for c in range(X.shape[1]):
                    total += X[r, c]
                    out[r, c] = total
            return out
        """
    )
    text = _repaired(rows, cases, "repair:loop_level")
    assert "`total = 0.0`, running it at the start of each pass of `for r in" in text
    cases = [Case(f"{len(x)} values", (x,), float(np.sum(np.abs(x)))) for x in
             (np.array([1.0, -2.0]), np.array([3.0, 0.5, -1.0]))]  # fmt: skip
    early = student(
        """
        def total_size(x):
            t = 0.0
            for v in x:
                t += abs(v)
                return t
        """
    )
    text = _repaired(early, cases, "repair:loop_level")
    assert "`return t`, running it once, after `for v in x`" in text


def test_a_step_at_the_wrong_level_of_a_while_loop_is_repaired():
    """A counter set once before two while loops, where the inner one needs it reset."""
    rng = np.random.default_rng(7)
    cases = [Case(f"{X.shape}", (X,), X.cumsum(axis=1)) for X in
             (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))]  # fmt: skip
    rows = student(
        """
        def running(X):
            out = np.zeros_like(X)
            r = 0
            c = 0
            while r < X.shape[0]:
                total = 0.0
                while c < X.shape[1]:
                    total += X[r, c]
                    out[r, c] = total
                    c += 1
                r += 1
            return out
        """
    )
    text = _repaired(rows, cases, "repair:loop_level")
    assert "`c = 0`, running it at the start of each pass of `while r < X.shape[0]`" in text


def test_counters_set_together_in_one_line_are_moved_apart():
    """`r, c = 0, 0` is two steps on one line: the inner counter alone moves into the outer
    loop, and the message says which part of the line moved. A swap (`a, b = b, a`) reads
    what it assigns and stays one statement."""
    rng = np.random.default_rng(7)
    cases = [Case(f"{X.shape}", (X,), X.cumsum(axis=1)) for X in
             (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))]  # fmt: skip
    rows = student(
        """
        def running(X):
            out = np.zeros_like(X)
            r, c = 0, 0
            while r < X.shape[0]:
                total = 0.0
                while c < X.shape[1]:
                    total += X[r, c]
                    out[r, c] = total
                    c += 1
                r += 1
            return out
        """
    )
    text = _repaired(rows, cases, "repair:loop_level")
    assert "`r, c = 0, 0`, running `c = 0` at the start of each pass of `while r <" in text
    swap = ast.parse("def f(a, b):\n    a, b = b, a\n    s, p = a, b\n    i, j = 0, 0.5\n").body[0]
    _repair._split_pairs(swap)
    assert [ast.unparse(s) for s in swap.body] == [
        "a, b = (b, a)",
        "s, p = (a, b)",
        "i = 0",
        "j = 0.5",
    ]


def test_a_product_accumulated_where_a_sum_belongs_is_repaired():
    cases = [Case(f"{len(x)} maps", (x,), x.sum(axis=0)) for x in
             (np.arange(1.0, 7.0).reshape(2, 3), np.arange(2.0, 14.0).reshape(3, 4))]  # fmt: skip
    multiplied = student(
        """
        def summed(maps):
            Y = np.ones(maps.shape[1:])
            Y = maps[0].copy()
            for m in maps[1:]:
                Y *= m
            return Y
        """
    )
    text = _repaired(multiplied, cases, "repair:operator")
    assert "writing `Y += m` for `Y *= m`" in text


def test_a_step_that_does_not_belong_is_named_by_leaving_it_out():
    """An even size made odd ('a kernel needs a centre'): no edit of the line names it,
    leaving the `if` out does. `k *= 1` for `k += 1` would pass too, and is not tried."""
    cases = [Case(f"k = {k}", (k,), np.full((k, k), 1 / k**2)) for k in (2, 3, 4)]
    odd = student(
        """
        def box(k):
            if k % 2 == 0:
                k += 1
            return np.full((k, k), 1 / k**2)
        """
    )
    text = _repaired(odd, cases, "repair:extra_step")
    assert "line 3 of your box, `if k % 2 == 0:`, leaving it out with its block" in text


def test_grouping_slips_are_repaired():
    """A power over the whole product; a second `if` where `elif` belongs; a generator
    where a list belongs; one side of a pair of paddings left at 0; axis numbers counted
    before an axis was added (every one off: the `axis` repair)."""
    s = np.array([0.5, 1.5])
    cases = [Case(f"k = {k}", (k, v), k * v**2) for k, v in ((0.5, 1.5), (3.0, 2.0), (2.0, 0.5))]
    squared = student(
        """
        def energy(k, v):
            return (k * v) ** 2
        """
    )
    assert "writing `k * v ** 2` for `(k * v) ** 2`" in _repaired(
        squared, cases, "repair:power_scope"
    )

    cases = [
        Case(f"mode {m}", (m, s), {"full": s + 1, "valid": s - 1}[m]) for m in ("full", "valid")
    ]
    chained = student(
        """
        def shifted(mode, x):
            if mode == "full":
                out = x + 1
            if mode == "valid":
                out = x - 1
            else:
                raise ValueError(mode)
            return out
        """
    )
    assert "writing `elif` for this `if`" in _repaired(chained, cases, "repair:elif")

    maps = np.arange(6.0).reshape(2, 3)
    cases = [Case("two maps", (maps,), maps * 2)]
    generated = student(
        """
        def doubled(maps):
            return np.stack(m * 2 for m in maps)
        """
    )
    _repaired(generated, cases, "repair:generator")

    x = np.arange(12.0).reshape(3, 4)
    cases = [Case(f"pad {p}", (x, *p), np.pad(x, ((p[0], p[0]), (p[1], p[1])))) for p in
             ((1, 2), (2, 1))]  # fmt: skip
    one_sided = student(
        """
        def padded(x, ph, pw):
            return np.pad(x, ((ph, 0), (pw, 0)))
        """
    )
    text = _repaired(one_sided, cases, "repair:one_side")  # each place keeps its own name
    assert "`(ph, ph)` for `(ph, 0)` (and the same at the other place written alike)" in text

    rng = np.random.default_rng(3)
    cases = [Case(f"{a.shape}", (a,), a[None].sum(axis=(2, 3))) for a in
             (rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 2, 5)))]  # fmt: skip
    counted_before = student(
        """
        def summed(a):
            b = a[None]
            return b.sum(axis=(1, 2))
        """
    )
    assert "`b.sum(axis=(2, 3))` for `b.sum(axis=(1, 2))`" in _repaired(
        counted_before, cases, "repair:axis"
    )


def test_conventions_read_another_way_are_repaired():
    """A slice that ends at `-p` (empty for p = 0), np.pad's widths per axis, `squeeze()`
    without axes, keyword-only arguments given by position, a difference kept signed."""
    x = np.arange(12.0).reshape(3, 4)
    cases = [Case(f"crop {p}", (np.pad(x, p), p), x) for p in (1, 2, 0)]
    cropped = student(
        """
        def crop(y, p):
            return y[p:-p, p:-p]
        """
    )
    text = _repaired(cropped, cases, "repair:negative_end")
    assert "writing `-p or None` for `-p` (and the same at the other place written alike)" in text

    cases = [Case(f"pad {p}", (x, *p), np.pad(x, ((p[0], p[0]), (p[1], p[1])))) for p in
             ((1, 2), (2, 0))]  # fmt: skip
    paired = student(
        """
        def padded(x, ph, pw):
            return np.pad(x, (ph, pw))
        """
    )
    text = _repaired(paired, cases, "repair:pad_width")
    assert "writing `((ph, ph), (pw, pw))` for `(ph, pw)`" in text

    rng = np.random.default_rng(4)
    cases = []
    for c_out, c_in in ((3, 2), (3, 1), (2, 4)):
        K, X = rng.standard_normal((c_out, c_in, 1, 1)), rng.standard_normal((c_in, 5))
        cases.append(Case(f"{c_out}, {c_in}", (K, X), K[:, :, 0, 0] @ X))
    squeezed = student(
        """
        def mixed(K, X):
            W = K.squeeze()
            return W @ X
        """
    )
    text = _repaired(squeezed, cases, "repair:squeeze")
    assert "writing `K.squeeze(axis=(2, 3))` for `K.squeeze()`" in text

    def scaled(x, *, factor=1.0, shift=0.0):
        return x * factor + shift

    cases = [Case(f"{f}, {s}", (x, f, s), x * f + s) for f, s in ((2.0, 1.0), (0.5, -3.0))]
    positional = student(
        """
        def affine(x, f, s):
            return scaled(x, f, s)
        """,
        scaled=scaled,
    )
    text = _repaired(positional, cases, "repair:keyword")
    assert "writing `scaled(x, factor=f, shift=s)` for `scaled(x, f, s)`" in text

    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.0])
    cases = [Case("a, b", (a, b), 0.2), Case("b, a", (b, a), 0.2)]
    signed = student(
        """
        def rel(a, b):
            return np.max((a - b) / (np.abs(a) + np.abs(b)))
        """
    )
    text = _repaired(signed, cases, "repair:absolute")
    assert "writing `np.abs(a - b)` for `a - b`" in text


def test_more_conventions_read_another_way_are_repaired():
    """A slice that ends at a length, a pair unpacked from what may be one int, numpy's
    shape given as two arguments, `is` for `==`, `or` for `and` in a guard that raised,
    `%` for `//`."""
    x = np.arange(10.0)
    cases = [Case(f"batches of {b}", (x, b), [x[i : i + b].sum() for i in range(0, 10, b)])
             for b in (3, 4)]  # fmt: skip
    batched = student(
        """
        def batch_sums(x, b):
            return [x[i:b].sum() for i in range(0, len(x), b)]
        """
    )
    text = _repaired(batched, cases, "repair:slice_length")
    assert "writing `i:i + b` for `i:b`" in text

    def as_pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    cases = [Case(f"size {k}", (k,), np.ones(as_pair(k))) for k in (2, (2, 3), 3)]
    unpacked = student(
        """
        def ones(size):
            kh, kw = size
            return np.ones((kh, kw))
        """,
        as_pair=as_pair,
    )
    assert "writing `as_pair(size)` for `size`" in _repaired(unpacked, cases, "repair:as_pair")

    cases = [Case(f"k = {k}", (k,), np.full((k, k), 1 / k**2)) for k in (2, 3)]
    matlab = student(
        """
        def box(k):
            return np.ones(k, k) / k**2
        """
    )
    assert "writing `np.ones((k, k))` for `np.ones(k, k)`" in _repaired(
        matlab, cases, "repair:shape_args"
    )

    mode = "".join(["fu", "ll"])  # a mode built at run time is another object
    cases = [Case("full", (mode,), 2), Case("valid", ("valid",), 0)]
    compared = student(
        """
        def extra(mode):
            if mode is "full":
                return 2
            return 0
        """
    )
    assert "writing `mode == 'full'` for `mode is 'full'`" in _repaired(
        compared, cases, "repair:identity"
    )

    cases = [Case(m, (3.0, m), 3.0 if m == "max" else 1.5) for m in ("max", "avg")]
    guarded = student(
        """
        def pooled(v, mode):
            if mode != "max" or mode != "avg":
                raise ValueError(mode)
            return v if mode == "max" else v / 2
        """
    )
    text = _repaired(guarded, cases, "repair:logic")  # the guard raised: its test is edited
    assert "writing `mode != 'max' and mode != 'avg'` for `mode != 'max' or mode != 'avg'`" in text

    cases = [Case(f"{n}, {s}", (n, s), (n - 3) // s + 1) for n, s in ((7, 2), (10, 3), (9, 1))]
    remainder = student(
        """
        def size(n, s):
            return (n - 3) % s + 1
        """
    )
    assert "writing `(n - 3) // s` for `(n - 3) % s`" in _repaired(
        remainder, cases, "repair:operator"
    )


def test_defaults_casts_rows_and_squeezes_are_repaired():
    """A parameter's default, `.astype(int)` on a float result, a row typed without its
    minus signs (which of two alike rows is said), `squeeze()` that should not be there,
    and one name of a product written alike at both ends of a slice."""
    x = np.arange(6.0).reshape(2, 3)
    cases = [Case("no mode", (x,), x.sum()), Case("rows", (x,), x.sum(axis=1), {"mode": "rows"})]
    defaulted = student(
        """
        def total(x, mode="rows"):
            if mode == "all":
                return x.sum()
            if mode == "rows":
                return x.sum(axis=1)
            raise ValueError(mode)
        """
    )
    text = _repaired(defaulted, cases, "repair:default")
    assert "`def total(x, mode=\"rows\"):`, writing `'all'` for `'rows'`" in text
    assert "with the exercise's docstring beside it" in text

    cases = [Case(f"{k}", (x / k,), x / k + 1) for k in (3.0, 7.0)]
    cast = student(
        """
        def shifted(x):
            return x.astype(int) + 1
        """
    )
    assert "writing `x` for `x.astype(int)`" in _repaired(cast, cases, "repair:wrapped")

    cases = [Case("sobel y", (), np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]]))]
    rows = student(
        """
        def sobel():
            return np.array([[1, 2, 1], [0, 0, 0], [1, 2, 1]], dtype=float)
        """
    )
    text = _repaired(rows, cases, "repair:sign")
    assert "writing `[-1, -2, -1]` for `[1, 2, 1]` (the second of the 2 in that line)" in text

    rng = np.random.default_rng(5)
    cases = [Case(f"C = {c}", (rng.standard_normal((c, 3, 3)),), None) for c in (2, 1, 3)]
    cases = [Case(c.label, c.args, c.args[0].sum(axis=0)) for c in cases]
    squeezed = student(
        """
        def channel_sum(X):
            X = X.squeeze()
            total = X[0].copy()
            for c in range(1, X.shape[0]):
                total += X[c]
            return total
        """
    )
    assert "writing `X` for `X.squeeze()`" in _repaired(squeezed, cases, "repair:squeeze")
    unpacked = student(
        """
        def channel_sum(X):
            X = np.squeeze(X)
            C, H, W = X.shape
            return X.reshape(C, H * W).sum(axis=0).reshape(H, W)
        """
    )
    # It raises in line 3, and the statement edited elsewhere is not needed at all: a
    # step that only transforms X in place is named as left out.
    text = _repaired(unpacked, cases, "repair:extra_step")
    assert "`X = np.squeeze(X)`, leaving it out makes every case" in text

    img = np.arange(30.0).reshape(5, 6)
    cases = [Case(f"{s}", (img, s), img[:: s[0], :: s[1]]) for s in ((2, 3), (1, 2), (3, 1))]
    strided = student(
        """
        def subsample(X, stride):
            sh, sw = stride
            H = (X.shape[0] - 1) // sh + 1
            W = (X.shape[1] - 1) // sw + 1
            Y = np.zeros((H, W))
            for i in range(H):
                for j in range(W):
                    Y[i, j] = X[i * sh : i * sh + 1, j * sh : j * sh + 1].sum()
            return Y
        """
    )
    text = _repaired(strided, cases, "repair:name")
    assert "writing `sw` for `sh` in `j * sh` (and the same at the other place written" in text


def test_counts_arguments_and_tensors_are_repaired():
    """A 0/1 array added where its count belongs (the check's float() of the result is
    what raised: outside the function, an ordinary failure), an argument that does not
    belong (at every call that gives it), `.detach()` and `.to()` of a numpy array."""
    import torch

    pred, y = np.array([0, 1, 2, 1]), np.array([0, 2, 2, 1])
    cases = [Case("4 labels", (pred, y), 0.75), Case("first 3", (pred[:3], y[:3]), 2 / 3)]
    counted = student(
        """
        def accuracy(pred, y):
            correct = 0
            correct = correct + (pred == y)
            return correct / len(y)
        """
    )

    def as_float(f):
        def run(*args):  # a check's own wrapper, which takes float() of the result
            return float(f(*args))

        run.__module__ = "course.checks._core"
        return run

    err = _named(lambda f: check(as_float(f), name="accuracy", cases=cases), counted)
    assert err.mistake == "repair:missing_sum", str(err)
    assert "writing `(pred == y).sum()` for `pred == y`" in " ".join(str(err).split())

    a, b = np.array([1.0, 2.0, 2.0]), np.array([1.0, 2.5, 2.0])
    cases = [Case("vectors", (a, b), np.linalg.norm(a - b) / (np.linalg.norm(a) +
             np.linalg.norm(b)))]  # fmt: skip
    fro = student(
        """
        def rel(a, b):
            den = np.linalg.norm(a, "fro") + np.linalg.norm(b, "fro")
            return np.linalg.norm(a - b, "fro") / den
        """
    )
    text = _repaired(fro, cases, "repair:extra_argument")
    assert "(and the same at the 2 other places written alike)" in text

    xs = [np.ones((2, 3)), np.arange(6.0).reshape(2, 3)]
    cases = [Case(f"{i}", (x,), torch.as_tensor(x * 2)) for i, x in enumerate(xs)]
    moved = student(
        """
        def doubled(x):
            return x.to("cpu") * 2
        """,
        torch=torch,
    )
    assert "writing `torch.as_tensor(x).to('cpu')` for `x.to('cpu')`" in _repaired(
        moved, cases, "repair:conversion"
    )

    cases = [Case(f"w = {v}", (torch.tensor(v, requires_grad=True),), 2 * torch.tensor(v))
             for v in ([1.0, -2.0], [0.5, 3.0, -1.0])]  # fmt: skip
    detached = student(
        """
        def grad_of_square_sum(w):
            w.grad = None
            loss = (w.detach() ** 2).sum()
            loss.requires_grad_(True)
            loss.backward()
            return w.grad if w.grad is not None else torch.zeros_like(w)
        """,
        torch=torch,
    )
    assert "writing `w` for `w.detach()`" in _repaired(detached, cases, "repair:wrapped")


def test_a_guess_that_transforms_in_place_is_named_as_left_out():
    """`if X.shape[-1] == 3: X = X.transpose(2, 0, 1)` (photos stored channels last) goes
    wrong on a channels-first input 3 wide: the function then raises further down, and
    the block, which only transforms X in place, is what does not belong."""
    rng = np.random.default_rng(8)
    cases = [Case(f"{s}", (rng.standard_normal(s),), None) for s in ((2, 4, 3), (3, 2, 5))]
    cases = [Case(c.label, c.args, c.args[0].sum(axis=0)) for c in cases]
    guessed = student(
        """
        def channel_sum(X):
            if X.shape[-1] == 3:
                X = X.transpose(2, 0, 1)
            total = np.zeros(X.shape[1:])
            for c in range(X.shape[0]):
                total += X[c]
            return total
        """
    )
    text = _repaired(guessed, cases, "repair:extra_step")
    assert "`if X.shape[-1] == 3:`, leaving it out with its block" in text


def test_an_einsum_output_that_leaves_out_an_index_is_repaired():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    cases = [Case("2×3 @ 3×4", (a, b), a @ b), Case("3×2 @ 2×3", (a.T, a), a.T @ a)]
    summed = student(
        """
        def product(a, b):
            return np.einsum("ik,kj->i", a, b)
        """
    )
    text = _repaired(summed, cases, "repair:einsum")
    assert "writing `'ik,kj->ij'` for `'ik,kj->i'`" in text


def test_a_value_one_branch_forgot_to_flip_is_repaired():
    """One branch flips K, the other passes it as it is: the flipped form is tried there."""
    X, K = np.arange(12.0).reshape(3, 4), np.array([[1.0, 2.0], [0.0, -1.0]])

    def corr(X, K):
        h, w = K.shape
        return np.array([[np.sum(X[i : i + h, j : j + w] * K) for j in range(X.shape[1] - w + 1)]
                         for i in range(X.shape[0] - h + 1)])  # fmt: skip

    cases = [Case(m, (X, K, m), corr(np.pad(X, 1) if m == "full" else X, K[::-1, ::-1]))
             for m in ("valid", "full")]  # fmt: skip
    branches = student(
        """
        def conv(X, K, mode):
            if mode == "valid":
                return corr(X, K[::-1, ::-1])
            return corr(np.pad(X, 1), K)
        """,
        corr=corr,
    )
    text = _repaired(branches, cases, "repair:as_elsewhere")
    assert "`return corr(np.pad(X, 1), K)`, writing `K[::-1, ::-1]` for `K`" in text


def test_a_step_thrown_away_by_a_swap_or_a_power_is_not_an_order_or_a_sign():
    """Moving a clip after the line that reads it throws the clip away: that is the clip
    left out (here, the call dropped), not an order. `s ** -2` for `s ** 2` is no sign."""
    z = np.array([[0.0, -300.0, 2.0], [1.0, 0.0, -250.0]])
    cases = [Case("rows", (z,), z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1,
             keepdims=True)) - z.max(1, keepdims=True))]  # fmt: skip
    clipped = student(
        """
        def log_softmax(z):
            shifted = z - z.max(axis=1, keepdims=True)
            shifted = np.clip(shifted, -100, 0)
            return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        """
    )
    text = _repaired(clipped, cases, "repair:wrapped")
    assert "writing `shifted` for `np.clip(shifted, -100, 0)`" in text

    u = np.arange(-1.0, 2.0)
    cases = [Case(f"sigma {s}", (s,), np.exp(-(u**2) / (2 * s**2))) for s in (0.5, 1.5, 2.0)]
    grouped = student(
        """
        def bell(sigma):
            u = np.arange(-1.0, 2.0)
            return np.exp(-(u ** 2) / 2 * sigma ** 2)
        """
    )
    text = _repaired(grouped, cases, "repair:operator")
    assert "`-u ** 2 / 2 / sigma ** 2` for `-u ** 2 / 2 * sigma ** 2`" in text


def test_a_square_assumed_and_a_fixed_device_are_repaired():
    """`KH ** 2` where `KH * KW` belongs; `.cuda()` where the `device` argument belongs
    (it raises on a machine without CUDA, which is where the check runs)."""
    import torch

    cases = [Case(f"{kh}×{kw}", (kh, kw), kh * kw * 3) for kh, kw in ((2, 3), (5, 1), (3, 3))]
    squared = student(
        """
        def taps(KH, KW):
            return 3 * KH**2
        """
    )
    assert "writing `KH * KW` for `KH ** 2`" in _repaired(squared, cases, "repair:square")

    if torch.cuda.is_available():
        return  # .cuda() works there: nothing to repair
    x = np.arange(3.0)
    cases = [Case("cpu", (x, torch.device("cpu")), x * 2)]
    cuda = student(
        """
        def doubled(x, device):
            return (torch.as_tensor(x).cuda() * 2).cpu().numpy()
        """,
        torch=torch,
    )
    text = _repaired(cuda, cases, "repair:device")
    assert "writing `torch.as_tensor(x).to(device)` for `torch.as_tensor(x).cuda()`" in text


def test_code_that_reads_memory_by_hand_is_never_edited():
    """An edited stride or shape of as_strided reads outside the array: a segfault would
    end the student's kernel. Such a function is left as it is."""
    cases = [Case(f"{x.shape}", (x,), x[:, :2].copy()) for x in (np.arange(12.0).reshape(3, 4),)]
    by_hand = student(
        """
        def first_two_columns(x):
            H, W = x.shape
            return np.lib.stride_tricks.as_strided(x, shape=(H, 3), strides=(W * 8, 8)).copy()
        """
    )
    assert repair(by_hand, cases, lambda f, c: np.array_equal(f(*c.args), c.expected)) is None


def test_a_block_inside_a_with_that_changes_it_is_repaired():
    """Errors silenced by np.errstate where a warning is the point is not a case here;
    a block under `np.errstate(all='raise')` that raises on a harmless overflow is."""
    cases = [Case(f"x = {x}", (np.array(x),), np.exp(-np.array(x))) for x in ([1.0, 800.0],)]
    decay = student(
        """
        def decay(x):
            with np.errstate(all="raise"):
                y = np.exp(-x)
            return y
        """
    )
    text = _repaired(decay, cases, "repair:context")
    assert '`with np.errstate(all="raise"):`, running its block without it' in text


def test_a_torch_loop_is_repaired_through_the_checks_own_runs():
    """The 07 checks run the student's loop themselves (a spy model, a device watch); the
    search hands its edited versions to those runs: `opt.step()` after the loop, and a
    whole epoch under `torch.no_grad()` (which raises in backward)."""
    import torch
    import torch.nn.functional as F

    from course.checks import gpu

    loop = """
        def train_epoch_torch(model, batches, opt, device):
            model.train()
            total, correct, count = 0.0, 0, 0
            with {context}:
                for x, y in batches:
                    x, y = torch.as_tensor(x).to(device), torch.as_tensor(y).to(device)
                    opt.zero_grad()
                    logits = model(x)
                    loss = F.cross_entropy(logits, y)
                    loss.backward()
                    {step_in}
                    total += loss.item() * len(y)
                    correct += (logits.argmax(dim=1) == y).sum().item()
                    count += len(y)
                {step_after}
            return {{"loss": total / count, "acc": correct / count}}
        """
    names = {"torch": torch, "F": F}
    late = loop.format(context="torch.enable_grad()", step_in="", step_after="opt.step()")
    err = _named(gpu.check_train_epoch_torch, student(late, **names))
    text = " ".join(str(err).split())
    assert err.mistake == "repair:loop_level", text
    assert "`opt.step()`, running it at the end of each pass of `for x, y in batches`" in text

    frozen = loop.format(context="torch.no_grad()", step_in="opt.step()", step_after="")
    err = _named(gpu.check_train_epoch_torch, student(frozen, **names))
    text = " ".join(str(err).split())
    assert err.mistake == "repair:context", text
    assert "raised RuntimeError" in text and "running its block without it" in text


def test_an_index_is_never_given_the_other_sign():
    """K[2, 2] for the middle of a 3×3 kernel (MATLAB's 1-based middle): writing K[-2, -2]
    would pass, and say nothing true about a sign."""
    middle = np.full((3, 3), -1.0)
    middle[1, 1] = 8.0
    cases = [Case("the kernel", (), middle)]
    kernel = student(
        """
        def kernel():
            K = np.full((3, 3), -1.0)
            K[2, 2] = 8.0
            return K
        """
    )
    found = repair(kernel, cases, lambda f, c: np.array_equal(f(*c.args), c.expected))
    assert found is None or found.key != "repair:sign", found


def test_a_function_used_without_its_call_is_repaired():
    """`base.T` where `base().T` belongs: the student's own helper, never called."""

    def base():
        return np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])

    cases = [Case("the kernel", (), base().T)]
    turned = student(
        """
        def turned():
            return base.T
        """,
        base=base,
    )
    assert "`base()` for `base`" in _repaired(turned, cases, "repair:uncalled")


def test_chained_indexing_is_repaired():
    """X[rows][cols] slices the rows twice; X[rows, cols] is the window."""
    rng = np.random.default_rng(7)
    cases = [Case(f"{X.shape}", (X,), X[1:3, 0:2]) for X in
             (rng.standard_normal((4, 4)), rng.standard_normal((3, 5)))]  # fmt: skip
    window = student(
        """
        def window(X):
            return X[1:3][0:2]
        """
    )
    assert "`X[1:3, 0:2]` for `X[1:3][0:2]`" in _repaired(window, cases, "repair:chained_index")


def test_a_caret_where_a_power_belongs_is_repaired():
    cases = [Case(f"k = {k}", (k,), np.full((k, k), 1 / k**2)) for k in (2, 3, 5)]
    blur = student(
        """
        def blur(k):
            return np.ones((k, k)) / (k ^ 2)
        """
    )
    assert "`k ** 2` for `k ^ 2`" in _repaired(blur, cases, "repair:power")


def test_parentheses_a_conditional_or_a_division_needed_are_repaired():
    cases = [Case(f"bias={b}", (3, 2, b), 6 + (2 if b else 0)) for b in (True, False)]
    count = student(
        """
        def count(c_in, c_out, bias):
            return c_in * c_out + c_out if bias else 0
        """
    )
    text = _repaired(count, cases, "repair:precedence")
    assert "`c_in * c_out + (c_out if bias else 0)`" in text
    cases = [Case(f"n = {n}", (n, 3, 2), (n - 3) // 2 + 1) for n in (7, 10, 12)]
    size = student(
        """
        def size(n, k, s):
            return n // s - k + 1
        """
    )
    assert "`(n - k) // s`" in _repaired(size, cases, "repair:precedence")


def test_an_entry_where_the_whole_array_belongs_is_repaired():
    rng = np.random.default_rng(8)
    cases = [Case(f"{X.shape}", (X,), X.sum(axis=0)) for X in
             (rng.standard_normal((2, 3, 3)), rng.standard_normal((4, 2, 2)))]  # fmt: skip
    summed = student(
        """
        def summed(X):
            Y = np.zeros(X.shape[1:])
            for c in range(len(X[0])):
                Y += X[c]
            return Y
        """
    )
    assert "`X` for `X[0]`" in _repaired(summed, cases, "repair:whole")


def test_an_array_allocated_one_short_or_with_a_dtype_is_repaired():
    rng = np.random.default_rng(9)
    cases = [Case(f"{X.shape}", (X,), X[:-1, :-1] + X[1:, 1:]) for X in
             (rng.standard_normal((3, 4)), rng.standard_normal((4, 4)))]  # fmt: skip
    short = student(
        """
        def pairs(X):
            H, W = X.shape
            Y = np.zeros((H - 2, W - 2))
            Y[...] = X[:-1, :-1] + X[1:, 1:]
            return Y
        """
    )
    assert "`H - 1` for `H - 2`" in _repaired(short, cases, "repair:off_by_one")
    whole = student(
        """
        def pairs(X):
            H, W = X.shape
            Y = np.zeros((H - 1, W - 1), dtype=int)
            Y[...] = X[:-1, :-1] + X[1:, 1:]
            return Y
        """
    )
    assert "np.zeros((H - 1, W - 1))" in _repaired(whole, cases, "repair:dtype")


def test_plus_infinity_where_minus_belongs_is_repaired():
    cases = [Case(f"{x}", (np.array(x),), np.max(np.pad(np.array(x), 1, constant_values=-np.inf)))
             for x in ([-3.0, -1.0], [-2.0, -5.0, -4.0])]  # fmt: skip
    padded_max = student(
        """
        def padded_max(x):
            return np.max(np.pad(x, 1, constant_values=np.inf))
        """
    )
    assert "`-np.inf` for `np.inf`" in _repaired(padded_max, cases, "repair:sign")


def test_three_values_returned_in_the_wrong_order_are_repaired():
    cases = [Case(f"{x}", (x,), (x, 2 * x, 3 * x)) for x in (1.0, 2.5)]
    multiples = student(
        """
        def multiples(x):
            one, two, three = x, 2 * x, 3 * x
            return one, three, two
        """
    )
    text = _repaired(multiples, cases, "repair:swapped")
    assert "`(one, two, three)` for `(one, three, two)`" in text


def test_an_array_constructor_is_never_unwrapped():
    """np.array(values, dtype=np.uint8) cannot hold -1: the name is the dtype, not the
    array (without np.array the result is a list)."""
    cases = [Case("the kernel", (), np.array([[1.0, 0.0, -1.0]]))]
    kernel = student(
        """
        def kernel():
            return np.array([[1, 0, -1]], dtype=np.int8) * np.array([[1, 1, 1]], dtype=np.uint8)
        """
    )
    found = repair(kernel, cases, lambda f, c: np.array_equal(f(*c.args), c.expected))
    assert found is None or found.key != "repair:wrapped", found


def test_no_repair_is_a_guess():
    """An edit that fixes some cases but not all is no name; a constant that is merely
    off has no repair (a stray power such as `x ** 1.1` would have one: dropping it)."""
    cases = [Case(f"x = {x}", (x,), 2 * x) for x in (1.0, 2.0, 5.0)]
    noisy = student(
        """
        def double(x):
            return 2.01 * x
        """
    )
    assert repair(noisy, cases, lambda f, c: np.isclose(f(*c.args), c.expected)) is None

    wrong_once = student(
        """
        def double(x):
            return 2 * x + (1 if x > 3 else 0)
        """
    )
    # removing the conditional term is an edit that passes every case: it is a name
    found = repair(wrong_once, cases, lambda f, c: np.isclose(f(*c.args), c.expected))
    assert found is not None and found.key == "repair:extra_term"


def test_no_repair_throws_a_statements_work_away():
    """An edit that sends a statement's result where nothing reads it undoes the statement
    instead of naming it: clipped values stored into another dict (`c` for `g`, at one
    place or both). The clipping is named by dropping the call instead."""
    cases = [Case(f"{v}", (np.array(v),), np.array(v) * 3) for v in ([0.5, -2.0], [3.0, 0.1])]
    clipped = student(
        """
        def tripled(x):
            c, g = {"a": x}, {}
            for name in c:
                g[name] = c[name] * 3
            for name in g:
                g[name] = np.clip(g[name], -1.0, 1.0)
            return g["a"]
        """
    )
    text = _repaired(clipped, cases, "repair:wrapped")
    assert "writing `g[name]` for `np.clip(g[name], -1.0, 1.0)`" in text


def test_an_edit_that_never_finishes_is_stopped():
    """Edited loops can run forever (a bound that no longer moves): each call of an edited
    function is cut off, and the search stays within its budget."""
    cases = [Case(f"n = {n}", (n,), n * (n + 1) // 2) for n in (3, 4, 6)]
    slow = student(
        """
        def triangle(n):
            total, i = 0, 0
            while i < n:
                total += i
                i += 1
            return total
        """
    )
    found = repair(slow, cases, lambda f, c: f(*c.args) == c.expected)
    assert found is not None  # `i < n + 1` (or another bound) repairs it
    assert found.key == "repair:off_by_one"


def test_functions_of_the_course_and_lambdas_are_not_edited():
    cases = [Case("x = 1", (1.0,), 2.0)]
    assert repair(lambda x: 3 * x, cases, lambda f, c: f(*c.args) == c.expected) is None
    assert repair(conv.check_corr2d, cases, lambda f, c: True) is None


def test_an_edited_loop_that_never_ends_is_cut_off():
    """`i += 1` edited to `i = 1` loops for ever when n > 1: each call of an edited
    function is stopped after CALL_LIMIT_S, and the search goes on and ends (no single
    edit turns 2n into 3n)."""
    cases = [Case(f"n = {n}", (n,), 3 * n) for n in (2, 3, 5)]
    counting = student(
        """
        def count(n):
            i, c = 0, 0
            while i != n:
                i += 1
                c += 2
            return c
        """
    )
    start = time.monotonic()
    assert repair(counting, cases, lambda f, c: f(*c.args) == c.expected) is None
    assert time.monotonic() - start < 2 * CALL_LIMIT_S * len(cases) + 2


def _forward(x, w, b, *, stride=1, padding=0):
    """The notebook's forward: its cache is the tuple of its arguments."""
    out, _ = solutions.conv2d_forward(x, w, b, stride=stride, padding=padding)
    return out, (x, w, b, stride, padding)


def test_an_edit_that_only_stops_an_exception_elsewhere_names_nothing():
    """db does not depend on the line that raises (dw read from the unpadded x): an edit
    of that line that merely stops the exception (`dw =` for `dw +=`) would let db's
    check pass, so would leaving the line out, and the check names no edit."""
    backward = student(
        """
        def conv2d_backward(dout, cache):
            x, w, b, stride, padding = cache
            KH, KW = w.shape[2:]
            s, p = stride, padding
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            db = dout.sum(axis=(0, 2, 3))
            dw = np.zeros(w.shape)
            dxp = np.zeros(xp.shape)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows, cols = slice(i * s, i * s + KH), slice(j * s, j * s + KW)
                    d = dout[:, :, i, j]
                    dw += np.tensordot(d, x[:, :, rows, cols], axes=([0], [0]))
                    dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
            return dxp[:, :, p : p + x.shape[2], p : p + x.shape[3]], dw, db
        """
    )
    with pytest.raises(CheckFailed) as info:
        backprop.check_conv2d_backward(_forward, backward, part="db")
    assert info.value.mistake == "raised", str(info.value)


def test_the_judge_never_edits_code():
    """In the grading process the check calls a replay of the kernel's results, not code:
    there is nothing to edit, and nothing of the student runs there."""

    class Replay:
        def __call__(self, x):
            return 3 * x

    cases = [Case("x = 1", (1.0,), 2.0)]
    assert repair(Replay(), cases, lambda f, c: True) is None


def test_a_kernel_being_graded_does_not_search(monkeypatch):
    """The probe turns the search off: in grading, the visible check's words are replaced
    by the judge's, and a notebook of wrong answers must not pay seconds per cell."""
    cases = [Case(f"x = {x}", (x,), 2 * x) for x in (1.0, 2.0)]
    off = student(
        """
        def double(x):
            return 2 * x + 1
        """
    )
    passes = lambda f, c: f(*c.args) == c.expected  # noqa: E731
    assert repair(off, cases, passes) is not None
    monkeypatch.setattr(_repair, "ENABLED", False)
    assert repair(off, cases, passes) is None


def test_the_probe_turns_the_search_off(monkeypatch, tmp_path):
    (tmp_path / "plan.json").write_text('{"nonce": "n", "cells": {"cell": []}}')
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(probe.PLAN_ENV, "plan.json")
    monkeypatch.setattr(_repair, "ENABLED", True)
    monkeypatch.setattr(probe, "display", lambda *a, **k: None)
    probe.probe("cell", {})
    assert _repair.ENABLED is False


def _corr2d_cases(seed: int, sizes) -> list[Case]:
    """corr2d's cases, one per (H, W, KH, KW), with the reference's output."""
    rng = np.random.default_rng(seed)
    cases = []
    for h, w, kh, kw in sizes:
        X, K = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
        cases.append(Case(f"{h}×{w} with a {kh}×{kw} kernel", (X, K), solutions.corr2d(X, K)))
    return cases


def test_two_slips_in_one_function_are_repaired_together():
    """The output is one row short, and each window is kh columns wide: no single edit
    passes every case, but fixing the rows passes the cases of a square kernel, where the
    column slip does no harm. After that edit, the second is found."""
    corr2d = student(
        """
        def corr2d(X, K):
            kh, kw = K.shape
            Y = np.zeros((X.shape[0] - kh, X.shape[1] - kw + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + kh, j:j + kh] * K).sum()
            return Y
        """
    )
    cases = _corr2d_cases(5, ((4, 3, 2, 2), (5, 4, 3, 3), (4, 5, 2, 3), (6, 5, 3, 2)))
    text = _repaired(corr2d, cases, "repair:two:off_by_one+name")
    assert "two slips" in text
    assert "`X.shape[0] - kh + 1` for `X.shape[0] - kh`" in text
    assert "in line 7 of your corr2d" in text and "`kw` for `kh`" in text, text
    assert "together (neither alone)" in text


def test_a_second_edit_is_not_sought_when_one_edit_repairs():
    """One slip: the single edit is the name, never a pair."""
    corr2d = student(
        """
        def corr2d(X, K):
            kh, kw = K.shape
            Y = np.zeros((X.shape[0] - kh, X.shape[1] - kw + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
            return Y
        """
    )
    text = _repaired(corr2d, _corr2d_cases(6, ((4, 3, 2, 2), (6, 5, 3, 1))), "repair:off_by_one")
    assert "two slips" not in text


def _scalar_cases(fn, inputs):
    return [Case(f"{args}", args, fn(*args)) for args in inputs]


def test_a_parenthesis_closed_too_early_is_repaired():
    """exp(-d**2) / (2 * s**2): sigma only scales the result (and a normalisation would
    undo it); the division belongs inside exp."""
    bump = student(
        """
        def bump(d, s):
            return np.exp(-d ** 2) / (2 * s ** 2)
        """
    )
    cases = _scalar_cases(lambda d, s: np.exp(-(d**2) / (2 * s**2)), [(1.0, 2.0), (0.5, 0.7)])
    text = _repaired(bump, cases, "repair:parenthesis")
    assert "`np.exp(-d ** 2 / (2 * s ** 2))`" in text


def test_a_factor_missing_from_a_product_is_repaired():
    count = student(
        """
        def count(c_in, c_out, k):
            return c_in * k * k + c_out
        """
    )
    cases = _scalar_cases(lambda a, b, k: a * b * k * k + b, [(3, 6, 5), (2, 4, 3)])
    text = _repaired(count, cases, "repair:missing_factor")
    assert "`c_out * c_in * k * k`" in text


def test_a_number_typed_where_an_argument_belongs_is_repaired():
    step = student(
        """
        def step(v, g, momentum=0.0):
            return 0.9 * v + g
        """
    )
    cases = [
        Case("momentum 0.5", (2.0, 1.0), 0.5 * 2.0 + 1.0, {"momentum": 0.5}),
        Case("no momentum", (2.0, 1.0), 1.0),
    ]
    text = _repaired(step, cases, "repair:constant")
    assert "`momentum` for `0.9`" in text


def test_a_missing_reciprocal_and_a_stray_power_are_repaired():
    bound = student(
        """
        def bound(fan_in):
            return np.sqrt(fan_in)
        """
    )
    cases = _scalar_cases(lambda n: 1 / np.sqrt(n), [(25,), (400,)])
    assert "`1 / np.sqrt(fan_in)`" in _repaired(bound, cases, "repair:reciprocal")
    decay = student(
        """
        def decay(g, p, wd):
            return g + wd * p ** 2
        """
    )
    cases = _scalar_cases(lambda g, p, wd: g + wd * p, [(1.0, -2.0, 0.1), (0.5, 3.0, 0.01)])
    assert "`p` for `p ** 2`" in _repaired(decay, cases, "repair:extra_factor")
