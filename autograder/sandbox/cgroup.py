"""One control group per sandboxed execution: a memory and a task limit for the whole
sandbox, however many processes it forks.

`RLIMIT_DATA` caps each process of the kernel tree, so three forked children could
together hold three times `memory_mb`. A cgroup counts everything the sandbox holds: every
process, and the pages of its RAM-backed folders (`/submission`, `/tmp`, `/dev/shm` are
tmpfs, charged to the cgroup of whoever wrote them). Past `Limits.sandbox_memory_mb` the
kernel reclaims, then OOM-kills a process *inside* the group; the host and the other
executions are untouched. `pids.max` caps processes + threads of the sandbox as a whole,
whatever the uid.

Where a cgroup can be made:

- cgroup v2 (a unified hierarchy at /sys/fs/cgroup with the memory and pids
  controllers): as root, under /sys/fs/cgroup/autograder; as an ordinary user, under a
  delegated folder named by $AUTOGRADER_CGROUP, e.g. the one
  `systemd-run --user --scope -p Delegate=yes --property=...` gives you.
- cgroup v1 (separate memory and pids hierarchies, as on this project's machines): as
  root, under the grader's own memory and pids cgroups (so the machine's own limits
  still hold above ours).

Elsewhere (an unprivileged user without delegation, macOS, a container with a read-only
/sys/fs/cgroup) there is no sandbox-wide limit: `create` says why, the execution's result
message carries `[NO SANDBOX-WIDE MEMORY LIMIT: why]`, and the per-process rlimits remain.

The sandbox joins its cgroup before bubblewrap starts (`enter_argv`: a /bin/sh that
writes its own pid into the group, then execs bwrap), so no process of it ever runs
outside; afterwards `close` kills what is left in the group and removes it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
ENV_BASE = "AUTOGRADER_CGROUP"
BASE_NAME = "autograder"
CONTROLLERS = ("memory", "pids")
_counter = itertools.count()
_lock = threading.Lock()


class Unavailable(Exception):  # noqa: N818 (read as "cgroup.Unavailable")
    """No cgroup can be made here; the message says why."""


@dataclass
class JobCgroup:
    """The cgroup folder(s) of one execution: one (v2), or one per controller (v1)."""

    version: int
    dirs: dict[str, Path]  # controller -> folder ("unified" for v2)
    memory_bytes: int
    pids: int

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def enter_argv(self, argv: list[str]) -> list[str]:
        """`argv`, started inside this cgroup (race-free: the shell joins, then execs)."""
        script = (
            'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; '
            'n=$((n - 1)); done; exec "$@"'
        )
        files = self.procs_files()
        return ["/bin/sh", "-c", script, "cgroup-enter", str(len(files)), *files, *argv]

    def _memory_dir(self) -> Path:
        return self.dirs.get("memory") or self.dirs["unified"]

    def oom_kills(self) -> int:
        """How many processes the kernel killed for the group's memory limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        return _stat_value(self._memory_dir() / name, "oom_kill")

    def peak_bytes(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        with contextlib.suppress(OSError, ValueError):
            return int((self._memory_dir() / name).read_text().split()[0])
        return None

    def tasks(self) -> list[int]:
        found: set[int] = set()
        for folder in self.dirs.values():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return sorted(found)

    def close(self, seconds: float = 10.0) -> list[int]:
        """Kill every process left in the group and remove it; return what survived."""
        if self.version == 2:
            with contextlib.suppress(OSError):
                (self.dirs["unified"] / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + seconds
        while (left := self.tasks()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        for folder in self.dirs.values():
            _rmdir_when_empty(folder)
        return self.tasks()


def _stat_value(path: Path, key: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def _rmdir_when_empty(folder: Path, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # EBUSY: a task is still exiting
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def _own_paths() -> dict[str, str]:
    """This process's cgroup per controller, from /proc/self/cgroup ("" for v2)."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _sweep(base: Path) -> None:
    """Remove job cgroups left by graders that no longer run (named job-<pid>-<n>)."""
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            parts = entry.name.split("-")
            ours = len(parts) == 3 and parts[0] == "job" and parts[1].isdigit()
            if ours and not Path(f"/proc/{parts[1]}").exists():
                with contextlib.suppress(OSError):
                    entry.rmdir()  # fails (EBUSY) if anything still runs in it


def _v2_base() -> Path:
    named = os.environ.get(ENV_BASE)
    if named:
        base = Path(named)
        if not (base / "cgroup.controllers").is_file():
            raise Unavailable(f"${ENV_BASE}={named} is not a cgroup v2 folder")
        return base
    if os.geteuid() != 0:
        raise Unavailable(
            f"cgroup v2 needs root or a delegated cgroup named by ${ENV_BASE} "
            "(systemd-run --user --scope -p Delegate=yes ...)"
        )
    base = ROOT / BASE_NAME
    _enable(ROOT)
    base.mkdir(exist_ok=True)
    return base


def _enable(folder: Path) -> None:
    available = (folder / "cgroup.controllers").read_text().split()
    missing = [c for c in CONTROLLERS if c not in available]
    if missing:
        raise Unavailable(f"the {', '.join(missing)} controller is not available in {folder}")
    enabled = (folder / "cgroup.subtree_control").read_text().split()
    wanted = " ".join(f"+{c}" for c in CONTROLLERS if c not in enabled)
    if wanted:
        (folder / "cgroup.subtree_control").write_text(wanted)


def _create_v2(name: str, memory_bytes: int, pids: int) -> JobCgroup:
    base = _v2_base()
    _enable(base)
    _sweep(base)
    folder = base / name
    folder.mkdir()
    job = JobCgroup(2, {"unified": folder}, memory_bytes, pids)
    try:
        (folder / "memory.max").write_text(str(memory_bytes))
        with contextlib.suppress(FileNotFoundError):  # no swap accounting: nothing to cap
            (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(pids))
    except OSError:
        job.close()
        raise
    return job


def _create_v1(name: str, memory_bytes: int, pids: int) -> JobCgroup:
    own = _own_paths()
    dirs: dict[str, Path] = {}
    for controller in CONTROLLERS:
        mount = ROOT / controller
        if controller not in own or not mount.is_dir():
            raise Unavailable(f"no cgroup v1 {controller} hierarchy at {mount}")
        base = mount / own[controller].lstrip("/") / BASE_NAME
        base.mkdir(exist_ok=True)
        _sweep(base)
        dirs[controller] = base / name
    job = JobCgroup(1, {}, memory_bytes, pids)
    try:
        for controller, folder in dirs.items():
            folder.mkdir()
            job.dirs[controller] = folder
        memory = dirs["memory"]
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(FileNotFoundError):  # swap accounting off: nothing to cap
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        (dirs["pids"] / "pids.max").write_text(str(pids))
    except OSError:
        job.close()
        raise
    return job


def create(memory_bytes: int, pids: int) -> JobCgroup:
    """A fresh cgroup with these limits, or `Unavailable` saying why there is none."""
    with _lock:
        name = f"job-{os.getpid()}-{next(_counter)}"
    try:
        if os.environ.get(ENV_BASE) or (ROOT / "cgroup.controllers").is_file():
            return _create_v2(name, memory_bytes, pids)
        if (ROOT / "memory").is_dir():
            if os.geteuid() != 0:
                raise Unavailable("cgroup v1 job groups need root")
            return _create_v1(name, memory_bytes, pids)
    except OSError as exc:
        raise Unavailable(f"could not make a cgroup: {exc}") from exc
    raise Unavailable(f"no cgroup hierarchy at {ROOT}")
