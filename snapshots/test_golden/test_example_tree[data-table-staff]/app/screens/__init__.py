"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import assets, employees, teams

ROUTERS: tuple[APIRouter, ...] = (
    employees.router,
    assets.router,
    teams.router,
)
