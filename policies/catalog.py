"""The policy catalog: each family folder's catalog.yaml (metadata and parameters), read once."""

from __future__ import annotations

from functools import cache
from importlib import resources

from policies.model import SEVERITIES, Policy
from policies.yamlfile import packaged

# The severity of a policy's unverifiable (review) findings unless its entry says otherwise:
# they fail at the default --fail-on low; --fail-on medium reports them without failing.
UNVERIFIABLE = "low"


@cache
def load_catalog() -> dict[str, Policy]:
    """All policies by id, validated for the fields every policy must carry."""
    catalog: dict[str, Policy] = {}
    for family, entry in _entries():
        policy = Policy(
            id=entry["id"],
            family=family,
            title=entry["title"],
            severity=entry["severity"],
            tiers=tuple(entry["tiers"]),
            rationale=entry["rationale"],
            remediation=entry["remediation"],
            params=entry.get("params", {}),
            unverifiable=entry.get("unverifiable", UNVERIFIABLE),
        )
        for severity in (policy.severity, policy.unverifiable):
            if severity not in SEVERITIES:
                raise ValueError(f"{policy.id}: severity {severity!r} not in {SEVERITIES}")
        if policy.id in catalog:
            raise ValueError(f"{policy.id}: duplicate policy id (policies/{family}/catalog.yaml)")
        catalog[policy.id] = policy
    return catalog


def _entries() -> list[tuple[str, dict]]:
    """Every family folder's entries, families in name order."""
    root = resources.files("policies")
    found = []
    for folder in sorted(root.iterdir(), key=lambda f: f.name):
        if folder.is_dir() and folder.joinpath("catalog.yaml").is_file():
            entries = packaged(f"policies.{folder.name}", "catalog.yaml") or []
            found += [(folder.name, entry) for entry in entries]
    return found


def policy_ids(family: str, tier: str) -> list[str]:
    """The ids of a family's policies that run in a tier ("static" or "live")."""
    return [p.id for p in load_catalog().values() if p.family == family and tier in p.tiers]
