"""Files under --infra -> MetricsInventory: app code (AST), Helm values and ServiceMonitors
(scrape jobs), PrometheusRules and Grafana dashboards (queries)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from policies.metrics.dashboards import read_dashboard
from policies.metrics.grafana import read_grafana
from policies.metrics.model import (
    HISTOGRAM_SUFFIXES,
    MetricsEndpoint,
    MetricsInventory,
    Query,
    ScrapeJob,
    SeriesDef,
)
from policies.model import Location
from policies.pycode import call_name
from policies.sources import SourceError, Sources
from policies.yamlfile import LineDict, YamlFile, mapping, packaged, sequence

_TYPES = {"Counter": "counter", "Gauge": "gauge", "Histogram": "histogram", "Summary": "summary"}


def read_static(sources: Sources, yaml_files: list[YamlFile]) -> MetricsInventory:
    """Files that do not read or parse are skipped here: the SRC policies report them."""
    inv = MetricsInventory()
    _dcgm(inv)
    for path in sources.files(".py"):
        _app_code(inv, path, sources)
    for file in yaml_files:
        read_grafana(inv, file, sources)
        for doc in file.documents:
            if isinstance(doc, LineDict):
                _yaml(inv, file.path, doc)
    for path in sources.files(".json"):
        read_dashboard(inv, path, sources)
    return inv


def _dcgm(inv: MetricsInventory) -> None:
    data = packaged("policies.metrics", "dcgm_fields.yaml")
    where = Location(resource="dcgm-exporter default fields")
    for name, type_ in data["fields"].items():
        inv.series[name] = SeriesDef(name, type_, list(data["labels"]), "dcgm-exporter", where)


def _app_code(inv: MetricsInventory, path: Path, sources: Sources) -> None:
    try:
        tree = sources.python(path)
    except SourceError:
        return
    if "prometheus_client" not in {
        (n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
    } | {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }:
        return
    app = (
        path.parts[path.parts.index("services") + 1]
        if "services" in path.parts
        else path.parent.name
    )
    inv.apps[app] = Location(path)
    constants = {
        t.id: ast.unparse(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node.func) in _TYPES and node.args:
            _series(inv, node, _TYPES[call_name(node.func)], app, Location(path, node.lineno))
        if isinstance(node, ast.FunctionDef) and _serves_metrics(node):
            inv.endpoints.append(_endpoint(node, app, Location(path, node.lineno), constants))


def _series(inv: MetricsInventory, call: ast.Call, type_: str, app: str, where: Location) -> None:
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return
    labels_node = (
        call.args[2]
        if len(call.args) > 2
        else next((k.value for k in call.keywords if k.arg == "labelnames"), None)
    )
    labels = [e.value for e in getattr(labels_node, "elts", []) if isinstance(e, ast.Constant)]
    name = first.value
    if type_ == "counter":
        base = name.removesuffix("_total")
        names = {f"{base}_total": labels, f"{base}_created": labels}
    elif type_ in ("histogram", "summary"):
        names = {name + s: labels + (["le"] if s == "_bucket" else []) for s in HISTOGRAM_SUFFIXES}
        names[name] = labels
    else:
        names = {name: labels}
    for sample, sample_labels in names.items():
        kind = "counter" if type_ != "gauge" and sample != name else type_
        inv.series[sample] = SeriesDef(sample, kind, sample_labels, app, where)


def _serves_metrics(fn: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call)
        and call_name(d.func) in ("get", "route", "api_route")
        and d.args
        and isinstance(d.args[0], ast.Constant)
        and d.args[0].value == "/metrics"
        for d in fn.decorator_list
    )


def _endpoint(
    fn: ast.FunctionDef, app: str, where: Location, constants: dict[str, str]
) -> MetricsEndpoint:
    """How the /metrics route answers; a media_type held in a module constant is followed."""
    returns = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]
    value = returns[0] if returns else None
    shown = ast.unparse(value) if value is not None else "nothing"
    ok = (
        isinstance(value, ast.Call)
        and call_name(value.func) in ("Response", "PlainTextResponse")
        and any(
            k.arg == "media_type"
            and any(
                marker in constants.get(ast.unparse(k.value), ast.unparse(k.value))
                for marker in ("CONTENT_TYPE_LATEST", "text/plain")
            )
            for k in value.keywords
        )
    )
    return MetricsEndpoint(app, shown, ok, where)


def _yaml(inv: MetricsInventory, path: Path, doc: LineDict) -> None:
    kind = doc.get("kind")
    if kind == "ServiceMonitor":
        name = str(mapping(doc.get("metadata")).get("name"))
        inv.jobs.append(
            ScrapeJob(f"serviceMonitor/{name}", _json(doc), [], Location(path, doc.line))
        )
    elif kind == "PrometheusRule":
        for group in sequence(mapping(doc.get("spec")).get("groups")):
            for rule in sequence(mapping(group).get("rules")):
                if isinstance(rule, LineDict) and "expr" in rule:
                    source = f"rule {rule.get('alert') or rule.get('record')}"
                    inv.queries.append(
                        Query(
                            str(rule["expr"]).strip(),
                            None,
                            source,
                            Location(path, rule.line_of("expr")),
                        )
                    )
    elif "apiVersion" not in doc:
        spec = mapping(mapping(doc.get("prometheus")).get("prometheusSpec"))
        for job in sequence(spec.get("additionalScrapeConfigs")):
            if isinstance(job, LineDict):
                targets = [
                    str(r.get("target_label"))
                    for r in sequence(job.get("relabel_configs"))
                    if isinstance(r, dict) and r.get("target_label")
                ]
                inv.jobs.append(
                    ScrapeJob(
                        str(job.get("job_name")),
                        _json(job),
                        targets,
                        Location(path, job.line),
                        json.loads(_json(job)),
                    )
                )


def _json(doc: LineDict) -> str:
    """A YAML document as JSON, a date or timestamp in it as its text."""
    return json.dumps(doc, default=str)
