"""--waf-explain: the tree's Web ACL's verdict for one request, with no test run."""

import subprocess

from policies.session import load_settings
from policies.waf.explain import explain
from tests.helpers import ROOT

INFRA = ROOT / "infra"
CLEAN = "header:User-Agent=Mozilla/5.0 " + " ".join(
    f"managed:AWSManagedRules{group}="
    for group in ("AmazonIpReputationList", "SQLiRuleSet", "KnownBadInputsRuleSet")
)


def test_an_oversized_body_outside_the_upload_path_is_explained():
    text, verdict = explain(
        f"POST /api/generate body_size=16384 {CLEAN}", load_settings(INFRA, None)
    )
    assert (verdict.action, verdict.rule, verdict.status) == (
        "block",
        "BlockOversizedBodyExceptUploads",
        403,
    )
    assert "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body" in verdict.labels


def test_a_wrong_request_is_one_line_and_no_verdict():
    for spec in ("POST", "GET /x body_size=lots", "GET /x nonsense=1", 'GET "/x'):
        text, verdict = explain(spec, load_settings(INFRA, None))
        assert verdict is None and text.startswith("--waf-explain: ") and "\n" not in text


def test_the_command_line_prints_the_trace_and_runs_no_test():
    """Undecidable (a managed group not declared) exits 1; a reached verdict exits 0."""

    def run(spec):
        return subprocess.run(
            [str(ROOT / ".venv/bin/pingvas-policy"), "--infra", str(INFRA), "--waf-explain", spec],
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("GET /api/images").returncode == 1
    done = run(f"GET /api/images {CLEAN}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "passed" not in done.stdout and "[0] AWSManagedRulesAmazonIpReputationList" in done.stdout
    )
