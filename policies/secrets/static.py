"""Terraform + YAML under --infra -> SecretsInventory (the scalars SEC-004 reads: written.py)."""

from __future__ import annotations

import re
from typing import Any

from policies.model import Location
from policies.secrets import written
from policies.secrets.model import (
    EsoObject,
    ExternalSecret,
    Plaintext,
    RemoteRef,
    Secret,
    SecretsInventory,
    StateLeak,
)
from policies.sources import Sources
from policies.terraform import TfProject, TfResource, blocks, json_value, text_of
from policies.tfeval import Unknown
from policies.yamlfile import LineDict, YamlFile, mapping, sequence

_VALUE_ATTRIBUTES = ("secret_string_wo", "secret_string", "secret_binary")
_STATE_RESOURCES = ("random_password", "random_string")
_SECRET_TYPES = ("aws_secretsmanager_secret", "aws_secretsmanager_secret_version")


def read_static(
    project: TfProject, yaml_files: list[YamlFile], sources: Sources | None = None
) -> SecretsInventory:
    """The tree's secrets; `sources` (the project's own files when not given) for the values
    written in Terraform, tfvars and YAML."""
    inv = SecretsInventory()
    sources = sources or Sources(project.base)
    secrets = {
        res.address: _secret(project, res) for res in project.of_type("aws_secretsmanager_secret")
    }
    for res in project.of_type("aws_secretsmanager_secret_version"):
        target = project.referenced(res, res.body.get("secret_id"))
        if target is not None and target.address in secrets:
            _value(project, res, secrets[target.address])
    for res in project.of_type("aws_secretsmanager_secret_rotation"):
        target = project.referenced(res, res.body.get("secret_id"))
        if target is not None and target.address in secrets:
            rules = next(iter(blocks(res.body.get("rotation_rules"))), {})
            secret = secrets[target.address]
            secret.rotation_days = _days(rules)
            secret.rotation_location = Location(res.path, res.line, res.address)
            days = rules.get("automatically_after_days", rules.get("schedule_expression"))
            if isinstance(days, Unknown):
                secret.unknowns["rotation"] = days
    inv.secrets = list(secrets.values())
    _state_leaks(project, inv)
    written.read_terraform(sources, inv)
    for file in yaml_files:
        written.read_yaml(file, sources, inv)
        for document in file.documents:
            _yaml_document(file, document, inv)
    return inv


def _secret(project: TfProject, res: TfResource) -> Secret:
    kms = res.body.get("kms_key_id")
    key = project.referenced(res, kms)
    window = res.body.get("recovery_window_in_days")
    unknowns = {
        aspect: value
        for aspect, value in (("kms_key_id", kms), ("recovery_window_in_days", window))
        if isinstance(value, Unknown) and (aspect != "kms_key_id" or key is None)
    }
    return Secret(
        name=text_of(res, "name"),
        unknowns=unknowns,
        location=Location(res.path, res.line, res.address),
        kms_key=str(kms) if kms is not None else None,
        customer_managed_key=(key is not None and key.type == "aws_kms_key")
        or (
            isinstance(kms, str) and re.match(r"arn:aws[\w-]*:kms:[^:]*:\d+:key/", kms) is not None
        ),
        recovery_window_days=int(window)
        if isinstance(window, (int, str)) and str(window).isdigit()
        else None,
    )


def _value(project: TfProject, res: TfResource, secret: Secret) -> None:
    attribute = next((a for a in _VALUE_ATTRIBUTES if a in res.body), None)
    secret.value_attribute = attribute
    secret.value_location = Location(
        res.path, project.attr_line(res.path, res.body, attribute or "secret_id"), res.address
    )
    value = res.body.get(attribute) if attribute else None
    document = json_value(value)
    if isinstance(document, dict):
        secret.json_keys = list(document)


def _days(rules: dict[str, Any]) -> int | None:
    days = rules.get("automatically_after_days")
    if isinstance(days, int):
        return days
    schedule = str(rules.get("schedule_expression", ""))
    if match := re.fullmatch(r"rate\((\d+) days?\)", schedule):
        return int(match.group(1))
    return None


def _state_leaks(project: TfProject, inv: SecretsInventory) -> None:
    for res in project.resources:
        inv.state_candidates += res.type in _STATE_RESOURCES or res.type in _SECRET_TYPES
        if res.type in _STATE_RESOURCES:
            inv.state_leaks.append(
                StateLeak(
                    res.address,
                    f"{res.type} keeps the generated value in the state (and needs the "
                    "random provider)",
                    Location(res.path, res.line, res.address),
                )
            )
        if res.type == "aws_secretsmanager_secret_version":
            for attribute in ("secret_string", "secret_binary"):
                if res.body.get(attribute):
                    inv.state_leaks.append(
                        StateLeak(
                            res.address,
                            f"{attribute} is stored in the state",
                            Location(
                                res.path,
                                project.attr_line(res.path, res.body, attribute),
                                res.address,
                            ),
                        )
                    )


def _yaml_document(file: YamlFile, doc: Any, inv: SecretsInventory) -> None:
    if not isinstance(doc, LineDict):
        return
    kind, api = doc.get("kind"), str(doc.get("apiVersion", ""))
    if api.startswith("external-secrets.io/"):
        name = str(mapping(doc.get("metadata")).get("name"))
        inv.eso_objects.append(EsoObject(str(kind), name, api, Location(file.path, doc.line)))
    if kind == "ExternalSecret" and api.startswith("external-secrets.io/"):
        inv.external.append(_external_secret(file, doc))
    elif kind == "Secret" and api == "v1":
        for field in ("data", "stringData"):
            if doc.get(field):
                inv.plaintext.append(
                    Plaintext(
                        f"Secret {mapping(doc.get('metadata')).get('name')}",
                        f"values in {field}",
                        Location(file.path, doc.line_of(field)),
                    )
                )


def _external_secret(file: YamlFile, doc: LineDict) -> ExternalSecret:
    spec = mapping(doc.get("spec"))
    es = ExternalSecret(
        name=str(mapping(doc.get("metadata")).get("name")),
        api_version=str(doc.get("apiVersion")),
        kind=str(doc.get("kind")),
        refresh_interval=str(spec["refreshInterval"]) if "refreshInterval" in spec else None,
        location=Location(file.path, doc.line),
        refresh_location=Location(file.path, spec.line_of("refreshInterval")),
    )
    for entry in sequence(spec.get("data")):
        ref = entry.get("remoteRef") if isinstance(entry, dict) else None
        if isinstance(ref, LineDict):
            line = ref.line_of("property") if "property" in ref else ref.line_of("key")
            es.refs.append(
                RemoteRef(str(ref.get("key")), ref.get("property"), Location(file.path, line))
            )
    for entry in sequence(spec.get("dataFrom")):
        extract = entry.get("extract") if isinstance(entry, dict) else None
        if isinstance(extract, LineDict):
            es.refs.append(
                RemoteRef(
                    str(extract.get("key")),
                    extract.get("property"),
                    Location(file.path, extract.line_of("key")),
                )
            )
    return es
