"""Name a mistake by repairing it: the smallest edit of the student's own code that makes
every case of the check pass.

The catalogue and the derived mistakes (`_mutate`) predict what a wrong implementation
*outputs*. Some mistakes live inside the computation, where neither an input nor an
output transformation reaches: a slice that ends one row late, `round` where the formula
floors, `//` where it divides, `=` where it accumulates, a sum over the wrong axis, two
values unpacked the wrong way round. For those, this module edits the student's function
instead: one edit at a time, from a fixed list of operators, each with a sentence; the
edited function runs on every case of the check, and an edit is a name only when **every**
case then passes. The message quotes the student's line and the edit.

Where it runs: in the student's own kernel, on the student's own function, as part of the
visible check (the code is theirs and runs where theirs runs). It never runs in the
grading process: the judge replays reported results and has no code to edit, so a graded
cell's verdict names what the catalogue and the derivations name, and the notebook's
visible check may say more. Functions whose source cannot be read (a lambda in a
comprehension, a replay, anything defined in `course`) are left alone.

Bounds: at most `MAX_EDITS` edited functions, `BUDGET_S` seconds in all, and
for each call of an edited function 50 times the student's slowest call, between
`CALL_FLOOR_S` and `CALL_LIMIT_S` seconds (a Unix interval timer, main thread only;
elsewhere a function with a `while` loop is not edited).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import inspect
import io
import itertools
import signal
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: False in a kernel being graded (`course.probe.probe` turns it off): there the judge's
#: verdict replaces what the visible check prints, so the search would be time lost.
ENABLED = True
MAX_EDITS = 900
BUDGET_S = 4.0
CALL_LIMIT_S = 0.5
CALL_FLOOR_S = 0.05  # the least an edited call is given, however fast the student's ran
#: The second-edit search: how many first edits, and its own seconds.
PAIR_FIRSTS = 4
PAIR_BUDGET_S = 3.0
MAX_LINES = 80

REDUCTIONS = {"sum", "mean", "max", "min", "argmax", "argmin", "prod", "std", "var", "amax"}
AXES = (0, 1, 2, 3, -1, -2, (0, 1), (1, 2), (2, 3), (0, 2, 3), (-2, -1))


@dataclass(frozen=True)
class Repair:
    key: str
    says: str
    hint: str


@dataclass(frozen=True)
class _Edit:
    kind: str  # the operator, e.g. "off_by_one"
    line: int  # in the function's source, 1-based
    old: str
    new: str
    apply: Callable[[ast.AST], None]  # changes the node in a fresh copy of the tree
    path: tuple  # where the node is in the tree
    alike: bool = True  # the same edit may be made at places written alike
    note: str = ""  # said after the edit, e.g. where in the line it is made
    places: tuple = ()  # the places written alike, where the shape alone says too much
    says: str = ""  # what the edit does, where "writing `new` for `old`" would not say it
    moved: tuple = ()  # for an edit of a block (`path`), where the statement it moves is


SAYS = {
    "off_by_one": "a bound is off by one",
    "division": "the division rounds where it should not, or the other way round",
    "rounding": "the value is rounded the wrong way",
    "sign": "a sign is wrong (a + for a -, or a minus dropped)",
    "axis": "the reduction runs over the wrong axes",
    "swapped": "two values are the wrong way round",
    "accumulate": "a value is overwritten where it should accumulate, or the other way round",
    "extra_term": "a term does not belong in the expression",
    "precedence": "an operator applies to less of the expression than it should (parentheses "
    "are missing)",
    "order": "two steps run in the wrong order",
    "index": "a fixed index is used where the loop's variable belongs",
    "step": "a loop steps over indices where it should visit every one",
    "name": "one name or size is read where another belongs",
    "keepdims": "a reduction drops the axis that the next step broadcasts along (keepdims "
    "is missing)",
    "entry": "a whole array is used where one entry of it belongs",
    "power": "a product is written where a power belongs, or the other way round",
    "operator": "one arithmetic operator is the wrong one",
    "extra_factor": "a factor does not belong in the expression",
    "wrapped": "a call changes a value that should be used as it is",
    "function": "one function is called where its sibling belongs",
    "item": "the wrong item of a call's result is taken",
    "loop_level": "a step runs at the wrong level of the loops: once where it belongs in "
    "every pass, or in every pass where it belongs once",
    "context": "a block runs inside a `with` that changes how it runs",
    "uncalled": "a function or class is used where its result belongs (the call's "
    "parentheses are missing)",
    "chained_index": "two indexings in a row where one index of two axes belongs "
    "(X[rows][cols] slices the rows twice)",
    "whole": "one entry of an array is used where the whole array belongs",
    "dtype": "the array is made with a dtype that does not fit what is written into it",
    "parenthesis": "a call's parenthesis closes too early: part of its argument is left outside",
    "missing_factor": "a factor is missing from the product",
    "constant": "a number is typed in where an argument belongs",
    "reciprocal": "a value is used where its reciprocal belongs",
    "extra_step": "a step does not belong",
    "square": "a size is squared where the product of two sizes belongs (as if square)",
    "device": "the data goes to a fixed device where the `device` argument belongs",
    "negative_end": "a slice ends at a negative count, which is an empty slice when the count "
    "is 0 (`-0` is `0`)",
    "pad_width": "np.pad reads its widths as one (before, after) pair per axis of the array",
    "squeeze": "`squeeze()` without axes also drops an axis that is 1 only for this input "
    "(N = 1 or C = 1)",
    "keyword": "arguments are passed by position where the function takes them by keyword",
    "absolute": "a difference keeps its sign where its size (the absolute value) belongs",
    "slice_length": "a slice ends at a length where the start plus that length belongs",
    "default": "a parameter's default value is not the one the exercise gives",
    "einsum": "the einsum's output leaves out an index, so it is summed over",
    "missing_sum": "an array of 0s and 1s is added where its count (`.sum()`) belongs",
    "extra_argument": "an argument is given that does not belong (the call's default is "
    "what is meant)",
    "conversion": "a value that may be a numpy array is used as a tensor without `torch.as_tensor`",
    "as_elsewhere": "a value is used as it is where the function elsewhere uses it flipped or "
    "transposed",
    "tensordot": "np.tensordot pairs other axes than the ones meant (with no `axes`, it pairs "
    "the last two axes of the first array with the first two of the second)",
    "ordered": "a plain dict is given to nn.Sequential, which names its layers only from an "
    "OrderedDict",
    "as_pair": "a value that may be one number is unpacked as a pair (`as_pair` makes a pair "
    "of either form)",
    "shape_args": "the shape is given as separate arguments where numpy takes one tuple (the "
    "second is read as the dtype)",
    "identity": "`is` compares whether two objects are the same one, where `==` compares "
    "their values",
    "logic": "`or` is written where `and` belongs, or the other way round",
    "elif": "a second `if` where an `elif` belongs: its `else` runs after the first branch too",
    "power_scope": "a power applies to the whole product where it belongs to its last factor",
    "generator": "a generator is given where a list belongs",
    "one_side": "one side gets 0 where the same amount belongs on both",
}
#: Methods whose call is tried without them, each with the operator that says so: a
#: squeeze that drops N = 1, a cast to int of float results, a detach that cuts the graph.
DROPPED_METHODS = {"squeeze": "squeeze", "astype": "wrapped", "detach": "wrapped"}
#: Operators about how a library or Python reads the code, not about the lecture's maths.
CONVENTIONS = {
    "negative_end", "pad_width", "squeeze", "keyword", "as_pair", "shape_args", "identity",
    "tensordot", "ordered", "device", "uncalled", "chained_index", "generator", "conversion",
    "extra_argument", "einsum",
}  # fmt: skip
#: Functions written for one another: each name, with the siblings tried in its place.
_REDUCED = ("sum", "mean", "max", "min", "prod")
SIBLINGS = {
    **{f: tuple(g for g in _REDUCED if g != f) for f in _REDUCED},
    "max": ("argmax", "maximum", "sum", "mean", "min", "prod"),
    "min": ("argmin", "minimum", "sum", "mean", "max", "prod"),
    "norm": ("sum",),
    "argmax": ("max",),
    "argmin": ("min",),
    "maximum": ("minimum",),
    "minimum": ("maximum",),
    "zeros": ("ones", "empty"),
    "ones": ("zeros", "empty"),
    "zeros_like": ("ones_like",),
    "ones_like": ("zeros_like",),
    "hstack": ("vstack",),
    "vstack": ("hstack",),
    "stack": ("concatenate",),
    "concatenate": ("stack",),
}
#: Python's builtins that a numpy function replaces elementwise.
ELEMENTWISE = {"max": "maximum", "min": "minimum", "abs": "abs", "sum": "sum", "round": "round"}
#: Statements whose order an edit may swap: plain steps, not control flow.
STEPS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
LOOPS = (ast.For, ast.While)
#: Calls whose argument is, in the formulas of this course, often missing its minus.
NEGATED_ARGUMENT = {"exp"}


def repair(
    fn: Callable,
    cases: Sequence,
    passes: Callable[[Callable, Any], bool],
    *,
    raised: BaseException | None = None,
) -> Repair | None:
    """The first edit of `fn`'s source after which `passes(edited, case)` holds for every
    case, or None. `fn` is the student's function; it is never changed. With `raised`
    (the student's function raised it), the edits of the line it was raised from are tried
    first; an edit elsewhere counts only when leaving its statement out does not also let
    every case pass (`_independent`): one that merely steers around the exception proves
    nothing."""
    if not ENABLED:
        return None
    start = time.monotonic()
    for student, cell in _students(fn):
        through = raised
        if raised is not None and _raising_line(student, raised) is None:
            # The exception did not pass through this function: the check raised it on
            # what the function returned (float() of an array), a failure like any other.
            through = None
        found = _repair_one(fn, student, cell, cases, passes, through, start)
        if found is not None:
            return found
    return None


def _repair_one(fn, student, cell, cases, passes, raised, start) -> Repair | None:
    tree, source, first_line = _parse(student)
    if tree is None or _unsafe(tree):
        return None
    # Seconds an edited call may run (0.0: no interval timer, off the main thread).
    timed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    timer = CALL_LIMIT_S if timed else 0.0
    if not timer and any(isinstance(n, ast.While) for n in ast.walk(tree)):
        return None
    lines = source.splitlines()
    # Each case once, timed: an edited call may take 50 times the student's slowest, and
    # at most CALL_LIMIT_S (an edit that makes a while loop endless costs less then).
    failing, slowest = [], 0.0
    for case in cases:
        began = time.monotonic()
        if not _all_pass(passes, fn, cell, student, (case,), timer):
            failing.append(case)
        slowest = max(slowest, time.monotonic() - began)
    if not failing:
        return None  # the search's cases do not show the failure: there is nothing to find
    if timer:
        timer = min(CALL_LIMIT_S, max(CALL_FLOOR_S, 50 * slowest))
    only = None if raised is None else _raising_line(student, raised)
    guard: frozenset = frozenset()  # the lines of the test of an `if` whose `raise` ran
    if only is not None:
        # A control: when the raising statement, simply left out, lets every case pass,
        # what the check compares does not depend on that line (the check compares db,
        # the line computes dw), and no edit names anything: one of that line merely
        # stops the exception, and one elsewhere may too (windows that no longer run
        # off the edge, for a check that never looks at them).
        for path, node, parent in _paths(tree):
            if isinstance(node, ast.stmt) and first_line + getattr(node, "lineno", 0) - 1 == only:
                if isinstance(node, ast.Raise):
                    # The student's own `raise` is deliberate: the cases lack its input. An
                    # edit of the test that guards it fixes the condition that raised, so it
                    # counts as an edit of the raising line.
                    if isinstance(parent, ast.If) and node in parent.body:
                        test = parent.test
                        guard = frozenset(
                            range(first_line + test.lineno - 1, first_line + test.end_lineno)
                        )
                    break
                skipped = _build(student, tree, _replace_with(lambda n: ast.Pass()), (path,))
                if skipped is not None and _all_pass(passes, fn, cell, skipped, cases, timer):
                    return None
                break
    # The cases the function fails come first, so that how many cases an edit passes
    # before its first failure says whether it fixed a case the student got wrong.
    cases = failing + [c for c in cases if not any(c is f for f in failing)]
    search = _Search(fn, student, cell, cases, passes, timer, start, only, first_line, guard)
    found = search.run(tree)
    if found is not None:
        return _named(student, found[0], first_line, lines, len(found[1]), tree)
    if search.cut or only is not None:
        return None  # a second edit only after every single edit has been tried
    return _second_edit(search, tree, lines)


@dataclass
class _Search:
    """One pass over the single edits of a tree: the first that lets every case pass, and
    the edits that let a failing case pass on their own (`promising`)."""

    fn: Callable
    student: Callable
    cell: Any
    cases: Sequence
    passes: Callable
    timer: float  # seconds an edited call may run (0: no timer, off the main thread)
    start: float
    only: int | None
    first_line: int
    guard: frozenset = frozenset()
    tried: int = 0
    cut: bool = False  # stopped by the budget
    budget: float = BUDGET_S
    promising: list[tuple[int, _Edit, tuple]] = dataclasses.field(default_factory=list)

    def run(self, tree: ast.FunctionDef, budget: float = BUDGET_S, skip: tuple = ()):
        self.budget = budget
        shapes = _shapes(tree)
        only, first_line = self.only, self.first_line
        edits = _edits(tree, [], self.student.__globals__)
        for edit in _raising_line_first(edits, only, first_line, self.guard):
            if edit.path in skip:
                continue
            line = first_line + edit.line - 1
            elsewhere = only is not None and line != only and line not in self.guard
            # The edit alone, then the same edit at every place of the same shape (the
            # rows' and the columns' versions of one formula: `r + kh - 1`, `c + kw - 1`).
            twins = [p for p in shapes.get(_shape(_at(tree, edit.path)), []) if p != edit.path]
            twins = list(edit.places) if edit.places else twins if edit.alike else []
            for paths in ((edit.path,), (edit.path, *twins)) if twins else ((edit.path,),):
                self.tried += 1
                if self.tried > MAX_EDITS or time.monotonic() - self.start > budget:
                    self.cut = True
                    return None
                edited = _build(self.student, tree, edit.apply, paths)
                if edited is None:
                    continue
                fixed = self.fixed(edited)
                if self.cut:
                    return None
                if fixed < len(self.cases):
                    if fixed:
                        self.promising.append((fixed, edit, paths))
                    continue
                if elsewhere and _independent(
                    self.student,
                    tree,
                    edit,
                    self.passes,
                    self.fn,
                    self.cell,
                    self.cases,
                    self.timer,
                ):
                    # The statement is not needed at all. Where it only transforms a
                    # value in place (`X = np.squeeze(X)`), that is the name: the step
                    # does not belong.
                    dropped = _dropped_transform(tree, edit)
                    if dropped is None:
                        continue
                    return dropped, (dropped.path,)
                if _leaves_unused(tree, edit, paths):
                    continue
                guard = _guard_of(tree, edit.path)
                if guard is not None:
                    # An edit of an `if`'s test that passes every case may only make the
                    # test never hold: when the `if`, left out, passes too, that is the
                    # name (the step does not belong), not the edit of its test.
                    skipped = _build(self.student, tree, _replace_with(lambda n: ast.Pass()),
                                     (guard,))  # fmt: skip
                    if skipped is not None and self.fixed(skipped) == len(self.cases):
                        stmt = _at(tree, guard)
                        left_out = _Edit(
                            "extra_step", stmt.lineno, _src(stmt), "",
                            _replace_with(lambda n: ast.Pass()), guard, alike=False,
                            says="leaving it out with its block",
                        )  # fmt: skip
                        return left_out, (guard,)
                return edit, paths
        return None

    def fixed(self, edited) -> int:
        """How many cases pass, in order, before the first that fails (the budget is
        checked between cases too: one case of a training epoch can take a second)."""
        count = 0
        for case in self.cases:
            if time.monotonic() - self.start > self.budget:
                self.cut = True
                break
            if not _all_pass(self.passes, self.fn, self.cell, edited, (case,), self.timer):
                break
            count += 1
        return count


def _unused(tree: ast.AST) -> set[str]:
    """Names the function assigns and never reads."""
    stored, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else read).add(node.id)
    return stored - read


def _leaves_unused(tree: ast.FunctionDef, edit: _Edit, paths: tuple) -> bool:
    """Whether the edit stops the code from reading a value it computed (`b` for
    `bias_map`): it then goes around the student's computation instead of repairing it,
    and the mistake may be in what it no longer reads."""
    edited = copy.deepcopy(tree)
    try:
        for target in [_at(edited, path) for path in paths]:
            edit.apply(target)
    except Exception:
        return False
    if _unused(edited) - _unused(tree):
        return True
    return any(_stored_unread(edited, tree, path) for path in paths)


def _stored_unread(tree: ast.FunctionDef, before: ast.FunctionDef, path: tuple) -> bool:
    """Whether the edit made `c[k] = ...` of `g[k] = ...` with `c` never read after that
    statement (nor elsewhere in the loops around it): the statement's work is thrown away,
    as if it were deleted (`g[k] = np.clip(g[k], -1, 1)` sent into another dict). `tree`
    is edited at `path`; `before` is not."""
    nodes = [_at(tree, path[:i]) for i in range(len(path) + 1)]
    k = max((i for i, n in enumerate(nodes) if isinstance(n, (ast.Assign, ast.AugAssign))),
            default=None)  # fmt: skip
    if k is None or (k < len(path) and path[k][0] not in ("targets", "target")):
        return False  # not an edit of what the statement stores into
    root, was = (_stored_root(at(path[:k])) for at in (lambda p: _at(tree, p),
                                                       lambda p: _at(before, p)))  # fmt: skip
    if root is None or was is None or root.id == was.id:
        return False
    start, end = nodes[k].lineno, nodes[k].end_lineno
    loops = [n for n in nodes if isinstance(n, (ast.For, ast.While))]
    outer = loops[0] if loops else nodes[k]
    for other in ast.walk(tree):
        if (
            isinstance(other, ast.Name)
            and other.id == root.id
            and isinstance(other.ctx, ast.Load)
            and hasattr(other, "lineno")  # a node an edit made has none
            and not start <= other.lineno <= end  # the statement's own reads do not count
            and (other.lineno > end or outer.lineno <= other.lineno <= outer.end_lineno)
        ):
            return False
    return True


def _stored_root(statement: ast.stmt) -> ast.Name | None:
    """`g` of `g[k] = ...` or `g.x[k] += ...` (None for a plain name or a tuple)."""
    target = statement.targets[0] if isinstance(statement, ast.Assign) else statement.target
    root = target
    while isinstance(root, (ast.Subscript, ast.Attribute)):
        root = root.value
    return root if isinstance(root, ast.Name) and root is not target else None


def _second_edit(search: _Search, tree: ast.FunctionDef, lines: list[str]) -> Repair | None:
    """Two slips in one function: an edit that lets some failing case pass on its own,
    then a second edit of the code so edited that lets every case pass. Neither edit alone
    passes every case (the single edits were all tried first), and each does some work."""
    usable = [p for p in search.promising if not _leaves_unused(tree, p[1], p[2])]
    ranked = sorted(usable, key=lambda p: -p[0])[:PAIR_FIRSTS]
    budget = time.monotonic() - search.start + PAIR_BUDGET_S
    search.tried = 0
    for _, first, paths in ranked:
        edited_tree = copy.deepcopy(tree)
        for target in [_at(edited_tree, path) for path in paths]:
            first.apply(target)
        ast.fix_missing_locations(edited_tree)
        found = search.run(edited_tree, budget=budget, skip=paths)
        if search.cut:
            return None
        if found is None:
            continue
        second, second_paths = found
        one = _named(search.student, first, search.first_line, lines, len(paths), tree)
        two = _named(search.student, second, search.first_line, lines, len(second_paths), tree)
        return Repair(
            f"repair:two:{first.kind}+{second.kind}",
            f"two slips: {_clause(one)}; and {_clause(two)}; together (neither alone) they "
            "make every case of this check pass",
            "Read both lines again with the lecture's formula beside them; the edits above "
            "are the smallest changes that fix them, not necessarily the way to write them.",
        )
    return None


def _clause(repair: Repair) -> str:
    return repair.says.removesuffix(" makes every case of this check pass")


def _raising_line_first(edits: Iterator[_Edit], only: int | None, first_line: int, guard=()):
    """Every edit, those of the raising line (if any) and of its guard before the rest."""
    later = []
    for edit in edits:
        if only is None or first_line + edit.line - 1 in (only, *guard):
            yield edit
        else:
            later.append(edit)
    yield from later


def _independent(student, tree, edit: _Edit, passes, fn, cell, cases, timer: float) -> bool:
    """For a function that raised, an edit away from the raising line is a name only when
    the check depends on the statement it edits: when that statement, simply left out,
    lets every case pass too, the edit may merely have steered around the exception
    (or an unedited twin of the statement did the work) and proves nothing."""
    path = (*edit.path, *edit.moved)
    while path and not isinstance(_at(tree, path), ast.stmt):
        path = path[:-1]
    if not path:  # an edit of the function's own block (two steps reordered)
        return True
    skipped = _build(student, tree, _replace_with(lambda n: ast.Pass()), (path,))
    return skipped is not None and _all_pass(passes, fn, cell, skipped, cases, timer)


def _dropped_transform(tree: ast.FunctionDef, edit: _Edit) -> _Edit | None:
    """The edit that leaves out the statement `edit` is in, where that statement only
    transforms names in place (`X = np.squeeze(X)`, `x = x.T`): leaving it out is then a
    repair in its own right, not a way around the exception."""
    path = (*edit.path, *edit.moved)
    while path and not isinstance(_at(tree, path), ast.stmt):
        path = path[:-1]
    stmt = _at(tree, path) if path else None
    # (an `if` without `else` whose block only transforms in place: `if X.shape[-1] == 3:
    # X = X.transpose(2, 0, 1)`, a guess that goes wrong; the block is then left out too)
    if isinstance(stmt, ast.If) and not stmt.orelse and all(map(_in_place, stmt.body)):
        return _Edit(
            "extra_step", stmt.lineno, _src(stmt), "", _replace_with(lambda n: ast.Pass()),
            path, alike=False, says="leaving it out with its block",
        )  # fmt: skip
    if not _in_place(stmt):
        return None
    return _Edit(
        "extra_step", stmt.lineno, _src(stmt), "", _replace_with(lambda n: ast.Pass()), path,
        alike=False, says=f"leaving {_it(stmt)} out",
    )  # fmt: skip


def _in_place(stmt: ast.AST | None) -> bool:
    """`X = np.squeeze(X)`: names assigned from themselves, and nothing else."""
    return (
        isinstance(stmt, ast.Assign)
        and all(isinstance(t, ast.Name) for t in stmt.targets)
        and {t.id for t in stmt.targets} <= _reads(stmt.value)
    )


def _raising_line(student: Callable, exc: BaseException) -> int | None:
    """The line of the student's function that the exception came from (the last frame
    of its code in the traceback: the failing line, or the call that failed)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is student.__code__:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


#: Calls that read memory where their arguments say: an edited argument (a stride, a
#: shape) reads outside the array and crashes the student's kernel (a segfault).
UNSAFE = {"as_strided"}


def _unsafe(tree: ast.AST) -> bool:
    """Whether the function calls code that an edit could make read outside memory."""
    return any(
        (isinstance(n, ast.Attribute) and n.attr in UNSAFE)
        or (isinstance(n, ast.Name) and n.id in UNSAFE)
        for n in ast.walk(tree)
    )


def _students(fn: Callable) -> list[tuple[Callable, Any]]:
    """The functions to edit, each with the closure cell that holds it when the check calls
    the student's functions through a wrapper of its own (`run(...)` calling `fn(...)`,
    or forward and backward together); (fn, None) when fn is the student's own."""
    if not inspect.isfunction(fn):  # e.g. the judge's replay of reported results
        return []
    inner = inspect.unwrap(fn)  # functools.wraps keeps the student's name and module
    if not _is_course(fn) and inner is fn:
        return [(fn, None)]
    found = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            held = cell.cell_contents
        except ValueError:
            continue
        if inspect.isfunction(held) and not _is_course(held):
            found.append((held, cell))
    return found


def _is_course(fn: Callable) -> bool:
    """Code of the course or of the reference: never edited."""
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in ("course", "solutions")


def _all_pass(passes, fn, cell, edited, cases, timer: float) -> bool:
    if cell is None:
        return all(_passes_bounded(passes, edited, case, timer) for case in cases)
    original = cell.cell_contents
    cell.cell_contents = edited  # the wrapper now calls the edited function
    try:
        return all(_passes_bounded(passes, fn, case, timer) for case in cases)
    finally:
        cell.cell_contents = original


def _named(fn: Callable, edit: _Edit, first_line: int, lines: list[str], places: int, tree=None):
    line = first_line + edit.line - 1
    code = lines[edit.line - 1].strip()
    others = "the other place" if places == 2 else f"the {places - 1} other places"
    also = "" if places == 1 else f" (and the same at {others} written alike)"
    if places == 1 and not edit.note and tree is not None:
        also = _which(tree, edit)
    change = edit.says or f"writing `{edit.new}` for `{edit.old}`{edit.note}{also}"
    beside = "the lecture's formula"
    if edit.kind in CONVENTIONS:
        beside = "the documentation of what it calls"
    elif edit.kind == "default":
        beside = "the exercise's docstring"
    return Repair(
        f"repair:{edit.kind}",
        f"{SAYS[edit.kind]}: in line {line} of your {fn.__name__}, `{code}`, {change} makes "
        "every case of this check pass",
        f"Read that line again with {beside} beside it; the edit above is the smallest "
        "change that fixes it, not necessarily the way to write it.",
    )


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def _which(tree: ast.FunctionDef, edit: _Edit) -> str:
    """Which of the places in the line written like the edited one it is, where the line
    has more than one (`[1, 2, 1]` twice: the second)."""
    try:
        node = _at(tree, edit.path)
    except (AttributeError, IndexError, TypeError):
        return ""
    if not isinstance(node, ast.expr):
        return ""
    text = _src(node)
    columns = sorted(
        n.col_offset
        for n in ast.walk(tree)
        if type(n) is type(node) and getattr(n, "lineno", None) == node.lineno and _src(n) == text
    )
    if len(columns) < 2 or columns.index(node.col_offset) >= len(ORDINALS):
        return ""
    return f" (the {ORDINALS[columns.index(node.col_offset)]} of the {len(columns)} in that line)"


def _shape(node: ast.AST) -> str:
    """The node with every name blanked: `r + kh - 1` and `c + kw - 1` look alike."""
    blank = copy.deepcopy(node)
    for n in ast.walk(blank):
        if isinstance(n, ast.Name):
            n.id = "_"
    return ast.dump(blank, annotate_fields=False)


def _shapes(tree: ast.AST) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for path, node, _ in _paths(tree):
        if path and isinstance(node, (ast.expr, ast.stmt)):
            found.setdefault(_shape(node), []).append(path)
    return found


def _parse(fn: Callable) -> tuple[ast.FunctionDef | None, str, int]:
    code = getattr(fn, "__code__", None)
    module = getattr(fn, "__module__", "") or ""
    if (
        code is None
        or module.startswith("course")
        or fn.__name__ == "<lambda>"
        or getattr(fn, "__closure__", None)
    ):
        return None, "", 0
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None, "", 0
    if len(lines) > MAX_LINES:
        return None, "", 0
    source = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None, "", 0
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return None, "", 0
    _split_pairs(node)
    return node, source, first_line


def _split_pairs(tree: ast.FunctionDef) -> None:
    """`i, j = 0, 0` becomes `i = 0` and `j = 0` on the same line, so that a statement
    operator (a move into a loop, a step left out) can reach one of them. Only where every
    value is a constant: `a, b = b, a` stays a swap, and `s, p = stride, padding` a pair
    that the `swapped` operator may turn round."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            split = []
            for stmt in block:
                pair = _pair_parts(stmt)
                if pair is None:
                    split.append(stmt)
                    continue
                for target, value in pair:
                    one = ast.Assign([target], value)
                    ast.copy_location(one, stmt)
                    one.course_split = True  # the message names this part of the line
                    split.append(one)
            block[:] = split


def _pair_parts(stmt: ast.stmt) -> list[tuple[ast.Name, ast.expr]] | None:
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    targets, values = stmt.targets[0], stmt.value
    if not (isinstance(targets, ast.Tuple) and isinstance(values, ast.Tuple)):
        return None
    names = [t.id for t in targets.elts if isinstance(t, ast.Name)]
    if len(names) != len(targets.elts) or len(set(names)) != len(names):
        return None
    if len(values.elts) != len(names) or any(isinstance(v, ast.Starred) for v in values.elts):
        return None
    if not all(isinstance(v, ast.Constant) for v in values.elts):
        return None  # `s, p = stride, padding` stays a pair: the two may be swapped
    return list(zip(targets.elts, values.elts, strict=True))


def _build(fn: Callable, tree: ast.FunctionDef, apply, paths) -> Callable | None:
    new = copy.deepcopy(tree)
    try:
        targets = [_at(new, path) for path in paths]  # all found before any is changed
        for target in targets:
            apply(target)
        if ast.dump(new) == ast.dump(tree):
            return None  # the edit changes nothing (a pair that this line only assigns)
        module = ast.Module([new], [])
        ast.fix_missing_locations(module)
        code = compile(module, f"<edited {fn.__name__}>", "exec")
        space: dict = {}
        exec(code, fn.__globals__, space)  # defines the edited function, runs nothing else
    except Exception:
        return None
    edited = space.get(fn.__name__)
    same_signature = ast.dump(new.args) == ast.dump(tree.args)
    if edited is not None and fn.__defaults__ is not None and same_signature:
        edited.__defaults__ = fn.__defaults__  # the very objects (an rng) the student's has
    return edited


class _TooLongError(Exception):
    pass


def _passes_bounded(passes, edited, case, timer: float) -> bool:
    def stop(signum, frame):
        raise _TooLongError

    out = io.StringIO()
    previous = signal.signal(signal.SIGALRM, stop) if timer else None
    try:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, timer)
        # An edit's output and warnings are not the student's: none of them is shown.
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(out),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            return bool(passes(edited, case))
    except BaseException as exc:  # the edited code may raise anything, or run too long
        if isinstance(exc, KeyboardInterrupt):
            raise
        return False
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------
# The operators
# ---------------------------------------------------------------------------------------


def _paths(tree: ast.AST) -> Iterator[tuple[tuple, ast.AST, ast.AST | None]]:
    """(path, node, parent) for every node, in source order."""

    def walk(node, path, parent):
        yield path, node, parent
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        yield from walk(item, (*path, (field, i)), node)
            elif isinstance(value, ast.AST):
                yield from walk(value, (*path, (field, None)), node)

    yield from walk(tree, (), None)


def _at(tree: ast.AST, path: tuple) -> ast.AST:
    node = tree
    for field, i in path:
        node = getattr(node, field) if i is None else getattr(node, field)[i]
    return node


def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def _replace_with(make: Callable[[ast.AST], ast.AST]) -> Callable[[ast.AST], None]:
    """An edit that replaces the node by `make(node)`, in place (the node's own fields
    become those of the new node)."""

    def apply(node):
        new = make(copy.deepcopy(node))
        node.__class__ = new.__class__
        node.__dict__.clear()
        node.__dict__.update(new.__dict__)

    return apply


def _plus(node: ast.AST, k: int) -> ast.AST:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return ast.Constant(node.value + k)
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.right, ast.Constant)
        and isinstance(node.right.value, int)
        and isinstance(node.op, (ast.Add, ast.Sub))
    ):
        value = node.right.value if isinstance(node.op, ast.Add) else -node.right.value
        value += k
        if value == 0:
            return node.left
        op = ast.Add() if value > 0 else ast.Sub()
        return ast.BinOp(node.left, op, ast.Constant(abs(value)))
    return ast.BinOp(node, ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


def _bounds(node: ast.AST, parent: ast.AST | None) -> bool:
    """An expression that counts positions: an argument of range(), a slice's bound, an
    index, or the right side of a size computation (`H_out = ...`)."""
    if isinstance(parent, ast.Call) and _name(parent.func) == "range":
        return node in parent.args
    if isinstance(parent, ast.Slice):
        return node in (parent.lower, parent.upper)
    return False


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _edits(tree: ast.FunctionDef, lines: list[str], space: dict | None = None) -> Iterator[_Edit]:
    """Every single edit, the likeliest operators first."""
    nodes = [(p, n, parent) for p, n, parent in _paths(tree) if p]
    body = [(p, n, parent) for p, n, parent in nodes if hasattr(n, "lineno")]
    yield from _convention_edits(tree, body, space or {})
    # Sizes assigned from arithmetic (H_out = H - KH): an off-by-one often sits there.
    sized = {
        id(v)
        for _, n, _ in body
        if isinstance(n, ast.Assign)
        and all(isinstance(t, (ast.Name, ast.Tuple)) for t in n.targets)
        for v in (n.value.elts if isinstance(n.value, ast.Tuple) else [n.value])
        if isinstance(v, ast.BinOp)
    }  # and H_out, W_out = H - KH, W - KW
    for path, node, parent in body:
        if _bounds(node, parent) or id(node) in sized:
            for k in (1, -1):
                new = _plus(node, k)
                yield _Edit(
                    "off_by_one", node.lineno, _src(node), _src(new), _replace_with(
                        lambda n, k=k: _plus(n, k)
                    ), path,
                )  # fmt: skip
    inclusive = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
    for path, node, _ in body:  # `i < n` where `i <= n` is meant, or the other way round
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in inclusive:
            other = inclusive[type(node.ops[0])]()
            new = ast.Compare(node.left, [other], node.comparators)
            yield _Edit("off_by_one", node.lineno, _src(node), _src(new), _set_compare(other), path)
    for path, node, _ in body:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv)):
            other = ast.FloorDiv() if isinstance(node.op, ast.Div) else ast.Div()
            new = ast.BinOp(node.left, other, node.right)
            yield _Edit("division", node.lineno, _src(node), _src(new), _set_op(other), path)
        if isinstance(node, ast.Call) and _name(node.func) in ("round", "ceil", "rint", "floor"):
            for alternative in ("floor", "ceil", "round"):
                if alternative == _name(node.func):
                    continue
                new = _rounded(node, alternative)
                if new is not None:
                    yield _Edit(
                        "rounding", node.lineno, _src(node), _src(new),
                        _replace_with(lambda n, a=alternative: _rounded(n, a)), path,
                    )  # fmt: skip
    for path, node, _ in body:
        if isinstance(node, ast.Call) and _name(node.func) in REDUCTIONS:
            yield from _axis_edits(path, node)
    for path, node, _ in body:
        if isinstance(node, (ast.Assign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t_index, target in enumerate(targets):
                if isinstance(target, ast.Tuple) and len(target.elts) == 2:
                    new = ast.Tuple(target.elts[::-1], ast.Store())
                    field = ("targets", t_index) if isinstance(node, ast.Assign) else None
                    where = (*path, field) if field else (*path, ("target", None))
                    yield _Edit(
                        "swapped", node.lineno, _src(target), _src(new), _reverse_tuple, where
                    )
    for path, node, _ in body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            new = ast.copy_location(ast.AugAssign(node.targets[0], ast.Add(), node.value), node)
            yield _Edit("accumulate", node.lineno, _src(node), _src(new), _to_augmented, path)
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            new = ast.copy_location(ast.Assign([node.target], node.value), node)
            yield _Edit("accumulate", node.lineno, _src(node), _src(new), _to_assign, path)
    for path, node, parent in body:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            other = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            new = ast.BinOp(node.left, other, node.right)
            yield _Edit("sign", node.lineno, _src(node), _src(new), _set_op(other), path)
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            # X.shape[-1] for X.shape[1] is another position, not a sign
            and not (isinstance(node.operand, ast.Constant) and _is_index(node, parent))
        ):
            yield _Edit(
                "sign", node.lineno, _src(node), _src(node.operand),
                _replace_with(lambda n: n.operand), path,
            )  # fmt: skip
        if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
            other = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()  # ascent, descent
            new = ast.AugAssign(node.target, other, node.value)
            yield _Edit("sign", node.lineno, _src(node), _src(new), _set_op(other), path)
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in NEGATED_ARGUMENT
            and len(node.args) == 1
            and not (
                isinstance(node.args[0], ast.UnaryOp) and isinstance(node.args[0].op, ast.USub)
            )
        ):
            new = ast.Call(node.func, [ast.UnaryOp(ast.USub(), node.args[0])], node.keywords)
            yield _Edit("sign", node.lineno, _src(node), _src(new), _negate_argument, path)
    for path, node, _ in body:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            for side in ("left", "right"):
                if side == "right" and isinstance(node.op, ast.Sub):
                    continue  # a - b without a is -b: a sign, not a term
                kept = getattr(node, side)
                yield _Edit(
                    "extra_term", node.lineno, _src(node), _src(kept),
                    _replace_with(lambda n, side=side: getattr(n, side)), path,
                )  # fmt: skip
        regrouped = _regrouped(node)
        if regrouped is not None:  # a + b - k // s where (a + b - k) // s is meant
            yield _Edit(
                "precedence", node.lineno, _src(node), _src(regrouped),
                _replace_with(_regrouped), path,
            )  # fmt: skip
        swappable = ("divmod", "unravel_index", "reshape", "zeros", "ones")
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and not node.keywords
            # the listed ones, and any plain function: corr2d(K, X) for corr2d(X, K)
            and (_name(node.func) in swappable or isinstance(node.func, ast.Name))
        ):
            new = ast.Call(node.func, node.args[::-1], [])
            yield _Edit("swapped", node.lineno, _src(node), _src(new), _reverse_args, path)
    for path, node, _ in body:  # (KW, KH) where (KH, KW) is meant
        if (
            isinstance(node, ast.Tuple)
            and isinstance(node.ctx, ast.Load)
            and len(node.elts) == 2
            and all(isinstance(e, ast.Name) for e in node.elts)
        ):
            new = ast.Tuple(node.elts[::-1], ast.Load())
            yield _Edit("swapped", node.lineno, _src(node), _src(new), _reverse_tuple, path)
    for path, node, _ in body:  # return dx, db, dw where dx, dw, db belongs
        if (
            isinstance(node, ast.Tuple)
            and isinstance(node.ctx, ast.Load)
            and len(node.elts) > 2
            and all(isinstance(e, ast.Name) for e in node.elts)
        ):
            for i, j in itertools.combinations(range(len(node.elts)), 2):
                swapped = [e.id for e in node.elts]
                swapped[i], swapped[j] = swapped[j], swapped[i]
                made = _replace_with(
                    lambda n, names=tuple(swapped): ast.Tuple(
                        [ast.Name(x, ast.Load()) for x in names], ast.Load()
                    )
                )
                new = f"({', '.join(swapped)})"
                yield _Edit("swapped", node.lineno, _src(node), new, made, path, alike=False)
    pairs = {  # names unpacked together: KH, KW = K.shape
        tuple(e.id for e in t.elts)
        for _, n, _ in body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Tuple)
        and len(t.elts) == 2
        and all(isinstance(e, ast.Name) for e in t.elts)
    }
    for path, node, _ in body:  # X[i:i + KW, j:j + KH]: the pair read the other way round
        if not isinstance(node, (*STEPS, ast.Return)):
            continue
        read = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        for a, b in sorted(pairs):
            if a in read and b in read:
                make = _names_swapped(a, b)
                yield _Edit(
                    "swapped", node.lineno, _src(node), _src(make(copy.deepcopy(node))),
                    _replace_with(make), path, alike=False,
                )  # fmt: skip
    loops = {  # each for loop's path, and its variable
        p: n.target.id
        for p, n, _ in nodes
        if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
    }
    for path, node, _ in body:  # K[0] where K[c] is meant, inside `for c in ...`
        if not isinstance(node, ast.Subscript):
            continue
        inside = [v for p, v in loops.items() if _within(path, p)]
        for position in _constant_indices(node):
            for name in inside:
                make = _indexed_by(position, name)
                yield _Edit(
                    "index", node.lineno, _src(node), _src(make(copy.deepcopy(node))),
                    _replace_with(make), path, alike=False,
                )  # fmt: skip
    for path, node, _ in body:  # range(0, H_out, s) where every row has an output
        if isinstance(node, ast.Call) and _name(node.func) == "range" and len(node.args) == 3:
            new = ast.Call(node.func, node.args[:2], node.keywords)
            yield _Edit(
                "step", node.lineno, _src(node), _src(new),
                _replace_with(lambda n: ast.Call(n.func, n.args[:2], n.keywords)), path,
            )  # fmt: skip
    for path, node, _ in _paths(tree):  # two neighbouring steps, the other way round
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for i in range(len(block) - 1):
                first, second = block[i], block[i + 1]
                if (
                    isinstance(first, STEPS)
                    and isinstance(second, STEPS)
                    and not _swap_discards(tree, first, second)
                ):
                    yield _Edit(
                        "order", first.lineno, f"{_src(first)}; {_src(second)}",
                        f"{_src(second)}; {_src(first)}", _swap_steps(field, i), path,
                        alike=False,
                    )  # fmt: skip
    twins = _twins(tree, pairs)
    # The same name in the same expression elsewhere (`j * sh` at both ends of a slice),
    # which an edit of one place changes too.
    within: dict[tuple, list] = {}
    for p, n, parent in body:
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and parent is not None:
            within.setdefault((n.id, _src(parent)), []).append(p)
    for path, node, parent in body:  # sh where sw belongs, H_out where W_out belongs
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            alike = tuple(p for p in within.get((node.id, _src(parent)), ()) if p != path)
            for other in twins.get(node.id, ()):
                yield _Edit(
                    "name", node.lineno, node.id, other, _replace_with(_renamed(other)),
                    path, alike=bool(alike), places=alike,
                    note=f" in `{_src(parent)}`" if alike else "",
                )  # fmt: skip
    for path, node, _ in body:  # KH ** 2 where KH * KW belongs: a square kernel assumed
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Pow)
            and isinstance(node.left, ast.Name)
            and isinstance(node.right, ast.Constant)
            and node.right.value == 2
        ):
            for other in twins.get(node.left.id, ()):
                times = _replace_with(
                    lambda n, other=other: ast.BinOp(
                        copy.deepcopy(n.left), ast.Mult(), ast.Name(other, ast.Load())
                    )
                )
                new = f"{node.left.id} * {other}"
                yield _Edit("square", node.lineno, _src(node), new, times, path, alike=False)
    for path, node, _ in body:  # i * k + p, j * k + q: the same name twice in one statement
        if not isinstance(node, (*STEPS, ast.Return)):
            continue
        read = [
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        ]
        for name in sorted({n for n in read if read.count(n) > 1}):
            for other in twins.get(name, ()):
                yield _Edit(
                    "name", node.lineno, name, other, _replace_with(_read_as(name, other)),
                    path, alike=False, note=f" at each of the {read.count(name)} places in it",
                )  # fmt: skip
    for path, node, _ in body:  # x.shape[2] where x.shape[3] belongs
        if (
            isinstance(node, ast.Subscript)
            and _name(node.value) == "shape"
            and type(_literal(node.slice)) is int
        ):
            for axis in (0, 1, 2, 3, -1, -2):
                if axis != _literal(node.slice):
                    new = copy.deepcopy(node)
                    new.slice = ast.Constant(axis)
                    yield _fixed("name", node, new, path)
    for path, node, _ in body:  # np.arange(-c, c) where np.arange(-c, c + 1) is meant
        if isinstance(node, ast.Call) and _name(node.func) == "arange":
            for i, arg in enumerate(node.args):
                for k in (1, -1):
                    new = copy.deepcopy(node)
                    new.args[i] = _plus(copy.deepcopy(arg), k)
                    yield _fixed("off_by_one", node, new, path)
    for path, node, _ in body:  # range(C) where channel 0 was already counted: range(1, C)
        if isinstance(node, ast.Call) and _name(node.func) == "range" and len(node.args) == 1:
            new = ast.Call(node.func, [ast.Constant(1), node.args[0]], node.keywords)
            yield _Edit(
                "off_by_one", node.lineno, _src(node), _src(new),
                _replace_with(lambda n: ast.Call(n.func, [ast.Constant(1), n.args[0]], n.keywords)),
                path, alike=False,
            )  # fmt: skip
    for path, node, _ in body:  # for i in range(W_out): for j in range(H_out): swapped
        if isinstance(node, ast.For) and len(node.body) >= 1 and isinstance(node.body[0], ast.For):
            inner = node.body[0]
            new = f"for {_src(node.target)} in {_src(inner.iter)}: for {_src(inner.target)} in "
            new += _src(node.iter)
            old = f"for {_src(node.target)} in {_src(node.iter)}: for {_src(inner.target)} in "
            old += _src(inner.iter)
            yield _Edit("swapped", node.lineno, old, new, _swap_loop_ranges, path, alike=False)
    products: dict[tuple, list] = {}  # (operator, name, side) -> paths of `i * k`, `j * k`
    for p, n, _ in body:
        if (
            isinstance(n, ast.BinOp)
            and all(isinstance(x, ast.Name) for x in (n.left, n.right))
            and n.left.id != n.right.id
        ):
            products.setdefault((type(n.op), n.left.id, "left"), []).append(p)
            products.setdefault((type(n.op), n.right.id, "right"), []).append(p)
    for path, node, parent in body:  # i * k + p, j * k + q: k where s belongs, in each product
        if not (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and isinstance(parent, ast.BinOp)
            and isinstance(parent.left, ast.Name)
            and isinstance(parent.right, ast.Name)
            and parent.left.id != parent.right.id
        ):
            continue
        side = "left" if parent.left is node else "right"
        places = tuple(p for p in products[type(parent.op), node.id, side] if p != path[:-1])
        # Only the products written exactly alike (`j * sh` at both ends of a slice, where
        # `i * sh` stays), then every product with that name on that side.
        same = tuple(p for p in places if _src(_at(tree, p)) == _src(parent))
        for group in (same, places) if same and len(same) < len(places) else (places,):
            for other in twins.get(node.id, ()):
                yield _Edit(
                    "name", node.lineno, node.id, other, _replace_with(_read_as(node.id, other)),
                    path[:-1], note=f" in `{_src(parent)}`", places=group,
                )  # fmt: skip
    for path, node, _ in body:  # rng.uniform(bound, -bound, size=...): any two arguments
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and (node.keywords or not isinstance(node.func, ast.Name))
            and not any(isinstance(a, ast.Starred) for a in node.args)
        ):
            new = ast.Call(node.func, node.args[::-1], node.keywords)
            yield _Edit("swapped", node.lineno, _src(node), _src(new), _reverse_args, path)
    for path, node, _ in body:  # k * 2 (or LaTeX's k ^ 2) where k ** 2 is meant, or back
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Pow, ast.BitXor)):
            other = ast.Mult() if isinstance(node.op, ast.Pow) else ast.Pow()
            new = ast.BinOp(node.left, other, node.right)
            yield _Edit("power", node.lineno, _src(node), _src(new), _set_op(other), path)
    indices = {  # K[2, 2]: a position, whose sign is never the mistake (K[-2, -2] is K[1, 1])
        id(n) for s in ast.walk(tree) if isinstance(s, ast.Subscript) for n in ast.walk(s.slice)
    }
    for path, node, parent in body:  # np.pad(..., constant_values=np.inf) where -inf belongs
        if _name(node) == "inf" and not isinstance(parent, ast.UnaryOp | ast.Attribute):
            negated = _replace_with(lambda n: ast.UnaryOp(ast.USub(), n))
            yield _Edit("sign", node.lineno, _src(node), f"-{_src(node)}", negated, path)
    for path, node, parent in body:  # [[0, 1, 0], [1, 5, 1], ...] where the 1s are -1
        if (
            isinstance(node, ast.Constant)
            and type(node.value) in (int, float)
            and node.value != 0
            and id(node) not in indices
            and not isinstance(parent, (ast.UnaryOp, ast.Subscript, ast.keyword))
            # `s ** -2` for `s ** 2` is a reciprocal, not a sign
            and not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow))
        ):
            yield _Edit(
                "sign", node.lineno, _src(node), repr(-node.value),
                _replace_with(lambda n: ast.Constant(-n.value)), path,
            )  # fmt: skip
    for path, node, _ in body:  # logits - np.max(logits, axis=1): the axis is dropped
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in REDUCTIONS
            and any(k.arg == "axis" for k in node.keywords)
            and not any(k.arg == "keepdims" for k in node.keywords)
        ):
            new = copy.deepcopy(node)
            new.keywords.append(ast.keyword("keepdims", ast.Constant(True)))
            yield _fixed("keepdims", node, new, path)
    given = {a.arg for a in (*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs)}
    for path, node, parent in body:  # `+ b` inside `for f in ...` where `+ b[f]` belongs
        if (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id in given
            and not (isinstance(parent, ast.Subscript) and parent.value is node)
            and not (isinstance(parent, ast.Attribute) and parent.value is node)
            and not (isinstance(parent, ast.Call) and parent.func is node)
        ):
            for name in [v for p, v in loops.items() if _within(path, p)]:
                new = ast.Subscript(
                    ast.Name(node.id, ast.Load()), ast.Name(name, ast.Load()), ast.Load()
                )
                yield _fixed("entry", node, new, path, old=node.id)

    yield from _broad_edits(body, space or {})
    yield from _late_edits(tree, body)
    yield from _last_edits(tree, body, space or {})
    yield from _left_out(body)


def _convention_edits(tree: ast.FunctionDef, body: list, space: dict) -> Iterator[_Edit]:
    """A library's or Python's convention read another way, where the code shows it: a
    slice that ends at `-p` (empty when p is 0), `np.pad`'s widths (one pair per axis),
    `squeeze()` without its axes, keyword-only arguments given by position, a shape given
    as separate arguments, `is` for `==`, a pair unpacked from what may be one int. Each
    matches few places, so they are tried first."""
    for path, node, parent in body:  # Y[p:-p] is empty when p == 0: `-p or None`
        if (
            isinstance(parent, ast.Slice)
            and node is parent.upper
            and isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and not isinstance(node.operand, ast.Constant)
        ):
            new = ast.BoolOp(ast.Or(), [node, ast.Constant(None)])
            yield _Edit(
                "negative_end", node.lineno, _src(node), _src(new),
                _replace_with(lambda n: ast.BoolOp(ast.Or(), [n, ast.Constant(None)])), path,
            )  # fmt: skip
    for path, node, _ in body:  # np.pad(x, (PH, PW)) where ((PH, PH), (PW, PW)) belongs
        if isinstance(node, ast.Call) and _name(node.func) == "pad" and len(node.args) >= 2:
            for widths in _pad_widths(node.args[1]):
                new = copy.deepcopy(node)
                new.args[1] = widths
                yield _fixed(
                    "pad_width", node, new, path, old=_src(node.args[1]), text=_src(widths)
                )
    for path, node, _ in body:  # X.squeeze(), Y.astype(int), model(x).detach(): dropped
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in DROPPED_METHODS
            and (node.func.attr == "astype" or not (node.args or node.keywords))
        ):
            yield _Edit(
                DROPPED_METHODS[node.func.attr], node.lineno, _src(node),
                _src(node.func.value), _replace_with(lambda n: n.func.value), path,
            )  # fmt: skip
    for path, node, _ in body:  # K.squeeze() drops C_in when it is 1: give the axes
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "squeeze"
            and not node.keywords
            # np.squeeze(K) or K.squeeze(), with no axes given
            and len(node.args) == (1 if _name(node.func.value) in ("np", "torch") else 0)
        ):
            for axes in (0, 1, -1, (2, 3), (0, 1), (-2, -1)):
                new = copy.deepcopy(node)
                new.keywords = [ast.keyword("axis", ast.Constant(axes))]
                yield _fixed("squeeze", node, new, path)
    for path, node, _ in body:  # np.zeros_like(x) of an integer x, where floats are stored
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in ("zeros_like", "ones_like", "empty_like")
            and not any(k.arg == "dtype" for k in node.keywords)
        ):
            new = copy.deepcopy(node)
            new.keywords.append(ast.keyword("dtype", ast.Name("float", ast.Load())))
            yield _fixed("dtype", node, new, path)
    for path, node, _ in body:  # log_p[y, np.arange(N)] where log_p[np.arange(N), y] belongs
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Tuple)
            and len(node.slice.elts) == 2
            and not any(isinstance(e, ast.Slice) for e in node.slice.elts)
            and _src(node.slice.elts[0]) != _src(node.slice.elts[1])
        ):
            new = copy.deepcopy(node)
            new.slice.elts.reverse()
            yield _fixed("swapped", node, new, path)
    for path, node, _ in body:  # np.tensordot(window, K) pairs only the last two axes
        if isinstance(node, ast.Call) and _name(node.func) == "tensordot" and len(node.args) >= 2:
            given = [k for k in node.keywords if k.arg == "axes"]
            old = _src(given[0].value) if given else (_src(node.args[2]) if len(node.args) > 2
                                                     else None)  # fmt: skip
            for axes in (1, 2, 3, ([1, 2, 3], [1, 2, 3]), ([0, 1, 2], [1, 2, 3])):
                if old == repr(axes) or (old is None and axes == 2):
                    continue
                new = copy.deepcopy(node)
                new.args = new.args[:2]
                new.keywords = [k for k in new.keywords if k.arg != "axes"]
                new.keywords.append(ast.keyword("axes", _constant(axes)))
                yield _fixed("tensordot", node, new, path)
    for path, node, _ in body:  # nn.Sequential({...}): only an OrderedDict names layers
        if (
            isinstance(node, ast.Call)
            and _name(node.func) == "Sequential"
            and len(node.args) == 1
            and isinstance(node.args[0], (ast.Dict, ast.DictComp))
            and "OrderedDict" in space
        ):
            new = copy.deepcopy(node)
            new.args = [ast.Call(ast.Name("OrderedDict", ast.Load()), [new.args[0]], [])]
            yield _fixed("ordered", node, new, path, old="{...}", text="OrderedDict({...})")
    for path, node, _ in body:  # [1, 2, 1] where [-1, -2, -1] belongs: a row's minus signs
        if (
            isinstance(node, ast.List)
            and len(node.elts) >= 2
            and all(isinstance(e, ast.Constant) and type(e.value) in (int, float)
                    for e in node.elts)
            and any(e.value for e in node.elts)
        ):  # fmt: skip
            new = ast.List([ast.Constant(-e.value) for e in node.elts], ast.Load())
            yield _fixed("sign", node, new, path)
    yield from _default_edits(tree)
    yield from _as_elsewhere(body)
    for path, node, _ in body:  # np.einsum("oihw,ihw->oi", ...) where "->oij" was meant
        spec = node.args[0] if isinstance(node, ast.Call) and node.args else None
        if not (
            _name(node.func if isinstance(node, ast.Call) else None) == "einsum"
            and isinstance(spec, ast.Constant)
            and isinstance(spec.value, str)
            and spec.value.count("->") == 1
        ):
            continue
        inputs, out = spec.value.replace(" ", "").split("->")
        for letter in sorted(set(inputs) - set(out) - {","}):
            for at in range(len(out) + 1):
                new = ast.Constant(f"{inputs}->{out[:at]}{letter}{out[at:]}")
                yield _fixed("einsum", spec, new, (*path, ("args", 0)))
    if "torch" in space:
        for path, node, _ in body:  # x.to(device) of a batch that may be a numpy array
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "to"
                and isinstance(node.func.value, ast.Name)
            ):
                new = _as_tensor(node)
                yield _Edit(
                    "conversion", node.lineno, _src(node), _src(new),
                    _replace_with(_as_tensor), path,
                )  # fmt: skip
    for path, node, _ in body:  # torch.from_numpy(x) of a batch that may be a tensor
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_numpy"
        ):
            yield _Edit(
                "function", node.lineno, "from_numpy", "as_tensor",
                lambda n: setattr(n.func, "attr", "as_tensor"), path,
            )  # fmt: skip
    for path, node, parent in body:  # -t // 2 where the ceiling -(-t // 2) belongs
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.FloorDiv)
            and isinstance(node.left, ast.UnaryOp)
            and isinstance(node.left.op, ast.USub)
            and not (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub))
        ):
            new = ast.UnaryOp(ast.USub(), node)
            yield _Edit(
                "sign", node.lineno, _src(node), _src(new),
                _replace_with(lambda n: ast.UnaryOp(ast.USub(), n)), path,
            )  # fmt: skip
    for path, node, _ in body:  # pool2d(x, k, s, p) where stride=, padding= are keywords
        named = _by_keyword(node, space)
        if named is not None:
            yield _Edit(
                "keyword", node.lineno, _src(node), _src(named),
                _replace_with(lambda n, named=named: copy.deepcopy(named)), path, alike=False,
            )  # fmt: skip
    given = {a.arg for a in (*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs)}
    if callable(space.get("as_pair")):
        for path, node, _ in body:  # KH, KW = size where size may be one int
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Tuple)
                and len(node.targets[0].elts) == 2
                and isinstance(node.value, ast.Name)
                and node.value.id in given
            ):
                new = ast.Call(ast.Name("as_pair", ast.Load()), [node.value], [])
                yield _fixed("as_pair", node.value, new, (*path, ("value", None)))
    for path, node, _ in body:  # np.ones(k, k) where np.ones((k, k)) belongs
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in ("zeros", "ones", "empty")
            and len(node.args) >= 2
            and not any(isinstance(a, (ast.Starred, ast.Constant)) for a in node.args[1:])
        ):
            new = ast.Call(node.func, [ast.Tuple(list(node.args), ast.Load())], node.keywords)
            yield _fixed("shape_args", node, new, path)
    for path, node, _ in body:  # mode is "max" where mode == "max" belongs
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.Is, ast.IsNot))
            and any(isinstance(c, ast.Constant) and c.value is not None
                    for c in (node.left, *node.comparators))
        ):  # fmt: skip
            other = ast.Eq() if isinstance(node.ops[0], ast.Is) else ast.NotEq()
            new = ast.Compare(node.left, [other], node.comparators)
            yield _Edit("identity", node.lineno, _src(node), _src(new), _set_compare(other), path)


def _broad_edits(body: list, space: dict) -> Iterator[_Edit]:
    """Conventions again, where the pattern is common: a slice that ends at a length, `or`
    for `and`, `%` for `//`, a difference kept signed. Tried after the specific operators."""
    for path, node, _ in body:  # X[start:batch_size] where start + batch_size belongs
        if (
            isinstance(node, ast.Slice)
            and isinstance(node.upper, (ast.Name, ast.Attribute, ast.Subscript))
            and node.lower is not None
            and not isinstance(node.lower, ast.Constant)
            and not _reads(node.upper) & _reads(node.lower)
        ):
            new = ast.Slice(node.lower, ast.BinOp(node.lower, ast.Add(), node.upper), node.step)
            yield _Edit(
                "slice_length", node.lineno, _src(node), _src(new),
                _replace_with(lambda n: ast.Slice(
                    n.lower, ast.BinOp(copy.deepcopy(n.lower), ast.Add(), n.upper), n.step
                )), path,
            )  # fmt: skip
    for path, node, _ in body:  # mode != "max" or mode != "avg": true for every mode
        if isinstance(node, ast.BoolOp):
            other = ast.And() if isinstance(node.op, ast.Or) else ast.Or()
            new = ast.BoolOp(other, node.values)
            yield _Edit(
                "logic", node.lineno, _src(node), _src(new),
                _replace_with(lambda n, other=other: ast.BoolOp(other, n.values)), path,
            )  # fmt: skip
    for path, node, parent in body:  # (n - k) % s where (n - k) // s belongs
        # (not in a comparison: `k % 2 == 0` tests a parity, and `k // 2 == 0` steers)
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and not isinstance(parent, ast.Compare)
        ):
            new = ast.BinOp(node.left, ast.FloorDiv(), node.right)
            yield _Edit(
                "operator", node.lineno, _src(node), _src(new), _set_op(ast.FloorDiv()), path
            )
    if "np" in space:
        for path, node, parent in body:  # max((a - b) / ...) where |a - b| is measured
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Sub)
                and (
                    (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Div))
                    or (isinstance(parent, ast.Call) and _name(parent.func) in REDUCTIONS)
                )
            ):
                new = _np_call("abs", node)
                yield _Edit(
                    "absolute", node.lineno, _src(node), _src(new),
                    _replace_with(lambda n: _np_call("abs", n)), path, alike=False,
                )  # fmt: skip
    for path, node, parent in body:  # correct += (pred == y) where its count belongs
        if isinstance(node, ast.Compare) and (
            isinstance(parent, ast.AugAssign)
            or (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add))
        ):
            yield _Edit(
                "missing_sum", node.lineno, _src(node), _src(_summed(node)),
                _replace_with(_summed), path,
            )  # fmt: skip
    for path, node, _ in body:  # np.linalg.norm(d, "fro"): an argument that does not belong
        if (
            isinstance(node, ast.Call)
            and len(node.args) >= 2
            and not isinstance(node.args[-1], ast.Starred)
            and isinstance(node.func, ast.Attribute)
        ):
            new = ast.Call(node.func, node.args[:-1], node.keywords)
            key = (_src(node.func), _src(node.args[-1]))
            places = tuple(  # the same argument given to the same function elsewhere
                p for p, n, _ in body
                if p != path and isinstance(n, ast.Call) and len(n.args) >= 2
                and (_src(n.func), _src(n.args[-1])) == key
            )  # fmt: skip
            yield _Edit(
                "extra_argument", node.lineno, _src(node), _src(new),
                _replace_with(lambda n: ast.Call(n.func, n.args[:-1], n.keywords)), path,
                alike=bool(places), places=places,
            )  # fmt: skip


def _as_tensor(node: ast.Call) -> ast.Call:
    """`x.to(device)` as `torch.as_tensor(x).to(device)`."""
    torch_call = ast.Attribute(ast.Name("torch", ast.Load()), "as_tensor", ast.Load())
    converted = ast.Call(torch_call, [copy.deepcopy(node.func.value)], [])
    return ast.Call(ast.Attribute(converted, "to", ast.Load()), node.args, node.keywords)


def _summed(value: ast.expr) -> ast.Call:
    return ast.Call(ast.Attribute(copy.deepcopy(value), "sum", ast.Load()), [], [])


def _as_elsewhere(body: list) -> Iterator[_Edit]:
    """K passed as it is where the function elsewhere passes it flipped (`K[::-1, ::-1]`)
    or transposed (`K.T`): one branch of an if forgot what the other does."""
    forms: dict[str, list[ast.expr]] = {}
    for _, n, _ in body:
        inner = n.value if isinstance(n, (ast.Subscript, ast.Attribute)) else None
        if not isinstance(inner, ast.Name):
            continue
        flipped = isinstance(n, ast.Subscript) and any(
            isinstance(e, ast.Slice) and e.step is not None
            for e in (n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice])
        )
        if (flipped or (isinstance(n, ast.Attribute) and n.attr == "T")) and not any(
            _src(f) == _src(n) for f in forms.get(inner.id, ())
        ):
            forms.setdefault(inner.id, []).append(n)
    for path, node, parent in body:
        if not (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id in forms
            and isinstance(parent, ast.Call)
            and node in parent.args
        ):
            continue
        for form in forms[node.id]:
            yield _fixed("as_elsewhere", node, copy.deepcopy(form), path)


def _default_edits(tree: ast.FunctionDef) -> Iterator[_Edit]:
    """mode="full" where the signature's default is "valid": each string default, given
    each other string that the function compares that parameter with."""
    args = tree.args
    positional = [*args.posonlyargs, *args.args]
    pairs = [
        (positional[len(positional) - len(args.defaults) + i].arg, d, ("defaults", i))
        for i, d in enumerate(args.defaults)
    ] + [(a.arg, d, ("kw_defaults", i)) for i, (a, d) in enumerate(
        zip(args.kwonlyargs, args.kw_defaults, strict=True)) if d is not None]  # fmt: skip
    for name, default, where in pairs:
        if not (isinstance(default, ast.Constant) and isinstance(default.value, str)):
            continue
        compared = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and name in _reads(node):
                compared += [
                    c.value
                    for c in ast.walk(node)
                    if isinstance(c, ast.Constant)
                    and isinstance(c.value, str)
                    and c.value != default.value
                    and c.value not in compared
                ]
        for value in compared:
            path = (("args", None), where)
            yield _fixed("default", default, ast.Constant(value), path)


def _swap_discards(tree: ast.FunctionDef, first: ast.stmt, second: ast.stmt) -> bool:
    """Whether putting `first` after `second` throws `first`'s work away: what it stores
    is read by `second` and nowhere else (`x = np.clip(x, ...)` before the one line that
    reads x). That swap is the step left out, said as an order."""
    if not isinstance(first, ast.Assign):
        return False
    stored = {n.id for t in first.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if not stored & _reads(second):
        return False
    spans = [(s.lineno, s.end_lineno) for s in (first, second)]
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Name)
            and n.id in stored
            and isinstance(n.ctx, ast.Load)
            and not any(a <= n.lineno <= b for a, b in spans)
        ):
            return False
    looped = any(
        isinstance(n, LOOPS) and n.lineno < first.lineno <= n.end_lineno for n in ast.walk(tree)
    )
    # In a loop, a value that reads itself (`v = mu * v + g`) is carried to the next pass.
    return not (looped and stored & _reads(first.value))


def _guard_of(tree: ast.FunctionDef, path: tuple) -> tuple | None:
    """The path of the `if` (without `else` or `raise`) whose test holds the node at
    `path`."""
    for i in range(len(path) - 1, -1, -1):
        if path[i] == ("test", None):
            owner = _at(tree, path[:i])
            # (not a guard that raises: the docstring asks for it, the cases lack its input)
            raises = any(isinstance(n, ast.Raise) for n in ast.walk(owner))
            if isinstance(owner, ast.If) and not owner.orelse and not raises:
                return path[:i]
            return None
    return None


def _is_index(node: ast.AST, parent: ast.AST | None) -> bool:
    """Whether `node` is an index of `parent` (`a[-1]`, `a[0, -1]`)."""
    if not isinstance(parent, (ast.Subscript, ast.Tuple)):
        return False
    return parent.slice is node if isinstance(parent, ast.Subscript) else node in parent.elts


def _fixed(kind: str, node: ast.AST, new: ast.AST, path: tuple, old=None, text=None) -> _Edit:
    """The edit that puts `new` where `node` is, at this place only."""
    return _Edit(
        kind, node.lineno, old or _src(node), text or _src(new),
        _replace_with(lambda n: copy.deepcopy(new)), path, alike=False,
    )  # fmt: skip


def _constant(value: Any) -> ast.expr:
    """The node for a literal int, or a tuple or list of them."""
    if isinstance(value, (tuple, list)):
        kind = ast.Tuple if isinstance(value, tuple) else ast.List
        return kind([_constant(v) for v in value], ast.Load())
    return ast.Constant(value)


def _reads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _np_call(name: str, *args: ast.expr) -> ast.Call:
    func = ast.Attribute(ast.Name("np", ast.Load()), name, ast.Load())
    return ast.Call(func, list(args), [])


def _pad_widths(widths: ast.expr) -> list[ast.expr]:
    """np.pad's widths written as if (rows, columns) or one number for the last two axes:
    the pair per axis that was meant, for a 2-D and a 4-D (N, C, H, W) array."""

    def pair(e):
        return ast.Tuple([e, copy.deepcopy(e)], ast.Load())

    def zeros():
        return ast.Tuple([ast.Constant(0), ast.Constant(0)], ast.Load())

    if isinstance(widths, ast.Tuple) and len(widths.elts) == 2:
        if any(isinstance(e, (ast.Tuple, ast.List)) for e in widths.elts):
            return []
        rows, cols = widths.elts
        return [
            ast.Tuple([pair(rows), pair(cols)], ast.Load()),
            ast.Tuple([zeros(), zeros(), pair(rows), pair(cols)], ast.Load()),
        ]
    if isinstance(widths, (ast.Name, ast.Attribute, ast.BinOp)):
        return [
            ast.Tuple([zeros(), zeros(), pair(widths), pair(widths)], ast.Load()),
            ast.Tuple([zeros(), pair(widths), pair(widths)], ast.Load()),
        ]
    return []


def _by_keyword(node: ast.AST, space: dict) -> ast.Call | None:
    """The call with its surplus positional arguments given by keyword, where the function
    it calls (a global of the student's) takes them only by keyword."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    if any(isinstance(a, ast.Starred) for a in node.args) or node.func.id not in space:
        return None
    try:
        parameters = list(inspect.signature(space[node.func.id]).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    extra = node.args[len(positional) :]
    given = {k.arg for k in node.keywords}
    if not extra or any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    free = [name for name in keyword if name not in given]
    if len(extra) > len(free):
        return None
    new = copy.deepcopy(node)
    new.args = new.args[: len(positional)]
    new.keywords = [
        ast.keyword(name, copy.deepcopy(a)) for name, a in zip(free, extra, strict=False)
    ] + new.keywords
    return new


def _identity(op: type, operand: ast.AST) -> bool:
    """`x * 1`, `x / 1`: an operation that changes nothing."""
    return (
        op in (ast.Mult, ast.Div)
        and isinstance(operand, ast.Constant)
        and type(operand.value) in (int, float)
        and operand.value == 1
    )


def _left_out(body: list) -> Iterator[_Edit]:
    """A step that does not belong (an even k made odd, a clipping, a rescaling): the
    statement left out, tried last of all. Assignments, calls and `if` blocks; never a
    return, a loop or the docstring."""
    for path, node, _ in body:
        if not path or path[-1][0] not in ("body", "orelse"):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr, ast.If)):
            yield _Edit(
                "extra_step", node.lineno, _src(node), "", _replace_with(lambda n: ast.Pass()),
                path, alike=False,
                says=f"leaving {_it(node)} out"
                + (" with its block" if isinstance(node, ast.If) else ""),
            )  # fmt: skip


def _late_edits(tree: ast.FunctionDef, body: list) -> Iterator[_Edit]:
    """The operators tried after the rest: each reaches more places than the others, so
    they come last, where they only name what nothing more specific named."""
    arithmetic = (ast.Add, ast.Sub, ast.Mult, ast.Div)
    for path, node, _ in body:  # corr2d(X, K) * b where + b belongs; Y *= m where +=
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, arithmetic):
            for other in arithmetic:
                if other is type(node.op) or {other, type(node.op)} == {ast.Add, ast.Sub}:
                    continue  # + and - swapped is a sign, tried above
                if _identity(other, node.right if isinstance(node, ast.BinOp) else node.value):
                    continue  # `k *= 1` for `k += 1` undoes the step: `extra_step` names it
                new = (
                    ast.BinOp(node.left, other(), node.right)
                    if isinstance(node, ast.BinOp)
                    else ast.AugAssign(node.target, other(), node.value)
                )
                yield _Edit("operator", node.lineno, _src(node), _src(new), _set_op(other()), path)
    for path, node, _ in body:  # weight_decay / 2 * p where weight_decay * p belongs
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            for side in ("left", "right") if isinstance(node.op, ast.Mult) else ("left",):
                kept = _replace_with(lambda n, side=side: getattr(n, side))
                old, new = _src(node), _src(getattr(node, side))
                yield _Edit("extra_factor", node.lineno, old, new, kept, path)
    for path, node, parent in body:  # round(loss, 2) where loss belongs
        if (
            isinstance(node, ast.Call)
            and node.args
            and not isinstance(node.args[0], ast.Starred)
            and not isinstance(parent, ast.Expr)  # a call for its effect: loss.backward()
            and _name(node.func) not in CONSTRUCTORS  # without np.array there is no array
        ):
            unwrapped = _replace_with(lambda n: n.args[0])
            old, new = _src(node), _src(node.args[0])
            yield _Edit("wrapped", node.lineno, old, new, unwrapped, path)
    for path, node, _ in body:  # np.linalg.norm(g) where np.sum(g) belongs, max for np.maximum
        for func in _siblings(node):
            called = _replace_with(lambda n, f=func: ast.Call(copy.deepcopy(f), n.args, n.keywords))
            old, new = _src(node.func), _src(func)
            if isinstance(node.func, ast.Attribute) and func.value is node.func.value:
                old, new = f".{node.func.attr}", f".{func.attr}"  # a method: x.mean for x.sum
            yield _Edit("function", node.lineno, old, new, called, path, alike=False)
    for path, node, _ in body:  # logits.max(dim=1)[0] where [1], the indices, belongs
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call):
            now = _literal(node.slice)
            for item in (0, 1, -1) if type(now) is int else ():
                if item != now:
                    taken = _replace_with(
                        lambda n, i=item: ast.Subscript(n.value, ast.Constant(i), ast.Load())
                    )
                    new = _src(ast.Subscript(node.value, ast.Constant(item)))
                    yield _Edit("item", node.lineno, _src(node), new, taken, path, alike=False)
    for path, node, _ in body:  # np.sum(e) where np.sum(e, axis=1, keepdims=True) belongs
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in REDUCTIONS
            and not any(k.arg in ("axis", "dim", "keepdims", "keepdim") for k in node.keywords)
        ):
            for axis in (1, -1, 0):
                new = copy.deepcopy(node)
                new.keywords += [
                    ast.keyword("axis", ast.Constant(axis)),
                    ast.keyword("keepdims", ast.Constant(True)),
                ]
                yield _fixed("axis", node, new, path)
    for path, node, _ in _paths(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            for i in range(len(block) if isinstance(block, list) else 0):
                for says, line, apply, kind, moved in _moves(block, i, field):
                    yield _Edit(
                        kind, line, "", "", apply, path, alike=False, says=says, moved=moved
                    )


def _last_edits(tree: ast.FunctionDef, body: list, space: dict) -> Iterator[_Edit]:
    """The last operators: calls left uncalled, chained indexing, parentheses that a
    conditional expression or a floor division needed, an entry for its array, shapes one
    short, and a dtype given where none belongs."""
    bound = {a.arg for a in (*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs)}
    bound |= {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    if "device" in bound:
        for path, node, _ in body:  # x.cuda() where x.to(device) belongs
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("cuda", "cpu")
                and not node.args
            ):
                to = _replace_with(
                    lambda n: ast.Call(
                        ast.Attribute(n.func.value, "to", ast.Load()),
                        [ast.Name("device", ast.Load())],
                        [],
                    )
                )
                new = f"{_src(node.func.value)}.to(device)"
                yield _Edit("device", node.lineno, _src(node), new, to, path)
    for path, node, parent in body:  # sobel_x.T where sobel_x().T belongs; `with torch.no_grad:`
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            if isinstance(parent, ast.Call) and parent.func is node:
                continue  # called already
            if isinstance(parent, ast.Attribute) and isinstance(node, ast.Attribute):
                continue  # a longer chain is tried as a whole
            if not _is_callable_global(node, space, bound):
                continue
            called = _replace_with(lambda n: ast.Call(n, [], []))
            yield _Edit("uncalled", node.lineno, _src(node), f"{_src(node)}()", called, path)
    for path, node, _ in body:  # X[i:i + KH][j:j + KW] where X[i:i + KH, j:j + KW] belongs
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Subscript)
            and not isinstance(node.value.slice, ast.Tuple)
            and not isinstance(node.slice, ast.Tuple)
        ):
            merged = _replace_with(
                lambda n: ast.Subscript(
                    n.value.value, ast.Tuple([n.value.slice, n.slice], ast.Load()), ast.Load()
                )
            )
            new = f"{_src(node.value.value)}[{_src(node.value.slice)}, {_src(node.slice)}]"
            yield _Edit("chained_index", node.lineno, _src(node), new, merged, path)
    for path, node, _ in body:  # w + b if bias else 0 where w + (b if bias else 0) belongs
        if isinstance(node, ast.IfExp) and isinstance(node.body, ast.BinOp):
            inner = _replace_with(
                lambda n: ast.BinOp(
                    n.body.left, n.body.op, ast.IfExp(n.test, n.body.right, n.orelse)
                )
            )
            new = ast.BinOp(
                node.body.left, node.body.op, ast.IfExp(node.test, node.body.right, node.orelse)
            )
            yield _Edit("precedence", node.lineno, _src(node), _src(new), inner, path)
    for path, node, _ in body:  # (n + 2p) // s - k where (n + 2p - k) // s belongs
        grouped = _regrouped_back(node)
        if grouped is not None:
            made = _replace_with(_regrouped_back)
            yield _Edit("precedence", node.lineno, _src(node), _src(grouped), made, path)
    for path, node, _ in body:  # len(X[0]) where len(X) belongs
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and type(_literal(node.slice)) is int
            and not isinstance(node.ctx, ast.Store)
        ):
            whole = _replace_with(lambda n: n.value)
            yield _Edit("whole", node.lineno, _src(node), _src(node.value), whole, path)
    for path, node, _ in body:  # np.zeros((C, H - KH, W - KW)) where the + 1 belongs
        if isinstance(node, ast.Call) and _name(node.func) in SHAPED:
            sizes = (
                node.args[0].elts
                if node.args and isinstance(node.args[0], ast.Tuple)
                else node.args
            )
            for i, size in enumerate(sizes):
                if isinstance(size, ast.BinOp):
                    where = (
                        (*path, ("args", 0), ("elts", i))
                        if sizes is not node.args
                        else (*path, ("args", i))
                    )
                    for k in (1, -1):
                        yield _Edit(
                            "off_by_one", size.lineno, _src(size), _src(_plus(size, k)),
                            _replace_with(lambda n, k=k: _plus(n, k)), where,
                        )  # fmt: skip
    for path, node, _ in body:  # np.zeros(shape, dtype=int) for a float gradient
        if isinstance(node, ast.Call) and any(k.arg == "dtype" for k in node.keywords):
            new = ast.Call(node.func, node.args, [k for k in node.keywords if k.arg != "dtype"])
            dropped = _replace_with(
                lambda n: ast.Call(n.func, n.args, [k for k in n.keywords if k.arg != "dtype"])
            )
            yield _Edit("dtype", node.lineno, _src(node), _src(new), dropped, path, alike=False)
    yield from _missing_edits(tree, body)


#: Calls of one argument whose parenthesis a student may close too early.
UNARY = {"exp", "log", "sqrt", "sin", "cos", "tanh", "abs"}


def _missing_edits(tree: ast.FunctionDef, body: list) -> Iterator[_Edit]:
    """Something left out or typed in: a parenthesis closed too early (`exp(-d**2) / (2 *
    s**2)`), a factor of the arguments missing from a product (`C_in * KH * KW` without
    `C_out`), a number typed where an argument belongs (`0.9 * v` for `momentum * v`), a
    reciprocal missing (`sqrt(fan_in)` for `1 / sqrt(fan_in)`), a power that does not
    belong (`wd * p ** 2`)."""
    params = [a.arg for a in (*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs)]
    for path, node, _ in body:
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.left, ast.Call)
            and _name(node.left.func) in UNARY
            and len(node.left.args) == 1
            and not node.left.keywords
        ):
            inside = _replace_with(
                lambda n: ast.Call(n.left.func, [ast.BinOp(n.left.args[0], n.op, n.right)], [])
            )
            new = ast.Call(node.left.func, [ast.BinOp(node.left.args[0], node.op, node.right)], [])
            yield _Edit("parenthesis", node.lineno, _src(node), _src(new), inside, path)
    for path, node, parent in body:  # the outermost product of names only
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mult)
            and not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult))
        ):
            factors = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            for name in params:
                if name in factors:
                    continue
                times = _replace_with(
                    lambda n, name=name: ast.BinOp(ast.Name(name, ast.Load()), ast.Mult(), n)
                )
                new = f"{name} * {_src(node)}"
                yield _Edit("missing_factor", node.lineno, _src(node), new, times, path)
    for path, node, _ in body:
        if isinstance(node, ast.Constant) and type(node.value) is float and 0 < node.value < 1:
            for name in params:
                named = _replace_with(lambda n, name=name: ast.Name(name, ast.Load()))
                yield _Edit("constant", node.lineno, _src(node), name, named, path, alike=False)
    for path, node, _ in body:
        if isinstance(node, ast.Call) and _name(node.func) == "sqrt" and len(node.args) == 1:
            inverse = _replace_with(lambda n: ast.BinOp(ast.Constant(1), ast.Div(), n))
            new = f"1 / {_src(node)}"
            yield _Edit("reciprocal", node.lineno, _src(node), new, inverse, path)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base = _replace_with(lambda n: n.left)
            yield _Edit("extra_factor", node.lineno, _src(node), _src(node.left), base, path)
    for path, node, _ in body:  # (2 * sigma) ** 2 where 2 * sigma ** 2 belongs
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Pow)
            and isinstance(node.left, ast.BinOp)
            and isinstance(node.left.op, (ast.Mult, ast.Div))
        ):
            inner = ast.BinOp(
                node.left.left, node.left.op, ast.BinOp(node.left.right, ast.Pow(), node.right)
            )
            narrowed = _replace_with(
                lambda n: ast.BinOp(
                    n.left.left, n.left.op, ast.BinOp(n.left.right, ast.Pow(), n.right)
                )
            )  # from the node itself: a place written alike has its own names
            yield _Edit("power_scope", node.lineno, _src(node), _src(inner), narrowed, path)
    for path, node, _ in body:  # np.stack(m for m in maps) where np.stack([...]) belongs
        if isinstance(node, ast.GeneratorExp):
            listed = _replace_with(lambda n: ast.ListComp(n.elt, n.generators))
            new = f"[{_src(node)[1:-1]}]" if _src(node).startswith("(") else f"[{_src(node)}]"
            yield _Edit("generator", node.lineno, _src(node), new, listed, path, alike=False)
    for path, node, _ in body:  # ((PH, 0), (PW, 0)) where ((PH, PH), (PW, PW)) belongs
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            a, b = node.elts
            for zero, other, k in ((b, a, 0), (a, b, 1)):
                if (
                    isinstance(zero, ast.Constant)
                    and zero.value == 0
                    and not isinstance(other, ast.Constant)
                ):
                    both = ast.Tuple([copy.deepcopy(other), copy.deepcopy(other)], ast.Load())
                    made = _replace_with(
                        lambda n, k=k: ast.Tuple([copy.deepcopy(n.elts[k])] * 2, ast.Load())
                    )
                    yield _Edit("one_side", node.lineno, _src(node), _src(both), made, path)


#: Calls that make an array (or tensor) from their argument: never unwrapped.
CONSTRUCTORS = {"array", "asarray", "asanyarray", "tensor", "as_tensor", "from_numpy"}
#: Calls whose arguments are the sizes of the array they make or reshape to.
SHAPED = {"zeros", "ones", "empty", "full", "reshape"}


def _is_callable_global(node: ast.AST, space: dict, bound: set[str]) -> bool:
    """A name (or dotted name) that the function reads from its globals and that holds a
    function or a class: `sobel_x`, `torch.no_grad`, `nn.ReLU`."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id in bound or node.id not in space:
        return False
    value = space[node.id]
    for attr in reversed(parts):
        value = getattr(value, attr, None)
    return inspect.isfunction(value) or inspect.isclass(value)


def _regrouped_back(node: ast.AST) -> ast.AST | None:
    """`(L op s) ± a` as `(L ± a) op s`, for op a floor or true division: a term added
    after the division where it belongs inside it; None for any other node."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)):
        return None
    left = node.left
    if not (isinstance(left, ast.BinOp) and isinstance(left.op, ast.FloorDiv | ast.Div)):
        return None
    return ast.BinOp(ast.BinOp(left.left, node.op, node.right), left.op, left.right)


def _siblings(node: ast.AST) -> list[ast.expr]:
    """The functions to call in place of this call's: `np.sum` for `np.linalg.norm`,
    `x.mean` for `x.sum`, `np.maximum` for Python's `max`."""
    if not isinstance(node, ast.Call):
        return []
    func, name = node.func, _name(node.func)
    if isinstance(func, ast.Name):
        if name not in ELEMENTWISE:
            return []
        return [ast.Attribute(ast.Name("np", ast.Load()), ELEMENTWISE[name], ast.Load())]
    if not isinstance(func, ast.Attribute):
        return []
    owner = func.value
    while isinstance(owner, ast.Attribute):
        owner = owner.value
    numpy = isinstance(owner, ast.Name) and owner.id in ("np", "numpy")
    value = ast.Name("np", ast.Load()) if numpy else func.value  # np.linalg.norm -> np.sum
    return [ast.Attribute(value, other, ast.Load()) for other in SIBLINGS.get(name, ())]


def _moves(block: list, i: int, field: str) -> Iterator[tuple[str, int, Callable, str, tuple]]:
    """(what is said, line, edit, operator, where the statement is) for each move of a
    step across a loop's edge: into the loop it stands before or after, or out of the loop
    whose body it opens or closes; and a `with` statement's block run without it."""
    stmt = block[i]
    after = block[i + 1] if i + 1 < len(block) else None
    before = block[i - 1] if i else None
    it = _it(stmt)
    if isinstance(stmt, STEPS) and isinstance(after, LOOPS):
        for depth, loop in enumerate(_nested(after, 0)):
            says = f"running {it} at the start of each pass of {_header(loop)}"
            yield says, stmt.lineno, _move_in(field, i, depth, 0), "loop_level", ((field, i),)
    # A return is moved out of a loop (the loop ran once), never into one: that makes a
    # loop run once, which passes a check of what was computed before the loop.
    if isinstance(stmt, STEPS) and isinstance(before, LOOPS):
        for depth, loop in enumerate(_nested(before, -1)):
            says = f"running {it} at the end of each pass of {_header(loop)}"
            yield says, stmt.lineno, _move_in(field, i, depth, -1), "loop_level", ((field, i),)
    if isinstance(stmt, LOOPS) and len(stmt.body) > 1:
        if isinstance(stmt.body[0], STEPS):
            says = f"running {_it(stmt.body[0])} once, before {_header(stmt)}"
            where = ((field, i), ("body", 0))
            yield says, stmt.body[0].lineno, _move_out(field, i, 0), "loop_level", where
        if isinstance(stmt.body[-1], (*STEPS, ast.Return)):
            says = f"running {_it(stmt.body[-1])} once, after {_header(stmt)}"
            where = ((field, i), ("body", len(stmt.body) - 1))
            yield says, stmt.body[-1].lineno, _move_out(field, i, -1), "loop_level", where
    if (
        isinstance(stmt, ast.If)
        and isinstance(before, ast.If)
        and not before.orelse
        and stmt.orelse
        and not _elif_chain(before)
    ):
        says = (
            f"writing `elif` for this `if`, so that its `else` runs only when "
            f"`{_src(before.test)}` does not hold"
        )
        yield says, stmt.lineno, _chain(field, i), "elif", ((field, i),)
    if isinstance(stmt, ast.With):
        yield (
            "running its block without it",
            stmt.lineno,
            _unwrap(field, i),
            "context",
            ((field, i),),
        )


def _it(stmt: ast.stmt) -> str:
    """How a message refers to the statement of the quoted line: "it", or the part of a
    line that `_split_pairs` split."""
    return f"`{_src(stmt)}`" if getattr(stmt, "course_split", False) else "it"


def _header(loop: ast.For | ast.While) -> str:
    if isinstance(loop, ast.While):
        return f"`while {_src(loop.test)}`"
    target = loop.target
    names = _src(target) if not isinstance(target, ast.Tuple) else ", ".join(map(_src, target.elts))
    return f"`for {names} in {_src(loop.iter)}`"


def _twins(tree: ast.FunctionDef, pairs: set[tuple[str, str]]) -> dict[str, list[str]]:
    """For each name the function binds (its parameters and the names it assigns), the
    other bound names it is easily typed for: those of the same length that differ in one
    character of the same case (`sh` and `sw`, `H_out` and `W_out`, `k` and `s`, but not
    `H` and `s`), those that begin or end with it (`x` and `xp`, `W` and `KW`, `H` and
    `H_out`), and those unpacked together with it (`KH, KW = K.shape`)."""
    bound = [a.arg for a in (*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs)]
    bound += [
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]
    bound = list(dict.fromkeys(bound))

    def alike(a: str, b: str) -> bool:
        if (a, b) in pairs or (b, a) in pairs:
            return True
        if a.startswith(b) or a.endswith(b) or b.startswith(a) or b.endswith(a):
            return True  # x and xp, W and KW, H and H_out: the padded, kernel or output one
        if len(a) != len(b):
            return False
        differ = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        # One character, of the same kind: `H` and `W`, `k` and `s`, never `H` and `s`.
        return len(differ) == 1 and _kind(differ[0][0]) == _kind(differ[0][1])

    return {a: [b for b in bound if b != a and alike(a, b)] for a in bound}


def _kind(character: str) -> str:
    return "upper" if character.isupper() else "lower" if character.islower() else "other"


def _swap_loop_ranges(node: ast.For) -> None:
    inner = node.body[0]
    node.iter, inner.iter = inner.iter, node.iter


def _read_as(name: str, other: str) -> Callable[[ast.AST], ast.AST]:
    """Every read of `name` in the node becomes a read of `other`."""

    def make(node):
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id == name:
                n.id = other
        return node

    return make


def _renamed(name: str) -> Callable[[ast.AST], ast.AST]:
    return lambda node: ast.Name(name, ast.Load())


def _names_swapped(a: str, b: str) -> Callable[[ast.AST], ast.AST]:
    """Every read of `a` becomes `b` and every read of `b` becomes `a`."""

    def make(node):
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in (a, b):
                n.id = b if n.id == a else a
        return node

    return make


def _within(path: tuple, loop: tuple) -> bool:
    """The node at `path` is in the body of the for loop at `loop` (not its header)."""
    return len(path) > len(loop) and path[: len(loop)] == loop and path[len(loop)][0] == "body"


def _constant_indices(node: ast.Subscript) -> list[int | None]:
    """Where the subscript has a whole-number constant: None for `a[0]`, i for `a[..., 0]`."""
    index = node.slice
    if isinstance(index, ast.Constant) and type(index.value) is int:
        return [None]
    if isinstance(index, ast.Tuple):
        return [
            i
            for i, e in enumerate(index.elts)
            if isinstance(e, ast.Constant) and type(e.value) is int
        ]
    return []


def _indexed_by(position: int | None, name: str) -> Callable[[ast.AST], ast.AST]:
    def make(node):
        if position is None:
            node.slice = ast.Name(name, ast.Load())
        else:
            node.slice.elts[position] = ast.Name(name, ast.Load())
        return node

    return make


def _swap_steps(field: str, i: int) -> Callable[[ast.AST], None]:
    def apply(node):
        block = getattr(node, field)
        block[i], block[i + 1] = block[i + 1], block[i]

    return apply


def _nested(loop: ast.For | ast.While, where: int) -> list[ast.For | ast.While]:
    """The loop, and the loops nested at the start (where=0) or end (where=-1) of its
    body, outermost first."""
    found = [loop]
    while found[-1].body and isinstance(found[-1].body[where], LOOPS):
        found.append(found[-1].body[where])
    return found


def _move_in(field: str, i: int, depth: int, where: int) -> Callable[[ast.AST], None]:
    """Move block[i] into the loop beside it (the one after it for where=0, before it for
    where=-1), `depth` loops deep, at the start (0) or the end (-1) of that loop's body."""

    def apply(node):
        block = getattr(node, field)
        stmt = block.pop(i)
        beside = block[i] if where == 0 else block[i - 1]
        target = _nested(beside, where)[depth].body
        target.insert(0 if where == 0 else len(target), stmt)

    return apply


def _elif_chain(stmt: ast.If) -> bool:
    return len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If)


def _chain(field: str, i: int) -> Callable[[ast.AST], None]:
    """Make block[i], an `if` with an `else`, the `elif` of the `if` before it."""

    def apply(node):
        block = getattr(node, field)
        block[i - 1].orelse = [block.pop(i)]

    return apply


def _move_out(field: str, i: int, where: int) -> Callable[[ast.AST], None]:
    """Move the first (where=0) or last (where=-1) step of the loop block[i] out of it,
    before or after the loop."""

    def apply(node):
        block = getattr(node, field)
        stmt = block[i].body.pop(where)
        block.insert(i if where == 0 else i + 1, stmt)

    return apply


def _unwrap(field: str, i: int) -> Callable[[ast.AST], None]:
    def apply(node):
        block = getattr(node, field)
        block[i : i + 1] = block[i].body

    return apply


def _negate_argument(node: ast.Call) -> None:
    node.args[0] = ast.UnaryOp(ast.USub(), node.args[0])


def _regrouped(node: ast.AST) -> ast.AST | None:
    """`L ± (a op b)` as `(L ± a) op b`, for op a product or a division: the parentheses
    that operator precedence needed; None for any other node."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))):
        return None
    right = node.right
    if not (
        isinstance(right, ast.BinOp) and isinstance(right.op, (ast.Mult, ast.Div, ast.FloorDiv))
    ):
        return None
    inner = ast.BinOp(node.left, node.op, right.left)
    return ast.BinOp(inner, right.op, right.right)


def _set_compare(op: ast.cmpop) -> Callable[[ast.AST], None]:
    def apply(node):
        node.ops = [op]

    return apply


def _set_op(op: ast.operator) -> Callable[[ast.AST], None]:
    def apply(node):
        node.op = op

    return apply


def _rounded(node: ast.Call, how: str) -> ast.AST | None:
    if len(node.args) != 1:
        return None
    x = node.args[0]
    if how == "round":
        return ast.Call(ast.Name("round", ast.Load()), [x], [])
    numpy = ast.Attribute(ast.Name("np", ast.Load()), how, ast.Load())
    return ast.Call(ast.Name("int", ast.Load()), [ast.Call(numpy, [x], [])], [])


def _axis_edits(path: tuple, node: ast.Call) -> Iterator[_Edit]:
    word = "dim" if any(k.arg == "dim" for k in node.keywords) else "axis"  # torch or numpy
    current = next((k for k in node.keywords if k.arg == word), None)
    now = None if current is None else _literal(current.value)
    if current is not None and now is _NOT_LITERAL:
        return
    choices: list[Any] = [a for a in AXES if a != now]
    for step in (1, -1):  # every number one off: counted before an axis was added
        shifted = _shifted(now, step)
        if shifted is not None and shifted not in choices:
            choices.append(shifted)
    if current is not None:
        choices.append(None)  # no axis at all
    for axis in choices:
        new = copy.deepcopy(node)
        new.keywords = [k for k in new.keywords if k.arg != word]
        if axis is not None:
            new.keywords.append(ast.keyword(word, ast.parse(repr(axis), mode="eval").body))
        yield _fixed("axis", node, new, path)


_NOT_LITERAL = object()


def _shifted(axes: Any, step: int) -> Any:
    """(1, 3, 4) as (2, 4, 5): each axis number moved by `step`; None when not axes."""
    items = axes if isinstance(axes, tuple) else (axes,)
    if not items or not all(type(a) is int and a >= 0 and a + step >= 0 for a in items):
        return None
    moved = tuple(a + step for a in items)
    return moved if isinstance(axes, tuple) else moved[0]


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _NOT_LITERAL


def _reverse_tuple(node: ast.Tuple) -> None:
    node.elts.reverse()


def _reverse_args(node: ast.Call) -> None:
    node.args.reverse()


def _to_augmented(node: ast.Assign) -> None:
    new = ast.AugAssign(node.targets[0], ast.Add(), node.value)
    node.__class__ = ast.AugAssign
    node.__dict__.clear()
    node.__dict__.update(new.__dict__)


def _to_assign(node: ast.AugAssign) -> None:
    new = ast.Assign([node.target], node.value)
    node.__class__ = ast.Assign
    node.__dict__.clear()
    node.__dict__.update(new.__dict__)
