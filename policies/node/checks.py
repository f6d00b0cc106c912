"""Node policies: pure bodies over what the hosts answered (NodeLive), against --infra's
expectations. Findings name the host, the check and the value seen; environment values never
appear (only variable names)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

from policies.model import REVIEW, Finding, Location, Policy, resource
from policies.node.live import runs
from policies.node.model import Fetch, FileRead, HostReading, NodeLive
from policies.registry import NotApplicable, check

_ROOTED = re.compile(r"^/proc/\d+/root(?=/)")
_SECRET_KEY = re.compile(r"passw|secret|token|key|credential", re.I)


def _hosts(live: NodeLive, role: str) -> list[HostReading]:
    hosts = live.with_role(role)
    if not hosts:
        unassigned = f" (without a role: {', '.join(live.unassigned)})" if live.unassigned else ""
        raise NotApplicable(
            f"no --hosts host has the role {role} (pingvas-policy.toml [hosts]){unassigned}"
        )
    return hosts


def _at(host: HostReading, what: str, related: Location | None = None) -> Location:
    return Location(resource=f"{host.uri} {what}", related=related)


def _shown(path: str) -> str:
    return _ROOTED.sub("", path)


def _cmd(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _exporter(live: NodeLive) -> Any:
    if live.inventory.exporter is None:
        raise NotApplicable("no GPU exporter scraped or queried in --infra")
    return live.inventory.exporter


@check("NODE-001")
def exporter_listens(live: NodeLive, policy: Policy) -> list[Finding]:
    spec, name = _exporter(live), str(policy.params["exporter_process"])
    findings = []
    for host in _hosts(live, "gpu-node"):
        listeners = host.listeners(spec.port)
        running = [p for p in host.processes if runs(name, p.cmdline)]
        if any(runs(name, p.cmdline) for p in listeners):
            continue
        if listeners:
            actual = (
                f"port {spec.port} held by pid {listeners[0].pid}: {_cmd(listeners[0].cmdline)}"
            )
        elif running:
            ports = sorted({port for p in running for port in p.ports})
            actual = f"{name} (pid {running[0].pid}) listens on " + (
                ", ".join(map(str, ports)) or "no TCP port"
            )
        else:
            actual = f"no {name} process; nothing listens on {spec.port}"
        findings.append(
            Finding(
                policy.id,
                resource("host-port", host.uri, spec.port),
                f"the GPU exporter does not listen on port {spec.port} of {host.uri}",
                f"a {name} process listening on :{spec.port} (the port the scrape job reaches)",
                actual,
                _at(host, f"port {spec.port}", spec.location),
            )
        )
    return findings


def exposition(fetch: Fetch) -> dict[str, set[str]] | str:
    """Metric sample names -> the label names their samples carry; or why the body is not the
    Prometheus text format."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: dict[str, set[str]] = {}
    try:
        for family in text_string_to_metric_families(fetch.body):
            for sample in family.samples:
                samples.setdefault(sample.name, set()).update(sample.labels)
    except (ValueError, TypeError, IndexError) as exc:
        return f"not the Prometheus text format: {' '.join(str(exc).split())[:120]}"
    return samples


def _unread(policy: Policy, host: HostReading, fetch: Fetch | None, kind: str) -> Finding | None:
    """A finding when the GET did not give a 200 answer."""
    if fetch is not None and fetch.error is None and fetch.status == 200:
        return None
    actual = "not read" if fetch is None else fetch.error or f"HTTP {fetch.status}"
    url = fetch.url if fetch is not None else "/metrics"
    return Finding(
        policy.id,
        resource("endpoint", host.uri, url),
        f"GET {url} on {host.uri} gave no metrics",
        "HTTP 200 with the exposition text",
        actual,
        _at(host, url),
        kind,
    )


@check("NODE-002")
def dcgm_fields_served(live: NodeLive, policy: Policy) -> list[Finding]:
    _exporter(live)
    if not live.inventory.fields:
        raise NotApplicable("no dashboard or rule of --infra queries a DCGM field")
    findings: list[Finding] = []
    for host in _hosts(live, "gpu-node"):
        unread = _unread(policy, host, host.exporter_metrics, "fail")
        if unread is not None:
            findings.append(unread)
            continue
        assert host.exporter_metrics is not None
        served = exposition(host.exporter_metrics)
        url = host.exporter_metrics.url
        if isinstance(served, str):
            findings.append(
                Finding(
                    policy.id,
                    resource("endpoint", host.uri, url),
                    f"the exporter's answer on {host.uri} cannot be read",
                    "the Prometheus text format",
                    served,
                    _at(host, url),
                )
            )
            continue
        reported: set[tuple[str, str]] = set()
        for need in live.inventory.fields:
            labels = served.get(need.metric)
            missing = (
                ["(the field)"]
                if labels is None
                else [lb for lb in need.labels if lb not in labels]
            )
            for label in missing:
                if (need.metric, label) in reported:
                    continue
                reported.add((need.metric, label))
                what = "not served" if labels is None else f"served without the label {label}"
                findings.append(
                    Finding(
                        policy.id,
                        resource("query-metric", host.uri, need.metric),
                        f"{need.metric} is {what} by {url} on {host.uri}; {need.source} needs it",
                        f"{need.metric}"
                        + (f" with {', '.join(need.labels)}" if need.labels else ""),
                        "absent" if labels is None else ", ".join(sorted(labels)) or "no labels",
                        _at(host, url, need.location),
                    )
                )
    return findings


def enabled_fields(text: str) -> set[str]:
    """The fields a dcgm-exporter collectors CSV enables (`FIELD, type, help`; # comments)."""
    return {
        line.split(",", 1)[0].strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }


@check("NODE-003")
def collectors_enable_fields(live: NodeLive, policy: Policy) -> list[Finding]:
    _exporter(live)
    needed = dict.fromkeys(n.metric for n in live.inventory.fields)
    if not needed:
        raise NotApplicable("no dashboard or rule of --infra queries a DCGM field")
    findings = []
    for host in _hosts(live, "gpu-node"):
        read = host.collectors or FileRead("the collectors file", None, "not read")
        shown = _shown(read.path)
        if read.text is None:
            findings.append(
                Finding(
                    policy.id,
                    resource("file", host.uri, shown),
                    f"the exporter's collectors file {shown} cannot be read on {host.uri}",
                    "the CSV the exporter was started with (-f / --collectors)",
                    read.error or "not read",
                    _at(host, shown),
                )
            )
            continue
        enabled = enabled_fields(read.text)
        first = {n.metric: n for n in reversed(live.inventory.fields)}
        findings += [
            Finding(
                policy.id,
                resource("query-metric", host.uri, metric),
                f"{metric} is not enabled in {shown} on {host.uri}; {first[metric].source}"
                " queries it",
                f"a line `{metric}, <type>, <help>` in {shown}",
                "absent or commented out",
                _at(host, shown, first[metric].location),
            )
            for metric in needed
            if metric not in enabled
        ]
    return findings


def _version(text: str) -> tuple[int, ...] | None:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)*)\s*", text)
    return tuple(int(p) for p in found.group(1).split(".")) if found else None


@check("NODE-004")
def driver_version(live: NodeLive, policy: Policy) -> list[Finding]:
    _exporter(live)
    hosts = [h for h in _hosts(live, "gpu-node") if h.driver is not None]
    if not hosts:
        names = ", ".join(h.uri for h in live.with_role("gpu-node"))
        raise NotApplicable(f"nvidia-smi is not on any gpu-node host ({names}): no GPU driver")
    minimum = str(policy.params["min_driver_version"])
    floor = _version(minimum) or ()
    findings = []
    for host in hosts:
        seen = _version(host.driver or "")
        if seen is not None and seen >= floor:
            continue
        findings.append(
            Finding(
                policy.id,
                resource("host", host.uri),
                f"the NVIDIA driver on {host.uri} is below the exporter's documented minimum",
                f"driver >= {minimum}",
                host.driver or "empty answer",
                _at(host, "nvidia-smi driver_version"),
            )
        )
    return findings


def _app(live: NodeLive) -> Any:
    if not live.inventory.apps:
        raise NotApplicable("no instrumented app in --infra")
    return live.inventory.apps[0]


@check("NODE-005")
def app_not_root(live: NodeLive, policy: Policy) -> list[Finding]:
    app = _app(live)
    findings = []
    for host in _hosts(live, "generation-pod"):
        port = host.app_port or 0
        listeners = host.listeners(port)
        if not listeners:
            findings.append(
                Finding(
                    policy.id,
                    resource("host-port", host.uri, port),
                    f"no process listens on port {port} of {host.uri}: {app.name}'s user unknown",
                    f"{app.name} listening on :{port}",
                    "nothing listens",
                    _at(host, f"port {port}", app.location),
                    REVIEW,
                )
            )
        findings += [
            Finding(
                policy.id,
                resource("process", host.uri, p.pid),
                f"{app.name} (pid {p.pid}: {_cmd(p.cmdline)}) runs as root on {host.uri}",
                "a non-root uid (securityContext runAsNonRoot: true, runAsUser)",
                "uid 0",
                _at(host, f"pid {p.pid}"),
            )
            for p in listeners
            if p.uid == 0
        ]
    return findings


def _content_type_ok(value: str | None, accepted: list[str]) -> bool:
    def norm(text: str) -> str:
        return re.sub(r"\s+", "", text).lower()

    return value is not None and any(norm(value).startswith(norm(a)) for a in accepted)


@check("NODE-006")
def app_metrics_format(live: NodeLive, policy: Policy) -> list[Finding]:
    app = _app(live)
    accepted = list(policy.params["content_types"])
    findings: list[Finding] = []
    for host in _hosts(live, "generation-pod"):
        unread = _unread(policy, host, host.app_metrics, "fail")
        if unread is not None:
            findings.append(unread)
            continue
        fetch = host.app_metrics
        assert fetch is not None
        content_type = fetch.header("content-type")
        problems = []
        if not _content_type_ok(content_type, accepted):
            problems.append(("content type", " or ".join(accepted), content_type or "none"))
        served = exposition(fetch)
        if isinstance(served, str) or not served:
            problems.append(("body", "Prometheus text exposition", served or "no samples"))
        findings += [
            Finding(
                policy.id,
                resource("endpoint", host.uri, fetch.url),
                f"{app.name} {fetch.url} on {host.uri}: {what} is not the Prometheus text format",
                expected,
                str(actual),
                _at(host, fetch.url, app.location),
            )
            for what, expected, actual in problems
        ]
    return findings


def _secret_like(name: str, params: dict[str, Any]) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, p.upper()) for p in params["names"]) and not any(
        fnmatch.fnmatchcase(upper, p.upper()) for p in params["not_secret"]
    )


@check("NODE-007")
def env_literals(live: NodeLive, policy: Policy) -> list[Finding]:
    app = _app(live)
    findings = []
    for host in _hosts(live, "generation-pod"):
        if host.app_env is None:
            why = host.app_env_error or f"no process listens on port {host.app_port}"
            findings.append(
                Finding(
                    policy.id,
                    resource("process", host.uri, app.name),
                    f"the environment of {app.name} on {host.uri} cannot be read",
                    "/proc/<pid>/environ of the app process",
                    why,
                    _at(host, f"{app.name} environment"),
                    REVIEW,
                )
            )
            continue
        for name, value in sorted(host.app_env.items()):
            if not value or not _secret_like(name, policy.params):
                continue
            declared = live.inventory.env.get(name, [])
            clear = [d for d in declared if d.source in ("literal", "configmap")]
            if declared and not clear:
                continue
            if not declared and name in live.inventory.secret_keys:
                continue  # a key of a Secret an ExternalSecret writes
            origin = (
                f"declared as a {clear[0].source} in the manifest"
                if clear
                else "declared by no manifest of --infra (image ENV, command line, or a"
                " manifest outside the tree)"
            )
            findings.append(
                Finding(
                    policy.id,
                    resource("env", host.uri, app.name, name),
                    f"{name} of {app.name} on {host.uri} holds a literal: {origin}",
                    "valueFrom.secretKeyRef, envFrom of a Secret, or a mounted secret file",
                    f"a {len(value)}-character literal",
                    clear[0].location if clear else _at(host, f"{app.name} env {name}"),
                )
            )
    return findings


@check("NODE-008")
def eso_files_private(live: NodeLive, policy: Policy) -> list[Finding]:
    _app(live)
    declared = {f.path: f for f in live.inventory.secret_files}
    if not declared and not policy.params["secret_files"]:
        raise NotApplicable(
            "no workload of --infra mounts a Secret an ExternalSecret writes"
            " ([family.node] secret_files names others)"
        )
    findings = []
    for host in _hosts(live, "generation-pod"):
        for mode in host.secret_modes:
            spec = declared.get(mode.path)
            where = spec.location if spec else _at(host, mode.path)
            if mode.mode is None:
                problem, expected, actual = "is missing", "the file ESO syncs", "missing"
            elif mode.mode & 0o004:
                problem = "is world-readable"
                expected, actual = "mode 0400/0440 (defaultMode)", f"mode {mode.mode:04o}"
            else:
                continue
            findings.append(
                Finding(
                    policy.id,
                    resource("file", host.uri, mode.path),
                    f"{mode.path} on {host.uri} {problem}"
                    + (f" (Secret {spec.secret})" if spec else ""),
                    expected,
                    actual,
                    where,
                )
            )
    return findings


def parse_fluent_bit(path: str, text: str) -> list[Any]:
    """A running Fluent Bit classic configuration -> its sections (the logging family's
    reader, tree-sitter-fluentbit)."""
    from policies.logging.static import LoggingInventory, _sections

    inv = LoggingInventory()
    _sections(inv, Path(path), text, 0)
    return inv.sections


def _masked(key: str, value: str | None) -> str:
    if value is None:
        return "absent"
    return "***" if _SECRET_KEY.search(key) else value


def config_drift(expected: list[Any], running: list[Any]) -> list[tuple[Any, str, str, str]]:
    """Field-by-field differences, per section kind the rendered configuration sets, sections
    paired in order: (expected section or None, field, expected, actual)."""
    drift: list[tuple[Any, str, str, str]] = []
    for kind in dict.fromkeys(s.kind for s in expected):
        want = [s for s in expected if s.kind == kind]
        have = [s for s in running if s.kind == kind]
        for index in range(max(len(want), len(have))):
            if index >= len(have):
                drift.append((want[index], f"[{kind}] {want[index].name}", "present", "absent"))
                continue
            if index >= len(want):
                drift.append((None, f"[{kind}] {have[index].name}", "absent", "present"))
                continue
            w, h = want[index], have[index]
            for key in dict.fromkeys([*w.entries, *h.entries]):
                value = w.entries.get(key)
                if value is not None and ("{{" in value or "${" in value):
                    continue  # rendered by Helm's tpl or Fluent Bit's environment
                seen = h.entries.get(key)
                if (
                    value is None
                    or seen is None
                    or " ".join(value.split()) != " ".join(seen.split())
                ):
                    drift.append(
                        (w, f"[{kind}] {w.name} {key}", _masked(key, value), _masked(key, seen))
                    )
    return drift


@check("NODE-009")
def shipper_config(live: NodeLive, policy: Policy) -> list[Finding]:
    expected = live.inventory.shipper
    if not expected:
        raise NotApplicable("no Fluent Bit configuration in --infra")
    hosts = _hosts(live, "log-shipper")
    absent = [h for h in hosts if h.shipper_pid is None and not h.shipper_installed]
    if absent and all(h.uri.startswith("local://") for h in absent) and len(absent) == len(hosts):
        raise NotApplicable(
            "Fluent Bit is not installed on local:// (it cannot be installed here): the"
            " log-shipper check needs a kubectl:// or ssh:// host running it"
        )
    findings = []
    for host in hosts:
        where = _at(host, "fluent-bit")
        read = host.shipper_config
        if host.shipper_pid is None or read is None or read.text is None:
            actual = (
                "no fluent-bit process"
                if host.shipper_pid is None
                else (read.error if read else "no configuration file found")
            )
            findings.append(
                Finding(
                    policy.id,
                    resource("host", host.uri),
                    f"the running Fluent Bit configuration cannot be read on {host.uri}",
                    "fluent-bit running with the configuration rendered from --infra",
                    actual or "not read",
                    where,
                )
            )
            continue
        for section, what, want, seen in config_drift(
            expected, parse_fluent_bit(read.path, read.text)
        ):
            findings.append(
                Finding(
                    policy.id,
                    resource("fluent-bit-section", host.uri, what),
                    f"{what} on {host.uri} differs from the configuration rendered from --infra",
                    want,
                    seen,
                    Location(
                        resource=f"{host.uri} {_shown(read.path)}",
                        related=section.location if section is not None else None,
                    ),
                )
            )
    return findings
