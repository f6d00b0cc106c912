"""Files under --infra -> RlsInventory: SQL migrations and the application's database code."""

from __future__ import annotations

from pathlib import Path

from policies.rls.app_code import read_app_code
from policies.rls.model import RlsInventory
from policies.rls.sql import read_sql


def read_static(base: Path) -> RlsInventory:
    inventory = RlsInventory()
    read_sql(base, inventory, inventory.errors)
    read_app_code(base, inventory, inventory.errors)
    return inventory
