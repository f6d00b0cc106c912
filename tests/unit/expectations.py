"""Fixture expectations written in the fixtures themselves: `# expect: POLICY-ID` on a line."""

import re
from pathlib import Path

_MARK = re.compile(r"#\s*expect:\s*([A-Z]+-\d{3})")


def expected_lines(directory: Path, policy_id: str) -> set[tuple[str, int]]:
    """(file name, line) of every `# expect: <policy_id>` marker under a fixture directory."""
    marks = set()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if any(m == policy_id for m in _MARK.findall(line)):
                    marks.add((path.name, number))
    return marks


def finding_lines(findings) -> set[tuple[str, int]]:
    return {(f.location.path.name, f.location.line) for f in findings}
