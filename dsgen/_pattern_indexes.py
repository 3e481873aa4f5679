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

# Field types a substring search (ILIKE '%q%') runs on (text columns; every type master-detail
# allows in `search`): trigram-indexed.
TRIGRAM_TYPES = (FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL, FieldType.ENUM)

Index = tuple[str, str, dict[str, Any]]  # (table, name, definition)


def btree(table: str, columns: list[str], keys: dict[str, str] | None = None) -> Index:
    # A column named twice (a kanban grouped by its own label field) is indexed once: its
    # second place orders nothing, and a repeated column is refused by the migration.
    columns = list(dict.fromkeys(columns))
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


def seed_select(store: Any, columns: list[str], rows_param: str = "n") -> str | None:
    """One `INSERT ... SELECT ... FROM generate_series` statement filling `store` (a
    StoreView) with `%(n)s` rows for a query-plan test: the given columns and every required
    one get values (md5 text, so substring searches are selective), the rest their
    defaults. None when a required field has a type this cannot fill (a ref, a range too
    small for unique values...)."""
    names: list[str] = []
    exprs: list[str] = []
    wanted = set(columns)
    # Columns of a unique index count as unique: their default, repeated, would collide.
    in_unique = {c for index in store.store.indexes if index.unique for c in index.fields}
    for view in store.columns:
        f = view.field
        col = f.name.snake
        unique = f.unique or col in in_unique
        if col in ("id", "created_at", "updated_at") or not (
                f.required or unique or col in wanted):
            continue
        expr = _seed_expr(f, unique)
        if expr is None:
            if f.required or unique:
                return None
            continue
        names.append(col)
        exprs.append(expr)
    if not names:
        return None
    cols = ", ".join(f'"{c}"' for c in names)
    return (f'INSERT INTO "{store.table}" ({cols}) SELECT {", ".join(exprs)} '
            f"FROM generate_series(1, %({rows_param})s) AS g")


def _seed_expr(f: Any, unique: bool) -> str | None:
    t = f.type
    if t in (FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL):
        prefix = {FieldType.EMAIL: "u", FieldType.URL: "https://example.com/"}.get(t, "")
        suffix = "@example.com" if t is FieldType.EMAIL else ""
        room = (int(f.max) if f.max is not None else 255) - len(prefix) - len(suffix)
        if room < 8 or (f.min is not None and f.min > min(room, 32)):
            return None
        text = f"left(md5(g::text), {min(room, 32)})"
        return " || ".join(p for p in (prefix and f"'{prefix}'", text,
                                       suffix and f"'{suffix}'") if p)
    if t in (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL):
        low = int(f.min) if f.min is not None else 0
        high = int(f.max) if f.max is not None else low + 1_000_000
        if unique:
            return None if f.max is not None else f"{low} + g"
        return f"{low} + g %% {max(1, high - low + 1)}"
    if t is FieldType.BOOL:
        return None if unique else "g %% 2 = 0"
    if t is FieldType.DATE:
        return "date '2020-01-01' + g" if unique else "date '2020-01-01' + (g %% 3650)::int"
    if t is FieldType.DATETIME:
        return "timestamptz '2020-01-01' + g * interval '1 minute'"
    if t is FieldType.ENUM and f.values and not unique:
        # A literal in a statement run with parameters: '%' is written '%%' (an enum value
        # '50%' broke the seed: "only '%s', '%b', '%t' are allowed as placeholders").
        values = ", ".join("'" + v.replace("'", "''").replace("%", "%%") + "'"
                           for v in f.values)
        return f"(ARRAY[{values}])[g %% {len(f.values)} + 1]"
    if t is FieldType.UUID:
        return "md5(g::text)::uuid"
    return None
