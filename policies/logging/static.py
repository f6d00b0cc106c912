"""Fluent Bit classic configuration embedded in Helm values -> sections with their lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_fluentbit
from tree_sitter import Language, Parser

from policies.model import Location
from policies.yamlfile import LineDict, YamlFile

_PARSER = Parser(Language(tree_sitter_fluentbit.language()))


@dataclass
class Section:
    kind: str  # INPUT / FILTER / OUTPUT / SERVICE / PARSER
    entries: dict[str, str]  # lower-cased keys
    lines: dict[str, int]
    location: Location

    @property
    def name(self) -> str:
        return self.entries.get("name", "?")


@dataclass
class LoggingInventory:
    sections: list[Section] = field(default_factory=list)

    def of(self, kind: str) -> list[Section]:
        return [s for s in self.sections if s.kind == kind]


def read_static(yaml_files: list[YamlFile]) -> LoggingInventory:
    """The `config.*` strings of Fluent Bit Helm values, in the order Fluent Bit reads them."""
    inv = LoggingInventory()
    for file in yaml_files:
        for doc in file.documents:
            config = doc.get("config") if isinstance(doc, LineDict) else None
            if not isinstance(config, LineDict):
                continue
            for key in ("service", "inputs", "filters", "outputs"):
                if isinstance(config.get(key), str):
                    _sections(inv, file.path, config[key], config.line_of(key))
    return inv


def _sections(inv: LoggingInventory, path: Path, text: str, key_line: int) -> None:
    """A `key: |` block starts on the line after the key."""
    tree = _PARSER.parse(text.encode())
    for node in tree.root_node.children:
        if node.type != "section":
            continue
        header = next((c for c in node.children if c.type == "section_header"), None)
        kind = (
            next((c.text.decode() for c in header.children if c.type == "section_header_type"), "?")
            if header
            else "?"
        )
        entries, lines = {}, {}
        for body in (c for c in node.children if c.type == "section_body"):
            for entry in (c for c in body.children if c.type == "entry"):
                key = next((c.text.decode() for c in entry.children if c.type == "key_type"), "")
                value = next(
                    (c.text.decode() for c in entry.children if c.type == "value_type"), ""
                )
                entries[key.lower()], lines[key.lower()] = (
                    value,
                    key_line + 1 + entry.start_point[0],
                )
        inv.sections.append(
            Section(
                kind.upper(), entries, lines, Location(path, key_line + 1 + node.start_point[0])
            )
        )
