"""The gantt pattern's own Python (loaded by dsgen's blueprint registry)."""


def view(screen):
    """The seed statement of the screen's query-plan test (None: no such test)."""
    from dsgen._pattern_indexes import seed_select

    store = screen.store
    start, end = screen.options.get("start"), screen.options.get("end")
    if store is None or start is None or end is None:
        return {"plan_seed": None}
    label = screen.options.get("label") or store.label_field
    columns = [start.name.snake, end.name.snake, label.name.snake]
    return {"plan_seed": seed_select(store, columns)}


def record_page(screen):
    """A full page of the screen opens one record at <route>/<id>
    (its task's drawer beside the chart):
    the command palette's search hits link there."""
    return screen.route if screen.store is not None else None


def create_route(screen):
    """Where a new record of the screen's store is made: the drawer's form at <route>/new."""
    return f"{screen.route}/new" if screen.store is not None else None


def schema(db, screens):
    """Indexes for large tables: the rows read ORDER BY start NULLS LAST, label, id LIMIT n."""
    if db.backend != "postgres":
        return
    from dsgen._pattern_indexes import btree, column, label, screen_store

    for screen in screens:
        store = screen_store(db.spec, screen)
        start = column(store, screen, "start") if store is not None else None
        if start is not None:
            db.add_index(*btree(store.name.table, [start, label(db.spec, store, screen), "id"]))
