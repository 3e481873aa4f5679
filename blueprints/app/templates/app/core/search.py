"""The command palette's search (templates/_palette.html, app/palette.py).

Screens are matched here, in Python, by title and menu group. Records are matched on the
server, store by store, in one statement: each source's text columns `ILIKE` the user's text
taken literally (`%`, `_` and `\\` escaped), parameters only, a few rows per store, under the
pool's statement timeout; a trigram index on a column (pg_trgm, added for a master-detail's
`search` fields) serves the match where there is one.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from app.core.forms import like_pattern
from app.registry import NavItem

MIN_LENGTH = 2  # records are searched from this many characters on; screens from the first
MAX_LENGTH = 100  # longer text is cut here: no screen title or useful query is longer
PER_STORE = 5  # hits per store


@dataclass(frozen=True)
class Source:
    """A store the palette searches (decided by dsgen from the spec)."""

    title: str  # the heading of its hits
    table: str
    label: str  # the column a hit is shown by
    columns: tuple[str, ...]  # the text columns matched
    url: str  # a record's page is f"{url}/{id}"


@dataclass(frozen=True)
class Hit:
    label: str
    url: str


@dataclass(frozen=True)
class Group:
    title: str
    hits: tuple[Hit, ...]


def clean_query(raw: object) -> str:
    """The user's text, trimmed, one space between words, at most MAX_LENGTH characters;
    anything but a string (a signal of another type) is no text."""
    if not isinstance(raw, str):
        return ""
    return " ".join(raw.replace("\x00", "").split())[:MAX_LENGTH]


def match_screens(items: Iterable[NavItem], q: str) -> list[NavItem]:
    """The menu's screens whose title and groups hold every word of `q` (any case), in menu
    order; all of them for no text."""
    words = q.casefold().split()
    return [
        item
        for item in items
        if all(w in " ".join((*item.group, item.label)).casefold() for w in words)
    ]


def records_query(sources: tuple[Source, ...]) -> sql.Composed:
    """One statement: per source, its first hits by label (a UNION ALL of LIMITed parts)."""
    parts = []
    for number, source in enumerate(sources):
        label = sql.Identifier(source.label)
        matches = sql.SQL(" OR ").join(
            sql.SQL("{} ILIKE %(pattern)s").format(sql.Identifier(c)) for c in source.columns
        )
        parts.append(
            sql.SQL(
                "(SELECT {number} AS source, t.\"id\", CAST(t.{label} AS text) AS label"
                " FROM {table} AS t WHERE {matches}"
                " ORDER BY t.{label} NULLS LAST, t.\"id\" LIMIT %(limit)s)"
            ).format(
                number=sql.Literal(number),
                label=label,
                table=sql.Identifier(source.table),
                matches=matches,
            )
        )
    return sql.SQL(" UNION ALL ").join(parts)


async def search_records(
    conn: AsyncConnection[DictRow],
    sources: tuple[Source, ...],
    q: str,
    limit: int = PER_STORE,
) -> list[Group]:
    """The records matching `q` (cleaned, at least MIN_LENGTH long), grouped by source in
    the sources' order; sources without a hit are left out."""
    if len(q) < MIN_LENGTH or not sources:
        return []
    cur = await conn.execute(records_query(sources), {"pattern": like_pattern(q), "limit": limit})
    found: dict[int, list[Hit]] = {}
    for row in await cur.fetchall():
        source = sources[row["source"]]
        found.setdefault(row["source"], []).append(
            Hit(label=row["label"] or "", url=f"{source.url}/{row['id']}")
        )
    return [
        Group(title=source.title, hits=tuple(found[number]))
        for number, source in enumerate(sources)
        if number in found
    ]
