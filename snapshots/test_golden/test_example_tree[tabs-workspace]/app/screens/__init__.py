"""One router per screen of dsgen.yaml, in navigation order.

Each screen module is imported as `<name>_screen` (shortened when long). Importing a submodule
binds its name in this package's namespace all the same (a screen `list` is `list` here), so
the annotations below are not evaluated at import.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.screens import companies as companies_screen
from app.screens import contacts as contacts_screen
from app.screens import workspace as workspace_screen

ROUTERS: tuple[APIRouter, ...] = (
    workspace_screen.router,
    contacts_screen.router,
    companies_screen.router,
)
