"""The policy reference (docs/policies.md), generated from the catalog and the fixture tree."""

from __future__ import annotations

from pathlib import Path

from policies.model import Policy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEADER = (
    "# Policy reference\n\n"
    "Generated from `policies/catalog.yaml` by `pytest --list-policies`; a self-test keeps it"
    " current.\nTiers: static (files under `--infra`), live (the `--target`).\n"
)


def render(catalog: dict[str, Policy]) -> str:
    parts = [HEADER]
    families = sorted({p.family for p in catalog.values()})
    parts.append("\n| id | family | severity | tiers | title |\n|---|---|---|---|---|\n")
    for policy in catalog.values():
        parts.append(
            f"| [{policy.id}](#{policy.id.lower()}) | {policy.family} | {policy.severity}"
            f" | {', '.join(policy.tiers)} | {policy.title} |\n"
        )
    for family in families:
        parts.append(f"\n## {family}\n")
        for policy in (p for p in catalog.values() if p.family == family):
            parts.append(_entry(policy))
    return "".join(parts)


def _entry(policy: Policy) -> str:
    bad = FIXTURES / policy.family / "bad" / policy.id
    good = FIXTURES / policy.family / "good"
    fixtures = []
    if bad.is_dir():
        fixtures.append(f"known-bad `fixtures/{policy.family}/bad/{policy.id}/`")
    if good.is_dir() and "static" in policy.tiers:
        fixtures.append(f"known-good `fixtures/{policy.family}/good/`")
    if "live" in policy.tiers and not bad.is_dir():
        fixtures.append("live self-tests in `tests/unit/`")
    return (
        f"\n### {policy.id}\n\n**{policy.title}** — severity {policy.severity}, tiers "
        f"{', '.join(policy.tiers)}.\n\n{policy.rationale}\n\n*Remediation:* "
        f"{policy.remediation}\n\n*Fixtures:* {'; '.join(fixtures) or 'none'}\n"
    )
