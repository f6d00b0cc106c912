"""The RLS policies on --infra's migrations and app code (static) and on the database (live)."""

from pathlib import Path

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.model import Finding, Location
from policies.pycode import find_module, import_file
from policies.registry import all_checks

CHECKS = all_checks()

RLS020 = load_catalog()["RLS-020"]


def _require_tables(inventory, where):
    if not inventory.tables:
        pytest.fail(
            f"no table with row-level security or user data found in {where}", pytrace=False
        )


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("rls", "static"))
def test_static(policy, rls_static, infra_dir, gate):
    _require_tables(rls_static, f"the SQL under {infra_dir}")
    gate(policy, CHECKS[policy](rls_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", [p for p in policy_ids("rls", "live") if p in CHECKS])
def test_live(policy, rls_live, gate):
    _require_tables(rls_live, "the database")
    gate(policy, CHECKS[policy](rls_live, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["RLS-020"])
def test_isolation(policy, pg_conn, gate):
    """Generated users, rows and operations as the app role (--hypothesis-profile=long: 2,000)."""
    from hypothesis import given, settings

    from policies.rls.isolation import run_scenario, scenarios

    @settings(database=None)
    @given(scenario=scenarios(RLS020.params))
    def isolated(scenario):
        violations = run_scenario(pg_conn, RLS020.params, scenario, RLS020.params["app_role"])
        assert not violations, "; ".join(violations)

    findings = []
    try:
        isolated()
    except AssertionError as exc:
        counterexample = str(exc).splitlines()[0]
        findings.append(
            Finding(
                policy,
                RLS020.params["app_role"],
                "isolation violated",
                "no foreign private row reached",
                counterexample,
                Location(resource="database"),
            )
        )
    gate(policy, findings)


@pytest.fixture
def session_helper(sources, infra_dir):
    """The app's own session module (user_session, anonymous_session, make_pool), imported."""
    path = find_module(sources, {"make_pool", "user_session"})
    if path is None:
        pytest.fail(
            f"no session helper (make_pool + user_session) under {infra_dir}", pytrace=False
        )
    return import_file(path)


def _images_table():
    from psycopg import sql

    return sql.SQL("{}.{}").format(
        sql.Identifier(RLS020.params["schema"]), sql.Identifier("images")
    )


@pytest.fixture
def two_users(pg_conn):
    """Two committed users with one private and one public image each; removed afterwards."""
    import uuid

    from psycopg import sql

    users_table = sql.SQL("{}.{}").format(
        sql.Identifier(RLS020.params["schema"]), sql.Identifier("users")
    )
    users = [uuid.uuid4(), uuid.uuid4()]
    images = {}
    with pg_conn.transaction():
        for user in users:
            pg_conn.execute(
                sql.SQL("INSERT INTO {} (id, email) VALUES (%s, %s)").format(users_table),
                (user, f"{user}@example.test"),
            )
            for public in (False, True):
                row = pg_conn.execute(
                    sql.SQL(
                        "INSERT INTO {} (user_id, storage_key, is_public) VALUES (%s, %s, %s)"
                        " RETURNING id"
                    ).format(_images_table()),
                    (user, str(uuid.uuid4()), public),
                ).fetchone()
                images[row[0]] = (user, public)
    yield users, images
    with pg_conn.transaction():
        pg_conn.execute(
            sql.SQL("DELETE FROM {} WHERE user_id = ANY(%s)").format(_images_table()), (users,)
        )
        pg_conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(users_table), (users,))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["RLS-020"])
def test_user_never_reaches_the_next_request(policy, pg_dsn, session_helper, two_users, gate):
    """Through the app's own helper on a pool of one connection: request N's user is gone in
    request N+1, whether N+1 sets no user, the anonymous context, or another user."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    (a, b), images = two_users
    setting = RLS020.params["setting"]
    select = sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(_images_table())
    pool = session_helper.make_pool(
        make_conninfo(pg_dsn, user=RLS020.params["app_role"]), min_size=1, max_size=1
    )

    def visible(conn):
        return {row[0] for row in conn.execute(select, (list(images),))}

    try:
        with session_helper.user_session(pool, a) as conn:
            seen = {"request 1 as A": visible(conn)}
        with pool.connection() as conn:
            left = conn.execute("SELECT current_setting(%s, true)", (setting,)).fetchone()[0]
            seen["request 2 setting no user"] = visible(conn)
        with session_helper.anonymous_session(pool) as conn:
            seen["request 3 anonymous"] = visible(conn)
        with session_helper.user_session(pool, b) as conn:
            seen["request 4 as B"] = visible(conn)
    finally:
        pool.close()

    public = {i for i, (_, pub) in images.items() if pub}
    expected = {
        "request 1 as A": public | {i for i, (u, _) in images.items() if u == a},
        "request 2 setting no user": public,
        "request 3 anonymous": public,
        "request 4 as B": public | {i for i, (u, _) in images.items() if u == b},
    }
    where = Location(path=Path(session_helper.__file__))
    findings = [
        Finding(
            policy,
            "session helper",
            f"{step} sees the wrong images",
            f"{len(expected[step])} ids (own and public)",
            f"{len(ids)} ids: {sorted(ids - expected[step])} foreign",
            where,
        )
        for step, ids in seen.items()
        if ids != expected[step]
    ]
    if left not in ("", None):
        findings.append(
            Finding(
                policy,
                "session helper",
                "the previous user's id reached the next request",
                f"{setting} unset",
                f"{setting} = {left}",
                where,
            )
        )
    gate(policy, findings)
