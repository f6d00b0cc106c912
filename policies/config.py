"""The scanned repository's configuration: `pingvas-policy.toml` at the root of --infra, or
`--config FILE`. TOML, read with the standard library:

    require = ["waf", "rls"]           # families that must be present ("all": every family)
    exclude = ["examples/*", "test/fixtures/*"]   # paths under --infra not read (fnmatch)
    waivers = "policy-waivers.yaml"    # relative to this file

    [family.rls]                       # parameters of every policy of the family that has them
    app_role = "shop_app"

    [policy.WAF-007]                   # one policy's parameters, and its severity
    max_limit = 1000
    severity = "critical"

    [hosts]                            # node family: roles of the --hosts URIs (fnmatch)
    "kubectl://dcgm-exporter-*" = ["gpu-node"]

An unknown key, family, policy id or parameter, or a value of another type than the catalog's
default, is one error naming the file, the key and its line."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policies.model import SEVERITIES, Policy

CONFIG_NAME = "pingvas-policy.toml"
TOP_KEYS = {"require", "exclude", "waivers", "family", "policy", "hosts"}
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
    """--config, else the tree's own pingvas-policy.toml when it has one."""
    if given:
        return Path(given).expanduser().resolve()
    default = infra / CONFIG_NAME
    return default if default.is_file() else None


def load_config(path: Path | None, catalog: dict[str, Policy], families: set[str]) -> Config:
    """The configuration at `path` (None: the defaults), validated against the catalog."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    where = _Locator(path, text)
    for key in data:
        if key not in TOP_KEYS:
            raise where.error(key, f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    require = _strings(where, data, "require")
    if require == ("all",):
        require = tuple(sorted(families))
    for name in require:
        if name not in families:
            raise where.error(name, f"require: unknown family {name!r}")
    waivers = data.get("waivers")
    if waivers is not None and not isinstance(waivers, str):
        raise where.error("waivers", "waivers: a path (string) expected")
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
    return Config(
        path=path,
        require=require,
        exclude=_strings(where, data, "exclude"),
        waivers=(path.parent / waivers).resolve() if waivers else None,
        family_params=family_params,
        policy_params=policy_params,
        hosts=_hosts(where, data),
    )


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
                    uri, f"[hosts] {uri}: unknown role {role!r} (known: {', '.join(HOST_ROLES)})"
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
