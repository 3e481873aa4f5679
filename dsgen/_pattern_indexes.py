"""Indexes the patterns' hot queries need on large tables, declared per pattern.

Each pattern reads its store in a fixed shape (a list by label, a tree level by parent and
label, a board column by position...). On a large table those reads must walk an index,
not scan and sort every row, so the schema gets one index per shape, derived here from the
screens of the spec and added to the store's table state like any declared index (the
migration diff then creates, renames and drops them as screens come and go).

An index definition is the usual {"columns", "unique", "where"} plus, only when needed:
  "using": "gin"                    the access method (default btree)
  "ops": {column: opclass}          e.g. gin_trgm_ops for substring search (pg_trgm)
  "keys": {column: "coalesce_text"} the key is COALESCE(column::text, '') (tree order)

TODO(lead): this is a stand-in for the per-pattern hooks (`blueprints/<p>/pattern.py`)
the dsgen-arch helper is adding; each `_<pattern>` function below moves into its pattern's
hook unchanged when they land.
"""

from collections.abc import Callable, Iterator
from typing import Any

from dsgen._migrate import identifier
from dsgen._model import FieldType, Screen, Spec
from dsgen._views import StoreView, store_views

# Field types a substring search (ILIKE '%q%') runs on: trigram-indexed.
_TRIGRAM_TYPES = (FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL)
TRIGRAM_EXTENSION = "pg_trgm"

Index = tuple[str, dict[str, Any]]  # (name, definition)


def _btree(table: str, columns: list[str], keys: dict[str, str] | None = None) -> Index:
    definition: dict[str, Any] = {"columns": columns, "unique": False, "where": []}
    if keys:
        definition["keys"] = keys
    return identifier(f"ix_{table}_{'_'.join(columns)}"), definition


def _trigram(table: str, column: str) -> Index:
    return identifier(f"ix_{table}_{column}_trgm"), {
        "columns": [column], "unique": False, "where": [], "using": "gin",
        "ops": {column: "gin_trgm_ops"}}


def _label(store: StoreView, screen: Screen) -> str:
    chosen = store.store.field(str(screen.options.get("label")))
    return (chosen or store.label_field.field).name.snake


def _field(store: StoreView, screen: Screen, option: str) -> str | None:
    value = screen.options.get(option)
    found = store.store.field(str(value)) if value is not None else None
    return found.name.snake if found is not None else None


def _master_detail(store: StoreView, screen: Screen) -> Iterator[Index]:
    """The list: ORDER BY label, id LIMIT n, filtered by ILIKE on the search fields."""
    table = store.table
    yield _btree(table, [_label(store, screen), "id"])
    for name in screen.options.get("search") or []:
        f = store.store.field(str(name))
        if f is not None and f.type in _TRIGRAM_TYPES:
            yield _trigram(table, f.name.snake)


def _tree(store: StoreView, screen: Screen) -> Iterator[Index]:
    """A level: WHERE parent = $1 ORDER BY (COALESCE(label::text, ''), id) LIMIT n (and
    `has_children`: EXISTS (... WHERE parent = id))."""
    parent = _field(store, screen, "parent")
    if parent is not None:
        label = _label(store, screen)
        yield _btree(store.table, [parent, label, "id"], {label: "coalesce_text"})


def _kanban(store: StoreView, screen: Screen) -> Iterator[Index]:
    """A column: WHERE group = $1 ORDER BY position NULLS LAST, label, id."""
    group = _field(store, screen, "group_by")
    if group is not None:
        order = _field(store, screen, "order_by")
        yield _btree(store.table,
                     [group, *([order] if order else []), _label(store, screen), "id"])


def _gantt(store: StoreView, screen: Screen) -> Iterator[Index]:
    """The rows: ORDER BY start NULLS LAST, label, id LIMIT n."""
    start = _field(store, screen, "start")
    if start is not None:
        yield _btree(store.table, [start, _label(store, screen), "id"])


def _date_range(store: StoreView, screen: Screen) -> Iterator[Index]:
    """A month of one resource: WHERE resource = $1 AND start < $2 AND end > $3 ORDER BY
    start; bookings that end after a day are the few current and future ones."""
    start, end = _field(store, screen, "start"), _field(store, screen, "end")
    if start is not None and end is not None:
        resource = _field(store, screen, "resource")
        yield _btree(store.table, [*([resource] if resource else []), end, start])


PATTERNS: dict[str, Callable[[StoreView, Screen], Iterator[Index]]] = {
    "master-detail": _master_detail,
    "tree": _tree,
    "kanban": _kanban,
    "gantt": _gantt,
    "date-range": _date_range,
}


def pattern_indexes(spec: Spec) -> list[tuple[str, str, dict[str, Any]]]:
    """(table, name, definition) of every index the screens of `spec` need, sorted."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    views = store_views(spec)
    for screen in spec.screens:
        hook = PATTERNS.get(screen.pattern)
        store = views.get(screen.store) if screen.store else None
        if hook is None or store is None or not store.fields:
            continue
        columns = {f.name.snake for f in store.columns} | {"id", "created_at", "updated_at"}
        for name, definition in hook(store, screen):
            if all(c in columns for c in definition["columns"]):
                found[(store.table, name)] = definition
    return [(table, name, found[(table, name)]) for table, name in sorted(found)]


def needs_trigram(definition: dict[str, Any]) -> bool:
    return "gin_trgm_ops" in definition.get("ops", {}).values()
