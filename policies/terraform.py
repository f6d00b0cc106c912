"""Static Terraform reader: python-hcl2 with line numbers, module instances, var/local resolution.

Every directory of .tf files is a module. Directories no other module calls are instantiated
on their own (with terraform.tfvars / *.auto.tfvars applied); called modules are instantiated
once per call with the caller's resolved arguments, so a resource's values are what that root
would pass. References to `var.*` and `local.*` and "${...}" interpolations of them are
resolved; anything else (resource attributes, functions) stays as its "${...}" text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.sources import ParseError, SourceError, Sources

META_KEYS = ("__start_line__", "__end_line__")
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}
_JSONENCODE = re.compile(r"^\$\{jsonencode\((\{.*\})\)\}$", re.S)
_VAR = re.compile(r"\$\{\s*(var|local)\.([A-Za-z0-9_-]+)\s*\}")
_REF = re.compile(
    r"^\$\{\s*((?:module\.[A-Za-z0-9_-]+\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.[^}]*)?\}$"
)
MAX_MODULE_DEPTH = 10


@dataclass
class TfResource:
    """One resource of one module instance, its body resolved in that instance's scope."""

    type: str
    name: str
    module: str  # module address prefix ("" in a root, "module.waf" below it)
    body: dict[str, Any]
    path: Path
    line: int
    instance: str  # the module instance: top-level directory, then module.<name> per call

    @property
    def address(self) -> str:
        local = f"{self.type}.{self.name}"
        return f"{self.module}.{local}" if self.module else local


@dataclass(frozen=True)
class TfVariable:
    """A `variable` block as written (not instantiated): for sensitivity and default checks."""

    name: str
    sensitive: bool
    default: Any
    path: Path
    line: int


@dataclass(frozen=True)
class TfAssignment:
    """One `name = value` of a .tfvars file."""

    name: str
    value: Any
    path: Path
    line: int


@dataclass
class _ModuleDir:
    path: Path
    variables: dict[str, Any] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: list[tuple[str, str, dict[str, Any], Path]] = field(default_factory=list)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    tfvars: dict[str, Any] = field(default_factory=dict)
    has_provider: bool = False


@dataclass
class TfProject:
    """All Terraform under a tree: resources per module instance, roots, parse errors."""

    base: Path
    resources: list[TfResource] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    variables: list[TfVariable] = field(default_factory=list)
    tfvars: list[TfAssignment] = field(default_factory=list)
    module_vars: dict[str, dict[str, Any]] = field(default_factory=dict)  # instance -> resolved
    _lines: dict[Path, list[str]] = field(default_factory=dict, repr=False)
    _by_address: dict[tuple[str, str], TfResource] = field(default_factory=dict, repr=False)

    def of_type(self, type_: str) -> list[TfResource]:
        return [r for r in self.resources if r.type == type_]

    def referenced(self, by: TfResource, value: Any) -> TfResource | None:
        """The resource that an unresolved reference such as "${aws_x.y.arn}" names."""
        if not isinstance(value, str) or not (m := _REF.match(value)):
            return None
        return self._by_address.get((by.instance, m.group(1)))

    def attr_line(self, path: Path, block: dict[str, Any], attr: str) -> int:
        """The line of `attr = ...` (JSON syntax: `"attr": ...`) inside a block, else the block's
        first line."""
        start, end = block.get("__start_line__", 1), block.get("__end_line__", 0)
        name = re.escape(attr)
        written = rf'"{name}"\s*:' if path.name.endswith(".json") else rf"{name}\s*="
        pattern = re.compile(rf"^\s*{written}")
        for number in range(start, end + 1):
            if number <= len(self._lines[path]) and pattern.match(self._lines[path][number - 1]):
                return number
        return start


def load_project(sources: Sources) -> TfProject:
    """Parse every .tf (and .tfvars) file of the tree and instantiate its modules."""
    base = sources.base
    project = TfProject(base=base)
    dirs: dict[Path, _ModuleDir] = {}
    sources.load_hcl(sources.files(".tf", ".tfvars"))
    for path in sources.files(".tf", ".tf.json"):
        parsed = _parse(path, project, sources)
        if parsed is None:
            continue
        mod = dirs.setdefault(path.parent, _ModuleDir(path.parent))
        _collect(mod, parsed, path, project)
    for tfvars in sources.files(".tfvars", ".tfvars.json"):
        parsed = _parse(tfvars, project, sources)
        if not parsed:
            continue
        whole = {"__start_line__": 1, "__end_line__": len(project._lines[tfvars])}
        values = {k: v for k, v in parsed.items() if k not in META_KEYS}
        project.tfvars += [
            TfAssignment(k, v, tfvars, project.attr_line(tfvars, whole, k))
            for k, v in values.items()
        ]
        applied = tfvars.name in ("terraform.tfvars", "terraform.tfvars.json") or (
            tfvars.name.endswith((".auto.tfvars", ".auto.tfvars.json"))
        )
        if applied and tfvars.parent in dirs:
            dirs[tfvars.parent].tfvars.update(values)
    called = {
        (mod.path / call["source"]).resolve()
        for mod in dirs.values()
        for call in mod.calls.values()
        if _is_local_source(call.get("source"))
    }
    for mod in dirs.values():
        if mod.path.resolve() in called:
            continue
        if mod.has_provider:
            project.roots.append(mod.path)
        values = {**mod.variables, **mod.tfvars}
        _instantiate(mod, values, "", str(mod.path.relative_to(base)), dirs, project, depth=0)
    for res in project.resources:  # the first of duplicate addresses wins
        project._by_address.setdefault((res.instance, f"{res.type}.{res.name}"), res)
    return project


def _parse(path: Path, project: TfProject, sources: Sources) -> dict[str, Any] | None:
    try:
        project._lines[path] = sources.lines(path)
        return sources.terraform(path)
    except SourceError as exc:
        project.errors.append(exc.error)
    return None


def _collect(mod: _ModuleDir, parsed: dict[str, Any], path: Path, project: TfProject) -> None:
    for block in parsed.get("variable", []):
        for name, body in block.items():
            if name not in META_KEYS:
                mod.variables[name] = body.get("default", f"${{var.{name}}}")
                project.variables.append(
                    TfVariable(
                        name,
                        body.get("sensitive") is True,
                        body.get("default"),
                        path,
                        body["__start_line__"],
                    )
                )
    for block in parsed.get("locals", []):
        mod.locals.update({k: v for k, v in block.items() if k not in META_KEYS})
    for block in parsed.get("resource", []):
        for type_, named in block.items():
            for name, body in named.items():
                mod.resources.append((type_, name, body, path))
    for block in parsed.get("module", []):
        mod.calls.update({k: v for k, v in block.items() if k not in META_KEYS})
    if parsed.get("provider"):
        mod.has_provider = True


def _instantiate(
    mod: _ModuleDir,
    variables: dict[str, Any],
    prefix: str,
    instance: str,
    dirs: dict[Path, _ModuleDir],
    project: TfProject,
    depth: int,
) -> None:
    scope: dict[str, dict[str, Any]] = {"var": variables, "local": {}}
    project.module_vars[instance] = variables
    for _ in range(len(mod.locals) + 1):  # locals may reference locals declared later
        scope["local"] = {k: resolve(v, scope) for k, v in mod.locals.items()}
    for type_, name, body, path in mod.resources:
        project.resources.append(
            TfResource(
                type_, name, prefix, resolve(body, scope), path, body["__start_line__"], instance
            )
        )
    if depth >= MAX_MODULE_DEPTH:
        return
    for call_name, call in mod.calls.items():
        if not _is_local_source(call.get("source")):
            continue
        child = dirs.get((mod.path / call["source"]).resolve()) or dirs.get(
            mod.path / call["source"]
        )
        if child is None:
            continue
        args = {
            k: resolve(v, scope)
            for k, v in call.items()
            if k not in MODULE_META_ARGS and k not in META_KEYS
        }
        child_prefix = f"{prefix}.module.{call_name}" if prefix else f"module.{call_name}"
        _instantiate(
            child,
            {**child.variables, **args},
            child_prefix,
            f"{instance}/module.{call_name}",
            dirs,
            project,
            depth + 1,
        )


def _is_local_source(source: Any) -> bool:
    return isinstance(source, str) and source.startswith(("./", "../"))


def resolve(value: Any, scope: dict[str, dict[str, Any]]) -> Any:
    """Substitute known var./local. references, recursively; unknown ones stay as text."""
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    if (whole := _VAR.fullmatch(value)) and whole.group(2) in scope[whole.group(1)]:
        return scope[whole.group(1)][whole.group(2)]

    def substitute(match: re.Match[str]) -> str:
        known = scope[match.group(1)].get(match.group(2), match.group(0))
        return match.group(0) if isinstance(known, dict | list) else _scalar_text(known)

    return _VAR.sub(substitute, value)


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block list as python-hcl2 gives it; an attribute of another shape written
    where a block belongs (`rule = "x"`, `statement = null`) gives no blocks."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def listed(value: Any) -> list[Any]:
    """A list attribute; any other value gives an empty list (an unresolved expression string
    is not iterated character by character)."""
    return value if isinstance(value, list) else []


def jsonencode_argument(value: Any) -> str | None:
    """The object literal inside `jsonencode({...})` as python-hcl2 renders it (JSON-like text),
    or None when the value is not such a call."""
    match = _JSONENCODE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
