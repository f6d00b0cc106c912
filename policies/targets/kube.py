"""The Kubernetes target of the live tier: the cluster of --kube-context, read-only, every API
call bounded by a timeout. An explicit context that cannot be reached fails; without the option,
no reachable kubeconfig context skips."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


@pytest.fixture(scope="session")
def kube_live(pytestconfig: pytest.Config) -> Lazy[Any]:
    """The cluster's inventory (policies.k8s.live), read once."""
    context = pytestconfig.getoption("--kube-context")

    def read() -> Any:
        try:
            from kubernetes import client, config
        except ImportError:
            pytest.skip("kubernetes client not installed: pip install kubernetes")
        from policies.k8s.live import read_live

        cause = None
        try:
            api = config.new_client_from_config(context=context)
            api.configuration.retries = 1
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            core.get_api_resources(_request_timeout=5)
        except Exception as exc:  # noqa: BLE001 - no kubeconfig, unknown context, unreachable
            cause = " ".join(str(exc).split())[:200]
        if cause is not None:
            if context:
                pytest.fail(f"--kube-context {context} cannot be reached: {cause}", pytrace=False)
            pytest.skip(f"no reachable Kubernetes context (current): {cause}")
        return read_live(context or "current-context", core, apps, client.CustomObjectsApi(api))

    return Lazy(read)
