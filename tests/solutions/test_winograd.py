"""solutions.winograd: the F(m x m, 3 x 3) matrices, and the layer on its own."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from solutions import winograd
from solutions.winograd import TILES, winograd_backward, winograd_forward


@pytest.mark.parametrize("m", sorted(TILES))
def test_one_dimensional_minimal_filtering(m):
    """A^T [(G g) * (B^T d)] is the valid correlation of alpha = m + 2 inputs with 3 taps."""
    t = TILES[m]
    assert t.BT.shape == (m + 2, m + 2) and t.G.shape == (m + 2, 3) and t.AT.shape == (m, m + 2)
    rng = np.random.default_rng(m)
    for _ in range(5):
        d, g = rng.standard_normal(m + 2), rng.standard_normal(3)
        expected = np.correlate(d, g, mode="valid")  # (m,)
        np.testing.assert_allclose(t.AT @ ((t.G @ g) * (t.BT @ d)), expected, atol=1e-12)


@pytest.mark.parametrize("m", sorted(TILES))
def test_fewer_multiplications_per_output(m):
    """(m + 2)^2 products per m x m outputs: 2.25x fewer than 9 per output for m = 2, 4x
    for m = 4 (Lavin and Gray, 2016)."""
    assert 9 * m * m / (m + 2) ** 2 == {2: 2.25, 4: 4.0}[m]


@pytest.mark.parametrize("m", sorted(TILES))
@pytest.mark.parametrize("block_bytes", [1, 1 << 30])  # one image per block; all at once
def test_layer_matches_direct_sum(torch_conv, m, block_bytes):
    """N = 3, ragged tiles (H_out = 7, W_out = 5), asymmetric padding, bias; also
    need_dx=False."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 4, 6, 5))
    w = rng.standard_normal((2, 4, 3, 3))
    b = rng.standard_normal(2)
    padding = ((2, 1), (0, 2))
    with mock.patch.object(winograd, "_BLOCK_BYTES", block_bytes):
        out, cache = winograd_forward(x, w, b, padding, m=m)
        dout = rng.standard_normal(out.shape)
        dx, dw = winograd_backward(dout, cache)
        no_dx, dw2 = winograd_backward(dout, cache, need_dx=False)
    t_out, t_dx, t_dw, _ = torch_conv(x, w, b, dout, padding=padding)
    assert out.shape == (3, 2, 7, 5)
    for got, want in ((out, t_out), (dx, t_dx), (dw, t_dw)):
        np.testing.assert_allclose(got, want, atol=1e-10)
    assert no_dx is None
    np.testing.assert_array_equal(dw, dw2)
