"""Files under --infra -> RlsInventory: SQL migrations (one database per migration set) and
the application's database code."""

from __future__ import annotations

from policies.rls.app_code import read_app_code
from policies.rls.migrations import migration_sets
from policies.rls.model import RlsInventory
from policies.rls.sql import read_sql
from policies.sources import Sources


def read_static(sources: Sources) -> RlsInventory:
    """Every migration set read into one inventory (what the tree has); with several sets, each
    also into its own part, which the checks judge separately (objects of unrelated databases
    are never bound together), the app's code shared by all."""
    inventory = RlsInventory()
    sets = migration_sets(sources)
    for migrations in sets:
        read_sql(sources, migrations.files, inventory, inventory.errors)
    read_app_code(sources, inventory, inventory.errors)
    if len(sets) > 1:
        for migrations in sets:
            part = RlsInventory(
                executed_sql=inventory.executed_sql,
                undefined_names=inventory.undefined_names,
                app_files=inventory.app_files,
                errors=inventory.errors,
            )
            read_sql(sources, migrations.files, part, [])
            inventory.parts.append(part)
    return inventory
