"""Argument normalisation and boundary checks shared by every module of `solutions`.

Each public function validates at its boundary and raises a `ValueError` that says what
was expected and what came, so that a student calling the reference (or a hidden test
calling it with a bad case) gets a sentence, not a numpy broadcasting traceback.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Pair = tuple[int, int]
PerSide = tuple[tuple[int, int], tuple[int, int]]


def as_pair(value: Any, name: str, *, minimum: int) -> Pair:
    """Turn an int or a pair of ints into `(rows, cols)` and check both are >= `minimum`.

    Args:
        value: an int (same on both axes) or a length-2 sequence `(along H, along W)`.
        name: the argument's name, used in the error message.
        minimum: smallest allowed value (1 for stride/dilation/kernel, 0 for padding).
    Returns:
        `(value_h, value_w)` as Python ints.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(
                f"{name} must be an int or a pair (along H, along W); got {value!r}"
            ) from None
        if len(items) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
        ):
            raise ValueError(
                f"{name} must be an int or a pair of ints (along H, along W); got {value!r}"
            )
        pair = (int(items[0]), int(items[1]))
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum} on both axes; got {value!r}")
    return pair


def as_padding(value: Any) -> PerSide:
    """Normalise a padding spec to `((top, bottom), (left, right))`.

    Accepts an int (same on all four sides), `(ph, pw)` (per side, torch style), or
    `((top, bottom), (left, right))` for the asymmetric "same" padding of even kernels
    (lecture 000: `ceil(p/2)` on top and `floor(p/2)` at the bottom).
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        ph = pw = int(value)
        per_side = ((ph, ph), (pw, pw))
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(_padding_message(value)) from None
        if len(items) != 2:
            raise ValueError(_padding_message(value))
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            per_side = ((int(items[0]),) * 2, (int(items[1]),) * 2)
        else:
            try:
                (top, bottom), (left, right) = items
                per_side = ((int(top), int(bottom)), (int(left), int(right)))
            except (TypeError, ValueError):
                raise ValueError(_padding_message(value)) from None
    if min(min(per_side[0]), min(per_side[1])) < 0:
        raise ValueError(f"padding must be >= 0 on every side; got {value!r}")
    return per_side


def _padding_message(value: Any) -> str:
    return (
        "padding must be an int, a pair (ph, pw) per side, or "
        f"((top, bottom), (left, right)); got {value!r}"
    )


def as_float_array(x: Any, name: str, ndim: int | tuple[int, ...], layout: str) -> np.ndarray:
    """Convert to a float ndarray (float32/float64 kept; ints and bools become float64).

    Args:
        x: array-like.
        name: the argument's name for the error message.
        ndim: allowed number(s) of dimensions.
        layout: the expected layout, e.g. "(N, C_in, H, W)", quoted in the error.
    """
    arr = np.asarray(x)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in allowed:
        raise ValueError(f"{name} must be {layout}; got an array of shape {arr.shape}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """The float dtype of an operation on `arrays`: float32 only when every input is float32."""
    return np.result_type(*arrays) if arrays else np.dtype(np.float64)
