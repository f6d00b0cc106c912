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
class LocalAction:
    """An action defined in the tree (`uses: ./path`): its declared inputs and, when it is a
    composite action, its steps."""

    path: Path  # the action.yml / action.yaml
    doc: Any  # LineDict of the file
    using: str  # runs.using: composite, docker, node20, ...
    inputs: dict[str, str | None]  # input -> its default (None: no default)


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
    actions: dict[Path, LocalAction] = field(default_factory=dict)  # by the action's directory
    helm: list[HelmInstall] = field(default_factory=list)
    zizmor: ZizmorRun | None = None  # None: zizmor is not installed
