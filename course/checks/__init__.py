"""Visible checks with diagnostic feedback, one module per notebook topic.

    from course.checks import conv
    conv.check_corr2d(corr2d)

Each check runs the student's function on the lecture's worked examples and on small
cases whose answers come from an independent oracle (torch, or numbers written down from
the lecture), and when the answer is wrong, says which known mistake it matches.
"""

from course.checks._core import (
    Case,
    CheckFailed,
    Mistake,
    Part,
    answer_digest,
    assert_close,
    check,
    check_answer,
    check_quiz,
    fmt,
    require_answer,
)

__all__ = [
    "Case",
    "CheckFailed",
    "Mistake",
    "Part",
    "answer_digest",
    "assert_close",
    "check",
    "check_answer",
    "check_quiz",
    "fmt",
    "require_answer",
]
