"""The FastAPI app: lifespan (database pool), static files, screen routers, error pages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from app.core.config import Settings, get_settings
from app.core.limits import Refused, RequestLimits, refusal
from app.core.security import SecurityHeaders, csp_nonce, security_headers
from app.db import create_pool
from app.delivery import STATIC_DIR, CachedStatic, Compress
from app.palette import router as palette_router
from app.registry import HOME_URL
from app.screens import ROUTERS
from app.web import is_datastar, page, sse, toast


def create_app(settings: Settings | None = None) -> FastAPI:
    def current_settings() -> Settings:
        # Read when first needed: importing this module must not need DATABASE_URL.
        return settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = current_settings()
        pool = create_pool(config)
        await pool.open(wait=True)
        app.state.pool = pool
        app.state.settings = config
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    # Outermost last: the headers wrap even a refusal of the limits layer; gzip sits inside.
    app.add_middleware(Compress)
    app.add_middleware(RequestLimits, settings=current_settings)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    app.include_router(palette_router)  # the command palette's search (Ctrl-K)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse(HOME_URL)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and request.method == "GET" and not is_datastar(request):
            return page(
                request,
                "error.html",
                screen="",
                title="Not found",
                status_code=404,
                message="There is nothing at this address.",
            )
        if exc.status_code == 404 and is_datastar(request):
            # Datastar ignores non-200 bodies: say it with a toast instead.
            return sse([toast("That record no longer exists.", "error")])
        if isinstance(exc, Refused):  # a request limit, met while a route read its body
            return refusal(request.scope, exc.status, exc.message)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette answers this outside every middleware: the headers are set here.
        return PlainTextResponse(
            "Something went wrong on our side. Please try again.",
            status_code=500,
            headers=security_headers(csp_nonce() or "none"),
        )

    return app


app = create_app()
