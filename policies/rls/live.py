"""A live database's catalog (pg_catalog, read-only) -> RlsInventory, for the same check bodies."""

from __future__ import annotations

from typing import Any

import pglast

from policies.model import Location
from policies.rls.model import (
    Function,
    Membership,
    RlsInventory,
    Role,
    RowPolicy,
    Table,
    View,
)
from policies.rls.pgnodes import referenced_relations, setting_reads

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
    for key, referenced in conn.execute(
        """SELECT n.nspname || '.' || c.relname, f.nspname || '.' || r.relname
           FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace f ON f.oid = r.relnamespace
           WHERE k.contype = 'f'"""
    ).fetchall():
        if key in inv.tables:
            inv.tables[key].references.append(referenced)
    for key, options, definition, kind in conn.execute(
        f"""SELECT n.nspname || '.' || c.relname, c.reloptions, pg_get_viewdef(c.oid), c.relkind
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN {_SYSTEM}"""
    ).fetchall():
        invoker = any(
            o.lower() in ("security_invoker=true", "security_invoker=on") for o in options or ()
        )
        relations = [
            f"{s or key.split('.')[0]}.{n}"
            for s, n in referenced_relations(pglast.parse_sql(definition))
        ]
        inv.views.append(View(key, relations, invoker, _at(where, key), kind == "m"))
    for name, body, config in conn.execute(
        f"""SELECT n.nspname || '.' || p.proname, p.prosrc, p.proconfig FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prosecdef AND n.nspname NOT IN {_SYSTEM}"""
    ).fetchall():
        path = any(c.startswith("search_path=") for c in config or ())
        inv.functions.append(Function(name, True, body, _at(where, name), path))
    for name, superuser, bypass, login in conn.execute(
        "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles"
    ).fetchall():
        inv.roles[name] = Role(name, _at(where, f"role {name}"), superuser, bypass, login)
    for member, role, can_set in conn.execute(
        """SELECT pg_get_userbyid(a.member), pg_get_userbyid(a.roleid),
                  COALESCE((to_jsonb(a) ->> 'set_option')::boolean, true)
           FROM pg_auth_members a"""
    ).fetchall():
        loc = _at(where, f"role {member} member of {role}")
        inv.memberships.append(Membership(member, role, loc, can_set))
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
