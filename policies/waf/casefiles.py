"""The scanned repository's WAF case files: found by content under --infra (a YAML document
with a `cases` list whose entries have a `request` or an `expect`), or named by --waf-cases.
Files under --infra are read through the gatekeeper; every file within the YAML limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policies.sources import SourceError, Sources, is_helm_template
from policies.waf.cases import (
    CaseError,
    WafCase,
    case_lines,
    load_cases,
    parse_cases,
    within_budget,
)


def read_case_files(
    sources: Sources, extra: tuple[Path, ...] = ()
) -> tuple[list[WafCase], list[CaseError]]:
    """Every case of the tree's case files and of `extra` within the run's budget, and every
    error in them."""
    cases: list[WafCase] = []
    errors: list[CaseError] = []
    for path in sources.files(".yaml", ".yml"):
        if is_helm_template(path):
            continue
        try:
            if "cases" not in sources.text(path):
                continue
            documents = sources.yaml(path)
        except SourceError:
            continue  # SRC-001/002/003 report the file
        for document in documents:
            if _looks_like_cases(document):
                _add(parse_cases(document, path, case_lines(document)), cases, errors)
    for path in extra:
        _add(load_cases(path), cases, errors)
    cases, over = within_budget(cases)
    return cases, errors + over


def case_key(case: WafCase | CaseError, cases: list[WafCase]) -> str:
    """A case's test id: its name, prefixed by its file's name when cases come from several
    files; a file's errors are keyed by the file's name."""
    if isinstance(case, CaseError):
        return case.source.name
    several = len({c.source for c in cases}) > 1
    return f"{case.source.name}:{case.name}" if several else case.name


def _looks_like_cases(document: Any) -> bool:
    entries = document.get("cases") if isinstance(document, dict) else None
    return isinstance(entries, list) and any(
        isinstance(e, dict) and ("request" in e or "expect" in e) for e in entries
    )


def _add(
    parsed: tuple[list[WafCase], list[CaseError]], cases: list[WafCase], errors: list[CaseError]
) -> None:
    cases += parsed[0]
    errors += parsed[1]


def case_keys(run: Any) -> list[str]:
    """The test ids of the repository's cases (and of its case files with errors), read at
    collection from the run's settings."""
    sources = Sources(run.infra, exclude=run.config.exclude)
    cases, errors = read_case_files(sources, run.waf_cases)
    keys = [case_key(c, cases) for c in cases] + [case_key(e, cases) for e in errors]
    return list(dict.fromkeys(keys))


def one_case(inventory: Any, key: str) -> Any:
    """The inventory with only the case (or the case file's errors) the key names."""
    from dataclasses import replace

    cases = inventory.cases
    return replace(
        inventory,
        cases=[c for c in cases if case_key(c, cases) == key],
        case_errors=[e for e in inventory.case_errors if case_key(e, cases) == key],
    )
