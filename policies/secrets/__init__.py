"""Secrets family: Secrets Manager secrets, their rotation and keys, the ExternalSecrets that
read them, and secret values written in clear anywhere in the tree."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.secrets.static import read_static

    return read_static(tree.terraform, tree.yaml, tree.sources)


FAMILY = Family(
    name="secrets",
    what="secret (Secrets Manager secret, ExternalSecret) or file a secret can be written in"
    " (Terraform, tfvars, Kubernetes manifest, Helm values, Compose file)",
    read=_read,
    present=lambda inventory: bool(
        inventory.secrets or inventory.external or inventory.eso_objects or inventory.carriers
    ),
    live="secrets_live",
)
