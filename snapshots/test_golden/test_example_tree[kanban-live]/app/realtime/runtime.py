"""Realtime for one process: the hub, the listener and retention, started by the lifespan.

Scaling out: run several worker processes (`uvicorn --workers N`, several containers…).
Each runs its own `Realtime`: one LISTEN connection, its own in-memory subscribers. Every
write reaches every process through PostgreSQL (the NOTIFY wakes all listeners, each
reads the same events table), so any process can serve any stream: no sticky sessions,
no broker. Costs per process: one extra database connection and one small read per burst.
Move to a dedicated broker (Redis/NATS fan-out from a single dispatcher) when the
processes are many (dozens of listeners each re-reading every burst) or when events must
cross databases; the `Feed`/`ChannelView` half stays as it is, only `Listener` changes.
"""

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request
from psycopg_pool import AsyncConnectionPool
from starlette.responses import Response

from app.core.config import Settings
from app.core.limits import Gated, StreamGate
from app.db import wake_ups_of
from app.realtime.events import prune
from app.realtime.hub import ChannelView, Hub
from app.realtime.listener import Listener, Waker
from app.realtime.response import EventStream, naive_stream, resume_point, service_unavailable
from app.realtime.subscriber import Subscriber, UnboundedSubscriber

log = logging.getLogger(__name__)


class Realtime:
    def __init__(
        self, settings: Settings, pool: AsyncConnectionPool[Any], views: Sequence[ChannelView]
    ) -> None:
        self.settings = settings
        self.naive = settings.realtime_mode == "naive"
        self.gate = StreamGate(
            settings.realtime_max_streams_per_client, settings.realtime_max_keys_per_view
        )
        self.hub = Hub(
            pool,
            coalesce_s=0 if self.naive else settings.realtime_coalesce_ms / 1000,
            heartbeat_s=settings.realtime_heartbeat_s,
            max_replay=settings.realtime_max_replay,
            per_event=self.naive,
        )
        for view in views:
            self.hub.register(view)
        self.listener = Listener(
            settings.database_url, self.hub, catchup_s=settings.realtime_catchup_s
        )
        self.waker = Waker(settings.database_url)
        self._pool = pool
        self._pruner: asyncio.Task[None] | None = None
        self._undo_signals: Callable[[], None] = lambda: None

    async def start(self) -> None:
        self.hub.start()
        self.waker.start()
        if (wake_ups := wake_ups_of(self._pool)) is not None:
            wake_ups.sender = self.waker.wake
        await self.listener.start()
        await self.hub.warm_up()
        self._pruner = asyncio.create_task(self._prune_forever(), name="realtime-retention")
        self._undo_signals = end_streams_on_signal(self.hub.close_streams)

    async def stop(self) -> None:
        self._undo_signals()
        if self._pruner is not None:
            self._pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruner
        await self.hub.stop()
        await self.listener.stop()
        if (wake_ups := wake_ups_of(self._pool)) is not None:
            wake_ups.sender = None
        await self.waker.stop()

    def stream(self, request: Request, view: str, key: str = "") -> Response:
        """The response for a page's `@get` stream of `view` (a screen name), for the
        pages of group `key` (e.g. the search the page shows)."""
        if self.hub.closed:
            return service_unavailable()
        if (refusal := self.gate.admit(request, view, key)) is not None:
            return refusal
        response = self._stream(request, view, key)
        return Gated(response, lambda: self.gate.release(request, view, key))

    def _stream(self, request: Request, view: str, key: str) -> Response:
        feed = self.hub.feed(view)
        since = resume_point(request)
        heartbeat = self.settings.realtime_heartbeat_s
        if self.naive:
            return naive_stream(
                feed, UnboundedSubscriber(), since=since, key=key, heartbeat_s=heartbeat
            )
        subscriber = Subscriber(
            max_frames=self.settings.realtime_queue_frames,
            max_bytes=self.settings.realtime_queue_bytes,
        )
        return EventStream(feed, subscriber, since=since, key=key)

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.realtime_prune_every_s)
            try:
                async with self._pool.connection() as conn:
                    deleted = await prune(conn, keep_seconds=self.settings.realtime_retention_s)
                if deleted:
                    log.info("realtime retention: pruned %d events", deleted)
            except Exception:
                log.exception("realtime retention failed (will retry)")


def get_realtime(request: Request) -> Realtime:
    return request.app.state.realtime  # type: ignore[no-any-return]


def end_streams_on_signal(callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` as soon as SIGINT/SIGTERM arrives, then the server's own handler.

    uvicorn waits for open connections to finish *before* it runs the lifespan shutdown,
    and an event stream never finishes by itself: without this a deploy waits for
    `--timeout-graceful-shutdown` and then cuts every stream. Chained in front of the
    handlers uvicorn installs with `signal.signal`; returns a function that undoes it.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[signal.Signals, Any] = {}

    for sig in (signal.SIGINT, signal.SIGTERM):
        prior = signal.getsignal(sig)

        def handler(signum: int, frame: Any, prior: Any = prior) -> None:
            loop.call_soon_threadsafe(callback)
            if callable(prior):
                prior(signum, frame)

        previous[sig] = prior
        signal.signal(sig, handler)

    def undo() -> None:
        for sig, prior in previous.items():
            signal.signal(sig, prior)

    return undo
