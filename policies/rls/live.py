"""A live database's catalog (pg_catalog, read-only) -> RlsInventory, for the same check bodies."""

from __future__ import annotations

from typing import Any

import pglast

from policies.model import Location
from policies.rls.model import (
    Function,
    RlsInventory,
    Role,
    RowPolicy,
    Table,
    View,
    referenced_relations,
    setting_reads,
)

_SYSTEM = "('pg_catalog', 'information_schema', 'pg_toast')"
_COMMANDS = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}


def read_live(conn: Any, where: str) -> RlsInventory:
    """Tables, policies, views, SECURITY DEFINER functions, roles and grants of the database."""
    inv = RlsInventory()
    rows = conn.execute(
        f"""SELECT n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity,
                  pg_get_userbyid(c.relowner),
                  ARRAY(SELECT attname FROM pg_attribute
                        WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN {_SYSTEM}"""
    ).fetchall()
    for key, enabled, forced, owner, columns in rows:
        inv.tables[key] = Table(key, list(columns), _at(where, key), enabled, forced, owner)
    for schema, table, name, permissive, roles, cmd, using, check in conn.execute(
        """SELECT n.nspname, c.relname, p.polname, p.polpermissive,
                  ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END
                        FROM unnest(p.polroles) AS r),
                  p.polcmd, pg_get_expr(p.polqual, p.polrelid),
                  pg_get_expr(p.polwithcheck, p.polrelid)
           FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace"""
    ).fetchall():
        key = f"{schema}.{table}"
        loc = _at(where, f"{key} policy {name}")
        using_expr, check_expr = _expr(using), _expr(check)
        inv.policies.append(
            RowPolicy(
                name, key, _COMMANDS[cmd], permissive, list(roles), using_expr, check_expr, loc
            )
        )
        for expr in (using_expr, check_expr):
            inv.setting_reads.extend(setting_reads(expr, loc))
    for key, options, definition in conn.execute(
        f"""SELECT n.nspname || '.' || c.relname, c.reloptions, pg_get_viewdef(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'v' AND n.nspname NOT IN {_SYSTEM}"""
    ).fetchall():
        invoker = any(
            o.lower() in ("security_invoker=true", "security_invoker=on") for o in options or ()
        )
        relations = [
            f"{s or key.split('.')[0]}.{n}"
            for s, n in referenced_relations(pglast.parse_sql(definition))
        ]
        inv.views.append(View(key, relations, invoker, _at(where, key)))
    for name, body in conn.execute(
        f"""SELECT n.nspname || '.' || p.proname, p.prosrc FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prosecdef AND n.nspname NOT IN {_SYSTEM}"""
    ).fetchall():
        inv.functions.append(Function(name, True, body, _at(where, name)))
    for name, superuser, bypass, login in conn.execute(
        "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles"
    ).fetchall():
        inv.roles[name] = Role(name, _at(where, f"role {name}"), superuser, bypass, login)
    for key, grantee, privilege in conn.execute(
        f"""SELECT n.nspname || '.' || c.relname,
                   CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee) END,
                   lower(a.privilege_type)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                 aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
            WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN {_SYSTEM}"""
    ).fetchall():
        inv.grants.setdefault(key, {}).setdefault(grantee, set()).add(privilege)
    return inv


def _at(where: str, what: str) -> Location:
    return Location(resource=f"{where} {what}")


def _expr(text: str | None) -> Any:
    if text is None:
        return None
    return pglast.parse_sql(f"SELECT {text}")[0].stmt.targetList[0].val
