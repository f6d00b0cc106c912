"""Deployed CloudWatch alarms and SNS topics (boto3, read-only) -> AlarmsInventory."""

from __future__ import annotations

import json
from typing import Any

from policies.alarms.model import Alarm, AlarmsInventory, Metric, Topic, allows_cloudwatch, integer
from policies.model import Location
from policies.targets.aws import AwsTarget


def read_live(target: AwsTarget) -> AlarmsInventory:
    cloudwatch, sns, kms = (target.client(s) for s in ("cloudwatch", "sns", "kms"))
    inv = AlarmsInventory()
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        inv.alarms.extend(_alarm(raw) for raw in page.get("MetricAlarms", []))
    for page in sns.get_paginator("list_topics").paginate():
        for entry in page.get("Topics", []):
            arn = entry["TopicArn"]
            attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
            key = attributes.get("KmsMasterKeyId")
            customer, allows = False, False
            if key:
                meta = kms.describe_key(KeyId=key)["KeyMetadata"]
                customer = meta.get("KeyManager") == "CUSTOMER"
                policy = kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"]
                allows = allows_cloudwatch(json.loads(policy))
            subscriptions = sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", [])
            name = arn.rsplit(":", 1)[-1]
            inv.topics[name] = Topic(
                name, Location(resource=arn), key, customer, allows, len(subscriptions)
            )
    return inv


def _alarm(raw: dict[str, Any]) -> Alarm:
    metrics, expression = [], None
    for query in raw.get("Metrics", []):
        if query.get("Expression") and query.get("ReturnData", True):
            expression = query["Expression"]
        if "MetricStat" in query:
            stat = query["MetricStat"]
            metrics.append(_metric(stat["Metric"], stat.get("Stat"), stat.get("Period")))
    if raw.get("MetricName"):
        metrics.append(
            _metric(raw, raw.get("Statistic") or raw.get("ExtendedStatistic"), raw.get("Period"))
        )
    return Alarm(
        name=raw["AlarmName"],
        location=Location(resource=raw["AlarmArn"]),
        metrics=metrics,
        expression=expression,
        comparison=raw.get("ComparisonOperator"),
        threshold=raw.get("Threshold"),
        evaluation_periods=raw.get("EvaluationPeriods"),
        datapoints_to_alarm=raw.get("DatapointsToAlarm"),
        treat_missing_data=raw.get("TreatMissingData"),
        alarm_actions=[_action(a) for a in raw.get("AlarmActions", [])],
        ok_actions=[_action(a) for a in raw.get("OKActions", [])],
    )


def _metric(raw: dict[str, Any], statistic: str | None, period: Any) -> Metric:
    dimensions = {d["Name"]: d["Value"] for d in raw.get("Dimensions", [])}
    return Metric(
        raw.get("Namespace", ""), raw.get("MetricName", ""), statistic, integer(period), dimensions
    )


def _action(arn: str) -> str:
    return f"sns:{arn.rsplit(':', 1)[-1]}" if arn.startswith("arn:aws:sns:") else arn
