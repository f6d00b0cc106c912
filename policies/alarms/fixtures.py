"""The alarms family's session fixtures: alarms and topics as declared and as deployed."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


@pytest.fixture(scope="session")
def alarms_static(terraform_project: Any) -> Any:
    """CloudWatch alarms, their topic and add-ons as declared in --infra's Terraform."""
    from policies.alarms.static import read_static

    return read_static(terraform_project)


@pytest.fixture(scope="session")
def alarms_live(aws_target: Lazy[Any]) -> Lazy[Any]:
    """The deployed CloudWatch alarms and SNS topics."""

    def read() -> Any:
        from policies.alarms.live import read_live
        from policies.targets.aws import live_read

        target = aws_target.get()
        return live_read(target, "Alarms live read", lambda: read_live(target))

    return Lazy(read)
