"""The kanban pattern's own Python (loaded by dsgen's blueprint registry)."""


def schema(db, screens):
    """Indexes for large tables: a column reads WHERE group = $1 ORDER BY position NULLS
    LAST, label, id (and the board partitions by group in that order)."""
    if db.backend != "postgres":
        return
    from dsgen._pattern_indexes import btree, column, label, screen_store

    for screen in screens:
        store = screen_store(db.spec, screen)
        group = column(store, screen, "group_by") if store is not None else None
        if group is None:
            continue
        order = column(store, screen, "order_by")
        db.add_index(*btree(store.name.table, [group, *([order] if order else []),
                                               label(db.spec, store, screen), "id"]))
