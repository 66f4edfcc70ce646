"""Write one HTML feedback report per student and assignment, safe to hand to students.

    python -m autograder feedback                          every graded submission
    python -m autograder feedback --assignment 01_convolution --student alice

Each report (feedback/<student>/<assignment>/<assignment>.html, one self-contained file)
shows the total score, a table of the exercises (points, ✓ / ✗ / not attempted / not
run), the diagnostic message of each failing exercise, and the student's own code cells.
Scores come from nbgrader's gradebook, messages from the executed notebooks in autograded/.

What a report never contains (see `diagnose` for the rules and tests/autograder/
test_feedback.py for a test of each):

1. test code: no source of a graded test cell at all, only its result and the one-line
   description its docstring gives (the release notebook's, which students already have);
2. traceback frames: only the final "error: message" line, because IPython prints the
   source lines of every frame, hidden `_hidden_tests()` included;
3. messages that could carry a hidden value: an error raised inside a hidden block shows
   its message only when instructor code raised it (the test cell itself or
   course/checks, whose messages name the case, never the numbers); a bare `assert` has an
   empty message and shows as "a hidden test failed"; an error the student's code raised
   on a hidden input shows its type only (its message could echo the input);
4. anything the student's code printed after a hidden test ran: a later cell can read the
   test cell's source (IPython's `In`, `inspect.getsource`), so outputs are shown for the
   cells that ran before the first hidden test only, and every message is checked for
   hidden-test lines and for the numbers written in hidden blocks (seeds).

Known limit: a student who deliberately stores hidden inputs and re-emits them, encoded,
through a later *visible* check's message can still read them. Submissions the grader
flagged for tampering get no messages at all.
"""

from __future__ import annotations

import argparse

from autograder.layout import Course
from autograder.records.states import submission_states
from autograder.reporting.feedback import summary, write_all


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment", action="append", metavar="NAME", help="only this assignment (repeatable)"
    )
    parser.add_argument(
        "--student", action="append", metavar="ID", help="only this student (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    if not course.gradebook.exists():
        raise FileNotFoundError(f"{course.gradebook} does not exist: run grade first")
    written = write_all(course, students=args.student, assignments=args.assignment)
    if not written:
        print("no graded submission matches: nothing written")
        return 1
    stale = {
        (s.student, s.assignment)
        for s in submission_states(course, students=args.student)
        if s.state == "stale"
    }
    for _path, fb in written:
        note = (
            "  (STALE: the submission changed after grading)"
            if (fb.student, fb.assignment) in stale
            else ""
        )
        print(f"{summary(fb)}{note}")
    print(f"\nwrote {len(written)} report(s) under {course.feedback}")
    return 0
