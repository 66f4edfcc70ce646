"""feedback: the HTML reports show scores and diagnostics and never a hidden test.

The graded course (tests/autograder/reporting_fixtures.py) is graded by stock nbgrader:
its hidden blocks hold sentinel numbers (SECRET, HIDDEN_X) that appear nowhere else, so a
report that contains one of them leaks. Each leak point of autograder.feedback's module
docstring has a test here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from autograder import cli
from autograder.judging.syllabus import untouched
from autograder.layout import Course
from autograder.records import ledger
from autograder.reporting.feedback import (
    WITHHELD,
    CodeCell,
    ExerciseResult,
    Feedback,
    HiddenMaterial,
    _clean,
    build_feedback,
    diagnose,
    render_html,
    summary,
    write_all,
    write_feedback,
)


def _fixtures():
    name = "reporting_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


rf = _fixtures()
HIDDEN_CODE = ["assert add(SECRET", "assert_close(mul", "BEGIN HIDDEN", "SECRET ="]
VISIBLE_TEST_CODE = ["check_add(add)", "check_mul(mul)"]


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> Path:
    return rf.graded_course(tmp_path_factory)


@pytest.fixture(scope="module")
def reports(graded, tmp_path_factory) -> dict[tuple[str, str], str]:
    """Every report of the graded course, written once: (student, assignment) -> HTML."""
    course = Course.at(rf.copy_course(graded, tmp_path_factory.mktemp("fb") / "course"))
    return {
        (fb.student, fb.assignment): path.read_text(encoding="utf-8")
        for path, fb in write_all(course)
    }


@pytest.fixture
def course(graded, tmp_path) -> Course:
    return Course.at(rf.copy_course(graded, tmp_path / "course"))


def _without_student_code(html: str) -> str:
    """The report less the student's own cells (which may name anything they like)."""
    return re.sub(r"<details>.*?</details>", "", html, flags=re.S)


def _assert_no_leak(html: str) -> None:
    for sentinel in (rf.SECRET, rf.HIDDEN_X):
        assert sentinel not in html, f"hidden value {sentinel} leaked"
    for code in HIDDEN_CODE + VISIBLE_TEST_CODE:
        assert code not in html, f"test code {code!r} leaked"
    assert "_hidden_tests" not in _without_student_code(html)
    assert "Traceback" not in html and "\x1b[" not in html


@pytest.mark.slow
def test_one_report_per_graded_submission_in_nbgraders_layout(reports, graded):
    assert sorted(reports) == sorted(rf.SUBMISSIONS)


@pytest.mark.slow
def test_full_marks(reports):
    html = reports[("alice", "a1")]
    assert "<b>5</b> / 5 points (100%)" in html
    assert html.count("✓ passed") == 2
    assert "What to look at" not in html
    assert "Exercise 1.1 — add (2 points)" in html  # the heading, backticks dropped
    assert "add: small integers, and a large hidden case." in html  # the docstring line
    _assert_no_leak(html)


@pytest.mark.slow
def test_leak1_no_test_source_in_any_report(reports):
    """Neither hidden nor visible test code: a test cell shows its result only."""
    for html in reports.values():
        _assert_no_leak(html)


@pytest.mark.slow
def test_leak2_failing_bare_hidden_assert_shows_no_traceback_and_no_value(reports):
    """IPython's traceback of a failing hidden assert prints `assert add(SECRET, 1) == …`
    and SECRET's value; the report says only that a hidden test failed."""
    html = reports[("bob", "a1")]
    assert "<pre>A hidden test failed.</pre>" in html
    _assert_no_leak(html)


@pytest.mark.slow
def test_leak3_hidden_assert_close_message_is_shown(reports):
    """course.checks.assert_close names the case, never the numbers: shown as is."""
    html = reports[("bob", "a1")]
    assert (
        "A hidden test failed: mul on a large hidden input: the values differ from the "
        "reference." in html
    )
    _assert_no_leak(html)


@pytest.mark.slow
def test_leak3_error_raised_by_student_code_on_a_hidden_input_shows_its_type_only(reports):
    """dave's mul raises ValueError(f'cannot multiply {a}') on the hidden input only."""
    html = reports[("dave", "a1")]
    assert "Your code raised ValueError on a hidden test case" in html
    assert "cannot multiply" not in _without_student_code(html)
    _assert_no_leak(html)


@pytest.mark.slow
def test_visible_check_message_is_the_diagnostic(reports):
    html = reports[("dave", "a1")]
    assert "<pre>add(2, 3) returned -1, expected 5. Revisit the sum rule.</pre>" in html


@pytest.mark.slow
def test_leak4_code_that_reads_the_hidden_tests_after_they_ran(reports):
    """erin's mul cell prints In[] and inspect.getsource(_hidden_tests) (its outputs hold the
    hidden block: the cell ran after add's hidden test), and her mul raises, in mul's
    *visible* check, an error carrying the hidden constants."""
    html = reports[("erin", "a1")]
    assert "✓ passed" in html  # add
    assert WITHHELD in html  # mul's visible-check error quoted SECRET
    _assert_no_leak(html)


@pytest.mark.slow
def test_not_attempted_shows_the_stub_message(reports):
    html = reports[("carol", "a1")]
    assert html.count("– not attempted") == 2
    assert "NotImplementedError: Exercise 1.1 is not done yet" in html
    assert '<ul class="flags"><li>late: 1 day</li></ul>' in html


@pytest.mark.slow
def test_student_code_is_shown_escaped(reports):
    html = reports[("bob", "a1")]
    assert "return a + b if a &lt; 1000 else 0" in html
    assert "<details><summary>Your code (2 cells)</summary>" in html


@pytest.mark.slow
def test_reports_are_self_contained_html(reports):
    for html in reports.values():
        assert html.startswith("<!DOCTYPE html>") and "<style>" in html
        for external in ("<script", "<link", "src=", "http://", "https://", "@import"):
            assert external not in html

        class Tags(HTMLParser):
            def handle_starttag(self, tag, attrs):
                if tag not in ("meta", "br"):
                    self.stack.append(tag)

            def handle_endtag(self, tag):
                assert self.stack.pop() == tag

        parser = Tags()
        parser.stack = []
        parser.feed(html)
        assert parser.stack == []


def test_student_text_cannot_inject_html():
    fb = Feedback(
        "eve",
        "a1",
        0,
        1,
        None,
        None,
        ["<b>flag</b>"],
        [ExerciseResult("a1", "g", "t", "", 0, 1, "failed", "</pre><script>x()</script>")],
        [CodeCell("a1", "t", "</code></pre><script>alert(1)</script>", "<img src=x>")],
    )
    html = render_html(fb)
    assert "<script" not in html and "<img" not in html and "<b>flag" not in html


@pytest.mark.slow
def test_tamper_flag_withholds_every_message(course):
    rec = ledger.latest(course)[("bob", "a1")]
    flag = "tamper:monkeypatch: replaces np.allclose (cell 4, line 1)"
    ledger.append(course, {**rec, "flags": [flag]})
    html = write_feedback(course, "bob", "a1").read_text(encoding="utf-8")
    assert flag in html
    assert "A hidden test failed" not in html and "What to look at" not in html
    assert "Messages are not shown for this submission." in html


@pytest.mark.slow
def test_executor_status_becomes_a_flag_in_plain_words(course):
    rec = ledger.latest(course)[("alice", "a1")]
    ledger.append(course, {**rec, "exec_status": "cell_timeout"})
    assert build_feedback(course, "alice", "a1").flags[0].startswith("ran out of time in a cell")
    ledger.append(
        course, {**rec, "exec_status": "cell_timeout", "flags": ["cell_timeout in cell mul-impl"]}
    )
    assert build_feedback(course, "alice", "a1").flags == [
        "a cell ran out of time in cell mul-impl"
    ]


@pytest.mark.slow
def test_hidden_blocks_are_located_from_source_when_the_executed_copy_lacks_them(course):
    """An autograded notebook written without its hidden blocks (say, by a grader that
    clears them) still gets dave's hidden-input error withheld: source/ says where the
    hidden tests are."""
    path = course.autograded / "dave" / "a1" / "a1.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.source = re.sub(
            r"### BEGIN HIDDEN TESTS.*### END HIDDEN TESTS", "", cell.source, flags=re.S
        )
    nbformat.write(nb, path)
    html = write_feedback(course, "dave", "a1").read_text(encoding="utf-8")
    assert "Your code raised ValueError on a hidden test case" in html
    assert "cannot multiply" not in _without_student_code(html)


@pytest.mark.slow
def test_not_graded_is_an_error(course):
    with pytest.raises(FileNotFoundError, match="no graded submission"):
        write_feedback(course, "bob", "b2")


@pytest.mark.slow
def test_summary_line(course):
    line = summary(build_feedback(course, "carol", "a1"))
    assert re.match(r"carol\s+a1\s+0 / 5\s+0 passed, 0 failed, 2 not attempted", line)
    assert line.endswith("[late: 1 day]")


@pytest.mark.slow
def test_cli_writes_reports_and_prints_the_table(course, capsys):
    assert cli.main(["feedback", "--course", str(course.root), "--student", "bob"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^bob\s+a1\s+0 / 5\s+0 passed, 2 failed$", out, re.M)
    assert (course.feedback / "bob" / "a1" / "a1.html").is_file()
    assert not (course.feedback / "alice").exists()


def test_cli_help_reads_like_the_module_doc(capsys):
    with pytest.raises(SystemExit):
        cli.main(["feedback", "--help"])
    out = capsys.readouterr().out
    assert "Write one HTML feedback report per student and assignment" in out
    assert "--student" in out and "--assignment" in out


# --------------------------------------------------------------------------- diagnose
# Synthetic executed cells: the traceback shapes IPython 8 and autograder.sandbox.executor produce.

TEST_SOURCE = '''"""f: checks."""
check_f(f)
### BEGIN HIDDEN TESTS
def _hidden_tests():
    X = 424242
    assert f(X) == 1


_hidden_tests()
### END HIDDEN TESTS'''


def _cell(ename, evalue, traceback, *, count=7, source=TEST_SOURCE):
    cell = new_code_cell(source, execution_count=count)
    cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=traceback)]
    return cell


def _frame(header):
    return f"\x1b[36m{header}\x1b[39m\n\x1b[32m----> 1\x1b[39m code()\n"


MATERIAL = HiddenMaterial.of(nbformat.v4.new_notebook(cells=[new_code_cell(TEST_SOURCE)]))


def test_diagnose_visible_failure_shows_the_message():
    tb = [_frame("Cell In[7], line 2"), _frame("File /srv/course/checks/_core.py:9, in check")]
    d = diagnose(_cell("CheckFailed", "f(1) returned 3, expected 2.", tb), MATERIAL)
    assert (d.hint, d.message) == ("failed", "f(1) returned 3, expected 2.")


def test_diagnose_hidden_error_from_student_code_hides_its_message():
    tb = [
        _frame("Cell In[7], line 9"),
        _frame("Cell In[7], line 6, in _hidden_tests()"),
        _frame("Cell In[4], line 2, in f(x)"),
    ]
    d = diagnose(_cell("AssertionError", "x was 1234", tb), MATERIAL)
    assert "x was" not in d.message and "AssertionError" in d.message


def test_diagnose_student_made_exception_class_name_is_not_echoed():
    tb = [_frame("Cell In[7], line 9"), _frame("Cell In[4], line 2, in f(x)")]
    d = diagnose(_cell("Leak_424242_x", "", tb), MATERIAL)
    assert "Leak" not in d.message and "an exception" in d.message


def test_diagnose_unreadable_traceback_in_a_hidden_cell_assumes_hidden():
    d = diagnose(_cell("ValueError", "bad value 17", ["ValueError: bad value 17"]), MATERIAL)
    assert "17" not in d.message


def test_diagnose_hidden_block_outside_a_function_uses_line_numbers():
    source = (
        '"""g."""\nassert g(2) == -2, "g(2) should be -2"\n'
        "### BEGIN HIDDEN TESTS\nassert g(-7) == 7\n### END HIDDEN TESTS"
    )
    visible = diagnose(
        _cell("AssertionError", "g(2) should be -2", [_frame("Cell In[7], line 2")], source=source),
        MATERIAL,
    )
    hidden = diagnose(
        _cell("AssertionError", "", [_frame("Cell In[7], line 4")], source=source), MATERIAL
    )
    assert visible.message == "AssertionError: g(2) should be -2"
    assert hidden.message == "A hidden test failed."


def test_diagnose_only_the_real_course_checks_count_as_instructor_code():
    hidden = [_frame("Cell In[7], line 9"), _frame("Cell In[7], line 6, in _hidden_tests()")]
    real = _frame("File /anywhere/course/checks/_core.py:306, in assert_close(got)")
    forged = _frame("File /home/s/course/checks/mine.py:3, in assert_close(got)")
    ok = diagnose(_cell("AssertionError", "case 3: values differ.", [*hidden, real]), MATERIAL)
    bad = diagnose(_cell("AssertionError", "got 77", [*hidden, forged]), MATERIAL)
    assert ok.message == "A hidden test failed: case 3: values differ."
    assert "77" not in bad.message


def test_diagnose_scrubs_hidden_numbers_and_lines_from_visible_messages():
    tb = [_frame("Cell In[7], line 2"), _frame("Cell In[4], line 2, in f(x)")]
    by_number = diagnose(_cell("RuntimeError", "(None, 424242)", tb), MATERIAL)
    by_line = diagnose(_cell("RuntimeError", "assert f(X) == 1 ...", tb), MATERIAL)
    assert by_number.message == by_line.message == WITHHELD


def test_numbers_students_see_anyway_are_not_scrubbed():
    hidden = (
        '"""f."""\ncheck_f(f)\n### BEGIN HIDDEN TESTS\nrng = default_rng(777)\n'
        'assert_close(f(rng), 1, "f on the lecture 003 example")\n### END HIDDEN TESTS'
    )
    source = nbformat.v4.new_notebook(cells=[new_code_cell(hidden)])
    release = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Lecture 003"), new_code_cell("check_f(f)")]
    )
    material = HiddenMaterial.of(source, release)
    assert material.numbers == {"777"}
    assert not material.found_in("f(1) returned 2 (lecture 003).")
    assert material.found_in("seeded with 777.")
    assert material.found_in("x: rng = default_rng(777)")


def test_diagnose_timeout_written_by_the_executor():
    text = "this cell ran longer than 60 s; the kernel was interrupted and stopped"
    d = diagnose(_cell("CellTimeoutError", text, [f"CellTimeoutError: {text}"]), MATERIAL)
    assert d.hint == "not run" and text in d.message
    # the same name raised by student code (IPython frames) is not the executor's
    forged = [_frame("Cell In[7], line 9"), _frame("Cell In[4], line 1, in f(x)")]
    d = diagnose(_cell("CellTimeoutError", "424242", forged), MATERIAL)
    assert d.hint == "failed" and "424242" not in d.message


def test_diagnose_test_that_the_grader_marked_not_run():
    text = "not run: the notebook stopped at cell mul-impl (cell_timeout)"
    cell = _cell("NotRun", text, [f"NotRun: {text}"], count=None)
    d = diagnose(cell, MATERIAL)
    assert d.hint == "not run"
    assert d.message == (
        "This test did not run: the notebook stopped at cell mul-impl (a cell ran out of time)"
    )


def test_diagnose_notebook_that_could_not_be_graded():
    text = "not graded: a1.ipynb is not valid JSON (Expecting value at line 1 column 1)"
    d = diagnose(_cell("NotGraded", text, [f"NotGraded: {text}"], count=None), MATERIAL)
    assert d.hint == "not run"
    assert d.message == (
        "This test could not be graded: a1.ipynb is not valid JSON (Expecting value at line 1 "
        "column 1)"
    )


def test_exercise_cells_left_as_released_count_as_not_attempted():
    def nb(impl_source):
        return nbformat.v4.new_notebook(
            cells=[
                new_code_cell(impl_source, metadata=rf._meta("f_impl", solution=True)),
                new_code_cell("check_f(f)", metadata=rf._meta("f_tests", grade=True, points=1)),
                new_code_cell("check_g(g)", metadata=rf._meta("g_tests", grade=True, points=1)),
            ]
        )

    released = nb("def f():\n    raise NotImplementedError()")
    # g_tests follows f_tests with no exercise cell of its own: it checks f's cell too.
    stub = nb("def f():\n    raise NotImplementedError()\n")
    assert untouched(stub, released) == {"f_tests", "g_tests"}
    assert untouched(nb("def f():\n    return 1"), released) == set()


def test_long_messages_keep_their_hint():
    long = "first line\n" + "\n".join(f"row {i}" for i in range(100)) + "\nthe hint"
    text = _clean(long)
    assert text.startswith("first line") and text.endswith("the hint") and "…" in text


def test_diagnose_cell_that_never_ran_and_stderr():
    never = new_code_cell(TEST_SOURCE, execution_count=None)
    assert diagnose(never, MATERIAL).hint == "not run"
    noisy = new_code_cell(TEST_SOURCE, execution_count=3)
    noisy.outputs = [new_output("stream", name="stderr", text="DeprecationWarning 424242")]
    d = diagnose(noisy, MATERIAL)
    assert d.hint == "failed" and "424242" not in d.message
