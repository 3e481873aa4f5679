"""Screen `board` on a large table: the board reads each column's first cards
and counts them through an index (EXPLAIN of the queries the board runs; sequential scans
stay enabled), whatever the table holds."""

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import AsyncCursor, sql
from psycopg.rows import dict_row

from app.screens import board as screen
from tests.conftest import TABLES, run_async

ROWS = 200_000
TABLE = "tasks"
SEED = "INSERT INTO \"tasks\" (\"title\", \"status\", \"position\") SELECT left(md5(g::text), 32), (ARRAY['todo', 'doing', 'done'])[g %% 3 + 1], 1 + g %% 1000001 FROM generate_series(1, %(n)s) AS g"


@pytest.fixture(scope="module")
def big(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The table with ROWS rows (one statement), analyzed; emptied afterwards."""
    with psycopg.connect(database_url, autocommit=True) as db:
        everything = sql.SQL("TRUNCATE {} CASCADE").format(
            sql.SQL(", ").join(map(sql.Identifier, TABLES)))
        db.execute(everything)
        table = sql.Identifier(TABLE)
        db.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(table))
        try:
            db.execute(SEED, {"n": ROWS})
        finally:
            db.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(table))
        db.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
        yield db
        db.execute(everything)


def queries(
    database_url: str, run: Callable[[psycopg.AsyncConnection[Any]], Awaitable[Any]]
) -> list[tuple[str, Any]]:
    """The SELECTs `run` sends (run for real on a connection of its own, recorded)."""
    recorded: list[tuple[str, Any]] = []

    class Recording(AsyncCursor[Any]):
        async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            text = query if isinstance(query, str) else query.as_string(self)
            recorded.append((text, params))
            return await super().execute(query, params, **kwargs)

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(
            database_url, autocommit=True, cursor_factory=Recording, row_factory=dict_row
        ) as conn:
            await run(conn)

    run_async(main)
    selects = [(q, p) for q, p in recorded if q.lstrip().lstrip("(").lstrip().startswith(
        ("SELECT", "WITH"))]
    assert selects, "it ran no query"
    return selects


def scans(db: psycopg.Connection[Any], query: str, params: Any) -> tuple[list[str], int]:
    """The plan's node types that read TABLE, and how many of its rows they touched (run:
    EXPLAIN ANALYZE; rows returned plus rows a filter or a recheck threw away)."""
    (plan,) = db.execute(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchone()  # type: ignore[misc]
    found, touched, stack = [], 0, [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") == TABLE:
            found.append(node["Node Type"])
            touched += round(node["Actual Rows"] * node["Actual Loops"])
            touched += node.get("Rows Removed by Filter", 0)
            touched += node.get("Rows Removed by Index Recheck", 0)
        stack.extend(node.get("Plans", []))
    return found, touched


def assert_index_paths(db: psycopg.Connection[Any], recorded: list[tuple[str, Any]]) -> None:
    """Every recorded query that reads TABLE reads it through an index, touching a small
    part of it (and one query does read it)."""
    read = 0
    for query, params in recorded:
        nodes, touched = scans(db, query, params)
        read += bool(nodes)
        assert "Seq Scan" not in nodes, f"{nodes}: {query}"
        assert touched <= ROWS // 10, f"{touched} of {ROWS} rows touched: {query}"
    assert read, f"no query reads {TABLE}"


def test_the_board_walks_an_index_on_a_large_table(big, database_url):
    recorded = queries(database_url, screen._board)
    assert_index_paths(big, recorded)


def test_a_huge_column_reads_as_a_floor(big, database_url):
    board: dict[str, Any] = {}

    async def run(conn: psycopg.AsyncConnection[Any]) -> None:
        board.update(await screen._board(conn))

    queries(database_url, run)
    full = [c for c in board["columns"] if c["cards"]]
    assert full, "no column has cards"
    for column in full:
        assert len(column["cards"]) <= screen.CARD_LIMIT
        if column["total"] > screen.COUNT_CAP:
            assert column["count"] == f"{screen.COUNT_CAP:,}+"
