"""autograder.sandbox.executor: what a hostile or broken notebook does to one execution.

Each test runs a real (sandboxed where bubblewrap works) execution of a tiny notebook,
with small limits (1 GB; a 5 s cell timeout where the timeout is the point). The
isolation itself (filesystem, network, processes) is in test_sandbox.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import bwrap
from autograder.sandbox.executor import (
    ExecResult,
    Limits,
    _EventReader,
    _rebuild,
    execute_notebook,
)

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RLIMIT_DATA is only enforced on Linux"
)
# Generous per-cell time where a timeout is not the point: on a loaded 2-core machine even
# print() can take seconds. The timeout tests use TIMEOUT.
SMALL = Limits(cell_timeout=30, memory_mb=1024, wall_timeout=120, cpu_seconds=120)
TIMEOUT = Limits(cell_timeout=5, memory_mb=1024, wall_timeout=120, cpu_seconds=120)
REPO = Path(__file__).resolve().parents[2]


def make_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# a tiny notebook"))
    nbformat.write(nb, path)
    return path


def run(tmp_path: Path, cells: list[str], limits: Limits = SMALL, **kw):
    """Execute `cells` the way the worker does (notebook inside the workdir)."""
    workdir = tmp_path / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    nb_path = make_notebook(workdir / "nb.ipynb", cells)
    result = execute_notebook(nb_path, workdir, limits=limits, **kw)
    nb = nbformat.read(result.notebook_path, as_version=4)
    return result, [c for c in nb.cells if c.cell_type == "code"]


def text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def errors(cell) -> list[str]:
    return [o.ename for o in cell.outputs if o.output_type == "error"]


def uid_tasks(uid: int) -> list[int]:
    """Pids of processes owned by `uid` (a sandbox uid is never a real user's)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


# --------------------------------------------------------------------------------------
# Fast: pure functions of the trusted side
# --------------------------------------------------------------------------------------


def test_limits_round_trip_through_json():
    limits = Limits(memory_mb=512, cell_timeout=7)
    assert Limits.from_json(limits.to_json()) == limits
    assert Limits.from_json("{}") == Limits()
    with pytest.raises(ValueError, match="unknown limits"):
        Limits.from_json('{"memroy_mb": 1}')


def test_rebuild_takes_outputs_only_for_real_code_cells_and_ignores_junk():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("m"), nbformat.v4.new_code_cell("x = 1")]
    )
    good = {"output_type": "stream", "name": "stdout", "text": "hi\n"}
    events = [
        {"event": "cell_start", "index": 1},
        {"event": "cell_done", "index": 0, "outputs": [good]},  # markdown: ignored
        {"event": "cell_done", "index": 7, "outputs": [good]},  # out of range: ignored
        {"event": "cell_done", "index": 1, "outputs": [good, {"output_type": "evil"}, 3]},
    ]
    out, running = _rebuild(nb, events, output_bytes=1000)
    assert running is None
    assert out.cells[0].get("outputs") is None
    assert [o.text for o in out.cells[1].outputs] == ["hi\n"]


def test_event_reader_keeps_complete_lines_and_drops_oversized_ones():
    r, w = os.pipe()
    reader = _EventReader(r, max_line=100)
    reader.start()
    os.write(w, b'{"event": "a"}\n' + b"x" * 500 + b"\n" + b'{"event": "b"}\n{"event": "par')
    os.close(w)
    reader.join(5)
    assert [e["event"] for e in reader.events] == ["a", "b"]
    assert "size bound" in reader.problem


def test_invalid_notebook_is_reported_not_raised(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ this is not json", encoding="utf-8")
    (tmp_path / "run").mkdir()
    result = execute_notebook(bad, tmp_path / "run", limits=SMALL)
    assert result.status == "invalid_notebook"
    assert result.cells_run == 0
    assert "bad.ipynb" in result.message


# --------------------------------------------------------------------------------------
# Slow: real executions
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.sandbox
def test_ordinary_notebook_runs_sandboxed(tmp_path):
    result, cells = run(
        tmp_path,
        ["x = 6 * 7\nprint(x)", "x + 1", "import numpy as np\nnp.arange(3).sum()", ""],
    )
    assert isinstance(result, ExecResult)
    assert (result.status, result.sandboxed, result.cells_run) == ("ok", True, 3)
    assert text(cells[0]) == "42\n"
    assert cells[1].outputs[0].data["text/plain"] == "43"
    assert cells[2].outputs[0].data["text/plain"] in ("3", "np.int64(3)")
    assert [c.execution_count for c in cells[:3]] == [1, 2, 3]
    assert result.notebook_path == (tmp_path / "run" / "nb.ipynb").resolve()
    assert 0 < result.seconds < 60


@pytest.mark.slow
def test_raising_cell_records_the_error_and_later_cells_still_run(tmp_path):
    result, cells = run(tmp_path, ["print('before')", "1 / 0", "print('after')"])
    assert result.status == "ok"
    assert errors(cells[1]) == ["ZeroDivisionError"]
    assert text(cells[2]) == "after\n"
    assert result.cells_run == 3


@pytest.mark.slow
def test_infinite_loop_times_out_and_stops_the_notebook(tmp_path):
    started = time.monotonic()
    result, cells = run(
        tmp_path, ["print('kept')", "while True:\n    pass", "print('no')"], TIMEOUT
    )
    assert result.status == "cell_timeout"
    assert text(cells[0]) == "kept\n"
    assert errors(cells[1])[-1] == "CellTimeoutError"
    assert cells[2].outputs == [] and cells[2].execution_count is None
    assert result.cells_run == 1
    assert time.monotonic() - started < TIMEOUT.cell_timeout + 20


@pytest.mark.slow
def test_loop_that_ignores_sigint_is_killed(tmp_path):
    result, cells = run(
        tmp_path,
        [
            "import time\nprint(time.time())",
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
            "print('no')",
        ],
        TIMEOUT,
    )
    # From the start of the looping cell: the timeout, the 2 s interrupt grace, teardown.
    elapsed = time.time() - float(text(cells[0]))
    assert result.status == "cell_timeout"
    assert "ignored SIGINT" in result.message
    assert errors(cells[1]) == ["CellTimeoutError"]
    assert cells[2].outputs == []
    assert elapsed < TIMEOUT.cell_timeout + 8, elapsed


@pytest.mark.slow
@linux_only
def test_memory_exhaustion_fails_the_cell_not_the_batch(tmp_path):
    result, cells = run(
        tmp_path,
        [
            "import numpy as np\nprint('start')",
            "a = np.ones(10 * 1024**3 // 8)",
            "x = []\nwhile True:\n    x.append(bytearray(10**6))",
            "del x\nprint('alive')",
        ],
    )
    assert errors(cells[1]) == ["MemoryError"]
    # A growing list hits RLIMIT_DATA as a MemoryError (or, rarely, kills the kernel).
    assert errors(cells[2]) in (["MemoryError"], ["DeadKernelError"])
    assert result.status in ("ok", "kernel_died")
    if result.status == "ok":
        assert text(cells[3]) == "alive\n"


@pytest.mark.slow
def test_os_exit_is_a_dead_kernel_and_keeps_earlier_outputs(tmp_path):
    result, cells = run(tmp_path, ["print('kept')", "import os\nos._exit(1)", "print('no')"])
    assert result.status == "kernel_died"
    assert "status 1" in result.message
    assert text(cells[0]) == "kept\n"
    assert errors(cells[1]) == ["DeadKernelError"]
    assert cells[2].outputs == []
    assert result.cells_run == 1


@pytest.mark.slow
def test_a_kernel_that_dies_while_streaming_output_does_not_take_the_driver_with_it(tmp_path):
    # The kernel exits in the middle of sending messages. Disconnecting iopub by hand at
    # that moment made libzmq abort the driver ("Assertion failed: !_more (src/fq.cpp:80)")
    # in 7 of 10 runs; zmq's own reconnect must be left alone.
    spam = (
        "import os, sys, threading, time\n"
        "def spam():\n"
        "    while True:\n"
        "        sys.stdout.write('x' * 5000)\n"
        "        sys.stdout.flush()\n"
        "for _ in range(2):\n"
        "    threading.Thread(target=spam, daemon=True).start()\n"
        "time.sleep(0.3)\n"
        "os._exit(3)"
    )
    for attempt in range(4):
        result, cells = run(tmp_path / str(attempt), ["print('kept')", spam, "print('no')"])
        assert result.status == "kernel_died"
        assert "exited with status 3" in result.message, result.message
        assert text(cells[0]) == "kept\n"
        assert errors(cells[1]) == ["DeadKernelError"]


@pytest.mark.slow
def test_cpu_limit_kills_the_kernel_with_sigxcpu(tmp_path):
    limits = Limits(cell_timeout=30, memory_mb=1024, cpu_seconds=4)
    result, cells = run(tmp_path, ["print('kept')", "while True:\n    pass"], limits)
    assert result.status == "kernel_died"
    assert "SIGXCPU" in result.message
    assert errors(cells[1]) == ["DeadKernelError"]
    assert result.seconds < 25


@pytest.mark.slow
def test_300_mb_of_prints_are_cut_and_the_notebook_stays_small(tmp_path):
    limits = Limits(cell_timeout=30, memory_mb=1024, output_bytes=100_000)
    result, cells = run(
        tmp_path,
        [
            "print('small')",
            "for _ in range(300):\n    print('x' * (1024 * 1024 - 1))",
            "raise ValueError('still graded')",
        ],
        limits,
    )
    assert result.status == "output_limit"
    assert text(cells[0]) == "small\n"
    assert "[output truncated: limit of 100000 bytes reached]" in text(cells[1])
    assert errors(cells[2]) == ["ValueError"]  # errors survive the cut: they decide grades
    assert result.notebook_path.stat().st_size < limits.output_bytes + 20_000


@pytest.mark.slow
def test_one_huge_print_of_wide_characters_is_cut_and_the_kernel_lives_on(tmp_path):
    # 150 M three-byte characters in ONE write: neither the kernel (1 GB of memory) nor
    # the driver may have to hold it as one message.
    limits = Limits(cell_timeout=30, memory_mb=1024, output_bytes=100_000)
    result, cells = run(
        tmp_path,
        ["s = '\u20ac' * 150_000_000\nprint(s)\ndel s", "print('alive')"],
        limits,
    )
    assert result.status == "output_limit"
    assert "[output truncated: limit of 100000 bytes reached]" in text(cells[0])
    assert errors(cells[0]) == []
    assert result.cells_run == 2
    assert result.notebook_path.stat().st_size < limits.output_bytes + 20_000


@pytest.mark.slow
def test_an_oversized_display_is_dropped_and_later_cells_keep_their_stderr_and_errors(tmp_path):
    # A display message bigger than the driver accepts never reaches it (zmq drops the
    # connection); the driver reconnects, notes the cut, and goes on.
    limits = Limits(cell_timeout=30, memory_mb=2048, output_bytes=100_000)
    result, cells = run(
        tmp_path,
        [
            "print('small')",
            "from IPython.display import display\n"
            "display({'text/plain': 'x' * 20_000_000}, raw=True)",
            "import sys\nprint('warned', file=sys.stderr)",
            "1 / 0",
        ],
        limits,
    )
    assert result.status == "output_limit"
    assert text(cells[0]) == "small\n"
    assert "[output truncated: limit of 100000 bytes reached]" in text(cells[1])
    assert [o.get("name") for o in cells[2].outputs] == ["stderr"]
    assert errors(cells[3]) == ["ZeroDivisionError"]
    assert result.cells_run == 4


@pytest.mark.slow
def test_redirected_stdout_in_a_cell_costs_no_output_and_no_stderr(tmp_path):
    # The kernel-side output cap wraps whatever stream a cell starts with; a cell that
    # redirects stdout itself must still print, and the cap must leave no stderr behind.
    result, cells = run(
        tmp_path,
        [
            "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()) as f:\n"
            "    print('hidden')\nprint('after', len(f.getvalue()))",
            "print('next')",
        ],
    )
    assert result.status == "ok"
    assert [o.get("name") for c in cells for o in c.outputs] == ["stdout", "stdout"]
    assert text(cells[0]) == "after 7\n"
    assert text(cells[1]) == "next\n"


@pytest.mark.slow
def test_many_small_prints_spend_the_budget_then_only_errors_and_stderr_marks_stay(tmp_path):
    limits = Limits(cell_timeout=30, memory_mb=1024, output_bytes=50_000)
    result, cells = run(
        tmp_path,
        [
            "import sys\nfor i in range(2000):\n    print('y' * 99, flush=True)",
            "print('lost line')\nprint('warned', file=sys.stderr)",
            "assert False, 'graded failure'",
        ],
        limits,
    )
    assert result.status == "output_limit"
    out = text(cells[0])
    assert out.count("y" * 99) < 500
    assert "[output truncated: limit of 50000 bytes reached]" in out
    assert "lost line" not in text(cells[1])
    assert any(o.get("name") == "stderr" for o in cells[1].outputs)  # nbgrader sees stderr
    assert errors(cells[2]) == ["AssertionError"]
    assert result.notebook_path.stat().st_size < limits.output_bytes + 20_000


@pytest.mark.slow
def test_driver_memory_stays_bounded_when_a_cell_prints_300_mb(tmp_path):
    """The driver (run by hand, no sandbox) reports its own peak RSS."""
    nb = make_notebook(tmp_path / "in.ipynb", ["print('x' * (300 * 1024 * 1024))", "print(1)"])
    out = tmp_path / "out.ipynb"
    run_ = subprocess.run(
        [
            *(sys.executable, "-m", "autograder.sandbox.driver", str(nb), str(out), "--no-nproc"),
            *("--limits-json", json.dumps({"memory_mb": 2048, "cell_timeout": 60})),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run_.returncode == 0, run_.stderr
    peak = int(re.search(r"driver peak RSS (\d+) MB", run_.stdout).group(1))
    assert run_.stdout.startswith("output_limit")
    assert peak < 250, f"driver held {peak} MB for 300 MB of output"
    assert out.stat().st_size < Limits().output_bytes + 20_000


@pytest.mark.slow
def test_checkpoint_file_survives_a_killed_driver(tmp_path):
    """By hand, the driver rewrites its output notebook after every cell."""
    nb = make_notebook(
        tmp_path / "in.ipynb",
        ["print('one')", "print('two')", "import time\ntime.sleep(60)"],
    )
    out = tmp_path / "out.ipynb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder.sandbox.driver", str(nb), str(out), "--no-nproc"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists():
                cells = nbformat.read(out, as_version=4).cells
                if text(cells[2]) == "two\n":
                    break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
    cells = nbformat.read(out, as_version=4).cells
    assert [text(c) for c in cells[1:3]] == ["one\n", "two\n"]
    assert cells[3].outputs == []


@pytest.mark.slow
@pytest.mark.sandbox
def test_killing_the_driver_from_a_cell_keeps_earlier_outputs(tmp_path):
    result, cells = run(
        tmp_path, ["print('kept')", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"]
    )
    assert result.status == "kernel_died"
    assert text(cells[0]) == "kept\n"
    assert errors(cells[1]) == ["DeadKernelError"]


@pytest.mark.slow
def test_wall_timeout_kills_everything(tmp_path):
    limits = Limits(cell_timeout=60, memory_mb=1024, wall_timeout=8)
    result, cells = run(tmp_path, ["print('kept')", "import time\ntime.sleep(60)"], limits)
    assert result.status == "wall_timeout"
    assert text(cells[0]) == "kept\n"
    assert errors(cells[1]) == ["WallTimeoutError"]
    assert result.seconds < 8 + 12


@pytest.mark.slow
@linux_only
def test_fallback_without_bwrap_still_applies_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(bwrap, "sandbox_available", lambda: (False, "pretend: no bwrap"))
    result, cells = run(
        tmp_path,
        [
            "import os, resource\nprint(resource.getrlimit(resource.RLIMIT_DATA)[1])\n"
            "print(os.getpid())",
            "import numpy as np\na = np.ones(10 * 1024**3 // 8)",
            "while True:\n    pass",
        ],
        TIMEOUT,
    )
    assert result.sandboxed is False
    assert "NOT SANDBOXED: pretend: no bwrap" in result.message
    limit, pid = text(cells[0]).split()
    assert int(limit) == TIMEOUT.memory_mb * 1024 * 1024
    assert errors(cells[1]) == ["MemoryError"]
    assert result.status == "cell_timeout"
    time.sleep(0.5)
    assert not Path(f"/proc/{pid}").exists(), "the fallback kernel outlived its execution"
