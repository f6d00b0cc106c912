"""The node family's live fixture: the --hosts of testinfra (its own option and host
construction, any backend), each with its roles from pingvas-policy.toml [hosts], read once.
On --target local, local:// carries every role and the stand-ins are started first."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterator
from typing import Any

import pytest

from policies.lazy import Lazy
from policies.node.model import NodeInventory, NodeLive
from policies.registry import NotApplicable
from policies.session import settings

LOCAL_ROLES = ("gpu-node", "generation-pod", "log-shipper")


def host_roles(uri: str, patterns: dict[str, tuple[str, ...]], local_target: bool) -> tuple:
    """The roles of a --hosts entry: every [hosts] pattern it matches; local:// on --target
    local defaults to all (the embedded stand-ins play them)."""
    roles = [r for pattern, rs in patterns.items() if fnmatch.fnmatchcase(uri, pattern) for r in rs]
    if not roles and local_target and uri.startswith("local://"):
        roles = list(LOCAL_ROLES)
    return tuple(dict.fromkeys(roles))


def testinfra_hosts(config: pytest.Config, uri: str) -> list[tuple[str, Any]]:
    """testinfra's hosts for one --hosts entry, with the options testinfra's `host` fixture
    uses (--connection, --ssh-config, --ssh-identity-file, --sudo, --sudo-user, ansible)."""
    import testinfra

    option = config.option
    hosts = testinfra.get_hosts(
        [uri],
        connection=getattr(option, "connection", None),
        ssh_config=getattr(option, "ssh_config", None),
        ssh_identity_file=getattr(option, "ssh_identity_file", None),
        sudo=getattr(option, "sudo", False),
        sudo_user=getattr(option, "sudo_user", None),
        ansible_inventory=getattr(option, "ansible_inventory", None),
        force_ansible=getattr(option, "force_ansible", False),
    )
    if len(hosts) == 1:
        return [(uri, hosts[0])]
    return [(h.backend.get_pytest_id(), h) for h in hosts]


def node_params(config: pytest.Config) -> dict[str, Any]:
    """Every node policy's effective parameters, by name (the readers need some of them)."""
    catalog = settings(config).catalog
    return {k: v for p in catalog.values() if p.family == "node" for k, v in p.params.items()}


@pytest.fixture(scope="session")
def node_live(
    pytestconfig: pytest.Config, node_static: NodeInventory, metrics_static: Any, sources: Any
) -> Iterator[Lazy[NodeLive]]:
    """The hosts as read (NodeLive); not applicable without --hosts (testinfra's `host`
    fixture would fall back to the local machine: the option is read here)."""
    stops: list[Any] = []

    def read() -> NodeLive:
        from policies.node.live import HostShell, HostUnreachable, read_host
        from policies.targets.stack import STACK_TIMINGS

        given = pytestconfig.getoption("hosts", default=None)
        if not given:
            raise NotApplicable("no --hosts")
        run = settings(pytestconfig)
        params = node_params(pytestconfig)
        local_target = pytestconfig.getoption("--target") == "local"
        live = NodeLive(node_static)
        entries = []
        for uri in (u.strip() for u in given.split(",") if u.strip()):
            roles = host_roles(uri, run.config.hosts, local_target)
            if not roles:
                live.unassigned.append(uri)
                continue
            entries += [(name, host, roles) for name, host in testinfra_hosts(pytestconfig, uri)]
        timings = pytestconfig.stash.setdefault(STACK_TIMINGS, {})
        if local_target and any(name.startswith("local://") for name, _, _ in entries):
            started = time.monotonic()
            _stand_ins(node_static, metrics_static, sources, params, stops)
            timings["node stand-ins start"] = time.monotonic() - started
        started = time.monotonic()
        for name, host, roles in entries:
            try:
                live.hosts.append(read_host(HostShell(host, name), roles, node_static, params))
            except HostUnreachable as exc:
                pytest.fail(str(exc), pytrace=False)
        timings["node hosts read"] = time.monotonic() - started
        return live

    yield Lazy(read)
    for stop in reversed(stops):
        stop()


def _stand_ins(
    inventory: NodeInventory, metrics_static: Any, sources: Any, params: dict[str, Any], stops: list
) -> None:
    """The exporter and app stand-ins on the scrape jobs' ports (bring_up: a busy port or a
    missing tool fails or skips in one line)."""
    from policies.targets.hosts import collectors_csv, dcgm_payload, start_app, start_exporter
    from policies.targets.prometheus import app_entries
    from policies.targets.stack import bring_up

    def cleanup() -> None:
        while stops:
            stops.pop()()

    if inventory.exporter is not None:
        port = inventory.exporter.port
        stops.append(
            bring_up(lambda: start_exporter(port, dcgm_payload(), collectors_csv()), cleanup)
        )
    entries = app_entries(metrics_static, sources)
    for app in inventory.apps[:1]:
        if app.name in entries:
            root, target = entries[app.name]
            port = app.port or int(params["app_port"])
            stops.append(bring_up(lambda r=root, t=target, p=port: start_app(r, t, p), cleanup))
