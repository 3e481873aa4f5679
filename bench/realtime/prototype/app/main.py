"""The FastAPI app: lifespan (pool, realtime), static files, screen routers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.core.config import Settings, get_settings
from app.db import create_pool
from app.realtime import Realtime
from app.realtime.asgi import RealtimeStreams
from app.screens import REALTIME_VIEWS, ROUTERS, STREAM_ROUTES

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.getLogger("app").setLevel(logging.INFO)
        pool = create_pool(settings)
        await pool.open(wait=True)
        realtime = Realtime(settings, pool, REALTIME_VIEWS)
        await realtime.start()
        app.state.pool = pool
        app.state.realtime = realtime
        try:
            yield
        finally:
            await realtime.stop()
            await pool.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    if settings.test_mode:
        from app.screens import sdk_test

        app.include_router(sdk_test.router)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/tasks")

    return app


def app_factory() -> RealtimeStreams:
    """`uvicorn --factory app.main:app_factory`: settings read at startup, not import;
    realtime streams are answered ahead of FastAPI (see app/realtime/asgi.py)."""
    return RealtimeStreams(create_app(), STREAM_ROUTES)
