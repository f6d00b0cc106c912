"""A throwaway PostgreSQL cluster (Debian's server binaries) on a Unix socket, for the live tier."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from policies.stack import StackError, StackUnavailable, free_port

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


def start_cluster() -> PgCluster:
    """initdb + start: trusted Unix socket in a private directory, password-only TCP on
    127.0.0.1 (for the rotation test); as `postgres` when root (initdb and pg_ctl refuse root)."""
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
                f" -c listen_addresses=127.0.0.1 -c port={cluster.port}",
                "start",
            ),
            "pg_ctl start",
        )
    except StackError:
        cluster.stop()
        raise
    cluster.timings["postgres initdb+start"] = time.monotonic() - started
    return cluster


def _run(cmd: list[str], step: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        cause = " ".join((done.stderr or done.stdout).split())[-400:]
        raise StackError(f"{step} failed: {cause}")
