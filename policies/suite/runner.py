"""How one case of the packaged suite runs: the family's inventory, applicability, the check
body or probe, then the gate. Findings and not-applicable results come from the test's call
phase; a required family that is absent fails."""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import Finding, Policy
from policies.registry import Case, Family, NotApplicable, applicability, families
from policies.session import settings


def run_case(case: Case, request: pytest.FixtureRequest, gate: Any) -> None:
    run = settings(request.config)
    policy = run.catalog[case.policy_id]
    family = families()[policy.family]
    request.node.pingvas_policy = policy.id
    declared = request.getfixturevalue(family.static)
    outside = request.getfixturevalue("sources").outside  # read while building inventories
    request.node.pingvas_outside = [str(path) for path in outside]
    absent = not family.present(declared)
    reason = applicability(case, family, declared)
    if reason is not None:
        reason = f"{reason} under {run.infra}"
    else:
        try:
            findings = _findings(case, request, policy, family, declared)
        except NotApplicable as exc:
            reason = str(exc)
    if reason is not None:
        request.node.pingvas_not_applicable = reason
        if absent and family.name in run.config.require:
            pytest.fail(f"{family.name} is required by {run.config.path}: {reason}", pytrace=False)
        pytest.skip(f"not applicable: {reason}")
    gate(policy.id, findings)


def _findings(
    case: Case, request: pytest.FixtureRequest, policy: Policy, family: Family, declared: Any
) -> list[Finding]:
    if case.check is not None:
        if case.tier == "static":
            if case.param and case.check.each is not None:
                declared = case.check.each.narrow(declared, case.param)
            return case.check.body(declared, policy)
        assert family.live is not None, f"{family.name} has no live inventory"
        return case.check.body(request.getfixturevalue(family.live).get(), policy)
    assert case.probe is not None
    needs = {name: request.getfixturevalue(name) for name in case.probe.needs}
    if case.probe.params:
        needs["param"] = case.param
    return case.probe.body(policy, **needs)
