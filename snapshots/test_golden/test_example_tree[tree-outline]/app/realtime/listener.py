"""The one LISTEN connection of this process.

A dedicated autocommit `AsyncConnection` (not from the pool: LISTEN belongs to a session,
and a pooled connection is handed to other requests) listens on `realtime_<channel>` for
every registered channel. A NOTIFY is only a wake-up: the listener then reads the events
its last position (a snapshot) does not see, in one statement that also yields its new
position, and hands the rows to the hub. It also re-reads every
`catchup_s` seconds without a wake-up, which covers a notification lost with a dropped
connection and doubles as a liveness probe. When its connection breaks, it reconnects
with exponential backoff and resumes from the same position: a database restart delays
events, it never loses them.

Several worker processes each run their own listener; PostgreSQL is the hub between them.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from app.realtime.events import Position, current_position, notify_channel, read_changes
from app.realtime.hub import Hub

log = logging.getLogger(__name__)

NOTIFY_SQL = "SELECT pg_notify(c, '') FROM unnest(%s::text[]) AS c"


class Waker:
    """Sends the wake-ups of this process's writes (see `app.db.WakeUps`) after their
    commit, folded: one NOTIFY in flight at a time, on a connection of its own, at most
    one per `min_gap_s`, and every write that commits meanwhile rides on the next one (the
    first write after a quiet moment goes at once). A request never waits for it, and a
    burst of writes costs a few NOTIFYs (PostgreSQL serialises them), not one each. A
    wake-up lost with a broken connection is covered by the listeners' catch-up reads."""

    def __init__(self, conninfo: str, *, min_gap_s: float = 0.002) -> None:
        self._conninfo = conninfo
        self._min_gap_s = min_gap_s
        self._owed: set[str] = set()
        self._ready = asyncio.Event()
        self._conn: AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.sent = 0

    def wake(self, channels: Sequence[str]) -> None:
        self._owed.update(channels)
        self._ready.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="realtime-waker")

    async def stop(self) -> None:
        """Send what the last requests owed, then close."""
        self._closing = True
        self._ready.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except TimeoutError:
                log.warning("realtime waker: gave up sending the last wake-ups")
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self._owed:
                await self._send()
            if self._closing:
                return
            await asyncio.sleep(self._min_gap_s)

    async def _send(self) -> None:
        channels = sorted(self._owed)
        self._owed.clear()
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name="realtime-waker"
                )
            await self._conn.execute(NOTIFY_SQL, (channels,))
            self.sent += 1
        except (psycopg.Error, OSError) as exc:
            log.warning("realtime waker: %s (the listeners' catch-up reads cover it)", exc)
            self._conn = None


class Listener:
    def __init__(
        self,
        conninfo: str,
        hub: Hub,
        *,
        catchup_s: float = 5.0,
        backoff_min_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        self._conninfo = conninfo
        self._hub = hub
        self._catchup_s = catchup_s
        self._backoff = (backoff_min_s, backoff_max_s)
        # The snapshot of the last read; None until the first connection reads the
        # current one (streams catch up on older events themselves).
        self.position: Position | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._conn: AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, wait_s: float = 10.0) -> None:
        """Start listening; wait (a little) for the first connection."""
        self._task = asyncio.create_task(self._run(), name="realtime-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), wait_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                async with await AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name="realtime-listener",
                    # A half-open TCP connection must not leave us deaf for hours.
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                ) as conn:
                    self._conn = conn
                    await self._listen(conn)
                    if self.position is None:
                        self.position = await current_position(conn)
                        self._hub.dispatch([], self.position)
                    self.connected.set()
                    delay = self._backoff[0]
                    log.info("realtime listener connected at event %s", self.position)
                    await self._pump(conn)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("realtime listener: %s; reconnecting in %.1fs", exc, delay)
            finally:
                self._conn = None
                self.connected.clear()
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 (jitter)
            delay = min(delay * 2, self._backoff[1])
            self.reconnects += 1

    async def _listen(self, conn: AsyncConnection[Any]) -> None:
        for channel in self._hub.channels:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(notify_channel(channel))))

    async def _pump(self, conn: AsyncConnection[Any]) -> None:
        while True:
            await self._drain(conn)
            # Sleep until a wake-up (one is enough: the read takes everything) or until
            # the catch-up interval passes. Wake-ups that arrive during the read are
            # kept by psycopg and end the next wait at once.
            async for _ in conn.notifies(timeout=self._catchup_s, stop_after=1):
                pass

    async def _drain(self, conn: AsyncConnection[Any]) -> None:
        assert self.position is not None
        read = await read_changes(conn, after=self.position)
        if not read.complete:
            # Down for longer than the retention window: what we missed is gone from the
            # table, so every stream starts over.
            log.warning("realtime listener: events after %s pruned", self.position)
            self.position = read.position
            self._hub.restart_all(read.position)
        elif read.changes or read.position != self.position:
            self.position = read.position
            self._hub.dispatch(read.changes, read.position)
