"""The data-table pattern's own Python (loaded by dsgen's blueprint registry)."""

# How many fields are shown as columns when the screen does not list them (blueprint.yml).
DEFAULT_COLUMNS = 5


def _filters(store, screen) -> list[str]:
    """The columns the filter box searches (ILIKE '%q%', OR-ed): the `filter` option, else
    every text-like field (blueprint.yml's default)."""
    from dsgen._pattern_indexes import TRIGRAM_TYPES

    names = screen.options.get("filter")
    fields = [store.field(str(n)) for n in names] if names is not None else store.fields
    return [f.name.snake for f in fields if f is not None and f.type in TRIGRAM_TYPES]


def _default_sort(store, screen) -> str | None:
    """The column of the default order, when it is a plain column of the store (a ref sorts
    by the referenced label: no index of this table serves that)."""
    from dsgen._model import FieldType

    sort = screen.options.get("sort")
    if sort is None:
        names = screen.options.get("columns")
        shown = [store.field(str(n)) for n in names] if names is not None else \
            store.fields[:DEFAULT_COLUMNS]
        shown = [f for f in shown if f is not None and f.type is not FieldType.JSON and not (
            f.type is FieldType.REF and f.many)]
        if not shown:
            return None
        sort = shown[0].name.snake
    field = store.field(str(sort).lstrip("-"))
    if field is None or field.type in (FieldType.REF, FieldType.JSON):
        return None
    return field.name.snake


def view(screen):
    """The seed statement of the screen's query-plan test (None: no such test)."""
    from dsgen._pattern_indexes import seed_select

    store = screen.store
    if store is None or not store.fields:
        return {"plan_seed": None, "plan_sort": None}
    filters = _filters(store.store, screen.screen)
    sort = _default_sort(store.store, screen.screen)
    seed = seed_select(store, [*filters, *([sort] if sort else [])])
    return {"plan_seed": seed if sort or filters else None, "plan_sort": sort}


def schema(db, screens):
    """Indexes for large tables: a page reads ORDER BY sort, id LIMIT n, filtered by ILIKE
    '%q%' on every filter column, OR-ed. A trigram GIN index per filter column (pg_trgm)
    lets PostgreSQL combine them (BitmapOr) and sort only the matches; without one, any
    column left unindexed turns the filter into a walk of every row. The default order
    gets its (column, id) index; other sort columns are sorted from the matches (a filtered
    page) or need an index of the spec's own."""
    if db.backend != "postgres":
        return
    from dsgen._pattern_indexes import btree, screen_store, trigram

    for screen in screens:
        store = screen_store(db.spec, screen)
        if store is None:
            continue
        sort = _default_sort(store, screen)
        if sort is not None:
            db.add_index(*btree(store.name.table, [sort, "id"]))
        for name in _filters(store, screen):
            db.add_index(*trigram(store.name.table, name))


def check(screen, store):
    """`sort` names a column the table can order by: a shown column (not a many-ref or a
    json field) or created_at / updated_at, optionally prefixed with '-'. (The templates
    keep the same rule as a backstop; `dsgen check` must see it too.)"""
    from dsgen._model import FieldType

    sort = screen.options.get("sort")
    if sort is None or store is None:
        return []
    names = screen.options.get("columns")
    shown = [store.field(str(n)) for n in names] if names is not None else \
        store.fields[:DEFAULT_COLUMNS]
    keys = [f.name.snake for f in shown if f is not None and f.type is not FieldType.JSON
            and not (f.type is FieldType.REF and f.many)]
    keys += [name for name in ("created_at", "updated_at") if name not in keys]
    text = str(sort).strip()
    if text.startswith("--") or text.lstrip("-") not in keys:
        return [f"sort: '{sort}' is not a sortable column of store '{store.name.snake}' "
                f"(expected one of {', '.join(keys)}, optionally prefixed with '-')"]
    return []
