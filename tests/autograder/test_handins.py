"""Nothing lost, nobody harmed (issue 10): identities, links, bad files, clumsy hand-ins.

* identities: one normalisation rule; two hand-ins with one id are a conflict that
  collect refuses until --map decides; the CSV's ids are the roster's;
* links: collect and the grader read regular files only, never through a link;
* one bad file costs one student: deep JSON, damaged zip entries, a 900-term expression,
  a display output nested 3,000 deep;
* clumsy is not wrong: a byte-order mark, 32 MB of outputs, a copy-pasted exercise cell,
  stripped nbgrader metadata all grade full marks.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import struct
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from autograder import cli, demo, handin
from autograder.judging import integrity
from autograder.layout import Course
from autograder.records import grading, intake
from autograder.records.grading import GRADING_LIMITS
from autograder.records.intake import collect_folder, collect_zip, sanitize_student_id
from autograder.reporting import export
from autograder.sandbox import worker

LIMITS = replace(GRADING_LIMITS, cell_timeout=30)
LATER = datetime(2025, 3, 9, tzinfo=UTC)
# The hand-in helpers of test_collect.py (loaded by path: pytest runs in importlib mode).
_spec = importlib.util.spec_from_file_location(
    "collect_helpers", Path(__file__).with_name("test_collect.py")
)
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
WHEN, write_tree, small_nb = _helpers.WHEN, _helpers.write_tree, _helpers.nb


@pytest.fixture
def tiny(tmp_path) -> Course:
    return demo.tiny_course(tmp_path / "course")


def perfect(course: Course, **bodies) -> nbformat.NotebookNode:
    return nbformat.reads(demo.tiny_submission(course, **bodies).decode(), as_version=4)


def blank(course: Course) -> nbformat.NotebookNode:
    return nbformat.read(course.release / "tiny" / "tiny.ipynb", as_version=4)


def dump(nb) -> bytes:
    return (nbformat.writes(nb) + "\n").encode()


# ---------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "h_perfect",
        "H_Perfect",
        "H_PERFECT",
        "ｈ_ｐｅｒｆｅｃｔ",  # full-width look-alike (NFKC)
        "h\u200b_perfect",  # zero-width space
        "\ufeffh_perfect\u200d",  # byte-order mark, zero-width joiner
        "h_perf\u0435ct",  # Cyrillic е is NOT folded: a different id, no silent merge
    ],
)
def test_one_rule_normalises_student_ids(raw):
    expected = "h_perfct" if "\u0435" in raw else "h_perfect"
    assert sanitize_student_id(raw) == expected


def test_look_alike_and_case_variant_never_replace_an_existing_students_notebook(tiny, tmp_path):
    first = write_tree(
        tmp_path / "one",
        {"h_perfect/tiny/tiny.ipynb": small_nb("honest"), "h_blank/tiny/x.ipynb": small_nb("b")},
    )
    assert len(collect_folder(tiny, first).taken) == 2
    later = write_tree(
        tmp_path / "two",
        {
            "ｈ_ｐｅｒｆｅｃｔ/tiny/tiny.ipynb": small_nb("impostor"),
            "H_BLANK/tiny/tiny.ipynb": small_nb("impostor 2"),
        },
        LATER,
    )
    report = collect_folder(tiny, later)
    assert report.taken == [] and report.count("replaced") == 0
    assert len(report.conflicts) == 2
    assert "'ｈ_ｐｅｒｆｅｃｔ' makes the student id 'h_perfect', which 'h_perfect'" in "\n".join(
        report.conflicts
    )
    assert (tiny.submitted / "h_perfect" / "tiny" / "tiny.ipynb").read_bytes() == small_nb("honest")
    assert (tiny.submitted / "h_blank" / "tiny" / "tiny.ipynb").read_bytes() == small_nb("b")
    assert cli.main(["collect", "--course", str(tiny.root), str(later)]) == 1
    # The same student's newer hand-in still replaces their own.
    again = write_tree(tmp_path / "three", {"h_perfect/tiny/tiny.ipynb": small_nb("v2")}, LATER)
    assert [t.action for t in collect_folder(tiny, again).taken] == ["replaced"]


def test_bad_map_and_roster_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="expected NAME=ID"):
        intake.parse_map(["nothing"])
    with pytest.raises(ValueError, match="not a valid student id"):
        intake.parse_map(["H_Perfect=../x"])
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nJSmith\njsmith\n")
    with pytest.raises(ValueError, match="same id once normalised"):
        intake.read_roster_ids(roster)


# ---------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------


def test_collect_refuses_links_fifos_and_outside_hard_links_by_name(tiny, tmp_path, monkeypatch):
    outside = tmp_path / "outside.ipynb"
    outside.write_bytes(small_nb("outside"))
    src = write_tree(tmp_path / "in", {"alice/tiny/tiny.ipynb": small_nb("alice")})
    (src / "bob" / "tiny").mkdir(parents=True)
    (src / "bob" / "tiny" / "tiny.ipynb").symlink_to(tiny.source / "tiny" / "tiny.ipynb")
    (src / "eve").mkdir()
    (src / "eve" / "tiny").symlink_to(src / "alice" / "tiny")
    (src / "gus" / "tiny").mkdir(parents=True)
    (src / "gus" / "tiny" / "tiny.ipynb").symlink_to(tiny.gradebook)
    (src / "fay" / "tiny").mkdir(parents=True)
    os.mkfifo(src / "fay" / "tiny" / "tiny.ipynb")  # opening it would block forever
    (src / "hal" / "tiny").mkdir(parents=True)
    os.link(outside, src / "hal" / "tiny" / "tiny.ipynb")
    # Two hard links that are both in the tree are ordinary files.
    (src / "ivy" / "tiny").mkdir(parents=True)
    os.link(src / "alice" / "tiny" / "tiny.ipynb", src / "ivy" / "tiny" / "tiny.ipynb")

    opened = []
    real_open = intake.open_regular
    monkeypatch.setattr(intake, "open_regular", lambda p: opened.append(str(p)) or real_open(p))
    report = collect_folder(tiny, src)
    assert sorted(t.student for t in report.taken) == ["alice", "ivy"]
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons["bob/tiny/tiny.ipynb"].startswith("a symbolic link, not a file: refused")
    assert reasons["gus/tiny/tiny.ipynb"].startswith("a symbolic link, not a file: refused")
    assert reasons["eve/tiny"].startswith("a symbolic link to a folder: refused")
    assert reasons["fay/tiny/tiny.ipynb"].startswith("a named pipe (FIFO), not a file")
    assert reasons["hal/tiny/tiny.ipynb"] == (
        "a hard link to a file outside the hand-in folder: refused"
    )
    assert sorted(Path(p).relative_to(src).as_posix() for p in opened) == [
        "alice/tiny/tiny.ipynb",
        "ivy/tiny/tiny.ipynb",
    ]
    assert sorted(p.name for p in tiny.submitted.iterdir()) == ["alice", "ivy"]


def test_the_grader_never_reads_through_a_link(tiny, tmp_path):
    folder = demo.submit(tiny, "alice", "tiny", {"tiny.ipynb": demo.tiny_submission(tiny)})
    mallory = tiny.submitted / "mallory" / "tiny"
    mallory.mkdir(parents=True)
    (mallory / "tiny.ipynb").symlink_to(tiny.source / "tiny" / "tiny.ipynb")
    (tiny.submitted / "eve").mkdir()
    (tiny.submitted / "eve" / "tiny").symlink_to(folder)
    assert handin.submission_notebooks(folder) == [folder / "tiny.ipynb"]
    assert handin.submission_notebooks(mallory) == []
    assert handin.submission_notebooks(tiny.submitted / "eve" / "tiny") == []
    with pytest.raises(worker.InvalidNotebookError, match="symbolic link"):
        worker.read_submitted(mallory / "tiny.ipynb")
    os.mkfifo(tmp_path / "fifo.ipynb")
    with pytest.raises(worker.InvalidNotebookError, match="named pipe"):
        worker.read_submitted(tmp_path / "fifo.ipynb")
    os.link(folder / "tiny.ipynb", tmp_path / "hard.ipynb")
    with pytest.raises(worker.InvalidNotebookError, match="hard link"):
        worker.read_submitted(tmp_path / "hard.ipynb")
    assert handin.submission_notebooks(folder) == []  # its notebook has two names now


# ---------------------------------------------------------------------------------------
# One bad file costs one student
# ---------------------------------------------------------------------------------------

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


def test_json_nested_100000_deep_is_collected_with_a_warning_and_the_others_too(tiny, tmp_path):
    src = write_tree(
        tmp_path / "in",
        {"deep/tiny/tiny.ipynb": DEEP_JSON, "alice/tiny/tiny.ipynb": small_nb("a")},
    )
    report = collect_folder(tiny, src)
    assert sorted(t.student for t in report.taken) == ["alice", "deep"]
    assert any("nested too deeply" in w for w in report.warnings)
    with pytest.raises(worker.InvalidNotebookError, match="nests JSON too deeply"):
        worker.read_submitted(tiny.submitted / "deep" / "tiny" / "tiny.ipynb")


def _zip(path: Path, files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=WHEN.timetuple()[:6])
            info.extra = (extra or {}).get(name, b"")
            zf.writestr(info, data)
    return path


def _set_dos_month(path: Path, entry: str, month: int) -> None:
    """Rewrite the month of `entry`'s date in the central directory."""
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack("<H", data[pos + 28 : pos + 30])[0]
        if data[pos + 46 : pos + 46 + n].decode() == entry:
            date = struct.unpack("<H", data[pos + 14 : pos + 16])[0]
            date = (date & ~(0xF << 5)) | (month << 5)
            data[pos + 14 : pos + 16] = struct.pack("<H", date)
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))


def test_zip_entry_with_month_zero_costs_that_entry_only(tiny, tmp_path):
    z = _zip(
        tmp_path / "c.zip",
        {"amy/tiny/tiny.ipynb": small_nb("a"), "bob/tiny/tiny.ipynb": small_nb("b")},
    )
    _set_dos_month(z, "bob/tiny/tiny.ipynb", 0)
    report = collect_zip(tiny, z)
    assert [t.student for t in report.taken] == ["amy"]
    (bad,) = report.skipped
    assert bad.source == "bob/tiny/tiny.ipynb" and "date in the zip is impossible" in bad.reason


def test_zip_entry_with_a_truncated_extra_field_costs_that_entry_only(tiny, tmp_path):
    z = _zip(
        tmp_path / "c.zip",
        {f"{name}/tiny/tiny.ipynb": small_nb(name[0]) for name in ("amy", "bob", "cat")},
        extra={"bob/tiny/tiny.ipynb": struct.pack("<HH", 0xCAFE, 16) + b"abc"},
    )
    with pytest.raises(zipfile.BadZipFile, match="extra field"):
        zipfile.ZipFile(z)  # what Python makes of it: the whole archive refused
    report = collect_zip(tiny, z)
    assert sorted(t.student for t in report.taken) == ["amy", "cat"]
    (bad,) = report.skipped
    assert bad.source == "bob/tiny/tiny.ipynb" and "truncated extra field" in bad.reason
    assert (tiny.submitted / "cat" / "tiny" / "tiny.ipynb").read_bytes() == small_nb("c")


def test_a_900_term_expression_is_scanned_not_raised():
    hidden = "import numpy as np\nx = " + " + ".join(["1"] * 900) + "\nnp.allclose = None\n"
    flags = [f.flag() for f in integrity.scan_source(hidden)]
    assert flags[0].startswith("suspicious:deep-nesting:")
    assert "tamper:patches-module: assigns numpy.allclose (line 3)" in flags  # still seen
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(hidden)])
    assert [f.rule for f in integrity.scan_notebook(nb)] == ["deep-nesting", "patches-module"]
    # Deeper than Python's own parser goes: nothing can be checked, a person reviews it.
    deeper = "x = " + " + ".join(["1"] * 5000)
    (finding,) = integrity.scan_source(deeper)
    assert (finding.severity, finding.rule) == (integrity.TAMPER, "unscannable")


# ---------------------------------------------------------------------------------------
# The class: identities, links, bad files and clumsy hand-ins, graded together
# ---------------------------------------------------------------------------------------

LONG_SUM = "total = " + " + ".join(["1"] * 900) + "\n"
DEEP_DISPLAY = (
    "import json, sys\nfrom IPython.display import display\nsys.setrecursionlimit(100000)\n"
    "display({'application/json': json.loads('[' * 3000 + ']' * 3000)}, raw=True)\n"
)


def _with_cell(nb, after_id: str, source: str):
    at = next(i for i, c in enumerate(nb.cells) if c.get("id") == after_id)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    return nb


def _big_outputs(nb, megabytes: int):
    png = "A" * (2**20)  # a megabyte of base64 "image"
    for cell in nb.cells:
        if cell.get("id") == "add-impl":
            cell.outputs = [
                nbformat.v4.new_output("display_data", data={"image/png": png})
                for _ in range(megabytes)
            ]
    return nb


def _duplicated(nb):
    at = next(i for i, c in enumerate(nb.cells) if c.get("id") == "add-impl")
    first = nbformat.from_dict(json.loads(json.dumps(nb.cells[at])))
    first["id"] = "add-impl-draft"
    first.source = "def add(a, b):\n    return 0  # my first try\n"
    nb.cells.insert(at, first)  # the draft above, the final version (as run last) below
    return nb


def _stripped(nb):
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


def _hand_in_class(course: Course, tmp_path: Path) -> dict[str, float]:
    """Collect and submit the class; return student -> expected score (of 5)."""
    # Identities: the honest h_perfect and an H_Perfect with a blank notebook.
    tree = write_tree(
        tmp_path / "hand-ins",
        {
            "h_perfect/tiny/tiny.ipynb": dump(perfect(course)),
            "H_Perfect/tiny/tiny.ipynb": dump(blank(course)),
        },
    )
    refused = collect_folder(course, tree)
    assert refused.taken == [] and len(refused.conflicts) == 2
    mapped = collect_folder(course, tree, mapping={"H_Perfect": "h_perfect2"})
    assert sorted((t.student, t.source) for t in mapped.taken) == [
        ("h_perfect", "h_perfect/tiny/tiny.ipynb"),
        ("h_perfect2", "H_Perfect/tiny/tiny.ipynb"),
    ]
    files = {
        "perfect": dump(perfect(course)),
        "bom": b"\xef\xbb\xbf" + dump(perfect(course)),
        "big_outputs": dump(_big_outputs(perfect(course), 32)),
        "duplicated": dump(_duplicated(perfect(course))),
        "stripped": dump(_stripped(perfect(course))),
        "deep_json": DEEP_JSON,
        "long_sum": dump(_with_cell(perfect(course), "mul-tests", LONG_SUM)),
        "deep_display": dump(_with_cell(perfect(course), "add-impl", DEEP_DISPLAY)),
    }
    for student, data in files.items():
        demo.submit(course, student, "tiny", {"tiny.ipynb": data})
    assert len(files["big_outputs"]) > 32 * 2**20 > worker.MAX_NOTEBOOK_BYTES
    # Links planted straight into submitted/ (what collect refuses; the grader must too).
    for student, target in (
        ("link_source", course.source / "tiny" / "tiny.ipynb"),
        ("link_gradebook", course.gradebook),
    ):
        folder = demo.submit(course, student, "tiny", {})
        (folder / "tiny.ipynb").symlink_to(target)
    (course.submitted / "link_folder").mkdir()
    (course.submitted / "link_folder" / "tiny").symlink_to(course.submitted / "perfect" / "tiny")
    expected = dict.fromkeys(files, 5.0)
    expected.update(
        h_perfect=5.0, h_perfect2=0.0, deep_json=0.0, link_source=0.0, link_gradebook=0.0,
        link_folder=0.0,
    )  # fmt: skip
    return expected


@pytest.mark.slow
def test_the_class_honest_work_keeps_its_points_and_no_one_takes_another_s(tiny, tmp_path):
    expected = _hand_in_class(tiny, tmp_path)
    report = grading.grade(tiny, workers=2, limits=LIMITS, progress=False)
    got = {o.student: o for o in report.outcomes}
    problems = [
        f"{student}: {got[student].line() if student in got else '-'} (expected {points}/5)"
        for student, points in sorted(expected.items())
        if student not in got or got[student].status != "graded" or got[student].score != points
    ]
    assert not problems, "\n".join(problems)

    assert "ignored a UTF-8 byte-order mark" in got["bom"].message
    assert "the last one is graded" in got["duplicated"].message
    assert "matched to the release notebook in order" in got["stripped"].message
    assert any("nests JSON too deeply" in f for f in got["deep_json"].flags), got["deep_json"]
    assert any(f.startswith("suspicious:deep-nesting") for f in got["long_sum"].flags)
    assert got["deep_display"].exec_status != "sandbox_error"
    executed = nbformat.read(tiny.autograded / "deep_display" / "tiny" / "tiny.ipynb", 4)
    errors = [o.get("ename") for c in executed.cells for o in c.get("outputs", [])]
    assert "OutputError" in errors
    for student in ("link_source", "link_gradebook", "link_folder"):
        assert any("missing notebook tiny" in f for f in got[student].flags), got[student]
        assert "symbolic link" in got[student].message, got[student].message

    # The CSV's ids are exactly the roster's, in its order; "Perfect" is perfect's id
    # once normalised; a roster student without a hand-in has a row with no score.
    roster = ["h_perfect", "h_perfect2", "Perfect", "nobody"]
    left_out: list[str] = []
    path = export.export_csv(tiny, tmp_path / "lms.csv", roster=roster, left_out=left_out)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows] == ["student_id", *roster]
    assert [r[1] for r in rows[1:]] == ["5.00", "0.00", "5.00", ""]
    assert "bom" in left_out and "perfect" not in left_out
    assert cli.main(["export", "--course", str(tiny.root), "--roster", str(_roster(tmp_path))]) == 1


def _roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("lms_id,student_id\n1,h_perfect\n2,h_perfect2\n")
    return path
