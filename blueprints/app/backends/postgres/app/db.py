"""PostgreSQL access: one async connection pool per app, one connection per request."""

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from psycopg import AsyncConnection, errors
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
            # Set on the server session at connect: a runaway query is cancelled; writes
            # to realtime stores wake the listeners after the commit (see below).
            "options": f"-c statement_timeout={int(settings.statement_timeout_ms)} "
            "-c realtime.wake_after_commit=on",
        },
        connection_class=AsyncConnection[DictRow],
        configure=_collect_wake_ups,
        reset=_send_wake_ups,
        open=False,
    )


# Realtime stores: PostgreSQL serialises the commits of all transactions that sent NOTIFY,
# so a write to a realtime table made through this pool does not NOTIFY in its transaction;
# its trigger sends a NOTICE naming the channel instead (once per channel and transaction),
# and the wake-up goes out when the connection comes back to the pool, after the commit
# (a rolled-back write only costs a spurious wake-up; the listeners read what committed).
WAKE_UP_SQLSTATE = "R0001"
_wake_ups: WeakKeyDictionary[AsyncConnection[Any], set[str]] = WeakKeyDictionary()


async def _collect_wake_ups(conn: AsyncConnection[Any]) -> None:
    channels = _wake_ups.setdefault(conn, set())

    def collect(diagnostic: errors.Diagnostic) -> None:
        if diagnostic.sqlstate == WAKE_UP_SQLSTATE and diagnostic.message_primary:
            channels.add(diagnostic.message_primary)

    conn.add_notice_handler(collect)


async def _send_wake_ups(conn: AsyncConnection[Any]) -> None:
    channels = _wake_ups.get(conn)
    if channels:
        wake = sorted(channels)
        channels.clear()
        await conn.execute("SELECT pg_notify(c, '') FROM unnest(%s::text[]) AS c", (wake,))


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
