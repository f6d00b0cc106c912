"""The platform tree itself: its Terraform roots validate with the real provider and are formatted,
and the live tier skips with one line when terraform is missing."""

import os
import shutil
import subprocess

import pytest

from policies.sources import Sources
from policies.targets.stack import StackUnavailable, run_terraform, workspace
from policies.terraform import load_project
from tests.helpers import ROOT, run_suite, suite

INFRA = ROOT / "infra"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    try:
        return workspace(INFRA, tmp_path_factory.mktemp("validate"))
    except StackUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("root", load_project(Sources(INFRA)).roots, ids=lambda p: p.name)
def test_root_validates(ws, root):
    cwd = ws.root(root)
    timings: dict[str, float] = {}
    run_terraform(
        timings, "init", [ws.terraform, "init", "-backend=false", "-no-color"], cwd, ws.env
    )
    run_terraform(timings, "validate", [ws.terraform, "validate", "-no-color"], cwd, ws.env)


def test_terraform_is_formatted(ws):
    done = subprocess.run(
        [ws.terraform, "fmt", "-check", "-recursive", "-no-color", str(INFRA / "terraform")],
        capture_output=True,
        text=True,
        env=ws.env,
        timeout=60,
    )
    assert done.returncode == 0, f"terraform fmt would change: {done.stdout}"


def test_live_tier_skips_in_one_line_without_terraform(tmp_path):
    env_path = os.pathsep.join(
        p
        for p in os.environ["PATH"].split(os.pathsep)
        if not (p and shutil.which("terraform", path=p))
    )
    done = run_suite(
        *suite("waf"),
        "-m",
        "live",
        "-rs",
        "--reports",
        str(tmp_path / "r"),
        env={**os.environ, "PATH": env_path},
    )
    assert done.returncode == 0, done.stdout
    assert "terraform not on PATH: install Terraform >= 1.11 for the live tier" in done.stdout
    summary = done.stdout.strip().splitlines()[-1]
    assert "skipped" in summary and "passed" not in summary and "failed" not in summary


def test_rotation_package_holds_the_current_handlers():
    """The Lambda package Terraform uploads is built from infra/services/secret-rotation
    (rebuild with `python infra/services/secret-rotation/build.py`)."""
    import zipfile

    sources = INFRA / "services" / "secret-rotation"
    with zipfile.ZipFile(INFRA / "terraform" / "modules" / "secrets" / "secret-rotation.zip") as z:
        packaged = {name: z.read(name) for name in z.namelist()}
    expected = {p.name: p.read_bytes() for p in sources.glob("*.py") if p.name != "build.py"}
    assert packaged == expected
