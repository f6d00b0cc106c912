"""Names and values from the scanned tree reach no output as live text (issue 26, item 10): a
file name, an HCL string or a YAML value carrying a newline, GitHub workflow commands, ANSI
escapes and a fake "140 passed" line is shown escaped on the terminal, in JUnit, SARIF and
summary.md, and the summary's tables keep their columns."""

import json
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from policies.redact import MASK, inert, mask, register
from tests.helpers import SUITE, run_suite

PAYLOAD = "\n::error::forged\n\x1b[32m140 passed\x1b[0m\u2028::warning::x ##[error]legacy"
# The payload in a YAML double-quoted string (escapes decoded), in HCL (raw but the newlines).
QUOTED = json.dumps(PAYLOAD)[1:-1]
HCL = PAYLOAD.replace("\n", "\\n")
WAF = """resource "aws_wafv2_web_acl" "main" {
  name  = "shop-waf%s"
  scope = "REGIONAL"
  default_action {
    allow {}
  }
  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "shop"
    sampled_requests_enabled   = true
  }
}
"""
ALARM = """resource "aws_cloudwatch_metric_alarm" "cpu" {
  alarm_name          = "cpu%s"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  evaluation_periods  = 3
  period              = 60
  statistic           = "Average"
  treat_missing_data  = "breaching"
  alarm_actions       = ["arn:aws:sns:us-east-1:123456789012:nowhere%s"]
}
"""
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: "web%s"
spec:
  replicas: "two%s"
"""
# What may not appear in a log line: C0 and C1 controls, DEL, Unicode line breaks.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _forged(text):
    """Lines a CI runner would take for a workflow command."""
    return [line for line in text.split("\n") if line.lstrip().startswith("::") or "##[" in line]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _cells(row):
    """A Markdown table row's cells, as GitHub splits them (a backslash escapes a pipe)."""
    return re.split(r"(?<!\\)\|", row)


def test_tree_names_and_values_are_inert_in_every_output(tmp_path):
    tree = tmp_path / "tree"
    (tree / "k8s").mkdir(parents=True)
    (tree / f"waf{PAYLOAD}.tf").write_text(WAF % "")
    (tree / "waf2.tf").write_text(WAF.replace('"main"', '"second"') % HCL)
    (tree / "alarms.tf").write_text(ALARM % (HCL, HCL))
    (tree / "k8s" / "web.yaml").write_text(MANIFEST % (QUOTED, QUOTED))
    reports = tmp_path / "r"
    done = run_suite(
        str(SUITE),
        "-m",
        "static",
        "--family",
        "waf,alarms,k8s",
        "-rA",
        "--infra",
        str(tree),
        "--reports",
        str(reports),
        "-p",
        "no:cacheprovider",
    )
    terminal = done.stdout + done.stderr
    assert done.returncode == 1, terminal[-3000:]
    assert "Traceback" not in terminal
    # the payload reached the outputs (escaped), from a file name and from HCL and YAML values
    for name in ("waf", "shop-waf", "cpu", "web"):
        shown = f"{name}\\x0a::error::forged\\x0a\\x1b[32m140 passed\\x1b[0m\\u2028"
        assert shown in terminal, shown
    assert _forged(terminal) == []
    assert CONTROL.findall(done.stdout.replace("\n", "")) == []
    outputs = {p.name: p.read_text(errors="surrogateescape") for p in reports.iterdir()}
    assert "\x1b" not in outputs["junit.xml"]
    assert _forged(outputs["junit.xml"]) == []
    sarif = json.loads(outputs["results.sarif"])
    assert sarif["runs"][0]["results"]
    for text in _strings(sarif):
        assert CONTROL.findall(text) == [], text
        assert not text.lstrip().startswith("::") and "##[" not in text, text
    summary = outputs["summary.md"]
    assert CONTROL.findall(summary.replace("\n", "")) == []
    assert _forged(summary) == []
    for table in re.findall(r"(?m)(?:^\|.*\n)+", summary):
        rows = table.splitlines()
        assert {len(_cells(row)) for row in rows} == {len(_cells(rows[0]))}, table
    assert "nowhere\\x0a" in summary and "<br>" in summary


def test_a_registered_secret_is_masked_in_its_escaped_form_too():
    secret = "-----BEGIN KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END KEY-----"
    register(secret)
    assert mask(f"value {secret}") == f"value {MASK}"
    assert mask(f"actual {inert(secret)}") == f"actual {MASK}"


def test_markdown_specials_in_a_summary_cell_are_escaped(tmp_path):
    from policies.reports import PolicyResult, write_summary

    finding = {
        "where": "a|b.tf:1",
        "message": "<img src=x> & `code` *bold* _it_ [link](http://x) \\",
        "expected": "x",
        "actual": "y",
        "waiver": None,
    }
    path = tmp_path / "summary.md"
    write_summary([PolicyResult("X-001", "static", "failed", [finding])], {}, [], path, None)
    row = next(line for line in path.read_text().splitlines() if line.startswith("| X-001"))
    assert len(_cells(row)) == 6, row
    for raw in ("<img", "`code`", "*bold*", "_it_", "[link]", "& "):
        assert raw not in row, raw
    assert "&lt;img src=x&gt;" in row and "\\*bold\\*" in row


@given(st.text())
def test_inert_text_has_no_control_character_and_no_command(text):
    shown = inert(text)
    assert CONTROL.findall(shown) == []
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in shown)
    assert len(shown.splitlines()) <= 1
    assert _forged(shown) == []
    assert inert(shown) == shown


@given(st.lists(st.text()))
def test_masked_multiline_text_keeps_its_lines_and_forges_none(lines):
    lines = [line.replace("\n", "") for line in lines]
    shown = mask("\n".join(lines))
    assert shown.count("\n") == len(lines) - 1 if lines else shown == ""
    assert CONTROL.findall(shown.replace("\n", "")) == []
    assert _forged(shown) == []


def test_an_error_in_the_trees_configuration_is_shown_inert(tmp_path):
    (tmp_path / "pingvas-policy.toml").write_text(f"[family.{json.dumps(PAYLOAD)}]\n")
    done = run_suite(str(SUITE), "-m", "static", "--infra", str(tmp_path), "-p", "no:cacheprovider")
    terminal = done.stdout + done.stderr
    assert done.returncode == 4 and "unknown family" in terminal, terminal[-2000:]
    assert _forged(terminal) == []
    assert CONTROL.findall(terminal.replace("\n", "")) == []
