"""SRC-004, on the live tier: what the embedded stack refuses to apply, one finding per block
(--allow-exec lifts the refusal)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import Finding, Location, Policy, resource
from policies.posture import embedded
from policies.registry import NotApplicable, probe
from policies.sources import Sources


@probe("SRC-004", needs=("pytestconfig", "sources", "tree"))
def applies_only_resources(
    policy: Policy, pytestconfig: pytest.Config, sources: Sources, tree: Any
) -> list[Finding]:
    from policies.tfguard import refusals

    if not tree.terraform.roots:
        raise NotApplicable("no Terraform root (a directory with a provider block)")
    if not embedded(pytestconfig, "aws"):
        pytest.skip("no Terraform is applied: the target is not the embedded stack")
    if pytestconfig.getoption("--allow-exec"):
        pytest.skip("--allow-exec: the roots are applied as they are")
    return [
        Finding(
            policy.id,
            resource("terraform-block", r.what),
            r.why,
            "only resources created in the local AWS endpoint",
            r.what,
            Location(r.path, r.line),
        )
        for r in refusals(sources, tree.terraform.roots)
    ]
