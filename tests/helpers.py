"""Shared by the self-tests: fixture expectations (`# expect: POLICY-ID` on a line) and
running the suite as a user does."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SUITE = ROOT / "policies" / "suite"

_MARK = re.compile(r"(?:#|--)\s*expect:\s*([A-Z][A-Z0-9]*-\d{3})")


def expected_lines(directory: Path, policy_id: str) -> set[tuple[str, int | None]]:
    """(file name, line) of every `# expect: <policy_id>` (or `-- expect:`) marker under a
    fixture directory; files without comments (JSON) or without lines (a link) list theirs in
    `expected.txt` as `<policy id> <file name>[:<line>]`."""
    marks: set[tuple[str, int | None]] = set()
    for path in sorted(directory.rglob("*")):
        if path.name == "expected.txt":
            for entry in path.read_text().split("\n"):
                pid, _, where = entry.partition(" ")
                if pid == policy_id:
                    name, _, line = where.partition(":")
                    marks.add((name, int(line) if line else None))
        elif path.is_file() and not path.is_symlink():
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if any(m == policy_id for m in _MARK.findall(line)):
                    marks.add((path.name, number))
    return marks


def finding_lines(findings) -> set[tuple[str, int | None]]:
    return {(f.location.path.name, f.location.line) for f in findings}


def infra_catalog():
    """The catalog with infra/'s own configuration applied (its roles, namespaces, tables)."""
    from policies.catalog import load_catalog
    from policies.config import config_path, load_config
    from policies.registry import families

    infra = ROOT / "infra"
    config = load_config(config_path(infra, None), load_catalog(), set(families()))
    return config.effective(load_catalog())


def suite(family: str) -> tuple[str, ...]:
    """The packaged suite's arguments for one family's policy tests."""
    return (str(SUITE), "--family", family)


def run_suite(
    *args: str, timeout: int = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """pytest as a user runs it from the project root (the plugin comes from its entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def infra_copy(tmp: Path, relative: str, old: str, new: str) -> Path:
    """A copy of the project's infra/ with one text replaced in one file (which must contain it)."""
    import shutil

    infra = tmp / "infra"
    shutil.copytree(ROOT / "infra", infra)
    target = infra / relative
    text = target.read_text()
    assert old in text, f"{relative} does not contain {old!r}"
    target.write_text(text.replace(old, new))
    return infra


def junit_failures(path: Path) -> dict[str, str]:
    """Failed or errored test cases of a JUnit report: name -> message and full text."""
    import xml.etree.ElementTree as ET

    return {
        case.get("name", ""): f"{f.get('message', '')}\n{f.text or ''}"
        for case in ET.parse(path).getroot().iter("testcase")
        for f in [*case.iter("failure"), *case.iter("error")]
    }


def failures_on_copy(
    tmp: Path, relative: str, old: str, new: str, *args: str, timeout: int = 300
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run the suite (args) on a copy of infra/ with one text replaced; the run and its failures."""
    infra = infra_copy(tmp, relative, old, new)
    done = run_suite(*args, "--infra", str(infra), "--reports", str(tmp / "r"), timeout=timeout)
    return done, junit_failures(tmp / "r" / "junit.xml")
