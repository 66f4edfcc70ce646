"""The floor of the diagnosis benchmark (tests/course/diagnosis.py, docs/diagnosis.md):
twelve sets of realistic mistakes written without reading the catalogue (118, 56, 60, 60,
61, 63, 64, 65, 64, 64, 64, 64). No real bug passes its check but the three listed in
KNOWN_MISSES, and at least the recorded number is named; a regression fails here. The
fresh to twelfth sets were each measured once before the checks were changed in reply
(docs/diagnosis.md has those numbers); the floors below are today's."""

from __future__ import annotations

import pytest

from tests.course import diagnosis
from tests.course.mistake_set import SPLIT

#: set -> (mistakes, named at least): the counts recorded in docs/diagnosis.md
FLOORS = {
    "original": (118, 116),
    # The counts of 2026-12-07's last whole run (fourth session) are in the comments; the
    # floors sit one to three below them, for names that the repair search finds late in
    # its seconds (a slower or busier machine may miss them: the fifth set's
    # padded_width_uses_row_stride, the ninth's train_batch_end_inclusive_accuracy_batch_
    # means and the tenth's train_epoch_generator_reseeded_accuracy_percent, two-slip
    # repairs found near the end of the search's 4 + 3 seconds, were each missed in a run
    # while other tests ran)
    "fresh": (56, 44),  # 46
    "third": (60, 41),  # 42
    "fourth": (60, 41),  # 43
    "fifth": (61, 44),  # 46
    "sixth": (63, 42),  # 44
    "seventh": (64, 37),  # 39
    "eighth": (65, 49),  # 51
    "ninth": (64, 33),  # 35 (36 in the run before)
    "tenth": (64, 39),  # 41
    "eleventh": (64, 43),  # 45
    "twelfth": (64, 40),  # 42
}
#: Real bugs that still pass their check, each left open for a reason docs/diagnosis.md
#: gives (the values are right and no dtype is documented; the reference layers accept
#: what the student's own layers of assignment 5 would refuse).
KNOWN_MISSES = {
    "ninth": {"conv1x1_float_conversion_left_out", "forward_conv1_padding_as_pair"},
    "eleventh": {"vectorized_float_conversion_left_out"},
}


@pytest.fixture(scope="module", params=sorted(FLOORS))
def measured(request):
    return request.param, diagnosis.measure(which=request.param)


def test_no_real_bug_passes_its_check(measured):
    which, results = measured
    missed = {k for k, r in results.items() if r["outcome"] == "missed"}
    assert missed == KNOWN_MISSES.get(which, set()), which


def test_the_named_count_does_not_fall_below_the_record(measured):
    which, results = measured
    size, floor = FLOORS[which]
    named = sum(r["outcome"] == "named" for r in results.values())
    assert len(results) == size
    assert named >= floor, f"{which}: {diagnosis.table(results)}"
    if which == "original":
        held_out = [r for k, r in results.items() if SPLIT[k] == "held_out"]
        assert sum(r["outcome"] == "named" for r in held_out) >= 53  # of 54


def test_every_mistake_of_the_set_has_a_check_to_run(measured):
    which, results = measured
    assert not [k for k, r in results.items() if r["outcome"] == "no_check"], which
