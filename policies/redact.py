"""Secret values read from a target, masked wherever the suite writes: assertion messages,
captured logs and output, JUnit, SARIF, the summary. Quotes of scanned input are kept short and
masked too (`excerpt`). Text from the tree or a target is made inert before it is shown
(`inert`): no control character, no line a CI runner takes for a workflow command."""

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
    """Remember values that must never appear in any output (in the form they are shown in
    too: a multi-line key is shown with its newlines escaped)."""
    global _secrets
    with _registering:
        given = {v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH}
        new = {shown for v in given for shown in (v, inert(v))} - set(_secrets)
        if new:
            _secrets = tuple(sorted([*_secrets, *new], key=len, reverse=True))


def mask(text: str) -> str:
    """The text with every registered value masked, and inert (`inert`) line by line: its own
    newlines are kept, every other control character is escaped."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return "\n".join(inert(line) for line in text.split("\n"))


def masked(value: Any) -> Any:
    """A report value with registered secrets masked and inert: text, and each text of a list
    (a text without a secret registered and already inert is returned as it is)."""
    if isinstance(value, str):
        return mask(value) if _secrets or not _is_inert(value) else value
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def inert(text: str) -> str:
    """Text from the scanned tree or a target made safe to show on one line of a terminal or
    CI log: control characters (C0, DEL, C1), line and paragraph separators, invisible format
    characters and undecodable bytes of file names (surrogate escapes) as \\xNN or \\uNNNN,
    and the prefixes of GitHub workflow commands (`::` at the start after blanks, `##[`
    anywhere) broken by escaping their first character."""
    if _is_inert(text):
        return text
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape(c) for c in text)
    if "##[" in text:
        text = text.replace("##[", "\\x23#[")
    blank = len(text) - len(text.lstrip())
    if text.startswith("::", blank):
        text = f"{text[:blank]}\\x3a{text[blank + 1 :]}"
    return text


def _is_inert(text: str) -> bool:
    return text.isprintable() and "##[" not in text and not text.lstrip().startswith("::")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8
        code -= 0xDC00
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


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
