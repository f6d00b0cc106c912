"""Rule statements evaluated on one request, three-valued: True (matches), False, or None when
the simulator cannot decide (an Unknown value, an opaque statement). and/or/not follow Kleene's
logic: a branch that decides the result decides it even when another branch is undecidable.

Statement semantics: AWS WAF developer guide, "Rule statements"
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statements-list.html) and the
WAFV2 API reference of each statement type."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import re2

from policies.terraform import blocks
from policies.tfeval import first_unknown
from policies.waf.model import META_KEYS, IpSet, RegexSet, first
from policies.waf.request import Inspected, Request, inspected, utf8
from policies.waf.transforms import Undecidable, ordered, transform

SHOWN = 60  # bytes of an inspected value shown in the trace
_WORD = rb"[A-Za-z0-9_]"
OPAQUE = ("sqli_match_statement", "xss_match_statement")


@dataclass(frozen=True)
class Step:
    """One statement's evaluation: where it is in the rule (`path`), its result, the component
    inspected, the transformations applied (in order) and the value after them (truncated),
    and what was compared or why it is undecidable."""

    path: str
    result: bool | None
    field: str = ""
    transformations: tuple[str, ...] = ()
    value: str = ""
    detail: str = ""


@dataclass
class Context:
    """What statements read besides the request: the labels added so far, the Web ACL's label
    context (awswaf:<account>:webacl:<name>:), its scope (body limit), the referenced sets, and
    the case's declaration for the rule's opaque (SQLi/XSS) statements."""

    request: Request
    label_context: str
    scope: str = "REGIONAL"
    labels: list[str] = field(default_factory=list)
    ip_sets: dict[str, IpSet] = field(default_factory=dict)
    regex_sets: dict[str, RegexSet] = field(default_factory=dict)
    opaque: bool | None = None

    def qualified(self, key: str) -> str:
        """A label key as a fully qualified label: a key not starting with "awswaf:" is in the
        Web ACL's own context (the API reference, LabelMatchStatement)."""
        return key if key.startswith("awswaf:") else self.label_context + key


def evaluate(statement: dict[str, Any], ctx: Context, path: str = "") -> list[Step]:
    """The steps of a statement tree, the statement's own step first."""
    kind = next((k for k in statement if k not in META_KEYS), "")
    body = first(statement.get(kind))
    here = f"{path}.{kind}" if path else kind
    if kind in ("and_statement", "or_statement", "not_statement"):
        children: list[list[Step]] = [
            evaluate(s, ctx, f"{here}.statement[{i}]" if kind != "not_statement" else here)
            for i, s in enumerate(blocks(body.get("statement")))
        ]
        results = [steps[0].result for steps in children]
        if kind == "not_statement":
            result = None if not results or results[0] is None else not results[0]
        elif kind == "and_statement":
            result = False if False in results else None if None in results else True
        else:
            result = True if True in results else None if None in results else False
        return [Step(here, result), *(s for steps in children for s in steps)]
    try:
        return [_leaf(kind, body, ctx, here)]
    except Undecidable as exc:
        return [Step(here, None, detail=str(exc))]


def _leaf(kind: str, body: dict[str, Any], ctx: Context, path: str) -> Step:
    if kind == "label_match_statement":
        return _label_match(body, ctx, path)
    if kind == "geo_match_statement":
        return _geo_match(body, ctx, path)
    if kind == "ip_set_reference_statement":
        return _ip_set(body, ctx, path)
    if kind in OPAQUE:
        if ctx.opaque is None:
            raise Undecidable(
                f"opaque statement: AWS does not publish its {kind.split('_')[0]} detection;"
                " the case must declare whether the rule matches (rules:)"
            )
        return Step(path, ctx.opaque, detail="declared by the case")
    tests = {
        "byte_match_statement": _byte_match,
        "regex_match_statement": _regex_match,
        "regex_pattern_set_reference_statement": _regex_set,
        "size_constraint_statement": _size,
    }
    if kind not in tests:
        raise Undecidable(f"{kind or 'an empty statement'} is not simulated here")
    predicate, detail = tests[kind](body, ctx)
    return _inspect(body, ctx, path, predicate, detail)


def _known(body: dict[str, Any], *attrs: str) -> None:
    for attr in attrs:
        unknown = first_unknown(body.get(attr))
        if unknown is not None:
            raise Undecidable(f"{attr} is {unknown}")


def _inspect(body: dict[str, Any], ctx: Context, path: str, predicate: Any, detail: str) -> Step:
    """Apply the transformations to each inspected value; match when one satisfies the
    predicate (a missing component, such as an absent header, has no value: no match)."""
    _known(body, "field_to_match", "text_transformation")
    found: Inspected = inspected(body.get("field_to_match"), ctx.request, ctx.scope)
    types = ordered(body.get("text_transformation"))
    note = f"{detail}; {found.note}" if found.note else detail
    if found.forced is not None:
        return Step(path, found.forced, found.name, tuple(types), "", note)
    shown = b""
    for value in found.values:
        value = transform(value, types)
        shown = shown or value
        if predicate(value):
            return Step(path, True, found.name, tuple(types), _shown(value), note)
    if not found.values:
        note += "; the component is absent"
    return Step(path, False, found.name, tuple(types), _shown(shown), note)


def _shown(value: bytes) -> str:
    text = value[:SHOWN].decode("utf-8", "backslashreplace")
    return text + (f"... ({len(value)} bytes)" if len(value) > SHOWN else "")


def _byte_match(body: dict[str, Any], ctx: Context) -> tuple[Any, str]:
    """EXACTLY, STARTS_WITH, ENDS_WITH, CONTAINS, and CONTAINS_WORD: the string with no
    alphanumeric or underscore character on either side (API reference, ByteMatchStatement).
    The search string is case-sensitive and not transformed."""
    _known(body, "search_string", "positional_constraint")
    needle = utf8(str(body.get("search_string", "")))
    where = body.get("positional_constraint")
    word = re.compile(rb"(?<!" + _WORD + rb")" + re.escape(needle) + rb"(?!" + _WORD + rb")")
    tests = {
        "EXACTLY": lambda v: v == needle,
        "STARTS_WITH": lambda v: v.startswith(needle),
        "ENDS_WITH": lambda v: v.endswith(needle),
        "CONTAINS": lambda v: needle in v,
        "CONTAINS_WORD": lambda v: word.search(v) is not None,
    }
    if where not in tests:
        raise Undecidable(f"positional_constraint {where!r}")
    return tests[where], f"{where} {needle.decode('utf-8', 'backslashreplace')!r}"


# AWS WAF reads PCRE syntax less backreferences and capturing subexpressions, recursion,
# conditionals, backtracking verbs, \C, \R, \K, callouts, atomic groups, possessive
# quantifiers, large repetition counts and excessive nesting (developer guide, "Supported regular
# expression syntax in AWS WAF"). RE2 rejects these too (\C aside), and lookaround, (?x) and \Z,
# which the guide leaves open ("some zero-width assertions, but not all"): a pattern RE2 rejects
# is undecidable. RE2 matches in time linear in the value, byte by byte (Latin-1: the pattern's
# bytes read as by PCRE without UTF mode and by Python's bytes re). PCRE's $ also matches before
# a final newline, RE2's only at the end: a value ending in a newline is also searched without
# it (where \z then matches too).
_RE2 = re2.Options()
_RE2.encoding = re2.Options.Encoding.LATIN1
_RE2.log_errors = False


@functools.lru_cache(maxsize=1024)
def _re2(pattern: bytes) -> Any:
    """The compiled pattern, or RE2's reason it cannot compile it (text)."""
    try:
        return re2.compile(pattern, _RE2)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not accepted"
        return reason.decode("utf-8", "backslashreplace") if isinstance(reason, bytes) else reason


def _compiled(pattern: Any) -> Callable[[bytes], bool]:
    """A search for the pattern in a value; a pattern RE2 cannot compile is undecidable."""
    regex = _re2(utf8(str(pattern)))
    if isinstance(regex, str):
        raise Undecidable(f"regular expression {pattern!r} is not simulated (RE2: {regex})")

    def search(value: bytes) -> bool:
        if regex.search(value) is not None:
            return True
        return value.endswith(b"\n") and regex.search(value[:-1]) is not None

    return search


def _regex_match(body: dict[str, Any], ctx: Context) -> tuple[Any, str]:
    _known(body, "regex_string")
    regex = _compiled(body.get("regex_string"))
    return regex, f"regex {body.get('regex_string')!r}"


def _referenced(body: dict[str, Any], sets: dict[str, Any], what: str) -> Any:
    key = body.get("__ref__") or body.get("arn")
    found = sets.get(key) if isinstance(key, str) else None
    if found is None:
        raise Undecidable(f"the {what} {body.get('arn')} is not declared in the tree")
    return found


def _regex_set(body: dict[str, Any], ctx: Context) -> tuple[Any, str]:
    regex_set: RegexSet = _referenced(body, ctx.regex_sets, "regex pattern set")
    if first_unknown(regex_set.patterns) is not None or not isinstance(regex_set.patterns, list):
        raise Undecidable(f"regex pattern set {regex_set.name} patterns are {regex_set.patterns}")
    regexes = [_compiled(p) for p in regex_set.patterns]
    return (lambda v: any(r(v) for r in regexes)), f"regex pattern set {regex_set.name}"


_COMPARE = {
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
    "LE": lambda a, b: a <= b,
    "LT": lambda a, b: a < b,
    "GE": lambda a, b: a >= b,
    "GT": lambda a, b: a > b,
}


def _size(body: dict[str, Any], ctx: Context) -> tuple[Any, str]:
    """The size in bytes of the transformed component WAF received (an oversized body counts
    up to the inspection limit with oversize handling CONTINUE: the size constraint guide)."""
    _known(body, "comparison_operator", "size")
    operator, size = body.get("comparison_operator"), body.get("size")
    if operator not in _COMPARE or not isinstance(size, int):
        raise Undecidable(f"size constraint {operator} {size}")
    return (lambda v: _COMPARE[operator](len(v), size)), f"size {operator} {size}"


def _label_match(body: dict[str, Any], ctx: Context, path: str) -> Step:
    """LABEL: the label, exactly; NAMESPACE: a label in the namespace. Labels are
    case-sensitive; only labels added by rules evaluated earlier exist."""
    _known(body, "scope", "key")
    scope, key = body.get("scope"), ctx.qualified(str(body.get("key")))
    if scope == "LABEL":
        result = key in ctx.labels
    elif scope == "NAMESPACE":
        prefix = key if key.endswith(":") else f"{key}:"
        result = any(label.startswith(prefix) for label in ctx.labels)
    else:
        raise Undecidable(f"label_match scope {scope!r}")
    return Step(path, result, "labels", detail=f"{scope} {key}")


def forwarded(config: dict[str, Any], ctx: Context, position: str = "FIRST") -> Any:
    """The addresses a forwarded-IP config inspects: None when the header is absent (WAF does
    not apply the rule), [] when none is valid (the fallback decides)."""
    _known(config, "header_name", "fallback_behavior", "position")
    values = ctx.request.header(str(config.get("header_name")))
    if not values:
        return None
    found = [p.strip() for p in values[0].split(",")]
    # ANY: "If the header contains more than 10 IP addresses, WAF inspects the last 10" (API
    # reference, IPSetForwardedIPConfig); geo and rate-based configs read the first address.
    spans = {"ANY": slice(-10, None), "FIRST": slice(0, 1), "LAST": slice(-1, None)}
    found = found[spans.get(position, spans["FIRST"])]
    return [ip for ip in (_address(a) for a in found) if ip is not None]


def _address(text: str) -> Any:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _geo_match(body: dict[str, Any], ctx: Context, path: str) -> Step:
    """The request's country (the case's `country`, standing for the address WAF inspects; a
    forwarded-IP config reads the header, absent -> no match, invalid -> fallback). Without a
    country the statement does not match. Geo match labels every request it inspects with
    awswaf:clientip:geo:country:<CC> (forwardedip: for a forwarded IP; region labels need
    GeoIP and are not added)."""
    _known(body, "country_codes", "forwarded_ip_config")
    codes = body.get("country_codes") or []
    config = first(body.get("forwarded_ip_config"))
    source = "clientip"
    if config:
        source = "forwardedip"
        addresses = forwarded(config, ctx)
        if addresses is None:
            return Step(path, False, "forwarded IP", detail="header absent: rule not applied")
        if not addresses:
            fallback = config.get("fallback_behavior") == "MATCH"
            return Step(path, fallback, "forwarded IP", detail="no valid IP: fallback")
    country = ctx.request.country
    if country is None:
        return Step(path, False, "country", detail="the case gives no country")
    ctx.labels.append(f"awswaf:{source}:geo:country:{country}")
    return Step(path, country in codes, "country", value=country, detail=f"in {codes}")


def _ip_set(body: dict[str, Any], ctx: Context, path: str) -> Step:
    """The source IP (or forwarded IP: FIRST, LAST or ANY of the header's addresses) in one of
    the set's CIDRs (IPv4 and IPv6)."""
    ip_set: IpSet = _referenced(body, ctx.ip_sets, "IP set")
    if first_unknown(ip_set.addresses) is not None or not isinstance(ip_set.addresses, list):
        raise Undecidable(f"IP set {ip_set.name} addresses are {ip_set.addresses}")
    try:
        networks = [ipaddress.ip_network(str(a), strict=False) for a in ip_set.addresses]
    except ValueError as exc:
        raise Undecidable(f"IP set {ip_set.name}: {exc}") from None
    config = first(body.get("ip_set_forwarded_ip_config"))
    detail = f"IP set {ip_set.name} ({len(networks)} CIDRs)"
    if config:
        addresses = forwarded(config, ctx, str(config.get("position", "FIRST")))
        if addresses is None:
            return Step(path, False, "forwarded IP", detail="header absent: rule not applied")
        if not addresses:
            fallback = config.get("fallback_behavior") == "MATCH"
            return Step(path, fallback, "forwarded IP", detail="no valid IP: fallback")
    elif ctx.request.ip is None:
        raise Undecidable("the case gives no source ip")
    else:
        addresses = [_address(ctx.request.ip)]
        if addresses[0] is None:
            raise Undecidable(f"source ip {ctx.request.ip!r} is not an IP address")
    hit = next((a for a in addresses if any(a in n for n in networks)), None)
    shown = str(hit or addresses[0])
    return Step(path, hit is not None, "source IP", value=shown, detail=detail)
