"""The scanned repository's configuration: `pingvas-policy.toml` at the root of --infra, or
`--config FILE`. TOML, read with the standard library:

    require = ["waf", "rls"]           # families that must be present ("all": every family)
    exclude = ["examples/*", "test/fixtures/*"]   # paths under --infra not read (fnmatch)
    waivers = "policy-waivers.yaml"    # relative to this file
    read_fetched_modules = true        # registry/git modules from .terraform/modules (init ran)

    [family.rls]                       # parameters of every policy of the family that has them
    app_role = "shop_app"

    [policy.WAF-007]                   # one policy's parameters, and its severity
    max_limit = 1000
    severity = "critical"

    [hosts]                            # node family: roles of the --hosts URIs (fnmatch)
    "kubectl://dcgm-exporter-*" = ["gpu-node"]

An unknown key, family, policy id or parameter, or a value of another type than the catalog's
default, is one error naming the file, the key and its line; a TOML error names its line and
quotes at most a masked excerpt of it, a value is quoted masked too.

The tree's own configuration is part of the tree (a pull request's): it, and the waivers file it
names, are read as every tree file is (policies.sources: inside --infra, no link out, a regular
file within the size limit). `--config FILE` is the user's, trusted and read as given, and so is
the waivers file it names relative to itself."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policies.model import SEVERITIES, Policy
from policies.redact import excerpt
from policies.sources import SourceError, tree_text

CONFIG_NAME = "pingvas-policy.toml"
TOP_KEYS = {"require", "exclude", "waivers", "read_fetched_modules", "family", "policy", "hosts"}
HOST_ROLES = ("gpu-node", "generation-pod", "log-shipper")


class ConfigError(Exception):
    """A configuration the suite cannot use: the message names the file, key and line."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    require: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    waivers: Path | None = None
    family_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # URI pattern -> roles
    # registry and git modules read from a root's .terraform/modules (what `terraform init`
    # fetched): only a checkout the user ran init in, never a pull request's committed copy
    read_fetched_modules: bool = False
    tree: Path | None = None  # the scanned tree, when this is its own configuration

    def effective(self, catalog: dict[str, Policy]) -> dict[str, Policy]:
        """The catalog with this repository's parameters and severities applied."""
        out = {}
        for pid, policy in catalog.items():
            params = dict(policy.params)
            for key, value in self.family_params.get(policy.family, {}).items():
                if key in params:
                    params[key] = value
            own = dict(self.policy_params.get(pid, {}))
            severity = own.pop("severity", policy.severity)
            params.update(own)
            out[pid] = replace(policy, params=params, severity=severity)
        return out


def config_path(infra: Path, given: str | None) -> Path | None:
    """--config, else the tree's own pingvas-policy.toml when there is one (whatever it is: a
    link or a special file is refused when it is read, never skipped)."""
    if given:
        return Path(given).expanduser().resolve()
    default = infra / CONFIG_NAME
    return default if os.path.lexists(default) else None


def load_config(
    path: Path | None, catalog: dict[str, Policy], families: set[str], tree: Path | None = None
) -> Config:
    """The configuration at `path` (None: the defaults), validated against the catalog. `tree`:
    the scanned tree when `path` is its own configuration, read with the tree's rules."""
    if path is None:
        return Config()
    text = _text(path, tree)
    data = _toml(path, text)
    where = _Locator(path, text)
    for key in data:
        if key not in TOP_KEYS:
            raise where.error(key, f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    require = _strings(where, data, "require")
    if require == ("all",):
        require = tuple(sorted(families))
    for name in require:
        if name not in families:
            raise where.error(name, f"require: unknown family {_shown(name)}")
    waivers = data.get("waivers")
    if waivers is not None and not isinstance(waivers, str):
        raise where.error("waivers", "waivers: a path (string) expected")
    fetched = data.get("read_fetched_modules", False)
    if not isinstance(fetched, bool):
        raise where.error("read_fetched_modules", "read_fetched_modules: true or false expected")
    family_params = _tables(where, data, "family")
    for name, params in family_params.items():
        if name not in families:
            raise where.error(name, f"[family.{name}]: unknown family")
        known = {k for p in catalog.values() if p.family == name for k in p.params}
        for key, value in params.items():
            if key not in known:
                raise where.error(key, f"[family.{name}]: no policy of {name} has {key!r}")
            defaults = [p.params[key] for p in catalog.values() if key in p.params]
            _check_type(where, f"family.{name}", key, value, defaults[0])
    policy_params = _tables(where, data, "policy")
    for pid, params in policy_params.items():
        policy = catalog.get(pid)
        if policy is None:
            raise where.error(pid, f"[policy.{pid}]: no such policy in the catalog")
        for key, value in params.items():
            if key == "severity":
                if value not in SEVERITIES:
                    raise where.error(key, f"[policy.{pid}] severity: one of {SEVERITIES}")
                continue
            if key not in policy.params:
                known = ", ".join(sorted(policy.params)) or "none"
                raise where.error(key, f"[policy.{pid}]: unknown parameter {key!r} ({known})")
            _check_type(where, f"policy.{pid}", key, value, policy.params[key])
    named = path.parent / waivers if waivers else None
    if named is not None:  # the tree's: a link in it is left to its gatekeeper to judge
        named = named.resolve() if tree is None else Path(os.path.normpath(named))
    return Config(
        path=path,
        require=require,
        exclude=_strings(where, data, "exclude"),
        waivers=named,
        family_params=family_params,
        policy_params=policy_params,
        hosts=_hosts(where, data),
        read_fetched_modules=fetched,
        tree=tree,
    )


def _text(path: Path, tree: Path | None) -> str:
    """The file's text: through the tree's gatekeeper when it is the tree's own."""
    try:
        return tree_text(tree, path) if tree is not None else path.read_text(encoding="utf-8")
    except SourceError as exc:
        line = f":{exc.error.line}" if exc.error.line else ""
        raise ConfigError(f"{path}{line}: {exc.error.message}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason}") from None


_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def _toml(path: Path, text: str) -> dict[str, Any]:
    """tomllib's parse; its error, a number past Python's digit limit or nesting too deep for
    its recursion, is one error at its line, quoting a masked excerpt of the line at most."""
    lines = text.splitlines()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _POSITION.search(str(exc))
        what = excerpt(_POSITION.sub("", str(exc)), None, width=120)
        line, column = (int(found[1]), int(found[2])) if found and found[1] else (len(lines), None)
        at = f" at column {column}" if column else ""
        shown = excerpt(lines[line - 1], column) if 0 < line <= len(lines) else ""
        message = f"not valid TOML: {what}{at}" + (f": {shown}" if shown else "")
    except ValueError:
        limit = sys.get_int_max_str_digits()
        digits = re.compile(rf"\d{{{limit + 1},}}")
        line = next((n for n, t in enumerate(lines, 1) if digits.search(t)), 1)
        message = f"a number of more than {limit} digits: over the readers' limit"
    except RecursionError:
        line, message = 1, "nested too deeply to read"
    raise ConfigError(f"{path}:{max(line, 1)}: {message}")


def _shown(value: str) -> str:
    """A value of the file, quoted as a masked excerpt."""
    return f"'{excerpt(value, None)}'"


class _Locator:
    """Errors naming the file and the line where a key is written (tomllib keeps no lines)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.lines = path, text.splitlines()

    def error(self, key: str, message: str) -> ConfigError:
        pattern = re.compile(rf"(^|[\s\[.\"']){re.escape(key)}([\s\].=\"']|$)")
        line = next((n for n, t in enumerate(self.lines, 1) if pattern.search(t)), None)
        return ConfigError(f"{self.path}{f':{line}' if line else ''}: {message}")


def _strings(where: _Locator, data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error(key, f"{key}: a list of strings expected")
    return tuple(value)


def _tables(where: _Locator, data: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise where.error(key, f"[{key}.<name>] tables expected")
    return value


def _hosts(where: _Locator, data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """[hosts]: a --hosts URI or fnmatch pattern -> its roles, each one of HOST_ROLES."""
    value = data.get("hosts", {})
    if not isinstance(value, dict):
        raise where.error("hosts", "[hosts]: a table of host URI = [roles] expected")
    hosts = {}
    for uri, roles in value.items():
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise where.error(uri, f"[hosts] {uri}: a list of roles expected")
        for role in roles:
            if role not in HOST_ROLES:
                raise where.error(
                    uri,
                    f"[hosts] {uri}: unknown role {_shown(role)} (known: {', '.join(HOST_ROLES)})",
                )
        hosts[uri] = tuple(roles)
    return hosts


def _check_type(where: _Locator, table: str, key: str, value: Any, default: Any) -> None:
    """The value must have the default's type (a number for a number; any value for null)."""
    if default is None:
        return
    numbers = (int, float)
    same = (
        isinstance(value, numbers) and not isinstance(value, bool)
        if isinstance(default, numbers) and not isinstance(default, bool)
        else isinstance(value, type(default))
    )
    if not same:
        raise where.error(
            key,
            f"[{table}] {key}: a {type(default).__name__} expected, got {type(value).__name__}",
        )
