"""SGD (solutions.optim): step-for-step equal to torch.optim.SGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solutions.optim import SGD

SHAPES = {"w": (4, 3), "b": (4,), "k": (2, 1, 3, 3)}

CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.02, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True},
]


def run_both(config: dict, steps: int = 5, lr_schedule=None):
    """Run our SGD and torch's on the same start and the same gradient sequence."""
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    ours = SGD(params, **config)
    theirs = torch.optim.SGD(list(tparams.values()), **config)
    for step in range(steps):
        if lr_schedule is not None:
            ours.lr = lr_schedule(step)
            for group in theirs.param_groups:
                group["lr"] = lr_schedule(step)
        grads = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
        for k, t in tparams.items():
            t.grad = torch.from_numpy(grads[k].copy())
        ours.step(grads)
        theirs.step()
        for k, t in tparams.items():
            np.testing.assert_allclose(
                params[k],
                t.detach().numpy(),
                rtol=0,
                atol=1e-13,
                err_msg=f"{config} step {step} {k}",
            )
    return params


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items())
)
def test_matches_torch_sgd_over_five_steps(config):
    """Parameters after each of 5 steps equal torch.optim.SGD's (float64)."""
    run_both(config)


def test_matches_torch_when_lr_changes_between_steps():
    """Changing opt.lr mid-run (a schedule) follows torch's p -= lr * buf form."""
    run_both(
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}, lr_schedule=lambda s: 0.1 / (1 + s)
    )


def test_first_momentum_step_is_plain_sgd_and_buffers_are_copies():
    """Step 1 with momentum: buf = grad, p -= lr * grad; the buffer does not alias grad."""
    p = {"w": np.array([1.0, 2.0])}
    g = {"w": np.array([0.5, -1.0])}
    opt = SGD(p, lr=0.1, momentum=0.9)
    opt.step(g)
    np.testing.assert_allclose(p["w"], [0.95, 2.1])
    g["w"][:] = 0.0
    np.testing.assert_allclose(opt.state["w"], [0.5, -1.0])
    opt.step(g)  # buf = 0.9 * buf
    np.testing.assert_allclose(p["w"], [0.95 - 0.1 * 0.45, 2.1 + 0.1 * 0.9])


def test_updates_in_place_and_skips_parameters_without_gradient():
    """The dict's own arrays change; a parameter absent from grads is untouched."""
    p = {"a": np.ones(3), "b": np.ones(2)}
    a, b = p["a"], p["b"]
    SGD(p, lr=1.0).step({"a": np.full(3, 0.5)})
    assert p["a"] is a and p["b"] is b
    np.testing.assert_array_equal(a, 0.5)
    np.testing.assert_array_equal(b, 1.0)


def test_float32_parameters_stay_float32():
    """A float32 parameter stays float32 even with float64 gradients."""
    p = {"w": np.ones((2, 2), np.float32)}
    opt = SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(2):
        opt.step({"w": np.ones((2, 2))})
    assert p["w"].dtype == np.float32 and opt.state["w"].dtype == np.float32


def test_bad_arguments_are_clear_errors():
    """Negative hyper-parameters, nesterov without momentum, bad grads: ValueError."""
    p = {"w": np.zeros(2)}
    for kwargs, match in [
        ({"lr": -1}, "lr"),
        ({"momentum": -0.1}, "momentum"),
        ({"weight_decay": -1}, "weight_decay"),
        ({"nesterov": True}, "nesterov"),
    ]:
        with pytest.raises(ValueError, match=match):
            SGD(p, **kwargs)
    with pytest.raises(ValueError, match="float numpy array"):
        SGD({"w": [0.0, 1.0]})
    opt = SGD(p)
    with pytest.raises(ValueError, match="unknown parameters"):
        opt.step({"v": np.zeros(2)})
    with pytest.raises(ValueError, match=r"shape \(3,\); the parameter has \(2,\)"):
        opt.step({"w": np.zeros(3)})
