"""PostgreSQL DDL of structured definitions: SQL text, and the Alembic calls that make them."""

from __future__ import annotations

import re
from typing import Any

from dsgen.db.postgres.pysrc import Call, Raw
from dsgen.db.quote import quote_ident, quote_literal, sql_literal

VARCHAR = re.compile(r"^varchar\((\d+)\)$")


def check_sql(check: dict) -> str:
    col = quote_ident(check["column"])
    if check["check"] == "values":
        return f"{col} IN ({', '.join(quote_literal(v) for v in check['values'])})"
    subject = col if check["check"] == "range" else f"char_length({col})"
    parts = []
    if check.get("min") is not None:
        parts.append(f"{subject} >= {sql_literal(check['min'])}")
    if check.get("max") is not None:
        parts.append(f"{subject} <= {sql_literal(check['max'])}")
    return " AND ".join(parts)


def where_sql(where: list) -> str:
    # "NULL" / "NOT NULL" are sentinels: a constant is always a quoted or numeric literal.
    return " AND ".join(
        f"{quote_ident(c)} IS NULL" if v == "NULL" else
        f"{quote_ident(c)} IS NOT NULL" if v == "NOT NULL" else f"{quote_ident(c)} = {v}"
        for c, v in where)


def exclude_sql(d: dict) -> str:
    """`EXCLUDE USING gist (...)` of an exclusion constraint definition."""
    items = [f"{quote_ident(c)} WITH =" for c in d["columns"]]
    start, end = (quote_ident(c) for c in d["range"])
    items.append(f"{d['range_type']}({start}, {end}, {quote_literal(d['bounds'])}) WITH &&")
    sql = f"EXCLUDE USING {d['using']} ({', '.join(items)})"
    return sql + (f" WHERE ({where_sql(d['where'])})" if d["where"] else "")


def text_sql(sql: str) -> str:
    """SQL for sa.text(): a colon that would read as a bind parameter is escaped."""
    return re.sub(r"(?<![:\w\\]):(?=\w)", r"\\:", sql)


def sa_type(sql: str) -> Raw:
    length = VARCHAR.match(sql)
    if length:
        return Raw(f"sa.String({length.group(1)})")
    return Raw({
        "text": "sa.Text()", "uuid": "sa.Uuid()", "integer": "sa.Integer()",
        "smallint": "sa.SmallInteger()", "bigint": "sa.BigInteger()",
        "double precision": "sa.Double()", "numeric": "sa.Numeric()",
        "boolean": "sa.Boolean()", "date": "sa.Date()",
        "timestamptz": "sa.DateTime(timezone=True)", "jsonb": "postgresql.JSONB()",
    }[sql])


def text(sql: str) -> Call:
    return Call("sa.text", (text_sql(sql),))


def sa_column(column: dict, nullable: bool | None = None) -> Call:
    kwargs: list[tuple[str, Any]] = []
    if column["default"] is not None:
        kwargs.append(("server_default", text(column["default"])))
    kwargs.append(("nullable", column["nullable"] if nullable is None else nullable))
    return Call("sa.Column", (column["name"], sa_type(column["type"])), tuple(kwargs))


def sa_constraint(name: str, d: dict) -> Call:
    if d["kind"] == "primary_key":
        return Call("sa.PrimaryKeyConstraint", tuple(d["columns"]), (("name", name),))
    if d["kind"] == "unique":
        return Call("sa.UniqueConstraint", tuple(d["columns"]), (("name", name),))
    if d["kind"] == "check":
        return Call("sa.CheckConstraint", (text_sql(check_sql(d)),), (("name", name),))
    refs = [f"{d['ref_table']}.{c}" for c in d["ref_columns"]]
    return Call("sa.ForeignKeyConstraint", (list(d["columns"]), refs),
                (("name", name), ("ondelete", d["ondelete"])))


def create_index(table: str, name: str, d: dict) -> Call:
    kwargs: list[tuple[str, Any]] = []
    if d["unique"]:
        kwargs.append(("unique", True))
    if d["where"]:
        kwargs.append(("postgresql_where", text(where_sql(d["where"]))))
    # Pattern indexes (see PatternSchema.add_index): access method, opclasses, expressions.
    if d.get("using"):
        kwargs.append(("postgresql_using", d["using"]))
    if d.get("ops"):
        kwargs.append(("postgresql_ops", dict(sorted(d["ops"].items()))))
    keys = d.get("keys", {})
    columns = [text(f"COALESCE({quote_ident(c)}::text, '')") if keys.get(c) == "coalesce_text"
               else c for c in d["columns"]]
    return Call("op.create_index", (name, table, columns), tuple(kwargs))


def add_constraint(table: str, name: str, d: dict) -> Call:
    if d["kind"] == "primary_key":
        return Call("op.create_primary_key", (name, table, list(d["columns"])))
    if d["kind"] == "unique":
        return Call("op.create_unique_constraint", (name, table, list(d["columns"])))
    if d["kind"] == "check":
        return Call("op.create_check_constraint", (name, table, text_sql(check_sql(d))))
    if d["kind"] == "exclude":
        return execute(f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} "
                        f"{exclude_sql(d)}")
    return Call("op.create_foreign_key",
                (name, table, d["ref_table"], list(d["columns"]), list(d["ref_columns"])),
                (("ondelete", d["ondelete"]),))


DROP_TYPE = {"primary_key": "primary", "unique": "unique", "check": "check",
              "foreign_key": "foreignkey"}


def drop_constraint(table: str, name: str, d: dict) -> Call:
    if d["kind"] not in DROP_TYPE:  # an exclusion constraint: no type_ is needed
        return Call("op.drop_constraint", (name, table))
    return Call("op.drop_constraint", (name, table), (("type_", DROP_TYPE[d["kind"]]),))


def create_table(table: str, state: dict, deferred: tuple[str, ...]) -> list[Call]:
    items: list[Any] = [table]
    items += [sa_column(c) for c in state["columns"]]
    for kind in ("primary_key", "unique", "check", "foreign_key"):
        for name in sorted(state["constraints"]):
            d = state["constraints"][name]
            if d["kind"] == kind and name not in deferred:
                items.append(sa_constraint(name, d))
    calls = [Call("op.create_table", tuple(items))]
    # Exclusion constraints have no SQLAlchemy construct Alembic renders plainly: SQL text.
    calls += [add_constraint(table, n, d) for n, d in sorted(state["constraints"].items())
              if d["kind"] == "exclude"]
    return calls + [create_index(table, n, d) for n, d in sorted(state["indexes"].items())]


def using(column: str, new: str) -> str:
    # Into varchar(n) the value goes through text, so a too-long value fails the upgrade
    # (assignment cast) instead of being cut silently (an explicit ::varchar(n) cast).
    target = "text" if VARCHAR.match(new) else new
    return f"{quote_ident(column)}::{target}"


def alter_type(table: str, column: str, old: str, new: str) -> Call:
    return Call("op.alter_column", (table, column), (
        ("type_", sa_type(new)), ("existing_type", sa_type(old)),
        ("postgresql_using", using(column, new))))


def default_value(sql: str | None) -> Any:
    return text(sql) if sql is not None else None


def execute(sql: str) -> Call:
    return Call("op.execute", (text_sql(sql),))
