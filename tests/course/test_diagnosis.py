"""The floor of the diagnosis benchmark (tests/course/diagnosis.py, docs/diagnosis.md):
eleven sets of realistic mistakes written without reading the catalogue (118, 56, 60, 60,
61, 63, 64, 65, 64, 64, 64). No real bug passes its check but the four listed in
KNOWN_MISSES, and at least the recorded number is named; a regression fails here. The
fresh, third, fourth, fifth, sixth, seventh, eighth, ninth, tenth and eleventh sets were
each measured once before the checks were changed in reply (docs/diagnosis.md has those
numbers); the floors below are today's."""

from __future__ import annotations

import pytest

from tests.course import diagnosis
from tests.course.mistake_set import SPLIT

#: set -> (mistakes, named at least): the counts recorded in docs/diagnosis.md
FLOORS = {
    "original": (118, 116),
    "fresh": (56, 42),
    "third": (60, 41),
    "fourth": (60, 40),
    # 43 named on an idle machine; padded_width_uses_row_stride is found after about 3 of
    # the repair search's 4 seconds, and was missed once while other tests ran
    "fifth": (61, 42),
    "sixth": (63, 42),
    # 37 named on this machine; two of them are found late in the repair search's four
    # seconds (sgd_weight_decay_halved, evaluate_rounds_results), so a slower machine
    # may miss them
    "seventh": (64, 35),
    # 49 named on this machine, two below for the same reason
    "eighth": (65, 47),
    # 28 named on this machine; train_batch_end_inclusive_accuracy_batch_means is a
    # two-slip repair found near the end of the search's 4 + 3 seconds: alone it is named,
    # in the whole set's run it was missed twice
    "ninth": (64, 26),
    # 40 named on this machine; pool2d_avg_divided_by_stride_area is a two-slip repair,
    # found after about 3.4 s of the search's 4 + 3 seconds
    "tenth": (64, 39),  # 41 named on this machine
    "eleventh": (64, 39),  # 41 named on this machine
}
#: Real bugs that still pass their check, each left open for a reason docs/diagnosis.md
#: gives (the values are right and no dtype is documented; the reference layers accept
#: what the student's own layers of assignment 5 would refuse; a numpy integer for the
#: documented int, which the grading wire carries as an int).
KNOWN_MISSES = {
    "ninth": {"conv1x1_float_conversion_left_out", "forward_conv1_padding_as_pair"},
    "eleventh": {"conv_params_numpy_product", "vectorized_float_conversion_left_out"},
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
