"""One router per screen of dsgen.yaml, in navigation order.

Each screen module is imported as `<name>_screen` (shortened when long). Importing a submodule
binds its name in this package's namespace all the same (a screen `list` is `list` here), so
the annotations below are not evaluated at import.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.screens import board as board_screen
from app.screens import people as people_screen
from app.screens import pipeline as pipeline_screen

ROUTERS: tuple[APIRouter, ...] = (
    board_screen.router,
    pipeline_screen.router,
    people_screen.router,
)
