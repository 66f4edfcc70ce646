"""Grading benchmark: the pipeline's overhead, and grading a batch through each Dask path.

    python -m autograder.bench                        both parts, 100-submission batch
    python -m autograder.bench --batch 20 --batch-assignment 02_padding_stride
    python -m autograder.bench --skip-overhead        the batch part and the ceiling

(a) Overhead: one full-course submission (the reference solution of every assignment)
    graded end to end (`grade` with one worker: bundle, sanitize, sandbox, scoring,
    gradebook, ledger) against plain execution of the same sanitized notebooks with
    nbclient, no sandbox, one after the other. Goal (docs/design.md): at most 1.0×.
(b) A batch of submissions of one assignment (perfect and misconception copies) graded
    through each execution path: the embedded LocalCluster with 1 worker, with 2, and a
    real `dask scheduler` with two `python -m autograder worker` processes on 127.0.0.1.
    Per path: the wall time, the seconds the sandboxes spent executing notebooks (the
    results' own timings), the grading process's CPU, and the idle time of a grading
    slot per job, (slots · wall − execution) / jobs: what Dask's dispatch, the hand-in's
    trip and the scoring cost a job beyond its execution. Parallel efficiency
    T1 / (2 · T2), goal at least 0.9 (issue 13), for both 2-worker paths.
(c) The machine's ceiling for (b): the batch's perfect notebook, sanitized as grading
    runs it, executed with nbclient (no sandbox, no Dask, no scoring) by one process,
    then by two at once. Two executions at once each take c× as long as one alone; 1/c
    is the most two grading slots can reach here, whatever the pipeline does.

All run in throw-away course roots. A benchmark, not a test: the numbers depend on the
machine and on whatever else runs on it; each timing is the best of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from distributed import Client, Security

from autograder import demo, ensure_tools_on_path
from autograder.layout import Course
from autograder.records.grading import GRADING_LIMITS, grade
from autograder.sandbox import worker
from autograder.sandbox.backend import RESOURCE, Cluster

OVERHEAD_GOAL = 1.0
EFFICIENCY_GOAL = 0.9
#: The kernels of both sides get the environment the sandbox gives graded kernels.
KERNEL_ENV = {
    "CNN_COURSE_QUICK": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}


@dataclass
class Overhead:
    assignments: list[str]
    plain_s: dict[str, float]
    graded_s: float
    plain_runs: list[float]
    graded_runs: list[float]

    @property
    def ratio(self) -> float:
        return self.graded_s / sum(self.plain_s.values())


@dataclass
class PathRun:
    """One grading of the batch through one execution path (the best of the repeats)."""

    label: str
    slots: int
    wall_s: float
    exec_s: float  # the sandboxes' execution seconds, summed over the jobs
    main_cpu_s: float  # CPU of this (the grading) process

    def idle_per_job(self, jobs: int) -> float:
        return (self.slots * self.wall_s - self.exec_s) / jobs


@dataclass
class Batch:
    assignment: str
    jobs: int
    runs: dict[str, PathRun]

    def efficiency(self, two: str) -> float:
        return self.runs[LOCAL_1].wall_s / (2 * self.runs[two].wall_s)


LOCAL_1 = "LocalCluster, 1 worker"
LOCAL_2 = "LocalCluster, 2 workers"
REMOTE_2 = "dask scheduler + 2 `autograder worker`s, 127.0.0.1"
STARTUP_S = 120


def _sanitized(course: Course, assignment: str, notebook: str):
    """The perfect submission as grading executes it (hidden tests restored)."""
    nb = demo.perfect_notebook(course, assignment, notebook)
    nb, _ = worker.sanitize(
        nb,
        course_root=str(course.root),
        db_url=course.db_url,
        assignment=assignment,
        notebook=notebook,
        order=tuple(worker._release_order(course.release / assignment, notebook)),
    )
    return nb


def plain_seconds(course: Course, assignment: str) -> float:
    """Execute the assignment's sanitized perfect notebooks with nbclient, no sandbox;
    return the wall time (kernel start included, as in grading)."""
    return sum(
        plain_run(_sanitized(course, assignment, notebook))
        for notebook in course.notebooks(assignment)
    )


def plain_run(nb) -> float:
    """Execute `nb` with nbclient in a temporary folder, no sandbox; the wall time."""
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as tmp:
        client = NotebookClient(
            nb,
            timeout=GRADING_LIMITS.cell_timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": tmp}},
        )
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start


def _course(tmp: Path, assignments: list[str] | None) -> tuple[Course, list[str]]:
    return demo.build_course(tmp / "course", assignments)


def _executions(nb_json: str, times: int, out) -> None:
    """Execute the notebook `times` times with nbclient; put the wall times on `out`
    (runs in a spawned process of measure_ceiling)."""
    import nbformat

    out.put([plain_run(nbformat.reads(nb_json, as_version=4)) for _ in range(times)])


@dataclass
class Ceiling:
    """Plain executions of one notebook: one process alone, and two processes at once."""

    assignment: str
    alone: list[float]
    together: list[float]

    @property
    def slowdown(self) -> float:
        """c: the median execution with two at once over the median alone."""
        return statistics.median(self.together) / statistics.median(self.alone)

    @property
    def efficiency(self) -> float:
        """The most that two slots can reach: 2 executions in c× the time of one."""
        return 1 / self.slowdown


def measure_ceiling(assignment: str, times: int, repeats: int) -> Ceiling:
    """Execute the assignment's sanitized perfect notebook `times` times in one process,
    then in each of two processes at once; `repeats` rounds, alternating."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
        course, _ = _course(Path(tmp), [assignment])
        (nb_name,) = course.notebooks(assignment)
        nb_json = nbformat.writes(_sanitized(course, assignment, nb_name))
    spawn = multiprocessing.get_context("spawn")
    alone: list[float] = []
    together: list[float] = []
    for _ in range(repeats):
        for n, into in ((1, alone), (2, together)):
            note_load()
            out = spawn.Queue()
            args = (nb_json, times, out)
            procs = [spawn.Process(target=_executions, args=args) for _ in range(n)]
            for proc in procs:
                proc.start()
            for _ in procs:
                into.extend(_collect(out, procs))
            for proc in procs:
                proc.join()
    return Ceiling(assignment, alone, together)


def _collect(out, procs) -> list[float]:
    """The next process's execution times; an error if a process ended without sending
    them (it crashed), instead of waiting for ever."""
    while True:
        try:
            return out.get(timeout=5)
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"an execution process of the ceiling measurement exited with {dead[0]}"
                ) from None


def measure_overhead(assignments: list[str] | None, repeats: int, log=print) -> Overhead:
    import nbformat

    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        course, names = _course(Path(tmp), assignments)
        for name in names:
            files = {
                f"{nb}.ipynb": (
                    nbformat.writes(demo.perfect_notebook(course, name, nb)) + "\n"
                ).encode()
                for nb in course.notebooks(name)
            }
            demo.submit(course, "perfect", name, files)
        plain_runs, graded_runs = [], []
        best_plain: dict[str, float] = {}
        for i in range(repeats):
            for name in names:
                note_load()
                t = plain_seconds(course, name)
                best_plain[name] = min(t, best_plain.get(name, t))
                plain_runs.append(t)
            note_load()
            start = time.perf_counter()
            report = grade(course, workers=1, force=True, progress=False)
            graded_runs.append(time.perf_counter() - start)
            note_load()
            bad = [o.line() for o in report.outcomes if o.score != o.max_score]
            if bad:
                raise RuntimeError("the perfect submission did not score full marks: " + str(bad))
            log(
                f"  run {i + 1}: plain {sum(plain_runs[-len(names) :]):.1f} s, "
                f"graded {graded_runs[-1]:.1f} s"
            )
        return Overhead(names, best_plain, min(graded_runs), plain_runs, graded_runs)


class Loopback:
    """A `dask scheduler` and grading workers (`python -m autograder worker`) on
    127.0.0.1, as an instructor starts them on a cluster (README, "Grading on a
    cluster"), each in its own session and killed by pid. The benchmark's remote path,
    and the harness of the real-process tests (tests/autograder/test_dask.py), which
    kill them one by one.

    As a context manager: two workers started, the Cluster to grade with, all killed on
    exit."""

    def __init__(self, folder: Path, *, cwd: Path | None = None):
        self.folder, self.cwd = folder, cwd
        self.started: list[subprocess.Popen] = []
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.scheduler_file = ""

    def _popen(self, cmd: list[str], log: str, cwd: Path | None = None, **kw) -> subprocess.Popen:
        with open(self.folder / log, "ab") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd or self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kw,
            )
        self.started.append(proc)
        return proc

    def start(
        self,
        workers: int = 2,
        tls: dict[str, str] | None = None,
        *,
        wrap: tuple[str, ...] = (),
        **worker_kw,
    ) -> str:
        """A scheduler on a free port, and `workers` grading workers (none: the caller
        starts its own); the scheduler file.
        `tls`: {"ca": ..., "cert": ..., "key": ...}, one identity for every process.
        `wrap`: a command the workers run under; `worker_kw`: their cwd, env...

        Raises:
            RuntimeError: the scheduler or the workers did not come up in STARTUP_S.
        """
        self.scheduler_file = str(self.folder / f"scheduler-{len(self.started)}.json")
        tls_flags = ["--tls-ca-file", tls["ca"], "--tls-cert", tls["cert"]] if tls else []
        tls_flags += ["--tls-key", tls["key"]] if tls else []
        self.scheduler = self._popen(
            [
                *(sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"),
                *("--port", "0", "--no-dashboard", "--scheduler-file", self.scheduler_file),
                *tls_flags,
            ],
            "scheduler.log",
        )
        deadline = time.monotonic() + STARTUP_S
        while not Path(self.scheduler_file).exists():
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the dask scheduler did not start:\n" + self.log())
            time.sleep(0.1)
        cmd = [*wrap, sys.executable, "-m", "autograder", "worker"]
        cmd += ["--scheduler-file", self.scheduler_file, *tls_flags]
        self.workers = [self._popen(cmd, f"worker-{i}.log", **worker_kw) for i in range(workers)]
        if not workers:
            return self.scheduler_file
        security = (
            Security(tls_ca_file=tls["ca"], tls_client_cert=tls["cert"], tls_client_key=tls["key"])
            if tls
            else None
        )
        with Client(
            scheduler_file=self.scheduler_file, timeout=STARTUP_S, security=security
        ) as client:
            client.wait_for_workers(workers, timeout=STARTUP_S)
            resources = [w["resources"] for w in client.scheduler_info()["workers"].values()]
        if resources != [{RESOURCE: 1}] * workers:
            raise RuntimeError(f"the workers offer {resources}, not one {RESOURCE} each")
        return self.scheduler_file

    def kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def kill_all(self) -> None:
        for proc in self.started:
            self.kill(proc)

    def log(self) -> str:
        return "\n".join(
            f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}"
            for f in sorted(self.folder.glob("*.log"))
        )

    def __enter__(self) -> Cluster:
        return Cluster(scheduler_file=self.start())

    def __exit__(self, *exc) -> None:
        self.kill_all()


def _grade_once(course: Course, label: str, slots: int, cluster: Cluster, jobs: int) -> PathRun:
    note_load()
    cpu, start = time.process_time(), time.perf_counter()
    report = grade(course, cluster=cluster, force=True, progress=False)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    note_load()
    if report.failed or len(report.graded) != jobs:
        raise RuntimeError(f"the batch did not grade cleanly ({label}): {report.table()}")
    return PathRun(label, slots, wall, sum(o.seconds for o in report.graded), cpu)


def measure_batch(assignment: str, jobs: int, repeats: int, log=print) -> Batch:
    """The batch graded through each path, `repeats` times, alternating the paths."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        course, _ = _course(Path(tmp), [assignment])
        (nb_name,) = course.notebooks(assignment)
        variants = [demo.perfect_notebook(course, assignment, nb_name)]
        for m in demo.MISTAKES:
            if m.assignment == assignment:
                nb = demo.perfect_notebook(course, assignment, nb_name)
                variants.append(demo.edit_cell(nb, m.cell_id, m.edit))
        for i in range(jobs):
            data = (nbformat.writes(variants[i % len(variants)]) + "\n").encode()
            demo.submit(course, f"student{i:03d}", assignment, {f"{nb_name}.ipynb": data})
        best: dict[str, PathRun] = {}

        def keep(run: PathRun, i: int) -> None:
            if run.label not in best or run.wall_s < best[run.label].wall_s:
                best[run.label] = run
            log(
                f"  run {i + 1}, {run.label}: {run.wall_s:.1f} s, execution {run.exec_s:.1f} s, "
                f"idle/job/slot {run.idle_per_job(jobs):.2f} s, grading-process CPU "
                f"{run.main_cpu_s:.1f} s"
            )

        for i in range(repeats):
            for workers, label in ((1, LOCAL_1), (2, LOCAL_2)):
                keep(_grade_once(course, label, workers, Cluster(workers=workers), jobs), i)
            procs = Path(tmp) / f"loopback-{i}"
            procs.mkdir()
            with Loopback(procs) as cluster:
                keep(_grade_once(course, REMOTE_2, 2, cluster, jobs), i)
        return Batch(assignment, jobs, best)


#: 1-minute load averages seen during the timings: other work on the machine skews them.
LOADS: list[float] = []


def note_load() -> None:
    if hasattr(os, "getloadavg"):
        LOADS.append(os.getloadavg()[0])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def render(overhead: Overhead | None, batch: Batch | None, ceiling: Ceiling | None = None) -> str:
    lines = [f"grading benchmark, {date.today().isoformat()}, {machine()}"]
    if LOADS:
        lines.append(
            f"1-minute load average during the runs: {min(LOADS):.1f} to {max(LOADS):.1f} "
            f"(on {os.cpu_count()} cores; above that, other work shared the machine)"
        )
    lines.append("")
    if overhead:
        lines += [
            "(a) one full-course submission (perfect), graded with 1 worker vs plain nbclient",
            "",
            "| assignment | plain nbclient (s) |",
            "|---|---:|",
        ]
        lines += [f"| {a} | {s:.1f} |" for a, s in overhead.plain_s.items()]
        plain = sum(overhead.plain_s.values())
        verdict = "met" if overhead.ratio <= OVERHEAD_GOAL else "NOT met"
        lines += [
            f"| **total, plain** | **{plain:.1f}** |",
            f"| **total, graded** (`grade`, sandboxed) | **{overhead.graded_s:.1f}** |",
            "",
            f"overhead = graded / plain = {overhead.ratio:.2f}× "
            f"(goal ≤ {OVERHEAD_GOAL}×: {verdict})",
            "",
        ]
    if batch:
        lines += [
            f"(b) {batch.jobs} submissions of {batch.assignment}, through each execution path",
            "",
            "| path | wall (s) | s / job | execution (s) | idle / job / slot (s) "
            "| grading-process CPU / job (s) | T1 / (2·T) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, run in batch.runs.items():
            eff = f"{batch.efficiency(label):.2f}" if run.slots == 2 else "—"
            lines.append(
                f"| {label} | {run.wall_s:.1f} | {run.wall_s / batch.jobs:.2f} | "
                f"{run.exec_s:.1f} | {run.idle_per_job(batch.jobs):.2f} | "
                f"{run.main_cpu_s / batch.jobs:.2f} | {eff} |"
            )
        one = batch.runs[LOCAL_1].exec_s
        lines.append("")
        for label in (LOCAL_2, REMOTE_2):
            eff = batch.efficiency(label)
            verdict = "met" if eff >= EFFICIENCY_GOAL else "NOT met"
            lines.append(
                f"{label}: parallel efficiency {eff:.2f} (goal ≥ {EFFICIENCY_GOAL}: {verdict}); "
                f"execution {batch.runs[label].exec_s / one:.2f}× the 1-worker run's"
            )
        lines.append("")
    if ceiling:
        lines += [
            f"(c) the machine's ceiling: {ceiling.assignment}'s perfect notebook executed "
            "with plain nbclient (no sandbox, Dask or scoring)",
            "",
            "| executions | count | median (s) | fastest (s) |",
            "|---|---:|---:|---:|",
        ]
        for what, runs in (("one process alone", ceiling.alone), ("two at once", ceiling.together)):
            lines.append(
                f"| {what} | {len(runs)} | {statistics.median(runs):.2f} | {min(runs):.2f} |"
            )
        lines += [
            "",
            f"two at once: each {ceiling.slowdown:.2f}× as long; the most two slots can "
            f"reach on this machine is {ceiling.efficiency:.2f}",
        ]
    return "\n".join(lines).rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__)
    parser.add_argument("--assignments", nargs="+", metavar="NAME", help="part (a); default: all")
    parser.add_argument("--batch", type=int, default=100, metavar="N", help="part (b) size")
    parser.add_argument("--batch-assignment", default="04_pooling", metavar="NAME")
    parser.add_argument("--repeats", type=int, default=1, metavar="R", help="best of R runs")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument(
        "--ceiling", type=int, default=6, metavar="K", help="part (c): executions per process"
    )
    parser.add_argument("--skip-ceiling", action="store_true")
    args = parser.parse_args(argv)
    ensure_tools_on_path()
    os.environ.update(KERNEL_ENV)
    overhead = batch = None
    if not args.skip_overhead:
        print("(a) overhead: one full-course submission", flush=True)
        overhead = measure_overhead(args.assignments, args.repeats)
    if not args.skip_batch:
        print(f"(b) {args.batch} submissions through each Dask path", flush=True)
        batch = measure_batch(args.batch_assignment, args.batch, args.repeats)
    ceiling = None
    if not args.skip_ceiling:
        print(f"(c) the ceiling: {args.batch_assignment} alone and two at once", flush=True)
        ceiling = measure_ceiling(args.batch_assignment, args.ceiling, args.repeats)
    print()
    print(render(overhead, batch, ceiling))
    return 0


if __name__ == "__main__":
    sys.exit(main())
