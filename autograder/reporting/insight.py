"""What the class got wrong: the numbers behind the class report (autograder.report).

Reads only the trusted records: the grading ledger's per-cell outcomes (the mistake key
the judge's verdict named, "generic" or "passed": autograder.records.score.cell_records) and the
gradebook's per-cell scores; never feedback or anything a kernel printed. docs/
class-report.md defines every number; in short, for one assignment:

    difficulty        mean score of an item (graded cell) / its points: 1.0 = everyone
                      got it, 0.0 = nobody did (classical test theory's p-value)
    discrimination    Pearson correlation of the item's score with the rest of the
                      assignment (total minus the item) over the students: high when the
                      students who do well elsewhere get this item right; None when either
                      side does not vary or fewer than 3 students were graded
    share             students with that outcome / students graded

Outcomes fall into four kinds: passed; a named mistake; "generic" (the check failed and
named nothing, or only hidden inputs failed: the diagnosis's blind spots); and not
attempted (the released stubs unchanged, an unanswered quiz, a cell that never ran, a
notebook not handed in).
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from autograder.judging import judge, syllabus
from autograder.layout import Course
from autograder.records import ledger
from autograder.records.gradebook import open_gradebook
from autograder.records.states import submission_states
from course.checks import Mistake

PASSED, NAMED, GENERIC, NOT_ATTEMPTED = "passed", "named", "generic", "not attempted"
KINDS = (PASSED, NAMED, GENERIC, NOT_ATTEMPTED)
#: Outcomes that are no diagnosis: the check failed with its exercise's generic pointer,
#: or the visible cases passed and hidden inputs failed.
GENERIC_KEYS = frozenset({"generic", "hidden_cases"})
#: Outcomes of work that is not there: the stub, no answer, a cell that never ran.
NOT_ATTEMPTED_KEYS = frozenset(
    {
        "not_attempted",
        "not_implemented",
        "not_answered",
        "no_report",
        "missing",
        "not_run",
        "not_submitted",
    }
)
#: Words for the keys the judge and score set themselves (the checks' keys say theirs).
JUDGE_WORDS = {
    "generic": "the check failed and named no mistake",
    "hidden_cases": "passed the visible cases, failed the same computation on hidden inputs",
    "raised": "the function raised an error",
    "returned_none": "the function returned None",
    "python_loop": "a Python loop where the exercise asks for none",
    "not_implemented": "not attempted (the stub still raises NotImplementedError)",
    "not_answered": "the quiz answer is not defined",
    "no_report": "the cell never ran (the notebook stopped before it)",
    "missing": "the cell is missing from the notebook",
    "not_run": "the training cell was not run",
    "not_submitted": "the notebook was not handed in or could not be read",
    "not_attempted": "not attempted (the exercise cells are the released stubs)",
    "unusable_parameters": "the trained parameters could not be evaluated",
    "unusable_results": "the results could not be compared",
}
#: course.checks modules whose catalogues (tuples of Mistake) describe mistake keys.
CHECK_MODULES = ("conv", "padding", "channels", "pooling", "backprop", "lenet", "gpu", "_core")


def kind(outcome: str) -> str:
    """Which of KINDS an outcome is."""
    if outcome == "passed":
        return PASSED
    if outcome in GENERIC_KEYS:
        return GENERIC
    if outcome in NOT_ATTEMPTED_KEYS:
        return NOT_ATTEMPTED
    return NAMED


def checks_topic(course: Course, assignment: str) -> str | None:
    """The `course.checks.<topic>` module an assignment's notebooks import as `checks`."""
    for name in course.notebooks(assignment):
        source = judge.source_notebook(course.root, assignment, name)
        try:
            return judge.checks_module(source).__name__.rsplit(".", 1)[1]
        except judge.PlanError:
            continue
    return None


def mistake_words(topic: str | None = None) -> dict[str, str]:
    """mistake key -> what the student probably did ("you flipped the kernel ..."), from
    the checks' catalogues, then JUDGE_WORDS. Catalogues of several exercises may word
    one key differently: the first wording in `topic`'s module (the assignment's own
    checks, in definition order) is taken, else the first of any module. A key derived
    by the checks at grading time (course.checks._mutate) has no entry; it is shown as it
    is."""
    words: dict[str, str] = {}
    names = [topic] if topic in CHECK_MODULES else []
    for name in names + [m for m in CHECK_MODULES if m != topic]:
        module = importlib.import_module(f"course.checks.{name}")
        for value in vars(module).values():
            groups = value.values() if isinstance(value, dict) else [value]
            for group in groups:
                if isinstance(group, tuple) and group and isinstance(group[0], Mistake):
                    for m in group:
                        words.setdefault(m.key, m.says)
    return {**words, **JUDGE_WORDS}


# ---------------------------------------------------------------------------------------
# One assignment's results
# ---------------------------------------------------------------------------------------


@dataclass
class ClassResults:
    """Every graded student's outcome and score on every graded cell of one assignment.

    Attributes:
        assignment: its name.
        items: grade_ids in notebook order.
        exercises: grade_id -> where it sits (autograder.judging.syllabus); may lack a cell whose
            source is gone (then the ledger's exercise number is all there is).
        max_scores: grade_id -> points.
        students: the students whose graded submission has per-cell records, sorted.
        outcomes: (student, grade_id) -> outcome ("passed", a mistake key, "generic", ...).
        scores: (student, grade_id) -> points earned.
        missing: what the numbers leave out: "pending", "stale", "failed" (collected and
            not graded as it is now) and "undiagnosed" (graded before the ledger kept
            per-cell outcomes) -> students; "no hand-in": known students without one.
        exercise_numbers: grade_id -> the exercise number the ledger recorded (used where
            the source notebook is gone).
    """

    assignment: str
    items: list[str] = field(default_factory=list)
    exercises: dict[str, syllabus.Exercise] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    students: list[str] = field(default_factory=list)
    outcomes: dict[tuple[str, str], str] = field(default_factory=dict)
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    exercise_numbers: dict[str, str] = field(default_factory=dict)

    def add(self, student: str, cells: dict[str, dict]) -> None:
        """Add one student's per-cell records (the ledger's `cells`)."""
        self.students = sorted({*self.students, student})
        for gid, rec in cells.items():
            if gid not in self.max_scores:
                self.items.append(gid)
            self.max_scores[gid] = float(rec.get("max_score") or 0.0)
            self.exercise_numbers.setdefault(gid, str(rec.get("exercise") or ""))
            self.outcomes[(student, gid)] = str(rec.get("outcome") or "generic")
            self.scores[(student, gid)] = float(rec.get("score") or 0.0)

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())

    def total(self, student: str, items: list[str] | None = None) -> float:
        return sum(self.scores.get((student, g), 0.0) for g in items or self.items)

    def exercise_of(self, gid: str) -> str:
        """The exercise's number ("1.2"), or the grade_id for a cell under none."""
        ex = self.exercises.get(gid)
        return (ex.number if ex else self.exercise_numbers.get(gid, "")) or gid


def load_class(course: Course, assignment: str) -> ClassResults:
    """The assignment's results from the ledger (outcomes) and the gradebook (scores, so
    that a grade changed by hand in formgrader counts)."""
    results = ClassResults(assignment)
    if (course.source / assignment).is_dir():
        results.exercises = syllabus.course_exercises(course, assignment)
        results.items = list(results.exercises)
        results.max_scores = {g: e.points for g, e in results.exercises.items()}
    records = ledger.latest(course)
    for state in submission_states(course, include_missing=True):
        if state.assignment != assignment:
            continue
        if state.state == "missing":
            results.missing.setdefault("no hand-in", []).append(state.student)
            continue
        rec = records.get((state.student, assignment)) or {}
        if state.state != "graded":
            results.missing.setdefault(state.state, []).append(state.student)
        elif not isinstance(rec.get("cells"), dict) or not rec["cells"]:
            results.missing.setdefault("undiagnosed", []).append(state.student)
        else:
            results.add(state.student, rec["cells"])
    for (student, gid), points in gradebook_cell_scores(course, assignment).items():
        if (student, gid) in results.scores:
            results.scores[(student, gid)] = points
    return results


def gradebook_cell_scores(course: Course, assignment: str) -> dict[tuple[str, str], float]:
    """(student, grade_id) -> the gradebook's score of that cell (manual score first)."""
    scores: dict[tuple[str, str], float] = {}
    with open_gradebook(course) as gb:
        if gb is None:
            return scores
        for a in gb.assignments:
            if a.name != assignment:
                continue
            for sub in a.submissions:
                for nb in sub.notebooks:
                    for g in nb.grades:
                        if g.score is not None:
                            scores[(sub.student_id, g.name)] = float(g.score)
    return scores


# ---------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome of one graded cell: how many students had it, and who."""

    grade_id: str
    outcome: str
    kind: str
    count: int
    share: float
    students: tuple[str, ...]


def outcome_rows(results: ClassResults, gid: str) -> list[OutcomeRow]:
    """Every outcome of one cell, most frequent first (ties by key), passed included."""
    by: dict[str, list[str]] = {}
    for s in results.students:
        by.setdefault(results.outcomes.get((s, gid), "not_submitted"), []).append(s)
    n = len(results.students)
    rows = [
        OutcomeRow(gid, key, kind(key), len(who), len(who) / n if n else 0.0, tuple(who))
        for key, who in by.items()
    ]
    return sorted(rows, key=lambda r: (-r.count, r.outcome))


def share_of_kind(results: ClassResults, gids: list[str], which: str) -> float:
    """Share of the class with at least one cell of `gids` whose outcome is of `which`."""
    if not results.students:
        return 0.0
    hit = [
        s
        for s in results.students
        if any(kind(results.outcomes.get((s, g), "not_submitted")) == which for g in gids)
    ]
    return len(hit) / len(results.students)


def exercise_groups(results: ClassResults) -> dict[str, list[str]]:
    """exercise number -> its grade_ids, in notebook order."""
    groups: dict[str, list[str]] = {}
    for gid in results.items:
        groups.setdefault(results.exercise_of(gid), []).append(gid)
    return groups


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r; None when either side does not vary or there are fewer than 3 pairs."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


@dataclass(frozen=True)
class ItemStats:
    """Classical test theory for one graded cell."""

    grade_id: str
    max_score: float
    mean: float  # points
    difficulty: float | None  # mean / max_score (None for a cell worth 0 points)
    discrimination: float | None  # r(item, rest of the assignment)


def item_stats(results: ClassResults) -> list[ItemStats]:
    """Difficulty and discrimination of every graded cell, in notebook order."""
    out = []
    for gid in results.items:
        item = [results.scores.get((s, gid), 0.0) for s in results.students]
        rest = [results.total(s) - x for s, x in zip(results.students, item, strict=True)]
        top = results.max_scores.get(gid, 0.0)
        mean = sum(item) / len(item) if item else 0.0
        difficulty = mean / top if top and item else None
        out.append(ItemStats(gid, top, mean, difficulty, pearson(item, rest)))
    return out


@dataclass(frozen=True)
class Together:
    """Two mistakes that students made together."""

    first: tuple[str, str]  # (grade_id, mistake key)
    second: tuple[str, str]
    count: int
    students: tuple[str, ...]


def together(results: ClassResults, *, at_least: int = 2) -> list[Together]:
    """Pairs of named or generic mistakes (of different cells) that `at_least` students
    made both of, most shared first."""
    made: dict[tuple[str, str], set[str]] = {}
    for (s, gid), key in results.outcomes.items():
        if kind(key) in (NAMED, GENERIC):
            made.setdefault((gid, key), set()).add(s)
    order = {g: i for i, g in enumerate(results.items)}
    keys = sorted(made, key=lambda k: (order.get(k[0], len(order)), k[1]))
    pairs = []
    for a, b in combinations(keys, 2):
        if a[0] == b[0]:
            continue
        both = made[a] & made[b]
        if len(both) >= at_least:
            pairs.append(Together(a, b, len(both), tuple(sorted(both))))
    return sorted(pairs, key=lambda p: -p.count)


def histogram(values: list[float], top: float, bins: int = 10) -> list[int]:
    """Counts of `values` in `bins` equal bins over [0, top] (the last bin holds `top`)."""
    counts = [0] * bins
    for v in values:
        i = int(v / top * bins) if top > 0 else 0
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


# ---------------------------------------------------------------------------------------
# Across assignments
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LostPoints:
    """Where the class lost points on one exercise."""

    assignment: str
    exercise: str
    grade_ids: tuple[str, ...]
    lost: float  # points lost by the class on this exercise
    share_of_loss: float  # of all points the class lost on the assignment
    by_kind: dict  # kind -> points lost with an outcome of that kind
    top_mistake: tuple[str, int] | None  # (key, students) of its most frequent mistake


def lost_points(results: ClassResults) -> list[LostPoints]:
    """Per exercise: the points the class lost and why, most lost first."""
    total_lost = sum(
        results.max_scores[g] - results.scores.get((s, g), 0.0)
        for s in results.students
        for g in results.items
    )
    out = []
    for exercise, gids in exercise_groups(results).items():
        by_kind: Counter = Counter()
        students: dict[str, set[str]] = {}  # mistake -> the students who made it
        for s in results.students:
            for g in gids:
                key = results.outcomes.get((s, g), "not_submitted")
                by_kind[kind(key)] += results.max_scores[g] - results.scores.get((s, g), 0.0)
                if kind(key) in (NAMED, GENERIC):
                    students.setdefault(key, set()).add(s)
        lost = sum(by_kind.values())
        # A student who makes one mistake in two cells of an exercise counts once.
        counts = {key: len(who) for key, who in students.items()}
        top = min(counts.items(), key=lambda kv: (-kv[1], kv[0])) if counts else None
        share = lost / total_lost if total_lost else 0.0
        out.append(
            LostPoints(results.assignment, exercise, tuple(gids), lost, share, dict(by_kind), top)
        )
    return sorted(out, key=lambda x: (-x.lost, x.exercise))
