"""The RLS family's live fixture: the live database's catalog (the declared model is
`rls_static`)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


@pytest.fixture(scope="session")
def rls_live(pg_conn: Lazy[Any], pg_dsn: Lazy[str]) -> Lazy[Any]:
    """Row-level security as deployed: the database's catalog (read-only)."""

    def read() -> Any:
        from policies.rls.live import read_live
        from policies.targets.postgres import safe_dsn

        conn = pg_conn.get()
        inventory = read_live(conn, safe_dsn(pg_dsn.get()))
        conn.rollback()
        return inventory

    return Lazy(read)
