"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import companies, new_signup, signups

ROUTERS: tuple[APIRouter, ...] = (
    new_signup.router,
    signups.router,
    companies.router,
)
