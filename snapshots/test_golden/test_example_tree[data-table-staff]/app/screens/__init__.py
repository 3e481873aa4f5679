"""One router per screen of dsgen.yaml, in navigation order.

Each screen module is imported as `<name>_screen` (shortened when long). Importing a submodule
binds its name in this package's namespace all the same (a screen `list` is `list` here), so
the annotations below are not evaluated at import.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.screens import asset_admin as asset_admin_screen
from app.screens import assets as assets_screen
from app.screens import employee_admin as employee_admin_screen
from app.screens import employees as employees_screen
from app.screens import teams as teams_screen

ROUTERS: tuple[APIRouter, ...] = (
    employees_screen.router,
    assets_screen.router,
    teams_screen.router,
    employee_admin_screen.router,
    asset_admin_screen.router,
)
