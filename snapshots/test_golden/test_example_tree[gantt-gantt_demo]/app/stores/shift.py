"""Store `shift`: input validation and parameterised SQL for the "shifts" table."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from psycopg import AsyncConnection, IntegrityError
from psycopg.rows import DictRow
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.forms import (
    Blank,
    as_utc,
    datetime_value,
    form_str,
    in_date_range,
    like_pattern,
    single_line,
    text_value,
)
from app.core.rules import RuleViolation

Row = dict[str, Any]


class ShiftIn(BaseModel):
    """A shift as a form may submit it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    class_: Annotated[str, Blank, AfterValidator(single_line)] = Field(min_length=1, max_length=1000, alias="class")
    from_: Annotated[datetime, Blank, AfterValidator(as_utc), AfterValidator(in_date_range)] = Field(alias="from")
    end: Annotated[datetime | None, Blank, AfterValidator(as_utc), AfterValidator(in_date_range)] = None


# Form values: what the <form> shows, as strings, keyed by input name.


def form_values(form: Any) -> dict[str, Any]:
    return {
        "class": form_str(form, "class"),
        "from": form_str(form, "from"),
        "end": form_str(form, "end"),
    }


def record_values(record: Row) -> dict[str, Any]:
    return {
        "class": text_value(record["class"]),
        "from": datetime_value(record["from"]),
        "end": datetime_value(record["end"]),
    }


def new_values() -> dict[str, Any]:
    return {
        "class": "",
        "from": "",
        "end": "",
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
        "class": 't."class"',
    }
    matches = " OR ".join(f"{columns[name]} ILIKE %(pattern)s" for name in search)
    where = f"%(q)s::text = '' OR {matches}" if matches else "TRUE"
    cur = await conn.execute(
        f"""
        SELECT t."id",
               t."class",
               t."from",
               t."end",
               t."created_at", t."updated_at"
        FROM "shifts" AS t
        WHERE {where}
        ORDER BY t."class", t."id"
        LIMIT %(limit)s
        """,
        {"q": q, "pattern": like_pattern(q), "limit": limit},
    )
    return await cur.fetchall()


async def get(conn: AsyncConnection[DictRow], record_id: UUID) -> Row | None:
    cur = await conn.execute(
        """
        SELECT t."id",
               t."class",
               t."from",
               t."end",
               t."created_at", t."updated_at"
        FROM "shifts" AS t
        WHERE t."id" = %(id)s
        """,
        {"id": record_id},
    )
    return await cur.fetchone()


async def options(conn: AsyncConnection[DictRow], limit: int = 1000) -> list[Row]:
    """Choices for a ref field pointing at shift: id and label."""
    cur = await conn.execute(
        """
        SELECT "id", "class" AS "label"
        FROM "shifts"
        ORDER BY "class", "id"
        LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return await cur.fetchall()


def _params(data: ShiftIn) -> dict[str, Any]:
    return {
        "class": data.class_,
        "from": data.from_,
        "end": data.end,
    }


def _check_order(data: ShiftIn) -> None:
    """Refuse an end before its start, whichever form sent it (the database could not even
    hold some of them: a date range may not end before it begins)."""
    if (
        data.end is not None
        and data.from_ is not None
        and data.end < data.from_
    ):
        raise RuleViolation("end", "Must be on or after From.")


async def create(conn: AsyncConnection[DictRow], data: ShiftIn) -> UUID:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            INSERT INTO "shifts" ("class", "from", "end")
            VALUES (%(class)s, %(from)s, %(end)s)
            RETURNING "id"
            """,
            _params(data),
        )
        row = await cur.fetchone()
        assert row is not None
    return row["id"]


async def update(conn: AsyncConnection[DictRow], record_id: UUID, data: ShiftIn) -> bool:
    _check_order(data)
    async with conn.transaction():
        cur = await conn.execute(
            """
            UPDATE "shifts"
            SET "class" = %(class)s,
"from" = %(from)s,
"end" = %(end)s,
"updated_at" = now()
            WHERE "id" = %(id)s
            """,
            {**_params(data), "id": record_id},
        )
        if cur.rowcount != 1:
            return False
    return True


async def delete(conn: AsyncConnection[DictRow], record_id: UUID) -> str | None:
    """Delete a shift; returns its label, or None when it did not exist."""
    async with conn.transaction():
        cur = await conn.execute(
            'DELETE FROM "shifts" WHERE "id" = %(id)s RETURNING "class" AS "label"',
            {"id": record_id},
        )
        row = await cur.fetchone()
    return None if row is None else str(row["label"])


def constraint_errors(exc: IntegrityError) -> dict[str, str]:
    """Field errors for database constraint violations (and store rules) the form can explain."""
    if isinstance(exc, RuleViolation):
        return {exc.field: exc.message}
    return {}

