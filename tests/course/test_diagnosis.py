"""The floor of the diagnosis benchmark (tests/course/diagnosis.py, docs/diagnosis.md):
118 realistic mistakes written without reading the catalogue. No real bug passes its
check, and at least the recorded share is named; a regression fails here."""

from __future__ import annotations

import pytest

from tests.course import diagnosis
from tests.course.mistake_set import SPLIT


@pytest.fixture(scope="module")
def results():
    return diagnosis.measure()


def test_no_real_bug_passes_its_check(results):
    missed = [k for k, r in results.items() if r["outcome"] == "missed"]
    assert missed == []


def test_the_named_share_does_not_fall_below_the_record(results):
    named = sum(r["outcome"] == "named" for r in results.values())
    held_out = [r for k, r in results.items() if SPLIT[k] == "held_out"]
    named_held_out = sum(r["outcome"] == "named" for r in held_out)
    assert named >= 113, diagnosis.table(results)  # of 118, docs/diagnosis.md
    assert named_held_out >= 52, diagnosis.table(results)  # of 54


def test_every_mistake_of_the_set_has_a_check_to_run(results):
    assert not [k for k, r in results.items() if r["outcome"] == "no_check"]
