"""A cluster (kubernetes client, read-only) -> KubeInventory. Secret values are never kept:
only the names of their keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies.model import Location

TIMEOUT_S = 10  # per API call (connect and read)


@dataclass
class ExternalSecretState:
    name: str
    namespace: str
    ready: bool
    reason: str
    target: str
    keys: list[str]  # keys the synced Secret must have


@dataclass
class Workload:
    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    selector: dict[str, str] = field(default_factory=dict)
    desired: int = 0
    ready: int = 0
    non_root: bool = False


@dataclass
class KubeInventory:
    context: str
    external_secrets: list[ExternalSecretState] = field(default_factory=list)
    secret_keys: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    daemonsets: list[Workload] = field(default_factory=list)
    pods: list[Workload] = field(default_factory=list)

    def at(self, what: str) -> Location:
        return Location(resource=f"{self.context} {what}")


def read_live(context: str, core: Any, apps: Any, custom: Any) -> KubeInventory:
    """Read through the kubernetes client's API objects (CoreV1Api, AppsV1Api,
    CustomObjectsApi); tests pass objects answering from recorded responses."""
    inv = KubeInventory(context)
    listing = custom.list_cluster_custom_object(
        "external-secrets.io", "v1", "externalsecrets", _request_timeout=TIMEOUT_S
    )
    for item in listing.get("items", []):
        meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
        ready = next((c for c in status.get("conditions", []) if c.get("type") == "Ready"), {})
        keys = [d["secretKey"] for d in spec.get("data", []) if "secretKey" in d]
        keys += list(((spec.get("target") or {}).get("template") or {}).get("data", {}))
        inv.external_secrets.append(
            ExternalSecretState(
                meta["name"],
                meta.get("namespace", ""),
                ready.get("status") == "True",
                ready.get("reason", "no Ready condition"),
                (spec.get("target") or {}).get("name", meta["name"]),
                sorted(set(keys)),
            )
        )
    for secret in core.list_secret_for_all_namespaces(_request_timeout=TIMEOUT_S).items:
        inv.secret_keys[(secret.metadata.namespace, secret.metadata.name)] = sorted(
            secret.data or {}
        )
    for ds in apps.list_daemon_set_for_all_namespaces(_request_timeout=TIMEOUT_S).items:
        inv.daemonsets.append(
            Workload(
                "DaemonSet",
                ds.metadata.name,
                ds.metadata.namespace,
                ds.metadata.labels or {},
                (ds.spec.selector.match_labels or {}),
                ds.status.desired_number_scheduled or 0,
                ds.status.number_ready or 0,
            )
        )
    for pod in core.list_pod_for_all_namespaces(_request_timeout=TIMEOUT_S).items:
        inv.pods.append(
            Workload(
                "Pod",
                pod.metadata.name,
                pod.metadata.namespace,
                pod.metadata.labels or {},
                non_root=_non_root(pod),
            )
        )
    return inv


def _non_root(pod: Any) -> bool:
    pod_level = bool(pod.spec.security_context and pod.spec.security_context.run_as_non_root)
    return all(
        (
            c.security_context.run_as_non_root
            if c.security_context and c.security_context.run_as_non_root is not None
            else pod_level
        )
        for c in pod.spec.containers
    )
