"""Stochastic gradient descent with momentum, weight decay and Nesterov, as torch does it.

For each parameter ``p`` with gradient ``g`` (``torch.optim.SGD`` with dampening 0)::

    d = g + weight_decay * p
    buf = d                        on the first step
    buf = momentum * buf + d       afterwards
    d = d + momentum * buf         if nesterov, else d = buf
    p -= lr * d

Note this is torch's form, ``p -= lr * buf``, not the textbook ``v = mu*v - lr*g;
p += v``: the two agree while lr is constant and differ once a schedule changes it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import numpy as np


class SGD:
    """SGD over a dict of parameter arrays, updated in place.

    Args:
        params: dict name -> float ndarray, e.g. ``LeNet().params``. The arrays are
            updated in place, so the model sees every step.
        lr: learning rate (may be changed between steps: ``opt.lr = ...``).
        momentum: momentum factor mu >= 0 (0 = plain SGD).
        weight_decay: L2 penalty factor, added to the gradient as ``weight_decay * p``.
        nesterov: use Nesterov momentum (needs momentum > 0).

    Attributes:
        state: name -> momentum buffer, created on the first step.
    """

    def __init__(
        self,
        params: MutableMapping[str, np.ndarray],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0:
            raise ValueError(f"lr must be >= 0; got {lr}")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0; got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {weight_decay}")
        if nesterov and momentum <= 0:
            raise ValueError("nesterov momentum needs momentum > 0")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise ValueError(
                    f"parameter {name!r} must be a float numpy array (updated in place); "
                    f"got {type(p).__name__}"
                )
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.state: dict[str, np.ndarray] = {}

    def step(self, grads: Mapping[str, Any]) -> None:
        """Update every parameter that has a gradient in `grads` (others are left alone,
        as torch leaves a parameter whose ``.grad`` is None).

        Args:
            grads: dict name -> gradient, each with the shape of its parameter.
        """
        unknown = sorted(set(grads) - set(self.params))
        if unknown:
            raise ValueError(f"gradients for unknown parameters {unknown}")
        for name, p in self.params.items():
            if name not in grads:
                continue
            g = np.asarray(grads[name])
            if g.shape != p.shape:
                raise ValueError(
                    f"gradient for {name!r} has shape {g.shape}; the parameter has {p.shape}"
                )
            d = g + self.weight_decay * p if self.weight_decay else g
            if self.momentum:
                buf = self.state.get(name)
                if buf is None:
                    buf = self.state[name] = np.array(d, dtype=p.dtype)  # a copy
                else:
                    buf *= self.momentum
                    buf += d
                d = d + self.momentum * buf if self.nesterov else buf
            p -= self.lr * d
