"""The warm local stack: `terraform apply` of the tree's roots into moto, recorded once and
replayed into a fresh moto while nothing it depends on changed.

Why the replay is the deployment `terraform apply` of the current files would give:

- moto runs single-threaded (`serve`), so the requests Terraform sends are answered one at a
  time, in the order they are recorded, and every id moto makes comes from its random generator
  seeded with SEED before the first request: the same requests in the same order give the same
  state, ids included.
- The recording is keyed (`stack_key`) by everything the apply depends on: the bytes of every
  file Terraform can read (each root and local module directory, or the whole tree when a file
  path is not a literal inside them), the roots, the Terraform binary, the provider packages of
  the filesystem mirror (or the roots' lock files), the versions of the suite, moto and its web
  stack, and the code of the stack itself. Any change means a cold apply, recorded anew.
- Each replayed answer is compared with the one recorded from the apply (status and body, less
  timestamps): the first difference stops the replay and the run applies cold instead.

Entries live in pytest's cache directory (`--cache-clear` empties it, `-p no:cacheprovider`
keeps none), signed with this machine's key like the HCL parse cache: an entry planted in a
scanned repository's cache directory is ignored."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import importlib.metadata
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 1729
FORMAT = 1
CONTROL = "/pingvas-recorder/"  # the launcher's own paths: start, stop (never recorded)
COPY_IGNORED = (".terraform", "*.tfstate*", ".git", "__pycache__")  # as workspace() copies
KEPT_ENTRIES = 3
MAX_ENTRY_BYTES = 64 * 1024 * 1024
# what differs between two applies of the same files: creation times (ISO, HTTP, epoch s or ms)
_VOLATILE = re.compile(
    rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    rb"|[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"
    rb"|(?<![\w.])1[5-9]\d{8}(?:\d{3})?(?:\.\d+)?(?![\w.])"
)
_DROPPED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
_PATH_PREFIXES = ('"${path.module}/', '"${path.root}/')
_LITERAL_PREFIXES = ("${path.module}/", "${path.root}/")


# --- the key -------------------------------------------------------------------------------


def stack_key(infra: Path, roots: list[Path], sources: Any, mirror: Path | None) -> dict[str, Any]:
    """What the apply of `roots` depends on, as a JSON-able dict (hashed by `digest`); its
    "cold" entry says why no replay can stand for the apply (then always cold)."""
    from policies.tfguard import refusals

    if refusals(sources, roots):
        return {"cold": "the tree runs code or reads outside it (--allow-exec): not keyed"}
    directories = module_closure(sources, roots)
    wide = any(_reads_computed_path(sources, d) for d in directories)
    files = _tree_files(infra, None if wide else directories)
    if mirror is None and not all((root / ".terraform.lock.hcl").is_file() for root in roots):
        return {"cold": "the provider comes from the registry and a root has no lock file"}
    terraform = _which("terraform")
    return {
        "format": FORMAT,
        "seed": SEED,
        "roots": sorted(str(r.relative_to(infra)) for r in roots),
        "files": {str(p.relative_to(infra)): _sha256(p) for p in files},
        "scope": "tree" if wide else "roots and modules",
        "terraform": _identity(terraform) if terraform else None,
        "provider": _mirror_listing(mirror),
        "versions": {
            name: _version(name)
            for name in ("pingvas-policy", "moto", "werkzeug", "flask", "botocore")
        },
        "python": sys.version,
        "suite": {
            name: _sha256(Path(__file__).with_name(name)) for name in ("stack.py", "warm.py")
        },
        "environment": sorted(
            f"{k}={v}" for k, v in os.environ.items() if k.startswith(("TF_", "CHECKPOINT_"))
        ),
    }


def digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def module_closure(sources: Any, roots: list[Path]) -> list[Path]:
    """The roots and every local module directory they call, transitively."""
    seen: list[Path] = []
    pending = list(roots)
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.append(directory)
        for body in _blocks(sources, directory, "module"):
            source = body.get("source")
            if isinstance(source, str) and source.startswith(("./", "../")):
                pending.append(Path(os.path.normpath(directory / source)))
    return sorted(seen)


def _blocks(sources: Any, directory: Path, kind: str) -> Iterator[dict[str, Any]]:
    from policies.sources import SourceError

    for path in sources.files(".tf", ".tf.json"):
        if path.parent != directory:
            continue
        try:
            parsed = sources.terraform(path)
        except SourceError:
            continue
        blocks = parsed.get(kind) if isinstance(parsed, dict) else None
        for block in blocks if isinstance(blocks, list) else []:
            for name, body in block.items() if isinstance(block, dict) else ():
                if isinstance(body, dict) and not str(name).startswith("__"):
                    yield body


def _reads_computed_path(sources: Any, directory: Path) -> bool:
    """Whether a file function or file argument in the directory's Terraform reads a path that
    is not a literal (after `${path.module}/`): it may reach any file of the copied tree."""
    from policies.sources import SourceError
    from policies.tfguard import FILE_ARGUMENTS, FILE_FUNCTION

    for path in sources.files(".tf", ".tf.json"):
        if path.parent != directory:
            continue
        try:
            parsed = sources.terraform(path)
        except SourceError:
            continue
        for text in _strings(parsed):
            for match in FILE_FUNCTION.finditer(text):
                argument = match.group(2).strip()
                if not argument.startswith('"') or "${" in _strip(argument, _PATH_PREFIXES):
                    return True
    for kind in ("resource", "data"):
        for typed in _blocks(sources, directory, kind):
            for body in typed.values():
                values = [body.get(a) for a in FILE_ARGUMENTS] if isinstance(body, dict) else []
                if any(isinstance(v, str) and "${" in _strip(v, _LITERAL_PREFIXES) for v in values):
                    return True
    return False


def _strip(text: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        text = text.removeprefix(prefix)
    return text


def _strings(value: Any) -> Iterator[str]:
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str) and "${" in node:
            yield node


def _tree_files(infra: Path, directories: list[Path] | None) -> list[Path]:
    """The files workspace() copies (links followed, as copytree does), under `directories`
    only when given."""
    found: list[Path] = []
    visited: set[str] = set()
    for top in directories if directories is not None else [infra]:
        for current, dirs, names in os.walk(top, followlinks=True):
            real = os.path.realpath(current)
            if real in visited:
                dirs[:] = []
                continue
            visited.add(real)
            dirs[:] = sorted(d for d in dirs if not _ignored(d))
            found += [Path(current) / n for n in sorted(names) if not _ignored(n)]
    return sorted(set(found))


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in COPY_IGNORED)


def _sha256(path: Path) -> str:
    digest_ = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest_.update(chunk)
    except OSError as exc:
        return f"unreadable: {exc.errno}"
    return digest_.hexdigest()


def _identity(path: str) -> list[Any]:
    info = os.stat(path)
    return [os.path.realpath(path), info.st_size, info.st_mtime_ns]


def _mirror_listing(mirror: Path | None) -> list[Any] | None:
    """Every provider package of the mirror (path, size, mtime): what `init` chooses from."""
    if mirror is None:
        return None
    top = mirror / "registry.terraform.io" / "hashicorp"
    return [[str(p.relative_to(mirror)), *_identity(str(p))[1:]] for p in _tree_files(top, None)]


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
