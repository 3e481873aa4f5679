"""Reading one record by the id in a URL: malformed and unknown ids are the same "not found"."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import HTTPException
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from app.core.forms import parse_id

Row = dict[str, Any]
# A store's `get(conn, id)`: the record, or None when there is none with that id.
Getter = Callable[[AsyncConnection[DictRow], UUID], Awaitable[Row | None]]


async def find(get: Getter, conn: AsyncConnection[DictRow], raw_id: str) -> Row | None:
    """The record whose id is `raw_id` (a path segment), or None when the id is malformed
    or no record has it."""
    record_id = parse_id(raw_id)
    return await get(conn, record_id) if record_id else None


async def get_or_404(get: Getter, conn: AsyncConnection[DictRow], raw_id: str) -> Row:
    """The record whose id is `raw_id`, or a 404 (for pages: a deep link to a deleted record)."""
    record = await find(get, conn, raw_id)
    if record is None:
        raise HTTPException(status_code=404)
    return record
