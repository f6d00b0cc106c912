"""The warm local stack: `terraform apply` of the tree's roots into moto, recorded once and
replayed into a fresh moto while nothing it depends on changed.

Why the replay is the deployment `terraform apply` of the current files would give:

- moto runs single-threaded (`serve`), so the requests Terraform sends are answered one at a
  time, in the order they are recorded, and every id moto makes comes from its random generator
  seeded with SEED before the first request: the same requests in the same order give the same
  state, ids included.
- The recording is keyed (`stack_key`) by everything the apply depends on: the bytes of every
  file of the workspace (what the guard read through the gatekeeper: the roots, the local
  modules they call, the files they read), the roots, the Terraform binary, the packages of
  the filesystem mirror (or the roots' lock files), the versions of the suite, moto and its web
  stack, and the code of the stack itself. Any change means a cold apply, recorded anew.
- Each replayed answer is compared with the one recorded from the apply (status and body, less
  timestamps): the first difference stops the replay and the run applies cold instead.

Entries live in pytest's cache directory (`--cache-clear` empties it, `-p no:cacheprovider`
keeps none), signed with this machine's key like the HCL parse cache: an entry planted in a
scanned repository's cache directory is ignored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.metadata
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 1729
FORMAT = 1
CONTROL = "/pingvas-recorder/"  # the launcher's own paths: start, stop (never recorded)
KEPT_ENTRIES = 3
MAX_ENTRY_BYTES = 64 * 1024 * 1024
# what differs between two applies of the same files: creation times (ISO, HTTP, epoch s or ms)
_VOLATILE = re.compile(
    rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    rb"|[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"
    rb"|(?<![\w.])1[5-9]\d{8}(?:\d{3})?(?:\.\d+)?(?![\w.])"
)
_DROPPED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


# --- the key -------------------------------------------------------------------------------


def stack_key(infra: Path, roots: list[Path], guarded: Any, mirror: Path | None) -> dict[str, Any]:
    """What the apply of `roots` depends on, as a JSON-able dict (hashed by `digest`); its
    "cold" entry says why no replay can stand for the apply (then always cold). `guarded`
    (tfguard.guard) holds every file the workspace is made of, as the gatekeeper read them."""
    if guarded.refusals:
        return {"cold": "the tree runs code or reads outside it (--allow-exec): not keyed"}
    locked = all((root / ".terraform.lock.hcl") in guarded.files for root in roots)
    if mirror is None and not locked:
        return {"cold": "the provider comes from the registry and a root has no lock file"}
    base = Path(os.path.realpath(infra))
    terraform = _which("terraform")
    return {
        "format": FORMAT,
        "seed": SEED,
        "roots": sorted(str(r.relative_to(base)) for r in roots),
        "files": {
            str(p.relative_to(base)): hashlib.sha256(data).hexdigest()
            for p, data in sorted(guarded.files.items())
        },
        "providers": {
            str(d.relative_to(base)): sorted(aliases)
            for d, aliases in sorted(guarded.providers.items())
        },
        "terraform": _identity(terraform) if terraform else None,
        "provider": _mirror_listing(mirror),
        "versions": {
            name: _version(name)
            for name in ("pingvas-policy", "moto", "werkzeug", "flask", "botocore")
        },
        "python": sys.version,
        "suite": {
            name: _sha256(Path(__file__).parent.parent / name)
            for name in ("targets/stack.py", "targets/warm.py", "tfguard.py")
        },
        "environment": sorted(
            f"{k}={v}" for k, v in os.environ.items() if k.startswith(("TF_", "CHECKPOINT_"))
        ),
    }


def digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _sha256(path: Path) -> str:
    """The digest of one of the suite's own files or the mirror's (never the scanned tree's:
    its files come through the gatekeeper, in `guarded`)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _identity(path: str) -> list[Any]:
    info = os.stat(path)
    return [os.path.realpath(path), info.st_size, info.st_mtime_ns]


def _mirror_listing(mirror: Path | None) -> list[Any] | None:
    """Every provider package of the mirror (path, size, mtime): what `init` chooses from."""
    if mirror is None:
        return None
    top = mirror / "registry.terraform.io" / "hashicorp"
    packages = sorted(Path(d) / n for d, _, names in os.walk(top) for n in names)
    return [[str(p.relative_to(mirror)), *_identity(str(p))[1:]] for p in packages]


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


# --- the signed store ----------------------------------------------------------------------


@dataclass(frozen=True)
class WarmStore:
    """Where the recording of one key is kept (a directory of pytest's cache)."""

    directory: Path
    key: dict[str, Any]

    @property
    def name(self) -> str:
        return digest(self.key)

    @property
    def path(self) -> Path:
        return self.directory / f"{self.name}.json"

    def load(self) -> dict[str, Any] | None:
        """The entry of this key, when signed with this machine's key; None otherwise."""
        from policies.sources import cache_key

        secret = cache_key()
        if secret is None or "cold" in self.key:
            return None
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(MAX_ENTRY_BYTES)
            signature, _, payload = raw.partition(b"\n")
            expected = _sign(secret, self.name, payload)
            if not hmac.compare_digest(signature, expected):
                return None
            entry = json.loads(payload)
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("key") == self.key else None

    def save(self, entry: dict[str, Any]) -> None:
        """Keep the entry (signed, user-only), and only the newest entries of other keys."""
        from policies.sources import cache_key, write_atomically

        secret = cache_key()
        if secret is None or "cold" in self.key:
            return
        payload = json.dumps({**entry, "key": self.key}).encode()
        write_atomically(self.path, _sign(secret, self.name, payload) + b"\n" + payload)
        try:
            self.path.chmod(0o600)
            others = sorted(self.directory.glob("*.json"), key=lambda p: -p.stat().st_mtime)
        except OSError:
            return
        for stale in others[KEPT_ENTRIES:]:
            stale.unlink(missing_ok=True)

    def drop(self) -> None:
        self.path.unlink(missing_ok=True)


def _sign(secret: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(secret, name.encode() + b"\0" + payload, "sha256").hexdigest().encode()


# --- recording and replay ------------------------------------------------------------------


def read_recording(path: Path) -> list[dict[str, Any]]:
    """The exchanges the launcher recorded (one JSON line each)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def replay(endpoint: str, recorded_endpoint: str, exchanges: list[dict[str, Any]]) -> str | None:
    """Send the recorded requests to a fresh, seeded moto in their order, each answer compared
    with the recorded one; the first difference, in one line, or None."""
    import requests

    old, new = _host(recorded_endpoint), _host(endpoint)
    session = requests.Session()
    for number, exchange in enumerate(exchanges, start=1):
        body = _moved(base64.b64decode(exchange["body"]), old, new)
        headers = {
            name: value.replace(old.decode(), new.decode())
            for name, value in exchange["headers"].items()
            if name.lower() not in _DROPPED_HEADERS
        }
        url = endpoint + exchange["path"]
        try:
            response = session.request(
                exchange["method"], url, headers=headers, data=body, timeout=60
            )
        except requests.RequestException as exc:
            return f"request {number} ({exchange['method']} {exchange['path'][:60]}): {exc}"
        recorded = _moved(base64.b64decode(exchange["response"]), old, new)
        if response.status_code != exchange["status"] or _stable(response.content) != _stable(
            recorded
        ):
            return (
                f"request {number} of {len(exchanges)} ({_operation(exchange)}) was answered"
                f" {response.status_code}, recorded {exchange['status']}"
                + ("" if response.status_code != exchange["status"] else " with another body")
            )
    return None


def _host(endpoint: str) -> bytes:
    return endpoint.split("://", 1)[-1].encode()


def _moved(data: bytes, old: bytes, new: bytes) -> bytes:
    return data.replace(old, new) if old != new else data


def _stable(body: bytes) -> bytes:
    return _VOLATILE.sub(b"<time>", body)


def _operation(exchange: dict[str, Any]) -> str:
    target = exchange["headers"].get("X-Amz-Target")
    if target:
        return str(target)
    action = re.search(rb"Action=(\w+)", base64.b64decode(exchange["body"]))
    return action.group(1).decode() if action else f"{exchange['method']} {exchange['path'][:60]}"


# --- the launcher: single-threaded moto that records ---------------------------------------


class Recorder:
    """WSGI middleware: while on (CONTROL start/stop), every request but moto's own API is
    appended to `path` with moto's answer."""

    def __init__(self, app: Any, path: Path) -> None:
        self.app, self.path, self.on = app, path, False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL):
            self.on = path == CONTROL + "start"
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        if not self.on or path.startswith("/moto-api/"):
            return self.app(environ, start_response)
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug ends the stream
            body = stream.read()
        else:
            body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        status: list[int] = []

        def capture(line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(line.split()[0]))
            return start_response(line, headers, exc_info)

        answer = self.app(environ, capture)
        try:
            chunks = list(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        query = environ.get("QUERY_STRING", "")
        exchange = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("RAW_URI") or path + (f"?{query}" if query else ""),
            "headers": _headers(environ),
            "body": base64.b64encode(body).decode(),
            "status": status[0] if status else 0,
            "response": base64.b64encode(b"".join(chunks)).decode(),
        }
        with self.path.open("a") as log:
            log.write(json.dumps(exchange) + "\n")
        return chunks


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def serve(port: int, recording: Path) -> None:
    """moto's server app on 127.0.0.1:port, one request at a time, with the Recorder."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    os.environ["MOTO_PORT"] = str(port)
    app = Recorder(DomainDispatcherApplication(create_backend_app), recording)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))
