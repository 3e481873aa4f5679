"""The date-range pattern's own Python (loaded by dsgen's blueprint registry)."""

from dsgen._model import FieldType


def create_route(screen):
    """Where a new record of the screen's store is made: the booking form on the screen itself."""
    return screen.route if screen.store is not None else None


def schema(db, screens):
    """The exclusion constraint of each date-range screen.

    "No two rows of the same resource overlap" must hold under concurrency, so the database
    enforces it: EXCLUDE USING gist (resource WITH =, daterange(start, end, '[)') WITH &&).
    The end is exclusive (hotel nights: a stay ending on the 5th and one starting on the 5th
    do not overlap). Rows missing a date are left out (a NULL bound would mean "unbounded").
    Screens whose options do not fit are skipped: check_spec reports them.
    """
    if db.backend != "postgres":
        return
    for screen in screens:
        store = db.spec.store(screen.store) if screen.store else None
        if store is None:
            continue
        start = store.field(str(screen.options.get("start")))
        end = store.field(str(screen.options.get("end")))
        resource = screen.options.get("resource")
        ref = store.field(str(resource)) if resource is not None else None
        if start is None or end is None or start is end or any(
                f.type is not FieldType.DATE for f in (start, end)):
            continue
        if resource is not None and (ref is None or ref.type is not FieldType.REF or ref.many):
            continue
        columns = [ref.name.snake] if ref is not None else []
        bounds = [start.name.snake, end.name.snake]
        where = [[f.name.snake, "NOT NULL"] for f in (start, end) if not f.required]
        table = store.name.table
        name = db.identifier(f"ex_{table}_{'_'.join(columns + bounds)}")
        db.add_constraint(table, name, {
            "kind": "exclude", "using": "gist", "columns": columns, "range": bounds,
            "range_type": "daterange", "bounds": "[)", "where": where})
        if columns:
            db.add_extension("btree_gist")  # `uuid WITH =` in a GiST index needs it
    _indexes(db, screens)


def _indexes(db, screens):
    """A month of one resource reads WHERE resource = $1 AND start < $2 AND end > $3 ORDER
    BY start: by (resource, end), only the current and future stays are walked."""
    from dsgen._pattern_indexes import btree, column, screen_store

    for screen in screens:
        store = screen_store(db.spec, screen)
        start, end = (column(store, screen, o) for o in ("start", "end")) if store else (None,) * 2
        if store is None or start is None or end is None:
            continue
        resource = column(store, screen, "resource")
        db.add_index(*btree(store.name.table, [*([resource] if resource else []), end, start]))


def check(screen, store):
    """A row created without dates takes both defaults: they must make a range (start on
    or before end), or every such row breaks the constraint's daterange() (a 500)."""
    if store is None:
        return []
    start = store.field(str(screen.options.get("start")))
    end = store.field(str(screen.options.get("end")))
    if start is None or end is None or start is end:
        return []
    if not (start.has_default and end.has_default):
        return []
    a, b = start.default, end.default
    if a == "now" and b == "now":
        return []
    if b == "now" or (a != "now" and str(a) <= str(b)):
        return []
    when = "today" if a == "now" else str(a)
    return [f"start: '{start.name.snake}' defaults to {when}, after the default of end "
            f"'{end.name.snake}' ({b}) (a booking without dates would end before it starts; "
            f"give end a later default, 'now' or none)"]
