"""Terraform under --infra -> AlarmsInventory."""

from __future__ import annotations

from typing import Any

from policies.alarms.model import (
    Alarm,
    AlarmsInventory,
    Metric,
    Topic,
    allows_cloudwatch,
    integer,
    number,
)
from policies.model import Location
from policies.terraform import TfProject, TfResource, blocks, json_value, listed, text_of
from policies.tfeval import Unknown

_ATTRIBUTES = (
    "comparison_operator",
    "threshold",
    "evaluation_periods",
    "datapoints_to_alarm",
    "treat_missing_data",
    "alarm_actions",
    "ok_actions",
    "statistic",
    "period",
    "metric_name",
)


def read_static(project: TfProject) -> AlarmsInventory:
    inv = AlarmsInventory()
    topics = {res.address + "@" + res.instance: res for res in project.of_type("aws_sns_topic")}
    subscriptions: dict[str, int] = {}
    for sub in project.of_type("aws_sns_topic_subscription"):
        target = project.referenced(sub, sub.body.get("topic_arn"))
        if target is not None:
            key = target.address + "@" + target.instance
            subscriptions[key] = subscriptions.get(key, 0) + 1
    for key, res in topics.items():
        kms = res.body.get("kms_master_key_id")
        key_res = project.referenced(res, kms)
        inv.topics[text_of(res, "name")] = Topic(
            name=text_of(res, "name"),
            location=Location(res.path, res.line, res.address),
            kms_key=str(kms) if kms is not None else None,
            customer_managed_key=key_res is not None and key_res.type == "aws_kms_key",
            key_allows_cloudwatch=key_res is not None and allows_cloudwatch(_policy(key_res)),
            subscriptions=subscriptions.get(key, 0),
        )
    for res in project.of_type("aws_cloudwatch_metric_alarm"):
        inv.alarms.append(_alarm(project, res))
        inv.variables[res.address] = project.module_vars.get(res.instance, {})
    inv.addons = [str(r.body.get("addon_name")) for r in project.of_type("aws_eks_addon")]
    inv.resource_types = {r.type for r in project.resources}
    return inv


def _policy(key: TfResource) -> Any:
    return json_value(key.body.get("policy"))


def _alarm(project: TfProject, res: TfResource) -> Alarm:
    body = res.body
    metrics, expression = [], None
    for query in blocks(body.get("metric_query")):
        if query.get("expression") and query.get("return_data") in (True, "true", None):
            expression = str(query["expression"])
        for metric in blocks(query.get("metric")):
            metrics.append(
                Metric(
                    str(metric.get("namespace")),
                    str(metric.get("metric_name")),
                    metric.get("stat"),
                    integer(metric.get("period")),
                    _dimensions(metric.get("dimensions")),
                )
            )
    if body.get("metric_name"):
        metrics.append(
            Metric(
                str(body.get("namespace")),
                str(body.get("metric_name")),
                body.get("statistic") or body.get("extended_statistic"),
                integer(body.get("period")),
                _dimensions(body.get("dimensions")),
            )
        )
    lines = {
        a: Location(res.path, project.attr_line(res.path, body, a), res.address)
        for a in _ATTRIBUTES
        if a in body
    }
    return Alarm(
        name=text_of(res, "alarm_name"),
        location=Location(res.path, res.line, res.address),
        metrics=metrics,
        expression=expression,
        comparison=body.get("comparison_operator"),
        threshold=number(body.get("threshold")),
        evaluation_periods=integer(body.get("evaluation_periods")),
        datapoints_to_alarm=integer(body.get("datapoints_to_alarm")),
        treat_missing_data=body.get("treat_missing_data"),
        alarm_actions=[_action(project, res, a) for a in listed(body.get("alarm_actions"))],
        ok_actions=[_action(project, res, a) for a in listed(body.get("ok_actions"))],
        lines=lines,
        unknowns={a: v for a in _ATTRIBUTES if isinstance(v := body.get(a), Unknown)},
    )


def _dimensions(value: Any) -> dict[str, str]:
    """Dimension values; one only apply knows is written "${...}" (it matches any deployed
    value in drift)."""
    if not isinstance(value, dict):
        return {}
    return {
        str(k): "${" + v.text + "}" if isinstance(v, Unknown) else str(v) for k, v in value.items()
    }


def _action(project: TfProject, res: TfResource, value: Any) -> str:
    target = project.referenced(res, value)
    if target is not None and target.type == "aws_sns_topic":
        return f"sns:{text_of(target, 'name')}"
    return str(value)
