"""Logging family: Fluent Bit pipelines in Helm values (classic config, tree-sitter-fluentbit)."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.logging.static import read_static

    return read_static(tree.yaml)


FAMILY = Family(
    name="logging",
    what="Fluent Bit configuration (Helm values config.*)",
    read=_read,
    present=lambda inventory: bool(inventory.sections),
)
