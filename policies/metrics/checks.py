"""Metrics check bodies: pure functions over a MetricsInventory."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.metrics.model import MetricsInventory, Query
from policies.metrics.promql import (
    Parsed,
    calls,
    keeps_le,
    metric_name,
    output_labels,
    parse_query,
    quantile_fix,
    selectors,
)
from policies.model import Finding, Policy, resource
from policies.registry import check

SYNTHETIC = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
}
_LEGEND = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _parse(query: Query) -> Parsed:
    return parse_query(query.expr, query.variables)


def _parsed(inv: MetricsInventory) -> Iterator[tuple[Query, Parsed]]:
    """The queries that parse (Grafana's with their variables' stand-ins)."""
    for query in inv.queries:
        parsed = _parse(query)
        if parsed.error is None:
            yield query, parsed


@check("MET-001")
def produced(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for query, parsed in _parsed(inv):
        for selector in selectors(parsed.node):
            name = metric_name(selector)
            if name is None or name in SYNTHETIC or parsed.templated(name):
                continue
            series = inv.series.get(name)
            if series is None:
                findings.append(
                    Finding(
                        policy.id,
                        resource("query-metric", query.source, name),
                        f"{name} is exported by nothing in infra",
                        "a metric of the app code or an exporter",
                        name,
                        query.location,
                    )
                )
            elif not inv.scraped(series.producer):
                findings.append(
                    Finding(
                        policy.id,
                        resource("query-metric", query.source, name),
                        f"{name} comes from "
                        f"{series.producer}, which no scrape job or "
                        "ServiceMonitor selects",
                        f"a scrape job selecting {series.producer}",
                        "none",
                        query.location,
                    )
                )
    return findings


@check("MET-002")
def parses(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("query", query.source),
            "PromQL does not parse",
            "valid PromQL",
            error,
            query.location,
        )
        for query in inv.queries
        for error in [_parse(query).error]
        if error is not None
    ]


@check("MET-003")
def quantiles_keep_le(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for query, parsed in _parsed(inv):
        for index, call in enumerate(calls(parsed.node, "histogram_quantile")):
            if len(call.args) > 1 and keeps_le(call.args[1]):
                continue
            findings.append(
                Finding(
                    policy.id,
                    resource("query", query.source),
                    "histogram_quantile over buckets not summed by le (one quantile per series)",
                    quantile_fix(query.expr, index, call, parsed.names),
                    query.expr,
                    query.location,
                )
            )
    return findings


@check("MET-004")
def rate_on_counters(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for query, parsed in _parsed(inv):
        for call in calls(parsed.node, "rate", "irate", "increase"):
            for selector in selectors(call):
                series = inv.series.get(metric_name(selector) or "")
                if series is not None and series.type != "counter":
                    findings.append(
                        Finding(
                            policy.id,
                            resource("query", query.source),
                            f"{call.func.name}() on the {series.type} {series.name}",
                            "a counter",
                            series.type,
                            query.location,
                        )
                    )
    return findings


@check("MET-005")
def bounded_labels(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    unbounded = set(policy.params["unbounded_labels"])
    seen, findings = set(), []
    for series in inv.series.values():
        bad = sorted(set(series.labels) & unbounded)
        key = (str(series.location), tuple(bad))
        if bad and key not in seen:
            seen.add(key)
            findings.append(
                Finding(
                    policy.id,
                    resource("metric", series.name),
                    f"label {', '.join(bad)} has unbounded cardinality",
                    "bounded labels (tier, status, ...)",
                    ", ".join(series.labels),
                    series.location,
                )
            )
    return findings


@check("MET-006")
def legend_labels_exist(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    extra = {"job", "instance"} | {label for job in inv.jobs for label in job.target_labels}

    def labels_of(name: str | None) -> set[str] | None:
        series = inv.series.get(name or "")
        return None if series is None else set(series.labels) | extra

    findings = []
    for query, parsed in _parsed(inv):
        wanted = _LEGEND.findall(query.legend or "")
        have = output_labels(parsed.node, labels_of)
        if have is not None and any(parsed.templated(label) for label in have):
            have = None  # grouped by a variable: the labels are the dashboard user's choice
        missing = [label for label in wanted if have is not None and label not in have]
        if missing:
            findings.append(
                Finding(
                    policy.id,
                    resource("query", query.source),
                    f"legend uses {', '.join(missing)}, which the query's result does not carry",
                    f"labels of the result: {', '.join(sorted(have or []))}",
                    query.legend or "",
                    query.location,
                )
            )
    return findings


def _grafana(inv: MetricsInventory) -> str | None:
    return None if inv.grafana or inv.grafana_passwords else "no Grafana configuration"


@check("MET-007", applies=_grafana)
def grafana_password_from_secret(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("secret-value", p.setting),
            f"Grafana admin password written in {p.setting}",
            p.fix,
            "a literal password",
            p.location,
        )
        for p in inv.grafana_passwords
    ]


@check("MET-008")
def dashboards_well_formed(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("dashboard", issue.location.path.name if issue.location.path else ""),
            issue.problem,
            issue.expected,
            issue.actual,
            issue.location,
        )
        for issue in inv.dashboard_issues
    ]


@check("MET-009")
def metrics_endpoint_format(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("endpoint", f"{e.app} /metrics"),
            "the endpoint does not answer in the Prometheus text format",
            "Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)",
            e.returns,
            e.location,
        )
        for e in inv.endpoints
        if not e.prometheus_format
    ]
