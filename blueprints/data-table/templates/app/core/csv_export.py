"""CSV downloads, streamed: a table of any size leaves in chunks read one query at a time.

Each chunk borrows a pooled connection only for its own query: a client that reads slowly,
or never, holds no connection while the server waits for it to take the next bytes. (A
server-side cursor would hold one for the whole download: a dozen silent clients starve
the pool.) The download is not one snapshot: a row changed meanwhile may be missing, or
appear where it moved to.

Text a spreadsheet would run as a formula gets a quote in front (OWASP CSV injection): a
cell whose first non-blank character is = + - or @ (or that starts with a tab or CR), and
also such a run after a ; , tab or CR inside the cell, because a spreadsheet whose list
separator is ; (or one told to split on ,) cuts the cell there and reads the rest as a cell
of its own (`a;=HYPERLINK(…)`): such text is exported as `'=…` / `a;'=…`. Numbers, dates
and booleans are formatted here and never start a formula.
"""

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

Row = dict[str, Any]
# Where a formula could start: at the cell's start or after a separator-like character,
# past any blanks; and a cell starting with a tab or CR.
_FORMULA = re.compile(r"(^|[;,\t\r])(?=\s*[=+\-@])|^(?=[\t\r])")
CHUNK = 1000  # rows per query (and per write to the client)
# Reads up to `limit` rows after `last` (None: from the first row) on the connection given.
Fetch = Callable[[AsyncConnection[DictRow], Row | None, int], Awaitable[list[Row]]]


def safe_text(text: str) -> str:
    """`text` as a cell that a spreadsheet shows, never runs."""
    return _FORMULA.sub(lambda match: (match.group(1) or "") + "'", text)


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
    fetch: Fetch,
    *,
    header: list[str],
    to_cells: Callable[[Row], list[str]],
    chunk: int = CHUNK,
) -> AsyncIterator[str]:
    """The CSV text of the rows `fetch` reads, chunk after chunk (each made into cells by
    `to_cells`), after a BOM (spreadsheets then read UTF-8) and `header`. Each chunk is
    read on a connection from `pool`, returned before the chunk is written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(title) for title in header])
    yield "\ufeff" + _drain(buffer)
    last: Row | None = None
    while True:
        async with pool.connection() as conn:
            rows = await fetch(conn, last, chunk)
        writer.writerows(to_cells(row) for row in rows)
        yield _drain(buffer)
        if len(rows) < chunk:
            return
        last = rows[-1]
