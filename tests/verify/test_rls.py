"""The RLS policies on --infra's migrations and app code (static) and on the database (live)."""

import pytest
from hypothesis import given, settings

from policies.catalog import load_catalog, policy_ids
from policies.model import Finding, Location
from policies.rls.checks import CHECKS
from policies.rls.isolation import run_scenario, scenarios

RLS020 = load_catalog()["RLS-020"]


def _require_tables(inventory, where):
    if not inventory.tables:
        pytest.fail(
            f"no table with row-level security or user data found in {where}", pytrace=False
        )


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("rls", "static"))
def test_static(policy, rls_static, infra_dir, gate):
    _require_tables(rls_static, f"the SQL under {infra_dir}")
    gate(policy, CHECKS[policy](rls_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", [p for p in policy_ids("rls", "live") if p in CHECKS])
def test_live(policy, rls_live, gate):
    _require_tables(rls_live, "the database")
    gate(policy, CHECKS[policy](rls_live, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", ["RLS-020"])
def test_isolation(policy, pg_conn, gate):
    """Generated users, rows and operations as the app role (--hypothesis-profile=long: 2,000)."""

    @settings(database=None)
    @given(scenario=scenarios(RLS020.params))
    def isolated(scenario):
        violations = run_scenario(pg_conn, RLS020.params, scenario, RLS020.params["app_role"])
        assert not violations, "; ".join(violations)

    try:
        isolated()
    except AssertionError as exc:
        first = str(exc).splitlines()[0]
        gate(
            policy,
            [
                Finding(
                    policy,
                    RLS020.params["app_role"],
                    "isolation violated",
                    "no foreign private row reached",
                    first,
                    Location(resource="database"),
                )
            ],
        )
    gate(policy, [])
