"""The course in JupyterLab, driven in Debian's Chromium, as a student and an instructor.

The student: `make lab` on a copy of the course; open 01_convolution; paste the answers,
type a wrong `corr2d` (a flipped kernel) into its editor, run all, and read the check's
rendered output: the diagnosis, no frame of the checker. Then fix corr2d, run all, click
Validate: success. The instructor: `make instructor` on the same copy; formgrader opens the
first time, lists the seven assignments, and its links open. And a graded hostile hand-in
(a `<script>` in a markdown cell and in HTML, JavaScript and SVG outputs) opens in
formgrader with none of it run, and its text still readable (autograder.judging.safe_html). The
instructor's class report (autograder.report) opens from its file with no console error.

Needs /usr/bin/chromium and the `playwright` package (never `playwright install`: it
downloads a browser). `.ci/run` installs both; elsewhere the test skips with the reason.
On failure a screenshot is saved and its path is in the message.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from autograder import demo
from autograder.layout import Course
from autograder.records import gradebook, grading
from autograder.records.grading import GRADING_LIMITS
from autograder.reporting import classreport

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "course-browser-test"
ASSIGNMENT = "01_convolution"
WRONG_CORR2D = """def corr2d(X, K):
    \"\"\"My corr2d (it flips the kernel).\"\"\"
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)[::-1, ::-1]
    KH, KW = K.shape
    Y = np.zeros((X.shape[0] - KH + 1, X.shape[1] - KW + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + KH, j:j + KW] * K).sum()
    return Y
"""

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    """A fresh course root: what a clone holds, without any gradebook or runtime state."""
    root = tmp_path_factory.mktemp("course")
    _course_files(root)
    for name in ("source", "release"):
        shutil.copytree(ROOT / name, root / name)
    return root


def _course_files(root: Path) -> None:
    """What `make lab` and `make instructor` need in a course root, from this clone."""
    for name in ("Makefile", "pyproject.toml", "constraints.txt", "nbgrader_config.py"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / ".jupyter", root / ".jupyter")


@contextmanager
def jupyterlab(root: Path, target: str, log: Path) -> Iterator[str]:
    """Run `make TARGET` (lab or instructor) in `root` on 127.0.0.1; yield its URL."""
    port = _free_port()
    args = (
        f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={TOKEN} "
        "--LabApp.expose_app_in_browser=True"
    )
    env = {**os.environ, "CNN_COURSE_QUICK": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "-s", "-C", str(root), target, f"VENV={VENV}", f"LAB_ARGS={args}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"JupyterLab did not start:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextmanager
def screenshot_on_failure(page, path: Path):
    try:
        yield
    except BaseException as exc:
        page.screenshot(path=str(path), full_page=True)
        raise AssertionError(f"{exc}\n(screenshot: {path})") from exc


# JavaScript run in the page; `window.jupyterapp` is there because of
# --LabApp.expose_app_in_browser (test only).
PANEL = "window.jupyterapp.shell.currentWidget"
CELL_INDEX = f"""(key) => {PANEL}.content.widgets.findIndex(c =>
    c.model.id === key || (c.model.getMetadata('nbgrader') || {{}}).grade_id === key)"""
SET_SOURCES = f"""(bodies) => {{
    for (const cell of {PANEL}.content.widgets) {{
        if (cell.model.id in bodies) cell.model.sharedModel.setSource(bodies[cell.model.id]);
    }}
}}"""
IDLE = f"""() => {{
    const p = {PANEL};
    return p && p.sessionContext && p.sessionContext.session &&
        p.sessionContext.session.kernel && p.sessionContext.session.kernel.status === 'idle';
}}"""
ERRORS = f"""() => {PANEL}.content.widgets.filter(c => c.model.type === 'code').flatMap(c =>
    c.model.outputs.toJSON().filter(o => o.output_type === 'error')
        .map(o => (c.model.getMetadata('nbgrader') || {{}}).grade_id || c.model.id))"""


def _run_all(page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(1000)  # let the first cell start before waiting for idle
    page.wait_for_function(IDLE, timeout=180_000)


def test_student_reads_the_diagnosis_and_validates(browser, course_copy, tmp_path):
    course = Course(ROOT)
    (name,) = course.notebooks(ASSIGNMENT)
    bodies = demo.reference_bodies(
        nbformat.read(ROOT / "source" / ASSIGNMENT / f"{name}.ipynb", as_version=4)
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    with (
        jupyterlab(course_copy, "lab", tmp_path / "lab.log") as url,
        screenshot_on_failure(page, tmp_path / "student.png"),
    ):
        page.goto(f"{url}/lab/tree/{ASSIGNMENT}/{name}.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_function(IDLE, timeout=60_000)
        # The student tools only: Validate, but no formgrader, create-assignment or
        # exchange plugins.
        assert page.locator(".validate-button").count() == 1
        for command in ("formgrader", "create-assignment", "assignment-list", "course-list"):
            assert not page.evaluate(
                f"() => window.jupyterapp.commands.hasCommand('nbgrader:open-{command}')"
            ), command

        # Every answer pasted in but corr2d, which is typed wrong into its editor.
        page.evaluate(SET_SOURCES, {k: v for k, v in bodies.items() if k != "corr2d-impl"})
        index = page.evaluate(CELL_INDEX, "corr2d-impl")
        # JupyterLab creates a cell's editor only once the cell is rendered near the
        # viewport: scroll to it and wait for the editor before focusing it (a run with
        # the machine busy found it still null).
        page.evaluate(
            f"""async (i) => {{ const nb = {PANEL}.content; nb.activeCellIndex = i;
                await nb.scrollToItem(i); }}""",
            index,
        )
        page.wait_for_function(
            f"(i) => {PANEL}.content.widgets[i].editor !== null", arg=index, timeout=30_000
        )
        page.evaluate(
            f"""(i) => {{ const nb = {PANEL}.content; nb.activeCellIndex = i; nb.mode = 'edit';
                nb.activeCell.editor.focus(); }}""",
            index,
        )
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(WRONG_CORR2D)
        _run_all(page)

        check = page.evaluate(CELL_INDEX, "conv_corr2d_tests")
        assert page.evaluate(ERRORS) == ["conv_corr2d_tests"], page.evaluate(ERRORS)
        # What the browser rendered (the cell is scrolled into view first: JupyterLab only
        # renders the cells near the viewport).
        page.evaluate(f"(i) => {PANEL}.content.scrollToItem(i)", check)
        page.wait_for_timeout(500)
        text = page.evaluate(
            f"(i) => {PANEL}.content.widgets[i].node.querySelector('.jp-OutputArea').innerText",
            check,
        )
        assert "Check failed:" in text and "It looks like you flipped the kernel" in text, text
        for checker in ("_core.py", "course/checks", "Traceback", "site-packages"):
            assert checker not in text, text
        page.screenshot(path=str(tmp_path / "diagnosis.png"))

        # Fixed, run again, and Validate (it saves the notebook, then runs nbgrader).
        page.evaluate(SET_SOURCES, {"corr2d-impl": bodies["corr2d-impl"]})
        _run_all(page)
        assert page.evaluate(ERRORS) == []
        page.locator(".validate-button").click()
        result = page.wait_for_selector(
            ".validation-success, .validation-failed, .jp-Dialog-body pre", timeout=180_000
        )
        assert "Success! Your notebook passes all the tests." in result.inner_text(), (
            result.inner_text()
        )
        page.screenshot(path=str(tmp_path / "validated.png"))


def test_instructor_opens_formgrader_on_a_fresh_course(browser, course_copy, tmp_path):
    assignments = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    assert len(assignments) == 7
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    with (
        jupyterlab(course_copy, "instructor", tmp_path / "instructor.log") as url,
        screenshot_on_failure(page, tmp_path / "formgrader.png"),
    ):
        response = page.goto(f"{url}/formgrader?token={TOKEN}")
        assert response is not None and response.status == 200
        table = page.locator("#main-table")
        for name in assignments:
            table.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / "formgrader.png"))
        # The gradebook was created with nbgrader's migrations (alembic from the venv).
        db = course_copy / "gradebook.db"
        with sqlite3.connect(db) as con:
            (version,) = con.execute("select version_num from alembic_version").fetchone()
        assert version
        # Every link of the assignment list opens (the course root is the server's root).
        hrefs = table.locator("a[href]").evaluate_all("els => els.map(e => e.href)")
        assert any(ASSIGNMENT in h for h in hrefs), hrefs
        for href in hrefs:
            if href.startswith(url) and "#" not in href:
                status = page.request.get(href).status
                assert status < 400, f"{href}: HTTP {status}"


# A student's answer to the tiny assignment (autograder.demo.tiny_course) that tries to run
# script wherever formgrader shows it: a markdown cell, an HTML output (a script tag and an
# onerror handler), a JavaScript output and an SVG output. Each would set window.__pwned.
PWN_MARKDOWN = (
    "Hostile answer text. <script>window.__pwned = 'markdown'; document.title = 'pwned'"
    '</script><img src="x" onerror="window.__pwned = \'markdown img\'">'
)
PWN_CODE = """from IPython.display import HTML, SVG, Javascript, display
display(HTML("<script>window.__pwned = 'html'</script>"
             "<img src='x' onerror=\\"window.__pwned = 'html img'\\">Hostile output text"))
display(Javascript("window.__pwned = 'javascript'"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned = "svg"</script>'
            '</svg>'))
"""


@pytest.fixture
def hostile_course(tmp_path) -> tuple[Path, int]:
    """The tiny course, with a hostile hand-in graded by the real pipeline (sandboxed where
    bubblewrap runs). Returns (course root, the submission's formgrader id)."""
    course = demo.tiny_course(tmp_path / "course")
    _course_files(course.root)
    nb = nbformat.reads(demo.tiny_submission(course).decode(), as_version=4)
    (i,) = [i for i, c in enumerate(nb.cells) if c.get("id") == "add-impl"]
    nb.cells[i].source = PWN_CODE + nb.cells[i].source
    nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(PWN_MARKDOWN))
    demo.submit(course, "mallory", "tiny", {"tiny.ipynb": nbformat.writes(nb).encode()})
    report = grading.grade(course, limits=GRADING_LIMITS, progress=False, on_tamper="flag")
    assert report.scores() == {("mallory", "tiny"): 5}, report.outcomes
    with gradebook.open_gradebook(course) as gb:
        submission = gb.find_submission_notebook("tiny", "tiny", "mallory").id
    return course.root, submission


def test_formgrader_runs_no_script_of_a_hostile_submission(browser, hostile_course, tmp_path):
    root, submission = hostile_course
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with (
        jupyterlab(root, "instructor", tmp_path / "instructor.log") as url,
        screenshot_on_failure(page, tmp_path / "hostile.png"),
    ):
        # The page formgrader opens for a submission (its SubmissionHandler).
        response = page.goto(
            f"{url}/formgrader/submissions/{submission}/?token={TOKEN}",
            wait_until="domcontentloaded",
        )
        assert response is not None and response.status == 200
        page.get_by_text("Hostile answer text.").first.wait_for(timeout=30_000)
        page.wait_for_timeout(2000)  # let failed images fire onerror, scripts settle
        assert page.evaluate("() => window.__pwned") is None
        assert page.title() != "pwned" and not dialogs
        # Formgrader's own page is there (its grading form), and the student's markup
        # reads as text.
        assert page.locator("#notebook-container, .cell").count() > 0
        text = page.inner_text("body")
        assert "<script>window.__pwned = 'markdown'" in text, text[-3000:]
        assert "Hostile output text" in text
        page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)


def test_class_report_opens_in_chromium(browser, known_class, tmp_path):
    """The class report of the hand-built class (tests/autograder/known_class.py) and the
    course overview open from file:// with no console error; the item table and the
    embedded plots are there and decoded, the near-copy pair shows side by side."""
    overview, _ = classreport.write_reports(known_class)
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    shot = tmp_path / "class-report.png"
    with screenshot_on_failure(page, shot):
        page.goto((known_class.reports / "hw" / "index.html").as_uri(), wait_until="load")
        assert page.locator("table#items tr").count() == 1 + 3  # header, three cells
        plots = page.locator("img.plot")
        assert plots.count() >= 4  # total histogram, one per exercise
        assert page.evaluate(
            "() => [...document.querySelectorAll('img.plot')].every(i => i.naturalWidth > 0)"
        )
        page.locator("details summary").first.click()
        pair = page.locator("details .pair").first
        assert "</pre><script>window.pwned = 1</script>" in pair.inner_text()
        assert page.evaluate("() => window.pwned") is None
        page.screenshot(path=str(shot), full_page=True)
        print(f"class report screenshot: {shot}")
        page.goto(overview.as_uri(), wait_until="load")
        assert page.locator("table#assignments tr").count() == 2
        page.screenshot(path=str(tmp_path / "class-overview.png"), full_page=True)
    assert errors == [], errors
