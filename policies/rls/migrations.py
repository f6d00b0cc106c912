"""SQL files grouped into migration sets, each set one database's history.

A set is a psql script with its includes (`\\i`, `\\ir`, followed in place), a Prisma
`migrations/` folder (`<timestamp>_<name>/migration.sql`), or else a directory of ordered
migrations. Files that undo or only verify a migration (`*.down.sql`, sqitch `revert/` and
`verify/`, `rollback/`) are not part of the database's history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from policies.sources import SourceError, Sources

UNDO = re.compile(r"([._-]down\.sql$|(^|/)(revert|rollback|down|verify)/)", re.IGNORECASE)


@dataclass(frozen=True)
class MigrationSet:
    """One database's migrations: `key` names it (a directory or an include script);
    `files` are its entry points in the order they are applied."""

    key: Path
    files: tuple[Path, ...]


def migration_sets(sources: Sources) -> list[MigrationSet]:
    """The tree's SQL files as migration sets, in path order of their keys."""
    files = [
        p for p in sources.files(".sql") if not UNDO.search(p.relative_to(sources.base).as_posix())
    ]
    includes: dict[Path, list[Path]] = {}
    for path in files:
        try:
            includes[path] = [f for i in sources.psql_includes(path) for f in i.files]
        except SourceError:
            includes[path] = []  # reported by SRC-001/002 through the reader
    included = {f for targets in includes.values() for f in targets}
    roots = [p for p in files if p not in included]
    covered = _closure(roots, includes)
    for path in files:  # files only reachable from an include cycle: the first one leads
        if path not in covered:
            roots.append(path)
            covered |= _closure([path], includes)
    groups: dict[Path, list[Path]] = {}
    for path in roots:
        key = path if includes.get(path) else _directory(path)
        groups.setdefault(key, []).append(path)
    return [MigrationSet(key, tuple(sorted(groups[key]))) for key in sorted(groups)]


def _closure(roots: list[Path], includes: dict[Path, list[Path]]) -> set[Path]:
    seen: set[Path] = set()
    pending = list(roots)
    while pending:
        path = pending.pop()
        if path not in seen:
            seen.add(path)
            pending += includes.get(path, [])
    return seen


def _directory(path: Path) -> Path:
    """The set a file belongs to: Prisma's migrations folder for its migration.sql files, else
    the file's directory."""
    if path.name == "migration.sql" and path.parent.parent.name == "migrations":
        return path.parent.parent
    return path.parent
