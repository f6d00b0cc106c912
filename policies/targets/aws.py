"""The AWS target of the live tier: boto3 clients for one endpoint and region (bounded
timeouts and retries), and its session fixture: real AWS, LocalStack, an endpoint given by the
user, or the embedded moto stack with the tree's Terraform applied into it."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from policies.lazy import Lazy
from policies.sources import Sources
from policies.tfguard import Guarded, guard

T = TypeVar("T")

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30


@dataclass(frozen=True)
class AwsTarget:
    """Where live AWS probes go: an endpoint (moto, LocalStack) or real AWS when None."""

    endpoint: str | None
    region: str = "us-east-1"
    local_credentials: bool = False

    def client(self, service: str) -> Any:
        import boto3  # heavy; imported only when a live test needs it
        from botocore.config import Config

        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        if self.local_credentials:
            kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")
        return boto3.client(service, **kwargs)


SHARED_STACK = pytest.StashKey[Path]()  # controller: where xdist workers share one local stack
SHARED_STACK_INPUT = "pingvas_shared_stack"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: every worker gets the directory where the first of them to need
    the local stack brings it up for all (one terraform apply per run, not one per worker)."""
    if SHARED_STACK not in node.config.stash:
        node.config.stash[SHARED_STACK] = Path(tempfile.mkdtemp(prefix="pingvas-stack-"))
    node.workerinput[SHARED_STACK_INPUT] = str(node.config.stash[SHARED_STACK])


def pytest_unconfigure(config: pytest.Config) -> None:
    if SHARED_STACK in config.stash:
        from policies.targets.stack import stop_shared_stack

        stop_shared_stack(config.stash[SHARED_STACK])


def shared_timings(config: pytest.Config) -> dict[str, float]:
    """The bring-up timings of the stack the workers shared (controller), if any."""
    return dict(_shared_state(config).get("timings", {}))


def _shared_state(config: pytest.Config) -> dict[str, Any]:
    shared = config.stash.get(SHARED_STACK, None)
    if shared and (shared / "stack.json").exists():
        return dict(json.loads((shared / "stack.json").read_text()))
    return {}


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """How the local stack's deployment came to be: replayed (warm) or applied (cold), why."""
    from policies.targets.stack import STACK_NOTE

    note = _shared_state(config).get("note") or config.stash.get(STACK_NOTE, "")
    if note:
        terminalreporter.write_line(f"pingvas local stack: {note}")


def warm_store(
    config: pytest.Config, infra: Path, roots: list[Path], guarded: Guarded
) -> Any | None:
    """Where the recorded apply of this tree's key is kept: pytest's cache directory (none
    with -p no:cacheprovider; emptied by --cache-clear)."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    from policies.targets.stack import find_mirror
    from policies.targets.warm import WarmStore, stack_key

    return WarmStore(cache.mkdir("pingvas-stack"), stack_key(infra, roots, guarded, find_mirror()))


@pytest.fixture(scope="session")
def aws_target(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    infra_dir: Path,
    sources: Sources,
    tree: Any,
) -> Iterator[Lazy[AwsTarget]]:
    """The AWS endpoint live probes read; on --target local, moto with the tree's roots applied
    (after refusing roots that would run code on this machine, unless --allow-exec)."""
    target = pytestconfig.getoption("--target")
    endpoint = pytestconfig.getoption("--aws-endpoint")
    if target == "aws":
        yield Lazy(lambda: AwsTarget(endpoint))
        return
    if target == "localstack" or endpoint:
        yield Lazy(lambda: AwsTarget(endpoint or "http://localhost:4566", local_credentials=True))
        return
    from policies.targets.stack import (
        STACK_NOTE,
        STACK_TIMINGS,
        bring_up,
        local_stack,
        shared_stack,
    )

    stacks: list[Any] = []

    def start() -> AwsTarget:
        roots = tree.terraform.roots
        if not roots:
            pytest.fail(
                f"no Terraform root (a directory with a provider block) under {infra_dir}",
                pytrace=False,
            )
        trusted = bool(pytestconfig.getoption("--allow-exec"))
        guarded = guard(sources, roots)
        refused = [] if trusted else guarded.refusals
        if refused:
            pytest.fail(
                f"refused to apply the Terraform under {infra_dir}: {len(refused)} block(s) would"
                f" run code or read outside the tree on this machine (SRC-004 names each;"
                f" first: {refused[0].path.name}:{refused[0].line} {refused[0].what});"
                " pass --allow-exec to apply them anyway",
                pytrace=False,
            )
        store = warm_store(pytestconfig, infra_dir, roots, guarded)
        shared = getattr(pytestconfig, "workerinput", {}).get(SHARED_STACK_INPUT)
        if shared:  # a pytest-xdist worker: one stack for all workers, stopped by the controller
            state = shared_stack(Path(shared), infra_dir, roots, guarded, store, trusted)
            if "unavailable" in state:
                pytest.skip(state["unavailable"])
            if "error" in state:
                pytest.fail(state["error"], pytrace=False)
            return AwsTarget(state["endpoint"], local_credentials=True)
        workdir = tmp_path_factory.mktemp("local-stack")
        stack = bring_up(lambda: local_stack(workdir, infra_dir, roots, guarded, store, trusted))
        stacks.append(stack)
        pytestconfig.stash.setdefault(STACK_TIMINGS, {}).update(stack.timings)
        pytestconfig.stash[STACK_NOTE] = stack.note
        return AwsTarget(stack.endpoint, local_credentials=True)

    yield Lazy(start)
    for stack in stacks:
        stack.stop()


@pytest.fixture(scope="session", autouse=True)
def local_services_side_by_side(request: pytest.FixtureRequest) -> None:
    """On --target local, the embedded PostgreSQL and Prometheus that the selected live tests
    need begin their bring-up at the session's first test, in threads, beside the local
    stack's; a test that needs one waits for it (stack.Early)."""
    config = request.config
    if config.getoption("--target") != "local" or config.getoption("--aws-endpoint"):
        return
    from policies.targets.stack import SIDE_BY_SIDE

    wanted = _live_fixtures(request)
    config.stash[SIDE_BY_SIDE] = True
    try:
        for name in ("pg_cluster", "prometheus_target"):
            if name in wanted:
                request.getfixturevalue(name)
    finally:
        config.stash[SIDE_BY_SIDE] = False


def _live_fixtures(request: pytest.FixtureRequest) -> set[str]:
    """Every fixture the selected live tests use, transitively (their probes' needs and their
    families' live inventories included)."""
    from policies.registry import families
    from policies.session import settings

    catalog = settings(request.config).catalog
    pending: list[tuple[str, pytest.Item]] = []
    for item in request.session.items:
        if item.get_closest_marker("live") is None:
            continue
        pending += [(name, item) for name in item.fixturenames]
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if case is not None and case.probe is not None:
            pending += [(name, item) for name in case.probe.needs]
        elif case is not None and case.policy_id in catalog:
            live = families()[catalog[case.policy_id].family].live
            pending += [(live, item)] if live else []
    seen: set[str] = set()
    manager = request._fixturemanager
    while pending:
        name, item = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for definition in manager.getfixturedefs(name, item) or []:
            pending += [(arg, item) for arg in definition.argnames]
    return seen


def live_read(target: AwsTarget, what: str, read: Callable[[], T]) -> T:
    """Run a live reader; an unreachable endpoint or refused credentials fail in one line."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
    )

    where = target.endpoint or f"AWS {target.region}"
    try:
        return read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        cause = f"{where} refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        cause = f"cannot reach {where}: {exc}"
    except BotoCoreError as exc:
        cause = f"{where}: {exc}"
    pytest.fail(f"{what}: {' '.join(cause.split())[:300]}", pytrace=False)
