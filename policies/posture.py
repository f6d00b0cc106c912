"""What a run may execute and write, from its options.

- The static tier reads the files under --infra and nothing else; it never executes or imports
  them.
- The live tier runs the tree's own code only where that is its purpose, on the embedded stack
  (--target local): Terraform that creates resources, the platform's apps, its rotation handler
  and session helper. Terraform that would run commands or read outside the tree is refused
  unless --allow-exec.
- Nothing writes to a user's systems (--target aws or localstack, --aws-endpoint, --pg-dsn)
  unless --allow-mutation: the embedded stack and the throwaway database are the suite's own.
"""

from __future__ import annotations

from typing import Literal

import pytest

System = Literal["aws", "postgres"]


def embedded(config: pytest.Config, system: System) -> bool:
    """Whether the system is the suite's own throwaway one (moto stack, PostgreSQL cluster)."""
    if system == "aws":
        return config.getoption("--target") == "local" and not config.getoption("--aws-endpoint")
    return not config.getoption("--pg-dsn")


def may_write(config: pytest.Config, system: System) -> bool:
    """Writes are allowed on the suite's own systems, and on a user's with --allow-mutation."""
    return embedded(config, system) or bool(config.getoption("--allow-mutation"))


def require_write(config: pytest.Config, system: System, what: str) -> None:
    """Skip a probe that writes to a user's system when --allow-mutation was not given."""
    if not may_write(config, system):
        where = "the database of --pg-dsn" if system == "postgres" else "the AWS target"
        pytest.skip(f"{what} writes to {where}: read-only without --allow-mutation")


def require_local_code(config: pytest.Config, what: str) -> None:
    """Skip a test that runs the tree's own code anywhere but on --target local."""
    if config.getoption("--target") != "local":
        pytest.skip(f"{what} runs the platform's own code: only on --target local")
