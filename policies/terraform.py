"""Static Terraform: every directory of .tf/.tf.json files is a module; each module instance is
evaluated as `terraform plan` would evaluate it (policies.tfeval).

Directories no other module calls are instantiated on their own, with their variables' defaults
and terraform.tfvars / *.auto.tfvars applied; called modules once per call (and per `count` /
`for_each` instance of the call) with the caller's evaluated arguments. Each resource becomes one
TfResource per instance (`aws_x.y[0]`, `aws_x.y["key"]`; none when count is 0), its body
evaluated with `dynamic` blocks expanded. What only apply knows, or what a root does not give,
is an `Unknown` (references to another resource's computed attribute keep that resource's
address, so readers can still link them). What the reader cannot evaluate at all (a count that
depends on apply, a registry module) is a `Note`, reported as unverifiable by SRC-005.

Local module sources are read relative to the calling file: inside --infra from the tree,
above it only inside the enclosing repository and through the same gatekeeper (never through
a link); registry and git sources are not analysed (a note names each).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.sources import ParseError, SourceError, Sources
from policies.tfeval import (
    AFTER_APPLY,
    MORE,
    READ_AT_PLAN,
    Attributes,
    Scope,
    UndeclaredReference,
    Unknown,
    convert,
    element_lines,
    evaluate,
    iterate,
)

# Line markers of python-hcl2, and of blocks generated from a caller's value.
META_KEYS = ("__start_line__", "__end_line__", "__file__", "__related__")
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}
RESOURCE_META_ARGS = {
    "count",
    "for_each",
    "depends_on",
    "provider",
    "lifecycle",
    "provisioner",
    "connection",
}
MAX_MODULE_DEPTH = 10


@dataclass
class TfResource:
    """One instance of a resource of one module instance, its body evaluated in that scope."""

    type: str
    name: str
    module: str  # module address prefix ("" in a root, "module.waf" below it)
    body: dict[str, Any]
    path: Path
    line: int
    instance: str  # the module instance: top-level directory, then module.<name> per call
    index: int | str | None = None  # count index or for_each key
    unevaluated: list[str] = field(default_factory=list)  # parts of the body not evaluated
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the body as written

    @property
    def local_address(self) -> str:
        return f"{self.type}.{self.name}{_suffix(self.index)}"

    @property
    def address(self) -> str:
        return f"{self.module}.{self.local_address}" if self.module else self.local_address


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


@dataclass(frozen=True)
class Note:
    """Terraform the reader did not evaluate or read, at its file and line."""

    path: Path
    line: int
    message: str


@dataclass
class _Module:
    """One directory's blocks, as written."""

    path: Path
    variables: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    locals: dict[str, tuple[Any, Path, int]] = field(default_factory=dict)
    blocks: list[tuple[str, str, str, dict[str, Any], Path]] = field(default_factory=list)
    calls: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    outputs: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    tfvars: dict[str, Any] = field(default_factory=dict)
    has_provider: bool = False
    fetched: bool = False  # read from .terraform/modules, where terraform init put it


@dataclass
class TfProject:
    """All Terraform under a tree: resource instances, roots, parse errors, notes."""

    base: Path
    resources: list[TfResource] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    variables: list[TfVariable] = field(default_factory=list)
    tfvars: list[TfAssignment] = field(default_factory=list)
    module_vars: dict[str, dict[str, Any]] = field(default_factory=dict)  # instance -> values
    notes: list[Note] = field(default_factory=list)
    outside: list[Path] = field(default_factory=list)  # module directories read above --infra
    _lines: dict[Path, list[str]] = field(default_factory=dict, repr=False)
    _by_address: dict[tuple[str, str], TfResource] = field(default_factory=dict, repr=False)

    def of_type(self, type_: str) -> list[TfResource]:
        return [r for r in self.resources if r.type == type_]

    def referenced(self, by: TfResource, value: Any) -> TfResource | None:
        """The resource instance a reference to one of its attributes names (an Unknown that
        only apply would know, carrying the resource's address), in the same root module,
        through module outputs too."""
        if not isinstance(value, Unknown) or value.ref is None:
            return None
        return self._by_address.get((root_instance(by.instance), value.ref))

    def attr_line(self, path: Path, block: dict[str, Any], attr: str) -> int:
        """The line of `attr = ...` (JSON syntax: `"attr": ...`) inside a block, else the block's
        first line."""
        start, end = block.get("__start_line__", 1), block.get("__end_line__", 0)
        lines = self._lines.get(path, [])
        name = re.escape(attr)
        written = rf'"{name}"\s*:' if path.name.endswith(".json") else rf"{name}\s*="
        pattern = re.compile(rf"^\s*{written}")
        for number in range(start, end + 1):
            if number <= len(lines) and pattern.match(lines[number - 1]):
                return number
        return start


def load_project(sources: Sources) -> TfProject:
    """Parse every .tf (and .tfvars) file of the tree and evaluate its module instances."""
    project = TfProject(base=sources.base)
    loader = _Loader(sources, project)
    sources.load_hcl(sources.files(".tf", ".tfvars"))
    for path in sources.files(".tf", ".tf.json"):
        loader.add(path)
    for tfvars in sources.files(".tfvars", ".tfvars.json"):
        loader.add_tfvars(tfvars)
    called = loader.called_dirs()
    for mod in list(loader.dirs.values()):
        if mod.path in called:
            continue
        if mod.has_provider:
            project.roots.append(mod.path)
        values = {k: v for k, v in mod.tfvars.items()}
        name = str(mod.path.relative_to(project.base))
        instance = _Instance(loader, mod, values, "", name, (), mod.path)
        instance.emit()
    for res in project.resources:  # the first of duplicate addresses wins
        project._by_address.setdefault((root_instance(res.instance), res.address), res)
    return project


class _Loader:
    """Reads module directories (the tree's, and local sources above it) into _Modules."""

    def __init__(self, sources: Sources, project: TfProject) -> None:
        self.sources = sources
        self.project = project
        self.dirs: dict[Path, _Module] = {}

    def parse(self, path: Path) -> dict[str, Any] | None:
        try:
            self.project._lines[path] = self.sources.lines(path)
            return self.sources.terraform(path)
        except SourceError as exc:
            self.project.errors.append(exc.error)
        return None

    def add(self, path: Path) -> None:
        parsed = self.parse(path)
        if parsed is None:
            return
        mod = self.dirs.setdefault(path.parent, _Module(path.parent))
        _collect(mod, parsed, path, self.project)

    def add_tfvars(self, path: Path) -> None:
        parsed = self.parse(path)
        if not parsed:
            return
        whole = {"__start_line__": 1, "__end_line__": len(self.project._lines[path])}
        values = {k: v for k, v in parsed.items() if k not in META_KEYS}
        self.project.tfvars += [
            TfAssignment(k, v, path, self.project.attr_line(path, whole, k))
            for k, v in values.items()
        ]
        applied = path.name in ("terraform.tfvars", "terraform.tfvars.json") or (
            path.name.endswith((".auto.tfvars", ".auto.tfvars.json"))
        )
        if applied and path.parent in self.dirs:
            self.dirs[path.parent].tfvars.update(values)

    def called_dirs(self) -> set[Path]:
        called = set()
        for mod in self.dirs.values():
            for body, _ in mod.calls.values():
                source = body.get("source")
                if _is_local(source):
                    called.add(Path(os.path.normpath(mod.path / source)))
        return called

    def module(self, caller: _Module, source: str, where: tuple[Path, int]) -> _Module | None:
        """The module a local source names: from the tree, or read above --infra inside the
        repository (noted); None (noted) when it cannot be read."""
        target = Path(os.path.normpath(caller.path / source))
        if target in self.dirs:
            return self.dirs[target]
        files = self.sources.outside_module(target)
        if isinstance(files, str):
            self.project.notes.append(Note(where[0], where[1], f"module source {source}: {files}"))
            return None
        mod = self.dirs.setdefault(target, _Module(target))
        if target not in self.project.outside:
            self.project.outside.append(target)
            self._read_module(mod, files)
        return mod

    def fetched(
        self, root: Path, key: tuple[str, ...], where: tuple[Path, int], call: str
    ) -> _Module | None:
        """A registry or git module as `terraform init` fetched it into the root's
        .terraform/modules (read through the gate); None, noted, when it was not fetched."""
        found = self.sources.fetched_module(root, ".".join(key))
        if isinstance(found, str):
            self.project.notes.append(Note(where[0], where[1], f"{call} is not analysed: {found}"))
            return None
        directory, files = found
        if directory not in self.dirs:
            self.dirs[directory] = _Module(directory, fetched=True)
            self._read_module(self.dirs[directory], files)
        return self.dirs[directory]

    def _read_module(self, mod: _Module, files: list[Path]) -> None:
        for path in files:
            parsed = self.parse(path)
            if parsed is not None:
                _collect(mod, parsed, path, self.project, declared=False)


def _collect(
    mod: _Module, parsed: dict[str, Any], path: Path, project: TfProject, declared: bool = True
) -> None:
    for name, body in _labelled(parsed.get("variable")):
        mod.variables[name] = (body, path)
        if declared:
            project.variables.append(
                TfVariable(
                    name,
                    body.get("sensitive") is True,
                    body.get("default"),
                    path,
                    body.get("__start_line__", 1),
                )
            )
    for block in parsed.get("locals") or []:
        if isinstance(block, dict):
            for k, v in block.items():
                if k not in META_KEYS:
                    mod.locals[k] = (v, path, block.get("__start_line__", 1))
    for kind in ("resource", "data", "ephemeral"):
        for type_, named in _labelled(parsed.get(kind)):
            for name, body in (i for i in named.items() if i[0] not in META_KEYS):
                if isinstance(body, dict):
                    mod.blocks.append((kind, type_, name, body, path))
    for name, body in _labelled(parsed.get("module")):
        mod.calls[name] = (body, path)
    for name, body in _labelled(parsed.get("output")):
        mod.outputs[name] = (body, path)
    if parsed.get("provider"):
        mod.has_provider = True


def _labelled(blocks: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict):
            out += [(k, v) for k, v in block.items() if k not in META_KEYS and isinstance(v, dict)]
    return out


class _Instance:
    """One module instance: its variables, lazily evaluated locals, resources and outputs."""

    def __init__(
        self,
        loader: _Loader,
        mod: _Module,
        inputs: dict[str, Any],
        prefix: str,
        name: str,
        key: tuple[str, ...],
        root: Path,
    ) -> None:
        self.loader, self.mod, self.prefix, self.name = loader, mod, prefix, name
        self.key = key  # the module calls from the root, as terraform init keys them
        self.root = root  # the root module's directory: Terraform's working directory
        self.project = loader.project
        self._locals: dict[str, Any] = {}
        self._values: dict[tuple[str, str, str], Any] = {}
        self._instances: dict[tuple[str, str, str], Any] = {}
        self._children: dict[str, Any] = {}
        self._busy: set[Any] = set()
        self.scope = Scope(
            variables={},
            local=self.local,
            module_path=os.path.relpath(mod.path, root),
            root_path=".",
            reference=self.reference,
            read_file=self.read_file,
        )
        self.scope.variables.update(self._variables(inputs))
        self.project.module_vars[name] = self.scope.variables

    @property
    def label(self) -> str:
        """The instance as messages name it: its root's path and module address."""
        return "the root module" if self.name == "." else self.name

    # --- names ---------------------------------------------------------------------------

    def _variables(self, inputs: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, (body, _) in self.mod.variables.items():
            if name in inputs:
                value = inputs[name]
            elif "default" in body:
                value = evaluate(body["default"], Scope())
            else:
                value = Unknown(f"required variable var.{name} has no value in {self.label}")
            type_text = body.get("type")
            if isinstance(type_text, str) and not isinstance(value, Unknown):
                value = convert(type_text, value)
            values[name] = value
        return values

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in self.mod.locals:
            raise UndeclaredReference(f"local.{name} is not defined", f"local.{name}")
        if ("local", name) in self._busy:
            return Unknown(f"local.{name} refers to itself")
        self._busy.add(("local", name))
        try:
            value = evaluate(self.mod.locals[name][0], self.scope)
        finally:
            self._busy.discard(("local", name))
        self._locals[name] = value
        return value

    def reference(self, parts: list[str | int]) -> Any:
        head = str(parts[0])
        if head == "module":
            if len(parts) < 2:
                return MORE
            return self.module_value(str(parts[1]))
        if head in ("data", "ephemeral"):
            if len(parts) < 3:
                return MORE
            return self.block_value(head, str(parts[1]), str(parts[2]))
        if len(parts) < 2:
            return MORE
        return self.block_value("resource", head, str(parts[1]))

    def read_file(self, path: str) -> str | Unknown:
        """file()/templatefile(): a file (relative to the root module), through the gate."""
        target = Path(os.path.normpath(self.root / path))
        try:
            return self.loader.sources.text(target)
        except SourceError as exc:
            return Unknown(f"{path}: {exc.error.message}")

    # --- resources -----------------------------------------------------------------------

    def _block(self, kind: str, type_: str, name: str) -> tuple[dict[str, Any], Path] | None:
        return next(
            ((b, p) for k, t, n, b, p in self.mod.blocks if (k, t, n) == (kind, type_, name)),
            None,
        )

    def block_instances(self, kind: str, type_: str, name: str) -> Any:
        """[(index, scope, body)] of a block, or an Unknown when count/for_each is."""
        key = (kind, type_, name)
        if key in self._instances:
            return self._instances[key]
        found = self._block(kind, type_, name)
        if found is None:
            prefix = "" if kind == "resource" else f"{kind}."
            raise UndeclaredReference(
                f"{prefix}{type_}.{name} is not declared in {self.label}", f"{prefix}{type_}.{name}"
            )
        body, _ = found
        if key in self._busy:
            return Unknown(f"{type_}.{name} depends on itself")
        self._busy.add(key)
        try:
            result = self._expand_instances(body)
            if not isinstance(result, Unknown):
                result = [(index, scope, _expand(body, scope, top=True)) for index, scope in result]
        finally:
            self._busy.discard(key)
        self._instances[key] = result
        return result

    def _expand_instances(self, body: dict[str, Any]) -> list[tuple[Any, Scope]] | Unknown:
        if "count" in body:
            count = evaluate(body["count"], self.scope)
            if isinstance(count, Unknown):
                return count
            if isinstance(count, bool) or not isinstance(count, (int, float)) or count < 0:
                return Unknown(f"count is {count!r}, not a whole number")
            return [(i, self.scope.child(count={"index": i})) for i in range(int(count))]
        if "for_each" in body:
            each = evaluate(body["for_each"], self.scope)
            if isinstance(each, Unknown):
                return each
            if not isinstance(each, (dict, list)):
                return Unknown(f"for_each over {type(each).__name__}")
            return [
                (str(k), self.scope.child(each={"key": k, "value": v})) for k, v in iterate(each)
            ]
        return [(None, self.scope)]

    def block_value(self, kind: str, type_: str, name: str) -> Any:
        """What `type.name` evaluates to: the instance's attributes, a list of them (count), or
        a map of them (for_each)."""
        instances = self.block_instances(kind, type_, name)
        if isinstance(instances, Unknown):
            return instances
        kind_prefix = "" if kind == "resource" else f"{kind}."
        module = f"{self.prefix}." if self.prefix else ""
        body_key = self._block(kind, type_, name)
        values = [
            (
                index,
                Attributes(
                    _attributes(body),
                    f"{module}{kind_prefix}{type_}.{name}{_suffix(index)}",
                    READ_AT_PLAN if kind == "data" else AFTER_APPLY,
                ),
            )
            for index, _, body in instances
        ]
        assert body_key is not None
        raw = body_key[0]
        if "count" in raw:
            return [v for _, v in values]
        if "for_each" in raw:
            return {str(index): v for index, v in values}
        return values[0][1] if values else None

    def module_value(self, call: str) -> Any:
        """module.<call>: its outputs (a list of them for count, a map for for_each)."""
        children = self.children(call)
        if isinstance(children, Unknown):
            return children
        if children is None:
            return Unknown(f"module.{call} is not analysed")
        body, _ = self.mod.calls[call]
        outputs = [(index, child.outputs()) for index, child in children]
        if "count" in body:
            return [o for _, o in outputs]
        if "for_each" in body:
            return {str(index): o for index, o in outputs}
        return outputs[0][1] if outputs else None

    def children(self, call: str) -> Any:
        """The instances of a module call: [(index, _Instance)], None when not analysed."""
        if call in self._children:
            return self._children[call]
        if call not in self.mod.calls:
            raise UndeclaredReference(
                f"module.{call} is not declared in {self.label}", f"module.{call}"
            )
        body, path = self.mod.calls[call]
        line = body.get("__start_line__", 1)
        self._children[call] = None
        source = body.get("source")
        key = (*self.key, call)
        if len(key) > MAX_MODULE_DEPTH:
            self.project.notes.append(Note(path, line, f"module {call}: nested too deeply"))
            return None
        if _is_local(source) and not self.mod.fetched:
            mod = self.loader.module(self.mod, str(source), (path, line))
        else:
            what = f"module {call}: source {source}"
            mod = self.loader.fetched(self.root, key, (path, line), what)
        if mod is None:
            return None
        instances = self._expand_instances(body)
        if isinstance(instances, Unknown):
            self.project.notes.append(Note(path, line, f"module {call}: {instances}"))
            self._children[call] = instances
            return instances
        made = []
        for index, scope in instances:
            args = {
                k: _located(evaluate(v, scope), path, self._argument_lines(path, body, k))
                for k, v in body.items()
                if k not in MODULE_META_ARGS and k not in META_KEYS
            }
            address = f"module.{call}{_suffix(index)}"
            prefix = f"{self.prefix}.{address}" if self.prefix else address
            name = f"{self.name}/{address}"
            made.append((index, _Instance(self.loader, mod, args, prefix, name, key, self.root)))
        self._children[call] = made
        return made

    def _argument_lines(self, path: Path, call: dict[str, Any], name: str) -> list[int]:
        """Where a module argument is written: the line of each element of a list written
        in place, else the argument's own line."""
        line = self.project.attr_line(path, call, name)
        text = "\n".join(self.project._lines.get(path, []))
        elements = element_lines(text, line) if not path.name.endswith(".json") else []
        return elements or [line]

    def outputs(self) -> dict[str, Any]:
        return {
            name: evaluate(body.get("value"), self.scope)
            for name, (body, _) in self.mod.outputs.items()
        }

    # --- emission ------------------------------------------------------------------------

    def emit(self) -> None:
        """Every resource instance of this module instance, then of its children."""
        for kind, type_, name, body, path in self.mod.blocks:
            if kind != "resource":
                continue
            instances = self.block_instances(kind, type_, name)
            line = body.get("__start_line__", 1)
            if isinstance(instances, Unknown):
                self.project.notes.append(
                    Note(
                        path,
                        line,
                        f"{type_}.{name} in {self.label}: instances unknown: {instances}",
                    )
                )
                continue
            for index, _, evaluated in instances:
                unevaluated = evaluated.pop("__unevaluated__", [])
                for part in unevaluated:
                    self.project.notes.append(Note(path, line, f"{type_}.{name}: {part}"))
                for what in dict.fromkeys(u.what for u in _undeclared(evaluated)):
                    rejected = f"{type_}.{name}: {what} (terraform rejects this reference)"
                    self.project.notes.append(Note(path, line, rejected))
                resource = TfResource(type_, name, self.prefix, evaluated, path, line, self.name)
                resource.index, resource.unevaluated, resource.raw = index, unevaluated, body
                self.project.resources.append(resource)
        for call in self.mod.calls:
            children = self.children(call)
            if isinstance(children, list):
                for _, child in children:
                    child.emit()


def _expand(body: dict[str, Any], scope: Scope, top: bool = False) -> dict[str, Any]:
    """A block body evaluated, with `dynamic` blocks expanded into the blocks they generate;
    `top`: a resource's own body, whose meta-arguments (count, lifecycle, ...) are dropped."""
    out: dict[str, Any] = {}
    unevaluated: list[str] = []
    for key, value in body.items():
        if key in META_KEYS:
            out[key] = value
        elif top and key in RESOURCE_META_ARGS:
            continue
        elif key == "dynamic":
            for label, spec in _labelled(value):
                generated = _dynamic(label, spec, scope)
                if isinstance(generated, Unknown):
                    unevaluated.append(f'dynamic "{label}" not expanded: {generated}')
                    continue
                out.setdefault(label, []).extend(generated)
        elif _is_block_list(value):
            nested = [_expand(b, scope) for b in value]
            for block in nested:
                unevaluated += block.pop("__unevaluated__", [])
            out.setdefault(key, []).extend(nested)
        else:
            out[key] = evaluate(value, scope)
    if unevaluated:
        out["__unevaluated__"] = unevaluated
    return out


def _dynamic(label: str, spec: dict[str, Any], scope: Scope) -> list[dict[str, Any]] | Unknown:
    items = evaluate(spec.get("for_each"), scope)
    if isinstance(items, Unknown):
        return items
    if not isinstance(items, (dict, list)):
        return Unknown(f"for_each over {type(items).__name__}")
    iterator = str(spec.get("iterator") or label).removeprefix("${").removesuffix("}")
    written = spec.get("content")
    if not isinstance(written, list) or not all(isinstance(b, dict) for b in written):
        return Unknown("its content is not a block")
    content = written[0] if written else {}
    blocks = []
    for key, value in iterate(items) if isinstance(items, dict) else enumerate(items):
        block = _expand(content, scope.child(**{iterator: {"key": key, "value": value}}))
        where = getattr(value, "where", None)
        if where is not None:  # the value came from a caller's argument: the fix goes there
            block["__related__"] = [None, spec.get("__start_line__")]
            block["__file__"], block["__start_line__"] = str(where[0]), where[1]
        blocks.append(block)
    return blocks


class _Located(dict):  # type: ignore[type-arg]
    """An object passed to a module as (part of) an argument, with where the caller wrote it."""

    where: tuple[Path, int]


def _located(value: Any, path: Path, lines: list[int]) -> Any:
    """A module argument's objects, marked with the caller's file and line (each element of a
    list written in place with its own line)."""
    if isinstance(value, list):
        at = lines if len(lines) == len(value) else [lines[0]] * len(value)
        return [
            _located(v, path, [n]) if isinstance(v, dict) else v
            for v, n in zip(value, at, strict=True)
        ]
    if isinstance(value, dict) and not isinstance(value, (_Located, Attributes)):
        marked = _Located(value)
        marked.where = (path, lines[0])
        return marked
    return value


def _undeclared(value: Any) -> Iterator[Unknown]:
    """The Unknowns in an evaluated value that stand for a reference to nothing declared."""
    if isinstance(value, Unknown):
        if value.undeclared:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _undeclared(item)
    elif isinstance(value, list):
        for item in value:
            yield from _undeclared(item)


def root_instance(instance: str) -> str:
    """The root module instance an instance belongs to."""
    return instance.split("/module.", 1)[0]


def _attributes(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in META_KEYS}


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and "__start_line__" in v for v in value)
    )


def _is_local(source: Any) -> bool:
    return isinstance(source, str) and source.startswith(("./", "../"))


def _suffix(index: int | str | None) -> str:
    if index is None:
        return ""
    return f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]"


def text_of(res: TfResource, attribute: str) -> str:
    """An attribute as text for names and messages: its value, or (when only apply knows it)
    the expression as written, whose "${...}" parts match anything in deployed names."""
    value = res.body.get(attribute)
    if isinstance(value, Unknown):
        written = res.raw.get(attribute)
        return written if isinstance(written, str) else str(value)
    return str(value)


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block list as python-hcl2 gives it; an attribute of another shape written
    where a block belongs (`rule = "x"`, `statement = null`) gives no blocks."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def listed(value: Any) -> list[Any]:
    """A list attribute; any other value gives an empty list."""
    return value if isinstance(value, list) else []


def json_value(value: Any) -> Any:
    """The data a JSON attribute holds (`policy = jsonencode({...})`, a heredoc of JSON): the
    decoded document, the object an Unknown jsonencode() was given, or None."""
    if isinstance(value, Unknown):
        return value.partial
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return None
