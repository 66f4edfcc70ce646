"""Hand-ins that look alike, over the solution regions only: flagged for a person to read,
never a penalty.

Each student's document is the source of their solution cells (the cells nbgrader marks
`solution`) in the autograded notebook, in notebook order. Fingerprints come from
copydetect (winnowing over k-grams of the tokenised code: names become V and F, strings S,
comments and white space go), so a renamed variable or a reformatted line still matches.
Two kinds of code never count, so that not everyone is similar to everyone:

- the template: every code cell of the released notebooks (signatures, docstrings, stubs,
  given code);
- the published reference solution (the source notebooks' solution regions, which
  self-learners may read in solutions/): pairs are found in what is left; how much of a
  student's own code matches the reference is reported separately.

docs/class-report.md says what this finds and what it does not (statements rewritten,
not merely reordered or renamed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import combinations

import nbformat
import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from autograder.judging.judge import SOLUTION_MARK
from autograder.layout import Course

#: copydetect's defaults: matches shorter than NOISE characters of tokenised code are
#: ignored; any match of GUARANTEE characters or more is found.
NOISE, GUARANTEE = 25, 30
#: A pair is flagged when this share of either student's own code matches the other's...
THRESHOLD = 0.5
#: ... and the matching code is at least this many characters of tokenised code (names are
#: one letter there: about eight lines). A short answer cannot tell copying from the one
#: sensible way to write it.
MIN_OVERLAP = 4 * NOISE
#: Lines of context kept around each matching run in the side-by-side view.
CONTEXT_LINES = 2
MARK_OPEN, MARK_CLOSE = '<mark class="same">', "</mark>"


@dataclass(frozen=True)
class Pair:
    """Two students whose solution code matches beyond the template and the reference.

    Attributes:
        first, second: the students (sorted).
        similarity: for each, the share of their own code that matches the other's.
        overlap: matching tokenised characters (in the first student's code).
        first_html, second_html: each one's code, HTML-escaped, with the matching parts
            in <mark class="same"> and long stretches between matches cut to "...".
    """

    first: str
    second: str
    similarity: tuple[float, float]
    overlap: int
    first_html: str
    second_html: str


def _fingerprint(code: str, boilerplate: np.ndarray, window: int = GUARANTEE - NOISE + 1):
    return CodeFingerprint(
        "solution.py", NOISE, window, boilerplate=boilerplate, fp=io.StringIO(code)
    )


def _hashes(code: str) -> np.ndarray:
    """Every k-gram fingerprint of `code` (window 1: nothing winnowed away)."""
    if not code.strip():
        return np.array([], dtype=np.int64)
    return np.array(sorted(_fingerprint(code, np.array([]), window=1).hashes))


def _code_cells(nb, *, solution: bool) -> list[str]:
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader") or {}
        if cell.cell_type == "code" and bool(meta.get("solution")) == solution:
            out.append(cell.source)
    return out


def _read(path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # a missing or unreadable notebook: no document
        return None


def solution_code(nb) -> str:
    """The solution cells of a notebook, in order, one blank line apart."""
    return "\n\n".join(_code_cells(nb, solution=True)) + "\n"


def template(course: Course, assignment: str) -> str:
    """Every code cell of the released notebooks (stubs, signatures, given code), then
    their solution cells joined as a student's document joins them (so that where two
    untouched stubs meet is template too)."""
    parts = []
    for name in course.notebooks(assignment):
        nb = _read(course.release / assignment / f"{name}.ipynb")
        if nb is not None:
            parts += [c.source for c in nb.cells if c.cell_type == "code"]
            parts.append(solution_code(nb))
    return "\n\n".join(parts)


def reference(course: Course, assignment: str) -> str:
    """The source notebooks' solution cells without their BEGIN/END SOLUTION lines."""
    parts = []
    for name in course.notebooks(assignment):
        nb = _read(course.source / assignment / f"{name}.ipynb")
        if nb is not None:
            parts += [SOLUTION_MARK.sub("", s) for s in _code_cells(nb, solution=True)]
    return "\n\n".join(parts)


def documents(course: Course, assignment: str, students: list[str]) -> dict[str, str]:
    """student -> their solution code (the autograded notebooks'); students without a
    readable notebook are left out."""
    docs = {}
    for student in students:
        parts = []
        for name in course.notebooks(assignment):
            nb = _read(course.autograded / student / assignment / f"{name}.ipynb")
            if nb is not None:
                parts.append(solution_code(nb))
        if parts:
            docs[student] = "\n".join(parts)
    return docs


def _view(code: str, slices) -> str:
    marked, _ = highlight_overlap(
        code, slices, MARK_OPEN, MARK_CLOSE, truncate=CONTEXT_LINES, escape_html=True
    )
    return marked


@dataclass
class Similarity:
    """What the comparison found for one assignment."""

    pairs: list[Pair]  # flagged pairs, most similar first
    reference: dict[str, float]  # student -> share of their own code that is the reference's
    compared: int  # students with code of their own beyond the template


def compare(
    docs: dict[str, str],
    template_code: str,
    reference_code: str = "",
    *,
    threshold: float = THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
) -> Similarity:
    """Compare every pair of documents beyond the template and the reference.

    Args:
        docs: student -> solution code.
        template_code: code nobody is credited or blamed for (the released cells).
        reference_code: the published answer: excluded from pairs, reported per student.
        threshold: flag a pair when either one's similarity reaches it.
        min_overlap: ... and they share at least this many tokenised characters.
    """
    given = _hashes(template_code)
    both = np.union1d(given, _hashes(reference_code))
    prints = {s: _fingerprint(code, both) for s, code in sorted(docs.items())}
    own = {s: fp for s, fp in prints.items() if fp.hashes}
    pairs = []
    for a, b in combinations(sorted(own), 2):
        overlap, sims, slices = compare_files(own[a], own[b])
        if overlap < min_overlap or max(sims) < threshold:
            continue
        pairs.append(
            Pair(
                a,
                b,
                (float(sims[0]), float(sims[1])),
                int(overlap),
                _view(own[a].raw_code, slices[0]),
                _view(own[b].raw_code, slices[1]),
            )
        )
    matches: dict[str, float] = {}
    if reference_code.strip():
        ref = _fingerprint(reference_code, given)
        for s, code in sorted(docs.items()):
            mine = _fingerprint(code, given)
            if mine.hashes and ref.hashes:
                matches[s] = float(compare_files(mine, ref)[1][0])
    pairs.sort(key=lambda p: (-max(p.similarity), p.first, p.second))
    return Similarity(pairs, matches, len(own))


def assignment_similarity(
    course: Course, assignment: str, students: list[str], **kwargs
) -> Similarity:
    """compare() on the students' autograded solution cells of one assignment."""
    return compare(
        documents(course, assignment, students),
        template(course, assignment),
        reference(course, assignment),
        **kwargs,
    )
