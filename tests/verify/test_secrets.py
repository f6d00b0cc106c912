"""The secrets policies on --infra (static) and on the --target (live), and an end-to-end
rotation of the database credential through the project's own rotation handler."""

import json
import types
import uuid

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.model import Finding
from policies.posture import require_local_code, require_write
from policies.pycode import import_file, platform_module
from policies.redact import register
from policies.registry import all_checks
from tests.helpers import replace_current_secret

CHECKS = all_checks()


def _require_secrets(inventory, where):
    if not inventory.secrets:
        pytest.fail(f"no aws_secretsmanager_secret found in {where}", pytrace=False)


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("secrets", "static"))
def test_static(policy, secrets_static, infra_dir, gate):
    _require_secrets(secrets_static, f"the Terraform under {infra_dir}")
    gate(policy, CHECKS[policy](secrets_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", [p for p in policy_ids("secrets", "live") if p in CHECKS])
def test_live(policy, secrets_live, gate):
    inventory = secrets_live.get()
    _require_secrets(inventory, "the target")
    gate(policy, CHECKS[policy](inventory, load_catalog()[policy]))


STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture
def db_rotation(pytestconfig, aws_target, pg_cluster, secrets_static, sources, monkeypatch):
    """Prepares, in the test's call phase: the deployed DB credential pointed at the embedded
    PostgreSQL (the app role's password set to the current value), and the project's own
    PostgreSQL rotation handler, imported (on --target local only, from one unambiguous
    module)."""

    def prepare():
        require_local_code(pytestconfig, "the rotation handler")
        require_write(pytestconfig, "aws", "the rotation (it changes the deployed secret)")
        if pytestconfig.getoption("--pg-dsn"):
            pytest.skip(
                "the rotation sets the app role's password: it needs the embedded PostgreSQL "
                "(run without --pg-dsn)"
            )
        handler = platform_module(
            sources, {"lambda_handler"}, ("setSecret", "psycopg"), "PostgreSQL rotation handler"
        )
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
        value = json.loads(
            sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
        )
        register(value["password"])
        import psycopg  # imported by the live tests only: a static run stays light
        from psycopg import sql

        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
                    sql.Identifier(value["username"]), sql.Literal(value["password"])
                )
            )
        value.update(host="127.0.0.1", port=cluster.port, dbname="pingvas")
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

    return prepare


def _stages(rotation):
    versions = rotation.sm.describe_secret(SecretId=rotation.arn)["VersionIdsToStages"]
    return {stage: version for version, stages in versions.items() for stage in stages}


def _logs_in(rotation, version_id):
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


def _start(rotation):
    token = str(uuid.uuid4())
    rotation.sm.rotate_secret(
        SecretId=rotation.arn, ClientRequestToken=token, RotationLambdaARN=rotation.lambda_arn
    )
    return token


def _step(rotation, token, step):
    rotation.handler.lambda_handler(
        {"SecretId": rotation.arn, "ClientRequestToken": token, "Step": step}, None
    )


@pytest.mark.live
@pytest.mark.parametrize("policy", ["SEC-010"])
def test_db_credential_rotates_end_to_end(policy, db_rotation, gate):
    """The four steps of the project's handler: AWSCURRENT moves, AWSPREVIOUS keeps the old
    version, the new password logs in and the old one no longer does. Then a rotation whose
    testSecret fails (setSecret skipped, so the database refuses) leaves AWSCURRENT alone."""
    db_rotation = db_rotation()
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
    gate(
        policy,
        [
            Finding(
                policy, db_rotation.arn, p, "a complete, verified rotation", p, db_rotation.location
            )
            for p in problems
        ],
    )
