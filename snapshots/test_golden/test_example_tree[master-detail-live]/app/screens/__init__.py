"""One router per screen of dsgen.yaml, in navigation order.

Each screen module is imported as `<name>_screen` (shortened when long). Importing a submodule
binds its name in this package's namespace all the same (a screen `list` is `list` here), so
the annotations below are not evaluated at import.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.realtime import ChannelView
from app.realtime.asgi import StreamRoute
from app.screens import tasks as tasks_screen

ROUTERS: tuple[APIRouter, ...] = (
    tasks_screen.router,
)

# The realtime views (app/realtime/hub.py `ChannelView`) of the screens that stream
# changes of a realtime store, and their streams' routes (app/realtime/asgi.py).
REALTIME_VIEWS: list[ChannelView] = [
    tasks_screen.LIVE,
]
STREAM_ROUTES: tuple[StreamRoute, ...] = (
    tasks_screen.STREAM,
)
