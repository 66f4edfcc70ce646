"""Shared pytest set-up: deterministic, single-threaded numerics and hypothesis profiles."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from autograder.sandbox import bwrap

# pytest-xdist runs one worker per core; torch and BLAS each grabbing every core would
# oversubscribe the machine and make the suite slower, not faster.
os.environ.setdefault("OMP_NUM_THREADS", "1")

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # CI must be reproducible: a failure today fails again tomorrow
)
settings.register_profile("thorough", max_examples=600, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config, items):
    """Tests marked `sandbox` assert what the grading sandbox prevents: where bubblewrap
    cannot run they are skipped with the reason, never run unsandboxed."""
    marked = [item for item in items if item.get_closest_marker("sandbox")]
    if not marked:
        return
    ok, why = bwrap.sandbox_available()
    if not ok:
        skip = pytest.mark.skip(reason=f"no working bubblewrap: {why}")
        for item in marked:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _torch_single_thread():
    try:
        import torch
    except ImportError:  # torch is a runtime dependency, but keep non-torch tests usable
        yield
        return
    torch.set_num_threads(1)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def without_repair(monkeypatch):
    """The visible checks without the repair search (course/checks/_repair.py), for tests
    of what the catalogue and the derived mistakes say alone: a wrong answer that a test
    builds with one edit of the right code (`_noise(x)`, `2 * lr`) is, correctly,
    repaired; those tests are about the generic pointer the student gets when nothing
    names the mistake."""
    from course.checks import _repair

    monkeypatch.setattr(_repair, "ENABLED", False)


@pytest.fixture(scope="session")
def known_class(tmp_path_factory):
    """The hand-built class of tests/autograder/known_class.py (verdicts constructed, no
    grading), built once per session. Returns its Course; tests that change it copy it."""
    path = Path(__file__).parent / "autograder" / "known_class.py"
    spec = importlib.util.spec_from_file_location("known_class", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(tmp_path_factory.mktemp("known") / "course")


@pytest.fixture
def workers_import_tests(monkeypatch):
    """Lets Dask worker processes import a test module's stand-in task by name.

    Dask pickles a submitted task by reference (module and name), so a worker process must
    be able to import `tests....`. LocalCluster's workers are spawned with the test
    process's `sys.path`, which under pytest-xdist lacks the repository root.
    """
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
