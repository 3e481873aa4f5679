"""Building blocks for the indexes the patterns' hot queries need on large tables.

Each pattern reads its store in a fixed shape (a list by label, a tree level by parent and
label, a board column by position...). On a large table those reads must walk an index,
not scan and sort every row, so each pattern's `schema` hook (`blueprints/<p>/pattern.py`)
declares one index per shape with `db.add_index`, and the migration diff creates, renames
and drops them as screens come and go, like declared indexes.

An index definition is the usual {"columns", "unique", "where"} plus, only when needed:
  "using": "gin"                    the access method (default btree)
  "ops": {column: opclass}          e.g. gin_trgm_ops for substring search (pg_trgm)
  "keys": {column: "coalesce_text"} the key is COALESCE(column::text, '') (tree order)
"""

from __future__ import annotations

from typing import Any

from dsgen._model import FieldType, Screen, Spec, Store
from dsgen._views import store_views
from dsgen.db.quote import identifier

# Field types a substring search (ILIKE '%q%') runs on: trigram-indexed.
TRIGRAM_TYPES = (FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL)

Index = tuple[str, str, dict[str, Any]]  # (table, name, definition)


def btree(table: str, columns: list[str], keys: dict[str, str] | None = None) -> Index:
    definition: dict[str, Any] = {"columns": columns, "unique": False, "where": []}
    if keys:
        definition["keys"] = keys
    return table, identifier(f"ix_{table}_{'_'.join(columns)}"), definition


def trigram(table: str, column: str) -> Index:
    return table, identifier(f"ix_{table}_{column}_trgm"), {
        "columns": [column], "unique": False, "where": [], "using": "gin",
        "ops": {column: "gin_trgm_ops"}}


def screen_store(spec: Spec, screen: Screen) -> Store | None:
    """The screen's store, when it has columns to index."""
    store = spec.store(screen.store) if screen.store else None
    return store if store is not None and store.fields else None


def column(store: Store, screen: Screen, option: str) -> str | None:
    """The column a field option names (None when unset or not a column)."""
    value = screen.options.get(option)
    found = store.field(str(value)) if value is not None else None
    if found is None or (found.type is FieldType.REF and found.many):
        return None
    return found.name.snake


def label(spec: Spec, store: Store, screen: Screen) -> str:
    """The screen's `label` option, else the store's label field (as the templates pick)."""
    return column(store, screen, "label") or \
        store_views(spec)[store.name.snake].label_field.name.snake


def pattern_indexes(spec: Spec) -> list[Index]:
    """Every index the screens' patterns add to the schema (not declared by the spec)."""
    from dsgen.db.postgres.state import link_table, link_table_state, schema_state, store_table

    base: dict[str, dict] = {}
    for store in spec.stores:
        base[store.name.table] = store_table(store)["indexes"]
        for f in store.fields:
            if f.type is FieldType.REF and f.many:
                base[link_table(store, f)] = link_table_state(store, f)["indexes"]
    out = []
    for table, state in sorted(schema_state(spec)["tables"].items()):
        for name, definition in sorted(state["indexes"].items()):
            if table in base and base[table].get(name) != definition:
                out.append((table, name, definition))
    return out
