"""Secrets check bodies: pure functions over a SecretsInventory."""

from __future__ import annotations

from policies.model import Finding, Policy, resource, unverifiable
from policies.registry import check
from policies.secrets.clear import SHAPES, Rules, fix
from policies.secrets.model import SecretsInventory, duration_seconds


def _secrets(inv: SecretsInventory) -> str | None:
    return None if inv.secrets else "no Secrets Manager secret (aws_secretsmanager_secret)"


def _external(inv: SecretsInventory) -> str | None:
    return None if inv.external else "no ExternalSecret"


def _eso(inv: SecretsInventory) -> str | None:
    return None if inv.eso_objects else "no External Secrets object"


@check("SEC-001", applies=_secrets)
def rotation(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    most = policy.params["max_rotation_days"]
    findings = []
    for s in inv.secrets:
        if not s.deployed:
            findings.append(
                Finding(
                    policy.id,
                    resource("secret", s.name),
                    "declared secret is not deployed",
                    "the secret",
                    "absent",
                    s.location,
                )
            )
        elif "rotation" in s.unknowns:
            findings.append(
                unverifiable(
                    policy.id,
                    resource("secret", s.name),
                    s.rotation_location or s.location,
                    "the rotation interval",
                    s.unknowns["rotation"],
                )
            )
        elif s.rotation_days is None:
            findings.append(
                Finding(
                    policy.id,
                    resource("secret", s.name),
                    "secret is never rotated",
                    f"rotation at most every {most} days",
                    "no rotation",
                    s.location,
                )
            )
        elif s.rotation_days > most:
            findings.append(
                Finding(
                    policy.id,
                    resource("secret", s.name),
                    "rotation interval too long",
                    f"<= {most} days",
                    f"{s.rotation_days} days",
                    s.rotation_location or s.location,
                )
            )
    return findings


@check("SEC-002", applies=_secrets)
def customer_managed_key(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    unknown = [
        unverifiable(
            policy.id,
            resource("secret", s.name),
            s.location,
            "the secret's KMS key",
            s.unknowns["kms_key_id"],
        )
        for s in inv.secrets
        if "kms_key_id" in s.unknowns
    ]
    return unknown + [
        Finding(
            policy.id,
            resource("secret", s.name),
            "secret is not encrypted with a customer-managed KMS key",
            "kms_key_id = a customer-managed aws_kms_key",
            s.kms_key or "aws/secretsmanager (AWS-managed default)",
            s.location,
        )
        for s in inv.secrets
        if s.deployed and not s.customer_managed_key and "kms_key_id" not in s.unknowns
    ]


@check("SEC-003", applies=_secrets)
def recovery_window(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    low, high = policy.params["min_days"], policy.params["max_days"]
    unknown = [
        unverifiable(
            policy.id,
            resource("secret", s.name),
            s.location,
            "the recovery window",
            s.unknowns["recovery_window_in_days"],
        )
        for s in inv.secrets
        if "recovery_window_in_days" in s.unknowns
    ]
    return unknown + [
        Finding(
            policy.id,
            resource("secret", s.name),
            "recovery window outside bounds",
            f"{low}..{high} days",
            f"{s.recovery_window_days} days",
            s.location,
        )
        for s in inv.secrets
        if s.recovery_window_days is not None and not low <= s.recovery_window_days <= high
    ]


def _carriers(inv: SecretsInventory) -> str | None:
    return None if inv.carriers else "no Terraform, tfvars, manifest, values or Compose file"


def _state(inv: SecretsInventory) -> str | None:
    return (
        None
        if inv.state_candidates
        else "no random_password, random_string or aws_secretsmanager_secret_version"
    )


@check("SEC-004", applies=_carriers)
def no_plaintext(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    rules = Rules.of(policy.id, policy.params)
    findings = [
        Finding(
            policy.id,
            resource("secret-value", p.what),
            p.problem,
            "the Secret created by an ExternalSecret (or a SealedSecret), not in the repository",
            "value in clear",
            p.location,
        )
        for p in inv.plaintext
    ]
    findings += [
        Finding(
            policy.id,
            resource("secret-value", f"var.{v.name}"),
            "secret variable not marked sensitive",
            "sensitive = true (plans and outputs print it otherwise)",
            "sensitive = false",
            v.location,
        )
        for v in inv.variables
        if not v.sensitive and rules.secret_name(v.name)
    ]
    for w in inv.written:
        if rules.owned_elsewhere(w.keys):
            continue
        how = rules.clear(w.value) if rules.secret_name(w.name) else None
        how = how or rules.url_password(w.value)
        if how:
            names = (w.holder, w.path) if w.shape == "manifest" else (w.path,)
            findings.append(
                Finding(
                    policy.id,
                    resource("secret-value", *names),
                    f"credential written in clear in {SHAPES[w.shape]}",
                    fix(w),
                    how,
                    w.location,
                )
            )
    return findings


@check("SEC-005", applies=_state)
def not_in_state(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("terraform-block", leak.what),
            leak.problem,
            "ephemeral aws_secretsmanager_random_password into secret_string_wo",
            "value in the Terraform state",
            leak.location,
        )
        for leak in inv.state_leaks
    ]


@check("SEC-006", applies=_external)
def external_secret_refs(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for es in inv.external:
        for ref in es.refs:
            matches = [s for s in inv.secrets if s.matches(ref.key)]
            about = resource("manifest", f"ExternalSecret {es.name}")
            if not matches:
                findings.append(
                    Finding(
                        policy.id,
                        about,
                        f"remoteRef.key {ref.key!r} names no declared secret",
                        "the name of an aws_secretsmanager_secret",
                        f"declared: {', '.join(s.name for s in inv.secrets) or 'none'}",
                        ref.location,
                    )
                )
                continue
            secret = matches[0]
            if ref.property is None or secret.json_keys is None and secret.value_location is None:
                continue
            if secret.json_keys is None or ref.property not in secret.json_keys:
                where = secret.value_location or secret.location
                keys = ", ".join(secret.json_keys or []) or "not a JSON object"
                findings.append(
                    Finding(
                        policy.id,
                        about,
                        f"property {ref.property!r} is not a key of {secret.name} (declared at "
                        f"{where})",
                        f"one of: {keys}",
                        ref.property,
                        ref.location,
                    )
                )
    return findings


@check("SEC-007", applies=_external)
def refresh_before_rotation(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for es in inv.external:
        rotating = [
            s
            for ref in es.refs
            for s in inv.secrets
            if s.matches(ref.key) and s.rotation_days is not None
        ]
        if not rotating:
            continue
        shortest = min(s.rotation_days or 0 for s in rotating) * 86400
        refresh = duration_seconds(es.refresh_interval)
        if refresh is None or refresh == 0 or refresh >= shortest:
            findings.append(
                Finding(
                    policy.id,
                    resource("manifest", f"ExternalSecret {es.name}"),
                    "the synced Secret can be older than the rotated value",
                    f"refreshInterval shorter than {shortest // 86400:.0f} days",
                    str(es.refresh_interval),
                    es.refresh_location,
                )
            )
    return findings


@check("SEC-008", applies=_eso)
def current_eso_api(inv: SecretsInventory, policy: Policy) -> list[Finding]:
    current = policy.params["api_version"]
    return [
        Finding(
            policy.id,
            resource("manifest", f"{obj.kind} {obj.name}"),
            "deprecated External Secrets API version",
            current,
            obj.api_version,
            obj.location,
        )
        for obj in inv.eso_objects
        if obj.api_version != current
    ]
