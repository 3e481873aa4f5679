"""CSV downloads, streamed: a table of any size leaves in batches through a server-side cursor.

Text a spreadsheet would run as a formula gets a leading quote (OWASP CSV injection);
numbers, dates and booleans are formatted here and never start a formula.
"""

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

Row = dict[str, Any]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500  # rows read from the cursor (and written to the client) at a time


def safe_text(text: str) -> str:
    """`text` as a cell that a spreadsheet shows, never runs."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: Any) -> str:
    """A stored value as a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float | UUID):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    return safe_text(json.dumps(value, ensure_ascii=False))


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def csv_lines(
    pool: AsyncConnectionPool[AsyncConnection[DictRow]],
    query: str,
    params: dict[str, Any],
    *,
    header: list[str],
    to_cells: Callable[[Row], list[str]],
    cursor_name: str,
) -> AsyncIterator[str]:
    """The CSV text of `query`'s rows (each made into cells by `to_cells`), after a BOM
    (spreadsheets then read UTF-8) and `header`. Reads on its own connection from `pool`:
    a response body is streamed after the handler returned its connection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(title) for title in header])
    yield "\ufeff" + _drain(buffer)
    async with (
        pool.connection() as conn,
        conn.transaction(),
        conn.cursor(name=cursor_name) as cur,
    ):
        await cur.execute(query, params)
        while batch := await cur.fetchmany(BATCH):
            writer.writerows(to_cells(row) for row in batch)
            yield _drain(buffer)
