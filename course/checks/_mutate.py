"""Name a mistake nobody wrote down: derive wrong answers mechanically from the right one.

When no catalogued mistake explains a student's output, `derive` tries transformations of
the correct computation, each with a sentence in the student's words:

- of the **output** (no oracle needed): a dropped axis of length 1 (`squeeze`), the last
  row and column missing or one too many (an off-by-one in the output size), every value
  scaled by a size of the input (a sum where a mean was meant, or the reverse) or by a
  constant, shifted by a constant, the sign flipped, rows and columns swapped;
- of the **inputs**, where the check gives an oracle (a function computing the right
  output from the case's arguments): an array argument flipped on both axes, transposed,
  negated or read channels-last; a scalar argument negated; a numeric keyword off by one,
  zero, negated or left at its default; a pair (kh, kw) read as (kh, kh) or swapped; a
  stride that only shrinks the output while the windows still move by one;
- two of them at once (an input mutation followed by an output one);
- for a computation that is a recipe of settings (an initialisation, an optimiser step, a
  loss), every recipe with one or two settings changed to a neighbouring wrong value
  (`Knob`, `recipe_variants`): a fan-out bound, the bias drawn first, a decay that skips
  the biases, a max taken per column.

A transformation names the mistake only when it reproduces the student's output on
**every** case it applies to, including those the student got right: a mutation that
matches some cases only is not a name. Hand-written catalogue entries are tried first and
win ties.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_CASES = 12


@dataclass(frozen=True)
class Derived:
    key: str
    says: str
    hint: str
    predict: Callable[[Any, Any], Any]  # (case, expected) -> the mutated output or None
    # A name that ties the change to a size must see that size change across the cases
    # (a constant 2 on cases that all have N = 2 is not "a sum where a mean was meant").
    varies: Callable[[Any], Any] | None = None
    # An input mutation: the case with one argument changed (SAME where the change does
    # not apply, None where it is undefined), and which argument it changes. Two of them,
    # or one with a catalogued mistake, make "two things at once".
    recase: Callable[[Any], Any] | None = None
    target: str | None = None


def _arr(x: Any) -> np.ndarray | None:
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return x
    return None


# ---------------------------------------------------------------------------------------
# Output transformations
# ---------------------------------------------------------------------------------------


def _sizes(case, names: Sequence[str] = (), *, ones: bool = False) -> dict[str, int]:
    """Named sizes of the case's array arguments, for "scaled by N" sentences (sizes of 1
    only with `ones`: no factor to name there, but a case where the factor is 1)."""
    found: dict[str, int] = {}
    for i, a in enumerate(case.args):
        if (a := _arr(a)) is not None and a.ndim >= 1:
            name = names[i] if i < len(names) else f"argument {i + 1}"
            for k, n in enumerate(a.shape):
                found.setdefault(f"the length of axis {k} of {name}", n)
            if a.ndim >= 2:
                found.setdefault(f"the size of {name}'s last two axes", a.shape[-1] * a.shape[-2])
            found.setdefault(f"the size of {name}", a.size)
    return {k: v for k, v in found.items() if v > 1 or ones}


def _unit_axes(got: Any, expected: Any) -> tuple[bool, ...] | None:
    """Where `got` has axes of length 1 that `expected` lacks, its other axes being
    `expected`'s in order (True: an extra axis), or None."""
    g, e = _arr(got), _arr(expected)
    if g is None or e is None or g.ndim <= e.ndim:
        return None
    extra, k = [], 0
    for n in g.shape:
        if k < e.ndim and n == e.shape[k]:
            extra.append(False)
            k += 1
        elif n == 1:
            extra.append(True)
        else:
            return None
    return tuple(extra) if k == e.ndim else None


def _with_unit_axes(e: Any, extra: tuple[bool, ...]) -> np.ndarray | None:
    e = _arr(e)
    if e is None or e.ndim != extra.count(False):
        return None
    sizes = iter(e.shape)
    return e.reshape(tuple(1 if x else next(sizes) for x in extra))


def _output_mutations(got_first: Any, first, names: Sequence[str] = ()) -> Iterator[Derived]:
    extra = _unit_axes(got_first, first.expected)
    if extra is not None:
        yield Derived(
            "auto:extra_unit_axes",
            f"the values are right, but the result has extra axes of length 1: shape "
            f"{np.shape(got_first)} where {np.shape(first.expected)} is documented "
            "(keepdims=True, a [None], or a window or reshape over one axis too many)",
            "Return the documented shape: drop the extra axes (sum without keepdims, index "
            "with [0], or reshape).",
            lambda c, e: _with_unit_axes(e, extra),
        )
    yield Derived(
        "auto:squeezed",
        "an axis of length 1 was dropped from the result (np.squeeze, or indexing with 0)",
        "Keep every axis of the documented shape, even when its length is 1 (N = 1, C = 1).",
        lambda c, e: np.squeeze(e) if _arr(e) is not None else None,
    )
    yield Derived(
        "auto:last_row_col_missing",
        "the result is one row and one column short: the output size lacks its + 1",
        "An axis of n positions with windows of k has n - k + 1 window starts (stride 1).",
        lambda c, e: e[..., :-1, :-1] if _arr(e) is not None and e.ndim >= 2 else None,
    )
    yield Derived(
        "auto:last_row_col_zero",
        "the last row and column of the result stayed at zero: a range or a slice stops one "
        "position early (range(H - KH) where H - KH + 1 positions exist, or a slice end "
        "written as if it were inclusive: a:b stops before b)",
        "Count the positions along each axis (an axis of n with windows of k has n - k + 1 "
        "window starts) and make the last one reachable.",
        lambda c, e: _edge_zeroed(e),
    )
    for k, v in first.kwargs.items():
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            yield Derived(
                f"auto:cropped_by:{k}",
                f"the result lacks its last {k} rows and columns: a slice or a size is off "
                f"by {k} (e.g. [{k} : H] where [{k} : {k} + H] was meant, or {k} counted on "
                "one side only)",
                f"Count the rows: a slice that starts at {k} and keeps H rows ends at {k} + H; "
                f"{k} added on both sides adds 2 * {k}.",
                lambda c, e, k=k: _cropped(e, c.kwargs.get(k)),
            )
    yield Derived(
        "auto:reshaped_from_channels_last",
        "the result was reshaped from (H, W, C) order to (C, H, W) with reshape, which "
        "scrambles pixels and channels; a transpose was needed",
        "reshape keeps the order of the numbers in memory; to move the channel axis use "
        "np.transpose (or .T), then reshape.",
        lambda c, e: _reshaped_from_last(e),
    )
    yield Derived(
        "auto:flattened",
        "the values are right, but the result is flat: an array of shape (size,) where the "
        "docstring's shape has several axes (allocated with np.zeros(x.size), or ravelled)",
        "Return the documented shape: allocate with np.zeros_like(x) (or np.zeros(x.shape)), "
        "or reshape the flat result with .reshape(x.shape) before returning it.",
        lambda c, e: e.ravel() if _arr(e) is not None and e.ndim >= 2 else None,
    )
    yield Derived(
        "auto:first_axis_summed",
        "the result was added up over its first axis, which the docstring keeps (e.g. "
        "sum(...) over a list of maps where np.stack was meant)",
        "Stack the pieces with np.stack(list_of_maps) so that the first axis stays; add up "
        "only what the formula sums.",
        lambda c, e: (
            e.sum(axis=0) if _arr(e) is not None and e.ndim >= 3 and e.shape[0] > 1 else None
        ),
    )
    yield Derived(
        "auto:sign",
        "the sign is flipped everywhere (a minus dropped or added)",
        "Compare your formula with the lecture's term by term, including its signs.",
        lambda c, e: -e if _arr(e) is not None or isinstance(e, float) else None,
    )
    yield Derived(
        "auto:transposed",
        "rows and columns are swapped in the result (a transpose)",
        "Check the order of the axes of what you return against the docstring's shape.",
        lambda c, e: np.swapaxes(e, -1, -2) if _arr(e) is not None and e.ndim >= 2 else None,
    )
    yield Derived(
        "auto:fractions_dropped",
        "every value lost its fraction: the result was stored in an integer array "
        "(np.zeros(..., dtype=X.dtype) or np.zeros_like(X) with an integer input), which "
        "truncates what is written into it",
        "Allocate the output as floats: np.zeros(shape) (float64 by default), whatever the "
        "input's dtype.",
        _fractions_dropped,
    )
    for k in range(1, 4):
        yield Derived(
            "auto:fractions_dropped_by_int",
            "every value lost its fraction where one argument was a whole number: the result "
            "took that argument's integer type (np.full(shape, b) with an integer b, or an "
            "array made from it), which truncates what is written into it",
            "Start the output as floats, np.zeros(shape) (float64 by default), and add the "
            "number to it; never let a number argument choose the array's dtype.",
            lambda c, e, k=k: _fractions_dropped(c, e, position=k),
        )
    for reduce in ("sum", "mean", "max"):
        yield Derived(
            f"auto:total_{reduce}",
            f"everything was reduced to one number: np.{reduce} without an axis took the "
            f"{reduce} over every axis, where only one axis is meant to go",
            "Give the reduction its axis (e.g. axis=0 for the channels) so that the other "
            "axes stay.",
            lambda c, e, reduce=reduce: (
                getattr(np, reduce)(e) if _arr(e) is not None and e.size > 1 else None
            ),
        )
    yield Derived(
        "auto:concatenated",
        "the maps were joined with np.concatenate, one after another along an existing "
        "axis, where np.stack puts them on a new first axis",
        "np.stack(list_of_maps) (or axis=0) adds the new axis the docstring's shape has; "
        "np.concatenate glues along an axis that is already there.",
        lambda c, e: (
            np.concatenate(list(e), axis=0) if _arr(e) is not None and e.ndim >= 3 else None
        ),
    )
    yield Derived(
        "auto:reshaped_width_first",
        "the result was reshaped to (..., W, H), width before height, which only works "
        "for square images",
        "Reshape to the sizes in the docstring's order: (..., H, W).",
        lambda c, e: (
            e.reshape(*e.shape[:-2], e.shape[-1], e.shape[-2])
            if _arr(e) is not None and e.ndim >= 2 and e.shape[-1] != e.shape[-2]
            else None
        ),
    )
    for k, v in first.kwargs.items():  # a factor that tracks a numeric option
        if isinstance(v, bool) or not isinstance(v, (int, float)) or abs(v) in (0, 1):
            continue
        for power, says in (
            (1, f"every value is {k} times the right one: {k} multiplies where it divides "
                "(or a division by it is missing)"),
            (-1, f"every value is the right one divided by {k} once more than it should be"),
            (2, f"every value is {k}² times the right one (a division by {k}² missing, or "
                f"`/ 2 * {k}`, which multiplies by {k} where `/ (2 * {k})` divides)"),
        ):  # fmt: skip
            yield Derived(
                f"auto:times_{k}^{power}",
                says,
                f"Check where {k} enters: x / 2 * {k} is (x / 2) * {k}; write x / (2 * {k}).",
                lambda c, e, k=k, power=power: (
                    np.asarray(e, float) * float(c.kwargs[k]) ** power
                    if isinstance(c.kwargs.get(k), (int, float)) and c.kwargs[k] != 0
                    else None
                ),
                varies=lambda c, k=k: c.kwargs.get(k),
            )
    # A scale or shift that the first failing case shows, tried on every case.
    try:
        e0a, g0a = np.asarray(first.expected, float), np.asarray(got_first, float)
    except (TypeError, ValueError):
        return
    if e0a.shape != g0a.shape or not e0a.size:
        return
    mask = np.abs(e0a) > 1e-12
    if mask.any():
        ratio = g0a[mask] / e0a[mask]
        r = float(ratio.flat[0])
        # A finite factor only: inf or nan in the output is an overflow, not a scale.
        if np.isfinite(r) and np.allclose(ratio, r, rtol=1e-6) and abs(r) not in (0.0, 1.0):
            for label, n in _sizes(first, names).items():
                for factor, says in (
                    (n, f"every value is {n} times too large ({label}): summed where a "
                        "mean was meant, or added once for each of those where once belongs"),
                    (1 / n, f"every value is {n} times too small ({label}): a mean where a "
                            "sum was meant, or divided by that size once too often"),
                ):  # fmt: skip
                    if np.isclose(r, factor):
                        yield Derived(
                            f"auto:scaled_by:{label}",
                            says,
                            "Check whether this quantity is summed or averaged, over what, "
                            "and at which level of the loops it is added.",
                            _scale_by(label, factor > 1, names),
                            varies=lambda c, label=label: _sizes(c, names, ones=True).get(label),
                        )
            yield Derived(
                "auto:scaled",
                f"every value is {r:g} times the right one",
                "A constant factor is off: compare your formula's constants with the lecture's.",
                lambda c, e, r=r: r * np.asarray(e, float),
            )
    shift = g0a - e0a
    s = float(shift.flat[0])
    if np.isfinite(s) and np.allclose(shift, s) and s != 0:
        yield Derived(
            "auto:shifted",
            f"every value is off by {s:g}",
            "A constant term is added or left out: check the bias and any + 1 or - 1.",
            lambda c, e, s=s: np.asarray(e, float) + s,
        )


def _fractions_dropped(case, e: Any, position: int | None = None) -> Any:
    """Truncated where the first array argument holds integers (or, with `position`, where
    that argument is an integer number or array): the output took its dtype; unchanged
    elsewhere."""
    if _arr(e) is None or e.dtype.kind != "f":
        return None
    if position is None:
        given = next((a for a in case.args if isinstance(a, np.ndarray)), None)
    elif position < len(case.args):
        given = case.args[position]
    else:
        return None
    if np.asarray(given).dtype.kind not in "iu":  # bool is kind "b": never truncated
        return e
    return np.trunc(e)


def _edge_zeroed(e: Any) -> np.ndarray | None:
    a = _arr(e)
    if a is None or a.ndim < 2 or min(a.shape[-2:]) < 2:
        return None
    out = np.array(a, dtype=float)
    out[..., -1, :] = 0
    out[..., :, -1] = 0
    return out


def _cropped(e: Any, k: Any) -> np.ndarray | None:
    a = _arr(e)
    if a is None or a.ndim < 2 or not isinstance(k, int) or isinstance(k, bool):
        return None
    if k == 0:
        return a  # nothing cropped: the right answer stands
    return a[..., :-k, :-k] if min(a.shape[-2:]) > k else None


def _reshaped_from_last(e: Any) -> np.ndarray | None:
    """(..., C, H, W) computed right, but laid out (H, W, C) in memory and then reshaped
    straight to (C, H, W)."""
    a = _arr(e)
    if a is None or a.ndim < 3 or a.shape[-3] == 1:
        return None
    return np.ascontiguousarray(np.moveaxis(a, -3, -1)).reshape(a.shape)


def _scale_by(label: str, up: bool, names: Sequence[str]) -> Callable[[Any, Any], Any]:
    def predict(case, e):
        n = _sizes(case, names, ones=True).get(label)
        if n is None:
            return None
        return np.asarray(e, float) * (n if up else 1 / n)

    return predict


# ---------------------------------------------------------------------------------------
# Input transformations (need the oracle)
# ---------------------------------------------------------------------------------------


def _names(fn: Callable, n: int) -> list[str]:
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"argument {i + 1}" for i in range(n)]


def _input_mutations(fn: Callable, first, oracle) -> Iterator[Derived]:
    names = _names(fn, len(first.args))

    def with_arg(i, change):
        def recase(case):
            if i >= len(case.args):
                return None
            new = change(case.args[i])
            if isinstance(new, _Late):  # another argument's value, read from this case
                if new.j >= len(case.args) or not _plain_int(case.args[new.j]):
                    return None
                new = None if case.args[new.j] == case.args[i] else case.args[new.j]
            if new is _UNDEFINED:
                return None
            if new is None:  # the mutation does not apply here: the right answer stands
                return SAME
            args = list(copy.deepcopy(case.args))
            args[i] = new
            return dataclasses.replace(case, args=tuple(args), kwargs=copy.deepcopy(case.kwargs))

        return recase

    def with_kwarg(k, change):
        def recase(case):
            if k not in case.kwargs:  # not given here: the mutation changes nothing
                return SAME
            kwargs = copy.deepcopy(case.kwargs)
            new = change(kwargs[k])
            if new is _DROP:
                del kwargs[k]
            elif new is None:
                return SAME
            else:
                kwargs[k] = new
            return dataclasses.replace(case, args=copy.deepcopy(case.args), kwargs=kwargs)

        return recase

    def mutation(key, says, hint, recase, target):
        return Derived(key, says, hint, _via_oracle(recase, oracle), recase=recase, target=target)

    for i, a in enumerate(first.args):
        name = names[i]
        if (arr := _arr(a)) is not None and arr.ndim >= 2:
            yield mutation(
                f"auto:{name}_flipped",
                f"{name} was flipped on both axes (or the result was: a flipped input gives "
                "the flipped result of the flipped kernel)",
                f"Use {name} as it is given: read it in its own order, and flip only what the "
                "exercise says to flip (in a true convolution, the kernel, before correlating).",
                with_arg(i, lambda v: np.ascontiguousarray(np.asarray(v)[..., ::-1, ::-1])),
                name,
            )
            yield mutation(
                f"auto:{name}_transposed",
                f"{name} was used transposed (its rows and columns swapped)",
                f"Index {name} in the order of the docstring's shape.",
                with_arg(i, lambda v: np.ascontiguousarray(np.swapaxes(np.asarray(v), -1, -2))),
                name,
            )
            if arr.shape[-2] != arr.shape[-1]:
                yield mutation(
                    f"auto:{name}_square",
                    f"{name} was assumed square (its width taken to be its height)",
                    "Read the height and the width from .shape separately.",
                    with_arg(i, _square),
                    name,
                )
            if arr.ndim >= 3 and arr.shape[-3] > 1:
                yield mutation(
                    f"auto:{name}_reshaped_channels_last",
                    f"{name} was reshaped as if it were stored channels-last, (H, W, C), "
                    "which mixes pixels and channels: reshape is not a transpose",
                    f"reshape keeps the order of the numbers in memory; to bring the channel "
                    f"axis of {name} last use np.transpose (or np.moveaxis), then reshape.",
                    with_arg(i, _reshaped_last),
                    name,
                )
            if arr.ndim >= 3 and arr.shape[0] > 1:
                for end, says in (
                    (0, "the first slice along axis 0 (e.g. channel 0) never contributes: a "
                        "loop that starts at 1"),
                    (-1, "the last slice along axis 0 (e.g. the last channel) never "
                         "contributes: a loop that stops one short"),
                ):  # fmt: skip
                    yield mutation(
                        f"auto:{name}_slice_{end}_skipped",
                        f"{name}: {says}",
                        f"Loop over every index: range({name}.shape[0]), from 0 to the end.",
                        with_arg(i, lambda v, end=end: _slice_zeroed(v, end)),
                        name,
                    )
            if arr.ndim in (3, 4):
                yield Derived(
                    f"auto:{name}_channels_last",
                    f"{name} was read channels-last, (H, W, C), where the course uses (C, H, W)",
                    "Channels come first: X[c] is one channel's H × W map.",
                    _channels_last(i, oracle),
                )
        elif _int_pair(a) and a[0] != a[1]:
            for key, says, hint, change in _pair_changes(name):
                yield mutation(key, says, hint, with_arg(i, change), name)
        elif isinstance(a, (int, float, np.number)) and not isinstance(a, bool) and a != 0:
            yield mutation(
                f"auto:{name}_negated",
                f"{name} entered with the wrong sign (subtracted where it is added)",
                f"Check the sign with which {name} enters the formula.",
                with_arg(i, lambda v: -v if isinstance(v, (int, float, np.number)) else None),
                name,
            )
            for j, other in enumerate(first.args):  # one size read where another belongs
                if j != i and _plain_int(a) and _plain_int(other):
                    yield mutation(
                        f"auto:{name}_read_as_{names[j]}",
                        f"{names[j]} was used where {name} belongs (e.g. {name} = "
                        f"{names[j]}, as if the two were always equal)",
                        f"{name} and {names[j]} are separate arguments: use each where it belongs.",
                        with_arg(i, lambda v, j=j: _Late(j)),
                        name,
                    )
    if first.kwargs:
        listed = ", ".join(_keywords(fn) or first.kwargs)
        yield Derived(
            "auto:options_ignored",
            f"the keyword options ({listed}) were all ignored: the result is what the "
            "defaults give (are they passed on to the function that does the work?)",
            "Use every keyword argument, and pass each one on when you call a helper.",
            _all_dropped(oracle),
        )
    for k, v in first.kwargs.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, tuple)):
            continue
        if k == "stride" and v not in (1, (1, 1)):
            yield Derived(
                "auto:stride_size_only",
                "the stride shrank the output, but the windows still move one position at a "
                "time (window i starts at i, not at i * stride)",
                "Window i starts at row i * stride (and column j * stride).",
                _resized(k, lambda s: 1, oracle, windows_from_change=True),
            )
        if k == "padding" and v not in (0, (0, 0)):
            yield Derived(
                "auto:padding_windows_only",
                "the input was padded, but the output size was computed from the unpadded "
                "input (the 2 * padding term is missing from the size), so the last windows "
                "are never computed",
                "Compute the output size from the padded input: H + 2p - K, then // s + 1.",
                _resized(k, lambda p: 0, oracle, windows_from_change=False),
            )
            if first.args and (x := _arr(first.args[0])) is not None and x.ndim >= 2:
                for fill, says in (
                    (-np.inf, "the border was filled with -inf (max pooling's padding), "
                              "where this computation pads with zeros"),
                    (0.0, "the border was filled with zeros, where this computation pads "
                          "with -inf (a zero beats every negative input)"),
                    ("edge", "the border repeats the edge pixels (np.pad mode 'edge'), "
                             "where zeros belong"),
                ):  # fmt: skip
                    yield mutation(
                        f"auto:padded_with:{fill}",
                        says,
                        "Check what value the padding holds: zeros for a convolution and an "
                        "average, -inf (or ignore the border) for a maximum.",
                        _padded_with(fill),
                        "padding",
                    )
        if isinstance(v, tuple):
            if _int_pair(v) and v[0] != v[1]:
                for key, says, hint, change in _pair_changes(k):
                    yield mutation(key, says, hint, with_kwarg(k, change), k)
            continue
        for what, new, says in (
            ("ignored", _DROP, f"{k} was ignored (the result is what the default {k} gives)"),
            ("plus_one", _each(lambda x: x + 1), f"{k} is off by one (one more than given)"),
            ("minus_one", _each(lambda x: x - 1), f"{k} is off by one (one less than given)"),
            ("negated", _each(lambda x: -x), f"{k} entered with the wrong sign (e.g. a step "
                                             "up the gradient instead of down)"),
        ):  # fmt: skip
            change = (lambda x, new=new: new) if new is _DROP else new
            yield mutation(
                f"auto:{k}:{what}",
                says,
                f"Check how {k} enters the computation.",
                with_kwarg(k, change),
                k,
            )


def _each(change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A change of a number, made to each number of a (rows, columns) pair too."""

    def changed(v):
        if _int_pair(v):
            return tuple(change(x) for x in v)
        return change(v)

    return changed


def _pair_changes(name: str) -> Iterator[tuple[str, str, str, Callable]]:
    """A (rows, columns) pair read the other way round, or as a square."""
    yield (
        f"auto:{name}_swapped",
        f"the pair {name} was read the other way round (its row and column values swapped)",
        f"{name} = (rows, columns): the first number is for the height.",
        lambda t: (t[1], t[0]) if _int_pair(t) else None,
    )
    yield (
        f"auto:{name}_square",
        f"only the first number of {name} was used, as if the window were square",
        f"{name} = (rows, columns): use both numbers.",
        lambda t: (t[0], t[0]) if _int_pair(t) else None,
    )


def _plain_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclass(frozen=True)
class _Late:
    """A placeholder: the value of positional argument `j` of the same case."""

    j: int


def _via_oracle(recase: Callable, oracle: Callable) -> Callable[[Any, Any], Any]:
    def predict(case, e):
        changed = recase(case)
        if changed is None:
            return None
        if changed is SAME:
            return e
        return oracle(*copy.deepcopy(changed.args), **copy.deepcopy(changed.kwargs))

    return predict


def _resized(k: str, change: Callable, oracle: Callable, *, windows_from_change: bool):
    """A setting used for one part of the computation only: with `windows_from_change`,
    the windows come from the changed value and the size from the given one (a stride
    that only shrinks the output); without it, the right windows cut to the size the
    changed value gives (padding that never reached the size)."""

    def predict(case, e):
        if k not in case.kwargs:
            return e
        kwargs = copy.deepcopy(case.kwargs)
        kwargs[k] = change(kwargs[k])
        out = oracle(*copy.deepcopy(case.args), **kwargs)
        ea, oa = _arr(np.asarray(e)), _arr(np.asarray(out))
        if ea is None or oa is None or oa.ndim != ea.ndim:
            return None
        source, size = (oa, ea) if windows_from_change else (ea, oa)
        if any(n > m for n, m in zip(size.shape, source.shape, strict=True)):
            return None
        return source[tuple(slice(0, n) for n in size.shape)]

    return predict


def _padded_with(fill: Any) -> Callable[[Any], Any]:
    """The case with its first argument padded by hand with `fill` and padding=0."""

    def recase(case):
        p = case.kwargs.get("padding")
        x = _arr(case.args[0]) if case.args else None
        if x is None or x.ndim < 2 or p is None:
            return None
        ph, pw = (p, p) if isinstance(p, int) else p if _int_pair(p) else (None, None)
        if ph is None or (ph, pw) == (0, 0):
            return SAME
        width = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
        if fill == "edge":
            padded = np.pad(x, width, mode="edge")
        else:
            padded = np.pad(x.astype(float), width, constant_values=fill)
        kwargs = {**copy.deepcopy(case.kwargs), "padding": 0}
        args = (padded, *copy.deepcopy(case.args[1:]))
        return dataclasses.replace(case, args=args, kwargs=kwargs)

    return recase


def _int_pair(v: Any) -> bool:
    return isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, int) for x in v)


class _Drop:
    pass


_DROP = _Drop()
_UNDEFINED = _Drop()
SAME = _Drop()  # a mutation that does not apply to a case: the right answer stands


def _reshaped_last(v):
    a = np.asarray(v)
    C, H, W = a.shape[-3:]
    return np.ascontiguousarray(np.moveaxis(a.reshape(*a.shape[:-3], H, W, C), -1, -3))


def _slice_zeroed(v, end: int):
    a = np.array(v, dtype=float)
    if a.ndim < 3:
        return None
    a[end] = 0  # with one slice only, nothing contributes
    return a


def _square(v):
    a = np.asarray(v)
    h, w = a.shape[-2:]
    if w < h:  # what the student's code does here is unknown (an IndexError, likely)
        return _UNDEFINED
    return np.ascontiguousarray(a[..., :, :h]) if w > h else None


def _keywords(fn: Callable) -> list[str]:
    try:
        return [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind is p.KEYWORD_ONLY or p.default is not p.empty
        ]
    except (TypeError, ValueError):
        return []


def _all_dropped(oracle):
    def predict(case, e):
        if not case.kwargs:
            return e
        return oracle(*copy.deepcopy(case.args))

    return predict


def _channels_last(i, oracle):
    def predict(case, e):
        a = _arr(case.args[i]) if i < len(case.args) else None
        if a is None or a.ndim not in (3, 4):
            return None
        args = list(copy.deepcopy(case.args))
        args[i] = np.ascontiguousarray(np.moveaxis(a, -1, -3))
        out = _arr(np.asarray(oracle(*args, **copy.deepcopy(case.kwargs))))
        return None if out is None or out.ndim < 3 else np.moveaxis(out, -3, -1)

    return predict


# ---------------------------------------------------------------------------------------
# Recipes: a computation with settings, each with its neighbouring wrong values
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Knob:
    """One setting of a recipe (an initialisation, an optimiser step, a loss): its right
    value and the wrong ones a student might pick, each with (says, hint)."""

    name: str
    right: Any
    wrong: dict[Any, tuple[str, str]]


def recipe_variants(
    knobs: Sequence[Knob], make: Callable[..., Any], *, prefix: str, most: int = 2
) -> list[Derived]:
    """Every recipe with one setting, or two settings of different knobs, changed:
    `make(case, **settings)` computes the output of such a recipe on a case. Singles come
    first; a pair is named "two things at once"."""
    singles = [(k, v, said) for k in knobs for v, said in k.wrong.items()]
    out: list[Derived] = []
    for n in range(1, most + 1):
        for combo in itertools.combinations(singles, n):
            if len({k.name for k, _, _ in combo}) < n:
                continue  # two values of one knob cannot both hold
            settings = {k.name: v for k, v, _ in combo}
            says = [said[0] for _, _, said in combo]
            out.append(
                Derived(
                    f"{prefix}:" + "+".join(f"{k}={v}" for k, v in settings.items()),
                    says[0] if n == 1 else "two things at once: " + ", and ".join(says),
                    " ".join(said[1] for _, _, said in combo),
                    lambda case, e, settings=settings: make(case, **settings),
                )
            )
    return out


# ---------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------


def derive(
    fn: Callable,
    cases: Sequence,
    index: int,
    got: Any,
    compare: Callable[..., str | None],
    *,
    oracle: Callable[..., Any] | None = None,
    recipes: Sequence[Derived] = (),
    mistakes: Sequence[Any] = (),
    rtol: float,
    atol: float,
) -> Derived | None:
    """The first transformation that reproduces the student's output on every case it
    applies to (at least the failing one, `cases[index]`), or None. A check's `recipes`
    (`recipe_variants`) are tried first, then single transformations, then two at once:
    a catalogued mistake (`mistakes`, each with `key`, `says`, `hint` and `wrong(case)`)
    made on changed inputs or followed by an output transformation, two input changes,
    an input change followed by an output one."""
    cases = list(cases)[:MAX_CASES]
    if index >= len(cases):
        return None
    outputs: list[Any] = []
    for j, case in enumerate(cases):
        if j == index:
            outputs.append(got)
            continue
        try:
            outputs.append(fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))
        except Exception:
            outputs.append(_NO_OUTPUT)
    first = cases[index]
    names = _names(fn, len(first.args))
    inputs = list(_input_mutations(fn, first, oracle)) if oracle is not None else []
    outs = list(_output_mutations(got, first, names))
    plain = [b for b in outs if not b.key.startswith(("auto:scaled", "auto:shifted"))]
    singles = [*recipes, *outs, *inputs]
    changes = [d for d in inputs if d.recase is not None]
    pairs: list[Derived] = []
    if oracle is not None:
        changed = _ChangedCases(oracle)
        pairs += [_mistake_on(m, d, changed) for m in mistakes for d in changes]
    pairs += [_compose(_as_derived(m), b) for m in mistakes for b in plain]
    pairs += [
        _both(a, b, oracle) for a, b in itertools.combinations(changes, 2) if a.target != b.target
    ]
    pairs += [_compose(a, b) for a, b in itertools.product(inputs, plain)]
    for candidate in singles:
        if _explains(candidate, cases, outputs, index, compare, rtol, atol):
            return candidate
    # Two changes at once are many more candidates, so a coincidence is likelier where
    # the output is one number: then a pair must explain three cases (the floor split
    # over two terms matched "padding and stride each one less" on the only two cases
    # where both changes applied). An array matched on two cases is no coincidence.
    need = 3 if isinstance(got, (int, float, np.number)) else 2
    for candidate in pairs:
        if _explains(candidate, cases, outputs, index, compare, rtol, atol, need=need):
            return candidate
    return None


def _as_derived(m: Any) -> Derived:
    """A catalogued mistake as a derivation; its wrong output is computed once a case (it
    is composed with every output change, and may run a training epoch)."""
    memo: dict[int, Any] = {}

    def predict(case, e):
        if id(case) not in memo:
            memo[id(case)] = m.wrong(case)
        return memo[id(case)]

    return Derived(m.key, m.says, m.hint, predict)


class _ChangedCases:
    """An input change applied to a case, with the right output of the changed case as
    its `expected` (what a catalogued mistake's `wrong` may read); computed once each."""

    def __init__(self, oracle: Callable) -> None:
        self.oracle = oracle
        self.memo: dict[tuple[str, int], Any] = {}

    def __call__(self, d: Derived, case) -> Any:
        key = (d.key, id(case))
        if key not in self.memo:
            new = d.recase(case)
            if new is not None and new is not SAME:
                try:
                    right = self.oracle(*copy.deepcopy(new.args), **copy.deepcopy(new.kwargs))
                    new = dataclasses.replace(new, expected=right)
                except Exception:
                    new = None
            self.memo[key] = new
        return self.memo[key]


def _mistake_on(m: Any, d: Derived, changed: _ChangedCases) -> Derived:
    def predict(case, e):
        new = changed(d, case)
        if new is None:
            return None
        return m.wrong(case if new is SAME else new)

    return Derived(
        f"{m.key}+{d.key}",
        f"two things at once: {m.says}, and {d.says}",
        f"{m.hint} {d.hint}",
        predict,
    )


def _both(a: Derived, b: Derived, oracle: Callable) -> Derived:
    def recase(case):
        mid = a.recase(case)
        if mid is None:
            return None
        out = b.recase(case if mid is SAME else mid)
        if out is SAME:
            return mid
        return out

    return Derived(
        f"{a.key}+{b.key}",
        f"two things at once: {a.says}, and {b.says}",
        f"{a.hint} {b.hint}",
        _via_oracle(recase, oracle),
    )


_NO_OUTPUT = object()


def _compose(inner: Derived, outer: Derived) -> Derived:
    def predict(case, e):
        mid = inner.predict(case, e)
        return None if mid is None else outer.predict(case, np.asarray(mid))

    return Derived(
        f"{inner.key}+{outer.key}",
        f"two things at once: {inner.says}, and {outer.says}",
        f"{inner.hint} {outer.hint}",
        predict,
    )


def _explains(candidate, cases, outputs, index, compare, rtol, atol, need=2) -> bool:
    applied = 0
    seen: set = set()
    # The failing case first: most candidates fail there, at the cost of one prediction.
    order = [index, *(j for j in range(len(cases)) if j != index)]
    for j in order:
        case, out = cases[j], outputs[j]
        try:
            wrong = candidate.predict(case, case.expected)
        except Exception:
            wrong = None
        if wrong is None:
            if j == index:
                return False
            continue
        if out is _NO_OUTPUT:
            if j == index:
                return False
            continue
        if j == index and compare(wrong, case.expected, rtol=rtol, atol=atol) is None:
            return False  # the mutation changes nothing on the failing case
        if compare(out, wrong, rtol=rtol, atol=atol, equal_nan=True) is not None:
            return False
        applied += 1
        if candidate.varies is not None:
            seen.add(candidate.varies(case))
    if candidate.varies is not None and len(seen) < 2:
        return False
    return applied >= min(need, len(cases))
