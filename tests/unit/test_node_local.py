"""The node checks for real on local://, through testinfra's local backend: the exporter
stand-in (its own process, a collectors CSV) and the platform's app (uvicorn) on free ports,
known-good (app as an unprivileged user, clean environment) and known-bad (exporter missing a
queried field, app as root, a literal password in its environment)."""

import os
from dataclasses import replace

import pytest
import testinfra

from policies.catalog import load_catalog
from policies.metrics.static import read_static as read_metrics
from policies.node.live import HostShell, read_host
from policies.node.model import NodeLive
from policies.node.static import read_static
from policies.registry import all_checks
from policies.sources import Sources
from policies.targets.hosts import collectors_csv, dcgm_payload, start_app, start_exporter
from policies.targets.prometheus import app_entries, serve_app
from policies.targets.stack import StackError, free_port
from policies.tree import Tree
from tests.helpers import ROOT

CATALOG = load_catalog()
CHECKS = all_checks()
PARAMS = {k: v for p in CATALOG.values() if p.family == "node" for k, v in p.params.items()}
CHECKED = ("NODE-001", "NODE-002", "NODE-003", "NODE-005", "NODE-006", "NODE-007")
TREE = Tree(Sources(ROOT / "infra"))
ROOT_APP, TARGET = app_entries(read_metrics(TREE.sources, TREE.yaml), TREE.sources)[
    "generation-service"
]


@pytest.fixture
def inventory():
    """infra/'s expectations with the exporter and the app on free ports."""
    inv = read_static(TREE)
    return replace(
        inv,
        exporter=replace(inv.exporter, port=free_port()),
        apps=[replace(inv.apps[0], port=free_port())],
    )


def _findings(inventory):
    host = HostShell(testinfra.get_host("local://"), "local://")
    live = NodeLive(inventory, [read_host(host, ("gpu-node", "generation-pod"), inventory, PARAMS)])
    return {pid: CHECKS[pid](live, CATALOG[pid]) for pid in CHECKED}


def test_known_good_on_local(inventory):
    stops = [start_exporter(inventory.exporter.port, dcgm_payload(), collectors_csv())]
    try:
        stops.append(start_app(ROOT_APP, TARGET, inventory.apps[0].port))
        assert _findings(inventory) == dict.fromkeys(CHECKED, [])
    finally:
        for stop in stops:
            stop()


def test_known_bad_on_local(inventory):
    payload = b"\n".join(
        line for line in dcgm_payload().split(b"\n") if b"DCGM_FI_DEV_XID_ERRORS" not in line
    )
    env = {"PATH": os.environ["PATH"], "DB_PASSWORD": "literal-from-the-test"}
    stops = [start_exporter(inventory.exporter.port, payload, collectors_csv())]
    try:
        # as the suite's own user: root when the suite runs as root
        stops.append(serve_app(ROOT_APP, TARGET, port=inventory.apps[0].port, env=env)[1])
        found = _findings(inventory)
    finally:
        for stop in stops:
            stop()
    assert [f.resource.names for f in found["NODE-002"]] == [("local://", "DCGM_FI_DEV_XID_ERRORS")]
    assert [f.resource.names[-1] for f in found["NODE-007"]] == ["DB_PASSWORD"]
    assert all("literal-from-the-test" not in f.render("") for f in found["NODE-007"])
    assert [f.actual for f in found["NODE-005"]] == (["uid 0"] if os.geteuid() == 0 else [])
    assert found["NODE-001"] == found["NODE-006"] == []


def test_a_busy_port_fails_saying_so(inventory):
    stop = start_exporter(inventory.exporter.port, dcgm_payload(), collectors_csv())
    try:
        with pytest.raises(StackError, match=f"port {inventory.exporter.port} .* is busy"):
            start_exporter(inventory.exporter.port, dcgm_payload(), collectors_csv())
    finally:
        stop()
