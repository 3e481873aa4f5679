"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import companies, contacts, workspace

ROUTERS: tuple[APIRouter, ...] = (
    workspace.router,
    contacts.router,
    companies.router,
)
