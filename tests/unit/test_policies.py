"""Every static policy catches its known-bad fixture at exactly the marked lines and passes the
known-good ones (`fixtures/<family>/bad/<ID>/`, `fixtures/<family>/good/*/`); the guide's files
(fixtures/seed) fail as the brief lists."""

from pathlib import Path

import pytest

from policies.alarms.static import read_static as read_alarms
from policies.catalog import load_catalog, policy_ids
from policies.k8s.schemas import validate_manifests
from policies.logging.static import read_static as read_logging
from policies.metrics.static import read_static as read_metrics
from policies.pipeline.static import read_static as read_pipeline
from policies.registry import all_checks
from policies.rls.static import read_static as read_rls
from policies.secrets.static import read_static as read_secrets
from policies.sources import Sources
from policies.terraform import load_project
from policies.waf.static import read_static as read_waf
from policies.yamlfile import load_yaml_files
from tests.helpers import FIXTURES, expected_lines, finding_lines

READERS = {  # each reads a tree of files (a Sources) into its family's inventory
    "waf": lambda tree: read_waf(load_project(tree)),
    "rls": read_rls,
    "secrets": lambda tree: read_secrets(load_project(tree), _yaml(tree)),
    "alarms": lambda tree: read_alarms(load_project(tree)),
    "metrics": lambda tree: read_metrics(tree, _yaml(tree)),
    "pipeline": lambda tree: read_pipeline(tree, _yaml(tree)),
    "logging": lambda tree: read_logging(_yaml(tree)),
    "k8s": lambda tree: validate_manifests(
        _yaml(tree), load_catalog()["K8S-001"].params["kubernetes_version"]
    ),
}


def _yaml(tree: Sources):
    errors: list = []
    files = load_yaml_files(tree, errors)
    assert not errors, errors
    return files


CHECKS = all_checks()
STATIC = [(family, pid) for family in READERS for pid in policy_ids(family, "static")]
GOOD = [
    (family, good.name, pid)
    for family, pid in STATIC
    for good in sorted((FIXTURES / family / "good").iterdir())
]


def findings(family: str, directory: Path, policy_id: str):
    inventory = READERS[family](Sources(directory))
    assert not getattr(inventory, "errors", []), inventory.errors
    return CHECKS[policy_id](inventory, load_catalog()[policy_id])


def test_every_catalog_policy_has_a_body():
    special = {  # bodies in tests/verify
        "WAF-011": "drift",
        "WAF-013": "attack probe (--waf-probe-url)",
        "RLS-020": "isolation",
        "SEC-010": "rotation",
        "ALM-010": "drift",
        "ALM-011": "delivery",
        "MET-020": "targets",
        "MET-021": "queries",
        "MET-022": "GPU labels",
        "K8S-010": "recorded answers (tests/unit/test_kube.py)",
        "K8S-011": "recorded answers",
        "K8S-012": "recorded answers",
        "ALM-012": "forced alarm",
    }
    missing = [pid for pid in load_catalog() if pid not in CHECKS and pid not in special]
    # the sources policies are the gatekeeper's results (tests/verify/test_sources.py)
    assert missing == ["SRC-001", "SRC-002", "SRC-003", "SRC-004"], missing


@pytest.mark.parametrize(("family", "policy_id"), STATIC, ids=[p for _, p in STATIC])
def test_known_bad(family, policy_id):
    directory = FIXTURES / family / "bad" / policy_id
    assert directory.is_dir(), f"no known-bad fixture {directory}"
    expected = expected_lines(directory, policy_id)
    assert expected, f"{directory} marks no line with 'expect: {policy_id}'"
    assert finding_lines(findings(family, directory, policy_id)) == expected


@pytest.mark.parametrize(
    ("family", "good", "policy_id"), GOOD, ids=[f"{g}-{p}" for _, g, p in GOOD]
)
def test_known_good(family, good, policy_id):
    directory = FIXTURES / family / "good" / good
    assert finding_lines(findings(family, directory, policy_id)) == expected_lines(
        directory, policy_id
    )


def _seed(family):
    inventory = READERS[family](Sources(FIXTURES / "seed"))
    return {
        pid: CHECKS[pid](inventory, load_catalog()[pid]) for pid in policy_ids(family, "static")
    }


def test_guide_waf_defects_are_reported():
    found = _seed("waf")
    text = {pid: " | ".join(f"{f.message} {f.actual}" for f in fs) for pid, fs in found.items()}
    assert "IPReputationList" in text["WAF-001"] and "GeoBlocking" in text["WAF-001"]
    assert "AWSManagedRulesKnownBadInputsRuleSet is missing" in text["WAF-005"]
    assert "SizeRestrictions_BODY is counted site-wide" in text["WAF-012"]
    assert "SizeRestrictions_BODY" in text["WAF-006"]
    assert "authorization, cookie" in text["WAF-008"]
    assert "destination s3" in text["WAF-009"]
    assert "role ${aws_iam_role.firehose.arn} does not exist" in text["WAF-009"]
    assert "bucket ${aws_s3_bucket.waf_logs.arn} does not exist" in text["WAF-009"]


def test_guide_rls_defects_are_reported():
    found = _seed("rls")
    tables = {f"dev_pingvas.{t}" for t in ("users", "images", "boards", "credit_transactions")}
    assert {f.resource for f in found["RLS-002"]} == tables
    assert len(found["RLS-005"]) == 11  # every policy reads the setting strictly
    assert {f.resource.split("/")[0] for f in found["RLS-006"]} == tables - {"dev_pingvas.users"}
    assert any("session" in f.message for f in found["RLS-009"])
    assert [f.message for f in found["RLS-010"]] == ["SQL built by f-string"]
    assert {f.message.split("'")[1] for f in found["RLS-011"]} == {
        "g",
        "text",
        "settings",
        "SessionLocal",
    }


def test_guide_secrets_defects_are_reported():
    found = _seed("secrets")
    names = {"db-credentials", "jwt-secret", "lemon-squeezy"}
    assert {f.resource.rsplit("/", 1)[-1] for f in found["SEC-001"]} == names  # no rotation
    assert {f.resource.rsplit("/", 1)[-1] for f in found["SEC-002"]} == names  # no CMK
    assert any("random_password" in f.message for f in found["SEC-005"])
    [missing_url] = found["SEC-006"]
    assert "property 'url' is not a key" in missing_url.message
    assert str(missing_url.location).endswith("db-credentials.yaml:20")
    assert "modules/secrets/main.tf:13" in missing_url.message  # where the JSON keys are
    assert any(f.resource == "grafana.adminPassword" for f in found["SEC-004"])


def test_guide_alarm_defects_are_reported():
    found = _seed("alarms")
    assert len(found["ALM-006"]) == 4  # no treat_missing_data anywhere
    assert len([f for f in found["ALM-003"] if "ok_actions" in f.message]) == 4
    assert [f.actual for f in found["ALM-007"]] == ["80.0 connections"]  # absolute
    assert [f.resource for f in found["ALM-008"]] == ["${var.environment}-eks-cpu-high"]
    assert [f.actual for f in found["ALM-005"]] == ["unencrypted"]


def test_guide_metrics_defects_are_reported():
    found = _seed("metrics")
    assert [f.message.split(" comes")[0] for f in found["MET-001"]] == ["DCGM_FI_DEV_GPU_UTIL"]
    assert len(found["MET-003"]) == 3  # p50, p95, p99 without sum by (le)
    assert [f.resource for f in found["MET-005"]] == ["credits_consumed_total"]  # user_id
    assert [f.actual for f in found["MET-009"]] == ["generate_latest()"]  # bytes -> JSON
    assert len(found["MET-007"]) == 1  # adminPassword: admin123
    assert {f.message for f in found["MET-008"]} >= {
        "panel 'GPU Utilization' has no type",
        'dashboard wrapped in {"dashboard": ...} (the HTTP API\'s format)',
    }


def test_guide_pipeline_and_logging_defects_are_reported():
    pipeline, logging = _seed("pipeline"), _seed("logging")
    refs = {f.actual for f in pipeline["PIPE-001"]}
    assert {"master", "main", "v4", "v2", "v3"} <= refs  # @master/@main/tags
    assert any("trivy-action can never fail" in f.message for f in pipeline["PIPE-003"])
    assert len(pipeline["PIPE-002"]) == 2  # no permissions anywhere
    assert [f.message for f in pipeline["PIPE-007"]] == [
        "env.ECR_REGISTRY is used but never defined"
    ]
    assert {f.actual for f in pipeline["PIPE-008"]} == {"v2", "v3"}  # upload-artifact@v3
    assert pipeline["PIPE-004"]  # no pull_request trigger
    assert len(pipeline["PIPE-006"]) == 3  # unpinned helm charts
    assert logging["LOG-001"] and logging["LOG-002"] and logging["LOG-003"]
