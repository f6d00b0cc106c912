"""Every scalar written where a credential could be, for SEC-004: Compose files, Kubernetes
manifests, Helm values (any YAML but CI workflows), Terraform blocks, variable defaults and
tfvars. Which names are secret and which values are references is SEC-004's (its parameters);
the reader only records what is written, where, and in which shape of file. Values are kept
for the check and never shown."""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from policies.model import Location
from policies.secrets.model import SecretsInventory, TfVariable, Written
from policies.sources import SourceError, Sources
from policies.terraform import META_KEYS
from policies.tfeval import Scope, Unknown, evaluate_text
from policies.yamlfile import LineDict, YamlFile, mapping

# Objects whose values are encrypted or references by design: SealedSecrets (bitnami.com) and
# External Secrets Operator objects (their own policies). Secret has its own rule (static.py).
SKIPPED_API_GROUPS = ("external-secrets.io/", "bitnami.com/")
_ENV_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=(.*)", re.S)  # `- NAME=value` (Compose)
_COMPOSE_SERVICE_KEYS = {"image", "build", "environment", "env_file"}
# Keys only the grafana chart's values have at their top level (as MET-007 reads them): such a
# mapping counts as under `grafana`, so SEC-004's owned_elsewhere leaves it to MET-007.
GRAFANA_CHART_KEYS = ("grafana.ini", "adminUser", "dashboardProviders", "dashboardsConfigMaps")


class _AnyVariable(dict):  # type: ignore[type-arg]
    """Every `var.x` is declared and unknown: an expression is evaluated as written."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> Unknown:
        return Unknown(f"var.{key}", f"var.{key}")


# Terraform as written: variables, locals, each/count/self and resources are all unknown, so
# only what the file itself spells out (literals, jsonencode of literals) has a value.
_AS_WRITTEN = Scope(
    variables=_AnyVariable(), names={n: Unknown(n, n) for n in ("each", "count", "self")}
)


# A reference and nothing else (`${var.x}`, `${aws_db_instance.main[0].password}`): unknown as
# written, so not a value; `path.*` and `terraform.*` are known strings and not matched.
_REFERENCE = re.compile(
    r"\$\{\s*(?!(?:path|terraform|true|false|null)\b)[A-Za-z_][\w-]*"
    r'(?:\.(?:[A-Za-z_][\w-]*|\d+|\*)|\[(?:\d+|\*|"[^"\\$%]*")\])*\s*\}'
)
_KEY = re.compile(r'^\s*(?:"([^"\n]+)"|([^\s"=:]+))\s*[=:]')  # the key a line assigns


def scalar(value: Any) -> bool:
    """A value that can be a credential: text or a number (booleans and null are not)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


class _Keyed:
    """Each key written as `key = ...` / `"key": ...` / `key: ...` in a file -> its lines, in
    order: one pass over the file, however many blocks and attributes are located in it."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._found: dict[str, list[int]] | None = None

    def lines_of(self, key: str) -> list[int]:
        if self._found is None:
            self._found = {}
            for number, line in enumerate(self._lines, start=1):
                match = _KEY.match(line)
                if match:
                    self._found.setdefault(match[1] or match[2], []).append(number)
        return self._found.get(key, [])


@dataclass
class _File:
    """Where written values go, and what locates them in one file (`keyed`: shared by the
    file's blocks)."""

    path: Path
    lines: list[str]
    shape: str
    holder: str
    out: list[Written]
    keyed: _Keyed

    def add(self, name: str, keys: tuple[str, ...], shown: str, value: Any, line: int) -> None:
        if scalar(value):
            self.out.append(
                Written(
                    name, keys, shown, value, Location(self.path, line), self.shape, self.holder
                )
            )

    def line_after(self, start: int, needle: str) -> int:
        """The first line from `start` on that contains `needle` (list items have no marks)."""
        for number in range(max(start, 1), len(self.lines) + 1):
            if needle and needle in self.lines[number - 1]:
                return number
        return start


# ---- YAML -----------------------------------------------------------------------------------


def read_yaml(file: YamlFile, sources: Sources, inv: SecretsInventory) -> None:
    """The scalars of every document of a YAML file that is a manifest, values or Compose."""
    try:
        lines = sources.lines(file.path)
    except SourceError:
        lines = []
    for document in file.documents:
        if not isinstance(document, LineDict):
            continue
        shape, holder = yaml_shape(document)
        if shape is None:
            continue
        inv.carriers += 1
        if holder != "Secret v1":  # its own rule: data / stringData
            chart = shape == "values" and "grafana" in file.path.name.lower()
            keys = ("grafana",) if chart else ()
            f = _File(file.path, lines, shape, holder, inv.written, _Keyed(lines))
            _walk(f, document, keys, "", 1)


def yaml_shape(doc: LineDict) -> tuple[str | None, str]:
    """(shape, holder) of a YAML document; no shape for what SEC-004 does not read (CI
    workflows, SealedSecrets, External Secrets objects)."""
    if "apiVersion" in doc and "kind" in doc:
        api, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
        if api.startswith(SKIPPED_API_GROUPS):
            return None, ""
        if kind == "Secret" and api == "v1":
            return "manifest", "Secret v1"
        return "manifest", f"{kind} {mapping(doc.get('metadata')).get('name')}"
    if _ci(doc):
        return None, ""
    services = doc.get("services")
    if isinstance(services, dict) and any(
        isinstance(s, dict) and _COMPOSE_SERVICE_KEYS & set(s) for s in services.values()
    ):
        return "compose", ""
    return "values", ""


def _ci(doc: LineDict) -> bool:
    """A GitHub Actions workflow (jobs) or a GitLab CI file (stages, or jobs with a script)."""
    return (
        "jobs" in doc
        or "stages" in doc
        or any(isinstance(v, dict) and "script" in v for v in doc.values())
    )


def _pair(node: LineDict) -> tuple[str, Any] | None:
    """`{name: X, value: Y}` (a container's env entry, an Argo/Tekton parameter)."""
    name = node.get("name")
    if isinstance(name, str) and "value" in node and scalar(node.get("value")):
        return name, node.get("value")
    return None


def _walk(f: _File, node: Any, keys: tuple[str, ...], shown: str, line: int) -> None:
    if isinstance(node, LineDict):
        if keys[-1:] != ("grafana",) and any(k in node for k in GRAFANA_CHART_KEYS):
            keys = (*keys, "grafana")
        pair = _pair(node)
        if pair is not None:
            name, value = pair
            at = shown if shown.endswith(f"[{name}]") else f"{shown}[{name}]"
            f.add(name, keys + tuple(name.split(".")), at, value, node.line_of("value"))
        for key, value in node.items():
            if pair is not None and key == "value":
                continue
            text = str(key)
            inner = f"{shown}.{text}" if shown else text
            if scalar(value):
                f.add(text, (*keys, text), inner, value, node.line_of(key))
            else:
                _walk(f, value, (*keys, text), inner, node.line_of(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, str) and (match := _ENV_ITEM.fullmatch(item)):
                name = match.group(1)
                where = f.line_after(line, f"{name}=")
                f.add(name, (*keys, name), f"{shown}[{name}]", match.group(2), where)
            elif scalar(item):
                first = str(item).split("\n", 1)[0].strip()
                f.add("", keys, f"{shown}[{index}]", item, f.line_after(line, first))
            else:
                label = item.get("name") if isinstance(item, dict) else None
                label = label if isinstance(label, str) else index
                start = item.line if isinstance(item, LineDict) else line
                _walk(f, item, keys, f"{shown}[{label}]", start)


# ---- Terraform ------------------------------------------------------------------------------


def read_terraform(sources: Sources, inv: SecretsInventory) -> None:
    """The attributes of every block of every Terraform file, and every tfvars assignment."""
    for path in sources.files(".tf", ".tf.json", ".tfvars", ".tfvars.json"):
        inv.carriers += 1
        try:
            parsed, lines = sources.terraform(path), sources.lines(path)
        except SourceError:
            continue  # the SRC policies report it
        if not isinstance(parsed, dict):
            continue
        if path.name.endswith((".tfvars", ".tfvars.json")):
            whole = {"__start_line__": 1, "__end_line__": len(lines)}
            f = _File(path, lines, "tfvars", "", inv.written, _Keyed(lines))
            _attributes(f, whole | parsed, "")
        else:
            _tf_file(path, lines, parsed, inv)


def _labelled(value: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (str(k), v)
        for block in (value if isinstance(value, list) else [])
        if isinstance(block, dict)
        for k, v in block.items()
        if k not in META_KEYS and isinstance(v, dict)
    ]


def _tf_file(path: Path, lines: list[str], parsed: dict[str, Any], inv: SecretsInventory) -> None:
    keyed = _Keyed(lines)

    def block(holder: str, body: dict[str, Any]) -> None:
        _attributes(_File(path, lines, "terraform", holder, inv.written, keyed), body, holder)

    for kind in ("resource", "data", "ephemeral"):
        for type_, named in _labelled(parsed.get(kind)):
            for name, body in _labelled([named]):
                prefix = "" if kind == "resource" else f"{kind}."
                block(f"{prefix}{type_}.{name}", body)
    for kind in ("module", "provider"):
        for name, body in _labelled(parsed.get(kind)):
            block(f"{kind}.{name}", body)
    written_locals = parsed.get("locals")
    for body in written_locals if isinstance(written_locals, list) else []:
        if isinstance(body, dict):
            block("local", body)
    for kind, attribute in (("output", "value"), ("variable", "default")):
        for name, body in _labelled(parsed.get(kind)):
            shown = f"var.{name}" if kind == "variable" else f"output.{name}"
            f = _File(path, lines, kind, shown, inv.written, keyed)
            start, end = _span(f, body)
            if kind == "variable":
                where = Location(path, start, f"var.{name}")
                inv.variables.append(TfVariable(name, body.get("sensitive") is True, where))
            if attribute in body:
                line = _attr_line(f, start, end, attribute)
                _value(f, name, (name,), f.holder, body[attribute], line, end)


def _span(f: _File, body: dict[str, Any]) -> tuple[int, int]:
    """The first and last line of a block."""
    start, end = body.get("__start_line__", 1), body.get("__end_line__", len(f.lines))
    return (start, end) if isinstance(start, int) and isinstance(end, int) else (1, 0)


def _attr_line(f: _File, start: int, end: int, key: str) -> int:
    """The line of `key = ...` (`"key": ...` in JSON, `key: ...` in an object) in start..end."""
    lines = f.keyed.lines_of(key)
    at = bisect.bisect_left(lines, max(start, 1))
    return lines[at] if at < len(lines) and lines[at] <= end else start


def _attributes(f: _File, body: dict[str, Any], holder: str) -> None:
    """A block's attributes (nested blocks too); a `name`/`value` block (helm_release's set)
    is one value named by its `name`."""
    start, end = _span(f, body)
    name = body.get("name")
    if isinstance(name, str) and "value" in body:
        line = _attr_line(f, start, end, "value")
        keys = tuple(name.split("."))
        _value(f, name.split(".")[-1], keys, f"{holder}[{name}]", body["value"], line, end)
    for attribute, value in body.items():
        if attribute in META_KEYS or (isinstance(name, str) and attribute == "value"):
            continue
        shown = f"{holder}.{attribute}" if holder else str(attribute)
        if (
            isinstance(value, list)
            and value
            and all(isinstance(v, dict) and "__start_line__" in v for v in value)
        ):
            for nested in value:
                _attributes(f, nested, shown)
            continue
        line = _attr_line(f, start, end, str(attribute))
        _value(f, str(attribute), (str(attribute),), shown, value, line, end)


def _value(
    f: _File, name: str, keys: tuple[str, ...], shown: str, raw: Any, line: int, end: int
) -> None:
    """One attribute's value as written: a literal, or the literals inside an object, a list
    or a jsonencode() (references inside stay unknown and are not values)."""
    if isinstance(raw, str) and _REFERENCE.fullmatch(raw):
        return
    written = _as_written(raw)
    if isinstance(written, Unknown):
        written = written.partial  # jsonencode() of an object with references in it
    if isinstance(written, str) and written.lstrip().startswith(("{", "[")):
        with contextlib.suppress(ValueError, RecursionError):
            written = json.loads(written)
    _literals(f, name, keys, shown, written, line, end)


def _as_written(raw: Any) -> Any:
    """A python-hcl2 value evaluated as written (every reference unknown), each expression's
    text evaluated once per run (modules copied per environment repeat them; the values are
    only read)."""
    if isinstance(raw, dict):
        return {k: _as_written(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_as_written(v) for v in raw]
    if isinstance(raw, str) and ("${" in raw or "%{" in raw):
        return _written_text(raw)
    return raw


@lru_cache(maxsize=16384)
def _written_text(text: str) -> Any:
    return evaluate_text(text, _AS_WRITTEN)


def _literals(
    f: _File, name: str, keys: tuple[str, ...], shown: str, value: Any, line: int, end: int
) -> None:
    if isinstance(value, dict):
        pair = value.get("name")
        pair = pair if isinstance(pair, str) and scalar(value.get("value")) else None
        if pair is not None:  # an ECS container's environment entry
            at = shown if shown.endswith(f"[{pair}]") else f"{shown}[{pair}]"
            where = _attr_line(f, f.line_after(line, f'"{pair}"'), end, "value")
            f.add(pair, (*keys, *pair.split(".")), at, value["value"], where)
        for key, inner in value.items():
            if key in META_KEYS or (pair is not None and key == "value"):
                continue
            text = str(key)
            at = _attr_line(f, line, end, text)
            _literals(f, text, (*keys, text), f"{shown}.{text}", inner, at, end)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            label = item.get("name") if isinstance(item, dict) else None
            label = label if isinstance(label, str) else index
            _literals(f, name, keys, f"{shown}[{label}]", item, line, end)
    else:
        f.add(name, keys, shown, value, line)
