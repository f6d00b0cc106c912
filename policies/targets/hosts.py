"""Stand-ins for the node family on --target local, on the ports --infra's scrape jobs target:
the GPU exporter (the suite's dcgm-exporter payload served by its own process, started with a
collectors CSV as dcgm-exporter is) and the platform's app (uvicorn, as an unprivileged user
when the suite runs as root). A port already in use fails saying so.

`python -m policies.targets.hosts dcgm-exporter -f CSV --port N PAYLOAD` is the exporter
stand-in's process."""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from policies.targets.prometheus import DCGM_PAYLOAD, port_free, serve_app, serve_file
from policies.targets.stack import StackError, spawn, stop_process
from policies.yamlfile import packaged

START_TIMEOUT_S = 30
STAND_IN_USER = "nobody"  # the app's user when the suite runs as root
Stop = Callable[[], object]


def dcgm_payload() -> bytes:
    return resources.files("policies.targets").joinpath(DCGM_PAYLOAD).read_bytes()


def collectors_csv() -> str:
    """dcgm-exporter's default counters, in its collectors CSV format (FIELD, type, help)."""
    data = packaged("policies.metrics", "dcgm_fields.yaml")
    lines = ["# Format: DCGM field, Prometheus metric type, help message"]
    lines += [f"{name}, {kind}, {name}." for name, kind in data["fields"].items()]
    return "\n".join(lines) + "\n"


def start_exporter(port: int, payload: bytes, csv: str) -> Stop:
    """The exporter stand-in's own process on 127.0.0.1:port, with `-f` naming its CSV."""
    if not port_free(port):
        raise StackError(f"port {port} (the dcgm-exporter scrape job's) is busy on this machine")
    workdir = Path(tempfile.mkdtemp(prefix="pingvas-dcgm-"))
    (workdir / "counters.csv").write_text(csv)
    (workdir / "metrics.prom").write_bytes(payload)
    package_root = Path(__file__).resolve().parents[2]
    process = spawn(
        [
            sys.executable,
            "-m",
            "policies.targets.hosts",
            "dcgm-exporter",
            "-f",
            str(workdir / "counters.csv"),
            "--port",
            str(port),
            str(workdir / "metrics.prom"),
        ],
        env={**os.environ, "PYTHONPATH": str(package_root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def stop() -> None:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)

    deadline = time.monotonic() + START_TIMEOUT_S
    while port_free(port):
        if process.poll() is not None or time.monotonic() > deadline:
            error = process.stderr.read().decode(errors="replace")[-300:] if process.stderr else ""
            stop()
            raise StackError(f"the dcgm-exporter stand-in did not listen on {port}: {error}")
        time.sleep(0.05)
    return stop


def start_app(root: Path, target: str, port: int, extra_env: dict[str, str] | None = None) -> Stop:
    """The app with uvicorn on 127.0.0.1:port, as STAND_IN_USER when root, with a clean
    environment (nothing of the suite's, e.g. CI credentials) plus `extra_env`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(extra_env or {}),
    }
    _, stop = serve_app(root, target, port=port, prefix=unprivileged(), env=env)
    return stop


def unprivileged() -> tuple[str, ...]:
    """A command prefix running as STAND_IN_USER when root (setpriv; the one capability kept,
    dac_read_search, lets it read the suite's interpreter wherever it is installed, e.g. a
    pyenv under /root); nothing otherwise."""
    if os.geteuid() != 0:
        return ()
    user = pwd.getpwnam(STAND_IN_USER)
    return (
        "setpriv",
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        "--",
    )


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dcgm-exporter stand-in")
    parser.add_argument("-f", dest="collectors", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("payload")
    args = parser.parse_args(argv)
    serve_file(Path(args.payload).read_bytes(), args.port)
    threading.Event().wait()


if __name__ == "__main__":
    if sys.argv[1:2] != ["dcgm-exporter"]:
        sys.exit("usage: python -m policies.targets.hosts dcgm-exporter -f CSV --port N PAYLOAD")
    _serve(sys.argv[2:])
