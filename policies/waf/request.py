"""A web request as the WAF simulator sees it, and the request components a statement's
field_to_match selects (AWS WAF developer guide, "Request components in AWS WAF":
https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-fields-list.html).

Components are bytes (UTF-8 of the case's text): transformations and matching work on bytes,
as AWS does. Nothing is decoded before the rule's own transformations: the query string, the
query arguments and the cookies are inspected as written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from policies.waf.model import block_name, canonical, first
from policies.waf.transforms import Undecidable

# Inspection limits (WAFV2 API reference, Body / Headers / Cookies OversizeHandling): the body
# up to 8 KB for an Application Load Balancer (a REGIONAL Web ACL is taken to protect one; API
# Gateway and the others are 16 KB) and 16 KB for CloudFront (association_config raises it: not
# modelled); headers and cookies up to 8 KB or 200 of them.
BODY_LIMITS = {"REGIONAL": 8192, "CLOUDFRONT": 16384}
HEADER_LIMIT, HEADER_COUNT = 8192, 200


@dataclass(frozen=True)
class Request:
    """One request: `path` and `query` as sent (the uri split at the first '?'), headers in
    order with their names as written (looked up case-insensitively), the source IP and the
    country WAF would resolve for it (no GeoIP here)."""

    method: str = "GET"
    path: str = "/"
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    ip: str | None = None
    country: str | None = None

    @classmethod
    def of(
        cls,
        method: str = "GET",
        uri: str = "/",
        query: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        ip: str | None = None,
        country: str | None = None,
    ) -> Request:
        path, _, raw = uri.partition("?")
        if query is not None:
            raw = f"{raw}&{query}" if raw else query
        return cls(method, path, raw, tuple((headers or {}).items()), body, ip, country)

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def query_args(self) -> list[tuple[str, str]]:
        """name=value pairs of the raw query string (split at '&' and the first '=')."""
        pairs = [part.partition("=") for part in self.query.split("&") if part]
        return [(name, value) for name, _, value in pairs]

    def cookies(self) -> list[tuple[str, str]]:
        pairs = [c.strip().partition("=") for v in self.header("cookie") for c in v.split(";")]
        return [(name, value) for name, _, value in pairs if name]


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@dataclass
class Inspected:
    """What a field_to_match gives: its name for the trace, the values to inspect (a statement
    matches when one of them does), or `forced`, the outcome oversize or invalid-JSON handling
    sets without inspection."""

    name: str
    values: list[bytes] = field(default_factory=list)
    forced: bool | None = None
    note: str = ""


def inspected(field_to_match: Any, request: Request, scope: str) -> Inspected:
    """The component a statement inspects. Raises Undecidable for a component the simulator
    cannot see (TLS fingerprints, header order, URI fragment) or an Unknown in its settings."""
    kind = block_name(field_to_match)
    spec = canonical(first(first(field_to_match).get(kind))) if kind else {}
    if kind == "uri_path":
        return Inspected(kind, [utf8(request.path)])
    if kind == "query_string":
        return Inspected(kind, [utf8(request.query)])
    if kind == "method":
        return Inspected(kind, [utf8(request.method)])
    if kind == "single_header":
        name = _text(spec, "name")
        return Inspected(f"header {name.lower()}", [utf8(v) for v in request.header(name)])
    if kind == "single_query_argument":  # "The name isn't case sensitive" (API reference)
        name = _text(spec, "name")
        values = [v for k, v in request.query_args() if k.lower() == name.lower()]
        return Inspected(f"query argument {name}", [utf8(v) for v in values])
    if kind == "all_query_arguments":
        return Inspected(kind, [utf8(v) for _, v in request.query_args()])
    if kind == "body":
        return _oversized(Inspected(kind, [request.body]), request.body, spec, scope)
    if kind == "json_body":
        return _json_body(request, spec, scope)
    if kind == "headers":
        pairs = _selected(list(request.headers), spec, "headers", fold=True)
        size = sum(len(utf8(k)) + len(utf8(v)) for k, v in request.headers)
        over = size > HEADER_LIMIT or len(request.headers) > HEADER_COUNT
        return _limited(Inspected(kind, _scoped(pairs, spec)), over, spec)
    if kind == "cookies":
        cookies = request.cookies()
        pairs = _selected(cookies, spec, "cookies", fold=False)
        size = sum(len(utf8(k)) + len(utf8(v)) for k, v in cookies)
        over = size > HEADER_LIMIT or len(cookies) > HEADER_COUNT
        return _limited(Inspected(kind, _scoped(pairs, spec)), over, spec)
    raise Undecidable(f"request component {kind or 'none'} is not simulated (no TLS/order data)")


def _text(spec: dict[str, Any], attr: str) -> str:
    value = spec.get(attr)
    if not isinstance(value, str):
        raise Undecidable(f"field_to_match {attr} is {value}")
    return value


def _handling(spec: dict[str, Any], attr: str = "oversize_handling") -> str:
    value = spec.get(attr, "CONTINUE")
    if value not in ("CONTINUE", "MATCH", "NO_MATCH"):
        raise Undecidable(f"{attr} is {value}")
    return str(value)


def _oversized(found: Inspected, body: bytes, spec: dict[str, Any], scope: str) -> Inspected:
    limit = BODY_LIMITS.get(scope, BODY_LIMITS["REGIONAL"])
    if len(body) <= limit:
        return found
    return _limited(Inspected(found.name, [v[:limit] for v in found.values]), True, spec)


def _limited(found: Inspected, over: bool, spec: dict[str, Any]) -> Inspected:
    """Oversize handling: CONTINUE inspects what WAF received, MATCH/NO_MATCH decide."""
    if not over:
        return found
    handling = _handling(spec)
    found.note = f"oversize: {handling}"
    if handling != "CONTINUE":
        found.forced = handling == "MATCH"
    return found


def _selected(
    pairs: list[tuple[str, str]], spec: dict[str, Any], what: str, fold: bool
) -> list[tuple[str, str]]:
    """The headers/cookies the match_pattern selects: all, included_<what>, excluded_<what>
    (header names case-insensitive; cookie names as written, cookies being case-sensitive)."""
    pattern = canonical(first(spec.get("match_pattern")))

    def norm(name: Any) -> str:
        return str(name).lower() if fold else str(name)

    included, excluded = pattern.get(f"included_{what}"), pattern.get(f"excluded_{what}")
    if isinstance(included, list):
        chosen = {norm(n) for n in included}
        return [(k, v) for k, v in pairs if norm(k) in chosen]
    if isinstance(excluded, list):
        dropped = {norm(n) for n in excluded}
        return [(k, v) for k, v in pairs if norm(k) not in dropped]
    if "all" in pattern:
        return pairs
    raise Undecidable(f"{what} match_pattern is {pattern or 'missing'}")


def _scoped(pairs: list[tuple[str, str]], spec: dict[str, Any]) -> list[bytes]:
    """match_scope KEY, VALUE or ALL (ALL: a match in a key or a value)."""
    scope = spec.get("match_scope")
    if scope not in ("KEY", "VALUE", "ALL"):
        raise Undecidable(f"match_scope is {scope}")
    keys = [utf8(k) for k, _ in pairs] if scope in ("KEY", "ALL") else []
    return keys + ([utf8(v) for _, v in pairs] if scope in ("VALUE", "ALL") else [])


def _json_body(request: Request, spec: dict[str, Any], scope: str) -> Inspected:
    """JSON body: keys and/or scalar values (strings unquoted, other scalars as JSON text) of
    the document, or of the included_paths (JSON Pointers, each with what lies beneath it).
    A body that does not parse follows invalid_fallback_behavior; without it AWS inspects up
    to the first parse failure, which is not simulated (undecidable)."""
    limit = BODY_LIMITS.get(scope, BODY_LIMITS["REGIONAL"])
    body = request.body
    over = len(body) > limit
    seen = body[:limit]
    if over and _handling(spec) != "CONTINUE":
        return _limited(Inspected("json_body"), True, spec)
    try:
        document = json.loads(seen)
    except ValueError:
        fallback = spec.get("invalid_fallback_behavior")
        if fallback == "EVALUATE_AS_STRING":
            return _limited(Inspected("json_body (as string)", [seen]), over, spec)
        if fallback in ("MATCH", "NO_MATCH"):
            return Inspected("json_body", forced=fallback == "MATCH", note="invalid JSON")
        raise Undecidable(
            "the body is not valid JSON and invalid_fallback_behavior is not set"
        ) from None
    pattern = canonical(first(spec.get("match_pattern")))
    paths = pattern.get("included_paths")
    if not isinstance(paths, list) and "all" not in pattern:
        raise Undecidable(f"json_body match_pattern is {pattern or 'missing'}")
    match = spec.get("match_scope")
    if match not in _SCOPES:
        raise Undecidable(f"match_scope is {match}")
    values = [
        utf8(text)
        for pointer, part, text in _walk(document, "")
        if part in _SCOPES[match]
        and (
            not isinstance(paths, list)
            or any(pointer == p or pointer.startswith(f"{p}/") for p in paths)
        )
    ]
    return _limited(Inspected("json_body", values), over, spec)


_SCOPES = {"KEY": ("key",), "VALUE": ("value",), "ALL": ("key", "value")}


def _walk(node: Any, pointer: str) -> list[tuple[str, str, str]]:
    """(JSON Pointer, "key" or "value", text) of every member name and scalar of a document."""
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return [(pointer, "value", node if isinstance(node, str) else json.dumps(node))]
    out: list[tuple[str, str, str]] = []
    for key, child in items:
        sub = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        if isinstance(node, dict):
            out.append((sub, "key", str(key)))
        out += _walk(child, sub)
    return out
