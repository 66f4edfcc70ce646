"""What the values were on the student's line that raised.

A broadcasting error says "shapes (2,2) and (3,3)" but not which of the line's arrays had
which shape, nor where the wrong one was made. When a student's function raises, this
module reads the frame of their function as it was when the exception left it (the
traceback keeps it), evaluates the plain expressions of the line that raised (names,
indexing, `.T`, `.shape`, arithmetic on those: never a call), and says what each was,
with the line where each array was made:

    On that line (line 6 of your pool2d_channels, `Y[c] = pool2d(X[c], size)`): `Y[c]`
    has shape (3, 3), `X[c]` has shape (3, 3), `c` is 0; `Y` (2, 3, 3) was made in
    line 4, `Y = np.zeros_like(X)`.

It only reads: nothing of the student's is called, and an expression that cannot be
evaluated this way is left out.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from types import FrameType
from typing import Any

import numpy as np

#: Module names whose frames are never the student's.
_LIBRARIES = ("course", "solutions", "numpy", "torch", "autograder")
#: At most this many values are said.
MAX_VALUES = 6
_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a / b,
}


def explain(exc: BaseException) -> str:
    """A sentence on the values of the student's line that raised `exc`, or ""."""
    try:
        return _explain(exc)
    except Exception:  # an explanation is a courtesy: it never hides the exception
        return ""


def _explain(exc: BaseException) -> str:
    frame, line = _students_frame(exc)
    if frame is None:
        return ""
    try:
        lines, first = inspect.getsourcelines(frame.f_code)
    except (OSError, TypeError):
        return ""
    tree = ast.parse(textwrap.dedent("".join(lines)))
    offset = first - 1
    statement = _statement_at(tree, line - offset)
    if statement is None:
        return ""
    space = {**frame.f_globals, **frame.f_locals}
    said, arrays = [], []
    for node in _plain_expressions(statement):
        text = ast.unparse(node)
        try:
            value = _evaluate(node, space)
            shown = _show(value)
        except Exception:
            continue
        if shown is None or shown == f"is {text}" or any(text == t for t, _ in said):
            continue
        said.append((text, shown))
        root = _root(node)
        if _is_array(value) and root and root not in arrays and root in frame.f_locals:
            arrays.append(root)
    made = {name: _made(tree, name, line - offset, offset, space) for name in arrays}
    made = {name: m for name, m in made.items() if m}
    said = [(t, s) for t, s in said if t not in made]  # the clause on where it was made says it
    if not said and not made:
        return ""
    code = linecache.getline(frame.f_code.co_filename, line).strip()
    values = ", ".join(f"`{t}` {s}" for t, s in said[:MAX_VALUES])
    made = list(made.values())
    return (
        f" On that line (line {line} of your {frame.f_code.co_name}, `{_short(code)}`): "
        + "; ".join(([values] if values else []) + made)
        + "."
    )


def _students_frame(exc: BaseException) -> tuple[FrameType | None, int]:
    """The last frame of the traceback that runs code outside the course and the
    libraries: the student's line that raised, or the call of theirs that failed."""
    found, line = None, 0
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "") or ""
        filename = tb.tb_frame.f_code.co_filename
        if (
            module.split(".")[0] not in _LIBRARIES
            and "site-packages" not in filename
            and not filename.startswith(("<frozen", "<edited"))
            and tb.tb_frame.f_code.co_name != "<module>"
        ):
            found, line = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    return found, line


def library_of(exc: BaseException) -> str | None:
    """The library ("torch", "numpy") whose code raised `exc` last, or None where the
    last frame is not a library's (the student's own `raise`)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return None
    module = (tb.tb_frame.f_globals.get("__name__", "") or "").split(".")[0]
    return module if module in ("numpy", "torch") else None


def _statement_at(tree: ast.AST, line: int) -> ast.stmt | None:
    """The innermost simple statement that spans `line` (a loop's header: the loop)."""
    best = None
    for node in ast.walk(tree):
        spans = isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or 0)
        if spans and (best is None or node.lineno >= best.lineno):
            best = node
    return best


def _plain_expressions(statement: ast.stmt):
    """The statement's expressions that can be read without calling anything, outermost
    first; of a compound statement only its header."""
    if isinstance(statement, (ast.For, ast.While, ast.If, ast.With)):
        roots = [getattr(statement, f) for f in ("iter", "test") if hasattr(statement, f)]
        roots += [item.context_expr for item in getattr(statement, "items", [])]
    else:
        roots = [statement]
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute, ast.BinOp)) and all(
                not isinstance(n, (ast.Call, ast.Lambda, ast.NamedExpr)) for n in ast.walk(node)
            ):
                yield node


def _evaluate(node: ast.AST, space: dict) -> Any:
    if isinstance(node, ast.Name):
        return space[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and node.attr in ("T", "shape", "ndim", "size"):
        value = _evaluate(node.value, space)
        if not (_is_array(value) or isinstance(value, tuple)):
            raise TypeError("only an array's own attributes are read")
        return getattr(value, node.attr)
    if isinstance(node, ast.Subscript):
        value = _evaluate(node.value, space)
        if not (_is_array(value) or isinstance(value, (tuple, list))):
            raise TypeError("only arrays, tuples and lists are indexed")
        return value[_evaluate(node.slice, space)]
    if isinstance(node, ast.Slice):
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if p is None else _evaluate(p, space) for p in parts))
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(e, space) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, space)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left, space), _evaluate(node.right, space)
        if not all(isinstance(v, (int, float, np.integer, np.floating)) for v in (left, right)):
            raise TypeError("only arithmetic on numbers")
        return _OPERATORS[type(node.op)](left, right)
    raise TypeError(f"{type(node).__name__} is not read")


def _is_array(value: Any) -> bool:
    """A numpy array or a torch tensor (torch.Size is a tuple), not a module like np."""
    return isinstance(getattr(value, "shape", None), tuple) and hasattr(value, "dtype")


def _show(value: Any) -> str | None:
    """ "has shape (3, 3)" for an array, "is 2" for a number or a tuple of numbers."""
    if value is None:
        return "is None"
    if _is_array(value):
        shape = tuple(value.shape)
        return f"has shape {shape}" if shape else None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, tuple)):
        return None
    if isinstance(value, tuple) and not all(isinstance(v, (int, np.integer)) for v in value):
        return None
    return f"is {tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)}"


def _short(code: str, most: int = 90) -> str:
    return code if len(code) <= most else code[: most - 4] + " ..."


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _made(tree: ast.AST, name: str, line: int, offset: int, space: dict) -> str | None:
    """Where the array `name` was last assigned before `line`, quoted; None for an
    argument or a name assigned nowhere above."""
    last = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.lineno < line:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if name in names and (last is None or node.lineno > last.lineno):
                last = node
    if last is None or any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(last.value)):
        return None  # an argument, or an argument converted (`X = np.asarray(X, float)`)
    shape = tuple(space[name].shape)
    return (
        f"`{name}` {shape} was made in line {last.lineno + offset}, `{_short(ast.unparse(last))}`"
    )
