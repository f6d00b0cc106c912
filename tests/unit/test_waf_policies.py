"""Each WAF policy catches its known-bad fixture at the marked lines, passes the known-good ones."""

from pathlib import Path

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.terraform import load_project
from policies.waf.checks import CHECKS
from policies.waf.static import read_static
from tests.helpers import FIXTURES, expected_lines, finding_lines

WAF_STATIC = policy_ids("waf", "static")
GOOD = sorted(p.name for p in (FIXTURES / "waf" / "good").iterdir())


def _findings(directory: Path, policy_id: str):
    return CHECKS[policy_id](read_static(load_project(directory)), load_catalog()[policy_id])


def test_every_static_waf_policy_has_a_check_and_a_bad_fixture():
    assert set(WAF_STATIC) <= set(CHECKS)
    missing = [p for p in WAF_STATIC if not (FIXTURES / "waf" / "bad" / p).is_dir()]
    assert not missing, f"no known-bad fixture for {missing}"


@pytest.mark.parametrize("policy_id", WAF_STATIC)
def test_known_bad(policy_id):
    directory = FIXTURES / "waf" / "bad" / policy_id
    expected = expected_lines(directory, policy_id)
    assert expected, f"{directory} marks no line with '# expect: {policy_id}'"
    assert finding_lines(_findings(directory, policy_id)) == expected


@pytest.mark.parametrize("policy_id", WAF_STATIC)
@pytest.mark.parametrize("good", GOOD)
def test_known_good(good, policy_id):
    directory = FIXTURES / "waf" / "good" / good
    assert finding_lines(_findings(directory, policy_id)) == expected_lines(directory, policy_id)


def test_guide_defects_are_reported():
    """The guide's WAF (fixtures/seed) fails at least the defects the brief lists."""
    inventory = read_static(load_project(FIXTURES / "seed"))
    by_policy = {pid: CHECKS[pid](inventory, load_catalog()[pid]) for pid in WAF_STATIC}
    messages = {
        pid: " | ".join(f.message + " " + f.actual for f in fs) for pid, fs in by_policy.items()
    }
    assert "IPReputationList" in messages["WAF-001"] and "GeoBlocking" in messages["WAF-001"]
    assert "AWSManagedRulesKnownBadInputsRuleSet is missing" in messages["WAF-005"]
    assert "SizeRestrictions_BODY is counted site-wide" in messages["WAF-012"]
    assert "SizeRestrictions_BODY" in messages["WAF-006"]
    assert "authorization, cookie" in messages["WAF-008"]
    assert "destination s3" in messages["WAF-009"]
    assert "role ${aws_iam_role.firehose.arn} does not exist" in messages["WAF-009"]
    assert "bucket ${aws_s3_bucket.waf_logs.arn} does not exist" in messages["WAF-009"]
