"""Grading on Dask with real processes on 127.0.0.1: a `dask scheduler`, two `python -m
autograder worker`s, and `grade` (in this process or in a subprocess), each killed
mid-run with SIGKILL. Every test grades the same small class of the tiny course
(autograder.demo.tiny_course), whose right scores are known. docs/design.md, "Grading on
Dask", says what each kill must do; these tests check it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dask
import psutil
import pytest
import yaml
from distributed import Client

from autograder import bench, cli, demo, handin, worker
from autograder.layout import Course
from autograder.records import grading, ledger, states
from autograder.records.grading import GRADING_LIMITS
from autograder.sandbox import backend, bundle, bwrap
from autograder.sandbox.backend import Cluster

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CELL_TIMEOUT = 15
LIMITS = replace(GRADING_LIMITS, cell_timeout=CELL_TIMEOUT)
WRONG_ADD = "def add(a, b):\n    return a - b\n"
WRONG_MUL = "def mul(a, b):\n    return a + b\n"
BODIES = {
    "s1": {},
    "s2": {"mul": WRONG_MUL},
    "s3": {"add": WRONG_ADD},
    "s4": {"add": WRONG_ADD, "mul": WRONG_MUL},
}
POINTS = {"s1": 5.0, "s2": 2.0, "s3": 3.0, "s4": 0.0}
STARTUP_S = 90  # a scheduler, two workers and their first imports, on a loaded machine
RUN_S = 240


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Course:
    """The tiny course with the class handed in, not graded."""
    course = demo.tiny_course(tmp_path_factory.mktemp("dask") / "base")
    for student, bodies in BODIES.items():
        demo.submit(course, student, "tiny", {"tiny.ipynb": demo.tiny_submission(course, **bodies)})
    return course


@pytest.fixture
def course(base, tmp_path) -> Course:
    return Course(shutil.copytree(base.root, tmp_path / "course"))


class Processes(bench.Loopback):
    """autograder.bench's scheduler and workers (started from the repository), and
    which of them is grading."""

    def __init__(self, folder: Path):
        super().__init__(folder, cwd=REPO)

    def busy_worker(self) -> psutil.Process | None:
        """A Dask worker process (the nanny's child) with a sandbox running under it."""
        for nanny in self.workers:
            try:
                for child in psutil.Process(nanny.pid).children():
                    if any(p.name() == "bwrap" for p in child.children(recursive=True)):
                        return child
            except psutil.Error:
                continue
        return None


@pytest.fixture
def procs(tmp_path) -> Iterator[Processes]:
    folder = tmp_path / "procs"
    folder.mkdir()
    p = Processes(folder)
    yield p
    p.kill_all()


def start_grade(course: Course, scheduler_file: str, **popen) -> subprocess.Popen:
    """`python -m autograder grade` on the scheduler, in a process of its own."""
    cmd = [sys.executable, "-m", "autograder", "grade", "--course", str(course.root)]
    cmd += ["--scheduler-file", scheduler_file, "--quiet", "--cell-timeout", str(CELL_TIMEOUT)]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, **popen)


def grade_on(course: Course, scheduler_file: str) -> grading.GradeReport:
    """grade.grade in this process, on the scheduler."""
    cluster = Cluster(scheduler_file=scheduler_file)
    return grading.grade(course, cluster=cluster, limits=LIMITS, progress=False)


def ledger_lines(course: Course) -> list[dict]:
    if not ledger.path(course).exists():
        return []
    return [json.loads(x) for x in ledger.path(course).read_text().splitlines()]


def assert_graded_once(course: Course) -> None:
    """One ledger line per submission, graded, with the right score: nothing lost, nothing
    counted twice."""
    lines = ledger_lines(course)
    print("ledger:", [(r["student"], r["status"], r["score"]) for r in lines])
    assert sorted((r["student"], r["status"], r["score"]) for r in lines) == [
        (s, "graded", POINTS[s]) for s in sorted(BODIES)
    ]


def wait_until(condition, what: str, proc: subprocess.Popen | None = None, *, limit=RUN_S):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert proc is None or proc.poll() is None, f"the run ended before {what}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------------------------
# A scheduler and two workers grade as the LocalCluster does
# ---------------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_a_scheduler_and_two_workers_grade_as_the_local_cluster_does(base, tmp_path, procs):
    local = Course(shutil.copytree(base.root, tmp_path / "local"))
    remote = Course(shutil.copytree(base.root, tmp_path / "remote"))
    started = time.monotonic()
    on_local = grading.grade(local, workers=2, limits=LIMITS, progress=False)
    local_s = time.monotonic() - started
    scheduler_file = procs.start()
    started = time.monotonic()
    on_remote = grade_on(remote, scheduler_file)
    remote_s = time.monotonic() - started
    print(f"LocalCluster: {local_s:.1f} s; scheduler and two workers: {remote_s:.1f} s")
    for o in on_remote.outcomes:
        print(o.line(), o.message)
    assert on_remote.scores() == on_local.scores() == {(s, "tiny"): p for s, p in POINTS.items()}
    # grade set the running scheduler to flag a job after WORKER_DEATHS deaths.
    with Client(scheduler_file=scheduler_file, timeout=STARTUP_S) as client:
        allowed = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        # The worker verb turned Dask's background work down in the workers it started.
        assert quiet_settings(client) == dict.fromkeys(client.has_what(), backend.QUIET_CONFIG)
    assert allowed == backend.WORKER_DEATHS - 1
    assert on_remote.sandboxed is True
    assert_graded_once(remote)
    assert_graded_once(local)


def quiet_settings(client: Client) -> dict[str, dict[str, object]]:
    """Each worker's values of the settings in backend.QUIET_CONFIG."""
    return client.run(lambda: {key: dask.config.get(key) for key in backend.QUIET_CONFIG})


def test_the_local_cluster_turns_dask_background_work_down():
    with backend.connect(Cluster(workers=2), jobs=2) as client:
        workers = list(client.has_what())
        assert len(workers) == 2
        assert quiet_settings(client) == dict.fromkeys(workers, backend.QUIET_CONFIG)
        ticks = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler._tick_interval)
    assert ticks == 1.0
    # The worker verb hands the same settings to `dask worker` through its environment:
    # a fresh interpreter reads them back as they were.
    env = {**os.environ, **backend.config_env(backend.QUIET_CONFIG)}
    read = (
        "import dask, json, sys; print(json.dumps({k: dask.config.get(k) for k in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", read, *backend.QUIET_CONFIG],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert json.loads(out) == backend.QUIET_CONFIG


# ---------------------------------------------------------------------------------------
# What crosses the wire: the hand-in's bytes and the bundle's digest, no course path
# ---------------------------------------------------------------------------------------

#: Run a command with the folders in $HIDE covered by empty tmpfs mounts (a mount
#: namespace of its own: unshare --mount), so that it cannot see them.
HIDE = 'for d in $HIDE; do mount -t tmpfs none "$d" || exit 3; done; unset HIDE; exec "$@"'


@pytest.mark.sandbox
def test_workers_that_cannot_see_the_course_grade_from_the_staged_bundle(base, tmp_path, procs):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hiding the course folder from the workers needs root and unshare(1)")
    course = Course(shutil.copytree(base.root, tmp_path / "hidden" / "course"))
    local = Course(shutil.copytree(base.root, tmp_path / "local"))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "cwd").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "CNN_COURSE_DATA"}
    env |= {"HOME": str(elsewhere), bundle.CACHE_ENV: str(elsewhere / "cache")}
    env["HIDE"] = f"{tmp_path / 'hidden'} {base.root}"
    wrap = ("unshare", "--mount", "--propagation", "private", "sh", "-c", HIDE, "sh")
    scheduler_file = procs.start(wrap=wrap, cwd=elsewhere / "cwd", env=env)
    for proc in procs.workers:  # unshare and sh exec'd: the pid is the worker's nanny
        assert os.listdir(f"/proc/{proc.pid}/root{course.root.parent}") == []
        assert os.listdir(f"/proc/{proc.pid}/root{base.root}") == []
    assert os.listdir(course.root.parent) == ["course"]  # this process sees it

    on_remote = grade_on(course, scheduler_file)
    on_local = grading.grade(local, workers=2, limits=LIMITS, progress=False)
    for o in on_remote.outcomes:
        print(o.line(), o.message)
    assert on_remote.scores() == on_local.scores() == {(s, "tiny"): p for s, p in POINTS.items()}
    assert on_remote.sandboxed is True
    assert_graded_once(course)
    (digest,) = {r["bundle"] for r in ledger_lines(course)}
    assert {r["bundle"] for r in ledger_lines(local)} == {digest}  # the same inputs
    staged = elsewhere / "cache" / "bundles"
    assert [p.name for p in staged.iterdir()] == [digest]  # staged once, for four jobs
    assert list((elsewhere / "cache" / "work").iterdir()) == []  # each job's folder went


@pytest.mark.sandbox
def test_a_bundle_that_does_not_match_its_digest_is_refused_and_nothing_is_scored(
    base, tmp_path, monkeypatch
):
    course = Course(shutil.copytree(base.root, tmp_path / "course"))
    for student in ("s2", "s3", "s4"):
        shutil.rmtree(course.submitted / student)
    monkeypatch.setenv(bundle.CACHE_ENV, str(tmp_path / "cache"))  # the workers inherit it
    share = backend.share_bundles

    def altered(client, bundles):
        """The bytes of another bundle under each digest: a file changed on the way."""
        files = grading.bundle_files(course, "tiny")
        files["release/tiny/tiny.ipynb"] += b" "
        share(client, {digest: bundle.pack(files).data for digest in bundles})

    monkeypatch.setattr(backend, "share_bundles", altered)
    report = grading.grade(course, workers=1, limits=LIMITS, progress=False)
    (o,) = report.outcomes
    print(o.line())
    assert (o.status, o.score, o.exec_status) == ("failed", None, "error")
    assert "bundle refused: its files hash to" in o.line()
    (rec,) = ledger_lines(course)
    assert (rec["status"], rec["score"]) == ("failed", None)
    assert not (course.autograded / "s1").exists()  # nothing scored into the gradebook
    assert list((tmp_path / "cache" / "bundles").iterdir()) == []  # nothing staged

    # An infrastructure failure: the next run grades it, with the right bundle.
    monkeypatch.setattr(backend, "share_bundles", share)
    again = grading.grade(course, workers=1, limits=LIMITS, progress=False)
    assert [(o.status, o.score) for o in again.outcomes] == [("graded", 5.0)]


def test_an_oversized_hand_in_gets_a_clear_error(base, tmp_path, monkeypatch):
    course = Course(shutil.copytree(base.root, tmp_path / "course"))
    for student in ("s2", "s3", "s4"):
        shutil.rmtree(course.submitted / student)
    nb = json.loads(demo.tiny_submission(course))
    nb["cells"].append(
        {"cell_type": "markdown", "id": "big", "metadata": {}, "source": "x" * 2**19}
    )
    demo.submit(course, "s1", "tiny", {"tiny.ipynb": json.dumps(nb).encode()})
    monkeypatch.setattr(handin, "MAX_HANDIN_BYTES", 2**18)  # read in this process
    report = grading.grade(course, workers=1, limits=LIMITS, progress=False)
    (o,) = report.outcomes
    print(o.line(), o.message)
    assert (o.status, o.score, o.exec_status) == ("graded", 0.0, "invalid_notebook")
    assert (
        "tiny.ipynb was not read: the hand-in's notebooks together are over the 0.25 MB "
        "limit for a hand-in" in o.message
    )


# ---------------------------------------------------------------------------------------
# Kills
# ---------------------------------------------------------------------------------------


@pytest.mark.sandbox
def test_a_worker_killed_mid_job_has_its_job_run_elsewhere_and_scored_once(course, procs):
    scheduler_file = procs.start()
    started = time.monotonic()
    run = start_grade(course, scheduler_file)
    victim = wait_until(procs.busy_worker, "a job in a sandbox", run)
    killed = time.monotonic()
    victim.send_signal(signal.SIGKILL)
    assert run.wait(timeout=RUN_S) == 0, procs.log()
    print(
        f"\nworker process {victim.pid} SIGKILLed {killed - started:.1f} s into the run, in a "
        f"job; the run ended {time.monotonic() - killed:.1f} s later, exit 0"
    )
    assert not victim.is_running()
    assert_graded_once(course)


@pytest.mark.sandbox
def test_killing_grade_then_grading_again_loses_nothing_and_counts_nothing_twice(course, procs):
    scheduler_file = procs.start()
    started = time.monotonic()
    run = start_grade(course, scheduler_file)
    wait_until(lambda: ledger_lines(course), "a first ledger line", run)
    run.send_signal(signal.SIGKILL)
    run.wait()
    killed = time.monotonic()
    done_before = len(ledger_lines(course))
    assert 1 <= done_before < len(BODIES)

    report = grade_on(course, scheduler_file)
    print(
        f"\ngrade SIGKILLed {killed - started:.1f} s into the run with {done_before} of "
        f"{len(BODIES)} in the ledger; grade again: {len(report.skipped)} unchanged, "
        f"{len(report.graded)} graded in {time.monotonic() - killed:.1f} s"
    )
    assert len(report.skipped) == done_before
    assert len(report.graded) == len(BODIES) - done_before
    assert_graded_once(course)


@pytest.mark.sandbox
def test_a_lost_scheduler_stops_grade_with_a_clear_error_and_a_restart_completes(course, procs):
    scheduler_file = procs.start()
    started = time.monotonic()
    run = start_grade(course, scheduler_file, stderr=subprocess.PIPE, text=True)
    wait_until(procs.busy_worker, "a job in a sandbox", run)
    procs.kill(procs.scheduler)
    killed = time.monotonic()
    _, err = run.communicate(timeout=RUN_S)
    print(
        f"\nscheduler SIGKILLed {killed - started:.1f} s into the run; grade ended "
        f"{time.monotonic() - killed:.1f} s later, exit {run.returncode}:\n{err.strip()}"
    )
    assert run.returncode == 1
    (last,) = err.strip().splitlines()  # one line: no traceback of Dask's
    assert last.startswith("grading stopped: lost the Dask scheduler at tcp://127.0.0.1:")
    assert "nothing was recorded" in last and "Restart the scheduler and the workers" in last
    # What was scored before the loss stands; nothing else was recorded, least of all
    # something that is not a score.
    before = ledger_lines(course)
    assert len(before) < len(BODIES)
    assert all(r["status"] == "graded" and r["score"] == POINTS[r["student"]] for r in before)

    gone = [w.poll() is not None for w in procs.workers]
    for proc in procs.workers:
        procs.kill(proc)
    scheduler_file = procs.start()
    restarted = time.monotonic()
    report = grade_on(course, scheduler_file)
    print(
        f"{len(before)} line(s) in the ledger after the loss; workers exited by themselves: "
        f"{gone}; after a restart grade: {len(report.skipped)} unchanged, "
        f"{len(report.graded)} graded in {time.monotonic() - restarted:.1f} s"
    )
    assert len(report.skipped) == len(before)
    assert_graded_once(course)


def _certificates(folder: Path) -> dict[str, str]:
    """A course CA and one certificate it signed for 127.0.0.1 (openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    (folder / "ext.cnf").write_text(
        "[req]\ndistinguished_name = dn\n[dn]\n"
        "[ext]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\nbasicConstraints = CA:FALSE\n"
    )
    steps = [
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ca",
        "req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=localhost "
        "-config ext.cnf",
        "x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem "
        "-days 2 -extfile ext.cnf -extensions ext",
    ]
    for step in steps:
        subprocess.run(["openssl", *step.split()], cwd=folder, check=True, capture_output=True)
    return {
        "ca": str(folder / "ca.pem"),
        "cert": str(folder / "node.pem"),
        "key": str(folder / "node.key"),
    }


@pytest.mark.sandbox
def test_over_tls_the_grader_needs_the_course_certificates(course, procs, tmp_path, capsys):
    tls = _certificates(tmp_path)
    procs.start(workers=1, tls=tls)
    address = json.loads(Path(procs.scheduler_file).read_text())["address"]
    assert address.startswith("tls://127.0.0.1:")
    args = ["grade", "--course", str(course.root), "--scheduler", address, "--quiet"]
    assert cli.main(args) == 2
    assert "a tls:// scheduler needs --tls-ca, --tls-cert and --tls-key" in capsys.readouterr().err
    flags = ["--tls-ca", tls["ca"], "--tls-cert", tls["cert"], "--tls-key", tls["key"]]
    assert cli.main([*args, *flags, "--cell-timeout", str(CELL_TIMEOUT)]) == 0
    assert_graded_once(course)


def test_an_unreachable_scheduler_is_a_clear_error(course, capsys, monkeypatch):
    monkeypatch.setattr(backend, "CONNECT_TIMEOUT_S", 3)
    args = ["grade", "--course", str(course.root), "--scheduler", "tcp://127.0.0.1:9"]
    assert cli.main([*args, "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("grading stopped: cannot reach the Dask scheduler tcp://")
    assert not ledger.path(course).exists()


# ---------------------------------------------------------------------------------------
# A job that kills its worker every time
# ---------------------------------------------------------------------------------------


def _kills_its_worker(job):
    """The task, but the job of student `poison` kills the worker process running it."""
    if job.student == "poison":
        os.kill(os.getpid(), signal.SIGKILL)
    return backend.grade_job(job)


def test_a_job_that_kills_its_worker_every_time_is_left_for_a_person(
    base, tmp_path, monkeypatch, capsys, workers_import_tests
):
    course = Course(shutil.copytree(base.root, tmp_path / "course"))
    for student in ("s2", "s3", "s4"):
        shutil.rmtree(course.submitted / student)
    demo.submit(course, "poison", "tiny", {"tiny.ipynb": demo.tiny_submission(course)})
    monkeypatch.setattr(backend, "grade_job", _kills_its_worker)
    started = time.monotonic()
    report = grading.grade(course, workers=2, limits=LIMITS, progress=False)
    got = {o.student: o for o in report.outcomes}
    with capsys.disabled():
        print(f"\npoison run: {time.monotonic() - started:.1f} s; ", got["poison"].message)
        print("ledger:", [(r["student"], r["status"], r["score"]) for r in ledger_lines(course)])
    assert got["s1"].status == "graded" and got["s1"].score == 5.0
    assert got["poison"].status == "needs_person" and got["poison"].score is None
    assert "died 3 times" in got["poison"].message
    rec = ledger.latest(course)[("poison", "tiny")]
    assert rec["status"] == "needs_person" and rec["score"] is None
    assert len(ledger_lines(course)) == 2

    # status shows it, with the reason, as needing a regrade; grade does not retry it.
    (state,) = [s for s in states.submission_states(course) if s.student == "poison"]
    assert state.state == "needs_person" and "died 3 times" in state.reason
    capsys.readouterr()
    assert cli.main(["status", "--course", str(course.root)]) == 0
    out = capsys.readouterr().out
    assert "needs_person" in out.splitlines()[0]
    assert "1 submission(s) need a person and a regrade" in out
    assert "grade --student poison --assignment tiny --force" in out
    again = grading.grade(course, workers=2, limits=LIMITS, progress=False)
    assert [o.status for o in again.outcomes] == ["needs_person", "unchanged"]
    assert len(ledger_lines(course)) == 2


def _scored_meanwhile(course_root, job):
    """The task, but another grading process records the same submission (and bundle) as
    graded while this one runs (written from the worker: the ledger is on this disk)."""
    record = {"student": job.student, "assignment": job.assignment, "sha256": job.sha256}
    record |= {"status": "graded", "score": 5.0, "max_score": 5.0, "flags": ["elsewhere"]}
    ledger.append(Course(Path(course_root)), {**record, "bundle": job.bundle})
    return backend.grade_job(job)


def test_a_result_for_a_submission_scored_meanwhile_is_ignored(
    base, tmp_path, monkeypatch, workers_import_tests
):
    course = Course(shutil.copytree(base.root, tmp_path / "course"))
    for student in ("s2", "s3", "s4"):
        shutil.rmtree(course.submitted / student)
    monkeypatch.setattr(backend, "grade_job", functools.partial(_scored_meanwhile, course.root))
    report = grading.grade(course, workers=1, limits=LIMITS, progress=False)
    assert report.duplicates == 1 and report.outcomes == []
    assert "1 result(s) for submissions already scored ignored" in report.table()
    ((student, flags),) = [(r["student"], r["flags"]) for r in ledger_lines(course)]
    assert student == "s1" and flags == ["elsewhere"]  # scored once, by the other process


# ---------------------------------------------------------------------------------------
# The worker verb's sandbox check, and the SLURM job script
# ---------------------------------------------------------------------------------------


def test_the_worker_refuses_to_start_where_bubblewrap_does_not_work(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on PATH
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "worker", "tcp://127.0.0.1:9"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "refusing to start: this host cannot sandbox student code" in proc.stderr
    assert "apt-get install bubblewrap" in proc.stderr and "--allow-unsandboxed" in proc.stderr


def test_allow_unsandboxed_starts_with_a_warning_and_workers_take_one_job_each(monkeypatch):
    monkeypatch.setattr(bwrap, "sandbox_available", lambda: (False, "test: no bwrap"))
    assert worker.preflight(allow_unsandboxed=False)[0] is False
    ok, line = worker.preflight(allow_unsandboxed=True)
    assert ok and line.startswith("WARNING") and "test: no bwrap" in line

    parser = cli.build_parser()
    args = parser.parse_args(
        [
            *("worker", "tls://head:8786", "--nworkers", "4"),
            *("--tls-ca", "ca.pem", "--tls-cert", "w.pem", "--tls-key", "w.key"),
        ]
    )
    cmd = " ".join(worker.dask_worker_command(args))
    assert "-m distributed.cli.dask_worker tls://head:8786 --nthreads 1" in cmd
    assert f"--resources {backend.RESOURCE}=1 --nworkers 4" in cmd
    assert "--tls-ca-file ca.pem --tls-cert w.pem --tls-key w.key" in cmd


def test_a_slurm_job_script_starts_sandboxed_grading_workers(capsys):
    pytest.importorskip("dask_jobqueue", reason="the slurm extra (dask-jobqueue) is not installed")
    args = ["cluster-script", "slurm", "tls://head:8786", "--cores", "8", "--memory", "32GB"]
    args += ["--walltime", "01:30:00", "--queue", "teaching", "--directive=--constraint=bwrap"]
    args += ["--python", "/opt/course/.venv/bin/python"]
    args += ["--tls-ca", "/etc/course/ca.pem", "--tls-cert", "/etc/course/w.pem"]
    args += ["--tls-key", "/etc/course/w.key"]
    assert cli.main(args) == 0
    script = capsys.readouterr().out
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    for directive in ("-p teaching", "--cpus-per-task=8", "-t 01:30:00", "--constraint=bwrap"):
        assert f"#SBATCH {directive}" in lines
    (command,) = [line for line in lines if "-m autograder worker" in line]
    words = command.split()
    python = "/opt/course/.venv/bin/python"
    assert words[:5] == [python, "-m", "autograder", "worker", "tls://head:8786"]
    flags = dict(zip(words[5::2], words[6::2], strict=True))
    assert flags["--nthreads"] == "1" and flags["--nworkers"] == "8"
    assert flags["--name"] == "grader-$SLURM_JOB_ID"
    assert flags["--tls-ca-file"] == "/etc/course/ca.pem"
    assert flags["--tls-cert"] == "/etc/course/w.pem" and flags["--tls-key"] == "/etc/course/w.key"
    # The command it runs is this package's worker verb, which accepts every flag.
    parsed = cli.build_parser().parse_args(["worker", *words[4:]])
    assert parsed.nworkers == 8 and parsed.tls_ca == "/etc/course/ca.pem"


# ---------------------------------------------------------------------------------------
# Kubernetes: the manifest the Dask operator accepts, and a worker started as its pod is
# ---------------------------------------------------------------------------------------


def kubernetes_manifest(capsys, *extra: str) -> tuple[dict, dict]:
    """The DaskCluster and NetworkPolicy `cluster-script kubernetes` prints."""
    args = ["cluster-script", "kubernetes", "grading", "--image", "registry.example/course:1"]
    assert cli.main([*args, "--workers", "8", *extra]) == 0
    cluster, policy = yaml.safe_load_all(capsys.readouterr().out)
    return cluster, policy


def pruned(value, schema: dict, where: str = "") -> list[str]:
    """The fields of `value` that a structural CRD schema does not declare: the API server
    drops them without a word (pruning), so a misspelt or misplaced setting would be lost."""
    if isinstance(value, dict) and schema.get("type") == "object":
        if "properties" not in schema:
            return []  # additionalProperties: a free map (labels, annotations, resources)
        lost = []
        for key, item in value.items():
            if key not in schema["properties"]:
                lost.append(f"{where}.{key}")
            else:
                lost += pruned(item, schema["properties"][key], f"{where}.{key}")
        return lost
    if isinstance(value, list) and "items" in schema:
        return [x for i, v in enumerate(value) for x in pruned(v, schema["items"], f"{where}[{i}]")]
    return []


def test_a_kubernetes_manifest_is_what_the_dask_operator_accepts(capsys):
    operator = pytest.importorskip(
        "dask_kubernetes.operator", reason="the kubernetes extra (dask-kubernetes) is not installed"
    )
    jsonschema = pytest.importorskip("jsonschema")
    cluster, policy = kubernetes_manifest(capsys, "--memory", "3Gi", "--data-claim", "mnist")
    # The operator's own CRD (the resolved one its Helm chart installs) admits the cluster
    # and keeps every field of it.
    crd_path = Path(operator.__file__).parent / (
        "deployment/helm/dask-kubernetes-operator/crds/daskcluster.yaml"
    )
    crd = yaml.safe_load(crd_path.read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert (cluster["apiVersion"], cluster["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    jsonschema.validate(cluster, schema)
    # apiVersion, kind and metadata are every object's; the schema describes the spec.
    assert pruned(cluster["spec"], schema["properties"]["spec"], ".spec") == []

    worker = cluster["spec"]["worker"]
    assert worker["replicas"] == 8
    (container,) = worker["spec"]["containers"]
    assert container["image"] == "registry.example/course:1"
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "3Gi"}
    assert container["securityContext"]["seccompProfile"] == {"type": "Unconfined"}
    assert "privileged" not in container["securityContext"]
    assert worker["metadata"]["annotations"] == {
        "container.apparmor.security.beta.kubernetes.io/worker": "unconfined"
    }
    # The command is this package's worker verb, which parses every flag of it.
    assert container["args"][:4] == ["python", "-m", "autograder", "worker"]
    parsed = cli.build_parser().parse_args(container["args"][3:])
    assert (parsed.address, parsed.nworkers, parsed.name) == (None, 1, "$(DASK_WORKER_NAME)")
    assert parsed.cache_dir == backend.POD_CACHE
    # MNIST from the claim, read-only, where the loader looks.
    assert {"name": "CNN_COURSE_DATA", "value": backend.POD_DATA} in container["env"]
    assert {"name": "mnist", "mountPath": backend.POD_DATA, "readOnly": True} in container[
        "volumeMounts"
    ]
    claims = [v["persistentVolumeClaim"] for v in worker["spec"]["volumes"] if v["name"] == "mnist"]
    assert claims == [{"claimName": "mnist", "readOnly": True}]
    scheduler = cluster["spec"]["scheduler"]["spec"]["containers"][0]
    assert scheduler["args"][:2] == ["dask", "scheduler"]

    # Only the cluster's own pods reach its pods (the scheduler can run code on workers).
    kubernetes = pytest.importorskip("kubernetes")
    api = kubernetes.client.ApiClient()
    typed = api._ApiClient__deserialize(policy, "V1NetworkPolicy")
    assert api.sanitize_for_serialization(typed) == policy  # no field unknown to Kubernetes
    members = {"matchLabels": {"dask.org/cluster-name": "grading"}}
    assert policy["spec"]["podSelector"] == members
    assert policy["spec"]["ingress"] == [{"from": [{"podSelector": members}]}]


def test_a_privileged_kubernetes_worker_is_asked_for_not_given(capsys):
    pytest.importorskip("dask_kubernetes", reason="the kubernetes extra is not installed")
    cluster, _ = kubernetes_manifest(capsys, "--privileged")
    (container,) = cluster["spec"]["worker"]["spec"]["containers"]
    assert container["securityContext"] == {"privileged": True}
    assert not any(v["name"] == "mnist" for v in cluster["spec"]["worker"]["spec"]["volumes"])
    assert cli.main(["cluster-script", "kubernetes", "g", "--image", "i", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


@pytest.mark.sandbox
def test_a_worker_started_as_the_operator_starts_its_pod_grades(base, tmp_path, procs, capsys):
    """The worker container's command, with what the operator puts in the pod's
    environment (the scheduler's address, the worker's name), joins and grades."""
    pytest.importorskip("dask_kubernetes", reason="the kubernetes extra is not installed")
    cluster, _ = kubernetes_manifest(capsys)
    (container,) = cluster["spec"]["worker"]["spec"]["containers"]
    scheduler_file = procs.start(workers=0)
    address = json.loads(Path(scheduler_file).read_text())["address"]
    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": address, "DASK_WORKER_NAME": "grading-w-0"}
    args = [a.replace("$(DASK_WORKER_NAME)", env["DASK_WORKER_NAME"]) for a in container["args"]]
    args = [sys.executable, *args[1:]]
    args[args.index(backend.POD_CACHE)] = str(tmp_path / "cache")
    procs.workers = [procs._popen(args, "pod-worker.log", env=env)]
    with Client(scheduler_file=scheduler_file, timeout=STARTUP_S) as client:
        client.wait_for_workers(1, timeout=STARTUP_S)
        info = client.scheduler_info()["workers"].values()
        assert [(w["name"], w["resources"]) for w in info] == [
            ("grading-w-0", {backend.RESOURCE: 1})
        ]
    course = Course(shutil.copytree(base.root, tmp_path / "course"))
    report = grade_on(course, scheduler_file)
    assert report.sandboxed is True
    assert_graded_once(course)
