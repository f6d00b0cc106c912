"""Grafana dashboards (JSON files) -> queries and dashboard issues: panels (schema 16+) and
rows of panels (older schemas), each Prometheus target's PromQL with the dashboard's typed
template variables, the PromQL inside its query variables; targets of other data sources
(Loki, expressions) are not PromQL."""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.metrics.model import DashboardIssue, MetricsInventory, Query
from policies.metrics.templating import (
    inner_promql,
    is_variable_function,
    variable_kinds,
    variable_query_text,
)
from policies.model import Location
from policies.sources import SourceError, Sources
from policies.yamlfile import sequence


def read_dashboard(inv: MetricsInventory, path: Path, sources: Sources) -> None:
    """Files that do not read or parse are skipped here: the SRC policies report them."""
    try:
        data = sources.json(path, positions=True)
        lines = _Lines.of(sources.text(path))
    except SourceError:
        return
    if isinstance(data, list) and any(isinstance(d, dict) and _has_panels(d) for d in data):
        inv.dashboard_issues.append(
            DashboardIssue(
                f"{len(data)} dashboards in one JSON list",
                "one bare dashboard model per file (what file provisioning reads)",
                "a list",
                Location(path, 1),
            )
        )
        for item in data:
            if isinstance(item, dict):
                _dashboard_model(inv, path, item, lines)
        return
    if isinstance(data, dict):
        _dashboard_model(inv, path, data, lines)


def _has_panels(model: dict[str, Any]) -> bool:
    """A dashboard model: panels (schema 16+) or rows of panels (older schemas)."""
    return "panels" in model or "rows" in model


def _dashboard_model(
    inv: MetricsInventory, path: Path, data: dict[str, Any], lines: _Lines
) -> None:
    model = data
    if not _has_panels(data) and isinstance(data.get("dashboard"), dict):
        model = data["dashboard"]
        inv.dashboard_issues.append(
            DashboardIssue(
                'dashboard wrapped in {"dashboard": ...} (the HTTP API\'s format)',
                "the bare dashboard model that file provisioning reads",
                "wrapped",
                Location(path, 1),
            )
        )
    if not _has_panels(model):
        return
    title = model.get("title", path.name)
    templating = model.get("templating")
    variables = [
        v
        for v in sequence(templating.get("list") if isinstance(templating, dict) else None)
        if isinstance(v, dict)
    ]
    kinds = variable_kinds(variables)
    plugins = _datasource_plugins(model, variables)
    rows = [r for r in sequence(model.get("rows")) if isinstance(r, dict)]
    panels = sequence(model.get("panels")) + [p for r in rows for p in sequence(r.get("panels"))]
    for panel in _panels(panels):
        where = Location(path, lines.line_in(panel, '"id": ') or 1)
        if "type" not in panel:
            inv.dashboard_issues.append(
                DashboardIssue(
                    f"panel {panel.get('title')!r} has no type",
                    "a panel type (timeseries, stat, ...)",
                    "none",
                    where,
                )
            )
        for target in sequence(panel.get("targets")):
            if not (isinstance(target, dict) and target.get("expr")):
                continue
            datasource = target.get("datasource") or panel.get("datasource")
            if _plugin(datasource, plugins) not in (None, "prometheus"):
                continue  # Loki's LogQL, an expression, another data source's query
            expr = str(target["expr"])
            line = lines.line_in(target, json.dumps(expr)[1:-1], '"expr"') or where.line
            legend = target.get("legendFormat")
            inv.queries.append(
                Query(
                    expr,
                    legend if isinstance(legend, str) else None,
                    f"dashboard {title!r} panel {panel.get('title')!r}",
                    Location(path, line),
                    kinds,
                )
            )
    for variable in variables:
        _variable_query(inv, path, lines, title, variable, kinds, plugins)


def _variable_query(
    inv: MetricsInventory,
    path: Path,
    lines: _Lines,
    title: Any,
    variable: dict[str, Any],
    kinds: dict[str, str],
    plugins: dict[str, str],
) -> None:
    """The PromQL inside a query variable of a Prometheus data source (a data source the
    dashboard does not name counts when the query is one of Prometheus' variable functions)."""
    text = variable_query_text(variable)
    plugin = _plugin(variable.get("datasource"), plugins)
    if variable.get("type") != "query" or text is None or plugin not in (None, "prometheus"):
        return
    if plugin is None and not is_variable_function(text):
        return
    inner = inner_promql(text)
    if inner:
        line = lines.line_in(variable, json.dumps(inner)[1:-1], '"query"')
        inv.queries.append(
            Query(
                inner,
                None,
                f"dashboard {title!r} variable {variable.get('name')!r}",
                Location(path, line or 1),
                kinds,
            )
        )


def _datasource_plugins(model: dict[str, Any], variables: list[dict[str, Any]]) -> dict[str, str]:
    """The plugin of each data source the dashboard names by variable: its export inputs
    (`${DS_PROMETHEUS}`) and its datasource variables (`$datasource`)."""
    plugins = {
        str(i.get("name")): i["pluginId"]
        for i in sequence(model.get("__inputs"))
        if isinstance(i, dict) and isinstance(i.get("pluginId"), str)
    }
    for variable in variables:
        if variable.get("type") == "datasource" and isinstance(variable.get("query"), str):
            plugins[str(variable.get("name"))] = variable["query"]
    return plugins


def _plugin(datasource: Any, plugins: dict[str, str]) -> str | None:
    """The plugin of a panel's or target's data source ("prometheus" for a Prometheus-compatible
    one); None when the dashboard does not say (the default data source, a name, a uid)."""
    if isinstance(datasource, dict):
        kind = datasource.get("type")
        if isinstance(kind, str) and kind and datasource.get("uid") != "-- Mixed --":
            return "prometheus" if "prometheus" in kind else kind
        datasource = datasource.get("uid")
    if not isinstance(datasource, str):
        return None
    named = re.fullmatch(r"\$\{?(\w+)\}?", datasource.strip())
    plugin = plugins.get(named.group(1)) if named else None
    if plugin is None:
        return "grafana" if datasource == "-- Grafana --" else None
    return "prometheus" if "prometheus" in plugin else plugin


def _panels(panels: list[Any]) -> list[dict[str, Any]]:
    out = []
    for panel in panels:
        if isinstance(panel, dict):
            out.append(panel)
            out.extend(_panels(sequence(panel.get("panels"))))
    return out


@dataclass(frozen=True)
class _Lines:
    """A file's text and the offset of each of its newlines (found once per file), for line
    lookups by offset: a lookup reads only the object it searches, never a whole line again (a
    dashboard on one line of megabytes has thousands of panels)."""

    text: str
    newlines: list[int]

    @classmethod
    def of(cls, text: str) -> _Lines:
        return cls(text, [m.start() for m in re.finditer("\n", text)])

    def line_in(self, obj: Any, *needles: str) -> int | None:
        """The line of the first of the needles, tried in order, inside a JSON object read with
        positions (from its "{" to its "}"); the object's first line when none is in it."""
        start, end = getattr(obj, "start_offset", 0), getattr(obj, "end_offset", 0)
        for needle in needles:
            found = self.text.find(needle, start, end)
            if found >= 0:
                return bisect.bisect_left(self.newlines, found) + 1
        return getattr(obj, "start_line", 0) or None
