"""The node family on recorded answers (fixtures/node/recorded: what a GPU node, a generation
pod and a Fluent Bit pod print for the family's read-only scripts): each check passes the
known-good host and fails each known-bad variant naming the host and the value seen; the
readers, the [hosts] roles and the not-applicable paths."""

from dataclasses import replace
from importlib import resources

import pytest
import yaml

from policies.catalog import load_catalog
from policies.config import ConfigError, load_config
from policies.model import REVIEW
from policies.node.fixtures import host_roles
from policies.node.live import Answer, HostUnreachable, parse_fetch, read_host
from policies.node.model import NodeLive, SecretFile
from policies.node.static import read_static
from policies.registry import NotApplicable, all_checks, families
from policies.sources import Sources
from policies.tree import Tree
from tests.helpers import FIXTURES, ROOT, expected_lines, finding_lines, run_suite, suite

CATALOG = load_catalog()
CHECKS = all_checks()
RECORDED = FIXTURES / "node" / "recorded"
PARAMS = {k: v for p in CATALOG.values() if p.family == "node" for k, v in p.params.items()}
INFRA = read_static(Tree(Sources(ROOT / "infra")))
MOUNT = "/var/run/secrets/pingvas"
POD_INVENTORY = replace(
    INFRA,
    secret_files=[
        SecretFile(name, f"{MOUNT}/{key}", INFRA.exporter.location)
        for name, key in (("db-credentials", "DATABASE_URL"), ("jwt-secret", "JWT_SECRET"))
    ],
)
PAYLOAD = resources.files("policies.targets").joinpath("dcgm-exporter.prom").read_text()


class RecordedShell:
    """A host answering the family's scripts from a recorded file; `edit` rewrites answers by
    key (a callable of the recorded text, or a text)."""

    def __init__(self, name: str, uri: str = "kubectl://recorded", edits=None) -> None:
        self.uri = uri
        self.answers = yaml.safe_load((RECORDED / f"{name}.yaml").read_text())
        for key, change in (edits or {}).items():
            old = self._text(self.answers.get(key))
            self.answers[key] = change(old) if callable(change) else change

    def _text(self, value):
        if isinstance(value, dict) and value.get("from_payload"):
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            return head + "\r\n" + PAYLOAD
        if isinstance(value, dict) and "from_file" in value:
            return (RECORDED / value["from_file"]).read_text()
        return value

    def read(self, name: str, *args: str) -> Answer:
        value = self._text(self.answers.get(" ".join([name, *args])))
        if value is None:
            return Answer(1, "", f"{args[0] if args else name}: No such file or directory")
        return value if isinstance(value, Answer) else Answer(0, value)


def run(policy_id, *readings, inventory=INFRA):
    return CHECKS[policy_id](NodeLive(inventory, list(readings)), CATALOG[policy_id])


def gpu(edits=None):
    return read_host(RecordedShell("gpu-node", edits=edits), ("gpu-node",), INFRA, PARAMS)


def pod(edits=None):
    shell = RecordedShell("generation-pod", edits=edits)
    return read_host(shell, ("generation-pod",), POD_INVENTORY, PARAMS)


def shipper(edits=None, uri="kubectl://recorded"):
    shell = RecordedShell("log-shipper", uri=uri, edits=edits)
    return read_host(shell, ("log-shipper",), INFRA, PARAMS)


def without(metric):
    return lambda text: "\n".join(line for line in text.split("\n") if metric not in line)


@pytest.mark.parametrize("policy_id", ["NODE-001", "NODE-002", "NODE-003", "NODE-004"])
def test_gpu_node_known_good(policy_id):
    assert run(policy_id, gpu()) == []


def test_exporter_on_another_port_is_named():
    found = run("NODE-001", gpu({"procs": lambda t: t.replace("00000000:24B8", "00000000:24B9")}))
    assert [f.resource.names for f in found] == [("kubectl://recorded", "9400")]
    assert "9401" in found[0].actual


def test_port_held_by_another_process():
    found = run(
        "NODE-001", gpu({"procs": lambda t: t.replace("/usr/bin/dcgm-exporter ", "/bin/nc ")})
    )
    assert found[0].resource.names == ("kubectl://recorded", "9400")
    assert "pid 7" in found[0].actual


def test_exporter_missing_a_queried_field():
    found = run("NODE-002", gpu({"fetch 9400 /metrics": without("DCGM_FI_DEV_XID_ERRORS")}))
    assert [f.resource.names for f in found] == [("kubectl://recorded", "DCGM_FI_DEV_XID_ERRORS")]
    assert found[0].location.related.line == 57  # the GpuXidErrors rule's expr


def test_exporter_without_the_grouped_label():
    drop_pod = lambda text: text.replace(',pod="generation-worker-6f8c9d7b5-k2x7p"', "").replace(  # noqa: E731
        ',pod="generation-worker-6f8c9d7b5-q9m4t"', ""
    )
    found = run("NODE-002", gpu({"fetch 9400 /metrics": drop_pod}))
    assert {f.resource.name for f in found} == {
        "DCGM_FI_DEV_XID_ERRORS",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
    }
    assert all("pod" in f.expected and "pod" not in f.actual.split(", ") for f in found)


def test_exporter_unreachable_port():
    found = run(
        "NODE-002", gpu({"fetch 9400 /metrics": Answer(7, "", "curl: (7) Connection refused")})
    )
    assert found[0].actual == "curl: (7) Connection refused"


def test_collectors_file_without_a_field():
    key = "file /proc/7/root/etc/dcgm-exporter/default-counters.csv"
    found = run("NODE-003", gpu({key: without("DCGM_FI_DEV_FB_USED,")}))
    assert [f.resource.name for f in found] == ["DCGM_FI_DEV_FB_USED"]
    commented = run(
        "NODE-003",
        gpu({key: lambda t: t.replace("DCGM_FI_DEV_GPU_TEMP", "# DCGM_FI_DEV_GPU_TEMP")}),
    )
    assert [f.resource.name for f in commented] == ["DCGM_FI_DEV_GPU_TEMP"]
    unreadable = run("NODE-003", gpu({key: Answer(1, "", "Permission denied")}))
    assert unreadable[0].actual == "Permission denied"


def test_driver_below_minimum_and_absent():
    found = run("NODE-004", gpu({"driver": "440.33.01\n"}))
    assert found[0].actual == "440.33.01"
    with pytest.raises(NotApplicable, match="nvidia-smi is not on any gpu-node host"):
        run("NODE-004", gpu({"driver": "absent\n"}))


@pytest.mark.parametrize("policy_id", ["NODE-005", "NODE-006", "NODE-007", "NODE-008"])
def test_generation_pod_known_good(policy_id):
    assert run(policy_id, pod(), inventory=POD_INVENTORY) == []


def test_app_as_root():
    found = run("NODE-005", pod({"procs": lambda t: t.replace("1\t10001\t", "1\t0\t")}))
    assert [(f.resource.names, f.actual) for f in found] == [(("kubectl://recorded", "1"), "uid 0")]


def test_no_app_process_is_reported_not_passed():
    found = run("NODE-005", pod({"procs": ""}))
    assert [f.kind for f in found] == [REVIEW]


def test_app_metrics_as_json():
    answer = 'HTTP/1.1 200 OK\ncontent-type: application/json\n\n{"queue_length": 3}'
    found = run("NODE-006", pod({"fetch 8000 /metrics": answer}))
    assert {f.actual for f in found} == {"application/json", found[1].actual}
    assert found[0].resource.names[0] == "kubectl://recorded"


def test_app_metrics_on_another_port():
    found = run(
        "NODE-006", pod({"fetch 8000 /metrics": Answer(7, "", "curl: (7) Failed to connect")})
    )
    assert found[0].resource.names == ("kubectl://recorded", "http://127.0.0.1:8000/metrics")


def test_literal_password_in_the_environment():
    literal = "hunter2-literal-value"
    found = run(
        "NODE-007",
        pod({"environ 1": lambda t: t + f"REDIS_PASSWORD={literal}\nAPI_TOKEN_FILE=/run/token\n"}),
        inventory=POD_INVENTORY,
    )
    assert [f.resource.names for f in found] == [
        ("kubectl://recorded", "generation-service", "REDIS_PASSWORD")
    ]
    assert all(literal not in f.render("") for f in found)


def test_literal_declared_in_a_manifest_points_at_it():
    tree = read_static(Tree(Sources(FIXTURES / "node" / "trees" / "deployment")))
    inventory = replace(POD_INVENTORY, env=tree.env, secret_keys=tree.secret_keys)
    found = run(
        "NODE-007",
        pod({"environ 1": lambda t: t + "REDIS_PASSWORD=changeme\n"}),
        inventory=inventory,
    )
    assert finding_lines(found) == expected_lines(FIXTURES / "node" / "trees", "NODE-007")


def test_eso_files_world_readable_or_missing():
    key = f"modes /proc/1/root{MOUNT}/DATABASE_URL /proc/1/root{MOUNT}/JWT_SECRET"
    answer = f"644 10001 /proc/1/root{MOUNT}/DATABASE_URL\nmissing /proc/1/root{MOUNT}/JWT_SECRET\n"
    found = run("NODE-008", pod({key: answer}), inventory=POD_INVENTORY)
    assert [(f.resource.name, f.actual) for f in found] == [
        (f"{MOUNT}/DATABASE_URL", "mode 0644"),
        (f"{MOUNT}/JWT_SECRET", "missing"),
    ]


def test_eso_files_not_applicable_without_mounts():
    with pytest.raises(NotApplicable, match="mounts a Secret an ExternalSecret writes"):
        run("NODE-008", pod())


def test_static_reads_deployment_env_and_secret_mounts():
    inventory = read_static(Tree(Sources(FIXTURES / "node" / "trees" / "deployment")))
    assert {n: [d.source for d in ds] for n, ds in inventory.env.items()} == {
        "username": ["secret"],
        "password": ["secret"],
        "host": ["secret"],
        "DATABASE_URL": ["secret"],
        "JWT_SECRET": ["secret"],
        "REDIS_PASSWORD": ["literal"],
        "MODEL_CACHE_DIR": ["literal"],
    }
    assert [f.path for f in inventory.secret_files] == [f"{MOUNT}/JWT_SECRET"]


def test_fluent_bit_config_equal_to_the_rendered_one():
    assert run("NODE-009", shipper()) == []


def test_fluent_bit_drift_named_field_by_field():
    key = "file /proc/1/root/fluent-bit/etc/conf/fluent-bit.conf"

    def drift(text):
        text = text.replace("log_retention_days 30", "log_retention_days 7")
        text = text.replace("    compression gzip\n", "")
        return text + "\n[OUTPUT]\n    Name stdout\n    Match *\n"

    found = run("NODE-009", shipper({key: drift}))
    assert [(f.resource.name, f.expected, f.actual) for f in found] == [
        ("[OUTPUT] cloudwatch_logs log_retention_days", "30", "7"),
        ("[OUTPUT] s3 compression", "gzip", "absent"),
        ("[OUTPUT] stdout", "absent", "present"),
    ]


def test_fluent_bit_not_running():
    found = run("NODE-009", shipper({"procs": ""}))
    assert found[0].actual == "no fluent-bit process"


def test_fluent_bit_not_installed_on_local_skips():
    reading = shipper(
        {"procs": "", "which fluent-bit /opt/fluent-bit/bin/fluent-bit": ""}, "local://"
    )
    with pytest.raises(NotApplicable, match="Fluent Bit is not installed on local://"):
        run("NODE-009", reading)


def test_unreachable_host_fails_in_one_line_naming_it():
    shell = RecordedShell(
        "gpu-node",
        uri="ssh://gpu-1",
        edits={"ping": Answer(255, "", "ssh: connect to host gpu-1 port 22: No route to host\n")},
    )
    with pytest.raises(HostUnreachable, match=r"^host ssh://gpu-1 cannot be reached: ssh: connect"):
        read_host(shell, ("gpu-node",), INFRA, PARAMS)


def test_no_host_with_the_role_is_not_applicable():
    with pytest.raises(NotApplicable, match="no --hosts host has the role generation-pod"):
        run("NODE-005", gpu())


def test_wget_answers_parse_like_curl():
    fetch = parse_fetch(
        "u", Answer(0, "  HTTP/1.1 200 OK\n  Content-Type: text/plain; version=0.0.4\nq 1\n")
    )
    assert (fetch.status, fetch.header("content-type"), fetch.body) == (
        200,
        "text/plain; version=0.0.4",
        "q 1\n",
    )


def test_roles_from_config_and_the_local_default():
    patterns = {"kubectl://dcgm-exporter-*": ("gpu-node",)}
    assert host_roles("kubectl://dcgm-exporter-x7k2p?namespace=monitoring", patterns, False) == (
        "gpu-node",
    )
    assert host_roles("local://", {}, True) == ("gpu-node", "generation-pod", "log-shipper")
    assert host_roles("local://", {}, False) == ()


def test_unknown_role_in_config_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "pingvas-policy.toml"
    path.write_text('[hosts]\n"ssh://gpu-*" = ["gpu"]\n')
    with pytest.raises(ConfigError, match=r":2: \[hosts\] ssh://gpu-\*: unknown role 'gpu'"):
        load_config(path, CATALOG, set(families()))


def test_without_hosts_every_node_test_is_not_applicable():
    done = run_suite(
        *suite("node"),
        "-m",
        "live",
        "-k",
        "NODE",
        "--infra",
        str(ROOT / "infra"),
        "-rs",
        "-p",
        "no:cacheprovider",
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "SKIPPED [9] policies/suite/runner.py:37: not applicable: no --hosts" in done.stdout


@pytest.mark.parametrize("regex", ["(a+)+$", "(unclosed", "http|metrics"])
def test_a_relabel_regex_from_the_tree_runs_in_linear_time_and_never_raises(regex):
    """Prometheus' relabel regexes are RE2: a catastrophic pattern meets a long port name in
    linear time, a pattern Prometheus would refuse keeps no port."""
    from policies.metrics.model import MetricsInventory, ScrapeJob
    from policies.model import Location
    from policies.node.static import _app
    from policies.yamlfile import LineDict

    keep = {
        "action": "keep",
        "source_labels": ["__meta_kubernetes_pod_container_port_name"],
        "regex": regex,
    }
    job = ScrapeJob("app", "app", [], Location(), {"relabel_configs": [keep]})
    port = LineDict(name="a" * 50_000 + "b", containerPort=8000)
    port.line, port.key_lines = 1, {}
    pod = LineDict(kind="Pod", spec={"containers": [{"ports": [port]}]})
    pod.line, pod.key_lines = 1, {}
    spec = _app(MetricsInventory(jobs=[job]), "app", Location(), [(None, pod)])
    assert spec.port is None
