"""YAML documents with line numbers (PyYAML): mappings know the line of each key.

Each document is composed first and checked before it is constructed: its nesting depth, and
its alias expansion by the rule Kubernetes applies through go-yaml v3 (a document whose decoded
nodes come mostly from alias expansion is refused), so a few hundred bytes of nested aliases
cannot make the readers walk billions of nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from policies.redact import excerpt
from policies.sources import LIMIT, MAX_DEPTH, ParseError, SourceError, Sources, is_helm_template


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it starts and where each of its keys is."""

    line: int
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


_LIBYAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def packaged(package: str, name: str) -> Any:
    """A YAML file shipped with the suite (its own, so read without the tree's limits), parsed
    by libyaml when PyYAML has it."""
    return yaml.load(resources.files(package).joinpath(name).read_text(), Loader=_LIBYAML)


class _Loader(_LIBYAML):  # type: ignore[misc]
    """libyaml's parser when PyYAML was built with it (~10x faster), line marks either way."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    """A mapping with its lines; a key written twice in one mapping is an error (YAML 1.2
    requires unique keys; PyYAML would keep the last one silently, GitHub refuses the file).
    Keys merged in with `<<` may be overridden, as YAML's merge key allows."""
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    written: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:  # a complex key (a mapping or sequence)
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key that is not a scalar", key_node.start_mark
            ) from None
        own = node.start_mark.index <= key_node.start_mark.index <= node.end_mark.index
        if own and key in written:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {str(key)[:40]!r}", key_node.start_mark
            )
        if own:
            written.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _untagged(loader: _Loader, node: yaml.Node) -> Any:
    """Application tags (CloudFormation's !Ref, mkdocs' !!python/name) read as plain values."""
    if isinstance(node, yaml.MappingNode):
        return _mapping(loader, node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(None, _untagged)


def mapping(value: Any) -> LineDict:
    """A document node that should be a mapping; anything else (a wrong shape in the tree)
    reads as an empty one, so readers never raise on it."""
    if isinstance(value, LineDict):
        return value
    empty = LineDict(value) if isinstance(value, dict) else LineDict()
    empty.line, empty.key_lines = 0, {}
    return empty


def sequence(value: Any) -> list[Any]:
    """A document node that should be a list; anything else reads as an empty one."""
    return value if isinstance(value, list) else []


@dataclass
class YamlFile:
    path: Path
    documents: list[Any] = field(default_factory=list)

    def manifests(self) -> list[LineDict]:
        """The Kubernetes objects in the file (documents with apiVersion and kind)."""
        return [
            d for d in self.documents if isinstance(d, dict) and {"apiVersion", "kind"} <= set(d)
        ]


# go-yaml v3 (decode.go): a document may take at most this share of its decoded nodes from
# alias expansion, scaled from 99 % up to 400,000 nodes down to 10 % at 4,000,000.
ALIAS_RATIO_LOW, ALIAS_RATIO_HIGH = 400_000, 4_000_000


def allowed_alias_ratio(decoded: int) -> float:
    if decoded <= ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= ALIAS_RATIO_HIGH:
        return 0.10
    span = ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW
    return 0.99 - 0.89 * (decoded - ALIAS_RATIO_LOW) / span


def load_documents(path: Path, text: str) -> list[Any]:
    """The documents of a YAML file, each checked against the limits before construction;
    raises SourceError (parse error or limit) naming the file and line."""
    loader = _Loader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            _check_limits(path, node)
            document = loader.construct_document(node)
            if document is not None:
                documents.append(document)
    except yaml.YAMLError as exc:
        raise SourceError(_yaml_error(path, text, exc)) from None
    except RecursionError:
        raise SourceError(ParseError(path, 1, "nested too deeply to read", LIMIT)) from None
    finally:
        loader.dispose()
    return documents


def _check_limits(path: Path, root: yaml.Node) -> None:
    """Depth and alias expansion of a composed document, without expanding it: each node's
    decoded size is counted once (aliases share the anchored node object)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    seen: set[int] = set()  # nodes already decoded once: a later reference is an alias
    decoded = from_aliases = 0
    biggest_alias: tuple[int, int] = (0, root.start_mark.line + 1)
    # Document-order walk; ("exit", node) computes a node's size after its children. `line` is
    # where a child is written: its key's line in a mapping, its collection's in a sequence
    # (an alias shares the anchored node, whose mark is the anchor's).
    pending: list[tuple[str, yaml.Node, int, int]] = [("enter", root, 1, root.start_mark.line + 1)]
    on_path: set[int] = set()
    while pending:
        step, node, level, line = pending.pop()
        key = id(node)
        if step == "exit":
            on_path.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            continue
        if key in on_path:
            raise _limit(path, node, "an anchor's value contains an alias of itself")
        if key in seen:  # an alias: its whole expansion is decoded again
            expansion = size[key]
            decoded += expansion
            from_aliases += expansion
            biggest_alias = max(biggest_alias, (expansion, line))
            if level + depth[key] - 1 > MAX_DEPTH:
                raise _limit(path, node, f"nested more than {MAX_DEPTH} levels deep")
            continue
        if level > MAX_DEPTH:
            raise _limit(path, node, f"nested more than {MAX_DEPTH} levels deep")
        seen.add(key)
        on_path.add(key)
        decoded += 1
        pending.append(("exit", node, level, line))
        pending.extend(
            ("enter", child, level + 1, where) for child, where in reversed(_placed(node))
        )
    if (
        from_aliases > 100
        and decoded > 1000
        and from_aliases / decoded > allowed_alias_ratio(decoded)
    ):
        raise SourceError(
            ParseError(
                path,
                biggest_alias[1],
                f"excessive aliasing: aliases expand the document to {decoded} nodes,"
                f" {from_aliases} of them copies (allowed: "
                f"{allowed_alias_ratio(decoded):.0%} of the decoded nodes)",
                LIMIT,
            )
        )


def _placed(node: yaml.Node) -> list[tuple[yaml.Node, int]]:
    """A collection's children with the line each is written on."""
    if isinstance(node, yaml.SequenceNode):
        return [(child, node.start_mark.line + 1) for child in node.value]
    if isinstance(node, yaml.MappingNode):
        return [
            (part, key.start_mark.line + 1) for key, value in node.value for part in (key, value)
        ]
    return []


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _limit(path: Path, node: yaml.Node, message: str) -> SourceError:
    return SourceError(ParseError(path, node.start_mark.line + 1, message, LIMIT))


def _yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> ParseError:
    mark = getattr(exc, "problem_mark", None)
    position = getattr(exc, "position", None)  # reader errors (control characters)
    line = (
        mark.line + 1
        if mark
        else text[:position].count("\n") + 1
        if isinstance(position, int)
        else None
    )
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    return ParseError(path, line, excerpt(str(problem).splitlines()[0], None, width=120))


def load_yaml_files(sources: Sources, errors: list[ParseError]) -> list[YamlFile]:
    """Every .yaml/.yml file of the tree but Helm templates; one that cannot be read or parsed
    becomes a ParseError."""
    files = []
    for path in sources.files(".yaml", ".yml"):
        if is_helm_template(path):
            continue
        try:
            files.append(YamlFile(path, sources.yaml(path)))
        except SourceError as exc:
            errors.append(exc.error)
    return files
