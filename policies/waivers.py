"""Waivers: the scanned repository's accepted, owned, expiring exceptions to a policy (a YAML
list in the file its configuration names, or --waivers). The suite ships none."""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from policies.model import Finding, Waiver


def load_waivers(path: Path) -> list[Waiver]:
    """Every waiver in the file; an entry that is not a mapping, lacks a field, or has an empty
    owner, reason or resource is an error naming the entry (a waiver nobody owns waives
    nothing)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path}: a list of waivers expected, got {type(entries).__name__}")
    waivers = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: waiver #{n} is not a mapping ({type(entry).__name__})")
        missing = {"id", "resource", "reason", "owner", "expires"} - set(entry)
        if missing:
            raise ValueError(f"{path}: waiver #{n} lacks {', '.join(sorted(missing))}")
        empty = [
            key
            for key in ("id", "resource", "reason", "owner")
            if not isinstance(entry[key], (str, int)) or not str(entry[key]).strip()
        ]
        if empty:
            raise ValueError(f"{path}: waiver #{n} has an empty {', '.join(empty)}")
        expires = entry["expires"]
        try:
            if not isinstance(expires, dt.date):
                expires = dt.date.fromisoformat(str(expires))
        except ValueError:
            raise ValueError(f"{path}: waiver #{n}: expires is not a YYYY-MM-DD date") from None
        waivers.append(
            Waiver(
                policy_id=str(entry["id"]),
                resource=str(entry["resource"]),
                reason=" ".join(str(entry["reason"]).split()),
                owner=str(entry["owner"]).strip(),
                expires=expires,
            )
        )
    return waivers


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
