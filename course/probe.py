"""The grading probe: the half of a hidden test that runs in the student's kernel.

The student's kernel is a witness, never a judge (docs/grading-sandbox.md, "Probe and
judge"). While a notebook is graded, the trusted grader writes a *plan* next to it: for
each graded cell, the calls to make (the student's function, and inputs drawn from a
secret seed) or the variables to read. The hidden block of each graded test cell calls
`probe(grade_id, globals())`, which makes those calls and reports the raw results as one
display output of that cell. Whether they are right is decided outside the sandbox, by
the grader, with the reference solutions that the sandbox never sees.

The probe reveals nothing: it holds no expected value and no solution. Outside grading
(a student's own run, stock `nbgrader validate`) there is no plan and it does nothing.

The wire format (`encode`/`decode`) is JSON: numbers, strings, lists, dicts and numpy
arrays as base64 of a whitelisted dtype. Nothing is ever unpickled, and `decode` bounds
what it accepts.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import importlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from IPython.display import display

from course.checks import _repair
from course.checks._core import correct_helpers, names_in
from course.checks._oracle import TorchLeNet5, _torch

__all__ = ["MIME", "PLAN_ENV", "ExprFn", "Given", "ProbeFormatError", "decode", "encode", "probe"]

#: The display output that carries a cell's results to the grader.
MIME = "application/vnd.cnn-course.probe+json"
#: Environment variable naming the plan (relative to $HOME, the submission's folder).
PLAN_ENV = "CNN_COURSE_PROBE_PLAN"
#: dtypes an array may have on the wire (anything else is refused).
DTYPES = ("float64", "float32", "int64", "int32", "bool")
#: At most this many array elements in one cell's report (a LeNet has 61,706 parameters).
MAX_ELEMENTS = 4_000_000
MAX_DEPTH = 12
MAX_TEXT = 300


class ProbeFormatError(ValueError):
    """A value that cannot travel (too large, too deep, or of a type the wire refuses)."""


class ExprFn:
    """A test function f(x) given by a numpy expression in `x` and named constants, so
    that it can travel to a kernel (a lambda cannot). A constant may be the very array
    that is passed as an argument (f reads a layer's weights through a closure): on the
    wire it is sent as a reference to that argument.

    Example: ExprFn("f(x) = sum(C * sin(x))", "np.sum(C * np.sin(x))", {"C": C}).
    """

    def __init__(self, text: str, expr: str, consts: dict | None = None):
        self.text, self.expr, self.consts = text, expr, dict(consts or {})
        self._code = compile(expr, "<test function>", "eval")

    def __call__(self, x):
        return eval(self._code, {"np": np, "__builtins__": {}}, {**self.consts, "x": x})

    def __repr__(self) -> str:
        return self.text


class ArgRef:
    """On the wire: "the call's positional argument `index`" (see ExprFn)."""

    def __init__(self, index: int):
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArgRef) and other.index == self.index

    def __hash__(self) -> int:
        return hash(("arg", self.index))


class ArgOf:
    """On the wire: "the object passed as argument `pos` of call `call`" (an optimiser's
    parameters, updated in place by one call and passed again to the next)."""

    def __init__(self, call: int, pos: int):
        self.call, self.pos = call, pos

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArgOf) and (other.call, other.pos) == (self.call, self.pos)

    def __hash__(self) -> int:
        return hash(("argof", self.call, self.pos))


class Given:
    """On the wire (in plans only): an object the kernel makes itself from the course's
    known-good parts, for a function whose arguments are not data: the torch-backed
    layers, torch stand-ins for forward/backward/step, a torch LeNet with given
    parameters, an optimiser over another argument, a device, a seeded generator.
    `GIVEN` lists them; none holds an answer (each is the course's torch oracle, which
    the visible checks pass the student's functions too)."""

    def __init__(self, name: str, params: list | None = None):
        self.name, self.params = name, list(params or [])

    def wire(self) -> dict:
        return {
            "given": [
                self.name,
                *(
                    encode(p) if not isinstance(p, ArgRef) else {"arg": p.index}
                    for p in self.params
                ),
            ]
        }

    def __repr__(self) -> str:
        return f"Given({self.name})"


def _torch_lenet(args: list, dtype: str = "float32", state: dict | None = None, mode="train"):
    torch = _torch()
    model = TorchLeNet5(getattr(torch, dtype))
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
    return model.train(mode == "train")


def _stand_in(args: list, part: str, _spies: dict):
    # One set of torch stand-ins per call: forward's graph is what backward differentiates.
    if "spy" not in _spies:
        _spies["spy"] = importlib.import_module("course.checks.lenet")._Spy()
    return getattr(_spies["spy"], {"forward": "forward", "backward": "backward"}.get(part, "step"))


#: What a plan may ask the kernel to make (`Given(name, params)`); each maker gets the
#: call's arguments made so far (an optimiser is over an earlier argument's parameters).
GIVEN = {
    "layers": lambda args: importlib.import_module("course.torch_layers").LAYERS,
    "rng": lambda args, seed: np.random.default_rng(int(seed)),
    "device": lambda args, name="cpu": _torch().device(str(name)),
    "torch_lenet": _torch_lenet,
    "sgd": lambda args, ref, lr, momentum=0.0: _torch().optim.SGD(
        args[ref.index].parameters(), lr=float(lr), momentum=float(momentum)
    ),
}


def _make(value: Any, args: list, spies: dict) -> Any:
    """`value` with every Given made (a ArgRef inside a Given means "argument i")."""
    if isinstance(value, Given):
        if value.name == "stand_in":
            return _stand_in(args, str(value.params[0]), spies)
        if value.name not in GIVEN:
            raise ProbeFormatError(f"unknown given object {value.name!r}")
        return GIVEN[value.name](args, *value.params)
    if isinstance(value, list):
        out: list = []
        for v in value:  # in order: a later argument may refer to an earlier one
            out.append(_make(v, out if value is args else args, spies))
        return out
    if isinstance(value, tuple):
        return tuple(_make(v, args, spies) for v in value)
    if isinstance(value, dict):
        return {k: _make(v, args, spies) for k, v in value.items()}
    return value


def module_report(
    model: Any, *, load: dict | None = None, x: Any = None, values: bool = False
) -> dict:
    """What the judge needs to know of a torch module a student's function returned: its
    type, parameter names, shapes, dtypes and count, whether it is training, its
    parameters' values (`values`), and (after loading `load` in float64, if given) its
    logits on `x`, in its mode and in the other (train / eval)."""
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        return {"type": type(model).__name__[:MAX_TEXT]}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    report: dict[str, Any] = {
        "type": "Module",
        "shapes": {k: list(v.shape) for k, v in state.items()},
        "dtypes": {k: str(v.dtype).replace("torch.", "") for k, v in state.items()},
        "count": int(sum(p.numel() for p in model.parameters())),
        "training": bool(model.training),
        "trainable": all(p.requires_grad for p in model.parameters()),
    }
    if values:
        report["state"] = {k: v.numpy() for k, v in state.items()}
    try:
        if load is not None:
            model = model.to(torch.float64)
            model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in load.items()})
        if x is not None:
            x, mode = torch.from_numpy(np.asarray(x)), model.training
            with torch.no_grad():
                report["logits"] = model(x).detach().cpu().numpy()
                # and in the other mode: a layer that acts only while training (dropout)
                report["other_mode_logits"] = model.train(not mode)(x).detach().cpu().numpy()
            model.train(mode)
    except Exception as exc:  # the student's module: anything may go wrong
        report["error"] = f"{type(exc).__name__}: {str(exc)[:MAX_TEXT]}"
    return report


def state_report(model: Any) -> dict:
    """A module's parameters as numpy (and whether it is training), after a call."""
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        return {"type": type(model).__name__[:MAX_TEXT]}
    return {
        "state": {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()},
        "training": bool(model.training),
    }


def encode_call(
    args: tuple,
    kwargs: dict,
    *,
    refs: dict[int, list] | None = None,
    passed: dict[int, list] | None = None,
):
    """A call's arguments for the wire; an ExprFn constant that is one of the positional
    arguments (by identity) travels as {"arg": i}, and an argument that an earlier call
    got too (by identity, in `passed`) as {"argof": [call, position]}."""
    positions = {id(a): i for i, a in enumerate(args) if isinstance(a, np.ndarray)}
    passed = passed or {}
    return (
        [_encode_arg(a, positions, refs, passed) for a in args],
        {"dict": {k: _encode_arg(v, positions, refs, passed) for k, v in kwargs.items()}},
    )


def _encode_arg(value: Any, positions: dict[int, int], refs, passed) -> Any:
    if id(value) in passed:
        return {"argof": list(passed[id(value)])}
    if isinstance(value, ExprFn):
        consts = {
            k: {"arg": positions[id(v)]} if id(v) in positions else encode(v, refs=refs)
            for k, v in value.consts.items()
        }
        return {"fnexpr": [value.text[:MAX_TEXT], value.expr[:MAX_TEXT], consts]}
    return encode(value, refs=refs)


def bind_args(args: list | tuple) -> list | tuple:
    """Put each argument where an ExprFn among `args` refers to it (after decoding)."""
    for a in args:
        if isinstance(a, ExprFn):
            for k, v in a.consts.items():
                if isinstance(v, ArgRef) and 0 <= v.index < len(args):
                    a.consts[k] = args[v.index]
    return args


# ---------------------------------------------------------------------------------------
# Wire format
# ---------------------------------------------------------------------------------------


class _Budget:
    def __init__(self, elements: int = MAX_ELEMENTS):
        self.left = elements

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise ProbeFormatError(f"more than {MAX_ELEMENTS:,} numbers")


def encode(value: Any, *, refs: dict[int, list] | None = None, _budget=None, _depth=0) -> Any:
    """`value` as JSON-ready data. Objects in `refs` (by identity) travel as references
    to an earlier result (`{"ref": path}`); anything the wire cannot carry becomes
    `{"opaque": type name}` (a cache whose contents only the student's code reads)."""
    budget = _budget if _budget is not None else _Budget()
    if _depth > MAX_DEPTH:
        raise ProbeFormatError("nested too deeply")
    if refs and id(value) in refs:
        return {"ref": refs[id(value)]}
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:MAX_TEXT]
    if isinstance(value, np.integer):
        # a numpy integer stays one: a check that asks for a Python int (the docstring's
        # `int`) must see on the grader's side what it sees in the kernel
        return {"npint": str(int(value))}
    if isinstance(value, int):
        return {"int": str(int(value))}  # exact, also beyond 2**53
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return _encode_array(value, budget)
    if isinstance(value, (list, tuple)):
        items = [encode(v, refs=refs, _budget=budget, _depth=_depth + 1) for v in value]
        return {"tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {
            "dict": {
                k[:MAX_TEXT]: encode(v, refs=refs, _budget=budget, _depth=_depth + 1)
                for k, v in value.items()
            }
        }
    return {"opaque": type(value).__name__[:MAX_TEXT]}


def _encode_array(a: np.ndarray, budget: _Budget) -> dict:
    if a.dtype.kind == "f":
        a = a.astype(np.float64) if a.dtype != np.float32 else a
    elif a.dtype.kind in "iu":
        a = a.astype(np.int64)
    elif a.dtype.kind != "b":
        raise ProbeFormatError(f"an array of dtype {a.dtype}")
    budget.take(a.size)
    data = np.ascontiguousarray(a).tobytes()
    return {"array": [a.dtype.name, list(a.shape), base64.b64encode(data).decode("ascii")]}


class Opaque:
    """A value the wire carried only by its type name (e.g. a student's cache)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def decode(data: Any, *, code: bool = False, _budget=None, _depth=0) -> Any:
    """The inverse of `encode`, for data that came from an untrusted kernel: types,
    dtypes, shapes, sizes and depth are all checked. A reference decodes to a `Ref`.
    Test functions (`ExprFn`) are accepted only with `code=True`: in a plan, which the
    grader wrote, never in what a kernel reported."""
    budget = _budget if _budget is not None else _Budget()
    if _depth > MAX_DEPTH:
        raise ProbeFormatError("nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, (int, float)):
        return data
    if isinstance(data, list):
        return [decode(v, code=code, _budget=budget, _depth=_depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise ProbeFormatError("not a value of the probe's wire format")
    ((kind, body),) = data.items()
    if kind == "int" and isinstance(body, str) and len(body) < 400:
        return int(body)
    if kind == "npint" and isinstance(body, str) and len(body) < 25:
        try:
            return np.int64(int(body))
        except (ValueError, OverflowError):
            raise ProbeFormatError("a numpy integer out of range") from None
    if kind == "float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if kind == "tuple" and isinstance(body, list):
        return tuple(decode(v, code=code, _budget=budget, _depth=_depth + 1) for v in body)
    if kind == "dict" and isinstance(body, dict):
        return {
            str(k): decode(v, code=code, _budget=budget, _depth=_depth + 1) for k, v in body.items()
        }
    if kind == "array" and isinstance(body, list) and len(body) == 3:
        return _decode_array(body, budget)
    if kind == "opaque" and isinstance(body, str):
        return Opaque(body)
    if kind == "ref" and isinstance(body, list) and all(isinstance(i, int) for i in body):
        return Ref(tuple(body))
    if kind == "arg" and isinstance(body, int):
        return ArgRef(body)
    if kind == "argof" and isinstance(body, list) and len(body) == 2:
        return ArgOf(int(body[0]), int(body[1]))
    if kind == "given" and code and isinstance(body, list) and body and isinstance(body[0], str):
        params = [decode(v, code=code, _budget=budget, _depth=_depth + 1) for v in body[1:]]
        return Given(body[0], params)
    if kind == "fnexpr" and code and isinstance(body, list) and len(body) == 3:
        text, expr, consts = body
        if not (isinstance(text, str) and isinstance(expr, str) and isinstance(consts, dict)):
            raise ProbeFormatError("malformed test function")
        fn = ExprFn.__new__(ExprFn)
        fn.text, fn.expr = text, expr
        fn.consts = {
            str(k): decode(v, code=code, _budget=budget, _depth=_depth + 1)
            for k, v in consts.items()
        }
        fn._code = compile(expr, "<test function>", "eval")
        return fn
    raise ProbeFormatError(f"unknown or malformed {kind!r} value")


def _decode_array(body: list, budget: _Budget) -> np.ndarray:
    dtype, shape, b64 = body
    if dtype not in DTYPES or not isinstance(shape, list) or not isinstance(b64, str):
        raise ProbeFormatError("malformed array")
    if len(shape) > 8 or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ProbeFormatError("malformed array shape")
    size = math.prod(shape)
    budget.take(size)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != size * np.dtype(dtype).itemsize:
        raise ProbeFormatError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


class Ref:
    """A reference to (part of) an earlier call's result: (call index, item, item, ...)."""

    def __init__(self, path: tuple[int, ...]):
        self.path = tuple(path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"Ref{self.path}"


# ---------------------------------------------------------------------------------------
# The probe itself (in the kernel)
# ---------------------------------------------------------------------------------------


def _plan() -> dict | None:
    name = os.environ.get(PLAN_ENV)
    if not name:
        return None
    path = Path(os.environ.get("HOME", ".")) / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _Items(tuple):
    """The snapshot of a tuple, a list or a dataclass: one snapshot (or None) per item."""


def _items(value: Any) -> list | None:
    """The items of a container a layer's cache comes in: a tuple, a list, a dataclass."""
    if isinstance(value, (tuple, list)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    return None


def snapshot(value: Any) -> Any:
    """A copy of what a call may change in place: an array, a dict of arrays, or the
    arrays inside a tuple or list (a layer's cache)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()):
        return {k: v.copy() for k, v in value.items()}
    if (parts := _items(value)) is not None:
        items = _Items(snapshot(v) for v in parts)
        return items if any(i is not None for i in items) else None
    return None


def changed(before: Any, after: Any) -> bool:
    if isinstance(before, _Items):
        parts = _items(after)
        return (
            parts is None
            or len(parts) != len(before)
            or any(b is not None and changed(b, a) for b, a in zip(before, parts, strict=True))
        )
    if isinstance(before, np.ndarray):
        return not (
            isinstance(after, np.ndarray)
            and after.shape == before.shape
            and np.array_equal(before, after, equal_nan=True)
        )
    if isinstance(before, dict):
        return (
            not isinstance(after, dict)
            or before.keys() != after.keys()
            or any(changed(before[k], after[k]) for k in before)
        )
    return False


def resolve(value: Any, results: list, passed: list | None = None) -> Any:
    """Put the student's own earlier results (and arguments) where the plan refers to
    them."""
    if isinstance(value, ArgOf) and passed is not None:
        return passed[value.call][value.pos]
    if isinstance(value, Ref):
        obj = results[value.path[0]]
        for i in value.path[1:]:
            obj = obj[i]
        return obj
    if isinstance(value, list):
        return [resolve(v, results, passed) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, results, passed) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v, results, passed) for k, v in value.items()}
    return value


@contextlib.contextmanager
def _device_watch(args: list):
    """For a call given a torch device (a Given "device"): where its tensors would be on
    that device (course.checks.gpu.DeviceWatch, the visible checks' own); else nothing."""
    torch = sys.modules.get("torch")
    device = (
        next((a for a in args if isinstance(a, torch.device)), None) if torch is not None else None
    )
    if device is None:
        yield None
        return
    gpu = importlib.import_module("course.checks.gpu")
    with gpu.DeviceWatch(device, on=[a for a in args if isinstance(a, torch.nn.Module)]) as w:
        yield w


def run_calls(calls: list[dict], namespace: dict) -> list[dict]:
    """Make the planned `calls` on the functions and variables of `namespace`; one
    report entry per call: {"ok": result, "mutated": bool}, {"raised": [type, message]}
    or {"missing": name}."""
    kept: list[Any] = []  # the student's own results, for later references
    passed: list[list] = []  # the arguments each call got, for later calls that reuse them
    report: list[Any] = []
    for call in calls:
        kept.append(None)
        passed.append([])
        name = call.get("value") or call.get("fn")
        given = call.get("given_fn")
        if given is None and name not in namespace:
            report.append({"missing": str(name)[:MAX_TEXT]})
            continue
        watch = None
        try:
            if given is not None:  # a step the grader sets up with the course's layers
                layers = GIVEN["layers"]([])
                if given not in layers.functions():
                    raise ProbeFormatError(f"no given function {given!r}")
                args = resolve(decode(call["args"], code=True), kept, passed)
                kwargs = resolve(decode(call["kwargs"], code=True), kept, passed)
                passed[-1] = list(args)
                kept[-1] = getattr(layers, given)(*args, **kwargs)
                report.append({"ok": None, "mutated": False})
                continue
            if "value" in call:
                result = namespace[name]
                if call.get("as") == "state_dict":  # a torch module: its parameters
                    result = {k: v.detach().cpu().numpy() for k, v in result.state_dict().items()}
                moved = []
            else:
                spies: dict = {}
                args = resolve(decode(call["args"], code=True), kept, passed)
                args = bind_args(_make(args, args, spies))
                kwargs = _make(
                    resolve(decode(call["kwargs"], code=True), kept, passed), args, spies
                )
                passed[-1] = list(args)
                before = [snapshot(a) for a in args]
                names = _make(decode(call.get("names", {"dict": {}}), code=True), args, spies)
                with (
                    correct_helpers(namespace[name]),
                    names_in(namespace[name], **names),
                    _device_watch(args) as watch,
                ):
                    result = namespace[name](*args, **kwargs)
                moved = [
                    i
                    for i, (b, a) in enumerate(zip(before, args, strict=True))
                    if b is not None and changed(b, a)
                ]
            kept[-1] = result
            then = call.get("then")  # a torch module: what it is and does, not the object
            shown = module_report(result, **decode(then, code=True)) if then else result
            entry = {"ok": encode(shown), "mutated": bool(moved)}
            if watch is not None and watch.mixes:  # data left off the device it was given
                entry["mixes"] = [watch.mixes[0][:MAX_TEXT]]
            shown_after = [i for i in moved if i in call.get("after_of", moved)]
            if shown_after:  # what the call changed in place, as it is now
                entry["after"] = {"dict": {str(i): encode(args[i]) for i in shown_after}}
            for i in call.get("state_of") or []:  # a module argument, as it is after the call
                entry.setdefault("after", {"dict": {}})["dict"][str(i)] = encode(
                    state_report(args[i])
                )
            report.append(entry)
        except BaseException as exc:  # the student's code may raise anything
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            report.append({"raised": [type(exc).__name__[:80], str(exc)[:MAX_TEXT]]})
    return report


def probe(grade_id: str, namespace: dict) -> None:
    """Make the planned calls of `grade_id` on the student's `namespace` and report the
    results as one display output. Does nothing when no plan is there."""
    plan = _plan()
    if plan is None or grade_id not in plan.get("cells", {}):
        return
    # Being graded: the judge's verdict replaces what the visible checks print here, so
    # they skip the search for a repair of the student's code (seconds per failed check).
    _repair.ENABLED = False
    report = run_calls(plan["cells"][grade_id], namespace)
    payload = {"grade_id": grade_id, "nonce": plan.get("nonce"), "results": report}
    display({MIME: payload, "text/plain": ""}, raw=True)
