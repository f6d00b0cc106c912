"""WAF unit tests of a scanned repository: a waf-cases.yaml file of requests and the verdict
the Web ACL must give each one.

A case: `name`; `acl` (a glob on the Web ACL name, optional when the tree has one); `request`
{method, uri, query, headers, body | body_size, ip, country}; `managed` (per managed rule group,
or per ACL rule name, the group's rules that match: [] for none); `rules` (per ACL rule,
whether its opaque SQLi/XSS statements match); `repeat` and `within_s`; `expect` {action, rule,
labels, status}. Semantics:
- `uri` splits at the first '?' into the path and the raw query string (neither is decoded
  before a rule's own transformations); `query` appends to it;
- header names match case-insensitively; `body_size` is a body of that many bytes;
- `ip` is the source IP (forwarded-IP configs read the header named); `country` is the source
  country as WAF would resolve it (no GeoIP: without it a geo statement does not match);
- `repeat: N` with `within_s: T` sends N requests evenly over T seconds from the same client
  (request i at i*T/N s); the case's verdict is the last request's;
- `expect.action` is the terminating action (allow, block, captcha, challenge) and `rule` the
  ACL rule that terminated (for a managed group, the ACL's rule name) or "default"; action
  `count` with `rule` holds when that rule (or "<ACL rule>:<managed rule>") counted the
  request; `labels` must all be present at the end; `status` is the response code.
Every error names the file, the case and the key; nothing here raises on bad input."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from policies.waf.managed_rules import RULES
from policies.waf.model import WafInventory, WebAcl
from policies.waf.request import Request, utf8
from policies.waf.simulator import Simulator, Verdict, label_context

ACTIONS = ("allow", "block", "count", "captcha", "challenge")
CASE_KEYS = ("name", "acl", "request", "managed", "rules", "repeat", "within_s", "expect")
REQUEST_KEYS = ("method", "uri", "query", "headers", "body", "body_size", "ip", "country")
EXPECT_KEYS = ("action", "rule", "labels", "status")
MAX_BODY = 10 * 1024 * 1024
MAX_REPEAT = 100_000
# The requests one run's cases send, repeats included: 10 cases at MAX_REPEAT, 130 times what
# infra/waf-cases.yaml sends (7,511), 330 times the README's 3,000-request rate case. A repeated
# copy that decides like the one before is only counted (about 0.5 us), one evaluated again on
# infra's Web ACL takes about 30 us: the budget's worst case is half a minute, not hours.
RUN_BUDGET = 1_000_000


@dataclass(frozen=True)
class Expectation:
    action: str
    rule: str | None = None
    labels: tuple[str, ...] | None = None
    status: int | None = None


@dataclass(frozen=True)
class WafCase:
    name: str
    source: Path
    line: int | None
    request: Request
    expect: Expectation
    acl: str | None = None
    managed: dict[str, list[str]] = field(default_factory=dict)
    opaque: dict[str, bool] = field(default_factory=dict)
    repeat: int = 1
    within_s: float = 0.0


@dataclass(frozen=True)
class CaseError:
    """A case file or case that cannot be read: where, which case, which key, why."""

    source: Path
    case: str | None
    key: str
    message: str
    line: int | None = None  # the case's line, when it is known

    def __str__(self) -> str:
        case = f"case {self.case!r}: " if self.case is not None else ""
        return f"{self.source}: {case}{self.key}: {self.message}"


@dataclass(frozen=True)
class Difference:
    key: str
    expected: Any
    actual: Any


@dataclass
class CaseResult:
    """A case run: it holds, or the differences (expected vs actual) and problems (the ACL
    cannot be chosen, a declaration names nothing in it, the verdict is undecidable)."""

    case: WafCase
    acl: str | None
    verdict: Verdict | None
    differences: list[Difference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.verdict is not None and not self.differences and not self.problems

    def render(self) -> str:
        where = f"{self.case.source}:{self.case.line}" if self.case.line else str(self.case.source)
        lines = [f"{where}: WAF case {self.case.name!r} on {self.acl or '?'}"]
        lines += [f"  {p}" for p in self.problems]
        lines += [f"  {d.key}: expected {d.expected}, actual {d.actual}" for d in self.differences]
        if self.verdict is not None:
            lines += ["  verdict: " + self.verdict.render().replace("\n", "\n  ")]
        return "\n".join(lines)


def is_case_file(data: Any) -> bool:
    """Whether a parsed YAML document is a WAF case file (found by content: `cases`, a list of
    mappings with `request` and `expect`)."""
    cases = data.get("cases") if isinstance(data, dict) else None
    return (
        isinstance(cases, list)
        and bool(cases)
        and all(isinstance(c, dict) and "request" in c and "expect" in c for c in cases)
    )


def load_cases(path: Path) -> tuple[list[WafCase], list[CaseError]]:
    """The cases of a file named outside the tree (--waf-cases), and every error in it: read
    within the same YAML limits as the tree's files (alias expansion, nesting)."""
    from policies.sources import SourceError
    from policies.yamlfile import load_documents

    try:
        documents = load_documents(path, path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [CaseError(path, None, "file", f"cannot be read ({_short(exc)})")]
    except SourceError as exc:
        return [], [CaseError(path, None, "file", exc.error.message, exc.error.line)]
    found = [d for d in documents if isinstance(d, dict) and "cases" in d]
    if not found:
        return [], [CaseError(path, None, "cases", "expected a mapping with a list `cases`")]
    cases: list[WafCase] = []
    errors: list[CaseError] = []
    for document in found:
        more, wrong = parse_cases(document, path, case_lines(document))
        cases += more
        errors += wrong
    return cases, errors


def within_budget(cases: list[WafCase]) -> tuple[list[WafCase], list[CaseError]]:
    """The cases, in order, whose requests fit in the run's budget (RUN_BUDGET); from the first
    case over it on, one error at that case naming how many cases and requests are not run."""
    sent = 0
    for i, case in enumerate(cases):
        sent += case.repeat
        if sent > RUN_BUDGET:
            rest = cases[i:]
            message = (
                f"over the run's budget of {RUN_BUDGET:,} requests (cases and their repeats):"
                f" this case and {len(rest) - 1:,} after it"
                f" ({sum(c.repeat for c in rest):,} requests) are not run"
            )
            return cases[:i], [CaseError(case.source, case.name, "cases", message, case.line)]
    return cases, []


def case_lines(document: Any) -> list[int | None]:
    """The line of each entry of a document's `cases` (its mappings remember their line)."""
    return [getattr(entry, "line", None) for entry in document["cases"]]


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def parse_cases(
    data: Any, source: Path, lines: list[int | None] | None = None
) -> tuple[list[WafCase], list[CaseError]]:
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return [], [CaseError(source, None, "cases", "expected a mapping with a list `cases`")]
    cases: list[WafCase] = []
    errors: list[CaseError] = []
    for i, item in enumerate(data["cases"]):
        line = (lines or [])[i] if i < len(lines or []) else None
        name = item.get("name") if isinstance(item, dict) else None
        label = name if isinstance(name, str) and name else f"#{i + 1}"
        problems: list[tuple[str, str]] = []
        case = _case(item, source, line, label, problems)
        if label in {c.name for c in cases}:
            problems.append(("name", "another case has this name"))
        errors += [CaseError(source, label, key, message, line) for key, message in problems]
        if case is not None and not problems:
            cases.append(case)
    return cases, errors


def _case(
    item: Any, source: Path, line: int | None, name: str, problems: list[tuple[str, str]]
) -> WafCase | None:
    if not isinstance(item, dict):
        problems.append(("case", "expected a mapping"))
        return None
    for key in item:
        if key not in CASE_KEYS:
            problems.append((str(key), f"unknown key (expected one of {', '.join(CASE_KEYS)})"))
    if not isinstance(item.get("name"), str) or not item["name"].strip():
        problems.append(("name", "expected a non-empty text"))
    acl = item.get("acl")
    if acl is not None and not isinstance(acl, str):
        problems.append(("acl", "expected a glob on the Web ACL name"))
    request = _request(item.get("request"), problems)
    expect = _expect(item.get("expect"), problems)
    managed = _managed(item.get("managed", {}), problems)
    opaque = item.get("rules", {})
    if not isinstance(opaque, dict) or not all(
        isinstance(k, str) and isinstance(v, bool) for k, v in opaque.items()
    ):
        problems.append(("rules", "expected a mapping of ACL rule name to true or false"))
        opaque = {}
    repeat, within = item.get("repeat", 1), item.get("within_s", 0)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= MAX_REPEAT:
        problems.append(("repeat", f"expected a whole number from 1 to {MAX_REPEAT}"))
    elif not isinstance(within, (int, float)) or isinstance(within, bool) or within < 0:
        problems.append(("within_s", "expected a number of seconds >= 0"))
    elif repeat > 1 and "within_s" not in item:
        problems.append(("within_s", "required with repeat (the seconds the requests span)"))
    if request is None or expect is None:
        return None
    return WafCase(
        str(item.get("name")), source, line, request, expect, acl, managed, opaque,
        repeat if isinstance(repeat, int) else 1,
        float(within) if isinstance(within, (int, float)) else 0.0,
    )  # fmt: skip


def _request(spec: Any, problems: list[tuple[str, str]]) -> Request | None:
    if not isinstance(spec, dict):
        problems.append(("request", "expected a mapping (method, uri, headers, ...)"))
        return None
    for key in spec:
        if key not in REQUEST_KEYS:
            problems.append((f"request.{key}", f"unknown key ({', '.join(REQUEST_KEYS)})"))
    texts = {}
    for key, default in (("method", "GET"), ("uri", "/"), ("ip", None), ("country", None)):
        value = spec.get(key, default)
        if value is not None and not isinstance(value, str):
            problems.append((f"request.{key}", "expected text"))
            value = default
        texts[key] = value
    if not str(texts["uri"]).startswith("/"):
        problems.append(("request.uri", "expected a path starting with '/'"))
    if texts["ip"] is not None and not _is_ip(texts["ip"]):
        problems.append(("request.ip", f"{texts['ip']!r} is not an IPv4 or IPv6 address"))
    country = texts["country"]
    if country is not None and not (len(country) == 2 and country.isalpha() and country.isupper()):
        problems.append(("request.country", "expected an ISO 3166 alpha-2 code such as US"))
    query = spec.get("query")
    if isinstance(query, dict):
        query = "&".join(f"{k}={v}" for k, v in query.items())
    elif query is not None and not isinstance(query, str):
        problems.append(("request.query", "expected the raw query string or a mapping"))
        query = None
    headers = spec.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in headers.values()
    ):
        problems.append(("request.headers", "expected a mapping of header name to value"))
        headers = {}
    body = _body(spec, problems)
    return Request.of(
        str(texts["method"]),
        str(texts["uri"]),
        query,
        {str(k): str(v) for k, v in headers.items()},
        body,
        texts["ip"],
        country,
    )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _body(spec: dict[str, Any], problems: list[tuple[str, str]]) -> bytes:
    if "body" in spec and "body_size" in spec:
        problems.append(("request.body", "give body or body_size, not both"))
    size = spec.get("body_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_BODY:
            problems.append(("request.body_size", f"expected bytes from 0 to {MAX_BODY}"))
            return b""
        return b"x" * size
    body = spec.get("body", "")
    if not isinstance(body, str):
        problems.append(("request.body", "expected text"))
        return b""
    return utf8(body)


def _managed(spec: Any, problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    """group -> matching rule names; a rule unknown to a group the table lists is an error
    (rule names are case-sensitive: SizeRestrictions_BODY, not SizeRestrictions_Body)."""
    if not isinstance(spec, dict):
        problems.append(("managed", "expected a mapping of rule group to its matching rules"))
        return {}
    out: dict[str, list[str]] = {}
    for group, rules in spec.items():
        key = f"managed.{group}"
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            problems.append((key, "expected a list of rule names ([] for none)"))
            continue
        known = RULES.get(str(group))
        for rule in rules if known is not None else []:
            if rule not in known:
                near = [k for k in known if k.lower() == rule.lower()]
                hint = f" (did you mean {near[0]}?)" if near else ""
                problems.append((key, f"{group} has no rule {rule}{hint}"))
        out[str(group)] = list(rules)
    return out


def _expect(spec: Any, problems: list[tuple[str, str]]) -> Expectation | None:
    if not isinstance(spec, dict):
        problems.append(("expect", "expected a mapping with at least `action`"))
        return None
    for key in spec:
        if key not in EXPECT_KEYS:
            problems.append((f"expect.{key}", f"unknown key ({', '.join(EXPECT_KEYS)})"))
    action, rule = spec.get("action"), spec.get("rule")
    labels, status = spec.get("labels"), spec.get("status")
    if action not in ACTIONS:
        problems.append(("expect.action", f"expected one of {', '.join(ACTIONS)}"))
        return None
    if rule is not None and not isinstance(rule, str):
        problems.append(("expect.rule", "expected a rule name or default"))
    if action == "count" and not isinstance(rule, str):
        problems.append(("expect.rule", "action count needs the rule that counts"))
    if labels is not None and (
        not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)
    ):
        problems.append(("expect.labels", "expected a list of labels"))
        labels = None
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        problems.append(("expect.status", "expected an HTTP status code"))
        status = None
    return Expectation(
        action,
        rule if isinstance(rule, str) else None,
        tuple(labels) if labels is not None else None,
        status,
    )


def default_namespaces() -> dict[str, str]:
    """Managed group -> label namespace: the WAF-012 catalog parameters (a caller with the
    repository's configuration passes its effective parameters instead)."""
    from policies.catalog import load_catalog

    return dict(load_catalog()["WAF-012"].params.get("group_label_namespaces", {}))


def run_case(
    case: WafCase, inventory: WafInventory, namespaces: dict[str, str] | None = None
) -> CaseResult:
    """Send the case's request(s) through the simulator and compare the last verdict."""
    acl, problem = chosen_acl(case, inventory)
    if acl is None:
        return CaseResult(case, None, None, problems=[problem])
    result = CaseResult(case, acl.name, None)
    groups = {str(r.body.get("name")) for r in acl.rules if r.kind.endswith("group_statement")}
    names = {r.name for r in acl.rules}
    for group in case.managed:
        if group not in groups | names:
            result.problems.append(f"managed.{group}: the Web ACL {acl.name} does not use it")
    for rule in case.opaque:
        if rule not in names:
            result.problems.append(f"rules.{rule}: the Web ACL {acl.name} has no such rule")
    simulator = Simulator(
        acl, inventory, default_namespaces() if namespaces is None else namespaces
    )
    verdict = result.verdict = simulator.evaluate_repeated(
        case.request, max(case.repeat, 1), case.within_s, case.managed, case.opaque
    )
    result.problems += [f"undecidable: {reason}" for reason in verdict.undecidable]
    result.differences = _compare(case.expect, verdict, acl)
    return result


def chosen_acl(case: WafCase, inventory: WafInventory) -> tuple[WebAcl | None, str]:
    acls = inventory.acls
    if case.acl is not None:
        acls = [a for a in acls if fnmatchcase(a.name, case.acl)]
    if len(acls) == 1:
        return acls[0], ""
    names = ", ".join(a.name for a in inventory.acls) or "none"
    if not acls:
        return None, f"acl: no Web ACL matches {case.acl!r} (Web ACLs: {names})"
    return None, f"acl: {len(acls)} Web ACLs match, name one with acl: (Web ACLs: {names})"


def _compare(expect: Expectation, verdict: Verdict, acl: WebAcl) -> list[Difference]:
    out = []
    if expect.action == "count":
        if expect.rule not in verdict.counted:
            counted = ", ".join(verdict.counted) or "no rule"
            out.append(Difference("counted", expect.rule, counted))
    else:
        if verdict.action != expect.action:
            out.append(Difference("action", expect.action, verdict.action))
        if expect.rule is not None and verdict.rule != expect.rule:
            out.append(Difference("rule", expect.rule, verdict.rule))
    context = label_context(acl)
    missing = [
        label
        for label in expect.labels or ()
        if label not in verdict.labels and context + label not in verdict.labels
    ]
    if missing:
        out.append(Difference("labels", ", ".join(missing), ", ".join(verdict.labels) or "none"))
    if expect.status is not None and verdict.status != expect.status:
        out.append(Difference("status", expect.status, verdict.status))
    return out
