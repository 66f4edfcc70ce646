"""autograder.sandbox.cgroup: one memory and task limit for the whole sandbox.

Where no cgroup can be made here (an unprivileged user without a delegated cgroup, a
read-only /sys/fs/cgroup) the tests that need one are skipped with the reason; the
grading machines and CI run as root and have one.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from autograder.sandbox import cgroup
from autograder.sandbox.driver import Limits, MiB

from .test_sandbox import probe_lines, run, stdout


def _group_or_skip(memory_mb: int = 256, pids: int = 16) -> cgroup.JobCgroup:
    try:
        return cgroup.create(memory_mb * MiB, pids)
    except cgroup.Unavailable as exc:
        pytest.skip(f"no cgroup can be made here: {exc}")


def test_a_started_tree_is_inside_and_close_kills_it_and_removes_the_group():
    group = _group_or_skip()
    try:
        proc = subprocess.Popen(
            group.enter_argv(["/bin/sh", "-c", "sleep 60 & sleep 60 & wait"]),
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while len(group.tasks()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.pid in group.tasks()
        assert len(group.tasks()) == 3  # the shell and both sleeps, none outside
    finally:
        left = group.close()
    assert left == []
    assert proc.wait(timeout=10) == -9
    assert not any(d.exists() for d in group.dirs.values())


def test_the_task_limit_counts_every_process_of_the_group():
    group = _group_or_skip(pids=6)
    code = textwrap.dedent(
        """
        import os, time
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
        except OSError as exc:
            print(type(exc).__name__, n, flush=True)
        """
    )
    try:
        out = subprocess.run(
            group.enter_argv([sys.executable, "-c", code]),
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
    finally:
        group.close()
    assert out[0] == "BlockingIOError"  # EAGAIN from fork: pids.max reached
    assert int(out[1]) == 5  # 6 tasks: the python parent and 5 children


@pytest.mark.slow
@pytest.mark.sandbox
def test_forked_children_together_stay_under_the_sandbox_memory_limit(tmp_path):
    """Three children of 700 MiB each are each under the per-process limit (1 GiB), but
    together over the sandbox's 1.5 GiB: they never all hold their memory at once, the
    kernel survives, and the result says the limit was reached. (Without the cgroup, all
    three held theirs: 5.5 GB under a 2 GB limit in the hardening trial.)"""
    _group_or_skip().close()
    limits = Limits(cell_timeout=60, memory_mb=1024, sandbox_memory_mb=1536, wall_timeout=180)
    code = textwrap.dedent(
        """
        import os, select, signal, time
        readers, pids = [], []
        for _ in range(3):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                block = bytearray(b"x") * (700 * 2**20)  # written, so really resident
                os.write(w, b"held")
                time.sleep(30)
                os._exit(0)
            os.close(w)
            readers.append(r)
            pids.append(pid)
        held, deadline = 0, time.monotonic() + 40
        while readers and time.monotonic() < deadline:
            ready, _, _ = select.select(readers, [], [], 1)
            for r in ready:
                held += os.read(r, 4) == b"held"
                readers.remove(r)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        print("held =>", held)
        """
    )
    result, cells = run(tmp_path / "run", [code, "print('alive')"], limits=limits)
    assert int(probe_lines(cells[0])["held"]) <= 2
    assert stdout(cells[1]) == "alive\n"
    assert "the sandbox reached its memory limit (1536 MiB" in result.message


@pytest.mark.sandbox
def test_where_no_cgroup_can_be_made_the_result_says_so(tmp_path, monkeypatch):
    def unavailable(*args, **kwargs):
        raise cgroup.Unavailable("cgroup v2 needs root or a delegated cgroup")

    monkeypatch.setattr(cgroup, "create", unavailable)
    result, cells = run(tmp_path / "run", ["print(6 * 7)"])
    assert result.status == "ok" and stdout(cells[0]) == "42\n"
    assert "[NO SANDBOX-WIDE MEMORY LIMIT: cgroup v2 needs root" in result.message
