"""The tree pattern's own Python (loaded by dsgen's blueprint registry)."""


def record_page(screen):
    """A full page of the screen opens one record at <route>/<id>
    (the node's detail, its ancestors open):
    the command palette's search hits link there."""
    return screen.route if screen.store is not None else None


def create_route(screen):
    """Where a new record of the screen's store is made: a top-level node at <route>/new."""
    return f"{screen.route}/new" if screen.store is not None else None


def schema(db, screens):
    """Indexes for large tables: a level reads WHERE parent = $1 ORDER BY
    (COALESCE(label::text, ''), id) LIMIT n, and `has_children` probes parent = id."""
    if db.backend != "postgres":
        return
    from dsgen._pattern_indexes import btree, column, label, screen_store

    for screen in screens:
        store = screen_store(db.spec, screen)
        parent = column(store, screen, "parent") if store is not None else None
        if parent is not None:
            name = label(db.spec, store, screen)
            db.add_index(*btree(store.name.table, [parent, name, "id"],
                                {name: "coalesce_text"}))
