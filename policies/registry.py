"""The check bodies of every family, by policy id (each family's checks.py registers its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.model import Finding, Policy

Check = Callable[[Any, Policy], list[Finding]]
CHECKS: dict[str, Check] = {}


def check(policy_id: str) -> Callable[[Check], Check]:
    """Register a check body: a pure function (inventory, policy) -> findings."""

    def register(fn: Check) -> Check:
        if policy_id in CHECKS:
            raise ValueError(f"{policy_id}: two check bodies")
        CHECKS[policy_id] = fn
        return fn

    return register


FAMILY_CHECKS = (
    "policies.waf.checks",
    "policies.rls.checks",
    "policies.secrets.checks",
    "policies.alarms.checks",
    "policies.metrics.checks",
    "policies.pipeline.checks",
    "policies.logging.checks",
    "policies.k8s.checks",
)


def all_checks() -> dict[str, Check]:
    """Every registered check body (imports each family's checks module once)."""
    import importlib

    for module in FAMILY_CHECKS:
        importlib.import_module(module)
    return CHECKS
