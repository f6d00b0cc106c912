"""Deployed WAFv2 (boto3) -> WafInventory, read-only."""

from __future__ import annotations

from typing import Any

from policies.model import Location, arn_name
from policies.targets.aws import AwsTarget
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
    from_api,
    redacted_names,
)


def read_live(target: AwsTarget, scope: str = "REGIONAL") -> WafInventory:
    """Every Web ACL of the region with its logging, ALB associations and log streams."""
    wafv2 = target.client("wafv2")
    inventory = WafInventory()
    for summary in _listed(wafv2.list_web_acls, "WebACLs", scope):
        detail = wafv2.get_web_acl(Name=summary["Name"], Scope=scope, Id=summary["Id"])["WebACL"]
        inventory.acls.append(_acl(wafv2, detail, scope))
    for summary in _listed(wafv2.list_ip_sets, "IPSets", scope):
        found = wafv2.get_ip_set(Name=summary["Name"], Scope=scope, Id=summary["Id"])["IPSet"]
        inventory.ip_sets[found["ARN"]] = IpSet(
            name=found["Name"],
            key=found["ARN"],
            version=found.get("IPAddressVersion"),
            addresses=list(found.get("Addresses", [])),
            location=Location(resource=found["ARN"]),
        )
    for summary in _listed(wafv2.list_regex_pattern_sets, "RegexPatternSets", scope):
        found = wafv2.get_regex_pattern_set(Name=summary["Name"], Scope=scope, Id=summary["Id"])[
            "RegexPatternSet"
        ]
        inventory.regex_sets[found["ARN"]] = RegexSet(
            name=found["Name"],
            key=found["ARN"],
            patterns=[r.get("RegexString") for r in found.get("RegularExpressionList", [])],
            location=Location(resource=found["ARN"]),
        )
    associations = _alb_associations(target, wafv2)
    for acl in inventory.acls:
        acl.associations = associations.get(acl.location.resource or "", [])
        for name in acl.logging.destinations if acl.logging else []:
            if name not in inventory.streams:
                stream = _stream(target, name)
                if stream is not None:
                    inventory.streams[name] = stream
    return inventory


def _listed(operation: Any, key: str, scope: str) -> list[dict[str, Any]]:
    """Every summary of a WAFv2 list operation (NextMarker pages)."""
    found: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        page = operation(Scope=scope, Limit=100, **({"NextMarker": marker} if marker else {}))
        found += page.get(key, [])
        marker = page.get("NextMarker")
        if not marker or not page.get(key):
            return found


def _acl(wafv2: Any, detail: dict[str, Any], scope: str) -> WebAcl:
    arn = detail["ARN"]
    rules = []
    for raw in detail.get("Rules", []):
        rule = from_api(raw)
        rules.append(
            WafRule(
                name=raw["Name"],
                priority=raw["Priority"],
                action=block_name(rule.get("action")),
                override_action=block_name(rule.get("override_action")),
                statement=rule["statement"][0],
                labels=[label["Name"] for label in raw.get("RuleLabels", [])],
                location=Location(resource=f"{arn} rule {raw['Name']}"),
                action_body=block_body(rule.get("action")),
            )
        )
    default = from_api(detail["DefaultAction"])
    acl = WebAcl(
        name=detail["Name"],
        scope=scope,
        default_action=block_name(default) or "",
        rules=rules,
        location=Location(resource=arn),
        default_action_body=block_body(default),
    )
    try:
        config = wafv2.get_logging_configuration(ResourceArn=arn)["LoggingConfiguration"]
    except wafv2.exceptions.WAFNonexistentItemException:
        config = None
    if config is not None:
        acl.logging = WafLogging(
            destinations=[arn_name(d) for d in config.get("LogDestinationConfigs", [])],
            redacted=redacted_names(from_api(config.get("RedactedFields", []))),
            location=Location(resource=f"{arn} logging"),
        )
    return acl


def _alb_associations(target: AwsTarget, wafv2: Any) -> dict[str, list[str]]:
    """Web ACL ARN -> the load balancers it protects (read per ALB: works on AWS and moto)."""
    associations: dict[str, list[str]] = {}
    pages = target.client("elbv2").get_paginator("describe_load_balancers").paginate()
    for page in pages:
        for lb in page.get("LoadBalancers", []):
            if lb.get("Type") != "application":
                continue
            acl = wafv2.get_web_acl_for_resource(ResourceArn=lb["LoadBalancerArn"]).get("WebACL")
            if acl:
                associations.setdefault(acl["ARN"], []).append(lb["LoadBalancerArn"])
    return associations


def _stream(target: AwsTarget, name: str) -> LogStream | None:
    firehose = target.client("firehose")
    try:
        desc = firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]
    except firehose.exceptions.ResourceNotFoundException:
        return None
    dest = (desc.get("Destinations") or [{}])[0]
    if "ExtendedS3DestinationDescription" in dest:
        kind, s3 = "extended_s3", dest["ExtendedS3DestinationDescription"]
    else:
        kind, s3 = (
            "s3" if "S3DestinationDescription" in dest else "other",
            dest.get("S3DestinationDescription", {}),
        )
    role, bucket = s3.get("RoleARN"), s3.get("BucketARN")
    return LogStream(
        name=name,
        destination=kind,
        role=role,
        bucket=bucket,
        role_exists=bool(role) and _exists(target, "iam", "get_role", RoleName=arn_name(role)),
        bucket_exists=bool(bucket)
        and _exists(target, "s3", "head_bucket", Bucket=arn_name(bucket)),
        location=Location(resource=desc["DeliveryStreamARN"]),
    )


def _exists(target: AwsTarget, service: str, operation: str, **kwargs: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        getattr(target.client(service), operation)(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in (
            "NoSuchEntity",
            "404",
            "NoSuchBucket",
            "NotFound",
        ):
            return False
        raise
    return True
