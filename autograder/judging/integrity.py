"""Static integrity scan of the code a student wrote, run in the trusted grading process.

The sandbox stops a submission from touching anything outside its own folder; it cannot
stop code inside the kernel from lying to the tests that run in the same kernel
(replacing `np.allclose`, the visible checks, IPython's error display...). This scan reads
every cell the student could edit — solution cells and cells without locked nbgrader
metadata, after sanitizing, so a restored test cell is never scanned — and reports what
it finds, with a severity:

* ``tamper``: the submission tries to change how it is graded. The notebook scores 0 (an
  nbgrader manual override the instructor can lift after review) unless grading runs
  with ``--on-tamper flag``.
* ``suspicious``: worth a look, harmless to the grade (the sandbox contains it).

It is a static scan: obfuscated code can get past it. It exists to catch the common
tricks cheaply and with no false positives on honest code (a test runs it over every
reference solution of ``source/``), not to prove anything.

    findings = scan_notebook(nb)           # nb: the sanitized notebook
    findings = scan_source("np.allclose = lambda *a, **k: True", aliases={"np": "numpy"})
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TAMPER = "tamper"
SUSPICIOUS = "suspicious"

#: Packages a student's code has no business importing: the hidden tests' reference, the
#: grader itself, nbgrader.
GRADER_PACKAGES = ("solutions", "autograder", "nbgrader")
#: Imports that hand out ways to rewrite the interpreter or the kernel.
TAMPER_IMPORTS = {
    "importlib": "imports importlib (dynamic imports)",
    "builtins": "imports builtins",
    "IPython.core": "imports IPython internals",
    "IPython.terminal": "imports IPython internals",
    "ipykernel": "imports the kernel's internals",
    "jupyter_client": "imports the kernel's internals",
}
#: Imports that are harmless to the grade but worth a look.
SUSPICIOUS_IMPORTS = {
    "subprocess": "starts processes (subprocess)",
    "multiprocessing": "starts processes (multiprocessing)",
    "concurrent.futures": "starts processes or threads (concurrent.futures)",
    "threading": "starts threads (threading)",
    "_thread": "starts threads (_thread)",
    "signal": "handles signals (signal)",
    "socket": "opens network connections (socket)",
    "urllib.request": "opens network connections (urllib.request)",
    "http.client": "opens network connections (http.client)",
    "requests": "opens network connections (requests)",
    "ctypes": "calls C code (ctypes)",
    "cffi": "calls C code (cffi)",
    "pty": "opens a terminal (pty)",
    "resource": "changes resource limits (resource)",
}
#: Qualified names whose use is tampering: name -> (rule, what it does).
TAMPER_NAMES = {
    "builtins.exec": ("dynamic-code", "runs generated code (exec)"),
    "builtins.eval": ("dynamic-code", "runs generated code (eval)"),
    "builtins.compile": ("dynamic-code", "compiles generated code (compile)"),
    "builtins.__import__": ("dynamic-code", "imports dynamically (__import__)"),
    "builtins.__builtins__": ("modifies-builtins", "touches __builtins__"),
    "builtins.get_ipython": ("ipython-hooks", "uses get_ipython() (IPython hooks)"),
    "IPython.get_ipython": ("ipython-hooks", "uses get_ipython() (IPython hooks)"),
    "sys.modules": ("import-system", "touches sys.modules"),
    "sys.meta_path": ("import-system", "changes the import system (sys.meta_path)"),
    "sys.path_hooks": ("import-system", "changes the import system (sys.path_hooks)"),
    "sys.path": ("import-system", "changes the import path (sys.path)"),
    "sys._getframe": ("introspection", "inspects the caller's frames (sys._getframe)"),
    "sys._current_frames": ("introspection", "inspects frames (sys._current_frames)"),
    "sys.settrace": ("hooks", "installs a tracer (sys.settrace)"),
    "sys.setprofile": ("hooks", "installs a profiler hook (sys.setprofile)"),
    "sys.excepthook": ("hooks", "replaces the exception hook (sys.excepthook)"),
    "sys.displayhook": ("hooks", "replaces the display hook (sys.displayhook)"),
    "sys.addaudithook": ("hooks", "installs an audit hook (sys.addaudithook)"),
    "inspect.stack": ("introspection", "inspects the caller's frames (inspect.stack)"),
    "inspect.currentframe": ("introspection", "inspects frames (inspect.currentframe)"),
    "inspect.getouterframes": ("introspection", "inspects the caller's frames"),
    "inspect.getinnerframes": ("introspection", "inspects frames (inspect.getinnerframes)"),
    "inspect.trace": ("introspection", "inspects frames (inspect.trace)"),
    "inspect.getframeinfo": ("introspection", "inspects frames (inspect.getframeinfo)"),
    "gc.get_referrers": ("introspection", "reaches other objects through gc.get_referrers"),
    "gc.get_referents": ("introspection", "reaches other objects through gc.get_referents"),
    "gc.get_objects": ("introspection", "reaches other objects through gc.get_objects"),
}
#: Prefixes of qualified names whose use is suspicious: prefix -> what it does.
SUSPICIOUS_NAMES = {
    "os._exit": "kills its own kernel (os._exit)",
    "os.kill": "sends signals (os.kill)",
    "os.abort": "kills its own kernel (os.abort)",
    "os.fork": "forks processes (os.fork)",
    "os.system": "runs shell commands (os.system)",
    "os.popen": "runs shell commands (os.popen)",
    "os.exec": "replaces the kernel process (os.exec*)",
    "os.spawn": "starts processes (os.spawn*)",
    "os.posix_spawn": "starts processes (os.posix_spawn)",
    "os.setsid": "leaves its session (os.setsid)",
    "asyncio.create_subprocess": "starts processes (asyncio)",
}
#: Attribute names that only frame hacking or IPython hooking use, whatever the object:
#: attribute -> (rule, what it does).
TAMPER_ATTRIBUTES = {
    "f_back": ("introspection", "walks up the call stack (f_back)"),
    "f_locals": ("introspection", "reads or writes another frame's variables (f_locals)"),
    "f_globals": ("introspection", "reads or writes another frame's globals (f_globals)"),
    "f_builtins": ("introspection", "touches a frame's builtins (f_builtins)"),
    "tb_frame": ("introspection", "reaches frames through a traceback (tb_frame)"),
    "gi_frame": ("introspection", "reaches a generator's frame (gi_frame)"),
    "cr_frame": ("introspection", "reaches a coroutine's frame (cr_frame)"),
    "__code__": ("introspection", "reads or rewrites a function's code (__code__)"),
    "__globals__": ("introspection", "reaches another module's globals (__globals__)"),
    "__closure__": ("introspection", "reaches closure cells (__closure__)"),
    "__subclasses__": ("introspection", "walks the class hierarchy (__subclasses__)"),
    "__builtins__": ("modifies-builtins", "touches __builtins__"),
    "set_custom_exc": ("ipython-hooks", "installs an IPython exception handler"),
    "input_transformers_cleanup": ("ipython-hooks", "installs an IPython input transformer"),
    "input_transformers_post": ("ipython-hooks", "installs an IPython input transformer"),
    "input_transformer_manager": ("ipython-hooks", "installs an IPython input transformer"),
    "ast_transformers": ("ipython-hooks", "installs an IPython AST transformer"),
    "showtraceback": ("ipython-hooks", "replaces IPython's error display (showtraceback)"),
    "_showtraceback": ("ipython-hooks", "replaces IPython's error display (_showtraceback)"),
    "showsyntaxerror": ("ipython-hooks", "replaces IPython's error display"),
    "register_magic_function": ("ipython-hooks", "registers an IPython magic"),
}
#: String literals that name the grader's files (hidden tests, gradebook, other students).
GRADER_PATHS = ("gradebook.db", "source/", "/autograded", "autograded/", "submitted/", ".grading")
#: A string literal naming a Python file or a path-configuration file: a module planted
#: in the working folder would shadow `solutions` or `course` for the hidden tests.
PLANTED_MODULE = re.compile(r"(^|[/\\])[\w.-]+\.py$|sitecustomize|usercustomize")
#: Line magics that change how the kernel runs code (tamper) or reach outside (suspicious).
TAMPER_MAGICS = {
    "run",
    "load_ext",
    "reload_ext",
    "unload_ext",
    "config",
    "load",
    "alias_magic",
    "autoreload",
    "aimport",
    "macro",
    "rerun",
    "recall",
    "edit",
}
HARMLESS_MAGICS = {
    "time",
    "timeit",
    "matplotlib",
    "precision",
    "pinfo",
    "pinfo2",
    "psearch",
    "who",
    "whos",
    "who_ls",
    "lsmagic",
    "magic",
    "pprint",
    "capture",
    "prun",
    "xmode",
    "pdef",
    "pdoc",
    "psource",
    "pfile",
    "quickref",
}
#: Cell magics whose body is Python code to scan as well.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
#: Settings an honest notebook changes by assignment: plot styles, torch backends
#: (`plt.rcParams["figure.dpi"] = 120`, `torch.backends.cudnn.benchmark = True`).
ITEM_ASSIGN_OK = ("matplotlib",)
ATTRIBUTE_ASSIGN_OK = ("matplotlib", "torch.backends")
#: Modules whose top-level names the course imports for the tests: rebinding one of
#: these names in a student cell replaces what the tests call.
PROTECTED_ROOTS = ("numpy", "course", "solutions", "torch", "matplotlib")
FILE_WRITE_METHODS = {"write_text", "write_bytes", "touch", "mkdir", "unlink", "rmdir", "rename"}
FILE_FUNCS = {
    "builtins.open",
    "io.open",
    "os.open",
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.rename",
    "os.replace",
    "os.symlink",
    "os.link",
    "os.chmod",
    "os.makedirs",
    "os.mkdir",
    "shutil.rmtree",
    "shutil.copy",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
}
_BUILTIN_NAMES = set(dir(builtins)) | {"get_ipython", "__builtins__"}
#: The scan follows code this many syntax-tree levels deep with every rule (a couple of
#: Python frames per level); deeper code (a 900-term sum) is checked by an iterative pass
#: without function scopes, and gets a "deep-nesting" finding.
MAX_SCAN_DEPTH = 120
#: Nested assignment targets followed at most this deep: ((((a, b), c), d), ...) = ...
MAX_TARGET_DEPTH = 32


@dataclass(frozen=True)
class Finding:
    """One thing the scan found in one cell."""

    severity: str  # TAMPER or SUSPICIOUS
    rule: str  # short rule id, e.g. "patches-module"
    message: str  # what the code does, e.g. "assigns numpy.allclose"
    cell: str = ""  # the cell's grade_id or id
    line: int = 0  # line in the cell (1-based)

    def flag(self) -> str:
        """The one-line flag shown to the instructor and stored in the ledger."""
        where = f" (cell {self.cell}, line {self.line})" if self.cell else f" (line {self.line})"
        return f"{self.severity}:{self.rule}: {self.message}{where}"


# ---------------------------------------------------------------------------------------
# Names: which identifiers refer to imported modules (or objects imported from them)
# ---------------------------------------------------------------------------------------


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """name -> qualified name for every import in `tree` (functions included).

    `import numpy as np` → np: numpy; `import numpy.testing` → numpy: numpy;
    `from course.checks import conv as checks` → checks: course.checks.conv.
    """
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases.setdefault(a.asname, a.name)
                else:
                    top = a.name.split(".")[0]
                    aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    aliases.setdefault(a.asname or a.name, f"{node.module}.{a.name}")
    return aliases


def _under(qual: str, prefix: str) -> bool:
    return qual == prefix or qual.startswith(prefix + ".")


def _transform(source: str) -> str:
    """Cell source as plain Python: IPython magics become get_ipython() calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover (IPython ships with nbgrader)
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


class _Scanner(ast.NodeVisitor):
    """One pass over one cell's AST, with function scopes for shadowed names."""

    def __init__(self, aliases: Mapping[str, str], protected: Mapping[str, str], cell: str):
        self.aliases = dict(aliases)
        self.protected = protected  # names the course's locked cells import
        self.cell = cell
        self.findings: list[Finding] = []
        self.scopes: list[set[str]] = []  # locals of the enclosing functions
        self.globals_declared: set[str] = set()
        self.depth = 0  # syntax-tree levels being visited (bounded by MAX_SCAN_DEPTH)

    def visit(self, node: ast.AST) -> None:
        """NodeVisitor.visit, bounded: below MAX_SCAN_DEPTH the tree is scanned without
        recursion (see _flat), so no code is too deep for the scan."""
        if self.depth >= MAX_SCAN_DEPTH:
            self._flat(node)
            return
        self.depth += 1
        try:
            super().visit(node)
        finally:
            self.depth -= 1

    def _flat(self, node: ast.AST) -> None:
        """The rules that need no scope, over a subtree, without recursion (ast.walk)."""
        self.add(
            SUSPICIOUS,
            "deep-nesting",
            f"code nested more than {MAX_SCAN_DEPTH} levels deep (checked without scopes)",
            node,
        )
        for n in ast.walk(node):
            if isinstance(n, ast.Import):
                for a in n.names:
                    self._check_module(a.name, n)
            elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
                self._check_module(n.module, n)
            elif isinstance(n, (ast.Assign, ast.Delete)):
                for t in n.targets:
                    self._check_target(t, n, "assigns" if isinstance(n, ast.Assign) else "deletes")
            elif isinstance(n, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
                self._check_target(n.target, n, "assigns")
            elif isinstance(n, ast.Attribute):
                if n.attr in TAMPER_ATTRIBUTES:
                    rule, what = TAMPER_ATTRIBUTES[n.attr]
                    self.add(TAMPER, rule, what, n)
                qual = self.qualname(n)
                if qual and isinstance(n.ctx, ast.Load):
                    self._check_name(qual, n)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                qual = self.qualname(n)
                if qual:
                    self._check_name(qual, n)
            elif isinstance(n, ast.Constant):
                self.visit_Constant(n)

    # -- reporting ------------------------------------------------------------------
    def add(self, severity: str, rule: str, message: str, node: ast.AST) -> None:
        if any((f.severity, f.rule, f.message) == (severity, rule, message) for f in self.findings):
            return  # one finding per thing done, at its first line
        self.findings.append(
            Finding(severity, rule, message, self.cell, getattr(node, "lineno", 0))
        )

    # -- name resolution ------------------------------------------------------------
    def shadowed(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes) and name not in self.globals_declared

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted name an expression refers to, if it starts at an import or a
        builtin: `np.testing.assert_allclose` → numpy.testing.assert_allclose.
        (Iterative: an attribute chain of any length is no recursion.)"""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Call):
            base = self.qualname(node.func)  # a Name or an attribute chain: one level
            base = (
                "IPython.shell" if base in ("builtins.get_ipython", "IPython.get_ipython") else None
            )
        elif isinstance(node, ast.Name) and not self.shadowed(node.id):
            if node.id in self.aliases:
                base = self.aliases[node.id]
            elif node.id in _BUILTIN_NAMES:
                base = f"builtins.{node.id}"
            else:
                base = None
        else:
            base = None
        return ".".join([base, *reversed(attrs)]) if base else None

    def imported_root(self, node: ast.AST) -> str | None:
        """Qualified name of an attribute chain whose root is an imported name."""
        root = node
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.aliases and not self.shadowed(root.id):
            return self.qualname(node) if isinstance(node, ast.Attribute) else self.aliases[root.id]
        return None

    # -- scopes ---------------------------------------------------------------------
    def _function_locals(self, node: ast.AST) -> set[str]:
        names: set[str] = set()
        args = node.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None:
                names.add(a.arg)
        declared_global: set[str] = set()
        body = node.body if isinstance(node.body, list) else [node.body]
        stack = list(body)
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                declared_global.update(n.names)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
                continue  # a nested scope: its own locals
            elif isinstance(n, ast.Lambda):
                continue
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                for a in n.names:
                    names.add((a.asname or a.name).split(".")[0])
            stack.extend(ast.iter_child_nodes(n))
        self.globals_declared |= declared_global
        return names - declared_global

    def _visit_function(self, node: ast.AST) -> None:
        for d in getattr(node, "decorator_list", []):
            self.visit(d)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self.scopes.append(self._function_locals(node))
        body = node.body if isinstance(node.body, list) else [node.body]
        for stmt in body:
            self.visit(stmt)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check_rebind(node.name, node)
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_FunctionDef(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_rebind(node.name, node)
        self.generic_visit(node)

    def _comprehension(self, node: ast.AST) -> None:
        names = {
            n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)
        }
        self.scopes.append(names)
        self.generic_visit(node)
        self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node)

    # -- imports --------------------------------------------------------------------
    def _check_module(self, module: str, node: ast.AST) -> None:
        for pkg in GRADER_PACKAGES:
            if _under(module, pkg):
                self.add(TAMPER, "imports-grader", f"imports {module}", node)
                return
        for prefix, what in TAMPER_IMPORTS.items():
            if _under(module, prefix):
                self.add(TAMPER, "imports-internals", what, node)
                return
        for prefix, what in SUSPICIOUS_IMPORTS.items():
            if _under(module, prefix):
                self.add(SUSPICIOUS, "imports-system", what, node)
                return

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self._check_module(a.name, node)
            bound = a.asname or a.name.split(".")[0]
            self._check_rebind(bound, node, imported=a.name if a.asname else bound)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            return  # relative imports cannot work in a notebook
        before = len(self.findings)
        self._check_module(module, node)
        for a in node.names:
            qual = f"{module}.{a.name}"
            if a.name != "*":
                if len(self.findings) == before:  # `from os import _exit`, not `from solutions`
                    self._check_name(qual, node)
                self._check_rebind(a.asname or a.name, node, imported=qual)

    # -- assignments ----------------------------------------------------------------
    def _check_rebind(self, name: str, node: ast.AST, imported: str | None = None) -> None:
        """A top-level name the course's locked cells import, bound to something else."""
        if self.scopes and name not in self.globals_declared:
            return
        course_qual = self.protected.get(name)
        if course_qual is None or imported == course_qual:
            return
        if any(_under(course_qual, root) for root in PROTECTED_ROOTS):
            self.add(
                TAMPER,
                "rebinds-module",
                f"rebinds {name}, which the notebook imports as {course_qual}",
                node,
            )

    def _check_target(self, target: ast.AST, node: ast.AST, verb: str, depth: int = 0) -> None:
        if depth > MAX_TARGET_DEPTH:
            self._flat(target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._check_target(t, node, verb, depth + 1)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value, node, verb, depth + 1)
        elif isinstance(target, ast.Name):
            self._check_rebind(target.id, node)
        elif isinstance(target, ast.Attribute):
            qual = self.imported_root(target)
            if qual and not any(_under(qual, ok) for ok in ATTRIBUTE_ASSIGN_OK):
                self.add(TAMPER, "patches-module", f"{verb} {qual}", node)
                self._check_name(qual, node)  # sys.excepthook = ...: also its own rule
        elif isinstance(target, ast.Subscript):
            base = target.value
            qual = self.imported_root(base)
            if isinstance(base, ast.Attribute) and base.attr == "__dict__":
                self.add(TAMPER, "patches-module", f"{verb} an entry of a __dict__", node)
            elif isinstance(base, ast.Call) and self.qualname(base.func) == "builtins.vars":
                self.add(TAMPER, "patches-module", f"{verb} an entry of vars(...)", node)
            elif qual and _under(qual, "os.environ"):
                self.add(SUSPICIOUS, "sets-environment", f"{verb} os.environ", node)
            elif qual and not any(_under(qual, ok) for ok in ITEM_ASSIGN_OK):
                self.add(TAMPER, "patches-module", f"{verb} an item of {qual}", node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._check_target(t, node, "assigns")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, node, "modifies")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target, node, "assigns")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            self._check_target(t, node, "deletes")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._check_target(node.target, node, "assigns")
        self.generic_visit(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self.visit_For(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._check_target(node.optional_vars, node.context_expr, "assigns")
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._check_target(node.target, node, "assigns")
        self.generic_visit(node)

    # -- uses -----------------------------------------------------------------------
    def _check_name(self, qual: str, node: ast.AST) -> None:
        if qual in TAMPER_NAMES:
            rule, what = TAMPER_NAMES[qual]
            self.add(TAMPER, rule, what, node)
            return
        for pkg in GRADER_PACKAGES:
            if _under(qual, pkg):
                self.add(TAMPER, "imports-grader", f"uses {qual}", node)
                return
        for prefix, what in SUSPICIOUS_NAMES.items():
            if qual.startswith(prefix):
                self.add(SUSPICIOUS, "process-control", what, node)
                return
        for prefix, what in SUSPICIOUS_IMPORTS.items():
            if _under(qual, prefix):
                self.add(SUSPICIOUS, "imports-system", what, node)
                return

    def visit_Name(self, node: ast.Name) -> None:
        qual = self.qualname(node)
        if qual and isinstance(node.ctx, ast.Load):
            self._check_name(qual, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in TAMPER_ATTRIBUTES:
            rule, what = TAMPER_ATTRIBUTES[node.attr]
            self.add(TAMPER, rule, what, node)
        elif (
            node.attr == "register"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "events"
        ):
            self.add(TAMPER, "ipython-hooks", "registers an IPython event callback", node)
        elif node.attr == "__dict__" and self.imported_root(node.value):
            self.add(TAMPER, "patches-module", "reaches a module's __dict__", node)
        qual = self.qualname(node)
        if qual and isinstance(node.ctx, ast.Load):
            self._check_name(qual, node)
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        func = self.qualname(node.func)
        if func in ("builtins.setattr", "builtins.delattr") and node.args:
            qual = self.imported_root(node.args[0])
            if qual:
                self.add(TAMPER, "patches-module", f"{func.split('.')[1]}({qual}, ...)", node)
        elif func == "builtins.vars" and node.args and self.imported_root(node.args[0]):
            self.add(TAMPER, "patches-module", "reaches a module's namespace (vars)", node)
        if func in FILE_FUNCS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in FILE_WRITE_METHODS
        ):
            self._check_file_call(func, node)
        if self._is_magic(node):
            return
        self.generic_visit(node)

    def _check_file_call(self, func: str | None, node: ast.Call) -> None:
        """open('/abs/path', 'w'), Path('/abs').write_text(...), shutil.rmtree('/x')..."""
        literals = list(node.args)
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if isinstance(receiver, ast.Call):  # Path("/x").write_text(...)
            literals += receiver.args
        paths = [a.value for a in literals if isinstance(a, ast.Constant)]
        outside = [
            p
            for p in paths
            if isinstance(p, str) and (p.startswith(("/", "~")) or ".." in p.split("/"))
        ]
        if not outside:
            return
        if func in ("builtins.open", "io.open"):
            mode = "r"
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                mode = str(node.args[1].value)
            for k in node.keywords:
                if k.arg == "mode" and isinstance(k.value, ast.Constant):
                    mode = str(k.value.value)
            writes = any(c in mode for c in "wax+")
        else:
            writes = True
        if writes:
            what = f"writes outside its folder ({outside[0]})"
            self.add(SUSPICIOUS, "writes-outside", what, node)
        else:
            what = f"opens a path outside its folder ({outside[0]})"
            self.add(SUSPICIOUS, "reads-outside", what, node)

    # -- magics (after IPython's transformation) -------------------------------------
    def _is_magic(self, node: ast.Call) -> bool:
        """get_ipython().run_line_magic(...) and friends, as IPython writes them."""
        f = node.func
        if not (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Call)
            and isinstance(f.value.func, ast.Name)
            and f.value.func.id == "get_ipython"
            and not f.value.args
        ):
            return False
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        if f.attr in ("system", "getoutput"):
            self.add(SUSPICIOUS, "shell", "runs a shell command (!)", node)
        elif f.attr in ("run_line_magic", "run_cell_magic") and args and isinstance(args[0], str):
            name = args[0]
            if name in TAMPER_MAGICS:
                self.add(TAMPER, "magics", f"uses the %{name} magic", node)
            elif name == "writefile":
                target = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
                if PLANTED_MODULE.search(target.strip().split()[-1] if target.strip() else ""):
                    self.add(TAMPER, "plants-module", f"writes a Python file ({target})", node)
                else:
                    self.add(SUSPICIOUS, "magics", "writes a file (%%writefile)", node)
            elif name not in HARMLESS_MAGICS:
                self.add(SUSPICIOUS, "magics", f"uses the %{name} magic", node)
            if name in PYTHON_CELL_MAGICS:
                # The code a %time / %%timeit / %%capture runs is scanned like any other.
                body = args[2] if f.attr == "run_cell_magic" else args[1]
                try:
                    inner = _parse(body, strict=True) if isinstance(body, str) else None
                except _TooDeepError:
                    self.add(TAMPER, "unscannable", UNSCANNABLE, node)
                    inner = None
                if len(args) > 1 and inner is not None:
                    self.visit(inner)
        else:
            return False
        return True

    # -- literals -------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str):
            return
        text = node.value
        for marker in GRADER_PATHS:
            if marker in text:
                self.add(TAMPER, "grader-files", f"names the grader's files ({marker!r})", node)
                return
        if len(text) < 300 and PLANTED_MODULE.search(text.strip()):
            self.add(TAMPER, "plants-module", f"names a Python file ({text.strip()!r})", node)


UNSCANNABLE = "code nested too deeply for Python's parser to check"


class _TooDeepError(Exception):
    """Code that parses only with more recursion than the grader allows itself."""


def _parse(code: str, *, strict: bool = False) -> ast.AST | None:
    """The cell's syntax tree, or None if it is not Python (a syntax error). Code nested
    too deeply to build a tree of raises _TooDeepError when `strict`, else is None as well."""
    try:
        return ast.parse(_transform(code))
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError) as exc:
        if strict:
            raise _TooDeepError from exc
        return None


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def scan_source(
    source: str,
    *,
    aliases: Mapping[str, str] | None = None,
    protected: Mapping[str, str] | None = None,
    cell: str = "",
) -> list[Finding]:
    """Findings in one cell's code. Code that does not parse (a syntax error, or magics
    IPython cannot translate) is not tampering: it gives no finding.

    Args:
        source: the cell's source (IPython syntax allowed).
        aliases: names imported elsewhere in the notebook (name -> qualified name); the
            cell's own imports are added.
        protected: names the course's locked cells import; rebinding one is tampering.
        cell: the cell's name, for the findings.
    """
    names = tuple(sorted((aliases or {}).items()))
    locked = tuple(sorted((protected or {}).items()))
    return list(_remembered(_scan_source, source, names, locked, cell))


#: Cells up to this size have their scan remembered (by source text, aliases and cell
#: name), at most SCAN_CACHE of them: most cells of a class's hand-ins are the released
#: cells unchanged, and the grading process scans every hand-in (docs/performance.md,
#: "Scoring's own CPU"). A scan is a pure function of those inputs.
CACHED_SOURCE_CHARS = 20_000
SCAN_CACHE = 2048


def _remembered(fn, source: str, *args):
    """fn(source, *args) through fn's cache, or uncached for a source too big to keep."""
    return (fn if len(source) <= CACHED_SOURCE_CHARS else fn.__wrapped__)(source, *args)


@functools.lru_cache(maxsize=SCAN_CACHE)
def _scan_source(
    source: str,
    aliases: tuple[tuple[str, str], ...],
    protected: tuple[tuple[str, str], ...],
    cell: str,
) -> tuple[Finding, ...]:
    try:
        tree = _parse(source, strict=True)
    except _TooDeepError:
        # The kernel can run it after raising its recursion limit; nothing in it can be
        # checked, so it is reviewed by a person (scored 0 pending review).
        return (Finding(TAMPER, "unscannable", UNSCANNABLE, cell, 1),)
    if tree is None:
        return ()
    names = {**dict(aliases), **import_aliases(tree)}
    scanner = _Scanner(names, dict(protected), cell)
    scanner.visit(tree)
    return tuple(scanner.findings)


@functools.lru_cache(maxsize=SCAN_CACHE)
def _cell_imports(source: str) -> tuple[tuple[str, str], ...]:
    """import_aliases of one cell's code, in order; none when it does not parse."""
    tree = _parse(source)
    return () if tree is None else tuple(import_aliases(tree).items())


def _cell_name(cell) -> str:
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    return str(meta.get("grade_id") or cell.get("id") or "?")


def editable_cells(nb) -> list:
    """Code cells a student could have written: solution cells, and cells that carry no
    locked nbgrader metadata (sanitizing restores the locked ones from the gradebook)."""
    from nbgrader import utils

    return [c for c in nb.cells if c.get("cell_type") == "code" and not utils.is_locked(c)]


def scan_notebook(nb) -> list[Finding]:
    """Findings in every cell of `nb` (a sanitized notebook) that the student could edit."""
    from nbgrader import utils

    locked_aliases: dict[str, str] = {}
    all_aliases: dict[str, str] = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        for k, v in _remembered(_cell_imports, source):
            all_aliases.setdefault(k, v)
            if utils.is_locked(cell):
                locked_aliases.setdefault(k, v)
    findings: list[Finding] = []
    for cell in editable_cells(nb):
        findings += scan_source(
            cell.get("source", ""),
            aliases=all_aliases,
            protected=locked_aliases,
            cell=_cell_name(cell),
        )
    return findings


def tampering(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == TAMPER]
