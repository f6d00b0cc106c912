"""WAF probes of the live tier: drift of the deployed Web ACLs (WAF-011) and the opt-in attack
requests to a deployed endpoint (WAF-013)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from policies.lazy import Lazy
from policies.model import Finding, Location, Policy, resource
from policies.registry import NotApplicable, probe
from policies.waf.cases import WafCase, parse_cases, run_case
from policies.waf.drift import drift
from policies.waf.managed_rules import TRIGGERS
from policies.waf.model import WafInventory
from policies.waf.request import Request
from policies.yamlfile import packaged

PROBE_TIMEOUT_S = 10
MAX_REQUESTS = 500  # per repeated case, and only with --allow-mutation
# requests' and urllib3's default headers, not sent: a case's request carries only its own
# (and Host, Content-Length), so a case without a User-Agent is sent without one. SKIP: for
# urllib3's own defaults, its SKIP_HEADER (imported when a probe sends, not at collection)
UNSENT: dict[str, str | None] = {
    "User-Agent": "SKIP",
    "Accept-Encoding": "SKIP",
    "Accept": None,
    "Connection": None,
}


@cache
def attacks() -> dict[str, WafCase]:
    """WAF-013's attack requests (attacks.yaml, shipped with the suite), by name."""
    cases, errors = parse_cases(packaged("policies.waf", "attacks.yaml"), Path("attacks.yaml"))
    assert not errors, errors
    return {case.name: case for case in cases}


@probe("WAF-011", needs=("waf_static", "waf_live"))
def deployed_equals_declared(policy: Policy, waf_static: Any, waf_live: Lazy[Any]) -> list[Finding]:
    return drift(waf_static, waf_live.get(), policy)


@probe("WAF-013", needs=("pytestconfig", "waf_static"), params=tuple(attacks()))
def attack_is_blocked(
    policy: Policy, param: str, pytestconfig: pytest.Config, waf_static: WafInventory
) -> list[Finding]:
    """Opt-in (--waf-probe-url): one bounded request per attack to the URL (the attack's query
    appended), each must get 403; the declared Web ACL's simulated verdict is shown with a
    finding."""
    url = pytestconfig.getoption("--waf-probe-url")
    if not url:
        pytest.skip("opt-in: pass --waf-probe-url URL to send attack requests to a deployed WAF")
    case = attacks()[param]
    status = _send(url, case.request, at_url=True)
    if status == 403:
        return []
    predicted = [
        f"{acl.name}: {verdict.render()}" for acl, verdict in _predictions(case, waf_static)
    ]
    return [
        Finding(
            policy.id,
            resource("endpoint", url),
            f"{param} was not blocked",
            "403",
            str(status),
            Location(resource=url),
            detail="\n".join(["the declared Web ACL, simulated:", *predicted]) if predicted else "",
        )
    ]


@probe("WAF-016", needs=("pytestconfig", "waf_static"))
def deployed_answers_the_cases(
    policy: Policy, pytestconfig: pytest.Config, waf_static: WafInventory
) -> list[Finding]:
    """Opt-in (--waf-probe-url): the repository's WAF cases that this machine can reproduce are
    sent to the deployed endpoint (the case's uri on the URL's origin), and the status compared
    with the simulator's prediction on the declared Web ACL."""
    url = pytestconfig.getoption("--waf-probe-url")
    if not url:
        pytest.skip("opt-in: pass --waf-probe-url URL to send the WAF cases to a deployed WAF")
    if not waf_static.cases:
        raise NotApplicable("no WAF cases (waf-cases.yaml)")
    mutation = bool(pytestconfig.getoption("--allow-mutation"))
    findings, sent, unsent = [], 0, []
    for case in waf_static.cases:
        why = not_reproducible(case, mutation)
        result = run_case(case, waf_static, policy.params["group_label_namespaces"])
        if why is None and (result.verdict is None or result.verdict.undecidable):
            why = "the simulator cannot predict it"
        if why is not None:
            unsent.append(f"{case.name}: {why}")
            continue
        assert result.verdict is not None
        statuses = [_send(url, case.request) for _ in range(max(case.repeat, 1))]
        sent += len(statuses)
        if statuses[-1] != result.verdict.status:
            findings.append(
                Finding(
                    policy.id,
                    resource("waf-case", result.acl or "?", case.name),
                    f"the deployed WAF answers WAF case {case.name!r} otherwise than simulated",
                    f"status {result.verdict.status} (simulated)",
                    f"status {statuses[-1]}",
                    Location(case.source, case.line),
                    detail=result.verdict.render(),
                )
            )
    if not sent:
        raise NotApplicable("no WAF case can be reproduced from this machine: " + "; ".join(unsent))
    return findings


def not_reproducible(case: WafCase, mutation: bool) -> str | None:
    """Why a case cannot be sent from this machine as written (None: it can): a source IP or
    country of its own, a managed rule declared as matching that AWS does not document exactly
    (the real group may decide otherwise), an opaque statement declared, or a repeat without
    --allow-mutation or over the request cap."""
    if case.request.ip is not None or case.request.country is not None:
        return "it sets the source ip or country"
    for group, rules in case.managed.items():
        unknown = [r for r in rules if r not in TRIGGERS.get(group, {})]
        if unknown:
            return f"it declares {group} rules the real group decides ({', '.join(unknown)})"
    if case.opaque:
        return "it declares opaque statements"
    if case.repeat > 1 and not mutation:
        return "repeated requests need --allow-mutation"
    if case.repeat > MAX_REQUESTS:
        return f"{case.repeat} requests, over the cap of {MAX_REQUESTS}"
    return None


def _predictions(case: WafCase, inventory: WafInventory) -> list[tuple[Any, Any]]:
    from policies.waf.cases import default_namespaces
    from policies.waf.simulator import Simulator

    return [
        (
            acl,
            Simulator(acl, inventory, default_namespaces()).evaluate(
                case.request, 0.0, case.managed, case.opaque
            ),
        )
        for acl in inventory.acls
    ]


def _send(url: str, request: Request, at_url: bool = False) -> int:
    """One request's status: to `url` with the request's query (at_url), else to the request's
    path and query on the URL's origin; an endpoint that cannot be reached fails the test."""
    import requests
    from urllib3.util import SKIP_HEADER

    unsent = {k: SKIP_HEADER if v == "SKIP" else v for k, v in UNSENT.items()}
    parts = urlsplit(url)
    path = parts.path if at_url else request.path
    target = urlunsplit((parts.scheme, parts.netloc, path or "/", request.query, ""))
    try:
        return requests.request(
            request.method,
            target,
            headers={**unsent, **dict(request.headers)},
            data=request.body or None,
            timeout=PROBE_TIMEOUT_S,
            allow_redirects=False,
        ).status_code
    except requests.RequestException as exc:
        pytest.fail(
            f"WAF probe: cannot reach {url}: {' '.join(str(exc).split())[:200]}", pytrace=False
        )
