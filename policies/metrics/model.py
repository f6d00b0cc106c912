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
    expr: str
    legend: str | None
    source: str  # "dashboard <title> panel <title>" / "rule <alert>"
    location: Location


@dataclass
class DashboardIssue:
    problem: str
    expected: str
    actual: str
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
    grafana_passwords: list[Location] = field(default_factory=list)
    apps: dict[str, Location] = field(default_factory=dict)  # app directory -> metrics module

    def scraped(self, producer: str) -> bool:
        return any(producer in job.text for job in self.jobs)
