"""SQL migrations (pglast) -> RlsInventory. Files are found by content: anything named *.sql."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pglast
from pglast import ast, enums

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
from policies.sources import ParseError, SourceError, Sources

_ROW_SECURITY = {
    enums.AlterTableType.AT_EnableRowSecurity: ("rls_enabled", True),
    enums.AlterTableType.AT_DisableRowSecurity: ("rls_enabled", False),
    enums.AlterTableType.AT_ForceRowSecurity: ("rls_forced", True),
    enums.AlterTableType.AT_NoForceRowSecurity: ("rls_forced", False),
}
_ROLE_OPTIONS = {"superuser": "superuser", "bypassrls": "bypassrls", "canlogin": "login"}


class _Migration:
    """Reads one file's statements in order, tracking search_path and the current role."""

    def __init__(self, inventory: RlsInventory, path: Path, text: str) -> None:
        self.inv, self.path, self.text = inventory, path, text
        self.schema = "public"
        self.role: str | None = None

    def key(self, rv: ast.RangeVar) -> str:
        return f"{rv.schemaname or self.schema}.{rv.relname}"

    def table(self, rv: ast.RangeVar, loc: Location) -> Table:
        """The table a statement names; one created elsewhere gets a stub with no columns."""
        key = self.key(rv)
        return self.inv.tables.setdefault(key, Table(key, [], loc))

    def at(self, offset: int) -> Location:
        return Location(self.path, self.text[:offset].count("\n") + 1)

    def read(self, raw: ast.RawStmt) -> None:
        stmt, loc = raw.stmt, self.at(raw.stmt_location or 0)
        handler = getattr(self, f"_{type(stmt).__name__}", None)
        if handler is not None:
            handler(stmt, loc)

    def _VariableSetStmt(self, stmt: ast.VariableSetStmt, loc: Location) -> None:
        if stmt.name == "search_path" and stmt.args:
            first = stmt.args[0]
            if isinstance(first, ast.A_Const) and isinstance(first.val, ast.String):
                self.schema = first.val.sval
        elif stmt.name == "role":
            arg = stmt.args[0] if stmt.args else None
            is_name = isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String)
            self.role = arg.val.sval if is_name else None
        elif stmt.kind == enums.VariableSetKind.VAR_RESET and stmt.name == "role":
            self.role = None

    def _CreateStmt(self, stmt: ast.CreateStmt, loc: Location) -> None:
        columns = [e.colname for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
        key = self.key(stmt.relation)
        self.inv.tables[key] = Table(key, columns, loc, owner=self.role)

    def _AlterTableStmt(self, stmt: ast.AlterTableStmt, loc: Location) -> None:
        table = self.table(stmt.relation, loc)
        for cmd in stmt.cmds or ():
            if cmd.subtype in _ROW_SECURITY:
                attr, value = _ROW_SECURITY[cmd.subtype]
                setattr(table, attr, value)
            elif cmd.subtype == enums.AlterTableType.AT_ChangeOwner and cmd.newowner:
                table.owner = cmd.newowner.rolename
            elif cmd.subtype == enums.AlterTableType.AT_AddColumn:
                table.columns.append(cmd.def_.colname)

    def _CreatePolicyStmt(self, stmt: ast.CreatePolicyStmt, loc: Location) -> None:
        roles = [_role_name(r) for r in stmt.roles or ()] or ["public"]
        self.inv.policies.append(
            RowPolicy(
                stmt.policy_name,
                self.table(stmt.table, loc).key,
                stmt.cmd_name or "all",
                bool(stmt.permissive),
                roles,
                stmt.qual,
                stmt.with_check,
                loc,
            )
        )
        for expr in (stmt.qual, stmt.with_check):
            self.inv.setting_reads.extend(setting_reads(expr, loc, self.at))

    def _ViewStmt(self, stmt: ast.ViewStmt, loc: Location) -> None:
        invoker = any(
            o.defname == "security_invoker" and _truthy(o.arg) for o in stmt.options or ()
        )
        relations = [f"{s or self.schema}.{n}" for s, n in referenced_relations(stmt.query)]
        self.inv.views.append(View(self.key(stmt.view), relations, invoker, loc))

    def _CreateFunctionStmt(self, stmt: ast.CreateFunctionStmt, loc: Location) -> None:
        options = {o.defname: o.arg for o in stmt.options or ()}
        body = options.get("as")
        text = " ".join(s.sval for s in body) if isinstance(body, tuple) else ""
        definer = isinstance(options.get("security"), ast.Boolean) and options["security"].boolval
        name = ".".join(s.sval for s in stmt.funcname)
        self.inv.functions.append(Function(name, bool(definer), text, loc))

    def _CreateRoleStmt(self, stmt: ast.CreateRoleStmt, loc: Location) -> None:
        role = self.inv.roles.setdefault(stmt.role, Role(stmt.role, loc))
        _apply_role_options(role, stmt.options)

    def _AlterRoleStmt(self, stmt: ast.AlterRoleStmt, loc: Location) -> None:
        name = _role_name(stmt.role)
        _apply_role_options(self.inv.roles.setdefault(name, Role(name, loc)), stmt.options)

    def _DoStmt(self, stmt: ast.DoStmt, loc: Location) -> None:
        """Idempotent role creation lives in DO blocks: read the CREATE ROLE statements inside."""
        for option in stmt.args or ():
            if option.defname == "as" and isinstance(option.arg, ast.String):
                for line in option.arg.sval.split(";"):
                    if "create role" in line.lower():
                        try:
                            for raw in pglast.parse_sql(line[line.lower().index("create role") :]):
                                self.read(raw)
                        except pglast.parser.ParseError:
                            continue

    def _GrantStmt(self, stmt: ast.GrantStmt, loc: Location) -> None:
        if stmt.objtype != enums.ObjectType.OBJECT_TABLE:
            return
        if stmt.targtype == enums.GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
            schemas = {s.sval for s in stmt.objects or ()}
            tables = [k for k in self.inv.tables if k.split(".")[0] in schemas]
        else:
            tables = [self.key(o) for o in stmt.objects or () if isinstance(o, ast.RangeVar)]
        privileges = {p.priv_name for p in stmt.privileges or ()} or {
            "select",
            "insert",
            "update",
            "delete",
        }
        for table in tables:
            for grantee in (_role_name(g) for g in stmt.grantees or ()):
                granted = self.inv.grants.setdefault(table, {}).setdefault(grantee, set())
                if stmt.is_grant:
                    granted |= privileges
                else:
                    granted -= privileges


def _role_name(spec: Any) -> str:
    if isinstance(spec, ast.RoleSpec) and spec.roletype == enums.RoleSpecType.ROLESPEC_PUBLIC:
        return "public"
    return getattr(spec, "rolename", None) or "public"


def _truthy(arg: Any) -> bool:
    if isinstance(arg, ast.Boolean):
        return bool(arg.boolval)
    if isinstance(arg, ast.String):
        return arg.sval.lower() in ("true", "on", "1")
    return arg is None  # WITH (security_invoker) alone means true


def _apply_role_options(role: Role, options: Any) -> None:
    for option in options or ():
        attr = _ROLE_OPTIONS.get(option.defname)
        if attr:
            setattr(role, attr, _truthy(option.arg) if option.arg is not None else True)


def read_sql(sources: Sources, inventory: RlsInventory, errors: list[ParseError]) -> None:
    """Every *.sql file of the tree, in path order (migrations are numbered)."""
    for path in sources.files(".sql"):
        try:
            text, statements = sources.text(path), sources.sql(path)
        except SourceError as exc:
            errors.append(exc.error)
            continue
        migration = _Migration(inventory, path, text)
        for raw in statements:
            migration.read(raw)
