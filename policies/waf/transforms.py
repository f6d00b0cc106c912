"""AWS WAF text transformations over the bytes of a request component.

Sources: the AWS WAF developer guide, "Text transformation options"
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-transformation.html),
and the WAFV2 API reference, TextTransformation
(https://docs.aws.amazon.com/waf/latest/APIReference/API_TextTransformation.html). AWS applies
the transformations from the lowest priority to the highest, each to the previous one's output.

Where the guide is silent, this module says so at the function and follows ModSecurity's
transformation of the same name (AWS's list and wording come from it). Transformations whose
behaviour neither source fixes (CMD_LINE_WIN, CMD_LINE_UNIX, JS_DECODE_EXT) are not guessed:
`transform` raises Undecidable for them, as for a type it does not know or an Unknown value."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from typing import Any

from policies.tfeval import Unknown


class Undecidable(Exception):  # noqa: N818 - a result, not an error
    """The simulator cannot decide (an Unknown value, an opaque statement, a transformation
    whose behaviour is not documented); the message says why."""


WHITESPACE = b" \t\n\r\v\f"
_COMPRESSED = re.compile(rb" {2,}")


def none(value: bytes) -> bytes:
    return value


def lowercase(value: bytes) -> bytes:
    """A-Z to a-z only (the guide: "Convert uppercase letters (A-Z) to lowercase (a-z)")."""
    return value.lower()  # bytes.lower() maps ASCII letters only


def uppercase(value: bytes) -> bytes:
    """a-z to A-Z (the guide names it; ASCII letters, as LOWERCASE)."""
    return value.upper()


def compress_white_space(value: bytes) -> bytes:
    """\\f \\t \\n \\r \\v and non-breaking space (decimal 160) become spaces, then every run of
    spaces becomes one space."""
    for char in b"\f\t\n\r\v\xa0":
        value = value.replace(bytes([char]), b" ")
    return _COMPRESSED.sub(b" ", value)


def cmd_line(value: bytes) -> bytes:
    """The guide's five steps: delete \\ " ' ^; delete spaces before / and (; replace , and ;
    with a space; replace multiple spaces with one; lowercase A-Z. The guide lists them as a set;
    applied in an order under which each holds of the output."""
    for char in b"\\\"'^":
        value = value.replace(bytes([char]), b"")
    value = value.replace(b",", b" ").replace(b";", b" ")
    value = _COMPRESSED.sub(b" ", value)
    value = re.sub(rb" +(?=[/(])", b"", value)
    return value.lower()


def url_decode(value: bytes) -> bytes:
    """%HH sequences to their byte. The guide says only "Decode a URL-encoded value": as
    ModSecurity's urlDecode, '+' becomes a space and an invalid %-sequence stays as written."""
    return _url_decode(value, uni=False)


def url_decode_uni(value: bytes) -> bytes:
    """URL_DECODE plus Microsoft's %uHHHH: a code in the full-width ASCII range FF01-FF5E maps
    to its ASCII character (the higher byte adjusts the lower); otherwise the lower byte only."""
    return _url_decode(value, uni=True)


def _url_decode(value: bytes, uni: bool) -> bytes:
    out, i = bytearray(), 0
    while i < len(value):
        char = value[i]
        if uni and value[i : i + 2].lower() == b"%u" and _is_hex(value[i + 2 : i + 6], 4):
            out.append(_wide(int(value[i + 2 : i + 6], 16)))
            i += 6
        elif char == 0x25 and _is_hex(value[i + 1 : i + 3], 2):  # %
            out.append(int(value[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(0x20 if char == 0x2B else char)  # '+'
            i += 1
    return bytes(out)


def _is_hex(chunk: bytes, length: int) -> bool:
    return len(chunk) == length and all(c in b"0123456789abcdefABCDEF" for c in chunk)


def _wide(code: int) -> int:
    """The byte a 16-bit escape decodes to: full-width ASCII (FF01-FF5E) to ASCII, else the
    lower byte (the guide's URL_DECODE_UNI and JS_DECODE)."""
    if 0xFF01 <= code <= 0xFF5E:
        return (code & 0xFF) + 0x20
    return code & 0xFF


_ENTITY = re.compile(rb"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|(quot|nbsp|lt|gt|amp));")
_NAMED = {b"quot": b'"', b"nbsp": b"\xa0", b"lt": b"<", b"gt": b">", b"amp": b"&"}


def html_entity_decode(value: bytes) -> bytes:
    """&quot; &nbsp; (to decimal 160) &lt; &gt; &#xhhhh; &#nnnn; as the guide lists them; &amp;
    is not in the guide's list and is decoded as ModSecurity does. A numeric entity becomes its
    character in UTF-8 (the guide: "the corresponding characters"); entities need their ';'."""

    def one(match: re.Match[bytes]) -> bytes:
        hexa, decimal, name = match.groups()
        if name:
            return _NAMED[name]
        code = int(hexa, 16) if hexa else int(decimal)
        return chr(code).encode("utf-8", "surrogatepass") if code <= 0x10FFFF else match[0]

    return _ENTITY.sub(one, value)


_B64 = re.compile(rb"[A-Za-z0-9+/]")


def base64_decode(value: bytes) -> bytes:
    """Decode Base64. The guide does not say what happens at a character that is not Base64:
    as ModSecurity, decoding stops there (padding '=' ends the input)."""
    valid = re.match(rb"[A-Za-z0-9+/]*", value)
    return _b64(valid[0] if valid else b"")


def base64_decode_ext(value: bytes) -> bytes:
    """Decode Base64, ignoring the characters that are not valid (the guide: "a forgiving
    implementation that ignores characters that aren't valid")."""
    return _b64(b"".join(_B64.findall(value)))


def _b64(chars: bytes) -> bytes:
    chars = chars[: len(chars) - len(chars) % 4] if len(chars) % 4 == 1 else chars
    return base64.b64decode(chars + b"=" * (-len(chars) % 4))


def hex_decode(value: bytes) -> bytes:
    """A string of hexadecimal characters to the bytes they spell. The guide is silent on input
    that is not hex or of odd length: such input is left unchanged."""
    try:
        return binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        return value


def md5(value: bytes) -> bytes:
    """The MD5 hash of the input, in raw binary form (the guide)."""
    return hashlib.md5(value, usedforsecurity=False).digest()


def sha256(value: bytes) -> bytes:
    """The SHA-256 hash of the input; raw binary form as for MD5 (the guide does not say)."""
    return hashlib.sha256(value).digest()


_COMMENT = re.compile(rb"/\*.*?(?:\*/|\Z)", re.S)


def replace_comments(value: bytes) -> bytes:
    """Each C-style comment /* ... */ becomes one space (consecutive ones are not compressed);
    an unterminated comment too; a standalone */ is left as is."""
    return _COMMENT.sub(b" ", value)


def remove_comments_char(value: bytes) -> bytes:
    """Remove comment characters. The guide names it only: as ModSecurity's removeCommentsChar,
    the sequences /*, */, -- and # are removed."""
    return re.sub(rb"/\*|\*/|--|#", b"", value)


_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("f"): 12,
    ord("n"): 10,
    ord("r"): 13,
    ord("t"): 9,
    ord("v"): 11,
    ord("\\"): 92,
    ord("?"): 63,
    ord("'"): 39,
    ord('"'): 34,
}


def escape_seq_decode(value: bytes) -> bytes:
    """ANSI C escapes \\a \\b \\f \\n \\r \\t \\v \\\\ \\? \\' \\" \\xHH and octal (\\OOO: one to
    three octal digits, as ModSecurity; the guide writes \\0OOO); invalid escapes stay."""
    out, i = bytearray(), 0
    while i < len(value):
        if value[i] != 0x5C or i + 1 >= len(value):
            out.append(value[i])
            i += 1
            continue
        nxt = value[i + 1]
        octal = re.match(rb"[0-7]{1,3}", value[i + 1 : i + 4])
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in b"xX" and _is_hex(value[i + 2 : i + 4], 2):
            out.append(int(value[i + 2 : i + 4], 16))
            i += 4
        elif octal:
            out.append(int(octal[0], 8) & 0xFF)
            i += 1 + len(octal[0])
        else:
            out.append(value[i])
            i += 1
    return bytes(out)


def sql_hex_decode(value: bytes) -> bytes:
    """SQL hex literals to their bytes: 0x414243 -> ABC (the guide's example)."""
    return re.sub(rb"0[xX]((?:[0-9a-fA-F]{2})+)", lambda m: binascii.unhexlify(m[1]), value)


def css_decode(value: bytes) -> bytes:
    """CSS 2.x escapes: a backslash and 1-6 hex digits (one following whitespace consumed) is a
    character, of which up to two bytes are used (full-width FF01-FF5E to ASCII, else the low
    byte); a backslash before a non-hex character drops the backslash (ja\\vascript ->
    javascript, the guide's example); a backslash before a newline is removed (ModSecurity)."""
    out, i = bytearray(), 0
    while i < len(value):
        if value[i] != 0x5C or i + 1 >= len(value):
            out.append(value[i])
            i += 1
            continue
        digits = re.match(rb"[0-9a-fA-F]{1,6}", value[i + 1 : i + 7])
        if digits:
            out.append(_wide(int(digits[0], 16)))
            i += 1 + len(digits[0])
            if i < len(value) and value[i] in WHITESPACE:
                i += 1
        elif value[i + 1] == 0x0A:
            i += 2
        else:
            out.append(value[i + 1])
            i += 2
    return bytes(out)


def js_decode(value: bytes) -> bytes:
    """JavaScript escapes: \\uHHHH (full-width FF01-FF5E adjusted to ASCII, else the lower byte
    only, as the guide says), \\xHH, octal \\OOO, the C escapes of ESCAPE_SEQ_DECODE, and a
    backslash before any other character drops the backslash (ModSecurity's jsDecode)."""
    out, i = bytearray(), 0
    while i < len(value):
        if value[i] != 0x5C or i + 1 >= len(value):
            out.append(value[i])
            i += 1
            continue
        nxt = value[i + 1]
        octal = re.match(rb"[0-7]{1,3}", value[i + 1 : i + 4])
        if nxt in b"uU" and _is_hex(value[i + 2 : i + 6], 4):
            out.append(_wide(int(value[i + 2 : i + 6], 16)))
            i += 6
        elif nxt in b"xX" and _is_hex(value[i + 2 : i + 4], 2):
            out.append(int(value[i + 2 : i + 4], 16))
            i += 4
        elif octal:
            out.append(int(octal[0], 8) & 0xFF)
            i += 1 + len(octal[0])
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    return bytes(out)


def normalize_path(value: bytes) -> bytes:
    """Remove multiple slashes, self-references (./) and back-references (../) that are not at
    the beginning of the input. The guide is silent on a trailing slash and on '..' past the
    root: the trailing slash is kept and '..' above the root is dropped (ModSecurity)."""
    absolute = value.startswith(b"/")
    trailing = value.endswith((b"/", b"/.", b"/.."))
    out: list[bytes] = []
    for part in value.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if out and out[-1] != b"..":
                out.pop()
            elif not absolute:
                out.append(part)  # a back-reference at the beginning stays
            continue
        out.append(part)
    result = (b"/" if absolute else b"") + b"/".join(out)
    return result + b"/" if trailing and out else result


def normalize_path_win(value: bytes) -> bytes:
    """NORMALIZE_PATH after converting backslashes to forward slashes."""
    return normalize_path(value.replace(b"\\", b"/"))


def remove_nulls(value: bytes) -> bytes:
    return value.replace(b"\x00", b"")


def replace_nulls(value: bytes) -> bytes:
    return value.replace(b"\x00", b" ")


def remove_whitespace(value: bytes) -> bytes:
    """Remove all whitespace. The guide names it only: space, \\t \\n \\r \\v \\f and the
    non-breaking space are removed (ModSecurity's removeWhitespace)."""
    return bytes(c for c in value if c not in WHITESPACE + b"\xa0")


def trim(value: bytes) -> bytes:
    """Whitespace (space, \\t \\n \\r \\v \\f) removed at both ends (the guide names it only)."""
    return value.strip(WHITESPACE)


def trim_left(value: bytes) -> bytes:
    return value.lstrip(WHITESPACE)


def trim_right(value: bytes) -> bytes:
    return value.rstrip(WHITESPACE)


def utf8_to_unicode(value: bytes) -> bytes:
    """UTF-8 sequences to %uHHHH notation ("Convert all UTF-8 character sequences to Unicode";
    the notation is ModSecurity's utf8toUnicode); ASCII and invalid bytes stay as they are."""
    text = value.decode("utf-8", "surrogateescape")
    out = bytearray()
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an invalid byte, kept
            out.append(code - 0xDC00)
        elif code < 0x80:
            out.append(code)
        else:
            out += f"%u{code & 0xFFFF:04x}".encode()
    return bytes(out)


TRANSFORMS: dict[str, Callable[[bytes], bytes]] = {
    "NONE": none,
    "LOWERCASE": lowercase,
    "UPPERCASE": uppercase,
    "COMPRESS_WHITE_SPACE": compress_white_space,
    "CMD_LINE": cmd_line,
    "URL_DECODE": url_decode,
    "URL_DECODE_UNI": url_decode_uni,
    "HTML_ENTITY_DECODE": html_entity_decode,
    "BASE64_DECODE": base64_decode,
    "BASE64_DECODE_EXT": base64_decode_ext,
    "HEX_DECODE": hex_decode,
    "MD5": md5,
    "SHA256": sha256,
    "REPLACE_COMMENTS": replace_comments,
    "REMOVE_COMMENTS_CHAR": remove_comments_char,
    "ESCAPE_SEQ_DECODE": escape_seq_decode,
    "SQL_HEX_DECODE": sql_hex_decode,
    "CSS_DECODE": css_decode,
    "JS_DECODE": js_decode,
    "NORMALIZE_PATH": normalize_path,
    "NORMALIZE_PATH_WIN": normalize_path_win,
    "REMOVE_NULLS": remove_nulls,
    "REPLACE_NULLS": replace_nulls,
    "REMOVE_WHITESPACE": remove_whitespace,
    "TRIM": trim,
    "TRIM_LEFT": trim_left,
    "TRIM_RIGHT": trim_right,
    "UTF8_TO_UNICODE": utf8_to_unicode,
}


def ordered(transformations: Any) -> list[str]:
    """The types of a statement's text_transformation blocks, lowest priority first. Raises
    Undecidable for an Unknown type or priority, or a type this module does not implement."""
    if isinstance(transformations, dict):
        transformations = [transformations]
    if not isinstance(transformations, list):
        transformations = []
    blocks = [t for t in transformations if isinstance(t, dict)]
    for block in blocks:
        for attr in ("priority", "type"):
            if isinstance(block.get(attr), Unknown):
                raise Undecidable(f"text transformation {attr} is {block[attr]}")
        if block.get("type") not in TRANSFORMS:
            raise Undecidable(f"text transformation {block.get('type')!r} is not simulated")
    blocks.sort(key=lambda b: b.get("priority") if isinstance(b.get("priority"), int) else 0)
    return [str(b["type"]) for b in blocks]


def transform(value: bytes, types: list[str]) -> bytes:
    """The value after each transformation in turn (types as `ordered` gives them)."""
    for kind in types:
        value = TRANSFORMS[kind](value)
    return value
