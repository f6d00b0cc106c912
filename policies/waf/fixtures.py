"""The WAF family's live fixture: the deployed inventory (the declared one is `waf_static`)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.lazy import Lazy


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
