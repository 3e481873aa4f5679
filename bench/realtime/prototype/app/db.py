"""PostgreSQL access: one async connection pool per app, one pooled connection per request."""

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from app.core.config import Settings

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


def create_pool(settings: Settings) -> Pool:
    """A closed pool; the app's lifespan opens and closes it."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        kwargs={"row_factory": dict_row},
        connection_class=AsyncConnection[DictRow],
        open=False,
    )


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection[DictRow]]:
    """A pooled connection for one request; committed when the handler returns normally."""
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
