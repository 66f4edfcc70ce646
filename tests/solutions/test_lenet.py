"""LeNet (solutions.lenet): parameter count, torch parity, gradient checks, state dicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from solutions.gradcheck import numerical_gradient, rel_error
from solutions.lenet import LAYER_NAMES, PARAM_SHAPES, VARIANTS, LeNet, reference_layers
from solutions.losses import softmax_cross_entropy


class TorchLeNet(nn.Module):
    """The torch twin of `solutions.lenet.LeNet`: same attribute names, same layers."""

    def __init__(self, variant: str = "relu-max") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        relu = variant == "relu-max"
        self.act = nn.ReLU() if relu else nn.Sigmoid()
        self.pool = nn.MaxPool2d(2) if relu else nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)


def torch_twin(model: LeNet) -> TorchLeNet:
    """A float64 torch LeNet holding a copy of `model`'s parameters."""
    twin = TorchLeNet(model.variant).double()
    twin.load_state_dict(
        {k: torch.from_numpy(v.astype(np.float64)) for k, v in model.state_dict().items()}
    )
    return twin


def images(n: int, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(dtype)


# ---------------------------------------------------------------------- parameters
@pytest.mark.parametrize("variant", VARIANTS)
def test_parameter_count_is_lectures_61706(variant):
    """LeNet of lecture 002 has 61,706 parameters, as torch counts them."""
    model = LeNet(variant)
    assert model.count_params() == 61_706
    assert sum(p.numel() for p in TorchLeNet(variant).parameters()) == 61_706


def test_param_table_lists_each_layer():
    """param_table gives (layer, weight shape, weights + biases) per layer."""
    assert LeNet().param_table() == [
        ("conv1", (6, 1, 5, 5), 156),
        ("conv2", (16, 6, 5, 5), 2416),
        ("fc1", (120, 400), 48120),
        ("fc2", (84, 120), 10164),
        ("fc3", (10, 84), 850),
    ]


def test_names_and_shapes_are_torchs():
    """params has exactly torch's state_dict keys and shapes, in torch's order."""
    twin = TorchLeNet()
    assert list(PARAM_SHAPES) == list(twin.state_dict())
    model = LeNet()
    assert {k: v.shape for k, v in model.params.items()} == {
        k: tuple(v.shape) for k, v in twin.state_dict().items()
    }


def test_init_is_torch_default_uniform_and_seeded():
    """Weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the seed fixes them."""
    model = LeNet(seed=3, dtype=np.float64)
    fan_in = {"conv1": 25, "conv2": 150, "fc1": 400, "fc2": 120, "fc3": 84}
    for name, p in model.params.items():
        bound = 1 / np.sqrt(fan_in[name.split(".")[0]])
        assert np.abs(p).max() <= bound, name
        if p.size > 100:  # spread over the whole interval, not a narrower one
            assert np.abs(p).max() > 0.9 * bound, name
            assert abs(p.std() - bound / np.sqrt(3)) < 0.15 * bound, name
    same = LeNet(seed=3, dtype=np.float32)
    other = LeNet(seed=4, dtype=np.float64)
    for name, p in model.params.items():
        assert same.params[name].dtype == np.float32
        np.testing.assert_allclose(same.params[name], p, rtol=1e-6)
        assert not np.array_equal(other.params[name], p)


def test_bad_arguments_say_what_was_expected():
    """Unknown variant, dtype or layer name raise ValueError naming the allowed values."""
    with pytest.raises(ValueError, match="variant must be one of"):
        LeNet("tanh-max")
    with pytest.raises(ValueError, match="float32 or float64"):
        LeNet(dtype=np.int64)
    with pytest.raises(ValueError, match="unknown layer names"):
        LeNet(layers={"conv_forward": lambda *a, **k: None})
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\).*reshape"):
        LeNet().forward(np.zeros((2, 784)))


# ---------------------------------------------------------------------- torch parity
@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_and_gradients_match_torch_float64(variant):
    """Logits, loss and every parameter gradient equal torch autograd's (float64)."""
    model = LeNet(variant, seed=1, dtype=np.float64)
    twin = torch_twin(model)
    x = images(5, seed=2)
    y = np.array([3, 1, 4, 1, 5])

    logits = model.forward(x)
    loss, dlogits = softmax_cross_entropy(logits, y)
    grads = model.backward(dlogits)

    t_logits = twin(torch.from_numpy(x))
    t_loss = nn.functional.cross_entropy(t_logits, torch.from_numpy(y))
    t_loss.backward()

    np.testing.assert_allclose(logits, t_logits.detach().numpy(), rtol=0, atol=1e-10)
    assert loss == pytest.approx(t_loss.item(), abs=1e-10)
    assert list(grads) == list(PARAM_SHAPES)
    for name, p in twin.named_parameters():
        assert grads[name].shape == PARAM_SHAPES[name]
        np.testing.assert_allclose(
            grads[name], p.grad.numpy(), rtol=0, atol=1e-10, err_msg=f"gradient of {name}"
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_model_stays_float32_and_close_to_torch(variant):
    """A float32 model casts inputs to float32 and keeps logits and gradients float32."""
    model = LeNet(variant, seed=0)
    x64 = images(3, seed=5)
    logits = model.forward(x64)
    assert logits.dtype == np.float32
    grads = model.backward(np.ones_like(logits) / 3)
    assert all(g.dtype == np.float32 for g in grads.values())
    twin = torch_twin(model)
    t_logits = twin(torch.from_numpy(x64.astype(np.float32).astype(np.float64)))
    np.testing.assert_allclose(logits, t_logits.detach().numpy(), rtol=0, atol=1e-4)


def test_loss_is_forward_loss_backward():
    """model.loss(x, y) returns the same loss and gradients as the three steps."""
    model = LeNet(dtype=np.float64)
    x, y = images(4, seed=7), np.array([0, 9, 2, 2])
    loss, grads = model.loss(x, y)
    expected_loss, dlogits = softmax_cross_entropy(model.forward(x), y)
    expected = model.backward(dlogits)
    assert loss == expected_loss
    for name in PARAM_SHAPES:
        np.testing.assert_array_equal(grads[name], expected[name])


# ---------------------------------------------------------------------- gradient check
# Why h = 1e-4 and the norm form of rel_error: the round-off of a central difference is
# ~eps * loss / h ~ 3e-11 absolute at h = 1e-5, and sigmoid-avg's conv1 gradients are only
# ~5e-5 (the sigmoids squash them), so entries near 0 make the elementwise ratio O(1e-4)
# although nothing is wrong; h = 1e-4 cuts round-off tenfold while the truncation error
# (~h^2) stays below it. Measured with seed 0: norm rel_error <= 4e-8 for every tensor.
#
# relu-max has kinks (ReLU at 0, ties in max pooling) where central differences are
# wrong whenever x +- h crosses one. With random float64 inputs a pre-activation lands
# within h of a kink with probability ~1e-4 per unit, so a fixed seed that passes stays
# passing; seed 0 is such a seed (checked, not searched for: it was the first tried).
@pytest.mark.parametrize("variant", VARIANTS)
def test_numerical_gradient_agrees_on_every_parameter(variant):
    """Central differences agree with backward on 20 random entries of each tensor."""
    model = LeNet(variant, seed=0, dtype=np.float64)
    x, y = images(2, seed=0), np.array([7, 2])
    _, grads = model.loss(x, y)
    pick = np.random.default_rng(0)
    for name, p in model.params.items():
        idx = pick.choice(p.size, size=min(20, p.size), replace=False)
        v = p.flat[idx].copy()

        def f(values, p=p, idx=idx):
            p.flat[idx] = values  # numerical_gradient perturbs `values` (= v) in place
            return softmax_cross_entropy(model.forward(x), y)[0]

        numeric = numerical_gradient(f, v, h=1e-4)
        p.flat[idx] = v  # restore exactly
        err = rel_error(grads[name].flat[idx], numeric, kind="norm")
        assert err < 1e-6, f"{variant} {name}: rel_error {err:.2e}"


# ---------------------------------------------------------------------- inference
def test_predict_is_argmax_of_logits_for_any_batch_size():
    """predict returns argmax(forward(x)) whatever the batch size."""
    model = LeNet(dtype=np.float64)
    x = images(11, seed=3)
    expected = model.forward(x).argmax(axis=1)
    for batch_size in (1, 4, 11, 512):
        np.testing.assert_array_equal(model.predict(x, batch_size=batch_size), expected)
    assert model.predict(x[:0]).shape == (0,)


def test_backward_checks_order_and_shape():
    """backward before forward, or with dlogits of the wrong shape, is a clear error."""
    model = LeNet()
    with pytest.raises(RuntimeError, match="forward"):
        model.backward(np.zeros((2, 10)))
    model.forward(images(2))
    with pytest.raises(ValueError, match=r"\(2, 10\)"):
        model.backward(np.zeros((3, 10)))


# ---------------------------------------------------------------------- state dicts
def test_state_dict_roundtrip_and_copies():
    """state_dict copies; load_state_dict restores values in place (same arrays)."""
    model, other = LeNet(seed=0), LeNet(seed=1)
    state = model.state_dict()
    state["fc3.bias"][:] = 123.0  # a copy: the model is untouched
    assert not np.any(model.params["fc3.bias"] == 123.0)
    arrays_before = {k: id(v) for k, v in other.params.items()}
    other.load_state_dict(model.state_dict())
    for name in PARAM_SHAPES:
        np.testing.assert_array_equal(other.params[name], model.params[name])
        assert id(other.params[name]) == arrays_before[name]
    x = images(3, dtype=np.float32)
    np.testing.assert_array_equal(other.forward(x), model.forward(x))


def test_state_dict_moves_both_ways_with_torch():
    """A torch LeNet's state_dict loads into LeNet and gives torch's logits."""
    twin = TorchLeNet("sigmoid-avg").double()
    model = LeNet("sigmoid-avg", seed=9, dtype=np.float64)
    model.load_state_dict(twin.state_dict())
    x = images(2, seed=1)
    np.testing.assert_allclose(
        model.forward(x), twin(torch.from_numpy(x)).detach().numpy(), rtol=0, atol=1e-10
    )


def test_load_state_dict_errors_name_the_problem_and_change_nothing():
    """Missing, unexpected or misshapen entries raise ValueError; params stay as they were."""
    model = LeNet(seed=0)
    before = model.state_dict()
    good = LeNet(seed=1).state_dict()

    missing = dict(good)
    del missing["conv2.bias"]
    with pytest.raises(ValueError, match=r"missing keys \['conv2.bias'\]"):
        model.load_state_dict(missing)

    extra = dict(good, **{"fc4.weight": np.zeros((1, 1))})
    with pytest.raises(ValueError, match=r"unexpected keys \['fc4.weight'\]"):
        model.load_state_dict(extra)

    wrong = dict(good, **{"fc1.weight": np.zeros((400, 120), np.float32)})
    with pytest.raises(
        ValueError, match=r"fc1.weight must have shape \(120, 400\); got \(400, 120\)"
    ):
        model.load_state_dict(wrong)

    for name in PARAM_SHAPES:
        np.testing.assert_array_equal(model.params[name], before[name])


# ---------------------------------------------------------------------- swappable layers
def test_reference_layers_cover_every_name():
    """reference_layers gives a function for each of LAYER_NAMES, per variant."""
    for variant in VARIANTS:
        layers = reference_layers(variant)
        assert set(layers) == set(LAYER_NAMES)
        assert all(callable(fn) for fn in layers.values())
    assert (
        reference_layers("relu-max")["pool_forward"]
        is not reference_layers("sigmoid-avg")["pool_forward"]
    )


def test_swapped_layers_are_called_and_others_stay_reference():
    """A layers= mapping replaces only the named functions, which LeNet then calls."""
    ref = reference_layers("relu-max")
    calls = {"conv2d_forward": 0, "act_backward": 0}

    def counting(name):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return ref[name](*args, **kwargs)

        return wrapper

    model = LeNet(layers={name: counting(name) for name in calls}, dtype=np.float64)
    assert model.layers["linear_forward"] is ref["linear_forward"]
    plain = LeNet(dtype=np.float64)
    x, y = images(2), np.array([1, 2])
    loss, grads = model.loss(x, y)
    assert calls == {"conv2d_forward": 2, "act_backward": 4}
    plain_loss, plain_grads = plain.loss(x, y)
    assert loss == plain_loss
    for name in PARAM_SHAPES:
        np.testing.assert_array_equal(grads[name], plain_grads[name])


def test_a_wrong_swapped_layer_changes_the_result():
    """A broken student activation (identity) gives different logits: swaps take effect."""
    broken = LeNet(layers={"act_forward": lambda x: (x, None)}, dtype=np.float64)
    x = images(2)
    assert not np.allclose(broken.forward(x), LeNet(dtype=np.float64).forward(x))


def test_conv1_skips_dx_when_the_backward_takes_need_dx():
    """conv1's gradient w.r.t. the images is skipped (need_dx=False) when the function
    accepts the keyword; a student's two-argument conv2d_backward still works."""
    ref = reference_layers("relu-max")["conv2d_backward"]
    seen = []

    def with_keyword(dout, cache, *, need_dx=True):
        seen.append(need_dx)
        return ref(dout, cache, need_dx=need_dx)

    def student(dout, cache):
        seen.append("student")
        return ref(dout, cache)

    x, y = images(2), np.array([3, 4])
    _, expected = LeNet(dtype=np.float64).loss(x, y)
    for fn, calls in ((with_keyword, [True, False]), (student, ["student", "student"])):
        seen.clear()
        _, grads = LeNet(layers={"conv2d_backward": fn}, dtype=np.float64).loss(x, y)
        assert seen == calls
        for name in PARAM_SHAPES:
            np.testing.assert_array_equal(grads[name], expected[name])
