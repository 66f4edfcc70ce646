"""The bubblewrap sandbox that one notebook execution runs in.

`plan()` turns (workdir, limits, extra read-only paths, env) into the command line that
`autograder.sandbox.executor.execute_notebook` starts, plus what has to happen on the host before
and after (ownership of the workdir, a synthesized /etc/passwd). What is isolated, the
limits and their measured behaviour, and the residual risks: docs/grading-sandbox.md.

Inside the sandbox the kernel sees:

- /usr, /bin, /lib, ... (the OS), read-only;
- the Python installation and the venv at their own paths, read-only;
- /opt/course-pkgs/course (and each package of extra_ro_paths), importable through
  PYTHONPATH, read-only; other extra_ro_paths (a data folder) at their own paths, read-only;
- /opt/grader/driver.py, the driver (autograder/sandbox/driver.py), read-only;
- /submission, the private workdir: cwd and HOME, read-write;
- /tmp and /dev/shm, private size-capped tmpfs;
- its own /proc (new pid namespace) and a minimal /dev (null, zero, urandom, ...).

Nothing else of the host exists: not the repository (source/, release/, autograder/,
gradebook.db), not other submissions, not /root or /home. No network (a new network
namespace with only its own loopback), no IPC with the host, its own hostname.

As root, bwrap runs without a user namespace and `setpriv` drops to a fresh unprivileged
uid for each execution (RLIMIT_NPROC never applies to uid 0), with no capabilities, an
empty bounding set and no_new_privs. As an ordinary user, bwrap is unprivileged (user
namespaces) and the uid stays the user's own.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import itertools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import seccomp
from autograder.sandbox.driver import Limits, MiB

SUBMISSION = "/submission"
PACKAGES = "/opt/course-pkgs"
DRIVER = "/opt/grader/driver.py"
# Per-execution uids (root mode): far above real users and the usual subuid ranges, below
# 2**31 so that no tool reads them as negative. pid << 4 | counter keeps concurrent
# executions (processes, or up to 16 threads of one process) on distinct uids, so one
# submission's fork bomb never eats another's RLIMIT_NPROC allowance.
UID_BASE = 1_500_000_000
TMP_SIZE_FRACTION = 4  # /tmp holds at most memory_mb / 4 (tmpfs is RAM, outside RLIMIT_DATA)
SHM_SIZE = 64 * MiB
# /submission is a tmpfs of memory_mb / 2 (at least 256 MiB) into which the job's files are
# copied: the host disk never holds what the kernel writes, and the host path of the job
# never appears in the sandbox's /proc/self/mountinfo.
JOB_SIZE_FRACTION = 2
JOB_MIN_SIZE = 256 * MiB
MAX_COPIED_FILES = 512  # files copied into the sandbox (one file descriptor each)
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "alternatives",
    "fonts",
    "mime.types",
)
_uid_counter = itertools.count()
_uid_lock = threading.Lock()


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _namespace_flags() -> list[str]:
    if _is_root():
        # --unshare-all would add a user namespace in which only uid 0 is mapped, and
        # setpriv could not switch to the sandbox uid.
        return [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
    # --unshare-all only *tries* a user namespace; --disable-userns needs a real one.
    return ["--unshare-all", "--unshare-user", "--disable-userns"]


def _setpriv(uid: int) -> list[str]:
    return [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


#: Where the kernel's matplotlib keeps its font list (MPLCONFIGDIR of base_env, under /tmp).
MPL_DIR = ".matplotlib"
#: Seconds to build the font list once per grading process (matplotlib runs fc-list).
FONT_LIST_TIMEOUT_S = 120


@functools.lru_cache(maxsize=1)
def font_list() -> Path | None:
    """matplotlib's font list, built once per process in a folder of its own, to be copied
    into every sandbox's MPLCONFIGDIR (which starts empty on a fresh /tmp).

    Without it each kernel that imports matplotlib scans the fonts again (fc-list and
    every font file): CPU that two grading slots on two cores take from each other's
    notebooks (docs/performance.md, "The sandbox's own CPU"). It is built by a plain
    `python -c` with an empty home, so it lists the system's and matplotlib's fonts, the
    ones the sandbox sees at the same paths. None where matplotlib is missing or the
    build fails: each kernel then builds its own, as before.
    """
    folder = Path(tempfile.mkdtemp(prefix="cnn-course-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(folder), "MPLCONFIGDIR": str(folder)}
    try:
        subprocess.run(
            [sys.executable, "-I", "-c", "import matplotlib.font_manager"],
            env=env,
            cwd=folder,
            capture_output=True,
            timeout=FONT_LIST_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = sorted(folder.glob("fontlist-v*.json"))
    return found[0] if len(found) == 1 else None


@functools.lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """Whether executions can be sandboxed here, and why not (or how) in one line."""
    if not sys.platform.startswith("linux"):
        return False, f"bubblewrap needs Linux (this is {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    if _is_root() and shutil.which("setpriv") is None:
        return False, "running as root needs setpriv (util-linux) to drop privileges"
    probe = [bwrap, *_namespace_flags(), "--die-with-parent", "--ro-bind", "/", "/"]
    probe += ["--proc", "/proc", "--dev", "/dev", "--"]
    probe += [*_setpriv(65534), "true"] if _is_root() else ["true"]
    try:
        run = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap could not run: {exc}"
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or ["no message"])[-1]
        return False, f"bwrap does not work here ({why}); user namespaces disabled?"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout
    mode = "as root, dropping to a per-execution uid" if _is_root() else "unprivileged"
    return True, f"{version.strip() or 'bwrap'} ({mode})"


def course_package_dir() -> Path:
    """The `course` package folder (what student notebooks import)."""
    spec = importlib.util.find_spec("course")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the course package is not importable here")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def python_dirs() -> list[Path]:
    """Folders that hold the interpreter: the venv (sys.prefix) and the base installation
    (sys.base_prefix, read from pyvenv.cfg by Python itself), plus the executable's real
    folder if it lies elsewhere."""
    dirs = [Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent]
    keep: list[Path] = []
    for d in dirs:
        d = Path(os.path.abspath(d))
        if any(d == k or k in d.parents for k in keep):
            continue
        keep = [k for k in keep if d not in k.parents]
        keep.append(d)
    return keep


def count_tasks(uid: int) -> int:
    """Processes + threads owned by `uid` (what RLIMIT_NPROC counts), from /proc."""
    n = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            n += int(fields.get("Threads", "1").strip())
    return n


def _unprivileged_nproc(allowance: int) -> int:
    """RLIMIT_NPROC for an unprivileged bwrap (inside a new user namespace).

    Since Linux 5.14 the count is kept per user namespace: inside the sandbox's namespace
    only the sandbox's own tasks count, so the allowance is the limit. Older kernels count
    every task of the real uid, so the user's current tasks come on top.
    """
    try:
        major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    except ValueError:
        major, minor = 0, 0
    if (major, minor) >= (5, 14):
        return allowance
    return count_tasks(os.getuid()) + allowance


def allocate_uid() -> int:
    with _uid_lock:
        slot = next(_uid_counter) & 0xF
    return UID_BASE + ((os.getpid() << 4) | slot)


@dataclass
class Plan:
    """How to start one sandboxed execution, and the host-side set-up around it."""

    argv: list[str]
    popen_env: dict[str, str]
    popen_cwd: str
    sandboxed: bool
    uid: int | None
    workdir: Path
    files: dict[Path, str] = field(default_factory=dict)  # host files to write first
    # Descriptors bwrap reads (the seccomp program, files copied in): passed to bwrap only,
    # closed by cleanup().
    fds: list[int] = field(default_factory=list)
    # What the result message must say (e.g. that the seccomp filter is off).
    notes: list[str] = field(default_factory=list)
    chown_workdir: bool = False
    _owner: tuple[int, int] | None = None

    def prepare(self) -> None:
        for path, text in self.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
        if self.uid is not None and self.chown_workdir:
            st = self.workdir.stat()
            self._owner = (st.st_uid, st.st_gid)
            _chown_tree(self.workdir, self.uid, self.uid)

    def close_fds(self) -> None:
        while self.fds:
            with contextlib.suppress(OSError):
                os.close(self.fds.pop())

    def cleanup(self) -> None:
        """Close the descriptors; give the workdir back to its owner if it was lent."""
        self.close_fds()
        if self._owner is not None:
            _chown_tree(self.workdir, *self._owner)
            self._owner = None


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    # lchown only: the tree may hold symlinks pointing anywhere.
    os.chown(root, uid, gid, follow_symlinks=False)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def _importable(path: Path) -> bool:
    return path.is_dir() and (path / "__init__.py").is_file()


def base_env(*, home: str, pythonpath: str, tmp: str) -> dict[str, str]:
    """The kernel's environment: nothing inherited from the grading process."""
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin:/usr/bin:/bin"]),
        "HOME": home,
        "PYTHONPATH": pythonpath,
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "TMPDIR": tmp,
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # Jupyter and IPython state goes to /tmp, never into the student's folder (whose
        # planted kernel.json or ipython profile would otherwise be read).
        "IPYTHONDIR": f"{tmp}/.ipython",
        "JUPYTER_CONFIG_DIR": f"{tmp}/.jupyter",
        "JUPYTER_DATA_DIR": f"{tmp}/.local/share/jupyter",
        "JUPYTER_RUNTIME_DIR": f"{tmp}/.jupyter-runtime",
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLCONFIGDIR": f"{tmp}/{MPL_DIR}",
        "XDG_CACHE_HOME": f"{tmp}/.cache",
        "XDG_CONFIG_HOME": f"{tmp}/.config",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def plan(
    *,
    workdir: Path,
    limits: Limits,
    events_fd: int,
    extra_ro_paths: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    masked: Sequence[Path] = (),
    scratch: Path,
    use_bwrap: bool = True,
    course_package: Path | None = None,
) -> Plan:
    """Build the command line of one execution.

    Args:
        workdir: the submission's private folder (read-write inside).
        limits: resource limits (passed to the driver, which applies the rlimits).
        events_fd: the pipe the driver reports on (kept open through bwrap).
        extra_ro_paths: packages (importable by name) or other paths (same path inside).
        env: extra environment variables for the kernel.
        masked: files inside `workdir` hidden from the sandbox (the trusted notebook).
        scratch: a private host folder of the trusted side for synthesized files.
        use_bwrap: False gives the fallback: rlimits only, no isolation at all.
        course_package: the `course` package to copy in (a staged bundle's); default:
            course_package_dir().
    """
    workdir = Path(workdir).resolve()
    course = Path(course_package).resolve() if course_package else course_package_dir()
    repo = course.parent
    packages: dict[str, Path] = {"course": course}
    plain: list[Path] = []
    for p in extra_ro_paths:
        p = Path(p).resolve()
        if not p.exists():
            raise ValueError(f"extra read-only path {p} does not exist")
        if p in (repo, workdir) or p in repo.parents or p in workdir.parents:
            raise ValueError(f"{p} would expose the course repository or the workdir")
        if _importable(p):
            if p.name in packages and packages[p.name] != p:
                raise ValueError(f"two packages named {p.name!r}: {packages[p.name]} and {p}")
            packages[p.name] = p
        else:
            plain.append(p)

    limits_json = limits.to_json()
    driver_args = ["--limits-json", limits_json, "--events-fd", str(events_fd)]
    uid = None
    if not use_bwrap:
        return _fallback_plan(workdir, limits, driver_args, packages, env, scratch)

    if _is_root():
        uid = allocate_uid()
        nproc = ["--nproc", str(limits.processes)]
    else:
        nproc = ["--nproc", str(_unprivileged_nproc(limits.processes))]
    kernel_env = {
        **base_env(home=SUBMISSION, pythonpath=PACKAGES, tmp="/tmp"),
        **(env or {}),
    }

    args = [shutil.which("bwrap") or "bwrap", *_namespace_flags()]
    args += ["--hostname", "grading", "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in kernel_env.items():
        args += ["--setenv", key, value]
    made: set[str] = {"/"}

    def parents(dest: str) -> list[str]:
        out = []
        for parent in reversed(Path(dest).parents):
            s = str(parent)
            if s not in made:
                made.add(s)
                out += ["--perms", "0755", "--dir", s]
        return out

    def ro(src: Path | str, dest: str) -> list[str]:
        made.add(dest)
        return [*parents(dest), "--ro-bind", str(src), dest]

    # The OS: /usr and the merged-usr links (or real folders on older systems).
    args += ro("/usr", "/usr")
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ro(top, top)
    etc = scratch / "etc"
    files = {
        etc / "passwd": (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"student:x:{uid if uid is not None else os.getuid()}:"
            f"{uid if uid is not None else os.getgid()}:grading sandbox:{SUBMISSION}:"
            "/usr/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
        etc / "group": (
            f"root:x:0:\nstudent:x:{uid if uid is not None else os.getgid()}:\nnogroup:x:65534:\n"
        ),
        etc / "hosts": "127.0.0.1\tlocalhost grading\n::1\tlocalhost\n",
    }
    args += parents("/etc/x")
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for path in files:
        args += ["--ro-bind", str(path), f"/etc/{path.name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm"]
    tmp_size = max(64, limits.memory_mb // TMP_SIZE_FRACTION) * MiB
    args += ["--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp"]
    for d in python_dirs():
        if d == repo or d in repo.parents:
            raise ValueError(f"the Python installation {d} contains the course repository")
        args += ro(d, str(d))
    for p in plain:
        args += ro(p, str(p))
    # Everything of the course repository is *copied* in (bwrap --file from a descriptor),
    # never bound: a bind shows its host path in /proc/self/mountinfo.
    fds: list[int] = []
    notes: list[str] = []
    try:
        if (fonts := font_list()) is not None:
            args += ["--perms", "1777", "--dir", f"/tmp/{MPL_DIR}"]
            args += ["--perms", "0644", "--file", _open(fonts, fds), f"/tmp/{MPL_DIR}/{fonts.name}"]
        args += [*parents(PACKAGES), "--perms", "0755", "--tmpfs", PACKAGES]
        made.add(PACKAGES)
        for name, src in packages.items():
            args += _copy_tree(src, f"{PACKAGES}/{name}", fds, skip=(), writable=False)
        args += ["--remount-ro", PACKAGES]
        driver = Path(__file__).with_name("driver.py").resolve()
        args += [*parents(DRIVER), "--perms", "0644", "--ro-bind-data", _open(driver, fds), DRIVER]
        job_size = max(JOB_MIN_SIZE, limits.memory_mb * MiB // JOB_SIZE_FRACTION)
        args += [*parents(SUBMISSION), "--perms", "0777", "--size", str(job_size)]
        args += ["--tmpfs", SUBMISSION]
        hidden = {Path(m).resolve() for m in masked}
        args += _copy_tree(workdir, SUBMISSION, fds, skip=hidden, writable=True)
        try:
            fds.append(seccomp.bpf_fd())
            args += ["--seccomp", str(fds[-1])]
        except seccomp.SeccompUnavailableError as exc:
            notes.append(f"[SECCOMP FILTER OFF: {exc}]")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    args += ["--chdir", SUBMISSION, "--"]
    if uid is not None:
        args += _setpriv(uid)
    args += [sys.executable, "-I", DRIVER, "-", "-", *driver_args]
    args += ["--kernel-cwd", SUBMISSION, *nproc]
    return Plan(
        argv=args,
        popen_env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
        popen_cwd="/",
        sandboxed=True,
        uid=uid,
        workdir=workdir,
        files=files,
        fds=fds,
        notes=notes,
    )


def _open(path: Path, fds: list[int]) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    fds.append(fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise ValueError(f"{path} is not a regular file")
    return str(fd)


def _copy_tree(
    src: Path, dest: str, fds: list[int], *, skip: Collection[Path], writable: bool
) -> list[str]:
    """bwrap arguments that recreate `src` (folders and regular files; links and other
    files are left out, __pycache__ too) at `dest`, each file copied from a descriptor."""
    dmode, fmode = ("0777", "0666") if writable else ("0755", "0644")
    args = ["--perms", dmode, "--dir", dest]
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        here = Path(dirpath)
        rel = here.relative_to(src)
        target = dest if rel == Path(".") else f"{dest}/{rel.as_posix()}"
        for d in dirnames:
            if not (here / d).is_symlink():
                args += ["--perms", dmode, "--dir", f"{target}/{d}"]
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in sorted(filenames):
            path = here / name
            if path in skip or path.is_symlink() or not path.is_file():
                continue
            if len(fds) >= MAX_COPIED_FILES:
                raise ValueError(f"more than {MAX_COPIED_FILES} files to copy into the sandbox")
            args += ["--perms", fmode, "--file", _open(path, fds), f"{target}/{name}"]
    return args


def _fallback_plan(
    workdir: Path,
    limits: Limits,
    driver_args: list[str],
    packages: dict[str, Path],
    env: Mapping[str, str] | None,
    scratch: Path,
) -> Plan:
    """No bubblewrap: the driver runs as this user with rlimits, and that is all."""
    pkgs = scratch / "pkgs"
    pkgs.mkdir(parents=True, exist_ok=True)
    for name, src in packages.items():
        (pkgs / name).symlink_to(src, target_is_directory=True)
    tmp = scratch / "tmp"
    tmp.mkdir(exist_ok=True)
    if (fonts := font_list()) is not None:
        (tmp / MPL_DIR).mkdir(exist_ok=True)
        shutil.copyfile(fonts, tmp / MPL_DIR / fonts.name)
    kernel_env = {
        **base_env(home=str(workdir), pythonpath=str(pkgs), tmp=str(tmp)),
        **(env or {}),
    }
    if _is_root():
        nproc = ["--no-nproc"]  # the kernel exempts uid 0 from RLIMIT_NPROC
    elif hasattr(os, "getuid") and sys.platform.startswith("linux"):
        nproc = ["--nproc", str(count_tasks(os.getuid()) + limits.processes)]
    else:
        nproc = ["--no-nproc"]  # cannot count this user's processes cheaply
    driver = Path(__file__).with_name("driver.py").resolve()
    argv = [sys.executable, "-I", str(driver), "-", "-", *driver_args]
    argv += ["--kernel-cwd", str(workdir), *nproc]
    return Plan(
        argv=argv,
        popen_env=kernel_env,
        popen_cwd=str(workdir),
        sandboxed=False,
        uid=None,
        workdir=workdir,
    )
