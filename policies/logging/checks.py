"""Logging check bodies: pure functions over a LoggingInventory."""

from __future__ import annotations

from policies.logging.static import LoggingInventory
from policies.model import Finding, Location, Policy, resource
from policies.registry import check


@check("LOG-001")
def outputs_compressed(inv: LoggingInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("fluent-bit-section", f"[OUTPUT] {s.name}"),
            "logs are shipped uncompressed",
            f"compression {' or '.join(policy.params['codecs'])}",
            s.entries.get("compression", "unset"),
            Location(s.location.path, s.lines.get("compression", s.location.line)),
        )
        for s in inv.of("OUTPUT")
        if s.name in policy.params["compressible_outputs"]
        and s.entries.get("compression", "").lower() not in policy.params["codecs"]
    ]


@check("LOG-002")
def retention_bounded(inv: LoggingInventory, policy: Policy) -> list[Finding]:
    low, high = policy.params["min_days"], policy.params["max_days"]
    findings = []
    for s in inv.of("OUTPUT"):
        if s.name != "cloudwatch_logs":
            continue
        days = s.entries.get("log_retention_days", "")
        if not days.isdigit() or not low <= int(days) <= high:
            findings.append(
                Finding(
                    policy.id,
                    resource("fluent-bit-section", f"[OUTPUT] {s.name}"),
                    "log group retention not bounded",
                    f"log_retention_days {low}..{high}",
                    days or "unset (kept forever)",
                    Location(s.location.path, s.lines.get("log_retention_days", s.location.line)),
                )
            )
    return findings


@check("LOG-003")
def kubernetes_filter_first(inv: LoggingInventory, policy: Policy) -> list[Finding]:
    filters = inv.of("FILTER")
    position = next((i for i, f in enumerate(filters) if f.name == "kubernetes"), None)
    if position is None:
        return (
            [
                Finding(
                    policy.id,
                    resource("fluent-bit-section", "[FILTER] kubernetes"),
                    "no kubernetes filter: logs carry no pod, namespace or labels",
                    "a kubernetes filter",
                    "none",
                    filters[0].location if filters else Location(resource="fluent-bit"),
                )
            ]
            if inv.of("OUTPUT")
            else []
        )
    return [
        Finding(
            policy.id,
            resource("fluent-bit-section", f"[FILTER] {f.name}"),
            f"{f.name} runs before the kubernetes filter",
            "kubernetes first (Merge_Log On parses JSON logs after enrichment)",
            f"{f.name} at position {i + 1}, kubernetes at {position + 1}",
            f.location,
        )
        for i, f in enumerate(filters[:position])
    ]
