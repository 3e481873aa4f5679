"""Store `task`: input validation and parameterised SQL for the "tasks" table."""

from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, form_str, like_pattern, plain_text, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]

STATUS_VALUES = ("todo", "doing", "done")


class TaskIn(BaseModel):
    """A task as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=200)
    status: Annotated[Literal["todo", "doing", "done"], Blank]
    position: Annotated[int | None, Blank] = Field(None, ge=1, le=2147483647)
    notes: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "title": form_str(form, "title"),
        "status": form_str(form, "status"),
        "position": form_str(form, "position"),
        "notes": form_str(form, "notes"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "title": text_value(record["title"]),
        "status": text_value(record["status"]),
        "position": text_value(record["position"]),
        "notes": text_value(record["notes"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "title": "",
        "status": "todo",
        "position": "",
        "notes": "",
    }


# Repository: parameterised SQL only; every identifier is quoted.


async def list_rows(
    conn: AsyncConnection[DictRow],
    q: str = "",
    limit: int = 200,
    search: tuple[str, ...] = (),
) -> list[Row]:
    """Rows for a list, ordered by label; `search` names the columns `q` is matched in."""
    columns = {
        "title": 't."title"',
        "status": 't."status"',
        "notes": 't."notes"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."title",
               t."status",
               t."position",
               t."notes",
               t."created_at", t."updated_at"
        FROM "tasks" AS t
        WHERE {where}
        ORDER BY t."title", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."title",
               t."status",
               t."position",
               t."notes",
               t."created_at", t."updated_at"
        FROM "tasks" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at task: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "title" AS "label"
        FROM "tasks"
        ORDER BY "title", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: TaskIn) -> dict[str, Any]:
    return {
        "title": data.title,
        "status": data.status,
        "position": data.position,
        "notes": data.notes,
    }


async def create(conn: AsyncConnection[DictRow], data: TaskIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "tasks" ("title", "status", "position", "notes")
            VALUES (%(title)s, %(status)s, %(position)s, %(notes)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: TaskIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "tasks"
            SET "title" = %(title)s,
"status" = %(status)s,
"position" = %(position)s,
"notes" = %(notes)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a task; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "tasks" WHERE "id" = %(id)s RETURNING "title" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    return {}

