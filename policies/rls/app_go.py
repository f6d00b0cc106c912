"""Go database code (tree-sitter-go) -> the SQL it executes, and how each statement was built.

Files are found by content: any .go file importing a PostgreSQL driver, database/sql or an ORM."""

from __future__ import annotations

import re
from pathlib import Path

from policies.rls.app_syntax import (
    MAX_NESTING,
    Assignments,
    Built,
    Node,
    read_files,
    record,
    text,
    walk,
)
from policies.rls.model import RlsInventory
from policies.sources import ParseError, Sources

DRIVERS = (
    "github.com/jackc/pgx",
    "github.com/lib/pq",
    "database/sql",
    "github.com/jmoiron/sqlx",
    "gorm.io/gorm",
    "gorm.io/driver/postgres",
    "github.com/go-pg/pg",
    "github.com/uptrace/bun",
    "github.com/georgysavva/scany",
)
# Methods of pgx, database/sql, sqlx and gorm taking SQL text (after a context, a destination).
EXECUTORS = (
    "Exec",
    "ExecContext",
    "Query",
    "QueryContext",
    "QueryRow",
    "QueryRowContext",
    "Queryx",
    "QueryxContext",
    "QueryRowx",
    "QueryRowxContext",
    "MustExec",
    "MustExecContext",
    "Get",
    "GetContext",
    "Select",
    "SelectContext",
    "NamedExec",
    "NamedExecContext",
    "NamedQuery",
    "NamedQueryContext",
    "Prepare",
    "PrepareContext",
    "Preparex",
    "PreparexContext",
    "Raw",
)
QUOTERS = ("QuoteIdentifier", "QuoteLiteral", "Sanitize")  # pq.Quote*, pgx.Identifier.Sanitize
FUNCTIONS = ("function_declaration", "method_declaration", "func_literal")
LITERALS = ("interpreted_string_literal", "raw_string_literal")
CONSTANTS = (*LITERALS, "int_literal", "float_literal")  # formatted in, they are not input
VERB = re.compile(r"%%|%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]")  # %% is a percent sign


def read_go(sources: Sources, inventory: RlsInventory, errors: list[ParseError]) -> None:
    def read(path: Path, root: Node) -> None:
        if not _imports_driver(root):
            return
        inventory.app_files.append(str(path))
        names = Assignments(root, FUNCTIONS, _defines)
        for node in walk(root):
            if _method(node) in EXECUTORS:
                args = node.child_by_field_name("arguments").named_children[:3]
                found = (_sql(arg, names) for arg in args)  # after a context, a destination
                record(inventory, next((s for s in found if s), None), path, node, generic=True)

    read_files(sources, (".go",), errors, read)


def _imports_driver(root: Node) -> bool:
    for node in walk(root):
        if node.type == "import_spec":
            imported = _literal(node.child_by_field_name("path")) or ""
            if any(imported == d or imported.startswith(d + "/") for d in DRIVERS):
                return True
    return False


def _method(node: Node) -> str | None:
    """The method (or package function) name of a call `x.Name(...)`; None otherwise."""
    function = node.child_by_field_name("function") if node.type == "call_expression" else None
    if function is not None and function.type == "selector_expression":
        return text(function.child_by_field_name("field"))
    return None


def _defines(node: Node) -> list[tuple[str, Node]]:
    """(name, value) pairs a declaration or a plain assignment gives."""
    if node.type in ("short_var_declaration", "assignment_statement"):
        if text(node.child_by_field_name("operator")) not in ("", "=", ":="):
            return []  # q += ...: not followed
        names, values = node.child_by_field_name("left"), node.child_by_field_name("right")
    elif node.type in ("var_spec", "const_spec"):
        names, values = node, node.child_by_field_name("value")
    else:
        return []
    if names is None or values is None:
        return []
    identifiers = [c for c in names.named_children if c.type == "identifier"]
    return [(text(n), v) for n, v in zip(identifiers, values.named_children, strict=False)]


def _literal(node: Node | None) -> str | None:
    if node is not None and node.type in LITERALS:
        return text(node)[1:-1]
    return None


def _sql(node: Node, names: Assignments, follow: bool = True, depth: int = 0) -> Built | None:
    """The SQL an argument carries and how it was built; None when it is not SQL text (a
    parameter, a call). A name is followed once to the value it was last assigned."""
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    if depth > MAX_NESTING:
        return None
    if (literal := _literal(node)) is not None:
        return literal, None
    if node.type == "identifier" and follow:
        value = names.value(text(node), node)
        return _sql(value, names, False, depth + 1) if value is not None else None
    if node.type == "call_expression" and _method(node) == "Sprintf":
        args = node.child_by_field_name("arguments").named_children
        layout = _sql(args[0], names, follow, depth + 1) if args else None
        shown = VERB.sub(_verb, layout[0]) if layout else "{}"
        quoted = all(_method(a) in QUOTERS or a.type in CONSTANTS for a in args[1:])
        return shown, None if quoted else "fmt.Sprintf"
    if node.type == "binary_expression" and _operator(node) == "+":
        parts, formatted = [], False
        for operand in _operands(node):
            part = _sql(operand, names, follow, depth + 1)
            parts.append(part[0] if part else "{}")
            quoted = part is None and _method(operand) in QUOTERS
            formatted |= bool(part[1]) if part else not quoted
        return "".join(parts), "concatenation" if formatted else None
    return None


def _verb(match: re.Match[str]) -> str:
    return "%" if match.group() == "%%" else "{}"


def _operator(node: Node) -> str:
    return text(node.child_by_field_name("operator"))


def _operands(node: Node) -> list[Node]:
    """The operands of a chain of `+`, left to right."""
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        if current.type == "binary_expression" and _operator(current) == "+":
            pending += [current.child_by_field_name("right"), current.child_by_field_name("left")]
        else:
            found.append(current)
    return found
