"""The pipeline family end to end: one pinned SHA replaced by @main fails naming file and line."""

import re

from tests.helpers import ROOT, failures_on_copy, suite

WORKFLOW = ".github/workflows/security-scan.yaml"


def test_main_instead_of_a_pinned_sha_fails_naming_file_and_line(tmp_path):
    text = (ROOT / "infra" / WORKFLOW).read_text()
    pinned = re.search(r"uses: actions/checkout@[0-9a-f]{40}[^\n]*", text).group(0)
    line = text[: text.index(pinned)].count("\n") + 1
    done, failures = failures_on_copy(
        tmp_path,
        WORKFLOW,
        pinned,
        "uses: actions/checkout@main",
        *suite("pipeline"),
        "-m",
        "static",
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert f"{WORKFLOW}:{line}: PIPE-001" in failures.pop("test_static[PIPE-001]")
    assert set(failures) <= {"test_static[PIPE-005]"}, failures  # zizmor agrees
