"""K8S-001: every manifest validates against its schema: kubernetes-validate for core kinds,
the CRD schemas in policies/k8s/crds (package data) for ExternalSecret, SecretStore,
ServiceMonitor, PrometheusRule. A kind with no schema is a failure, not a pass."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jsonschema

from policies.model import Location
from policies.yamlfile import YamlFile, mapping

CRD_SCHEMAS = resources.files("policies.k8s").joinpath("crds")
CRD_FILES = {
    "ExternalSecret": "externalsecret.json",
    "SecretStore": "secretstore.json",
    "ServiceMonitor": "servicemonitor.json",
    "PrometheusRule": "prometheusrule.json",
}


@dataclass
class SchemaProblem:
    manifest: str
    problem: str
    location: Location


@dataclass
class ManifestInventory:
    manifests: int = 0
    problems: list[SchemaProblem] = field(default_factory=list)


def validate_manifests(yaml_files: list[YamlFile], kubernetes_version: str) -> ManifestInventory:
    import kubernetes_validate

    inv = ManifestInventory()
    for file in yaml_files:
        for doc in file.manifests():
            inv.manifests += 1
            name = f"{doc['kind']} {mapping(doc.get('metadata')).get('name')}"
            where = Location(file.path, doc.line)
            plain = json.loads(json.dumps(doc))
            kind = doc["kind"]
            if isinstance(kind, str) and kind in CRD_FILES:
                problem = _crd_problem(plain, kind)
            else:
                problem = _core_problem(kubernetes_validate, plain, kubernetes_version)
            if problem:
                inv.problems.append(SchemaProblem(name, problem, where))
    return inv


def _crd_problem(doc: dict[str, Any], kind: str) -> str | None:
    path = CRD_SCHEMAS.joinpath(CRD_FILES[kind])
    if not path.is_file():
        return f"no schema for {kind}: {CRD_FILES[kind]} is missing from the package"
    schema = json.loads(path.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)
    if not errors:
        return None
    first = errors[0]
    return f"{'/'.join(map(str, first.absolute_path)) or '(root)'}: {first.message}"


def _core_problem(kv: Any, doc: dict[str, Any], version: str) -> str | None:
    try:
        kv.validate(doc, version, strict=True)
    except kv.SchemaNotFoundError:
        return f"no schema for {doc.get('apiVersion')} {doc.get('kind')}"
    except kv.ValidationError as exc:
        path = "/".join(map(str, getattr(exc, "path", []) or []))
        return f"{path or '(root)'}: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - kubernetes-validate raises several types
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return None
