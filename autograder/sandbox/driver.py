"""The driver: runs one notebook, cell by cell, inside the grading sandbox.

This is the one file of the project that runs inside the sandbox, next to the student's
kernel (docs/design.md, "What runs where"). `autograder.sandbox.bwrap` mounts this file,
and nothing else of `autograder`, at /opt/grader/driver.py; so it imports nothing from
this repository, only the standard library, nbclient and friends (imported where they are
used, which keeps the driver's start cheap and lets the trusted side import `Limits`
without loading a Jupyter client). tests/autograder/test_architecture.py checks it.

The driver starts an IPython kernel with nbclient, executes the code cells in order, keeps
at most `Limits.output_bytes` of outputs, stops at the first cell that times out or kills
the kernel, and reports every finished cell as it goes. Its host half, which starts it in
the sandbox, enforces the wall clock and rebuilds the executed notebook from the trusted
input plus the reported outputs, is `autograder.sandbox.executor`.

The driver reports through a pipe (`--events-fd`), one JSON line per event, not through a
file in the sandbox: a file is writable by the student's kernel (same uid), a pipe whose
descriptor the kernel never inherits is not (the driver also makes itself non-dumpable, so
the kernel cannot reach the descriptor through /proc or ptrace). Every finished cell is
reported at once, so a kernel or driver that dies, is killed or runs out of wall clock
loses at most the cell that was running.

Run by hand (no sandbox, checkpoint file rewritten atomically after every cell):
`python -m autograder.sandbox.driver in.ipynb out.ipynb --limits-json '{"cell_timeout": 30}'`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MiB = 1024 * 1024

STATUSES = (
    "ok",
    "cell_timeout",
    "kernel_died",
    "wall_timeout",
    "output_limit",
    "invalid_notebook",
    "sandbox_error",
)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one notebook execution (see docs/grading-sandbox.md)."""

    memory_mb: int = 2048  # RLIMIT_DATA of each process of the kernel tree
    processes: int = 64  # RLIMIT_NPROC of the sandbox uid, and pids.max of its cgroup
    # The whole sandbox (all its processes and its RAM-backed folders), where a cgroup can
    # be made (autograder.sandbox.cgroup): memory.max / memory.limit_in_bytes.
    sandbox_memory_mb: int = 3072
    file_size_mb: int = 64  # RLIMIT_FSIZE
    cpu_seconds: int = 600  # RLIMIT_CPU of each process
    output_bytes: int = 5_000_000  # outputs kept, over the whole notebook (figures included)
    cell_timeout: int = 60  # per-cell wall clock; then interrupt, then kill
    wall_timeout: int = 900  # hard kill of the whole execution

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Limits:
        data = json.loads(text) if text else {}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown limits {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: int(v) for k, v in data.items()})


# Seconds the kernel gets to answer SIGINT after a cell timeout before it is killed.
INTERRUPT_GRACE = 2.0
# Error outputs are always kept, even past the output budget (nbgrader grades a test cell
# by whether it has one), so each is trimmed to a bounded size instead.
MAX_ERROR_FIELD = 2_000
MAX_TRACEBACK_LINES = 30
MAX_TRACEBACK_BYTES = 16_000
OUTPUT_OVERHEAD = 64  # bytes charged per output on top of its text or data
TRUNCATION_NOTE = "\n[output truncated: limit of {n} bytes reached]\n"
STDERR_DROPPED_NOTE = "[stderr output dropped: output limit reached]\n"
#: An output whose lists and dicts nest deeper than this is dropped (an error output in
#: its cell says so): every JSON reader and writer on the way recurses per level.
MAX_OUTPUT_DEPTH = 64
# After an iopub disconnect, how long to wait for zmq's own CONNECT_RETRIED (it comes at
# once when the kernel went away) before treating it as an oversized message.
RETRY_EVENT_WAIT = 0.2


# --------------------------------------------------------------------------------------
# Driver (inside the sandbox)
# --------------------------------------------------------------------------------------


def error_output(ename: str, evalue: str) -> dict[str, Any]:
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}: {evalue}"],
    }


def _trim_error(content: dict[str, Any]) -> dict[str, Any]:
    """An error message content cut to a bounded size (the last traceback lines matter)."""
    content = dict(content)
    content["ename"] = str(content.get("ename", ""))[:MAX_ERROR_FIELD]
    content["evalue"] = str(content.get("evalue", ""))[:MAX_ERROR_FIELD]
    lines = [str(x)[:MAX_ERROR_FIELD] for x in (content.get("traceback") or [])]
    lines = lines[-MAX_TRACEBACK_LINES:]
    while lines and sum(map(len, lines)) > MAX_TRACEBACK_BYTES:
        lines.pop(0)
    content["traceback"] = lines
    return content


def json_depth(obj: Any, limit: int) -> int:
    """How deeply `obj` nests lists and dicts, counted without recursion; counting stops
    once past `limit`."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _output_error(what: str):
    """The error output that stands in a cell for output the driver could not keep: a
    test cell that produced it fails, as it would have without the grader."""
    return _from_dict(error_output("OutputError", what))


def json_size(obj: Any) -> int:
    return len(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8"))


def _make_client_class():
    """NotebookClient that keeps a bounded amount of output (built lazily: nbclient is
    only needed by the driver, not by the trusted side that imports this module)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    class BoundedNotebookClient(NotebookClient):
        """Counts output bytes as messages arrive and drops what exceeds the budget.

        nbclient keeps every output in memory until the cell ends; a cell that prints
        500 MB would hold all of it. Here each message is measured (and a too-long stream
        is cut) before nbclient stores it, so what is kept never exceeds the budget plus
        a few bounded notes. Errors are always kept, trimmed: they decide grades.
        """

        def __init__(self, nb, km=None, *, output_bytes: int, **kw):
            super().__init__(nb, km=km, **kw)
            self.output_budget = output_bytes
            self.kept_bytes = 0
            self.truncated = False
            self._cell_bytes: dict[int, int] = {}
            self._stderr_noted: set[int] = set()
            self.dropped_output = False
            self._classifying = False  # watch_iopub is deciding what a disconnect was
            self._monitor = None  # watch_iopub's monitor socket, once it runs
            self._malformed: list[str] = []  # messages of the running cell not kept

        async def watch_iopub(self) -> None:
            """Reconnect iopub after zmq dropped an oversized message (see
            BoundedKernelClient) and remember it for note_dropped_output.

            zmq reports two kinds of disconnect alike. After an oversized message
            (a protocol error) it closes that connection for good and must be told to
            connect again. After a lost peer (the kernel died) it reconnects by itself,
            announcing CONNECT_RETRIED at once; disconnecting by hand then would tear
            down a pipe that may be in the middle of a message, and libzmq aborts the
            whole driver ("Assertion failed: !_more (src/fq.cpp:80)").
            """
            import asyncio

            import zmq
            from zmq.utils.monitor import parse_monitor_message

            sock = self.kc.iopub_channel.socket
            url = self.kc._make_url("iopub")
            self._monitor = monitor = sock.get_monitor_socket(
                zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED
            )

            async def next_event(timeout=None):
                frames = await asyncio.wait_for(monitor.recv_multipart(), timeout)
                return parse_monitor_message(frames)["event"]

            try:
                while True:
                    if await next_event() != zmq.EVENT_DISCONNECTED:
                        continue
                    self._classifying = True
                    try:
                        retrying = await next_event(RETRY_EVENT_WAIT) == zmq.EVENT_CONNECT_RETRIED
                    except TimeoutError:
                        retrying = False
                    finally:
                        self._classifying = False
                    if not retrying:
                        with contextlib.suppress(zmq.ZMQError):
                            sock.disconnect(url)
                        sock.connect(url)
                        self.dropped_output = True
            finally:
                with contextlib.suppress(Exception):
                    sock.disable_monitor()
                monitor.close(linger=0)

        async def note_dropped_output(self, cell) -> None:
            """Call when a cell ended: if zmq dropped an oversized message during it, its
            output was cut, and the cell gets the truncation note.

            A disconnect may still be queued on the monitor, or being classified, when
            the cell's reply arrives; wait (briefly) until the watcher has seen it.
            """
            import asyncio

            import zmq

            monitor = self._monitor
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and (
                self._classifying
                or (
                    monitor is not None
                    and not monitor.closed
                    and monitor.get(zmq.EVENTS) & zmq.POLLIN
                )
            ):
                await asyncio.sleep(0.005)
            if self.dropped_output and not self.truncated:
                note = TRUNCATION_NOTE.format(n=self.output_budget).lstrip("\n")
                cell.outputs.append(_stream_output("stdout", note))
                self.truncated = True
            self.dropped_output = False
            channel = getattr(self.kc, "_iopub_channel", None)
            self._malformed += getattr(channel, "unreadable", [])
            if channel is not None and hasattr(channel, "unreadable"):
                channel.unreadable = []
            if self._malformed:
                why = ", ".join(sorted(set(self._malformed)))
                cell.outputs.append(
                    _output_error(
                        f"{len(self._malformed)} output message(s) of this cell could not "
                        f"be read ({why}) and were dropped"
                    )
                )
                self._malformed = []

        async def _check_raise_for_error(self, cell, cell_index, exec_reply):
            # The error output may have been lost with a dropped iopub message; the
            # execute_reply carries it too, and a test cell must not pass for want of it.
            content = (exec_reply or {}).get("content", {})
            if content.get("status") == "error" and not any(
                o.get("output_type") == "error" for o in cell.outputs
            ):
                error = {"output_type": "error", **_trim_error(content)}
                error.pop("status", None)
                error.pop("execution_count", None)
                error.pop("engine_info", None)
                cell.outputs.append(_from_dict(error))
            return await super()._check_raise_for_error(cell, cell_index, exec_reply)

        # nbclient calls this for every iopub message of the running cell.
        def process_message(self, msg, cell, cell_index):
            msg_type = msg["msg_type"]
            if msg_type.startswith("comm"):
                # Widget state is stored without bound by nbclient; graded notebooks do
                # not need it.
                return None
            kept = ("stream", "display_data", "execute_result", "update_display_data", "error")
            if msg_type in kept and json_depth(msg["content"], MAX_OUTPUT_DEPTH) > MAX_OUTPUT_DEPTH:
                # Student data, not a grader's problem: nbformat, JSON and repr() all
                # recurse per level, so the output goes and its cell gets an error.
                error = _output_error(
                    f"an output of this cell nested more than {MAX_OUTPUT_DEPTH} levels "
                    "deep and was dropped"
                )
                self._charge(cell_index, json_size(error))
                cell.outputs.append(error)
                return None
            if msg_type in ("stream", "display_data", "execute_result", "update_display_data"):
                msg = self._admit(msg, cell, cell_index)
                if msg is None:
                    return None
            elif msg_type == "error":
                msg = {**msg, "content": _trim_error(msg["content"])}
                self._charge(cell_index, json_size(msg["content"]))
            try:
                return super().process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                raise
            except Exception as exc:  # a message nbclient cannot use: the cell's problem
                self._malformed.append(f"malformed {msg_type}: {type(exc).__name__}")
                return None

        def clear_output(self, outs, msg, cell_index):
            super().clear_output(outs, msg, cell_index)
            if not outs:  # cleared now (not delayed with wait=True)
                self._refund(cell_index)

        def output(self, outs, msg, display_id, cell_index):
            if self.clear_before_next_output:
                self._refund(cell_index)
            return super().output(outs, msg, display_id, cell_index)

        def _charge(self, cell_index: int, n: int) -> None:
            self.kept_bytes += n
            self._cell_bytes[cell_index] = self._cell_bytes.get(cell_index, 0) + n

        def _refund(self, cell_index: int) -> None:
            self.kept_bytes -= self._cell_bytes.pop(cell_index, 0)

        def _admit(self, msg, cell, cell_index):
            content = msg["content"]
            remaining = self.output_budget - self.kept_bytes
            if self.truncated:
                # Budget spent: keep one short marker per cell that writes to stderr, so
                # that nbgrader's "stderr fails a test cell" rule still sees it.
                if (
                    msg["msg_type"] == "stream"
                    and content.get("name") == "stderr"
                    and cell_index not in self._stderr_noted
                ):
                    self._stderr_noted.add(cell_index)
                    return {**msg, "content": {"name": "stderr", "text": STDERR_DROPPED_NOTE}}
                return None
            # Each output also costs its JSON wrapper: a million one-byte flushes must not
            # make a notebook of a million outputs.
            remaining -= OUTPUT_OVERHEAD
            if msg["msg_type"] == "stream":
                text = str(content.get("text", ""))
                # Slice before measuring: a 300 MB string is never encoded as a whole.
                head = text[: max(remaining, 0) + 1]
                size = len(head.encode("utf-8"))
                if len(head) <= remaining and size <= remaining:
                    self._charge(cell_index, size + OUTPUT_OVERHEAD)
                    return msg
                while size > remaining and head:
                    head = head[: max(len(head) * remaining // size, 0)]
                    size = len(head.encode("utf-8"))
                self._charge(cell_index, size + OUTPUT_OVERHEAD)
                self.truncated = True
                note = TRUNCATION_NOTE.format(n=self.output_budget)
                return {**msg, "content": {**content, "text": head + note}}
            size = json_size(content.get("data", {})) + json_size(content.get("metadata", {}))
            size += OUTPUT_OVERHEAD
            remaining += OUTPUT_OVERHEAD
            if size <= remaining:
                self._charge(cell_index, size)
                return msg
            self.truncated = True
            note = TRUNCATION_NOTE.format(n=self.output_budget).lstrip("\n")
            cell.outputs.append(_stream_output("stdout", note))
            return None

    return BoundedNotebookClient


def _from_dict(d: dict[str, Any]):
    import nbformat

    return nbformat.from_dict(
        {k: d[k] for k in ("output_type", "ename", "evalue", "traceback") if k in d}
    )


def _stream_output(name: str, text: str):
    import nbformat

    return nbformat.v4.new_output("stream", name=name, text=text)


# Runs inside the kernel at start (see _guard_exec_line). Not a defence: the kernel is the
# student's, who may undo it; the driver's own bounds (BoundedNotebookClient) are. It keeps
# an accidental print loop from failing in the kernel itself: ipykernel buffers everything
# printed between two flushes and serialises it as one message, so 300 MB printed in a
# loop made the kernel's I/O thread run out of memory and lose the output (and with it
# any sign, on the driver's side, that the output limit was reached).
KERNEL_STREAM_CHUNK = 256 * 1024  # characters per stream message


def _kernel_output_guard(limit: int, chunk: int) -> None:
    """For each cell, cap stdout and stderr at `limit` characters, sent in messages of at
    most `chunk` characters.

    The cap is put on top of whatever `write` the cell starts with (IPython's own
    per-cell wrapper, which keeps every printed string for its history, included) and
    taken off when the cell ends.
    """
    import sys

    from IPython import get_ipython

    installed = []

    def capped(stream, inner):
        count = [0, 0]  # characters this cell, characters since the last flush

        def write(text, *args, **kwargs):
            if not isinstance(text, str):
                return inner(text, *args, **kwargs)  # the stream's own TypeError
            kept = text[: max(0, limit - count[0])]
            for start in range(0, len(kept), chunk):
                part = kept[start : start + chunk]
                inner(part, *args, **kwargs)
                count[0] += len(part)
                count[1] += len(part)
                if count[1] >= chunk:
                    count[1] = 0
                    stream.flush()
            return len(text)

        return write

    def cell_starts(*args):
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name, None)
            try:
                own = getattr(stream, "__dict__", {}).get("write")
                wrapper = capped(stream, stream.write)
                stream.write = wrapper
            except Exception:
                continue  # a stream the cell replaced with something odd: left alone
            installed.append((stream, wrapper, own))

    def cell_ends(*args):
        while installed:
            stream, wrapper, own = installed.pop()
            if getattr(stream, "__dict__", {}).get("write") is wrapper:
                if own is None:
                    del stream.write
                else:
                    stream.write = own

    events = get_ipython().events
    events.register("pre_execute", cell_starts)
    events.register("post_execute", cell_ends)


def _guard_exec_line(limit: int) -> str:
    """One exec_lines entry that installs _kernel_output_guard without leaving names in
    the student's namespace."""
    import base64
    import inspect

    code = inspect.getsource(_kernel_output_guard)
    code += f"\n_kernel_output_guard({int(limit)}, {KERNEL_STREAM_CHUNK})\n"
    blob = base64.b64encode(code.encode()).decode()
    return f"exec(__import__('base64').b64decode('{blob}').decode(), {{}})"


def _pinned_kernel_manager(python: str, max_message_bytes: int, stream_chars: int):
    """An AsyncKernelManager whose kernel command does not come from kernel.json files.

    Kernel specs are searched in HOME, which is the student's folder: a planted
    `.local/share/jupyter/kernels/python3/kernel.json` would otherwise choose the "kernel".
    `-P` keeps the working directory (the student's folder) out of sys.path while the
    kernel starts, so a planted `ipykernel_launcher.py` is not what runs either.
    """
    import zmq
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.channels import AsyncZMQSocketChannel
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Type

    # Once started, the notebook's folder is importable again, as in Jupyter.
    argv = [python, "-P", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv += ["--InteractiveShellApp.exec_lines=__import__('sys').path.insert(0, '')"]
    argv += [f"--InteractiveShellApp.exec_lines={_guard_exec_line(stream_chars)}"]

    class PinnedKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name, *args, **kwargs):
            return KernelSpec(
                argv=argv, display_name="Python 3 (grading)", language="python", env={}
            )

    class TolerantIOPubChannel(AsyncZMQSocketChannel):
        """Skips a message it cannot decode instead of failing the driver: JSON nested
        too deeply for the parser, a bad signature or header (the kernel is the
        student's). BoundedNotebookClient turns what was skipped into the cell's error."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.unreadable: list[str] = []

        async def get_msg(self, timeout=None):
            while True:
                try:
                    msg = await super().get_msg(timeout)
                except (RecursionError, ValueError, KeyError, TypeError) as exc:
                    self.unreadable.append(type(exc).__name__)
                    continue
                parts = ("header", "parent_header", "content", "metadata")
                if all(isinstance(msg.get(k), dict) for k in parts) and isinstance(
                    msg.get("msg_type"), str
                ):
                    return msg
                self.unreadable.append("malformed message")

    class BoundedKernelClient(AsyncKernelClient):
        iopub_channel_class = Type(TolerantIOPubChannel)

        def connect_iopub(self, identity=None):
            # ipykernel flushes a cell's buffered prints as ONE message (300 MB printed
            # in a loop arrive as one 300 MB message). zmq refuses any message above
            # MAXMSGSIZE while reading its header, before allocating it, and drops the
            # connection; BoundedNotebookClient notices and reconnects.
            sock = self.context.socket(zmq.SUB)
            sock.linger = 1000
            sock.setsockopt(zmq.MAXMSGSIZE, max_message_bytes)
            sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(self._make_url("iopub"))
            return sock

    return AsyncKernelManager(
        kernel_name="python3",
        kernel_spec_manager=PinnedKernelSpecManager(),
        client_factory=BoundedKernelClient,
    )


def apply_rlimits(limits: Limits, nproc: int | None) -> None:
    """Set the limits on this process; the kernel and its children inherit them.

    Soft = hard (except one second for CPU), so that code in the kernel cannot raise a
    soft limit back up. Memory is
    capped with RLIMIT_DATA, not RLIMIT_AS: see docs/grading-sandbox.md for the numbers.
    `nproc` None leaves RLIMIT_NPROC alone (the kernel ignores it for root anyway).
    """
    import resource

    wanted = [
        (resource.RLIMIT_DATA, limits.memory_mb * MiB),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * MiB),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_CORE, 0),
    ]
    if nproc is not None:
        wanted.append((resource.RLIMIT_NPROC, nproc))
    for res, value in wanted:
        _, hard = resource.getrlimit(res)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # CPU: SIGXCPU one second before the SIGKILL of the hard limit, so that the
        # death is reported as "CPU time limit" (the extra second is all it can buy).
        soft = max(value - 1, 1) if res == resource.RLIMIT_CPU else value
        resource.setrlimit(res, (soft, value))


def _harden_driver() -> None:
    """Linux only: keep the kernel (same uid) away from the driver's memory and fds, and
    die with the trusted parent in the fallback mode (bwrap does that itself)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig, pr_set_dumpable = 1, 4
    libc.prctl(pr_set_dumpable, 0, 0, 0, 0)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the kernel stopped answering"
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else sig
        why = {
            signal.SIGKILL: " (killed: memory, CPU or process limit, or a kill)",
            signal.SIGXCPU: " (CPU time limit reached)",
            signal.SIGSEGV: " (segmentation fault)",
            signal.SIGXFSZ: " (file size limit reached)",
        }.get(sig, "")
        return f"the kernel was killed by {name}{why}"
    return f"the kernel exited with status {code} (os._exit or sys.exit in a cell?)"


def _peak_rss_mb() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    execve, so it would count the memory of whatever process forked the driver."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (1024 * 1024) if sys.platform == "darwin" else peak // 1024


class _Reporter:
    """Sends driver events to the trusted side and/or keeps a checkpoint notebook file."""

    def __init__(self, nb, events_fd: int | None, out_path: Path | None):
        self.nb = nb
        self.events_fd = events_fd
        self.out_path = out_path

    def emit(self, event: dict[str, Any]) -> None:
        if self.events_fd is not None:
            line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
            data = line.encode("utf-8", errors="backslashreplace")  # lone surrogates
            view = memoryview(data)
            while view:
                n = os.write(self.events_fd, view)
                view = view[n:]
        if self.out_path is not None and event["event"] in ("cell_done", "end"):
            self._checkpoint()

    def _checkpoint(self) -> None:
        import nbformat

        tmp = self.out_path.with_name(self.out_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as f:
            nbformat.write(self.nb, f)
        os.replace(tmp, self.out_path)


async def _exit_code_soon(km) -> int | None:
    """The kernel's exit status, waiting a moment for the process to be reaped."""
    import asyncio

    for _ in range(20):
        process = getattr(km.provisioner, "process", None)
        code = process.poll() if process is not None else None
        if code is not None:
            return code
        await asyncio.sleep(0.05)
    return None


async def _stop_after_timeout(km, kc) -> bool:
    """SIGINT the kernel, wait briefly for it to answer, then kill it.

    Returns whether the kernel answered the interrupt.
    """
    import asyncio
    from queue import Empty

    answered = False
    with contextlib.suppress(Exception):
        await km.interrupt_kernel()
    deadline = time.monotonic() + INTERRUPT_GRACE
    while time.monotonic() < deadline:
        try:
            msg = await kc.shell_channel.get_msg(timeout=0.2)
        except Empty:
            if not await km.is_alive():
                break
            continue
        except Exception:
            break
        if msg.get("msg_type") == "execute_reply":
            answered = True
            break
    # The student's state is gone either way: the remaining cells do not run.
    current = asyncio.current_task()
    for task in asyncio.all_tasks():
        if task is not current:
            task.cancel()
    with contextlib.suppress(Exception):
        await km.shutdown_kernel(now=True)
    return answered


async def _execute(nb, limits: Limits, kernel_cwd: str, report: _Reporter) -> dict[str, Any]:
    import asyncio

    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client_class = _make_client_class()
    km = _pinned_kernel_manager(
        sys.executable, limits.output_bytes + 4 * MiB, limits.output_bytes + MiB
    )
    client = client_class(
        nb,
        km=km,
        output_bytes=limits.output_bytes,
        timeout=limits.cell_timeout,
        interrupt_on_timeout=False,
        allow_errors=True,
        store_widget_state=False,
        record_timing=False,
        # Outputs may trail the execute_reply by seconds on a loaded machine; waiting
        # costs nothing unless the final idle message was lost with a dropped message.
        iopub_timeout=10,
        raise_on_iopub_timeout=False,
        startup_timeout=min(120, limits.wall_timeout),
    )
    cells_run = 0
    try:
        await km.start_kernel(
            cwd=kernel_cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"]
        )
        report.emit({"event": "kernel", "pid": km.provisioner.pid})
        await client.async_start_new_kernel_client()
        watcher = asyncio.ensure_future(client.watch_iopub())
    except Exception as exc:
        with contextlib.suppress(Exception):
            await km.shutdown_kernel(now=True)
        return {"status": "sandbox_error", "message": f"the kernel did not start: {exc}"}

    status, message = "ok", ""
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            report.emit({"event": "cell_start", "index": index})
            client.dropped_output = False
            stop = None
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
                await client.note_dropped_output(cell)
                cells_run += 1
            except CellTimeoutError:
                answered = await _stop_after_timeout(km, client.kc)
                await client.note_dropped_output(cell)
                how = "interrupted, then stopped" if answered else "killed: it ignored SIGINT"
                stop = (
                    "cell_timeout",
                    error_output(
                        "CellTimeoutError",
                        f"this cell ran longer than {limits.cell_timeout} s; the kernel was "
                        f"{how}, so the cells after it did not run",
                    ),
                    f"cell {index} timed out after {limits.cell_timeout} s ({how})",
                )
            except DeadKernelError:
                code = km.provisioner.process.poll() if km.provisioner else None
                code = code if code is not None else await _exit_code_soon(km)
                why = _describe_exit(code)
                stop = (
                    "kernel_died",
                    error_output("DeadKernelError", f"{why}; the cells after this one did not run"),
                    f"cell {index}: {why}",
                )
            except Exception as exc:  # the driver's own failure: say so, keep what ran
                with contextlib.suppress(Exception):
                    await km.shutdown_kernel(now=True)
                why = f"{type(exc).__name__}: {exc}"[:300]
                stop = (
                    "sandbox_error",
                    error_output("GradingDriverError", f"{why}; the cells after this did not run"),
                    f"cell {index}: the grading driver failed: {why}",
                )
            if stop is not None:
                status, error, message = stop
                cell.outputs.append(error)
            report.emit(
                {
                    "event": "cell_done",
                    "index": index,
                    "execution_count": cell.get("execution_count"),
                    "outputs": cell.outputs,
                    "completed": stop is None,
                }
            )
            if stop is not None:
                break
    finally:
        watcher.cancel()
        with contextlib.suppress(Exception):
            client.kc.stop_channels()
        with contextlib.suppress(Exception):
            await km.shutdown_kernel(now=True)

    if client.truncated:
        note = f"outputs cut at {limits.output_bytes} bytes"
        if status == "ok":
            status, message = "output_limit", note
        else:
            message = f"{message}; {note}"
    return {"status": status, "message": message, "cells_run": cells_run}


def run_driver(
    nb_text: str,
    *,
    limits: Limits,
    kernel_cwd: str,
    events_fd: int | None = None,
    out_path: Path | None = None,
) -> dict[str, Any]:
    """Execute a notebook (JSON text); report each cell; return the final event."""
    import asyncio

    import nbformat

    try:
        nb = nbformat.reads(nb_text, as_version=4)
    except Exception as exc:
        end = {"status": "invalid_notebook", "message": f"not a notebook: {exc}"}
    else:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
        report = _Reporter(nb, events_fd, out_path)
        end = asyncio.run(_execute(nb, limits, kernel_cwd, report))
        report.emit({"event": "end", **end})
        return end
    _Reporter(None, events_fd, None).emit({"event": "end", **end})
    return end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.sandbox.driver",
        description="Execute a notebook cell by cell with bounded outputs (the sandbox driver).",
    )
    parser.add_argument("notebook", help="input notebook, or - to read it from stdin")
    parser.add_argument("out", help="executed notebook (rewritten after every cell), or -")
    parser.add_argument("--limits-json", default="{}", help="Limits fields as JSON")
    parser.add_argument("--events-fd", type=int, help="write JSON-line events to this fd")
    parser.add_argument("--kernel-cwd", default=".", help="working directory of the kernel")
    parser.add_argument("--nproc", type=int, help="RLIMIT_NPROC (default: Limits.processes)")
    parser.add_argument("--no-nproc", action="store_true", help="leave RLIMIT_NPROC alone")
    args = parser.parse_args(argv)

    limits = Limits.from_json(args.limits_json)
    # nbformat imports jsonschema, which imports rfc3987_syntax if present: building its
    # grammar costs ~2.7 s of CPU per driver start, for an IRI format notebooks never use.
    sys.modules.setdefault("rfc3987_syntax", None)
    if args.events_fd is not None:
        os.set_inheritable(args.events_fd, False)  # the kernel must never get it
    _harden_driver()
    if args.notebook == "-":
        nb_text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        # The trusted notebook (hidden tests included) must not stay readable as fd 0.
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    else:
        nb_text = Path(args.notebook).read_text(encoding="utf-8", errors="replace")
    nproc = None if args.no_nproc else (args.nproc or limits.processes)
    apply_rlimits(limits, nproc)
    out = None if args.out == "-" else Path(args.out)
    end = run_driver(
        nb_text, limits=limits, kernel_cwd=args.kernel_cwd, events_fd=args.events_fd, out_path=out
    )
    if args.events_fd is None:
        print(f"{end['status']}: {end.get('message', '')} (driver peak RSS {_peak_rss_mb()} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
