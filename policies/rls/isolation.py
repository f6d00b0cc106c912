"""RLS-020: user isolation on a live database, as generated scenarios (hypothesis).

A scenario is users, their rows (private or public) and a sequence of operations by one user
on the others' rows. Each runs in one transaction that is rolled back, on a connection that may
SET ROLE to the app and service roles. The expected outcome of each operation is exact: a
foreign row is never visible unless public, never updated or deleted (0 rows), never inserted
or stolen (error 42501); where the role lacks the privilege, 42501 is the expected answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from hypothesis import strategies as st
from psycopg import sql

import policies.hypothesis_profiles  # noqa: F401 - registers `default` and `long`

OPERATIONS = (
    "read",
    "update_other",
    "delete_other",
    "insert_as_other",
    "steal_own",
    "update_own",
    "read_unset",
    "insert_unset",
)
DENIED = "42501"


@dataclass(frozen=True)
class Op:
    kind: str
    actor: int
    table: str
    target: int


@dataclass(frozen=True)
class Scenario:
    users: list[uuid.UUID]
    rows: list[tuple[int, str, bool]]  # (owner index, table, public)
    ops: list[Op]


@dataclass
class Row:
    table: str
    id: Any
    owner: uuid.UUID
    public: bool


def scenarios(params: dict[str, Any]) -> st.SearchStrategy[Scenario]:
    row_tables = [t["name"] for t in (*params["tables"], *params["service_tables"])]
    op_tables = [params["user_table"]["name"], *row_tables]

    @st.composite
    def build(draw: st.DrawFn) -> Scenario:
        users = draw(st.lists(st.uuids(), min_size=2, max_size=4, unique=True))
        owner = st.integers(0, len(users) - 1)
        rows = draw(
            st.lists(
                st.tuples(owner, st.sampled_from(row_tables), st.booleans()),
                min_size=1,
                max_size=10,
            )
        )
        ops = draw(
            st.lists(
                st.builds(
                    Op,
                    st.sampled_from(OPERATIONS),
                    owner,
                    st.sampled_from(op_tables),
                    st.integers(0, 63),
                ),
                min_size=1,
                max_size=8,
            )
        )
        return Scenario(users, rows, ops)

    return build()


class _Run:
    def __init__(self, conn: psycopg.Connection, params: dict[str, Any], role: str) -> None:
        self.conn, self.params, self.role = conn, params, role
        specs = [params["user_table"], *params["tables"], *params["service_tables"]]
        self.specs = {s["name"]: s for s in specs}
        self.rows: list[Row] = []
        self.violations: list[str] = []

    def table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.params["schema"]), sql.Identifier(name))

    def act_as(self, user: uuid.UUID | None, role: str | None = None) -> None:
        self.conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role or self.role)))
        self.conn.execute(
            "SELECT set_config(%s, %s, true)", (self.params["setting"], str(user) if user else "")
        )

    def attempt(self, query: sql.Composable, args: tuple[Any, ...]) -> tuple[str, Any]:
        """("rows", rowcount or fetched rows) or ("error", SQLSTATE), inside a savepoint."""
        try:
            with self.conn.transaction():
                cur = self.conn.execute(query, args)
                return "rows", cur.fetchall() if cur.description else cur.rowcount
        except psycopg.Error as exc:
            return "error", exc.sqlstate

    def insert(self, table: str, owner: uuid.UUID, public: bool) -> tuple[str, Any]:
        query, values = insert_row(self.params["schema"], self.specs[table], owner, public)
        return self.attempt(query, values)

    def privilege(self, table: str, command: str) -> bool:
        """Whether the role may run the command at all (UPDATE: on the owner column)."""
        name = f"{self.params['schema']}.{table}"
        if command == "UPDATE":
            column = self.specs[table]["owner_column"]
            query = "SELECT has_column_privilege(%s, %s, %s, 'UPDATE')"
            args: tuple[str, ...] = (self.role, name, column)
        elif command == "DELETE":
            query, args = "SELECT has_table_privilege(%s, %s, 'DELETE')", (self.role, name)
        else:
            query, args = "SELECT has_any_column_privilege(%s, %s, %s)", (self.role, name, command)
        return bool(self.conn.execute(query, args).fetchone()[0])

    def expect(self, what: str, got: tuple[str, Any], allowed: tuple[str, Any]) -> None:
        if got != allowed:
            self.violations.append(f"{what}: expected {_show(allowed)}, got {_show(got)}")


def insert_row(
    schema: str, spec: dict[str, Any], owner: uuid.UUID, public: bool
) -> tuple[sql.Composed, tuple[Any, ...]]:
    """An INSERT ... RETURNING id of one row of a table spec (owner column, public column,
    values for the other NOT NULL columns, "{uuid}" replaced by a fresh one) and its values."""
    values: dict[str, Any] = {
        k: str(uuid.uuid4())
        if v == "{uuid}"
        else str(v).replace("{uuid}", str(uuid.uuid4()))
        if isinstance(v, str)
        else v
        for k, v in spec.get("values", {}).items()
    }
    values[spec["owner_column"]] = owner
    if spec.get("public_column"):
        values[spec["public_column"]] = public
    query = sql.SQL("INSERT INTO {}.{} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(schema),
        sql.Identifier(spec["name"]),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    return query, tuple(values.values())


def _show(outcome: tuple[str, Any]) -> str:
    kind, value = outcome
    return f"error {value}" if kind == "error" else f"{value} row(s)"


def run_scenario(
    conn: psycopg.Connection, params: dict[str, Any], scenario: Scenario, role: str
) -> list[str]:
    """The isolation violations a scenario exposes (empty when the database isolates users)."""
    run = _Run(conn, params, role)
    users = scenario.users
    user_table = params["user_table"]["name"]
    with conn.transaction(force_rollback=True):
        for user in users:
            run.act_as(user)
            outcome = run.insert(user_table, user, False)
            if outcome[0] == "error":
                return [
                    f"setup: user {user} cannot create their own {user_table} row: {_show(outcome)}"
                ]
            run.rows.append(Row(user_table, user, user, False))
        service = {t["name"] for t in params["service_tables"]}
        for owner, table, public in scenario.rows:
            run.act_as(users[owner], params["service_role"] if table in service else None)
            outcome = run.insert(table, users[owner], public)
            if outcome[0] == "error":
                return [f"setup: {users[owner]} cannot insert an own {table} row: {_show(outcome)}"]
            public = public and bool(run.specs[table].get("public_column"))
            run.rows.append(Row(table, outcome[1][0][0], users[owner], public))
        for op in scenario.ops:
            _operate(run, op, users)
    return run.violations


def _operate(run: _Run, op: Op, users: list[uuid.UUID]) -> None:
    actor = users[op.actor]
    others = [r for r in run.rows if r.table == op.table and r.owner != actor]
    own = [r for r in run.rows if r.table == op.table and r.owner == actor]
    other_user = next(u for u in users if u != actor)
    spec = run.specs[op.table]
    t, owner_col = run.table(op.table), sql.Identifier(spec["owner_column"])
    who = f"{op.kind} by {actor} on {op.table}"
    if op.kind in ("read", "read_unset"):
        run.act_as(None if op.kind == "read_unset" else actor)
        ids = [r.id for r in run.rows if r.table == op.table]
        got = run.attempt(sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(t), (ids,))
        if got[0] == "error":
            if run.privilege(op.table, "SELECT"):
                run.violations.append(f"{who}: {_show(got)} despite the SELECT privilege")
            return
        visible = {row[0] for row in got[1]}
        allowed = {
            r.id
            for r in run.rows
            if r.table == op.table and (r.public or (op.kind == "read" and r.owner == actor))
        }
        leaked = [r for r in run.rows if r.id in visible - allowed]
        for r in leaked:
            run.violations.append(
                f"{who}: sees {'public' if r.public else 'private'} row {r.id} of {r.owner}"
            )
        if missing := allowed - visible:
            shown = sorted(map(str, missing))
            run.violations.append(f"{who}: own or public rows {shown} invisible")
    elif op.kind in ("update_other", "delete_other") and others:
        target = others[op.target % len(others)]
        run.act_as(actor)
        if op.kind == "update_other":
            command = "UPDATE"
            query = sql.SQL("UPDATE {} SET {} = {} WHERE id = %s").format(t, owner_col, owner_col)
        else:
            command = "DELETE"
            query = sql.SQL("DELETE FROM {} WHERE id = %s").format(t)
        allowed = ("rows", 0) if run.privilege(op.table, command) else ("error", DENIED)
        run.expect(
            f"{who} row {target.id} of {target.owner}", run.attempt(query, (target.id,)), allowed
        )
    elif op.kind in ("insert_as_other", "insert_unset"):
        if op.table == run.params["user_table"]["name"]:
            return  # a user row is its own owner: covered by setup and steal_own
        run.act_as(None if op.kind == "insert_unset" else actor)
        owner = actor if op.kind == "insert_unset" else other_user
        run.expect(f"{who} for {owner}", run.insert(op.table, owner, False), ("error", DENIED))
    elif op.kind in ("steal_own", "update_own") and own:
        target = own[op.target % len(own)]
        run.act_as(actor)
        value = other_user if op.kind == "steal_own" else actor
        if op.table == run.params["user_table"]["name"] and op.kind == "steal_own":
            value = uuid.uuid4()
        query = sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(t, owner_col)
        may = run.privilege(op.table, "UPDATE")
        allowed = ("error", DENIED) if op.kind == "steal_own" or not may else ("rows", 1)
        run.expect(f"{who} row {target.id}", run.attempt(query, (value, target.id)), allowed)
