"""The gantt screens' queries: the rows a chart shows, their dependencies, and a move.

Nothing here depends on the spec: a gantt screen (app/screens/) names its table and the
columns its bars are drawn from (`GanttTable`); app/core/gantt.py turns the rows into a chart.
SQL is parameterised; identifiers are quoted by psycopg (`sql.Identifier`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError, sql
from psycopg.rows import DictRow

from app.core import gantt
from app.core.forms import EARLIEST_DATE, LATEST_DATE

Conn = AsyncConnection[DictRow]
Row = dict[str, Any]
# A store's `constraint_errors(exc)`: a message per field for the rules it knows, or {}.
ConstraintErrors = Callable[[IntegrityError], dict[str, str]]


@dataclass(frozen=True)
class Links:
    """A table of (owner, target) pairs: the owner may not start before the target ends."""

    table: str
    owner: str
    target: str


@dataclass(frozen=True)
class GanttTable:
    """A chart's rows: bars run from `start` to `end` (columns of `table`), labelled by the
    column `label` (None: by the id), sorted by start (unscheduled last), label, then id."""

    table: str
    start: str
    end: str
    label: str | None
    noun: str  # what a row is called in messages
    constraint_errors: ConstraintErrors  # the store's messages for the schema's rules
    links: Links | None = None  # the dependencies drawn as arrows and checked on a move

    def _sql(self, query: str, **parts: sql.Composable) -> sql.Composed:
        """`query` with {table}, {start}, {end}, {columns} (a row as the chart reads it:
        id, label, start, end) and {order} in place, and the fragments `parts`."""
        label = sql.SQL('t."id"') if self.label is None else sql.SQL("t.{}").format(
            sql.Identifier(self.label)
        )
        start, end = sql.Identifier(self.start), sql.Identifier(self.end)
        return sql.SQL(query).format(
            table=sql.Identifier(self.table),
            start=start,
            end=end,
            columns=sql.SQL('t."id", {label}::text AS "label", t.{start} AS "start",'
                            ' t.{end} AS "end"').format(label=label, start=start, end=end),
            order=sql.SQL('t.{start} NULLS LAST, {label}::text, t."id"').format(
                start=start, label=label
            ),
            **parts,
        )

    def _link(self, query: str) -> sql.Composed:
        """`query` with the link table's {links}, {owner} and {target} in place as well."""
        assert self.links is not None
        return self._sql(
            query,
            links=sql.Identifier(self.links.table),
            owner=sql.Identifier(self.links.owner),
            target=sql.Identifier(self.links.target),
        )

    async def _records(self, conn: Conn) -> list[Row]:
        """Up to ROW_LIMIT + 1 rows, in chart order."""
        query = self._sql("SELECT {columns} FROM {table} AS t ORDER BY {order} LIMIT %(limit)s")
        cur = await conn.execute(query, {"limit": gantt.ROW_LIMIT + 1})
        return await cur.fetchall()

    async def _count(self, conn: Conn) -> int:
        """The number of rows, counted up to COUNT_CAP + 1 along the chart's index."""
        query = self._sql(
            'SELECT count(*) AS "n"'
            " FROM (SELECT 1 FROM {table} AS t ORDER BY {order} LIMIT %(cap)s) AS capped"
        )
        cur = await conn.execute(query, {"cap": gantt.COUNT_CAP + 1})
        row = await cur.fetchone()
        return int(row["n"]) if row else 0

    async def order(self, conn: Conn) -> list[str]:
        """The ids of the shown rows, in order (to tell whether a move reorders the chart)."""
        query = self._sql('SELECT t."id" FROM {table} AS t ORDER BY {order} LIMIT %(limit)s')
        cur = await conn.execute(query, {"limit": gantt.ROW_LIMIT})
        return [str(r["id"]) for r in await cur.fetchall()]

    async def rows(self, conn: Conn, ids: list[UUID]) -> list[Row]:
        query = self._sql(
            'SELECT {columns} FROM {table} AS t WHERE t."id" = ANY(%(ids)s) ORDER BY {order}'
        )
        cur = await conn.execute(query, {"ids": ids})
        return await cur.fetchall()

    async def _pairs(self, conn: Conn, ids: list[UUID]) -> list[Row]:
        """(task, needs) pairs among `ids`: `task` may not start before `needs` ends."""
        if self.links is None or not ids:
            return []
        query = self._link(
            """
            SELECT link.{owner} AS "task", link.{target} AS "needs"
            FROM {links} AS link
            WHERE link.{owner} = ANY(%(ids)s) AND link.{target} = ANY(%(ids)s)
              AND link.{owner} <> link.{target}
            ORDER BY link.{owner}, link.{target}
            """
        )
        cur = await conn.execute(query, {"ids": ids})
        return await cur.fetchall()

    async def needs(self, conn: Conn, task_id: UUID) -> list[Row]:
        """The rows `task_id` depends on, as stored."""
        if self.links is None:
            return []
        return await self._linked(conn, task_id, row=self.links.target, of=self.links.owner)

    async def waiting(self, conn: Conn, task_id: UUID) -> list[Row]:
        """The rows that depend on `task_id`."""
        if self.links is None:
            return []
        return await self._linked(conn, task_id, row=self.links.owner, of=self.links.target)

    async def _linked(self, conn: Conn, task_id: UUID, *, row: str, of: str) -> list[Row]:
        """The rows at the `row` end of the links whose `of` end is `task_id`."""
        assert self.links is not None
        query = self._sql(
            """
            SELECT {columns}
            FROM {links} AS link JOIN {table} AS t ON t."id" = link.{row}
            WHERE link.{of} = %(id)s AND t."id" <> %(id)s
            ORDER BY {order}
            """,
            links=sql.Identifier(self.links.table), row=sql.Identifier(row), of=sql.Identifier(of),
        )
        cur = await conn.execute(query, {"id": task_id})
        return await cur.fetchall()

    async def chart(
        self, conn: Conn, zoom: str, path: str, errors: dict[str, str] | None = None
    ) -> gantt.Chart:
        """The chart at `zoom` (its links point at `path`); `errors`: a message per row id."""
        records = await self._records(conn)
        total = len(records)
        if total > gantt.ROW_LIMIT:
            records = records[:gantt.ROW_LIMIT]
            total = await self._count(conn)
        pairs = await self._pairs(conn, [r["id"] for r in records])
        return gantt.build_chart(
            records, total, zoom, path, now=datetime.now(UTC), errors=errors, pairs=pairs
        )

    async def lock(self, conn: Conn) -> None:
        """Writers of this table's dates take turns (until their transaction ends), so two
        moves cannot each pass the dependency check against the other's old dates."""
        lock = f"dsgen-gantt:{self.table}"
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": lock})

    async def reschedule(self, conn: Conn, task_id: UUID, move: int, grow: int) -> gantt.Moved:
        """Shift a task by `move` days and its end by `grow` more, if every rule still holds
        (gantt.MoveError says which does not)."""
        async with conn.transaction():
            await self.lock(conn)
            before = await self.order(conn)
            rows = await self.rows(conn, [task_id])
            if not rows:
                raise gantt.MoveError(f"That {self.noun} no longer exists.", gone=True)
            current = rows[0]
            label = gantt.row_label(current["label"])
            if current["start"] is None or current["end"] is None:
                raise gantt.MoveError(
                    f"“{label}” has no dates to move; set its start and end first."
                )
            try:
                start = current["start"] + timedelta(days=move)
                end = current["end"] + timedelta(days=move + grow)
            except OverflowError:
                raise gantt.MoveError("That date is out of range.") from None
            if not all(
                EARLIEST_DATE <= (d.date() if isinstance(d, datetime) else d) <= LATEST_DATE
                for d in (start, end)
            ):
                raise gantt.MoveError(
                    f"Dates run from the year {EARLIEST_DATE.year} to {LATEST_DATE.year}."
                )
            needs, waiting = await self.needs(conn, task_id), await self.waiting(conn, task_id)
            broken = gantt.broken_rule(f"“{label}”", start, end, needs, waiting)
            if broken:
                raise gantt.MoveError(broken[1])
            try:
                await self._write_dates(conn, task_id, start, end)
            except IntegrityError as exc:  # a rule of the schema (unique, no-overlap, check)
                known = list(self.constraint_errors(exc).values())
                refused = f"The database refused that move: it clashes with another {self.noun}."
                raise gantt.MoveError(known[0] if known else refused) from None
        return gantt.Moved(label, start, end, before)

    async def _write_dates(self, conn: Conn, task_id: UUID, start: Any, end: Any) -> None:
        """Set start and end (and `updated_at`, unless a bar is drawn from it)."""
        assignments = [
            sql.SQL("{} = %(start)s").format(sql.Identifier(self.start)),
            sql.SQL("{} = %(end)s").format(sql.Identifier(self.end)),
        ]
        if "updated_at" not in (self.start, self.end):
            assignments.append(sql.SQL('"updated_at" = now()'))
        query = self._sql(
            'UPDATE {table} SET {assignments} WHERE "id" = %(id)s',
            assignments=sql.SQL(", ").join(assignments),
        )
        await conn.execute(query, {"id": task_id, "start": start, "end": end})
