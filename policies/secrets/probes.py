"""SEC-010, on the live tier: an end-to-end rotation of the database credential through the
project's own rotation handler, against the deployed secret and the embedded PostgreSQL."""

from __future__ import annotations

import json
import types
import uuid
from typing import Any

import pytest

from policies.lazy import Lazy
from policies.model import Finding, Policy, resource
from policies.posture import require_local_code, require_write
from policies.pycode import find_modules, import_file, platform_module
from policies.redact import register
from policies.registry import NotApplicable, probe
from policies.sources import Sources
from policies.targets.postgres import DATABASE

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
HANDLER = ({"lambda_handler"}, ("setSecret", "psycopg"))


def _database_credential(inventory: Any) -> str | None:
    if any({"username", "password", "host"} <= set(s.json_keys or []) for s in inventory.secrets):
        return None
    return "no secret declares a database credential (username, password, host)"


@probe(
    "SEC-010",
    needs=("pytestconfig", "aws_target", "pg_cluster", "secrets_static", "sources", "monkeypatch"),
    applies=_database_credential,
)
def rotates_end_to_end(
    policy: Policy,
    pytestconfig: pytest.Config,
    aws_target: Lazy[Any],
    pg_cluster: Lazy[Any],
    secrets_static: Any,
    sources: Sources,
    monkeypatch: pytest.MonkeyPatch,
) -> list[Finding]:
    """The four steps of the project's handler: AWSCURRENT moves, AWSPREVIOUS keeps the old
    version, the new password logs in and the old one no longer does. Then a rotation whose
    testSecret fails (setSecret skipped, so the database refuses) leaves AWSCURRENT alone."""
    if not find_modules(sources, *HANDLER):
        raise NotApplicable("no PostgreSQL rotation handler (lambda_handler) in the tree")
    db_rotation = _prepare(
        pytestconfig, aws_target, pg_cluster, secrets_static, sources, monkeypatch
    )
    old = _stages(db_rotation)["AWSCURRENT"]
    token = _start(db_rotation)
    problems = []
    for step in STEPS:
        try:
            _step(db_rotation, token, step)
        except Exception as exc:  # noqa: BLE001 - the step that fails is the finding
            problems.append(f"{step} raised {type(exc).__name__}")
            break
    stages = _stages(db_rotation)
    expectations = [
        (
            stages.get("AWSCURRENT") == token,
            "AWSCURRENT on the new version",
            "AWSCURRENT on " + str(stages.get("AWSCURRENT")),
        ),
        (
            stages.get("AWSPREVIOUS") == old,
            "AWSPREVIOUS on the old version",
            "AWSPREVIOUS on " + str(stages.get("AWSPREVIOUS")),
        ),
        (not problems and _logs_in(db_rotation, token), "the new password logs in", "refused"),
        (not _logs_in(db_rotation, old), "the old password is refused", "still logs in"),
    ]
    problems += [f"expected {want}, got {got}" for ok, want, got in expectations if not ok]

    failing = _start(db_rotation)
    _step(db_rotation, failing, "createSecret")
    try:
        _step(db_rotation, failing, "testSecret")
        problems.append("testSecret passed although setSecret never ran")
    except Exception:  # noqa: BLE001 - expected: the database refuses the pending password
        pass
    if _stages(db_rotation).get("AWSCURRENT") != token:
        problems.append("a failed testSecret moved AWSCURRENT")
    return [
        Finding(
            policy.id,
            resource("secret", db_rotation.arn),
            p,
            "a complete, verified rotation",
            p,
            db_rotation.location,
        )
        for p in problems
    ]


def _prepare(
    pytestconfig: pytest.Config,
    aws_target: Lazy[Any],
    pg_cluster: Lazy[Any],
    secrets_static: Any,
    sources: Sources,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """The deployed DB credential pointed at the embedded PostgreSQL (the app role's password
    set to the current value), and the project's PostgreSQL rotation handler, imported (on
    --target local only, from one unambiguous module)."""
    require_local_code(pytestconfig, "the rotation handler")
    require_write(pytestconfig, "aws", "the rotation (it changes the deployed secret)")
    if pytestconfig.getoption("--pg-dsn"):
        pytest.skip(
            "the rotation sets the app role's password: it needs the embedded PostgreSQL "
            "(run without --pg-dsn)"
        )
    handler = platform_module(sources, *HANDLER, "PostgreSQL rotation handler")
    declared = [
        s
        for s in secrets_static.secrets
        if {"username", "password", "host"} <= set(s.json_keys or [])
    ]
    if not declared:
        pytest.fail(
            "no secret declares a database credential (username, password, host)",
            pytrace=False,
        )
    target, cluster = aws_target.get(), pg_cluster.get()
    sm = target.client("secretsmanager")
    described = [
        d
        for page in sm.get_paginator("list_secrets").paginate()
        for d in page["SecretList"]
        if declared[0].matches(d["Name"])
    ]
    if not described or not described[0].get("RotationEnabled"):
        pytest.fail(
            f"{declared[0].name}: not deployed with rotation at {target.endpoint}",
            pytrace=False,
        )
    arn, lambda_arn = described[0]["ARN"], described[0]["RotationLambdaARN"]
    value = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    register(value["password"])
    import psycopg  # imported by the live tests only: a static run stays light
    from psycopg import sql

    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
                sql.Identifier(value["username"]), sql.Literal(value["password"])
            )
        )
    value.update(host="127.0.0.1", port=cluster.port, dbname=DATABASE)
    replace_current_secret(sm, arn, json.dumps(value))
    monkeypatch.setenv("SECRETS_MANAGER_ENDPOINT", target.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", target.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return types.SimpleNamespace(
        sm=sm,
        arn=arn,
        lambda_arn=lambda_arn,
        handler=import_file(handler),
        location=declared[0].location,
    )


def _stages(rotation: Any) -> dict[str, str]:
    versions = rotation.sm.describe_secret(SecretId=rotation.arn)["VersionIdsToStages"]
    return {stage: version for version, stages in versions.items() for stage in stages}


def _logs_in(rotation: Any, version_id: str) -> bool:
    value = json.loads(
        rotation.sm.get_secret_value(SecretId=rotation.arn, VersionId=version_id)["SecretString"]
    )
    register(value["password"])
    import psycopg

    try:
        with psycopg.connect(
            host=value["host"],
            port=value["port"],
            user=value["username"],
            password=value["password"],
            dbname=value["dbname"],
            connect_timeout=5,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def _start(rotation: Any) -> str:
    token = str(uuid.uuid4())
    rotation.sm.rotate_secret(
        SecretId=rotation.arn, ClientRequestToken=token, RotationLambdaARN=rotation.lambda_arn
    )
    return token


def _step(rotation: Any, token: str, step: str) -> None:
    rotation.handler.lambda_handler(
        {"SecretId": rotation.arn, "ClientRequestToken": token, "Step": step}, None
    )


def replace_current_secret(sm: Any, arn: str, value: str) -> str:
    """Make `value` the AWSCURRENT version of a secret the way rotation does it: a new version,
    then the AWSCURRENT label moved onto it (moto leaves two AWSCURRENT labels when a plain
    put_secret_value follows a rotation). Returns the new version id."""
    old = sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["VersionId"]
    new = str(uuid.uuid4())
    sm.put_secret_value(
        SecretId=arn, ClientRequestToken=new, SecretString=value, VersionStages=["PINGVAS_SELFTEST"]
    )
    sm.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=new, RemoveFromVersionId=old
    )
    return new
