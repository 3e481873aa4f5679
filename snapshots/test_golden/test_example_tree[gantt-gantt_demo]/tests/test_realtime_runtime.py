"""The realtime runtime (app/realtime/) against the real database and real HTTP streams,
through the first live master-detail screen (`tasks`): coalescing, subscriber
groups, resume by event id, slow clients, heartbeats, shutdown."""

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

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.types import Receive, Scope, Send

from app import sse
from app.core.config import Settings
from app.main import create_app
from app.realtime import Change, Feed, NetChanges, Op, State, Subscriber
from app.realtime.asgi import RealtimeStreams
from app.realtime.events import can_replay, notify_channel, snapshot
from app.realtime.response import EventStream
from app.screens import STREAM_ROUTES, tasks
from tests.conftest import DATASTAR, _free_port, count
from tests.test_tasks import TABLE, add, valid_form

screen = tasks

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


def event_ids(text: str) -> list[int]:
    return [int(i) for i in re.findall(r"^id: (\d+)$", text, flags=re.M)]


def watermark(db: psycopg.Connection[Any]) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) AS n FROM realtime_events").fetchone()["n"])


def frames_after(text: str, position: int) -> list[str]:
    """The frames of a stream after its hello at `position` (each ends with its id)."""
    rest = text.split(f"id: {position}\n\n", 1)[1]
    return [f for f in re.split(r"(?<=\n\n)(?=event: )", rest) if "id: " in f]


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

    def __init__(self, response: httpx.Response) -> None:
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
    client: httpx.Client, served: Served, *, since: int | None = None, q: str = "",
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


def hello(position: int) -> Any:
    """The stream is attached at `position` (the page's state is current)."""
    return lambda t: "_realtime" in t and f"id: {position}\n\n" in t


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


def test_only_committed_writes_are_logged_in_commit_order(database_url, db):
    """A writer that inserts first but commits last must not get the smaller id, or a
    reader that saw the larger id would skip it forever."""
    start = watermark(db)
    with psycopg.connect(database_url, row_factory=dict_row) as first:
        add(first, "Rolled back")
        first.rollback()
        assert watermark(db) == start, "a rolled-back write leaves no event"
        first_id = add(first, "First")  # holds the ordering lock until it commits
        done = threading.Event()
        second_id: list[str] = []

        def second_writer() -> None:
            with psycopg.connect(database_url, row_factory=dict_row) as conn:
                second_id.append(add(conn, "Second"))
                conn.commit()
            done.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not done.wait(0.3), "the second writer waits for the first to commit"
        first.commit()
        thread.join(5)
    rows = db.execute(
        "SELECT record_id::text AS id FROM realtime_events WHERE id > %s AND channel = %s "
        "ORDER BY id", (start, TABLE),
    ).fetchall()
    assert [r["id"] for r in rows] == [first_id, *second_id]


def test_one_empty_wake_up_per_transaction(database_url, db):
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(notify_channel(TABLE))))
        with db.transaction():
            for n in range(5):
                add(db, f"Wake {n}")
        add(db, "Wake alone")
        notes = list(listener.notifies(timeout=0.3))
    assert [n.payload for n in notes] == ["", ""]


def test_retention_prunes_a_prefix_and_keeps_the_newest(database_url, db):
    for n in range(3):
        add(db, f"Old {n}")
    db.execute("UPDATE realtime_events SET at = now() - interval '2 days'")
    newest = add(db, "Recent")
    end = watermark(db)
    db.execute("SELECT realtime_prune(interval '1 day')")
    rows = db.execute("SELECT id, record_id::text AS record FROM realtime_events").fetchall()
    assert [(r["id"], r["record"]) for r in rows] == [(end, newest)]
    db.execute("UPDATE realtime_events SET at = now() - interval '2 days'")
    db.execute("SELECT realtime_prune(interval '1 day')")  # the newest anchors the watermark
    assert watermark(db) == end

    async def check() -> None:
        async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
            assert await can_replay(conn, end) and await can_replay(conn, end - 1)
            assert not await can_replay(conn, end - 2)
            async with snapshot(conn) as at:
                before = count(db, TABLE)
                add(db, "Committed during the snapshot")
                cur = await conn.execute(f'SELECT count(*) FROM "{TABLE}"')
                row = await cur.fetchone()
                assert (at, row[0] if row else None) == (end, before), "rows and id: one moment"

    run_async(check)


# --- coalescing ------------------------------------------------------------------------


def test_a_burst_of_single_row_writes_is_a_few_frames_with_every_row(served, db):
    start = watermark(db)
    with httpx.Client(timeout=10) as client, open_stream(client, served, since=start) as r:
        stream = Stream(r)
        stream.until(hello(start))
        t0 = time.monotonic()
        burst = [add(db, f"Burst {n:02}") for n in range(40)]  # 40 transactions
        took = time.monotonic() - t0
        end = watermark(db)
        text = stream.until(lambda t: end in event_ids(t))
    frames = frames_after(text, start)
    assert set(rows_in(text)) == set(burst), "every row of the burst reached the stream"
    # One frame per coalescing window the burst spanned (a slow machine spans more).
    windows = 1 + int(took / (COALESCE_MS / 1000))
    assert len(frames) <= windows + 1, f"{len(burst)} writes in {took:.3f}s: {len(frames)} frames"
    assert event_ids(text)[-1] == end


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
    keys = ["", "", "", "zq-shared", "zq-shared"]
    start = watermark(db)
    try:
        with httpx.Client(timeout=10) as client:
            contexts = [open_stream(client, served, since=start, q=k) for k in keys]
            streams = [Stream(c.__enter__()) for c in contexts]
            try:
                for s in streams:
                    s.until(hello(start))
                with db.transaction():  # one commit: one frame per group
                    created = [add(db, "zq-shared one"), add(db, "Other")]
                end = watermark(db)
                texts = [s.until(lambda t: end in event_ids(t)) for s in streams]
            finally:
                for c in contexts:
                    c.__exit__(None, None, None)
    finally:
        feed.view = counting.view
    assert {k: counting.renders[k] for k in set(keys)} == {"": 1, "zq-shared": 1}
    frames = [frames_after(t, start) for t in texts]
    assert frames[0] == frames[1] == frames[2] and frames[3] == frames[4]
    assert set(rows_in(texts[0])) == set(created)


def test_a_search_gets_only_its_matches(served, db):
    start = watermark(db)
    with httpx.Client(timeout=10) as client, \
            open_stream(client, served, since=start, q="alpha") as r_alpha, \
            open_stream(client, served, since=start) as r_all:
        alpha, everything = Stream(r_alpha), Stream(r_all)
        alpha.until(hello(start))
        everything.until(hello(start))
        a1 = add(db, "Alpha one")
        b1 = add(db, "Beta one")
        a2 = add(db, "Second alpha")
        end = watermark(db)
        alpha_text = alpha.until(lambda t: end in event_ids(t))
        all_text = everything.until(lambda t: end in event_ids(t))
    assert set(rows_in(alpha_text)) == {a1, a2}
    assert set(rows_in(all_text)) == {a1, b1, a2}


# --- resume by event id ----------------------------------------------------------------


@pytest.mark.parametrize("via_fastapi", [False, True], ids=["front-handler", "fastapi-route"])
def test_reconnecting_replays_exactly_the_missed_changes(served, db, via_fastapi):
    before = dict(served.fastapi_hits)
    start = watermark(db)
    with httpx.Client(timeout=10) as client:
        with open_stream(client, served, since=start, via_fastapi=via_fastapi) as r:
            stream = Stream(r)
            stream.until(hello(start))
            _kept, renamed, removed = (add(db, f"Resume {n}") for n in ("k", "m", "r"))
            seen = watermark(db)
            stream.until(lambda t: seen in event_ids(t))
        # While disconnected: two creates, a rename, a delete.
        created = [add(db, "Resume x1"), add(db, "Resume x2")]
        db.execute(f'UPDATE "{TABLE}" SET "{LABEL}" = %s WHERE id = %s', ("Resume n", renamed))
        db.execute(f'DELETE FROM "{TABLE}" WHERE id = %s', (removed,))
        end = watermark(db)
        # Datastar sends the last id it saw; the page's own ?since= is older.
        with open_stream(client, served, since=start, last_event_id=str(seen),
                         via_fastapi=via_fastapi) as r:
            text = Stream(r).until(hello(end))
    assert FULL_LIST not in text, "a replay, not a full render"
    assert sorted(rows_in(text)) == sorted([*created, renamed]), "exactly the missed rows"
    assert "Resume n" in text
    removal = next(b for b in text.split("\n\n") if "mode remove" in b)
    assert f"{screen.ITEM}{removed}" in removal
    assert event_ids(text) == [end]
    hits = served.fastapi_hits[LIVE_PATH] - before.get(LIVE_PATH, 0)
    assert hits == (2 if via_fastapi else 0), "which of the two served the stream"


def test_a_page_rendered_before_a_change_gets_it_from_its_since(served, db):
    add(db, "Already on the page")
    since = watermark(db)  # what the page was rendered at
    created = add(db, "Between page and stream")
    with httpx.Client(timeout=10) as client, open_stream(client, served, since=since) as r:
        text = Stream(r).until(lambda t: "_realtime" in t)
    assert rows_in(text) == [created] and FULL_LIST not in text


@pytest.mark.parametrize("case", ["pruned", "from-the-future", "garbage", "too-much-missed"])
def test_an_id_that_cannot_be_replayed_gets_a_full_render(served, db, case):
    ids = [add(db, f"Full {n}") for n in range(5)]
    end = watermark(db)
    resume = {"pruned": end - 3, "from-the-future": end + 1000, "garbage": "12abc",
              "too-much-missed": end - 4}[case]
    feed = served.feed
    max_replay = feed.max_replay
    if case == "pruned":  # older than retention: only the newest event is kept
        db.execute("UPDATE realtime_events SET at = now() - interval '2 days'")
        db.execute("SELECT realtime_prune(interval '1 day')")
        assert watermark(db) == end
    elif case == "too-much-missed":
        feed.max_replay = 2
    try:
        with httpx.Client(timeout=10) as client, \
                open_stream(client, served, last_event_id=str(resume)) as r:
            text = Stream(r).until(hello(end))
    finally:
        feed.max_replay = max_replay
    assert FULL_LIST in text, "the whole list"
    assert sorted(rows_in(text)) == sorted(ids)
    assert event_ids(text)[-1] == end


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


def run_feed(database_url: str, scenario: Any, **options: Any) -> None:
    """Run `scenario(feed)` on a started feed whose listener is at event 0."""

    async def main() -> None:
        async with AsyncConnectionPool(database_url, min_size=1, max_size=2, open=False) as pool:
            feed = Feed(RecordingView(), pool, **{"coalesce_s": 0.005, **options})
            feed.start()
            feed.advance([], 0)
            try:
                await scenario(feed)
            finally:
                await feed.stop()

    run_async(main)


def test_the_queue_is_bounded_and_released_on_drop():
    sub = Subscriber(max_frames=3, max_bytes=1 << 20)
    dropped = []
    sub.on_drop = lambda: dropped.append(True)
    assert all(sub.offer(b"x", i) for i in range(3))
    assert not sub.offer(b"x", 3)
    assert sub.state is State.DROPPED and dropped == [True]
    assert len(sub) == 0 and sub.queued_bytes == 0, "the queue is released at once"
    assert not sub.offer(b"x", 4), "a dropped stream takes nothing more"

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
        feed.join(slow, 0)
        feed.join(fast, 0)
        await eventually(lambda: len(feed.subscribers) == 2)
        fast.take()
        for i in range(1, 11):
            feed.advance([change(i)], i)
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
        feed.join(sub, 0)
        await eventually(lambda: sub in feed.subscribers)
        sub.take()
        t0 = loop.time()
        feed.advance([change(1)], 1)
        await eventually(lambda: len(sub) == 1)
        assert loop.time() - t0 < window / 2, "the first change did not wait for a window"
        sub.take()
        for i in range(2, 12):  # a burst right behind it: folded into the next frame
            feed.advance([change(i)], i)
        await asyncio.sleep(window / 4)
        assert len(sub) == 0, "changes while frames flow wait for the window"
        await eventually(lambda: len(sub) == 1, within=window * 3)
        assert loop.time() - t0 >= window * 0.9
        assert feed.frames_sent == 2
        assert len(feed.view.rendered[-1].kinds) == 10, "the burst is one render"
        await asyncio.sleep(window * 1.2)  # quiet again: the next change goes at once
        sub.take()
        t1 = loop.time()
        feed.advance([change(12)], 12)
        await eventually(lambda: len(sub) == 1)
        assert loop.time() - t1 < window / 2

    run_feed(database_url, scenario, coalesce_s=window)


def test_a_client_stuck_on_a_full_socket_is_cut(database_url):
    """Dropped while `send()` blocks: the response ends at once, without the final
    chunk, so the client sees a broken connection and resumes by id."""

    async def scenario(feed: Feed) -> None:
        sub = Subscriber(max_frames=3, max_bytes=1 << 20)
        response = EventStream(feed, sub, since=0)
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
            feed.advance([change(i)], i)
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
        feed.join(idle, 0)
        feed.join(busy, 0)
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
    with httpx.Client(timeout=10) as client, open_stream(client, served, since=start) as r:
        t0 = time.monotonic()
        text = Stream(r).until(lambda t: t.count(":\n\n") >= 2, timeout=5)
    assert text.startswith("event: datastar-patch-signals")
    assert time.monotonic() - t0 >= HEARTBEAT_S


# --- shutdown --------------------------------------------------------------------------


def test_closing_ends_a_stream_gracefully_after_what_is_queued(database_url):
    async def scenario(feed: Feed) -> None:
        sub = Subscriber(max_frames=8, max_bytes=1 << 20)
        response = EventStream(feed, sub, since=0)
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
            httpx.get(url + "/static/app.css", timeout=1)
            return server, url
        except httpx.TransportError:
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
            with httpx.stream("GET", two_url + LIVE_PATH, params={"since": start},
                              timeout=10) as response:
                stream = Stream(response)
                stream.until(hello(start))
                form = {**valid_form(db), LABEL: "Across processes"}
                written = httpx.post(one_url + screen.PATH, data=form, headers=DATASTAR,
                                     timeout=10)
                assert written.status_code == 200, written.text
                (created,) = db.execute(
                    sql.SQL("SELECT id FROM {} WHERE {} = %s").format(
                        sql.Identifier(TABLE), sql.Identifier(LABEL)),
                    ("Across processes",)).fetchall()
                text = stream.until(lambda t: str(created["id"]) in rows_in(t))
            assert "Across processes" in text
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
                httpx.get(url + "/static/app.css", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        with httpx.stream("GET", url + LIVE_PATH, timeout=10) as response:
            stream = Stream(response)
            stream.until(lambda t: "_realtime" in t)
            t0 = time.monotonic()
            server.send_signal(signal.SIGTERM)
            stream.rest()  # ends with the chunked terminator (httpx raises on a cut)
        assert server.wait(10) in (0, -signal.SIGTERM)
        assert time.monotonic() - t0 < 4, "streams did not hold up the shutdown"
        text = log.read_text()
        assert "Application shutdown complete" in text
        assert "graceful shutdown exceeded" not in text and "Traceback" not in text
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
