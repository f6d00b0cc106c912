"""The RLS policies on --infra's migrations and app code (static) and on the database (live)."""

from pathlib import Path

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.model import Finding, Location
from policies.posture import require_local_code, require_write
from policies.pycode import import_file, platform_module
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
    inventory = rls_live.get()
    _require_tables(inventory, "the database")
    gate(policy, CHECKS[policy](inventory, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["RLS-020"])
def test_isolation(policy, pytestconfig, pg_conn, gate):
    """Generated users, rows and operations as the app role (--hypothesis-profile=long: 2,000),
    each scenario in a transaction that is rolled back; on a user's database only with
    --allow-mutation."""
    from hypothesis import given, settings

    from policies.rls.isolation import run_scenario, scenarios

    require_write(pytestconfig, "postgres", "the isolation run (rolled-back rows)")
    pg_conn = pg_conn.get()

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
def session_helper(pytestconfig, sources):
    """Imports, in the test's call phase, the app's own session module (user_session,
    anonymous_session, make_pool): on --target local only, from one unambiguous module."""

    def load():
        require_local_code(pytestconfig, "the app's session helper")
        path = platform_module(sources, {"make_pool", "user_session"}, (), "session helper")
        return import_file(path)

    return load


def _images_table():
    from psycopg import sql

    return sql.SQL("{}.{}").format(
        sql.Identifier(RLS020.params["schema"]), sql.Identifier("images")
    )


@pytest.fixture
def two_users(pytestconfig, pg_conn):
    """Creates, in the test's call phase, two committed users with one private and one public
    image each; removed afterwards. Writes: on a user's database only with --allow-mutation."""
    import uuid

    from psycopg import sql

    users_table = sql.SQL("{}.{}").format(
        sql.Identifier(RLS020.params["schema"]), sql.Identifier("users")
    )
    users = [uuid.uuid4(), uuid.uuid4()]
    made = []

    def create():
        require_write(pytestconfig, "postgres", "the session-helper test (two users)")
        conn = pg_conn.get()
        images = {}
        with conn.transaction():
            for user in users:
                conn.execute(
                    sql.SQL("INSERT INTO {} (id, email) VALUES (%s, %s)").format(users_table),
                    (user, f"{user}@example.test"),
                )
                for public in (False, True):
                    row = conn.execute(
                        sql.SQL(
                            "INSERT INTO {} (user_id, storage_key, is_public) VALUES (%s, %s, %s)"
                            " RETURNING id"
                        ).format(_images_table()),
                        (user, str(uuid.uuid4()), public),
                    ).fetchone()
                    images[row[0]] = (user, public)
        made.append(conn)
        return users, images

    yield create
    for conn in made:
        with conn.transaction():
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE user_id = ANY(%s)").format(_images_table()),
                (users,),
            )
            conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(users_table), (users,))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["RLS-020"])
def test_user_never_reaches_the_next_request(policy, pg_dsn, session_helper, two_users, gate):
    """Through the app's own helper on a pool of one connection: request N's user is gone in
    request N+1, whether N+1 sets no user, the anonymous context, or another user."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    (a, b), images = two_users()  # the write gate first: nothing of the tree runs without it
    session_helper = session_helper()
    pg_dsn = pg_dsn.get()
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
