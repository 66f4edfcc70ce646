"""Fixtures shared by the tests of `solutions`: torch as the oracle for convolutions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F


def _torch_conv(x, w, b, dout, *, stride=1, padding=0, dilation=1):
    """out, dx, dw, db of F.conv2d from torch in float64 (db is None without bias).

    padding may also be ((top, bottom), (left, right)): torch then pads first.
    """
    tx = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    tw = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    tb = None if b is None else torch.tensor(np.asarray(b, dtype=np.float64), requires_grad=True)
    inp = tx
    if not isinstance(padding, int) and not isinstance(padding[0], int):
        (top, bottom), (left, right) = padding
        inp, padding = F.pad(tx, (left, right, top, bottom)), 0
    out = F.conv2d(inp, tw, tb, stride=stride, padding=padding, dilation=dilation)
    out.backward(torch.tensor(np.asarray(dout, dtype=np.float64)))
    db = None if tb is None else tb.grad.numpy()
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), db


@pytest.fixture(scope="session")
def torch_conv():
    """The function `_torch_conv` (session scope, so hypothesis tests can use it)."""
    return _torch_conv
