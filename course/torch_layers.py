"""Known-good layers for assignment 6 (LeNet), built on PyTorch.

Assignment 6 trains the LeNet of lecture 002 with layer functions that follow the course's
layer API (cs231n style, the one assignment 5 uses)::

    out, cache = <layer>_forward(x, ...)       # numpy in, numpy out
    grads      = <layer>_backward(dout, cache)  # dx, or (dx, dw, db) for layers with weights

Every function of the LeNet exercises takes a ``layers`` argument, a :class:`Layers`
holding one implementation of each layer, so that the same LeNet code runs with

* the layers you wrote in assignment 5 (``layers_from(globals())`` collects them), or
* the layers of this module (:data:`LAYERS`), which are computed by
  ``torch.nn.functional`` and differentiated by autograd. They reveal no numpy solution;
  they are the reference the visible checks use, and the layers to switch to while yours
  are not passing yet.

Arrays go in and come out as numpy, float32 stays float32 and anything else becomes
float64 (float32 only when every input is float32). Layouts are the course's: NCHW,
conv weights ``(C_out, C_in, KH, KW)``, linear weights ``(out_features, in_features)``.

:class:`TorchLeNet5`, lecture 002's ``LeNet5`` module (written in `course.checks._oracle`,
the checks' torch oracle), is here too: its ``state_dict`` names (``conv1.weight``, ...,
``fc3.bias``) are the names of the assignment's parameter dict.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import numpy as np

from course.checks._oracle import TorchLeNet5, _torch, sides  # _torch: the one lazy import

__all__ = [
    "LAYERS",
    "LAYER_NAMES",
    "PAIRS",
    "Layers",
    "TorchLeNet5",
    "conv2d_backward",
    "conv2d_forward",
    "flatten_backward",
    "flatten_forward",
    "layers_from",
    "linear_backward",
    "linear_forward",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "one_thread",
    "relu_backward",
    "relu_forward",
    "set_threads",
    "single_threaded",
    "softmax_cross_entropy",
]

#: The functions a :class:`Layers` holds, in the order a LeNet forward pass first uses them.
LAYER_NAMES = (
    "conv2d_forward",
    "conv2d_backward",
    "relu_forward",
    "relu_backward",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "flatten_forward",
    "flatten_backward",
    "linear_forward",
    "linear_backward",
    "softmax_cross_entropy",
)

#: Functions that must come from the same implementation: a forward's cache is only
#: understood by the backward of the same family.
PAIRS: dict[str, tuple[str, ...]] = {
    "conv2d": ("conv2d_forward", "conv2d_backward"),
    "relu": ("relu_forward", "relu_backward"),
    "maxpool2d": ("maxpool2d_forward", "maxpool2d_backward"),
    "flatten": ("flatten_forward", "flatten_backward"),
    "linear": ("linear_forward", "linear_backward"),
    "softmax_cross_entropy": ("softmax_cross_entropy",),
}


@cache
def _blas():
    """threadpoolctl's controller of numpy's BLAS, or None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn (mlxtend)
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch and numpy's BLAS on one thread inside the block, then restore both.

    LeNet's arrays are small: splitting each operation over threads costs more than it
    saves, and on a busy machine (a class's autograder, a shared server) the threads wait
    for each other. Measured on 2 busy cores: a check 50 times faster, a numpy convolution
    5 to 10 times faster with one thread.
    """
    torch = _torch()
    controller = _blas()
    blas = (
        controller.limit(limits=1, user_api="blas")
        if controller is not None
        else contextlib.nullcontext()
    )
    with blas:
        n = torch.get_num_threads()
        if n == 1:
            yield
            return
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(n)


def set_threads(n: int = 1) -> None:
    """Use `n` threads for torch and for numpy's BLAS from now on (see `one_thread`)."""
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    _torch().set_num_threads(n)
    controller = _blas()
    if controller is not None:
        controller.limit(limits=n, user_api="blas")


def single_threaded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run `fn` inside `one_thread()` (the layers here, and the checks that call torch)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        with one_thread():
            return fn(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------------------
# The Layers bundle
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Layers:
    """One implementation of every layer function LeNet needs.

    Use the functions as attributes: ``out, cache = layers.conv2d_forward(x, w, b,
    padding=2)``. ``origin`` says where each function came from (``"torch"``,
    ``"yours"``, ...), for messages such as "training uses your conv2d and torch's pooling".
    """

    conv2d_forward: Callable[..., Any]
    conv2d_backward: Callable[..., Any]
    relu_forward: Callable[..., Any]
    relu_backward: Callable[..., Any]
    maxpool2d_forward: Callable[..., Any]
    maxpool2d_backward: Callable[..., Any]
    flatten_forward: Callable[..., Any]
    flatten_backward: Callable[..., Any]
    linear_forward: Callable[..., Any]
    linear_backward: Callable[..., Any]
    softmax_cross_entropy: Callable[..., Any]
    origin: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in LAYER_NAMES:
            if not callable(getattr(self, name)):
                raise TypeError(f"Layers.{name} must be a function; got {getattr(self, name)!r}")

    def functions(self) -> dict[str, Callable[..., Any]]:
        """name -> function, for every name of `LAYER_NAMES`."""
        return {name: getattr(self, name) for name in LAYER_NAMES}

    def describe(self) -> str:
        """One line per layer family: where its functions come from."""
        lines = []
        for family, names in PAIRS.items():
            origins = sorted({self.origin.get(n, "?") for n in names})
            lines.append(f"  {family:<22} {' + '.join(origins)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        mix = sorted(set(self.origin.values())) or ["?"]
        return f"Layers({' + '.join(mix)})"


def layers_from(
    namespace: Mapping[str, Any] | None = None,
    /,
    *,
    fallback: Layers | None = None,
    origin: str = "yours",
    **functions: Callable[..., Any],
) -> Layers:
    """Collect layer functions into a :class:`Layers`.

    Args:
        namespace: a mapping to pick the functions from by name, typically ``globals()``
            in a notebook; names of `LAYER_NAMES` that it does not define are skipped.
        fallback: a Layers that supplies every function not found (e.g. :data:`LAYERS`);
            without one, a missing function is an error.
        origin: the label recorded for the functions taken from `namespace` and
            `functions` (``Layers.origin``).
        **functions: functions by name; they take precedence over `namespace`.
    Returns:
        The Layers.
    Raises:
        ValueError: an unknown name in `functions`, or a missing function and no fallback.

    Example::

        mine = layers_from(globals())                        # all eleven from the notebook
        mixed = layers_from(conv2d_forward=f, conv2d_backward=g, fallback=LAYERS)
    """
    unknown = sorted(set(functions) - set(LAYER_NAMES))
    if unknown:
        raise ValueError(f"unknown layer names {unknown}; the names are {list(LAYER_NAMES)}")
    chosen: dict[str, Callable[..., Any]] = {}
    where: dict[str, str] = {}
    for name in LAYER_NAMES:
        fn = functions.get(name)
        if fn is None and namespace is not None:
            candidate = namespace.get(name)
            fn = candidate if callable(candidate) else None
        if fn is not None:
            chosen[name], where[name] = fn, origin
        elif fallback is not None:
            chosen[name] = getattr(fallback, name)
            where[name] = fallback.origin.get(name, "fallback")
    missing = [n for n in LAYER_NAMES if n not in chosen]
    if missing:
        raise ValueError(
            f"no function for {missing}; define them, or pass fallback=LAYERS to use the "
            "torch layers for those"
        )
    return Layers(**chosen, origin=where)


# ---------------------------------------------------------------------------------------
# numpy <-> torch, and autograd caches
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _Graph:
    """What a torch layer's backward needs: the input leaves and the output node."""

    layer: str
    inputs: tuple[Any, ...]  # leaf tensors that need a gradient (None for an absent bias)
    out: Any  # output tensor, still attached to its autograd graph

    def __repr__(self) -> str:
        return f"<{self.layer} cache: output {tuple(self.out.shape)}>"


def _float_dtype(*arrays: Any) -> np.dtype:
    """float32 when every array is float32, else float64 (the course's rule)."""
    present = [np.asarray(a) for a in arrays if a is not None]
    if present and all(a.dtype == np.float32 for a in present):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _array(a: Any, name: str, ndim: int, shape: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array {shape}; got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {shape}; got shape {arr.shape}")
    return arr


def _leaf(a: np.ndarray, dtype: np.dtype):
    """A copy of `a` as a torch leaf that records gradients (a copy: later in-place edits
    of the numpy array cannot change what autograd saved)."""
    torch = _torch()
    return torch.tensor(np.array(a, dtype=dtype), requires_grad=True)


def _numpy(t) -> np.ndarray:
    """A numpy copy of a tensor (a copy: editing it cannot change the saved graph)."""
    return t.detach().numpy().copy()


def _grads(cache: _Graph, dout: Any) -> list[Any]:
    """Gradients of cache.out w.r.t. its inputs, for the upstream gradient `dout`."""
    if not isinstance(cache, _Graph):
        raise ValueError(
            f"cache must be what the torch {_layer_name(cache)} forward returned; got "
            f"{type(cache).__name__}. Forward and backward must come from the same layers."
        )
    torch = _torch()
    dout = np.asarray(dout)
    if dout.shape != tuple(cache.out.shape):
        raise ValueError(
            f"{cache.layer}: dout must have the shape of the forward output "
            f"{tuple(cache.out.shape)}; got {dout.shape}"
        )
    grad_out = torch.tensor(np.array(dout, dtype=_numpy_dtype(cache.out)))
    wanted = [t for t in cache.inputs if t is not None]
    # retain_graph: a cache may be used twice (e.g. by a gradient check); the graph lives
    # exactly as long as the cache does.
    got = torch.autograd.grad(cache.out, wanted, grad_outputs=grad_out, retain_graph=True)
    it = iter(got)
    return [None if t is None else _numpy(next(it)) for t in cache.inputs]


def _layer_name(cache: Any) -> str:
    return getattr(cache, "layer", "layer")


def _numpy_dtype(t) -> np.dtype:
    torch = _torch()
    return np.dtype(np.float32) if t.dtype == torch.float32 else np.dtype(np.float64)


def _pair(v: Any, name: str) -> tuple[int, int]:
    if np.ndim(v) == 0:
        return int(v), int(v)
    items = tuple(v)
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair (along H, along W); got {v!r}")
    return int(items[0]), int(items[1])


# ---------------------------------------------------------------------------------------
# The layers
# ---------------------------------------------------------------------------------------


@single_threaded
def conv2d_forward(x: Any, w: Any, b: Any, *, stride: Any = 1, padding: Any = 0):
    """Batched 2-D cross-correlation (``F.conv2d``).

    Args:
        x: input, shape (N, C_in, H, W).
        w: filters, shape (C_out, C_in, KH, KW).
        b: bias, shape (C_out,), or None.
        stride: an int or (sh, sw).
        padding: zeros per side: an int, (ph, pw) or ((top, bottom), (left, right)).
    Returns:
        out: shape (N, C_out, H_out, W_out), H_out = (H + top + bottom - KH) // sh + 1.
        cache: for `conv2d_backward`.
    """
    torch = _torch()
    F = torch.nn.functional
    x = _array(x, "x", 4, "(N, C_in, H, W)")
    w = _array(w, "w", 4, "(C_out, C_in, KH, KW)")
    C_out, C_w = w.shape[:2]
    if x.shape[1] != C_w:
        raise ValueError(
            f"x has C_in={x.shape[1]} channels but w expects {C_w}; w must be "
            f"(C_out, C_in, KH, KW), got {w.shape}"
        )
    if b is not None:
        b = _array(b, "b", 1, "(C_out,)")
        if b.shape != (C_out,):
            raise ValueError(f"b must have shape (C_out,) = ({C_out},); got {b.shape}")
    (top, bottom), (left, right) = sides(padding)
    if min(left, right, top, bottom) < 0:
        raise ValueError(f"padding must be >= 0; got {padding!r}")
    sh, sw = _pair(stride, "stride")
    KH, KW = w.shape[2:]
    if x.shape[2] + top + bottom < KH or x.shape[3] + left + right < KW:
        raise ValueError(
            f"the {KH}×{KW} kernel is larger than the padded input "
            f"({x.shape[2] + top + bottom}×{x.shape[3] + left + right})"
        )
    dtype = _float_dtype(x, w, b)
    xt, wt = _leaf(x, dtype), _leaf(w, dtype)
    bt = None if b is None else _leaf(b, dtype)
    with torch.enable_grad():
        xp = F.pad(xt, (left, right, top, bottom)) if (left, right, top, bottom) != (0,) * 4 else xt
        out = F.conv2d(xp, wt, bt, stride=(sh, sw))
    return _numpy(out), _Graph("conv2d", (xt, wt, bt), out)


@single_threaded
def conv2d_backward(dout: Any, cache: Any):
    """Gradients of `conv2d_forward`.

    Args:
        dout: upstream gradient, shape (N, C_out, H_out, W_out).
        cache: what `conv2d_forward` returned.
    Returns:
        dx (N, C_in, H, W), dw (C_out, C_in, KH, KW), db (C_out,) or None without bias.
    """
    dx, dw, db = _grads(cache, dout)
    return dx, dw, db


@single_threaded
def relu_forward(x: Any):
    """ReLU, max(x, 0) elementwise, any shape.

    Returns:
        out: the shape of x.
        cache: for `relu_backward`.
    """
    torch = _torch()
    x = np.asarray(x)
    xt = _leaf(x, _float_dtype(x))
    with torch.enable_grad():
        out = torch.relu(xt)
    return _numpy(out), _Graph("relu", (xt,), out)


@single_threaded
def relu_backward(dout: Any, cache: Any) -> np.ndarray:
    """dx = dout where x > 0, else 0 (0 at x == 0, like torch)."""
    (dx,) = _grads(cache, dout)
    return dx


@single_threaded
def maxpool2d_forward(x: Any, *, kernel_size: Any, stride: Any = None, padding: Any = 0):
    """Batched 2-D max pooling (``F.max_pool2d``).

    Args:
        x: input, shape (N, C, H, W).
        kernel_size: an int or (KH, KW).
        stride: an int or (sh, sw); default: kernel_size.
        padding: an int or (ph, pw), at most half the kernel.
    Returns:
        out: shape (N, C, H_out, W_out), H_out = (H + 2*padding - KH) // sh + 1.
        cache: for `maxpool2d_backward`.
    """
    torch = _torch()
    F = torch.nn.functional
    x = _array(x, "x", 4, "(N, C, H, W)")
    kernel = _pair(kernel_size, "kernel_size")
    strides = kernel if stride is None else _pair(stride, "stride")
    pads = _pair(padding, "padding")
    xt = _leaf(x, _float_dtype(x))
    with torch.enable_grad():
        out = F.max_pool2d(xt, kernel, stride=strides, padding=pads)
    return _numpy(out), _Graph("maxpool2d", (xt,), out)


@single_threaded
def maxpool2d_backward(dout: Any, cache: Any) -> np.ndarray:
    """Each window's gradient goes to the input that won its max (first max on ties)."""
    (dx,) = _grads(cache, dout)
    return dx


@single_threaded
def flatten_forward(x: Any):
    """(N, C, H, W) -> (N, C*H*W) in C order (``torch.flatten(x, 1)``).

    Returns:
        out: shape (N, prod(x.shape[1:])).
        cache: for `flatten_backward`.
    """
    torch = _torch()
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must be (N, ...) with at least 2 dimensions; got shape {x.shape}")
    xt = _leaf(x, _float_dtype(x))
    with torch.enable_grad():
        out = torch.flatten(xt, 1)
    return _numpy(out), _Graph("flatten", (xt,), out)


@single_threaded
def flatten_backward(dout: Any, cache: Any) -> np.ndarray:
    """The gradient reshaped back to the input's shape."""
    (dx,) = _grads(cache, dout)
    return dx


@single_threaded
def linear_forward(x: Any, w: Any, b: Any):
    """Affine layer ``out = x @ w.T + b`` (``F.linear``, torch's nn.Linear layout).

    Args:
        x: input, shape (N, in_features).
        w: weights, shape (out_features, in_features).
        b: bias, shape (out_features,), or None.
    Returns:
        out: shape (N, out_features).
        cache: for `linear_backward`.
    """
    torch = _torch()
    F = torch.nn.functional
    x = _array(x, "x", 2, "(N, in_features); flatten (N, C, H, W) maps first")
    w = _array(w, "w", 2, "(out_features, in_features)")
    if w.shape[1] != x.shape[1]:
        hint = ""
        if w.shape[0] == x.shape[1]:
            hint = " (w looks transposed: nn.Linear stores (out_features, in_features))"
        raise ValueError(
            f"x has in_features={x.shape[1]} but w has shape {w.shape}; w must be "
            f"(out_features, {x.shape[1]}){hint}"
        )
    if b is not None:
        b = _array(b, "b", 1, "(out_features,)")
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape (out_features,) = ({w.shape[0]},); got {b.shape}")
    dtype = _float_dtype(x, w, b)
    xt, wt = _leaf(x, dtype), _leaf(w, dtype)
    bt = None if b is None else _leaf(b, dtype)
    with torch.enable_grad():
        out = F.linear(xt, wt, bt)
    return _numpy(out), _Graph("linear", (xt, wt, bt), out)


@single_threaded
def linear_backward(dout: Any, cache: Any):
    """Gradients of `linear_forward`: dx (N, in), dw (out, in), db (out,) or None."""
    dx, dw, db = _grads(cache, dout)
    return dx, dw, db


@single_threaded
def softmax_cross_entropy(logits: Any, y: Any):
    """Mean softmax cross-entropy of a batch and its gradient (``F.cross_entropy``).

    Args:
        logits: raw class scores, shape (N, C).
        y: integer labels, shape (N,), each in [0, C).
    Returns:
        loss: a numpy scalar, the mean over the batch of -log softmax(logits[n])[y[n]].
        dlogits: shape (N, C), (softmax(logits) - onehot(y)) / N.
    """
    torch = _torch()
    F = torch.nn.functional
    z = _array(logits, "logits", 2, "(N, C)")
    N, C = z.shape
    labels = np.asarray(y)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class labels; got dtype {labels.dtype}")
    if labels.shape != (N,):
        raise ValueError(f"y must have shape (N,) = ({N},); got {labels.shape}")
    if N and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(f"labels must be in [0, {C}); got values {labels.min()}..{labels.max()}")
    dtype = _float_dtype(z)
    zt = _leaf(z, dtype)
    with torch.enable_grad():
        loss = F.cross_entropy(zt, torch.tensor(labels.astype(np.int64)))
    (dz,) = torch.autograd.grad(loss, [zt])
    return dtype.type(loss.item()), _numpy(dz)


#: The torch-backed layers, the "known good" ones.
LAYERS = Layers(
    conv2d_forward=conv2d_forward,
    conv2d_backward=conv2d_backward,
    relu_forward=relu_forward,
    relu_backward=relu_backward,
    maxpool2d_forward=maxpool2d_forward,
    maxpool2d_backward=maxpool2d_backward,
    flatten_forward=flatten_forward,
    flatten_backward=flatten_backward,
    linear_forward=linear_forward,
    linear_backward=linear_backward,
    softmax_cross_entropy=softmax_cross_entropy,
    origin=dict.fromkeys(LAYER_NAMES, "torch"),
)
