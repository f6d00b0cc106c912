"""Where Grafana is configured and where its admin password is written: Helm values (the grafana
chart's own, kube-prometheus-stack's `grafana:`, an umbrella chart's, a Flux HelmRelease's),
grafana.ini (in values, a ConfigMap, the Grafana operator's `spec.config`), and the
GF_SECURITY_ADMIN_PASSWORD environment variable (containers, ConfigMaps, Compose services).
Values are read to decide whether they are literal, never kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policies.metrics.model import GrafanaPassword, MetricsInventory
from policies.model import Location
from policies.sources import SourceError, Sources
from policies.yamlfile import LineDict, YamlFile, mapping, sequence

ENV = "GF_SECURITY_ADMIN_PASSWORD"
# Keys only the grafana chart's values have at their top level.
_CHART_KEYS = ("grafana.ini", "adminUser", "dashboardProviders", "dashboardsConfigMaps")
# Not a literal: a Helm template, Compose/shell interpolation, Grafana's own expansion.
_INDIRECT = re.compile(r"^\s*(\{\{|\$\w+\s*$|\$\{[^}]*\}\s*$|\$__(env|file|vault)\{)")
_COMPOSE_DEFAULT = re.compile(r"^\$\{\w+:?-(?P<default>.+)\}$")
_VALUES_FIX = "{p}admin.existingSecret with its userKey / passwordKey"
_INI_FIX = "admin_password = $__file{/etc/secrets/admin-password} (a mounted Secret)"
_ENV_FIX = "valueFrom.secretKeyRef (or GF_SECURITY_ADMIN_PASSWORD__FILE on a mounted Secret)"
_COMPOSE_FIX = "GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/<name> with a Compose secret"


def read_grafana(inv: MetricsInventory, file: YamlFile, sources: Sources) -> None:
    for doc in file.documents:
        if not isinstance(doc, LineDict):
            continue
        if {"apiVersion", "kind"} <= set(doc):
            _manifest(inv, file.path, doc)
        elif isinstance(doc.get("services"), dict):
            _compose(inv, file.path, doc, sources)
        elif "apiVersion" not in doc:
            _values(inv, file.path, doc, "grafana" in file.path.name.lower())


def _literal(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    text = str(value)
    return bool(text.strip()) and _INDIRECT.match(text) is None


def _values(
    inv: MetricsInventory, path: Path, doc: LineDict, chart: bool, prefix: str = ""
) -> None:
    """Helm values: the grafana chart's own (its keys, or `chart`), and every `grafana:`
    mapping within (kube-prometheus-stack, an umbrella chart's subchart)."""
    if chart or any(key in doc for key in _CHART_KEYS):
        _chart(inv, path, doc, prefix)
    pending: list[tuple[LineDict, str, int]] = [(doc, prefix, 0)]
    while pending:
        node, at, depth = pending.pop()
        for key, value in node.items():
            if not isinstance(value, LineDict) or depth > 3:
                continue
            if key == "grafana":
                _chart(inv, path, value, f"{at}grafana.")
            else:
                pending.append((value, f"{at}{key}.", depth + 1))


def _chart(inv: MetricsInventory, path: Path, values: LineDict, prefix: str) -> None:
    inv.grafana.append(Location(path, values.line))
    fix = _VALUES_FIX.format(p=prefix)
    if _literal(values.get("adminPassword")):
        _found(inv, f"{prefix}adminPassword", fix, path, values.line_of("adminPassword"))
    admin = values.get("admin")
    if isinstance(admin, LineDict) and _literal(admin.get("password")):  # bitnami's chart
        _found(inv, f"{prefix}admin.password", fix, path, admin.line_of("password"))
    ini = values.get("grafana.ini")
    security = mapping(ini.get("security")) if isinstance(ini, LineDict) else mapping(None)
    if _literal(security.get("admin_password")):
        setting = f"{prefix}grafana.ini security.admin_password"
        _found(inv, setting, fix, path, security.line_of("admin_password"))
    env = values.get("env")
    if isinstance(env, LineDict) and _literal(env.get(ENV)):
        _found(inv, f"{prefix}env.{ENV}", fix, path, env.line_of(ENV))


def _manifest(inv: MetricsInventory, path: Path, doc: LineDict) -> None:
    kind, spec = doc.get("kind"), mapping(doc.get("spec"))
    if kind == "Secret":
        return
    if kind == "ConfigMap":
        _config_map(inv, path, mapping(doc.get("data")))
        return
    if kind == "HelmRelease":
        chart = mapping(mapping(spec.get("chart")).get("spec")).get("chart")
        values = spec.get("values")
        if isinstance(values, LineDict):
            _values(inv, path, values, chart == "grafana", "spec.values.")
        return
    if kind == "Grafana" and str(doc.get("apiVersion", "")).startswith("grafana.integreatly"):
        inv.grafana.append(Location(path, doc.line))
        security = mapping(mapping(spec.get("config")).get("security"))
        if _literal(security.get("admin_password")):
            setting = "spec.config.security.admin_password"
            _found(inv, setting, _ENV_FIX, path, security.line_of("admin_password"))
    _containers(inv, path, doc)


def _containers(inv: MetricsInventory, path: Path, doc: LineDict) -> None:
    """Grafana containers, and GF_SECURITY_ADMIN_PASSWORD with a literal `value` in any
    container's env."""
    pending: list[Any] = [doc]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, LineDict):
            if node.get("name") == ENV or "grafana/grafana" in str(node.get("image", "")):
                inv.grafana.append(Location(path, node.line))
            if node.get("name") == ENV and _literal(node.get("value")):
                _found(inv, f"env {ENV}", _ENV_FIX, path, node.line_of("value"))
            pending.extend(node.values())


def _config_map(inv: MetricsInventory, path: Path, data: LineDict) -> None:
    if _literal(data.get(ENV)):
        inv.grafana.append(Location(path, data.line))
        _found(inv, f"ConfigMap {ENV}", _ENV_FIX, path, data.line_of(ENV))
    for key, text in data.items():
        if isinstance(key, str) and key.endswith(".ini") and isinstance(text, str):
            inv.grafana.append(Location(path, data.line_of(key)))
            offset = _ini_admin_password(text)
            if offset is not None:  # a block scalar: its text starts on the next line
                setting = f"{key} [security] admin_password"
                _found(inv, setting, _INI_FIX, path, data.line_of(key) + 1 + offset)


def _ini_admin_password(text: str) -> int | None:
    """The index of the line of grafana.ini setting a literal [security] admin_password."""
    section = ""
    for index, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == "security" and not line.startswith((";", "#")) and "=" in line:
            key, _, value = line.partition("=")
            if key.strip() == "admin_password" and _literal(value.strip().strip("\"'")):
                return index
    return None


def _compose(inv: MetricsInventory, path: Path, doc: LineDict, sources: Sources) -> None:
    for service in mapping(doc.get("services")).values():
        if not isinstance(service, LineDict):
            continue
        env = service.get("environment")
        if "grafana" in str(service.get("image", "")) or ENV in str(env):
            inv.grafana.append(Location(path, service.line))
        if isinstance(env, LineDict) and _compose_literal(env.get(ENV)):
            _found(inv, f"environment {ENV}", _COMPOSE_FIX, path, env.line_of(ENV))
        for item in sequence(env):
            name, _, value = str(item).partition("=")
            if name.strip() == ENV and _compose_literal(value):
                line = _line_after(sources, path, service.line_of("environment"), f"{ENV}=")
                _found(inv, f"environment {ENV}", _COMPOSE_FIX, path, line)


def _compose_literal(value: Any) -> bool:
    """A literal, or the literal default of an interpolation (`${VAR:-admin}`)."""
    default = _COMPOSE_DEFAULT.match(str(value).strip()) if isinstance(value, str) else None
    return _literal(default.group("default") if default else value)


def _line_after(sources: Sources, path: Path, start: int, needle: str) -> int:
    """The first line from `start` holding the needle (a list item has no line of its own)."""
    try:
        lines = sources.lines(path)
    except SourceError:
        return start
    return next(
        (n for n in range(start, len(lines) + 1) if needle in lines[n - 1]),
        start,
    )


def _found(inv: MetricsInventory, setting: str, fix: str, path: Path, line: int) -> None:
    inv.grafana_passwords.append(GrafanaPassword(setting, fix, Location(path, line)))
