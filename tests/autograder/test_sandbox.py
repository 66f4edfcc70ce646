"""autograder.sandbox.bwrap: what a submission can see, reach and leave behind.

The bubblewrap tests are skipped, with the reason, where bwrap cannot run (macOS, user
namespaces disabled); on the grading machines and in CI they run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import bwrap
from autograder.sandbox.driver import Limits
from autograder.sandbox.executor import execute_notebook

SMALL = Limits(cell_timeout=30, memory_mb=1024, wall_timeout=120, file_size_mb=8)
REPO = bwrap.course_package_dir().parent


def run(workdir: Path, cells: list[str], limits: Limits = SMALL, **kw):
    workdir.mkdir(parents=True, exist_ok=True)
    nb_path = workdir / "nb.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
    nbformat.write(nb, nb_path)
    result = execute_notebook(nb_path, workdir, limits=limits, **kw)
    return result, nbformat.read(result.notebook_path, as_version=4).cells


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def probe_lines(cell) -> dict[str, str]:
    """`path: outcome` lines printed by the PROBE helper."""
    return dict(line.split(" => ", 1) for line in stdout(cell).splitlines() if " => " in line)


PROBE = textwrap.dedent(
    """
    import os
    def probe(label, action):
        try:
            got = action()
            print(f"{label} => ok {got!r}"[:200])
        except Exception as exc:
            print(f"{label} => {type(exc).__name__}")
    """
)


def uid_tasks(uid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_no_tasks(uid: int, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := uid_tasks(uid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


# --------------------------------------------------------------------------------------
# Fast: the command line
# --------------------------------------------------------------------------------------


def test_sandbox_available_says_why():
    ok, why = bwrap.sandbox_available()
    assert isinstance(ok, bool) and why


@pytest.mark.sandbox
def test_plan_isolates_namespaces_and_binds_only_what_is_needed(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "nb.ipynb").write_text("{}")
    plan = bwrap.plan(
        workdir=workdir,
        limits=Limits(),
        events_fd=9,
        extra_ro_paths=[REPO / "solutions"],
        masked=[workdir / "nb.ipynb"],
        scratch=tmp_path / "scratch",
    )
    argv = plan.argv
    assert plan.sandboxed
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"):
        assert flag in argv
    assert "--new-session" in argv and "--clearenv" in argv
    binds = {argv[i + 2]: argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")}
    assert "--bind" not in argv  # no writable host path at all
    # The job and the course packages are copied in (a descriptor each), never bound.
    copied = {argv[i + 2] for i, a in enumerate(argv) if a == "--file"}
    assert "/opt/course-pkgs/course/__init__.py" in copied
    assert "/opt/course-pkgs/solutions/__init__.py" in copied
    assert "/submission/nb.ipynb" not in copied  # hidden tests stay unreadable
    assert set(plan.fds) >= {int(argv[i + 1]) for i, a in enumerate(argv) if a == "--file"}
    i = next(i for i, a in enumerate(argv) if a == "--tmpfs" and argv[i + 1] == "/submission")
    assert argv[i - 2] == "--size"  # the job folder is a size-capped tmpfs
    assert "--seccomp" in argv and int(argv[argv.index("--seccomp") + 1]) in plan.fds
    plan.cleanup()
    assert plan.fds == []
    assert not [
        b
        for b in binds.values()
        if b == str(REPO) or (str(REPO) + "/" in b + "/" and not b.startswith(sys.prefix))
    ]
    for secret in ("source", "release", "autograder", "gradebook.db"):
        assert str(REPO / secret) not in binds.values()
    env = {argv[i + 1]: argv[i + 2] for i, a in enumerate(argv) if a == "--setenv"}
    assert env["HOME"] == "/submission" and env["PYTHONPATH"] == "/opt/course-pkgs"
    assert env["MPLBACKEND"] == "Agg" and env["OMP_NUM_THREADS"] == "1"
    if os.geteuid() == 0:
        assert plan.uid is not None and plan.uid >= bwrap.UID_BASE
        assert f"--reuid={plan.uid}" in argv and "--no-new-privs" in argv
        assert argv[-2:] == ["--nproc", str(Limits().processes)]


def test_plan_refuses_extra_paths_that_expose_the_repository(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(ValueError, match="expose"):
        bwrap.plan(
            workdir=tmp_path / "run",
            limits=Limits(),
            events_fd=9,
            extra_ro_paths=[REPO],
            scratch=tmp_path / "scratch",
        )


def test_uids_differ_between_concurrent_executions():
    uids = {bwrap.allocate_uid() for _ in range(16)}
    assert len(uids) == 16
    assert all(bwrap.UID_BASE <= u < 2**31 for u in uids)


# --------------------------------------------------------------------------------------
# Slow: real sandboxed executions
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.sandbox
def test_filesystem_outside_the_workdir_is_invisible_or_read_only(tmp_path):
    course = tmp_path / "course-root"
    (course / "submitted" / "alice").mkdir(parents=True)
    (course / "submitted" / "alice" / "nb.ipynb").write_text("alice's work")
    (course / "gradebook.db").write_text("grades")
    workdir = course / "work" / "bob"
    targets = {
        "repo_root": REPO / "planted.txt",
        "etc_via_tmp": Path("/tmp/../etc/planted.txt"),
        "repo_source": REPO / "source" / "planted.txt",
        "venv": Path(sys.prefix) / "planted.txt",
        "course_pkg": Path("/opt/course-pkgs/course/planted.txt"),
    }
    reads = {
        "read_source": REPO / "source",
        "read_solutions": REPO / "solutions" / "conv.py",
        "read_sibling": course / "submitted" / "alice" / "nb.ipynb",
        "read_gradebook": course / "gradebook.db",
        "read_repo_gradebook": REPO / "gradebook.db",
        "read_root_home": Path("/root/.bashrc"),
    }
    code = PROBE + "\n".join(
        [f"probe({k!r}, lambda: open({str(p)!r}, 'w').write('x'))" for k, p in targets.items()]
        + [
            f"probe({k!r}, lambda: os.listdir({str(p)!r}) if os.path.isdir({str(p)!r}) "
            f"else open({str(p)!r}).read())"
            for k, p in reads.items()
        ]
        + [
            "probe('write_inside', lambda: open('/submission/mine.txt', 'w').write('ok'))",
            "probe('write_tmp', lambda: open('/tmp/scratch.txt', 'w').write('ok'))",
            "probe('too_big', lambda: open('big.bin', 'wb').write(b'0' * (9 * 2**20)))",
            "probe('import_autograder', lambda: __import__('autograder'))",
            "probe('import_solutions', lambda: __import__('solutions'))",
            "probe('import_course', lambda: __import__('course').__file__)",
            "probe('driver_fds', lambda: os.listdir(f'/proc/{os.getppid()}/fd'))",
            "probe('driver_environ', lambda: open(f'/proc/{os.getppid()}/environ').read())",
            "probe('cwd', os.getcwd)",
            "probe('home', lambda: os.environ['HOME'])",
        ]
    )
    result, cells = run(workdir, [code])
    assert result.sandboxed and result.status == "ok", result.message
    got = probe_lines(cells[0])
    for key in targets:
        assert got[key] in ("PermissionError", "OSError", "FileNotFoundError"), (key, got[key])
        assert not targets[key].exists()
    for key in reads:
        assert got[key] in ("FileNotFoundError", "PermissionError"), (key, got[key])
    assert got["write_inside"] == "ok 2"
    assert not (workdir / "mine.txt").exists()  # the job folder is a tmpfs, not the host's
    assert got["write_tmp"] == "ok 2"
    assert got["too_big"] == "OSError"  # EFBIG from RLIMIT_FSIZE (8 MB here)
    assert got["import_autograder"] == "ModuleNotFoundError"
    assert got["import_solutions"] == "ModuleNotFoundError"
    assert got["import_course"] == "ok '/opt/course-pkgs/course/__init__.py'"
    assert got["cwd"] == got["home"] == "ok '/submission'"
    # The driver is non-dumpable: its report pipe and environment are out of reach.
    assert got["driver_fds"] == got["driver_environ"] == "PermissionError"
    assert workdir.stat().st_uid == os.getuid()


@pytest.mark.slow
@pytest.mark.sandbox
def test_extra_paths_make_solutions_importable_and_data_readable(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "digits.txt").write_text("0123456789")
    code = PROBE + textwrap.dedent(
        f"""
        import solutions
        probe('solutions', lambda: solutions.__file__)
        probe('data', lambda: open(os.environ['CNN_COURSE_DATA'] + '/digits.txt').read())
        probe('data_write', lambda: open({str(data)!r} + '/x', 'w').write('x'))
        probe('quick', lambda: os.environ['CNN_COURSE_QUICK'])
        """
    )
    result, cells = run(
        tmp_path / "run",
        [code],
        extra_ro_paths=[REPO / "solutions", data],
        env={"CNN_COURSE_DATA": str(data), "CNN_COURSE_QUICK": "1"},
    )
    got = probe_lines(cells[0])
    assert result.status == "ok", result.message
    assert got["solutions"] == "ok '/opt/course-pkgs/solutions/__init__.py'"
    assert got["data"] == "ok '0123456789'"
    assert got["data_write"] == "OSError"  # read-only file system
    assert got["quick"] == "ok '1'"


def test_kernels_get_the_font_list_and_never_rebuild_it(tmp_path):
    """matplotlib's font list is built once per grading process and copied into each
    sandbox: a kernel that plots neither scans the fonts again (CPU taken from the other
    grading slot) nor prints matplotlib's "building the font cache" note in a cell."""
    fonts = bwrap.font_list()
    assert fonts is not None and fonts.name.startswith("fontlist-v")
    code = PROBE + textwrap.dedent(
        """
        probe('listed', lambda: sorted(os.listdir(os.environ['MPLCONFIGDIR'])))
        import matplotlib.pyplot as plt
        plt.figure(); plt.title('x'); plt.gcf().canvas.draw()
        probe('after', lambda: sorted(os.listdir(os.environ['MPLCONFIGDIR'])))
        """
    )
    result, cells = run(tmp_path / "run", [code])
    assert result.status == "ok", result.message
    got = probe_lines(cells[0])
    assert got["listed"] == f"ok [{fonts.name!r}]"
    assert got["after"] == got["listed"]
    streams = "".join(o.get("text", "") for o in cells[0].outputs)
    assert "font cache" not in streams


@pytest.mark.slow
@pytest.mark.sandbox
def test_no_network_not_even_the_hosts_loopback(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = PROBE + textwrap.dedent(
        f"""
        import socket
        probe('internet', lambda: socket.create_connection(('1.1.1.1', 53), timeout=3))
        probe('dns', lambda: socket.getaddrinfo('example.com', 80))
        probe('host_loopback', lambda: socket.create_connection(('127.0.0.1', {port}), 3))
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
        probe('own_loopback', lambda: socket.create_connection(s.getsockname()).close())
        """
    )
    try:
        _, cells = run(tmp_path / "run", [code])
    finally:
        server.close()
    got = probe_lines(cells[0])
    assert got["internet"] in ("OSError", "TimeoutError")  # ENETUNREACH
    assert got["dns"] == "gaierror"
    assert got["host_loopback"] == "ConnectionRefusedError"
    assert got["own_loopback"] == "ok None"  # the kernel itself talks over it
    assert not accepted


@pytest.mark.slow
@pytest.mark.sandbox
def test_fork_bombs_are_capped_and_leave_no_process_behind(tmp_path):
    limits = Limits(cell_timeout=5, memory_mb=1024, processes=48, wall_timeout=120)
    result, cells = run(
        tmp_path / "run",
        [
            "import os\nprint(os.getuid())",
            textwrap.dedent(
                """
                import os, signal, time
                if os.fork() == 0:  # a daemon that leaves the kernel's session
                    os.setsid()
                    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                        signal.signal(sig, signal.SIG_IGN)
                    while True:
                        time.sleep(1)
                """
            ),
            textwrap.dedent(
                """
                import os, time
                children = 0
                try:
                    while True:
                        if os.fork() == 0:
                            time.sleep(60)
                            os._exit(0)
                        children += 1
                except OSError as exc:
                    print(type(exc).__name__, children)
                """
            ),
            textwrap.dedent(
                """
                import subprocess
                procs = []
                try:
                    while True:
                        procs.append(subprocess.Popen(['sleep', '60']))
                except OSError as exc:
                    print(type(exc).__name__, len(procs))
                """
            ),
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
            "        pass",
            "print('not reached')",
        ],
        limits,
    )
    uid = int(stdout(cells[0]))
    name, forked = stdout(cells[2]).split()
    assert name == "BlockingIOError" and int(forked) < limits.processes
    assert stdout(cells[3]).split()[0] == "BlockingIOError"
    assert result.status == "cell_timeout"  # the exponential bomb spins until killed
    assert result.seconds < 60
    assert wait_no_tasks(uid) == []


def _uid_of_cmdline(cmdline: bytes) -> int | None:
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and Path(entry.path, "cmdline").read_bytes() == cmdline:
                return Path(entry.path).stat().st_uid
        except OSError:
            continue
    return None


@pytest.mark.slow
@pytest.mark.sandbox
def test_killing_the_grading_process_leaves_no_sandbox_behind(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    nb_path = workdir / "nb.ipynb"
    cells = [
        "import os, subprocess\nsubprocess.Popen(['sleep', '301'])",
        "import time\ntime.sleep(300)",
    ]
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), nb_path
    )
    script = (
        "import sys; from pathlib import Path; from autograder.sandbox.driver import Limits; "
        "from autograder.sandbox.executor import execute_notebook; "
        "execute_notebook(Path(sys.argv[1]), Path(sys.argv[2]), "
        "limits=Limits(cell_timeout=300, wall_timeout=300))"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(nb_path), str(workdir)])
    try:
        deadline = time.monotonic() + 60
        uid = None  # the job folder is not the host's: find the sandbox's `sleep 301`
        while uid is None and time.monotonic() < deadline:
            uid = _uid_of_cmdline(b"sleep\x00301\x00")
            time.sleep(0.2)
        assert uid is not None and uid >= bwrap.UID_BASE
        assert uid_tasks(uid), "the sandbox should be running now"
    finally:
        parent.kill()  # SIGKILL: no cleanup code of the grading process runs
        parent.wait()
    assert wait_no_tasks(uid) == [], "sandbox processes outlived the grading process"


@pytest.mark.slow
@pytest.mark.sandbox
def test_planted_kernel_spec_and_ipykernel_are_not_used(tmp_path):
    """A folder that ships its own kernel.json or ipykernel_launcher.py does not choose
    the kernel that grades it."""
    workdir = tmp_path / "run"
    spec = workdir / ".local" / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps({"argv": ["/bin/false"], "display_name": "evil", "language": "python"})
    )
    (workdir / "ipykernel_launcher.py").write_text("raise SystemExit('fake kernel')\n")
    result, cells = run(workdir, ["print('real kernel')"])
    assert result.status == "ok", result.message
    assert stdout(cells[0]) == "real kernel\n"


@pytest.mark.sandbox
def test_mountinfo_shows_no_host_path_of_the_course_or_the_job(tmp_path):
    """A bind mount shows its host source in /proc/self/mountinfo; the job folder, the
    course packages and the driver are copied in, so neither the course root nor the job's
    folder appears (the venv, bound at its own path, is visible anyway: sys.prefix)."""
    workdir = tmp_path / "course-root" / ".grading" / "work" / "bob" / "run"
    (workdir / "data").mkdir(parents=True)
    (workdir / "data" / "x.txt").write_text("released data")
    result, cells = run(
        workdir,
        [
            "print(open('/proc/self/mountinfo').read())",
            "print(open('data/x.txt').read())",
        ],
        extra_ro_paths=[REPO / "solutions"],
    )
    assert result.status == "ok", result.message
    lines = stdout(cells[0]).splitlines()
    assert any(" /submission " in line for line in lines)
    leaks = [
        line
        for line in lines
        if (str(REPO) in line and not line.split()[3].startswith(sys.prefix))
        or str(tmp_path) in line
    ]
    assert leaks == []
    assert stdout(cells[1]) == "released data\n"


@pytest.mark.sandbox
def test_job_folder_is_size_capped_and_the_host_disk_untouched(tmp_path):
    """Writing 2.5 GB in 64 MB files fails with ENOSPC at the job folder's cap
    (memory_mb / 2 = 256 MiB here), and nothing reaches the host's folder."""
    limits = Limits(cell_timeout=60, memory_mb=512, wall_timeout=120, file_size_mb=64)
    code = textwrap.dedent(
        """
        import errno
        chunk = b"0" * (64 * 2**20)
        written = 0
        try:
            for i in range(40):
                with open(f"f{i}.bin", "wb") as f:
                    written += f.write(chunk)
        except OSError as exc:
            print("stopped =>", errno.errorcode[exc.errno], written // 2**20)
        """
    )
    workdir = tmp_path / "run"
    result, cells = run(workdir, [code], limits=limits)
    assert result.status == "ok", result.message
    stopped = probe_lines(cells[0])["stopped"].split()
    assert stopped[0] in ("ENOSPC", "EFBIG") and int(stopped[1]) <= 256
    assert not list(workdir.glob("f*.bin"))
