"""The finding and policy model shared by every family, reader and report."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from policies.redact import inert

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file and line (static) or a deployed resource (live)."""

    path: Path | None = None
    line: int | None = None
    resource: str | None = None
    related: Location | None = None  # where else it is written (a module's dynamic block)

    def __str__(self) -> str:
        if self.path is None:
            return inert(self.resource or "<unknown>")
        shown = display_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown


def matches_declared(declared: str, actual: str) -> bool:
    """Whether a deployed value can be the declared one: unresolved "${...}" parts of the
    declared value (module outputs, resource attributes) match anything (in RE2: many of them
    in one value would make a backtracking engine take exponential time)."""
    import re2

    pattern = re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(declared))
    return re2.fullmatch(pattern, actual) is not None


def display_path(path: Path) -> str:
    """A path as a user reads it: relative to the working directory when under it, inert (a
    control character or a byte of its name that is not UTF-8 shown as \\xNN)."""
    return _shown(path, os.getcwd())[0]


def path_uri(path: Path) -> dict[str, str]:
    """A SARIF artifactLocation: relative to the working directory (uriBaseId PROJECTROOT)
    when under it, else a file URI; percent-encoded from the name's bytes."""
    return dict(_shown(path, os.getcwd())[1])


@lru_cache(maxsize=4096)
def _shown(path: Path, cwd: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """display_path and path_uri of a path from a working directory (a tree's findings name
    the same files again and again)."""
    try:
        relative = path.relative_to(cwd)
    except ValueError:
        return inert(str(path)), (("uri", "file://" + quote(os.fsencode(path))),)
    uri = (("uri", quote(os.fsencode(relative))), ("uriBaseId", "PROJECTROOT"))
    return inert(str(relative)), uri


@dataclass(frozen=True)
class Policy:
    """One catalog entry: metadata only, the check body lives in its family's module."""

    id: str
    family: str
    title: str
    severity: str
    tiers: tuple[str, ...]
    rationale: str
    remediation: str
    params: dict[str, Any] = field(default_factory=dict)
    unverifiable: str = "low"  # severity of its review findings (a verdict depending on unknowns)


@dataclass(frozen=True)
class Waiver:
    """An accepted exception: policy id, a resource pattern, who owns it and until when."""

    policy_id: str
    resource: str
    reason: str
    owner: str
    expires: date

    def days_left(self, today: date) -> int:
        return (self.expires - today).days


@dataclass(frozen=True)
class Resource:
    """What a finding is about: a kind and the names identifying it, outermost first, e.g.
    Resource("waf-rule", ("dev-pingvas-waf", "RateLimit")). Waivers match their pattern
    against str(resource): the names joined by "/".

    Kinds by family, with their names where there is more than one or the form matters:
    - waf: web-acl, waf-rule (acl, rule), managed-rule (acl, group, rule), web-acl-field
      (acl, field), waf-rule-field (acl, rule, field), firehose-stream, endpoint (URL)
    - rls: table, view, function, role, setting, row-policy (table, policy), table-command
      (table, command), table-role (table, role), app-code, undefined-name ("application", name)
    - secrets: secret (name or ARN), secret-value, terraform-block, manifest ("<Kind> <name>")
    - alarms: alarm, alarm-field (alarm, field), required-alarm (catalog key), sns-topic
    - metrics: query, query-metric (query, metric), metric, scrape-job, dashboard (file name),
      endpoint ("<app> /metrics" or URL), secret-value
    - pipeline: workflow (file name), workflow-job ("<file>:<job>"), zizmor-audit ("zizmor",
      audit), tool, helm-chart
    - logging: fluent-bit-section ("[OUTPUT] <name>")
    - k8s: manifest, external-secret and pod (namespace, name), daemonset ([namespace,] name)
    - node: host, host-port, process, endpoint, query-metric, env, file, fluent-bit-section
    - sources: file, terraform-block"""

    kind: str
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join(self.names)

    @property
    def name(self) -> str:
        """The innermost name."""
        return self.names[-1]


def resource(kind: str, *names: object) -> Resource:
    """A Resource of the kind, its names (outermost first) as text."""
    return Resource(kind, tuple(str(name) for name in names))


FAIL, REVIEW = "fail", "review"  # a violation; a verdict that depends on an unknown value


@dataclass(frozen=True)
class Finding:
    """A violation (kind fail), or a verdict the suite cannot reach because it depends on a
    value only apply knows or the configuration does not give (kind review: unverifiable):
    which policy, which resource, where, expected vs actual."""

    policy_id: str
    resource: Resource
    message: str
    expected: str
    actual: str
    location: Location
    kind: str = FAIL
    detail: str = ""  # how the verdict was reached (a WAF case's trace), shown under the finding

    def render(self, remediation: str) -> str:
        """The finding in one line, its detail in the lines under it, each inert."""
        label = "unverifiable: " if self.kind == REVIEW else ""
        shown = inert(
            f"{self.location}: {self.policy_id} {self.resource}: {label}{self.message}"
            f" (expected {self.expected}; actual {self.actual}). Fix: {remediation}"
        )
        return shown + "".join(f"\n    {inert(line)}" for line in self.detail.splitlines())


def unverifiable(
    policy_id: str, subject: Resource, location: Location, what: str, unknown: object
) -> Finding:
    """A review finding: the policy's verdict on `what` depends on `unknown` (its text says
    which expression and why it is not known)."""
    return Finding(
        policy_id,
        subject,
        f"{what} cannot be verified before apply",
        "a value the configuration determines",
        str(unknown),
        location,
        REVIEW,
    )


def finding_to_json(finding: Finding) -> dict[str, Any]:
    """A finding as plain data (crosses xdist workers, feeds the report writers), its texts
    inert."""
    loc = finding.location
    return {
        "policy_id": finding.policy_id,
        "resource": inert(str(finding.resource)),
        "resource_kind": finding.resource.kind,
        "resource_names": [inert(name) for name in finding.resource.names],
        "message": inert(finding.message),
        "expected": inert(finding.expected),
        "actual": inert(finding.actual),
        "path": display_path(loc.path) if loc.path else None,
        "artifact": path_uri(loc.path) if loc.path else None,
        "line": loc.line,
        "where": str(loc),
        "kind": finding.kind,
        "detail": "\n".join(inert(line) for line in finding.detail.splitlines()),
        "related": (
            {"artifact": path_uri(loc.related.path), "line": loc.related.line}
            if loc.related is not None and loc.related.path is not None
            else None
        ),
    }


def arn_name(arn: str) -> str:
    """The resource name at the end of an ARN (deliverystream/NAME, log-group:NAME, :::bucket)."""
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    for sep in ("/", ":"):
        tail = tail.rsplit(sep, 1)[-1] if sep in tail else tail
    return tail
