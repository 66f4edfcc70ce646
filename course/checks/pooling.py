"""Visible checks for assignment 04_pooling (lectures 000, 001, 002, 004).

    from course.checks import pooling as checks
    checks.check_pool2d(pool2d, mode="max")
    checks.check_pool2d_channels(pool2d_channels)
    checks.check_maxpool_grad_mask(maxpool_grad_mask)
    checks.check_q5(answer_q5)

Expected values come from torch in float64 (`F.max_pool2d`, `F.avg_pool2d`, autograd) or
are written down from the lectures. Each known mistake is recognised by the output it
produces, which is computed here with torch operations that are not the loop the student
writes (a different mode, stride or window size fed to torch, `unfold`/`fold` for the
gradient masks, ...). Quiz answers are checked against digests, never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course.checks import _oracle
from course.checks._core import Case, CheckFailed, Mistake, Part, check, check_quiz
from course.checks._oracle import pair as _pair

__all__ = [
    "check_grad_quiz_avg",
    "check_grad_quiz_max",
    "check_maxpool_grad_mask",
    "check_pool2d",
    "check_pool2d_channels",
    "check_q5",
    "check_q6",
    "check_shift_quiz",
]

# The lecture matrix of quiz questions Q5/Q6 (lecture 000) and the 3×3 example of lecture 002.
LECTURE_X = np.array([[12, 20, 30, 0], [20, 12, 2, 0], [0, 70, 5, 2], [8, 2, 90, 3]], float)
ARANGE9 = np.arange(9.0).reshape(3, 3)

POOL_POINTER = (
    "Revisit lecture 000 ('2-D Max Pooling', 'Padding, Stride, and Multiple Channels'): each "
    "output is the max (or mean) of one window; windows start every `stride` positions of "
    "the padded input, and H_out = (H + 2*padding - KH) // stride + 1."
)
CHANNEL_POINTER = (
    "Lecture 000 ('Padding, Stride, and Multiple Channels'): pooling runs on each input "
    "channel on its own, so the output has as many channels as the input."
)
GRAD_POINTER = (
    "Lecture 001 ('What's the backprop rule for max pooling?'): in each window, the one input "
    "that produced the max receives the window's gradient; with ties, the first maximum in "
    "row-major order (np.argmax's choice, and torch's)."
)


# --------------------------------------------------------------------------- helpers


def _params(case: Case):
    """(X, (KH, KW), (SH, SW), (PH, PW), mode, stride_given) of a pool2d-like case."""
    X = np.asarray(case.args[0], float)
    kh, kw = _pair(case.args[1])
    stride = case.kwargs.get("stride")
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    ph, pw = _pair(case.kwargs.get("padding", 0))
    return X, (kh, kw), (sh, sw), (ph, pw), case.kwargs.get("mode", "max"), stride is not None


def _nchw(X: np.ndarray):
    """(H, W) or (C, H, W) numpy → (N=1 or C, 1, H, W) float64 tensor, one image per channel."""
    t = _oracle.t64(X)
    return t.reshape(-1, 1, *t.shape[-2:])


def _back(out, X: np.ndarray) -> np.ndarray:
    """Inverse of `_nchw` for the result."""
    a = out.numpy()
    return a.reshape(a.shape[-2:]) if X.ndim == 2 else a.reshape(X.shape[0], *a.shape[-2:])


def _torch_pool(
    X,
    size,
    stride,
    *,
    mode,
    pad=(0, 0),
    pad_value=None,
    ceil_mode=False,
    count_include_pad=True,
    crop_to=None,
    extra=(0, 0),
):
    """torch pooling of (H, W) or (C, H, W) with explicit control of how the border is padded.

    pad_value: None → torch's own padding (-inf for max, zeros counted for avg); a number →
    the input is padded with that value first and torch pools without padding. `extra`
    adds (rows, cols) of the same value at the bottom/right so that larger windows fit.
    crop_to: keep only the top-left (H_out, W_out) of the result.
    """
    torch = _oracle._torch()
    F = torch.nn.functional
    t = _nchw(np.asarray(X, float))
    (ph, pw), (eh, ew) = pad, extra
    if pad_value is not None or eh or ew:
        value = pad_value if pad_value is not None else (-np.inf if mode == "max" else 0.0)
        t = F.pad(t, (pw, pw + ew, ph, ph + eh), value=value)
        ph = pw = 0
    if mode == "max":
        out = F.max_pool2d(t, size, stride=stride, padding=(ph, pw), ceil_mode=ceil_mode)
    else:
        out = F.avg_pool2d(
            t,
            size,
            stride=stride,
            padding=(ph, pw),
            ceil_mode=ceil_mode,
            count_include_pad=count_include_pad,
        )
    out = _back(out, np.asarray(X))
    if crop_to is not None:
        h, w = crop_to
        if out.shape[-2] < h or out.shape[-1] < w:
            return None
        out = out[..., :h, :w]
    return out


def _right(case: Case) -> np.ndarray:
    """The right pool2d output of a case (torch oracle)."""
    X, size, stride, pad, mode, _ = _params(case)
    return _oracle.pool2d(X, size, stride=stride, padding=pad, mode=mode)


# --------------------------------------------------------------------------- pool2d


def _other_mode(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    return _oracle.pool2d(
        X, size, stride=stride, padding=pad, mode="avg" if mode == "max" else "max"
    )


def _min_pool(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if mode != "max":
        return None
    return -_oracle.pool2d(-X, size, stride=stride, padding=pad, mode="max")


def _sum_pool(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if mode != "avg":
        return None
    return _oracle.pool2d(X, size, stride=stride, padding=pad, mode="avg") * size[0] * size[1]


def _stride_one_by_default(case: Case):
    X, size, _, pad, mode, given = _params(case)
    return None if given else _oracle.pool2d(X, size, stride=1, padding=pad, mode=mode)


def _stride_replaced(by: str) -> Callable[[Case], Any]:
    """Explicit stride ignored: windows jump by the window size, or by 1 (with the output
    shape for stride 1, or cropped to the right shape when H_out used the stride)."""

    def wrong(case: Case):
        X, size, stride, pad, mode, given = _params(case)
        if not given and by != "cropped":
            return None  # with the default stride, "one" is stride_defaults_to_one
        if by == "size":
            return _oracle.pool2d(X, size, stride=size, padding=pad, mode=mode)
        one = _oracle.pool2d(X, size, stride=1, padding=pad, mode=mode)
        if by == "one":
            return one
        h, w = _right(case).shape
        return one[:h, :w] if stride != (1, 1) else None

    return wrong


def _window_changed(delta: int, *, divide_by_size: bool = False) -> Callable[[Case], Any]:
    """Windows one row and column smaller (slice end off by one) or larger, at the right
    positions, with the right output shape."""

    def wrong(case: Case):
        X, (kh, kw), stride, pad, mode, _ = _params(case)
        k2 = (kh + delta, kw + delta)
        if min(k2) < 1:
            return None
        h, w = _right(case).shape
        fill = -np.inf if mode == "max" else 0.0
        out = _torch_pool(
            X,
            k2,
            stride,
            mode=mode,
            pad=pad,
            pad_value=fill,
            extra=(max(delta, 0), max(delta, 0)),
            crop_to=(h, w),
        )
        if mode == "avg" and divide_by_size and out is not None:
            out = out * (k2[0] * k2[1]) / (kh * kw)
        if mode == "avg" and delta > 0 and out is not None:
            # A larger numpy slice is cut at the edge; only count it when nothing was cut.
            Hp, Wp = X.shape[-2] + 2 * pad[0], X.shape[-1] + 2 * pad[1]
            if (h - 1) * stride[0] + k2[0] > Hp or (w - 1) * stride[1] + k2[1] > Wp:
                return None
        return out

    return wrong


def _max_zero_padded(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if mode != "max" or pad == (0, 0):
        return None
    return _torch_pool(X, size, stride, mode="max", pad=pad, pad_value=0.0)


def _avg_without_padding_count(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if mode != "avg" or pad == (0, 0):
        return None
    return _torch_pool(X, size, stride, mode="avg", pad=pad, count_include_pad=False)


def _padding_ignored(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if pad == (0, 0):
        return None
    return _oracle.pool2d(X, size, stride=stride, padding=0, mode=mode)


def _off_by_one(rows: int, cols: int) -> Callable[[Case], Any]:
    def wrong(case: Case):
        right = _right(case)
        h, w = right.shape[-2:]
        if h - rows < 1 or w - cols < 1:
            return None
        return right[..., : h - rows, : w - cols]

    return wrong


def _ceil_mode(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if mode != "max":
        return None
    return _torch_pool(X, size, stride, mode="max", pad=pad, ceil_mode=True)


def _kernel_swapped(case: Case):
    X, (kh, kw), stride, pad, mode, given = _params(case)
    if kh == kw:
        return None
    stride = stride if given else (kw, kh)
    return _oracle.pool2d(X, (kw, kh), stride=stride, padding=pad, mode=mode)


POOL2D_MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "avg_max_swapped",
        "max and average pooling are swapped (mode='max' gives the mean, or the other way round)",
        "mode='max' keeps the largest value of each window, mode='avg' its mean (lecture 000, "
        "'Average Pooling').",
        _other_mode,
    ),
    Mistake(
        "min_instead_of_max",
        "each window keeps its smallest value (min instead of max)",
        "Max pooling keeps the strongest signal of the window: use the maximum (lecture 000, "
        "'2-D Max Pooling').",
        _min_pool,
    ),
    Mistake(
        "sum_instead_of_avg",
        "average pooling returns the sum of each window, not its mean",
        "Divide the window's sum by KH*KW (lecture 000, 'Average Pooling': the mean replaces "
        "the max).",
        _sum_pool,
    ),
    Mistake(
        "stride_defaults_to_one",
        "when `stride` is not given, your windows move by one position and overlap",
        "Like torch's nn.MaxPool2d, pool2d's stride defaults to the window size: "
        "`stride = size if stride is None else stride`, so the windows tile the input "
        "without overlapping (lecture 000, Q5/Q6: a 2×2 window with stride 2).",
        _stride_one_by_default,
    ),
    Mistake(
        "stride_ignored",
        "the `stride` argument is ignored and the windows always jump by the window size",
        "Use the stride you were given when it is not None; only a missing stride defaults "
        "to the window size (lecture 000, 'Padding, Stride, and Multiple Channels').",
        _stride_replaced("size"),
    ),
    Mistake(
        "stride_ignored",
        "the windows move by one position whatever the `stride` argument says",
        "Window (i, j) starts at row i*stride_h and column j*stride_w of the padded input, "
        "and H_out = (H + 2*padding - KH) // stride + 1 (lecture 001, 'stride').",
        _stride_replaced("one"),
    ),
    Mistake(
        "stride_ignored",
        "the output has the right shape but window (i, j) starts at row i and column j: "
        "the stride is used in H_out but not where the window starts",
        "Slice X_pad[i*stride_h : i*stride_h + KH, j*stride_w : j*stride_w + KW] (lecture "
        "000, 'Padding, Stride, and Multiple Channels').",
        _stride_replaced("cropped"),
    ),
    Mistake(
        "kernel_hw_swapped",
        "the window's height and width are swapped (size=(KH, KW) was read as (KW, KH))",
        "size=(KH, KW) means KH rows and KW columns, like torch's kernel_size; unpack it as "
        "`KH, KW = as_pair(size)`.",
        _kernel_swapped,
    ),
    Mistake(
        "window_size_wrong",
        "your windows are one row and one column too small (the slice end is off by one)",
        "X_pad[r : r + KH] holds exactly KH rows: the end of a Python slice is excluded, so "
        "do not subtract 1 (lecture 000, '2-D Max Pooling': a 2×2 window holds 4 values).",
        _window_changed(-1),
    ),
    Mistake(
        "window_size_wrong",
        "your windows are one row and one column too small (the slice end is off by one)",
        "X_pad[r : r + KH] holds exactly KH rows: the end of a Python slice is excluded, so "
        "do not subtract 1 (lecture 000, '2-D Max Pooling': a 2×2 window holds 4 values).",
        _window_changed(-1, divide_by_size=True),
    ),
    Mistake(
        "window_size_wrong",
        "your windows are one row and one column too large (the slice end is off by one)",
        "X_pad[r : r + KH] already holds KH rows: do not add 1 to the slice end (lecture 000, "
        "'2-D Max Pooling': a 2×2 window holds 4 values).",
        _window_changed(+1),
    ),
    Mistake(
        "max_pads_with_zeros",
        "max pooling pads the border with zeros, so a padded 0 beats negative inputs",
        "Pad max pooling with -inf (np.pad(..., constant_values=-np.inf)): padding must never "
        "win a window. This is what torch's nn.MaxPool2d does.",
        _max_zero_padded,
    ),
    Mistake(
        "avg_excludes_padding",
        "average pooling divides by the number of real (unpadded) inputs in each window",
        "Like torch's default (count_include_pad=True), pool2d pads average pooling with zeros "
        "that count in the mean: always divide by KH*KW.",
        _avg_without_padding_count,
    ),
    Mistake(
        "padding_ignored",
        "the `padding` argument is ignored",
        "Pad X with `padding` rows above and below and `padding` columns left and right "
        "before sliding the window (-inf for max, 0 for avg); H_out = "
        "(H + 2*padding - KH) // stride + 1.",
        _padding_ignored,
    ),
    Mistake(
        "output_off_by_one",
        "your output misses its last row and column (H_out computed without the + 1)",
        "H_out = (H + 2*padding - KH) // stride + 1: count the first window, then one more "
        "per stride that still fits (lecture 001, output-size formula).",
        _off_by_one(1, 1),
    ),
    Mistake(
        "output_off_by_one",
        "your output misses its last row",
        "H_out = (H + 2*padding - KH) // stride + 1 rows (lecture 001, output-size formula).",
        _off_by_one(1, 0),
    ),
    Mistake(
        "output_off_by_one",
        "your output misses its last column",
        "W_out = (W + 2*padding - KW) // stride + 1 columns (lecture 001, output-size formula).",
        _off_by_one(0, 1),
    ),
    Mistake(
        "output_off_by_one",
        "your output has an extra row or column from a window that hangs over the edge "
        "(H_out rounded up)",
        "Round down: H_out = (H + 2*padding - KH) // stride + 1. A window that does not fit "
        "inside the padded input is dropped, as torch does (ceil_mode=False).",
        _ceil_mode,
    ),
)


def _pool_cases(mode: str) -> list[Case]:
    rng = np.random.default_rng(4 if mode == "max" else 44)
    ties = rng.integers(0, 4, size=(5, 7)).astype(float)  # few values: many ties
    floats = np.round(rng.standard_normal((7, 6)) * 3, 2)
    gaps = np.round(rng.uniform(-5, 5, size=(8, 7)), 2)
    # Max pooling: all inputs negative, so a zero-padded border would win the edge windows.
    # Average pooling: all positive, so counting the padded zeros changes the means.
    border = -np.round(rng.uniform(1, 9, size=(5, 6)), 1)
    border = border if mode == "max" else -border
    pairs = np.round(rng.uniform(-4, 4, size=(6, 9)), 1)

    def case(label, X, size, **kw):
        c = Case(label, (X, size), None, {**kw, "mode": mode})
        return Case(label, c.args, _right(c), c.kwargs)

    if mode == "max":
        first = [
            # The Q6 matrix first: on the increasing arange(9), a 1×1 window would look
            # like min pooling, and a missing last row like a stride of 2.
            case("the lecture 000 Q6 matrix", LECTURE_X, 2),
            # Lecture 002's example; the default mode (max) is left out on purpose.
            Case(
                "the lecture 002 example",
                (ARANGE9, 2),
                np.array([[4.0, 5.0], [7.0, 8.0]]),
                {"stride": 1},
            ),
        ]
    else:
        first = [
            case("the lecture 000 Q5 matrix", LECTURE_X, 2),
            case("the lecture 002 example", ARANGE9, 2, stride=1),
        ]
    return [
        *first,
        case("5×7 integers with ties, (2, 3) window", ties, (2, 3)),
        case("overlapping 3×3 windows, stride 2 (AlexNet)", floats, 3, stride=2),
        case("stride 3 > the 2×2 window", gaps, 2, stride=3),
        case(
            f"{'negative' if mode == 'max' else 'positive'} inputs, padding 1",
            border,
            3,
            stride=2,
            padding=1,
        ),
        case(
            "window (3, 4), stride (1, 3), padding (1, 2)",
            pairs,
            (3, 4),
            stride=(1, 3),
            padding=(1, 2),
        ),
    ]


def check_pool2d(fn: Callable, *, mode: str | None = None, quiet: bool = False) -> None:
    """Check `pool2d(X, size, *, stride=None, padding=0, mode="max")` (Exercise 4.2).

    Args:
        fn: the student's pool2d.
        mode: "max" or "avg" to check one mode only; None checks both. The average-pooling
            check also asks for a ValueError on an unknown mode (by then both modes work).
        quiet: do not print the success lines.
    """
    __tracebackhide__ = True
    modes = ("max", "avg") if mode is None else (mode,)
    for m in modes:
        cases = _pool_cases(m)
        check(
            fn,
            name="pool2d",
            cases=cases,
            mistakes=POOL2D_MISTAKES,
            oracle=_oracle.good_pool2d,
            pointer=POOL_POINTER,
            quiet=True,
        )
        extra = ""
        if m == "avg":
            _check_unknown_mode(fn)
            extra = "; an unknown mode raises ValueError"
        if not quiet:
            labels = ", ".join(c.label for c in cases)
            print(
                f"✓ pool2d, mode={m!r}: {len(cases)} of {len(cases)} checks passed "
                f"({labels}){extra}."
            )


def _check_unknown_mode(fn: Callable) -> None:
    """A typo such as mode="Max", or a fragment such as "av", must fail loudly, not
    silently average."""
    __tracebackhide__ = True
    fix = (
        'Start pool2d with `if mode not in ("max", "avg"): raise ValueError(...)` '
        "naming the allowed modes, so that a typo such as mode='Max' cannot silently "
        "give average pooling. Compare whole names: a test on one string, "
        "`mode not in 'max avg'`, lets fragments such as 'av' through."
    )
    for bad in ("median", "av"):
        call = f"pool2d(X, 2, mode={bad!r})"
        try:
            fn(LECTURE_X.copy(), 2, mode=bad)
        except ValueError:
            continue
        except Exception as exc:
            raise CheckFailed(
                f"{call} raised {type(exc).__name__}, expected a ValueError. {fix}",
                mistake="mode_not_validated",
            ) from exc
        raise CheckFailed(
            f"{call} returned a result, expected a ValueError. {fix}",
            mistake="mode_not_validated",
        )


# --------------------------------------------------------------------------- per channel


def _across_channels(reduce: str, *, keep_channels: bool) -> Callable[[Case], Any]:
    """Pooling that also reduces over the channel axis (a 3-D window)."""

    def wrong(case: Case):
        X, size, stride, pad, mode, _ = _params(case)
        if X.shape[0] == 1:
            return None
        merged = X.max(axis=0) if reduce == "max" else X.mean(axis=0)
        out = _oracle.pool2d(merged, size, stride=stride, padding=pad, mode=mode)
        return np.broadcast_to(out, (X.shape[0], *out.shape)).copy() if keep_channels else out

    return wrong


def _first_channel(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    return _oracle.pool2d(X[0], size, stride=stride, padding=pad, mode=mode)


def _channels_last(case: Case):
    out = _right(case)
    return np.moveaxis(out, 0, -1) if out.shape[0] > 1 else None


def _mode_dropped(case: Case):
    X, size, stride, pad, mode, _ = _params(case)
    if mode == "max":
        return None
    return _oracle.pool2d(X, size, stride=stride, padding=pad, mode="max")


def _options_dropped(case: Case):
    X, size, _stride, pad, mode, given = _params(case)
    if not given and pad == (0, 0):
        return None
    return _oracle.pool2d(X, size, mode=mode)


CHANNEL_MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "channels_mixed",
        "your windows also reach across channels (the max or mean is taken over C as well)",
        "Pool each channel X[c] on its own and stack the C results: a pooling layer never "
        "mixes channels (lecture 000: #output channels = #input channels).",
        _across_channels("max", keep_channels=False),
    ),
    Mistake(
        "channels_mixed",
        "your windows also reach across channels (the max or mean is taken over C as well)",
        "Pool each channel X[c] on its own and stack the C results: a pooling layer never "
        "mixes channels (lecture 000: #output channels = #input channels).",
        _across_channels("mean", keep_channels=False),
    ),
    Mistake(
        "channels_mixed",
        "every output channel holds the same map, pooled over all channels together",
        "Pool each channel X[c] on its own: channel c of the output depends on channel c of "
        "the input only (lecture 000, 'Padding, Stride, and Multiple Channels').",
        _across_channels("max", keep_channels=True),
    ),
    Mistake(
        "channels_mixed",
        "every output channel holds the same map, pooled over all channels together",
        "Pool each channel X[c] on its own: channel c of the output depends on channel c of "
        "the input only (lecture 000, 'Padding, Stride, and Multiple Channels').",
        _across_channels("mean", keep_channels=True),
    ),
    Mistake(
        "only_first_channel",
        "only the first channel is pooled and returned (the loop returns too early?)",
        "Loop over all C channels and stack the results with np.stack: the output is "
        "(C, H_out, W_out).",
        _first_channel,
    ),
    Mistake(
        "channels_last",
        "the channels came out on the last axis, (H_out, W_out, C)",
        "Keep the course's channel-first layout: np.stack(list_of_maps) or axis=0 gives "
        "(C, H_out, W_out), like torch's (N, C, H, W).",
        _channels_last,
    ),
    Mistake(
        "mode_not_passed",
        "`mode` is not passed on to pool2d, so every call does max pooling",
        "Call pool2d(X[c], size, stride=stride, padding=padding, mode=mode).",
        _mode_dropped,
    ),
    Mistake(
        "options_not_passed",
        "`stride` and `padding` are not passed on to pool2d",
        "Call pool2d(X[c], size, stride=stride, padding=padding, mode=mode).",
        _options_dropped,
    ),
)


def _channel_cases() -> list[Case]:
    rng = np.random.default_rng(404)
    two = np.stack([ARANGE9, ARANGE9 + 1])  # lecture 000's two-channel input, X0 and X1

    def case(label, X, size, **kw):
        c = Case(label, (X, size), None, kw)
        return Case(label, c.args, _right(c), c.kwargs)

    return [
        Case(
            "the two channels of lecture 000",
            (two, 2),
            np.array([[[4.0, 5.0], [7.0, 8.0]], [[5.0, 6.0], [8.0, 9.0]]]),
            {"stride": 1},
        ),
        case(
            "3 random channels, 2×2 max",
            rng.integers(-5, 6, size=(3, 5, 6)).astype(float),
            2,
            mode="max",
        ),
        case(
            "4 random channels, 3×3 avg, stride 2, padding 1",
            np.round(rng.uniform(0, 9, size=(4, 6, 5)), 1),
            3,
            stride=2,
            padding=1,
            mode="avg",
        ),
        case(
            "2 random channels, (2, 3) avg, stride 1",
            np.round(rng.standard_normal((2, 5, 7)), 2),
            (2, 3),
            stride=1,
            mode="avg",
        ),
        # One channel: its axis stays (a squeeze of the stacked maps would drop it).
        case("1 channel, 2×2 max", rng.integers(-5, 6, size=(1, 4, 5)).astype(float), 2),
    ]


def check_pool2d_channels(fn: Callable, *, quiet: bool = False) -> None:
    """Check `pool2d_channels(X, size, *, stride=None, padding=0, mode="max")` on (C, H, W)."""
    __tracebackhide__ = True
    check(
        fn,
        name="pool2d_channels",
        cases=_channel_cases(),
        mistakes=CHANNEL_MISTAKES,
        oracle=_oracle.good_pool2d,
        pointer=CHANNEL_POINTER,
        quiet=quiet,
    )


# --------------------------------------------------------------------------- gradient mask


def _grad_params(case: Case):
    X = np.asarray(case.args[0], float)
    kh, kw = _pair(case.args[1])
    stride = case.kwargs.get("stride")
    return X, (kh, kw), ((kh, kw) if stride is None else _pair(stride)), stride is not None


def _autograd_mask(X: np.ndarray, size, stride) -> np.ndarray:
    """d(sum of max_pool2d(X)) / dX by torch autograd: the right answer."""
    t = _oracle.t64(X)[None, None].requires_grad_(True)
    _oracle._torch().nn.functional.max_pool2d(t, size, stride=stride).sum().backward()
    return t.grad[0, 0].numpy()


def _unfold(X: np.ndarray, size, stride):
    """Windows as columns: (KH*KW, L), one column per window, row-major inside a window."""
    F = _oracle._torch().nn.functional
    return F.unfold(_oracle.t64(X)[None, None], size, stride=stride)[0]


def _one_hot(index, like):
    torch = _oracle._torch()
    out = torch.zeros_like(like)
    out[index, torch.arange(like.shape[1])] = 1.0
    return out


def _mask_from_windows(pick: str, *, binary: bool = False) -> Callable[[Case], Any]:
    """The mask when a wrong set of window positions is marked (`_oracle.pool_routing`)."""

    def wrong(case: Case):
        X, size, stride, _ = _grad_params(case)
        out = _oracle.pool_routing(X, size, stride, pick)
        return (out > 0).astype(float) if binary else out

    return wrong


def _global_max(case: Case):
    X = np.asarray(case.args[0], float)
    return (X.max() == X).astype(float)


def _every_copy(counts: bool) -> Callable[[Case], Any]:
    """Each window's max marked wherever that value occurs in the whole input."""

    def wrong(case: Case):
        X, size, stride, _ = _grad_params(case)
        maxima = _unfold(X, size, stride).max(dim=0).values.numpy()
        if counts:
            return sum((m == X).astype(float) for m in maxima)
        return np.isin(X, maxima).astype(float)

    return wrong


def _no_offset(binary: bool) -> Callable[[Case], Any]:
    """The argmax (p, q) inside the window written at mask[p, q], not at the window's place."""

    def wrong(case: Case):
        X, (kh, kw), stride, _ = _grad_params(case)
        cols = _unfold(X, (kh, kw), stride)
        hits = _one_hot(cols.argmax(dim=0), cols).sum(dim=1).numpy().reshape(kh, kw)
        out = np.zeros_like(X)
        out[:kh, :kw] = (hits > 0) if binary else hits
        return out

    return wrong


def _grad_default_stride_one(case: Case):
    X, size, _, given = _grad_params(case)
    return None if given else _autograd_mask(X, size, 1)


def _value_not_one(case: Case):
    X, size, stride, _ = _grad_params(case)
    return X * _autograd_mask(X, size, stride)


GRAD_MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "all_ties_marked",
        "every tied maximum of a window gets a 1, so a window with a tie sends its gradient twice",
        "Mark exactly one position per window: the first maximum in row-major order "
        "(np.argmax(window) then np.unravel_index). The gradient of max is the gradient of "
        "the one input it returned.",
        _mask_from_windows("all_ties"),
    ),
    Mistake(
        "last_tie",
        "ties go to the last maximum of the window (or the first one scanning column by "
        "column), not the first in row-major order",
        "np.argmax(window) returns the first maximum in row-major order, the one torch picks; "
        "a `>=` comparison in a loop moves to later ties, use `>`.",
        _mask_from_windows("last"),
    ),
    Mistake(
        "overlaps_not_added",
        "a position that wins several overlapping windows is marked 1 instead of counting them",
        "Add (`mask[r, c] += 1`) rather than assign: with stride < size one input can win "
        "several windows, and it receives the gradient of each (the chain rule sums them).",
        _mask_from_windows("first", binary=True),
    ),
    Mistake(
        "window_offset_missing",
        "the argmax (p, q) inside the window is written at mask[p, q], without adding where "
        "the window starts",
        "The winner of window (i, j) sits at row i*stride_h + p and column j*stride_w + q of X.",
        _no_offset(False),
    ),
    Mistake(
        "window_offset_missing",
        "the argmax (p, q) inside the window is written at mask[p, q], without adding where "
        "the window starts",
        "The winner of window (i, j) sits at row i*stride_h + p and column j*stride_w + q of X.",
        _no_offset(True),
    ),
    Mistake(
        "mask_of_max_value_globally",
        "the mask marks where the largest value of the whole input is, not the max of each window",
        "Take the max window by window: every window sends its gradient to its own winner.",
        _global_max,
    ),
    Mistake(
        "marks_every_copy",
        "each window's max is marked everywhere that value occurs in X (`mask[X == m] = 1`), "
        "not only inside the window",
        "Find the position inside the window (np.argmax of the window) and mark that one position.",
        _every_copy(False),
    ),
    Mistake(
        "marks_every_copy",
        "each window's max is counted everywhere that value occurs in X "
        "(`mask[X == m] += 1`), not only inside the window",
        "Find the position inside the window (np.argmax of the window) and mark that one position.",
        _every_copy(True),
    ),
    Mistake(
        "stores_value_not_one",
        "the mask holds the max value itself instead of 1",
        "Write 1 (or add 1) at the winner: the mask is the gradient of the sum of the pooled "
        "outputs, and d(max)/d(winner) = 1.",
        _value_not_one,
    ),
    Mistake(
        "avg_gradient_instead",
        "every input of a window gets 1/(KH*KW): that is the gradient of average pooling",
        "For max pooling only the winner of each window gets the gradient (lecture 001).",
        _mask_from_windows("avg"),
    ),
    Mistake(
        "stride_defaults_to_one",
        "when `stride` is not given, your windows move by one position and overlap",
        "As in pool2d, the stride defaults to the window size.",
        _grad_default_stride_one,
    ),
)


def _grad_cases() -> list[Case]:
    rng = np.random.default_rng(4040)
    peak = np.round(rng.uniform(0, 5, size=(5, 5)), 1)
    peak[2, 2] = 9.0  # the max of all nine overlapping 3×3 windows
    ties = rng.integers(0, 3, size=(6, 7)).astype(float)
    gaps = np.round(rng.standard_normal((7, 8)), 2)

    def case(label, X, size, **kw):
        X = np.asarray(X, float)
        k = _pair(size)
        s = kw.get("stride", size)
        return Case(label, (X, size), _autograd_mask(X, k, _pair(s)), kw)

    return [
        Case(
            "the lecture 000 Q6 matrix (a 20/20 tie top left)",
            (LECTURE_X, 2),
            np.array([[0, 1, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], float),
        ),
        case("the lecture 002 example", ARANGE9, 2, stride=1),
        case("a peak that wins nine overlapping 3×3 windows", peak, 3, stride=1),
        case("integers with ties, (2, 3) window, stride (1, 2)", ties, (2, 3), stride=(1, 2)),
        case("stride 3 > the 2×2 window", gaps, 2, stride=3),
        case("a constant input (all ties)", np.full((4, 6), 7.0), 2),
    ]


def check_maxpool_grad_mask(fn: Callable, *, quiet: bool = False) -> None:
    """Check `maxpool_grad_mask(X, size, *, stride=None)` (Exercise 4.5) against autograd."""
    __tracebackhide__ = True
    check(
        fn,
        name="maxpool_grad_mask",
        cases=_grad_cases(),
        mistakes=GRAD_MISTAKES,
        pointer=GRAD_POINTER,
        quiet=quiet,
    )


# --------------------------------------------------------------------------- quizzes

# Digests of the answers (course.checks.answer_digest); the answers are not stored here.
Q5_DIGEST = "abba143024bb4471"
Q6_DIGEST = "50b40c4b2f98bc8a"
Q5_SUM_DIGEST = "091264aee021a67d"
SHIFT_DIGEST = "7f5d65e2ae5fe24a"
SHIFT_SWAPPED_DIGEST = "790de8a192a1f545"
GRAD_AVG_DIGEST = "2e64a0d7e54a765e"
GRAD_MAX_DIGEST = "162ab1ab1e2b2589"
GRAD_NO_DIVISION_DIGEST = "d272b234a497b580"
GRAD_ALL_TIES_DIGEST = "896039560cac978d"
GRAD_LAST_TIE_DIGEST = "1e7ba0a71e471034"
GRAD_MASK_ONLY_DIGEST = "6a222eefd7062931"
GRAD_AVG_ONES_DIGEST = "2eb0bf0acaa85471"


def _numbers(answer: Any, question: str, shape: tuple[int, ...], what: str) -> list:
    """`check_quiz`'s split: the answer must be numbers of `shape` (`what`, in words)."""
    __tracebackhide__ = True
    if isinstance(answer, str):
        raise CheckFailed(
            f"{question}: write the numbers ({what}), not a letter or a text.", mistake="wrong_type"
        )
    try:
        got = np.shape(np.asarray(answer, dtype=float))
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{question}: expected numbers ({what}), got {answer!r}.", mistake="wrong_type"
        ) from None
    if got != shape:
        raise CheckFailed(
            f"{question}: expected {what}, shape {shape}; got shape {got}.", mistake="wrong_shape"
        )
    return [answer]


#: The quizzes as rows: name -> (question, the answer's shape and that shape in words, the
#: right answer's digest with the hint and the known wrong answers).
QUIZZES: dict[str, tuple[str, tuple[int, ...], str, Part]] = {
    "q5": (
        "Q5 (2×2 average pooling, stride 2)",
        (2, 2),
        "a 2×2 array",
        Part(
            Q5_DIGEST,
            "Cut the 4×4 matrix into four 2×2 blocks (stride 2: no overlap) and replace each block "
            "by the mean of its four numbers.",
            wrong={
                Q6_DIGEST: (
                    "avg_max_swapped",
                    "that is the max of each block (Q6); Q5 asks for the mean.",
                ),
                Q5_SUM_DIGEST: (
                    "sum_instead_of_avg",
                    "those are the sums of the blocks; divide each by 4 to get the mean.",
                ),
            },
        ),
    ),
    "q6": (
        "Q6 (2×2 max pooling, stride 2)",
        (2, 2),
        "a 2×2 array",
        Part(
            Q6_DIGEST,
            "Cut the 4×4 matrix into four 2×2 blocks (stride 2: no overlap) and keep the largest "
            "number of each block.",
            wrong={
                Q5_DIGEST: (
                    "avg_max_swapped",
                    "that is the mean of each block (Q5); Q6 asks for the largest value.",
                ),
            },
        ),
    ),
    "shift": (
        "Shift quiz (unchanged outputs: max, avg)",
        (2,),
        "a pair (count for max, count for avg)",
        Part(
            SHIFT_DIGEST,
            "Write down the shifted matrix (a column of zeros enters on the left, the last column "
            "drops out), pool it both ways, and compare block by block with Q5 and Q6.",
            wrong={
                SHIFT_SWAPPED_DIGEST: (
                    "swapped",
                    "the two counts are in the wrong order: (max pooling, average pooling).",
                ),
            },
        ),
    ),
    "grad_avg": (
        "Gradient of average pooling",
        (4, 4),
        "a 4×4 array, the shape of X",
        Part(
            GRAD_AVG_DIGEST,
            "Y[i, j] is the mean of 4 inputs, so each of them gets dout[i, j] / 4.",
            wrong={
                GRAD_NO_DIVISION_DIGEST: (
                    "not_divided",
                    "each input gets the whole dout of its "
                    "window; the mean divides by 4, so does its gradient.",
                ),
                GRAD_AVG_ONES_DIGEST: (
                    "dout_ignored",
                    "that is the gradient when dout is all "
                    "ones; multiply each window's share by its dout.",
                ),
            },
        ),
    ),
    "grad_max": (
        "Gradient of max pooling",
        (4, 4),
        "a 4×4 array, the shape of X",
        Part(
            GRAD_MAX_DIGEST,
            "In each 2×2 block, the input that produced the max gets dout[i, j]; the other three "
            "get 0.",
            wrong={
                GRAD_NO_DIVISION_DIGEST: (
                    "spread",
                    "every input got its window's dout; only the "
                    "input that won the max gets it, the others get 0.",
                ),
                GRAD_ALL_TIES_DIGEST: (
                    "all_ties_marked",
                    "both 20s of the top-left window got the "
                    "gradient; only the first maximum in row-major order does.",
                ),
                GRAD_LAST_TIE_DIGEST: (
                    "last_tie",
                    "the tie in the top-left window went to the "
                    "second 20; the first one in row-major order wins.",
                ),
                GRAD_MASK_ONLY_DIGEST: (
                    "dout_ignored",
                    "that is the mask of winners; multiply each winner by its window's dout.",
                ),
            },
        ),
    ),
}


def _quiz(name: str, answer: Any) -> None:
    __tracebackhide__ = True
    question, shape, what, part = QUIZZES[name]
    check_quiz(answer, question, [part], lambda a: _numbers(a, question, shape, what))


def check_q5(answer: Any) -> None:
    """Lecture 000 Q5: 2×2 average pooling, stride 2, of the 4×4 lecture matrix."""
    __tracebackhide__ = True
    _quiz("q5", answer)


def check_q6(answer: Any) -> None:
    """Lecture 000 Q6: 2×2 max pooling, stride 2, of the same matrix."""
    __tracebackhide__ = True
    _quiz("q6", answer)


def check_shift_quiz(answer: Any) -> None:
    """How many of the 4 max-pooled and of the 4 avg-pooled outputs survive a 1-pixel shift."""
    __tracebackhide__ = True
    _quiz("shift", answer)


def check_grad_quiz_avg(answer: Any) -> None:
    """dX of 2×2/2 average pooling on the lecture matrix, for a given dout."""
    __tracebackhide__ = True
    _quiz("grad_avg", answer)


def check_grad_quiz_max(answer: Any) -> None:
    """dX of 2×2/2 max pooling on the lecture matrix, for a given dout."""
    __tracebackhide__ = True
    _quiz("grad_max", answer)
