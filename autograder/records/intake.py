"""Hand-ins in: a folder tree or an LMS export zip into submitted/, one id rule for all.

The library behind `python -m autograder collect` (whose help lists the layouts it
understands and what it refuses). It runs in the trusted process but reads untrusted
files: only regular files of their own (autograder.handin), zip entries bounded in size
and number, ids normalised by `sanitize_student_id`. It writes submitted/, the id
decisions in .grading/student_ids.json, and the students into the gradebook through
autograder.records.gradebook (docs/design.md, "Data flow of one grading run").
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
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
from autograder.handin import NotRegularFileError, file_kind, open_regular
from autograder.layout import Course
from autograder.records import gradebook

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


#: Code points that show nothing but are not format characters (category Cf): the
#: combining grapheme joiner, Hangul fillers, Khmer and Mongolian vowel/variation marks,
#: variation selectors.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn") or bool(_IGNORABLE.match(ch))


def sanitize_student_id(raw: str) -> str:
    """The one rule that turns a name into a student id (docs/grading-sandbox.md,
    "Student ids"): a folder-safe id that matches `layout.STUDENT_ID`, or "" if none is
    left.

    1. invisible characters go (controls, format characters such as zero-width spaces
       and joiners, byte-order marks, bidi controls; variation selectors, fillers);
    2. NFKC: compatibility forms become the plain letter (full-width "ｈ" → "h",
       ligature "ﬁ" → "fi", superscript "²" → "2");
    3. casefold: "H" → "h", "ß" → "ss";
    4. accents go ("é" → "e"), letters without an ASCII base are transliterated
       ("ø" → "o", "ł" → "l"); spaces and commas become "_", anything else outside
       a-z 0-9 _ . - is dropped, "_" runs collapse, leading punctuation goes, 64 at most.

    "José García" → "jose_garcia"; "O'Brien, Seán" → "obrien_sean"; "H_Perfect",
    "ｈ_ｐｅｒｆｅｃｔ" and "h\u200b_perfect" → "h_perfect".
    """
    text = "".join(ch for ch in raw if not _invisible(ch))
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()
    text = re.sub(r"[\s,]+", "_", text)
    text = re.sub(r"[^a-z0-9_.-]", "", text)
    text = re.sub(r"_+", "_", text)
    text = re.sub(r"^[^a-z0-9]+", "", text)[:64]
    return text if layout.STUDENT_ID.match(text) else ""


def fold_student_id(sid: str) -> str:
    """What two ids must not share: ids equal after sanitize_student_id are one student
    to a person (and one folder on a case-insensitive disk)."""
    return sanitize_student_id(sid) or sid.casefold()


def parse_map(items: Iterable[str]) -> dict[str, str]:
    """--map NAME=ID values as a dict; NAME is a folder name or LMS name as written in
    the hand-ins, or an LMS id; ID a valid student id (used exactly as written)."""
    mapping: dict[str, str] = {}
    for item in items:
        name, eq, sid = item.rpartition("=")
        if not eq or not name:
            raise ValueError(f"--map {item!r}: expected NAME=ID")
        if not layout.STUDENT_ID.match(sid):
            raise ValueError(
                f"--map {item!r}: {sid!r} is not a valid student id "
                "(letters, digits, '_', '.', '-'; at most 64 characters)"
            )
        mapping[name] = sid
    return mapping


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
    conflicts: list[str] = field(default_factory=list)  # identities refused (see _assign_ids)

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
        for c in self.conflicts:
            lines.append(f"  CONFLICT  {c}")
        if self.conflicts:
            lines.append(
                f"{len(self.conflicts)} hand-in(s) not collected: their student ids are in "
                "conflict (see CONFLICT); map each with --map NAME=ID and collect again"
            )
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
    else the DOS time, which has no time zone and is taken as UTC (LMS servers run on UTC).

    Raises:
        ValueError: the entry's date is impossible (month 0, day 32...).
    """
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            try:
                return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], UTC)
            except (OverflowError, OSError, ValueError):
                break  # a nonsense timestamp: the DOS date decides
        extra = extra[4 + size :]
    year, month, day, hour, minute, second = info.date_time
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(
            f"its date in the zip is impossible ({year:04d}-{month:02d}-{day:02d}: {exc})"
        ) from exc


def _read_listed(path: Path, ident: tuple[int, int], name: str) -> bytes:
    """Read a file of the hand-in folder that was listed as the regular file `ident`
    (st_dev, st_ino): refused if it is anything else now."""
    try:
        f, st = open_regular(path)
    except NotRegularFileError as exc:
        raise ValueError(f"{exc}, not a file: refused, nothing read through it") from exc
    with f:
        if (st.st_dev, st.st_ino) != ident:
            raise ValueError(f"{name} was replaced while it was being collected")
        data = f.read(MAX_ENTRY_BYTES + 1)
    if len(data) > MAX_ENTRY_BYTES:
        raise ValueError(f"{name} is larger than {MAX_ENTRY_BYTES // 2**20} MB")
    return data


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
        try:
            mtime = _zip_mtime(info)
        except ValueError as exc:
            if info.is_dir():
                report.ignored += 1
            else:
                report.skipped.append(Skipped(info.filename, f"{exc}: refused"))
            continue
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
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            report.skipped.append(Skipped(raw, "a symbolic link, not a file: refused"))
            continue
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            report.skipped.append(Skipped(raw, f"{file_kind(mode)}, not a file: refused"))
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
                mtime,
                _capped_reader(lambda info=info: zf.open(info), raw),
            )
        )
    return entries


class _Spliced(io.RawIOBase):
    """A zip file read as its own bytes up to `cut`, followed by `tail` (a rebuilt
    central directory): the archive is never copied."""

    def __init__(self, f, cut: int, tail: bytes):
        super().__init__()
        self.f, self.cut, self.tail, self.pos = f, cut, tail, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        end = self.cut + len(self.tail)
        self.pos = max(0, (0, self.pos, end)[whence] + offset)
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos < self.cut:
            self.f.seek(self.pos)
            chunk = self.f.read(min(len(buffer), self.cut - self.pos))
        else:
            chunk = self.tail[self.pos - self.cut : self.pos - self.cut + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def _mend_central_directory(f) -> tuple[int, bytes, list[str]] | None:
    """Where an entry of the central directory has a truncated extra field (Python's
    zipfile then refuses the whole archive), a copy of the directory with that field cut
    to its readable part: (where the directory starts, the new directory and its end
    record, the names of the damaged entries). None if that is not what is wrong."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - 65557))
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    eocd = list(struct.unpack("<4s4H2LH", tail[at : at + 22]))
    count, cd_size, cd_offset = eocd[4], eocd[5], eocd[6]
    if cd_offset == 0xFFFFFFFF or count == 0xFFFF:
        return None  # zip64: larger than anything collect accepts
    cd_start = size - (len(tail) - at) - cd_size
    if cd_start < 0:
        return None
    f.seek(cd_start)
    cd = f.read(cd_size)
    out, damaged, pos = [], [], 0
    for _ in range(count):
        head = cd[pos : pos + 46]
        if len(head) < 46 or head[:4] != b"PK\x01\x02":
            return None
        fields = struct.unpack("<4s4B4HL2L5H2L", head)
        n, m, k = fields[12], fields[13], fields[14]
        name = cd[pos + 46 : pos + 46 + n]
        extra = cd[pos + 46 + n : pos + 46 + n + m]
        rest = extra
        while len(rest) >= 4:
            length = struct.unpack("<H", rest[2:4])[0]
            if 4 + length > len(rest):
                damaged.append(name.decode("utf-8" if fields[6] & 0x800 else "cp437", "replace"))
                break
            rest = rest[4 + length :]
        else:  # a readable entry is kept as it is
            out.append(cd[pos : pos + 46 + n + m + k])
        pos += 46 + n + m + k
    if not damaged:
        return None
    directory = b"".join(out)
    # The offset stays: zipfile finds prepended data from where the directory ends.
    eocd[3] = eocd[4] = len(out)
    eocd[5], eocd[7] = len(directory), 0
    return cd_start, directory + struct.pack("<4s4H2LH", *eocd), damaged


def _open_zip(
    zip_path: str | Path, report: CollectReport, stack: contextlib.ExitStack
) -> zipfile.ZipFile:
    """The archive; an entry with a damaged directory record (a truncated extra field)
    is refused by name instead of the whole archive. Closed with `stack`."""
    try:
        return stack.enter_context(zipfile.ZipFile(zip_path))
    except zipfile.BadZipFile as exc:
        if "extra field" not in str(exc):
            raise
        f = stack.enter_context(open(zip_path, "rb"))  # noqa: SIM115 (closed by the stack)
        mended = _mend_central_directory(f)
        if mended is None:
            raise
    cut, directory, damaged = mended
    for name in damaged:
        report.skipped.append(
            Skipped(name, "its zip entry is damaged (a truncated extra field): refused")
        )
    return stack.enter_context(zipfile.ZipFile(io.BufferedReader(_Spliced(f, cut, directory))))


def _folder_entries(root: Path, report: CollectReport) -> list[_Entry]:
    """Regular files only: symbolic links (to files or folders), FIFOs, devices and hard
    links to files outside the folder are refused by name, and nothing is read through
    them (files are opened with O_NOFOLLOW and checked after opening)."""
    listed: list[tuple[str, Path, os.stat_result]] = []
    links_here: dict[tuple[int, int], int] = defaultdict(int)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).parts
        for d in sorted(dirnames):
            if (here / d).is_symlink():
                report.skipped.append(
                    Skipped(
                        "/".join((*rel_dir, d)),
                        "a symbolic link to a folder: refused, nothing read through it",
                    )
                )
            elif _ignored((d,)):
                report.ignored += 1
        dirnames[:] = sorted(
            d for d in dirnames if not _ignored((d,)) and not (here / d).is_symlink()
        )
        for fname in sorted(filenames):
            path = here / fname
            rel = "/".join((*rel_dir, fname))
            if _ignored((fname,)):
                report.ignored += 1
                continue
            try:
                st = path.lstat()
            except OSError as exc:
                report.skipped.append(Skipped(rel, f"cannot be read ({exc.strerror})"))
                continue
            if not stat.S_ISREG(st.st_mode):
                why = f"{file_kind(st.st_mode)}, not a file: refused, nothing read through it"
                report.skipped.append(Skipped(rel, why))
                continue
            links_here[(st.st_dev, st.st_ino)] += 1
            listed.append((rel, path, st))
    entries = []
    for rel, path, st in listed:
        if st.st_nlink > links_here[(st.st_dev, st.st_ino)]:
            report.skipped.append(
                Skipped(rel, "a hard link to a file outside the hand-in folder: refused")
            )
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
                partial(_read_listed, path, (st.st_dev, st.st_ino), rel),
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
            same = [o for o in roster.values() if fold_student_id(o) == fold_student_id(sid)]
            if same and same[0] != sid:
                raise ValueError(
                    f"{path}, line {line}: student_id {sid!r} and {same[0]!r} are the same "
                    "id once normalised (case, look-alike characters): spell them one way"
                )
            roster[lms_id] = sid
    return roster


def read_roster_ids(path: str | Path) -> list[str]:
    """The student ids of a roster CSV (a student_id column; lms_id and any other columns
    may be there too), in the file's order: the ids the LMS knows, exactly as written."""
    ids: list[str] = []
    folded: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "student_id" not in reader.fieldnames:
            raise ValueError(f"{path}: a roster needs a student_id column; got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            sid = (row["student_id"] or "").strip()
            if not sid:
                continue
            if not layout.STUDENT_ID.match(sid):
                raise ValueError(f"{path}, line {line}: student_id {sid!r} is not a valid id")
            other = folded.setdefault(fold_student_id(sid), sid)
            if other != sid:
                raise ValueError(
                    f"{path}, line {line}: student_id {sid!r} and {other!r} are the same "
                    "id once normalised (case, look-alike characters): spell them one way"
                )
            if sid not in ids:
                ids.append(sid)
    return ids


@dataclass(frozen=True)
class _Who:
    """Whom an entry belongs to, as the input names them."""

    key: str  # stable identity: "canvas:<uid>", "moodle:<uid>", "folder:<name>"
    name: str  # the name as written in the input
    lms_id: str | None = None


def _ids_path(course: Course) -> Path:
    return course.state / "student_ids.json"


def _assign_ids(
    course: Course,
    people: Iterable[_Who],
    roster: dict[str, str] | None,
    report: CollectReport,
    mapping: dict[str, str] | None = None,
) -> dict[str, str]:
    """identity key -> student id, for every identity that is not in conflict.

    An identity's id is decided, in this order, by --map (its name or LMS id), by the
    roster (its LMS id), or by an earlier import (.grading/student_ids.json); otherwise
    it is proposed from the name (sanitize_student_id). A proposed id that another
    identity already holds or also proposes — the same id after normalisation — is a
    conflict: neither proposer gets it, both are reported, and nothing of theirs is
    collected until the instructor decides with --map. So an existing student's
    hand-in is only ever replaced by the same identity's newer one.
    """
    try:
        known: dict[str, str] = json.loads(_ids_path(course).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    mapping = mapping or {}
    people = sorted(set(people), key=lambda w: w.key)
    names = {w.key: w.name for w in people}
    hint = {w.key: w.lms_id or w.name for w in people}  # what --map recognises best
    holders: dict[str, set[str]] = defaultdict(set)  # folded id -> identity keys
    for key, sid in known.items():
        holders[fold_student_id(sid)].add(key)
    for sid in course.students():  # folders collected before ids were recorded
        if not holders[fold_student_id(sid)]:
            holders[fold_student_id(sid)].add(f"folder:{sid}")
    decided: dict[str, str] = {}
    proposed: dict[str, str] = {}
    mapped: set[str] = set()
    not_in_roster = []
    for who in people:
        by_map = mapping.get(who.name) or (mapping.get(who.lms_id) if who.lms_id else None)
        if by_map:
            decided[who.key] = by_map
            mapped.add(who.key)
            report.students[f"{who.name} (--map)"] = by_map
            continue
        if roster is not None and who.lms_id is not None:
            if who.lms_id in roster:
                decided[who.key] = roster[who.lms_id]
                report.students[f"{who.name} (LMS id {who.lms_id})"] = roster[who.lms_id]
                continue
            not_in_roster.append(f"{who.lms_id} ({who.name})")
        if who.key in known:
            decided[who.key] = known[who.key]
        else:
            proposed[who.key] = (
                sanitize_student_id(who.name) or f"student_{who.lms_id or 'unknown'}"
            )
    if not_in_roster:
        report.warnings.append(
            f"{len(not_in_roster)} LMS id(s) not in the roster, ids made from the names: "
            + ", ".join(not_in_roster)
        )
    for key, sid in [*decided.items(), *proposed.items()]:
        holders[fold_student_id(sid)].add(key)

    def who_is(key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind == "folder":
            return repr(rest)
        return f"{names.get(key, '?')!r} ({kind} id {rest})"

    ids = dict(decided)
    for key, sid in proposed.items():
        others = sorted(holders[fold_student_id(sid)] - {key})
        if not others:
            ids[key] = sid
            continue
        report.conflicts.append(
            f"{who_is(key)} makes the student id {sid!r}, which "
            + ", ".join(who_is(o) for o in others)
            + f" also make(s) or hold(s): not collected; decide with --map {hint[key]!r}=ID"
        )
    for key, sid in ids.items():
        if sid != names[key] and not any(
            label.startswith(names[key] + " (") for label in report.students
        ):
            report.students[names[key]] = sid
    # Remember what was proposed or mapped, so that the next import decides the same.
    fresh = {k: sid for k, sid in ids.items() if k not in decided or k in mapped}
    fresh = {k: sid for k, sid in fresh.items() if known.get(k) != sid}
    if fresh:
        known.update(fresh)
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
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return (
            f"not valid JSON ({type(exc).__name__}): collected; grading will give it 0 and a flag"
        )
    except RecursionError:
        return "JSON nested too deeply to read: collected; grading will give it 0 and a flag"
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
    mapping: dict[str, str] | None = None,
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

    ids = _assign_ids(course, (c.who for c in candidates), roster, report, mapping)
    for c in candidates:
        if c.who.key not in ids:
            report.skipped.append(Skipped(c.entry.name, "student id conflict (see CONFLICT)"))
    candidates = [c for c in candidates if c.who.key in ids]

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
            except Exception as exc:  # one unreadable entry costs that entry only
                why = str(exc) or type(exc).__name__
                report.skipped.append(Skipped(c.entry.name, f"cannot be read: {why}"))
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
    gradebook.add_students(course, sorted({t.student for t in report.taken}))
    return report


# --------------------------------------------------------------------------- API


def collect_folder(
    course: Course,
    path: str | Path,
    *,
    assignment: str | None = None,
    roster: dict[str, str] | None = None,
    mapping: dict[str, str] | None = None,
) -> CollectReport:
    """Collect from a folder: a tree <student>/<assignment>/*.ipynb, an unpacked LMS export.

    Args:
        course: the course to collect into.
        path: the folder.
        assignment: the assignment every file belongs to (needed for LMS layouts and for
            <student>/*.ipynb); with a tree, only that assignment's folders are taken.
        roster: LMS id -> student id (see read_roster).
        mapping: hand-in name or LMS id -> student id (--map; see parse_map): decides
            an identity, e.g. one of two hand-ins whose ids are in conflict.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    if path.resolve() == course.submitted.resolve():
        raise ValueError("that is the course's own submitted/ folder")
    report = CollectReport()
    return _collect(
        course,
        _folder_entries(path, report),
        report,
        assignment=assignment,
        roster=roster,
        mapping=mapping,
    )


def collect_zip(
    course: Course,
    zip_path: str | Path,
    assignment: str | None = None,
    roster: dict[str, str] | None = None,
    mapping: dict[str, str] | None = None,
) -> CollectReport:
    """Collect from a zip: an LMS export (Canvas, Moodle) or a zipped folder tree.

    Args: as collect_folder, with `zip_path` the archive.
    Raises:
        ValueError: not a zip, or a zip over the size or entry limits.
    """
    report = CollectReport()
    try:
        with contextlib.ExitStack() as stack:
            entries = _zip_entries(_open_zip(zip_path, report, stack), report)
            return _collect(
                course, entries, report, assignment=assignment, roster=roster, mapping=mapping
            )
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{zip_path} is not a readable zip file ({exc})") from exc


def collect(
    course: Course,
    path: str | Path,
    *,
    assignment: str | None = None,
    roster: dict[str, str] | None = None,
    mapping: dict[str, str] | None = None,
) -> CollectReport:
    """collect_folder or collect_zip, whichever `path` is."""
    path = Path(path)
    if path.is_dir():
        return collect_folder(course, path, assignment=assignment, roster=roster, mapping=mapping)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return collect_zip(course, path, assignment, roster, mapping)
