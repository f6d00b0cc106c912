"""The live Kubernetes checks on recorded API answers (fixtures/kube), deserialised through the
kubernetes client's models exactly as the live reader receives them."""

import copy
import json
import os

import pytest
from kubernetes.client import ApiClient

from policies.k8s.live import read_live
from policies.registry import all_checks
from tests.helpers import FIXTURES, infra_catalog, suite

CHECKS = all_checks()


class _Response:
    def __init__(self, payload):
        self.data = json.dumps(payload)


class RecordedCluster:
    """Answers list calls from recorded JSON, through the client's deserialiser."""

    def __init__(self, edit=None):
        self.answers = {
            n: json.loads((FIXTURES / "kube" / f"{n}.json").read_text())
            for n in ("externalsecrets", "secrets", "daemonsets", "pods")
        }
        if edit:
            edit(self.answers)
        self.client = ApiClient()

    def _model(self, name, model):
        return self.client.deserialize(_Response(self.answers[name]), model)

    def list_secret_for_all_namespaces(self, _request_timeout):
        return self._model("secrets", "V1SecretList")

    def list_pod_for_all_namespaces(self, _request_timeout):
        return self._model("pods", "V1PodList")

    def list_daemon_set_for_all_namespaces(self, _request_timeout):
        return self._model("daemonsets", "V1DaemonSetList")

    def list_cluster_custom_object(self, group, version, plural, _request_timeout):
        assert (group, version, plural) == ("external-secrets.io", "v1", "externalsecrets")
        return copy.deepcopy(self.answers["externalsecrets"])


def findings(cluster, policy_id):
    inventory = read_live("recorded", cluster, cluster, cluster)
    return CHECKS[policy_id](inventory, infra_catalog()[policy_id])


def test_not_ready_external_secret_is_reported_with_its_reason():
    [finding] = findings(RecordedCluster(), "K8S-010")
    assert finding.resource.names == ("dev", "lemon-squeezy")
    assert finding.actual == "SecretSyncedError"


def test_synced_secret_missing_a_key_is_reported_without_values():
    def drop_password(answers):
        del answers["secrets"]["items"][0]["data"]["password"]

    found = [
        f
        for f in findings(RecordedCluster(drop_password), "K8S-010")
        if f.resource.names == ("dev", "db-credentials")
    ]
    assert [f.actual for f in found] == ["missing password"]
    assert "ZmFrZ" not in str(found)  # no base64 value in any finding


def test_gpu_exporter_ready_on_every_node_passes_and_a_missing_pod_fails():
    assert findings(RecordedCluster(), "K8S-011") == []

    def not_ready(answers):
        answers["daemonsets"]["items"][0]["status"]["numberReady"] = 1

    [finding] = findings(RecordedCluster(not_ready), "K8S-011")
    assert finding.actual.startswith("1/2 ready")


@pytest.mark.parametrize("harden", [False, True], ids=["user-service-as-root", "hardened"])
def test_application_pods_run_as_non_root(harden):
    def run_as_non_root(answers):
        for pod in answers["pods"]["items"]:
            pod["spec"].setdefault("securityContext", {})["runAsNonRoot"] = True

    found = findings(RecordedCluster(run_as_non_root if harden else None), "K8S-012")
    pods = [f.resource.names for f in found]
    assert pods == ([] if harden else [("dev", "user-service-58f4d6c9b7-wz5rn")])


def test_unreachable_explicit_context_fails_and_absent_one_skips_in_one_line(tmp_path):
    from tests.helpers import run_suite

    args = (*suite("k8s"), "-m", "live", "-rs", "--reports", str(tmp_path))
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-kubeconfig")}
    explicit = run_suite(*args, "--kube-context", "nowhere", env=env, timeout=120)
    assert explicit.returncode == 1, explicit.stdout
    assert explicit.stdout.count("--kube-context nowhere cannot be reached") == 3
    absent = run_suite(*args, env=env, timeout=120)
    assert absent.returncode == 0, absent.stdout
    assert "no reachable Kubernetes context (current)" in absent.stdout
    assert "Traceback" not in explicit.stdout + absent.stdout
