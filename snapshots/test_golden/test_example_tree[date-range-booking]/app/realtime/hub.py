"""The in-process registry: one `Feed` per realtime view (a screen), fed by the one `Listener`.

A feed turns its channel's changes into Datastar frames and hands each frame (encoded
once, shared as bytes) to every subscriber of a group (the pages with the same key, e.g.
the same search). In the default mode it coalesces adaptively: a change after a quiet
period is sent at once; changes arriving less than `coalesce_s` after the previous frame
wait for that window to end and are folded per record (`net_changes`); the affected rows
are re-read, and each group gets one frame with the latest state, rendered once.

Frames are cut at listener positions (snapshots, see `events.Position`), and every frame
ends with a checkpoint carrying the position it covers. A stream that joins — first
connect or reconnect with `Last-Event-ID` — is attached *between* two frames, after a
catch-up read of exactly the events its position does not see and the listener's does,
so nothing is skipped or applied twice.
"""

import asyncio
import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from app import sse
from app.realtime.events import (
    Change,
    NetChanges,
    Position,
    current_position,
    net_changes,
    notify_channel,
    read_changes,
    snapshot,
)
from app.realtime.subscriber import State, Subscriber, UnboundedSubscriber

log = logging.getLogger(__name__)

AnySubscriber = Subscriber | UnboundedSubscriber

# Tells the page its stream is live (the page shows "reconnecting…" on Datastar retries).
STATUS_SIGNAL = "_realtime"


class ChannelView(Protocol):
    """The screen-specific half of realtime: how its channel's changes become patches.

    Subscribers of a view are grouped by a *key*: whatever in the page changes the patches
    (for a list, its search text). Patches are rendered once per group and burst.

    Every patch must *set* elements to the database's current state (morph or replace by
    id, remove by id, insert a row after its current predecessor), never apply a delta:
    a page may already show some of the changes (it was rendered after they committed),
    and applying one twice must be harmless. `render_changes` runs inside a snapshot
    transaction and is given every change up to that snapshot, so the rows it reads and
    the changes it is told about describe the same moment.
    """

    name: str  # unique in the app: the screen that streams
    channel: str  # the realtime channel (table) it watches

    async def render_changes(
        self, conn: AsyncConnection[Any], changes: NetChanges, key: str
    ) -> list[str]:
        """Patches bringing any page of group `key` that saw the state before `changes`
        to the current state (SSE event texts, `app.sse` functions)."""
        ...

    async def render_all(self, conn: AsyncConnection[Any], key: str) -> list[str]:
        """Patches that replace the whole view (a page whose state is unknown)."""
        ...


@dataclass(slots=True)
class _Join:
    subscriber: AnySubscriber
    since: Position | None  # None: the client's state is unknown, start with a full render
    key: str


HEARTBEAT = sse.comment().encode()


def hello(position: Position) -> list[str]:
    return [sse.patch_signals({STATUS_SIGNAL: "live"}), sse.checkpoint(str(position))]


class Feed:
    """One view's subscribers (grouped by key), its pending changes, the flush task."""

    def __init__(
        self,
        view: ChannelView,
        pool: AsyncConnectionPool[Any],
        *,
        coalesce_s: float,
        heartbeat_s: float = 15.0,
        max_replay: int = 5000,
        per_event: bool = False,
    ) -> None:
        self.view = view
        self.name = view.name
        self.channel = view.channel
        self.groups: dict[str, set[AnySubscriber]] = {}
        self._pool = pool
        self._coalesce_s = coalesce_s
        self._per_event = per_event  # benchmark baseline: one frame per change
        self._pending: list[Change] = []
        self._joins: list[_Join] = []
        # The listener's position (the snapshot of its last read, all channels); None until
        # the listener has connected once. Frames and joins are cut at these positions.
        self.position: Position | None = None
        self._heartbeat_s = heartbeat_s
        # A reconnecting client that missed more events than this gets a full re-render.
        self.max_replay = max_replay
        self.closed = False
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.frames_sent = 0

    @property
    def subscribers(self) -> list[AnySubscriber]:
        return [s for group in self.groups.values() for s in group]

    def _discard(self, key: str, subscriber: AnySubscriber) -> None:
        group = self.groups.get(key)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self.groups[key]

    # --- the listener side ---------------------------------------------------------
    def advance(self, changes: Sequence[Change], position: Position) -> None:
        """The listener read up to `position`; `changes` are this channel's share."""
        self._pending.extend(changes)
        self.position = position
        if changes or self._joins:
            self._wakeup.set()

    # --- the stream side -----------------------------------------------------------
    def join(self, subscriber: AnySubscriber, since: Position | None, key: str = "") -> None:
        """Attach a stream whose page shows group `key`'s view at event `since`."""
        if self.closed:
            subscriber.close()  # raced with shutdown: end it, the client retries elsewhere
            return
        self._joins.append(_Join(subscriber, since, key))
        self._wakeup.set()

    def leave(self, subscriber: AnySubscriber, key: str = "") -> None:
        """The stream ended. Closing the subscriber also keeps a flush that is admitting
        it right now from adding it back."""
        subscriber.close()
        self._discard(key, subscriber)
        if self._joins:
            self._joins = [j for j in self._joins if j.subscriber is not subscriber]

    def restart_all(self, position: Position) -> None:
        """Every subscriber gets a full re-render (the change log has a hole)."""
        self._pending.clear()
        self.position = position
        for key, group in self.groups.items():
            self._joins.extend(_Join(subscriber, None, key) for subscriber in group)
        self.groups.clear()
        self._wakeup.set()

    def close_all(self) -> None:
        self.closed = True
        for join in self._joins:
            join.subscriber.close()
        self._joins.clear()
        for subscriber in self.subscribers:
            subscriber.close()
        self.groups.clear()

    # --- the flush loop ------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"realtime-feed-{self.name}"),
            asyncio.create_task(self._heartbeats(), name=f"realtime-heartbeat-{self.name}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _heartbeats(self) -> None:
        """A comment to every stream that got nothing since the last tick (one timer for
        the whole feed instead of one per stream)."""
        while True:
            await asyncio.sleep(self._heartbeat_s)
            for key, group in list(self.groups.items()):
                for subscriber in list(group):
                    if not subscriber.active and not subscriber.offer(HEARTBEAT):
                        self._discard(key, subscriber)
                    subscriber.active = False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = 0.1
        last_frame = -math.inf  # when the last run of changes was flushed (loop time)
        while True:
            await self._wakeup.wait()
            if self._pending and self._coalesce_s:
                # Adaptive coalescing: the first change after a quiet period goes out at
                # once; changes arriving while frames are flowing wait for the window that
                # the previous frame opened, and land in _pending meanwhile. A burst is
                # then about one frame per window, an isolated write is not delayed.
                wait = last_frame + self._coalesce_s - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._wakeup.clear()
            if self._pending:
                last_frame = loop.time()
            try:
                await self.flush()
                backoff = 0.1
            except Exception:
                # Database trouble: pending changes and joins were put back; retry.
                log.exception("realtime feed %s: flush failed, retrying", self.name)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._wakeup.set()

    async def flush(self) -> None:
        """Send pending changes to subscribers, then attach waiting joins."""
        position = self.position
        if position is None:
            return  # the listener has not connected yet; joins wait for it
        changes, self._pending = self._pending, []
        joins, self._joins = self._joins, []
        if not changes and not joins:
            return
        try:
            async with self._pool.connection() as conn:
                if changes:
                    if self._per_event:
                        # One frame per change; only the last carries the position (a
                        # stream cut in between resumes from the previous one).
                        for change in list(changes):
                            last = change is changes[-1]
                            await self._send_live(conn, [change], position if last else None)
                            changes.remove(change)
                    else:
                        await self._send_live(conn, changes, position)
                        changes = []
                if joins:
                    admitting, joins = joins, []
                    await self._admit(conn, admitting, position)
        finally:
            # Whatever was not done goes back in front, in order.
            self._pending[:0] = changes
            self._joins[:0] = joins

    async def _render(
        self, conn: AsyncConnection[Any], changes: list[Change], until: Position, key: str
    ) -> list[str]:
        """`view.render_changes` for changes up to `until`, in a snapshot. Changes that
        committed after `until` but are already in the snapshot are folded in too (so the
        view knows every row that differs from what the pages show); their own frame
        repeats them later, harmlessly. (The naive baseline renders each change alone.)"""
        if self._per_event:
            return await self.view.render_changes(conn, net_changes(changes), key)
        async with snapshot(conn) as at:
            if at != until:
                read = await read_changes(
                    conn, after=until, until=at, channel=self.channel, limit=self.max_replay
                )
                changes = changes + read.changes
            return await self.view.render_changes(conn, net_changes(changes), key)

    async def _send_live(
        self, conn: AsyncConnection[Any], changes: list[Change], position: Position | None
    ) -> None:
        """One frame per group, covering `changes` (cut at `position`).

        Every group is rendered in the same snapshot (see `_render` for the changes it
        folds in), and frames are handed out before that read-only transaction ends: the
        streams write while the COMMIT travels."""
        if self._per_event:
            for key in list(self.groups):
                net = net_changes(changes)
                self._offer(key, await self.view.render_changes(conn, net, key), position)
            return
        assert position is not None
        async with snapshot(conn) as at:
            if at != position:
                read = await read_changes(
                    conn, after=position, until=at, channel=self.channel, limit=self.max_replay
                )
                changes = changes + read.changes
            net = net_changes(changes)
            for key in list(self.groups):
                self._offer(key, await self.view.render_changes(conn, net, key), position)

    def _offer(self, key: str, events: list[str], position: Position | None) -> None:
        """One frame of `events` to every subscriber of group `key` (ending with the
        checkpoint of `position`, unless None)."""
        if not events or key not in self.groups:
            return
        checkpoint = [] if position is None else [sse.checkpoint(str(position))]
        frame = sse.encode([*events, *checkpoint])
        self.frames_sent += 1
        for subscriber in list(self.groups[key]):
            if not subscriber.offer(frame, position):
                self._discard(key, subscriber)  # dropped (too slow) or closing

    async def _admit(
        self, conn: AsyncConnection[Any], joins: list[_Join], position: Position
    ) -> None:
        """Catch joining streams up to `position`, then make them subscribers.

        Joins are grouped by (key, since), so a thousand pages opened at the same moment
        cost one replay query, not a thousand. Joins are removed from `joins` as they are
        handled; on an error the caller puts the rest back.
        """
        later: list[_Join] = []  # retried at once
        ahead: list[_Join] = []  # retried when the listener has read further
        try:
            await self._admit_groups(conn, joins, position, later, ahead)
        finally:
            if ahead:
                self._joins.extend(ahead)
            if later:
                self._joins.extend(later)
                self._wakeup.set()

    async def _admit_groups(
        self,
        conn: AsyncConnection[Any],
        joins: list[_Join],
        position: Position,
        later: list[_Join],
        ahead: list[_Join],
    ) -> None:
        resets: list[_Join] = []
        by_point: dict[tuple[str, Position], list[_Join]] = defaultdict(list)
        for join in joins:
            if join.subscriber.state is not State.OPEN:
                continue
            if join.since is None:
                resets.append(join)
            else:
                by_point[(join.key, join.since)].append(join)
        joins.clear()

        try:
            for key, since in sorted(by_point, key=lambda point: (point[0], str(point[1]))):
                group = by_point[(key, since)]
                events: list[str] | None = None
                wait = False
                ahead_of_us = None if position.covers(since) else await self._ahead(conn, since)
                if since == position:
                    events = hello(position)
                elif ahead_of_us == "wait":
                    wait = True
                elif ahead_of_us == "unknown":
                    events = None
                else:
                    missed = await read_changes(
                        conn,
                        after=since,
                        until=position,
                        channel=self.channel,
                        limit=self.max_replay + 1,
                    )
                    if not missed.complete or len(missed.changes) > self.max_replay:
                        events = None  # pruned, or a long absence: re-render everything
                    elif missed.changes:
                        patches = await self._render(conn, missed.changes, position, key)
                        events = [*patches, *hello(position)]
                    else:
                        events = hello(position)
                del by_point[(key, since)]
                if wait:
                    ahead.extend(group)
                    continue
                if events is None:
                    resets.extend(group)
                    continue
                frame = sse.encode(events)
                for join in group:
                    if join.subscriber.offer(frame, position):
                        self.groups.setdefault(key, set()).add(join.subscriber)
            if ahead:
                # Wake the listeners (of every process) to read past these pages' positions.
                await conn.execute("SELECT pg_notify(%s, '')", (notify_channel(self.channel),))
            if not resets:
                return
            # One snapshot per key for all of them, labelled with its own position; they
            # then join again from there (next flush) like any other stream.
            for key in sorted({join.key for join in resets}):
                async with snapshot(conn) as at:
                    events = await self.view.render_all(conn, key)
                frame = sse.encode([*events, sse.checkpoint(str(at))])
                for join in [j for j in resets if j.key == key]:
                    resets.remove(join)
                    if join.subscriber.offer(frame, at):
                        later.append(_Join(join.subscriber, at, key))
        except Exception:
            for group in by_point.values():
                later.extend(group)
            later.extend(resets)
            raise

    async def _ahead(self, conn: AsyncConnection[Any], since: Position) -> str:
        """A page's position sees transactions the listener's does not (it was rendered
        after the listener's last read): "wait" for the listener to read further when one
        of them wrote to this channel, "ok" when none did (for this view the page is then
        at the listener's position, less what `since` lacks), "unknown" for a position from
        the future (another database, a hand-made id): the page is rendered anew."""
        assert self.position is not None
        if not (await current_position(conn)).covers(since):
            return "unknown"
        between = await read_changes(
            conn, after=self.position, until=since, channel=self.channel, limit=1
        )
        return "wait" if between.changes else "ok"


class Hub:
    """Every feed of this process, by view name."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        *,
        coalesce_s: float,
        heartbeat_s: float = 15.0,
        max_replay: int = 5000,
        per_event: bool = False,
    ) -> None:
        self._pool = pool
        self._coalesce_s = coalesce_s
        self._heartbeat_s = heartbeat_s
        self._max_replay = max_replay
        self._per_event = per_event
        self.feeds: dict[str, Feed] = {}
        self.closed = False

    def register(self, view: ChannelView) -> Feed:
        if view.name in self.feeds:
            raise ValueError(f"realtime view {view.name!r} registered twice")
        feed = Feed(
            view,
            self._pool,
            coalesce_s=self._coalesce_s,
            heartbeat_s=self._heartbeat_s,
            max_replay=self._max_replay,
            per_event=self._per_event,
        )
        self.feeds[view.name] = feed
        return feed

    def feed(self, name: str) -> Feed:
        return self.feeds[name]

    @property
    def channels(self) -> list[str]:
        return sorted({feed.channel for feed in self.feeds.values()})

    def dispatch(self, changes: Sequence[Change], position: Position) -> None:
        """Called by the listener with everything it read, in id order."""
        by_channel: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_channel[change.channel].append(change)
        for feed in self.feeds.values():
            feed.advance(by_channel.get(feed.channel, ()), position)

    def restart_all(self, position: Position) -> None:
        for feed in self.feeds.values():
            feed.restart_all(position)

    def start(self) -> None:
        for feed in self.feeds.values():
            feed.start()

    async def warm_up(self) -> None:
        """Render every view once (its templates compiled, a pooled connection and the
        snapshot's statements used), so the first change after a start is not the one
        that pays for it. Failures are only logged: streams work without it."""
        for feed in self.feeds.values():
            try:
                async with self._pool.connection() as conn, snapshot(conn):
                    await feed.view.render_all(conn, "")
            except Exception:
                log.exception("realtime feed %s: warm-up failed", feed.name)

    def close_streams(self) -> None:
        """End every open stream gracefully (the browsers reconnect elsewhere or later)."""
        self.closed = True
        for feed in self.feeds.values():
            feed.close_all()

    async def stop(self) -> None:
        self.close_streams()
        for feed in self.feeds.values():
            await feed.stop()

    @property
    def stream_count(self) -> int:
        return sum(len(f.subscribers) for f in self.feeds.values())
