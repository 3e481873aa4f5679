"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import bills, companies, contacts

ROUTERS: tuple[APIRouter, ...] = (
    contacts.router,
    companies.router,
    bills.router,
)
