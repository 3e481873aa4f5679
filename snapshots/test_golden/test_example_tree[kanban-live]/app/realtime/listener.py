"""The one LISTEN connection of this process.

A dedicated autocommit `AsyncConnection` (not from the pool: LISTEN belongs to a session,
and a pooled connection is handed to other requests) listens on `realtime_<channel>` for
every registered channel. A NOTIFY is only a wake-up: the listener then reads the events
table after the last id it has seen and hands the rows to the hub. It also re-reads every
`catchup_s` seconds without a wake-up, which covers a notification lost with a dropped
connection and doubles as a liveness probe. When its connection breaks, it reconnects
with exponential backoff and resumes from the same id: a database restart delays events,
it never loses them.

Several worker processes each run their own listener; PostgreSQL is the hub between them.
"""

import asyncio
import contextlib
import logging
import random
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from app.realtime.events import can_replay, current_watermark, notify_channel, read_changes
from app.realtime.hub import Hub

log = logging.getLogger(__name__)


class Listener:
    def __init__(
        self,
        conninfo: str,
        hub: Hub,
        *,
        catchup_s: float = 5.0,
        batch: int = 1000,
        backoff_min_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        self._conninfo = conninfo
        self._hub = hub
        self._catchup_s = catchup_s
        self._batch = batch
        self._backoff = (backoff_min_s, backoff_max_s)
        # Newest event id read; None until the first connection sets it to the newest
        # id in the table (streams catch up on older events themselves).
        self.position: int | None = None
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
                        self.position = await current_watermark(conn)
                        self._hub.dispatch([], self.position)
                    elif not await can_replay(conn, self.position):
                        # Down for longer than the retention window: what we missed is
                        # gone from the table, so every stream starts over.
                        log.warning("realtime listener: events after %s pruned", self.position)
                        self.position = await current_watermark(conn)
                        self._hub.restart_all(self.position)
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
        while True:
            changes = await read_changes(conn, after=self.position, limit=self._batch)
            if not changes:
                return
            self.position = changes[-1].id
            self._hub.dispatch(changes, self.position)
            if len(changes) < self._batch:
                return
