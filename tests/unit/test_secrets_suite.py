"""The secrets family end to end: a renamed JSON key breaks the ExternalSecret check naming both
files, and no secret value read from a target or written in infra reaches any output."""

import json

import pytest

from policies.secrets.probes import replace_current_secret
from tests.helpers import SUITE, failures_on_copy, infra_copy, run_suite, suite

SECRETS_MODULE = "terraform/modules/secrets/main.tf"


def test_renamed_secret_key_fails_the_external_secret_check_naming_both_files(tmp_path):
    done, failures = failures_on_copy(
        tmp_path,
        SECRETS_MODULE,
        "    dbname   = var.db_name",
        "    database = var.db_name",
        *suite("secrets"),
        "-m",
        "static",
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert set(failures) == {"test_static[SEC-006]"}, failures
    message = failures["test_static[SEC-006]"]
    assert "k8s/secrets/db-credentials.yaml:46" in message  # the property line
    assert f"{SECRETS_MODULE}:48" in message  # where the secret's JSON keys are declared
    assert "'dbname'" in message and "database" in message


@pytest.mark.live
def test_no_secret_value_reaches_any_output(tmp_path, aws_target, secrets_static):
    """Canaries: a password in the deployed DB credential (read and rotated by the live tier)
    and one written in a container env entry of Helm values (reported by SEC-004). Neither,
    nor the rotated password, may appear in the terminal output, JUnit, SARIF or the summary."""
    aws_target = aws_target.get()
    if aws_target.endpoint is None:
        pytest.skip("plants a canary in a deployed secret: runs only against a local endpoint")
    canary_values = "canary-helm-7c1e0b9a"
    infra = infra_copy(
        tmp_path,
        "k8s/monitoring/dcgm-exporter-values.yaml",
        "kubeletPath:",
        f"extraEnv:\n  - name: DCGM_REMOTE_PASSWORD\n    value: {canary_values}\nkubeletPath:",
    )
    sm = aws_target.client("secretsmanager")
    db = next(s for s in secrets_static.secrets if "password" in (s.json_keys or []))
    arn = next(d["ARN"] for d in sm.list_secrets()["SecretList"] if db.matches(d["Name"]))
    value = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    canary_secret = "canary-secret-52d8f3e1"
    replace_current_secret(sm, arn, json.dumps({**value, "password": canary_secret}))
    reports = tmp_path / "reports"
    done = run_suite(
        str(SUITE),
        "--infra",
        str(infra),
        "--aws-endpoint",
        aws_target.endpoint,
        "--allow-mutation",
        "--reports",
        str(reports),
        "-rA",
        timeout=600,
    )
    rotated = json.loads(
        sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )["password"]
    assert rotated != canary_secret, "the live tier did not rotate the credential"
    outputs = {"terminal": done.stdout + done.stderr}
    outputs |= {p.name: p.read_text() for p in reports.iterdir()}
    assert {"junit.xml", "results.sarif", "summary.md"} <= set(outputs)
    assert "SEC-004" in outputs["results.sarif"]  # the planted Helm value was reported ...
    for name, text in outputs.items():  # ... without its value
        for secret in (canary_values, canary_secret, rotated):
            assert secret not in text, f"a secret value appears in {name}"
