"""Secrets Manager rotation function: an opaque random secret (the JWT signing key).

The secret string is the key itself, 64 letters and digits. No other system holds it, so
setSecret and testSecret only check that the pending version has a value; consumers pick
up the new key when they next read AWSCURRENT (External Secrets Operator refreshes the
Kubernetes Secret well within the rotation interval).

Steps (same ClientRequestToken throughout):
    createSecret  AWSPENDING = GetRandomPassword(64, no punctuation), unless already stored
    setSecret     pending value is non-empty
    testSecret    pending value is non-empty
    finishSecret  move AWSCURRENT to the new version (rotation_common)
"""

from __future__ import annotations

import logging
from typing import Any

import rotation_common

logger = logging.getLogger()
logger.setLevel(logging.INFO)

SECRET_LENGTH = 64


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Lambda entry point: run the rotation step named in the event."""
    rotation_common.run_rotation(
        event,
        {
            "createSecret": create_secret,
            "setSecret": check_pending,
            "testSecret": check_pending,
            "finishSecret": rotation_common.finish_secret,
        },
    )


def create_secret(client: Any, arn: str, token: str) -> None:
    """createSecret: store a new random value as the token's AWSPENDING version.

    A pending value that differs from the current one (an earlier attempt of this
    rotation) is kept; an empty one, or a copy of the current value, is replaced.
    """
    current = rotation_common.find_secret_string(client, arn, "AWSCURRENT")
    pending = rotation_common.find_secret_string(client, arn, "AWSPENDING", token)
    if pending and pending != current:
        logger.info("createSecret: version %s already holds a new value", token)
        return
    value = client.get_random_password(PasswordLength=SECRET_LENGTH, ExcludePunctuation=True)[
        "RandomPassword"
    ]
    rotation_common.put_pending(client, arn, token, value)
    logger.info("createSecret: stored a new value as AWSPENDING version %s", token)


def check_pending(client: Any, arn: str, token: str) -> None:
    """setSecret / testSecret: the pending version must hold a non-empty value."""
    if not rotation_common.find_secret_string(client, arn, "AWSPENDING", token):
        raise rotation_common.RotationError(f"version {token} of {arn} holds no value")
