"""Workflows (YAML with lines) and shell scripts under --infra -> PipelineInventory."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from policies.model import Location
from policies.pipeline.model import (
    HelmInstall,
    LocalAction,
    PipelineInventory,
    Workflow,
    ZizmorResult,
    ZizmorRun,
)
from policies.sources import SourceError, Sources
from policies.yamlfile import LineDict, YamlFile, mapping

_HELM = re.compile(r"^\s*helm\s+(install|upgrade)\b")
ZIZMOR_OK = {0, 10, 11, 12, 13, 14}  # no findings; findings, 10 + the highest severity
ZIZMOR_TIMEOUT_S = 120
ACTION_FILES = ("action.yml", "action.yaml")


def read_static(sources: Sources, yaml_files: list[YamlFile]) -> PipelineInventory:
    inv = PipelineInventory()
    for file in yaml_files:
        for doc in file.documents:
            if file.path.name in ACTION_FILES and isinstance(doc, LineDict) and "runs" in doc:
                inv.actions[file.path.parent] = _action(file.path, doc)
            if isinstance(doc, LineDict) and "jobs" in doc and ("on" in doc or True in doc):
                on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
                triggers = (
                    list(on)
                    if isinstance(on, dict)
                    else [on]
                    if isinstance(on, str)
                    else list(on or [])
                    if isinstance(on, list)
                    else []
                )
                inv.workflows.append(
                    Workflow(
                        file.path,
                        doc,
                        [str(t) for t in triggers],
                        Location(file.path, doc.line),
                        sources.lines(file.path),
                    )
                )
    for path in sources.files(".sh"):
        try:
            _helm(inv, path, sources.lines(path))
        except SourceError:
            continue  # reported by the SRC policies
    inv.zizmor = _zizmor(sources, [wf.path for wf in inv.workflows])
    return inv


def _action(path: Path, doc: LineDict) -> LocalAction:
    """An action's metadata file: how it runs and its inputs with their defaults."""
    inputs: dict[str, str | None] = {}
    for name, spec in mapping(doc.get("inputs")).items():
        default = spec.get("default") if isinstance(spec, dict) else None
        inputs[str(name)] = None if default is None else scalar(default)
    return LocalAction(path, doc, scalar(mapping(doc.get("runs")).get("using", "")), inputs)


def scalar(value: object) -> str:
    """A YAML scalar as GitHub passes it to an action (booleans as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _zizmor(sources: Sources, paths: list[Path]) -> ZizmorRun | None:
    """zizmor's offline audits of the workflows, None when zizmor is not installed.

    zizmor reads copies of the workflows as this suite read them (never the tree itself), with
    no configuration and no inline ignores (a pull request must not switch audits off), and with
    strict collection: an input it cannot audit fails the run instead of being skipped. An exit
    status other than 0 or 10-14 (findings by severity) is a failed run, with zizmor's message."""
    binary = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if binary is None:
        return None
    if not paths:
        return ZizmorRun([])
    with tempfile.TemporaryDirectory(prefix="pingvas-zizmor-") as tmp:
        copies: dict[str, Path] = {}
        for n, path in enumerate(paths):
            copy = Path(tmp) / str(n) / path.name
            copy.parent.mkdir()
            copy.write_text(sources.text(path), encoding="utf-8")
            copies[str(copy)] = path
        try:
            done = subprocess.run(
                [
                    binary,
                    "--offline",
                    "--no-config",
                    "--no-ignores",
                    "--strict-collection",
                    "--no-progress",
                    "--color=never",
                    "--format",
                    "json",
                    *copies,
                ],
                capture_output=True,
                text=True,
                timeout=ZIZMOR_TIMEOUT_S,
                check=False,
                cwd=tmp,
                env={**os.environ, "NO_COLOR": "1"},
            )
        except subprocess.TimeoutExpired:
            return ZizmorRun([], f"zizmor did not finish within {ZIZMOR_TIMEOUT_S} s", None)
        named = [path for copy, path in copies.items() if copy in done.stderr]
        for copy, path in copies.items():  # zizmor's messages name the copies
            done.stderr = done.stderr.replace(copy, str(path))
    if done.returncode not in ZIZMOR_OK:
        cause = f"zizmor exited with status {done.returncode}: {_cause(done.stderr)}"
        return ZizmorRun([], cause, named[0] if named else None)
    try:
        items = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return ZizmorRun([], f"zizmor printed no JSON report: {_cause(done.stderr)}", None)
    results = []
    for item in items:
        for loc in item.get("locations", [])[:1]:
            symbolic, concrete = loc.get("symbolic", {}), loc.get("concrete", {})
            copy = symbolic.get("key", {}).get("Local", {}).get("verbatim_path", "")
            row = concrete.get("location", {}).get("start_point", {}).get("row", 0)
            results.append(
                ZizmorResult(
                    item.get("ident", "?"),
                    item.get("determinations", {}).get("severity", "?"),
                    item.get("desc", ""),
                    symbolic.get("annotation", ""),
                    Location(_original(copies, copy), row + 1),
                )
            )
    return ZizmorRun(results)


def _original(copies: dict[str, Path], copy: str) -> Path:
    """The tree's file that a copy given to zizmor stands for."""
    if copy in copies:
        return copies[copy]
    return next((path for name, path in copies.items() if name.endswith(copy)), Path(copy))


def _cause(stderr: str) -> str:
    """zizmor's error without its log lines and stack backtrace, on one line."""
    text = stderr.split("Stack backtrace:")[0]
    kept = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not re.match(r"^\s*(INFO|WARN|DEBUG|TRACE)\b", line)
    ]
    return " ".join(kept)[:400] or "no message"


def _helm(inv: PipelineInventory, path: Path, lines: list[str]) -> None:
    i = 0
    while i < len(lines):
        start, command = i, lines[i]
        while command.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command.rstrip()[:-1] + " " + lines[i]
        i += 1
        if not _HELM.match(command):
            continue
        try:
            words = shlex.split(command, comments=True)
        except ValueError:
            words = command.split()
        positional = [w for w in words[2:] if not w.startswith("-")]
        chart = positional[1] if len(positional) > 1 else "?"
        pinned = any(w == "--version" or w.startswith("--version=") for w in words)
        inv.helm.append(HelmInstall(chart, pinned, Location(path, start + 1)))
