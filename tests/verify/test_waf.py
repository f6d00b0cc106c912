"""The WAF policies on --infra (static) and on the --target (live): one check body each."""

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.registry import all_checks
from policies.waf.drift import drift

CHECKS = all_checks()


def _require_acls(inventory, where):
    if not inventory.acls:
        pytest.fail(f"no WAFv2 Web ACL found in {where}: nothing to verify", pytrace=False)


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("waf", "static"))
def test_static(policy, waf_static, infra_dir, gate):
    _require_acls(waf_static, f"the Terraform under {infra_dir}")
    gate(policy, CHECKS[policy](waf_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", [p for p in policy_ids("waf", "live") if p in CHECKS])
def test_live(policy, waf_live, aws_target, gate):
    _require_acls(waf_live, aws_target.endpoint or "AWS")
    gate(policy, CHECKS[policy](waf_live, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["WAF-011"])
def test_drift(policy, waf_static, waf_live, gate):
    gate(policy, drift(waf_static, waf_live, load_catalog()[policy]))
