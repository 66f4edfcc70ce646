"""Diagnostic tools, not graded: they compare a student's numpy code with torch autograd.

    from course.checks import gpu as checks       # assignment 7
    checks.cross_check_conv2d(conv2d_forward, conv2d_backward, device)
    checks.cross_check_lenet(params, lenet_forward, lenet_backward, layers, x, y, device)
    layers = checks.use_layers_that_pass(layers_from(globals(), fallback=LAYERS))

    from course.checks import lenet as checks     # assignment 6
    checks.check_my_layers(layers_from(globals(), fallback=LAYERS))
    train_layers = checks.choose_layers(mine, epochs=..., n_train=..., batch_size=...)

The cross-checks run the numpy code and the same computation in torch (float64, on the
device given) and name the first tensor that disagrees. The layer self-test (`_compare_family`,
written once for both notebooks) runs each layer family of a `course.torch_layers.Layers`
on small inputs against the torch layers; the notebooks train with the families that pass.
The graded modules `gpu` and `lenet` re-export these names, which the notebooks call.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.checks._core import CheckFailed, call
from course.checks._oracle import (
    LAYERS_WITH_PARAMS,
    PARAM_SHAPES,
    TorchLeNet5,
    _torch,
    numpy64,
)
from course.torch_layers import LAYERS, PAIRS, Layers, layers_from, single_threaded

__all__ = [
    "CONV_CASES",
    "check_my_layers",
    "choose_layers",
    "cross_check_conv2d",
    "cross_check_lenet",
    "numpy_lenet_ready",
    "use_layers_that_pass",
]

# ---------------------------------------------------------------------------------------
# Cross-checks against torch autograd (assignment 7)
# ---------------------------------------------------------------------------------------


def _float64_device(device: Any):
    """`device` as a torch device where float64 works (MPS has none: the CPU instead)."""
    device = _torch().device(device)
    if device.type == "mps":
        print("MPS has no float64: the cross-check runs on the CPU.")
        return _torch().device("cpu")
    return device


def _difference(got: Any, ref: Any, rtol: float) -> tuple[float, float, bool]:
    """(max abs difference, relative = max abs difference / max abs of the reference
    tensor, whether they agree to `rtol`)."""
    g = np.asarray(got, dtype=np.float64)
    r = numpy64(ref)
    if g.shape != r.shape:
        return math.inf, math.inf, False
    abs_diff = float(np.max(np.abs(g - r))) if g.size else 0.0
    scale = float(np.max(np.abs(r))) if r.size else 0.0
    return abs_diff, abs_diff / max(scale, 1e-300), abs_diff <= rtol * scale + 1e-12


def _layer_fn(layers: Any, name: str) -> Callable | None:
    """layers.<name> for a Layers bundle, layers[name] for a dict; None if absent."""
    fn = layers.get(name) if isinstance(layers, Mapping) else getattr(layers, name, None)
    return fn if callable(fn) else None


#: Backward order of LeNet's parameters (the order the gradients are computed in), and
#: the backward steps that lie between the loss and each layer's weight gradient.
BACKWARD_ORDER = tuple(
    f"{layer}.{kind}" for layer in reversed(LAYERS_WITH_PARAMS) for kind in ("weight", "bias")
)
ARRIVING = {
    "fc3": "nothing: fc3's gradients come straight from dlogits",
    "fc2": "linear_backward's dx of fc3 and the activation's backward after fc2",
    "fc1": "linear_backward's dx of fc2 and the activation's backward after fc1",
    "conv2": (
        "linear_backward's dx of fc1, flatten_backward, the pooling's backward (pool2) and the "
        "activation's backward after conv2"
    ),
    "conv1": (
        "conv2d_backward's dx of conv2, the pooling's backward (pool1) and the activation's "
        "backward after conv1"
    ),
}
KIND = {"fc": "linear_backward", "co": "conv2d_backward"}


def _culprit(name: str, agree: Mapping[str, bool]) -> str:
    """Where a disagreeing gradient most likely comes from, given which ones agree."""
    layer, what = name.split(".")
    fn = KIND[layer[:2]]
    other = f"{layer}.{'bias' if what == 'weight' else 'weight'}"
    previous = BACKWARD_ORDER[: BACKWARD_ORDER.index(f"{layer}.weight")]
    upstream_ok = all(agree.get(n, False) for n in previous)
    arriving = ARRIVING[layer]
    if agree.get(other) and what == "weight":
        return (
            f"{layer}.bias agrees, so the gradient arriving at {layer} is probably right (its "
            f"sum is): look at how {fn} computes dw from dout and the cached input"
        )
    if agree.get(other) and what == "bias":
        return f"{layer}.weight agrees: look at how {fn} computes db (the sum of dout)"
    if layer == "fc3":
        return f"look at {fn} (dw = dout.T @ x, db = dout.sum(0))"
    if upstream_ok:
        return (
            f"every gradient before {layer} agrees and both of {layer}'s disagree, so the "
            f"gradient goes wrong on its way to {layer}: in {arriving}"
        )
    return f"the first disagreement is here; the steps leading to {layer} are {arriving}"


def _table(rows: Sequence[tuple[str, str, float, float, str]]) -> str:
    lines = [f"  {'tensor':<24}{'shape':<14}{'max |diff|':>12}{'relative':>12}", "  " + "-" * 66]
    for name, shape, abs_diff, rel, status in rows:
        a = "—" if math.isnan(abs_diff) else f"{abs_diff:.1e}"
        r = "—" if math.isnan(rel) else f"{rel:.1e}"
        lines.append(f"  {name:<24}{shape:<14}{a:>12}{r:>12}   {status}")
    return "\n".join(lines)


def _shape(a: Any) -> str:
    return "×".join(map(str, np.shape(a))) or "scalar"


@single_threaded
def cross_check_lenet(
    params: Mapping[str, Any],
    forward_fn: Callable,
    backward_fn: Callable,
    layers: Any,
    x: Any,
    y: Any,
    device: Any = "cpu",
    *,
    rtol: float = 1e-8,
) -> None:
    """Compare a numpy LeNet with torch autograd, tensor by tensor, in float64.

    Runs ``logits, cache = forward_fn(params, x, layers)`` and
    ``grads = backward_fn(dlogits, cache, layers)`` (the API of assignment 6) on float64
    copies of `params` and `x`, and the same network in torch on `device`, then prints one
    row per tensor: the logits, the loss and dlogits of ``layers.softmax_cross_entropy``
    (when `layers` has one), and the gradient of every parameter, in the order backward
    computes them. The backward pass is fed torch's dlogits, so each row tests one thing.

    Args:
        params: the 10 numpy arrays, named as torch names them (conv1.weight ... fc3.bias).
        forward_fn, backward_fn: your lenet_forward and lenet_backward.
        layers: what your functions take as `layers` (a course.torch_layers.Layers).
        x: images, shape (N, 1, 28, 28).
        y: integer labels, shape (N,).
        device: where torch computes (MPS has no float64: the CPU is used instead).
        rtol: tolerance relative to the largest entry of each reference tensor.
    Raises:
        CheckFailed: naming the first tensor that disagrees, by how much, and where the
            bug most likely is. Nothing is raised when every tensor agrees.
    """
    __tracebackhide__ = True
    torch = _torch()
    F = torch.nn.functional
    device = _float64_device(device)
    missing = [n for n in PARAM_SHAPES if n not in params]
    if missing:
        raise CheckFailed(f"params has no {missing}; expected the names {list(PARAM_SHAPES)}.")
    p64 = {n: np.array(params[n], dtype=np.float64) for n in PARAM_SHAPES}
    x64 = np.array(x, dtype=np.float64)
    labels = np.asarray(y).astype(np.int64)

    # torch, in float64 on the device
    model = TorchLeNet5().to(device, torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(torch.from_numpy(p64[name]))
    logits_t = model(torch.from_numpy(x64).to(device))
    logits_t.retain_grad()
    loss_t = F.cross_entropy(logits_t, torch.from_numpy(labels).to(device))
    loss_t.backward()
    grads_t = {n: p.grad for n, p in model.named_parameters()}

    rows: list[tuple[str, str, float, float, str]] = []
    verdicts: dict[str, bool] = {}
    first: tuple[str, float, float, str] | None = None

    def add(name: str, got: Any, ref: Any, source: str) -> bool:
        nonlocal first
        if got is None:
            rows.append((name, "missing", math.nan, math.nan, "✗ missing"))
            ok = False
            abs_diff = rel = math.inf
        else:
            abs_diff, rel, ok = _difference(got, ref, rtol)
            shape = (
                _shape(got)
                if np.shape(got) == tuple(ref.shape)
                else (f"{_shape(got)}≠{_shape(ref)}")
            )
            rows.append((name, shape, abs_diff, rel, "✓" if ok else "✗"))
        verdicts[name] = ok
        if not ok and first is None:
            first = (name, abs_diff, rel, source)
        return ok

    # 1. forward
    out = call(forward_fn, "lenet_forward", "the cross-check", p64, x64, layers)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise CheckFailed(
            f"lenet_forward returned {type(out).__name__}; expected (logits, cache).",
            mistake="wrong_return",
        )
    logits, cache = out
    logits = np.asarray(logits)
    if logits.dtype != np.float64:
        raise CheckFailed(
            f"lenet_forward returned {logits.dtype} logits for float64 parameters and images. "
            "Somewhere an array is created or cast as float32 (np.zeros(..., "
            "dtype=np.float32), .astype(np.float32)); float32 keeps 7 digits, so it cannot "
            "agree with torch's float64 to 1e-12. Let each layer keep its input's dtype.",
            mistake="float32_in_numpy",
            case="logits",
        )
    forward_ok = add("logits (forward)", logits, logits_t, "your lenet_forward vs torch")
    forward_rel = rows[-1][3]

    # 2. loss and dlogits of the student's loss, when there is one
    loss_fn = _layer_fn(layers, "softmax_cross_entropy")
    if loss_fn is not None:
        # fed torch's logits, so that this row tests the loss layer alone
        loss, dlogits = call(
            loss_fn, "softmax_cross_entropy", "the cross-check", numpy64(logits_t), labels
        )
        source = "your softmax_cross_entropy vs F.cross_entropy"
        add("loss", np.asarray(loss, dtype=np.float64), loss_t, source)
        add("dlogits", dlogits, logits_t.grad, source)

    # 3. backward, fed torch's dlogits
    grads = call(
        backward_fn, "lenet_backward", "the cross-check", numpy64(logits_t.grad), cache, layers
    )
    if not isinstance(grads, Mapping):
        raise CheckFailed(
            f"lenet_backward returned {type(grads).__name__}; expected a dict of gradients "
            "named like params.",
            mistake="wrong_return",
        )
    for name in BACKWARD_ORDER:
        add(
            f"{name} gradient",
            grads.get(name),
            grads_t[name],
            "your lenet_backward vs torch autograd",
        )
    where = "" if device.type == "cpu" else f" on {device}"
    print(f"Cross-check of your numpy LeNet against torch autograd (float64{where}):")
    print(_table(rows))
    if first is None:
        print(f"✓ all {len(rows)} tensors agree (relative tolerance {rtol:g}).")
        return
    name, abs_diff, rel, source = first
    how = (
        f"max abs difference {abs_diff:.1e} (relative {rel:.2g})"
        if math.isfinite(abs_diff)
        else "missing or of the wrong shape"
    )
    if name == "logits (forward)":
        where_bug = (
            "the forward pass already differs: fix it first (the gradient rows are computed "
            "from your forward's cache, so they may differ for that reason alone); "
            "cross_check_conv2d tests your convolution on its own."
        )
        mistake = "forward_differs"
    elif name in ("loss", "dlogits"):
        where_bug = (
            "it was given torch's logits, so the loss layer itself is wrong. The gradient "
            "rows are fed torch's dlogits and test lenet_backward independently."
        )
        mistake = "loss_differs"
    else:
        param = name.removesuffix(" gradient")
        agree = {n: verdicts.get(f"{n} gradient", False) for n in BACKWARD_ORDER}
        lead = (
            f"forward logits agree to within {max(forward_rel, 1e-16):.0e}, so the bug is in "
            "backward"
            if forward_ok
            else "the forward differs too; fix it first, but here"
        )
        where_bug = f"{lead}: {_culprit(param, agree)}."
        mistake = "backward_differs"
    raise CheckFailed(
        f"{name}: {how} — {source}; {where_bug}",
        mistake=mistake,
        case=name,
    )


#: Convolutions the conv2d cross-check tries: (label, x shape, w shape, stride, padding).
CONV_CASES = (
    ("LeNet's conv1: 28×28, 5×5, padding 2", (2, 1, 28, 28), (6, 1, 5, 5), 1, 2),
    ("LeNet's conv2: 6→16 channels, 14×14, 5×5", (2, 6, 14, 14), (16, 6, 5, 5), 1, 0),
    ("non-square 7×5 input, 3×2 kernel", (2, 3, 7, 5), (4, 3, 3, 2), 1, 0),
    ("stride 2, padding 1, 9×6 input", (1, 2, 9, 6), (3, 2, 3, 3), 2, 1),
    ("stride 3 that does not fit, 10×8, 2×3 kernel", (3, 2, 10, 8), (2, 2, 2, 3), 3, 1),
    ("a single image, 1×1 kernel", (1, 4, 5, 6), (3, 4, 1, 1), 1, 0),
)


@single_threaded
def cross_check_conv2d(
    conv2d_forward: Callable,
    conv2d_backward: Callable,
    device: Any = "cpu",
    *,
    seed: int = 0,
    rtol: float = 1e-8,
) -> None:
    """Compare a numpy conv2d_forward/backward with F.conv2d + autograd in float64.

    For each shape of `CONV_CASES` (LeNet's two layers, non-square inputs and kernels,
    strides 2 and 3 with padding), runs ``out, cache = conv2d_forward(x, w, b,
    stride=s, padding=p)`` and ``dx, dw, db = conv2d_backward(dout, cache)`` on random
    float64 arrays, and the same in torch on `device`. Prints one row per case with the
    relative differences of out, dx, dw and db.

    Raises:
        CheckFailed: naming the first case and tensor that disagree, and by how much.
    """
    __tracebackhide__ = True
    torch = _torch()
    F = torch.nn.functional
    device = _float64_device(device)
    rng = np.random.default_rng(seed)
    header = f"  {'case':<46}{'out':>9}{'dx':>9}{'dw':>9}{'db':>9}"
    lines = [header, "  " + "-" * (len(header) - 2)]
    first = None
    for label, x_shape, w_shape, stride, padding in CONV_CASES:
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0])
        xt, wt, bt = (torch.tensor(a, device=device, requires_grad=True) for a in (x, w, b))
        out_t = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
        dout = rng.standard_normal(tuple(out_t.shape))
        out_t.backward(torch.from_numpy(dout).to(device))
        refs = {"out": out_t.detach(), "dx": xt.grad, "dw": wt.grad, "db": bt.grad}
        got: dict[str, Any] = {}
        result = call(
            conv2d_forward,
            "conv2d_forward",
            label,
            x.copy(),
            w.copy(),
            b.copy(),
            stride=stride,
            padding=padding,
        )
        got["out"], cache = result
        parts = ("out", "dx", "dw", "db")
        if np.shape(got["out"]) == tuple(out_t.shape):
            dx, dw, db = call(conv2d_backward, "conv2d_backward", label, dout.copy(), cache)
            got.update(dx=dx, dw=dw, db=db)
        else:  # the backward pass needs a dout of the forward's shape: skip it
            parts = ("out",)
        cells = []
        for part in parts:
            abs_diff, rel, ok = _difference(got[part], refs[part], rtol)
            cells.append(f"{'shape!' if math.isinf(rel) else f'{rel:.0e}'}{'' if ok else '✗'}")
            if not ok and first is None:
                first = (label, part, abs_diff, rel, np.shape(got[part]), tuple(refs[part].shape))
        cells += ["—"] * (4 - len(cells))
        lines.append(f"  {label:<46}" + "".join(f"{c:>9}" for c in cells))
    where = "" if device.type == "cpu" else f" on {device}"
    print(
        f"Cross-check of your conv2d against F.conv2d + autograd (float64{where}, relative "
        "differences):"
    )
    print("\n".join(lines))
    if first is None:
        print(
            f"✓ conv2d_forward and conv2d_backward agree with torch on all {len(CONV_CASES)} cases."
        )
        return
    label, part, abs_diff, rel, got_shape, ref_shape = first
    fn = "conv2d_forward" if part == "out" else "conv2d_backward"
    if math.isinf(rel):
        how = f"shape {got_shape}, expected {ref_shape}"
    else:
        how = f"max abs difference {abs_diff:.1e} (relative {rel:.2g})"
    raise CheckFailed(
        f"{fn}, {part} on '{label}': {how} — yours vs torch. Assignment 5's checks of "
        f"{fn} say which known mistake this is.",
        mistake=f"{part}_differs",
        case=label,
    )


# ---------------------------------------------------------------------------------------
# The layer self-test (assignments 6 and 7) and the choice of layers for training
# ---------------------------------------------------------------------------------------


@dataclass
class _FamilyResult:
    family: str
    ok: bool
    message: str


def _family_inputs(rng: np.random.Generator) -> dict[str, list[tuple[tuple, dict]]]:
    """Small float64 inputs for each family, shaped like LeNet's calls (odd sizes on purpose)."""

    def draw(*shapes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        return tuple(rng.standard_normal(shape) for shape in shapes)

    return {
        "conv2d": [
            (draw((2, 1, 8, 7), (3, 1, 5, 5), (3,)), {"padding": 2}),
            (draw((2, 3, 9, 8), (4, 3, 5, 5), (4,)), {}),
        ],
        "relu": [(draw((2, 3, 4, 5)), {}), (draw((3, 7)), {})],
        "maxpool2d": [(draw((2, 3, 8, 6)), {"kernel_size": 2, "stride": 2})],
        "flatten": [(draw((2, 3, 4, 5)), {})],
        "linear": [(draw((4, 7), (5, 7), (5,)), {})],
        "softmax_cross_entropy": [
            ((rng.standard_normal((5, 10)) * 3, rng.integers(0, 10, size=5)), {})
        ],
    }


def _compare_family(family: str, mine: Layers, ref: Layers) -> _FamilyResult:
    rng = np.random.default_rng(606)
    names = PAIRS[family]
    for args, kwargs in _family_inputs(rng)[family]:
        shapes = ", ".join(str(np.shape(a)) for a in args)
        called = f"{names[0]}({shapes}{''.join(f', {k}={v!r}' for k, v in kwargs.items())})"
        try:
            with np.errstate(all="ignore"):
                got = getattr(mine, names[0])(*copy.deepcopy(args), **kwargs)
        except NotImplementedError:
            return _FamilyResult(family, False, "not written yet")
        except Exception as exc:
            return _FamilyResult(family, False, f"{called} raised {type(exc).__name__}: {exc}")
        want = getattr(ref, names[0])(*args, **kwargs)
        if family == "softmax_cross_entropy":
            problem = _pair_problem(got, want, ("loss", "dlogits"))
            if problem:
                return _FamilyResult(family, False, f"{called}: {problem}")
            continue
        problem = _pair_problem(got, want, ("out", "cache"), only_first=True)
        if problem:
            return _FamilyResult(family, False, f"{called}: {problem}")
        _, cache = got
        dout = rng.standard_normal(np.shape(want[0]))
        try:
            with np.errstate(all="ignore"):
                grads = getattr(mine, names[1])(dout.copy(), cache)
        except NotImplementedError:
            return _FamilyResult(family, False, f"{names[1]} not written yet")
        except Exception as exc:
            return _FamilyResult(
                family, False, f"{names[1]} after {called} raised {type(exc).__name__}: {exc}"
            )
        ref_grads = getattr(ref, names[1])(dout, want[1])
        labels = ("dx", "dw", "db") if isinstance(ref_grads, tuple) else ("dx",)
        if not isinstance(ref_grads, tuple):
            grads, ref_grads = (grads,), (ref_grads,)
        problem = _pair_problem(grads, ref_grads, labels)
        if problem:
            return _FamilyResult(family, False, f"{names[1]} after {called}: {problem}")
    return _FamilyResult(family, True, "agrees with torch")


def _pair_problem(got, want, labels, *, only_first=False) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != len(want):
        return f"expected a tuple ({', '.join(labels)}), got {type(got).__name__}"
    for label, g, w in list(zip(labels, got, want, strict=True))[: 1 if only_first else None]:
        try:
            g = np.asarray(g, dtype=float)
        except (TypeError, ValueError):
            return f"{label} is not an array"
        w = np.asarray(w, dtype=float)
        if g.shape != w.shape:
            return f"{label} has shape {g.shape}, torch's has {w.shape}"
        if not np.allclose(g, w, rtol=1e-6, atol=1e-8):
            err = float(np.max(np.abs(g - w)))
            return f"{label} differs from torch's (largest difference {err:.3g})"
    return None


def _lenet_calls(batch: int) -> dict[str, list[tuple[str, tuple, dict]]]:
    """The calls one training step makes, per family, at batch size `batch` (float32)."""
    rng = np.random.default_rng(0)

    def a(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    B = batch
    return {
        "conv2d": [
            ("conv2d_forward", (a(B, 1, 28, 28), a(6, 1, 5, 5), a(6)), {"padding": 2}),
            ("conv2d_forward", (a(B, 6, 14, 14), a(16, 6, 5, 5), a(16)), {}),
        ],
        "relu": [
            ("relu_forward", (a(B, 6, 28, 28),), {}),
            ("relu_forward", (a(B, 16, 10, 10),), {}),
            ("relu_forward", (a(B, 120),), {}),
            ("relu_forward", (a(B, 84),), {}),
        ],
        "maxpool2d": [
            ("maxpool2d_forward", (a(B, 6, 28, 28),), {"kernel_size": 2, "stride": 2}),
            ("maxpool2d_forward", (a(B, 16, 10, 10),), {"kernel_size": 2, "stride": 2}),
        ],
        "flatten": [("flatten_forward", (a(B, 16, 5, 5),), {})],
        "linear": [
            ("linear_forward", (a(B, 400), a(120, 400), a(120)), {}),
            ("linear_forward", (a(B, 120), a(84, 120), a(84)), {}),
            ("linear_forward", (a(B, 84), a(10, 84), a(10)), {}),
        ],
        "softmax_cross_entropy": [
            ("softmax_cross_entropy", (a(B, 10), rng.integers(0, 10, size=B)), {})
        ],
    }


def _time_family(family: str, layers: Layers, batch: int) -> float:
    """Seconds one training step spends in `family` (forward + backward): the best of up
    to three runs after a warm-up, so that a busy moment of the machine counts less."""
    calls = _lenet_calls(batch)[family]

    def once() -> float:
        start = time.perf_counter()
        for name, args, kwargs in calls:
            result = getattr(layers, name)(*args, **kwargs)
            if name == "softmax_cross_entropy":
                continue
            out, cache = result
            getattr(layers, name.replace("_forward", "_backward"))(
                np.ones_like(np.asarray(out)), cache
            )
        return time.perf_counter() - start

    with np.errstate(all="ignore"):
        spent = once()  # warm-up: first calls allocate
        best = math.inf
        for _ in range(3):  # then the best of three, unless that takes long
            t = once()
            best, spent = min(best, t), spent + t
            if spent > 3.0:
                break
    return best


def _self_test(mine: Layers, ref: Layers = LAYERS) -> list[_FamilyResult]:
    results = []
    for family, names in PAIRS.items():
        if all(getattr(mine, n) is getattr(ref, n) for n in names):
            results.append(_FamilyResult(family, False, "not defined: torch's is used"))
            continue
        results.append(_compare_family(family, mine, ref))
    return results


@single_threaded
def check_my_layers(mine: Layers) -> dict[str, bool]:
    """Print, for each layer family, whether your functions agree with the torch layers.

    Returns:
        family -> True when yours agree (forward values and backward gradients, float64).
    """
    results = _self_test(mine)
    _print_results(results)
    return {r.family: r.ok for r in results}


def _print_results(results: Sequence[_FamilyResult]) -> None:
    width = max(len(r.family) for r in results)
    print("Your layers, compared with the torch layers (float64, small batches):")
    for r in results:
        print(f"  {'✓' if r.ok else '✗'} {r.family:<{width}}  {r.message}")


@single_threaded
def choose_layers(
    mine: Layers,
    *,
    use_mine: bool | str = "auto",
    epochs: int,
    n_train: int,
    batch_size: int,
    budget_s: float = 60.0,
) -> Layers:
    """Pick the layers for training: yours where they agree with torch's, torch's elsewhere.

    Args:
        mine: your layers, e.g. ``layers_from(globals(), fallback=LAYERS)``.
        use_mine: "auto" (yours where correct, unless training with them would take longer
            than `budget_s`), True (yours where correct, however long it takes) or False
            (torch's everywhere).
        epochs, n_train, batch_size: the training run, to estimate its time.
        budget_s: the longest training run "auto" accepts with your layers.
    Returns:
        The Layers to train with; ``origin`` says which family comes from where.
    """
    if use_mine not in (True, False, "auto"):
        raise ValueError(f"use_mine must be True, False or 'auto'; got {use_mine!r}")
    steps = epochs * -(-n_train // batch_size)
    if use_mine is False:
        print("use_mine=False: training uses the torch layers for everything.")
        return LAYERS
    results = _self_test(mine)
    chosen = {r.family: r.ok for r in results}
    torch_time = {f: _time_family(f, LAYERS, batch_size) for f in PAIRS}
    my_time = {}
    for r in results:
        if r.ok:
            try:
                my_time[r.family] = _time_family(r.family, mine, batch_size)
            except Exception as exc:  # right on small inputs, fails on LeNet's shapes
                chosen[r.family] = r.ok = False
                r.message = f"fails on LeNet's shapes: {type(exc).__name__}: {exc}"

    def estimate() -> float:
        # + 15 %: the validation and test passes of the run (forward only).
        return 1.15 * steps * sum(my_time[f] if chosen[f] else torch_time[f] for f in PAIRS)

    notes = []
    if use_mine == "auto":
        while estimate() > budget_s:
            slow = [f for f in PAIRS if chosen[f]]
            if not slow:
                break
            worst = max(slow, key=lambda f: my_time[f] - torch_time[f])
            chosen[worst] = False
            notes.append(
                f"Your {worst} is correct, but training with it would take about "
                f"{1.15 * my_time[worst] * steps:.0f} s (torch's: "
                f"{1.15 * torch_time[worst] * steps:.0f} s), so torch's is used. Set "
                "USE_MY_LAYERS = True to train with yours anyway."
            )
    _print_results(results)
    used = ", ".join(f"{f} {'yours' if chosen[f] else 'torch'}" for f in PAIRS)
    print(f"Training ({steps} steps) uses: {used}.")
    for note in notes:
        print(note)
    print(f"Estimated time spent in the layers: about {estimate():.0f} s.")
    mine_used = {n: getattr(mine, n) for f, names in PAIRS.items() if chosen[f] for n in names}
    return layers_from(fallback=LAYERS, **mine_used)


@single_threaded
def use_layers_that_pass(mine: Any, reference: Any = None, *, verbose: bool = True) -> Any:
    """Keep each pasted layer family that agrees with torch; replace the others by torch's.

    Args:
        mine: a course.torch_layers.Layers, e.g. ``layers_from(globals(), fallback=LAYERS)``.
        reference: the known-good Layers (default: course.torch_layers.LAYERS).
        verbose: print one line per layer family: whose functions are used, and why.
    Returns:
        A Layers with your functions where they pass and torch's elsewhere.
    """
    reference = LAYERS if reference is None else reference
    keep: dict[str, Callable] = {}
    lines = []
    for family, names in PAIRS.items():
        origin = {mine.origin.get(n, "?") for n in names}
        if origin == {"yours"}:
            result = _compare_family(family, mine, reference)
            if result.ok:
                keep.update({n: getattr(mine, n) for n in names})
                lines.append(f"  {family:<22} yours ✓ (agrees with torch)")
            elif result.message == "not written yet":
                lines.append(f"  {family:<22} torch's (yours is not written yet)")
            else:
                lines.append(f"  {family:<22} torch's — yours {result.message}")
        elif "yours" in origin:
            lines.append(f"  {family:<22} torch's — paste both the forward and the backward")
        else:
            lines.append(f"  {family:<22} torch's (not pasted)")
    if verbose:
        print("Layers used in this notebook:")
        print("\n".join(lines))
    return layers_from(fallback=reference, **keep)


def numpy_lenet_ready(
    init_fn: Callable, forward_fn: Callable, backward_fn: Callable, layers: Any
) -> bool:
    """True when your init_lenet, lenet_forward and lenet_backward run on two images.

    Only that they run, not that they are right: cross_check_lenet says whether they are.
    Prints one line saying which of them is missing when they do not run.
    """
    try:
        params = {k: np.asarray(v, dtype=np.float64) for k, v in init_fn(0).items()}
        logits, cache = forward_fn(params, np.zeros((2, 1, 28, 28)), layers)
        backward_fn(np.zeros_like(np.asarray(logits, dtype=np.float64)), cache, layers)
    except NotImplementedError as exc:
        print(f"Your numpy LeNet is not complete ({exc}), so sections 5 and 8 skip it.")
        return False
    except Exception as exc:
        print(
            f"Your numpy LeNet raised {type(exc).__name__}: {exc}; sections 5 and 8 skip it. "
            "(Run assignment 6's checks on it.)"
        )
        return False
    print(
        "Your numpy LeNet (init_lenet, lenet_forward, lenet_backward) runs: sections 5 "
        "and 8 use it."
    )
    return True
