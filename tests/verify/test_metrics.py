"""The metrics policies on --infra (static) and on a real Prometheus (live): targets up, every
dashboard and rule query returns series (and says why not), GPU series carry gpu and pod."""

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.metrics.promql import metric_name, parse, selectors
from policies.model import Finding, Location
from policies.registry import all_checks

CHECKS = all_checks()


def _require_queries(inventory, where):
    if not inventory.queries:
        pytest.fail(f"no dashboard or rule query found in {where}", pytrace=False)


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("metrics", "static"))
def test_static(policy, metrics_static, infra_dir, gate):
    _require_queries(metrics_static, str(infra_dir))
    gate(policy, CHECKS[policy](metrics_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["MET-020"])
def test_targets_up(policy, prometheus_target, gate):
    prometheus, _ = prometheus_target.get()
    targets = prometheus.api("targets")["activeTargets"]
    if not targets:
        pytest.fail(f"{prometheus.url} has no active target", pytrace=False)
    gate(
        policy,
        [
            Finding(
                policy,
                t["labels"].get("job", "?"),
                f"target {t['scrapeUrl']} is {t['health']}",
                "up",
                t.get("lastError") or t["health"],
                Location(resource=t["scrapeUrl"]),
            )
            for t in targets
            if t["health"] != "up"
        ],
    )


@pytest.mark.live
def test_jobs_without_local_stand_in(prometheus_target):
    _, without = prometheus_target.get()
    if without:
        pytest.skip(
            f"scrape jobs {', '.join(without)} have no local stand-in (their exporters "
            "need the real services): verify them with --prometheus-url"
        )


def _why_empty(prometheus, expr):
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


@pytest.mark.live
@pytest.mark.parametrize("policy", ["MET-021"])
def test_queries_return_series(policy, prometheus_target, metrics_static, gate):
    prometheus, _ = prometheus_target.get()
    _require_queries(metrics_static, "infra")
    findings = []
    for query in metrics_static.queries:
        probes = [query.expr]
        if query.source.startswith("rule"):
            # An alert returns nothing while it is not firing: its selectors must have series.
            node, _ = parse(query.expr)
            probes = [str(s) for s in selectors(node)] if node is not None else probes
        for probe in probes:
            if not prometheus.api("query", query=probe)["result"]:
                findings.append(
                    Finding(
                        policy,
                        query.source,
                        f"{probe} returns no series",
                        "at least one series",
                        _why_empty(prometheus, probe),
                        query.location,
                    )
                )
    gate(policy, findings)


@pytest.mark.live
@pytest.mark.parametrize("policy", ["MET-022"])
def test_gpu_series_carry_gpu_and_pod(policy, prometheus_target, gate):
    prometheus, _ = prometheus_target.get()
    params = load_catalog()[policy].params
    series = prometheus.api("query", query=params["metric"])["result"]
    where = Location(resource=f"{prometheus.url} {params['metric']}")
    if not series:
        gate(
            policy,
            [
                Finding(
                    policy,
                    params["metric"],
                    "no GPU utilisation series",
                    f"series with {', '.join(params['labels'])}",
                    "none",
                    where,
                )
            ],
        )
        return
    gate(
        policy,
        [
            Finding(
                policy,
                params["metric"],
                f"series without {', '.join(missing)}",
                ", ".join(params["labels"]),
                ", ".join(sorted(s["metric"])),
                where,
            )
            for s in series
            if (missing := [label for label in params["labels"] if label not in s["metric"]])
        ],
    )
