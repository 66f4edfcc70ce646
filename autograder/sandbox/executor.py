"""Run one sanitized notebook in the grading sandbox: the host half of an execution.

`execute_notebook` runs in a grading worker process (docs/design.md, "What runs where").
It plans the sandbox (`autograder.sandbox.bwrap`), puts it in a control group
(`autograder.sandbox.cgroup`), starts the driver (`autograder.sandbox.driver`) in it with
the trusted notebook on a file descriptor, reads the driver's JSON-line events from a pipe,
enforces the wall clock, and rebuilds the executed notebook from the trusted input plus
the outputs the driver reported (each checked for shape and size). Nothing the sandbox
wrote is unpickled or trusted; the result is data for the grading process to judge.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import psutil

from autograder.sandbox import bwrap, cgroup
from autograder.sandbox.driver import (
    MAX_OUTPUT_DEPTH,
    MAX_TRACEBACK_BYTES,
    STATUSES,
    Limits,
    MiB,
    error_output,
    json_depth,
    json_size,
)

#: The limits of an execution that names none (grading passes its own).
DEFAULT_LIMITS = Limits()


@dataclass
class ExecResult:
    """What happened to one notebook execution."""

    status: str  # one of STATUSES
    notebook_path: Path  # the executed notebook (outputs up to where execution stopped)
    cells_run: int  # code cells that ran to completion (with or without an error)
    message: str  # one line for the instructor
    sandboxed: bool  # False when bubblewrap was unavailable (process limits only)
    seconds: float


class _EventReader(threading.Thread):
    """Reads the driver's events from a pipe, holding at most one event line at a time."""

    def __init__(self, fd: int, max_line: int):
        super().__init__(daemon=True)
        self.file = os.fdopen(fd, "rb", buffering=1 << 16)
        self.max_line = max_line
        self.events: list[dict[str, Any]] = []
        self.problem = ""

    def run(self) -> None:
        with self.file:
            while line := self.file.readline(self.max_line + 1):
                if not line.endswith(b"\n"):
                    if len(line) <= self.max_line:
                        return  # a partial last line: the driver died while writing it
                    self.problem = "an event from the driver exceeded the size bound"
                    while line and not line.endswith(b"\n"):  # skip the rest of it
                        line = self.file.readline(self.max_line + 1)
                    continue
                try:
                    event = json.loads(line)
                except (ValueError, RecursionError):
                    self.problem = "the driver wrote an unreadable event"
                    continue
                if isinstance(event, dict):
                    self.events.append(event)


def _valid_output(out: Any) -> bool:
    """An output as the driver reports it: the right fields, nested no deeper than the
    driver lets through (two levels for the output itself and its data bundle)."""
    if not isinstance(out, dict) or json_depth(out, MAX_OUTPUT_DEPTH + 2) > MAX_OUTPUT_DEPTH + 2:
        return False
    kind = out.get("output_type")
    if kind == "stream":
        return isinstance(out.get("text"), str) and out.get("name") in ("stdout", "stderr")
    if kind in ("display_data", "execute_result"):
        return isinstance(out.get("data"), dict)
    if kind == "error":
        return isinstance(out.get("ename"), str) and isinstance(out.get("traceback"), list)
    return False


def _stop_sandbox(
    proc: subprocess.Popen, timed_out: bool, kernel_pids: Sequence[int], since: float
) -> None:
    """SIGKILL what is left of one execution.

    After a wall timeout the sandbox's process group goes (bwrap, or the driver in the
    fallback mode; not yet reaped, so the group id cannot have been reused). In the
    fallback mode the kernel has its own session and is killed by its pid too, if that
    pid is still a kernel started during this execution (`since`, epoch seconds).
    """
    if timed_out:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)
    for pid in kernel_pids:
        try:
            kernel = psutil.Process(pid)
            if kernel.create_time() < since - 1 or os.getpgid(pid) != pid:
                continue
            os.killpg(pid, signal.SIGKILL)
        except Exception:
            continue


def _rebuild(nb, events: list[dict[str, Any]], output_bytes: int):
    """The trusted notebook with the outputs that the driver reported, cell by cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    running: int | None = None
    kept = 0
    bound = output_bytes + 64 * MAX_TRACEBACK_BYTES  # defensive: notes and errors on top
    for ev in events:
        index = ev.get("index")
        if not isinstance(index, int) or not 0 <= index < len(nb.cells):
            continue
        cell = nb.cells[index]
        if cell.cell_type != "code":
            continue
        if ev.get("event") == "cell_start":
            running = index
        elif ev.get("event") == "cell_done":
            running = None
            outputs = [o for o in ev.get("outputs") or [] if _valid_output(o)]
            cell.outputs = []
            for out in outputs:
                size = json_size(out)
                if kept + size > bound and out["output_type"] != "error":
                    continue
                kept += size
                cell.outputs.append(nbformat.from_dict(out))
            count = ev.get("execution_count")
            cell.execution_count = count if isinstance(count, int) else None
    return nb, running


def _add_error(cell, ename: str, evalue: str) -> None:
    cell.outputs.append(nbformat.from_dict(error_output(ename, evalue)))


def _write_notebook_safely(nb, directory: Path, name: str) -> Path:
    """Write `directory/name` without following anything the sandbox planted there."""
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0)
    dfd = os.open(directory, flags)
    try:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(directory / name)
            else:
                os.unlink(name, dir_fd=dfd)
        text = nbformat.writes(nb) + "\n"
        fd = os.open(
            name,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
            0o644,
            dir_fd=dfd,
        )
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
    finally:
        os.close(dfd)
    return directory / name


def _read_trusted(nb_path: Path):
    text = Path(nb_path).read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    if not isinstance(nb.get("cells"), list):
        raise ValueError("no cells")
    return nb, text


def execute_notebook(
    nb_path: Path,
    workdir: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    extra_ro_paths: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    course_package: Path | None = None,
) -> ExecResult:
    """Execute an already-sanitized notebook in the sandbox; never raises for student code.

    Args:
        nb_path: the notebook to run (locked cells restored, hidden tests re-added). It is
            passed to the driver through a file descriptor; if it lies inside `workdir`
            it is masked there, so the student's code cannot read the hidden tests.
        workdir: private copy of this submission's folder: the kernel's cwd and HOME, the
            only place it can write. The executed notebook is written to
            `workdir / nb_path.name` once the sandbox is gone.
        limits: resource limits.
        extra_ro_paths: more read-only paths. A Python package (a folder with
            `__init__.py`, e.g. `solutions/` for hidden tests) is importable under its own
            name; anything else appears at its own path (e.g. a data folder).
        env: more environment variables for the kernel (e.g. CNN_COURSE_DATA).
        course_package: the `course` package the kernel imports (grading: the staged
            bundle's); default: this installation's.
    Returns:
        ExecResult; `status` says how the execution ended.
    """
    started = time.monotonic()
    nb_path = Path(nb_path).resolve()
    workdir = Path(workdir).resolve()
    out_path = workdir / nb_path.name

    def result(status: str, message: str, cells_run: int = 0, sandboxed: bool = False):
        return ExecResult(
            status=status,
            notebook_path=out_path if status != "invalid_notebook" else nb_path,
            cells_run=cells_run,
            message=message,
            sandboxed=sandboxed,
            seconds=round(time.monotonic() - started, 3),
        )

    try:
        nb, nb_text = _read_trusted(nb_path)
    except Exception as exc:
        return result("invalid_notebook", f"{nb_path.name} is not a readable notebook: {exc}")

    available, reason = bwrap.sandbox_available()
    with tempfile.TemporaryDirectory(prefix="autograder-exec-") as tmp:
        tmp_path = Path(tmp)
        nb_copy = tmp_path / "input.ipynb"
        nb_copy.write_text(nb_text, encoding="utf-8")
        log_path = tmp_path / "driver.log"
        read_fd, write_fd = os.pipe()
        try:
            plan = bwrap.plan(
                workdir=workdir,
                limits=limits,
                events_fd=write_fd,
                extra_ro_paths=extra_ro_paths,
                env=env or {},
                masked=[nb_path],
                scratch=tmp_path,
                use_bwrap=available,
                course_package=course_package,
            )
        except Exception as exc:
            os.close(read_fd)
            os.close(write_fd)
            return result("sandbox_error", f"could not prepare the sandbox: {exc}")

        try:
            group = cgroup.create(limits.sandbox_memory_mb * MiB, limits.processes)
            argv = group.enter_argv(plan.argv)
        except cgroup.Unavailable as exc:
            group, argv = None, plan.argv
            plan.notes.append(f"[NO SANDBOX-WIDE MEMORY LIMIT: {exc}]")

        # One event holds at most one cell's outputs; JSON escaping can grow text up to 6x.
        reader = _EventReader(read_fd, max_line=7 * limits.output_bytes + 4 * MiB)
        proc = None
        oom_kills = 0
        try:
            with open(nb_copy, "rb") as stdin, open(log_path, "wb") as log:
                try:
                    plan.prepare()
                    proc = subprocess.Popen(
                        argv,
                        stdin=stdin,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=plan.popen_env,
                        cwd=plan.popen_cwd,
                        # the events pipe, and what bwrap reads (seccomp, copied files)
                        pass_fds=(write_fd, *plan.fds),
                        start_new_session=True,  # one process group to kill
                    )
                except Exception as exc:
                    os.close(write_fd)
                    reader.file.close()
                    plan.cleanup()
                    if group is not None:
                        group.close()
                    return result("sandbox_error", f"could not start the sandbox: {exc}")
                os.close(write_fd)
                plan.close_fds()
                since = time.time()
                reader.start()
                timed_out = False
                try:
                    proc.wait(timeout=limits.wall_timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                kernel_pgids = [
                    e["pid"]
                    for e in reader.events
                    if e.get("event") == "kernel" and isinstance(e.get("pid"), int)
                ]
                # Whatever is left (wall timeout, or fallback-mode kernels) goes now.
                _stop_sandbox(proc, timed_out, [] if plan.sandboxed else kernel_pgids, since)
                reader.join(timeout=10)
        finally:
            if proc is not None and proc.poll() is None:  # interrupted: leave nothing behind
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            plan.cleanup()
            if group is not None:  # whatever escaped the process group goes with the cgroup
                oom_kills = group.oom_kills()
                group.close()

        nb, running = _rebuild(nb, list(reader.events), limits.output_bytes)
        end = next((e for e in reversed(reader.events) if e.get("event") == "end"), None)
        done = [e for e in reader.events if e.get("event") == "cell_done" and e.get("completed")]
        cells_run = len(done)
        log_tail = _tail(log_path)

        if timed_out:
            status = "wall_timeout"
            message = f"the whole execution exceeded {limits.wall_timeout} s and was killed"
            if running is not None:
                _add_error(nb.cells[running], "WallTimeoutError", message)
                message += f" during cell {running}"
        elif end is not None and end.get("status") in STATUSES:
            status = end["status"]
            message = str(end.get("message", ""))[:500]
        elif any(e.get("event") == "kernel" for e in reader.events):
            status = "kernel_died"
            message = f"the grading driver died ({_exit_text(proc.returncode)})"
            if running is not None:
                _add_error(nb.cells[running], "DeadKernelError", message)
                message += f" during cell {running}"
            if log_tail:  # for the instructor's log only (the student sees the cell's error)
                message += f"; its last words: {log_tail[-200:]}"
        else:
            status = "sandbox_error"
            message = f"the sandbox failed ({_exit_text(proc.returncode)}): {log_tail}"
        if reader.problem:
            message = f"{message}; {reader.problem}"
        if oom_kills:
            message = (
                f"{message}; the sandbox reached its memory limit "
                f"({limits.sandbox_memory_mb} MiB for all its processes and files) and the "
                f"kernel killed {oom_kills} process(es)"
            )

    if status == "invalid_notebook":
        return result(status, message, cells_run, plan.sandboxed)
    try:
        _write_notebook_safely(nb, workdir, nb_path.name)
    except Exception as exc:
        return result("sandbox_error", f"could not write the executed notebook: {exc}")
    if not plan.sandboxed:
        message = f"{message} [NOT SANDBOXED: {reason}]".strip()
    for note in plan.notes:  # e.g. [SECCOMP FILTER OFF: ...]
        message = f"{message or 'all cells ran'} {note}"
    return result(status, message or "all cells ran", cells_run, plan.sandboxed)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code > 128:  # bwrap reports a command killed by signal N as 128 + N
        code = 128 - code
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


def _tail(path: Path, n: int = 400) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[-n:]
