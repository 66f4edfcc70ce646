"""The judge: decides graded cells outside the sandbox, from what the probe reported.

docs/grading-sandbox.md ("Probe and judge") gives the design; in short:

1. **Plan** (worker, before execution). For each graded cell whose hidden block is the
   probe, the visible check of that cell (`checks.check_corr2d(corr2d)`, read from the
   trusted source cell) runs here, on the trusted side, against *recorders* that call the
   reference implementation and remember every call. Those calls, plus the same calls
   again with every array argument replaced by values drawn from the job's secret seed,
   are written to the plan that `course.probe` reads in the kernel. Quiz cells plan a read
   of their answer variables.
2. **Probe** (kernel): `course.probe.probe` makes the calls on the student's functions and
   reports the raw results (numbers, arrays; bounded) as one display output of the cell.
3. **Judge** (grading process, here). The visible check runs again, now against
   *replays* that answer each call with the student's reported result: its message and
   its named mistake are computed here, never read from the kernel. The secret calls are
   compared with the reference on the same inputs. The verdict replaces every output of
   the cell, so nbgrader scores the verdict and feedback carries only the judge's words.

A cell whose probe did not run, did not report, reported twice, reported for another
plan, or reported garbage scores 0 with the reason.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import importlib
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

import solutions
from autograder.judging.course_files import course_notebook
from autograder.judging.scenarios import SCENARIOS
from course import torch_layers
from course.checks import CheckFailed, gpu, lenet
from course.checks._core import _compare
from course.checks._loops import definitions, loop_message, loops
from course.checks._oracle import HELPERS
from course.data import MNISTUnavailableError, load_mnist, to_float_nchw, train_val_split
from course.probe import (
    MIME,
    PLAN_ENV,
    ArgOf,
    ArgRef,
    ExprFn,
    Opaque,
    ProbeFormatError,
    Ref,
    bind_args,
    decode,
    encode,
    encode_call,
    resolve,
    snapshot,
)
from course.probe import changed as changed_in_place

#: The plan's file name in the submission's folder (the kernel's $HOME); the environment
#: variable `course.probe.PLAN_ENV` names it.
PLAN_NAME = ".probe-plan.json"
__all__ = ["PLAN_ENV", "PLAN_NAME", "grade_notebook", "in_kernel_tests", "write_plan"]

#: How the hidden block of a judged cell reads in source/ (see docs/authoring.md).
PROBE_CALL = re.compile(r"^\s*probe\(\s*[\"'](?P<grade_id>[\w-]+)[\"']\s*,\s*globals\(\)\s*\)\s*$")
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(?P<body>.*?)### END HIDDEN TESTS", re.S)
SOLUTION_MARK = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.M)
CHECKS_IMPORT = re.compile(r"^from (course\.checks) import (\w+) as checks$", re.M)
#: Cells whose exercise asks for code without Python loops: (function, exercise). The
#: judge reads the handed-in code (trusted side), as the visible check reads it in the kernel.
VECTORISED = {
    "channels_conv1x1_tests": ("conv1x1", "Exercise 3.3"),
    "channels_conv2d_vectorized_tests": ("conv2d_vectorized", "Exercise 3.5"),
}
#: Results that are (out, cache) pairs: only `out` is compared on the hidden inputs.
PAIR_RESULTS = ("conv2d_forward", "maxpool2d_forward", "avgpool2d_forward")
#: Checks whose arguments are graded elsewhere: which names their own cell compares.
#: (A forward pass is graded in its own cell; a backward cell grades only its `part`.)
GRADED_PART = {
    "check_conv2d_backward": lambda kw: {"conv2d_backward": ("dx", "dw", "db").index(kw["part"])},
    "check_maxpool2d_backward": lambda kw: {"maxpool2d_backward": None},
    "check_avgpool2d_backward": lambda kw: {"avgpool2d_backward": None},
    "check_conv2d_vectorized": lambda kw: {"conv2d_vectorized": None},
}


class PlanError(ValueError):
    """A graded cell that cannot be probed (its check is not a call of the student's
    functions on data the wire carries)."""


# ---------------------------------------------------------------------------------------
# The cells of a source notebook
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellSpec:
    """A judged graded cell: its check calls as written in the source."""

    grade_id: str
    checks: tuple[str, ...]  # the source text of each `checks.check_...(...)` call
    names: tuple[str, ...]  # the student's names the calls pass (functions and answers)


def probed_grade_id(source: str) -> str | None:
    """The grade_id the hidden block of a source cell probes, or None when its hidden
    block is not the probe."""
    hidden = HIDDEN.search(source)
    lines = [ln for ln in (hidden.group("body") if hidden else "").splitlines() if ln.strip()]
    probes = [PROBE_CALL.match(ln) for ln in lines if "probe(" in ln]
    return probes[0].group("grade_id") if probes and probes[0] else None


def judged_cells(source_nb) -> dict[str, CellSpec]:
    """The graded cells whose hidden block is the probe, in notebook order."""
    cells = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader") or {}
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        if probed_grade_id(cell.source) != meta["grade_id"]:
            continue
        visible = HIDDEN.sub("", cell.source)
        calls, names = [], []
        for node in ast.walk(ast.parse(visible)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "checks"
            ):
                calls.append(ast.unparse(node))
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Name) and arg.id not in names:
                        names.append(arg.id)
        if not calls:
            raise PlanError(f"{meta['grade_id']}: a probed cell needs a visible check call")
        cells[meta["grade_id"]] = CellSpec(meta["grade_id"], tuple(calls), tuple(names))
    return cells


def checks_module(source_nb):
    """The `course.checks.<topic>` module the notebook imports as `checks`."""
    for cell in source_nb.cells:
        if cell.cell_type == "code":
            m = CHECKS_IMPORT.search(cell.source)
            if m:
                return importlib.import_module(f"{m.group(1)}.{m.group(2)}")
    raise PlanError("the notebook does not import `from course.checks import <topic> as checks`")


def _given_definitions(cell) -> str:
    """The function definitions and imports of a read-only cell of given code (e.g.
    `as_pair`), without the demo lines around them; "" for any other cell."""
    meta = cell.metadata.get("nbgrader") or {}
    if not meta.get("locked") or meta.get("grade") or meta.get("solution"):
        return ""
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        return ""
    kept = [n for n in body if isinstance(n, ast.FunctionDef | ast.Import | ast.ImportFrom)]
    return ast.unparse(ast.Module(body=kept, type_ignores=[])) if kept else ""


def reference_namespace(
    source_nb, *, prefer_solutions: bool = True, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The instructor's answers: every solution cell of the source (and the given helper
    functions they call) run here, on the trusted side, with `solutions`' own function
    of the same name preferred where there is one (unless `prefer_solutions` is False:
    the notebook's own answers, as a student's kernel holds them). `base`: the names the
    notebook's set-up cells import (the cells run in it)."""
    ns: dict[str, Any] = {"np": np, "numpy": np, **(base or {})}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader") or {}
        if cell.cell_type != "code":
            continue
        code = SOLUTION_MARK.sub("", cell.source) if meta.get("solution") else ""
        code = code or _given_definitions(cell)
        if code:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"<solution {meta.get('grade_id')}>", "exec"), ns)
    for name in list(ns) if prefer_solutions else []:
        if callable(ns[name]) and callable(getattr(solutions, name, None)):
            ns[name] = getattr(solutions, name)
    return ns


# ---------------------------------------------------------------------------------------
# Planning: record the calls of the visible check, add secret ones
# ---------------------------------------------------------------------------------------


@dataclass
class _Log:
    calls: list[tuple[str, tuple, dict]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    produced: dict[int, list] = field(default_factory=dict)  # id(result part) -> path
    passed: dict[int, list] = field(default_factory=dict)  # id(argument) -> [call, pos]
    args: list[tuple] = field(default_factory=list)  # keeps the arguments (and their ids)
    after: list[dict[int, Any]] = field(default_factory=list)  # what each call changed

    def remember(self, value: Any, path: list, depth: int = 0) -> None:
        if isinstance(value, (int, float, bool, str)) or value is None or depth > 2:
            return
        self.produced.setdefault(id(value), list(path))
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                self.remember(v, [*path, i], depth + 1)


@dataclass(frozen=True)
class Raises:
    """The reference raised: the student's function must raise the same exception."""

    ename: str
    message: str = ""  # the reference's own message, for a check that reads it


def _call_in_place(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, dict[int, Any]]:
    """Call the reference on the very arguments (a function that updates them in place,
    like an optimiser step, must update the caller's objects); returns the result and
    what it changed: {argument position: its state after the call}."""
    before = [snapshot(a) for a in args]
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:
        return Raises(type(exc).__name__, str(exc)), {}
    after = {
        i: snapshot(a)
        for i, (b, a) in enumerate(zip(before, args, strict=True))
        if b is not None and changed_in_place(b, a)
    }
    return result, after


class _Recorder:
    """Stands for a student's function while the visible check runs on the reference."""

    def __init__(self, name: str, reference: Callable, log: _Log):
        self.name, self.reference, self.log = name, reference, log

    def __call__(self, *args, **kwargs):
        index = len(self.log.calls)
        wire = encode_call(args, kwargs, refs=self.log.produced, passed=self.log.passed)
        if "opaque" in json.dumps(wire):
            raise PlanError(f"an argument of {self.name} cannot be sent to a kernel")
        self.log.calls.append((self.name, wire[0], wire[1]))
        result, after = _call_in_place(self.reference, args, kwargs)
        self.log.results.append(result)
        self.log.after.append(after)
        self.log.args.append(args)
        for pos, a in enumerate(args):
            if snapshot(a) is not None:
                self.log.passed.setdefault(id(a), [index, pos])
        if isinstance(result, Raises):  # the check asked for an error: give it one
            raise _raised(result.ename, result.message or "raised by the reference")
        self.log.remember(result, [index])
        return result


def _perturb(data: Any, rng: np.random.Generator) -> Any:
    """The same call with fresh values in every float array (same shape and dtype).
    Integer arrays keep their values: they are labels, indices or sizes, whose meaning a
    random draw would break (a label outside [0, C))."""
    if isinstance(data, list):
        return [_perturb(v, rng) for v in data]
    if not isinstance(data, dict):
        return data
    if "array" in data:
        a = decode(data)
        if a.dtype.kind == "f" and a.size:
            a = rng.standard_normal(a.shape).astype(a.dtype)
        return encode(a)
    if "ref" in data or "argof" in data:
        return data
    return {k: _perturb(v, rng) for k, v in data.items()}


def _shift_refs(data: Any, offset: int) -> Any:
    if isinstance(data, list):
        return [_shift_refs(v, offset) for v in data]
    if isinstance(data, dict):
        if "ref" in data:
            return {"ref": [data["ref"][0] + offset, *data["ref"][1:]]}
        if "argof" in data:
            return {"argof": [data["argof"][0] + offset, data["argof"][1]]}
        return {k: _shift_refs(v, offset) for k, v in data.items()}
    return data


@dataclass
class CellPlan:
    """What the kernel is asked for one cell, and what the reference answered."""

    spec: CellSpec
    calls: list[dict]  # the wire form, in order: visible calls, then secret calls
    visible: int  # how many of `calls` the visible check made
    expected: list[Any]  # the reference's result of each call (secret ones compared)
    values: tuple[str, ...]  # answer variables read (quizzes)
    after: list[dict[int, Any]] = field(default_factory=list)  # in-place changes per call


def _seed(seed: str, grade_id: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}/{grade_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def plan_cell(spec: CellSpec, checks, reference: dict[str, Any], seed: str) -> CellPlan:
    """Record the visible check's calls on the reference; add their secret copies."""
    log = _Log()
    ns: dict[str, Any] = {"checks": checks}
    values = []
    for name in spec.names:
        if name not in reference:
            raise PlanError(f"{spec.grade_id}: no reference for {name!r}")
        if callable(reference[name]):
            ns[name] = _Recorder(name, reference[name], log)
        else:
            ns[name] = reference[name]
            values.append(name)
    with contextlib.redirect_stdout(io.StringIO()):
        for text in spec.checks:
            eval(compile(text, f"<check {spec.grade_id}>", "eval"), ns)
    visible = len(log.calls)
    rng = _seed(seed, spec.grade_id)
    calls = [{"fn": n, "args": a, "kwargs": k} for n, a, k in log.calls]
    expected = list(log.results)
    after = list(log.after)
    passed: list[list] = [list(a) for a in log.args]
    for name, args, kwargs in log.calls:
        a = _shift_refs(_perturb(args, rng), visible)
        k = _shift_refs(_perturb(kwargs, rng), visible)
        calls.append({"fn": name, "args": a, "kwargs": k})
        real_args = bind_args(resolve(decode(a, code=True), expected, passed))
        real_kwargs = resolve(decode(k, code=True), expected, passed)
        passed.append(list(real_args))
        result, changes = _call_in_place(reference[name], tuple(real_args), real_kwargs)
        expected.append(result)
        after.append(changes)
    calls += [{"value": v} for v in values]
    return CellPlan(spec, calls, visible, expected, tuple(values), after)


def plan_notebook(source_nb, seed: str) -> dict[str, CellPlan]:
    """The plan of every judged cell of a source notebook (empty when none is judged)."""
    cells = judged_cells(source_nb)
    if not cells:
        return {}
    checks = checks_module(source_nb)
    reference = reference_namespace(source_nb)
    plans = {}
    for gid, spec in cells.items():
        if gid in TRAINED:
            plans[gid] = TRAINED[gid].plan(spec)
        elif gid in SCENARIOS:
            calls, expected = SCENARIOS[gid].plan(_seed(seed, gid))
            plans[gid] = CellPlan(spec, calls, 0, expected, ())
        else:
            plans[gid] = plan_cell(spec, checks, reference, seed)
    return plans


# ---------------------------------------------------------------------------------------
# Trained networks (06, 07): the probe reports the parameters, the judge evaluates them
# ---------------------------------------------------------------------------------------


def held_out_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits a trained LeNet is judged on, loaded here on the trusted side: the
    official MNIST test set, or where it is not to be had, the notebooks' own validation
    split (10 %, seed 0) of the 5,000 training digits."""
    try:
        test = load_mnist("test", download=False)
        return to_float_nchw(test.images, normalize=True), test.labels
    except MNISTUnavailableError:
        train = load_mnist("train", download=False)
        images, labels = train.images, train.labels
        if len(labels) > 5000:
            keep = np.random.default_rng(0).permutation(len(labels))[:5000]
            images, labels = images[keep], labels[keep]
        _, val_images, _, val_labels = train_val_split(images, labels, val_fraction=0.1, seed=0)
        return to_float_nchw(val_images, normalize=True), val_labels


def _lenet_from_state(state: dict) -> Any:
    """Lecture 002's LeNet (the reference architecture) with the reported parameters."""
    torch = torch_layers._torch()  # the one lazy import of torch
    model = torch_layers.TorchLeNet5()
    model.load_state_dict(
        {k: torch.tensor(np.asarray(state[k], np.float32)) for k in lenet.PARAM_NAMES}
    )
    return model


@dataclass(frozen=True)
class Trained:
    """A cell that grades a trained network: the probe reads `values` (a torch module as
    its state_dict), and `run(values, X, y)` is the check, run here on held-out digits."""

    values: tuple[str, ...]
    run: Callable[[dict, np.ndarray, np.ndarray], None]
    state_dict: tuple[str, ...] = ()

    def plan(self, spec: CellSpec) -> CellPlan:
        calls = [
            {"value": v, **({"as": "state_dict"} if v in self.state_dict else {})}
            for v in self.values
        ]
        return CellPlan(spec, calls, 0, [], self.values)


TRAINED = {
    "lenet_training_tests": Trained(
        ("params", "history"),
        lambda v, X, y: lenet.check_training(v["params"], v["history"], X, y, quick=True),
    ),
    "gpu_trained_model_tests": Trained(
        ("model",),
        lambda v, X, y: gpu.check_trained_model(_lenet_from_state(v["model"]), X, y, "cpu"),
        state_dict=("model",),
    ),
}


def judge_trained(plan: CellPlan, results: list[dict]) -> Verdict:
    gid = plan.spec.grade_id
    values = {}
    for call, result in zip(plan.calls, results, strict=True):
        if "value" not in result:
            return Verdict(
                gid, False, f"{call['value']} is not defined: run the training cell.", "not_run"
            )
        values[call["value"]] = result["value"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            TRAINED[gid].run(values, *held_out_digits())
    except CheckFailed as exc:
        return Verdict(gid, False, str(exc), exc.mistake)
    except Exception as exc:  # parameters of the wrong names or shapes, and the like
        return Verdict(
            gid,
            False,
            f"the trained network could not be evaluated ({type(exc).__name__}: {str(exc)[:200]})",
            "unusable_parameters",
        )
    lines = out.getvalue().strip().splitlines()
    return Verdict(gid, True, (lines[-1] if lines else f"✓ {gid}") + " Evaluated by the grader.")


def judge_scenario(plan: CellPlan, results: list[dict]) -> Verdict:
    """A cell of `autograder.judging.scenarios`: its judge compares, here."""
    gid = plan.spec.grade_id
    try:
        SCENARIOS[gid].judge(results, plan.expected)
    except CheckFailed as exc:
        return Verdict(gid, False, str(exc), exc.mistake)
    except Exception as exc:  # results of the wrong kind for the comparisons
        return Verdict(
            gid,
            False,
            f"your results could not be compared ({type(exc).__name__}: {str(exc)[:200]})",
            "unusable_results",
        )
    return Verdict(gid, True, f"{SCENARIOS[gid].passed}. Graded outside your notebook.")


def nonce(seed: str) -> str:
    return hashlib.sha256(f"nonce/{seed}".encode()).hexdigest()[:24]


# ---------------------------------------------------------------------------------------
# Judging: the visible check against the student's reported results, then the secrets
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    grade_id: str
    passed: bool
    message: str
    mistake: str | None = None


class NotProbed(Exception):  # noqa: N818 (the check reports "raised NotProbed")
    """The check asked for a call that the plan did not contain."""


def _same(recorded: Any, actual: Any, seen: dict[int, Any]) -> bool:
    if isinstance(recorded, (Ref, ArgOf)):  # that very object: a result, or an argument
        return seen.get(id(actual)) == recorded or seen.get(("arg", id(actual))) == recorded
    if isinstance(recorded, ArgRef):  # the argument itself: an array
        return isinstance(actual, np.ndarray)
    if isinstance(recorded, ExprFn):
        return (
            isinstance(actual, ExprFn)
            and (recorded.text, recorded.expr) == (actual.text, actual.expr)
            and _same(recorded.consts, actual.consts, seen)
        )
    if isinstance(recorded, np.ndarray):
        return (
            isinstance(actual, np.ndarray)
            and recorded.shape == actual.shape
            and np.array_equal(recorded, actual, equal_nan=True)
        )
    if isinstance(recorded, (list, tuple)):
        return (
            isinstance(actual, (list, tuple))
            and len(recorded) == len(actual)
            and all(_same(r, a, seen) for r, a in zip(recorded, actual, strict=True))
        )
    if isinstance(recorded, dict):
        return (
            isinstance(actual, dict)
            and recorded.keys() == actual.keys()
            and all(_same(recorded[k], actual[k], seen) for k in recorded)
        )
    try:
        return (bool(recorded == actual) and type(recorded) is type(actual)) or (
            isinstance(recorded, (int, float))
            and not isinstance(recorded, bool)
            and isinstance(actual, (int, float, np.integer, np.floating))
            and float(recorded) == float(actual)
        )
    except Exception:
        return False


def _raised(name: str, message: str) -> Exception:
    """The student's exception, re-made by name (its class never crosses the wire): the
    built-in class of that name, so that a check's `except ValueError` still works."""
    safe = re.sub(r"\W", "", name) or "Exception"
    builtin = getattr(builtins, safe, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        return builtin(message)
    return type(safe, (Exception,), {})(message)


class _Replay:
    """Stands for a student's function while the visible check runs on the judge's side:
    each call is answered with what the student's function returned in the kernel."""

    def __init__(self, name: str, entries: list[tuple[int, Any, Any, dict]], seen: dict):
        self.name, self.entries, self.seen = name, entries, seen
        self.used: set[int] = set()
        self.alive: list[tuple] = []

    def __call__(self, *args, **kwargs):
        # The same inputs may have been planned twice (a check that calls a forward pass
        # once per gradient it checks): answer with the first entry not used yet, so that
        # each later reference to a result points at the call it came from.
        matches = [
            (index, result)
            for index, rec_args, rec_kwargs, result in self.entries
            if _same(rec_args, args, self.seen) and _same(rec_kwargs, kwargs, self.seen)
        ]
        if not matches:
            raise NotProbed(f"{self.name} was called on inputs the grader did not plan")
        index, result = next(((i, r) for i, r in matches if i not in self.used), matches[0])
        self.used.add(index)
        self.alive.append(args)  # ids stay unique while the check runs
        for pos, a in enumerate(args):  # a later call may pass the same object again
            self.seen.setdefault(("arg", id(a)), ArgOf(index, pos))
        for pos, state in (result.get("after") or {}).items():
            _write_back(args, int(pos), state)
        return _answer(self.name, index, result, self.seen)


def _write_back(args: tuple, pos: int, state: Any) -> None:
    """Do to the caller's argument what the student's function did to it in the kernel
    (an in-place update), so that the check reads the student's result."""
    if not 0 <= pos < len(args):
        return
    target = args[pos]
    if isinstance(target, np.ndarray) and isinstance(state, np.ndarray):
        if target.shape == state.shape:
            np.copyto(target, state, casting="unsafe")
    elif isinstance(target, (tuple, list)) and isinstance(state, (tuple, list)):
        for i, item in enumerate(state[: len(target)]):  # a cache: its arrays, in place
            if isinstance(target[i], np.ndarray):
                _write_back(tuple(target), i, item)
    elif isinstance(target, dict) and isinstance(state, dict):
        for k, v in state.items():
            if k in target and isinstance(target[k], np.ndarray) and isinstance(v, np.ndarray):
                if target[k].shape == v.shape:
                    np.copyto(target[k], v, casting="unsafe")
                else:
                    target[k] = v


def _answer(name: str, index: int, result: dict, seen: dict) -> Any:
    if "missing" in result:
        raise NameError(f"name {name!r} is not defined")
    if "raised" in result:
        ename, evalue = result["raised"]
        raise _raised(str(ename), str(evalue))
    value = result["value"]
    _register(value, (index,), seen)
    return value


def _register(value: Any, path: tuple, seen: dict, depth: int = 0) -> None:
    if isinstance(value, (int, float, bool, str)) or value is None or depth > 2:
        return
    seen.setdefault(id(value), Ref(path))
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _register(v, (*path, i), seen, depth + 1)


def probe_report(cell, plan: CellPlan, seed: str) -> list[dict] | str:
    """The decoded results of the cell's probe output, or why there are none."""
    reports = [
        o.get("data", {}).get(MIME)
        for o in cell.get("outputs", [])
        if o.get("output_type") == "display_data" and MIME in o.get("data", {})
    ]
    if not reports:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and errors[0].get("ename") in (
            "NotRun",
            "CellTimeoutError",
            "DeadKernelError",
            "WallTimeoutError",
        ):
            return f"the cell did not run to its end ({errors[0].get('evalue', '')[:200]})"
        return "the grading probe of this cell did not report (was the cell changed?)"
    if len(reports) > 1:
        return "the grading probe reported more than once"
    report = reports[0]
    if isinstance(report, str):
        try:
            report = json.loads(report)
        except ValueError:
            return "the grading probe's report is not valid JSON"
    if not isinstance(report, dict) or report.get("grade_id") != plan.spec.grade_id:
        return "the grading probe reported for another cell"
    if report.get("nonce") != nonce(seed):
        return "the grading probe reported for another grading run"
    raw = report.get("results")
    if not isinstance(raw, list) or len(raw) != len(plan.calls):
        return "the grading probe reported the wrong number of results"
    results = []
    try:
        for r in raw:
            if not isinstance(r, dict) or not 1 <= len(r) <= 4:
                raise ProbeFormatError("malformed result")
            if "ok" in r and set(r) <= {"ok", "mutated", "after", "mixes"}:
                after = decode(r.get("after", {"dict": {}}))
                mixes = r.get("mixes", [])
                if not isinstance(after, dict) or not isinstance(mixes, list):
                    raise ProbeFormatError("malformed in-place changes")
                results.append(
                    {
                        "value": decode(r["ok"]),
                        "mutated": bool(r.get("mutated")),
                        "after": after,
                        "mixes": [str(m)[:300] for m in mixes[:1]],  # DeviceWatch's record
                    }
                )
            elif "raised" in r and isinstance(r["raised"], list) and len(r["raised"]) == 2:
                results.append({"raised": [str(r["raised"][0])[:80], str(r["raised"][1])[:300]]})
            elif "missing" in r:
                results.append({"missing": str(r["missing"])[:80]})
            else:
                raise ProbeFormatError("malformed result")
    except (ProbeFormatError, ValueError, TypeError) as exc:
        return f"the grading probe's report was refused: {exc}"
    return results


def judge_cell(plan: CellPlan, results: list[dict], checks) -> Verdict:
    """Run the visible check against the student's results, then compare the secrets."""
    gid = plan.spec.grade_id
    seen: dict[int, Ref] = {}
    entries: dict[str, list] = {}
    values: dict[str, Any] = {}
    for index, (call, result) in enumerate(zip(plan.calls, results, strict=True)):
        if "value" in call:
            if "value" not in result:
                return Verdict(
                    gid, False, f"{call['value']} is not defined: run its cell.", "not_answered"
                )
            values[call["value"]] = result["value"]
        elif index < plan.visible:
            args = decode(call["args"], code=True)
            kwargs = decode(call["kwargs"], code=True)
            entries.setdefault(call["fn"], []).append((index, args, kwargs, result))
    ns: dict[str, Any] = {"checks": checks, **values}
    for name in plan.spec.names:
        if name not in ns:
            ns[name] = _Replay(name, entries.get(name, []), seen)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for text in plan.spec.checks:
                eval(compile(text, f"<check {gid}>", "eval"), ns)
    except CheckFailed as exc:
        return Verdict(gid, False, str(exc), exc.mistake)
    except Exception as exc:  # the check itself could not run on these results
        return Verdict(
            gid,
            False,
            f"the check could not run on your results ({type(exc).__name__}: {str(exc)[:200]})",
            "raised",
        )
    problem = _secret_problem(plan, results)
    if problem:
        return Verdict(gid, False, problem, "hidden_cases")
    passed = out.getvalue().strip().splitlines()
    hidden = len(plan.calls) - plan.visible - len(plan.values)
    line = passed[-1] if passed else f"✓ {gid}"
    extra = f" Graded outside your notebook, also on {hidden} hidden inputs." if hidden else ""
    return Verdict(gid, True, line + extra)


def _graded_part(plan: CellPlan) -> dict[str, int | None]:
    parts: dict[str, int | None] = {}
    for text in plan.spec.checks:
        call = ast.parse(text, mode="eval").body
        fn = call.func.attr
        if fn in GRADED_PART:
            kwargs = {
                k.arg: ast.literal_eval(k.value)
                for k in call.keywords
                if isinstance(k.value, ast.Constant)
            }
            parts.update(GRADED_PART[fn](kwargs))
        else:
            parts.update(dict.fromkeys(plan.spec.names))
    return parts


def _compare_state(got: Any, expected: Any) -> str | None:
    if isinstance(expected, dict):
        if not isinstance(got, dict) or got.keys() != expected.keys():
            return "not the same names"
        for k in expected:
            problem = _compare(got[k], expected[k], rtol=1e-6, atol=1e-8)
            if problem:
                return f"{k}: {problem}"
        return None
    return _compare(got, expected, rtol=1e-6, atol=1e-8)


def _secret_problem(plan: CellPlan, results: list[dict]) -> str | None:
    parts = _graded_part(plan)
    for index in range(plan.visible, len(plan.calls)):
        call = plan.calls[index]
        if "fn" not in call or call["fn"] not in parts:
            continue
        name, result = call["fn"], results[index]
        case = index - plan.visible + 1
        what = (
            f"{name} on hidden inputs (the shapes of the visible check's call {case}, new values)"
        )
        expected = plan.expected[index]
        if isinstance(expected, Raises):
            if result.get("raised", [None])[0] != expected.ename:
                return f"{what}: {expected.ename} was expected, as on the visible check's case"
            continue
        if "value" not in result:
            why = result.get("raised") or ["NameError", "not defined"]
            return f"{what} raised {why[0]}: {why[1]}"
        changes = plan.after[index] if index < len(plan.after) else {}
        if changes:  # the reference updates arguments in place: compare those
            reported = result.get("after") or {}
            for pos, state in changes.items():
                if str(pos) not in reported:
                    return f"{what}: argument {pos + 1} was not updated in place"
                problem = _compare_state(reported[str(pos)], state)
                if problem:
                    return f"{what}: argument {pos + 1} after the call: {problem}"
            continue
        if result.get("mutated"):
            return f"{what}: your function changed its input arrays in place"
        got = result["value"]
        if name in PAIR_RESULTS and isinstance(expected, tuple):
            expected = expected[0]
            got = got[0] if isinstance(got, (tuple, list)) and len(got) == 2 else got
        pick = parts[name]
        if pick is not None:
            expected = expected[pick]
            got = got[pick] if isinstance(got, (tuple, list)) and len(got) > pick else got
        if isinstance(got, Opaque):
            return f"{what}: returned a {got.type_name}, not numbers"
        problem = _compare_state(got, expected)
        if problem is not None:
            return (
                f"{what}: {problem}. Your function passes the visible check's own cases "
                "but not the same computation on other numbers."
            )
    return None


def judge_report(plan: CellPlan, results: list[dict], checks) -> Verdict:
    """The verdict on one cell's decoded report, by the kind of cell it is."""
    gid = plan.spec.grade_id
    if gid in TRAINED:
        return judge_trained(plan, results)
    if gid in SCENARIOS:
        return judge_scenario(plan, results)
    return judge_cell(plan, results, checks)


def judge_notebook(nb, plans: dict[str, CellPlan], seed: str, checks) -> dict[str, Verdict]:
    """A verdict for every judged cell of the executed notebook `nb`."""
    verdicts = {}
    for cell in nb.cells:
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if gid not in plans:
            continue
        report = probe_report(cell, plans[gid], seed)
        if isinstance(report, str):
            verdicts[gid] = Verdict(gid, False, f"Not graded: {report}.", "no_report")
        else:
            verdicts[gid] = judge_report(plans[gid], report, checks)
    for gid in plans:
        verdicts.setdefault(gid, Verdict(gid, False, "Not graded: the cell is missing.", "missing"))
    defs = definitions(c.source for c in nb.cells if c.cell_type == "code")
    for gid, (name, exercise) in VECTORISED.items():
        where = loops(name, defs) if gid in verdicts and verdicts[gid].passed else []
        if where:
            verdicts[gid] = Verdict(gid, False, loop_message(name, exercise, where), "python_loop")
    return verdicts


def helper_calls(source_nb) -> dict[str, set[str]]:
    """function -> the earlier exercises' functions (`HELPERS`) its reference answer
    calls, read from the trusted source's solution cells."""
    calls: dict[str, set[str]] = {}
    for cell in source_nb.cells:
        if cell.cell_type != "code" or not (cell.metadata.get("nbgrader") or {}).get("solution"):
            continue
        try:
            tree = ast.parse(SOLUTION_MARK.sub("", cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                calls[node.name] = (used & HELPERS.keys()) - {node.name}
    return calls


def charged_once(
    verdicts: dict[str, Verdict], plans: dict[str, CellPlan], calls: dict[str, set[str]]
) -> dict[str, Verdict]:
    """Say, on a cell whose function calls an earlier exercise's function that failed its
    own cell, that this cell was graded with a correct one (the probe swapped it in:
    `course.checks._core.correct_helpers`), so the mistake is charged once."""
    home: dict[str, str] = {}  # helper -> the cell that grades it
    for gid, plan in plans.items():
        for name in plan.spec.names:
            home.setdefault(name, gid)
    out = dict(verdicts)
    for gid, plan in plans.items():
        failed = sorted(
            h
            for name in plan.spec.names
            for h in calls.get(name, ())
            if h in home and home[h] != gid and not verdicts[home[h]].passed
        )
        if failed and gid in out:
            v = out[gid]
            notes = " ".join(
                f"Graded with a correct {h}: yours does not pass {HELPERS[h].exercise}, "
                "where that mistake is charged."
                for h in failed
            )
            out[gid] = Verdict(v.grade_id, v.passed, f"{v.message} {notes}", v.mistake)
    return out


def apply_verdicts(nb, verdicts: dict[str, Verdict]) -> None:
    """Replace the outputs of each judged cell by its verdict: what nbgrader scores, and
    all that the student's feedback shows of that cell."""
    for cell in nb.cells:
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if gid not in verdicts or cell.cell_type != "code":
            continue
        v = verdicts[gid]
        if v.passed:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=v.message + "\n")]
        else:
            cell.outputs = [
                nbformat.v4.new_output(
                    "error",
                    ename="CheckFailed",
                    evalue=v.message,
                    traceback=[f"Check failed: {v.message}"],
                )
            ]


# ---------------------------------------------------------------------------------------
# The pipeline's entry points
# ---------------------------------------------------------------------------------------


def source_notebook(course_root: str | Path, assignment: str, notebook: str):
    """The trusted source notebook of an assignment, or None when the course has none."""
    path = Path(course_root) / "source" / assignment / f"{notebook}.ipynb"
    return course_notebook(path) if path.is_file() else None


def in_kernel_tests(source_nb) -> list[str]:
    """grade_ids of graded cells whose hidden block is still a test that runs in the
    kernel (and so needs `solutions` in the sandbox) rather than the probe."""
    judged = judged_cells(source_nb)
    return [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in source_nb.cells
        if cell.cell_type == "code"
        and (cell.metadata.get("nbgrader") or {}).get("grade")
        and HIDDEN.search(cell.source)
        and cell.metadata["nbgrader"]["grade_id"] not in judged
    ]


def write_plan(
    course_root: str, assignment: str, notebooks: Sequence[str], seed: str, folder: Path
) -> Path | None:
    """Plan every judged cell of the assignment's notebooks into `folder`/PLAN_NAME (what
    the kernel's probe reads); None when no cell is judged."""
    cells: dict[str, list[dict]] = {}
    for name in notebooks:
        source = source_notebook(course_root, assignment, name)
        if source is not None:
            cells.update({g: p.calls for g, p in plan_notebook(source, seed).items()})
    if not cells:
        return None
    path = folder / PLAN_NAME
    path.write_text(json.dumps({"nonce": nonce(seed), "cells": cells}), encoding="utf-8")
    return path


def grade_notebook(course_root: str, assignment: str, notebook: str, nb, seed: str):
    """Judge the executed notebook `nb` in place (its judged cells' outputs become the
    verdicts); return the verdicts by grade_id."""
    source = source_notebook(course_root, assignment, notebook)
    if source is None:
        return {}
    plans = plan_notebook(source, seed)
    if not plans:
        return {}
    # One thread for torch and BLAS while judging: the grading workers hold every core,
    # and a two-thread torch op here waited milliseconds for its second thread (avg_pool2d
    # 1.8 ms instead of 8 us), spinning on a core a worker needed (docs/performance.md,
    # "Grading").
    with torch_layers.one_thread():
        verdicts = judge_notebook(nb, plans, seed, checks_module(source))
    verdicts = charged_once(verdicts, plans, helper_calls(source))
    apply_verdicts(nb, verdicts)
    return verdicts
