"""A tree-sitter-hcl front end giving exactly python-hcl2 7.x's `loads(text, with_meta=True)`.

The C parser builds the tree; this module renders it the way python-hcl2's lark grammar and
`DictTransformer` would: blocks as lists keyed by type and labels with `__start_line__` /
`__end_line__`, expressions as `${...}` strings with the same spacing, the same right-nested
reading of operator chains (`null == x` gives `None == x`, as python-hcl2 does), raw template
directives, heredocs cut by the same regular expressions. Where the lark grammar would read a
construct differently or reject it (a newline where it allows none, `~` strip markers, a
directive holding a quote, a carriage return...), `loads` raises `Unsupported` and `Frontend`
asks python-hcl2 instead: the model is python-hcl2's or nothing. A tree-sitter syntax error is
also settled by python-hcl2, so SRC-001 names the same line with either front end."""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Callable
from typing import Any

import tree_sitter_hcl
from tree_sitter import Language, Node, Parser

VERSION = "tree-sitter-hcl {} as python-hcl2 {}".format(
    importlib.metadata.version("tree-sitter-hcl"), importlib.metadata.version("python-hcl2")
)
START, END = "__start_line__", "__end_line__"

_PARSER = Parser(Language(tree_sitter_hcl.language()))
_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]*\Z")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
_FOREIGN_SPACE = re.compile(r"[^\S \t\n]")  # whitespace lark neither ignores nor tokenizes
# python-hcl2's terminals and transformer patterns (hcl2.lark, hcl2/transformer.py), on bytes.
_STRING_CHARS = re.compile(rb'(?:(?!\$\$\{)(?!\$\{)[^"\\]|\\.|(?:\$(?!\$?\{)))+')
_ESCAPED_INTERPOLATION = re.compile(rb"\$\$\{[^}]*\}")
_HEREDOC = re.compile(rb"<<(?P<heredoc>[a-zA-Z][a-zA-Z0-9._-]+)\n?(?:.|\n)*?\n\s*(?P=heredoc)\n")
_HEREDOC_TRIM = re.compile(
    rb"<<-(?P<heredoc_trim>[a-zA-Z][a-zA-Z0-9._-]+)\n?(?:.|\n)*?\n\s*(?P=heredoc_trim)\n"
)
_HEREDOC_BODY = re.compile(r"<<-?([a-zA-Z][a-zA-Z0-9._-]+)\n([\s\S]*)\1", re.S)
# Expressions python-hcl2 renders as their own text: a traversal of names, a string without
# interpolation (its escapes and directives are raw characters to lark), a plain number.
_PLAIN_TRAVERSAL = re.compile(rb"[a-zA-Z_][a-zA-Z0-9_-]*(?:\.[a-zA-Z_][a-zA-Z0-9_-]*)*\Z")
_PLAIN_STRING = re.compile(rb'"(?:[^"\\$\n]|\\.|\$(?![{$]))*"\Z')
_PLAIN_NUMBER = re.compile(rb"[0-9]+(?:\.[0-9]+)?\Z")
_INTERPOLATED_KEY = re.compile(r".*?(\${).*}.*")
_OPERATORS = {"*", "/", "%", "+", "-", ">", ">=", "<", "<=", "==", "!=", "&&", "||"}
_TYPE_KEYWORDS = {"bool", "number", "string"}
_CONSTANTS = {"true": True, "false": False, "null": None}


class Unsupported(Exception):
    """A construct python-hcl2 may read differently (or reject): ask python-hcl2."""


class HclSyntaxError(ValueError):
    """tree-sitter-hcl found an ERROR or MISSING node: where, and what."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def loads(text: str) -> dict[str, Any]:
    """python-hcl2's `loads(text, with_meta=True)` model of `text`, from tree-sitter-hcl.
    Raises HclSyntaxError on a syntax error, Unsupported where parity is not assured."""
    if _FOREIGN_SPACE.search(text):
        raise Unsupported("whitespace other than space, tab and newline")
    source = (text + "\n").encode()  # python-hcl2 parses text + "\n" too
    root = _PARSER.parse(source).root_node
    if root.has_error:
        node = _first_error(root)
        line, column = node.start_point[0] + 1, node.start_point[1] + 1
        what = f"missing {node.type}" if node.is_missing else "syntax error"
        raise HclSyntaxError(line, column, f"{what} at column {column}")
    return _Reader(source).file(root)


class Frontend:
    """The run's HCL front end: "tree-sitter" (python-hcl2 for the files it must settle) or
    "python-hcl2". Counts the files each parsed."""

    def __init__(self, parser: str = "tree-sitter") -> None:
        if parser not in ("tree-sitter", "python-hcl2"):
            raise ValueError(f"unknown HCL parser {parser!r}")
        self.parser = parser
        self.version = VERSION if parser == "tree-sitter" else "python-hcl2"
        self.parsed = 0  # files read by tree-sitter
        self.fallbacks: dict[str, int] = {}  # reason -> files python-hcl2 settled

    def loads(self, text: str) -> dict[str, Any]:
        """The model of `text`. Whatever tree-sitter cannot settle (Unsupported, a syntax
        error, a nesting too deep, any surprise) python-hcl2 parses, and its exceptions pass as
        they are, so the caller reports them as it always did."""
        if self.parser == "tree-sitter":
            try:
                parsed = loads(text)
            except Exception as exc:  # noqa: BLE001 - a shape this reader did not foresee too
                reason = str(exc) if isinstance(exc, Unsupported) else type(exc).__name__
                self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1
            else:
                self.parsed += 1
                return parsed
        import hcl2

        return hcl2.loads(text, with_meta=True)

    def adopt(self, parsed: dict[str, Any]) -> dict[str, Any]:
        """A model tree-sitter parsed in a worker process (policies.sources.parallel), counted."""
        self.parsed += 1
        return parsed


def _first_error(root: Node) -> Node:
    pending = [root]
    while pending:
        node = pending.pop()
        if node.is_error or node.is_missing:
            return node
        pending.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return root


def _kids(node: Node) -> list[Node]:
    return [c for c in node.children if c.type != "comment"]


# --- python-hcl2's DictTransformer helpers, restated --------------------------------------


def _escapes(value: str) -> str:
    return (
        value.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
        .replace('\\"', '"')
        .replace("\\\\", "\\")
    )


def _dollar(value: Any) -> Any:
    """to_string_dollar: a value as an attribute, tuple element or object value holds it."""
    if not isinstance(value, str):
        return value
    if value.startswith("${") and value.endswith("}"):
        return value
    if value.startswith('"') and value.endswith('"'):
        return _escapes(value[1:-1])
    if value in _TYPE_KEYWORDS:
        return value
    return f"${{{value}}}"


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"'):
        return _escapes(value[1:-1])
    return value


def _unwrap(value: str) -> str:
    return value[2:-1] if value.startswith("${") and value.endswith("}") else value


def _inline(value: Any) -> str:
    """to_tf_inline."""
    if isinstance(value, dict):
        return re.sub(r"\$\{(.*)}", lambda m: m.group(0).replace('\\"', '"'), json.dumps(value))
    if isinstance(value, list):
        return f"[{', '.join(_inline(item) for item in value)}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "None"
    raise Unsupported(f"value of type {type(value).__name__}")


def _null(value: Any) -> Any:
    return "null" if value is None else value


def _number(text: str) -> Any:
    if not _NUMBER.match(text):
        raise Unsupported("number literal")
    if "." not in text and "e" not in text and "E" not in text:
        return int(text)
    return _dollar(text) if "e" in text else float(text)


# --- the reader ---------------------------------------------------------------------------

_Items = list[Any]  # a flat expression: ("term", nodes) | ("unary", node) | operator text


class _Reader:
    def __init__(self, source: bytes) -> None:
        self.src = source

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode()

    def tight(self, left: Node, right: Node) -> None:
        """No newline or comment between two tokens (where lark's grammar allows none)."""
        gap = self.src[left.end_byte : right.start_byte]
        if gap.strip(b" \t"):
            raise Unsupported("newline or comment where python-hcl2 allows none")

    def after_break(self, at: int) -> bool:
        """Whether a newline or a comment comes last before `at` (spaces aside)."""
        while at > 0 and self.src[at - 1] in b" \t":
            at -= 1
        return self.src.endswith((b"\n", b"*/"), 0, at)

    def name(self, node: Node) -> str:
        if node.type != "identifier":
            raise Unsupported(f"{node.type} for a name")
        text = self.text(node)
        if not _NAME.match(text):
            raise Unsupported("identifier outside python-hcl2's NAME")
        return text

    # bodies

    def file(self, root: Node) -> dict[str, Any]:
        kids = _kids(root)
        if not kids:
            return {}
        if len(kids) != 1 or kids[0].type != "body":
            raise Unsupported(f"top level {kids[0].type}")
        return self.body(kids[0])

    def body(self, node: Node) -> dict[str, Any]:
        result: dict[str, Any] = {}
        attributes: set[str] = set()
        for item in _kids(node):
            if item.type == "attribute":
                key, value = self.attribute(item)
                if key in result:
                    raise Unsupported("duplicate attribute")
                result[key] = value
                attributes.add(key)
            elif item.type == "block":
                key, value = self.block(item)
                if key in attributes:
                    raise Unsupported("block named like an attribute")
                result.setdefault(key, []).append(value)
            else:
                raise Unsupported(f"{item.type} in a body")
        return result

    def attribute(self, node: Node) -> tuple[str, Any]:
        name, equals, value = _kids(node)
        self.tight(name, equals)
        self.tight(equals, value)
        return self.name(name), _dollar(self.expression(value))

    def block(self, node: Node) -> tuple[str, Any]:
        kids = _kids(node)
        labels: list[str] = []
        index = 1
        while kids[index].type in ("identifier", "string_lit"):
            self.tight(kids[index - 1], kids[index])
            label = kids[index]
            labels.append(self.name(label) if label.type == "identifier" else self.string(label))
            index += 1
        body = kids[index + 1] if kids[index + 1].type == "body" else None
        result = self.body(body) if body is not None else {}
        result.update({START: node.start_point[0] + 1, END: kids[-1].start_point[0] + 1})
        for label in reversed(labels):
            result = {_unquote(label): result}
        return self.name(kids[0]), result

    # expressions: flattened in source order, then nested to the right as lark's LALR
    # tables (shift over reduce) nest them

    def expression(self, node: Node) -> Any:
        text = self.src[node.start_byte : node.end_byte]
        first = text[:1]
        if first == b'"':
            if _PLAIN_STRING.match(text):
                return text.decode()
        elif first.isdigit():
            if _PLAIN_NUMBER.match(text):
                return _number(text.decode())
        elif _PLAIN_TRAVERSAL.match(text):
            plain = text.decode()
            if plain in _CONSTANTS:
                return _CONSTANTS[plain]
            if plain.partition(".")[0] not in _CONSTANTS:
                return plain
        items = self.flatten(node)
        value, end = self.fold(items, 0)
        if end != len(items):
            raise Unsupported("operator sequence")
        return value

    def flatten(self, node: Node) -> _Items:
        kids = _kids(node)
        if len(kids) == 1 and kids[0].type == "conditional":
            cond, question, then, colon, other = _kids(kids[0])
            self.tight(cond, question)
            return [*self.flatten(cond), "?", *self.flatten(then), ":", *self.flatten(other)]
        if len(kids) == 1 and kids[0].type == "operation":
            return self.flatten_operation(kids[0])
        return [("term", kids)]

    def flatten_operation(self, node: Node) -> _Items:
        (operation,) = _kids(node)
        if operation.type == "unary_operation":
            return [("unary", operation)]
        kids = _kids(operation)
        at = next(i for i, kid in enumerate(kids) if not kid.is_named and kid.type in _OPERATORS)
        left, operator, right = kids[:at], kids[at], kids[at + 1 :]
        self.tight(left[-1], operator)
        if operator.type == "-" and self.src[operator.end_byte : operator.end_byte + 1].isdigit():
            raise Unsupported("minus sign touching a digit")
        return [*self.operand(left), operator.type, *self.operand(right)]

    def operand(self, kids: list[Node]) -> _Items:
        if len(kids) == 1 and kids[0].type == "operation":
            return self.flatten_operation(kids[0])
        return [("term", kids)]

    def fold(self, items: _Items, at: int) -> tuple[Any, int]:
        item = items[at]
        if isinstance(item, str):
            raise Unsupported("operator sequence")
        unit = self.term(item[1]) if item[0] == "term" else self.unary(item[1])
        at += 1
        if at < len(items) and items[at] in _OPERATORS:
            operator = items[at]
            rest, at = self.fold(items, at + 1)
            right = " ".join(_inline(a) for a in (operator, _null(rest)))
            return " ".join(_unwrap(_inline(a)) for a in (unit, right)), at
        if at < len(items) and items[at] == "?":
            then, at = self.fold(items, at + 1)
            if at >= len(items) or items[at] != ":":
                raise Unsupported("operator sequence")
            other, at = self.fold(items, at + 1)
            return f"{_null(unit)} ? {_null(then)} : {_null(other)}", at
        return unit, at

    def unary(self, node: Node) -> Any:
        negative = self.negative_literal(node)
        if negative is not None:
            return negative
        operator, *operand = _kids(node)
        self.tight(operator, operand[0])
        if len(operand) == 1 and operand[0].type == "operation":
            (inner,) = _kids(operand[0])
            value = self.negative_literal(inner) if inner.type == "unary_operation" else None
            if value is None:  # lark's unary operand is a term, a negative number at most
                raise Unsupported("unary operator on an operation")
        else:
            value = self.term(operand)
        return "".join(_inline(a) for a in (operator.type, _null(value)))

    def negative_literal(self, node: Node) -> Any:
        """`-1` as lark's NEGATIVE_DECIMAL reads it (an int or float), or None: its lexer does
        not offer that token after a newline or a comment, a unary minus is read there."""
        kids = _kids(node)
        operator, first = kids[0], kids[-1]
        if (
            operator.type == "-"
            and len(kids) == 2
            and first.type == "literal_value"
            and first.children[0].type == "numeric_lit"
            and operator.end_byte == first.start_byte
            and not self.after_break(operator.start_byte)
        ):
            return _number("-" + self.text(first))
        return None

    def term(self, kids: list[Node]) -> Any:
        first = kids[0]
        if first.type == "(":
            if len(kids) < 3 or kids[2].type != ")":
                raise Unsupported("parenthesis")
            value: Any = f"({self.expression(kids[1])})"
            rest = kids[3:]
            previous = kids[2]
        else:
            value, rest, previous = self.base(first), kids[1:], first
        for suffix in rest:
            self.tight(previous, suffix)
            value = f"{value}{self.suffix(suffix, previous)}"
            previous = suffix
        return value

    def suffix(self, node: Node, previous: Node) -> str:
        """A get_attr, index or splat after `previous`: lark reads no `.0` after a `.*`."""
        kind = node.type
        if kind == "get_attr":
            dot, name = _kids(node)
            self.tight(dot, name)
            return f".{self.name(name)}"
        if kind == "index":
            (index,) = _kids(node)
            if index.type == "legacy_index":
                if previous.type == "attr_splat" or self.text(previous).startswith(".*"):
                    raise Unsupported("legacy index after an attribute splat")
                digits = self.text(index)[1:].strip(" \t")
                if not digits.isdigit() or not digits.isascii():
                    raise Unsupported("legacy index")
                return f"[{digits[0]}]"
            if index.type != "new_index":
                raise Unsupported(index.type)
            _, key, _ = _kids(index)
            return f"[{self.expression(key)}]"
        if kind == "splat":
            (splat,) = _kids(node)
            marker, *more = _kids(splat)
            previous = marker
            text = {"attr_splat": ".*", "full_splat": "[*]"}[splat.type]
            for item in more:
                self.tight(previous, item)
                text += self.suffix(item, splat if splat.type == "attr_splat" else previous)
                previous = item
            return text
        raise Unsupported(f"{kind} after a term")

    def base(self, node: Node) -> Any:
        kind = node.type
        if kind == "variable_expr":
            (name,) = _kids(node)
            text = self.name(name)
            return _CONSTANTS.get(text, text)
        if kind == "literal_value":
            (literal,) = _kids(node)
            if literal.type == "numeric_lit":
                return _number(self.text(literal))
            if literal.type == "bool_lit":
                return self.text(literal) == "true"
            if literal.type == "null_lit":
                return None
            return self.string(literal)
        if kind in ("template_expr", "collection_value", "for_expr"):
            (inner,) = _kids(node)
            return self.base(inner)
        readers: dict[str, Callable[[Node], Any]] = {
            "quoted_template": self.string,
            "heredoc_template": self.heredoc,
            "tuple": self.tuple,
            "object": self.object,
            "function_call": self.call,
            "for_tuple_expr": self.for_tuple,
            "for_object_expr": self.for_object,
        }
        if kind not in readers:
            raise Unsupported(f"{kind} as a term")
        return readers[kind](node)

    # templates

    def string(self, node: Node) -> str:
        """A quoted template as lark's `string` rule reads it: raw characters, `$${...}` kept,
        `${expr}` rendered; directives are raw characters to python-hcl2."""
        interpolations: dict[int, Node] = {}
        self.interpolations(node, interpolations)
        start, end = node.start_byte + 1, node.end_byte - 1
        parts: list[str] = []
        at = start
        while at < end:
            if self.src.startswith(b"${", at):
                found = interpolations.pop(at, None)
                if found is None:
                    raise Unsupported("interpolation")
                parts.append("${" + str(self.interpolation(found)) + "}")
                at = found.end_byte
                continue
            match = _ESCAPED_INTERPOLATION.match(self.src, at, end) or _STRING_CHARS.match(
                self.src, at, end
            )
            if match is None:
                raise Unsupported("string character")
            parts.append(match.group().decode())
            at = match.end()
        if at != end or interpolations:
            raise Unsupported("string")
        return '"' + "".join(parts) + '"'

    def interpolations(self, node: Node, found: dict[int, Node]) -> None:
        for kid in node.children:
            if kid.type == "template_interpolation":
                found[kid.start_byte] = kid
            elif kid.child_count and kid.type != "template_literal":
                self.interpolations(kid, found)

    def interpolation(self, node: Node) -> Any:
        kids = _kids(node)
        if len(kids) != 3:
            raise Unsupported("strip marker")
        opening, expression, closing = kids
        self.tight(opening, expression)
        self.tight(expression, closing)
        return self.expression(expression)

    def heredoc(self, node: Node) -> str:
        marker = _kids(node)[0]
        trim = self.text(marker) == "<<-"
        match = (_HEREDOC_TRIM if trim else _HEREDOC).match(self.src, node.start_byte)
        if match is None or match.end() != node.end_byte + 1:
            raise Unsupported("heredoc")
        body = _HEREDOC_BODY.match(match.group().decode())
        if body is None:
            raise Unsupported("heredoc")
        text = body.group(2).rstrip("\n\t ")
        if trim:
            lines = text.split("\n")
            indent = min(len(line) - len(line.lstrip(" ")) for line in lines)
            text = "\n".join(line[indent:] for line in lines)
        return f'"{text}"'

    # collections and calls

    def tuple(self, node: Node) -> list[Any]:
        return [_dollar(self.expression(k)) for k in _kids(node) if k.type == "expression"]

    def object(self, node: Node) -> dict[str, Any]:
        result: dict[str, Any] = {}
        kids = _kids(node)
        for index, kid in enumerate(kids):
            if kid.type == "object_elem":
                if kids[index + 1].type == ",":
                    self.tight(kid, kids[index + 1])
                result.update(self.element(kid))
        return result

    def element(self, node: Node) -> dict[str, Any]:
        key, equals, value = _kids(node)
        self.tight(key, equals)
        self.tight(equals, value)
        return {self.key(key): _dollar(self.expression(value))}

    def key(self, node: Node) -> str:
        kids = _kids(node)
        first = kids[0]
        if first.type == "(":
            if len(kids) != 3:
                raise Unsupported("object key")
            self.tight(kids[0], kids[1])
            self.tight(kids[1], kids[2])
            inner = self.expression(kids[1])
            if not isinstance(inner, str):
                raise Unsupported("object key")
            return str(_dollar(f"({inner})"))
        if first.type == "variable_expr":
            parts = [self.name(_kids(first)[0])]
            for previous, suffix in zip(kids, kids[1:], strict=False):
                if suffix.type != "get_attr":
                    raise Unsupported("object key")
                self.tight(previous, suffix)
                parts.append(self.suffix(suffix, previous))
            return "".join(parts)
        if len(kids) != 1:
            raise Unsupported("object key")
        if first.type == "literal_value" and _kids(first)[0].type in ("bool_lit", "null_lit"):
            return self.text(first)
        if first.type == "template_expr" and _kids(first)[0].type == "quoted_template":
            value = self.string(_kids(first)[0])
        elif first.type == "literal_value":
            value = self.base(first)
        else:
            raise Unsupported("object key")
        if not isinstance(value, str):
            return str(value)
        return value if _INTERPOLATED_KEY.match(value) else _unquote(value)

    def call(self, node: Node) -> str:
        kids = _kids(node)
        name = self.text(kids[0])
        parts = name.split("::")
        if not (len(parts) in (1, 3) and all(_NAME.match(p) for p in parts)):
            raise Unsupported("function name")
        self.tight(kids[0], kids[1])
        arguments: list[Any] = []
        if kids[2].type == "function_arguments":
            args = _kids(kids[2])
            for index, arg in enumerate(args):
                if arg.type == "expression":
                    arguments.append(_null(self.expression(arg)))
                elif index == len(args) - 1:
                    self.tight(args[index - 1], arg)  # a trailing comma or the ellipsis
        return f"{name}({', '.join(_inline(a) for a in arguments)})"

    def for_intro(self, node: Node) -> str:
        kids = _kids(node)
        words: list[Any] = ["for", self.name(kids[1])]
        at = 2
        if kids[at].type == ",":
            self.tight(kids[1], kids[2])
            self.tight(kids[2], kids[3])
            words += [",", self.name(kids[3])]
            at = 4
        words += ["in", self.expression(kids[at + 1]), ":"]
        return " ".join(_inline(w) for w in words)

    def for_cond(self, node: Node) -> str:
        _, condition = _kids(node)
        return " ".join(_inline(w) for w in ("if", self.expression(condition)))

    def for_tuple(self, node: Node) -> str:
        _, intro, value, *more = _kids(node)
        words = [self.for_intro(intro), self.expression(value)]
        words += [self.for_cond(k) for k in more if k.type == "for_cond"]
        return f"[{' '.join(_inline(w) for w in words)}]"

    def for_object(self, node: Node) -> str:
        _, intro, key, arrow, value, *more = _kids(node)
        self.tight(key, arrow)
        words = [self.for_intro(intro), self.expression(key), "=>", self.expression(value)]
        for kid in more:
            if kid.type == "ellipsis":
                words.append("...")
            elif kid.type == "for_cond":
                words.append(self.for_cond(kid))
        return f"{{{' '.join(_inline(w) for w in words)}}}"
