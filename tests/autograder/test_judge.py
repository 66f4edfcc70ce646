"""Probe and judge: the student's kernel reports raw results, the grader decides.

The first part tests the pieces in-process (the wire format, planning from the trusted
source, judging reported results). The last part is the red-team table: hand-ins that
tamper with their own kernel, graded through the real pipeline, must score what their
honest work earns (here: nothing, they are blank) on every tampered cell. A new attack is
one more row of ATTACKS.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import demo
from autograder.judging import judge
from autograder.records import grading
from autograder.records.grading import GRADING_LIMITS
from course.checks import conv
from course.probe import MIME, ProbeFormatError, Ref, decode, encode, run_calls

REPO = Path(__file__).resolve().parents[2]
SEED = "test-seed"
JUDGED = ["01_convolution", "02_padding_stride", "03_channels", "04_pooling", "05_backprop"]


def _source(assignment: str):
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def _report_cell(plan: judge.CellPlan, report: list, *, nonce: str | None = None) -> dict:
    payload = {
        "grade_id": plan.spec.grade_id,
        "nonce": judge.nonce(SEED) if nonce is None else nonce,
        "results": json.loads(json.dumps(report)),
    }
    return {"outputs": [{"output_type": "display_data", "data": {MIME: payload}}]}


def _verdicts(assignment: str, student: dict) -> dict[str, judge.Verdict]:
    """Plan every judged cell, let `student` (a namespace) answer as the probe would in
    a kernel, and judge the reports; everything through JSON, as over the wire."""
    source = _source(assignment)
    checks = judge.checks_module(source)
    verdicts = {}
    for gid, plan in judge.plan_notebook(source, SEED).items():
        report = run_calls(json.loads(json.dumps(plan.calls)), student)
        results = judge.probe_report(_report_cell(plan, report), plan, SEED)
        assert not isinstance(results, str), results
        verdicts[gid] = judge.judge_report(plan, results, checks)
    return verdicts


@pytest.fixture(scope="module")
def reference01():
    return judge.reference_namespace(_source("01_convolution"))


# ---------------------------------------------------------------------------------------
# Wire format
# ---------------------------------------------------------------------------------------


def test_wire_round_trip_keeps_types_and_values():
    value = (np.arange(6.0).reshape(2, 3), [1, 2**70, 2.5, float("nan")], {"k": True}, None)
    back = decode(json.loads(json.dumps(encode(value))))
    assert isinstance(back, tuple) and back[1][1] == 2**70 and np.isnan(back[1][3])
    np.testing.assert_array_equal(back[0], value[0])
    assert back[2] == {"k": True} and back[3] is None
    # A numpy integer stays one (a check that asks for a Python int sees the same type
    # on both sides); a Python int stays a Python int.
    back = decode(json.loads(json.dumps(encode([np.int64(7), 7, np.int32(-3)]))))
    assert [type(v) for v in back] == [np.int64, int, np.int64] and back == [7, 7, -3]
    with pytest.raises(ProbeFormatError, match="out of range"):
        decode({"npint": str(2**70)})


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"array": ["object", [1], base64.b64encode(b"x" * 8).decode()]}, "malformed"),
        ({"array": ["float64", [2, 2], base64.b64encode(b"\0" * 8).decode()]}, "does not match"),
        ({"array": ["float64", [10**5, 10**5], ""]}, "more than"),
        ({"pickle": "gASVAAAAAAAAAAB9lC4="}, "unknown"),
        (json.loads("[" * 40 + "]" * 40), "deeply"),
    ],
    ids=["object-dtype", "short-data", "huge", "pickle", "deep"],
)
def test_decode_refuses_what_the_kernel_should_not_send(data, why):
    with pytest.raises(ProbeFormatError, match=why):
        decode(data)


def test_unknown_objects_travel_as_their_type_name_only():
    class Cache:
        secret = "never sent"

    assert encode(Cache()) == {"opaque": "Cache"}


# ---------------------------------------------------------------------------------------
# Planning and judging
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", JUDGED)
def test_the_reference_passes_every_judged_cell(assignment):
    verdicts = _verdicts(assignment, dict(judge.reference_namespace(_source(assignment))))
    assert verdicts
    failed = {g: v.message for g, v in verdicts.items() if not v.passed}
    assert not failed


def test_inputs_are_secret_per_seed_and_the_plan_has_no_expected_value(reference01):
    spec = judge.judged_cells(_source("01_convolution"))["conv_corr2d_tests"]
    checks = judge.checks_module(_source("01_convolution"))
    a = judge.plan_cell(spec, checks, reference01, "seed-a")
    b = judge.plan_cell(spec, checks, reference01, "seed-b")
    assert a.calls[: a.visible] == b.calls[: b.visible]  # the visible check's own cases
    assert a.calls[a.visible :] != b.calls[b.visible :]  # new values each grading run
    text = json.dumps(a.calls)
    for expected in a.expected:  # the answers are not in what the kernel reads
        assert json.dumps(encode(expected))[20:80] not in text


def test_a_catalogued_mistake_is_named_by_the_judge(reference01):
    student = dict(reference01)
    student["corr2d"] = lambda X, K: reference01["corr2d"](X, np.asarray(K)[::-1, ::-1])
    verdict = _verdicts("01_convolution", student)["conv_corr2d_tests"]
    assert not verdict.passed and verdict.mistake == "kernel_flipped"
    assert "It looks like" in verdict.message


def test_an_error_message_the_check_reads_crosses_the_wire(reference01):
    """The plan records the reference's own message (conv2d_true names the mode it got),
    and the student's message is judged against the same requirement."""
    student = dict(reference01)
    right = reference01["conv2d_true"]

    def unnamed(X, K, mode="valid"):
        if mode not in ("valid", "full"):
            raise ValueError("mode must be 'valid' or 'full'")
        return right(X, K, mode)

    student["conv2d_true"] = unnamed
    verdict = _verdicts("01_convolution", student)["conv_conv2d_true_tests"]
    assert not verdict.passed and verdict.mistake == "unknown_mode_unnamed", verdict.message


def test_answers_learnt_by_heart_fail_on_the_secret_inputs(reference01):
    table = {
        (np.asarray(c.args[0]).tobytes(), np.asarray(c.args[1]).tobytes()): c.expected
        for c in conv._corr2d_cases()
    }
    student = dict(reference01)
    student["corr2d"] = lambda X, K: table[(np.asarray(X).tobytes(), np.asarray(K).tobytes())]
    verdict = _verdicts("01_convolution", student)["conv_corr2d_tests"]
    assert not verdict.passed and verdict.mistake == "hidden_cases"
    assert "hidden inputs" in verdict.message


def test_a_function_that_edits_its_input_fails(reference01):
    def corr2d(X, K):
        out = reference01["corr2d"](X, K)
        X[...] = 0
        return out

    student = {**reference01, "corr2d": corr2d}
    verdict = _verdicts("01_convolution", student)["conv_corr2d_tests"]
    assert not verdict.passed and "in place" in verdict.message


def test_a_missing_function_and_a_raising_one_fail_with_the_reason(reference01):
    student = {k: v for k, v in reference01.items() if k != "corr2d"}
    student["corr2d_bias"] = lambda X, K, b: 1 / 0
    verdicts = _verdicts("01_convolution", student)
    assert "not defined" in verdicts["conv_corr2d_tests"].message
    assert "ZeroDivisionError" in verdicts["conv_corr2d_bias_tests"].message


def test_chained_calls_pass_the_students_own_cache():
    """conv2d_backward gets the cache that the student's own conv2d_forward returned."""
    reference = judge.reference_namespace(_source("05_backprop"))
    seen = []

    def forward(*args, **kwargs):
        out, cache = reference["conv2d_forward"](*args, **kwargs)
        return out, ("mine", cache)

    def backward(dout, cache):
        seen.append(cache[0])
        return reference["conv2d_backward"](dout, cache[1])

    student = {**reference, "conv2d_forward": forward, "conv2d_backward": backward}
    verdicts = _verdicts("05_backprop", student)
    assert verdicts["backprop_conv2d_backward_dx_tests"].passed
    assert seen and set(seen) == {"mine"}


def test_a_backward_pass_that_changes_its_cache_fails_the_judged_cell():
    """The probe compares the cache's arrays before and after the backward call (a tuple,
    a list or a dataclass of arrays), and the judge fails the cell on that report."""
    reference = judge.reference_namespace(_source("05_backprop"))

    def backward(dout, cache):
        dx = reference["maxpool2d_backward"](dout, cache)
        for item in vars(cache).values():
            if isinstance(item, np.ndarray) and item.dtype.kind in "iu":
                item += 1  # the stored winners overwritten
        return dx

    student = {**reference, "maxpool2d_backward": backward}
    v = _verdicts("05_backprop", student)["backprop_maxpool2d_backward_tests"]
    assert not v.passed
    assert "changed" in v.message, v.message


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (lambda cell, plan: {"outputs": []}, "did not report"),
        (lambda cell, plan: {"outputs": cell["outputs"] * 2}, "more than once"),
        (lambda cell, plan: _report_cell(plan, [], nonce="0" * 24), "another grading run"),
        (lambda cell, plan: _report_cell(plan, []), "wrong number"),
        (
            lambda cell, plan: _report_cell(plan, [{"ok": {"pickle": "x"}}] * len(plan.calls)),
            "refused",
        ),
    ],
    ids=["none", "twice", "stale-nonce", "short", "garbage"],
)
def test_a_report_that_cannot_be_trusted_scores_zero(reference01, tamper, why):
    source = _source("01_convolution")
    plan = judge.plan_notebook(source, SEED)["conv_corr2d_tests"]
    honest = _report_cell(plan, run_calls(json.loads(json.dumps(plan.calls)), reference01))
    cell = tamper(honest, plan)
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("pass")
    code.metadata["nbgrader"] = {"grade": True, "grade_id": "conv_corr2d_tests", "points": 4}
    code.outputs = [nbformat.from_dict(o) for o in cell["outputs"]]
    nb.cells = [code]
    verdict = judge.judge_notebook(nb, {"conv_corr2d_tests": plan}, SEED, conv)
    assert not verdict["conv_corr2d_tests"].passed
    assert why in verdict["conv_corr2d_tests"].message


def test_apply_verdicts_leaves_only_the_judges_words():
    cell = nbformat.v4.new_code_cell("x")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "g", "points": 1}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hidden code: ...")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    judge.apply_verdicts(nb, {"g": judge.Verdict("g", False, "corr2d is wrong.", "x")})
    assert [o.output_type for o in cell.outputs] == ["error"]
    assert "hidden code" not in json.dumps(cell.outputs)


def test_refs_point_at_the_call_they_came_from():
    assert Ref((1, 2)) == Ref((1, 2)) and Ref((1, 2)) != Ref((2, 2))


# ---------------------------------------------------------------------------------------
# Red team: in-kernel tampering, graded through the real pipeline
# ---------------------------------------------------------------------------------------

#: name -> code put in a new cell right after the setup cell of a blank 01 notebook. Each
#: spells its attack so that no static scan would know it: the kernel is theirs to rewrite.
#: Families: IPython's machinery, the checks rewritten in memory, interpreter hooks, lying
#: objects, the reference, the probe and its plan, and the kernel's own life.
ATTACKS = {
    # IPython's machinery: later cells (the graded ones) never run, or their errors vanish.
    "input_transformer": "ip = get_ipython()\n"
    "getattr(ip, 'input_transformers_' + 'post').append(lambda lines: ['pass\\n'])",
    "cleanup_transformer": "get_ipython().input_transformers_cleanup.append(lambda l: ['1\\n'])",
    "ast_transformer": "import ast\nclass T(ast.NodeTransformer):\n"
    "    def visit_Module(self, node):\n        return ast.Module(body=[], type_ignores=[])\n"
    "get_ipython().ast_transformers.append(T())",
    "pre_run_cell": "ip = get_ipython()\ndef _blank(info):\n    info.raw_cell = 'pass'\n"
    "ip.events.register('pre_' + 'run_cell', _blank)",
    "run_cell_replaced": "ip = get_ipython()\nreal = ip.run_cell\n"
    "ip.run_cell = lambda cell, *a, **k: real('pass', *a, **k)",
    "custom_exc": "ip = get_ipython()\nip.set_custom_exc((BaseException,), lambda *a, **k: None)",
    "showtraceback": "get_ipython().showtraceback = lambda *a, **k: None",
    "excepthook": "import sys\nsys.excepthook = lambda *a: None",
    "displayhook": "import sys\nsys.displayhook = lambda v: None",
    # The checking functions rewritten in memory.
    "checks_noop": "import sys\nm = sys.modules['course.checks.' + 'conv']\n"
    "for n in dir(m):\n    if n.startswith('check_'):\n        setattr(m, n, lambda *a, **k: None)",
    "engine_noop": "import course.checks._core as c\nc.check = lambda *a, **k: None",
    "checkfailed_neutered": "import course.checks._core as c\n"
    "class Quiet(Exception):\n    pass\nc.CheckFailed = Quiet",
    "code_swap": "import gc, types\ndef _ok(*a, **k):\n    return None\n"
    "for f in gc.get_objects():\n"
    "    if isinstance(f, types.FunctionType) and f.__name__.startswith('check_'):\n"
    "        f.__code__ = _ok.__code__",
    "allclose_alias": "import numpy as xp\nsetattr(xp, 'all' + 'close', lambda *a, **k: True)",
    "array_equal_alias": "import numpy as xp\nxp.array_equal = lambda *a, **k: True",
    "testing_patched": "import numpy.testing as t\nt.assert_allclose = lambda *a, **k: None",
    "exec_payload": "import base64\nexec(base64.b64decode("
    + repr(
        base64.b64encode(
            b"import sys\nm = sys.modules['course.checks.conv']\nm.check_corr2d = print"
        ).decode()
    )
    + "))",
    "chr_payload": "exec(''.join(map(chr, "
    + repr([ord(c) for c in "import course.checks._core as c\nc._compare = lambda *a, **k: None"])
    + ")))",
    "builtins_exec": "getattr(__import__('built' + 'ins'), 'ex' + 'ec')("
    "'import course.checks.conv as m; m.check_q1 = id')",
    # Interpreter hooks.
    "settrace": "import sys\ndef _t(frame, event, arg):\n    return None\nsys.settrace(_t)",
    "setprofile": "import sys\nsys.setprofile(lambda *a: None)",
    "thread_patcher": "import threading, time, sys\ndef _patch():\n"
    "    for _ in range(200):\n        m = sys.modules.get('course.checks.conv')\n"
    "        if m:\n            m.check_corr2d = lambda *a, **k: None\n        time.sleep(0.05)\n"
    "threading.Thread(target=_patch, daemon=True).start()",
    "import_hook": "import builtins\nreal = builtins.__import__\n"
    "def fake(name, *a, **k):\n    mod = real(name, *a, **k)\n    return mod\n"
    "builtins.__import__ = fake\nimport sys\nsys.modules.pop('course.probe', None)",
    "meta_path_fake_probe": "import sys, types\nclass F:\n"
    "    def find_spec(self, name, path=None, target=None):\n        return None\n"
    "fake = types.ModuleType('course.probe')\nfake.probe = lambda *a, **k: None\n"
    "sys.modules['course.probe'] = fake\nsys.meta_path.insert(0, F())",
    # Lying objects: answers that read the caller's frame (there is no expected value there).
    "frame_reader": "import sys, numpy as np\nclass Liar:\n    def __array__(self, *a, **k):\n"
    "        f = sys._getframe(1)\n        while f:\n"
    "            for v in f.f_locals.values():\n"
    "                if isinstance(v, np.ndarray):\n                    return v\n"
    "            f = f.f_back\n        return np.zeros(1)\n"
    "get_ipython().events.register('post_run_cell', lambda r: globals().update("
    "corr2d=lambda X, K: Liar()))",
    "always_equal": "class Eq(float):\n    def __eq__(self, o):\n        return True\n"
    "get_ipython().events.register('post_run_cell', lambda r: globals().update("
    "output_size=lambda *a, **k: Eq(1)))",
    # The probe and its plan.
    "fake_report": "from IPython.display import display\n"
    "display({'application/vnd.cnn-course.probe+json': {'grade_id': 'conv_corr2d_tests', "
    "'nonce': 'x', 'results': []}, 'text/plain': ''}, raw=True)",
    "forged_with_nonce": "import json, os\nfrom IPython.display import display\n"
    "plan = json.load(open(os.path.join(os.environ['HOME'], '.probe-plan.json')))\n"
    "def forge(info):\n    for gid, calls in plan['cells'].items():\n"
    "        display({'application/vnd.cnn-course.probe+json': {'grade_id': gid, "
    "'nonce': plan['nonce'], 'results': [{'ok': 0.0}] * len(calls)}, 'text/plain': ''},"
    " raw=True)\nget_ipython().events.register('post_run_cell', lambda r: forge(r))",
    "probe_disabled": "import course.probe as p\np.probe = lambda *a, **k: None",
    "run_calls_replaced": "import course.probe as p\np.run_calls = lambda c, n: []",
    "encode_replaced": "import course.probe as p\np.encode = lambda v, **k: 1.0",
    "plan_rewritten": "import json, os\n"
    "path = os.path.join(os.environ['HOME'], '.probe-plan.json')\nplan = json.load(open(path))\n"
    "for calls in plan['cells'].values():\n    for c in calls:\n"
    "        c.pop('args', None)\n        c['value'] = 'np'\n"
    "json.dump(plan, open(path, 'w'))",
    "plan_deleted": "import os\nos.remove(os.path.join(os.environ['HOME'], '.probe-plan.json'))",
    "home_moved": "import os\nos.environ['HOME'] = '/tmp'",
    "display_replaced": "import IPython.display as d\nd.display = lambda *a, **k: None\n"
    "import course.probe as p\np.display = d.display",
    "huge_report": "from IPython.display import display\n"
    "display({'application/vnd.cnn-course.probe+json': {'grade_id': 'conv_q1_tests', "
    "'nonce': 'x', 'results': [{'ok': {'array': ['float64', [10**9], '']}}]}, "
    "'text/plain': ''}, raw=True)",
    # The reference (inside the sandbox it is not there to import).
    "import_reference": "import importlib\n"
    "def _use(info):\n    try:\n        ref = importlib.import_module('sol' + 'utions')\n"
    "        globals().update(corr2d=ref.corr2d, conv2d_true=ref.conv2d_true)\n"
    "    except ImportError:\n        pass\n"
    "get_ipython().events.register('post_run_cell', _use)",
    # The kernel's own life.
    "exit_in_probe": "import os\nget_ipython().events.register('post_run_cell', "
    "lambda r: globals().update(corr2d=lambda X, K: os._exit(0)))",
    "sleep_on_secrets": "import time\nget_ipython().events.register('post_run_cell', "
    "lambda r: globals().update(corr2d=lambda X, K: time.sleep(3600)))",
    "sigint_ignored": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
    "stdout_swapped": "import sys, io\nsys.stdout = io.StringIO()\nsys.stderr = io.StringIO()",
}


@pytest.mark.slow
@pytest.mark.sandbox  # `import_reference` relies on the sandbox not holding `solutions`
def test_red_team_blank_notebooks_that_tamper_score_zero(tmp_path):
    """Every row: a blank notebook (it earns nothing) that rewrites its own kernel."""
    assert len(ATTACKS) >= 40
    course, _ = demo.build_course(tmp_path / "course", ["01_convolution"])
    files = {}
    for student, attack in ATTACKS.items():
        nb = demo.blank_notebook(course, "01_convolution", "01_convolution")
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first + 1, nbformat.v4.new_code_cell(attack))
        files[(student, "01_convolution", "01_convolution")] = nbformat.writes(nb).encode()
    demo.hand_in(course, files)
    limits = replace(GRADING_LIMITS, cell_timeout=20)
    report = grading.grade(course, workers=2, limits=limits, progress=False, on_tamper="flag")
    scores = {o.student: o.score for o in report.outcomes}
    assert scores == dict.fromkeys(ATTACKS, 0.0), {s: v for s, v in scores.items() if v}


def test_test_functions_travel_as_expressions_and_closures_keep_their_array():
    """numerical_gradient's check passes f; a closure over the array x must still see
    the student's in-place perturbation in the kernel."""
    reference = judge.reference_namespace(_source("05_backprop"))

    def perturbs_a_copy(f, x, *, h=1e-5):
        return reference["numerical_gradient"](f, x.copy(), h=h)

    student = {**reference, "numerical_gradient": perturbs_a_copy}
    verdict = _verdicts("05_backprop", student)["backprop_numerical_gradient_tests"]
    assert not verdict.passed and verdict.mistake == "perturbs_a_copy", verdict.message


def test_a_plan_never_carries_code_back_from_a_kernel():
    fn = {"fnexpr": ["f", "__import__('os').getcwd()", {}]}
    with pytest.raises(ProbeFormatError):
        decode(fn)  # as a reported result: refused
    assert callable(decode(fn, code=True))  # in a plan the grader wrote: a test function


def test_in_place_updates_reach_the_check_and_a_wrong_step_is_named():
    """sgd_step updates params and velocity in place and returns nothing: the probe
    reports what the call changed, the judge writes it back into the check's arrays."""
    reference = judge.reference_namespace(_source("06_lenet"))
    verdict = _verdicts("06_lenet", dict(reference))["lenet_sgd_step_tests"]
    assert verdict.passed, verdict.message

    def ascent(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        reference["sgd_step"](
            params, grads, velocity, lr=-lr, momentum=momentum, weight_decay=weight_decay
        )

    def returns_new(params, grads, velocity, **kwargs):
        fresh = {k: v.copy() for k, v in params.items()}
        reference["sgd_step"](fresh, grads, velocity, **kwargs)
        return fresh

    wrong = _verdicts("06_lenet", {**reference, "sgd_step": ascent})["lenet_sgd_step_tests"]
    assert not wrong.passed and "values differ" in wrong.message, wrong.message
    new = _verdicts("06_lenet", {**reference, "sgd_step": returns_new})["lenet_sgd_step_tests"]
    assert not new.passed and new.mistake == "returns_new_params", new.message

    def decay_into_grads(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        for name, p in params.items():
            g = grads[name]
            g += weight_decay * p  # the caller's gradient changes
            velocity[name] *= momentum
            velocity[name] += g
            p -= lr * velocity[name]

    # The steps are right; the change to the caller's grads travels back too.
    into = _verdicts("06_lenet", {**reference, "sgd_step": decay_into_grads})
    verdict = into["lenet_sgd_step_tests"]
    assert not verdict.passed and verdict.mistake == "grads_changed_in_place", verdict.message
