"""Deployed Secrets Manager (boto3, read-only) -> SecretsInventory of the declared secrets."""

from __future__ import annotations

from typing import Any

from policies.model import Location
from policies.secrets.model import Secret, SecretsInventory
from policies.targets.aws import AwsTarget


def read_live(target: AwsTarget, declared: SecretsInventory) -> SecretsInventory:
    """For each declared secret, the deployed one its name matches (or a not-deployed marker).
    Values are never read."""
    client, kms = target.client("secretsmanager"), target.client("kms")
    deployed: list[dict[str, Any]] = []
    for page in client.get_paginator("list_secrets").paginate():
        deployed.extend(page.get("SecretList", []))
    inventory = SecretsInventory()
    managers: dict[str, bool] = {}
    for want in declared.secrets:
        found = next((d for d in deployed if want.matches(d["Name"])), None)
        if found is None:
            inventory.secrets.append(Secret(want.name, want.location, deployed=False))
            continue
        key = found.get("KmsKeyId")
        if key and key not in managers:
            meta = kms.describe_key(KeyId=key)["KeyMetadata"]
            managers[key] = meta.get("KeyManager") == "CUSTOMER"
        rules = found.get("RotationRules") or {}
        inventory.secrets.append(
            Secret(
                name=found["Name"],
                location=Location(resource=found["ARN"]),
                kms_key=key,
                customer_managed_key=bool(key) and managers[key],
                rotation_days=rules.get("AutomaticallyAfterDays")
                if found.get("RotationEnabled")
                else None,
                json_keys=want.json_keys,
            )
        )
    return inventory
