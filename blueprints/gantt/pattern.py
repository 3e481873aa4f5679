"""The gantt pattern's own Python (loaded by dsgen's blueprint registry)."""

from dsgen.db.quote import quote_ident


def view(screen):
    """The SQL fragments the screen module's queries are built from.

    `sc`, `ec`: the start and end columns, quoted; `label_sql`: a bar's label as text;
    `assignments`: the SET list of a move (start, end unless it is the same column, and
    `updated_at` unless a bar is drawn from it).
    """
    options = screen.options
    start, end = options["start"], options["end"]
    label = options.get("label") or screen.store.label_field
    sc, ec = quote_ident(start.name.snake), quote_ident(end.name.snake)
    label_sql = 't."id"::text' if label.is_link else f"t.{quote_ident(label.name.snake)}::text"
    assignments = [f"{sc} = %(start)s"]
    if ec != sc:
        assignments.append(f"{ec} = %(end)s")
    if "updated_at" not in (start.name.snake, end.name.snake):
        assignments.append('"updated_at" = now()')
    return {"sc": sc, "ec": ec, "label_sql": label_sql, "assignments": assignments}


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
