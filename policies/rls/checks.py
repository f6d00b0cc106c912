"""RLS check bodies: pure functions over an RlsInventory (from migrations or from pg_catalog)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

from policies.model import Finding, Location, Policy, resource
from policies.registry import check
from policies.rls.model import COMMANDS, SERVER_ACCESS_ROLES, RlsInventory, RowPolicy, Table


def _normal(name: str) -> str:
    """A column name compared without case and underscores (tenantId is tenant_id)."""
    return name.lower().replace("_", "")


def _user_column(column: str, params: dict) -> bool:
    """A column naming the row's owner: one of user_columns (names or glob patterns)."""
    return any(fnmatchcase(_normal(column), _normal(p)) for p in params["user_columns"])


def user_data(inv: RlsInventory, params: dict) -> set[str]:
    """Tables keyed to a user or tenant: an owner column or a listed user table, and every table
    whose foreign key references one of those (invoice_items -> invoices -> tenant_id)."""
    keys = {
        t.key
        for t in inv.tables.values()
        if any(_user_column(c, params) for c in t.columns)
        or t.key.split(".")[-1] in params["user_tables"]
    }
    grown = True
    while grown:
        more = {t.key for t in inv.tables.values() if keys & set(t.references)} - keys
        keys |= more
        grown = bool(more)
    return keys


def protected(inv: RlsInventory, params: dict) -> list[Table]:
    """Tables holding user data (user_data), or with RLS or policies on them."""
    keys = user_data(inv, params) | {p.table for p in inv.policies}
    return [t for t in inv.tables.values() if t.key in keys or t.rls_enabled]


def public_catalogs(inv: RlsInventory, params: dict) -> set[str]:
    """Tables readable by all on purpose: not user data, and their only policies are read-all
    SELECTs (`FOR SELECT USING (true)`)."""
    from policies.rls.pgnodes import is_true  # pglast, loaded when a check runs

    own: dict[str, list[RowPolicy]] = {}
    for p in inv.policies:
        own.setdefault(p.table, []).append(p)
    users = user_data(inv, params)
    return {
        table
        for table, policies in own.items()
        if table not in users and all(p.command == "select" and is_true(p.using) for p in policies)
    }


def _private(inv: RlsInventory, params: dict) -> list[Table]:
    """Protected tables that are not public catalogs (what views, functions and the admin
    path must not open up)."""
    catalogs = public_catalogs(inv, params)
    return [t for t in protected(inv, params) if t.key not in catalogs]


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
    """The configured setting; else every custom setting (a name with a dot) the policies
    compare with row columns (a setting read alone, a switch, is RLS-013's)."""
    if params.get("setting"):
        return [params["setting"]]
    return sorted({r.setting for r in inv.setting_reads if "." in r.setting and not r.flag})


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
            f"row-level security is not enabled on {t.key}",
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
    from policies.rls.pgnodes import is_true

    findings = []
    catalogs = public_catalogs(inv, policy.params)
    for p in inv.policies:
        open_expr = [
            name for name, e in (("USING", p.using), ("WITH CHECK", p.check)) if is_true(e)
        ]
        exposed = [r for r in p.roles if not _privileged(r, policy.params)]
        if p.permissive and open_expr and exposed and p.table not in catalogs:
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
        if r.setting in settings and not r.flag and not (r.missing_ok and r.fail_closed)
    ]


@check("RLS-006", applies=_tables)
def consistent_admin_path(inv: RlsInventory, policy: Policy) -> list[Finding]:
    admins = sorted({r for p in inv.policies for r in p.roles if fnmatchcase(r, "*admin*")})
    findings = []
    for admin in admins:
        for table in _private(inv, policy.params):
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
    keys = {t.key for t in _private(inv, policy.params)}
    findings = []
    for v in inv.views:
        over = ", ".join(sorted(set(v.relations) & keys))
        if not over or (v.security_invoker and not v.materialized):
            continue
        if v.materialized:
            message = (
                f"materialized view {v.key} holds the rows of {over} as its refreshing role saw"
                " them: row-level security never applies to it"
            )
            expected = "a view WITH (security_invoker = true), or no grant to the app role"
            actual = f"materialized view over {over}"
        else:
            message = f"view {v.key} reads user-data tables with its owner's rights"
            expected, actual = (
                "WITH (security_invoker = true)",
                f"security definer view over {over}",
            )
        findings.append(
            Finding(policy.id, resource("view", v.key), message, expected, actual, v.location)
        )
    return findings


@check("RLS-008", applies=_tables)
def no_definer_functions(inv: RlsInventory, policy: Policy) -> list[Finding]:
    names = {t.key.split(".")[-1] for t in _private(inv, policy.params)}
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
        rf"set_config\(\s*'{setting}'\s*,\s*(%s|\$\d+|\?|%\(\w+\)s)(::\w+)?\s*,\s*true\s*\)"
        rf"|\bSET\s+LOCAL\s+{setting}\b",
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
    tables = protected(inv, policy.params)
    first = (
        tables[0].location
        if tables
        else next((t.location for t in inv.tables.values()), Location(resource="the migrations"))
    )
    findings = []
    if configured and configured not in inv.roles:
        findings.append(
            Finding(
                policy.id,
                resource("role", configured),
                f"the app role {configured} is not declared",
                f"CREATE ROLE {configured} NOBYPASSRLS",
                "absent",
                inv.role_refs.get(configured, first),
            )
        )
    bypass = _bypassing(inv, policy.params)
    owners = {t.owner for t in tables if t.owner}
    for name in sorted({*apps, *owners}):
        if name in bypass:
            role = inv.roles.get(name)
            declared = role and (role.superuser or role.bypassrls)
            where = role.location if declared else inv.role_refs.get(name)
            findings.append(
                Finding(
                    policy.id,
                    resource("role", name),
                    f"role {name} bypasses row-level security",
                    "NOSUPERUSER NOBYPASSRLS",
                    bypass[name],
                    where or first,
                )
            )
            continue
        targets = dict(bypass)
        if name in apps:  # an owner may ALTER TABLE ... DISABLE ROW LEVEL SECURITY
            targets.update(
                {
                    o: f"owner of {_owned(tables, o)}, which may DISABLE ROW LEVEL SECURITY"
                    for o in owners
                    if o != name
                }
            )
        findings += _member_findings(inv, policy.id, name, targets)
    for table in tables:
        if configured and table.owner == configured:
            findings.append(
                Finding(
                    policy.id,
                    resource("table", table.key),
                    f"the app role {configured} owns {table.key}",
                    "owned by a separate NOLOGIN role",
                    f"owner {configured}",
                    table.location,
                )
            )
    return findings


def _roles(inv: RlsInventory) -> str | None:
    return None if inv.roles or inv.memberships or inv.tables else "no SQL role or table"


@check("RLS-015", applies=_roles)
def no_server_access(inv: RlsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("role", m.member),
            f"role {m.member} is granted {m.role}",
            f"no role a migration creates or runs as in {', '.join(SERVER_ACCESS_ROLES)}",
            f"member of {m.role}",
            m.location,
        )
        for m in inv.memberships
        if m.role in SERVER_ACCESS_ROLES
    ]


def _owned(tables: list[Table], owner: str) -> str:
    return ", ".join(t.key for t in tables if t.owner == owner)


def _bypassing(inv: RlsInventory, params: dict) -> dict[str, str]:
    """Roles that skip row-level security, with why: SUPERUSER or BYPASSRLS in the tree, or
    listed in bypass_roles (roles the platform creates: the bootstrap superuser)."""
    found = dict(params.get("bypass_roles", {}))
    for role in inv.roles.values():
        attributes = [a.upper() for a in ("superuser", "bypassrls") if getattr(role, a)]
        if attributes:
            found[role.name] = ", ".join(attributes)
    return found


def _member_findings(
    inv: RlsInventory, policy_id: str, member: str, targets: dict[str, str]
) -> list[Finding]:
    """The member reaches a target role through memberships it may SET ROLE along (INHERIT
    does not matter: SET ROLE takes the role's attributes); one finding per target, at the
    member's own GRANT."""
    findings, seen = [], {member}
    paths = [[m] for m in inv.memberships if m.member == member and m.can_set]
    while paths:
        path = paths.pop(0)
        role = path[-1].role
        if role in seen:
            continue
        seen.add(role)
        if role in targets:
            via = f" via {' -> '.join(m.role for m in path[:-1])}" if len(path) > 1 else ""
            findings.append(
                Finding(
                    policy_id,
                    resource("role", member),
                    f"{member} is a member of {role}{via} and may SET ROLE {role}, which"
                    " bypasses row-level security",
                    f"REVOKE {path[0].role} FROM {member}",
                    f"{role}: {targets[role]}",
                    path[0].location,
                )
            )
        paths += [[*path, m] for m in inv.memberships if m.member == role and m.can_set]
    return findings


def _switch_reads(p: RowPolicy) -> list[str]:
    """Custom settings a policy expression reads alone in a branch (no row column in it)."""
    from policies.rls.pgnodes import setting_reads

    reads = [*setting_reads(p.using, p.location), *setting_reads(p.check, p.location)]
    return sorted({r.setting for r in reads if r.flag and "." in r.setting})


@check("RLS-013", applies=_tables)
def no_setting_switch(inv: RlsInventory, policy: Policy) -> list[Finding]:
    findings = []
    for p in inv.policies:
        switches = _switch_reads(p)
        exposed = [r for r in p.roles if not _privileged(r, policy.params)]
        if p.permissive and switches and exposed:
            names = ", ".join(switches)
            findings.append(
                Finding(
                    policy.id,
                    resource("row-policy", p.table, p.name),
                    f"policy {p.name} on {p.table} grants rows on the setting {names} alone:"
                    f" any session can SET {switches[0]}",
                    "every branch of USING / WITH CHECK compares a row column",
                    f"a branch reads only {names}",
                    p.location,
                )
            )
    return findings


@check("RLS-014", applies=_tables)
def definer_search_path(inv: RlsInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("function", fn.name),
            f"SECURITY DEFINER function {fn.name} runs with the caller's search_path",
            "SET search_path = pg_catalog, <schema>, pg_temp",
            "no SET search_path",
            fn.location,
        )
        for fn in inv.functions
        if fn.security_definer and not fn.search_path
    ]
