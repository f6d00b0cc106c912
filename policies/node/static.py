"""Files under --infra -> NodeInventory: the DCGM fields the dashboards and rules query (the
metrics family's model), the exporter's port and collectors file (its chart values, the scrape
jobs), the apps' scrape ports, the workloads' environment and Secret mounts (manifests), the
Secrets ExternalSecrets write, and the Fluent Bit configuration (the logging family's model)."""

from __future__ import annotations

import re
from typing import Any

import promql_parser as pp
import re2

from policies.logging.static import read_static as read_logging
from policies.metrics.model import MetricsInventory
from policies.metrics.promql import metric_name, parse_query, walk
from policies.metrics.static import read_static as read_metrics
from policies.model import Location
from policies.node.model import (
    DCGM_DEFAULT_PORT,
    AppSpec,
    EnvDecl,
    ExporterSpec,
    FieldNeed,
    NodeInventory,
    SecretFile,
)
from policies.yamlfile import LineDict, YamlFile, mapping, sequence

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod"}
ADDED_LABELS = {"job", "instance"}  # Prometheus's own target labels
# dcgm-exporter's chart passes `-f /etc/dcgm-exporter/dcp-metrics-included.csv` unless the
# values set `arguments`; the binary alone reads default-counters.csv.
CHART_COLLECTORS = "/etc/dcgm-exporter/dcp-metrics-included.csv"
BINARY_COLLECTORS = "/etc/dcgm-exporter/default-counters.csv"
_REFS = {"secretKeyRef": "secret", "configMapKeyRef": "configmap"}
_TARGET_PORT = re.compile(r":(\d{1,5})$")
_QUIET = re2.Options()
_QUIET.log_errors = False


def read_static(tree: Any) -> NodeInventory:
    metrics = read_metrics(tree.sources, tree.yaml)
    inv = NodeInventory(shipper=list(read_logging(tree.yaml).sections))
    _fields(inv, metrics)
    manifests = [(f, d) for f in tree.yaml for d in f.manifests()]
    inv.exporter = _exporter(metrics, tree.yaml, manifests, bool(inv.fields))
    secrets = _eso_secrets(inv, manifests)
    for file, doc in manifests:
        if doc.get("kind") in WORKLOADS or doc.get("kind") == "CronJob":
            _workload(inv, file, doc, secrets)
    inv.apps = [_app(metrics, name, where, manifests) for name, where in metrics.apps.items()]
    return inv


def _fields(inv: NodeInventory, metrics: MetricsInventory) -> None:
    """Every DCGM_* selector of a query, with the labels its aggregations group by and its
    matchers filter on (labels the dcgm scrape job adds are Prometheus's, not the exporter's)."""
    for job in metrics.jobs:
        if "dcgm" in job.text:
            inv.added_labels |= set(job.target_labels)
    inv.added_labels |= ADDED_LABELS
    for query in metrics.queries:
        parsed = parse_query(query.expr, query.variables)
        if parsed.node is None:
            continue
        grouped: dict[int, set[str]] = {}
        for node in walk(parsed.node):
            if not isinstance(node, pp.AggregateExpr) or node.modifier is None:
                continue
            if str(node.modifier.type).endswith("By"):
                for inner in walk(node.expr):
                    if isinstance(inner, pp.VectorSelector):
                        grouped.setdefault(id(inner), set()).update(node.modifier.labels)
        for node in walk(parsed.node):
            if not isinstance(node, pp.VectorSelector):
                continue
            name = metric_name(node)
            if not name or not name.startswith("DCGM_") or parsed.templated(name):
                continue
            labels = grouped.get(id(node), set()) | {
                m.name for m in node.matchers.matchers if m.name != "__name__"
            }
            labels = {lb for lb in labels if not parsed.templated(lb)} - inv.added_labels
            inv.fields.append(FieldNeed(name, tuple(sorted(labels)), query.source, query.location))


def _exporter(
    metrics: MetricsInventory,
    files: list[YamlFile],
    manifests: list[tuple[YamlFile, LineDict]],
    queried: bool,
) -> ExporterSpec | None:
    """The exporter's port (a static scrape target, the chart's service port, a DaemonSet's
    container port) and collectors file (the chart's or the container's arguments)."""
    jobs = [job for job in metrics.jobs if "dcgm" in job.text]
    if not jobs and not queried:
        return None
    port, collectors = DCGM_DEFAULT_PORT, BINARY_COLLECTORS
    where = jobs[0].location if jobs else Location(resource="dcgm-exporter defaults")
    for file in files:
        if "dcgm" not in file.path.name:
            continue
        for doc in file.documents:
            if not isinstance(doc, LineDict) or "apiVersion" in doc:
                continue
            service = mapping(doc.get("service"))
            if isinstance(service.get("port"), int):
                port, where = service["port"], Location(file.path, service.line_of("port"))
            collectors = collectors_arg(sequence(doc.get("arguments"))) or CHART_COLLECTORS
    for _, doc in manifests:
        if doc.get("kind") != "DaemonSet":
            continue
        for container in _containers(doc):
            if "dcgm-exporter" in str(container.get("image", "")):
                args = [*sequence(container.get("command")), *sequence(container.get("args"))]
                collectors = collectors_arg(args) or collectors
    for job in jobs:
        for static in sequence(job.config.get("static_configs")):
            for target in sequence(mapping(static).get("targets")):
                found = _TARGET_PORT.search(str(target))
                if found:
                    port, where = int(found.group(1)), job.location
    return ExporterSpec(port, collectors, where)


def collectors_arg(args: list[Any]) -> str | None:
    """The file of `-f FILE`, `--collectors FILE` or `--collectors=FILE` in an argument list."""
    words = [str(a) for a in args]
    for i, word in enumerate(words):
        if word in ("-f", "--collectors") and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--collectors="):
            return word.split("=", 1)[1]
    return None


def _app(
    metrics: MetricsInventory,
    name: str,
    where: Location,
    manifests: list[tuple[YamlFile, LineDict]],
) -> AppSpec:
    """The port the app's scrape job reaches: a static target's, or the container port whose
    name the job keeps (relabel `keep` on __meta_kubernetes_pod_container_port_name)."""
    for job in (j for j in metrics.jobs if name in j.text):
        for static in sequence(job.config.get("static_configs")):
            for target in sequence(mapping(static).get("targets")):
                found = _TARGET_PORT.search(str(target))
                if found:
                    return AppSpec(name, int(found.group(1)), job.location)
        for rule in sequence(job.config.get("relabel_configs")):
            rule = mapping(rule)
            sources = [str(s) for s in sequence(rule.get("source_labels"))]
            if rule.get("action") != "keep" or sources != [
                "__meta_kubernetes_pod_container_port_name"
            ]:
                continue
            try:  # Prometheus' relabel regexes are RE2, fully anchored: linear time too
                kept = re2.compile(str(rule.get("regex", "(.*)")), _QUIET)
            except re2.error:
                continue  # Prometheus refuses the pattern too: the rule keeps no port
            for file, doc in manifests:
                for container in _containers(doc):
                    for port in sequence(container.get("ports")):
                        port = mapping(port)
                        if kept.fullmatch(str(port.get("name", ""))) and isinstance(
                            port.get("containerPort"), int
                        ):
                            at = Location(file.path, port.line_of("containerPort"))
                            return AppSpec(name, port["containerPort"], at)
    return AppSpec(name, None, where)


def _containers(doc: LineDict) -> list[LineDict]:
    spec = mapping(doc.get("spec"))
    if doc.get("kind") == "CronJob":
        spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    pod = spec if doc.get("kind") == "Pod" else mapping(mapping(spec.get("template")).get("spec"))
    return [
        mapping(c)
        for key in ("initContainers", "containers")
        for c in sequence(pod.get(key))
        if isinstance(c, dict)
    ]


def _volumes(doc: LineDict) -> list[LineDict]:
    spec = mapping(doc.get("spec"))
    if doc.get("kind") == "CronJob":
        spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    pod = spec if doc.get("kind") == "Pod" else mapping(mapping(spec.get("template")).get("spec"))
    return [mapping(v) for v in sequence(pod.get("volumes"))]


def _eso_secrets(
    inv: NodeInventory, manifests: list[tuple[YamlFile, LineDict]]
) -> dict[str, tuple[list[str], Location]]:
    """Secrets ExternalSecrets write -> (their keys, where), and every key in inv.secret_keys."""
    secrets: dict[str, tuple[list[str], Location]] = {}
    for file, doc in manifests:
        if doc.get("kind") != "ExternalSecret":
            continue
        spec = mapping(doc.get("spec"))
        target = mapping(spec.get("target"))
        name = str(target.get("name") or mapping(doc.get("metadata")).get("name"))
        keys = [
            str(mapping(d).get("secretKey"))
            for d in sequence(spec.get("data"))
            if mapping(d).get("secretKey")
        ]
        keys += [str(k) for k in mapping(mapping(target.get("template")).get("data"))]
        where = Location(file.path, doc.line)
        secrets[name] = (keys, where)
        for key in keys:
            inv.secret_keys.setdefault(key, where)
    return secrets


def _workload(
    inv: NodeInventory,
    file: YamlFile,
    doc: LineDict,
    secrets: dict[str, tuple[list[str], Location]],
) -> None:
    """Its containers' environment declarations and the files of ESO Secrets it mounts."""
    mounted: dict[str, LineDict] = {}
    for volume in _volumes(doc):
        secret = mapping(volume.get("secret"))
        if str(secret.get("secretName")) in secrets:
            mounted[str(volume.get("name"))] = secret
    for container in _containers(doc):
        for env in sequence(container.get("env")):
            env = mapping(env)
            if "name" not in env:
                continue
            source = mapping(env.get("valueFrom"))
            kind = next(
                (k for r, k in _REFS.items() if r in source), "other" if source else "literal"
            )
            decl = EnvDecl(str(env["name"]), kind, Location(file.path, env.line))
            inv.env.setdefault(decl.name, []).append(decl)
        for env_from in sequence(container.get("envFrom")):
            ref = str(mapping(mapping(env_from).get("secretRef")).get("name"))
            prefix = str(mapping(env_from).get("prefix") or "")
            for key in secrets.get(ref, ([], None))[0]:
                at = Location(file.path, mapping(env_from).line)
                inv.env.setdefault(prefix + key, []).append(EnvDecl(prefix + key, "secret", at))
        for mount in sequence(container.get("volumeMounts")):
            mount = mapping(mount)
            secret = mounted.get(str(mount.get("name")))
            if secret is None or not isinstance(mount.get("mountPath"), str):
                continue
            name = str(secret.get("secretName"))
            items = [mapping(i) for i in sequence(secret.get("items"))]
            paths = [str(i.get("path")) for i in items if i.get("path")] or secrets[name][0]
            sub = mount.get("subPath")
            at = Location(file.path, mount.line_of("mountPath"))
            if isinstance(sub, str):
                inv.secret_files.append(SecretFile(name, mount["mountPath"], at))
                continue
            for path in paths:
                full = f"{mount['mountPath'].rstrip('/')}/{path}"
                inv.secret_files.append(SecretFile(name, full, at))
