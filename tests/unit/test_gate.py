"""The gate as users run it: policy reference, --family, --fail-on, unreachable endpoints."""

from policies.catalog import load_catalog
from policies.docs import render
from tests.helpers import FIXTURES, ROOT, SUITE, junit_failures, run_suite, suite


def test_policy_reference_is_current_and_listed_by_pytest(tmp_path):
    """docs/policies.md holds the packaged defaults; --list-policies on a repository with a
    configuration shows its effective parameters."""
    expected = render(load_catalog())
    assert (ROOT / "docs" / "policies.md").read_text() == expected, (
        "docs/policies.md is stale: run `.venv/bin/pytest --list-policies --infra /tmp"
        " > docs/policies.md`"
    )
    done = run_suite("--list-policies", "--infra", str(tmp_path))
    assert done.returncode == 0 and done.stdout == expected
    infra = run_suite("--list-policies", "--infra", str(ROOT / "infra"))
    assert "infra/pingvas-policy.toml" in infra.stdout
    assert '- `app_role`: `"pingvas_app"`' in infra.stdout


def test_family_selects_policy_tests(tmp_path):
    done = run_suite(
        str(SUITE),
        "-m",
        "static",
        "--family",
        "waf",
        "--collect-only",
        "--reports",
        str(tmp_path),
    )
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    policy_ids = [i for i in ids if "test_policies.py" in i]
    assert policy_ids and all("[WAF-" in i for i in policy_ids), ids
    assert all("test_policies.py" in i or "test_run.py" in i for i in ids), ids
    bad = run_suite(str(SUITE), "--family", "nope", "--collect-only", "--reports", str(tmp_path))
    assert bad.returncode != 0 and "--family: unknown nope" in bad.stderr


def test_fail_on_reports_lower_findings_without_failing(tmp_path):
    seed = str(FIXTURES / "seed")
    for fail_on, failing in (("low", True), ("critical", False)):
        reports = tmp_path / fail_on
        run_suite(
            *suite("alarms"),
            "-m",
            "static",
            "--infra",
            seed,
            "--fail-on",
            fail_on,
            "--reports",
            str(reports),
        )
        failures = junit_failures(reports / "junit.xml")
        assert ("test_static[ALM-006]" in failures) is failing  # ALM-006 is medium
        summary = (reports / "summary.md").read_text()
        assert ("below --fail-on" in summary) is not failing


def test_unreachable_endpoints_fail_in_one_line_each(tmp_path):
    done = run_suite(
        str(SUITE),
        "-m",
        "live",
        "--aws-endpoint",
        "http://127.0.0.1:9",
        "--pg-dsn",
        "host=127.0.0.1 port=9 user=x dbname=x connect_timeout=3",
        "--prometheus-url",
        "http://127.0.0.1:9",
        "--reports",
        str(tmp_path),
        timeout=300,
    )
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    for endpoint in (
        "cannot reach http://127.0.0.1:9",
        "cannot connect to PostgreSQL",
        "cannot reach Prometheus at http://127.0.0.1:9",
    ):
        assert endpoint in out, endpoint


def test_parallel_run_gathers_every_worker_into_the_reports(tmp_path):
    done = run_suite(str(SUITE), "-m", "static", "-n", "2", "--reports", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:]
    summary = (tmp_path / "summary.md").read_text()
    for family in ("waf", "rls", "secrets", "alarms", "metrics", "pipeline", "logging", "k8s"):
        assert f"| {family} |" in summary, family
    assert "| 0 |" in summary.splitlines()[4]  # no failure in the first family row
