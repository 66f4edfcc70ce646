"""Time each assignment notebook, top to bottom, with its solutions in place.

`python -m autograder.nbtiming` (part of `make bench`) executes every source notebook in
a fresh kernel and prints a table to paste into docs/performance.md. Budgets (docs/design.md):
30 s per notebook on 2 CPU cores, 120 s for LeNet training. A benchmark, not a test: the
numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import ensure_tools_on_path
from autograder.release import ROOT, assignments

BUDGET_S = {"06_lenet": 120.0}
DEFAULT_BUDGET_S = 30.0


def time_notebook(path: Path, *, quick: bool = False) -> tuple[float, int]:
    """Execute `path` in a scratch folder; return (seconds, number of cells that errored)."""
    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("CNN_COURSE_QUICK")
    if quick:
        os.environ["CNN_COURSE_QUICK"] = "1"  # inherited by the kernel
    try:
        with tempfile.TemporaryDirectory() as tmp:
            client = NotebookClient(
                nb,
                timeout=600,
                kernel_name="python3",
                allow_errors=True,
                resources={"metadata": {"path": tmp}},
            )
            start = time.perf_counter()
            client.execute()
            seconds = time.perf_counter() - start
    finally:
        if quick:
            if env_before is None:
                os.environ.pop("CNN_COURSE_QUICK", None)
            else:
                os.environ["CNN_COURSE_QUICK"] = env_before
    errors = sum(
        any(o.get("output_type") == "error" for o in c.get("outputs", []))
        for c in nb.cells
        if c.cell_type == "code"
    )
    return seconds, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.nbtiming", description=__doc__)
    parser.add_argument("assignments", nargs="*", help="default: all")
    parser.add_argument(
        "--quick", action="store_true", help="set CNN_COURSE_QUICK=1 (grading mode)"
    )
    args = parser.parse_args(argv)
    ensure_tools_on_path()
    names = args.assignments or assignments(ROOT)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; mode: {'quick' if args.quick else 'full'}"
    )
    print(f"{'assignment':<20} {'seconds':>8} {'budget':>7} {'errors':>7}  verdict")
    status = 0
    for name in names:
        (path,) = sorted((ROOT / "source" / name).glob("*.ipynb"))
        seconds, errors = time_notebook(path, quick=args.quick)
        budget = BUDGET_S.get(name, DEFAULT_BUDGET_S)
        verdict = "within budget" if seconds <= budget else "OVER BUDGET"
        if errors:
            verdict += f"; {errors} cells failed"
            status = 1
        print(f"{name:<20} {seconds:8.1f} {budget:7.0f} {errors:7d}  {verdict}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
