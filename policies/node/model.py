"""The node family's models: what --infra says the hosts run (NodeInventory, static), and what
was read on each host (HostReading), which the checks compare."""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.model import Location

DCGM_DEFAULT_PORT = 9400  # dcgm-exporter's default listen address, :9400


@dataclass(frozen=True)
class FieldNeed:
    """A DCGM field a dashboard or rule queries, with the labels the query groups or filters by."""

    metric: str
    labels: tuple[str, ...]
    source: str  # "rule GpuHot", "dashboard ... panel ..."
    location: Location


@dataclass(frozen=True)
class ExporterSpec:
    """The GPU exporter as --infra deploys it: the port the scrape job reaches, the collectors
    file its arguments name."""

    port: int
    collectors: str
    location: Location


@dataclass(frozen=True)
class AppSpec:
    """An instrumented app: the port its pod scrape job keeps (None: not in the manifests)."""

    name: str
    port: int | None
    location: Location


@dataclass(frozen=True)
class EnvDecl:
    """A container environment variable as a manifest declares it: `literal` (value:), `secret`
    (secretKeyRef, envFrom of a Secret), `configmap` (configMapKeyRef) or `other` (fieldRef...)."""

    name: str
    source: str
    location: Location


@dataclass(frozen=True)
class SecretFile:
    """A file an ExternalSecret's Secret becomes where a workload mounts it."""

    secret: str
    path: str
    location: Location


@dataclass
class NodeInventory:
    fields: list[FieldNeed] = field(default_factory=list)
    added_labels: set[str] = field(default_factory=set)  # labels Prometheus adds, not served
    exporter: ExporterSpec | None = None
    apps: list[AppSpec] = field(default_factory=list)
    env: dict[str, list[EnvDecl]] = field(default_factory=dict)
    secret_keys: dict[str, Location] = field(default_factory=dict)  # keys of Secrets ESO writes
    secret_files: list[SecretFile] = field(default_factory=list)
    shipper: list[object] = field(default_factory=list)  # policies.logging Section, rendered


@dataclass(frozen=True)
class Proc:
    pid: int
    uid: int
    cmdline: str
    ports: frozenset[int]  # TCP ports it listens on


@dataclass(frozen=True)
class Fetch:
    """A GET from the host itself: status, headers (lower-cased names), body, or why not."""

    url: str
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    error: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


@dataclass(frozen=True)
class FileRead:
    path: str
    text: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FileMode:
    path: str
    mode: int | None = None  # permission bits; None: missing
    uid: int | None = None
    error: str | None = None


@dataclass
class HostReading:
    """What one host answered, for the checks to judge (values of the environment stay here and
    are registered for masking; findings name variables, never their values)."""

    uri: str
    roles: tuple[str, ...]
    processes: list[Proc] = field(default_factory=list)
    exporter_metrics: Fetch | None = None
    collectors: FileRead | None = None
    driver: str | None = None  # nvidia-smi's driver_version (or its error); None: no nvidia-smi
    app_port: int | None = None
    app_metrics: Fetch | None = None
    app_env: dict[str, str] | None = None
    app_env_error: str | None = None
    secret_modes: list[FileMode] = field(default_factory=list)
    shipper_config: FileRead | None = None
    shipper_installed: bool = False
    shipper_pid: int | None = None

    def listeners(self, port: int) -> list[Proc]:
        return [p for p in self.processes if port in p.ports]


@dataclass
class NodeLive:
    """The hosts as read, with the expectations of --infra; `unassigned`: --hosts without a
    role (pingvas-policy.toml [hosts])."""

    inventory: NodeInventory
    hosts: list[HostReading] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)

    def with_role(self, role: str) -> list[HostReading]:
        return [h for h in self.hosts if role in h.roles]
