"""Grafana queries are parsed as Prometheus receives them: template variables replaced by typed
stand-ins, variable queries' inner PromQL, other data sources skipped; real syntax errors are
still MET-002's; stand-ins never become metric names. MET-003's fix keeps the query's own
quantile and grouping; MET-007 applies wherever Grafana is configured."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.catalog import load_catalog
from policies.metrics.model import MetricsInventory, Query
from policies.metrics.promql import metric_name, parse_query, selectors
from policies.metrics.templating import inner_promql, substitute
from policies.model import Location
from policies.registry import Case, all_checks, applicability, bodies, families
from policies.sources import Sources
from policies.tree import Tree
from tests.helpers import FIXTURES

CATALOG = load_catalog()
CHECKS = all_checks()
METRICS = FIXTURES / "metrics"
COLLECTION = METRICS / "good" / "dashboard-collection"


def _inventory(directory: Path) -> MetricsInventory:
    return families()["metrics"].read(Tree(Sources(directory)))


def _findings(inventory: MetricsInventory, policy_id: str):
    return CHECKS[policy_id](inventory, CATALOG[policy_id])


@pytest.mark.parametrize(
    ("expr", "written"),
    [
        (
            'rate(x_total{job=~"$job"}[$__rate_interval])',
            'rate(x_total{job=~"grafana_var_job"}[5m])',
        ),
        ("rate(x_total[${__interval}])", "rate(x_total[5m])"),
        ("increase(x_total[$__range])", "increase(x_total[5m])"),
        ("rate(x_total[$interval])", "rate(x_total[5m])"),
        ("rate(x_total[[[interval]]])", "rate(x_total[5m])"),
        ("max_over_time(x[$__range:$__interval])", "max_over_time(x[5m:5m])"),
        ("x offset $shift", "x offset 5m"),
        ('x{a=~"${a:regex}", b=~"${b:pipe}", c="[[c]]"}', None),
        ("rate(${metric}_total[5m])", "rate(grafana_var_metric_total[5m])"),
        ('$metric{job="x"}', 'grafana_var_metric{job="x"}'),
        ("sum by (${group}) (x)", "sum by (grafana_var_group) (x)"),
        ("x / $__interval_ms", "x / 1"),
        ("x > $threshold", "x > 1"),
        ("topk($n, x)", "topk(1, x)"),
        ("histogram_quantile($quantile, sum by (le) (x_bucket))", None),
        ('label_replace(x, "dst", "$1", "src", "(.*)")', None),
        ('x{a="quote \\" $v"}', None),
    ],
)
def test_variables_get_the_type_their_position_takes(expr, written):
    parsed = parse_query(expr, {"interval": "duration"})
    assert parsed.error is None
    if written is not None:
        assert substitute(expr, {"interval": "duration"})[0].text == written


def test_a_variable_the_position_does_not_type_is_a_number_then_an_identifier():
    assert [c.text for c in substitute("$metric", {})] == ["1", "grafana_var_metric"]
    assert [c.text for c in substitute("$metric", {"metric": "identifier"})] == [
        "grafana_var_metric"
    ]
    assert parse_query("avg($metric)", {}).error is None


@pytest.mark.parametrize(
    "expr",
    [
        'sum(rate(x_total{job=~"$job"}[$__rate_interval])',  # unclosed
        'sum(rate(x_total{job=~"$job",, a="b"}[5m]))',
        "rate(x_total[$__rate_interval]) > > $threshold",
    ],
)
def test_a_query_that_fails_after_substitution_is_still_an_error(expr):
    assert parse_query(expr, {}).error is not None


def test_rules_are_not_interpolated():
    assert parse_query("rate(x[$__rate_interval])").error is not None


@pytest.mark.parametrize(
    ("query", "inner"),
    [
        ('label_values(up{job="x"}, instance)', 'up{job="x"}'),
        ('label_values(up{job=~"a,b"}, instance)', 'up{job=~"a,b"}'),
        ("label_values(instance)", None),
        ("label_names()", None),
        ("metrics(http_.*)", None),
        ("query_result(topk(5, sum by (route) (rate(x[$__range]))))", None),
        ('up{job="x"}', 'up{job="x"}'),
    ],
)
def test_variable_queries_hold_promql_or_none(query, inner):
    expected = "topk(5, sum by (route) (rate(x[$__range])))" if "query_result" in query else inner
    assert inner_promql(query) == expected


def test_stand_ins_never_become_metric_names():
    where = Location(Path("d.json"), 1)
    inventory = MetricsInventory(
        queries=[
            Query("rate(${metric}_total[5m])", None, "dashboard d panel a", where, {}),
            Query('count({__name__="$metric"})', None, "dashboard d panel b", where, {}),
            Query("sum by ($label) (up)", "{{instance}}", "dashboard d panel c", where, {}),
        ]
    )
    for query in inventory.queries[:2]:
        parsed = parse_query(query.expr, query.variables)
        [name] = [metric_name(s) for s in selectors(parsed.node)]
        assert parsed.templated(name), name
    assert _findings(inventory, "MET-001") == []
    assert _findings(inventory, "MET-006") == []


def test_a_dashboard_collection_with_variables_has_no_parse_finding():
    """The collection gave 13 MET-002 findings out of 14 queries read before variables were
    substituted (its rows-only dashboard and its variable queries unread, its Loki panel read
    as PromQL); now every query is read and none is reported."""
    inventory = _inventory(COLLECTION)
    sources = [q.source for q in inventory.queries]
    assert len(sources) == 23
    assert sum(" variable " in s for s in sources) == 5  # label_values/query_result selectors
    assert not any("Exporter logs" in s for s in sources)  # Loki's LogQL
    assert any("GPU utilisation" in s for s in sources)  # a schema-14 dashboard's rows
    assert _findings(inventory, "MET-002") == []


def test_quantile_fix_keeps_the_query_quantile_metric_and_grouping():
    [p99] = _findings(_inventory(METRICS / "bad" / "MET-003.quantile-99"), "MET-003")
    assert p99.expected == (
        "histogram_quantile(0.99, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{job="storefront"}[5m])))'
    )
    by_route, without_le = _findings(
        _inventory(METRICS / "bad" / "MET-003.variable-quantile"), "MET-003"
    )
    assert by_route.expected == (
        "histogram_quantile($quantile, sum by (le, route) (rate(http_request_duration_seconds_"
        'bucket{namespace="$namespace", job=~"$job"}[$__rate_interval])))'
    )
    assert without_le.expected == (
        "histogram_quantile(${quantile}, sum by (le) (rate(http_request_duration_seconds_"
        'bucket{namespace="$namespace"}[$__rate_interval])))'
    )


@pytest.mark.parametrize("case", ["kube-prometheus-values", "compose-env", "manifests"])
def test_grafana_password_applies_without_a_dashboard(case):
    inventory = _inventory(METRICS / "bad" / f"MET-007.{case}")
    assert inventory.queries == []
    check = bodies().checks["MET-007"]
    assert (
        applicability(Case("MET-007", "static", check=check), families()["metrics"], inventory)
        is None
    )
    findings = _findings(inventory, "MET-007")
    assert findings and all(f.actual == "a literal password" for f in findings)


def test_a_tree_with_grafana_only_from_secrets_applies_and_passes():
    inventory = _inventory(COLLECTION)
    assert len(inventory.grafana) >= 3  # values, compose service, deployment
    assert _findings(inventory, "MET-007") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="$_{}[]():,\"\\`' abcx019=~", max_size=40))
def test_substitution_never_raises(text):
    parse_query(text, {"x": "number"})
