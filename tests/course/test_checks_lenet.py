"""Misconception suite for course.checks.lenet (assignment 06, LeNet on MNIST).

For every catalogued mistake, a deliberately wrong implementation, written the way a
student would get it wrong, is run through its check: the check must name that mistake.
The reference implementations pass (student-style versions written here, and the
reference layers of `solutions`), and wrong answers that match no catalogued mistake get
the generic message with the lecture pointer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import solutions
from course.checks import CheckFailed, answer_digest
from course.checks import lenet as checks
from course.torch_layers import LAYERS, layers_from

REFERENCE = layers_from(vars(solutions), origin="reference")
SHAPES = checks.PARAM_SHAPES


def _named(check, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    return info.value


def _says(mistakes, key):
    return next(m.says for m in mistakes if m.key == key)


def _noise(a):
    """A wrong answer that no transformation of the right one explains: seeded noise."""
    a = np.asarray(a, dtype=float)
    return a + np.random.default_rng(99).standard_normal(a.shape)


# ---------------------------------------------------------------------------------------
# Student-style implementations, each with a switch for the catalogued mistakes
# ---------------------------------------------------------------------------------------


def init_student(seed=0, *, bug=None):
    shapes = {
        "conv1": (6, 1, 5, 5),
        "conv2": (16, 6, 5, 5),
        "fc1": (120, 400),
        "fc2": (84, 120),
        "fc3": (10, 84),
    }
    rng = np.random if bug == "seed_ignored" else np.random.default_rng(seed)
    params = {}
    order = [(layer, kind) for layer in shapes for kind in ("weight", "bias")]
    if bug == "weights_then_biases":
        order = [(layer, kind) for kind in ("weight", "bias") for layer in shapes]
    for layer, kind in order:
        w_shape = shapes[layer]
        fan_in = int(np.prod(w_shape[1:]))
        fan_out = w_shape[0] * int(np.prod(w_shape[2:]))
        bound = 1 / np.sqrt(fan_out if bug == "fan_out" else fan_in)
        if bug == "no_sqrt":
            bound = 1 / fan_in
        shape = w_shape if kind == "weight" else (w_shape[0],)
        if bug == "weight_transposed" and kind == "weight" and layer.startswith("fc"):
            shape = shape[::-1]
        if bug == "wrong_shape" and kind == "bias" and layer == "conv2":
            shape = (16, 1)
        if bug == "all_zeros" or (bug == "zero_biases" and kind == "bias"):
            value = np.zeros(shape)
        elif bug == "normal_draws":
            value = rng.normal(0.0, bound, size=shape)
        else:
            value = rng.uniform(-bound, bound, size=shape)
        name = f"{layer}.{kind}" if bug != "wrong_keys" else f"{layer}_{kind[0].upper()}"
        params[name] = value.astype(np.float32) if bug == "wrong_dtype" else value
    if bug == "not_a_dict":
        return list(params.values())
    return params


def forward_student(params, x, layers, *, bug=None):
    p, c = params, {}
    L = layers
    if bug == "ignores_layers":
        L = REFERENCE  # the global (reference) functions instead of the ones passed in
    h, c["conv1"] = L.conv2d_forward(
        x, p["conv1.weight"], p["conv1.bias"], padding=0 if bug == "conv_padding" else 2
    )
    if bug == "no_relu_after_conv1":
        c["relu1"] = None
    else:
        h, c["relu1"] = L.relu_forward(h)
    if bug == "pool_missing":
        c["pool1"] = None
    elif bug == "average_pooling":
        N, C, H, W = h.shape
        h = h.reshape(N, C, H // 2, 2, W // 2, 2).mean(axis=(3, 5))
        c["pool1"] = None
    else:
        h, c["pool1"] = L.maxpool2d_forward(h, kernel_size=2, stride=2)
    h, c["conv2"] = L.conv2d_forward(h, p["conv2.weight"], p["conv2.bias"])
    if bug == "no_relu_after_conv2":
        c["relu2"] = None
    else:
        h, c["relu2"] = L.relu_forward(h)
    if bug == "average_pooling":
        N, C, H, W = h.shape
        h = h.reshape(N, C, H // 2, 2, W // 2, 2).mean(axis=(3, 5))
        c["pool2"] = None
    else:
        h, c["pool2"] = L.maxpool2d_forward(h, kernel_size=2, stride=2)
    if bug == "flatten_nhwc":
        h = h.transpose(0, 2, 3, 1)
    if bug == "flatten_missing":
        c["flatten"] = None
    else:
        h, c["flatten"] = L.flatten_forward(h)
    w1 = p["fc1.weight"].T if bug == "weight_transposed" else p["fc1.weight"]
    h, c["fc1"] = L.linear_forward(h, w1, p["fc1.bias"])
    if bug == "no_relu_after_fc1":
        c["relu3"] = None
    elif bug == "pair_not_unpacked":
        h = L.relu_forward(h)  # the (out, cache) pair goes on to fc2
    else:
        h, c["relu3"] = L.relu_forward(h)
    w2 = p["fc1.weight"] if bug == "wrong_parameter" else p["fc2.weight"]
    h, c["fc2"] = L.linear_forward(h, w2, p["fc2.bias"])
    if bug == "no_relu_after_fc2":
        c["relu4"] = None
    else:
        h, c["relu4"] = L.relu_forward(h)
    logits, c["fc3"] = L.linear_forward(h, p["fc3.weight"], p["fc3.bias"])
    if bug == "relu_on_logits":
        logits, _ = L.relu_forward(logits)
    if bug == "softmax_applied_twice":
        e = np.exp(logits - logits.max(1, keepdims=True))
        logits = e / e.sum(1, keepdims=True)
    if bug == "cache_keys":
        c["relu_1"] = c.pop("relu1")
    if bug == "cache_mixup":
        c["relu1"] = c["pool1"]
    if bug == "returns_logits_only":
        return logits
    return logits, c


def backward_student(dlogits, caches, layers, *, bug=None):
    c, g = caches, {}
    d, g["fc3.weight"], g["fc3.bias"] = layers.linear_backward(dlogits, c["fc3"])
    if bug != "relu_backward_missing_after_fc2":
        d = layers.relu_backward(d, c["relu3"] if bug == "wrong_cache" else c["relu4"])
    d, g["fc2.weight"], g["fc2.bias"] = layers.linear_backward(d, c["fc2"])
    if bug != "relu_backward_missing_after_fc1":
        d = layers.relu_backward(d, c["relu3"])
    d, g["fc1.weight"], g["fc1.bias"] = layers.linear_backward(d, c["fc1"])
    if bug != "flatten_backward_missing":
        d = layers.flatten_backward(d, c["flatten"])
    if bug != "pool_backward_missing":
        d = layers.maxpool2d_backward(d, c["pool2"])
    if bug != "relu_backward_missing_after_conv2":
        d = layers.relu_backward(d, c["relu2"])
    d, g["conv2.weight"], g["conv2.bias"] = layers.conv2d_backward(d, c["conv2"])
    d = layers.maxpool2d_backward(d, c["pool1"])
    if bug != "relu_backward_missing_after_conv1":
        d = layers.relu_backward(d, c["relu1"])
    _, g["conv1.weight"], g["conv1.bias"] = layers.conv2d_backward(d, c["conv1"])
    if bug == "sign_flipped":
        g = {k: -v for k, v in g.items()}
    if bug == "bias_grads_missing":
        g = {k: v for k, v in g.items() if k.endswith("weight")}
    if bug == "grad_transposed":
        g["fc2.weight"] = g["fc2.weight"].T
    return g


def loss_student(logits, y, *, bug=None):
    N = logits.shape[0]
    z = logits if bug == "unstable_softmax" else logits - logits.max(axis=1, keepdims=True)
    if bug == "batch_max":
        z = logits - logits.max()
    with np.errstate(all="ignore"):
        e = np.exp(z)
        axis = 0 if bug == "softmax_wrong_axis" else 1
        p = e / e.sum(axis=axis, keepdims=True)
        log_p = z - np.log(e.sum(axis=axis, keepdims=True))  # the log-softmax
        if bug == "label_indexing":
            loss = -np.log(p[:, y]).mean()
        elif bug in ("log_of_softmax", "batch_max"):  # np.log of probabilities
            loss = -np.log(p[np.arange(N), y]).mean()
        else:
            loss = -log_p[np.arange(N), y].mean()
    d = p.copy()
    if bug != "onehot_not_subtracted":
        d[np.arange(N), y] -= 1
    if bug == "grad_sign_flipped":
        d = -d
    if bug not in ("loss_summed", "grad_not_averaged"):
        d = d / N
    if bug == "loss_summed":
        loss = loss * N
    if bug == "loss_sign":
        loss = -loss
    return loss, d


def sgd_student(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0, bug=None):
    new_params = {}
    for name in params:
        p, g = params[name], grads[name]
        if bug == "biases_not_updated" and name.endswith("bias"):
            continue
        if bug in ("weight_decay_ignored", "weight_decay_outside_momentum"):
            d = g
        elif bug == "weight_decay_sign":
            d = g - weight_decay * p
        else:
            d = g + weight_decay * p
        if bug == "ema_momentum":
            v = momentum * velocity[name] + (1 - momentum) * d
        else:
            v = momentum * velocity[name] + d
        if bug != "velocity_not_kept":
            velocity[name] = v
        step = v + weight_decay * p if bug == "weight_decay_outside_momentum" else v
        updated = p - step if bug == "lr_ignored" else p - lr * step
        if bug == "not_in_place":
            p = updated  # rebinds the local name only
        elif bug == "returns_new_params":
            new_params[name] = updated
        else:
            params[name] = updated
    if bug == "returns_new_params":
        return new_params
    return None


def lenet_forward_ref(params, x, layers):
    return forward_student(params, x, layers)


def lenet_backward_ref(dlogits, caches, layers):
    return backward_student(dlogits, caches, layers)


def train_student(
    params,
    velocity,
    X,
    y,
    layers,
    *,
    batch_size=64,
    lr=0.02,
    momentum=0.9,
    weight_decay=5e-4,
    rng=None,
    forward=None,
    backward=None,
    step=None,
    bug=None,
):
    rng = np.random.default_rng(0) if rng is None else rng
    forward = forward or lenet_forward_ref
    backward = backward or lenet_backward_ref
    step = step or sgd_student
    if bug == "ignores_injected_functions":
        forward, backward, step = lenet_forward_ref, lenet_backward_ref, sgd_student
    if bug == "velocity_reset":
        velocity = {k: np.zeros_like(v) for k, v in params.items()}
    N = len(y)
    order = np.arange(N) if bug == "not_shuffled" else rng.permutation(N)
    label_order = rng.permutation(N) if bug == "labels_shuffled_separately" else order
    stop = (N // batch_size) * batch_size if bug == "last_batch_dropped" else N
    total, correct, means = 0.0, 0, []
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        idy = label_order[start : start + batch_size]
        logits, caches = forward(params, X[idx], layers)
        if bug == "ignores_layers":
            loss, dlogits = solutions.softmax_cross_entropy(logits, y[idy])
        else:
            loss, dlogits = layers.softmax_cross_entropy(logits, y[idy])
        grads = backward(dlogits, caches, layers)
        step(params, grads, velocity, lr=lr, momentum=momentum, weight_decay=weight_decay)
        total += float(loss) * len(idx)
        means.append(float(loss))
        correct += int((logits.argmax(1) == y[idy]).sum())
    if bug == "wrong_return":
        return total / N, correct / N
    loss_value = {"loss_not_divided": total, "loss_mean_of_batch_means": float(np.mean(means))}.get(
        bug, total / N
    )
    return {"loss": loss_value, "acc": correct if bug == "acc_count" else correct / N}


def evaluate_student(params, X, y, layers, *, batch_size=500, forward=None, bug=None):
    forward = forward or lenet_forward_ref
    N = len(y)
    if bug == "params_replaced":  # "match the images' dtype", written back into the dict
        for name in params:
            params[name] = params[name].astype(X.dtype)
    stop = (N // batch_size) * batch_size if bug == "last_batch_dropped" else N
    total, correct, means = 0.0, 0, []
    for start in range(0, stop, batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        logits, _ = forward(params, xb, layers)
        loss, _ = layers.softmax_cross_entropy(logits, yb)
        if bug == "softmax_unshifted":  # np.exp(logits) without the row's max subtracted
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                e = np.exp(logits)
                loss = -np.mean(np.log((e / e.sum(axis=1, keepdims=True))[np.arange(len(yb)), yb]))
        total += float(loss) * len(yb)
        means.append(float(loss))
        correct += int((logits.argmax(1) == yb).sum())
    if bug == "updates_params":
        params["fc3.bias"] -= 0.1
    if bug == "wrong_return":
        return [total / N, correct / N]
    loss_value = {"loss_not_divided": total, "loss_mean_of_batch_means": float(np.mean(means))}.get(
        bug, total / N
    )
    return {"loss": loss_value, "acc": correct if bug == "acc_count" else correct / N}


# ---------------------------------------------------------------------------------------
# 6.1 and quizzes
# ---------------------------------------------------------------------------------------


def _param_answer():
    net = solutions.LeNet()
    return (*(n for _, _, n in net.param_table()), net.count_params())


def _rf_answer():
    r, j, answer = 1, 1, []
    for k, s in [(5, 1), (2, 2), (5, 1), (2, 2)]:
        r, j = r + (k - 1) * j, j * s
        answer.append(r)
    return tuple(answer)


def _alexnet_answer():
    convs = [(3, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)]
    fcs = [(9216, 4096), (4096, 4096), (4096, 1000)]
    return sum(o * (i * k * k + 1) for i, o, k in convs) + sum(m * (n + 1) for n, m in fcs)


def test_quiz_answers_are_accepted_by_digest(capsys):
    checks.check_params_quiz(_param_answer())
    checks.check_params_quiz([float(v) for v in _param_answer()])
    checks.check_receptive_field_quiz(_rf_answer())
    checks.check_alexnet_quiz(_alexnet_answer())
    assert capsys.readouterr().out.count("correct") == 4
    assert (
        answer_digest(_param_answer()[-1]) == checks.PARAMS_DIGESTS["total"] == answer_digest(61706)
    )
    assert answer_digest(_alexnet_answer()) == checks.ALEXNET_DIGEST


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((150, 2416, 48120, 10164, 850, 61700), "conv1 count, 150, is not right"),
        ((156, 2400, 48120, 10164, 850, 61706), "Did you leave out the biases?"),
        ((156, 2416, 48000, 10164, 850, 61706), "your fc1 count"),
        ((156, 2416, 48120, 10164, 850, 61000), "your total count"),
        ((156, 2416), "six numbers"),
        (None, "no answer yet"),
    ],
)
def test_params_quiz_names_the_wrong_part(answer, words):
    err = _named(checks.check_params_quiz, answer)
    assert words in str(err)
    assert err.mistake in {"wrong_answer", "not_answered"}


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((5, 6, 13, 16), "conv2 value"),
        ((5, 10, 14, 16), "pool1 value"),
        ((5, 6, 14), "four numbers"),
    ],
)
def test_receptive_field_quiz_names_the_wrong_part(answer, words):
    assert words in str(_named(checks.check_receptive_field_quiz, answer))


def test_alexnet_quiz_wrong_and_missing():
    assert _named(checks.check_alexnet_quiz, 60_000_000).mistake == "wrong_answer"
    assert _named(checks.check_alexnet_quiz, ...).mistake == "not_answered"


# ---------------------------------------------------------------------------------------
# 6.2 init_lenet
# ---------------------------------------------------------------------------------------

INIT_STRUCTURAL = [
    "seed_ignored",
    "weight_transposed",
    "wrong_shape",
    "wrong_keys",
    "wrong_dtype",
    "not_a_dict",
]


@pytest.mark.parametrize("key", [m.key for m in checks.INIT_MISTAKES])
def test_init_mistakes_are_named(key):
    err = _named(checks.check_init_lenet, lambda seed: init_student(seed, bug=key))
    assert err.mistake == key
    assert f"It looks like {_says(checks.INIT_MISTAKES, key)}" in str(err)


@pytest.mark.parametrize("key", INIT_STRUCTURAL)
def test_init_structural_mistakes_are_named(key):
    err = _named(checks.check_init_lenet, lambda seed: init_student(seed, bug=key))
    assert err.mistake == key, str(err)


def test_init_reference_and_student_pass(capsys):
    checks.check_init_lenet(init_student)
    checks.check_init_lenet(lambda seed: solutions.LeNet(seed=seed, dtype=np.float64).params)
    assert capsys.readouterr().out.count("✓") == 2


# ---------------------------------------------------------------------------------------
# 6.3 lenet_forward
# ---------------------------------------------------------------------------------------

FORWARD_TRACED = [
    "pair_not_unpacked",
    "pool_missing",
    "conv_padding",
    "weight_transposed",
    "wrong_parameter",
    "flatten_missing",
    "ignores_layers",
    "cache_keys",
    "cache_mixup",
    "returns_logits_only",
]


@pytest.mark.parametrize("key", [m.key for m in checks.FORWARD_MISTAKES])
def test_forward_mistakes_are_named(key):
    err = _named(checks.check_lenet_forward, lambda p, x, L: forward_student(p, x, L, bug=key))
    assert err.mistake == key, str(err)
    assert f"It looks like {_says(checks.FORWARD_MISTAKES, key)}" in str(err)


@pytest.mark.parametrize("key", FORWARD_TRACED)
def test_forward_traced_mistakes_are_named(key):
    err = _named(checks.check_lenet_forward, lambda p, x, L: forward_student(p, x, L, bug=key))
    assert err.mistake == key, str(err)


def test_forward_trace_names_the_layer_call():
    err = _named(
        checks.check_lenet_forward, lambda p, x, L: forward_student(p, x, L, bug="pool_missing")
    )
    text = str(err)
    assert "Layer call 3 should be layers.maxpool2d_forward" in text
    assert "max pooling after conv1" in text


def test_forward_reference_passes(capsys):
    checks.check_lenet_forward(forward_student)
    checks.check_lenet_forward(forward_student, layers=REFERENCE)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.usefixtures("without_repair")
def test_forward_random_wrong_answer_gets_the_generic_message():
    def off(params, x, layers):
        logits, caches = forward_student(params, x, layers)
        return _noise(logits), caches

    err = _named(checks.check_lenet_forward, off)
    assert err.mistake is None
    assert "expected" in str(err) and "lecture 002's forward pass" in str(err)


def test_forward_not_implemented():
    def stub(params, x, layers):
        raise NotImplementedError("Exercise 6.3 is not done yet")

    err = _named(checks.check_lenet_forward, stub)
    assert err.mistake == "not_implemented" and "Exercise 6.3" in str(err)


# ---------------------------------------------------------------------------------------
# 6.4 lenet_backward
# ---------------------------------------------------------------------------------------

BACKWARD_TRACED = [
    "pool_backward_missing",
    "flatten_backward_missing",
    "wrong_cache",
    "bias_grads_missing",
    "grad_transposed",
]


@pytest.mark.parametrize("key", [m.key for m in checks.BACKWARD_MISTAKES])
def test_backward_mistakes_are_named(key):
    err = _named(
        checks.check_lenet_backward,
        lambda d, c, L: backward_student(d, c, L, bug=key),
        forward_student,
    )
    assert err.mistake == key, str(err)
    assert f"It looks like {_says(checks.BACKWARD_MISTAKES, key)}" in str(err)


@pytest.mark.parametrize("key", BACKWARD_TRACED)
def test_backward_traced_mistakes_are_named(key):
    err = _named(
        checks.check_lenet_backward,
        lambda d, c, L: backward_student(d, c, L, bug=key),
        forward_student,
    )
    assert err.mistake == key, str(err)


def test_backward_needs_a_working_forward():
    err = _named(
        checks.check_lenet_backward,
        backward_student,
        lambda p, x, L: forward_student(p, x, L, bug="flatten_nhwc"),
    )
    assert err.mistake == "forward_fails" and "Exercise 6.3" in str(err)


def test_backward_that_ignores_layers():
    def global_layers(dlogits, caches, layers):
        return {k: np.zeros(s) for k, s in SHAPES.items()}

    assert (
        _named(checks.check_lenet_backward, global_layers, forward_student).mistake
        == "ignores_layers"
    )


def test_backward_reference_passes(capsys):
    checks.check_lenet_backward(backward_student, forward_student)
    checks.check_lenet_backward(backward_student, forward_student, layers=REFERENCE)
    assert capsys.readouterr().out.count("✓ lenet_backward") == 2


@pytest.mark.usefixtures("without_repair")
def test_backward_random_wrong_answer_gets_the_generic_message():
    def doubled(dlogits, caches, layers):
        return {k: _noise(v) for k, v in backward_student(dlogits, caches, layers).items()}

    err = _named(checks.check_lenet_backward, doubled, forward_student)
    assert err.mistake is None and "reverse order" in str(err)
    assert "grads['fc3.weight']" in str(err)  # the first gradient the backward pass computes


# ---------------------------------------------------------------------------------------
# 6.5 softmax_cross_entropy
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [m.key for m in checks.LOSS_MISTAKES])
def test_loss_mistakes_are_named(key):
    err = _named(checks.check_softmax_cross_entropy, lambda z, y: loss_student(z, y, bug=key))
    assert err.mistake == key, str(err)
    assert f"It looks like {_says(checks.LOSS_MISTAKES, key)}" in str(err)


def test_unstable_softmax_is_named():
    err = _named(
        checks.check_softmax_cross_entropy, lambda z, y: loss_student(z, y, bug="unstable_softmax")
    )
    assert err.mistake == "unstable_softmax" and "subtract each row's max" in str(err)


def test_loss_references_pass(capsys):
    checks.check_softmax_cross_entropy(loss_student)
    checks.check_softmax_cross_entropy(solutions.softmax_cross_entropy)
    assert capsys.readouterr().out.count("✓") == 2


def test_loss_random_wrong_answer_gets_the_generic_message():
    err = _named(checks.check_softmax_cross_entropy, lambda z, y: (1.0, np.ones_like(z)))
    assert err.mistake is None and "onehot(y)) / N" in str(err)


# ---------------------------------------------------------------------------------------
# 6.6 sgd_step
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted({m.key for m in checks.SGD_MISTAKES}))
def test_sgd_mistakes_are_named(key):
    err = _named(checks.check_sgd_step, lambda *a, **k: sgd_student(*a, **k, bug=key))
    assert err.mistake == key, str(err)
    says = [m.says for m in checks.SGD_MISTAKES if m.key == key]
    assert any(f"It looks like {s}" in str(err) for s in says), str(err)


def test_sgd_pairing_by_position_is_named():
    def zipped(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        for p, g, v in zip(params.values(), grads.values(), velocity.values(), strict=True):
            v *= momentum
            v += g + weight_decay * p
            p -= lr * v

    err = _named(checks.check_sgd_step, zipped)
    assert err.mistake == "paired_by_position", str(err)


def test_sgd_returning_new_params_is_named():
    err = _named(
        checks.check_sgd_step, lambda *a, **k: sgd_student(*a, **k, bug="returns_new_params")
    )
    assert err.mistake == "returns_new_params" and "in place" in str(err)


def test_sgd_decay_written_into_the_callers_grads_is_named():
    """The steps come out right, but `g += weight_decay * p` changes the caller's grads
    (a mistake of the held-out set that passed before)."""

    def decay_in_place(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        for name, p in params.items():
            g = grads[name]
            g += weight_decay * p
            velocity[name] *= momentum
            velocity[name] += g
            p -= lr * velocity[name]

    err = _named(checks.check_sgd_step, decay_in_place)
    assert err.mistake == "grads_changed_in_place", str(err)
    assert "grads[" in str(err) and "d = grads[name] + weight_decay * p" in str(err)


def test_sgd_a_wrong_step_that_also_changes_grads_names_the_step():
    """A value mistake outranks the in-place note: the student fixes the step first."""

    def ascent_in_place(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        for name, p in params.items():
            g = grads[name]
            g += weight_decay * p
            velocity[name] *= momentum
            velocity[name] += g
            p += lr * velocity[name]

    err = _named(checks.check_sgd_step, ascent_in_place)
    assert err.mistake != "grads_changed_in_place", str(err)


def test_sgd_references_pass(capsys):
    def via_solutions(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        opt = solutions.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        opt.state = velocity
        opt.step(grads)

    checks.check_sgd_step(sgd_student)
    checks.check_sgd_step(via_solutions)
    assert capsys.readouterr().out.count("✓") == 2


def test_sgd_textbook_momentum_is_accepted():
    """v = mu*v - lr*g; p += v takes the same steps as torch's form while lr is constant
    (the notebook says so): with v stored as -lr times torch's buffer, it must pass."""

    def textbook(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
        for name, p in params.items():
            # velocity holds torch's buffer; the textbook's v is -lr times it
            v = momentum * (-lr * velocity[name]) - lr * (grads[name] + weight_decay * p)
            velocity[name] = v / -lr
            p += v

    checks.check_sgd_step(textbook)


# ---------------------------------------------------------------------------------------
# 6.7 train_epoch and 6.8 evaluate
# ---------------------------------------------------------------------------------------

TRAIN_OTHER = ["ignores_injected_functions", "ignores_layers", "wrong_return"]


@pytest.mark.parametrize("key", [m.key for m in checks.TRAIN_MISTAKES])
def test_train_mistakes_are_named(key):
    err = _named(checks.check_train_epoch, lambda *a, **k: train_student(*a, **k, bug=key))
    assert err.mistake == key, str(err)
    assert f"It looks like {_says(checks.TRAIN_MISTAKES, key)}" in str(err)


@pytest.mark.parametrize("key", TRAIN_OTHER)
def test_train_other_mistakes_are_named(key):
    err = _named(checks.check_train_epoch, lambda *a, **k: train_student(*a, **k, bug=key))
    assert err.mistake == key, str(err)


def test_train_reference_passes(capsys):
    checks.check_train_epoch(train_student)
    assert "✓ train_epoch" in capsys.readouterr().out


EVAL_OTHER = ["updates_params", "wrong_return", "params_replaced"]


@pytest.mark.parametrize("key", [m.key for m in checks.EVAL_MISTAKES])
def test_eval_mistakes_are_named(key):
    err = _named(checks.check_evaluate, lambda *a, **k: evaluate_student(*a, **k, bug=key))
    assert err.mistake == key, str(err)
    assert f"It looks like {_says(checks.EVAL_MISTAKES, key)}" in str(err)


@pytest.mark.parametrize("key", EVAL_OTHER)
def test_eval_other_mistakes_are_named(key):
    err = _named(checks.check_evaluate, lambda *a, **k: evaluate_student(*a, **k, bug=key))
    assert err.mistake == key, str(err)


def test_eval_reference_passes(capsys):
    checks.check_evaluate(evaluate_student)
    assert "✓ evaluate" in capsys.readouterr().out


def test_eval_that_calls_lenet_forward_by_name_fails():
    """The forward pass it is given is the one to call: the hidden tests pass the
    reference there, so that a wrong lenet_forward is not charged again here."""

    def by_name(params, X, y, layers, *, batch_size=500, forward=None):
        return evaluate_student(params, X, y, layers, batch_size=batch_size)

    err = _named(checks.check_evaluate, by_name)
    assert err.mistake == "ignores_injected_functions", str(err)
    assert "evaluate did not call the forward function it was given" in str(err)


def test_eval_converting_into_a_new_dict_passes(capsys):
    """Only the caller's dict is protected: converted copies in a dict of one's own are fine."""

    def converts(params, X, y, layers, **kw):
        return evaluate_student(
            {k: v.astype(X.dtype) for k, v in params.items()}, X, y, layers, **kw
        )

    checks.check_evaluate(converts)
    assert "✓ evaluate" in capsys.readouterr().out


def test_every_catalogued_mistake_has_a_wrong_implementation():
    """The suite above covers each catalogue (a new Mistake needs a student version)."""
    import inspect

    sources = {
        "init": inspect.getsource(init_student),
        "forward": inspect.getsource(forward_student),
        "backward": inspect.getsource(backward_student),
        "loss": inspect.getsource(loss_student),
        "sgd": inspect.getsource(sgd_student),
        "train": inspect.getsource(train_student),
        "eval": inspect.getsource(evaluate_student),
    }
    catalogues = {
        "init": checks.INIT_MISTAKES,
        "forward": checks.FORWARD_MISTAKES,
        "backward": checks.BACKWARD_MISTAKES,
        "loss": checks.LOSS_MISTAKES,
        "sgd": checks.SGD_MISTAKES,
        "train": checks.TRAIN_MISTAKES,
        "eval": checks.EVAL_MISTAKES,
    }
    for part, mistakes in catalogues.items():
        for m in mistakes:
            if m.key.startswith("no_relu_after_") or m.key.startswith(
                "relu_backward_missing_after"
            ):
                continue  # built from f-strings in the student versions
            assert f'"{m.key}"' in sources[part], (part, m.key)


# ---------------------------------------------------------------------------------------
# 6.9 the training run
# ---------------------------------------------------------------------------------------


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    return rng.standard_normal((50, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, size=50)


def test_training_check_accepts_a_learning_run(monkeypatch, digits, capsys):
    monkeypatch.setattr(checks, "_accuracy", lambda params, X, y: 0.955)
    history = [{"loss": 1.4, "acc": 0.5}, {"loss": 0.2, "acc": 0.95}]
    assert checks.check_training(solutions.LeNet().params, history, *digits, quick=False) is None
    assert "95.5%" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("accuracy", "history", "quick", "key"),
    [
        (0.11, [{"loss": 2.31}, {"loss": 2.30}], False, "chance_accuracy"),
        (0.80, [{"loss": 1.0}, {"loss": 0.5}], False, "low_accuracy"),
        (0.95, [{"loss": 0.5}, {"loss": 0.7}], False, "loss_not_falling"),
        (0.10, [{"loss": 2.3}, {"loss": float("nan")}], False, "diverged"),
        (0.55, [{"loss": 2.0}, {"loss": 1.5}], True, "low_accuracy"),
        (0.0, [], False, "not_trained"),
    ],
)
def test_training_check_names_what_went_wrong(monkeypatch, digits, accuracy, history, quick, key):
    monkeypatch.setattr(checks, "_accuracy", lambda params, X, y: accuracy)
    err = _named(checks.check_training, solutions.LeNet().params, history, *digits, quick=quick)
    assert err.mistake == key, str(err)


def test_training_check_recomputes_the_accuracy(digits):
    """An untrained network is at chance, whatever the history claims."""
    history = [{"loss": 2.0, "acc": 0.99}, {"loss": 0.01, "acc": 1.0}]
    X, y = digits
    params = solutions.LeNet(seed=1).params
    acc = checks._accuracy(params, X, y)
    ref = float(np.mean(solutions.LeNet(seed=1).predict(X) == y))
    assert math.isclose(acc, ref)
    with pytest.raises(CheckFailed):
        checks.check_training(params, history, X, y, quick=False)


def test_quick_mode_reads_the_environment(monkeypatch):
    monkeypatch.setenv("CNN_COURSE_QUICK", "1")
    assert checks.quick_mode()
    monkeypatch.setenv("CNN_COURSE_QUICK", "0")
    assert not checks.quick_mode()


# ---------------------------------------------------------------------------------------
# The self-test and the choice of layers
# ---------------------------------------------------------------------------------------


def test_my_layers_report(capsys):
    def broken_relu_backward(dout, cache):
        return dout  # forgets the mask

    mine = layers_from(vars(solutions), relu_backward=broken_relu_backward, origin="yours")
    result = checks.check_my_layers(mine)
    assert result["conv2d"] and not result["relu"]
    assert "relu_backward after relu_forward" in capsys.readouterr().out


def test_unwritten_layers_are_reported_and_replaced(capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 6.0 is not done yet")

    mine = layers_from({"conv2d_forward": stub, "conv2d_backward": stub}, fallback=LAYERS)
    chosen = checks.choose_layers(mine, epochs=1, n_train=64, batch_size=64, budget_s=1e9)
    out = capsys.readouterr().out
    assert "not written yet" in out and "not defined" in out
    assert chosen.conv2d_forward is LAYERS.conv2d_forward
    assert set(chosen.origin.values()) == {"torch"}


def test_correct_layers_are_used(capsys):
    chosen = checks.choose_layers(REFERENCE, epochs=1, n_train=64, batch_size=64, budget_s=1e9)
    assert chosen.conv2d_forward is solutions.conv2d_forward
    assert set(chosen.origin.values()) == {"yours"}
    assert "conv2d yours" in capsys.readouterr().out


def test_slow_correct_layers_are_swapped_in_auto_but_kept_when_insisted(capsys):
    import time

    def slow_conv(x, w, b, *, stride=1, padding=0):
        time.sleep(0.02)
        return solutions.conv2d_forward(x, w, b, stride=stride, padding=padding)

    mine = layers_from(vars(solutions), conv2d_forward=slow_conv, origin="yours")
    auto = checks.choose_layers(mine, epochs=10, n_train=6400, batch_size=64, budget_s=5.0)
    assert auto.conv2d_forward is LAYERS.conv2d_forward
    assert "USE_MY_LAYERS = True" in capsys.readouterr().out
    insisted = checks.choose_layers(
        mine, use_mine=True, epochs=10, n_train=6400, batch_size=64, budget_s=5.0
    )
    assert insisted.conv2d_forward is slow_conv
    assert checks.choose_layers(mine, use_mine=False, epochs=1, n_train=1, batch_size=1) is LAYERS
    with pytest.raises(ValueError, match="use_mine"):
        checks.choose_layers(mine, use_mine="yes", epochs=1, n_train=1, batch_size=1)


# ---------------------------------------------------------------------------------------
# Unrecognised wrong answers still get expected vs got and the pointer
# ---------------------------------------------------------------------------------------


def _doubled_step(params, grads, velocity, *, lr, momentum=0.0, weight_decay=0.0):
    sgd_student(params, grads, velocity, lr=2 * lr, momentum=momentum, weight_decay=weight_decay)


# Wrong in a way no single edit of the code repairs (a stray "+ 1.0" alone is named by
# course.checks._repair: removing it passes every case).
def _train_plus_one(*args, **kwargs):
    result = train_student(*args, **kwargs)
    return {"loss": result["loss"] * 1.37 + 0.11, "acc": result["acc"]}


def _eval_plus_one(*args, **kwargs):
    result = evaluate_student(*args, **kwargs)
    return {"loss": result["loss"] * 1.37 + 0.11, "acc": result["acc"]}


@pytest.mark.usefixtures("without_repair")
@pytest.mark.parametrize(
    ("check", "fn", "pointer"),
    [
        (
            checks.check_init_lenet,
            lambda seed: {k: _noise(v) for k, v in init_student(seed).items()},
            "recipe",
        ),
        (checks.check_sgd_step, _doubled_step, "torch's SGD"),
        (checks.check_train_epoch, _train_plus_one, "One epoch"),
        (checks.check_evaluate, _eval_plus_one, "batch by batch"),
    ],
)
def test_random_wrong_answer_gets_the_generic_message(check, fn, pointer):
    err = _named(check, fn)
    assert err.mistake is None
    text = str(err)
    assert "expected" in text and "got" in text and pointer in text


def test_a_diverged_run_is_not_blamed_on_the_learning_rate_first(monkeypatch, digits):
    """A NaN loss most often comes from an overflowing softmax or an update with the wrong
    sign; lowering the learning rate fixes neither, so it comes last."""
    monkeypatch.setattr(checks, "_accuracy", lambda params, X, y: 0.1)
    history = [{"loss": 2.3}, {"loss": float("nan")}]
    err = _named(checks.check_training, solutions.LeNet().params, history, *digits, quick=False)
    text = str(err)
    assert "wrong sign" in text and "subtract each row's max" in text
    assert text.index("wrong sign") < text.index("lower the learning rate")


def test_quiz_passed_is_silent_and_needs_the_right_answer(capsys):
    """Demo cells reveal a quiz's numbers only once the student's own answer passes."""
    right = (156, 2416, 48120, 10164, 850, 61706)
    assert checks.quiz_passed(checks.check_params_quiz, right)
    assert not checks.quiz_passed(checks.check_params_quiz, (*right[:5], 61705))
    assert not checks.quiz_passed(checks.check_params_quiz, None)  # not answered yet
    assert not checks.quiz_passed(checks.check_params_quiz, "sixty thousand")
    assert capsys.readouterr().out == ""


def test_a_batch_wide_max_fails_on_rows_hundreds_apart():
    """Subtracting the batch's largest logit instead of each row's passes every batch
    whose rows are alike; rows hundreds apart send one row's softmax to 0 (issue 11)."""

    def batch_max(logits, y):
        z = logits - logits.max()
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        n = len(y)
        d = p.copy()
        d[np.arange(n), y] -= 1
        return -np.mean(np.log(p[np.arange(n), y])), d / n

    with np.errstate(all="ignore"), pytest.raises(CheckFailed) as info:
        checks.check_softmax_cross_entropy(batch_max)
    assert info.value.mistake == "batch_max", str(info.value)
    assert "rows hundreds apart" in str(info.value)
