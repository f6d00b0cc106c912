"""The RLS live tier on a real PostgreSQL: the guide's owner bypass, session leak and injection
demonstrated, and a missing FORCE caught by both tiers naming the table."""

import ast
import types
import uuid

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from policies.pycode import find_modules, import_file
from policies.rls.isolation import Op, Scenario, run_scenario
from policies.sources import Sources
from policies.targets.postgres import start_cluster
from policies.targets.stack import StackUnavailable
from tests.helpers import (
    FIXTURES,
    ROOT,
    failures_on_copy,
    infra_catalog,
    infra_copy,
    run_suite,
    suite,
)

pytestmark = pytest.mark.live
PARAMS = {**infra_catalog()["RLS-020"].params}  # infra/'s tables, role and setting
MIGRATION = "db/migrations/004_enable_rls.sql"
SEED_SESSION = FIXTURES / "seed" / "services" / "user-service" / "app" / "db" / "base.py"


@pytest.fixture(scope="module")
def guide_db():
    """The guide's 004 migration on top of infra's 000-003 (the guide lacks them), plus the
    admin_role it names: the database the guide would have produced."""
    try:
        cluster = start_cluster()
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE guide")
    with psycopg.connect(cluster.dsn(dbname="guide"), autocommit=True) as conn:
        for path in sorted((ROOT / "infra" / "db" / "migrations").glob("00[0-3]_*.sql")):
            conn.execute(path.read_text())
        conn.execute("CREATE ROLE admin_role")
        conn.execute((FIXTURES / "seed" / "db" / "migrations" / "004_enable_rls.sql").read_text())
    yield cluster.dsn(dbname="guide")
    cluster.stop()


def guide_set_user_sql(user_id: str) -> str:
    """The SQL the guide's get_db() builds, evaluated from its own f-string (fixtures/seed)."""
    tree = ast.parse(SEED_SESSION.read_text())
    fstring = next(n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr))
    code = compile(ast.Expression(fstring), str(SEED_SESSION), "eval")
    return eval(code, {"g": types.SimpleNamespace(current_user_id=user_id)})  # noqa: S307


def test_guide_table_owner_reads_other_users_private_rows(guide_db):
    users = [uuid.uuid4(), uuid.uuid4()]
    scenario = Scenario(users, [(1, "images", False)], [Op("read", 0, "images", 0)])
    with psycopg.connect(guide_db) as conn:
        violations = run_scenario(conn, PARAMS, scenario, "pingvas_owner")
    assert any("sees private row" in v and str(users[1]) in v for v in violations), violations


def test_guide_session_code_leaks_the_user_to_the_next_request(guide_db):
    user = str(uuid.uuid4())
    with ConnectionPool(guide_db, min_size=1, max_size=1, open=True) as pool:
        with pool.connection() as conn:  # request 1, as the guide's get_db() does it
            conn.execute(guide_set_user_sql(user))
        with pool.connection() as conn:  # request 2 sets no user
            left = conn.execute("SELECT current_setting('app.current_user_id', true)").fetchone()
    assert left[0] == user


def test_guide_session_code_runs_an_injected_statement(guide_db):
    payload = f"{uuid.uuid4()}'; SELECT set_config('app.injected', 'yes', false); --"
    with psycopg.connect(guide_db, autocommit=True) as conn:
        conn.execute(guide_set_user_sql(payload))
        injected = conn.execute("SELECT current_setting('app.injected', true)").fetchone()[0]
    assert injected == "yes"


def test_infra_session_helper_refuses_the_same_payload(pg_dsn, infra_dir):
    [path] = find_modules(Sources(infra_dir), {"make_pool", "user_session"})
    helper = import_file(path)
    payload = f"{uuid.uuid4()}'; SELECT set_config('app.injected', 'yes', false); --"
    with helper.make_pool(pg_dsn.get(), min_size=1, max_size=1) as pool:
        with pytest.raises(TypeError), helper.user_session(pool, payload):
            pass
        with pool.connection() as conn:
            assert conn.execute("SELECT current_setting('app.injected', true)").fetchone()[0] in (
                "",
                None,
            )


def test_removing_force_fails_both_tiers_naming_the_table(tmp_path):
    done, failures = failures_on_copy(
        tmp_path,
        MIGRATION,
        "ALTER TABLE dev_pingvas.images FORCE ROW LEVEL SECURITY;\n",
        "",
        *suite("rls"),
        timeout=600,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    assert set(failures) == {"test_static[RLS-002]", "test_live[RLS-002]"}, failures
    for message in failures.values():
        assert "dev_pingvas.images" in message and "dev_pingvas.boards" not in message


def test_a_leaky_select_policy_fails_the_isolation_run(tmp_path):
    own_or_public = "        OR is_public\n    );\n\nCREATE POLICY images_insert_own"
    infra = infra_copy(
        tmp_path, MIGRATION, own_or_public, own_or_public.replace("is_public", "true")
    )
    done = run_suite(
        *suite("rls"),
        "-k",
        "test_live and RLS-020 and not session",
        "--hypothesis-seed=1",
        "--infra",
        str(infra),
        "--reports",
        str(tmp_path / "r"),
        timeout=600,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    assert "RLS-020" in done.stdout and "sees private row" in done.stdout
