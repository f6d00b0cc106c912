"""RLS-020, on the live database: generated users, rows and operations as the app role, and the
app's own session helper on a pool of one connection."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from policies.lazy import Lazy
from policies.model import Finding, Location, Policy, resource
from policies.posture import require_local_code, require_write
from policies.pycode import find_modules, import_file, platform_module
from policies.registry import NotApplicable, probe
from policies.rls.model import RlsInventory
from policies.sources import Sources


def scenario_params(policy: Policy, declared: RlsInventory) -> dict[str, Any]:
    """RLS-020's parameters with the context setting resolved: the configured one, else the one
    setting the tree's policies read. Raises NotApplicable when the run cannot be built."""
    params = dict(policy.params)
    if not params.get("user_table") or not params.get("tables"):
        raise NotApplicable(
            "the isolation run needs the tables it generates rows in: set user_table and tables"
            f" under [policy.{policy.id}] in pingvas-policy.toml"
        )
    if not params.get("app_role"):
        raise NotApplicable("the isolation run needs the app role: set app_role under [family.rls]")
    if not params.get("setting"):
        read = sorted({r.setting for r in declared.setting_reads})
        if len(read) != 1:
            raise NotApplicable(
                f"the tree's policies read {len(read)} settings ({', '.join(read) or 'none'}):"
                " set setting under [family.rls]"
            )
        params["setting"] = read[0]
    return params


@probe("RLS-020", needs=("pytestconfig", "pg_conn", "rls_static"))
def isolation(
    policy: Policy, pytestconfig: pytest.Config, pg_conn: Lazy[Any], rls_static: RlsInventory
) -> list[Finding]:
    """Generated users, rows and operations as the app role (--hypothesis-profile=long: 2,000),
    each scenario in a transaction that is rolled back; on a user's database only with
    --allow-mutation."""
    from hypothesis import given, settings

    from policies.rls.isolation import run_scenario, scenarios

    params = scenario_params(policy, rls_static)
    require_write(pytestconfig, "postgres", "the isolation run (rolled-back rows)")
    conn = pg_conn.get()

    @settings(database=None)
    @given(scenario=scenarios(params))
    def isolated(scenario: Any) -> None:
        violations = run_scenario(conn, params, scenario, params["app_role"])
        assert not violations, "; ".join(violations)

    try:
        isolated()
    except AssertionError as exc:
        return [
            Finding(
                policy.id,
                resource("role", params["app_role"]),
                "isolation violated",
                "no foreign private row reached",
                str(exc).splitlines()[0],
                Location(resource="database"),
            )
        ]
    return []


@probe(
    "RLS-020",
    variant="session-helper",
    needs=("pytestconfig", "pg_conn", "pg_dsn", "sources", "rls_static"),
)
def session_helper_never_leaks(
    policy: Policy,
    pytestconfig: pytest.Config,
    pg_conn: Lazy[Any],
    pg_dsn: Lazy[str],
    sources: Sources,
    rls_static: RlsInventory,
) -> list[Finding]:
    """Through the app's own helper (make_pool, user_session, anonymous_session) on a pool of
    one connection: request N's user is gone in request N+1, whether N+1 sets no user, the
    anonymous context, or another user. Two users and their rows are committed for the test
    and removed afterwards."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    params = scenario_params(policy, rls_static)
    rows = next((t for t in params["tables"] if t.get("public_column")), None)
    if rows is None:
        raise NotApplicable("no table of RLS-020's tables has a public_column")
    if not find_modules(sources, {"make_pool", "user_session"}):
        raise NotApplicable("no session helper (make_pool, user_session) in the app code")
    require_write(pytestconfig, "postgres", "the session-helper test (two users)")
    require_local_code(pytestconfig, "the app's session helper")
    helper = import_file(
        platform_module(sources, {"make_pool", "user_session"}, (), "session helper")
    )
    conn = pg_conn.get()
    users = [uuid.uuid4(), uuid.uuid4()]
    images = _create(conn, params, rows, users)
    table = sql.SQL("{}.{}").format(sql.Identifier(params["schema"]), sql.Identifier(rows["name"]))
    select = sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(table)
    pool = helper.make_pool(
        make_conninfo(pg_dsn.get(), user=params["app_role"]), min_size=1, max_size=1
    )

    def visible(session: Any) -> set[Any]:
        return {row[0] for row in session.execute(select, (list(images),))}

    a, b = users
    try:
        with helper.user_session(pool, a) as session:
            seen = {"request 1 as A": visible(session)}
        with pool.connection() as session:
            left = session.execute(
                "SELECT current_setting(%s, true)", (params["setting"],)
            ).fetchone()[0]
            seen["request 2 setting no user"] = visible(session)
        with helper.anonymous_session(pool) as session:
            seen["request 3 anonymous"] = visible(session)
        with helper.user_session(pool, b) as session:
            seen["request 4 as B"] = visible(session)
    finally:
        pool.close()
        _remove(conn, params, rows, users)
    public = {i for i, (_, pub) in images.items() if pub}
    expected = {
        "request 1 as A": public | {i for i, (u, _) in images.items() if u == a},
        "request 2 setting no user": public,
        "request 3 anonymous": public,
        "request 4 as B": public | {i for i, (u, _) in images.items() if u == b},
    }
    where = Location(path=Path(helper.__file__))
    findings = [
        Finding(
            policy.id,
            resource("app-code", "session helper"),
            f"{step} sees the wrong rows",
            f"{len(expected[step])} ids (own and public)",
            f"{len(ids)} ids: {sorted(map(str, ids - expected[step]))} foreign",
            where,
        )
        for step, ids in seen.items()
        if ids != expected[step]
    ]
    if left not in ("", None):
        findings.append(
            Finding(
                policy.id,
                resource("app-code", "session helper"),
                "the previous user's id reached the next request",
                f"{params['setting']} unset",
                f"{params['setting']} = {left}",
                where,
            )
        )
    return findings


def _create(
    conn: Any, params: dict[str, Any], rows: dict[str, Any], users: list[uuid.UUID]
) -> dict[Any, tuple[uuid.UUID, bool]]:
    """Two committed users with one private and one public row each: row id -> (owner, public)."""
    from policies.rls.isolation import insert_row

    images = {}
    with conn.transaction():
        for user in users:
            query, values = insert_row(params["schema"], params["user_table"], user, False)
            conn.execute(query, values)
            for public in (False, True):
                query, values = insert_row(params["schema"], rows, user, public)
                images[conn.execute(query, values).fetchone()[0]] = (user, public)
    return images


def _remove(
    conn: Any, params: dict[str, Any], rows: dict[str, Any], users: list[uuid.UUID]
) -> None:
    from psycopg import sql

    schema = sql.Identifier(params["schema"])
    with conn.transaction():
        for spec in (rows, params["user_table"]):
            conn.execute(
                sql.SQL("DELETE FROM {}.{} WHERE {} = ANY(%s)").format(
                    schema, sql.Identifier(spec["name"]), sql.Identifier(spec["owner_column"])
                ),
                (users,),
            )
