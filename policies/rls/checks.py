"""RLS check bodies: pure functions over an RlsInventory (from migrations or from pg_catalog)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

from policies.model import Finding, Location, Policy, resource
from policies.registry import check
from policies.rls.model import COMMANDS, RlsInventory, RowPolicy, Table, is_true


def _normal(name: str) -> str:
    """A column name compared without case and underscores (tenantId is tenant_id)."""
    return name.lower().replace("_", "")


def protected(inv: RlsInventory, params: dict) -> list[Table]:
    """Tables holding user data: an owner column, a listed user table, or RLS/policies on it."""
    with_policies = {p.table for p in inv.policies}
    owner_columns = {_normal(c) for c in params["user_columns"]}
    return [
        t
        for t in inv.tables.values()
        if {_normal(c) for c in t.columns} & owner_columns
        or t.key.split(".")[-1] in params["user_tables"]
        or t.rls_enabled
        or t.key in with_policies
    ]


def _tables(inv: RlsInventory) -> str | None:
    return None if inv.tables else "no SQL table"


def _privileged(role: str, params: dict) -> bool:
    return any(fnmatchcase(role, pattern) for pattern in params["privileged_roles"])


def app_roles(inv: RlsInventory, params: dict) -> list[str]:
    """The configured app role; else every role granted rights on a user-data table that is
    neither privileged nor a table owner; else PUBLIC (no GRANT known)."""
    if params.get("app_role"):
        return [params["app_role"]]
    tables = protected(inv, params)
    owners = {t.owner for t in tables}
    granted = sorted(
        {
            role
            for t in tables
            for role, privileges in inv.grants.get(t.key, {}).items()
            if privileges & set(COMMANDS) and role != "public"
        }
        - owners
    )
    return [r for r in granted if not _privileged(r, params)] or ["public"]


def context_settings(inv: RlsInventory, params: dict) -> list[str]:
    """The configured setting; else every setting the policies read."""
    if params.get("setting"):
        return [params["setting"]]
    return sorted({r.setting for r in inv.setting_reads})


def _applies(policy: RowPolicy, role: str) -> bool:
    return "public" in policy.roles or role in policy.roles


def _covers(policy: RowPolicy, command: str) -> bool:
    return policy.command in ("all", command)


@check("RLS-001", applies=_tables)
def rls_enabled(inv: RlsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("table", t.key),
            "row-level security is not enabled",
            "ENABLE ROW LEVEL SECURITY",
            "disabled",
            t.location,
        )
        for t in protected(inv, policy.params)
        if not t.rls_enabled
    ]


@check("RLS-002", applies=_tables)
def rls_forced(inv: RlsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("table", t.key),
            f"the owner ({t.owner or 'table owner'}) bypasses every policy",
            "FORCE ROW LEVEL SECURITY",
            "not forced",
            t.location,
        )
        for t in protected(inv, policy.params)
        if not t.rls_forced
    ]


def _decided(inv: RlsInventory, table: str, role: str, command: str) -> bool:
    """A policy for the command applies to the role, or the role is not granted it
    (known grants only: without GRANT statements a missing policy is undecided)."""
    if any(p.table == table and _covers(p, command) and _applies(p, role) for p in inv.policies):
        return True
    grants = inv.grants.get(table)
    if grants is None:
        return False
    return command not in grants.get(role, set()) | grants.get("public", set())


@check("RLS-003", applies=_tables)
def commands_covered(inv: RlsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for table in protected(inv, policy.params):
        if not table.rls_enabled:
            continue  # RLS-001 reports it
        for app, command in ((a, c) for a in app_roles(inv, policy.params) for c in COMMANDS):
            if not _decided(inv, table.key, app, command):
                findings.append(
                    Finding(
                        policy.id,
                        resource("table-command", table.key, command),
                        f"no {command.upper()} policy applies to {app}",
                        f"a FOR {command.upper()} policy, or no {command.upper()} grant",
                        "granted without a policy"
                        if table.key in inv.grants
                        else "no policy, grants unknown",
                        table.location,
                    )
                )
    return findings


@check("RLS-004", applies=_tables)
def no_open_permissive(inv: RlsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for p in inv.policies:
        open_expr = [
            name for name, e in (("USING", p.using), ("WITH CHECK", p.check)) if is_true(e)
        ]
        exposed = [r for r in p.roles if not _privileged(r, policy.params)]
        if p.permissive and open_expr and exposed:
            findings.append(
                Finding(
                    policy.id,
                    resource("row-policy", p.table, p.name),
                    f"{' and '.join(open_expr)} (true) for {', '.join(exposed)}",
                    f"TO one of {policy.params['privileged_roles']}",
                    f"TO {', '.join(p.roles)}",
                    p.location,
                )
            )
    return findings


@check("RLS-005", applies=_tables)
def fail_closed_settings(inv: RlsInventory, policy: Policy) -> list[Finding]:
    settings = context_settings(inv, policy.params)
    return [
        Finding(
            policy.id,
            resource("setting", r.setting),
            "the user setting is not read fail-closed",
            f"NULLIF(current_setting('{r.setting}', true), '')",
            r.text,
            r.location,
        )
        for r in inv.setting_reads
        if r.setting in settings and not (r.missing_ok and r.fail_closed)
    ]


@check("RLS-006", applies=_tables)
def consistent_admin_path(inv: RlsInventory, policy: Policy) -> list[Finding]:
    admins = sorted({r for p in inv.policies for r in p.roles if fnmatchcase(r, "*admin*")})
    findings = []
    for admin in admins:
        for table in protected(inv, policy.params):
            missing = [
                c
                for c in COMMANDS
                if not (_decided(inv, table.key, admin, c) and _has_own_policy(inv, table, admin))
            ]
            if missing:
                findings.append(
                    Finding(
                        policy.id,
                        resource("table-role", table.key, admin),
                        f"admin role {admin} has no policy for {', '.join(missing)}",
                        f"the same admin policy as on the other tables (FOR ALL TO {admin})",
                        f"commands without policy: {', '.join(missing)}",
                        table.location,
                    )
                )
    return findings


def _has_own_policy(inv: RlsInventory, table: Table, role: str) -> bool:
    return any(p.table == table.key and role in p.roles for p in inv.policies)


@check("RLS-007", applies=_tables)
def invoker_views(inv: RlsInventory, policy: Policy) -> list[Finding]:
    keys = {t.key for t in protected(inv, policy.params)}
    return [
        Finding(
            policy.id,
            resource("view", v.key),
            "view reads user-data tables with its owner's rights",
            "WITH (security_invoker = true)",
            f"security definer view over {', '.join(sorted(set(v.relations) & keys))}",
            v.location,
        )
        for v in inv.views
        if set(v.relations) & keys and not v.security_invoker
    ]


@check("RLS-008", applies=_tables)
def no_definer_functions(inv: RlsInventory, policy: Policy) -> list[Finding]:
    names = {t.key.split(".")[-1] for t in protected(inv, policy.params)}
    findings = []
    for fn in inv.functions:
        touched = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", fn.body, re.I))
        if fn.security_definer and touched:
            findings.append(
                Finding(
                    policy.id,
                    resource("function", fn.name),
                    f"SECURITY DEFINER function reads {', '.join(touched)}",
                    "SECURITY INVOKER",
                    "SECURITY DEFINER",
                    fn.location,
                )
            )
    return findings


def _app_code(inv: RlsInventory) -> str | None:
    return None if inv.app_files else "no database application code"


@check("RLS-009", applies=_app_code)
def transaction_local_context(inv: RlsInventory, policy: Policy) -> list[Finding]:
    names = context_settings(inv, policy.params)
    if not names:
        return []
    setting = "(?:" + "|".join(re.escape(n) for n in names) + ")"
    session_set = re.compile(rf"\bSET\s+(SESSION\s+)?{setting}\b", re.I)
    local_set = re.compile(
        rf"set_config\(\s*'{setting}'\s*,\s*(%s|\$1|%\(\w+\)s)\s*,\s*true\s*\)|\bSET\s+LOCAL\s+{setting}\b",
        re.I,
    )
    session_config = re.compile(rf"set_config\(\s*'{setting}'\s*,[^)]*,\s*false\s*\)", re.I)
    findings = [
        Finding(
            policy.id,
            resource("setting", ", ".join(names)),
            "user context set for the whole session",
            "set_config(name, %s, true) inside the request's transaction",
            sql.sql,
            sql.location,
        )
        for sql in inv.executed_sql
        if session_set.search(sql.sql) or session_config.search(sql.sql)
    ]
    if not any(local_set.search(sql.sql) for sql in inv.executed_sql):
        where = (
            Location(Path(inv.app_files[0]), 1) if inv.app_files else Location(resource="app code")
        )
        findings.append(
            Finding(
                policy.id,
                resource("app-code", "application"),
                "the user context is never set transaction-locally",
                "SELECT set_config(name, %s, true) with a bound parameter",
                f"not found in {len(inv.app_files)} database module(s)",
                where,
            )
        )
    return findings


@check("RLS-010", applies=_app_code)
def no_formatted_sql(inv: RlsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("app-code", "application"),
            f"SQL built by {sql.built_by}",
            "a bound parameter",
            sql.sql,
            sql.location,
        )
        for sql in inv.executed_sql
        if sql.built_by
    ]


@check("RLS-011", applies=_app_code)
def defined_names(inv: RlsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("undefined-name", "application", u.name),
            f"undefined name {u.name!r}",
            "defined or imported",
            "undefined",
            u.location,
        )
        for u in inv.undefined_names
    ]


@check("RLS-012", applies=_tables)
def no_bypass_roles(inv: RlsInventory, policy: Policy) -> list[Finding]:
    configured = policy.params.get("app_role")
    apps = [a for a in app_roles(inv, policy.params) if a != "public"]
    findings = []
    if configured and configured not in inv.roles:
        findings.append(
            Finding(
                policy.id,
                resource("role", configured),
                "the app role is not declared",
                f"CREATE ROLE {configured} NOBYPASSRLS",
                "absent",
                Location(resource=configured),
            )
        )
    owners = {t.owner for t in protected(inv, policy.params) if t.owner}
    for name in sorted({*apps, *owners}):
        r = inv.roles.get(name)
        if r and (r.superuser or r.bypassrls):
            findings.append(
                Finding(
                    policy.id,
                    resource("role", name),
                    "role bypasses row-level security",
                    "NOSUPERUSER NOBYPASSRLS",
                    ", ".join(a for a in ("superuser", "bypassrls") if getattr(r, a)),
                    r.location,
                )
            )
    for table in protected(inv, policy.params):
        if configured and table.owner == configured:
            findings.append(
                Finding(
                    policy.id,
                    resource("table", table.key),
                    "the app role owns a user-data table",
                    "owned by a separate NOLOGIN role",
                    f"owner {configured}",
                    table.location,
                )
            )
    return findings
