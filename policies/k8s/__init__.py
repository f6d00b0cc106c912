"""Kubernetes family: manifests valid against their schemas; live probes of a cluster."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.k8s.schemas import read_manifests

    return read_manifests(tree.yaml)


FAMILY = Family(
    name="k8s",
    what="Kubernetes manifest",
    read=_read,
    present=lambda inventory: bool(inventory.manifests),
    live="kube_live",
)
