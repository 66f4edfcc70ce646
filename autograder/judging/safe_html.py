"""Make the autograded notebook inert where formgrader renders it.

nbgrader's formgrader renders autograded/<student>/<assignment>/<notebook>.ipynb with
nbconvert's HTMLExporter and its own `formgrade` template, on the instructor's Jupyter
origin. That exporter does not sanitise: a student's `<script>` in a markdown cell, or in
an HTML, JavaScript, SVG or widget output, runs in the instructor's logged-in session when
the submission is opened. `HTMLExporter.sanitize_html` is no fix: the formgrade template
renders markdown cells itself, without the `clean_html` step that setting adds, and the
setting is read from the Jupyter server's configuration, not the course's.

So the pipeline neutralises the notebook it writes (`neutralise`, called by
autograder.records.score right before the autograded copy is written), with nbconvert's own
`SanitizeHTML` preprocessor (bleach):

- every code cell's rich outputs: `text/html` and `text/markdown` are cleaned (unsafe tags
  are escaped, so they show as text), `application/javascript`, `image/svg+xml`, widget
  views and any other MIME type that is not plain text, LaTeX, JSON or a PNG/JPEG image are
  dropped. Stream and error outputs (what nbgrader scores and the judge's verdicts) are
  never touched, nor is `text/plain`.
- markdown and raw cells the student wrote (any whose source is not, verbatim, a cell of
  the instructor's source notebook) when they contain `<`: their raw HTML is escaped, so
  the instructor reads it as text. Without `<`, markdown cannot produce a tag, so the rest
  keep their formatting (bleach would also escape a blockquote's `>`).
- the notebook's widget state (`metadata.widgets`), which the template would load and
  render with the widget manager.

Scores are untouched: this runs after nbgrader's SaveAutoGrades and the judge, and a cell's
error/ok state lives in its stream and error outputs. Our own feedback page escapes
everything it shows (autograder.feedback) and reads only text/plain, stream and error.
"""

from __future__ import annotations

from collections.abc import Iterable

import bleach
from nbconvert.preprocessors.sanitize import SanitizeHTML

from autograder.judging.course_files import course_notebook

#: Tags the cleaned HTML outputs may keep besides bleach's defaults (tables, as pandas
#: writes them, and plain structure). None of them can run script; bleach drops their
#: attributes except those in bleach's ALLOWED_ATTRIBUTES (a href/title, abbr/acronym
#: title), and it drops javascript: and other non-http(s)/mailto hrefs.
EXTRA_TAGS = frozenset(
    {
        "p", "br", "hr", "div", "span", "pre", "sub", "sup", "h1", "h2", "h3", "h4", "h5",
        "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "dl", "dt", "dd",
    }
)  # fmt: skip


def _sanitizer() -> SanitizeHTML:
    return SanitizeHTML(tags=sorted(set(bleach.ALLOWED_TAGS) | EXTRA_TAGS))


def neutralise(nb, trusted_sources: Iterable[str] = ()) -> int:
    """Neutralise student-controlled HTML and JavaScript in `nb`, in place.

    `trusted_sources`: the sources of the instructor's markdown and raw cells (the source
    notebook's); a cell whose source is one of them is left as it is. Returns how many
    cells were changed."""
    trusted = set(trusted_sources)
    sanitizer = _sanitizer()
    changed = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            before = [dict(o.get("data", {})) for o in cell.get("outputs", [])]
            sanitizer.sanitize_code_outputs(cell.get("outputs", []))
            after = [dict(o.get("data", {})) for o in cell.get("outputs", [])]
            changed += before != after
        elif cell.cell_type in ("markdown", "raw"):
            if cell.source in trusted or "<" not in cell.source:
                continue
            cleaned = sanitizer.sanitize_html_tags(cell.source)
            if cleaned != cell.source:
                cell.source = cleaned
                changed += 1
        # Attachments are images a markdown cell shows: only PNG and JPEG stay.
        if cell.cell_type == "markdown" and "attachments" in cell:
            for name, bundle in list(cell.attachments.items()):
                safe = {k: v for k, v in bundle.items() if k in ("image/png", "image/jpeg")}
                if safe != bundle:
                    cell.attachments[name] = safe
                    changed += 1
    if "widgets" in nb.metadata:
        del nb.metadata["widgets"]
        changed += 1
    return changed


def trusted_sources(course, assignment: str, notebook: str) -> set[str]:
    """The markdown and raw cell sources of the instructor's notebook, as in source/ and
    as released (what nbgrader's OverwriteCells puts back into locked cells)."""
    sources: set[str] = set()
    for folder in (course.source, course.release):
        path = folder / assignment / f"{notebook}.ipynb"
        if path.is_file():
            nb = course_notebook(path)
            sources.update(c.source for c in nb.cells if c.cell_type in ("markdown", "raw"))
    return sources
