"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import asset_admin, assets, employee_admin, employees, teams

ROUTERS: tuple[APIRouter, ...] = (
    employees.router,
    assets.router,
    teams.router,
    employee_admin.router,
    asset_admin.router,
)
