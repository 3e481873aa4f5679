"""The wizard screens' runtime: their drafts, kept on the server.

Nothing here depends on the spec: a wizard screen (app/screens/) names the shared drafts
table and itself (`Drafts`); every query is scoped to that screen, so wizards sharing the
table never see each other's drafts. SQL is parameterised; the table name is quoted by
psycopg (`sql.Identifier`).
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

Conn = AsyncConnection[DictRow]
Row = dict[str, Any]

_COLUMNS = '"id", "step", "data", "updated_at"'


@dataclass(frozen=True)
class Drafts:
    """The drafts of one wizard screen: `data` holds the values entered so far, `step` the
    furthest step reached. A draft untouched for `expire_days` is abandoned."""

    table: str
    screen: str
    label: str  # the form field a draft is listed by
    expire_days: int
    recent_limit: int  # drafts listed beside the wizard

    def _sql(self, query: str) -> sql.Composed:
        return sql.SQL(query).format(table=sql.Identifier(self.table), columns=sql.SQL(_COLUMNS))

    async def expire(self, conn: Conn) -> None:
        """Delete this screen's abandoned drafts. Every handler starts with it, so an
        expired draft is never shown or saved into."""
        query = self._sql(
            'DELETE FROM {table} WHERE "screen" = %(screen)s'
            ' AND "updated_at" < now() - make_interval(days => %(days)s)'
        )
        await conn.execute(query, {"screen": self.screen, "days": self.expire_days})

    async def load(self, conn: Conn, draft_id: UUID | None, *, lock: bool = False) -> Row | None:
        """A draft of this screen (locked until commit with `lock`); None when the id is
        malformed or unknown."""
        if draft_id is None:
            return None
        query = self._sql(
            'SELECT {columns} FROM {table} WHERE "id" = %(id)s AND "screen" = %(screen)s'
            + (" FOR UPDATE" if lock else "")
        )
        cur = await conn.execute(query, {"id": draft_id, "screen": self.screen})
        return await cur.fetchone()

    async def insert(self, conn: Conn, values: dict[str, Any], reached: int) -> Row:
        query = self._sql(
            'INSERT INTO {table} ("screen", "step", "data")'
            " VALUES (%(screen)s, %(step)s, %(data)s) RETURNING {columns}"
        )
        params = {"screen": self.screen, "step": reached, "data": Jsonb(values)}
        row = await (await conn.execute(query, params)).fetchone()
        assert row is not None
        return row

    async def update(
        self, conn: Conn, draft_id: UUID, values: dict[str, Any], reached: int
    ) -> Row | None:
        """Merge one step's values into the draft; `step` only ever moves forward."""
        query = self._sql(
            """
            UPDATE {table}
            SET "data" = "data" || %(data)s, "step" = GREATEST("step", %(step)s),
                "updated_at" = now()
            WHERE "id" = %(id)s AND "screen" = %(screen)s
            RETURNING {columns}
            """
        )
        params = {"id": draft_id, "screen": self.screen, "step": reached, "data": Jsonb(values)}
        return await (await conn.execute(query, params)).fetchone()

    async def delete(self, conn: Conn, draft_id: UUID) -> bool:
        query = self._sql('DELETE FROM {table} WHERE "id" = %(id)s AND "screen" = %(screen)s')
        cur = await conn.execute(query, {"id": draft_id, "screen": self.screen})
        return cur.rowcount == 1

    async def recent(self, conn: Conn) -> list[Row]:
        """The drafts in progress, most recently touched first: id, step, label, updated_at."""
        query = self._sql(
            """
            SELECT "id", "step", "data" ->> %(label)s AS "label", "updated_at"
            FROM {table}
            WHERE "screen" = %(screen)s
            ORDER BY "updated_at" DESC, "id" DESC
            LIMIT %(limit)s
            """
        )
        params = {"screen": self.screen, "label": self.label, "limit": self.recent_limit}
        return await (await conn.execute(query, params)).fetchall()
