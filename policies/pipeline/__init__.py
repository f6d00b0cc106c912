"""Pipeline family: GitHub Actions workflows (and zizmor), Helm install scripts."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.pipeline.static import read_static

    return read_static(tree.sources, tree.yaml)


FAMILY = Family(
    name="pipeline",
    what="GitHub Actions workflow or Helm install script",
    read=_read,
    present=lambda inventory: bool(inventory.workflows or inventory.helm),
)
