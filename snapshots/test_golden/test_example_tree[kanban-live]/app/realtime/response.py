"""Long-lived `text/event-stream` responses fed by a feed, and where a stream resumes from.

`EventStream` is a plain ASGI response with one task per stream: it waits for frames (or
a heartbeat timeout, or the client going away), and writes everything queued as one chunk.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from app.realtime.events import Position
from app.realtime.hub import HEARTBEAT, Feed
from app.realtime.subscriber import State, Subscriber, UnboundedSubscriber

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
}


def resume_point(request: Request) -> Position | None:
    """The position in the change log the client's page reflects.

    `Last-Event-ID` is sent by Datastar when it reconnects the same @get (the id of the
    last frame it received); otherwise the page passes `?since=<position>`, where it was
    rendered. Neither, or garbage (or a numeric id from before positions were snapshots):
    None, the client gets a full re-render.
    """
    for raw in (request.headers.get("last-event-id"), request.query_params.get("since")):
        if raw is not None and len(raw) <= 4096 and (position := Position.parse(raw)):
            return position
    return None


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class EventStream(Response):
    """Streams a subscriber's frames until the client leaves or the server closes it.

    One task per stream (plus the one waiting for the disconnect): it sleeps on the
    subscriber, then writes everything queued as one chunk. Heartbeats come from the
    feed (a single timer), not from a timeout per stream.
    """

    media_type = "text/event-stream"

    def __init__(
        self, feed: Feed, subscriber: Subscriber, *, since: Position | None, key: str = ""
    ) -> None:
        # Not Response.__init__: it would declare an empty body (content-length: 0).
        self.status_code = 200
        self.background = None
        self.init_headers(SSE_HEADERS)
        self.feed = feed
        self.subscriber = subscriber
        self.since = since
        self.key = key
        self._sending = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        subscriber = self.subscriber

        def interrupt_send() -> None:
            # Dropped while blocked on a full socket: only cancelling gets us out.
            if self._sending:
                task.cancel()

        subscriber.on_drop = interrupt_send
        gone = asyncio.ensure_future(_until_disconnect(receive))
        gone.add_done_callback(lambda _: subscriber.wake())
        self.feed.join(subscriber, self.since, self.key)
        try:
            await self._send(
                send, {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
            )
            while True:
                await subscriber.wait()
                if gone.done():
                    return
                if subscriber.state is State.DROPPED:
                    # Too far behind (but not stuck: this send will not block): end the
                    # response; Datastar reconnects with Last-Event-ID.
                    await self._send(
                        send, {"type": "http.response.body", "body": b"", "more_body": False}
                    )
                    return
                closing = subscriber.state is State.CLOSING
                chunk = subscriber.take()
                if chunk or closing:
                    await self._send(
                        send,
                        {"type": "http.response.body", "body": chunk, "more_body": not closing},
                    )
                if closing:
                    return
        except asyncio.CancelledError:
            if subscriber.state is State.DROPPED and task.uncancel() == 0:
                # Dropped while stuck on a full socket. Returning without completing the
                # response makes uvicorn close the connection (it logs one error line).
                return
            raise
        finally:
            self.feed.leave(subscriber, self.key)
            gone.cancel()

    async def _send(self, send: Send, message: Any) -> None:
        self._sending = True
        try:
            await send(message)
        finally:
            self._sending = False


def naive_stream(
    feed: Feed,
    subscriber: UnboundedSubscriber,
    *,
    since: Position | None,
    key: str,
    heartbeat_s: float,
) -> StreamingResponse:
    """The benchmark baseline: an async generator over an unbounded queue, one frame per
    `yield` (what a first SSE endpoint usually looks like)."""

    async def frames() -> AsyncIterator[bytes]:
        feed.join(subscriber, since, key)
        try:
            while True:
                try:
                    frame = await asyncio.wait_for(subscriber.queue.get(), heartbeat_s)
                except TimeoutError:
                    frame = HEARTBEAT
                if frame == UnboundedSubscriber.CLOSE:
                    return
                yield frame
        finally:
            feed.leave(subscriber, key)

    return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


def service_unavailable() -> Response:
    """While shutting down: Datastar (retry 'always') tries again after its interval."""
    return Response(status_code=503, headers={"Retry-After": "1"})
