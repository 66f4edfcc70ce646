"""The class report's pages and files: what the class got wrong, and similar hand-ins.

The library behind `python -m autograder report`, whose help lists the files it writes
(reports/ only, never feedback/). The numbers come from autograder.reporting.insight (the
ledger's per-cell outcomes, which scoring wrote from the judge's verdicts) and
autograder.reporting.similarity; docs/class-report.md defines them.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.figure import Figure

from autograder.layout import Course
from autograder.records import ledger
from autograder.reporting import insight, similarity
from autograder.reporting.insight import ClassResults

#: How the report words each kind of outcome, and its colour in tables and plots.
KIND_STYLE = {
    insight.PASSED: ("passed", "#4c9a2a"),
    insight.NAMED: ("named mistake", "#c0392b"),
    insight.GENERIC: ("generic message only", "#e67e22"),
    insight.NOT_ATTEMPTED: ("not attempted or not run", "#95a5a6"),
}
WHAT_IS_MISSING = {
    "pending": "collected, not graded yet: run `python -m autograder grade`",
    "stale": "collected again, or the assignment changed, since grading: run "
    "`python -m autograder grade`",
    "failed": "grading failed: see `python -m autograder status --all`",
    "undiagnosed": "graded before outcomes were recorded per cell: run "
    "`python -m autograder grade --force`",
    "no hand-in": "handed nothing in",
}
CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 1150px; margin: 0 auto; padding: 1em 2em 4em; background: #fff; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; margin-top: 2em; }
h3 { margin-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #666; } .note { background: #fff8e1; padding: .5em 1em; }
.kind { display: inline-block; width: .8em; height: .8em; border-radius: 2px; }
img.plot { max-width: 100%; display: block; margin: .5em 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.pair pre { background: #f6f6f6; padding: .5em; overflow-x: auto; font-size: 12px; }
mark.same { background: #ffe08a; }
.students { font-size: .9em; }
"""


def e(value) -> str:
    """HTML-escaped text of anything (student ids, mistake keys, headings)."""
    return html.escape(str(value), quote=True)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------------------------------
# Plots (matplotlib, embedded as PNG data: the page needs nothing else)
# ---------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    # A Figure of its own (no pyplot): no global state, no GUI backend, PNG through Agg.
    return Figure(figsize=(width, height), dpi=90, layout="constrained")


def _png(fig, alt: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img class="plot" alt="{e(alt)}" src="data:image/png;base64,{data}">'


def _score_bars(ax, values: list[float], top: float, what: str) -> None:
    """Students per score: one bar per score reached (few distinct values), else bins."""
    distinct = sorted(set(values))
    if len(distinct) <= 12:
        counts = [values.count(v) for v in distinct]
        ax.bar([f"{v:g}" for v in distinct], counts, color="#34699a")
        ax.set_xlabel(f"{what} (of {top:g})")
    else:
        ax.hist(values, bins=10, range=(0, top or 1), color="#34699a")
        ax.set_xlabel(f"{what} (of {top:g})")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)


def total_plot(results: ClassResults) -> str:
    fig = _figure(6, 2.6)
    ax = fig.add_subplot()
    totals = [results.total(s) for s in results.students]
    _score_bars(ax, totals, results.max_total, "total score")
    ax.set_title(f"{results.assignment}: total scores of {len(totals)} students")
    return _png(fig, f"histogram of the total scores of {results.assignment}")


def exercise_plot(results: ClassResults, number: str, gids: list[str]) -> str:
    """The exercise's score histogram and, beside it, its outcome bars (passed left out)."""
    rows = [r for g in gids for r in insight.outcome_rows(results, g) if r.kind != "passed"]
    fig = _figure(9 if rows else 4.5, 2.4 + 0.15 * max(len(rows) - 4, 0))
    axes = fig.subplots(1, 2 if rows else 1, squeeze=False)[0]
    top = sum(results.max_scores[g] for g in gids)
    _score_bars(axes[0], [results.total(s, gids) for s in results.students], top, "score")
    axes[0].set_title(f"exercise {number}: scores")
    if rows:
        ax = axes[1]
        labels = [r.outcome if len(gids) == 1 else f"{r.outcome} ({r.grade_id})" for r in rows]
        ax.barh(
            labels[::-1],
            [r.count for r in rows][::-1],
            color=[KIND_STYLE[r.kind][1] for r in rows][::-1],
        )
        ax.set_xlabel("students")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title("what went wrong")
    return _png(fig, f"scores and mistakes of exercise {number}")


def overview_plot(classes: list[ClassResults]) -> str:
    """Points the class lost per assignment, by kind of outcome."""
    graded = [c for c in classes if c.students]
    fig = _figure(7, 0.5 + 0.45 * max(len(graded), 1))
    ax = fig.add_subplot()
    left = [0.0] * len(graded)
    names = [c.assignment for c in graded][::-1]
    for which in (insight.NAMED, insight.GENERIC, insight.NOT_ATTEMPTED):
        lost = []
        for c in graded[::-1]:
            per = sum(lp.by_kind.get(which, 0.0) for lp in insight.lost_points(c))
            lost.append(per / len(c.students))
        ax.barh(
            names, lost, left=left[::-1], color=KIND_STYLE[which][1], label=KIND_STYLE[which][0]
        )
        left = [a + b for a, b in zip(left, lost[::-1], strict=True)]
    ax.set_xlabel("points lost per student")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("where the class loses its points")
    return _png(fig, "points lost per student and assignment, by kind of outcome")


# ---------------------------------------------------------------------------------------
# One assignment
# ---------------------------------------------------------------------------------------


@dataclass
class AssignmentReport:
    """Everything the report of one assignment shows."""

    results: ClassResults
    similar: similarity.Similarity | None
    words: dict[str, str]

    @property
    def assignment(self) -> str:
        return self.results.assignment


def build(
    course: Course,
    assignment: str,
    *,
    threshold: float = similarity.THRESHOLD,
    words: dict[str, str] | None = None,
) -> AssignmentReport:
    """Read the records of one assignment and compare its hand-ins."""
    results = insight.load_class(course, assignment)
    similar = (
        similarity.assignment_similarity(course, assignment, results.students, threshold=threshold)
        if results.students
        else None
    )
    if words is None:
        words = insight.mistake_words(insight.checks_topic(course, assignment))
    return AssignmentReport(results, similar, words)


def counts(rep: AssignmentReport) -> dict:
    """The report's counts in short: graded students, per cell the count of each outcome,
    and the flagged pairs (what the demo's goldens keep)."""
    r = rep.results
    return {
        "students": len(r.students),
        "outcomes": {
            g: {row.outcome: row.count for row in insight.outcome_rows(r, g)} for g in r.items
        },
        "similar_pairs": [[p.first, p.second] for p in (rep.similar.pairs if rep.similar else [])],
    }


def top_mistakes(rep: AssignmentReport, n: int = 3) -> list[insight.OutcomeRow]:
    """The `n` named mistakes most students made (ties: notebook order, then key)."""
    rows = [
        row
        for i, g in enumerate(rep.results.items)
        for row in insight.outcome_rows(rep.results, g)
        if row.kind == insight.NAMED
    ]
    order = {g: i for i, g in enumerate(rep.results.items)}
    return sorted(rows, key=lambda r: (-r.count, order[r.grade_id], r.outcome))[:n]


def course_top_mistakes(reports: list[AssignmentReport], n: int = 5) -> list[str]:
    """The `n` named mistakes of the course that most students made (then the largest
    share of their class), one line each:
    "3 of 12 (25%) kernel_flipped in 01_convolution 1.2 (conv_corr2d_tests)"."""
    rows = [
        (row, rep)
        for rep in reports
        for g in rep.results.items
        for row in insight.outcome_rows(rep.results, g)
        if row.kind == insight.NAMED
    ]
    rows.sort(key=lambda x: (-x[0].count, -x[0].share, x[1].assignment, x[0].outcome))
    return [
        f"{row.count} of {len(rep.results.students)} ({row.share:.0%}) {row.outcome} in "
        f"{rep.assignment} {rep.results.exercise_of(row.grade_id)} ({row.grade_id})"
        for row, rep in rows[:n]
    ]


def to_json(rep: AssignmentReport) -> dict:
    r = rep.results
    stats = {s.grade_id: s for s in insight.item_stats(r)}
    return {
        "assignment": r.assignment,
        "students": r.students,
        "missing": r.missing,
        "max_total": r.max_total,
        "items": [
            {
                "grade_id": g,
                "exercise": r.exercise_of(g),
                "points": r.max_scores[g],
                "mean": stats[g].mean,
                "difficulty": stats[g].difficulty,
                "discrimination": stats[g].discrimination,
                "outcomes": [
                    {
                        "outcome": row.outcome,
                        "kind": row.kind,
                        "count": row.count,
                        "share": row.share,
                        "students": list(row.students),
                    }
                    for row in insight.outcome_rows(r, g)
                ],
            }
            for g in r.items
        ],
        "together": [
            {"first": list(t.first), "second": list(t.second), "students": list(t.students)}
            for t in insight.together(r)
        ],
        "lost_points": [
            {"exercise": lp.exercise, "lost": lp.lost, "share": lp.share_of_loss, **lp.by_kind}
            for lp in insight.lost_points(r)
        ],
        "similar_pairs": [
            {"students": [p.first, p.second], "similarity": list(p.similarity)}
            for p in (rep.similar.pairs if rep.similar else [])
        ],
        "matches_reference": rep.similar.reference if rep.similar else {},
    }


def _missing_html(results: ClassResults) -> str:
    if not results.missing:
        return ""
    items = "".join(
        f"<li>{len(who)} {e(WHAT_IS_MISSING.get(state, state))}: "
        f"<span class='students'>{e(', '.join(who))}</span></li>"
        for state, who in sorted(results.missing.items())
    )
    return f"<div class='note'><p>Not in these numbers:</p><ul>{items}</ul></div>"


def _outcome_table(rep: AssignmentReport, gids: list[str]) -> str:
    r = rep.results
    rows = []
    for g in gids:
        for row in insight.outcome_rows(r, g):
            label, colour = KIND_STYLE[row.kind]
            cell = f" <span class='muted'>({e(g)})</span>" if len(gids) > 1 else ""
            who = "" if row.kind == insight.PASSED else ", ".join(row.students)
            rows.append(
                f"<tr><td><span class='kind' style='background:{colour}'></span> "
                f"<code>{e(row.outcome)}</code>{cell}</td>"
                f"<td>{e(rep.words.get(row.outcome, label))}</td>"
                f"<td class='num'>{row.count}</td><td class='num'>{_pct(row.share)}</td>"
                f"<td class='students'>{e(who)}</td></tr>"
            )
    head = (
        "<tr><th>outcome</th><th>what it means</th><th>students</th><th>share</th><th>who</th></tr>"
    )
    return f"<table class='outcomes'>{head}{''.join(rows)}</table>"


def _exercise_section(rep: AssignmentReport, number: str, gids: list[str]) -> str:
    r = rep.results
    ex = r.exercises.get(gids[0])
    title = ex.title if ex and ex.title else f"{number}"
    where = ""
    if ex is not None:
        link = f"../../release/{r.assignment}/{ex.notebook}.ipynb#{ex.anchor}"
        where = (
            f"<p>Revisit: <b>{e(ex.slide or 'the lecture')}</b>; notebook section "
            f"<a href='{e(link)}'>{e(ex.section or ex.notebook)}</a>.</p>"
        )
    generic = insight.share_of_kind(r, gids, insight.GENERIC)
    blind = (
        f"<p class='note'>{_pct(generic)} of the class got only a generic message here: a "
        "mistake the diagnosis does not name yet (read their code, then consider a new "
        "catalogue entry, docs/diagnosis.md).</p>"
        if generic
        else ""
    )
    return (
        f"<section id='ex-{e(number)}'><h3>{e(title)}</h3>{where}"
        f"{exercise_plot(r, number, gids)}{_outcome_table(rep, gids)}{blind}</section>"
    )


def _items_table(results: ClassResults) -> str:
    rows = "".join(
        f"<tr><td><code>{e(s.grade_id)}</code></td><td>{e(results.exercise_of(s.grade_id))}</td>"
        f"<td class='num'>{s.max_score:g}</td><td class='num'>{_num(s.mean)}</td>"
        f"<td class='num'>{_num(s.difficulty)}</td>"
        f"<td class='num'>{_num(s.discrimination)}</td></tr>"
        for s in insight.item_stats(results)
    )
    head = (
        "<tr><th>graded cell</th><th>exercise</th><th>points</th><th>mean</th>"
        "<th>difficulty</th><th>discrimination</th></tr>"
    )
    return f"<table id='items'>{head}{rows}</table>"


def _together_table(results: ClassResults) -> str:
    pairs = insight.together(results)
    if not pairs:
        return "<p class='muted'>No two mistakes were made together by two students or more.</p>"
    rows = "".join(
        f"<tr><td><code>{e(t.first[1])}</code> in {e(t.first[0])}</td>"
        f"<td><code>{e(t.second[1])}</code> in {e(t.second[0])}</td>"
        f"<td class='num'>{t.count}</td><td class='students'>{e(', '.join(t.students))}</td></tr>"
        for t in pairs
    )
    head = "<tr><th>mistake</th><th>with</th><th>students</th><th>who</th></tr>"
    return f"<table class='together'>{head}{rows}</table>"


def _similarity_html(rep: AssignmentReport) -> str:
    sim = rep.similar
    if sim is None:
        return "<p class='muted'>Nothing graded to compare.</p>"
    intro = (
        f"<p>{sim.compared} students wrote code of their own beyond the template and the "
        f"published reference. Pairs where at least {similarity.THRESHOLD:.0%} of one "
        "student's own code matches the other's are listed for a person to read: a match is "
        "a reason to look, never a penalty (docs/class-report.md says what this finds and "
        "what it misses).</p>"
    )
    if sim.pairs:
        rows = "".join(
            f"<tr><td>{e(p.first)}</td><td>{e(p.second)}</td>"
            f"<td class='num'>{_pct(p.similarity[0])}</td>"
            f"<td class='num'>{_pct(p.similarity[1])}</td></tr>"
            for p in sim.pairs
        )
        table = (
            "<table class='pairs'><tr><th>student</th><th>student</th><th>first's code "
            f"matching</th><th>second's code matching</th></tr>{rows}</table>"
        )
        views = "".join(
            f"<details><summary>{e(p.first)} and {e(p.second)}: the matching code</summary>"
            f"<div class='pair'><div><b>{e(p.first)}</b><pre>{p.first_html}</pre></div>"
            f"<div><b>{e(p.second)}</b><pre>{p.second_html}</pre></div></div></details>"
            for p in sim.pairs
        )
    else:
        table, views = "<p>No pair above the threshold.</p>", ""
    ref = sorted(sim.reference.items(), key=lambda kv: (-kv[1], kv[0]))
    ref_rows = "".join(
        f"<tr><td>{e(s)}</td><td class='num'>{_pct(v)}</td></tr>" for s, v in ref if v >= 0.5
    )
    ref_html = (
        "<p>Solution code that is mostly the published reference (self-learners may read "
        "it in solutions/):</p><table class='reference'><tr><th>student</th>"
        f"<th>share of their code</th></tr>{ref_rows}</table>"
        if ref_rows
        else ""
    )
    return intro + table + views + ref_html


def _page(title: str, body: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
        f"<p class='muted'>Instructor only: names students. Generated {when} by "
        f"<code>python -m autograder report</code>.</p>{body}</main></body></html>\n"
    )


def render_assignment(rep: AssignmentReport) -> str:
    r = rep.results
    parts = [f"<h1>Class report: {e(r.assignment)}</h1>"]
    if not r.students:
        parts.append("<p><b>Nothing graded yet.</b></p>")
        parts.append(_missing_html(r) or "<p>No submission was collected.</p>")
        return _page(f"Class report: {r.assignment}", "".join(parts))
    totals = [r.total(s) for s in r.students]
    mean = sum(totals) / len(totals)
    parts.append(
        f"<p>{len(r.students)} students graded; mean {mean:.1f} of {r.max_total:g} "
        f"points ({_pct(mean / r.max_total if r.max_total else None)}).</p>"
    )
    parts.append(_missing_html(r))
    parts.append(total_plot(r))
    lost_rows = "".join(
        f"<tr><td><a href='#ex-{e(lp.exercise)}'>{e(lp.exercise)}</a></td>"
        f"<td class='num'>{lp.lost:g}</td><td class='num'>{_pct(lp.share_of_loss)}</td>"
        + "".join(
            f"<td class='num'>{lp.by_kind.get(k, 0.0):g}</td>"
            for k in (insight.NAMED, insight.GENERIC, insight.NOT_ATTEMPTED)
        )
        + f"<td>{e(lp.top_mistake[0]) + f' ({lp.top_mistake[1]})' if lp.top_mistake else ''}"
        "</td></tr>"
        for lp in insight.lost_points(r)
        if lp.lost
    )
    parts.append(
        "<h2>Where the class lost its points</h2><table class='lost'><tr><th>exercise</th>"
        "<th>points lost</th><th>share</th><th>named mistakes</th><th>generic</th>"
        f"<th>not attempted</th><th>most frequent mistake (students)</th></tr>{lost_rows}</table>"
    )
    parts.append("<h2>Per exercise</h2>")
    for number, gids in insight.exercise_groups(r).items():
        parts.append(_exercise_section(rep, number, gids))
    parts.append(
        "<h2>Item statistics</h2><p class='muted'>Difficulty: mean score / points (1 = "
        "everyone got it). Discrimination: correlation of the cell's score with the rest of "
        "the assignment; near 0 or negative means the cell does not separate the students "
        "who do well elsewhere (— where a side does not vary).</p>"
    )
    parts.append(_items_table(r))
    parts.append("<h2>Mistakes made together</h2>" + _together_table(r))
    parts.append("<h2>Similar hand-ins</h2>" + _similarity_html(rep))
    return _page(f"Class report: {r.assignment}", "".join(parts))


def render_overview(reports: list[AssignmentReport], missing_source: bool = False) -> str:
    parts = ["<h1>Class report: the course</h1>"]
    if missing_source:
        parts.append("<p><b>The course has no assignments in source/.</b></p>")
    graded = [rep for rep in reports if rep.results.students]
    if reports and not graded:
        parts.append("<p><b>Nothing graded yet.</b> Collect and grade first.</p>")
    rows = []
    for rep in reports:
        r = rep.results
        if not r.students:
            rows.append(
                f"<tr><td><a href='{e(r.assignment)}/index.html'>{e(r.assignment)}</a></td>"
                "<td class='num'>0</td><td colspan='4' class='muted'>nothing graded</td></tr>"
            )
            continue
        mean = sum(r.total(s) for s in r.students) / len(r.students)
        top = top_mistakes(rep, 1)
        rows.append(
            f"<tr><td><a href='{e(r.assignment)}/index.html'>{e(r.assignment)}</a></td>"
            f"<td class='num'>{len(r.students)}</td>"
            f"<td class='num'>{_pct(mean / r.max_total if r.max_total else None)}</td>"
            f"<td>{e(top[0].outcome) + f' ({top[0].count})' if top else ''}</td>"
            f"<td class='num'>{len(rep.similar.pairs) if rep.similar else 0}</td></tr>"
        )
    parts.append(
        "<table id='assignments'><tr><th>assignment</th><th>students graded</th>"
        "<th>mean score</th><th>most frequent mistake (students)</th><th>similar pairs</th>"
        f"</tr>{''.join(rows)}</table>"
    )
    if graded:
        parts.append(overview_plot([rep.results for rep in graded]))
        n = {rep.assignment: len(rep.results.students) for rep in graded}
        lost = sorted(
            (lp for rep in graded for lp in insight.lost_points(rep.results) if lp.lost),
            key=lambda lp: -lp.lost / n[lp.assignment],  # per student: classes differ in size
        )[:15]
        lost_rows = "".join(
            f"<tr><td>{e(lp.assignment)}</td>"
            f"<td><a href='{e(lp.assignment)}/index.html#ex-{e(lp.exercise)}'>"
            f"{e(lp.exercise)}</a></td><td class='num'>{lp.lost / n[lp.assignment]:.2f}</td>"
            f"<td>{e(lp.top_mistake[0]) + f' ({lp.top_mistake[1]})' if lp.top_mistake else ''}"
            "</td></tr>"
            for lp in lost
        )
        parts.append(
            "<h2>The exercises where most points are lost</h2><table class='lost'><tr>"
            "<th>assignment</th><th>exercise</th><th>points lost per student</th>"
            f"<th>most frequent mistake (students)</th></tr>{lost_rows}</table>"
        )
    return _page("Class report: the course", "".join(parts))


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_assignment(course: Course, rep: AssignmentReport) -> Path:
    """Write reports/<assignment>/: index.html, outcomes.csv, items.csv, report.json."""
    folder = course.reports / rep.assignment
    r = rep.results
    outcome_rows = [["grade_id", "exercise", "outcome", "kind", "count", "share", "students"]]
    for g in r.items:
        for row in insight.outcome_rows(r, g):
            outcome_rows.append(
                [g, r.exercise_of(g), row.outcome, row.kind, row.count, f"{row.share:.4f}",
                 " ".join(row.students)]
            )  # fmt: skip
    item_rows = [["grade_id", "exercise", "points", "mean", "difficulty", "discrimination"]]
    for s in insight.item_stats(r):
        item_rows.append(
            [s.grade_id, r.exercise_of(s.grade_id), f"{s.max_score:g}", f"{s.mean:.4f}",
             "" if s.difficulty is None else f"{s.difficulty:.4f}",
             "" if s.discrimination is None else f"{s.discrimination:.4f}"]
        )  # fmt: skip
    _write(folder / "outcomes.csv", _csv(outcome_rows))
    _write(folder / "items.csv", _csv(item_rows))
    _write(folder / "report.json", json.dumps(to_json(rep), indent=1, sort_keys=True) + "\n")
    _write(folder / "index.html", render_assignment(rep))
    return folder / "index.html"


def write_reports(
    course: Course,
    assignments: list[str] | None = None,
    *,
    threshold: float = similarity.THRESHOLD,
) -> tuple[Path, list[AssignmentReport]]:
    """Write the report of each assignment (default: every one of source/ and of the
    ledger) and the course overview over all of them. Returns (the overview's path, the
    reports)."""
    known = sorted(set(course.assignments()) | {a for _, a in ledger.latest(course)})
    names = assignments or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; the course has {known}")
    reports = []
    for name in known:
        rep = build(course, name, threshold=threshold)
        if name in names:
            write_assignment(course, rep)
        reports.append(rep)
    overview = course.reports / "index.html"
    _write(overview, render_overview(reports, missing_source=not known))
    lost = [["assignment", "exercise", "points_lost", "share_of_assignment_loss", "top_mistake"]]
    for rep in reports:
        for lp in insight.lost_points(rep.results):
            top = lp.top_mistake[0] if lp.top_mistake else ""
            lost.append(
                [lp.assignment, lp.exercise, f"{lp.lost:g}", f"{lp.share_of_loss:.4f}", top]
            )
    _write(course.reports / "overview.csv", _csv(lost))
    return overview, reports


def summary_lines(reports: list[AssignmentReport], course: Course) -> list[str]:
    """What the command prints: one line per assignment, then its top mistakes."""
    lines = []
    for rep in reports:
        r = rep.results
        left_out = sum(len(v) for k, v in r.missing.items() if k != "no hand-in")
        extra = f", {left_out} not in the numbers (see the page)" if left_out else ""
        path = course.reports / r.assignment / "index.html"
        if not r.students:
            lines.append(f"{r.assignment}: nothing graded yet{extra}")
            continue
        pairs = len(rep.similar.pairs) if rep.similar else 0
        lines.append(
            f"{r.assignment}: {len(r.students)} students{extra}, {pairs} similar pair(s): {path}"
        )
        for row in top_mistakes(rep):
            lines.append(
                f"  {row.count} of {len(r.students)} ({row.share:.0%}) {row.outcome} in "
                f"{r.exercise_of(row.grade_id)} ({row.grade_id})"
            )
    return lines
