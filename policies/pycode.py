"""Finding and importing the platform's own Python modules (by content, not by path)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from policies.sources import Sources


def call_name(func: ast.expr) -> str:
    """The name a call is made by: `f(...)` -> "f", `x.f(...)` -> "f", anything else -> ""."""
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def find_module(
    sources: Sources, functions: set[str], mentions: tuple[str, ...] = ()
) -> Path | None:
    """The first .py file of the tree defining all `functions` at top level and containing every
    string of `mentions` in its source."""
    for path in sources.files(".py"):
        try:
            text = sources.text(path)
            tree = sources.python(path)
        except (SyntaxError, UnicodeDecodeError):
            continue
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if functions <= defined and all(m in text for m in mentions):
            return path
    return None


def import_file(path: Path) -> ModuleType:
    """Import a module from its file, its directory first on sys.path (for sibling imports)."""
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"pingvas_platform_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))
