"""How a scanner step fails its job: the input that decides it, from the catalog's table of
well-known scanner actions (each entry read off the action's own action.yml and entrypoint) or,
for an action in the tree (`uses: ./path`), from its action.yml.

A verdict reads exactly the input its fix names, so following the fix is what clears it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from policies.model import Location
from policies.pipeline.model import LocalAction, PipelineInventory, Workflow
from policies.pipeline.static import scalar
from policies.yamlfile import LineDict, mapping, sequence

_INPUT_REF = re.compile(r"^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$")

OK, NEVER, UNKNOWN = "ok", "never", "unknown"


@dataclass(frozen=True)
class Verdict:
    """One scanner's verdict: it can fail the job (ok), it never can (never: `fix` says how,
    `actual` what it has), or the suite cannot tell (unknown: `actual` says why)."""

    kind: str
    action: str
    location: Location
    fix: str = ""
    actual: str = ""


def verdicts(
    inv: PipelineInventory, wf: Workflow, step: LineDict, params: dict[str, Any]
) -> list[Verdict]:
    """The verdicts of a step's action; none when the action is not a scanner."""
    action = str(step.get("uses", "")).split("@")[0]
    given = mapping(step.get("with"))
    here = Location(wf.path, step.line_of("uses"))
    listed = any(fnmatchcase(action, p) for p in params["other_scanners"])
    if action.startswith("./"):
        local = inv.actions.get(local_dir(wf.path, action))
        if local is None:
            why = "its action.yml is not in the tree"
            return [Verdict(UNKNOWN, action, here, actual=why)] if listed else []
        return _local(local, action, given, here, params["scanners"], listed)
    rule = _rule(action, params["scanners"])
    if rule is None:
        why = "it is not in the catalog's table of scanners (params.scanners)"
        return [Verdict(UNKNOWN, action, here, actual=why)] if listed else []
    name = str(rule.get("input", ""))
    where = Location(wf.path, given.line_of(name)) if name in given else here
    return [_judge(action, rule, name, given.get(name), rule.get("default", ""), where)]


def local_dir(workflow: Path, action: str) -> Path:
    """The directory a local `uses: ./path` names: relative to the repository root (the
    workspace), the directory holding .github/workflows, else the workflow's own directory."""
    standard = workflow.parent.name == "workflows" and workflow.parent.parent.name == ".github"
    root = workflow.parents[2] if standard else workflow.parent
    return Path(os.path.normpath(root / action))


def _local(
    local: LocalAction,
    action: str,
    given: LineDict,
    here: Location,
    table: dict[str, Any],
    listed: bool,
) -> list[Verdict]:
    """A composite action in the tree fails through the scanners it runs: an input of theirs
    passed as `${{ inputs.X }}` is decided by the caller's X (or X's default)."""
    found = []
    for inner in sequence(mapping(local.doc.get("runs")).get("steps")):
        if not isinstance(inner, LineDict):
            continue
        rule = _rule(str(inner.get("uses", "")).split("@")[0], table)
        if rule is None:
            continue
        name = str(rule.get("input", ""))
        inputs = mapping(inner.get("with"))
        raw = inputs.get(name)
        ref = _INPUT_REF.match(str(raw)) if raw is not None else None
        if ref is None:
            where = Location(local.path, inputs.line_of(name) if name in inputs else inner.line)
            found.append(_judge(action, rule, name, raw, rule.get("default", ""), where))
            continue
        own = ref.group(1)
        if own not in local.inputs:
            why = f"{local.path.name} passes inputs.{own}, which it does not declare"
            found.append(Verdict(UNKNOWN, action, here, actual=why))
            continue
        where = Location(here.path, given.line_of(own)) if own in given else here
        found.append(_judge(action, rule, own, given.get(own), local.inputs[own] or "", where))
    if found or not listed:
        return found
    declared = ", ".join(local.inputs) or "none"
    why = f"its {local.path.name} ({local.using}) declares inputs {declared}, none known to fail"
    return [Verdict(UNKNOWN, action, here, actual=why)]


def _rule(action: str, table: dict[str, Any]) -> dict[str, Any] | None:
    """The table's entry for an action (its most specific matching pattern)."""
    matches = [k for k in table if fnmatchcase(action, k)]
    entry = table[max(matches, key=len)] if matches else None
    return entry if isinstance(entry, dict) else None


def _judge(
    action: str, rule: dict[str, Any], name: str, raw: Any, default: Any, where: Location
) -> Verdict:
    """The verdict of one input value (None: unset, the default applies) under a rule."""
    value = scalar(default) if raw is None else scalar(raw)
    if "${{" in value:
        return Verdict(UNKNOWN, action, where, actual=f"{name} is the expression {value}")
    verdict = _fails(rule, value)
    if verdict is None:
        why = f"the table's rule for it is not understood ({rule.get('fails')!r})"
        return Verdict(UNKNOWN, action, where, actual=why)
    shown = f"{name} unset (default {default!r})" if raw is None else f"{name}: {value!r}"
    return Verdict(OK if verdict else NEVER, action, where, _fix(rule, name), shown)


def _fails(rule: dict[str, Any], value: str) -> bool | None:
    """Whether the input's value lets the scanner fail the job (None: unknown rule)."""
    mode, text = rule.get("fails"), value.strip()
    if mode == "nonzero":
        return re.fullmatch(r"-?\d+", text) is not None and int(text) != 0
    if mode == "true":
        return text.lower() == "true"
    if mode == "not-true":
        return text.lower() != "true"
    if mode == "empty":
        return text == ""
    if mode == "one-of":
        return text in [str(v) for v in _values(rule)]
    if mode == "flag":
        return _flag_below(text, str(rule.get("flag")), rule.get("below", 0))
    return None


def _flag_below(text: str, flag: str, below: Any) -> bool:
    """Whether `text` passes `flag N` (or `flag=N`) with a number N below `below`."""
    words = text.split()
    for i, word in enumerate(words):
        number = word[len(flag) + 1 :] if word.startswith(flag + "=") else None
        if word == flag and i + 1 < len(words):
            number = words[i + 1]
        if number is not None and re.fullmatch(r"\d+(\.\d+)?", number):
            return isinstance(below, (int, float)) and float(number) < below
    return False


def _fix(rule: dict[str, Any], name: str) -> str:
    """What to write so that the rule's input lets the scanner fail the job."""
    mode = rule.get("fails")
    if mode == "nonzero":
        return f"{name}: '1'"
    if mode == "true":
        return f"{name}: true"
    if mode == "not-true":
        return f"{name}: false (or unset)"
    if mode == "empty":
        return f"{name} unset (any value, even false, keeps the job green)"
    if mode == "one-of":
        return f"{name}: {(_values(rule) or ['?'])[0]}"
    return f"{name}: {rule.get('flag')} {rule.get('example', '')}".rstrip()


def _values(rule: dict[str, Any]) -> list[Any]:
    values = rule.get("values")
    return values if isinstance(values, list) else []
