"""The embedded Prometheus is given only the scrape settings the suite needs: a scrape job's
credentials files, proxies, TLS files, service discovery and anything else of the tree is
dropped and named, never read or sent by a real Prometheus."""

import json
import socketserver
import threading
import time
from pathlib import Path

import pytest

from policies.metrics.static import read_static
from policies.sources import Sources
from policies.targets.prometheus import _await_scrapes, _jobs, _stand_ins, start
from policies.targets.stack import StackUnavailable
from policies.yamlfile import load_yaml_files

STAND_IN = "127.0.0.1:9400"
HOSTILE = {
    "scheme": "https",
    "authorization": {"type": "Bearer", "credentials_file": "/etc/shadow"},
    "basic_auth": {"username": "u", "password_file": "/etc/passwd"},
    "oauth2": {
        "client_id": "x",
        "client_secret": "inline-secret",
        "token_url": "http://evil.example/token",
    },
    "bearer_token_file": "/etc/token",
    "tls_config": {"ca_file": "/etc/ca.pem", "cert_file": "/etc/c.pem", "key_file": "/etc/k.pem"},
    "proxy_url": "http://evil.example:3128",
    "no_proxy": "localhost",
    "proxy_from_environment": True,
    "proxy_connect_header": {"Proxy-Authorization": ["inline-secret"]},
    "http_headers": {"X-Token": {"files": ["/etc/token"]}},
    "follow_redirects": True,
    "enable_http2": True,
    "http_sd_configs": [{"url": "http://evil.example/sd"}],
    "file_sd_configs": [{"files": ["/etc/targets/*.json"]}],
    "consul_sd_configs": [{"server": "evil.example:8500"}],
    "dns_sd_configs": [{"names": ["evil.example"]}],
    "kubernetes_sd_configs": [{"role": "pod", "kubeconfig_file": "/etc/kubeconfig"}],
    "relabel_configs": [
        {"source_labels": ["__meta_kubernetes_pod_label_app"], "regex": "dcgm-exporter"},
        {"target_label": "namespace", "replacement": "x"},
        {"target_label": "__address__", "replacement": "evil.example:80"},
    ],
    "static_configs": [{"targets": ["evil.example:9400"]}],
    "scrape_interval": "1h",
    "remote_write": [{"url": "http://evil.example/write"}],
    "rule_files": ["/etc/rules.yml"],
    "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["evil.example:9093"]}]}]},
    "global": {"external_labels": {"from": "tree"}},
}
KEPT = {
    "metrics_path": "/metrics",
    "params": {"format": ["prometheus"]},
    "honor_labels": True,
    "honor_timestamps": False,
    "sample_limit": 1000,
    "metric_relabel_configs": [{"action": "labeldrop", "regex": "tmp_.*"}],
}
REPLACED = {"job_name", "scheme", "static_configs", "kubernetes_sd_configs", "relabel_configs"}


def _inventory(tree: Path, job: dict) -> tuple:
    """The metrics inventory of a tree whose Helm values hold `job` and hostile spec settings."""
    spec = {
        "remoteWrite": [{"url": "http://evil.example/write"}],
        "ruleFiles": ["/etc/rules.yml"],
        "additionalScrapeConfigs": [job],
    }
    (tree / "k8s").mkdir(parents=True)
    (tree / "k8s" / "values.yaml").write_text(json.dumps({"prometheus": {"prometheusSpec": spec}}))
    sources = Sources(tree)
    return read_static(sources, load_yaml_files(sources, [])), sources


def test_a_scrape_job_gives_prometheus_only_the_settings_the_suite_needs(tmp_path):
    inventory, _ = _inventory(tmp_path, {"job_name": "gpu", **KEPT, **HOSTILE})
    result = _jobs(inventory, {"dcgm-exporter": STAND_IN})
    jobs = result[0]
    assert jobs == [
        {
            "job_name": "gpu",
            **KEPT,
            "scheme": "http",
            "static_configs": [{"targets": [STAND_IN], "labels": {"namespace": "local"}}],
        }
    ]
    emitted = json.dumps(jobs)
    assert "/etc" not in emitted and "evil.example" not in emitted
    assert "inline-secret" not in emitted
    assert result[1:] == ([], {"gpu": sorted(set(HOSTILE) - REPLACED - {"scrape_interval"})})


def test_a_job_of_replaced_settings_only_reports_nothing(tmp_path):
    job = {"job_name": "gpu", "static_configs": [{"targets": ["dcgm-exporter:9400"]}]}
    inventory, _ = _inventory(tmp_path, job)
    assert _jobs(inventory, {"dcgm-exporter": STAND_IN})[1:] == ([], {})


class _Listener(socketserver.ThreadingTCPServer):
    """Records every connection made to it and answers nothing."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Record)


class _Record(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(1)
        try:
            self.server.seen.append(self.request.recv(4096))
        except OSError:
            self.server.seen.append(b"")


@pytest.mark.live
def test_prometheus_never_reads_the_trees_credentials_nor_uses_its_proxy(tmp_path):
    canary = tmp_path / "outside" / "token"
    canary.parent.mkdir()
    canary.write_text("canary-5f1d0c")
    listener = _Listener()
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    job = {
        "job_name": "dcgm-exporter",
        "authorization": {"credentials_file": str(canary)},
        "proxy_url": f"http://127.0.0.1:{listener.server_address[1]}",
        "static_configs": [{"targets": ["dcgm-exporter:9400"]}],
    }
    inventory, sources = _inventory(tmp_path / "tree", job)
    stops: list = []
    try:
        stand_ins = _stand_ins(inventory, sources, stops)
        result = _jobs(inventory, stand_ins)
        try:
            prometheus = start(result[0])
        except StackUnavailable as exc:
            pytest.skip(str(exc))
        stops.append(prometheus.stop)
        _await_scrapes(prometheus, timeout=10)
        time.sleep(1)
        config = prometheus.api("status/config")["yaml"]
        targets = prometheus.api("targets")["activeTargets"]
    finally:
        for stop in reversed(stops):
            stop()
        listener.shutdown()
        listener.server_close()
    assert listener.seen == []
    assert str(canary) not in config and "canary-5f1d0c" not in config
    assert [t["health"] for t in targets] == ["up"]
    assert result[2] == {"dcgm-exporter": ["authorization", "proxy_url"]}


def test_a_date_in_a_scrape_job_or_service_monitor_is_read_as_text(tmp_path):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "values.yaml").write_text(
        "prometheus:\n  prometheusSpec:\n    additionalScrapeConfigs:\n"
        "      - job_name: gpu\n        params: {since: [2001-01-01]}\n"
    )
    (tmp_path / "k8s" / "monitor.yaml").write_text(
        "kind: ServiceMonitor\nmetadata: {name: app, annotations: {since: 2001-01-01}}\n"
    )
    sources = Sources(tmp_path)
    inventory = read_static(sources, load_yaml_files(sources, []))
    assert sorted(job.name for job in inventory.jobs) == ["gpu", "serviceMonitor/app"]
    assert next(j for j in inventory.jobs if j.name == "gpu").config["params"] == {
        "since": ["2001-01-01"]
    }
