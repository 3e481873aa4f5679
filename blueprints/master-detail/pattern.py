"""The master-detail pattern's own Python (loaded by dsgen's blueprint registry)."""


def create_route(screen):
    """Where a new record of the screen's store is made: the full form at <route>/new."""
    return f"{screen.route}/new" if screen.store is not None else None


def record_route(screen):
    """A master-detail screen shows one record of its store at <route>/<id>: ref fields of
    other screens link there."""
    return screen.route if screen.store is not None else None


def view(screen):
    """The seed statement of the screen's query-plan test (None: no such test)."""
    from dsgen._pattern_indexes import seed_select

    store = screen.store
    if store is None or not store.fields:
        return {"plan_seed": None, "plan_search": []}
    search = [f.name.snake for f in screen.options.get("search") or []]
    return {"plan_seed": seed_select(store, [store.label_field.name.snake, *search]),
            "plan_search": search}


def schema(db, screens):
    """Indexes for large tables: the list reads ORDER BY label, id LIMIT n, filtered by
    ILIKE '%q%' on the search fields (a trigram GIN index each, pg_trgm)."""
    if db.backend != "postgres":
        return
    from dsgen._pattern_indexes import TRIGRAM_TYPES, btree, label, screen_store, trigram

    for screen in screens:
        store = screen_store(db.spec, screen)
        if store is None:
            continue
        db.add_index(*btree(store.name.table, [label(db.spec, store, screen), "id"]))
        for name in screen.options.get("search") or []:
            field = store.field(str(name))
            if field is not None and field.type in TRIGRAM_TYPES:
                db.add_index(*trigram(store.name.table, field.name.snake))
