"""The Prometheus target of the live tier: --prometheus-url, or a real Prometheus (Debian's
package) scraping local stand-ins of the tree's scrape jobs: the platform's own apps (uvicorn,
on --target local only) and a dcgm-exporter payload shipped with the suite."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from policies.lazy import Lazy
from policies.posture import require_local_code
from policies.sources import SourceError, Sources
from policies.targets.stack import (
    Early,
    StackError,
    StackUnavailable,
    free_port,
    spawn,
    stop_process,
)

START_TIMEOUT_S = 30
HTTP_TIMEOUT_S = 10
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Prometheus:
    url: str
    stops: list[Any] = field(default_factory=list)  # callables, last started first stopped

    def api(self, path: str, **params: str) -> Any:
        import requests

        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        return response.json()["data"]

    def stop(self) -> None:
        for stop in reversed(self.stops):
            stop()


def serve_file(body: bytes, port: int | None = None) -> tuple[str, Any]:
    """Serve one exposition-format payload on loopback (`port`, else a free one); returns
    (address, stop)."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
    except OSError as exc:
        raise StackError(f"port {port} is busy on this machine: {exc.strerror}") from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"127.0.0.1:{server.server_port}", lambda: (server.shutdown(), server.server_close())


def serve_app(
    app_root: Path,
    module: str,
    port: int | None = None,
    prefix: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> tuple[str, Any]:
    """Run an ASGI app (module:attribute) with uvicorn on loopback (`port`, else a free one),
    its command after `prefix` (e.g. one changing its user) and with exactly `env` if given."""
    import requests

    if port is None:
        port = free_port()
    elif not port_free(port):
        raise StackError(f"port {port} is busy on this machine: {module} cannot listen on it")
    process = spawn(
        [
            *prefix,
            sys.executable,
            "-m",
            "uvicorn",
            module,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=app_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def stop() -> None:
        stop_process(process)

    try:
        _wait(
            lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=1),
            process,
            f"uvicorn {module}",
        )
    except BaseException:
        stop()
        raise
    return f"127.0.0.1:{port}", stop


def port_free(port: int) -> bool:
    """Whether nothing listens on the loopback TCP port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(jobs: list[dict[str, Any]]) -> Prometheus:
    """Prometheus with these scrape jobs (1 s interval) on a free loopback port."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise StackUnavailable("prometheus not found: apt-get install prometheus")
    import requests

    workdir = Path(tempfile.mkdtemp(prefix="pingvas-prometheus-"))
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"}, "scrape_configs": jobs}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = spawn(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)

    try:
        _wait(
            lambda: requests.get(f"{url}/-/ready", timeout=1).raise_for_status(),
            process,
            "prometheus",
        )
    except BaseException:
        stop()
        raise
    return Prometheus(url, [stop])


def _wait(probe: Any, process: subprocess.Popen[bytes], what: str) -> None:
    import requests

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} exited with code {process.returncode} before answering")
        try:
            probe()
            return
        except requests.RequestException:
            time.sleep(0.1)
    stop_process(process)
    raise StackError(f"{what} did not answer within {START_TIMEOUT_S} s")


DCGM_PAYLOAD = "dcgm-exporter.prom"  # a dcgm-exporter scrape, written for the suite
# The scrape settings the embedded Prometheus takes from a tree's job: none reads a file, names
# a host or changes how the request is made (Prometheus' scrape_config reference).
SCRAPE_KEYS_KEPT = (
    "metrics_path",
    "params",
    "honor_labels",
    "honor_timestamps",
    "metric_relabel_configs",
    "sample_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "body_size_limit",
)
# What the suite writes itself in their place (job_name, scheme, targets, labels, intervals):
# dropped without being reported. Every other setting is dropped and reported.
SCRAPE_KEYS_REPLACED = (
    "job_name",
    "scheme",
    "static_configs",
    "kubernetes_sd_configs",
    "relabel_configs",
    "scrape_interval",
    "scrape_timeout",
)
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class PrometheusTarget(NamedTuple):
    prometheus: Prometheus
    without: list[str]  # scrape jobs without a local stand-in, not scraped
    dropped: dict[str, list[str]]  # scrape job -> its settings the embedded Prometheus is not given


@pytest.fixture(scope="session")
def prometheus_target(
    pytestconfig: pytest.Config, metrics_static: Any, sources: Sources
) -> Iterator[Lazy[PrometheusTarget]]:
    """--prometheus-url, or a real Prometheus scraping local stand-ins of the tree's jobs (the
    platform's own apps and the dcgm-exporter payload) on --target local, given only the
    settings of SCRAPE_KEYS_KEPT from each job."""
    url = pytestconfig.getoption("--prometheus-url")
    running: list[Prometheus] = []

    def given() -> PrometheusTarget:
        import requests

        prometheus, cause = Prometheus(url.rstrip("/")), None
        try:
            prometheus.api("status/buildinfo")
        except (requests.RequestException, KeyError, ValueError) as exc:
            cause = " ".join(str(exc).split())[:200]
        if cause is not None:
            pytest.fail(f"cannot reach Prometheus at {url}: {cause}", pytrace=False)
        return PrometheusTarget(prometheus, [], {})

    def embedded() -> PrometheusTarget:
        from policies.targets.stack import STACK_TIMINGS, bring_up

        require_local_code(pytestconfig, "the embedded Prometheus (pass --prometheus-url)")
        stops: list[Any] = []
        try:
            stand_ins = _stand_ins(metrics_static, sources, stops)
        except BaseException:
            for stop in reversed(stops):
                stop()
            raise
        jobs, without, dropped = _jobs(metrics_static, stand_ins)
        started = time.monotonic()
        prometheus = bring_up(lambda: start(jobs), cleanup=lambda: [s() for s in stops])
        prometheus.stops[:0] = stops
        running.append(prometheus)
        timings = pytestconfig.stash.setdefault(STACK_TIMINGS, {})
        timings["prometheus start"] = time.monotonic() - started
        started = time.monotonic()
        _await_scrapes(prometheus)
        timings["prometheus first scrapes"] = time.monotonic() - started
        return PrometheusTarget(prometheus, without, dropped)

    early = None if url else Early(pytestconfig, embedded)
    yield Lazy(early or given)
    if early is not None:
        early.settle()
    for prometheus in running:
        prometheus.stop()


def _jobs(
    metrics_static: Any, stand_ins: dict[str, str]
) -> tuple[list[dict[str, Any]], list[str], dict[str, list[str]]]:
    """The tree's scrape jobs as the embedded Prometheus gets them: the kept settings, plain
    HTTP to the stand-in on loopback, the relabeling's target labels set to "local"; the
    names of jobs without a stand-in; job -> the settings dropped (SCRAPE_KEYS_REPLACED
    aside)."""
    jobs, without, dropped = [], [], {}
    for job in metrics_static.jobs:
        address = next((a for producer, a in stand_ins.items() if producer in job.text), None)
        if address is None:
            without.append(job.name)
            continue
        kept = {k: v for k, v in job.config.items() if k in SCRAPE_KEYS_KEPT}
        if unknown := sorted(set(job.config) - set(SCRAPE_KEYS_KEPT) - set(SCRAPE_KEYS_REPLACED)):
            dropped[job.name] = unknown
        labels = {
            label: "local"
            for label in job.target_labels
            if LABEL_NAME.fullmatch(label) and not label.startswith("__")
        }
        jobs.append(
            {
                "job_name": job.name,
                **kept,
                "scheme": "http",
                "static_configs": [{"targets": [address], "labels": labels}],
            }
        )
    return jobs, without, dropped


def app_entries(metrics_static: Any, sources: Sources) -> dict[str, tuple[Path, str]]:
    """Each app found with prometheus_client metrics -> (its service root, module:app): the one
    module of its service defining `app = FastAPI(...)`. Two candidate modules for one app fail
    naming both: the code run must be unambiguous."""
    found: dict[str, tuple[Path, str]] = {}
    for app, where in metrics_static.apps.items():
        root = where.path.parents[1]
        entries = []
        for path in sources.files(".py"):
            try:
                if path.is_relative_to(root) and re.search(
                    r"^app\s*=\s*FastAPI\(", sources.text(path), re.M
                ):
                    entries.append(path)
            except SourceError:
                continue
        if len(entries) > 1:
            names = ", ".join(str(p) for p in entries)
            pytest.fail(f"{app}: two modules define the app ({names}): not run", pytrace=False)
        if entries:
            found[app] = (
                root,
                ".".join(entries[0].relative_to(root).with_suffix("").parts) + ":app",
            )
    return found


def _stand_ins(metrics_static: Any, sources: Sources, stops: list[Any]) -> dict[str, str]:
    """Start each app found (app_entries) and serve the dcgm-exporter payload; producer ->
    address."""
    from policies.targets.stack import bring_up

    stand_ins: dict[str, str] = {}
    for app, (root, target) in app_entries(metrics_static, sources).items():
        address, stop = bring_up(lambda root=root, target=target: serve_app(root, target))
        stand_ins[app] = address
        stops.append(stop)
    payload = resources.files("policies.targets").joinpath(DCGM_PAYLOAD).read_bytes()
    address, stop = serve_file(payload)
    stand_ins["dcgm-exporter"] = address
    stops.append(stop)
    return stand_ins


def _await_scrapes(prometheus: Prometheus, timeout: float = 30) -> None:
    """Until every target was scraped and two more samples exist (rate() needs two)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        targets = prometheus.api("targets")["activeTargets"]
        if targets and all(
            t.get("lastScrape", "").startswith("20") and t["health"] != "unknown" for t in targets
        ):
            time.sleep(2.5)
            return
        time.sleep(0.2)
