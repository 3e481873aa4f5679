"""Keyset paging for the data-table screens: orders, opaque cursors, and the page's SQL.

A page is "the next N rows after this (sort key, id)", answered by an index range scan, so
page 1000 costs what page 1 costs. NULLs sort last ascending and first descending
(PostgreSQL's defaults), so an index on (key, id) serves both directions; the id breaks
ties, making every order total.

Nothing here depends on the spec: a screen subclasses `Order` with its own sort keys, and
passes its own columns, source and filter to `page_sql`.
"""

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self
from uuid import UUID

Row = dict[str, Any]


@dataclass(frozen=True)
class SortKey:
    sql: str    # the ORDER BY expression
    kind: str   # how its value travels in a cursor (a key of KINDS)
    label: str  # the column's title


@dataclass(frozen=True)
class Order:
    """A sort key and a direction. A screen subclasses it to name its `sorts` and `default`."""

    sorts: ClassVar[Mapping[str, SortKey]] = {}
    default: ClassVar[str] = ""

    key: str
    desc: bool

    @classmethod
    def parse(cls, raw: str) -> Self:
        """`name` or `-name`; anything else means the default order."""
        if raw.removeprefix("-") not in cls.sorts:
            raw = cls.default
        return cls(raw.removeprefix("-"), raw.startswith("-"))

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.desc else self.key

    @property
    def aria(self) -> str:
        return "descending" if self.desc else "ascending"

    @property
    def sort_key(self) -> SortKey:
        return self.sorts[self.key]

    def clicked(self, key: str) -> Self:
        """What a click on column `key`'s header asks for: toggle, or start ascending."""
        return type(self)(key, not self.desc) if key == self.key else type(self)(key, False)


# Cursors: the order, the direction, and the (key, id) of the row to continue from, as
# base64url JSON. Clients treat it as opaque; the server checks every part of it.


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def _float(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return value


def _datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(_str(value))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp without a time zone")
    return parsed


# How a sort key's value is read back from a cursor, by the key's kind.
KINDS: dict[str, Callable[..., Any]] = {
    "str": _str,
    "int": _int,
    "float": _float,
    "decimal": lambda value: Decimal(_str(value)),
    "bool": _bool,
    "date": lambda value: date.fromisoformat(_str(value)),
    "datetime": _datetime,
    "uuid": lambda value: UUID(_str(value)),
}


def _key_json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return str(value)  # Decimal, UUID


@dataclass(frozen=True)
class Cursor:
    backwards: bool  # the rows before this one (a "previous" link)
    key: Any
    id: UUID

    def encode(self, order: Order) -> str:
        raw = [order.param, "b" if self.backwards else "a", _key_json(self.key), str(self.id)]
        text = json.dumps(raw, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str, order: Order) -> "Cursor | None":
        """The cursor, or None when it is malformed or was made for another order."""
        if not raw or len(raw) > 2000:
            return None
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            sort, way, key, row_id = json.loads(text)
            if sort != order.param or way not in ("a", "b"):
                return None
            value = None if key is None else KINDS[order.sort_key.kind](key)
            return cls(way == "b", value, UUID(_str(row_id)))
        except (ValueError, TypeError, KeyError, InvalidOperation, binascii.Error):
            return None


def _seek(key: str, desc: bool, cursor: Cursor | None) -> list[str]:
    """WHERE conditions for the rows after `cursor` when scanning in this direction.

    A row comparison never matches NULL, so the NULL keys (last ascending, first
    descending) are a range of their own: one condition per index range, each read in
    index order and cut by LIMIT.
    """
    if cursor is None:
        return ["TRUE"]
    if not desc:
        if cursor.key is None:
            return [f'{key} IS NULL AND t."id" > %(cursor_id)s']
        return [f'({key}, t."id") > (%(cursor_key)s, %(cursor_id)s)', f"{key} IS NULL"]
    if cursor.key is None:
        return [f'{key} IS NULL AND t."id" < %(cursor_id)s', f"{key} IS NOT NULL"]
    return [f'({key}, t."id") < (%(cursor_key)s, %(cursor_id)s)']


def page_sql(
    columns: str,
    source: str,
    where: str,
    order: Order,
    cursor: Cursor | None = None,
    *,
    backwards: bool = False,
    limit: bool = True,
) -> str:
    """The SQL of one page: `columns` of `source` (whose rows are `t`) matching `where`,
    after `cursor` (or before it, read backwards), with the sort key as `_key`. Its
    parameters: `limit` (with `limit`), `cursor_key` and `cursor_id` (with a cursor)."""
    key = order.sort_key.sql
    direction = "DESC" if order.desc != backwards else "ASC"
    cut = "LIMIT %(limit)s" if limit else ""
    ranges = [
        f"""
        SELECT {columns}, {key} AS "_key"
        FROM {source}
        WHERE {where} AND {condition}
        ORDER BY {key} {direction}, t."id" {direction}
        {cut}
        """
        for condition in _seek(key, direction == "DESC", cursor)
    ]
    if len(ranges) == 1:
        return ranges[0]
    union = " UNION ALL ".join(f"({sql})" for sql in ranges)
    return f"""
        SELECT * FROM ({union}) AS ranges
        ORDER BY "_key" {direction}, "id" {direction}
        {cut}
        """


@dataclass(frozen=True)
class Page:
    q: str
    order: Order
    cursor: str       # the cursor this page was asked for ("" for the first page)
    rows: list[Row]
    prev: str | None  # the cursor of the previous page; None on the first
    next: str | None  # the cursor of the next page; None on the last


# Reads up to `size + 1` rows after a cursor (None: from the start), backwards or not.
Fetch = Callable[[Cursor | None, bool], Awaitable[list[Row]]]


async def load_page(fetch: Fetch, size: int, q: str, order: Order, raw_cursor: str = "") -> Page:
    """One page of `size` rows, fetching one more: the extra row says there is more."""
    cursor = Cursor.decode(raw_cursor, order)
    if cursor is not None and cursor.backwards:
        rows = await fetch(cursor, True)
        if len(rows) > size:
            return _page(q, order, raw_cursor, rows[:size][::-1], True, True)
        # Fewer rows than a page before it: this is the first page, shown in full.
    elif cursor is not None:
        rows = await fetch(cursor, False)
        if rows:
            return _page(q, order, raw_cursor, rows[:size], True, len(rows) > size)
        # Nothing after it any more (rows were deleted): the last page instead.
        rows = await fetch(None, True)
        return _page(q, order, raw_cursor, rows[:size][::-1], len(rows) > size, False)
    rows = await fetch(None, False)
    return _page(q, order, "", rows[:size], False, len(rows) > size)


def _page(
    q: str, order: Order, cursor: str, rows: list[Row], has_prev: bool, has_next: bool
) -> Page:
    prev = next_ = None
    if rows and has_prev:
        prev = Cursor(True, rows[0]["_key"], rows[0]["id"]).encode(order)
    if rows and has_next:
        next_ = Cursor(False, rows[-1]["_key"], rows[-1]["id"]).encode(order)
    return Page(q=q, order=order, cursor=cursor, rows=rows, prev=prev, next=next_)
