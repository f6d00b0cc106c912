"""The main job's sources policies: everything under --infra can be read (inside the tree),
stays within the readers' limits and parses; on --target local, the Terraform the stack would
apply runs nothing on this machine; the waivers in force are valid."""

import datetime as dt

import pytest

from policies.catalog import load_catalog
from policies.model import Finding, Location

SOURCE_POLICIES = ("SRC-001", "SRC-002", "SRC-003")


@pytest.mark.static
@pytest.mark.parametrize("policy", SOURCE_POLICIES)
def test_sources(policy, sources, gate):
    title = load_catalog()[policy].title
    gate(
        policy,
        [
            Finding(
                policy,
                str(e.path.name),
                e.message,
                title.lower(),
                e.message,
                Location(e.path, e.line),
            )
            for e in sources.check_all()
            if e.policy == policy
        ],
    )


@pytest.mark.live
@pytest.mark.parametrize("policy", ["SRC-004"])
def test_local_stack_applies_only_resources(policy, pytestconfig, sources, terraform_project, gate):
    """What the embedded stack refuses to apply, one finding per block (--allow-exec lifts it)."""
    from policies.posture import embedded
    from policies.tfguard import refusals

    if not embedded(pytestconfig, "aws"):
        pytest.skip("no Terraform is applied: the target is not the embedded stack")
    if pytestconfig.getoption("--allow-exec"):
        pytest.skip("--allow-exec: the roots are applied as they are")
    gate(
        policy,
        [
            Finding(
                policy,
                r.what,
                r.why,
                "only resources created in the local AWS endpoint",
                r.what,
                Location(r.path, r.line),
            )
            for r in refusals(sources, terraform_project.roots)
        ],
    )


@pytest.mark.static
def test_waivers_valid(waivers, waivers_path):
    """Every waiver names a catalog policy and has not expired (an expired waiver fails the run)."""
    today = dt.date.today()
    catalog = load_catalog()
    problems = [
        f"{waivers_path}: waiver {w.policy_id} {w.resource} (owner {w.owner}) "
        + (
            "names no catalog policy"
            if w.policy_id not in catalog
            else f"expired on {w.expires}: renew it with a reason or fix the finding"
        )
        for w in waivers.get()
        if w.policy_id not in catalog or w.days_left(today) < 0
    ]
    assert not problems, "\n".join(problems)
