"""YAML documents with line numbers (PyYAML): mappings know the line of each key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policies.sources import Sources
from policies.terraform import ParseError


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it starts and where each of its keys is."""

    line: int
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser when PyYAML was built with it (~10x faster), line marks either way."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict(loader.construct_mapping(node, deep=True))
    result.line = node.start_mark.line + 1
    result.key_lines = {
        loader.construct_object(key, deep=True): key.start_mark.line + 1 for key, _ in node.value
    }
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@dataclass
class YamlFile:
    path: Path
    documents: list[Any] = field(default_factory=list)

    def manifests(self) -> list[LineDict]:
        """The Kubernetes objects in the file (documents with apiVersion and kind)."""
        return [
            d for d in self.documents if isinstance(d, dict) and {"apiVersion", "kind"} <= set(d)
        ]


def load_yaml_files(sources: Sources, errors: list[ParseError]) -> list[YamlFile]:
    """Every .yaml/.yml file of the tree; an unparseable one becomes a ParseError."""
    files = []
    for path in sources.files(".yaml", ".yml"):
        try:
            text = sources.text(path)
            documents = list(yaml.load_all(text, Loader=_Loader))
        except UnicodeDecodeError as exc:
            errors.append(ParseError(path, None, f"not UTF-8 text: {exc.reason}"))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            position = getattr(exc, "position", None)  # reader errors (control characters)
            line = (
                mark.line + 1
                if mark
                else text[:position].count("\n") + 1
                if isinstance(position, int)
                else None
            )
            problem = (
                getattr(exc, "problem", None)
                or getattr(exc, "reason", None)
                or str(exc).splitlines()[0]
            )
            errors.append(ParseError(path, line, str(problem)))
            continue
        files.append(YamlFile(path, [d for d in documents if d is not None]))
    return files
