"""Secrets Manager rotation function: single-user rotation of a PostgreSQL login.

The secret is a JSON object with engine ("postgres"), host, port, username, password,
dbname and optionally sslmode (default "prefer"). The user changes its own password, so
the function needs no other database credential; while the new password is being set and
tested the old one keeps working, and applications that read AWSCURRENT switch at
finishSecret.

Steps (same ClientRequestToken throughout):
    createSecret  AWSPENDING = AWSCURRENT with a new password from GetRandomPassword
                  (kept if an earlier attempt already stored one)
    setSecret     log in with AWSCURRENT (or AWSPREVIOUS), ALTER ROLE ... PASSWORD
    testSecret    log in with AWSPENDING and run SELECT 1
    finishSecret  move AWSCURRENT to the new version (rotation_common)

Passwords never reach a log line or an exception message, and the server never sees the
new password in clear: it receives a SCRAM verifier computed by libpq on this side.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
import rotation_common
from psycopg import sql

logger = logging.getLogger()
logger.setLevel(logging.INFO)

PASSWORD_LENGTH = 32
# Same exclusions as the Terraform module's initial password: characters that break
# connection URLs (@ / \), shell quoting (" ') and the space.
EXCLUDE_CHARACTERS = "\"@/\\' "
CONNECT_TIMEOUT_S = 5
DEFAULT_PORT = 5432
DEFAULT_SSLMODE = "prefer"
REQUIRED_KEYS = ("host", "username", "password")


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Lambda entry point: run the rotation step named in the event."""
    rotation_common.run_rotation(
        event,
        {
            "createSecret": create_secret,
            "setSecret": set_secret,
            "testSecret": test_secret,
            "finishSecret": rotation_common.finish_secret,
        },
    )


def create_secret(client: Any, arn: str, token: str) -> None:
    """createSecret: store AWSCURRENT with a new password as the token's AWSPENDING version.

    A pending version that already holds a different password (an earlier attempt of
    this rotation) is kept, so a retried step does not change the password again. An
    empty or unparseable pending value counts as missing.
    """
    current = parse_secret(rotation_common.get_secret_string(client, arn, "AWSCURRENT"))
    pending = _parse_object(rotation_common.find_secret_string(client, arn, "AWSPENDING", token))
    if pending and pending.get("password") and pending["password"] != current["password"]:
        logger.info("createSecret: version %s already holds a new password", token)
        return
    new = dict(current)
    new["password"] = client.get_random_password(
        PasswordLength=PASSWORD_LENGTH, ExcludeCharacters=EXCLUDE_CHARACTERS
    )["RandomPassword"]
    rotation_common.put_pending(client, arn, token, json.dumps(new))
    logger.info("createSecret: stored a new password as AWSPENDING version %s", token)


def set_secret(client: Any, arn: str, token: str) -> None:
    """setSecret: make the pending password the user's password in PostgreSQL.

    Nothing to do when the pending password already logs in. Otherwise log in with the
    current password (the previous one as a fallback, for a rotation that failed after
    setSecret) and change the role's password.
    """
    pending = parse_secret(rotation_common.get_secret_string(client, arn, "AWSPENDING", token))
    current = parse_secret(rotation_common.get_secret_string(client, arn, "AWSCURRENT"))
    if _target(pending) != _target(current):
        raise rotation_common.RotationError(
            "setSecret: AWSPENDING names another host, port, database or user than AWSCURRENT"
        )

    conn = login(pending)
    if conn is not None:
        conn.close()
        logger.info("setSecret: the AWSPENDING password already logs in")
        return

    conn = login(current)
    if conn is None:
        previous = _parse_object(rotation_common.find_secret_string(client, arn, "AWSPREVIOUS"))
        if previous and _is_secret(previous) and _target(previous) == _target(current):
            conn = login(previous)
    if conn is None:
        raise rotation_common.RotationError(
            "setSecret: cannot log in with the AWSCURRENT or AWSPREVIOUS password"
        )
    with conn:
        set_password(conn, pending["username"], pending["password"])
    logger.info("setSecret: changed the password of role %s", pending["username"])


def test_secret(client: Any, arn: str, token: str) -> None:
    """testSecret: the pending secret must log in and run a query."""
    pending = parse_secret(rotation_common.get_secret_string(client, arn, "AWSPENDING", token))
    conn = login(pending)
    if conn is None:
        raise rotation_common.RotationError(
            "testSecret: cannot log in with the AWSPENDING password"
        )
    with conn:
        conn.execute("SELECT 1").fetchone()
    logger.info("testSecret: the AWSPENDING password logs in")


def set_password(conn: psycopg.Connection[Any], username: str, password: str) -> None:
    """ALTER ROLE username WITH PASSWORD, on a connection where that is allowed.

    PostgreSQL does not accept bind parameters in utility statements such as ALTER ROLE,
    so the statement is composed: the role as an identifier, the password as a literal.
    The literal is not the password itself but its verifier, encrypted by libpq with the
    server's password_encryption method (PQencryptPasswordConn, as psql's \\password
    does), so the clear password appears in no statement the server may log.
    """
    verifier = conn.pgconn.encrypt_password(password.encode(), username.encode()).decode()
    conn.execute(
        sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
            sql.Identifier(username), sql.Literal(verifier)
        )
    )


def login(secret: dict[str, Any]) -> psycopg.Connection[Any] | None:
    """A connection as the secret's user, or None if the server refuses it.

    Only the exception class and SQLSTATE are logged: never the message text, which
    might echo connection parameters.
    """
    host, port, dbname, username = _target(secret)
    try:
        return psycopg.connect(
            host=host,
            port=port,
            dbname=dbname,
            user=username,
            password=secret["password"],
            sslmode=secret.get("sslmode") or DEFAULT_SSLMODE,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
    except psycopg.OperationalError as exc:
        logger.info("login as %s on %s:%s failed: %s", username, host, port, _failure(exc, secret))
        return None


def _failure(exc: psycopg.OperationalError, secret: dict[str, Any]) -> str:
    """Why a login failed, without the password.

    The server's FATAL text (e.g. password authentication failed for user ...) is kept;
    anything else is reduced to the exception class. The password is masked regardless.
    """
    text = str(exc)
    reason = text.rsplit("FATAL:", 1)[1].strip() if "FATAL:" in text else type(exc).__name__
    return reason.replace(str(secret["password"]), "****")


def parse_secret(text: str) -> dict[str, Any]:
    """The secret's JSON object, checked for the keys a PostgreSQL rotation needs."""
    secret = _parse_object(text)
    if secret is None:
        raise rotation_common.RotationError("the secret value is not a JSON object")
    if not _is_secret(secret):
        missing = [key for key in REQUIRED_KEYS if not secret.get(key)]
        raise rotation_common.RotationError(
            f"the secret is not a PostgreSQL login (engine {secret.get('engine')!r},"
            f" missing {missing})"
        )
    return secret


def _is_secret(secret: dict[str, Any]) -> bool:
    return secret.get("engine", "postgres") == "postgres" and all(
        secret.get(key) for key in REQUIRED_KEYS
    )


def _parse_object(text: str) -> dict[str, Any] | None:
    """A JSON object from text; None for an empty, unparseable or non-object value."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _target(secret: dict[str, Any]) -> tuple[str, int, str, str]:
    """(host, port, dbname, username): where and as whom the secret logs in."""
    return (
        str(secret["host"]),
        int(secret.get("port") or DEFAULT_PORT),
        str(secret.get("dbname") or "postgres"),
        str(secret["username"]),
    )
