"""The names a `run:` script writes to a workflow command file ($GITHUB_ENV, $GITHUB_OUTPUT):
`echo "NAME=value" >> "$GITHUB_ENV"`, multi-line values (`NAME<<EOF` ... `EOF`, alone or in a
`{ ...; } >> $GITHUB_ENV` group), heredocs into the file, and PowerShell's
`Add-Content -Path $env:GITHUB_ENV -Value "NAME=value"` / `... | Out-File $env:GITHUB_ENV`.

The script is read as text, never run: a line that mentions the file and the lines of a group
or heredoc redirected to it are where NAME= / NAME<< count as written."""

from __future__ import annotations

import re

_NAME = re.compile(r"(?:^|[\s\"'(;{])([A-Za-z_][A-Za-z0-9_]*)(?:=|<<)")


def written(script: str, file: str) -> set[str]:
    """The names the script writes to the command file `file` (GITHUB_ENV, GITHUB_OUTPUT)."""
    mention = re.compile(r"\$(?:\{" + file + r"\}|" + file + r"\b|env:" + file + r"\b)")
    lines = script.splitlines()
    regions: list[str] = []
    for i, line in enumerate(lines):
        if not mention.search(line):
            continue
        regions.append(line)
        if re.match(r"^\s*\}", line):  # the end of a `{ ... } >> $FILE` group
            regions.append("\n".join(lines[_group_start(lines, i) : i]))
        heredoc = re.search(
            r"(?<![\w\"'])<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", line.split("#")[0]
        )
        if heredoc and re.search(r">>?\s*\"?\$", line):
            regions.append("\n".join(_heredoc_body(lines, i + 1, heredoc.group(1))))
    return {m.group(1) for region in regions for m in _NAME.finditer(region)} - {file}


def _group_start(lines: list[str], end: int) -> int:
    """The line of the `{` opening the group that closes at `end`."""
    depth = 0
    for i in range(end, -1, -1):
        depth += lines[i].count("}") - lines[i].count("{")
        if depth <= 0:
            return i
    return 0


def _heredoc_body(lines: list[str], start: int, delimiter: str) -> list[str]:
    """The lines of a heredoc up to its delimiter."""
    body = []
    for line in lines[start:]:
        if line.strip() == delimiter:
            break
        body.append(line)
    return body
