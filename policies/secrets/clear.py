"""SEC-004's rules, from its catalog parameters: which names hold credentials, which written
values are references rather than values, and the fix for each shape of file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from policies.secrets.model import Written

MIN_NUMBER_DIGITS = 4  # a number of fewer digits is a count or a flag, not a password
LONG_NAME = 5  # secret names this long also end a word (PGPASSWORD); shorter ones (pass) do not
_CAMEL = (re.compile(r"([A-Z]+)([A-Z][a-z])"), re.compile(r"([a-z0-9])([A-Z])"))
_ENV_ENTRY = re.compile(r"(?i)env\w*\[[^\]]*\]$")  # env[NAME], extraEnv[NAME]: EnvVar lists
_RDS = ("aws_db_instance.", "aws_rds_cluster.", "aws_docdb_cluster.", "aws_redshift_cluster.")


@lru_cache(maxsize=16384)
def words(name: str) -> tuple[str, ...]:
    """A key's words, lower case: POSTGRES_PASSWORD, postgresPassword, api-key, APIKey (a
    tree's keys repeat: each distinct one is split once)."""
    for pattern in _CAMEL:
        name = pattern.sub(r"\1_\2", name)
    return tuple(w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w)


def _compile(policy_id: str, param: str, patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p) for p in patterns)
    except re.error as exc:
        raise ValueError(f"{policy_id} {param}: not a regular expression ({exc})") from None


@dataclass(frozen=True)
class Rules:
    names: frozenset[str]  # secret names, words joined: "apikey", "password"
    prefixes: tuple[tuple[str, ...], ...]  # leading words of names that point at a secret
    placeholders: tuple[re.Pattern[str], ...]  # whole values that are not values
    references: tuple[re.Pattern[str], ...]  # parts that make a value a reference
    defaults: tuple[re.Pattern[str], ...]  # references with a literal default (group 1)
    url: re.Pattern[str]  # a URL's password (group 1)
    owned: tuple[str, ...]  # key paths another policy reports (ends of the dotted path)
    _named: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, policy_id: str, params: dict[str, Any]) -> Rules:
        url = _compile(policy_id, "url_password", [params["url_password"]])[0]
        return cls(
            frozenset("".join(words(n)) for n in params["secret_names"]),
            tuple(words(p) for p in params["reference_prefixes"] if words(p)),
            _compile(policy_id, "placeholders", params["placeholders"]),
            _compile(policy_id, "references", params["references"]),
            _compile(policy_id, "literal_defaults", params["literal_defaults"]),
            url,
            tuple(params["owned_elsewhere"]),
        )

    def secret_name(self, name: str) -> bool:
        """Whether a key names a credential: its last one to three words, joined, are a secret
        name, or its last word ends in one of at least LONG_NAME letters (PGPASSWORD, not
        bypass); not when its first words say it points at one (existingSecret), nor when it
        ends in "key" after another secret word (passwordSecretKey: a key inside a Secret)."""
        if name not in self._named:
            self._named[name] = self._secret_name(name)
        return self._named[name]

    def _secret_name(self, name: str) -> bool:
        found = words(name)
        if not found or any(tuple(found[: len(p)]) == p for p in self.prefixes):
            return False
        for size in (3, 2, 1):
            if len(found) >= size and "".join(found[-size:]) in self.names:
                before = found[:-size]
                return not (found[-1] == "key" and before and before[-1] in self.names)
        return any(len(n) >= LONG_NAME and found[-1].endswith(n) for n in self.names)

    def clear(self, value: str | int | float) -> str | None:
        """How a value is written in clear (for the finding), or None for a reference or a
        placeholder."""
        if not isinstance(value, str):
            digits = str(value).lstrip("-")
            return "a literal number" if len(digits) >= MIN_NUMBER_DIGITS else None
        text = value.strip()
        if not text:
            return None
        for pattern in self.defaults:
            match = pattern.search(text)
            if match and match.group(1).strip():
                return "a literal default (used whenever the variable is unset)"
        if any(p.search(text) for p in self.references):
            return None
        if any(p.fullmatch(text) for p in self.placeholders):
            return None
        return "a literal value"

    def url_password(self, value: str | int | float) -> str | None:
        """How the password of a URL in the value is written in clear, or None."""
        if not isinstance(value, str):
            return None
        for match in self.url.finditer(value):
            how = self.clear(match.group(1))
            if how:
                return f"a password in the URL's user info ({how})"
        return None

    def owned_elsewhere(self, keys: tuple[str, ...]) -> bool:
        """Whether the key path (its keys joined by dots) ends with a path another policy
        reports."""
        path = ".".join(keys)
        return any(path == p or path.endswith(f".{p}") for p in self.owned)


SHAPES = {
    "compose": "a Compose file",
    "manifest": "a Kubernetes manifest",
    "values": "Helm values",
    "tfvars": "a tfvars file",
    "terraform": "Terraform",
    "variable": "a Terraform variable's default",
    "output": "a Terraform output",
}


def fix(w: Written) -> str:
    """The fix for a value written in clear, right for the file it is in."""
    if w.shape == "compose":
        return (
            f"env_file: with a file kept out of the repository, a Compose secret (top-level "
            f"secrets: mounted in the service, {w.name}_FILE where the image reads one), or "
            f"${{{w.name}}} from the environment without a default"
        )
    env = _ENV_ENTRY.search(w.path) is not None
    if w.shape in ("manifest", "values") and env:
        return "valueFrom.secretKeyRef naming a Secret (synced by an ExternalSecret)"
    if w.shape == "manifest":
        if w.holder.startswith("HelmRelease "):
            return "spec.valuesFrom a Secret (kind: Secret, valuesKey), not spec.values"
        return "the value in a Secret (synced by an ExternalSecret), referenced by name"
    if w.shape == "values":
        return (
            "a Secret the chart reads (existingSecret; bitnami charts: auth.existingSecret "
            "with auth.secretKeys), created by an ExternalSecret"
        )
    if w.shape == "tfvars":
        return f"TF_VAR_{w.keys[0]} from a secret store in CI, the variable marked sensitive"
    if w.shape == "variable":
        name = w.holder.removeprefix("var.")
        return f"no default: TF_VAR_{name} from a secret store in CI, sensitive = true"
    if w.shape == "output":
        return "the value from a sensitive variable or resource attribute, sensitive = true"
    top = w.keys[0] if w.keys else w.name  # the attribute (a jsonencode() key is inside it)
    if w.holder.startswith(_RDS) and top in ("password", "master_password"):
        return "manage_master_user_password = true (RDS keeps the password in Secrets Manager)"
    if top == "container_definitions":
        return "the container's secrets (valueFrom a Secrets Manager or SSM ARN), not environment"
    if top in ("secret_string", "secret_binary"):
        return (
            "secret_string_wo from an ephemeral aws_secretsmanager_random_password "
            "(with secret_string_wo_version)"
        )
    if w.holder.startswith("helm_release."):
        return "set_sensitive with a variable marked sensitive = true, not a literal"
    return "a variable marked sensitive = true without a default, or an ephemeral value"
