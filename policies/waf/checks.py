"""WAF check bodies: pure functions over a WafInventory, the same for files and AWS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from policies.model import Finding, Location, Policy, Resource, resource, unverifiable
from policies.registry import Each, check
from policies.terraform import blocks
from policies.tfeval import Unknown
from policies.waf.casefiles import case_keys, one_case
from policies.waf.cases import run_case
from policies.waf.model import (
    WafInventory,
    WafRule,
    WebAcl,
    category,
    consumed_labels,
    emitted_spelling,
    first,
    managed_label,
)

BLOCKING_ACTIONS = ("block", "captcha", "challenge")


def _finding(
    policy: Policy, about: Resource, location: Location, message: str, expected: str, actual: str
) -> Finding:
    return Finding(policy.id, about, message, expected, actual, location)


def _judged(inv: WafInventory, policy: Policy, findings: list[Finding]) -> Iterator[WebAcl]:
    """The Web ACLs whose rule set is known; for the others (a dynamic block whose for_each
    only apply knows) one unverifiable finding, since the verdict depends on those rules."""
    for acl in inv.acls:
        if acl.unevaluated:
            findings.append(
                unverifiable(
                    policy.id,
                    resource("web-acl", acl.name),
                    acl.location,
                    "the Web ACL's rules",
                    "; ".join(acl.unevaluated),
                )
            )
        else:
            yield acl


def _rule_ref(rule: WafRule) -> str:
    return f"{rule.name} (priority {rule.priority})"


@check("WAF-001")
def rule_order(inv: WafInventory, policy: Policy) -> list[Finding]:
    groups = policy.params["groups"]
    rank = {cat: i for i, group in enumerate(groups) for cat in group["categories"]}
    findings = []
    for acl in _judged(inv, policy, findings):
        placed: list[tuple[int, WafRule]] = []
        for rule in acl.ordered():
            own = rank.get(category(rule, policy.params["managed_groups"]))
            if own is None or consumed_labels(rule):
                continue  # label consumers are placed relative to their emitter (WAF-002)
            later_group = next(((r, prev) for r, prev in placed if r > own), None)
            if later_group:
                prev_rank, prev = later_group
                early, late = groups[own]["name"], groups[prev_rank]["name"]
                findings.append(
                    _finding(
                        policy,
                        resource("waf-rule", acl.name, rule.name),
                        rule.location,
                        f"{early} rule {_rule_ref(rule)} is evaluated after {late} rule "
                        f"{_rule_ref(prev)}",
                        f"every {early} rule before every {late} rule",
                        f"{rule.name} at priority {rule.priority} > "
                        f"{prev.name} at priority {prev.priority}",
                    )
                )
            placed.append((own, rule))
    return findings


def _emitters(acl: WebAcl, key: str, namespaces: dict[str, str]) -> list[WafRule]:
    group = next((g for prefix, g in namespaces.items() if key.startswith(prefix)), None)
    if group is not None:
        return [
            r
            for r in acl.rules
            if r.kind == "managed_rule_group_statement" and r.body.get("name") == group
        ]
    return [r for r in acl.rules if any(key == lbl or key.endswith(f":{lbl}") for lbl in r.labels)]


@check("WAF-002")
def labels_after_emitters(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = []
    for acl in _judged(inv, policy, findings):
        for rule in acl.rules:
            for key in consumed_labels(rule):
                emitters = _emitters(acl, key, policy.params["label_namespaces"])
                about = resource("waf-rule", acl.name, rule.name)
                spelled = emitted_spelling(key, policy.params["label_namespaces"])
                if spelled is not None:
                    findings.append(
                        _finding(
                            policy,
                            about,
                            rule.location,
                            f"matches label {key!r}, which AWS never emits (labels are"
                            " case-sensitive)",
                            f"label {spelled}",
                            f"label {key}",
                        )
                    )
                    continue
                if not emitters:
                    findings.append(
                        _finding(
                            policy,
                            about,
                            rule.location,
                            f"matches label {key!r} that no rule of the Web ACL emits",
                            "an emitting rule group or rule_label earlier in the ACL",
                            "no emitter",
                        )
                    )
                    continue
                emitter = emitters[0]
                if (emitter.priority or 0) >= (rule.priority or 0):
                    findings.append(
                        _finding(
                            policy,
                            about,
                            rule.location,
                            f"matches label {key!r} before {_rule_ref(emitter)} emits it",
                            f"priority > {emitter.priority}",
                            f"priority {rule.priority}",
                        )
                    )
    return findings


def _can_block(rule: WafRule) -> bool:
    return rule.action in BLOCKING_ACTIONS or rule.override_action == "none"


@check("WAF-003")
def allow_before_block(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = []
    for acl in _judged(inv, policy, findings):
        ordered = acl.ordered()
        for i, rule in enumerate(ordered):
            blocked_later = [r.name for r in ordered[i + 1 :] if _can_block(r)]
            if rule.action == "allow" and blocked_later:
                findings.append(
                    _finding(
                        policy,
                        resource("waf-rule", acl.name, rule.name),
                        rule.location,
                        f"Allow rule {_rule_ref(rule)} skips {len(blocked_later)} blocking rules",
                        "Allow rules after the blocking rules, or a waiver",
                        f"before {', '.join(blocked_later)}",
                    )
                )
    return findings


@check("WAF-004")
def unique_priorities(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = []
    for acl in _judged(inv, policy, findings):
        for attr in ("priority", "name"):
            counts = Counter(getattr(r, attr) for r in acl.rules if getattr(r, attr) is not None)
            for value, n in counts.items():
                if n > 1:
                    dupes = [r for r in acl.rules if getattr(r, attr) == value]
                    findings.append(
                        _finding(
                            policy,
                            resource("web-acl", acl.name),
                            dupes[1].location,
                            f"{n} rules share {attr} {value}: {', '.join(r.name for r in dupes)}",
                            f"unique {attr}s",
                            f"{attr} {value} used {n} times",
                        )
                    )
        for rule in acl.rules:
            if "priority" in rule.unknowns:
                findings.append(
                    unverifiable(
                        policy.id,
                        resource("waf-rule", acl.name, rule.name),
                        rule.location,
                        "the rule's priority",
                        rule.unknowns["priority"],
                    )
                )
            elif rule.priority is None:
                findings.append(
                    _finding(
                        policy,
                        resource("waf-rule", acl.name, rule.name),
                        rule.location,
                        "priority is not a number the suite can resolve",
                        "a literal or a variable with a default",
                        "unresolvable",
                    )
                )
    return findings


def _managed(acl: WebAcl) -> Iterator[tuple[WafRule, dict[str, Any]]]:
    for rule in acl.ordered():
        if rule.kind == "managed_rule_group_statement":
            yield rule, rule.body


@check("WAF-005")
def required_managed_groups(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = []
    for acl in _judged(inv, policy, findings):
        present = {str(body.get("name")): rule for rule, body in _managed(acl)}
        for group in policy.params["required"]:
            rule = present.get(group)
            if rule is None:
                findings.append(
                    _finding(
                        policy,
                        resource("web-acl", acl.name),
                        acl.location,
                        f"managed rule group {group} is missing",
                        f"{group} with override_action none",
                        "absent",
                    )
                )
            elif rule.override_action != "none":
                findings.append(
                    _finding(
                        policy,
                        resource("waf-rule", acl.name, rule.name),
                        rule.location,
                        f"managed rule group {group} does not enforce",
                        "override_action none",
                        f"override_action {rule.override_action}",
                    )
                )
    return findings


@check("WAF-006")
def overrides_waived(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = []
    for acl in _judged(inv, policy, findings):
        for rule, body in _managed(acl):
            group = body.get("name")
            for override in blocks(body.get("rule_action_override")):
                action = block_name_of(override)
                findings.append(
                    _finding(
                        policy,
                        resource("managed-rule", acl.name, group, override.get("name")),
                        rule.at(override),
                        f"{group} rule {override.get('name')} is overridden to {action}",
                        "the group's own action, or a waiver",
                        f"action_to_use {action}",
                    )
                )
            for excluded in blocks(body.get("excluded_rule")):
                findings.append(
                    _finding(
                        policy,
                        resource("managed-rule", acl.name, group, excluded.get("name")),
                        rule.at(excluded),
                        f"{group} rule {excluded.get('name')} is excluded",
                        "the group's own action, or a waiver",
                        "excluded_rule (count)",
                    )
                )
    return findings


@check("WAF-007")
def rate_limit(inv: WafInventory, policy: Policy) -> list[Finding]:
    p = policy.params
    findings = []
    for acl in _judged(inv, policy, findings):
        rate_rules = [r for r in acl.rules if r.kind == "rate_based_statement"]
        if not rate_rules:
            findings.append(
                _finding(
                    policy,
                    resource("web-acl", acl.name),
                    acl.location,
                    "no rate-based rule",
                    f"a rate_based_statement with limit {p['min_limit']}..{p['max_limit']}",
                    "none",
                )
            )
        for rule in rate_rules:
            limit, key = rule.body.get("limit"), rule.body.get("aggregate_key_type")
            about = resource("waf-rule", acl.name, rule.name)
            if isinstance(limit, Unknown) or isinstance(key, Unknown):
                unknown = limit if isinstance(limit, Unknown) else key
                findings.append(
                    unverifiable(policy.id, about, rule.at(rule.body), "the rate limit", unknown)
                )
            elif not isinstance(limit, int) or not p["min_limit"] <= limit <= p["max_limit"]:
                findings.append(
                    _finding(
                        policy,
                        about,
                        rule.at(rule.body),
                        "rate limit outside the catalog's bounds",
                        f"{p['min_limit']} <= limit <= {p['max_limit']}",
                        f"limit {limit}",
                    )
                )
            if not isinstance(key, Unknown) and key not in p["aggregate_key_types"]:
                findings.append(
                    _finding(
                        policy,
                        about,
                        rule.at(rule.body),
                        "rate limit not keyed by client IP",
                        f"aggregate_key_type in {p['aggregate_key_types']}",
                        f"{key}",
                    )
                )
            if rule.action not in BLOCKING_ACTIONS:
                findings.append(
                    _finding(
                        policy,
                        about,
                        rule.location,
                        "rate-based rule does not block",
                        "action block",
                        f"action {rule.action}",
                    )
                )
    return findings


@check("WAF-008")
def logging(inv: WafInventory, policy: Policy) -> list[Finding]:
    prefix = policy.params["destination_prefix"]
    findings = []
    for acl in inv.acls:
        log = acl.logging
        if log is None:
            findings.append(
                _finding(
                    policy,
                    resource("web-acl", acl.name),
                    acl.location,
                    "Web ACL has no logging configuration",
                    f"a logging configuration to {prefix}*",
                    "none",
                )
            )
            continue
        findings += [
            unverifiable(
                policy.id, resource("web-acl", acl.name), log.location, "the log destination", u
            )
            for u in log.unknown
        ]
        for destination in log.destinations:
            if not destination.startswith(prefix):
                findings.append(
                    _finding(
                        policy,
                        resource("web-acl", acl.name),
                        log.location,
                        "log destination is not a WAF log destination",
                        f"name starting with {prefix}",
                        destination,
                    )
                )
        missing = [
            h for h in policy.params["redacted_headers"] if f"single_header:{h}" not in log.redacted
        ]
        if missing:
            findings.append(
                _finding(
                    policy,
                    resource("web-acl", acl.name),
                    log.location,
                    f"headers {', '.join(missing)} are logged in clear",
                    f"redacted_fields single_header {', '.join(policy.params['redacted_headers'])}",
                    f"redacted: {', '.join(log.redacted) or 'nothing'}",
                )
            )
    return findings


@check("WAF-009")
def log_delivery(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = []
    for acl in inv.acls:
        for destination in acl.logging.destinations if acl.logging else []:
            stream = inv.streams.get(destination)
            if stream is None:
                continue
            problems = []
            if stream.destination != "extended_s3":
                problems.append(f"destination {stream.destination}")
            if stream.role_exists is False:
                problems.append(f"role {stream.role} does not exist")
            if stream.bucket_exists is False:
                problems.append(f"bucket {stream.bucket} does not exist")
            findings += [
                unverifiable(
                    policy.id,
                    resource("firehose-stream", stream.name),
                    stream.location,
                    f"the stream's {what}",
                    value,
                )
                for what, value, exists in (
                    ("role", stream.role, stream.role_exists),
                    ("bucket", stream.bucket, stream.bucket_exists),
                )
                if exists is None
            ]
            if problems:
                findings.append(
                    _finding(
                        policy,
                        resource("firehose-stream", stream.name),
                        stream.location,
                        "WAF log stream cannot deliver",
                        "destination extended_s3 with a declared role and bucket",
                        "; ".join(problems),
                    )
                )
    return findings


@check("WAF-010")
def associated(inv: WafInventory, policy: Policy) -> list[Finding]:
    return [
        _finding(
            policy,
            resource("web-acl", acl.name),
            acl.location,
            "Web ACL is not associated with any load balancer",
            "an aws_wafv2_web_acl_association",
            "none",
        )
        for acl in inv.acls
        if not acl.associations
    ]


@check("WAF-012")
def counted_rules_reenforced(inv: WafInventory, policy: Policy) -> list[Finding]:
    namespaces = policy.params["group_label_namespaces"]
    findings = []
    for acl in _judged(inv, policy, findings):
        for rule, body in _managed(acl):
            group = str(body.get("name"))
            for override in blocks(body.get("rule_action_override")):
                if block_name_of(override) != "count" or group not in namespaces:
                    continue
                label = managed_label(namespaces[group], str(override.get("name")))
                later = [
                    r
                    for r in acl.rules
                    if (r.priority or 0) > (rule.priority or 0) and r.action in BLOCKING_ACTIONS
                ]
                if any(_enforces(key, label) for r in later for key in consumed_labels(r)):
                    continue
                miscased = [  # matches what AWS emits only ignoring case: never matches
                    k for r in later for k in consumed_labels(r) if k.lower() == label.lower()
                ]
                findings.append(
                    _finding(
                        policy,
                        resource("managed-rule", acl.name, group, override.get("name")),
                        rule.at(override),
                        f"{group} rule {override.get('name')} is counted site-wide",
                        f"a later blocking rule matching label {label}",
                        f"a rule matching {miscased[0]} (labels are case-sensitive)"
                        if miscased
                        else "none",
                    )
                )
    return findings


def _enforces(key: str, label: str) -> bool:
    """A label_match key (a label, or a namespace ending in ':') matches the label exactly."""
    return key == label or (key.endswith(":") and label.startswith(key))


def block_name_of(override: dict[str, Any]) -> str:
    return next(iter(first(override.get("action_to_use"))), "?")


@check("WAF-014")
def no_unreachable_rule(inv: WafInventory, policy: Policy) -> list[Finding]:
    from policies.waf.reach import starved, unreachable

    findings = []
    for acl in _judged(inv, policy, findings):
        reported: set[str] = set()
        for rule, earlier, reason in unreachable(acl, inv):
            reported.add(rule.name)
            findings.append(
                _finding(
                    policy,
                    resource("waf-rule", acl.name, rule.name),
                    rule.location,
                    f"rule {_rule_ref(rule)} is unreachable: {_rule_ref(earlier)} decides"
                    f" ({earlier.action}) every request it matches first",
                    f"{rule.name} before {earlier.name}, or a condition {earlier.name} does not"
                    " cover",
                    reason,
                )
            )
        namespaces = policy.params["group_label_namespaces"]
        for rule, key, emitters in starved(acl, namespaces):
            if rule.name in reported:
                continue
            names = ", ".join(_rule_ref(e) for e in emitters)
            findings.append(
                _finding(
                    policy,
                    resource("waf-rule", acl.name, rule.name),
                    rule.location,
                    f"rule {_rule_ref(rule)} needs label {key!r}, which only requests already"
                    f" terminated by {names} carry",
                    "an emitter that counts: rule_action_override count for the managed rule,"
                    " or the rule_label on a count rule",
                    f"{names} terminates the requests it labels",
                )
            )
    return findings


def _has_cases(inv: WafInventory) -> str | None:
    return None if inv.cases or inv.case_errors else "no WAF cases (waf-cases.yaml)"


@check("WAF-015", applies=_has_cases, each=Each(case_keys, one_case))
def cases_hold(inv: WafInventory, policy: Policy) -> list[Finding]:
    findings = [
        Finding(
            policy.id,
            resource("waf-case", e.source.name, e.case or e.source.name),
            f"WAF case file cannot be used: {e.key}: {e.message}",
            "a case the simulator can run",
            e.key,
            Location(e.source, e.line),
        )
        for e in inv.case_errors
    ]
    for case in inv.cases:
        result = run_case(case, inv, policy.params["group_label_namespaces"])
        if result.holds:
            continue
        expected = "; ".join(f"{d.key} {d.expected}" for d in result.differences)
        actual = "; ".join(f"{d.key} {d.actual}" for d in result.differences)
        findings.append(
            Finding(
                policy.id,
                resource("waf-case", result.acl or "?", case.name),
                f"WAF case {case.name!r} does not hold",
                expected or "a verdict the Web ACL decides",
                "; ".join(filter(None, [actual, *result.problems])),
                Location(case.source, case.line),
                detail="\n".join(result.render().splitlines()[1:]),  # the header is above
            )
        )
    return findings
