"""The scanned tree's session fixtures: --infra, its files read once through the gatekeeper
(policies.sources), its Terraform model and its YAML documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policies.sources import Sources

SOURCES = pytest.StashKey[Sources]()  # the session's Sources, for the run's summary line


@pytest.fixture(scope="session")
def infra_dir(pytestconfig: pytest.Config) -> Path:
    """The platform tree under verification (--infra)."""
    return Path(pytestconfig.getoption("--infra")).expanduser().resolve()


@pytest.fixture(scope="session")
def sources(pytestconfig: pytest.Config, infra_dir: Path) -> Sources:
    """The files under --infra, each read and parsed once per session; HCL parses cached in
    pytest's cache directory, signed with this machine's key (`--cache-clear` empties it,
    `-p no:cacheprovider` disables it)."""
    cache = getattr(pytestconfig, "cache", None)
    worker = getattr(pytestconfig, "workerinput", {"workerid": "gw0", "workercount": 1})
    share = (int(worker["workerid"].removeprefix("gw")), int(worker["workercount"]))
    tree = Sources(infra_dir, cache.mkdir("pingvas-hcl") if cache else None, share)
    pytestconfig.stash[SOURCES] = tree
    return tree


@pytest.fixture(scope="session")
def terraform_project(sources: Sources) -> Any:
    """All Terraform under --infra, parsed once per session."""
    from policies.terraform import load_project

    return load_project(sources)


@pytest.fixture(scope="session")
def yaml_files(sources: Sources) -> Any:
    """Every YAML file under --infra, parsed once (with line numbers); errors kept."""
    from policies.yamlfile import load_yaml_files

    errors: list[Any] = []
    files = load_yaml_files(sources, errors)
    return files, errors
