"""The pipeline inventory: workflows with their lines, helm invocations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.model import Location


@dataclass
class Workflow:
    path: Path
    doc: Any  # LineDict of the workflow
    triggers: list[str]
    location: Location
    lines: list[str] = field(default_factory=list)  # the file's text, for line lookups


@dataclass
class HelmInstall:
    chart: str
    pinned: bool
    location: Location


@dataclass
class ZizmorResult:
    audit: str
    severity: str
    description: str
    annotation: str
    location: Location


@dataclass
class ZizmorRun:
    """zizmor's audit of the workflows: its results, or why it could not audit them."""

    results: list[ZizmorResult]
    failure: str | None = None
    failed_path: Path | None = None  # the workflow zizmor could not load, when it names one


@dataclass
class PipelineInventory:
    workflows: list[Workflow] = field(default_factory=list)
    helm: list[HelmInstall] = field(default_factory=list)
    zizmor: ZizmorRun | None = None  # None: zizmor is not installed
