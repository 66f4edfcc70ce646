"""Scenario cells (06's LeNet pieces and loop, 07's torch modules): judged outside the
kernel like every graded cell, though their functions take torch layers, modules and
optimisers that no wire carries.

In-process: the probe's `run_calls` answers the plan from a namespace (the reference
answers, or one of them with a mistake), everything through JSON as over the wire, and
the judge decides. Through the sandboxed pipeline: hand-ins that tamper with the kernel
objects these cells use (the given torch parts, the module report) score nothing they did
not earn.
"""

from __future__ import annotations

import json
import types
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder import demo
from autograder.judging import judge
from autograder.judging.scenarios import SCENARIOS
from autograder.records import grading
from autograder.records.grading import GRADING_LIMITS
from course.probe import run_calls

REPO = Path(__file__).resolve().parents[2]
SEED = "scenario-seed"


def _source(assignment: str):
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def reference():
    """The instructor's answers of 06 and 07, with the imports their notebooks make."""
    ns = {"torch": torch, "nn": nn, "F": F, "OrderedDict": OrderedDict}
    for assignment in ("06_lenet", "07_gpu"):
        ns = judge.reference_namespace(_source(assignment), prefer_solutions=False, base=ns)
    return ns


def verdict(gid: str, student: dict, seed: str = SEED) -> judge.Verdict:
    plan = _plan(gid, seed)
    report = json.loads(json.dumps(run_calls(json.loads(json.dumps(plan.calls)), student)))
    payload = {"grade_id": gid, "nonce": judge.nonce(seed), "results": report}
    cell = {"outputs": [{"output_type": "display_data", "data": {judge.MIME: payload}}]}
    results = judge.probe_report(cell, plan, seed)
    assert not isinstance(results, str), results
    return judge.judge_report(plan, results, None)


def _plan(gid: str, seed: str) -> judge.CellPlan:
    assignment = "06_lenet" if gid.startswith("lenet") else "07_gpu"
    return judge.plan_notebook(_source(assignment), seed)[gid]


def test_every_graded_cell_of_the_course_is_judged_outside_the_kernel():
    for assignment in ["01_convolution", "02_padding_stride", "03_channels", "04_pooling",
                       "05_backprop", "06_lenet", "07_gpu"]:  # fmt: skip
        assert judge.in_kernel_tests(_source(assignment)) == [], assignment


@pytest.mark.parametrize("gid", list(SCENARIOS))
def test_the_reference_passes_every_scenario(gid, reference):
    v = verdict(gid, dict(reference))
    assert v.passed, v.message
    assert "Graded outside your notebook" in v.message


@pytest.mark.parametrize("gid", list(SCENARIOS))
def test_inputs_are_secret_per_seed_and_the_plan_holds_no_expected_value(gid):
    one, two = _plan(gid, "seed-1"), _plan(gid, "seed-2")
    assert json.dumps(one.calls) != json.dumps(two.calls)
    assert json.dumps(one.calls) == json.dumps(_plan(gid, "seed-1").calls)  # replanned alike
    wire = json.dumps(one.calls)
    expected = one.expected if isinstance(one.expected, list) else [one.expected]
    for item in expected:  # no expected number travels to the kernel
        for a in _arrays(item):
            if a.size > 4:
                assert json.dumps(a.ravel()[:4].tolist()) not in wire


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v)


def _mistakes(ref):
    """gid -> (student's function name, buggy version, what the verdict must say)."""

    def init_float32(seed):
        return {k: v.astype(np.float32) for k, v in ref["init_lenet"](seed).items()}

    def init_by_heart(seed):
        return ref["init_lenet"](0)  # right for the visible check's first seed only

    def forward_scaled_logits(params, x, layers):
        logits, caches = ref["lenet_forward"](params, x, layers)
        return logits * 1.01, caches

    def backward_fc3_bias_doubled(dlogits, caches, layers):
        grads = ref["lenet_backward"](dlogits, caches, layers)
        grads["fc3.bias"] = grads["fc3.bias"] * 2
        return grads

    def train_no_shuffle(*args, rng=None, **kwargs):
        return ref["train_epoch"](*args, rng=np.random.default_rng(0), **kwargs)

    def evaluate_changes_params(params, X, y, layers, **kwargs):
        out = ref["evaluate"](params, X, y, layers, **kwargs)
        params["fc3.bias"] += 1.0
        return out

    def evaluate_no_default(params, X, y, layers, *, batch_size=500, forward=None):
        total, correct = 0.0, 0  # `forward = forward or lenet_forward` deleted
        for start in range(0, len(y), batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            logits, _ = forward(params, xb, layers)
            loss, _ = layers.softmax_cross_entropy(logits, yb)
            total += float(loss) * len(yb)
            correct += int((logits.argmax(axis=1) == yb).sum())
        return {"loss": total / len(y), "acc": correct / len(y)}

    def sigmoid_everywhere(variant="relu-max"):
        return ref["make_lenet_torch"]("sigmoid-avg")

    def dropout_in_eval_mode(variant="relu-max"):
        layers = list(ref["make_lenet_torch"](variant).named_children())
        layers.insert(-1, ("drop", nn.Dropout(0.5)))
        return nn.Sequential(OrderedDict(layers)).eval()  # no effect on logits in eval mode

    def load_no_key_error(model, params):
        return ref["load_numpy_params"](model, {**ref_full_params(model, params)})

    def ref_full_params(model, params):
        fixed = dict(params)
        for name, p in model.named_parameters():
            fixed.setdefault(name, np.zeros(tuple(p.shape)))
        return fixed

    def epoch_returns_tensors(model, batches, opt, device):
        stats = ref["train_epoch_torch"](model, batches, opt, device)
        return {k: torch.tensor(v, requires_grad=True) * 1 for k, v in stats.items()}

    def epoch_no_train_mode(model, batches, opt, device):
        stats = ref["train_epoch_torch"](model, batches, opt, device)
        model.eval()
        return stats

    def epoch_gradient_ascent(model, batches, opt, device):
        for group in opt.param_groups:
            group["lr"] = -group["lr"]
        return ref["train_epoch_torch"](model, batches, opt, device)

    def evaluate_no_eval(model, batches, device):
        stats = ref["evaluate_torch"](model, batches, device)
        model.train()
        return stats

    def epoch_batches_on_cpu(model, batches, opt, device):
        model.train()
        total, correct, count = 0.0, 0, 0
        for x, y in batches:
            x, y = torch.as_tensor(x), torch.as_tensor(y)  # device= forgotten
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
        return {"loss": total / count, "acc": correct / count}

    def evaluate_labels_on_cpu(model, batches, device):
        model.eval()
        total, correct, count = 0.0, 0, 0
        with torch.no_grad():
            for x, y in batches:
                x = torch.from_numpy(x)
                x.to(device)  # the moved copy is thrown away
                logits = model(x)
                total += F.cross_entropy(logits, torch.as_tensor(y), reduction="sum").item()
                correct += (logits.argmax(dim=1) == torch.as_tensor(y)).sum().item()
                count += len(y)
        return {"loss": total / count, "acc": correct / count}

    return {
        "init_float32": ("lenet_init_lenet_tests", "init_lenet", init_float32, "float64"),
        "init_by_heart": ("lenet_init_lenet_tests", "init_lenet", init_by_heart, "differ"),
        "forward_scaled": ("lenet_lenet_forward_tests", "lenet_forward", forward_scaled_logits,
                           "the logits"),
        "backward_wrong_bias": ("lenet_lenet_backward_tests", "lenet_backward",
                                backward_fc3_bias_doubled, "fc3.bias"),
        "train_no_shuffle": ("lenet_train_epoch_tests", "train_epoch", train_no_shuffle, "differ"),
        "evaluate_changes": ("lenet_evaluate_tests", "evaluate", evaluate_changes_params,
                             "must not change"),
        "evaluate_no_default": ("lenet_evaluate_tests", "evaluate", evaluate_no_default,
                                "`forward` not given"),
        "make_one_variant": ("gpu_make_lenet_torch_tests", "make_lenet_torch",
                             sigmoid_everywhere, "the logits"),
        "make_dropout": ("gpu_make_lenet_torch_tests", "make_lenet_torch",
                         dropout_in_eval_mode, "only while training"),
        "load_no_key_error": ("gpu_load_numpy_params_tests", "load_numpy_params",
                              load_no_key_error, "KeyError was expected"),
        "epoch_tensors": ("gpu_train_epoch_torch_tests", "train_epoch_torch",
                          epoch_returns_tensors, "Python float"),
        "epoch_no_train": ("gpu_train_epoch_torch_tests", "train_epoch_torch",
                           epoch_no_train_mode, "model.train()"),
        "epoch_ascent": ("gpu_train_epoch_torch_tests", "train_epoch_torch",
                         epoch_gradient_ascent, "differ"),
        "evaluate_no_eval": ("gpu_evaluate_torch_tests", "evaluate_torch", evaluate_no_eval,
                             "model.eval()"),
        "epoch_on_cpu": ("gpu_train_epoch_torch_tests", "train_epoch_torch",
                         epoch_batches_on_cpu, "left data on the CPU"),
        "evaluate_on_cpu": ("gpu_evaluate_torch_tests", "evaluate_torch",
                            evaluate_labels_on_cpu, "left data on the CPU"),
    }  # fmt: skip


MISTAKES = [
    "init_float32", "init_by_heart", "forward_scaled", "backward_wrong_bias",
    "train_no_shuffle", "evaluate_changes", "evaluate_no_default", "make_one_variant",
    "make_dropout", "load_no_key_error",
    "epoch_tensors", "epoch_no_train", "epoch_ascent", "evaluate_no_eval", "epoch_on_cpu",
    "evaluate_on_cpu",
]  # fmt: skip


@pytest.mark.parametrize("name", MISTAKES)
def test_a_mistake_fails_its_cell_with_a_message_that_names_it(name, reference):
    gid, fn, buggy, says = _mistakes(reference)[name]
    v = verdict(gid, {**reference, fn: buggy})
    assert not v.passed, f"{name} passed"
    assert says in v.message, v.message


def test_evaluates_default_forward_is_graded_with_a_known_good_lenet_forward(reference):
    """The call without `forward` runs the notebook's lenet_forward, pointed at the torch
    stand-in for that call: a wrong lenet_forward costs points in its own cell only."""

    def forward_scaled_logits(params, x, layers):
        logits, caches = reference["lenet_forward"](params, x, layers)
        return logits * 1.01, caches

    student = {**reference, "lenet_forward": forward_scaled_logits}
    right = reference["evaluate"]
    student["evaluate"] = types.FunctionType(right.__code__, student, "evaluate")
    student["evaluate"].__kwdefaults__ = right.__kwdefaults__  # its globals: this notebook's
    v = verdict("lenet_evaluate_tests", student)
    assert v.passed, v.message


def test_a_missing_function_and_a_raising_one_fail_with_the_reason(reference):
    student = {k: v for k, v in reference.items() if k != "evaluate_torch"}
    v = verdict("gpu_evaluate_torch_tests", student)
    assert not v.passed and "not defined" in v.message

    def raises(*args, **kwargs):
        raise NotImplementedError("todo")

    v = verdict("lenet_lenet_forward_tests", {**reference, "lenet_forward": raises})
    assert not v.passed and "raised NotImplementedError" in v.message


# ---------------------------------------------------------------------------------------
# Red team on 06 and 07, through the sandboxed pipeline
# ---------------------------------------------------------------------------------------

#: name -> (assignment, honest work: "blank" or "perfect", code of a cell put after setup).
#: Each rewrites what the scenario cells rely on in the kernel.
ATTACKS_0607 = {
    "givens_lie": ("07_gpu", "blank",
                   "import course.probe as p\n"
                   "p.GIVEN['device'] = lambda args, name='cpu': None\n"
                   "p.GIVEN['torch_lenet'] = lambda args, *a: None"),
    "module_report_forged": ("07_gpu", "blank",
                             "import course.probe as p\n"
                             "p.module_report = lambda m, **k: {'type': 'Module', 'shapes': {},"
                             " 'dtypes': {}, 'count': 61706, 'training': True, "
                             "'trainable': True}"),
    "state_report_forged": ("07_gpu", "blank",
                            "import course.probe as p, numpy as np\n"
                            "p.state_report = lambda m: {'state': {}, 'training': False}\n"
                            "get_ipython().events.register('post_run_cell', lambda r: "
                            "globals().update(evaluate_torch=lambda *a: {'loss': 2.3, "
                            "'acc': 0.1}))"),
    "checks_noop_lenet": ("06_lenet", "blank",
                          "import sys\nm = sys.modules['course.checks.' + 'lenet']\n"
                          "for n in dir(m):\n    if n.startswith('check_'):\n"
                          "        setattr(m, n, lambda *a, **k: None)"),
    "stand_ins_answer": ("06_lenet", "blank",
                         "import course.checks.lenet as m\n"
                         "get_ipython().events.register('post_run_cell', lambda r: "
                         "globals().update(evaluate=lambda p, X, y, l, batch_size, forward: "
                         "{'loss': 2.3, 'acc': 0.1}, init_lenet=lambda s: {}))"),
    # What fooled the old in-kernel hidden tests: their comparison made a no-op, and
    # functions that return anything of the right names.
    "assert_close_noop": ("06_lenet", "blank",
                          "import course.checks as c, course.checks._core as core, numpy as np\n"
                          "c.assert_close = core.assert_close = lambda *a, **k: None\n"
                          "names = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias',"
                          " 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight',"
                          " 'fc3.bias']\n"
                          "fake = lambda *a, **k: {n: np.zeros(1) for n in names}\n"
                          "get_ipython().events.register('post_run_cell', lambda r: "
                          "globals().update(init_lenet=fake, lenet_backward=fake))"),
    "perfect_but_tampers": ("07_gpu", "perfect",
                            "import course.probe as p\np.GIVEN['device'] = "
                            "lambda args, name='cpu': __import__('torch').device('cpu')\n"
                            "import sys\nsys.modules['course.checks.gpu'].check_make_lenet_torch"
                            " = lambda *a: None"),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.sandbox
def test_red_team_on_the_torch_cells_scores_only_honest_work(tmp_path):
    course, _ = demo.build_course(tmp_path / "course", ["06_lenet", "07_gpu"])
    files = {}
    for student, (assignment, honest, attack) in ATTACKS_0607.items():
        make = demo.blank_notebook if honest == "blank" else demo.perfect_notebook
        nb = make(course, assignment, assignment)
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first + 1, nbformat.v4.new_code_cell(attack))
        files[(student, assignment, assignment)] = nbformat.writes(nb).encode()
    demo.hand_in(course, files)
    limits = replace(GRADING_LIMITS, cell_timeout=60)
    report = grading.grade(course, workers=2, limits=limits, progress=False, on_tamper="flag")
    scores = {o.student: o.score for o in report.outcomes}
    full = {"perfect_but_tampers": 19.0}
    expected = {s: full.get(s, 0.0) for s in ATTACKS_0607}
    assert scores == expected
