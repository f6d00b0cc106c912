"""Terraform -> WafInventory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policies.model import Location, arn_name
from policies.terraform import TfProject, TfResource, blocks, listed, root_instance, text_of
from policies.tfeval import Unknown
from policies.waf.model import (
    IpSet,
    LogStream,
    RegexSet,
    WafInventory,
    WafLogging,
    WafRule,
    WebAcl,
    block_body,
    block_name,
    canonical,
    first,
    redacted_names,
    walk_statements,
)

# Reference statements whose `arn` names a set declared alongside the Web ACL.
_REFERENCES = ("ip_set_reference_statement", "regex_pattern_set_reference_statement")

_DESTINATION_TYPES = {
    "aws_kinesis_firehose_delivery_stream": "name",
    "aws_cloudwatch_log_group": "name",
    "aws_s3_bucket": "bucket",
}


def read_static(project: TfProject) -> WafInventory:
    """Every Web ACL declared under the project, with its logging, associations and streams."""
    inventory = WafInventory()
    for res in project.of_type("aws_kinesis_firehose_delivery_stream"):
        stream = _stream(project, res)
        inventory.streams[stream.name] = stream
    for res in project.of_type("aws_wafv2_ip_set"):
        ip_set = IpSet(
            name=text_of(res, "name"),
            key=_key(res),
            version=res.body.get("ip_address_version"),
            addresses=res.body.get("addresses", []),
            location=Location(res.path, res.line, res.address),
        )
        inventory.ip_sets[ip_set.key] = ip_set
    for res in project.of_type("aws_wafv2_regex_pattern_set"):
        patterns = [r.get("regex_string") for r in blocks(res.body.get("regular_expression"))]
        regex_set = RegexSet(
            name=text_of(res, "name"),
            key=_key(res),
            patterns=patterns,
            location=Location(res.path, res.line, res.address),
        )
        inventory.regex_sets[regex_set.key] = regex_set
    acls: dict[str, WebAcl] = {}
    for res in project.of_type("aws_wafv2_web_acl"):
        acls[res.address] = _acl(project, res)
    for res in project.of_type("aws_wafv2_web_acl_logging_configuration"):
        target = project.referenced(res, res.body.get("resource_arn"))
        if target is not None and target.address in acls:
            acls[target.address].logging = _logging(project, res)
    for res in project.of_type("aws_wafv2_web_acl_association"):
        target = project.referenced(res, res.body.get("web_acl_arn"))
        if target is not None and target.address in acls:
            acls[target.address].associations.append(str(res.body.get("resource_arn")))
    inventory.acls = list(acls.values())
    return inventory


def _key(res: TfResource) -> str:
    return f"{root_instance(res.instance)}:{res.address}"


def _acl(project: TfProject, res: TfResource) -> WebAcl:
    rules = []
    for rule in blocks(res.body.get("rule")):
        priority = canonical(rule.get("priority"))
        statement = canonical(first(rule.get("statement")), keep_lines=True)
        for kind, body in walk_statements(statement):
            target = project.referenced(res, body.get("arn")) if kind in _REFERENCES else None
            if target is not None:
                body["__ref__"] = _key(target)
        rules.append(
            WafRule(
                name=str(rule.get("name")),
                priority=priority if isinstance(priority, int) else None,
                action=block_name(rule.get("action")),
                override_action=block_name(rule.get("override_action")),
                statement=statement,
                labels=[str(label.get("name")) for label in blocks(rule.get("rule_label"))],
                location=_rule_location(res, rule),
                unknowns={k: v for k, v in (("priority", priority),) if isinstance(v, Unknown)},
                generated="__file__" in rule,
                action_body=block_body(rule.get("action")),
            )
        )
    return WebAcl(
        name=text_of(res, "name"),
        scope=str(res.body.get("scope")),
        default_action=block_name(res.body.get("default_action")) or "",
        rules=rules,
        location=Location(res.path, res.line, res.address),
        unevaluated=list(res.unevaluated),
        default_action_body=block_body(res.body.get("default_action")),
    )


def _rule_location(res: TfResource, rule: dict[str, Any]) -> Location:
    """Where a rule is written: its block, or, for a rule a dynamic block built from a caller's
    value, the caller's line (where the fix goes) with the module's block as related."""
    if "__file__" not in rule:
        return Location(res.path, rule.get("__start_line__"), res.address)
    related = Location(res.path, (rule.get("__related__") or [None, None])[1], res.address)
    return Location(Path(rule["__file__"]), rule.get("__start_line__"), res.address, related)


def _logging(project: TfProject, res: TfResource) -> WafLogging:
    destinations, unknown = [], []
    for ref in listed(res.body.get("log_destination_configs")):
        target = project.referenced(res, ref)
        attr = _DESTINATION_TYPES.get(target.type) if target else None
        if target is not None and attr:
            destinations.append(text_of(target, attr))
        elif isinstance(ref, Unknown) and not ref.undeclared:
            unknown.append(ref)
        elif isinstance(ref, str) and ref.startswith("arn:"):
            destinations.append(arn_name(ref))  # a stream declared elsewhere, by its ARN
        else:
            destinations.append(_shown(ref) or "null")
    redacted = redacted_names(blocks(res.body.get("redacted_fields")))
    return WafLogging(destinations, redacted, Location(res.path, res.line, res.address), unknown)


def _stream(project: TfProject, res: TfResource) -> LogStream:
    destination = str(res.body.get("destination"))
    config: dict[str, Any] = first(
        res.body.get(f"{destination}_configuration") or res.body.get("s3_configuration")
    )
    role, bucket = config.get("role_arn"), config.get("bucket_arn")
    return LogStream(
        name=text_of(res, "name"),
        destination=destination,
        role=_shown(role),
        bucket=_shown(bucket),
        role_exists=_declared(project, res, role, "aws_iam_role"),
        bucket_exists=_declared(project, res, bucket, "aws_s3_bucket"),
        location=Location(
            res.path, project.attr_line(res.path, res.body, "destination"), res.address
        ),
    )


def _shown(value: Any) -> str | None:
    """A reference as the user wrote it (an Unknown's expression), for messages."""
    if value is None:
        return None
    return value.text or str(value) if isinstance(value, Unknown) else str(value)


def _declared(project: TfProject, by: TfResource, ref: Any, type_: str) -> bool | None:
    """A reference names a declared resource of the type; a literal ARN is taken as given;
    None when only apply knows (a variable without a value)."""
    if isinstance(ref, Unknown):
        if ref.undeclared:
            return False
        target = project.referenced(by, ref)
        if target is not None:
            return target.type == type_
        return True if ref.ref else None  # a data source, or a value only apply knows
    return isinstance(ref, str) and ref.startswith("arn:")
