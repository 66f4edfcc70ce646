"""The sandbox's seccomp filter, seen from a real sandboxed cell: the blocked kernel
interfaces fail with EPERM (clone3 with ENOSYS), ordinary work still runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import bwrap, seccomp
from autograder.sandbox.driver import Limits
from autograder.sandbox.executor import execute_notebook

SMALL = Limits(cell_timeout=60, memory_mb=1024, wall_timeout=180, file_size_mb=8)

BLOCKED = textwrap.dedent(
    """
    import ctypes, errno, os, socket
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    NR = dict(io_uring_setup=425, userfaultfd=323, bpf=321, keyctl=250,
              perf_event_open=298, ptrace=101, clone3=435, setns=308)

    def errno_of(fn):
        try:
            r = fn()
        except OSError as exc:
            return exc.errno
        return ctypes.get_errno() if r == -1 else f"returned {r}"

    def sys(name, *args):
        ctypes.set_errno(0)
        return libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])

    buf = ctypes.create_string_buffer(256)
    checks = {
        "unshare(CLONE_NEWUSER)": lambda: libc.unshare(0x10000000),
        "unshare(CLONE_NEWNS)": lambda: libc.unshare(0x20000),
        "setns": lambda: sys("setns", 0, 0),
        "socket(AF_NETLINK, NETLINK_NETFILTER)": lambda: socket.socket(16, socket.SOCK_RAW, 12),
        "socket(AF_NETLINK, NETLINK_XFRM)": lambda: socket.socket(16, socket.SOCK_RAW, 6),
        "socket(AF_PACKET)": lambda: socket.socket(17, socket.SOCK_RAW, 0),
        "socket(AF_INET, SOCK_RAW)": lambda: socket.socket(2, socket.SOCK_RAW, 1),
        "socket(AF_INET, SOCK_RAW|SOCK_CLOEXEC)": lambda: socket.socket(
            2, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 1),
        "socket(AF_INET6, SOCK_RAW)": lambda: socket.socket(10, socket.SOCK_RAW, 58),
        "socket(AF_ALG)": lambda: socket.socket(38, socket.SOCK_SEQPACKET, 0),
        "io_uring_setup": lambda: sys("io_uring_setup", 8, ctypes.addressof(buf)),
        "userfaultfd": lambda: sys("userfaultfd", 0),
        "bpf": lambda: sys("bpf", 0, ctypes.addressof(buf), 64),
        "keyctl": lambda: sys("keyctl", 0, 0),
        "perf_event_open": lambda: sys("perf_event_open", ctypes.addressof(buf), 0, -1, -1, 0),
        "ptrace": lambda: sys("ptrace", 16, os.getppid(), 0, 0),
        "clone3": lambda: sys("clone3", ctypes.addressof(buf), 88),
    }
    for name, fn in checks.items():
        got = errno_of(fn)
        print(f"{name} => {errno.errorcode.get(got, got) if isinstance(got, int) else got}")
    """
)

ORDINARY = textwrap.dedent(
    """
    import os, socket, subprocess, threading
    import numpy as np
    import torch
    print("numpy =>", float(np.ones((3, 3)).sum()))
    print("torch =>", float(torch.ones(2, 2).sum()))
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    print("sockets => ok")
    out = []
    t = threading.Thread(target=lambda: out.append(1)); t.start(); t.join()
    print("thread =>", out)
    print("subprocess =>", subprocess.run(["echo", "hi"], capture_output=True, text=True).stdout)
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    print("fork =>", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """
)


def _run(tmp_path: Path, cells: list[str]):
    workdir = tmp_path / "run"
    workdir.mkdir()
    nb_path = workdir / "nb.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
    nbformat.write(nb, nb_path)
    result = execute_notebook(nb_path, workdir, limits=SMALL)
    cells = nbformat.read(result.notebook_path, as_version=4).cells
    return result, cells


def _lines(cell) -> dict[str, str]:
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
    return dict(line.split(" => ", 1) for line in text.splitlines() if " => " in line)


def test_filter_builds_here():
    """libseccomp and pyseccomp are installed on the grading machines: the filter must
    compile (where it does not, grading says so: see the test below)."""
    fd = seccomp.bpf_fd()
    try:
        import os

        assert os.fstat(fd).st_size > 0 and os.fstat(fd).st_size % 8 == 0  # sock_filter
    finally:
        os.close(fd)


@pytest.mark.sandbox
def test_blocked_interfaces_fail_with_eperm_and_ordinary_work_runs(tmp_path):
    result, cells = _run(tmp_path, [BLOCKED, ORDINARY])
    assert result.status == "ok", result.message
    assert "SECCOMP" not in result.message
    got = _lines(cells[0])
    expected = dict.fromkeys(got, "EPERM")
    expected["clone3"] = "ENOSYS"
    assert len(got) == 17, got
    assert got == expected
    ordinary = _lines(cells[1])
    assert ordinary == {
        "numpy": "9.0",
        "torch": "4.0",
        "sockets": "ok",
        "thread": "[1]",
        "subprocess": "hi",
        "fork": "7",
    }, cells[1].outputs


@pytest.mark.sandbox
def test_without_libseccomp_grading_works_and_says_the_filter_is_off(tmp_path, monkeypatch):
    def unavailable(*args, **kwargs):
        raise seccomp.SeccompUnavailableError("libseccomp unavailable (test)")

    monkeypatch.setattr(seccomp, "bpf_fd", unavailable)
    result, cells = _run(tmp_path, ["import socket; socket.socket(17, socket.SOCK_RAW, 0)"])
    assert result.sandboxed
    assert "[SECCOMP FILTER OFF: libseccomp unavailable (test)]" in result.message
    # without the filter AF_PACKET is refused by the kernel for lack of CAP_NET_RAW
    assert cells[0].outputs[0]["ename"] == "PermissionError"
    assert bwrap.sandbox_available()[0]
