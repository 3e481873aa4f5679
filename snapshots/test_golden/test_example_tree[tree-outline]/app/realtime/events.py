"""The durable change log: reading `realtime_events`, watermarks, retention, net changes.

Every write to a realtime table adds a row to `realtime_events` in the same transaction
(trigger `realtime_capture`, created by the migrations for every realtime store). The
trigger takes a transaction-scoped
advisory lock first, so event ids are handed out in commit order: once id N is visible,
every id below N is either visible too or never will be (rolled back). That makes
"the last id I have seen" an exact resume point, for the listener and for the browser.
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, IsolationLevel, pq
from psycopg.rows import tuple_row

# NOTIFY channel for a realtime channel: the trigger sends an empty payload here on every
# change (a wake-up, never the data; PostgreSQL folds identical ones within a transaction).
NOTIFY_PREFIX = "realtime_"


def notify_channel(channel: str) -> str:
    return NOTIFY_PREFIX + channel


class Op(StrEnum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    TRUNCATE = "TRUNCATE"


@dataclass(frozen=True, slots=True)
class Change:
    """One row of `realtime_events`."""

    id: int
    channel: str
    op: Op
    record_id: UUID | None


class Kind(StrEnum):
    """What a client that saw the state *before* a run of changes must do to a record."""

    CREATED = "created"  # insert it
    UPDATED = "updated"  # re-render it in place
    DELETED = "deleted"  # remove it


@dataclass(frozen=True, slots=True)
class NetChanges:
    """A run of changes folded per record (a burst of 50 writes to one row is one patch)."""

    kinds: dict[UUID, Kind]
    # Records created in this run, oldest first: the order to append them in.
    created_order: tuple[UUID, ...]
    # A TRUNCATE (or anything not expressible per record): re-render the whole view.
    reset: bool = False

    def __bool__(self) -> bool:
        return self.reset or bool(self.kinds)


def net_changes(changes: Iterable[Change]) -> NetChanges:
    """Fold changes (in id order) to one `Kind` per record.

    Whether a record existed before the run is decided by its first op, whether it exists
    after by its last: insert+update is a create, update+delete a delete. Insert+delete is
    a delete too: a page rendered in the middle of the run (or sent a frame that folded in
    the insert early) may show the record, and removing an absent one is harmless.
    """
    first: dict[UUID, tuple[int, Op]] = {}
    last: dict[UUID, Op] = {}
    reset = False
    for change in changes:
        if change.op is Op.TRUNCATE or change.record_id is None:
            reset = True
            continue
        first.setdefault(change.record_id, (change.id, change.op))
        last[change.record_id] = change.op
    kinds: dict[UUID, Kind] = {}
    for record_id, (_, first_op) in first.items():
        existed_before = first_op is not Op.INSERT
        exists_after = last[record_id] is not Op.DELETE
        if not exists_after:
            kinds[record_id] = Kind.DELETED
        elif existed_before:
            kinds[record_id] = Kind.UPDATED
        else:
            kinds[record_id] = Kind.CREATED
    created = sorted(
        (rid for rid, kind in kinds.items() if kind is Kind.CREATED), key=lambda r: first[r][0]
    )
    return NetChanges(kinds=kinds, created_order=tuple(created), reset=reset)


async def _scalar(conn: AsyncConnection[Any], query: str, params: Any = None) -> Any:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, params)
        row = await cur.fetchone()
    return None if row is None else row[0]


async def read_changes(
    conn: AsyncConnection[Any],
    *,
    after: int,
    until: int | None = None,
    channel: str | None = None,
    limit: int = 1000,
) -> list[Change]:
    """Events with `after < id <= until` (all channels, or one), oldest first."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            """
            SELECT id, channel, op, record_id FROM realtime_events
            WHERE id > %(after)s
              AND (%(until)s::bigint IS NULL OR id <= %(until)s)
              AND (%(channel)s::text IS NULL OR channel = %(channel)s)
            ORDER BY id
            LIMIT %(limit)s
            """,
            {"after": after, "until": until, "channel": channel, "limit": limit},
        )
        rows = await cur.fetchall()
    return [Change(id=i, channel=ch, op=Op(op), record_id=rid) for i, ch, op, rid in rows]


async def current_watermark(conn: AsyncConnection[Any]) -> int:
    """The newest event id visible to this connection's snapshot (0 when none)."""
    return int(await _scalar(conn, "SELECT coalesce(max(id), 0) FROM realtime_events"))


async def oldest_retained(conn: AsyncConnection[Any]) -> int | None:
    value = await _scalar(conn, "SELECT min(id) FROM realtime_events")
    return None if value is None else int(value)


async def can_replay(conn: AsyncConnection[Any], since: int) -> bool:
    """Is every event after `since` still in the table?

    Retention deletes a prefix of ids (see `realtime_prune`), so nothing after `since` is
    lost when `since` is at least the oldest retained id minus one. (A rolled-back id right
    below the oldest row makes this say "no" when the answer is "yes": that only costs a
    full re-render, never a lost event.)
    """
    oldest = await oldest_retained(conn)
    return oldest is None or since >= oldest - 1


@asynccontextmanager
async def snapshot(conn: AsyncConnection[Any]) -> AsyncIterator[int]:
    """A read-only REPEATABLE READ transaction; yields the event watermark of its snapshot.

    Render a page (or a whole list) inside it and label the result with that watermark:
    the rows and the id then describe exactly the same moment, so resuming from the id
    neither misses nor repeats a change.
    """
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise RuntimeError("snapshot() must begin the transaction: commit first")
    # Set on the connection, so that BEGIN carries them (one round trip, not two); put
    # back before the connection returns to its pool.
    level, read_only = conn.isolation_level, conn.read_only
    await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
    await conn.set_read_only(True)
    try:
        async with conn.transaction():
            yield await current_watermark(conn)
    finally:
        await conn.set_isolation_level(level)
        await conn.set_read_only(read_only)


async def prune(conn: AsyncConnection[Any], *, keep_seconds: float) -> int:
    """Delete events older than the retention window (see `realtime_prune` in SQL)."""
    value = await _scalar(conn, "SELECT realtime_prune(make_interval(secs => %s))", (keep_seconds,))
    return int(value or 0)
