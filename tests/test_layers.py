"""The package's layers, read from the source: each module imports only its own layer or lower ones,
no module imports itself back through others, and no module grows past about 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "alphavae_core"
CORE = {"divergences", "model", "losses", "trainer", "adam", "config"}
UTILITIES = {"errors", "paths", "progress", "plotting"}
# Bottom to top. A module may import modules of its own layer and of the layers listed before it.
LAYERS = ("utilities", "data", "core", "experiments", "chapters", "course", "cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "utilities"  # the package's own __init__: a docstring and a version
    head = parts[0]
    if head in ("data", "experiments", "chapters", "course"):
        return head
    if head in ("cli", "__main__"):
        return "cli"
    if head in CORE:
        return "core"
    if head in UTILITIES:
        return "utilities"
    raise AssertionError(f"{module} belongs to no layer: add it to CORE or UTILITIES, or move it")


def imports(module: str) -> set[str]:
    """Every alphavae_core module that ``module`` imports, at the top or inside a function."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] == "alphavae_core"}
    return {n for n in found if n in MODULES} - {module}


GRAPH = {m: imports(m) for m in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_its_layer_and_below(module: str) -> None:
    mine = LAYERS.index(layer(module))
    above = sorted(m for m in GRAPH[module] if LAYERS.index(layer(m)) > mine)
    assert not above, f"{module} ({layer(module)}) imports a higher layer: {above}"


def test_no_import_cycles() -> None:
    def reach(start: str) -> set[str]:
        seen, todo = set(), list(GRAPH[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += GRAPH[m]
        return seen

    cycles = sorted(m for m in MODULES if m in reach(m))
    assert not cycles, f"modules that import themselves back through others: {cycles}"


def test_the_core_is_thin() -> None:
    core = sorted(m for m in MODULES if layer(m) == "core")
    assert core == sorted(f"alphavae_core.{m}" for m in CORE)
    for m in core:
        assert not {layer(i) for i in GRAPH[m]} & {"experiments", "chapters", "cli"}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small_and_say_what_they_are_for(module: str) -> None:
    text = MODULES[module].read_text()
    assert len(text.splitlines()) <= 500, f"{module} has {len(text.splitlines())} lines: split it"
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.strip(), f"{module} has no docstring saying what it is for"


def test_the_layer_test_sees_a_violation() -> None:
    """The reader above resolves absolute, relative and function-level imports."""
    assert "alphavae_core.experiments.grid" in GRAPH["alphavae_core.chapters.benchmarks.settings"]
    assert "alphavae_core.data" in GRAPH["alphavae_core.trainer"]  # ``from . import data``
    assert layer("alphavae_core.experiments.grid") == "experiments"
