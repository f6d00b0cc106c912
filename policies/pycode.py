"""Finding and importing the platform's own Python modules (by content, not by path)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from policies.sources import SourceError, Sources


def call_name(func: ast.expr) -> str:
    """The name a call is made by: `f(...)` -> "f", `x.f(...)` -> "f", anything else -> ""."""
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def find_modules(
    sources: Sources, functions: set[str], mentions: tuple[str, ...] = ()
) -> list[Path]:
    """The .py files of the tree defining all `functions` at top level and containing every
    string of `mentions` in their source, in path order."""
    found = []
    for path in sources.files(".py"):
        try:
            text = sources.text(path)
            tree = sources.python(path)
        except SourceError:
            continue
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if functions <= defined and all(m in text for m in mentions):
            found.append(path)
    return found


def platform_module(
    sources: Sources, functions: set[str], mentions: tuple[str, ...], what: str
) -> Path:
    """The tree's one module defining `functions` (the code an end-to-end test runs); none, or
    two candidates, fail naming what was found: the code run must be unambiguous."""
    found = find_modules(sources, functions, mentions)
    if len(found) != 1:
        names = ", ".join(str(p) for p in found) or "none"
        pytest.fail(
            f"{what}: exactly one module defining {', '.join(sorted(functions))} expected"
            f" under {sources.base}, found {len(found)} ({names}): not run",
            pytrace=False,
        )
    return found[0]


def import_file(path: Path) -> ModuleType:
    """Import a module from its file, its directory first on sys.path (for sibling imports).
    Live tier only, on --target local: the platform's own code run for end-to-end tests."""
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"pingvas_platform_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))
