"""What a run knows before any test: the scanned tree, its configuration and the effective
catalog (the packaged defaults with the repository's parameters), kept in pytest's stash; and
the waivers in force. The tree's own configuration and the waivers file it names are read with
the tree's rules (inside --infra, no link out); --config and --waivers are read as given."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policies.catalog import load_catalog
from policies.config import Config, config_path, load_config
from policies.model import Policy, Waiver
from policies.registry import families
from policies.waivers import load_waivers


@dataclass(frozen=True)
class RunSettings:
    infra: Path
    config: Config
    catalog: dict[str, Policy]
    plan: dict[str, Any] | None = None  # --tf-plan: `terraform show -json` of a root's plan
    waf_cases: tuple[Path, ...] = ()  # --waf-cases: WAF case files named on the command line


RUN = pytest.StashKey[RunSettings]()


def load_settings(
    infra: Path,
    given_config: str | None,
    plan: dict[str, Any] | None = None,
    waf_cases: tuple[Path, ...] = (),
) -> RunSettings:
    """The settings for a tree; raises ConfigError naming the file, key and line."""
    tree = None if given_config else infra
    path = config_path(infra, given_config)
    config = load_config(path, load_catalog(), set(families()), tree)
    return RunSettings(infra, config, config.effective(load_catalog()), plan, waf_cases)


def settings(config: pytest.Config) -> RunSettings:
    return config.stash[RUN]


def waivers_file(config: pytest.Config) -> Path | None:
    """--waivers, else the file the repository's configuration names, else none."""
    given = config.getoption("--waivers")
    if given:
        return Path(given).expanduser().resolve()
    return settings(config).config.waivers


def read_waivers(config: pytest.Config) -> list[Waiver]:
    """The waivers in force (none without a file); raises WaiverError naming the file."""
    path = waivers_file(config)
    if path is None:
        return []
    return load_waivers(
        path, None if config.getoption("--waivers") else settings(config).config.tree
    )
