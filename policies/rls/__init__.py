"""RLS family: the database's row-level security model, static (SQL, Python) and live (catalog)."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.rls.static import read_static

    return read_static(tree.sources)


FAMILY = Family(
    name="rls",
    what="SQL table or database application code",
    read=_read,
    present=lambda inventory: bool(inventory.tables or inventory.app_files),
    live="rls_live",
)
