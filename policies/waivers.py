"""Waivers: the scanned repository's accepted, owned, expiring exceptions to a policy (a YAML
list in the file its configuration names, or --waivers). The suite ships none.

The file is held to the YAML limits of the tree's files (alias expansion, nesting depth); the
one the tree's own configuration names is also read as every tree file is (inside --infra, no
link out). A file the suite cannot use is one WaiverError naming it and the line, quoting at
most a masked excerpt."""

from __future__ import annotations

import contextlib
import datetime as dt
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from policies.model import Finding, Waiver
from policies.sources import SourceError, tree_text
from policies.yamlfile import LineDict, load_documents


class WaiverError(ValueError):
    """A waivers file that cannot be used: where (the file, the line when known) and why."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        super().__init__(f"{path}{f':{line}' if line else ''}: {message}")
        self.path, self.line, self.message = path, line, message


def load_waivers(path: Path, tree: Path | None = None) -> list[Waiver]:
    """Every waiver in the file; an entry that is not a mapping, lacks a field, or has an empty
    owner, reason or resource is an error naming the entry and its line (a waiver nobody owns
    waives nothing). `tree`: the scanned tree, when its own configuration names the file."""
    entries = _document(path, tree)
    if not isinstance(entries, list):
        raise WaiverError(path, 1, f"a list of waivers expected, got {type(entries).__name__}")
    return [_waiver(path, n, entry) for n, entry in enumerate(entries, start=1)]


def _document(path: Path, tree: Path | None) -> Any:
    """The file's one YAML document (none: no waivers), within the tree's YAML limits."""
    try:
        text = tree_text(tree, path) if tree is not None else path.read_text(encoding="utf-8")
        documents = load_documents(path, text)
    except SourceError as exc:
        raise WaiverError(path, exc.error.line, exc.error.message) from None
    except OSError as exc:
        raise WaiverError(path, None, f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise WaiverError(path, None, f"not UTF-8 text: {exc.reason}") from None
    except ValueError:  # a value PyYAML constructs with Python's rules (a date past 12/31)
        raise WaiverError(path, None, "a value that does not read (an invalid date?)") from None
    if len(documents) > 1:
        raise WaiverError(path, None, "one YAML document expected")
    return documents[0] if documents else []


def _waiver(path: Path, n: int, entry: Any) -> Waiver:
    if not isinstance(entry, LineDict):
        raise WaiverError(path, None, f"waiver #{n} is not a mapping ({type(entry).__name__})")
    line = entry.line
    missing = {"id", "resource", "reason", "owner", "expires"} - set(entry)
    if missing:
        raise WaiverError(path, line, f"waiver #{n} lacks {', '.join(sorted(missing))}")
    empty = [
        key
        for key in ("id", "resource", "reason", "owner")
        if not isinstance(entry[key], (str, int)) or not str(entry[key]).strip()
    ]
    if empty:
        raise WaiverError(path, line, f"waiver #{n} has an empty {', '.join(empty)}")
    expires = entry["expires"]
    if isinstance(expires, (str, int)) and not isinstance(expires, bool):
        with contextlib.suppress(ValueError):
            expires = dt.date.fromisoformat(str(expires))
    if type(expires) is not dt.date:  # a timestamp with a time of day, a list, ...
        raise WaiverError(
            path, entry.line_of("expires"), f"waiver #{n}: expires is not a YYYY-MM-DD date"
        )
    return Waiver(
        policy_id=str(entry["id"]),
        resource=str(entry["resource"]),
        reason=" ".join(str(entry["reason"]).split()),
        owner=str(entry["owner"]).strip(),
        expires=expires,
    )


def waiver_for(finding: Finding, waivers: list[Waiver], today: dt.date) -> Waiver | None:
    """The unexpired waiver covering a finding, if any (expired waivers waive nothing)."""
    for waiver in waivers:
        if (
            waiver.policy_id == finding.policy_id
            and fnmatchcase(str(finding.resource), waiver.resource)
            and waiver.days_left(today) >= 0
        ):
            return waiver
    return None
