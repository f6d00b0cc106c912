"""The WAF family's session fixtures: the declared and the deployed inventory."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


@pytest.fixture(scope="session")
def waf_static(terraform_project: Any) -> Any:
    """The WAF inventory declared in --infra's Terraform."""
    from policies.waf.static import read_static

    return read_static(terraform_project)


@pytest.fixture(scope="session")
def waf_live(pytestconfig: pytest.Config, aws_target: Lazy[Any]) -> Lazy[Any]:
    """The WAF inventory deployed at the live target."""

    def read() -> Any:
        if pytestconfig.getoption("--target") == "localstack":
            pytest.skip(
                "LocalStack's free edition does not serve wafv2:"
                " WAF live checks need --target local or aws"
            )
        from policies.targets.aws import live_read
        from policies.waf.live import read_live

        target = aws_target.get()
        return live_read(target, "WAF live read", lambda: read_live(target))

    return Lazy(read)
