"""The files under --infra: listed once, each read and parsed at most once per run, whatever the
number of readers and policies. HCL parses (python-hcl2 on lark, the slow part of a cold run)
are also kept on disk by content hash, so a warm run parses only the files that changed."""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2

SKIPPED_DIRS = {".git", ".terraform"}
HCL_PARSER = "python-hcl2 {} lark {} with_meta".format(
    importlib.metadata.version("python-hcl2"), importlib.metadata.version("lark")
)


class Sources:
    """One tree's files and their parses. `cache_dir` (None: memory only) holds HCL parses as
    JSON named by sha256(parser version, content); writes are atomic, so pytest-xdist workers
    sharing the directory never see half a file. `share` is (this worker, workers): each worker
    starts parsing at its own share of the files and picks up the others' from the cache."""

    def __init__(
        self, base: Path, cache_dir: Path | None = None, share: tuple[int, int] = (0, 1)
    ) -> None:
        self.base = base
        self.cache_dir = cache_dir
        self.share = share
        self.hcl_cached = 0  # HCL files whose parse came from the disk cache this run
        self._paths: list[Path] | None = None
        self._texts: dict[Path, str | UnicodeDecodeError] = {}
        self._python: dict[Path, ast.Module | SyntaxError | UnicodeDecodeError] = {}
        self._hcl: dict[Path, dict[str, Any] | Exception] = {}

    def files(self, *suffixes: str) -> list[Path]:
        """The files whose name ends with one of `suffixes`, in path order."""
        if self._paths is None:
            found = []
            for root, dirs, names in os.walk(self.base):
                dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
                found += [Path(root) / name for name in names]
            self._paths = sorted(found)
        return [p for p in self._paths if p.name.endswith(suffixes)]

    def text(self, path: Path) -> str:
        """The file as UTF-8 text; raises UnicodeDecodeError (every time) when it is not."""
        _keep(self._texts, path, lambda: path.read_text(encoding="utf-8"), (UnicodeDecodeError,))
        return _take(self._texts, path)

    def python(self, path: Path) -> ast.Module:
        """The module's AST; raises SyntaxError or UnicodeDecodeError (every time)."""
        _keep(
            self._python,
            path,
            lambda: ast.parse(self.text(path), filename=str(path)),
            (SyntaxError, UnicodeDecodeError),
        )
        return _take(self._python, path)

    def hcl(self, path: Path) -> dict[str, Any]:
        """python-hcl2's parse with line numbers, from the cache when this content was parsed
        before by the same parser version; raises what the parser raises (every time)."""
        self.load_hcl([path])
        return _take(self._hcl, path)

    def load_hcl(self, paths: list[Path]) -> None:
        """Parse (or read from the cache) these files, starting at this worker's share."""
        worker, workers = self.share
        start = len(paths) * worker // workers
        for path in paths[start:] + paths[:start]:
            # lark raises many exception types; each is kept for hcl() to raise
            _keep(self._hcl, path, lambda path=path: self._parse_hcl(path), (Exception,))

    @property
    def hcl_files(self) -> int:
        """HCL files read this run (parsed or from the cache)."""
        return len(self._hcl)

    def _parse_hcl(self, path: Path) -> dict[str, Any]:
        text = self.text(path)
        entry = self._cache_entry(text)
        if entry is not None:
            try:
                parsed = json.loads(entry.read_text(encoding="utf-8"))
                self.hcl_cached += 1
                return parsed
            except (OSError, ValueError):
                pass  # absent or unreadable: parse again
        parsed = hcl2.loads(text, with_meta=True)
        if entry is not None:
            _write_atomically(entry, json.dumps(parsed))
        return parsed

    def _cache_entry(self, text: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{HCL_PARSER}\0{text}".encode()).hexdigest()
        return self.cache_dir / f"{digest}.json"


def _keep(
    store: dict[Path, Any],
    path: Path,
    compute: Callable[[], Any],
    errors: tuple[type[Exception], ...],
) -> None:
    """Compute a file's value once: the value, or the exception it raised, is kept."""
    if path not in store:
        try:
            store[path] = compute()
        except errors as exc:
            store[path] = exc


def _take(store: dict[Path, Any], path: Path) -> Any:
    """A kept value, or its exception raised again."""
    value = store[path]
    if isinstance(value, Exception):
        raise value
    return value


def _write_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers see all or nothing. A
    read-only or full cache directory only costs a parse next time."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
        ) as handle:
            tmp = Path(handle.name)
            handle.write(content)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
