"""Terraform -> WafInventory."""

from __future__ import annotations

from typing import Any

from policies.model import Location
from policies.terraform import TfProject, TfResource, blocks, listed
from policies.waf.model import (
    LogStream,
    WafInventory,
    WafLogging,
    WafRule,
    WebAcl,
    block_name,
    canonical,
    first,
    redacted_names,
)

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
    acls: dict[str, WebAcl] = {}
    for res in project.of_type("aws_wafv2_web_acl"):
        acls[res.address] = _acl(res)
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


def _acl(res: TfResource) -> WebAcl:
    rules = []
    for rule in blocks(res.body.get("rule")):
        priority = canonical(rule.get("priority"))
        rules.append(
            WafRule(
                name=str(rule.get("name")),
                priority=priority if isinstance(priority, int) else None,
                action=block_name(rule.get("action")),
                override_action=block_name(rule.get("override_action")),
                statement=canonical(first(rule.get("statement")), keep_lines=True),
                labels=[str(label.get("name")) for label in blocks(rule.get("rule_label"))],
                location=Location(res.path, rule.get("__start_line__"), res.address),
            )
        )
    return WebAcl(
        name=str(res.body.get("name")),
        scope=str(res.body.get("scope")),
        default_action=block_name(res.body.get("default_action")) or "",
        rules=rules,
        location=Location(res.path, res.line, res.address),
    )


def _logging(project: TfProject, res: TfResource) -> WafLogging:
    destinations = []
    for ref in listed(res.body.get("log_destination_configs")):
        target = project.referenced(res, ref)
        attr = _DESTINATION_TYPES.get(target.type) if target else None
        destinations.append(str(target.body.get(attr)) if target and attr else str(ref))
    redacted = redacted_names(blocks(res.body.get("redacted_fields")))
    return WafLogging(destinations, redacted, Location(res.path, res.line, res.address))


def _stream(project: TfProject, res: TfResource) -> LogStream:
    destination = str(res.body.get("destination"))
    config: dict[str, Any] = first(
        res.body.get(f"{destination}_configuration") or res.body.get("s3_configuration")
    )
    role, bucket = config.get("role_arn"), config.get("bucket_arn")
    return LogStream(
        name=str(res.body.get("name")),
        destination=destination,
        role=str(role) if role is not None else None,
        bucket=str(bucket) if bucket is not None else None,
        role_exists=_declared(project, res, role, "aws_iam_role"),
        bucket_exists=_declared(project, res, bucket, "aws_s3_bucket"),
        location=Location(
            res.path, project.attr_line(res.path, res.body, "destination"), res.address
        ),
    )


def _declared(project: TfProject, by: TfResource, ref: Any, type_: str) -> bool:
    """A reference names a declared resource of the type; a literal ARN is taken as given."""
    if not isinstance(ref, str) or not ref:
        return False
    if ref.startswith("arn:"):
        return True
    target = project.referenced(by, ref)
    return target is not None and target.type == type_
