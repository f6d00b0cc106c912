"""What the Go and JavaScript/TypeScript readers share: tree-sitter walks, the variable a name
was last assigned in the enclosing function or file, and whether text reads as SQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from policies.model import Location
from policies.rls.model import ExecutedSql, RlsInventory
from policies.sources import ParseError, SourceError, Sources

Node = Any  # tree_sitter.Node
Built = tuple[str, str | None]  # SQL text ("{}" where a value is interpolated), how it was built
MAX_NESTING = 50  # parentheses and calls followed into an argument
NOT_THE_APP = ("vendor", "node_modules")  # third-party code checked into the tree
# Executor arguments whose text starts so are SQL (a generic `Get`, `execute` or `raw` call
# with a URL, a cache key or a command is not); "{}" is an interpolated value.
SQL_START = re.compile(
    r"^[\s(]*(?:\{\}\s*)*(?:select|insert|update|delete|with|set|reset|create|alter|drop|grant|"
    r"revoke|truncate|begin|commit|rollback|call|copy|lock|values|explain|show|do|merge|where|"
    r"from|and|or|order|limit|join|returning)\b",
    re.I,
)


def read_files(
    sources: Sources,
    suffixes: tuple[str, ...],
    errors: list[ParseError],
    read: Callable[[Path, Node], None],
) -> None:
    """Parse each application file of these suffixes (not vendored code) and hand it on; a file
    that does not parse is reported, never skipped silently."""
    for path in sources.files(*suffixes):
        if any(part in NOT_THE_APP for part in path.relative_to(sources.base).parts[:-1]):
            continue
        try:
            tree = sources.syntax(path)
        except SourceError as exc:
            errors.append(exc.error)
            continue
        read(path, tree.root_node)


def walk(root: Node) -> Iterator[Node]:
    """Every node under root, in document order (iteratively: untrusted input nests deep)."""
    pending = [root]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(reversed(node.children))


def text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def line(node: Node) -> int:
    return int(node.start_point[0]) + 1


def record(
    inventory: RlsInventory, sql: Built | None, path: Path, call: Node, generic: bool
) -> None:
    """Keep what a call executes; a generic executor name only when its text reads as SQL."""
    if sql is not None and (not generic or SQL_START.search(sql[0])):
        inventory.executed_sql.append(ExecutedSql(*sql, Location(path, line(call))))


class Assignments:
    """The values names are given in a file, by enclosing function (or the file itself), so a
    call's argument can be followed once to what it was last set to before the call."""

    def __init__(
        self, root: Node, functions: tuple[str, ...], defines: Callable[[Node], list]
    ) -> None:
        self.functions = functions
        self.values: dict[tuple[tuple[int, int, str], str], list[tuple[int, Node]]] = {}
        pending: list[tuple[Node, tuple[int, int, str]]] = [(root, _key(root))]
        while pending:
            node, scope = pending.pop()
            for name, value in defines(node):
                self.values.setdefault((scope, name), []).append((node.start_byte, value))
            inner = _key(node) if node.type in functions else scope
            pending.extend((child, inner) for child in reversed(node.children))

    def value(self, name: str, at: Node) -> Node | None:
        """The value `name` was last assigned before `at`, in the innermost function (or the
        file) that assigns it; a file-level value also when assigned after (Go constants)."""
        node = at.parent
        while node is not None:
            if node.type in self.functions or node.parent is None:
                assigned = self.values.get((_key(node), name), [])
                before = [value for start, value in assigned if start < at.start_byte]
                if before:
                    return before[-1]
                if node.parent is None and assigned:
                    return assigned[-1][1]
            node = node.parent
        return None


def _key(scope: Node) -> tuple[int, int, str]:
    return (scope.start_byte, scope.end_byte, scope.type)
