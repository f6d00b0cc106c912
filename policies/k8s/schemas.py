"""K8S-001: every manifest validates against its schema: kubernetes-validate for core kinds,
the CRD schemas in policies/k8s/crds (package data) for ExternalSecret, SecretStore,
ServiceMonitor, PrometheusRule. A kind with no schema is a failure, not a pass."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

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
class Manifest:
    name: str  # "<kind> <metadata.name>"
    kind: Any
    doc: dict[str, Any]  # plain data, as the API server would receive it
    location: Location


@dataclass
class ManifestInventory:
    manifests: list[Manifest] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        return {str(m.kind) for m in self.manifests}


def read_manifests(yaml_files: list[YamlFile]) -> ManifestInventory:
    """Every Kubernetes object (a document with apiVersion and kind) of the tree's YAML."""
    inv = ManifestInventory()
    for file in yaml_files:
        for doc in file.manifests():
            name = f"{doc['kind']} {mapping(doc.get('metadata')).get('name')}"
            plain = json.loads(json.dumps(doc))
            inv.manifests.append(Manifest(name, doc["kind"], plain, Location(file.path, doc.line)))
    return inv


def schema_problem(manifest: Manifest, kubernetes_version: str) -> str | None:
    """Why the manifest does not validate against its kind's schema (None: it does)."""
    import kubernetes_validate

    kind = manifest.kind
    if isinstance(kind, str) and kind in CRD_FILES:
        return _crd_problem(manifest.doc, kind)
    return _core_problem(kubernetes_validate, manifest.doc, kubernetes_version)


def _crd_problem(doc: dict[str, Any], kind: str) -> str | None:
    path = CRD_SCHEMAS.joinpath(CRD_FILES[kind])
    if not path.is_file():
        return f"no schema for {kind}: {CRD_FILES[kind]} is missing from the package"
    import jsonschema

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
