"""Pictures for the CNN course: matrices with their numbers, cross-correlation step by step,
padding, pooling, channels, kernels, feature maps, training curves and MNIST digits.

Every function draws with numpy and matplotlib only, computes what it needs itself (these
are picture helpers, never graded code) and returns the matplotlib ``Figure``.

Showing figures in a notebook
-----------------------------
Call the function; nothing else is needed. Each figure appears exactly once, whether the
call is the cell's last line or not, inside a loop, or wrapped in ``display(...)``::

    viz.show_matrix(X)                    # shown once
    fig = viz.show_matrix(X)              # shown once; `fig` in a later cell shows it again
    for K in kernels: viz.show_matrix(K)  # one picture per call

How: the figures are ordinary pyplot figures, so with the inline backend the end-of-cell
flush shows every figure the cell made. A figure returned as the cell's last expression
would be shown a second time by IPython's echo; these figures are a small ``Figure``
subclass whose IPython display hook closes the figure in pyplot before IPython draws it,
so the flush skips it. No ``;`` and no ``plt.show()`` are needed.

Functions that take ``ax=`` draw into your figure and return it; they give it the same
display hook, so ``fig, axes = plt.subplots(1, 2)`` followed by two calls also shows once.

Outside IPython (scripts, tests) the figures stay open in pyplot as usual: ``plt.show()``
or ``fig.savefig(...)``, then ``plt.close(fig)``. With a backend other than inline (e.g.
``%matplotlib widget``) nothing is changed: pyplot's own behaviour applies.

Conventions (as in the course): "convolution" is cross-correlation, ``Y[i, j] =
sum(Xp[i*s:i*s+KH, j*s:j*s+KW] * K) + b`` on the zero-padded input ``Xp``; padding is per
side (``int``, ``(ph, pw)`` or ``((top, bottom), (left, right))``); arrays are
``X``/``K``/``Y``; shapes NCHW and ``(C_out, C_in, KH, KW)``. Torch tensors are accepted
wherever an array is.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib._pylab_helpers import Gcf
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

__all__ = [
    "plot_history",
    "show_channels",
    "show_confusion",
    "show_correlation_step",
    "show_digits",
    "show_feature_maps",
    "show_gradient_routing",
    "show_images",
    "show_kernel_zoo",
    "show_kernels",
    "show_matrix",
    "show_padding",
    "show_pooling",
    "show_shift_equivariance",
    "show_sliding",
]

# ---------------------------------------------------------------------------------------
# Style: one palette for every picture, so that the same idea has the same colour.
# ---------------------------------------------------------------------------------------
MAX_WIDTH = 9.0  # inches: a notebook cell at 100 dpi
INK = "#1f2328"
MUTED = "#6e7781"
EDGE = "#8c959f"  # cell borders
CELL = "#e3eef9"  # a plain input/kernel cell
DONE = "#bcd5ee"  # an output cell already computed
PAD = "#ececec"  # a zero added by padding
PAD_INK = "#8c959f"
EMPTY = "#ffffff"  # an output cell not computed yet
ACCENT = "#e8710a"  # the current window, its kernel and its output cell
ACCENT_FILL = "#fde0c0"
DIVERGING = "RdBu_r"  # signed data: blue < 0 < red, white at 0
PALETTE = [  # tab10 without grey
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
]
# pooling windows: orange is ACCENT's; nine colours, so that the nine windows of a 3×3
# pooling output never share one
WINDOWS = [c for c in PALETTE if c != "#ff7f0e"] + ["#393b79"]
_RC = {
    "figure.facecolor": "white",  # readable on a dark JupyterLab theme too
    "savefig.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titlepad": 5,
    "axes.labelsize": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlecolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "figure.titlesize": 12,
    "legend.frameon": False,
}
MONO = "DejaVu Sans Mono"  # ships with matplotlib; has '·', '⋆', '−'


def _styled(fn):
    """Apply the course style while a public function builds its figure."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with plt.rc_context(_RC):
            return fn(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------------------
# Display exactly once (see the module docstring).
# ---------------------------------------------------------------------------------------
def _inline_flush_will_show(fig: Figure) -> bool:
    """True inside IPython with the inline backend while pyplot still holds ``fig``: the
    end-of-cell flush is then going to show it."""
    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:
        return False
    if "inline" not in str(mpl.get_backend()).lower():
        return False
    return any(manager.canvas.figure is fig for manager in Gcf.get_all_fig_managers())


class _CourseFigure(Figure):
    """A Figure that IPython shows once: when IPython is about to draw it (the cell's echo,
    ``display(fig)``, or the inline flush itself) it first leaves pyplot, so the inline
    backend's end-of-cell flush does not draw it a second time."""

    @property
    def _ipython_display_(self):
        # IPython looks this attribute up before its other formatters; None means "use
        # the usual PNG formatter", a callable means "call this instead".
        return self._show_and_release if _inline_flush_will_show(self) else None

    def _show_and_release(self):
        from IPython.display import display

        # Figures made earlier in this cell would be drawn by the end-of-cell flush, i.e.
        # after this one: draw them first, so pictures keep the order of the code.
        for manager in sorted(Gcf.get_all_fig_managers(), key=lambda m: m.num):
            earlier = manager.canvas.figure
            if earlier is self:
                break
            plt.close(earlier)
            display(earlier, metadata=_inline_metadata(earlier))
        plt.close(self)  # no longer managed: the flush skips it, this display draws it
        display(self, metadata=_inline_metadata(self))


def _inline_metadata(fig: Figure):
    """The metadata the inline backend itself sends (retina size, background)."""
    try:
        from matplotlib_inline.backend_inline import _fetch_figure_metadata

        return _fetch_figure_metadata(fig)
    except Exception:  # private helper: if it moves, send plain PNGs
        return None


def _new_figure(width: float, height: float) -> Figure:
    return plt.figure(
        figsize=(min(float(width), MAX_WIDTH), float(height)),
        FigureClass=_CourseFigure,
        layout="constrained",
    )


def _adopt(ax) -> Figure:
    """The root figure of a caller's ``ax``, given the show-once hook if it is a plain
    Figure (a class swap that only adds ``_ipython_display_``)."""
    fig = ax.get_figure(root=True)
    if type(fig) is Figure:
        fig.__class__ = _CourseFigure
    return fig


# ---------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------
def _to_numpy(a, name: str) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor, maybe on the GPU
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype == bool:
        arr = arr.astype(int)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{name} must be an array of real numbers; got dtype {arr.dtype}")
    return arr


def _array(a, name: str, ndim: int, shape: str) -> np.ndarray:
    """``a`` as a float array with ``ndim`` dims; leading size-1 dims are dropped, so that
    a (1, 1, H, W) batch works where (H, W) is expected."""
    arr = _to_numpy(a, name)
    while arr.ndim > ndim and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D with shape {shape}; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr.astype(float)


def _pair(v, name: str, *, minimum: int) -> tuple[int, int]:
    try:
        vals = (v, v) if np.isscalar(v) else tuple(v)
        ok = len(vals) == 2 and all(float(x).is_integer() for x in vals)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an int or a pair of ints; got {v!r}")
    a, b = (int(x) for x in vals)
    if a < minimum or b < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {v!r}")
    return a, b


def _padding(padding) -> tuple[int, int, int, int]:
    """int | (ph, pw) | ((top, bottom), (left, right)) -> (top, bottom, left, right)."""
    if np.isscalar(padding):
        (p, _) = _pair(padding, "padding", minimum=0)
        return p, p, p, p
    parts = tuple(padding)
    if len(parts) == 2 and all(np.isscalar(x) for x in parts):
        ph, pw = _pair(parts, "padding", minimum=0)
        return ph, ph, pw, pw
    if len(parts) == 2:
        t, b = _pair(parts[0], "padding", minimum=0)
        l, r = _pair(parts[1], "padding", minimum=0)
        return t, b, l, r
    raise ValueError(
        f"padding must be an int, (ph, pw) or ((top, bottom), (left, right)); got {padding!r}"
    )


def _describe_padding(pad: tuple[int, int, int, int]) -> str:
    t, b, l, r = pad
    if t == b == l == r:
        return f"{t}"
    if t == b and l == r:
        return f"(ph, pw) = ({t}, {l})"
    return f"top {t}, bottom {b}, left {l}, right {r}"


# ---------------------------------------------------------------------------------------
# Numbers and colours
# ---------------------------------------------------------------------------------------
def _decimals_for(*arrays: np.ndarray, decimals: int | None = None) -> int:
    """0 when every finite value is a whole number, else ``decimals`` (default 2)."""
    if decimals is not None:
        return int(decimals)
    for a in arrays:
        finite = np.asarray(a, dtype=float)
        finite = finite[np.isfinite(finite)]
        if not np.all(finite == np.round(finite)):
            return 2
    return 0


def _fmt(v: float, decimals: int) -> str:
    v = float(v)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s  # never "-0"


def _term(v: float, decimals: int) -> str:
    """A factor in a written-out sum: negatives in brackets, ``3·(-1)``."""
    s = _fmt(v, decimals)
    return f"({s})" if s.startswith("-") else s


def _strings(A: np.ndarray, decimals: int) -> np.ndarray:
    return np.array([[_fmt(v, decimals) for v in row] for row in A], dtype=object)


def _light_cmap(name: str, lo: float, hi: float) -> mcolors.Colormap:
    """The ``[lo, hi]`` part of a colormap: pale enough to write numbers on."""
    base = mpl.colormaps[name]
    return mcolors.ListedColormap(base(np.linspace(lo, hi, 256)), name=f"{name}_light")


def _value_colors(A: np.ndarray, cmap, *, vmin=None, vmax=None, signed=None):
    """RGBA per cell and the colormap name used: sequential ``cmap``, or a pale diverging
    map centred at 0 when the data are signed (auto when ``signed`` is None and ``cmap`` is
    the default "Blues")."""
    finite = A[np.isfinite(A)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    if signed is None:
        signed = cmap == "Blues" and lo < 0
    if signed:
        m = max(abs(lo), abs(hi)) or 1.0
        norm = mcolors.Normalize(-m if vmin is None else vmin, m if vmax is None else vmax)
        cm, name = _light_cmap(DIVERGING, 0.2, 0.8), DIVERGING
    else:
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
        if vmax <= vmin:
            vmax = vmin + 1.0
        norm = mcolors.Normalize(vmin, vmax)
        if isinstance(cmap, str) and cmap in ("Blues", "Greens", "Oranges", "Greys", "Purples"):
            cm = _light_cmap(cmap, 0.04, 0.62)
        else:
            cm = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
        name = getattr(cm, "name", str(cmap))
    rgba = cm(norm(np.nan_to_num(A, nan=lo, posinf=hi, neginf=lo)))
    return rgba, name


def _solid(shape: tuple[int, int], color) -> np.ndarray:
    return np.broadcast_to(np.array(mcolors.to_rgba(color)), (*shape, 4)).copy()


def _tint(color, amount: float = 0.6) -> tuple[float, float, float, float]:
    """``color`` mixed with white (amount = share of white)."""
    r, g, b, _ = mcolors.to_rgba(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount, 1.0)


def _ink_on(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else INK


def _fontsize(cell_inches: float, strings: Iterable[str], *, largest: float = 12.5) -> float:
    """A font size at which the longest string fits in a cell."""
    longest = max([len(s) for s in strings] + [1])
    cell_pt = cell_inches * 72
    return float(max(5.0, min(largest, 0.42 * cell_pt, 0.85 * cell_pt / (0.62 * longest))))


def _cell_inches(ax, nrows: int, ncols: int) -> float:
    """Side of a cell if a nrows × ncols grid fills ``ax`` (an estimate before layout)."""
    fig = ax.get_figure(root=True)
    w, h = fig.get_size_inches()
    box = ax.get_position()
    return min(box.width * w / ncols, box.height * h / nrows)


# ---------------------------------------------------------------------------------------
# Drawing blocks
# ---------------------------------------------------------------------------------------
def _grid(
    ax,
    face: np.ndarray,
    text: np.ndarray | None,
    *,
    fontsize: float,
    text_color=None,
    bold=None,
    index: bool = False,
    edgecolor=EDGE,
):
    """Draw an (H, W) table: one RGBA ``face`` per cell, ``text[r, c]`` written in it (auto
    black/white for contrast unless ``text_color`` gives a colour per cell)."""
    H, W = face.shape[:2]
    mesh = ax.pcolormesh(
        np.arange(W + 1) - 0.5,
        np.arange(H + 1) - 0.5,
        face,
        edgecolors=edgecolor,
        linewidth=0.8,
    )
    mesh.set_clip_on(False)  # keep the whole outer border
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(False)
    if index:
        ax.xaxis.tick_top()
        ax.set_xticks(range(W))
        ax.set_yticks(range(H))
        ax.tick_params(length=0, labelsize=max(6.0, fontsize * 0.75), labelcolor=MUTED)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if text is None:
        return
    for r in range(H):
        for c in range(W):
            s = text[r, c]
            if not s:
                continue
            color = text_color[r][c] if text_color is not None else _ink_on(face[r, c])
            weight = "bold" if bold is not None and bold[r][c] else "normal"
            ax.text(
                c,
                r,
                s,
                ha="center",
                va="center",
                fontsize=fontsize,
                color=color,
                fontweight=weight,
            )


def _outline(ax, row, col, height, width, color, *, lw=3.0, inset=0.04, zorder=5):
    """A rectangle around cells [row:row+height, col:col+width]."""
    rect = Rectangle(
        (col - 0.5 + inset, row - 0.5 + inset),
        width - 2 * inset,
        height - 2 * inset,
        fill=False,
        edgecolor=color,
        linewidth=lw,
        joinstyle="miter",
        zorder=zorder,
        clip_on=False,
    )
    ax.add_patch(rect)
    return rect


def _between(fig, left, right, text: str, *, fontsize: float = 18, color=MUTED):
    """Write ``text`` (an operator such as ⋆ or =) midway between two axes, wherever the
    layout puts them (the position is computed at draw time)."""

    def where(renderer):
        a = left.get_window_extent(renderer)
        b = right.get_window_extent(renderer)
        if b.x0 > a.x1:  # side by side
            return Bbox.from_extents(a.x1, min(a.y0, b.y0), b.x0, max(a.y1, b.y1))
        return Bbox.from_extents(  # stacked: between the bottom of one and top of the other
            min(a.x0, b.x0), b.y1, max(a.x1, b.x1), a.y0
        )

    ann = Annotation(
        text,
        xy=(0.5, 0.5),
        xycoords=where,
        ha="center",
        va="center",
        fontsize=fontsize,
        color=color,
    )
    fig.add_artist(ann)
    return ann


def _hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.flat[used:]:
        ax.remove()


def _subplots_grid(n: int, ncols: int, panel_w: float, panel_h: float, extra_h: float = 0.0):
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    scale = min(1.0, MAX_WIDTH / (ncols * panel_w))
    fig = _new_figure(ncols * panel_w * scale, nrows * panel_h * scale + extra_h)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    _hide_unused(axes, n)
    return fig, axes[:n], scale


# ---------------------------------------------------------------------------------------
# show_matrix
# ---------------------------------------------------------------------------------------
def _highlights(highlight) -> list[tuple[int, int, int, int]]:
    if highlight is None:
        return []
    items = list(highlight)
    if len(items) == 4 and all(np.isscalar(v) for v in items):
        items = [items]
    out = []
    for item in items:
        vals = tuple(item) if not np.isscalar(item) else (item,)
        if len(vals) != 4:
            raise ValueError(
                f"highlight must be (row, col, height, width) or a list of them; got {highlight!r}"
            )
        r, c, h, w = (int(v) for v in vals)
        if h < 1 or w < 1:
            raise ValueError(f"highlight height and width must be >= 1; got {vals!r}")
        out.append((r, c, h, w))
    return out


@_styled
def show_matrix(
    A,
    *,
    title=None,
    ax=None,
    cmap="Blues",
    decimals=None,
    highlight=None,
    highlight_color="tab:orange",
    labels=True,
    index=False,
    vmin=None,
    vmax=None,
    fontsize=None,
):
    """Draw a 2-D array as a table with each number written in its cell.

    Args:
        A: shape (H, W) (leading size-1 dims are dropped). Good up to about 12 × 12.
        title: axes title.
        ax: draw into this axes instead of a new figure.
        cmap: colours by value. With the default "Blues", data with negative values get a
            pale diverging map centred at 0 instead.
        decimals: digits after the point; default 0 for whole numbers, else 2.
        highlight: (row, col, height, width) rectangle, or a list of them, outlined.
        highlight_color: colour of the outlines.
        labels: write the numbers.
        index: show row and column indices.
        vmin, vmax: colour range (default: the data's).
        fontsize: size of the numbers (default: fitted to the cells).
    Returns:
        The Figure.
    """
    A = _array(A, "A", 2, "(H, W)")
    boxes = _highlights(highlight)
    H, W = A.shape
    text = _strings(A, _decimals_for(A, decimals=decimals)) if labels else None
    if ax is None:
        cell = min(0.55, 7.5 / W, 6.0 / H)
        fig = _new_figure(max(2.0, W * cell + 0.4), H * cell + (0.55 if title else 0.25))
        ax = fig.add_subplot()
    else:
        fig = _adopt(ax)
        cell = 0.85 * _cell_inches(ax, H, W)
    face, _ = _value_colors(A, cmap, vmin=vmin, vmax=vmax)
    fs = fontsize or _fontsize(cell, text.ravel() if text is not None else [])
    _grid(ax, face, text, fontsize=fs, index=index)
    for r, c, h, w in boxes:
        _outline(ax, r, c, h, w, highlight_color)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------
# Cross-correlation, step by step
# ---------------------------------------------------------------------------------------
def _padded(X: np.ndarray, pad) -> np.ndarray:
    t, b, l, r = pad
    return np.pad(X, ((t, b), (l, r)))


def _out_size(n: int, k: int, s: int, what: str) -> int:
    if k > n:
        raise ValueError(f"the {k}-wide kernel does not fit the {n}-wide padded {what}")
    return (n - k) // s + 1


def _corr_setup(X, K, padding, stride):
    X = _array(X, "X", 2, "(H, W)")
    K = _array(K, "K", 2, "(KH, KW)")
    pad = _padding(padding)
    sh, sw = _pair(stride, "stride", minimum=1)
    Xp = _padded(X, pad)
    H_out = _out_size(Xp.shape[0], K.shape[0], sh, "input height")
    W_out = _out_size(Xp.shape[1], K.shape[1], sw, "input width")
    return X, K, pad, (sh, sw), Xp, (H_out, W_out)


def _corr(Xp, K, stride, bias):
    """Plain loops: Y[i, j] = sum(window * K) + bias."""
    KH, KW = K.shape
    sh, sw = stride
    H_out = (Xp.shape[0] - KH) // sh + 1
    W_out = (Xp.shape[1] - KW) // sw + 1
    Y = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            Y[i, j] = np.sum(Xp[i * sh : i * sh + KH, j * sw : j * sw + KW] * K) + bias
    return Y


def _check_position(i, j, shape):
    H_out, W_out = shape
    if not (float(i).is_integer() and float(j).is_integer()):
        raise ValueError(f"the output position (i, j) must be integers; got ({i!r}, {j!r})")
    if not (0 <= i < H_out and 0 <= j < W_out):
        raise ValueError(
            f"output position (i, j) = ({i}, {j}) is outside the {H_out}×{W_out} output"
        )
    return int(i), int(j)


def _sum_lines(head: str, groups: list[list[str]], tail: str, total: str, width: int):
    """``head`` + terms + ``tail`` = ``total``: one line if it fits in ``width`` characters,
    else one line per group (kernel row or channel), aligned under the first."""
    flat = " + ".join(t for g in groups for t in g)
    one = f"{head}{flat}{tail} = {total}"
    if len(one) <= width or len(groups) == 1:
        return [one]
    indent = " " * max(0, len(head) - 2)
    lines = [head + " + ".join(groups[0])]
    lines += [f"{indent}+ " + " + ".join(g) for g in groups[1:]]
    if tail:
        lines[-1] += tail
    lines.append(f"{indent}= {total}")
    return lines


def _caption_width(fig_width: float, fontsize: float) -> int:
    return int(fig_width * 72 / (0.61 * fontsize))


def _step_units(Xp_shape, K_shape, Y_shape, gap, bias=0.0):
    return Xp_shape[1] + K_shape[1] + Y_shape[1] + (2 if bias == 0 else 3) * gap


def _step_lines(Xp, K, stride, bias, Y, i, j, chars: int) -> list[str]:
    """The sum for Y[i, j] written out, kernel row by kernel row if one line is too long."""
    KH, KW = K.shape
    r0, c0 = i * stride[0], j * stride[1]
    dec = _decimals_for(Xp, K)
    dec_y = _decimals_for(Y, np.array([bias]))
    window = Xp[r0 : r0 + KH, c0 : c0 + KW]
    groups = [
        [f"{_term(window[a, c], dec)}·{_term(K[a, c], dec)}" for c in range(KW)] for a in range(KH)
    ]
    tail = "" if bias == 0 else f" + {_term(bias, dec_y)}"
    value = float(np.sum(window * K) + bias)
    return _sum_lines(f"Y[{i}, {j}] = ", groups, tail, _fmt(value, dec_y), chars)


def _draw_step(fig, Xp, K, pad, stride, bias, Y, i, j, *, cell, shape, width, caption_fs=11.0):
    """The three panels of one step (input, kernel, output so far) and the written-out sum,
    drawn into ``fig`` (a Figure or a SubFigure)."""
    KH, KW = K.shape
    Hp, Wp = Xp.shape
    H_out, W_out = Y.shape
    sh, sw = stride
    t, _, l, _ = pad
    H, W = shape
    r0, c0 = i * sh, j * sw
    gap = 1.0
    ratios = [Wp, gap, KW, gap if bias == 0 else 2 * gap, W_out]
    # empty columns left and right keep every cell the same size in a wider figure
    side = max(0.0, (width - 0.5) / cell - sum(ratios)) / 2
    gs = fig.add_gridspec(1, 7, width_ratios=[side + 1e-6, *ratios, side + 1e-6])
    ax_x = fig.add_subplot(gs[0, 1])
    ax_k = fig.add_subplot(gs[0, 3])
    ax_y = fig.add_subplot(gs[0, 5])

    dec = _decimals_for(Xp, K)
    dec_y = _decimals_for(Y, np.array([bias]))
    # input: real cells pale blue, padding grey, the window orange
    face = _solid(Xp.shape, CELL)
    ink = [[INK] * Wp for _ in range(Hp)]
    real = np.zeros(Xp.shape, dtype=bool)
    real[t : t + H, l : l + W] = True
    face[~real] = mcolors.to_rgba(PAD)
    for rr, cc in zip(*np.nonzero(~real), strict=True):
        ink[rr][cc] = PAD_INK
    face[r0 : r0 + KH, c0 : c0 + KW] = mcolors.to_rgba(ACCENT_FILL)
    fs_x = _fontsize(cell, _strings(Xp, dec).ravel())
    _grid(ax_x, face, _strings(Xp, dec), fontsize=fs_x, text_color=ink)
    _outline(ax_x, r0, c0, KH, KW, ACCENT)
    if any(pad):
        _outline(ax_x, t, l, H, W, MUTED, lw=1.4, inset=0.0, zorder=4)

    # kernel
    fs_k = _fontsize(cell, _strings(K, dec).ravel())
    _grid(ax_k, _solid(K.shape, ACCENT_FILL), _strings(K, dec), fontsize=fs_k)
    _outline(ax_k, 0, 0, KH, KW, ACCENT)

    # output so far: cells before (i, j) in reading order are done, (i, j) is current
    order = np.arange(H_out * W_out).reshape(H_out, W_out)
    done = order <= i * W_out + j
    face_y = _solid(Y.shape, EMPTY)
    face_y[done] = mcolors.to_rgba(DONE)
    face_y[i, j] = mcolors.to_rgba(ACCENT_FILL)
    text_y = _strings(Y, dec_y)
    text_y[~done] = ""
    fs_y = _fontsize(cell, _strings(Y, dec_y).ravel())
    _grid(ax_y, face_y, text_y, fontsize=fs_y)
    _outline(ax_y, i, j, 1, 1, ACCENT)

    about = [f"padding {_describe_padding(pad)}"] if any(pad) else []
    about += [f"stride {sh if sh == sw else (sh, sw)}"] if (sh, sw) != (1, 1) else []
    ax_x.set_title(", ".join(["input X", *about]))
    ax_k.set_title("kernel K")
    ax_y.set_title("output Y")
    _between(fig, ax_x, ax_k, "⋆", fontsize=30)
    _between(fig, ax_k, ax_y, "=" if bias == 0 else f"+ {_fmt(bias, dec_y)} =", fontsize=16)

    lines = _step_lines(Xp, K, stride, bias, Y, i, j, _caption_width(width, caption_fs))
    fig.supxlabel(
        "\n".join(lines), fontsize=caption_fs, family=MONO, color=INK, multialignment="left"
    )
    return [ax_x, ax_k, ax_y], "\n".join(lines)


@_styled
def show_correlation_step(X, K, i, j, *, padding=0, stride=1, bias=0.0):
    """One step of 2-D cross-correlation, as on the lecture slides.

    Three panels: the (padded) input with the window for output position (i, j) outlined
    and the padding shaded grey; the kernel; the output so far (cells up to (i, j) in
    reading order filled, (i, j) outlined); below, the sum written out, e.g.
    ``Y[0, 0] = 0·0 + 1·1 + 3·2 + 4·3 = 19``.

    Args:
        X: input, shape (H, W).
        K: kernel, shape (KH, KW).
        i, j: output position, 0 <= i < H_out, 0 <= j < W_out with
            H_out = (H + top + bottom - KH) // stride + 1.
        padding: zeros added per side: int, (ph, pw) or ((top, bottom), (left, right)).
        stride: int or (sh, sw).
        bias: added to every output.
    Returns:
        The Figure.
    """
    X, K, pad, stride, Xp, out_shape = _corr_setup(X, K, padding, stride)
    i, j = _check_position(i, j, out_shape)
    Y = _corr(Xp, K, stride, float(bias))
    gap = 1.0
    units = _step_units(Xp.shape, K.shape, Y.shape, gap, bias)
    cell = min(0.5, 8.0 / units)
    rows = max(Xp.shape[0], K.shape[0], Y.shape[0])
    width = max(units * cell + 0.6, 4.2)
    chars = _caption_width(min(width, MAX_WIDTH), 11)
    lines = len(_step_lines(Xp, K, stride, float(bias), Y, i, j, chars))
    height = rows * cell + 0.65 + 0.22 * lines
    fig = _new_figure(width, height)
    _draw_step(
        fig,
        Xp,
        K,
        pad,
        stride,
        float(bias),
        Y,
        i,
        j,
        cell=cell,
        shape=X.shape,
        width=min(width, MAX_WIDTH),
    )
    return fig


@_styled
def show_sliding(X, K, *, padding=0, stride=1, steps=None, max_steps=4, bias=0.0):
    """The first few steps of a cross-correlation, one small picture per step (see
    ``show_correlation_step``).

    Args:
        X: input, shape (H, W).
        K: kernel, shape (KH, KW).
        padding: zeros added per side: int, (ph, pw) or ((top, bottom), (left, right)).
        stride: int or (sh, sw).
        steps: which output positions: None for the first ``max_steps`` in reading order,
            an int n for the first n, or a list of (i, j).
        max_steps: how many steps ``steps=None`` draws.
        bias: added to every output.
    Returns:
        The Figure (one sub-figure per step).
    """
    X, K, pad, stride, Xp, out_shape = _corr_setup(X, K, padding, stride)
    H_out, W_out = out_shape
    positions = [(a, c) for a in range(H_out) for c in range(W_out)]
    if steps is None:
        chosen = positions[: max(1, int(max_steps))]
    elif np.isscalar(steps):
        if int(steps) < 1:
            raise ValueError(f"steps must be >= 1; got {steps!r}")
        chosen = positions[: int(steps)]
    else:
        chosen = [_check_position(a, c, out_shape) for a, c in steps]
        if not chosen:
            raise ValueError("steps is an empty list; give at least one (i, j)")
    if len(chosen) > 16:
        raise ValueError(f"{len(chosen)} steps are too many to draw; give at most 16")
    Y = _corr(Xp, K, stride, float(bias))

    gap = 1.0
    units = _step_units(Xp.shape, K.shape, Y.shape, gap, bias)
    cell = (MAX_WIDTH / 2 - 0.5) / units  # two steps side by side, if cells stay readable
    if len(chosen) > 1 and cell >= 0.23:
        ncols, cell = 2, min(0.42, cell)
    else:
        ncols, cell = 1, min(0.34, (MAX_WIDTH - 0.5) / units)
    nrows = math.ceil(len(chosen) / ncols)
    rows = max(Xp.shape[0], K.shape[0], Y.shape[0])
    width = MAX_WIDTH if ncols == 2 else max(units * cell + 0.8, 4.2)
    chars = _caption_width(min(width, MAX_WIDTH) / ncols, 10)
    lines = max(len(_step_lines(Xp, K, stride, float(bias), Y, a, c, chars)) for a, c in chosen)
    sub_h = rows * cell + 0.7 + 0.19 * lines
    fig = _new_figure(width, nrows * sub_h)
    subfigs = np.atleast_1d(fig.subfigures(nrows, ncols, squeeze=False)).ravel()
    for n, (a, c) in enumerate(chosen):
        sub = subfigs[n]
        _draw_step(
            sub,
            Xp,
            K,
            pad,
            stride,
            float(bias),
            Y,
            a,
            c,
            cell=cell,
            shape=X.shape,
            width=min(width, MAX_WIDTH) / ncols,
            caption_fs=10,
        )
        sub.suptitle(f"step {n + 1}: output position ({a}, {c})", fontsize=10, color=MUTED)
    return fig


# ---------------------------------------------------------------------------------------
# Images, kernels, feature maps
# ---------------------------------------------------------------------------------------
def _is_signed(img: np.ndarray) -> bool:
    finite = img[np.isfinite(img)]
    return bool(finite.size) and float(finite.min()) < 0


def _imshow(ax, img, cmap, signed, *, vlim=None):
    """imshow with a diverging map centred at 0 for signed data."""
    if signed:
        if vlim is None:  # big images: the 99.5th percentile, so thin edges stay visible
            mags = np.abs(img[np.isfinite(img)])
            vlim = float(np.percentile(mags, 99.5) if mags.size >= 1024 else mags.max())
        m = vlim or 1.0
        im = ax.imshow(img, cmap=DIVERGING, vmin=-m, vmax=m, interpolation="nearest")
    else:
        im = ax.imshow(img, cmap=cmap, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return im


def _image_list(images, name: str) -> list[np.ndarray]:
    """A list of 2-D (or RGB) arrays from a list or an (N, H, W) / (N, 1, H, W) array."""
    if isinstance(images, np.ndarray) or hasattr(images, "detach"):
        arr = _to_numpy(images, name)
        if arr.ndim == 2:
            return [arr.astype(float)]
        if arr.ndim == 4 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 3:
            raise ValueError(
                f"{name} must be (N, H, W), (N, 1, H, W), one (H, W) image or a list of "
                f"images; got shape {arr.shape}"
            )
        return [a.astype(float) for a in arr]
    out = []
    for n, img in enumerate(images):
        a = _to_numpy(img, f"{name}[{n}]")
        while a.ndim > 2 and a.shape[0] == 1:
            a = a[0]
        if a.ndim == 3 and a.shape[0] in (3, 4) and a.shape[-1] not in (3, 4):
            a = np.moveaxis(a, 0, -1)  # CHW colour image
        if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (3, 4))):
            raise ValueError(f"{name}[{n}] must be (H, W) or (H, W, 3); got shape {a.shape}")
        out.append(a.astype(float))
    if not out:
        raise ValueError(f"{name} is empty")
    return out


@_styled
def show_images(
    images,
    titles=None,
    *,
    ncols=None,
    cmap="gray",
    signed=None,
    figsize=None,
    suptitle=None,
    colorbar=None,
):
    """Images side by side.

    Signed images (an edge filter's output has negative values) get a diverging colormap
    centred at 0 (white = 0, red > 0, blue < 0) and a colour bar; others use ``cmap``.

    Args:
        images: a list of (H, W) or (H, W, 3) arrays, or an (N, H, W) / (N, 1, H, W) array.
        titles: one per image.
        ncols: panels per row (default: all in one row, up to 5).
        cmap: colormap of unsigned images.
        signed: None detects per image (any value < 0); True/False forces it for all.
        figsize: (width, height) in inches.
        suptitle: a title over all panels.
        colorbar: a colour bar beside each grey-level panel; None draws one for the signed
            images only.
    Returns:
        The Figure.
    """
    imgs = _image_list(images, "images")
    n = len(imgs)
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != n:
            raise ValueError(f"got {len(titles)} titles for {n} images")
    ncols = min(n, 5) if ncols is None else max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    aspect = max(a.shape[0] / a.shape[1] for a in imgs)
    if figsize is None:
        panel = min(2.6, MAX_WIDTH / ncols)
        figsize = (ncols * panel, nrows * panel * aspect + (0.4 if suptitle else 0.0) + 0.3)
    fig = plt.figure(figsize=figsize, FigureClass=_CourseFigure, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    _hide_unused(axes, n)
    for k, (ax, img) in enumerate(zip(axes, imgs, strict=False)):
        is_signed = _is_signed(img) if signed is None else bool(signed)
        is_signed = is_signed and img.ndim == 2
        im = _imshow(ax, img, cmap, is_signed)
        bar = is_signed if colorbar is None else (bool(colorbar) and img.ndim == 2)
        if bar:
            fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
        if titles is not None:
            ax.set_title(titles[k])
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _kernel_scale(K: np.ndarray) -> int:
    """The smallest d <= 256 with d·K whole numbers of at most 2 digits (1/16 for the
    Gaussian blur), or 1."""
    for d in range(1, 257):
        scaled = K * d
        if np.allclose(scaled, np.round(scaled), atol=1e-6) and np.abs(scaled).max() < 100:
            return d
    return 1


def _kernel_inset(ax, K: np.ndarray, *, size=0.38):
    """A small table of K's numbers in the lower-left corner of ``ax``."""
    KH, KW = K.shape
    h = size * KH / max(KH, KW)
    w = size * KW / max(KH, KW)
    inset = ax.inset_axes([0.02, 0.02, w, h])
    d = _kernel_scale(K)
    shown = K * d
    if shown.min() < 0:
        face, _ = _value_colors(shown, "Blues", signed=True)
    elif np.ptp(shown) > 1e-12 * max(1.0, float(np.abs(shown).max())):
        # unequal positive weights (a Gaussian): shade them from 0, darker = heavier, so
        # the shape shows even where the cells are too small for numbers
        face, _ = _value_colors(shown, "Blues", vmin=0.0, signed=False)
    else:
        face = _solid(shown.shape, CELL)  # all equal (a box blur): the numbers say it
    numbers = max(KH, KW) <= 5
    if numbers:
        text = _strings(shown, _decimals_for(shown))
        cell = 2.1 * size / max(KH, KW)
        _grid(inset, face, text, fontsize=_fontsize(cell, text.ravel(), largest=8.5))
    else:
        _grid(inset, face, None, fontsize=6, edgecolor="white")
    label = f"1/{d} ×" if d != 1 else (None if numbers else "weights: darker = larger")
    if label:
        inset.text(
            0 if not numbers and d == 1 else 0.5,
            1.04,
            label,
            transform=inset.transAxes,
            ha="left" if not numbers and d == 1 else "center",
            va="bottom",
            fontsize=8,
            color=INK,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": EDGE, "lw": 0.8},
        )
    return inset


@_styled
def show_kernel_zoo(image, kernels, results, *, ncols=4):
    """What classic hand-made kernels do to an image: the input, then each kernel's output
    with the kernel's numbers in a small inset (lower left; a common factor such as 1/16
    is pulled out; a kernel too large for numbers is shaded, darker = larger weight).
    Outputs of kernels whose entries sum to 0 (edge detectors) use a diverging colormap
    (white = 0) with a colour bar, the others grey.

    The student computes ``results`` with their own corr2d; this function only draws.

    Args:
        image: input, shape (H, W).
        kernels: dict name -> kernel (KH, KW).
        results: dict name -> filtered image (H', W'), the same names as ``kernels``.
        ncols: panels per row.
    Returns:
        The Figure (first panel: the input).
    """
    image = _array(image, "image", 2, "(H, W)")
    if not isinstance(kernels, Mapping) or not isinstance(results, Mapping):
        raise ValueError("kernels and results must be dicts: name -> array")
    missing = [k for k in kernels if k not in results]
    extra = [k for k in results if k not in kernels]
    if missing or extra:
        raise ValueError(
            f"kernels and results must have the same names; no result for {missing}, "
            f"no kernel for {extra}"
        )
    Ks = {name: _array(k, f"kernels[{name!r}]", 2, "(KH, KW)") for name, k in kernels.items()}
    Ys = {name: _array(results[name], f"results[{name!r}]", 2, "(H, W)") for name in kernels}
    n = 1 + len(Ks)
    aspect = image.shape[0] / image.shape[1]
    panel = min(2.3, MAX_WIDTH / max(1, min(ncols, n)))
    fig, axes, _ = _subplots_grid(n, ncols, panel, panel * aspect + 0.35)
    _imshow(axes[0], image, "gray", _is_signed(image))
    axes[0].set_title("input")
    for ax, name in zip(axes[1:], Ks, strict=True):
        # a kernel whose entries sum to 0 (edges, Sobel) measures change: its output is
        # signed by nature and gets the diverging map; blur/sharpen stay grey
        measures_change = abs(Ks[name].sum()) <= 1e-9 * max(1.0, np.abs(Ks[name]).sum())
        signed = measures_change and _is_signed(Ys[name])
        im = _imshow(ax, Ys[name], "gray", signed)
        if signed:  # red and blue need a scale: how strong, and which sign
            fig.colorbar(im, ax=ax, shrink=0.75, pad=0.02, aspect=25)
        ax.set_title(str(name))
        _kernel_inset(ax, Ks[name])
    return fig


@_styled
def show_feature_maps(
    maps, *, titles=None, ncols=8, suptitle=None, cmap="viridis", signed=None, colorbar=None
):
    """Feature maps (the channels of one activation) as a grid, each with its own scale.

    A signed map (an edge filter's response, a colour difference) is drawn with a
    diverging colormap centred at 0 (white = 0, red > 0, blue < 0), so that its sign can
    be read; an unsigned one (after a ReLU) with ``cmap``.

    Args:
        maps: shape (C, H, W), or (1, C, H, W) for a batch of one.
        titles: one per channel (default "0", "1", ...).
        ncols: panels per row.
        suptitle: a title over all panels.
        cmap: colormap of unsigned maps.
        signed: None detects per map (any value < 0); True/False forces it for all.
        colorbar: a colour bar beside each panel; None draws one for the signed maps.
    Returns:
        The Figure.
    """
    maps = _array(maps, "maps", 3, "(C, H, W)")
    C, H, W = maps.shape
    if titles is None:
        titles = [f"channel {c}" if C <= 16 else str(c) for c in range(C)]
    titles = [str(t) for t in titles]
    if len(titles) != C:
        raise ValueError(f"got {len(titles)} titles for {C} channels")
    is_signed = [_is_signed(m) if signed is None else bool(signed) for m in maps]
    bars = [s if colorbar is None else bool(colorbar) for s in is_signed]
    panel = min(1.25 if not any(bars) else 2.2, MAX_WIDTH / max(1, min(ncols, C)))
    fig, axes, _ = _subplots_grid(
        C, ncols, panel, panel * H / W + 0.25, extra_h=0.4 if suptitle else 0
    )
    fs = 9 if panel < 1.5 else 10
    for ax, fmap, t, s, bar in zip(axes, maps, titles, is_signed, bars, strict=True):
        im = _imshow(ax, fmap, cmap, s)
        if bar:
            fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02, aspect=20)
        ax.set_title(t, fontsize=fs)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _annotate_image(ax, im, img, fontsize, decimals):
    """Write each pixel's value on an imshow ``im``, black or white for contrast."""
    for r in range(img.shape[0]):
        for c in range(img.shape[1]):
            ax.text(
                c,
                r,
                _fmt(img[r, c], decimals),
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_ink_on(im.cmap(im.norm(img[r, c]))),
            )


@_styled
def show_kernels(w, *, ncols=8, suptitle=None, annotate=None):
    """Convolution filters on one diverging colour scale centred at 0 (white = 0).

    Args:
        w: weights (C_out, C_in, KH, KW); (C_out, KH, KW) or (KH, KW) also work.
            C_in = 1: one panel per filter in a grid of ``ncols``; otherwise one row per
            output channel and one column per input channel.
        ncols: panels per row when C_in = 1.
        suptitle: a title over all panels.
        annotate: write the numbers in the cells (default: for kernels up to 3×3 and at
            most 24 panels).
    Returns:
        The Figure.
    """
    arr = _to_numpy(w, "w").astype(float)
    if arr.ndim == 2:
        arr = arr[None, None]
    elif arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.size == 0:
        raise ValueError(f"w must be (C_out, C_in, KH, KW); got shape {arr.shape}")
    C_out, C_in, KH, KW = arr.shape
    n = C_out * C_in
    if n > 1024:
        raise ValueError(f"w has {n} kernels; show a slice of at most 1024, e.g. w[:16]")
    vlim = float(np.abs(arr).max()) or 1.0
    if annotate is None:
        annotate = KH * KW <= 9 and n <= 24
    dec = _decimals_for(arr)
    if C_in == 1:
        panel = min(1.1, MAX_WIDTH / max(1, min(ncols, C_out)) * 0.92)
        fig, axes, _ = _subplots_grid(
            C_out, ncols, panel, panel * KH / KW + 0.25, extra_h=0.4 if suptitle else 0
        )
        titles = [f"filter {o}" if C_out <= 8 else f"{o}" for o in range(C_out)]
        pairs = [(o, 0) for o in range(C_out)]
    else:
        panel = min(1.35 if annotate else 1.0, 8.2 / C_in)
        fig = _new_figure(
            C_in * panel + 1.3, C_out * panel * KH / KW + 0.4 + (0.4 if suptitle else 0)
        )
        axes = np.atleast_1d(fig.subplots(C_out, C_in, squeeze=False)).ravel()
        titles = [f"in {c}" if o == 0 else "" for o in range(C_out) for c in range(C_in)]
        pairs = [(o, c) for o in range(C_out) for c in range(C_in)]
    im = None
    for ax, (o, c), t in zip(axes, pairs, titles, strict=True):
        im = _imshow(ax, arr[o, c], DIVERGING, True, vlim=vlim)
        if t:
            ax.set_title(t, fontsize=9)
        if C_in > 1 and c == 0:
            ax.set_ylabel(f"out {o}", fontsize=9, rotation=0, ha="right", va="center")
        if annotate:
            fs = _fontsize(panel / max(KH, KW), ["-0.00" if dec else "-0"])
            _annotate_image(ax, im, arr[o, c], fs, dec)
    fig.colorbar(im, ax=list(axes), shrink=0.6 if len(axes) > 4 else 0.9, pad=0.02)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------
_MODES = {"max": "max", "avg": "avg", "mean": "avg", "average": "avg"}


def _pool_windows(Xp, kh, kw, sh, sw):
    H_out = (Xp.shape[0] - kh) // sh + 1
    W_out = (Xp.shape[1] - kw) // sw + 1
    return [(a, c, a * sh, c * sw) for a in range(H_out) for c in range(W_out)], (H_out, W_out)


@_styled
def show_pooling(X, size, *, stride=None, padding=0, mode="max", out=None):
    """Pooling on a small input: each window coloured (or outlined, where windows overlap),
    the max of each window circled (max pooling), and the output beside it in the same
    colours; the first window's arithmetic is written below.

    Args:
        X: input, shape (H, W).
        size: window, int or (kh, kw).
        stride: int or (sh, sw); default ``size``.
        padding: per side (int, (ph, pw) or ((t, b), (l, r))); max pooling pads with -inf
            (drawn as blank grey cells), average pooling with zeros (counted, as torch's
            default ``count_include_pad=True``).
        mode: "max" or "avg".
        out: the output to show (e.g. the student's); computed here when None.
    Returns:
        The Figure.
    """
    X = _array(X, "X", 2, "(H, W)")
    kh, kw = _pair(size, "size", minimum=1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", minimum=1)
    if mode not in _MODES:
        raise ValueError(f"mode must be 'max' or 'avg'; got {mode!r}")
    mode = _MODES[mode]
    pad = _padding(padding)
    t, b, l, r = pad
    fill = -np.inf if mode == "max" else 0.0
    Xp = np.pad(X, ((t, b), (l, r)), constant_values=fill)
    _out_size(Xp.shape[0], kh, sh, "input height")
    _out_size(Xp.shape[1], kw, sw, "input width")
    windows, out_shape = _pool_windows(Xp, kh, kw, sh, sw)
    Y = np.zeros(out_shape)
    for a, c, r0, c0 in windows:
        win = Xp[r0 : r0 + kh, c0 : c0 + kw]
        Y[a, c] = win.max() if mode == "max" else win.mean()
    if out is not None:
        out = _array(out, "out", 2, "(H_out, W_out)")
        if out.shape != Y.shape:
            raise ValueError(
                f"out has shape {out.shape}, expected {Y.shape}: "
                "H_out = (H + 2*padding - size) // stride + 1"
            )
        Y = out

    Hp, Wp = Xp.shape
    overlap = sh < kh or sw < kw
    real = np.zeros(Xp.shape, dtype=bool)
    real[t : t + X.shape[0], l : l + X.shape[1]] = True
    dec = _decimals_for(X)
    text = _strings(Xp, dec)
    face = _solid(Xp.shape, EMPTY)
    ink = [[MUTED] * Wp for _ in range(Hp)]  # cells no window reaches stay grey
    face[~real] = mcolors.to_rgba(PAD)
    covered = np.zeros(Xp.shape, dtype=bool)
    for _, _, r0, c0 in windows:
        covered[r0 : r0 + kh, c0 : c0 + kw] = True
    for rr in range(Hp):
        for cc in range(Wp):
            if covered[rr, cc] and real[rr, cc]:
                ink[rr][cc] = INK
            if not real[rr, cc]:
                ink[rr][cc] = PAD_INK
    colour = {}
    for n, (a, c, _, _) in enumerate(windows):
        colour[(a, c)] = WINDOWS[(3 * a + c if not overlap else n) % len(WINDOWS)]
    if not overlap:
        for a, c, r0, c0 in windows:
            face[r0 : r0 + kh, c0 : c0 + kw] = _tint(colour[(a, c)], 0.72)
        face[~real] = mcolors.to_rgba(PAD)

    cell = min(0.5, 7.6 / (Wp + Y.shape[1] + 1.5))
    rows = max(Hp, Y.shape[0])
    fig = _new_figure(max((Wp + Y.shape[1] + 1.5) * cell + 0.6, 4.5), rows * cell + 1.35)
    gs = fig.add_gridspec(1, 3, width_ratios=[Wp, 1.5, Y.shape[1]])
    ax_x = fig.add_subplot(gs[0, 0])
    ax_y = fig.add_subplot(gs[0, 2])
    bold = None
    if mode == "max":
        bold = np.zeros(Xp.shape, dtype=bool)
    markers = []
    for n, (a, c, r0, c0) in enumerate(windows):
        if mode == "max":
            win = Xp[r0 : r0 + kh, c0 : c0 + kw]
            dr, dc = np.unravel_index(np.argmax(win), win.shape)  # first max on ties
            bold[r0 + dr, c0 + dc] = True
            radius = 0.40 - 0.05 * (n % 3) if overlap else 0.40
            markers.append((r0 + dr, c0 + dc, radius, colour[(a, c)]))
    text[~real] = "" if mode == "max" else "0"
    fs = _fontsize(cell, text.ravel())
    _grid(ax_x, face, text, fontsize=fs, text_color=ink, bold=bold)
    for n, (a, c, r0, c0) in enumerate(windows):
        if overlap:
            inset = 0.05 + 0.07 * (n % 4)
            _outline(ax_x, r0, c0, kh, kw, colour[(a, c)], lw=2.2, inset=inset)
    for rr, cc, radius, col in markers:
        ax_x.add_patch(Circle((cc, rr), radius, fill=False, ec=col, lw=2.0, zorder=6))
    if any(pad):
        _outline(ax_x, t, l, X.shape[0], X.shape[1], MUTED, lw=1.4, inset=0.0, zorder=4)

    face_y = np.array(
        [[_tint(colour[(a, c)], 0.72) for c in range(Y.shape[1])] for a in range(Y.shape[0])]
    )
    dec_y = _decimals_for(Y)
    text_y = _strings(Y, dec_y)
    _grid(ax_y, face_y, text_y, fontsize=_fontsize(cell, text_y.ravel()))
    _between(fig, ax_x, ax_y, "→", fontsize=20)

    name = "max" if mode == "max" else "average"
    stride_s = f"{sh}" if sh == sw else f"({sh}, {sw})"
    ax_x.set_title(
        f"input {X.shape[0]}×{X.shape[1]}"
        + (f", padding {_describe_padding(pad)}" if any(pad) else "")
    )
    ax_y.set_title(f"output {Y.shape[0]}×{Y.shape[1]}")
    fig.suptitle(f"{kh}×{kw} {name} pooling, stride {stride_s}")
    a, c, r0, c0 = windows[0]
    win = Xp[r0 : r0 + kh, c0 : c0 + kw]
    vals = win.ravel()  # padding shows as -∞ (max) or 0 (avg), as torch pads
    fn = "max" if mode == "max" else "mean"
    caption = f"{fn}({', '.join(_fmt(v, dec) for v in vals)}) = {_fmt(Y[0, 0], dec_y)}"
    fig.supxlabel(caption, fontsize=11, family=MONO, color=INK)
    return fig


def _window_colour(a: int, c: int, W_out: int) -> str:
    return WINDOWS[(a * W_out + c) % len(WINDOWS)]


@_styled
def show_gradient_routing(x, dout, dx, *, title=None, size=None, stride=None, mode="max"):
    """Pooling backward: where the upstream gradient goes. Three panels: x, dout, and dx
    with its values (zeros greyed). For max pooling the inputs that received gradient (the
    winners) are highlighted in x and dx; average pooling has no winners, every input of a
    window gets a share, so nothing is highlighted.

    With ``size`` the windows are drawn and each dout cell takes its window's colour.
    Windows that tile the input are outlined on x and dx. Overlapping windows (stride <
    size) would draw a patchwork of borders, so they get a row of small panels instead,
    one per window: the window filled in its colour and, for max pooling, its winner
    ringed.

    Args:
        x: pooling input, shape (H, W).
        dout: upstream gradient, shape (H_out, W_out).
        dx: gradient w.r.t. x, shape (H, W).
        title: a title over the panels.
        size, stride: the pooling window and stride (stride defaults to size).
        mode: "max" or "avg".
    Returns:
        The Figure.
    """
    x = _array(x, "x", 2, "(H, W)")
    dout = _array(dout, "dout", 2, "(H_out, W_out)")
    dx = _array(dx, "dx", 2, "(H, W)")
    if dx.shape != x.shape:
        raise ValueError(f"dx has shape {dx.shape} but x has {x.shape}; they must match")
    if mode not in _MODES:
        raise ValueError(f"mode must be 'max' or 'avg'; got {mode!r}")
    is_max = _MODES[mode] == "max"
    windows, overlap = [], False
    if size is not None:
        kh, kw = _pair(size, "size", minimum=1)
        sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", minimum=1)
        windows, shape = _pool_windows(x, kh, kw, sh, sw)
        if shape != dout.shape:
            raise ValueError(
                f"dout has shape {dout.shape}, but {kh}×{kw} windows with stride ({sh}, {sw}) "
                f"on a {x.shape[0]}×{x.shape[1]} input give {shape}"
            )
        overlap = (sh < kh or sw < kw) and len(windows) > 1
    W_out = dout.shape[1]
    got = (dx != 0) if is_max else np.zeros(dx.shape, dtype=bool)
    H, W = x.shape
    dec_x = _decimals_for(x)
    dec_g = _decimals_for(dout, dx)
    units = 2 * W + dout.shape[1] + 2.0
    cell = min(0.5, 8.2 / units)
    rows = max(H, dout.shape[0])
    strip = overlap and len(windows) <= 16
    n_small = len(windows) if strip else 0
    small_w = min(1.1, MAX_WIDTH / max(1, n_small)) if strip else 0.0
    top_h = rows * cell + (1.2 if title else 0.8)
    fig = _new_figure(
        max(units * cell + 0.6, 5.0), top_h + (small_w * H / W + 0.35 if strip else 0)
    )
    if strip:
        outer = fig.add_gridspec(2, 1, height_ratios=[top_h, small_w * H / W + 0.35])
        gs = outer[0].subgridspec(1, 5, width_ratios=[W, 1, dout.shape[1], 1, W])
    else:
        gs = fig.add_gridspec(1, 5, width_ratios=[W, 1, dout.shape[1], 1, W])
    ax_x, ax_d, ax_dx = (fig.add_subplot(gs[0, k]) for k in (0, 2, 4))

    face = _solid(x.shape, CELL)
    face[got] = mcolors.to_rgba(ACCENT_FILL)
    tx = _strings(x, dec_x)
    _grid(ax_x, face, tx, fontsize=_fontsize(cell, tx.ravel()), bold=got)

    if windows:
        face_d = np.array(
            [
                [_tint(_window_colour(a, c, W_out), 0.72) for c in range(W_out)]
                for a in range(dout.shape[0])
            ]
        )
    else:
        face_d = _solid(dout.shape, CELL)
    td = _strings(dout, dec_g)
    _grid(ax_d, face_d, td, fontsize=_fontsize(cell, td.ravel()))

    face_dx = _solid(dx.shape, EMPTY)
    face_dx[got] = mcolors.to_rgba(ACCENT_FILL)
    tdx = _strings(dx, dec_g)
    routed = got if is_max else dx != 0
    ink = [[INK if routed[r, c] else PAD_INK for c in range(W)] for r in range(H)]
    _grid(ax_dx, face_dx, tdx, fontsize=_fontsize(cell, tdx.ravel()), text_color=ink, bold=got)
    if not overlap:
        for a, c, r0, c0 in windows:
            for ax in (ax_x, ax_dx):
                _outline(ax, r0, c0, kh, kw, _window_colour(a, c, W_out), lw=2.0, inset=0.06)
    for ax in (ax_x, ax_dx):
        for r, c in zip(*np.nonzero(got), strict=True):
            _outline(ax, r, c, 1, 1, ACCENT, lw=2.5, inset=0.12, zorder=6)

    if strip:
        small = outer[1].subgridspec(1, n_small, wspace=0.15)
        for k, (a, c, r0, c0) in enumerate(windows):
            ax = fig.add_subplot(small[0, k])
            colour = _window_colour(a, c, W_out)
            face_w = _solid(x.shape, EMPTY)
            face_w[r0 : r0 + kh, c0 : c0 + kw] = _tint(colour, 0.55)
            _grid(ax, face_w, None, fontsize=6, edgecolor="#d0d7de")
            _outline(ax, r0, c0, kh, kw, colour, lw=1.6, inset=0.0)
            if is_max:
                win = x[r0 : r0 + kh, c0 : c0 + kw]
                p, q = np.unravel_index(np.argmax(win), win.shape)
                ax.plot(c0 + q, r0 + p, "o", ms=5, mfc=ACCENT, mec=INK, mew=0.6, zorder=7)
            ax.set_title(f"window ({a}, {c})", fontsize=7.5, color=INK, pad=2)

    ax_x.set_title("x (input)")
    ax_d.set_title("dout (upstream)")
    ax_dx.set_title("dx = gradient w.r.t. x")
    _between(fig, ax_d, ax_dx, "→", fontsize=20)
    default = (
        "max-pool backward: each dout value goes to the max of its window"
        if is_max
        else "average-pool backward: each window shares its dout among all its inputs"
    )
    fig.suptitle(title or default)
    return fig


# ---------------------------------------------------------------------------------------
# Channels, padding, shift equivariance
# ---------------------------------------------------------------------------------------
@_styled
def show_channels(X, K, Y=None, *, i=0, j=0, padding=0, stride=1, bias=0.0):
    """Several input channels: each channel X[c] is cross-correlated with its kernel slice
    K[c] and the results are summed into one output (lecture 000, the "= 56" figure).

    Args:
        X: input, shape (C_in, H, W).
        K: kernel, shape (C_in, KH, KW) (or (1, C_in, KH, KW)).
        Y: the output to show (e.g. the student's), shape (H_out, W_out); computed here
            when None.
        i, j: the output position whose sum is written out and outlined.
        padding, stride, bias: as in ``show_correlation_step``.
    Returns:
        The Figure.
    """
    X = _array(X, "X", 3, "(C_in, H, W)")
    K = _array(K, "K", 3, "(C_in, KH, KW)")
    C = X.shape[0]
    if K.shape[0] != C:
        raise ValueError(
            f"X has C_in={C} channels but K has {K.shape[0]}; K must be (C_in, KH, KW)"
        )
    if C > 8:
        raise ValueError(f"X has {C} channels; draw at most 8 (e.g. X[:3], K[:3])")
    pad = _padding(padding)
    stride = _pair(stride, "stride", minimum=1)
    Xp = np.stack([_padded(x, pad) for x in X])
    H_out = _out_size(Xp.shape[1], K.shape[1], stride[0], "input height")
    W_out = _out_size(Xp.shape[2], K.shape[2], stride[1], "input width")
    Y_ref = sum(_corr(Xp[c], K[c], stride, 0.0) for c in range(C)) + float(bias)
    if Y is None:
        Y = Y_ref
    else:
        Y = _array(Y, "Y", 2, "(H_out, W_out)")
        if Y.shape != (H_out, W_out):
            raise ValueError(f"Y has shape {Y.shape}, expected {(H_out, W_out)}")
    i, j = _check_position(i, j, (H_out, W_out))
    sh, sw = stride
    r0, c0 = i * sh, j * sw
    _, Hp, Wp = Xp.shape
    _, KH, KW = K.shape
    t, _, l, _ = pad
    H, W = X.shape[1:]

    gap = 1.0
    units = Wp + KW + W_out + 2 * gap
    cell = min(0.48, 7.8 / units, 6.0 / (C * Hp + (C - 1) * 1.2))
    dec = _decimals_for(Xp, K)
    dec_y = _decimals_for(Y, Y_ref)
    groups = []
    for c in range(C):
        win = Xp[c, r0 : r0 + KH, c0 : c0 + KW]
        terms = [
            f"{_term(win[a, q], dec)}·{_term(K[c, a, q], dec)}"
            for a in range(KH)
            for q in range(KW)
        ]
        groups.append(["(" + " + ".join(terms) + ")"])
    tail = "" if bias == 0 else f" + {_term(bias, dec_y)}"
    width = max(units * cell + 0.6, 5.0)
    lines = _sum_lines(
        f"Y[{i}, {j}] = ", groups, tail, _fmt(Y_ref[i, j], dec_y), _caption_width(width, 10.5)
    )
    # widen the figure (up to MAX_WIDTH), then shrink the font, until the sum fits
    longest = max(len(line) for line in lines)
    width = min(MAX_WIDTH, max(width, longest * 0.61 * 10.5 / 72 + 0.3))
    caption_fs = min(10.5, (width - 0.3) * 72 / (0.61 * longest))
    fig = _new_figure(width, C * Hp * cell + (C - 1) * 0.45 + 0.5 + 0.2 * len(lines))
    ratios = [Wp, gap, KW, gap, W_out]
    side = max(0.0, (width - 0.5) / cell - sum(ratios)) / 2  # keep the cells square
    gs = fig.add_gridspec(C, 7, width_ratios=[side + 1e-6, *ratios, side + 1e-6])
    real = np.zeros((Hp, Wp), dtype=bool)
    real[t : t + H, l : l + W] = True
    ax_xs, ax_ks = [], []
    for c in range(C):
        ax_x = fig.add_subplot(gs[c, 1])
        ax_k = fig.add_subplot(gs[c, 3])
        face = _solid((Hp, Wp), CELL)
        face[~real] = mcolors.to_rgba(PAD)
        face[r0 : r0 + KH, c0 : c0 + KW] = mcolors.to_rgba(ACCENT_FILL)
        tx = _strings(Xp[c], dec)
        ink = [[INK if real[a, q] else PAD_INK for q in range(Wp)] for a in range(Hp)]
        _grid(ax_x, face, tx, fontsize=_fontsize(cell, tx.ravel()), text_color=ink)
        _outline(ax_x, r0, c0, KH, KW, ACCENT)
        tk = _strings(K[c], dec)
        _grid(ax_k, _solid((KH, KW), ACCENT_FILL), tk, fontsize=_fontsize(cell, tk.ravel()))
        _outline(ax_k, 0, 0, KH, KW, ACCENT)
        ax_x.set_title(f"X[{c}]", fontsize=10)
        ax_k.set_title(f"K[{c}]", fontsize=10)
        _between(fig, ax_x, ax_k, "⋆", fontsize=26)
        if c > 0:
            _between(fig, ax_ks[-1], ax_k, "+", fontsize=16)
        ax_xs.append(ax_x)
        ax_ks.append(ax_k)
    ax_y = fig.add_subplot(gs[:, 5])
    face_y = _solid(Y.shape, DONE)
    face_y[i, j] = mcolors.to_rgba(ACCENT_FILL)
    ty = _strings(Y, dec_y)
    _grid(ax_y, face_y, ty, fontsize=_fontsize(cell, ty.ravel()))
    _outline(ax_y, i, j, 1, 1, ACCENT)
    ax_y.set_title("output Y", fontsize=10)
    _between(fig, ax_ks[C // 2] if C % 2 else ax_ks[0], ax_y, "=", fontsize=16)
    fig.supxlabel(
        "\n".join(lines), fontsize=caption_fs, family=MONO, color=INK, multialignment="left"
    )
    return fig


@_styled
def show_padding(X, padding, *, ax=None, title=None):
    """The zero-padded array, the added border shaded grey and the original outlined.

    Args:
        X: shape (H, W).
        padding: per side: int, (ph, pw) or ((top, bottom), (left, right)).
        ax: draw into this axes.
        title: default says the padding and the shapes.
    Returns:
        The Figure.
    """
    X = _array(X, "X", 2, "(H, W)")
    pad = _padding(padding)
    t, _, l, _ = pad
    Xp = _padded(X, pad)
    H, W = X.shape
    Hp, Wp = Xp.shape
    real = np.zeros(Xp.shape, dtype=bool)
    real[t : t + H, l : l + W] = True
    if ax is None:
        cell = min(0.5, 7.0 / Wp, 6.0 / Hp)
        fig = _new_figure(max(Wp * cell + 0.4, 3.6), Hp * cell + 0.75)
        ax = fig.add_subplot()
    else:
        fig = _adopt(ax)
        cell = 0.85 * _cell_inches(ax, Hp, Wp)
    face = _solid(Xp.shape, CELL)
    face[~real] = mcolors.to_rgba(PAD)
    text = _strings(Xp, _decimals_for(X))
    ink = [[INK if real[a, c] else PAD_INK for c in range(Wp)] for a in range(Hp)]
    _grid(ax, face, text, fontsize=_fontsize(cell, text.ravel()), text_color=ink)
    _outline(ax, t, l, H, W, "#0b5cad", lw=2.2, inset=0.0)
    ax.set_title(title or f"X {H}×{W} → {Hp}×{Wp}\npadding {_describe_padding(pad)}")
    return fig


def _rightward_shift(image: np.ndarray, shifted: np.ndarray) -> int:
    """The dx >= 1 with shifted[:, dx:] == image[:, :-dx] (the smallest), else an error."""
    W = image.shape[1]
    for dx in range(1, W):
        if np.allclose(shifted[:, dx:], image[:, : W - dx]):
            return dx
    raise ValueError(
        "shifted must be image moved to the right by some dx >= 1 "
        "(shifted[:, dx:] == image[:, :-dx]); no such dx was found"
    )


@_styled
def show_shift_equivariance(image, shifted, out, out_shifted):
    """corr(g(X)) = g(corr(X)), and where it fails. Top row: X, corr(X) and corr(X)
    shifted; bottom row: g(X) (X shifted right by dx, zeros coming in), corr(g(X)), and the
    difference corr(g(X)) - g(corr(X)). A ring marks the strongest response in each output,
    so the feature can be seen moving with the input; the difference is zero except in a
    thin strip of columns next to the zeros, shown enlarged.

    Args:
        image: X, shape (H, W).
        shifted: g(X): X moved dx >= 1 pixels to the right (dx is read from the two).
        out: corr(X).
        out_shifted: corr(g(X)), same shape as ``out``.
    Returns:
        The Figure (2 × 3 panels).
    """
    image = _array(image, "image", 2, "(H, W)")
    shifted = _array(shifted, "shifted", 2, "(H, W)")
    out = _array(out, "out", 2, "(H_out, W_out)")
    out_shifted = _array(out_shifted, "out_shifted", 2, "(H_out, W_out)")
    if shifted.shape != image.shape:
        raise ValueError(f"shifted has shape {shifted.shape}, image has {image.shape}")
    if out_shifted.shape != out.shape:
        raise ValueError(f"out_shifted has shape {out_shifted.shape}, out has {out.shape}")
    dx = _rightward_shift(image, shifted)
    g_out = np.zeros_like(out)
    g_out[:, dx:] = out[:, : out.shape[1] - dx]
    diff = out_shifted - g_out
    differ = np.flatnonzero(np.abs(diff).max(axis=0) > 1e-9 * max(1.0, np.abs(out).max()))

    aspect = image.shape[0] / image.shape[1]
    panel = MAX_WIDTH / 3
    fig = _new_figure(MAX_WIDTH, 2 * panel * aspect + 1.0)
    axes = fig.subplots(2, 3)
    # one scale for the three outputs and the difference; the 99th percentile of |corr(X)|
    # (not its maximum), so that ordinary edges are drawn in colour, not near-white
    mags = np.abs(out[np.isfinite(out)])
    vlim = float(np.percentile(mags, 99) if mags.size >= 1024 else mags.max()) or 1.0
    panels = [
        (image, "X", None),
        (out, "corr(X)", vlim),
        (g_out, f"g(corr(X)): shifted by {dx}", vlim),
        (shifted, f"g(X): X shifted by {dx}", None),
        (out_shifted, "corr(g(X))", vlim),
        (diff, "corr(g(X)) − g(corr(X))", vlim),
    ]
    for ax, (img, t, v) in zip(axes.flat, panels, strict=True):
        signed = v is not None and (_is_signed(out) or _is_signed(img))
        _imshow(ax, img, "gray", signed, vlim=v if signed else None)
        ax.set_title(t, fontsize=10)
    for ax, o in ((axes[0, 1], out), (axes[0, 2], g_out), (axes[1, 1], out_shifted)):
        r, c = np.unravel_index(np.argmax(np.abs(o)), o.shape)
        ax.plot(c, r, "o", ms=14, mfc="none", mec="#f5b700", mew=2.2)
    for row in axes:
        _between(fig, row[0], row[1], "→", fontsize=16)
    ax = axes[1, 2]
    if differ.size:
        c0, c1 = int(differ[0]), int(differ[-1])
        # enlarge a piece of the strip: a few columns either side of it, a band of rows
        H_out = out.shape[0]
        r0 = H_out // 3
        r1 = min(H_out, r0 + 24)
        x0, x1 = max(0, c0 - 6), min(out.shape[1], c1 + 7)
        zoom = ax.inset_axes([0.38, 0.06, 0.58, 0.56])
        zoom.imshow(
            diff[r0:r1, x0:x1],
            cmap=DIVERGING,
            vmin=-vlim,
            vmax=vlim,
            interpolation="nearest",
            aspect="auto",
            extent=(x0 - 0.5, x1 - 0.5, r1 - 0.5, r0 - 0.5),
        )
        zoom.set_xticks([])
        zoom.set_yticks([])
        zoom.set_title("enlarged", fontsize=8, color=MUTED, pad=2)
        for spine in zoom.spines.values():
            spine.set_visible(True)
            spine.set_edgecolor(ACCENT)
        ax.indicate_inset_zoom(zoom, edgecolor=ACCENT)
        cols = f"column {c0}" if c1 == c0 else f"columns {c0}–{c1}"
        ax.set_xlabel(f"zero except {cols}", fontsize=9, color=INK)
    else:
        ax.set_xlabel("zero everywhere", fontsize=9, color=INK)
    fig.suptitle(f"Shift the input by {dx}: the output shifts the same way, except at the zeros")
    return fig


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------
def _history_columns(history) -> dict[str, np.ndarray]:
    if isinstance(history, Mapping):
        cols = {k: np.asarray(v, dtype=float) for k, v in history.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"history lists have different lengths: {sorted(lengths)}")
        return cols
    if isinstance(history, Sequence) and all(isinstance(h, Mapping) for h in history):
        keys = list(dict.fromkeys(k for h in history for k in h))
        return {k: np.array([float(h.get(k, np.nan)) for h in history]) for k in keys}
    raise ValueError(
        "history must be a list of per-epoch dicts ({'loss': ..., 'val_loss': ...}) "
        "or a dict of lists"
    )


_METRIC_NAMES = {"acc": "accuracy", "loss": "loss"}


@_styled
def plot_history(history, *, metrics=("loss", "acc"), axes=None):
    """Training curves, one panel per metric: train, and validation or test, together.

    Args:
        history: a list of per-epoch dicts with keys like "loss", "acc" (or "train_loss"),
            and "val_loss", "val_acc" for a validation set or "test_loss", "test_acc" for a
            test set (each curve is labelled by what it is), or a dict of lists.
        metrics: which metrics, one panel each.
        axes: draw into these axes (one per metric).
    Returns:
        The Figure.
    """
    cols = _history_columns(history)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not cols or not metrics:
        raise ValueError("history and metrics must not be empty")
    found = {}
    for m in metrics:
        curves = [
            (label, cols.get(key))
            for label, key in (("train", m), ("validation", f"val_{m}"), ("test", f"test_{m}"))
        ]
        if cols.get(m) is None and cols.get(f"train_{m}") is not None:
            curves[0] = ("train", cols[f"train_{m}"])
        curves = [(label, values) for label, values in curves if values is not None]
        if not curves:
            raise ValueError(
                f"history has no {m!r}, 'val_{m}' or 'test_{m}'; its keys are {sorted(cols)}"
            )
        found[m] = curves
    if axes is None:
        fig = _new_figure(min(MAX_WIDTH, 4.3 * len(metrics)), 3.2)
        axes = np.atleast_1d(fig.subplots(1, len(metrics))).ravel()
    else:
        axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        if len(axes) != len(metrics):
            raise ValueError(f"got {len(axes)} axes for {len(metrics)} metrics")
        fig = _adopt(axes[0])
    colours = {"train": PALETTE[0], "validation": PALETTE[1], "test": PALETTE[2]}
    for ax, m in zip(axes, metrics, strict=True):
        n = len(found[m][0][1])
        epochs = np.arange(1, n + 1)
        style = {"marker": "o", "ms": 4} if n <= 30 else {}
        broken = []
        for label, values in found[m]:
            ax.plot(epochs, values, color=colours[label], label=label, lw=2, **style)
            bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float)))
            if bad.size:
                broken.append(f"{label}: inf or NaN from epoch {bad[0] + 1}")
        if broken:  # nothing finite to draw there: say so instead of an empty panel
            ax.text(
                0.5,
                0.5,
                "\n".join(broken),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                color="#cf222e",
            )
        ax.set_title(_METRIC_NAMES.get(m, m))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if n <= 12:
            ax.set_xticks(epochs)
        ax.legend()
    return fig


@_styled
def show_confusion(y_true, y_pred, *, labels=range(10), ax=None, title=None):
    """Confusion matrix with counts: row = true class, column = predicted class.

    Args:
        y_true: true labels, shape (N,).
        y_pred: predicted labels, shape (N,).
        labels: the classes, in display order.
        ax: draw into this axes.
        title: default gives the accuracy.
    Returns:
        The Figure.
    """
    y_true = _to_numpy(y_true, "y_true").ravel()
    y_pred = _to_numpy(y_pred, "y_pred").ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    labels = list(labels)
    index = {v: k for k, v in enumerate(labels)}
    unknown = sorted({v for v in np.concatenate([y_true, y_pred]).tolist() if v not in index})
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not in labels={labels}")
    n = len(labels)
    M = np.zeros((n, n), dtype=int)
    for t_, p_ in zip(y_true.tolist(), y_pred.tolist(), strict=True):
        M[index[t_], index[p_]] += 1
    if ax is None:
        cell = min(0.45, 7.0 / n)
        fig = _new_figure(n * cell + 1.4, n * cell + 1.2)
        ax = fig.add_subplot()
    else:
        fig = _adopt(ax)
        cell = 0.85 * _cell_inches(ax, n, n)
    face, _ = _value_colors(M.astype(float), "Blues")
    text = _strings(M, 0)
    ink = [[_ink_on(face[a, c]) if M[a, c] else "#b0b7bf" for c in range(n)] for a in range(n)]
    _grid(
        ax,
        face,
        text,
        fontsize=_fontsize(cell, text.ravel(), largest=10),
        text_color=ink,
        bold=np.eye(n, dtype=bool),
    )
    ax.set_xticks(range(n), [str(v) for v in labels])
    ax.set_yticks(range(n), [str(v) for v in labels])
    ax.tick_params(length=0)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(M) / max(1, M.sum())
    ax.set_title(title or f"confusion matrix: {M.sum()} examples, accuracy {acc:.1%}")
    return fig


@_styled
def show_digits(images, labels=None, preds=None, *, ncols=10, limit=100, suptitle=None):
    """MNIST digits in a grid; titles give the label, or the prediction, and wrong
    predictions are titled in red with the true label in brackets.

    Args:
        images: (N, 28, 28), (N, 1, 28, 28) or (N, 784).
        labels: true labels, shape (N,).
        preds: predicted labels, shape (N,).
        ncols: digits per row.
        limit: draw at most this many (the first ones).
        suptitle: a title over the grid.
    Returns:
        The Figure.
    """
    arr = _to_numpy(images, "images").astype(float)
    if arr.ndim == 2 and math.isqrt(arr.shape[1]) ** 2 == arr.shape[1] and arr.shape[1] > 1:
        side = math.isqrt(arr.shape[1])
        arr = arr.reshape(-1, side, side)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise ValueError(f"images must be (N, 28, 28), (N, 1, 28, 28) or (N, 784); got {arr.shape}")
    N = arr.shape[0]
    for name, v in (("labels", labels), ("preds", preds)):
        if v is not None and len(_to_numpy(v, name).ravel()) != N:
            raise ValueError(f"{name} has {len(_to_numpy(v, name).ravel())} entries for {N} images")
    labels = None if labels is None else _to_numpy(labels, "labels").ravel()
    preds = None if preds is None else _to_numpy(preds, "preds").ravel()
    n = min(N, int(limit))
    if n == 0:
        raise ValueError("images is empty")
    panel = min(0.9, MAX_WIDTH / max(1, min(ncols, n)))
    titled = labels is not None or preds is not None
    fig, axes, _ = _subplots_grid(
        n, ncols, panel, panel + (0.22 if titled else 0), extra_h=0.35 if suptitle else 0
    )
    wrong = 0
    for k, ax in enumerate(axes):
        ax.imshow(arr[k], cmap="gray_r", interpolation="nearest")
        ax.set_axis_off()
        if preds is not None:
            p = int(preds[k])
            if labels is not None and int(labels[k]) != p:
                ax.set_title(
                    f"{p} (true {int(labels[k])})", fontsize=8.5, color="#cf222e", fontweight="bold"
                )
                wrong += 1
            else:
                ax.set_title(str(p), fontsize=9, color=INK)
        elif labels is not None:
            ax.set_title(str(int(labels[k])), fontsize=9, color=INK)
    if suptitle is None and preds is not None and labels is not None:
        # of the digits drawn, which may have been picked because they are wrong
        suptitle = (
            f"all {n} digits shown are misclassified: prediction (true label in brackets)"
            if wrong == n
            else f"{wrong} of the {n} digits shown are misclassified (red, true label in brackets)"
        )
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig
