"""The `task` store (table `tasks`): realtime — every write is logged by a trigger."""

from collections.abc import Sequence
from typing import Any, TypedDict
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

Conn = AsyncConnection[DictRow]

TABLE = "tasks"
COLUMNS = "id, title, done, created_at, updated_at"
TITLE_MAX = 200


class Counts(TypedDict):
    total: int
    done: int


async def list_tasks(conn: Conn) -> list[dict[str, Any]]:
    # uuidv7 ids sort by creation time, and realtime appends new rows at the end.
    cur = await conn.execute(f"SELECT {COLUMNS} FROM tasks ORDER BY id")
    return await cur.fetchall()


async def get_tasks(conn: Conn, ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    """Several rows in one query, by id (missing ids are simply absent)."""
    if not ids:
        return {}
    cur = await conn.execute(f"SELECT {COLUMNS} FROM tasks WHERE id = ANY(%s)", (list(ids),))
    return {row["id"]: row for row in await cur.fetchall()}


async def count_tasks(conn: Conn) -> Counts:
    cur = await conn.execute(
        "SELECT count(*) AS total, count(*) FILTER (WHERE done) AS done FROM tasks"
    )
    row = await cur.fetchone()
    assert row is not None
    return Counts(total=row["total"], done=row["done"])


async def create_task(conn: Conn, title: str) -> dict[str, Any]:
    cur = await conn.execute(f"INSERT INTO tasks (title) VALUES (%s) RETURNING {COLUMNS}", (title,))
    row = await cur.fetchone()
    assert row is not None
    return row


async def toggle_task(conn: Conn, task_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"UPDATE tasks SET done = NOT done, updated_at = now() WHERE id = %s RETURNING {COLUMNS}",
        (task_id,),
    )
    return await cur.fetchone()


async def delete_task(conn: Conn, task_id: UUID) -> bool:
    cur = await conn.execute("DELETE FROM tasks WHERE id = %s", (task_id,))
    return cur.rowcount > 0
