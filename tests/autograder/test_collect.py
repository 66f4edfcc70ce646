"""collect: folder trees and LMS zips into submitted/, with a report of every entry."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbgrader.utils import parse_utc

from autograder import cli, layout
from autograder.layout import Course
from autograder.records import intake
from autograder.records.intake import (
    collect_folder,
    collect_zip,
    read_roster,
    sanitize_student_id,
)


def _fixtures():
    name = "reporting_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


rf = _fixtures()
NB = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
WHEN = datetime(2025, 3, 4, 5, 6, 8, tzinfo=UTC)


def nb(tag: str) -> bytes:
    """A distinct valid notebook."""
    return json.dumps(
        {"cells": [], "metadata": {"tag": tag}, "nbformat": 4, "nbformat_minor": 5}
    ).encode()


@pytest.fixture
def course(tmp_path) -> Course:
    return Course.at(rf.make_course(tmp_path / "course"))


def write_tree(root: Path, files: dict[str, bytes], when: datetime = WHEN) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (when.timestamp(), when.timestamp()))
    return root


def write_zip(path: Path, files: dict[str, bytes], when: datetime = WHEN) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def submitted(course: Course) -> list[str]:
    return sorted(str(p.relative_to(course.submitted)) for p in course.submitted.rglob("*.*"))


# --------------------------------------------------------------------------- folder tree


def test_folder_tree(course, tmp_path):
    src = write_tree(
        tmp_path / "in",
        {
            "alice/a1/a1.ipynb": nb("alice"),
            "alice/a1/notes.txt": b"hi",
            "bob/a1/Copy of a1.ipynb": nb("bob"),
            "bob/b2/b2 (1).ipynb": nb("bob2"),
            "bob/zz/x.ipynb": nb("x"),
            "José García/a1/a1.ipynb": nb("jose"),
            "carol/a1/.ipynb_checkpoints/a1-checkpoint.ipynb": nb("old"),
            ".DS_Store": b"",
            "README.md": b"read me",
        },
    )
    report = collect_folder(course, src)
    assert submitted(course) == [
        "alice/a1/a1.ipynb",
        "alice/a1/timestamp.txt",
        "bob/a1/a1.ipynb",
        "bob/a1/timestamp.txt",
        "bob/b2/b2.ipynb",
        "bob/b2/timestamp.txt",
        "jose_garcia/a1/a1.ipynb",
        "jose_garcia/a1/timestamp.txt",
    ]
    assert (course.submitted / "bob" / "a1" / "a1.ipynb").read_bytes() == nb("bob")
    assert {(t.dest, t.renamed_from) for t in report.renamed} == {
        ("bob/a1/a1.ipynb", "Copy of a1.ipynb"),
        ("bob/b2/b2.ipynb", "b2 (1).ipynb"),
    }
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons["alice/a1/notes.txt"] == "not a notebook (.ipynb)"
    assert reasons["bob/zz/x.ipynb"].startswith("unknown assignment 'zz'")
    assert reasons["README.md"].startswith("cannot tell whose file this is")
    assert report.ignored == 2  # .DS_Store and .ipynb_checkpoints/
    assert report.students["José García"] == "jose_garcia"
    text = report.render()
    assert text.startswith("collected 4 notebook(s): 4 new, 0 replaced by a newer one")
    assert (
        "new       submitted/bob/a1/a1.ipynb  <- bob/a1/Copy of a1.ipynb  (was 'Copy of a1.ipynb')"
        in text
    )
    assert "skipped   alice/a1/notes.txt: not a notebook (.ipynb)" in text
    assert "student   'José García' -> jose_garcia" in text


def test_timestamp_is_the_files_mtime_in_nbgraders_format(course, tmp_path):
    collect_folder(course, write_tree(tmp_path / "in", {"alice/a1/a1.ipynb": NB}))
    text = (course.submitted / "alice" / "a1" / "timestamp.txt").read_text().strip()
    assert text == "2025-03-04T05:06:08+00:00"
    assert parse_utc(text) == WHEN.replace(tzinfo=None)


def test_collecting_again_is_idempotent(course, tmp_path):
    src = write_tree(tmp_path / "in", {"alice/a1/a1.ipynb": nb("a"), "bob/a1/a1.ipynb": nb("b")})
    collect_folder(course, src)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in course.submitted.rglob("*.*")}
    report = collect_folder(course, src)
    assert [t.action for t in report.taken] == ["unchanged", "unchanged"]
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in course.submitted.rglob("*.*")}
    assert after == before


def test_newer_submission_replaces_older_is_kept(course, tmp_path):
    collect_folder(course, write_tree(tmp_path / "v1", {"alice/a1/a1.ipynb": nb("v1")}))
    later = datetime(2025, 3, 5, tzinfo=UTC)
    report = collect_folder(
        course, write_tree(tmp_path / "v2", {"alice/a1/a1.ipynb": nb("v2")}, later)
    )
    dest = course.submitted / "alice" / "a1"
    assert [t.action for t in report.taken] == ["replaced"]
    assert "replaced  submitted/alice/a1/a1.ipynb" in report.render()
    assert (dest / "a1.ipynb").read_bytes() == nb("v2")
    assert (dest / "timestamp.txt").read_text().strip() == "2025-03-05T00:00:00+00:00"
    # an older copy (say, an earlier export) does not overwrite the newer one
    report = collect_folder(course, write_tree(tmp_path / "v0", {"alice/a1/a1.ipynb": nb("v0")}))
    assert report.taken == [] and "older than the copy already in" in report.skipped[0].reason
    assert (dest / "a1.ipynb").read_bytes() == nb("v2")


def test_invalid_json_is_collected_with_a_warning(course, tmp_path):
    report = collect_folder(course, write_tree(tmp_path / "in", {"amy/a1/a1.ipynb": b"{oops"}))
    assert (course.submitted / "amy" / "a1" / "a1.ipynb").read_bytes() == b"{oops"
    assert len(report.warnings) == 1 and "not valid JSON" in report.warnings[0]


def test_several_notebooks_expected(course, tmp_path):
    src = write_tree(
        tmp_path / "in",
        {
            "amy/c3/c3_part1.ipynb": nb("1"),
            "amy/c3/c3-part2 (2).ipynb": nb("2"),
            "amy/c3/scratch.ipynb": nb("s"),
            "ben/c3/C3_Part1.ipynb": nb("b1"),
            "ben/c3/c3_part1-1.ipynb": nb("b1 again"),
        },
    )
    report = collect_folder(course, src)
    assert sorted(t.dest for t in report.taken) == [
        "amy/c3/c3_part1.ipynb",
        "amy/c3/c3_part2.ipynb",
        "ben/c3/c3_part1.ipynb",
    ]
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons["amy/c3/scratch.ipynb"].startswith("no expected notebook matches")
    assert "was taken as c3_part1.ipynb instead" in reasons["ben/c3/c3_part1-1.ipynb"]


def test_with_assignment_a_flat_student_folder_works(course, tmp_path):
    src = write_tree(tmp_path / "in", {"amy/my work.ipynb": nb("a"), "ben/a1/a1.ipynb": nb("b")})
    report = collect_folder(course, src, assignment="a1")
    assert sorted(t.dest for t in report.taken) == ["amy/a1/a1.ipynb", "ben/a1/a1.ipynb"]
    with pytest.raises(ValueError, match="unknown assignment 'nope'"):
        collect_folder(course, src, assignment="nope")


# --------------------------------------------------------------------------- LMS zips


def test_canvas_zip(course, tmp_path):
    z = write_zip(
        tmp_path / "canvas.zip",
        {
            "smithjohn_12345_67890_a1.ipynb": nb("john"),
            "doejane_LATE_222_333_a1-1.ipynb": nb("jane"),
            "doejane_LATE_222_333_notes.pdf": b"%PDF",
            "__MACOSX/._smithjohn_12345_67890_a1.ipynb": b"junk",
        },
    )
    report = collect_zip(course, z, "a1")
    assert sorted(t.dest for t in report.taken) == ["doejane/a1/a1.ipynb", "smithjohn/a1/a1.ipynb"]
    assert report.renamed[0].renamed_from == "a1-1.ipynb"
    assert report.skipped[0].reason == "not a notebook (.ipynb)"
    assert report.ignored == 1
    stamp = (course.submitted / "smithjohn" / "a1" / "timestamp.txt").read_text().strip()
    assert stamp == "2025-03-04T05:06:08+00:00"  # the entry's time


def test_zipped_folder_is_read_inside_its_top_folder(course, tmp_path):
    z = write_zip(
        tmp_path / "tree.zip",
        {"hand-ins/amy/a1/a1.ipynb": nb("a"), "hand-ins/ben/b2/b2.ipynb": nb("b")},
    )
    report = collect_zip(course, z)
    assert sorted(t.dest for t in report.taken) == ["amy/a1/a1.ipynb", "ben/b2/b2.ipynb"]
    assert report.warnings == ["everything is inside hand-ins/: read the layout there"]


def test_canvas_zip_needs_the_assignment(course, tmp_path):
    z = write_zip(tmp_path / "canvas.zip", {"smithjohn_12345_67890_a1.ipynb": NB})
    report = collect_zip(course, z)
    assert report.taken == [] and "--assignment" in report.skipped[0].reason
    assert cli.main(["collect", "--course", str(course.root), str(z)]) == 1


def test_roster_maps_lms_ids(course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("lms_id,student_id\n12345,jsmith\n")
    z = write_zip(
        tmp_path / "c.zip",
        {"smithjohn_12345_67890_a1.ipynb": nb("j"), "doejane_222_333_a1.ipynb": nb("d")},
    )
    report = collect_zip(course, z, "a1", roster=read_roster(roster))
    assert sorted(t.student for t in report.taken) == ["doejane", "jsmith"]
    assert (
        "1 LMS id(s) not in the roster, ids made from the names: 222 (doejane)" in report.warnings
    )


def test_bad_roster(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("id,name\n1,x\n")
    with pytest.raises(ValueError, match="lms_id,student_id"):
        read_roster(bad)
    bad.write_text("lms_id,student_id\n1,../evil\n")
    with pytest.raises(ValueError, match="not a valid id"):
        read_roster(bad)


def test_name_collisions_are_refused_until_mapped_and_remembered(course, tmp_path):
    """Two LMS users with one name: neither gets the id by chance; --map decides."""
    z = write_zip(
        tmp_path / "one.zip",
        {"smithjohn_111_1_a1.ipynb": nb("first"), "smithjohn_222_2_a1.ipynb": nb("second")},
    )
    report = collect_zip(course, z, "a1")
    assert report.taken == [] and len(report.conflicts) == 2
    assert all("student id conflict" in s.reason for s in report.skipped)
    assert "--map '111'=ID" in report.render()
    assert not course.submitted.exists()
    assert cli.main(["collect", "--course", str(course.root), "--assignment", "a1", str(z)]) == 1
    report = collect_zip(course, z, "a1", mapping={"222": "smithjohn_222"})
    by_source = {t.source: t.student for t in report.taken}
    assert by_source == {
        "smithjohn_111_1_a1.ipynb": "smithjohn",
        "smithjohn_222_2_a1.ipynb": "smithjohn_222",
    }
    assert report.conflicts == []
    # A later export that holds only the second John still maps him to smithjohn_222.
    z2 = write_zip(tmp_path / "two.zip", {"smithjohn_222_5_b2.ipynb": nb("b2")})
    assert [t.student for t in collect_zip(course, z2, "b2").taken] == ["smithjohn_222"]


def test_folder_names_that_make_the_same_id(course, tmp_path):
    """Two folders that normalise to one id are a conflict, in one import or across
    imports: an existing student's notebook is never replaced by another folder's."""
    both = write_tree(tmp_path / "one", {"Jose/a1/a1.ipynb": nb("1"), "José/a1/a1.ipynb": nb("2")})
    report = collect_folder(course, both)
    assert report.taken == [] and len(report.conflicts) == 2
    report = collect_folder(course, both, mapping={"José": "jose_g"})
    assert sorted((t.student, t.source) for t in report.taken) == [
        ("jose", "Jose/a1/a1.ipynb"),
        ("jose_g", "José/a1/a1.ipynb"),
    ]
    later = datetime(2025, 4, 1, tzinfo=UTC)
    again = write_tree(tmp_path / "two", {"JOSE/a1/a1.ipynb": nb("3")}, later)
    report = collect_folder(course, again)
    assert report.taken == [] and "'JOSE'" in report.conflicts[0]
    assert (course.submitted / "jose" / "a1" / "a1.ipynb").read_bytes() == nb("1")
    newer = write_tree(tmp_path / "three", {"Jose/a1/a1.ipynb": nb("4")}, later)
    assert [t.action for t in collect_folder(course, newer).taken] == ["replaced"]


def test_moodle_zip(course, tmp_path):
    z = write_zip(
        tmp_path / "moodle.zip",
        {
            "José García_4242_assignsubmission_file_/a1.ipynb": nb("j"),
            "Ann Lee_77_assignsubmission_file_/Copy of a1.ipynb": nb("a"),
            "Ann Lee_77_assignsubmission_onlinetext_/onlinetext.html": b"<p>",
        },
    )
    report = collect_zip(course, z, "a1")
    assert sorted(t.dest for t in report.taken) == [
        "ann_lee/a1/a1.ipynb",
        "jose_garcia/a1/a1.ipynb",
    ]
    assert "onlinetext submission" in report.skipped[0].reason


def test_zip_slip_is_refused(course, tmp_path):
    z = write_zip(
        tmp_path / "evil.zip",
        {
            "../evil.ipynb": NB,
            "/abs/a1/a1.ipynb": NB,
            "ok/../../a1.ipynb": NB,
            "..\\win.ipynb": NB,
            "amy/a1/a1.ipynb": NB,
        },
    )
    report = collect_zip(course, z)
    assert [t.dest for t in report.taken] == ["amy/a1/a1.ipynb"]
    assert len(report.skipped) == 4
    assert all("unsafe path" in s.reason for s in report.skipped)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "evil.zip"]
    assert not list(course.root.rglob("evil.ipynb")) and not list(course.root.rglob("win.ipynb"))


def test_zip_bomb_entry_and_total_are_refused(course, tmp_path, monkeypatch):
    big = write_zip(
        tmp_path / "big.zip",
        {"amy/a1/a1.ipynb": b"\0" * (intake.MAX_ENTRY_BYTES + 1), "ben/a1/a1.ipynb": NB},
    )
    report = collect_zip(course, big)
    assert [t.student for t in report.taken] == ["ben"]
    assert "over the 50 MB limit" in report.skipped[0].reason
    monkeypatch.setattr(intake, "MAX_TOTAL_BYTES", 100)
    many = write_zip(tmp_path / "many.zip", {f"s{i}/a1/a1.ipynb": NB for i in range(3)})
    with pytest.raises(ValueError, match="more than 2 GB"):
        collect_zip(course, many)
    assert not (course.submitted / "s0").exists()


def test_reads_are_capped_whatever_size_an_entry_declares(monkeypatch):
    monkeypatch.setattr(intake, "MAX_ENTRY_BYTES", 999)
    read = intake._capped_reader(lambda: io.BytesIO(b"x" * 1000), "amy/a1/a1.ipynb")
    with pytest.raises(ValueError, match="larger than"):
        read()


def test_not_a_zip(course, tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK nope")
    with pytest.raises(ValueError, match="not a readable zip"):
        collect_zip(course, bad)


@pytest.mark.slow
def test_students_are_registered_in_the_gradebook(course, tmp_path):
    from autograder.records.gradebook import open_gradebook
    from autograder.records.gradebook import students as gradebook_students

    z = write_zip(tmp_path / "c.zip", {"smithjohn_12345_67890_a1.ipynb": NB})
    collect_zip(course, z, "a1")
    assert not course.gradebook.exists()  # no gradebook yet: none is created
    with open_gradebook(course, create=True):
        pass
    collect_zip(course, z, "a1")
    assert gradebook_students(course) == ["smithjohn"]


def test_cli_collect_prints_the_report(course, tmp_path, capsys):
    src = write_tree(tmp_path / "in", {"amy/a1/Copy of a1.ipynb": NB, "amy/a1/x.txt": b""})
    assert cli.main(["collect", "--course", str(course.root), str(src)]) == 0
    out = capsys.readouterr().out
    assert "1 renamed; 1 skipped" in out and "(was 'Copy of a1.ipynb')" in out
    with pytest.raises(SystemExit):
        cli.main(["collect", "--help"])
    help_text = capsys.readouterr().out
    assert "Import submissions from a folder tree or an LMS export zip" in help_text
    assert "--assignment" in help_text and "--students" in help_text


# --------------------------------------------------------------------------- student ids


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José García", "jose_garcia"),
        ("O'Brien, Seán", "obrien_sean"),
        ("Jürgen Groß", "jurgen_gross"),
        ("  Łukasz  Żak ", "lukasz_zak"),
        ("alice", "alice"),
        ("Alice.B-2", "alice.b-2"),
        ("__x", "x"),
        ("李雷", ""),
    ],
)
def test_sanitize_student_id(raw, expected):
    assert sanitize_student_id(raw) == expected


@given(st.text(max_size=80))
def test_sanitized_ids_are_valid_and_stable(raw):
    sid = sanitize_student_id(raw)
    assert sid == "" or layout.STUDENT_ID.match(sid)
    assert sanitize_student_id(sid) == sid


def test_unusable_name_falls_back_to_the_lms_id(course, tmp_path):
    z = write_zip(tmp_path / "m.zip", {"李雷_99_assignsubmission_file_/a1.ipynb": NB})
    report = collect_zip(course, z, "a1")
    assert [t.student for t in report.taken] == ["student_99"]
