"""One open stream's mailbox: encoded frames waiting between its feed and its socket.

The queue is bounded. A client that falls that far behind (a stalled phone, a tab on a
dead network) is dropped: its queue is discarded and its connection closed, and the
browser reconnects with `Last-Event-ID` and gets what it missed from the events table.
Memory per stream stays bounded no matter how slow a client is.
"""

import asyncio
from collections.abc import Callable
from enum import StrEnum

from app.realtime.events import Position


class State(StrEnum):
    OPEN = "open"
    CLOSING = "closing"  # server shutdown: send what is queued, then end the response
    DROPPED = "dropped"  # too far behind: discard the queue, cut the connection


class Subscriber:
    """A bounded FIFO of frames (bytes shared by every subscriber of a feed)."""

    def __init__(self, *, max_frames: int, max_bytes: int) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.state = State.OPEN
        # Position of the last frame queued: where this client will resume from.
        self.position: Position | None = None
        self._frames: list[bytes] = []  # a list: much smaller than a deque when empty
        self._bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        # Set by the response: interrupts a send() that is stuck on a full socket.
        self.on_drop: Callable[[], None] | None = None
        # Cleared by the feed's heartbeat tick, set by every offer: idle streams get a
        # heartbeat without a timer per stream.
        self.active = True

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    def offer(self, frame: bytes, position: Position | None = None) -> bool:
        """Queue a frame; False (and the stream is dropped) when the queue is full."""
        if self.state is not State.OPEN:
            return False
        # The bound is on the backlog: a frame is always taken into an empty queue (a big
        # catch-up frame must not get a client dropped over and over).
        if self._frames and (
            len(self._frames) >= self.max_frames or self._bytes + len(frame) > self.max_bytes
        ):
            self.drop()
            return False
        self._frames.append(frame)
        self._bytes += len(frame)
        self.active = True
        if position is not None:
            self.position = position
        self.wake()
        return True

    def take(self) -> bytes:
        """Everything queued, as one chunk (a client that lagged catches up in one write)."""
        chunk = b"".join(self._frames)
        self._frames = []
        self._bytes = 0
        return chunk

    async def wait(self) -> None:
        """Until a frame is queued or the stream is closed, dropped or woken."""
        if self._frames or self.state is not State.OPEN:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def wake(self) -> None:
        """Return from `wait()` now (the client went away)."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        """End the stream gracefully after what is already queued (server shutdown)."""
        if self.state is State.OPEN:
            self.state = State.CLOSING
            self.wake()

    def drop(self) -> None:
        """Give up on a client that cannot keep up; it resumes by event id."""
        if self.state is State.DROPPED:
            return
        self.state = State.DROPPED
        self._frames = []
        self._bytes = 0
        self.wake()
        if self.on_drop is not None:
            self.on_drop()


class UnboundedSubscriber:
    """The benchmark baseline: one unbounded asyncio.Queue per stream, frame after frame."""

    CLOSE = b""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.active = True  # the baseline does its own heartbeats
        self.state = State.OPEN
        self.position: Position | None = None
        self.on_drop: Callable[[], None] | None = None

    def __len__(self) -> int:
        return self.queue.qsize()

    def offer(self, frame: bytes, position: Position | None = None) -> bool:
        if self.state is not State.OPEN:
            return False
        self.queue.put_nowait(frame)
        if position is not None:
            self.position = position
        return True

    def close(self) -> None:
        if self.state is State.OPEN:
            self.state = State.CLOSING
            self.queue.put_nowait(self.CLOSE)

    def drop(self) -> None:  # never called: the baseline has no bound
        self.close()
