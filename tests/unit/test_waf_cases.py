"""WAF case files: infra/'s cases hold on infra/'s Web ACL, a changed expectation fails exactly
its case with the trace, and every malformed case is one error naming the file, the case and
the key (never a traceback)."""

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.sources import Sources
from policies.tree import Tree
from policies.waf import FAMILY
from policies.waf.cases import is_case_file, load_cases, parse_cases, run_case
from tests.helpers import ROOT

INFRA_CASES = ROOT / "infra" / "waf-cases.yaml"
INVENTORY = FAMILY.read(Tree(Sources(ROOT / "infra")))
CASES, ERRORS = load_cases(INFRA_CASES)


def test_infra_case_file_reads_without_errors():
    assert ERRORS == []
    assert is_case_file(yaml.safe_load(INFRA_CASES.read_text()))
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_infra_case_holds(case):
    result = run_case(case, INVENTORY)
    assert result.holds, result.render()
    assert result.acl == "dev-pingvas-waf"


def test_changing_one_expected_action_fails_exactly_that_case_with_the_trace():
    data = yaml.safe_load(INFRA_CASES.read_text())
    changed = next(c for c in data["cases"] if c["expect"]["action"] == "block")
    changed["expect"]["action"] = "allow"
    cases, errors = parse_cases(data, INFRA_CASES)
    assert errors == []
    failing = [r for r in (run_case(c, INVENTORY) for c in cases) if not r.holds]
    assert [r.case.name for r in failing] == [changed["name"]]
    (difference,) = failing[0].differences
    assert (difference.key, difference.expected, difference.actual) == ("action", "allow", "block")
    rendered = failing[0].render()
    assert changed["expect"]["rule"] in rendered and "[0] AWSManagedRules" in rendered


def _errors(case: dict) -> list[tuple[str | None, str]]:
    _, errors = parse_cases({"cases": [case]}, Path("waf-cases.yaml"))
    return [(e.case, e.key) for e in errors]


GOOD = {"name": "ok", "request": {"uri": "/"}, "expect": {"action": "allow"}}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"request": {"uri": "/", "ip": "300.1.1.1"}}, "request.ip"),
        ({"request": {"uri": "/", "country": "usa"}}, "request.country"),
        ({"request": {"uri": "api"}}, "request.uri"),
        ({"request": {"uri": "/", "body": "x", "body_size": 3}}, "request.body"),
        ({"request": {"uri": "/", "body_size": -1}}, "request.body_size"),
        ({"request": {"uri": "/", "headers": ["User-Agent: x"]}}, "request.headers"),
        ({"request": {"uri": "/", "verb": "GET"}}, "request.verb"),
        ({"managed": {"AWSManagedRulesCommonRuleSet": ["SizeRestrictions_Body"]}},
         "managed.AWSManagedRulesCommonRuleSet"),
        ({"managed": {"AWSManagedRulesCommonRuleSet": "SizeRestrictions_BODY"}},
         "managed.AWSManagedRulesCommonRuleSet"),
        ({"rules": {"SQLi": "yes"}}, "rules"),
        ({"expect": {"action": "deny"}}, "expect.action"),
        ({"expect": {"action": "count"}}, "expect.rule"),
        ({"expect": {"action": "block", "status": "403"}}, "expect.status"),
        ({"expect": {"action": "block", "labels": "x"}}, "expect.labels"),
        ({"repeat": 10}, "within_s"),
        ({"repeat": 0, "within_s": 1}, "repeat"),
        ({"name": ""}, "name"),
    ],
)  # fmt: skip
def test_each_malformed_key_is_one_error_naming_the_case_and_key(change, key):
    case = {**copy.deepcopy(GOOD), **change}
    errors = _errors(case)
    assert key in [k for _, k in errors]
    assert all(name in ("ok", "#1") for name, _ in errors)


def test_an_unknown_managed_rule_names_the_right_spelling():
    case = {**GOOD, "managed": {"AWSManagedRulesCommonRuleSet": ["SizeRestrictions_Body"]}}
    _, errors = parse_cases({"cases": [case]}, Path("waf-cases.yaml"))
    assert "SizeRestrictions_BODY" in errors[0].message
    assert str(errors[0]).startswith("waf-cases.yaml: case 'ok': managed.")


def test_files_that_are_not_case_files(tmp_path: Path):
    broken = tmp_path / "waf-cases.yaml"
    broken.write_text("cases: [\n")
    assert [e.key for e in load_cases(broken)[1]] == ["file"]
    broken.write_text("- just a list\n")
    assert [e.key for e in load_cases(broken)[1]] == ["cases"]
    assert not is_case_file({"cases": [{"request": {}}]})
    duplicate = {"cases": [GOOD, GOOD]}
    assert [e.key for e in parse_cases(duplicate, broken)[1]] == ["name"]


def test_case_lines_are_kept_for_reports():
    assert all(c.line and c.line > 1 for c in CASES)
    text = INFRA_CASES.read_text().splitlines()
    assert all(text[c.line - 1].lstrip().startswith("- name:") for c in CASES)


def _case(**spec):
    cases, errors = parse_cases({"cases": [{"name": "c", **spec}]}, Path("t.yaml"))
    assert errors == []
    return cases[0]


def test_acl_glob_declarations_and_undecidable_verdicts_are_problems():
    declared = {"AWSManagedRulesAmazonIpReputationList": []}
    no_acl = _case(acl="prod-*", request={"uri": "/"}, expect={"action": "allow"})
    assert run_case(no_acl, INVENTORY).problems[0].startswith("acl: no Web ACL matches")
    stray = _case(
        request={"uri": "/"},
        managed={**declared, "AWSManagedRulesBotControlRuleSet": []},
        expect={"action": "allow"},
    )
    result = run_case(stray, INVENTORY)
    assert not result.holds
    assert result.problems[0].startswith("managed.AWSManagedRulesBotControlRuleSet")
    undeclared = _case(
        request={"uri": "/", "headers": {"User-Agent": "x"}}, expect={"action": "allow"}
    )
    result = run_case(undeclared, INVENTORY)
    assert not result.holds and result.verdict is not None and not result.verdict.decided


def test_repeat_takes_the_last_request_and_count_expectations():
    managed = {"AWSManagedRulesAmazonIpReputationList": [], "AWSManagedRulesSQLiRuleSet": [],
               "AWSManagedRulesKnownBadInputsRuleSet": []}  # fmt: skip
    request = {"uri": "/", "headers": {"User-Agent": "x"}, "ip": "192.0.2.9"}
    slow = _case(request=request, managed=managed, repeat=2001, within_s=3000,
                 expect={"action": "allow", "rule": "default"})  # fmt: skip
    assert run_case(slow, INVENTORY).holds  # 2001 requests over 50 minutes: never 2000 in 5
    counted = _case(
        request={**request, "body_size": 9000},
        managed=managed,
        expect={"action": "count", "rule": "AWSManagedRulesCommonRuleSet:SizeRestrictions_BODY"},
    )
    assert run_case(counted, INVENTORY).holds


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["name", "request", "expect", "managed", "uri", "action", "repeat",
                         "within_s", "headers", "body_size", "ip", "rules", "labels"]),
        inner,
        max_size=4,
    ),
    max_leaves=15,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(VALUES, max_size=3))
def test_wrong_shapes_are_errors_not_tracebacks(items):
    cases, errors = parse_cases({"cases": items}, Path("t.yaml"))
    assert len(cases) <= len(items)
    assert all(e.key and e.message and str(e).startswith("t.yaml: ") for e in errors)
    for case in cases:
        run_case(case, INVENTORY)
