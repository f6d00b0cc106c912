"""Secret values read from a target are masked in assertion messages, captured logs and output,
JUnit, SARIF and the summary (one canary per source of secrets)."""

import os

import pytest

from policies.redact import MASK, mask, register
from tests.helpers import run_suite, suite


def test_registered_values_are_masked_longest_first():
    register("canary-redact-1234", "canary-redact-1234-long")
    assert mask("a canary-redact-1234-long b canary-redact-1234") == f"a {MASK} b {MASK}"
    register("abc")  # too short to mask safely
    assert mask("abc") == "abc"


CANARY_TEST = """
import logging
from policies.redact import register

def test_leaks(gate):
    secret = "canary-from-a-target-9f2c"
    register(secret)
    logging.getLogger("platform").warning("read %s from the target", secret)
    print("value:", secret)
    from policies.model import Finding, Location, resource
    gate("SEC-004", [Finding("SEC-004", resource("secret-value", "x", secret), f"value {secret}",
                             "masked", secret, Location(resource="canary"))])
"""


def test_a_value_registered_by_a_probe_reaches_no_output(tmp_path):
    test = tmp_path / "test_canary.py"
    test.write_text(CANARY_TEST)
    reports = tmp_path / "reports"
    done = run_suite(
        str(test),
        "-rA",
        "-o",
        "log_level=WARNING",
        "--reports",
        str(reports),
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
    )
    assert done.returncode == 1, done.stdout
    outputs = {
        "terminal": done.stdout + done.stderr,
        **{p.name: p.read_text() for p in reports.iterdir()},
    }
    assert MASK in outputs["terminal"] and MASK in outputs["junit.xml"]
    for name, text in outputs.items():
        assert "canary-from-a-target-9f2c" not in text, name


@pytest.mark.live
def test_database_password_of_pg_dsn_reaches_no_output(tmp_path, pg_cluster):
    pg_cluster = pg_cluster.get()
    if pg_cluster is None:
        pytest.skip("needs the embedded PostgreSQL")
    canary = "canary-pg-password-51ab"
    dsn = f"{pg_cluster.dsn(dbname='pingvas')} password={canary}"  # trust auth ignores it
    reports = tmp_path / "reports"
    done = run_suite(
        *suite("rls"),
        "-m",
        "live",
        "-rA",
        "--pg-dsn",
        dsn,
        "--reports",
        str(reports),
        env={**os.environ},
        timeout=300,
    )
    outputs = {
        "terminal": done.stdout + done.stderr,
        **{p.name: p.read_text() for p in reports.iterdir()},
    }
    assert "RLS-002" in outputs["results.sarif"] or done.returncode == 0
    for name, text in outputs.items():
        assert canary not in text, name
