"""The row-level security inventory both tiers produce, and helpers over pglast expressions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, enums

from policies.model import Location

COMMANDS = ("select", "insert", "update", "delete")


@dataclass
class Table:
    key: str  # schema.name
    columns: list[str]
    location: Location
    rls_enabled: bool = False
    rls_forced: bool = False
    owner: str | None = None
    references: list[str] = field(default_factory=list)  # tables its foreign keys reference


@dataclass
class RowPolicy:
    name: str
    table: str
    command: str  # all / select / insert / update / delete
    permissive: bool
    roles: list[str]  # "public" for PUBLIC
    using: Any  # pglast expression node or None
    check: Any
    location: Location


@dataclass
class View:
    key: str
    relations: list[str]
    security_invoker: bool
    location: Location
    materialized: bool = False  # a stored snapshot: row-level security never applies to it


@dataclass
class Function:
    name: str
    security_definer: bool
    body: str
    location: Location
    search_path: bool = False  # SET search_path in its options (CREATE or ALTER FUNCTION)


@dataclass
class Role:
    name: str
    location: Location
    superuser: bool = False
    bypassrls: bool = False
    login: bool = False


@dataclass
class Membership:
    """`member` belongs to `role` (GRANT role TO member, CREATE ROLE ... IN ROLE / ROLE);
    `can_set`: the member may SET ROLE to it (false only for GRANT ... WITH SET FALSE)."""

    member: str
    role: str
    location: Location
    can_set: bool = True


@dataclass
class SettingRead:
    """A current_setting() call: its arguments and whether it is read fail-closed (NULLIF(...,
    '') wraps it, or it is compared as text with a constant); `flag`: it sits in an OR-branch
    of its policy that reads no row column (the setting alone decides the branch, as in
    `current_setting('app.bypass_rls', true) = 'on'`)."""

    setting: str
    missing_ok: bool
    fail_closed: bool
    text: str
    location: Location
    flag: bool = False


@dataclass
class ExecutedSql:
    """SQL the application's database code executes (Python AST)."""

    sql: str  # the literal parts, "{}" where a value is interpolated
    built_by: str | None  # f-string / str.format / % formatting / concatenation; None if literal
    location: Location


@dataclass
class UndefinedName:
    name: str
    location: Location


@dataclass
class RlsInventory:
    tables: dict[str, Table] = field(default_factory=dict)
    policies: list[RowPolicy] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    roles: dict[str, Role] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    role_refs: dict[str, Location] = field(default_factory=dict)  # where a role is first named
    grants: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # table -> role -> privs
    setting_reads: list[SettingRead] = field(default_factory=list)
    executed_sql: list[ExecutedSql] = field(default_factory=list)
    undefined_names: list[UndefinedName] = field(default_factory=list)
    app_files: list[str] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)  # ParseError of files that did not parse
    parts: list[RlsInventory] = field(default_factory=list)  # one per migration set, when several


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
