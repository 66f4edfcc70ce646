"""A progress bar for the training loops of assignments 6 and 7.

One bar per epoch, advanced once per batch, that stays on screen when the epoch ends and
then shows the epoch's numbers::

    bar = progress.epoch_bar(n_batches, desc="epoch 1/6")
    stats = train_epoch(..., step=progress.counting(bar, sgd_step))   # assignment 6
    stats = train_epoch_torch(model, progress.ticking(bar, batches), ...)  # assignment 7
    progress.finish(bar, f"loss {stats['loss']:.3f}, accuracy {stats['acc']:.1%}")

In JupyterLab ``tqdm.auto`` draws a widget; elsewhere a text bar. The text bar writes to
stdout, not tqdm's default stderr: stderr in a cell reads as an error, and nbgrader counts
it as a failure in a graded cell. Updates are at most twice a second, so that a notebook
run without a widget (nbclient, the autograder) keeps a small output.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

__all__ = ["counting", "epoch_bar", "finish", "ticking"]

T = TypeVar("T")


def epoch_bar(total: int, *, desc: str) -> tqdm:
    """A bar of ``total`` batches that is left on screen when it is closed."""
    return tqdm(
        total=int(total),
        desc=desc,
        unit="batch",
        leave=True,
        file=sys.stdout,
        mininterval=0.5,
        dynamic_ncols=True,
    )


def counting(bar: tqdm, fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` that advances ``bar`` by one each time it is called (one call per batch,
    such as the SGD step a training loop takes)."""

    def counted(*args: Any, **kwargs: Any) -> T:
        result = fn(*args, **kwargs)
        bar.update(1)
        return result

    return counted


def ticking(bar: tqdm, items: Iterable[T]) -> Iterator[T]:
    """The items of ``items``, advancing ``bar`` by one after each (it does not close the
    bar, so that :func:`finish` can still write the epoch's numbers on it)."""
    for item in items:
        yield item
        bar.update(1)


def finish(bar: tqdm, summary: str) -> None:
    """Write ``summary`` (the epoch's loss and accuracy) at the end of the bar and close it."""
    bar.set_postfix_str(summary, refresh=False)
    bar.close()
