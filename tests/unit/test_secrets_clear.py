"""SEC-004 on every file a credential can be written in: which names are credentials, which
values are references, where it applies, that the repository's configuration sets its lists,
and that no value it reads reaches a finding."""

from pathlib import Path

import pytest

from policies.catalog import load_catalog
from policies.config import config_path, load_config
from policies.registry import all_checks, applicability, cases, families
from policies.secrets.clear import Rules
from policies.sources import Sources
from policies.tree import Tree
from tests.helpers import FIXTURES

CATALOG = load_catalog()
POLICY = CATALOG["SEC-004"]
RULES = Rules.of(POLICY.id, POLICY.params)
FAMILY = families()["secrets"]
CHECK = all_checks()["SEC-004"]
BAD = sorted((FIXTURES / "secrets" / "bad").glob("SEC-004*"))


def _inventory(directory: Path):
    return FAMILY.read(Tree(Sources(directory)))


@pytest.mark.parametrize(
    "name",
    [
        "POSTGRES_PASSWORD",
        "postgresPassword",
        "PGPASSWORD",
        "DB_PASS",
        "api-key",
        "APIKey",
        "JWT_SECRET_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "clientSecret",
        "auth_token",
        "secret_string",
        "master_password",
    ],
)
def test_credential_names(name):
    assert RULES.secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "existingSecret",
        "existingSecretPasswordKey",
        "passwordSecretKey",
        "userPasswordKey",
        "tlsSecret",
        "imagePullSecret",
        "secretName",
        "bypass",
        "MAX_TOKENS",
        "password_length",
        "secret_id",
    ],
)
def test_names_that_point_at_a_credential_or_are_not_one(name):
    assert not RULES.secret_name(name)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "${POSTGRES_PASSWORD}",
        "${POSTGRES_PASSWORD:?set it}",
        "${SENTRY_DSN:-}",
        "$JWT_SECRET",
        "$(DB_PASSWORD)",
        "{{ .Values.db.password }}",
        "{{ vault_db_password }}",
        "<your-password>",
        "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]",
        "ref+vault://secret/data/db#password",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
        "op://platform/db/password",
        "****",
        42,
    ],
)
def test_references_and_placeholders_are_not_values(value):
    assert RULES.clear(value) is None


@pytest.mark.parametrize(
    ("value", "how"),
    [
        ("postgres", "a literal value"),
        ("changeme", "a literal value"),  # a weak default is still the running credential
        ("REPLACE_ME", "a literal value"),
        (123456, "a literal number"),
        ("${REDIS_PASSWORD:-changeme}", "a literal default (used whenever the variable is unset)"),
    ],
)
def test_literals_and_literal_defaults_are_values(value, how):
    assert RULES.clear(value) == how


@pytest.mark.parametrize(
    ("url", "clear"),
    [
        ("postgres://shop:s3cret@db:5432/shop", True),
        ("redis://:s3cret@redis:6379/0", True),
        ("mongodb+srv://app:${MONGO_PASSWORD:-dev}@cluster0/app", True),
        ("postgres://shop:${POSTGRES_PASSWORD}@db:5432/shop", False),
        ("postgres://orders:$(DB_PASSWORD)@db/orders", False),
        ("postgresql://{{ .username }}:{{ .password }}@db/shop", False),
        ("https://grafana.example.com/d/abc", False),
        ("redis://cache:6379/0", False),
    ],
)
def test_database_urls(url, clear):
    assert (RULES.url_password(url) is not None) is clear


def test_grafana_admin_password_is_left_to_met_007():
    assert RULES.owned_elsewhere(("kube-prometheus-stack", "grafana", "adminPassword"))
    assert RULES.owned_elsewhere(("spec", "values", "grafana", "adminPassword"))
    assert RULES.owned_elsewhere(("grafana", "grafana.ini", "security", "admin_password"))
    assert RULES.owned_elsewhere(
        ("services", "grafana", "environment", "GF_SECURITY_ADMIN_PASSWORD")
    )
    assert not RULES.owned_elsewhere(("redis", "auth", "password"))
    assert not RULES.owned_elsewhere(("keycloak", "auth", "adminPassword"))
    found = CHECK(_inventory(FIXTURES / "secrets" / "bad" / "SEC-004.values-bitnami"), POLICY)
    assert {f.resource.name for f in found} == {
        "postgresql.auth.postgresPassword",
        "postgresql.auth.password",
        "redis.auth.password",
    }


def test_findings_name_the_key_path_and_the_manifest():
    found = CHECK(_inventory(FIXTURES / "secrets" / "bad" / "SEC-004.deployment-env"), POLICY)
    assert {f.resource.names for f in found} == {
        ("Deployment orders", "spec.template.spec.containers[app].env[DB_PASSWORD]"),
        (
            "CronJob orders-backup",
            "spec.jobTemplate.spec.template.spec.containers[pg-dump].env[PGPASSWORD]",
        ),
    }
    compose = CHECK(_inventory(FIXTURES / "secrets" / "bad" / "SEC-004.compose-list"), POLICY)
    assert "services.mysql.environment[MYSQL_PASSWORD]" in {f.resource.name for f in compose}


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_no_value_reaches_a_finding(case):
    inventory = _inventory(case)
    found = CHECK(inventory, POLICY)
    where = {(f.location.path, f.location.line) for f in found}
    values = {
        str(w.value)
        for w in inventory.written
        if (w.location.path, w.location.line) in where and len(str(w.value)) >= 4
    }
    assert values
    for finding in found:
        text = f"{finding.message} {finding.expected} {finding.actual}"
        assert not [v for v in values if v in text], finding.location


def test_a_compose_file_alone_makes_sec_004_apply_and_not_the_others(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: postgres:16\n    environment:\n"
        "      POSTGRES_PASSWORD: postgres\n"
    )
    inventory = _inventory(tmp_path)
    reasons = {
        case.policy_id: applicability(case, FAMILY, inventory)
        for case in cases(CATALOG)
        if case.policy_id.startswith("SEC-") and case.tier == "static"
    }
    assert reasons.pop("SEC-004") is None
    assert all(reasons.values()), reasons  # no Secrets Manager secret, ExternalSecret, state
    assert [f.location.line for f in CHECK(inventory, POLICY)] == [5]


def test_an_empty_tree_is_not_applicable(tmp_path):
    (tmp_path / "README.md").write_text("nothing here\n")
    assert not FAMILY.present(_inventory(tmp_path))


def test_the_repositorys_configuration_sets_the_names_and_placeholders(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: app:1\n    environment:\n"
        "      SIGNING_SEED: 0f3c9a1e7b2d\n"
        "      DB_PASSWORD: vault-injected\n"
    )
    (tmp_path / "pingvas-policy.toml").write_text(
        '[policy.SEC-004]\nsecret_names = ["password", "seed"]\nplaceholders = ["vault-injected"]\n'
    )
    config = load_config(config_path(tmp_path, None), CATALOG, set(families()))
    policy = config.effective(CATALOG)["SEC-004"]
    found = CHECK(_inventory(tmp_path), policy)
    assert [f.resource.name for f in found] == ["services.app.environment.SIGNING_SEED"]


def test_a_pattern_that_is_not_a_regular_expression_is_one_error():
    params = {**POLICY.params, "references": ["(unclosed"]}
    with pytest.raises(ValueError, match="SEC-004 references: not a regular expression"):
        Rules.of("SEC-004", params)


@pytest.mark.parametrize(
    "case",
    sorted((FIXTURES / "metrics" / "bad").glob("MET-007*")),
    ids=lambda c: c.name,
)
def test_met_007s_grafana_passwords_are_not_reported_twice(case):
    assert CHECK(_inventory(case), POLICY) == []
