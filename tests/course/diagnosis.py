"""How well do the visible checks name mistakes nobody catalogued? (issue: diagnosis)

Each mistake of `mistake_set.py` (written without reading course/checks) is put into the
notebook's namespace in place of the reference answer, and the graded cell's visible
check runs, as in the student's kernel. The outcome is one of:

    named    the check failed and named a mistake (catalogued or derived mechanically)
    raised   the student's function raised; the check showed their exception and the line
             where it happened, but named no mistake (specific, yet not a diagnosis)
    vague    the check failed with the exercise's generic pointer, or reported an error
    missed   the check passed: full marks for a real bug
    wrong    named, but not what the student did (decided by reading: see docs/diagnosis.md)

`--set fresh` runs `mistake_set_fresh.py` instead: a second set, written later by another
helper under the same rules, and measured once, with no change to the checks made after
reading its results (a clean held-out set at the time; the checks were improved after
that measurement, so it is a build set now). `--set third` runs `mistake_set_third.py`:
a third set, written after those improvements under the same rules, and measured once.
`--set fourth` runs `mistake_set_fourth.py`: a fourth, written under the same rules after
the repairs and measured once; `--set fifth` runs a fifth, written after the mechanisms
that the fourth prompted, and measured once; `--set sixth` a sixth, written while the
repair operators that the fifth prompted were built, and measured once after them;
`--set seventh` a seventh, written after the operators that the sixth prompted;
`--set eighth` an eighth, written while the operators that the seventh prompted were built;
`--set ninth` a ninth, written while the operators that the eighth prompted were built;
`--set tenth` a tenth, written while the two-slip repair and the trace of a line that raised
were built; `--set eleventh` an eleventh, written after the answers to the tenth;
`--set twelfth` a twelfth, written while the convention operators of 2026-12-07 were built.

Run `python -m tests.course.diagnosis [--set fresh] [--split held_out]` for the table; the
numbers are recorded in docs/diagnosis.md with the command. tests/course/test_diagnosis.py
asserts the floor that must not regress.
"""

from __future__ import annotations

import argparse
import ast
import collections
import contextlib
import importlib
import io
import linecache
import sys
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from autograder.judging import judge
from course.checks import CheckFailed

SETS = {
    "original": "tests.course.mistake_set",
    "fresh": "tests.course.mistake_set_fresh",
    "third": "tests.course.mistake_set_third",
    "fourth": "tests.course.mistake_set_fourth",
    "fifth": "tests.course.mistake_set_fifth",
    "sixth": "tests.course.mistake_set_sixth",
    "seventh": "tests.course.mistake_set_seventh",
    "eighth": "tests.course.mistake_set_eighth",
    "ninth": "tests.course.mistake_set_ninth",
    "tenth": "tests.course.mistake_set_tenth",
    "eleventh": "tests.course.mistake_set_eleventh",
    "twelfth": "tests.course.mistake_set_twelfth",
}

REPO = Path(__file__).resolve().parents[2]


def _source(assignment: str):
    return nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def _cells(assignment: str) -> list[judge.CellSpec]:
    return list(judge.judged_cells(_source(assignment)).values())


def run_one(entry: dict) -> tuple[str, str | None, str]:
    """(outcome, mistake key, the check's message) for one mistake of the set."""
    source = _source(entry["assignment"])
    ns = judge.reference_namespace(source, prefer_solutions=False)
    # As IPython does for a cell: the source is kept where inspect can read it.
    filename = f"<{entry['id']}>"
    linecache.cache[filename] = (len(entry["code"]), None, entry["code"].splitlines(True), filename)
    exec(compile(entry["code"], filename, "exec"), ns)
    ns["checks"] = judge.checks_module(source)
    calls = [
        text
        for spec in _cells(entry["assignment"])
        if entry["function"] in spec.names
        for text in spec.checks
    ]
    if not calls:
        return "no_check", None, f"no graded cell checks {entry['function']}"
    _define_globals(source, calls, ns)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            for text in calls:
                eval(compile(text, "<check>", "eval"), ns)
    except CheckFailed as exc:
        if exc.mistake == "raised":  # the student's own exception, shown with their line
            return "raised", exc.mistake, str(exc)
        return ("named" if exc.mistake else "vague"), exc.mistake, str(exc)
    except Exception as exc:  # a check that crashed on this student's output
        return "vague", None, f"{type(exc).__name__}: {exc}"
    return "missed", None, out.getvalue().strip()[-300:]


def _define_globals(source, calls: list[str], ns: dict) -> None:
    """Names the checks are called with that the notebook defines at top level (07's
    `device = pick_device()`): run its imports and those assignments (and the ones they
    read), in notebook order, as the student's kernel did before the graded cell."""

    def reads(tree) -> set[str]:
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}

    statements = []  # (statement, the names it assigns) in notebook order
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        try:  # IPython syntax (%magics) as the kernel reads it
            tree = ast.parse(TransformerManager().transform_cell(cell.source))
        except SyntaxError:
            continue
        for stmt in tree.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                statements.append((stmt, None))
            elif isinstance(stmt, ast.Assign):
                names = {t.id for t in stmt.targets if isinstance(t, ast.Name)}
                statements.append((stmt, names))
    wanted = {n for text in calls for n in reads(ast.parse(text, mode="eval")) if n not in ns}
    needed: set[int] = set()
    for i in reversed(range(len(statements))):  # an assignment, then what it reads
        stmt, names = statements[i]
        if names and names & wanted:
            needed.add(i)
            wanted = (wanted - names) | {n for n in reads(stmt.value) if n not in ns}
    for i, (stmt, names) in enumerate(statements):
        if names is None or i in needed:
            exec(compile(ast.Module([stmt], []), "<notebook>", "exec"), ns)


def measure(split: str | None = None, which: str = "original") -> dict[str, dict]:
    chosen = importlib.import_module(SETS[which])
    results = {}
    for entry in chosen.MISTAKES:
        if split and chosen.SPLIT[entry["id"]] != split:
            continue
        outcome, key, message = run_one(entry)
        results[entry["id"]] = {"outcome": outcome, "key": key, "message": message, **entry}
    return results


def table(results: dict[str, dict]) -> str:
    counts = collections.Counter(r["outcome"] for r in results.values())
    n = len(results)
    lines = [f"{n} mistakes: " + ", ".join(f"{k} {counts[k]}" for k in sorted(counts))]
    by_family = collections.defaultdict(collections.Counter)
    for r in results.values():
        by_family[r["family"]][r["outcome"]] += 1
    for family, c in sorted(by_family.items()):
        lines.append(f"  {family:<17} " + ", ".join(f"{k} {c[k]}" for k in sorted(c)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="original", dest="which")
    parser.add_argument("--split", choices=["build", "held_out"])
    parser.add_argument("-v", "--verbose", action="store_true", help="every message")
    args = parser.parse_args(argv)
    results = measure(args.split, args.which)
    if args.verbose:
        for r in results.values():
            first = " ".join(r["message"].split())[:400]
            print(f"[{r['outcome']}] {r['id']} ({r['family']}): {r['description']}\n    {first}")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
