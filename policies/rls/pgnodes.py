"""Helpers over pglast expressions (row policies, views, settings read): imported by the
readers that parse SQL and by the checks when they run, so collecting the suite loads no
pglast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pglast import ast, enums

from policies.model import Location
from policies.rls.model import SettingRead


def walk(node: Any, parents: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every pglast node under node, with its ancestors (closest last)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from walk(item, parents)
    elif isinstance(node, ast.Node):
        yield node, parents
        for name in type(node).__slots__:
            yield from walk(getattr(node, name, None), (*parents, node))


def is_true(node: Any) -> bool:
    """A literal TRUE (also 'true'::boolean), the always-true policy expression."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const):
        val = node.val
        return (isinstance(val, ast.Boolean) and val.boolval) or (
            isinstance(val, ast.String) and val.sval.lower() in ("true", "t", "on")
        )
    return False


def setting_reads(
    expr: Any, location: Location, at: Callable[[int], Location] | None = None
) -> list[SettingRead]:
    """Every current_setting() call in an expression, judged for the fail-closed form;
    `at` maps a node's source offset to its line when the expression came from a file."""
    from pglast.stream import RawStream

    reads = []
    for node, parents in walk(expr):
        if not (isinstance(node, ast.FuncCall) and node.funcname[-1].sval == "current_setting"):
            continue
        args = list(node.args or ())
        name = _const(args[0]) if args else None
        missing_ok = len(args) > 1 and is_true(args[1])
        parent = parents[-1] if parents else None
        fail_closed = (
            isinstance(parent, ast.A_Expr)
            and parent.kind == enums.A_Expr_Kind.AEXPR_NULLIF
            and parent.lexpr is node
            and _const(parent.rexpr) == ""
        ) or _text_comparison(parent, node)
        where = at(node.location) if at and node.location is not None else location
        flag = not _reads_column(_or_branch(expr, node, parents))
        reads.append(
            SettingRead(str(name), missing_ok, fail_closed, RawStream()(node), where, flag)
        )
    return reads


def _text_comparison(parent: Any, node: Any) -> bool:
    """node = 'text' (or <>): compared as text with a constant, never cast, so neither an
    unset (NULL) nor an emptied ('') setting raises or matches a row."""
    if not (isinstance(parent, ast.A_Expr) and parent.kind == enums.A_Expr_Kind.AEXPR_OP):
        return False
    op = parent.name[-1].sval if parent.name else None
    other = parent.rexpr if parent.lexpr is node else parent.lexpr
    return op in ("=", "<>", "!=") and isinstance(_const(other), str)


def _or_branch(expr: Any, node: Any, parents: tuple[Any, ...]) -> Any:
    """The operand of the closest OR above node that holds it (the whole expression if none)."""
    chain = (*parents, node)
    for index in range(len(parents) - 1, -1, -1):
        above = parents[index]
        if isinstance(above, ast.BoolExpr) and above.boolop == enums.BoolExprType.OR_EXPR:
            return chain[index + 1]
    return expr


def _reads_column(node: Any) -> bool:
    return any(isinstance(n, ast.ColumnRef) for n, _ in walk(node))


def _const(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return node.val.sval
    return None


def referenced_relations(node: Any) -> list[tuple[str | None, str]]:
    """(schema, name) of every relation a statement or expression reads."""
    return [(n.schemaname, n.relname) for n, _ in walk(node) if isinstance(n, ast.RangeVar)]
