"""LeNet-5 of lecture 002 in pure numpy, built from the reference layers.

The network (lecture 002, "LeNet in PyTorch"; d2l's LeNet is the same with sigmoid and
average pooling)::

    x (N, 1, 28, 28)
    conv1  1 -> 6, 5x5, padding 2  -> (N, 6, 28, 28)   -> act -> pool 2x2 -> (N, 6, 14, 14)
    conv2  6 -> 16, 5x5            -> (N, 16, 10, 10)  -> act -> pool 2x2 -> (N, 16, 5, 5)
    flatten                        -> (N, 400)
    fc1    400 -> 120 -> act
    fc2    120 -> 84  -> act
    fc3    84  -> 10               -> logits (N, 10)

61,706 parameters. Two variants:

- ``"relu-max"``: ReLU and max pooling, the modern choice and the lecture's code;
- ``"sigmoid-avg"``: sigmoid and average pooling, the 1998 original as d2l builds it.

Parameter names are torch's for a module with attributes ``conv1, conv2, fc1, fc2, fc3``
(the lecture's ``LeNet5``), so ``state_dict()`` loads straight into such a torch module::

    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    model.load_state_dict(torch_model.state_dict())  # CPU tensors convert with np.asarray

Why a ``layers=`` mapping: the course lets students train this LeNet with *their own*
layer functions. Any of the names in ``LAYER_NAMES`` can be swapped for a function with
the reference signature; the rest stay the reference ones. The activation and pooling
entries are generic (``act_forward``, ``pool_forward``) because which function they
stand for depends on the variant. LeNet calls them exactly so::

    conv2d_forward(x, w, b, padding=p)       -> (out, cache)
    conv2d_backward(dout, cache)             -> (dx, dw, db)
    conv2d_backward(dout, cache, need_dx=False)  (conv1 only, if the function takes it)
    pool_forward(x, kernel_size=2, stride=2) -> (out, cache)
    pool_backward(dout, cache)               -> dx
    act_forward(x)                           -> (out, cache)
    act_backward(dout, cache)                -> dx
    linear_forward(x, w, b)                  -> (out, cache)
    linear_backward(dout, cache)             -> (dx, dw, db)
    flatten_forward(x)                       -> (out, cache)
    flatten_backward(dout, cache)            -> dx

e.g. ``LeNet("relu-max", layers={"conv2d_forward": my_conv_forward,
"conv2d_backward": my_conv_backward})`` trains with a student's convolution and the
reference everything else.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from solutions.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
)
from solutions.conv import conv2d_backward, conv2d_forward
from solutions.linear import flatten_backward, flatten_forward, linear_backward, linear_forward
from solutions.losses import softmax_cross_entropy
from solutions.pooling import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

VARIANTS = ("relu-max", "sigmoid-avg")

LAYER_NAMES = (
    "conv2d_forward",
    "conv2d_backward",
    "pool_forward",
    "pool_backward",
    "act_forward",
    "act_backward",
    "linear_forward",
    "linear_backward",
    "flatten_forward",
    "flatten_backward",
)

# name -> shape, in torch's registration order (conv1, conv2, fc1, fc2, fc3).
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
LAYERS = ("conv1", "conv2", "fc1", "fc2", "fc3")
INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


def reference_layers(variant: str = "relu-max") -> dict[str, Callable[..., Any]]:
    """The reference layer functions LeNet uses for `variant`, keyed by `LAYER_NAMES`."""
    _check_variant(variant)
    relu = variant == "relu-max"
    return {
        "conv2d_forward": conv2d_forward,
        "conv2d_backward": conv2d_backward,
        "pool_forward": maxpool2d_forward if relu else avgpool2d_forward,
        "pool_backward": maxpool2d_backward if relu else avgpool2d_backward,
        "act_forward": relu_forward if relu else sigmoid_forward,
        "act_backward": relu_backward if relu else sigmoid_backward,
        "linear_forward": linear_forward,
        "linear_backward": linear_backward,
        "flatten_forward": flatten_forward,
        "flatten_backward": flatten_backward,
    }


def _takes_need_dx(fn: Callable[..., Any]) -> bool:
    """Whether a conv2d_backward accepts the keyword `need_dx` (students' need not)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins and C functions may have no signature
        return False
    return "need_dx" in parameters


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}")


class LeNet:
    """LeNet-5 (lecture 002) with forward, backward and torch-compatible parameters.

    Args:
        variant: ``"relu-max"`` (ReLU + max pooling) or ``"sigmoid-avg"`` (sigmoid +
            average pooling).
        seed: seed of the numpy Generator that draws the initial parameters.
        dtype: float dtype of the parameters; inputs are cast to it.
        layers: optional mapping from some of `LAYER_NAMES` to replacement functions with
            the reference signatures; names left out use the reference layers.

    Attributes:
        params: dict name -> array, names and shapes as in `PARAM_SHAPES`. Optimisers
            update these arrays in place, so keep the dict and its arrays (use
            `load_state_dict` to overwrite values).
        layers: the layer functions in use, keyed by `LAYER_NAMES`.

    Initialisation is torch's default for ``nn.Conv2d``/``nn.Linear``: weights and biases
    ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming-uniform with a=sqrt(5)), with
    fan_in = C_in*KH*KW for a convolution and in_features for a linear layer. The values
    are drawn in float64 and then cast, so float32 and float64 models of one seed agree
    up to rounding.
    """

    def __init__(
        self,
        variant: str = "relu-max",
        *,
        seed: int = 0,
        dtype: Any = np.float32,
        layers: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        _check_variant(variant)
        self.variant = variant
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64; got {self.dtype}")
        self.layers = reference_layers(variant)
        if layers is not None:
            unknown = sorted(set(layers) - set(LAYER_NAMES))
            if unknown:
                raise ValueError(f"unknown layer names {unknown}; allowed: {list(LAYER_NAMES)}")
            self.layers.update(layers)
        self.params = _init_params(np.random.default_rng(seed), self.dtype)
        self._cache: dict[str, Any] | None = None
        self._batch = 0

    # ------------------------------------------------------------------ forward/backward
    def forward(self, x: Any) -> np.ndarray:
        """Logits for a batch of images, keeping what `backward` needs.

        Args:
            x: images, shape (N, 1, 28, 28); cast to the model's dtype.
        Returns:
            logits, shape (N, 10).
        """
        x = self._check_input(x)
        L, p, cache = self.layers, self.params, {}
        h, cache["conv1"] = L["conv2d_forward"](x, p["conv1.weight"], p["conv1.bias"], padding=2)
        h, cache["act1"] = L["act_forward"](h)  # (N, 6, 28, 28)
        h, cache["pool1"] = L["pool_forward"](h, kernel_size=2, stride=2)  # (N, 6, 14, 14)
        h, cache["conv2"] = L["conv2d_forward"](h, p["conv2.weight"], p["conv2.bias"], padding=0)
        h, cache["act2"] = L["act_forward"](h)  # (N, 16, 10, 10)
        h, cache["pool2"] = L["pool_forward"](h, kernel_size=2, stride=2)  # (N, 16, 5, 5)
        h, cache["flatten"] = L["flatten_forward"](h)  # (N, 400)
        h, cache["fc1"] = L["linear_forward"](h, p["fc1.weight"], p["fc1.bias"])
        h, cache["act3"] = L["act_forward"](h)  # (N, 120)
        h, cache["fc2"] = L["linear_forward"](h, p["fc2.weight"], p["fc2.bias"])
        h, cache["act4"] = L["act_forward"](h)  # (N, 84)
        logits, cache["fc3"] = L["linear_forward"](h, p["fc3.weight"], p["fc3.bias"])
        self._cache = cache
        self._batch = x.shape[0]
        return logits

    def backward(self, dlogits: Any) -> dict[str, np.ndarray]:
        """Gradients of the loss w.r.t. every parameter, from the last `forward`.

        Args:
            dlogits: gradient of the loss w.r.t. the logits, shape (N, 10).
        Returns:
            grads: dict with the keys and shapes of `params`.
        """
        if self._cache is None:
            raise RuntimeError("call forward(x) before backward(dlogits)")
        dlogits = np.asarray(dlogits)
        if dlogits.shape != (self._batch, NUM_CLASSES):
            raise ValueError(
                f"dlogits must have the shape of the last logits, ({self._batch}, "
                f"{NUM_CLASSES}); got {dlogits.shape}"
            )
        L, c, g = self.layers, self._cache, {}
        dh, g["fc3.weight"], g["fc3.bias"] = L["linear_backward"](dlogits, c["fc3"])
        dh = L["act_backward"](dh, c["act4"])
        dh, g["fc2.weight"], g["fc2.bias"] = L["linear_backward"](dh, c["fc2"])
        dh = L["act_backward"](dh, c["act3"])
        dh, g["fc1.weight"], g["fc1.bias"] = L["linear_backward"](dh, c["fc1"])
        dh = L["flatten_backward"](dh, c["flatten"])  # (N, 16, 5, 5)
        dh = L["pool_backward"](dh, c["pool2"])
        dh = L["act_backward"](dh, c["act2"])
        dh, g["conv2.weight"], g["conv2.bias"] = L["conv2d_backward"](dh, c["conv2"])
        dh = L["pool_backward"](dh, c["pool1"])
        dh = L["act_backward"](dh, c["act1"])
        # conv1's dx would be the gradient w.r.t. the images, which nobody needs: skipped
        # (about 8 % of a step) when the function takes need_dx, as the reference does.
        conv1_backward = L["conv2d_backward"]
        skip = {"need_dx": False} if _takes_need_dx(conv1_backward) else {}
        _, g["conv1.weight"], g["conv1.bias"] = conv1_backward(dh, c["conv1"], **skip)
        return {name: g[name] for name in PARAM_SHAPES}

    def loss(self, x: Any, y: Any) -> tuple[float, dict[str, np.ndarray]]:
        """Mean softmax cross-entropy on (x, y) and its gradients w.r.t. every parameter."""
        logits = self.forward(x)
        loss, dlogits = softmax_cross_entropy(logits, y)
        return loss, self.backward(dlogits)

    def predict(self, x: Any, *, batch_size: int = 512) -> np.ndarray:
        """Predicted class (argmax of the logits) for each image, shape (N,), in batches."""
        x = self._check_input(x)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        labels = [
            self.forward(x[i : i + batch_size]).argmax(axis=1)
            for i in range(0, x.shape[0], batch_size)
        ]
        self._cache = None  # inference: don't hold on to the last batch's activations
        return np.concatenate(labels) if labels else np.zeros(0, dtype=np.intp)

    # ------------------------------------------------------------------ parameters
    def count_params(self) -> int:
        """Number of trainable parameters (61,706)."""
        return sum(p.size for p in self.params.values())

    def param_table(self) -> list[tuple[str, tuple[int, ...], int]]:
        """One row per layer: (layer, weight shape, weights + biases).

        ``[("conv1", (6, 1, 5, 5), 156), ("conv2", (16, 6, 5, 5), 2416),
        ("fc1", (120, 400), 48120), ("fc2", (84, 120), 10164), ("fc3", (10, 84), 850)]``
        """
        return [
            (
                layer,
                self.params[f"{layer}.weight"].shape,
                self.params[f"{layer}.weight"].size + self.params[f"{layer}.bias"].size,
            )
            for layer in LAYERS
        ]

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of the parameters, keyed like torch's `state_dict()` of the same model."""
        return {name: p.copy() for name, p in self.params.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Overwrite the parameters in place with `state` (numpy arrays or CPU tensors).

        Every name of `PARAM_SHAPES` must be present with its exact shape, and no other
        name: a mismatch raises `ValueError` before anything is changed.
        """
        missing = [name for name in PARAM_SHAPES if name not in state]
        unexpected = [name for name in state if name not in PARAM_SHAPES]
        if missing or unexpected:
            raise ValueError(
                f"state dict does not match LeNet: missing keys {missing}, "
                f"unexpected keys {unexpected}; expected {list(PARAM_SHAPES)}"
            )
        arrays = {}
        for name, shape in PARAM_SHAPES.items():
            value = np.asarray(state[name])
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {shape}; got {value.shape}")
            arrays[name] = value
        for name, value in arrays.items():
            self.params[name][...] = value  # in place: optimisers keep their references

    # ------------------------------------------------------------------ helpers
    def _check_input(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 4 or x.shape[1:] != INPUT_SHAPE:
            hint = " (flat MNIST rows: x.reshape(-1, 1, 28, 28))" if x.ndim == 2 else ""
            raise ValueError(f"LeNet expects images of shape (N, 1, 28, 28); got {x.shape}{hint}")
        return x.astype(self.dtype, copy=False)

    def __repr__(self) -> str:
        return (
            f"LeNet(variant={self.variant!r}, dtype={self.dtype.name}, "
            f"params={self.count_params():,})"
        )


def _init_params(rng: np.random.Generator, dtype: np.dtype) -> dict[str, np.ndarray]:
    """torch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases."""
    params = {}
    for layer in LAYERS:
        w_shape = PARAM_SHAPES[f"{layer}.weight"]
        fan_in = int(np.prod(w_shape[1:]))  # C_in*KH*KW, or in_features
        bound = 1.0 / np.sqrt(fan_in)
        for kind in ("weight", "bias"):
            shape = PARAM_SHAPES[f"{layer}.{kind}"]
            params[f"{layer}.{kind}"] = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return params
