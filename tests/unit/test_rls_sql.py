"""The RLS SQL reader on the shapes other teams write: role graphs, foreign keys, function
options, settings read as switches. Asserts on typed fields (lines, names, flags)."""

from pathlib import Path

import pglast
import pytest

from policies.catalog import load_catalog
from policies.model import Location
from policies.rls.checks import context_settings, public_catalogs, user_data
from policies.rls.pgnodes import setting_reads
from policies.rls.static import read_static
from policies.sources import Sources

PARAMS = load_catalog()["RLS-012"].params


def _read(tmp_path: Path, sql: str):
    (tmp_path / "schema.sql").write_text(sql)
    inventory = read_static(Sources(tmp_path))
    assert not inventory.errors
    return inventory


def _expr(text: str):
    return pglast.parse_sql(f"SELECT {text}")[0].stmt.targetList[0].val


def test_roles_created_in_a_do_block_are_located_at_their_own_line(tmp_path):
    inv = _read(
        tmp_path,
        "-- roles\nDO $$\nBEGIN\n  IF true THEN\n    CREATE ROLE api LOGIN;\n  END IF;\n"
        "  CREATE ROLE owner NOLOGIN;\nEND\n$$;\n",
    )
    assert {name: role.location.line for name, role in inv.roles.items()} == {
        "api": 5,
        "owner": 7,
    }


def test_memberships_follow_grant_revoke_create_role_and_alter_group(tmp_path):
    inv = _read(
        tmp_path,
        "CREATE ROLE a IN ROLE g1 ROLE m1 ADMIN m2;\n"
        "GRANT g2 TO a WITH SET FALSE;\n"
        "GRANT g3 TO a;\nREVOKE g3 FROM a;\n"
        "ALTER GROUP g4 ADD USER a, b;\nALTER GROUP g4 DROP USER b;\n",
    )
    found = {(m.member, m.role, m.can_set, m.location.line) for m in inv.memberships}
    assert found == {
        ("a", "g1", True, 1),
        ("m1", "a", True, 1),
        ("m2", "a", True, 1),
        ("a", "g2", False, 2),
        ("a", "g4", True, 5),
    }


def test_foreign_keys_make_user_data_transitively(tmp_path):
    inv = _read(
        tmp_path,
        'CREATE TABLE "Org" (id text PRIMARY KEY);\n'
        'CREATE TABLE "Doc" (id text PRIMARY KEY, "organizationId" text REFERENCES "Org"(id));\n'
        'CREATE TABLE "Page" (id text PRIMARY KEY, "docId" text);\n'
        'ALTER TABLE "Page" ADD CONSTRAINT "Page_docId_fkey" FOREIGN KEY ("docId") '
        'REFERENCES "Doc"("id");\n'
        'CREATE TABLE line (page text, FOREIGN KEY (page) REFERENCES "Page" (id));\n',
    )
    assert user_data(inv, PARAMS) == {"public.Doc", "public.Page", "public.line"}


@pytest.mark.parametrize(
    ("using", "catalog"),
    [
        ("FOR SELECT USING (true)", True),
        ("FOR ALL USING (true)", False),  # writes too: not read-only
        ("FOR SELECT USING (published)", False),
    ],
)
def test_a_public_catalog_has_only_read_all_selects(tmp_path, using, catalog):
    inv = _read(
        tmp_path,
        f"CREATE TABLE plans (id text, published bool);\nCREATE POLICY p ON plans {using};\n",
    )
    assert ("public.plans" in public_catalogs(inv, PARAMS)) is catalog


@pytest.mark.parametrize(
    ("expr", "flags"),
    [
        ("tenant_id = current_setting('app.t')::uuid", [False]),
        (
            "tenant_id = current_setting('app.t')::uuid OR current_setting('app.a', true) = 'on'",
            [False, True],
        ),
        ("current_setting('app.bypass', true)::boolean", [True]),
        (
            "CASE WHEN current_setting('app.t', true) = '' THEN false"
            " ELSE tenant_id = current_setting('app.t', true)::uuid END",
            [False, False],
        ),
    ],
)
def test_a_setting_read_alone_in_a_branch_is_a_switch(expr, flags):
    assert [r.flag for r in setting_reads(_expr(expr), Location())] == flags


def test_context_settings_are_the_settings_compared_with_columns(tmp_path):
    inv = _read(
        tmp_path,
        "CREATE TABLE t (id int, org_id uuid);\n"
        "CREATE POLICY p ON t USING (org_id = NULLIF(current_setting('app.org_id', true), '')"
        "::uuid OR current_setting('app.bypass_rls', true) = 'on');\n",
    )
    assert context_settings(inv, {"setting": None}) == ["app.org_id"]
    assert context_settings(inv, {"setting": "app.tenant"}) == ["app.tenant"]


def test_function_options_and_later_alter_function(tmp_path):
    inv = _read(
        tmp_path,
        "SET search_path = app;\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
        "ALTER FUNCTION app.f() SECURITY DEFINER;\n"
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = ''"
        " AS $$ SELECT 1 $$;\n"
        "CREATE FUNCTION h() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;\n"
        "ALTER FUNCTION h SET search_path FROM CURRENT;\n",
    )
    assert {(f.name, f.security_definer, f.search_path) for f in inv.functions} == {
        ("app.f", True, False),
        ("app.g", True, True),
        ("app.h", True, True),
    }


def test_materialized_views_are_read_as_views(tmp_path):
    inv = _read(tmp_path, "CREATE MATERIALIZED VIEW s.mv AS SELECT * FROM s.t WITH NO DATA;\n")
    [view] = inv.views
    assert (view.key, view.relations, view.materialized) == ("s.mv", ["s.t"], True)
