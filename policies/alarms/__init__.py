"""Alarms family: CloudWatch alarms, their SNS topic, and what feeds their metrics."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.alarms.static import read_static

    return read_static(tree.terraform)


FAMILY = Family(
    name="alarms",
    what="CloudWatch alarm (aws_cloudwatch_metric_alarm)",
    read=_read,
    present=lambda inventory: bool(inventory.alarms),
    live="alarms_live",
)
