"""Store `task`: input validation and parameterised SQL for the "tasks" table."""

from datetime import date
from typing import Annotated, Any
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
    single_line,
    text_value,
    today,
    uuid_list,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]


class TaskIn(BaseModel):
    """A task as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=200)
    starts: Annotated[date, Blank, AfterValidator(in_date_range)]
    ends: Annotated[date, Blank, AfterValidator(in_date_range)]
    owner: Annotated[str | None, Blank, AfterValidator(single_line)] = Field(None, max_length=80)
    depends_on: list[UUID] = []


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "title": form_str(form, "title"),
        "starts": form_str(form, "starts"),
        "ends": form_str(form, "ends"),
        "owner": form_str(form, "owner"),
        "depends_on": form_list(form, "depends_on"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "title": text_value(record["title"]),
        "starts": date_value(record["starts"]),
        "ends": date_value(record["ends"]),
        "owner": text_value(record["owner"]),
        "depends_on": uuid_list([item["id"] for item in record["depends_on"]]),
    }


def new_values() -> dict[str, Any]:
    return {
        "title": "",
        "starts": date_value(today()),
        "ends": date_value(today()),
        "owner": "",
        "depends_on": [],
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
        "owner": 't."owner"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."title",
               t."starts",
               t."ends",
               t."owner",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."title")
                                   ORDER BY c."title", c."id")
                   FROM "task_depends_on" AS link
                   JOIN "tasks" AS c ON c."id" = link."depends_on_id"
                   WHERE link."task_id" = t."id"
               ), '[]'::json) AS "depends_on",
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
               t."starts",
               t."ends",
               t."owner",
               COALESCE((
                   SELECT json_agg(json_build_object('id', c."id", 'label', c."title")
                                   ORDER BY c."title", c."id")
                   FROM "task_depends_on" AS link
                   JOIN "tasks" AS c ON c."id" = link."depends_on_id"
                   WHERE link."task_id" = t."id"
               ), '[]'::json) AS "depends_on",
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
        "starts": data.starts,
        "ends": data.ends,
        "owner": data.owner,
    }


async def _set_depends_on(
    conn: AsyncConnection[DictRow], record_id: UUID, ids: list[UUID]
) -> None:
    await conn.execute(
        'DELETE FROM "task_depends_on" WHERE "task_id" = %(id)s',
        {"id": record_id},
    )
    if ids:
        await conn.execute(
            """
            INSERT INTO "task_depends_on" ("task_id", "depends_on_id", "position")
            SELECT %(id)s, item.ref, item.n::integer - 1
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS item(ref, n)
            ON CONFLICT DO NOTHING
            """,
            {"id": record_id, "ids": ids},
        )


# Writes that could close a cycle take turns (until their transaction ends), so two
# concurrent writes cannot each pass the check against the other's old value.
RULES_LOCK = "dsgen-acyclic:tasks"


async def _check_rules(
    conn: AsyncConnection[DictRow], record_id: UUID, data: TaskIn
) -> None:
    """Refuse a write that would make a task its own ancestor (a cycle)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%(lock)s))", {"lock": RULES_LOCK})
    if data.depends_on:
        # Everything the new depends_on lead to, transitively (UNION: ends on old cycles).
        cur = await conn.execute(
            """
            WITH RECURSIVE reach("id") AS (
                SELECT unnest(%(ids)s::uuid[])
                UNION
                SELECT link."depends_on_id"
                FROM "task_depends_on" AS link JOIN reach ON link."task_id" = reach."id"
            )
            SELECT EXISTS (SELECT 1 FROM reach WHERE "id" = %(id)s) AS "cycle"
            """,
            {"ids": data.depends_on, "id": record_id},
        )
        row = await cur.fetchone()
        if row is not None and row["cycle"]:
            raise RuleViolation(
                "depends_on",
                "A task cannot depend on itself, directly or through others.",
            )


def _check_order(data: TaskIn) -> None:
    """Refuse an end before its start, whichever form sent it (the database could not even
    hold some of them: a date range may not end before it begins)."""
    if (
        data.ends is not None
        and data.starts is not None
        and data.ends < data.starts
    ):
        raise RuleViolation("ends", "Must be on or after Starts.")


async def create(conn: AsyncConnection[DictRow], data: TaskIn) -> UUID:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "tasks" ("title", "starts", "ends", "owner")
            VALUES (%(title)s, %(starts)s, %(ends)s, %(owner)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
        await _set_depends_on(conn, row["id"], data.depends_on)
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: TaskIn) -> bool:
    _check_order(data)
    async with conn.transaction():
        await _check_rules(conn, record_id, data)
        cur = await conn.execute(
            """
            UPDATE "tasks"
            SET "title" = %(title)s,
"starts" = %(starts)s,
"ends" = %(ends)s,
"owner" = %(owner)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
        await _set_depends_on(conn, record_id, data.depends_on)
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
    if constraint == "fk_task_depends_on_depends_on_id":
        return {"depends_on": "That task no longer exists."}
    return {}

