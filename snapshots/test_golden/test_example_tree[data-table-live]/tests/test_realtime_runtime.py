"""The realtime runtime (app/realtime/) against the real database and real HTTP streams,
through the first live master-detail screen (`product_admin`): concurrent writers,
coalescing, subscriber groups, resume by position, slow clients, heartbeats, shutdown."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx2
import psycopg
import pytest
import uvicorn
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.types import Receive, Scope, Send

from app.core import sse
from app.core.config import Settings
from app.db import create_pool, wake_ups_of
from app.main import create_app
from app.realtime import Change, Feed, NetChanges, Op, State, Subscriber
from app.realtime.asgi import RealtimeStreams
from app.realtime.events import Position, notify_channel, read_changes, snapshot
from app.realtime.listener import Waker
from app.realtime.response import EventStream
from app.screens import STREAM_ROUTES
from app.screens import product_admin as screen
from tests.conftest import DATASTAR, _free_port, count, label
from tests.test_product_admin import TABLE, add, valid_form

LIVE_PATH = screen.LIVE_PATH
LABEL = screen.LABEL
ROW = re.compile(r'id="' + re.escape(screen.ITEM.removeprefix("#")) + r'([0-9a-f-]{36})"')
FULL_LIST = f'id="{screen.ROWS.removeprefix("#")}"'  # only in a whole-list render
VIA_FASTAPI = "x-test-via-fastapi"
COALESCE_MS = 100
HEARTBEAT_S = 0.3


def rows_in(text: str) -> list[str]:
    """Ids of the rows rendered in `text` (not those only named in a selector)."""
    return ROW.findall(text)


def event_ids(text: str) -> list[str]:
    return re.findall(r"^id: (\S+)$", text, flags=re.M)


def watermark(db: psycopg.Connection[Any]) -> str:
    """Where the change log stands now (what a page rendered now passes as `?since=`)."""
    return str(db.execute("SELECT pg_current_snapshot()::text AS n").fetchone()["n"])


def frames_after(text: str) -> list[str]:
    """The frames of a stream after its hello (each ends with its id)."""
    rest = text.split("\n\n", 2)[2]
    return [f for f in re.split(r"(?<=\n\n)(?=event: )", rest) if "id: " in f]


def has_rows(*ids: str) -> Any:
    return lambda t: set(ids) <= set(rows_in(t))


# --- the app served as in production (front handler), with a door to FastAPI's route ---


class Served:
    def __init__(self, url: str, app: Any) -> None:
        self.url = url
        self.app = app
        self.fastapi_hits: Counter[str] = Counter()  # path -> requests FastAPI answered
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def feed(self) -> Feed:
        return self.app.state.realtime.hub.feed(screen.SCREEN)


class CountingApp:
    """The FastAPI app, counting the requests it answers (the front handler keeps `state`)."""

    def __init__(self, app: Any, served: Served) -> None:
        self.app = app
        self.state = app.state
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.served.fastapi_hits[scope["path"]] += 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[Served]:
    """The app as `create_asgi` serves it, with short coalescing and heartbeat intervals;
    a request with the VIA_FASTAPI header skips the front handler (the FastAPI route)."""
    app = create_app(Settings(
        database_url=database_url,
        realtime_coalesce_ms=COALESCE_MS,
        realtime_heartbeat_s=HEARTBEAT_S,
    ))
    port = _free_port()
    served = Served(f"http://127.0.0.1:{port}", app)
    fastapi = CountingApp(app, served)
    front = RealtimeStreams(fastapi, STREAM_ROUTES)  # type: ignore[arg-type]

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        served.loop = asyncio.get_running_loop()
        if scope["type"] == "http" and (VIA_FASTAPI.encode(), b"1") in scope["headers"]:
            await fastapi(scope, receive, send)
        else:
            await front(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(outer, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield served
    if served.loop is not None:  # as on SIGTERM: end open streams, or uvicorn waits for them
        served.loop.call_soon_threadsafe(app.state.realtime.hub.close_streams)
    server.should_exit = True
    thread.join(timeout=10)


class Stream:
    """An SSE response read incrementally until a condition holds."""

    def __init__(self, response: httpx2.Response) -> None:
        self.response = response
        self.text = ""
        self._chunks = response.iter_text()

    def until(self, predicate: Any, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            assert time.monotonic() < deadline, f"timed out; stream so far:\n{self.text[-3000:]}"
            try:
                self.text += next(self._chunks)
            except StopIteration:
                assert predicate(self.text), f"stream ended; so far:\n{self.text[-3000:]}"
        return self.text

    def rest(self) -> str:
        tail = "".join(self._chunks)  # raises if the connection is cut instead of ended
        self.text += tail
        return tail


def open_stream(
    client: httpx2.Client, served: Served, *, since: str | None = None, q: str = "",
    last_event_id: str | None = None, via_fastapi: bool = False,
) -> Any:
    params: dict[str, Any] = {}
    if q:
        params["q"] = q
    if since is not None:
        params["since"] = since
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    if via_fastapi:
        headers[VIA_FASTAPI] = "1"
    return client.stream("GET", served.url + LIVE_PATH, params=params, headers=headers)


def hello() -> Any:
    """The stream is attached (the page's state is current as of the hello's id)."""
    return lambda t: "_realtime" in t and bool(event_ids(t))


def run_async(main: Any) -> None:
    """`asyncio.run(main())` in a thread of its own: the browser tests' Playwright keeps
    an event loop running in this one for the whole session."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the scenario did not finish"
    if errors:
        raise errors[0]


# --- the change log ----------------------------------------------------------------------


def test_a_position_is_a_snapshot_it_sees_what_committed_before_it():
    early = Position.parse("10:14:10,12")
    assert early is not None and str(early) == "10:14:10,12"
    assert [x for x in range(8, 16) if early.sees(x)] == [8, 9, 11, 13]
    later = Position.parse("12:16:12")  # 10 and 13 ended, 14 and 15 began and ended
    assert later is not None and later.covers(early) and not early.covers(later)
    assert early.covers(early) and not later.covers(Position(20, 20))
    sees_10 = Position(10, 14, frozenset({12}))
    assert not Position(10, 16, frozenset({10})).covers(sees_10), "10 is in progress there"
    for text in ("14:10:", "10:14:9", "10:14:14", "a:b:", "10:14:10,", "", "42"):
        assert Position.parse(text) is None, text


def test_a_realtime_writer_does_not_wait_for_another_open_one(database_url, db):
    """Writers of realtime stores never queue behind each other (no global lock)."""
    start = Position.parse(watermark(db))
    assert start is not None
    with psycopg.connect(database_url, row_factory=dict_row) as first:
        add(first, "Rolled back")
        first.rollback()
        first_id = add(first, "First")  # stays open while the second writes
        done = threading.Event()
        second_id: list[str] = []

        def second_writer() -> None:
            with psycopg.connect(database_url, row_factory=dict_row) as conn:
                second_id.append(add(conn, "Second"))
                conn.commit()
            done.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        assert done.wait(5), "the second writer waited for the first to commit"
        thread.join(5)
        first.commit()

    async def read() -> None:
        async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
            got = await read_changes(conn, after=start, channel=TABLE)
        assert got.complete
        assert [str(c.record_id) for c in got.changes] == [first_id, *second_id], \
            "both, in id order (the first took its id first); nothing of the rolled-back one"
        assert got.changes[0].xid != got.changes[1].xid

    run_async(read)


def test_one_empty_wake_up_per_transaction(database_url, db):
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(notify_channel(TABLE))))
        with db.transaction():
            for n in range(5):
                add(db, f"Wake {n}")
        add(db, "Wake alone")
        notes = list(listener.notifies(timeout=0.3))
    assert [n.payload for n in notes] == ["", ""]


def test_writes_through_the_app_pool_wake_listeners_after_commit(database_url, db):
    """The pool's sessions do not NOTIFY inside their transaction (PostgreSQL serialises the
    commits of notifying transactions): the wake-up goes out once the connection is back."""
    record = add(db, "Woken")

    async def main() -> None:
        pool = create_pool(Settings(database_url=database_url, pool_min_size=1,
                                    pool_max_size=1))
        async with pool, await AsyncConnection.connect(database_url, autocommit=True) as ear:
            await ear.execute(sql.SQL("LISTEN {}").format(sql.Identifier(notify_channel(TABLE))))
            async with pool.connection() as conn:
                async with conn.transaction():
                    for text in ("Woken 1", "Woken 2"):
                        await conn.execute(
                            sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(
                                sql.Identifier(TABLE), sql.Identifier(LABEL)),
                            (label(TABLE, text), record))
                committed = [n async for n in ear.notifies(timeout=0.3)]
            after = [n async for n in ear.notifies(timeout=5, stop_after=1)]
            after += [n async for n in ear.notifies(timeout=0.2)]
            # A rolled-back write: a spurious wake-up.
            async with pool.connection() as conn, conn.transaction(force_rollback=True):
                await conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(
                    sql.Identifier(TABLE)), (record,))
            spurious = [n async for n in ear.notifies(timeout=5, stop_after=1)]
        assert committed == [], "no NOTIFY from inside the writer's transaction"
        assert [n.channel for n in after] == [notify_channel(TABLE)], "one, after the commit"
        assert len(spurious) == 1

    run_async(main)
    assert count(db, TABLE) == 1


def test_the_app_folds_its_wake_ups_off_the_request_path(database_url, db):
    """With the runtime running, a returning connection hands its wake-ups to the process's
    waker: NOTIFYs come from the waker's session, at most one per write, never from the
    writers' sessions."""
    record = add(db, "Folded")

    async def main() -> None:
        pool = create_pool(Settings(database_url=database_url, pool_min_size=2,
                                    pool_max_size=2))
        waker = Waker(database_url)
        writers: set[int] = set()
        async with pool, await AsyncConnection.connect(database_url, autocommit=True) as ear:
            await ear.execute(sql.SQL("LISTEN {}").format(sql.Identifier(notify_channel(TABLE))))
            wake_ups = wake_ups_of(pool)
            assert wake_ups is not None
            waker.start()
            wake_ups.sender = waker.wake
            try:
                async def write(text: str) -> None:
                    async with pool.connection() as conn:
                        writers.add(conn.info.backend_pid)
                        await conn.execute(sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(
                            sql.Identifier(TABLE), sql.Identifier(LABEL)),
                            (label(TABLE, text), record))

                await asyncio.gather(*(write(f"Folded {n}") for n in range(8)))
                notes = [n async for n in ear.notifies(timeout=5, stop_after=1)]
                await waker.stop()  # sends what is still owed
                notes += [n async for n in ear.notifies(timeout=0.3)]
            finally:
                wake_ups.sender = None
                await waker.stop()  # idempotent
        assert notes and len(notes) == waker.sent <= 8
        assert not {n.pid for n in notes} & writers, "the writers sent nothing themselves"

    run_async(main)


def test_retention_prunes_settled_old_events_and_remembers_how_far(database_url, db):
    before = Position.parse(watermark(db))
    for n in range(3):
        add(db, f"Old {n}")
    after = Position.parse(watermark(db))
    assert before is not None and after is not None
    db.execute("UPDATE realtime_events SET at = now() - interval '2 days'")
    newest = add(db, "Recent")
    db.execute("SELECT realtime_prune(interval '1 day')")
    rows = db.execute("SELECT record_id::text AS record FROM realtime_events").fetchall()
    assert [r["record"] for r in rows] == [newest]

    async def check() -> None:
        async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
            lost = await read_changes(conn, after=before, channel=TABLE)
            assert not lost.complete, "a reader that had not seen the pruned events knows"
            kept = await read_changes(conn, after=after, channel=TABLE)
            assert kept.complete and [str(c.record_id) for c in kept.changes] == [newest]
            async with snapshot(conn) as at:
                before_count = count(db, TABLE)
                add(db, "Committed during the snapshot")
                cur = await conn.execute(f'SELECT count(*) FROM "{TABLE}"')
                row = await cur.fetchone()
                assert (row[0] if row else None) == before_count, "one moment"
                inside = await read_changes(conn, after=after, channel=TABLE)
                assert inside.position == at, "rows and position: one moment"
                assert [str(c.record_id) for c in inside.changes] == [newest]

    run_async(check)


# --- coalescing ------------------------------------------------------------------------


def test_a_burst_of_single_row_writes_is_a_few_frames_with_every_row(served, db):
    start = watermark(db)
    with httpx2.Client(timeout=10) as client, open_stream(client, served, since=start) as r:
        stream = Stream(r)
        stream.until(hello())
        t0 = time.monotonic()
        burst = [add(db, f"Burst {n:02}") for n in range(40)]  # 40 transactions
        took = time.monotonic() - t0
        text = stream.until(has_rows(*burst))
    frames = frames_after(text)
    assert set(rows_in(text)) == set(burst), "every row of the burst reached the stream"
    # One frame per coalescing window the burst spanned (a slow machine spans more).
    windows = 1 + int(took / (COALESCE_MS / 1000))
    assert len(frames) <= windows + 1, f"{len(burst)} writes in {took:.3f}s: {len(frames)} frames"
    assert all(Position.parse(i) for i in event_ids(text)), "every id is a position"


# --- groups: one render per key --------------------------------------------------------


class CountingView:
    """The screen's view, counting renders per key."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.name = view.name
        self.channel = view.channel
        self.renders: Counter[str] = Counter()

    async def render_changes(self, conn: AsyncConnection[Any], changes: NetChanges,
                             key: str) -> list[str]:
        self.renders[key] += 1
        return await self.view.render_changes(conn, changes, key)

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        return await self.view.render_all(conn, key)


def test_subscribers_with_the_same_key_share_one_render(served, db):
    feed = served.feed
    counting = CountingView(feed.view)
    feed.view = counting
    shared = label(TABLE, "zq-shared one")  # a search only the first new row matches
    keys = ["", "", "", shared, shared]
    start = watermark(db)
    try:
        with httpx2.Client(timeout=10) as client:
            contexts = [open_stream(client, served, since=start, q=k) for k in keys]
            streams = [Stream(c.__enter__()) for c in contexts]
            try:
                for s in streams:
                    s.until(hello())
                with db.transaction():  # one commit: one frame per group
                    created = [add(db, "zq-shared one"), add(db, "Other")]
                texts = [s.until(has_rows(*(created if k == "" else created[:1])))
                         for s, k in zip(streams, keys, strict=True)]
            finally:
                for c in contexts:
                    c.__exit__(None, None, None)
    finally:
        feed.view = counting.view
    assert {k: counting.renders[k] for k in set(keys)} == {"": 1, shared: 1}
    frames = [frames_after(t) for t in texts]
    assert frames[0] == frames[1] == frames[2] and frames[3] == frames[4]
    assert set(rows_in(texts[0])) == set(created)


# --- resume by event id ----------------------------------------------------------------


@pytest.mark.parametrize("via_fastapi", [False, True], ids=["front-handler", "fastapi-route"])
def test_reconnecting_replays_exactly_the_missed_changes(served, db, via_fastapi):
    before = dict(served.fastapi_hits)
    start = watermark(db)
    with httpx2.Client(timeout=10) as client:
        with open_stream(client, served, since=start, via_fastapi=via_fastapi) as r:
            stream = Stream(r)
            stream.until(hello())
            kept, renamed, removed = (add(db, f"Resume {n}") for n in ("k", "m", "r"))
            seen = event_ids(stream.until(has_rows(kept, renamed, removed)))[-1]
        # While disconnected: two creates, a rename, a delete.
        created = [add(db, "Resume x1"), add(db, "Resume x2")]
        resumed = label(TABLE, "Resume n")
        db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', (resumed, renamed))
        db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (removed,))
        # Datastar sends the last id it saw; the page's own ?since= is older.
        with open_stream(client, served, since=start, last_event_id=seen,
                         via_fastapi=via_fastapi) as r:
            text = Stream(r).until(lambda t: has_rows(*created, renamed)(t)
                                   and "mode remove" in t and hello()(t))
    assert FULL_LIST not in text, "a replay, not a full render"
    assert sorted(rows_in(text)) == sorted([*created, renamed]), "exactly the missed rows"
    assert resumed in text
    removal = next(b for b in text.split("\n\n") if "mode remove" in b)
    assert f"{screen.ITEM}{removed}" in removal
    assert Position.parse(event_ids(text)[-1]) is not None
    hits = served.fastapi_hits[LIVE_PATH] - before.get(LIVE_PATH, 0)
    assert hits == (2 if via_fastapi else 0), "which of the two served the stream"


def test_an_event_committed_later_with_a_lower_id_is_delivered_exactly_once(
    served, db, database_url
):
    """Ids are not commit order: a transaction that took its id first and commits last is
    neither skipped (live, or resuming from a position taken while it was open) nor sent
    twice."""
    start = watermark(db)
    with httpx2.Client(timeout=10) as client:
        with open_stream(client, served, since=start) as r:
            stream = Stream(r)
            stream.until(hello())
            with psycopg.connect(database_url, row_factory=dict_row) as slow, \
                    psycopg.connect(database_url, row_factory=dict_row, autocommit=True,
                                    options="-c lock_timeout=3000") as quick:
                early = add(slow, "Early id, late commit")  # stays open
                late = add(quick, "Later id, committed first")
                text = stream.until(has_rows(late))
                middle = event_ids(text)[-1]  # a position that has not seen `early`
                assert early not in rows_in(text)
                slow.commit()
            text = stream.until(has_rows(early))
        assert db.execute("SELECT count(*) AS n FROM realtime_events WHERE record_id = %s "
                          "AND id < (SELECT min(id) FROM realtime_events WHERE record_id = %s)",
                          (early, late)).fetchone()["n"] == 1, "the early one has the lower id"
        assert rows_in(text).count(early) == 1 and rows_in(text).count(late) == 1
        # Resuming from the position taken while `early` was open replays it, only it.
        with open_stream(client, served, last_event_id=middle) as r:
            again = Stream(r).until(lambda t: hello()(t) and has_rows(early)(t))
    assert rows_in(again) == [early] and FULL_LIST not in again


def test_a_page_rendered_before_a_change_gets_it_from_its_since(served, db):
    add(db, "Already on the page")
    since = watermark(db)  # what the page was rendered at
    created = add(db, "Between page and stream")
    with httpx2.Client(timeout=10) as client, open_stream(client, served, since=since) as r:
        text = Stream(r).until(lambda t: hello()(t) and has_rows(created)(t))
    assert rows_in(text) == [created] and FULL_LIST not in text


@pytest.mark.parametrize(
    "case", ["pruned", "from-the-future", "garbage", "numeric-id", "too-much-missed"]
)
def test_an_id_that_cannot_be_replayed_gets_a_full_render(served, db, case):
    start = watermark(db)
    ids = [add(db, f"Full {n}") for n in range(5)]
    end = Position.parse(watermark(db))
    assert end is not None
    future = end.xmax + 1000
    resume = {"pruned": start, "from-the-future": f"{future}:{future}:", "garbage": "12abc",
              "numeric-id": "42", "too-much-missed": start}[case]
    feed = served.feed
    max_replay = feed.max_replay
    if case == "pruned":  # older than retention
        db.execute("UPDATE realtime_events SET at = now() - interval '2 days'")
        db.execute("SELECT realtime_prune(interval '1 day')")
    elif case == "too-much-missed":
        feed.max_replay = 2
    try:
        with httpx2.Client(timeout=10) as client, \
                open_stream(client, served, last_event_id=resume) as r:
            text = Stream(r).until(lambda t: FULL_LIST in t and hello()(t) and has_rows(*ids)(t))
    finally:
        feed.max_replay = max_replay
    assert sorted(rows_in(text)) == sorted(ids)


# --- slow clients, bounded memory, heartbeats (unit level, on a real connection) ----------


class RecordingView:
    """A `ChannelView` of a channel nobody writes to."""

    name = "runtime-test"
    channel = "runtime-test-channel"

    def __init__(self) -> None:
        self.rendered: list[NetChanges] = []

    async def render_changes(self, conn: Any, changes: NetChanges, key: str) -> list[str]:
        self.rendered.append(changes)
        return [sse.patch_signals({"records": len(changes.kinds)})]

    async def render_all(self, conn: Any, key: str) -> list[str]:
        return [sse.patch_signals({"all": True})]


async def eventually(predicate: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def change(i: int) -> Change:
    return Change(id=i, channel=RecordingView.channel, op=Op.INSERT, record_id=uuid4())


def at(i: int) -> Position:
    """A made-up listener position (every transaction below 10 + i settled)."""
    return Position(10 + i, 10 + i)


def run_feed(database_url: str, scenario: Any, **options: Any) -> None:
    """Run `scenario(feed)` on a started feed whose listener is at position `at(0)`."""

    async def main() -> None:
        async with AsyncConnectionPool(database_url, min_size=1, max_size=2, open=False) as pool:
            feed = Feed(RecordingView(), pool, **{"coalesce_s": 0.005, **options})
            feed.start()
            feed.advance([], at(0))
            try:
                await scenario(feed)
            finally:
                await feed.stop()

    run_async(main)


def test_the_queue_is_bounded_and_released_on_drop():
    sub = Subscriber(max_frames=3, max_bytes=1 << 20)
    dropped = []
    sub.on_drop = lambda: dropped.append(True)
    assert all(sub.offer(b"x", at(i)) for i in range(3))
    assert not sub.offer(b"x", at(3))
    assert sub.state is State.DROPPED and dropped == [True]
    assert len(sub) == 0 and sub.queued_bytes == 0, "the queue is released at once"
    assert not sub.offer(b"x", at(4)), "a dropped stream takes nothing more"

    by_bytes = Subscriber(max_frames=1000, max_bytes=100)
    offered = 0
    while by_bytes.offer(b"y" * 30):
        offered += 1
        assert by_bytes.queued_bytes <= 100
    assert offered == 3 and by_bytes.state is State.DROPPED

    big = Subscriber(max_frames=2, max_bytes=10)
    assert big.offer(b"z" * 1000), "a big catch-up frame always fits an empty queue"
    assert not big.offer(b"z")


def test_a_slow_subscriber_is_dropped_a_fast_one_is_not(database_url):
    async def scenario(feed: Feed) -> None:
        slow = Subscriber(max_frames=4, max_bytes=1 << 20)
        fast = Subscriber(max_frames=4, max_bytes=1 << 20)
        feed.join(slow, at(0))
        feed.join(fast, at(0))
        await eventually(lambda: len(feed.subscribers) == 2)
        fast.take()
        for i in range(1, 11):
            feed.advance([change(i)], at(i))
            await eventually(lambda: len(fast) == 1)
            fast.take()  # the fast client keeps up; the slow one never reads
            assert len(slow) <= slow.max_frames
        assert slow.state is State.DROPPED and slow not in feed.subscribers
        assert len(slow) == 0 and slow.queued_bytes == 0
        assert fast.state is State.OPEN and fast in feed.subscribers
        assert feed.frames_sent == 10

    run_feed(database_url, scenario)


def test_an_isolated_change_goes_at_once_changes_while_flowing_are_folded(database_url):
    """Adaptive coalescing: no window is waited after a quiet period; changes arriving
    while frames flow wait for the window the previous frame opened, then go as one."""
    window = 1.0

    async def scenario(feed: Feed) -> None:
        loop = asyncio.get_running_loop()
        sub = Subscriber(max_frames=64, max_bytes=1 << 20)
        feed.join(sub, at(0))
        await eventually(lambda: sub in feed.subscribers)
        sub.take()
        t0 = loop.time()
        feed.advance([change(1)], at(1))
        await eventually(lambda: len(sub) == 1)
        assert loop.time() - t0 < window / 2, "the first change did not wait for a window"
        sub.take()
        for i in range(2, 12):  # a burst right behind it: folded into the next frame
            feed.advance([change(i)], at(i))
        await asyncio.sleep(window / 4)
        assert len(sub) == 0, "changes while frames flow wait for the window"
        await eventually(lambda: len(sub) == 1, within=window * 3)
        assert loop.time() - t0 >= window * 0.9
        assert feed.frames_sent == 2
        assert len(feed.view.rendered[-1].kinds) == 10, "the burst is one render"
        await asyncio.sleep(window * 1.2)  # quiet again: the next change goes at once
        sub.take()
        t1 = loop.time()
        feed.advance([change(12)], at(12))
        await eventually(lambda: len(sub) == 1)
        assert loop.time() - t1 < window / 2

    run_feed(database_url, scenario, coalesce_s=window)


def test_a_client_stuck_on_a_full_socket_is_cut(database_url):
    """Dropped while `send()` blocks: the response ends at once, without the final
    chunk, so the client sees a broken connection and resumes by id."""

    async def scenario(feed: Feed) -> None:
        sub = Subscriber(max_frames=3, max_bytes=1 << 20)
        response = EventStream(feed, sub, since=at(0))
        sent: list[dict[str, Any]] = []
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await never.wait()  # the client never hangs up
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body":
                await never.wait()  # the socket is full and stays full

        task = asyncio.create_task(response({"type": "http"}, receive, send))
        await eventually(lambda: len(sent) == 2)  # the hello is being sent: blocked
        for i in range(1, 10):
            feed.advance([change(i)], at(i))
            await eventually(lambda i=i: feed.frames_sent == i or sub.state is State.DROPPED)
        # It returns by itself (nothing else cancels it), and uvicorn closes the socket.
        await eventually(task.done, within=2)
        task.result()
        assert sub.state is State.DROPPED and sub not in feed.subscribers
        assert not any(m.get("more_body") is False for m in sent), "cut, not ended"

    run_feed(database_url, scenario)


def test_heartbeats_reach_idle_streams_only(database_url):
    async def scenario(feed: Feed) -> None:
        idle, busy = (Subscriber(max_frames=100, max_bytes=1 << 20) for _ in range(2))
        feed.join(idle, at(0))
        feed.join(busy, at(0))
        await eventually(lambda: len(feed.subscribers) == 2)
        idle.take()
        busy.take()
        for _ in range(25):  # ~0.5 s: about 3 ticks
            busy.offer(b"frame")
            await asyncio.sleep(0.02)
        await eventually(lambda: idle.take().count(b":\n\n") >= 2)
        assert b":" not in busy.take().replace(b"frame", b"")

    run_feed(database_url, scenario, heartbeat_s=0.15)


def test_an_idle_http_stream_gets_heartbeats(served, db):
    start = watermark(db)
    with httpx2.Client(timeout=10) as client, open_stream(client, served, since=start) as r:
        t0 = time.monotonic()
        text = Stream(r).until(lambda t: t.count(":\n\n") >= 2, timeout=5)
    assert text.startswith("event: datastar-patch-signals")
    assert time.monotonic() - t0 >= HEARTBEAT_S


# --- shutdown --------------------------------------------------------------------------


def test_closing_ends_a_stream_gracefully_after_what_is_queued(database_url):
    async def scenario(feed: Feed) -> None:
        sub = Subscriber(max_frames=8, max_bytes=1 << 20)
        response = EventStream(feed, sub, since=at(0))
        bodies: list[Any] = []
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                bodies.append((message["body"], message["more_body"]))

        task = asyncio.create_task(response({"type": "http"}, receive, send))
        await eventually(lambda: sub in feed.subscribers)
        feed.close_all()  # what SIGTERM does
        await asyncio.wait_for(task, 5)
        assert bodies[-1][1] is False, "the response is completed, not cut"
        assert b"_realtime" in b"".join(b for b, _ in bodies)
        assert sub not in feed.subscribers

    run_feed(database_url, scenario)


def start_server(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The app as production runs it (`uvicorn app.main:app`), in a process of its own."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--timeout-graceful-shutdown", "5"],
            env={**os.environ, "DATABASE_URL": database_url}, stdout=out, stderr=out,
        )
    deadline = time.monotonic() + 30
    while True:
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise AssertionError(log.read_text())
        try:
            httpx2.get(url + "/static/app.css", timeout=1)
            return server, url
        except httpx2.TransportError:
            time.sleep(0.05)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_write_through_one_process_reaches_a_stream_on_another(database_url, db, tmp_path):
    """Two worker processes, each with its own listener: PostgreSQL is the hub."""
    one, one_url = start_server(database_url, tmp_path / "one.log")
    try:
        two, two_url = start_server(database_url, tmp_path / "two.log")
        try:
            start = watermark(db)
            with httpx2.stream("GET", two_url + LIVE_PATH, params={"since": start},
                              timeout=10) as response:
                stream = Stream(response)
                stream.until(hello())
                across = label(TABLE, "Across processes")
                form = {**valid_form(db), LABEL: across}
                written = httpx2.post(one_url + screen.PATH, data=form, headers=DATASTAR,
                                     timeout=10)
                assert written.status_code == 200, written.text
                (created,) = db.execute(
                    sql.SQL("SELECT id FROM {} WHERE {} = %s").format(
                        sql.Identifier(TABLE), sql.Identifier(LABEL)),
                    (across,)).fetchall()
                text = stream.until(lambda t: str(created["id"]) in rows_in(t))
            assert across in text  # the row shows its label
        finally:
            stop_server(two)
    finally:
        stop_server(one)


def test_sigterm_ends_open_streams_and_the_server(database_url, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--timeout-graceful-shutdown", "5"],
            env={**os.environ, "DATABASE_URL": database_url}, stdout=out, stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, log.read_text()
            try:
                httpx2.get(url + "/static/app.css", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.05)
        with httpx2.stream("GET", url + LIVE_PATH, timeout=10) as response:
            stream = Stream(response)
            stream.until(lambda t: "_realtime" in t)
            t0 = time.monotonic()
            server.send_signal(signal.SIGTERM)
            stream.rest()  # ends with the chunked terminator (httpx2 raises on a cut)
        assert server.wait(10) in (0, -signal.SIGTERM)
        assert time.monotonic() - t0 < 4, "streams did not hold up the shutdown"
        text = log.read_text()
        assert "Application shutdown complete" in text
        assert "graceful shutdown exceeded" not in text and "Traceback" not in text
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
