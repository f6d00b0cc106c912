"""The scanned tree's session fixtures: --infra, its files read once through the gatekeeper
(policies.sources), and each family's static inventory, read from one `Tree`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from policies.registry import Family, families
from policies.session import settings
from policies.sources import Sources

SOURCES = pytest.StashKey[Sources]()  # the session's Sources, for the run's summary line


@dataclass
class Tree:
    """A tree's files and the models every family reads from them, each built once."""

    sources: Sources
    plan: dict[str, Any] | None = None  # --tf-plan: the Terraform model is that plan's
    waf_cases: tuple[Path, ...] = ()  # --waf-cases: case files named outside the tree

    @cached_property
    def terraform(self) -> Any:
        from policies.terraform import load_project

        project = load_project(self.sources)
        if self.plan is None:
            return project
        from policies.tfplan import project_from_plan

        return project_from_plan(self.plan, project)

    @cached_property
    def yaml(self) -> list[Any]:
        """Every YAML file that parses (the others are the SRC policies' findings)."""
        from policies.yamlfile import load_yaml_files

        return load_yaml_files(self.sources, [])


@pytest.fixture(scope="session")
def infra_dir(pytestconfig: pytest.Config) -> Path:
    """The platform tree under verification (--infra)."""
    return settings(pytestconfig).infra


def session_sources(config: pytest.Config) -> Sources:
    """The files under --infra (less what the configuration excludes), each read and parsed once
    per session; HCL parses cached in pytest's cache directory, signed with this machine's key
    (`--cache-clear` empties it, `-p no:cacheprovider` disables it)."""
    if SOURCES not in config.stash:
        cache = getattr(config, "cache", None)
        worker = getattr(config, "workerinput", {"workerid": "gw0", "workercount": 1})
        share = (int(worker["workerid"].removeprefix("gw")), int(worker["workercount"]))
        config.stash[SOURCES] = Sources(
            settings(config).infra,
            cache.mkdir("pingvas-hcl") if cache else None,
            share,
            settings(config).config.exclude,
            config.getoption("--hcl-parser"),
            settings(config).config.read_fetched_modules,
        )
    return config.stash[SOURCES]


def pytest_sessionstart(session: pytest.Session) -> None:
    """The tree's HCL starts parsing on the other CPUs while pytest collects (a process that
    runs tests: not an xdist controller)."""
    config = session.config
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    found = session_sources(config)
    config.add_cleanup(found.cancel_prefetch)
    found.prefetch_hcl()


@pytest.fixture(scope="session")
def sources(pytestconfig: pytest.Config, infra_dir: Path) -> Sources:
    """The session's Sources (session_sources)."""
    return session_sources(pytestconfig)


@pytest.fixture(scope="session")
def tree(pytestconfig: pytest.Config, sources: Sources) -> Tree:
    """The scanned tree's models (Terraform, YAML), built on first use."""
    run = settings(pytestconfig)
    return Tree(sources, run.plan, run.waf_cases)


def _static_fixture(family: Family) -> Callable[..., Any]:
    def inventory(tree: Tree) -> Any:
        assert family.read is not None
        return family.read(tree)

    inventory.__doc__ = f"The {family.name} family's inventory as the tree declares it."
    return pytest.fixture(scope="session", name=f"{family.name}_static")(inventory)


for _family in families().values():  # one `<family>_static` fixture per family, from its reader
    if _family.read is not None:
        globals()[f"_{_family.name}_static"] = _static_fixture(_family)
