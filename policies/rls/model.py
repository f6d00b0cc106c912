"""The row-level security inventory both tiers produce (the helpers over pglast expressions are
policies.rls.pgnodes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies.model import Location

COMMANDS = ("select", "insert", "update", "delete")


# The predefined roles that reach outside the database: COPY ... TO/FROM PROGRAM runs a shell
# command as the server's operating-system user, COPY to or from a file reads or writes its files.
SERVER_ACCESS_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")


@dataclass
class Table:
    key: str  # schema.name
    columns: list[str]
    location: Location
    rls_enabled: bool = False
    rls_forced: bool = False
    owner: str | None = None
    references: list[str] = field(default_factory=list)  # tables its foreign keys reference


@dataclass
class RowPolicy:
    name: str
    table: str
    command: str  # all / select / insert / update / delete
    permissive: bool
    roles: list[str]  # "public" for PUBLIC
    using: Any  # pglast expression node or None
    check: Any
    location: Location


@dataclass
class View:
    key: str
    relations: list[str]
    security_invoker: bool
    location: Location
    materialized: bool = False  # a stored snapshot: row-level security never applies to it


@dataclass
class Function:
    name: str
    security_definer: bool
    body: str
    location: Location
    search_path: bool = False  # SET search_path in its options (CREATE or ALTER FUNCTION)


@dataclass
class Role:
    name: str
    location: Location
    superuser: bool = False
    bypassrls: bool = False
    login: bool = False


@dataclass
class Membership:
    """`member` belongs to `role` (GRANT role TO member, CREATE ROLE ... IN ROLE / ROLE);
    `can_set`: the member may SET ROLE to it (false only for GRANT ... WITH SET FALSE)."""

    member: str
    role: str
    location: Location
    can_set: bool = True


@dataclass
class SettingRead:
    """A current_setting() call: its arguments and whether it is read fail-closed (NULLIF(...,
    '') wraps it, or it is compared as text with a constant); `flag`: it sits in an OR-branch
    of its policy that reads no row column (the setting alone decides the branch, as in
    `current_setting('app.bypass_rls', true) = 'on'`)."""

    setting: str
    missing_ok: bool
    fail_closed: bool
    text: str
    location: Location
    flag: bool = False


@dataclass
class ExecutedSql:
    """SQL the application's database code executes (Python AST)."""

    sql: str  # the literal parts, "{}" where a value is interpolated
    built_by: str | None  # f-string / str.format / % formatting / concatenation; None if literal
    location: Location


@dataclass
class UndefinedName:
    name: str
    location: Location


@dataclass
class RlsInventory:
    tables: dict[str, Table] = field(default_factory=dict)
    policies: list[RowPolicy] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    roles: dict[str, Role] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    role_refs: dict[str, Location] = field(default_factory=dict)  # where a role is first named
    grants: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # table -> role -> privs
    setting_reads: list[SettingRead] = field(default_factory=list)
    executed_sql: list[ExecutedSql] = field(default_factory=list)
    undefined_names: list[UndefinedName] = field(default_factory=list)
    app_files: list[str] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)  # ParseError of files that did not parse
    parts: list[RlsInventory] = field(default_factory=list)  # one per migration set, when several
