"""PostgreSQL for the live tier: --pg-dsn (a user's database: read-only without
--allow-mutation), or a throwaway cluster (Debian's server binaries) with the tree's migrations
applied as a non-superuser owner, the way a managed database (RDS) runs them."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from policies.lazy import Lazy
from policies.posture import may_write
from policies.redact import excerpt, register
from policies.rls.model import SERVER_ACCESS_ROLES
from policies.sources import SourceError, Sources
from policies.targets.stack import (
    STACK_TIMINGS,
    Early,
    StackError,
    StackUnavailable,
    bring_up,
    free_port,
)

MIGRATOR = "pingvas_migrator"  # owns the database, CREATEROLE, never SUPERUSER
DATABASE = "pingvas"

START_TIMEOUT_S = 30
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


@dataclass
class PgCluster:
    workdir: Path  # data directory, socket and log
    bindir: Path
    as_postgres: list[str]
    port: int = 0  # TCP on 127.0.0.1, password (scram-sha-256) authentication
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def datadir(self) -> Path:
        return self.workdir / "data"

    def dsn(self, user: str = "postgres", dbname: str = "postgres") -> str:
        """Over the Unix socket, where the cluster trusts local users."""
        return f"host={self.workdir} port={self.port} user={user} dbname={dbname} connect_timeout=5"

    def pg_ctl(self, *args: str) -> list[str]:
        return [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args]

    def stop(self) -> None:
        subprocess.run(
            self.pg_ctl("-m", "immediate", "stop"), capture_output=True, timeout=30, check=False
        )
        shutil.rmtree(self.workdir, ignore_errors=True)


def find_bindir() -> Path | None:
    """The server's bin directory: `pg_config --bindir`, else the newest /usr/lib/postgresql/*."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((c for c in candidates if (c / "initdb").exists()), None)


def start_cluster(options: str = "") -> PgCluster:
    """initdb + start: trusted Unix socket in a private directory, password-only TCP on
    127.0.0.1 (for the rotation test); as `postgres` when root (initdb and pg_ctl refuse root).
    `options`: more server settings (`-c name=value ...`)."""
    bindir = find_bindir()
    if bindir is None:
        raise StackUnavailable(
            "PostgreSQL server not found (no initdb): apt-get install postgresql"
        )
    started = time.monotonic()
    cluster = PgCluster(Path(tempfile.mkdtemp(prefix="pingvas-pg-")), bindir, [], free_port())
    if os.geteuid() == 0:
        cluster.as_postgres = ["runuser", "-u", "postgres", "--"]
        owner = pwd.getpwnam("postgres")
        os.chown(cluster.workdir, owner.pw_uid, owner.pw_gid)
    try:
        _run(
            [
                *cluster.as_postgres,
                str(bindir / "initdb"),
                "-D",
                str(cluster.datadir),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            "initdb",
        )
        _run(
            cluster.pg_ctl(
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-l",
                str(cluster.workdir / "server.log"),
                "-o",
                f"{SERVER_OPTIONS} -c unix_socket_directories={cluster.workdir}"
                f" -c listen_addresses=127.0.0.1 -c port={cluster.port} {options}",
                "start",
            ),
            "pg_ctl start",
        )
    except BaseException:  # a failed step, or an interrupted run: no server left behind
        cluster.stop()
        raise
    cluster.timings["postgres initdb+start"] = time.monotonic() - started
    return cluster


def _run(cmd: list[str], step: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        cause = " ".join((done.stderr or done.stdout).split())[-400:]
        raise StackError(f"{step} failed: {cause}")


def migrate(cluster: PgCluster, sources: Sources, dbname: str = DATABASE) -> str | None:
    """Create the database, owned by a NOSUPERUSER CREATEROLE role, and apply every .sql file
    of the tree in path order as that role, statement by statement; each role a migration
    creates is granted to it (so `SET ROLE owner` works, as PostgreSQL 16's
    createrole_self_grant does). A migration can therefore never run as a superuser nor be
    granted the server's program or file access (SERVER_ACCESS_ROLES): no `COPY ... PROGRAM`,
    no untrusted language, no server file read or write. Returns the first failure, in one
    line naming the file and line, or None."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        _server_access_for_superusers_only(admin)
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS").format(
                sql.Identifier(MIGRATOR)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(dbname), sql.Identifier(MIGRATOR)
            )
        )
        with psycopg.connect(cluster.dsn(user=MIGRATOR, dbname=dbname), autocommit=True) as conn:
            for path in sources.files(".sql"):
                try:
                    text, statements = sources.text(path), sources.sql(path)
                except SourceError as exc:
                    return f"{path}: not applied: {exc.error.message}"
                data = text.encode()
                for raw in statements:
                    start = raw.stmt_location or 0
                    end = start + raw.stmt_len if raw.stmt_len else len(data)
                    statement = data[start:end].decode(errors="replace")
                    try:
                        conn.execute(statement)
                    except psycopg.Error as exc:
                        line = data[:start].count(b"\n") + 1 + _leading_lines(statement)
                        cause = excerpt(" ".join(str(exc).split()), None, width=200)
                        if any(role in statement for role in SERVER_ACCESS_ROLES):
                            cause += (
                                " (no migration may grant the server's program or file access:"
                                f" {', '.join(SERVER_ACCESS_ROLES)})"
                            )
                        return f"{path}:{line}: migration failed: {exc.sqlstate}: {cause}"
                    if type(raw.stmt).__name__ in ("CreateRoleStmt", "DoStmt"):
                        _grant_new_roles(admin)
    return None


def _server_access_for_superusers_only(admin: Any) -> None:
    """Make SERVER_ACCESS_ROLES grantable by superusers only. From PostgreSQL 16 a CREATEROLE
    role grants only roles it holds with ADMIN OPTION, so the migrator cannot grant them. Up
    to 15, CREATEROLE grants membership in every role that is not a superuser: the roles are
    then marked superuser in the throwaway cluster's catalog, which makes granting them a
    superuser's act (AddRoleMems) while nothing else changes (no role is their member, and
    predefined roles cannot log in)."""
    version = admin.execute("SHOW server_version_num").fetchone()[0]
    if int(version) >= 160000:
        return
    admin.execute(
        "UPDATE pg_authid SET rolsuper = true WHERE rolname = ANY(%s)", (list(SERVER_ACCESS_ROLES),)
    )


def _leading_lines(statement: str) -> int:
    """Lines before a statement's first token (pglast's location includes leading space)."""
    return statement[: len(statement) - len(statement.lstrip())].count("\n")


def _grant_new_roles(admin: Any) -> None:
    from psycopg import sql

    for (role,) in admin.execute(
        """SELECT r.rolname FROM pg_roles r
           WHERE NOT r.rolsuper AND r.rolname !~ '^pg_' AND r.rolname <> %s
             AND NOT pg_has_role(%s, r.oid, 'MEMBER')""",
        (MIGRATOR, MIGRATOR),
    ).fetchall():
        admin.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(MIGRATOR))
        )


@pytest.fixture(scope="session")
def pg_cluster(pytestconfig: pytest.Config, sources: Sources) -> Iterator[Lazy[PgCluster | None]]:
    """The embedded PostgreSQL with the tree's migrations applied to the database `pingvas`;
    None when --pg-dsn names an existing database."""
    if pytestconfig.getoption("--pg-dsn"):
        yield Lazy(lambda: None)
        return
    started: list[PgCluster] = []

    def start() -> PgCluster:
        cluster = bring_up(start_cluster)
        started.append(cluster)
        pytestconfig.stash.setdefault(STACK_TIMINGS, {}).update(cluster.timings)
        failure = migrate(cluster, sources)
        if failure:
            pytest.fail(failure[:400], pytrace=False)
        return cluster

    early = Early(pytestconfig, start)
    yield Lazy(early)
    early.settle()
    for cluster in started:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_dsn(pytestconfig: pytest.Config, pg_cluster: Lazy[PgCluster | None]) -> Lazy[str]:
    """The platform database: --pg-dsn (its password masked in every output; a DSN libpq cannot
    parse fails without being echoed), or the embedded cluster's."""
    given = pytestconfig.getoption("--pg-dsn")

    def dsn() -> str:
        if not given:
            cluster = pg_cluster.get()
            assert cluster is not None
            return cluster.dsn(dbname=DATABASE)
        from psycopg.conninfo import conninfo_to_dict

        register(*_password_candidates(given))
        try:
            register(conninfo_to_dict(given).get("password"))
        except Exception as exc:  # noqa: BLE001 - libpq's parse errors quote the DSN
            kind = type(exc).__name__
            pytest.fail(f"--pg-dsn cannot be parsed by libpq ({kind}): not shown", pytrace=False)
        return given

    return Lazy(dsn)


def _password_candidates(dsn: str) -> list[str]:
    """What could be a password in a DSN, even one libpq cannot parse: a URI's user:password@,
    and password=... of the key/value form."""
    found = re.findall(r"://[^:/@\s]*:([^@\s]+)@", dsn)
    found += re.findall(r"password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))", dsn)
    flat = [v for item in found for v in (item if isinstance(item, tuple) else (item,)) if v]
    return flat


@pytest.fixture(scope="session")
def pg_conn(pytestconfig: pytest.Config, pg_dsn: Lazy[str]) -> Iterator[Lazy[Any]]:
    """One connection to the platform database; an unreachable DSN fails in one line. On a
    user's database without --allow-mutation every transaction is read-only (the server
    refuses writes, whatever a probe tries)."""
    opened: list[Any] = []

    def connect() -> Any:
        import psycopg

        dsn = pg_dsn.get()
        read_only = not may_write(pytestconfig, "postgres")
        options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        try:
            conn = psycopg.connect(dsn, connect_timeout=5, **options)
        except psycopg.Error as exc:
            pytest.fail(
                f"cannot connect to PostgreSQL ({safe_dsn(dsn)}): "
                f"{' '.join(str(exc).split())[:300]}",
                pytrace=False,
            )
        opened.append(conn)
        return conn

    yield Lazy(connect)
    for conn in opened:
        conn.close()


def safe_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - an unparseable DSN is shown as a placeholder
        return "<unparseable DSN>"
    return " ".join(f"{k}={'***' if k == 'password' else v}" for k, v in parts.items())
