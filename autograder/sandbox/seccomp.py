"""The seccomp filter of the grading sandbox (loaded by bubblewrap's `--seccomp FD`).

The sandbox already runs the kernel as an unprivileged uid in its own namespaces; the
filter removes the kernel interfaces that an unprivileged process rarely needs and that
carry most of Linux's local privilege escalations. Blocked calls fail with EPERM (clone3
with ENOSYS, so that glibc falls back to clone, whose flags the filter can inspect); no
call kills the process. Everything else is allowed. docs/grading-sandbox.md lists the
rules and what a submission sees.

The filter is built with libseccomp through `pyseccomp` (ctypes over libseccomp.so.2). If
either is missing, `build()` raises `SeccompUnavailableError` and the sandbox runs without it,
saying so in every result message.
"""

from __future__ import annotations

import errno
import os
import tempfile

# clone(2) flags that create a namespace (linux/sched.h). CLONE_NEWTIME (0x80) overlaps
# the exit-signal byte of clone(2) and exists only for clone3/unshare, both blocked whole.
CLONE_NEW = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
AF_NETLINK, AF_PACKET, AF_ALG = 16, 17, 38
NETLINK_ROUTE = 0
SOCK_RAW = 3
SOCK_TYPE_MASK = 0xF  # the type argument also carries SOCK_NONBLOCK | SOCK_CLOEXEC
# Refused whatever their arguments.
BLOCKED = (
    "unshare",
    "setns",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "ptrace",
)


class SeccompUnavailableError(RuntimeError):
    """libseccomp or its Python binding cannot be used here."""


def _binding():
    try:
        import pyseccomp
    except Exception as exc:  # ImportError, or RuntimeError("Unable to find libseccomp")
        raise SeccompUnavailableError(f"libseccomp unavailable ({exc})") from exc
    return pyseccomp


def build():
    """The filter as a pyseccomp.SyscallFilter (default: allow)."""
    sc = _binding()
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        # Syscalls of another ABI (i386 `int 0x80`, x32) would bypass rules written for
        # the native one: refuse them all.
        f.set_attr(sc.Attr.ACT_BADARCH, sc.ERRNO(errno.ENOSYS))
        eperm = sc.ERRNO(errno.EPERM)
        for name in BLOCKED:
            f.add_rule(eperm, name)
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        for flag in CLONE_NEW.values():
            f.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        for domain in (AF_PACKET, AF_ALG):
            f.add_rule(eperm, "socket", sc.Arg(0, sc.EQ, domain))
        # Netlink except NETLINK_ROUTE: getifaddrs() reads the interface list over it, and
        # libzmq aborts the kernel when that fails (src/ip_resolver.cpp, any errno but
        # EINVAL). In the sandbox's own network namespace it lists only its loopback, and
        # changing anything needs CAP_NET_ADMIN, which the uid does not have.
        f.add_rule(eperm, "socket", sc.Arg(0, sc.EQ, AF_NETLINK), sc.Arg(2, sc.NE, NETLINK_ROUTE))
        # Raw sockets of every other family (AF_INET, AF_INET6, ...); netlink sockets are
        # SOCK_RAW by nature and are handled above.
        raw = sc.Arg(1, sc.MASKED_EQ, SOCK_TYPE_MASK, SOCK_RAW)
        f.add_rule(eperm, "socket", sc.Arg(0, sc.NE, AF_NETLINK), raw)
    except Exception as exc:
        raise SeccompUnavailableError(f"the seccomp filter could not be built ({exc})") from exc
    return f


def bpf_fd(directory: str | os.PathLike[str] | None = None) -> int:
    """A file descriptor, positioned at 0, holding the compiled BPF program (what bwrap's
    `--seccomp FD` reads). Not inheritable: the caller passes it to bwrap only
    (`pass_fds`) and closes it once bwrap has started."""
    f = build()
    with tempfile.TemporaryFile(dir=directory) as tmp:
        try:
            f.export_bpf(tmp)
        except Exception as exc:
            raise SeccompUnavailableError(
                f"the seccomp filter could not be exported ({exc})"
            ) from exc
        fd = os.dup(tmp.fileno())
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, False)
    return fd
