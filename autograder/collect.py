"""Import submissions from a folder tree or an LMS export zip into submitted/.

    python -m autograder collect hand-ins/                          <student>/<assignment>/*.ipynb
    python -m autograder collect canvas.zip --assignment 01_convolution
    python -m autograder collect moodle.zip --assignment 01_convolution --students roster.csv

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
as renamed. Student ids are made safe (lowercase, accents stripped, spaces to "_"); two
people who end up with the same id are told apart (and listed), and the choice is kept in
.grading/student_ids.json so that later imports map them the same way. --students maps LMS
ids (Canvas user id, Moodle participant id) to course ids: a CSV with columns
lms_id,student_id.

Each notebook lands in submitted/<student>/<assignment>/<notebook>.ipynb with its
submission time in timestamp.txt (the zip entry's or the file's modification time, UTC).
Collecting the same file again changes nothing; a newer one replaces the older one. Zip
entries with absolute paths or "..", entries over 50 MB and archives over 2 GB
uncompressed are refused; __MACOSX/ and dotfiles are ignored. A notebook that is not
valid JSON is still collected (grading gives it 0 and a flag), with a warning.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import os
import re
import stat
import struct
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath

from autograder import layout
from autograder.layout import Course

MAX_ENTRY_BYTES = 50 * 2**20  #: one file over this is refused
MAX_TOTAL_BYTES = 2 * 2**30  #: an archive over this (uncompressed) is refused whole
MAX_ENTRIES = 50_000  #: an archive with more entries is refused whole

#: Canvas: <lastfirst>[_LATE]_<user id>_<submission id>_<original file name>
CANVAS_NAME = re.compile(
    r"^(?P<name>[^_/]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>[^/]+)$"
)
#: Moodle: <Full Name>_<participant id>_assignsubmission_file_ (a folder, or a file prefix)
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_file_(?P<file>.+)$")

#: Letters that Unicode does not decompose into an ASCII base letter.
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l",
     "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ı": "i"}
)  # fmt: skip


def sanitize_student_id(raw: str) -> str:
    """A folder-safe student id that matches `layout.STUDENT_ID`, or "" if none is left.

    "José García" → "jose_garcia"; "O'Brien, Seán" → "obrien_sean".
    """
    text = unicodedata.normalize("NFKD", raw.translate(_TRANSLITERATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()
    text = re.sub(r"[\s,]+", "_", text)
    text = re.sub(r"[^a-z0-9_.-]", "", text)
    text = re.sub(r"_+", "_", text)
    text = re.sub(r"^[^a-z0-9]+", "", text)[:64]
    return text if layout.STUDENT_ID.match(text) else ""


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Taken:
    """A notebook written to (or already identical in) submitted/."""

    student: str
    assignment: str
    notebook: str  # the expected name, without .ipynb
    source: str  # where it came from (path inside the zip or the folder)
    action: str  # "new", "replaced" (a newer submission), "unchanged"
    renamed_from: str | None = None  # the student's file name when it was renamed

    @property
    def dest(self) -> str:
        return f"{self.student}/{self.assignment}/{self.notebook}.ipynb"


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass
class CollectReport:
    """What a collect did: every entry of the input is in exactly one list (or `ignored`)."""

    taken: list[Taken] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored: int = 0  # __MACOSX/, dotfiles, folders
    students: dict[str, str] = field(default_factory=dict)  # LMS name/id -> student id

    @property
    def renamed(self) -> list[Taken]:
        return [t for t in self.taken if t.renamed_from]

    def count(self, action: str) -> int:
        return sum(t.action == action for t in self.taken)

    def render(self) -> str:
        """The report a TA reads: a summary line, then one line per entry."""
        lines = [
            f"collected {len(self.taken)} notebook(s): {self.count('new')} new, "
            f"{self.count('replaced')} replaced by a newer one, {self.count('unchanged')} "
            f"unchanged; {len(self.renamed)} renamed; {len(self.skipped)} skipped"
            + (
                f"; {self.ignored} system files ignored (__MACOSX/, dotfiles)"
                if self.ignored
                else ""
            )
        ]
        for t in sorted(self.taken, key=lambda t: (t.dest, t.source)):
            note = f"  (was {t.renamed_from!r})" if t.renamed_from else ""
            lines.append(f"  {t.action:<9} submitted/{t.dest}  <- {t.source}{note}")
        for s in sorted(self.skipped, key=lambda s: s.source):
            lines.append(f"  skipped   {s.source}: {s.reason}")
        for name, sid in sorted(self.students.items()):
            if name != sid:
                lines.append(f"  student   {name!r} -> {sid}")
        for w in self.warnings:
            lines.append(f"  warning   {w}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Entry:
    """One file of the input, wherever it comes from."""

    name: str  # "/"-separated path relative to the input's root
    size: int
    mtime: datetime  # aware, UTC
    read: Callable[[], bytes]


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" or p == "__pycache__" for p in parts)


def _zip_mtime(info: zipfile.ZipInfo) -> datetime:
    """An entry's modification time: the Info-ZIP extended timestamp (UTC) when present,
    else the DOS time, which has no time zone and is taken as UTC (LMS servers run on UTC)."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        if tag == 0x5455 and size >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], UTC)
        extra = extra[4 + size :]
    return datetime(*info.date_time, tzinfo=UTC)


def _capped_reader(open_stream: Callable, name: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with open_stream() as f:
            data = f.read(MAX_ENTRY_BYTES + 1)
        if len(data) > MAX_ENTRY_BYTES:
            raise ValueError(f"{name} is larger than {MAX_ENTRY_BYTES // 2**20} MB")
        return data

    return read


def _zip_entries(zf: zipfile.ZipFile, report: CollectReport) -> list[_Entry]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ValueError(f"the zip has {len(infos)} entries (at most {MAX_ENTRIES} accepted)")
    entries = []
    total = 0
    for info in infos:
        raw = info.filename
        name = raw.replace("\\", "/")
        parts = tuple(p for p in name.split("/") if p not in ("", "."))
        if info.is_dir():
            report.ignored += 1
            continue
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            report.skipped.append(Skipped(raw, "unsafe path (absolute or '..'): refused"))
            continue
        if _ignored(parts):
            report.ignored += 1
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            report.skipped.append(Skipped(raw, "a symbolic link, not a file"))
            continue
        if info.flag_bits & 0x1:
            report.skipped.append(Skipped(raw, "encrypted (password-protected zip)"))
            continue
        if info.file_size > MAX_ENTRY_BYTES:
            report.skipped.append(
                Skipped(raw, f"{info.file_size / 2**20:.0f} MB uncompressed: over the 50 MB limit")
            )
            continue
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ValueError(
                "the zip holds more than 2 GB uncompressed: refused (a zip bomb, or not a "
                "submissions export)"
            )
        entries.append(
            _Entry(
                "/".join(parts),
                info.file_size,
                _zip_mtime(info),
                _capped_reader(lambda info=info: zf.open(info), raw),
            )
        )
    return entries


def _folder_entries(root: Path, report: CollectReport) -> list[_Entry]:
    entries = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).parts
        for d in sorted(dirnames):
            if (here / d).is_symlink():
                report.skipped.append(Skipped("/".join((*rel_dir, d)), "a symbolic link"))
            elif _ignored((d,)):
                report.ignored += 1
        dirnames[:] = sorted(d for d in dirnames if not _ignored((d,)))
        for fname in sorted(filenames):
            path = here / fname
            rel = "/".join((*rel_dir, fname))
            if _ignored((fname,)):
                report.ignored += 1
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
                report.skipped.append(Skipped(rel, "not a regular file (link or device)"))
                continue
            if st.st_size > MAX_ENTRY_BYTES:
                report.skipped.append(
                    Skipped(rel, f"{st.st_size / 2**20:.0f} MB: over the 50 MB limit")
                )
                continue
            entries.append(
                _Entry(
                    rel,
                    st.st_size,
                    datetime.fromtimestamp(int(st.st_mtime), UTC),
                    _capped_reader(partial(path.open, "rb"), rel),
                )
            )
    return entries


# --------------------------------------------------------------------------- students


def read_roster(path: str | Path) -> dict[str, str]:
    """LMS id -> course student id, from a CSV with the columns lms_id,student_id."""
    roster: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"lms_id", "student_id"} <= set(reader.fieldnames):
            raise ValueError(
                f"{path}: a roster needs the columns lms_id,student_id; got {reader.fieldnames}"
            )
        for line, row in enumerate(reader, start=2):
            lms_id, sid = (row["lms_id"] or "").strip(), (row["student_id"] or "").strip()
            if not lms_id and not sid:
                continue
            if not layout.STUDENT_ID.match(sid):
                raise ValueError(
                    f"{path}, line {line}: student_id {sid!r} is not a valid id "
                    "(letters, digits, '_', '.', '-'; at most 64 characters)"
                )
            if lms_id in roster and roster[lms_id] != sid:
                raise ValueError(f"{path}, line {line}: lms_id {lms_id} appears twice")
            roster[lms_id] = sid
    return roster


@dataclass(frozen=True)
class _Who:
    """Whom an entry belongs to, as the input names them."""

    key: str  # stable identity: "canvas:<uid>", "moodle:<uid>", "folder:<name>"
    name: str  # the name as written in the input
    lms_id: str | None = None


def _ids_path(course: Course) -> Path:
    return course.state / "student_ids.json"


def _assign_ids(
    course: Course, people: Iterable[_Who], roster: dict[str, str] | None, report: CollectReport
) -> dict[str, str]:
    """identity key -> student id: from the roster, from earlier imports, or sanitised
    from the name; two identities never get the same id (the later one gets a suffix)."""
    try:
        known: dict[str, str] = json.loads(_ids_path(course).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    ids: dict[str, str] = {}
    taken_by = {sid: key for key, sid in known.items()}
    people = sorted(set(people), key=lambda w: w.key)
    present = {w.key for w in people}
    fresh, not_in_roster = [], []
    for who in people:
        if roster is not None and who.lms_id is not None:
            if who.lms_id in roster:
                ids[who.key] = roster[who.lms_id]
                taken_by.setdefault(ids[who.key], who.key)
                report.students[f"{who.name} (LMS id {who.lms_id})"] = ids[who.key]
                continue
            not_in_roster.append(f"{who.lms_id} ({who.name})")
        if who.key in known:
            ids[who.key] = known[who.key]
        else:
            fresh.append(who)
    if not_in_roster:
        report.warnings.append(
            f"{len(not_in_roster)} LMS id(s) not in the roster, ids made from the names: "
            + ", ".join(not_in_roster)
        )
    for who in fresh:  # sorted by key: the disambiguation does not depend on input order
        base = sanitize_student_id(who.name) or f"student_{who.lms_id or 'unknown'}"
        sid = base
        other = taken_by.get(sid)
        # A folder name spelled differently in an earlier import ("Alice", then "alice")
        # is the same student, not a collision.
        if (other or "").startswith("folder:") and who.key.startswith("folder:"):
            other = other if other in present else None
        if other and other != who.key:
            suffix = who.lms_id or "2"
            sid = f"{base[: 63 - len(suffix)]}_{suffix}"
            n = 2
            while sid in taken_by:
                n += 1
                sid = f"{base[:60]}_{n}"
            report.warnings.append(
                f"{who.name!r} ({who.key}) and {taken_by[base]} both make the id {base!r}: "
                f"{who.name!r} is collected as {sid!r}"
            )
        ids[who.key] = known[who.key] = sid
        taken_by[sid] = who.key
        if sid != who.name:
            report.students[who.name] = sid
    if fresh:
        course.state.mkdir(parents=True, exist_ok=True)
        _ids_path(course).write_text(
            json.dumps(known, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    return ids


# --------------------------------------------------------------------------- classify


@dataclass(frozen=True)
class _Candidate:
    entry: _Entry
    who: _Who
    assignment: str
    filename: str  # the student's file name (without LMS prefixes)


def _classify(
    entry: _Entry, assignments: list[str], assignment: str | None
) -> _Candidate | Skipped:
    """Who handed the entry in, for which assignment, under which file name."""
    parts = PurePosixPath(entry.name).parts
    fname = parts[-1]
    need_assignment = "this is an LMS export: name its assignment with --assignment"

    moodle = MOODLE_FOLDER.match(parts[0]) if len(parts) > 1 else None
    if moodle:
        if moodle["plugin"] != "file":
            return Skipped(entry.name, f"Moodle {moodle['plugin']} submission, not a file")
        if assignment is None:
            return Skipped(entry.name, need_assignment)
        who = _Who(f"moodle:{moodle['uid']}", moodle["name"], moodle["uid"])
        return _Candidate(entry, who, assignment, fname)
    if len(parts) == 1:
        m = CANVAS_NAME.match(fname) or MOODLE_FILE.match(fname)
        if not m:
            return Skipped(
                entry.name,
                "cannot tell whose file this is (expected <student>/<assignment>/<file>, "
                "or a Canvas or Moodle export name)",
            )
        if assignment is None:
            return Skipped(entry.name, need_assignment)
        lms = "canvas" if m.re is CANVAS_NAME else "moodle"
        return _Candidate(
            entry, _Who(f"{lms}:{m['uid']}", m["name"], m["uid"]), assignment, m["file"]
        )
    who = _Who(f"folder:{parts[0]}", parts[0])
    if len(parts) == 2:
        if assignment is None:
            return Skipped(
                entry.name, "no assignment folder: expected <student>/<assignment>/<file>"
            )
        return _Candidate(entry, who, assignment, fname)
    if len(parts) == 3:
        if parts[1] not in assignments:
            return Skipped(
                entry.name, f"unknown assignment {parts[1]!r} (known: {', '.join(assignments)})"
            )
        if assignment is not None and parts[1] != assignment:
            return Skipped(entry.name, f"another assignment than {assignment}")
        return _Candidate(entry, who, parts[1], fname)
    return Skipped(entry.name, "nested too deep: expected <student>/<assignment>/<file>")


def _normal(stem: str) -> str:
    """A notebook name with the usual copy/download decorations removed."""
    s = stem.lower().strip()
    s = re.sub(r"^(copy of\s+)+", "", s)
    s = re.sub(r"(\s*-\s*copy|\s*\(copy\)|_copy)$", "", s)
    s = re.sub(r"(\s*\(\d+\)|-\d+)+$", "", s)  # "x (1)" from browsers, "x-1" from Canvas
    s = re.sub(r"[\s.-]+", "_", s)
    return s.strip("_")


def _match(stem: str, expected: list[str], single: bool) -> tuple[str, int] | None:
    """(expected name, rank) for a student's notebook; rank 0 = exact, higher = looser."""
    if stem in expected:
        return stem, 0
    normal = {_normal(e): e for e in expected}
    if _normal(stem) in normal:
        return normal[_normal(stem)], 1
    close = difflib.get_close_matches(_normal(stem), list(normal), n=2, cutoff=0.8)
    if len(close) == 1:
        return normal[close[0]], 2
    if single and len(expected) == 1:
        return expected[0], 3
    return None


# --------------------------------------------------------------------------- writing


def format_timestamp(when: datetime) -> str:
    """nbgrader's timestamp.txt: ISO 8601 with the time zone (nbgrader.utils.parse_utc)."""
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _write_atomic(path: Path, data: bytes, mtime: datetime | None = None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    if mtime is not None:
        os.utime(tmp, (mtime.timestamp(), mtime.timestamp()))
    os.replace(tmp, path)


def _store(course: Course, cand: _Candidate, student: str, notebook: str, data: bytes) -> str:
    """Write one notebook; return "new", "replaced", "unchanged" or "older"."""
    folder = course.submitted / student / cand.assignment
    dest = folder / f"{notebook}.ipynb"
    when = cand.entry.mtime
    action = "new"
    if dest.is_file():
        if dest.read_bytes() == data:
            return "unchanged"
        if datetime.fromtimestamp(int(dest.stat().st_mtime), UTC) > when:
            return "older"
        action = "replaced"
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(dest, data, when)
    newest = max(
        datetime.fromtimestamp(int(p.stat().st_mtime), UTC) for p in folder.glob("*.ipynb")
    )
    _write_atomic(folder / "timestamp.txt", (format_timestamp(newest) + "\n").encode())
    return action


def _notebook_warning(data: bytes) -> str | None:
    try:
        nb = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        return (
            f"not valid JSON ({type(exc).__name__}): collected; grading will give it 0 and a flag"
        )
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        got = nb.get("nbformat") if isinstance(nb, dict) else type(nb).__name__
        return f"not an nbformat 4 notebook (nbformat {got!r}): collected as is"
    return None


def _sort_entries(
    entries: list[_Entry], assignments: list[str], assignment: str | None
) -> tuple[list[_Candidate], list[Skipped]]:
    """The notebooks to consider, and the entries skipped with their reason."""
    candidates, skipped = [], []
    for entry in sorted(entries, key=lambda e: e.name):
        got = _classify(entry, assignments, assignment)
        if isinstance(got, Skipped):
            skipped.append(got)
        elif not got.filename.lower().endswith(".ipynb"):
            skipped.append(Skipped(entry.name, "not a notebook (.ipynb)"))
        else:
            candidates.append(got)
    return candidates, skipped


def _collect(
    course: Course,
    entries: list[_Entry],
    report: CollectReport,
    *,
    assignment: str | None,
    roster: dict[str, str] | None,
) -> CollectReport:
    assignments = course.assignments()
    if assignment is not None and assignment not in assignments:
        raise ValueError(
            f"unknown assignment {assignment!r}; the course has: {', '.join(assignments)}"
        )
    candidates, skipped = _sort_entries(entries, assignments, assignment)
    # A zipped folder: everything under one top folder ("export/alice/a1/a1.ipynb").
    # Look inside it when that makes more of the entries readable.
    tops = {PurePosixPath(e.name).parts[0] for e in entries}
    if len(tops) == 1 and all("/" in e.name for e in entries):
        inner = [replace(e, name=e.name.split("/", 1)[1]) for e in entries]
        inner_candidates, inner_skipped = _sort_entries(inner, assignments, assignment)
        if len(inner_candidates) > len(candidates):
            candidates, skipped = inner_candidates, inner_skipped
            report.warnings.append(f"everything is inside {tops.pop()}/: read the layout there")
    report.skipped += skipped

    ids = _assign_ids(course, (c.who for c in candidates), roster, report)

    # Match each student's notebooks to the names the assignment expects; the best match
    # (exact, then normalised, then close, then "the only notebook") wins each name.
    groups: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
    for c in candidates:
        groups[(ids[c.who.key], c.assignment)].append(c)
    for (student, assignment_name), cands in sorted(groups.items()):
        expected = course.notebooks(assignment_name)
        ranked: dict[str, list[tuple[int, float, str, _Candidate]]] = defaultdict(list)
        for c in cands:
            m = _match(c.filename[: -len(".ipynb")], expected, single=len(cands) == 1)
            if m is None:
                report.skipped.append(
                    Skipped(
                        c.entry.name,
                        f"no expected notebook matches {c.filename!r} "
                        f"(expected: {', '.join(e + '.ipynb' for e in expected)})",
                    )
                )
                continue
            name, rank = m
            ranked[name].append((rank, -c.entry.mtime.timestamp(), c.entry.name, c))
        best = {}
        for name, options in ranked.items():
            options.sort(key=lambda o: o[:3])  # best rank, then newest, then by name
            best[name] = options[0][3]
            for *_, loser in options[1:]:
                report.skipped.append(
                    Skipped(
                        loser.entry.name,
                        f"{options[0][2]} was taken as {name}.ipynb instead",
                    )
                )
        for name, c in sorted(best.items()):
            try:
                data = c.entry.read()
            except (ValueError, OSError, zipfile.BadZipFile) as exc:
                report.skipped.append(Skipped(c.entry.name, f"cannot be read: {exc}"))
                continue
            action = _store(course, c, student, name, data)
            if action == "older":
                report.skipped.append(
                    Skipped(
                        c.entry.name,
                        f"older than the copy already in submitted/{student}/{assignment_name}/",
                    )
                )
                continue
            renamed = c.filename if c.filename != f"{name}.ipynb" else None
            report.taken.append(
                Taken(student, assignment_name, name, c.entry.name, action, renamed)
            )
            warning = _notebook_warning(data)
            if warning:
                report.warnings.append(f"{c.entry.name}: {warning}")
    _register(course, sorted({t.student for t in report.taken}))
    return report


def _register(course: Course, students: list[str]) -> None:
    """Add the students to nbgrader's gradebook, if the course has one yet."""
    from autograder.status import open_gradebook

    if not students:
        return
    with open_gradebook(course) as gb:
        if gb is not None:
            for sid in students:
                gb.update_or_create_student(sid)


# --------------------------------------------------------------------------- API


def collect_folder(
    course: Course,
    path: str | Path,
    *,
    assignment: str | None = None,
    roster: dict[str, str] | None = None,
) -> CollectReport:
    """Collect from a folder: a tree <student>/<assignment>/*.ipynb, an unpacked LMS export.

    Args:
        course: the course to collect into.
        path: the folder.
        assignment: the assignment every file belongs to (needed for LMS layouts and for
            <student>/*.ipynb); with a tree, only that assignment's folders are taken.
        roster: LMS id -> student id (see read_roster).
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    if path.resolve() == course.submitted.resolve():
        raise ValueError("that is the course's own submitted/ folder")
    report = CollectReport()
    return _collect(
        course, _folder_entries(path, report), report, assignment=assignment, roster=roster
    )


def collect_zip(
    course: Course,
    zip_path: str | Path,
    assignment: str | None = None,
    roster: dict[str, str] | None = None,
) -> CollectReport:
    """Collect from a zip: an LMS export (Canvas, Moodle) or a zipped folder tree.

    Args: as collect_folder, with `zip_path` the archive.
    Raises:
        ValueError: not a zip, or a zip over the size or entry limits.
    """
    report = CollectReport()
    try:
        with zipfile.ZipFile(zip_path) as zf:
            entries = _zip_entries(zf, report)
            return _collect(course, entries, report, assignment=assignment, roster=roster)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{zip_path} is not a readable zip file ({exc})") from exc


def collect(
    course: Course,
    path: str | Path,
    *,
    assignment: str | None = None,
    roster: dict[str, str] | None = None,
) -> CollectReport:
    """collect_folder or collect_zip, whichever `path` is."""
    path = Path(path)
    if path.is_dir():
        return collect_folder(course, path, assignment=assignment, roster=roster)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return collect_zip(course, path, assignment, roster)


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


def run(args: argparse.Namespace) -> int:
    course = Course.at(args.course)
    roster = read_roster(args.students) if args.students else None
    report = collect(course, args.path, assignment=args.assignment, roster=roster)
    print(report.render())
    return 1 if report.skipped and not report.taken else 0
