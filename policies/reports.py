"""Report writers: SARIF 2.1.0 (one result per finding; what did not run or could not run as
tool execution notifications, so SARIF and the exit status agree) and the Markdown summary."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.model import Policy, Waiver
from policies.redact import inert

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


@dataclass
class PolicyResult:
    """The outcome of one policy test (one policy in one tier) and its findings."""

    policy_id: str
    tier: str
    outcome: str  # passed / failed / error / not applicable / skipped
    findings: list[dict[str, Any]] = field(default_factory=list)  # finding_to_json + "waiver"
    reason: str = ""


def write_sarif(results: list[PolicyResult], catalog: dict[str, Policy], path: Path) -> None:
    ran = sorted({r.policy_id for r in results if r.policy_id in catalog})
    rules = [_sarif_rule(catalog[pid]) for pid in ran]
    index = {pid: i for i, pid in enumerate(ran)}
    sarif_results, notifications = [], []
    for result in results:
        policy = catalog.get(result.policy_id)
        if policy is None:
            continue
        for f in result.findings:
            sarif_results.append(_sarif_result(policy, index[policy.id], result.tier, f))
        if result.outcome != "passed" and not result.findings:
            notifications.append(_notification(result, index[policy.id]))
    failed = any(n["level"] == "error" for n in notifications)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pingvas-policy",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"PROJECTROOT": {"uri": Path.cwd().as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not failed,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": sarif_results,
            }
        ],
    }
    path.write_text(json.dumps(log) + "\n")  # unindented: the C encoder, ~10x faster


def _notification(result: PolicyResult, rule_index: int) -> dict[str, Any]:
    """A policy test without findings that did not pass: not applicable or skipped (a note), or
    failed for another reason than a finding, such as an unreachable target (an error)."""
    failed = result.outcome in ("failed", "error")
    text = inert(result.reason) or result.outcome
    if not failed and not text.startswith(result.outcome):
        text = f"{result.outcome}: {text.removeprefix('not applicable: ')}"
    return {
        "level": "error" if failed else "note",
        "message": {"text": f"{result.policy_id} ({result.tier}): {text}"},
        "associatedRule": {"id": result.policy_id, "index": rule_index},
        "properties": {"outcome": result.outcome, "tier": result.tier},
    }


def _sarif_rule(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.title.title().replace(" ", "").replace("-", ""),
        "shortDescription": {"text": policy.title},
        "fullDescription": {"text": policy.rationale},
        "help": {"text": policy.remediation},
        "defaultConfiguration": {"level": SARIF_LEVELS[policy.severity]},
        "properties": {
            "tags": ["security", policy.family],
            "security-severity": SECURITY_SEVERITY[policy.severity],
            "severity": policy.severity,
            "tiers": list(policy.tiers),
        },
    }


def _sarif_result(policy: Policy, rule_index: int, tier: str, f: dict[str, Any]) -> dict[str, Any]:
    text = f"{f['resource']}: {f['message']} (expected {f['expected']}; actual {f['actual']})"
    review = f.get("kind") == "review"
    result: dict[str, Any] = {
        "ruleId": policy.id,
        "ruleIndex": rule_index,
        "kind": "review" if review else "fail",
        "level": "none" if review else SARIF_LEVELS[policy.severity],
        "message": {"text": f"{text}. Fix: {policy.remediation}"},
        "properties": {"tier": tier, "expected": f["expected"], "actual": f["actual"]},
    }
    if f["path"]:
        physical: dict[str, Any] = {"artifactLocation": f["artifact"]}
        if f["line"]:
            physical["region"] = {"startLine": f["line"]}
        result["locations"] = [{"physicalLocation": physical}]
        if f.get("related"):
            related = f["related"]
            result["relatedLocations"] = [
                {
                    "id": 1,
                    "physicalLocation": {
                        "artifactLocation": related["artifact"],
                        **({"region": {"startLine": related["line"]}} if related["line"] else {}),
                    },
                    "message": {"text": "written in this block of the module"},
                }
            ]
    else:
        result["locations"] = [
            {"logicalLocations": [{"fullyQualifiedName": f["where"], "kind": "resource"}]}
        ]
    if f.get("waiver"):
        w = f["waiver"]
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": inert(
                    f"{w['reason']} (owner {w['owner']}, expires {w['expires']})"
                ),
            }
        ]
    return result


def write_summary(
    results: list[PolicyResult],
    catalog: dict[str, Policy],
    waivers: list[Waiver],
    path: Path,
    today: dt.date,
    outside: list[str] | None = None,
) -> None:
    """summary.md: a table per family, the waivers in force, and the directories read above
    --infra (local module sources inside the repository)."""
    by_family: dict[str, list[PolicyResult]] = defaultdict(list)
    for result in results:
        family = catalog[result.policy_id].family if result.policy_id in catalog else "other"
        by_family[family].append(result)
    lines = ["# pingvas-policy summary", ""]
    lines += [
        "| family | passed | failed | unverifiable | not applicable | skipped | waived findings |",
        "|---|---|---|---|---|---|---|",
    ]
    for family, items in sorted(by_family.items()):
        count = {
            o: sum(1 for r in items if r.outcome == o)
            for o in ("passed", "not applicable", "skipped")
        }
        failed = sum(1 for r in items if r.outcome in ("failed", "error"))
        unverifiable = sum(
            1 for r in items for f in r.findings if f.get("kind") == "review" and not f["waiver"]
        )
        waived = sum(1 for r in items for f in r.findings if f.get("waiver"))
        lines.append(
            f"| {family} | {count['passed']} | {failed} | {unverifiable}"
            f" | {count['not applicable']} | {count['skipped']} | {waived} |"
        )
    if outside:
        lines += ["", "Read above --infra (module sources in the repository):"]
        lines += [f"- {_code(p)}" for p in outside]
    for family, items in sorted(by_family.items()):
        lines += [
            "",
            f"## {family}",
            "",
            "| policy | tier | result | findings |",
            "|---|---|---|---|",
        ]
        for r in sorted(items, key=lambda r: (r.policy_id, r.tier)):
            title = catalog[r.policy_id].title if r.policy_id in catalog else r.policy_id
            detail = "<br>".join(
                _md(
                    f"{f['where']}: "
                    + ("unverifiable: " if f.get("kind") == "review" else "")
                    + f"{f['message']} (expected {f['expected']}; actual {f['actual']})"
                    + (" — waived" if f.get("waiver") else "")
                    + (" — below --fail-on" if f.get("below_fail_on") else "")
                )
                for f in r.findings
            ) or _md(r.reason)
            lines.append(f"| {r.policy_id} {_md(title)} | {r.tier} | {r.outcome} | {detail} |")
    if waivers:
        lines += [
            "",
            "## Waivers",
            "",
            "| policy | resource | owner | expires | days left |",
            "|---|---|---|---|---|",
        ]
        for w in waivers:
            left = w.days_left(today)
            state = f"{left}" if left >= 0 else f"EXPIRED {-left} days ago"
            resource = _code(w.resource).replace("|", "\\|")
            lines.append(
                f"| {_md(w.policy_id)} | {resource} | {_md(w.owner)} | {w.expires} | {state} |"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="backslashreplace")


# Markdown and HTML specials of a table cell, and a backslash that would escape what follows.
_MD_SPECIAL = re.compile(r"[|`*_\[\]<>&]|\\(?=[!-/:-@\[-`{-~]|$)")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _md(text: str) -> str:
    """Text as the literal content of a Markdown table cell: inert (its newlines escaped), its
    Markdown and HTML specials escaped, so the row keeps its columns and renders no markup."""
    return _MD_SPECIAL.sub(lambda m: _ENTITIES.get(m[0]) or "\\" + m[0], inert(text))


def _code(text: str) -> str:
    """Inert text as a Markdown code span, its fence longer than any run of backticks in it."""
    shown = inert(text)
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"
