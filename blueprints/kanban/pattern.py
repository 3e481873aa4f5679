"""The kanban pattern's own Python (loaded by dsgen's blueprint registry)."""


def view(screen):
    """The seed statement of the screen's query-plan test (None: no such test)."""
    from dsgen._pattern_indexes import seed_select

    store = screen.store
    group = screen.options.get("group_by")
    if store is None or group is None:
        return {"plan_seed": None}
    order = screen.options.get("order_by")
    columns = [group.name.snake, store.label_field.name.snake]
    return {"plan_seed": seed_select(store, columns + ([order.name.snake] if order else []))}


def record_page(screen):
    """A full page of the screen opens one record at <route>/<id>
    (its card's drawer on the board):
    the command palette's search hits link there."""
    return screen.route if screen.store is not None else None


def create_route(screen):
    """Where a new record of the screen's store is made: the drawer's full form at <route>/new."""
    return f"{screen.route}/new" if screen.store is not None else None


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


def check(screen, store):
    """`order_by` is renumbered on every move, column by column: each column has a first
    card, so a field unique across the table (alone or in a unique index) cannot hold it."""
    order = screen.options.get("order_by")
    field = store.field(str(order)) if store is not None and order is not None else None
    if field is None:
        return []
    if field.unique:
        return [f"order_by: '{field.name.snake}' is unique, but every column numbers its "
                f"cards from the same first position (drop 'unique' from the field, or "
                f"order by another int field)"]
    for index in store.indexes:
        if index.unique and field.name.snake in index.fields:
            return [f"order_by: '{field.name.snake}' is in a unique index "
                    f"({', '.join(index.fields)}), but the board renumbers positions on every "
                    f"move (drop the field from the index, or order by another int field)"]
    return []
