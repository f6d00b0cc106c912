"""SQL files as migration sets (one database each) and psql scripts with their includes."""

from policies.catalog import load_catalog
from policies.registry import all_checks
from policies.rls.migrations import migration_sets
from policies.rls.static import read_static
from policies.sources import UNREADABLE, Sources


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Sources(root)


TABLE = "CREATE TABLE {} (id int, tenant_id uuid);\n"


def test_sets_are_directories_prisma_folders_and_include_scripts(tmp_path):
    sources = _write(
        tmp_path,
        {
            "svc-a/migrations/001_init.sql": TABLE.format("a"),
            "svc-a/migrations/002_more.sql": TABLE.format("a2"),
            "svc-a/migrations/002_more.down.sql": "DROP TABLE a2;\n",
            "svc-b/prisma/migrations/20240101_init/migration.sql": TABLE.format('"B"'),
            "svc-b/prisma/migrations/20240202_rls/migration.sql": 'ALTER TABLE "B" ADD x int;\n',
            "db/init.sql": "\\set ON_ERROR_STOP on\n\\ir schema\n\\i db/extra.sql\n",
            "db/schema/02_t.sql": TABLE.format("t2"),
            "db/schema/01_t.sql": TABLE.format("t1"),
            "db/extra.sql": TABLE.format("x"),
            "sqitch/revert/init.sql": "DROP TABLE a;\n",
        },
    )
    sets = {s.key.relative_to(tmp_path).as_posix(): s for s in migration_sets(sources)}
    assert sorted(sets) == ["db/init.sql", "svc-a/migrations", "svc-b/prisma/migrations"]
    assert [p.name for p in sets["svc-a/migrations"].files] == ["001_init.sql", "002_more.sql"]
    (include_dir, include_root) = sources.psql_includes(tmp_path / "db/init.sql")
    assert [p.name for p in include_dir.files] == ["01_t.sql", "02_t.sql"]  # name order
    assert include_root.files == [tmp_path / "db/extra.sql"]  # \i: --infra as working dir
    assert sources.check_all() == []  # the script's meta-commands are not SQL errors


def test_each_set_is_its_own_database(tmp_path):
    sources = _write(
        tmp_path,
        {  # same table name in two services: only one of them protects it
            "a/001.sql": TABLE.format("invoices"),
            "b/001.sql": TABLE.format("invoices")
            + "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;\n",
        },
    )
    inventory = read_static(sources)
    assert len(inventory.parts) == 2
    findings = all_checks()["RLS-001"](inventory, load_catalog()["RLS-001"])
    assert [(f.location.path.parent.name, f.location.line) for f in findings] == [("a", 1)]


def test_includes_that_cannot_be_followed_are_reported_at_their_line(tmp_path):
    (tmp_path / "elsewhere.sql").write_text("SELECT 1;\n")
    tree = tmp_path / "tree"
    sources = _write(
        tree,
        {"init.sql": "\\ir ../elsewhere.sql\n\\i missing.sql\n\\i /etc/passwd\nSELECT 1;\n"},
    )
    problems = sources.check_all()
    assert [(p.line, p.policy) for p in problems] == [
        (1, UNREADABLE),
        (2, UNREADABLE),
        (3, UNREADABLE),
    ]
    assert all("passwd" not in str(p.path) for p in problems)


def test_an_include_cycle_reads_each_file_once(tmp_path):
    sources = _write(
        tmp_path,
        {"a.sql": "\\ir b.sql\n" + TABLE.format("a"), "b.sql": "\\ir a.sql\n" + TABLE.format("b")},
    )
    inventory = read_static(sources)
    assert sorted(inventory.tables) == ["public.a", "public.b"]


def test_a_set_without_tables_is_judged_without_raising(tmp_path):
    sources = _write(
        tmp_path,
        {
            "roles/000_roles.sql": "CREATE ROLE api LOGIN;\nGRANT postgres TO api;\n",
            "db/001.sql": TABLE.format("notes"),
        },
    )
    inventory = read_static(sources)
    catalog = load_catalog()
    for pid, body in all_checks().items():
        if catalog[pid].family == "rls" and "static" in catalog[pid].tiers:
            body(inventory, catalog[pid])
