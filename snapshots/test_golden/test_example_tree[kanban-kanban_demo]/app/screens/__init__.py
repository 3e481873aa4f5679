"""One router per screen of dsgen.yaml, in navigation order."""

from fastapi import APIRouter

from app.screens import board, people, pipeline

ROUTERS: tuple[APIRouter, ...] = (
    board.router,
    pipeline.router,
    people.router,
)
