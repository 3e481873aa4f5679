"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import orders, types

ROUTERS: tuple[APIRouter, ...] = (
    types.router,
    orders.router,
)
