"""Judged cells whose functions take objects, not only data: 06's LeNet pieces and
training loop, 07's torch modules.

A visible check of these cells hands the student's function things the wire cannot carry
(torch-backed layers wrapped in the check's recorders, torch stand-ins for forward,
backward and step, torch modules and optimisers), so `autograder.judging.judge` cannot replay it.
Each cell here has a *scenario* instead, in the same two halves as every judged cell:

- `plan(rng)` draws secret inputs from the job's seed and returns the calls for the
  kernel (`course.probe` wire format; objects as `Given`, which the kernel makes from the
  course's torch parts) and what the reference (`solutions/`) computes for them;
- `judge(results, expected)` compares what the student's functions returned, here on the
  trusted side, and raises `CheckFailed` naming what differs. Nothing of the kernel's
  text reaches the verdict.

These replace the hidden tests that used to run in the kernel (they asked the same
questions: see docs/grading-sandbox.md, "Probe and judge").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import solutions
from course.checks import CheckFailed
from course.checks._core import _compare
from course.checks.lenet import CACHE_KEYS as CACHE_NAMES
from course.checks.lenet import PARAM_NAMES
from course.probe import ArgRef, Given, Opaque, encode
from solutions.lenet import PARAM_SHAPES

LAYERS = Given("layers")


@dataclass(frozen=True)
class Scenario:
    plan: Callable[[np.random.Generator], tuple[list[dict], Any]]
    judge: Callable[[list[dict], Any], None]
    passed: str  # the verdict's line when every comparison holds


def call(
    fn: str,
    *args: Any,
    then: dict | None = None,
    state_of=(),
    after_of=None,
    names: dict | None = None,
    **kwargs: Any,
) -> dict:
    """One planned call of the student's `fn` (Given objects made in the kernel).
    `then`: report what the returned torch module is and does (`course.probe.module_report`);
    `state_of`: report these module arguments after the call; `after_of`: report only these
    of the arguments changed in place (a report is bounded: a LeNet is 61,706 numbers);
    `names`: the notebook's globals that hold these (Given) objects during the call, so
    that a default the student's code falls back on (`forward or lenet_forward`) is a
    known-good one."""
    wire = {
        "fn": fn,
        "args": [_wire(a) for a in args],
        "kwargs": {"dict": {k: _wire(v) for k, v in kwargs.items()}},
    }
    if then is not None:
        wire["then"] = {"dict": {k: _wire(v) for k, v in then.items()}}
    if state_of:
        wire["state_of"] = list(state_of)
    if after_of is not None:
        wire["after_of"] = list(after_of)
    if names:
        wire["names"] = {"dict": {k: _wire(v) for k, v in names.items()}}
    return wire


def given_call(layer: str, *args: Any, **kwargs: Any) -> dict:
    """A step the kernel runs with the course's torch layer `layer` (not reported)."""
    return {**call(layer, *args, **kwargs), "given_fn": layer}


def _wire(value: Any) -> Any:
    if isinstance(value, Given):
        return value.wire()
    if isinstance(value, dict) and set(value) == {"ref"}:
        return value
    if isinstance(value, dict):
        return {"dict": {k: _wire(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [_wire(v) for v in value]}
    return encode(value)


def _fail(message: str, mistake: str) -> CheckFailed:
    return CheckFailed(message, mistake=mistake)


def value(results: list[dict], i: int, fn: str, what: str) -> Any:
    """The student's result of call `i`, or the failure that says why there is none."""
    r = results[i]
    if "missing" in r:
        raise _fail(f"{fn} is not defined: run the cell that defines it.", "not_defined")
    if "raised" in r:
        ename, evalue = r["raised"]
        raise _fail(f"{fn} raised {ename} on {what}: {evalue}", "raised")
    return r["value"]


def close(got: Any, expected: Any, what: str, *, rtol=1e-6, atol=1e-8, key="values") -> None:
    if isinstance(expected, dict):  # parameters by name
        if not isinstance(got, dict) or sorted(got) != sorted(expected):
            raise _fail(f"{what}: not the names {sorted(expected)}.", key)
        for name in expected:
            close(got[name], expected[name], f"{what}: {name}", rtol=rtol, atol=atol, key=key)
        return
    if isinstance(got, Opaque):
        raise _fail(f"{what}: got a {got.type_name}, expected numbers.", "wrong_type")
    problem = _compare(got, expected, rtol=rtol, atol=atol)
    if problem is not None:
        if problem == "values differ":
            problem = "the values differ from the reference"
        raise _fail(f"{what}: {problem}.", key)


def number(got: Any, what: str) -> float:
    """A result documented as a Python float (an int is accepted; a tensor is not: it may
    still hold the autograd graph of the whole epoch)."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        kind = got.type_name if isinstance(got, Opaque) else type(got).__name__
        raise _fail(
            f"{what} is a {kind}; the docstring asks for a Python float (loss.item(), "
            "or float(...) of a number that no longer tracks gradients).",
            "not_a_float",
        )
    return float(got)


def stats(got: Any, what: str) -> tuple[float, float]:
    """The (loss, accuracy) of a {"loss": ..., "acc": ...} result, each a float."""
    if not isinstance(got, dict) or "loss" not in got or "acc" not in got:
        raise _fail(f"{what}: return {{'loss': ..., 'acc': ...}}.", "wrong_return")
    return number(got["loss"], f"{what}: 'loss'"), number(got["acc"], f"{what}: 'acc'")


# ---------------------------------------------------------------------------------------
# 06: init_lenet, lenet_forward, lenet_backward, train_epoch, evaluate
# ---------------------------------------------------------------------------------------


def _seeds(rng: np.random.Generator, n: int) -> list[int]:
    return [int(s) for s in rng.integers(0, 2**31 - 1, size=n)]


def plan_init(rng):
    seeds = _seeds(rng, 1)  # one LeNet of numbers: a report stays small
    calls = [call("init_lenet", s) for s in seeds]
    return calls, [solutions.LeNet(seed=s, dtype=np.float64).params for s in seeds]


def judge_init(results, expected):
    for i, reference in enumerate(expected):
        got = value(results, i, "init_lenet", "a hidden seed")
        what = f"init_lenet on hidden seed {i + 1}"
        if not isinstance(got, dict) or sorted(got) != sorted(reference):
            raise _fail(f"{what}: return a dict with the ten parameter names.", "names")
        for name, ref in reference.items():
            if isinstance(got[name], np.ndarray) and got[name].dtype != np.float64:
                raise _fail(f"{what}: {name} must be float64.", "dtype")
            close(got[name], ref, f"{what}: {name}")


def _scaled_lenet(seed: int, scale: float) -> solutions.LeNet:
    model = solutions.LeNet(seed=seed, dtype=np.float64)
    model.load_state_dict({k: v * scale for k, v in model.params.items()})
    return model


def plan_forward(rng):
    calls, expected = [], []
    for scale in (1.0, float(rng.uniform(1.5, 3.0)), float(rng.uniform(0.3, 0.8))):
        model = _scaled_lenet(_seeds(rng, 1)[0], scale)
        x = rng.standard_normal((int(rng.integers(1, 6)), 1, 28, 28))
        calls.append(call("lenet_forward", model.state_dict(), x, LAYERS))
        expected.append(model.forward(x))
    return calls, expected


def judge_forward(results, expected):
    for i, logits in enumerate(expected):
        what = f"lenet_forward on {len(logits)} hidden images (case {i + 1})"
        got = value(results, i, "lenet_forward", what)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise _fail(f"{what}: return (logits, caches).", "wrong_return")
        close(got[0], logits, f"{what}: the logits")
        if not isinstance(got[1], dict) or sorted(got[1]) != sorted(CACHE_NAMES):
            raise _fail(f"{what}: caches must have the 12 names of the docstring.", "cache_names")


def _forward_steps(params: dict, x: np.ndarray, first: int) -> tuple[list[dict], dict]:
    """The forward pass as given-layer calls (call indices from `first`), and the
    caches under the docstring's names, as references to those calls' results."""
    steps = [
        ("conv1", "conv2d_forward", (params["conv1.weight"], params["conv1.bias"]), {"padding": 2}),
        ("relu1", "relu_forward", (), {}),
        ("pool1", "maxpool2d_forward", (), {"kernel_size": 2, "stride": 2}),
        ("conv2", "conv2d_forward", (params["conv2.weight"], params["conv2.bias"]), {}),
        ("relu2", "relu_forward", (), {}),
        ("pool2", "maxpool2d_forward", (), {"kernel_size": 2, "stride": 2}),
        ("flatten", "flatten_forward", (), {}),
        ("fc1", "linear_forward", (params["fc1.weight"], params["fc1.bias"]), {}),
        ("relu3", "relu_forward", (), {}),
        ("fc2", "linear_forward", (params["fc2.weight"], params["fc2.bias"]), {}),
        ("relu4", "relu_forward", (), {}),
        ("fc3", "linear_forward", (params["fc3.weight"], params["fc3.bias"]), {}),
    ]
    calls, caches, h = [], {}, x
    for k, (name, layer, extra, kwargs) in enumerate(steps):
        calls.append(given_call(layer, h, *extra, **kwargs))
        h = {"ref": [first + k, 0]}
        caches[name] = {"ref": [first + k, 1]}
    return calls, caches


def plan_backward(rng):
    calls, expected = [], []
    for scale in (float(rng.uniform(1.5, 2.5)),):  # one case: ten gradients of a LeNet
        model = _scaled_lenet(_seeds(rng, 1)[0], scale)
        N = int(rng.integers(1, 6))
        x, dlogits = rng.standard_normal((N, 1, 28, 28)), rng.standard_normal((N, 10))
        steps, caches = _forward_steps(model.state_dict(), x, len(calls))
        calls += [*steps, call("lenet_backward", dlogits, caches, LAYERS)]
        model.forward(x)
        expected.append(model.backward(dlogits))
    return calls, expected


def judge_backward(results, expected):
    backward = [i for i in range(len(results)) if (i + 1) % (len(CACHE_NAMES) + 1) == 0]
    for case, (i, grads) in enumerate(zip(backward, expected, strict=True), start=1):
        what = f"lenet_backward on hidden images (case {case}, caches of the course's layers)"
        got = value(results, i, "lenet_backward", what)
        if not isinstance(got, dict) or sorted(got) != sorted(grads):
            raise _fail(f"{what}: return a dict of the ten gradients by name.", "names")
        for name, ref in grads.items():
            close(got[name], ref, f"{what}: {name}")


STAND_INS = {
    "forward": Given("stand_in", ["forward"]),
    "backward": Given("stand_in", ["backward"]),
    "step": Given("stand_in", ["step"]),
}


def plan_train(rng):
    calls, expected = [], []
    # One epoch with everything in play: an uneven last batch, momentum carried over from
    # a velocity left by earlier steps, weight decay (one LeNet of numbers comes back).
    # And one whose batches are all full (N a multiple of the batch size, no momentum).
    cases = [
        (int(rng.integers(16, 24)), 5, 0.1, 0.5, 0.01, True),
        (4 * int(rng.integers(3, 5)), 4, 0.05, 0.0, 0.0, False),
    ]
    for N, B, lr, mu, wd, warm in cases:
        seed, data_seed = _seeds(rng, 2)
        model = solutions.LeNet(seed=seed, dtype=np.float64)
        params0 = model.state_dict()
        velocity0 = {
            k: 0.01 * rng.standard_normal(v.shape) if warm else np.zeros(v.shape)
            for k, v in params0.items()
        }
        X, y = rng.standard_normal((N, 1, 28, 28)), rng.integers(0, 10, size=N)
        opt = solutions.SGD(model.params, lr=lr, momentum=mu, weight_decay=wd)
        if warm:
            opt.state = {k: v.copy() for k, v in velocity0.items()}
        stats = solutions.train_epoch(
            model, opt, X, y, batch_size=B, rng=np.random.default_rng(data_seed)
        )
        calls.append(
            call(
                "train_epoch",
                params0,
                velocity0,
                X,
                y,
                LAYERS,
                batch_size=B,
                lr=lr,
                momentum=mu,
                weight_decay=wd,
                rng=Given("rng", [data_seed]),
                after_of=[0],
                **STAND_INS,
            )
        )
        expected.append((stats, model.state_dict(), f"{N} hidden images in batches of {B}"))
    return calls, expected


def judge_train(results, expected):
    for i, (ref, params, label) in enumerate(expected):
        what = f"train_epoch on {label}"
        loss, acc = stats(value(results, i, "train_epoch", what), what)
        close(loss, ref["loss"], f"{what}: the epoch loss")
        close(acc, ref["acc"], f"{what}: the accuracy")
        after = (results[i].get("after") or {}).get("0")
        if after is None:
            raise _fail(f"{what}: params were not updated in place.", "params_unchanged")
        close(after, params, f"{what}: the parameters after the epoch", key="params")


def plan_evaluate(rng):
    calls, expected = [], []
    # The last call leaves `forward` out: evaluate falls back on lenet_forward, which the
    # kernel points at the stand-in for that call (a wrong lenet_forward is charged once).
    for N, B, given in [
        (int(rng.integers(9, 14)), 4, True),
        (int(rng.integers(5, 9)), 500, True),
        (int(rng.integers(5, 9)), 3, False),
    ]:
        model = _scaled_lenet(_seeds(rng, 1)[0], 3.0)
        X, y = rng.standard_normal((N, 1, 28, 28)), rng.integers(0, 10, size=N)
        forward = {"forward": STAND_INS["forward"]} if given else {}
        names = None if given else {"lenet_forward": STAND_INS["forward"]}
        calls.append(
            call("evaluate", model.state_dict(), X, y, LAYERS, batch_size=B, names=names, **forward)
        )
        label = f"{N} images, batches of {B}" + ("" if given else ", `forward` not given")
        expected.append((solutions.evaluate(model, X, y, batch_size=B), label))
    return calls, expected


def judge_evaluate(results, expected):
    for i, (ref, label) in enumerate(expected):
        what = f"evaluate on {label}"
        loss, acc = stats(value(results, i, "evaluate", what), what)
        close(loss, ref["loss"], f"{what}: the loss")
        close(acc, ref["acc"], f"{what}: the accuracy")
        if results[i].get("mutated"):
            raise _fail(f"{what}: the parameters must not change.", "changed_params")


# ---------------------------------------------------------------------------------------
# 07: make_lenet_torch, load_numpy_params, train_epoch_torch, evaluate_torch
# ---------------------------------------------------------------------------------------


def _module(got: Any, what: str) -> dict:
    if not isinstance(got, dict) or got.get("type") != "Module":
        kind = got.get("type") if isinstance(got, dict) else type(got).__name__
        raise _fail(f"{what}: returned a {kind}, not a torch nn.Module.", "not_a_module")
    if "error" in got:
        raise _fail(f"{what}: {got['error']}", "module_error")
    return got


def plan_make(rng):
    calls, expected = [], []
    for variant in ("relu-max", "sigmoid-avg"):
        net = solutions.LeNet(variant, seed=_seeds(rng, 1)[0], dtype=np.float64)
        x = rng.standard_normal((int(rng.integers(1, 7)), 1, 28, 28))
        calls.append(
            call("make_lenet_torch", variant=variant, then={"load": net.state_dict(), "x": x})
        )
        expected.append((variant, net.count_params(), net.forward(x)))
    return calls, expected


def judge_make(results, expected):
    for i, (variant, count, logits) in enumerate(expected):
        what = f"make_lenet_torch(variant={variant!r})"
        got = _module(value(results, i, "make_lenet_torch", variant), what)
        shapes = {k: tuple(v) for k, v in got["shapes"].items()}
        if sorted(shapes) != sorted(PARAM_SHAPES):
            raise _fail(
                f"{what}: the state_dict keys are not LeNet's {list(PARAM_NAMES)}.", "names"
            )
        for name, shape in PARAM_SHAPES.items():
            if shapes[name] != tuple(shape):
                raise _fail(f"{what}: {name} has shape {shapes[name]}, expected {shape}.", "shapes")
        if got["count"] != count:
            raise _fail(f"{what}: {got['count']:,} parameters, expected {count:,}.", "count")
        close(
            got.get("logits"),
            logits,
            f"{what}: the logits of hidden images with hidden parameters",
            rtol=1e-9,
            atol=1e-11,
        )
        close(
            got.get("other_mode_logits"),
            logits,
            f"{what}: the logits after switching model.train() / model.eval() (lecture "
            "002's LeNet has no layer that acts only while training, such as dropout)",
            rtol=1e-9,
            atol=1e-11,
        )


def plan_load(rng):
    calls, expected = [], []
    for dtype in (np.float32,):  # converted on loading: the harder case
        net = solutions.LeNet(seed=_seeds(rng, 1)[0], dtype=dtype)
        params = net.state_dict()
        net64 = solutions.LeNet(dtype=np.float64)
        net64.load_state_dict(params)
        x = rng.standard_normal((int(rng.integers(1, 6)), 1, 28, 28))
        calls.append(
            call(
                "load_numpy_params",
                Given("torch_lenet", ["float32"]),
                params,
                then={"x": x, "values": True},
            )
        )
        expected.append(({k: v.astype(np.float64) for k, v in params.items()}, net64.forward(x)))
    missing = solutions.LeNet(dtype=np.float32).state_dict()
    missing.pop("fc2.bias")
    wrong = solutions.LeNet(dtype=np.float32).state_dict()
    wrong["conv2.weight"] = wrong["conv2.weight"].reshape(6, 16, 5, 5)
    calls += [
        call("load_numpy_params", Given("torch_lenet"), missing),
        call("load_numpy_params", Given("torch_lenet"), wrong),
    ]
    expected += [("KeyError", "fc2.bias"), ("ValueError", "conv2.weight")]
    return calls, expected


def judge_load(results, expected):
    for i, exp in enumerate(expected):
        if isinstance(exp[0], str):  # an error that names the tensor
            ename, name = exp
            r = results[i]
            case = "no array for" if ename == "KeyError" else "a wrong shape of"
            what = f"load_numpy_params with {case} {name}"
            if "missing" in r:
                raise _fail("load_numpy_params is not defined: run its cell.", "not_defined")
            if "raised" not in r or r["raised"][0] != ename:
                raise _fail(f"{what}: {ename} was expected (the docstring's Raises).", "errors")
            if name not in r["raised"][1]:
                raise _fail(f"{what}: the {ename}'s message must name {name}.", "errors")
            continue
        params, logits = exp
        what = f"load_numpy_params with hidden parameters (case {i + 1})"
        got = _module(value(results, i, "load_numpy_params", what), what)
        for name, dt in got["dtypes"].items():
            if dt != "float64":
                raise _fail(f"{what}: {name} is {dt} after loading, expected float64.", "dtype")
        if not got["trainable"]:
            raise _fail(f"{what}: the parameters no longer require gradients.", "not_trainable")
        close(got["state"], params, f"{what}: the parameters", rtol=0, atol=0)
        close(got.get("logits"), logits, f"{what}: the logits", rtol=1e-9, atol=1e-11)


def _batches(rng, sizes, dtype=np.float64) -> list[tuple]:
    return [
        (rng.standard_normal((b, 1, 28, 28)).astype(dtype), rng.integers(0, 10, size=b))
        for b in sizes
    ]


def _numpy_epoch(net, data, lr) -> tuple[float, float]:
    sgd = solutions.SGD(net.params, lr=lr)
    total, correct = 0.0, 0
    for x, y in data:
        logits = net.forward(x)
        loss, dlogits = solutions.softmax_cross_entropy(logits, y)
        sgd.step(net.backward(dlogits))
        total += float(loss) * len(y)
        correct += int((logits.argmax(axis=1) == y).sum())
    n = sum(len(y) for _, y in data)
    return total / n, correct / n


def plan_train_torch(rng):
    net = solutions.LeNet(seed=_seeds(rng, 1)[0], dtype=np.float64)
    state0 = net.state_dict()
    data = _batches(rng, [16, 16, int(rng.integers(3, 9))])
    lr = float(rng.choice([0.05, 0.1]))
    model = Given("torch_lenet", ["float64", state0, "eval"])  # model.train() is required
    calls = [
        call(
            "train_epoch_torch",
            model,
            data,
            Given("sgd", [ArgRef(0), lr]),
            Given("device", ["cpu"]),
            state_of=[0],
        )
    ]
    loss, acc = _numpy_epoch(net, data, lr)
    # The loss falls: five epochs on noisy copies of ten class templates, one model.
    templates = rng.standard_normal((10, 1, 28, 28))
    y = np.arange(32) % 10
    X = (templates[y] + 0.5 * rng.standard_normal((32, 1, 28, 28))).astype(np.float32)
    start = solutions.LeNet(seed=_seeds(rng, 1)[0], dtype=np.float32).state_dict()
    falling = [(X[:16], y[:16]), (X[16:], y[16:])]
    calls.append(
        call(
            "train_epoch_torch",
            Given("torch_lenet", ["float32", start]),
            falling,
            Given("sgd", [ArgRef(0), 0.05, 0.9]),
            Given("device", ["cpu"]),
        )
    )
    reuse = [{"argof": [1, 0]}, falling, {"argof": [1, 2]}, {"argof": [1, 3]}]
    calls += [
        {"fn": "train_epoch_torch", "args": [_wire_raw(a) for a in reuse], "kwargs": {"dict": {}}}
        for _ in range(4)
    ]
    return calls, (loss, acc, net.state_dict())


def _wire_raw(value: Any) -> Any:
    return value if isinstance(value, dict) and "argof" in value else _wire(value)


def _judge_epoch_call(
    results, fn: str, what: str, expected, *, training: bool, label: str, **kw
) -> None:
    """Call 0 of a torch epoch cell: its {"loss", "acc"} and its model argument after the
    call (parameters compared with `kw`'s tolerance; training mode as the docstring asks)."""
    loss, acc, params = expected[:3]
    got = value(results, 0, fn, what)
    if results[0].get("mixes"):  # DeviceWatch saw data that never went to `device`
        raise _fail(
            f"{fn} left data on the CPU ({what}): {results[0]['mixes'][0]}. On a GPU that "
            "line raises 'Expected all tensors to be on the same device'; move each batch, "
            "images and labels, with torch.as_tensor(x, device=device) and assign the result.",
            "not_on_device",
        )
    got_loss, got_acc = stats(got, what)
    close(got_loss, loss, f"{what}: the mean loss", rtol=1e-7)
    close(got_acc, acc, f"{what}: the accuracy")
    after = (results[0].get("after") or {}).get("0") or {}
    close(after.get("state"), params, label, **kw)
    if after.get("training") is not training:
        advice = (
            "the model was left in eval mode; call model.train() first"
            if training
            else "the model is still in training mode; call model.eval() (dropout and "
            "batch norm behave differently)"
        )
        raise _fail(f"{what}: {advice}, as the docstring asks.", "mode")


def judge_train_torch(results, expected):
    what = "train_epoch_torch, one epoch of LeNet (float64) on hidden batches"
    _judge_epoch_call(
        results, "train_epoch_torch", what, expected, training=True, rtol=1e-7, atol=1e-10,
        label=f"{what}: the parameters after the epoch", key="params",
    )  # fmt: skip
    losses = []
    for i in range(1, len(results)):
        got = value(results, i, "train_epoch_torch", "five epochs of a small task")
        losses.append(number(got.get("loss") if isinstance(got, dict) else got, "'loss'"))
    if not all(math.isfinite(v) for v in losses) or not all(
        b < a for a, b in itertools.pairwise(losses)
    ):
        raise _fail(
            "train_epoch_torch: over five epochs of a small task the training loss "
            "does not fall at every epoch.",
            "loss_not_falling",
        )
    if losses[-1] > losses[0] - 0.02:
        raise _fail(
            "train_epoch_torch: the training loss falls too little over five epochs.",
            "loss_not_falling",
        )


def plan_evaluate_torch(rng):
    net = solutions.LeNet(seed=_seeds(rng, 1)[0], dtype=np.float64)
    n = int(rng.integers(15, 30))
    X, y = rng.standard_normal((n, 1, 28, 28)), rng.integers(0, 10, size=n)
    data = [(X[:10], y[:10]), (X[10:], y[10:])]
    calls = [
        call(
            "evaluate_torch",
            Given("torch_lenet", ["float64", net.state_dict()]),
            data,
            Given("device", ["cpu"]),
            state_of=[0],
        )
    ]
    logits = net.forward(X)
    loss, _ = solutions.softmax_cross_entropy(logits, y)
    return calls, (float(loss), float((logits.argmax(axis=1) == y).mean()), net.state_dict(), n)


def judge_evaluate_torch(results, expected):
    what = f"evaluate_torch on {expected[3]} hidden images"
    _judge_epoch_call(
        results, "evaluate_torch", what, expected, training=False, rtol=0, atol=0,
        label=f"{what}: the parameters (they must not change)", key="changed_params",
    )  # fmt: skip


SCENARIOS: dict[str, Scenario] = {
    "lenet_init_lenet_tests": Scenario(
        plan_init, judge_init, "✓ init_lenet matches on a hidden seed"
    ),
    "lenet_lenet_forward_tests": Scenario(
        plan_forward, judge_forward, "✓ lenet_forward: logits and caches on hidden images"
    ),
    "lenet_lenet_backward_tests": Scenario(
        plan_backward, judge_backward, "✓ lenet_backward: every gradient on hidden images"
    ),
    "lenet_train_epoch_tests": Scenario(
        plan_train, judge_train, "✓ train_epoch: loss, accuracy and parameters of a hidden epoch"
    ),
    "lenet_evaluate_tests": Scenario(
        plan_evaluate, judge_evaluate, "✓ evaluate: loss and accuracy on hidden images"
    ),
    "gpu_make_lenet_torch_tests": Scenario(
        plan_make, judge_make, "✓ make_lenet_torch: both variants, names, shapes, count, logits"
    ),
    "gpu_load_numpy_params_tests": Scenario(
        plan_load, judge_load, "✓ load_numpy_params: values, float64, logits and errors"
    ),
    "gpu_train_epoch_torch_tests": Scenario(
        plan_train_torch, judge_train_torch, "✓ train_epoch_torch: the epoch matches; loss falls"
    ),
    "gpu_evaluate_torch_tests": Scenario(
        plan_evaluate_torch, judge_evaluate_torch, "✓ evaluate_torch: loss, accuracy, eval mode"
    ),
}
