"""The live WAF tier on the local stack: a console edit is caught by drift and by the checks."""

import copy

import pytest

from policies.catalog import load_catalog
from policies.registry import all_checks
from policies.waf.drift import drift
from policies.waf.live import read_live
from tests.helpers import run_suite, suite

CHECKS = all_checks()

pytestmark = pytest.mark.live


@pytest.fixture
def console_edit(aws_target, waf_static):
    """Deployed ACL edited as in an incident: RateLimit set to count, core rule set to count.
    The original rules are put back afterwards."""
    aws_target = aws_target.get()
    if aws_target.endpoint is None:
        pytest.skip("mutates the Web ACL: runs only against a local endpoint")
    wafv2 = aws_target.client("wafv2")
    name = waf_static.acls[0].name
    summary = next(a for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"] if a["Name"] == name)
    ident = {"Name": name, "Scope": "REGIONAL", "Id": summary["Id"]}

    def update(rules):
        current = wafv2.get_web_acl(**ident)
        acl = current["WebACL"]
        wafv2.update_web_acl(
            **ident,
            DefaultAction=acl["DefaultAction"],
            Rules=rules,
            VisibilityConfig=acl["VisibilityConfig"],
            LockToken=current["LockToken"],
        )

    original = wafv2.get_web_acl(**ident)["WebACL"]["Rules"]
    edited = copy.deepcopy(original)
    for rule in edited:
        if rule["Name"] == "RateLimit":
            rule["Action"] = {"Count": {}}
        if (
            rule["Statement"].get("ManagedRuleGroupStatement", {}).get("Name")
            == "AWSManagedRulesCommonRuleSet"
        ):
            rule["OverrideAction"] = {"Count": {}}
    update(edited)
    yield name
    update(original)


def test_console_edit_is_drift_and_fails_the_live_checks(console_edit, aws_target, waf_static):
    deployed = read_live(aws_target.get())
    catalog = load_catalog()
    differences = {
        (f.resource.names[1:], f.expected, f.actual)
        for f in drift(waf_static, deployed, catalog["WAF-011"])
    }
    assert (("RateLimit", "action"), "block", "count") in differences
    assert (("AWSManagedRulesCommonRuleSet", "override_action"), "none", "count") in differences
    assert any(
        "does not enforce" in f.message for f in CHECKS["WAF-005"](deployed, catalog["WAF-005"])
    )
    assert any(
        "does not block" in f.message for f in CHECKS["WAF-007"](deployed, catalog["WAF-007"])
    )


def test_restored_acl_has_no_drift(aws_target, waf_static):
    assert drift(waf_static, read_live(aws_target.get()), load_catalog()["WAF-011"]) == []


def test_unreachable_endpoint_fails_in_one_line_per_test(tmp_path):
    done = run_suite(
        *suite("waf"),
        "-m",
        "live",
        "--aws-endpoint",
        "http://127.0.0.1:9",
        "--reports",
        str(tmp_path),
        timeout=240,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "WAF live read: cannot reach http://127.0.0.1:9" in done.stdout
