"""The engine behind every visible check: run a student's function on cases, compare with
an independent oracle, and when the answer is wrong, say *which* known mistake it matches.

A check is data: a list of `Case`s (inputs + the expected output, computed by torch or
written down from the lecture) and a list of `Mistake`s (each one computes, for a case,
the output that a particular wrong implementation would give). `check()` runs the cases
in order and stops at the first failure with one sentence, expected vs got, and a pointer
to the lecture idea; if the student's output equals a mistake's output, the sentence names
the mistake. Mistakes are matched on values, never guessed from the source code.

Nothing here knows the numpy solution: expected values come from torch or constants.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import io
import os
import sys
import textwrap
import traceback
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from course.checks._mutate import derive
from course.checks._oracle import HELPERS, Helper
from course.checks._repair import repair
from course.checks._trace import explain, library_of

__all__ = [
    "Case",
    "CheckFailed",
    "Mistake",
    "Part",
    "answer_digest",
    "assert_close",
    "check",
    "check_answer",
    "check_quiz",
    "correct_helpers",
    "first_difference",
    "fmt",
    "mistake_family",
    "require_answer",
    "require_float",
    "require_raise",
    "wrap_message",
]

# Messages are wrapped here, at word boundaries, so that the browser never has to break a
# word; array excerpts (indented lines) are formatted to fit the same width. 80 columns
# also survive `nbgrader validate`, which cuts every line at 83 characters after its indent.
WIDTH = 80
# Frames from this package are the checker's, never shown to a student.
_COURSE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep


class CheckFailed(AssertionError):  # noqa: N818 (students read "check failed")
    """A visible check failed. `str(exc)` is the student-facing sentence.

    In Jupyter the failure shows as its message alone (IPython's `_render_traceback_`
    protocol): no frame of the checker. When the student's own function raised (the
    exception is chained as `__cause__`), the student's frames are shown above the message.
    Plain Python and pytest ignore the protocol and print a normal traceback.

    Attributes:
        mistake: key of the recognised mistake (e.g. "kernel_flipped"), or None when the
            output matched no known mistake.
        case: label of the case that failed.
    """

    def __init__(self, message: str, *, mistake: str | None = None, case: str | None = None):
        super().__init__(message)
        self.mistake = mistake
        self.case = case

    def _render_traceback_(self) -> list[str]:
        lines: list[str] = []
        cause = self.__cause__
        if cause is not None and not isinstance(cause, CheckFailed):
            lines += [*_student_traceback(cause), ""]
        text = wrap_message(f"Check failed: {self}")
        # Red like any Jupyter error, so that a failure is never read as a pass.
        lines.append("\x1b[1;31mCheck failed:\x1b[0m" + text.removeprefix("Check failed:"))
        return lines


def wrap_message(text: str, width: int = WIDTH) -> str:
    """Wrap the prose lines of a message at word boundaries; indented lines (the expected
    and got excerpts) are kept as they are."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width or line.startswith(" "):
            out.append(line)
        else:
            out += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(out)


def _student_traceback(exc: BaseException) -> list[str]:
    """The traceback of `exc` with every frame of this package left out, formatted the way
    the running IPython formats tracebacks (plain Python's format outside IPython)."""
    kept = []
    tb = exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_COURSE_DIR):
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for t in reversed(kept):
        chain = types.TracebackType(chain, t.tb_frame, t.tb_lasti, t.tb_lineno)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        try:
            return list(shell.InteractiveTB.structured_traceback(type(exc), exc, chain))
        except Exception:  # a formatter that fails must not hide the student's message
            pass
    return "".join(traceback.format_exception(type(exc), exc, chain)).rstrip("\n").split("\n")


@dataclass(frozen=True)
class Case:
    """One input for the student's function and the output it must give.

    Attributes:
        label: how the message names the case, e.g. "the lecture 000 example".
        args: positional arguments (arrays are copied before each call).
        expected: the right output (array, number, tuple of arrays).
        kwargs: keyword arguments.
    """

    label: str
    args: tuple
    expected: Any
    kwargs: dict = field(default_factory=dict)

    def call_text(self, name: str) -> str:
        parts = [_short(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(parts)})"


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation, recognised by the output it produces.

    Attributes:
        key: stable identifier, used by the misconception test suite.
        says: what the student probably did, completing "It looks like ...".
        hint: how to fix it, with a pointer to the lecture idea.
        wrong: computes the wrong output for a case (return None when the mistake does
            not apply to that case, e.g. "stride ignored" on a stride-1 case, or does not
            decide it: a mistake in the loss says nothing of the gradient).
    """

    key: str
    says: str
    hint: str
    wrong: Callable[[Case], Any]


def mistake_family(unpack: Callable[[Case], tuple]) -> Callable[..., Mistake]:
    """A builder for one exercise's catalogue: `build(key, says, hint, formula)` is the
    Mistake whose wrong output is `formula(*unpack(case))`, so each row's formula is
    written in the exercise's own terms (n, k, padding, stride) instead of a Case."""

    def build(key: str, says: str, hint: str, formula: Callable[..., Any]) -> Mistake:
        return Mistake(key, says, hint, lambda case: formula(*unpack(case)))

    return build


# Mistakes that any function can make, whatever it computes.
def _returns_zeros(case: Case) -> Any:
    exp = case.expected
    return np.zeros_like(np.asarray(exp, dtype=float)) if _is_array(exp) else None


GENERIC_MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "returns_zeros",
        "your function returns zeros (an output array that was allocated but never filled, "
        "or a value that an integer division such as 1 // 9 rounded to 0)",
        "Check that the loop writes into the output array and that you return that array; "
        "divide with `/` where the result is a fraction.",
        _returns_zeros,
    ),
)


def check(
    fn: Callable,
    *,
    name: str,
    cases: Sequence[Case],
    mistakes: Sequence[Mistake] = (),
    pointer: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    quiet: bool = False,
    oracle: Callable[..., Any] | None = None,
    recipes: Sequence[Any] = (),
) -> None:
    """Run `fn` on every case; raise `CheckFailed` at the first wrong answer.

    Args:
        fn: the student's function.
        name: its name as the notebook shows it.
        cases: inputs with expected outputs, simplest (the lecture's example) first.
        mistakes: the catalogue of known mistakes for this exercise.
        pointer: the lecture idea to revisit, appended to generic failures.
        rtol, atol: tolerances for floating-point comparison.
        quiet: do not print the success line.
        oracle: computes the right output from a case's arguments (torch); with it, a
            mistake outside the catalogue can be named by mutating the inputs too
            (`course.checks._mutate`).
        recipes: for a computation that is a recipe of settings, its variants with one or
            two settings wrong (`_mutate.recipe_variants`), tried before other derivations.

    Returns nothing: a graded cell ends with its check, and nbgrader reads the value of a
    cell's last expression as partial credit (docs/authoring.md).
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the student sees the message
    with correct_helpers(fn) as wrong:
        for helper in wrong:
            print(helper_note(name, helper))
        _run_cases(fn, name, cases, mistakes, pointer, rtol, atol, oracle, recipes)
    if not quiet:
        labels = ", ".join(c.label for c in cases)
        print(f"✓ {name}: {len(cases)} of {len(cases)} checks passed ({labels}).")


def _run_cases(fn, name, cases, mistakes, pointer, rtol, atol, oracle=None, recipes=()) -> None:
    __tracebackhide__ = True
    for i, case in enumerate(cases):
        try:
            got = _call(fn, name, case)
        except CheckFailed as err:
            if err.mistake != "raised":
                raise
            # The student's code raised: one edit that makes every case pass names it.
            fixed = repair(
                fn, _validated(cases, oracle), _passing(rtol, atol), raised=err.__cause__
            )
            if fixed is None:
                raise
            raise CheckFailed(
                f"{err}\nIt looks like {fixed.says}. {fixed.hint}",
                mistake=fixed.key,
                case=err.case,
            ) from err.__cause__
        problem = _compare(got, case.expected, rtol=rtol, atol=atol)
        if problem is None:
            _require_array(got, name, case)
            continue
        # The student passed cases[:i]: a mistake that would have failed one of those is
        # not what they did, even if it happens to coincide with their output here.
        candidates = [
            m
            for m in (*mistakes, *GENERIC_MISTAKES)
            if not _fails_any(m, cases[:i], rtol=rtol, atol=atol)
            and _matches(m, got, case, rtol=rtol, atol=atol)
        ]
        # Never guess: a name must explain the student's output on the later cases too.
        later = _outputs(fn, cases[i + 1 :])
        candidates = _narrow(candidates, later, rtol=rtol, atol=atol)
        matched = candidates[0] if candidates else None
        if matched is None and _is_array(got):
            matched = _returns_an_input(got, case, later, rtol=rtol, atol=atol)
        inexact = matched is not None and not _exact(matched, later, rtol=rtol, atol=atol)
        if matched is None or inexact:
            # No name yet, or a catalogue name that the later cases bear out only mostly:
            # a derived mistake that explains every case is the better account.
            derived = derive(
                fn,
                cases,
                i,
                got,
                _compare,
                oracle=oracle,
                recipes=recipes,
                mistakes=mistakes,
                rtol=rtol,
                atol=atol,
            )
            if derived is not None:
                matched = Mistake(derived.key, derived.says, derived.hint, lambda _c: None)
                inexact = False
        if matched is None or inexact:  # a mistake inside the computation: edit the code
            # (an edit that makes every case pass is a better account than a catalogue
            # name that some later case contradicts: Y[o - 1] is a reversal for two
            # output channels only)
            fixed = repair(fn, _validated(cases, oracle), _passing(rtol, atol))
            if fixed is not None:
                matched = Mistake(fixed.key, fixed.says, fixed.hint, lambda _c: None)
        raise _failure(name, case, got, problem, matched, pointer)


def _require_array(got: Any, name: str, case: Case) -> None:
    """Right values, but a list or tuple of arrays where the docstring returns one array
    (of two or more axes): the caller cannot take its .shape or slice it across."""
    __tracebackhide__ = True
    expected = case.expected
    if isinstance(expected, np.ndarray) and expected.ndim >= 2 and isinstance(got, list | tuple):
        raise CheckFailed(
            f"{case.call_text(name)} returned a Python {type(got).__name__} of "
            f"{len(got)} items on {case.label}; the values are right, but the docstring asks "
            f"for one array of shape {expected.shape}.\nIt looks like the pieces were "
            "collected in a list and never stacked: return np.stack(pieces) (or fill a "
            "preallocated array), so that the result has a .shape and Y[:, i, j] works.",
            mistake="returned_list",
            case=case.label,
        )
    float32_given = any(
        isinstance(a, np.ndarray) and a.dtype == np.float32
        for a in (*case.args, *case.kwargs.values())
    )
    if (
        isinstance(got, np.ndarray)
        and got.dtype == np.float32
        and isinstance(expected, np.ndarray)
        and expected.dtype == np.float64
        and not float32_given
    ):
        raise CheckFailed(
            f"{case.call_text(name)} returned a float32 array on {case.label}; the values "
            "agree to about 7 digits, but nothing here was float32: the float arrays of "
            "these exercises are float64, numpy's default.\nIt looks like an array was "
            "made with dtype=np.float32 (or converted with .astype(np.float32)): every "
            "value stored in it is rounded to 7 digits, and the rounding adds up in the "
            "layers after it. Leave the dtype out, or use float.",
            mistake="float32_output",
            case=case.label,
        )


def _validated(cases: Sequence[Case], oracle: Callable[..., Any] | None) -> list[Case]:
    """The check's cases, and where an oracle computes the right answer, each case again
    with new random values in its float arrays: an edit that passes the check's cases
    by coincidence (`x / 9` floored to 0 on small x) seldom passes those too."""
    cases = list(cases)
    if oracle is None:
        return cases
    rng = np.random.default_rng(20261205)
    more = []
    for case in cases:
        if not any(_is_array(a) and np.asarray(a).dtype.kind == "f" for a in case.args):
            continue
        args = tuple(
            _as_given(a, rng.standard_normal(np.shape(a)))
            if _is_array(a) and np.asarray(a).dtype.kind == "f"
            else copy.deepcopy(a)
            for a in case.args
        )  # fmt: skip
        try:
            right = oracle(*copy.deepcopy(args), **copy.deepcopy(case.kwargs))
        except Exception:
            continue
        more.append(dataclasses.replace(case, args=args, expected=right))
    return cases + more


def _passing(rtol: float, atol: float) -> Callable[[Callable, Case], bool]:
    def passes(edited: Callable, case: Case) -> bool:
        args = tuple(_as_given(a, copy.deepcopy(a)) for a in case.args)
        got = edited(*args, **copy.deepcopy(case.kwargs))
        return _compare(got, case.expected, rtol=rtol, atol=atol) is None

    return passes


# ---------------------------------------------------------------------------------------
# Charge each mistake once: a function is checked with correct versions of the earlier
# exercises' functions it calls
# ---------------------------------------------------------------------------------------


def _global_names(code: types.CodeType) -> set[str]:
    """Global names a function's code reads, its comprehensions and lambdas included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _agrees(student: Any, helper: Helper) -> bool:
    for args, kwargs in helper.probes:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                got = student(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            want = helper.good(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except Exception:
            return False
        if _compare(got, want, rtol=1e-6, atol=1e-8) is not None:
            return False
    return True


@contextlib.contextmanager
def correct_helpers(fn: Callable) -> Iterator[list[str]]:
    """Check `fn` on its own logic: for the duration, every earlier exercise's function
    that `fn` calls by name (`course.checks._oracle.HELPERS`) is replaced, in `fn`'s own
    namespace (the notebook's), by a known-good torch stand-in, then put back. Yields the
    names of the student's versions that disagree with it: their own exercise charges
    that mistake, and the caller says so. The grading probe uses the same context, so a
    mistake costs points in one exercise only."""
    code = getattr(fn, "__code__", None)
    namespace = getattr(fn, "__globals__", None)
    if not isinstance(code, types.CodeType) or not isinstance(namespace, dict):
        yield []
        return
    names = sorted(n for n in _global_names(code) & HELPERS.keys() if n != code.co_name)
    wrong = [n for n in names if n in namespace and not _agrees(namespace[n], HELPERS[n])]
    with names_in(fn, **{n: HELPERS[n].good for n in names}):
        yield wrong


@contextlib.contextmanager
def names_in(fn: Callable, **values: Any) -> Iterator[None]:
    """For the duration, `fn`'s global names (the notebook's) hold `values`; then each
    is put back, or removed where the notebook had none."""
    namespace = getattr(fn, "__globals__", None)
    if not isinstance(namespace, dict):
        yield
        return
    saved = {n: namespace[n] for n in values if n in namespace}
    try:
        namespace.update(values)
        yield
    finally:
        for n in values:
            if n in saved:
                namespace[n] = saved[n]
            else:
                namespace.pop(n, None)


def helper_note(name: str, helper: str) -> str:
    exercise = HELPERS[helper].exercise
    return wrap_message(
        f"ⓘ {name} calls your {helper}, which does not pass {exercise} yet. {name} is "
        f"checked here with a correct {helper}, so that only its own logic counts (the "
        f"grader does the same): fix {helper} in {exercise}."
    )


def _call(fn: Callable, name: str, case: Case) -> Any:
    __tracebackhide__ = True
    args = tuple(_as_given(a, copy.deepcopy(a)) for a in case.args)
    kwargs = copy.deepcopy(case.kwargs)
    try:
        got = fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise not_implemented(name, exc, case.label) from None
    except CheckFailed:
        raise  # a check's own runner already said what the student's code did
    except Exception as exc:
        # Chain the exception: the traceback then ends on the student's own line.
        raise raised(case.call_text(name), exc, case.label) from exc
    if got is None:
        raise CheckFailed(
            f"{name} returned None on {case.label}. Did you forget the `return` statement?",
            mistake="returned_none",
            case=case.label,
        )
    # A function that edits its argument in place breaks the caller's data.
    for before, after in zip(case.args, args, strict=True):
        if _is_array(before) and not np.array_equal(np.asarray(before), np.asarray(after)):
            raise CheckFailed(
                f"{name} changed its input array in place (on {case.label}). Work on a copy "
                "or write into a new output array instead.",
                mistake="mutates_input",
                case=case.label,
            )
    return got


def _as_given(given: Any, copied: Any) -> Any:
    """The copy of a case's argument, laid out as given: a copy is contiguous, so an array
    that a case passes as a view of a larger one (a crop) is passed as such a view again,
    for code that assumes the memory layout (hand-written strides)."""
    if not isinstance(given, np.ndarray) or given.flags.c_contiguous or given.ndim == 0:
        return copied
    larger = np.zeros(tuple(n + 1 for n in given.shape), dtype=given.dtype)
    view = larger[tuple(slice(0, n) for n in given.shape)]
    view[...] = copied
    return view


TRACEBACK_HINT = "The traceback above shows the line where it happened."


def not_implemented(name: str, exc: BaseException, case: str | None = None) -> CheckFailed:
    """The failure of a student's function that still raises NotImplementedError; one
    raised inside torch or numpy ("not implemented for 'Long'") is no placeholder."""
    library = library_of(exc)
    if library is not None:
        return raised(
            name,
            exc,
            case or "its first case",
            f"This NotImplementedError comes from inside {library}, not from the notebook's "
            f"placeholder: {library} has no version of that operation for the values your "
            "code gave it (their dtype or type, or arguments in another order).",
        )
    detail = f" ({exc})" if str(exc) else ""
    return CheckFailed(
        f"{name} is not implemented yet{detail}. Write its body, run that cell, then run "
        "this check again.",
        mistake="not_implemented",
        case=case,
    )


def raised(
    call: str, exc: BaseException, case: str, hint: str = TRACEBACK_HINT, mistake: str = "raised"
) -> CheckFailed:
    """The failure of a student's function that raised `exc` (raise it `from exc`)."""
    return CheckFailed(
        f"{call} raised {type(exc).__name__}: {exc} (on {case}).{explain(exc)} {hint}",
        mistake=mistake,
        case=case,
    )


def call(fn: Callable, name: str, label: str, *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs), with its exceptions turned into one clear CheckFailed."""
    __tracebackhide__ = True
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise not_implemented(name, exc, label) from None
    except CheckFailed:
        raise
    except Exception as exc:
        raise raised(name, exc, label) from exc


def require_float(got: Any, call: str, case: str, why: str) -> None:
    """A documented float result: an integer array fails, named `integer_output`, with
    `why` (how the student's code likely came to return integers)."""
    __tracebackhide__ = True
    dtype = getattr(got, "dtype", None)
    if dtype is not None and not np.issubdtype(dtype, np.floating):
        raise CheckFailed(
            f"{call} returned a {dtype} array; the docstring asks for a float array.\n"
            f"It looks like {why}",
            mistake="integer_output",
            case=case,
        )


def require_raise(
    fn: Callable, call: str, expected: type[Exception], *, case: str, key: str, accepted: str,
    how: str, names: str | None = None,
) -> None:  # fmt: skip
    """The docstring's Raises: `fn()` (a call with the bad input bound in) must raise
    `expected`, whose message says `names` (the bad value) when given. Any other exception
    fails as `<key>_error_type`; a message without `names` as `<key>_unnamed`; none at all
    fails with `accepted`, the likely reason, as `<key>_accepted`; `how` says what to
    write."""
    __tracebackhide__ = True
    try:
        fn()
    except expected as exc:
        if names is None or names in str(exc):
            return
        raise CheckFailed(
            f"{call} raised {expected.__name__}: {exc}\nGood that it stopped, but the "
            f"docstring asks the message to say which value it got ({names!r}). {how}",
            mistake=f"{key}_unnamed",
            case=case,
        ) from None
    except NotImplementedError:
        raise
    except Exception as exc:
        raise CheckFailed(
            f"{call} raised {type(exc).__name__}: {exc}\nGood that it stopped, but the "
            f"docstring asks for {expected.__name__} here. {how}",
            mistake=f"{key}_error_type",
            case=case,
        ) from None
    raise CheckFailed(
        f"{call} returned without an error.\nIt looks like {accepted}. The docstring asks "
        f"for {expected.__name__}. {how}",
        mistake=f"{key}_accepted",
        case=case,
    )


def entries_replaced(given: Mapping, now: Mapping) -> list:
    """The keys of a caller's dict that a call changed: added, removed, or holding another
    object than the one `given` (a copy of the dict before the call) held; [] if none."""
    return sorted(given.keys() ^ now.keys()) + [
        k for k in given if k in now and now[k] is not given[k]
    ]


def passed(
    name: str, labels: Sequence[str], count: int | None = None, *, sep: str = ", ", extra=""
) -> None:
    """A check's success line: `count` checks passed (one per label by default)."""
    n = len(labels) if count is None else count
    print(f"✓ {name}: {n} of {n} checks passed ({sep.join(labels)}){extra}.")


def _compare(
    got: Any, expected: Any, *, rtol: float, atol: float, equal_nan: bool = False
) -> str | None:
    """None when `got` equals `expected`; otherwise a short description of the difference.
    `equal_nan`: NaN matches NaN (to recognise a mistake whose output has NaNs)."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"a tuple of {len(expected)} values was expected, got {_short(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = _compare(g, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
            if problem:
                return f"item {i} of the result: {problem}"
        return None
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"a number or an array was expected, got {type(got).__name__}"
    e = np.asarray(expected, dtype=float)
    if g.shape != e.shape:
        return f"shape {g.shape}, expected {e.shape}"
    if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=equal_nan):
        return "values differ"
    return None


def _fails_any(mistake: Mistake, cases: Sequence[Case], *, rtol: float, atol: float) -> bool:
    for case in cases:
        try:
            wrong = mistake.wrong(case)
        except Exception:
            continue
        if wrong is not None and _compare(wrong, case.expected, rtol=rtol, atol=atol) is not None:
            return True
    return False


def _matches(mistake: Mistake, got: Any, case: Case, *, rtol: float, atol: float) -> bool:
    """True when `mistake` explains `got` on `case` (and differs from the right answer)."""
    try:
        wrong = mistake.wrong(case)
    except Exception:  # a mistake that cannot be formed for this case does not apply
        return False
    if wrong is None or _compare(wrong, case.expected, rtol=rtol, atol=atol) is None:
        return False  # indistinguishable from the right answer on this case
    return _compare(got, wrong, rtol=rtol, atol=atol, equal_nan=True) is None


def _outputs(fn: Callable, later: Sequence[Case]) -> list[tuple[Case, Any]]:
    """The student's output on each later case (a case where it raises tells nothing)."""
    outputs = []
    for case in later:
        try:
            outputs.append((case, fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))))
        except Exception:
            continue
    return outputs


def _narrow(
    candidates: list[Mistake], outputs: list[tuple[Case, Any]], *, rtol: float, atol: float
) -> list[Mistake]:
    """Keep the catalogued mistakes that the later cases bear out: a mistake is dropped
    when, on the later cases where it changes the answer, it fails to explain the
    student's output more often than it explains it, or as often for single numbers (one
    case matched by coincidence is not a name). A narrower mistake than the catalogue's
    (the pair form of an argument swapped, but not the nested form) keeps its name.
    `outputs`: `_outputs` of the later cases."""
    kept = []
    scalars = all(isinstance(got, (int, float, np.number)) for _, got in outputs)
    for m in candidates:
        agree = disagree = 0
        for case, got in outputs:
            if not _informative(m, case, rtol=rtol, atol=atol):
                # The mistake leaves this case right: the student's wrong answer here is
                # something else.
                if _wrong_where_right(m, got, case, rtol=rtol, atol=atol):
                    disagree += 1
                continue
            if _consistent(m, got, case, rtol=rtol, atol=atol):
                agree += 1
            else:
                disagree += 1
        # A tie is kept for arrays (a mistake made in one branch of the code only), not
        # for single numbers, which a wrong formula matches by coincidence far more often.
        if disagree < agree or not disagree or (disagree == agree and not scalars):
            kept.append(m)
    if len(kept) > 1:  # several explain it: prefer those with no disagreement at all
        exact = [
            m for m in kept if all(_consistent(m, g, c, rtol=rtol, atol=atol) for c, g in outputs)
        ]
        kept = exact or kept
    return kept


def _exact(mistake: Mistake, outputs: list[tuple[Case, Any]], *, rtol, atol) -> bool:
    """Whether `mistake` explains the student's output on every later case."""
    return all(_consistent(mistake, got, case, rtol=rtol, atol=atol) for case, got in outputs)


def _informative(mistake: Mistake, case: Case, *, rtol: float, atol: float) -> bool:
    try:
        wrong = mistake.wrong(case)
    except Exception:
        return False
    return wrong is not None and _compare(wrong, case.expected, rtol=rtol, atol=atol) is not None


def _wrong_where_right(mistake: Mistake, got: Any, case: Case, *, rtol, atol) -> bool:
    """The mistake computes this case's right answer, and the student's answer is wrong."""
    try:
        wrong = mistake.wrong(case)
    except Exception:
        return False
    return wrong is not None and _compare(got, case.expected, rtol=rtol, atol=atol) is not None


def _consistent(mistake: Mistake, got: Any, case: Case, *, rtol: float, atol: float) -> bool:
    try:
        wrong = mistake.wrong(case)
    except Exception:
        return True
    if wrong is None:
        return True
    return _compare(got, wrong, rtol=rtol, atol=atol, equal_nan=True) is None


def _returns_an_input(
    got: Any, case: Case, later: list[tuple[Case, Any]], *, rtol: float, atol: float
) -> Mistake | None:
    """The student's output is one of the inputs, on this case and every later one (a
    gradient that happens to equal x on one case is no such name)."""
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):  # e.g. a tuple of arrays of different shapes
        return None
    for i, arg in enumerate(case.args):
        if _is_array(arg) and np.asarray(arg).shape == g.shape and np.allclose(g, arg):
            named = Mistake(
                "returns_input",
                f"your function returns its input (argument {i + 1}) unchanged",
                "Compute a new array from the inputs and return that.",
                lambda c, i=i: c.args[i] if len(c.args) > i and _is_array(c.args[i]) else None,
            )
            if _exact(named, later, rtol=rtol, atol=atol):
                return named
    return None


def _failure(
    name: str, case: Case, got: Any, problem: str, mistake: Mistake | None, pointer: str
) -> CheckFailed:
    head = f"{case.call_text(name)} on {case.label}: {problem}."
    at = first_difference(got, case.expected)
    body = f"\n  expected: {fmt(case.expected, at=at)}\n  got:      {fmt(got, at=at)}"
    if at is not None and np.ndim(case.expected) > 0:
        where = ", ".join(map(str, at))
        body += f"\n  (the first difference is at index [{where}])"
    if mistake is not None:
        tail = f"\nIt looks like {mistake.says}. {mistake.hint}"
    else:
        tail = f"\n{pointer}" if pointer else ""
    return CheckFailed(head + body + tail, mistake=mistake and mistake.key, case=case.label)


def assert_close(got: Any, expected: Any, what: str, *, rtol: float = 1e-6, atol: float = 1e-8):
    """Hidden-test comparison that reveals no hidden value when it fails.

    The message names the case (`what`) and the kind of difference (shape or values), never
    the numbers, so feedback can be returned to students as is.
    """
    __tracebackhide__ = True
    problem = _compare(got, expected, rtol=rtol, atol=atol)
    if problem is not None:
        if problem == "values differ":
            problem = "the values differ from the reference"
        raise AssertionError(f"{what}: {problem}.")


def answer_digest(answer: Any) -> str:
    """A short hash of a quiz answer, so that a visible check can verify it without
    printing it. Numbers are normalised (3 == 3.0), sequences compared element-wise."""
    return hashlib.sha256(_canonical(answer).encode()).hexdigest()[:16]


def require_answer(answer: Any, question: str) -> None:
    """A quiz answer still holding its `...` stub is an unfinished exercise, not a wrong
    answer: one message for every quiz."""
    __tracebackhide__ = True
    if answer is None or answer is Ellipsis:
        raise CheckFailed(
            f"{question}: no answer yet. Put your answer in place of the `...` in the cell "
            "above, run that cell, then run this check again.",
            mistake="not_answered",
        )


@dataclass(frozen=True)
class Part:
    """A quiz answer, or one part of it (a number, a shape, a name), as a row of data.

    Attributes:
        digest: `answer_digest` of the right value; the value itself is not stored.
        hint: what to revisit, said after `says` when the value is wrong.
        says: how a failure begins; "{}" stands for the value as `show` writes it.
        wrong: digest of a tempting wrong value -> (mistake key, the failure's text in
            place of `says` and `hint`, "{}" again standing for the value).
        show: how a message writes the value (default: its repr, arrays by their shape).
        norm: what the digest is taken of (default: the value itself).
    """

    digest: str
    hint: str = ""
    says: str = "{} is not right."
    wrong: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    show: Callable[[Any], str] | None = None
    norm: Callable[[Any], Any] | None = None


def check_quiz(
    answer: Any,
    question: str,
    parts: Sequence[Part],
    split: Callable[[Any], Sequence[Any]] | None = None,
) -> None:
    """The visible check of every quiz: an answer still at its stub has no answer yet
    (`require_answer`); `split` turns the answer into one value per part (without it the
    answer is the one part's value) or raises CheckFailed when its form is wrong; the
    first value whose digest is not its part's fails, naming a known wrong value."""
    __tracebackhide__ = True
    require_answer(answer, question)
    values = [answer] if split is None else split(answer)
    for part, value in zip(parts, values, strict=True):
        got = answer_digest(value if part.norm is None else part.norm(value))
        if got != part.digest:
            key, text = part.wrong.get(got, ("wrong_answer", f"{part.says} {part.hint}"))
            shown = (part.show or _short)(value)
            raise CheckFailed(f"{question}: {text.replace('{}', shown)}", mistake=key)
    print(f"✓ {question}: correct.")


def numbers(question: str, words: str, count: int) -> Callable[[Any], list[float]]:
    """A `check_quiz` split: the answer must be `count` numbers (`words` names them)."""

    def split(answer: Any) -> list[float]:
        __tracebackhide__ = True
        try:
            values = [float(v) for v in answer]
        except (TypeError, ValueError):
            values = []
        if len(values) != count:
            raise CheckFailed(
                f"{question}: expected {words}, got {answer!r}.", mistake="wrong_answer"
            )
        return values

    return split


def check_answer(answer: Any, *, question: str, digest: str, hint: str) -> None:
    """Visible check of a quiz answer against its digest (a quiz of one part)."""
    __tracebackhide__ = True
    check_quiz(answer, question, [Part(digest, hint)])


def _canonical(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return _canonical(x.tolist())
    if isinstance(x, (list, tuple)):
        return "(" + ",".join(_canonical(v) for v in x) + ")"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, float, np.integer, np.floating)):
        v = float(x)
        return str(int(v)) if v.is_integer() else repr(round(v, 9))
    return str(x).strip().lower()


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or (
        isinstance(x, (list, tuple)) and len(x) > 0 and not isinstance(x, str)
    )


def first_difference(got: Any, expected: Any) -> tuple[int, ...] | None:
    """The index of the first entry where two arrays of one shape differ, else None."""
    try:
        g, e = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return None
    if g.shape != e.shape or g.ndim == 0:
        return None
    bad = np.argwhere(~np.isclose(g, e, rtol=1e-6, atol=1e-8, equal_nan=True))
    return tuple(int(i) for i in bad[0]) if len(bad) else None


def _start(i: int, n: int, size: int) -> int:
    """Where a window of `size` over `n` entries starts so that it shows entry i."""
    return max(0, min(i - size // 2, n - size))


def fmt(x: Any, *, max_rows: int = 6, max_cols: int = 8, at: tuple[int, ...] | None = None) -> str:
    """Compact, readable text of an array for messages. A large array is cut to a window:
    around index `at` (the first difference) when given, else at its top-left corner."""
    if isinstance(x, tuple) and not _is_numeric_tuple(x):
        return "(" + ", ".join(fmt(v, max_rows=max_rows, max_cols=max_cols) for v in x) + ")"
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return repr(x)
    if a.ndim == 0:
        v = float(a)
        return str(int(v)) if v.is_integer() else f"{v:.6g}"
    if at is not None and (
        len(at) != a.ndim or not all(0 <= i < n for i, n in zip(at, a.shape, strict=False))
    ):
        at = None
    shown = a
    cut = a.ndim >= 2 and (a.shape[-2] > max_rows or a.shape[-1] > max_cols)
    note = []
    if a.ndim >= 2:
        r0 = _start(at[-2], a.shape[-2], max_rows) if at else 0
        c0 = _start(at[-1], a.shape[-1], max_cols) if at else 0
        lead = tuple(at[:-2]) if at else (0,) * (a.ndim - 2)
        shown = a[lead][r0 : r0 + max_rows, c0 : c0 + max_cols]
        if a.ndim > 2:
            note.append(f"slice {list(lead)}" if at else f"first {shown.shape} slice")
        if cut:
            note.append(
                f"rows {r0}-{r0 + shown.shape[0] - 1}, columns {c0}-{c0 + shown.shape[1] - 1}"
                if r0 or c0
                else "top-left corner"
            )
    elif a.size > 2 * max_cols:
        s0 = _start(at[0], a.size, 2 * max_cols) if at else 0
        shown = a[s0 : s0 + 2 * max_cols]
        note.append(f"entries {s0}-{s0 + shown.size - 1}")
    integral = np.all(np.isfinite(shown)) and np.all(shown == np.round(shown))
    text = np.array2string(
        shown.astype(int) if integral and shown.size and np.abs(shown).max() < 1e15 else shown,
        precision=4,
        suppress_small=True,
        separator=", ",
        max_line_width=WIDTH - 12,  # after the 12-column indent of the excerpts
    ).replace("\n", "\n            ")
    suffix = f"  [shape {a.shape}" + (f", {', '.join(note)}" if note else "") + "]"
    if not (a.ndim > 1 or note):
        return text
    if len(text.rsplit("\n", 1)[-1]) + len(suffix) > WIDTH - 12:  # keep within the width
        suffix = "\n            " + suffix.strip()
    return text + suffix


def _is_numeric_tuple(x: tuple) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) for v in x)


def _short(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"<array {'×'.join(map(str, x.shape))}>"
    if isinstance(x, (list, tuple)) and len(x) > 4:
        return f"<{type(x).__name__} of {len(x)}>"
    return repr(x)
