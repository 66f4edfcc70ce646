"""The packaging stays consistent: environment.yml mirrors pyproject.toml, and the student
package never depends on the reference solutions."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI distribution name
CONDA_NAME = {"torch": "pytorch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_names() -> set[str]:
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^(?:\s{2}|\s{6})- ([A-Za-z0-9_.\-]+)", line)  # conda, or pip:
        if m:
            names.add(_name(m.group(1)))
    return names


@pytest.mark.parametrize("group", ["runtime", "dev"])
def test_environment_yml_lists_every_dependency(group):
    """Every dependency of pyproject.toml appears in environment.yml (conda-forge name)."""
    project = _pyproject()["project"]
    reqs = (
        project["dependencies"] if group == "runtime" else project["optional-dependencies"]["dev"]
    )
    conda = _conda_names()
    missing = [r for r in reqs if CONDA_NAME.get(_name(r), _name(r)) not in conda]
    assert not missing, f"environment.yml lacks {missing}; add them under dependencies"


def test_environment_yml_installs_the_course_itself():
    """conda users get the course packages too, not only the dependencies."""
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- -e \.$", text, re.M), "environment.yml must pip-install -e ."
    assert "python=3.11" in text


def test_constraints_pin_the_cpu_torch_wheel():
    """`make setup` must pin torch exactly, or pip pulls a multi-GB CUDA build."""
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\d+\.\d+\.\d+$", pins, re.M)
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "course").rglob("*.py")), ids=str)
def test_course_never_imports_solutions(path):
    """Students get course/ without solutions/: an import of it would break their notebooks
    and, worse, could hand them the reference code."""
    assert "solutions" not in _imports(path)
    assert "autograder" not in _imports(path)


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").rglob("*.py")), ids=str)
def test_solutions_is_pure_numpy(path):
    """The reference library imports numpy and the standard library only (bench.py, a dev
    tool, may import torch lazily inside its main())."""
    allowed = {"numpy", "solutions", "__future__"} | set(__import__("sys").stdlib_module_names)
    imported = _imports(path)
    if path.name == "bench.py":
        imported -= {"torch", "threadpoolctl", "mlxtend"}
    assert imported <= allowed, f"{path.name} imports {sorted(imported - allowed)}"
