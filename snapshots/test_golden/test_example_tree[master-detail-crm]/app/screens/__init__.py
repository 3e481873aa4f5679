"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import companies, contacts, deals

ROUTERS: tuple[APIRouter, ...] = (
    contacts.router,
    companies.router,
    deals.router,
)
