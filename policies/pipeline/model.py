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
class PipelineInventory:
    workflows: list[Workflow] = field(default_factory=list)
    helm: list[HelmInstall] = field(default_factory=list)
    zizmor: list[ZizmorResult] | None = None  # None: zizmor is not installed
