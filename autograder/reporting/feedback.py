"""One HTML feedback report per student and assignment, safe to hand to students.

The library behind `python -m autograder feedback`, whose help lists what a report shows
and what it never contains (`diagnose` has the rules, tests/autograder/test_feedback.py a
test of each). It reads the trusted records only: the gradebook
(autograder.records.gradebook), the ledger, the autograded notebooks whose judged cells
carry the judge's verdicts; never text the kernel printed in a graded cell
(docs/design.md, "The trust boundary").
"""

from __future__ import annotations

import builtins
import html
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import nbformat

from autograder.judging import judge, syllabus
from autograder.layout import Course
from autograder.records import ledger
from autograder.records.gradebook import open_gradebook, submission_time

HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)
#: IPython ≥ 8 frame headers: "Cell In[3], line 6, in _hidden_tests()" and
#: "File /path/course/checks/_core.py:306, in assert_close(got, ...)".
FRAME = re.compile(
    r"^\s*(?:Cell In\[(?P<count>\d+)\], line (?P<line>\d+)|File (?P<file>.+?):(?P<fline>\d+))"
    r"(?:, in (?P<func>[A-Za-z_<][\w.<>]*))?"
)
#: Errors that the grading pipeline writes itself (autograder.sandbox.executor,
#: autograder.records.score), with a one-line traceback and no frames; the kernel never
#: produces that shape.
EXECUTOR_ERRORS = {
    "CellTimeoutError": "This cell ran out of time",
    "WallTimeoutError": "The notebook ran out of time in this cell",
    "DeadKernelError": "The notebook's Python process died in this cell",
    "NotRun": "This test did not run",
    "NotGraded": "This test could not be graded",
}
#: The grader's status words, as students read them (in flags and messages).
PLAIN_WORDS = {
    "cell_timeout": "a cell ran out of time",
    "wall_timeout": "the notebook ran out of time",
    "kernel_died": "the Python process died",
    "output_limit": "too much output",
}
TRUSTED_CHECKS = Path(__file__).resolve().parents[2] / "course" / "checks"
MAX_MESSAGE = 2000  #: characters of one diagnostic message
MAX_MESSAGE_LINES = 30
MAX_OUTPUT = 2000  #: characters of the outputs of one code cell
MAX_OUTPUT_LINES = 30

#: What the grader's statuses and flags mean, in the student's words.
EXEC_STATUS = {
    "cell_timeout": "ran out of time in a cell: the cells after it did not run",
    "wall_timeout": "ran out of total time: the rest of the notebook did not run",
    "kernel_died": "the notebook's Python process died (out of memory, or it exited)",
    "output_limit": "printed too much: outputs were cut",
    "invalid_notebook": "the file could not be read as a notebook: it scored 0",
    "sandbox_error": "grading failed for a technical reason: ask your instructor",
}
STATUS_MARK = {
    "passed": "✓ passed",
    "partial": "◐ partly",
    "failed": "✗ failed",
    "not attempted": "– not attempted",
    "not run": "⏹ not run",
    "manual": "… to be graded by hand",
}

WITHHELD = "A test failed; its message is not shown because it quotes the hidden test."


# --------------------------------------------------------------------------- diagnosis


@dataclass(frozen=True)
class _Frame:
    count: int | None  # the cell's execution count, for "Cell In[N]" frames
    file: str | None
    line: int
    func: str | None


def _frames(traceback: list[str]) -> list[_Frame] | None:
    """The frames of an IPython traceback, outermost first; None if none could be read."""
    frames = []
    for item in traceback:
        first = ANSI.sub("", str(item)).lstrip("\n").split("\n", 1)[0]
        m = FRAME.match(first)
        if m:
            frames.append(
                _Frame(
                    int(m["count"]) if m["count"] else None,
                    m["file"],
                    int(m["line"] or m["fline"]),
                    m["func"],
                )
            )
    return frames or None


def hidden_ranges(source: str) -> list[tuple[int, int]]:
    """1-based, inclusive line ranges of the hidden blocks of a cell's source."""
    ranges, start = [], None
    for n, line in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN in line and start is None:
            start = n
        elif HIDDEN_END in line and start is not None:
            ranges.append((start, n))
            start = None
    if start is not None:
        ranges.append((start, len(source.splitlines())))
    return ranges


def _hidden_text(source: str) -> str:
    lines = source.splitlines()
    return "\n".join("\n".join(lines[a - 1 : b]) for a, b in hidden_ranges(source))


@dataclass
class HiddenMaterial:
    """What of the hidden blocks must never appear in a report: their code lines (the
    distinctive ones) and the numbers written in them (seeds, sentinels), less what
    students see anyway (the release notebook, course/checks)."""

    lines: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, source, public=None) -> HiddenMaterial:
        """From the instructor's notebook `source` (its hidden blocks) and the students'
        notebook `public` (the release); without a release, the non-hidden part of
        `source` counts as public."""
        hidden_lines, public_text = set(), [_public_checks_text()]
        for cell in source.cells:
            hidden = _hidden_text(cell.source) if cell.cell_type == "code" else ""
            hidden_lines |= {line.strip() for line in hidden.splitlines()}
            if public is None:
                public_text += [ln for ln in cell.source.splitlines() if ln not in hidden]
        if public is not None:
            public_text += [cell.source for cell in public.cells]
        public_blob = "\n".join(public_text)
        public_lines = {line.strip() for line in public_blob.splitlines()}
        hidden_blob = "\n".join(hidden_lines)
        return cls(
            lines={
                ln
                for ln in hidden_lines - public_lines
                if len(ln) >= 12 and not ln.startswith("#") and HIDDEN_BEGIN not in ln
            },
            numbers=set(_NUMBER.findall(hidden_blob)) - set(_NUMBER.findall(public_blob)),
        )

    def found_in(self, text: str) -> bool:
        if any(line in text for line in self.lines):
            return True
        return bool(self.numbers & set(_NUMBER.findall(text)))


_NUMBER = re.compile(r"(?<![\w.])\d{3,}(?:\.\d+)?(?!\w|\.\d)")


@cache
def _public_checks_text() -> str:
    """The source of course/checks: students have it, so nothing in it is hidden."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(TRUSTED_CHECKS.glob("*.py")))


def plain_words(text: str) -> str:
    """The grader's status words (cell_timeout, ...) replaced by plain English."""
    for word, plain in PLAIN_WORDS.items():
        text = re.sub(rf"\b{word}\b:?", plain, text)
    return text


def _clean(text: object, limit: int = MAX_MESSAGE) -> str:
    """Plain text (no ANSI colours), cut in the middle when long: a check's message ends
    with its hint, which matters most."""
    text = ANSI.sub("", str(text or "")).strip()
    lines = text.splitlines()
    if len(lines) > MAX_MESSAGE_LINES:
        text = "\n".join([*lines[: MAX_MESSAGE_LINES - 4], "…", *lines[-3:]])
    if len(text) > limit:
        text = text[: limit * 2 // 3] + " … " + text[-(limit // 3) :]
    return text


def _trusted_file(path: str | None) -> bool:
    """A frame in course/checks (the visible checks and assert_close)."""
    if not path:
        return False
    m = re.search(r"(?:^|[/\\])course[/\\]checks[/\\](\w+\.py)$", path.strip())
    return bool(m) and (TRUSTED_CHECKS / m.group(1)).is_file()


def _safe_ename(ename: str) -> str:
    """Builtin exception names and CheckFailed only: a class name is student-made text."""
    if ename == "CheckFailed" or (
        isinstance(getattr(builtins, ename, None), type)
        and issubclass(getattr(builtins, ename), BaseException)
    ):
        return ename
    return "an exception"


@dataclass(frozen=True)
class Diagnosis:
    """What a graded test cell's outputs say: a status hint and a student-safe message."""

    hint: str | None  # "not attempted", "not run", "failed" or None (no error)
    message: str | None


def diagnose(cell, material: HiddenMaterial, test_source: str | None = None) -> Diagnosis:
    """The student-safe diagnosis of one executed graded test cell (see the module doc).

    Args:
        cell: the executed cell (outputs, execution_count, source).
        material: what must not appear in the message.
        test_source: the instructor's version of the cell (source/), whose hidden blocks
            tell where the hidden tests start; default: the executed cell's source.
    """
    outputs = cell.get("outputs") or []
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        if cell.get("execution_count") is None:
            return Diagnosis("not run", "This test did not run: the notebook stopped before it.")
        if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs):
            return Diagnosis("failed", "The test wrote to stderr, which counts as a failure.")
        return Diagnosis(None, None)
    err = errors[-1]
    ename, evalue = _clean(err.get("ename"), 80), _clean(err.get("evalue"))
    traceback = [ANSI.sub("", str(t)) for t in err.get("traceback") or []]
    if ename in EXECUTOR_ERRORS and traceback == [f"{ename}: {err.get('evalue')}"]:
        # Written by the grading pipeline, not by the kernel: its own words.
        evalue = plain_words(re.sub(r"^not (run|graded):\s*", "", evalue))
        message = f"{EXECUTOR_ERRORS[ename]}: {evalue}"
        return Diagnosis("not run", WITHHELD if material.found_in(message) else message)

    if test_source is not None and judge.probed_grade_id(test_source):
        # A judged cell: its outputs are the judge's verdict (autograder.judging.judge), computed
        # outside the sandbox from the probe's report; nothing the kernel printed is in it.
        return Diagnosis("failed", WITHHELD if material.found_in(evalue) else evalue)

    ranges = hidden_ranges(test_source if test_source is not None else cell.source)
    frames = _frames(traceback)
    own = [
        f for f in frames or () if f.count is not None and f.count == cell.get("execution_count")
    ]
    if not ranges:
        in_hidden = False
    elif not own:
        # A visible check's failure renders as its message alone (CheckFailed's
        # _render_traceback_), without frames; in-kernel hidden tests fail with
        # AssertionError. Anything else without a frame here: assume the worst.
        in_hidden = not (
            ename == "CheckFailed" and any(t.startswith("Check failed:") for t in traceback)
        )
    else:
        in_hidden = any(a <= own[0].line <= b for a, b in ranges) or any(
            f.func == "_hidden_tests" for f in own
        )
    raiser = frames[-1] if frames else None
    by_instructor = raiser is not None and (raiser in own or _trusted_file(raiser.file))
    hint = "not attempted" if ename == "NotImplementedError" else "failed"

    if not in_hidden:
        message = evalue if ename == "CheckFailed" else f"{ename}: {evalue}".rstrip(": ")
    elif ename == "NotImplementedError":
        message = "NotImplementedError: this exercise is not done yet."
    elif ename in ("AssertionError", "CheckFailed") and (by_instructor or not evalue):
        message = f"A hidden test failed: {evalue}" if evalue else "A hidden test failed."
    else:
        message = (
            f"Your code raised {_safe_ename(ename)} on a hidden test case. Its message is "
            "not shown (it could reveal the hidden input): try your function on more "
            "cases, such as non-square inputs, N = 1, stride > 1 or padding 0."
        )
    if material.found_in(message):
        message = WITHHELD
    return Diagnosis(hint, message)


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ExerciseResult:
    """One graded test cell."""

    notebook: str
    grade_id: str
    title: str  # the exercise heading above it, e.g. "Exercise 1.1 — add (2 points)"
    checks: str  # the first line of the test cell's docstring (in the release too)
    score: float | None
    max_score: float
    status: str  # a key of STATUS_MARK
    message: str | None


@dataclass(frozen=True)
class CodeCell:
    """One of the student's own (solution) cells."""

    notebook: str
    title: str
    source: str
    outputs: str | None  # None: withheld (the cell ran after a hidden test)


@dataclass
class Feedback:
    """Everything one report shows."""

    student: str
    assignment: str
    score: float
    max_score: float
    submitted_at: str | None
    graded_at: str | None
    flags: list[str]
    exercises: list[ExerciseResult]
    code: list[CodeCell]
    messages_withheld: bool = False

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.exercises)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader") or {}


def _read_nb(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # unreadable or invalid: the report goes on without it
        return None


def _titles(nb) -> dict[str, tuple[str, str]]:
    """grade_id -> (exercise heading, first docstring line) from a public notebook."""
    titles, heading = {}, ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = HEADING.findall(cell.source)
            if found:
                heading = re.sub(r"[`*]", "", found[-1])
        elif _meta(cell).get("grade_id"):
            doc = re.match(r'\s*(?:"""|\'\'\')\s*(.+?)\s*(?:"""|\'\'\'|$)', cell.source, re.M)
            checks = doc.group(1) if doc and _meta(cell).get("grade") else ""
            titles[_meta(cell)["grade_id"]] = (heading, checks)
    return titles


def _format_outputs(outputs) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(str(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "text/plain" in data and not any(k.startswith("image/") for k in data):
                parts.append(str(data["text/plain"]) + "\n")
            else:
                parts.append("[figure]\n" if any(k.startswith("image/") for k in data) else "")
        elif kind == "error":
            parts.append(f"{_clean(out.get('ename'), 80)}: {_clean(out.get('evalue'))}\n")
    text = ANSI.sub("", "".join(parts))
    lines = text.splitlines()
    if len(lines) > MAX_OUTPUT_LINES:
        text = "\n".join(
            [*lines[:MAX_OUTPUT_LINES], f"… ({len(lines) - MAX_OUTPUT_LINES} more lines)"]
        )
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n… (cut)"


def _fmt_time(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        try:
            from nbgrader.utils import parse_utc

            when = parse_utc(str(value)).replace(tzinfo=UTC)
        except (ValueError, OverflowError):
            return str(value)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_feedback(course: Course, student: str, assignment: str) -> Feedback:
    """Gather what the report of one submission shows.

    Raises:
        FileNotFoundError: no gradebook, or the submission is not in it (not graded yet).
    """
    from nbgrader.api import MissingEntry

    grades: dict[tuple[str, str], tuple[float | None, float, bool]] = {}
    with open_gradebook(course) as gb:
        if gb is None:
            raise FileNotFoundError(f"{course.gradebook} does not exist: grade first")
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            raise FileNotFoundError(
                f"{student} has no graded submission of {assignment} in the gradebook"
            ) from None
        submitted_at = _fmt_time(sub.timestamp)
        for nb in sub.notebooks:
            for g in nb.grades:
                manual = bool(g.needs_manual_grade) and g.auto_score is None
                score = None if manual and g.manual_score is None else float(g.score)
                grades[(nb.name, g.name)] = (score, float(g.max_score or 0.0), manual)
        total, max_total = float(sub.score or 0.0), float(sub.max_score or 0.0)

    record = ledger.latest(course).get((student, assignment)) or {}
    raw_flags = [str(f) for f in record.get("flags") or []]
    tampered = any(re.search(r"(^|\s)tamper:", f) for f in raw_flags)
    flags = [plain_words(f) for f in raw_flags]
    exec_status = str(record.get("exec_status"))
    if exec_status in EXEC_STATUS and not raw_flags:  # the grader's flags say it better
        flags.insert(0, EXEC_STATUS[exec_status])
    graded_at = _fmt_time(record.get("graded_at"))
    folder = course.autograded / student / assignment
    if graded_at is None and folder.is_dir():
        graded_at = _fmt_time(datetime.fromtimestamp(folder.stat().st_mtime, UTC))
    submitted_at = submitted_at or _fmt_time(
        submission_time(course.submitted / student / assignment)[0]
    )

    exercises: list[ExerciseResult] = []
    code: list[CodeCell] = []
    for nb_name in course.notebooks(assignment):
        public = _read_nb(course.release / assignment / f"{nb_name}.ipynb")
        titles = _titles(public) if public is not None else {}
        executed = _read_nb(folder / f"{nb_name}.ipynb")
        source = _read_nb(course.source / assignment / f"{nb_name}.ipynb")
        source_tests = {
            _meta(c)["grade_id"]: c.source
            for c in (source.cells if source is not None else [])
            if _meta(c).get("grade_id") and hidden_ranges(c.source)
        }
        cells = {}
        material = HiddenMaterial()
        untouched: set[str] = set()
        if executed is not None:
            # Hidden blocks from the instructor's notebook; the executed copy's are the
            # same (locked cells are restored) unless the notebook could not be read.
            material = HiddenMaterial.of(source if source is not None else executed, public)
            cells = {_meta(c)["grade_id"]: c for c in executed.cells if _meta(c).get("grade_id")}
            if public is not None:
                untouched = syllabus.untouched(executed, public)
        order = list(titles) or [gid for (n, gid) in grades if n == nb_name]
        order += sorted(gid for (n, gid) in grades if n == nb_name and gid not in order)
        for gid in order:
            if (nb_name, gid) not in grades:
                continue  # not a graded cell (an exercise cell, a locked demo)
            score, max_score, manual = grades[(nb_name, gid)]
            title, checks = titles.get(gid, ("", ""))
            diag = Diagnosis(None, None)
            if gid in cells:
                diag = diagnose(cells[gid], material, source_tests.get(gid))
            elif executed is None:
                diag = Diagnosis(None, "The executed notebook is missing: ask your instructor.")
            if manual:
                status = "manual"
            elif score is not None and score >= max_score:
                status, diag = "passed", Diagnosis(None, None)
            elif diag.hint == "not run":
                status = "not run"
            elif diag.hint == "not attempted" or gid in untouched:
                status = "not attempted"
            elif score:
                status = "partial"
            else:
                status = "failed"
            message = None if tampered or status == "passed" else diag.message
            if status == "failed" and message is None and not tampered:
                message = "The test did not pass."
            exercises.append(
                ExerciseResult(
                    nb_name, gid, title or gid, checks, score, max_score, status, message
                )
            )
        if executed is not None:
            code += _student_code(executed, nb_name, titles, set(source_tests))
    return Feedback(
        student,
        assignment,
        total,
        max_total,
        submitted_at,
        graded_at,
        flags,
        exercises,
        code,
        messages_withheld=tampered,
    )


def _student_code(
    nb, nb_name: str, titles: dict, hidden_ids: set[str] = frozenset()
) -> list[CodeCell]:
    """The solution cells; outputs only of those that ran before any hidden test did (a
    hidden test cell: one with a hidden block here, or in source/ under its grade_id)."""
    first_hidden = next(
        (
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code"
            and (hidden_ranges(c.source) or _meta(c).get("grade_id") in hidden_ids)
        ),
        len(nb.cells),
    )
    cells = []
    for i, cell in enumerate(nb.cells):
        meta = _meta(cell)
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        title = titles.get(meta.get("grade_id"), ("", ""))[0] or meta.get("grade_id", "")
        outputs = _format_outputs(cell.get("outputs") or []) if i < first_hidden else None
        cells.append(CodeCell(nb_name, title, cell.source, outputs))
    return cells


# --------------------------------------------------------------------------- rendering

CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; margin: 0; background: #fff; }
main { max-width: 880px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 1em; margin: 0 0 6px; }
.who { color: var(--muted); margin: 0 0 12px; }
.total { font-size: 1.4em; margin: 8px 0; } .total b { font-size: 1.3em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px;
  margin: 8px 0; color: var(--muted); }
dl.meta dd { margin: 0; }
.flags { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
  padding: 8px 12px 8px 28px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--soft); }
td.pts { white-space: nowrap; text-align: right; }
code, pre { font: 13px/1.45 ui-monospace, Menlo, Consolas, monospace; }
.passed .st { color: var(--ok); } .failed .st, .partial .st { color: var(--bad); }
.st { white-space: nowrap; } .checks { color: var(--muted); font-size: .9em; }
article { border: 1px solid var(--line); border-left: 4px solid var(--bad);
  border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
pre { background: var(--soft); border-radius: 6px; padding: 8px 10px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-word; }
pre.out { background: #fff; border: 1px dashed var(--line); }
details { margin-top: 24px; } summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: .85em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pts(score: float | None, max_score: float) -> str:
    return f"{'–' if score is None else f'{score:g}'} / {max_score:g}"


def render_html(fb: Feedback) -> str:
    """The report as one self-contained HTML page (inline CSS, no scripts, no links out)."""
    pct = f" ({100 * fb.score / fb.max_score:.0f}%)" if fb.max_score else ""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Feedback: {_e(fb.assignment)} — {_e(fb.student)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>{_e(fb.assignment)}</h1>",
        f'<p class="who">Feedback for <b>{_e(fb.student)}</b></p>',
        f'<p class="total"><b>{fb.score:g}</b> / {fb.max_score:g} points{pct}</p>',
        '<dl class="meta">',
    ]
    if fb.submitted_at:
        out.append(f"<dt>Submitted</dt><dd>{_e(fb.submitted_at)}</dd>")
    if fb.graded_at:
        out.append(f"<dt>Graded</dt><dd>{_e(fb.graded_at)}</dd>")
    out.append("</dl>")
    if fb.flags:
        out.append('<ul class="flags">' + "".join(f"<li>{_e(f)}</li>" for f in fb.flags) + "</ul>")
    out.append("</header>")

    out += [
        "<section><h2>Exercises</h2><table>",
        "<tr><th>Exercise</th><th>Test</th><th>Points</th><th>Status</th></tr>",
    ]
    for ex in fb.exercises:
        checks = f'<div class="checks">{_e(ex.checks)}</div>' if ex.checks else ""
        out.append(
            f'<tr class="{ex.status.replace(" ", "-")}"><td>{_e(ex.title)}{checks}</td>'
            f"<td><code>{_e(ex.grade_id)}</code></td>"
            f'<td class="pts">{_pts(ex.score, ex.max_score)}</td>'
            f'<td class="st">{_e(STATUS_MARK[ex.status])}</td></tr>'
        )
    out.append("</table></section>")

    to_fix = [ex for ex in fb.exercises if ex.status != "passed" and ex.message]
    if to_fix:
        out.append("<section><h2>What to look at</h2>")
        for ex in to_fix:
            out.append(
                f"<article><h3>{_e(ex.title)} <small>· <code>{_e(ex.grade_id)}</code> · "
                f"{_pts(ex.score, ex.max_score)}</small></h3><pre>{_e(ex.message)}</pre></article>"
            )
        out.append("</section>")
    elif fb.messages_withheld:
        out.append("<section><p>Messages are not shown for this submission.</p></section>")

    if fb.code:
        out.append(f"<details><summary>Your code ({len(fb.code)} cells)</summary>")
        for cell in fb.code:
            out.append(f"<h3>{_e(cell.title)}</h3><pre><code>{_e(cell.source)}</code></pre>")
            if cell.outputs:
                out.append(f'<pre class="out">{_e(cell.outputs)}</pre>')
        out.append(
            '<p class="checks">Outputs are shown for the cells that ran before the first '
            "hidden test.</p></details>"
        )
    out.append(
        "<footer>Generated by the course autograder. Hidden tests are not shown; run the "
        "visible checks in your notebook to see what they test.</footer>"
    )
    out.append("</main></body></html>\n")
    return "\n".join(out)


def summary(fb: Feedback) -> str:
    """One plain-text line per report, for the CLI table."""
    counts = ", ".join(
        f"{fb.count(s)} {s}"
        for s in ("passed", "failed", "partial", "not attempted", "not run")
        if fb.count(s) or s in ("passed", "failed")
    )
    line = f"{fb.student:<20} {fb.assignment:<20} {_pts(fb.score, fb.max_score):>11}  {counts}"
    return line + (f"  [{'; '.join(fb.flags)}]" if fb.flags else "")


def feedback_path(course: Course, student: str, assignment: str) -> Path:
    return course.feedback / student / assignment / f"{assignment}.html"


def _write(course: Course, fb: Feedback) -> Path:
    path = feedback_path(course, fb.student, fb.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_html(fb), encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_feedback(course: Course, student: str, assignment: str) -> Path:
    """Write the report of one submission; return its path.

    Raises:
        FileNotFoundError: the submission is not graded (not in the gradebook).
    """
    return _write(course, build_feedback(course, student, assignment))


def graded_submissions(course: Course) -> list[tuple[str, str]]:
    """(student, assignment) of every submission in the gradebook, sorted."""
    with open_gradebook(course) as gb:
        if gb is None:
            return []
        return sorted((s.student_id, a.name) for a in gb.assignments for s in a.submissions)


def write_all(
    course: Course, *, students: list[str] | None = None, assignments: list[str] | None = None
) -> list[tuple[Path, Feedback]]:
    """Write the report of every graded submission (optionally only some); return them."""
    written = []
    for student, assignment in graded_submissions(course):
        if (students and student not in students) or (
            assignments and assignment not in assignments
        ):
            continue
        fb = build_feedback(course, student, assignment)
        written.append((_write(course, fb), fb))
    return written
