"""AWS WAFv2 request evaluation over a WebAcl: what the Web ACL does to a request, with a trace.

Semantics (AWS WAF developer guide, "How AWS WAF processes a web request", "Rule actions",
"Using rule group statements", "Rate-based rule statement"; WAFV2 API reference):
- rules run by priority; Allow, Block, CAPTCHA and Challenge terminate; Count adds the rule's
  labels and continues. A simulated request carries no CAPTCHA or challenge token, so those two
  terminate (API reference CaptchaAction: HTTP 405; ChallengeAction: HTTP 202). Block answers
  403 unless its custom_response sets response_code; Allow is reported as 200 (the request
  goes on to the origin, whose status the simulator does not know). The default action decides
  a request no rule terminated.
- a rule's rule_label names are added (in the Web ACL's context) when its statement matches.
- managed rule groups are opaque: the case declares which of their rules match; the group
  adds each matching rule's label (managed_label, the namespace from the WAF-012 catalog
  parameters), applies the ACL's rule_action_override (Count: label only, the group goes on),
  its scope-down statement, and override_action count (the group's result becomes count,
  labels kept). Undeclared, a group with documented triggers (managed_rules.TRIGGERS) is
  evaluated on them alone, recorded in `assumed`; any other undeclared group is undecidable.
- rate-based rules count, per aggregation key, the requests that reach them within the
  evaluation window (default 300 s) and match when the count exceeds the limit. AWS checks rates
  about every 10 seconds (detection delay): not modelled, the simulator decides at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from policies.terraform import blocks
from policies.tfeval import first_unknown
from policies.waf.managed_rules import RULES, TRIGGERS, Seen
from policies.waf.model import (
    WafInventory,
    WafRule,
    WebAcl,
    block_body,
    block_name,
    canonical,
    first,
    managed_label,
)
from policies.waf.request import Request, utf8
from policies.waf.statements import Context, Step, evaluate, forwarded
from policies.waf.transforms import Undecidable, ordered, transform

TERMINATING = ("allow", "block", "captcha", "challenge")
STATUS = {"allow": 200, "block": 403, "captcha": 405, "challenge": 202}
DEFAULT_WINDOW_S = 300


@dataclass
class RuleTrace:
    """One rule as evaluated: matched (None: undecidable), the steps of its statement, the
    labels it added, and a note (scope-down, managed rules, counts)."""

    name: str
    priority: int | None
    action: str  # the rule's action, or "group:none" / "group:count" for rule groups
    matched: bool | None
    steps: list[Step] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Verdict:
    """What the Web ACL does to a request: the terminating rule and action (rule "default" for
    the default action), the status code, the labels at the end, the rules that counted it
    (a counted managed rule as "<ACL rule>:<managed rule>"), why it cannot be decided, what
    was assumed, and the trace of every rule evaluated."""

    action: str
    rule: str
    status: int | None
    labels: list[str]
    counted: list[str]
    undecidable: list[str]
    assumed: list[str]
    rules: list[RuleTrace]

    @property
    def decided(self) -> bool:
        return not self.undecidable

    def render(self) -> str:
        status = "?" if self.status is None else self.status
        lines = [f"{self.action} by {self.rule} (status {status})"]
        for title, items in (
            ("labels", self.labels),
            ("counted", self.counted),
            ("undecidable", self.undecidable),
            ("assumed", self.assumed),
        ):
            if items:
                lines.append(f"{title}: {'; '.join(items)}")
        for rule in self.rules:
            result = {True: "matched", False: "no match", None: "undecidable"}[rule.matched]
            note = f" - {rule.note}" if rule.note else ""
            lines.append(f"  [{rule.priority}] {rule.name} ({rule.action}): {result}{note}")
            for step in rule.steps:
                shown = {True: "match", False: "no match", None: "undecidable"}[step.result]
                parts = [step.path, shown]
                if step.field:
                    parts.append(f"field {step.field}")
                if step.transformations:
                    parts.append(f"after {'+'.join(step.transformations)}")
                if step.value:
                    parts.append(f"value {step.value!r}")
                if step.detail:
                    parts.append(step.detail)
                lines.append("      " + ", ".join(parts))
        return "\n".join(lines)


def label_context(acl: WebAcl) -> str:
    """awswaf:<account>:webacl:<name>: (the account from a deployed ACL's ARN; the static tier
    does not know it and writes <account>: a key naming a real account does not match)."""
    arn = acl.location.resource or ""
    account = arn.split(":")[4] if arn.startswith("arn:") and arn.count(":") >= 5 else "<account>"
    return f"awswaf:{account}:webacl:{acl.name}:"


class Simulator:
    """Evaluates requests against one Web ACL; keeps the rate-based rules' counters between
    requests (`evaluate` with increasing `at`, in seconds)."""

    def __init__(
        self,
        acl: WebAcl,
        inventory: WafInventory | None = None,
        namespaces: dict[str, str] | None = None,
    ) -> None:
        self.acl = acl
        self.inventory = inventory or WafInventory()
        self.namespaces = namespaces or {}
        self._windows: dict[tuple[str, tuple[Any, ...]], deque[float]] = {}
        # a stateless statement's steps for one request, the labels present and the opaque
        # declaration: the same request sent again (a case's `repeat`) is not evaluated again
        self._steps: dict[tuple[Any, ...], list[Any]] = {}

    def evaluate(
        self,
        request: Request,
        at: float = 0.0,
        managed: dict[str, list[str]] | None = None,
        opaque: dict[str, bool] | None = None,
    ) -> Verdict:
        """The verdict for `request` sent at `at` seconds. `managed`: per managed group (or ACL
        rule name) the names of its rules that match; `opaque`: per ACL rule whether its SQLi/XSS
        statements match."""
        return self._evaluate(request, at, managed, opaque).verdict()

    def evaluate_repeated(
        self,
        request: Request,
        count: int,
        within_s: float,
        managed: dict[str, list[str]] | None = None,
        opaque: dict[str, bool] | None = None,
    ) -> Verdict:
        """The verdict for the last of `count` copies of `request` sent evenly over `within_s`
        seconds. A copy whose rate-based rules decide as they did for the copy before takes the
        same path through the Web ACL (same request, same labels, same outcomes): it is only
        counted in the windows that path reaches, not evaluated again. The last copy is."""
        run = None
        for i in range(count):
            at = i * within_s / count
            if run is not None and i < count - 1 and self._counted_alike(run.rated, at):
                continue
            run = self._evaluate(request, at, managed, opaque)
        assert run is not None, "count >= 1"
        return run.verdict()

    def _counted_alike(self, rated: list[_Rated], at: float) -> bool:
        """Whether each rate window of `rated` would decide as recorded for a request at `at`;
        if so the request is counted in them (windows only ever drop entries older than `at`)."""
        for rate in rated:
            seen = _in_window(self._windows[rate.window_key], at, rate.window)
            if _exceeds(seen + 1, rate.limit) != rate.matched:
                return False
        for rate in rated:
            self._windows[rate.window_key].append(at)
        return True

    def _evaluate(
        self,
        request: Request,
        at: float,
        managed: dict[str, list[str]] | None,
        opaque: dict[str, bool] | None,
    ) -> _Run:
        ctx = Context(
            request,
            label_context(self.acl),
            self.acl.scope,
            ip_sets=self.inventory.ip_sets,
            regex_sets=self.inventory.regex_sets,
        )
        run = _Run(ctx, managed or {}, opaque or {})
        if self.acl.unevaluated:
            run.undecidable.append(f"rules only apply knows: {'; '.join(self.acl.unevaluated)}")
        for rule in self.acl.ordered():
            trace = RuleTrace(rule.name, rule.priority, _shown_action(rule), False)
            run.traces.append(trace)
            ctx.opaque = run.opaque.get(rule.name)
            decision = self._rule(rule, run, trace, at)
            if decision is not None:
                run.decided = (rule.name, *decision)
                return run
        action = self.acl.default_action
        run.decided = ("default", action, _status(action, self.acl.default_action_body, run))
        return run

    def _rule(
        self, rule: WafRule, run: _Run, trace: RuleTrace, at: float
    ) -> tuple[str, int | None] | None:
        """The rule's terminating action and status, or None when evaluation goes on."""
        kind = rule.kind
        if kind in ("managed_rule_group_statement", "rule_group_reference_statement"):
            return self._group(rule, run, trace)
        if kind == "rate_based_statement":
            trace.matched = self._rate(rule, run, trace, at)
        else:
            ctx = run.ctx
            key = (id(rule), ctx.request, tuple(ctx.labels), ctx.opaque)
            if key not in self._steps:
                self._steps[key] = evaluate(rule.statement, ctx)
            trace.steps = self._steps[key]
            trace.matched = trace.steps[0].result if trace.steps else None
        if trace.matched is None:
            reasons = [s.detail for s in trace.steps if s.result is None and s.detail]
            run.undecidable.append(f"rule {rule.name}: {'; '.join(reasons) or 'undecidable'}")
            return None
        if not trace.matched:
            return None
        trace.labels = [run.ctx.qualified(label) for label in rule.labels]
        run.ctx.labels += trace.labels
        if rule.action in TERMINATING:
            return rule.action, _status(rule.action, rule.action_body, run)
        if rule.action == "count":
            run.counted.append(rule.name)
        else:
            run.undecidable.append(f"rule {rule.name}: action {rule.action} is not simulated")
        return None

    def _group(self, rule: WafRule, run: _Run, trace: RuleTrace) -> tuple[str, int | None] | None:
        body = rule.body
        group = body.get("name") if rule.kind == "managed_rule_group_statement" else rule.name
        scope_down = first(body.get("scope_down_statement"))
        if scope_down:
            trace.steps = evaluate(scope_down, run.ctx, "scope_down_statement")
            if trace.steps[0].result is not True:
                trace.matched = None if trace.steps[0].result is None else False
                trace.note = "scope-down statement does not match: the group is not evaluated"
                if trace.matched is None:
                    run.undecidable.append(f"rule {rule.name}: scope-down statement undecidable")
                return None
        matching = self._matching(rule, str(group), run, trace)
        if matching is None:
            return None
        overrides = {
            str(o.get("name")): o.get("action_to_use")
            for o in blocks(body.get("rule_action_override"))
        }
        excluded = {str(e.get("name")) for e in blocks(body.get("excluded_rule"))}
        namespace = self.namespaces.get(str(group))
        decision: tuple[str, int | None] | None = None
        for name in matching:
            if namespace is not None:
                trace.labels.append(managed_label(namespace, name))
            action_to_use = overrides.get(name)
            action = block_name(action_to_use) or ("count" if name in excluded else "block")
            if action == "count":
                run.counted.append(f"{rule.name}:{name}")
                continue
            decision = action, _status(action, block_body(action_to_use), run)
            trace.note = f"{name} {action}s"
            break
        if namespace is None and matching:
            run.assumed.append(f"{group}: label namespace unknown, its labels are not added")
        run.ctx.labels += trace.labels
        trace.matched = bool(matching)
        if matching and not trace.note:
            trace.note = f"{', '.join(matching)} counted"
        if decision is not None and rule.override_action == "count":
            run.counted.append(rule.name)
            trace.note += "; override_action count"
            return None
        return decision

    def _matching(self, rule: WafRule, group: str, run: _Run, trace: RuleTrace) -> list[str] | None:
        """The group's matching rules, in the group's documented order: as declared (by group
        or ACL rule name), else by the documented triggers; None when undecidable."""
        declared = run.managed.get(group, run.managed.get(rule.name))
        if declared is None:
            triggers = TRIGGERS.get(group)
            if triggers is None:
                trace.matched = None
                trace.note = "opaque: the case does not declare which of its rules match"
                run.undecidable.append(
                    f"managed rule group {group} (rule {rule.name}) is not declared by the case"
                )
                return None
            seen = _seen(run.ctx.request)
            declared = [name for name, trigger in triggers.items() if trigger(seen)]
            run.assumed.append(
                f"{group}: not declared; only its documented triggers are evaluated"
                f" ({', '.join(triggers)}), its other rules are taken not to match"
            )
        order = RULES.get(group, ())
        return sorted(declared, key=lambda n: order.index(n) if n in order else len(order))

    def _rate(self, rule: WafRule, run: _Run, trace: RuleTrace, at: float) -> bool | None:
        body = canonical(rule.body)
        unknown = first_unknown(body)
        if unknown is not None:
            trace.steps = [Step("rate_based_statement", None, detail=f"{unknown}")]
            return None
        scope_down = first(rule.body.get("scope_down_statement"))
        if scope_down:
            trace.steps = evaluate(scope_down, run.ctx, "rate_based_statement.scope_down")
            if trace.steps[0].result is not True:
                return trace.steps[0].result
        try:
            key = _aggregate(body, run.ctx)
        except Undecidable as exc:
            trace.steps.append(Step("rate_based_statement", None, detail=str(exc)))
            return None
        if key is None:
            trace.note = "the request lacks an aggregation key component: not counted"
            return False
        window = int(body.get("evaluation_window_sec", DEFAULT_WINDOW_S))
        times = self._windows.setdefault((rule.name, key), deque())
        times.append(at)
        limit = body.get("limit")
        matched = _exceeds(_in_window(times, at, window), limit)
        run.rated.append(_Rated((rule.name, key), window, limit, matched))
        detail = f"{len(times)} requests in {window} s for {key}, limit {limit}"
        trace.steps.append(Step("rate_based_statement", matched, "aggregation key", detail=detail))
        return matched


def _in_window(times: deque[float], at: float, window: int) -> int:
    """How many requests of a rate window are still in it at `at` (older ones dropped)."""
    while times and times[0] <= at - window:
        times.popleft()
    return len(times)


def _exceeds(count: int, limit: Any) -> bool:
    """A rate-based rule matches when its count exceeds the limit."""
    return isinstance(limit, int) and count > limit


@dataclass(frozen=True)
class _Rated:
    """A rate window a request was counted in, and whether the rule matched then."""

    window_key: tuple[str, tuple[Any, ...]]
    window: int
    limit: Any
    matched: bool


@dataclass
class _Run:
    """The state of one request's evaluation; `decided`: (rule, action, status) at its end."""

    ctx: Context
    managed: dict[str, list[str]]
    opaque: dict[str, bool]
    counted: list[str] = field(default_factory=list)
    undecidable: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)
    traces: list[RuleTrace] = field(default_factory=list)
    rated: list[_Rated] = field(default_factory=list)
    decided: tuple[str, str, int | None] | None = None

    def verdict(self) -> Verdict:
        assert self.decided is not None, "verdict of an evaluated request"
        rule, action, status = self.decided
        return Verdict(
            action,
            rule,
            status,
            list(self.ctx.labels),
            self.counted,
            self.undecidable,
            self.assumed,
            self.traces,
        )


def _shown_action(rule: WafRule) -> str:
    return rule.action or f"group:{rule.override_action}"


def _status(action: str, body: dict[str, Any], run: _Run) -> int | None:
    """403 for block unless custom_response sets the code; 200, 405, 202 for the others."""
    code = first(body.get("custom_response")).get("response_code")
    if action == "block" and code is not None:
        if isinstance(code, int):
            return code
        run.undecidable.append(f"custom response code is {code}")
        return None
    return STATUS.get(action)


def _seen(request: Request) -> Seen:
    cookie = "; ".join(request.header("cookie"))
    return Seen(
        body_size=len(request.body),
        query_size=len(utf8(request.query)),
        path_size=len(utf8(request.path)),
        cookie_size=len(utf8(cookie)),
        has_user_agent=bool(request.header("user-agent")),
    )


def _aggregate(body: dict[str, Any], ctx: Context) -> tuple[Any, ...] | None:
    """The aggregation instance of a request: IP (the case's ip; requests of one case come
    from one client), FORWARDED_IP (the header's first address), CONSTANT, or CUSTOM_KEYS.
    None: a component is missing, so WAF omits the request from the rule."""
    kind = body.get("aggregate_key_type", "IP")
    config = first(body.get("forwarded_ip_config"))
    if kind == "IP":
        return ("ip", ctx.request.ip)
    if kind == "CONSTANT":
        return ("constant",)
    if kind == "FORWARDED_IP":
        addresses = forwarded(config, ctx)
        return ("forwarded ip", str(addresses[0])) if addresses else None
    if kind != "CUSTOM_KEYS":
        raise Undecidable(f"aggregate_key_type {kind!r}")
    parts: list[Any] = []
    for custom in blocks(body.get("custom_key")):
        value = _custom_key(custom, ctx, config)
        if value is None:
            return None
        parts.append(value)
    return tuple(parts)


def _custom_key(custom: dict[str, Any], ctx: Context, config: dict[str, Any]) -> Any:
    kind = block_name([custom])
    spec = first(custom.get(kind))
    request = ctx.request
    name = str(spec.get("name", ""))
    values: dict[str, Any] = {
        "ip": lambda: request.ip,
        "http_method": lambda: request.method,
        "query_string": lambda: request.query or None,
        "uri_path": lambda: request.path,
        "header": lambda: (request.header(name) or [None])[0],
        "cookie": lambda: next((v for k, v in request.cookies() if k == name), None),
        "query_argument": lambda: next(
            (v for k, v in request.query_args() if k.lower() == name.lower()), None
        ),
        "forwarded_ip": lambda: str((forwarded(config, ctx) or [None])[0] or "") or None,
        "label_namespace": lambda: _in_namespace(ctx, str(spec.get("namespace", ""))),
    }
    if kind not in values:
        raise Undecidable(f"custom aggregation key {kind} is not simulated")
    value = values[kind]()
    if value is None:
        return None
    if isinstance(value, str) and "text_transformation" in spec:
        value = transform(utf8(value), ordered(spec.get("text_transformation")))
    return (kind, name, value)


def _in_namespace(ctx: Context, namespace: str) -> tuple[str, ...] | None:
    prefix = ctx.qualified(namespace)
    labels = tuple(sorted(label for label in ctx.labels if label.startswith(prefix)))
    return labels or None
