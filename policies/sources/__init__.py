"""The files under --infra, read through one gatekeeper and parsed at most once per run.

The tree is untrusted input (a pull request). Every file is listed by one walk that never
follows a link out of the tree; every file is opened only as a regular file inside it, within
a size limit; every parse is bounded (nesting depth, YAML alias expansion). What cannot be read
or parsed becomes a `SourceError` naming the file and line, kept and raised again to every
reader that asks, and listed by `check_all()` for the SRC policies: never a traceback, never a
silent skip. HCL parses (the slow part of a cold run) are also kept on disk, signed with a key
that lives outside the scanned tree, so a planted cache entry is ignored."""

from __future__ import annotations

import ast
import bisect
import contextlib
import errno
import fnmatch
import hashlib
import hmac
import importlib
import importlib.metadata
import json
import os
import pickle
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policies.redact import excerpt
from policies.registry import Family

if TYPE_CHECKING:
    from policies.sources.parallel import Running

SKIPPED_DIRS = (
    ".git",
    ".terraform",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
)
# What the families read, longest suffix first: `x.tf.json` is Terraform, not a dashboard.
KINDS = (
    (".tfvars.json", "tfvars-json"),
    (".tf.json", "tf-json"),
    (".tfvars", "tfvars"),
    (".tf", "hcl"),
    (".yaml", "yaml"),
    (".yml", "yaml"),
    (".json", "json"),
    (".sql", "sql"),
    (".py", "python"),
    (".sh", "shell"),
    (".go", "go"),
    (".ts", "typescript"),
    (".tsx", "tsx"),
    (".js", "javascript"),
    (".mjs", "javascript"),
    (".cjs", "javascript"),
)
# The tree-sitter grammar of each application-code kind: (module, function giving the language).
GRAMMARS = {
    "go": ("tree_sitter_go", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "javascript": ("tree_sitter_javascript", "language"),
}
# JSON with comments by convention (editor and compiler settings): read, never parse-checked.
JSONC = re.compile(r"(^|/)(tsconfig[^/]*|jsconfig[^/]*|\.vscode/[^/]+|\.devcontainer/[^/]+)$")
# psql meta-commands: a backslash first on its line; includes name a file (quoted or not)
_PSQL_META = re.compile(r"^[ \t]*\\.*$", re.M)
_PSQL_INCLUDE = re.compile(
    r"^[ \t]*\\(i|include|ir|include_relative)[ \t]+('[^'\n]*'|\S+)[ \t]*$", re.M
)
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100  # nesting of any parsed document; the readers walk documents recursively
HCL_PARSER = "python-hcl2 {} lark {} with_meta".format(
    importlib.metadata.version("python-hcl2"), importlib.metadata.version("lark")
)
CACHE_KEY_ENV = "PINGVAS_CACHE_KEY_FILE"

PARSE, UNREADABLE, LIMIT, UNEVALUATED = "SRC-001", "SRC-002", "SRC-003", "SRC-005"


@dataclass(frozen=True)
class ParseError:
    """A source file (or directory) the suite could not read, parse or evaluate: which SRC
    policy it falls under (parse, unreadable / outside the tree, over a limit, Terraform not
    evaluated), where, and why."""

    path: Path
    line: int | None
    message: str
    policy: str = PARSE


@dataclass
class Include:
    """A psql include of an SQL script: its line, what it names, the files it reads (in
    order), or why it is not followed."""

    line: int
    target: str
    files: list[Path]
    problem: str | None


class SourceError(Exception):
    """Raised by Sources for a file it cannot give: carries the ParseError to report."""

    def __init__(self, error: ParseError) -> None:
        super().__init__(error.message)
        self.error = error


class Sources:
    """One tree's files and their parses. `cache_dir` (None: memory only) holds HCL parses as
    signed JSON named by sha256(parser version, content); writes are atomic, so pytest-xdist
    workers sharing the directory never see half a file. `share` is (this worker, workers):
    each worker starts parsing at its own share of the files and picks up the others' from
    the cache."""

    def __init__(
        self,
        base: Path,
        cache_dir: Path | None = None,
        share: tuple[int, int] = (0, 1),
        exclude: tuple[str, ...] = (),
        hcl_parser: str = "tree-sitter",
        read_fetched_modules: bool = False,
    ) -> None:
        from policies.hcl_ts import Frontend

        self.hcl = Frontend(hcl_parser)  # .fallbacks: the files python-hcl2 settled, by reason
        self.base = Path(os.path.realpath(base))
        self.exclude = exclude  # fnmatch patterns over paths relative to base (the config's)
        self.read_fetched_modules = read_fetched_modules  # .terraform/modules is trusted
        self.cache_dir = cache_dir
        self._key = cache_key() if cache_dir is not None else None
        self.share = share
        self.hcl_cached = 0  # HCL files whose parse came from the disk cache this run
        self.skipped: list[Path] = []  # directories not walked (SKIPPED_DIRS)
        self.outside: list[Path] = []  # module directories read above --infra (in the repo)
        self._allowed: set[Path] = set()  # their files: the only reads outside --infra
        self.excluded: list[Path] = []  # files and directories the configuration excludes
        self._problems: list[ParseError] = []
        self._paths: list[Path] | None = None
        self._kinds: dict[Path, str] = {}
        self._suffixes: dict[Path, str | None] = {}  # each walked file's suffix, in path order
        self._values: dict[tuple[str, Path], Any] = {}
        self._prefetch: tuple[dict[str, list[Path]], Running] | None = None

    # --- the walk ------------------------------------------------------------------------

    def files(self, *suffixes: str) -> list[Path]:
        """The files whose kind suffix (the longest of KINDS they end with) is one of
        `suffixes`, in path order: files(".json") does not list x.tf.json."""
        self._walk()
        wanted = set(suffixes)
        return [p for p, suffix in self._suffixes.items() if suffix in wanted]

    def listing(self) -> str:
        """What the walk found, by kind, and the directories it did not walk: one line."""
        self._walk()
        counts: dict[str, int] = {}
        for kind in self._kinds.values():
            counts[kind] = counts.get(kind, 0) + 1
        found = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no files"
        skipped = sorted({p.name for p in self.skipped})
        shown = f"{found}" + (f"; not walked: {', '.join(skipped)}" if skipped else "")
        if self.outside:
            shown += "; read above --infra: " + ", ".join(str(p) for p in self.outside)
        return shown + (f"; excluded by the config: {len(self.excluded)}" if self.excluded else "")

    @property
    def problems(self) -> list[ParseError]:
        """What the walk could not list or may not read: unreadable directories, links out of
        the tree, special files."""
        self._walk()
        return list(self._problems)

    def _walk(self) -> None:
        if self._paths is not None:
            return
        found: list[Path] = []
        pending = [self.base]
        while pending:
            directory = pending.pop()
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=lambda e: e.name)
            except OSError as exc:
                self._problem(Path(directory), f"directory cannot be read: {_reason(exc)}")
                continue
            for entry in entries:
                path = Path(entry.path)
                if self._excluded(path):
                    self.excluded.append(path)
                    continue
                try:
                    if entry.is_symlink():
                        self._link(path, found)
                    elif entry.is_dir(follow_symlinks=False):
                        if entry.name in SKIPPED_DIRS:
                            self.skipped.append(path)
                        else:
                            pending.append(path)
                    elif _suffix(entry.name) is not None:
                        if entry.is_file(follow_symlinks=False):
                            found.append(path)
                        else:
                            self._problem(path, "not a regular file (device, socket or pipe)")
                except OSError as exc:
                    self._problem(path, f"cannot be examined: {_reason(exc)}")
        self._paths = sorted(found)
        self._kinds = {p: _kind(p.name) for p in self._paths}
        self._suffixes = {p: _suffix(p.name) for p in self._paths}

    def _excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        relative = path.relative_to(self.base).as_posix()
        return any(fnmatch.fnmatchcase(relative, pattern) for pattern in self.exclude)

    def _link(self, path: Path, found: list[Path]) -> None:
        """A link is read only when it resolves to a regular file inside the tree; a link to a
        directory inside the tree is not walked (its target is walked where it is)."""
        target = os.readlink(path)
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self.base):
            if real.is_dir() or _suffix(path.name) is not None:
                self._problem(
                    path, f"link to {target!s} outside --infra: not read", policy=UNREADABLE
                )
            return
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            if _suffix(path.name) is not None:
                self._problem(path, f"link to {target!s} cannot be followed: {_reason(exc)}")
            return
        if stat.S_ISREG(mode) and _suffix(path.name) is not None:
            found.append(path)

    def _problem(self, path: Path, message: str, policy: str = UNREADABLE) -> None:
        self._problems.append(ParseError(path, None, message, policy))

    def outside_module(self, directory: Path) -> list[Path] | str:
        """The .tf/.tf.json files of a module directory above --infra (a local module source
        such as ../..//modules/waf): read only inside the enclosing repository (the nearest
        parent holding .git), never through a link; their files are then readable through
        the same gate. A reason when they may not be read."""
        repository = self.repository()
        if repository is None:
            return "outside --infra, and --infra is in no repository: not read"
        if not directory.is_relative_to(repository) or directory.is_relative_to(self.base):
            return "outside the enclosing repository: not read"
        files = self._module_files(directory)
        if isinstance(files, list):
            self._allowed.update(files)
            self.outside.append(directory)
        return files

    def fetched_module(self, root: Path, key: str) -> tuple[Path, list[Path]] | str:
        """The directory and .tf files of a registry or git module that `terraform init` fetched
        for a root (its .terraform/modules/modules.json, keyed by the chain of calls), read
        only inside that directory and never through a link, and only when the configuration
        trusts it (a pull request's committed .terraform/ could stand in for any module). A
        reason when there is none."""
        fetched = root / ".terraform" / "modules"
        if not self.read_fetched_modules and os.path.lexists(fetched / "modules.json"):
            return (
                "not read from .terraform/modules (set read_fetched_modules = true in"
                " pingvas-policy.toml for a checkout you ran terraform init in)"
            )
        try:
            listing = json.loads(self.data(fetched / "modules.json"))
        except SourceError:
            return "not fetched (no terraform init of this root)"
        except ValueError:
            return ".terraform/modules/modules.json does not parse"
        except RecursionError:
            return ".terraform/modules/modules.json is nested too deeply to read"
        entries = listing.get("Modules") if isinstance(listing, dict) else None
        entry = next(
            (m for m in entries or [] if isinstance(m, dict) and m.get("Key") == key), None
        )
        if entry is None or not isinstance(entry.get("Dir"), str):
            return "not fetched (not in .terraform/modules/modules.json)"
        directory = Path(os.path.normpath(root / entry["Dir"]))
        if not directory.is_relative_to(fetched):
            return "its fetched directory is outside .terraform/modules: not read"
        files = self._module_files(directory)
        return files if isinstance(files, str) else (directory, files)

    @staticmethod
    def _module_files(directory: Path) -> list[Path] | str:
        if Path(os.path.realpath(directory)) != directory:
            return "reached through a link: not read"
        try:
            with os.scandir(directory) as scan:
                return sorted(
                    Path(e.path)
                    for e in scan
                    if _suffix(e.name) in (".tf", ".tf.json") and e.is_file(follow_symlinks=False)
                )
        except OSError as exc:
            return f"cannot be read: {_reason(exc)}"

    def repository(self) -> Path | None:
        """The enclosing repository's top level: the nearest directory at or above --infra
        holding .git (not run through git: nothing of the tree is executed)."""
        for candidate in (self.base, *self.base.parents):
            if (candidate / ".git").exists():
                return candidate
        return None

    # --- reading -------------------------------------------------------------------------

    def data(self, path: Path) -> bytes:
        """The file's bytes, opened as a regular file inside the tree (never through a link
        out of it, never a pipe or device), at most MAX_FILE_BYTES."""
        return self._kept("bytes", path, lambda: self._read(path))

    def _read(self, path: Path) -> bytes:
        fd = self._open_inside(path)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _error(path, None, "not a regular file", UNREADABLE)
            if info.st_size > MAX_FILE_BYTES:
                raise _error(
                    path, 1, f"{info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit", LIMIT
                )
            data = _read_at_most(fd, info.st_size, MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _error(path, None, f"cannot be read: {_reason(exc)}", UNREADABLE) from None
        finally:
            os.close(fd)
        if len(data) > MAX_FILE_BYTES:
            raise _error(path, 1, f"over the {MAX_FILE_BYTES}-byte limit", LIMIT)
        return data

    def _open_inside(self, path: Path) -> int:
        """The file opened for reading, never through a link at its end, and only if what was
        opened is inside --infra (or an allowed module file): checked on the descriptor itself
        (Linux's /proc/self/fd), so a directory swapped for a link after the walk cannot send
        the read elsewhere; without /proc, the path is resolved first. A link the walk kept (to
        a file inside the tree) is opened at its target."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = None
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise _error(path, None, f"cannot be read: {_reason(exc)}", UNREADABLE) from None
        if fd is not None:
            try:
                opened = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                opened = ""
            if opened.startswith("/"):
                if self._inside(opened):
                    return fd
                os.close(fd)
                raise _error(path, None, "resolves outside --infra: not read", UNREADABLE)
            os.close(fd)
        real = os.path.realpath(path)
        if not self._inside(real):
            raise _error(path, None, "resolves outside --infra: not read", UNREADABLE)
        try:
            return os.open(real, flags)
        except OSError as exc:
            raise _error(path, None, f"cannot be read: {_reason(exc)}", UNREADABLE) from None

    def _inside(self, real: str) -> bool:
        """Whether a resolved path is --infra, under it, or an allowed module file."""
        base = str(self.base)
        inside = real == base or real.startswith(base.rstrip(os.sep) + os.sep)
        return inside or Path(real) in self._allowed

    def text(self, path: Path) -> str:
        """The file as UTF-8 text (a leading byte-order mark dropped, as Terraform does)."""

        def decode() -> str:
            data = self.data(path)
            try:
                return data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                raise _error(path, line, f"not UTF-8 text: {exc.reason}") from None

        return self._kept("text", path, decode)

    def lines(self, path: Path) -> list[str]:
        """The file's text split into lines (for line lookups)."""
        return self._kept("lines", path, lambda: self.text(path).splitlines())

    # --- parsing -------------------------------------------------------------------------

    def python(self, path: Path) -> ast.Module:
        """The module's AST."""

        def parse() -> ast.Module:
            text = self.text(path)
            try:
                tree = ast.parse(text, filename=str(path))
            except SyntaxError as exc:
                raise _error(path, exc.lineno, exc.msg or "invalid syntax") from None
            except (ValueError, RecursionError, MemoryError) as exc:
                raise _error(path, 1, _plain(exc), LIMIT) from None
            depth = _python_depth(tree)
            if depth > MAX_DEPTH * 4:  # an expression is several AST levels deep
                raise _error(path, 1, f"nested {depth} levels deep: over the limit", LIMIT)
            return tree

        return self._kept("python", path, parse)

    def syntax(self, path: Path) -> Any:
        """The tree-sitter tree of a Go, TypeScript or JavaScript file; a file with syntax
        errors (ERROR or MISSING nodes) fails at the first one."""

        def parse() -> Any:
            from tree_sitter import Language, Parser

            module, function = GRAMMARS[_kind(path.name)]
            language = getattr(importlib.import_module(module), function)()
            text = self.text(path)
            tree = Parser(Language(language)).parse(text.encode())
            node = _syntax_error(tree.root_node) if tree.root_node.has_error else None
            if node is not None:
                line, column = node.start_point[0] + 1, node.start_point[1] + 1
                lines = text.splitlines()
                shown = excerpt(lines[line - 1], column) if line <= len(lines) else ""
                what = f"missing {node.type}" if node.is_missing else "syntax error"
                raise _error(path, line, f"{what} at column {column}: {shown}")
            return tree

        return self._kept("syntax", path, parse)

    def terraform(self, path: Path) -> dict[str, Any]:
        """A .tf, .tfvars, .tf.json or .tfvars.json file in python-hcl2's shape (blocks as
        lists, `__start_line__`/`__end_line__` on every block), from the cache when this content
        was parsed before by the same parser version."""
        kind = _kind(path.name)
        if kind in ("tf-json", "tfvars-json"):
            return self._kept("terraform", path, lambda: self._tf_json(path, kind))
        self.load_hcl([path])
        return self._kept("terraform", path, lambda: self._parse_hcl(path))

    def load_hcl(self, paths: list[Path]) -> None:
        """Parse (or read from the cache) these HCL files, starting at this worker's share;
        many files in one process are parsed on every CPU (policies.sources.parallel)."""
        worker, workers = self.share
        start = len(paths) * worker // workers
        pending = [
            path
            for path in paths[start:] + paths[:start]
            if _kind(path.name) in ("hcl", "tfvars") and ("terraform", path) not in self._values
        ]
        if workers == 1:
            self._parse_ahead(pending)
        for path in pending:
            self._keep("terraform", path, lambda path=path: self._parse_hcl(path))

    def prefetch_hcl(self) -> None:
        """Start parsing the tree's HCL files in worker processes and return at once (while the
        session starts); the first load_hcl takes their models."""
        from policies.sources.parallel import MIN_TEXTS, start

        if self.share != (0, 1) or self.hcl.parser != "tree-sitter" or self._prefetch:
            return
        paths = self.files(".tf", ".tfvars")
        if len(paths) < MIN_TEXTS:
            return  # parsed in this process when read: nothing to read ahead of time
        texts = self._uncached(paths)
        running = start(list(texts), self._finish)
        if running is not None:
            self._prefetch = (texts, running)

    def cancel_prefetch(self) -> None:
        if self._prefetch is not None:
            self._prefetch[1].cancel()
            self._prefetch = None

    def _parse_ahead(self, paths: list[Path]) -> None:
        """Each readable file without a cache entry parsed in parallel (the prefetch's, else
        now when they are many), each distinct text once; a file sharing its text with another
        gets its own copy of the model."""
        from policies.sources.parallel import MIN_TEXTS, parse_texts

        if self._prefetch is not None:
            texts, running = self._prefetch
            self._prefetch = None
            self._adopt(texts, running.models())
            paths = [p for p in paths if ("terraform", p) not in self._values]
        if self.hcl.parser != "tree-sitter" or len(paths) < MIN_TEXTS:
            return
        texts = self._uncached(paths)
        self._adopt(texts, parse_texts(list(texts), self._finish))

    def _uncached(self, paths: list[Path]) -> dict[str, list[Path]]:
        """The readable files without a cache entry, by text."""
        texts: dict[str, list[Path]] = {}
        for path in paths:
            try:
                text = self.text(path)
            except SourceError:
                continue  # _parse_hcl reports it
            entry = self._cache_entry(text)
            if entry is None or not os.path.exists(entry):
                texts.setdefault(text, []).append(path)
        return texts

    def _adopt(self, texts: dict[str, list[Path]], models: list[dict[str, Any] | None]) -> None:
        for alike, model in zip(texts.values(), models, strict=True):
            if model is not None:
                first, *others = alike
                self._values[("terraform", first)] = self.hcl.adopt(model)
                for path in others:
                    self._values[("terraform", path)] = self.hcl.adopt(_copy(model))

    def _finish(self, text: str, parsed: dict[str, Any]) -> None:
        """What a parse must pass before it is used: its nesting (raises); then it is cached."""
        _check_depth(Path("-"), parsed)
        entry = self._cache_entry(text)
        if entry is not None:
            self._store(entry, parsed)

    @property
    def hcl_files(self) -> int:
        """HCL files read this run (parsed or from the cache)."""
        return sum(1 for kind, path in self._values if kind == "terraform")

    def _parse_hcl(self, path: Path) -> dict[str, Any]:
        text = self.text(path)
        entry = self._cache_entry(text)
        cached = self._cached(entry)
        if cached is not None:
            self.hcl_cached += 1
            return cached
        try:
            parsed = self.hcl.loads(text)
        except RecursionError:
            raise _error(path, 1, "nested too deeply to parse", LIMIT) from None
        except Exception as exc:  # noqa: BLE001 - lark raises many types; each is one finding
            raise _hcl_error(path, text, exc) from None
        _check_depth(path, parsed)
        if entry is not None:
            self._store(entry, parsed)
        return parsed

    def _tf_json(self, path: Path, kind: str) -> dict[str, Any]:
        from policies.tfjson import to_hcl_shape

        document = self.json(path, positions=True)
        if not isinstance(document, dict):
            raise _error(path, 1, "Terraform JSON must be an object at the top level")
        return to_hcl_shape(document, variables_only=kind == "tfvars-json")

    def json(self, path: Path, positions: bool = False) -> Any:
        """The JSON document (objects as dicts; with `positions`, each object knows its first
        and last line as `.start_line`/`.end_line`)."""

        def parse() -> Any:
            text = self.text(path)
            try:
                value = _PositionalDecoder(text).decode(text) if positions else json.loads(text)
            except json.JSONDecodeError as exc:
                raise _error(path, exc.lineno, exc.msg) from None
            except RecursionError:
                raise _error(path, 1, "nested too deeply to parse", LIMIT) from None
            _check_depth(path, value)
            return value

        return self._kept("json-positions" if positions else "json", path, parse)

    def yaml(self, path: Path) -> list[Any]:
        """The file's YAML documents (mappings as LineDicts), each within the alias expansion
        budget and the nesting limit before it is constructed."""
        from policies.yamlfile import load_documents

        return self._kept("yaml", path, lambda: load_documents(path, self.text(path)))

    def sql(self, path: Path) -> list[Any]:
        """pglast's statements of the file; psql meta-commands (\\i, \\set, ...) are blanked, each
        character to a space, so that statement offsets stay offsets into the file's text."""

        def parse() -> list[Any]:
            import pglast

            text = _PSQL_META.sub(lambda m: " " * len(m.group(0)), self.text(path))
            try:
                return list(pglast.parse_sql(text))
            except pglast.parser.ParseError as exc:
                message, offset = exc.args[0], exc.args[1] if len(exc.args) > 1 else None
                line = text[:offset].count("\n") + 1 if isinstance(offset, int) else None
                raise _error(path, line, _masked_message(str(message))) from None

        return self._kept("sql", path, parse)

    def psql_includes(self, path: Path) -> list[Include]:
        """The psql includes of an SQL script, in order: `\\ir` relative to the script, `\\i`
        relative to the script's directory, else to --infra (psql's working directory is not
        known). A target is read only when the walk listed it (inside the tree, no link out); a
        directory means its .sql files in name order (psql itself cannot include one)."""
        self._walk()
        listed = set(self._paths or [])
        includes = []
        for match in _PSQL_INCLUDE.finditer(self.text(path)):
            line = match.string.count("\n", 0, match.start()) + 1
            target = match.group(2).strip("'")
            relative = match.group(1) in ("ir", "include_relative")
            bases = [path.parent] if relative else [path.parent, self.base]
            include = Include(line, target, [], f"{target}: no such file in --infra")
            for base in bases:
                where = Path(os.path.normpath(base / target))
                if not where.is_relative_to(self.base):
                    include.problem = f"{target} is outside --infra: not read"
                    break
                files = sorted(p for p in listed if p.parent == where and p.suffix == ".sql")
                if where in listed or files:
                    include.files, include.problem = [where] if where in listed else files, None
                    break
            includes.append(include)
        return includes

    def check_all(self) -> list[ParseError]:
        """Every problem of the tree: the walk's, then each file of each kind that does not
        read or parse (the SRC policies' input; each file parsed once, shared with readers)."""
        parsers: dict[str, Callable[[Path], Any]] = {
            "hcl": self.terraform,
            "tfvars": self.terraform,
            "tf-json": self.terraform,
            "tfvars-json": self.terraform,
            "yaml": self.yaml,
            "json": self.json,
            "sql": self.sql,
            "python": self.python,
            "shell": self.text,
            **{kind: self.syntax for kind in GRAMMARS},
        }
        errors = self.problems
        self.load_hcl([p for p in self.files(".tf", ".tfvars")])
        for path in self.files(*(suffix for suffix, _ in KINDS)):
            kind = self._kinds[path]
            if kind == "yaml" and is_helm_template(path):
                continue  # Go templates: helm renders them, they are not YAML yet
            if kind == "json" and JSONC.search(path.as_posix()):
                continue
            try:
                parsers[kind](path)
                if kind == "sql":
                    errors += [
                        ParseError(path, i.line, f"psql include {i.problem}", UNREADABLE)
                        for i in self.psql_includes(path)
                        if i.problem
                    ]
            except SourceError as exc:
                errors.append(exc.error)
        return errors

    # --- values kept per file ------------------------------------------------------------

    def _keep(self, kind: str, path: Path, compute: Callable[[], Any]) -> None:
        key = (kind, path)
        if key not in self._values:
            try:
                self._values[key] = compute()
            except SourceError as exc:
                self._values[key] = exc

    def _kept(self, kind: str, path: Path, compute: Callable[[], Any]) -> Any:
        """Compute a file's value once: the value, or the SourceError it raised, is kept."""
        self._keep(kind, path, compute)
        value = self._values[(kind, path)]
        if isinstance(value, SourceError):
            raise value
        return value

    # --- the signed parse cache ----------------------------------------------------------

    def _cache_entry(self, text: str) -> Path | None:
        if self.cache_dir is None or self._key is None:
            return None
        digest = hashlib.sha256(f"{HCL_PARSER} {self.hcl.version}\0{text}".encode()).hexdigest()
        return self.cache_dir / f"{digest}.json"

    def _cached(self, entry: Path | None) -> dict[str, Any] | None:
        """An entry's parse when its signature is this machine's; None otherwise (absent,
        corrupt, or planted by someone without the key: parsed again)."""
        if entry is None or self._key is None:
            return None
        try:
            with entry.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES * 8)
            signature, _, payload = raw.partition(b"\n")
            expected = hmac.new(self._key, entry.stem.encode() + b"\0" + payload, "sha256")
            if not hmac.compare_digest(signature, expected.hexdigest().encode()):
                return None
            parsed = json.loads(payload)
        except (OSError, ValueError):
            return None
        return parsed if isinstance(parsed, dict) else None

    def _store(self, entry: Path, parsed: dict[str, Any]) -> None:
        assert self._key is not None
        payload = json.dumps(parsed).encode()
        signature = hmac.new(self._key, entry.stem.encode() + b"\0" + payload, "sha256")
        write_atomically(entry, signature.hexdigest().encode() + b"\n" + payload)


def is_helm_template(path: Path) -> bool:
    """A file of a Helm chart's templates/ directory (Go templates, not YAML until rendered)."""
    return any(
        parent.name == "templates" and (parent.parent / "Chart.yaml").is_file()
        for parent in path.parents
    )


def tree_text(base: Path, path: Path) -> str:
    """A file of the tree at `base`, read as Sources reads each of its files (inside the tree,
    never through a link out, a regular file within MAX_FILE_BYTES, UTF-8): for the files read
    before a run's Sources exists, the tree's own configuration and the waivers file it names.
    Raises SourceError."""
    return Sources(base).text(path)


def cache_key() -> bytes | None:
    """This machine's key for signing cache entries: a random 32 bytes in the user's cache
    directory (never in the scanned tree), created on first use, readable by the user only.
    None when it cannot be created or is not private: the run then keeps no disk cache."""
    location = os.environ.get(CACHE_KEY_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "pingvas-policy",
        "cache.key",
    )
    path = Path(location)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            key = handle.read(64)
    except OSError:
        return None
    private = info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    return key if private and len(key) == 32 else None


class _PositionalDecoder(json.JSONDecoder):
    """json's pure-Python scanner with a hook on objects: each dict records the lines of its
    braces (Terraform's JSON syntax needs block lines for findings) and its offsets in the
    text, from its "{" to just after its "}" (for lookups within it, never rescanning lines)."""

    def __init__(self, text: str) -> None:
        super().__init__(object_pairs_hook=_LinedDict)
        newlines = [i for i, char in enumerate(text) if char == "\n"]
        parse_object = self.parse_object

        def positioned(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
            value, end = parse_object(s_and_end, *args)
            value.start_offset, value.end_offset = s_and_end[1] - 1, end
            value.start_line = bisect.bisect_left(newlines, s_and_end[1] - 1) + 1
            value.end_line = bisect.bisect_left(newlines, end - 1) + 1
            return value, end

        self.parse_object = positioned
        self.scan_once = json.scanner.py_make_scanner(self)


class _LinedDict(dict):  # type: ignore[type-arg]
    start_line = 0
    end_line = 0
    start_offset = 0
    end_offset = 0


def _read_at_most(fd: int, expected: int, limit: int) -> bytes:
    """Up to `limit` bytes of an open file, `expected` (its size) in one read, more only if it
    grew (a buffer sized for the size, not for the limit)."""
    data = os.read(fd, min(expected + 1, limit))
    while len(data) < limit:
        more = os.read(fd, limit - len(data))
        if not more:
            break
        data += more
    return data


def _copy(model: dict[str, Any]) -> dict[str, Any]:
    """An independent copy of a parse (dicts, lists and scalars only)."""
    return pickle.loads(pickle.dumps(model, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own


def _check_depth(path: Path, value: Any) -> None:
    """Fail a parsed document nested deeper than MAX_DEPTH (iteratively: no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _error(path, 1, f"nested more than {MAX_DEPTH} levels deep", LIMIT)
        children: Iterator[Any] = (
            iter(node.values())
            if isinstance(node, dict)
            else iter(node)
            if isinstance(node, list)
            else iter(())
        )
        pending.extend((child, depth + 1) for child in children)


def _syntax_error(root: Any) -> Any:
    """The first ERROR or MISSING node of a tree-sitter tree (iteratively); None when the only
    ones are the `!` tree-sitter-typescript inserts into valid generic tagged templates
    (prisma.$queryRaw<Row[]>`...` is read as `$queryRaw<Row[]>!`...``)."""
    pending = [root]
    while pending:
        node = pending.pop()
        parent = node.parent
        if (
            node.is_missing
            and node.type == "!"
            and getattr(parent, "type", "") == "non_null_expression"
        ):
            continue
        if node.is_error or node.is_missing:
            return node
        pending.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return None


def _python_depth(tree: ast.AST) -> int:
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _hcl_error(path: Path, text: str, exc: Exception) -> SourceError:
    """lark's error as one line: what was unexpected, where, and a short masked excerpt (its own
    message quotes the offending input at length)."""
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    line = line if isinstance(line, int) and line > 0 else None
    token = getattr(exc, "token", None)
    if token is not None or hasattr(exc, "char"):
        at_end = token is not None and token.type == "$END"
        message = "syntax error: unexpected end of file" if at_end else "syntax error"
    else:
        message = _masked_message(_plain(exc))
    if line is not None:
        lines = text.splitlines()
        shown = excerpt(lines[line - 1], column) if line <= len(lines) else ""
        message += f" at column {column}" if isinstance(column, int) else ""
        message += f": {shown}" if shown else ""
    return _error(path, line, message)


def _masked_message(message: str) -> str:
    """A parser's message cut to its first line and 120 characters, quoted input masked."""
    first = message.strip().splitlines()[0] if message.strip() else "parse error"
    return excerpt(first, None, width=120)


def _plain(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return exc.strerror or type(exc).__name__


def _error(path: Path, line: int | None, message: str, policy: str = PARSE) -> SourceError:
    return SourceError(ParseError(path, line, message, policy))


def _suffix(name: str) -> str | None:
    return next((suffix for suffix, _ in KINDS if name.endswith(suffix)), None)


def _kind(name: str) -> str:
    return next(kind for suffix, kind in KINDS if name.endswith(suffix))


def write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see all or nothing. A
    read-only or full cache directory only costs a parse next time."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with os.fdopen(_create(tmp), "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _create(path: Path) -> int:
    """A new file only this user reads (its directory made on first use)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, flags, 0o600)


def _read(tree: Any) -> list[ParseError]:
    problems = tree.sources.check_all()
    if tree.sources.files(".tf", ".tf.json"):
        notes = tree.terraform.notes
        problems += [ParseError(n.path, n.line, n.message, UNEVALUATED) for n in notes]
    return problems


FAMILY = Family(
    name="sources",
    what="file",
    read=_read,
    present=lambda problems: True,  # the tree itself: always applies
)
