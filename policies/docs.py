"""The policy reference (docs/policies.md, `--list-policies`), generated from the catalog (with
the scanned repository's parameters when it has a configuration) and the registry."""

from __future__ import annotations

import json
from pathlib import Path

from policies.model import Policy
from policies.registry import bodies, families

HEADER = (
    "# Policy reference\n\n"
    "Generated from `policies/<family>/catalog.yaml` by `pytest --list-policies`;"
    " a self-test keeps it current.\n"
    "Tiers: static (files under `--infra`), live (the `--target`).\n"
)


def render(catalog: dict[str, Policy], config: Path | None = None) -> str:
    parts = [HEADER]
    if config is not None:
        parts.append(f"\nParameters as configured by `{config}`.\n")
    parts.append("\n| id | family | severity | tiers | title |\n|---|---|---|---|---|\n")
    for policy in catalog.values():
        parts.append(
            f"| [{policy.id}](#{policy.id.lower()}) | {policy.family} | {policy.severity}"
            f" | {', '.join(policy.tiers)} | {policy.title} |\n"
        )
    for name, family in sorted(families().items()):
        parts.append(f"\n## {name}\n\nApplies to: every {family.what} under `--infra`.\n")
        for policy in (p for p in catalog.values() if p.family == name):
            parts.append(_entry(policy))
    return "".join(parts)


def _entry(policy: Policy) -> str:
    registry = bodies()
    body = "check" if policy.id in registry.checks else "probe"
    fixtures = (
        f"known-bad `fixtures/{policy.family}/bad/{policy.id}/`, known-good"
        f" `fixtures/{policy.family}/good/`"
        if body == "check" and "static" in policy.tiers
        else "live self-tests in `tests/unit/`"
    )
    params = "".join(f"- `{k}`: `{json.dumps(v)}`\n" for k, v in policy.params.items())
    return (
        f"\n### {policy.id}\n\n**{policy.title}** — severity {policy.severity}, tiers "
        f"{', '.join(policy.tiers)}, a {body}.\n\n{policy.rationale}\n\n*Remediation:* "
        f"{policy.remediation}\n\n*Fixtures:* {fixtures}\n"
        + (f"\n*Parameters:*\n\n{params}" if params else "")
    )
