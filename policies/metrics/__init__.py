"""Metrics family: what dashboards and rules query, what the scrape jobs and exporters produce."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.metrics.static import read_static

    return read_static(tree.sources, tree.yaml)


FAMILY = Family(
    name="metrics",
    what="Grafana dashboard, Prometheus rule, scrape job or instrumented app",
    read=_read,
    present=lambda inventory: bool(
        inventory.queries
        or inventory.jobs
        or inventory.apps
        or inventory.grafana
        or inventory.grafana_passwords
    ),
)
