"""Independent oracles for the visible checks: torch in float64, and the course's one
lazy import of torch (`_torch`, which `course.torch_layers` and `course.probe` use too).

Students may read this file: it shows how torch computes each operation, which reveals
nothing of the loop or numpy implementation they are asked to write. Lecture 002's LeNet
is written here once (`TorchLeNet5`, re-exported by `course.torch_layers`); the LeNet
checks of assignments 6 and 7 call it with settings that reproduce known mistakes.
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
            "The course needs PyTorch (the torch layers, and the visible checks' independent "
            "reference). Install the course environment (`make setup`, or `conda env create "
            "-f environment.yml`)."
        ) from exc
    return torch


def t64(a: Any, device: Any = None):
    """numpy/list → torch float64 tensor (a copy; views such as K[::-1, ::-1] are fine)."""
    return _torch().tensor(np.ascontiguousarray(a, dtype=np.float64), device=device)


def pair(v: Any) -> tuple[int, int]:
    """An int or a pair (along H, along W) → the pair."""
    return (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))


def sides(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Zeros per side as an int, (ph, pw) or ((top, bottom), (left, right)) → the last form."""
    first, second = (padding, padding) if np.ndim(padding) == 0 else padding
    if np.ndim(first) == 0:
        return (int(first),) * 2, (int(second),) * 2
    return (int(first[0]), int(first[1])), (int(second[0]), int(second[1]))


def numpy64(t: Any) -> np.ndarray:
    """A torch tensor as a numpy float64 array on the CPU, out of the autograd graph."""
    return t.detach().to("cpu", _torch().float64).numpy()


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


def pool_routing(x, size, stride, pick: str, dout=None) -> np.ndarray:
    """Where the windows of pooling x (..., H, W) send their gradient: each window sends its
    dout (default 1) to `pick` of its inputs, "first" (the first maximum in row-major
    order, torch's), "last" (the last maximum), "all_ties" (every maximum) or "avg" (all
    of them, an equal share each); overlapping windows add up."""
    torch = _torch()
    F = torch.nn.functional
    a = np.asarray(x, float)
    t = t64(a).reshape(-1, 1, *a.shape[-2:])
    cols = F.unfold(t, size, stride=stride)  # (N, window size, windows), row-major inside
    if pick == "all_ties":
        chosen = (cols == cols.max(dim=1, keepdim=True).values).to(cols.dtype)
    elif pick == "avg":
        chosen = torch.full_like(cols, 1.0 / cols.shape[1])
    else:  # one input per window
        last = cols.shape[1] - 1 - torch.flip(cols, dims=[1]).argmax(dim=1, keepdim=True)
        one = last if pick == "last" else cols.argmax(dim=1, keepdim=True)
        chosen = torch.zeros_like(cols).scatter_(1, one, 1.0)
    d = 1.0 if dout is None else t64(dout).reshape(t.shape[0], 1, -1)
    return F.fold(chosen * d, a.shape[-2:], size, stride=stride).numpy().reshape(a.shape)


# ---------------------------------------------------------------------------------------
# Lecture 002's LeNet
# ---------------------------------------------------------------------------------------

#: LeNet's parameters: torch's names for lecture 002's module, in registration order.
PARAM_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1.weight": (6, 1, 5, 5),
    "conv1.bias": (6,),
    "conv2.weight": (16, 6, 5, 5),
    "conv2.bias": (16,),
    "fc1.weight": (120, 400),
    "fc1.bias": (120,),
    "fc2.weight": (84, 120),
    "fc2.bias": (84,),
    "fc3.weight": (10, 84),
    "fc3.bias": (10,),
}
PARAM_NAMES = tuple(PARAM_SHAPES)
LAYERS_WITH_PARAMS = ("conv1", "conv2", "fc1", "fc2", "fc3")


@cache
def _lenet_class():
    """The LeNet5 module class (made once: torch is imported lazily)."""
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional

    class LeNet5(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, kernel_size=5, stride=1, padding=2)
            self.conv2 = nn.Conv2d(6, 16, kernel_size=5, stride=1, padding=0)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(
            self,
            x,
            *,
            act: str = "relu",
            pool: str = "max",
            no_act: frozenset[str] = frozenset(),
            identity_grad: frozenset[str] = frozenset(),
            flatten: str = "nchw",
            head: str | None = None,
        ):
            """The logits; the keywords reproduce known mistakes (the defaults are lecture
            002's network): act "sigmoid", pool "avg" (the 1998 LeNet); no_act: layers
            whose activation is left out; identity_grad: layers whose activation passes
            the gradient unchanged (a backward pass without relu_backward there); flatten
            "nhwc" (channels last); head "act", "softmax" or "log_softmax" on the logits."""
            f = torch.relu if act == "relu" else torch.sigmoid

            def a(h, layer):
                if layer in no_act:
                    return h
                return h + (f(h) - h).detach() if layer in identity_grad else f(h)

            def p(h):
                return F.max_pool2d(h, kernel_size=2) if pool == "max" else F.avg_pool2d(h, 2)

            h = p(a(self.conv1(x), "conv1"))  # (N, 6, 14, 14)
            h = p(a(self.conv2(h), "conv2"))  # (N, 16, 5, 5)
            h = torch.flatten(h if flatten == "nchw" else h.permute(0, 2, 3, 1), 1)
            h = a(self.fc1(h), "fc1")  # lecture 002 flattens with x.view(-1, 16*5*5)
            h = a(self.fc2(h), "fc2")
            z = self.fc3(h)
            if head == "act":
                return f(z)
            if head in ("softmax", "log_softmax"):
                return getattr(torch, head)(z, dim=1)
            return z

    return LeNet5


def TorchLeNet5(dtype: Any = None):  # noqa: N802 (a class factory: torch is imported lazily)
    """Lecture 002's ``LeNet5`` as a torch module, with the same parameter names.

    conv1 (1 -> 6, 5×5, padding 2), max pool 2×2, conv2 (6 -> 16, 5×5), max pool 2×2,
    fc1 (400 -> 120), fc2 (120 -> 84), fc3 (84 -> 10); ReLU after every layer but fc3.

    Args:
        dtype: torch dtype of the parameters (default torch's, float32).
    Returns:
        An ``nn.Module``; ``load_state_dict({name: torch.from_numpy(array)})`` loads an
        assignment-6 parameter dict into it.
    """
    model = _lenet_class()()
    return model if dtype is None else model.to(dtype)


@cache
def _lenet_frame():
    """A LeNet5 without storage (the meta device): `lenet_logits` supplies its parameters."""
    with _torch().device("meta"):
        return _lenet_class()()


def lenet_logits(params: Any, x: Any, **settings: Any):
    """LeNet's logits (a tensor attached to the graph) for the tensors `params` (name ->
    tensor) and the batch `x`; `settings` are those of ``TorchLeNet5().forward``."""
    torch = _torch()
    return torch.func.functional_call(_lenet_frame(), dict(params), (x,), settings)


# ---------------------------------------------------------------------------------------
# Known-good stand-ins for earlier exercises' functions (charge each mistake once)
# ---------------------------------------------------------------------------------------


def good_pad2d(X, padding) -> np.ndarray:
    (top, bottom), (left, right) = sides(padding)
    out = _torch().nn.functional.pad(t64(X)[None, None], (left, right, top, bottom))
    return out[0, 0].numpy()


def good_output_size(n, k, *, padding=0, stride=1) -> int:
    out = _torch().nn.functional.conv1d(
        t64(np.zeros((1, 1, n))), t64(np.zeros((1, 1, k))), stride=stride, padding=padding
    )
    return int(out.shape[-1])


def good_corr2d_padded(X, K, *, padding=0, stride=1) -> np.ndarray:
    return corr2d(X, K, stride=stride, padding=sides(padding))


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
