"""Documents of the right kind in the wrong shape (a list where a mapping belongs, a number for
a step list, null for a block): every reader and every static check body takes them without
raising. Generated from the known-good fixtures and infra/ by replacing one node at a time."""

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.catalog import load_catalog
from policies.registry import all_checks, families
from policies.sources import Sources
from policies.terraform import load_project
from policies.tree import Tree
from tests.helpers import FIXTURES, ROOT

CHECKS = all_checks()
CATALOG = load_catalog()
FAMILIES = families()
SAMPLES = sorted(
    p
    for root in (
        ROOT / "infra",
        *(FIXTURES / f / "good" for f in ("metrics", "pipeline", "secrets")),
    )
    for p in root.rglob("*")
    if p.suffix in (".yaml", ".yml", ".json") and p.is_file()
)
WRONG = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["name", "uses", "expr", "kind"]), st.none(), max_size=2),
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("__start_line__", "__end_line__"):  # the parser's own markers
                found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


def _replace(node: Any, at: tuple[Any, ...], value: Any) -> Any:
    if not at:
        return value
    node[at[0]] = _replace(node[at[0]], at[1:], value)
    return node


def _families(tree: Sources, names: tuple[str, ...]) -> None:
    """Every named family's reader and every one of its static check bodies on the tree."""
    model = Tree(tree)
    for name in names:
        inventory = FAMILIES[name].read(model)
        checked = [
            p
            for p in CATALOG.values()
            if p.family == name
            and "static" in p.tiers
            and p.id in CHECKS
            and p.id != "PIPE-005"  # zizmor: its own process, tested on hostile trees
        ]
        for policy in checked:
            CHECKS[policy.id](inventory, policy)


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_wrong_shapes_never_make_a_reader_or_check_raise(data, tmp_path_factory):
    sample = data.draw(st.sampled_from(SAMPLES), label="sample")
    text = sample.read_text()
    documents = [json.loads(text)] if sample.suffix == ".json" else list(yaml.safe_load_all(text))
    index = data.draw(st.integers(0, len(documents) - 1), label="document")
    at = data.draw(st.sampled_from(_paths(documents[index])), label="path")
    documents[index] = _replace(documents[index], at, data.draw(WRONG, label="value"))
    directory: Path = tmp_path_factory.mktemp("shape")
    target = directory / sample.name
    if sample.suffix == ".json":
        target.write_text(json.dumps(documents[0]))
    else:
        target.write_text(yaml.safe_dump_all(documents))
    _families(Sources(directory), ("secrets", "metrics", "pipeline", "logging", "k8s"))


TERRAFORM = sorted((ROOT / "infra" / "terraform").rglob("*.tf"))
# Where a block's body starts in python-hcl2's shape: (type, index, label...). Above it the
# shape is the parser's (or policies.tfjson's), the same for every input.
PARSED = Sources(ROOT / "infra")
load_project(PARSED)
BODY_DEPTH = {"resource": 4, "data": 4, "variable": 3, "output": 3, "module": 3, "provider": 3}


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_wrong_shapes_in_terraform_never_make_a_reader_or_check_raise(data):
    """The same for Terraform as python-hcl2 or the JSON syntax can give it: one node inside a
    block's body replaced (a nested block list by a string, a statement by a number, ...)."""
    tree = Sources(ROOT / "infra")
    tree._values = dict(PARSED._values)  # every file parsed once for all examples
    path = data.draw(st.sampled_from(TERRAFORM), label="file")
    parsed = json.loads(json.dumps(tree.terraform(path)))
    inside = [at for at in _paths(parsed) if at and len(at) > BODY_DEPTH.get(at[0], 2)]
    at = data.draw(st.sampled_from(inside), label="path")
    tree._values[("terraform", path)] = _replace(parsed, at, data.draw(WRONG, label="value"))
    _families(tree, ("waf", "secrets", "alarms"))
