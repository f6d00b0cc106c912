"""Metrics probes of the live tier, on a real Prometheus (--prometheus-url, or the embedded one
scraping local stand-ins): every target up (MET-020), every dashboard and rule query has series
and says why not (MET-021), GPU utilisation carries gpu and pod (MET-022)."""

from __future__ import annotations

from typing import Any

from policies.lazy import Lazy
from policies.metrics.promql import metric_name, parse, selectors
from policies.model import Finding, Location, Policy, resource
from policies.registry import probe


def _queries(inventory: Any) -> str | None:
    return None if inventory.queries else "no dashboard or rule query"


def _jobs(inventory: Any) -> str | None:
    return None if inventory.jobs else "no scrape job or ServiceMonitor"


def _gpu(inventory: Any) -> str | None:
    queried = any("DCGM_" in q.expr for q in inventory.queries)
    scraped = any("dcgm" in job.text for job in inventory.jobs)
    return None if queried or scraped else "no GPU exporter scraped or queried"


@probe("MET-020", needs=("prometheus_target",), applies=_jobs)
def targets_up(policy: Policy, prometheus_target: Lazy[Any]) -> list[Finding]:
    prometheus = prometheus_target.get().prometheus
    targets = prometheus.api("targets")["activeTargets"]
    if not targets:
        return [
            Finding(
                policy.id,
                resource("endpoint", prometheus.url),
                "Prometheus has no active target",
                "the tree's scrape jobs as targets",
                "none",
                Location(resource=prometheus.url),
            )
        ]
    return [
        Finding(
            policy.id,
            resource("scrape-job", t["labels"].get("job", "?")),
            f"target {t['scrapeUrl']} is {t['health']}",
            "up",
            t.get("lastError") or t["health"],
            Location(resource=t["scrapeUrl"]),
        )
        for t in targets
        if t["health"] != "up"
    ]


def _why_empty(prometheus: Any, expr: str) -> str:
    """pint-style: the metric never existed, or a label matcher matches none of its series."""
    node, _ = parse(expr)
    for selector in selectors(node) if node is not None else []:
        name = metric_name(selector)
        if name and not prometheus.api("query", query=f'count({{__name__="{name}"}})')["result"]:
            return f"metric {name} does not exist on this Prometheus"
        for matcher in selector.matchers.matchers:
            if matcher.name == "__name__" or not name:
                continue
            probe = f"count({name}{{{matcher}}})"
            if not prometheus.api("query", query=probe)["result"]:
                return f"{name} exists, but no series matches {matcher}"
    return (
        "every selector has series: the functions/operators yield nothing (e.g. a range too short)"
    )


@probe("MET-021", needs=("prometheus_target", "metrics_static"), applies=_queries)
def queries_return_series(
    policy: Policy, prometheus_target: Lazy[Any], metrics_static: Any
) -> list[Finding]:
    prometheus = prometheus_target.get().prometheus
    findings = []
    for query in metrics_static.queries:
        probes = [query.expr]
        if query.source.startswith("rule"):
            # An alert returns nothing while it is not firing: its selectors must have series.
            node, _ = parse(query.expr)
            probes = [str(s) for s in selectors(node)] if node is not None else probes
        for expr in probes:
            if not prometheus.api("query", query=expr)["result"]:
                findings.append(
                    Finding(
                        policy.id,
                        resource("query", query.source),
                        f"{expr} returns no series",
                        "at least one series",
                        _why_empty(prometheus, expr),
                        query.location,
                    )
                )
    return findings


@probe("MET-022", needs=("prometheus_target",), applies=_gpu)
def gpu_series_carry_gpu_and_pod(policy: Policy, prometheus_target: Lazy[Any]) -> list[Finding]:
    prometheus = prometheus_target.get().prometheus
    metric, labels = policy.params["metric"], policy.params["labels"]
    series = prometheus.api("query", query=metric)["result"]
    where = Location(resource=f"{prometheus.url} {metric}")
    if not series:
        return [
            Finding(
                policy.id,
                resource("metric", metric),
                "no GPU utilisation series",
                f"series with {', '.join(labels)}",
                "none",
                where,
            )
        ]
    return [
        Finding(
            policy.id,
            resource("metric", metric),
            f"series without {', '.join(missing)}",
            ", ".join(labels),
            ", ".join(sorted(s["metric"])),
            where,
        )
        for s in series
        if (missing := [label for label in labels if label not in s["metric"]])
    ]
