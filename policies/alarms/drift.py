"""ALM-010: the deployed alarms against the declared ones, field by field."""

from __future__ import annotations

from typing import Any

from policies.alarms.model import Alarm, AlarmsInventory
from policies.model import Finding, Policy, matches_declared, resource

FIELDS = (
    ("comparison", "comparison_operator"),
    ("threshold", "threshold"),
    ("evaluation_periods", "evaluation_periods"),
    ("datapoints_to_alarm", "datapoints_to_alarm"),
    ("treat_missing_data", "treat_missing_data"),
    ("expression", "metric_query expression"),
)


def drift(declared: AlarmsInventory, deployed: AlarmsInventory, policy: Policy) -> list[Finding]:
    live = {a.name: a for a in deployed.alarms}
    findings = []
    for want in declared.alarms:
        got = live.get(want.name)
        if got is None:
            findings.append(
                Finding(
                    policy.id,
                    resource("alarm", want.name),
                    "declared alarm is not deployed",
                    f"alarm declared at {want.location}",
                    "absent",
                    want.location,
                )
            )
            continue
        for attr, hcl in FIELDS:
            w, g = _norm(getattr(want, attr)), _norm(getattr(got, attr))
            if w != g:
                findings.append(
                    Finding(
                        policy.id,
                        resource("alarm-field", want.name, hcl),
                        f"{hcl} differs from {want.at(hcl.split()[0])}",
                        str(w),
                        str(g),
                        got.location,
                    )
                )
        if not _same_metrics(want, got):
            findings.append(
                Finding(
                    policy.id,
                    resource("alarm-field", want.name, "metrics"),
                    f"metrics differ from {want.location}",
                    str(_metrics(want)),
                    str(_metrics(got)),
                    got.location,
                )
            )
        for attr in ("alarm_actions", "ok_actions"):
            if sorted(getattr(want, attr)) != sorted(getattr(got, attr)):
                findings.append(
                    Finding(
                        policy.id,
                        resource("alarm-field", want.name, attr),
                        f"{attr} differ from {want.at(attr)}",
                        str(sorted(getattr(want, attr))),
                        str(sorted(getattr(got, attr))),
                        got.location,
                    )
                )
    return findings


def _norm(value: Any) -> Any:
    return (
        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    )


def _same_metrics(want: Alarm, got: Alarm) -> bool:
    """Same metrics; a declared dimension value still unresolved ("${module.alb.arn_suffix}")
    matches whatever was deployed."""
    if len(want.metrics) != len(got.metrics):
        return False
    unmatched = list(got.metrics)
    for w in want.metrics:
        found = next(
            (
                g
                for g in unmatched
                if (w.namespace, w.name, w.statistic, w.period)
                == (g.namespace, g.name, g.statistic, g.period)
                and w.dimensions.keys() == g.dimensions.keys()
                and all(matches_declared(v, g.dimensions[k]) for k, v in w.dimensions.items())
            ),
            None,
        )
        if found is None:
            return False
        unmatched.remove(found)
    return True


def _metrics(alarm: Alarm) -> list[tuple[Any, ...]]:
    return sorted(
        (m.namespace, m.name, m.statistic, m.period, tuple(sorted(m.dimensions.items())))
        for m in alarm.metrics
    )
