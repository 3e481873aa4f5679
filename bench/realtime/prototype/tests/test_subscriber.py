"""Unit tests: the bounded per-stream queue and what happens to a slow client."""

import asyncio
from uuid import uuid4

from app.realtime import Change, Feed, Op, State, Subscriber
from app.realtime.response import EventStream
from tests.test_coalescing import FakePool, RecordingView, eventually


def test_queue_is_bounded_by_frames() -> None:
    sub = Subscriber(max_frames=3, max_bytes=1 << 20)
    dropped = []
    sub.on_drop = lambda: dropped.append(True)
    assert all(sub.offer(b"x", i) for i in range(3))
    assert not sub.offer(b"x", 3)
    assert sub.state is State.DROPPED and dropped == [True]
    assert len(sub) == 0 and sub.queued_bytes == 0, "queue released at once"
    assert not sub.offer(b"x", 4), "a dropped stream takes nothing more"


def test_queue_is_bounded_by_bytes() -> None:
    sub = Subscriber(max_frames=100, max_bytes=10)
    assert sub.offer(b"12345")
    assert sub.offer(b"12345")
    assert not sub.offer(b"1")
    assert sub.state is State.DROPPED


def test_one_big_frame_always_fits_an_empty_queue() -> None:
    """A catch-up frame bigger than the bound must not drop a client forever."""
    sub = Subscriber(max_frames=2, max_bytes=10)
    assert sub.offer(b"x" * 1000)
    assert not sub.offer(b"y")  # but nothing more until it is written
    assert sub.state is State.DROPPED


def test_take_joins_queued_frames_and_tracks_position() -> None:
    sub = Subscriber(max_frames=10, max_bytes=100)
    sub.offer(b"a", 1)
    sub.offer(b"b", 2)
    assert sub.take() == b"ab" and sub.position == 2
    assert sub.take() == b""


def test_wait_wakes_on_frame_close_and_wake() -> None:
    async def scenario() -> None:
        sub = Subscriber(max_frames=10, max_bytes=100)
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, sub.offer, b"x")
        await asyncio.wait_for(sub.wait(), 1)
        sub.take()
        loop.call_later(0.01, sub.wake)  # e.g. the client disconnected
        await asyncio.wait_for(sub.wait(), 1)
        loop.call_later(0.01, sub.close)
        await asyncio.wait_for(sub.wait(), 1)
        assert sub.state is State.CLOSING

    asyncio.run(scenario())


def test_slow_subscriber_is_dropped_fast_ones_are_not() -> None:
    async def scenario() -> None:
        feed = Feed(RecordingView(), FakePool(), coalesce_s=0.005)  # type: ignore[arg-type]
        feed.start()
        feed.advance([], 0)
        slow = Subscriber(max_frames=4, max_bytes=1 << 20)
        fast = Subscriber(max_frames=4, max_bytes=1 << 20)
        feed.join(slow, 0)
        feed.join(fast, 0)
        await eventually(lambda: len(feed.subscribers) == 2)
        for i in range(1, 11):
            feed.advance([Change(i, "things", Op.INSERT, uuid4())], i)
            await eventually(lambda: len(fast) == 1)
            fast.take()  # the fast client keeps up; the slow one never reads
        assert slow.state is State.DROPPED and slow not in feed.subscribers
        assert fast.state is State.OPEN and fast in feed.subscribers
        await feed.stop()

    asyncio.run(scenario())


def test_event_stream_cuts_a_client_stuck_on_a_full_socket() -> None:
    """Dropped while `send()` blocks (socket buffer full): the stream ends at once,
    without the final chunk, so the client sees a broken connection and resumes."""

    async def scenario() -> None:
        feed = Feed(RecordingView(), FakePool(), coalesce_s=0.005)  # type: ignore[arg-type]
        feed.start()
        feed.advance([], 0)
        sub = Subscriber(max_frames=3, max_bytes=1 << 20)
        response = EventStream(feed, sub, since=0)
        sent: list[dict[str, object]] = []
        never = asyncio.Event()

        async def receive() -> dict[str, object]:
            await never.wait()  # the client never hangs up
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body":
                await never.wait()  # the socket is full and stays full

        task = asyncio.create_task(response({"type": "http"}, receive, send))  # type: ignore[arg-type]
        await eventually(lambda: len(sent) == 2)  # hello frame sent -> send() blocks forever
        for i in range(1, 10):
            feed.advance([Change(i, "things", Op.INSERT, uuid4())], i)
            await eventually(lambda i=i: feed.frames_sent == i)
        await asyncio.wait_for(task, 5)  # returned (no exception): uvicorn closes the socket
        assert sub.state is State.DROPPED
        assert sub not in feed.subscribers
        assert not any(m.get("more_body") is False for m in sent), "no graceful end"
        await feed.stop()

    asyncio.run(scenario())


def test_event_stream_heartbeat_and_graceful_close() -> None:
    async def scenario() -> None:
        feed = Feed(RecordingView(), FakePool(), coalesce_s=0.005, heartbeat_s=0.02)  # type: ignore[arg-type]
        feed.start()
        feed.advance([], 0)
        sub = Subscriber(max_frames=3, max_bytes=1 << 20)
        response = EventStream(feed, sub, since=0)
        bodies: list[bytes] = []
        never = asyncio.Event()

        async def receive() -> dict[str, object]:
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.body":
                bodies.append(message["body"])  # type: ignore[arg-type]
                if message["more_body"] is False:
                    bodies.append(b"<end>")

        task = asyncio.create_task(response({"type": "http"}, receive, send))  # type: ignore[arg-type]
        await eventually(lambda: bodies.count(b":\n\n") >= 2)  # idle: heartbeats
        feed.close_all()  # what SIGTERM does
        await asyncio.wait_for(task, 5)
        assert bodies[-1] == b"<end>"
        await feed.stop()

    asyncio.run(scenario())


def test_heartbeats_only_reach_idle_streams() -> None:
    async def scenario() -> None:
        feed = Feed(RecordingView(), FakePool(), coalesce_s=0.001, heartbeat_s=0.2)  # type: ignore[arg-type]
        feed.start()
        feed.advance([], 0)
        idle, busy = (Subscriber(max_frames=100, max_bytes=1 << 20) for _ in range(2))
        feed.join(idle, 0)
        feed.join(busy, 0)
        await eventually(lambda: len(feed.subscribers) == 2)
        idle.take()
        busy.take()
        for _ in range(30):  # ~0.6 s: about 3 ticks
            busy.offer(b"frame")
            await asyncio.sleep(0.02)
        await eventually(lambda: idle.take().count(b":\n\n") >= 1)
        assert b":" not in busy.take().replace(b"frame", b"")
        await feed.stop()

    asyncio.run(scenario())
