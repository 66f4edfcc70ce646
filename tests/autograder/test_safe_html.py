"""autograder.judging.safe_html: the autograded notebook formgrader renders runs none of the
student's HTML or JavaScript, and grading is unchanged (docs/grading-sandbox.md)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder import demo
from autograder.judging import safe_html
from autograder.layout import Course
from autograder.records import grading
from autograder.records.grading import GRADING_LIMITS

SCRIPT = "<script>window.__pwned = 1; document.title = 'pwned'</script>"
IMG = '<img src="x" onerror="window.__pwned = 2">'
HOSTILE_MARKDOWN = f"My answer, in words. {SCRIPT} {IMG} <b>bold</b>"
HOSTILE_CODE = (
    "from IPython.display import HTML, SVG, Javascript, display\n"
    f"display(HTML({SCRIPT + IMG!r} + 'html-output-text'))\n"
    "display(Javascript('window.__pwned = 3'))\n"
    'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned = 4'
    "</script></svg>'))\n"
)


def _notebook():
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"{SCRIPT} printed\n"),
        nbformat.v4.new_output("error", ename="CheckFailed", evalue=SCRIPT, traceback=["tb"]),
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": SCRIPT + "<table><tr><td>1</td></tr></table>", "text/plain": "t"},
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"application/javascript": "window.__pwned = 3", "text/plain": "<JS>"},
        ),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": f"<svg>{SCRIPT}</svg>"}),
        nbformat.v4.new_output("execute_result", data={"text/markdown": SCRIPT}, execution_count=1),
    ]
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("<b>The instructor's</b> <img src='fig.png'>"),
            nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN),
            nbformat.v4.new_markdown_cell("> a quote, a * b, no tags"),
            nbformat.v4.new_raw_cell(SCRIPT),
            code,
        ]
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def test_outputs_are_cleaned_and_scored_outputs_kept():
    nb = _notebook()
    trusted = nb.cells[0].source
    assert safe_html.neutralise(nb, [trusted]) > 0
    outs = nb.cells[4].outputs
    # Stream and error outputs (what nbgrader scores, the judge's verdicts): untouched.
    assert outs[0].text == f"{SCRIPT} printed\n"
    assert outs[1].evalue == SCRIPT and outs[1].ename == "CheckFailed"
    # HTML escaped (readable as text), tables kept; JavaScript and SVG dropped.
    html = outs[2].data["text/html"]
    assert "<script" not in html and "&lt;script&gt;window.__pwned" in html
    assert (
        "<table><tbody><tr><td>1</td></tr></tbody></table>" in html
        and outs[2].data["text/plain"] == "t"
    )
    assert dict(outs[3].data) == {"text/plain": "<JS>"}
    assert dict(outs[4].data) == {}
    assert "<script" not in outs[5].data["text/markdown"]
    assert "widgets" not in nb.metadata


def test_student_markdown_is_escaped_the_instructors_is_kept():
    nb = _notebook()
    safe_html.neutralise(nb, [nb.cells[0].source])
    instructor, student, plain, raw = (c.source for c in nb.cells[:4])
    assert instructor == "<b>The instructor's</b> <img src='fig.png'>"
    assert "<script" not in student and "&lt;script&gt;" in student
    assert "<img" not in student and "My answer, in words." in student
    assert "<b>bold</b>" in student  # harmless tags stay
    assert plain == "> a quote, a * b, no tags"  # no `<`: formatting kept
    assert "<script" not in raw


def test_is_idempotent():
    nb = _notebook()
    safe_html.neutralise(nb, [nb.cells[0].source])
    once = nbformat.writes(nb)
    assert safe_html.neutralise(nb, [nb.cells[0].source]) == 0
    assert nbformat.writes(nb) == once


# ---------------------------------------------------------------------------------------
# Through the pipeline, and as formgrader renders it
# ---------------------------------------------------------------------------------------


def hostile_submission(course: Course) -> bytes:
    """The tiny reference answers, with a script in an added markdown cell and in the HTML,
    JavaScript and SVG outputs of the add exercise."""
    nb = nbformat.reads(demo.tiny_submission(course).decode(), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.get("id") == "add-impl":
            cell.source = HOSTILE_CODE + cell.source
            nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN))
            break
    return (nbformat.writes(nb) + "\n").encode()


def formgrade_html(path: Path) -> str:
    """What formgrader's SubmissionHandler serves for this autograded notebook."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": "tiny",
        "notebook_id": "tiny",
        "submission_id": "x",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "s",
        "last_name": None,
        "first_name": None,
        "notebook_path": "autograded/s/tiny/tiny.ipynb",
    }
    html, _ = HTMLExporter(config=config).from_filename(str(path), resources=resources)
    return html


@pytest.mark.sandbox
def test_a_hostile_submission_grades_the_same_and_renders_inert(tmp_path):
    course = demo.tiny_course(tmp_path / "course")
    demo.submit(course, "honest", "tiny", {"tiny.ipynb": demo.tiny_submission(course)})
    demo.submit(course, "hostile", "tiny", {"tiny.ipynb": hostile_submission(course)})
    report = grading.grade(course, limits=GRADING_LIMITS, progress=False, on_tamper="flag")
    scores = {o.student: o.score for o in report.outcomes}
    assert scores == {"honest": 5, "hostile": 5}, report.outcomes

    path = course.autograded / "hostile" / "tiny" / "tiny.ipynb"
    nb = nbformat.read(path, as_version=4)
    text = nbformat.writes(nb)
    assert "application/javascript" not in text and "image/svg+xml" not in text
    html = formgrade_html(path)
    # The payloads appear only escaped (in the highlighted code, and as text).
    for payload in ("<script>window.__pwned", '<img src="x" onerror', "<svg xmlns"):
        assert payload not in html, payload
    # Still there for the instructor to read, as text.
    assert "My answer, in words." in html and "&lt;script&gt;window.__pwned" in html
    assert "html-output-text" in html
