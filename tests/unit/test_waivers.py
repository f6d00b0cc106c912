"""Waivers: matched by policy and resource pattern, expired ones waive nothing and fail the run."""

import datetime as dt

import pytest

from policies.model import Finding, Location, Resource, finding_to_json
from policies.waivers import load_waivers, waiver_for
from tests.helpers import run_suite, suite

TODAY = dt.date(2026, 11, 26)
FINDING = Finding(
    "WAF-006",
    Resource("managed-rule", ("dev-pingvas-waf", "Core", "SizeRestrictions_BODY")),
    "m",
    "e",
    "a",
    Location(),
)


def write(tmp_path, expires, resource="*-pingvas-waf/Core/*"):
    path = tmp_path / "waivers.yaml"
    path.write_text(
        f"- id: WAF-006\n  resource: '{resource}'\n  reason: uploads\n  owner: sec\n"
        f"  expires: {expires}\n"
    )
    return load_waivers(path)


def test_matching_unexpired_waiver_waives(tmp_path):
    waiver = waiver_for(FINDING, write(tmp_path, "2026-11-26"), TODAY)
    assert waiver is not None and waiver.days_left(TODAY) == 0


def test_waivers_match_the_resource_names_joined_and_reports_carry_kind_and_names():
    assert str(FINDING.resource) == "dev-pingvas-waf/Core/SizeRestrictions_BODY"
    assert FINDING.resource.name == "SizeRestrictions_BODY"
    data = finding_to_json(FINDING)
    assert data["resource"] == "dev-pingvas-waf/Core/SizeRestrictions_BODY"
    assert data["resource_kind"] == "managed-rule"
    assert data["resource_names"] == ["dev-pingvas-waf", "Core", "SizeRestrictions_BODY"]
    assert FINDING.render("fix").startswith(
        "<unknown>: WAF-006 dev-pingvas-waf/Core/SizeRestrictions_BODY: m"
    )


@pytest.mark.parametrize(
    ("expires", "resource"),
    [("2026-11-25", "*-pingvas-waf/Core/*"), ("2027-01-01", "prod-pingvas-waf/*")],
    ids=["expired", "other-resource"],
)
def test_expired_or_unmatched_waiver_waives_nothing(tmp_path, expires, resource):
    assert waiver_for(FINDING, write(tmp_path, expires, resource), TODAY) is None


def test_waiver_without_owner_is_an_error_naming_the_entry(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text("- id: WAF-006\n  resource: x\n  reason: r\n  expires: 2027-01-01\n")
    with pytest.raises(ValueError, match=r"waiver #1 lacks owner"):
        load_waivers(path)


def test_expired_waiver_fails_the_run(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "- id: WAF-006\n  resource: '*'\n  reason: r\n  owner: sec\n  expires: 2020-01-01\n"
    )
    done = run_suite(*suite("sources"), "--waivers", str(path), "--reports", str(tmp_path / "r"))
    assert done.returncode == 1, done.stdout
    assert "expired on 2020-01-01" in done.stdout


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("- 42\n", r"waiver #1 is not a mapping \(int\)"),
        (
            "- id: WAF-006\n  resource: x\n  reason: r\n  owner: ''\n  expires: 2027-01-01\n",
            "owner",
        ),
        (
            "- id: WAF-006\n  resource: x\n  reason: r\n  owner: null\n  expires: 2027-01-01\n",
            "owner",
        ),
        ("- id: WAF-006\n  resource: x\n  reason: r\n  owner: o\n  expires: soon\n", "YYYY-MM-DD"),
        ("id: WAF-006\n", "a list of waivers expected"),
    ],
    ids=["not-a-mapping", "empty-owner", "null-owner", "bad-date", "not-a-list"],
)
def test_malformed_waiver_is_an_error_naming_the_entry(tmp_path, text, error):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=error):
        load_waivers(path)


def test_a_malformed_waivers_file_fails_in_one_line_and_the_reports_are_written(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text("- 42\n")
    done = run_suite(*suite("sources"), "--waivers", str(path), "--reports", str(tmp_path / "r"))
    assert done.returncode == 1, done.stdout
    assert "waiver #1 is not a mapping" in done.stdout and "Traceback" not in done.stdout
    assert "## sources" in (tmp_path / "r" / "summary.md").read_text()
