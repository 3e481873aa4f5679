"""Unit tests: folding changes per record, and the feed's coalescing window."""

import asyncio
import re
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

from app import sse
from app.realtime import Change, Feed, Kind, NetChanges, Op, Subscriber, net_changes


async def eventually(predicate: Any, timeout: float = 5.0) -> None:
    """Poll until `predicate()` holds (the machine may be slow: no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def change(i: int, op: Op, rid: UUID | None) -> Change:
    return Change(id=i, channel="things", op=op, record_id=rid)


# --- net_changes -----------------------------------------------------------------------


def test_fold_per_record() -> None:
    a, b, c, d, e = (uuid4() for _ in range(5))
    net = net_changes(
        [
            change(1, Op.INSERT, a),
            change(2, Op.UPDATE, a),  # a: created (insert + update)
            change(3, Op.UPDATE, b),
            change(4, Op.UPDATE, b),  # b: updated
            change(5, Op.UPDATE, c),
            change(6, Op.DELETE, c),  # c: deleted
            change(7, Op.INSERT, d),
            change(8, Op.DELETE, d),  # d: nothing at all
            change(9, Op.INSERT, e),  # e: created after a
        ]
    )
    assert net.kinds == {a: Kind.CREATED, b: Kind.UPDATED, c: Kind.DELETED, e: Kind.CREATED}
    assert net.created_order == (a, e)
    assert not net.reset


def test_a_burst_on_one_record_is_one_patch() -> None:
    rid = uuid4()
    net = net_changes(change(i, Op.UPDATE, rid) for i in range(1, 51))
    assert net.kinds == {rid: Kind.UPDATED}


def test_truncate_means_reset() -> None:
    net = net_changes([change(1, Op.INSERT, uuid4()), change(2, Op.TRUNCATE, None)])
    assert net.reset and bool(net)
    assert not net_changes([])


# --- the feed ----------------------------------------------------------------------------


class FakePool:
    """The feed only needs `async with pool.connection()`; views here ignore the conn."""

    @asynccontextmanager
    async def _connection(self) -> Any:
        yield None

    def connection(self) -> Any:
        return self._connection()


class RecordingView:
    channel = "things"

    def __init__(self) -> None:
        self.rendered: list[NetChanges] = []

    async def render_changes(self, conn: Any, changes: NetChanges, *, replay: bool) -> list[str]:
        self.rendered.append(changes)
        return [sse.patch_signals({"records": sorted(str(r) for r in changes.kinds)})]

    async def render_all(self, conn: Any) -> list[str]:
        return [sse.patch_signals({"all": True})]


async def _started_feed(coalesce_s: float, per_event: bool = False) -> tuple[Feed, RecordingView]:
    view = RecordingView()
    feed = Feed(view, FakePool(), coalesce_s=coalesce_s, per_event=per_event)  # type: ignore[arg-type]
    feed.start()
    feed.advance([], 0)  # the listener connected at event 0
    return feed, view


def test_a_burst_becomes_one_frame_with_the_last_id() -> None:
    async def scenario() -> None:
        feed, view = await _started_feed(coalesce_s=0.3)
        sub = Subscriber(max_frames=64, max_bytes=1 << 20)
        feed.join(sub, since=0)
        await eventually(lambda: len(sub) == 1)
        assert sub.take() == sse.encode([sse.patch_signals({"_realtime": "live"}), "id: 0\n\n"])

        rid = [uuid4() for _ in range(10)]
        # 100 writes to 10 records, delivered by the listener in 10 reads.
        for i in range(1, 101):
            feed.advance([change(i, Op.INSERT if i <= 10 else Op.UPDATE, rid[(i - 1) % 10])], i)
            if i % 10 == 0:
                await asyncio.sleep(0)
        await eventually(lambda: len(sub) == 1)
        await asyncio.sleep(0.35)  # a second frame would have been flushed by now

        assert len(view.rendered) == 1, "one render (one row query) for the whole burst"
        assert set(view.rendered[0].kinds.values()) == {Kind.CREATED}
        assert len(view.rendered[0].kinds) == 10
        chunk = sub.take().decode()
        assert chunk.count("event: ") == 1 and chunk.endswith("id: 100\n\n")
        assert sub.position == 100
        await feed.stop()

    asyncio.run(scenario())


def test_bursts_apart_are_separate_frames() -> None:
    async def scenario() -> None:
        feed, view = await _started_feed(coalesce_s=0.02)
        sub = Subscriber(max_frames=64, max_bytes=1 << 20)
        feed.join(sub, since=0)
        await eventually(lambda: len(sub) == 1)
        sub.take()
        for i in (1, 2, 3):
            feed.advance([change(i, Op.UPDATE, uuid4())], i)
            await eventually(lambda i=i: len(view.rendered) == i)
        await eventually(lambda: len(sub) == 3)
        assert re.findall(r"^id: (\d+)$", sub.take().decode(), re.M) == ["1", "2", "3"]
        await feed.stop()

    asyncio.run(scenario())


def test_baseline_mode_sends_one_frame_per_event() -> None:
    async def scenario() -> None:
        feed, view = await _started_feed(coalesce_s=0, per_event=True)
        sub = Subscriber(max_frames=1000, max_bytes=1 << 24)
        feed.join(sub, since=0)
        await eventually(lambda: len(sub) == 1)
        sub.take()
        feed.advance([change(i, Op.INSERT, uuid4()) for i in range(1, 51)], 50)
        await eventually(lambda: len(sub) == 50)
        assert len(view.rendered) == 50
        assert sub.take().decode().count("id: ") == 50
        await feed.stop()

    asyncio.run(scenario())


def test_joins_wait_for_the_listener() -> None:
    async def scenario() -> None:
        view = RecordingView()
        feed = Feed(view, FakePool(), coalesce_s=0.01)  # type: ignore[arg-type]
        feed.start()
        sub = Subscriber(max_frames=8, max_bytes=1 << 20)
        feed.join(sub, since=5)
        await asyncio.sleep(0.05)
        assert len(sub) == 0 and sub not in feed.subscribers  # listener not connected yet
        feed.advance([], 5)
        await eventually(lambda: sub in feed.subscribers)
        assert sub.take().decode().endswith("id: 5\n\n")
        await feed.stop()

    asyncio.run(scenario())


def test_shared_frame_bytes_for_every_subscriber() -> None:
    async def scenario() -> None:
        feed, _ = await _started_feed(coalesce_s=0.01)
        subs = [Subscriber(max_frames=8, max_bytes=1 << 20) for _ in range(100)]
        for s in subs:
            feed.join(s, since=0)
        await eventually(lambda: all(len(s) == 1 for s in subs))
        for s in subs:
            s.take()
        feed.advance([change(1, Op.INSERT, uuid4())], 1)
        await eventually(lambda: all(len(s) == 1 for s in subs))
        frames = [s._frames[0] for s in subs]
        assert all(f is frames[0] for f in frames), "encoded once, shared"
        await feed.stop()

    asyncio.run(scenario())
