"""TypeScript and JavaScript database code (tree-sitter) -> the SQL it executes, and how.

Files are found by content: any .ts/.tsx/.js/.mjs/.cjs file importing (or requiring) a
PostgreSQL client, query builder or ORM. A tagged template (prisma.$executeRaw`...`,
sql`...`) sends its substitutions as bound parameters; they are read as $1, $2..."""

from __future__ import annotations

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

SUFFIXES = (".ts", ".tsx", ".js", ".mjs", ".cjs")
DRIVERS = (
    "pg",
    "pg-pool",
    "pg-promise",
    "postgres",
    "@prisma/client",
    "knex",
    "kysely",
    "drizzle-orm",
    "slonik",
    "@vercel/postgres",
    "@neondatabase/serverless",
    "sequelize",
    "typeorm",
    "@mikro-orm/postgresql",
)
# Tags whose template substitutions are sent as bound parameters.
TAGS = ("sql", "$executeRaw", "$queryRaw")
# Calls taking SQL text as their first argument: generic names (`query`, `execute`, `raw`) count
# only when the text reads as SQL; the unsafe and fragment ones always.
EXECUTORS = ("query", "execute", "raw", "$executeRaw", "$queryRaw")
RAW = ("$executeRawUnsafe", "$queryRawUnsafe", "unsafe", "whereRaw", "havingRaw", "orderByRaw")
SPLICERS = ("raw", "unsafe")  # Prisma.raw, sql.raw, sql.unsafe: text spliced in as it is
FUNCTIONS = (
    "function_declaration",
    "function_expression",
    "function",
    "generator_function_declaration",
    "arrow_function",
    "method_definition",
)
# tree-sitter-typescript reads a generic tagged template (tx.$queryRaw<Row[]>`...`) as the
# template applied to `tx.$queryRaw<Row[]>!` (`await` inside it when awaited), or to the arrow
# function whose body that is.
GENERIC_TAG = (
    "arrow_function",
    "non_null_expression",
    "instantiation_expression",
    "await_expression",
)
WRAPPERS = (
    "parenthesized_expression",
    "as_expression",
    "satisfies_expression",
    "non_null_expression",
    "type_assertion",
)


def read_js(sources: Sources, inventory: RlsInventory, errors: list[ParseError]) -> None:
    def read(path: Path, root: Node) -> None:
        if not _imports_driver(root):
            return
        inventory.app_files.append(str(path))
        names = Assignments(root, FUNCTIONS, _defines)
        for node in walk(root):
            name = _callee(node)
            if name in TAGS and _tagged(node):
                record(inventory, _template(node, names), path, node, generic=False)
            elif name in EXECUTORS + RAW and not _tagged(node) and not _spliced(node):
                record(inventory, _argument(node, name, names), path, node, name in EXECUTORS)

    read_files(sources, SUFFIXES, errors, read)


def _imports_driver(root: Node) -> bool:
    for node in walk(root):
        source = None
        if node.type in ("import_statement", "export_statement"):
            source = node.child_by_field_name("source")
        elif node.type == "import_require_clause":
            source = next((c for c in node.named_children if c.type == "string"), None)
        elif node.type == "call_expression" and text(node.child_by_field_name("function")) in (
            "require",
            "import",
        ):
            args = node.child_by_field_name("arguments")
            source = args.named_children[0] if args and args.named_children else None
        module = _string(source)
        if module and any(module == d or module.startswith(d + "/") for d in DRIVERS):
            return True
    return False


def _callee(node: Node) -> str | None:
    """The called name of `f(...)`, `x.f(...)` or `x.f`...``; None for anything else."""
    function = node.child_by_field_name("function") if node.type == "call_expression" else None
    while function is not None and function.type in GENERIC_TAG:  # f<T>`...`, see GENERIC_TAG
        field = function.child_by_field_name("body") if function.type == "arrow_function" else None
        function = field or (function.named_children[0] if function.named_children else None)
    if function is not None and function.type == "member_expression":
        function = function.child_by_field_name("property")
    return text(function) if function is not None and function.type.endswith("identifier") else None


def _spliced(call: Node) -> bool:
    """A raw call spliced into a tagged template (read with the template)."""
    return call.parent is not None and call.parent.type == "template_substitution"


def _tagged(call: Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    return arguments is not None and arguments.type == "template_string"


def _defines(node: Node) -> list[tuple[str, Node]]:
    """(name, value) of `const q = ...` and `q = ...`."""
    if node.type == "variable_declarator":
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
    elif node.type == "assignment_expression":
        name, value = node.child_by_field_name("left"), node.child_by_field_name("right")
    else:
        return []
    if name is None or value is None or name.type != "identifier":
        return []
    return [(text(name), value)]


def _string(node: Node | None) -> str | None:
    if node is not None and node.type == "string":
        return text(node)[1:-1]
    return None


def _template(call: Node, names: Assignments) -> Built:
    """A tagged template: each substitution a bound parameter, but text spliced in by a raw
    call (Prisma.raw, sql.raw, sql.unsafe) is formatted unless it is a literal."""
    parts, spliced, bound = [], None, 0
    for child in call.child_by_field_name("arguments").children:
        if child.type != "template_substitution":
            parts.append(text(child) if child.type != "`" else "")
            continue
        inner = _unwrap(child.named_children[0]) if child.named_children else None
        if inner is None or _callee(inner) not in SPLICERS:
            bound += 1
            parts.append(f"${bound}")
            continue
        found = _argument(inner, "", names)
        parts.append(found[0] if found else "{}")
        if not found or found[1]:
            spliced = spliced or f"{text(inner.child_by_field_name('function'))}() in a template"
    return "".join(parts), spliced


def _argument(call: Node, name: str, names: Assignments) -> Built | None:
    """The SQL text an executor call is given first, or {text: ...} of a query config."""
    args = call.child_by_field_name("arguments")
    first = _unwrap(args.named_children[0]) if args and args.named_children else None
    if first is None:
        return None
    if first.type == "object":
        for pair in first.named_children:
            if pair.type == "pair" and text(pair.child_by_field_name("key")) == "text":
                first = _unwrap(pair.child_by_field_name("value"))
    found = _sql(first, names)
    if found is None and name in RAW and not _callee(first):
        return "{}", f"a value passed to {name} that is not a literal"
    return found


def _unwrap(node: Node | None) -> Node | None:
    while node is not None and node.type in WRAPPERS and node.named_children:
        node = node.named_children[0]
    return node


def _sql(
    node: Node | None, names: Assignments, follow: bool = True, depth: int = 0
) -> Built | None:
    """The SQL an expression carries and how it was built; None when it is not SQL text (a
    parameter, a tagged template or a call, read where they are)."""
    node = _unwrap(node)
    if node is None or depth > MAX_NESTING:
        return None
    if (literal := _string(node)) is not None:
        return literal, None
    if node.type == "template_string":
        kinds = [c.type for c in node.children]
        parts = [text(c) if c.type != "template_substitution" else "{}" for c in node.children]
        built = "template literal" if "template_substitution" in kinds else None
        return "".join(parts)[1:-1], built
    if node.type == "identifier" and follow:
        value = names.value(text(node), node)
        return _sql(value, names, False, depth + 1) if value is not None else None
    if node.type == "binary_expression" and _operator(node) == "+":
        parts, formatted = [], False
        for operand in _operands(node):
            part = _sql(operand, names, follow, depth + 1)
            parts.append(part[0] if part else "{}")
            formatted |= bool(part[1]) if part else True
        return "".join(parts), "concatenation" if formatted else None
    return None


def _operator(node: Node) -> str:
    return text(node.child_by_field_name("operator"))


def _operands(node: Node) -> list[Node]:
    """The operands of a chain of `+`, left to right."""
    found, pending = [], [node]
    while pending:
        current = _unwrap(pending.pop())
        if current is None:
            continue
        if current.type == "binary_expression" and _operator(current) == "+":
            pending += [current.child_by_field_name("right"), current.child_by_field_name("left")]
        else:
            found.append(current)
    return found
