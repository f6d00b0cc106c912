"""Pipeline, logging and Kubernetes policies: workflows, Helm installs, Fluent Bit, manifests
(static) and a cluster (live, --kube-context)."""

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.registry import all_checks

CHECKS = all_checks()


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("pipeline", "static"))
def test_pipeline(policy, pipeline_static, infra_dir, gate):
    if not pipeline_static.workflows:
        pytest.fail(f"no GitHub Actions workflow found under {infra_dir}", pytrace=False)
    if policy == "PIPE-005" and pipeline_static.zizmor is None:
        pytest.skip("zizmor not installed: pip install zizmor")
    gate(policy, CHECKS[policy](pipeline_static, load_catalog()[policy]))


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("logging", "static"))
def test_logging(policy, logging_static, infra_dir, gate):
    if not logging_static.sections:
        pytest.fail(
            f"no Fluent Bit configuration found in the Helm values under {infra_dir}", pytrace=False
        )
    gate(policy, CHECKS[policy](logging_static, load_catalog()[policy]))


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("k8s", "static"))
def test_manifests(policy, manifests_static, infra_dir, gate):
    if not manifests_static.manifests:
        pytest.fail(f"no Kubernetes manifest found under {infra_dir}", pytrace=False)
    gate(policy, CHECKS[policy](manifests_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", policy_ids("k8s", "live"))
def test_cluster(policy, kube_live, gate):
    gate(policy, CHECKS[policy](kube_live.get(), load_catalog()[policy]))
