"""The secrets family's session fixtures: Terraform and manifests as declared, the deployed
secrets' metadata."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


@pytest.fixture(scope="session")
def secrets_static(terraform_project: Any, yaml_files: Any) -> Any:
    """Secrets as declared: Terraform secrets, rotations, keys; ExternalSecrets; clear values."""
    from policies.secrets.static import read_static

    return read_static(terraform_project, yaml_files[0])


@pytest.fixture(scope="session")
def secrets_live(aws_target: Lazy[Any], secrets_static: Any) -> Lazy[Any]:
    """The deployed secrets matching the declared ones (metadata only, never values)."""

    def read() -> Any:
        from policies.secrets.live import read_live
        from policies.targets.aws import live_read

        target = aws_target.get()
        return live_read(target, "Secrets live read", lambda: read_live(target, secrets_static))

    return Lazy(read)
