"""boto3 clients for a live target: one endpoint, one region, bounded timeouts and retries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30


@dataclass(frozen=True)
class AwsTarget:
    """Where live AWS probes go: an endpoint (moto, LocalStack) or real AWS when None."""

    endpoint: str | None
    region: str = "us-east-1"
    local_credentials: bool = False

    def client(self, service: str) -> Any:
        import boto3  # heavy; imported only when a live test needs it
        from botocore.config import Config

        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        if self.local_credentials:
            kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")
        return boto3.client(service, **kwargs)


def arn_name(arn: str) -> str:
    """The resource name at the end of an ARN (deliverystream/NAME, log-group:NAME, :::bucket)."""
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    for sep in ("/", ":"):
        tail = tail.rsplit(sep, 1)[-1] if sep in tail else tail
    return tail
