"""The schema state of a spec on PostgreSQL: plain JSON that revisions record and diff.

The state is {"dsgen_state": 1, "tables": {table: {...}}}. A table holds `columns` (ordered
list of {name, type, nullable, default}), `constraints` and `indexes` (maps name ->
structured definition), `store` or `link` (what it comes from) and `realtime`. Constraint and
where-clause definitions stay structured (column names, values) rather than SQL text, so a
column rename can be followed through them exactly.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dsgen._blueprints import Registry
from dsgen._model import NOW, Field, FieldType, Spec, Store
from dsgen._names import Name
from dsgen.db.errors import MigrationError
from dsgen.db.quote import identifier, quote_literal, sql_literal

STATE_VERSION = 1
IMPLICIT_COLUMNS = ("id", "created_at", "updated_at")


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


def default_sql(field: Field) -> str | None:
    if field.default == NOW:
        return "CURRENT_DATE" if field.type is FieldType.DATE else "now()"
    if field.default is None:
        return "false" if field.type is FieldType.BOOL else None
    if field.type is FieldType.JSON:
        return quote_literal(json.dumps(field.default, sort_keys=True)) + "::jsonb"
    if field.type is FieldType.UUID:
        return sql_literal(field.default) + "::uuid"
    return sql_literal(field.default)


def column(name: str, type_: str, nullable: bool, default: str | None) -> dict:
    return {"name": name, "type": type_, "nullable": nullable, "default": default}


def store_table(store: Store) -> dict:
    table = store.name.table
    declared = {f.name.snake: f for f in store.fields}
    columns: list[dict] = []
    constraints: dict[str, dict] = {}
    indexes: dict[str, dict] = {}

    def implicit(name: str, type_: str, default: str) -> dict:
        field = declared.get(name)
        own = default_sql(field) if field is not None else None
        return column(name, type_, False, own or default)

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
            columns.append(column(col, sql_type(f), nullable, default_sql(f)))
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
            columns.append(column(name, "timestamptz", False, default))
    for index in store.indexes:
        cols = list(index.fields)
        where = [[c, sql_literal(v)] for c, v in index.partial]
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


def link_table_state(store: Store, field: Field) -> dict:
    name = link_table(store, field)
    owner, target = link_columns(store, field)
    columns = [column(owner, "uuid", False, None), column(target, "uuid", False, None),
               column("position", "integer", False, "0")]
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


class PatternSchema:
    """What a pattern's `schema(db, screens)` hook may add to the PostgreSQL state.

    Tables are plain state entries (see the module docstring); `column` and `identifier`
    build their parts the way the stores' tables are built.
    """

    backend = "postgres"
    column = staticmethod(column)
    identifier = staticmethod(identifier)

    def __init__(self, spec: Spec, state: dict, pattern: str):
        self.spec = spec
        self.pattern = pattern
        self._state = state

    def table(self, name: str) -> dict | None:
        return self._state["tables"].get(name)

    def add_table(self, name: str, *, columns: list[dict], purpose: str,
                  constraints: dict[str, dict] | None = None,
                  indexes: dict[str, dict] | None = None) -> None:
        """A table the pattern keeps its own state in (`purpose` ends "which the <pattern>
        pattern ...", e.g. "keeps its drafts in"); one per app, shared by its screens."""
        if name in self._state["tables"]:
            raise MigrationError(f"a store's table is named '{name}', which the {self.pattern} "
                                 f"pattern {purpose}: rename that store")
        self._state["tables"][name] = {
            "store": None, "link": None, "realtime": False, "columns": columns,
            "constraints": dict(constraints or {}), "indexes": dict(indexes or {})}

    def add_constraint(self, table: str, name: str, definition: dict) -> None:
        self._state["tables"][table]["constraints"][name] = definition

    def add_extension(self, name: str) -> None:
        self._extensions.add(name)

    def add_index(self, table: str, name: str, definition: dict) -> None:
        """An index a screen's hot query needs on a large table (see dsgen/_pattern_indexes
        for the definition keys beyond a declared index's). Skipped when the spec declares
        the same one; a ref's own one-column index that is its prefix is dropped (one index
        less to write); `gin_trgm_ops` brings the pg_trgm extension."""
        state = self._state["tables"].get(table)
        if state is None or name in state["constraints"]:
            return
        indexes = state["indexes"]
        if definition in indexes.values():
            return
        indexes[name] = definition
        first = definition["columns"][0]
        plain = identifier(f"ix_{table}_{first}")
        if (name != plain and not definition.get("using")
                and first not in definition.get("keys", {})
                and indexes.get(plain) == {"columns": [first], "unique": False, "where": []}):
            del indexes[plain]
        if "gin_trgm_ops" in definition.get("ops", {}).values():
            self.add_extension("pg_trgm")

    @property
    def _extensions(self) -> set[str]:
        return self._state.setdefault("_extensions", set())


def schema_state(spec: Spec, registry: Registry | None = None) -> dict:
    """The JSON-able schema every store of the spec leads to (postgres), with what the
    patterns of its screens declare (their `schema` hooks)."""
    from dsgen._blueprints import builtin_registry

    registry = registry or builtin_registry()
    tables: dict[str, dict] = {}
    for store in spec.stores:
        tables[store.name.table] = store_table(store)
        for f in store.fields:
            if f.type is FieldType.REF and f.many:
                tables[link_table(store, f)] = link_table_state(store, f)
    state: dict[str, Any] = {"dsgen_state": STATE_VERSION, "tables": tables}
    for pattern in sorted({screen.pattern for screen in spec.screens}):
        blueprint = registry.get(pattern)
        hook = blueprint.hook("schema") if blueprint is not None else None
        if hook is not None:
            hook(PatternSchema(spec, state, pattern),
                 [screen for screen in spec.screens if screen.pattern == pattern])
    extensions = state.pop("_extensions", set())
    if extensions:  # only when used: states written before extensions existed stay equal
        state["extensions"] = sorted(extensions)
    return state


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
