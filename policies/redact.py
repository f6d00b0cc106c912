"""Secret values read from a target, masked wherever the suite writes: assertion messages,
captured logs and output, JUnit, SARIF, the summary. Quotes of scanned input are kept short and
masked too (`excerpt`)."""

from __future__ import annotations

import re
import threading
from typing import Any

MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words
EXCERPT_WIDTH = 40
# longest first, so a secret containing another is masked whole; replaced, never changed in
# place (a thread masking while another registers sees the old tuple or the new one)
_secrets: tuple[str, ...] = ()
_registering = threading.Lock()
# A quoted string's content, and any long unbroken token (keys, tokens, hashes, base64).
_QUOTED = re.compile(r"""(["'])((?:\\.|(?!\1).)*)\1""")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_.:@%-]{12,}")


def register(*values: object) -> None:
    """Remember values that must never appear in any output."""
    global _secrets
    with _registering:
        new = {v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH} - set(_secrets)
        if new:
            _secrets = tuple(sorted([*_secrets, *new], key=len, reverse=True))


def mask(text: str) -> str:
    """The text with every registered value masked (and undecodable bytes of file names shown
    as \\xNN, so JUnit, SARIF and the summary can always be written)."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return printable(text)


def masked(value: Any) -> Any:
    """A report value with registered secrets masked: text, and each text of a list (a text
    without a secret registered and all ASCII is returned as it is, without a call)."""
    if isinstance(value, str):
        return mask(value) if _secrets or not value.isascii() else value
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def printable(text: str) -> str:
    """A file system string with undecodable bytes (surrogate escapes) as \\xNN."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _mask_quoted(match: re.Match[str]) -> str:
    quote, content = match.group(1), match.group(2)
    return f"{quote}{MASK if len(content) > 3 else content}{quote}"


def excerpt(line: str, column: int | None, width: int = EXCERPT_WIDTH) -> str:
    """At most `width` characters of a line of scanned input around `column` (1-based), with
    the contents of quoted strings and every long token masked: enough to find the spot, never
    a value."""
    text = line.replace("\t", " ").strip("\r\n")
    start = max(0, (column or 1) - 1 - width // 2) if len(text) > width else 0
    shown = text[start : start + width].strip()
    shown = _QUOTED.sub(_mask_quoted, shown)
    shown = _LONG_TOKEN.sub(lambda m: m.group(0)[:3] + MASK, shown)
    shown = "".join(c if c.isprintable() else "?" for c in shown)
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(text) else ""
    return mask(f"{prefix}{shown}{suffix}")
