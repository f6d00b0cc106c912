"""The Kubernetes family's session fixture: the tree's manifests validated against their
schemas (the cluster side is the kube target, policies.targets.kube)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.catalog import load_catalog


@pytest.fixture(scope="session")
def manifests_static(yaml_files: Any) -> Any:
    """Every Kubernetes manifest under --infra validated against its schema."""
    from policies.k8s.schemas import validate_manifests

    version = load_catalog()["K8S-001"].params["kubernetes_version"]
    return validate_manifests(yaml_files[0], version)
