"""Which rules of a Web ACL no request can reach (WAF-014), for the statement kinds where it is
decidable from the configuration alone.

A rule is unreachable when an earlier rule with a terminating action (allow, block, CAPTCHA,
challenge: a request carries no token) matches every request the rule matches: the earlier rule
matches every request (`always`), or its condition is implied by the later one's (`implies`:
the same condition; byte match strings by positional constraint on the same field and
transformations; a geo country subset; an IP set whose CIDRs lie within the other's; a size
range within the other's; a label within a namespace; through and/or/not). A rule that needs a
label is unreachable when every rule before it that emits the label terminates the request as
it adds it (a managed rule that blocks, a terminating rule's rule_label). Rate-based rules and
rule groups never count as the earlier rule (their match depends on state or is opaque); an
Unknown value, a regular expression or an opaque statement proves nothing. Labels no earlier
rule emits at all are WAF-002's."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from policies.terraform import blocks
from policies.tfeval import first_unknown
from policies.waf.managed_rules import RULES
from policies.waf.model import (
    META_KEYS,
    WafInventory,
    WafRule,
    WebAcl,
    block_name,
    canonical,
    first,
    managed_label,
)
from policies.waf.transforms import Undecidable, ordered

TERMINATING = ("allow", "block", "captcha", "challenge")
_COMPOUND = ("and_statement", "or_statement", "not_statement")
# Components every request has (possibly empty): a condition on them can hold of every request.
_PRESENT = ("uri_path", "query_string", "method")
_INFINITY = float("inf")


def _split(statement: Any) -> tuple[str, dict[str, Any]]:
    kind = next((k for k in first(statement) if k not in META_KEYS), "")
    return kind, first(first(statement).get(kind))


def _plain(value: Any) -> Any:
    """A statement without line markers, a resolved set reference as its set's key (so that
    two references to one IP set are equal and a reference's Unknown ARN proves nothing)."""
    if isinstance(value, dict):
        if "__ref__" in value:
            value = {**{k: v for k, v in value.items() if k != "arn"}, "set": value["__ref__"]}
        return {k: _plain(v) for k, v in value.items() if k not in META_KEYS}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return canonical(value)


def _children(body: dict[str, Any]) -> list[dict[str, Any]]:
    return blocks(body.get("statement"))


def always(statement: Any) -> bool:
    """Whether the statement matches every request."""
    kind, body = _split(statement)
    if kind == "and_statement":
        return bool(_children(body)) and all(always(s) for s in _children(body))
    if kind == "or_statement":
        return any(always(s) for s in _children(body))
    if kind == "not_statement":
        return any(never(s) for s in _children(body))
    if first_unknown(_plain(body)) is not None or _field(body) not in _PRESENT:
        return False
    if kind == "byte_match_statement":
        return body.get("search_string") == "" and body.get("positional_constraint") in (
            "CONTAINS",
            "STARTS_WITH",
            "ENDS_WITH",
        )
    if kind == "size_constraint_statement":
        return _sizes(body) == [(0, _INFINITY)]
    return False


def never(statement: Any) -> bool:
    """Whether the statement matches no request."""
    kind, body = _split(statement)
    if kind == "and_statement":
        return any(never(s) for s in _children(body))
    if kind == "or_statement":
        return bool(_children(body)) and all(never(s) for s in _children(body))
    if kind == "not_statement":
        return any(always(s) for s in _children(body))
    return kind == "size_constraint_statement" and _sizes(body) == []


def _field(body: dict[str, Any]) -> str | None:
    return block_name(body.get("field_to_match"))


def implies(a: Any, b: Any, inventory: WafInventory) -> str | None:
    """Why every request matching statement `a` matches statement `b`, or None (not shown)."""
    plain_a, plain_b = _plain(first(a)), _plain(first(b))
    if first_unknown(plain_a) is not None:
        return None
    if plain_a == plain_b and first_unknown(plain_b) is None:
        return "the same condition"
    ka, body_a = _split(a)
    kb, body_b = _split(b)
    if kb == "and_statement" and _children(body_b):
        reasons = [implies(a, s, inventory) for s in _children(body_b)]
        return "; ".join(r for r in reasons if r) if all(reasons) else None
    if ka == "or_statement" and _children(body_a):
        reasons = [implies(s, b, inventory) for s in _children(body_a)]
        return "; ".join(r for r in reasons if r) if all(reasons) else None
    if ka == "and_statement":
        return next((r for s in _children(body_a) if (r := implies(s, b, inventory))), None)
    if kb == "or_statement":
        return next((r for s in _children(body_b) if (r := implies(a, s, inventory))), None)
    if ka == kb == "not_statement":
        return implies(first(_children(body_b)), first(_children(body_a)), inventory)
    if ka != kb or first_unknown(_plain(body_b)) is not None:
        return None
    leaf = {
        "byte_match_statement": _byte_implies,
        "geo_match_statement": _geo_implies,
        "size_constraint_statement": _size_implies,
        "label_match_statement": _label_implies,
    }.get(ka)
    if ka == "ip_set_reference_statement":
        return _ip_implies(body_a, body_b, inventory)
    return leaf(_plain(body_a), _plain(body_b)) if leaf else None


def _same_component(a: dict[str, Any], b: dict[str, Any]) -> bool:
    try:
        same = ordered(a.get("text_transformation")) == ordered(b.get("text_transformation"))
    except Undecidable:
        return False
    return same and a.get("field_to_match") == b.get("field_to_match")


def _byte_implies(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """A byte match implies another on the same component when the string it guarantees (at
    the start, the end, anywhere, or as the whole value) contains the other's as required."""
    if not _same_component(a, b):
        return None
    pa, sa = a.get("positional_constraint"), str(a.get("search_string"))
    pb, sb = b.get("positional_constraint"), str(b.get("search_string"))
    bounded = pa == "CONTAINS_WORD"  # sa has a non-word character or an edge on both sides
    left = bounded or pa in ("EXACTLY", "STARTS_WITH")
    right = bounded or pa in ("EXACTLY", "ENDS_WITH")
    holds = {
        "CONTAINS": sb in sa,
        "STARTS_WITH": pa in ("EXACTLY", "STARTS_WITH") and sa.startswith(sb),
        "ENDS_WITH": pa in ("EXACTLY", "ENDS_WITH") and sa.endswith(sb),
        "EXACTLY": pa == "EXACTLY" and sa == sb,
        "CONTAINS_WORD": _word_within(sa, sb, left, right),
    }.get(str(pb), False)
    if not holds or pa not in ("EXACTLY", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "CONTAINS_WORD"):
        return None
    return f"{_field(a)} {pa} {sa!r} implies {pb} {sb!r}"


def _word_within(sa: str, sb: str, left: bool, right: bool) -> bool:
    """Whether sb occurs in sa as a word, given whether sa's own edges are word boundaries."""
    if not sb:
        return False
    start = sa.find(sb)
    while start != -1:
        end = start + len(sb)
        before = left if start == 0 else not _is_word(sa[start - 1])
        after = right if end == len(sa) else not _is_word(sa[end])
        if before and after:
            return True
        start = sa.find(sb, start + 1)
    return False


def _is_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _geo_implies(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    codes_a, codes_b = set(a.get("country_codes") or []), set(b.get("country_codes") or [])
    if a.get("forwarded_ip_config") != b.get("forwarded_ip_config") or not codes_a <= codes_b:
        return None
    return f"countries {sorted(codes_a)} are among {sorted(codes_b)}"


def _sizes(body: dict[str, Any]) -> list[tuple[float, float]] | None:
    """The sizes a size constraint accepts, as inclusive ranges (None: not a known constraint)."""
    op, n = body.get("comparison_operator"), body.get("size")
    if not isinstance(n, int) or isinstance(n, bool):
        return None
    ranges: dict[str, list[tuple[float, float]]] = {
        "EQ": [(n, n)],
        "NE": [(0, n - 1), (n + 1, _INFINITY)],
        "LT": [(0, n - 1)],
        "LE": [(0, n)],
        "GT": [(n + 1, _INFINITY)],
        "GE": [(n, _INFINITY)],
    }
    found = ranges.get(str(op))
    return None if found is None else [(lo, hi) for lo, hi in found if lo <= hi and hi >= 0]


def _size_implies(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    ra, rb = _sizes(a), _sizes(b)
    if ra is None or rb is None or not _same_component(a, b):
        return None
    if not all(any(lb <= lo and hi <= hb for lb, hb in rb) for lo, hi in ra):
        return None
    return (
        f"{_field(a)} size {a.get('comparison_operator')} {a.get('size')} implies"
        f" {b.get('comparison_operator')} {b.get('size')}"
    )


def _label_implies(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    key_a, key_b = str(a.get("key")), str(b.get("key"))
    if a.get("scope") == "LABEL" and b.get("scope") == "NAMESPACE":
        prefix = key_b if key_b.endswith(":") else f"{key_b}:"
        if key_a.startswith(prefix):
            return f"label {key_a} is in namespace {key_b}"
    return None


def _networks(body: dict[str, Any], inventory: WafInventory) -> list[Any] | None:
    key = body.get("__ref__") or body.get("arn")
    found = inventory.ip_sets.get(key) if isinstance(key, str) else None
    if found is None or not isinstance(found.addresses, list):
        return None
    try:
        return [ipaddress.ip_network(str(a), strict=False) for a in found.addresses]
    except ValueError:
        return None


def _ip_implies(a: dict[str, Any], b: dict[str, Any], inventory: WafInventory) -> str | None:
    config = "ip_set_forwarded_ip_config"
    if _plain(a.get(config)) != _plain(b.get(config)):
        return None
    na, nb = _networks(a, inventory), _networks(b, inventory)
    if na is None or nb is None:
        return None
    within = all(
        any(x.version == y.version and x.subnet_of(y) for y in nb)  # type: ignore[arg-type]
        for x in na
    )
    return "every CIDR of the IP set lies within the other IP set" if within else None


def condition(rule: WafRule) -> dict[str, Any] | None:
    """The requests a rule acts on (a rate-based or managed rule: its scope-down; None: all)."""
    if rule.kind in ("rate_based_statement", "managed_rule_group_statement"):
        return first(rule.body.get("scope_down_statement")) or None
    if rule.kind == "rule_group_reference_statement":
        return None
    return rule.statement


def _decides(rule: WafRule) -> bool:
    """Whether a rule's match is a static condition that terminates the request."""
    return rule.action in TERMINATING and rule.kind not in (
        "rate_based_statement",
        "managed_rule_group_statement",
        "rule_group_reference_statement",
    )


def unreachable(acl: WebAcl, inventory: WafInventory) -> Iterator[tuple[WafRule, WafRule, str]]:
    """(rule, the earlier rule that decides first, why) for each unreachable rule."""
    ordered_rules = acl.ordered()
    for i, rule in enumerate(ordered_rules):
        cond = condition(rule)
        for earlier in ordered_rules[:i]:
            if not _decides(earlier) or earlier.priority == rule.priority:
                continue
            if always(earlier.statement):
                yield rule, earlier, f"{earlier.name}'s statement matches every request"
                break
            reason = implies(cond, earlier.statement, inventory) if cond is not None else None
            if reason:
                yield rule, earlier, reason
                break


def required_labels(statement: Any) -> list[str]:
    """The LABEL keys a statement needs present (a label match, alone or in an and)."""
    kind, body = _split(statement)
    if kind == "label_match_statement" and body.get("scope") == "LABEL":
        return [str(body.get("key"))] if isinstance(body.get("key"), str) else []
    if kind == "and_statement":
        return [key for s in _children(body) for key in required_labels(s)]
    return []


def starved(
    acl: WebAcl, namespaces: dict[str, str]
) -> Iterator[tuple[WafRule, str, list[WafRule]]]:
    """(rule, label, its emitters) for a rule needing a label that only requests already
    terminated carry: every earlier emitter terminates the request as it adds the label."""
    ordered_rules = acl.ordered()
    for i, rule in enumerate(ordered_rules):
        for key in required_labels(rule.statement):
            emitters = [e for e in ordered_rules[:i] if _emits(e, key, namespaces) is not None]
            if emitters and all(_emits(e, key, namespaces) for e in emitters):
                yield rule, key, emitters
                break


def _emits(rule: WafRule, key: str, namespaces: dict[str, str]) -> bool | None:
    """None: the rule does not emit the label; True: only on requests it terminates; False: on
    requests that go on (a count)."""
    if rule.kind == "managed_rule_group_statement":
        group = str(rule.body.get("name"))
        namespace = namespaces.get(group)
        names = [
            n for n in RULES.get(group, ()) if namespace and managed_label(namespace, n) == key
        ]
        if not names:
            return None
        counted = {
            str(o.get("name"))
            for o in blocks(rule.body.get("rule_action_override"))
            if block_name(o.get("action_to_use")) == "count"
        } | {str(e.get("name")) for e in blocks(rule.body.get("excluded_rule"))}
        return rule.override_action == "none" and names[0] not in counted
    if any(key == label or key.endswith(f":{label}") for label in rule.labels):
        return rule.action in TERMINATING
    return None
