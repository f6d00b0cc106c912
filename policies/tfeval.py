"""Terraform expressions, evaluated as Terraform evaluates them, over tree-sitter-hcl's syntax tree.

python-hcl2 gives each expression as text ("${var.on ? 1 : 0}", "prefix-${local.name}"); each
text is parsed once (tree-sitter-hcl, wrapped as a heredoc template so that quotes and
backslashes of literal parts stay as they are) and evaluated in a `Scope`: variables, locals,
`each`, `count`, iterators, `path.*`, and references to resources and module outputs through the
scope's resolver. Values are Python values (None for null, int/float, str, bool, list, dict);
what only apply knows, or what the configuration does not give, is an `Unknown`, which
propagates through every operation that depends on it. Functions are the ones modules call;
an unsupported one is Unknown, never a guess."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2
import tree_sitter_hcl
from tree_sitter import Language, Node, Parser

_PARSER = Parser(Language(tree_sitter_hcl.language()))
_HEREDOC = "__PINGVAS_TEMPLATE__"
MAX_DEPTH = 60  # nested evaluations (locals referring to locals, module outputs)
_QUIET = re2.Options()
_QUIET.log_errors = False


@dataclass(frozen=True)
class Unknown:
    """A value the configuration does not determine before apply. `what` says why (an attribute
    only apply knows, a required variable without a value, an unsupported function); `ref` is
    the resource address for a reference to one of its attributes (so readers can still link
    a logging configuration to its Web ACL); `text` is the expression as written."""

    what: str
    text: str = ""
    ref: str | None = None
    partial: Any = field(default=None, compare=False)  # what jsonencode() was given, if known
    undeclared: bool = False  # `ref` names something the configuration does not declare

    def __str__(self) -> str:
        shown = self.text or self.what
        return shown if shown == self.what else f"{shown} ({self.what})"


class EvalError(Exception):
    """An expression Terraform itself would reject (a type error, a missing key)."""


class UndeclaredReference(EvalError):
    """A reference to a resource, data source or module the configuration does not declare."""

    def __init__(self, message: str, address: str) -> None:
        super().__init__(message)
        self.address = address


def is_unknown(value: Any) -> bool:
    """Whether a value is, or contains, an Unknown."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((u for v in items if (u := first_unknown(v)) is not None), None)


@dataclass
class Scope:
    """What names resolve to while evaluating one module instance's expressions."""

    variables: dict[str, Any] = field(default_factory=dict)
    local: Callable[[str], Any] = lambda name: Unknown(f"local.{name} is not defined")
    names: dict[str, Any] = field(default_factory=dict)  # each, count, iterators, for variables
    module_path: str = "."
    root_path: str = "."
    reference: Callable[[list[str | int]], Any] | None = None  # resource/data/module addresses
    read_file: Callable[[str], str | Unknown] | None = None
    depth: int = 0

    def child(self, **names: Any) -> Scope:
        return Scope(
            self.variables,
            self.local,
            {**self.names, **names},
            self.module_path,
            self.root_path,
            self.reference,
            self.read_file,
            self.depth,
        )


def evaluate(value: Any, scope: Scope) -> Any:
    """A python-hcl2 value with every expression in it evaluated (line markers kept)."""
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    if isinstance(value, str) and ("${" in value or "%{" in value):
        return evaluate_text(value, scope)
    return value


def evaluate_text(text: str, scope: Scope) -> Any:
    """One python-hcl2 string: a template, or a single interpolation (its value, untouched)."""
    found = _template(text)
    if found is None:
        return Unknown("the suite cannot parse this expression", _shown(text))
    source, start, end, parts = found
    try:
        return _Eval(scope, text, source).template(start, end, parts, escapes=False)
    except UndeclaredReference as exc:
        return Unknown(str(exc), _shown(text), exc.address, undeclared=True)
    except EvalError as exc:
        return Unknown(str(exc), _shown(text))
    except RecursionError:
        return Unknown("nested too deeply to evaluate", _shown(text))


def _shown(text: str) -> str:
    inner = text[2:-1] if text.startswith("${") and text.endswith("}") else text
    return inner if len(inner) <= 120 else inner[:117] + "..."


@lru_cache(maxsize=8192)
def _template(text: str) -> tuple[bytes, int, int, list[Node]] | None:
    """tree-sitter's parse of a python-hcl2 string as a heredoc template (cached by text): the
    wrapped text's source, the byte range of the template's content, and its interpolations
    and directives (the literal text between them is sliced from the source: tree-sitter-hcl's
    literals drop the spaces next to an interpolation)."""
    source = f"_ = <<{_HEREDOC}\n{text}\n{_HEREDOC}\n".encode()
    tree = _PARSER.parse(source)
    found = None if tree.root_node.has_error else _first(tree.root_node, "heredoc_template")
    if found is None:
        return None
    node = _Mirror.of(found, source)
    start = source.index(b"\n", node.start_byte) + 1
    return source, start, start + len(text.encode()), _parts(node)


class _Mirror:
    """A tree-sitter node copied into plain attributes, with its subtree: a template is
    evaluated many times (once per module instance, per reader), and each attribute read of a
    tree-sitter node makes new Python objects. Read like a Node (the attributes tfeval uses)."""

    __slots__ = ("type", "is_named", "start_byte", "end_byte", "children", "named_children", "_src")

    def __init__(self, node: Node, source: bytes) -> None:
        self.type: str = node.type
        self.is_named: bool = node.is_named
        self.start_byte: int = node.start_byte
        self.end_byte: int = node.end_byte
        self._src = source
        self.children: list[_Mirror] = []
        self.named_children: list[_Mirror] = []

    @property
    def text(self) -> bytes:
        return self._src[self.start_byte : self.end_byte]

    @classmethod
    def of(cls, root: Node, source: bytes) -> _Mirror:
        """The mirror of `root` and everything under it (iteratively: no recursion limit)."""
        top = cls(root, source)
        pending = [(root, top)]
        while pending:
            node, mirror = pending.pop()
            for child in node.children:
                copy = cls(child, source)
                mirror.children.append(copy)
                if copy.is_named:
                    mirror.named_children.append(copy)
                pending.append((child, copy))
        return top


def _parts(node: Node) -> list[Node]:
    """A template's interpolations and directives (not its literals)."""
    return [
        c
        for c in node.named_children
        if c.type.startswith("template_") and c.type != "template_literal"
    ]


def _first(node: Node, kind: str) -> Node | None:
    """The first node of a kind in document order (the outermost)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            return current
        stack.extend(reversed(current.named_children))
    return None


def _expression(node: Node) -> Node:
    return next(c for c in node.named_children if c.type == "expression")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_UNESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


class _Eval:
    """Evaluation of one expression's nodes in a scope (`source`: the bytes they come from)."""

    def __init__(self, scope: Scope, text: str, source: bytes = b"") -> None:
        self.scope = scope
        self.text = text
        self.source = source

    def unknown(self, what: str, node: Node | None = None, ref: str | None = None) -> Unknown:
        shown = node.text.decode(errors="replace") if node is not None else _shown(self.text)
        return Unknown(what, shown[:120], ref)

    # --- templates ---------------------------------------------------------------------------

    def template(self, start: int, end: int, parts: list[Node], escapes: bool) -> Any:
        """A template's bytes [start, end): the literal text between its interpolations; one
        interpolation alone is its value, unconverted, as in Terraform."""
        alone = len(parts) == 1 and parts[0].type == "template_interpolation"
        if alone and parts[0].start_byte == start and parts[0].end_byte == end:
            return self.expr(_expression(parts[0]))
        out: list[str] = []
        at = start
        for part in parts:
            if part.type != "template_interpolation":
                return self.unknown("template directives are not evaluated")
            out.append(self._literal(self.source[at : part.start_byte].decode(), escapes))
            value = self.expr(_expression(part))
            if isinstance(value, Unknown):
                return value
            out.append(_to_string(value, part))
            at = part.end_byte
        out.append(self._literal(self.source[at:end].decode(), escapes))
        return "".join(out)

    @staticmethod
    def _literal(text: str, escapes: bool) -> str:
        if escapes:
            text = _UNESCAPE.sub(lambda m: _unescape(m.group(0)), text)
        return text.replace("$${", "${").replace("%%{", "%{")

    def quoted(self, node: Node) -> Any:
        """A quoted template (string literal or template_expr)."""
        opening = next(c for c in node.children if c.type == "quoted_template_start")
        closing = next(c for c in node.children if c.type == "quoted_template_end")
        return self.template(opening.end_byte, closing.start_byte, _parts(node), escapes=True)

    # --- expressions ---------------------------------------------------------------------------

    def expr(self, node: Node) -> Any:
        if self.scope.depth > MAX_DEPTH:
            raise EvalError("nested too deeply to evaluate")
        handler = getattr(self, f"_{node.type}", None)
        if handler is None:
            return self.unknown(f"{node.type} is not evaluated", node)
        return handler(node)

    def _expression(self, node: Node) -> Any:
        return self.term(node.named_children)

    def term(self, nodes: list[Node]) -> Any:
        """An expression term and its traversal steps (tree-sitter keeps them side by side)."""
        if nodes[0].type == "variable_expr":
            return self._traversal(nodes[0], nodes[1:])
        value = self.expr(nodes[0])
        for step in nodes[1:]:
            value = self._step(value, step)
        return value

    def _traversal(self, head: Node, steps: list[Node]) -> Any:
        """var.x, local.y, aws_s3_bucket.logs[0].arn, module.m.out, each.value.name, ...: the
        leading steps complete the address, the rest walk into its value."""
        name = head.text.decode()
        keys: list[str | int] = []
        value = self._resolve(name, keys)
        taken = 0
        while value is MORE and taken < len(steps) and steps[taken].type != "splat":
            key = self._key(steps[taken])
            if isinstance(key, Unknown):
                return key
            keys.append(key)
            taken += 1
            value = self._resolve(name, keys)
        if value is MORE:
            raise EvalError(f"{'.'.join(map(str, [name, *keys]))} is not a complete reference")
        for step in steps[taken:]:
            value = self._step(value, step)
        return value

    def _resolve(self, name: str, keys: list[str | int]) -> Any:
        """A reference's value, or MORE while its address is still incomplete."""
        scope = self.scope
        if name in scope.names:
            return scope.names[name]
        if name in ("var", "local", "path", "terraform") and not keys:
            return MORE
        if name == "var":
            if keys[0] not in scope.variables:
                raise UndeclaredReference(f"var.{keys[0]} is not declared", f"var.{keys[0]}")
            return scope.variables[keys[0]]
        if name == "local":
            return scope.local(str(keys[0]))
        if name == "path":
            paths = {"module": scope.module_path, "root": scope.root_path, "cwd": scope.root_path}
            if keys[0] not in paths:
                raise EvalError(f"path.{keys[0]} does not exist")
            return paths[keys[0]]
        if name == "terraform":
            return "default"  # terraform.workspace
        if name in ("self", "count", "each"):
            raise EvalError(f"{name} is not available here")
        if scope.reference is None:
            return Unknown(f"{name} references are not resolved here", name)
        return scope.reference([name, *keys])

    def _key(self, step: Node) -> Any:
        if step.type == "get_attr":
            return step.named_children[-1].text.decode()
        inner = step.named_children
        if inner and inner[0].type == "new_index":
            value = self.expr(_expression(inner[0]))
        elif inner and inner[0].type == "legacy_index":
            value = int(inner[0].text.decode().lstrip("."))
        else:
            value = self.expr(next(c for c in inner if c.type == "expression"))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return value

    def _step(self, value: Any, step: Node) -> Any:
        if isinstance(value, Unknown):
            return value
        if step.type == "splat":
            return self._splat(value, step)
        key = self._key(step)
        if isinstance(key, Unknown):
            return key
        return _walk(value, [key], "value")

    def _splat(self, value: Any, step: Node) -> Any:
        splat = step.named_children[0]
        items = value if isinstance(value, list) else [] if value is None else [value]
        attrs = [c for c in splat.named_children if c.type in ("get_attr", "index")]
        out = []
        for item in items:
            for attr in attrs:
                key = self._key(attr)
                if isinstance(key, Unknown) or isinstance(item, Unknown):
                    item = key if isinstance(key, Unknown) else item
                    break
                item = _walk(item, [key], "value")
            out.append(item)
        return out

    def _variable_expr(self, node: Node) -> Any:
        return self._traversal(node, [])

    def _literal_value(self, node: Node) -> Any:
        child = node.named_children[0]
        kind = child.type
        if kind == "numeric_lit":
            return _number(child.text.decode())
        if kind == "bool_lit":
            return child.text.decode() == "true"
        if kind == "null_lit":
            return None
        if kind == "string_lit":
            return self.quoted(child)
        return self.unknown(f"{kind} is not evaluated", node)

    def _template_expr(self, node: Node) -> Any:
        child = node.named_children[0]
        if child.type == "quoted_template":
            return self.quoted(child)
        identifiers = [c for c in child.named_children if c.type == "heredoc_identifier"]
        start = self.source.index(b"\n", identifiers[0].end_byte) + 1
        return self.template(start, identifiers[-1].start_byte, _parts(child), escapes=False)

    def _collection_value(self, node: Node) -> Any:
        child = node.named_children[0]
        if child.type == "tuple":
            return [self.expr(c) for c in child.named_children if c.type == "expression"]
        out: dict[str, Any] = {}
        for elem in (c for c in child.named_children if c.type == "object_elem"):
            key_node, value_node = [c for c in elem.named_children if c.type == "expression"]
            key = self._object_key(key_node)
            if isinstance(key, Unknown):
                return key
            out[key] = self.expr(value_node)
        return out

    def _object_key(self, node: Node) -> Any:
        """An object key: a bare name is the name itself, anything else an expression."""
        inner = node.named_children
        if len(inner) == 1 and inner[0].type == "variable_expr":
            return inner[0].text.decode()
        if inner and inner[0].type == "expression" and len(inner) == 1:
            return self._object_key(inner[0])
        key = self.expr(node)
        return key if isinstance(key, Unknown) else _to_string(key, node)

    def _function_call(self, node: Node) -> Any:
        name = node.named_children[0].text.decode()
        args_node = next((c for c in node.named_children if c.type == "function_arguments"), None)
        arg_nodes = (
            [c for c in args_node.named_children if c.type == "expression"] if args_node else []
        )
        expand = args_node is not None and any(c.type == "ellipsis" for c in args_node.children)
        if name in ("try", "can"):
            return self._try(name, arg_nodes)
        fn = FUNCTIONS.get(name)
        if fn is None:
            return self.unknown(f"function {name}() is not evaluated by the suite", node)
        args = [self.expr(a) for a in arg_nodes]
        if expand and args:
            if isinstance(args[-1], Unknown):
                return args[-1]
            args = [*args[:-1], *(args[-1] or [])]
        if name in ("file", "templatefile", "fileexists"):
            return self._file(name, args, node)
        if name in UNKNOWN_TOLERANT:
            return fn(*args)
        unknown = next((a for a in args if isinstance(a, Unknown)), None)
        if unknown is not None:
            return unknown
        if name == "jsonencode" and is_unknown(args[0]):
            unknown = first_unknown(args[0])
            assert unknown is not None
            return Unknown(unknown.what, unknown.text, partial=args[0])
        if any(is_unknown(a) for a in args) and name not in DEEP_TOLERANT:
            return first_unknown(args)
        try:
            return fn(*args)
        except EvalError:
            raise
        except (
            TypeError,
            ValueError,
            KeyError,
            IndexError,
            AttributeError,
            ZeroDivisionError,
        ) as exc:
            raise EvalError(f"{name}(): {type(exc).__name__}: {exc}") from None

    def _try(self, name: str, arg_nodes: list[Node]) -> Any:
        for arg in arg_nodes:
            try:
                value = self.expr(arg)
            except EvalError:
                continue
            if isinstance(value, Unknown):
                return value if name == "try" else value
            return True if name == "can" else value
        if name == "can":
            return False
        raise EvalError("try(): no argument could be evaluated")

    def _file(self, name: str, args: list[Any], node: Node) -> Any:
        if any(isinstance(a, Unknown) for a in args):
            return next(a for a in args if isinstance(a, Unknown))
        reader = self.scope.read_file
        if reader is None:
            return self.unknown(f"{name}() reads a file: not read here", node)
        content = reader(str(args[0]))
        if name == "fileexists":
            return not isinstance(content, Unknown)
        if isinstance(content, Unknown) or name == "file":
            return content
        variables = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        return evaluate_text(content, self.scope.child(**variables))

    def _conditional(self, node: Node) -> Any:
        cond_node, yes_node, no_node = [c for c in node.named_children if c.type == "expression"]
        cond = self.expr(cond_node)
        if isinstance(cond, Unknown):
            yes, no = self.expr(yes_node), self.expr(no_node)
            return yes if _same(yes, no) else cond
        if not isinstance(cond, bool):
            raise EvalError(f"condition is {_type(cond)}, not bool")
        return self.expr(yes_node if cond else no_node)

    def _operation(self, node: Node) -> Any:
        return self.expr(node.named_children[0])

    def _unary_operation(self, node: Node) -> Any:
        operator = node.children[0].text.decode()
        value = self.term(node.named_children)
        if isinstance(value, Unknown):
            return value
        if operator == "!":
            if not isinstance(value, bool):
                raise EvalError(f"! on {_type(value)}")
            return not value
        return -_as_number(value)

    def _binary_operation(self, node: Node) -> Any:
        at = next(i for i, c in enumerate(node.children) if not c.is_named)
        operator = node.children[at].text.decode()
        left = self.term([c for c in node.children[:at] if c.is_named])
        right = self.term([c for c in node.children[at + 1 :] if c.is_named])  # no short circuit
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        return _binary(operator, left, right)

    def _for_expr(self, node: Node) -> Any:
        child = node.named_children[0]
        intro = next(c for c in child.named_children if c.type == "for_intro")
        names = [c.text.decode() for c in intro.named_children if c.type == "identifier"]
        source = self.expr(next(c for c in intro.named_children if c.type == "expression"))
        if isinstance(source, Unknown):
            return source
        body = [c for c in child.named_children if c.type == "expression"]
        cond = next((c for c in child.named_children if c.type == "for_cond"), None)
        grouped = any(c.type == "ellipsis" for c in child.named_children)
        items = (
            list(source.items())
            if isinstance(source, dict)
            else list(enumerate(source))
            if isinstance(source, list)
            else None
        )
        if items is None:
            raise EvalError(f"for expression over {_type(source)}")
        tuple_form = child.type == "for_tuple_expr"
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        for key, value in items:
            bound = {names[-1]: value, **({names[0]: key} if len(names) > 1 else {})}
            inner = _Eval(self.scope.child(**bound), self.text, self.source)
            if cond is not None:
                keep = inner.expr(_expression(cond))
                if isinstance(keep, Unknown):
                    return keep
                if not keep:
                    continue
            if tuple_form:
                out_list.append(inner.expr(body[0]))
                continue
            k = inner.expr(body[0])
            if isinstance(k, Unknown):
                return k
            v = inner.expr(body[1])
            k = _to_string(k, child)
            if grouped:
                out_map.setdefault(k, []).append(v)
            elif k in out_map:
                raise EvalError(f"duplicate object key {k!r} in for expression")
            else:
                out_map[k] = v
        return out_list if tuple_form else out_map

    def _function_arguments(self, node: Node) -> Any:  # pragma: no cover - reached via calls
        return self.unknown("arguments are not a value", node)


MORE = object()  # a reference resolver's answer while an address is still incomplete


AFTER_APPLY = "known after apply"
READ_AT_PLAN = "read from the provider at plan (a data source)"


class Attributes(dict):  # type: ignore[type-arg]
    """A resource instance's attributes as a plan knows them: the configured ones, and every
    other one known only after apply (an Unknown naming the resource)."""

    def __init__(self, values: dict[str, Any], address: str, when: str = AFTER_APPLY) -> None:
        super().__init__(values)
        self.address = address
        self.when = when


def _walk(value: Any, keys: list[str | int], shown: str) -> Any:
    for key in keys:
        if isinstance(value, Unknown):
            return value
        if isinstance(value, Attributes) and str(key) not in value:
            return Unknown(value.when, f"{value.address}.{key}", value.address)
        if isinstance(value, dict):
            if str(key) not in value:
                raise EvalError(f"{shown} has no attribute or key {key!r}")
            value = value[str(key)]
        elif isinstance(value, list):
            if not isinstance(key, int) or not -len(value) <= key < len(value) or key < 0:
                raise EvalError(f"{shown}[{key!r}]: no such element")
            value = value[key]
        elif value is None:
            raise EvalError(f"{shown} is null: no attribute {key!r}")
        else:
            raise EvalError(f"{shown} is {_type(value)}: no attribute {key!r}")
        shown = f"{shown}.{key}"
    return value


def _is_splat(step: Node) -> bool:
    return step.type == "splat"


def _unescape(text: str) -> str:
    if text.startswith("\\u") or text.startswith("\\U"):
        return chr(int(text[2:], 16))
    return _ESCAPES.get(text[1:], text)


def _number(text: str) -> int | float:
    value = float(text)
    return (
        int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value
    )


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _to_string(value: Any, node: Any = None) -> str:
    """Terraform's string conversion of a primitive (collections cannot be interpolated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    if value is None:
        raise EvalError("null cannot be interpolated")
    raise EvalError(f"a {_type(value)} cannot be interpolated")


def _as_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return _number(value)
        except ValueError:
            raise EvalError(f"{value!r} is not a number") from None
    raise EvalError(f"a {_type(value)} is not a number")


def _same(a: Any, b: Any) -> bool:
    return not is_unknown(a) and not is_unknown(b) and a == b


def _binary(operator: str, left: Any, right: Any) -> Any:
    if operator in ("==", "!="):
        equal = _normal(left) == _normal(right)
        return equal if operator == "==" else not equal
    if operator in ("&&", "||"):
        if not isinstance(left, bool) or not isinstance(right, bool):
            raise EvalError(f"{operator} needs bools")
        return left and right if operator == "&&" else left or right
    a, b = _as_number(left), _as_number(right)
    if operator == "+":
        return _tidy(a + b)
    if operator == "-":
        return _tidy(a - b)
    if operator == "*":
        return _tidy(a * b)
    if operator == "/":
        if b == 0:
            raise EvalError("division by zero")
        return _tidy(a / b)
    if operator == "%":
        if b == 0:
            raise EvalError("modulo by zero")
        return _tidy(math.fmod(a, b))
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _tidy(value: int | float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# --- functions --------------------------------------------------------------------------------


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in value:
        if isinstance(item, list):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _distinct(value: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in value:
        if item not in out:
            out.append(item)
    return out


def _format(spec: str, *args: Any) -> str:
    """Terraform's format(): %s %d %f %v %q %t %% with widths; enough for what modules write."""
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        flags, verb = match.group(1), match.group(2)
        if verb == "%":
            return "%"
        value = next(values)
        if verb in ("s", "v"):
            text = (
                value
                if isinstance(value, str)
                else _json_text(value)
                if isinstance(value, (list, dict))
                else _to_string(value)
            )
            return ("%" + flags + "s") % text
        if verb == "d":
            return ("%" + flags + "d") % int(_as_number(value))
        if verb in ("f", "e", "g"):
            return ("%" + flags + verb) % float(_as_number(value))
        if verb == "q":
            return json.dumps(_to_string(value))
        if verb == "t":
            return "true" if value else "false"
        raise EvalError(f"format(): unsupported verb %{verb}")

    return re.sub(r"%([-+# 0-9.]*)([a-z%])", one, spec)


def _json_text(value: Any) -> str:
    """jsonencode(): object keys in lexical order, no spaces, and <, >, &, U+2028, U+2029
    escaped, as Terraform (Go's encoder) writes it."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return text


_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if not isinstance(mapping, dict):
        raise EvalError("lookup() needs a map")
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvalError(f"lookup(): no key {key!r} and no default")


def _element(items: list[Any], index: Any) -> Any:
    if not items:
        raise EvalError("element() of an empty list")
    return items[int(_as_number(index)) % len(items)]


def _coalesce(*values: Any) -> Any:
    for value in values:
        if isinstance(value, Unknown):
            return value
        if value is not None and value != "":
            return value
    raise EvalError("coalesce(): no non-null, non-empty argument")


def _merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for item in maps:
        if isinstance(item, Unknown):
            return item
        if item is None:
            continue
        if not isinstance(item, dict):
            raise EvalError("merge() takes maps or objects")
        out.update(item)
    return out


def _concat(*lists: Any) -> Any:
    out: list[Any] = []
    for item in lists:
        if isinstance(item, Unknown):
            return item
        if not isinstance(item, list):
            raise EvalError("concat() takes lists")
        out.extend(item)
    return out


def _length(value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise EvalError(f"length() of {_type(value)}")


def _compact(value: list[Any]) -> list[Any]:
    return [v for v in value if v is not None and v != ""]


def _zipmap(keys: list[Any], values: list[Any]) -> dict[str, Any]:
    if len(keys) != len(values):
        raise EvalError("zipmap(): the lists differ in length")
    return {_to_string(k): v for k, v in zip(keys, values, strict=True)}


def _toset(value: list[Any]) -> list[Any]:
    return sorted(_distinct(value), key=lambda v: json.dumps(v, sort_keys=True, default=str))


def _replace(text: str, find: str, replacement: str) -> str:
    """Terraform's replace(): a /pattern/ is an RE2 regular expression (as in Go), run in
    linear time whatever the tree writes."""
    if len(find) > 1 and find.startswith("/") and find.endswith("/"):
        try:
            pattern = re2.compile(find[1:-1], _QUIET)
        except re2.error:
            raise EvalError("replace(): the pattern is not an RE2 regular expression") from None
        return pattern.sub(re.sub(r"\$(\d+)", r"\\\1", replacement), text)
    return text.replace(find, replacement)


def _split(separator: str, text: str) -> list[str]:
    return [""] if text == "" else text.split(separator)


def _one(value: list[Any]) -> Any:
    if len(value) > 1:
        raise EvalError("one() of more than one element")
    return value[0] if value else None


def _index(items: list[Any], value: Any) -> int:
    if value not in items:
        raise EvalError("index(): element not found")
    return items.index(value)


def _range(*args: Any) -> list[int | float]:
    numbers = [_as_number(a) for a in args]
    start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else (*numbers, 1)[:3]
    out: list[int | float] = []
    value = start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        out.append(_tidy(value))
        value += step
        if len(out) > 1024:
            raise EvalError("range(): more than 1024 elements")
    return out


def _keys(value: dict[str, Any]) -> list[str]:
    return sorted(value)


def _values(value: dict[str, Any]) -> list[Any]:
    return [value[k] for k in sorted(value)]


def _tostring(value: Any) -> Any:
    return None if value is None else _to_string(value)


def _tonumber(value: Any) -> Any:
    return None if value is None else _as_number(value)


def _tobool(value: Any) -> Any:
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    if value is None:
        return None
    raise EvalError(f"tobool() of {value!r}")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": lambda n: abs(_as_number(n)),
    "alltrue": lambda v: all(x is True or x == "true" for x in v),
    "anytrue": lambda v: any(x is True or x == "true" for x in v),
    "base64decode": lambda s: base64.b64decode(s).decode(),
    "base64encode": lambda s: base64.b64encode(s.encode()).decode(),
    "basename": lambda p: posixpath.basename(p.rstrip("/")) or "/",
    "ceil": lambda n: math.ceil(_as_number(n)),
    "chomp": lambda s: s.rstrip("\r\n"),
    "chunklist": lambda v, n: [v[i : i + int(n)] for i in range(0, len(v), max(int(n), 1))],
    "coalesce": _coalesce,
    "coalescelist": lambda *ls: next((item for item in ls if item), []),
    "compact": _compact,
    "concat": _concat,
    "contains": lambda v, x: _normal(x) in [_normal(i) for i in v],
    "dirname": lambda p: posixpath.dirname(p) or ".",
    "distinct": _distinct,
    "element": _element,
    "endswith": lambda s, suffix: s.endswith(suffix),
    "file": lambda path: Unknown("file() is read through the tree"),
    "fileexists": lambda path: Unknown("fileexists() is read through the tree"),
    "flatten": _flatten,
    "floor": lambda n: math.floor(_as_number(n)),
    "format": _format,
    "formatlist": lambda spec, *ls: [_format(spec, *row) for row in zip(*ls, strict=False)],
    "index": _index,
    "join": lambda sep, v: sep.join(_to_string(x) for x in v),
    "jsondecode": lambda s: json.loads(s),
    "jsonencode": _json_text,
    "keys": _keys,
    "length": _length,
    "lookup": _lookup,
    "lower": lambda s: s.lower(),
    "max": lambda *n: _tidy(max(_as_number(x) for x in n)),
    "md5": lambda s: hashlib.md5(s.encode(), usedforsecurity=False).hexdigest(),
    "merge": _merge,
    "min": lambda *n: _tidy(min(_as_number(x) for x in n)),
    "one": _one,
    "range": _range,
    "replace": _replace,
    "reverse": lambda v: list(reversed(v)),
    "setintersection": lambda a, *o: [x for x in _toset(a) if all(x in s for s in o)],
    "setsubtract": lambda a, b: [x for x in _toset(a) if x not in b],
    "setunion": lambda *s: _toset([x for item in s for x in item]),
    "sha1": lambda s: hashlib.sha1(s.encode(), usedforsecurity=False).hexdigest(),
    "sha256": lambda s: hashlib.sha256(s.encode()).hexdigest(),
    "slice": lambda v, a, b: v[int(a) : int(b)],
    "sort": lambda v: sorted(_to_string(x) for x in v),
    "split": _split,
    "startswith": lambda s, prefix: s.startswith(prefix),
    "strrev": lambda s: s[::-1],
    "substr": lambda s, offset, length: s[int(offset) :][
        : None if int(length) < 0 else int(length)
    ],
    "sum": lambda v: _tidy(sum(_as_number(x) for x in v)),
    "templatefile": lambda path, variables: Unknown("templatefile() is read through the tree"),
    "title": lambda s: re.sub(r"\b[a-z]", lambda m: m.group(0).upper(), s),
    "tobool": _tobool,
    "tolist": lambda v: list(v),
    "tomap": lambda v: dict(v),
    "tonumber": _tonumber,
    "toset": _toset,
    "tostring": _tostring,
    "transpose": lambda m: {
        v: sorted(k for k, vs in m.items() if v in vs)
        for v in sorted({x for vs in m.values() for x in vs})
    },
    "trim": lambda s, chars: s.strip(chars),
    "trimprefix": lambda s, p: s.removeprefix(p),
    "trimspace": lambda s: s.strip(),
    "trimsuffix": lambda s, p: s.removesuffix(p),
    "upper": lambda s: s.upper(),
    "urlencode": lambda s: __import__("urllib.parse").parse.quote(s, safe=""),
    "values": _values,
    "zipmap": _zipmap,
}
# Functions whose result never depends on an Unknown argument being known (or that handle it).
UNKNOWN_TOLERANT = {"coalesce", "merge", "concat"}
DEEP_TOLERANT = {
    "merge",
    "concat",
    "flatten",
    "lookup",
    "element",
    "keys",
    "length",
    "values",
    "compact",
    "distinct",
    "tolist",
    "tomap",
    "toset",
    "coalesce",
    "coalescelist",
    "one",
    "reverse",
    "slice",
    "zipmap",
    "chunklist",
    "setunion",
    "index",
    "contains",
}


def iterate(value: Any) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs a for_each or dynamic block iterates: a map's items in key order,
    a set's (list's) elements keyed by themselves."""
    if isinstance(value, dict):
        yield from sorted(value.items())
    elif isinstance(value, list):
        for item in value:
            yield item, item


# --- type constraints ---------------------------------------------------------------------------


def convert(type_text: str, value: Any) -> Any:
    """A variable's value under its type constraint: optional object attributes filled with
    their defaults (or null), recursively through list, set, map and tuple types. Other
    conversions (number to string, ...) are left to the value as given."""
    if not type_text.startswith("${"):
        return value
    found = _template(type_text)
    if found is None or not found[3] or found[3][0].type != "template_interpolation":
        return value
    return _convert(_expression(found[3][0]), value, found[0])


def _type_node(node: Node) -> Node:
    """A type expression, unwrapped from python-hcl2's rendering of nested types as quoted
    templates ("${optional(number)}") or string literals ("string")."""
    while True:
        if node.type in ("expression", "template_expr", "literal_value", "string_lit") and (
            len(node.named_children) == 1
        ):
            node = node.named_children[0]
            continue
        if node.type == "quoted_template":
            inner = [c for c in node.named_children if c.type == "template_interpolation"]
            if len(inner) == 1:
                node = _expression(inner[0])
                continue
        return node


def _convert(node: Node, value: Any, source: bytes) -> Any:
    node = _type_node(node)
    if node.type != "function_call" or value is None or isinstance(value, Unknown):
        return value
    name = node.named_children[0].text.decode()
    args_node = next((c for c in node.named_children if c.type == "function_arguments"), None)
    args = [c for c in args_node.named_children if c.type == "expression"] if args_node else []
    if name in ("list", "set") and args and isinstance(value, list):
        return [_convert(args[0], v, source) for v in value]
    if name == "map" and args and isinstance(value, dict):
        return {k: _convert(args[0], v, source) for k, v in value.items()}
    if name == "tuple" and args and isinstance(value, list):
        element_types = _tuple_types(args[0])
        return [_convert(t, v, source) for t, v in zip(element_types, value, strict=False)]
    if name == "object" and args and isinstance(value, dict):
        return _convert_object(args[0], value, source)
    return value


def _tuple_types(node: Node) -> list[Node]:
    collection = _inner(node, "tuple")
    return [c for c in collection.named_children if c.type == "expression"] if collection else []


def _inner(node: Node, kind: str) -> Node | None:
    if node.type == kind:
        return node
    for child in node.named_children:
        found = _inner(child, kind)
        if found is not None:
            return found
    return None


def _convert_object(node: Node, value: dict[str, Any], source: bytes) -> dict[str, Any]:
    """object({a = string, b = optional(number, 10)}) applied to a value."""
    spec = _inner(node, "object")
    if spec is None:
        return value
    out = dict(value)
    for elem in (c for c in spec.named_children if c.type == "object_elem"):
        key_node, type_node = [c for c in elem.named_children if c.type == "expression"]
        key = key_node.text.decode().strip('"')
        inner = _type_node(type_node)
        optional = inner.type == "function_call" and inner.named_children[0].text == b"optional"
        if optional:
            args_node = next(c for c in inner.named_children if c.type == "function_arguments")
            args = [c for c in args_node.named_children if c.type == "expression"]
            if key not in out or out[key] is None:
                default = _Eval(Scope(), "", source).expr(args[1]) if len(args) > 1 else None
                out[key] = _convert(args[0], default, source)
            else:
                out[key] = _convert(args[0], out[key], source)
        elif key in out:
            out[key] = _convert(type_node, out[key], source)
    if type(value) is not dict:  # keep what a subclass carries (where a caller wrote it)
        kept = type(value)(out)
        kept.__dict__.update(value.__dict__)
        return kept
    return out


@lru_cache(maxsize=256)
def _file_tree(text: str) -> Any:
    return _PARSER.parse(text.encode())


def element_lines(text: str, line: int) -> list[int]:
    """The first line of each element of the list literal written as the value of the
    attribute starting on `line` (1-based) of an HCL file's text; [] when it is not one."""
    tree = _file_tree(text)
    pending = [tree.root_node]
    while pending:
        node = pending.pop()
        if node.type == "attribute" and node.start_point[0] + 1 == line:
            value = next((c for c in node.named_children if c.type == "expression"), None)
            collection = value.named_children[0] if value is not None else None
            if collection is None or collection.type != "collection_value":
                return []
            items = collection.named_children[0]
            if items.type != "tuple":
                return []
            return [c.start_point[0] + 1 for c in items.named_children if c.type == "expression"]
        if node.start_point[0] + 1 <= line <= node.end_point[0] + 1:
            pending.extend(node.named_children)
    return []
