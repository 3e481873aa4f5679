"""The tabs pattern's own Python (loaded by dsgen's blueprint registry)."""

# Each screen with `reorder: true` saves its tab order on the server, one row per tab. One
# table serves every such screen; the generated code names it too.
TAB_ORDERS = "tab_orders"


def schema(db, screens):
    """The tab order table, when a tabs screen lets its tabs be reordered."""
    if db.backend != "postgres" or not any(s.options.get("reorder") is True for s in screens):
        return
    column = db.column
    db.add_table(
        TAB_ORDERS, purpose="keeps its tab order in",
        columns=[column("screen", "text", False, None),
                 column("position", "integer", False, None),
                 column("tab", "text", False, None)],
        constraints={db.identifier(f"pk_{TAB_ORDERS}"): {
            "kind": "primary_key", "columns": ["screen", "tab"]}},
    )
