"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import depots, rentals, units

ROUTERS: tuple[APIRouter, ...] = (
    rentals.router,
    depots.router,
    units.router,
)
