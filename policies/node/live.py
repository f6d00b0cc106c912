"""Reading the hosts: read-only shell commands (each under `timeout`) through a testinfra host,
parsed into HostReading. Commands read /proc, files and HTTP GETs from the host itself; nothing
is installed or written. The client is injected (`Shell`): unit tests pass recorded answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from policies.node.model import (
    AppSpec,
    Fetch,
    FileMode,
    FileRead,
    HostReading,
    NodeInventory,
    Proc,
)
from policies.node.static import collectors_arg
from policies.redact import register

COMMAND_TIMEOUT_S = 20
MAX_BYTES = 4 * 1024 * 1024
# Each script reads only; $1.. are its arguments.
SCRIPTS = {
    "ping": "echo pingvas-node-ok",
    # pid, uid, cmdline; then the listening TCP sockets (state 0A) of each process's network
    # namespace, and the socket inodes each process holds.
    "procs": r"""for d in /proc/[0-9]*; do
  u=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$d/status" 2>/dev/null)
  [ -n "$u" ] || continue
  s=$(for f in "$d"/fd/*; do readlink "$f"; done 2>/dev/null \
    | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
  c=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)
  printf 'P\t%s\t%s\t%s\t%s\n' "${d#/proc/}" "$u" "$s" "$c"
  [ -n "$s" ] && cat "$d/net/tcp" "$d/net/tcp6" 2>/dev/null | sed -n 's/^/L /p'
done""",
    "fetch": r"""u="http://127.0.0.1:$1$2"
if command -v curl >/dev/null 2>&1; then curl -sS -i -m 5 "$u"
elif command -v wget >/dev/null 2>&1; then wget -q -S -T 5 -O - "$u" 2>&1
elif command -v python3 >/dev/null 2>&1; then python3 - "$u" <<'EOF'
import sys, urllib.request as r
try:
    h = r.urlopen(sys.argv[1], timeout=5)
except r.HTTPError as e:
    h = e
print("HTTP/1.1", h.status)
for k, v in h.headers.items():
    print(f"{k}: {v}")
print()
sys.stdout.write(h.read().decode("utf-8", "replace"))
EOF
else echo 'no curl, wget or python3 on the host' >&2; exit 127; fi""",
    "file": f'head -c {MAX_BYTES} -- "$1"',
    "modes": 'for f in "$@"; do\n'
    '  stat -L -c "%a %u %n" -- "$f" 2>/dev/null || echo "missing $f"\ndone',
    "environ": "tr '\\0' '\\n' < \"/proc/$1/environ\"",
    "driver": "command -v nvidia-smi >/dev/null 2>&1 || { echo absent; exit 0; }\n"
    "nvidia-smi --query-gpu=driver_version --format=csv,noheader",
    "which": 'command -v "$1" || ls "$2" 2>/dev/null || true',
}


@dataclass(frozen=True)
class Answer:
    rc: int
    stdout: str
    stderr: str = ""


class Shell(Protocol):
    """A host that runs the named read-only scripts."""

    uri: str

    def read(self, name: str, *args: str) -> Answer: ...


class HostUnreachable(Exception):
    """The host did not answer; the message names it, in one line."""


class HostShell:
    """The scripts run through a testinfra host (any backend), each under `timeout`."""

    def __init__(self, host: Any, uri: str, timeout: int = COMMAND_TIMEOUT_S) -> None:
        self.host, self.uri, self.timeout = host, uri, timeout

    def read(self, name: str, *args: str) -> Answer:
        placeholders = " %s" * len(args)
        result = self.host.run(
            f"timeout %s sh -c %s pingvas-{name}{placeholders}",
            str(self.timeout),
            SCRIPTS[name],
            *args,
        )
        return Answer(result.rc, result.stdout, result.stderr)


def read_host(
    shell: Shell,
    roles: tuple[str, ...],
    inventory: NodeInventory,
    params: dict[str, Any],
) -> HostReading:
    """What the host's roles need read. Raises HostUnreachable when it does not answer."""
    try:
        ping = shell.read("ping")
    except Exception as exc:  # noqa: BLE001 - any transport failure means unreachable
        raise HostUnreachable(f"host {shell.uri} cannot be reached: {_one_line(str(exc))}") from exc
    if "pingvas-node-ok" not in ping.stdout:
        cause = _one_line(ping.stderr or ping.stdout) or f"exit code {ping.rc}"
        raise HostUnreachable(f"host {shell.uri} cannot be reached: {cause}")
    reading = HostReading(shell.uri, roles)
    reading.processes = parse_procs(shell.read("procs").stdout)
    if "gpu-node" in roles and inventory.exporter is not None:
        _read_exporter(shell, reading, inventory, params)
    if "generation-pod" in roles and inventory.apps:
        _read_app(shell, reading, inventory.apps[0], params)
        paths = [f.path for f in inventory.secret_files] + list(params.get("secret_files", []))
        if paths:
            rooted = _rooted(reading, paths)
            modes = parse_modes(shell.read("modes", *rooted.values()))
            declared = {seen: path for path, seen in rooted.items()}
            reading.secret_modes = [
                FileMode(declared.get(m.path, m.path), m.mode, m.uid, m.error) for m in modes
            ]
    if "log-shipper" in roles:
        _read_shipper(shell, reading, params)
    return reading


def _read_exporter(
    shell: Shell, reading: HostReading, inventory: NodeInventory, params: dict[str, Any]
) -> None:
    spec = inventory.exporter
    assert spec is not None
    reading.exporter_metrics = parse_fetch(
        f"http://127.0.0.1:{spec.port}/metrics", shell.read("fetch", str(spec.port), "/metrics")
    )
    pattern = str(params.get("exporter_process", "dcgm-exporter"))
    exporter = next((p for p in reading.listeners(spec.port) if runs(pattern, p.cmdline)), None)
    exporter = exporter or next((p for p in reading.processes if runs(pattern, p.cmdline)), None)
    path = (collectors_arg(exporter.cmdline.split()) if exporter else None) or spec.collectors
    reading.collectors = _file(shell, f"/proc/{exporter.pid}/root{path}" if exporter else path)
    driver = shell.read("driver")
    if driver.rc != 0:
        reading.driver = f"nvidia-smi failed: {_one_line(driver.stderr) or driver.rc}"
    elif driver.stdout.strip() != "absent":
        reading.driver = (driver.stdout.strip().splitlines() or [""])[0]


def _read_app(shell: Shell, reading: HostReading, app: AppSpec, params: dict[str, Any]) -> None:
    port = app.port or int(params.get("app_port", 8000))
    reading.app_port = port
    reading.app_metrics = parse_fetch(
        f"http://127.0.0.1:{port}/metrics", shell.read("fetch", str(port), "/metrics")
    )
    listeners = reading.listeners(port)
    if not listeners:
        return
    answer = shell.read("environ", str(listeners[0].pid))
    if answer.rc != 0:
        reading.app_env_error = _one_line(answer.stderr) or f"exit code {answer.rc}"
        return
    env = dict(line.split("=", 1) for line in answer.stdout.splitlines() if "=" in line)
    register(*env.values())
    reading.app_env = env


def _read_shipper(shell: Shell, reading: HostReading, params: dict[str, Any]) -> None:
    pattern = str(params.get("shipper_process", "fluent-bit"))
    shipper = next((p for p in reading.processes if runs(pattern, p.cmdline)), None)
    installed = shell.read("which", "fluent-bit", "/opt/fluent-bit/bin/fluent-bit")
    reading.shipper_installed = shipper is not None or bool(installed.stdout.strip())
    if shipper is None:
        return
    reading.shipper_pid = shipper.pid
    given = config_arg(shipper.cmdline)
    for path in [given] if given else list(params.get("shipper_configs", [])):
        read = _file(shell, f"/proc/{shipper.pid}/root{path}")
        reading.shipper_config = FileRead(path, read.text, read.error)
        if read.text is not None:
            return


def _rooted(reading: HostReading, paths: list[str]) -> dict[str, str]:
    """Each path -> as the app process sees it (its mount namespace), when it was found."""
    listeners = reading.listeners(reading.app_port) if reading.app_port else []
    return {p: f"/proc/{listeners[0].pid}/root{p}" if listeners else p for p in paths}


def _file(shell: Shell, path: str) -> FileRead:
    answer = shell.read("file", path)
    if answer.rc != 0:
        return FileRead(path, None, _one_line(answer.stderr) or f"exit code {answer.rc}")
    return FileRead(path, answer.stdout)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def parse_procs(text: str) -> list[Proc]:
    """The `procs` script's output -> processes with the TCP ports they listen on."""
    listening: dict[int, int] = {}  # socket inode -> port
    rows: list[tuple[int, int, str, set[int]]] = []
    for line in text.splitlines():
        if line.startswith("P\t"):
            parts = line.split("\t", 4)
            if len(parts) == 5 and parts[1].isdigit() and parts[2].isdigit():
                inodes = {int(i) for i in parts[3].split() if i.isdigit()}
                rows.append((int(parts[1]), int(parts[2]), parts[4].strip(), inodes))
        elif line.startswith("L "):
            fields = line[2:].split()
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if len(fields) > 9 and fields[3] == "0A" and ":" in fields[1]:
                try:
                    listening[int(fields[9])] = int(fields[1].rsplit(":", 1)[1], 16)
                except ValueError:
                    continue
    return [
        Proc(pid, uid, cmd, frozenset(listening[i] for i in inodes if i in listening))
        for pid, uid, cmd, inodes in rows
    ]


def parse_fetch(url: str, answer: Answer) -> Fetch:
    """curl -i / python3 (status line, headers, blank line, body) or wget -S (headers indented
    by two spaces before the body) -> Fetch."""
    if answer.rc != 0 and not answer.stdout.strip():
        return Fetch(url, error=_one_line(answer.stderr) or f"exit code {answer.rc}")
    text = answer.stdout.replace("\r\n", "\n")
    if text.startswith("  HTTP/"):
        lines = text.split("\n")
        count = next((i for i, line in enumerate(lines) if not line.startswith("  ")), len(lines))
        head, body = [line.strip() for line in lines[:count]], "\n".join(lines[count:])
    else:
        # curl -i prints every response's head (a 100 Continue first): keep the last head
        head_text, _, body = text.partition("\n\n")
        while body.startswith("HTTP/") and head_text.split(" ")[1:2] == ["100"]:
            head_text, _, body = body.partition("\n\n")
        head = head_text.split("\n")
    status_line = head[0].split() if head else []
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
        return Fetch(url, error=f"no HTTP response: {_one_line(text[:120] or answer.stderr)}")
    status = int(status_line[1]) if status_line[1].isdigit() else None
    headers = tuple(
        (k.strip().lower(), v.strip())
        for k, sep, v in (line.partition(":") for line in head[1:])
        if sep
    )
    return Fetch(url, status, headers, body)


def parse_modes(answer: Answer) -> list[FileMode]:
    """`stat -L -c '%a %u %n'` lines, or `missing PATH`, -> FileMode per path."""
    modes = []
    for line in answer.stdout.splitlines():
        if line.startswith("missing "):
            modes.append(FileMode(line[8:]))
            continue
        mode, _, rest = line.partition(" ")
        uid, _, path = rest.partition(" ")
        try:
            modes.append(FileMode(path, int(mode, 8), int(uid)))
        except ValueError:
            modes.append(FileMode(line, error="unreadable stat output"))
    return modes


def runs(pattern: str, cmdline: str) -> bool:
    """Whether a command line runs the program: a word whose base name fully matches the
    pattern (`/usr/bin/dcgm-exporter -f ...`, not `... /etc/dcgm-exporter/counters.csv`)."""
    return any(re.fullmatch(pattern, word.rsplit("/", 1)[-1]) for word in cmdline.split())


def config_arg(cmdline: str) -> str | None:
    """Fluent Bit's `-c FILE`, `--config FILE` or `--config=FILE`."""
    words = cmdline.split()
    for i, word in enumerate(words):
        if word in ("-c", "--config") and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--config="):
            return word.split("=", 1)[1]
    return None
