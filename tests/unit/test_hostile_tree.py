"""The static tier on hostile trees, built in a temp dir and run as a user runs the gate: links
out of the tree are never read (a canary never reaches any output), what cannot be read fails,
Terraform's JSON syntax is read, limits end alias bombs and deep nesting in one finding each,
a planted cache entry changes nothing, zizmor fails closed, odd file names keep the reports
writable. A generous timeout guards each run against a hang; no time is asserted."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import hcl2
import pytest

from policies.hcl_ts import VERSION as HCL_FRONT_END
from policies.sources import HCL_PARSER
from tests.helpers import ROOT, SUITE, junit_failures

CANARY = "c4n4ry-0f-the-ci-machine-5e3f9a"
WAF_WITHOUT_GROUPS = """provider "aws" {
  region = "us-east-1"
}

resource "aws_wafv2_web_acl" "main" {
  name  = "shop-waf"
  scope = "REGIONAL"
  default_action {
    allow {}
  }
  rule {
    name     = "RateLimit"
    priority = 1
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = 500
        aggregate_key_type = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "rate"
      sampled_requests_enabled   = true
    }
  }
  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "shop"
    sampled_requests_enabled   = true
  }
}
"""


def scan(tree, tmp_path, *args, cache=None, prefix=(), timeout=180):
    """The static tier on `tree` (reports in tmp_path/r): the run and every output's text."""
    reports = tmp_path / "r"
    cache_args = ("-o", f"cache_dir={cache}") if cache else ("-p", "no:cacheprovider")
    done = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "pytest",
            "-q",
            str(SUITE),
            "-m",
            "static",
            "--infra",
            str(tree),
            "--reports",
            str(reports),
            *cache_args,
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        errors="backslashreplace",
    )
    outputs = {"terminal": done.stdout + done.stderr}
    for path in reports.iterdir():
        outputs[path.name] = path.read_text(errors="backslashreplace")
    return done, outputs


def sarif_results(outputs, rule):
    results = json.loads(outputs["results.sarif"])["runs"][0]["results"]
    return [r for r in results if r["ruleId"] == rule]


def test_links_out_of_the_tree_are_reported_and_never_read(tmp_path):
    outside = tmp_path / "ci-machine"
    outside.mkdir()
    (outside / "environ").write_text(f"AWS_SECRET_ACCESS_KEY={CANARY}\nGITHUB_TOKEN={CANARY}\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    names = ["zz.tf", "values.yaml", "q.sql", "dashboard.json", "app.py", "x.tf.json", "s.sh"]
    for name in names:
        (tree / name).symlink_to(outside / "environ")
    (tree / "modules").symlink_to(outside)
    done, outputs = scan(tree, tmp_path)
    assert done.returncode == 1, outputs["terminal"][-2000:]
    for name, text in outputs.items():
        assert CANARY not in text, name
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_static[SRC-002]"]
    for name in [*names, "modules"]:
        assert f"{name}: SRC-002" in failure, name
    assert "outside --infra: not read" in failure
    assert "Traceback" not in outputs["terminal"]


def test_what_cannot_be_read_fails_naming_it(tmp_path):
    """Root reads everything: the run drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH."""
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is needed to drop root's file capabilities")
        caps = "-dac_override,-dac_read_search"
        prefix = ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}")
    tree = tmp_path / "tree"
    private = tree / "k8s" / "private"
    private.mkdir(parents=True)
    (private / "db.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter22\n"
    )
    (tree / "k8s" / "values.yaml").write_text("grafana:\n  adminPassword: x\n")
    private.chmod(0)
    (tree / "k8s" / "values.yaml").chmod(0)
    try:
        done, outputs = scan(tree, tmp_path, prefix=prefix)
    finally:
        private.chmod(0o755)
        (tree / "k8s" / "values.yaml").chmod(0o644)
    assert done.returncode == 1, outputs["terminal"][-2000:]
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_static[SRC-002]"]
    assert "private: SRC-002" in failure and "directory cannot be read" in failure
    assert "values.yaml: SRC-002" in failure and "cannot be read: Permission denied" in failure


def test_terraform_json_syntax_is_read_into_the_same_model(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    hcl = hcl2.loads(WAF_WITHOUT_GROUPS)
    acl = hcl["resource"][0]["aws_wafv2_web_acl"]["main"]
    document = {
        "provider": {"aws": {"region": "us-east-1"}},
        "resource": {"aws_wafv2_web_acl": {"main": acl}},
    }
    text = json.dumps(document, indent=2)
    (tree / "waf.tf.json").write_text(text)
    line = text.splitlines().index('      "main": {') + 1
    done, outputs = scan(tree, tmp_path, "-k", "test_static and WAF-005")
    assert done.returncode == 1, outputs["terminal"][-2000:]
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_static[WAF-005]"]
    assert f"waf.tf.json:{line}: WAF-005 shop-waf" in failure
    assert "AWSManagedRulesCommonRuleSet is missing" in failure


BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_yaml_alias_bomb_is_one_finding(tmp_path):
    tree = tmp_path / "tree"
    (tree / "k8s").mkdir(parents=True)
    (tree / "k8s" / "values.yaml").write_text(BOMB)
    configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n"
    indented = "".join(f"  {line}\n" for line in BOMB.splitlines())
    (tree / "k8s" / "configmap.yaml").write_text(configmap + "  x: |\n    y\n" + indented)
    done, outputs = scan(tree, tmp_path)
    found = sarif_results(outputs, "SRC-003")
    assert len(found) == 2, outputs["terminal"][-2000:]
    named = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in found}
    assert {u.rsplit("/", 1)[-1] for u in named} == {"values.yaml", "configmap.yaml"}
    assert all("excessive aliasing" in r["message"]["text"] for r in found)
    assert "MemoryError" not in outputs["terminal"]


def test_deep_nesting_is_one_finding_per_file(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "deep.yaml").write_text("[" * 500 + "]" * 500 + "\n")
    (tree / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (tree / "deep.tf").write_text("locals {\n  x = " + "[" * 400 + "]" * 400 + "\n}\n")
    (tree / "deep.py").write_text("x = " + "-" * 5000 + "1\n")
    done, outputs = scan(tree, tmp_path)
    assert done.returncode == 1
    problems = sarif_results(outputs, "SRC-003") + sarif_results(outputs, "SRC-001")
    named = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)[-1]
        for r in problems
    )
    assert named == ["deep.json", "deep.py", "deep.tf", "deep.yaml"], named
    assert "RecursionError" not in outputs["terminal"]
    assert "Traceback" not in outputs["terminal"]


def test_a_planted_parse_cache_entry_changes_no_verdict(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "main.tf").write_text(WAF_WITHOUT_GROUPS)
    cache = tmp_path / "pytest-cache"
    entries = cache / "d" / "pingvas-hcl"
    entries.mkdir(parents=True)
    key = f"{HCL_PARSER} {HCL_FRONT_END}\0{WAF_WITHOUT_GROUPS}"  # the default front end's entry
    digest = hashlib.sha256(key.encode()).hexdigest()
    forged = json.dumps(hcl2.loads('provider "aws" {}\n', with_meta=True))  # no Web ACL at all
    (entries / f"{digest}.json").write_text(forged)
    honest, _ = scan(tree, tmp_path / "honest", "-k", "WAF")
    (tmp_path / "honest").mkdir(exist_ok=True)
    for planted in (forged, f"{'0' * 64}\n{forged}"):  # unsigned, and signed with another key
        (entries / f"{digest}.json").write_text(planted)
        done, outputs = scan(tree, tmp_path, "-k", "WAF", cache=cache)
        assert "1 HCL files, 0 from the parse cache" in outputs["terminal"]
        assert junit_failures(tmp_path / "r" / "junit.xml").keys() == {
            "test_static[WAF-005]",
            "test_static[WAF-008]",
            "test_static[WAF-010]",
        }


def test_zizmor_fails_closed_and_ignores_the_trees_configuration(tmp_path):
    if shutil.which("zizmor", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("zizmor not installed: pip install zizmor")
    workflows = tmp_path / "tree" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yaml").write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: 5\n"
    )
    done, outputs = scan(tmp_path / "tree", tmp_path, "-k", "PIPE-005")
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_static[PIPE-005]"]
    assert "broken.yaml:1: PIPE-005 zizmor: zizmor could not audit the workflows" in failure
    (workflows / "broken.yaml").unlink()
    (workflows / "ci.yaml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
        "  # zizmor: ignore[artipacked]\n"
    )
    (tmp_path / "tree" / ".github" / "zizmor.yml").write_text(
        "rules:\n  artipacked:\n    disable: true\n"
    )
    done, outputs = scan(tmp_path / "tree", tmp_path, "-k", "PIPE-005")
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_static[PIPE-005]"]
    assert "zizmor/artipacked" in failure


def test_odd_files_never_hang_or_crash_the_reports(tmp_path):
    """A pipe, a link loop, a name that is not UTF-8, a byte-order mark (Terraform accepts it)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "values.yaml")
    (tree / "a.yaml").symlink_to(tree / "b.yaml")
    (tree / "b.yaml").symlink_to(tree / "a.yaml")
    (tree / os.fsdecode(b"bad-\xff.tf")).write_text(
        'resource "aws_sns_topic" "t" {\n  name = \n}\n'
    )
    (tree / "bom.tf").write_text('\ufeffresource "aws_sns_topic" "ok" {\n  name = "ok"\n}\n')
    done, outputs = scan(tree, tmp_path, "-k", "SRC")
    assert done.returncode == 1
    assert "Traceback" not in outputs["terminal"]
    failures = junit_failures(tmp_path / "r" / "junit.xml")
    assert "values.yaml: SRC-002" in failures["test_static[SRC-002]"]
    assert "not a regular file" in failures["test_static[SRC-002]"]
    assert "symbolic link loop" in failures["test_static[SRC-002]"]
    assert "bad-\\xff.tf:2: SRC-001" in failures["test_static[SRC-001]"]
    assert "bom.tf" not in failures["test_static[SRC-001]"]
    assert "bad-\\xff.tf" in outputs["summary.md"]
    json.loads(outputs["results.sarif"])
    ET.parse(tmp_path / "r" / "junit.xml")


def test_the_static_tier_imports_and_runs_nothing_of_the_tree(tmp_path):
    """Python that would write a marker when imported, in every place a reader looks (an app
    with metrics, a session helper, a rotation handler, a conftest): the static tier only
    reads it as an AST."""
    marker = tmp_path / "imported"
    run = f"open({str(marker)!r}, 'w').close()\n"
    tree = tmp_path / "tree"
    for relative, body in {
        "conftest.py": "",
        "services/shop/app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        "services/shop/app/metrics.py": "from prometheus_client import Counter\n",
        "services/shop/app/db/session.py": "import psycopg\ndef make_pool(): pass\n"
        "def user_session(): pass\n",
        "lambda/rotation.py": "import psycopg\ndef lambda_handler(e, c): 'setSecret'\n",
    }.items():
        path = tree / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run + body)
    (tree / "scripts").mkdir()
    (tree / "scripts" / "install.sh").write_text(f"touch {marker}\nhelm upgrade --install x y\n")
    done, outputs = scan(tree, tmp_path)
    assert "Traceback" not in outputs["terminal"]
    assert not marker.exists()
