"""What the local stack refuses to apply: Terraform that would run code or read files on the
machine running the suite, rather than create resources in the local AWS endpoint.

`terraform apply` of a pull request's roots is the live tier's purpose on --target local, but
only as far as it creates resources: provisioners (local-exec, remote-exec, file), `data
"external"`, providers other than the ones the stack serves (hashicorp/aws and the built-in
`terraform`), module sources that are not local directories inside --infra, and file functions
or file arguments that reach outside the tree are refused, each one reported at its file and
line, unless the user passes --allow-exec."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.sources import SourceError, Sources

SUPPORTED_PROVIDERS = {"aws", "terraform"}
SUPPORTED_SOURCES = {"hashicorp/aws", "registry.terraform.io/hashicorp/aws"}
META_KEYS = ("__start_line__", "__end_line__")
FILE_FUNCTION = re.compile(
    r"\b(file|fileexists|fileset|filebase64|filemd5|filesha1|filesha256|filesha512|"
    r"filebase64sha256|filebase64sha512|templatefile|pathexpand|abspath)\s*\(\s*([^)]*)"
)
OVERRIDE = re.compile(r"(^|_)override\.tf(\.json)?$")
FILE_ARGUMENTS = ("filename", "source", "content_base64_file")
_OUTSIDE = re.compile(r"(^|[\"'/])\.\.(/|$)|^[\"']?/|^[\"']?~|path\.cwd")


@dataclass(frozen=True)
class Refusal:
    """One block or expression the local stack will not apply."""

    path: Path
    line: int
    what: str  # e.g. 'provisioner "local-exec"'
    why: str


def refusals(sources: Sources, roots: list[Path]) -> list[Refusal]:
    """Everything in the roots, and the local modules they call, that would execute or read
    outside the tree during init/plan/apply."""
    found: list[Refusal] = []
    seen: set[Path] = set()
    pending = list(roots)
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        for path in sources.files(".tf", ".tf.json"):
            if path.parent != directory:
                continue
            if OVERRIDE.search(path.name):
                found.append(
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
            for refusal, module_dir in _inspect(sources.base, path, parsed):
                if refusal is not None:
                    found.append(refusal)
                if module_dir is not None:
                    pending.append(module_dir)
    return sorted(found, key=lambda r: (str(r.path), r.line))


def _inspect(
    base: Path, path: Path, parsed: dict[str, Any]
) -> Iterator[tuple[Refusal | None, Path | None]]:
    def refuse(line: Any, what: str, why: str) -> tuple[Refusal, None]:
        return Refusal(path, line if isinstance(line, int) else 1, what, why), None

    for kind in ("resource", "data", "ephemeral"):
        for type_, name, body in _labelled_twice(parsed.get(kind)):
            line = body.get("__start_line__")
            provider = "terraform" if type_ == "terraform_data" else type_.split("_")[0]
            if kind == "data" and type_ == "external":
                yield refuse(line, f'data "external" "{name}"', "runs a program on this machine")
            elif provider not in SUPPORTED_PROVIDERS:
                yield refuse(
                    line,
                    f'{kind} "{type_}" "{name}"',
                    f"needs the {provider} provider; the local stack runs hashicorp/aws only",
                )
            for provisioner in body.get("provisioner") or []:
                for kind_name, inner in _labels(provisioner):
                    yield refuse(
                        inner.get("__start_line__", line),
                        f'provisioner "{kind_name}" in {type_}.{name}',
                        "runs commands on this machine",
                    )
            for attribute in FILE_ARGUMENTS:
                value = body.get(attribute)
                if isinstance(value, str) and _reaches_outside(value):
                    yield refuse(
                        line,
                        f"{type_}.{name}.{attribute} = {value[:80]}",
                        "reads a file outside the tree",
                    )
    for name, body in _labels_of(parsed.get("provider")):
        if name not in SUPPORTED_PROVIDERS:
            yield refuse(
                body.get("__start_line__"),
                f'provider "{name}"',
                "the local stack runs hashicorp/aws only",
            )
    for block in parsed.get("terraform") or []:
        for required in (block or {}).get("required_providers") or []:
            for name, spec in (required or {}).items():
                if name in META_KEYS:
                    continue
                source = spec.get("source", f"hashicorp/{name}") if isinstance(spec, dict) else ""
                if source not in SUPPORTED_SOURCES:
                    yield refuse(
                        required.get("__start_line__"),
                        f"required provider {name} = {source}",
                        "the local stack runs hashicorp/aws only",
                    )
    for name, body in _labels_of(parsed.get("module")):
        source = body.get("source")
        line = body.get("__start_line__")
        if not (isinstance(source, str) and source.startswith(("./", "../"))):
            yield refuse(
                line,
                f'module "{name}" source {str(source)[:80]}',
                "only local module directories run on the local stack",
            )
            continue
        target = Path(os.path.normpath(path.parent / source))
        if not target.is_relative_to(base):
            yield refuse(line, f'module "{name}" source {source}', "outside --infra")
            continue
        yield None, target
    for line, call in _file_calls(parsed):
        yield refuse(line, call, "reads a file outside the tree")


def _reaches_outside(text: str) -> bool:
    """A path argument that leaves the module, or that the guard cannot see (a variable)."""
    argument = text.removeprefix("${path.module}/").removeprefix("${path.root}/")
    return bool(_OUTSIDE.search(argument)) or argument.startswith("${")


def _file_calls(value: Any, line: int = 1) -> Iterator[tuple[int, str]]:
    """File-reading function calls whose argument is not a path inside the module."""
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
            inside = argument.startswith(('"${path.module}/', '"${path.root}/')) or (
                argument.startswith('"') and not argument.startswith('"${')
            )
            if not inside or _OUTSIDE.search(argument.strip('"').removeprefix("${path.module}/")):
                yield line, f"{match.group(1)}({argument[:60]})"


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
