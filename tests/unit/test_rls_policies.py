"""Each static RLS policy catches its known-bad fixture at the marked lines, passes the good one;
the guide's RLS migration and session code (fixtures/seed) fail as the brief says."""

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.rls.checks import CHECKS
from policies.rls.static import read_static
from tests.helpers import FIXTURES, expected_lines, finding_lines

RLS_STATIC = policy_ids("rls", "static")
GOOD = sorted(p.name for p in (FIXTURES / "rls" / "good").iterdir())


def _findings(directory, policy_id):
    inventory = read_static(directory)
    assert not inventory.errors, inventory.errors
    return CHECKS[policy_id](inventory, load_catalog()[policy_id])


def test_every_static_rls_policy_has_a_check_and_a_bad_fixture():
    assert set(RLS_STATIC) <= set(CHECKS)
    missing = [p for p in RLS_STATIC if not (FIXTURES / "rls" / "bad" / p).is_dir()]
    assert not missing, f"no known-bad fixture for {missing}"


@pytest.mark.parametrize("policy_id", RLS_STATIC)
def test_known_bad(policy_id):
    directory = FIXTURES / "rls" / "bad" / policy_id
    expected = expected_lines(directory, policy_id)
    assert expected, f"{directory} marks no line with 'expect: {policy_id}'"
    assert finding_lines(_findings(directory, policy_id)) == expected


@pytest.mark.parametrize("policy_id", RLS_STATIC)
@pytest.mark.parametrize("good", GOOD)
def test_known_good(good, policy_id):
    directory = FIXTURES / "rls" / "good" / good
    assert finding_lines(_findings(directory, policy_id)) == expected_lines(directory, policy_id)


def test_guide_defects_are_reported():
    inventory = read_static(FIXTURES / "seed")
    found = {pid: CHECKS[pid](inventory, load_catalog()[pid]) for pid in RLS_STATIC}
    not_forced = {f.resource for f in found["RLS-002"]}
    assert not_forced == {
        f"dev_pingvas.{t}" for t in ("users", "images", "boards", "credit_transactions")
    }
    assert len(found["RLS-005"]) == 11  # every policy reads the setting strictly
    assert {f.resource.split("/")[0] for f in found["RLS-006"]} == {
        "dev_pingvas.images",
        "dev_pingvas.boards",
        "dev_pingvas.credit_transactions",
    }
    assert any("session" in f.message for f in found["RLS-009"])
    assert [f.message for f in found["RLS-010"]] == ["SQL built by f-string"]
    assert {f.message.split("'")[1] for f in found["RLS-011"]} == {
        "g",
        "text",
        "settings",
        "SessionLocal",
    }
