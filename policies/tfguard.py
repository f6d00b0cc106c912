"""What the local stack applies, and what it refuses: Terraform that would run code, read files
or reach hosts on the machine running the suite, rather than create resources in the local AWS
endpoint.

`terraform apply` of a pull request's roots is the live tier's purpose on --target local, but
only as far as it creates resources. The guard reads the roots and the local modules they call
through the gatekeeper, and what it read is all the workspace holds (`Guarded.files`): a module
it did not judge (in a directory the walk skips or the configuration excludes, behind a link,
outside --infra) is refused, never copied. Refused, each at its file and line unless the user
passes --allow-exec: provisioners (local-exec, remote-exec, file), `data "external"`,
`terraform_remote_state`, providers other than hashicorp/aws and the built-in `terraform`, a
provider "aws" setting that reads files or names hosts (only PROVIDER_ARGUMENTS are left to the
tree: the stack sets credentials and endpoints of every configuration), module sources that are
not local directories, override files, and file reads whose path is computed, outside the tree
or unreadable (a `templatefile` template that reads files itself too)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.sources import SKIPPED_DIRS, SourceError, Sources

SUPPORTED_PROVIDERS = {"aws", "terraform"}
SUPPORTED_SOURCES = {"hashicorp/aws", "registry.terraform.io/hashicorp/aws"}
# The provider "aws" arguments the tree may set on the local stack: none reads a file or names
# a host. The stack's own configuration replaces the credentials and every endpoint.
PROVIDER_ARGUMENTS = frozenset(
    {
        "alias",
        "region",
        "default_tags",
        "ignore_tags",
        "allowed_account_ids",
        "forbidden_account_ids",
        "max_retries",
        "retry_mode",
        "access_key",
        "secret_key",
        "skip_credentials_validation",
        "skip_metadata_api_check",
        "skip_region_validation",
        "skip_requesting_account_id",
        "s3_use_path_style",
        "s3_us_east_1_regional_endpoint",
    }
)
TERRAFORM_FILES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
LOCK_FILE = ".terraform.lock.hcl"
META_KEYS = ("__start_line__", "__end_line__")
FILE_FUNCTION = re.compile(
    r"\b(file|fileexists|fileset|filebase64|filemd5|filesha1|filesha256|filesha512|"
    r"filebase64sha256|filebase64sha512|templatefile|pathexpand|abspath)\s*\(\s*([^)]*)"
)
# Functions that only take a literal path inside the tree; the others list or rewrite paths.
PATH_READERS = {
    "file",
    "fileexists",
    "filebase64",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
    "templatefile",
}
OVERRIDE = re.compile(r"(^|_)override\.tf(\.json)?$")
FILE_ARGUMENTS = ("filename", "source", "content_base64_file")
# A string literal, after an optional `${path.module}/` or `${path.root}/`: no interpolation
# (`${`) or directive (`%{`) in the rest.
_LITERAL = re.compile(r'^"((?:\$\{path\.(?:module|root)\}/)?(?:[^"\\$%]|\\.|[$%](?!\{))*)"')
_PREFIXES = ("${path.module}/", "${path.root}/", "./")


@dataclass(frozen=True)
class Refusal:
    """One block or expression the local stack will not apply."""

    path: Path
    line: int
    what: str  # e.g. 'provisioner "local-exec"'
    why: str


@dataclass
class Guarded:
    """What the guard judged of a tree's roots: what it refuses; the files it read, the only
    ones the local stack's workspace holds (path -> bytes, read through the gatekeeper); and
    the aliases of each directory's provider "aws" blocks ("" the default configuration)."""

    refusals: list[Refusal] = field(default_factory=list)
    files: dict[Path, bytes] = field(default_factory=dict)
    providers: dict[Path, set[str]] = field(default_factory=dict)


def refusals(sources: Sources, roots: list[Path]) -> list[Refusal]:
    """Everything in the roots, and the local modules they call, that would execute, read
    outside the tree or reach a host during init/plan/apply."""
    return guard(sources, roots).refusals


def guard(sources: Sources, roots: list[Path]) -> Guarded:
    """The roots and the local modules they call, judged (see the module's docstring)."""
    guarded = Guarded()
    seen: set[Path] = set()
    pending = list(roots)
    for root in roots:
        _read_into(guarded, sources, root / LOCK_FILE, optional=True)
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        for path in sources.files(*TERRAFORM_FILES):
            if path.parent != directory:
                continue
            if not _read_into(guarded, sources, path):
                continue
            if not path.name.endswith((".tf", ".tf.json")):
                continue  # variable values: literals only
            if OVERRIDE.search(path.name):
                guarded.refusals.append(
                    Refusal(
                        path,
                        1,
                        f"override file {path.name}",
                        "can replace the local stack's provider endpoints and credentials",
                    )
                )
            try:
                parsed = sources.terraform(path)
            except SourceError:
                continue  # SRC-001 reports it; terraform would refuse the root too
            judge = _Judge(sources, roots, path, guarded)
            pending.extend(judge.inspect(parsed))
    guarded.refusals.sort(key=lambda r: (str(r.path), r.line))
    return guarded


def _read_into(guarded: Guarded, sources: Sources, path: Path, optional: bool = False) -> bool:
    """The file's bytes into the workspace's files; a file the gatekeeper does not give is
    refused (unless optional and absent)."""
    try:
        guarded.files[path] = sources.data(path)
    except SourceError as exc:
        if not (optional and not os.path.lexists(path)):
            guarded.refusals.append(
                Refusal(path, exc.error.line or 1, path.name, f"not read: {exc.error.message}")
            )
        return False
    return True


class _Judge:
    """One Terraform file's blocks and expressions, judged."""

    def __init__(self, sources: Sources, roots: list[Path], path: Path, guarded: Guarded):
        self.sources = sources
        self.roots = roots
        self.path = path
        self.guarded = guarded

    def refuse(self, line: Any, what: str, why: str) -> None:
        line = line if isinstance(line, int) else 1
        self.guarded.refusals.append(Refusal(self.path, line, what, why))

    def inspect(self, parsed: dict[str, Any]) -> Iterator[Path]:
        """Refuse what must not run; yield the local module directories it calls."""
        checks = [b for _, b in _labels_of(parsed.get("check"))]
        for kind in ("resource", "data", "ephemeral"):
            blocks = list(_labelled_twice(parsed.get(kind)))
            if kind == "data":
                blocks += [t for body in checks for t in _labelled_twice(body.get("data"))]
            for type_, name, body in blocks:
                self.block(kind, type_, name, body)
        for name, body in _labels_of(parsed.get("provider")):
            self.provider(name, body)
        for block in parsed.get("terraform") or []:
            for required in (block or {}).get("required_providers") or []:
                for name, spec in (required or {}).items():
                    if name in META_KEYS:
                        continue
                    source = (
                        spec.get("source", f"hashicorp/{name}") if isinstance(spec, dict) else ""
                    )
                    if source not in SUPPORTED_SOURCES:
                        self.refuse(
                            required.get("__start_line__"),
                            f"required provider {name} = {source}",
                            "the local stack runs hashicorp/aws only",
                        )
        for name, body in _labels_of(parsed.get("module")):
            directory = self.module(name, body)
            if directory is not None:
                yield directory
        for line, function, call, argument in _file_calls(parsed):
            self.read(line, function, call, argument)

    def block(self, kind: str, type_: str, name: str, body: dict[str, Any]) -> None:
        line = body.get("__start_line__")
        provider = "terraform" if type_.startswith("terraform_") else type_.split("_")[0]
        if kind == "data" and type_ == "external":
            self.refuse(line, f'data "external" "{name}"', "runs a program on this machine")
        elif kind == "data" and type_ == "terraform_remote_state":
            self.refuse(
                line,
                f'data "terraform_remote_state" "{name}"',
                "reads a state file or backend outside the local stack",
            )
        elif provider not in SUPPORTED_PROVIDERS:
            self.refuse(
                line,
                f'{kind} "{type_}" "{name}"',
                f"needs the {provider} provider; the local stack runs hashicorp/aws only",
            )
        for provisioner in body.get("provisioner") or []:
            for kind_name, inner in _labels(provisioner):
                self.refuse(
                    inner.get("__start_line__", line),
                    f'provisioner "{kind_name}" in {type_}.{name}',
                    "runs commands on this machine",
                )
        if provider not in SUPPORTED_PROVIDERS:
            return  # refused whole: its arguments mean what that provider makes of them
        for attribute in FILE_ARGUMENTS:
            value = body.get(attribute)
            if isinstance(value, str):
                self.read(line, None, f"{type_}.{name}.{attribute}", f'"{value}"')

    def provider(self, name: str, body: dict[str, Any]) -> None:
        line = body.get("__start_line__")
        if name not in SUPPORTED_PROVIDERS:
            self.refuse(line, f'provider "{name}"', "the local stack runs hashicorp/aws only")
            return
        alias = body.get("alias", "")
        self.guarded.providers.setdefault(self.path.parent, set()).add(str(alias))
        for argument, value in body.items():
            if argument in META_KEYS or argument in PROVIDER_ARGUMENTS:
                continue
            nested = value[0] if isinstance(value, list) and value else None
            at = nested.get("__start_line__", line) if isinstance(nested, dict) else line
            self.refuse(
                at,
                f'provider "{name}" {argument}',
                "reads files or names hosts: the local stack sets the provider's credentials"
                " and endpoints itself",
            )

    def module(self, name: str, body: dict[str, Any]) -> Path | None:
        """The directory of a local module call the guard can read, or None (refused)."""
        source = body.get("source")
        line = body.get("__start_line__")
        what = f'module "{name}" source {str(source)[:80]}'
        if not (isinstance(source, str) and source.startswith(("./", "../"))):
            self.refuse(line, what, "only local module directories run on the local stack")
            return None
        base = self.sources.base
        target = Path(os.path.normpath(self.path.parent / source))
        if not target.is_relative_to(base):
            self.refuse(line, what, "outside --infra")
            return None
        skipped = next((p for p in target.relative_to(base).parts if p in SKIPPED_DIRS), None)
        excluded = any(target.is_relative_to(e) for e in self.sources.excluded)
        if skipped is not None or excluded:
            where = f"{skipped}/, which the suite does not read" if skipped else "excluded"
            self.refuse(line, what, f"in {where}: a module the guard did not judge")
            return None
        if os.path.realpath(target) != str(target):
            self.refuse(line, what, "reached through a link: a module the guard did not judge")
            return None
        if not any(p.parent == target for p in self.sources.files(".tf", ".tf.json")):
            self.refuse(line, what, "no Terraform file of the tree there")
            return None
        return target

    def read(self, line: int, function: str | None, what: str, argument: str) -> None:
        """A file read by a function (None: a file argument): its path must be a literal
        (after `${path.module}/` or `${path.root}/`) naming a file the gatekeeper gives; the
        file then goes into the workspace (a template is judged in turn)."""
        if function is not None and function not in PATH_READERS:
            self.refuse(line, what, "lists or rewrites paths the guard cannot confine to the tree")
            return
        literal = _LITERAL.match(argument.strip())
        if literal is None:
            self.refuse(line, what, "a computed path the guard cannot confine to the tree")
            return
        text = literal.group(1)
        candidates = self.resolve(text)
        inside = [c for c in candidates if c.is_relative_to(self.sources.base)]
        if not inside:
            self.refuse(line, what, "reads a file outside the tree")
            return
        problem = ""
        for path in inside:
            if path in self.guarded.files:
                return
            try:
                data = self.sources.data(path)
            except SourceError as exc:
                problem = exc.error.message
                continue
            self.guarded.files[path] = data
            if function == "templatefile":
                self.template(line, what, data)
            return
        self.refuse(line, what, f"reads a file the suite cannot read: {problem}")

    def resolve(self, text: str) -> list[Path]:
        """Where a literal path points: `${path.module}/` from this file's directory, anything
        else from the working directory, i.e. from each root."""
        bases = [self.path.parent] if text.startswith("${path.module}/") else self.roots
        relative = _unprefixed(text)
        if os.path.isabs(relative) or relative.startswith("~"):
            return [Path(os.path.normpath(relative))]
        return [Path(os.path.normpath(b / relative)) for b in bases]

    def template(self, line: int, what: str, data: bytes) -> None:
        """A template may call functions itself: one that reads files is refused."""
        found = FILE_FUNCTION.search(data.decode("utf-8", "replace"))
        if found is not None:
            self.refuse(
                line, f"{what}: template calls {found.group(1)}()", "reads a file on this machine"
            )


def _unprefixed(text: str) -> str:
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text.removeprefix(prefix)
    return text


def _file_calls(value: Any, line: int = 1) -> Iterator[tuple[int, str, str, str]]:
    """Every file function call in the values: (line, function, call as written, its
    arguments)."""
    if isinstance(value, dict):
        line = value.get("__start_line__", line)
        for item in value.values():
            yield from _file_calls(item, line)
    elif isinstance(value, list):
        for item in value:
            yield from _file_calls(item, line)
    elif isinstance(value, str) and "${" in value:
        for match in FILE_FUNCTION.finditer(value):
            argument = match.group(2).strip()
            yield line, match.group(1), f"{match.group(1)}({argument[:60]})", argument


def _labels(block: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(block, dict):
        for name, body in block.items():
            if name not in META_KEYS and isinstance(body, dict):
                yield name, body


def _labels_of(blocks: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in blocks or []:
        yield from _labels(block)


def _labelled_twice(blocks: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for type_, named in _labels_of(blocks):
        for name, body in _labels(named):
            yield type_, name, body
