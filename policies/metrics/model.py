"""The metrics inventory: series definitions, scrape jobs, queries, dashboards."""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.model import Location

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count", "_created")


@dataclass
class SeriesDef:
    """A metric some producer exports: its type and labels."""

    name: str
    type: str  # counter / gauge / histogram / summary
    labels: list[str]
    producer: str  # app directory name, or "dcgm-exporter"
    location: Location


@dataclass
class ScrapeJob:
    name: str
    text: str  # the whole job as text, to see which producer it selects
    target_labels: list[str]  # labels its relabeling adds (namespace, pod, ...)
    location: Location
    config: dict[str, object] = field(default_factory=dict)  # the job as Prometheus reads it


@dataclass
class Query:
    expr: str  # as written (a variable query: the PromQL inside it)
    legend: str | None
    source: str  # "dashboard <title> panel <title>" / "... variable <name>" / "rule <alert>"
    location: Location
    # A Grafana query: its dashboard's variables with a known type (templating.variable_kinds);
    # None for a rule (no interpolation).
    variables: dict[str, str] | None = None


@dataclass
class DashboardIssue:
    problem: str
    expected: str
    actual: str
    location: Location


@dataclass
class GrafanaPassword:
    """An admin password written where Grafana reads it (the value is never kept)."""

    setting: str  # grafana.adminPassword, GF_SECURITY_ADMIN_PASSWORD, [security] admin_password
    fix: str  # where the password should come from instead, in that file's terms
    location: Location


@dataclass
class MetricsEndpoint:
    app: str
    returns: str  # how the /metrics route answers
    prometheus_format: bool
    location: Location


@dataclass
class MetricsInventory:
    series: dict[str, SeriesDef] = field(default_factory=dict)  # sample name -> definition
    jobs: list[ScrapeJob] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)
    dashboard_issues: list[DashboardIssue] = field(default_factory=list)
    endpoints: list[MetricsEndpoint] = field(default_factory=list)
    grafana_passwords: list[GrafanaPassword] = field(default_factory=list)
    grafana: list[Location] = field(default_factory=list)  # where Grafana is configured
    apps: dict[str, Location] = field(default_factory=dict)  # app directory -> metrics module

    def scraped(self, producer: str) -> bool:
        return any(producer in job.text for job in self.jobs)
