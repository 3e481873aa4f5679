"""What the spec contract names that this dsgen version does not build yet.

The contract (`spec-format.md`) is ahead of the code: it already has sign-in (`app.auth`,
`app.oauth`, `app.signup`, owned rows, role-gated screens), uploads (the `file` field type)
and more patterns. A spec that uses one of them is refused, located, with this wording —
never read as a typo ("unknown key") and never silently ignored. The loader
(`dsgen._load*`) and the checks (`dsgen._check`) read the tables below; when a feature lands,
its entry goes and its key joins the loader's key lists.

Where the next features plug in (as the code stands; each line names the seam, not a plan):
- A database backend: a module under `dsgen/db/` (the `Backend` protocol: state, plan,
  history) registered in `dsgen.db._REGISTRY`, replacing its `_NOT_YET` entry there (which
  `dsgen db --backend` and `dsgen._check` read: one located refusal); then
  `backends: [.., NAME]` in the manifest of the `app` blueprint and of each pattern that
  works on it (`dsgen._check` refuses a spec whose blueprints lack the backend), and the
  files that differ per backend under `blueprints/<id>/backends/NAME/` (looked up before
  `templates/`: the `app` blueprint keeps its store layer, `db.py` and migrations there).
  Two things are PostgreSQL-only today and must be split first: a pattern's `schema` hook
  is called with the PostgreSQL state builder (`dsgen.db.postgres.state.PatternSchema`),
  and seven patterns' screen modules hold SQL of their own (all but master-detail).
- Auth: `app.auth` is parsed into `App.auth`; `login`, `logout` and `auth` are routes no
  screen may take (`dsgen._check.RESERVED_ROUTES`). `owned` would become a `Store` field read
  in `dsgen._load_stores`, `access` a `Screen` field read in `dsgen._load_screens`, handed to
  templates by `dsgen._views` (StoreView, ScreenView); the owner filter belongs in the store
  layer (`blueprints/app/backends/postgres/app/stores/`) and in every screen query that
  bypasses it (the same seven patterns), and the owner column in the schema state
  (`dsgen.db.postgres.state.store_table`).
- A pattern: a folder under `blueprints/` (manifest, templates, optional `pattern.py`); the
  registry finds it, and a registered blueprint wins over its entry in `PATTERNS` below.
"""

from __future__ import annotations

NOT_YET = "is not supported yet by this dsgen version"

_AUTH = "it comes with sign-in (app.auth), which is planned"

# Keys of a section -> the hint given when a spec uses one.
APP_KEYS = {
    "oauth": f"remove it for now: {_AUTH}",
    "signup": f"remove it for now: {_AUTH}",
}
STORE_KEYS = {"owned": "remove it for now: owned rows come with sign-in (app.auth), which is "
                       "planned"}
SCREEN_KEYS = {"access": "remove it for now: screens are public until sign-in (app.auth), "
                         "which is planned, is built"}
FIELD_KEYS = {"accept": "it goes with the 'file' field type, which is planned"}
# Field type -> hint.
FIELD_TYPES = {"file": "store a link in a 'url' field for now; uploads are planned"}
# Patterns of the contract's catalogue no blueprint builds yet (a registered blueprint of
# the same id wins: see dsgen._check).
PATTERNS = ("accordion", "chat", "dashboard", "document", "feed")


def refusal(what: str) -> str:
    """`what` + the one wording every not-yet-built feature is refused with."""
    return f"{what} {NOT_YET}"
