"""The one registry of families, check bodies and probes.

A family is a package under `policies/` whose `__init__.py` defines `FAMILY`; its `checks.py`
registers pure check bodies with `@check(ID)` and its `probes.py` end-to-end probes with
`@probe(ID, needs=...)`; its `fixtures.py` holds its pytest fixtures. The registry finds them by
walking the package (a new family is a new folder), and every catalog policy must have a body:
the plugin, the packaged suite, the docs and the self-tests iterate what is here."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from policies.model import Finding, Policy

CheckBody = Callable[[Any, Policy], list[Finding]]


class NotApplicable(Exception):  # noqa: N818 - a result, not an error
    """Raised by a probe when what it needs is not in the tree (the reason completes
    "not applicable: ..."); the run reports the policy as not applicable."""


Applies = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Family:
    """What a family checks and where its inventories come from.

    `what` completes "not applicable: no <what> under PATH"; `read` builds the static inventory
    from a policies.tree.Tree (the fixture `<name>_static`); `live` names the fixture giving
    the deployed inventory (a Lazy); `present` says whether the static inventory holds anything
    the family checks."""

    name: str
    what: str
    read: Callable[[Any], Any]
    present: Callable[[Any], bool]
    live: str | None = None

    @property
    def static(self) -> str:
        return f"{self.name}_static"


@dataclass(frozen=True)
class Each:
    """A static check judged once per item the scanned repository declares (one test each, such
    as a WAF case): `keys` lists the items at collection from the run's settings, `narrow`
    gives the inventory holding one item."""

    keys: Callable[[Any], list[str]]
    narrow: Callable[[Any, str], Any]


@dataclass(frozen=True)
class Check:
    """A pure check body, run on the static and the live inventory alike. `applies` narrows the
    family's applicability: it returns why the policy does not apply to an inventory, or None;
    `each` splits its static test per item of the repository."""

    policy_id: str
    body: CheckBody
    applies: Applies | None = None
    each: Each | None = None


@dataclass(frozen=True)
class Probe:
    """An end-to-end probe of the live tier: it receives the fixtures it `needs` as keyword
    arguments (the policy as `policy`), and returns findings. `variant` names one of several
    probes of a policy; `params` runs the probe once per value (passed as `param`); `applies`
    as for checks, on the family's static inventory."""

    policy_id: str
    body: Callable[..., list[Finding]]
    needs: tuple[str, ...] = ()
    variant: str = ""
    params: tuple[str, ...] = ()
    applies: Applies | None = None


@dataclass(frozen=True)
class Case:
    """One test of the packaged suite: a policy in a tier, by a check or a probe."""

    policy_id: str
    tier: str
    check: Check | None = None
    probe: Probe | None = None
    param: str = ""

    @property
    def id(self) -> str:
        parts = [self.policy_id, self.probe.variant if self.probe else "", self.param]
        return "-".join(p for p in parts if p)


@dataclass
class _Registry:
    checks: dict[str, Check] = field(default_factory=dict)
    probes: dict[str, list[Probe]] = field(default_factory=dict)


_REGISTRY = _Registry()


def check(
    policy_id: str, applies: Applies | None = None, each: Each | None = None
) -> Callable[[CheckBody], CheckBody]:
    """Register a check body: a pure function (inventory, policy) -> findings."""

    def register(fn: CheckBody) -> CheckBody:
        if policy_id in _REGISTRY.checks:
            raise ValueError(f"{policy_id}: two check bodies")
        _REGISTRY.checks[policy_id] = Check(policy_id, _per_part(fn), applies, each)
        return fn

    return register


def _per_part(fn: CheckBody) -> CheckBody:
    """A body run on each part of an inventory that has `parts` (independent units of one tree,
    such as the RLS family's migration sets: each its own database), findings once each."""

    @functools.wraps(fn)
    def run(inventory: Any, policy: Policy) -> list[Finding]:
        parts = getattr(inventory, "parts", None)
        if not parts:
            return fn(inventory, policy)
        found: list[Finding] = []
        for part in parts:
            found += [f for f in fn(part, policy) if f not in found]
        return found

    return run


def probe(
    policy_id: str,
    needs: tuple[str, ...] = (),
    variant: str = "",
    params: tuple[str, ...] = (),
    applies: Applies | None = None,
) -> Callable[[Callable[..., list[Finding]]], Callable[..., list[Finding]]]:
    """Register an end-to-end probe of the live tier."""

    def register(fn: Callable[..., list[Finding]]) -> Callable[..., list[Finding]]:
        _REGISTRY.probes.setdefault(policy_id, []).append(
            Probe(policy_id, fn, tuple(needs), variant, tuple(params), applies)
        )
        return fn

    return register


@cache
def families() -> dict[str, Family]:
    """Every family, by name, found by walking the policies package (not its bodies)."""
    import policies

    found: dict[str, Family] = {}
    for info in pkgutil.iter_modules(policies.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"policies.{info.name}")
        family = getattr(module, "FAMILY", None)
        if isinstance(family, Family):
            found[family.name] = family
    return found


def fixture_modules() -> list[str]:
    """The families' fixtures modules, for the plugin to register."""
    return [
        f"policies.{name}.fixtures"
        for name in families()
        if importlib.util.find_spec(f"policies.{name}.fixtures") is not None
    ]


def applicability(case: Case, family: Family, inventory: Any) -> str | None:
    """Why a case does not apply to the tree's static inventory (None: it applies)."""
    if not family.present(inventory):
        return f"no {family.what}"
    narrower = case.check.applies if case.check else case.probe.applies if case.probe else None
    return narrower(inventory) if narrower else None


@cache
def bodies() -> _Registry:
    """Every family's checks and probes, imported once."""
    for name in families():
        for part in ("checks", "probes"):
            if importlib.util.find_spec(f"policies.{name}.{part}") is not None:
                importlib.import_module(f"policies.{name}.{part}")
    return _REGISTRY


def all_checks() -> dict[str, CheckBody]:
    """Every registered check body by policy id."""
    return {pid: c.body for pid, c in bodies().checks.items()}


def cases(catalog: dict[str, Policy]) -> list[Case]:
    """One case per policy and tier (checks) or per probe (and its params), in catalog order.
    A catalog policy without a body, or a body without a catalog entry, is an error."""
    registry = bodies()
    unknown = sorted((set(registry.checks) | set(registry.probes)) - set(catalog))
    if unknown:
        raise LookupError(f"bodies without a catalog entry: {', '.join(unknown)}")
    found: list[Case] = []
    for policy in catalog.values():
        body = registry.checks.get(policy.id)
        probes = registry.probes.get(policy.id, [])
        if body is None and not probes:
            raise LookupError(f"{policy.id}: in the catalog but no check or probe registers it")
        if body is not None:
            found += [Case(policy.id, tier, check=body) for tier in policy.tiers]
        for p in probes:
            found += [Case(policy.id, "live", probe=p, param=v) for v in (p.params or ("",))]
    return found
