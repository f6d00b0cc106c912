"""Regular expressions written in a scanned tree run in RE2 (linear time) wherever the suite
evaluates them: Terraform's replace() and the live tier's declared-vs-deployed names. Each
hostile call runs in a subprocess with a generous timeout as a hang guard; no time is asserted."""

import subprocess
import sys

import pytest

from policies.model import matches_declared
from policies.tfeval import EvalError, _replace

HANG_GUARD_S = 60


def _runs(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_terraform_replace_with_a_catastrophic_pattern_ends():
    code = (
        "from policies.tfeval import _replace\n"
        "print(_replace('a' * 5000 + 'b', '/^(a+)+$/', 'x') == 'a' * 5000 + 'b')"
    )
    assert _runs(code) == "True"


def test_terraform_replace_keeps_its_semantics_and_rejects_what_re2_rejects():
    assert _replace("hello world", "/(o)/", "[$1]") == "hell[o] w[o]rld"
    assert _replace("a.b", ".", "-") == "a-b"
    with pytest.raises(EvalError):
        _replace("x", "/(?<=a)b/", "c")  # lookbehind: not RE2, not Terraform either


def test_many_unresolved_parts_match_a_deployed_name_in_linear_time():
    code = (
        "from policies.model import matches_declared\n"
        "print(matches_declared('${a}' * 40 + 'z', 'a' * 20000))"
    )
    assert _runs(code) == "False"
    assert matches_declared("pingvas-${var.env}-alarms", "pingvas-dev-alarms")
    assert not matches_declared("a.b", "axb")
