"""Pooled PostgreSQL sessions scoped to one request for row-level security.

The RLS policies (infra/db/migrations/004_enable_rls.sql) read the caller from the
``app.current_user_id`` setting. It is set with ``set_config(..., true)``, i.e. local to the
request's transaction: it disappears at COMMIT/ROLLBACK and never reaches the next borrower
of the pooled connection. The user id is always a bound parameter, never SQL text.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

_OPTIONS = "-c search_path=dev_pingvas"
_SET_USER = "SELECT set_config('app.current_user_id', %s, true)"


def _reset(conn: psycopg.Connection) -> None:
    """Drop any session-level setting a caller may have left behind (e.g. a stray ``SET``)."""
    conn.execute("RESET ALL")
    conn.commit()


def make_pool(
    conninfo: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 10.0
) -> ConnectionPool:
    """Open a pool whose connections use ``search_path=dev_pingvas``."""
    return ConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        kwargs={"options": _OPTIONS},
        reset=_reset,
        open=True,
    )


@contextmanager
def user_session(pool: ConnectionPool, user_id: uuid.UUID) -> Iterator[psycopg.Connection]:
    """Yield a connection inside a transaction acting as ``user_id``.

    Commits on normal exit, rolls back on error; the user setting ends with the transaction.
    """
    if not isinstance(user_id, uuid.UUID):
        raise TypeError("user_id must be a uuid.UUID", type(user_id))
    with pool.connection() as conn, conn.transaction():
        conn.execute(_SET_USER, (str(user_id),))
        yield conn


@contextmanager
def anonymous_session(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """Yield a connection inside a transaction with no user: RLS shows public rows only."""
    with pool.connection() as conn, conn.transaction():
        conn.execute(_SET_USER, ("",))
        yield conn
