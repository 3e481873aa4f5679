"""The durable change log: reading `realtime_events`, watermarks, retention, net changes.

Every write to a realtime table adds a row to `realtime_events` in the same transaction
(trigger `realtime_capture`, created by the migrations for every realtime store), with the
writer's transaction id (`xid`, xid8: 64 bits, it never wraps). Writers never wait for one
another, so event ids are *not* in commit order: a transaction that began first may commit
last with the lowest ids. Positions are therefore snapshots, not ids: a `Position` is the
`pg_current_snapshot()` a reader read at, and the events it has not seen are exactly those
of the transactions that snapshot does not see (in progress then, or begun after it),
whatever their ids. That is an exact resume point, for the listener and for the browser
(its text, `xmin:xmax:xip,…`, is the SSE event id and the page's `?since=`). A long-open
transaction delays nobody: it is listed in every position until it ends, then read once.
"""

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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


# `pg_snapshot` text: xmin:xmax:xip,... (at most a few hundred in-progress transactions).
_SNAPSHOT = re.compile(r"(\d{1,20}):(\d{1,20}):((?:\d{1,20}(?:,\d{1,20}){0,4095})?)")


@dataclass(frozen=True, slots=True, order=False)
class Position:
    """A reader's place in the change log: the snapshot it read at.

    It has seen the events of every transaction this snapshot sees (below `xmax` and not in
    `xip`; everything below `xmin` is settled), and none of the others.
    """

    xmin: int
    xmax: int
    xip: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str | None) -> "Position | None":
        """From `pg_snapshot` text; None for anything else (garbage, an old numeric id)."""
        match = _SNAPSHOT.fullmatch(text or "")
        if match is None:
            return None
        xmin, xmax = int(match[1]), int(match[2])
        xip = frozenset(int(x) for x in match[3].split(",") if x)
        if not xmin <= xmax or any(not xmin <= x < xmax for x in xip) or xmax >= 1 << 63:
            return None
        return cls(xmin, xmax, xip)

    def __str__(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(map(str, sorted(self.xip)))}"

    def sees(self, xid: int) -> bool:
        return xid < self.xmin or (xid < self.xmax and xid not in self.xip)

    def covers(self, other: "Position") -> bool:
        """Does this position see every transaction `other` sees? (Snapshots taken later
        always do; one taken earlier does unless no transaction ended in between.)"""
        if other.xmax > self.xmax and (
            other.xmax - self.xmax > len(other.xip)
            or any(x not in other.xip for x in range(self.xmax, other.xmax))
        ):
            return False
        return not any(x < other.xmax and x not in other.xip for x in self.xip)


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
    xid: int = 0  # the writer's transaction


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


@dataclass(frozen=True, slots=True)
class Read:
    """What a reader got: the snapshot it read at, and whether nothing it had not seen
    was pruned (`complete`), and the events (oldest id first)."""

    position: Position
    complete: bool
    changes: list[Change]


_READ = """
    SELECT now.snap::text,
           (SELECT pruned_through FROM realtime_horizon) < pg_snapshot_xmin(%(after)s),
           e.id, e.channel, e.op, e.record_id, e.xid::text
    FROM (SELECT pg_current_snapshot() AS snap) AS now
    LEFT JOIN LATERAL (
        SELECT id, channel, op, record_id, xid FROM realtime_events
        WHERE xid >= pg_snapshot_xmin(%(after)s)
          AND NOT pg_visible_in_snapshot(xid, %(after)s)
          AND (%(until)s::pg_snapshot IS NULL OR pg_visible_in_snapshot(xid, %(until)s))
          AND (%(channel)s::text IS NULL OR channel = %(channel)s)
        ORDER BY id
        LIMIT %(limit)s
    ) AS e ON true
    ORDER BY e.id
"""


async def read_changes(
    conn: AsyncConnection[Any],
    *,
    after: Position,
    until: Position | None = None,
    channel: str | None = None,
    limit: int | None = None,
) -> Read:
    """The events a reader at `after` has not seen (and `until` sees, when given), all
    channels or one, in one statement: its snapshot, the rows and the retention check
    describe the same moment, so the returned position is exact."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            _READ,
            {
                "after": str(after),
                "until": None if until is None else str(until),
                "channel": channel,
                "limit": limit,
            },
        )
        rows = await cur.fetchall()
    position = Position.parse(rows[0][0])
    assert position is not None, rows[0][0]
    changes = [
        Change(id=i, channel=ch, op=Op(op), record_id=rid, xid=int(xid))
        for _, _, i, ch, op, rid, xid in rows
        if i is not None
    ]
    return Read(position, bool(rows[0][1]), changes)


async def current_position(conn: AsyncConnection[Any]) -> Position:
    """This connection's snapshot now (in a transaction: the transaction's)."""
    text = await _scalar(conn, "SELECT pg_current_snapshot()::text")
    position = Position.parse(text)
    assert position is not None, text
    return position


async def current_watermark(conn: AsyncConnection[Any]) -> str:
    """Where a page rendered now stands in the change log (its stream's `?since=`)."""
    return str(await current_position(conn))


@asynccontextmanager
async def snapshot(conn: AsyncConnection[Any]) -> AsyncIterator[Position]:
    """A read-only REPEATABLE READ transaction; yields the position of its snapshot.

    Render a page (or a whole list) inside it and label the result with that position:
    the rows and the position then describe exactly the same moment, so resuming from it
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
            yield await current_position(conn)
    finally:
        await conn.set_isolation_level(level)
        await conn.set_read_only(read_only)


async def prune(conn: AsyncConnection[Any], *, keep_seconds: float) -> int:
    """Delete events older than the retention window (see `realtime_prune` in SQL)."""
    value = await _scalar(conn, "SELECT realtime_prune(make_interval(secs => %s))", (keep_seconds,))
    return int(value or 0)
