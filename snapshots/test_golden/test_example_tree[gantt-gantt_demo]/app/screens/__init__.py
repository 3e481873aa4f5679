"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.realtime import ChannelView
from app.realtime.asgi import StreamRoute
from app.screens import rota, tasks, timeline

ROUTERS: tuple[APIRouter, ...] = (
    timeline.router,
    tasks.router,
    rota.router,
)

# The realtime views (app/realtime/hub.py `ChannelView`) of the screens that stream
# changes of a realtime store, and their streams' routes (app/realtime/asgi.py).
REALTIME_VIEWS: list[ChannelView] = [
    timeline.LIVE,
    tasks.LIVE,
]
STREAM_ROUTES: tuple[StreamRoute, ...] = (
    timeline.STREAM,
    tasks.STREAM,
)
