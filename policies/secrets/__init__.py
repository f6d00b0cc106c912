"""Secrets family: Secrets Manager secrets, their rotation and keys, the ExternalSecrets that
read them, and secret values written in clear anywhere in the tree."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.secrets.static import read_static

    return read_static(tree.terraform, tree.yaml)


FAMILY = Family(
    name="secrets",
    what="secret (Secrets Manager secret, ExternalSecret, Secret manifest, or a variable,"
    " tfvars or values key named like a password or token)",
    read=_read,
    present=lambda inventory: bool(
        inventory.secrets or inventory.external or inventory.eso_objects or inventory.candidates
    ),
    live="secrets_live",
)
