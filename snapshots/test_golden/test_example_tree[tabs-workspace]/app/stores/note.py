"""Store `note`: input validation and parameterised SQL for the "notes" table."""

from typing import Annotated, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import Blank, form_str, like_pattern, plain_text, single_line, text_value
from app.core.rules import RuleViolation

Row = dict[str, Any]

CLASS_VALUES = ("idea", "task", "big & bold")


class NoteIn(BaseModel):
    """A note as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=200)
    class_: Annotated[Literal["idea", "task", "big & bold"] | None, Blank] = Field("idea", alias="class")
    from_: Annotated[str | None, Blank, AfterValidator(single_line)] = Field(None, max_length=1000, alias="from")
    body: Annotated[str | None, Blank, AfterValidator(plain_text)] = Field(None, max_length=10000)


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "title": form_str(form, "title"),
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "body": form_str(form, "body"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "title": text_value(record["title"]),
        "class": text_value(record["class"]),
        "from": text_value(record["from"]),
        "body": text_value(record["body"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "title": "",
        "class": "idea",
        "from": "",
        "body": "",
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
        "class": 't."class"',
        "from": 't."from"',
        "body": 't."body"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."title",
               t."class",
               t."from",
               t."body",
               t."created_at", t."updated_at"
        FROM "notes" AS t
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
               t."class",
               t."from",
               t."body",
               t."created_at", t."updated_at"
        FROM "notes" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at note: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "title" AS "label"
        FROM "notes"
        ORDER BY "title", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: NoteIn) -> dict[str, Any]:
    return {
        "title": data.title,
        "class": data.class_,
        "from": data.from_,
        "body": data.body,
    }


async def create(conn: AsyncConnection[DictRow], data: NoteIn) -> UUID:
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "notes" ("title", "class", "from", "body")
            VALUES (%(title)s, %(class)s, %(from)s, %(body)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: NoteIn) -> bool:
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "notes"
            SET "title" = %(title)s,
"class" = %(class)s,
"from" = %(from)s,
"body" = %(body)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a note; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "notes" WHERE "id" = %(id)s RETURNING "title" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    return {}

