"""The migration emitter behind `dsgen db`: spec -> schema state -> diff -> Alembic revision."""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from dsgen._errors import DsgenError
from dsgen._model import NOW, Backend, Field, FieldType, Spec, Store
from dsgen._names import Name

STATE_VERSION = 1
STATE_CONSTANT = "DSGEN_STATE"
VERSIONS_DIR = "migrations/versions"
MAX_IDENTIFIER = 63  # bytes; PostgreSQL silently truncates longer names
WIDTH = 100  # the generated project's ruff line length

IMPLICIT_COLUMNS = ("id", "created_at", "updated_at")


# -- errors ---------------------------------------------------------------------------------


class MigrationError(DsgenError):
    """A migration cannot be planned (unreadable history, unsupported change)."""

    exit_code = 1


class MigrationRefusedError(MigrationError):
    """The spec asks for a change that no migration can make safely as written."""

    def __init__(self, problems: list[str], losses: list[str] | None = None):
        self.problems = problems
        self.losses = losses or []  # reported together, so one run shows everything to fix
        text = "cannot write this migration; nothing was written:\n" + "\n".join(
            f"  - {p}" for p in problems)
        if self.losses:
            text += "\nand these steps lose data (they need --allow-destructive):\n" + \
                "\n".join(f"  - {step}" for step in self.losses)
        super().__init__(text)


class DestructiveMigrationError(MigrationError):
    """The migration would lose data; it is emitted only with --allow-destructive."""

    def __init__(self, steps: list[str]):
        self.steps = steps
        lines = "\n".join(f"  - {s}" for s in steps)
        super().__init__(
            f"this migration would lose data; nothing was written:\n{lines}\n"
            "back up the database, then re-run with --allow-destructive to emit it anyway"
        )


# -- names ----------------------------------------------------------------------------------


def identifier(name: str) -> str:
    """A constraint or index name that fits PostgreSQL's 63 bytes, deterministically.

    Longer names are cut and suffixed with a hash of the full name, so two long names that
    share a prefix do not collide the way PostgreSQL's own truncation would make them.
    """
    raw = name.encode()
    if len(raw) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(raw).hexdigest()[:8]
    return raw[: MAX_IDENTIFIER - 9].decode(errors="ignore").rstrip("_") + "_" + digest


def link_table(store: Store, field: Field) -> str:
    """The table holding a many-ref: `<store>_<field>` (deal.contacts -> deal_contacts)."""
    return f"{store.name.snake}_{field.name.snake}"


def link_columns(store: Store, field: Field) -> tuple[str, str]:
    """(owner column, target column) of a many-ref's link table.

    `<store>_id` and `<field>_id`; when they would be the same (store `task`, field `task`)
    the target column becomes `<field>_ref_id`.
    """
    owner = f"{store.name.snake}_id"
    target = f"{field.name.snake}_id"
    if target == owner:
        target = f"{field.name.snake}_ref_id"
    return owner, target


# -- schema state ---------------------------------------------------------------------------
#
# The state is plain JSON: {"dsgen_state": 1, "tables": {table: {...}}}. A table holds
# `columns` (ordered list of {name, type, nullable, default}), `constraints` and `indexes`
# (maps name -> structured definition), `store` or `link` (what it comes from) and `realtime`.
# Constraint and where-clause definitions stay structured (column names, values) rather than
# SQL text, so a column rename can be followed through them exactly.


def _literal(value: Any) -> str:
    """A constant as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'"
        if math.isinf(value):
            return "'Infinity'" if value > 0 else "'-Infinity'"
        return repr(value)
    if isinstance(value, (date, datetime)):
        return _quote_literal(value.isoformat())
    return _quote_literal(str(value))


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_type(field: Field) -> str:
    """The PostgreSQL type of a (single-valued) field's column."""
    t = field.type
    if t is FieldType.STRING:
        return f"varchar({int(field.max)})" if field.max is not None else "text"
    if t is FieldType.EMAIL:
        return f"varchar({int(field.max) if field.max is not None else 320})"
    return {
        FieldType.TEXT: "text",
        FieldType.URL: "text",
        FieldType.INT: "integer",
        FieldType.FLOAT: "double precision",
        FieldType.DECIMAL: "numeric",
        FieldType.BOOL: "boolean",
        FieldType.DATE: "date",
        FieldType.DATETIME: "timestamptz",
        FieldType.ENUM: "text",
        FieldType.JSON: "jsonb",
        FieldType.UUID: "uuid",
        FieldType.REF: "uuid",
    }[t]


def _default_sql(field: Field) -> str | None:
    if field.default == NOW:
        return "CURRENT_DATE" if field.type is FieldType.DATE else "now()"
    if field.default is None:
        return "false" if field.type is FieldType.BOOL else None
    if field.type is FieldType.JSON:
        return _quote_literal(json.dumps(field.default, sort_keys=True)) + "::jsonb"
    if field.type is FieldType.UUID:
        return _literal(field.default) + "::uuid"
    return _literal(field.default)


def _column(name: str, type_: str, nullable: bool, default: str | None) -> dict:
    return {"name": name, "type": type_, "nullable": nullable, "default": default}


def _store_table(store: Store) -> dict:
    table = store.name.table
    declared = {f.name.snake: f for f in store.fields}
    columns: list[dict] = []
    constraints: dict[str, dict] = {}
    indexes: dict[str, dict] = {}

    def implicit(name: str, type_: str, default: str) -> dict:
        field = declared.get(name)
        own = _default_sql(field) if field is not None else None
        return _column(name, type_, False, own or default)

    columns.append(implicit("id", "uuid", "uuidv7()"))
    constraints[identifier(f"pk_{table}")] = {"kind": "primary_key", "columns": ["id"]}
    for f in store.fields:
        col = f.name.snake
        if f.type is FieldType.REF and f.many:
            continue
        if col in ("created_at", "updated_at"):
            columns.append(implicit(col, "timestamptz", "now()"))
        elif col != "id":
            nullable = not f.required and f.type is not FieldType.BOOL
            columns.append(_column(col, sql_type(f), nullable, _default_sql(f)))
        if f.unique and col != "id":
            constraints[identifier(f"uq_{table}_{col}")] = {"kind": "unique", "columns": [col]}
        if f.type is FieldType.ENUM:
            constraints[identifier(f"ck_{table}_{col}_values")] = {
                "kind": "check", "check": "values", "column": col, "values": list(f.values)}
        numeric = f.type in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL)
        if numeric and (f.min is not None or f.max is not None):
            constraints[identifier(f"ck_{table}_{col}_range")] = {
                "kind": "check", "check": "range", "column": col, "min": f.min, "max": f.max}
        if not numeric and (f.min is not None or f.max is not None):
            # string/email carry their max in varchar(n); text and url need a CHECK for it.
            upper = f.max if f.type in (FieldType.TEXT, FieldType.URL) else None
            if f.min is not None or upper is not None:
                constraints[identifier(f"ck_{table}_{col}_length")] = {
                    "kind": "check", "check": "length", "column": col, "min": f.min,
                    "max": upper}
        if f.type is FieldType.REF:
            target = Name(f.store or "").table
            constraints[identifier(f"fk_{table}_{col}")] = {
                "kind": "foreign_key", "columns": [col], "ref_table": target,
                "ref_columns": ["id"], "ondelete": "RESTRICT" if f.required else "SET NULL"}
            indexes[identifier(f"ix_{table}_{col}")] = {
                "columns": [col], "unique": False, "where": []}
    for name, default in (("created_at", "now()"), ("updated_at", "now()")):
        if name not in declared:
            columns.append(_column(name, "timestamptz", False, default))
    for index in store.indexes:
        cols = list(index.fields)
        where = [[c, _literal(v)] for c, v in index.partial]
        base = f"{'uq' if index.unique else 'ix'}_{table}_{'_'.join(cols)}"
        if where:
            base += "_where_" + "_".join(c for c, _ in where)
        definition = {"columns": cols, "unique": index.unique, "where": where}
        name = identifier(base)
        if indexes.get(name) == definition or (
                not where and index.unique and constraints.get(name) ==
                {"kind": "unique", "columns": cols}):
            continue  # the same index exists already (a ref's index, a unique field)
        if name in indexes or name in constraints:
            digest = hashlib.sha1(json.dumps(definition, sort_keys=True).encode()).hexdigest()
            name = identifier(f"{base}_{digest[:8]}")
        indexes[name] = definition
    # Realtime plumbing seam: the flag is recorded and nothing is derived from it yet. The
    # event/outbox design should add its objects to this table state as entries of their own
    # (not infer them from the flag) and emit them from `_realtime_ops`, so that heads written
    # before it existed, which already say `realtime: true`, still get the plumbing.
    return {"store": store.name.snake, "link": None, "realtime": store.realtime,
            "columns": columns, "constraints": constraints, "indexes": indexes}


def _link_table_state(store: Store, field: Field) -> dict:
    name = link_table(store, field)
    owner, target = link_columns(store, field)
    columns = [_column(owner, "uuid", False, None), _column(target, "uuid", False, None),
               _column("position", "integer", False, "0")]
    constraints = {
        identifier(f"pk_{name}"): {"kind": "primary_key", "columns": [owner, target]},
        identifier(f"fk_{name}_{owner}"): {
            "kind": "foreign_key", "columns": [owner], "ref_table": store.name.table,
            "ref_columns": ["id"], "ondelete": "CASCADE"},
        identifier(f"fk_{name}_{target}"): {
            "kind": "foreign_key", "columns": [target], "ref_table": Name(field.store or "").table,
            "ref_columns": ["id"], "ondelete": "CASCADE"},
    }
    # The primary key serves lookups by owner; this one serves "who points at this row".
    indexes = {identifier(f"ix_{name}_{target}"): {"columns": [target], "unique": False,
                                                   "where": []}}
    return {"store": None, "link": {"table": store.name.table, "field": field.name.snake},
            "realtime": False, "columns": columns, "constraints": constraints,
            "indexes": indexes}


# The `tabs` pattern (blueprints/tabs) saves the tab order of each screen with `reorder: true`
# on the server, one row per tab. One table serves every such screen; the generated code
# names it too.
TAB_ORDERS = "tab_orders"
TABS_PATTERN = "tabs"


def _tab_orders_table(spec: Spec, tables: dict[str, dict]) -> dict[str, dict]:
    """{"tab_orders": state} when a tabs screen lets its tabs be reordered, else {}."""
    if not any(screen.pattern == TABS_PATTERN and screen.options.get("reorder") is True
               for screen in spec.screens):
        return {}
    if TAB_ORDERS in tables:
        raise MigrationError(f"a store's table is named '{TAB_ORDERS}', which the tabs "
                             "pattern keeps its tab order in: rename that store")
    columns = [_column("screen", "text", False, None), _column("position", "integer", False, None),
               _column("tab", "text", False, None)]
    constraints = {identifier(f"pk_{TAB_ORDERS}"): {"kind": "primary_key",
                                                    "columns": ["screen", "tab"]}}
    return {TAB_ORDERS: {"store": None, "link": None, "realtime": False, "columns": columns,
                         "constraints": constraints, "indexes": {}}}


# The `wizard` pattern (blueprints/wizard) keeps every unfinished wizard on the server, one
# row per draft: the draft id in the URL is what lets a refresh, the back button or another
# device resume it. One table serves every wizard screen (`screen` tells them apart); the
# generated code names it too. The index serves both the expiry sweep and the drafts list.
WIZARD_DRAFTS = "wizard_drafts"
WIZARD_PATTERN = "wizard"


def _wizard_drafts_table(spec: Spec, tables: dict[str, dict]) -> dict[str, dict]:
    """{"wizard_drafts": state} when a screen of the spec is a wizard, else {}."""
    if not any(screen.pattern == WIZARD_PATTERN for screen in spec.screens):
        return {}
    if WIZARD_DRAFTS in tables:
        raise MigrationError(f"a store's table is named '{WIZARD_DRAFTS}', which the wizard "
                             "pattern keeps its drafts in: rename that store")
    columns = [_column("id", "uuid", False, "uuidv7()"), _column("screen", "text", False, None),
               _column("step", "integer", False, "1"),
               _column("data", "jsonb", False, "'{}'::jsonb"),
               _column("created_at", "timestamptz", False, "now()"),
               _column("updated_at", "timestamptz", False, "now()")]
    constraints = {
        identifier(f"pk_{WIZARD_DRAFTS}"): {"kind": "primary_key", "columns": ["id"]},
        identifier(f"ck_{WIZARD_DRAFTS}_step_range"): {
            "kind": "check", "check": "range", "column": "step", "min": 1, "max": None},
    }
    indexes = {identifier(f"ix_{WIZARD_DRAFTS}_screen_updated_at"): {
        "columns": ["screen", "updated_at"], "unique": False, "where": []}}
    return {WIZARD_DRAFTS: {"store": None, "link": None, "realtime": False, "columns": columns,
                            "constraints": constraints, "indexes": indexes}}


def schema_state(spec: Spec) -> dict:
    """The JSON-able schema every store of the spec leads to (postgres)."""
    tables: dict[str, dict] = {}
    for store in spec.stores:
        tables[store.name.table] = _store_table(store)
        for f in store.fields:
            if f.type is FieldType.REF and f.many:
                tables[link_table(store, f)] = _link_table_state(store, f)
    tables.update(_wizard_drafts_table(spec, tables))
    tables.update(_tab_orders_table(spec, tables))
    extensions: set[str] = set()
    for table, name, definition in _no_overlap_constraints(spec):
        tables[table]["constraints"][name] = definition
        if definition["columns"]:
            extensions.add("btree_gist")  # `uuid WITH =` in a GiST index needs it
    from dsgen._pattern_indexes import TRIGRAM_EXTENSION, needs_trigram, pattern_indexes

    for table, name, definition in pattern_indexes(spec):
        indexes = tables[table]["indexes"]
        if name in tables[table]["constraints"] or definition in indexes.values():
            continue  # declared by the spec already (or a name taken by a constraint)
        indexes[name] = definition
        # A ref's own index is the prefix of this one: one index less to write.
        first = definition["columns"][0]
        if (not definition.get("using") and first not in definition.get("keys", {})
                and indexes.get(identifier(f"ix_{table}_{first}")) ==
                {"columns": [first], "unique": False, "where": []}):
            del indexes[identifier(f"ix_{table}_{first}")]
        if needs_trigram(definition):
            extensions.add(TRIGRAM_EXTENSION)
    state: dict[str, Any] = {"dsgen_state": STATE_VERSION, "tables": tables}
    if extensions:  # only when used: states written before extensions existed stay equal
        state["extensions"] = sorted(extensions)
    return state


NO_OVERLAP_PATTERNS = ("date-range",)


def _no_overlap_constraints(spec: Spec) -> list[tuple[str, str, dict]]:
    """(table, name, definition) of the exclusion constraint of each date-range screen.

    "No two rows of the same resource overlap" must hold under concurrency, so the database
    enforces it: EXCLUDE USING gist (resource WITH =, daterange(start, end, '[)') WITH &&).
    The end is exclusive (hotel nights: a stay ending on the 5th and one starting on the 5th
    do not overlap). Rows missing a date are left out (a NULL bound would mean "unbounded").
    Screens whose options do not fit are skipped: check_spec reports them.
    """
    out = []
    for screen in spec.screens:
        if screen.pattern not in NO_OVERLAP_PATTERNS or not screen.store:
            continue
        store = spec.store(screen.store)
        if store is None:
            continue
        start = store.field(str(screen.options.get("start")))
        end = store.field(str(screen.options.get("end")))
        resource = screen.options.get("resource")
        ref = store.field(str(resource)) if resource is not None else None
        if start is None or end is None or start is end or any(
                f.type is not FieldType.DATE for f in (start, end)):
            continue
        if resource is not None and (ref is None or ref.type is not FieldType.REF or ref.many):
            continue
        columns = [ref.name.snake] if ref is not None else []
        bounds = [start.name.snake, end.name.snake]
        where = [[f.name.snake, "NOT NULL"] for f in (start, end) if not f.required]
        table = store.name.table
        name = identifier(f"ex_{table}_{'_'.join(columns + bounds)}")
        out.append((table, name, {"kind": "exclude", "using": "gist", "columns": columns,
                                  "range": bounds, "range_type": "daterange", "bounds": "[)",
                                  "where": where}))
    return out


def empty_state() -> dict:
    return {"dsgen_state": STATE_VERSION, "tables": {}}


def spec_renames(spec: Spec) -> dict[str, dict[str, str]]:
    """Declared renames: {table: {new field: old field}}."""
    renames: dict[str, dict[str, str]] = {}
    for store in spec.stores:
        for f in store.fields:
            if f.renamed_from:
                renames.setdefault(store.name.table, {})[f.name.snake] = f.renamed_from
    return renames


# -- SQL text of structured definitions ------------------------------------------------------


def check_sql(check: dict) -> str:
    col = quote_ident(check["column"])
    if check["check"] == "values":
        return f"{col} IN ({', '.join(_quote_literal(v) for v in check['values'])})"
    subject = col if check["check"] == "range" else f"char_length({col})"
    parts = []
    if check.get("min") is not None:
        parts.append(f"{subject} >= {_literal(check['min'])}")
    if check.get("max") is not None:
        parts.append(f"{subject} <= {_literal(check['max'])}")
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
    items.append(f"{d['range_type']}({start}, {end}, {_quote_literal(d['bounds'])}) WITH &&")
    sql = f"EXCLUDE USING {d['using']} ({', '.join(items)})"
    return sql + (f" WHERE ({where_sql(d['where'])})" if d["where"] else "")


# -- operations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One schema change. `loss` says why it is destructive, when it is."""

    table: str

    @property
    def loss(self) -> str | None:
        return None

    def summary(self) -> str:  # pragma: no cover - every op overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class CreateTable(Op):
    state: dict
    deferred: tuple[str, ...] = ()  # FKs added after every new table exists (cycles)

    def summary(self) -> str:
        link = self.state.get("link")
        what = f" (links {link['table']}.{link['field']})" if link else ""
        return f"create table {self.table}{what}"


@dataclass(frozen=True)
class DropTable(Op):
    state: dict
    deferred: tuple[str, ...] = ()

    @property
    def loss(self) -> str:
        return f"drop table {self.table} (every row is lost)"

    def summary(self) -> str:
        return f"drop table {self.table}"


@dataclass(frozen=True)
class RenameTable(Op):
    new: str

    def summary(self) -> str:
        return f"rename table {self.table} -> {self.new}"


@dataclass(frozen=True)
class AddColumn(Op):
    column: dict

    def summary(self) -> str:
        return f"add column {self.table}.{self.column['name']} {_column_sql(self.column)}"


@dataclass(frozen=True)
class DropColumn(Op):
    column: dict

    @property
    def loss(self) -> str:
        return f"drop column {self.table}.{self.column['name']} (its values are lost)"

    def summary(self) -> str:
        return f"drop column {self.table}.{self.column['name']}"


@dataclass(frozen=True)
class RenameColumn(Op):
    column: str
    new: str

    def summary(self) -> str:
        return f"rename column {self.table}.{self.column} -> {self.new}"


@dataclass(frozen=True)
class AlterColumnType(Op):
    column: str
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


@dataclass(frozen=True)
class AlterColumnDefault(Op):
    column: str
    old: str | None
    new: str | None

    def summary(self) -> str:
        if self.new is None:
            return f"alter column {self.table}.{self.column} drop default"
        return f"alter column {self.table}.{self.column} default {self.new}"


@dataclass(frozen=True)
class AlterColumnNullable(Op):
    column: str
    nullable: bool
    fill: str | None = None  # SET NOT NULL first fills NULLs with this SQL value

    def summary(self) -> str:
        if self.nullable:
            return f"alter column {self.table}.{self.column} drop NOT NULL"
        how = (f"NULLs become {self.fill}" if self.fill is not None
               else "fails if a row has no value")
        return f"alter column {self.table}.{self.column} set NOT NULL ({how})"


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


@dataclass(frozen=True)
class DropConstraint(Op):
    name: str
    definition: dict

    def summary(self) -> str:
        return f"drop {_constraint_kind(self.definition)} {self.name} on {self.table}"


@dataclass(frozen=True)
class RenameConstraint(Op):
    name: str
    new: str

    def summary(self) -> str:
        return f"rename constraint {self.table}.{self.name} -> {self.new}"


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


@dataclass(frozen=True)
class DropIndex(Op):
    name: str
    definition: dict

    def summary(self) -> str:
        return f"drop index {self.name} on {self.table}"


@dataclass(frozen=True)
class RenameIndex(Op):
    name: str
    new: str

    def summary(self) -> str:
        return f"rename index {self.name} -> {self.new}"


@dataclass(frozen=True)
class CreateExtension(Op):
    """A PostgreSQL extension the schema needs (`table` is unused: extensions are global)."""

    name: str

    def summary(self) -> str:
        return f"create extension {self.name}"


@dataclass(frozen=True)
class DropExtension(Op):
    name: str

    def summary(self) -> str:
        return f"drop extension {self.name}"


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


# -- diff -----------------------------------------------------------------------------------

_INTEGERS = ("smallint", "integer", "bigint")
_VARCHAR = re.compile(r"^varchar\((\d+)\)$")


def is_widening(old: str, new: str) -> bool:
    """Whether every value of type `old` converts to `new` unchanged."""
    if old == new or new == "text" and (old == "text" or _VARCHAR.match(old)):
        return True
    old_len, new_len = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_len and new_len:
        return int(new_len.group(1)) >= int(old_len.group(1))
    if old in _INTEGERS:
        if new in _INTEGERS:
            return _INTEGERS.index(new) >= _INTEGERS.index(old)
        return new in ("numeric", "double precision")
    return old == "date" and new == "timestamptz"


def _rename_columns_in(table: dict, old: str, new: str) -> None:
    """Follow a column rename through a table state's definitions, in place."""
    for column in table["columns"]:
        if column["name"] == old:
            column["name"] = new
    for definition in [*table["constraints"].values(), *table["indexes"].values()]:
        if "columns" in definition:
            definition["columns"] = [new if c == old else c for c in definition["columns"]]
        if definition.get("column") == old:
            definition["column"] = new
        if "where" in definition:
            definition["where"] = [[new if c == old else c, v] for c, v in definition["where"]]
        if "range" in definition:
            definition["range"] = [new if c == old else c for c in definition["range"]]
        for per_column in ("ops", "keys"):  # pattern indexes (see _pattern_indexes)
            if old in definition.get(per_column, {}):
                definition[per_column][new] = definition[per_column].pop(old)


def _columns(table: dict) -> dict[str, dict]:
    return {c["name"]: c for c in table["columns"]}


def _link_key(table: dict) -> tuple[str, str] | None:
    link = table.get("link")
    return (link["table"], link["field"]) if link else None


def _create_order(tables: dict[str, dict], names: set[str]) -> tuple[list[str], set]:
    """Tables in an order where each one's FKs point at tables made before it.

    Returns (order, deferred) where deferred holds (table, fk name) pairs that close a
    cycle: those foreign keys are added after every table of the set exists. Main tables
    come first, link tables last; ties break by name, so the order is deterministic.
    """
    order: list[str] = []
    deferred: set[tuple[str, str]] = set()
    pending = sorted(names, key=lambda t: (tables[t].get("link") is not None, t))
    while pending:
        made = set(order)
        for name in pending:
            needs = {d["ref_table"] for d in tables[name]["constraints"].values()
                     if d["kind"] == "foreign_key"} & names - made - {name}
            if not needs:
                break
        else:
            name = pending[0]
            for fk, d in tables[name]["constraints"].items():
                if d["kind"] == "foreign_key" and d["ref_table"] in names - made - {name}:
                    deferred.add((name, fk))
        order.append(name)
        pending.remove(name)
    return order, deferred


def _realtime_ops(old: dict | None, new: dict | None) -> list[Op]:
    """The realtime plumbing seam of the table diff: the table diff stays about tables; the
    plumbing (events log, triggers) is planned by `realtime_ops` on whole states."""
    return []


# -- realtime plumbing ------------------------------------------------------------------------
#
# A realtime store's table gets `"realtime_channel": <table>` in its state, and the state gets
# `"realtime_log": "realtime_events"` while at least one table is realtime. Both are derived
# from the flag when the state is built, and compared as entries of their own, so a head that
# says `realtime: true` but predates the plumbing (no channel entry) gets it at the next
# revision.

REALTIME_LOG = "realtime_events"


def _realtime_state(state: dict) -> dict:
    """Mark realtime tables and the events log in a freshly built state (in place)."""
    channels = False
    for name, table in state["tables"].items():
        if table.get("realtime"):
            if name == REALTIME_LOG:
                raise MigrationError(f"a store's table may not be called {REALTIME_LOG!r} when "
                                     "realtime is on: rename that store")
            table["realtime_channel"] = name
            channels = True
    if channels:
        state["realtime_log"] = REALTIME_LOG
    return state


@dataclass(frozen=True)
class CreateRealtimeLog(Op):
    """The `realtime_events` change log, its ordering/capture/prune functions."""

    def summary(self) -> str:
        return f"create realtime events log {self.table} (+ functions)"


@dataclass(frozen=True)
class DropRealtimeLog(Op):
    def summary(self) -> str:
        return f"drop realtime events log {self.table} (+ functions)"


@dataclass(frozen=True)
class EnableRealtime(Op):
    channel: str

    def summary(self) -> str:
        return f"realtime on {self.table} (triggers -> {REALTIME_LOG}, channel {self.channel})"


@dataclass(frozen=True)
class DisableRealtime(Op):
    channel: str

    def summary(self) -> str:
        return f"realtime off {self.table} (drop its triggers)"


def realtime_ops(old: dict, new: dict) -> tuple[list[Op], list[Op]]:
    """(ops to run before the schema ops, ops to run after them) for the realtime plumbing.

    Triggers go before their table is dropped (or the log is), come after it is created;
    the log is created first and dropped last, so every downgrade replays cleanly in reverse.
    """
    before: list[Op] = []
    after: list[Op] = []
    had, has = old.get("realtime_log"), new.get("realtime_log")
    if has and not had:
        before.append(CreateRealtimeLog(has))
    old_tables, new_tables = old.get("tables", {}), new.get("tables", {})
    for name in sorted(set(old_tables) | set(new_tables)):
        was = (old_tables.get(name) or {}).get("realtime_channel")
        now = (new_tables.get(name) or {}).get("realtime_channel")
        if was and was != now:
            before.append(DisableRealtime(name, was))
        if now and was != now:
            after.append(EnableRealtime(name, now))
    if had and not has:
        after.append(DropRealtimeLog(had))
    return before, after


REALTIME_SQL = Path(__file__).parent / "db" / "postgres" / "realtime.sql"


def sql_sections(text: str) -> dict[str, tuple[str, ...]]:
    """The statements of a `.sql` resource by section (`-- @name`): statements are separated
    by blank lines, `--` lines are comments, a statement's lines are joined with one space."""
    sections: dict[str, list[str]] = {}
    section: list[str] = sections.setdefault("", [])
    lines: list[str] = []

    def flush() -> None:
        if lines:
            statement = " ".join(lines)
            section.append(statement.removesuffix(";"))
            lines.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("-- @"):
            flush()
            section = sections.setdefault(line[4:].strip(), [])
        elif not line:
            flush()
        elif not line.startswith("--"):
            lines.append(line)
    flush()
    return {name: tuple(statements) for name, statements in sections.items()}


@cache
def realtime_sql() -> dict[str, tuple[str, ...]]:
    """The realtime events log's statements: `up` creates it, `down` drops it."""
    return sql_sections(REALTIME_SQL.read_text(encoding="utf-8"))


def _realtime_triggers(table: str, channel: str) -> list[Call]:
    t, ch = quote_ident(table), _quote_literal(channel)
    return [
        _execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_order'))} "
                 f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t} "
                 "FOR EACH STATEMENT EXECUTE FUNCTION realtime_order()"),
        _execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_capture'))} "
                 f"AFTER INSERT OR UPDATE OR DELETE ON {t} "
                 f"FOR EACH ROW EXECUTE FUNCTION realtime_capture({ch})"),
        _execute(f"CREATE TRIGGER {quote_ident(identifier(table + '_realtime_truncate'))} "
                 f"AFTER TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION "
                 f"realtime_capture({ch})"),
    ]


def _realtime_untriggers(table: str) -> list[Call]:
    return [_execute(f"DROP TRIGGER IF EXISTS "
                     f"{quote_ident(identifier(table + '_realtime_' + suffix))} "
                     f"ON {quote_ident(table)}") for suffix in ("truncate", "capture", "order")]


def diff_states(old: dict, new: dict, *, renames: dict[str, dict[str, str]] | None = None,
                allow_destructive: bool = False) -> list[Op]:
    """The ops that take the schema from `old` to `new`, in a safe order.

    `renames` ({table: {new field: old field}}) turns what would be drop + add into renames.
    Raises MigrationRefusedError for changes no migration can make as written, and
    DestructiveMigrationError for data-losing ones unless `allow_destructive`.
    """
    renames = renames or {}
    cur: dict[str, dict] = copy.deepcopy(old.get("tables", {}))
    want: dict[str, dict] = new.get("tables", {})
    problems: list[str] = []
    phase: dict[str, list[Op]] = {k: [] for k in (
        "rename", "drop_index", "drop_constraint", "drop_column", "drop_table",
        "create_table", "add_column", "alter", "add_constraint", "create_index")}

    # 1. Renames: link tables of renamed many-refs, then columns, then the names derived
    #    from them (a constraint or index whose definition, renamed, is found under a new name).
    renamed_tables: set[str] = set()
    by_link = {_link_key(t): name for name, t in cur.items() if _link_key(t)}
    for name in sorted(want):
        key = _link_key(want[name])
        if key is None or name in cur:
            continue
        old_field = renames.get(key[0], {}).get(key[1])
        old_name = by_link.get((key[0], old_field)) if old_field else None
        if old_name is None or old_name in want:
            continue
        phase["rename"].append(RenameTable(old_name, name))
        table = cur.pop(old_name)
        table["link"] = dict(want[name]["link"])
        cur[name] = table
        renamed_tables.add(name)
        for old_col, new_col in zip([c["name"] for c in table["columns"]],
                                    [c["name"] for c in want[name]["columns"]], strict=False):
            if old_col != new_col and new_col not in _columns(table):
                phase["rename"].append(RenameColumn(name, old_col, new_col))
                _rename_columns_in(table, old_col, new_col)
    for table_name in sorted(renames):
        table = cur.get(table_name)
        if table is None or table_name not in want:
            continue
        for new_col, old_col in sorted(renames[table_name].items()):
            have = _columns(table)
            if old_col in have and new_col not in have and new_col in _columns(want[table_name]):
                phase["rename"].append(RenameColumn(table_name, old_col, new_col))
                _rename_columns_in(table, old_col, new_col)
                renamed_tables.add(table_name)
    for table_name in sorted(renamed_tables):
        table, target = cur[table_name], want[table_name]
        for group, op_type in (("constraints", RenameConstraint), ("indexes", RenameIndex)):
            mine, theirs = table[group], target[group]
            for name in sorted(mine):
                if name in theirs:
                    continue
                match = next((n for n in sorted(theirs)
                              if n not in mine and theirs[n] == mine[name]), None)
                if match is not None:
                    phase["rename"].append(op_type(table_name, name, match))
                    mine[match] = mine.pop(name)

    # 2. Tables that go away, and tables that come.
    dropped = set(cur) - set(want)
    drop_order, drop_deferred = _create_order(cur, dropped)
    for table_name, fk in sorted(drop_deferred):
        phase["drop_constraint"].append(
            DropConstraint(table_name, fk, cur[table_name]["constraints"][fk]))
    for table_name in reversed(drop_order):
        deferred = tuple(sorted(fk for t, fk in drop_deferred if t == table_name))
        phase["drop_table"].append(DropTable(table_name, cur[table_name], deferred))
        phase["drop_table"].extend(_realtime_ops(cur[table_name], None))
    created = set(want) - set(cur)
    create_order, create_deferred = _create_order(want, created)
    for table_name in create_order:
        deferred = tuple(sorted(fk for t, fk in create_deferred if t == table_name))
        phase["create_table"].append(CreateTable(table_name, want[table_name], deferred))
        phase["create_table"].extend(_realtime_ops(None, want[table_name]))
    for table_name, fk in sorted(create_deferred):
        phase["add_constraint"].append(
            AddConstraint(table_name, fk, want[table_name]["constraints"][fk]))

    # 3. Tables on both sides: columns, constraints, indexes.
    for table_name in sorted(set(cur) & set(want)):
        _diff_table(table_name, cur[table_name], want[table_name], phase, problems)
        phase["alter"].extend(_realtime_ops(cur[table_name], want[table_name]))

    # 4. Extensions: made before the tables and constraints that use them, dropped after.
    had, has = set(old.get("extensions", ())), set(new.get("extensions", ()))
    phase["create_table"][:0] = [CreateExtension("", e) for e in sorted(has - had)]
    phase["drop_table"].extend(DropExtension("", e) for e in sorted(had - has))

    ops = [op for ops in phase.values() for op in ops]
    losses = [op.loss for op in ops if op.loss] if not allow_destructive else []
    if problems:
        raise MigrationRefusedError(problems, losses)
    if losses:
        raise DestructiveMigrationError(losses)
    return ops


def _diff_table(name: str, old: dict, new: dict, phase: dict[str, list[Op]],
                problems: list[str]) -> None:
    old_cols, new_cols = _columns(old), _columns(new)
    for col in new["columns"]:
        if col["name"] in old_cols:
            continue
        if not col["nullable"] and col["default"] is None:
            problems.append(
                f"{name}.{col['name']} is new and required but has no default, so the rows "
                f"already in '{name}' would have no value for it: give the field a 'default' "
                "(it fills those rows), or add it without 'required', fill it, and make it "
                "required in a later migration")
            continue
        phase["add_column"].append(AddColumn(name, col))
    for col in old["columns"]:
        if col["name"] not in new_cols:
            phase["drop_column"].append(DropColumn(name, col))
    for col in new["columns"]:
        before = old_cols.get(col["name"])
        if before is None:
            continue
        column = col["name"]
        if before["type"] != col["type"]:
            if before["default"] is not None:
                # A default of the old type may not cast; it is set again after the change.
                phase["alter"].append(AlterColumnDefault(name, column, before["default"], None))
            phase["alter"].append(AlterColumnType(name, column, before["type"], col["type"],
                                                  is_widening(before["type"], col["type"])))
            if col["default"] is not None:
                phase["alter"].append(AlterColumnDefault(name, column, None, col["default"]))
        elif before["default"] != col["default"]:
            phase["alter"].append(
                AlterColumnDefault(name, column, before["default"], col["default"]))
        if before["nullable"] != col["nullable"]:
            phase["alter"].append(AlterColumnNullable(
                name, column, col["nullable"], None if col["nullable"] else col["default"]))

    for cname in sorted(old["constraints"]):
        definition = old["constraints"][cname]
        if new["constraints"].get(cname) != definition:
            phase["drop_constraint"].append(DropConstraint(name, cname, definition))
    for cname in sorted(new["constraints"]):
        definition = new["constraints"][cname]
        before = old["constraints"].get(cname)
        if before == definition:
            continue
        reason = None
        if before and definition["kind"] == "check" and definition["check"] == "values":
            gone = [v for v in before["values"] if v not in definition["values"]]
            if gone:
                reason = (f"remove {', '.join(repr(v) for v in gone)} from the values of "
                          f"{name}.{definition['column']} (rows holding "
                          f"{'it' if len(gone) == 1 else 'them'} make the upgrade fail; "
                          "change them first)")
        phase["add_constraint"].append(AddConstraint(name, cname, definition, reason))
    for iname in sorted(old["indexes"]):
        if new["indexes"].get(iname) != old["indexes"][iname]:
            phase["drop_index"].append(DropIndex(name, iname, old["indexes"][iname]))
    for iname in sorted(new["indexes"]):
        if old["indexes"].get(iname) != new["indexes"][iname]:
            phase["create_index"].append(CreateIndex(name, iname, new["indexes"][iname]))


# -- the history on disk --------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: tuple[str, ...]
    state: dict | None
    path: Path


def read_revision(path: Path) -> Revision | None:
    """The revision ids and dsgen state of one revision file, read with ast (never imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise MigrationError(f"cannot read the migration {path}: {exc}") from exc
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in (
                    "revision", "down_revision", STATE_CONSTANT):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError as exc:
                    raise MigrationError(f"{path}: {target.id} is not a constant") from exc
    if not isinstance(values.get("revision"), str):
        return None
    down = values.get("down_revision")
    downs = (down,) if isinstance(down, str) else tuple(down or ())
    state = None
    if STATE_CONSTANT in values:
        try:
            state = json.loads(values[STATE_CONSTANT])
        except (TypeError, ValueError) as exc:
            raise MigrationError(f"{path}: {STATE_CONSTANT} is not valid JSON: {exc}") from exc
    return Revision(values["revision"], downs, state, path)


def read_history(versions_dir: Path) -> list[Revision]:
    if not versions_dir.is_dir():
        return []
    revisions = [r for p in sorted(versions_dir.glob("*.py")) if (r := read_revision(p))]
    return revisions


def head_revision(revisions: list[Revision]) -> Revision | None:
    """The one revision no other revision follows; an error when the history branches."""
    if not revisions:
        return None
    parents = {d for r in revisions for d in r.down_revision}
    heads = [r for r in revisions if r.revision not in parents]
    if len(heads) != 1:
        names = ", ".join(f"{r.revision} ({r.path.name})" for r in heads) or "none (a cycle)"
        raise MigrationError(f"the migration history has {len(heads)} heads: {names}; merge "
                             "them first ('alembic merge heads') so dsgen knows which to follow")
    return heads[0]


def recorded_state(revisions: list[Revision], head: Revision | None) -> dict:
    """The state in the head revision, or in its nearest ancestor that has one.

    Revisions written by hand (data fixes, say) carry no state; dsgen follows them down to
    the last state it recorded.
    """
    by_id = {r.revision: r for r in revisions}
    current, seen = head, set()
    while current is not None and current.revision not in seen:
        if current.state is not None:
            if current.state.get("dsgen_state") != STATE_VERSION:
                raise MigrationError(f"{current.path}: state version "
                                     f"{current.state.get('dsgen_state')!r} is not one this "
                                     f"dsgen reads ({STATE_VERSION})")
            return current.state
        seen.add(current.revision)
        current = by_id.get(current.down_revision[0]) if current.down_revision else None
    return empty_state()


# -- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    path: str  # posix, relative to the project
    text: str
    ops: list[Op]
    revision: str


def slugify(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("_", 1)[0] or slug[:limit]
    return slug or "migration"


def default_message(ops: list[Op], first: bool) -> str:
    if first:
        return "initial"
    phrases: list[str] = []
    for op in ops:
        if isinstance(op, CreateTable) and not op.state.get("link"):
            phrase = f"create {op.table}"
        elif isinstance(op, DropTable) and not op.state.get("link"):
            phrase = f"drop {op.table}"
        elif isinstance(op, AddColumn):
            phrase = f"add {op.column['name']}"
        elif isinstance(op, DropColumn):
            phrase = f"drop {op.column['name']}"
        elif isinstance(op, RenameColumn):
            phrase = f"rename {op.column} to {op.new}"
        elif isinstance(op, (AlterColumnType, AlterColumnDefault, AlterColumnNullable)):
            phrase = f"alter {op.column}"
        elif isinstance(op, (CreateIndex, DropIndex)):
            phrase = f"index {op.table}"
        elif isinstance(op, AddConstraint) and op.definition["kind"] == "exclude":
            phrase = f"no overlapping {op.table}"
        elif isinstance(op, DropConstraint) and op.definition["kind"] == "exclude":
            phrase = f"allow overlapping {op.table}"
        elif isinstance(op, EnableRealtime):
            phrase = f"realtime {op.table}"
        elif isinstance(op, DisableRealtime):
            phrase = f"no realtime {op.table}"
        else:
            continue
        if phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        return f"update {ops[0].table}"
    if len(phrases) > 3:
        return ", ".join(phrases[:3]) + " and more"
    return ", ".join(phrases)


def plan_migration(spec: Spec, versions_dir: Path, *, message: str | None = None,
                   allow_destructive: bool = False) -> Migration | None:
    """The next revision that brings the recorded schema to the spec; None when up to date."""
    if spec.app.backend is not Backend.POSTGRES:
        raise MigrationError(f"'dsgen db' writes Alembic migrations for postgres; this app's "
                             f"backend is '{spec.app.backend.value}'")
    revisions = read_history(versions_dir)
    head = head_revision(revisions)
    new = _realtime_state(schema_state(spec))
    old = recorded_state(revisions, head)
    ops = diff_states(old, new, renames=spec_renames(spec), allow_destructive=allow_destructive)
    first, last = realtime_ops(old, new)
    ops = first + ops + last
    if not ops:
        return None
    numbers = [int(r.revision) for r in revisions if r.revision.isdigit()]
    revision = f"{max(numbers, default=0) + 1:04d}"
    message = (message or "").strip() or default_message(ops, head is None)
    text = render_revision(ops, new, revision=revision,
                           down_revision=head.revision if head else None, message=message)
    return Migration(f"{VERSIONS_DIR}/{revision}_{slugify(message)}.py", text, ops, revision)


# -- rendering: Python source ---------------------------------------------------------------


class Raw(str):
    """A Python expression, placed as is."""


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


def py_str(text: str) -> str:
    """A Python string literal: double quotes unless single ones need fewer escapes."""
    quote = "'" if '"' in text and "'" not in text else '"'
    out = []
    for ch in text:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ord(ch) < 32 or ch == "\x7f":
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def _flat(node: Any) -> str:
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, str):
        return py_str(node)
    if isinstance(node, Call):
        parts = [_flat(a) for a in node.args] + [f"{k}={_flat(v)}" for k, v in node.kwargs]
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, (list, tuple)):
        return "[" + ", ".join(_flat(v) for v in node) + "]"
    if isinstance(node, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in node.items()) + "}"
    return repr(node)


def _string_chunks(text: str, room: int) -> list[str]:
    """Split a string at spaces into literals of at most `room` characters each."""
    chunks, current = [], ""
    for word in re.findall(r"\S+\s*|\s+", text):
        if current and len(py_str(current + word)) > room:
            chunks.append(current)
            current = ""
        current += word
    chunks.append(current)
    return [py_str(c) for c in chunks]


def fmt(node: Any, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Lay out a node black-style: on one line when it fits, else one argument per line."""
    pad = " " * indent
    line = f"{pad}{prefix}{_flat(node)}{suffix}"
    if len(line) <= WIDTH:
        return [line]
    if isinstance(node, Call):
        lines = [f"{pad}{prefix}{node.func}("]
        for arg in node.args:
            lines += fmt(arg, indent + 4, suffix=",")
        for key, value in node.kwargs:
            lines += fmt(value, indent + 4, prefix=f"{key}=", suffix=",")
        return lines + [f"{pad}){suffix}"]
    if isinstance(node, (list, tuple)) and node:
        lines = [f"{pad}{prefix}["]
        for value in node:
            lines += fmt(value, indent + 4, suffix=",")
        return lines + [f"{pad}]{suffix}"]
    if isinstance(node, str) and not isinstance(node, Raw) and not prefix:
        chunks = _string_chunks(node, WIDTH - indent - len(suffix))
        lines = [pad + c for c in chunks]
        lines[-1] += suffix
        return [ln if len(ln) <= WIDTH else ln + "  # noqa: E501" for ln in lines]
    return [line if len(line) <= WIDTH else line + "  # noqa: E501"]


def _text_sql(sql: str) -> str:
    """SQL for sa.text(): a colon that would read as a bind parameter is escaped."""
    return re.sub(r"(?<![:\w\\]):(?=\w)", r"\\:", sql)


def _sa_type(sql: str) -> Raw:
    length = _VARCHAR.match(sql)
    if length:
        return Raw(f"sa.String({length.group(1)})")
    return Raw({
        "text": "sa.Text()", "uuid": "sa.Uuid()", "integer": "sa.Integer()",
        "smallint": "sa.SmallInteger()", "bigint": "sa.BigInteger()",
        "double precision": "sa.Double()", "numeric": "sa.Numeric()",
        "boolean": "sa.Boolean()", "date": "sa.Date()",
        "timestamptz": "sa.DateTime(timezone=True)", "jsonb": "postgresql.JSONB()",
    }[sql])


def _text(sql: str) -> Call:
    return Call("sa.text", (_text_sql(sql),))


def _sa_column(column: dict, nullable: bool | None = None) -> Call:
    kwargs: list[tuple[str, Any]] = []
    if column["default"] is not None:
        kwargs.append(("server_default", _text(column["default"])))
    kwargs.append(("nullable", column["nullable"] if nullable is None else nullable))
    return Call("sa.Column", (column["name"], _sa_type(column["type"])), tuple(kwargs))


def _sa_constraint(name: str, d: dict) -> Call:
    if d["kind"] == "primary_key":
        return Call("sa.PrimaryKeyConstraint", tuple(d["columns"]), (("name", name),))
    if d["kind"] == "unique":
        return Call("sa.UniqueConstraint", tuple(d["columns"]), (("name", name),))
    if d["kind"] == "check":
        return Call("sa.CheckConstraint", (_text_sql(check_sql(d)),), (("name", name),))
    refs = [f"{d['ref_table']}.{c}" for c in d["ref_columns"]]
    return Call("sa.ForeignKeyConstraint", (list(d["columns"]), refs),
                (("name", name), ("ondelete", d["ondelete"])))


def _create_index(table: str, name: str, d: dict) -> Call:
    kwargs: list[tuple[str, Any]] = []
    if d["unique"]:
        kwargs.append(("unique", True))
    if d["where"]:
        kwargs.append(("postgresql_where", _text(where_sql(d["where"]))))
    if d.get("using"):
        kwargs.append(("postgresql_using", d["using"]))
    if d.get("ops"):
        kwargs.append(("postgresql_ops", dict(sorted(d["ops"].items()))))
    keys = d.get("keys", {})
    columns = [_text(f"COALESCE({quote_ident(c)}::text, '')") if keys.get(c) == "coalesce_text"
               else c for c in d["columns"]]
    return Call("op.create_index", (name, table, columns), tuple(kwargs))


def _add_constraint(table: str, name: str, d: dict) -> Call:
    if d["kind"] == "primary_key":
        return Call("op.create_primary_key", (name, table, list(d["columns"])))
    if d["kind"] == "unique":
        return Call("op.create_unique_constraint", (name, table, list(d["columns"])))
    if d["kind"] == "check":
        return Call("op.create_check_constraint", (name, table, _text_sql(check_sql(d))))
    if d["kind"] == "exclude":
        return _execute(f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} "
                        f"{exclude_sql(d)}")
    return Call("op.create_foreign_key",
                (name, table, d["ref_table"], list(d["columns"]), list(d["ref_columns"])),
                (("ondelete", d["ondelete"]),))


_DROP_TYPE = {"primary_key": "primary", "unique": "unique", "check": "check",
              "foreign_key": "foreignkey"}


def _drop_constraint(table: str, name: str, d: dict) -> Call:
    if d["kind"] not in _DROP_TYPE:  # an exclusion constraint: no type_ is needed
        return Call("op.drop_constraint", (name, table))
    return Call("op.drop_constraint", (name, table), (("type_", _DROP_TYPE[d["kind"]]),))


def _create_table(table: str, state: dict, deferred: tuple[str, ...]) -> list[Call]:
    items: list[Any] = [table]
    items += [_sa_column(c) for c in state["columns"]]
    for kind in ("primary_key", "unique", "check", "foreign_key"):
        for name in sorted(state["constraints"]):
            d = state["constraints"][name]
            if d["kind"] == kind and name not in deferred:
                items.append(_sa_constraint(name, d))
    calls = [Call("op.create_table", tuple(items))]
    # Exclusion constraints have no SQLAlchemy construct Alembic renders plainly: SQL text.
    calls += [_add_constraint(table, n, d) for n, d in sorted(state["constraints"].items())
              if d["kind"] == "exclude"]
    return calls + [_create_index(table, n, d) for n, d in sorted(state["indexes"].items())]


def _using(column: str, new: str) -> str:
    # Into varchar(n) the value goes through text, so a too-long value fails the upgrade
    # (assignment cast) instead of being cut silently (an explicit ::varchar(n) cast).
    target = "text" if _VARCHAR.match(new) else new
    return f"{quote_ident(column)}::{target}"


def _alter_type(table: str, column: str, old: str, new: str) -> Call:
    return Call("op.alter_column", (table, column), (
        ("type_", _sa_type(new)), ("existing_type", _sa_type(old)),
        ("postgresql_using", _using(column, new))))


def _default_value(sql: str | None) -> Any:
    return _text(sql) if sql is not None else None


def _execute(sql: str) -> Call:
    return Call("op.execute", (_text_sql(sql),))


def _statements(node: Any) -> list[str]:
    if isinstance(node, Raw):
        return [f"    {node}"]
    return fmt(node, 4)


def render_up(op: Op) -> list[Any]:
    """The upgrade statements of one op (Call nodes, or Raw comment lines)."""
    if isinstance(op, CreateTable):
        return list(_create_table(op.table, op.state, op.deferred))
    if isinstance(op, DropTable):
        return [Call("op.drop_table", (op.table,))]
    if isinstance(op, RenameTable):
        return [Call("op.rename_table", (op.table, op.new))]
    if isinstance(op, AddColumn):
        return [Call("op.add_column", (op.table, _sa_column(op.column)))]
    if isinstance(op, DropColumn):
        return [Call("op.drop_column", (op.table, op.column["name"]))]
    if isinstance(op, RenameColumn):
        return [Call("op.alter_column", (op.table, op.column), (("new_column_name", op.new),))]
    if isinstance(op, AlterColumnType):
        return [_alter_type(op.table, op.column, op.old, op.new)]
    if isinstance(op, AlterColumnDefault):
        return [Call("op.alter_column", (op.table, op.column),
                     (("server_default", _default_value(op.new)),))]
    if isinstance(op, AlterColumnNullable):
        calls: list[Any] = []
        if op.fill is not None:
            col = quote_ident(op.column)
            calls.append(_execute(f"UPDATE {quote_ident(op.table)} SET {col} = {op.fill} "
                                  f"WHERE {col} IS NULL"))
        return calls + [Call("op.alter_column", (op.table, op.column),
                             (("nullable", op.nullable),))]
    if isinstance(op, AddConstraint):
        return [_add_constraint(op.table, op.name, op.definition)]
    if isinstance(op, DropConstraint):
        return [_drop_constraint(op.table, op.name, op.definition)]
    if isinstance(op, RenameConstraint):
        return [_execute(f"ALTER TABLE {quote_ident(op.table)} RENAME CONSTRAINT "
                         f"{quote_ident(op.name)} TO {quote_ident(op.new)}")]
    if isinstance(op, CreateIndex):
        return [_create_index(op.table, op.name, op.definition)]
    if isinstance(op, DropIndex):
        return [Call("op.drop_index", (op.name,), (("table_name", op.table),))]
    if isinstance(op, RenameIndex):
        return [_execute(f"ALTER INDEX {quote_ident(op.name)} RENAME TO {quote_ident(op.new)}")]
    if isinstance(op, CreateExtension):
        return [_execute(f"CREATE EXTENSION IF NOT EXISTS {quote_ident(op.name)}")]
    if isinstance(op, CreateRealtimeLog):
        return [_execute(sql) for sql in realtime_sql()["up"]]
    if isinstance(op, DropRealtimeLog):
        return [_execute(sql) for sql in realtime_sql()["down"]]
    if isinstance(op, EnableRealtime):
        return list(_realtime_triggers(op.table, op.channel))
    if isinstance(op, DisableRealtime):
        return list(_realtime_untriggers(op.table))
    if isinstance(op, DropExtension):
        # Without CASCADE: if something else came to use the extension, this fails loudly.
        return [_execute(f"DROP EXTENSION IF EXISTS {quote_ident(op.name)}")]
    raise TypeError(f"unknown op {op!r}")


def render_down(op: Op) -> list[Any]:
    """The downgrade statements that undo one op."""
    if isinstance(op, CreateTable):
        return [Call("op.drop_table", (op.table,))]
    if isinstance(op, DropTable):
        return [Raw("# The table comes back empty: its rows were dropped with it."),
                *_create_table(op.table, op.state, op.deferred)]
    if isinstance(op, RenameTable):
        return [Call("op.rename_table", (op.new, op.table))]
    if isinstance(op, AddColumn):
        return [Call("op.drop_column", (op.table, op.column["name"]))]
    if isinstance(op, DropColumn):
        return [Raw("# Back as nullable: its values are gone, so existing rows have none."),
                Call("op.add_column", (op.table, _sa_column(op.column, nullable=True)))]
    if isinstance(op, RenameColumn):
        return [Call("op.alter_column", (op.table, op.new), (("new_column_name", op.column),))]
    if isinstance(op, AlterColumnType):
        return [_alter_type(op.table, op.column, op.new, op.old)]
    if isinstance(op, AlterColumnDefault):
        return [Call("op.alter_column", (op.table, op.column),
                     (("server_default", _default_value(op.old)),))]
    if isinstance(op, AlterColumnNullable):
        return [Call("op.alter_column", (op.table, op.column), (("nullable", not op.nullable),))]
    if isinstance(op, AddConstraint):
        return [_drop_constraint(op.table, op.name, op.definition)]
    if isinstance(op, DropConstraint):
        return [_add_constraint(op.table, op.name, op.definition)]
    if isinstance(op, RenameConstraint):
        return render_up(RenameConstraint(op.table, op.new, op.name))
    if isinstance(op, CreateIndex):
        return [Call("op.drop_index", (op.name,), (("table_name", op.table),))]
    if isinstance(op, DropIndex):
        return [_create_index(op.table, op.name, op.definition)]
    if isinstance(op, RenameIndex):
        return render_up(RenameIndex(op.table, op.new, op.name))
    if isinstance(op, CreateExtension):
        return render_up(DropExtension(op.table, op.name))
    if isinstance(op, CreateRealtimeLog):
        return render_up(DropRealtimeLog(op.table))
    if isinstance(op, DropRealtimeLog):
        return render_up(CreateRealtimeLog(op.table))
    if isinstance(op, EnableRealtime):
        return render_up(DisableRealtime(op.table, op.channel))
    if isinstance(op, DisableRealtime):
        return render_up(EnableRealtime(op.table, op.channel))
    if isinstance(op, DropExtension):
        return render_up(CreateExtension(op.table, op.name))
    raise TypeError(f"unknown op {op!r}")


def _body(blocks: list[list[Any]]) -> list[str]:
    """Statements of each op; a table creation is set off by blank lines, like a paragraph."""
    out: list[str] = []
    previous_table = False
    for block in blocks:
        table = any(isinstance(node, Call) and node.func == "op.create_table" for node in block)
        if out and (table or previous_table):
            out.append("")
        out += [ln for node in block for ln in _statements(node)]
        previous_table = table
    return out or ["    pass"]


def _json_lines(value: Any, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """JSON laid out like the code: a value on one line when it fits, else expanded."""
    pad = " " * indent
    flat = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(", ", ": "))
    if len(pad + prefix + flat + suffix) <= WIDTH or not value or \
            not isinstance(value, (dict, list)):
        return [pad + prefix + flat + suffix]
    if isinstance(value, dict):
        items = sorted(value.items())
        lines = [pad + prefix + "{"]
        for i, (key, item) in enumerate(items):
            lines += _json_lines(item, indent + 2, json.dumps(key) + ": ",
                                 "," if i < len(items) - 1 else "")
        return lines + [pad + "}" + suffix]
    lines = [pad + prefix + "["]
    for i, item in enumerate(value):
        lines += _json_lines(item, indent + 2, "", "," if i < len(value) - 1 else "")
    return lines + [pad + "]" + suffix]


def render_state(state: dict) -> str:
    """The state as deterministic JSON (sorted keys, ASCII only)."""
    return "\n".join(_json_lines(state, 0))


def render_revision(ops: list[Op], state: dict, *, revision: str, down_revision: str | None,
                    message: str) -> str:
    """The Alembic revision file: ops up, ops reversed down, and the state it leads to."""
    up = _body([render_up(op) for op in ops])
    down = _body([render_down(op) for op in reversed(ops)])
    state_text = render_state(state)
    uses_pg = any("postgresql." in ln for ln in up + down)
    title = " ".join(message.split())
    title = title[:1].upper() + title[1:]
    if len(title) > WIDTH - 3:
        title = title[: WIDTH - 6].rstrip() + "..."
    title = title.replace("\\", "/").replace('"""', "'''")
    head = [
        f'"""{title}',
        "",
        f"Revision ID: {revision}",
        f"Revises: {down_revision or '(none)'}",
        "",
        "Written by `dsgen db` from dsgen.yaml. Edit freely; dsgen reads only the",
        f"{STATE_CONSTANT} below, which records the schema these migrations lead to.",
        '"""',
    ]
    if any(len(ln) > WIDTH for ln in state_text.splitlines()):
        # A long constant (an enum value, a default) in the recorded state cannot be wrapped.
        head = ["# ruff: noqa: E501", *head]
    lines = [
        *head,
        "",
        "from collections.abc import Sequence",
        "",
        *(["import sqlalchemy as sa"] if any("sa." in ln for ln in up + down) else []),
        "from alembic import op",
        *(["from sqlalchemy.dialects import postgresql"] if uses_pg else []),
        "",
        f"revision: str = {py_str(revision)}",
        f"down_revision: str | None = {py_str(down_revision) if down_revision else 'None'}",
        "branch_labels: str | Sequence[str] | None = None",
        "depends_on: str | Sequence[str] | None = None",
        "",
        "",
        "def upgrade() -> None:",
        *up,
        "",
        "",
        "def downgrade() -> None:",
        *down,
        "",
        "",
        "# The schema after this revision, as dsgen records it: `dsgen db` diffs dsgen.yaml",
        "# against the head revision's copy to write the next revision.",
        f'{STATE_CONSTANT} = r"""',
        state_text,
        '"""',
    ]
    return "\n".join(lines) + "\n"
