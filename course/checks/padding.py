"""Visible checks for assignment 02, padding and stride.

    from course.checks import padding as checks
    checks.check_output_size(output_size)

One check per exercise. The expected values are the lectures' worked examples (written
as constants) and cases computed by torch (`course.checks._oracle`), chosen so that each
catalogued mistake gives an output different from the right one on some case, and is
named when a student's output equals it.

Conventions (docs/design.md): `padding` counts zeros added on *each* side (torch's
convention; lectures 001, 003, 004); `total_padding` counts all rows added (lectures 000
and 002); "convolution" means cross-correlation (no kernel flip).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course.checks import _oracle
from course.checks._core import (
    Case,
    CheckFailed,
    Mistake,
    Part,
    check,
    check_answer,
    check_quiz,
    fmt,
    mistake_family,
    numbers,
    passed,
    require_float,
)
from course.checks._mutate import Knob, recipe_variants
from course.checks._oracle import pair as _pair
from course.checks._oracle import sides as _sides

__all__ = [
    "check_corr2d_dilated",
    "check_corr2d_padded",
    "check_fit_quiz",
    "check_output_size",
    "check_output_size_total",
    "check_pad2d",
    "check_q2",
    "check_same_padding",
]

# Digests of the quiz answers (course.checks.answer_digest); the answers are not stored.
Q2_DIGEST = "8c7e5d257a17d669"
FIT_SHAPE_DIGEST = "88556032dc66841b"
FIT_UNUSED_DIGEST = "6b86b273ff34fce1"

PER_SIDE = "H_out = floor((H + 2p - K) / s) + 1 with p zeros on each side"
POINTER_SIZE = (
    f"Revisit the output-size formula of lectures 001, 003 and 004: {PER_SIDE}: count the "
    "positions where a window starts, 0, s, 2s, ..., up to H + 2p - K."
)
POINTER_TOTAL = (
    "Revisit lecture 000's formula with total padding p: H_out = floor((H - K + p + s) / s)."
)
POINTER_PAD = (
    "Revisit lecture 000's padding slide: the zeros form a frame around X, `top` rows above, "
    "`bottom` rows below, `left` columns before and `right` columns after."
)
POINTER_SAME = (
    "Revisit lecture 000's rule: pad p = K - 1 rows in total, ceil(p/2) on top and "
    "floor(p/2) at the bottom."
)
POINTER_CORR = (
    "Revisit lecture 000's stride slide: pad first, then Y[i, j] = sum(Xp[i*sh : i*sh + KH, "
    "j*sw : j*sw + KW] * K) for every i < H_out and j < W_out."
)
POINTER_DILATED = (
    "Revisit lecture 001's dilation slide: kernel tap (a, b) reads Xp[i*sh + a*dh, "
    "j*sw + b*dw], so the kernel covers dh*(KH-1)+1 rows and dw*(KW-1)+1 columns."
)


# ---------------------------------------------------------------------------------------
# Small helpers (how torch reads the arguments; none of them is an exercise's solution)
# ---------------------------------------------------------------------------------------


#: Zero padding of (H, W) by torch (F.pad), the padding in any of its three forms.
_torch_pad = _oracle.good_pad2d


def _torch_size(n: int, k: int, before: int, after: int, stride: int, dilation: int = 1) -> int:
    """Output length along one axis, read off the shape of a torch conv2d."""
    X = np.zeros((1, n))
    K = np.zeros((1, k))
    out = _oracle.corr2d(
        X, K, padding=((0, 0), (before, after)), stride=(1, stride), dilation=(1, dilation)
    )
    return int(out.shape[1])


def _arg(case: Case, name: str, default: Any) -> Any:
    return case.kwargs.get(name, default)


def _require_ints(fn: Callable, name: str, cases: Sequence[Case], how: str) -> None:
    """A size is used as an array shape and a slice bound: it must be a Python/numpy int."""
    __tracebackhide__ = True
    for case in cases:
        got = fn(*case.args, **case.kwargs)
        values = got if isinstance(got, (tuple, list)) else (got,)
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            shown = ", ".join(f"{v} ({type(v).__name__})" for v in values)
            raise CheckFailed(
                f"{case.call_text(name)} on {case.label} returned {shown}, "
                f"but a size must be an int: np.zeros and slicing refuse floats. {how}",
                mistake="returns_float",
                case=case.label,
            )


# ---------------------------------------------------------------------------------------
# Exercise 2.1: output_size, per-side padding
# ---------------------------------------------------------------------------------------


def _size_case(label: str, n: int, k: int, padding: int, stride: int, expected=None) -> Case:
    if expected is None:
        expected = _torch_size(n, k, padding, padding, stride)
    return Case(label, (n, k), expected, {"padding": padding, "stride": stride})


def _output_size_cases() -> list[Case]:
    return [
        # Lecture 003: 32×32×3 input, ten 5×5 filters, stride 1, pad 2 → 32×32×10.
        _size_case("lecture 003's 32×32 input, 5×5 filters, pad 2", 32, 5, 2, 1, 32),
        # Lecture 003: AlexNet CONV1, 227×227, 11×11 filters, stride 4 → 55×55.
        _size_case("lecture 003's AlexNet CONV1 (227, 11×11, stride 4)", 227, 11, 0, 4, 55),
        # Lecture 004: i = 6, k = 3, s = 2, p = 1 → 3.
        _size_case("lecture 004's i=6, k=3, s=2, p=1", 6, 3, 1, 2, 3),
        _size_case("a stride that does not fit (10, 3, stride 3)", 10, 3, 0, 3),
        _size_case("lecture 004's 'half padding' (5, 3, pad 1)", 5, 3, 1, 1, 5),
        _size_case("lecture 004's 'full padding' (5, 3, pad 2)", 5, 3, 2, 1),
        _size_case("lecture 003's 1×1 input, 5×5 filter, pad 2", 1, 5, 2, 1, 1),
        _size_case("a kernel as large as the input (9, 9)", 9, 9, 0, 1),
        _size_case("padding and a stride that does not fit (12, 4, pad 3, stride 5)", 12, 4, 3, 5),
    ]


#: formula(n, k, padding, stride)
_size_mistake = mistake_family(lambda c: (*c.args, _arg(c, "padding", 0), _arg(c, "stride", 1)))


OUTPUT_SIZE_MISTAKES = (
    _size_mistake(
        "padding_counted_once",
        "the padding was added once, (H + p - K), instead of on both sides",
        "`padding` is per side: a frame of p zeros adds 2p rows, so use H + 2p - K "
        "(lecture 003: (32 + 2*2 - 5)/1 + 1 = 32).",
        lambda n, k, p, s: (n + p - k) // s + 1,
    ),
    _size_mistake(
        "plus_one_forgotten",
        "the + 1 is missing: (H + 2p - K) // s counts the steps between windows, not the windows",
        "Add 1 for the window that starts at position 0 (lecture 004: floor((i+2p-k)/s) + 1).",
        lambda n, k, p, s: (n + 2 * p - k) // s,
    ),
    _size_mistake(
        "stride_ignored",
        "the stride has no effect: H + 2p - K + 1 is the size at stride 1 (the stride was "
        "left out, or a division by it lost its parentheses)",
        "Windows start every s positions, so divide the room H + 2p - K by s before adding 1.",
        lambda n, k, p, s: n + 2 * p - k + 1,
    ),
    _size_mistake(
        "true_division",
        "you divided with `/`, which gives a fraction when the stride does not fit exactly",
        "Use floor division `//`: a window that would run past the edge is dropped (lecture "
        "003's 'doesn't fit' case; torch floors too).",
        lambda n, k, p, s: (n + 2 * p - k) / s + 1,
    ),
    _size_mistake(
        "ceil_instead_of_floor",
        "you rounded up (ceil) instead of down: the last window would run past the padded input",
        "Round down with `//`; only windows that fit entirely inside the padded input count.",
        lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1,
    ),
)


def _size_recipe(case: Case, *, pad="both", plus_one="outside", rounding="floor", stride="used"):
    """The output size under a formula with settings changed (`SIZE_KNOBS`)."""
    n, k = case.args
    p, s = _arg(case, "padding", 0), _arg(case, "stride", 1)
    added = {"both": 2 * p, "once": p, "after": 0}[pad]
    room = n + added - k + (1 if plus_one == "inside" else 0)
    s = 1 if stride == "ignored" else s
    steps = {"floor": room // s, "ceil": -(-room // s), "true": room / s}[rounding]
    return steps + (1 if plus_one == "outside" else 0) + (2 * p if pad == "after" else 0)


#: The output-size formula's settings, each with the neighbours students pick; every
#: formula with one or two of them changed is tried when no catalogue entry explains the
#: sizes (course.checks._mutate.recipe_variants).
SIZE_KNOBS = (
    Knob("pad", "both", {
        "once": ("the padding was added once (H + p - K)",
                 "`padding` is per side: use H + 2p - K."),
        "after": ("the padding was added after the division by the stride, (H - K) // s "
                  "+ 1 + 2p, which is only right for stride 1",
                  "The padded input is what the windows slide over: (H + 2p - K) // s + 1."),
    }),
    Knob("plus_one", "outside", {
        "none": ("the + 1 is missing", "Add 1 for the window that starts at position 0."),
        "inside": ("the + 1 is inside the division, (H + 2p - K + 1) // s, which is only "
                   "right for stride 1", "Divide the room by s first, then add 1: "
                   "(H + 2p - K) // s + 1."),
    }),
    Knob("rounding", "floor", {
        "ceil": ("the division rounds up", "Round down with `//`."),
        "true": ("the division is `/`", "Use floor division `//`."),
    }),
    Knob("stride", "used", {"ignored": ("the stride was ignored", "Divide the room by s.")}),
)  # fmt: skip
SIZE_RECIPES = recipe_variants(SIZE_KNOBS, _size_recipe, prefix="size")


def check_output_size(fn: Callable) -> None:
    """Exercise 2.1: output_size(n, k, *, padding=0, stride=1) with per-side padding."""
    __tracebackhide__ = True
    cases = _output_size_cases()
    check(
        fn,
        name="output_size",
        cases=cases,
        mistakes=OUTPUT_SIZE_MISTAKES,
        oracle=_oracle.good_output_size,
        pointer=POINTER_SIZE,
        quiet=True,
        recipes=SIZE_RECIPES,
    )
    _require_ints(
        fn, "output_size", cases, "Use floor division `//` (or int(...) of an exact result)."
    )
    passed("output_size", [c.label for c in cases])


# ---------------------------------------------------------------------------------------
# Exercise 2.2: output_size_total, lecture 000's total padding
# ---------------------------------------------------------------------------------------


def _total_case(label: str, n: int, k: int, total: int, stride: int, expected=None) -> Case:
    if expected is None:
        # Lecture 000 splits an odd total as ceil(p/2) before, floor(p/2) after.
        expected = _torch_size(n, k, total - total // 2, total // 2, stride)
    return Case(label, (n, k), expected, {"total_padding": total, "stride": stride})


def _output_size_total_cases() -> list[Case]:
    return [
        # Lecture 000: 3×3 input, 2×2 kernel, one ring of zeros (2 rows in total) → 4×4.
        _total_case(
            "lecture 000's padding example (3×3, 2×2 kernel, 2 rows in total)", 3, 2, 2, 1, 4
        ),
        _total_case("a 32×32 input, 5×5 kernel, 4 rows in total", 32, 5, 4, 1),
        _total_case("lecture 003's AlexNet CONV1 (227, 11×11, stride 4)", 227, 11, 0, 4, 55),
        _total_case("an even kernel with an odd total (5, 2, total 1)", 5, 2, 1, 1),
        _total_case("a stride that does not fit (6, 3, total 2, stride 2)", 6, 3, 2, 2),
        _total_case("a stride that does not fit (10, 3, no padding, stride 3)", 10, 3, 0, 3),
        _total_case("lecture 000's p = k - 1 with stride 3 (11, 4, total 3)", 11, 4, 3, 3),
        # (H - K) % s + p % s == s: a floor taken of each term apart loses a window.
        _total_case("remainders that add up to a stride (10, 3, total 1, stride 4)", 10, 3, 1, 4),
    ]


#: formula(n, k, total_padding, stride)
_total_mistake = mistake_family(
    lambda c: (*c.args, _arg(c, "total_padding", 0), _arg(c, "stride", 1))
)


OUTPUT_SIZE_TOTAL_MISTAKES = (
    _total_mistake(
        "padding_doubled",
        "the total padding was doubled (H + 2p - K): that is the per-side formula's 2p",
        "Here p already counts every added row (lecture 000): use H - K + p + s.",
        lambda n, k, p, s: (n - k + 2 * p + s) // s,
    ),
    _total_mistake(
        "plus_s_forgotten",
        "the + s is missing: floor((H - K + p) / s) counts the steps, not the windows",
        "The + s inside the floor is the + 1 of the per-side formula (s/s = 1).",
        lambda n, k, p, s: (n - k + p) // s,
    ),
    _total_mistake(
        "stride_ignored",
        "the stride has no effect: H - K + p + 1 is the size at stride 1 (the stride was "
        "left out, or only `s // s` was divided, without parentheses)",
        "Divide the whole numerator by s: lecture 000's formula is floor((H - K + p + s) / s), "
        "written `(H - K + p + s) // s`.",
        lambda n, k, p, s: n - k + p + 1,
    ),
    _total_mistake(
        "true_division",
        "you divided with `/`, which gives a fraction when the stride does not fit exactly",
        "Lecture 000's formula has a floor: use `//`.",
        lambda n, k, p, s: (n - k + p + s) / s,
    ),
    _total_mistake(
        "ceil_instead_of_floor",
        "you rounded up (ceil) instead of down",
        "Round down with `//`: a window that would run past the padded input is dropped.",
        lambda n, k, p, s: -(-(n - k + p + s) // s),
    ),
)


def _total_recipe(case: Case, *, pad="total", plus="s", rounding="floor", stride="used"):
    """The output size under lecture 000's formula with settings changed (`TOTAL_KNOBS`)."""
    n, k = case.args
    p, s = _arg(case, "total_padding", 0), _arg(case, "stride", 1)
    s = 1 if stride == "ignored" else s
    added = {"total": p, "doubled": 2 * p, "halved": 2 * (p // 2), "after": 0}[pad]
    room = n - k + added + {"s": s, "one": 1, "none": 0}[plus]
    steps = {"floor": room // s, "ceil": -(-room // s), "true": room / s}[rounding]
    return steps + (p if pad == "after" else 0)


#: Lecture 000's formula's settings, each with the neighbours students pick
#: (course.checks._mutate.recipe_variants).
TOTAL_KNOBS = (
    Knob("pad", "total", {
        "doubled": ("the total padding was doubled (H + 2p - K), the per-side formula's 2p",
                    "Here p already counts every added row: use H - K + p + s."),
        "halved": ("the total padding was halved with // into a per-side padding, so an odd "
                   "total loses a row", "Use the total p as it is: H - K + p + s."),
        "after": ("the padding was added after the division by the stride",
                  "The padded input is what the windows slide over: add p before dividing."),
    }),
    Knob("plus", "s", {
        "one": ("the numerator adds 1 instead of the stride, which is only right for "
                "stride 1", "The + s inside the floor is the per-side formula's + 1 (s/s)."),
        "none": ("the + s is missing", "Add s inside the floor (the window at position 0)."),
    }),
    Knob("rounding", "floor", {
        "ceil": ("the division rounds up", "Round down with `//`."),
        "true": ("the division is `/`", "Use floor division `//`."),
    }),
    Knob("stride", "used", {"ignored": ("the stride was ignored", "Divide by s.")}),
)  # fmt: skip
TOTAL_RECIPES = recipe_variants(TOTAL_KNOBS, _total_recipe, prefix="total")


def check_output_size_total(fn: Callable) -> None:
    """Exercise 2.2: output_size_total(n, k, *, total_padding=0, stride=1), lecture 000."""
    __tracebackhide__ = True
    cases = _output_size_total_cases()
    check(
        fn,
        name="output_size_total",
        cases=cases,
        mistakes=OUTPUT_SIZE_TOTAL_MISTAKES,
        pointer=POINTER_TOTAL,
        quiet=True,
        recipes=TOTAL_RECIPES,
    )
    _require_ints(fn, "output_size_total", cases, "Use floor division `//`.")
    passed("output_size_total", [c.label for c in cases])


# ---------------------------------------------------------------------------------------
# Exercise 2.3: quizzes (answers checked by digest)
# ---------------------------------------------------------------------------------------


def check_q2(answer: Any) -> None:
    """Lecture 000, Q2: a 7×7 input, a 3×3 kernel, stride 2, no padding."""
    __tracebackhide__ = True
    check_answer(
        answer,
        question="Q2 (7×7 input, 3×3 kernel, stride 2, no padding)",
        digest=Q2_DIGEST,
        hint="Give (rows, cols). Count the rows where a window can start: 0, 2, 4, ... while "
        "the window still ends inside the input; that is floor((7 - 3) / 2) + 1.",
    )


#: The 'doesn't fit' quiz in two parts: torch's output shape, then the unused input rows.
FIT_PARTS = (
    Part(
        FIT_SHAPE_DIGEST,
        "torch keeps only the windows that fit entirely: floor((7 - 3) / 3) + 1 per axis.",
        says="{} is not torch's output shape.",
        show=fmt,
    ),
    Part(
        FIT_UNUSED_DIGEST,
        "List the rows each window covers (0-2 for the first, then 3 rows further down) and "
        "count the rows of 0..6 left over.",
        says="{} is not the number of input rows that no window touches.",
        show=fmt,
    ),
)


def check_fit_quiz(answer: Any) -> None:
    """Lecture 003's 'doesn't fit' case: 7×7 input, 3×3 kernel, stride 3, no padding.

    `answer` is (rows, cols, unused_rows): torch's output shape and the number of input
    rows that no window touches. Each part is checked by its own digest so that the
    message says which part is wrong.
    """
    __tracebackhide__ = True
    question = "The 'doesn't fit' quiz (7×7 input, 3×3 kernel, stride 3)"

    def split(answer: Any) -> list:
        values = numbers(question, "three numbers (rows, cols, unused_rows)", 3)(answer)
        return [tuple(values[:2]), values[2]]

    check_quiz(answer, question, FIT_PARTS, split)


# ---------------------------------------------------------------------------------------
# Exercise 2.4: pad2d
# ---------------------------------------------------------------------------------------

LECTURE_X = np.arange(9.0).reshape(3, 3)
LECTURE_K = np.arange(4.0).reshape(2, 2)


def _pad2d_cases() -> list[Case]:
    rng = np.random.default_rng(2024)
    A = rng.integers(1, 10, size=(2, 3)).astype(float)
    B = rng.integers(1, 10, size=(3, 2)).astype(float)
    C = rng.integers(-5, 6, size=(4, 5)).astype(float)
    D = rng.standard_normal((3, 4))

    def case(label: str, X: np.ndarray, padding) -> Case:
        return Case(label, (X, padding), _torch_pad(X, _sides(padding)))

    return [
        case("lecture 000's 3×3 input with padding 2", LECTURE_X, 2),
        case("the lecture 000 example (padding 1, the 5×5 grid of the slide)", LECTURE_X, 1),
        case("a 2×3 input with padding (1, 2)", A, (1, 2)),
        case("a 3×2 input with padding ((2, 0), (1, 3))", B, ((2, 0), (1, 3))),
        case("a 4×5 input with the even-kernel padding ((1, 0), (1, 0))", C, ((1, 0), (1, 0))),
        case("a 3×4 input with padding (0, 1)", D, (0, 1)),
        case("a 3×4 input with padding 0", D, 0),
        # What shape arithmetic gives: an int of numpy's, not Python's.
        case("a 2×3 input with a numpy integer padding, np.int64(1)", A, np.int64(1)),
    ]


def _pad_mistake(key: str, says: str, hint: str, sides_wrong) -> Mistake:
    def wrong(case: Case):
        X, padding = case.args
        sides = sides_wrong(padding, _sides(padding))
        return None if sides is None else _torch_pad(X, sides)

    return Mistake(key, says, hint, wrong)


def _is_pair(padding) -> bool:
    return not np.isscalar(padding) and np.isscalar(padding[0])


def _is_nested(padding) -> bool:
    return not np.isscalar(padding) and not np.isscalar(padding[0])


def _ceil_floor(p: int) -> tuple[int, int]:
    return p - p // 2, p // 2


PAD2D_MISTAKES = (
    _pad_mistake(
        "returns_input",
        "your function returns X unchanged: no frame of zeros was added",
        "Allocate a zero array of shape (top + H + bottom, left + W + right) and copy X into "
        "its middle. If you halved `padding`, don't: it already counts the zeros per side.",
        lambda padding, s: ((0, 0), (0, 0)),
    ),
    _pad_mistake(
        "one_sided",
        "only the top and the left got zeros (the bottom rows and right columns are missing)",
        "The frame goes all around X: add `bottom` rows below and `right` columns after too.",
        lambda padding, s: ((s[0][0], 0), (s[1][0], 0)),
    ),
    _pad_mistake(
        "offset_forgotten",
        "the zero array has the right shape but X was copied into its top-left corner",
        "Copy X to Y[top : top + H, left : left + W], so the zeros surround it.",
        lambda padding, s: ((0, sum(s[0])), (0, sum(s[1]))),
    ),
    _pad_mistake(
        "total_as_per_side",
        "you read `padding` as the total number of rows (lecture 000's p) and split it between "
        "the two sides",
        "In this course `padding` counts the zeros on *each* side (torch's convention): "
        "padding=2 adds 2 rows on top and 2 at the bottom.",
        lambda padding, s: (
            None if _is_nested(padding) else (_ceil_floor(s[0][0]), _ceil_floor(s[1][0]))
        ),
    ),
    _pad_mistake(
        "rows_cols_swapped",
        "rows and columns are swapped: the row padding went on the columns",
        "The first number pads rows (height, above and below), the second pads columns "
        "(width, left and right), as in torch's `padding=(ph, pw)`.",
        lambda padding, s: (s[1], s[0]),
    ),
    _pad_mistake(
        "numpy_pair_semantics",
        "the pair (ph, pw) went straight to np.pad, which reads a pair as (before, after) "
        "for every axis",
        "Turn (ph, pw) into ((ph, ph), (pw, pw)) before calling np.pad.",
        lambda padding, s: ((s[0][0], s[1][0]),) * 2 if _is_pair(padding) else None,
    ),
    _pad_mistake(
        "nested_order_misread",
        "the nested form was read as ((top, left), (bottom, right))",
        "The nested form is ((top, bottom), (left, right)): one pair per axis, as in np.pad.",
        lambda padding, s: (
            ((s[0][0], s[1][0]), (s[0][1], s[1][1])) if _is_nested(padding) else None
        ),
    ),
)


def _float_for_integers(fn: Callable) -> None:
    """The docstring asks for a new float array: an integer image must not give an integer
    one, nor, with padding 0, come back itself (checked once the values are right, so that
    a more specific name comes first)."""
    __tracebackhide__ = True
    for padding in (1, 0):
        X = np.arange(6).reshape(2, 3)
        try:
            out = fn(X, padding)
        except Exception:
            return
        call = f"pad2d(np.arange(6).reshape(2, 3), {padding})"
        if isinstance(out, np.ndarray) and np.shares_memory(out, X):
            raise CheckFailed(
                f"{call} returned X itself (or a view of it), not a new array.\nIt looks "
                "like padding 0 returns the input as it is ('nothing to pad'): the caller's "
                "image then comes back with its own dtype, and a write into the result "
                "changes it. Build the result the same way for every padding: a new float "
                "array of zeros with X copied into its middle.",
                mistake="returns_input",
                case="an integer image with padding 0",
            )
        require_float(
            out,
            call,
            "an integer image",
            "the output was allocated with X's dtype (np.zeros(..., dtype=X.dtype) or "
            "np.zeros_like(X)): an integer image then gives an integer result, and whatever "
            "is later computed into it is truncated. Allocate with np.zeros(shape), float64 "
            "by default.",
        )
    # The docstring's Y[top : top + H, left : left + W] == X holds exactly: no rounding.
    X = np.array([[0.1, 1 / 3], [2 / 3, 1e-45]])
    try:
        out = fn(X, 1)
    except Exception:
        return
    if isinstance(out, np.ndarray) and out.shape == (4, 4) and not np.array_equal(out[1:3, 1:3], X):
        raise CheckFailed(
            f"pad2d(X, 1) with X = [[0.1, 1/3], [2/3, 1e-45]] returned a middle that is not "
            f"exactly X ({out.dtype}: {fmt(out[1:3, 1:3])}): the values were rounded on the "
            "way in. The docstring asks for Y[top : top + H, left : left + W] == X: allocate "
            "the result as float64 (np.zeros(shape), the default), not float32 or float16.",
            mistake="rounded_copy",
            case="a float64 image with values float32 cannot hold",
        )


def check_pad2d(fn: Callable) -> None:
    """Exercise 2.4: pad2d(X, padding) with int, (ph, pw) or ((top, bottom), (left, right))."""
    __tracebackhide__ = True
    cases = _pad2d_cases()
    check(
        fn,
        name="pad2d",
        cases=cases,
        mistakes=PAD2D_MISTAKES,
        oracle=_oracle.good_pad2d,
        pointer=POINTER_PAD,
        quiet=True,
    )
    _float_for_integers(fn)
    passed(
        "pad2d",
        [*(c.label for c in cases), "a new float array for an integer image", "an exact copy"],
    )


# ---------------------------------------------------------------------------------------
# Exercise 2.5: same_padding
# ---------------------------------------------------------------------------------------


def _same_padding_cases() -> list[Case]:
    cases = [Case("lecture 000's odd kernel k=3 (p=2: one row on each side)", (3,), (1, 1))]
    for k in (2, 4, 5, 1, 6, 7):
        before, after = _ceil_floor(k - 1)
        # The padding is right when torch's output size equals the input size (stride 1).
        assert _torch_size(10, k, before, after, 1) == 10
        kind = "even" if k % 2 == 0 else "odd"
        cases.append(Case(f"an {kind} kernel k={k}", (k,), (before, after)))
    return cases


_same_mistake = mistake_family(lambda c: c.args[:1])  # formula(k)


SAME_PADDING_MISTAKES = (
    _same_mistake(
        "total_not_halved",
        "both sides got the whole total p = K - 1",
        "p = K - 1 is the total; split it between the two sides.",
        lambda k: (k - 1, k - 1),
    ),
    _same_mistake(
        "all_on_one_side",
        "all K - 1 rows went on one side",
        "Split the total between the two sides, ceil(p/2) before and floor(p/2) after.",
        lambda k: (k - 1, 0),
    ),
    _same_mistake(
        "sides_swapped",
        "the larger half went after (bottom/right) instead of before",
        "Lecture 000 puts ceil(p/2) on top and floor(p/2) at the bottom.",
        lambda k: ((k - 1) // 2, k - 1 - (k - 1) // 2),
    ),
    _same_mistake(
        "floor_both_sides",
        "both sides got floor(p/2), which loses a row for even kernels",
        "For an even kernel p = K - 1 is odd: the extra row goes on top, ceil(p/2).",
        lambda k: ((k - 1) // 2, (k - 1) // 2),
    ),
    _same_mistake(
        "half_kernel_both_sides",
        "both sides got K // 2, the usual shortcut for odd kernels, which adds one row too "
        "many for even kernels",
        "Start from the total p = K - 1 and split it: ceil(p/2) before, floor(p/2) after.",
        lambda k: (k // 2, k // 2),
    ),
)


def check_same_padding(fn: Callable) -> None:
    """Exercise 2.5: same_padding(k) -> (before, after) for stride 1."""
    __tracebackhide__ = True
    cases = _same_padding_cases()
    check(
        fn,
        name="same_padding",
        cases=cases,
        mistakes=SAME_PADDING_MISTAKES,
        pointer=POINTER_SAME,
        quiet=True,
    )
    _require_ints(fn, "same_padding", cases, "Use `//` and integer arithmetic.")
    got = fn(*cases[0].args)
    if not isinstance(got, tuple):
        raise CheckFailed(
            f"{cases[0].call_text('same_padding')} returned the {type(got).__name__} {got!r}; "
            "the docstring asks for the tuple (before, after): `return before, after`. "
            f"A {type(got).__name__} is not equal to the tuple ({got!r} != {tuple(got)!r}).",
            mistake="not_a_tuple",
            case=cases[0].label,
        )
    passed("same_padding", [c.label for c in cases])


# ---------------------------------------------------------------------------------------
# Exercise 2.6: corr2d_padded
# ---------------------------------------------------------------------------------------


def _corr_expected(X, K, padding, stride, dilation=1) -> np.ndarray:
    return _oracle.corr2d(
        _torch_pad(X, _sides(padding)), K, stride=_pair(stride), dilation=_pair(dilation)
    )


def _corr2d_padded_cases() -> list[Case]:
    rng = np.random.default_rng(7)

    def ints(*shape):
        return rng.integers(-4, 6, size=shape).astype(float)

    def case(label, X, K, padding, stride, expected=None) -> Case:
        if expected is None:
            expected = _corr_expected(X, K, padding, stride)
        return Case(label, (X, K), expected, {"padding": padding, "stride": stride})

    return [
        case(
            "the lecture 000 padding example",
            LECTURE_X,
            LECTURE_K,
            1,
            1,
            np.array([[0, 3, 8, 4], [9, 19, 25, 10], [21, 37, 43, 16], [6, 7, 8, 0]], float),
        ),
        case(
            "lecture 000's stride example (padding 1, strides 3 and 2)",
            LECTURE_X,
            LECTURE_K,
            1,
            (3, 2),
            np.array([[0, 8], [6, 8]], float),
        ),
        case(
            "a 6×6 input, 3×3 kernel, padding 1, stride 2 ((H+2p-K) % s = 1)",
            ints(6, 6),
            ints(3, 3),
            1,
            2,
        ),
        case(
            "a 5×7 input, 2×3 kernel, padding (1, 2), stride (2, 3)",
            ints(5, 7),
            ints(2, 3),
            (1, 2),
            (2, 3),
        ),
        case(
            "a 4×5 input, 2×2 kernel, padding ((1, 0), (1, 0))",
            ints(4, 5),
            ints(2, 2),
            ((1, 0), (1, 0)),
            1,
        ),
        case(
            "a 7×8 input, 3×2 kernel, padding ((2, 1), (0, 2)), stride (3, 2)",
            ints(7, 8),
            ints(3, 2),
            ((2, 1), (0, 2)),
            (3, 2),
        ),
        case(
            "a 5×6 input, 2×3 kernel, no padding, stride 1",
            rng.standard_normal((5, 6)),
            rng.standard_normal((2, 3)),
            0,
            1,
        ),
        # An image of integers and a blur with fractions: the output holds fractions.
        case("an integer image and a 3×3 box blur, padding 1", _blurrable(rng), BOX, 1, 1),
    ]


BOX = np.full((3, 3), 1 / 9)


def _blurrable(rng: np.random.Generator) -> np.ndarray:
    """A 4×5 image of integers whose box blur (padding 1) has no whole number: a result
    truncated to integers then differs from the right one in every entry, however the
    sums were rounded."""
    while True:
        X = rng.integers(0, 10, size=(4, 5))
        sums = np.rint(_corr_expected(X.astype(float), BOX, 1, 1) * 9).astype(int)
        if np.all(sums % 9 != 0):
            return X


#: formula(X, K, padding, (sh, sw), expected)
_corr_mistake = mistake_family(
    lambda c: (*c.args, _arg(c, "padding", 0), _pair(_arg(c, "stride", 1)), c.expected)
)


def _swap_padding(padding):
    (t, b), (l, r) = _sides(padding)
    return ((l, r), (t, b))


def _without_padding_size(X, K, padding, stride, expected):
    rows = (X.shape[0] - K.shape[0]) // stride[0] + 1
    cols = (X.shape[1] - K.shape[1]) // stride[1] + 1
    if rows < 1 or cols < 1:
        return None
    return expected[:rows, :cols]


def _strided_input(X, K, padding, stride, expected):
    Xp = _torch_pad(X, _sides(padding))[:: stride[0], :: stride[1]]
    return _oracle.corr2d(Xp, K)


CORR2D_PADDED_MISTAKES = (
    _corr_mistake(
        "padding_ignored",
        "the padding was ignored",
        "Pad X first (your pad2d), then slide the kernel over the padded array.",
        lambda X, K, p, s, e: _corr_expected(X, K, 0, s),
    ),
    _corr_mistake(
        "stride_ignored",
        "the stride was ignored: the window moved one position at a time",
        "Window (i, j) starts at row i*sh and column j*sw of the padded input.",
        lambda X, K, p, s, e: _corr_expected(X, K, p, 1),
    ),
    _corr_mistake(
        "stride_applied_to_input_not_output",
        "you subsampled the input (X[::s, ::s]) and then slid the kernel at stride 1",
        "A stride skips window *positions*, not input pixels: each window still reads KH×KW "
        "neighbouring pixels, starting at row i*sh and column j*sw.",
        _strided_input,
    ),
    _corr_mistake(
        "stride_rows_cols_swapped",
        "the row and column strides are swapped",
        "stride=(sh, sw): sh moves the window down the rows, sw along the columns.",
        lambda X, K, p, s, e: None if s[0] == s[1] else _corr_expected(X, K, p, s[::-1]),
    ),
    _corr_mistake(
        "padding_rows_cols_swapped",
        "the row and column padding are swapped",
        "padding=(ph, pw): ph rows above and below, pw columns left and right.",
        lambda X, K, p, s, e: _corr_expected(X, K, _swap_padding(p), s),
    ),
    _corr_mistake(
        "output_size_without_padding",
        "the output size was computed from the unpadded input",
        "Compute H_out and W_out from the padded size: (H + top + bottom - KH) // sh + 1.",
        _without_padding_size,
    ),
    _corr_mistake(
        "output_off_by_one",
        "the output stops one row and one column short (the + 1 of the output-size formula "
        "is missing, or the zeros went on the top and left only)",
        "H_out = (H + top + bottom - KH) // sh + 1; the last window may end exactly at the "
        "last padded row.",
        lambda X, K, p, s, e: e[:-1, :-1] if min(e.shape) > 1 else None,
    ),
    _corr_mistake(
        "padding_one_sided",
        "the zeros went only below and to the right of X (X sits in the top-left corner of "
        "the padded array)",
        "Copy X into the middle of the zero array, at rows top : top + H and columns "
        "left : left + W.",
        lambda X, K, p, s, e: _oracle.corr2d(
            _torch_pad(X, ((0, sum(_sides(p)[0])), (0, sum(_sides(p)[1])))), K, stride=s
        ),
    ),
    _corr_mistake(
        "kernel_flipped",
        "the kernel was flipped (that is true convolution, not cross-correlation)",
        "Deep-learning 'convolution' is cross-correlation: multiply X's window by K as is.",
        lambda X, K, p, s, e: _corr_expected(X, np.ascontiguousarray(K[::-1, ::-1]), p, s),
    ),
)


def check_corr2d_padded(fn: Callable) -> None:
    """Exercise 2.6: corr2d_padded(X, K, *, padding=0, stride=1)."""
    __tracebackhide__ = True
    cases = _corr2d_padded_cases()
    check(
        fn,
        name="corr2d_padded",
        cases=cases,
        mistakes=CORR2D_PADDED_MISTAKES,
        oracle=_oracle.good_corr2d_padded,
        pointer=POINTER_CORR,
    )


# ---------------------------------------------------------------------------------------
# Exercise 2.7: corr2d_dilated
# ---------------------------------------------------------------------------------------


def _corr2d_dilated_cases() -> list[Case]:
    rng = np.random.default_rng(11)

    def ints(*shape):
        return rng.integers(-4, 6, size=shape).astype(float)

    def case(label, X, K, dilation, padding=0, stride=1) -> Case:
        expected = _corr_expected(X, K, padding, stride, dilation)
        return Case(
            label, (X, K), expected, {"dilation": dilation, "padding": padding, "stride": stride}
        )

    X5 = np.arange(25.0).reshape(5, 5)
    return [
        case("a 5×5 input, lecture 000's 2×2 kernel, dilation 2", X5, LECTURE_K, 2),
        case(
            "a 7×7 input, 3×3 kernel, dilation 1 (plain cross-correlation)",
            ints(7, 7),
            ints(3, 3),
            1,
        ),
        case("a 9×8 input, 3×3 kernel, dilation 3", ints(9, 8), ints(3, 3), 3),
        case("a 7×9 input, 2×3 kernel, dilation (1, 3)", ints(7, 9), ints(2, 3), (1, 3)),
        case("an 8×8 input, 3×3 kernel, dilation 2, padding 2", ints(8, 8), ints(3, 3), 2, 2),
        case(
            "a 9×10 input, 2×2 kernel, dilation (2, 3), padding (1, 0), stride (2, 3)",
            ints(9, 10),
            ints(2, 2),
            (2, 3),
            (1, 0),
            (2, 3),
        ),
    ]


#: formula(X, K, (dh, dw), padding, (sh, sw), expected)
_dilated_mistake = mistake_family(
    lambda c: (*c.args, _pair(c.kwargs["dilation"]), c.kwargs["padding"],
               _pair(c.kwargs["stride"]), c.expected)
)  # fmt: skip


def _footprint_too_large(X, K, d, p, s, expected):
    (t, b), (l, r) = _sides(p)
    rows = (X.shape[0] + t + b - d[0] * K.shape[0]) // s[0] + 1
    cols = (X.shape[1] + l + r - d[1] * K.shape[1]) // s[1] + 1
    if rows < 1 or cols < 1:
        return None
    return expected[:rows, :cols]


def _dilation_on_input(X, K, d, p, s, expected):
    Xp = _torch_pad(X, _sides(p))[:: d[0], :: d[1]]
    return _oracle.corr2d(Xp, K, stride=s)


CORR2D_DILATED_MISTAKES = (
    _dilated_mistake(
        "dilation_ignored",
        "the dilation was ignored: the kernel taps are still next to each other",
        "With dilation d, tap (a, b) reads the pixel a*dh rows and b*dw columns from the "
        "window's corner.",
        lambda X, K, d, p, s, e: _corr_expected(X, K, p, s, 1),
    ),
    _dilated_mistake(
        "dilation_applied_to_input",
        "the windows move by the dilation d, so only X[::d, ::d] is read: the input was "
        "subsampled instead of the kernel spread, or the dilation was passed on as the stride",
        "Dilation spreads the kernel's taps apart; the windows still start at every "
        "stride step of the full-resolution input (pass stride=stride on, not the dilation).",
        _dilation_on_input,
    ),
    _dilated_mistake(
        "dilation_rows_cols_swapped",
        "the row and column dilations are swapped",
        "dilation=(dh, dw): dh spreads the kernel's rows, dw its columns.",
        lambda X, K, d, p, s, e: None if d[0] == d[1] else _corr_expected(X, K, p, s, d[::-1]),
    ),
    _dilated_mistake(
        "footprint_too_large",
        "the kernel's footprint was taken as d*K instead of d*(K-1)+1, which drops the last "
        "windows",
        "A dilated K-tap kernel spans d*(K-1)+1 pixels: the gaps sit *between* taps, "
        "not after the last one.",
        _footprint_too_large,
    ),
)


def check_corr2d_dilated(fn: Callable) -> None:
    """Exercise 2.7: corr2d_dilated(X, K, *, dilation=1, padding=0, stride=1)."""
    __tracebackhide__ = True
    cases = _corr2d_dilated_cases()
    check(
        fn,
        name="corr2d_dilated",
        cases=cases,
        mistakes=CORR2D_DILATED_MISTAKES,
        pointer=POINTER_DILATED,
        oracle=lambda X, K, *, dilation=1, padding=0, stride=1: _corr_expected(
            X, K, padding, stride, dilation
        ),
    )
