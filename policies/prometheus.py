"""A real Prometheus (Debian's package) scraping local stand-ins of infra's scrape jobs: the
platform's own app (uvicorn) and a dcgm-exporter payload served from fixtures/."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from policies.stack import StackError, StackUnavailable, free_port

START_TIMEOUT_S = 30
HTTP_TIMEOUT_S = 10
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Prometheus:
    url: str
    stops: list[Any] = field(default_factory=list)  # callables, last started first stopped

    def api(self, path: str, **params: str) -> Any:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        return response.json()["data"]

    def stop(self) -> None:
        for stop in reversed(self.stops):
            stop()


def serve_file(path: Path) -> tuple[str, Any]:
    """Serve one exposition-format file on a free loopback port; returns (address, stop)."""
    body = path.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"127.0.0.1:{server.server_port}", lambda: (server.shutdown(), server.server_close())


def serve_app(app_root: Path, module: str) -> tuple[str, Any]:
    """Run an ASGI app (module:attribute) with uvicorn on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait(
        lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=1), process, f"uvicorn {module}"
    )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()

    return f"127.0.0.1:{port}", stop


def start(jobs: list[dict[str, Any]]) -> Prometheus:
    """Prometheus with these scrape jobs (1 s interval) on a free loopback port."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise StackUnavailable("prometheus not found: apt-get install prometheus")
    workdir = Path(tempfile.mkdtemp(prefix="pingvas-prometheus-"))
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"}, "scrape_configs": jobs}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    try:
        _wait(
            lambda: requests.get(f"{url}/-/ready", timeout=1).raise_for_status(),
            process,
            "prometheus",
        )
    except StackError:
        stop()
        raise
    return Prometheus(url, [stop])


def _wait(probe: Any, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} exited with code {process.returncode} before answering")
        try:
            probe()
            return
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise StackError(f"{what} did not answer within {START_TIMEOUT_S} s")
