"""Independent oracles for the visible checks: torch in float64.

Students may read this file: it shows how torch computes each operation, which reveals
nothing of the loop or numpy implementation they are asked to write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np


@cache
def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a course dependency
        raise ImportError(
            "The visible checks use PyTorch as an independent reference. Install the course "
            "environment (`make setup`, or `conda env create -f environment.yml`)."
        ) from exc
    return torch


def t64(a: Any):
    """numpy/list → torch float64 tensor (a copy; views such as K[::-1, ::-1] are fine)."""
    return _torch().tensor(np.ascontiguousarray(a, dtype=np.float64))


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Batched cross-correlation, NCHW; `padding` may be ((top, bottom), (left, right))."""
    torch = _torch()
    F = torch.nn.functional
    xt = t64(x)
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        (top, bottom), (left, right) = padding
        xt = F.pad(xt, (left, right, top, bottom))
        padding = 0
    out = F.conv2d(
        xt, t64(w), None if b is None else t64(b), stride=stride, padding=padding, dilation=dilation
    )
    return out.numpy()


def corr2d(X, K, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """One-channel (H, W) cross-correlation."""
    X, K = np.asarray(X, float), np.asarray(K, float)
    return conv2d(X[None, None], K[None, None], stride=stride, padding=padding, dilation=dilation)[
        0, 0
    ]


def pool2d(X, size, *, stride=None, padding=0, mode="max") -> np.ndarray:
    """Max or average pooling of (H, W), (C, H, W) or (N, C, H, W); avg counts padding."""
    torch = _torch()
    F = torch.nn.functional
    a = np.asarray(X, float)
    lead = 4 - a.ndim
    xt = t64(a.reshape((1,) * lead + a.shape))
    stride = size if stride is None else stride
    if mode == "max":
        out = F.max_pool2d(xt, size, stride=stride, padding=padding)
    elif mode == "avg":
        out = F.avg_pool2d(xt, size, stride=stride, padding=padding, count_include_pad=True)
    else:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    return out.numpy().reshape(out.shape[lead:])


# ---------------------------------------------------------------------------------------
# Known-good stand-ins for earlier exercises' functions (charge each mistake once)
# ---------------------------------------------------------------------------------------


def _sides(padding) -> tuple[int, int, int, int]:
    """int, (ph, pw) or ((top, bottom), (left, right)) -> (top, bottom, left, right)."""
    if isinstance(padding, (int, np.integer)):
        return (int(padding),) * 4
    first, second = padding
    if isinstance(first, (int, np.integer)):
        return int(first), int(first), int(second), int(second)
    return int(first[0]), int(first[1]), int(second[0]), int(second[1])


def good_pad2d(X, padding) -> np.ndarray:
    top, bottom, left, right = _sides(padding)
    out = _torch().nn.functional.pad(t64(X)[None, None], (left, right, top, bottom))
    return out[0, 0].numpy()


def good_output_size(n, k, *, padding=0, stride=1) -> int:
    out = _torch().nn.functional.conv1d(
        t64(np.zeros((1, 1, n))), t64(np.zeros((1, 1, k))), stride=stride, padding=padding
    )
    return int(out.shape[-1])


def good_corr2d_padded(X, K, *, padding=0, stride=1) -> np.ndarray:
    top, bottom, left, right = _sides(padding)
    return corr2d(X, K, stride=stride, padding=((top, bottom), (left, right)))


def good_corr2d_multi_in(X, K) -> np.ndarray:
    return conv2d(np.asarray(X, float)[None], np.asarray(K, float)[None])[0, 0]


def good_pool2d(X, size, *, stride=None, padding=0, mode="max") -> np.ndarray:
    return pool2d(X, size, stride=stride, padding=padding, mode=mode)


@dataclass(frozen=True)
class Helper:
    """An earlier exercise's function that later exercises call: a torch stand-in, and
    inputs on which a student's version is compared with it."""

    exercise: str
    good: Callable[..., Any]
    probes: tuple[tuple[tuple, dict], ...]


_X45 = np.arange(20.0).reshape(4, 5) % 7 - 3
_K23 = np.array([[1.0, 2.0, 0.0], [-1.0, 3.0, 4.0]])
_X234 = np.arange(24.0).reshape(2, 3, 4) % 5 - 2
_K222 = np.array([[[1.0, -1.0], [2.0, 0.0]], [[0.0, 3.0], [-2.0, 1.0]]])

#: name -> Helper, for every graded function that a later graded function calls.
HELPERS = {
    "corr2d": Helper("Exercise 1.2", lambda X, K: corr2d(X, K), (((_X45, _K23), {}),)),
    "output_size": Helper(
        "Exercise 2.1",
        good_output_size,
        (((7, 3), {}), ((8, 3), {"padding": 1, "stride": 2}), ((5, 2), {"stride": 3})),
    ),
    "pad2d": Helper(
        "Exercise 2.4",
        good_pad2d,
        (((_X45, 1), {}), ((_X45, (1, 2)), {}), ((_K23, ((0, 2), (1, 0))), {})),
    ),
    "corr2d_padded": Helper(
        "Exercise 2.6",
        good_corr2d_padded,
        (((_X45, _K23), {"padding": 1, "stride": 2}), ((_X45, _K23), {})),
    ),
    "corr2d_multi_in": Helper("Exercise 3.1", good_corr2d_multi_in, (((_X234, _K222), {}),)),
    "pool2d": Helper(
        "Exercise 4.2",
        good_pool2d,
        (((_X45, 2), {}), ((_X45, 2), {"stride": 1, "mode": "avg"})),
    ),
}
