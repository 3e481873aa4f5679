"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.realtime import ChannelView
from app.realtime.asgi import StreamRoute
from app.screens import product_admin, products

ROUTERS: tuple[APIRouter, ...] = (
    products.router,
    product_admin.router,
)

# The realtime views (app/realtime/hub.py `ChannelView`) of the screens that stream
# changes of a realtime store, and their streams' routes (app/realtime/asgi.py).
REALTIME_VIEWS: list[ChannelView] = [
    products.LIVE,
    product_admin.LIVE,
]
STREAM_ROUTES: tuple[StreamRoute, ...] = (
    products.STREAM,
    product_admin.STREAM,
)
