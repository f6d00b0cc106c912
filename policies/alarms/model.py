"""The alarms inventory both tiers produce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from policies.model import Location

_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass
class Metric:
    namespace: str
    name: str
    statistic: str | None
    period: int | None
    dimensions: dict[str, str]


@dataclass
class Alarm:
    name: str
    location: Location
    metrics: list[Metric]  # the one metric, or every metric of a metric-math alarm
    expression: str | None  # the returned metric-math expression
    comparison: str | None
    threshold: float | None
    evaluation_periods: int | None
    datapoints_to_alarm: int | None
    treat_missing_data: str | None
    alarm_actions: list[str]  # "sns:<topic name>" or the raw value
    ok_actions: list[str]
    lines: dict[str, Location] = field(default_factory=dict)  # attribute -> where (static)
    unknowns: dict[str, Any] = field(default_factory=dict)  # attribute -> what only apply knows

    def at(self, attribute: str) -> Location:
        return self.lines.get(attribute, self.location)

    @property
    def statistic(self) -> str | None:
        return self.metrics[0].statistic if len(self.metrics) == 1 else None

    @property
    def period(self) -> int | None:
        periods = {m.period for m in self.metrics}
        return periods.pop() if len(periods) == 1 else None


@dataclass
class Topic:
    name: str
    location: Location
    kms_key: str | None
    customer_managed_key: bool
    key_allows_cloudwatch: bool
    subscriptions: int


@dataclass
class AlarmsInventory:
    alarms: list[Alarm] = field(default_factory=list)
    topics: dict[str, Topic] = field(default_factory=dict)
    addons: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)  # resolved alarm-module variables
    resource_types: set[str] = field(default_factory=set)  # what the tree declares (both tiers)


def number(value: Any) -> float | None:
    """Terraform writes numbers as numbers or strings ("300"); the API as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def integer(value: Any) -> int | None:
    n = number(value)
    return int(n) if n is not None and n == int(n) else None


def allows_cloudwatch(policy: Any) -> bool:
    """Whether a KMS key policy lets CloudWatch encrypt for an encrypted topic."""
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        principal = st.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (
            st.get("Effect") == "Allow"
            and "cloudwatch.amazonaws.com" in services
            and any(a in ("kms:GenerateDataKey*", "kms:GenerateDataKey", "kms:*") for a in actions)
            and any(a in ("kms:Decrypt", "kms:*") for a in actions)
        ):
            return True
    return False
