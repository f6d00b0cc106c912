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


def test_names_written_to_github_env_in_each_shell_form():
    from policies.pipeline.envfiles import written

    script = "\n".join(
        [
            "TAG=local  # a shell variable, not written to the file",
            'echo "VERSION=${GITHUB_REF#refs/tags/}" >> $GITHUB_ENV',
            'echo CHANNEL=stable >> "${GITHUB_ENV}"',
            "{",
            "  echo 'NOTES<<EOF'",
            "  git log -1 --format=%B",
            "  echo EOF",
            '} >> "$GITHUB_ENV"',
            'cat >> "$GITHUB_ENV" <<END',
            "REGION=eu-west-1",
            "END",
            'Add-Content -Path $env:GITHUB_ENV -Value "BUILD_ID=$id"',
            '"SDK=8.0" | Out-File -FilePath $env:GITHUB_ENV -Append',
            'echo "digest=sha256:0" >> "$GITHUB_OUTPUT"',
        ]
    )
    assert written(script, "GITHUB_ENV") == {
        "VERSION",
        "CHANNEL",
        "NOTES",
        "REGION",
        "BUILD_ID",
        "SDK",
    }
    assert written(script, "GITHUB_OUTPUT") == {"digest"}
