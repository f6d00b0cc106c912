"""Every static policy catches each of its known-bad fixtures at exactly the marked lines and
passes the known-good ones (`fixtures/<family>/bad/<ID>/` and `bad/<ID>.<case>/`, one per way
the policy can fail; `fixtures/<family>/good/*/`); a fixture with a pingvas-policy.toml is
checked with its parameters. The guide's files (fixtures/seed) fail as the brief lists."""

from pathlib import Path

import pytest

from policies.catalog import load_catalog
from policies.config import config_path, load_config
from policies.registry import all_checks, bodies, cases, families
from policies.sources import Sources
from policies.tree import Tree
from tests.helpers import FIXTURES, expected_lines, finding_lines

CATALOG = load_catalog()
CHECKS = all_checks()
FAMILIES = families()
STATIC = [p for p in CATALOG.values() if "static" in p.tiers and p.id in CHECKS]
BAD = [
    (policy, case)
    for policy in STATIC
    for case in sorted((FIXTURES / policy.family / "bad").glob(f"{policy.id}*"))
    if case.name == policy.id or case.name.startswith(f"{policy.id}.")
]
GOOD = [
    (policy, good)
    for policy in STATIC
    if (FIXTURES / policy.family / "good").is_dir()
    for good in sorted((FIXTURES / policy.family / "good").iterdir())
]


def findings(directory: Path, policy_id: str):
    """The policy's findings on a fixture tree (which must read and parse without problems)."""
    sources = Sources(directory)
    policy = load_config(config_path(directory, None), CATALOG, set(FAMILIES)).effective(CATALOG)[
        policy_id
    ]
    if policy.family != "sources":
        assert not sources.check_all(), sources.check_all()
    inventory = FAMILIES[policy.family].read(Tree(sources))
    assert not getattr(inventory, "errors", []), inventory.errors
    return CHECKS[policy_id](inventory, policy)


def test_every_catalog_policy_has_a_body_and_every_body_a_policy():
    found = {case.policy_id for case in cases(CATALOG)}
    assert found == set(CATALOG)
    registry = bodies()
    assert set(registry.checks) | set(registry.probes) == set(CATALOG)


def test_a_policy_without_a_body_is_an_error():
    from dataclasses import replace

    orphan = replace(CATALOG["WAF-001"], id="WAF-999")
    with pytest.raises(LookupError, match="WAF-999: in the catalog but no check or probe"):
        cases({**CATALOG, "WAF-999": orphan})


def test_every_static_policy_has_a_known_bad_fixture():
    missing = [p.id for p in STATIC if not any(b[0].id == p.id for b in BAD)]
    assert missing == [], missing


@pytest.mark.parametrize(("policy", "case"), BAD, ids=[c.name for _, c in BAD])
def test_known_bad(policy, case):
    expected = expected_lines(case, policy.id)
    assert expected, f"{case} marks no line with 'expect: {policy.id}'"
    assert finding_lines(findings(case, policy.id)) == expected


@pytest.mark.parametrize(("policy", "good"), GOOD, ids=[f"{g.name}-{p.id}" for p, g in GOOD])
def test_known_good(policy, good):
    assert finding_lines(findings(good, policy.id)) == expected_lines(good, policy.id)


def _seed(family):
    inventory = FAMILIES[family].read(Tree(Sources(FIXTURES / "seed")))
    return {p.id: CHECKS[p.id](inventory, p) for p in STATIC if p.family == family}


def test_guide_waf_defects_are_reported():
    found = _seed("waf")
    text = {pid: " | ".join(f"{f.message} {f.actual}" for f in fs) for pid, fs in found.items()}
    assert "IPReputationList" in text["WAF-001"] and "GeoBlocking" in text["WAF-001"]
    assert "AWSManagedRulesKnownBadInputsRuleSet is missing" in text["WAF-005"]
    assert "SizeRestrictions_BODY is counted site-wide" in text["WAF-012"]
    assert "SizeRestrictions_BODY" in text["WAF-006"]
    assert "authorization, cookie" in text["WAF-008"]
    assert "destination s3" in text["WAF-009"]
    assert "role aws_iam_role.firehose.arn does not exist" in text["WAF-009"]
    assert "bucket aws_s3_bucket.waf_logs.arn does not exist" in text["WAF-009"]


def test_guide_rls_defects_are_reported():
    found = _seed("rls")
    tables = {f"dev_pingvas.{t}" for t in ("users", "images", "boards", "credit_transactions")}
    assert {f.resource.name for f in found["RLS-002"]} == tables
    assert len(found["RLS-005"]) == 11  # every policy reads the setting strictly
    assert {f.resource.names[0] for f in found["RLS-006"]} == tables - {"dev_pingvas.users"}
    assert any("session" in f.message for f in found["RLS-009"])
    assert [f.message for f in found["RLS-010"]] == ["SQL built by f-string"]
    assert {f.resource.name for f in found["RLS-011"]} == {
        "g",
        "text",
        "settings",
        "SessionLocal",
    }


def test_guide_secrets_defects_are_reported():
    found = _seed("secrets")
    names = {
        f"${{var.environment}}/pingvas/{name}"
        for name in ("db-credentials", "jwt-secret", "lemon-squeezy")
    }
    assert {f.resource.name for f in found["SEC-001"]} == names  # no rotation
    assert {f.resource.name for f in found["SEC-002"]} == names  # no CMK
    assert any("random_password" in f.message for f in found["SEC-005"])
    [missing_url] = found["SEC-006"]
    assert "property 'url' is not a key" in missing_url.message
    assert str(missing_url.location).endswith("db-credentials.yaml:20")
    assert "modules/secrets/main.tf:13" in missing_url.message  # where the JSON keys are
    assert not any("adminPassword" in str(f.resource) for f in found["SEC-004"])  # MET-007's
    assert any("adminPassword" in str(f.resource) for f in _seed("metrics")["MET-007"])


def test_guide_alarm_defects_are_reported():
    found = _seed("alarms")
    assert len(found["ALM-006"]) == 4  # no treat_missing_data anywhere
    assert len([f for f in found["ALM-003"] if "ok_actions" in f.message]) == 4
    assert [f.actual for f in found["ALM-007"]] == ["80.0 connections"]  # absolute
    assert [f.resource.names for f in found["ALM-008"]] == [("${var.environment}-eks-cpu-high",)]
    assert [f.actual for f in found["ALM-005"]] == ["unencrypted"]


def test_guide_metrics_defects_are_reported():
    found = _seed("metrics")
    assert [f.resource.name for f in found["MET-001"]] == ["DCGM_FI_DEV_GPU_UTIL"]
    assert len(found["MET-003"]) == 3  # p50, p95, p99 without sum by (le)
    assert [f.resource.names for f in found["MET-005"]] == [("credits_consumed_total",)]  # user_id
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
