"""Metrics check bodies: pure functions over a MetricsInventory."""

from __future__ import annotations

import re

import promql_parser as pp

from policies.metrics.model import MetricsInventory
from policies.metrics.promql import calls, metric_name, output_labels, parse, selectors, unwrap
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


def _parsed(inv: MetricsInventory):  # type: ignore[no-untyped-def]
    for query in inv.queries:
        node, error = parse(query.expr)
        if error is None:
            yield query, node


@check("MET-001")
def produced(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for query, node in _parsed(inv):
        for selector in selectors(node):
            name = metric_name(selector)
            if name is None or name in SYNTHETIC:
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
        for _, error in [parse(query.expr)]
        if error is not None
    ]


@check("MET-003")
def quantiles_keep_le(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for query, node in _parsed(inv):
        for call in calls(node, "histogram_quantile"):
            arg = unwrap(call.args[1]) if len(call.args) > 1 else None
            keeps = (
                isinstance(arg, pp.AggregateExpr)
                and arg.modifier is not None
                and str(arg.modifier.type).endswith("By")
                and "le" in arg.modifier.labels
            )
            if not keeps:
                findings.append(
                    Finding(
                        policy.id,
                        resource("query", query.source),
                        "histogram_quantile over unaggregated buckets (one quantile per series)",
                        "histogram_quantile(q, sum by (le) (rate(x_bucket[5m])))",
                        query.expr,
                        query.location,
                    )
                )
    return findings


@check("MET-004")
def rate_on_counters(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for query, node in _parsed(inv):
        for call in calls(node, "rate", "irate", "increase"):
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
    for query, node in _parsed(inv):
        wanted = _LEGEND.findall(query.legend or "")
        have = output_labels(node, labels_of)
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


@check("MET-007")
def grafana_password_from_secret(inv: MetricsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("secret-value", "grafana.adminPassword"),
            "Grafana admin password written in values",
            "grafana.admin.existingSecret",
            "a literal password",
            where,
        )
        for where in inv.grafana_passwords
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
