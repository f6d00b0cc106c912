"""SQL migrations (pglast) -> RlsInventory. Files are found by content: anything named *.sql."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pglast
from pglast import ast, enums

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
from policies.rls.pgnodes import referenced_relations, setting_reads, walk
from policies.sources import ParseError, SourceError, Sources

_ROW_SECURITY = {
    enums.AlterTableType.AT_EnableRowSecurity: ("rls_enabled", True),
    enums.AlterTableType.AT_DisableRowSecurity: ("rls_enabled", False),
    enums.AlterTableType.AT_ForceRowSecurity: ("rls_forced", True),
    enums.AlterTableType.AT_NoForceRowSecurity: ("rls_forced", False),
}
_ROLE_OPTIONS = {"superuser": "superuser", "bypassrls": "bypassrls", "canlogin": "login"}
# CREATE ROLE x IN ROLE y: x joins y; ROLE z / ADMIN w: z and w join x
_JOINS = {"addroleto": True, "rolemembers": False, "adminmembers": False}


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

    def read(self, raw: ast.RawStmt, base: int = 0) -> None:
        """One statement; `base`: where the text it was parsed from starts in the file."""
        stmt, loc = raw.stmt, self.at(base + (raw.stmt_location or 0))
        handler = getattr(self, f"_{type(stmt).__name__}", None)
        if handler is not None:
            handler(stmt, loc)

    def named(self, role: str, loc: Location) -> None:
        """Where a role is first named (a grant, a policy, an owner), for findings about it."""
        if role != "public":
            self.inv.role_refs.setdefault(role, loc)

    def function(self, parts: Any) -> str:
        names = [s.sval for s in parts or () if isinstance(s, ast.String)]
        return ".".join(names if len(names) > 1 else [self.schema, *names])

    def _VariableSetStmt(self, stmt: ast.VariableSetStmt, loc: Location) -> None:
        if stmt.name == "search_path" and stmt.args:
            first = stmt.args[0]
            if isinstance(first, ast.A_Const) and isinstance(first.val, ast.String):
                self.schema = first.val.sval
        elif stmt.name == "role":
            arg = stmt.args[0] if stmt.args else None
            is_name = isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String)
            self.role = arg.val.sval if is_name else None
            if self.role:
                self.named(self.role, loc)
        elif stmt.kind == enums.VariableSetKind.VAR_RESET and stmt.name == "role":
            self.role = None

    def _CreateStmt(self, stmt: ast.CreateStmt, loc: Location) -> None:
        columns = [e.colname for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
        key = self.key(stmt.relation)
        table = Table(key, columns, loc, owner=self.role)
        table.references = self.references(stmt.tableElts)
        self.inv.tables[key] = table

    def references(self, elements: Any) -> list[str]:
        """Tables the foreign keys among table elements (columns' and the table's) reference."""
        return [
            self.key(node.pktable)
            for node, _ in walk(elements)
            if isinstance(node, ast.Constraint)
            and node.contype == enums.ConstrType.CONSTR_FOREIGN
            and isinstance(node.pktable, ast.RangeVar)
        ]

    def _AlterTableStmt(self, stmt: ast.AlterTableStmt, loc: Location) -> None:
        table = self.table(stmt.relation, loc)
        for cmd in stmt.cmds or ():
            if cmd.subtype in _ROW_SECURITY:
                attr, value = _ROW_SECURITY[cmd.subtype]
                setattr(table, attr, value)
            elif cmd.subtype == enums.AlterTableType.AT_ChangeOwner and cmd.newowner:
                table.owner = cmd.newowner.rolename
                self.named(_role_name(cmd.newowner), loc)
            elif cmd.subtype == enums.AlterTableType.AT_AddColumn:
                table.columns.append(cmd.def_.colname)
                table.references += self.references(cmd.def_)
            elif cmd.subtype == enums.AlterTableType.AT_AddConstraint:
                table.references += self.references(cmd.def_)

    def _CreatePolicyStmt(self, stmt: ast.CreatePolicyStmt, loc: Location) -> None:
        roles = [_role_name(r) for r in stmt.roles or ()] or ["public"]
        for role in roles:
            self.named(role, loc)
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

    def _CreateTableAsStmt(self, stmt: ast.CreateTableAsStmt, loc: Location) -> None:
        if stmt.objtype != enums.ObjectType.OBJECT_MATVIEW or stmt.into is None:
            return
        relations = [f"{s or self.schema}.{n}" for s, n in referenced_relations(stmt.query)]
        view = View(self.key(stmt.into.rel), relations, False, loc, materialized=True)
        self.inv.views.append(view)

    def _CreateFunctionStmt(self, stmt: ast.CreateFunctionStmt, loc: Location) -> None:
        options = {o.defname: o.arg for o in stmt.options or ()}
        body = options.get("as")
        text = " ".join(s.sval for s in body) if isinstance(body, tuple) else ""
        function = Function(self.function(stmt.funcname), False, text, loc)
        _apply_function_options(function, stmt.options)
        self.inv.functions.append(function)

    def _AlterFunctionStmt(self, stmt: ast.AlterFunctionStmt, loc: Location) -> None:
        """ALTER FUNCTION ... SECURITY DEFINER / SET search_path: every overload of the name."""
        name = self.function(getattr(stmt.func, "objname", None))
        for function in self.inv.functions:
            if function.name == name:
                _apply_function_options(function, stmt.actions)

    def _CreateRoleStmt(self, stmt: ast.CreateRoleStmt, loc: Location) -> None:
        role = self.inv.roles.setdefault(stmt.role, Role(stmt.role, loc))
        role.login = role.login or stmt.stmt_type == enums.RoleStmtType.ROLESTMT_USER
        _apply_role_options(role, stmt.options, loc)
        for option in stmt.options or ():
            if option.defname in _JOINS and isinstance(option.arg, tuple):
                others = [_role_name(r) for r in option.arg]
                if _JOINS[option.defname]:
                    self.join([stmt.role], others, True, True, loc)
                else:
                    self.join(others, [stmt.role], True, True, loc)

    def _AlterRoleStmt(self, stmt: ast.AlterRoleStmt, loc: Location) -> None:
        name = _role_name(stmt.role)
        role = self.inv.roles.setdefault(name, Role(name, loc))
        _apply_role_options(role, stmt.options, loc)
        for option in stmt.options or ():  # ALTER GROUP name ADD / DROP USER members
            if option.defname == "rolemembers" and isinstance(option.arg, tuple):
                members = [_role_name(r) for r in option.arg]
                self.join(members, [name], stmt.action == 1, True, loc)

    def _GrantRoleStmt(self, stmt: ast.GrantRoleStmt, loc: Location) -> None:
        """GRANT role TO member [WITH SET FALSE]; REVOKE role FROM member."""
        groups = [p.priv_name for p in stmt.granted_roles or () if isinstance(p, ast.AccessPriv)]
        members = [_role_name(r) for r in stmt.grantee_roles or ()]
        options = {o.defname: o.arg for o in stmt.opt or () if isinstance(o, ast.DefElem)}
        can_set = "set" not in options or _truthy(options["set"])
        self.join(members, [g for g in groups if g], bool(stmt.is_grant), can_set, loc)

    def join(
        self, members: list[str], groups: list[str], grant: bool, can_set: bool, loc: Location
    ) -> None:
        """Record (or, revoked, remove) the membership of each member in each group."""
        for member in members:
            self.named(member, loc)
            for group in groups:
                self.inv.memberships[:] = [
                    m for m in self.inv.memberships if (m.member, m.role) != (member, group)
                ]
                if grant:
                    self.inv.memberships.append(Membership(member, group, loc, can_set))

    def _DoStmt(self, stmt: ast.DoStmt, loc: Location) -> None:
        """Idempotent role creation lives in DO blocks: read the CREATE ROLE and GRANT role
        statements inside (at their own lines: the body's offset in the file, then the
        statement's in the body)."""
        for option in stmt.args or ():
            if option.defname == "as" and isinstance(option.arg, ast.String):
                body = option.arg.sval
                start = max(self.text.find(body, self.offset(loc)), 0)
                offset = 0
                for line in body.split(";"):
                    for keyword, kind in (("create role", ast.CreateRoleStmt), ("grant ", None)):
                        at = line.lower().find(keyword)
                        if at < 0:
                            continue
                        try:
                            parsed = pglast.parse_sql(line[at:])
                        except pglast.parser.ParseError:
                            continue
                        for raw in parsed:
                            if isinstance(raw.stmt, kind or ast.GrantRoleStmt):
                                self.read(raw, start + offset + at)
                    offset += len(line) + 1

    def offset(self, loc: Location) -> int:
        """The file offset where a location's line starts."""
        lines = self.text.split("\n")[: (loc.line or 1) - 1]
        return sum(len(line) + 1 for line in lines)

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
                self.named(grantee, loc)
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


def _apply_role_options(role: Role, options: Any, loc: Location) -> None:
    """Role attributes; a role given SUPERUSER or BYPASSRLS is located where that happens."""
    for option in options or ():
        attr = _ROLE_OPTIONS.get(option.defname)
        if attr:
            value = _truthy(option.arg) if option.arg is not None else True
            setattr(role, attr, value)
            if value and attr != "login":
                role.location = loc


def _apply_function_options(function: Function, options: Any) -> None:
    """SECURITY DEFINER / INVOKER and SET / RESET search_path of CREATE or ALTER FUNCTION."""
    for option in options or ():
        if option.defname == "security" and isinstance(option.arg, ast.Boolean):
            function.security_definer = bool(option.arg.boolval)
        elif option.defname == "set" and isinstance(option.arg, ast.VariableSetStmt):
            if option.arg.name == "search_path":
                function.search_path = option.arg.kind != enums.VariableSetKind.VAR_RESET
            elif option.arg.kind == enums.VariableSetKind.VAR_RESET_ALL:
                function.search_path = False


_DOWN = re.compile(r"^--\s*(\+goose\s+Down|migrate:down)\b", re.M | re.I)


def read_sql(
    sources: Sources, files: tuple[Path, ...], inventory: RlsInventory, errors: list[ParseError]
) -> None:
    """A migration set's files in order, each its own session; a psql script's includes are
    read in place, in the script's session (search_path and role carry over); each file once,
    up to its down section (goose `-- +goose Down`, dbmate `-- migrate:down`)."""
    done: set[Path] = set()
    session: _Migration | None = None

    def read(path: Path) -> None:
        nonlocal session
        if path in done:
            return
        done.add(path)
        try:
            text, statements = sources.text(path), list(sources.sql(path))
            includes = sources.psql_includes(path)
        except SourceError as exc:
            errors.append(exc.error)
            return
        down = _DOWN.search(text)  # goose / dbmate: the rest of the file undoes the migration
        if down is not None:
            statements = [s for s in statements if (s.stmt_location or 0) < down.start()]
        migration = _Migration(inventory, path, text)
        if session is not None:
            migration.schema, migration.role = session.schema, session.role
        for include in includes:
            while statements and migration.at(statements[0].stmt_location or 0).line < include.line:
                migration.read(statements.pop(0))
            session = migration
            for included in include.files:
                read(included)
            migration.schema, migration.role = session.schema, session.role
        for raw in statements:
            migration.read(raw)
        session = migration

    for path in files:
        session = None
        read(path)
