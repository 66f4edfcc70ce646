"""Visible checks for assignment 06, LeNet on MNIST (lectures 001, 002 and 003).

    from course.checks import lenet as checks
    from course.torch_layers import LAYERS
    checks.check_lenet_forward(lenet_forward)

Every LeNet function of the assignment takes a ``layers`` argument (a
`course.torch_layers.Layers`). The checks here pass the torch-backed layers
(`course.torch_layers.LAYERS`), so a mistake in a layer written for assignment 5 never
makes a LeNet check fail: each check grades the LeNet logic on its own. The hidden tests
do the same with the reference layers.

The oracle is PyTorch in float64: lecture 002's ``LeNet5`` module (`TorchLeNet5`) with the
same parameters, autograd for the gradients, ``torch.optim.SGD`` for the updates and
``F.cross_entropy`` for the loss. Each catalogued mistake is recognised by the values it
produces, computed here with a variant of that torch model (a ReLU left out, the feature
maps flattened in NHWC order, another optimiser setting, ...). When a function raises, the
checks look at the sequence of layer calls it made and name the first one that differs
from LeNet's. Quiz answers are checked against digests, never stored.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course.checks import _oracle
from course.checks._core import (
    TRACEBACK_HINT,
    Case,
    CheckFailed,
    Mistake,
    Part,
    _compare,
    answer_digest,
    check,
    check_quiz,
    entries_replaced,
    fmt,
    names_in,
    not_implemented,
    numbers,
    passed,
    raised,
)
from course.checks._mutate import Knob, recipe_variants
from course.checks._oracle import LAYERS_WITH_PARAMS, PARAM_NAMES, PARAM_SHAPES, _torch
from course.checks.diagnostics import check_my_layers, choose_layers
from course.torch_layers import LAYER_NAMES, LAYERS, Layers, single_threaded

__all__ = [
    "CACHE_KEYS",
    "PARAM_SHAPES",
    "check_alexnet_quiz",
    "check_evaluate",
    "check_init_lenet",
    "check_lenet_backward",
    "check_lenet_forward",
    "check_my_layers",
    "check_params_quiz",
    "check_receptive_field_quiz",
    "check_sgd_step",
    "check_softmax_cross_entropy",
    "check_train_epoch",
    "check_training",
    "choose_layers",
    "quick_mode",
    "quiz_passed",
    "require_training",
]

#: The keys of the `caches` dict that lenet_forward returns, one per layer call, in order.
CACHE_KEYS = (
    "conv1",
    "relu1",
    "pool1",
    "conv2",
    "relu2",
    "pool2",
    "flatten",
    "fc1",
    "relu3",
    "fc2",
    "relu4",
    "fc3",
)

#: Held-out accuracy the training must reach (full run, quick run).
ACCURACY_FULL = 0.90
ACCURACY_QUICK = 0.60

# Digests of the quiz answers (course.checks.answer_digest); the answers are not stored.
PARAMS_DIGESTS = {
    "conv1": "0fecf9247f3ddc84",
    "conv2": "0edcd7f37d75330b",
    "fc1": "ef18688ae6789b7d",
    "fc2": "00ad7e2e78ec717c",
    "fc3": "7ffc2066e20c16e9",
    "total": "ec92afbba21c4b7d",
}
RF_DIGESTS = {
    "conv1": "ef2d127de37b942b",
    "pool1": "e7f6c011776e8db7",
    "conv2": "8527a891e2241369",
    "pool2": "b17ef6d19c7a5b1e",
}
ALEXNET_DIGEST = "6255d984598d3a0b"

POINTER_INIT = (
    "Revisit the docstring's recipe (torch's default for nn.Conv2d and nn.Linear): for each "
    "layer in the order conv1, conv2, fc1, fc2, fc3, draw the weight and then the bias from "
    "U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with one Generator, fan_in = C_in*KH*KW or "
    "in_features."
)
POINTER_FORWARD = (
    "Revisit lecture 002's forward pass: conv1 (padding 2) → ReLU → max pool 2×2 → conv2 → "
    "ReLU → max pool 2×2 → flatten → fc1 → ReLU → fc2 → ReLU → fc3, and the logits are "
    "returned without a softmax."
)
POINTER_BACKWARD = (
    "Backpropagation visits the layers in reverse order, fc3 first and conv1 last; each "
    "layer's backward takes the gradient of its output and the cache of its own forward call "
    "(lecture 002: 'apply softmax at the end, use backprop')."
)
POINTER_LOSS = (
    "loss = -(1/N) sum_n log softmax(z_n)[y_n] and dlogits = (softmax(z) - onehot(y)) / N, "
    "with the softmax taken over the classes (axis 1) after subtracting each row's max."
)
POINTER_SGD = (
    "torch's SGD: d = g + weight_decay * p;  v = momentum * v + d;  p -= lr * v, for every "
    "parameter (weights and biases), updating params and velocity in place."
)
POINTER_TRAIN = (
    "One epoch: order = rng.permutation(N), then batches order[i : i + batch_size] of X and "
    "y together; for each: forward, loss, backward, step; the epoch loss is the mean over "
    "all N examples and the accuracy the fraction of correct predictions."
)


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LeNetCase(Case):
    """A Case whose call is shown as written in the notebook (the arguments are dicts of
    arrays, too long to print)."""

    shown: str = ""

    def call_text(self, name: str) -> str:
        return self.shown or super().call_text(name)


def quick_mode() -> bool:
    """True when $CNN_COURSE_QUICK is "1": the autograder's shorter training run."""
    return os.environ.get("CNN_COURSE_QUICK", "").strip() == "1"


def _default_init(seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """torch's default init (U(±1/sqrt(fan_in))) drawn in the documented order, float64."""
    return {k: scale * v for k, v in _init_variant(seed).items()}


def _tensors(params: Mapping[str, Any]) -> dict[str, Any]:
    torch = _torch()
    return {
        k: torch.tensor(np.asarray(params[k], dtype=np.float64), requires_grad=True)
        for k in PARAM_NAMES
    }


def _torch_lenet(params: Mapping[str, Any], x: Any, **settings: Any):
    """Lecture 002's LeNet in torch float64 (`_oracle.lenet_logits`; `settings` reproduce
    known mistakes). Returns (logits attached to the graph, name -> parameter leaf)."""
    P = _tensors(params)
    return _oracle.lenet_logits(P, _oracle.t64(x), **settings), P


def _logits(params, x, **variant) -> np.ndarray:
    logits, _ = _torch_lenet(params, x, **variant)
    return logits.detach().numpy()


def _grads(params, x, dlogits, **variant) -> tuple[np.ndarray, ...]:
    torch = _torch()
    logits, P = _torch_lenet(params, x, **variant)
    got = torch.autograd.grad(logits, [P[k] for k in PARAM_NAMES], _oracle.t64(dlogits))
    return tuple(g.numpy() for g in got)


def _passed(name: str, cases: Sequence[Case], extra: str = "") -> None:
    """One success line; cases that check parts of one call ("<input>: <part>") are grouped."""
    groups = list(dict.fromkeys(c.label.split(": ")[0] for c in cases))
    passed(name, groups, len(cases), sep="; ", extra=extra)


def _shape(a: Any) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(a))
    except Exception:
        return None


# ---------------------------------------------------------------------------------------
# Recording the layer calls a LeNet function makes
# ---------------------------------------------------------------------------------------


@dataclass
class _Call:
    name: str
    shape: tuple[int, ...] | None  # shape of the first array argument (x or dout)
    kwargs: dict[str, Any]
    param: str | None = None  # which parameter was passed as w ("fc1.weight", "fc1.weight.T")
    cache_of: int | None = None  # backward: index of the forward call whose cache it got
    cache: Any = None  # forward: the cache it returned (kept alive so ids stay unique)
    pair: str | None = None  # the first argument was a tuple or list: "a tuple of 2"


class _Recorder:
    """Wraps a Layers and records every call, so a failure can be traced to its layer."""

    def __init__(self, base: Layers = LAYERS) -> None:
        self.base = base
        self.params: Mapping[str, Any] = {}
        self.forward: list[_Call] = []
        self.backward: list[_Call] = []
        self.loss_calls = 0
        wrapped = {name: self._wrap(name, getattr(base, name)) for name in LAYER_NAMES}
        self.layers = Layers(**wrapped, origin=dict(base.origin))

    def start(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.forward, self.backward, self.loss_calls = [], [], 0

    def _which_param(self, w: Any) -> str | None:
        w = np.asarray(w)
        for name in PARAM_NAMES:
            p = self.params.get(name) if isinstance(self.params, Mapping) else None
            if p is None or not name.endswith("weight"):
                continue
            p = np.asarray(p)
            if w.shape == p.shape and np.array_equal(w, p):
                return name
            if w.ndim == 2 and w.shape == p.shape[::-1] and np.array_equal(w.T, p):
                return name + ".T"
        return None

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if name == "softmax_cross_entropy":

            def loss(*args, **kwargs):
                self.loss_calls += 1
                return fn(*args, **kwargs)

            return loss
        if name.endswith("_forward"):

            def forward(*args, **kwargs):
                call = _Call(name, _shape(args[0]) if args else None, dict(kwargs))
                if args and isinstance(args[0], (tuple, list)):
                    call.pair = f"a {type(args[0]).__name__} of {len(args[0])}"
                if len(args) >= 2 and name in ("conv2d_forward", "linear_forward"):
                    call.param = self._which_param(args[1])
                self.forward.append(call)
                out, cache = fn(*args, **kwargs)
                call.cache = cache
                return out, cache

            return forward

        def backward(dout, cache, *args, **kwargs):
            owner = next((i for i, c in enumerate(self.forward) if c.cache is cache), None)
            self.backward.append(_Call(name, _shape(dout), {}, cache_of=owner))
            return fn(dout, cache, *args, **kwargs)

        return backward


# What lenet_forward must call, in order: (function, layer, input shape without N).
_FORWARD_PLAN: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("conv2d_forward", "conv1", (1, 28, 28)),
    ("relu_forward", "conv1", (6, 28, 28)),
    ("maxpool2d_forward", "conv1", (6, 28, 28)),
    ("conv2d_forward", "conv2", (6, 14, 14)),
    ("relu_forward", "conv2", (16, 10, 10)),
    ("maxpool2d_forward", "conv2", (16, 10, 10)),
    ("flatten_forward", "pool2", (16, 5, 5)),
    ("linear_forward", "fc1", (400,)),
    ("relu_forward", "fc1", (120,)),
    ("linear_forward", "fc2", (120,)),
    ("relu_forward", "fc2", (84,)),
    ("linear_forward", "fc3", (84,)),
)
_BACKWARD_OF = {
    "conv2d_forward": "conv2d_backward",
    "relu_forward": "relu_backward",
    "maxpool2d_forward": "maxpool2d_backward",
    "flatten_forward": "flatten_backward",
    "linear_forward": "linear_backward",
}


def _plan_text(k: int, N: int) -> str:
    fn, layer, shape = _FORWARD_PLAN[k]
    x = f"a {(N, *shape)} input"
    if fn == "conv2d_forward":
        pad = 2 if layer == "conv1" else 0
        return f"layers.conv2d_forward on {x} with {layer}.weight and padding={pad}"
    if fn == "linear_forward":
        return f"layers.linear_forward on {x} with {layer}.weight"
    if fn == "maxpool2d_forward":
        return f"layers.maxpool2d_forward on {x} with kernel_size=2, stride=2"
    if fn == "relu_forward":
        return f"layers.relu_forward on {x} (the ReLU after {layer})"
    return f"layers.flatten_forward on {x}"


def _call_text(call: _Call) -> str:
    parts = [f"layers.{call.name} on a {call.shape} input"]
    if call.param:
        parts.append(f"with {call.param}")
    if call.kwargs:
        parts.append("and " + ", ".join(f"{k}={v!r}" for k, v in call.kwargs.items()))
    return " ".join(parts)


@dataclass
class _Deviation:
    key: str
    text: str


def _forward_deviation(calls: Sequence[_Call], N: int) -> _Deviation | None:
    """The first layer call that differs from LeNet's plan, described in one sentence."""
    for k, (fn, layer, shape) in enumerate(_FORWARD_PLAN):
        where = f"Layer call {k + 1} should be {_plan_text(k, N)}"
        if k >= len(calls):
            if not calls:
                return None
            return _Deviation(
                "stopped_early",
                f"{where}, but your lenet_forward made only {len(calls)} layer calls "
                "before it stopped (or returned).",
            )
        call = calls[k]
        if call.pair is not None and call.name == fn:
            return _Deviation(
                "pair_not_unpacked",
                f"{where}; your lenet_forward passed it {call.pair} instead of an array "
                "(the (out, cache) pair that the layer before returned?). Every forward "
                "layer returns that pair: unpack it, `x, cache = layers.relu_forward(x)`, "
                "and pass on x.",
            )
        got = f"; your lenet_forward called {_call_text(call)}"
        if call.name != fn:
            if fn == "relu_forward":
                return _Deviation(
                    "relu_missing",
                    f"{where}{got}. The ReLU after {layer} is missing (lecture 002: "
                    f"relu({layer}(x)) before the next layer).",
                )
            if fn == "maxpool2d_forward":
                return _Deviation(
                    "pool_missing",
                    f"{where}{got}. The 2×2 max pooling after {layer}'s ReLU is missing: "
                    "without it the maps stay twice as large and fc1 no longer gets 400 "
                    "features.",
                )
            if fn == "flatten_forward":
                return _Deviation(
                    "flatten_missing",
                    f"{where}{got}. Flatten the (N, 16, 5, 5) maps into (N, 400) vectors "
                    "before fc1 (lecture 002: x.view(-1, 16*5*5)).",
                )
            return _Deviation("wrong_layer_order", f"{where}{got}.")
        if call.shape is not None and call.shape[1:] != shape:
            return _Deviation(
                "wrong_input_shape",
                f"{where}{got}: the input should have shape {(N, *shape)}.",
            )
        if fn == "conv2d_forward":
            want = 2 if layer == "conv1" else 0
            pad = call.kwargs.get("padding", 0)
            if np.ndim(pad) != 0 or int(pad) != want or call.kwargs.get("stride", 1) != 1:
                return _Deviation(
                    "conv_padding",
                    f"{where}{got}. {layer} uses stride 1 and padding={want} (lecture 002: "
                    + (
                        "padding 2 keeps the 28×28 digit at 28×28, as LeNet-5's 32×32 input did)."
                        if want
                        else "conv2 has no padding: 14×14 becomes 10×10)."
                    ),
                )
        if fn == "maxpool2d_forward":
            ks = call.kwargs.get("kernel_size")
            st = call.kwargs.get("stride", ks)
            if ks != 2 or st not in (2, None):
                return _Deviation(
                    "pool_size",
                    f"{where}{got}. LeNet pools 2×2 windows with stride 2, halving each map.",
                )
        if fn in ("conv2d_forward", "linear_forward"):
            expected = f"{layer}.weight"
            if call.param == expected + ".T":
                return _Deviation(
                    "weight_transposed",
                    f"{where}{got}. Pass the weight as stored, (out_features, in_features): "
                    "linear_forward computes x @ w.T itself.",
                )
            if call.param is not None and call.param != expected:
                return _Deviation(
                    "wrong_parameter",
                    f"{where}{got}: that is another layer's weight; use params['{expected}'] "
                    f"and params['{layer}.bias'].",
                )
    return None


def _backward_deviation(forward: Sequence[_Call], backward: Sequence[_Call]) -> _Deviation | None:
    """The first backward call that differs from the reverse of the forward plan."""
    n = len(_FORWARD_PLAN)
    for k in range(n):
        target = n - 1 - k
        fn, layer, _ = _FORWARD_PLAN[target]
        want = _BACKWARD_OF[fn]
        key = CACHE_KEYS[target]
        where = f"Backward call {k + 1} should be layers.{want}(d, caches['{key}'])"
        if k >= len(backward):
            if not backward:
                return None
            return _Deviation(
                "stopped_early",
                f"{where}, but your lenet_backward made only {len(backward)} backward calls.",
            )
        call = backward[k]
        owner = call.cache_of
        cache_text = (
            f"caches['{CACHE_KEYS[owner]}']"
            if owner is not None and owner < len(CACHE_KEYS)
            else "a cache that lenet_forward did not return"
        )
        got = f"; your lenet_backward called layers.{call.name} with {cache_text}"
        if call.name != want:
            if want == "relu_backward":
                return _Deviation(
                    "relu_backward_missing",
                    f"{where}{got}. The ReLU after {layer} needs its backward too: it zeroes "
                    "the gradient where the forward input was negative.",
                )
            if want == "maxpool2d_backward":
                return _Deviation(
                    "pool_backward_missing",
                    f"{where}{got}. The max pooling after {layer} needs its backward: it "
                    "sends each gradient to the input that won its window.",
                )
            if want == "flatten_backward":
                return _Deviation(
                    "flatten_backward_missing",
                    f"{where}{got}. Reshape the (N, 400) gradient back to (N, 16, 5, 5) "
                    "with layers.flatten_backward before pool2's backward.",
                )
            return _Deviation("wrong_backward_order", f"{where}{got}. {POINTER_BACKWARD}")
        if owner != target:
            return _Deviation(
                "wrong_cache",
                f"{where}{got}. Each backward needs the cache of its own forward call.",
            )
    return None


def _first_run(name: str, case: str, run: Callable[[], Any], deviation, extra=lambda: "") -> Any:
    """run(), the student's first call with the recorder; an error is named by the first
    layer call that differs from LeNet's (`deviation()`), when there is one, else by
    the traceback and `extra()`."""
    __tracebackhide__ = True
    try:
        return run()
    except NotImplementedError as exc:
        raise not_implemented(name, exc, case) from None
    except Exception as exc:
        dev = deviation()
        if dev is not None:
            raise CheckFailed(
                f"{name} raised {type(exc).__name__}: {exc} (on {case}).\n{dev.text}",
                mistake=dev.key,
                case=case,
            ) from exc
        raise raised(name, exc, case, TRACEBACK_HINT + extra()) from exc


def _check_traced(run, name, cases, mistakes, pointer, deviation) -> None:
    """The engine's check of `run`; a wrong answer that matches no catalogued mistake is
    explained by the first layer call that differs from LeNet's (`deviation(case label)`)."""
    __tracebackhide__ = True
    try:
        check(run, name=name, cases=cases, mistakes=mistakes, pointer=pointer, quiet=True)
    except CheckFailed as err:
        if err.mistake is None and (dev := deviation(err.case)) is not None:
            raise CheckFailed(f"{err}\n{dev.text}", mistake=dev.key, case=err.case) from None
        raise


# ---------------------------------------------------------------------------------------
# Demo cells that show a quiz's numbers only once the quiz is answered
# ---------------------------------------------------------------------------------------


def quiz_passed(quiz_check: Callable[..., None], *answers: Any) -> bool:
    """True when ``quiz_check(*answers)`` passes, without printing anything.

    A cell that computes a quiz's answer (the parameter count after init_lenet, the
    receptive fields measured with autograd, AlexNet's total) calls it first and shows
    its numbers only when the student's own answer already passes, so that running the
    notebook ahead never answers the quiz. A missing answer (``None``) does not pass.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            quiz_check(*answers)
    except Exception:  # CheckFailed, or an answer the check cannot read
        return False
    return True


# ---------------------------------------------------------------------------------------
# Exercise 6.1: quiz, parameters per layer
# ---------------------------------------------------------------------------------------


def _params_part(part: str, digest: str, hint: str) -> Part:
    says = f"your {part} count, {{}}, is not right."
    if part == "total":
        return Part(digest, hint, says=says, show=fmt)
    weights = math.prod(PARAM_SHAPES[f"{part}.weight"])  # the count without the biases
    biases_left_out = ("wrong_answer", f"{says} {hint} (Did you leave out the biases?)")
    return Part(digest, hint, says=says, show=fmt, wrong={answer_digest(weights): biases_left_out})


PARAMS_HINTS = {
    "conv1": "conv1 has 6 filters of 1×5×5 weights, plus one bias per filter.",
    "conv2": "conv2 has 16 filters, each 6×5×5 (one 5×5 kernel per input channel), "
    "plus one bias per filter.",
    "fc1": "fc1 connects each of the 16·5·5 = 400 inputs to each of its 120 outputs, "
    "plus 120 biases.",
    "fc2": "fc2 maps 120 inputs to 84 outputs: a weight per pair, plus 84 biases.",
    "fc3": "fc3 maps 84 inputs to 10 outputs: a weight per pair, plus 10 biases.",
    "total": "The total is the sum of the five layers (pooling and ReLU have no parameters).",
}
PARAMS_PARTS = tuple(_params_part(k, d, PARAMS_HINTS[k]) for k, d in PARAMS_DIGESTS.items())


def check_params_quiz(answer: Any) -> None:
    """Quiz: LeNet's parameters per layer and in total (weights + biases).

    `answer` is (conv1, conv2, fc1, fc2, fc3, total); each part is checked on its own so
    that the message says which one is wrong.
    """
    __tracebackhide__ = True
    question = "The parameter quiz (conv1, conv2, fc1, fc2, fc3, total)"
    check_quiz(answer, question, PARAMS_PARTS, numbers(question, "six numbers", 6))


# ---------------------------------------------------------------------------------------
# Exercise 6.2: init_lenet
# ---------------------------------------------------------------------------------------


def _init_variant(
    seed: int,
    *,
    bound="fan_in",
    draw="uniform",
    order="interleaved",
    bias="same",
    rng="one",
):
    """The parameters that init_lenet(seed) gives under a recipe: the right one by
    default, or one with settings changed (`INIT_KNOBS`)."""
    gen = np.random.default_rng(seed)
    bounds, torch_bounds = {}, {}
    for layer in LAYERS_WITH_PARAMS:
        w = PARAM_SHAPES[f"{layer}.weight"]
        fan_in, fan_out = math.prod(w[1:]), w[0] * math.prod(w[2:])
        torch_bounds[layer] = 1 / math.sqrt(fan_in)
        bounds[layer] = {
            "fan_in": 1 / math.sqrt(fan_in),
            "fan_out": 1 / math.sqrt(fan_out),
            "no_sqrt": 1 / fan_in,
            "channels": 1 / math.sqrt(w[1]),
            "outputs": 1 / math.sqrt(w[0]),
            "he": math.sqrt(6 / fan_in),
            "glorot": math.sqrt(6 / (fan_in + fan_out)),
        }[bound]

    def sample(layer, kind):
        shape = PARAM_SHAPES[f"{layer}.{kind}"]
        b = bounds[layer]
        if kind == "bias" and bias == "zero":
            return np.zeros(shape)
        if kind == "bias" and bias == "torch":
            b = torch_bounds[layer]
        if draw == "normal":
            return gen.normal(0.0, b, size=shape)
        return gen.uniform(-b, b, size=shape)

    params = {}
    if order == "weights_first":
        for kind in ("weight", "bias"):
            for layer in LAYERS_WITH_PARAMS:
                params[f"{layer}.{kind}"] = sample(layer, kind)
        return params
    for layer in LAYERS_WITH_PARAMS:
        if rng == "per_layer":
            gen = np.random.default_rng(seed)
        kinds = ("bias", "weight") if order == "bias_first" else ("weight", "bias")
        for kind in kinds:
            params[f"{layer}.{kind}"] = sample(layer, kind)
    return {k: params[k] for k in PARAM_NAMES}


@functools.lru_cache(maxsize=256)
def _init_recipe(seed: int, settings: tuple) -> dict[str, np.ndarray]:
    return _init_variant(seed, **dict(settings))


#: The settings of torch's default recipe, each with the neighbouring wrong values a
#: student picks; every recipe with one or two of them changed is tried when no catalogue
#: entry explains the arrays (course.checks._mutate.recipe_variants).
INIT_KNOBS = (
    Knob("bound", "fan_in", {
        "fan_out": ("the bound uses the number of outputs (fan_out) instead of the inputs",
                    "fan_in = C_in*KH*KW for a convolution, in_features for a linear layer."),
        "channels": ("the bound uses C_in (w.shape[1]) alone: the kernel's KH*KW is missing "
                     "from fan_in", "fan_in = C_in*KH*KW: one output unit sums over all of it."),
        "outputs": ("the bound uses the number of output channels or units (w.shape[0])",
                    "fan_in counts what ONE output sums over: w.shape[1:] multiplied out."),
        "no_sqrt": ("the bound is 1/fan_in instead of 1/sqrt(fan_in)",
                    "torch's default bound is 1/sqrt(fan_in)."),
        "he": ("the bound is sqrt(6/fan_in) (He/Kaiming uniform for ReLU), not torch's "
               "default 1/sqrt(fan_in)", "Use bound = 1/sqrt(fan_in), as the docstring says."),
        "glorot": ("the bound is sqrt(6/(fan_in + fan_out)) (Glorot/Xavier), not torch's "
                   "default 1/sqrt(fan_in)", "Use bound = 1/sqrt(fan_in), as the docstring says."),
    }),
    Knob("draw", "uniform", {
        "normal": ("the numbers come from rng.normal instead of rng.uniform",
                   "Draw with rng.uniform(-bound, bound, size=shape)."),
    }),
    Knob("order", "interleaved", {
        "weights_first": ("all the weights were drawn first and the biases after them",
                          "Draw layer by layer: conv1.weight, conv1.bias, conv2.weight, ..."),
        "bias_first": ("each layer's bias was drawn before its weight",
                       "Draw each layer's weight first, then its bias (the same Generator "
                       "gives other numbers in another order)."),
    }),
    Knob("bias", "same", {
        "zero": ("the biases are zeros", "Draw the biases from U(-bound, bound) too."),
        "torch": ("the biases keep torch's bound 1/sqrt(fan_in)",
                  "Weights and biases share one bound: 1/sqrt(fan_in)."),
    }),
    Knob("rng", "one", {
        "per_layer": ("a new generator with the same seed was made for every layer, so each "
                      "layer starts the same random stream",
                      "Make ONE rng = np.random.default_rng(seed) before the loop over layers."),
    }),
)  # fmt: skip
INIT_RECIPES = recipe_variants(
    INIT_KNOBS,
    lambda case, **settings: _init_recipe(case.args[0], tuple(sorted(settings.items())))[
        case.args[1]
    ],
    prefix="init",
)


def _init_mistake(key, says, hint, **variant) -> Mistake:
    return Mistake(
        key, says, hint, lambda case: _init_variant(case.args[0], **variant)[case.args[1]]
    )


INIT_MISTAKES = (
    _init_mistake(
        "fan_out",
        "the bound uses the number of outputs (fan_out) instead of the number of inputs",
        "fan_in counts what ONE output unit sums over: C_in*KH*KW for a convolution, "
        "in_features for a linear layer.",
        bound="fan_out",
    ),
    _init_mistake(
        "no_sqrt",
        "the bound is 1/fan_in instead of 1/sqrt(fan_in)",
        "torch's default bound is 1/sqrt(fan_in): it keeps the variance of a unit's weighted "
        "sum about the same from layer to layer.",
        bound="no_sqrt",
    ),
    _init_mistake(
        "normal_draws",
        "the numbers come from rng.normal instead of rng.uniform",
        "Draw with rng.uniform(-bound, bound, size=shape).",
        draw="normal",
    ),
    _init_mistake(
        "weights_then_biases",
        "all the weights were drawn first and the biases after them",
        "Draw layer by layer: conv1.weight, conv1.bias, conv2.weight, conv2.bias, ... (the "
        "order of the dict; the same Generator gives different numbers in another order).",
        order="weights_first",
    ),
    _init_mistake(
        "zero_biases",
        "the biases are zeros",
        "Zero biases would train too, but the recipe (torch's default) draws the biases from "
        "the same U(-bound, bound) as the weights, right after each weight.",
        bias="zero",
    ),
    Mistake(
        "all_zeros",
        "every parameter is zero",
        "With all weights equal, every filter of a layer computes the same thing and gets the "
        "same gradient, so they can never become different (the symmetry problem): draw "
        "random numbers.",
        lambda case: np.zeros(PARAM_SHAPES[case.args[1]]),
    ),
)


@single_threaded
def check_init_lenet(fn: Callable[[int], Any]) -> None:
    """Exercise 6.2: init_lenet(seed) -> dict of float64 arrays with torch's names."""
    __tracebackhide__ = True
    try:
        params = fn(0)
    except NotImplementedError as exc:
        raise not_implemented("init_lenet", exc) from None
    except Exception as exc:
        raise raised("init_lenet", exc, "seed 0") from exc
    if not isinstance(params, Mapping):
        raise CheckFailed(
            f"init_lenet(0) returned {type(params).__name__}; it must return a dict "
            "name -> array, e.g. params['conv1.weight'].",
            mistake="not_a_dict",
        )
    missing = [k for k in PARAM_NAMES if k not in params]
    extra = [k for k in params if k not in PARAM_SHAPES]
    if missing or extra:
        raise CheckFailed(
            f"init_lenet(0) has the keys {sorted(params)}; expected exactly "
            f"{list(PARAM_NAMES)} (torch's names for lecture 002's module: "
            f"'<layer>.weight' and '<layer>.bias'). Missing: {missing}; unexpected: {extra}.",
            mistake="wrong_keys",
        )
    for k in PARAM_NAMES:
        shape = _shape(params[k])
        if shape != PARAM_SHAPES[k]:
            transposed = shape == PARAM_SHAPES[k][::-1] and len(shape) == 2
            raise CheckFailed(
                f"init_lenet(0)['{k}'] has shape {shape}; expected {PARAM_SHAPES[k]}."
                + (
                    " A linear weight is stored (out_features, in_features), as in "
                    "torch's nn.Linear, so that out = x @ w.T + b."
                    if transposed
                    else " Conv weights are (C_out, C_in, KH, KW); biases have one entry "
                    "per output channel or unit."
                ),
                mistake="weight_transposed" if transposed else "wrong_shape",
            )
        if np.asarray(params[k]).dtype != np.float64:
            raise CheckFailed(
                f"init_lenet(0)['{k}'] has dtype {np.asarray(params[k]).dtype}; return "
                "float64 arrays (rng.uniform gives float64).",
                mistake="wrong_dtype",
            )
    again = fn(0)
    if not all(np.array_equal(np.asarray(params[k]), np.asarray(again[k])) for k in PARAM_NAMES):
        raise CheckFailed(
            "init_lenet(0) gave different numbers on two calls: use "
            "rng = np.random.default_rng(seed) and draw every array from that rng, not from "
            "np.random.",
            mistake="seed_ignored",
        )
    cases = [
        _LeNetCase(
            f"seed {seed}",
            (seed, k),
            _init_variant(seed)[k],
            shown=f"init_lenet({seed})['{k}']",
        )
        for seed in (0, 1, 2024)
        for k in PARAM_NAMES
    ]
    check(
        lambda seed, name: fn(seed)[name],
        name="init_lenet",
        cases=cases,
        mistakes=INIT_MISTAKES,
        pointer=POINTER_INIT,
        quiet=True,
        recipes=INIT_RECIPES,
    )
    print(
        f"✓ init_lenet: names, shapes and float64 dtype right; all {len(cases)} arrays for "
        "seeds 0, 1 and 2024 match torch's default recipe."
    )


# ---------------------------------------------------------------------------------------
# Exercise 6.3: lenet_forward
# ---------------------------------------------------------------------------------------


def _forward_cases() -> list[Case]:
    rng = np.random.default_rng(63)
    p1 = _default_init(1)
    p2 = _default_init(2, scale=2.0)
    p3 = _default_init(3)
    x1 = rng.standard_normal((2, 1, 28, 28))
    x2 = rng.standard_normal((1, 1, 28, 28))
    x3 = rng.standard_normal((3, 1, 28, 28))
    shown = "lenet_forward(params, x, layers)[0]"
    return [
        _LeNetCase(
            "2 random images, torch's default init (seed 1)",
            (p1, x1),
            _logits(p1, x1),
            shown=shown,
        ),
        _LeNetCase("1 image (N = 1), larger weights", (p2, x2), _logits(p2, x2), shown=shown),
        _LeNetCase("3 random images, seed 3", (p3, x3), _logits(p3, x3), shown=shown),
    ]


def _variant_mistake(key, says, hint, **variant) -> Mistake:
    return Mistake(key, says, hint, lambda case: _logits(*case.args, **variant))


FORWARD_MISTAKES = (
    _variant_mistake(
        "flatten_nhwc",
        "the (N, 16, 5, 5) maps were flattened channel-last (N, 5, 5, 16), so fc1's weights "
        "see the 400 features in a permuted order",
        "Flatten in NCHW order, as torch.flatten(x, 1) and x.reshape(N, -1) do: channel 0's "
        "25 values first, then channel 1's, ...",
        flatten="nhwc",
    ),
    *(
        _variant_mistake(
            f"no_relu_after_{layer}",
            f"the ReLU after {layer} is missing",
            f"Lecture 002 applies relu after {layer}: h = relu({layer}(h)). Without it, "
            "two linear layers in a row collapse into one.",
            no_act=frozenset({layer}),
        )
        for layer in ("conv1", "conv2", "fc1", "fc2")
    ),
    _variant_mistake(
        "relu_on_logits",
        "a ReLU was applied to fc3's output too",
        "The logits are fc3's raw output: negative scores are information (a very unlikely "
        "class), so no ReLU after fc3.",
        head="act",
    ),
    _variant_mistake(
        "softmax_applied_twice",
        "lenet_forward ends with a softmax, so the loss applies the softmax a second time",
        "Return fc3's raw scores (the logits); softmax_cross_entropy turns them into "
        "probabilities itself (lecture 002: 'apply softmax at the end', inside the loss).",
        head="softmax",
    ),
    _variant_mistake(
        "average_pooling",
        "the network uses average pooling where lecture 002's LeNet uses max pooling",
        "Use layers.maxpool2d_forward(h, kernel_size=2, stride=2) after each conv's ReLU.",
        pool="avg",
    ),
)


def _forward_result(result: Any, N: int) -> tuple[Any, Any]:
    """Split (logits, caches) or say what is wrong with the return value."""
    __tracebackhide__ = True
    if isinstance(result, np.ndarray):
        raise CheckFailed(
            "lenet_forward returned one array; return the pair (logits, caches): the "
            "backward pass needs the caches of every layer call.",
            mistake="returns_logits_only",
        )
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(
            f"lenet_forward returned {type(result).__name__}; return the pair (logits, caches).",
            mistake="wrong_return",
        )
    logits, caches = result
    if _shape(logits) != (N, 10):
        raise CheckFailed(
            f"lenet_forward's logits have shape {_shape(logits)}; expected (N, 10) = ({N}, 10): "
            "one score per class for each image.",
            mistake="wrong_logits_shape",
        )
    return logits, caches


def _check_caches(caches: Any, rec: _Recorder) -> None:
    __tracebackhide__ = True
    if not isinstance(caches, Mapping):
        raise CheckFailed(
            f"lenet_forward's caches is a {type(caches).__name__}; it must be a dict with the "
            f"keys {list(CACHE_KEYS)}, each holding the cache its layer call returned.",
            mistake="caches_not_a_dict",
        )
    missing = [k for k in CACHE_KEYS if k not in caches]
    extra = [k for k in caches if k not in CACHE_KEYS]
    if missing or extra:
        raise CheckFailed(
            f"lenet_forward's caches has the keys {list(caches)}; expected exactly "
            f"{list(CACHE_KEYS)}. Missing: {missing}; unexpected: {extra}. The backward pass "
            "(yours, and the one the hidden tests pair with it) looks them up by these names.",
            mistake="cache_keys",
        )
    for k, key in enumerate(CACHE_KEYS):
        owner = next((i for i, c in enumerate(rec.forward) if c.cache is caches[key]), None)
        if owner != k:
            got = (
                f"the cache of layer call {owner + 1} ({rec.forward[owner].name})"
                if owner is not None
                else "something no layer call returned"
            )
            raise CheckFailed(
                f"caches['{key}'] holds {got}; it must hold what layer call {k + 1}, "
                f"{_plan_text(k, 0).split(' on ')[0]} for {key}, returned as its cache.",
                mistake="cache_mixup",
            )


@single_threaded
def check_lenet_forward(
    fn: Callable[..., Any], *, layers: Layers | None = None, quiet: bool = False
) -> None:
    """Exercise 6.3: lenet_forward(params, x, layers) -> (logits, caches).

    Runs `fn` with the torch layers (or `layers`), compares the logits with lecture 002's
    LeNet5 in torch, and checks that `caches` holds each layer call's cache by name.
    """
    __tracebackhide__ = True
    rec = _Recorder(layers or LAYERS)
    cases = _forward_cases()

    # First run: errors, the return value and the use of `layers`, traced call by call.
    params, x = copy.deepcopy(cases[0].args)
    N = x.shape[0]
    rec.start(params)
    result = _first_run(
        "lenet_forward",
        cases[0].label,
        lambda: fn(params, x, rec.layers),
        lambda: _forward_deviation(rec.forward, N),
        lambda: _no_layer_calls(rec),
    )
    if not rec.forward:
        raise CheckFailed(
            "lenet_forward made no call to the `layers` it was given. Call "
            "layers.conv2d_forward, layers.relu_forward, ... (not global functions): that is "
            "how the same LeNet runs with your layers, torch's, or the reference ones.",
            mistake="ignores_layers",
        )
    _forward_result(result, N)

    def run(params, x):
        rec.start(params)
        return _forward_result(fn(params, x, rec.layers), x.shape[0])[0]

    _check_traced(
        run,
        "lenet_forward",
        cases,
        FORWARD_MISTAKES,
        POINTER_FORWARD,
        lambda label: _forward_deviation(
            rec.forward, next((c.args[1].shape[0] for c in cases if c.label == label), N)
        ),
    )
    # Caches: re-run the first case so the recorder holds its calls.
    rec.start(params)
    _, caches = _forward_result(fn(params, x, rec.layers), N)
    _check_caches(caches, rec)
    if not quiet:
        _passed("lenet_forward", cases, "; caches hold all 12 layer calls by name")


def _no_layer_calls(rec: _Recorder) -> str:
    if rec.forward:
        return ""
    return (
        " (It made no call to `layers` before failing: lenet_forward must call "
        "layers.conv2d_forward, ... rather than global functions.)"
    )


# ---------------------------------------------------------------------------------------
# Exercise 6.4: lenet_backward
# ---------------------------------------------------------------------------------------


def _backward_cases() -> list[Case]:
    """One case per gradient, fc3's first: the backward pass meets them in that order, so
    the first wrong one points at the layer where the chain breaks."""
    rng = np.random.default_rng(64)
    cases = []
    for label, seed, N, scale in [
        ("2 random images", 1, 2, 1.0),
        ("1 image (N = 1), larger weights", 2, 1, 2.0),
    ]:
        params = _default_init(seed, scale)
        x = rng.standard_normal((N, 1, 28, 28))
        dlogits = rng.standard_normal((N, 10))
        grads = dict(zip(PARAM_NAMES, _grads(params, x, dlogits), strict=True))
        for layer in reversed(LAYERS_WITH_PARAMS):
            for k in (f"{layer}.weight", f"{layer}.bias"):
                cases.append(
                    _LeNetCase(
                        f"{label}: grads['{k}']",
                        (params, x, dlogits),
                        grads[k],
                        {"name": k},
                        shown=f"lenet_backward(dlogits, caches, layers)['{k}']",
                    )
                )
    return cases


def _grad_mistake(key, says, hint, transform=None, **variant) -> Mistake:
    def wrong(case):
        grads = dict(zip(PARAM_NAMES, _grads(*case.args, **variant), strict=True))
        g = grads[case.kwargs["name"]]
        return transform(g) if transform else g

    return Mistake(key, says, hint, wrong)


BACKWARD_MISTAKES = (
    *(
        _grad_mistake(
            f"relu_backward_missing_after_{layer}",
            f"the gradient skips the ReLU after {layer} (relu_backward is missing there)",
            "Call layers.relu_backward(d, caches['"
            + {"conv1": "relu1", "conv2": "relu2", "fc1": "relu3", "fc2": "relu4"}[layer]
            + "']) at that point: it zeroes the gradient where the ReLU's input was negative.",
            identity_grad=frozenset({layer}),
        )
        for layer in ("conv1", "conv2", "fc1", "fc2")
    ),
    _grad_mistake(
        "sign_flipped",
        "every gradient has the wrong sign",
        "Pass dlogits to fc3's backward as it is; the minus sign of gradient descent belongs "
        "in the update (p -= lr * g), not in the gradients.",
        transform=lambda g: -g,
    ),
)


def _backward_result(grads: Any) -> tuple[np.ndarray, ...]:
    """The gradients as a tuple in PARAM_NAMES order, or a message on what is wrong."""
    __tracebackhide__ = True
    if not isinstance(grads, Mapping):
        raise CheckFailed(
            f"lenet_backward returned {type(grads).__name__}; return a dict with the keys of "
            "params, e.g. grads['conv1.weight'].",
            mistake="not_a_dict",
        )
    missing = [k for k in PARAM_NAMES if k not in grads or grads[k] is None]
    if missing:
        biases = all(k.endswith("bias") for k in missing)
        raise CheckFailed(
            f"lenet_backward's grads has no {missing}."
            + (
                " Biases are parameters too: every layer's backward returns db, keep it "
                "(otherwise the biases never learn)."
                if biases
                else f" Return a gradient for each of {list(PARAM_NAMES)}."
            ),
            mistake="bias_grads_missing" if biases else "missing_grads",
        )
    for k in PARAM_NAMES:
        shape = _shape(grads[k])
        if shape != PARAM_SHAPES[k]:
            transposed = len(PARAM_SHAPES[k]) == 2 and shape == PARAM_SHAPES[k][::-1]
            raise CheckFailed(
                f"grads['{k}'] has shape {shape}; it must have the parameter's shape "
                f"{PARAM_SHAPES[k]}"
                + (": it is transposed." if transposed else ". Is it another layer's gradient?"),
                mistake="grad_transposed" if transposed else "wrong_grad_shape",
            )
    return tuple(np.asarray(grads[k]) for k in PARAM_NAMES)


@single_threaded
def check_lenet_backward(
    fn: Callable[..., Any], forward: Callable[..., Any], *, layers: Layers | None = None
) -> None:
    """Exercise 6.4: lenet_backward(dlogits, caches, layers) -> grads.

    The caches come from your `forward` (lenet_forward), run with the torch layers; the
    gradients are compared with torch autograd on lecture 002's LeNet5.
    """
    __tracebackhide__ = True
    try:
        check_lenet_forward(forward, layers=layers, quiet=True)
    except CheckFailed as err:
        first = str(err).splitlines()[0]
        raise CheckFailed(
            "lenet_backward's check runs your lenet_forward to get the caches, and "
            f"lenet_forward's own check fails: {first} Fix Exercise 6.3 first.",
            mistake="forward_fails",
        ) from None
    rec = _Recorder(layers or LAYERS)
    cases = _backward_cases()

    def run(params, x, dlogits, *, name):
        rec.start(params)
        _, caches = forward(params, x, rec.layers)
        grads = _backward_result(fn(dlogits, caches, rec.layers))
        return grads[PARAM_NAMES.index(name)]

    params, x, dlogits = copy.deepcopy(cases[0].args)
    rec.start(params)
    _, caches = forward(params, x, rec.layers)
    grads = _first_run(
        "lenet_backward",
        cases[0].label,
        lambda: fn(dlogits, caches, rec.layers),
        lambda: _backward_deviation(rec.forward, rec.backward),
    )
    if not rec.backward:
        raise CheckFailed(
            "lenet_backward made no call to the `layers` it was given. Call "
            "layers.linear_backward, layers.relu_backward, ... with the caches from "
            "lenet_forward.",
            mistake="ignores_layers",
        )
    _backward_result(grads)
    _check_traced(
        run,
        "lenet_backward",
        cases,
        BACKWARD_MISTAKES,
        POINTER_BACKWARD,
        lambda label: _backward_deviation(rec.forward, rec.backward),
    )
    _passed("lenet_backward", cases, "; all 10 gradients equal torch autograd's")


# ---------------------------------------------------------------------------------------
# Exercise 6.5: softmax_cross_entropy
# ---------------------------------------------------------------------------------------


def _torch_ce(logits, y) -> tuple[float, np.ndarray]:
    torch = _torch()
    z = torch.tensor(np.asarray(logits, float), requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z, torch.tensor(np.asarray(y, np.int64)))
    (dz,) = torch.autograd.grad(loss, [z])
    return float(loss.detach()), dz.numpy()


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    torch = _torch()
    return torch.softmax(_oracle.t64(z), dim=axis).numpy()


def _loss_cases() -> list[Case]:
    rng = np.random.default_rng(65)

    def cases(label, logits, y):
        logits = np.asarray(logits, float)
        y = np.asarray(y, np.int64)
        loss, dlogits = _torch_ce(logits, y)
        return [
            _LeNetCase(
                f"{label}: the loss",
                (logits, y),
                loss,
                {"part": 0},
                shown="softmax_cross_entropy(logits, y)[0]",
            ),
            _LeNetCase(
                f"{label}: dlogits",
                (logits, y),
                dlogits,
                {"part": 1},
                shown="softmax_cross_entropy(logits, y)[1]",
            ),
        ]

    return [
        *cases("one example, three classes", [[2.0, 1.0, 0.1]], [0]),
        *cases("a batch of 4, ten classes", rng.standard_normal((4, 10)) * 2, [3, 0, 9, 3]),
        *cases("a batch of 5, repeated labels", rng.standard_normal((5, 4)) * 3, [1, 1, 2, 0, 1]),
        *cases(
            "large logits (hundreds): the stable softmax",
            rng.standard_normal((3, 6)) * 20 + 800,
            [5, 0, 2],
        ),
        # Rows hundreds apart: subtracting the batch's largest logit instead of each row's
        # own sends the second row to exp(-798) = 0, and its loss to log(0).
        *cases(
            "rows hundreds apart: each row's own max", [[800.0, 0.0, 1.0], [0.0, 1.0, 2.0]], [0, 2]
        ),
        # The label's logit hundreds below its row's max: its probability underflows to 0,
        # so np.log of the softmax gives inf where the log-softmax gives 805.
        *cases(
            "a label hundreds below its row's max", [[0.0, -800.0, 5.0], [1.0, 2.0, 3.0]], [1, 2]
        ),
        # One logit a thousand above the rest of its row: only a shift by the row's max
        # keeps np.exp finite (by its mean, exp(900) overflows to inf).
        *cases(
            "one logit a thousand above the rest of its row",
            [[1200.0, 0.0, -3.0, 2.0], [0.5, 1.0, -1.0, 0.0]],
            [0, 3],
        ),
    ]


def _loss_mistake(key, says, hint, wrong) -> Mistake:
    def compute(case):
        logits, y = case.args
        right = _torch_ce(logits, y)
        return wrong(np.asarray(logits, float), np.asarray(y), right)[case.kwargs["part"]]

    return Mistake(key, says, hint, compute)


def _axis0_loss(z, y, expected):
    N = len(y)
    p = _softmax(z, 0)
    onehot = np.eye(z.shape[1])[y]
    return float(-np.log(p[np.arange(N), y]).mean()), (p - onehot) / N


def _axis0_after_row_max(z, y, expected):
    """Each row's max subtracted (as asked), then the exponentials normalised over the
    batch (axis 0) instead of over the classes."""
    N = len(y)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=0, keepdims=True)
    onehot = np.eye(z.shape[1])[y]
    return float(-np.log(p[np.arange(N), y]).mean()), (p - onehot) / N


def _batch_max_loss(z, y, expected):
    """The softmax shifted by the largest logit of the whole batch, not each row's."""
    n = len(y)
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max())
        p = e / e.sum(axis=1, keepdims=True)
        d = p.copy()
        d[np.arange(n), y] -= 1
        return float(-np.log(p[np.arange(n), y]).mean()), d / n


def _matrix_index_loss(z, y, expected):
    """dlogits: None, as students who pick p[:, y] in the loss may or may not subtract 1
    at p[:, y] too."""
    p = _softmax(z, 1)
    with np.errstate(all="ignore"):
        return float(-np.log(p[:, y]).mean()), None


def _ce_recipe(case: Case, *, shift="row", norm=1, lse="same", reduce="mean", smooth=0.0):
    """(loss, dlogits)[part] of a softmax cross-entropy computed with settings changed
    (`LOSS_KNOBS`); the defaults are the stable softmax over the classes, batch mean."""
    z, y = np.asarray(case.args[0], float), np.asarray(case.args[1])
    n, rows = len(y), np.arange(len(y))
    m = {"row": z.max(axis=1, keepdims=True), "column": z.max(axis=0, keepdims=True),
         "batch": z.max()}[shift]  # fmt: skip
    with np.errstate(all="ignore"):
        e = np.exp(z - m)
        p = e / e.sum(axis=norm, keepdims=True)
        # "unshifted": the raw logit minus the log-sum-exp of the shifted ones
        each = np.log(e.sum(axis=1)) - z[rows, y] if lse == "unshifted" else -np.log(p[rows, y])
        target = np.full(z.shape, smooth / z.shape[1])  # label smoothing: F.cross_entropy's
        target[rows, y] += 1 - smooth
        if smooth:
            log_p = (z - m) - np.log(e.sum(axis=norm, keepdims=True))
            each = -(target * log_p).sum(axis=1)
        d = p - target
    loss = float(each.sum() / (1 if reduce in ("sum", "loss_sum") else n))
    return (loss, d / (1 if reduce in ("sum", "grad_sum") else n))[case.kwargs["part"]]


#: The settings of a stable softmax cross-entropy that students get wrong, each with its
#: neighbours; every version with one or two of them changed is tried when no catalogue
#: entry explains the output (course.checks._mutate.recipe_variants).
LOSS_KNOBS = (
    Knob("shift", "row", {
        "column": ("the max was subtracted per column (axis 0, over the batch) instead of "
                   "per row, which changes each row's softmax",
                   "Subtract each row's own max: logits.max(axis=1, keepdims=True)."),
        "batch": ("the largest logit of the whole batch was subtracted instead of each row's",
                  "Subtract each row's own max: logits.max(axis=1, keepdims=True)."),
    }),
    Knob("norm", 1, {
        0: ("the softmax normalises over the batch (axis 0) instead of over the classes",
            "Sum the exponentials along axis=1 with keepdims=True."),
    }),
    Knob("lse", "same", {
        "unshifted": ("the loss takes the raw logit of the label minus the log-sum-exp of "
                      "the SHIFTED logits: the max is never added back, so each loss is "
                      "off by its row's max",
                      "Use the same shifted logits on both sides: loss = log Σ exp(z - m) - "
                      "(z[y] - m)."),
    }),
    Knob("smooth", 0.0, {
        0.1: ("the targets are smoothed (label_smoothing=0.1: 0.9 + 0.1/C on the label, 0.1/C "
              "elsewhere), which F.cross_entropy does only when asked",
              "The target is the one-hot label itself: loss = -log softmax(z)[y]."),
    }),
    Knob("reduce", "mean", {
        "sum": ("the loss and its gradient are summed over the batch instead of averaged",
                "Divide by N: the loss is the batch MEAN, and dlogits = (softmax - onehot) / N."),
        "loss_sum": ("the loss is summed over the batch instead of averaged (dlogits is "
                     "averaged)", "The loss is the batch MEAN: divide the sum by N."),
        "grad_sum": ("the loss is averaged but dlogits is not divided by N",
                     "The gradient of a mean carries the same 1/N."),
    }),
)  # fmt: skip
LOSS_RECIPES = recipe_variants(LOSS_KNOBS, _ce_recipe, prefix="loss")


def _log_of_softmax_loss(z, y, e):
    with np.errstate(all="ignore"):
        p = _softmax(z - z.max(axis=1, keepdims=True), 1)
        return float(-np.log(p[np.arange(len(y)), y]).mean()), e[1]


LOSS_MISTAKES = (
    _loss_mistake(
        "loss_summed",
        "the loss and its gradient are summed over the batch instead of averaged",
        "Divide by N: the loss is the MEAN over the batch (torch's default), and so its "
        "gradient is (softmax - onehot) / N. A summed loss makes the step size grow with "
        "the batch size.",
        lambda z, y, e: (len(y) * e[0], len(y) * e[1]),
    ),
    _loss_mistake(
        "grad_not_averaged",
        "the loss is averaged but dlogits is not divided by N",
        "The gradient of a mean carries the same 1/N: dlogits = (softmax - onehot) / N.",
        lambda z, y, e: (e[0], len(y) * e[1]),
    ),
    _loss_mistake(
        "grad_sign_flipped",
        "dlogits has the wrong sign (onehot - softmax)",
        "d loss / d z = softmax(z) - onehot(y): raising the right class's score lowers the "
        "loss, so that entry is negative.",
        lambda z, y, e: (e[0], -e[1]),
    ),
    _loss_mistake(
        "onehot_not_subtracted",
        "dlogits is softmax / N, without subtracting 1 at the right class",
        "Subtract the one-hot labels: dlogits[n, y[n]] -= 1, then divide by N.",
        lambda z, y, e: (e[0], _softmax(z, 1) / len(y)),
    ),
    _loss_mistake(
        "loss_sign",
        "the loss is the mean of log p (negative) instead of -log p",
        "Cross-entropy is -log of the right class's probability: a positive number that is 0 "
        "only for a perfect prediction.",
        lambda z, y, e: (-e[0], e[1]),
    ),
    _loss_mistake(
        "softmax_wrong_axis",
        "the softmax normalises over the batch (axis 0) instead of over the classes (axis 1)",
        "Each image's scores become probabilities on their own: subtract the max and sum "
        "along axis=1 with keepdims=True.",
        _axis0_loss,
    ),
    _loss_mistake(  # the same mistake, after the row max was subtracted as asked
        "softmax_wrong_axis",
        "the softmax normalises over the batch (axis 0) instead of over the classes (axis 1)",
        "Each image's scores become probabilities on their own: sum the exponentials along "
        "axis=1 with keepdims=True.",
        _axis0_after_row_max,
    ),
    _loss_mistake(
        "batch_max",
        "you subtracted the largest logit of the whole batch instead of each row's own: a "
        "row hundreds below it gets exp(...) = 0 everywhere, and log(0)",
        "Subtract each row's max: z = logits - logits.max(axis=1, keepdims=True). Then every "
        "row has an exponent of 0 at its own largest logit.",
        _batch_max_loss,
    ),
    _loss_mistake(
        "log_of_softmax",
        "the loss takes np.log of the softmax probabilities: a probability that underflows "
        "to 0 (a label hundreds below its row's max) gives log(0) = -inf",
        "Use the log-softmax directly: log p[y] = (z[y] - m) - log Σ exp(z - m), with m the "
        "row's max; it never takes the log of 0.",
        _log_of_softmax_loss,
    ),
    _loss_mistake(
        "label_indexing",
        "the loss picks p[:, y], an N×N block, instead of one probability per row",
        "Pick p[np.arange(N), y]: row n, column y[n].",
        _matrix_index_loss,
    ),
)


def _finite(value: Any) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(value, float))))
    except (TypeError, ValueError):
        return True  # not numbers: the engine says what is wrong with it


def _loss_on(fn: Callable[..., Any], case: Case) -> tuple | None:
    """The student's (loss, dlogits) on a case, or None where it raises or is no pair."""
    try:
        with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
            got = fn(*copy.deepcopy(case.args))
    except Exception:
        return None
    return tuple(got) if isinstance(got, (tuple, list)) and len(got) == 2 else None


@single_threaded
def check_softmax_cross_entropy(fn: Callable[..., Any]) -> None:
    """Exercise 6.5: softmax_cross_entropy(logits, y) -> (loss, dlogits), batch mean."""
    __tracebackhide__ = True
    cases = _loss_cases()
    big = next(c for c in cases if c.label.startswith("large logits"))
    try:
        with np.errstate(all="ignore"):
            got = fn(*copy.deepcopy(big.args))
    except NotImplementedError as exc:
        raise not_implemented("softmax_cross_entropy", exc, big.label) from None
    except Exception:
        got = None  # the engine reports it below, on the first case that raises
    else:
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(
                f"softmax_cross_entropy returned {type(got).__name__}; return the pair "
                "(loss, dlogits).",
                mistake="wrong_return",
            )
    ordinary = _loss_on(fn, cases[0])  # the loss and dlogits on small logits
    if (
        ordinary is not None
        and not _finite(ordinary[0])
        and _compare(ordinary[1], cases[1].expected, rtol=1e-6, atol=1e-8) is None
    ):
        raise CheckFailed(
            f"softmax_cross_entropy on {cases[0].label.removesuffix(': the loss')}: dlogits "
            f"is right, so the softmax is, but the loss is {ordinary[0]!r}: np.log got a "
            "number <= 0, so the loss did not read the softmax probabilities. The usual "
            "cause: `dlogits = probs` names the same array (no copy), and "
            "`dlogits[rows, y] -= 1` edits probs too. Compute the loss first, or start "
            "from `dlogits = probs.copy()`.",
            mistake="loss_after_probs_edited",
            case=cases[0].label,
        )
    if isinstance(got, (tuple, list)) and len(got) == 2 and ordinary is not None:
        finite = _finite(got[0]) and _finite(got[1])
        if not finite and _finite(ordinary[0]):
            raise CheckFailed(
                f"softmax_cross_entropy on {big.label} returned inf or NaN. np.exp(800) "
                "overflows to inf (and inf/inf is NaN): subtract each row's max from the "
                "logits before np.exp. The softmax does not change (the factor cancels), but "
                "every exponent is then <= 0.",
                mistake="unstable_softmax",
                case=big.label,
            )

    def run(logits, y, *, part):
        result = fn(logits, y)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(f"expected the pair (loss, dlogits), got {type(result).__name__}")
        return result[part]

    with np.errstate(all="ignore"):
        check(
            run,
            name="softmax_cross_entropy",
            cases=cases,
            mistakes=LOSS_MISTAKES,
            pointer=POINTER_LOSS,
            quiet=True,
            recipes=LOSS_RECIPES,
        )
    _passed("softmax_cross_entropy", cases, "; the loss and dlogits of each")


# ---------------------------------------------------------------------------------------
# Exercise 6.6: sgd_step
# ---------------------------------------------------------------------------------------

_SGD_SHAPES = {
    "conv1.weight": (2, 1, 2, 2),
    "conv1.bias": (2,),
    "fc1.weight": (3, 4),
    "fc1.bias": (3,),
}


def _flat(params: Mapping[str, Any]) -> np.ndarray:
    return np.concatenate([np.asarray(params[k], float).ravel() for k in _SGD_SHAPES])


class _Steps:
    """The gradients of successive steps (not a list: the engine would compare it as an array)."""

    def __init__(self, items) -> None:
        self.items = list(items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _torch_sgd_run(params, velocity, grads_seq, *, lr, momentum, weight_decay, only=None):
    """Parameters after each step of torch.optim.SGD, as rows of one array."""
    torch = _torch()
    names = [k for k in _SGD_SHAPES if only is None or only(k)]
    P = {k: torch.tensor(np.asarray(params[k], float)) for k in _SGD_SHAPES}
    for k in names:
        P[k].requires_grad_(True)
    opt = torch.optim.SGD(
        [P[k] for k in names], lr=abs(lr), momentum=momentum, weight_decay=weight_decay
    )
    if momentum:
        for k in names:
            opt.state[P[k]]["momentum_buffer"] = torch.tensor(np.asarray(velocity[k], float))
    rows = []
    for grads in grads_seq:
        before = {k: P[k].detach().clone() for k in names}
        for k in names:
            P[k].grad = torch.tensor(np.asarray(grads[k], float))
        opt.step()
        if lr < 0:  # a mistake being named: the same step, taken uphill
            with torch.no_grad():
                for k in names:
                    P[k].copy_(2 * before[k] - P[k])
        rows.append(_flat({k: P[k].detach().numpy() for k in _SGD_SHAPES}))
    return np.array(rows)


def _sgd_case(label, seed, steps, *, lr, momentum, weight_decay, warm=False) -> Case:
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s) for k, s in _SGD_SHAPES.items()}
    velocity = {
        k: (rng.standard_normal(s) if warm else np.zeros(s)) for k, s in _SGD_SHAPES.items()
    }
    grads_seq = _Steps(
        {k: rng.standard_normal(s) for k, s in _SGD_SHAPES.items()} for _ in range(steps)
    )
    kwargs = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
    expected = _torch_sgd_run(params, velocity, grads_seq, **kwargs)
    options = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    shown = f"sgd_step(params, grads, velocity, {options}) × {steps}"
    return _LeNetCase(label, (params, velocity, grads_seq), expected, kwargs, shown=shown)


def _sgd_cases() -> list[Case]:
    return [
        _sgd_case("one plain step (lr 0.1)", 1, 1, lr=0.1, momentum=0.0, weight_decay=0.0),
        _sgd_case("three steps with momentum 0.9", 2, 3, lr=0.1, momentum=0.9, weight_decay=0.0),
        _sgd_case(
            "three steps, momentum 0.9, weight decay 0.01",
            3,
            3,
            lr=0.05,
            momentum=0.9,
            weight_decay=0.01,
        ),
        _sgd_case(
            "two steps from a velocity left by earlier steps (lr 0.5, momentum 0.5, "
            "weight decay 0.1)",
            4,
            2,
            lr=0.5,
            momentum=0.5,
            weight_decay=0.1,
            warm=True,
        ),
    ]


def _manual_sgd(case: Case, update) -> np.ndarray:
    """Run `update(p, g, v, lr, mu, wd) -> (p, v)` per parameter and step (mistake models)."""
    params, velocity, grads_seq = copy.deepcopy(case.args)
    kw = case.kwargs
    rows = []
    for grads in grads_seq:
        for k in _SGD_SHAPES:
            params[k], velocity[k] = update(
                k, params[k], grads[k], velocity[k], kw["lr"], kw["momentum"], kw["weight_decay"]
            )
        rows.append(_flat(params))
    return np.array(rows)


def _sgd_torch_mistake(key, says, hint, only=None, **change) -> Mistake:
    def wrong(case):
        params, velocity, grads_seq = case.args
        return _torch_sgd_run(params, velocity, grads_seq, only=only, **{**case.kwargs, **change})

    return Mistake(key, says, hint, wrong)


def _no_velocity(case):
    kw = case.kwargs
    if not kw["momentum"]:
        return None
    params, velocity, grads_seq = case.args
    return _torch_sgd_run(
        params, velocity, grads_seq, lr=kw["lr"], momentum=0.0, weight_decay=kw["weight_decay"]
    )


SGD_MISTAKES = (
    Mistake(
        "not_in_place",
        "the parameters did not change: the update went into a new array",
        "`p = p - lr * v` makes a new array and leaves params[name] as it was. Update in "
        "place (`p -= lr * v`, or params[name] -= ...) so the network sees the step.",
        lambda case: np.tile(_flat(case.args[0]), (len(case.args[2]), 1)),
    ),
    _sgd_torch_mistake(
        "lr_ignored",
        "the learning rate is ignored (p -= v)",
        "Scale the step by the learning rate: p -= lr * v.",
        lr=1.0,
    ),
    Mistake(
        "velocity_not_kept",
        "momentum has no effect: the velocity is not carried from one step to the next, "
        "or the step uses the gradient d where the velocity belongs",
        "Store the new velocity back into the dict (velocity[name] = momentum * "
        "velocity[name] + d, or update it in place) so the next step starts from it, and "
        "step with it: p -= lr * velocity[name].",
        _no_velocity,
    ),
    Mistake(  # the same mistake, from a velocity that earlier steps left behind
        "velocity_not_kept",
        "momentum has no effect: the velocity is not carried from one step to the next",
        "Store the new velocity back into the dict (velocity[name] = momentum * "
        "velocity[name] + d, or update it in place) so the next step starts from it.",
        lambda case: _manual_sgd(case, _velocity_not_stored) if case.kwargs["momentum"] else None,
    ),
    _sgd_torch_mistake(
        "weight_decay_ignored",
        "the weight decay is ignored",
        "Add weight_decay * p to the gradient before the momentum: d = g + weight_decay * p.",
        weight_decay=0.0,
    ),
    Mistake(
        "weight_decay_sign",
        "the weight decay has the wrong sign (d = g - weight_decay * p)",
        "Weight decay is the gradient of (weight_decay / 2) * ||p||², which is "
        "+weight_decay * p: it pulls every weight towards 0.",
        lambda case: _manual_sgd(
            case,
            lambda k, p, g, v, lr, mu, wd: _momentum_update(p, g - wd * p, v, lr, mu),
        ),
    ),
    _sgd_torch_mistake(
        "biases_not_updated",
        "only the weights were updated; the biases kept their values",
        "Loop over every entry of params (weights AND biases): the biases are parameters "
        "too, and LeNet has 236 of them.",
        only=lambda k: k.endswith("weight"),
    ),
    Mistake(
        "ema_momentum",
        "the velocity is an average, v = momentum * v + (1 - momentum) * d",
        "torch's SGD adds the whole gradient: v = momentum * v + d (no 1 - momentum factor).",
        lambda case: _manual_sgd(
            case,
            lambda k, p, g, v, lr, mu, wd: _momentum_update(p, (1 - mu) * (g + wd * p), v, lr, mu),
        ),
    ),
    Mistake(
        "weight_decay_outside_momentum",
        "the weight decay was added after the momentum (p -= lr * (v + weight_decay * p))",
        "torch adds weight_decay * p to the gradient first, then the sum goes through the "
        "velocity: d = g + weight_decay * p; v = momentum * v + d.",
        lambda case: _manual_sgd(case, _decay_after),
    ),
)


def _sgd_recipe(case: Case, *, decay="all", velocity="torch") -> np.ndarray:
    """The rows `check_sgd_step` compares, for an update rule with settings changed
    (`SGD_KNOBS`); the defaults are torch.optim.SGD's."""
    params, vel, grads_seq = copy.deepcopy(case.args)
    lr, mu, wd = (case.kwargs[k] for k in ("lr", "momentum", "weight_decay"))
    rows = []
    for grads in grads_seq:
        for k in _SGD_SHAPES:
            p, g, v = params[k], grads[k], vel[k]
            decays = decay in ("all", "after") or (decay == "weights" and k.endswith("weight"))
            d = g + wd * p if decays and decay != "after" else g
            if velocity == "no_factor":
                v = v + d
            elif velocity == "ema":
                v = mu * v + (1 - mu) * d
            elif mu:
                v = mu * v + d
            step = v if (mu or velocity == "no_factor") else d
            if velocity == "nesterov" and mu:
                step = d + mu * v
            params[k] = p - lr * (step + (wd * p if decay == "after" else 0))
            vel[k] = v
        rows.append(_flat(params))
    return np.array(rows)


#: The settings of torch.optim.SGD's update that students get wrong, each with its
#: neighbours; every rule with one or two of them changed is tried when no catalogue
#: entry explains the parameters (course.checks._mutate.recipe_variants).
SGD_KNOBS = (
    Knob("decay", "all", {
        "weights": ("weight decay was applied to the weights only, not to the biases",
                    "torch.optim.SGD (and the docstring) decays every parameter."),
        "none": ("the weight decay is ignored",
                 "Add weight_decay * p to the gradient: d = g + weight_decay * p."),
        "after": ("the weight decay was added after the momentum (p -= lr * (v + wd * p))",
                  "Add weight_decay * p to the gradient first, then update the velocity."),
    }),
    Knob("velocity", "torch", {
        "no_factor": ("the old velocity is not multiplied by the momentum (v += d), so it "
                      "sums every past gradient", "v = momentum * v + d."),
        "ema": ("the velocity is an average, v = momentum * v + (1 - momentum) * d",
                "torch's SGD adds the whole gradient: v = momentum * v + d."),
        "nesterov": ("the step is Nesterov's, p -= lr * (d + momentum * v)",
                     "Plain momentum steps along the velocity itself: p -= lr * v."),
    }),
)  # fmt: skip
SGD_RECIPES = recipe_variants(SGD_KNOBS, _sgd_recipe, prefix="sgd")


def _momentum_update(p, d, v, lr, mu):
    v = mu * v + d
    return p - lr * v, v


def _velocity_not_stored(k, p, g, v, lr, mu, wd):
    return p - lr * (mu * v + g + wd * p), v  # v is never written back


def _decay_after(k, p, g, v, lr, mu, wd):
    v = mu * v + g
    return p - lr * (v + wd * p), v


@single_threaded
def check_sgd_step(fn: Callable[..., Any]) -> None:
    """Exercise 6.6: sgd_step(params, grads, velocity, *, lr, momentum, weight_decay),
    in place, compared with torch.optim.SGD over several steps."""
    __tracebackhide__ = True
    cases = _sgd_cases()

    changed: list[str] = []  # the gradients the student's step wrote into

    def run(params, velocity, grads_seq, **kwargs):
        rows = []
        for grads in grads_seq:
            before = {k: np.array(v, copy=True) for k, v in grads.items()}
            returned = fn(params, grads, velocity, **kwargs)
            if returned is not None and isinstance(returned, Mapping) and returned is not params:
                raise _ReturnedNewError()
            changed.extend(k for k in before if not np.array_equal(before[k], grads[k]))
            rows.append(_flat(params))
        return np.array(rows)

    try:
        check(
            run,
            name="sgd_step",
            cases=cases,
            mistakes=SGD_MISTAKES,
            pointer=POINTER_SGD,
            oracle=_torch_sgd_run,
            recipes=SGD_RECIPES,
        )
    except CheckFailed as err:
        if isinstance(err.__cause__, _ReturnedNewError):
            raise CheckFailed(
                "sgd_step returned a new dict of parameters. Update the arrays of `params` "
                "(and `velocity`) in place and return nothing: the training loop keeps "
                "using the same dict.",
                mistake="returns_new_params",
                case=err.case,
            ) from None
        raise
    _paired_by_name(run, cases[1])
    if changed:  # the steps are right, but the caller's gradients are not what it passed
        raise CheckFailed(
            f"sgd_step changed the caller's gradients: grads[{changed[0]!r}] after the call "
            "is not the array that was passed in. The parameters come out right, but "
            "`g += weight_decay * p` (or `grads[name] += ...`) writes into arrays the "
            "caller still holds. Build the decayed gradient as a new array: "
            "`d = grads[name] + weight_decay * p`.",
            mistake="grads_changed_in_place",
        )


class _ReturnedNewError(Exception):
    pass


def _paired_by_name(run: Callable[..., np.ndarray], case: Case) -> None:
    """The same steps, with grads and velocity listing their names in the reverse order of
    params: the dicts are keyed by name, so nothing may change."""
    __tracebackhide__ = True
    params, velocity, grads_seq = copy.deepcopy(case.args)
    velocity = dict(reversed(velocity.items()))
    grads_seq = [dict(reversed(grads.items())) for grads in grads_seq]
    try:
        got = run(params, velocity, grads_seq, **case.kwargs)
    except Exception:
        got = None
    if got is None or not np.allclose(got, case.expected, rtol=1e-6, atol=1e-8):
        raise CheckFailed(
            f"sgd_step gave other parameters ({case.label}) when grads and velocity list "
            "their names in another order than params, as a dict built elsewhere may.\nIt "
            "looks like the arrays were paired by position (zip(params.values(), "
            "grads.values(), ...)), not by name. Look each one up by its name: "
            "`for name, p in params.items(): g, v = grads[name], velocity[name]`.",
            mistake="paired_by_position",
            case=case.label,
        )


# ---------------------------------------------------------------------------------------
# Torch stand-ins for forward / backward / step (so train_epoch is checked on its own)
# ---------------------------------------------------------------------------------------


@dataclass
class _Spy:
    """Torch-backed forward, backward and step with lenet_forward's signatures, counting calls."""

    forward_calls: int = 0
    backward_calls: int = 0
    step_calls: int = 0
    batch_sizes: list[int] = field(default_factory=list)

    def forward(self, params, x, layers):
        self.forward_calls += 1
        self.batch_sizes.append(int(np.shape(x)[0]))
        logits, P = _torch_lenet(params, x)
        return logits.detach().numpy().copy(), {"torch graph": (logits, P)}

    def backward(self, dlogits, caches, layers):
        self.backward_calls += 1
        torch = _torch()
        logits, P = caches["torch graph"]
        got = torch.autograd.grad(logits, [P[k] for k in PARAM_NAMES], _oracle.t64(dlogits))
        return {k: g.numpy() for k, g in zip(PARAM_NAMES, got, strict=True)}

    def step(self, params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        self.step_calls += 1
        torch = _torch()
        for k in PARAM_NAMES:
            p = torch.tensor(np.asarray(params[k], float), requires_grad=True)
            opt = torch.optim.SGD([p], lr=lr, momentum=momentum, weight_decay=weight_decay)
            if momentum:
                opt.state[p]["momentum_buffer"] = torch.tensor(np.asarray(velocity[k], float))
            p.grad = torch.tensor(np.asarray(grads[k], float))
            opt.step()
            params[k][...] = p.detach().numpy()
            if momentum:
                velocity[k][...] = opt.state[p]["momentum_buffer"].numpy()


def _torch_epoch(
    params, velocity, X, y, *, batch_size, lr, momentum, weight_decay, seed, variant=None
):
    """One epoch in plain PyTorch (model, F.cross_entropy, optim.SGD); (loss, acc, params).
    With lr=0 and seed=None (no shuffle) it is an evaluation (`_torch_eval`)."""
    torch = _torch()
    F = torch.nn.functional
    model = _oracle.TorchLeNet5(torch.float64)
    model.load_state_dict({k: torch.tensor(np.asarray(v, float)) for k, v in params.items()})
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    named = dict(model.named_parameters())
    if momentum and variant != "velocity_reset":
        for k, p in named.items():
            opt.state[p]["momentum_buffer"] = torch.tensor(np.asarray(velocity[k], float))
    N = len(y)
    rng = np.random.default_rng(seed)
    order = np.arange(N) if variant == "not_shuffled" or seed is None else rng.permutation(N)
    label_order = rng.permutation(N) if variant == "labels_shuffled_separately" else order
    stop = (N // batch_size) * batch_size if variant == "last_batch_dropped" else N
    total, correct, batch_means = 0.0, 0, []
    for start in range(0, stop, batch_size):
        idx, idy = order[start : start + batch_size], label_order[start : start + batch_size]
        xb = torch.tensor(np.asarray(X, float)[idx])
        yb = torch.tensor(np.asarray(y)[idy].astype(np.int64))
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        reported = float(loss.detach())
        if variant == "softmax_unshifted":  # exp of a logit above 709 is inf: inf / inf
            probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
            reported = float(-torch.log(probs[torch.arange(len(yb)), yb]).mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += reported * len(idx)
        batch_means.append(reported)
        correct += int((logits.argmax(1) == yb).sum())
    after = {k: p.detach().numpy().copy() for k, p in named.items()}
    loss_value = total / N
    if variant == "loss_not_divided":
        loss_value = total
    elif variant == "loss_mean_of_batch_means":
        loss_value = float(np.mean(batch_means))
    acc = correct if variant == "acc_count" else correct / N
    return loss_value, acc, after


def _fingerprint(params) -> np.ndarray:
    return np.concatenate(
        [
            np.asarray(params["fc3.bias"], float),
            np.asarray(params["conv1.weight"], float)[0, 0].ravel(),
        ]
    )


_PARTS = ("the epoch loss", "the accuracy", "fc3.bias and conv1.weight[0, 0] after the epoch")


def _train_cases() -> list[Case]:
    rng = np.random.default_rng(67)
    cases = []
    for label, N, B, seed, kwargs, warm in [
        (
            "20 images in batches of 8 (the last one has 4), momentum 0.9",
            20,
            8,
            3,
            {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0},
            False,
        ),
        (
            "21 images in batches of 5, weight decay, a velocity left by an earlier epoch",
            21,
            5,
            4,
            {"lr": 0.02, "momentum": 0.9, "weight_decay": 5e-4},
            True,
        ),
        (  # a loop that adds 'one more batch for the rest' runs an empty batch here
            "12 images in batches of 4 (every batch full), no momentum",
            12,
            4,
            5,
            {"lr": 0.05, "momentum": 0.0, "weight_decay": 0.0},
            False,
        ),
    ]:
        params = _default_init(seed)
        velocity = {
            k: (0.01 * rng.standard_normal(s) if warm else np.zeros(s))
            for k, s in PARAM_SHAPES.items()
        }
        X = rng.standard_normal((N, 1, 28, 28))
        y = _some_right_labels(params, X, rng)
        loss, acc, after = _torch_epoch(params, velocity, X, y, batch_size=B, seed=seed, **kwargs)
        options = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        call = (
            f"train_epoch(params, velocity, X, y, layers, batch_size={B}, {options}, "
            f"rng=np.random.default_rng({seed}))"
        )
        for part, (what, expected) in enumerate(
            zip(_PARTS, (loss, acc, _fingerprint(after)), strict=True)
        ):
            cases.append(
                _LeNetCase(
                    f"{label}: {what}",
                    (params, velocity, X, y),
                    expected,
                    {"batch_size": B, "seed": seed, **kwargs, "part": part},
                    shown=call,
                )
            )
    return cases


def _some_right_labels(params, X, rng) -> np.ndarray:
    """Random labels, except that half of them are what the network predicts: the accuracy
    is then strictly between 0 and 1, so a count cannot pass for a fraction."""
    y = rng.integers(0, 10, size=len(X))
    predicted = _logits(params, X).argmax(axis=1)
    half = rng.permutation(len(X))[: len(X) // 2]
    y[half] = predicted[half]
    return y


def _train_mistake(key, says, hint) -> Mistake:
    def wrong(case):
        params, velocity, X, y = case.args
        kw = dict(case.kwargs)
        if key == "velocity_reset" and not np.any([np.any(v) for v in velocity.values()]):
            return None
        part = kw.pop("part")
        loss, acc, after = _torch_epoch(params, velocity, X, y, variant=key, **kw)
        return (loss, acc, _fingerprint(after))[part]

    return Mistake(key, says, hint, wrong)


TRAIN_MISTAKES = (
    _train_mistake(
        "labels_shuffled_separately",
        "the images and the labels were shuffled with two different permutations",
        "Draw ONE order = rng.permutation(N) and index both with it: X[idx] and y[idx]. With "
        "two permutations every image gets a random label and accuracy stays at chance (10%).",
    ),
    _train_mistake(
        "not_shuffled",
        "the examples were visited in their stored order (no shuffle)",
        "Start with order = rng.permutation(N): data sets are often sorted by class (the "
        "offline MNIST subset is), and sorted batches make SGD zig-zag.",
    ),
    _train_mistake(
        "last_batch_dropped",
        "the last, smaller batch was skipped",
        "Loop `for start in range(0, N, batch_size)`: the last batch order[start:start + "
        "batch_size] simply has fewer examples.",
    ),
    _train_mistake(
        "loss_not_divided",
        "the epoch loss is a sum over the batches, not a mean over the examples",
        "Add loss * len(idx) for each batch, then divide the total by N.",
    ),
    _train_mistake(
        "loss_mean_of_batch_means",
        "the epoch loss is the plain mean of the batch losses, so the small last batch counts "
        "as much as a full one",
        "Weight each batch's mean loss by its size: total += loss * len(idx); total / N.",
    ),
    _train_mistake(
        "acc_count",
        "the accuracy is a count of correct predictions, not a fraction",
        "Divide the number of correct predictions by N.",
    ),
    _train_mistake(
        "velocity_reset",
        "the velocity was reset to zeros instead of continuing from the `velocity` passed in",
        "Use the velocity dict you are given (and update it in place): momentum carries over "
        "from one epoch to the next.",
    ),
)


@single_threaded
def check_train_epoch(fn: Callable[..., Any], *, layers: Layers | None = None) -> None:
    """Exercise 6.7: train_epoch(params, velocity, X, y, layers, *, batch_size, lr, momentum,
    weight_decay, rng, forward, backward, step) -> {"loss", "acc"}.

    torch stand-ins are passed as forward, backward and step, so this check grades the loop
    itself; the expected values come from the same epoch in plain PyTorch.
    """
    __tracebackhide__ = True
    rec = _Recorder(layers or LAYERS)
    spy = _Spy()
    cases = _train_cases()

    def run(params, velocity, X, y, *, batch_size, seed, lr, momentum, weight_decay, part=None):
        rec.start(params)
        result = fn(
            params,
            velocity,
            X,
            y,
            rec.layers,
            batch_size=batch_size,
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
            rng=np.random.default_rng(seed),
            forward=spy.forward,
            backward=spy.backward,
            step=spy.step,
        )
        if not isinstance(result, Mapping) or "loss" not in result or "acc" not in result:
            raise _BadReturnError(result)
        return (float(result["loss"]), float(result["acc"]), _fingerprint(params))[part]

    first = cases[0]
    try:
        run(*copy.deepcopy(first.args), **{**first.kwargs, "part": 0})
    except NotImplementedError as exc:
        raise not_implemented("train_epoch", exc, first.label) from None
    except _BadReturnError as bad:
        raise CheckFailed(
            f"train_epoch returned {bad.args[0]!r}; return a dict with the epoch's mean "
            "loss and accuracy: {'loss': ..., 'acc': ...}.",
            mistake="wrong_return",
        ) from None
    except Exception as exc:
        raise raised("train_epoch", exc, first.label) from exc
    _require_injected("train_epoch", spy, ("forward", "backward", "step"))
    if rec.loss_calls == 0:
        raise CheckFailed(
            "train_epoch never called layers.softmax_cross_entropy. Compute each batch's loss "
            "and dlogits with the `layers` you are given.",
            mistake="ignores_layers",
        )
    try:
        check(
            run,
            name="train_epoch",
            cases=cases,
            mistakes=TRAIN_MISTAKES,
            pointer=POINTER_TRAIN,
            quiet=True,
        )
    except CheckFailed as err:
        if isinstance(err.__cause__, _BadReturnError):
            raise CheckFailed(
                "train_epoch must return {'loss': ..., 'acc': ...}.", mistake="wrong_return"
            ) from None
        raise
    _passed("train_epoch", cases, "; loss, accuracy and parameters match PyTorch's epoch")


class _BadReturnError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Exercise 6.8: evaluate
# ---------------------------------------------------------------------------------------


def _torch_eval(params, X, y, *, batch_size, variant=None) -> tuple[float, float]:
    """(loss, acc) over the batches in order, the parameters unchanged: an epoch at lr 0."""
    return _torch_epoch(
        params,
        {},
        X,
        y,
        batch_size=batch_size,
        lr=0.0,
        momentum=0.0,
        weight_decay=0.0,
        seed=None,
        variant=variant,
    )[:2]


def _eval_cases() -> list[Case]:
    rng = np.random.default_rng(68)
    cases = []
    # (label, N, batch size, seed, scale of fc3): fc3 × 30 puts logits above 709, where
    # np.exp overflows, so the softmax must shift each row first.
    # The last case leaves `forward` out: evaluate must fall back on lenet_forward.
    for label, N, B, seed, fc3 in [
        ("7 images in batches of 3 (the last one has 1)", 7, 3, 5, 1),
        ("10 images in one batch", 10, 500, 6, 1),
        ("5 images with logits hundreds apart, some above 709, in batches of 2", 5, 2, 7, 30),
        ("6 images in batches of 4, `forward` not given (lenet_forward by default)", 6, 4, 8, 1),
    ]:
        default = "not given" in label
        params = _default_init(seed, scale=3.0)
        params["fc3.weight"], params["fc3.bias"] = (
            params["fc3.weight"] * fc3,
            params["fc3.bias"] * fc3,
        )
        X = rng.standard_normal((N, 1, 28, 28))
        y = _some_right_labels(params, X, rng)
        for part, value in enumerate(_torch_eval(params, X, y, batch_size=B)):
            what, key = [("the loss", "loss"), ("the accuracy", "acc")][part]
            cases.append(
                _LeNetCase(
                    f"{label}: {what}",
                    (params, X, y),
                    value,
                    {"batch_size": B, "part": part, "default_forward": default},
                    shown=f"evaluate(params, X, y, layers, batch_size={B})['{key}']",
                )
            )
    return cases


def _eval_mistake(key, says, hint, parts=(0, 1)) -> Mistake:
    """`parts`: the outputs the mistake decides (the loss 0, the accuracy 1); on another
    it says nothing (None), neither right nor wrong."""

    def wrong(case):
        if case.kwargs["part"] not in parts:
            return None
        params, X, y = case.args
        values = _torch_eval(params, X, y, batch_size=case.kwargs["batch_size"], variant=key)
        return values[case.kwargs["part"]]

    return Mistake(key, says, hint, wrong)


EVAL_MISTAKES = (
    _eval_mistake(
        "last_batch_dropped",
        "the last, smaller batch was skipped",
        "Loop `for start in range(0, N, batch_size)`; every example counts.",
    ),
    _eval_mistake(
        "loss_not_divided",
        "the loss is a sum over the batches, not a mean over the examples",
        "Add loss * len(batch) per batch and divide the total by N.",
    ),
    _eval_mistake(
        "loss_mean_of_batch_means",
        "the loss is the plain mean of the batch losses (a small last batch counts as much "
        "as a full one)",
        "Weight each batch's loss by its size, then divide by N.",
        parts=(0,),  # the accuracy may be averaged the same way, or not
    ),
    _eval_mistake(
        "softmax_unshifted",
        "the loss was computed from np.exp(logits) without subtracting each row's maximum "
        "first: a logit above 709 overflows to inf, and inf / inf is nan",
        "Let layers.softmax_cross_entropy compute the loss (it shifts each row by its "
        "maximum), or subtract logits.max(axis=1, keepdims=True) before np.exp.",
    ),
    _eval_mistake(
        "acc_count",
        "the accuracy is a count, not a fraction",
        "Divide the number of correct predictions by N.",
    ),
)


@single_threaded
def check_evaluate(fn: Callable[..., Any], *, layers: Layers | None = None) -> None:
    """Exercise 6.8: evaluate(params, X, y, layers, *, batch_size, forward) -> {"loss", "acc"}
    without changing the parameters."""
    __tracebackhide__ = True
    rec = _Recorder(layers or LAYERS)
    spy = _Spy()
    cases = _eval_cases()

    def run(params, X, y, *, batch_size, part, default_forward=False):
        before = {k: np.array(v, copy=True) for k, v in params.items()}
        given = dict(params)
        rec.start(params)
        if default_forward:  # the notebook's lenet_forward is a known-good one meanwhile
            # (a spy of its own: `_require_injected` counts calls of the given forward only)
            with names_in(fn, lenet_forward=_Spy().forward):
                result = fn(params, X, y, rec.layers, batch_size=batch_size)
        else:
            result = fn(params, X, y, rec.layers, batch_size=batch_size, forward=spy.forward)
        if entries_replaced(given, params):
            raise _ReplacedError()
        if any(not np.array_equal(before[k], params[k]) for k in before):
            raise _ChangedError()
        if not isinstance(result, Mapping) or "loss" not in result or "acc" not in result:
            raise _BadReturnError(result)
        return (float(result["loss"]), float(result["acc"]))[part]

    try:
        check(
            run,
            name="evaluate",
            cases=cases,
            mistakes=EVAL_MISTAKES,
            pointer="evaluate runs the forward pass batch by batch and averages the "
            "loss over all N examples; it never updates the parameters.",
            quiet=True,
        )
    except CheckFailed as err:
        cause = err.__cause__
        if isinstance(cause, _ChangedError):
            raise CheckFailed(
                "evaluate changed the parameters. Evaluation only runs forward passes: no "
                "backward, no step.",
                mistake="updates_params",
            ) from None
        if isinstance(cause, _ReplacedError):
            raise CheckFailed(
                "evaluate put new arrays into (or took arrays out of) the params dict it was "
                "given, so the caller's model changed: with float32 images, params[name] = "
                "params[name].astype(X.dtype) turns the caller's float64 weights into rounded "
                "float32 ones. Leave the dict alone; convert into local variables or a new dict "
                "if you must.",
                mistake="params_replaced",
            ) from None
        if isinstance(cause, _BadReturnError):
            raise CheckFailed(
                f"evaluate returned {cause.args[0]!r}; return {{'loss': ..., 'acc': ...}}.",
                mistake="wrong_return",
            ) from None
        raise
    _require_injected("evaluate", spy, ("forward",))
    _passed("evaluate", cases, "; parameters unchanged")


def _require_injected(name: str, spy: _Spy, parts: tuple[str, ...]) -> None:
    """The functions the exercise was given (forward, backward, step) must be the ones it
    calls: the hidden tests pass reference versions there, so that a mistake in an earlier
    exercise is not counted twice."""
    __tracebackhide__ = True
    calls = {part: getattr(spy, f"{part}_calls") for part in parts}
    if all(calls.values()):
        return
    listed = ", ".join(f"{part} {n}" for part, n in calls.items())
    named = ", ".join(f"{part}(...)" for part in parts)
    which = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
    raise CheckFailed(
        f"{name} did not call the {which} function{'s' * (len(parts) > 1)} it "
        f"was given (calls: {listed}). Keep the first lines of the template (forward = "
        f"forward or lenet_forward, ...) and call {named}, not lenet_forward by name: the "
        "hidden tests pass reference versions there, so that a mistake in an earlier "
        "exercise is not counted twice.",
        mistake="ignores_injected_functions",
    )


class _ChangedError(Exception):
    pass


class _ReplacedError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Exercise 6.9: the training run
# ---------------------------------------------------------------------------------------


def _accuracy(params: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> float:
    torch = _torch()
    model = _oracle.TorchLeNet5()  # float32, like the training
    model.load_state_dict({k: torch.tensor(np.asarray(params[k], np.float32)) for k in PARAM_NAMES})
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), 1000):
            logits = model(torch.tensor(np.asarray(X[start : start + 1000], np.float32)))
            correct += int((logits.argmax(1).numpy() == y[start : start + 1000]).sum())
    return correct / len(y)


@single_threaded
def check_training(
    params: Mapping[str, Any],
    history: Sequence[Mapping[str, float]],
    X_held: np.ndarray,
    y_held: np.ndarray,
    *,
    quick: bool | None = None,
) -> None:
    """Exercise 6.9: the trained LeNet learned.

    The training loss fell over the epochs, and the accuracy of `params` on the held-out
    digits (recomputed here with torch, whatever the history says) reaches
    ``ACCURACY_FULL`` (``ACCURACY_QUICK`` in the autograder's quick run).

    Returns:
        The held-out accuracy.
    """
    __tracebackhide__ = True
    quick = quick_mode() if quick is None else quick
    need = ACCURACY_QUICK if quick else ACCURACY_FULL
    if not history:
        raise CheckFailed(
            "There is no training history: the training cell of section 9 has not finished an "
            "epoch. If it stopped at an exercise that is not implemented yet, finish that "
            "exercise and run the training cell again.",
            mistake="not_trained",
        )
    losses = [float(h.get("loss", h.get("train_loss", np.nan))) for h in history]
    if not np.all(np.isfinite(losses)):
        raise CheckFailed(
            f"The training loss became {losses[-1]} (inf or NaN): the numbers blew up. "
            "Look for the cause in this order: a softmax that overflows (np.exp of a large "
            "logit is inf: subtract each row's max; the check of Exercise 6.5 says so), an "
            "update with the wrong sign (sgd_step must step against the gradient, "
            "p -= lr * v: a wrong sign climbs the loss), a loss summed instead of averaged "
            "(softmax_cross_entropy divides by N). If all three are right, the steps are "
            "too large: lower the learning rate.",
            mistake="diverged",
        )
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise CheckFailed(f"params has no {missing}.", mistake="wrong_keys")
    acc = _accuracy(params, X_held, y_held)
    chance = acc < 0.2
    if len(losses) >= 2 and not losses[-1] < losses[0]:
        raise CheckFailed(
            f"The training loss did not fall: {fmt(losses[0])} after the first epoch, "
            f"{fmt(losses[-1])} after the last. Check the learning rate and the sign of the "
            "update (p -= lr * v).",
            mistake="loss_not_falling",
        )
    if acc < need:
        why = (
            " That is chance level (1 in 10): are the images and labels shuffled with the "
            "same permutation, and are the parameters really updated in place?"
            if chance
            else " Train longer, or check the learning rate."
        )
        raise CheckFailed(
            f"Held-out accuracy {acc:.1%} is below the {need:.0%} this run should reach.{why}",
            mistake="chance_accuracy" if chance else "low_accuracy",
        )
    print(
        f"✓ training: the loss fell from {losses[0]:.3f} to {losses[-1]:.3f}; held-out "
        f"accuracy {acc:.1%} on {len(y_held):,} digits (at least {need:.0%} needed)."
    )


def require_training(history: Sequence[Mapping[str, float]] | None) -> None:
    """Stop a cell that needs the trained network when the training has not run.

    Raises:
        CheckFailed: `history` is empty: the training cell stopped (most likely at
            an exercise not done yet) or was not run.
    """
    __tracebackhide__ = True
    if not history:
        raise CheckFailed(
            "There is no trained network yet: the training cell of section 9 stopped before "
            "the end of its first epoch (an exercise it needs is not implemented yet), or it "
            "has not been run. Finish Exercises 6.2 to 6.8 and run it again.",
            mistake="not_trained_yet",
        )


# ---------------------------------------------------------------------------------------
# Exercises 6.10 and 6.11: receptive fields and AlexNet
# ---------------------------------------------------------------------------------------


RF_HINTS = {
    "conv1": "One conv1 unit reads one 5×5 window of the (padded) input.",
    "pool1": "A pool1 unit takes the max of a 2×2 block of conv1 units whose windows start "
    "one pixel apart: r = r_prev + (k - 1) * j with jump j = 1.",
    "conv2": "conv2 reads 5×5 pool1 units, and neighbouring pool1 units are 2 input pixels "
    "apart (the jump after one stride-2 pool): r = r_prev + (5 - 1) * 2.",
    "pool2": "pool2 takes a 2×2 block of conv2 units, 2 input pixels apart.",
}
RF_PARTS = tuple(
    Part(d, RF_HINTS[k], says=f"your {k} value, {{}}, is not right.", show=fmt)
    for k, d in RF_DIGESTS.items()
)


def check_receptive_field_quiz(answer: Any) -> None:
    """Quiz: receptive field (rows = columns) of one unit after conv1, pool1, conv2, pool2."""
    __tracebackhide__ = True
    question = "The receptive-field quiz (conv1, pool1, conv2, pool2)"
    check_quiz(answer, question, RF_PARTS, numbers(question, "four numbers", 4))


def check_alexnet_quiz(answer: Any) -> None:
    """Quiz: the parameters of lecture 003's AlexNet table (weights and biases)."""
    __tracebackhide__ = True
    hint = (
        "Add C_out*(C_in*K*K + 1) for the five conv layers (C_in is the previous layer's "
        "depth: 3, 96, 256, 384, 384) and out*(in + 1) for FC6, FC7 and FC8, where FC6's "
        "input is MAX POOL3's 6×6×256 output. Pooling and normalisation layers have no "
        "parameters."
    )
    question = "The AlexNet quiz (parameters of lecture 003's table)"
    check_quiz(answer, question, [Part(ALEXNET_DIGEST, hint, show=fmt)])
