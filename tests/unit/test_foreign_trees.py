"""`pingvas-policy` on trees it was not written for (fixtures/foreign, in the shapes public
repositories take), run as a team runs it: from another directory, no configuration. Families
the tree does not have are not applicable (a SARIF notification, never a failure), SARIF and
the exit status agree, findings use the tree's own names, none mentions pingvas; the scanned
repository's pingvas-policy.toml sets parameters, requires families, and is validated."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, ROOT, junit_failures

FOREIGN = FIXTURES / "foreign"
CLI = Path(sys.executable).with_name("pingvas-policy")


def cli(tree, tmp_path, *args, cwd=None):
    """pingvas-policy -m static on a tree, from an unrelated working directory."""
    workdir = cwd or tmp_path / "elsewhere"
    workdir.mkdir(exist_ok=True)
    done = subprocess.run(
        [str(CLI), "--infra", str(tree), "-m", "static", "--reports", "out", "-rs", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, workdir / "out"


def sarif(reports):
    run = json.loads((reports / "results.sarif").read_text())["runs"][0]
    return run["results"], run["invocations"][0]


def finding_texts(reports):
    results, _ = sarif(reports)
    failures = junit_failures(reports / "junit.xml")
    return [r["message"]["text"] for r in results] + list(failures.values())


def test_a_waf_module_fails_on_waf_findings_alone(tmp_path):
    done, reports = cli(FOREIGN / "waf-module", tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    failures = junit_failures(reports / "junit.xml")
    assert set(failures) == {"test_static[WAF-005]", "test_static[WAF-008]", "test_static[WAF-010]"}
    results, invocation = sarif(reports)
    assert {r["ruleId"].split("-")[0] for r in results} == {"WAF"}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results)
    notes = invocation["toolExecutionNotifications"]
    not_applicable = {n["associatedRule"]["id"] for n in notes}
    assert {p.split("-")[0] for p in not_applicable} == {
        *("WAF", "RLS", "SEC", "ALM", "MET", "PIPE", "LOG", "K8S")
    }
    assert {p for p in not_applicable if p.startswith("WAF")} == {"WAF-015"}  # no WAF cases
    assert all(n["level"] == "note" and "not applicable" in n["message"]["text"] for n in notes)
    summary = (reports / "summary.md").read_text()
    assert "| rls | 0 | 0 | 0 | 15 | 0 | 0 |" in summary  # not applicable, in its own column


def test_a_complete_waf_module_passes_and_sarif_agrees(tmp_path):
    done, reports = cli(FOREIGN / "waf-module-good", tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    results, invocation = sarif(reports)
    assert results == [] and invocation["executionSuccessful"] is True


def test_a_saas_with_its_own_tenant_setting_is_checked_against_its_names(tmp_path):
    done, reports = cli(FOREIGN / "saas-rls", tmp_path)
    assert done.returncode == 1
    failures = junit_failures(reports / "junit.xml")
    assert set(failures) == {"test_static[RLS-002]", "test_static[RLS-005]", "test_static[RLS-009]"}
    assert "public.Invoice" in failures["test_static[RLS-002]"]
    assert "current_setting('app.tenant_id')" in failures["test_static[RLS-005]"]
    assert "app/db.py:13: RLS-009 app.tenant_id" in failures["test_static[RLS-009]"]


@pytest.mark.parametrize("tree", ["waf-module", "saas-rls"])
def test_no_finding_on_a_foreign_tree_mentions_pingvas(tmp_path, tree):
    _, reports = cli(FOREIGN / tree, tmp_path)
    for text in finding_texts(reports):
        assert "pingvas" not in text.lower(), text


def test_the_repositorys_configuration_sets_parameters_and_requires_families(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FOREIGN / "saas-rls", tree)
    (tree / "pingvas-policy.toml").write_text(
        'require = ["rls", "waf"]\n'
        'exclude = ["app/*"]\n\n'
        "[family.rls]\n"
        'setting = "app.tenant_id"\n\n'
        "[policy.RLS-002]\n"
        'severity = "low"\n'
    )
    done, reports = cli(tree, tmp_path, "--fail-on", "medium")
    failures = junit_failures(reports / "junit.xml")
    assert "test_static[RLS-009]" not in failures  # app/ excluded
    assert "test_static[RLS-002]" not in failures  # reported, below --fail-on
    assert "test_static[RLS-005]" in failures
    required = failures["test_static[WAF-001]"]
    assert "waf is required by" in required and "no WAFv2 Web ACL" in required


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("requires = ['waf']\n", ":1: unknown key 'requires'"),
        ("[policy.WAF-999]\nmax_limit = 5\n", ":1: [policy.WAF-999]: no such policy"),
        ("[policy.WAF-007]\nmax_limt = 5\n", ":2: [policy.WAF-007]: unknown parameter 'max_limt'"),
        ("[policy.WAF-007]\nmax_limit = 'high'\n", ":2: [policy.WAF-007] max_limit: a int"),
        ("require = ['nope']\n", ":1: require: unknown family 'nope'"),
        ("[family.rls]\nmax_limit = 5\n", ":2: [family.rls]: no policy of rls has 'max_limit'"),
        ("require = [\n", ":1: not valid TOML"),
        ("read_fetched_modules = 'yes'\n", ":1: read_fetched_modules: true or false expected"),
    ],
    ids=["key", "policy", "parameter", "type", "family", "family-parameter", "toml", "fetched"],
)
def test_a_bad_configuration_is_one_error_naming_file_key_and_line(tmp_path, text, message):
    tree = tmp_path / "tree"
    shutil.copytree(FOREIGN / "waf-module", tree)
    (tree / "pingvas-policy.toml").write_text(text)
    done, _ = cli(tree, tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"pingvas-policy.toml{message}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_suite_installs_and_runs_from_anywhere(tmp_path):
    """pip install of the checkout into a fresh venv; the console script from a temp dir, with
    no tests/ or fixtures/ of this repository on its path, writes the three reports."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if pip.returncode != 0 and "No matching distribution" in pip.stderr:
        pytest.skip(f"the package registry is unreachable: {pip.stderr.strip()[-200:]}")
    assert pip.returncode == 0, pip.stderr[-2000:]
    tree = tmp_path / "tree"
    shutil.copytree(FOREIGN / "waf-module", tree)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(venv / "bin" / "pingvas-policy"), "--infra", str(tree), "-m", "static"]
        + ["--reports", "out"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert {p.name for p in (work / "out").iterdir()} == {
        "junit.xml",
        "results.sarif",
        "summary.md",
    }
    assert "test_static[WAF-005]" in junit_failures(work / "out" / "junit.xml")
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import policies.suite; print(policies.suite.__file__)",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert str(venv) in where.stdout and "site-packages" in where.stdout, where.stdout
