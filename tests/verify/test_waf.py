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
    inventory = waf_live.get()
    _require_acls(inventory, aws_target.get().endpoint or "AWS")
    gate(policy, CHECKS[policy](inventory, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["WAF-011"])
def test_drift(policy, waf_static, waf_live, gate):
    gate(policy, drift(waf_static, waf_live.get(), load_catalog()[policy]))


ATTACKS = {
    "SQL injection in the query": {"params": {"id": "1' OR '1'='1' --"}},
    "XSS in the query": {"params": {"q": "<script>alert(document.cookie)</script>"}},
    "oversized body outside the upload path": {
        "data": b"x" * 16384,
        "headers": {"Content-Type": "text/plain"},
    },
}
PROBE_TIMEOUT_S = 10


@pytest.mark.live
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_waf_blocks_attack_requests(attack, pytestconfig, gate):
    """Opt-in (--waf-probe-url): one bounded request per attack, each must get 403."""
    import requests

    from policies.model import Finding, Location

    url = pytestconfig.getoption("--waf-probe-url")
    if not url:
        pytest.skip("opt-in: pass --waf-probe-url URL to send attack requests to a deployed WAF")
    method = "POST" if "data" in ATTACKS[attack] else "GET"
    try:
        status = requests.request(
            method, url, timeout=PROBE_TIMEOUT_S, allow_redirects=False, **ATTACKS[attack]
        ).status_code
    except requests.RequestException as exc:
        pytest.fail(
            f"WAF probe: cannot reach {url}: {' '.join(str(exc).split())[:200]}", pytrace=False
        )
    gate(
        "WAF-013",
        []
        if status == 403
        else [
            Finding(
                "WAF-013",
                url,
                f"{attack} was not blocked",
                "403",
                str(status),
                Location(resource=url),
            )
        ],
    )
