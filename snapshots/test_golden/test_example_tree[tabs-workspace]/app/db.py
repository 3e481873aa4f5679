"""PostgreSQL access: one async connection pool per app, one connection per request."""

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from app.core.config import Settings


def create_pool(settings: Settings) -> AsyncConnectionPool[AsyncConnection[DictRow]]:
    """A closed pool; the app's lifespan opens and closes it."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        # Autocommit: a plain query commits at once, and `async with conn.transaction()`
        # is a real transaction (not a savepoint of an implicit one that would commit only
        # after the response has streamed, letting the browser see uncommitted changes).
        kwargs={
            "row_factory": dict_row,
            "autocommit": True,
            # Set on the server session at connect: a runaway query is cancelled.
            "options": f"-c statement_timeout={int(settings.statement_timeout_ms)}",
        },
        connection_class=AsyncConnection[DictRow],
        open=False,
    )


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection[DictRow]]:
    """A pooled connection for one request (autocommit: group writes in conn.transaction())."""
    pool: AsyncConnectionPool[Any] = request.app.state.pool
    async with pool.connection() as conn:
        yield conn


Conn = Annotated[AsyncConnection[DictRow], Depends(get_conn)]


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (keeps ?host= socket paths)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def sqlalchemy_url(url: str) -> str:
    """Alembic speaks SQLAlchemy: select the psycopg 3 driver explicitly."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg{sep}{rest}"
    return url
