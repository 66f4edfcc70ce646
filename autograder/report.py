"""Write the class report: what the class got wrong, per exercise, and which hand-ins look alike.

    python -m autograder report                   every assignment, and the course overview
    python -m autograder report 01_convolution    one assignment (and the overview)
    python -m autograder report --threshold 0.6   flag fewer similar pairs

For the instructor only: the files go to reports/ under the course root, never to
feedback/, and name students. Per assignment (reports/<assignment>/):

    index.html      one self-contained page (plots embedded, no script, works offline):
                    score distribution; where the class lost its points; per exercise its
                    outcomes (named mistakes, generic failures, not attempted) with counts,
                    shares and students, the lecture slide and notebook section to revisit;
                    item statistics (difficulty, discrimination); mistakes made together;
                    similar hand-ins side by side
    outcomes.csv    grade_id, exercise, outcome, kind, count, share, students
    items.csv       grade_id, exercise, points, mean, difficulty, discrimination
    report.json     the same numbers, and the similar pairs (without code)

and reports/index.html, reports/overview.csv: where the class loses its points across
the assignments. The numbers come from the ledger's per-cell outcomes and the gradebook
(autograder.insight), similarity from the solution cells (autograder.similarity);
docs/class-report.md defines them. Submissions not graded as they are now, or graded
before the ledger kept per-cell outcomes, are left out and listed; nothing graded yet is
said, not an error.
"""

from __future__ import annotations

import argparse

from autograder.layout import Course
from autograder.reporting import similarity
from autograder.reporting.classreport import summary_lines, write_reports


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=similarity.THRESHOLD,
        metavar="SHARE",
        help="flag a pair when this share of either one's own code matches the other's "
        f"(default {similarity.THRESHOLD})",
    )


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    overview, reports = write_reports(course, args.assignments or None, threshold=args.threshold)
    shown = [rep for rep in reports if not args.assignments or rep.assignment in args.assignments]
    for line in summary_lines(shown, course):
        print(line)
    if not reports:
        print(f"no assignments in {course.source} and none in the ledger")
    print(f"class report: {overview}")
    return 0
