"""Workflows (YAML with lines) and shell scripts under --infra -> PipelineInventory."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from policies.model import Location
from policies.pipeline.model import HelmInstall, PipelineInventory, Workflow, ZizmorResult
from policies.sources import Sources
from policies.yamlfile import LineDict, YamlFile

_HELM = re.compile(r"^\s*helm\s+(install|upgrade)\b")


def read_static(sources: Sources, yaml_files: list[YamlFile]) -> PipelineInventory:
    inv = PipelineInventory()
    for file in yaml_files:
        for doc in file.documents:
            if isinstance(doc, LineDict) and "jobs" in doc and ("on" in doc or True in doc):
                on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
                triggers = (
                    list(on)
                    if isinstance(on, dict)
                    else [on]
                    if isinstance(on, str)
                    else list(on or [])
                )
                inv.workflows.append(
                    Workflow(
                        file.path, doc, [str(t) for t in triggers], Location(file.path, doc.line)
                    )
                )
    for path in sources.files(".sh"):
        _helm(inv, path)
    inv.zizmor = _zizmor([wf.path for wf in inv.workflows])
    return inv


def _zizmor(paths: list[Path]) -> list[ZizmorResult] | None:
    """zizmor's offline audits of the workflows (its JSON output), None when not installed."""
    binary = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if binary is None:
        return None
    if not paths:
        return []
    done = subprocess.run(
        [binary, "--offline", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    results = []
    for item in json.loads(done.stdout or "[]"):
        for loc in item.get("locations", [])[:1]:
            symbolic, concrete = loc.get("symbolic", {}), loc.get("concrete", {})
            path = symbolic.get("key", {}).get("Local", {}).get("verbatim_path", "")
            row = concrete.get("location", {}).get("start_point", {}).get("row", 0)
            results.append(
                ZizmorResult(
                    item.get("ident", "?"),
                    item.get("determinations", {}).get("severity", "?"),
                    item.get("desc", ""),
                    symbolic.get("annotation", ""),
                    Location(Path(path), row + 1),
                )
            )
    return results


def _helm(inv: PipelineInventory, path: Path) -> None:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
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
