"""The wizard pattern's own Python (loaded by dsgen's blueprint registry)."""


def create_route(screen):
    """Where a new record of the screen's store is made: step 1 of a new draft, <route>."""
    return screen.route if screen.store is not None else None

# Every unfinished wizard is kept on the server, one row per draft: the draft id in the URL is
# what lets a refresh, the back button or another device resume it. One table serves every
# wizard screen (`screen` tells them apart); the generated code names it too.
WIZARD_DRAFTS = "wizard_drafts"


def view(screen):
    """What the wizard's templates read beyond the screen itself."""
    return {"drafts_table": WIZARD_DRAFTS}


def schema(db, screens):
    """The drafts table. Its index serves both the expiry sweep and the drafts list."""
    if db.backend != "postgres" or not screens:
        return
    column, identifier = db.column, db.identifier
    db.add_table(
        WIZARD_DRAFTS, purpose="keeps its drafts in",
        columns=[column("id", "uuid", False, "uuidv7()"),
                 column("screen", "text", False, None),
                 column("step", "integer", False, "1"),
                 column("data", "jsonb", False, "'{}'::jsonb"),
                 column("created_at", "timestamptz", False, "now()"),
                 column("updated_at", "timestamptz", False, "now()")],
        constraints={
            identifier(f"pk_{WIZARD_DRAFTS}"): {"kind": "primary_key", "columns": ["id"]},
            identifier(f"ck_{WIZARD_DRAFTS}_step_range"): {
                "kind": "check", "check": "range", "column": "step", "min": 1, "max": None},
        },
        indexes={identifier(f"ix_{WIZARD_DRAFTS}_screen_updated_at"): {
            "columns": ["screen", "updated_at"], "unique": False, "where": []}},
    )
