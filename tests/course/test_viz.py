"""course.viz: each picture has the panels, numbers, outlines and captions it promises,
checks its inputs before drawing, leaves no stray figure behind, and shows exactly once in
a notebook."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from matplotlib.text import Text

from course import viz

ROOT = Path(__file__).resolve().parents[2]

# lecture worked examples (docs/design.md)
X = np.arange(9).reshape(3, 3)
K = np.arange(4).reshape(2, 2)
I004 = np.array(
    [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]]
)
VERTICAL = np.array([[1, 0, -1]] * 3)
POOL_Q5 = np.array([[12, 20, 30, 0], [20, 12, 2, 0], [0, 70, 5, 2], [8, 2, 90, 3]])
X2 = np.stack([np.arange(9).reshape(3, 3), np.arange(1, 10).reshape(3, 3)])
K2 = np.stack([np.arange(4).reshape(2, 2), np.arange(1, 5).reshape(2, 2)])


@pytest.fixture(autouse=True)
def _no_leaks():
    plt.close("all")
    yield
    plt.close("all")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def all_text(fig) -> str:
    """Every string drawn anywhere in the figure (titles, captions, cells), one per line."""
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def rects(ax) -> list[Rectangle]:
    # the axes background is a Rectangle too, but not one of ax.patches
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def grid_axes(fig):
    """The axes that hold a table of numbers (not colour bars or insets)."""
    return [ax for ax in fig.axes if ax.texts]


# ---------------------------------------------------------------------------------------
# Every function: a Figure, one pyplot figure, drawable, closable
# ---------------------------------------------------------------------------------------
def _corr(X, K):
    KH, KW = K.shape
    H, W = X.shape
    return np.array(
        [
            [np.sum(X[i : i + KH, j : j + KW] * K) for j in range(W - KW + 1)]
            for i in range(H - KH + 1)
        ]
    )


IMG = np.zeros((16, 16))
IMG[4:12, 5:11] = 1.0
KERNELS = {"identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "edge": VERTICAL}
RESULTS = {name: _corr(IMG, k) for name, k in KERNELS.items()}
HISTORY = [
    {"loss": 1 / (e + 1), "acc": e / 5, "val_loss": 1.1 / (e + 1), "val_acc": e / 6}
    for e in range(5)
]
POOL_X = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [3, 1, 5, 6], [1, 2, 2, 0]])
POOL_DX = np.array([[0, 0, 2, 0], [1, 0, 0, 0], [3, 0, 0, 4], [0, 0, 0, 0]])

CALLS = {
    "show_matrix": lambda: viz.show_matrix(X, title="X", highlight=(0, 0, 2, 2)),
    "show_correlation_step": lambda: viz.show_correlation_step(X, K, 0, 0),
    "show_sliding": lambda: viz.show_sliding(X, K, max_steps=2),
    "show_images": lambda: viz.show_images([IMG, RESULTS["edge"]], ["x", "edges"]),
    "show_kernel_zoo": lambda: viz.show_kernel_zoo(IMG, KERNELS, RESULTS),
    "show_feature_maps": lambda: viz.show_feature_maps(np.random.default_rng(0).random((3, 6, 6))),
    "show_kernels": lambda: viz.show_kernels(np.random.default_rng(0).normal(size=(2, 3, 3, 3))),
    "show_pooling": lambda: viz.show_pooling(POOL_Q5, 2),
    "show_channels": lambda: viz.show_channels(X2, K2),
    "plot_history": lambda: viz.plot_history(HISTORY),
    "show_gradient_routing": lambda: viz.show_gradient_routing(
        POOL_X, np.array([[1, 2], [3, 4]]), POOL_DX, size=2
    ),
    "show_shift_equivariance": lambda: viz.show_shift_equivariance(
        IMG, np.roll(IMG, 2, 1), RESULTS["edge"], np.roll(RESULTS["edge"], 2, 1)
    ),
    "show_padding": lambda: viz.show_padding(X, 1),
    "show_confusion": lambda: viz.show_confusion([0, 1, 2, 2], [0, 2, 2, 2], labels=range(3)),
    "show_digits": lambda: viz.show_digits(
        np.random.default_rng(0).random((4, 28, 28)), labels=[1, 2, 3, 4], preds=[1, 2, 0, 4]
    ),
}


def test_every_public_function_is_exercised():
    assert sorted(CALLS) == sorted(viz.__all__)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_returns_one_drawable_figure_and_leaks_nothing(name):
    """A Figure, made as exactly one pyplot figure, that draws, and is gone once closed."""
    fig = CALLS[name]()
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [fig.number]
    fig.canvas.draw()  # runs the draw-time code (operators placed between panels)
    assert fig.get_figwidth() <= viz.MAX_WIDTH + 1e-9
    plt.close(fig)
    assert plt.get_fignums() == []


def test_course_viz_imports_only_numpy_matplotlib_and_never_solutions():
    tree = ast.parse((ROOT / "course" / "viz.py").read_text())
    top = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            top.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module.split(".")[0])
    stdlib = {"__future__", "functools", "math", "sys", "collections"}
    # IPython / matplotlib_inline: imported lazily, only while IPython displays a figure
    assert top - stdlib <= {"numpy", "matplotlib", "IPython", "matplotlib_inline"}
    assert "solutions" not in top


# ---------------------------------------------------------------------------------------
# show_matrix
# ---------------------------------------------------------------------------------------
def test_show_matrix_writes_every_number_once():
    fig = viz.show_matrix(X, title="X")
    (ax,) = fig.axes
    assert texts(ax) == [str(v) for v in range(9)]
    assert ax.get_title() == "X"


def test_show_matrix_number_format():
    fig = viz.show_matrix(np.array([[1.0, 2.0], [-0.0, 4.0]]))
    assert texts(fig.axes[0]) == ["1", "2", "0", "4"]  # whole floats without decimals, no "-0"
    fig = viz.show_matrix(np.array([[0.5, 1 / 3]]))
    assert texts(fig.axes[0]) == ["0.50", "0.33"]
    fig = viz.show_matrix(np.array([[0.5, 1 / 3]]), decimals=1)
    assert texts(fig.axes[0]) == ["0.5", "0.3"]
    fig = viz.show_matrix(X, labels=False)
    assert texts(fig.axes[0]) == []


def test_show_matrix_highlights():
    fig = viz.show_matrix(X, highlight=(0, 1, 2, 2), highlight_color="red")
    (box,) = rects(fig.axes[0])
    x0, y0 = box.get_xy()
    assert (round(x0), round(y0)) == (0, 0) or (x0 + 0.5 == pytest.approx(1, abs=0.1))
    assert box.get_width() == pytest.approx(2, abs=0.1)
    assert box.get_height() == pytest.approx(2, abs=0.1)
    assert box.get_edgecolor()[:3] == pytest.approx((1.0, 0.0, 0.0))
    fig = viz.show_matrix(X, highlight=[(0, 0, 1, 1), (2, 2, 1, 1)])
    assert len(rects(fig.axes[0])) == 2


def test_show_matrix_text_contrasts_with_its_cell():
    fig = viz.show_matrix(np.array([[0, 100]]), cmap="Greys")
    light, dark = fig.axes[0].texts
    assert light.get_color() != "white" and dark.get_color() == "white"
    fig = viz.show_matrix(np.array([[0, 100]]), cmap="viridis")  # 0 is dark purple
    assert fig.axes[0].texts[0].get_color() == "white"


def test_show_matrix_signed_data_get_a_diverging_map_centred_at_zero():
    fig = viz.show_matrix(np.array([[-2, 0, 2]]))
    faces = np.asarray(fig.axes[0].collections[0].get_array())  # (H, W, 4) cell colours
    neg, zero, pos = faces[0, :, :3]
    assert np.all(zero > 0.9)  # white-ish at 0
    assert neg[2] > neg[0]  # blue below 0
    assert pos[0] > pos[2]  # red above 0


def test_show_matrix_into_a_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    out = viz.show_matrix(X, ax=b)
    assert out is fig
    assert len(b.texts) == 9 and not a.texts
    assert plt.get_fignums() == [fig.number]


def test_show_matrix_accepts_batches_of_one_and_torch():
    assert len(viz.show_matrix(X[None, None]).axes[0].texts) == 9
    torch = pytest.importorskip("torch")
    t = torch.arange(4.0, requires_grad=True).reshape(2, 2)
    assert texts(viz.show_matrix(t).axes[0]) == ["0", "1", "2", "3"]


# ---------------------------------------------------------------------------------------
# Cross-correlation step by step
# ---------------------------------------------------------------------------------------
def test_correlation_step_lecture_caption():
    fig = viz.show_correlation_step(X, K, 0, 0)
    assert "0·0 + 1·1 + 3·2 + 4·3 = 19" in all_text(fig)
    assert "Y[0, 0] = " in all_text(fig)


def test_correlation_step_panels_and_outlines():
    fig = viz.show_correlation_step(X, K, 1, 1)
    ax_x, ax_k, ax_y = fig.axes
    assert texts(ax_x) == [str(v) for v in range(9)]
    assert texts(ax_k) == ["0", "1", "2", "3"]
    assert texts(ax_y) == ["19", "25", "37", "43"]  # the output so far, up to (1, 1)
    (window,) = rects(ax_x)
    assert window.get_width() == pytest.approx(2, abs=0.1)
    assert window.get_x() == pytest.approx(0.5, abs=0.1)  # columns 1..2
    assert len(rects(ax_y)) == 1
    assert "4·0 + 5·1 + 7·2 + 8·3 = 43" in all_text(fig)


def test_correlation_step_output_so_far():
    fig = viz.show_correlation_step(X, K, 0, 1)
    assert texts(fig.axes[2]) == ["19", "25"]


def test_correlation_step_padding_bias_stride():
    fig = viz.show_correlation_step(X, K, 0, 0, padding=1)
    ax_x = fig.axes[0]
    assert len(ax_x.texts) == 25 and texts(ax_x).count("0") == 17  # 16 padded + the 0 of X
    assert "= 0" in all_text(fig)
    fig = viz.show_correlation_step(X, K, 0, 0, bias=1)
    assert "4·3 + 1 = 20" in all_text(fig)
    fig = viz.show_correlation_step(X, K, 1, 1, padding=1)
    assert all_text(fig).count("19") >= 1 and "= 19" in all_text(fig)
    fig = viz.show_correlation_step(np.arange(49).reshape(7, 7), np.ones((3, 3)), 1, 1, stride=2)
    assert "= 216" in all_text(fig)  # window rows 2..4, cols 2..4: 16 + 17 + ... + 32
    assert "stride 2" in fig.axes[0].get_title()


def test_correlation_step_lecture_004_negative_factors_in_brackets():
    fig = viz.show_correlation_step(I004, VERTICAL, 0, 0)
    text = all_text(fig)
    assert "Y[0, 0] = 7·1 + 2·0 + 3·(-1) + 4·1" in text
    assert "2·(-1) = 6" in text


def test_correlation_step_long_sums_wrap_one_kernel_row_per_line():
    rng = np.random.default_rng(1)
    fig = viz.show_correlation_step(rng.normal(size=(6, 6)), rng.normal(size=(4, 4)), 0, 0)
    caption = next(t.get_text() for t in fig.findobj(Text) if t.get_text().startswith("Y[0, 0]"))
    lines = caption.splitlines()
    assert len(lines) == 5  # 4 kernel rows + the result
    assert lines[-1].strip().startswith("= ")


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((X, K, 2, 0), {}, "outside the 2×2 output"),
        ((X, K, 0, -1), {}, "outside"),
        ((X[None].repeat(2, 0), K, 0, 0), {}, "X must be 2-D"),
        ((X, np.ones(3), 0, 0), {}, "K must be 2-D"),
        ((X, np.ones((4, 4)), 0, 0), {}, "does not fit"),
        ((X, K, 0, 0), {"stride": 0}, "stride must be >= 1"),
        ((X, K, 0, 0), {"padding": -1}, "padding must be >= 0"),
        ((X, K, 0, 0), {"padding": (1, 2, 3)}, "padding must be"),
    ],
)
def test_correlation_step_rejects_bad_input_before_drawing(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.show_correlation_step(*args, **kwargs)
    assert plt.get_fignums() == []


def test_sliding_draws_the_first_steps():
    fig = viz.show_sliding(X, K)
    assert len(fig.axes) == 12  # 4 steps × (input, kernel, output)
    for value in ("= 19", "= 25", "= 37", "= 43"):
        assert value in all_text(fig)
    assert len(viz.show_sliding(X, K, max_steps=2).axes) == 6
    assert len(viz.show_sliding(X, K, steps=3).axes) == 9
    fig = viz.show_sliding(X, K, steps=[(1, 1)])
    assert len(fig.axes) == 3 and "= 43" in all_text(fig)


def test_sliding_rejects_bad_steps():
    with pytest.raises(ValueError, match="outside"):
        viz.show_sliding(X, K, steps=[(5, 5)])
    with pytest.raises(ValueError, match="too many"):
        viz.show_sliding(np.zeros((10, 10)), K, steps=20)
    assert plt.get_fignums() == []


# ---------------------------------------------------------------------------------------
# Images, kernels, feature maps
# ---------------------------------------------------------------------------------------
def _images(fig):
    return [im for ax in fig.axes for im in ax.images]


def test_show_images_signed_detection():
    fig = viz.show_images([IMG, RESULTS["edge"]], ["x", "edges"])
    plain, signed = _images(fig)
    assert plain.get_cmap().name == "gray"
    assert signed.get_cmap().name == "RdBu_r"
    lo, hi = signed.get_clim()
    assert lo == -hi  # centred at 0
    assert len(fig.axes) == 3  # two images and one colour bar
    assert [ax.get_title() for ax in fig.axes[:2]] == ["x", "edges"]

    fig = viz.show_images([RESULTS["edge"]], signed=False)
    assert _images(fig)[0].get_cmap().name == "gray" and len(fig.axes) == 1
    fig = viz.show_images([IMG], signed=True)
    assert _images(fig)[0].get_cmap().name == "RdBu_r"


def test_show_images_accepts_stacks_and_lays_out_a_grid():
    fig = viz.show_images(np.zeros((7, 1, 5, 5)), ncols=3, suptitle="seven")
    assert len(_images(fig)) == 7 and len(fig.axes) == 7  # unused grid cells removed
    assert "seven" in all_text(fig)
    with pytest.raises(ValueError, match="3 titles for 7 images"):
        viz.show_images(np.zeros((7, 5, 5)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="images must be"):
        viz.show_images(np.zeros((2, 2, 5, 5)))


def test_show_images_colorbar_on_request():
    """Unsigned counts can ask for a scale; signed images have one anyway."""
    fig = viz.show_images([np.ones((4, 4)), np.eye(4)], colorbar=True)
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    fig = viz.show_images([np.ones((4, 4)), -np.eye(4)])
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1


def test_kernel_zoo_panels_and_insets():
    kernels = {**KERNELS, "blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16}
    results = {name: _corr(IMG, k) for name, k in kernels.items()}
    fig = viz.show_kernel_zoo(IMG, kernels, results, ncols=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["input", "identity", "edge", "blur"]
    for ax in panels[1:]:
        (inset,) = ax.child_axes
        assert len(inset.texts) == 9 + (ax.get_title() == "blur")  # + the "1/16 ×" label
    assert texts(panels[3].child_axes[0]) == ["1", "2", "1", "2", "4", "2", "1", "2", "1", "1/16 ×"]
    assert panels[2].images[0].get_cmap().name == "RdBu_r"  # sums to 0: signed edges
    assert panels[1].images[0].get_cmap().name == "gray"
    colorbars = [ax for ax in fig.axes if not ax.images and ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 1  # the signed panel (edge) has a scale, the grey ones not


def test_kernel_zoo_shades_a_kernel_too_large_for_numbers():
    """A 7×7 Gaussian has no room for numbers: its cells are shaded by weight, so the bell
    shows (the centre darker than the corners), and a label says how to read it."""
    g = np.exp(-((np.arange(7) - 3.0) ** 2) / 8)
    gauss = np.outer(g, g) / np.outer(g, g).sum()
    fig = viz.show_kernel_zoo(IMG, {"gauss": gauss}, {"gauss": _corr(IMG, gauss)})
    (inset,) = [ax for ax in fig.axes if ax.images][1].child_axes
    faces = np.asarray(inset.collections[0].get_array()).reshape(7, 7, 4)
    assert faces[3, 3, :3].sum() < faces[0, 0, :3].sum()  # darker in the middle
    assert texts(inset) == ["weights: darker = larger"]


def test_kernel_zoo_rejects_mismatched_names():
    with pytest.raises(ValueError, match="same names"):
        viz.show_kernel_zoo(IMG, KERNELS, {"identity": RESULTS["identity"]})
    assert plt.get_fignums() == []


def test_feature_maps_grid():
    fig = viz.show_feature_maps(np.random.default_rng(0).random((10, 4, 4)), ncols=4)
    assert len(_images(fig)) == 10 and len(fig.axes) == 10
    assert fig.axes[0].get_title() == "channel 0"
    fig = viz.show_feature_maps(np.zeros((1, 3, 4, 4)), titles=["a", "b", "c"], suptitle="s")
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="maps must be 3-D"):
        viz.show_feature_maps(np.zeros((4, 4)))


def test_feature_maps_signed_get_a_diverging_map_and_a_colour_bar():
    """An edge map has a sign: red/blue centred at 0 with a scale, not viridis."""
    maps = np.random.default_rng(0).normal(size=(2, 6, 6))
    maps[1] = np.abs(maps[1])  # the second map is unsigned
    fig = viz.show_feature_maps(maps, ncols=2)
    ims = _images(fig)
    assert [im.get_cmap().name for im in ims] == ["RdBu_r", "viridis"]
    assert ims[0].norm.vmin == -ims[0].norm.vmax
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1


def test_show_kernels_layouts_and_shared_diverging_scale():
    w = np.random.default_rng(0).normal(size=(6, 1, 5, 5))
    fig = viz.show_kernels(w)
    ims = _images(fig)
    assert len(ims) == 6 and len(fig.axes) == 7  # + one colour bar
    assert {im.get_cmap().name for im in ims} == {"RdBu_r"}
    assert {im.get_clim() for im in ims} == {(-np.abs(w).max(), np.abs(w).max())}

    fig = viz.show_kernels(np.arange(36.0).reshape(4, 3, 1, 3) - 18)
    assert len(_images(fig)) == 12
    assert [ax.get_title() for ax in fig.axes[:3]] == ["in 0", "in 1", "in 2"]
    assert fig.axes[3].get_ylabel() == "out 1"
    assert len(fig.axes[0].texts) == 3  # small kernels carry their numbers
    with pytest.raises(ValueError, match=r"\(C_out, C_in, KH, KW\)"):
        viz.show_kernels(np.zeros((1, 1, 1, 3, 3)))


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------
def test_pooling_lecture_q6_max():
    fig = viz.show_pooling(POOL_Q5, 2)
    ax_x, ax_y = fig.axes
    assert texts(ax_y) == ["20", "30", "70", "90"]
    assert len([p for p in ax_x.patches if isinstance(p, Circle)]) == 4  # one max per window
    bold = [t.get_text() for t in ax_x.texts if t.get_fontweight() == "bold"]
    assert bold == ["20", "30", "70", "90"]
    assert "max(12, 20, 20, 12) = 20" in all_text(fig)
    assert "2×2 max pooling, stride 2" in all_text(fig)


def test_pooling_lecture_q5_average():
    fig = viz.show_pooling(POOL_Q5, 2, mode="avg")
    assert texts(fig.axes[1]) == ["16", "8", "20", "25"]
    assert not [p for p in fig.axes[0].patches if isinstance(p, Circle)]
    assert "mean(12, 20, 20, 12) = 16" in all_text(fig)


def test_pooling_overlapping_windows_are_outlined():
    fig = viz.show_pooling(X, 2, stride=1)  # lecture 002
    ax_x, ax_y = fig.axes
    assert texts(ax_y) == ["4", "5", "7", "8"]
    assert len(rects(ax_x)) == 4
    assert "max(0, 1, 3, 4) = 4" in all_text(fig)


def test_pooling_padding_and_student_output():
    fig = viz.show_pooling(X, 2, padding=1)
    assert texts(fig.axes[1]) == ["0", "2", "6", "8"]
    assert "-∞" in all_text(fig)
    fig = viz.show_pooling(POOL_Q5, 2, out=np.array([[1, 2], [3, 4]]))
    assert texts(fig.axes[1]) == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"out": np.zeros((3, 3))}, "out has shape"),
        ({"mode": "min"}, "mode must be"),
        ({"stride": 0}, "stride must be >= 1"),
    ],
)
def test_pooling_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.show_pooling(POOL_Q5, 2, **kwargs)
    with pytest.raises(ValueError, match="X must be 2-D"):
        viz.show_pooling(np.zeros(4), 2)
    assert plt.get_fignums() == []


def test_gradient_routing():
    dout = np.array([[1, 2], [3, 4]])
    fig = viz.show_gradient_routing(POOL_X, dout, POOL_DX, title="routing")
    ax_x, ax_d, ax_dx = fig.axes
    assert texts(ax_d) == ["1", "2", "3", "4"]
    bold = sorted(t.get_text() for t in ax_dx.texts if t.get_fontweight() == "bold")
    assert bold == ["1", "2", "3", "4"]  # the routed values
    assert sorted(t.get_text() for t in ax_x.texts if t.get_fontweight() == "bold") == [
        "2",
        "3",
        "4",
        "6",
    ]
    assert "routing" in all_text(fig)
    fig = viz.show_gradient_routing(POOL_X, dout, POOL_DX, size=2)
    assert len(rects(fig.axes[0])) == 4 + 4  # 4 windows + 4 routed cells
    with pytest.raises(ValueError, match="dx has shape"):
        viz.show_gradient_routing(POOL_X, dout, POOL_DX[:2])
    with pytest.raises(ValueError, match="dout has shape"):
        viz.show_gradient_routing(POOL_X, dout, POOL_DX, size=3)
    with pytest.raises(ValueError, match="mode must be"):
        viz.show_gradient_routing(POOL_X, dout, POOL_DX, mode="median")


def test_gradient_routing_overlapping_windows_get_one_panel_each():
    """3×3 windows at stride 1 on a 5×5 input: nine overlapping windows are drawn one per
    small panel (window filled, winner ringed), not as nine borders on top of each other."""
    x = np.zeros((5, 5))
    x[2, 2] = 9.0
    dx = np.zeros((5, 5))
    dx[2, 2] = 9.0
    fig = viz.show_gradient_routing(x, np.ones((3, 3)), dx, size=3, stride=1)
    ax_x, ax_d, _, *small = fig.axes
    assert len(small) == 9
    assert [ax.get_title() for ax in small[:2]] == ["window (0, 0)", "window (0, 1)"]
    assert len(rects(ax_x)) == 1  # only the winner, no window borders
    assert all(len(ax.lines) == 1 for ax in small)  # each window's winner ringed
    faces_d = np.asarray(ax_d.collections[0].get_array()).reshape(9, 4)
    colours = {tuple(np.round(f, 3)) for f in faces_d}
    assert len(colours) == 9  # nine windows, nine colours


def test_gradient_routing_average_has_no_winners():
    """Average pooling shares dout over every input: nothing is highlighted as a winner."""
    x = np.arange(16.0).reshape(4, 4)
    dx = np.full((4, 4), 0.25)
    fig = viz.show_gradient_routing(x, np.ones((2, 2)), dx, size=2, mode="avg")
    ax_x, _, ax_dx = fig.axes
    assert not any(t.get_fontweight() == "bold" for t in ax_x.texts + ax_dx.texts)
    assert "average-pool" in all_text(fig)


# ---------------------------------------------------------------------------------------
# Channels, padding, shift
# ---------------------------------------------------------------------------------------
def test_channels_lecture_56():
    fig = viz.show_channels(X2, K2)
    assert len(fig.axes) == 5  # X[0], K[0], X[1], K[1], Y
    assert texts(fig.axes[-1]) == ["56", "72", "104", "120"]
    text = all_text(fig)
    assert "(0·0 + 1·1 + 3·2 + 4·3)" in text and "(1·1 + 2·2 + 4·3 + 5·4)" in text
    assert "= 56" in text
    fig = viz.show_channels(X2, K2, Y=np.array([[1, 2], [3, 4]]), i=1, j=1)
    assert texts(fig.axes[-1]) == ["1", "2", "3", "4"]
    assert "= 120" in all_text(fig)


def test_channels_rejects_mismatched_channels():
    with pytest.raises(ValueError, match="C_in=2 channels but K has 3"):
        viz.show_channels(X2, np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="Y has shape"):
        viz.show_channels(X2, K2, Y=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="X must be 3-D"):
        viz.show_channels(X, K)
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    ("padding", "shape", "n_pad"),
    [(1, (5, 5), 16), ((1, 2), (5, 7), 26), (((1, 0), (1, 0)), (4, 4), 7)],
)
def test_show_padding(padding, shape, n_pad):
    fig = viz.show_padding(X, padding)
    (ax,) = fig.axes
    assert len(ax.texts) == shape[0] * shape[1]
    grey = [t for t in ax.texts if t.get_color() == viz.PAD_INK]
    assert len(grey) == n_pad
    assert f"→ {shape[0]}×{shape[1]}" in ax.get_title()
    assert len(rects(ax)) == 1  # the original array outlined


def test_show_padding_rejects_bad_padding():
    with pytest.raises(ValueError, match="padding"):
        viz.show_padding(X, ((1, 0, 2), (1, 0)))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        viz.show_padding(X, -1)


def test_shift_equivariance():
    out = RESULTS["edge"]
    fig = viz.show_shift_equivariance(IMG, np.roll(IMG, 2, 1), out, np.roll(out, 2, 1))
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == [
        "X",
        "corr(X)",
        "g(corr(X)): shifted by 2",
        "g(X): X shifted by 2",
        "corr(g(X))",
        "corr(g(X)) − g(corr(X))",
    ]
    assert fig.axes[1].images[0].get_cmap().name == "RdBu_r"
    with pytest.raises(ValueError, match="out_shifted has shape"):
        viz.show_shift_equivariance(IMG, IMG, out, out[:-1])
    with pytest.raises(ValueError, match="moved to the right"):
        viz.show_shift_equivariance(IMG, IMG + 100.0, out, out)


def test_shift_equivariance_shows_the_strip_where_they_differ():
    """With zeros coming in, corr(g(X)) and g(corr(X)) differ only in the KW - 1 columns
    next to the zeros; the difference panel names them and enlarges them."""
    img = np.random.default_rng(1).random((30, 20))
    K = np.ones((3, 3))
    shifted = np.zeros_like(img)
    shifted[:, 5:] = img[:, :-5]
    fig = viz.show_shift_equivariance(img, shifted, _corr(img, K), _corr(shifted, K))
    diff_ax = fig.axes[5]
    assert diff_ax.get_xlabel() == "zero except columns 3–4"
    (zoom,) = diff_ax.child_axes
    assert zoom.images


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------
def test_plot_history_list_and_dict_forms():
    for history in (HISTORY, {k: [h[k] for h in HISTORY] for k in HISTORY[0]}):
        fig = viz.plot_history(history)
        loss, acc = fig.axes
        assert loss.get_title() == "loss" and acc.get_title() == "accuracy"
        assert [line.get_label() for line in loss.lines] == ["train", "validation"]
        assert list(loss.lines[0].get_xdata()) == [1, 2, 3, 4, 5]
        plt.close(fig)
    fig = viz.plot_history([{"loss": 1.0}, {"loss": 0.5}], metrics=("loss",))
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1


def test_plot_history_labels_a_test_set_as_test():
    """Curves of the test set are not called validation (assignment 7 tracks the test set)."""
    history = [{"loss": 1.0, "test_loss": 1.2, "acc": 0.5, "test_acc": 0.4}] * 3
    loss, _ = viz.plot_history(history).axes
    assert [line.get_label() for line in loss.lines] == ["train", "test"]


def test_plot_history_says_when_the_loss_diverged():
    """A NaN loss draws nothing; the panel says so rather than stay empty."""
    fig = viz.plot_history([{"loss": 2.3}, {"loss": float("nan")}], metrics=("loss",))
    assert "train: inf or NaN from epoch 2" in all_text(fig)


def test_plot_history_rejects_unknown_metrics():
    with pytest.raises(ValueError, match="no 'f1'"):
        viz.plot_history(HISTORY, metrics=("f1",))
    with pytest.raises(ValueError, match="different lengths"):
        viz.plot_history({"loss": [1, 2], "val_loss": [1]})
    with pytest.raises(ValueError, match="list of per-epoch dicts"):
        viz.plot_history(3)
    assert plt.get_fignums() == []


def test_show_confusion_counts():
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    fig = viz.show_confusion(y_true, y_pred, labels=range(3))
    (ax,) = fig.axes
    counts = np.array([int(t) for t in texts(ax)]).reshape(3, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert "71.4%" in ax.get_title()
    with pytest.raises(ValueError, match="not in labels"):
        viz.show_confusion([0, 5], [0, 1], labels=range(3))
    with pytest.raises(ValueError, match="y_pred has 1"):
        viz.show_confusion([0, 1], [0])


def test_show_digits_titles_wrong_predictions_in_red():
    rng = np.random.default_rng(0)
    fig = viz.show_digits(rng.random((6, 784)), labels=[1] * 6, preds=[1] * 4 + [7, 7])
    assert len(fig.axes) == 6
    titles = [ax.title for ax in fig.axes]
    red = [t.get_text() for t in titles if t.get_color() == "#cf222e"]
    assert red == ["7 (true 1)", "7 (true 1)"]
    assert "2 of the 6 digits shown are misclassified" in all_text(fig)
    fig = viz.show_digits(rng.random((2, 784)), labels=[1, 1], preds=[7, 7])
    assert "all 2 digits shown are misclassified" in all_text(fig)
    assert len(viz.show_digits(np.zeros((6, 1, 28, 28)), limit=4).axes) == 4
    with pytest.raises(ValueError, match="labels has 3 entries for 2 images"):
        viz.show_digits(np.zeros((2, 28, 28)), labels=[1, 2, 3])
    with pytest.raises(ValueError, match="images must be"):
        viz.show_digits(np.zeros((2, 3, 28, 28)))


# ---------------------------------------------------------------------------------------
# Display: exactly once in a notebook
# ---------------------------------------------------------------------------------------
def test_outside_ipython_figures_use_the_default_display():
    fig = viz.show_matrix(X)
    assert fig._ipython_display_ is None  # no IPython shell: nothing special


DISPLAY_CELLS = [
    ("viz.show_matrix(A)", 1),  # last expression
    ("viz.show_matrix(A); x = 1", 1),  # not the last expression
    ("fig = viz.show_matrix(A)", 1),
    ("fig", 1),  # a later cell shows it again
    ("viz.show_matrix(A)\nviz.show_matrix(A)", 2),
    ("for _ in range(2):\n    viz.show_matrix(A)", 2),
    ("viz.show_matrix(A);", 1),
    ("from IPython.display import display\ndisplay(viz.show_matrix(A))", 1),
    (
        "f, axs = plt.subplots(1, 2)\nviz.show_matrix(A, ax=axs[0])\nviz.show_matrix(A, ax=axs[1])",
        1,
    ),
    ("viz.show_padding(A, 1)", 1),
    # Order: a small figure, then a wide one as the cell's last expression.
    ("viz.show_matrix(A, title='first')\nviz.show_matrix(np.zeros((2, 9)), title='second')", 2),
    ("print(plt.get_fignums())", 0),
]


@pytest.mark.slow  # starts a kernel: about 3 s
@pytest.mark.skipif(
    importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("ipykernel") is None,
    reason="needs nbclient and ipykernel",
)
def test_each_figure_is_shown_exactly_once_in_a_notebook():
    """Run real cells in a real kernel with the inline backend and count the PNGs."""
    import nbformat
    from nbclient import NotebookClient

    setup = (
        "%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
        "from course import viz\nA = np.arange(4).reshape(2, 2)"
    )
    cells = [setup] + [src for src, _ in DISPLAY_CELLS]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    got = [sum("image/png" in out.get("data", {}) for out in cell.outputs) for cell in nb.cells[1:]]
    assert got == [n for _, n in DISPLAY_CELLS], list(
        zip([s for s, _ in DISPLAY_CELLS], got, strict=True)
    )
    leak = nb.cells[-1].outputs[0]["text"]
    assert leak.strip() == "[]"  # nothing left open in pyplot
    # Pictures keep the order of the code (the echo of the last line must not jump ahead
    # of figures the cell made earlier): the 2×9 matrix is the wider picture.
    first, second = (out for out in nb.cells[-2].outputs if "image/png" in out.get("data", {}))
    width = [_png_width(out["data"]["image/png"]) for out in (first, second)]
    assert width[0] < width[1], width


def _png_width(b64: str) -> int:
    import base64

    return int.from_bytes(base64.b64decode(b64)[16:20], "big")  # IHDR width
