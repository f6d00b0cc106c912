"""The finding and policy model shared by every family, reader and report."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from policies.redact import printable

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file and line (static) or a deployed resource (live)."""

    path: Path | None = None
    line: int | None = None
    resource: str | None = None

    def __str__(self) -> str:
        if self.path is None:
            return self.resource or "<unknown>"
        shown = display_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown


def matches_declared(declared: str, actual: str) -> bool:
    """Whether a deployed value can be the declared one: unresolved "${...}" parts of the
    declared value (module outputs, resource attributes) match anything."""
    pattern = re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(declared))
    return re.fullmatch(pattern, actual) is not None


def display_path(path: Path) -> str:
    """A path as a user reads it: relative to the working directory when under it, any byte
    of its name that is not UTF-8 shown as \\xNN (so every report can be written)."""
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return printable(shown)


def path_uri(path: Path) -> dict[str, str]:
    """A SARIF artifactLocation: relative to the working directory (uriBaseId PROJECTROOT)
    when under it, else a file URI; percent-encoded from the name's bytes."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return {"uri": "file://" + quote(os.fsencode(path))}
    return {"uri": quote(os.fsencode(relative)), "uriBaseId": "PROJECTROOT"}


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
class Finding:
    """A violation: which policy, which resource, where, expected vs actual."""

    policy_id: str
    resource: str
    message: str
    expected: str
    actual: str
    location: Location

    def render(self, remediation: str) -> str:
        return (
            f"{self.location}: {self.policy_id} {self.resource}: {self.message}"
            f" (expected {self.expected}; actual {self.actual}). Fix: {remediation}"
        )


def finding_to_json(finding: Finding) -> dict[str, Any]:
    """A finding as plain data (crosses xdist workers, feeds the report writers)."""
    loc = finding.location
    return {
        "policy_id": finding.policy_id,
        "resource": finding.resource,
        "message": finding.message,
        "expected": finding.expected,
        "actual": finding.actual,
        "path": display_path(loc.path) if loc.path else None,
        "artifact": path_uri(loc.path) if loc.path else None,
        "line": loc.line,
        "where": str(loc),
    }
