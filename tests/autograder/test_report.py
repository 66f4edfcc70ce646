"""The class report: recorded outcomes, and its numbers on a class with known counts.

The class (tests/autograder/known_class.py, fixture `known_class`) has six graded
students on three cells (add 2 points, mul 3, quiz 1); every number asserted here is
worked out by hand from its table:

    student  add              mul              quiz          total
    alice    passed       2   passed        3  passed     1  6
    bob      order_reversed 0   passed        3  wrong_ans  0  3
    carol    order_reversed 0   generic       0  wrong_ans  0  0
    dave     passed       2   generic       0  passed     1  3
    erin     not_impl     0   not_impl      0  not_answ   0  0
    fay      passed       2   hidden_cases  0  passed     1  3
"""

from __future__ import annotations

import json
import math
import shutil

import pytest

from autograder import cli
from autograder.judging.judge import Verdict
from autograder.judging.syllabus import Exercise
from autograder.layout import Course
from autograder.records import ledger, score
from autograder.reporting import classreport, insight

STUDENTS = ["alice", "bob", "carol", "dave", "erin", "fay"]


def test_a_cell_records_the_judges_mistake_key_never_the_kernels_words():
    ex = {"c1": Exercise("c1", "nb", "1.2", "Exercise 1.2", "2. Section", "a", 4, "lecture 000")}
    verdicts = {
        "c1": Verdict("c1", False, "It looks like you flipped the kernel.", "kernel_flipped"),
        "c2": Verdict("c2", False, "values differ", None),
        "c3": Verdict("c3", True, "✓ passed"),
    }
    grades = {"c1": (0.0, 4.0), "c2": (0.0, 2.0), "c3": (1.0, 1.0), "c4": (2.0, 2.0), "c5": (1, 3)}
    records = score.cell_records("nb", verdicts, grades, ex)
    assert {g: r["outcome"] for g, r in records.items()} == {
        "c1": "kernel_flipped",  # the verdict's key
        "c2": "generic",  # failed, no key
        "c3": "passed",
        "c4": "passed",  # no verdict (tested in the kernel): all its points
        "c5": "generic",  # no verdict, not all its points
    }
    assert records["c1"] == {
        "notebook": "nb",
        "exercise": "1.2",
        "outcome": "kernel_flipped",
        "mistake": "kernel_flipped",
        "score": 0.0,
        "max_score": 4.0,
    }
    assert records["c2"]["exercise"] == ""
    # The stubs as released: not attempted, whatever the check made of them.
    stubs = score.cell_records("nb", verdicts, grades, ex, untouched={"c1", "c3"})
    assert stubs["c1"]["outcome"] == "not_attempted"
    assert stubs["c1"]["mistake"] == "kernel_flipped"
    assert stubs["c3"]["outcome"] == "passed"
    unread = score.cell_records("nb", None, {"c1": (0.0, 4.0)}, ex)
    assert unread["c1"]["outcome"] == "not_submitted"


def test_who_is_in_the_numbers_and_who_is_not(known_class):
    results = insight.load_class(known_class, "hw")
    assert results.students == STUDENTS
    assert results.items == ["hw_add_tests", "hw_mul_tests", "hw_quiz_tests"]
    assert results.missing == {"pending": ["gus"], "stale": ["hal"], "undiagnosed": ["ivy"]}
    assert [results.total(s) for s in STUDENTS] == [6, 3, 0, 3, 0, 3]
    assert results.exercise_of("hw_mul_tests") == "1.2"
    assert results.exercises["hw_quiz_tests"].slide == "lecture 001, 002"  # not in SLIDES


def test_counts_and_shares_per_cell(known_class):
    results = insight.load_class(known_class, "hw")
    add = insight.outcome_rows(results, "hw_add_tests")
    assert [(r.outcome, r.kind, r.count, r.students) for r in add] == [
        ("passed", "passed", 3, ("alice", "dave", "fay")),
        ("order_reversed", "named", 2, ("bob", "carol")),
        ("not_implemented", "not attempted", 1, ("erin",)),
    ]
    assert add[1].share == pytest.approx(2 / 6)
    mul = {r.outcome: (r.kind, r.count) for r in insight.outcome_rows(results, "hw_mul_tests")}
    assert mul == {
        "passed": ("passed", 2),
        "generic": ("generic", 2),
        "hidden_cases": ("generic", 1),
        "not_implemented": ("not attempted", 1),
    }
    # Only a generic message on mul: carol, dave (no name) and fay (hidden inputs): 3 of 6.
    assert insight.share_of_kind(results, ["hw_mul_tests"], insight.GENERIC) == 0.5
    assert insight.share_of_kind(results, ["hw_add_tests"], insight.GENERIC) == 0.0


def test_difficulty_and_discrimination_by_hand(known_class):
    stats = {s.grade_id: s for s in insight.item_stats(insight.load_class(known_class, "hw"))}
    # difficulty = mean / points: add 6/6/2, mul 6/6/3, quiz 3/6/1
    assert stats["hw_add_tests"].mean == 1.0 and stats["hw_add_tests"].difficulty == 0.5
    assert stats["hw_mul_tests"].difficulty == pytest.approx(1 / 3)
    assert stats["hw_quiz_tests"].difficulty == 0.5
    # add: x = 2,0,0,2,0,2; rest = total - x = 4,3,0,1,0,1: Sxy = 3, Sxx = 6, Syy = 13.5,
    # r = 3 / sqrt(81) = 1/3.
    assert stats["hw_add_tests"].discrimination == pytest.approx(1 / 3)
    # mul: x = 3,3,0,0,0,0; rest = 3,0,0,3,0,3: Sxy = 0.
    assert stats["hw_mul_tests"].discrimination == pytest.approx(0.0)
    # quiz: x = 1,0,0,1,0,1; rest = 5,3,0,2,0,2: Sxy = 3, Sxx = 1.5, Syy = 18: 1/sqrt(3).
    assert stats["hw_quiz_tests"].discrimination == pytest.approx(1 / math.sqrt(3))


def test_discrimination_is_undefined_where_nothing_varies():
    assert insight.pearson([1, 1, 1], [0, 1, 2]) is None
    assert insight.pearson([0, 1], [0, 1]) is None  # fewer than 3 students
    assert insight.pearson([0, 1, 2], [2, 1, 0]) == pytest.approx(-1.0)


def test_mistakes_made_together(known_class):
    pairs = insight.together(insight.load_class(known_class, "hw"))
    # bob and carol both flipped the sign in add and answered the quiz wrong; carol's
    # generic mul is shared with dave, but no second student has it with another mistake.
    assert [(p.first, p.second, p.students) for p in pairs] == [
        (("hw_add_tests", "order_reversed"), ("hw_quiz_tests", "wrong_answer"), ("bob", "carol"))
    ]


def test_where_the_class_lost_its_points(known_class):
    lost = insight.lost_points(insight.load_class(known_class, "hw"))
    # 36 points possible, 15 scored: 21 lost; mul 18 - 6 = 12, add 12 - 6 = 6, quiz 6 - 3.
    assert [(lp.exercise, lp.lost) for lp in lost] == [("1.2", 12), ("1.1", 6), ("2.1", 3)]
    assert lost[0].share_of_loss == pytest.approx(12 / 21)
    assert lost[0].by_kind == {"generic": 9.0, "not attempted": 3.0, "passed": 0.0}
    assert lost[0].top_mistake == ("generic", 2)
    assert lost[1].by_kind["named"] == 4.0 and lost[1].top_mistake == ("order_reversed", 2)


def test_the_report_files(known_class):
    overview, reports = classreport.write_reports(known_class)
    folder = known_class.reports / "hw"
    assert overview == known_class.reports / "index.html"
    assert not known_class.reports.is_relative_to(known_class.feedback)
    rows = (folder / "outcomes.csv").read_text().splitlines()
    assert rows[0] == "grade_id,exercise,outcome,kind,count,share,students"
    assert "hw_add_tests,1.1,order_reversed,named,2,0.3333,bob carol" in rows
    items = (folder / "items.csv").read_text().splitlines()
    assert items[1] == "hw_add_tests,1.1,2,1.0000,0.5000,0.3333"
    data = json.loads((folder / "report.json").read_text())
    assert data["students"] == STUDENTS
    assert data["similar_pairs"] == [
        {
            "students": ["bob", "carol"],
            "similarity": pytest.approx(data["similar_pairs"][0]["similarity"]),
        }
    ]
    assert classreport.counts(reports[0]) == {
        "students": 6,
        "outcomes": {
            "hw_add_tests": {"passed": 3, "order_reversed": 2, "not_implemented": 1},
            "hw_mul_tests": {"passed": 2, "generic": 2, "hidden_cases": 1, "not_implemented": 1},
            "hw_quiz_tests": {"passed": 3, "wrong_answer": 2, "not_answered": 1},
        },
        "similar_pairs": [["bob", "carol"]],
    }
    page = (folder / "index.html").read_text()
    assert "id='items'" in page and page.count("data:image/png;base64,") >= 4
    # carol's code carries '</pre><script>...': it shows as text, and nothing runs.
    assert "&lt;/pre&gt;&lt;script&gt;" in page and "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page  # works offline
    assert "lecture 000" in page and "#Exercise-1.1-—-add-(2-points)" in page
    assert "stale" not in page.split("Not in these numbers")[0]
    course_page = overview.read_text()
    assert "hw/index.html" in course_page and "id='assignments'" in course_page
    # the overview ranks exercises by points lost per student: mul 12 / 6, add 6 / 6
    assert "1.2</a></td><td class='num'>2.00</td>" in course_page
    assert "1.1</a></td><td class='num'>1.00</td>" in course_page


def test_top_mistakes_and_the_command(known_class, capsys):
    assert cli.main(["report", "--course", str(known_class.root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("hw: 6 students, 3 not in the numbers")
    assert out[1:3] == [
        "  2 of 6 (33%) order_reversed in 1.1 (hw_add_tests)",
        "  2 of 6 (33%) wrong_answer in 2.1 (hw_quiz_tests)",
    ]
    assert out[-1] == f"class report: {known_class.reports / 'index.html'}"
    assert cli.main(["report", "nope", "--course", str(known_class.root)]) == 2


def test_a_course_with_nothing_graded_says_what_is_missing(known_class, tmp_path, capsys):
    root = tmp_path / "course"
    shutil.copytree(known_class.root, root)
    ledger.path(Course(root)).unlink()
    course = Course.at(root)
    _, reports = classreport.write_reports(course)
    page = (course.reports / "hw" / "index.html").read_text()
    assert "Nothing graded yet" in page and "9 collected, not graded yet" in page
    assert classreport.summary_lines(reports, course) == [
        "hw: nothing graded yet, 9 not in the numbers (see the page)"
    ]


def test_an_empty_course(tmp_path, capsys):
    shutil.copyfile(Course.at(".").root / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    assert cli.main(["report", "--course", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no assignments" in out
    assert "no assignments in source/" in (tmp_path / "reports" / "index.html").read_text()


def test_mistake_words_come_from_the_catalogues():
    words = insight.mistake_words()
    assert words["kernel_flipped"].startswith("you flipped the kernel")
    assert words["hidden_cases"].startswith("passed the visible cases")
    assert insight.kind("kernel_flipped") == insight.NAMED
    assert insight.kind("no_report") == insight.NOT_ATTEMPTED


def test_a_mistake_made_in_two_cells_of_one_exercise_counts_its_student_once():
    """Exercise 4.2 has a cell for max pooling and one for average pooling: a student who
    swaps the modes fails both with one mistake, and 'most frequent mistake (students)'
    counts students (it counted cells: 2 where one student made it)."""
    results = insight.ClassResults(
        "pool",
        items=["pool_max_tests", "pool_avg_tests"],
        max_scores={"pool_max_tests": 2.0, "pool_avg_tests": 2.0},
        students=["ann", "ben"],
        outcomes={
            ("ann", "pool_max_tests"): "avg_max_swapped",
            ("ann", "pool_avg_tests"): "avg_max_swapped",
            ("ben", "pool_max_tests"): "passed",
            ("ben", "pool_avg_tests"): "passed",
        },
        scores={("ben", "pool_max_tests"): 2.0, ("ben", "pool_avg_tests"): 2.0},
        exercise_numbers={"pool_max_tests": "4.2", "pool_avg_tests": "4.2"},
    )
    (lost,) = insight.lost_points(results)
    assert lost.exercise == "4.2" and lost.lost == 4.0
    assert lost.top_mistake == ("avg_max_swapped", 1)
