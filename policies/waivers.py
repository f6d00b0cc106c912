"""Waivers (waivers.yaml): accepted, owned, expiring exceptions to a policy."""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from policies.model import Finding, Waiver

DEFAULT_WAIVERS = Path(__file__).with_name("waivers.yaml")


def load_waivers(path: Path = DEFAULT_WAIVERS) -> list[Waiver]:
    """Every waiver in the file; a missing field is an error naming the entry."""
    waivers = []
    for n, entry in enumerate(yaml.safe_load(path.read_text()) or [], start=1):
        missing = {"id", "resource", "reason", "owner", "expires"} - set(entry)
        if missing:
            raise ValueError(f"{path}: waiver #{n} lacks {', '.join(sorted(missing))}")
        expires = entry["expires"]
        if not isinstance(expires, dt.date):
            expires = dt.date.fromisoformat(str(expires))
        waivers.append(
            Waiver(
                policy_id=entry["id"],
                resource=str(entry["resource"]),
                reason=" ".join(str(entry["reason"]).split()),
                owner=str(entry["owner"]),
                expires=expires,
            )
        )
    return waivers


def waiver_for(finding: Finding, waivers: list[Waiver], today: dt.date) -> Waiver | None:
    """The unexpired waiver covering a finding, if any (expired waivers waive nothing)."""
    for waiver in waivers:
        if (
            waiver.policy_id == finding.policy_id
            and fnmatchcase(finding.resource, waiver.resource)
            and waiver.days_left(today) >= 0
        ):
            return waiver
    return None
