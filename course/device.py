"""Which device torch computes on: an NVIDIA GPU (CUDA), an Apple GPU (MPS) or the CPU.

    from course.device import pick_device, synchronize
    device = pick_device()          # prints one line: what it picked and why
    model = model.to(device)
    x = torch.as_tensor(x, device=device)

The choice, in order:

1. ``prefer=`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"``), else the
   environment variable ``CNN_COURSE_DEVICE`` (same values), so that an instructor can
   force the CPU for autograding without editing the notebook;
2. otherwise the first CUDA GPU, then Apple's Metal (MPS) GPU, then the CPU.

A device that is asked for but not there (``"cuda"`` on a laptop) is not an error: the
line says so and the CPU is used, so the same notebook runs everywhere.

GPUs compute *asynchronously*: a CUDA call returns as soon as the work is queued, long
before it is done. Timing GPU code therefore needs :func:`synchronize` before reading the
clock; :func:`time_call` does that for you.

This module ships to students; it needs torch and the standard library only.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "ENV_DEVICE",
    "describe_device",
    "float64_device",
    "has_gpu",
    "pick_device",
    "synchronize",
    "time_call",
]

#: Environment variable that overrides the automatic choice ("cpu", "cuda", "mps", "auto").
ENV_DEVICE = "CNN_COURSE_DEVICE"

_KINDS = ("cpu", "cuda", "mps")


def _cuda_available() -> bool:
    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)  # older or non-Apple builds may lack it
    return bool(mps is not None and mps.is_available())


def has_gpu() -> bool:
    """True when torch can use a GPU here: CUDA (NVIDIA) or MPS (Apple silicon)."""
    return _cuda_available() or _mps_available()


def _parse(choice: str) -> torch.device | None:
    """ "cuda:1" -> device('cuda:1'); "auto" -> None; anything else is a clear ValueError."""
    text = choice.strip().lower()
    if text in ("", "auto"):
        return None
    try:
        device = torch.device(text)
    except RuntimeError:
        device = None
    if device is None or device.type not in _KINDS:
        raise ValueError(
            f"unknown device {choice!r}: use 'cpu', 'cuda' (or 'cuda:0', 'cuda:1', ...), "
            "'mps' or 'auto'"
        )
    return device


def _why_no_gpu() -> str:
    if torch.version.cuda is None and not _mps_available():
        return f"this torch ({torch.__version__}) is a CPU-only build"
    return "torch.cuda.is_available() is False"


def pick_device(prefer: str | torch.device | None = None, *, verbose: bool = True) -> torch.device:
    """The device to compute on: CUDA, then Apple MPS, then CPU, unless told otherwise.

    Args:
        prefer: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``, ``"auto"`` or a
            ``torch.device``; ``None`` reads ``$CNN_COURSE_DEVICE`` and, when that is unset,
            means ``"auto"``.
        verbose: print one line saying which device was picked and why.
    Returns:
        a ``torch.device``. A requested device that is not available falls back to the
        automatic choice (the printed line says so) instead of failing.
    Raises:
        ValueError: ``prefer`` (or the environment variable) names no known device.
    """
    if isinstance(prefer, torch.device):
        wanted, origin = prefer, "asked for"
    elif prefer is not None:
        wanted, origin = _parse(str(prefer)), "asked for"
    elif os.environ.get(ENV_DEVICE, "").strip():
        wanted, origin = _parse(os.environ[ENV_DEVICE]), f"set by ${ENV_DEVICE}"
    else:
        wanted, origin = None, ""

    device, reason = None, ""
    if wanted is not None:
        if wanted.type == "cpu":
            device, reason = torch.device("cpu"), origin
        elif wanted.type == "cuda" and _cuda_available():
            index = 0 if wanted.index is None else wanted.index
            count = torch.cuda.device_count()
            if index < count:
                device, reason = torch.device("cuda", index), origin
            else:
                reason = f"{wanted} was {origin}, but only {count} CUDA device(s) exist"
        elif wanted.type == "mps" and _mps_available():
            device, reason = torch.device("mps"), origin
        else:
            reason = f"{wanted.type} was {origin}, but it is not available here"
    if device is None:
        fallback = f"{reason}; " if reason else ""
        if _cuda_available():
            device, reason = torch.device("cuda", 0), f"{fallback}the first CUDA GPU"
        elif _mps_available():
            device, reason = torch.device("mps"), f"{fallback}Apple GPU, no CUDA GPU found"
        else:
            device = torch.device("cpu")
            reason = f"{fallback}no CUDA or Apple MPS GPU found: {_why_no_gpu()}"
    if verbose:
        print(f"Using {describe_device(device)}  [{reason}]")
    return device


def describe_device(device: str | torch.device) -> str:
    """One line naming the hardware behind `device`, e.g.
    ``"cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB, compute capability 9.0)"``,
    ``"mps (Apple GPU, Metal Performance Shaders)"`` or ``"cpu (x86_64, 2 torch threads)"``.
    """
    device = torch.device(device)
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        props = torch.cuda.get_device_properties(index)
        gib = props.total_memory / 2**30
        return (
            f"cuda:{index} ({props.name}, {gib:.1f} GiB, "
            f"compute capability {props.major}.{props.minor})"
        )
    if device.type == "mps":
        return "mps (Apple GPU, Metal Performance Shaders)"
    if device.type == "cpu":
        machine = platform.machine() or "unknown CPU"
        threads = torch.get_num_threads()
        return f"cpu ({machine}, {threads} torch thread{'s' if threads != 1 else ''})"
    return str(device)


def float64_device(device: str | torch.device, *, verbose: bool = True) -> torch.device:
    """`device` if it computes in float64, else the CPU.

    Apple's MPS backend has no float64; exact comparisons (the course's cross-checks
    compare to 1e-12) then run on the CPU, and the printed line says so.
    """
    device = torch.device(device)
    if device.type == "mps":
        if verbose:
            print("MPS has no float64: the float64 comparisons run on the CPU.")
        return torch.device("cpu")
    return device


def synchronize(device: str | torch.device) -> None:
    """Wait until every queued operation on `device` has finished (no-op on the CPU).

    CUDA and MPS calls return before the GPU has done the work; a timer read without
    synchronising measures how fast Python can *queue* kernels, not how fast they run.
    """
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_call(
    fn: Callable[[], Any], device: str | torch.device, *, repeat: int = 3, warmup: int = 1
) -> float:
    """Seconds one call of `fn()` takes on `device`: the median of `repeat` timed calls.

    `warmup` untimed calls come first (the first CUDA call pays for context set-up and
    kernel selection), and the device is synchronised before each clock reading.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be >= 1 and warmup >= 0; got {repeat}, {warmup}")
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
