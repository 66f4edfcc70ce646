"""Vectorised numpy reference implementation of every exercise in the course.

Hidden tests in the notebooks call these names; keep them stable. Loop versions used as
test oracles live in `solutions.naive`; the benchmark is `python -m solutions.bench`.
"""

from solutions.activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from solutions.conv import (
    conv1x1,
    conv2d_backward,
    conv2d_forward,
    conv2d_true,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_padded,
)
from solutions.gradcheck import numerical_gradient, rel_error
from solutions.lenet import LeNet
from solutions.linear import flatten_backward, flatten_forward, linear_backward, linear_forward
from solutions.losses import softmax_cross_entropy
from solutions.optim import SGD
from solutions.padding import output_size, output_size_total, pad2d, same_padding
from solutions.pooling import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    pool2d,
)
from solutions.train import evaluate, fit, train_epoch

__all__ = [
    "SGD",
    "LeNet",
    "avgpool2d_backward",
    "avgpool2d_forward",
    "conv1x1",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_true",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_padded",
    "evaluate",
    "fit",
    "flatten_backward",
    "flatten_forward",
    "linear_backward",
    "linear_forward",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "numerical_gradient",
    "output_size",
    "output_size_total",
    "pad2d",
    "pool2d",
    "rel_error",
    "relu_backward",
    "relu_forward",
    "same_padding",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_cross_entropy",
    "tanh_backward",
    "tanh_forward",
    "train_epoch",
]
