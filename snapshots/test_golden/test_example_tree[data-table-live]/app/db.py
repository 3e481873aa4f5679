"""PostgreSQL access: one async connection pool per app, one connection per request."""

from collections.abc import AsyncIterator, Callable, Sequence
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
    wake_ups = WakeUps()
    pool = AsyncConnectionPool(
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
        configure=wake_ups.configure,
        reset=wake_ups.reset,
        open=False,
    )
    _WAKE_UPS[pool] = wake_ups
    return pool


# Realtime stores: PostgreSQL serialises the commits of all transactions that sent NOTIFY,
# so a write to a realtime table made through this pool does not NOTIFY in its transaction;
# its trigger sends a NOTICE naming the channel instead (once per channel and transaction),
# and the wake-up goes out when the connection comes back to the pool, after the commit
# (a rolled-back write only costs a spurious wake-up; the listeners read what committed).
WAKE_UP_SQLSTATE = "R0001"
NOTIFY_SQL = "SELECT pg_notify(c, '') FROM unnest(%s::text[]) AS c"


class WakeUps:
    """The wake-ups owed by the connections of one pool."""

    def __init__(self) -> None:
        self._owed: WeakKeyDictionary[AsyncConnection[Any], set[str]] = WeakKeyDictionary()
        # Set by the realtime runtime: takes the wake-ups of every connection and sends them
        # folded, off the request's path. None: a connection sends its own when it returns.
        self.sender: Callable[[Sequence[str]], None] | None = None

    async def configure(self, conn: AsyncConnection[Any]) -> None:
        channels = self._owed.setdefault(conn, set())

        def collect(diagnostic: errors.Diagnostic) -> None:
            if diagnostic.sqlstate == WAKE_UP_SQLSTATE and diagnostic.message_primary:
                channels.add(diagnostic.message_primary)

        conn.add_notice_handler(collect)

    async def reset(self, conn: AsyncConnection[Any]) -> None:
        channels = self._owed.get(conn)
        if not channels:
            return
        wake = sorted(channels)
        channels.clear()
        if self.sender is not None:
            self.sender(wake)
        else:
            await conn.execute(NOTIFY_SQL, (wake,))


_WAKE_UPS: WeakKeyDictionary[AsyncConnectionPool[Any], WakeUps] = WeakKeyDictionary()


def wake_ups_of(pool: AsyncConnectionPool[Any]) -> WakeUps | None:
    """The wake-ups of a pool made by `create_pool` (None for another pool)."""
    return _WAKE_UPS.get(pool)


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
