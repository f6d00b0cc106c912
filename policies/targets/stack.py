"""The embedded local stack: moto server on loopback with the Terraform roots applied into it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pytest

from policies.redact import excerpt
from policies.targets.warm import WarmStore, read_recording, replay

if TYPE_CHECKING:
    from policies.tfguard import Guarded

MOTO_START_TIMEOUT_S = 30
TERRAFORM_TIMEOUT_S = 900
SERVICES = [
    "cloudwatch",
    "ec2",
    "elbv2",
    "firehose",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "sts",
    "wafv2",
]
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


STACK_TIMINGS = pytest.StashKey[dict[str, float]]()  # bring-up steps, for the run's summary
STACK_NOTE = pytest.StashKey[str]()  # warm (replayed) or cold (applied), and why
SIDE_BY_SIDE = pytest.StashKey[bool]()  # set while services are asked to start in the background


class StackUnavailable(Exception):
    """A tool the local stack needs is missing; the message says what to install."""


class StackError(Exception):
    """The local stack could not be brought up; the message names the step and the cause."""


T = TypeVar("T")


def bring_up(start: Callable[[], T], cleanup: Callable[[], Any] | None = None) -> T:
    """Start a local service: a missing tool skips saying what to install, a failure fails in
    one line (neither with a traceback); `cleanup` runs on either, and on an interruption."""
    try:
        return start()
    except (StackUnavailable, StackError) as exc:
        error: Exception = exc
    except BaseException:
        if cleanup is not None:
            cleanup()
        raise
    if cleanup is not None:
        cleanup()
    if isinstance(error, StackUnavailable):
        pytest.skip(str(error))
    pytest.fail(str(error), pytrace=False)


class Early(Generic[T]):
    """A local service's bring-up, begun at once in a thread when the run asks for services
    side by side (SIDE_BY_SIDE), else on the first call; calling it returns the service or
    raises what the bring-up raised (skip, failure), every time."""

    def __init__(self, config: pytest.Config, start: Callable[[], T]) -> None:
        self._start = start
        self._future: Future[T] | None = None
        if config.stash.get(SIDE_BY_SIDE, False):
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pingvas-early")
            self._future = pool.submit(start)
            pool.shutdown(wait=False)

    def __call__(self) -> T:
        return self._future.result() if self._future is not None else self._start()

    def settle(self) -> None:
        """Wait for a bring-up still running (teardown: what it starts is then stopped)."""
        if self._future is not None:
            self._future.exception()  # waits; what it raised is the caller's


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a service or tool in its own process group (session), so that stopping it also
    stops what it started (terraform's provider plugins), and a Ctrl-C meant for the suite does
    not reach it before the suite's own cleanup does."""
    return subprocess.Popen(cmd, start_new_session=True, **kwargs)


def stop_process(process: subprocess.Popen[Any], grace_s: float = 10) -> None:
    """SIGTERM to the process's group, SIGKILL after `grace_s`; quiet when it is gone."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever the leader left in its group


@dataclass
class LocalStack:
    endpoint: str
    process: subprocess.Popen[bytes]
    workdir: Path
    timings: dict[str, float] = field(default_factory=dict)
    note: str = ""  # how the deployment came to be: replayed (warm) or applied, and why

    @property
    def recording(self) -> Path:
        return self.workdir / "recording.jsonl"

    def recorder(self, switch: str) -> None:
        """Start or stop recording Terraform's requests and moto's answers (warm.Recorder)."""
        import requests

        from policies.targets.warm import CONTROL

        requests.post(f"{self.endpoint}{CONTROL}{switch}", timeout=5).raise_for_status()

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_moto(workdir: Path) -> LocalStack:
    """moto server on a free loopback port, one request at a time, its ids seeded
    (warm.serve), ready to answer."""
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise StackUnavailable("moto server not installed: pip install 'moto[server]'") from exc
    import requests  # a live client: imported by the live tier only

    from policies.targets.warm import SEED

    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with (workdir / "moto.log").open("wb") as log:
        process = spawn(
            [
                sys.executable,
                "-m",
                "policies.targets.warm",
                str(port),
                str(workdir / "recording.jsonl"),
            ],
            cwd=workdir,  # never the scanned repository: nothing of it is importable
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = LocalStack(endpoint, process, workdir)
    try:
        while time.monotonic() - started < MOTO_START_TIMEOUT_S:
            if process.poll() is not None:
                break
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
            except requests.RequestException:
                time.sleep(0.05)
                continue
            requests.post(f"{endpoint}/moto-api/seed?a={SEED}", timeout=5).raise_for_status()
            # moto cannot run Lambda code without Docker: keep functions as records only.
            requests.post(
                f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=5
            )
            stack.timings["moto start"] = time.monotonic() - started
            return stack
    except BaseException:
        stack.stop()
        raise
    stack.stop()
    raise StackError(f"moto server on {endpoint} did not answer within {MOTO_START_TIMEOUT_S} s")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_mirror() -> Path | None:
    """A Terraform filesystem mirror holding hashicorp/aws: $PINGVAS_TF_MIRROR or a usual place."""
    candidates = [os.environ.get("PINGVAS_TF_MIRROR", ""), *MIRROR_CANDIDATES]
    for candidate in filter(None, candidates):
        path = Path(candidate).expanduser()
        if (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return path
    return None


@dataclass
class Workspace:
    """A copy of a tree's Terraform files, and how to run terraform on it offline."""

    terraform: str
    copy: Path
    env: dict[str, str]
    base: Path  # the tree it copies (resolved)

    def root(self, root: Path) -> Path:
        return self.copy / Path(os.path.realpath(root)).relative_to(self.base)


def workspace(infra: Path, workdir: Path, guarded: Guarded | None = None) -> Workspace:
    """The workspace terraform runs in, under workdir: exactly the files the guard read
    (`guarded`), or with None (a trusted tree: --allow-exec, the suite's own trees) a copy of
    infra without state, .terraform and links out of it; and an environment with the suite's
    CLI config and no credential of the machine."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise StackUnavailable("terraform not on PATH: install Terraform >= 1.11 for the live tier")
    base = Path(os.path.realpath(infra))
    copy = workdir / "infra"
    if guarded is None:
        _copy_tree(base, copy)
    else:
        for path, data in guarded.files.items():
            target = copy / path.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    tmp = workdir / "tmp"  # terraform's plugin sockets: removed with the workdir
    tmp.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "TMPDIR": str(tmp),
        "TF_CLI_CONFIG_FILE": str(_write_cli_config(workdir)),
    }
    for variable in list(env):
        # the suite's own invocation, not the caller's; and no credential of the machine
        # (environment, profiles, instance metadata) may reach a provider the tree configures
        if variable.startswith(("TF_CLI_ARGS", "TF_VAR_", "AWS_")) or variable in (
            "TF_PLUGIN_CACHE_DIR",
            "TF_DATA_DIR",
            "TF_WORKSPACE",
        ):
            env.pop(variable)
    env.update(
        HOME=str(tmp),
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return Workspace(terraform, copy, env, base)


def _copy_tree(base: Path, copy: Path) -> None:
    """infra copied as Terraform would read it, less its state and caches and every link that
    resolves outside the tree (never read for Terraform; SRC-002 reports it)."""
    skipped = shutil.ignore_patterns(".terraform", "*.tfstate*", ".git", "__pycache__")

    def ignore(directory: str, names: list[str]) -> set[str]:
        outward = {
            n
            for n in names
            if os.path.islink(os.path.join(directory, n))
            and not Path(os.path.realpath(os.path.join(directory, n))).is_relative_to(base)
        }
        return set(skipped(directory, names)) | outward

    shutil.copytree(base, copy, ignore=ignore)


def apply_roots(
    stack: LocalStack, infra: Path, roots: list[Path], guarded: Guarded, trusted: bool = False
) -> None:
    """Build the workspace (the guard's files; the whole tree when trusted), point every
    provider "aws" configuration at moto, and apply each root into it."""
    ws = workspace(infra, stack.workdir, None if trusted else guarded)
    for directory, content in _provider_files(ws, roots, guarded, stack.endpoint).items():
        directory.write_text(content)
    for root in roots:
        workroot = ws.root(root)
        run_terraform(
            stack.timings,
            f"init {root.name}",
            [ws.terraform, "init", "-no-color"],
            workroot,
            ws.env,
        )
        run_terraform(
            stack.timings,
            f"apply {root.name}",
            [ws.terraform, "apply", "-auto-approve", "-no-color", "-parallelism=20"],
            workroot,
            ws.env,
        )


def local_stack(
    workdir: Path,
    infra: Path,
    roots: list[Path],
    guarded: Guarded,
    store: WarmStore | None = None,
    trusted: bool = False,
) -> LocalStack:
    """moto started and infra's roots applied into it: replayed from the store when it holds
    the recording of this key and every answer matches it (warm), else applied by terraform
    (and recorded into the store). Stopped again when a step fails or the run is interrupted
    (SIGINT, SIGTERM) during bring-up."""
    workdir.mkdir(parents=True, exist_ok=True)
    entry = store.load() if store is not None else None
    cold = _cold_reason(store)
    if store is not None and entry is not None:
        stack = _replayed(workdir / "warm", store, entry)
        if stack.note.startswith("warm"):
            return stack
        cold = stack.note
    recording = store is not None and "cold" not in store.key
    stack = start_moto(workdir / "cold")
    try:
        if recording:
            stack.recorder("start")
        apply_roots(stack, infra, roots, guarded, trusted)
        if recording:
            assert store is not None
            stack.recorder("stop")
            exchanges = read_recording(stack.recording)
            store.save({"endpoint": stack.endpoint, "exchanges": exchanges})
            cold += f"; {len(exchanges)} requests recorded for the next run"
    except BaseException:
        stack.stop()
        raise
    stack.note = f"cold: {cold}"
    return stack


def _cold_reason(store: WarmStore | None) -> str:
    if store is None:
        return "no cache (-p no:cacheprovider)"
    if "cold" in store.key:
        return str(store.key["cold"])
    return "no recording of this key (a file Terraform reads, or a tool, changed)"


def _replayed(workdir: Path, store: WarmStore, entry: dict[str, Any]) -> LocalStack:
    """A fresh moto with the recorded apply replayed into it; its note says warm, or why not
    (then it is stopped and the entry dropped)."""
    stack = start_moto(workdir)
    started = time.monotonic()
    try:
        diverged = replay(stack.endpoint, entry["endpoint"], entry["exchanges"])
    except BaseException:
        stack.stop()
        raise
    if diverged is None:
        stack.timings["moto replay"] = time.monotonic() - started
        stack.note = (
            f"warm: replayed the recorded apply ({len(entry['exchanges'])} requests, every"
            f" answer as recorded; key {store.name[:12]})"
        )
        return stack
    stack.stop()
    store.drop()
    stack.note = f"the replay diverged: {diverged}"
    return stack


def shared_stack(
    shared: Path,
    infra: Path,
    roots: list[Path],
    guarded: Guarded,
    store: WarmStore | None = None,
    trusted: bool = False,
) -> dict[str, Any]:
    """One local stack for all pytest-xdist workers: the first worker to ask brings it up (the
    others wait on a lock), every worker gets its state: endpoint, pid and timings, or the
    reason it is unavailable / failed. The controller stops it (stop_shared_stack)."""
    state = shared / "stack.json"
    with (shared / "stack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not state.exists():
            try:
                stack = local_stack(shared / "stack", infra, roots, guarded, store, trusted)
                up: dict[str, Any] = {
                    "endpoint": stack.endpoint,
                    "pid": stack.process.pid,
                    "timings": stack.timings,
                    "note": stack.note,
                }
            except StackUnavailable as exc:
                up = {"unavailable": str(exc)}
            except StackError as exc:
                up = {"error": str(exc)}
            state.write_text(json.dumps(up))
    return json.loads(state.read_text())


def stop_shared_stack(shared: Path) -> None:
    """Stop the stack a worker brought up for the others, and remove its files."""
    state = shared / "stack.json"
    pid = json.loads(state.read_text()).get("pid") if state.exists() else None
    if pid:  # moto leads its own process group (spawn)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            time.sleep(0.5)
    shutil.rmtree(shared, ignore_errors=True)


def run_terraform(
    timings: dict[str, float], step: str, cmd: list[str], cwd: Path, env: dict[str, str]
) -> None:
    """Run one terraform step; a failure raises with terraform's error lines, one line."""
    started = time.monotonic()
    process = spawn(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = process.communicate(timeout=TERRAFORM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop_process(process)
        raise StackError(
            f"terraform {step} did not finish within {TERRAFORM_TIMEOUT_S} s"
        ) from None
    except BaseException:
        stop_process(process)  # interrupted: terraform and its provider plugins
        raise
    timings[f"terraform {step}"] = time.monotonic() - started
    if process.returncode == 0:
        return
    errors = [line.strip("│ ").strip() for line in stderr.splitlines() if "Error" in line]
    cause = "; ".join(dict.fromkeys(e for e in errors if e)) or stderr.strip()[-500:]
    cause = excerpt(cause, None, width=500) if len(cause) > 500 else cause
    if step.startswith("init") and "provider" in stderr and find_mirror() is None:
        raise StackUnavailable(
            "hashicorp/aws provider not installable (no filesystem mirror, registry unreachable):"
            " set PINGVAS_TF_MIRROR to a mirror directory"
        )
    raise StackError(f"terraform {step} failed in {cwd.name}: {cause}")


def _write_cli_config(workdir: Path) -> Path:
    """The suite's CLI config: providers from the filesystem mirror when there is one (else the
    registry), always as an explicit installation method, so terraform never searches the
    implied local directories (a root's terraform.d/plugins among them); its plugin cache in
    the work directory."""
    path = workdir / "terraform.tfrc"
    cache = workdir / "plugin-cache"
    cache.mkdir(exist_ok=True)
    mirror = find_mirror()
    if mirror is None:
        methods = "  direct {}\n"
    else:
        methods = (
            f'  filesystem_mirror {{\n    path = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        )
    path.write_text(
        f'plugin_cache_dir = "{cache}"\n'
        "disable_checkpoint = true\n"
        f"provider_installation {{\n{methods}}}\n"
    )
    return path


LOCAL_OVERRIDE = "zz_pingvas_local_override.tf"
LOCAL_PROVIDER = "zz_pingvas_local_provider.tf"
LOCAL_BACKEND = 'terraform {\n  backend "local" {}\n}\n'


def _provider_files(
    ws: Workspace, roots: list[Path], guarded: Guarded, endpoint: str
) -> dict[Path, str]:
    """The files that point every provider "aws" configuration at the local endpoint with test
    credentials (override files, one per directory declaring any), the default configuration
    of each root (declared anew where the root has none), and each root's state kept in the
    work directory (its own backend, S3 or Terraform Cloud, is never contacted)."""
    overrides: dict[Path, list[str]] = {}
    files: dict[Path, str] = {}
    for directory, aliases in guarded.providers.items():
        blocks = overrides.setdefault(ws.root(directory), [])
        blocks += [provider_block(endpoint, alias) for alias in sorted(aliases)]
    for root in roots:
        workroot = ws.root(root)
        blocks = overrides.setdefault(workroot, [])
        blocks.insert(0, LOCAL_BACKEND)
        if "" not in guarded.providers.get(root, set()):
            files[workroot / LOCAL_PROVIDER] = provider_block(endpoint, "")
    for directory, blocks in overrides.items():
        files[directory / LOCAL_OVERRIDE] = "\n".join(blocks)
    return files


def provider_block(endpoint: str, alias: str) -> str:
    """A provider "aws" configuration on the local endpoint (the default one in us-east-1)."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    head = (
        f'  alias                       = "{alias}"\n'
        if alias
        else ('  region                      = "us-east-1"\n')
    )
    return (
        'provider "aws" {\n'
        f"{head}"
        '  access_key                  = "test"\n'
        '  secret_key                  = "test"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )
