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
    columns = [column("screen", "text", False, None), column("position", "integer", False, None),
               column("tab", "text", False, None)]
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
    columns = [column("id", "uuid", False, "uuidv7()"), column("screen", "text", False, None),
               column("step", "integer", False, "1"),
               column("data", "jsonb", False, "'{}'::jsonb"),
               column("created_at", "timestamptz", False, "now()"),
               column("updated_at", "timestamptz", False, "now()")]
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
        tables[store.name.table] = store_table(store)
        for f in store.fields:
            if f.type is FieldType.REF and f.many:
                tables[link_table(store, f)] = link_table_state(store, f)
    tables.update(_wizard_drafts_table(spec, tables))
    tables.update(_tab_orders_table(spec, tables))
    extensions: set[str] = set()
    for table, name, definition in _no_overlap_constraints(spec):
        tables[table]["constraints"][name] = definition
        if definition["columns"]:
            extensions.add("btree_gist")  # `uuid WITH =` in a GiST index needs it
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
