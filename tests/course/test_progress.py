"""course.progress: one bar per epoch, advanced per batch, left on screen with the epoch's
numbers, written to stdout (stderr in a notebook cell reads as an error)."""

from __future__ import annotations

from course import progress


def test_counting_advances_once_per_call_and_returns_the_result(capsys):
    bar = progress.epoch_bar(3, desc="epoch 1/1")
    step = progress.counting(bar, lambda a, *, b: a + b)
    assert [step(1, b=2) for _ in range(3)] == [3, 3, 3]
    assert bar.n == 3
    progress.finish(bar, "loss 0.500, accuracy 90.0%")
    out, err = capsys.readouterr()
    assert err == ""
    assert "epoch 1/1" in out and "loss 0.500, accuracy 90.0%" in out and "3/3" in out


def test_ticking_yields_every_item_and_leaves_the_bar_open(capsys):
    bar = progress.epoch_bar(4, desc="epoch 2/3")
    assert list(progress.ticking(bar, "abcd")) == list("abcd")
    assert bar.n == 4 and not bar.disable
    assert bar.leave is True
    progress.finish(bar, "done")
    assert capsys.readouterr().err == ""
