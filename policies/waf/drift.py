"""WAF-011: the deployed Web ACLs against the declared ones (both as WafInventory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.model import Finding, Location, Policy, Resource, resource
from policies.waf.model import META_KEYS, WafInventory, WebAcl

# Fields the API fills in when Terraform leaves them out.
API_DEFAULTS: dict[str, Any] = {"evaluation_window_sec": 300}


def drift(declared: WafInventory, deployed: WafInventory, policy: Policy) -> list[Finding]:
    """Every difference in rule set, priority, action and statement, and in logging."""
    live = {acl.name: acl for acl in deployed.acls}
    findings: list[Finding] = []
    for want in declared.acls:
        got = live.get(want.name)
        if got is None:
            findings.append(
                Finding(
                    policy.id,
                    resource("web-acl", want.name),
                    "declared Web ACL is not deployed",
                    f"Web ACL {want.name} (declared at {want.location})",
                    "absent",
                    want.location,
                )
            )
            continue
        findings.extend(_acl_drift(want, got, policy))
    return findings


def _acl_drift(want: WebAcl, got: WebAcl, policy: Policy) -> Iterator[Finding]:
    def finding(
        about: Resource, what: str, expected: Any, actual: Any, declared_at: Location
    ) -> Finding:
        return Finding(
            policy.id,
            about,
            f"{what} differs from {declared_at}",
            str(expected),
            str(actual),
            got.location,
        )

    want_rules = {r.name: r for r in want.rules}
    got_rules = {r.name: r for r in got.rules}

    def rule(name: str, *field: str) -> Resource:
        return resource("waf-rule-field" if field else "waf-rule", want.name, name, *field)

    for name in sorted(want_rules.keys() - got_rules.keys()):
        yield finding(rule(name), f"rule {name}", "deployed", "missing", want_rules[name].location)
    for name in sorted(got_rules.keys() - want_rules.keys()):
        yield finding(
            rule(name), f"rule {name}", "absent (not declared)", "deployed", want.location
        )
    for name in sorted(want_rules.keys() & got_rules.keys()):
        w, g = want_rules[name], got_rules[name]
        for attr in ("priority", "action", "override_action"):
            if getattr(w, attr) != getattr(g, attr):
                yield finding(
                    rule(name, attr),
                    f"rule {name} {attr}",
                    getattr(w, attr),
                    getattr(g, attr),
                    w.location,
                )
        for path, expected, actual in _diff(w.statement, g.statement, "statement"):
            yield finding(rule(name, path), f"rule {name} {path}", expected, actual, w.location)
    if want.default_action != got.default_action:
        yield finding(
            resource("web-acl-field", want.name, "default_action"),
            "default_action",
            want.default_action,
            got.default_action,
            want.location,
        )
    yield from _logging_drift(want, got, finding)


def _logging_drift(want: WebAcl, got: WebAcl, finding: Any) -> Iterator[Finding]:
    if want.logging is None or got.logging is None:
        if (want.logging is None) != (got.logging is None):
            yield finding(
                resource("web-acl-field", want.name, "logging"),
                "logging",
                bool(want.logging),
                bool(got.logging),
                want.location,
            )
        return
    for attr in ("destinations", "redacted"):
        w, g = sorted(getattr(want.logging, attr)), sorted(getattr(got.logging, attr))
        if w != g:
            yield finding(
                resource("web-acl-field", want.name, f"logging.{attr}"),
                f"logging {attr}",
                w,
                g,
                want.logging.location,
            )


def _diff(want: Any, got: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted((want.keys() | got.keys()) - set(META_KEYS)):
            if key not in want and (_empty(got[key]) or API_DEFAULTS.get(key) == got[key]):
                continue
            yield from _diff(want.get(key), got.get(key), f"{path}.{key}")
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            yield from _diff(w, g, f"{path}[{i}]" if len(want) > 1 else path)
    elif want != got:
        yield path, want, got


def _empty(value: Any) -> bool:
    return value in (None, [], {}, [{}], "")
