"""Typed schema changes. Each op owns what it means: its upgrade and downgrade statements
(Alembic calls), its one-line summary, the phrase it lends a revision's default message, and
why it loses data (`loss`), when it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsgen.db.postgres.ddl import (
    add_constraint,
    alter_type,
    create_index,
    create_table,
    default_value,
    drop_constraint,
    execute,
    sa_column,
    where_sql,
)
from dsgen.db.postgres.pysrc import Call, Raw
from dsgen.db.quote import quote_ident


@dataclass(frozen=True)
class Op:
    """One schema change on `table`."""

    table: str

    @property
    def loss(self) -> str | None:
        """Why the change loses data (it then needs --allow-destructive), or None."""
        return None

    def summary(self) -> str:  # pragma: no cover - every op overrides it
        raise NotImplementedError

    def up(self) -> list[Any]:  # pragma: no cover - every op overrides it
        """The upgrade statements (Call nodes, or Raw comment lines)."""
        raise NotImplementedError

    def down(self) -> list[Any]:  # pragma: no cover - every op overrides it
        """The downgrade statements that undo `up`."""
        raise NotImplementedError

    def phrase(self) -> str | None:
        """Its part of a revision's default message (None: it adds nothing)."""
        return None


@dataclass(frozen=True)
class CreateTable(Op):
    state: dict
    deferred: tuple[str, ...] = ()  # FKs added after every new table exists (cycles)

    def summary(self) -> str:
        link = self.state.get("link")
        what = f" (links {link['table']}.{link['field']})" if link else ""
        return f"create table {self.table}{what}"

    def up(self) -> list[Any]:
        return list(create_table(self.table, self.state, self.deferred))

    def down(self) -> list[Any]:
        return [Call("op.drop_table", (self.table,))]

    def phrase(self) -> str | None:
        return None if self.state.get("link") else f"create {self.table}"


@dataclass(frozen=True)
class DropTable(Op):
    state: dict
    deferred: tuple[str, ...] = ()

    @property
    def loss(self) -> str:
        return f"drop table {self.table} (every row is lost)"

    def summary(self) -> str:
        return f"drop table {self.table}"

    def up(self) -> list[Any]:
        return [Call("op.drop_table", (self.table,))]

    def down(self) -> list[Any]:
        return [Raw("# The table comes back empty: its rows were dropped with it."),
                *create_table(self.table, self.state, self.deferred)]

    def phrase(self) -> str | None:
        return None if self.state.get("link") else f"drop {self.table}"


@dataclass(frozen=True)
class RenameTable(Op):
    new: str

    def summary(self) -> str:
        return f"rename table {self.table} -> {self.new}"

    def up(self) -> list[Any]:
        return [Call("op.rename_table", (self.table, self.new))]

    def down(self) -> list[Any]:
        return [Call("op.rename_table", (self.new, self.table))]


@dataclass(frozen=True)
class AddColumn(Op):
    column: dict

    def summary(self) -> str:
        return f"add column {self.table}.{self.column['name']} {_column_sql(self.column)}"

    def up(self) -> list[Any]:
        return [Call("op.add_column", (self.table, sa_column(self.column)))]

    def down(self) -> list[Any]:
        return [Call("op.drop_column", (self.table, self.column["name"]))]

    def phrase(self) -> str | None:
        return f"add {self.column['name']}"


@dataclass(frozen=True)
class DropColumn(Op):
    column: dict

    @property
    def loss(self) -> str:
        return f"drop column {self.table}.{self.column['name']} (its values are lost)"

    def summary(self) -> str:
        return f"drop column {self.table}.{self.column['name']}"

    def up(self) -> list[Any]:
        return [Call("op.drop_column", (self.table, self.column["name"]))]

    def down(self) -> list[Any]:
        return [Raw("# Back as nullable: its values are gone, so existing rows have none."),
                Call("op.add_column", (self.table, sa_column(self.column, nullable=True)))]

    def phrase(self) -> str | None:
        return f"drop {self.column['name']}"


@dataclass(frozen=True)
class RenameColumn(Op):
    column: str
    new: str

    def summary(self) -> str:
        return f"rename column {self.table}.{self.column} -> {self.new}"

    def up(self) -> list[Any]:
        return [Call("op.alter_column", (self.table, self.column),
                     (("new_column_name", self.new),))]

    def down(self) -> list[Any]:
        return [Call("op.alter_column", (self.table, self.new),
                     (("new_column_name", self.column),))]

    def phrase(self) -> str | None:
        return f"rename {self.column} to {self.new}"


@dataclass(frozen=True)
class _AlterColumn(Op):
    column: str

    def phrase(self) -> str | None:
        return f"alter {self.column}"


@dataclass(frozen=True)
class AlterColumnType(_AlterColumn):
    old: str
    new: str
    widening: bool

    @property
    def loss(self) -> str | None:
        if self.widening:
            return None
        return (f"change {self.table}.{self.column} from {self.old} to {self.new} (values "
                "that do not fit are cut or make the upgrade fail)")

    def summary(self) -> str:
        return f"alter column {self.table}.{self.column} type {self.old} -> {self.new}"

    def up(self) -> list[Any]:
        return [alter_type(self.table, self.column, self.old, self.new)]

    def down(self) -> list[Any]:
        return [alter_type(self.table, self.column, self.new, self.old)]


@dataclass(frozen=True)
class AlterColumnDefault(_AlterColumn):
    old: str | None
    new: str | None

    def summary(self) -> str:
        if self.new is None:
            return f"alter column {self.table}.{self.column} drop default"
        return f"alter column {self.table}.{self.column} default {self.new}"

    def up(self) -> list[Any]:
        return [Call("op.alter_column", (self.table, self.column),
                     (("server_default", default_value(self.new)),))]

    def down(self) -> list[Any]:
        return [Call("op.alter_column", (self.table, self.column),
                     (("server_default", default_value(self.old)),))]


@dataclass(frozen=True)
class AlterColumnNullable(_AlterColumn):
    nullable: bool
    fill: str | None = None  # SET NOT NULL first fills NULLs with this SQL value

    def summary(self) -> str:
        if self.nullable:
            return f"alter column {self.table}.{self.column} drop NOT NULL"
        how = (f"NULLs become {self.fill}" if self.fill is not None
               else "fails if a row has no value")
        return f"alter column {self.table}.{self.column} set NOT NULL ({how})"

    def up(self) -> list[Any]:
        calls: list[Any] = []
        if self.fill is not None:
            col = quote_ident(self.column)
            calls.append(execute(f"UPDATE {quote_ident(self.table)} SET {col} = {self.fill} "
                                 f"WHERE {col} IS NULL"))
        return calls + [Call("op.alter_column", (self.table, self.column),
                             (("nullable", self.nullable),))]

    def down(self) -> list[Any]:
        return [Call("op.alter_column", (self.table, self.column),
                     (("nullable", not self.nullable),))]


@dataclass(frozen=True)
class AddConstraint(Op):
    name: str
    definition: dict
    reason: str | None = None  # set when the new constraint may reject rows it used to allow

    @property
    def loss(self) -> str | None:
        return self.reason

    def summary(self) -> str:
        return f"add {_constraint_kind(self.definition)} {self.name} on {self.table}"

    def up(self) -> list[Any]:
        return [add_constraint(self.table, self.name, self.definition)]

    def down(self) -> list[Any]:
        return [drop_constraint(self.table, self.name, self.definition)]

    def phrase(self) -> str | None:
        return f"no overlapping {self.table}" if self.definition["kind"] == "exclude" else None


@dataclass(frozen=True)
class DropConstraint(Op):
    name: str
    definition: dict

    def summary(self) -> str:
        return f"drop {_constraint_kind(self.definition)} {self.name} on {self.table}"

    def up(self) -> list[Any]:
        return [drop_constraint(self.table, self.name, self.definition)]

    def down(self) -> list[Any]:
        return [add_constraint(self.table, self.name, self.definition)]

    def phrase(self) -> str | None:
        if self.definition["kind"] == "exclude":
            return f"allow overlapping {self.table}"
        return None


@dataclass(frozen=True)
class RenameConstraint(Op):
    name: str
    new: str

    def summary(self) -> str:
        return f"rename constraint {self.table}.{self.name} -> {self.new}"

    def up(self) -> list[Any]:
        return [execute(f"ALTER TABLE {quote_ident(self.table)} RENAME CONSTRAINT "
                        f"{quote_ident(self.name)} TO {quote_ident(self.new)}")]

    def down(self) -> list[Any]:
        return RenameConstraint(self.table, self.new, self.name).up()


@dataclass(frozen=True)
class CreateIndex(Op):
    name: str
    definition: dict

    def summary(self) -> str:
        kind = "unique index" if self.definition["unique"] else "index"
        cols = ", ".join(self.definition["columns"])
        where = f" where {where_sql(self.definition['where'])}" if self.definition["where"] \
            else ""
        return f"create {kind} {self.name} on {self.table} ({cols}){where}"

    def up(self) -> list[Any]:
        return [create_index(self.table, self.name, self.definition)]

    def down(self) -> list[Any]:
        return [Call("op.drop_index", (self.name,), (("table_name", self.table),))]

    def phrase(self) -> str | None:
        return f"index {self.table}"


@dataclass(frozen=True)
class DropIndex(Op):
    name: str
    definition: dict

    def summary(self) -> str:
        return f"drop index {self.name} on {self.table}"

    def up(self) -> list[Any]:
        return [Call("op.drop_index", (self.name,), (("table_name", self.table),))]

    def down(self) -> list[Any]:
        return [create_index(self.table, self.name, self.definition)]

    def phrase(self) -> str | None:
        return f"index {self.table}"


@dataclass(frozen=True)
class RenameIndex(Op):
    name: str
    new: str

    def summary(self) -> str:
        return f"rename index {self.name} -> {self.new}"

    def up(self) -> list[Any]:
        return [execute(f"ALTER INDEX {quote_ident(self.name)} RENAME TO "
                        f"{quote_ident(self.new)}")]

    def down(self) -> list[Any]:
        return RenameIndex(self.table, self.new, self.name).up()


@dataclass(frozen=True)
class CreateExtension(Op):
    """A PostgreSQL extension the schema needs (`table` is unused: extensions are global)."""

    name: str

    def summary(self) -> str:
        return f"create extension {self.name}"

    def up(self) -> list[Any]:
        return [execute(f"CREATE EXTENSION IF NOT EXISTS {quote_ident(self.name)}")]

    def down(self) -> list[Any]:
        return DropExtension(self.table, self.name).up()


@dataclass(frozen=True)
class DropExtension(Op):
    name: str

    def summary(self) -> str:
        return f"drop extension {self.name}"

    def up(self) -> list[Any]:
        # Without CASCADE: if something else came to use the extension, this fails loudly.
        return [execute(f"DROP EXTENSION IF EXISTS {quote_ident(self.name)}")]

    def down(self) -> list[Any]:
        return CreateExtension(self.table, self.name).up()


def _constraint_kind(definition: dict) -> str:
    return {"primary_key": "primary key", "foreign_key": "foreign key", "unique": "unique",
            "check": "check", "exclude": "exclusion constraint"}[definition["kind"]]


def _column_sql(column: dict) -> str:
    text = column["type"]
    if not column["nullable"]:
        text += " NOT NULL"
    if column["default"] is not None:
        text += f" DEFAULT {column['default']}"
    return text


def summarize(ops: list[Op]) -> list[str]:
    """One line per op, for the CLI; destructive steps are marked."""
    return [op.summary() + ("  [destructive]" if op.loss else "") for op in ops]


def render_up(op: Op) -> list[Any]:
    return op.up()


def render_down(op: Op) -> list[Any]:
    return op.down()
