"""The kanban screens' runtime: what a move asks for, how a move can fail, and the queries
that place cards in their columns.

Nothing here depends on the spec: a kanban screen (app/screens/) names its table and the
columns a card is grouped, ordered and labelled by (`CardTable`), and answers these errors.
SQL is parameterised; identifiers are quoted by psycopg (`sql.Identifier`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow
from pydantic import BaseModel, ConfigDict, Field

from app.core.forms import Blank

Conn = AsyncConnection[DictRow]


class Move(BaseModel):
    """A drop or a move button: put `card` into `column`, before card `before` (None: last)."""

    model_config = ConfigDict(extra="forbid")

    card: UUID
    column: str = Field(max_length=200)
    before: Annotated[UUID | None, Blank] = None


class Rejected(Exception):
    """The board cannot take this change; the message says why, for the user."""


class Gone(Exception):
    """The card was deleted (elsewhere) before this request reached it."""


def counted(total: int, shown: int, cap: int | None) -> dict[str, str]:
    """How a column's count reads: `count` in its header, `more` below its last card ("" when
    every card is shown). Past `cap` the count is a floor ("1,000+"), not a figure."""
    if cap is not None and total > cap:
        return {"count": f"{cap:,}+", "more": f"and over {cap - shown:,} more"}
    more = f"and {total - shown:,} more" if total > shown else ""
    return {"count": f"{total:,}", "more": more}


@dataclass(frozen=True)
class CardTable:
    """The cards of a board: rows of `table`, in the board column named by their `group`
    value ("" for none), sorted by `position` (None: the board keeps no order), `label`
    and id. Positions run from `first`; a column holds at most `capacity` cards."""

    table: str
    group: str  # the enum column: one board column per value
    label: str
    noun: str  # what a card is called in messages
    columns: tuple[str, ...]  # the board's columns, in order
    title: Callable[[str], str]  # how a column reads
    position: str | None = None
    first: int = 0
    capacity: int | None = None

    def _sql(self, query: str, **parts: sql.Composable) -> sql.Composed:
        """`query` with {table}, {group}, {label}, {position} and {order} (the board order),
        and the `parts` given."""
        names = {"table": self.table, "group": self.group, "label": self.label}
        ids = {key: sql.Identifier(name) for key, name in names.items()}
        order = [sql.SQL("{} NULLS LAST").format(sql.Identifier(self.position))] if (
            self.position
        ) else []
        order += [ids["label"], sql.SQL('"id"')]
        position = sql.Identifier(self.position) if self.position else sql.SQL("NULL")
        return sql.SQL(query).format(
            **ids, position=position, order=sql.SQL(", ").join(order), **parts
        )

    def board(
        self, rows: list[dict[str, Any]], *, empty_column: bool, cap: int | None = None
    ) -> dict[str, Any]:
        """The board of `rows` (each column's first cards in board order, each with `_total`,
        its column's card count, counted up to `cap` + 1): every column with its cards, its
        count and how it reads ("1,000+" past `cap`). The column of empty values ("") shows
        when it has cards, or with `empty_column` (new cards start in it)."""
        cards: dict[str, list[dict[str, Any]]] = {key: [] for key in self.columns}
        totals = dict.fromkeys(self.columns, 0)
        for row in rows:
            key = row[self.group] or ""
            if key in cards:
                cards[key].append(row)
                totals[key] = row["_total"]
        columns = [
            {"key": key, "title": self.title(key), "index": index, "cards": cards[key],
             "total": totals[key], **counted(totals[key], len(cards[key]), cap)}
            for index, key in enumerate(self.columns)
            if key or cards[key] or empty_column
        ]
        return {"columns": columns, "total": sum(totals.values()), "capacity": self.capacity}

    async def read_board(
        self, conn: Conn, cards: str, *, limit: int, cap: int, empty_column: bool
    ) -> dict[str, Any]:
        """The board (see `board`): every column with its first `limit` cards, in board order,
        and its card count up to `cap` + 1 ("1,000+" beyond). `cards` is the screen's query of
        one column's first cards (its fields and joins, `t` the card's row, board order,
        `LIMIT %(limit)s`) with `{where}` where a column's condition goes. Each column is one
        LIMIT read of the index on its cards' order, its count one capped index-only read:
        the board costs the same with a hundred cards or with millions."""
        query = """
            WITH "board column" AS MATERIALIZED (  -- counted once per column, not per card
                SELECT "key".value, "key".n, (
                    SELECT count(*)
                    FROM (
                        SELECT 1 FROM {table} AS c WHERE c.{group} = "key".value
                        ORDER BY {order} LIMIT %(cap)s
                    ) AS capped
                ) AS total
                FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS "key"(value, n)
            )
            (
                SELECT card.*, k.n AS "_column", k.total AS "_total"
                FROM "board column" AS k CROSS JOIN LATERAL ({keyed}) AS card
            )
        """
        if "" in self.columns:  # cards without a value: column 0 (a NULL test, no index)
            query += """
            UNION ALL
            (
                SELECT card.*, 0 AS "_column", (
                    SELECT count(*)
                    FROM (
                        SELECT 1 FROM {table} AS c WHERE c.{group} IS NULL
                        ORDER BY {order} LIMIT %(cap)s
                    ) AS capped
                ) AS "_total"
                FROM ({unkeyed}) AS card
            )
            """
        cur = await conn.execute(
            self._sql(
                query + 'ORDER BY "_column", {order}',
                keyed=sql.SQL(cards).format(where=self._sql("t.{group} = k.value")),
                unkeyed=sql.SQL(cards).format(where=self._sql("t.{group} IS NULL")),
            ),
            {"keys": [key for key in self.columns if key], "limit": limit, "cap": cap + 1},
        )
        return self.board(await cur.fetchall(), empty_column=empty_column, cap=cap)

    async def column_ids(self, conn: Conn, key: str) -> list[UUID]:
        """The ids of one column's cards, in board order (the current truth)."""
        # "" stands for no value: only a column of those needs the (index-less) NULL test.
        test = "IS NOT DISTINCT FROM" if "" in self.columns else "="
        query = self._sql(
            f'SELECT "id" FROM {{table}} WHERE {{group}} {test} %(column)s ORDER BY {{order}}'
        )
        cur = await conn.execute(query, {"column": key or None})
        return [row["id"] for row in await cur.fetchall()]

    async def card(self, conn: Conn, card_id: UUID) -> dict[str, Any] | None:
        """A card's column and label, locked against concurrent writers until commit."""
        query = self._sql(
            'SELECT "id", {group} AS "column", {label} AS "label" FROM {table}'
            ' WHERE "id" = %(id)s FOR UPDATE'
        )
        cur = await conn.execute(query, {"id": card_id})
        return await cur.fetchone()

    async def lock(self, conn: Conn) -> None:
        """Serialise the writers of this table's positions until the transaction ends."""
        key = f"kanban:{self.table}"
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(key)s))", {"key": key})

    async def renumber(self, conn: Conn, key: str, ids: list[UUID]) -> None:
        """Make `ids` the column's cards in this order: positions `first`, `first` + 1, …"""
        query = self._sql(
            """
            UPDATE {table} AS t
            SET {group} = %(column)s, {position} = %(first)s + item.n - 1, "updated_at" = now()
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(id, n)
            WHERE t."id" = item.id
              AND (t.{group} IS DISTINCT FROM %(column)s
                   OR t.{position} IS DISTINCT FROM %(first)s + item.n - 1)
            """
        )
        await conn.execute(query, {"column": key or None, "first": self.first, "ids": ids})

    def check_room(self, key: str, count: int) -> None:
        if self.capacity is not None and count > self.capacity:
            raise Rejected(f"“{self.title(key)}” is full: it holds at most {self.capacity} cards.")

    async def place(
        self, conn: Conn, card_id: UUID, source: str, key: str, index: int | None
    ) -> int:
        """Put the card at `index` of column `key` (None: last); returns its 1-based place."""
        ids = [i for i in await self.column_ids(conn, key) if i != card_id]
        if source != key:
            self.check_room(key, len(ids) + 1)
        ids.insert(len(ids) if index is None else index, card_id)
        await self.renumber(conn, key, ids)
        if source != key:
            rest = await self.column_ids(conn, source)
            if self.capacity is None or len(rest) <= self.capacity:
                await self.renumber(conn, source, rest)
        return ids.index(card_id) + 1

    async def move(self, conn: Conn, move: Move) -> str:
        """Carry out a move; returns what happened, for screen readers. Raises Rejected."""
        if move.column not in self.columns:
            raise Rejected("That column does not exist. The board shows the current state.")
        async with conn.transaction():
            if self.position:
                await self.lock(conn)
            card = await self.card(conn, move.card)
            if card is None:
                raise Rejected(f"That {self.noun} no longer exists.")
            source = card["column"] or ""
            if not self.position:
                if source != move.column:
                    query = self._sql(
                        'UPDATE {table} SET {group} = %(column)s, "updated_at" = now()'
                        ' WHERE "id" = %(id)s'
                    )
                    await conn.execute(query, {"column": move.column or None, "id": move.card})
                return f"“{card['label']}” is now in {self.title(move.column)}."
            current = await self.column_ids(conn, move.column)
            others = [i for i in current if i != move.card]
            if move.before is None:
                index = len(others)
            elif move.before == move.card and move.card in current:
                index = current.index(move.card)  # dropped onto itself: stays where it is
            elif move.before in others:
                index = others.index(move.before)
            else:
                raise Rejected("The board changed while you were moving that card. Try again.")
            place = await self.place(conn, move.card, source, move.column, index)
        return f"“{card['label']}” is now card {place} in {self.title(move.column)}."
