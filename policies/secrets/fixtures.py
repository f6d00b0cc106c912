"""The secrets family's live fixture: the deployed secrets' metadata (the declared ones are
`secrets_static`)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


@pytest.fixture(scope="session")
def secrets_live(aws_target: Lazy[Any], secrets_static: Any) -> Lazy[Any]:
    """The deployed secrets matching the declared ones (metadata only, never values)."""

    def read() -> Any:
        from policies.secrets.live import read_live
        from policies.targets.aws import live_read

        target = aws_target.get()
        return live_read(target, "Secrets live read", lambda: read_live(target, secrets_static))

    return Lazy(read)
