"""Import submissions from a folder tree or an LMS export zip into submitted/.

    python -m autograder collect hand-ins/                          <student>/<assignment>/*.ipynb
    python -m autograder collect canvas.zip --assignment 01_convolution
    python -m autograder collect moodle.zip --assignment 01_convolution --students roster.csv
    python -m autograder collect hand-ins/ --map "H_Perfect=h_perfect2"   decide a conflict

Understood layouts (in a folder or in a zip):

    <student>/<assignment>/<notebook>.ipynb           a folder tree (--assignment optional)
    <student>/<notebook>.ipynb                        the same, one assignment (--assignment)
    lastfirst_12345_67890_<file>.ipynb                Canvas "Download submissions"
    lastfirst_LATE_12345_67890_<file>.ipynb           (late; <name>_<user id>_<submission id>)
    Full Name_12345_assignsubmission_file_/<file>     Moodle, one folder per student

Canvas and Moodle export one assignment per zip: name it with --assignment.

Only notebooks (.ipynb) are taken; everything else is listed as skipped with the reason.
A notebook named differently from the one the assignment expects ("Copy of …", "… (1)",
dashes for underscores, Canvas's "-1") is renamed when the match is unambiguous, and listed
as renamed.

Student ids follow one rule (sanitize_student_id: invisible characters out, NFKC,
casefold, accents out, a-z 0-9 _ . - only). Two hand-ins whose ids are equal under it
("H_Perfect" and "h_perfect", a full-width "ｈ_ｐｅｒｆｅｃｔ", "Jose" and "José") are a
conflict: both are listed (CONFLICT), neither is collected, and the command exits with
status 1 until the instructor decides with --map NAME=ID (NAME: the folder or LMS name as
written, or the LMS id). A hand-in whose id an earlier import gave to someone else is
refused the same way, so an existing student's notebook is only ever replaced by that
same student's newer one. Decisions are kept in .grading/student_ids.json so that later
imports map the same way. --students maps LMS ids (Canvas user id, Moodle participant id)
to course ids: a CSV with columns lms_id,student_id.

Each notebook lands in submitted/<student>/<assignment>/<notebook>.ipynb with its
submission time in timestamp.txt (the zip entry's or the file's modification time, UTC).
Collecting the same file again changes nothing; a newer one replaces the older one. Zip
entries with absolute paths or "..", entries over 50 MB and archives over 2 GB
uncompressed are refused; __MACOSX/ and dotfiles are ignored. A notebook that is not
valid JSON is still collected (grading gives it 0 and a flag), with a warning.

Only regular files are read: symbolic links (to files or folders), FIFOs, devices and hard
links to files outside the hand-in folder are refused by name, and files are opened with
O_NOFOLLOW and checked after opening. One damaged zip entry (an impossible date, a
truncated extra field) is refused by name; the other entries are collected.
"""

from __future__ import annotations

import argparse

from autograder.layout import Course
from autograder.records.intake import collect, parse_map, read_roster


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a folder tree or a zip (Canvas, Moodle, or a zipped tree)")
    parser.add_argument(
        "--assignment",
        metavar="NAME",
        help="the assignment of every file; required for a Canvas or Moodle export",
    )
    parser.add_argument(
        "--students",
        metavar="CSV",
        help="roster mapping LMS ids to course ids (columns lms_id,student_id)",
    )
    parser.add_argument(
        "--map",
        metavar="NAME=ID",
        action="append",
        default=[],
        help="the student id of a hand-in (its folder or LMS name as written, or its LMS "
        "id), exactly as given; decides a student id conflict; repeatable; remembered",
    )


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    roster = read_roster(args.students) if args.students else None
    mapping = parse_map(args.map)
    report = collect(course, args.path, assignment=args.assignment, roster=roster, mapping=mapping)
    print(report.render())
    return 1 if report.conflicts or (report.skipped and not report.taken) else 0
