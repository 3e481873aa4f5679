"""Screen `rota` on a large table: the chart reads its first rows and counts
the rest (up to a cap) through an index (EXPLAIN of the queries the chart runs; sequential
scans stay enabled)."""

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import AsyncCursor, sql
from psycopg.rows import dict_row

from app.core import gantt
from app.screens import rota as screen
from tests.conftest import TABLES, run_async

ROWS = 200_000
TABLE = "shifts"
SEED = "INSERT INTO \"shifts\" (\"class\", \"from\", \"end\") SELECT left(md5(g::text), 32), timestamptz '2020-01-01' + g * interval '1 minute', timestamptz '2020-01-01' + g * interval '1 minute' FROM generate_series(1, %(n)s) AS g"


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


def test_the_chart_walks_an_index_on_a_large_table(big, database_url):
    charts: list[gantt.Chart] = []

    async def run(conn: psycopg.AsyncConnection[Any]) -> None:
        charts.append(await screen.TABLE.chart(conn, gantt.DEFAULT_ZOOM, screen.PATH))

    recorded = queries(database_url, run)
    assert len(charts[0].rows) == gantt.ROW_LIMIT
    assert charts[0].counted == f"{gantt.COUNT_CAP:,}+"  # counted up to the cap, no further
    assert any("count(" in query for query, _ in recorded), "the rows were not counted"
    assert_index_paths(big, recorded)
