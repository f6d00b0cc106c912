"""Alarms check bodies: pure functions over an AlarmsInventory."""

from __future__ import annotations

import re
from typing import Any

from policies.alarms.model import Alarm, AlarmsInventory
from policies.model import REVIEW, Finding, Location, Policy, resource, unverifiable
from policies.registry import check
from policies.tfeval import Unknown


def _matches(alarm: Alarm, spec: dict[str, Any]) -> bool:
    return any(m.namespace == spec["namespace"] and m.name == spec["metric"] for m in alarm.metrics)


def _required(inv: AlarmsInventory, policy: Policy) -> list[tuple[dict[str, Any], list[Alarm]]]:
    """The catalog's alarms whose watched resource exists, with the alarms on them. A resource
    exists when the tree declares it, when an alarm of the tree watches its namespace (an
    alarms module receives the database, not declares it), or when the repository says so
    (also_present: declared elsewhere)."""
    watched = {m.namespace for alarm in inv.alarms for m in alarm.metrics}
    present = inv.resource_types | set(policy.params["also_present"])
    present |= {
        t for s in policy.params["required"] if s["namespace"] in watched for t in s["watches"]
    }
    return [
        (spec, [a for a in inv.alarms if _matches(a, spec)])
        for spec in policy.params["required"]
        if present & set(spec["watches"])
    ]


@check("ALM-001")
def required_alarms(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    where = inv.alarms[0].location if inv.alarms else Location(resource="CloudWatch alarms")
    return [
        Finding(
            policy.id,
            resource("required-alarm", spec["key"]),
            f"no alarm on {spec['namespace']} {spec['metric']}",
            f"an alarm on {spec['metric']}",
            "absent",
            where,
        )
        for spec, alarms in _required(inv, policy)
        if not alarms
    ]


def _outside(value: Any, allowed: Any) -> bool:
    if allowed is None:
        return False
    if (
        isinstance(allowed, list)
        and len(allowed) == 2
        and all(isinstance(x, (int, float)) for x in allowed)
    ):
        return value is None or not allowed[0] <= value <= allowed[1]
    return value not in allowed


@check("ALM-002")
def alarm_bounds(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    findings = []
    fields = (
        ("statistic", "statistic", "statistic"),
        ("comparison", "comparison", "comparison_operator"),
        ("threshold", "threshold", "threshold"),
        ("period", "period", "period"),
        ("evaluation_periods", "evaluation_periods", "evaluation_periods"),
        ("datapoints_to_alarm", "datapoints_to_alarm", "datapoints_to_alarm"),
    )
    for spec, alarms in _required(inv, policy):
        for alarm in alarms:
            metric = next(m for m in alarm.metrics if m.name == spec["metric"])
            for key, attr, hcl in fields:
                value = getattr(metric if key in ("statistic", "period") else alarm, attr)
                inherited = key == "datapoints_to_alarm" and value is None
                if inherited and "evaluation_periods" in alarm.unknowns:
                    continue  # evaluation_periods' own review finding covers it
                if inherited:  # unset: AWS evaluates M = N (datapoints = evaluation periods)
                    value = alarm.evaluation_periods
                if hcl in alarm.unknowns and spec.get(key) is not None:
                    findings.append(
                        unverifiable(
                            policy.id,
                            resource("alarm-field", alarm.name, hcl),
                            alarm.at(hcl),
                            f"the alarm's {hcl}",
                            alarm.unknowns[hcl],
                        )
                    )
                elif _outside(value, spec.get(key)):
                    bound = spec[key]
                    shown = (
                        f"{bound[0]}..{bound[1]}"
                        if key not in ("statistic", "comparison")
                        else " or ".join(bound)
                    )
                    findings.append(
                        Finding(
                            policy.id,
                            resource("alarm", alarm.name),
                            f"{hcl} out of bounds",
                            shown,
                            f"not set: evaluation_periods {value} applies"
                            if inherited
                            else "not set"
                            if value is None
                            else str(value),
                            alarm.at(hcl),
                        )
                    )
            if spec.get("rate_of") and not any(m.name == spec["rate_of"] for m in alarm.metrics):
                findings.append(
                    Finding(
                        policy.id,
                        resource("alarm", alarm.name),
                        f"alarms on a {spec['metric']} count, not a rate",
                        f"100 * {spec['metric']} / {spec['rate_of']} (metric math)",
                        "absolute count",
                        alarm.at("threshold"),
                    )
                )
    return findings


@check("ALM-003")
def alarm_actions(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for alarm in inv.alarms:
        for attr, actions in (
            ("alarm_actions", alarm.alarm_actions),
            ("ok_actions", alarm.ok_actions),
        ):
            topics = [a for a in actions if a.removeprefix("sns:") in inv.topics]
            if attr in alarm.unknowns:
                findings.append(
                    unverifiable(
                        policy.id,
                        resource("alarm-field", alarm.name, attr),
                        alarm.at(attr),
                        f"the alarm's {attr}",
                        alarm.unknowns[attr],
                    )
                )
            elif not topics:
                findings.append(
                    Finding(
                        policy.id,
                        resource("alarm", alarm.name),
                        f"no {attr} to the alarm topic",
                        f"{attr} = [<alarm topic ARN>]",
                        ", ".join(actions) or "none",
                        alarm.at(attr),
                    )
                )
    return findings


@check("ALM-004")
def topic_subscribed(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    used = {
        a.removeprefix("sns:")
        for alarm in inv.alarms
        for a in (*alarm.alarm_actions, *alarm.ok_actions)
    }
    return [
        Finding(
            policy.id,
            resource("sns-topic", topic.name),
            "the alarm topic has no subscription",
            "at least one subscription",
            "none",
            topic.location,
        )
        for name, topic in inv.topics.items()
        if name in used and topic.subscriptions == 0
    ]


@check("ALM-005")
def topic_encrypted(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    used = {
        a.removeprefix("sns:")
        for alarm in inv.alarms
        for a in (*alarm.alarm_actions, *alarm.ok_actions)
    }
    findings = []
    for name, topic in inv.topics.items():
        if name not in used:
            continue
        if not topic.customer_managed_key:
            findings.append(
                Finding(
                    policy.id,
                    resource("sns-topic", name),
                    "alarm topic not encrypted with a customer-managed key",
                    "kms_master_key_id = aws_kms_key",
                    topic.kms_key or "unencrypted",
                    topic.location,
                )
            )
        elif not topic.key_allows_cloudwatch:
            findings.append(
                Finding(
                    policy.id,
                    resource("sns-topic", name),
                    "the topic's key does not let CloudWatch publish",
                    "key policy: cloudwatch.amazonaws.com kms:GenerateDataKey* + kms:Decrypt",
                    "not granted",
                    topic.location,
                )
            )
    return findings


@check("ALM-006")
def explicit_missing_data(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("alarm", a.name),
            "treat_missing_data not set",
            "breaching, notBreaching, ignore or missing, chosen explicitly",
            "default",
            a.location,
        )
        for a in inv.alarms
        if not a.treat_missing_data
    ]


@check("ALM-007")
def relative_connections(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    p = policy.params
    findings = []
    for alarm in inv.alarms:
        if not any(m.name == "DatabaseConnections" for m in alarm.metrics):
            continue
        klass, expected_max, why = _max_connections(inv, alarm, p)
        divisor = re.search(r"/\s*(\d+)\s*$", alarm.expression or "")
        if divisor is None:
            known = f"{klass}: {expected_max}" if why is None else f"not known: {why}"
            findings.append(
                Finding(
                    policy.id,
                    resource("alarm", alarm.name),
                    "connection threshold is absolute",
                    f"<= {p['max_percent']}% of max_connections ({known})",
                    f"{alarm.threshold} connections",
                    alarm.at("threshold"),
                )
            )
            continue
        if why is not None:
            findings.append(
                Finding(
                    policy.id,
                    resource("alarm", alarm.name),
                    f"cannot check the expression's max_connections ({divisor.group(1)}): {why}",
                    "the instance class and engine, with a max_connections in the catalog",
                    "unknown",
                    alarm.location,
                    REVIEW,
                )
            )
        elif int(divisor.group(1)) != expected_max:
            findings.append(
                Finding(
                    policy.id,
                    resource("alarm", alarm.name),
                    f"max_connections in the expression does not match {klass}",
                    str(expected_max),
                    divisor.group(1),
                    alarm.location,
                )
            )
        if alarm.threshold is None or alarm.threshold > p["max_percent"]:
            findings.append(
                Finding(
                    policy.id,
                    resource("alarm", alarm.name),
                    "connection alarm fires too late",
                    f"<= {p['max_percent']} (% of max_connections)",
                    str(alarm.threshold),
                    alarm.at("threshold"),
                )
            )
    return findings


def _max_connections(
    inv: AlarmsInventory, alarm: Alarm, p: dict[str, Any]
) -> tuple[str, int | None, str | None]:
    """The alarm's instance class, its default max_connections, and why that is not known
    (None when it is): from the class and engine variables of the alarm's module."""
    variables = inv.variables.get(alarm.location.resource or "", {})
    klass, engine = variables.get(p["class_variable"]), variables.get(p["engine_variable"])
    if klass is None:
        return "?", None, f"the alarm's module has no variable {p['class_variable']}"
    for name, value in ((p["class_variable"], klass), (p["engine_variable"], engine)):
        if isinstance(value, Unknown):
            return str(klass), None, f"var.{name} is not known before apply ({value})"
    engine = "postgres" if engine is None else str(engine)
    found = p["max_connections"].get(engine, {}).get(str(klass))
    if not isinstance(found, int):
        why = f"{klass} ({engine}) is not in the catalog's max_connections table"
        return str(klass), None, why
    return str(klass), found, None


@check("ALM-008")
def addon_declared(inv: AlarmsInventory, policy: Policy) -> list[Finding]:
    needed = policy.params["addons"]
    return [
        Finding(
            policy.id,
            resource("alarm", alarm.name),
            f"{m.namespace} metrics need the {needed[m.namespace]} "
            "add-on, which the tree does not declare",
            f'aws_eks_addon addon_name = "{needed[m.namespace]}"',
            "absent",
            alarm.location,
        )
        for alarm in inv.alarms
        for m in alarm.metrics
        if m.namespace in needed and needed[m.namespace] not in inv.addons
    ]
