"""The secrets inventory both tiers produce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from policies.model import Location, matches_declared

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


@dataclass
class Secret:
    name: str  # resolved; unresolved parts stay as "${...}"
    location: Location
    kms_key: str | None = None
    customer_managed_key: bool = False
    recovery_window_days: int | None = None  # None: the 30-day default
    rotation_days: int | None = None
    rotation_location: Location | None = None
    json_keys: list[str] | None = None  # keys of the JSON value, when declared as an object
    value_location: Location | None = None
    value_attribute: str | None = None  # secret_string / secret_string_wo / ...
    deployed: bool = True
    unknowns: dict[str, Any] = field(default_factory=dict)  # what only apply knows, by aspect

    def matches(self, name: str) -> bool:
        """Whether a concrete name (an ExternalSecret's key) can be this secret."""
        return matches_declared(self.name, name)


@dataclass
class RemoteRef:
    key: str
    property: str | None
    location: Location


@dataclass
class ExternalSecret:
    name: str
    api_version: str
    kind: str
    refresh_interval: str | None
    location: Location
    refresh_location: Location
    refs: list[RemoteRef] = field(default_factory=list)


@dataclass
class EsoObject:
    """Any External Secrets Operator object (for its API version)."""

    kind: str
    name: str
    api_version: str
    location: Location


@dataclass
class Plaintext:
    """Values written in a Secret manifest's data or stringData (clear or base64)."""

    what: str
    problem: str
    location: Location


@dataclass
class Written:
    """A scalar written in the tree where a credential could be: the name it is assigned to (a
    key, an env var, a Terraform attribute), its key path (`keys` as segments, `path` as shown),
    the value as written (read by SEC-004's rules, never shown), the file's shape (compose,
    manifest, values, tfvars, terraform, variable) and what holds it ("Deployment api",
    "aws_db_instance.main")."""

    name: str
    keys: tuple[str, ...]
    path: str
    value: str | int | float
    location: Location
    shape: str
    holder: str = ""


@dataclass
class TfVariable:
    """A Terraform variable as declared: its name, whether it is sensitive, where."""

    name: str
    sensitive: bool
    location: Location


@dataclass
class StateLeak:
    """A secret value that Terraform would keep in its state file."""

    what: str
    problem: str
    location: Location


@dataclass
class SecretsInventory:
    secrets: list[Secret] = field(default_factory=list)
    external: list[ExternalSecret] = field(default_factory=list)
    eso_objects: list[EsoObject] = field(default_factory=list)
    plaintext: list[Plaintext] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)
    variables: list[TfVariable] = field(default_factory=list)
    state_leaks: list[StateLeak] = field(default_factory=list)
    carriers: int = 0  # files SEC-004 reads: Terraform, tfvars, manifests, values, Compose
    state_candidates: int = 0  # resources that can keep a value in the state (SEC-005)


def duration_seconds(text: str | None) -> float | None:
    """A Go duration ("1h30m", "15m") in seconds; None when absent or not a duration."""
    if not text:
        return None
    text = str(text).strip()
    if text == "0":
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
