"""Bounded work on hostile input (issue 26, item 8): the WAF simulator's regular expressions
run in RE2 (linear time), a run's WAF cases and their repeats have one budget, and a dashboard's
line lookups are by offset. Each hostile run is a subprocess with a generous timeout that only
guards against a hang; no time is asserted."""

import json
import subprocess
import sys

import pytest

from policies.model import Location
from policies.sources import Sources
from policies.waf.casefiles import read_case_files
from policies.waf.cases import RUN_BUDGET
from policies.waf.model import RegexSet, WafInventory, WafRule, WebAcl
from policies.waf.request import Request
from policies.waf.simulator import Simulator
from tests.helpers import ROOT

HANG_GUARD_S = 120
VISIBILITY = """    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "m"
      sampled_requests_enabled   = true
    }"""
SLOW_WAF = f"""resource "aws_wafv2_regex_pattern_set" "agents" {{
  name  = "agents"
  scope = "REGIONAL"
  regular_expression {{
    regex_string = "^(b|bb)+$"
  }}
}}

resource "aws_wafv2_web_acl" "main" {{
  name  = "slow-waf"
  scope = "REGIONAL"
  default_action {{
    allow {{}}
  }}
  rule {{
    name     = "OnlyAs"
    priority = 0
    action {{
      block {{}}
    }}
    statement {{
      regex_match_statement {{
        regex_string = "^(a+)+$"
        field_to_match {{
          query_string {{}}
        }}
        text_transformation {{
          priority = 0
          type     = "NONE"
        }}
      }}
    }}
{VISIBILITY}
  }}
  rule {{
    name     = "OnlyBs"
    priority = 1
    action {{
      block {{}}
    }}
    statement {{
      regex_pattern_set_reference_statement {{
        arn = aws_wafv2_regex_pattern_set.agents.arn
        field_to_match {{
          single_header {{
            name = "user-agent"
          }}
        }}
        text_transformation {{
          priority = 0
          type     = "NONE"
        }}
      }}
    }}
{VISIBILITY}
  }}
{VISIBILITY}
}}
"""
RATE_WAF = f"""resource "aws_wafv2_web_acl" "main" {{
  name  = "rate-waf"
  scope = "REGIONAL"
  default_action {{
    allow {{}}
  }}
  rule {{
    name     = "RateLimit"
    priority = 0
    action {{
      block {{}}
    }}
    statement {{
      rate_based_statement {{
        limit              = 1000
        aggregate_key_type = "IP"
      }}
    }}
{VISIBILITY}
  }}
{VISIBILITY}
}}
"""
# The WAF-015 check body over a tree, its findings as JSON (run in a subprocess: a hang
# ends at the timeout instead of stopping the test run).
CASES_HOLD = """
import json, sys
from pathlib import Path
from policies.catalog import load_catalog
from policies.sources import Sources
from policies.tree import Tree
from policies.waf import FAMILY
from policies.waf.checks import cases_hold

inventory = FAMILY.read(Tree(Sources(Path(sys.argv[1]))))
found = cases_hold(inventory, load_catalog()["WAF-015"])
print(json.dumps([[f.policy_id, f.location.path.name, f.location.line, f.actual] for f in found]))
"""
# read_dashboard over one file: each query's line and each dashboard issue's line.
READ_DASHBOARD = """
import json, sys
from pathlib import Path
from policies.metrics.dashboards import read_dashboard
from policies.metrics.model import MetricsInventory
from policies.sources import Sources

path = Path(sys.argv[1])
inventory = MetricsInventory()
read_dashboard(inventory, path, Sources(path.parent))
print(json.dumps({
    "queries": [[q.expr, q.location.line] for q in inventory.queries],
    "issues": [i.location.line for i in inventory.dashboard_issues],
}))
"""


def _run(script: str, *args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


# --- regular expressions -------------------------------------------------------------------------


def test_catastrophic_patterns_fed_by_cases_finish(tmp_path):
    # ^(a+)+$ and ^(b|bb)+$ backtrack exponentially in Python's re on a long run that fails at
    # its end; RE2 decides them in one pass. The matching cases show the semantics are kept.
    (tmp_path / "main.tf").write_text(SLOW_WAF)
    agent, bs = {"User-Agent": "b" * 3000 + "c"}, {"User-Agent": "bb"}
    cases = [
        ("long a's", {"uri": "/s?" + "a" * 3000 + "b"}, {"action": "allow", "rule": "default"}),
        ("only a's", {"uri": "/s?aaaa"}, {"action": "block", "rule": "OnlyAs"}),
        ("long b's", {"uri": "/", "headers": agent}, {"action": "allow", "rule": "default"}),
        ("only b's", {"uri": "/", "headers": bs}, {"action": "block", "rule": "OnlyBs"}),
    ]
    written = [{"name": n, "request": r, "expect": e} for n, r, e in cases]
    (tmp_path / "waf-cases.yaml").write_text(json.dumps({"cases": written}))
    assert _run(CASES_HOLD, str(tmp_path)) == []


def _regex_acl(*patterns: str) -> WebAcl:
    rules = [
        WafRule(
            f"R{i}",
            i,
            "block",
            None,
            {
                "regex_match_statement": [
                    {
                        "regex_string": pattern,
                        "field_to_match": [{"uri_path": [{}]}],
                        "text_transformation": [{"priority": 0, "type": "NONE"}],
                    }
                ]
            },
            [],
            Location(resource=f"R{i}"),
        )
        for i, pattern in enumerate(patterns)
    ]
    return WebAcl("re-waf", "REGIONAL", "allow", rules, Location(resource="re-waf"))


@pytest.mark.parametrize(
    "pattern",
    [
        r"^/(?=admin)",  # lookahead (RE2 has no lookaround)
        r"^/(?<!x)admin",  # lookbehind
        r"^/(a)\1",  # a backreference
        r"^/(?>admin)",  # an atomic group
        r"^/a++",  # a possessive quantifier
        r"^/(a)?(?(1)a|b)",  # a conditional
    ],
)
def test_a_pattern_re2_cannot_compile_is_undecidable_naming_the_rule(pattern):
    verdict = Simulator(_regex_acl(pattern), WafInventory(), {}).evaluate(Request.of(uri="/aa"))
    (trace,) = verdict.rules
    assert (trace.name, trace.matched, trace.steps[0].result) == ("R0", None, None)
    assert len(verdict.undecidable) == 1 and verdict.undecidable[0].startswith("rule R0: ")


def test_a_pattern_set_re2_cannot_compile_is_undecidable():
    statement = {
        "regex_pattern_set_reference_statement": [
            {
                "arn": "arn:set",
                "field_to_match": [{"uri_path": [{}]}],
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }
        ]
    }
    rule = WafRule("Set", 0, "block", None, statement, [], Location(resource="Set"))
    acl = WebAcl("re-waf", "REGIONAL", "allow", [rule], Location(resource="re-waf"))
    sets = {"arn:set": RegexSet("s", "arn:set", ["admin", r"(\w)\1"], Location())}
    verdict = Simulator(acl, WafInventory(regex_sets=sets), {}).evaluate(Request.of(uri="/x"))
    assert (verdict.rules[0].matched, verdict.action) == (None, "allow")
    assert verdict.undecidable[0].startswith("rule Set: ")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [  # as Python's re read them (and PCRE does): search, case-sensitive, bytes
        (r"admin", "/x/admin/y", True),
        (r"^admin", "/admin", False),
        (r"ADMIN", "/admin", False),
        (r"(?i)ADMIN", "/admin", True),
        (r"^/admin$", "/admin", True),
        (r"^/admin$", "/admin\n", True),  # $ also before a final newline
        (r"^/admin$", "/admin\n\n", False),
        (r"^/a.c$", "/a\nc", False),  # . is not a newline
        (r"^/\d+$", "/123", True),
        (r"^/caf\xc3\xa9$", "/café", True),  # the pattern's bytes, as re reads them
        (r"^/[[:digit:]]+$", "/42", True),  # a POSIX class, as PCRE reads it
    ],
)
def test_regex_semantics_are_kept(pattern, path, expected):
    acl = _regex_acl(pattern)
    verdict = Simulator(acl, WafInventory(), {}).evaluate(Request.of(uri=path))
    assert verdict.rules[0].matched is expected


# --- the run's budget of WAF case requests -------------------------------------------------------


def test_cases_over_the_runs_budget_are_one_finding_naming_the_first_case(tmp_path):
    # 1,500 cases of 100,000 requests each: the first ones within the budget run, the rest are
    # one WAF-015 finding at the line of the first case over it.
    (tmp_path / "main.tf").write_text(RATE_WAF)
    case = "  - name: flood {i}\n    request: {{uri: /, ip: 198.51.100.9}}\n"
    case += "    repeat: 100000\n    within_s: 300\n    expect: {{action: block}}\n"
    (tmp_path / "waf-cases.yaml").write_text(
        "cases:\n" + "".join(case.format(i=i) for i in range(1500))
    )
    fitting = RUN_BUDGET // 100_000
    cases, errors = read_case_files(Sources(tmp_path))
    assert [c.name for c in cases] == [f"flood {i}" for i in range(fitting)]
    assert sum(c.repeat for c in cases) <= RUN_BUDGET
    (error,) = errors
    first_over = 2 + 5 * fitting  # each case is 5 lines after the `cases:` line
    assert (error.source.name, error.case, error.key, error.line) == (
        "waf-cases.yaml",
        f"flood {fitting}",
        "cases",
        first_over,
    )
    found = _run(CASES_HOLD, str(tmp_path))
    assert [(f[0], f[1], f[2]) for f in found] == [("WAF-015", "waf-cases.yaml", first_over)]


def test_the_projects_own_cases_are_far_below_the_budget():
    cases, errors = read_case_files(Sources(ROOT / "infra"))
    assert errors == [] and len(cases) >= 10
    assert sum(c.repeat for c in cases) * 100 <= RUN_BUDGET


# --- dashboard line lookups ----------------------------------------------------------------------


def test_a_dashboard_on_one_long_line_is_read_with_its_lines(tmp_path):
    # 60,000 minified panels (about 4 MB) on line 2: each panel's line lookup used to rescan
    # the whole line for a needle ("id": with a space) that minified JSON does not have.
    count = 60_000
    panels = [
        {"id": i, "type": "stat", "targets": [{"expr": f'up{{job="j{i}"}}'}]} for i in range(count)
    ]
    panels[7].pop("type")  # a dashboard issue at the panel's line
    body = json.dumps(panels, separators=(",", ":"))
    path = tmp_path / "big.json"
    path.write_text('{"title":"big","panels":\n' + body + "\n}\n")
    found = _run(READ_DASHBOARD, str(path))
    assert found["queries"] == [[f'up{{job="j{i}"}}', 2] for i in range(count)]
    assert found["issues"] == [2]


def test_dashboard_lines_are_the_lines_of_the_needles(tmp_path):
    # Formatted JSON: a panel's line is its "id" line, a target's the line of its expr.
    panels = [
        {"title": "t", "id": 1, "type": "stat", "targets": [{"refId": "A", "expr": "up"}]},
        {"title": "u", "type": "stat", "targets": [{"refId": "B", "expr": "down"}]},
    ]
    path = tmp_path / "d.json"
    text = json.dumps({"title": "d", "panels": panels}, indent=2)
    path.write_text(text)
    lines = text.splitlines()
    line_of = {
        needle: next(n for n, line in enumerate(lines, 1) if needle in line)
        for needle in ('"expr": "up"', '"expr": "down"')
    }
    found = _run(READ_DASHBOARD, str(path))
    assert found["queries"] == [
        ["up", line_of['"expr": "up"']],
        ["down", line_of['"expr": "down"']],
    ]


def test_offsets_cover_every_object(tmp_path):
    path = tmp_path / "x.json"
    text = '{"a": [{"b": 1},\n {"c": {"d": 2}}]}'
    path.write_text(text)
    value = Sources(tmp_path).json(path, positions=True)
    objects = [value, value["a"][0], value["a"][1], value["a"][1]["c"]]
    assert [text[o.start_offset : o.end_offset] for o in objects] == [
        text,
        '{"b": 1}',
        '{"c": {"d": 2}}',
        '{"d": 2}',
    ]
    assert [(o.start_line, o.end_line) for o in objects] == [(1, 2), (1, 1), (2, 2), (2, 2)]
