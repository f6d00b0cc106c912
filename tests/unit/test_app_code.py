"""The RLS readers of Go and TypeScript/JavaScript database code: which SQL each executor call
runs and how it was built (the shapes public data layers take), what is not the app, and
files that do not parse (reported, never a traceback)."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.rls.static import read_static
from policies.sources import Sources

GO = """package store

import (
\t"context"
\t"fmt"

\t"github.com/jackc/pgx/v5"
\t"github.com/lib/pq"
)

const setTenant = "SELECT set_config('app.tenant_id', $1, true)"

func Run(ctx context.Context, tx pgx.Tx, id, table string) {
\ttx.Exec(ctx, setTenant, id)
\tq := fmt.Sprintf("SELECT set_config('app.tenant_id', '%s', false)", id)
\ttx.Exec(ctx, q)
\ttx.Exec(ctx, "DELETE FROM notes WHERE id = '"+id+"'")
\ttx.Exec(ctx, fmt.Sprintf("TRUNCATE %s", pq.QuoteIdentifier(table)))
\tcache.Get(fmt.Sprintf("tenant:%s", id))
}
"""

TS = """import { Prisma, PrismaClient } from "@prisma/client";

const prisma = new PrismaClient();

export async function run(id: string, sort: string, q: string) {
  await prisma.$executeRaw`SELECT set_config('app.tenant_id', ${id}, true)`;
  await prisma.$executeRawUnsafe(`SET app.tenant_id = '${id}'`);
  const rows = await prisma.$queryRaw<{ id: string }[]>`SELECT id FROM notes WHERE id = ${id}`;
  await prisma.$queryRaw`SELECT id FROM notes ORDER BY ${Prisma.raw(sort)}`;
  await prisma.$queryRawUnsafe(q);
  await useCase.execute(`deploy ${id}`);
  return rows;
}
"""


def executed(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, str | None, str]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    sources = Sources(tmp_path)
    assert not sources.check_all()
    inventory = read_static(sources)
    return [
        (s.location.path.name, s.location.line, s.built_by, s.sql) for s in inventory.executed_sql
    ]


def test_go_executor_calls_and_how_their_sql_was_built(tmp_path):
    found = executed(tmp_path, {"store.go": GO})
    assert [(line, built) for _, line, built, _ in found] == [
        (14, None),  # the constant, followed
        (16, "fmt.Sprintf"),  # the variable Sprintf built, followed
        (17, "concatenation"),
        (18, None),  # pq.QuoteIdentifier quotes
    ]  # cache.Get("tenant:...") is not SQL
    assert found[1][3] == "SELECT set_config('app.tenant_id', '{}', false)"


def test_typescript_tagged_templates_are_parameterised(tmp_path):
    found = executed(tmp_path, {"db.ts": TS})
    assert [(line, built) for _, line, built, _ in found] == [
        (6, None),
        (7, "template literal"),
        (8, None),  # a generic tagged template parses and reads as parameterised
        (9, "Prisma.raw() in a template"),
        (10, "a value passed to $queryRawUnsafe that is not a literal"),
    ]
    assert found[0][3] == "SELECT set_config('app.tenant_id', $1, true)"


def test_files_without_a_database_import_and_vendored_code_are_not_the_app(tmp_path):
    no_driver = GO.replace('\t"github.com/jackc/pgx/v5"\n\t"github.com/lib/pq"\n', "")
    files = {"vendor/x/store.go": GO, "node_modules/p/db.ts": TS, "cmd/main.go": no_driver}
    (tmp_path / "cmd").mkdir()
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text.replace("pq.QuoteIdentifier(table)", "table"))
    inventory = read_static(Sources(tmp_path))
    assert inventory.app_files == [] and inventory.executed_sql == []


def test_a_file_that_does_not_parse_is_reported_with_its_line(tmp_path):
    (tmp_path / "db.go").write_text(GO.replace("func Run(", "func Run(("))
    (tmp_path / "db.js").write_text("const { Pool } = require('pg');\nfunction f() {\n")
    sources = Sources(tmp_path)
    assert [(e.path.name, e.line, e.policy) for e in sources.check_all()] == [
        ("db.go", 13, "SRC-001"),
        ("db.js", 2, "SRC-001"),  # the missing } after the last line
    ]
    assert [(e.path.name, e.line) for e in read_static(sources).errors] == [
        ("db.go", 13),
        ("db.js", 2),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.text(max_size=300),
    suffix=st.sampled_from([".go", ".ts", ".tsx", ".js", ".mjs"]),
)
def test_readers_never_raise_on_fuzzed_code(body, suffix, tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    header = 'package x\nimport "database/sql"\n' if suffix == ".go" else "import pg from 'pg';\n"
    (directory / f"input{suffix}").write_text(
        header + body, encoding="utf-8", errors="surrogatepass"
    )
    sources = Sources(directory)
    sources.check_all()
    read_static(sources)
