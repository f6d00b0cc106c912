"""WAF probes of the live tier: drift of the deployed Web ACLs (WAF-011) and the opt-in attack
requests to a deployed endpoint (WAF-013)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy
from policies.model import Finding, Location, Policy, resource
from policies.registry import probe
from policies.waf.drift import drift

ATTACKS: dict[str, dict[str, Any]] = {
    "sqli": {"params": {"id": "1' OR '1'='1' --"}},
    "xss": {"params": {"q": "<script>alert(document.cookie)</script>"}},
    "oversized-body": {"data": b"x" * 16384, "headers": {"Content-Type": "text/plain"}},
}
PROBE_TIMEOUT_S = 10


@probe("WAF-011", needs=("waf_static", "waf_live"))
def deployed_equals_declared(policy: Policy, waf_static: Any, waf_live: Lazy[Any]) -> list[Finding]:
    return drift(waf_static, waf_live.get(), policy)


@probe("WAF-013", needs=("pytestconfig",), params=tuple(ATTACKS))
def attack_is_blocked(policy: Policy, param: str, pytestconfig: pytest.Config) -> list[Finding]:
    """Opt-in (--waf-probe-url): one bounded request per attack, each must get 403."""
    import requests

    url = pytestconfig.getoption("--waf-probe-url")
    if not url:
        pytest.skip("opt-in: pass --waf-probe-url URL to send attack requests to a deployed WAF")
    attack = ATTACKS[param]
    method = "POST" if "data" in attack else "GET"
    try:
        status = requests.request(
            method, url, timeout=PROBE_TIMEOUT_S, allow_redirects=False, **attack
        ).status_code
    except requests.RequestException as exc:
        pytest.fail(
            f"WAF probe: cannot reach {url}: {' '.join(str(exc).split())[:200]}", pytrace=False
        )
    if status == 403:
        return []
    return [
        Finding(
            policy.id,
            resource("endpoint", url),
            f"{param} was not blocked",
            "403",
            str(status),
            Location(resource=url),
        )
    ]
