"""The assignment bundle and what a job carries (docs/design.md, "Grading on Dask", "What
crosses the wire"): a digest that depends on the files only, staging that verifies it and
refuses a mismatch, bounded hand-ins, and results decoded with their size checked. The
tests with real worker processes are in test_dask.py."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest

from autograder import demo, handin
from autograder.layout import Course
from autograder.records import grading
from autograder.sandbox import bundle, worker

FILES = {
    "bundle.json": b'{"assignment": "a"}\n',
    "release/a/a.ipynb": b"{}",
    "pkgs/course/__init__.py": b"",
}


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def test_the_digest_depends_on_the_files_alone():
    a = bundle.pack(FILES)
    b = bundle.pack(dict(reversed(list(FILES.items()))))
    assert a.digest == b.digest == bundle.digest_of(FILES) and a.data == b.data
    assert bundle.pack({**FILES, "release/a/a.ipynb": b"{ }"}).digest != a.digest
    assert bundle.pack({**FILES, "release/a/b.ipynb": b"{}"}).digest != a.digest
    with pytest.raises(bundle.BundleError, match="plain relative path"):
        bundle.pack({"../x": b""})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Course:
    return demo.tiny_course(tmp_path_factory.mktemp("bundle") / "tiny")


def test_a_staged_bundle_is_the_course_side_of_grading(tiny, tmp_path):
    files = grading.bundle_files(tiny, "tiny")
    assert {"nbgrader_config.py", "source/tiny/tiny.ipynb", "release/tiny/tiny.ipynb"} <= set(files)
    assert "pkgs/course/__init__.py" in files and "gradebook.json" in files
    assert not any(".pyc" in p or "__pycache__" in p for p in files)
    b = bundle.pack(files)
    assert grading.bundle_files(tiny, "tiny") == files  # the same inputs, the same bundle

    staged = bundle.stage(b.digest, b.data, tmp_path)
    assert staged.root == tmp_path / "bundles" / b.digest / "files"
    assert (staged.assignment, staged.notebooks) == ("tiny", ("tiny",))
    assert (staged.course_package / "probe.py").is_file()
    # The worker's gradebook holds the assignment's cells as the course's does.
    assert worker._source_cells(staged.db_url, "tiny", "tiny") == worker._source_cells(
        tiny.db_url, "tiny", "tiny"
    )
    # Staged once: a second job reuses it, and no unpacking folder is left behind.
    again = bundle.stage(b.digest, b.data, tmp_path)
    assert again == staged == bundle.staged(b.digest, tmp_path)
    assert [p.name for p in (tmp_path / "bundles").iterdir()] == [b.digest]


def test_bytes_that_do_not_match_the_digest_are_refused(tmp_path):
    good = bundle.pack(FILES)
    other = bundle.pack({**FILES, "release/a/a.ipynb": b'{"evil": 1}'})
    with pytest.raises(bundle.BundleError, match="bundle refused: its files hash to"):
        bundle.stage(good.digest, other.data, tmp_path)
    with pytest.raises(bundle.BundleError, match="not a readable archive"):
        bundle.stage(good.digest, b"not an archive", tmp_path)
    assert list((tmp_path / "bundles").iterdir()) == []  # nothing staged, nothing left
    assert bundle.staged(good.digest, tmp_path) is None


@pytest.mark.parametrize(
    ("name", "kind", "why"),
    [
        ("../escape", tarfile.REGTYPE, "plain relative path"),
        ("/etc/x", tarfile.REGTYPE, "plain relative path"),
        ("link", tarfile.SYMTYPE, "not a regular file"),
    ],
)
def test_an_archive_with_a_link_or_a_path_outside_is_refused(tmp_path, name, kind, why):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
    with pytest.raises(bundle.BundleError, match=why):
        bundle.stage("0" * 64, _tar([(info, b"")]), tmp_path)
    assert not (tmp_path / "escape").exists() and not (tmp_path / "link").exists()


def test_a_hand_in_is_read_bounded_and_hashed_as_submission_hash(tmp_path):
    folder = tmp_path / "s" / "a"
    folder.mkdir(parents=True)
    (folder / "one.ipynb").write_bytes(b"x" * 1000)
    (folder / "two.ipynb").write_bytes(b"y" * 3000)
    (folder / "extra.ipynb").write_bytes(b"z")
    os.symlink(folder / "one.ipynb", folder / "three.ipynb")
    expected = ["one", "two", "three", "four"]
    sha = handin.submission_hash(handin.submission_notebooks(folder))

    h = handin.read_handin(folder, expected)
    assert dict(h.files) == {"one.ipynb": b"x" * 1000, "two.ipynb": b"y" * 3000}
    assert h.extra == ("extra.ipynb",) and h.sha256 == sha
    why = {name: (status, text) for name, status, text in h.unread}
    assert why["three"] == ("missing", "three.ipynb " + handin._why_missing(folder, "three"))
    assert "symbolic link" in why["three"][1] and why["four"][1].endswith("was not submitted")

    small = handin.read_handin(folder, expected, file_limit=2000)
    assert [n for n, _ in small.files] == ["one.ipynb"] and small.sha256 == sha
    status, text = {n: (s, t) for n, s, t in small.unread}["two"]
    assert status == "invalid_notebook" and "over the" in text and "limit for a file" in text

    tight = handin.read_handin(folder, expected, total_limit=3500)
    assert [n for n, _ in tight.files] == ["one.ipynb"] and tight.sha256 == sha
    assert "limit for a hand-in" in {n: t for n, _, t in tight.unread}["two"]


def test_a_result_is_decoded_with_its_size_and_shape_checked(monkeypatch):
    job = worker.Job("s", "a", ("a",))
    nb = worker.NotebookResult("a", "ok", sanitized="{}", executed="{}", cells_run=2)
    data = worker.encode_result(worker.JobResult(job, "sha", [nb], ["x.ipynb"], 1.5))
    got = worker.decode_result(data, job)
    assert got.notebooks == [nb] and got.extra_files == ["x.ipynb"] and got.job is job

    with pytest.raises(worker.ResultError, match="another job's"):
        worker.decode_result(data, worker.Job("t", "a", ("a",)))
    with pytest.raises(worker.ResultError, match="not bytes"):
        worker.decode_result(worker.JobResult(job, "sha", []), job)  # a pickled object
    body = json.loads(data)
    body["notebooks"][0]["name"] = "other"
    with pytest.raises(worker.ResultError, match="did not ask for"):
        worker.decode_result(json.dumps(body).encode(), job)
    body["notebooks"][0] |= {"name": "a", "cells_run": "2"}
    with pytest.raises(worker.ResultError, match="cells_run is a str"):
        worker.decode_result(json.dumps(body).encode(), job)
    big = worker.NotebookResult("a", "ok", sanitized="{}", executed="{}" + " " * 5000)
    data = worker.encode_result(worker.JobResult(job, "sha", [big]))
    monkeypatch.setattr(worker, "MAX_RESULT_BYTES", 4000)
    with pytest.raises(worker.ResultError, match="over"):
        worker.decode_result(data, job)
    # The worker side keeps under the cap by leaving the notebooks' texts out, and says so.
    slim = worker.decode_result(worker.encode_result(worker.JobResult(job, "sha", [big])), job)
    assert "over" in slim.error and slim.notebooks[0].executed is None


def test_a_job_names_no_path_of_the_course(tiny):
    demo.submit(tiny, "s1", "tiny", {"tiny.ipynb": demo.tiny_submission(tiny)})
    (job,), _ = grading.plan_jobs(tiny)
    loaded = grading.load_submission(tiny, job)
    text = repr(loaded)
    assert str(tiny.root) not in text and str(tiny.root.parent) not in text
    assert dict(loaded.files) == {
        "tiny.ipynb": (tiny.submitted / "s1" / "tiny" / "tiny.ipynb").read_bytes()
    }
    assert loaded.sha256 == job.sha256
