"""Files under --infra -> RlsInventory: SQL migrations and the application's database code."""

from __future__ import annotations

from policies.rls.app_code import read_app_code
from policies.rls.model import RlsInventory
from policies.rls.sql import read_sql
from policies.sources import Sources


def read_static(sources: Sources) -> RlsInventory:
    inventory = RlsInventory()
    read_sql(sources, inventory, inventory.errors)
    read_app_code(sources, inventory, inventory.errors)
    return inventory
