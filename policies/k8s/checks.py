"""Kubernetes check bodies: manifests against schemas (static), cluster state (live)."""

from __future__ import annotations

from typing import Any

from policies.k8s.live import KubeInventory
from policies.k8s.schemas import ManifestInventory, schema_problem
from policies.model import Finding, Policy, resource
from policies.registry import check


@check("K8S-001")
def manifests_valid(inv: ManifestInventory, policy: Policy) -> list[Finding]:
    version = policy.params["kubernetes_version"]
    return [
        Finding(
            policy.id,
            resource("manifest", manifest.name),
            "manifest does not validate against its schema",
            "a valid object of its kind",
            problem,
            manifest.location,
        )
        for manifest in inv.manifests
        if (problem := schema_problem(manifest, version))
    ]


@check("K8S-010")
def external_secrets_synced(inv: KubeInventory, policy: Policy) -> list[Finding]:
    findings = []
    for es in inv.external_secrets:
        about = resource("external-secret", es.namespace, es.name)
        if not es.ready:
            findings.append(
                Finding(
                    policy.id,
                    about,
                    "ExternalSecret is not Ready",
                    "Ready=True",
                    es.reason,
                    inv.at(f"externalsecret {about}"),
                )
            )
            continue
        have = inv.secret_keys.get((es.namespace, es.target))
        missing = sorted(set(es.keys) - set(have or []))
        if have is None or missing:
            findings.append(
                Finding(
                    policy.id,
                    about,
                    f"Secret {es.target} lacks keys",
                    ", ".join(es.keys),
                    "no Secret" if have is None else f"missing {', '.join(missing)}",
                    inv.at(f"secret {es.namespace}/{es.target}"),
                )
            )
    return findings


@check("K8S-011")
def gpu_exporter_running(inv: KubeInventory, policy: Policy) -> list[Finding]:
    name = policy.params["exporter"]
    daemonsets = [d for d in inv.daemonsets if name in d.name or name in d.labels.values()]
    if not daemonsets:
        return [
            Finding(
                policy.id,
                resource("daemonset", name),
                "no GPU exporter DaemonSet",
                f"a {name} DaemonSet",
                "none",
                inv.at("daemonsets"),
            )
        ]
    findings = []
    for ds in daemonsets:
        selected = [
            p
            for p in inv.pods
            if p.namespace == ds.namespace
            and all(p.labels.get(k) == v for k, v in ds.selector.items())
        ]
        if ds.desired == 0 or ds.ready < ds.desired or not selected:
            findings.append(
                Finding(
                    policy.id,
                    resource("daemonset", ds.namespace, ds.name),
                    "GPU exporter not running on every GPU node",
                    f"{ds.desired or '>0'} ready pods selected",
                    f"{ds.ready}/{ds.desired} ready, {len(selected)} pods selected",
                    inv.at(f"daemonset {ds.namespace}/{ds.name}"),
                )
            )
    return findings


@check("K8S-012")
def workloads_non_root(inv: KubeInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("pod", p.namespace, p.name),
            "container may run as root",
            "securityContext.runAsNonRoot: true",
            "not set",
            inv.at(f"pod {p.namespace}/{p.name}"),
        )
        for p in inv.pods
        if _checked(p.namespace, policy.params) and not p.non_root
    ]


def _checked(namespace: str, params: dict[str, Any]) -> bool:
    """The configured namespaces; without any, every namespace but the system ones."""
    if params["namespaces"]:
        return namespace in params["namespaces"]
    return namespace not in params["system_namespaces"]
