"""Store `task`: input validation and parameterised SQL for the "tasks" table."""

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import (
    Blank,
    date_value,
    form_list,
    form_str,
    in_date_range,
    like_pattern,
    plain_text,
    single_line,
    text_value,
    uuid_list,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]

LANE_VALUES = ("backlog", "todo", "doing", "review", "done")

PRIORITY_VALUES = ("low", "normal", "high", "urgent")


class TaskIn(BaseModel):
    """A task as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=200)
    lane: Annotated[Literal["backlog", "todo", "doing", "review", "done"], Blank]
    position: Annotated[int | None, Blank] = Field(None, ge=1, le=30)
    priority: Annotated[Literal["low", "normal", "high", "urgent"] | None, Blank] = "normal"
    ends: Annotated[date | None, Blank, AfterValidator(in_date_range)] = None
    assignee: Annotated[UUID | None, Blank] = None
    watchers: list[UUID] = []
    notes: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "title": form_str(form, "title"),
        "lane": form_str(form, "lane"),
        "position": form_str(form, "position"),
        "priority": form_str(form, "priority"),
        "ends": form_str(form, "ends"),
        "assignee": form_str(form, "assignee"),
        "watchers": form_list(form, "watchers"),
        "notes": form_str(form, "notes"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "title": text_value(record["title"]),
        "lane": text_value(record["lane"]),
        "position": text_value(record["position"]),
        "priority": text_value(record["priority"]),
        "ends": date_value(record["ends"]),
        "assignee": text_value(record["assignee"]),
        "watchers": uuid_list([item["id"] for item in record["watchers"]]),
        "notes": text_value(record["notes"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "title": "",
        "lane": "todo",
        "position": "",
        "priority": "normal",
        "ends": "",
        "assignee": "",
        "watchers": [],
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
        "lane": 't."lane"',
        "priority": 't."priority"',
        "notes": 't."notes"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."title",
               t."lane",
               t."position",
               t."priority",
               t."ends",
               t."assignee",
               "ref_assignee"."name" AS "assignee_label",
               t."notes",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."name")
                                   ORDER BY c."name", c."id")
                   FROM "task_watchers" AS link
                   JOIN "people" AS c ON c."id" = link."watchers_id"
                   WHERE link."task_id" = t."id"
               ), '[]'::json) AS "watchers",
               t."created_at", t."updated_at"
        FROM "tasks" AS t
        LEFT JOIN "people" AS "ref_assignee" ON "ref_assignee"."id" = t."assignee"
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
               t."lane",
               t."position",
               t."priority",
               t."ends",
               t."assignee",
               "ref_assignee"."name" AS "assignee_label",
               t."notes",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."name")
                                   ORDER BY c."name", c."id")
                   FROM "task_watchers" AS link
                   JOIN "people" AS c ON c."id" = link."watchers_id"
                   WHERE link."task_id" = t."id"
               ), '[]'::json) AS "watchers",
               t."created_at", t."updated_at"
        FROM "tasks" AS t
        LEFT JOIN "people" AS "ref_assignee" ON "ref_assignee"."id" = t."assignee"
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
        "lane": data.lane,
        "position": data.position,
        "priority": data.priority,
        "ends": data.ends,
        "assignee": data.assignee,
        "notes": data.notes,
    }


async def _set_watchers(
    conn: AsyncConnection[DictRow], record_id: UUID, ids: list[UUID]
) -> None:
    await conn.execute(
        'DELETE FROM "task_watchers" WHERE "task_id" = %(id)s',
        {"id": record_id},
    )
    if ids:
        await conn.execute(
            """
            INSERT INTO "task_watchers" ("task_id", "watchers_id", "position")
            SELECT %(id)s, item.ref, item.n::integer - 1
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(ref, n)
            ON CONFLICT DO NOTHING
            """,
            {"id": record_id, "ids": ids},
        )


async def create(conn: AsyncConnection[DictRow], data: TaskIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "tasks" ("title", "lane", "position", "priority", "ends", "assignee", "notes")
            VALUES (%(title)s, %(lane)s, %(position)s, %(priority)s, %(ends)s, %(assignee)s, %(notes)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
        await _set_watchers(conn, row["id"], data.watchers)
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: TaskIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "tasks"
            SET "title" = %(title)s,
"lane" = %(lane)s,
"position" = %(position)s,
"priority" = %(priority)s,
"ends" = %(ends)s,
"assignee" = %(assignee)s,
"notes" = %(notes)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
        await _set_watchers(conn, record_id, data.watchers)
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
    constraint = exc.diag.constraint_name
    if constraint == "fk_tasks_assignee":
        return {"assignee": "That person no longer exists."}
    if constraint == "fk_task_watchers_watchers_id":
        return {"watchers": "That person no longer exists."}
    return {}

