"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import rentals

ROUTERS: tuple[APIRouter, ...] = (
    rentals.router,
)
