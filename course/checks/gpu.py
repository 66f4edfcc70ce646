"""Visible checks for assignment 07_gpu (LeNet in PyTorch, on a GPU when there is one).

    from course.checks import gpu as checks
    checks.check_make_lenet_torch(make_lenet_torch)
    checks.check_quiz_work(answer_work)
    checks.check_load_numpy_params(load_numpy_params, device)
    checks.check_train_epoch_torch(train_epoch_torch, device)
    checks.check_evaluate_torch(evaluate_torch, device)
    checks.check_trained_model(model, X_test, y_test, device)

and the diagnostic tools of `course.checks.diagnostics` (not graded; they cross-check your
numpy code of assignments 5 and 6 against torch autograd, in float64 on the device you pick):

    checks.cross_check_conv2d(conv2d_forward, conv2d_backward, device)
    checks.cross_check_lenet(params, lenet_forward, lenet_backward, layers, x, y, device)
    layers = checks.use_layers_that_pass(layers_from(globals(), fallback=LAYERS))

Where the expected values come from:

* the LeNet logits: lecture 002's network (`_oracle.TorchLeNet5`, the one the checks of
  assignment 6 use too), in float64;
* one epoch of SGD and an evaluation: a linear softmax classifier, whose gradient has the
  closed form (softmax(z) - onehot(y)) / B, computed here with numpy. A known mistake in a
  training loop (gradients that accumulate, a summed loss, ...) is recognised by the
  parameters it produces, computed with the same closed form.

Each check runs on the device you pass (default: the CPU). A batch left on the CPU while
the model is on the device is named on any machine: on a GPU torch raises, and on a
CPU-only one `DeviceWatch` tracks where each tensor would be. Checks run torch on one CPU thread:
their tensors are tiny, and threads that wait for each other on a busy machine (an
autograder) would make them many times slower.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from course.checks import _oracle
from course.checks._core import (
    TRACEBACK_HINT,
    Case,
    CheckFailed,
    Mistake,
    Part,
    answer_digest,
    check,
    check_quiz,
    entries_replaced,
    fmt,
    not_implemented,
    passed,
    raised,
    require_raise,
)
from course.checks._oracle import LAYERS_WITH_PARAMS, PARAM_SHAPES, numpy64, t64
from course.checks.diagnostics import (
    CONV_CASES,
    cross_check_conv2d,
    cross_check_lenet,
    numpy_lenet_ready,
    use_layers_that_pass,
)
from course.checks.lenet import _default_init
from course.torch_layers import single_threaded

__all__ = [
    "CONV_CASES",
    "N_PARAMS",
    "PARAM_SHAPES",
    "check_evaluate_torch",
    "check_load_numpy_params",
    "check_make_lenet_torch",
    "check_quiz_work",
    "check_train_epoch_torch",
    "check_trained_model",
    "cross_check_conv2d",
    "cross_check_lenet",
    "numpy_lenet_ready",
    "use_layers_that_pass",
]

N_PARAMS = 61_706  # docs/design.md, checked against torch
#: The settings of `_oracle.lenet_logits` that make each variant of make_lenet_torch.
VARIANT_SETTINGS = {
    "relu-max": {"act": "relu", "pool": "max"},
    "sigmoid-avg": {"act": "sigmoid", "pool": "avg"},
}
VARIANTS = tuple(VARIANT_SETTINGS)

# Digests of the quiz answers (course.checks.answer_digest); the answers are not stored.
QUIZ_LAYER_DIGEST = "0de71918a31335ca"
QUIZ_TOTAL_DIGEST = "2b8e82d584546dc4"

POINTER_MODEL = (
    "Revisit lecture 002's 'LeNet in PyTorch': conv1 (1→6, 5×5, padding 2) → activation → "
    "2×2 pooling → conv2 (6→16, 5×5) → activation → 2×2 pooling → flatten (16·5·5 = 400) → "
    "fc1 400→120 → activation → fc2 120→84 → activation → fc3 84→10, raw logits out."
)
POINTER_LOAD = (
    "Each numpy array params[name] must end up, unchanged, in the torch parameter of the "
    "same name, in float64 and on the model's device."
)
POINTER_TRAIN = (
    "Revisit the training loop: for each batch, move x and y to the device, "
    "opt.zero_grad(), logits = model(x), loss = F.cross_entropy(logits, y) (the batch mean), "
    "loss.backward(), opt.step()."
)
POINTER_EVAL = (
    "evaluate_torch runs the model under torch.no_grad() on every batch and returns the loss "
    "and the accuracy averaged over all examples (a batch of 3 counts 3 times less than a "
    "batch of 9)."
)


# ---------------------------------------------------------------------------------------
# The oracle: lecture 002's LeNet (`_oracle.TorchLeNet5`) and the inputs
# ---------------------------------------------------------------------------------------


def _lenet_logits(
    p: Mapping[str, torch.Tensor], x: torch.Tensor, variant: str = "relu-max", **wrong: Any
) -> torch.Tensor:
    """LeNet's logits with parameters `p`; the keyword arguments form the known mistakes."""
    return _oracle.lenet_logits(p, x, **{**VARIANT_SETTINGS[variant], **wrong})


def _random_params(seed: int, dtype=np.float64) -> dict[str, np.ndarray]:
    """LeNet parameters of torch's default scale, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return {k: v.astype(dtype) for k, v in _default_init(seed).items()}


def _digits(seed: int, n: int) -> np.ndarray:
    """n random 28×28 "images" (N, 1, 28, 28), float64, roughly normalised pixels."""
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28))


# ---------------------------------------------------------------------------------------
# Calling the student's code
# ---------------------------------------------------------------------------------------

DEVICE_WORDS = ("same device", "expected device", "on device", "device type")
DTYPE_WORDS = ("dtype", "Double", "Float", "same type", "scalar type")


def _call(fn: Callable, name: str, label: str, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function; turn its exceptions into one clear CheckFailed."""
    __tracebackhide__ = True
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise not_implemented(name, exc, label) from None
    except CheckFailed:
        raise
    except Exception as exc:
        text = str(exc)
        mistake, hint = "raised", TRACEBACK_HINT
        if isinstance(exc, RuntimeError) and "leaf Variable that requires grad" in text:
            mistake = "copy_outside_no_grad"
            hint = (
                "Parameters are leaves that autograd tracks; an in-place copy_ into them is "
                "only allowed inside `with torch.no_grad():`, which says 'this is not part of "
                "the computation to differentiate'."
            )
        elif isinstance(exc, RuntimeError) and any(w in text for w in DEVICE_WORDS):
            mistake = "different_devices"
            hint = (
                "Two tensors of one operation live on different devices. Move every batch "
                "to the model's device before the forward pass: x = torch.as_tensor(x, "
                "device=device), and the labels too."
            )
        elif isinstance(exc, RuntimeError) and any(w in text for w in DTYPE_WORDS):
            mistake = "dtype_mismatch"
            hint = (
                "Two tensors of one operation have different dtypes: images in float32 and "
                "parameters in float64 (or the reverse), or labels that are not integers. "
                "torch.as_tensor(x, device=device) keeps the numpy array's dtype, so do not "
                "force one in this function; F.cross_entropy needs int64 labels."
            )
        raise raised(name, exc, label, hint, mistake) from exc


_ON_DEVICE = "_course_on_device"  # the tag DeviceWatch puts on a tensor it counts as moved
#: Operations that a GPU allows between devices (indexing with CPU indices, copies, moves)
#: or that only read: DeviceWatch never calls them a mix.
_MIX_ALLOWED = frozenset(
    {"__getitem__", "__setitem__", "copy_", "to", "cpu", "cuda", "numpy", "item", "tolist",
     "__get__", "__set__", "__repr__", "__format__", "__len__", "__iter__", "size", "dim",
     "numel", "backward", "detach", "clone", "__bool__", "__index__", "__float__", "__int__"}
)  # fmt: skip
_MOVES = frozenset({"to", "cuda", "as_tensor", "tensor", "asarray"})


def _tensors_in(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors_in(v)]
    return []


class DeviceWatch(torch.overrides.TorchFunctionMode):
    """Where the tensors would be on an accelerator, on a machine that has none.

    On a CPU-only machine a batch that was never moved to `device` gives the same numbers
    as one that was, so a check cannot see the mistake in the results. Inside this mode
    every tensor carries a tag: on `device` (the watched objects' parameters, a tensor
    moved with .to(device) / .cuda() or made with device=device, anything computed from
    one of these) or not (made on the CPU: torch.from_numpy, a factory without device=).
    An operation that would mix the two on a GPU, where it raises "Expected all tensors
    to be on the same device", is recorded in `mixes` (its name and the operands' shapes).
    Indexing, copies and 0-dim CPU tensors are allowed to mix, as on a GPU. A move that
    returns its input unchanged (x.to("cpu") of a CPU tensor) returns a view instead, so
    that `x.to(device)` without `x = ` leaves x untagged, as it leaves x on the CPU there."""

    def __init__(self, device: Any, on: Sequence[Any] = ()) -> None:
        super().__init__()
        self.device = torch.device(device)
        self.mixes: list[str] = []
        for obj in on:
            tensors = [*obj.parameters(), *obj.buffers()] if isinstance(obj, nn.Module) else [obj]
            for t in tensors:
                setattr(t, _ON_DEVICE, True)

    def _moves_here(self, name: str, args: tuple, kwargs: dict) -> bool | None:
        """For a move or a factory: whether its result is on the watched device (None: not
        a call that says where its result goes)."""
        if name == "cuda":
            return True
        where = kwargs.get("device")
        if where is None and name == "to":
            where = next((a for a in args[1:] if isinstance(a, (str, torch.device))), None)
            other = next((a for a in args[1:] if isinstance(a, torch.Tensor)), None)
            if where is None and other is not None:
                return bool(getattr(other, _ON_DEVICE, False))
        if where is None:
            return None
        try:
            return torch.device(where) == self.device
        except (RuntimeError, TypeError):
            return False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        inputs = _tensors_in(list(args)) + _tensors_in(list(kwargs.values()))
        tagged = [bool(getattr(t, _ON_DEVICE, False)) for t in inputs]
        if name not in _MIX_ALLOWED and any(tagged):
            cpu = [t for t, on in zip(inputs, tagged, strict=True) if not on and t.dim() > 0]
            if cpu:
                shapes = " and ".join(str(tuple(t.shape)) for t in cpu)
                self.mixes.append(f"a tensor of shape {shapes} met one on `device` in {name}")
        result = func(*args, **kwargs)
        here = (
            self._moves_here(name, args, kwargs) if name in _MOVES or "device" in kwargs else None
        )
        if here is None:
            here = any(tagged)
        elif (
            here
            and isinstance(result, torch.Tensor)
            and any(result is t for t in inputs)
            and not getattr(result, _ON_DEVICE, False)
            and not isinstance(result, nn.Parameter)
            and not result.requires_grad
        ):
            result = result.view_as(result)  # a new object: the input stays where it was
        if name == "cpu" or (name == "numpy"):
            return result
        for t in _tensors_in(result):
            if here or not any(t is i for i in inputs):  # never untag an input in place
                setattr(t, _ON_DEVICE, here)
        return result

    def problem(self, name: str, label: str) -> CheckFailed | None:
        """The failure to report when an operation mixed devices, else None."""
        if not self.mixes:
            return None
        return CheckFailed(
            f"{name} left data on the CPU: {self.mixes[0]} (on {label}). On this CPU "
            "the numbers are the same, but on a GPU that line raises 'Expected all tensors to "
            "be on the same device'. Move each batch, images and labels, before the "
            "forward pass: x, y = torch.as_tensor(x, device=device), torch.as_tensor(y, "
            "device=device) (and assign the result: x.to(device) alone leaves x where it was).",
            mistake="not_on_device",
            case=label,
        )


# ---------------------------------------------------------------------------------------
# Exercise 7.1: make_lenet_torch
# ---------------------------------------------------------------------------------------


def _shape_hint(name: str, got: tuple[int, ...]) -> str:
    if name == "fc1.weight" and len(got) == 2 and got[1] == 256:
        return (
            " 256 = 16·4·4: without padding=2 in conv1 the 28×28 digit shrinks to 24×24 and "
            "the maps end at 4×4 instead of 5×5. Lecture 002 pads by 2 because LeNet-5 was "
            "designed for 32×32 inputs."
        )
    if name.startswith("fc") and len(got) == 2 and got[::-1] == PARAM_SHAPES[name]:
        return " nn.Linear(in_features, out_features) takes the input size first."
    if name.startswith("conv") and len(got) == 4 and got[:2][::-1] == PARAM_SHAPES[name][:2]:
        return " nn.Conv2d(in_channels, out_channels, kernel_size) takes the input channels first."
    return ""


def _check_structure(model: Any, variant: str) -> None:
    """Module type, parameter names and shapes, parameter count."""
    __tracebackhide__ = True
    call = f"make_lenet_torch(variant={variant!r})"
    if not isinstance(model, nn.Module):
        raise CheckFailed(
            f"{call} returned {type(model).__name__}, not a torch module. Return the "
            "nn.Sequential you built.",
            mistake="not_a_module",
            case=variant,
        )
    state = model.state_dict()
    keys = list(state)
    expected = list(PARAM_SHAPES)
    if keys != expected and sorted(keys) != sorted(expected):
        if keys and all(k.split(".")[0].isdigit() for k in keys):
            raise CheckFailed(
                f"{call}: the parameters are called {keys[:4]} ..., expected {expected[:4]} "
                "...\nIt looks like the layers of the nn.Sequential have no names: "
                "nn.Sequential(a, b, c) numbers them 0, 1, 2, .... Pass an OrderedDict of "
                "(name, layer) pairs instead, with the names conv1, conv2, fc1, fc2, fc3 of "
                "lecture 002's LeNet5 (the activations and poolings may have any names), so "
                "that the parameters are conv1.weight, conv1.bias, ..., fc3.bias, the names "
                "of the numpy LeNet of assignment 6.",
                mistake="unnamed_layers",
                case=variant,
            )
        missing = [k for k in expected if k not in state]
        extra = [k for k in keys if k not in PARAM_SHAPES]
        raise CheckFailed(
            f"{call}: the state_dict keys differ from LeNet's: missing {missing}, unexpected "
            f"{extra}. Name the layers conv1, conv2, fc1, fc2, fc3 and keep their biases.",
            mistake="wrong_names",
            case=variant,
        )
    for name, shape in PARAM_SHAPES.items():
        got = tuple(state[name].shape)
        if got != shape:
            raise CheckFailed(
                f"{call}: {name} has shape {got}, expected {shape}.{_shape_hint(name, got)}",
                mistake="wrong_shape",
                case=variant,
            )
    _check_no_shared_layers(model, call, variant)
    count = sum(p.numel() for p in model.parameters())
    if count != N_PARAMS:  # pragma: no cover - names and shapes above already pin it
        raise CheckFailed(f"{call} has {count:,} parameters, expected {N_PARAMS:,}.", case=variant)


def _check_no_shared_layers(model: nn.Module, call: str, variant: str) -> None:
    """One module object in two places of the Sequential: it computes the right logits,
    but named_children() (printing the model, walking it layer by layer, moving it)
    yields a shared object only once, so such code silently skips the second place."""
    __tracebackhide__ = True
    places: dict[int, list[str]] = {}
    for name, module in model._modules.items():  # every place, duplicates included
        if module is not None:
            places.setdefault(id(module), []).append(name)
    shared = [names for names in places.values() if len(names) > 1]
    if shared:
        names = shared[0]
        kind = type(model._modules[names[0]]).__name__
        where = " and ".join(repr(n) for n in names)
        raise CheckFailed(
            f"{call}: the places {where} hold the same nn.{kind} object, not two of them.\n"
            "It looks like one activation or pooling object was created once and used in "
            "several places. nn.Sequential then runs it in each place, but "
            "model.named_children() yields a shared module only once, so anything that "
            f"walks the model layer by layer (the next cell does) skips {names[-1]!r} and "
            "fails with a shape error far from here. Create a new object for each place: "
            f"nn.{kind}(...) once per activation or pooling in the OrderedDict.",
            mistake="shared_layer",
            case=variant,
        )


def _check_output_shape(model: nn.Module, variant: str) -> None:
    __tracebackhide__ = True
    call = f"make_lenet_torch(variant={variant!r})"
    for n in (1, 3):
        x = torch.zeros(n, 1, 28, 28, dtype=next(model.parameters()).dtype)
        with torch.no_grad():
            out = _call(model, call, f"a batch of {n} digit(s)", x)
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        if got != (n, 10):
            extra = ""
            if got == (10,):
                extra = (
                    " The batch axis was flattened away: use nn.Flatten() (start_dim=1), which "
                    "keeps N and flattens (16, 5, 5) into 400."
                )
            raise CheckFailed(
                f"{call} maps a batch of shape ({n}, 1, 28, 28) to {got}, expected "
                f"({n}, 10): one row of 10 logits per image.{extra}",
                mistake="wrong_output_shape",
                case=f"a batch of {n}",
            )


def _fixed_logits(model: nn.Module, setup: _ModelCase, *, training: bool = False) -> np.ndarray:
    """The model's logits in float64, with the case's fixed parameters and images."""
    model = model.to(torch.float64)
    params = _random_params(setup.seed)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    model.train(training)
    with torch.no_grad():
        return numpy64(model(t64(_digits(setup.seed + 1, setup.n))))


def _same_in_training(fn: Callable[..., nn.Module], setup: _ModelCase) -> None:
    """Lecture 002's LeNet computes the same logits in training mode as in evaluation
    mode: it has no dropout and no batch norm. An extra layer that acts only while
    training (nn.Dropout) is invisible to logits taken after model.eval()."""
    __tracebackhide__ = True
    model = fn(variant=setup.variant)
    trained, evaluated = (_fixed_logits(model, setup, training=t) for t in (True, False))
    if not np.allclose(trained, evaluated, rtol=1e-9, atol=1e-12):
        extra = sorted({type(m).__name__ for m in model.modules()} - _LENET_MODULES)
        raise CheckFailed(
            f"make_lenet_torch(variant={setup.variant!r}) gives other logits in training "
            "mode (model.train()) than in evaluation mode, on the same parameters and "
            f"images. Lecture 002's LeNet has no layer that acts only while training; yours "
            f"has {', '.join(extra) or 'one'}. Build exactly the lecture's layers.",
            mistake="layer_only_in_training",
            case=setup.variant,
        )


#: The module types of lecture 002's LeNet in either variant.
_LENET_MODULES = {"Sequential", "Conv2d", "Linear", "ReLU", "Sigmoid", "MaxPool2d", "AvgPool2d",
                  "Flatten"}  # fmt: skip


@dataclass(frozen=True)
class _ModelCase:
    """Which variant to build, and the seeds of the parameters and the input."""

    variant: str
    seed: int
    n: int
    default: bool = False  # call make_lenet_torch() without arguments

    def __repr__(self) -> str:
        return "" if self.default else f"variant={self.variant!r}"

    def logits(self, variant: str | None = None, **wrong: Any) -> np.ndarray:
        """The oracle's logits on this case (another `variant`, or `wrong` settings: a mistake)."""
        p = {k: t64(v) for k, v in _random_params(self.seed).items()}
        x = t64(_digits(self.seed + 1, self.n))
        return numpy64(_lenet_logits(p, x, variant or self.variant, **wrong))


def _model_case(label: str, variant: str, seed: int, n: int, *, default: bool = False) -> Case:
    setup = _ModelCase(variant, seed, n, default)
    return Case(label, (setup,), setup.logits())


def _model_mistake(key: str, says: str, hint: str, **wrong: Any) -> Mistake:
    def compute(case: Case):
        setup = case.args[0]
        return setup.logits(
            **{k: (v(setup.variant) if callable(v) else v) for k, v in wrong.items()}
        )

    return Mistake(key, says, hint, compute)


MAKE_LENET_MISTAKES = (
    _model_mistake(
        "wrong_activation",
        "the activation does not match the variant (ReLU for 'relu-max', sigmoid for "
        "'sigmoid-avg')",
        "Pick nn.ReLU() or nn.Sigmoid() from `variant`, after conv1, conv2, fc1 and fc2.",
        act=lambda v: "sigmoid" if v == "relu-max" else "relu",
    ),
    _model_mistake(
        "wrong_pooling",
        "the pooling does not match the variant (max for 'relu-max', average for 'sigmoid-avg')",
        "Use nn.MaxPool2d(2) for 'relu-max' and nn.AvgPool2d(2) for 'sigmoid-avg'.",
        pool=lambda v: "avg" if v == "relu-max" else "max",
    ),
    _model_mistake(
        "no_fc_activation",
        "there is no activation between the fully connected layers",
        "Lecture 002 applies the activation after fc1 and after fc2; without it, fc1, fc2 and "
        "fc3 collapse into one linear map.",
        no_act=frozenset({"fc1", "fc2"}),
    ),
    _model_mistake(
        "activation_after_fc3",
        "the model applies the activation after fc3 too",
        "fc3 returns raw logits (lecture 002: `x = self.fc3(x); return x`); "
        "F.cross_entropy applies the softmax itself.",
        head="act",
    ),
    _model_mistake(
        "softmax_at_the_end",
        "the model ends with a softmax, so it returns probabilities instead of logits",
        "Remove it: F.cross_entropy takes raw logits and applies log-softmax itself; a softmax "
        "before it squashes the gradients and slows training down.",
        head="softmax",
    ),
    _model_mistake(
        "log_softmax_at_the_end",
        "the model ends with a log-softmax",
        "That trains correctly with F.cross_entropy, but lecture 002's model (and your numpy "
        "LeNet, which this one is compared with) returns raw logits: end with fc3.",
        head="log_softmax",
    ),
    Mistake(
        "wrong_default",
        "make_lenet_torch() without arguments builds the 'sigmoid-avg' variant",
        'Keep the signature make_lenet_torch(variant="relu-max"): the lecture\'s model is '
        "the default.",
        lambda case: case.args[0].logits("sigmoid-avg") if case.args[0].default else None,
    ),
    _model_mistake(
        "flatten_channels_last",
        "the maps were flattened in (H, W, C) order instead of torch's (C, H, W)",
        "Use nn.Flatten() (or x.reshape(N, -1)) on the (N, 16, 5, 5) maps without permuting "
        "them: fc1's 400 inputs are ordered channel by channel, as in your numpy flatten.",
        flatten="nhwc",
    ),
)


def _unknown_variant_refused(fn: Callable[..., nn.Module]) -> None:
    """The docstring's Raises: a variant that is neither name (a typo) is a ValueError."""
    __tracebackhide__ = True
    require_raise(
        lambda: fn(variant="relu-avg"),
        "make_lenet_torch(variant='relu-avg')",
        ValueError,
        case="an unknown variant",
        key="unknown_variant",
        accepted="every variant that is not 'relu-max' is taken to be 'sigmoid-avg' (or the "
        "other way round), so a typo silently trains the other network",
        how="Check the name first, naming the two variants there are: "
        "`if variant not in ('relu-max', 'sigmoid-avg'): raise ValueError(...)`.",
    )


@single_threaded
def check_make_lenet_torch(fn: Callable[..., nn.Module]) -> None:
    """Exercise 7.1: make_lenet_torch(variant) builds lecture 002's LeNet with torch.nn."""
    __tracebackhide__ = True
    for variant in VARIANTS:
        model = _call(fn, "make_lenet_torch", variant, variant=variant)
        _check_structure(model, variant)
        _check_output_shape(model, variant)

    def logits(setup: _ModelCase) -> np.ndarray:
        return _fixed_logits(fn() if setup.default else fn(variant=setup.variant), setup)

    cases = [
        _model_case("'relu-max' with fixed parameters on 4 random images", "relu-max", 71, 4),
        _model_case("'sigmoid-avg' with fixed parameters on 3 random images", "sigmoid-avg", 72, 3),
        _model_case("'relu-max' on a single image", "relu-max", 73, 1),
        _model_case(
            "the default variant (the lecture's ReLU and max pooling)",
            "relu-max",
            74,
            2,
            default=True,
        ),
    ]
    check(
        logits,
        name="make_lenet_torch",
        cases=cases,
        mistakes=MAKE_LENET_MISTAKES,
        pointer=POINTER_MODEL,
        rtol=1e-9,
        atol=1e-12,
        quiet=True,
    )
    _same_in_training(fn, cases[0].args[0])
    _unknown_variant_refused(fn)
    labels = [
        "the names and shapes of the 10 parameters",
        f"{N_PARAMS:,} parameters",
        "output (N, 10)",
        "the logits of both variants and of the default, with fixed parameters",
        "ValueError for an unknown variant",
    ]
    count = 3 * len(VARIANTS) + len(cases) + 1
    passed("make_lenet_torch", labels, count, sep="; ")


# ---------------------------------------------------------------------------------------
# Exercise 7.2: quiz (multiplications per layer)
# ---------------------------------------------------------------------------------------


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


_MULTS_HINT = (
    "Add up the five layers (the activations and poolings do no multiplications; biases "
    "are additions)."
)
_COUNTED_PARAMS = (
    "{} is not the number of multiplications of one forward pass. "
    + _MULTS_HINT
    + " It looks like the parameters were counted instead: a convolution uses each weight at "
    "every output position."
)
#: The quiz's two parts: the layer with the most multiplications, and their total.
QUIZ_PARTS = (
    Part(
        QUIZ_LAYER_DIGEST,
        "A convolution computes C_out·H_out·W_out outputs, each a sum of C_in·KH·KW products; "
        "a linear layer does in·out multiplications. Work out all five before comparing.",
        says="{} is not the layer with the most multiplications per image.",
        show=lambda v: repr(str(v).strip()),
        norm=lambda v: str(v).strip().lower(),
    ),
    Part(
        QUIZ_TOTAL_DIGEST,
        _MULTS_HINT,
        says="{} is not the number of multiplications of one forward pass.",
        wrong={
            answer_digest(n): ("wrong_answer", _COUNTED_PARAMS)
            for n in (N_PARAMS, N_PARAMS - 6 - 16 - 120 - 84 - 10)  # with and without biases
        },
        show=fmt,
        norm=_as_float,
    ),
)


def check_quiz_work(answer: Any) -> None:
    """Quiz: the layer that does the most multiplications per image, and the number of
    multiplications of one forward pass. `answer` is (layer name, number)."""
    __tracebackhide__ = True
    question = "The quiz on LeNet's multiplications"

    def split(answer: Any) -> list:
        parts = list(answer) if isinstance(answer, (tuple, list)) else []
        if len(parts) != 2 or str(parts[0]).strip().lower() not in LAYERS_WITH_PARAMS:
            raise CheckFailed(
                f"{question}: expected a layer name among {list(LAYERS_WITH_PARAMS)} and a "
                f"number, got {answer!r}.",
                mistake="wrong_answer",
            )
        return parts

    check_quiz(answer, question, QUIZ_PARTS, split)


# ---------------------------------------------------------------------------------------
# Exercise 7.3: load_numpy_params
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LoadCase:
    seed: int  # parameters and input
    init_seed: int  # torch.manual_seed of the model the student loads into
    dtype: str  # dtype of the numpy arrays: "float64" or "float32"
    n: int = 3

    def params(self) -> dict[str, np.ndarray]:
        return _random_params(self.seed, np.dtype(self.dtype))

    def __repr__(self) -> str:
        return f"<a float32 LeNet>, <{self.dtype} params>"


def _fresh_lenet(init_seed: int, device: Any) -> nn.Module:
    torch.manual_seed(init_seed)
    return _oracle.TorchLeNet5().to(device)


def _load_case(label: str, seed: int, init_seed: int, dtype: str) -> Case:
    setup = _LoadCase(seed, init_seed, dtype)
    p = {k: t64(v) for k, v in setup.params().items()}
    expected = numpy64(_lenet_logits(p, t64(_digits(seed + 1, setup.n))))
    return Case(label, (setup,), expected)


def _load_mistake(key: str, says: str, hint: str, which: Callable[[str, str], str]) -> Mistake:
    """`which(name, dtype)` says where each parameter's value comes from in the wrong model:
    "init" (the model's own initial value), "f32" (rounded to float32) or "ok"."""

    def compute(case: Case):
        setup = case.args[0]
        init = {
            k: v.detach().double()
            for k, v in _fresh_lenet(setup.init_seed, "cpu").named_parameters()
        }
        p = {}
        for name, value in setup.params().items():
            how = which(name, setup.dtype)
            if how == "init":
                p[name] = init[name]
            elif how == "f32":
                p[name] = t64(value.astype(np.float32))
            else:
                p[name] = t64(value)
        return numpy64(_lenet_logits(p, t64(_digits(setup.seed + 1, setup.n))))

    return Mistake(key, says, hint, compute)


LOAD_MISTAKES = (
    _load_mistake(
        "not_loaded",
        "the model still has its own random initial parameters: nothing was copied into it",
        "Copy each array into the parameter of the same name, e.g. inside torch.no_grad(): "
        "param.copy_(tensor), or model.load_state_dict({...}); then return the model.",
        lambda name, dtype: "init",
    ),
    _load_mistake(
        "biases_not_loaded",
        "the weights were copied but the biases kept their initial values",
        "params holds a .bias array for every layer too (10 arrays in all): copy every name.",
        lambda name, dtype: "init" if name.endswith(".bias") else "ok",
    ),
    _load_mistake(
        "weights_not_loaded",
        "the biases were copied but the weights kept their initial values",
        "params holds a .weight array for every layer too (10 arrays in all): copy every name.",
        lambda name, dtype: "init" if name.endswith(".weight") else "ok",
    ),
    _load_mistake(
        "loaded_before_float64",
        "the arrays were copied into the float32 model and the model was converted to float64 "
        "afterwards, so every value was rounded to float32 (7 significant digits) on the way",
        "Convert first, copy second: model.to(torch.float64), then copy the float64 arrays. "
        "The cross-check compares to 1e-12, far below float32's rounding (1e-7).",
        lambda name, dtype: "f32",
    ),
)


def _check_loaded_model(
    fn: Callable, setup: _LoadCase, device: torch.device, label: str
) -> nn.Module:
    """Call load_numpy_params once and check what values alone cannot show."""
    __tracebackhide__ = True
    model = _fresh_lenet(setup.init_seed, device)
    params = setup.params()
    given = dict(params)
    try:
        out = _call(fn, "load_numpy_params", label, model, params)
    except CheckFailed as err:
        if err.mistake == "raised" and _accepts_transposed(fn, setup, device):
            raise CheckFailed(
                f"load_numpy_params raised on {label}, but accepts the same parameters with "
                "every fc weight transposed.\nIt looks like you transpose the linear weights "
                "(numpy (in, out) → torch (out, in)). Your numpy LeNet already stores them as "
                "(out_features, in_features), torch's layout (fc1.weight is (120, 400)), so "
                "copy every array as it is.",
                mistake="transposed_weights",
                case=label,
            ) from None
        raise
    _caller_dict_kept("load_numpy_params", given, params, label)
    if out is None:
        raise CheckFailed(
            "load_numpy_params returned None. Did you forget `return model`?",
            mistake="returned_none",
            case=label,
        )
    if not isinstance(out, nn.Module):
        raise CheckFailed(
            f"load_numpy_params returned {type(out).__name__}; return the model itself.",
            mistake="not_a_module",
            case=label,
        )
    named = dict(out.named_parameters())
    wrong_dtype = [n for n, t in named.items() if t.dtype != torch.float64]
    if wrong_dtype:
        dtype = named[wrong_dtype[0]].dtype
        raise CheckFailed(
            f"After load_numpy_params, {wrong_dtype[0]} is {dtype}, expected torch.float64 "
            f"(on {label}).\nIt looks like the model was kept in {dtype}: copying a float64 "
            "array into a float32 parameter rounds it to 7 digits, and the forward pass of a "
            "float64 batch then fails with a dtype error. Call model.to(torch.float64) first.",
            mistake="kept_float32",
            case=label,
        )
    wrong_device = [n for n, t in named.items() if not _same_device(t.device, device)]
    if wrong_device:
        raise CheckFailed(
            f"After load_numpy_params, {wrong_device[0]} is on "
            f"{named[wrong_device[0]].device}, but the model was on {device} (on {label}).\n"
            "It looks like the tensors made from numpy (which live on the CPU) replaced the "
            "parameters instead of being copied into them. Move them with .to(device) or copy "
            "with param.copy_(tensor), which keeps the parameter where it is.",
            mistake="different_devices",
            case=label,
        )
    not_leaf = [n for n, t in named.items() if not (t.is_leaf and t.requires_grad)]
    if not_leaf:
        raise CheckFailed(
            f"After load_numpy_params, {not_leaf[0]} does not require a gradient (on "
            f"{label}), so autograd cannot compute it.\nCopy inside `with torch.no_grad():` "
            "with param.copy_(...) (or use model.load_state_dict), which keeps the "
            "parameters trainable.",
            mistake="params_not_trainable",
            case=label,
        )
    # A copy, not a view: training the torch model must not edit the numpy arrays.
    before = {n: t.detach().clone() for n, t in named.items()}
    for array in params.values():
        array += 1.0
    shared = [n for n, t in named.items() if not torch.equal(t.detach(), before[n])]
    if shared:
        raise CheckFailed(
            f"After load_numpy_params, {shared[0]} shares its memory with the numpy array "
            f"params[{shared[0]!r}] (on {label}): changing the array changed the model.\n"
            "torch.from_numpy makes a view, not a copy, and .to() returns the same tensor "
            "when nothing changes. Copy into the existing parameter (param.copy_(...)) so "
            "that training one model cannot silently edit the other.",
            mistake="shares_numpy_memory",
            case=label,
        )
    return out


def _caller_dict_kept(name: str, given: dict, params: dict, label: str) -> None:
    """The caller's dict of numpy arrays still holds the very arrays it was given."""
    __tracebackhide__ = True
    replaced = entries_replaced(given, params)
    if replaced:
        k = replaced[0]
        old, new = given.get(k), params.get(k)
        change = (
            f" (a {old.dtype} array became {getattr(new, 'dtype', type(new).__name__)})"
            if old is not None and new is not None and getattr(new, "dtype", None) != old.dtype
            else ""
        )
        raise CheckFailed(
            f"{name} changed the caller's params dict (on {label}): params[{k!r}] is no "
            f"longer the array it was given{change}.\nIt looks like a converted copy was "
            "written back, e.g. params[name] = np.asarray(params[name], dtype=...). That edits "
            "the caller's parameters as a side effect. Convert into a local variable instead: "
            "array = np.asarray(params[name], dtype=np.float64).",
            mistake="caller_dict_changed",
            case=label,
        )


def _same_device(a: torch.device, b: torch.device) -> bool:
    """cuda and cuda:0 are the same device when the current device is 0."""
    if a.type != b.type:
        return False
    default = torch.cuda.current_device() if a.type == "cuda" else 0
    index_a = default if a.index is None else a.index
    index_b = default if b.index is None else b.index
    return index_a == index_b


def _accepts_transposed(fn: Callable, setup: _LoadCase, device: torch.device) -> bool:
    params = setup.params()
    for name in params:
        if name.startswith("fc") and name.endswith(".weight"):
            params[name] = params[name].T.copy()
    try:
        fn(_fresh_lenet(setup.init_seed, device), params)
    except Exception:
        return False
    return True


def _check_load_errors(fn: Callable, device: torch.device) -> list[str]:
    """A missing name or a wrong shape must be an error naming the tensor."""
    __tracebackhide__ = True
    params = _random_params(5)
    bad_cases = []
    missing = dict(params)
    del missing["fc3.bias"]
    bad_cases.append(("fc3.bias", "a params dict without fc3.bias", missing, ()))
    transposed = dict(params)
    transposed["fc1.weight"] = params["fc1.weight"].T.copy()
    label = "fc1.weight transposed to (400, 120)"
    bad_cases.append(("fc1.weight", label, transposed, ((400, 120), (120, 400))))
    broadcast = dict(params)
    broadcast["conv1.bias"] = params["conv1.bias"][:1].copy()
    label = "conv1.bias of shape (1,) instead of (6,)"
    bad_cases.append(("conv1.bias", label, broadcast, ((1,), (6,))))
    labels = []
    for name, label, bad, shapes in bad_cases:
        model = _fresh_lenet(0, device)
        try:
            fn(model, bad)
        except NotImplementedError:
            raise
        except Exception as exc:
            if "without" in label and not isinstance(exc, KeyError):
                raise CheckFailed(
                    f"load_numpy_params on {label} raised {type(exc).__name__}: {exc}\nGood "
                    "that it stopped, but the docstring asks for KeyError when a parameter has "
                    "no array (ValueError is for a wrong shape): `if name not in params: raise "
                    "KeyError(name)`.",
                    mistake="missing_not_key_error",
                    case=label,
                ) from None
            if name not in str(exc):
                raise CheckFailed(
                    f"load_numpy_params on {label} raised {type(exc).__name__}: {exc}\n"
                    f"Good that it stopped, but the message does not say which tensor is "
                    f"wrong. Check each name and shape yourself and raise, e.g., "
                    f'ValueError(f"{{name}}: shape {{array.shape}}, expected '
                    f'{{tuple(param.shape)}}").',
                    mistake="error_without_name",
                    case=label,
                ) from None
            if not all(_says_shape(str(exc), shape) for shape in shapes):
                raise CheckFailed(
                    f"load_numpy_params on {label} raised {type(exc).__name__}: {exc}\n"
                    f"Good that it stops and names the tensor, but the docstring asks for both "
                    f"shapes, {shapes[0]} and {shapes[1]}, in the message: "
                    f'ValueError(f"{{name}}: shape {{array.shape}}, expected '
                    f'{{tuple(param.shape)}}").',
                    mistake="error_without_shapes",
                    case=label,
                ) from None
        else:
            raise CheckFailed(
                f"load_numpy_params accepted {label} without an error.\n"
                + (
                    "copy_ broadcasts a (1,) array over all 6 biases, so every filter silently "
                    "got the same bias. "
                    if name == "conv1.bias"
                    else ""
                )
                + "Compare each array's shape with its parameter's and raise ValueError "
                "naming the tensor; a missing name should raise KeyError naming it.",
                mistake="shape_not_checked",
                case=label,
            )
        labels.append(label)
    return labels


def _says_shape(message: str, shape: tuple) -> bool:
    """Whether an error message gives `shape`, written as a tuple, a list or a torch.Size."""
    text = message.replace("torch.Size(", "").replace("[", "(").replace("]", ")")
    text = text.replace(" ", "").replace(",)", ")").replace("))", ")")
    return str(shape).replace(" ", "").replace(",)", ")") in text


@single_threaded
def check_load_numpy_params(fn: Callable, device: Any = "cpu") -> None:
    """Exercise 7.3: load_numpy_params(model, params) copies numpy arrays into the model."""
    __tracebackhide__ = True
    device = torch.device(device)
    cases = [
        _load_case("float64 parameters", 31, 0, "float64"),
        _load_case("float32 parameters (assignment 6's default)", 32, 1, "float32"),
        _load_case("float64 parameters, another seed", 33, 2, "float64"),
    ]
    for case in cases:
        _check_loaded_model(fn, case.args[0], device, case.label)

    def logits(setup: _LoadCase) -> np.ndarray:
        model = fn(_fresh_lenet(setup.init_seed, device), setup.params())
        with torch.no_grad():
            return numpy64(model(t64(_digits(setup.seed + 1, setup.n), device)))

    check(
        logits,
        name="load_numpy_params",
        cases=cases,
        mistakes=LOAD_MISTAKES,
        pointer=POINTER_LOAD,
        rtol=1e-11,
        atol=1e-13,
        quiet=True,
    )
    errors = _check_load_errors(fn, device)
    labels = [
        "the logits after loading float64 and float32 arrays",
        "float64, trainable, on the model's device",
        "a copy, not a view",
        "errors that name the tensor (a missing name, a transposed or broadcastable shape)",
    ]
    count = 3 * len(cases) + len(errors)
    passed("load_numpy_params", labels, count, sep="; ")


# ---------------------------------------------------------------------------------------
# Exercises 7.4 and 7.5: train_epoch_torch, evaluate_torch (on a linear softmax model)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LinearRun:
    """One epoch of a linear softmax classifier: images (B, 1, 2, 3) → 4 classes."""

    seed: int
    sizes: tuple[int, ...]
    lr: float | None  # None: an evaluation, no optimiser
    scale: float = 0.5  # of the weights; 300 puts logits hundreds apart
    lazy: bool = False  # the batches as a generator (course.data.batches is one): no len()
    tensors: bool = False  # each batch as torch tensors, which the docstring allows

    def data(self):
        rng = np.random.default_rng(self.seed)
        C, D = 4, 6
        W = rng.standard_normal((C, D)) * self.scale
        b = rng.standard_normal(C) * self.scale
        batches = [
            (rng.standard_normal((B, 1, 2, 3)), rng.integers(0, C, size=B).astype(np.int64))
            for B in self.sizes
        ]
        if self.tensors:
            batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]
        return W, b, (iter(batches) if self.lazy else batches)

    def __repr__(self) -> str:
        sizes = "+".join(map(str, self.sizes))
        opt = "" if self.lr is None else f", <SGD lr={self.lr}>"
        weights = "" if self.scale == 0.5 else f" with weights ~ N(0, {self.scale:g}²)"
        kind = "a generator of batches" if self.lazy else "batches"
        kind = f"{kind} as tensors" if self.tensors else kind
        return f"<linear model 6→4{weights}>, <{kind} of {sizes} images>{opt}"


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _closed_form_epoch(run: _LinearRun, bug: str | None = None, *, update: bool = True):
    """SGD on softmax regression with numpy: returns (W, b) and per-batch statistics."""
    W, b, batches = run.data()
    acc_W, acc_b = np.zeros_like(W), np.zeros_like(b)
    stats = []  # (batch size, batch mean loss, correct)
    for x, y in batches:
        x, y = np.asarray(x), np.asarray(y)  # tensors too
        B = len(y)
        X = x.reshape(B, -1)  # (B, 6)
        Z = X @ W.T + b  # (B, 4)
        shifted = Z - Z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        P = np.exp(log_p)
        rows = np.arange(B)
        if bug == "softmax_before_cross_entropy":
            Q = _softmax(P)
            loss = -np.log(Q[rows, y]).mean()
            G = Q.copy()
            G[rows, y] -= 1
            G /= B
            G = P * (G - (G * P).sum(axis=1, keepdims=True))  # back through the softmax
        else:
            if bug == "log_of_softmax":  # log(0) = -inf where a label's probability underflows
                with np.errstate(divide="ignore"):
                    loss = -np.log(P[rows, y]).mean()
            else:
                loss = -log_p[rows, y].mean()
            G = P.copy()
            G[rows, y] -= 1
            G /= B  # dloss/dZ of the batch mean
        if bug == "loss_summed":
            G *= B
        gW, gb = G.T @ X, G.sum(axis=0)
        if bug == "zero_grad_forgotten":
            acc_W, acc_b = acc_W + gW, acc_b + gb
            gW, gb = acc_W, acc_b
        stats.append((B, float(loss), int((Z.argmax(axis=1) == y).sum())))
        if update and bug != "no_update":
            W, b = W - run.lr * gW, b - run.lr * gb
    return _Wb(W, b), stats


def _Wb(W: np.ndarray, b: np.ndarray) -> np.ndarray:  # noqa: N802 (W and b, as in the math)
    """The parameters as one (C, D + 1) array: each row holds a class's weights, then its bias."""
    return np.hstack([W, b[:, None]])


def _summary(stats, how: str | None = None) -> tuple[float, float]:
    N = sum(B for B, _, _ in stats)
    correct = sum(c for _, _, c in stats)
    if how == "mean_of_batch_means":
        return float(np.mean([loss for _, loss, _ in stats])), correct / N
    if how == "last_batch_loss":
        return stats[-1][1], correct / N
    if how == "acc_as_count":
        return sum(B * loss for B, loss, _ in stats) / N, float(correct)
    if how == "acc_as_percent":
        return sum(B * loss for B, loss, _ in stats) / N, 100.0 * correct / N
    return sum(B * loss for B, loss, _ in stats) / N, correct / N


def _linear_model(W: np.ndarray, b: np.ndarray, device: torch.device) -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(W.shape[1], W.shape[0])).to(device, torch.float64)
    with torch.no_grad():
        model[1].weight.copy_(torch.from_numpy(W))
        model[1].bias.copy_(torch.from_numpy(b))
    return model


class _Spy(nn.Module):
    """Wraps a model and records, at each forward call, grad mode and training mode."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((torch.is_grad_enabled(), self.training))
        return self.inner(x)


def _as_stats(result: Any, name: str, label: str) -> tuple[float, float]:
    __tracebackhide__ = True
    if not isinstance(result, Mapping) or not {"loss", "acc"} <= set(result):
        raise CheckFailed(
            f"{name} returned {fmt(result) if result is not None else None} on {label}; "
            'expected a dict {"loss": mean loss, "acc": accuracy}.',
            mistake="returned_none" if result is None else "wrong_return",
            case=label,
        )
    tensors = [k for k in ("loss", "acc") if isinstance(result[k], torch.Tensor)]
    if tensors:
        graph = any(result[k].requires_grad for k in tensors)
        raise CheckFailed(
            f"{name} returned {' and '.join(tensors)} as a torch tensor on {label}; the "
            "docstring asks for Python floats. Use loss.item() (and .item() for a count)"
            + (
                ": this tensor still holds the autograd graph, and summing such losses "
                "over an epoch keeps every batch's graph in memory."
                if graph
                else "."
            ),
            mistake="tensor_return",
            case=label,
        )
    try:
        return float(result["loss"]), float(result["acc"])
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(
            f"{name} returned loss={result['loss']!r}, acc={result['acc']!r} on {label}; "
            "both must be numbers (use loss.item() for a one-element tensor).",
            mistake="wrong_return",
            case=label,
        ) from None


TRAIN_PARAM_MISTAKES = (
    Mistake(
        "zero_grad_forgotten",
        "the gradients accumulate from batch to batch: opt.zero_grad() is missing",
        "loss.backward() ADDS to each parameter's .grad; call opt.zero_grad() once per batch, "
        "before loss.backward().",
        lambda case: _closed_form_epoch(case.args[0], "zero_grad_forgotten")[0],
    ),
    Mistake(
        "loss_summed",
        "the loss is summed over the batch instead of averaged, so each step is B times too large",
        "Use F.cross_entropy(logits, y) with its default reduction='mean' (the loss of "
        "lecture 002 is the batch average; the learning rate assumes it).",
        lambda case: _closed_form_epoch(case.args[0], "loss_summed")[0],
    ),
    Mistake(
        "no_update",
        "the parameters did not change: opt.step() is missing, or opt.zero_grad() runs between "
        "loss.backward() and opt.step() and wipes the gradients",
        "The order per batch is opt.zero_grad() → forward → loss.backward() → opt.step().",
        lambda case: _closed_form_epoch(case.args[0], "no_update")[0],
    ),
    Mistake(
        "softmax_before_cross_entropy",
        "a softmax was applied to the logits before F.cross_entropy, which applies its own",
        "Pass the raw logits: F.cross_entropy(logits, y) = mean of -log_softmax(logits)[y].",
        lambda case: _closed_form_epoch(case.args[0], "softmax_before_cross_entropy")[0],
    ),
)

STATS_MISTAKES = (
    Mistake(
        "mean_of_batch_means",
        "the loss is the mean of the batch losses, so the smaller last batch counts as much "
        "as a full one",
        "Weight each batch by its size: total += loss.item() * len(y); return total / N.",
        lambda case: _summary(case.expected_stats, "mean_of_batch_means"),
    ),
    Mistake(
        "last_batch_loss",
        "the loss returned is the last batch's, not the epoch's",
        "Add up loss.item() * len(y) over the batches and divide by the number of examples.",
        lambda case: _summary(case.expected_stats, "last_batch_loss"),
    ),
    Mistake(
        "acc_as_count",
        "the accuracy is the number of correct predictions, not a fraction",
        "Divide the count by the number of examples: acc is in [0, 1].",
        lambda case: _summary(case.expected_stats, "acc_as_count"),
    ),
    Mistake(
        "acc_as_percent",
        "the accuracy is a percentage",
        "Return a fraction in [0, 1] (the notebook formats it as a percentage when printing).",
        lambda case: _summary(case.expected_stats, "acc_as_percent"),
    ),
)


@dataclass(frozen=True)
class _StatsCase(Case):
    """A Case that also carries the per-batch statistics its mistakes are computed from."""

    expected_stats: tuple = ()


TRAIN_RUNS = (
    ("4 batches of 5 images, lr 0.5", _LinearRun(41, (5, 5, 5, 5), 0.5)),
    (
        "a generator of batches of 6, 6, 6 and a last one of 2, lr 0.3",
        _LinearRun(42, (6, 6, 6, 2), 0.3, lazy=True),
    ),
    ("a single batch of 7 as tensors, lr 1.0", _LinearRun(43, (7,), 1.0, tensors=True)),
    # Labels hundreds below their row's maximum: a loss written as -log(softmax) is inf
    # there, and its step writes nan into the parameters.
    ("logits hundreds apart, lr 0.01", _LinearRun(44, (4, 3), 0.01, scale=300.0)),
)
EVAL_RUNS = (
    ("3 batches of 4 images", _LinearRun(51, (4, 4, 4), None)),
    ("2 batches of 5 as tensors", _LinearRun(54, (5, 5), None, tensors=True)),
    ("a generator of batches of 8 and a last one of 3", _LinearRun(52, (8, 3), None, lazy=True)),
    # Labels hundreds below their row's maximum: exp underflows to 0 for them.
    ("logits hundreds apart", _LinearRun(53, (4, 3), None, scale=300.0)),
)
LOG_OF_SOFTMAX = Mistake(
    "log_of_softmax",
    "the loss is the log of the softmax's probabilities; a label whose logit is hundreds below "
    "its row's maximum gets probability 0 in floating point, and log(0) = -inf",
    "Use F.cross_entropy(logits, y, reduction='sum') (or F.log_softmax): it subtracts the "
    "log-sum-exp from the logits and never takes the log of a probability.",
    lambda case: _summary(
        tuple(_closed_form_epoch(case.args[0], "log_of_softmax", update=False)[1])
    ),
)
NOTE_TRAIN_MODE = (
    "train_epoch_torch: the model was in eval mode during training. LeNet has no dropout "
    "or batch norm, so the numbers are the same here, but the docstring asks for "
    "model.train() at the start of the epoch: with those layers it matters."
)
NOTE_EVAL_MODE = (
    "evaluate_torch: the model was in training mode. LeNet has no dropout or batch norm, so "
    "the numbers are the same here, but the docstring asks for model.eval() first: with "
    "those layers they would not be."
)


def _run_train(fn: Callable, run: _LinearRun, device: torch.device):
    """One call of train_epoch_torch; returns ((W, b) after the epoch, (loss, acc))."""
    __tracebackhide__ = True
    W, b, batches = run.data()
    spy = _Spy(_linear_model(W, b, device))
    spy.eval()  # as evaluate_torch leaves it: the loop must switch back to training mode
    opt = torch.optim.SGD(spy.parameters(), lr=run.lr)
    with DeviceWatch(device, on=[spy]) as watch:
        result = _call(fn, "train_epoch_torch", repr(run), spy, batches, opt, device)
    if (mixed := watch.problem("train_epoch_torch", repr(run))) is not None:
        raise mixed
    stats = _as_stats(result, "train_epoch_torch", repr(run))
    if spy.calls and not all(training for _, training in spy.calls):
        raise CheckFailed(NOTE_TRAIN_MODE, mistake="no_train_mode", case=repr(run))
    linear = spy.inner[1]
    return _Wb(numpy64(linear.weight), numpy64(linear.bias)), stats


def _once(results: dict, runner: Callable, fn: Callable, run: _LinearRun, device) -> Any:
    """runner(fn, run, device), run once for each function and setting: the student's, or
    an edited version of it that the repair search hands in."""
    __tracebackhide__ = True
    if (fn, run) not in results:
        results[fn, run] = runner(fn, run, device)
    return results[fn, run]


@single_threaded
def check_train_epoch_torch(fn: Callable, device: Any = "cpu") -> None:
    """Exercise 7.4: train_epoch_torch(model, batches, opt, device) -> {"loss", "acc"}."""
    __tracebackhide__ = True
    device = torch.device(device)
    # The student's loop runs once per setting; the two checks below compare what it did
    # with the closed-form epoch (and the repair search runs its edited versions).
    results: dict = {}
    param_cases = [
        Case(f"the parameters after one epoch ({label})", (run,), _closed_form_epoch(run)[0])
        for label, run in TRAIN_RUNS
    ]
    check(
        lambda run: _once(results, _run_train, fn, run, device)[0],
        name="train_epoch_torch",
        cases=param_cases,
        mistakes=TRAIN_PARAM_MISTAKES,
        pointer=POINTER_TRAIN,
        rtol=1e-9,
        atol=1e-12,
        quiet=True,
    )
    stat_cases = []
    for label, run in TRAIN_RUNS:
        per_batch = tuple(_closed_form_epoch(run)[1])
        stat_cases.append(
            _StatsCase(
                f"the returned loss and accuracy ({label})",
                (run,),
                _summary(per_batch),
                expected_stats=per_batch,
            )
        )
    check(
        lambda run: _once(results, _run_train, fn, run, device)[1],
        name="train_epoch_torch",
        cases=stat_cases,
        mistakes=STATS_MISTAKES,
        pointer=POINTER_TRAIN
        + " Return the loss averaged over all examples and the fraction of correct "
        "predictions, each batch measured by the logits of its own forward pass.",
        rtol=1e-6,
        atol=1e-9,
        quiet=True,
    )
    labels = [
        f"the parameters after one epoch of SGD, {len(TRAIN_RUNS)} settings",
        "the mean loss and the accuracy it returns",
    ]
    passed("train_epoch_torch", labels, len(param_cases) + len(stat_cases), sep="; ")


def _run_evaluate(fn: Callable, run: _LinearRun, device: torch.device):
    __tracebackhide__ = True
    W, b, batches = run.data()
    spy = _Spy(_linear_model(W, b, device))
    with DeviceWatch(device, on=[spy]) as watch:
        result = _call(fn, "evaluate_torch", repr(run), spy, batches, device)
    if (mixed := watch.problem("evaluate_torch", repr(run))) is not None:
        raise mixed
    if any(grad for grad, _ in spy.calls):
        raise CheckFailed(
            f"evaluate_torch ran the model with gradient tracking on ({run!r}).\n"
            "It looks like torch.no_grad() is missing: without it autograd records every "
            "operation of every batch, for a backward pass that never comes (the memory grows "
            "with the data set). Wrap the loop in `with torch.no_grad():`.",
            mistake="grad_enabled",
            case=repr(run),
        )
    if any(training for _, training in spy.calls):
        raise CheckFailed(NOTE_EVAL_MODE, mistake="no_eval_mode", case=repr(run))
    return _as_stats(result, "evaluate_torch", repr(run))


@single_threaded
def check_evaluate_torch(fn: Callable, device: Any = "cpu") -> None:
    """Exercise 7.5: evaluate_torch(model, batches, device) -> {"loss", "acc"}."""
    __tracebackhide__ = True
    device = torch.device(device)
    results: dict = {}
    cases = []
    for label, run in EVAL_RUNS:
        per_batch = tuple(_closed_form_epoch(run, update=False)[1])
        cases.append(_StatsCase(label, (run,), _summary(per_batch), expected_stats=per_batch))
    check(
        lambda run: _once(results, _run_evaluate, fn, run, device),
        name="evaluate_torch",
        cases=cases,
        mistakes=(*STATS_MISTAKES, LOG_OF_SOFTMAX),
        pointer=POINTER_EVAL,
        rtol=1e-6,
        atol=1e-9,
        quiet=True,
    )
    labels = ["no gradient tracking", *(c.label for c in cases)]
    passed("evaluate_torch", labels, sep="; ")


@single_threaded
def check_trained_model(
    model: nn.Module, X: Any, y: Any, device: Any = "cpu", *, at_least: float = 0.5
) -> None:
    """Exercise 7.6: the LeNet trained in the notebook classifies held-out digits.

    Computes the accuracy on (X, y) with torch directly (not with your evaluate_torch) and
    fails below `at_least` (chance is 0.1 with ten classes).
    """
    __tracebackhide__ = True
    if model is None:
        raise CheckFailed(
            "There is no trained model: the training cell above stopped before the end (an "
            "exercise it calls is not implemented yet, or it raised an error). Run it again "
            "once the checks of make_lenet_torch, train_epoch_torch and evaluate_torch pass.",
            mistake="not_trained",
        )
    if not isinstance(model, nn.Module):
        raise CheckFailed(
            f"`model` is {type(model).__name__}, not the torch LeNet trained above. Run the "
            "training cell again.",
            mistake="not_a_module",
        )
    device = torch.device(device)
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), 1000):
            xb = torch.as_tensor(np.asarray(X[start : start + 1000]), device=device, dtype=dtype)
            pred = model(xb).argmax(dim=1).cpu().numpy()
            correct += int((pred == np.asarray(y[start : start + 1000])).sum())
    model.train(was_training)
    acc = correct / len(y)
    if acc < at_least:
        raise CheckFailed(
            f"The trained LeNet classifies {acc:.1%} of the {len(y):,} held-out digits "
            f"correctly; at least {at_least:.0%} was expected (chance: 10%). If your checks "
            "above pass, run the training cell again from a fresh model; otherwise fix "
            "train_epoch_torch first.",
            mistake="not_trained",
        )
    print(
        f"✓ the trained LeNet classifies {acc:.1%} of {len(y):,} held-out digits correctly "
        f"(at least {at_least:.0%} needed; chance is 10%)."
    )
