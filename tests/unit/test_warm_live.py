"""The warm local stack: a replayed apply reads, field by field, as the cold apply it was
recorded from; one changed byte of what Terraform reads means a cold apply; an entry not signed
on this machine, or a replay whose answers differ, is never used."""

import dataclasses
import json
from pathlib import Path

import pytest

from policies.sources import Sources
from policies.targets.stack import (
    StackError,
    StackUnavailable,
    find_mirror,
    local_stack,
    start_moto,
)
from policies.targets.warm import WarmStore, read_recording, replay, stack_key
from policies.terraform import load_project
from policies.tfguard import guard
from tests.helpers import ROOT

MODULE = """variable "name" {
  type = string
}

resource "aws_sns_topic" "this" {
  name = var.name
}

output "arn" {
  value = aws_sns_topic.this.arn
}
"""
ROOT_TF = """provider "aws" {
  region = "us-east-1"
}

module "alerts" {
  source = "../../modules/topic"
  name   = "mini-alerts"
}
"""


@pytest.fixture(autouse=True)
def machine_key(tmp_path, monkeypatch):
    """This machine's signing key, private to the test."""
    monkeypatch.setenv("PINGVAS_CACHE_KEY_FILE", str(tmp_path / "machine" / "cache.key"))


def mini_tree(base: Path) -> Path:
    infra = base / "infra"
    (infra / "terraform" / "envs" / "mini").mkdir(parents=True)
    (infra / "terraform" / "modules" / "topic").mkdir(parents=True)
    (infra / "terraform" / "envs" / "mini" / "main.tf").write_text(ROOT_TF)
    (infra / "terraform" / "modules" / "topic" / "main.tf").write_text(MODULE)
    (infra / "db").mkdir()
    (infra / "db" / "001_init.sql").write_text("CREATE TABLE t (id int);\n")
    return infra


def store_of(infra: Path, cache: Path) -> WarmStore:
    sources = Sources(infra)
    roots = load_project(sources).roots
    return WarmStore(cache, stack_key(infra, roots, guard(sources, roots), find_mirror()))


def key_of(infra: Path) -> str:
    return store_of(infra, infra.parent / "cache").name


def test_one_changed_byte_in_a_module_changes_the_key_a_file_terraform_does_not_read_does_not(
    tmp_path,
):
    infra = mini_tree(tmp_path)
    before = key_of(infra)
    (infra / "db" / "001_init.sql").write_text("CREATE TABLE t (id bigint);\n")
    assert key_of(infra) == before
    module = infra / "terraform" / "modules" / "topic" / "main.tf"
    module.write_bytes(module.read_bytes().replace(b"this", b"thiz", 1))
    assert key_of(infra) != before


def test_a_computed_file_path_is_refused_so_never_warm(tmp_path):
    infra = mini_tree(tmp_path)
    module = infra / "terraform" / "modules" / "topic" / "main.tf"
    module.write_text(MODULE + 'locals {\n  policy = file("${path.module}/${var.name}.json")\n}\n')
    assert "cold" in store_of(infra, tmp_path / "cache").key


def test_the_key_holds_exactly_the_files_of_the_workspace(tmp_path):
    infra = mini_tree(tmp_path)
    (infra / "terraform" / "envs" / "mini" / "notes.md").write_text("not read by terraform\n")
    assert sorted(store_of(infra, tmp_path / "cache").key["files"]) == [
        "terraform/envs/mini/main.tf",
        "terraform/modules/topic/main.tf",
    ]


def test_a_tree_that_runs_code_is_never_warm(tmp_path):
    infra = mini_tree(tmp_path)
    root = infra / "terraform" / "envs" / "mini" / "main.tf"
    root.write_text(
        ROOT_TF + 'resource "terraform_data" "x" {\n  provisioner "local-exec" {\n'
        '    command = "true"\n  }\n}\n'
    )
    store = store_of(infra, tmp_path / "cache")
    assert "cold" in store.key
    store.save({"endpoint": "http://127.0.0.1:1", "exchanges": []})
    assert store.load() is None


def test_an_entry_not_signed_with_this_machines_key_is_ignored(tmp_path, monkeypatch):
    store = store_of(mini_tree(tmp_path), tmp_path / "cache")
    store.save({"endpoint": "http://127.0.0.1:1", "exchanges": []})
    assert store.load() is not None
    signature, _, payload = store.path.read_bytes().partition(b"\n")
    store.path.write_bytes(signature + b"\n" + payload.replace(b"127.0.0.1:1", b"127.0.0.1:2"))
    assert store.load() is None
    store.save({"endpoint": "http://127.0.0.1:1", "exchanges": []})
    monkeypatch.setenv("PINGVAS_CACHE_KEY_FILE", str(tmp_path / "other" / "cache.key"))
    assert store.load() is None  # planted by someone without this machine's key


def moto_or_skip(workdir: Path):
    try:
        return start_moto(workdir)
    except (StackUnavailable, StackError) as exc:
        pytest.skip(str(exc))


def test_a_replay_is_compared_answer_by_answer(tmp_path):
    recorded = moto_or_skip(tmp_path / "recorded")
    try:
        recorded.recorder("start")
        client = _target(recorded.endpoint).client("sns")
        for name in ("a", "b"):
            client.create_topic(Name=f"replayed-{name}")
        client.list_topics()
        recorded.recorder("stop")
        exchanges = read_recording(recorded.recording)
    finally:
        recorded.stop()
    assert len(exchanges) == 3
    fresh = moto_or_skip(tmp_path / "fresh")
    try:
        assert replay(fresh.endpoint, recorded.endpoint, exchanges) is None
        topics = _target(fresh.endpoint).client("sns").list_topics()["Topics"]
        assert [t["TopicArn"].rsplit(":", 1)[1] for t in topics] == ["replayed-a", "replayed-b"]
    finally:
        fresh.stop()
    exchanges[1]["status"] = 400
    other = moto_or_skip(tmp_path / "other")
    try:
        diverged = replay(other.endpoint, recorded.endpoint, exchanges)
    finally:
        other.stop()
    assert diverged is not None and diverged.startswith("request 2 of 3")


def _target(endpoint: str):
    from policies.targets.aws import AwsTarget

    return AwsTarget(endpoint, local_credentials=True)


def _topics(endpoint: str) -> list[str]:
    client = _target(endpoint).client("sns")
    return sorted(t["TopicArn"] for t in client.list_topics()["Topics"])


def test_one_changed_byte_in_a_module_forces_a_cold_apply(tmp_path):
    """Cold (recorded), warm (replayed, same deployment), then one byte of the module changed:
    cold again, and the deployment is the changed one."""
    infra = mini_tree(tmp_path)
    notes, topics = [], []
    for step in ("cold", "warm", "changed"):
        if step == "changed":
            module = infra / "terraform" / "modules" / "topic" / "main.tf"
            module.write_bytes(module.read_bytes().replace(b"var.name", b'"mini-alertz"'))
        store = store_of(infra, tmp_path / "cache")
        sources = Sources(infra)
        roots = load_project(sources).roots
        try:
            stack = local_stack(tmp_path / step, infra, roots, guard(sources, roots), store)
        except (StackUnavailable, StackError) as exc:
            pytest.skip(str(exc))
        try:
            notes.append(stack.note)
            topics.append([arn.rsplit(":", 1)[1] for arn in _topics(stack.endpoint)])
        finally:
            stack.stop()
    assert [n.split(":")[0] for n in notes] == ["cold", "warm", "cold"]
    assert topics == [["mini-alerts"], ["mini-alerts"], ["mini-alertz"]]


# --- warm vs cold on infra/: what every live reader of the stack returns, field by field ----


def differences(cold, warm, path="") -> list[str]:
    """Every field where two readings differ, by its path."""
    if dataclasses.is_dataclass(cold) and dataclasses.is_dataclass(warm):
        if type(cold) is not type(warm):
            return [f"{path}: {type(cold).__name__} != {type(warm).__name__}"]
        return [
            d
            for f in dataclasses.fields(cold)
            for d in differences(getattr(cold, f.name), getattr(warm, f.name), f"{path}.{f.name}")
        ]
    if isinstance(cold, dict) and isinstance(warm, dict):
        keys = sorted(set(cold) | set(warm), key=str)
        return [d for k in keys for d in differences(cold.get(k), warm.get(k), f"{path}[{k!r}]")]
    if isinstance(cold, list | tuple) and isinstance(warm, list | tuple):
        if len(cold) != len(warm):
            return [f"{path}: {len(cold)} items != {len(warm)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(cold, warm, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if cold == warm else [f"{path}: {cold!r} != {warm!r}"]


def readings(endpoint: str, tree) -> dict:
    """What every live reader of the stack returns (alarms, WAF, secrets)."""
    from policies.alarms.live import read_live as alarms
    from policies.registry import families
    from policies.secrets.live import read_live as secrets
    from policies.waf.live import read_live as waf

    target = _target(endpoint)
    return {
        "alarms": alarms(target),
        "waf": waf(target),
        "secrets": secrets(target, families()["secrets"].read(tree)),
    }


@pytest.fixture(scope="module")
def infra_stacks(tmp_path_factory):
    """infra/ applied cold (recorded), and the recording replayed into a fresh moto."""
    import os

    from policies.tree import Tree

    base = tmp_path_factory.mktemp("warm-infra")
    os.environ["PINGVAS_CACHE_KEY_FILE"] = str(base / "machine" / "cache.key")
    infra = ROOT / "infra"
    sources = Sources(infra)
    tree = Tree(sources, None, [])
    roots = tree.terraform.roots
    guarded = guard(sources, roots)
    store = WarmStore(base / "cache", stack_key(infra, roots, guarded, find_mirror()))
    stacks = []
    try:
        for step in ("cold", "warm"):
            try:
                stacks.append(local_stack(base / step, infra, roots, guarded, store))
            except (StackUnavailable, StackError) as exc:
                pytest.skip(str(exc))
        yield tree, stacks
    finally:
        for stack in stacks:
            stack.stop()
        os.environ.pop("PINGVAS_CACHE_KEY_FILE", None)


def test_warm_infra_reads_as_the_cold_apply_field_by_field(infra_stacks):
    tree, (cold, warm) = infra_stacks
    assert cold.note.startswith("cold") and warm.note.startswith("warm"), warm.note
    first, second = readings(cold.endpoint, tree), readings(warm.endpoint, tree)
    assert first["alarms"].alarms and first["waf"].acls and first["secrets"].secrets
    found = differences(first, second)
    assert found == [], json.dumps(found[:20])
    second["alarms"].alarms[0].threshold = -1.0  # the comparison sees one changed field
    assert differences(first, second) == [
        f"['alarms'].alarms[0].threshold: {first['alarms'].alarms[0].threshold!r} != -1.0"
    ]
