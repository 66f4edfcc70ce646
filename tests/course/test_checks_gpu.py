"""Misconception suite for course.checks.gpu (assignment 07_gpu, LeNet in PyTorch).

For every catalogued mistake, a deliberately wrong implementation, written the way a
student would get it wrong, is run through its check: the check must name that mistake.
The reference implementations (written below, as the notebook's solutions are) pass, and
wrong answers that match no catalogued mistake get the generic message with the pointer.

The cross-checks of the student's numpy LeNet and conv2d (diagnostics, not graded) are
tested at the end: they pass on the reference numpy code and name the first tensor that
disagrees when a layer is broken on purpose.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import solutions
from course.checks import CheckFailed, _repair, answer_digest
from course.checks import gpu as checks

# ---------------------------------------------------------------------------------------
# make_lenet_torch, with a switch for each catalogued mistake
# ---------------------------------------------------------------------------------------


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def make_lenet_student(variant="relu-max", *, bug=None):
    if variant not in ("relu-max", "sigmoid-avg") and bug != "unknown_variant_accepted":
        raise ValueError(f"unknown variant {variant!r}")
    relu = variant == "relu-max"
    relu_act = not relu if bug == "wrong_activation" else relu
    max_pool = relu if bug != "wrong_pooling" else not relu

    def act():
        return nn.ReLU() if relu_act else nn.Sigmoid()

    def pool():
        return nn.MaxPool2d(2) if max_pool else nn.AvgPool2d(2)

    conv1 = nn.Conv2d(1, 6, 5, padding=0 if bug == "wrong_shape" else 2)
    fc1 = nn.Linear(256 if bug == "wrong_shape" else 400, 120)
    if bug == "wrong_shape_linear_args":
        fc1 = nn.Linear(120, 400)
    flatten = nn.Flatten()
    if bug == "wrong_output_shape":
        flatten = nn.Flatten(0)  # flattens the batch axis too
    if bug == "flatten_channels_last":
        flatten = Lambda(lambda h: h.permute(0, 2, 3, 1).reshape(h.shape[0], -1))
    layers = [
        ("conv1", conv1),
        ("act1", act()),
        ("pool1", pool()),
        ("conv2", nn.Conv2d(6, 16, 5)),
        ("act2", act()),
        ("pool2", pool()),
        ("flatten", flatten),
        ("fc1", fc1),
        ("act3", act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", act()),
        ("fc3", nn.Linear(84, 10)),
    ]
    if bug == "shared_layer":  # one ReLU and one MaxPool2d object for every place
        shared = {"act": act(), "pool": pool()}
        layers = [(n, shared.get(n[:-1], m)) for n, m in layers]
    if bug == "no_fc_activation":
        layers = [(n, m) for n, m in layers if n not in ("act3", "act4")]
    if bug == "activation_after_fc3":
        layers.append(("act5", act()))
    if bug == "softmax_at_the_end":
        layers.append(("softmax", nn.Softmax(dim=1)))
    if bug == "log_softmax_at_the_end":
        layers.append(("log_softmax", nn.LogSoftmax(dim=1)))
    if bug == "unnamed_layers":
        return nn.Sequential(*(m for _, m in layers))
    if bug == "wrong_names":
        layers = [(n.replace("conv", "c"), m) for n, m in layers]
    if bug == "not_a_module":
        return [m for _, m in layers]
    return nn.Sequential(OrderedDict(layers))


class LectureLeNet5(nn.Module):
    """Lecture 002's class, written out (a class passes the check as well as a Sequential)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, stride=1, padding=2)
        self.max_pool_1 = nn.MaxPool2d(kernel_size=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.max_pool_2 = nn.MaxPool2d(kernel_size=2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.max_pool_1(F.relu(self.conv1(x)))
        x = self.max_pool_2(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def make_lenet_class(variant="relu-max"):
    if variant == "relu-max":
        return LectureLeNet5()
    return make_lenet_student(variant)


MAKE_KEYS = [m.key for m in checks.MAKE_LENET_MISTAKES] + [
    "unnamed_layers",
    "wrong_names",
    "wrong_shape",
    "wrong_output_shape",
    "not_a_module",
    "shared_layer",
    "unknown_variant_accepted",
]


def _named(check, *args):
    with pytest.raises(CheckFailed) as info:
        check(*args)
    return info.value


@pytest.mark.parametrize("key", MAKE_KEYS)
def test_make_lenet_mistakes_are_named(key):
    def wrong(variant="relu-max"):
        return make_lenet_student(variant, bug=key)

    if key == "wrong_default":

        def wrong(variant="sigmoid-avg"):
            return make_lenet_student(variant)

    err = _named(checks.check_make_lenet_torch, wrong)
    assert err.mistake == key, str(err)
    says = next((m.says for m in checks.MAKE_LENET_MISTAKES if m.key == key), None)
    if says is not None:
        assert f"It looks like {says}" in str(err)


def test_swapped_linear_arguments_are_explained():
    err = _named(
        checks.check_make_lenet_torch,
        lambda variant="relu-max": make_lenet_student(variant, bug="wrong_shape_linear_args"),
    )
    assert err.mistake == "wrong_shape"
    assert "fc1.weight has shape (400, 120)" in str(err) and "input size first" in str(err)


def test_missing_conv1_padding_is_explained():
    err = _named(
        checks.check_make_lenet_torch,
        lambda variant="relu-max": make_lenet_student(variant, bug="wrong_shape"),
    )
    assert "(120, 256)" in str(err) and "padding=2" in str(err)


@pytest.mark.parametrize("fn", [make_lenet_student, make_lenet_class])
def test_make_lenet_references_pass(fn, capsys):
    assert checks.check_make_lenet_torch(fn) is None
    assert "✓ make_lenet_torch" in capsys.readouterr().out


def test_make_lenet_generic_failure_gets_the_pointer(without_repair):
    def scaled(variant="relu-max"):
        model = make_lenet_student(variant)
        model.add_module("twice", Lambda(lambda z: 2 * z + 1))
        return model

    err = _named(checks.check_make_lenet_torch, scaled)
    assert err.mistake is None
    assert "expected" in str(err) and "lecture 002" in str(err)
    # With the repair search, leaving the added module out names it.
    _repair.ENABLED = True
    err = _named(checks.check_make_lenet_torch, scaled)
    assert err.mistake == "repair:extra_step", str(err)
    assert 'model.add_module("twice", Lambda(lambda z: 2 * z + 1))`, leaving it out' in str(err)


def test_make_lenet_shared_layer_names_the_places():
    """A shared activation computes the right logits, but the model walked layer by layer
    skips its second place: the check says which places share one object, and why."""
    err = _named(
        checks.check_make_lenet_torch,
        lambda variant="relu-max": make_lenet_student(variant, bug="shared_layer"),
    )
    text = str(err)
    assert "'act1' and 'act2' and 'act3' and 'act4' hold the same nn.ReLU object" in text
    assert "named_children()" in text and "Create a new object for each place" in text


def test_make_lenet_with_a_layer_that_acts_only_while_training_fails():
    """An extra nn.Dropout changes nothing after model.eval(): the logits in training mode
    must be those of evaluation mode too (lecture 002's LeNet has no such layer)."""

    def dropout(variant="relu-max"):
        model = make_lenet_student(variant)
        layers = list(model.named_children())
        layers.insert(-1, ("drop", nn.Dropout(0.5)))
        return nn.Sequential(OrderedDict(layers))

    err = _named(checks.check_make_lenet_torch, dropout)
    assert err.mistake == "layer_only_in_training", str(err)
    assert "yours has Dropout" in str(err)


def test_a_torch_not_implemented_error_is_no_placeholder():
    """torch's NotImplementedError ("not implemented for 'Long'", F.cross_entropy with
    the labels first) is the student's error in a call, not the notebook's placeholder."""

    def train_epoch_torch(model, batches, opt, device):
        for x, y in batches:
            x, y = torch.as_tensor(x).to(device), torch.as_tensor(y).to(device)
            loss = F.cross_entropy(y, model(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return {"loss": 0.0, "acc": 0.0}

    err = _named(checks.check_train_epoch_torch, train_epoch_torch)
    assert err.mistake != "not_implemented", str(err)
    assert "not implemented yet" not in str(err)
    assert "comes from inside torch, not from the notebook's placeholder" in str(err)


def test_make_lenet_not_implemented():
    def stub(variant="relu-max"):
        raise NotImplementedError("Exercise 7.1 is not done yet")

    err = _named(checks.check_make_lenet_torch, stub)
    assert err.mistake == "not_implemented" and "Exercise 7.1" in str(err)


# ---------------------------------------------------------------------------------------
# Quiz
# ---------------------------------------------------------------------------------------


def _layer_counts():
    """(parameters, multiplications per image) of each layer, from solutions' shapes."""
    net = solutions.LeNet()
    params = {layer: n for layer, _, n in net.param_table()}
    h1 = solutions.output_size(28, 5, padding=2)  # 28
    h2 = solutions.output_size(h1 // 2, 5)  # 10
    mults = {
        "conv1": 6 * h1 * h1 * 1 * 5 * 5,
        "conv2": 16 * h2 * h2 * 6 * 5 * 5,
        "fc1": 400 * 120,
        "fc2": 120 * 84,
        "fc3": 84 * 10,
    }
    return params, mults


def test_quiz_digests_are_those_of_the_right_answers(capsys):
    _, mults = _layer_counts()
    most = max(mults, key=mults.get)
    total = sum(mults.values())
    assert answer_digest(most) == checks.QUIZ_LAYER_DIGEST
    assert answer_digest(total) == checks.QUIZ_TOTAL_DIGEST
    checks.check_quiz_work((most, total))
    checks.check_quiz_work([most.upper(), float(total)])
    checks.check_quiz_work((f" {most} ", np.int64(total)))
    assert capsys.readouterr().out.count("correct") == 3


@pytest.mark.parametrize(
    ("answer", "mistake", "words"),
    [
        (None, "not_answered", "no answer yet"),
        (Ellipsis, "not_answered", "no answer yet"),
        (("fc1", 416_520), "wrong_answer", "most multiplications"),
        (("conv2", 61_706), "wrong_answer", "parameters were counted"),
        (("conv2", 240_000), "wrong_answer", "one forward pass"),
        (("conv2", "many"), "wrong_answer", "one forward pass"),
        (("conv2",), "wrong_answer", "a layer name"),
        (("pool1", 3), "wrong_answer", "a layer name"),
    ],
)
def test_quiz_wrong_answers(answer, mistake, words):
    err = _named(checks.check_quiz_work, answer)
    assert err.mistake == mistake and words in str(err)


# ---------------------------------------------------------------------------------------
# load_numpy_params
# ---------------------------------------------------------------------------------------


def load_reference(model, params):
    model.to(torch.float64)
    with torch.no_grad():
        for name, param in model.named_parameters():
            array = np.asarray(params[name])
            if array.shape != tuple(param.shape):
                raise ValueError(f"{name}: shape {array.shape}, expected {tuple(param.shape)}")
            param.copy_(torch.from_numpy(array))
    return model


def load_with_state_dict(model, params):
    model.to(torch.float64)
    for name, param in model.state_dict().items():
        if np.shape(params[name]) != tuple(param.shape):
            raise ValueError(f"{name}: {np.shape(params[name])}, expected {param.shape}")
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in params.items()})
    return model


def load_student(model, params, *, bug=None):
    missing = [name for name, _ in model.named_parameters() if name not in params]
    if missing and bug == "missing_not_key_error":
        raise ValueError(f"{missing[0]} is missing")
    if bug == "caller_dict_changed":  # the converted copies written back into the dict
        for name in params:
            params[name] = np.asarray(params[name], dtype=np.float64)
    if bug == "loaded_before_float64":
        load_reference(model.float(), {k: v.astype(np.float32) for k, v in params.items()})
        return model.double()
    if bug != "kept_float32":
        model.to(torch.float64)
    for name, param in model.named_parameters():
        array = params[name]
        if bug == "biases_not_loaded" and name.endswith("bias"):
            continue
        if bug == "weights_not_loaded" and name.endswith("weight"):
            continue
        if bug == "not_loaded":
            continue
        tensor = torch.from_numpy(array).to(param.device, torch.float64)
        if bug == "transposed_weights" and name.startswith("fc") and name.endswith("weight"):
            tensor = tensor.T  # "numpy stores (in, out)": not in this course
        if bug == "shares_numpy_memory":
            param.data = tensor
            continue
        if bug == "different_devices":  # new Parameters made on another device
            module, attr = name.rsplit(".", 1)
            setattr(model.get_submodule(module), attr, nn.Parameter(tensor.to("meta")))
            continue
        if bug == "params_not_trainable":
            param.requires_grad_(False)
        if bug == "copy_outside_no_grad":
            param.copy_(tensor)
            continue
        with torch.no_grad():
            if bug == "shape_not_checked":
                param.copy_(
                    tensor.reshape(param.shape) if tensor.numel() == param.numel() else tensor
                )
            elif bug == "error_without_name":
                param.copy_(tensor)
            else:
                if tuple(tensor.shape) != tuple(param.shape):
                    if bug == "error_without_shapes":
                        raise ValueError(f"{name}: wrong shape")
                    raise ValueError(f"{name}: {tuple(tensor.shape)}, expected {param.shape}")
                param.copy_(tensor)
    if bug == "returned_none":
        return None
    return model


LOAD_KEYS = [m.key for m in checks.LOAD_MISTAKES] + [
    "transposed_weights",
    "kept_float32",
    "shares_numpy_memory",
    "different_devices",
    "params_not_trainable",
    "copy_outside_no_grad",
    "shape_not_checked",
    "error_without_name",
    "error_without_shapes",
    "returned_none",
    "caller_dict_changed",
    "missing_not_key_error",
]


@pytest.mark.parametrize("key", LOAD_KEYS)
def test_load_mistakes_are_named(key):
    err = _named(checks.check_load_numpy_params, lambda m, p: load_student(m, p, bug=key))
    assert err.mistake == key, str(err)
    says = next((m.says for m in checks.LOAD_MISTAKES if m.key == key), None)
    if says is not None:
        assert f"It looks like {says}" in str(err)


@pytest.mark.parametrize("fn", [load_reference, load_with_state_dict, load_student])
def test_load_references_pass(fn, capsys):
    assert checks.check_load_numpy_params(fn) is None
    assert "✓ load_numpy_params" in capsys.readouterr().out


@pytest.mark.usefixtures("without_repair")
def test_load_generic_failure_gets_the_pointer():
    def off_by_a_bit(model, params):
        return load_reference(model, {k: v * 1.01 for k, v in params.items()})

    err = _named(checks.check_load_numpy_params, off_by_a_bit)
    assert err.mistake is None and "same name" in str(err)


def test_load_hidden_style_round_trip_with_solutions_lenet():
    """What the hidden test does: solutions.LeNet's parameters and forward as the reference."""
    net = solutions.LeNet(seed=3, dtype=np.float64)
    torch.manual_seed(0)
    model = load_reference(make_lenet_student(), net.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28))
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, net.forward(x), rtol=1e-10, atol=1e-12)
    back = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    assert all(np.array_equal(back[k], v) for k, v in net.state_dict().items())


# ---------------------------------------------------------------------------------------
# train_epoch_torch and evaluate_torch
# ---------------------------------------------------------------------------------------


def train_student(model, batches, opt, device, *, bug=None):
    if bug != "eval_mode":
        model.train()
    total, correct, count, means = 0.0, 0, 0, []
    for x, y in batches:
        dtype = torch.float32 if bug == "dtype_mismatch" else None
        x = torch.as_tensor(x, device=device, dtype=dtype)
        y = torch.as_tensor(y, device=device)
        if bug not in ("zero_grad_forgotten", "no_update"):
            opt.zero_grad()
        logits = model(x)
        if bug == "softmax_before_cross_entropy":
            loss = F.cross_entropy(F.softmax(logits, dim=1), y)
        elif bug == "loss_summed":
            loss = F.cross_entropy(logits, y, reduction="sum")
        else:
            loss = F.cross_entropy(logits, y)
        loss.backward()
        if bug == "no_update":
            opt.zero_grad()
        opt.step()
        total += loss.item() * len(y)
        means.append(loss.item())
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    if bug == "returned_none":
        return None
    if bug == "wrong_return":
        return total / count
    loss, acc = total / count, correct / count
    if bug == "mean_of_batch_means":
        loss = sum(means) / len(means)
    if bug == "last_batch_loss":
        loss = means[-1]
    if bug == "acc_as_count":
        acc = correct
    if bug == "acc_as_percent":
        acc = 100 * correct / count
    return {"loss": loss, "acc": acc}


TRAIN_KEYS = (
    [m.key for m in checks.TRAIN_PARAM_MISTAKES]
    + [m.key for m in checks.STATS_MISTAKES]
    + ["dtype_mismatch", "returned_none", "wrong_return"]
)


@pytest.mark.parametrize("key", TRAIN_KEYS)
def test_train_mistakes_are_named(key):
    err = _named(
        checks.check_train_epoch_torch,
        lambda m, b, o, d: train_student(m, b, o, d, bug=key),
    )
    assert err.mistake == key, str(err)
    says = next(
        (m.says for m in (*checks.TRAIN_PARAM_MISTAKES, *checks.STATS_MISTAKES) if m.key == key),
        None,
    )
    if says is not None:
        assert f"It looks like {says}" in str(err)


def test_train_reference_passes_and_eval_mode_fails(capsys):
    checks.check_train_epoch_torch(train_student)
    out = capsys.readouterr().out
    assert "✓ train_epoch_torch: 8 of 8" in out and "eval mode" not in out
    err = _named(
        checks.check_train_epoch_torch,
        lambda m, b, o, d: train_student(m, b, o, d, bug="eval_mode"),
    )
    assert err.mistake == "no_train_mode" and "model.train()" in str(err)


@pytest.mark.parametrize("graph", [False, True])
def test_train_refuses_a_tensor_loss(graph):
    """The docstring asks for floats; a loss tensor may still hold the epoch's graph (a
    full-mark bug of the hardening trial, which float() in the check used to accept)."""

    def tensor_stats(model, batches, opt, device):
        stats = train_student(model, batches, opt, device)
        return {
            "loss": torch.tensor(stats["loss"], dtype=torch.float64, requires_grad=graph) * 1,
            "acc": stats["acc"],
        }

    err = _named(checks.check_train_epoch_torch, tensor_stats)
    assert err.mistake == "tensor_return" and "loss.item()" in str(err)
    assert ("autograd graph" in str(err)) == graph


def test_device_errors_are_named():
    def on_the_wrong_device(model, batches, opt, device):
        raise RuntimeError(
            "Expected all tensors to be on the same device, but found at least two devices, "
            "cuda:0 and cpu!"
        )

    err = _named(checks.check_train_epoch_torch, on_the_wrong_device)
    assert err.mistake == "different_devices" and "torch.as_tensor(x, device=device)" in str(err)


def _epoch(model, batches, opt, device, *, move, accumulate=lambda total, loss, y: total):
    """A correct epoch whose batches go to the device as `move(x, y, device)` says."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in batches:
        x, y = move(x, y, device)
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        total = accumulate(total, loss, y) + loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return {"loss": float(total) / count, "acc": correct / count}


def _discarded(x, y, device):
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    x.to(device)  # the moved copy is thrown away: x stays where it was
    return x, y.to(device)


LEFT_ON_CPU = {
    "images": (
        lambda x, y, d: (torch.as_tensor(x), torch.as_tensor(y, device=d)),
        "(5, 6)",
    ),  # flattened
    "labels": (lambda x, y, d: (torch.as_tensor(x, device=d), torch.from_numpy(y)), "(5,)"),
    "both": (lambda x, y, d: (torch.from_numpy(x), torch.from_numpy(y)), "(5, 6)"),
    "moved copy discarded": (_discarded, "(5, 6)"),
}
MOVED = {
    "as_tensor device=": lambda x, y, d: (
        torch.as_tensor(x, device=d),
        torch.as_tensor(y, device=d),
    ),
    "as_tensor().to()": lambda x, y, d: (torch.as_tensor(x).to(d), torch.as_tensor(y).to(d)),
    "to(device, non_blocking)": lambda x, y, d: (
        torch.tensor(x).to(d, non_blocking=True),
        torch.tensor(y).to(device=d),
    ),
    "tensor(device=)": lambda x, y, d: (torch.tensor(x, device=d), torch.tensor(y, device=d)),
}


@pytest.mark.parametrize("where", list(LEFT_ON_CPU))
def test_data_left_on_the_cpu_is_caught_without_a_gpu(where):
    """A CPU machine computes the same numbers either way; DeviceWatch sees where each
    tensor would be on the device and names the first operation that would mix them."""
    move, shape = LEFT_ON_CPU[where]
    err = _named(checks.check_train_epoch_torch, lambda m, b, o, d: _epoch(m, b, o, d, move=move))
    assert err.mistake == "not_on_device", str(err)
    assert f"a tensor of shape {shape}" in str(err) and "same device" in str(err)


@pytest.mark.parametrize("how", list(MOVED))
def test_every_way_of_moving_the_batches_passes(how, capsys):
    checks.check_train_epoch_torch(lambda m, b, o, d: _epoch(m, b, o, d, move=MOVED[how]))
    assert "✓ train_epoch_torch" in capsys.readouterr().out


def test_batches_that_are_tensors_must_be_taken_as_they_are():
    """The docstring allows tensor batches: torch.from_numpy refuses them."""

    def from_numpy(x, y, d):
        return torch.from_numpy(x).to(d), torch.from_numpy(y).to(d)

    err = _named(
        checks.check_train_epoch_torch, lambda m, b, o, d: _epoch(m, b, o, d, move=from_numpy)
    )
    assert err.mistake == "raised", str(err)
    assert "as tensors" in str(err) and "TypeError" in str(err)


def test_what_a_gpu_allows_to_mix_passes(capsys):
    """A 0-dim CPU tensor may meet device tensors, and CPU indices may index them; the
    model may be moved again inside the loop."""

    def cpu_scalars(total, loss, y):
        rows = torch.arange(len(y))  # CPU indices into a device tensor: allowed on a GPU
        picked = loss.detach().expand(len(y))[rows]
        return total + torch.tensor(0.0) * picked.sum()

    def move_model_too(model, batches, opt, device):
        model.to(device)
        return _epoch(model, batches, opt, device, move=MOVED["as_tensor device="],
                      accumulate=cpu_scalars)  # fmt: skip

    checks.check_train_epoch_torch(move_model_too)
    assert "✓ train_epoch_torch" in capsys.readouterr().out


def test_evaluate_names_labels_left_on_the_cpu():
    def labels_stay(model, batches, device):
        model.eval()
        with torch.no_grad():
            out = [
                (model(torch.as_tensor(x, device=device)), torch.from_numpy(y)) for x, y in batches
            ]
            n = sum(len(y) for _, y in out)
            loss = sum(F.cross_entropy(z, y, reduction="sum").item() for z, y in out) / n
            acc = sum((z.argmax(1) == y).sum().item() for z, y in out) / n
        return {"loss": loss, "acc": acc}

    err = _named(checks.check_evaluate_torch, labels_stay)
    assert err.mistake == "not_on_device" and "cross_entropy" in str(err), str(err)


def test_train_generic_failure_gets_the_pointer():
    def half_lr(model, batches, opt, device):
        for group in opt.param_groups:
            group["lr"] /= 2
        return train_student(model, batches, opt, device)

    err = _named(checks.check_train_epoch_torch, half_lr)
    assert err.mistake is None and "opt.zero_grad()" in str(err)


def evaluate_student(model, batches, device, *, bug=None):
    if bug != "train_mode":
        model.eval()
    total, correct, count, means = 0.0, 0, 0, []
    with torch.set_grad_enabled(bug == "grad_enabled"):
        for x, y in batches:
            x, y = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if bug == "log_of_softmax":
                loss = F.nll_loss(torch.log(F.softmax(logits, dim=1)), y)
            total += loss.item() * len(y)
            means.append(loss.item())
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
    loss, acc = total / count, correct / count
    if bug == "mean_of_batch_means":
        loss = sum(means) / len(means)
    if bug == "acc_as_count":
        acc = correct
    if bug == "acc_as_percent":
        acc = 100.0 * acc
    return {"loss": loss, "acc": acc}


@pytest.mark.parametrize(
    "key",
    ["grad_enabled", "mean_of_batch_means", "acc_as_count", "acc_as_percent", "log_of_softmax"],
)
def test_evaluate_mistakes_are_named(key):
    err = _named(checks.check_evaluate_torch, lambda m, b, d: evaluate_student(m, b, d, bug=key))
    assert err.mistake == key, str(err)


def test_evaluate_reference_passes_and_train_mode_fails(capsys):
    checks.check_evaluate_torch(evaluate_student)
    out = capsys.readouterr().out
    assert "✓ evaluate_torch: 5 of 5" in out and "training mode" not in out
    err = _named(
        checks.check_evaluate_torch, lambda m, b, d: evaluate_student(m, b, d, bug="train_mode")
    )
    assert err.mistake == "no_eval_mode" and "model.eval()" in str(err)


def test_evaluate_with_inference_mode_passes():
    def inference(model, batches, device):
        with torch.inference_mode():
            return evaluate_student(model, batches, device)

    checks.check_evaluate_torch(inference)


# ---------------------------------------------------------------------------------------
# The trained-model check
# ---------------------------------------------------------------------------------------


def _digits(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=n)
    return X, y


class Oracle(nn.Module):
    """A "model" that knows the labels: it puts a large logit on the right class."""

    def __init__(self, X, y):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.answers = {x.tobytes(): int(label) for x, label in zip(X, y, strict=True)}

    def forward(self, x):
        out = torch.zeros(len(x), 10)
        for i, image in enumerate(x.numpy()):
            out[i, self.answers[image.tobytes()]] = 5.0
        return out + self.weight


def test_trained_model_passes_above_the_threshold(capsys):
    X, y = _digits()
    assert checks.check_trained_model(Oracle(X, y), X, y) is None
    assert "✓ the trained LeNet classifies 100.0%" in capsys.readouterr().out


def test_untrained_model_fails():
    X, y = _digits()
    torch.manual_seed(0)
    err = _named(checks.check_trained_model, make_lenet_student(), X, y)
    assert err.mistake == "not_trained" and "chance: 10%" in str(err)


@pytest.mark.parametrize(("model", "mistake"), [(None, "not_trained"), ("model", "not_a_module")])
def test_missing_model_is_explained(model, mistake):
    X, y = _digits()
    err = _named(checks.check_trained_model, model, X, y)
    assert err.mistake == mistake
    if model is None:
        assert "is not implemented yet" in str(err)  # the release harness reads this


# ---------------------------------------------------------------------------------------
# Diagnostics: cross_check_conv2d, cross_check_lenet, use_layers_that_pass
# ---------------------------------------------------------------------------------------

REFERENCE_LAYERS = {
    name: getattr(solutions, name)
    for name in (
        "conv2d_forward",
        "conv2d_backward",
        "relu_forward",
        "relu_backward",
        "maxpool2d_forward",
        "maxpool2d_backward",
        "flatten_forward",
        "flatten_backward",
        "linear_forward",
        "linear_backward",
        "softmax_cross_entropy",
    )
}


def _layers(**replace):
    from course.torch_layers import layers_from

    return layers_from({**REFERENCE_LAYERS, **replace}, origin="yours")


def init_lenet(seed=0):
    return solutions.LeNet(seed=seed, dtype=np.float64).state_dict()


def lenet_forward(params, x, layers):
    """Assignment 6's lenet_forward, written as a student would (layers as attributes)."""
    p, c = params, {}
    h, c["conv1"] = layers.conv2d_forward(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    h, c["relu1"] = layers.relu_forward(h)
    h, c["pool1"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, c["conv2"] = layers.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    h, c["relu2"] = layers.relu_forward(h)
    h, c["pool2"] = layers.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, c["flatten"] = layers.flatten_forward(h)
    h, c["fc1"] = layers.linear_forward(h, p["fc1.weight"], p["fc1.bias"])
    h, c["relu3"] = layers.relu_forward(h)
    h, c["fc2"] = layers.linear_forward(h, p["fc2.weight"], p["fc2.bias"])
    h, c["relu4"] = layers.relu_forward(h)
    logits, c["fc3"] = layers.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    return logits, c


def lenet_backward(dlogits, c, layers):
    g = {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(d, c["relu4"])
    d, g["fc2.weight"], g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
    d = layers.relu_backward(d, c["relu3"])
    d, g["fc1.weight"], g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
    d = layers.flatten_backward(d, c["flatten"])
    d = layers.maxpool2d_backward(d, c["pool2"])
    d = layers.relu_backward(d, c["relu2"])
    d, g["conv2.weight"], g["conv2.bias"] = layers.conv2d_backward(d, c["conv2"])
    d = layers.maxpool2d_backward(d, c["pool1"])
    d = layers.relu_backward(d, c["relu1"])
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    return g


X4 = np.random.default_rng(4).standard_normal((4, 1, 28, 28))
Y4 = np.array([3, 1, 4, 1])


def _flipped_dw(dout, cache):
    dx, dw, db = solutions.conv2d_backward(dout, cache)
    return dx, dw[:, :, ::-1, ::-1], db


def _halved_pool_backward(dout, cache):
    return 0.5 * solutions.maxpool2d_backward(dout, cache)


def _doubled_dlogits(logits, y):
    loss, d = solutions.softmax_cross_entropy(logits, y)
    return loss, 2 * d


def _scaled_forward(params, x, layers):
    logits, cache = lenet_forward(params, x, layers)
    return 1.01 * logits, cache


def _float32_forward(params, x, layers):
    logits, cache = lenet_forward(params, x, layers)
    return logits.astype(np.float32), cache


def _backward_without(name):
    def backward(dlogits, cache, layers):
        grads = lenet_backward(dlogits, cache, layers)
        del grads[name]
        return grads

    return backward


def test_cross_check_lenet_passes_on_the_reference(capsys):
    checks.cross_check_lenet(init_lenet(), lenet_forward, lenet_backward, _layers(), X4, Y4)
    out = capsys.readouterr().out
    assert "✓ all 13 tensors agree" in out and out.count("✓") == 14


def test_cross_check_lenet_accepts_float32_params_and_torch_layers(capsys):
    from course.torch_layers import LAYERS

    params = {k: v.astype(np.float32) for k, v in init_lenet(1).items()}
    checks.cross_check_lenet(params, lenet_forward, lenet_backward, LAYERS, X4, Y4, "cpu")
    assert "✓ all 13 tensors agree" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("forward", "backward", "layers", "mistake", "words"),
    [
        (
            lenet_forward,
            lenet_backward,
            _layers(conv2d_backward=_flipped_dw),
            "backward_differs",
            ["conv2.weight gradient", "conv2.bias agrees", "computes dw", "agree to within"],
        ),
        (
            lenet_forward,
            lenet_backward,
            _layers(maxpool2d_backward=_halved_pool_backward),
            "backward_differs",
            ["conv2.weight gradient", "on its way to conv2", "pooling's backward (pool2)"],
        ),
        (
            lenet_forward,
            lenet_backward,
            _layers(softmax_cross_entropy=_doubled_dlogits),
            "loss_differs",
            ["dlogits", "loss layer itself"],
        ),
        (
            _scaled_forward,
            lenet_backward,
            _layers(),
            "forward_differs",
            ["logits (forward)", "fix it first"],
        ),
        (
            lenet_forward,
            _backward_without("fc2.bias"),
            _layers(),
            "backward_differs",
            ["fc2.bias gradient", "missing"],
        ),
        (
            _float32_forward,
            lenet_backward,
            _layers(),
            "float32_in_numpy",
            ["float32 logits", "float64"],
        ),
    ],
)
def test_cross_check_lenet_names_the_first_disagreeing_tensor(
    forward, backward, layers, mistake, words, capsys
):
    err = _named(checks.cross_check_lenet, init_lenet(), forward, backward, layers, X4, Y4)
    assert err.mistake == mistake, str(err)
    for word in words:
        assert word in str(err), (word, str(err))
    if mistake != "float32_in_numpy":
        assert "✗" in capsys.readouterr().out  # the table was printed before the error


def test_cross_check_lenet_explains_missing_params():
    params = init_lenet()
    del params["fc3.bias"]
    err = _named(checks.cross_check_lenet, params, lenet_forward, lenet_backward, _layers(), X4, Y4)
    assert "fc3.bias" in str(err)


def test_cross_check_lenet_uses_the_cpu_for_mps(capsys):
    checks.cross_check_lenet(init_lenet(), lenet_forward, lenet_backward, _layers(), X4, Y4, "mps")
    assert "MPS has no float64" in capsys.readouterr().out


def test_cross_check_conv2d_passes_on_the_reference(capsys):
    checks.cross_check_conv2d(solutions.conv2d_forward, solutions.conv2d_backward)
    out = capsys.readouterr().out
    assert f"agree with torch on all {len(checks.CONV_CASES)} cases" in out


def _conv_forward_without_stride(x, w, b, *, stride=1, padding=0):
    return solutions.conv2d_forward(x, w, b, stride=1, padding=padding)


def _conv_backward_no_db(dout, cache):
    dx, dw, db = solutions.conv2d_backward(dout, cache)
    return dx, dw, 0 * db


@pytest.mark.parametrize(
    ("forward", "backward", "mistake", "words"),
    [
        (
            solutions.conv2d_forward,
            _flipped_dw,
            "dw_differs",
            ["conv2d_backward, dw", "LeNet's conv1"],
        ),
        (solutions.conv2d_forward, _conv_backward_no_db, "db_differs", ["conv2d_backward, db"]),
        (
            _conv_forward_without_stride,
            solutions.conv2d_backward,
            "out_differs",
            ["stride 2", "shape"],
        ),
    ],
)
def test_cross_check_conv2d_names_case_and_tensor(forward, backward, mistake, words):
    err = _named(checks.cross_check_conv2d, forward, backward)
    assert err.mistake == mistake, str(err)
    for word in words:
        assert word in str(err), (word, str(err))


def test_use_layers_that_pass_keeps_good_layers_and_replaces_bad_ones(capsys):
    def not_written(*args, **kwargs):
        raise NotImplementedError("Exercise 7.0 is not done yet")

    from course.torch_layers import layers_from

    mine = layers_from(
        {
            **REFERENCE_LAYERS,
            "conv2d_backward": _flipped_dw,
            "maxpool2d_forward": not_written,
            "maxpool2d_backward": not_written,
            "relu_backward": None,
        },
        fallback=__import__("course.torch_layers").torch_layers.LAYERS,
    )
    chosen = checks.use_layers_that_pass(mine)
    out = capsys.readouterr().out
    assert chosen.origin["linear_forward"] == "yours"
    assert chosen.origin["softmax_cross_entropy"] == "yours"
    assert chosen.origin["conv2d_backward"] == "torch"
    assert chosen.origin["maxpool2d_forward"] == "torch"
    assert chosen.origin["relu_forward"] == "torch"
    assert "dw differs" in out and "not written yet" in out and "paste both" in out


def test_numpy_lenet_ready(capsys):
    assert checks.numpy_lenet_ready(init_lenet, lenet_forward, lenet_backward, _layers())

    def stub(*args):
        raise NotImplementedError("Exercise 7.0 is not done yet")

    assert not checks.numpy_lenet_ready(init_lenet, stub, lenet_backward, _layers())
    assert not checks.numpy_lenet_ready(init_lenet, lenet_forward, lambda *a: 1 / 0, _layers())
    out = capsys.readouterr().out
    assert "runs" in out and "not complete" in out and "ZeroDivisionError" in out


def test_same_device_treats_cuda_and_cuda0_alike(monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert checks._same_device(torch.device("cpu"), torch.device("cpu"))
    assert checks._same_device(torch.device("cuda", 0), torch.device("cuda"))
    assert not checks._same_device(torch.device("cuda", 1), torch.device("cuda"))
    assert not checks._same_device(torch.device("meta"), torch.device("cpu"))


def test_train_must_take_batches_from_a_generator():
    """batches is an iterable (course.data.batches is a generator): no len(), no [k]."""

    def by_position(model, batches, opt, device):
        return train_student(model, [batches[k] for k in range(len(batches))], opt, device)

    err = _named(checks.check_train_epoch_torch, by_position)
    assert err.mistake == "raised", str(err)
    assert "a generator of batches" in str(err)
