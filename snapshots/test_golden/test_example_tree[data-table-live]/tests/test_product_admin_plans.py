"""Screen `product_admin` on a large table: its list and its search walk an index
(EXPLAIN of the queries the screen runs; sequential scans stay enabled)."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import AsyncCursor, sql

from app.screens import product_admin as screen
from app.stores import product as store
from tests.conftest import TABLES, run_async

ROWS = 200_000
TABLE = "products"
SEED = "INSERT INTO \"products\" (\"name\", \"sku\") SELECT left(md5(g::text), 32), left(md5(g::text), 32) FROM generate_series(1, %(n)s) AS g"


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
        db.execute(sql.SQL("ANALYZE {}").format(table))
        yield db
        db.execute(everything)


def queries(database_url: str, q: str) -> list[tuple[str, Any]]:
    """The SQL the screen's list runs for search text `q` (run for real, recorded)."""
    recorded: list[tuple[str, Any]] = []

    class Recording(AsyncCursor[Any]):
        async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            text = query if isinstance(query, str) else query.as_string(self)
            recorded.append((text, params))
            return await super().execute(query, params, **kwargs)

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(
            database_url, autocommit=True, cursor_factory=Recording
        ) as conn:
            await store.list_rows(conn, q, screen.LIST_LIMIT, screen.SEARCH)

    run_async(main)
    assert recorded, "the list ran no query"
    return recorded


def scans(db: psycopg.Connection[Any], query: str, params: Any) -> list[str]:
    """The plan's node types that read TABLE."""
    (plan,) = db.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()  # type: ignore[misc]
    found, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") == TABLE:
            found.append(node["Node Type"])
        stack.extend(node.get("Plans", []))
    return found


@pytest.mark.parametrize("q", ["", "7f3a"], ids=["list", "search"])
def test_the_list_walks_an_index_on_a_large_table(big, database_url, q):
    if q and not screen.SEARCH:
        pytest.skip("the screen has no search")
    for query, params in queries(database_url, q):
        nodes = scans(big, query, params)
        assert nodes, f"the query does not read {TABLE}: {query}"
        assert "Seq Scan" not in nodes, f"{nodes} for q={q!r}: {query}"
