"""The main job's sources policy: everything under --infra parses."""

import datetime as dt

import pytest

from policies.catalog import load_catalog
from policies.model import Finding, Location


@pytest.mark.static
def test_sources_parse(terraform_project, rls_static, yaml_files, gate):
    gate(
        "SRC-001",
        [
            Finding(
                "SRC-001",
                str(e.path.name),
                "cannot be parsed",
                "a file its parser accepts",
                e.message,
                Location(e.path, e.line),
            )
            for e in [*terraform_project.errors, *rls_static.errors, *yaml_files[1]]
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
        for w in waivers
        if w.policy_id not in catalog or w.days_left(today) < 0
    ]
    assert not problems, "\n".join(problems)
