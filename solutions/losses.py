"""Softmax, log-softmax and the softmax cross-entropy loss of a classifier.

For logits z of one example and its label y (an integer class in [0, C)):

    softmax(z)_k     = exp(z_k) / sum_j exp(z_j)
    log_softmax(z)_k = z_k - logsumexp(z),   logsumexp(z) = m + log(sum_j exp(z_j - m))
    loss             = -log_softmax(z)_y
    dloss/dz         = softmax(z) - onehot(y)

Subtracting m = max_j z_j before exponentiating changes nothing mathematically (it
cancels) but keeps every exp(z_j - m) in (0, 1], so logits of 1e4 neither overflow
(exp(1e4) = inf) nor produce inf/inf = NaN. Working with log_softmax instead of
log(softmax) also avoids log(0) = -inf when one probability underflows to 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._utils import as_float_array

__all__ = ["log_softmax", "softmax", "softmax_cross_entropy"]


def log_softmax(logits: Any) -> np.ndarray:
    """log(softmax(logits)) along the last axis, computed stably (log-sum-exp trick).

    Args:
        logits: shape (C,) or (N, C) (any shape: the last axis holds the classes).
    Returns:
        log-probabilities, same shape and dtype (ints become float64); each row's
        exp sums to 1.
    """
    z = _as_logits(logits)
    shifted = z - z.max(axis=-1, keepdims=True)  # every entry <= 0: exp cannot overflow
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: Any) -> np.ndarray:
    """softmax along the last axis: exp(z_k - max z) / sum_j exp(z_j - max z).

    Args:
        logits: shape (C,) or (N, C) (any shape: the last axis holds the classes).
    Returns:
        probabilities, same shape and dtype (ints become float64), each row sums to 1.
    """
    z = _as_logits(logits)
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # in (0, 1]: no overflow, sum >= 1
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits: Any, y: Any):
    """Mean softmax cross-entropy over a batch, torch's `F.cross_entropy(logits, y)`.

        loss    = -(1/N) * sum_n log_softmax(logits[n])[y[n]]
        dlogits = (softmax(logits) - onehot(y)) / N

    Args:
        logits: raw class scores, shape (N, C); float32 stays float32.
        y: integer class labels, shape (N,), each in [0, C).
    Returns:
        loss: a scalar of the dtype of logits (np.float64 is also a Python float).
        dlogits: gradient of the loss, shape (N, C).
    Raises:
        ValueError: logits not (N, C) with N, C >= 1; y not an integer array of shape
            (N,); a label outside [0, C).
    """
    z = as_float_array(logits, "logits", 2, "(N, C)")
    N, C = z.shape
    if N == 0 or C == 0:
        raise ValueError(f"logits must be (N, C) with N >= 1 and C >= 1; got shape {z.shape}")
    labels = np.asarray(y)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        # torch reads float targets as class *probabilities*, not labels: refuse rather
        # than guess, and say what is expected.
        raise ValueError(
            f"y must hold integer class labels in [0, {C}) (e.g. dtype int64); "
            f"got dtype {labels.dtype}"
        )
    if labels.shape != (N,):
        raise ValueError(
            f"y must have shape (N,) = ({N},), one label per row of logits; got {labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= C:
        bad = labels[(labels < 0) | (labels >= C)]
        raise ValueError(
            f"labels must be in [0, C) = [0, {C}) for logits with C={C} classes; "
            f"got {bad[:5].tolist()}"
        )
    rows = np.arange(N)
    logp = log_softmax(z)  # (N, C)
    loss = -logp[rows, labels].mean() + 0.0  # + 0.0: a perfect fit reports 0.0, not -0.0
    dlogits = np.exp(logp)  # softmax, reused from the stable log-probabilities
    dlogits[rows, labels] -= 1  # softmax - onehot(y)
    dlogits /= N  # the loss is a mean over the batch
    return z.dtype.type(loss), dlogits


def _as_logits(logits: Any) -> np.ndarray:
    z = as_float_array(logits, "logits", tuple(range(1, 33)), "(C,) or (N, C)")
    if z.shape[-1] == 0:
        raise ValueError(f"logits need at least one class (last axis); got shape {z.shape}")
    return z
