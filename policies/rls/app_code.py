"""The application's database code (Python AST + pyflakes) -> the SQL it executes, undefined names.

Files are found by content: any .py file importing a PostgreSQL driver or SQLAlchemy; Go and
TypeScript/JavaScript data layers are read through tree-sitter (app_go, app_js)."""

from __future__ import annotations

import ast
from pathlib import Path

from pyflakes import messages as pyflakes_messages
from pyflakes.checker import Checker

from policies.model import Location
from policies.pycode import call_name
from policies.rls.app_go import read_go
from policies.rls.app_js import read_js
from policies.rls.model import ExecutedSql, RlsInventory, UndefinedName
from policies.sources import ParseError, SourceError, Sources

DRIVERS = ("psycopg", "psycopg2", "psycopg_pool", "sqlalchemy", "asyncpg")
EXECUTORS = ("execute", "executemany", "exec_driver_sql", "text")
SAFE_COMPOSERS = ("SQL", "Composed")  # psycopg.sql: .format() quotes what it composes


def read_app_code(sources: Sources, inventory: RlsInventory, errors: list[ParseError]) -> None:
    for path in sources.files(".py"):
        try:
            tree = sources.python(path)
        except SourceError as exc:
            errors.append(exc.error)
            continue
        if not _imports_driver(tree):
            continue
        inventory.app_files.append(str(path))
        inventory.undefined_names.extend(_undefined_names(path, tree))
        constants = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node.func) in EXECUTORS and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Name) and arg.id in constants:
                    arg = constants[arg.id]  # SQL kept in a module-level constant
                sql = _sql(arg, Location(path, node.lineno))
                if sql is not None:
                    inventory.executed_sql.append(sql)
    read_go(sources, inventory, errors)
    read_js(sources, inventory, errors)


def _imports_driver(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name.split(".")[0] in DRIVERS for name in names):
            return True
    return False


def _sql(arg: ast.expr, where: Location) -> ExecutedSql | None:
    """The SQL an argument carries; None when it is not SQL text (a variable, a text() call)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return ExecutedSql(arg.value, None, where)
    if isinstance(arg, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in arg.values]
        built = "f-string" if any(isinstance(v, ast.FormattedValue) for v in arg.values) else None
        return ExecutedSql("".join(str(p) for p in parts), built, where)
    if isinstance(arg, ast.Call) and call_name(arg.func) == "format":
        base = arg.func.value if isinstance(arg.func, ast.Attribute) else None
        if isinstance(base, ast.Call) and call_name(base.func) in SAFE_COMPOSERS:
            return None  # psycopg.sql.SQL(...).format(Identifier(...), Literal(...)) quotes
        literal = base.value if isinstance(base, ast.Constant) else "{}"
        return ExecutedSql(str(literal), "str.format", where)
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Mod, ast.Add)):
        how = "% formatting" if isinstance(arg.op, ast.Mod) else "concatenation"
        literals = [n.value for n in ast.walk(arg) if isinstance(n, ast.Constant)]
        return ExecutedSql("{}".join(str(v) for v in literals if isinstance(v, str)), how, where)
    return None


def _undefined_names(path: Path, tree: ast.Module) -> list[UndefinedName]:
    """pyflakes' undefined names, checked on the AST already parsed (pyflakes.api would parse the
    file again)."""
    return [
        UndefinedName(message.message_args[0], Location(path, message.lineno))
        for message in Checker(tree, filename=str(path)).messages
        if isinstance(message, pyflakes_messages.UndefinedName)
    ]
