"""The sources family's check bodies: what the gatekeeper could not read (SRC-002), what is past
a reader's limit (SRC-003), what does not parse (SRC-001) and the Terraform the evaluator could
not evaluate (SRC-005, for review), each at its file and line."""

from __future__ import annotations

from policies.model import FAIL, REVIEW, Finding, Location, Policy, resource
from policies.registry import check
from policies.sources import LIMIT, PARSE, UNEVALUATED, UNREADABLE, ParseError


def _findings(
    problems: list[ParseError], policy: Policy, expected: str, kind: str = FAIL
) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("file", e.path.name),
            e.message,
            expected,
            e.message,
            Location(e.path, e.line),
            kind,
        )
        for e in problems
        if e.policy == policy.id
    ]


@check(PARSE)
def parses(problems: list[ParseError], policy: Policy) -> list[Finding]:
    return _findings(problems, policy, "a file its parser accepts")


@check(UNREADABLE)
def readable(problems: list[ParseError], policy: Policy) -> list[Finding]:
    return _findings(problems, policy, "a regular file inside --infra that can be read")


@check(LIMIT)
def within_limits(problems: list[ParseError], policy: Policy) -> list[Finding]:
    return _findings(problems, policy, "within the readers' limits")


@check(UNEVALUATED)
def evaluated(problems: list[ParseError], policy: Policy) -> list[Finding]:
    return _findings(problems, policy, "Terraform evaluated before apply", REVIEW)
