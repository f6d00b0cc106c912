"""Shared plumbing of the Secrets Manager rotation functions.

Secrets Manager rotates a secret by invoking the function four times with the same
ClientRequestToken (the id of the new version) and Step = createSecret, setSecret,
testSecret, finishSecret. This module holds what every rotation function does the same
way: read the event, validate the token against the secret's versions, read versions by
stage, and finish by moving AWSCURRENT. The secret-specific createSecret / setSecret /
testSecret live in the function modules.

Nothing here logs a secret value: log lines carry the secret ARN, the step and the token.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

# A step receives the Secrets Manager client, the secret ARN and the token.
StepFunction = Callable[[Any, str, str], None]


class RotationError(Exception):
    """The rotation cannot go on; Secrets Manager retries the step or marks it failed."""


def secrets_client() -> Any:
    """A Secrets Manager client, built per invocation.

    SECRETS_MANAGER_ENDPOINT overrides the endpoint: a VPC interface endpoint in AWS, a
    local emulator in tests. Unset or empty means the SDK's default endpoint.
    """
    endpoint = os.environ.get("SECRETS_MANAGER_ENDPOINT") or None
    return boto3.client("secretsmanager", endpoint_url=endpoint)


def run_rotation(event: Mapping[str, Any], steps: Mapping[str, StepFunction]) -> None:
    """Validate a rotation event and run the requested step.

    Args:
        event: the Lambda event: SecretId, ClientRequestToken, Step.
        steps: the function's implementation of each of the four steps.

    Raises:
        RotationError: the event or the secret's state does not allow the step.
    """
    try:
        arn = event["SecretId"]
        token = event["ClientRequestToken"]
        step = event["Step"]
    except KeyError as exc:
        raise RotationError(f"rotation event lacks {exc.args[0]}") from exc
    if step not in steps:
        raise RotationError(f"unknown rotation step {step!r}")

    client = secrets_client()
    if not needs_step(client, arn, token):
        return
    logger.info("%s: starting for %s version %s", step, arn, token)
    steps[step](client, arn, token)
    logger.info("%s: done for %s version %s", step, arn, token)


def needs_step(client: Any, arn: str, token: str) -> bool:
    """Check that the token may be rotated to; False when it is already AWSCURRENT.

    The same checks as AWS's rotation function templates: rotation is enabled on the
    secret, the token names one of its versions, and that version is staged AWSPENDING.
    """
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"secret {arn} is not enabled for rotation")
    versions: dict[str, list[str]] = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} has no stage for rotation of secret {arn}")
    if "AWSCURRENT" in versions[token]:
        logger.info("version %s is already AWSCURRENT for secret %s", token, arn)
        return False
    if "AWSPENDING" not in versions[token]:
        raise RotationError(f"version {token} is not set as AWSPENDING for secret {arn}")
    return True


def get_secret_string(client: Any, arn: str, stage: str, token: str | None = None) -> str:
    """The secret string of the version with this stage (and this id, if given).

    Raises the SDK's ResourceNotFoundException when no such version holds a value.
    """
    kwargs: dict[str, str] = {"SecretId": arn, "VersionStage": stage}
    if token is not None:
        kwargs["VersionId"] = token
    return client.get_secret_value(**kwargs).get("SecretString") or ""


def find_secret_string(client: Any, arn: str, stage: str, token: str | None = None) -> str:
    """Like get_secret_string, but '' when the version does not exist or holds no value.

    AWS creates the pending version of a rotation without a value (reading it fails with
    ResourceNotFoundException); an emulator may store an empty string instead.
    """
    try:
        return get_secret_string(client, arn, stage, token)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return ""
        raise


def put_pending(client: Any, arn: str, token: str, secret_string: str) -> None:
    """Store the new value as the token's version, staged AWSPENDING."""
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=secret_string,
        VersionStages=["AWSPENDING"],
    )


def finish_secret(client: Any, arn: str, token: str) -> None:
    """finishSecret: move AWSCURRENT to the token's version.

    Secrets Manager then labels the version it was removed from AWSPREVIOUS. AWSPENDING
    is removed from the token afterwards so that no version is left pending, one of the
    two end states the RotateSecret API accepts before the next rotation.
    """
    metadata = client.describe_secret(SecretId=arn)
    current = next(
        (
            version
            for version, stages in metadata.get("VersionIdsToStages", {}).items()
            if "AWSCURRENT" in stages
        ),
        None,
    )
    if current == token:
        logger.info("finishSecret: version %s already AWSCURRENT for %s", token, arn)
    else:
        move: dict[str, str] = {"SecretId": arn, "VersionStage": "AWSCURRENT"}
        move["MoveToVersionId"] = token
        if current is not None:
            move["RemoveFromVersionId"] = current
        client.update_secret_version_stage(**move)
        logger.info("finishSecret: moved AWSCURRENT from %s to %s for %s", current, token, arn)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=token
    )
