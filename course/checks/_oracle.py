"""Independent oracles for the visible checks: torch in float64.

Students may read this file: it shows how torch computes each operation, which reveals
nothing of the loop or numpy implementation they are asked to write.
"""

from __future__ import annotations

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
