"""Node family: inside the GPU nodes, the app pods and the log shippers (testinfra hosts), the
exporter, the app and Fluent Bit as they run, against what --infra declares."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.node.static import read_static

    return read_static(tree)


FAMILY = Family(
    name="node",
    what="GPU exporter, instrumented app, ExternalSecret mount or Fluent Bit configuration",
    read=_read,
    present=lambda inventory: bool(
        inventory.exporter or inventory.apps or inventory.secret_files or inventory.shipper
    ),
    live="node_live",
)
