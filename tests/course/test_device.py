"""Tests for course.device: the choice CUDA → MPS → CPU, the overrides, and the timer.

No test needs a GPU: torch.cuda.is_available, torch.backends.mps.is_available and the
CUDA property and synchronize calls are monkeypatched, so the CUDA and MPS branches run
on a CPU-only CI machine too.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from course import device as dev


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(dev.ENV_DEVICE, raising=False)


@pytest.fixture
def calls():
    return []


def fake_gpus(monkeypatch, calls, *, cuda=0, mps=False):
    """Pretend this machine has `cuda` CUDA GPUs and (or) an Apple GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda i: SimpleNamespace(name=f"Fake GPU {i}", total_memory=80 * 2**30, major=9, minor=0),
    )
    monkeypatch.setattr(torch.cuda, "synchronize", lambda d=None: calls.append(("cuda", d)))
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append(("mps", None)))


@pytest.mark.parametrize(
    ("cuda", "mps", "expected", "words"),
    [
        (1, True, "cuda:0", "first CUDA GPU"),
        (2, False, "cuda:0", "first CUDA GPU"),
        (0, True, "mps", "Apple GPU"),
        (0, False, "cpu", "no CUDA or Apple MPS GPU found"),
    ],
)
def test_automatic_choice_prefers_cuda_then_mps_then_cpu(
    monkeypatch, calls, capsys, cuda, mps, expected, words
):
    fake_gpus(monkeypatch, calls, cuda=cuda, mps=mps)
    got = dev.pick_device()
    assert got == torch.device(expected)
    line = capsys.readouterr().out
    assert line.count("\n") == 1, "pick_device prints exactly one line"
    assert line.startswith(f"Using {expected}") and words in line
    assert dev.has_gpu() == (cuda > 0 or mps)


def test_cuda_line_names_the_gpu(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls, cuda=1)
    dev.pick_device()
    out = capsys.readouterr().out
    assert "Fake GPU 0" in out and "80.0 GiB" in out and "compute capability 9.0" in out


def test_prefer_cpu_wins_over_an_available_gpu(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls, cuda=1, mps=True)
    assert dev.pick_device("cpu") == torch.device("cpu")
    assert "asked for" in capsys.readouterr().out


def test_environment_variable_overrides_the_automatic_choice(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls, cuda=1)
    monkeypatch.setenv(dev.ENV_DEVICE, "cpu")
    assert dev.pick_device() == torch.device("cpu")
    assert f"${dev.ENV_DEVICE}" in capsys.readouterr().out


def test_prefer_argument_wins_over_the_environment_variable(monkeypatch, calls):
    fake_gpus(monkeypatch, calls, cuda=1)
    monkeypatch.setenv(dev.ENV_DEVICE, "cpu")
    assert dev.pick_device("cuda", verbose=False) == torch.device("cuda", 0)


@pytest.mark.parametrize("value", ["auto", "AUTO", " "])
def test_environment_auto_or_blank_means_automatic(monkeypatch, calls, value):
    fake_gpus(monkeypatch, calls, mps=True)
    monkeypatch.setenv(dev.ENV_DEVICE, value)
    assert dev.pick_device(verbose=False) == torch.device("mps")


def test_missing_cuda_falls_back_to_cpu_and_says_why(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls)
    assert dev.pick_device("cuda") == torch.device("cpu")
    out = capsys.readouterr().out
    assert "cuda was asked for, but it is not available here" in out


def test_missing_mps_falls_back_to_cuda(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls, cuda=1)
    assert dev.pick_device("mps") == torch.device("cuda", 0)
    assert "mps was asked for" in capsys.readouterr().out


def test_second_cuda_gpu_can_be_chosen_and_a_missing_one_is_explained(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls, cuda=2)
    assert dev.pick_device("cuda:1", verbose=False) == torch.device("cuda", 1)
    assert dev.pick_device(torch.device("cuda", 5)) == torch.device("cuda", 0)
    assert "only 2 CUDA device(s) exist" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["gpu", "tpu", "meta", "cuda:x"])
def test_unknown_device_names_are_a_clear_error(monkeypatch, calls, bad):
    fake_gpus(monkeypatch, calls)
    with pytest.raises(ValueError, match="use 'cpu', 'cuda'"):
        dev.pick_device(bad)
    monkeypatch.setenv(dev.ENV_DEVICE, bad)
    with pytest.raises(ValueError, match="unknown device"):
        dev.pick_device()


def test_cpu_only_build_is_named(monkeypatch, calls, capsys):
    fake_gpus(monkeypatch, calls)
    monkeypatch.setattr(torch.version, "cuda", None)
    dev.pick_device()
    assert "CPU-only build" in capsys.readouterr().out


def test_describe_device(monkeypatch, calls):
    fake_gpus(monkeypatch, calls, cuda=1)
    assert dev.describe_device("cuda").startswith("cuda:0 (Fake GPU 0")
    assert dev.describe_device(torch.device("cuda", 0)).startswith("cuda:0 (Fake GPU 0")
    assert dev.describe_device("mps").startswith("mps (Apple GPU")
    cpu = dev.describe_device("cpu")
    assert cpu.startswith("cpu (") and "torch thread" in cpu


@pytest.mark.parametrize(
    ("device", "expected"),
    [("cuda", [("cuda", torch.device("cuda"))]), ("mps", [("mps", None)]), ("cpu", [])],
)
def test_synchronize_waits_on_the_right_backend(monkeypatch, calls, device, expected):
    fake_gpus(monkeypatch, calls, cuda=1, mps=True)
    dev.synchronize(device)
    assert calls == expected


def test_time_call_warms_up_synchronises_and_returns_the_median(monkeypatch, calls):
    fake_gpus(monkeypatch, calls, cuda=1)
    ran = []
    seconds = dev.time_call(lambda: ran.append(1), "cuda", repeat=3, warmup=2)
    assert len(ran) == 5
    assert len(calls) == 4, "one synchronize after the warm-up, one after each timed call"
    assert seconds >= 0.0


def test_time_call_rejects_bad_counts():
    with pytest.raises(ValueError, match="repeat"):
        dev.time_call(lambda: None, "cpu", repeat=0)


def test_on_this_machine_pick_device_gives_a_working_device(capsys):
    """No monkeypatching: whatever this machine has, a tensor can live on the choice."""
    device = dev.pick_device()
    assert (torch.ones(2, device=device) * 2).sum().item() == 4.0
    assert capsys.readouterr().out.startswith("Using ")


def test_float64_device_sends_mps_work_to_the_cpu(capsys):
    assert dev.float64_device("mps") == torch.device("cpu")
    assert "no float64" in capsys.readouterr().out
    assert dev.float64_device("cuda:0", verbose=False) == torch.device("cuda", 0)
    assert dev.float64_device(torch.device("cpu")) == torch.device("cpu")
    assert capsys.readouterr().out == ""
