"""The grading ledger: one JSON line per finished grading job, appended and fsynced.

It is what makes a killed grading run safe to restart: a job is done when its line is in
the ledger with the hash of the submission it graded; a restart skips those and redoes
the rest. nbgrader's own grade rows are overwritten (never added up) when a submission is
graded again, so redoing a job that was cut off half-way counts nothing twice.

    {"student": "alice", "assignment": "01_convolution", "sha256": "…",
     "status": "graded" | "failed" | "needs_person", "score": 18.0, "max_score": 22.0,
     "flags": ["tamper:imports solutions"], "exec_status": "ok", "message": "…",
     "seconds": 7.2, "graded_at": "2026-11-22T04:40:00+00:00",
     "cells": {"conv_corr2d_tests": {"notebook": "01_convolution", "exercise": "1.2",
               "outcome": "kernel_flipped", "mistake": "kernel_flipped", "score": 0.0,
               "max_score": 4.0}, …}}

"needs_person" (score null) is a submission on which the grading worker died three times
(autograder.sandbox.backend): never a score, left for a person to look at and regrade with --force.

`cells` (records written before it existed lack it) keeps what grading decided about each
graded cell (autograder.records.score.cell_records): its outcome is "passed", the mistake key the
judge's verdict named, "generic" (failed, no mistake named), "not_attempted" (failed, its
exercise cells as released) or "not_submitted"; `mistake` is the verdict's key as it
came. Never anything the kernel printed. The class report (autograder.report) reads it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from autograder.layout import Course

FIELDS = ("student", "assignment", "sha256", "status", "score", "max_score", "flags")
#: The status of a submission on which the grading worker kept dying: never a score.
NEEDS_PERSON = "needs_person"


def path(course: Course) -> Path:
    return course.state / "ledger.jsonl"


def append(course: Course, record: dict) -> None:
    """Add one finished job. The line is complete on disk before this returns."""
    missing = [k for k in FIELDS if k not in record]
    if missing:
        raise ValueError(f"ledger record lacks {missing}; got keys {sorted(record)}")
    record = {"graded_at": datetime.now(UTC).isoformat(timespec="seconds"), **record}
    course.state.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True) + "\n"
    fd = os.open(path(course), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def latest(course: Course) -> dict[tuple[str, str], dict]:
    """The last record of each (student, assignment). A torn last line (the process was
    killed while writing it) is ignored: that job simply counts as not done."""
    return Tail(course).latest()


class Tail:
    """The ledger as it grows: each `latest()` reads only the lines appended since the
    last call, so a grading run can check every result against what is recorded (its
    own lines and any other process's) without reading the whole file again."""

    def __init__(self, course: Course):
        self._path = path(course)
        self._offset = 0
        self._records: dict[tuple[str, str], dict] = {}

    def latest(self) -> dict[tuple[str, str], dict]:
        """The last record of each (student, assignment), as `latest` reads it."""
        try:
            with open(self._path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return self._records
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        self._offset += end
        for line in data[:end].decode("utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and all(k in rec for k in FIELDS):
                self._records[(rec["student"], rec["assignment"])] = rec
        return self._records
