"""Grading benchmark: the pipeline's overhead and its parallel efficiency.

    python -m autograder.bench                        both parts, 50-submission batch
    python -m autograder.bench --batch 20 --batch-assignment 02_padding_stride
    python -m autograder.bench --skip-batch          only the overhead part

(a) Overhead: one full-course submission (the reference solution of every assignment)
    graded end to end (`grade` with one worker: bundle, sanitize, sandbox, scoring,
    gradebook, ledger) against plain execution of the same sanitized notebooks with
    nbclient, no sandbox, one after the other. Goal (docs/design.md): at most 1.3×.
(b) Parallel efficiency: a batch of submissions of one assignment (perfect and
    misconception copies) graded with 1 worker, then with 2: T1 / (2 · T2). Goal: at
    least 0.85.

Both run in throw-away course roots. A benchmark, not a test: the numbers depend on the
machine and on whatever else runs on it; each timing is the best of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from autograder import demo, ensure_tools_on_path
from autograder.layout import Course
from autograder.records.grading import GRADING_LIMITS, grade
from autograder.sandbox import worker

OVERHEAD_GOAL = 1.3
EFFICIENCY_GOAL = 0.85
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
class Efficiency:
    assignment: str
    jobs: int
    t1: float
    t2: float

    @property
    def efficiency(self) -> float:
        return self.t1 / (2 * self.t2)


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
    from nbclient import NotebookClient

    seconds = 0.0
    for notebook in course.notebooks(assignment):
        nb = _sanitized(course, assignment, notebook)
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
            seconds += time.perf_counter() - start
    return seconds


def _course(tmp: Path, assignments: list[str] | None) -> tuple[Course, list[str]]:
    return demo.build_course(tmp / "course", assignments)


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


def measure_efficiency(assignment: str, jobs: int, repeats: int, log=print) -> Efficiency:
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
        best = {}
        for i in range(repeats):
            for workers in (1, 2):
                note_load()
                start = time.perf_counter()
                report = grade(course, workers=workers, force=True, progress=False)
                t = time.perf_counter() - start
                note_load()
                if report.failed or len(report.graded) != jobs:
                    raise RuntimeError(f"the batch did not grade cleanly: {report.table()}")
                best[workers] = min(t, best.get(workers, t))
                log(f"  run {i + 1}: {jobs} jobs, {workers} worker(s): {t:.1f} s")
        return Efficiency(assignment, jobs, best[1], best[2])


#: 1-minute load averages seen during the timings: other work on the machine skews them.
LOADS: list[float] = []


def note_load() -> None:
    if hasattr(os, "getloadavg"):
        LOADS.append(os.getloadavg()[0])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def render(overhead: Overhead | None, eff: Efficiency | None) -> str:
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
    if eff:
        verdict = "met" if eff.efficiency >= EFFICIENCY_GOAL else "NOT met"
        lines += [
            f"(b) {eff.jobs} submissions of {eff.assignment}",
            "",
            "| workers | wall (s) | s / job |",
            "|---:|---:|---:|",
            f"| 1 | {eff.t1:.1f} | {eff.t1 / eff.jobs:.2f} |",
            f"| 2 | {eff.t2:.1f} | {eff.t2 / eff.jobs:.2f} |",
            "",
            f"parallel efficiency = T1 / (2·T2) = {eff.efficiency:.2f} "
            f"(goal ≥ {EFFICIENCY_GOAL}: {verdict})",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__)
    parser.add_argument("--assignments", nargs="+", metavar="NAME", help="part (a); default: all")
    parser.add_argument("--batch", type=int, default=50, metavar="N", help="part (b) size")
    parser.add_argument("--batch-assignment", default="04_pooling", metavar="NAME")
    parser.add_argument("--repeats", type=int, default=1, metavar="R", help="best of R runs")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args(argv)
    ensure_tools_on_path()
    os.environ.update(KERNEL_ENV)
    overhead = eff = None
    if not args.skip_overhead:
        print("(a) overhead: one full-course submission", flush=True)
        overhead = measure_overhead(args.assignments, args.repeats)
    if not args.skip_batch:
        print(f"(b) parallel efficiency: {args.batch} submissions", flush=True)
        eff = measure_efficiency(args.batch_assignment, args.batch, args.repeats)
    print()
    print(render(overhead, eff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
