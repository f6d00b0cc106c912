"""The WAF inventory both tiers produce, in Terraform's shape (snake_case, blocks as lists)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from policies.model import Location
from policies.terraform import blocks

# API list keys whose Terraform block is singular (RuleActionOverrides -> rule_action_override).
_API_PLURALS = {
    "statements": "statement",
    "text_transformations": "text_transformation",
    "rule_action_overrides": "rule_action_override",
    "excluded_rules": "excluded_rule",
    "custom_keys": "custom_key",
}
_INT = re.compile(r"-?\d+")
# "__ref__": the IP set or regex pattern set a static reference statement resolves to (its key
# in WafInventory.ip_sets / regex_sets), written by the static reader; not part of the ACL.
META_KEYS = ("__start_line__", "__end_line__", "__file__", "__related__", "__ref__")
_COMPOUND = ("and_statement", "or_statement", "not_statement")


@dataclass
class WafRule:
    name: str
    priority: int | None
    action: str | None  # block / allow / count / captcha / challenge; None for rule groups
    override_action: str | None  # none / count; None for plain rules
    statement: dict[str, Any]  # {"rate_based_statement": [{...}]}
    labels: list[str]  # rule_label names this rule adds
    location: Location
    unknowns: dict[str, Any] = field(default_factory=dict)  # what only apply knows, by attribute
    generated: bool = False  # built by a dynamic block from a caller's value (located there)
    action_body: dict[str, Any] = field(default_factory=dict)  # {"custom_response": [{...}]}

    @cached_property
    def kind(self) -> str:
        return next((k for k in self.statement if k not in META_KEYS), "")

    def at(self, block: dict[str, Any]) -> Location:
        """The location of a nested block: its own line when the reader kept it (static)."""
        line = block.get("__start_line__")
        if line is None or self.location.path is None or self.generated:
            return self.location
        return Location(self.location.path, line, self.location.resource)

    @cached_property
    def body(self) -> dict[str, Any]:
        return first(self.statement.get(self.kind))


@dataclass
class WafLogging:
    destinations: list[str]  # destination names (aws-waf-logs-...) or unresolved references
    redacted: list[str]  # "single_header:authorization", "query_string", ...
    location: Location
    unknown: list[Any] = field(default_factory=list)  # destinations only apply knows


@dataclass
class LogStream:
    """A Firehose delivery stream that receives WAF logs."""

    name: str
    destination: str  # extended_s3, s3 (removed in provider v5), http_endpoint, ...
    role: str | None
    bucket: str | None
    role_exists: bool | None  # None: only apply knows (a variable without a value)
    bucket_exists: bool | None
    location: Location


@dataclass
class WebAcl:
    name: str
    scope: str
    default_action: str
    rules: list[WafRule]
    location: Location
    logging: WafLogging | None = None
    associations: list[str] = field(default_factory=list)
    unevaluated: list[str] = field(default_factory=list)  # rule blocks the reader could not build
    default_action_body: dict[str, Any] = field(default_factory=dict)  # custom_response of block

    def ordered(self) -> list[WafRule]:
        return sorted(self.rules, key=lambda r: (r.priority is None, r.priority or 0))


@dataclass
class IpSet:
    """An aws_wafv2_ip_set. `key` is how reference statements name it: the ARN (live), or
    "<root module instance>:<address>" (static, written as "__ref__" into the statement)."""

    name: str
    key: str
    version: Any  # IPV4 / IPV6 (an Unknown when only apply knows)
    addresses: Any  # list of CIDRs, or an Unknown
    location: Location


@dataclass
class RegexSet:
    """An aws_wafv2_regex_pattern_set, keyed like IpSet."""

    name: str
    key: str
    patterns: Any  # list of regular expressions, or an Unknown
    location: Location


@dataclass
class WafInventory:
    acls: list[WebAcl] = field(default_factory=list)
    streams: dict[str, LogStream] = field(default_factory=dict)
    ip_sets: dict[str, IpSet] = field(default_factory=dict)
    regex_sets: dict[str, RegexSet] = field(default_factory=dict)
    cases: list[Any] = field(default_factory=list)  # the repository's WafCases (static only)
    case_errors: list[Any] = field(default_factory=list)  # CaseErrors of its case files


def first(blocks: Any) -> dict[str, Any]:
    """The single block of a block list (Terraform's shape), or an empty dict."""
    if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict):
        return blocks[0]
    return blocks if isinstance(blocks, dict) else {}


def block_name(blocks: Any) -> str | None:
    """The one nested block's name: action { block {} } -> "block"."""
    keys = [k for k in first(blocks) if k not in META_KEYS]
    return keys[0] if keys else None


def block_body(blocks: Any) -> dict[str, Any]:
    """The one nested block's body: action { block { custom_response {...} } } -> its dict."""
    name = block_name(blocks)
    return canonical(first(first(blocks).get(name))) if name else {}


def redacted_names(fields: list[dict[str, Any]]) -> list[str]:
    """redacted_fields blocks as "single_header:<name>" or the field kind ("query_string")."""
    names = []
    for item in fields:
        kind = block_name([item])
        if kind == "single_header":
            names.append(f"single_header:{str(first(item[kind]).get('name', '')).lower()}")
        elif kind:
            names.append(kind)
    return names


def canonical(value: Any, keep_lines: bool = False) -> Any:
    """A Terraform body with numeric strings as ints; line markers kept only if asked."""
    if isinstance(value, dict):
        return {
            k: canonical(v, keep_lines)
            for k, v in value.items()
            if keep_lines or k not in META_KEYS
        }
    if isinstance(value, list):
        return [canonical(v, keep_lines) for v in value]
    if isinstance(value, str) and _INT.fullmatch(value):
        return int(value)
    return value


def from_api(value: Any) -> Any:
    """A boto3 WAFv2 structure in Terraform's shape: snake_case keys, nested blocks as lists."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _snake(key)
            name = _API_PLURALS.get(name, name)
            converted = from_api(item)
            out[name] = [converted] if isinstance(item, dict) else converted
        return out
    if isinstance(value, list):
        return [from_api(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return canonical(value)


def _snake(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name).lower()


def walk_statements(statement: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (kind, body) in a statement tree, nested and/or/not/scope-down included."""
    for kind, value in statement.items():
        if kind in META_KEYS:
            continue
        body = first(value)
        yield kind, body
        for nested_key in ("statement", "scope_down_statement"):
            for nested in blocks(body.get(nested_key)):
                yield from walk_statements(nested)


# How AWS names the label of a managed rule (AWS WAF developer guide, "AWS Managed Rules rule
# groups list"): the rule name with its upper-case component suffix in mixed case
# (SizeRestrictions_BODY -> ...:SizeRestrictions_Body). Labels are case-sensitive.
LABEL_SUFFIXES = {
    "_QUERYARGUMENTS": "_QueryArguments",
    "_QUERYSTRING": "_QueryString",
    "_URIPATH": "_URIPath",
    "_HEADER": "_Header",
    "_COOKIE": "_Cookie",
    "_BODY": "_Body",
    "_METHOD": "_Method",
}
# The rules whose label is not their name with the suffix above.
LABEL_EXCEPTIONS = {
    "UserAgent_BadBots_HEADER": "BadBots_Header",
    "Host_localhost_HEADER": "Host_Localhost_Header",
    "PROPFIND_METHOD": "Propfind_Method",
}


def managed_label(namespace: str, rule_name: str) -> str:
    """The label AWS adds for a managed rule group's rule (namespace ends with ':')."""
    if rule_name in LABEL_EXCEPTIONS:
        return namespace + LABEL_EXCEPTIONS[rule_name]
    for suffix, written in LABEL_SUFFIXES.items():
        if rule_name.endswith(suffix):
            return namespace + rule_name.removesuffix(suffix) + written
    return namespace + rule_name


def emitted_spelling(key: str, namespaces: Iterable[str]) -> str | None:
    """For a label key in a managed namespace that AWS never emits as written (a rule name, or
    the right label in the wrong case), the label AWS emits; None when the key is right."""
    namespace = next((n for n in namespaces if key.startswith(n)), None)
    rule = key.removeprefix(namespace) if namespace is not None else ""
    if not rule:
        return None
    right = managed_label(namespace, rule)  # a rule name written as the label
    for label in LABEL_EXCEPTIONS.values():
        if rule.casefold() == label.casefold():
            right = namespace + label
    return right if right != key else None


def consumed_labels(rule: WafRule) -> list[str]:
    """The label keys (or namespaces) a rule's statement matches."""
    return [
        str(body.get("key", ""))
        for kind, body in walk_statements(rule.statement)
        if kind == "label_match_statement"
    ]


def category(rule: WafRule, managed_groups: dict[str, str]) -> str:
    """The rule's place in the recommended order, from what its statement does."""
    kind, body = rule.kind, rule.body
    if kind == "managed_rule_group_statement":
        if body.get("vendor_name") != "AWS":
            return "third_party"
        return managed_groups.get(str(body.get("name")), "signature")
    if kind in _COMPOUND:
        leaves = [k for k, _ in walk_statements(rule.statement) if k not in _COMPOUND]
        kind = leaves[0] if leaves else kind
    return {
        "rate_based_statement": "rate_based",
        "geo_match_statement": "geo",
        "ip_set_reference_statement": "ip_set",
        "asn_match_statement": "asn",
        "rule_group_reference_statement": "custom_group",
        "label_match_statement": "label_match",
    }.get(kind, "request_validation")
