"""The integrity scan: no false positive on honest code, the right rule for each trick.

Honest corpus: every solution body of every source notebook, every cell a student could
edit in the release notebooks (demo cells included), and idioms listed below. Hostile
corpus: one snippet per trick of the threat model, each with the rule it must trigger.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.demo import perfect_notebook, reference_bodies
from autograder.judging import integrity
from autograder.layout import Course

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "source").glob("*/*.ipynb"))

# What the setup cells of the course import: the scan resolves names through these.
ALIASES = {
    "np": "numpy",
    "plt": "matplotlib.pyplot",
    "checks": "course.checks.conv",
    "viz": "course.viz",
    "assert_close": "course.checks.assert_close",
    "torch": "torch",
}


def scan(source: str) -> list[integrity.Finding]:
    return integrity.scan_source(source, aliases=ALIASES, protected=ALIASES, cell="c")


# ---------------------------------------------------------------------------------------
# Honest code
# ---------------------------------------------------------------------------------------


def _solution_bodies():
    for path in SOURCES:
        nb = nbformat.read(path, as_version=4)
        for cell_id, body in reference_bodies(nb).items():
            yield pytest.param(body, id=f"{path.stem}:{cell_id}")


@pytest.mark.parametrize("body", list(_solution_bodies()))
def test_reference_solutions_are_not_flagged(body):
    assert [f.flag() for f in scan(body)] == []


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_every_editable_cell_of_the_perfect_notebook_is_clean(path):
    """Solution cells and the unlocked demo cells around them (plots, torch demos)."""
    course = Course(REPO)
    nb = perfect_notebook(course, path.parent.name, path.stem)
    assert integrity.editable_cells(nb), "the notebook has cells a student can edit"
    assert [f.flag() for f in integrity.scan_notebook(nb)] == []


HONEST = [
    "np.random.seed(0)",
    "np.set_printoptions(precision=3, suppress=True)",
    "rng = np.random.default_rng()\nX = rng.standard_normal((3, 3))",
    "X = np.zeros((3, 3))\nX[...] = 1\nX[0, :] += 2",
    "class Layer:\n    def __init__(self):\n        self.w = np.ones(3)\n        self.w[0] = 2",
    "plt.rcParams['figure.dpi'] = 120",
    "def f(np_array):\n    np_array.shape = (3, 1)\n    return np_array",
    "def f(np):\n    np.x = 1\n    return np",
    "import numpy as np",
    "from IPython.display import display, clear_output\ndisplay(1)",
    "%matplotlib inline",
    "%timeit corr2d(X, K)",
    "%%time\nY = corr2d(X, K)",
    "x?",
    "values = [np for np in range(3)]",
    "fig, ax = plt.subplots()\nax.set_title('x')",
    "import time\nstart = time.perf_counter()",
    "import math\nn = math.floor(7 / 2)",
    "from course.checks import assert_close",
    "with open('notes.txt', 'w') as f:\n    f.write('local file')",
    "torch.manual_seed(0)\nlayer = torch.nn.Conv2d(1, 1, 3)",
    "model_path = 'lenet.pth'",
    "torch.backends.cudnn.benchmark = True",
    "import matplotlib\nmatplotlib.rcParams['font.size'] = 9",
    "def corr2d(X, K):\n    raise NotImplementedError()",
    "def broken(:\n    pass",  # a syntax error is not tampering
    "print('see source code above')",
]


@pytest.mark.parametrize("source", HONEST)
def test_honest_idioms_are_not_flagged(source):
    assert [f.flag() for f in scan(source)] == []


# ---------------------------------------------------------------------------------------
# Hostile code
# ---------------------------------------------------------------------------------------

T, S = integrity.TAMPER, integrity.SUSPICIOUS
HOSTILE = [
    # monkeypatching numpy, the visible checks and the test helpers
    ("np.allclose = lambda *a, **k: True", T, "patches-module"),
    ("np.testing.assert_allclose = lambda *a, **k: None", T, "patches-module"),
    ("import numpy\nnumpy.testing.assert_array_equal = print", T, "patches-module"),
    ("import numpy.testing as npt\nnpt.assert_allclose = print", T, "patches-module"),
    ("checks.check_corr2d = lambda fn: None", T, "patches-module"),
    ("import course.checks\ncourse.checks.assert_close = print", T, "patches-module"),
    ("import course.checks._core as core\ncore._compare = print", T, "patches-module"),
    ("setattr(np, 'allclose', lambda *a, **k: True)", T, "patches-module"),
    ("delattr(checks, 'check_corr2d')", T, "patches-module"),
    ("np.__dict__['allclose'] = print", T, "patches-module"),
    ("vars(np)['allclose'] = print", T, "patches-module"),
    ("checks.CASES[0] = None", T, "patches-module"),
    ("assert_close.__code__ = (lambda *a: None).__code__", T, "patches-module"),
    ("np = FakeNumpy()", T, "rebinds-module"),
    ("def assert_close(*a, **k):\n    pass", T, "rebinds-module"),
    ("import fake as checks", T, "rebinds-module"),
    # the grader's own packages
    ("import solutions", T, "imports-grader"),
    ("from solutions import corr2d", T, "imports-grader"),
    ("import solutions.conv as sc", T, "imports-grader"),
    ("import autograder", T, "imports-grader"),
    ("from nbgrader.api import Gradebook", T, "imports-grader"),
    # IPython hooks
    ("get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)", T, "ipython-hooks"),
    ("ip = get_ipython()\nip.input_transformers_cleanup.append(str)", T, "ipython-hooks"),
    ("get_ipython().events.register('post_run_cell', print)", T, "ipython-hooks"),
    ("get_ipython().ast_transformers.append(object())", T, "ipython-hooks"),
    ("from IPython import get_ipython\nget_ipython().showtraceback = print", T, "ipython-hooks"),
    ("from IPython.core.interactiveshell import InteractiveShell", T, "imports-internals"),
    ("%load_ext evil", T, "magics"),
    ("%run other_notebook.ipynb", T, "magics"),
    # builtins, sys.modules, dynamic code
    ("import builtins\nbuiltins.print = None", T, "imports-internals"),
    ("__builtins__.print = None", T, "modifies-builtins"),
    ("import sys\nsys.modules['solutions'] = object()", T, "import-system"),
    ("import sys\nsys.path.insert(0, '/tmp')", T, "import-system"),
    ("import sys\nsys.excepthook = print", T, "hooks"),
    ("exec('x = 1')", T, "dynamic-code"),
    ("result = eval('1 + 1')", T, "dynamic-code"),
    ("code = compile('x = 1', 'f', 'exec')", T, "dynamic-code"),
    ("m = __import__('sol' + 'utions')", T, "dynamic-code"),
    ("import importlib\nm = importlib.import_module('x')", T, "imports-internals"),
    # frames and introspection
    ("import sys\nframe = sys._getframe(1)", T, "introspection"),
    ("import inspect\ncaller = inspect.stack()[1]", T, "introspection"),
    ("import inspect\nf = inspect.currentframe().f_back", T, "introspection"),
    ("import gc\nrefs = gc.get_referrers(corr2d)", T, "introspection"),
    ("import gc\nobjs = gc.get_objects()", T, "introspection"),
    ("def f():\n    try:\n        1 / 0\n    except Exception as e:\n"
     "        return e.__traceback__.tb_frame.f_back.f_locals", T, "introspection"),
    # the grader's files
    ("open('/course/gradebook.db', 'rb').read()", T, "grader-files"),
    ("text = open('../../source/01_convolution/01_convolution.ipynb').read()", T, "grader-files"),
    ("import os\nos.listdir('../../submitted/')", T, "grader-files"),
    ("p = '/course/autograded/bob'", T, "grader-files"),
    ("%%writefile solutions.py\ndef corr2d(X, K):\n    return 0", T, "plants-module"),
    ("open('course.py', 'w').write('x = 1')", T, "plants-module"),
    # suspicious only
    ("import os\nos._exit(0)", S, "process-control"),
    ("import os\nos.kill(os.getpid(), 9)", S, "process-control"),
    ("import os\nwhile True:\n    os.fork()", S, "process-control"),
    ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)", S, "imports-system"),
    ("import subprocess\nsubprocess.run(['ls'])", S, "imports-system"),
    ("import multiprocessing\nmultiprocessing.Process(target=print).start()", S, "imports-system"),
    ("import threading\nthreading.Thread(target=print).start()", S, "imports-system"),
    ("import socket\nsocket.create_connection(('1.1.1.1', 80))", S, "imports-system"),
    ("import ctypes\nctypes.CDLL(None)", S, "imports-system"),
    ("import os\nos.system('ls')", S, "process-control"),
    ("!ls /", S, "shell"),
    ("open('/etc/planted', 'w').write('x')", S, "writes-outside"),
    ("from pathlib import Path\nPath('/tmp/x').write_text('x')", S, "writes-outside"),
    ("data = open('/etc/passwd').read()", S, "reads-outside"),
    ("import os\nos.environ['HOME'] = '/'", S, "sets-environment"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "severity", "rule"), HOSTILE, ids=[f"{r}:{s[:40]}" for s, _, r in HOSTILE]
)
def test_hostile_snippet_is_flagged_with_its_rule(source, severity, rule):
    findings = scan(source)
    assert any(f.severity == severity and f.rule == rule for f in findings), [
        f.flag() for f in findings
    ]
    if severity == integrity.SUSPICIOUS:
        assert not integrity.tampering(findings), "suspicious only, never tamper"


def test_function_scope_shadowing_is_respected():
    """A parameter named like a module is the caller's object, not the module."""
    assert scan("def f(np):\n    np.allclose = None") == []
    assert scan("def f():\n    global np\n    np = None")


def test_finding_flag_names_cell_and_line():
    (finding,) = integrity.scan_source(
        "x = 1\nnp.allclose = max", aliases={"np": "numpy"}, cell="conv_corr2d_impl"
    )
    assert finding.flag() == (
        "tamper:patches-module: assigns numpy.allclose (cell conv_corr2d_impl, line 2)"
    )


def test_scan_notebook_reads_only_cells_a_student_can_edit():
    """Locked cells (setup, tests with their hidden blocks) import solutions and set
    numpy options: they must not count; the same code in a solution cell does."""
    course = Course(REPO)
    nb = perfect_notebook(course, "01_convolution", "01_convolution")
    for cell in nb.cells:
        if cell.get("id") == "corr2d-tests":
            cell.source += "\nimport solutions\nnp.allclose = max\n"
    assert integrity.scan_notebook(nb) == []
    for cell in nb.cells:
        if cell.get("id") == "corr2d-impl":
            cell.source += "\nimport solutions\n"
    flags = [f.flag() for f in integrity.scan_notebook(nb)]
    assert flags == ["tamper:imports-grader: imports solutions (cell conv_corr2d_impl, line 19)"]


def test_a_stripped_test_cell_counts_as_editable():
    """A cell whose nbgrader metadata the student removed is the student's cell."""
    course = Course(REPO)
    nb = perfect_notebook(course, "01_convolution", "01_convolution")
    for cell in nb.cells:
        if cell.get("id") == "corr2d-tests":
            del cell.metadata["nbgrader"]
            cell.source = "np.testing.assert_allclose = print"
    rules = {f.rule for f in integrity.scan_notebook(nb)}
    assert rules == {"patches-module"}
