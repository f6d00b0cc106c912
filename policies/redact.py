"""Secret values read from a target, masked wherever the suite writes: assertion messages,
captured logs and output, JUnit, SARIF, the summary."""

from __future__ import annotations

MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words
_secrets: set[str] = set()


def register(*values: object) -> None:
    """Remember values that must never appear in any output."""
    for value in values:
        if isinstance(value, str) and len(value) >= MIN_LENGTH:
            _secrets.add(value)


def mask(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
