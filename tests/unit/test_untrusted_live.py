"""The live tier on a pull request's tree: Terraform that would run code is refused, the
platform code it imports must be unambiguous and runs on --target local only, migrations
cannot run programs, a user's database sees no write without --allow-mutation, an
interrupted bring-up leaves no process behind, unreachable targets and bad DSNs fail in one
line without echoing secrets."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from policies.sources import Sources
from policies.targets.postgres import migrate, start_cluster
from policies.targets.stack import StackUnavailable
from tests.helpers import ROOT, SUITE, junit_failures, run_suite, suite

pytestmark = pytest.mark.live


def _drop_dir():
    """A directory any user may write (a marker written by the postgres user would land here)."""
    path = Path(tempfile.mkdtemp(prefix="pingvas-marker-"))
    path.chmod(0o777)
    return path


def _root_with(tmp_path, body):
    root = tmp_path / "tree" / "terraform" / "envs" / "pr"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n\n'
        'resource "aws_sns_topic" "alarms" {\n  name = "pr-alarms"\n}\n\n'
        'resource "aws_cloudwatch_metric_alarm" "q" {\n  alarm_name = "pr-queue"\n'
        '  namespace = "AWS/SQS"\n  metric_name = "NumberOfMessagesSent"\n'
        '  statistic = "Sum"\n  period = 60\n  evaluation_periods = 1\n  threshold = 1\n'
        '  comparison_operator = "GreaterThanThreshold"\n}\n\n' + body
    )
    return tmp_path / "tree"


def _live_alarms(tree, tmp_path, *options):
    """The live alarm tests on a tree, as a user runs them; the run and its failures."""
    done = run_suite(
        str(SUITE),
        "-m",
        "live",
        "-k",
        "SRC-004 or (test_live and ALM-00)",
        "--infra",
        str(tree),
        "--reports",
        str(tmp_path / "r"),
        *options,
        timeout=600,
    )
    return done, junit_failures(tmp_path / "r" / "junit.xml")


def test_terraform_that_would_run_code_is_refused_block_by_block(tmp_path):
    marker = _drop_dir() / "pwned"
    tree = _root_with(
        tmp_path,
        'resource "terraform_data" "x" {\n'
        f'  provisioner "local-exec" {{\n    command = "touch {marker}"\n  }}\n}}\n\n'
        'data "external" "env" {\n  program = ["sh", "-c", "env"]\n}\n',
    )
    done, failures = _live_alarms(tree, tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    assert not marker.exists()
    refused = failures.pop("test_live[SRC-004]")
    assert 'main.tf:21: SRC-004 provisioner "local-exec" in terraform_data.x: runs' in refused
    assert 'main.tf:26: SRC-004 data "external" "env": runs a program' in refused
    assert failures and all("refused to apply" in text for text in failures.values())


def test_allow_exec_applies_what_would_otherwise_be_refused(tmp_path):
    if shutil.which("terraform") is None:
        pytest.skip("terraform not on PATH: install Terraform >= 1.11")
    marker = _drop_dir() / "ran"
    tree = _root_with(
        tmp_path,
        'resource "terraform_data" "x" {\n'
        f'  provisioner "local-exec" {{\n    command = "touch {marker}"\n  }}\n}}\n',
    )
    done = run_suite(
        str(SUITE),
        "-m",
        "live",
        "-k",
        "test_live and ALM",
        "--allow-exec",
        "--infra",
        str(tree),
        "--reports",
        str(tmp_path / "r"),
        timeout=600,
    )
    assert "refused to apply" not in done.stdout, done.stdout[-2000:]
    assert marker.exists(), done.stdout[-2000:]


@pytest.mark.parametrize("hidden", ["node_modules", ".venv", ".tox"])
def test_a_module_the_walk_does_not_read_never_runs(tmp_path, hidden):
    """Terraform once applied a copy of the whole tree: a module under a directory the walk
    skips ran its provisioner while the guard, which had not read it, passed."""
    marker = _drop_dir() / "ran"
    tree = _root_with(tmp_path, f'module "helper" {{\n  source = "../../../{hidden}/helper"\n}}\n')
    helper = tree / hidden / "helper"
    helper.mkdir(parents=True)
    (helper / "main.tf").write_text(
        'resource "terraform_data" "x" {\n'
        f'  provisioner "local-exec" {{\n    command = "touch {marker}"\n  }}\n}}\n'
    )
    done, failures = _live_alarms(tree, tmp_path)
    assert not marker.exists(), done.stdout[-2000:]
    assert f'main.tf:20: SRC-004 module "helper" source ../../../{hidden}/helper' in failures.get(
        "test_live[SRC-004]", ""
    ), done.stdout[-2000:]


class _Listener:
    """A TCP listener on loopback that records whether anything connected."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.done = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self):
        self.done = True
        self.thread.join(timeout=5)
        self.sock.close()


def test_no_credential_from_outside_the_tree_reaches_a_host_the_tree_names(tmp_path):
    """An aliased provider in a child module reads a credentials file outside the tree and
    names its own endpoints: the guard refuses both, nothing is sent."""
    credentials = tmp_path / "machine-credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIAOUTSIDETREE0001\naws_secret_access_key = s3cr3t\n"
    )
    listener = _Listener()
    try:
        tree = _root_with(tmp_path, 'module "logs" {\n  source = "../../modules/logs"\n}\n')
        logs = tree / "terraform" / "modules" / "logs"
        logs.mkdir(parents=True)
        (logs / "main.tf").write_text(
            'provider "aws" {\n  alias = "exfil"\n  region = "us-east-1"\n'
            f'  shared_credentials_files = ["{credentials}"]\n'
            f'  endpoints {{\n    sns = "http://127.0.0.1:{listener.port}"\n'
            f'    sts = "http://127.0.0.1:{listener.port}"\n  }}\n}}\n\n'
            'resource "aws_sns_topic" "t" {\n  provider = aws.exfil\n  name = "exfil"\n}\n'
        )
        done, failures = _live_alarms(tree, tmp_path)
    finally:
        listener.close()
    assert listener.received == [], done.stdout[-2000:]
    refused = failures.get("test_live[SRC-004]", "")
    assert 'main.tf:1: SRC-004 provider "aws" shared_credentials_files' in refused, refused
    assert 'main.tf:5: SRC-004 provider "aws" endpoints' in refused, refused
    assert "AKIAOUTSIDETREE0001" not in done.stdout


def test_remote_state_outside_the_tree_is_never_read(tmp_path):
    state = tmp_path / "prod.tfstate"
    state.write_text(
        json.dumps(
            {
                "version": 4,
                "terraform_version": "1.11.4",
                "serial": 1,
                "lineage": "x",
                "outputs": {"name": {"value": "c4n4ry-from-prod-state", "type": "string"}},
                "resources": [],
            }
        )
    )
    tree = _root_with(
        tmp_path,
        'data "terraform_remote_state" "prod" {\n  backend = "local"\n'
        f'  config = {{\n    path = "{state}"\n  }}\n}}\n\n'
        'resource "aws_sns_topic" "leak" {\n'
        "  name = data.terraform_remote_state.prod.outputs.name\n}\n",
    )
    done, failures = _live_alarms(tree, tmp_path)
    refused = failures.get("test_live[SRC-004]", "")
    assert 'main.tf:20: SRC-004 data "terraform_remote_state" "prod"' in refused, refused
    for report in ("junit.xml", "results.sarif", "summary.md"):
        assert "c4n4ry-from-prod-state" not in (tmp_path / "r" / report).read_text()
    assert "c4n4ry-from-prod-state" not in done.stdout


def test_a_provider_binary_in_the_tree_is_never_run(tmp_path, monkeypatch):
    """Without a filesystem mirror terraform searched the root's terraform.d/plugins (the
    implied local mirror) and ran the provider it found there."""
    from policies.targets import stack
    from policies.tfguard import guard
    from policies.tree import Tree

    if shutil.which("terraform") is None:
        pytest.skip("terraform not on PATH: install Terraform >= 1.11")
    marker = _drop_dir() / "ran"
    tree = _root_with(tmp_path, "")
    root = tree / "terraform" / "envs" / "pr"
    plugin = root / "terraform.d/plugins/registry.terraform.io/hashicorp/aws/9.9.9/linux_amd64"
    plugin.mkdir(parents=True)
    planted = plugin / "terraform-provider-aws_v9.9.9"
    planted.write_text(f"#!/bin/sh\ntouch {marker}\nsleep 1\n")
    planted.chmod(0o755)
    monkeypatch.setattr(stack, "find_mirror", lambda: None)
    sources = Sources(tree)
    roots = Tree(sources).terraform.roots
    ws = stack.workspace(tree, tmp_path / "work", guard(sources, roots))
    for step in (["init", "-backend=false", "-no-color"], ["validate", "-no-color"]):
        subprocess.run(
            [ws.terraform, *step], cwd=ws.root(root), env=ws.env, capture_output=True, timeout=120
        )
    assert not marker.exists()
    assert "provider_installation" in Path(ws.env["TF_CLI_CONFIG_FILE"]).read_text()


def test_platform_code_must_be_unambiguous_and_runs_on_local_only(tmp_path):
    marker = _drop_dir() / "imported"
    plant = (
        f"open({str(marker)!r}, 'w').close()\n\n"
        "def make_pool(*a, **k):\n    pass\n\n\ndef user_session(*a, **k):\n    pass\n"
    )
    infra = tmp_path / "infra"
    shutil.copytree(ROOT / "infra", infra)
    planted = infra / "services" / "aaa-helper" / "app" / "db" / "session.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(plant)
    args = ("-m", "live", "-k", "RLS-020-session-helper", "--infra", str(infra), "-rs")
    run_suite(str(SUITE), *args, "--reports", str(tmp_path / "local"), timeout=600)
    [failure] = junit_failures(tmp_path / "local" / "junit.xml").values()
    assert "session helper: exactly one module" in failure and "found 2" in failure
    assert str(planted) in failure and "user-service/app/db/session.py" in failure
    remote = run_suite(str(SUITE), *args, "--target", "aws", "--reports", str(tmp_path / "aws"))
    assert remote.returncode == 0 and "only on --target local" in remote.stdout, remote.stdout
    assert not marker.exists()


def test_migrations_cannot_run_programs(tmp_path):
    marker = _drop_dir() / "from-program"
    tree = tmp_path / "tree" / "db"
    tree.mkdir(parents=True)
    (tree / "001_init.sql").write_text(
        "CREATE TABLE notes (id int, owner_id uuid);\n"
        f"COPY notes (id) FROM PROGRAM 'touch {marker}';\n"
    )
    done = run_suite(
        str(SUITE),
        "-m",
        "live",
        "-k",
        "test_live and RLS-001",
        "--infra",
        str(tree.parent),
        "--reports",
        str(tmp_path / "r"),
    )
    failure = junit_failures(tmp_path / "r" / "junit.xml").get("test_live[RLS-001]", "")
    if "PostgreSQL server not found" in done.stdout:
        pytest.skip("PostgreSQL server not found: apt-get install postgresql")
    assert "001_init.sql:2: migration failed: 42501" in failure, done.stdout[-2000:]
    assert not marker.exists()


ESCALATIONS = {
    "grant": (
        "GRANT pg_execute_server_program TO CURRENT_USER;\n"
        "COPY notes (id) TO PROGRAM 'touch {marker}';\n"
    ),
    "dynamic grant and copy in one statement": (
        "DO $$ BEGIN\n"
        "  EXECUTE 'GRANT pg_execute_server_program TO ' || quote_ident(current_user);\n"
        "  EXECUTE 'COPY notes (id) TO PROGRAM ''touch {marker}''';\n"
        "END $$;\n"
    ),
    "a new role inside it": (
        "CREATE ROLE loader IN ROLE pg_execute_server_program;\n"
        "SET ROLE loader;\n"
        "COPY notes (id) TO PROGRAM 'touch {marker}';\n"
    ),
    "write server files": (
        "GRANT pg_write_server_files TO CURRENT_USER;\nCOPY notes (id) TO '{marker}';\n"
    ),
    "read server files": (
        "GRANT pg_read_server_files TO CURRENT_USER;\n"
        "CREATE TABLE stolen (line text);\n"
        "COPY stolen FROM '/etc/passwd';\n"
    ),
}


@pytest.fixture
def cluster():
    try:
        started = start_cluster()
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    yield started
    started.stop()


@pytest.mark.parametrize("path", sorted(ESCALATIONS))
def test_a_migration_cannot_grant_itself_the_servers_program_or_file_access(
    tmp_path, cluster, path
):
    """The migrator has CREATEROLE (migrations create roles); up to PostgreSQL 15 that would
    let it grant itself pg_execute_server_program and run a shell command as the server."""
    import psycopg

    marker = _drop_dir() / "escalated"
    db = tmp_path / "db"
    db.mkdir()
    (db / "001_init.sql").write_text(
        "CREATE TABLE notes (id int, owner_id uuid);\nINSERT INTO notes VALUES (1, NULL);\n"
        + ESCALATIONS[path].format(marker=marker)
    )
    failure = migrate(cluster, Sources(tmp_path))
    assert failure is not None and ": migration failed: 42501: " in failure, failure
    assert failure.startswith(f"{db / '001_init.sql'}:3:"), failure
    assert not marker.exists()
    with psycopg.connect(cluster.dsn()) as admin:
        members = admin.execute(
            "SELECT pg_get_userbyid(member) FROM pg_auth_members"
            " WHERE pg_get_userbyid(roleid) LIKE 'pg_%server%'"
        ).fetchall()
    assert members == []


WRITES = re.compile(
    r"statement: .*\b(INSERT|UPDATE|DELETE|TRUNCATE|COPY|CREATE|ALTER|DROP|GRANT|REVOKE)\b", re.I
)


def test_a_users_database_sees_no_write_without_allow_mutation(tmp_path):
    """A PostgreSQL logging every statement, with infra's schema: the live RLS family against
    it through --pg-dsn writes nothing; with --allow-mutation the isolation run does (so the
    log would show a write)."""
    try:
        cluster = start_cluster("-c log_statement=all")
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    try:
        assert migrate(cluster, Sources(ROOT / "infra")) is None
        log = cluster.workdir / "server.log"
        dsn = cluster.dsn(dbname="pingvas")

        def statements(*extra):
            start = log.stat().st_size
            run_suite(
                *suite("rls"),
                "-m",
                "live",
                "--pg-dsn",
                dsn,
                "--hypothesis-seed=1",
                "--reports",
                str(tmp_path / "r"),
                *extra,
                timeout=600,
            )
            with log.open("rb") as handle:
                handle.seek(start)
                return handle.read().decode(errors="replace")

        read_only = statements()
        assert "SELECT" in read_only  # the catalog was read
        assert not WRITES.search(read_only), WRITES.search(read_only).group(0)
        assert "read-only transaction" not in read_only
        allowed = statements("--allow-mutation")
        assert WRITES.search(allowed)
    finally:
        cluster.stop()


def _descendants(pid):
    """Every process below pid (by parent links in /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_bring_up_leaves_no_process_or_directory(tmp_path, sig):
    if shutil.which("terraform") is None:
        pytest.skip("terraform not on PATH: install Terraform >= 1.11")
    basetemp = tmp_path / "basetemp"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            *suite("alarms"),
            "-m",
            "live",
            "-k",
            "test_live",
            "--basetemp",
            str(basetemp),
            "--reports",
            str(tmp_path / "r"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until terraform applies (moto and a provider running)
        seen |= _descendants(run.pid)
        names = {Path(f"/proc/{p}/comm").read_text().strip() for p in seen if _alive(p)}
        if any(n.startswith("terraform-provi") for n in names) and len(seen) >= 3:
            break
        time.sleep(0.2)
    else:
        run.kill()
        pytest.fail(f"bring-up never reached terraform apply: {run.communicate()[0][-2000:]}")
    time.sleep(1)
    seen |= _descendants(run.pid)
    run.send_signal(sig)
    output = run.communicate(timeout=120)[0]
    time.sleep(0.5)
    survivors = [p for p in seen if _alive(p)]
    assert not survivors, (survivors, output[-2000:])
    assert not [p for p in basetemp.glob("local-stack*/*")], output[-2000:]


def test_unreachable_endpoint_fails_every_probe_in_one_line(tmp_path):
    done = run_suite(
        str(SUITE),
        "-m",
        "live",
        "-k",
        "ALM-011 or ALM-012 or (test_live and WAF-001)",
        "--aws-endpoint",
        "http://127.0.0.1:9",
        "--allow-mutation",
        "--reports",
        str(tmp_path / "r"),
        timeout=300,
    )
    assert done.returncode == 1
    failures = junit_failures(tmp_path / "r" / "junit.xml")
    assert set(failures) == {
        "test_live[ALM-011]",
        "test_live[ALM-012]",
        "test_live[WAF-001]",
    }, failures
    for name, text in failures.items():
        assert "Traceback" not in text and len(text.strip().splitlines()) <= 3, (name, text)
        assert "127.0.0.1:9" in text, text


def test_a_dsn_libpq_cannot_parse_is_not_echoed(tmp_path):
    password = "Sup3r-s3cret-pw-4411"
    done = run_suite(
        *suite("rls"),
        "-m",
        "live",
        "-k",
        "test_live and RLS-001",
        "--pg-dsn",
        f"host=db.example user=app password={password} dbname",
        "--reports",
        str(tmp_path / "r"),
    )
    assert done.returncode == 1
    assert "--pg-dsn cannot be parsed by libpq" in done.stdout
    outputs = [done.stdout, done.stderr, *(p.read_text() for p in (tmp_path / "r").iterdir())]
    assert not any(password in text for text in outputs)


def test_target_env_of_the_machine_never_reaches_terraform(tmp_path, monkeypatch):
    """The workspace's environment: no AWS credential, profile or TF_VAR of the caller."""
    from policies.targets.stack import workspace

    if shutil.which("terraform") is None:
        pytest.skip("terraform not on PATH: install Terraform >= 1.11")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "machine-key")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("TF_VAR_db_password", "machine-password")
    tree = tmp_path / "tree"
    tree.mkdir()
    env = workspace(tree, tmp_path / "work").env
    assert not {"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "TF_VAR_db_password"} & set(env)
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull


def test_the_terraform_workspace_copies_no_link_out_of_the_tree(tmp_path):
    from policies.targets.stack import workspace

    outside = tmp_path / "outside.txt"
    outside.write_text("not the tree's\n")
    tree = tmp_path / "tree"
    (tree / "modules").mkdir(parents=True)
    (tree / "main.tf").write_text('locals {\n  x = file("${path.module}/leak.txt")\n}\n')
    (tree / "leak.txt").symlink_to(outside)
    (tree / "modules" / "main.tf").symlink_to(tree / "main.tf")  # inside: copied
    try:
        copy = workspace(tree, tmp_path / "work").copy
    except StackUnavailable as exc:  # no terraform on PATH: nothing is copied for it
        pytest.skip(str(exc))
    assert not (copy / "leak.txt").exists()
    assert (copy / "modules" / "main.tf").read_text() == (tree / "main.tf").read_text()
