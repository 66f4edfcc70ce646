"""Does a function loop in Python? For the exercises that ask for vectorised code (3.3,
3.5), decided by reading the code, never by timing it.

A loop is a `for` or `while` statement, a comprehension or generator expression, or a
call that hides one (`map`, `np.vectorize`, `np.apply_along_axis`, `np.frompyfunc`), in
the function itself or in a function of the notebook that it calls (by name, followed
transitively): `conv2d_vectorized` that calls the loop version of Exercise 3.2 loops.

The visible check reads the source from the kernel (`inspect`); the grader reads the same
definitions from the handed-in notebook's cells (`definitions`), on the trusted side.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable, Iterable

HIDDEN_LOOPS = {"map", "vectorize", "apply_along_axis", "frompyfunc", "fromiter"}
_KINDS = {
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}


def definitions(sources: Iterable[str]) -> dict[str, ast.FunctionDef]:
    """The top-level functions of code cells run in order (a later definition wins, as in
    the kernel); cells that do not parse are skipped."""
    found: dict[str, ast.FunctionDef] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = node
    return found


def loops(name: str, defs: dict[str, ast.FunctionDef]) -> list[str]:
    """Where `name` loops in Python, one line each ("line 4 of conv1x1: a for loop"),
    following the notebook functions it calls; [] when it does not loop (or is unknown)."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in defs:
            continue
        seen.add(current)
        node = defs[current]
        start = node.lineno
        for sub in ast.walk(node):
            kind = _KINDS.get(type(sub))
            if kind is None and isinstance(sub, ast.Call):
                called = sub.func.attr if isinstance(sub.func, ast.Attribute) else None
                called = sub.func.id if isinstance(sub.func, ast.Name) else called
                if called in HIDDEN_LOOPS:
                    kind = f"{called}(), a loop in disguise"
                elif called in defs and called != current:
                    todo.append(called)
            if kind is not None:
                found.append(f"line {sub.lineno - start + 1} of {current}: {kind}")
    return found


def function_loops(fn: Callable) -> list[str]:
    """`loops` for a live function (the visible check, in the kernel): its source and that
    of the notebook functions it calls, read with `inspect`."""
    if not isinstance(fn, types.FunctionType):  # a grader's stand-in: the judge reads the code
        return []
    defs: dict[str, ast.FunctionDef] = {}
    todo = [fn]
    while todo:
        f = todo.pop()
        if not isinstance(f, types.FunctionType) or f.__name__ in defs:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(f)))
        except (OSError, TypeError, SyntaxError):
            continue
        node = tree.body[0]
        if not isinstance(node, ast.FunctionDef):
            continue
        defs[f.__name__] = node
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(f.__globals__.get(n.id), types.FunctionType):
                other = f.__globals__[n.id]
                if other.__module__ == f.__module__:  # the notebook's, not a library's
                    todo.append(other)
    return loops(fn.__name__, defs)


def loop_message(name: str, exercise: str, where: list[str]) -> str:
    return (
        f"{name} gives the right numbers but loops in Python ({'; '.join(where[:3])}). "
        f"{exercise} asks for no loops: express the whole computation as array operations "
        "(reshape and one matrix product, or einsum on sliding windows)."
    )
